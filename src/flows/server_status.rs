//! The registry's own statuses (`server*`) on any object, set and cleared by
//! the operator: e.g. `serverHold` takes a domain out of the zone,
//! `serverDeleteProhibited` protects a contact. The sponsor is told by poll
//! message with RFC 8590 change data; the change is in the history (R24).

use crate::error::EppError;
use crate::flows::common::{Attempt, commit_retrying, contact_not_found, domain_not_found};
use crate::model::{Status, Text, Timestamp};
use crate::store::{Effects, Store};

/// The kind of object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A domain.
    Domain,
    /// A contact.
    Contact,
    /// A host.
    Host,
}

impl ObjectKind {
    /// Parses `domain`, `contact` or `host`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "domain" => Some(ObjectKind::Domain),
            "contact" => Some(ObjectKind::Contact),
            "host" => Some(ObjectKind::Host),
            _ => None,
        }
    }

    /// The `server*` statuses RFC 5731–5733 define for this kind.
    pub fn server_statuses(self) -> &'static [Status] {
        match self {
            ObjectKind::Domain => &[
                Status::ServerHold,
                Status::ServerUpdateProhibited,
                Status::ServerDeleteProhibited,
                Status::ServerTransferProhibited,
                Status::ServerRenewProhibited,
            ],
            ObjectKind::Contact => &[
                Status::ServerUpdateProhibited,
                Status::ServerDeleteProhibited,
                Status::ServerTransferProhibited,
            ],
            ObjectKind::Host => &[
                Status::ServerUpdateProhibited,
                Status::ServerDeleteProhibited,
            ],
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Domain => "domain",
            ObjectKind::Contact => "contact",
            ObjectKind::Host => "host",
        }
    }
}

/// One operator request on a registry status.
#[derive(Debug, Clone, Copy)]
pub struct StatusChange<'a> {
    /// The kind of object.
    pub kind: ObjectKind,
    /// Its name or id.
    pub name: &'a str,
    /// The `server*` status.
    pub status: Status,
    /// Add (`true`) or remove.
    pub set: bool,
    /// Why, told to the sponsor.
    pub reason: &'a str,
}

fn refusal(en: String, fr: String) -> EppError {
    EppError::StatusProhibits(Text::new(en, fr))
}

/// Adds (`set`) or removes a `server*` status on an object. Removing a
/// `serverHold` the registry put for R15 clears that hold too.
///
/// # Errors
/// 2303 unknown object; 2306 a status this kind does not have, one already
/// present (add) or absent (remove).
pub async fn change(
    store: &Store,
    request: &StatusChange<'_>,
    now: Timestamp,
    operator: &str,
) -> Result<(), EppError> {
    let StatusChange {
        kind,
        name,
        status,
        set,
        reason,
    } = *request;
    if !kind.server_statuses().contains(&status) {
        let allowed: Vec<&str> = kind.server_statuses().iter().map(|s| s.as_str()).collect();
        return Err(EppError::Policy(
            Text::new(
                format!(
                    "{} is not a registry status of a {}; use one of {}",
                    status.as_str(),
                    kind.as_str(),
                    allowed.join(", ")
                ),
                format!(
                    "{} n'est pas un statut du registre pour un {} ; utilisez {}",
                    status.as_str(),
                    kind.as_str(),
                    allowed.join(", ")
                ),
            ),
            None,
        ));
    }
    let who = format!("operator:{operator}");
    let verb = if set { "added" } else { "removed" };
    let text = Text::new(
        format!(
            "The registry {verb} {} on the {} {name}: {reason}",
            status.as_str(),
            kind.as_str()
        ),
        format!(
            "Le registre a {} {} sur le {} {name} : {reason}",
            if set { "ajouté" } else { "retiré" },
            status.as_str(),
            kind.as_str()
        ),
    );
    let command = if set {
        "admin:status-add"
    } else {
        "admin:status-remove"
    };
    let check = |statuses: &[Status]| -> Result<(), EppError> {
        match (set, statuses.contains(&status)) {
            (true, true) => Err(refusal(
                format!("{name} has {} already", status.as_str()),
                format!("{name} a déjà {}", status.as_str()),
            )),
            (false, false) => Err(refusal(
                format!("{name} does not have {}", status.as_str()),
                format!("{name} n'a pas {}", status.as_str()),
            )),
            _ => Ok(()),
        }
    };
    let apply = |statuses: &mut Vec<Status>| {
        if set {
            statuses.push(status);
        } else {
            statuses.retain(|s| *s != status);
        }
    };
    let (who, text) = (&who, &text);
    commit_retrying(|| async move {
        let effects = |sponsor: &str| -> Result<Effects, EppError> {
            Ok(Effects {
                messages: vec![crate::flows::registry_notice(
                    store,
                    sponsor,
                    now,
                    text.clone(),
                    (
                        "update",
                        if set {
                            "serverStatusAdded"
                        } else {
                            "serverStatusRemoved"
                        },
                    ),
                    who,
                    reason,
                )?],
                ..Effects::audit(crate::store::registry_audit(store, now, who, command))
            })
        };
        let result = match kind {
            ObjectKind::Domain => {
                let old = store.domain(name)?.ok_or_else(|| domain_not_found(name))?;
                check(&old.statuses)?;
                let mut new = old.clone();
                apply(&mut new.statuses);
                if !set && status == Status::ServerHold {
                    new.identity_hold = false;
                }
                new.updated = Some(now);
                store.replace_domain_with(&old, &new, &effects(&old.sponsor)?)
            }
            ObjectKind::Contact => {
                let old = store
                    .contact(name)?
                    .ok_or_else(|| contact_not_found(name))?;
                check(&old.statuses)?;
                let mut new = old.clone();
                apply(&mut new.statuses);
                new.updated = Some(now);
                store.replace_contact_with(&old, &new, &effects(&old.sponsor)?)
            }
            ObjectKind::Host => {
                let old = store.host(name)?.ok_or_else(|| {
                    EppError::DoesNotExist(
                        Text::new(
                            format!("the host {name} does not exist"),
                            format!("le serveur de noms {name} n'existe pas"),
                        ),
                        None,
                    )
                })?;
                check(&old.statuses)?;
                let mut new = old.clone();
                apply(&mut new.statuses);
                new.updated = Some(now);
                let users = store.domains_using_host(name)?;
                let effects = effects(&old.sponsor)?;
                store.replace_host_with(&old, &new, &users, &effects.messages, &effects.audit)
            }
        };
        Attempt::of(result, EppError::from)
    })
    .await?;
    store.durable().await?;
    Ok(())
}
