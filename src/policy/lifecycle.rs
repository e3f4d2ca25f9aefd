//! The charter's life-cycle periods: R9 renewal grace, R10 tacit renewal,
//! R11 deletion and redemption, R22 expiry notice; and the agenda entries
//! that follow from a domain's dates.

use chrono::{Duration, Months};

use crate::error::EppError;
use crate::model::{Domain, Status, Text, Timestamp};
use crate::policy::statuses;
use crate::store::{DueEntry, DueKind};

/// R9: days of renewal grace after the expiry date.
pub const R9_GRACE_DAYS: i64 = 30;
/// R11: days of redemption after a delete.
pub const R11_REDEMPTION_DAYS: i64 = 30;
/// R22: days before the expiry date the sponsor is told.
pub const R22_NOTICE_DAYS: i64 = 30;
/// R10: years a tacit renewal adds.
pub const R10_TACIT_YEARS: u32 = 1;

/// R9: whether the domain is in its renewal grace (RFC 3915 `autoRenewPeriod`).
pub fn r9_in_grace(domain: &Domain, now: Timestamp) -> bool {
    domain.deleted.is_none()
        && now > domain.expires
        && now <= domain.expires + Duration::days(R9_GRACE_DAYS)
}

/// R11: whether the domain is in redemption (RFC 3915 `redemptionPeriod`).
pub fn r11_in_redemption(domain: &Domain) -> bool {
    domain.deleted.is_some() && domain.statuses.contains(&Status::PendingDelete)
}

/// R11: the statuses that refuse a delete (2304).
pub const R11_DELETE_BLOCKING: [Status; 6] = [
    Status::ClientDeleteProhibited,
    Status::ServerDeleteProhibited,
    Status::PendingDelete,
    Status::PendingTransfer,
    Status::PendingCreate,
    Status::PendingUpdate,
];

/// R11: a domain may be deleted unless a status prohibits it or one of its
/// subordinate hosts is a name server of another domain
/// (`hosts_used_elsewhere`, the first of which the refusal names).
///
/// # Errors
/// 2304 for a `*DeleteProhibited` or `pending*` status; 2305 for a
/// subordinate host used by another domain.
pub fn r11_may_delete(
    statuses: &[Status],
    hosts_used_elsewhere: &[String],
) -> Result<(), EppError> {
    statuses::verify_not_prohibited(statuses, &R11_DELETE_BLOCKING, "delete (R11)")?;
    if let Some(sub) = hosts_used_elsewhere.first() {
        return Err(EppError::AssociationProhibits(Text::new(
            format!(
                "R11: the subordinate host {sub} is a name server of another domain; remove it there first"
            ),
            format!(
                "R11 : l'hôte subordonné {sub} est serveur de noms d'un autre domaine ; retirez-le d'abord"
            ),
        )));
    }
    Ok(())
}

/// R11: when a deleted domain is purged.
pub fn r11_purge_at(deleted: Timestamp) -> Timestamp {
    deleted + Duration::days(R11_REDEMPTION_DAYS)
}

/// R10: the expiry after a tacit renewal, counted from the expiry date.
pub fn r10_tacit_expiry(expires: Timestamp) -> Option<Timestamp> {
    expires.checked_add_months(Months::new(12 * R10_TACIT_YEARS))
}

/// R22: when the sponsor is told of the expiry on `expires`.
pub fn r22_notice_at(expires: Timestamp) -> Timestamp {
    expires - Duration::days(R22_NOTICE_DAYS)
}

/// R22: whether the notice scheduled at `scheduled` is still to be sent:
/// the domain is not deleted and its expiry date is still the one the
/// notice was scheduled for (agenda instants are kept to the millisecond).
pub fn r22_notice_due(deleted: bool, expires: Timestamp, scheduled: Timestamp) -> bool {
    !deleted && r22_notice_at(expires).timestamp_millis() == scheduled.timestamp_millis()
}

/// The RFC 3915 grace status to show, if any.
pub fn rgp_status(domain: &Domain, now: Timestamp) -> Option<&'static str> {
    if r11_in_redemption(domain) {
        Some("redemptionPeriod")
    } else if r9_in_grace(domain, now) {
        Some("autoRenewPeriod")
    } else {
        None
    }
}

/// The agenda that follows from an expiry date: the R22 notice and the end
/// of the R9 grace (when R10 applies).
pub fn expiry_agenda(name: &str, expires: Timestamp) -> Vec<DueEntry> {
    vec![
        DueEntry {
            at: r22_notice_at(expires),
            kind: DueKind::ExpiryNotice,
            name: name.to_owned(),
        },
        DueEntry {
            at: expires + Duration::days(R9_GRACE_DAYS),
            kind: DueKind::GraceEnd,
            name: name.to_owned(),
        },
    ]
}

/// R15: the agenda entry by which a domain's registrant must be verified.
pub fn r15_identity_deadline(name: &str, from: Timestamp, days: u32) -> DueEntry {
    DueEntry {
        at: from + Duration::days(i64::from(days)),
        kind: DueKind::IdentityDeadline,
        name: name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default()
    }

    fn code(result: Result<(), EppError>) -> Option<u16> {
        result.err().map(|e| e.result_code().code())
    }

    #[test]
    fn r10_a_tacit_renewal_adds_one_year_to_the_expiry() {
        assert_eq!(
            r10_tacit_expiry(at("2027-04-22T12:00:00Z")),
            Some(at("2028-04-22T12:00:00Z"))
        );
        // From 29 February, the renewal ends on the last day of February.
        assert_eq!(
            r10_tacit_expiry(at("2028-02-29T00:00:00Z")),
            Some(at("2029-02-28T00:00:00Z"))
        );
    }

    #[test]
    fn r11_purge_comes_thirty_days_after_the_delete() {
        assert_eq!(
            r11_purge_at(at("2027-01-10T08:00:00Z")),
            at("2027-02-09T08:00:00Z")
        );
    }

    #[test]
    fn r15_the_identity_deadline_is_the_given_days_after_the_create() {
        let entry = r15_identity_deadline("exemple.ma", at("2027-01-10T08:00:00Z"), 15);
        assert_eq!(entry.at, at("2027-01-25T08:00:00Z"));
        assert_eq!(entry.kind, DueKind::IdentityDeadline);
        assert_eq!(entry.name, "exemple.ma");
    }

    #[test]
    fn r11_a_delete_prohibited_or_pending_domain_is_2304() {
        for status in R11_DELETE_BLOCKING {
            assert_eq!(code(r11_may_delete(&[status], &[])), Some(2304));
        }
    }

    #[test]
    fn r11_a_subordinate_host_used_elsewhere_is_2305() {
        let used = vec!["ns1.exemple.ma".to_owned()];
        assert_eq!(code(r11_may_delete(&[], &used)), Some(2305));
        // The status refusal comes first.
        assert_eq!(
            code(r11_may_delete(&[Status::ClientDeleteProhibited], &used)),
            Some(2304)
        );
    }

    #[test]
    fn r11_a_domain_without_obstacle_may_be_deleted() {
        assert_eq!(code(r11_may_delete(&[], &[])), None);
        assert_eq!(
            code(r11_may_delete(
                &[Status::ClientHold, Status::ClientTransferProhibited],
                &[]
            )),
            None
        );
    }

    #[test]
    fn r22_the_notice_is_due_thirty_days_before_the_expiry_it_was_made_for() {
        let expires = at("2027-04-22T12:00:00Z");
        let scheduled = r22_notice_at(expires);
        assert_eq!(scheduled, at("2027-03-23T12:00:00Z"));
        assert!(r22_notice_due(false, expires, scheduled));
    }

    #[test]
    fn r22_no_notice_for_a_deleted_or_renewed_domain() {
        let expires = at("2027-04-22T12:00:00Z");
        let scheduled = r22_notice_at(expires);
        assert!(!r22_notice_due(true, expires, scheduled));
        let renewed = at("2028-04-22T12:00:00Z");
        assert!(!r22_notice_due(false, renewed, scheduled));
    }
}
