//! Record encoding: one version byte, then postcard. A record type that
//! changes shape gets a new version byte and a migration.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// The current record encoding.
const RECORD_V1: u8 = 1;

/// A type stored as a record.
pub trait Record: Serialize + DeserializeOwned {}
impl<T: Serialize + DeserializeOwned> Record for T {}

/// Encodes a record.
pub fn encode<T: Record>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![RECORD_V1];
    let body = postcard::to_allocvec(value).map_err(|e| StoreError::Corrupt {
        tree: "(encode)",
        detail: e.to_string(),
    })?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes a record.
pub fn decode<T: Record>(tree: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&RECORD_V1, body)) => postcard::from_bytes(body).map_err(|e| StoreError::Corrupt {
            tree,
            detail: e.to_string(),
        }),
        _ => Err(StoreError::Corrupt {
            tree,
            detail: "unknown record version".into(),
        }),
    }
}

/// Reads and decodes one record.
pub fn get<T: Record>(
    tree_handle: &super::kv::Tree,
    tree: &'static str,
    key: &[u8],
) -> Result<Option<T>, StoreError> {
    tree_handle.get(key)?.map(|v| decode(tree, &v)).transpose()
}
