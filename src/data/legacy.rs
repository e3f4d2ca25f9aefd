//! The legacy system's export (`docs/import.md`): JSON lines, one record per
//! line with a `type` of `registrar`, `contact`, `host` or `domain`, turned
//! into [`Item`]s for the loader; and [`import`], which runs `admin import`.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::DataError;
use super::load::{Item, Kind, Loader, Options, Report};
use crate::config::Settings;
use crate::model::{
    Contact, ContactRole, Domain, DomainContact, Host, Identity, IdentityKind, Phone, PostalInfo,
    PostalType, Registrar, RegistrarAddress, RegistrarState, Status, Timestamp, Verification,
};
use crate::store::Store;

/// The history command of objects `admin import` loads.
pub const COMMAND: &str = "admin:import";

/// One line of the file.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    Registrar(RegistrarLine),
    Contact(ContactLine),
    Host(HostLine),
    Domain(DomainLine),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistrarLine {
    id: String,
    name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    address: Option<AddressLine>,
    #[serde(default)]
    state: Option<String>,
    created: String,
}

/// A registrar's postal address.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddressLine {
    street: Vec<String>,
    city: String,
    #[serde(default)]
    sp: Option<String>,
    #[serde(default)]
    pc: Option<String>,
    cc: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostalLine {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    street: Vec<String>,
    city: String,
    #[serde(default)]
    sp: Option<String>,
    #[serde(default)]
    pc: Option<String>,
    cc: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityLine {
    #[serde(rename = "type")]
    kind: String,
    number: String,
    #[serde(default)]
    verification: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactLine {
    id: String,
    #[serde(default)]
    roid: Option<String>,
    sponsor: String,
    #[serde(default)]
    created_by: Option<String>,
    created: String,
    #[serde(default)]
    updated_by: Option<String>,
    #[serde(default)]
    updated: Option<String>,
    postal: Vec<PostalLine>,
    #[serde(default)]
    voice: Option<String>,
    #[serde(default)]
    voice_ext: Option<String>,
    #[serde(default)]
    fax: Option<String>,
    email: String,
    #[serde(default)]
    statuses: Vec<String>,
    #[serde(default)]
    identity: Option<IdentityLine>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostLine {
    name: String,
    #[serde(default)]
    roid: Option<String>,
    sponsor: String,
    #[serde(default)]
    created_by: Option<String>,
    created: String,
    #[serde(default)]
    updated_by: Option<String>,
    #[serde(default)]
    updated: Option<String>,
    #[serde(default)]
    addrs: Vec<String>,
    #[serde(default)]
    statuses: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainContactLine {
    #[serde(rename = "type")]
    role: String,
    id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainLine {
    name: String,
    #[serde(default)]
    roid: Option<String>,
    sponsor: String,
    #[serde(default)]
    created_by: Option<String>,
    created: String,
    expires: String,
    #[serde(default)]
    updated_by: Option<String>,
    #[serde(default)]
    updated: Option<String>,
    #[serde(default)]
    transferred: Option<String>,
    registrant: String,
    #[serde(default)]
    contacts: Vec<DomainContactLine>,
    #[serde(default)]
    nameservers: Vec<String>,
    #[serde(default)]
    statuses: Vec<String>,
    #[serde(default)]
    deleted: Option<String>,
    #[serde(default)]
    proof_ref: Option<String>,
}

/// What a line says it is, read leniently, to name it in a refusal.
#[derive(Debug, Deserialize)]
struct Peek {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

impl Peek {
    fn kind(&self) -> Option<Kind> {
        match self.kind.as_deref() {
            Some("registrar") => Some(Kind::Registrar),
            Some("contact") => Some(Kind::Contact),
            Some("host") => Some(Kind::Host),
            Some("domain") => Some(Kind::Domain),
            _ => None,
        }
    }
}

/// A date: `YYYY-MM-DD` (midnight UTC) or an RFC 3339 instant.
fn date(field: &str, text: &str) -> Result<Timestamp, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("{field}: {text:?} is not a date (YYYY-MM-DD or RFC 3339)"))
}

fn opt_date(field: &str, text: Option<&str>) -> Result<Option<Timestamp>, String> {
    text.map(|t| date(field, t)).transpose()
}

fn statuses(list: &[String]) -> Result<Vec<Status>, String> {
    list.iter()
        .map(|s| Status::parse(s).ok_or_else(|| format!("{s:?} is not an EPP status")))
        .collect()
}

fn registrar(r: RegistrarLine) -> Result<Item, String> {
    let state = match r.state.as_deref() {
        None | Some("active") => RegistrarState::Active,
        Some("suspended") => RegistrarState::Suspended,
        Some("terminated") => RegistrarState::Terminated,
        Some(other) => {
            return Err(format!(
                "state: {other:?} is not active, suspended or terminated"
            ));
        }
    };
    let created = date("created", &r.created)?;
    Ok(Item::Registrar(Box::new(Registrar {
        created,
        id: r.id,
        name: r.name,
        password_hash: String::new(),
        cert_fingerprints: Vec::new(),
        ip_allow: Vec::new(),
        session_limit: None,
        state,
        email: r.email,
        address: r.address.map(|a| RegistrarAddress {
            street: a.street,
            city: a.city,
            sp: a.sp,
            pc: a.pc,
            cc: a.cc.to_uppercase(),
        }),
        password_set: created,
    })))
}

fn contact(c: ContactLine, now: Timestamp) -> Result<Item, String> {
    let postal = c
        .postal
        .into_iter()
        .map(|p| {
            let kind = match p.kind.as_str() {
                "int" => PostalType::Int,
                "loc" => PostalType::Loc,
                other => return Err(format!("postal type {other:?} is not int or loc")),
            };
            Ok(PostalInfo {
                kind,
                name: p.name,
                org: p.org,
                street: p.street,
                city: p.city,
                sp: p.sp,
                pc: p.pc,
                cc: p.cc,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let identity = match c.identity {
        None => None,
        Some(i) => {
            let kind = IdentityKind::parse(&i.kind).ok_or_else(|| {
                format!(
                    "identity type {:?} is not cin, residence, passport, rc, ice or other",
                    i.kind
                )
            })?;
            let verification = match i.verification.as_deref() {
                None | Some("submitted") => Verification::Submitted,
                Some("verified") => Verification::Verified,
                Some("rejected") => Verification::Rejected,
                Some(other) => {
                    return Err(format!(
                        "identity verification {other:?} is not submitted, verified or rejected"
                    ));
                }
            };
            Some(Identity {
                kind,
                number: i.number,
                verification,
                since: now,
                note: None,
            })
        }
    };
    if c.voice_ext.is_some() && c.voice.is_none() {
        return Err("voice_ext without voice".into());
    }
    Ok(Item::Contact(Box::new(Contact {
        created: date("created", &c.created)?,
        updated: opt_date("updated", c.updated.as_deref())?,
        statuses: statuses(&c.statuses)?,
        id: c.id,
        roid: c.roid.unwrap_or_default(),
        postal,
        voice: c.voice.map(|number| Phone {
            number,
            ext: c.voice_ext,
        }),
        fax: c.fax.map(|number| Phone { number, ext: None }),
        email: c.email,
        sponsor: c.sponsor,
        created_by: c.created_by.unwrap_or_default(),
        updated_by: c.updated_by,
        transferred: None,
        auth: None,
        disclose: None,
        identity,
        transfer: None,
    })))
}

fn host(h: HostLine) -> Result<Item, String> {
    let addrs = h
        .addrs
        .iter()
        .map(|a| {
            a.parse::<IpAddr>()
                .map_err(|_| format!("{a:?} is not an IP address"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Item::Host(Box::new(Host {
        created: date("created", &h.created)?,
        updated: opt_date("updated", h.updated.as_deref())?,
        statuses: statuses(&h.statuses)?,
        name: h.name,
        roid: h.roid.unwrap_or_default(),
        addrs,
        superordinate: None,
        sponsor: h.sponsor,
        created_by: h.created_by.unwrap_or_default(),
        updated_by: h.updated_by,
        transferred: None,
    })))
}

fn domain(d: DomainLine) -> Result<Item, String> {
    let contacts = d
        .contacts
        .into_iter()
        .map(|c| {
            let role = ContactRole::parse(&c.role).ok_or_else(|| {
                format!("contact type {:?} is not admin, tech or billing", c.role)
            })?;
            Ok(DomainContact { role, id: c.id })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Item::Domain(Box::new(Domain {
        created: date("created", &d.created)?,
        expires: date("expires", &d.expires)?,
        updated: opt_date("updated", d.updated.as_deref())?,
        transferred: opt_date("transferred", d.transferred.as_deref())?,
        deleted: opt_date("deleted", d.deleted.as_deref())?,
        statuses: statuses(&d.statuses)?,
        name: d.name,
        roid: d.roid.unwrap_or_default(),
        registrant: d.registrant,
        contacts,
        nameservers: d.nameservers,
        sponsor: d.sponsor,
        created_by: d.created_by.unwrap_or_default(),
        updated_by: d.updated_by,
        auth: None,
        subordinate_hosts: Vec::new(),
        ds_data: Vec::new(),
        proof_ref: d.proof_ref,
        transfer: None,
        pending_owner: None,
        identity_hold: false,
        dispute: None,
        incomplete: None,
    })))
}

/// Reads one line into an item, or says why it cannot be read (naming the
/// object when the line says what it is).
fn parse_line(text: &str, now: Timestamp) -> Result<Item, (Option<Kind>, String)> {
    let parsed = serde_json::from_str::<Line>(text);
    let converted = match parsed {
        Ok(Line::Registrar(r)) => registrar(r),
        Ok(Line::Contact(c)) => contact(c, now),
        Ok(Line::Host(h)) => host(h),
        Ok(Line::Domain(d)) => domain(d),
        Err(e) => Err(e.to_string()),
    };
    converted.map_err(|reason| match serde_json::from_str::<Peek>(text) {
        Ok(peek) => {
            let kind = peek.kind();
            let key = match kind {
                Some(Kind::Registrar | Kind::Contact) => peek.id,
                _ => peek.name,
            };
            let label = match (kind, key) {
                (Some(k), Some(key)) => format!("{} {key}: ", k.as_str()),
                (Some(k), None) => format!("{}: ", k.as_str()),
                _ => String::new(),
            };
            (kind, format!("{label}{reason}"))
        }
        Err(_) => (None, format!("not a JSON record: {reason}")),
    })
}

/// The names of the hosts the file defines, so that a domain may name one
/// as name server before its line (a host inside a domain comes after it).
fn host_names(path: &Path) -> Result<HashSet<String>, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut names = HashSet::new();
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(|e| DataError::io(path, e))?;
        if !line.windows(6).any(|w| w == b"\"host\"") {
            continue;
        }
        if let Ok(Peek {
            kind: Some(kind),
            name: Some(name),
            ..
        }) = serde_json::from_slice::<Peek>(&line)
            && kind == "host"
        {
            names.insert(name);
        }
    }
    Ok(names)
}

/// `admin import FILE`: loads the file's records into `store` through the
/// loader, in file order.
///
/// # Errors
/// The file cannot be read, or the store fails.
pub fn import(
    store: &Store,
    settings: &Settings,
    now: Timestamp,
    operator: &str,
    path: &Path,
    dry_run: bool,
) -> Result<Report, DataError> {
    let hosts = host_names(path)?;
    let mut loader = Loader::new(
        store,
        settings,
        now,
        operator,
        Options {
            dry_run,
            keep_existing_registrars: false,
            command: COMMAND,
        },
    );
    loader.expect_hosts(hosts);
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    for (index, line) in BufReader::new(file).split(b'\n').enumerate() {
        let number = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1);
        let bytes = line.map_err(|e| DataError::io(path, e))?;
        let Ok(text) = std::str::from_utf8(&bytes) else {
            loader
                .report_mut()
                .reject_unreadable(number, None, "not UTF-8 text".into());
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        match parse_line(text, now) {
            Ok(item) => loader.load(number, item)?,
            Err((kind, reason)) => loader.report_mut().reject_unreadable(number, kind, reason),
        }
    }
    Ok(loader.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        date("now", "2026-01-01").unwrap()
    }

    #[test]
    fn dates_are_days_or_instants() {
        assert_eq!(
            date("d", "2014-03-01").unwrap().to_rfc3339(),
            "2014-03-01T00:00:00+00:00"
        );
        assert_eq!(
            date("d", "2014-03-01T10:00:00+01:00").unwrap().to_rfc3339(),
            "2014-03-01T09:00:00+00:00"
        );
        assert!(
            date("created", "2024-02-30")
                .unwrap_err()
                .contains("created")
        );
    }

    #[test]
    fn unknown_fields_and_types_are_refused_with_the_object_named() {
        let (kind, reason) = parse_line(
            r#"{"type":"registrar","id":"acme","name":"Acme","created":"2010-01-01","colour":"red"}"#,
            now(),
        )
        .unwrap_err();
        assert_eq!(kind, Some(Kind::Registrar));
        assert!(
            reason.starts_with("registrar acme: unknown field"),
            "{reason}"
        );
        let (kind, reason) = parse_line(r#"{"type":"zone","name":"x"}"#, now()).unwrap_err();
        assert_eq!(kind, None);
        assert!(reason.contains("unknown variant"), "{reason}");
        let (_, reason) = parse_line("not json", now()).unwrap_err();
        assert!(reason.starts_with("not a JSON record"), "{reason}");
    }

    #[test]
    fn a_domain_line_becomes_a_domain() {
        let item = parse_line(
            r#"{"type":"domain","name":"Atlas.MA","sponsor":"acme","created":"2012-05-01","expires":"2027-05-01","registrant":"c1","contacts":[{"type":"admin","id":"c1"}],"nameservers":["ns1.atlas.ma"],"statuses":["clientTransferProhibited"]}"#,
            now(),
        )
        .unwrap();
        let Item::Domain(d) = item else {
            panic!("not a domain")
        };
        assert_eq!(d.name, "Atlas.MA");
        assert_eq!(d.contacts[0].role, ContactRole::Admin);
        assert_eq!(d.statuses, vec![Status::ClientTransferProhibited]);
    }
}
