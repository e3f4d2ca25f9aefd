//! The helpers every request parser shares: [`Children`], which walks an
//! element's children in schema order, and the checks of a value's form
//! (tokens, unsigned numbers, statuses, authInfo) with the errors they give.

use super::super::dom::Element;
use super::super::ns::Ns;
use crate::error::EppError;
use crate::model::{AuthInfo, OffendingValue, Status, Text};

pub(super) fn wrong_ns(el: &Element) -> EppError {
    EppError::syntax(
        format!(
            "element <{}> is in namespace {:?}, where the schema expects another",
            el.name,
            el.ns.uri()
        ),
        format!(
            "l'élément <{}> est dans l'espace de noms {:?}, où le schéma en attend un autre",
            el.name,
            el.ns.uri()
        ),
    )
}

pub(super) fn order_error(parent: &Element, child: &str) -> EppError {
    EppError::syntax(
        format!("<{child}> is out of place in <{}>", parent.name),
        format!("<{child}> est mal placé dans <{}>", parent.name),
    )
}

pub(super) fn no_children(el: &Element) -> Result<(), EppError> {
    if el.children.is_empty() && el.text().is_empty() {
        Ok(())
    } else {
        Err(EppError::syntax(
            format!("<{}> must be empty", el.name),
            format!("<{}> doit être vide", el.name),
        ))
    }
}

/// Walks an element's children in schema order.
pub(super) struct Children<'a> {
    parent: &'a Element,
    ns: Ns,
    pos: usize,
}

impl<'a> Children<'a> {
    pub(super) fn of(parent: &'a Element, ns: Ns) -> Self {
        Self { parent, ns, pos: 0 }
    }

    pub(super) fn peek_is(&self, name: &str) -> bool {
        self.parent
            .children
            .get(self.pos)
            .is_some_and(|c| c.is(&self.ns, name))
    }

    pub(super) fn optional(&mut self, name: &str) -> Option<&'a Element> {
        if self.peek_is(name) {
            self.pos += 1;
            self.parent.children.get(self.pos - 1)
        } else {
            None
        }
    }

    pub(super) fn required(&mut self, name: &str) -> Result<&'a Element, EppError> {
        self.optional(name).ok_or_else(|| self.expected(name))
    }

    pub(super) fn many(&mut self, name: &str) -> Vec<&'a Element> {
        let mut out = Vec::new();
        while let Some(el) = self.optional(name) {
            out.push(el);
        }
        out
    }

    pub(super) fn expected(&self, name: &str) -> EppError {
        let found = self.parent.children.get(self.pos);
        let prefix = Element {
            ns: self.ns.clone(),
            name: name.into(),
            attrs: vec![],
            text: String::new(),
            children: vec![],
        }
        .display_name();
        match found {
            Some(f) => EppError::syntax(
                format!(
                    "<{}> expects <{prefix}> where <{}> stands",
                    self.parent.display_name(),
                    f.display_name()
                ),
                format!(
                    "<{}> attend <{prefix}> à la place de <{}>",
                    self.parent.display_name(),
                    f.display_name()
                ),
            ),
            None => EppError::syntax(
                format!("<{}> lacks <{prefix}>", self.parent.display_name()),
                format!("il manque <{prefix}> dans <{}>", self.parent.display_name()),
            ),
        }
    }

    pub(super) fn end(&self) -> Result<(), EppError> {
        match self.parent.children.get(self.pos) {
            None => Ok(()),
            Some(extra) => Err(EppError::syntax(
                format!(
                    "<{}> is not allowed here in <{}>",
                    extra.display_name(),
                    self.parent.display_name()
                ),
                format!(
                    "<{}> n'est pas permis ici dans <{}>",
                    extra.display_name(),
                    self.parent.display_name()
                ),
            )),
        }
    }
}

/// A schema `token` of `min..=max` characters; 2001 otherwise.
pub(super) fn token(el: &Element, min: usize, max: usize) -> Result<String, EppError> {
    let value = el.text();
    let n = value.chars().count();
    if n < min || n > max {
        return Err(EppError::syntax(
            format!(
                "<{}> must be {min} to {max} characters, not {n}",
                el.display_name()
            ),
            format!(
                "<{}> doit compter de {min} à {max} caractères, et non {n}",
                el.display_name()
            ),
        ));
    }
    Ok(value.to_owned())
}

pub(super) fn parse_auth_info(el: &Element, ns: Ns) -> Result<AuthInfo, EppError> {
    let mut c = Children::of(el, ns.clone());
    if let Some(pw) = c.optional("pw") {
        c.end()?;
        return Ok(AuthInfo {
            password: pw.text.clone(),
            roid: pw.attr("roid").map(str::to_owned),
        });
    }
    if c.peek_is("ext") {
        return Err(EppError::UnimplementedOption(Text::new(
            "only password authInfo (<pw>) is served",
            "seul l'authInfo par mot de passe (<pw>) est pris en charge",
        )));
    }
    Err(c.expected("pw"))
}

pub(super) fn value_syntax(
    ns: &'static str,
    name: &'static str,
    text: &str,
    en: String,
    fr: String,
) -> EppError {
    EppError::ValueSyntax(
        Text::new(en, fr),
        Some(OffendingValue::Element {
            ns,
            name,
            text: text.to_owned(),
        }),
    )
}

pub(super) fn parse_status(el: &Element) -> Result<Status, EppError> {
    let s = el.attr("s").unwrap_or("");
    Status::parse(s).ok_or_else(|| {
        EppError::syntax(
            format!("s=\"{s}\" is not an EPP status value"),
            format!("s=\"{s}\" n'est pas une valeur de statut EPP"),
        )
    })
}

pub(super) fn unsigned<T: std::str::FromStr>(el: &Element) -> Result<T, EppError> {
    el.text().parse().map_err(|_| {
        EppError::syntax(
            format!(
                "<{}> {:?} is out of its type's range",
                el.display_name(),
                el.text()
            ),
            format!(
                "<{}> {:?} sort de l'intervalle de son type",
                el.display_name(),
                el.text()
            ),
        )
    })
}
