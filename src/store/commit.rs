//! Group commit: many sessions' writes share one disk flush. A caller that
//! committed a transaction takes a ticket and wakes the flusher, a thread
//! of the store's own that flushes everything requested so far, then
//! everything requested meanwhile, back to back, for as long as tickets
//! come; every caller whose ticket a flush covered returns without
//! flushing again. The thread stops when the store closes.
//!
//! A flush first applies the transactions committed since the last one
//! (`sled_group.rs`), then makes them durable against a power cut, not
//! only a crash: sled (0.34) writes its log with `sync_file_range`, which
//! neither flushes the disk's write cache nor records a grown file's size,
//! so every flush ends with an `fdatasync` of the log file (and an `fsync`
//! of any new blob file and of the blob directory). That sync covers every
//! write the flush covered.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::StoreError;
use super::sled_group::GroupWriter;

pub(super) struct GroupCommit {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What the callers and the flusher thread share.
struct Shared {
    db: sled::Db,
    disk: Arc<DiskSync>,
    /// Tickets taken.
    requested: AtomicU64,
    /// Every ticket up to this one is durable.
    flushed: AtomicU64,
    /// `u64::MAX` once a flush failed (for `failure`): every ticket not
    /// covered by then fails, and no flush is tried again.
    failed: AtomicU64,
    failure: Mutex<String>,
    /// Whether the flusher waits for a ticket (a caller wakes it then).
    sleeping: AtomicBool,
    /// Whether the store closes.
    state: Mutex<bool>,
    wake: Condvar,
    /// A flush ended.
    done: tokio::sync::Notify,
}

/// The files a sync must cover: sled's log, and the value files under
/// `blobs/` (with those already synced).
pub(crate) struct LogFiles {
    log: File,
    log_path: PathBuf,
    blobs: PathBuf,
    synced_blobs: Mutex<HashSet<std::ffi::OsString>>,
}

/// The files a flush must sync, its counters, and the durable mark.
pub(super) struct DiskSync {
    files: Arc<LogFiles>,
    syncs: AtomicU64,
    /// Time spent in flushes, nanoseconds.
    flush_nanos: AtomicU64,
    /// The history tree, whose chain head each flush records in `mark`.
    history: sled::Tree,
    mark: DurableMark,
    /// The transactions committed and not yet applied to sled, which a
    /// flush applies first.
    writer: Arc<GroupWriter>,
}

impl LogFiles {
    /// Opens the log file of the sled store in `dir`.
    pub(super) fn open(dir: &Path) -> Result<Self, StoreError> {
        let log_path = dir.join("db");
        let log = File::options()
            .read(true)
            .write(true)
            .open(&log_path)
            .map_err(|e| StoreError::Flush(format!("{}: {e}", log_path.display())))?;
        Ok(Self {
            log,
            log_path,
            blobs: dir.join("blobs"),
            synced_blobs: Mutex::new(HashSet::new()),
        })
    }

    /// Puts everything sled has written to its files on stable storage.
    pub(super) fn sync(&self) -> Result<(), StoreError> {
        self.sync_new_blobs()?;
        self.log
            .sync_data()
            .map_err(|e| StoreError::Flush(format!("{}: {e}", self.log_path.display())))
    }

    /// Values too large for the log go to files of their own under
    /// `blobs/`, which sled writes without syncing them.
    fn sync_new_blobs(&self) -> Result<(), StoreError> {
        let entries = match std::fs::read_dir(&self.blobs) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::Flush(format!("{}: {e}", self.blobs.display()))),
        };
        let mut synced = self
            .synced_blobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut new = false;
        for entry in entries {
            let entry =
                entry.map_err(|e| StoreError::Flush(format!("{}: {e}", self.blobs.display())))?;
            let name = entry.file_name();
            if synced.contains(&name) {
                continue;
            }
            let path = entry.path();
            match File::open(&path).and_then(|f| f.sync_all()) {
                Ok(()) => {}
                // Removed by sled's garbage collection meanwhile.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(StoreError::Flush(format!("{}: {e}", path.display()))),
            }
            synced.insert(name);
            new = true;
        }
        if new {
            File::open(&self.blobs)
                .and_then(|d| d.sync_all())
                .map_err(|e| StoreError::Flush(format!("{}: {e}", self.blobs.display())))?;
        }
        Ok(())
    }
}

impl DiskSync {
    /// The flushes' side of a sled store in `dir`: its files, its durable
    /// mark, its history tree and its group writer.
    pub(super) fn open(
        dir: &Path,
        files: Arc<LogFiles>,
        history: sled::Tree,
        writer: Arc<GroupWriter>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            files,
            syncs: AtomicU64::new(0),
            flush_nanos: AtomicU64::new(0),
            history,
            mark: DurableMark::open(dir)?,
            writer,
        })
    }

    /// Puts everything sled has written on stable storage.
    fn sync(&self) -> Result<(), StoreError> {
        self.files.sync()?;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// How many syncs covered flushes since the store opened.
    pub(super) fn count(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// The time spent in flushes since the store opened, in seconds.
    pub(super) fn flush_seconds(&self) -> f64 {
        Duration::from_nanos(self.flush_nanos.load(Ordering::Relaxed)).as_secs_f64()
    }

    /// Writes the committed transactions to sled (the pending group, all
    /// or nothing on disk: `sled_group.rs`), flushes sled's buffers and
    /// syncs them, on this thread; then records the history chain's head
    /// as it was before the flush (so covered by it) in the durable mark.
    pub(super) fn flush_now(&self, db: &sled::Db) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        self.writer.apply_pending()?;
        let head = self.history.get(super::keys::CHAIN_HEAD)?;
        db.flush()?;
        self.sync()?;
        let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.flush_nanos.fetch_add(took, Ordering::Relaxed);
        if let Some(head) = head {
            self.mark.record(&head);
        }
        Ok(())
    }

    /// Puts the durable mark itself on stable storage (at a clean stop).
    pub(super) fn sync_mark(&self) -> Result<(), StoreError> {
        self.mark.sync()
    }
}

/// `durable.mark` beside the store: the history chain's head (place and
/// hash) as of the last flush that reached the disk. It is written after
/// each flush without a sync of its own, so it may lag the store but never
/// lead it. At opening, a store whose history does not reach that record
/// has lost changes it had made durable (a log cut short, or damaged so
/// that sled stops reading it early): it is refused, not served.
pub(super) struct DurableMark {
    file: File,
    path: PathBuf,
}

/// The mark's layout: magic, place (u64 BE), hash, and the first 8 bytes of
/// the SHA-256 of what comes before.
const MARK_MAGIC: &[u8; 8] = b"MAREGMK1";
const MARK_LEN: usize = 8 + 8 + 32 + 8;

/// The name of the mark's file in the data directory.
pub(super) const MARK_FILE: &str = "durable.mark";

impl DurableMark {
    fn open(dir: &Path) -> Result<Self, StoreError> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let path = dir.join(MARK_FILE);
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| StoreError::Flush(format!("{}: {e}", path.display())))?;
        Ok(Self { file, path })
    }

    /// Records a chain head (40 bytes: place, hash). A failure is logged:
    /// the mark only ever helps detect damage.
    fn record(&self, head: &[u8]) {
        use std::os::unix::fs::FileExt as _;
        let Some(bytes) = encode_mark(head) else {
            return;
        };
        if let Err(e) = self.file.write_all_at(&bytes, 0) {
            tracing::warn!(error = %e, path = %self.path.display(), "cannot write the durable mark");
        }
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.file
            .sync_data()
            .map_err(|e| StoreError::Flush(format!("{}: {e}", self.path.display())))
    }
}

/// The bytes of a mark recording a chain head (40 bytes: place, hash).
pub(super) fn encode_mark(head: &[u8]) -> Option<[u8; MARK_LEN]> {
    use sha2::Digest as _;
    if head.len() != 40 {
        return None;
    }
    let mut bytes = [0u8; MARK_LEN];
    bytes[..8].copy_from_slice(MARK_MAGIC);
    bytes[8..48].copy_from_slice(head);
    let sum = sha2::Sha256::digest(&bytes[..48]);
    bytes[48..].copy_from_slice(&sum[..8]);
    Some(bytes)
}

/// The chain head a store's durable mark records, if it holds a valid one.
pub(super) fn read_mark(dir: &Path) -> Option<(u64, [u8; 32])> {
    use sha2::Digest as _;
    let bytes = std::fs::read(dir.join(MARK_FILE)).ok()?;
    let bytes: &[u8; MARK_LEN] = bytes.get(..MARK_LEN)?.try_into().ok()?;
    if &bytes[..8] != MARK_MAGIC || sha2::Sha256::digest(&bytes[..48])[..8] != bytes[48..] {
        return None;
    }
    let place = u64::from_be_bytes(bytes[8..16].try_into().ok()?);
    let hash = bytes[16..48].try_into().ok()?;
    Some((place, hash))
}

impl GroupCommit {
    /// Starts the flusher thread of a store.
    pub(super) fn new(db: sled::Db, disk: DiskSync) -> Result<Self, StoreError> {
        let shared = Arc::new(Shared {
            db,
            disk: Arc::new(disk),
            requested: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            failure: Mutex::new(String::new()),
            sleeping: AtomicBool::new(false),
            state: Mutex::new(false),
            wake: Condvar::new(),
            done: tokio::sync::Notify::new(),
        });
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("store-flusher".to_owned())
                .spawn(move || shared.run())
                .map_err(|e| StoreError::Flush(format!("cannot start the flusher thread: {e}")))?
        };
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// The files this commit syncs.
    pub(super) fn disk(&self) -> &DiskSync {
        &self.shared.disk
    }

    /// Returns once every write made before the call is on stable storage.
    pub(super) async fn durable(&self) -> Result<(), StoreError> {
        let shared = &self.shared;
        let ticket = shared.requested.fetch_add(1, Ordering::SeqCst) + 1;
        if shared.sleeping.load(Ordering::SeqCst) {
            let _state = lock(&shared.state);
            shared.wake.notify_one();
        }
        loop {
            let done = shared.done.notified();
            tokio::pin!(done);
            done.as_mut().enable();
            // Covered by a flush that succeeded before any failed.
            if shared.flushed.load(Ordering::SeqCst) >= ticket {
                return Ok(());
            }
            // After a failed flush nothing more is acknowledged by this
            // opening of the store, even if a later sync succeeds: after a
            // failed sync the kernel may have dropped the pages it could
            // not write. The store is opened again from disk.
            if shared.failed.load(Ordering::SeqCst) >= ticket {
                return Err(StoreError::Flush(lock(&shared.failure).clone()));
            }
            done.await;
        }
    }
}

impl Drop for GroupCommit {
    /// Stops the flusher once it has served every ticket taken.
    fn drop(&mut self) {
        *lock(&self.shared.state) = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How long a committed change nobody asked to be durable stays pending
/// at most before the flusher writes it to the trees (not to disk: sled's
/// own flusher does that within half a second, as for any write).
const APPLY_WITHIN: Duration = Duration::from_millis(20);

impl Shared {
    /// The flusher: waits for a ticket, flushes everything requested so
    /// far, tells the waiters, and again.
    fn run(&self) {
        let mut served = 0;
        loop {
            let stopping = lock(&self.state);
            self.sleeping.store(true, Ordering::SeqCst);
            if self.requested.load(Ordering::SeqCst) <= served {
                if *stopping {
                    self.sleeping.store(false, Ordering::SeqCst);
                    return;
                }
                let (guard, waited) = self
                    .wake
                    .wait_timeout(stopping, APPLY_WITHIN)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                self.sleeping.store(false, Ordering::SeqCst);
                drop(guard);
                if waited.timed_out() && self.requested.load(Ordering::SeqCst) <= served {
                    // A change nobody waits for (no ticket) still reaches
                    // sled soon, as it did when sled applied each
                    // transaction at once; and reads stop looking at the
                    // pending group once it is empty. Not under `state`:
                    // callers take it to wake this thread.
                    if let Err(e) = self.disk.writer.apply_pending() {
                        tracing::debug!(error = %e, "pending changes not applied");
                    }
                }
                continue;
            }
            self.sleeping.store(false, Ordering::SeqCst);
            drop(stopping);
            let target = self.requested.load(Ordering::SeqCst);
            let flushed = if self.failed.load(Ordering::SeqCst) == u64::MAX {
                Err(lock(&self.failure).clone())
            } else {
                // A panic in sled is a failed flush, not a dead flusher
                // that every later caller would wait for.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    self.disk.flush_now(&self.db)
                }))
                .unwrap_or_else(|_| Err(StoreError::Flush("the flush panicked".to_owned())))
                .map_err(|e| e.to_string())
            };
            match flushed {
                Ok(()) => {
                    self.flushed.fetch_max(target, Ordering::SeqCst);
                }
                Err(reason) => {
                    *lock(&self.failure) = reason;
                    self.failed.store(u64::MAX, Ordering::SeqCst);
                }
            }
            served = target;
            self.done.notify_waiters();
        }
    }
}
