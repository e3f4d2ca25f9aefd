//! The storage interface: ordered trees of byte keys and values, and
//! all-or-nothing transactions over several trees, with one implementation
//! per engine (sled embedded, PostgreSQL for a replicated deployment). The
//! registry's store (the files of `src/store/` above the engines) is written against this interface
//! only: which engine is below changes nothing above it.
//!
//! A transaction is a closure over its trees that may run more than once
//! (PostgreSQL runs it again when a connection was lost before the commit
//! was sent; on sled it runs once, alone: `sled_group.rs`); it reads its own
//! writes, and it is aborted with a [`Conflict`] (nothing written) or
//! committed whole.

use std::ops::Bound;

use super::postgres;
use super::sled_group::{SledTree, TxWrites};
use super::{Conflict, StoreError};

/// A stored value (or key), shared without a copy on the sled path.
pub(crate) type Bytes = sled::IVec;

/// One tree of one engine.
#[derive(Clone)]
pub(crate) enum Tree {
    /// A sled tree, written through the database's group writer.
    Sled(SledTree),
    /// A tree of the PostgreSQL store (its rows in the `records` table).
    Postgres(postgres::Tree),
}

impl Tree {
    /// The value under `key`.
    pub(crate) fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Bytes>, StoreError> {
        match self {
            Self::Sled(t) => Ok(t.get(key.as_ref())?),
            Self::Postgres(t) => Ok(t.get(key.as_ref())?.map(Bytes::from)),
        }
    }

    /// Whether `key` has a value.
    pub(crate) fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, StoreError> {
        match self {
            Self::Sled(t) => Ok(t.get(key.as_ref())?.is_some()),
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
                t.writer
                    .alone(|| t.tree.insert(key.as_ref(), value.as_ref()))?;
                Ok(())
            }
            Self::Postgres(t) => t.put(key.as_ref(), Some(value.as_ref())),
        }
    }

    /// Removes `key`, alone (not inside a transaction).
    pub(crate) fn remove(&self, key: impl AsRef<[u8]>) -> Result<(), StoreError> {
        match self {
            Self::Sled(t) => {
                t.writer.alone(|| t.tree.remove(key.as_ref()))?;
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
            Self::Sled(t) => Ok(t.writer.alone(|| t.tree.update_and_fetch(key, f))?),
            Self::Postgres(t) => Ok(t.update_and_fetch(key.as_ref(), f)?.map(Bytes::from)),
        }
    }

    /// Whether the tree holds no record.
    pub(crate) fn is_empty(&self) -> Result<bool, StoreError> {
        match self {
            Self::Sled(t) => Ok(t.applied()?.is_empty()),
            Self::Postgres(t) => Ok(t.range(Bound::Unbounded, Bound::Unbounded).next().is_none()),
        }
    }

    /// Every record, in key order.
    pub(crate) fn iter(&self) -> Iter {
        match self {
            Self::Sled(t) => match t.applied() {
                Ok(tree) => Iter::Sled(tree.iter()),
                Err(e) => Iter::Failed(Some(e.into())),
            },
            Self::Postgres(t) => Iter::Postgres(t.range(Bound::Unbounded, Bound::Unbounded)),
        }
    }

    /// The records whose key starts with `prefix`, in key order.
    pub(crate) fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Iter {
        let prefix = prefix.as_ref();
        match self {
            Self::Sled(t) => match t.applied() {
                Ok(tree) => Iter::Sled(tree.scan_prefix(prefix)),
                Err(e) => Iter::Failed(Some(e.into())),
            },
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
            Self::Sled(t) => match t.applied() {
                Ok(tree) => Iter::SledRev(tree.scan_prefix(prefix).rev()),
                Err(e) => Iter::Failed(Some(e.into())),
            },
            Self::Postgres(t) => {
                let end = prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded);
                Iter::Postgres(t.range_rev(Bound::Included(prefix.to_vec()), end))
            }
        }
    }

    /// The records whose key is below `end`, in key order.
    pub(crate) fn range_below(&self, end: Vec<u8>) -> Iter {
        match self {
            Self::Sled(t) => match t.applied() {
                Ok(tree) => Iter::Sled(tree.range(..end)),
                Err(e) => Iter::Failed(Some(e.into())),
            },
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
    /// The tree could not be read: this error, once.
    Failed(Option<StoreError>),
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
            Self::Failed(e) => e.take().map(Err),
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
    /// sled failed.
    Sled(sled::Error),
    /// The PostgreSQL engine failed.
    Postgres(StoreError),
}

impl From<sled::Error> for TxError {
    fn from(e: sled::Error) -> Self {
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
    /// A tree of a sled transaction.
    Sled(&'a TxWrites<'a>),
    /// A tree of a PostgreSQL transaction.
    Postgres(postgres::TxTree<'a>),
}

impl TxTree<'_> {
    /// The value under `key`, as this transaction sees it.
    pub(crate) fn get(&self, key: impl AsRef<[u8]>) -> TxResult<Option<Bytes>> {
        match self {
            Self::Sled(t) => Ok(t.get(key.as_ref())?),
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
                t.insert(key.as_ref(), value.as_ref());
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
            Self::Sled(t) => {
                let old = t.get(key.as_ref())?;
                t.remove(key.as_ref());
                Ok(old)
            }
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
                t.remove(key.as_ref());
                Ok(())
            }
            Self::Postgres(t) => {
                t.put(key.as_ref(), None);
                Ok(())
            }
        }
    }
}

/// Runs `f` as one transaction over `trees` (all of one engine): all of
/// its writes or none. On sled it runs alone and its writes join the
/// pending group (`sled_group.rs`), which the next durable flush applies.
pub(crate) fn transaction<const N: usize, R>(
    trees: [&Tree; N],
    f: impl Fn(&[TxTree<'_>; N]) -> TxResult<R>,
) -> Result<R, TxFailure> {
    let two_engines = || {
        TxFailure::Store(StoreError::Backend(
            "a transaction cannot span two engines or two databases".to_owned(),
        ))
    };
    match trees.first() {
        Some(Tree::Postgres(first)) => {
            let mut names = [""; N];
            for (slot, tree) in names.iter_mut().zip(trees) {
                match tree {
                    Tree::Postgres(t) => *slot = t.name(),
                    Tree::Sled(_) => return Err(two_engines()),
                }
            }
            first.database().transaction(names, f)
        }
        Some(Tree::Sled(first)) => {
            let mut indexes = [0usize; N];
            for (slot, tree) in indexes.iter_mut().zip(trees) {
                match tree {
                    Tree::Sled(t) if std::sync::Arc::ptr_eq(&t.writer, &first.writer) => {
                        *slot = t.index;
                    }
                    _ => return Err(two_engines()),
                }
            }
            let result = first.writer.transaction(&indexes, |txs| {
                let trees: [TxTree<'_>; N] = std::array::from_fn(|i| TxTree::Sled(&txs[i]));
                f(&trees)
            });
            match result {
                Ok(Ok(r)) => Ok(r),
                Ok(Err(TxError::Abort(c))) => Err(TxFailure::Abort(c)),
                Ok(Err(TxError::AbortAt(n, c))) => Err(TxFailure::AbortAt(n, c)),
                Ok(Err(TxError::Record(e) | TxError::Postgres(e))) => Err(TxFailure::Store(e)),
                Ok(Err(TxError::Sled(e))) | Err(e) => Err(TxFailure::Sled(e)),
            }
        }
        None => Err(TxFailure::Store(StoreError::Backend(
            "a transaction over no tree".to_owned(),
        ))),
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
