//! The `history` tree (R24): each change's record, written in its
//! transaction and appended to the one hash chain (`HistoryWrite`), the
//! check of that chain, an object's history, and the audit of the
//! registry's own changes.

use super::change::Tx;
use super::kv::{TxError, TxResult};
use super::{Store, StoreError, codec, keys};
use crate::model::{Audit, HistoryRecord, Timestamp};

/// The history record of a change the registry makes itself: by the
/// life-cycle engine (`who` = `ma-registry`) or an operator (`operator:<name>`).
pub fn registry_audit(store: &Store, now: Timestamp, who: &str, command: &str) -> Audit {
    Audit {
        at: now,
        who: who.to_owned(),
        command: command.to_owned(),
        cl_trid: None,
        sv_trid: store.next_sv_trid(),
        request: None,
    }
}

/// A history record, encoded, with its key.
pub(super) struct HistoryWrite {
    key: Vec<u8>,
    record: HistoryRecord,
}

fn record_hash(value: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(value).into()
}

impl HistoryWrite {
    /// Appends the record to the registry's one history chain, inside the
    /// change's transaction: it takes the head's place + 1 and the head's
    /// hash, and becomes the head.
    pub(super) fn apply(&self, history: &Tx) -> TxResult<()> {
        let (place, prev) = match history.get(keys::CHAIN_HEAD)? {
            Some(head) if head.len() == 40 => {
                let mut place = [0u8; 8];
                place.copy_from_slice(&head[..8]);
                let mut prev = [0u8; 32];
                prev.copy_from_slice(&head[8..]);
                (u64::from_be_bytes(place), prev)
            }
            _ => (0, [0u8; 32]),
        };
        let mut record = self.record.clone();
        record.chain = place + 1;
        record.prev = prev;
        let value = codec::encode(&record).map_err(TxError::Record)?;
        let mut head = Vec::with_capacity(40);
        head.extend_from_slice(&record.chain.to_be_bytes());
        head.extend_from_slice(&record_hash(&value));
        history.insert(self.key.as_slice(), value)?;
        history.insert(keys::chain_index(record.chain), self.key.as_slice())?;
        history.insert(keys::CHAIN_HEAD, head)?;
        Ok(())
    }
}

/// The result of checking the history chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainCheck {
    /// Every record is in place and unchanged.
    Intact {
        /// Records checked.
        records: u64,
    },
    /// The first place where the chain breaks, and why.
    Broken {
        /// The place in the chain.
        place: u64,
        /// What is wrong there.
        reason: String,
    },
}

impl Store {
    pub(super) fn history_write(
        &self,
        audit: &Audit,
        kind: &str,
        name: &str,
        after: Option<String>,
    ) -> Result<HistoryWrite, StoreError> {
        let seq = self.engine()?.generate_id()?;
        Ok(HistoryWrite {
            key: keys::history(kind, name, seq),
            record: HistoryRecord {
                audit: audit.clone(),
                kind: kind.to_owned(),
                name: name.to_owned(),
                after,
                chain: 0,
                prev: [0; 32],
            },
        })
    }

    /// Walks the history chain from its first record to its head, checking
    /// that each record is where the chain says and holds the hash of the
    /// one before (R24). Writes wait while it runs.
    ///
    /// # Errors
    /// Storage failures.
    pub fn verify_history(&self) -> Result<ChainCheck, StoreError> {
        // No write may move the head while the chain is walked.
        let _all = self
            .inner
            .gate
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let history = &self.engine()?.history;
        let head = match history.get(keys::CHAIN_HEAD)? {
            Some(head) if head.len() == 40 => {
                let mut place = [0u8; 8];
                place.copy_from_slice(&head[..8]);
                let mut hash = [0u8; 32];
                hash.copy_from_slice(&head[8..]);
                Some((u64::from_be_bytes(place), hash))
            }
            Some(_) => {
                return Ok(ChainCheck::Broken {
                    place: 0,
                    reason: "the chain's head is malformed".into(),
                });
            }
            None => None,
        };
        let mut prev = [0u8; 32];
        let mut expected = 1u64;
        for entry in history.scan_prefix([keys::CHAIN_INDEX]) {
            let (index, key) = entry?;
            let place = keys::chain_place(&index);
            let broken = |reason: String| Ok(ChainCheck::Broken { place, reason });
            if place != expected {
                return broken(format!("record {expected} is missing"));
            }
            let Some(value) = history.get(&key)? else {
                return broken(format!(
                    "the record {} is gone",
                    String::from_utf8_lossy(&key).replace('\0', "#")
                ));
            };
            let record: HistoryRecord = match codec::decode("history", &value) {
                Ok(record) => record,
                Err(e) => return broken(format!("unreadable record: {e}")),
            };
            if record.chain != place {
                return broken(format!("the record says it is number {}", record.chain));
            }
            if record.prev != prev {
                return broken(format!(
                    "the record of {} {} at {} does not hold the hash of the record before it: it or the one before was changed",
                    record.kind, record.name, record.audit.at
                ));
            }
            prev = record_hash(&value);
            expected += 1;
        }
        match head {
            Some((place, hash)) if place != expected - 1 || hash != prev => {
                Ok(ChainCheck::Broken {
                    place,
                    reason: "the chain's head does not match its last record: records were removed or changed".into(),
                })
            }
            None if expected > 1 => Ok(ChainCheck::Broken {
                place: 0,
                reason: "the chain's head is missing".into(),
            }),
            _ => Ok(ChainCheck::Intact {
                records: expected - 1,
            }),
        }
    }

    /// The history of an object, oldest first (R24).
    ///
    /// # Errors
    /// Storage or decoding errors.
    pub fn history(&self, kind: &str, name: &str) -> Result<Vec<HistoryRecord>, StoreError> {
        self.engine()?
            .history
            .scan_prefix(keys::history_of(kind, name))
            .values()
            .map(|v| codec::decode("history", &v?))
            .collect()
    }
}

/// An object as JSON, for its history.
pub(super) fn json_snapshot<T: serde::Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}
