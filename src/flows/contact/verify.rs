//! R15, the registry's side: the operator records a contact's identity
//! document (for registrars that do not use the `.ma` extension) and its
//! verification; a domain whose registrant is not verified by the deadline,
//! or whose document is rejected, is suspended (`serverHold`, out of the
//! zone) with a poll message, and the hold is lifted on verification.

use crate::error::EppError;
use crate::flows::common::{Attempt, commit_retrying, contact_not_found};
use crate::flows::domain::expiry::Applied;
use crate::model::{
    Domain, Identity, IdentityDoc, PollMessage, Status, Text, Timestamp, Verification,
};
use crate::policy;
use crate::store::{DueEntry, Effects, Store};

/// What a verification did to the registrant's domains.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HoldChanges {
    /// Domains suspended.
    pub suspended: usize,
    /// Domains whose R15 hold was lifted.
    pub lifted: usize,
}

fn registry_message(
    store: &Store,
    domain: &Domain,
    now: Timestamp,
    text: Text,
    op: &str,
    who: &str,
) -> Result<PollMessage, EppError> {
    crate::flows::registry_notice(
        store,
        &domain.sponsor,
        now,
        text,
        ("update", op),
        who,
        "R15",
    )
}

/// Puts or lifts the R15 hold on one domain; `Ok(false)` when nothing changed.
async fn set_hold(
    store: &Store,
    name: &str,
    hold: bool,
    now: Timestamp,
    who: &str,
    entry: Option<&DueEntry>,
) -> Result<bool, EppError> {
    let changed = commit_retrying(|| async move {
        let Some(old) = store.domain(name)? else {
            return Ok(Attempt::Done(false));
        };
        if old.identity_hold == hold {
            return Ok(Attempt::Done(false));
        }
        let mut new = old.clone();
        new.identity_hold = hold;
        let text = if hold {
            if !new.statuses.contains(&Status::ServerHold) {
                new.statuses.push(Status::ServerHold);
            }
            Text::new(
                format!(
                    "R15: {name} is suspended (serverHold, out of the zone): the identity document of its registrant {} is not verified.",
                    old.registrant
                ),
                format!(
                    "R15 : {name} est suspendu (serverHold, hors de la zone) : la pièce d'identité de son titulaire {} n'est pas vérifiée.",
                    old.registrant
                ),
            )
        } else {
            new.statuses.retain(|s| *s != Status::ServerHold);
            Text::new(
                format!(
                    "R15: the identity of the registrant of {name} is verified; the suspension is lifted."
                ),
                format!(
                    "R15 : l'identité du titulaire de {name} est vérifiée ; la suspension est levée."
                ),
            )
        };
        let op = if hold { "suspend" } else { "unsuspend" };
        let effects = Effects {
            messages: vec![registry_message(store, &new, now, text, op, who)?],
            due_remove: entry.into_iter().cloned().collect(),
            ..Effects::audit(crate::store::registry_audit(
                store,
                now,
                who,
                if hold {
                    "registry:r15-suspend"
                } else {
                    "registry:r15-lift"
                },
            ))
        };
        let attempt = Attempt::of(store.replace_domain_with(&old, &new, &effects), EppError::from)?;
        Ok(attempt.map(|()| true))
    })
    .await?;
    if changed {
        store.durable().await?;
    }
    Ok(changed)
}

/// The agenda's R15 deadline for one domain: suspend it unless its
/// registrant's identity is verified by now.
///
/// # Errors
/// Store failures.
pub async fn identity_deadline(
    store: &Store,
    entry: &DueEntry,
    now: Timestamp,
) -> Result<Applied, EppError> {
    let Some(domain) = store.domain(&entry.name)? else {
        return Ok(Applied::Stale);
    };
    let verification = store
        .contact(&domain.registrant)?
        .and_then(|c| c.identity)
        .map(|i| i.verification);
    let suspends = policy::r15_suspends_at_deadline(policy::identity::R15DeadlineFacts {
        scheduled: entry.at,
        deleted: domain.deleted.is_some(),
        created: domain.created,
        held: domain.identity_hold,
        verification,
    });
    if !suspends {
        return Ok(Applied::Stale);
    }
    if set_hold(store, &domain.name, true, now, "ma-registry", Some(entry)).await? {
        Ok(Applied::Done)
    } else {
        Ok(Applied::Stale)
    }
}

/// The operator records a contact's identity document (state `submitted`).
///
/// # Errors
/// 2303 unknown contact; 2005 a number that does not fit its type.
pub async fn record_identity(
    store: &Store,
    id: &str,
    doc: &IdentityDoc,
    now: Timestamp,
    operator: &str,
) -> Result<(), EppError> {
    let number = policy::r15_identity_document(doc)?;
    let number = &number;
    commit_retrying(|| async move {
        let old = store.contact(id)?.ok_or_else(|| contact_not_found(id))?;
        let mut new = old.clone();
        new.identity = Some(Identity {
            kind: doc.kind,
            number: number.clone(),
            verification: Verification::Submitted,
            since: now,
            note: None,
        });
        new.updated = Some(now);
        let who = format!("operator:{operator}");
        let text = Text::new(
            format!(
                "R15: the registry recorded an identity document ({}) for the contact {id}; it waits for verification.",
                doc.kind.as_str()
            ),
            format!(
                "R15 : le registre a enregistré une pièce d'identité ({}) pour le contact {id} ; elle attend sa vérification.",
                doc.kind.as_str()
            ),
        );
        let effects = crate::store::Effects {
            messages: vec![crate::flows::registry_notice(
                store,
                &old.sponsor,
                now,
                text,
                ("update", "identityRecorded"),
                &who,
                "R15",
            )?],
            ..crate::store::Effects::audit(crate::store::registry_audit(
                store,
                now,
                &who,
                "admin:contact-identity",
            ))
        };
        Attempt::of(store.replace_contact_with(&old, &new, &effects), EppError::from)
    })
    .await?;
    store.durable().await?;
    Ok(())
}

/// The operator records the verification of a contact's identity document
/// (`verified` or `rejected`); the domains it is the registrant of follow:
/// rejected suspends them, verified lifts an R15 hold.
///
/// # Errors
/// 2303 unknown contact; 2304 a contact without an identity document.
pub async fn record_verification(
    store: &Store,
    id: &str,
    verdict: Verification,
    note: Option<&str>,
    now: Timestamp,
    operator: &str,
) -> Result<HoldChanges, EppError> {
    commit_retrying(|| async move {
        let old = store.contact(id)?.ok_or_else(|| contact_not_found(id))?;
        let identity = policy::r15_document_to_verify(id, old.identity.as_ref())?.clone();
        let mut new = old.clone();
        new.identity = Some(Identity {
            verification: verdict,
            since: now,
            note: note.map(str::to_owned),
            ..identity
        });
        let audit = crate::store::registry_audit(
            store,
            now,
            &format!("operator:{operator}"),
            "admin:contact-verify",
        );
        Attempt::of(store.replace_contact(&old, &new, &audit), EppError::from)
    })
    .await?;
    store.durable().await?;
    let mut changes = HoldChanges::default();
    for name in store.domains_using_contact(id)? {
        let Some(domain) = store.domain(&name)? else {
            continue;
        };
        if domain.registrant != id {
            continue;
        }
        let Some(hold) = policy::r15_hold_after_verdict(verdict) else {
            continue;
        };
        if set_hold(
            store,
            &name,
            hold,
            now,
            &format!("operator:{operator}"),
            None,
        )
        .await?
        {
            if hold {
                changes.suspended += 1;
            } else {
                changes.lifted += 1;
            }
        }
    }
    Ok(changes)
}
