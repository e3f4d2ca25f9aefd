//! The trees of the PostgreSQL engine: a tree's reads outside a
//! transaction, its scans a page at a time, and a tree inside a
//! transaction (its writes kept until the commit).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use super::pool::{Conn, wait};
use super::{Database, PAGE, StoreError, backend};
use crate::store::kv::TxFailure;

/// A key and its value.
pub(super) type Record = (Vec<u8>, Vec<u8>);

/// A transaction's writes, by tree, then key (so a read looks a key up
/// without copying it): a new value, or `None` to remove.
type PendingWrites = BTreeMap<&'static str, BTreeMap<Vec<u8>, Option<Vec<u8>>>>;

/// The state of one transaction: its connection and its pending writes.
pub(super) struct TxState<'a> {
    pub(super) conn: &'a Conn,
    pub(super) writes: RefCell<PendingWrites>,
}

/// One tree inside a PostgreSQL transaction.
pub(crate) struct TxTree<'a> {
    pub(super) state: &'a TxState<'a>,
    pub(super) tree: &'static str,
}

impl TxTree<'_> {
    /// The value under `key`: this transaction's own write, else the
    /// database's.
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(value) = self
            .state
            .writes
            .borrow()
            .get(self.tree)
            .and_then(|tree| tree.get(key))
        {
            return Ok(value.clone());
        }
        let c = self.state.conn;
        let row = wait(c.client.query_opt(&c.get, &[&self.tree, &key]))
            .map_err(|e| backend("read", &e))?;
        Ok(row.map(|row| row.get::<_, Vec<u8>>(0)))
    }

    /// Sets (`Some`) or removes (`None`) `key` at the commit.
    pub(crate) fn put(&self, key: &[u8], value: Option<&[u8]>) {
        self.state
            .writes
            .borrow_mut()
            .entry(self.tree)
            .or_default()
            .insert(key.to_vec(), value.map(<[u8]>::to_vec));
    }
}

/// A tree of the PostgreSQL store.
#[derive(Clone)]
pub(crate) struct Tree {
    database: Arc<Database>,
    name: &'static str,
}

impl Tree {
    /// The tree `name` of `database`.
    pub(crate) fn new(database: &Arc<Database>, name: &'static str) -> Self {
        Self {
            database: Arc::clone(database),
            name,
        }
    }

    /// The tree's name.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The database the tree is in.
    pub(crate) fn database(&self) -> &Arc<Database> {
        &self.database
    }

    /// The value under `key`.
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.database.get(self.name, key)
    }

    /// Sets or removes `key`, in a transaction of its own.
    pub(crate) fn put(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError> {
        let result = self.database.transaction([self.name], |[t]| {
            match value {
                Some(v) => t.insert(key, v)?,
                None => t.remove(key)?,
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(()),
            Err(TxFailure::Store(e)) => Err(e),
            Err(TxFailure::Abort(c) | TxFailure::AbortAt(_, c)) => {
                Err(StoreError::Backend(format!("write refused: {c:?}")))
            }
            Err(TxFailure::Sled(e)) => Err(e.into()),
        }
    }

    /// Replaces the value under `key` by `f(old)` in one transaction.
    pub(crate) fn update_and_fetch(
        &self,
        key: &[u8],
        f: impl Fn(Option<&[u8]>) -> Option<Vec<u8>>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let result = self.database.transaction([self.name], |[t]| {
            let old = t.get(key)?;
            let new = f(old.as_deref());
            match &new {
                Some(v) => t.insert(key, v)?,
                None => t.remove(key)?,
            }
            Ok(new)
        });
        match result {
            Ok(new) => Ok(new),
            Err(TxFailure::Store(e)) => Err(e),
            Err(TxFailure::Abort(c) | TxFailure::AbortAt(_, c)) => {
                Err(StoreError::Backend(format!("update refused: {c:?}")))
            }
            Err(TxFailure::Sled(e)) => Err(e.into()),
        }
    }

    /// The records from `start` to `end`, read a page at a time.
    pub(crate) fn range(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>) -> Iter {
        self.iter(start, end, false)
    }

    /// The records from `end` down to `start`, read a page at a time.
    pub(crate) fn range_rev(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>) -> Iter {
        self.iter(start, end, true)
    }

    fn iter(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>, reverse: bool) -> Iter {
        let start = match start {
            Bound::Included(k) => k,
            Bound::Excluded(mut k) => {
                k.push(0);
                k
            }
            Bound::Unbounded => Vec::new(),
        };
        let end = match end {
            Bound::Excluded(k) => Some(k),
            Bound::Included(mut k) => {
                k.push(0);
                Some(k)
            }
            Bound::Unbounded => None,
        };
        Iter {
            database: Arc::clone(&self.database),
            tree: self.name,
            start,
            end,
            reverse,
            more: true,
            page: VecDeque::new(),
        }
    }
}

/// Records of a tree in key order, read [`PAGE`] at a time.
pub(crate) struct Iter {
    database: Arc<Database>,
    tree: &'static str,
    /// The lowest key still to read (included).
    start: Vec<u8>,
    /// The key above every key still to read (excluded), if any.
    end: Option<Vec<u8>>,
    /// Last key first.
    reverse: bool,
    /// Whether pages remain to be read.
    more: bool,
    page: VecDeque<Record>,
}

impl Iterator for Iter {
    type Item = Result<(Vec<u8>, Vec<u8>), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.page.is_empty() {
            if !self.more {
                return None;
            }
            match self
                .database
                .page(self.tree, &self.start, self.end.as_deref(), self.reverse)
            {
                Ok(records) => {
                    self.more = records.len() as i64 == PAGE;
                    if let Some((last, _)) = records.last() {
                        if self.reverse {
                            self.end = Some(last.clone());
                        } else {
                            let mut after = last.clone();
                            after.push(0);
                            self.start = after;
                        }
                    }
                    self.page = records.into();
                }
                Err(e) => {
                    self.more = false;
                    return Some(Err(e));
                }
            }
        }
        self.page.pop_front().map(Ok)
    }
}
