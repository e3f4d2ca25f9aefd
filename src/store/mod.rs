//! The sled store: every tree, key layout and index, the record encoding,
//! the format version, and durable commits (group commit). Knows no XML and
//! no charter rule: flows decide, the store applies a decision atomically.
//!
//! Trees:
//! - `meta`: `format_version` (u32 BE), `boot` (u64 BE, one per process start),
//!   `zone_serial:{zone}` (u32 BE, the last SOA serial exported for the zone).
//!   `roid_base` (u64 BE, added to every new roid's number so that new
//!   roids never repeat one an import brought in).
//! - `registrars`: clID → [`Registrar`].
//! - `domains`: name → [`Domain`]; `contacts`: id → [`Contact`]; `hosts`: name → [`Host`].
//! - `poll`: `{registrar}\0{id u64 BE}` → [`PollMessage`], one FIFO per
//!   registrar; `#{registrar}` → its length (u64 BE).
//! - `due`: `{instant ms u64 BE}{kind}{name}` → (): the life-cycle's agenda, so
//!   a sweep reads only what is due.
//! - `names`: `r{label}` → category (R4 reserved), `b{label}` → reason (R5
//!   blocked), `t{token}` → [`AllocationToken`] (R4).
//! - `history`: `{kind}:{name}\0{seq u64 BE}` → [`HistoryRecord`] (R24),
//!   written in the same transaction as the change it records.
//! - `ledger`: `#{registrar}` → balance (i64 BE, centimes); `{registrar}\0{seq}`
//!   → [`LedgerEntry`] (R23), written in the transaction of the change charged.
//! - `refs`: the indexes, so nothing is ever found by a scan:
//!   `C{contact}\0{domain}` contact used by domain; `H{host}\0{domain}` host
//!   delegated to from domain; `R{registrar}\0{domain}` domain sponsored by
//!   registrar (values empty); `#c{contact}` and `#h{host}`: how many domains
//!   use the object (u32 BE), read inside transactions so that a delete never
//!   races a new reference. A domain record lists its subordinate hosts.

mod backup;
mod codec;
mod commit;
mod compact;
mod copy;
pub(crate) mod kv;
mod migrate;
pub mod postgres;
mod verify;

pub use backup::BackupReport;
pub use compact::CompactReport;
pub use copy::CopyReport;
pub use verify::StoreCheck;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::{
    AllocationToken, Audit, Contact, Domain, HistoryRecord, Host, LedgerEntry, PollMessage,
    Registrar, Timestamp,
};
pub use codec::Record;
use commit::GroupCommit;
use kv::{Tree, TxError, TxFailure, TxResult};

/// The store format this build reads and writes.
pub const FORMAT_VERSION: u32 = 3;

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
    /// A change was committed in memory, and the flush that had to make it
    /// durable failed: it may or may not survive.
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
    /// The PostgreSQL engine could not be reached or refused the change
    /// before it was committed: nothing was changed.
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
    fn access(path: &Path, error: &std::io::Error) -> Self {
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

/// The store's files in `dir` (`conf`, `db`, `blobs`, `snap.*`, and the
/// durable mark), as sled and the store name them.
pub(crate) fn is_store_entry(name: &str) -> bool {
    matches!(name, "conf" | "db" | "blobs" | commit::MARK_FILE) || name.starts_with("snap.")
}

/// The data directory `dir` and those of its store's files that group or
/// others can read (a directory: list or enter), with their modes. The
/// server warns of them at start; it changes no mode of an existing store.
pub fn readable_by_others(dir: &Path) -> Vec<(std::path::PathBuf, u32)> {
    let mut found: Vec<_> = crate::fsmode::readable_by_others(dir).into_iter().collect();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    let mut names: Vec<_> = entries
        .flatten()
        .filter(|e| is_store_entry(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    names.sort();
    for path in names {
        found.extend(crate::fsmode::readable_by_others(&path));
        if path.is_dir()
            && let Ok(inner) = std::fs::read_dir(&path)
        {
            let mut inner: Vec<_> = inner.flatten().map(|e| e.path()).collect();
            inner.sort();
            found.extend(
                inner
                    .iter()
                    .filter_map(|p| crate::fsmode::readable_by_others(p)),
            );
        }
    }
    found
}

/// Which file of the store in `dir` an I/O failure at opening is about,
/// and why: the directory, then `conf`, `db`, `blobs` and the snapshots, as
/// sled opens them. `None` when each can be opened (e.g. another process
/// holds the store's lock).
fn inaccessible(dir: &Path) -> Option<StoreError> {
    fn directory(path: &Path) -> Option<std::io::Error> {
        match std::fs::metadata(path) {
            Err(e) => Some(e),
            Ok(meta) if !meta.is_dir() => Some(std::io::Error::from_raw_os_error(libc::ENOTDIR)),
            Ok(_) => std::fs::read_dir(path).err().or_else(|| {
                rustix::fs::access(
                    path,
                    rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
                )
                .err()
                .map(|errno| std::io::Error::from_raw_os_error(errno.raw_os_error()))
            }),
        }
    }
    if let Some(e) = directory(dir) {
        return Some(StoreError::access(dir, &e));
    }
    let mut files = vec![dir.join("conf"), dir.join("db")];
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut snaps: Vec<_> = entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("snap."))
            .map(|e| e.path())
            .collect();
        snaps.sort();
        files.extend(snaps);
    }
    for file in files {
        if std::fs::symlink_metadata(&file).is_err() {
            continue;
        }
        if let Err(e) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&file)
        {
            return Some(StoreError::access(&file, &e));
        }
    }
    let blobs = dir.join("blobs");
    if std::fs::symlink_metadata(&blobs).is_ok()
        && let Some(e) = directory(&blobs)
    {
        return Some(StoreError::access(&blobs, &e));
    }
    None
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

/// The outcome of an atomic change: a store failure, or the change applied or refused.
pub type ChangeResult = Result<Result<(), Conflict>, StoreError>;

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

/// A charge to a registrar's prepaid balance (R23).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The registrar.
    pub registrar: String,
    /// The cost in centimes (positive).
    pub amount: i64,
    /// What it pays for.
    pub description: String,
    /// Whether the balance may go below zero (the tacit renewal, R10).
    pub allow_negative: bool,
}

/// The ledger write of a charge, prepared outside the transaction.
struct LedgerWrite {
    registrar: String,
    amount: i64,
    allow_negative: bool,
    entry_key: Vec<u8>,
    entry: LedgerEntry,
}

impl LedgerWrite {
    fn prepare(store: &Store, charge: &Charge, audit: &Audit) -> Result<Self, StoreError> {
        let seq = store.engine()?.generate_id()?;
        let mut entry_key = prefix1_bytes(&charge.registrar);
        entry_key.extend_from_slice(&seq.to_be_bytes());
        Ok(Self {
            registrar: charge.registrar.clone(),
            amount: charge.amount,
            allow_negative: charge.allow_negative,
            entry_key,
            entry: LedgerEntry {
                at: audit.at,
                amount: -charge.amount,
                balance: 0,
                description: charge.description.clone(),
                sv_trid: audit.sv_trid.clone(),
            },
        })
    }

    /// Debits the balance and writes the ledger line, or aborts when the
    /// balance cannot pay.
    fn apply(&self, ledger: &Tx) -> TxResult<()> {
        let key = balance_key(&self.registrar);
        let balance = read_i64(ledger.get(&key)?.as_deref());
        if self.amount > 0 && balance < self.amount && !self.allow_negative {
            return abort(Conflict::InsufficientFunds {
                balance,
                price: self.amount,
            });
        }
        let after = balance - self.amount;
        ledger.insert(key, after.to_be_bytes())?;
        let mut entry = self.entry.clone();
        entry.balance = after;
        ledger.insert(self.entry_key.as_slice(), encode_in_tx(&entry)?)?;
        Ok(())
    }
}

fn balance_key(registrar: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(registrar.len() + 1);
    k.push(b'#');
    k.extend_from_slice(registrar.as_bytes());
    k
}

fn read_i64(v: Option<&[u8]>) -> i64 {
    v.and_then(|v| <[u8; 8]>::try_from(v).ok())
        .map(i64::from_be_bytes)
        .unwrap_or(0)
}

/// A history record, encoded, with its key.
struct HistoryWrite {
    key: Vec<u8>,
    record: HistoryRecord,
}

/// The history tree's key of the chain's head: the last record's place and
/// hash. Object keys start with a letter, so these never collide.
const CHAIN_HEAD: &[u8] = b"\xff\xffchain-head";
/// The prefix of the chain's index: place (big-endian) → the record's key.
const CHAIN_INDEX: u8 = 0xfe;

fn chain_index_key(place: u64) -> [u8; 9] {
    let mut key = [CHAIN_INDEX; 9];
    key[1..].copy_from_slice(&place.to_be_bytes());
    key
}

fn record_hash(value: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(value).into()
}

impl HistoryWrite {
    /// Appends the record to the registry's one history chain, inside the
    /// change's transaction: it takes the head's place + 1 and the head's
    /// hash, and becomes the head.
    fn apply(&self, history: &Tx) -> TxResult<()> {
        let (place, prev) = match history.get(CHAIN_HEAD)? {
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
        history.insert(chain_index_key(record.chain), self.key.as_slice())?;
        history.insert(CHAIN_HEAD, head)?;
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

/// What the life-cycle engine must do at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueKind {
    /// Approve a pending domain transfer whose `acDate` has come (R12).
    TransferAutoApprove,
    /// Approve a pending contact transfer whose `acDate` has come (RFC 5733 §3.2.4).
    ContactTransferAutoApprove,
    /// Tell the sponsor the domain expires in 30 days (R22).
    ExpiryNotice,
    /// The renewal grace ends: renew tacitly (R10).
    GraceEnd,
    /// The redemption ends: purge (R11).
    Purge,
    /// The registrant's identity must be verified by now (R15).
    IdentityDeadline,
    /// An incomplete restricted-zone request lapses unless completed (R2).
    CreateLapse,
}

impl DueKind {
    fn tag(self) -> u8 {
        match self {
            DueKind::TransferAutoApprove => b'T',
            DueKind::ContactTransferAutoApprove => b'K',
            DueKind::ExpiryNotice => b'N',
            DueKind::GraceEnd => b'G',
            DueKind::Purge => b'P',
            DueKind::IdentityDeadline => b'I',
            DueKind::CreateLapse => b'L',
        }
    }

    fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            b'T' => Some(DueKind::TransferAutoApprove),
            b'K' => Some(DueKind::ContactTransferAutoApprove),
            b'N' => Some(DueKind::ExpiryNotice),
            b'G' => Some(DueKind::GraceEnd),
            b'P' => Some(DueKind::Purge),
            b'I' => Some(DueKind::IdentityDeadline),
            b'L' => Some(DueKind::CreateLapse),
            _ => None,
        }
    }
}

/// One entry of the life-cycle agenda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueEntry {
    /// When.
    pub at: Timestamp,
    /// What.
    pub kind: DueKind,
    /// On which object.
    pub name: String,
}

impl DueEntry {
    fn key(&self) -> Vec<u8> {
        let ms = u64::try_from(self.at.timestamp_millis()).unwrap_or(0);
        let mut k = Vec::with_capacity(9 + self.name.len());
        k.extend_from_slice(&ms.to_be_bytes());
        k.push(self.kind.tag());
        k.extend_from_slice(self.name.as_bytes());
        k
    }

    fn from_key(k: &[u8]) -> Option<Self> {
        let ms = u64::from_be_bytes(k.get(..8)?.try_into().ok()?);
        let kind = DueKind::from_tag(*k.get(8)?)?;
        let name = String::from_utf8(k.get(9..)?.to_vec()).ok()?;
        let at = chrono::DateTime::from_timestamp_millis(i64::try_from(ms).ok()?)?;
        Some(Self { at, kind, name })
    }
}

/// The registry's store: a cheap-to-clone handle.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// What outlives a reopening of the engine: the process's counters, the
/// write gate and the store's health.
struct Inner {
    /// The open sled database; `None` only while it is being reopened.
    engine: std::sync::RwLock<Option<Arc<Engine>>>,
    path: std::path::PathBuf,
    cache_bytes: u64,
    boot: u64,
    sv_seq: AtomicU64,
    /// Counts the registrar writes since the store opened, so sessions
    /// notice a change of standing without reading the record each command.
    registrars_epoch: AtomicU64,
    /// Shared by every write, taken alone by a backup or a reopening: a
    /// backup sees no half of a change.
    gate: std::sync::RwLock<()>,
    roid_base: AtomicU64,
    /// Why writes are suspended (a write or a flush failed), if they are.
    suspended: std::sync::Mutex<Option<String>>,
    /// Whether `suspended` is set, read without the lock on every write.
    suspended_flag: std::sync::atomic::AtomicBool,
    /// How many times the engine was reopened after a failure.
    reopened: AtomicU64,
    /// Whether a reopening is under way (reads wait for it).
    reopening: std::sync::atomic::AtomicBool,
}

/// One opening of the engine below the store: its trees, and how a change
/// is made durable.
struct Engine {
    backend: Backend,
    registrars: Tree,
    domains: Tree,
    contacts: Tree,
    hosts: Tree,
    refs: Tree,
    poll: Tree,
    due: Tree,
    names: Tree,
    history: Tree,
    ledger: Tree,
    meta: Tree,
}

/// The engine itself.
enum Backend {
    /// An embedded sled database and its group commit (fsync per group).
    Sled { db: sled::Db, commit: GroupCommit },
    /// A PostgreSQL database: a commit is durable when it returns.
    Postgres(Arc<postgres::Database>),
}

impl Engine {
    /// Opens the trees of an opened sled database.
    fn new(db: sled::Db, path: &Path) -> Result<Self, StoreError> {
        let tree = |name: &str| -> Result<Tree, StoreError> { Ok(Tree::Sled(db.open_tree(name)?)) };
        Ok(Self {
            registrars: tree("registrars")?,
            domains: tree("domains")?,
            contacts: tree("contacts")?,
            hosts: tree("hosts")?,
            refs: tree("refs")?,
            poll: tree("poll")?,
            due: tree("due")?,
            names: tree("names")?,
            history: tree("history")?,
            ledger: tree("ledger")?,
            meta: tree("meta")?,
            backend: Backend::Sled {
                commit: GroupCommit::new(
                    db.clone(),
                    commit::DiskSync::open(path, db.open_tree("history")?)?,
                ),
                db,
            },
        })
    }

    /// The trees of a PostgreSQL database.
    fn postgres(database: Arc<postgres::Database>) -> Self {
        let tree = |name: &'static str| Tree::Postgres(postgres::Tree::new(&database, name));
        Self {
            registrars: tree("registrars"),
            domains: tree("domains"),
            contacts: tree("contacts"),
            hosts: tree("hosts"),
            refs: tree("refs"),
            poll: tree("poll"),
            due: tree("due"),
            names: tree("names"),
            history: tree("history"),
            ledger: tree("ledger"),
            meta: tree("meta"),
            backend: Backend::Postgres(database),
        }
    }

    /// Every tree with its name, in the order of their names (backups,
    /// copies and checks walk them in this order).
    fn trees(&self) -> [(&'static str, &Tree); 11] {
        [
            ("contacts", &self.contacts),
            ("domains", &self.domains),
            ("due", &self.due),
            ("history", &self.history),
            ("hosts", &self.hosts),
            ("ledger", &self.ledger),
            ("meta", &self.meta),
            ("names", &self.names),
            ("poll", &self.poll),
            ("refs", &self.refs),
            ("registrars", &self.registrars),
        ]
    }

    /// A number never given before by this store.
    fn generate_id(&self) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sled { db, .. } => Ok(db.generate_id()?),
            Backend::Postgres(database) => database.generate_id(),
        }
    }

    /// Puts every committed change on stable storage now.
    fn flush_now(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled { db, commit } => {
                commit.disk().flush_now(db)?;
                commit.disk().sync_mark()
            }
            Backend::Postgres(_) => Ok(()),
        }
    }

    /// Refuses a store that lost changes it had made durable: its history
    /// must reach the chain head its durable mark recorded at the last
    /// flush (see `commit.rs`).
    fn check_durable_mark(
        history: &sled::Tree,
        dir: &Path,
        (place, hash): (u64, [u8; 32]),
    ) -> Result<(), StoreError> {
        let damaged = |detail: String| StoreError::Damaged {
            dir: dir.display().to_string(),
            file: dir.join("db").display().to_string(),
            detail,
        };
        let head = history.get(CHAIN_HEAD)?;
        let head_place = head
            .as_deref()
            .and_then(|h| h.get(..8))
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_be_bytes);
        if head_place < place {
            return Err(damaged(format!(
                "its history ends at record {head_place}, but record {place} was on disk at the last flush: the log was cut short or cannot be read past a damaged part"
            )));
        }
        let held = if head_place == place {
            head.as_deref()
                .and_then(|h| h.get(8..40))
                .map(<[u8]>::to_vec)
        } else {
            match history.get(chain_index_key(place + 1))? {
                Some(key) => match history.get(&key)? {
                    Some(value) => codec::decode::<HistoryRecord>("history", &value)
                        .ok()
                        .map(|r| r.prev.to_vec()),
                    None => None,
                },
                None => None,
            }
        };
        if held.as_deref() != Some(&hash[..]) {
            return Err(damaged(format!(
                "history record {place} is not the one that was on disk at the last flush"
            )));
        }
        Ok(())
    }
}

/// What waits for the registry (R20), as kept in the `refs` tree under
/// `W`: derived from an object's state by the store itself in the
/// transaction that changes the object, so it can never drift from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitingKind {
    /// A create in a restricted zone (R2).
    Create,
    /// A change of registrant (R13).
    Owner,
    /// A transfer rejection the registry may overrule (R12).
    Review,
    /// A contact's identity document to verify (R15).
    Identity,
}

impl WaitingKind {
    fn tag(self) -> u8 {
        match self {
            WaitingKind::Create => b'c',
            WaitingKind::Owner => b'o',
            WaitingKind::Review => b'r',
            WaitingKind::Identity => b'i',
        }
    }

    fn from_tag(tag: u8) -> Option<Self> {
        Some(match tag {
            b'c' => WaitingKind::Create,
            b'o' => WaitingKind::Owner,
            b'r' => WaitingKind::Review,
            b'i' => WaitingKind::Identity,
            _ => return None,
        })
    }

    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitingKind::Create => "create",
            WaitingKind::Owner => "owner",
            WaitingKind::Review => "transfer-review",
            WaitingKind::Identity => "identity",
        }
    }
}

/// One item waiting for the registry (R20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingItem {
    /// What waits.
    pub kind: WaitingKind,
    /// The domain name or contact id.
    pub name: String,
    /// The registrar concerned.
    pub registrar: String,
    /// Since when it waits.
    pub since: Timestamp,
    /// Until when the registry may act, when the charter bounds it (R12 review).
    pub until: Option<Timestamp>,
}

type IndexEntry = (Vec<u8>, Vec<u8>);

fn waiting_entry(
    kind: WaitingKind,
    name: &str,
    registrar: &str,
    since: Timestamp,
    until: Option<Timestamp>,
) -> IndexEntry {
    let mut key = Vec::with_capacity(2 + name.len());
    key.push(b'W');
    key.push(kind.tag());
    key.extend_from_slice(name.as_bytes());
    let mut value = Vec::with_capacity(16 + registrar.len());
    value.extend_from_slice(&since.timestamp_millis().to_be_bytes());
    value.extend_from_slice(
        &until
            .map_or(i64::MIN, |u| u.timestamp_millis())
            .to_be_bytes(),
    );
    value.extend_from_slice(registrar.as_bytes());
    (key, value)
}

fn waiting_item(key: &[u8], value: &[u8]) -> Option<WaitingItem> {
    let kind = WaitingKind::from_tag(*key.get(1)?)?;
    let name = String::from_utf8(key.get(2..)?.to_vec()).ok()?;
    let since = i64::from_be_bytes(value.get(..8)?.try_into().ok()?);
    let until = i64::from_be_bytes(value.get(8..16)?.try_into().ok()?);
    Some(WaitingItem {
        kind,
        name,
        registrar: String::from_utf8(value.get(16..)?.to_vec()).ok()?,
        since: chrono::DateTime::from_timestamp_millis(since)?,
        until: if until == i64::MIN {
            None
        } else {
            chrono::DateTime::from_timestamp_millis(until)
        },
    })
}

fn domain_waiting(d: &Domain) -> Vec<IndexEntry> {
    let mut out = Vec::new();
    if d.statuses.contains(&crate::model::Status::PendingCreate) {
        out.push(waiting_entry(
            WaitingKind::Create,
            &d.name,
            &d.sponsor,
            d.created,
            None,
        ));
    }
    if let Some(p) = &d.pending_owner {
        out.push(waiting_entry(
            WaitingKind::Owner,
            &d.name,
            &d.sponsor,
            p.requested,
            None,
        ));
    }
    if let Some(t) = &d.transfer
        && t.status == crate::model::TransferStatus::ClientRejected
        && let Some(until) = t.review_until
    {
        out.push(waiting_entry(
            WaitingKind::Review,
            &d.name,
            &t.gaining,
            t.action_date,
            Some(until),
        ));
    }
    out
}

fn contact_waiting(c: &Contact) -> Vec<IndexEntry> {
    match &c.identity {
        Some(id) if id.verification == crate::model::Verification::Submitted => {
            vec![waiting_entry(
                WaitingKind::Identity,
                &c.id,
                &c.sponsor,
                id.since,
                None,
            )]
        }
        _ => Vec::new(),
    }
}

/// Moves the waiting index from `old`'s entries to `new`'s.
fn sync_index(refs: &Tx, old: &[IndexEntry], new: &[IndexEntry]) -> TxResult<()> {
    for (key, _) in old {
        if !new.iter().any(|(k, _)| k == key) {
            refs.remove(key.as_slice())?;
        }
    }
    for (key, value) in new {
        if !old.iter().any(|(k, v)| k == key && v == value) {
            refs.insert(key.as_slice(), value.as_slice())?;
        }
    }
    Ok(())
}

/// The key of a registrar's create counter for a month (R21).
fn creates_key(registrar: &str, at: Timestamp) -> Vec<u8> {
    key2(b'N', registrar, &at.format("%Y-%m").to_string())
}

fn add_to_counter(refs: &Tx, key: &[u8], delta: i64) -> TxResult<()> {
    let n = refs
        .get(key)?
        .and_then(|v| v.as_ref().try_into().ok().map(i64::from_be_bytes))
        .unwrap_or(0);
    refs.insert(key, (n + delta).max(0).to_be_bytes())?;
    Ok(())
}

/// A registrar as its history shows it: never its password hash.
fn registrar_snapshot(r: &Registrar) -> Option<String> {
    Some(
        serde_json::json!({
            "clid": r.id,
            "name": r.name,
            "state": format!("{:?}", r.state).to_lowercase(),
            "email": r.email,
            "certificates": r.cert_fingerprints,
            "ip_allow": r.ip_allow.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "session_limit": r.session_limit,
            "address": r.address,
        })
        .to_string(),
    )
}

/// Opens the sled database in `path`. Sled (0.34) panics on some damaged
/// files (a log cut short): the panic is caught, kept off stderr, and
/// becomes [`StoreError::Damaged`] naming the file.
/// Gives the store files sled has just created in `dir` the modes of
/// [`crate::fsmode`]: for a new store only.
pub(crate) fn restrict_store_files(dir: &Path) -> Result<(), StoreError> {
    let entries = std::fs::read_dir(dir).map_err(|e| StoreError::access(dir, &e))?;
    for entry in entries.flatten() {
        if is_store_entry(&entry.file_name().to_string_lossy()) {
            let path = entry.path();
            crate::fsmode::restrict(&path).map_err(|e| StoreError::access(&path, &e))?;
        }
    }
    Ok(())
}

fn open_sled(path: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    let config = sled::Config::new().path(path).cache_capacity(cache_bytes);
    let opened = quiet_panics::catch(|| config.open());
    let damaged = |file: std::path::PathBuf, detail: String| StoreError::Damaged {
        dir: path.display().to_string(),
        file: file.display().to_string(),
        detail,
    };
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(sled::Error::Io(e))) => Err(inaccessible(path).unwrap_or(sled::Error::Io(e).into())),
        Ok(Err(sled::Error::Corruption { .. })) => Err(damaged(
            path.join("db"),
            "a log entry or page fails its checksum".to_owned(),
        )),
        Ok(Err(e @ sled::Error::ReportableBug(_))) => Err(damaged(path.join("db"), e.to_string())),
        Ok(Err(e)) => Err(e.into()),
        Err(panic) => Err(damaged(
            path.join("db"),
            format!("its log or snapshot does not hold together: {panic}"),
        )),
    }
}

/// Catching a panic without its message on stderr, for the one thread
/// that asks: every other thread's panics still print.
mod quiet_panics {
    use std::cell::Cell;
    use std::sync::Once;

    thread_local! {
        static QUIET: Cell<bool> = const { Cell::new(false) };
    }

    /// Runs `f`; a panic becomes `Err` with its message.
    pub(super) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if !QUIET.with(Cell::get) {
                    previous(info);
                }
            }));
        });
        QUIET.with(|q| q.set(true));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        QUIET.with(|q| q.set(false));
        result.map_err(|payload| {
            payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "sled panicked".to_owned())
        })
    }
}

/// Writes, syncs and removes a 1 MiB file in `dir`: whether the disk takes
/// writes again.
fn probe_writes(dir: &Path) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join("recovery.probe");
    let written = (|| {
        let mut file = std::fs::File::options()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(&vec![0u8; 1 << 20])?;
        file.sync_all()
    })();
    let removed = std::fs::remove_file(&path);
    written.and(removed)
}

/// The bytes free for an unprivileged writer on the file system of `path`.
fn free_bytes(path: &Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(path).map_err(std::io::Error::from)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

fn key2(tag: u8, a: &str, b: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + a.len() + b.len());
    k.push(tag);
    k.extend_from_slice(a.as_bytes());
    k.push(0);
    k.extend_from_slice(b.as_bytes());
    k
}

fn prefix1(tag: u8, a: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + a.len());
    k.push(tag);
    k.extend_from_slice(a.as_bytes());
    k.push(0);
    k
}

impl Store {
    /// Opens (or creates) the store in `path`, checking its format version.
    /// A store it creates is its user's alone: the directory, if it makes
    /// it, 0700, and sled's files 0600.
    ///
    /// # Errors
    /// sled errors, a file that cannot be opened (named), a foreign
    /// database, or another format version.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let new = std::fs::symlink_metadata(path.join("db")).is_err();
        crate::fsmode::create_dir_all(path).map_err(|e| StoreError::access(path, &e))?;
        let db = open_sled(path, cache_bytes)?;
        if new {
            restrict_store_files(path)?;
        }
        if let Some(mark) = commit::read_mark(path) {
            Engine::check_durable_mark(&db.open_tree("history")?, path, mark)?;
        }
        let meta = db.open_tree("meta")?;
        match meta.get("format_version")? {
            Some(v) => {
                let found = <[u8; 4]>::try_from(v.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| StoreError::Foreign(path.display().to_string()))?;
                if !(migrate::OLDEST_READABLE..=FORMAT_VERSION).contains(&found) {
                    return Err(StoreError::Version {
                        path: path.display().to_string(),
                        found,
                        expected: FORMAT_VERSION,
                    });
                }
                if found != FORMAT_VERSION {
                    migrate::upgrade(&db, found)?;
                    meta.insert("format_version", &FORMAT_VERSION.to_be_bytes())?;
                    db.flush()?;
                    tracing::info!(from = found, to = FORMAT_VERSION, "store format upgraded");
                }
            }
            None => {
                let foreign = db
                    .tree_names()
                    .iter()
                    .any(|n| n.as_ref() != b"__sled__default" && n.as_ref() != b"meta")
                    || !db.is_empty();
                if foreign {
                    return Err(StoreError::Foreign(path.display().to_string()));
                }
                meta.insert("format_version", &FORMAT_VERSION.to_be_bytes())?;
            }
        }
        drop(meta);
        let engine = Engine::new(db, path)?;
        engine.flush_now()?;
        Self::with_engine(engine, path, cache_bytes)
    }

    /// Opens the store its settings name: sled in `data_dir`, or the
    /// PostgreSQL database of `settings.url`.
    ///
    /// # Errors
    /// Those of [`Self::open`] and [`Self::open_postgres`].
    pub fn open_configured(
        settings: &crate::config::StoreSettings,
        data_dir: &Path,
    ) -> Result<Self, StoreError> {
        match settings.backend {
            crate::config::StoreBackend::Sled => Self::open(data_dir, settings.cache_bytes()),
            crate::config::StoreBackend::Postgres => {
                Self::open_postgres(&settings.postgres_connection(), data_dir)
            }
        }
    }

    /// Opens (or creates) the store in a PostgreSQL database, creating or
    /// upgrading its schema; `dir` is the server's data directory.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database cannot be reached or
    /// used, a foreign database, or another format version.
    pub fn open_postgres(
        connection: &postgres::Connection,
        dir: &Path,
    ) -> Result<Self, StoreError> {
        // The data directory still holds the admin socket and the outbox.
        crate::fsmode::create_dir_all(dir).map_err(|e| StoreError::access(dir, &e))?;
        let database = postgres::Database::open(connection)?;
        let engine = Engine::postgres(database);
        let place = "the PostgreSQL database".to_owned();
        match engine.meta.get("format_version")? {
            Some(v) => {
                let found = <[u8; 4]>::try_from(v.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| StoreError::Foreign(place.clone()))?;
                if found != FORMAT_VERSION {
                    return Err(StoreError::Version {
                        path: place,
                        found,
                        expected: FORMAT_VERSION,
                    });
                }
            }
            None => {
                for (_, tree) in engine.trees() {
                    if !tree.is_empty()? {
                        return Err(StoreError::Foreign(place));
                    }
                }
                engine
                    .meta
                    .insert("format_version", FORMAT_VERSION.to_be_bytes())?;
            }
        }
        Self::with_engine(engine, dir, 0)
    }

    /// The store over an opened engine: counts this start (`boot`, the
    /// first part of every svTRID) and reads the roid base.
    fn with_engine(engine: Engine, path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let boot = engine
            .meta
            .update_and_fetch("boot", |old| {
                let n = old
                    .and_then(|o| <[u8; 8]>::try_from(o).ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0);
                Some((n + 1).to_be_bytes().to_vec())
            })?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(1);
        let roid_base = read_u64(engine.meta.get("roid_base")?.as_deref());
        engine.flush_now()?;
        Ok(Self {
            inner: Arc::new(Inner {
                engine: std::sync::RwLock::new(Some(Arc::new(engine))),
                path: path.to_path_buf(),
                cache_bytes,
                boot,
                gate: std::sync::RwLock::new(()),
                sv_seq: AtomicU64::new(0),
                registrars_epoch: AtomicU64::new(0),
                roid_base: AtomicU64::new(roid_base),
                suspended: std::sync::Mutex::new(None),
                suspended_flag: std::sync::atomic::AtomicBool::new(false),
                reopened: AtomicU64::new(0),
                reopening: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    /// Opens the store in `path` and closes it again. Sled (0.34) writes the
    /// snapshot of its page table only when it opens a store, and every
    /// opening reads the whole log written since the last snapshot: after a
    /// bulk load (an import, a restore), this takes that reading out of the
    /// server's next start. Waits up to 3 s for a handle just dropped to
    /// release the store's lock.
    ///
    /// # Errors
    /// sled errors.
    pub fn checkpoint(path: &Path, cache_bytes: u64) -> Result<(), StoreError> {
        let mut attempt = 0;
        loop {
            match sled::Config::new()
                .path(path)
                .cache_capacity(cache_bytes)
                .open()
            {
                Ok(db) => {
                    drop(db);
                    return Ok(());
                }
                Err(sled::Error::Io(e)) if attempt < 30 && e.to_string().contains("lock") => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Every write holds this while it runs; a backup or a reopening waits
    /// for them and holds them off (see `backup.rs`). While writes are
    /// suspended it refuses at once: nothing is attempted, nothing changes.
    fn write_gate(&self) -> Result<std::sync::RwLockReadGuard<'_, ()>, StoreError> {
        self.writable()?;
        let gate = self
            .inner
            .gate
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A reopening may have suspended writes while this one waited.
        self.writable()?;
        Ok(gate)
    }

    /// `Err(WritesSuspended)` while writes are suspended.
    fn writable(&self) -> Result<(), StoreError> {
        if self.inner.suspended_flag.load(Ordering::Acquire) {
            let reason = self
                .suspension()
                .unwrap_or_else(|| "the store is being reopened".to_owned());
            return Err(StoreError::WritesSuspended(reason));
        }
        Ok(())
    }

    /// The open database. While it is being reopened (a few milliseconds
    /// after a disk failure), waits for it, up to 5 s.
    fn engine(&self) -> Result<Arc<Engine>, StoreError> {
        for _ in 0..1000 {
            let slot = self
                .inner
                .engine
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            match slot {
                Some(engine) => return Ok(engine),
                None if self.inner.reopening.load(Ordering::Acquire) => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                None => break,
            }
        }
        Err(StoreError::Reopening)
    }

    /// Why writes are suspended, if they are.
    pub fn suspension(&self) -> Option<String> {
        self.inner
            .suspended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// How many times the store was reopened after a disk failure since it
    /// opened.
    pub fn reopen_count(&self) -> u64 {
        self.inner.reopened.load(Ordering::Relaxed)
    }

    /// Suspends writes: a write or a flush failed, so sled's memory may hold
    /// changes that are not on disk, and sled (0.34) refuses every write
    /// after its first I/O error. [`Self::recover`] lifts it.
    fn suspend(&self, reason: String) {
        let mut slot = self
            .inner
            .suspended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            tracing::error!(%reason, path = %self.inner.path.display(), "store write failed; writes are suspended until the disk works again");
            *slot = Some(reason);
        }
        self.inner.suspended_flag.store(true, Ordering::Release);
    }

    /// A storage error inside a write: an I/O error leaves the write's
    /// outcome unknown (it may be in sled's memory, or even on disk) and
    /// suspends writes; any other is a plain failure.
    fn storage_failed(&self, e: sled::Error) -> StoreError {
        match e {
            sled::Error::Io(_) | sled::Error::Corruption { .. } | sled::Error::ReportableBug(_) => {
                let reason = e.to_string();
                self.suspend(reason.clone());
                StoreError::NotDurable(reason)
            }
            other => StoreError::Sled(other),
        }
    }

    /// A transaction that can only fail, not be refused, and failed.
    fn tx_failed(&self, failure: TxFailure) -> StoreError {
        match failure {
            TxFailure::Abort(c) | TxFailure::AbortAt(_, c) => {
                StoreError::Backend(format!("the change was refused: {c:?}"))
            }
            TxFailure::Store(e) => e,
            TxFailure::Sled(e) => self.storage_failed(e),
        }
    }

    /// A change's transaction result: a conflict is the inner `Err`.
    fn settle(&self, result: Result<(), TxFailure>) -> ChangeResult {
        match result {
            Ok(()) => Ok(Ok(())),
            Err(TxFailure::Abort(conflict) | TxFailure::AbortAt(_, conflict)) => Ok(Err(conflict)),
            Err(TxFailure::Store(e)) => Err(e),
            Err(TxFailure::Sled(e)) => Err(self.storage_failed(e)),
        }
    }

    /// Lifts a suspension of writes when the disk works again: closes the
    /// failed database and opens it again from what is on disk, which is
    /// the truth (a change that never reached the disk was never
    /// acknowledged). Waits for the writes in flight, holds new ones off
    /// meanwhile, and needs `min_free_bytes` free on the store's file
    /// system. Returns whether writes are allowed again.
    ///
    /// # Errors
    /// The reopening failed; writes stay suspended, and it may be tried again.
    pub fn recover(&self, min_free_bytes: u64) -> Result<bool, StoreError> {
        if !self.inner.suspended_flag.load(Ordering::Acquire) {
            return Ok(true);
        }
        let free = free_bytes(&self.inner.path)
            .map_err(|e| StoreError::Flush(format!("{}: {e}", self.inner.path.display())))?;
        if free < min_free_bytes {
            return Ok(false);
        }
        // The database is taken away only when a write and a sync of some
        // size work again, so a disk still failing does not cost the reads.
        if let Err(e) = probe_writes(&self.inner.path) {
            tracing::debug!(error = %e, "the disk still refuses writes");
            return Ok(false);
        }
        let _exclusive = self
            .inner
            .gate
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.inner.reopening.store(true, Ordering::Release);
        let reopened = self.reopen();
        self.inner.reopening.store(false, Ordering::Release);
        reopened?;
        *self
            .inner
            .suspended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        self.inner.suspended_flag.store(false, Ordering::Release);
        self.inner.reopened.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(path = %self.inner.path.display(), "store reopened from disk; writes are allowed again");
        Ok(true)
    }

    /// Closes the database and opens it again; on failure none is open.
    fn reopen(&self) -> Result<(), StoreError> {
        let old = self
            .inner
            .engine
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        // Reads in flight hold the old database for a moment; sled lets
        // the store go when the last of them ends.
        drop(old);
        let mut attempt = 0;
        let db = loop {
            match sled::Config::new()
                .path(&self.inner.path)
                .cache_capacity(self.inner.cache_bytes)
                .open()
            {
                Ok(db) => break db,
                Err(sled::Error::Io(e)) if attempt < 100 && e.to_string().contains("lock") => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        };
        let engine = Engine::new(db, &self.inner.path)?;
        engine.flush_now()?;
        *self
            .inner
            .engine
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(engine));
        Ok(())
    }

    /// A new server transaction id, unique forever: the process's boot number
    /// (persisted) and a sequence within it.
    pub fn next_sv_trid(&self) -> String {
        let seq = self.inner.sv_seq.fetch_add(1, Ordering::Relaxed) + 1;
        format!("MA-{}-{seq}", self.inner.boot)
    }

    /// A new repository object id with the given suffix, e.g. `D12-MA`.
    ///
    /// # Errors
    /// sled errors.
    pub fn next_roid(&self, kind: char) -> Result<String, StoreError> {
        let id = self.engine()?.generate_id()?;
        let base = self.inner.roid_base.load(Ordering::Relaxed);
        Ok(format!("{kind}{}-MA", id.saturating_add(base)))
    }

    /// Makes every roid [`Self::next_roid`] gives from now on number more
    /// than `above` (after an import of objects with roids of this form).
    ///
    /// # Errors
    /// sled errors.
    pub fn reserve_roids_up_to(&self, above: u64) -> Result<(), StoreError> {
        let wanted = above.saturating_add(1);
        if self.inner.roid_base.fetch_max(wanted, Ordering::Relaxed) < wanted {
            let base = self.inner.roid_base.load(Ordering::Relaxed);
            self.engine()?
                .meta
                .insert("roid_base", base.to_be_bytes())?;
        }
        Ok(())
    }

    /// Waits until everything written before this call is on disk. Concurrent
    /// callers share one flush (group commit).
    ///
    /// # Errors
    /// [`StoreError::Flush`] when the disk flush failed.
    pub async fn durable(&self) -> Result<(), StoreError> {
        let engine = self.engine()?;
        let Backend::Sled { commit, .. } = &engine.backend else {
            // A PostgreSQL commit was durable when it returned.
            return Ok(());
        };
        match commit.durable().await {
            Ok(()) => Ok(()),
            Err(e) => {
                let reason = e.to_string();
                self.suspend(reason.clone());
                Err(StoreError::NotDurable(reason))
            }
        }
    }

    /// Flushes synchronously (for the offline admin CLI).
    ///
    /// # Errors
    /// sled errors.
    pub fn flush_now(&self) -> Result<(), StoreError> {
        let engine = self.engine()?;
        engine.flush_now()
    }

    /// The durable flushes since the store was last opened, and the
    /// seconds they took.
    pub fn flush_stats(&self) -> (u64, f64) {
        self.engine()
            .map_or((0, 0.0), |engine| match &engine.backend {
                Backend::Sled { commit, .. } => {
                    let disk = commit.disk();
                    (disk.count(), disk.flush_seconds())
                }
                Backend::Postgres(database) => database.commit_stats(),
            })
    }

    /// How many disk syncs (`fdatasync` of the log) covered a flush since
    /// the store opened.
    pub fn disk_syncs(&self) -> u64 {
        self.engine().map_or(0, |engine| match &engine.backend {
            Backend::Sled { commit, .. } => commit.disk().count(),
            Backend::Postgres(_) => 0,
        })
    }

    // ----- registrars -----

    /// A registrar by clID.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn registrar(&self, id: &str) -> Result<Option<Registrar>, StoreError> {
        codec::get(&self.engine()?.registrars, "registrars", id.as_bytes())
    }

    /// Writes a registrar, with its history record (R24) in the same transaction.
    ///
    /// # Errors
    /// sled errors.
    pub fn put_registrar(&self, r: &Registrar, audit: &Audit) -> Result<(), StoreError> {
        let _write = self.write_gate()?;
        let value = codec::encode(r)?;
        let hw = self.history_write(audit, "registrar", &r.id, registrar_snapshot(r))?;
        let i = self.engine()?;
        let result = kv::transaction([&i.registrars, &i.history], |[registrars, history]| {
            registrars.insert(r.id.as_bytes(), value.as_slice())?;
            hw.apply(history)?;
            Ok(())
        });
        // Nothing in it aborts: the only failures are storage errors.
        let _never_aborted = self.settle(result)?;
        self.inner.registrars_epoch.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// A number that changes whenever a registrar is written: a session
    /// re-reads its registrar only when it moved.
    pub fn registrars_epoch(&self) -> u64 {
        self.inner.registrars_epoch.load(Ordering::Acquire)
    }

    /// Every registrar, by clID.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn registrars(&self) -> Result<Vec<Registrar>, StoreError> {
        self.engine()?
            .registrars
            .iter()
            .values()
            .map(|v| codec::decode("registrars", &v?))
            .collect()
    }

    // ----- reads -----

    /// Whether the store holds any domain, contact or host.
    ///
    /// # Errors
    /// sled errors.
    pub fn holds_objects(&self) -> Result<bool, StoreError> {
        let i = self.engine()?;
        Ok(!(i.domains.is_empty()? && i.contacts.is_empty()? && i.hosts.is_empty()?))
    }

    /// Every record of one tree, in key order, decoded as the iteration
    /// reaches it (nothing is held in memory but the current record); a
    /// store being reopened gives one error.
    fn records<T: Record>(
        &self,
        tree: fn(&Engine) -> &Tree,
        name: &'static str,
    ) -> impl Iterator<Item = Result<T, StoreError>> + use<T> {
        let (values, unavailable) = match self.engine() {
            Ok(engine) => (Some(tree(&engine).iter().values()), None),
            Err(e) => (None, Some(Err(e))),
        };
        unavailable.into_iter().chain(
            values
                .into_iter()
                .flatten()
                .map(move |v| codec::decode(name, &v?)),
        )
    }

    /// Every domain, by name, read as the iteration reaches it (nothing is
    /// held in memory but the current record).
    pub fn all_domains(&self) -> impl Iterator<Item = Result<Domain, StoreError>> + '_ {
        self.records(|engine| &engine.domains, "domains")
    }

    /// Every contact, by id, read as the iteration reaches it.
    pub fn all_contacts(&self) -> impl Iterator<Item = Result<Contact, StoreError>> + '_ {
        self.records(|engine| &engine.contacts, "contacts")
    }

    /// Every host, by name, read as the iteration reaches it.
    pub fn all_hosts(&self) -> impl Iterator<Item = Result<Host, StoreError>> + '_ {
        self.records(|engine| &engine.hosts, "hosts")
    }

    /// A domain by its stored name.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn domain(&self, name: &str) -> Result<Option<Domain>, StoreError> {
        codec::get(&self.engine()?.domains, "domains", name.as_bytes())
    }

    /// Whether a domain exists.
    ///
    /// # Errors
    /// sled errors.
    pub fn domain_exists(&self, name: &str) -> Result<bool, StoreError> {
        self.engine()?.domains.contains_key(name.as_bytes())
    }

    /// Every domain in name order, read and decoded one at a time (an
    /// iterator over the tree, not a list in memory).
    pub fn domains_iter(&self) -> impl Iterator<Item = Result<Domain, StoreError>> + '_ {
        self.records(|engine| &engine.domains, "domains")
    }

    /// The first `limit` domains whose name starts with `prefix`, in name
    /// order, read by a range over the domains tree (never a scan of it),
    /// and whether more follow.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn domains_with_prefix(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<(Vec<Domain>, bool), StoreError> {
        let mut found = Vec::new();
        for value in self
            .engine()?
            .domains
            .scan_prefix(prefix.as_bytes())
            .values()
            .take(limit.saturating_add(1))
        {
            found.push(codec::decode("domains", &value?)?);
        }
        let more = found.len() > limit;
        found.truncate(limit);
        Ok((found, more))
    }

    /// A contact by id.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn contact(&self, id: &str) -> Result<Option<Contact>, StoreError> {
        codec::get(&self.engine()?.contacts, "contacts", id.as_bytes())
    }

    /// Whether a contact exists.
    ///
    /// # Errors
    /// sled errors.
    pub fn contact_exists(&self, id: &str) -> Result<bool, StoreError> {
        self.engine()?.contacts.contains_key(id.as_bytes())
    }

    /// A host by name.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn host(&self, name: &str) -> Result<Option<Host>, StoreError> {
        codec::get(&self.engine()?.hosts, "hosts", name.as_bytes())
    }

    /// Whether a host exists.
    ///
    /// # Errors
    /// sled errors.
    pub fn host_exists(&self, name: &str) -> Result<bool, StoreError> {
        self.engine()?.hosts.contains_key(name.as_bytes())
    }

    /// Whether any domain uses this contact.
    ///
    /// # Errors
    /// sled errors.
    pub fn contact_linked(&self, id: &str) -> Result<bool, StoreError> {
        self.engine()?.refs.contains_key(counter_key(b'c', id))
    }

    /// How many domains delegate to this host.
    ///
    /// # Errors
    /// sled errors.
    pub fn host_use_count(&self, name: &str) -> Result<u32, StoreError> {
        Ok(self
            .engine()?
            .refs
            .get(counter_key(b'h', name))?
            .and_then(|v| <[u8; 4]>::try_from(v.as_ref()).ok())
            .map(u32::from_be_bytes)
            .unwrap_or(0))
    }

    /// Whether any domain delegates to this host.
    ///
    /// # Errors
    /// sled errors.
    pub fn host_linked(&self, name: &str) -> Result<bool, StoreError> {
        self.engine()?.refs.contains_key(counter_key(b'h', name))
    }

    /// The domains that use a contact (any role), by name.
    ///
    /// # Errors
    /// sled errors.
    pub fn domains_using_contact(&self, id: &str) -> Result<Vec<String>, StoreError> {
        self.names_after(prefix1(b'C', id))
    }

    /// The domains a registrar sponsors, by name.
    ///
    /// # Errors
    /// sled errors.
    pub fn domains_of(&self, registrar: &str) -> Result<Vec<String>, StoreError> {
        self.names_after(prefix1(b'R', registrar))
    }

    /// The domains that delegate to a host, by name.
    ///
    /// # Errors
    /// sled errors.
    pub fn domains_using_host(&self, name: &str) -> Result<Vec<String>, StoreError> {
        self.names_after(prefix1(b'H', name))
    }

    fn names_after(&self, prefix: Vec<u8>) -> Result<Vec<String>, StoreError> {
        self.engine()?
            .refs
            .scan_prefix(&prefix)
            .keys()
            .map(|k| {
                let k = k?;
                Ok(String::from_utf8_lossy(&k[prefix.len()..]).into_owned())
            })
            .collect()
    }

    // ----- ledger (R23) -----

    /// A registrar's balance, in centimes.
    ///
    /// # Errors
    /// sled errors.
    pub fn balance(&self, registrar: &str) -> Result<i64, StoreError> {
        Ok(read_i64(
            self.engine()?
                .ledger
                .get(balance_key(registrar))?
                .as_deref(),
        ))
    }

    /// Credits a registrar's balance (a positive ledger line); returns the new balance.
    ///
    /// # Errors
    /// sled errors.
    pub fn credit(
        &self,
        registrar: &str,
        amount: i64,
        description: &str,
        audit: &Audit,
    ) -> Result<i64, StoreError> {
        let _write = self.write_gate()?;
        let charge = Charge {
            registrar: registrar.to_owned(),
            amount: -amount,
            description: description.to_owned(),
            allow_negative: true,
        };
        let lw = LedgerWrite::prepare(self, &charge, audit)?;
        let result = kv::transaction([&self.engine()?.ledger], |[ledger]| lw.apply(ledger));
        match result {
            Ok(()) => self.balance(registrar),
            Err(e) => Err(self.tx_failed(e)),
        }
    }

    /// A registrar's ledger, oldest first.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn ledger(&self, registrar: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        self.engine()?
            .ledger
            .scan_prefix(prefix1_bytes(registrar))
            .values()
            .map(|v| codec::decode("ledger", &v?))
            .collect()
    }

    /// The newest ledger entry of `registrar` paying for the change
    /// `sv_trid` (read newest first, so a recent change is found at once).
    ///
    /// # Errors
    /// Storage failures.
    pub fn ledger_entry_for(
        &self,
        registrar: &str,
        sv_trid: &str,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        for value in self
            .engine()?
            .ledger
            .scan_prefix_rev(prefix1_bytes(registrar))
            .values()
        {
            let entry: LedgerEntry = codec::decode("ledger", &value?)?;
            if entry.sv_trid == sv_trid {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    /// Everything waiting for the registry (R20), read from its index.
    ///
    /// # Errors
    /// Storage failures.
    pub fn waiting(&self) -> Result<Vec<WaitingItem>, StoreError> {
        let mut items = Vec::new();
        for entry in self.engine()?.refs.scan_prefix([b'W']) {
            let (key, value) = entry?;
            if let Some(item) = waiting_item(&key, &value) {
                items.push(item);
            }
        }
        Ok(items)
    }

    /// The creates of `registrar` per month (`YYYY-MM`), from its counters
    /// (R21); a pending create the registry refused is not counted.
    ///
    /// # Errors
    /// Storage failures.
    pub fn creates_per_month(&self, registrar: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let mut prefix = vec![b'N'];
        prefix.extend_from_slice(registrar.as_bytes());
        prefix.push(0);
        let mut out = Vec::new();
        for entry in self.engine()?.refs.scan_prefix(&prefix) {
            let (key, value) = entry?;
            let month = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
            let n = value
                .as_ref()
                .try_into()
                .map(i64::from_be_bytes)
                .unwrap_or(0);
            out.push((month, u64::try_from(n).unwrap_or(0)));
        }
        Ok(out)
    }

    // ----- history (R24) -----

    fn history_write(
        &self,
        audit: &Audit,
        kind: &str,
        name: &str,
        after: Option<String>,
    ) -> Result<HistoryWrite, StoreError> {
        let seq = self.engine()?.generate_id()?;
        let mut key = format!("{kind}:{name}").into_bytes();
        key.push(0);
        key.extend_from_slice(&seq.to_be_bytes());
        Ok(HistoryWrite {
            key,
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
        let head = match history.get(CHAIN_HEAD)? {
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
        for entry in history.scan_prefix([CHAIN_INDEX]) {
            let (index, key) = entry?;
            let place = index
                .get(1..9)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_be_bytes);
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
    /// sled or decoding errors.
    pub fn history(&self, kind: &str, name: &str) -> Result<Vec<HistoryRecord>, StoreError> {
        let mut prefix = format!("{kind}:{name}").into_bytes();
        prefix.push(0);
        self.engine()?
            .history
            .scan_prefix(prefix)
            .values()
            .map(|v| codec::decode("history", &v?))
            .collect()
    }

    // ----- reserved and blocked terms, allocation tokens -----

    fn term_key(tag: u8, label: &str) -> Vec<u8> {
        let mut k = Vec::with_capacity(label.len() + 1);
        k.push(tag);
        k.extend_from_slice(label.as_bytes());
        k
    }

    /// The category of a reserved label (R4).
    ///
    /// # Errors
    /// sled errors.
    pub fn reserved(&self, label: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .engine()?
            .names
            .get(Self::term_key(b'r', label))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Reserves a label in a category (R4), with its history record.
    ///
    /// # Errors
    /// sled errors.
    pub fn put_reserved(
        &self,
        label: &str,
        category: &str,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let after = serde_json::json!({ "category": category }).to_string();
        self.names_change(
            Self::term_key(b'r', label),
            Some(category.as_bytes().to_vec()),
            ("reserved", label, Some(after)),
            audit,
        )
        .map(|_| ())
    }

    /// Removes a reserved label; whether it was there.
    ///
    /// # Errors
    /// sled errors.
    pub fn remove_reserved(&self, label: &str, audit: &Audit) -> Result<bool, StoreError> {
        self.names_change(
            Self::term_key(b'r', label),
            None,
            ("reserved", label, None),
            audit,
        )
    }

    /// The reason a label is blocked (R5).
    ///
    /// # Errors
    /// sled errors.
    pub fn blocked(&self, label: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .engine()?
            .names
            .get(Self::term_key(b'b', label))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Blocks a label with a reason (R5), with its history record.
    ///
    /// # Errors
    /// sled errors.
    pub fn put_blocked(&self, label: &str, reason: &str, audit: &Audit) -> Result<(), StoreError> {
        let after = serde_json::json!({ "reason": reason }).to_string();
        self.names_change(
            Self::term_key(b'b', label),
            Some(reason.as_bytes().to_vec()),
            ("blocked", label, Some(after)),
            audit,
        )
        .map(|_| ())
    }

    /// Unblocks a label; whether it was blocked.
    ///
    /// # Errors
    /// sled errors.
    pub fn remove_blocked(&self, label: &str, audit: &Audit) -> Result<bool, StoreError> {
        self.names_change(
            Self::term_key(b'b', label),
            None,
            ("blocked", label, None),
            audit,
        )
    }

    /// Writes (`Some`) or removes (`None`) one entry of the names tree with
    /// the history record of `(kind, name, after)` in the same transaction;
    /// whether the entry was there before.
    fn names_change(
        &self,
        key: Vec<u8>,
        value: Option<Vec<u8>>,
        (kind, name, after): (&str, &str, Option<String>),
        audit: &Audit,
    ) -> Result<bool, StoreError> {
        let _write = self.write_gate()?;
        let hw = self.history_write(audit, kind, name, after)?;
        let i = self.engine()?;
        let result = kv::transaction([&i.names, &i.history], |[names, history]| {
            let before = names.take(key.as_slice())?;
            if let Some(v) = &value {
                names.insert(key.as_slice(), v.as_slice())?;
            }
            if value.is_some() || before.is_some() {
                hw.apply(history)?;
            }
            Ok(before.is_some())
        });
        result.map_err(|e| self.tx_failed(e))
    }
    /// Every reserved (`reserved = true`) or blocked label with its category or reason.
    ///
    /// # Errors
    /// sled errors.
    pub fn terms(&self, reserved: bool) -> Result<Vec<(String, String)>, StoreError> {
        let tag = if reserved { b'r' } else { b'b' };
        self.engine()?
            .names
            .scan_prefix([tag])
            .map(|kv| {
                let (k, v) = kv?;
                Ok((
                    String::from_utf8_lossy(&k[1..]).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                ))
            })
            .collect()
    }

    /// Whether the shipped reserved list was loaded into this store.
    ///
    /// # Errors
    /// sled errors.
    pub fn terms_seeded(&self) -> Result<bool, StoreError> {
        self.engine()?.meta.contains_key("terms_seeded")
    }

    /// Records that the shipped reserved list was loaded.
    ///
    /// # Errors
    /// sled errors.
    pub fn mark_terms_seeded(&self) -> Result<(), StoreError> {
        let _write = self.write_gate()?;
        self.engine()?.meta.insert("terms_seeded", [1])?;
        Ok(())
    }

    /// The SOA serial of the next export of `zone`: `candidate`, or one more
    /// than the last one recorded when that is not lower; recorded at once,
    /// so serials only ever increase.
    ///
    /// # Errors
    /// sled errors.
    pub fn zone_serial_next(&self, zone: &str, candidate: u32) -> Result<u32, StoreError> {
        let _write = self.write_gate()?;
        let next = |last: Option<&[u8]>| match last.and_then(|v| <[u8; 4]>::try_from(v).ok()) {
            Some(last) if u32::from_be_bytes(last) >= candidate => {
                u32::from_be_bytes(last).wrapping_add(1)
            }
            _ => candidate,
        };
        let stored = self
            .engine()?
            .meta
            .update_and_fetch(format!("zone_serial:{zone}"), |last| {
                Some(next(last).to_be_bytes().to_vec())
            })?;
        Ok(stored
            .and_then(|v| <[u8; 4]>::try_from(v.as_ref()).ok())
            .map_or(candidate, u32::from_be_bytes))
    }

    /// Records an allocation token (R4), with its history record.
    ///
    /// # Errors
    /// sled errors.
    pub fn put_token(&self, token: &AllocationToken, audit: &Audit) -> Result<(), StoreError> {
        let after = serde_json::json!({
            "name": token.name,
            "issued": token.issued.to_rfc3339(),
            "issued_by": token.issued_by,
            "used": token.used.map(|u| u.to_rfc3339()),
        })
        .to_string();
        self.names_change(
            Self::term_key(b't', &token.token),
            Some(codec::encode(token)?),
            ("token", &token.token, Some(after)),
            audit,
        )
        .map(|_| ())
    }
    /// An allocation token.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn token(&self, token: &str) -> Result<Option<AllocationToken>, StoreError> {
        codec::get(&self.engine()?.names, "names", &Self::term_key(b't', token))
    }

    /// Every allocation token.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn tokens(&self) -> Result<Vec<AllocationToken>, StoreError> {
        self.engine()?
            .names
            .scan_prefix([b't'])
            .values()
            .map(|v| codec::decode("names", &v?))
            .collect()
    }

    // ----- poll queues -----

    /// A new poll message id, unique in the registry.
    ///
    /// # Errors
    /// sled errors.
    pub fn next_message_id(&self) -> Result<u64, StoreError> {
        Ok(self.engine()?.generate_id()? + 1)
    }

    /// The oldest message of a registrar's queue, and the queue's length.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn poll_head(&self, registrar: &str) -> Result<Option<(PollMessage, u64)>, StoreError> {
        let prefix = prefix1_bytes(registrar);
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
    /// sled errors.
    pub fn poll_count(&self, registrar: &str) -> Result<u64, StoreError> {
        Ok(read_u64(
            self.engine()?
                .poll
                .get(poll_count_key(registrar))?
                .as_deref(),
        ))
    }

    /// Removes a message from a registrar's queue; returns the remaining
    /// count, or `None` when the registrar has no such message.
    ///
    /// # Errors
    /// sled errors.
    pub fn poll_ack(&self, registrar: &str, id: u64) -> Result<Option<u64>, StoreError> {
        let _write = self.write_gate()?;
        let key = poll_key(registrar, id);
        let count_key = poll_count_key(registrar);
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
    /// sled errors.
    pub fn queue_messages(&self, messages: &[PollMessage]) -> Result<(), StoreError> {
        let _write = self.write_gate()?;
        let encoded = messages
            .iter()
            .map(|m| Ok((poll_key(&m.registrar, m.id), codec::encode(m)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let result = kv::transaction([&self.engine()?.poll], |[poll]| {
            for (key, value) in &encoded {
                queue(poll, key, value)?;
            }
            Ok(())
        });
        result.map_err(|e| self.tx_failed(e))
    }

    // ----- life-cycle agenda -----

    /// Agenda entries due at or before `now`, oldest first.
    ///
    /// # Errors
    /// sled errors.
    pub fn due_until(&self, now: Timestamp) -> Result<Vec<DueEntry>, StoreError> {
        let end = u64::try_from(now.timestamp_millis())
            .unwrap_or(0)
            .saturating_add(1);
        self.engine()?
            .due
            .range_below(end.to_be_bytes().to_vec())
            .keys()
            .filter_map(|k| match k {
                Ok(k) => DueEntry::from_key(&k).map(Ok),
                Err(e) => Some(Err(e)),
            })
            .collect()
    }

    /// Removes an agenda entry that no longer applies.
    ///
    /// # Errors
    /// sled errors.
    pub fn remove_due(&self, entry: &DueEntry) -> Result<(), StoreError> {
        let _write = self.write_gate()?;
        self.engine()?.due.remove(entry.key())?;
        Ok(())
    }

    // ----- atomic changes -----

    /// Creates a domain if the name is free and every contact and host it
    /// names exists, with its indexes, agenda entries and history, in one
    /// transaction (R6: of concurrent creates exactly one succeeds). A given
    /// allocation token is used up in the same transaction (R4).
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn create_domain_with(
        &self,
        d: &Domain,
        token: Option<&str>,
        effects: &Effects,
    ) -> ChangeResult {
        let _write = self.write_gate()?;
        let value = codec::encode(d)?;
        let hw = self.history_write(&effects.audit, "domain", &d.name, domain_snapshot(d))?;
        let lw = effects
            .charge
            .as_ref()
            .map(|c| LedgerWrite::prepare(self, c, &effects.audit))
            .transpose()?;
        let i = self.engine()?;
        let trees = [
            &i.domains,
            &i.contacts,
            &i.hosts,
            &i.refs,
            &i.due,
            &i.names,
            &i.history,
            &i.ledger,
        ];
        let result = kv::transaction(
            trees,
            |[domains, contacts, hosts, refs, due, names, history, ledger]| {
                if let Some(lw) = &lw {
                    lw.apply(ledger)?;
                }
                hw.apply(history)?;
                for entry in &effects.due_add {
                    due.insert(entry.key(), [])?;
                }
                if let Some(token) = token {
                    let key = Self::term_key(b't', token);
                    let Some(raw) = names.get(&key)? else {
                        return abort(Conflict::TokenInvalid);
                    };
                    let mut record: AllocationToken = decode_in_tx(&raw)?;
                    if record.name != d.name || record.used.is_some() {
                        return abort(Conflict::TokenInvalid);
                    }
                    record.used = Some(d.created);
                    names.insert(key, encode_in_tx(&record)?)?;
                }
                insert_new_domain(domains, contacts, hosts, refs, d, &value)
            },
        );
        self.settle(result)
    }

    /// Replaces `old` by `new` (same name) if the domain is still `old`,
    /// moving its contact, host and sponsor indexes, with its poll messages,
    /// agenda changes and history in the same transaction. A change of
    /// sponsor moves the subordinate hosts too.
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn replace_domain_with(
        &self,
        old: &Domain,
        new: &Domain,
        effects: &Effects,
    ) -> ChangeResult {
        let _write = self.write_gate()?;
        let old_value = codec::encode(old)?;
        let new_value = codec::encode(new)?;
        let (old_waiting, new_waiting) = (domain_waiting(old), domain_waiting(new));
        let messages = effects
            .messages
            .iter()
            .map(|m| Ok((poll_key(&m.registrar, m.id), codec::encode(m)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let hw = self.history_write(&effects.audit, "domain", &new.name, domain_snapshot(new))?;
        let lw = effects
            .charge
            .as_ref()
            .map(|c| LedgerWrite::prepare(self, c, &effects.audit))
            .transpose()?;
        let i = self.engine()?;
        let old_contacts = contact_ids(old);
        let new_contacts = contact_ids(new);
        let trees = [
            &i.domains,
            &i.contacts,
            &i.hosts,
            &i.refs,
            &i.poll,
            &i.due,
            &i.history,
            &i.ledger,
        ];
        let result = kv::transaction(
            trees,
            |[domains, contacts, hosts, refs, poll, due, history, ledger]| {
                hw.apply(history)?;
                if domains.get(old.name.as_bytes())?.as_deref() != Some(old_value.as_slice()) {
                    return abort(Conflict::Changed);
                }
                if let Some(lw) = &lw {
                    lw.apply(ledger)?;
                }
                for id in old_contacts.iter().filter(|c| !new_contacts.contains(c)) {
                    unlink(refs, b'C', b'c', id, &old.name)?;
                }
                for id in new_contacts.iter().filter(|c| !old_contacts.contains(c)) {
                    if contacts.get(id.as_bytes())?.is_none() {
                        return abort(Conflict::MissingContact((*id).to_owned()));
                    }
                    link(refs, b'C', b'c', id, &new.name)?;
                }
                for ns in old
                    .nameservers
                    .iter()
                    .filter(|n| !new.nameservers.contains(n))
                {
                    unlink(refs, b'H', b'h', ns, &old.name)?;
                }
                for ns in new
                    .nameservers
                    .iter()
                    .filter(|n| !old.nameservers.contains(n))
                {
                    if hosts.get(ns.as_bytes())?.is_none() {
                        return abort(Conflict::MissingHost(ns.clone()));
                    }
                    link(refs, b'H', b'h', ns, &new.name)?;
                }
                if old.sponsor != new.sponsor {
                    refs.remove(key2(b'R', &old.sponsor, &old.name))?;
                    refs.insert(key2(b'R', &new.sponsor, &new.name), [])?;
                    for sub in &new.subordinate_hosts {
                        if let Some(raw) = hosts.get(sub.as_bytes())? {
                            let mut h: Host = decode_in_tx(&raw)?;
                            h.sponsor.clone_from(&new.sponsor);
                            h.transferred = new.transferred;
                            hosts.insert(sub.as_bytes(), encode_in_tx(&h)?)?;
                        }
                    }
                }
                for (key, value) in &messages {
                    queue(poll, key, value)?;
                }
                for entry in &effects.due_remove {
                    due.remove(entry.key())?;
                }
                for entry in &effects.due_add {
                    due.insert(entry.key(), [])?;
                }
                sync_index(refs, &old_waiting, &new_waiting)?;
                domains.insert(new.name.as_bytes(), new_value.as_slice())?;
                Ok(())
            },
        );
        self.settle(result)
    }

    /// Deletes a domain that is still `old`, with its subordinate hosts,
    /// unless another domain delegates to one of them; with poll messages,
    /// agenda changes and history in the same transaction.
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn delete_domain_with(&self, old: &Domain, effects: &Effects) -> ChangeResult {
        let _write = self.write_gate()?;
        let old_value = codec::encode(old)?;
        let old_waiting = domain_waiting(old);
        let messages = effects
            .messages
            .iter()
            .map(|m| Ok((poll_key(&m.registrar, m.id), codec::encode(m)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let hw = self.history_write(&effects.audit, "domain", &old.name, None)?;
        let lw = effects
            .charge
            .as_ref()
            .map(|c| LedgerWrite::prepare(self, c, &effects.audit))
            .transpose()?;
        let i = self.engine()?;
        let trees = [
            &i.domains, &i.hosts, &i.refs, &i.poll, &i.due, &i.history, &i.ledger,
        ];
        let result = kv::transaction(
            trees,
            |[domains, hosts, refs, poll, due, history, ledger]| {
                if domains.get(old.name.as_bytes())?.as_deref() != Some(old_value.as_slice()) {
                    return abort(Conflict::Changed);
                }
                if let Some(lw) = &lw {
                    lw.apply(ledger)?;
                }
                hw.apply(history)?;
                for (key, value) in &messages {
                    queue(poll, key, value)?;
                }
                for entry in &effects.due_remove {
                    due.remove(entry.key())?;
                }
                for sub in &old.subordinate_hosts {
                    let own = u32::from(old.nameservers.contains(sub));
                    if count(refs, b'h', sub)? > own {
                        return abort(Conflict::HostInUse(sub.clone()));
                    }
                }
                for id in contact_ids(old) {
                    unlink(refs, b'C', b'c', id, &old.name)?;
                }
                for ns in &old.nameservers {
                    unlink(refs, b'H', b'h', ns, &old.name)?;
                }
                for sub in &old.subordinate_hosts {
                    hosts.remove(sub.as_bytes())?;
                    refs.remove(counter_key(b'h', sub))?;
                }
                refs.remove(key2(b'R', &old.sponsor, &old.name))?;
                sync_index(refs, &old_waiting, &[])?;
                if old.statuses.contains(&crate::model::Status::PendingCreate) {
                    add_to_counter(refs, &creates_key(&old.created_by, old.created), -1)?;
                }
                domains.remove(old.name.as_bytes())?;
                Ok(())
            },
        );
        self.settle(result)
    }

    /// Encodes objects for [`Self::commit_many`], with their history
    /// records, outside any transaction.
    ///
    /// # Errors
    /// sled or encoding errors.
    pub fn prepare_many(&self, objects: Vec<NewObject>) -> Result<PreparedBatch, StoreError> {
        let encoded = objects
            .iter()
            .map(|o| {
                let audit = &o.effects.audit;
                Ok(match &o.object {
                    Created::Contact(c) => (
                        codec::encode(c)?,
                        self.history_write(audit, "contact", &c.id, contact_snapshot(c))?,
                    ),
                    Created::Host(h) => (
                        codec::encode(h)?,
                        self.history_write(audit, "host", &h.name, json_snapshot(h))?,
                    ),
                    Created::Domain(d) => (
                        codec::encode(d)?,
                        self.history_write(audit, "domain", &d.name, domain_snapshot(d))?,
                    ),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(PreparedBatch { objects, encoded })
    }

    /// Creates the objects `range` of a prepared batch, in order, in one
    /// transaction (a bulk import): each with the indexes, history and
    /// agenda entries its single create writes, so the store's invariants
    /// are those of one create after another; a host may name a domain
    /// created earlier in the same batch as superordinate. On a conflict
    /// nothing is written, and the inner `Err` gives the index of the
    /// object that conflicted.
    ///
    /// # Errors
    /// sled errors.
    pub fn commit_many(
        &self,
        batch: &PreparedBatch,
        range: std::ops::Range<usize>,
    ) -> Result<Result<(), (usize, Conflict)>, StoreError> {
        let _write = self.write_gate()?;
        let objects = batch.objects.get(range.clone()).unwrap_or_default();
        let encoded = batch.encoded.get(range.clone()).unwrap_or_default();
        let i = self.engine()?;
        let trees = [
            &i.domains,
            &i.contacts,
            &i.hosts,
            &i.refs,
            &i.due,
            &i.history,
        ];
        let result = kv::transaction(trees, |[domains, contacts, hosts, refs, due, history]| {
            for (n, (o, (value, hw))) in objects.iter().zip(encoded).enumerate() {
                let created = match &o.object {
                    Created::Contact(c) => insert_new_contact(contacts, refs, c, value),
                    Created::Host(h) => insert_new_host(hosts, domains, h, value),
                    Created::Domain(d) => {
                        insert_new_domain(domains, contacts, hosts, refs, d, value)
                    }
                };
                created.map_err(|e| at_index(range.start + n, e))?;
                hw.apply(history)?;
                for entry in &o.effects.due_add {
                    due.insert(entry.key(), [])?;
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(Ok(())),
            Err(TxFailure::AbortAt(n, conflict)) => Ok(Err((n, conflict))),
            Err(TxFailure::Abort(conflict)) => Ok(Err((range.start, conflict))),
            Err(TxFailure::Store(e)) => Err(e),
            Err(TxFailure::Sled(e)) => Err(self.storage_failed(e)),
        }
    }

    /// Creates a contact if the id is free.
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn create_contact(&self, c: &Contact, audit: &Audit) -> ChangeResult {
        let _write = self.write_gate()?;
        let value = codec::encode(c)?;
        let hw = self.history_write(audit, "contact", &c.id, contact_snapshot(c))?;
        let i = self.engine()?;
        let result = kv::transaction(
            [&i.contacts, &i.refs, &i.history],
            |[contacts, refs, history]| {
                insert_new_contact(contacts, refs, c, &value)?;
                hw.apply(history)?;
                Ok(())
            },
        );
        self.settle(result)
    }

    /// Replaces a contact that is still `old`.
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn replace_contact(&self, old: &Contact, new: &Contact, audit: &Audit) -> ChangeResult {
        self.replace_contact_with(old, new, &Effects::audit(audit.clone()))
    }

    /// Replaces a contact that is still `old` (same id), with its poll
    /// messages, agenda changes, charge and history in the same transaction.
    /// The domains that use the contact are not touched.
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn replace_contact_with(
        &self,
        old: &Contact,
        new: &Contact,
        effects: &Effects,
    ) -> ChangeResult {
        let _write = self.write_gate()?;
        let old_value = codec::encode(old)?;
        let new_value = codec::encode(new)?;
        let messages = effects
            .messages
            .iter()
            .map(|m| Ok((poll_key(&m.registrar, m.id), codec::encode(m)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let hw = self.history_write(&effects.audit, "contact", &new.id, contact_snapshot(new))?;
        let (old_waiting, new_waiting) = (contact_waiting(old), contact_waiting(new));
        let lw = effects
            .charge
            .as_ref()
            .map(|c| LedgerWrite::prepare(self, c, &effects.audit))
            .transpose()?;
        let i = self.engine()?;
        let trees = [&i.contacts, &i.refs, &i.poll, &i.due, &i.history, &i.ledger];
        let result = kv::transaction(trees, |[contacts, refs, poll, due, history, ledger]| {
            if contacts.get(old.id.as_bytes())?.as_deref() != Some(old_value.as_slice()) {
                return abort(Conflict::Changed);
            }
            sync_index(refs, &old_waiting, &new_waiting)?;
            if let Some(lw) = &lw {
                lw.apply(ledger)?;
            }
            for (key, value) in &messages {
                queue(poll, key, value)?;
            }
            for entry in &effects.due_remove {
                due.remove(entry.key())?;
            }
            for entry in &effects.due_add {
                due.insert(entry.key(), [])?;
            }
            contacts.insert(new.id.as_bytes(), new_value.as_slice())?;
            hw.apply(history)?;
            Ok(())
        });
        self.settle(result)
    }

    /// Deletes a contact that is still `old` and used by no domain.
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn delete_contact(&self, old: &Contact, audit: &Audit) -> ChangeResult {
        let _write = self.write_gate()?;
        let old_value = codec::encode(old)?;
        let old_waiting = contact_waiting(old);
        let hw = self.history_write(audit, "contact", &old.id, None)?;
        let i = self.engine()?;
        let result = kv::transaction(
            [&i.contacts, &i.refs, &i.history],
            |[contacts, refs, history]| {
                hw.apply(history)?;
                if contacts.get(old.id.as_bytes())?.as_deref() != Some(old_value.as_slice()) {
                    return abort(Conflict::Changed);
                }
                if count(refs, b'c', &old.id)? > 0 {
                    return abort(Conflict::Linked);
                }
                sync_index(refs, &old_waiting, &[])?;
                contacts.remove(old.id.as_bytes())?;
                Ok(())
            },
        );
        self.settle(result)
    }

    /// Creates a host if the name is free and, for a host in a registry zone,
    /// its superordinate domain exists and is sponsored by the same registrar.
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn create_host(&self, h: &Host, audit: &Audit) -> ChangeResult {
        let _write = self.write_gate()?;
        let value = codec::encode(h)?;
        let hw = self.history_write(audit, "host", &h.name, json_snapshot(h))?;
        let i = self.engine()?;
        let result = kv::transaction(
            [&i.hosts, &i.domains, &i.history],
            |[hosts, domains, history]| {
                hw.apply(history)?;
                insert_new_host(hosts, domains, h, &value)
            },
        );
        self.settle(result)
    }

    /// Replaces a host that is still `old` by `new`. When the name changes,
    /// every domain delegating to it is rewritten to the new name, and the
    /// superordinate domains' lists of subordinate hosts follow; `users` are
    /// the domains that delegate to `old` as read before the call.
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn replace_host(
        &self,
        old: &Host,
        new: &Host,
        users: &[String],
        audit: &Audit,
    ) -> ChangeResult {
        self.replace_host_with(old, new, users, &[], audit)
    }

    /// [`Store::replace_host`] with poll messages queued in the same
    /// transaction.
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn replace_host_with(
        &self,
        old: &Host,
        new: &Host,
        users: &[String],
        messages: &[PollMessage],
        audit: &Audit,
    ) -> ChangeResult {
        let _write = self.write_gate()?;
        let old_value = codec::encode(old)?;
        let new_value = codec::encode(new)?;
        let messages = messages
            .iter()
            .map(|m| Ok((poll_key(&m.registrar, m.id), codec::encode(m)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let hw = self.history_write(audit, "host", &new.name, json_snapshot(new))?;
        let i = self.engine()?;
        let renamed = old.name != new.name;
        let trees = [&i.hosts, &i.domains, &i.refs, &i.poll, &i.history];
        let result = kv::transaction(trees, |[hosts, domains, refs, poll, history]| {
            hw.apply(history)?;
            if hosts.get(old.name.as_bytes())?.as_deref() != Some(old_value.as_slice()) {
                return abort(Conflict::Changed);
            }
            for (key, value) in &messages {
                queue(poll, key, value)?;
            }
            if !renamed {
                hosts.insert(new.name.as_bytes(), new_value.as_slice())?;
                return Ok(());
            }
            if hosts.get(new.name.as_bytes())?.is_some() {
                return abort(Conflict::Exists);
            }
            if count(refs, b'h', &old.name)? as usize != users.len() {
                return abort(Conflict::Changed);
            }
            for name in users {
                let Some(raw) = domains.get(name.as_bytes())? else {
                    return abort(Conflict::Changed);
                };
                let mut d: Domain = decode_in_tx(&raw)?;
                for ns in d.nameservers.iter_mut().filter(|n| **n == old.name) {
                    ns.clone_from(&new.name);
                }
                domains.insert(name.as_bytes(), encode_in_tx(&d)?)?;
                refs.remove(key2(b'H', &old.name, name))?;
                refs.insert(key2(b'H', &new.name, name), [])?;
            }
            if let Some(n) = refs.take(counter_key(b'h', &old.name))? {
                refs.insert(counter_key(b'h', &new.name), n)?;
            }
            if let Some(sup) = &old.superordinate
                && let Some(raw) = domains.get(sup.as_bytes())?
            {
                let mut d: Domain = decode_in_tx(&raw)?;
                d.subordinate_hosts.retain(|s| *s != old.name);
                domains.insert(sup.as_bytes(), encode_in_tx(&d)?)?;
            }
            if let Some(sup) = &new.superordinate {
                let mut d = superordinate(domains, sup, &new.sponsor)?;
                d.subordinate_hosts.push(new.name.clone());
                domains.insert(sup.as_bytes(), encode_in_tx(&d)?)?;
            }
            hosts.remove(old.name.as_bytes())?;
            hosts.insert(new.name.as_bytes(), new_value.as_slice())?;
            Ok(())
        });
        self.settle(result)
    }

    /// Deletes a host that is still `old` and used by no domain.
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn delete_host(&self, old: &Host, audit: &Audit) -> ChangeResult {
        let _write = self.write_gate()?;
        let old_value = codec::encode(old)?;
        let hw = self.history_write(audit, "host", &old.name, None)?;
        let i = self.engine()?;
        let trees = [&i.hosts, &i.domains, &i.refs, &i.history];
        let result = kv::transaction(trees, |[hosts, domains, refs, history]| {
            hw.apply(history)?;
            if hosts.get(old.name.as_bytes())?.as_deref() != Some(old_value.as_slice()) {
                return abort(Conflict::Changed);
            }
            if count(refs, b'h', &old.name)? > 0 {
                return abort(Conflict::Linked);
            }
            if let Some(sup) = &old.superordinate
                && let Some(raw) = domains.get(sup.as_bytes())?
            {
                let mut d: Domain = decode_in_tx(&raw)?;
                d.subordinate_hosts.retain(|s| *s != old.name);
                domains.insert(sup.as_bytes(), encode_in_tx(&d)?)?;
            }
            hosts.remove(old.name.as_bytes())?;
            Ok(())
        });
        self.settle(result)
    }
}

/// An object [`Store::commit_many`] creates, with its history and agenda.
#[derive(Debug, Clone)]
pub struct NewObject {
    /// The object.
    pub object: Created,
    /// Its audit (history) and agenda entries; messages and charges are
    /// not applied by a bulk create.
    pub effects: Effects,
}

/// Objects encoded by [`Store::prepare_many`], ready to be created.
pub struct PreparedBatch {
    objects: Vec<NewObject>,
    encoded: Vec<(Vec<u8>, HistoryWrite)>,
}

impl PreparedBatch {
    /// The objects, in creation order.
    pub fn objects(&self) -> &[NewObject] {
        &self.objects
    }
}

/// A new object of [`NewObject`].
#[derive(Debug, Clone)]
pub enum Created {
    /// A contact.
    Contact(Contact),
    /// A host.
    Host(Host),
    /// A domain.
    Domain(Domain),
}

/// Inserts a contact whose id must be free.
fn insert_new_contact(contacts: &Tx, refs: &Tx, c: &Contact, value: &[u8]) -> TxResult<()> {
    if contacts.get(c.id.as_bytes())?.is_some() {
        return abort(Conflict::Exists);
    }
    sync_index(refs, &[], &contact_waiting(c))?;
    contacts.insert(c.id.as_bytes(), value)?;
    Ok(())
}

/// Inserts a host whose name must be free; a host in a registry zone is
/// listed by its superordinate domain, which must be the same registrar's.
fn insert_new_host(hosts: &Tx, domains: &Tx, h: &Host, value: &[u8]) -> TxResult<()> {
    if hosts.get(h.name.as_bytes())?.is_some() {
        return abort(Conflict::Exists);
    }
    if let Some(sup) = &h.superordinate {
        let mut domain = superordinate(domains, sup, &h.sponsor)?;
        domain.subordinate_hosts.push(h.name.clone());
        domains.insert(sup.as_bytes(), encode_in_tx(&domain)?)?;
    }
    hosts.insert(h.name.as_bytes(), value)?;
    Ok(())
}

/// Inserts a domain whose name must be free, with its contact, host and
/// sponsor indexes; every contact and host it names must exist.
fn insert_new_domain(
    domains: &Tx,
    contacts: &Tx,
    hosts: &Tx,
    refs: &Tx,
    d: &Domain,
    value: &[u8],
) -> TxResult<()> {
    if domains.get(d.name.as_bytes())?.is_some() {
        return abort(Conflict::Exists);
    }
    for id in contact_ids(d) {
        if contacts.get(id.as_bytes())?.is_none() {
            return abort(Conflict::MissingContact(id.to_owned()));
        }
        link(refs, b'C', b'c', id, &d.name)?;
    }
    for ns in &d.nameservers {
        if hosts.get(ns.as_bytes())?.is_none() {
            return abort(Conflict::MissingHost(ns.clone()));
        }
        link(refs, b'H', b'h', ns, &d.name)?;
    }
    refs.insert(key2(b'R', &d.sponsor, &d.name), [])?;
    sync_index(refs, &[], &domain_waiting(d))?;
    add_to_counter(refs, &creates_key(&d.created_by, d.created), 1)?;
    domains.insert(d.name.as_bytes(), value)?;
    Ok(())
}

/// A refusal inside a batch, with the index of the object it concerns.
fn at_index(n: usize, e: TxError) -> TxError {
    match e {
        TxError::Abort(c) => TxError::AbortAt(n, c),
        other => other,
    }
}

fn prefix1_bytes(registrar: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(registrar.len() + 1);
    k.extend_from_slice(registrar.as_bytes());
    k.push(0);
    k
}

fn poll_key(registrar: &str, id: u64) -> Vec<u8> {
    let mut k = prefix1_bytes(registrar);
    k.extend_from_slice(&id.to_be_bytes());
    k
}

fn poll_count_key(registrar: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(registrar.len() + 1);
    k.push(b'#');
    k.extend_from_slice(registrar.as_bytes());
    k
}

fn read_u64(v: Option<&[u8]>) -> u64 {
    v.and_then(|v| <[u8; 8]>::try_from(v).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

/// Appends a message to its registrar's queue and counts it.
fn queue(poll: &Tx, key: &[u8], value: &[u8]) -> TxResult<()> {
    poll.insert(key, value)?;
    let registrar_len = key.len() - 9;
    let registrar = String::from_utf8_lossy(&key[..registrar_len]);
    let count_key = poll_count_key(&registrar);
    let n = read_u64(poll.get(&count_key)?.as_deref()) + 1;
    poll.insert(count_key, n.to_be_bytes())?;
    Ok(())
}

/// An object as JSON, for its history.
fn json_snapshot<T: serde::Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// A domain as its history keeps it: without its authInfo hash.
fn domain_snapshot(d: &Domain) -> Option<String> {
    let mut copy = d.clone();
    copy.auth = None;
    json_snapshot(&copy)
}

/// A contact as its history keeps it: without its authInfo hash.
fn contact_snapshot(c: &Contact) -> Option<String> {
    let mut copy = c.clone();
    copy.auth = None;
    json_snapshot(&copy)
}

type Tx<'a> = kv::TxTree<'a>;

fn abort<T>(conflict: Conflict) -> TxResult<T> {
    Err(TxError::Abort(conflict))
}

fn corrupt_in_tx(e: StoreError) -> TxError {
    TxError::Record(e)
}

fn decode_in_tx<T: Record>(raw: &[u8]) -> TxResult<T> {
    codec::decode("domains", raw).map_err(corrupt_in_tx)
}

fn encode_in_tx<T: Record>(value: &T) -> TxResult<Vec<u8>> {
    codec::encode(value).map_err(corrupt_in_tx)
}

/// The superordinate domain of a new host name, checked for its sponsor.
fn superordinate(domains: &Tx, name: &str, sponsor: &str) -> TxResult<Domain> {
    let Some(raw) = domains.get(name.as_bytes())? else {
        return abort(Conflict::MissingSuperordinate(name.to_owned()));
    };
    let domain: Domain = decode_in_tx(&raw)?;
    if domain.sponsor != sponsor {
        return abort(Conflict::ForeignSuperordinate(name.to_owned()));
    }
    Ok(domain)
}

/// The distinct contact ids a domain uses (registrant, contacts, and the
/// registrant a pending ownership change names).
fn contact_ids(d: &Domain) -> Vec<&str> {
    let mut ids: Vec<&str> = std::iter::once(d.registrant.as_str())
        .chain(d.contacts.iter().map(|c| c.id.as_str()))
        .chain(d.pending_owner.iter().map(|p| p.registrant.as_str()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn counter_key(tag: u8, id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + id.len());
    k.push(b'#');
    k.push(tag);
    k.extend_from_slice(id.as_bytes());
    k
}

fn count(refs: &Tx, tag: u8, id: &str) -> TxResult<u32> {
    Ok(refs
        .get(counter_key(tag, id))?
        .and_then(|v| <[u8; 4]>::try_from(v.as_ref()).ok())
        .map(u32::from_be_bytes)
        .unwrap_or(0))
}

fn set_count(refs: &Tx, tag: u8, id: &str, n: u32) -> TxResult<()> {
    if n == 0 {
        refs.remove(counter_key(tag, id))?;
    } else {
        refs.insert(counter_key(tag, id), n.to_be_bytes())?;
    }
    Ok(())
}

/// Records that `domain` uses object `id`: the listing key and the use count.
fn link(refs: &Tx, list_tag: u8, count_tag: u8, id: &str, domain: &str) -> TxResult<()> {
    refs.insert(key2(list_tag, id, domain), [])?;
    let n = count(refs, count_tag, id)?;
    set_count(refs, count_tag, id, n + 1)
}

/// Records that `domain` no longer uses object `id`.
fn unlink(refs: &Tx, list_tag: u8, count_tag: u8, id: &str, domain: &str) -> TxResult<()> {
    refs.remove(key2(list_tag, id, domain))?;
    let n = count(refs, count_tag, id)?;
    set_count(refs, count_tag, id, n.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_file_that_cannot_be_opened_is_named_with_the_reason() {
        assert_eq!(
            os_reason(&std::io::Error::from_raw_os_error(libc::EACCES)),
            "permission denied"
        );
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("db")).unwrap();
        let Err(err) = Store::open(&data, 1 << 20) else {
            panic!("a store whose db is a directory was opened");
        };
        assert_eq!(
            err.to_string(),
            format!("is a directory: {}", data.join("db").display())
        );
    }

    #[test]
    fn a_new_store_is_private_and_an_open_one_is_reported_not_changed() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        drop(Store::open(&data, 1 << 20).unwrap());
        assert_eq!(readable_by_others(&data), vec![]);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("db")), 0o600);
        assert_eq!(mode(&data.join("conf")), 0o600);
        // An operator's looser modes are reported, and left as they are.
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(data.join("db"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let found = readable_by_others(&data);
        assert_eq!(found, vec![(data.clone(), 0o755), (data.join("db"), 0o644)]);
        let reopened = (0..50)
            .find_map(|_| {
                Store::open(&data, 1 << 20)
                    .inspect_err(|_| std::thread::sleep(std::time::Duration::from_millis(50)))
                    .ok()
            })
            .unwrap();
        drop(reopened);
        assert_eq!((mode(&data), mode(&data.join("db"))), (0o755, 0o644));
    }

    #[test]
    fn format_version_is_recorded_and_another_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            assert_eq!(store.next_sv_trid(), "MA-1-1");
            store
                .engine()
                .unwrap()
                .meta
                .insert("format_version", 99u32.to_be_bytes())
                .unwrap();
            store.flush_now().unwrap();
        }
        match Store::open(dir.path(), 1 << 20) {
            Err(StoreError::Version { found: 99, .. }) => {}
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("a store of another version was opened"),
        }
    }

    #[test]
    fn a_store_whose_history_stops_short_of_its_durable_mark_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let head = {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            store
                .create_contact(&contact("c1"), &audit())
                .unwrap()
                .unwrap();
            store
                .create_contact(&contact("c2"), &audit())
                .unwrap()
                .unwrap();
            store.flush_now().unwrap();
            store
                .engine()
                .unwrap()
                .history
                .get(CHAIN_HEAD)
                .unwrap()
                .unwrap()
        };
        let mark = dir.path().join(commit::MARK_FILE);
        assert_eq!(
            commit::read_mark(dir.path()).map(|(place, _)| place),
            Some(2)
        );
        // The mark as the last flush left it: the store opens.
        drop(Store::open(dir.path(), 1 << 20).unwrap());
        let claim = |place: u64, hash: &[u8]| {
            let mut head = place.to_be_bytes().to_vec();
            head.extend_from_slice(hash);
            std::fs::write(&mark, commit::encode_mark(&head).unwrap()).unwrap();
        };
        // A mark one record ahead of the history: records the disk had
        // are gone.
        claim(3, &head[8..]);
        match Store::open(dir.path(), 1 << 20) {
            Err(StoreError::Damaged { detail, file, .. }) => {
                assert!(detail.contains("ends at record 2"), "{detail}");
                assert!(file.ends_with("db"), "{file}");
            }
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("a store short of its mark was opened"),
        }
        // A mark at an earlier record whose hash the chain does not hold.
        claim(1, &[7u8; 32]);
        assert!(matches!(
            Store::open(dir.path(), 1 << 20),
            Err(StoreError::Damaged { .. })
        ));
        // An unreadable mark says nothing: the store opens.
        std::fs::write(&mark, b"garbage").unwrap();
        drop(Store::open(dir.path(), 1 << 20).unwrap());
    }

    fn audit() -> Audit {
        Audit {
            at: chrono::Utc::now(),
            who: "operator:test".into(),
            command: "admin:import".into(),
            cl_trid: None,
            sv_trid: "MA-1-1".into(),
            request: None,
        }
    }

    fn contact(id: &str) -> Contact {
        Contact {
            id: id.into(),
            roid: format!("C{id}-MA"),
            postal: Vec::new(),
            voice: None,
            fax: None,
            email: "x@example.ma".into(),
            statuses: Vec::new(),
            sponsor: "reg1".into(),
            created_by: "reg1".into(),
            created: chrono::Utc::now(),
            updated_by: None,
            updated: None,
            transferred: None,
            auth: None,
            disclose: None,
            identity: None,
            transfer: None,
        }
    }

    fn host(name: &str, superordinate: Option<&str>) -> Host {
        Host {
            name: name.into(),
            roid: "H1-MA".into(),
            addrs: Vec::new(),
            statuses: Vec::new(),
            superordinate: superordinate.map(str::to_owned),
            sponsor: "reg1".into(),
            created_by: "reg1".into(),
            created: chrono::Utc::now(),
            updated_by: None,
            updated: None,
            transferred: None,
        }
    }

    fn domain(name: &str, registrant: &str, ns: &[&str]) -> Domain {
        Domain {
            name: name.into(),
            roid: "D1-MA".into(),
            registrant: registrant.into(),
            contacts: Vec::new(),
            nameservers: ns.iter().map(|n| (*n).to_owned()).collect(),
            statuses: Vec::new(),
            sponsor: "reg1".into(),
            created_by: "reg1".into(),
            created: chrono::Utc::now(),
            updated_by: None,
            updated: None,
            expires: chrono::Utc::now(),
            transferred: None,
            auth: None,
            subordinate_hosts: Vec::new(),
            ds_data: Vec::new(),
            proof_ref: None,
            transfer: None,
            pending_owner: None,
            deleted: None,
            identity_hold: false,
            dispute: None,
            incomplete: None,
        }
    }

    fn new(object: Created) -> NewObject {
        NewObject {
            object,
            effects: Effects::audit(audit()),
        }
    }

    #[test]
    fn a_batch_keeps_the_indexes_of_single_creates_and_is_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let batch = store
            .prepare_many(vec![
                new(Created::Contact(contact("c-1"))),
                new(Created::Host(host("ns.example.net", None))),
                new(Created::Domain(domain("a.ma", "c-1", &["ns.example.net"]))),
                new(Created::Host(host("ns1.a.ma", Some("a.ma")))),
            ])
            .unwrap();
        assert_eq!(store.commit_many(&batch, 0..4).unwrap(), Ok(()));
        assert!(store.contact_linked("c-1").unwrap());
        assert_eq!(store.host_use_count("ns.example.net").unwrap(), 1);
        assert_eq!(store.domains_of("reg1").unwrap(), vec!["a.ma".to_owned()]);
        let a = store.domain("a.ma").unwrap().unwrap();
        assert_eq!(a.subordinate_hosts, vec!["ns1.a.ma".to_owned()]);
        assert_eq!(store.history("domain", "a.ma").unwrap().len(), 1);
        let again = store
            .prepare_many(vec![
                new(Created::Contact(contact("c-2"))),
                new(Created::Domain(domain("a.ma", "c-2", &[]))),
            ])
            .unwrap();
        assert_eq!(
            store.commit_many(&again, 0..2).unwrap(),
            Err((1, Conflict::Exists))
        );
        assert!(!store.contact_exists("c-2").unwrap(), "nothing was written");
        assert_eq!(store.commit_many(&again, 0..1).unwrap(), Ok(()));
        assert_eq!(store.all_domains().count(), 1);
        assert_eq!(store.all_contacts().count(), 2);
        assert_eq!(store.all_hosts().count(), 2);
    }

    #[test]
    fn new_roids_stay_above_reserved_ones_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            store.reserve_roids_up_to(5000).unwrap();
            store.reserve_roids_up_to(10).unwrap();
            store.flush_now().unwrap();
        }
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let roid = store.next_roid('D').unwrap();
        let n: u64 = roid
            .trim_start_matches('D')
            .trim_end_matches("-MA")
            .parse()
            .unwrap();
        assert!(n > 5000, "{roid}");
    }

    #[test]
    fn sv_trids_are_never_reused_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = Store::open(dir.path(), 1 << 20).unwrap().next_sv_trid();
        let second = Store::open(dir.path(), 1 << 20).unwrap().next_sv_trid();
        assert_ne!(first, second);
    }
}
