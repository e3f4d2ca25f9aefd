//! A small namespace-resolved element tree built from one frame with
//! quick-xml, within size limits. DOCTYPE, entity declarations and unknown
//! entity references are refused, so no entity is ever expanded.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::ns::Ns;
use crate::error::EppError;

/// Limits on the shape of a frame's XML.
#[derive(Debug, Clone, Copy)]
pub struct XmlLimits {
    /// Deepest nesting.
    pub max_depth: usize,
    /// Most elements.
    pub max_elements: usize,
    /// Largest text or attribute value, in bytes.
    pub max_value_bytes: usize,
}

impl Default for XmlLimits {
    fn default() -> Self {
        Self {
            max_depth: 24,
            max_elements: 4096,
            max_value_bytes: 8 * 1024,
        }
    }
}

/// One element: its namespace, local name, attributes, text and children.
#[derive(Debug, Clone)]
pub struct Element {
    /// Namespace.
    pub ns: Ns,
    /// Local name.
    pub name: String,
    /// Attributes by local name (namespace declarations left out).
    pub attrs: Vec<(String, String)>,
    /// Concatenated character data.
    pub text: String,
    /// Child elements.
    pub children: Vec<Element>,
}

impl Element {
    /// Whether this is `{ns}name`.
    pub fn is(&self, ns: &Ns, name: &str) -> bool {
        &self.ns == ns && self.name == name
    }

    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text, with XML whitespace collapsed at both ends (schema `token`).
    pub fn text(&self) -> &str {
        self.text
            .trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
    }

    /// `{prefix}:{name}` for messages, with the prefix the namespace usually has.
    pub fn display_name(&self) -> String {
        let prefix = match &self.ns {
            Ns::Epp | Ns::None => "",
            Ns::Domain => "domain:",
            Ns::Contact => "contact:",
            Ns::Host => "host:",
            Ns::SecDns => "secDNS:",
            Ns::Rgp => "rgp:",
            Ns::AllocationToken => "allocationToken:",
            Ns::Fee => "fee:",
            Ns::LoginSec => "loginSec:",
            Ns::Quota => "quota:",
            Ns::Ma => "ma:",
            Ns::Other(_) => "",
        };
        format!("{prefix}{}", self.name)
    }
}

fn syntax(en: String, fr: String) -> EppError {
    EppError::syntax(en, fr)
}

/// Parses one frame into its root element.
///
/// # Errors
/// 2001 for anything that is not one well-formed UTF-8 XML document within the limits.
pub fn parse_document(bytes: &[u8], limits: XmlLimits) -> Result<Element, EppError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        syntax(
            format!(
                "the frame is not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
            format!(
                "la trame n'est pas en UTF-8 (octet invalide à la position {})",
                e.valid_up_to()
            ),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = NsReader::from_str(text);
    {
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.check_comments = true;
    }
    let mut stack: Vec<Element> = Vec::with_capacity(8);
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        let position = reader.buffer_position();
        let (resolved, event) = reader.read_resolved_event().map_err(|e| {
            syntax(
                format!("malformed XML after byte {position}: {e}"),
                format!("XML mal formé après l'octet {position} : {e}"),
            )
        })?;
        let ns = match &resolved {
            ResolveResult::Bound(ns) => Some(Ns::from_uri(ns.as_ref())),
            ResolveResult::Unbound => Some(Ns::None),
            ResolveResult::Unknown(prefix) => {
                if matches!(event, Event::Start(_) | Event::Empty(_)) {
                    return Err(syntax(
                        format!("undeclared namespace prefix {prefix:?}"),
                        format!("préfixe d'espace de noms non déclaré {prefix:?}"),
                    ));
                }
                None
            }
        };
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(syntax(
                    "content after the root element".into(),
                    "contenu après l'élément racine".into(),
                ));
            }
            Event::Start(start) => {
                elements += 1;
                if elements > limits.max_elements || stack.len() >= limits.max_depth {
                    return Err(too_big(limits));
                }
                stack.push(element(&start, ns.unwrap_or(Ns::None), limits)?);
            }
            Event::Empty(start) => {
                elements += 1;
                if elements > limits.max_elements || stack.len() >= limits.max_depth {
                    return Err(too_big(limits));
                }
                let el = element(&start, ns.unwrap_or(Ns::None), limits)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(syntax(
                        "unexpected end tag".into(),
                        "balise de fin inattendue".into(),
                    ));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                push_text(&mut stack, &content, limits)?;
            }
            Event::CData(t) => {
                let raw = t.into_inner();
                push_text(&mut stack, &raw, limits)?;
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        _ => return Err(bad_entity(&r.xml10_content())),
                    }
                } else {
                    match r.xml10_content().as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(bad_entity(other)),
                    }
                };
                let mut buf = [0u8; 4];
                push_text(&mut stack, resolved.encode_utf8(&mut buf), limits)?;
            }
            Event::DocType(_) => {
                return Err(syntax(
                    "a DOCTYPE or entity declaration is not allowed".into(),
                    "une déclaration DOCTYPE ou d'entité est interdite".into(),
                ));
            }
            Event::Decl(decl) => {
                if let Some(Ok(enc)) = decl.encoding()
                    && !enc.eq_ignore_ascii_case("utf-8")
                {
                    return Err(syntax(
                        "only UTF-8 encoding is accepted".into(),
                        "seul l'encodage UTF-8 est accepté".into(),
                    ));
                }
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(syntax(
            "the document ends before its root element is closed".into(),
            "le document se termine avant la fermeture de l'élément racine".into(),
        ));
    }
    root.ok_or_else(|| {
        syntax(
            "the frame holds no XML element".into(),
            "la trame ne contient aucun élément XML".into(),
        )
    })
}

fn too_big(limits: XmlLimits) -> EppError {
    syntax(
        format!(
            "the XML exceeds the server's limits ({} elements, depth {})",
            limits.max_elements, limits.max_depth
        ),
        format!(
            "le XML dépasse les limites du serveur ({} éléments, profondeur {})",
            limits.max_elements, limits.max_depth
        ),
    )
}

fn bad_entity(name: &str) -> EppError {
    syntax(
        format!("undeclared entity reference &{name};"),
        format!("référence d'entité non déclarée &{name};"),
    )
}

fn push_text(stack: &mut [Element], content: &str, limits: XmlLimits) -> Result<(), EppError> {
    match stack.last_mut() {
        Some(el) => {
            if el.text.len() + content.len() > limits.max_value_bytes {
                return Err(syntax(
                    format!("a text value exceeds {} bytes", limits.max_value_bytes),
                    format!("une valeur texte dépasse {} octets", limits.max_value_bytes),
                ));
            }
            el.text.push_str(content);
            Ok(())
        }
        None if content.trim().is_empty() => Ok(()),
        None => Err(syntax(
            "text outside the root element".into(),
            "texte en dehors de l'élément racine".into(),
        )),
    }
}

fn element(start: &BytesStart<'_>, ns: Ns, limits: XmlLimits) -> Result<Element, EppError> {
    let name = start.local_name().as_ref().to_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes().with_checks(true) {
        let attr = attr.map_err(|e| {
            syntax(
                format!("malformed attribute on <{name}>: {e}"),
                format!("attribut mal formé sur <{name}> : {e}"),
            )
        })?;
        let key = attr.key;
        if key.as_ref() == "xmlns" || key.as_ref().starts_with("xmlns:") {
            continue;
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| {
                syntax(
                    format!("invalid attribute value on <{name}>: {e}"),
                    format!("valeur d'attribut invalide sur <{name}> : {e}"),
                )
            })?;
        if value.len() > limits.max_value_bytes {
            return Err(syntax(
                format!(
                    "an attribute value exceeds {} bytes",
                    limits.max_value_bytes
                ),
                format!(
                    "une valeur d'attribut dépasse {} octets",
                    limits.max_value_bytes
                ),
            ));
        }
        let local = key.local_name().as_ref().to_owned();
        attrs.push((local, value.into_owned()));
    }
    Ok(Element {
        ns,
        name,
        attrs,
        text: String::new(),
        children: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Element, EppError> {
        parse_document(s.as_bytes(), XmlLimits::default())
    }

    #[test]
    fn prefixes_resolve_to_namespaces() {
        let el =
            parse(r#"<e:epp xmlns:e="urn:ietf:params:xml:ns:epp-1.0"><e:hello/></e:epp>"#).unwrap();
        assert!(el.is(&Ns::Epp, "epp"));
        assert!(el.children[0].is(&Ns::Epp, "hello"));
    }

    #[test]
    fn doctype_and_entities_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><epp xmlns="urn:ietf:params:xml:ns:epp-1.0">&lol2;</epp>"#;
        assert!(matches!(parse(bomb), Err(EppError::Syntax(_))));
        let undeclared = r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0">&ext;</epp>"#;
        assert!(matches!(parse(undeclared), Err(EppError::Syntax(_))));
    }

    #[test]
    fn predefined_and_character_references_resolve() {
        let el = parse(r#"<a>x &amp; y &#233; &#x41;</a>"#).unwrap();
        assert_eq!(el.text, "x & y é A");
    }

    #[test]
    fn depth_and_size_limits_hold() {
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(&deep).is_err());
        let limits = XmlLimits {
            max_value_bytes: 10,
            ..XmlLimits::default()
        };
        assert!(parse_document(b"<a>01234567890123</a>", limits).is_err());
    }

    #[test]
    fn malformed_documents_are_refused() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "text",
            "<a x='1' x='2'/>",
            "<p:a/>",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse_document(b"<a>\xff</a>", XmlLimits::default()).is_err());
    }
}
