//! The storage interface: ordered trees of byte keys and values, and
//! all-or-nothing transactions over several trees, with one implementation
//! per engine (sled embedded, PostgreSQL for a replicated deployment). The
//! registry's store (the files of `src/store/` above the engines) is written against this interface
//! only: which engine is below changes nothing above it.
//!
//! A transaction is a closure over its trees that may run more than once
//! (sled retries it on a conflict, PostgreSQL when a connection was lost
//! before the commit was sent); it reads its own writes, and it is aborted
//! with a [`Conflict`] (nothing written) or committed whole.

use std::ops::Bound;

use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError,
};

use super::postgres;
use super::{Conflict, StoreError};

/// A stored value (or key), shared without a copy on the sled path.
pub(crate) type Bytes = sled::IVec;

/// One tree of one engine.
#[derive(Clone)]
pub(crate) enum Tree {
    /// A sled tree.
    Sled(sled::Tree),
    /// A tree of the PostgreSQL store (its rows in the `records` table).
    Postgres(postgres::Tree),
}

impl Tree {
    /// The value under `key`.
    pub(crate) fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Bytes>, StoreError> {
        match self {
            Self::Sled(t) => Ok(t.get(key)?),
            Self::Postgres(t) => Ok(t.get(key.as_ref())?.map(Bytes::from)),
        }
    }

    /// Whether `key` has a value.
    pub(crate) fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, StoreError> {
        match self {
            Self::Sled(t) => Ok(t.contains_key(key)?),
            Self::Postgres(t) => Ok(t.get(key.as_ref())?.is_some()),
        }
    }

    /// Sets `key` to `value`, alone (not inside a transaction).
    pub(crate) fn insert(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<(), StoreError> {
        match self {
            Self::Sled(t) => {
                t.insert(key.as_ref(), value.as_ref())?;
                Ok(())
            }
            Self::Postgres(t) => t.put(key.as_ref(), Some(value.as_ref())),
        }
    }

    /// Removes `key`, alone (not inside a transaction).
    pub(crate) fn remove(&self, key: impl AsRef<[u8]>) -> Result<(), StoreError> {
        match self {
            Self::Sled(t) => {
                t.remove(key)?;
                Ok(())
            }
            Self::Postgres(t) => t.put(key.as_ref(), None),
        }
    }

    /// Replaces the value under `key` by `f(old)` (`None` removes it) in
    /// one atomic step, and returns the new value.
    pub(crate) fn update_and_fetch(
        &self,
        key: impl AsRef<[u8]>,
        f: impl Fn(Option<&[u8]>) -> Option<Vec<u8>>,
    ) -> Result<Option<Bytes>, StoreError> {
        match self {
            Self::Sled(t) => Ok(t.update_and_fetch(key, f)?),
            Self::Postgres(t) => Ok(t.update_and_fetch(key.as_ref(), f)?.map(Bytes::from)),
        }
    }

    /// Whether the tree holds no record.
    pub(crate) fn is_empty(&self) -> Result<bool, StoreError> {
        match self {
            Self::Sled(t) => Ok(t.is_empty()),
            Self::Postgres(t) => Ok(t.range(Bound::Unbounded, Bound::Unbounded).next().is_none()),
        }
    }

    /// Every record, in key order.
    pub(crate) fn iter(&self) -> Iter {
        match self {
            Self::Sled(t) => Iter::Sled(t.iter()),
            Self::Postgres(t) => Iter::Postgres(t.range(Bound::Unbounded, Bound::Unbounded)),
        }
    }

    /// The records whose key starts with `prefix`, in key order.
    pub(crate) fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Iter {
        let prefix = prefix.as_ref();
        match self {
            Self::Sled(t) => Iter::Sled(t.scan_prefix(prefix)),
            Self::Postgres(t) => {
                let end = prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded);
                Iter::Postgres(t.range(Bound::Included(prefix.to_vec()), end))
            }
        }
    }

    /// The records whose key starts with `prefix`, last key first.
    pub(crate) fn scan_prefix_rev(&self, prefix: impl AsRef<[u8]>) -> Iter {
        let prefix = prefix.as_ref();
        match self {
            Self::Sled(t) => Iter::SledRev(t.scan_prefix(prefix).rev()),
            Self::Postgres(t) => {
                let end = prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded);
                Iter::Postgres(t.range_rev(Bound::Included(prefix.to_vec()), end))
            }
        }
    }

    /// The records whose key is below `end`, in key order.
    pub(crate) fn range_below(&self, end: Vec<u8>) -> Iter {
        match self {
            Self::Sled(t) => Iter::Sled(t.range(..end)),
            Self::Postgres(t) => Iter::Postgres(t.range(Bound::Unbounded, Bound::Excluded(end))),
        }
    }
}

/// The first key after every key that starts with `prefix`, if there is one.
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Records of a tree in key order.
pub(crate) enum Iter {
    /// From sled.
    Sled(sled::Iter),
    /// From sled, last key first.
    SledRev(std::iter::Rev<sled::Iter>),
    /// From PostgreSQL, read a page at a time.
    Postgres(postgres::Iter),
}

impl Iterator for Iter {
    type Item = Result<(Bytes, Bytes), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::Sled(i) => i.next().map(|r| r.map_err(StoreError::from)),
            Self::SledRev(i) => i.next().map(|r| r.map_err(StoreError::from)),
            Self::Postgres(i) => i
                .next()
                .map(|r| r.map(|(k, v)| (Bytes::from(k), Bytes::from(v)))),
        }
    }
}

impl Iter {
    /// The keys only.
    pub(crate) fn keys(self) -> impl Iterator<Item = Result<Bytes, StoreError>> {
        self.map(|r| r.map(|(k, _)| k))
    }

    /// The values only.
    pub(crate) fn values(self) -> impl Iterator<Item = Result<Bytes, StoreError>> {
        self.map(|r| r.map(|(_, v)| v))
    }
}

/// Why a transaction's closure stopped.
#[derive(Debug)]
pub(crate) enum TxError {
    /// The change is refused: nothing is written.
    Abort(Conflict),
    /// One change of a batch is refused (which one): nothing is written.
    AbortAt(usize, Conflict),
    /// A record could not be decoded or encoded: nothing is written.
    Record(StoreError),
    /// sled saw a conflict (it runs the closure again) or failed.
    Sled(UnabortableTransactionError),
    /// The PostgreSQL engine failed.
    Postgres(StoreError),
}

impl From<UnabortableTransactionError> for TxError {
    fn from(e: UnabortableTransactionError) -> Self {
        Self::Sled(e)
    }
}

/// The result of a step inside a transaction.
pub(crate) type TxResult<T> = Result<T, TxError>;

/// Why a transaction did not commit.
#[derive(Debug)]
pub(crate) enum TxFailure {
    /// Refused by the closure: nothing was written.
    Abort(Conflict),
    /// One change of a batch refused: nothing was written.
    AbortAt(usize, Conflict),
    /// Failed; see the error for whether anything may have been written.
    Store(StoreError),
    /// sled failed while it committed.
    Sled(sled::Error),
}

/// One tree inside a transaction.
pub(crate) enum TxTree<'a> {
    /// A sled transactional tree.
    Sled(&'a TransactionalTree),
    /// A tree of a PostgreSQL transaction.
    Postgres(postgres::TxTree<'a>),
}

impl TxTree<'_> {
    /// The value under `key`, as this transaction sees it.
    pub(crate) fn get(&self, key: impl AsRef<[u8]>) -> TxResult<Option<Bytes>> {
        match self {
            Self::Sled(t) => Ok(t.get(key)?),
            Self::Postgres(t) => t
                .get(key.as_ref())
                .map(|v| v.map(Bytes::from))
                .map_err(TxError::Postgres),
        }
    }

    /// Sets `key` to `value` when the transaction commits.
    pub(crate) fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> TxResult<()> {
        match self {
            Self::Sled(t) => {
                t.insert(key.as_ref(), value.as_ref())?;
                Ok(())
            }
            Self::Postgres(t) => {
                t.put(key.as_ref(), Some(value.as_ref()));
                Ok(())
            }
        }
    }

    /// Removes `key` when the transaction commits, and returns the value
    /// it had.
    pub(crate) fn take(&self, key: impl AsRef<[u8]>) -> TxResult<Option<Bytes>> {
        match self {
            Self::Sled(t) => Ok(t.remove(key.as_ref())?),
            Self::Postgres(t) => {
                let old = self.get(key.as_ref())?;
                t.put(key.as_ref(), None);
                Ok(old)
            }
        }
    }

    /// Removes `key` when the transaction commits.
    pub(crate) fn remove(&self, key: impl AsRef<[u8]>) -> TxResult<()> {
        match self {
            Self::Sled(t) => {
                t.remove(key.as_ref())?;
                Ok(())
            }
            Self::Postgres(t) => {
                t.put(key.as_ref(), None);
                Ok(())
            }
        }
    }
}

/// What a sled transaction aborts with.
enum SledAbort {
    Conflict(Conflict),
    ConflictAt(usize, Conflict),
    Store(StoreError),
}

/// Runs `f` as one transaction over `trees` (all of one engine): all of
/// its writes or none.
pub(crate) fn transaction<const N: usize, R>(
    trees: [&Tree; N],
    f: impl Fn(&[TxTree<'_>; N]) -> TxResult<R>,
) -> Result<R, TxFailure> {
    match trees.first() {
        Some(Tree::Postgres(first)) => {
            let mut names = [""; N];
            for (slot, tree) in names.iter_mut().zip(trees) {
                match tree {
                    Tree::Postgres(t) => *slot = t.name(),
                    Tree::Sled(_) => {
                        return Err(TxFailure::Store(StoreError::Backend(
                            "a transaction cannot span two engines".to_owned(),
                        )));
                    }
                }
            }
            first.database().transaction(names, f)
        }
        _ => {
            let mut sled_trees: Vec<&sled::Tree> = Vec::with_capacity(N);
            for tree in trees {
                match tree {
                    Tree::Sled(t) => sled_trees.push(t),
                    Tree::Postgres(_) => {
                        return Err(TxFailure::Store(StoreError::Backend(
                            "a transaction cannot span two engines".to_owned(),
                        )));
                    }
                }
            }
            let result = sled::Transactional::<SledAbort>::transaction(
                sled_trees.as_slice(),
                |views: &Vec<TransactionalTree>| {
                    let trees: [TxTree<'_>; N] = std::array::from_fn(|i| TxTree::Sled(&views[i]));
                    f(&trees).map_err(|e| match e {
                        TxError::Abort(c) => {
                            ConflictableTransactionError::Abort(SledAbort::Conflict(c))
                        }
                        TxError::AbortAt(n, c) => {
                            ConflictableTransactionError::Abort(SledAbort::ConflictAt(n, c))
                        }
                        TxError::Record(e) | TxError::Postgres(e) => {
                            ConflictableTransactionError::Abort(SledAbort::Store(e))
                        }
                        TxError::Sled(e) => e.into(),
                    })
                },
            );
            match result {
                Ok(r) => Ok(r),
                Err(TransactionError::Abort(SledAbort::Conflict(c))) => Err(TxFailure::Abort(c)),
                Err(TransactionError::Abort(SledAbort::ConflictAt(n, c))) => {
                    Err(TxFailure::AbortAt(n, c))
                }
                Err(TransactionError::Abort(SledAbort::Store(e))) => Err(TxFailure::Store(e)),
                Err(TransactionError::Storage(e)) => Err(TxFailure::Sled(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn the_end_of_a_prefix_is_the_first_key_after_it() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }
}
