//! The life-cycle engine: applies every transition that has come due, read
//! from the store's agenda (never by scanning objects), each in its own
//! transaction and idempotent, so a run may be repeated or cut off half-way.
//! `serve` runs it at start and on an interval; `admin lifecycle run` once.

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::error::EppError;
use crate::flows::domain::transfer;
use crate::store::{DueKind, Store};

/// What a sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Agenda entries examined.
    pub examined: usize,
    /// Transfers approved at their `acDate` (R12).
    pub transfers_approved: usize,
    /// Entries that no longer applied (the object changed meanwhile).
    pub stale: usize,
}

/// Applies everything due at `now`.
///
/// # Errors
/// The first store failure; what was applied before it stays applied.
pub async fn sweep(store: &Store, now: DateTime<Utc>) -> Result<SweepReport, EppError> {
    let mut report = SweepReport::default();
    for entry in store.due_until(now)? {
        report.examined += 1;
        let applied = match entry.kind {
            DueKind::TransferAutoApprove => transfer::auto_approve(store, &entry.name, now).await?,
        };
        if applied {
            report.transfers_approved += 1;
            info!(domain = %entry.name, "transfer approved by the registry at acDate");
        } else {
            report.stale += 1;
            store.remove_due(&entry)?;
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
    interval: std::time::Duration,
    stop: tokio_util::sync::CancellationToken,
) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        if let Err(e) = sweep(&store, clock.now()).await {
            warn!(error = %e, "life-cycle sweep failed");
        }
    }
}
