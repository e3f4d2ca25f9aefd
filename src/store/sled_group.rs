//! sled transactions committed in memory one at a time and applied to sled
//! in groups. sled (0.34) writes two log buffers to disk for every
//! multi-tree transaction, whatever its size (one sealed before its batch
//! manifest, one sealed after), so many small transactions cost many disk
//! writes. Here a transaction's closure runs alone (one at a time, in the
//! order they arrive), reading through the changes committed before it and
//! not yet applied; its writes join the pending group; and the group is
//! applied to sled as one sled transaction by the next durable flush (or
//! before any read of a whole tree, any write outside a transaction, or
//! when the group grows large). A group is all or nothing on disk, as each
//! of its transactions was; none is acknowledged before the flush that
//! covers it.
//!
//! Every read of a record (inside a transaction or not) sees the committed
//! changes, applied or not: a key is looked up in the pending group, then in
//! the group being applied, then in sled. When nothing waits, a read costs
//! one atomic load more than sled's own.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use sled::IVec;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

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
    /// The writer of a database whose trees are `trees`.
    pub(crate) fn new(trees: Vec<sled::Tree>) -> Arc<Self> {
        let n = trees.len();
        Arc::new(Self {
            trees,
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
        if let Err(e) = self.write_group(&group) {
            // The group's outcome is unknown (sled may hold part of it in
            // memory): nothing more is applied, reads see what sled holds,
            // and the store suspends writes until it is opened again from
            // disk, which is the truth.
            tracing::error!(error = %e, writes = group.len, "a group of committed changes could not be written");
            self.failed.store(true, Ordering::Release);
            *self.pending.write().unwrap_or_else(PoisonError::into_inner) =
                Writes::new(self.trees.len());
            *self
                .applying
                .write()
                .unwrap_or_else(PoisonError::into_inner) = None;
            self.dirty.store(false, Ordering::Release);
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

    /// Writes a group to sled in one sled transaction over the trees it
    /// touches.
    fn write_group(&self, group: &Writes) -> sled::Result<()> {
        let touched: Vec<usize> = (0..self.trees.len())
            .filter(|&i| !group.trees[i].is_empty())
            .collect();
        let trees: Vec<&sled::Tree> = touched.iter().map(|&i| &self.trees[i]).collect();
        let result = sled::Transactional::<()>::transaction(
            trees.as_slice(),
            |views: &Vec<TransactionalTree>| {
                for (view, &i) in views.iter().zip(&touched) {
                    for (key, value) in &group.trees[i] {
                        match value {
                            Some(value) => view.insert(key.as_slice(), value.clone())?,
                            None => view.remove(key.as_slice())?,
                        };
                    }
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            },
        );
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Storage(e)) => Err(e),
            Err(TransactionError::Abort(())) => Err(sled::Error::ReportableBug(
                "a group of changes aborted".to_owned(),
            )),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, sled::Db, Arc<GroupWriter>) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let trees = vec![db.open_tree("a").unwrap(), db.open_tree("b").unwrap()];
        let writer = GroupWriter::new(trees);
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
            db.open_tree("b").unwrap().get(b"x").unwrap().as_deref(),
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
            let writer = GroupWriter::new(vec![db.open_tree("a").unwrap()]);
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
}
