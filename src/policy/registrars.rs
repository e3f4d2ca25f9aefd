//! A registrar's standing with the registry: R19 (termination: who may log
//! in, and what becomes of a terminated registrar's domains at the end of
//! their grace) and R21 (the yearly minimum of creates).

use chrono::{Datelike as _, Months};

use crate::model::{RegistrarState, Timestamp};

/// Why R19 refuses a registrar's login. The client gets the one answer
/// every refused login gets; the server's log names the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum R19LoginRefusal {
    /// The registry barred the registrar for a time.
    Suspended,
    /// The registrar's contract ended (R19).
    Terminated,
}

/// R19: only an active registrar may log in.
///
/// # Errors
/// [`R19LoginRefusal`] for a suspended or terminated registrar.
pub fn r19_may_log_in(state: RegistrarState) -> Result<(), R19LoginRefusal> {
    match state {
        RegistrarState::Active => Ok(()),
        RegistrarState::Suspended => Err(R19LoginRefusal::Suspended),
        RegistrarState::Terminated => Err(R19LoginRefusal::Terminated),
    }
}

/// R19, R10's exception: at the end of the grace, the domain of a
/// terminated registrar (one not moved to another registrar) is deleted
/// instead of renewed tacitly. `sponsor` is the sponsor's state, `None`
/// when the registrar record is gone.
pub fn r19_deleted_at_grace_end(sponsor: Option<RegistrarState>) -> bool {
    sponsor == Some(RegistrarState::Terminated)
}

/// R21: the minimum of domains a registrar creates a year.
pub const R21_YEARLY_MINIMUM: u64 = 50;

/// R21: the first month (`YYYY-MM`) of the twelve the report counts: the
/// month of `now` and the eleven before it.
pub fn r21_first_month(now: Timestamp) -> Option<String> {
    now.with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(11)))
        .map(|d| d.format("%Y-%m").to_string())
}

/// R21: whether `created` domains in the last twelve months meet the
/// yearly minimum.
pub fn r21_meets_minimum(created: u64) -> bool {
    created >= R21_YEARLY_MINIMUM
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r19_a_suspended_or_terminated_registrar_may_not_log_in() {
        assert_eq!(
            r19_may_log_in(RegistrarState::Suspended),
            Err(R19LoginRefusal::Suspended)
        );
        assert_eq!(
            r19_may_log_in(RegistrarState::Terminated),
            Err(R19LoginRefusal::Terminated)
        );
    }

    #[test]
    fn r19_an_active_registrar_may_log_in() {
        assert_eq!(r19_may_log_in(RegistrarState::Active), Ok(()));
    }

    #[test]
    fn r19_only_a_terminated_registrars_domain_is_deleted_at_grace_end() {
        assert!(r19_deleted_at_grace_end(Some(RegistrarState::Terminated)));
        assert!(!r19_deleted_at_grace_end(Some(RegistrarState::Active)));
        assert!(!r19_deleted_at_grace_end(Some(RegistrarState::Suspended)));
        assert!(!r19_deleted_at_grace_end(None));
    }

    #[test]
    fn r21_below_fifty_creates_a_year_misses_the_minimum() {
        assert!(!r21_meets_minimum(0));
        assert!(!r21_meets_minimum(49));
    }

    #[test]
    fn r21_fifty_creates_a_year_or_more_meet_the_minimum() {
        assert!(r21_meets_minimum(50));
        assert!(r21_meets_minimum(51));
    }

    #[test]
    fn r21_the_report_counts_the_current_month_and_the_eleven_before() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-31T10:00:00Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok();
        assert_eq!(now.and_then(r21_first_month).as_deref(), Some("2025-04"));
    }
}
