//! How the registry's records become RDAP objects (RFC 9083): EPP
//! statuses as RDAP status values (RFC 8056), events, `secureDNS`, links
//! and notices, and R16's disclosure of contacts as jCard, with what is
//! withheld listed in `redacted` members (RFC 9537). No I/O: `lookup.rs`
//! reads the store.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::SecondsFormat;
use serde::Serialize;

use super::json::{
    CONFORMANCE, Described, DomainObject, DsData, Entity, Event, IpAddresses, Link, MEDIA_TYPE,
    Nameserver, Notice, Redacted, SecureDns, Top, VcardArray, VcardProperty, text,
};
use crate::model::{Contact, Domain, Host, Registrar, RegistrarState, Status, Timestamp};
use crate::whois::{WITHHELD, holder_name, preferred, withheld};

/// What every object needs besides the records: the service's public URL,
/// the WHOIS host, the terms' URL and the instant of the answer.
#[derive(Debug, Clone)]
pub struct Context {
    /// The base URL, without a trailing `/`.
    pub base: String,
    /// The WHOIS host, when shown.
    pub port43: Option<String>,
    /// The terms of use.
    pub terms: String,
    /// Now: the data are read live.
    pub now: Timestamp,
}

impl Context {
    /// The `self` link of `path` (e.g. `/domain/exemple.ma`).
    pub fn self_link(&self, path: &str) -> Link {
        let href = format!("{}{path}", self.base);
        Link {
            value: href.clone(),
            rel: "self",
            href,
            media_type: Some(MEDIA_TYPE),
        }
    }

    /// The notice every answer carries: the terms of use.
    pub fn terms_notice(&self) -> Notice {
        Notice {
            title: "Terms of Use".into(),
            kind: None,
            description: vec![
                "Data of the .ma registry, published under the naming charter (R16) for lookups about domain names only.".into(),
                "No authorization information is ever shown; contact data the charter does not publish, or that a contact withheld, are left out and listed under \"redacted\".".into(),
            ],
            links: vec![Link {
                value: format!("{}/help", self.base),
                rel: "terms-of-service",
                href: self.terms.clone(),
                media_type: None,
            }],
        }
    }

    /// `object` as a whole answer.
    pub fn top<T: Serialize>(&self, body: T, redacted: Vec<Redacted>) -> Top<T> {
        Top {
            conformance: CONFORMANCE,
            body,
            notices: vec![self.terms_notice()],
            redacted,
        }
    }
}

/// `segment` percent-encoded for a URL path: every byte but the
/// unreserved ones (RFC 3986 §2.3).
pub fn path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn date(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn event(action: &'static str, at: &Timestamp) -> Event {
    Event {
        event_action: action,
        event_date: date(at),
    }
}

/// An EPP status as an RDAP status value (RFC 8056 §2).
pub fn rdap_status(status: Status) -> &'static str {
    match status {
        Status::Ok => "active",
        Status::Inactive => "inactive",
        Status::Linked => "associated",
        Status::ClientDeleteProhibited => "client delete prohibited",
        Status::ClientHold => "client hold",
        Status::ClientRenewProhibited => "client renew prohibited",
        Status::ClientTransferProhibited => "client transfer prohibited",
        Status::ClientUpdateProhibited => "client update prohibited",
        Status::ServerDeleteProhibited => "server delete prohibited",
        Status::ServerHold => "server hold",
        Status::ServerRenewProhibited => "server renew prohibited",
        Status::ServerTransferProhibited => "server transfer prohibited",
        Status::ServerUpdateProhibited => "server update prohibited",
        Status::PendingCreate => "pending create",
        Status::PendingDelete => "pending delete",
        Status::PendingRenew => "pending renew",
        Status::PendingTransfer => "pending transfer",
        Status::PendingUpdate => "pending update",
    }
}

/// An RFC 3915 grace status as an RDAP status value (RFC 8056 §2).
pub fn rdap_rgp_status(rgp: &str) -> Option<&'static str> {
    match rgp {
        "addPeriod" => Some("add period"),
        "autoRenewPeriod" => Some("auto renew period"),
        "renewPeriod" => Some("renew period"),
        "transferPeriod" => Some("transfer period"),
        "redemptionPeriod" => Some("redemption period"),
        "pendingRestore" => Some("pending restore"),
        _ => None,
    }
}

/// The Unicode form of an A-label name (itself when it has none).
pub fn unicode_name(ldh: &str) -> String {
    let (unicode, checked) = idna::domain_to_unicode(ldh);
    if checked.is_ok() {
        unicode
    } else {
        ldh.to_owned()
    }
}

/// A registrar: its handle is its clID, its jCard its name.
pub fn registrar_entity(id: &str, registrar: Option<&Registrar>, ctx: &Context) -> Entity {
    let name = registrar.map_or(id, |r| r.name.as_str());
    let status = registrar.map(|r| match r.state {
        RegistrarState::Active => "active",
        RegistrarState::Suspended | RegistrarState::Terminated => "inactive",
    });
    Entity {
        object_class_name: "entity",
        handle: id.to_owned(),
        roles: vec!["registrar"],
        vcard_array: VcardArray::new(vec![text("fn", name), text("kind", "org")]),
        status: status.into_iter().collect(),
        events: Vec::new(),
        remarks: Vec::new(),
        links: vec![ctx.self_link(&format!("/entity/{}", path_segment(id)))],
        port43: ctx.port43.clone(),
    }
}

/// The part a contact plays, which decides what R16 shows of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The registrant: its organisation or name only.
    Registrant,
    /// An administrative contact: name, phone, email.
    Administrative,
    /// A technical contact: name, phone, email.
    Technical,
    /// Looked up by its handle, as a domain's administrative or technical
    /// contact: name, phone, email.
    Contact,
}

impl Part {
    fn role(self) -> Option<&'static str> {
        match self {
            Part::Registrant => Some("registrant"),
            Part::Administrative => Some("administrative"),
            Part::Technical => Some("technical"),
            Part::Contact => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Part::Registrant => "Registrant",
            Part::Administrative => "Administrative Contact",
            Part::Technical => "Technical Contact",
            Part::Contact => "Contact",
        }
    }
}

const BY_POLICY: &str = "not published: the charter's WHOIS fields (R16) leave it out";
const BY_REQUEST: &str = "withheld at the contact's request (RFC 5733 disclose)";

/// A contact as R16 shows it in `part`; what it leaves out is added to
/// `redacted`, with `path` (the entity's JSONPath, `$` or
/// `$.entities[N]`). The identity document (R15) is never read here.
pub fn contact_entity(
    contact: &Contact,
    part: Part,
    path: &str,
    ctx: &Context,
    redacted: &mut Vec<Redacted>,
) -> Entity {
    let mut removed = |field: &str, property: &str, reason: &str| {
        redacted.push(Redacted {
            name: Described {
                description: format!("{} {field}", part.label()),
            },
            pre_path: format!("{path}.vcardArray[1][?(@[0]=='{property}')]"),
            method: "removal",
            reason: Described {
                description: reason.to_owned(),
            },
        });
    };
    let mut properties = Vec::new();
    if part == Part::Registrant {
        let org = preferred(&contact.postal).is_some_and(|p| p.org.is_some());
        properties.push(text("fn", &holder_name(contact)));
        properties.push(text("kind", if org { "org" } else { "individual" }));
        removed("Phone", "tel", BY_POLICY);
        removed("Email", "email", BY_POLICY);
    } else {
        let name = preferred(&contact.postal).map_or("", |p| p.name.as_str());
        properties.push(text("fn", name));
        properties.push(text("kind", "individual"));
        match &contact.voice {
            Some(_) if withheld(contact, "voice") => removed("Phone", "tel", BY_REQUEST),
            Some(voice) => {
                let ext = voice
                    .ext
                    .as_ref()
                    .map(|e| format!(";ext={e}"))
                    .unwrap_or_default();
                properties.push(VcardProperty(
                    "tel",
                    BTreeMap::from([("type", vec!["voice"])]),
                    "uri",
                    format!("tel:{}{ext}", voice.number),
                ));
            }
            None => {}
        }
        if withheld(contact, "email") {
            removed("Email", "email", BY_REQUEST);
        } else {
            properties.push(text("email", &contact.email));
        }
    }
    removed("Address", "adr", BY_POLICY);
    let mut remarks = Vec::new();
    if part != Part::Registrant
        && ((withheld(contact, "voice") && contact.voice.is_some()) || withheld(contact, "email"))
    {
        remarks.push(Notice {
            title: "Withheld data".into(),
            kind: None,
            description: vec![format!("Phone or email {WITHHELD}.")],
            links: Vec::new(),
        });
    }
    Entity {
        object_class_name: "entity",
        handle: contact.id.clone(),
        roles: part.role().into_iter().collect(),
        vcard_array: VcardArray::new(properties),
        status: Vec::new(),
        events: Vec::new(),
        remarks,
        links: vec![ctx.self_link(&format!("/entity/{}", path_segment(&contact.id)))],
        port43: ctx.port43.clone(),
    }
}

/// A name server. Inside a domain (`full` false) it carries its name, its
/// addresses and its link; looked up alone, its statuses, events and
/// sponsor too. `linked`: whether a domain delegates to it.
pub fn nameserver(
    name: &str,
    host: Option<&Host>,
    full: Option<(bool, Entity)>,
    ctx: &Context,
) -> Nameserver {
    let mut addresses = IpAddresses::default();
    for addr in host.map(|h| h.addrs.as_slice()).unwrap_or_default() {
        if addr.is_ipv4() {
            addresses.v4.push(addr.to_string());
        } else {
            addresses.v6.push(addr.to_string());
        }
    }
    let has_addresses = !(addresses.v4.is_empty() && addresses.v6.is_empty());
    let mut ns = Nameserver {
        object_class_name: "nameserver",
        handle: host.map(|h| h.roid.clone()),
        ldh_name: name.to_owned(),
        unicode_name: unicode_name(name),
        ip_addresses: has_addresses.then_some(addresses),
        status: Vec::new(),
        events: Vec::new(),
        entities: Vec::new(),
        links: vec![ctx.self_link(&format!("/nameserver/{name}"))],
        port43: None,
    };
    if let (Some(host), Some((linked, sponsor))) = (host, full) {
        let mut statuses = host.statuses.clone();
        if statuses.is_empty() {
            statuses.push(Status::Ok);
        }
        if linked {
            statuses.push(Status::Linked);
        }
        statuses.sort();
        ns.status = statuses.into_iter().map(rdap_status).collect();
        ns.events.push(event("registration", &host.created));
        if let Some(updated) = &host.updated {
            ns.events.push(event("last changed", updated));
        }
        if let Some(transferred) = &host.transferred {
            ns.events.push(event("transfer", transferred));
        }
        ns.events
            .push(event("last update of RDAP database", &ctx.now));
        ns.entities.push(sponsor);
        ns.port43 = ctx.port43.clone();
    }
    ns
}

/// A domain's statuses: the EPP ones as answered by `<domain:info>`, then
/// its grace period (`rgp`, RFC 3915).
pub fn domain_statuses(domain: &Domain, rgp: Option<&str>) -> Vec<&'static str> {
    let mut status: Vec<&'static str> = domain
        .derived_statuses()
        .into_iter()
        .map(rdap_status)
        .collect();
    status.extend(rgp.and_then(rdap_rgp_status));
    status
}

/// The records a domain object is made of, read by `lookup.rs`.
pub struct DomainRecords<'a> {
    /// The domain.
    pub domain: &'a Domain,
    /// Its grace period (RFC 3915), if in one.
    pub rgp: Option<&'static str>,
    /// Its sponsor, first of its entities.
    pub registrar: Entity,
    /// Its contacts with the part each plays, registrant first.
    pub contacts: Vec<(Part, Contact)>,
    /// Its name servers and their host objects.
    pub hosts: Vec<(String, Option<Host>)>,
}

/// A domain object; what R16 or a contact withheld goes to `redacted`.
/// `entities_path` is the JSONPath of its `entities` array.
pub fn domain_object(
    records: DomainRecords<'_>,
    entities_path: &str,
    ctx: &Context,
    redacted: &mut Vec<Redacted>,
) -> DomainObject {
    let domain = records.domain;
    let mut events = vec![
        event("registration", &domain.created),
        event("expiration", &domain.expires),
    ];
    if let Some(updated) = &domain.updated {
        events.push(event("last changed", updated));
    }
    if let Some(transferred) = &domain.transferred {
        events.push(event("transfer", transferred));
    }
    events.push(event("last update of RDAP database", &ctx.now));
    let mut entities = vec![records.registrar];
    for (part, contact) in &records.contacts {
        let path = format!("{entities_path}[{}]", entities.len());
        entities.push(contact_entity(contact, *part, &path, ctx, redacted));
    }
    let nameservers = records
        .hosts
        .iter()
        .map(|(name, host)| nameserver(name, host.as_ref(), None, ctx))
        .collect();
    let remarks = domain
        .dispute
        .iter()
        .map(|since| Notice {
            title: "Under dispute (R18)".into(),
            kind: None,
            description: vec![format!(
                "The domain is under dispute since {}: it stays active and in the zone, but no change is made to it until the registry closes the dispute.",
                date(since)
            )],
            links: Vec::new(),
        })
        .collect();
    DomainObject {
        object_class_name: "domain",
        handle: domain.roid.clone(),
        ldh_name: domain.name.clone(),
        unicode_name: unicode_name(&domain.name),
        status: domain_statuses(domain, records.rgp),
        events,
        entities,
        nameservers,
        secure_dns: SecureDns {
            delegation_signed: !domain.ds_data.is_empty(),
            ds_data: domain
                .ds_data
                .iter()
                .map(|ds| DsData {
                    key_tag: ds.key_tag,
                    algorithm: ds.alg,
                    digest: ds.digest.clone(),
                    digest_type: ds.digest_type,
                })
                .collect(),
        },
        remarks,
        links: vec![ctx.self_link(&format!("/domain/{}", domain.name))],
        port43: ctx.port43.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdap_statuses_are_the_rfc_8056_values() {
        let mapped: Vec<&str> = Status::ALL.into_iter().map(rdap_status).collect();
        assert_eq!(mapped[0], "active");
        assert!(mapped.contains(&"client hold") && mapped.contains(&"server hold"));
        assert!(mapped.contains(&"pending transfer") && mapped.contains(&"associated"));
        let mut unique = mapped.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), mapped.len(), "one RDAP value per status");
        assert_eq!(
            rdap_rgp_status("redemptionPeriod"),
            Some("redemption period")
        );
        assert_eq!(
            rdap_rgp_status("autoRenewPeriod"),
            Some("auto renew period")
        );
        assert_eq!(rdap_rgp_status("other"), None);
    }

    #[test]
    fn rdap_names_and_handles_in_urls() {
        assert_eq!(unicode_name("xn--caf-dma.ma"), "café.ma");
        assert_eq!(unicode_name("exemple.co.ma"), "exemple.co.ma");
        assert_eq!(path_segment("cnt-1"), "cnt-1");
        assert_eq!(path_segment("a b/é"), "a%20b%2F%C3%A9");
    }
}
