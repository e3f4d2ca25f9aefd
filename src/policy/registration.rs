//! R2 (restricted zones): what a create in `ac.ma`, `gov.ma` or `press.ma`
//! needs, whether it waits for the registry, and the completion of an
//! incomplete request or its lapse.

use crate::config::Zone;
use crate::error::EppError;
use crate::model::{Status, Text, Timestamp};
use crate::policy::deadlines::r20_business_days_after;

/// R2: business days a sponsor has to complete an incomplete request.
pub const R2_COMPLETION_BUSINESS_DAYS: u32 = 2;

/// What R2 makes of a create that may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateKind {
    /// An open zone: the domain is active at once.
    Immediate,
    /// A restricted zone with a proof reference: the domain is
    /// `pendingCreate` until the registry approves or rejects it.
    WaitsForRegistry,
}

/// R2: a create in a restricted zone must carry the reference of the proof
/// of the registrant's right, and then waits for the registry.
///
/// # Errors
/// 2003 when the zone is restricted and no proof reference is given.
pub fn r2_restricted_create(zone: &Zone, proof_ref: Option<&str>) -> Result<CreateKind, EppError> {
    match (zone.restricted, proof_ref) {
        (false, _) => Ok(CreateKind::Immediate),
        (true, Some(_)) => Ok(CreateKind::WaitsForRegistry),
        (true, None) => Err(EppError::MissingParameter(Text::new(
            format!(
                "R2: {} is a restricted zone; a create there must carry the reference of the proof of the registrant's right (ma:domainCreate/ma:proofRef)",
                zone.name
            ),
            format!(
                "R2 : {} est une zone restreinte ; une création doit y porter la référence du justificatif du droit du demandeur (ma:domainCreate/ma:proofRef)",
                zone.name
            ),
        ))),
    }
}

/// R2: the registry decides (approves, rejects or marks incomplete) only a
/// create that waits for it (`pendingCreate`).
///
/// # Errors
/// 2304 when `name` is not `pendingCreate`.
pub fn r2_waiting_for_registry(name: &str, statuses: &[Status]) -> Result<(), EppError> {
    if statuses.contains(&Status::PendingCreate) {
        return Ok(());
    }
    Err(EppError::StatusProhibits(Text::new(
        format!("R2: {name} is not waiting for the registry"),
        format!("R2 : {name} n'attend pas de décision du registre"),
    )))
}

/// R2: the deadline of a request marked incomplete at `marked`: 2
/// business days (R20) to send the missing proof.
pub fn r2_completion_deadline(marked: Timestamp) -> Timestamp {
    r20_business_days_after(marked, R2_COMPLETION_BUSINESS_DAYS)
}

/// R2: a completion carries the proof reference alone (`alone`: nothing
/// else is changed by the same update).
///
/// # Errors
/// 2306 for other changes in the same update.
pub fn r2_completion_alone(alone: bool) -> Result<(), EppError> {
    if alone {
        return Ok(());
    }
    Err(EppError::Policy(
        Text::new(
            "R2: complete the request with the proof reference alone",
            "R2 : complétez la demande avec la seule référence du justificatif",
        ),
        None,
    ))
}

/// R2: only a request marked incomplete (`deadline`, its completion
/// deadline) may be completed. Returns the deadline the completion lifts.
///
/// # Errors
/// 2304 for a request that is not waiting for a completion.
pub fn r2_awaits_completion(deadline: Option<Timestamp>) -> Result<Timestamp, EppError> {
    deadline.ok_or_else(|| {
        EppError::StatusProhibits(Text::new(
            "R2: the request is not waiting for a completion",
            "R2 : la demande n'attend pas de complément",
        ))
    })
}

/// R2: whether the lapse scheduled at `scheduled` applies: the domain
/// still waits for the registry and still is incomplete with that very
/// deadline (agenda instants are kept to the millisecond).
pub fn r2_lapses(statuses: &[Status], deadline: Option<Timestamp>, scheduled: Timestamp) -> bool {
    statuses.contains(&Status::PendingCreate)
        && deadline.map(|d| d.timestamp_millis()) == Some(scheduled.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str, restricted: bool) -> Zone {
        Zone {
            name: name.to_owned(),
            restricted,
        }
    }

    #[test]
    fn r2_a_restricted_create_without_proof_is_2003() {
        let refusal = r2_restricted_create(&zone("gov.ma", true), None).err();
        assert_eq!(refusal.map(|e| e.result_code().code()), Some(2003));
    }

    #[test]
    fn r2_a_restricted_create_with_proof_waits_for_the_registry() {
        let kind = r2_restricted_create(&zone("ac.ma", true), Some("DEC-2026-17")).ok();
        assert_eq!(kind, Some(CreateKind::WaitsForRegistry));
        let kind = r2_restricted_create(&zone("co.ma", false), None).ok();
        assert_eq!(kind, Some(CreateKind::Immediate));
    }

    fn at(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default()
    }

    fn code<T>(result: Result<T, EppError>) -> Option<u16> {
        result.err().map(|e| e.result_code().code())
    }

    #[test]
    fn r2_a_domain_not_pending_create_is_not_decided_2304() {
        assert_eq!(code(r2_waiting_for_registry("a.gov.ma", &[])), Some(2304));
        assert_eq!(
            code(r2_waiting_for_registry(
                "a.gov.ma",
                &[Status::PendingDelete]
            )),
            Some(2304)
        );
    }

    #[test]
    fn r2_a_pending_create_waits_for_the_registry() {
        assert_eq!(
            code(r2_waiting_for_registry(
                "a.gov.ma",
                &[Status::PendingCreate]
            )),
            None
        );
    }

    #[test]
    fn r2_an_incomplete_request_has_two_business_days() {
        let friday = at("2026-11-20T10:00:00Z");
        assert_eq!(r2_completion_deadline(friday), at("2026-11-24T10:00:00Z"));
    }

    #[test]
    fn r2_a_completion_with_other_changes_is_2306() {
        assert_eq!(code(r2_completion_alone(false)), Some(2306));
    }

    #[test]
    fn r2_a_completion_alone_is_accepted() {
        assert_eq!(code(r2_completion_alone(true)), None);
    }

    #[test]
    fn r2_a_completion_without_an_incomplete_request_is_2304() {
        assert_eq!(code(r2_awaits_completion(None)), Some(2304));
    }

    #[test]
    fn r2_a_completion_lifts_the_deadline_of_the_incomplete_request() {
        let deadline = at("2026-11-24T10:00:00Z");
        assert_eq!(r2_awaits_completion(Some(deadline)).ok(), Some(deadline));
    }

    #[test]
    fn r2_an_incomplete_request_lapses_at_its_deadline() {
        let deadline = at("2026-11-24T10:00:00Z");
        assert!(r2_lapses(
            &[Status::PendingCreate],
            Some(deadline),
            deadline
        ));
    }

    #[test]
    fn r2_a_completed_decided_or_rescheduled_request_does_not_lapse() {
        let deadline = at("2026-11-24T10:00:00Z");
        assert!(!r2_lapses(&[Status::PendingCreate], None, deadline));
        assert!(!r2_lapses(&[], Some(deadline), deadline));
        let later = at("2026-11-26T10:00:00Z");
        assert!(!r2_lapses(&[Status::PendingCreate], Some(later), deadline));
    }
}
