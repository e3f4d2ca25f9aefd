//! What can go wrong: `StoreError` (the store could not do it), `Conflict`
//! (an atomic change was refused), and `ChangeResult`, the outcome of a
//! change that may be either.

use std::path::Path;

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled reported an error.
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    /// A record could not be decoded.
    #[error("corrupt record in {tree}: {detail}")]
    Corrupt {
        /// The tree.
        tree: &'static str,
        /// What failed.
        detail: String,
    },
    /// The store was written by another format version.
    #[error(
        "the store at {path} has format version {found}, this build reads version {expected}; migrate it or use the matching ma-registry"
    )]
    Version {
        /// The store's path.
        path: String,
        /// The version recorded in the store.
        found: u32,
        /// The version of this build.
        expected: u32,
    },
    /// The directory holds a sled database that is not a registry store.
    #[error("{0} holds data that is not an ma-registry store")]
    Foreign(String),
    /// The disk flush failed, so durability cannot be promised.
    #[error("flush to disk failed: {0}")]
    Flush(String),
    /// A change's outcome is unknown: on sled, it was committed in memory
    /// and the flush that had to make it durable failed; on PostgreSQL, the
    /// connection was lost while its `COMMIT` was on its way. It may or may
    /// not survive.
    #[error("a committed change could not be made durable: {0}")]
    NotDurable(String),
    /// The store takes no writes until its disk works again (it failed a
    /// write or a flush; see [`Store::suspension`]); nothing was changed.
    #[error("the store takes no writes for now: {0}")]
    WritesSuspended(String),
    /// The store is being reopened after a disk failure, for a moment.
    #[error("the store is being reopened after a disk failure")]
    Reopening,
    /// The store's files are damaged: sled cannot read them back.
    #[error(
        "the store in {dir} is damaged: {file} cannot be read back ({detail}); restore the last backup (admin restore) or start from the standby; `ma-registry serve --check` tells what is wrong"
    )]
    Damaged {
        /// The data directory.
        dir: String,
        /// The file that could not be read.
        file: String,
        /// What sled reported.
        detail: String,
    },
    /// The PostgreSQL engine failed (its reason and SQLSTATE).
    #[error("{0}")]
    Backend(String),
    /// The PostgreSQL database is out of reach (no connection, a lost one,
    /// a server shutting down or out of resources): a read failed, or a
    /// change was not made.
    #[error("the database is unavailable, nothing was changed: {0}")]
    Unavailable(String),
    /// A backup could not be written, read or restored.
    #[error("backup: {0}")]
    Backup(String),
    /// A file or directory of the store cannot be opened: its mode or
    /// owner, a directory where a file should be, …
    #[error("{reason}: {}", .path.display())]
    Access {
        /// The file or directory.
        path: std::path::PathBuf,
        /// Why, as the system says it (`permission denied`).
        reason: String,
    },
}

impl StoreError {
    pub(super) fn access(path: &Path, error: &std::io::Error) -> Self {
        Self::Access {
            path: path.to_owned(),
            reason: os_reason(error),
        }
    }
}

/// The system's words for an I/O error, without the error number:
/// `permission denied`, `is a directory`.
fn os_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => &text[..at],
        _ => text.as_str(),
    };
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Why an atomic change did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// The object exists already.
    Exists,
    /// The object changed (or vanished) since it was read; read again and retry.
    Changed,
    /// A referenced contact does not exist.
    MissingContact(String),
    /// A referenced host does not exist.
    MissingHost(String),
    /// The superordinate domain of a host does not exist.
    MissingSuperordinate(String),
    /// The superordinate domain is sponsored by another registrar.
    ForeignSuperordinate(String),
    /// The object is referenced by a domain.
    Linked,
    /// A subordinate host is delegated to by another domain.
    HostInUse(String),
    /// The allocation token is unknown, used, or for another name.
    TokenInvalid,
    /// The registrar's balance cannot pay the charge (R23).
    InsufficientFunds {
        /// The balance, centimes.
        balance: i64,
        /// The price, centimes.
        price: i64,
    },
}

/// The outcome of an atomic change: a store failure, or the change applied or refused.
pub type ChangeResult = Result<Result<(), Conflict>, StoreError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_of_an_io_error_is_the_systems_words() {
        assert_eq!(
            os_reason(&std::io::Error::from_raw_os_error(libc::EACCES)),
            "permission denied"
        );
    }
}
