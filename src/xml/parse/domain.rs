//! The domain commands: `<domain:info>`, `<create>`, `<update>`,
//! `<renew>`, and `<transfer>` (with the contact transfer it shares its verb
//! with); the period.

use super::super::dom::Element;
use super::super::ns::Ns;
use super::children::{Children, parse_auth_info, parse_status, token};
use crate::error::EppError;
use crate::model::{
    Command, ContactRole, ContactTransfer, DomainCreate, DomainDelta, DomainInfo, DomainRenew,
    DomainTransfer, DomainUpdate, HostsFilter, PeriodSpec, Text, TransferOp,
};

pub(super) fn parse_transfer(verb: &Element) -> Result<Command, EppError> {
    let op = match verb.attr("op") {
        Some("request") => TransferOp::Request,
        Some("query") => TransferOp::Query,
        Some("approve") => TransferOp::Approve,
        Some("reject") => TransferOp::Reject,
        Some("cancel") => TransferOp::Cancel,
        _ => {
            return Err(EppError::syntax(
                "<transfer> needs op=\"request\", \"query\", \"approve\", \"reject\" or \"cancel\"",
                "<transfer> exige op=\"request\", \"query\", \"approve\", \"reject\" ou \"cancel\"",
            ));
        }
    };
    let [object] = verb.children.as_slice() else {
        return Err(EppError::syntax(
            "<transfer> must hold exactly one object element",
            "<transfer> doit contenir exactement un élément d'objet",
        ));
    };
    match &object.ns {
        Ns::Domain if object.name == "transfer" => {}
        Ns::Contact if object.name == "transfer" => {
            let mut c = Children::of(object, Ns::Contact);
            let id = token(c.required("id")?, 3, 16)?;
            let auth = c
                .optional("authInfo")
                .map(|a| parse_auth_info(a, Ns::Contact))
                .transpose()?;
            c.end()?;
            return Ok(Command::ContactTransfer(ContactTransfer {
                op,
                id,
                auth,
                reject_reason: None,
            }));
        }
        Ns::Epp | Ns::None | Ns::Domain | Ns::Contact | Ns::Host => {
            return Err(EppError::syntax(
                format!("<transfer> cannot hold <{}>", object.display_name()),
                format!("<transfer> ne peut contenir <{}>", object.display_name()),
            ));
        }
        other => {
            return Err(EppError::UnimplementedObject(Text::new(
                format!("the object service {} is not served", other.uri()),
                format!(
                    "le service d'objet {} n'est pas pris en charge",
                    other.uri()
                ),
            )));
        }
    }
    let mut c = Children::of(object, Ns::Domain);
    let name = token(c.required("name")?, 1, 255)?;
    let period = c.optional("period").map(parse_period).transpose()?;
    let auth = c
        .optional("authInfo")
        .map(|a| parse_auth_info(a, Ns::Domain))
        .transpose()?;
    c.end()?;
    Ok(Command::DomainTransfer(DomainTransfer {
        op,
        name,
        period,
        auth,
        reject_reason: None,
    }))
}

pub(super) fn parse_domain_info(object: &Element) -> Result<DomainInfo, EppError> {
    let mut c = Children::of(object, Ns::Domain);
    let name_el = c.required("name")?;
    let name = token(name_el, 1, 255)?;
    let hosts = match name_el.attr("hosts") {
        None | Some("all") => HostsFilter::All,
        Some("del") => HostsFilter::Del,
        Some("sub") => HostsFilter::Sub,
        Some("none") => HostsFilter::None,
        Some(other) => {
            return Err(EppError::syntax(
                format!("hosts=\"{other}\" is not one of all, del, sub, none"),
                format!("hosts=\"{other}\" n'est pas l'une des valeurs all, del, sub, none"),
            ));
        }
    };
    let auth = c
        .optional("authInfo")
        .map(|a| parse_auth_info(a, Ns::Domain))
        .transpose()?;
    c.end()?;
    Ok(DomainInfo { name, hosts, auth })
}

pub(super) fn parse_period(el: &Element) -> Result<PeriodSpec, EppError> {
    let months = match el.attr("unit") {
        Some("y") => false,
        Some("m") => true,
        _ => {
            return Err(EppError::syntax(
                "<domain:period> needs unit=\"y\" or unit=\"m\"",
                "<domain:period> exige unit=\"y\" ou unit=\"m\"",
            ));
        }
    };
    let text = el.text();
    // Out-of-range whole numbers are left to R7 (2004); anything else is a 2001.
    let value: u32 = text
        .parse()
        .ok()
        .filter(|_| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            EppError::syntax(
                format!("<domain:period> must be a whole number, not {text:?}"),
                format!("<domain:period> doit être un nombre entier, et non {text:?}"),
            )
        })?;
    Ok(PeriodSpec { value, months })
}

pub(super) fn parse_domain_create(object: &Element) -> Result<DomainCreate, EppError> {
    let mut c = Children::of(object, Ns::Domain);
    let name = token(c.required("name")?, 1, 255)?;
    let period = c.optional("period").map(parse_period).transpose()?;
    let mut nameservers = Vec::new();
    let mut host_attr_used = false;
    if let Some(ns) = c.optional("ns") {
        let mut n = Children::of(ns, Ns::Domain);
        let objs = n.many("hostObj");
        if objs.is_empty() {
            let attrs = n.many("hostAttr");
            if attrs.is_empty() {
                return Err(n.expected("hostObj"));
            }
            host_attr_used = true;
        }
        n.end()?;
        nameservers = objs
            .into_iter()
            .map(|e| token(e, 1, 255))
            .collect::<Result<_, _>>()?;
    }
    let registrant = c
        .optional("registrant")
        .map(|e| token(e, 3, 16))
        .transpose()?;
    let mut contacts = Vec::new();
    for el in c.many("contact") {
        let role = el
            .attr("type")
            .and_then(ContactRole::parse)
            .ok_or_else(|| {
                EppError::syntax(
                    "<domain:contact> needs type=\"admin\", \"tech\" or \"billing\"",
                    "<domain:contact> exige type=\"admin\", \"tech\" ou \"billing\"",
                )
            })?;
        contacts.push((role, token(el, 3, 16)?));
    }
    let auth = parse_auth_info(c.required("authInfo")?, Ns::Domain)?;
    c.end()?;
    Ok(DomainCreate {
        name,
        period,
        nameservers,
        host_attr_used,
        registrant,
        contacts,
        auth_password: auth.password,
        ds_data: Vec::new(),
        proof_ref: None,
        allocation_token: None,
    })
}

fn parse_domain_delta(el: &Element) -> Result<(DomainDelta, bool), EppError> {
    let mut c = Children::of(el, Ns::Domain);
    let mut delta = DomainDelta::default();
    let mut host_attr_used = false;
    if let Some(ns) = c.optional("ns") {
        let mut n = Children::of(ns, Ns::Domain);
        let objs = n.many("hostObj");
        if objs.is_empty() {
            if n.many("hostAttr").is_empty() {
                return Err(n.expected("hostObj"));
            }
            host_attr_used = true;
        }
        n.end()?;
        delta.nameservers = objs
            .into_iter()
            .map(|e| token(e, 1, 255))
            .collect::<Result<_, _>>()?;
    }
    for el in c.many("contact") {
        let role = el
            .attr("type")
            .and_then(ContactRole::parse)
            .ok_or_else(|| {
                EppError::syntax(
                    "<domain:contact> needs type=\"admin\", \"tech\" or \"billing\"",
                    "<domain:contact> exige type=\"admin\", \"tech\" ou \"billing\"",
                )
            })?;
        delta.contacts.push((role, token(el, 3, 16)?));
    }
    delta.statuses = c
        .many("status")
        .into_iter()
        .map(parse_status)
        .collect::<Result<_, _>>()?;
    c.end()?;
    Ok((delta, host_attr_used))
}

pub(super) fn parse_domain_update(object: &Element) -> Result<DomainUpdate, EppError> {
    let mut c = Children::of(object, Ns::Domain);
    let mut u = DomainUpdate {
        name: token(c.required("name")?, 1, 255)?,
        ..DomainUpdate::default()
    };
    if let Some(add) = c.optional("add") {
        let (delta, attr) = parse_domain_delta(add)?;
        u.add = delta;
        u.host_attr_used |= attr;
    }
    if let Some(rem) = c.optional("rem") {
        let (delta, attr) = parse_domain_delta(rem)?;
        u.rem = delta;
        u.host_attr_used |= attr;
    }
    if let Some(chg) = c.optional("chg") {
        let mut ch = Children::of(chg, Ns::Domain);
        u.registrant = ch.optional("registrant").map(|e| e.text().to_owned());
        if let Some(auth) = ch.optional("authInfo") {
            let mut a = Children::of(auth, Ns::Domain);
            if let Some(pw) = a.optional("pw") {
                u.auth_password = Some(pw.text.clone());
            } else if a.optional("null").is_some() {
                u.auth_password = Some(String::new());
            } else if a.peek_is("ext") {
                return Err(EppError::UnimplementedOption(Text::new(
                    "only password authInfo (<pw>) is served",
                    "seul l'authInfo par mot de passe (<pw>) est pris en charge",
                )));
            } else {
                return Err(a.expected("pw"));
            }
            a.end()?;
        }
        ch.end()?;
    }
    c.end()?;
    Ok(u)
}

pub(super) fn parse_domain_renew(object: &Element) -> Result<DomainRenew, EppError> {
    let mut c = Children::of(object, Ns::Domain);
    let name = token(c.required("name")?, 1, 255)?;
    let date_el = c.required("curExpDate")?;
    let current_expiry =
        chrono::NaiveDate::parse_from_str(date_el.text(), "%Y-%m-%d").map_err(|_| {
            EppError::syntax(
                format!(
                    "<domain:curExpDate> {:?} is not a date YYYY-MM-DD",
                    date_el.text()
                ),
                format!(
                    "<domain:curExpDate> {:?} n'est pas une date AAAA-MM-JJ",
                    date_el.text()
                ),
            )
        })?;
    let period = c.optional("period").map(parse_period).transpose()?;
    c.end()?;
    Ok(DomainRenew {
        name,
        current_expiry,
        period,
    })
}
