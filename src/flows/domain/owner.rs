//! The registry's decision on a change of registrant (R13): on approval the
//! registrant changes, the creation date becomes the approval date and the
//! expiry the approval date plus one year; on rejection nothing changes.
//! Either way the sponsor gets a `panData` poll message.

use chrono::Months;

use crate::error::EppError;
use crate::flows::common::{Attempt, commit_retrying, domain_not_found, refusal};
use crate::model::{ChangeRecord, PollMessage, PollPayload, Status, Text, Timestamp};
use crate::store::{Effects, Store};

/// Approves (`approve`) or rejects the pending registrant change of `name`.
///
/// # Errors
/// 2303 for an unknown domain; 2301-like refusal (2304) when no change waits.
pub async fn decide(
    store: &Store,
    name: &str,
    approve: bool,
    now: Timestamp,
    operator: &str,
    settings: &crate::config::Settings,
) -> Result<(), EppError> {
    let identity_days = settings.policy.identity_verification_days;
    commit_retrying(|| async move {
        let old = store.domain(name)?.ok_or_else(|| domain_not_found(name))?;
        let Some(pending) = old.pending_owner.clone() else {
            return Err(EppError::StatusProhibits(Text::new(
                format!("R13: {name} has no registrant change waiting"),
                format!("R13 : {name} n'a aucun changement de titulaire en attente"),
            )));
        };
        let mut new = old.clone();
        new.statuses.retain(|s| *s != Status::PendingUpdate);
        new.pending_owner = None;
        let text = if approve {
            new.registrant.clone_from(&pending.registrant);
            new.created = now;
            new.expires = now
                .checked_add_months(Months::new(12))
                .ok_or_else(|| EppError::Internal("date out of range".into()))?;
            new.updated = Some(now);
            Text::new(
                format!(
                    "R13: the change of registrant of {name} to {} is approved; it is registered anew from today for one year.",
                    pending.registrant
                ),
                format!(
                    "R13 : le changement de titulaire de {name} vers {} est approuvé ; le nom est enregistré à nouveau à partir d'aujourd'hui pour un an.",
                    pending.registrant
                ),
            )
        } else {
            Text::new(
                format!(
                    "R13: the change of registrant of {name} to {} is rejected; nothing changes.",
                    pending.registrant
                ),
                format!(
                    "R13 : le changement de titulaire de {name} vers {} est rejeté ; rien ne change.",
                    pending.registrant
                ),
            )
        };
        let message = PollMessage {
            id: store.next_message_id()?,
            registrar: old.sponsor.clone(),
            queued: now,
            text_en: text.en,
            text_fr: text.fr,
            change: Some(ChangeRecord {
                operation: "update".into(),
                op: Some(
                    if approve {
                        "ownerChangeApproved"
                    } else {
                        "ownerChangeRejected"
                    }
                    .into(),
                ),
                date: now,
                sv_trid: store.next_sv_trid(),
                who: format!("operator:{operator}"),
                reason: Some("R13".into()),
            }),
            payload: PollPayload::DomainPendingAction {
                name: old.name.clone(),
                result: approve,
                cl_trid: pending.cl_trid.clone(),
                sv_trid: pending.sv_trid.clone(),
                date: now,
            },
        };
        let charge = if approve {
            crate::flows::common::charge(
                settings,
                &old.sponsor,
                crate::flows::common::zone_of(settings, &old.name),
                crate::config::Billable::Ownership,
                1,
                format!("ownership change {name} 1y"),
                true,
            )
        } else {
            None
        };
        let effects = Effects {
            messages: vec![message],
            charge,
            due_add: if approve {
                let mut agenda = crate::policy::lifecycle::expiry_agenda(&new.name, new.expires);
                agenda.push(crate::policy::lifecycle::r15_identity_deadline(
                    &new.name,
                    now,
                    identity_days,
                ));
                agenda
            } else {
                Vec::new()
            },
            ..Effects::audit(crate::store::registry_audit(
                store,
                now,
                &format!("operator:{operator}"),
                if approve {
                    "admin:owner-approve"
                } else {
                    "admin:owner-reject"
                },
            ))
        };
        Attempt::of(store.replace_domain_with(&old, &new, &effects), |c| {
            refusal(settings, c)
        })
    })
    .await?;
    store.durable().await?;
    Ok(())
}
