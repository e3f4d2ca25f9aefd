//! Transactions on sled: committed in memory one at a time, and written
//! to sled in groups. A transaction's closure runs alone (one at a time, in
//! the order they arrive), reading through the changes committed before it
//! and not yet written; its writes join the pending group; and the next
//! durable flush writes the group (so does any read of a whole tree, any
//! write outside a transaction, or a group grown large). None is
//! acknowledged before the flush that covers it.
//!
//! A group is all or nothing on disk, through a record of its own (the
//! group intent): its writes are first recorded under
//! `meta/group_intent:{chunk}` (the chunks in reverse order, the first,
//! with the count and a SHA-256 of the whole, last), then written to their
//! trees one by one, then the record is removed (its first chunk first).
//! The record is on stable storage (sled's flush and an `fdatasync`)
//! before the first write of the group reaches a tree, so a store that
//! opens with a whole record stopped while writing that group, and the
//! opening ([`recover`]) writes the group again whole; a record not whole
//! was cut short before any of its group was written, and is removed; a
//! store without a record holds every group whole or not at all.
//!
//! Why not sled's own transactions: sled (0.34) writes two log buffers to
//! disk for each, and holds a lock over the whole process while one
//! commits, which every read of every tree then waits for.
//!
//! Every read of a record (inside a transaction or not) sees the committed
//! changes, applied or not: a key is looked up in the pending group, then in
//! the group being applied, then in sled. When nothing waits, a read costs
//! one atomic load more than sled's own.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use sha2::{Digest, Sha256};
use sled::IVec;

use super::commit::LogFiles;
use super::{StoreError, keys};

/// A group larger than this many writes is applied by the transaction
/// that made it so, before it returns (bulk loads stay bounded in memory).
const MAX_GROUP_WRITES: usize = 16_384;

/// The writes of a group (or of one transaction): per tree, key → value,
/// `None` for a removal.
#[derive(Default)]
struct Writes {
    trees: Vec<BTreeMap<Vec<u8>, Option<IVec>>>,
    len: usize,
}

impl Writes {
    fn new(trees: usize) -> Self {
        Self {
            trees: (0..trees).map(|_| BTreeMap::new()).collect(),
            len: 0,
        }
    }

    fn get(&self, tree: usize, key: &[u8]) -> Option<&Option<IVec>> {
        self.trees.get(tree).and_then(|t| t.get(key))
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The writer of one sled database: every transaction on its trees goes
/// through it.
pub(crate) struct GroupWriter {
    /// The database's trees, by the index each [`SledTree`] holds.
    trees: Vec<sled::Tree>,
    /// Their names, for the group intent.
    names: Vec<&'static str>,
    /// The database's files, synced once a group's record is written and
    /// before its writes begin (`None` in unit tests: sled's flush only).
    files: Option<Arc<LogFiles>>,
    /// Held while a transaction's closure runs, and by a write outside a
    /// transaction: they happen one at a time.
    serial: Mutex<()>,
    /// Committed, not yet applied.
    pending: RwLock<Writes>,
    /// Being applied to sled now.
    applying: RwLock<Option<Arc<Writes>>>,
    /// Held while a group is applied: groups reach sled in their order.
    apply: Mutex<()>,
    /// Whether `pending` or `applying` may hold writes (a read looks at
    /// them only then).
    dirty: AtomicBool,
    /// Set when a group could not be applied: nothing more is (the store
    /// suspends writes and opens the database again).
    failed: AtomicBool,
}

/// Marks the writer failed if dropped while a panic unwinds (forgotten
/// otherwise).
struct FailOnUnwind<'a>(&'a AtomicBool);

impl Drop for FailOnUnwind<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The error of every write after a group could not be applied.
fn failed() -> sled::Error {
    sled::Error::Io(std::io::Error::other(
        "an earlier group of committed changes could not be written; the store is opened again from disk",
    ))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl GroupWriter {
    /// The writer of a database whose trees are `trees` (with their names;
    /// one must be `meta`, where a group's record is kept while it is
    /// written).
    pub(crate) fn new(
        trees: Vec<(&'static str, sled::Tree)>,
        files: Option<Arc<LogFiles>>,
    ) -> Arc<Self> {
        let n = trees.len();
        let (names, trees) = trees.into_iter().unzip();
        Arc::new(Self {
            trees,
            names,
            files,
            serial: Mutex::new(()),
            pending: RwLock::new(Writes::new(n)),
            applying: RwLock::new(None),
            apply: Mutex::new(()),
            dirty: AtomicBool::new(false),
            failed: AtomicBool::new(false),
        })
    }

    /// The committed value of `key` in tree `tree` when it is not applied
    /// yet: `Some(None)` for a pending removal, `None` when sled has it.
    fn lookup(&self, tree: usize, key: &[u8]) -> Option<Option<IVec>> {
        if !self.dirty.load(Ordering::Acquire) {
            return None;
        }
        // `pending` before `applying`: a group moves from one to the other
        // under both locks, and leaves `applying` only once sled has it.
        let pending = self.pending.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(v) = pending.get(tree, key) {
            return Some(v.clone());
        }
        let applying = self.applying.read().unwrap_or_else(PoisonError::into_inner);
        drop(pending);
        applying
            .as_ref()
            .and_then(|group| group.get(tree, key))
            .cloned()
    }

    /// The value of `key` in tree `tree`.
    pub(crate) fn get(&self, tree: usize, key: &[u8]) -> sled::Result<Option<IVec>> {
        match self.lookup(tree, key) {
            Some(v) => Ok(v),
            None => self.tree(tree).get(key),
        }
    }

    fn tree(&self, tree: usize) -> &sled::Tree {
        &self.trees[tree]
    }

    /// Runs `f` with every committed change applied to sled and no
    /// transaction running: how a write outside a transaction keeps its
    /// place in the order of changes.
    pub(crate) fn alone<R>(&self, f: impl FnOnce() -> sled::Result<R>) -> sled::Result<R> {
        let _serial = lock(&self.serial);
        self.apply_pending()?;
        f()
    }

    /// Applies every committed change to sled (not to disk): before a read
    /// of a whole tree, a flush, or a close.
    pub(crate) fn apply_pending(&self) -> sled::Result<()> {
        if self.failed.load(Ordering::Acquire) {
            return Err(failed());
        }
        if !self.dirty.load(Ordering::Acquire) {
            return Ok(());
        }
        let _apply = lock(&self.apply);
        // Another thread's group may have failed while this one waited.
        if self.failed.load(Ordering::Acquire) {
            return Err(failed());
        }
        let group = {
            let mut pending = self.pending.write().unwrap_or_else(PoisonError::into_inner);
            if pending.is_empty() {
                return Ok(());
            }
            let group = Arc::new(std::mem::replace(
                &mut *pending,
                Writes::new(self.trees.len()),
            ));
            *self
                .applying
                .write()
                .unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&group));
            group
        };
        // A panic in sled while the group is written leaves it half
        // written: as for an error, nothing more is written or flushed.
        let unwinding = FailOnUnwind(&self.failed);
        let written = self.write_group(&group);
        std::mem::forget(unwinding);
        if let Err(e) = written {
            // The group's outcome is unknown (sled may hold part of it in
            // memory): nothing more is applied, reads see what sled holds,
            // and the store suspends writes until it is opened again from
            // disk, which is the truth.
            tracing::error!(error = %e, writes = group.len, "a group of committed changes could not be written");
            self.failed.store(true, Ordering::Release);
            let mut pending = self.pending.write().unwrap_or_else(PoisonError::into_inner);
            *pending = Writes::new(self.trees.len());
            *self
                .applying
                .write()
                .unwrap_or_else(PoisonError::into_inner) = None;
            self.dirty.store(false, Ordering::Release);
            drop(pending);
            return Err(e);
        }
        *self
            .applying
            .write()
            .unwrap_or_else(PoisonError::into_inner) = None;
        let pending = self.pending.write().unwrap_or_else(PoisonError::into_inner);
        if pending.is_empty() {
            self.dirty.store(false, Ordering::Release);
        }
        Ok(())
    }

    /// Writes a group to its trees, all or nothing on disk: its record
    /// first, then its writes, then the record removed (see the module's
    /// comment).
    fn write_group(&self, group: &Writes) -> sled::Result<()> {
        let Some(meta) = self.names.iter().position(|n| *n == "meta") else {
            return Err(sled::Error::ReportableBug("no meta tree".to_owned()));
        };
        let meta = &self.trees[meta];
        let chunks = encode_intent(&self.names, group);
        for (n, chunk) in chunks.iter().enumerate().rev() {
            meta.insert(keys::group_intent(chunk_number(n)), chunk.as_slice())?;
        }
        // The record is on stable storage before any write of the group
        // reaches the trees: after a power cut the log need not come back
        // as a prefix of what was written, but a group whose record is not
        // whole was never begun.
        meta.flush()?;
        if let Some(files) = &self.files {
            files
                .sync()
                .map_err(|e| sled::Error::Io(std::io::Error::other(e.to_string())))?;
        }
        for (tree, writes) in self.trees.iter().zip(&group.trees) {
            for (key, value) in writes {
                match value {
                    Some(value) => tree.insert(key.as_slice(), value.clone())?,
                    None => tree.remove(key.as_slice())?,
                };
            }
        }
        for n in 0..chunks.len() {
            meta.remove(keys::group_intent(chunk_number(n)))?;
        }
        Ok(())
    }

    /// Runs `f` as one transaction over the trees `trees` (indexes): it
    /// runs alone, sees every change committed before it, and its writes
    /// join the pending group only if it returns `Ok`.
    pub(crate) fn transaction<R, E>(
        &self,
        trees: &[usize],
        f: impl FnOnce(&[TxWrites<'_>]) -> Result<R, E>,
    ) -> Result<Result<R, E>, sled::Error> {
        let serial = lock(&self.serial);
        if self.failed.load(Ordering::Acquire) {
            return Err(failed());
        }
        let txs: Vec<TxWrites<'_>> = trees
            .iter()
            .map(|&tree| TxWrites {
                tree,
                writer: self,
                writes: RefCell::new(BTreeMap::new()),
            })
            .collect();
        let result = f(&txs);
        if result.is_err() {
            return Ok(result);
        }
        let written: usize = txs.iter().map(|t| t.writes.borrow().len()).sum();
        let large = if written == 0 {
            false
        } else {
            let mut pending = self.pending.write().unwrap_or_else(PoisonError::into_inner);
            for tx in txs {
                let tree = &mut pending.trees[tx.tree];
                for (key, value) in tx.writes.into_inner() {
                    tree.insert(key, value);
                }
            }
            pending.len += written;
            self.dirty.store(true, Ordering::Release);
            pending.len >= MAX_GROUP_WRITES
        };
        drop(serial);
        if large {
            self.apply_pending()?;
        }
        Ok(result)
    }
}

impl Drop for GroupWriter {
    /// What was committed reaches sled, and sled flushes it, when the
    /// database closes (an offline command that never asked for a flush).
    fn drop(&mut self) {
        if self.failed.load(Ordering::Acquire) {
            return;
        }
        if let Err(e) = self.apply_pending() {
            tracing::error!(error = %e, "committed changes could not be written at close");
            return;
        }
        if let Some(tree) = self.trees.first()
            && let Err(e) = tree.flush()
        {
            tracing::error!(error = %e, "the store could not be flushed at close");
        }
    }
}

/// One tree inside a transaction: its own writes, over the committed state.
pub(crate) struct TxWrites<'a> {
    tree: usize,
    writer: &'a GroupWriter,
    writes: RefCell<BTreeMap<Vec<u8>, Option<IVec>>>,
}

impl TxWrites<'_> {
    /// The value of `key` as this transaction sees it.
    pub(crate) fn get(&self, key: &[u8]) -> sled::Result<Option<IVec>> {
        if let Some(v) = self.writes.borrow().get(key) {
            return Ok(v.clone());
        }
        self.writer.get(self.tree, key)
    }

    /// Sets `key` to `value` if the transaction commits.
    pub(crate) fn insert(&self, key: &[u8], value: &[u8]) {
        self.writes
            .borrow_mut()
            .insert(key.to_vec(), Some(IVec::from(value)));
    }

    /// Removes `key` if the transaction commits.
    pub(crate) fn remove(&self, key: &[u8]) {
        self.writes.borrow_mut().insert(key.to_vec(), None);
    }
}

/// A tree of a sled database, with the writer of that database.
#[derive(Clone)]
pub(crate) struct SledTree {
    pub(crate) tree: sled::Tree,
    pub(crate) index: usize,
    pub(crate) writer: Arc<GroupWriter>,
}

impl SledTree {
    /// The value under `key`, committed changes included.
    pub(crate) fn get(&self, key: &[u8]) -> sled::Result<Option<IVec>> {
        self.writer.get(self.index, key)
    }

    /// The tree itself, every committed change applied to it first: for
    /// reading a range of it. Once a group could not be applied, the tree
    /// as sled holds it: reads go on while writes are suspended.
    pub(crate) fn applied(&self) -> sled::Result<&sled::Tree> {
        match self.writer.apply_pending() {
            Err(_) if self.writer.failed.load(Ordering::Acquire) => Ok(&self.tree),
            other => other.map(|()| &self.tree),
        }
    }
}

/// The largest chunk of a group intent (a value under the 128 KiB from
/// which sled writes a log message to a file of its own).
const INTENT_CHUNK: usize = 32 * 1024;
/// The first bytes of a group intent's first chunk.
const INTENT_MAGIC: &[u8; 8] = b"MAGRPIN1";
/// Magic, chunk count (u32 BE), payload length (u64 BE), SHA-256.
const INTENT_HEADER: usize = 8 + 4 + 8 + 32;

fn chunk_number(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A group's record: per tree with writes, its name (length u8), the
/// count of writes (u32 BE), then each write: key (length u32 BE, bytes),
/// 1 and the value (length u32 BE, bytes) or 0 for a removal; cut into
/// chunks, the first with the header.
fn encode_intent(names: &[&str], group: &Writes) -> Vec<Vec<u8>> {
    let mut payload = Vec::new();
    for (name, writes) in names.iter().zip(&group.trees) {
        if writes.is_empty() {
            continue;
        }
        payload.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
        payload.extend_from_slice(name.as_bytes());
        payload.extend_from_slice(&chunk_number(writes.len()).to_be_bytes());
        for (key, value) in writes {
            payload.extend_from_slice(&chunk_number(key.len()).to_be_bytes());
            payload.extend_from_slice(key);
            match value {
                Some(value) => {
                    payload.push(1);
                    payload.extend_from_slice(&chunk_number(value.len()).to_be_bytes());
                    payload.extend_from_slice(value);
                }
                None => payload.push(0),
            }
        }
    }
    let first_room = INTENT_CHUNK - INTENT_HEADER;
    let rest = payload.len().saturating_sub(first_room);
    let count = 1 + rest.div_ceil(INTENT_CHUNK);
    let mut first = Vec::with_capacity(INTENT_CHUNK);
    first.extend_from_slice(INTENT_MAGIC);
    first.extend_from_slice(&chunk_number(count).to_be_bytes());
    first.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    first.extend_from_slice(&Sha256::digest(&payload));
    first.extend_from_slice(&payload[..payload.len().min(first_room)]);
    let mut chunks = vec![first];
    if payload.len() > first_room {
        chunks.extend(
            payload[first_room..]
                .chunks(INTENT_CHUNK)
                .map(<[u8]>::to_vec),
        );
    }
    chunks
}

/// One write of a decoded group intent: tree, key, value (`None` removes).
type IntentWrite = (String, Vec<u8>, Option<Vec<u8>>);

/// Decodes a group intent's payload; `None` if it is not well formed.
fn decode_intent(mut payload: &[u8]) -> Option<Vec<IntentWrite>> {
    fn take<'a>(p: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        let (head, tail) = p.split_at_checked(n)?;
        *p = tail;
        Some(head)
    }
    fn len(p: &mut &[u8]) -> Option<usize> {
        let b: [u8; 4] = take(p, 4)?.try_into().ok()?;
        usize::try_from(u32::from_be_bytes(b)).ok()
    }
    let mut writes = Vec::new();
    while !payload.is_empty() {
        let name_len = usize::from(*take(&mut payload, 1)?.first()?);
        let name = std::str::from_utf8(take(&mut payload, name_len)?).ok()?;
        for _ in 0..len(&mut payload)? {
            let key_len = len(&mut payload)?;
            let key = take(&mut payload, key_len)?.to_vec();
            let value = match take(&mut payload, 1)?.first()? {
                0 => None,
                1 => {
                    let value_len = len(&mut payload)?;
                    Some(take(&mut payload, value_len)?.to_vec())
                }
                _ => return None,
            };
            writes.push((name.to_owned(), key, value));
        }
    }
    Some(writes)
}

/// At opening, before anything reads the store: completes a group whose
/// writing a stop cut short (its record is whole: see the module's
/// comment), and removes what is left of a record whose group was
/// written, or was never begun (a record not whole: it was being written
/// when the store stopped, and the group's writes begin only once it is
/// on stable storage). Returns how many writes were made again.
///
/// # Errors
/// sled errors, or the log that cannot be synced.
pub(crate) fn recover(db: &sled::Db, dir: &std::path::Path) -> Result<usize, StoreError> {
    let meta = db.open_tree("meta")?;
    let remove_record = || -> Result<(), StoreError> {
        // The first chunk first, as after a group is written.
        meta.remove(keys::group_intent(0))?;
        for key in meta.scan_prefix(keys::META_GROUP_INTENT).keys() {
            meta.remove(key?)?;
        }
        Ok(())
    };
    let Some(first) = meta.get(keys::group_intent(0))? else {
        remove_record()?;
        return Ok(0);
    };
    let Some(writes) = read_intent(&meta, &first)? else {
        tracing::warn!(
            "the store stopped while recording a group of changes, before any of them was written; the record is removed"
        );
        remove_record()?;
        db.flush()?;
        return Ok(0);
    };
    for (tree, key, value) in &writes {
        let tree = db.open_tree(tree)?;
        match value {
            Some(value) => tree.insert(key.as_slice(), value.as_slice())?,
            None => tree.remove(key.as_slice())?,
        };
    }
    // The group is whole on stable storage before its record goes.
    db.flush()?;
    if dir.join("db").is_file() {
        LogFiles::open(dir)?.sync()?;
    }
    remove_record()?;
    db.flush()?;
    tracing::warn!(
        writes = writes.len(),
        "the store stopped while writing a group of committed changes; it was written whole again"
    );
    Ok(writes.len())
}

/// The writes of a group record whose first chunk is `first`, or `None`
/// when the record is not whole (a part missing, a checksum that does not
/// match, a payload that cannot be read).
fn read_intent(meta: &sled::Tree, first: &[u8]) -> Result<Option<Vec<IntentWrite>>, StoreError> {
    let Some(header) = first
        .get(..INTENT_HEADER)
        .filter(|h| h.starts_with(INTENT_MAGIC))
    else {
        return Ok(None);
    };
    let (Ok(count), Ok(total)) = (
        <[u8; 4]>::try_from(&header[8..12]).map(u32::from_be_bytes),
        <[u8; 8]>::try_from(&header[12..20]).map(u64::from_be_bytes),
    ) else {
        return Ok(None);
    };
    let mut payload = first[INTENT_HEADER..].to_vec();
    for n in 1..count {
        match meta.get(keys::group_intent(n))? {
            Some(chunk) => payload.extend_from_slice(&chunk),
            None => return Ok(None),
        }
    }
    if payload.len() as u64 != total || Sha256::digest(&payload)[..] != header[20..52] {
        return Ok(None);
    }
    Ok(decode_intent(&payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, sled::Db, Arc<GroupWriter>) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let trees = vec![
            ("a", db.open_tree("a").unwrap()),
            ("meta", db.open_tree("meta").unwrap()),
        ];
        let writer = GroupWriter::new(trees, None);
        (dir, db, writer)
    }

    #[test]
    fn a_committed_change_is_read_before_and_after_it_is_applied() {
        let (_dir, db, writer) = db();
        let r: Result<(), ()> = writer
            .transaction(&[0, 1], |t| {
                let (a, b) = (&t[0], &t[1]);
                a.insert(b"k", b"1");
                b.insert(b"x", b"2");
                assert_eq!(a.get(b"k").unwrap().as_deref(), Some(&b"1"[..]));
                Ok(())
            })
            .unwrap();
        r.unwrap();
        // Not in sled yet, but read through.
        assert_eq!(db.open_tree("a").unwrap().get(b"k").unwrap(), None);
        assert_eq!(writer.get(0, b"k").unwrap().as_deref(), Some(&b"1"[..]));
        writer.apply_pending().unwrap();
        assert_eq!(
            db.open_tree("meta").unwrap().get(b"x").unwrap().as_deref(),
            Some(&b"2"[..])
        );
        assert!(!writer.dirty.load(Ordering::Acquire));
    }

    #[test]
    fn a_refused_transaction_writes_nothing_and_later_ones_see_earlier_ones() {
        let (_dir, _db, writer) = db();
        let refused: Result<(), &str> = writer
            .transaction(&[0], |t| {
                let a = &t[0];
                a.insert(b"k", b"lost");
                Err("refused")
            })
            .unwrap();
        assert!(refused.is_err());
        assert_eq!(writer.get(0, b"k").unwrap(), None);
        for n in 0..3u8 {
            let r: Result<(), ()> = writer
                .transaction(&[0], |t| {
                    let a = &t[0];
                    let old = a.get(b"n").unwrap().map_or(0, |v| v[0]);
                    assert_eq!(old, n);
                    a.insert(b"n", &[old + 1]);
                    Ok(())
                })
                .unwrap();
            r.unwrap();
        }
        let r: Result<(), ()> = writer
            .transaction(&[0], |t| {
                let a = &t[0];
                a.remove(b"n");
                Ok(())
            })
            .unwrap();
        r.unwrap();
        assert_eq!(writer.get(0, b"n").unwrap(), None);
        writer.apply_pending().unwrap();
        assert_eq!(writer.get(0, b"n").unwrap(), None);
    }

    #[test]
    fn what_was_committed_reaches_the_disk_when_the_writer_closes() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::Config::new().path(dir.path()).open().unwrap();
            let writer = GroupWriter::new(
                vec![
                    ("a", db.open_tree("a").unwrap()),
                    ("meta", db.open_tree("meta").unwrap()),
                ],
                None,
            );
            let r: Result<(), ()> = writer
                .transaction(&[0], |t| {
                    let a = &t[0];
                    a.insert(b"k", b"v");
                    Ok(())
                })
                .unwrap();
            r.unwrap();
        }
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        assert_eq!(
            db.open_tree("a").unwrap().get(b"k").unwrap().as_deref(),
            Some(&b"v"[..])
        );
    }

    /// A group of writes to tree `a` (index 0): `n` keys with large values,
    /// so that its record takes several chunks, and a removal.
    fn large_group(n: u32) -> Writes {
        let mut group = Writes::new(2);
        for k in 0..n {
            group.trees[0].insert(
                format!("k{k}").into_bytes(),
                Some(IVec::from(vec![u8::try_from(k % 251).unwrap(); 10_000])),
            );
        }
        group.trees[0].insert(b"gone".to_vec(), None);
        group.len = group.trees[0].len();
        group
    }

    #[test]
    fn a_group_cut_short_by_a_stop_is_written_whole_at_the_next_opening() {
        let dir = tempfile::tempdir().unwrap();
        let group = large_group(20);
        let chunks = encode_intent(&["a", "meta"], &group);
        assert!(chunks.len() > 1, "the record takes several chunks");
        {
            let db = sled::Config::new().path(dir.path()).open().unwrap();
            let a = db.open_tree("a").unwrap();
            a.insert(b"gone", b"old").unwrap();
            let meta = db.open_tree("meta").unwrap();
            for (n, chunk) in chunks.iter().enumerate().rev() {
                meta.insert(keys::group_intent(chunk_number(n)), chunk.as_slice())
                    .unwrap();
            }
            // The stop: only the first three writes reached the tree.
            for (key, value) in group.trees[0].iter().filter(|(_, v)| v.is_some()).take(3) {
                a.insert(key.as_slice(), value.clone().unwrap()).unwrap();
            }
            db.flush().unwrap();
        }
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        assert_eq!(recover(&db, dir.path()).unwrap(), 21);
        let a = db.open_tree("a").unwrap();
        for k in 0..20u32 {
            let v = a.get(format!("k{k}")).unwrap().unwrap();
            assert_eq!(v.len(), 10_000);
            assert_eq!(v[0], u8::try_from(k % 251).unwrap());
        }
        assert_eq!(a.get(b"gone").unwrap(), None);
        let meta = db.open_tree("meta").unwrap();
        assert_eq!(meta.scan_prefix(keys::META_GROUP_INTENT).count(), 0);
        // Once done, the next opening has nothing to do.
        assert_eq!(recover(&db, dir.path()).unwrap(), 0);
    }

    #[test]
    fn a_record_without_its_first_chunk_is_removed_and_nothing_written() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let chunks = encode_intent(&["a", "meta"], &large_group(20));
        let meta = db.open_tree("meta").unwrap();
        // The group was written and its record's removal began.
        for (n, chunk) in chunks.iter().enumerate().skip(1) {
            meta.insert(keys::group_intent(chunk_number(n)), chunk.as_slice())
                .unwrap();
        }
        assert_eq!(recover(&db, dir.path()).unwrap(), 0);
        assert_eq!(db.open_tree("a").unwrap().len(), 0);
        assert_eq!(meta.scan_prefix(keys::META_GROUP_INTENT).count(), 0);
    }

    #[test]
    fn a_record_not_whole_was_never_begun_and_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let chunks = encode_intent(&["a", "meta"], &large_group(20));
        let meta = db.open_tree("meta").unwrap();
        for (n, chunk) in chunks.iter().enumerate() {
            let mut chunk = chunk.clone();
            if n == 1 {
                chunk[100] ^= 0xff;
            }
            meta.insert(keys::group_intent(chunk_number(n)), chunk)
                .unwrap();
        }
        assert_eq!(recover(&db, dir.path()).unwrap(), 0);
        assert_eq!(db.open_tree("a").unwrap().len(), 0);
        assert_eq!(meta.scan_prefix(keys::META_GROUP_INTENT).count(), 0);
        // A part missing: the same.
        for (n, chunk) in chunks.iter().enumerate() {
            if n != 2 {
                meta.insert(keys::group_intent(chunk_number(n)), chunk.as_slice())
                    .unwrap();
            }
        }
        assert_eq!(recover(&db, dir.path()).unwrap(), 0);
        assert_eq!(db.open_tree("a").unwrap().len(), 0);
        assert_eq!(meta.scan_prefix(keys::META_GROUP_INTENT).count(), 0);
    }

    #[test]
    fn a_group_record_decodes_to_its_writes() {
        let group = large_group(3);
        let chunks = encode_intent(&["a", "meta"], &group);
        let payload: Vec<u8> = chunks
            .iter()
            .enumerate()
            .flat_map(|(n, c)| if n == 0 { &c[INTENT_HEADER..] } else { &c[..] })
            .copied()
            .collect();
        let writes = decode_intent(&payload).unwrap();
        assert_eq!(writes.len(), 4);
        assert_eq!(writes[0].0, "a");
        assert_eq!(writes[0].1, b"gone");
        assert_eq!(writes[0].2, None);
        assert_eq!(writes[1].2.as_ref().map(Vec::len), Some(10_000));
        assert!(decode_intent(&payload[..payload.len() - 1]).is_none());
    }
}
