//! R20 (processing deadlines): business days, and when the registry must
//! have acted on each item that waits for it.

use chrono::{Datelike as _, Duration, Weekday};

use crate::model::Timestamp;
use crate::store::WaitingKind;

/// R20: business days the registry has to decide a restricted create.
pub const R20_CREATE_BUSINESS_DAYS: u32 = 2;
/// R20: days the registry has to decide an ownership change or review a
/// transfer rejection.
pub const R20_DECISION_DAYS: i64 = 5;

fn is_business_day(t: Timestamp) -> bool {
    !matches!(t.weekday(), Weekday::Sat | Weekday::Sun)
}

/// R20: `days` business days (Monday to Friday) after `from`.
pub fn r20_business_days_after(from: Timestamp, days: u32) -> Timestamp {
    let mut t = from;
    let mut left = days;
    while left > 0 {
        t += Duration::days(1);
        if is_business_day(t) {
            left -= 1;
        }
    }
    t
}

/// R20: the business days (Monday to Friday) from `from` to `to`.
pub fn r20_business_days_between(from: Timestamp, to: Timestamp) -> i64 {
    let mut days = 0;
    let mut t = from;
    while t + Duration::days(1) <= to {
        t += Duration::days(1);
        if is_business_day(t) {
            days += 1;
        }
    }
    days
}

/// R20: when the registry must have acted on an item of `kind` waiting
/// since `since`: 2 business days for a restricted create, 5 days for an
/// ownership change, the end of the review (`until`, else 5 days) for a
/// transfer rejection, `identity_days` for an identity document (R15).
pub fn r20_due(
    kind: WaitingKind,
    since: Timestamp,
    until: Option<Timestamp>,
    identity_days: u32,
) -> Timestamp {
    match kind {
        WaitingKind::Create => r20_business_days_after(since, R20_CREATE_BUSINESS_DAYS),
        WaitingKind::Owner => since + Duration::days(R20_DECISION_DAYS),
        WaitingKind::Review => until.unwrap_or(since + Duration::days(R20_DECISION_DAYS)),
        WaitingKind::Identity => since + Duration::days(i64::from(identity_days)),
    }
}

/// R20: whether an item due at `due` is overdue at `now`.
pub fn r20_overdue(due: Timestamp, now: Timestamp) -> bool {
    due < now
}

/// R20 with R12: whether an item still waits for the registry at `now`. A
/// transfer rejection whose review window has passed stands and waits no
/// more; every other item waits until it is decided.
pub fn r20_still_waiting(kind: WaitingKind, until: Option<Timestamp>, now: Timestamp) -> bool {
    kind != WaitingKind::Review || until.is_some_and(|u| now <= u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default()
    }

    #[test]
    fn r20_business_days_skip_weekends() {
        let friday = at("2026-11-20T10:00:00Z");
        let due = r20_business_days_after(friday, 2);
        assert_eq!(due.weekday(), Weekday::Tue);
        assert_eq!(r20_business_days_between(friday, due), 2);
        let wednesday = at("2026-11-18T10:00:00Z");
        assert_eq!(
            r20_business_days_after(wednesday, 2).weekday(),
            Weekday::Fri
        );
    }

    #[test]
    fn r20_a_restricted_create_is_due_two_business_days_later() {
        let friday = at("2026-11-20T10:00:00Z");
        assert_eq!(
            r20_due(WaitingKind::Create, friday, None, 15),
            at("2026-11-24T10:00:00Z")
        );
        assert_eq!(
            r20_due(WaitingKind::Owner, friday, None, 15),
            at("2026-11-25T10:00:00Z")
        );
        assert_eq!(
            r20_due(WaitingKind::Identity, friday, None, 15),
            at("2026-12-05T10:00:00Z")
        );
        let until = at("2026-11-23T00:00:00Z");
        assert_eq!(r20_due(WaitingKind::Review, friday, Some(until), 15), until);
    }

    #[test]
    fn r20_an_item_past_its_due_date_is_overdue() {
        let due = at("2026-11-24T10:00:00Z");
        assert!(r20_overdue(due, at("2026-11-24T10:00:01Z")));
    }

    #[test]
    fn r20_an_item_before_or_at_its_due_date_is_not_overdue() {
        let due = at("2026-11-24T10:00:00Z");
        assert!(!r20_overdue(due, due));
        assert!(!r20_overdue(due, at("2026-11-23T10:00:00Z")));
    }

    #[test]
    fn r20_a_rejection_whose_review_ended_waits_no_more() {
        let until = at("2026-11-25T10:00:00Z");
        assert!(!r20_still_waiting(
            WaitingKind::Review,
            Some(until),
            at("2026-11-25T10:00:01Z")
        ));
        assert!(!r20_still_waiting(WaitingKind::Review, None, until));
    }

    #[test]
    fn r20_other_items_wait_until_decided() {
        let now = at("2027-01-01T00:00:00Z");
        assert!(r20_still_waiting(WaitingKind::Create, None, now));
        assert!(r20_still_waiting(
            WaitingKind::Review,
            Some(at("2027-01-02T00:00:00Z")),
            now
        ));
    }
}
