//! The `poll` tree: one FIFO queue of messages per registrar, with its
//! length, and the queueing of messages inside a change's transaction.

use super::change::Tx;
use super::kv::TxResult;
use super::{Store, StoreError, codec, keys, kv};
use crate::model::PollMessage;

impl Store {
    /// A new poll message id, unique in the registry.
    ///
    /// # Errors
    /// Storage errors.
    pub fn next_message_id(&self) -> Result<u64, StoreError> {
        Ok(self.engine()?.generate_id()? + 1)
    }

    /// The oldest message of a registrar's queue, and the queue's length.
    ///
    /// # Errors
    /// Storage or decoding errors.
    pub fn poll_head(&self, registrar: &str) -> Result<Option<(PollMessage, u64)>, StoreError> {
        let prefix = keys::registrar_seq(registrar);
        let Some(first) = self.engine()?.poll.scan_prefix(&prefix).next() else {
            return Ok(None);
        };
        let (_, value) = first?;
        let message: PollMessage = codec::decode("poll", &value)?;
        Ok(Some((message, self.poll_count(registrar)?)))
    }

    /// How many messages wait for a registrar.
    ///
    /// # Errors
    /// Storage errors.
    pub fn poll_count(&self, registrar: &str) -> Result<u64, StoreError> {
        Ok(read_u64(
            self.engine()?
                .poll
                .get(keys::poll_count(registrar))?
                .as_deref(),
        ))
    }

    /// Removes a message from a registrar's queue; returns the remaining
    /// count, or `None` when the registrar has no such message.
    ///
    /// # Errors
    /// Storage errors.
    pub fn poll_ack(&self, registrar: &str, id: u64) -> Result<Option<u64>, StoreError> {
        let _write = self.write_gate()?;
        let key = keys::poll(registrar, id);
        let count_key = keys::poll_count(registrar);
        let result = kv::transaction([&self.engine()?.poll], |[poll]| {
            if poll.take(key.as_slice())?.is_none() {
                return Ok(None);
            }
            let n = read_u64(poll.get(&count_key)?.as_deref()).saturating_sub(1);
            poll.insert(count_key.as_slice(), n.to_be_bytes())?;
            Ok(Some(n))
        });
        result.map_err(|e| self.tx_failed(e))
    }

    /// Queues messages outside any object change (registry notices).
    ///
    /// # Errors
    /// Storage errors.
    pub fn queue_messages(&self, messages: &[PollMessage]) -> Result<(), StoreError> {
        let _write = self.write_gate()?;
        let encoded = encoded_messages(messages)?;
        let result = kv::transaction([&self.engine()?.poll], |[poll]| {
            for (key, value) in &encoded {
                queue(poll, key, value)?;
            }
            Ok(())
        });
        result.map_err(|e| self.tx_failed(e))
    }
}

/// A `u64` value (big-endian), 0 when there is none.
pub(super) fn read_u64(v: Option<&[u8]>) -> u64 {
    v.and_then(|v| <[u8; 8]>::try_from(v).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

/// Appends a message to its registrar's queue and counts it.
pub(super) fn queue(poll: &Tx, key: &[u8], value: &[u8]) -> TxResult<()> {
    poll.insert(key, value)?;
    let registrar = String::from_utf8_lossy(keys::poll_registrar(key));
    let count_key = keys::poll_count(&registrar);
    let n = read_u64(poll.get(&count_key)?.as_deref()) + 1;
    poll.insert(count_key, n.to_be_bytes())?;
    Ok(())
}

/// A message's key in the `poll` tree and the encoded message.
pub(super) type EncodedMessage = (Vec<u8>, Vec<u8>);

/// Messages encoded with their keys, for [`queue`] inside a transaction.
pub(super) fn encoded_messages(
    messages: &[PollMessage],
) -> Result<Vec<EncodedMessage>, StoreError> {
    messages
        .iter()
        .map(|m| Ok((keys::poll(&m.registrar, m.id), codec::encode(m)?)))
        .collect()
}
