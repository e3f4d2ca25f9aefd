//! What keeps writes safe: the write gate, the suspension of writes after a
//! failed write or flush and the recovery that reopens the store, and the
//! durable flushes (group commit on sled).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::engine::{Backend, Engine};
use super::kv::TxFailure;
use super::{ChangeResult, Store, StoreError};

impl Store {
    /// Every write holds this while it runs; a backup or a reopening waits
    /// for them and holds them off (see `backup.rs`). While writes are
    /// suspended it refuses at once: nothing is attempted, nothing changes.
    pub(super) fn write_gate(&self) -> Result<std::sync::RwLockReadGuard<'_, ()>, StoreError> {
        self.writable()?;
        let gate = self
            .inner
            .gate
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A reopening may have suspended writes while this one waited.
        self.writable()?;
        Ok(gate)
    }

    /// `Err(WritesSuspended)` while writes are suspended.
    fn writable(&self) -> Result<(), StoreError> {
        if self.inner.suspended_flag.load(Ordering::Acquire) {
            let reason = self
                .suspension()
                .unwrap_or_else(|| "the store is being reopened".to_owned());
            return Err(StoreError::WritesSuspended(reason));
        }
        Ok(())
    }

    /// Why writes are suspended, if they are.
    pub fn suspension(&self) -> Option<String> {
        self.inner
            .suspended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// How many times the store was reopened after a disk failure since it
    /// opened.
    pub fn reopen_count(&self) -> u64 {
        self.inner.reopened.load(Ordering::Relaxed)
    }

    /// Suspends writes: a write or a flush failed, so sled's memory may hold
    /// changes that are not on disk, and sled (0.34) refuses every write
    /// after its first I/O error. [`Self::recover`] lifts it.
    fn suspend(&self, reason: String) {
        let mut slot = self
            .inner
            .suspended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            tracing::error!(%reason, path = %self.inner.path.display(), "store write failed; writes are suspended until the disk works again");
            *slot = Some(reason);
        }
        self.inner.suspended_flag.store(true, Ordering::Release);
    }

    /// A storage error inside a write: an I/O error leaves the write's
    /// outcome unknown (it may be in sled's memory, or even on disk) and
    /// suspends writes; any other is a plain failure.
    pub(super) fn storage_failed(&self, e: sled::Error) -> StoreError {
        match e {
            sled::Error::Io(_) | sled::Error::Corruption { .. } | sled::Error::ReportableBug(_) => {
                let reason = e.to_string();
                self.suspend(reason.clone());
                StoreError::NotDurable(reason)
            }
            other => StoreError::Sled(other),
        }
    }

    /// A transaction that can only fail, not be refused, and failed.
    pub(super) fn tx_failed(&self, failure: TxFailure) -> StoreError {
        match failure {
            TxFailure::Abort(c) | TxFailure::AbortAt(_, c) => {
                StoreError::Backend(format!("the change was refused: {c:?}"))
            }
            TxFailure::Store(e) => e,
            TxFailure::Sled(e) => self.storage_failed(e),
        }
    }

    /// A change's transaction result: a conflict is the inner `Err`.
    pub(super) fn settle(&self, result: Result<(), TxFailure>) -> ChangeResult {
        match result {
            Ok(()) => Ok(Ok(())),
            Err(TxFailure::Abort(conflict) | TxFailure::AbortAt(_, conflict)) => Ok(Err(conflict)),
            Err(TxFailure::Store(e)) => Err(e),
            Err(TxFailure::Sled(e)) => Err(self.storage_failed(e)),
        }
    }

    /// Lifts a suspension of writes when the disk works again: closes the
    /// failed database and opens it again from what is on disk, which is
    /// the truth (a change that never reached the disk was never
    /// acknowledged). Waits for the writes in flight, holds new ones off
    /// meanwhile, and needs `min_free_bytes` free on the store's file
    /// system. Returns whether writes are allowed again.
    ///
    /// # Errors
    /// The reopening failed; writes stay suspended, and it may be tried again.
    pub fn recover(&self, min_free_bytes: u64) -> Result<bool, StoreError> {
        if !self.inner.suspended_flag.load(Ordering::Acquire) {
            return Ok(true);
        }
        let free = free_bytes(&self.inner.path)
            .map_err(|e| StoreError::Flush(format!("{}: {e}", self.inner.path.display())))?;
        if free < min_free_bytes {
            return Ok(false);
        }
        // The database is taken away only when a write and a sync of some
        // size work again, so a disk still failing does not cost the reads.
        if let Err(e) = probe_writes(&self.inner.path) {
            tracing::debug!(error = %e, "the disk still refuses writes");
            return Ok(false);
        }
        let _exclusive = self
            .inner
            .gate
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.inner.reopening.store(true, Ordering::Release);
        let reopened = self.reopen();
        self.inner.reopening.store(false, Ordering::Release);
        reopened?;
        *self
            .inner
            .suspended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        self.inner.suspended_flag.store(false, Ordering::Release);
        self.inner.reopened.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(path = %self.inner.path.display(), "store reopened from disk; writes are allowed again");
        Ok(true)
    }

    /// Closes the database and opens it again; on failure none is open.
    fn reopen(&self) -> Result<(), StoreError> {
        let old = self
            .inner
            .engine
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        // Reads in flight hold the old database for a moment; sled lets
        // the store go when the last of them ends.
        drop(old);
        let mut attempt = 0;
        let db = loop {
            match sled::Config::new()
                .path(&self.inner.path)
                .cache_capacity(self.inner.cache_bytes)
                .open()
            {
                Ok(db) => break db,
                Err(sled::Error::Io(e)) if attempt < 100 && e.to_string().contains("lock") => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        };
        super::sled_group::recover(&db, &self.inner.path)?;
        let engine = Engine::new(db, &self.inner.path)?;
        engine.flush_now()?;
        *self
            .inner
            .engine
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(engine));
        Ok(())
    }

    /// Waits until everything written before this call is on disk. Concurrent
    /// callers share one flush (group commit).
    ///
    /// # Errors
    /// [`StoreError::Flush`] when the disk flush failed.
    pub async fn durable(&self) -> Result<(), StoreError> {
        let engine = self.engine()?;
        let Backend::Sled { commit, .. } = &engine.backend else {
            // A PostgreSQL commit was durable when it returned.
            return Ok(());
        };
        match commit.durable().await {
            Ok(()) => Ok(()),
            Err(e) => {
                let reason = e.to_string();
                self.suspend(reason.clone());
                Err(StoreError::NotDurable(reason))
            }
        }
    }

    /// Flushes synchronously (for the offline admin CLI).
    ///
    /// # Errors
    /// sled errors.
    pub fn flush_now(&self) -> Result<(), StoreError> {
        let engine = self.engine()?;
        engine.flush_now()
    }

    /// The durable flushes since the store was last opened, and the
    /// seconds they took.
    pub fn flush_stats(&self) -> (u64, f64) {
        self.engine()
            .map_or((0, 0.0), |engine| match &engine.backend {
                Backend::Sled { commit, .. } => {
                    let disk = commit.disk();
                    (disk.count(), disk.flush_seconds())
                }
                Backend::Postgres(database) => database.commit_stats(),
            })
    }

    /// How many disk syncs (`fdatasync` of the log) covered a flush since
    /// the store opened.
    pub fn disk_syncs(&self) -> u64 {
        self.engine().map_or(0, |engine| match &engine.backend {
            Backend::Sled { commit, .. } => commit.disk().count(),
            Backend::Postgres(_) => 0,
        })
    }
}

/// Writes, syncs and removes a 1 MiB file in `dir`: whether the disk takes
/// writes again.
fn probe_writes(dir: &Path) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join("recovery.probe");
    let written = (|| {
        let mut file = std::fs::File::options()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(&vec![0u8; 1 << 20])?;
        file.sync_all()
    })();
    let removed = std::fs::remove_file(&path);
    written.and(removed)
}

/// The bytes free for an unprivileged writer on the file system of `path`.
fn free_bytes(path: &Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(path).map_err(std::io::Error::from)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}
