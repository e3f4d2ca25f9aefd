//! The charter's life-cycle periods: R9 renewal grace, R10 tacit renewal,
//! R11 redemption, R22 expiry notice; and the agenda entries that follow
//! from a domain's dates.

use chrono::{Duration, Months};

use crate::model::{Domain, Status, Timestamp};
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

/// R11: when a deleted domain is purged.
pub fn r11_purge_at(deleted: Timestamp) -> Timestamp {
    deleted + Duration::days(R11_REDEMPTION_DAYS)
}

/// R10: the expiry after a tacit renewal, counted from the expiry date.
pub fn r10_tacit_expiry(expires: Timestamp) -> Option<Timestamp> {
    expires.checked_add_months(Months::new(12 * R10_TACIT_YEARS))
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
            at: expires - Duration::days(R22_NOTICE_DAYS),
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
