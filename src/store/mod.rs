//! The store: every tree, key layout and index, the record encoding, the
//! format version, and durable commits (group commit). Knows no XML and no
//! charter rule: flows decide, the store applies a decision atomically.
//!
//! Trees (every key is built in `keys.rs`, which pins the layout):
//! - `meta`: `format_version` (u32 BE), `boot` (u64 BE, one per process start),
//!   `zone_serial:{zone}` (u32 BE, the last SOA serial exported for the zone).
//!   `roid_base` (u64 BE, added to every new roid's number so that new
//!   roids never repeat one an import brought in), `terms_seeded`;
//!   `group_intent:{chunk}` on sled while a group is written (`sled_group.rs`).
//! - `registrars`: clID → [`Registrar`](crate::model::Registrar).
//! - `domains`: name → [`Domain`](crate::model::Domain); `contacts`: id →
//!   [`Contact`](crate::model::Contact); `hosts`: name → [`Host`](crate::model::Host).
//! - `poll`: `{registrar}\0{id u64 BE}` → [`PollMessage`](crate::model::PollMessage),
//!   one FIFO per registrar; `#{registrar}` → its length (u64 BE).
//! - `due`: `{instant ms u64 BE}{kind}{name}` → (): the life-cycle's agenda, so
//!   a sweep reads only what is due.
//! - `names`: `r{label}` → category (R4 reserved), `b{label}` → reason (R5
//!   blocked), `t{token}` → [`AllocationToken`](crate::model::AllocationToken) (R4).
//! - `history`: `{kind}:{name}\0{seq u64 BE}` → [`HistoryRecord`](crate::model::HistoryRecord)
//!   (R24), written in the same transaction as the change it records;
//!   `0xFE{place u64 BE}` → the record's key, and `0xFF 0xFF chain-head`:
//!   the hash chain.
//! - `ledger`: `#{registrar}` → balance (i64 BE, centimes); `{registrar}\0{seq}`
//!   → [`LedgerEntry`](crate::model::LedgerEntry) (R23), written in the
//!   transaction of the change charged.
//! - `refs`: the indexes, so nothing is ever found by a scan:
//!   `C{contact}\0{domain}` contact used by domain; `H{host}\0{domain}` host
//!   delegated to from domain; `R{registrar}\0{domain}` domain sponsored by
//!   registrar (values empty); `#c{contact}` and `#h{host}`: how many domains
//!   use the object (u32 BE), read inside transactions so that a delete never
//!   races a new reference; `W{kind}{name}` the waiting list (R20);
//!   `N{registrar}\0{YYYY-MM}` the creates of a month (R21). A domain record
//!   lists its subordinate hosts.
//!
//! Files:
//! - `keys.rs`: the key layout of every tree, its tag bytes and constructors.
//! - `errors.rs`: [`StoreError`], [`Conflict`], [`ChangeResult`].
//! - `engine.rs`: the [`Store`] handle, the engine below it and its trees.
//! - `open.rs`: opening a store (sled or PostgreSQL), the store's files.
//! - `durability.rs`: the write gate, suspended writes and their recovery,
//!   durable flushes.
//! - `meta.rs`: svTRIDs, roids, zone serials, the seeded-terms mark.
//! - `change.rs`: [`Effects`] and the helpers of a change's transaction.
//! - `registrars.rs`, `domains.rs`, `contacts.rs`, `hosts.rs`, `names.rs`,
//!   `poll.rs`, `due.rs`, `ledger.rs`, `history.rs`: one tree each, its
//!   reads and its changes; `refs.rs`: the indexes; `batch.rs`: bulk creates.
//! - `kv.rs`: the storage interface both engines implement; `postgres/`:
//!   the PostgreSQL engine; `commit.rs`: sled's group commit;
//!   `sled_group.rs`: sled transactions applied in groups; `codec.rs`:
//!   the record encoding; `migrate.rs`: format upgrades; `backup.rs`,
//!   `compact.rs`, `copy.rs`, `verify.rs`: whole-store operations.

mod backup;
mod batch;
mod change;
mod codec;
mod commit;
mod compact;
mod contacts;
mod copy;
mod domains;
mod due;
mod durability;
mod engine;
mod errors;
#[cfg(test)]
mod fixtures;
mod history;
mod hosts;
mod keys;
pub(crate) mod kv;
mod ledger;
mod meta;
mod migrate;
mod names;
mod open;
mod poll;
pub mod postgres;
mod refs;
mod registrars;
mod sled_group;
mod verify;

pub use backup::BackupReport;
pub use batch::{Created, NewObject, PreparedBatch};
pub use change::Effects;
pub use codec::Record;
pub use compact::CompactReport;
pub use copy::CopyReport;
pub use due::{DueEntry, DueKind};
pub use engine::Store;
pub use errors::{ChangeResult, Conflict, StoreError};
pub use history::{ChainCheck, registry_audit};
pub use ledger::Charge;
pub use open::readable_by_others;
pub(crate) use open::restrict_store_files;
pub use refs::{WaitingItem, WaitingKind};
pub use verify::StoreCheck;

/// The store format this build reads and writes.
pub const FORMAT_VERSION: u32 = 3;
