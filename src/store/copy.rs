//! Copying a whole store into an empty store of another engine (sled into
//! PostgreSQL, and back), then checking the copy record by record: every
//! tree, in key order, key and value equal, and the same number of records.

use sha2::{Digest as _, Sha256};

use super::engine::Backend;
use super::kv::{self, Bytes, Tree, TxFailure};
use super::{Store, StoreError};

/// Records written per transaction of the copy.
const BATCH: usize = 1_000;

/// What a copy wrote and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Trees copied.
    pub trees: usize,
    /// Records copied, and read back equal.
    pub records: u64,
    /// SHA-256 over every tree's name and records, equal on both sides.
    pub digest: String,
}

impl Store {
    /// Copies every record of this store into `target`, which must hold no
    /// registry object yet, and checks the copy record by record. Holds
    /// this store's writes off meanwhile. The target's id counter resumes
    /// after this store's, and its next start counts a new boot after this
    /// store's, so no roid, ledger line or svTRID is ever given twice.
    ///
    /// # Errors
    /// [`StoreError::Backup`] for a target that is not empty or a copy that
    /// does not read back equal; storage errors.
    pub fn copy_into(&self, target: &Store) -> Result<CopyReport, StoreError> {
        let _all = self
            .inner
            .gate
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        target.refuse_unless_new()?;
        let source = self.engine()?;
        let dest = target.engine()?;
        let mark = source.generate_id()?;
        let mut report = CopyReport {
            trees: 0,
            records: 0,
            digest: String::new(),
        };
        for ((name, from), (_, to)) in source.trees().into_iter().zip(dest.trees()) {
            let mut batch: Vec<(Bytes, Bytes)> = Vec::with_capacity(BATCH);
            for entry in from.iter() {
                batch.push(entry?);
                if batch.len() == BATCH {
                    write_batch(to, &batch)?;
                    report.records += batch.len() as u64;
                    batch.clear();
                }
            }
            write_batch(to, &batch)?;
            report.records += batch.len() as u64;
            report.trees += 1;
            tracing::info!(tree = name, records = report.records, "tree copied");
        }
        reserve_ids(&dest.backend, mark)?;
        dest.flush_now()?;
        let expected = digest_of(&source.trees())?;
        let found = digest_of(&dest.trees())?;
        if expected.0 != found.0 || expected.1 != report.records || found.1 != report.records {
            return Err(StoreError::Backup(format!(
                "the copy does not read back equal: {} records written, {} read back",
                report.records, found.1
            )));
        }
        compare(&source.trees(), &dest.trees())?;
        report.digest = hex::encode(expected.0);
        Ok(report)
    }
}

impl Store {
    /// `Err` unless the store is new: it holds its format version and boot
    /// count, and nothing else.
    ///
    /// # Errors
    /// [`StoreError::Backup`] naming a tree that holds records; storage errors.
    pub fn refuse_unless_new(&self) -> Result<(), StoreError> {
        for (name, tree) in self.engine()?.trees() {
            if name != "meta" && !tree.is_empty()? {
                return Err(StoreError::Backup(format!(
                    "the target store is not empty (its {name} tree holds records): copy into a new one"
                )));
            }
        }
        Ok(())
    }
}

fn write_batch(to: &Tree, batch: &[(Bytes, Bytes)]) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    match kv::transaction([to], |[t]| {
        for (key, value) in batch {
            t.insert(key, value)?;
        }
        Ok(())
    }) {
        Ok(()) => Ok(()),
        Err(TxFailure::Store(e)) => Err(e),
        Err(TxFailure::Sled(e)) => Err(e.into()),
        Err(TxFailure::Abort(c) | TxFailure::AbortAt(_, c)) => {
            Err(StoreError::Backup(format!("the copy was refused: {c:?}")))
        }
    }
}

/// Makes the target's id counter give numbers above `mark`.
fn reserve_ids(backend: &Backend, mark: u64) -> Result<(), StoreError> {
    match backend {
        Backend::Sled { db, .. } => {
            while db.generate_id()? <= mark {}
            Ok(())
        }
        Backend::Postgres(database) => database.reserve_ids(mark),
    }
}

/// The SHA-256 of every tree's name and records, and the record count.
fn digest_of(trees: &[(&'static str, &Tree); 11]) -> Result<([u8; 32], u64), StoreError> {
    let mut digest = Sha256::new();
    let mut records = 0u64;
    for (name, tree) in trees {
        digest.update((name.len() as u64).to_be_bytes());
        digest.update(name.as_bytes());
        for entry in tree.iter() {
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

/// Reads both stores side by side and names the first record that differs.
fn compare(
    source: &[(&'static str, &Tree); 11],
    dest: &[(&'static str, &Tree); 11],
) -> Result<(), StoreError> {
    for ((name, a), (_, b)) in source.iter().zip(dest) {
        let mut left = a.iter();
        let mut right = b.iter();
        loop {
            match (left.next().transpose()?, right.next().transpose()?) {
                (None, None) => break,
                (Some(x), Some(y)) if x == y => {}
                (x, y) => {
                    let key = x
                        .or(y)
                        .map(|(k, _)| String::from_utf8_lossy(&k).into_owned());
                    return Err(StoreError::Backup(format!(
                        "the copy differs in tree {name} at key {key:?}"
                    )));
                }
            }
        }
    }
    Ok(())
}
