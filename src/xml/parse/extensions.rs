//! The `<extension>` elements merged into the command they extend: DNSSEC
//! (RFC 5910), the registry's own `ma` extension (identity, proof,
//! transfer rejection reason), RGP restore, fees, login security and
//! allocation tokens.

use super::super::dom::Element;
use super::super::ns::Ns;
use super::children::{Children, token, unsigned};
use super::domain::parse_period;
use super::session::apply_login_security;
use crate::error::EppError;
use crate::model::{
    Command, DsData, FeeQuery, IdentityDoc, IdentityKind, ObjectKind, RestoreOp, SecDnsUpdate,
    Text, TransferOp,
};

fn parse_ds_data(el: &Element) -> Result<DsData, EppError> {
    let mut c = Children::of(el, Ns::SecDns);
    let key_tag: u16 = unsigned(c.required("keyTag")?)?;
    let alg: u8 = unsigned(c.required("alg")?)?;
    let digest_type: u8 = unsigned(c.required("digestType")?)?;
    let digest_el = c.required("digest")?;
    if c.optional("keyData").is_some() {
        // Optional key data alongside a DS record is accepted and not kept.
    }
    c.end()?;
    let digest = digest_el.text().to_ascii_uppercase();
    if digest.is_empty() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(EppError::syntax(
            "<secDNS:digest> must be hexadecimal",
            "<secDNS:digest> doit être hexadécimal",
        ));
    }
    Ok(DsData {
        key_tag,
        alg,
        digest_type,
        digest,
    })
}

fn ds_list(parent: &Element) -> Result<Vec<DsData>, EppError> {
    let mut c = Children::of(parent, Ns::SecDns);
    let list = c.many("dsData");
    if list.is_empty() {
        if c.peek_is("keyData") {
            return Err(EppError::Policy(
                Text::new(
                    "RFC 5910: this registry serves the DS data interface; send <secDNS:dsData>, not <secDNS:keyData>",
                    "RFC 5910 : ce registre sert l'interface DS ; envoyez <secDNS:dsData>, pas <secDNS:keyData>",
                ),
                None,
            ));
        }
        return Err(c.expected("dsData"));
    }
    c.end()?;
    list.into_iter().map(parse_ds_data).collect()
}

fn no_max_sig_life() -> EppError {
    EppError::UnimplementedOption(Text::new(
        "<secDNS:maxSigLife> is not served",
        "<secDNS:maxSigLife> n'est pas pris en charge",
    ))
}

fn parse_secdns_create(el: &Element) -> Result<Vec<DsData>, EppError> {
    if el
        .children
        .first()
        .is_some_and(|c| c.is(&Ns::SecDns, "maxSigLife"))
    {
        return Err(no_max_sig_life());
    }
    ds_list(el)
}

fn parse_secdns_update(el: &Element) -> Result<SecDnsUpdate, EppError> {
    if matches!(el.attr("urgent"), Some("1") | Some("true")) {
        return Err(EppError::UnimplementedOption(Text::new(
            "urgent DNSSEC updates are not served",
            "les mises à jour DNSSEC urgentes ne sont pas prises en charge",
        )));
    }
    let mut c = Children::of(el, Ns::SecDns);
    let mut u = SecDnsUpdate::default();
    if let Some(rem) = c.optional("rem") {
        let mut r = Children::of(rem, Ns::SecDns);
        if let Some(all) = r.optional("all") {
            r.end()?;
            u.remove_all = match all.text() {
                "1" | "true" => true,
                "0" | "false" => false,
                other => {
                    return Err(EppError::syntax(
                        format!("<secDNS:all> {other:?} is not a boolean"),
                        format!("<secDNS:all> {other:?} n'est pas un booléen"),
                    ));
                }
            };
        } else {
            u.remove = ds_list(rem)?;
        }
    }
    if let Some(add) = c.optional("add") {
        u.add = ds_list(add)?;
    }
    if c.optional("chg").is_some() {
        return Err(no_max_sig_life());
    }
    c.end()?;
    if !u.remove_all && u.remove.is_empty() && u.add.is_empty() {
        return Err(EppError::syntax(
            "<secDNS:update> must add or remove something",
            "<secDNS:update> doit ajouter ou retirer quelque chose",
        ));
    }
    Ok(u)
}

fn parse_identity(el: &Element) -> Result<IdentityDoc, EppError> {
    let mut c = Children::of(el, Ns::Ma);
    let kind_el = c.required("type")?;
    let number = token(c.required("number")?, 1, 64)?;
    c.end()?;
    let kind = IdentityKind::parse(kind_el.text()).ok_or_else(|| {
        EppError::syntax(
            format!(
                "<ma:type> {:?} is not one of cin, residence, passport, rc, ice, other",
                kind_el.text()
            ),
            format!(
                "<ma:type> {:?} n'est pas l'un de cin, residence, passport, rc, ice, other",
                kind_el.text()
            ),
        )
    })?;
    Ok(IdentityDoc { kind, number })
}

fn parse_fee_check(el: &Element) -> Result<(Vec<FeeQuery>, Option<String>), EppError> {
    let mut c = Children::of(el, Ns::Fee);
    let currency = c.optional("currency").map(|e| e.text().to_owned());
    let commands = c.many("command");
    if commands.is_empty() {
        return Err(c.expected("command"));
    }
    c.end()?;
    let mut queries = Vec::with_capacity(commands.len());
    for command in commands {
        let name = match command.attr("name") {
            Some("create") => "create",
            Some("renew") => "renew",
            Some("restore") => "restore",
            Some("transfer") => "transfer",
            Some(other) => {
                return Err(EppError::UnimplementedOption(Text::new(
                    format!("fees are given for create, renew, restore and transfer, not {other}"),
                    format!(
                        "les frais sont donnés pour create, renew, restore et transfer, pas {other}"
                    ),
                )));
            }
            None => {
                return Err(EppError::syntax(
                    "<fee:command> needs a name",
                    "<fee:command> exige un nom",
                ));
            }
        };
        let mut p = Children::of(command, Ns::Fee);
        let period = p.optional("period").map(parse_period).transpose()?;
        p.end()?;
        let years = crate::policy::r7_period_years(period)?;
        queries.push(FeeQuery {
            command: name,
            years,
        });
    }
    Ok((queries, currency))
}

fn not_applicable(el: &Element) -> EppError {
    EppError::UnimplementedExtension(Text::new(
        format!(
            "the extension element <{}> of {} does not apply to this command",
            el.name,
            el.ns.uri()
        ),
        format!(
            "l'élément d'extension <{}> de {} ne s'applique pas à cette commande",
            el.name,
            el.ns.uri()
        ),
    ))
}

/// Merges the `<extension>` elements into the command they extend.
pub(super) fn apply_extensions(cmd: &mut Command, ext: &Element) -> Result<(), EppError> {
    let mut seen: Vec<(&Ns, &str)> = Vec::new();
    for el in &ext.children {
        if seen.contains(&(&el.ns, el.name.as_str())) {
            return Err(EppError::syntax(
                format!(
                    "the extension element <{}> appears twice",
                    el.display_name()
                ),
                format!(
                    "l'élément d'extension <{}> apparaît deux fois",
                    el.display_name()
                ),
            ));
        }
        seen.push((&el.ns, el.name.as_str()));
        match (&el.ns, el.name.as_str(), &mut *cmd) {
            (Ns::SecDns, "create", Command::DomainCreate(c)) => {
                c.ds_data = parse_secdns_create(el)?
            }
            (Ns::SecDns, "update", Command::DomainUpdate(u)) => {
                u.sec_dns = Some(parse_secdns_update(el)?)
            }
            (Ns::Ma, "create", Command::ContactCreate(c)) => {
                let mut ch = Children::of(el, Ns::Ma);
                c.identity = Some(parse_identity(ch.required("identity")?)?);
                ch.end()?;
            }
            (Ns::Ma, "update", Command::ContactUpdate(u)) => {
                let mut ch = Children::of(el, Ns::Ma);
                u.identity = ch.optional("identity").map(parse_identity).transpose()?;
                if ch.optional("proofRef").is_some() {
                    return Err(not_applicable(el));
                }
                ch.end()?;
            }
            (Ns::Ma, "update", Command::DomainUpdate(u)) => {
                let mut ch = Children::of(el, Ns::Ma);
                if ch.optional("identity").is_some() {
                    return Err(not_applicable(el));
                }
                u.proof_ref = ch
                    .optional("proofRef")
                    .map(|e| token(e, 1, 255))
                    .transpose()?;
                ch.end()?;
            }
            (Ns::Ma, "transferReject", Command::DomainTransfer(t))
                if t.op == TransferOp::Reject =>
            {
                t.reject_reason = Some(parse_transfer_reject(el)?);
            }
            (Ns::Ma, "transferReject", Command::ContactTransfer(t))
                if t.op == TransferOp::Reject =>
            {
                t.reject_reason = Some(parse_transfer_reject(el)?);
            }
            (Ns::Ma, "domainCreate", Command::DomainCreate(c)) => {
                let mut ch = Children::of(el, Ns::Ma);
                c.proof_ref = Some(token(ch.required("proofRef")?, 1, 255)?);
                ch.end()?;
            }
            (Ns::Rgp, "update", Command::DomainUpdate(u)) => {
                let mut ch = Children::of(el, Ns::Rgp);
                let restore = ch.required("restore")?;
                ch.end()?;
                u.restore = Some(match restore.attr("op") {
                    Some("request") => RestoreOp::Request,
                    Some("report") => RestoreOp::Report,
                    _ => {
                        return Err(EppError::syntax(
                            "<rgp:restore> needs op=\"request\" or op=\"report\"",
                            "<rgp:restore> exige op=\"request\" ou op=\"report\"",
                        ));
                    }
                });
            }
            (Ns::Fee, "check", Command::Check(ObjectKind::Domain, names)) => {
                let (queries, currency) = parse_fee_check(el)?;
                *cmd = Command::DomainCheckFee(std::mem::take(names), queries, currency);
            }
            (Ns::Fee, "create" | "renew" | "update", _) => {
                // The client's agreement to a fee: the server charges its own price.
            }
            (Ns::LoginSec, "loginSec", Command::Login(login)) => {
                apply_login_security(login, el)?;
            }
            (Ns::AllocationToken, "allocationToken", Command::DomainCreate(c)) => {
                c.allocation_token = Some(token(el, 1, 255)?);
            }
            (
                Ns::SecDns | Ns::Ma | Ns::Rgp | Ns::AllocationToken | Ns::Fee | Ns::LoginSec,
                _,
                _,
            ) => {
                return Err(not_applicable(el));
            }
            _ => {
                return Err(EppError::UnimplementedExtension(Text::new(
                    format!(
                        "the extension {} (<{}>) is not served",
                        el.ns.uri(),
                        el.name
                    ),
                    format!(
                        "l'extension {} (<{}>) n'est pas prise en charge",
                        el.ns.uri(),
                        el.name
                    ),
                )));
            }
        }
    }
    Ok(())
}

/// The reason of `<ma:transferReject>`.
fn parse_transfer_reject(el: &Element) -> Result<String, EppError> {
    let mut ch = Children::of(el, Ns::Ma);
    let reason = token(ch.required("reason")?, 1, 1000)?;
    ch.end()?;
    Ok(reason)
}
