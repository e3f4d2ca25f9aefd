//! The RFC 9022 objects of a deposit turned into the model's records:
//! registrars, contacts with their identity documents, hosts and domains.

use std::net::IpAddr;

use super::super::{
    CONTACT, DOMAIN, IDENTITY, RDE_CONTACT, RDE_DOMAIN, RDE_HOST, RDE_REGISTRAR, SECDNS,
};
use super::scanner::Node;
use crate::model::{
    Contact, ContactRole, Disclose, Domain, DomainContact, DsData, Host, Identity, IdentityKind,
    Phone, PostalInfo, PostalType, Registrar, RegistrarAddress, RegistrarState, Status, Timestamp,
    Transfer, TransferStatus, Verification,
};

fn statuses(node: &Node, ns: &str) -> Result<Vec<Status>, String> {
    node.all(ns, "status")
        .map(|s| {
            let v = s.attr("s").unwrap_or_default();
            Status::parse(v).ok_or_else(|| format!("{v:?} is not an EPP status"))
        })
        .collect()
}

fn transfer(node: &Node, ns: &str) -> Result<Option<Transfer>, String> {
    let Some(t) = node.child(ns, "trnData") else {
        return Ok(None);
    };
    let status_text = t.req_text(ns, "trStatus")?;
    let status = [
        TransferStatus::Pending,
        TransferStatus::ClientApproved,
        TransferStatus::ClientCancelled,
        TransferStatus::ClientRejected,
        TransferStatus::ServerApproved,
        TransferStatus::ServerCancelled,
    ]
    .into_iter()
    .find(|s| s.as_str() == status_text)
    .ok_or_else(|| format!("{status_text:?} is not a transfer status"))?;
    Ok(Some(Transfer {
        status,
        gaining: t.req_text(ns, "reRr")?,
        requested: t.req_date(ns, "reDate")?,
        losing: t.req_text(ns, "acRr")?,
        action_date: t.req_date(ns, "acDate")?,
        reject_reason: None,
        review_until: None,
    }))
}

pub(super) fn registrar(node: &Node) -> Result<Registrar, String> {
    let ns = RDE_REGISTRAR;
    let state = match node.opt_text(ns, "status").as_deref() {
        None | Some("ok") => RegistrarState::Active,
        Some("readonly") => RegistrarState::Suspended,
        Some("terminated") => RegistrarState::Terminated,
        Some(other) => return Err(format!("{other:?} is not a registrar status")),
    };
    let created = node.opt_date(ns, "crDate")?.unwrap_or_default();
    Ok(Registrar {
        id: node.req_text(ns, "id")?,
        name: node.req_text(ns, "name")?,
        password_hash: String::new(),
        cert_fingerprints: Vec::new(),
        ip_allow: Vec::new(),
        session_limit: None,
        state,
        email: node.opt_text(ns, "email"),
        created,
        address: node
            .child(ns, "postalInfo")
            .and_then(|p| p.child(ns, "addr"))
            .map(|a| -> Result<RegistrarAddress, String> {
                Ok(RegistrarAddress {
                    street: a.all(ns, "street").map(|s| s.text().to_owned()).collect(),
                    city: a.req_text(ns, "city")?,
                    sp: a.opt_text(ns, "sp"),
                    pc: a.opt_text(ns, "pc"),
                    cc: a.req_text(ns, "cc")?,
                })
            })
            .transpose()?,
        password_set: created,
    })
}

fn phone(node: &Node, ns: &str, name: &str) -> Option<Phone> {
    node.child(ns, name).map(|p| Phone {
        number: p.text().to_owned(),
        ext: p.attr("x").filter(|x| !x.is_empty()).map(str::to_owned),
    })
}

fn postal_type(value: Option<&str>) -> Result<PostalType, String> {
    match value {
        Some("int") => Ok(PostalType::Int),
        Some("loc") => Ok(PostalType::Loc),
        other => Err(format!("postal type {other:?} is not int or loc")),
    }
}

pub(super) fn contact(node: &Node) -> Result<Contact, String> {
    let ns = RDE_CONTACT;
    let mut postal = Vec::new();
    for p in node.all(ns, "postalInfo") {
        let addr = p.required(CONTACT, "addr")?;
        postal.push(PostalInfo {
            kind: postal_type(p.attr("type"))?,
            name: p.req_text(CONTACT, "name")?,
            org: p.opt_text(CONTACT, "org"),
            street: addr
                .all(CONTACT, "street")
                .map(|s| s.text().to_owned())
                .collect(),
            city: addr.req_text(CONTACT, "city")?,
            sp: addr.opt_text(CONTACT, "sp"),
            pc: addr.opt_text(CONTACT, "pc"),
            cc: addr.req_text(CONTACT, "cc")?,
        });
    }
    let disclose = match node.child(ns, "disclose") {
        None => None,
        Some(d) => {
            let kinds = |name: &str| {
                d.all(CONTACT, name)
                    .map(|e| postal_type(e.attr("type")))
                    .collect::<Result<Vec<_>, String>>()
            };
            Some(Disclose {
                flag: matches!(d.attr("flag"), Some("1" | "true")),
                name: kinds("name")?,
                org: kinds("org")?,
                addr: kinds("addr")?,
                voice: d.child(CONTACT, "voice").is_some(),
                fax: d.child(CONTACT, "fax").is_some(),
                email: d.child(CONTACT, "email").is_some(),
            })
        }
    };
    Ok(Contact {
        id: node.req_text(ns, "id")?,
        roid: node.req_text(ns, "roid")?,
        postal,
        voice: phone(node, ns, "voice"),
        fax: phone(node, ns, "fax"),
        email: node.req_text(ns, "email")?,
        statuses: statuses(node, ns)?,
        sponsor: node.req_text(ns, "clID")?,
        created_by: node.opt_text(ns, "crRr").unwrap_or_default(),
        created: node.req_date(ns, "crDate")?,
        updated_by: node.opt_text(ns, "upRr"),
        updated: node.opt_date(ns, "upDate")?,
        transferred: node.opt_date(ns, "trDate")?,
        auth: None,
        disclose,
        identity: None,
        transfer: transfer(node, ns)?,
    })
}

pub(super) fn identity(node: &Node) -> Result<(String, Identity), String> {
    let ns = IDENTITY;
    let kind_text = node.req_text(ns, "type")?;
    let kind = IdentityKind::parse(&kind_text)
        .ok_or_else(|| format!("{kind_text:?} is not an identity document type"))?;
    let verification = match node.req_text(ns, "verification")?.as_str() {
        "submitted" => Verification::Submitted,
        "verified" => Verification::Verified,
        "rejected" => Verification::Rejected,
        other => return Err(format!("{other:?} is not a verification state")),
    };
    Ok((
        node.req_text(ns, "id")?,
        Identity {
            kind,
            number: node.req_text(ns, "number")?,
            verification,
            since: node.req_date(ns, "since")?,
            note: node.opt_text(ns, "note"),
        },
    ))
}

pub(super) fn host(node: &Node) -> Result<Host, String> {
    let ns = RDE_HOST;
    let addrs = node
        .all(ns, "addr")
        .map(|a| {
            a.text()
                .parse::<IpAddr>()
                .map_err(|_| format!("{:?} is not an IP address", a.text()))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Host {
        name: node.req_text(ns, "name")?,
        roid: node.req_text(ns, "roid")?,
        addrs,
        statuses: statuses(node, ns)?,
        superordinate: None,
        sponsor: node.req_text(ns, "clID")?,
        created_by: node.opt_text(ns, "crRr").unwrap_or_default(),
        created: node.req_date(ns, "crDate")?,
        updated_by: node.opt_text(ns, "upRr"),
        updated: node.opt_date(ns, "upDate")?,
        transferred: node.opt_date(ns, "trDate")?,
    })
}

pub(super) fn domain(node: &Node, watermark: Timestamp) -> Result<Domain, String> {
    let ns = RDE_DOMAIN;
    let statuses = statuses(node, ns)?;
    let mut nameservers = Vec::new();
    if let Some(list) = node.child(ns, "ns") {
        if list.child(DOMAIN, "hostAttr").is_some() {
            return Err("name servers as host attributes (domain:hostAttr) are not served".into());
        }
        nameservers = list
            .all(DOMAIN, "hostObj")
            .map(|h| h.text().to_owned())
            .collect();
    }
    let contacts = node
        .all(ns, "contact")
        .map(|c| {
            let role = c.attr("type").unwrap_or_default();
            let role = ContactRole::parse(role)
                .ok_or_else(|| format!("contact type {role:?} is not admin, tech or billing"))?;
            Ok(DomainContact {
                role,
                id: c.text().to_owned(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut ds_data = Vec::new();
    if let Some(sec) = node.child(ns, "secDNS") {
        if sec.child(SECDNS, "keyData").is_some() {
            return Err("DNSSEC key data (secDNS:keyData) is not served; only DS data".into());
        }
        for ds in sec.all(SECDNS, "dsData") {
            let number = |name: &str| -> Result<u64, String> {
                ds.req_text(SECDNS, name)?
                    .parse::<u64>()
                    .map_err(|_| format!("<secDNS:{name}> is not a number"))
            };
            ds_data.push(DsData {
                key_tag: u16::try_from(number("keyTag")?).map_err(|_| "keyTag out of range")?,
                alg: u8::try_from(number("alg")?).map_err(|_| "alg out of range")?,
                digest_type: u8::try_from(number("digestType")?)
                    .map_err(|_| "digestType out of range")?,
                digest: ds.req_text(SECDNS, "digest")?.to_ascii_uppercase(),
            });
        }
    }
    let updated = node.opt_date(ns, "upDate")?;
    let deleted = statuses
        .contains(&Status::PendingDelete)
        .then(|| updated.unwrap_or(watermark));
    Ok(Domain {
        name: node.req_text(ns, "name")?,
        roid: node.req_text(ns, "roid")?,
        registrant: node.req_text(ns, "registrant")?,
        contacts,
        nameservers,
        statuses,
        sponsor: node.req_text(ns, "clID")?,
        created_by: node.opt_text(ns, "crRr").unwrap_or_default(),
        created: node.req_date(ns, "crDate")?,
        updated_by: node.opt_text(ns, "upRr"),
        updated,
        expires: node.req_date(ns, "exDate")?,
        transferred: node.opt_date(ns, "trDate")?,
        auth: None,
        subordinate_hosts: Vec::new(),
        ds_data,
        proof_ref: None,
        transfer: transfer(node, ns)?,
        pending_owner: None,
        deleted,
        identity_hold: false,
        dispute: None,
        incomplete: None,
    })
}

/// The key (name or id) of an object, to name it in a refusal.
pub(super) fn label(node: &Node) -> String {
    ["name", "id"]
        .iter()
        .find_map(|n| node.opt_text(&node.ns, n))
        .unwrap_or_default()
}
