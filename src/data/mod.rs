//! Registry data in bulk, in and out of the store: the RFC 8909/9022 escrow
//! deposit ([`escrow`]: writer and reader), the legacy system's JSON-lines
//! files ([`legacy`]: reader), and the one loader both readers feed
//! ([`load`]), which validates every record, skips what the store holds
//! already and loads the rest with its history and agenda.

pub mod escrow;
pub mod legacy;
pub mod load;

use crate::store::StoreError;

/// A bulk operation that could not run (as opposed to a record refused,
/// which the report lists and the operation goes on).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The input is not a deposit or a file this command reads.
    #[error("{0}")]
    Format(String),
    /// The store is not in the state the operation needs.
    #[error("{0}")]
    Refused(String),
}

impl DataError {
    /// An I/O failure on `path`.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
