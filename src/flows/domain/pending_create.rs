//! The registry's decision on a create in a restricted zone (R2): approve
//! (the domain becomes active, in the zone), reject (the name is free again),
//! or mark incomplete (the sponsor has 2 business days to send the missing
//! proof by `domain:update`, else the request lapses). The sponsor learns
//! each decision by a `panData` poll message.

use chrono::{Datelike, Duration, Weekday};

use crate::error::EppError;
use crate::flows::common::{RETRIES, contention, domain_not_found};
use crate::model::{ChangeRecord, PollMessage, PollPayload, Status, Text, Timestamp};
use crate::store::{Conflict, Effects, Store};

/// The operator's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The proof is accepted.
    Approve,
    /// The proof is refused; the name is free again.
    Reject(String),
}

/// R20: `days` business days (Monday to Friday) after `from`.
pub fn business_days_after(from: Timestamp, days: u32) -> Timestamp {
    let mut t = from;
    let mut left = days;
    while left > 0 {
        t += Duration::days(1);
        if !matches!(t.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    t
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
    for _ in 0..RETRIES {
        let old = store.domain(name)?.ok_or_else(|| domain_not_found(name))?;
        if !old.statuses.contains(&Status::PendingCreate) {
            return Err(EppError::StatusProhibits(Text::new(
                format!("R2: {name} is not waiting for the registry"),
                format!("R2 : {name} n'attend pas de décision du registre"),
            )));
        }
        let approved = decision == Decision::Approve;
        let text = match &decision {
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
                who: operator.to_owned(),
                reason: Some("R2".into()),
            }),
        };
        let effects = Effects {
            messages: vec![message],
            ..Effects::audit(crate::flows::registry_audit(
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
            store.replace_domain_with(&old, &new, &effects)?
        } else {
            store.delete_domain_with(&old, &effects)?
        };
        match result {
            Ok(()) => {
                store.durable().await?;
                return Ok(());
            }
            Err(Conflict::Changed) => continue,
            Err(other) => return Err(EppError::Internal(format!("unexpected {other:?}"))),
        }
    }
    Err(contention())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r20_business_days_skip_weekends() {
        let friday = chrono::DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let due = business_days_after(friday, 2);
        assert_eq!(due.weekday(), Weekday::Tue);
    }
}
