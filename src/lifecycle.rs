//! The life-cycle engine: applies every transition that has come due, read
//! from the store's agenda (never by scanning objects), each in its own
//! transaction and idempotent, so a run may be repeated or cut off half-way.
//! `serve` runs it at start and on an interval; `admin lifecycle run` once.

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::error::EppError;
use crate::flows::domain::expiry::{self, Applied};
use crate::flows::domain::transfer;
use crate::store::{DueKind, Store};

/// What a sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Agenda entries examined.
    pub examined: usize,
    /// Transfers approved at their `acDate`: domains (R12) and contacts.
    pub transfers_approved: usize,
    /// Expiry notices sent (R22).
    pub expiry_notices: usize,
    /// Tacit renewals (R10).
    pub tacit_renewals: usize,
    /// Purges at the end of redemption (R11).
    pub purges: usize,
    /// Suspensions for an unverified registrant identity (R15).
    pub suspensions: usize,
    /// Incomplete restricted-zone requests that lapsed (R2).
    pub lapsed: usize,
    /// Transitions that must wait (e.g. a purge blocked by a host in use).
    pub deferred: usize,
    /// Entries that no longer applied (the object changed meanwhile).
    pub stale: usize,
}

/// Applies everything due at `now`.
///
/// # Errors
/// The first store failure; what was applied before it stays applied.
pub async fn sweep(
    store: &Store,
    now: DateTime<Utc>,
    settings: &crate::config::Settings,
) -> Result<SweepReport, EppError> {
    sweep_at_most(store, now, settings, usize::MAX).await
}

/// [`sweep`], stopping after `limit` agenda entries (a bounded batch; what
/// is left is applied by the next run).
///
/// # Errors
/// The first store failure; what was applied before it stays applied.
pub async fn sweep_at_most(
    store: &Store,
    now: DateTime<Utc>,
    settings: &crate::config::Settings,
    limit: usize,
) -> Result<SweepReport, EppError> {
    let mut report = SweepReport::default();
    for entry in store.due_until(now)?.into_iter().take(limit) {
        report.examined += 1;
        let applied = match entry.kind {
            DueKind::TransferAutoApprove => {
                if transfer::auto_approve(store, &entry.name, now).await? {
                    Applied::Done
                } else {
                    Applied::Stale
                }
            }
            DueKind::ContactTransferAutoApprove => {
                if crate::flows::contact::transfer::auto_approve(store, &entry.name, now).await? {
                    Applied::Done
                } else {
                    Applied::Stale
                }
            }
            DueKind::ExpiryNotice => expiry::expiry_notice(store, &entry, now).await?,
            DueKind::GraceEnd => expiry::tacit_renewal(store, &entry, now, settings).await?,
            DueKind::Purge => expiry::purge(store, &entry, now).await?,
            DueKind::IdentityDeadline => {
                crate::flows::contact::verify::identity_deadline(store, &entry, now).await?
            }
            DueKind::CreateLapse => {
                crate::flows::domain::pending_create::lapse(store, &entry, now).await?
            }
        };
        match applied {
            Applied::Done => {
                info!(object = %entry.name, kind = ?entry.kind, "life-cycle transition applied");
                match entry.kind {
                    DueKind::TransferAutoApprove | DueKind::ContactTransferAutoApprove => {
                        report.transfers_approved += 1;
                    }
                    DueKind::ExpiryNotice => report.expiry_notices += 1,
                    DueKind::GraceEnd => report.tacit_renewals += 1,
                    DueKind::Purge => report.purges += 1,
                    DueKind::IdentityDeadline => report.suspensions += 1,
                    DueKind::CreateLapse => report.lapsed += 1,
                }
            }
            Applied::Deferred => report.deferred += 1,
            Applied::Stale => {
                report.stale += 1;
                store.remove_due(&entry)?;
            }
        }
    }
    if report.examined > 0 {
        store.durable().await?;
    }
    Ok(report)
}

/// Runs [`sweep`] every `interval` until `stop` is cancelled (the server runs
/// the first sweep itself before it accepts connections).
pub async fn run_periodically(
    store: Store,
    clock: crate::clock::Clock,
    settings: crate::config::Settings,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
    stop: tokio_util::sync::CancellationToken,
) {
    let interval = std::time::Duration::from_secs(settings.lifecycle.interval_secs);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        match sweep(&store, clock.now(), &settings).await {
            Ok(report) => report.count_in(&metrics),
            Err(e) => warn!(error = %e, "life-cycle sweep failed"),
        }
    }
}

impl SweepReport {
    /// Adds the transitions to the metrics, by kind.
    pub fn count_in(&self, metrics: &crate::metrics::Metrics) {
        metrics.transitions("transfer_approved", self.transfers_approved);
        metrics.transitions("expiry_notice", self.expiry_notices);
        metrics.transitions("tacit_renewal", self.tacit_renewals);
        metrics.transitions("purge", self.purges);
        metrics.transitions("identity_suspension", self.suspensions);
        metrics.transitions("create_lapsed", self.lapsed);
        metrics.transitions("deferred", self.deferred);
    }
}
