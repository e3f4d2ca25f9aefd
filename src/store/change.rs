//! What every atomic change shares: its `Effects`, and the helpers of the
//! transaction closures (a refusal, a record decoded or encoded inside).

use super::kv::{self, TxError, TxResult};
use super::{Charge, Conflict, DueEntry, Record, StoreError, codec};
use crate::model::{Audit, PollMessage};

/// Side effects committed in the same transaction as an object change:
/// who made it (recorded in the history), poll messages queued, agenda
/// entries added or removed.
#[derive(Debug, Clone)]
pub struct Effects {
    /// Who, when, which command: every change is recorded (R24).
    pub audit: Audit,
    /// What the change costs its registrar (R23).
    pub charge: Option<Charge>,
    /// Messages to queue.
    pub messages: Vec<PollMessage>,
    /// Agenda entries to add.
    pub due_add: Vec<DueEntry>,
    /// Agenda entries to remove.
    pub due_remove: Vec<DueEntry>,
}

impl Effects {
    /// Only the audit record.
    pub fn audit(audit: Audit) -> Self {
        Self {
            audit,
            charge: None,
            messages: Vec::new(),
            due_add: Vec::new(),
            due_remove: Vec::new(),
        }
    }
}

/// A tree inside a transaction.
pub(super) type Tx<'a> = kv::TxTree<'a>;

/// Refuses the change: the transaction aborts with `conflict`.
pub(super) fn abort<T>(conflict: Conflict) -> TxResult<T> {
    Err(TxError::Abort(conflict))
}

fn corrupt_in_tx(e: StoreError) -> TxError {
    TxError::Record(e)
}

/// Decodes a record read inside a transaction.
pub(super) fn decode_in_tx<T: Record>(raw: &[u8]) -> TxResult<T> {
    codec::decode("domains", raw).map_err(corrupt_in_tx)
}

/// Encodes a record to write inside a transaction.
pub(super) fn encode_in_tx<T: Record>(value: &T) -> TxResult<Vec<u8>> {
    codec::encode(value).map_err(corrupt_in_tx)
}
