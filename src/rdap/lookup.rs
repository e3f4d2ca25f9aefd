//! What each RDAP query answers (RFC 9082 paths): a domain by its Unicode
//! or A-label name, a name server, an entity (a registrar by clID, a
//! contact by id when R16 publishes it), the help, and the bounded prefix
//! search of domains; and the error answers: 400 for a malformed name, 404
//! for a name that is free, reserved (R4), blocked (R5) or outside the
//! registry. Read-only over the store, through its lookups and indexes.

use std::collections::HashMap;

use serde::Serialize;
use tracing::warn;

use crate::config::Settings;
use crate::error::EppError;
use crate::model::{Contact, ContactRole, Domain};
use crate::policy;
use crate::store::{Store, StoreError};

use super::build::{self, Context, DomainRecords, Part};
use super::json::{self, DomainObject, DomainSearch, ErrorBody, Help, Notice, Redacted};

/// An answer: the HTTP status and the JSON body.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// `value` as the body of a `status` answer.
pub fn reply<T: Serialize>(status: u16, value: &T) -> Reply {
    match serde_json::to_vec(value) {
        Ok(body) => Reply { status, body },
        Err(e) => {
            warn!(error = %e, "RDAP answer not serializable");
            Reply {
                status: 500,
                body: Vec::new(),
            }
        }
    }
}

/// An RDAP error answer (RFC 9083 §6).
pub fn error(status: u16, title: &str, description: &[String]) -> Reply {
    #[derive(Serialize)]
    struct Error<'a> {
        #[serde(rename = "rdapConformance")]
        conformance: &'static [&'static str],
        #[serde(flatten)]
        body: &'a ErrorBody,
    }
    let body = ErrorBody {
        error_code: status,
        title: title.to_owned(),
        description: description.to_vec(),
    };
    reply(
        status,
        &Error {
            conformance: json::CONFORMANCE,
            body: &body,
        },
    )
}

fn bad_request(description: String) -> Reply {
    error(400, "Bad Request", &[description])
}

fn not_found(description: String) -> Reply {
    error(404, "Not Found", &[description])
}

/// A name as a client typed it, in Unicode or A-labels, as the A-label
/// form (UTS 46) when it is a well-formed domain name.
fn ascii_name(input: &str) -> Option<String> {
    let input = input.strip_suffix('.').unwrap_or(input);
    let ascii = idna::domain_to_ascii(input).ok()?;
    let ldh = !ascii.is_empty()
        && ascii.len() <= 253
        && ascii.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    ldh.then_some(ascii)
}

/// The records a domain object is made of.
fn records<'a>(
    store: &Store,
    domain: &'a Domain,
    ctx: &Context,
    now: crate::model::Timestamp,
) -> Result<DomainRecords<'a>, StoreError> {
    let registrar = store.registrar(&domain.sponsor)?;
    let mut contacts = Vec::new();
    if let Some(registrant) = store.contact(&domain.registrant)? {
        contacts.push((Part::Registrant, registrant));
    }
    for (role, part) in [
        (ContactRole::Admin, Part::Administrative),
        (ContactRole::Tech, Part::Technical),
    ] {
        for c in domain.contacts.iter().filter(|c| c.role == role) {
            if let Some(contact) = store.contact(&c.id)? {
                contacts.push((part, contact));
            }
        }
    }
    let mut hosts = Vec::new();
    for ns in &domain.nameservers {
        hosts.push((ns.clone(), store.host(ns)?));
    }
    Ok(DomainRecords {
        domain,
        rgp: policy::lifecycle::rgp_status(domain, now),
        registrar: build::registrar_entity(&domain.sponsor, registrar.as_ref(), ctx),
        contacts,
        hosts,
    })
}

fn domain_object(
    store: &Store,
    domain: &Domain,
    entities_path: &str,
    ctx: &Context,
    redacted: &mut Vec<Redacted>,
) -> Result<DomainObject, StoreError> {
    let records = records(store, domain, ctx, ctx.now)?;
    Ok(build::domain_object(records, entities_path, ctx, redacted))
}

/// A name checked against R1 and R3: its stored form and its label, or the
/// answer for a name that cannot be registered.
fn registrable(input: &str, settings: &Settings) -> Result<(String, String), Reply> {
    let Some(ascii) = ascii_name(input) else {
        return Err(bad_request(format!(
            "{input:?} is not a well-formed domain name"
        )));
    };
    match policy::r1_r3_registrable_name(&build::unicode_name(&ascii), settings) {
        Ok(name) => Ok((name.name, name.label)),
        Err(refusal) => {
            let reason = refusal
                .error
                .reason()
                .map_or_else(|| refusal.short.en.clone(), |t| t.en.clone());
            Err(match refusal.error {
                EppError::ValueSyntax(..) => bad_request(reason),
                _ => not_found(format!("{ascii} is not a registrable .ma name: {reason}")),
            })
        }
    }
}

/// `/domain/NAME`.
///
/// # Errors
/// Store failures.
pub fn domain(
    input: &str,
    store: &Store,
    settings: &Settings,
    ctx: &Context,
) -> Result<Reply, StoreError> {
    let (name, label) = match registrable(input, settings) {
        Ok(found) => found,
        Err(answer) => return Ok(answer),
    };
    if let Some(domain) = store.domain(&name)? {
        let mut redacted = Vec::new();
        let object = domain_object(store, &domain, "$.entities", ctx, &mut redacted)?;
        return Ok(reply(200, &ctx.top(object, redacted)));
    }
    Ok(if store.blocked(&label)?.is_some() {
        error(
            404,
            "Blocked name",
            &[format!(
                "{name} is not registered: it is blocked by the registry (R5) and cannot be registered."
            )],
        )
    } else if let Some(category) = store.reserved(&label)? {
        error(
            404,
            "Reserved name",
            &[format!(
                "{name} is not registered: it is reserved ({category}, R4) and can be registered only with the registry's allocation token."
            )],
        )
    } else {
        not_found(format!("{name} is not registered: the name is free."))
    })
}

/// `/nameserver/NAME`.
///
/// # Errors
/// Store failures.
pub fn nameserver(
    input: &str,
    store: &Store,
    settings: &Settings,
    ctx: &Context,
) -> Result<Reply, StoreError> {
    let host_name =
        ascii_name(input).and_then(|ascii| policy::names::host_name(&ascii, settings).ok());
    let Some(host_name) = host_name else {
        return Ok(bad_request(format!(
            "{input:?} is not a well-formed host name"
        )));
    };
    let Some(host) = store.host(&host_name.name)? else {
        return Ok(not_found(format!(
            "{} is not a name server of the registry",
            host_name.name
        )));
    };
    let linked = store.host_linked(&host.name)?;
    let sponsor =
        build::registrar_entity(&host.sponsor, store.registrar(&host.sponsor)?.as_ref(), ctx);
    let object = build::nameserver(&host.name, Some(&host), Some((linked, sponsor)), ctx);
    Ok(reply(200, &ctx.top(object, Vec::new())))
}

/// How many of a contact's domains are read to learn the part it plays.
const CONTACT_DOMAINS_READ: usize = 100;

/// The part a contact plays on the domains that use it, as R16 shows it:
/// administrative or technical contact of one (name, phone, email),
/// else registrant (name or organisation); `None` when it is on none.
fn published_part(store: &Store, contact: &Contact) -> Result<Option<Part>, StoreError> {
    let mut part = None;
    for name in store
        .domains_using_contact(&contact.id)?
        .into_iter()
        .take(CONTACT_DOMAINS_READ)
    {
        let Some(domain) = store.domain(&name)? else {
            continue;
        };
        let listed = domain.contacts.iter().any(|c| {
            c.id == contact.id && matches!(c.role, ContactRole::Admin | ContactRole::Tech)
        });
        if listed {
            return Ok(Some(Part::Contact));
        }
        if domain.registrant == contact.id {
            part = Some(Part::Registrant);
        }
    }
    Ok(part)
}

/// `/entity/HANDLE`: a registrar by clID first, then a contact by id.
///
/// # Errors
/// Store failures.
pub fn entity(handle: &str, store: &Store, ctx: &Context) -> Result<Reply, StoreError> {
    if handle.is_empty() || handle.len() > 64 || handle.chars().any(char::is_control) {
        return Ok(bad_request(format!("{handle:?} is not a handle")));
    }
    if let Some(registrar) = store.registrar(handle)? {
        let mut object = build::registrar_entity(handle, Some(&registrar), ctx);
        object.events.push(json::Event {
            event_action: "registration",
            event_date: registrar
                .created
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        return Ok(reply(200, &ctx.top(object, Vec::new())));
    }
    let published = match store.contact(handle)? {
        Some(contact) => published_part(store, &contact)?.map(|part| (contact, part)),
        None => None,
    };
    let Some((contact, part)) = published else {
        return Ok(not_found(format!(
            "no registrar or published contact has the handle {handle:?}"
        )));
    };
    let mut redacted = Vec::new();
    let mut object = build::contact_entity(&contact, part, "$", ctx, &mut redacted);
    object.roles.clear();
    Ok(reply(200, &ctx.top(object, redacted)))
}

/// `/help`.
pub fn help(settings: &Settings, ctx: &Context) -> Reply {
    let mut description = vec![
        "GET /domain/NAME: a domain of the .ma zones, by its A-label or its Unicode name.".into(),
        "GET /nameserver/NAME: a name server (host object).".into(),
        "GET /entity/HANDLE: a registrar by its clID, or a contact by its id when a domain publishes it.".into(),
    ];
    if settings.rdap.search {
        description.push(format!(
            "GET /domains?name=PATTERN: domains by name, or by a prefix of at least 2 characters and a trailing * (at most {} results).",
            settings.rdap.search_max_results
        ));
    }
    description.push(
        "Free names, and reserved (R4) and blocked (R5) ones, answer 404 with an error body that says which.".into(),
    );
    let mut top = ctx.top(Help {}, Vec::new());
    top.notices.push(Notice {
        title: "Help".into(),
        kind: None,
        description,
        links: vec![ctx.self_link("/help")],
    });
    reply(200, &top)
}

/// The fewest characters before a search's `*`.
const MIN_PREFIX: usize = 2;

/// `/domains?name=PATTERN` (RFC 9082 §3.2.1): a name, or a prefix and a
/// trailing `*`, read by a bounded range over the domains tree.
///
/// # Errors
/// Store failures.
pub fn search(
    query: &HashMap<String, String>,
    store: &Store,
    settings: &Settings,
    ctx: &Context,
) -> Result<Reply, StoreError> {
    if !settings.rdap.search {
        return Ok(error(
            501,
            "Not Implemented",
            &["domain search is not offered by this server".into()],
        ));
    }
    let Some(pattern) = query.get("name") else {
        return Ok(
            if query.contains_key("nsLdhName") || query.contains_key("nsIp") {
                error(
                    501,
                    "Not Implemented",
                    &["only the search of domains by name is offered".into()],
                )
            } else {
                bad_request("the search needs a name=PATTERN parameter".into())
            },
        );
    };
    let limit = usize::try_from(settings.rdap.search_max_results).unwrap_or(1);
    let (found, more) = match pattern.split_once('*') {
        None => match registrable(pattern, settings) {
            Ok((name, _)) => (store.domain(&name)?.into_iter().collect(), false),
            Err(answer) if answer.status == 400 => return Ok(answer),
            Err(_) => (Vec::new(), false),
        },
        Some((prefix, "")) => {
            let prefix = prefix.to_ascii_lowercase();
            let ldh = prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ldh || prefix.len() < MIN_PREFIX {
                return Ok(bad_request(format!(
                    "a partial match is at least {MIN_PREFIX} letters, digits, hyphens or dots (an IDN by its xn-- form) and a trailing *"
                )));
            }
            store.domains_with_prefix(&prefix, limit)?
        }
        Some(_) => {
            return Ok(bad_request(
                "a pattern has at most one *, at its end (RFC 9082 §3.2.1)".into(),
            ));
        }
    };
    let mut redacted = Vec::new();
    let mut results = Vec::with_capacity(found.len());
    for (i, domain) in found.iter().enumerate() {
        let path = format!("$.domainSearchResults[{i}].entities");
        results.push(domain_object(store, domain, &path, ctx, &mut redacted)?);
    }
    let mut top = ctx.top(
        DomainSearch {
            domain_search_results: results,
        },
        redacted,
    );
    if more {
        top.notices.push(Notice {
            title: "Search results truncated".into(),
            kind: Some("result set truncated due to excessive load"),
            description: vec![format!(
                "At most {limit} domains are answered per search; narrow the pattern."
            )],
            links: Vec::new(),
        });
    }
    Ok(reply(200, &top))
}
