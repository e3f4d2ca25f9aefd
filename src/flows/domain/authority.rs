//! The registry's orders on a domain: R5(b) deletion by order of the
//! authorities (the name leaves the zone at once, skips redemption, is
//! blocked, and the sponsor is told) and R18 disputes (while a dispute is
//! open every change answers 2304; closing it applies the decision).

use crate::error::EppError;
use crate::flows::common::{Attempt, commit_retrying, domain_not_found};
use crate::model::{Domain, PollMessage, Text, Timestamp};
use crate::policy::disputes;
use crate::policy::terms::normalize_term;
use crate::store::{Conflict, Effects, Store};

/// A poll message about an operator's order, with its RFC 8590 change data;
/// `change` is the operation and its finer description.
fn message(
    store: &Store,
    registrar: &str,
    now: Timestamp,
    text: Text,
    change: (&str, &str),
    operator: &str,
    reason: &str,
) -> Result<PollMessage, EppError> {
    crate::flows::registry_notice(
        store,
        registrar,
        now,
        text,
        change,
        &format!("operator:{operator}"),
        reason,
    )
}

/// R5(b): deletes a domain on a written order of the authorities, blocks its
/// label, and tells the sponsor with the order's reference and reason.
///
/// # Errors
/// 2303 unknown domain; 2305 a subordinate host still delegated to elsewhere.
pub async fn delete_by_order(
    store: &Store,
    name: &str,
    order: &str,
    reason: &str,
    now: Timestamp,
    operator: &str,
) -> Result<(), EppError> {
    let deleted = commit_retrying(|| async move {
        let old = store.domain(name)?.ok_or_else(|| domain_not_found(name))?;
        let text = Text::new(
            format!(
                "R5: {name} was deleted by order of the authorities ({order}): {reason}. The name is blocked."
            ),
            format!(
                "R5 : {name} a été supprimé sur ordre des autorités ({order}) : {reason}. Le nom est bloqué."
            ),
        );
        let effects = Effects {
            messages: vec![message(
                store,
                &old.sponsor,
                now,
                text,
                ("delete", "byOrder"),
                operator,
                order,
            )?],
            ..Effects::audit(crate::store::registry_audit(
                store,
                now,
                &format!("operator:{operator}"),
                "admin:delete-by-order",
            ))
        };
        let attempt = Attempt::of(store.delete_domain_with(&old, &effects), |conflict| {
            match conflict {
                Conflict::HostInUse(host) => EppError::AssociationProhibits(Text::new(
                    format!(
                        "{host}, subordinate to {name}, is a name server of another domain; remove it there first"
                    ),
                    format!(
                        "{host}, subordonné à {name}, est serveur de noms d'un autre domaine ; retirez-le d'abord"
                    ),
                )),
                other => other.into(),
            }
        })?;
        Ok(attempt.map(|()| old.name))
    })
    .await?;
    let label = deleted.split('.').next().unwrap_or("");
    let label = normalize_term(label).unwrap_or_else(|| label.to_owned());
    store.put_blocked(
        &label,
        &format!("order {order}: {reason}"),
        &crate::store::registry_audit(
            store,
            now,
            &format!("operator:{operator}"),
            "admin:delete-by-order",
        ),
    )?;
    store.durable().await?;
    Ok(())
}

/// How an operator closes a dispute (R18).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisputeDecision {
    /// Nothing changes.
    Keep,
    /// The domain moves to another registrar and registrant.
    Move {
        /// The new sponsor.
        registrar: String,
        /// The new registrant contact.
        registrant: String,
    },
    /// The domain is deleted (as by order, R5(b)).
    Delete,
}

/// R18: opens a dispute: the domain stays active and in the zone, but every
/// change answers 2304 until it is closed.
///
/// # Errors
/// 2303 unknown domain; 2304 already under dispute.
pub async fn open_dispute(
    store: &Store,
    name: &str,
    reason: &str,
    now: Timestamp,
    operator: &str,
) -> Result<(), EppError> {
    commit_retrying(|| async move {
        let old = store.domain(name)?.ok_or_else(|| domain_not_found(name))?;
        disputes::r18_may_open(name, old.dispute.is_some())?;
        let mut new = old.clone();
        new.dispute = Some(now);
        new.statuses = disputes::r18_disputed_statuses(&old.statuses);
        let text = Text::new(
            format!(
                "R18: a dispute on {name} is open ({reason}); the domain stays active but cannot be changed until it is closed."
            ),
            format!(
                "R18 : un litige est ouvert sur {name} ({reason}) ; le domaine reste actif mais ne peut être modifié avant sa clôture."
            ),
        );
        let effects = Effects {
            messages: vec![message(
                store,
                &old.sponsor,
                now,
                text,
                ("update", "disputeOpened"),
                operator,
                reason,
            )?],
            ..Effects::audit(crate::store::registry_audit(
                store,
                now,
                &format!("operator:{operator}"),
                "admin:dispute-open",
            ))
        };
        Attempt::of(store.replace_domain_with(&old, &new, &effects), EppError::from)
    })
    .await?;
    store.durable().await?;
    Ok(())
}

/// R18: closes a dispute and applies the decision.
///
/// # Errors
/// 2303 unknown domain or contact; 2304 no dispute open.
pub async fn close_dispute(
    store: &Store,
    name: &str,
    decision: &DisputeDecision,
    now: Timestamp,
    operator: &str,
) -> Result<(), EppError> {
    let delete = commit_retrying(|| async move {
        let old = store.domain(name)?.ok_or_else(|| domain_not_found(name))?;
        disputes::r18_may_close(name, old.dispute.is_some())?;
        if *decision == DisputeDecision::Delete {
            // Lift the dispute first, then delete as by order.
            let mut lifted = old.clone();
            lifted.dispute = None;
            lift_statuses(&mut lifted);
            let effects = Effects::audit(crate::store::registry_audit(
                store,
                now,
                &format!("operator:{operator}"),
                "admin:dispute-close",
            ));
            let attempt =
                Attempt::of(store.replace_domain_with(&old, &lifted, &effects), EppError::from)?;
            return Ok(attempt.map(|()| true));
        }
        let mut new = old.clone();
        new.dispute = None;
        lift_statuses(&mut new);
        let mut messages = Vec::new();
        let (en, fr) = match decision {
            DisputeDecision::Move {
                registrar,
                registrant,
            } => {
                if store.registrar(registrar)?.is_none() {
                    return Err(EppError::DoesNotExist(
                        Text::new(
                            format!("no registrar {registrar}"),
                            format!("aucun prestataire {registrar}"),
                        ),
                        None,
                    ));
                }
                if !store.contact_exists(registrant)? {
                    return Err(crate::flows::common::contact_not_found(registrant));
                }
                new.sponsor.clone_from(registrar);
                new.registrant.clone_from(registrant);
                new.transferred = Some(now);
                new.auth = Some(crate::flows::auth::regenerated_auth_info(now));
                (
                    format!(
                        "R18: the dispute on {name} is closed: the domain moves to {registrar}, registrant {registrant}."
                    ),
                    format!(
                        "R18 : le litige sur {name} est clos : le domaine passe à {registrar}, titulaire {registrant}."
                    ),
                )
            }
            _ => (
                format!("R18: the dispute on {name} is closed; the domain stays as it is."),
                format!("R18 : le litige sur {name} est clos ; le domaine reste en l'état."),
            ),
        };
        let text = Text::new(en, fr);
        messages.push(message(
            store,
            &old.sponsor,
            now,
            text.clone(),
            ("update", "disputeClosed"),
            operator,
            "R18",
        )?);
        if new.sponsor != old.sponsor {
            messages.push(message(
                store,
                &new.sponsor,
                now,
                text,
                ("transfer", "disputeDecision"),
                operator,
                "R18",
            )?);
        }
        let effects = Effects {
            messages,
            ..Effects::audit(crate::store::registry_audit(
                store,
                now,
                &format!("operator:{operator}"),
                "admin:dispute-close",
            ))
        };
        // A registrant gone meanwhile (`MissingContact`) is the usual 2303.
        let attempt = Attempt::of(store.replace_domain_with(&old, &new, &effects), EppError::from)?;
        Ok(attempt.map(|()| false))
    })
    .await?;
    if delete {
        return delete_by_order(store, name, "R18", "dispute decision", now, operator).await;
    }
    store.durable().await?;
    Ok(())
}

fn lift_statuses(domain: &mut Domain) {
    domain
        .statuses
        .retain(|s| !disputes::DISPUTE_STATUSES.contains(s));
}
