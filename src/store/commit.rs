//! Group commit: many sessions' writes share one disk flush. A caller that
//! committed a transaction takes a ticket; whoever holds the flush lock
//! flushes everything requested so far, and every caller whose ticket that
//! flush covered returns without flushing again. No background task, so the
//! store closes as soon as its last handle drops.

use std::sync::atomic::{AtomicU64, Ordering};

use super::StoreError;

pub(super) struct GroupCommit {
    db: sled::Db,
    requested: AtomicU64,
    flushed: AtomicU64,
    lock: tokio::sync::Mutex<()>,
}

impl GroupCommit {
    pub(super) fn new(db: sled::Db) -> Self {
        Self {
            db,
            requested: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Returns once every write made before the call is on disk.
    pub(super) async fn durable(&self) -> Result<(), StoreError> {
        let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        if self.flushed.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        let _leader = self.lock.lock().await;
        if self.flushed.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        let target = self.requested.load(Ordering::SeqCst);
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|e| StoreError::Flush(e.to_string()))?
            .map_err(|e| StoreError::Flush(e.to_string()))?;
        self.flushed.fetch_max(target, Ordering::SeqCst);
        Ok(())
    }
}
