//! The contact commands: `<contact:info>`, `<create>` and `<update>`, with
//! their postal info, phone numbers, e-mail address and disclose elements.

use super::super::dom::Element;
use super::super::ns::Ns;
use super::children::{Children, parse_auth_info, parse_status, token, value_syntax};
use crate::error::EppError;
use crate::model::{
    ContactCreate, ContactInfo, ContactUpdate, Disclose, Phone, PostalChange, PostalInfo,
    PostalType, Status,
};

pub(super) fn parse_contact_info(object: &Element) -> Result<ContactInfo, EppError> {
    let mut c = Children::of(object, Ns::Contact);
    let id = token(c.required("id")?, 3, 16)?;
    let auth = c
        .optional("authInfo")
        .map(|a| parse_auth_info(a, Ns::Contact))
        .transpose()?;
    c.end()?;
    Ok(ContactInfo { id, auth })
}

/// The `type` attribute of a postal info or of a disclose element: `int` or `loc`.
fn postal_type(el: &Element) -> Result<PostalType, EppError> {
    match el.attr("type") {
        Some("int") => Ok(PostalType::Int),
        Some("loc") => Ok(PostalType::Loc),
        _ => Err(EppError::syntax(
            format!("<{}> needs type=\"int\" or type=\"loc\"", el.display_name()),
            format!("<{}> exige type=\"int\" ou type=\"loc\"", el.display_name()),
        )),
    }
}

fn parse_postal_info(el: &Element) -> Result<PostalInfo, EppError> {
    let kind = postal_type(el)?;
    let mut c = Children::of(el, Ns::Contact);
    let name = token(c.required("name")?, 1, 255)?;
    let org = c.optional("org").map(|e| token(e, 1, 255)).transpose()?;
    let addr = c.required("addr")?;
    c.end()?;
    let mut a = Children::of(addr, Ns::Contact);
    let street = a
        .many("street")
        .into_iter()
        .map(|e| token(e, 1, 255))
        .collect::<Result<Vec<_>, _>>()?;
    if street.len() > 3 {
        return Err(EppError::syntax(
            "<contact:addr> allows at most 3 <contact:street>",
            "<contact:addr> permet au plus 3 <contact:street>",
        ));
    }
    let city = token(a.required("city")?, 1, 255)?;
    let sp = a.optional("sp").map(|e| token(e, 1, 255)).transpose()?;
    let pc = a.optional("pc").map(|e| token(e, 1, 16)).transpose()?;
    let cc_el = a.required("cc")?;
    a.end()?;
    let cc = cc_el.text();
    if cc.len() != 2 || !cc.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(value_syntax(
            "contact",
            "cc",
            cc,
            format!("{cc:?} is not a two-letter ISO 3166 country code"),
            format!("{cc:?} n'est pas un code pays ISO 3166 à deux lettres"),
        ));
    }
    let info = PostalInfo {
        kind,
        name,
        org,
        street,
        city,
        sp,
        pc,
        cc: cc.to_ascii_uppercase(),
    };
    if kind == PostalType::Int {
        let ascii = |s: &str| s.is_ascii();
        let all_ascii = ascii(&info.name)
            && info.org.as_deref().is_none_or(ascii)
            && info.street.iter().all(|s| ascii(s))
            && ascii(&info.city)
            && info.sp.as_deref().is_none_or(ascii)
            && info.pc.as_deref().is_none_or(ascii);
        if !all_ascii {
            return Err(value_syntax(
                "contact",
                "postalInfo",
                "int",
                "postalInfo type=\"int\" takes 7-bit ASCII only; use type=\"loc\" for other characters".into(),
                "postalInfo type=\"int\" n'accepte que l'ASCII 7 bits ; utilisez type=\"loc\" pour les autres caractères".into(),
            ));
        }
    }
    Ok(info)
}

fn parse_phone(el: &Element, name: &'static str) -> Result<Phone, EppError> {
    let number = el.text();
    let valid = number
        .strip_prefix('+')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(cc, n)| {
            (1..=3).contains(&cc.len())
                && (1..=14).contains(&n.len())
                && cc.bytes().all(|b| b.is_ascii_digit())
                && n.bytes().all(|b| b.is_ascii_digit())
        });
    if !valid {
        return Err(value_syntax(
            "contact",
            name,
            number,
            format!("{number:?} is not an E.164 number of the form +CCC.NNNNNNNNNNNNNN"),
            format!("{number:?} n'est pas un numéro E.164 de la forme +CCC.NNNNNNNNNNNNNN"),
        ));
    }
    Ok(Phone {
        number: number.to_owned(),
        ext: el.attr("x").filter(|x| !x.is_empty()).map(str::to_owned),
    })
}

fn parse_disclose(el: &Element) -> Result<Disclose, EppError> {
    let flag = match el.attr("flag") {
        Some("1") | Some("true") => true,
        Some("0") | Some("false") => false,
        _ => {
            return Err(EppError::syntax(
                "<contact:disclose> needs flag=\"0\" or flag=\"1\"",
                "<contact:disclose> exige flag=\"0\" ou flag=\"1\"",
            ));
        }
    };
    let mut c = Children::of(el, Ns::Contact);
    let mut d = Disclose {
        flag,
        ..Disclose::default()
    };
    d.name = c
        .many("name")
        .into_iter()
        .map(postal_type)
        .collect::<Result<_, _>>()?;
    d.org = c
        .many("org")
        .into_iter()
        .map(postal_type)
        .collect::<Result<_, _>>()?;
    d.addr = c
        .many("addr")
        .into_iter()
        .map(postal_type)
        .collect::<Result<_, _>>()?;
    d.voice = c.optional("voice").is_some();
    d.fax = c.optional("fax").is_some();
    d.email = c.optional("email").is_some();
    c.end()?;
    if d.name.len() > 2 || d.org.len() > 2 || d.addr.len() > 2 {
        return Err(EppError::syntax(
            "<contact:disclose> lists a field more than twice",
            "<contact:disclose> cite un champ plus de deux fois",
        ));
    }
    if d.name.is_empty() && d.org.is_empty() && d.addr.is_empty() && !d.voice && !d.fax && !d.email
    {
        return Err(EppError::syntax(
            "<contact:disclose> must name at least one field",
            "<contact:disclose> doit citer au moins un champ",
        ));
    }
    Ok(d)
}

pub(super) fn parse_contact_create(object: &Element) -> Result<ContactCreate, EppError> {
    let mut c = Children::of(object, Ns::Contact);
    let id = token(c.required("id")?, 3, 16)?;
    let postal_els = c.many("postalInfo");
    if postal_els.is_empty() {
        return Err(c.expected("postalInfo"));
    }
    if postal_els.len() > 2 {
        return Err(EppError::syntax(
            "at most two <contact:postalInfo> are allowed",
            "au plus deux <contact:postalInfo> sont permis",
        ));
    }
    let postal = postal_els
        .into_iter()
        .map(parse_postal_info)
        .collect::<Result<Vec<_>, _>>()?;
    if postal.len() == 2 && postal[0].kind == postal[1].kind {
        return Err(EppError::syntax(
            "the two <contact:postalInfo> must be one int and one loc",
            "les deux <contact:postalInfo> doivent être un int et un loc",
        ));
    }
    let voice = c
        .optional("voice")
        .map(|e| parse_phone(e, "voice"))
        .transpose()?;
    let fax = c
        .optional("fax")
        .map(|e| parse_phone(e, "fax"))
        .transpose()?;
    let email_el = c.required("email")?;
    let email = email_el.text();
    check_email(email)?;
    let auth = parse_auth_info(c.required("authInfo")?, Ns::Contact)?;
    let disclose = c.optional("disclose").map(parse_disclose).transpose()?;
    c.end()?;
    Ok(ContactCreate {
        id,
        postal,
        voice,
        fax,
        email: email.to_owned(),
        auth_password: auth.password,
        disclose,
        identity: None,
    })
}

/// A contact's `<contact:email>` (RFC 5733 §2.6); 2005 with the reason
/// otherwise.
fn check_email(email: &str) -> Result<(), EppError> {
    crate::policy::email::check_email(email).map_err(|why| {
        value_syntax(
            "contact",
            "email",
            email,
            format!("{email:?} is not an e-mail address: {}", why.en),
            format!("{email:?} n'est pas une adresse électronique : {}", why.fr),
        )
    })
}

pub(super) fn parse_contact_update(object: &Element) -> Result<ContactUpdate, EppError> {
    let mut c = Children::of(object, Ns::Contact);
    let mut u = ContactUpdate {
        id: token(c.required("id")?, 3, 16)?,
        ..ContactUpdate::default()
    };
    let statuses = |el: &Element| -> Result<Vec<Status>, EppError> {
        let mut s = Children::of(el, Ns::Contact);
        let list = s.many("status");
        if list.is_empty() {
            return Err(s.expected("status"));
        }
        s.end()?;
        list.into_iter().map(parse_status).collect()
    };
    if let Some(add) = c.optional("add") {
        u.add_statuses = statuses(add)?;
    }
    if let Some(rem) = c.optional("rem") {
        u.rem_statuses = statuses(rem)?;
    }
    if let Some(chg) = c.optional("chg") {
        let mut ch = Children::of(chg, Ns::Contact);
        for p in ch.many("postalInfo") {
            u.postal.push(parse_postal_change(p)?);
        }
        if u.postal.len() == 2 && u.postal[0].kind == u.postal[1].kind {
            return Err(EppError::syntax(
                "the two <contact:postalInfo> must be one int and one loc",
                "les deux <contact:postalInfo> doivent être un int et un loc",
            ));
        }
        u.voice = ch
            .optional("voice")
            .map(|e| optional_phone(e, "voice"))
            .transpose()?;
        u.fax = ch
            .optional("fax")
            .map(|e| optional_phone(e, "fax"))
            .transpose()?;
        if let Some(email) = ch.optional("email") {
            let text = email.text();
            check_email(text)?;
            u.email = Some(text.to_owned());
        }
        if let Some(auth) = ch.optional("authInfo") {
            u.auth_password = Some(parse_auth_info(auth, Ns::Contact)?.password);
        }
        u.disclose = ch.optional("disclose").map(parse_disclose).transpose()?;
        ch.end()?;
    }
    c.end()?;
    Ok(u)
}

fn optional_phone(el: &Element, name: &'static str) -> Result<Option<Phone>, EppError> {
    if el.text().is_empty() {
        Ok(None)
    } else {
        parse_phone(el, name).map(Some)
    }
}

fn parse_postal_change(el: &Element) -> Result<PostalChange, EppError> {
    let kind = postal_type(el)?;
    let mut c = Children::of(el, Ns::Contact);
    let name = c.optional("name").map(|e| token(e, 1, 255)).transpose()?;
    let org = c
        .optional("org")
        .map(|e| {
            if e.text().is_empty() {
                Ok(None)
            } else {
                token(e, 1, 255).map(Some)
            }
        })
        .transpose()?;
    let addr_el = c.optional("addr");
    c.end()?;
    let addr = match addr_el {
        None => None,
        Some(addr) => {
            // Reuse the full postal-info parser on a synthetic element.
            let synthetic = Element {
                ns: Ns::Contact,
                name: "postalInfo".into(),
                attrs: vec![("type".into(), kind.as_str().into())],
                text: String::new(),
                children: vec![
                    Element {
                        ns: Ns::Contact,
                        name: "name".into(),
                        attrs: vec![],
                        text: "-".into(),
                        children: vec![],
                    },
                    addr.clone(),
                ],
            };
            Some(parse_postal_info(&synthetic)?)
        }
    };
    if let (PostalType::Int, Some(n)) = (kind, &name)
        && !n.is_ascii()
    {
        return Err(value_syntax(
            "contact",
            "postalInfo",
            "int",
            "postalInfo type=\"int\" takes 7-bit ASCII only".into(),
            "postalInfo type=\"int\" n'accepte que l'ASCII 7 bits".into(),
        ));
    }
    Ok(PostalChange {
        kind,
        name,
        org,
        addr,
    })
}
