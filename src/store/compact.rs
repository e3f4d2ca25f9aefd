//! Offline compaction: rewrites the whole store in key order into a new
//! directory, checks the copy record by record, and swaps it in. Sled
//! (0.34) adds a fragment to a page at each change and keeps an in-memory
//! entry per page and fragment; a store written piecemeal (an import, years
//! of service) takes more disk, more memory and a longer start than the
//! same records written in order. Also the writer that restores and
//! compactions share: batches in key order, flushed as they go.

use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::{Store, StoreError};

/// Records per batch. Sled keeps memory for every record of a large batch
/// long after it is applied: restoring a 1,000,000-domain store (10.7
/// million records) in batches of 10,000 grew past 23 GB; in batches of
/// 1,000 it peaked between 0.6 and 2.7 GiB.
const BATCH: usize = 1_000;
/// Records between two flushes.
const FLUSH_EVERY: u64 = 200_000;

/// Writes trees record by record, in the order given, in batches.
pub(super) struct BulkWriter {
    db: sled::Db,
    tree: Option<sled::Tree>,
    batch: sled::Batch,
    pending: usize,
    /// Records written so far.
    pub(super) records: u64,
    /// Trees opened so far.
    pub(super) trees: usize,
}

impl BulkWriter {
    pub(super) fn new(db: sled::Db) -> Self {
        Self {
            db,
            tree: None,
            batch: sled::Batch::default(),
            pending: 0,
            records: 0,
            trees: 0,
        }
    }

    /// Ends the current tree and starts writing `name`.
    pub(super) fn start_tree(&mut self, name: &[u8]) -> Result<(), StoreError> {
        self.apply()?;
        self.tree = Some(self.db.open_tree(name)?);
        self.trees += 1;
        Ok(())
    }

    /// Adds one record to the current tree.
    pub(super) fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        if self.tree.is_none() {
            return Err(StoreError::Backup("a record before any tree".to_owned()));
        }
        self.batch.insert(key, value);
        self.pending += 1;
        self.records += 1;
        if self.pending >= BATCH {
            self.apply()?;
        }
        if self.records.is_multiple_of(FLUSH_EVERY) {
            self.db.flush()?;
        }
        Ok(())
    }

    fn apply(&mut self) -> Result<(), StoreError> {
        if let Some(tree) = &self.tree
            && self.pending > 0
        {
            tree.apply_batch(std::mem::take(&mut self.batch))?;
            self.pending = 0;
        }
        Ok(())
    }

    /// Writes what is pending and makes the id counter give ids above
    /// `mark`; returns the database, flushed.
    pub(super) fn finish(mut self, mark: u64) -> Result<sled::Db, StoreError> {
        self.apply()?;
        self.tree = None;
        while self.db.generate_id()? <= mark {}
        self.db.flush()?;
        Ok(self.db)
    }
}

/// What a compaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactReport {
    /// Trees copied.
    pub trees: usize,
    /// Records copied (and checked).
    pub records: u64,
    /// Bytes of the store's files before.
    pub bytes_before: u64,
    /// Bytes of the store's files after.
    pub bytes_after: u64,
    /// The previous store, when kept.
    pub kept: Option<PathBuf>,
}

/// The entries of a data directory that belong to sled; everything else
/// (the mail outbox, …) moves to the compacted directory as it is.
fn is_store_file(name: &str) -> bool {
    matches!(name, "conf" | "db" | "blobs") || name.starts_with("snap.")
}

/// Marks a copy in progress: a directory that holds it is an unfinished
/// copy, safe to remove.
const PARTIAL_MARK: &str = "compaction-in-progress";

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    dir.with_file_name(name)
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::Backup(format!("{}: {e}", path.display()))
}

fn store_bytes(dir: &Path) -> u64 {
    fn walk(path: &Path) -> u64 {
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => std::fs::read_dir(path)
                .map(|entries| entries.flatten().map(|e| walk(&e.path())).sum())
                .unwrap_or(0),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        }
    }
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| is_store_file(&e.file_name().to_string_lossy()))
                .map(|e| walk(&e.path()))
                .sum()
        })
        .unwrap_or(0)
}

/// Every record of every tree, in order, hashed with its tree's name.
fn digest_all(db: &sled::Db) -> Result<([u8; 32], u64), StoreError> {
    let mut digest = Sha256::new();
    let mut records = 0u64;
    for name in db.tree_names() {
        if name.as_ref() == b"__sled__default" {
            continue;
        }
        digest.update((name.len() as u64).to_be_bytes());
        digest.update(&name);
        for entry in db.open_tree(&name)?.iter() {
            let (key, value) = entry?;
            digest.update((key.len() as u64).to_be_bytes());
            digest.update(&key);
            digest.update((value.len() as u64).to_be_bytes());
            digest.update(&value);
            records += 1;
        }
    }
    Ok((digest.finalize().into(), records))
}

impl Store {
    /// Rewrites the store in `dir` in key order and puts the new one in its
    /// place. The server must be stopped (sled's lock says so). The copy
    /// goes to `DIR.compacting`, is flushed, opened once more (its page
    /// table snapshot), and read back: the SHA-256 of all its records must
    /// equal the original's. Then the two directories are exchanged in one
    /// `renameat2(RENAME_EXCHANGE)`, so `dir` always holds a whole store;
    /// the other files of `dir` (the mail outbox) move to the new one, and
    /// the old store is removed, or kept as `DIR.before-compact` when
    /// `keep` is set.
    ///
    /// # Errors
    /// [`StoreError::Backup`] for a directory problem or a copy that does
    /// not match (the original is then untouched); storage errors.
    pub fn compact(dir: &Path, cache_bytes: u64, keep: bool) -> Result<CompactReport, StoreError> {
        let dir = &std::fs::canonicalize(dir).map_err(io(dir))?;
        let work = sibling(dir, ".compacting");
        let kept = sibling(dir, ".before-compact");
        if !dir.join("db").exists() {
            return Err(StoreError::Backup(format!(
                "{} holds no store",
                dir.display()
            )));
        }
        if work.exists() {
            if work.join(PARTIAL_MARK).exists() {
                std::fs::remove_dir_all(&work).map_err(io(&work))?;
            } else {
                return Err(StoreError::Backup(format!(
                    "{} is left from a compaction that stopped after the swap: it holds the \
                     previous store; move any file other than sled's (conf, db, blobs, snap.*) \
                     into {}, then remove it",
                    work.display(),
                    dir.display()
                )));
            }
        }
        if keep && kept.exists() {
            return Err(StoreError::Backup(format!(
                "{} exists: remove it, or compact without keeping the old store",
                kept.display()
            )));
        }
        let bytes_before = store_bytes(dir);
        // Opening through `Store::open` checks the format and upgrades an
        // older one first.
        let source = Store::open(dir, cache_bytes)?;
        source.flush_now()?;
        std::fs::DirBuilder::new()
            .mode(crate::fsmode::DIR_MODE)
            .create(&work)
            .map_err(io(&work))?;
        crate::fsmode::create_file(&work.join(PARTIAL_MARK)).map_err(io(&work))?;
        let copy = sled::Config::new()
            .path(&work)
            .cache_capacity(cache_bytes)
            .open()?;
        let mut writer = BulkWriter::new(copy);
        let mut digest = Sha256::new();
        let engine = source.engine()?;
        let super::engine::Backend::Sled { db, .. } = &engine.backend else {
            return Err(StoreError::Backend(
                "compaction is for a sled store; PostgreSQL reclaims space itself (autovacuum)"
                    .to_owned(),
            ));
        };
        let mark = db.generate_id()?;
        for name in db.tree_names() {
            if name.as_ref() == b"__sled__default" {
                continue;
            }
            writer.start_tree(&name)?;
            digest.update((name.len() as u64).to_be_bytes());
            digest.update(&name);
            for entry in db.open_tree(&name)?.iter() {
                let (key, value) = entry?;
                writer.insert(&key, &value)?;
                digest.update((key.len() as u64).to_be_bytes());
                digest.update(&key);
                digest.update((value.len() as u64).to_be_bytes());
                digest.update(&value);
            }
        }
        let (trees, records) = (writer.trees, writer.records);
        let expected: [u8; 32] = digest.finalize().into();
        drop(writer.finish(mark)?);
        drop(source);
        // Read back from a new opening. Reading lets sled move fragmented
        // pages (new log), so the page-table snapshot comes after it.
        let (found, found_records) = reopened(&work, cache_bytes, digest_all)?;
        if found != expected || found_records != records {
            return Err(StoreError::Backup(format!(
                "the copy in {} does not match the store ({found_records} records read back, \
                 {records} written): the store is unchanged",
                work.display()
            )));
        }
        Store::checkpoint(&work, cache_bytes)?;
        // The copy's files are new: its user's alone. The directory takes
        // the data directory's mode, so the exchange keeps the operator's.
        super::restrict_store_files(&work)?;
        let permissions = std::fs::metadata(dir).map_err(io(dir))?.permissions();
        std::fs::set_permissions(&work, permissions).map_err(io(&work))?;
        let bytes_after = store_bytes(&work);
        std::fs::remove_file(work.join(PARTIAL_MARK)).map_err(io(&work))?;
        exchange(dir, &work)?;
        // `work` now holds the previous store; the other files follow the
        // data directory.
        for entry in std::fs::read_dir(&work).map_err(io(&work))?.flatten() {
            let name = entry.file_name();
            if !is_store_file(&name.to_string_lossy()) {
                std::fs::rename(entry.path(), dir.join(&name)).map_err(io(&entry.path()))?;
            }
        }
        sync_dir(dir)?;
        let kept = if keep {
            std::fs::rename(&work, &kept).map_err(io(&kept))?;
            Some(kept)
        } else {
            std::fs::remove_dir_all(&work).map_err(io(&work))?;
            None
        };
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        Ok(CompactReport {
            trees,
            records,
            bytes_before,
            bytes_after,
            kept,
        })
    }
}

/// Runs `read` on the store in `dir` opened anew, waiting up to 3 s for a
/// handle just dropped to release its lock.
fn reopened<T>(
    dir: &Path,
    cache_bytes: u64,
    read: impl FnOnce(&sled::Db) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut attempt = 0;
    let db = loop {
        match sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .open()
        {
            Ok(db) => break db,
            Err(sled::Error::Io(e)) if attempt < 30 && e.to_string().contains("lock") => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => return Err(e.into()),
        }
    };
    read(&db)
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

/// Exchanges two directories at once (Linux `renameat2` with
/// `RENAME_EXCHANGE`), so that `a` is never missing.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<(), StoreError> {
    use std::os::unix::ffi::OsStrExt as _;
    let c_a = std::ffi::CString::new(a.as_os_str().as_bytes())
        .map_err(|_| StoreError::Backup(format!("{}: a path with a NUL byte", a.display())))?;
    let c_b = std::ffi::CString::new(b.as_os_str().as_bytes())
        .map_err(|_| StoreError::Backup(format!("{}: a path with a NUL byte", b.display())))?;
    // SAFETY: both pointers are NUL-terminated strings that live until the
    // call returns; renameat2 only reads them.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            c_a.as_ptr(),
            libc::AT_FDCWD,
            c_b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(StoreError::Backup(format!(
            "cannot exchange {} and {}: {}",
            a.display(),
            b.display(),
            std::io::Error::last_os_error()
        )))
    }
}

/// Elsewhere: two renames, with a moment where `a` is missing.
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> Result<(), StoreError> {
    let aside = sibling(a, ".swapping");
    std::fs::rename(a, &aside).map_err(io(a))?;
    std::fs::rename(b, a).map_err(io(b))?;
    std::fs::rename(&aside, b).map_err(io(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sled_files_are_told_from_the_others() {
        for name in ["conf", "db", "blobs", "snap.0000000000012A0"] {
            assert!(is_store_file(name), "{name}");
        }
        for name in ["outbox", "admin.sock", "dbx", "compaction-in-progress"] {
            assert!(!is_store_file(name), "{name}");
        }
    }

    #[test]
    fn siblings_are_named_after_the_directory() {
        assert_eq!(
            sibling(Path::new("/var/lib/ma/data"), ".compacting"),
            PathBuf::from("/var/lib/ma/data.compacting")
        );
        assert_eq!(
            sibling(Path::new("data"), ".before-compact"),
            PathBuf::from("data.before-compact")
        );
    }
}
