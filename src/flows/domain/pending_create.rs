//! The registry's decision on a create in a restricted zone (R2): approve
//! (the domain becomes active, in the zone), reject (the name is free again),
//! or mark incomplete (the sponsor has 2 business days to send the missing
//! proof by `domain:update`, else the request lapses). The sponsor learns
//! each decision by a `panData` poll message.

use crate::error::EppError;
use crate::flows::common::{Attempt, commit_retrying, domain_not_found};
use crate::model::{ChangeRecord, PollMessage, PollPayload, Status, Text, Timestamp};
use crate::policy::registration::{r2_completion_deadline, r2_lapses, r2_waiting_for_registry};
use crate::store::{Charge, Effects, Store};

/// The operator's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The proof is accepted.
    Approve,
    /// The proof is refused; the name is free again.
    Reject(String),
}

/// R2: the operator marks a pending create incomplete, saying what is
/// missing; the sponsor has 2 business days to send it by `domain:update`
/// (`ma:update/ma:proofRef`), else the request lapses.
///
/// # Errors
/// 2303 unknown domain; 2304 not `pendingCreate`.
pub async fn mark_incomplete(
    store: &Store,
    name: &str,
    missing: &str,
    now: Timestamp,
    operator: &str,
) -> Result<Timestamp, EppError> {
    let deadline = commit_retrying(|| async move {
        let old = store.domain(name)?.ok_or_else(|| domain_not_found(name))?;
        r2_waiting_for_registry(name, &old.statuses)?;
        let deadline = r2_completion_deadline(now);
        let mut new = old.clone();
        new.incomplete = Some((missing.to_owned(), deadline));
        let date = deadline.format("%Y-%m-%d %H:%M UTC");
        let text = Text::new(
            format!(
                "R2: the request for {name} is incomplete: {missing}. Send the missing proof by domain:update (ma:update/ma:proofRef) before {date}, or the request lapses."
            ),
            format!(
                "R2 : la demande pour {name} est incomplète : {missing}. Envoyez le justificatif manquant par domain:update (ma:update/ma:proofRef) avant le {date}, sinon la demande devient caduque."
            ),
        );
        let message = PollMessage {
            id: store.next_message_id()?,
            registrar: old.sponsor.clone(),
            queued: now,
            text_en: text.en,
            text_fr: text.fr,
            payload: PollPayload::None,
            change: Some(ChangeRecord {
                operation: "create".into(),
                op: Some("incomplete".into()),
                date: now,
                sv_trid: store.next_sv_trid(),
                who: format!("operator:{operator}"),
                reason: Some("R2".into()),
            }),
        };
        let effects = Effects {
            messages: vec![message],
            due_add: vec![lapse_entry(name, deadline)],
            ..Effects::audit(crate::store::registry_audit(
                store,
                now,
                &format!("operator:{operator}"),
                "admin:create-incomplete",
            ))
        };
        Ok(Attempt::of(store.replace_domain_with(&old, &new, &effects), EppError::from)?
            .map(|()| deadline))
    })
    .await?;
    store.durable().await?;
    Ok(deadline)
}

/// The agenda entry at which an incomplete request lapses.
pub fn lapse_entry(name: &str, at: Timestamp) -> crate::store::DueEntry {
    crate::store::DueEntry {
        at,
        kind: crate::store::DueKind::CreateLapse,
        name: name.to_owned(),
    }
}

/// R2: an incomplete request not completed by its deadline lapses: the
/// name is free again and the sponsor is told.
///
/// # Errors
/// Store failures.
pub async fn lapse(
    store: &Store,
    entry: &crate::store::DueEntry,
    now: Timestamp,
) -> Result<crate::flows::domain::expiry::Applied, EppError> {
    use crate::flows::domain::expiry::Applied;
    let applied = commit_retrying(|| async move {
        let Some(old) = store.domain(&entry.name)? else {
            return Ok(Attempt::Done(Applied::Stale));
        };
        let deadline = old.incomplete.as_ref().map(|(_, at)| *at);
        if !r2_lapses(&old.statuses, deadline, entry.at) {
            return Ok(Attempt::Done(Applied::Stale));
        }
        let text = Text::new(
            format!(
                "R2: the request for {} lapsed: it was not completed in time. The name is free.",
                old.name
            ),
            format!(
                "R2 : la demande pour {} est caduque : elle n'a pas été complétée à temps. Le nom est libre.",
                old.name
            ),
        );
        let message = PollMessage {
            id: store.next_message_id()?,
            registrar: old.sponsor.clone(),
            queued: now,
            text_en: text.en,
            text_fr: text.fr,
            payload: PollPayload::DomainPendingAction {
                name: old.name.clone(),
                result: false,
                cl_trid: None,
                sv_trid: store.next_sv_trid(),
                date: now,
            },
            change: Some(ChangeRecord {
                operation: "delete".into(),
                op: Some("lapsed".into()),
                date: now,
                sv_trid: store.next_sv_trid(),
                who: "ma-registry".into(),
                reason: Some("R2: request lapsed".into()),
            }),
        };
        let effects = Effects {
            messages: vec![message],
            due_remove: vec![entry.clone()],
            charge: create_refund(store, &old, "R2 request lapsed")?,
            ..Effects::audit(crate::store::registry_audit(
                store,
                now,
                "ma-registry",
                "lifecycle:create-lapse",
            ))
        };
        Ok(Attempt::of(store.delete_domain_with(&old, &effects), EppError::from)?
            .map(|()| Applied::Done))
    })
    .await?;
    if applied == Applied::Done {
        store.durable().await?;
    }
    Ok(applied)
}

/// R2/R23: the refund of the create fee of a pending create that ends
/// without a domain (rejected or lapsed): the ledger entry the create paid
/// is credited back to its sponsor, in the transaction that frees the name.
fn create_refund(
    store: &Store,
    old: &crate::model::Domain,
    why: &str,
) -> Result<Option<Charge>, EppError> {
    let history = store.history("domain", &old.name)?;
    let Some(create) = history
        .iter()
        .rev()
        .find(|h| h.audit.command == "domain:create")
    else {
        return Ok(None);
    };
    let Some(paid) = store.ledger_entry_for(&old.sponsor, &create.audit.sv_trid)? else {
        return Ok(None);
    };
    if paid.amount >= 0 {
        return Ok(None);
    }
    Ok(Some(Charge {
        registrar: old.sponsor.clone(),
        amount: paid.amount,
        description: format!("refund create {} ({why})", old.name),
        allow_negative: true,
    }))
}

/// Applies the operator's decision on the pending create of `name`.
///
/// # Errors
/// 2303 unknown domain; 2304 when the domain is not `pendingCreate`.
pub async fn decide(
    store: &Store,
    name: &str,
    decision: Decision,
    now: Timestamp,
    operator: &str,
) -> Result<(), EppError> {
    let decision = &decision;
    commit_retrying(|| async move {
        let old = store.domain(name)?.ok_or_else(|| domain_not_found(name))?;
        r2_waiting_for_registry(name, &old.statuses)?;
        let approved = *decision == Decision::Approve;
        let text = match decision {
            Decision::Approve => Text::new(
                format!("R2: the creation of {name} is approved; the domain is active."),
                format!("R2 : la création de {name} est approuvée ; le domaine est actif."),
            ),
            Decision::Reject(reason) => Text::new(
                format!("R2: the creation of {name} is rejected: {reason}. The name is free."),
                format!("R2 : la création de {name} est rejetée : {reason}. Le nom est libre."),
            ),
        };
        let message = PollMessage {
            id: store.next_message_id()?,
            registrar: old.sponsor.clone(),
            queued: now,
            text_en: text.en,
            text_fr: text.fr,
            payload: PollPayload::DomainPendingAction {
                name: old.name.clone(),
                result: approved,
                cl_trid: None,
                sv_trid: store.next_sv_trid(),
                date: now,
            },
            change: Some(ChangeRecord {
                operation: "create".into(),
                op: Some(if approved { "approved" } else { "rejected" }.into()),
                date: now,
                sv_trid: store.next_sv_trid(),
                who: format!("operator:{operator}"),
                reason: Some("R2".into()),
            }),
        };
        let effects = Effects {
            messages: vec![message],
            charge: if approved {
                None
            } else {
                create_refund(store, &old, "R2 request rejected")?
            },
            ..Effects::audit(crate::store::registry_audit(
                store,
                now,
                &format!("operator:{operator}"),
                if approved {
                    "admin:create-approve"
                } else {
                    "admin:create-reject"
                },
            ))
        };
        let result = if approved {
            let mut new = old.clone();
            new.statuses.retain(|s| *s != Status::PendingCreate);
            new.updated = Some(now);
            store.replace_domain_with(&old, &new, &effects)
        } else {
            store.delete_domain_with(&old, &effects)
        };
        Attempt::of(result, EppError::from)
    })
    .await?;
    store.durable().await?;
    Ok(())
}
