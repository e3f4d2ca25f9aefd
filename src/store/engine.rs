//! The handle and what is below it: `Store` and its `Inner` state, the
//! `Engine` (one opening of sled or PostgreSQL, with its trees) and the
//! `Backend` that makes a change durable; reads over a whole tree.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::commit::{self, GroupCommit};
use super::kv::Tree;
use super::sled_group::{GroupWriter, SledTree};
use super::{Record, StoreError, codec, keys, postgres};
use crate::model::HistoryRecord;

/// The registry's store: a cheap-to-clone handle.
#[derive(Clone)]
pub struct Store {
    pub(super) inner: Arc<Inner>,
}

/// What outlives a reopening of the engine: the process's counters, the
/// write gate and the store's health.
pub(super) struct Inner {
    /// The open engine; `None` only while a sled store is being reopened.
    pub(super) engine: std::sync::RwLock<Option<Arc<Engine>>>,
    pub(super) path: std::path::PathBuf,
    pub(super) cache_bytes: u64,
    pub(super) boot: u64,
    pub(super) sv_seq: AtomicU64,
    /// Counts the registrar writes since the store opened, so sessions
    /// notice a change of standing without reading the record each command.
    pub(super) registrars_epoch: AtomicU64,
    /// Shared by every write, taken alone by a backup or a reopening: a
    /// backup sees no half of a change.
    pub(super) gate: std::sync::RwLock<()>,
    pub(super) roid_base: AtomicU64,
    /// Why writes are suspended (a write or a flush failed), if they are.
    pub(super) suspended: std::sync::Mutex<Option<String>>,
    /// Whether `suspended` is set, read without the lock on every write.
    pub(super) suspended_flag: std::sync::atomic::AtomicBool,
    /// How many times the engine was reopened after a failure.
    pub(super) reopened: AtomicU64,
    /// Whether a reopening is under way (reads wait for it).
    pub(super) reopening: std::sync::atomic::AtomicBool,
}

/// One opening of the engine below the store: its trees, and how a change
/// is made durable.
pub(super) struct Engine {
    pub(super) backend: Backend,
    pub(super) registrars: Tree,
    pub(super) domains: Tree,
    pub(super) contacts: Tree,
    pub(super) hosts: Tree,
    pub(super) refs: Tree,
    pub(super) poll: Tree,
    pub(super) due: Tree,
    pub(super) names: Tree,
    pub(super) history: Tree,
    pub(super) ledger: Tree,
    pub(super) meta: Tree,
}

/// The engine itself.
pub(super) enum Backend {
    /// An embedded sled database and its group commit (fsync per group).
    Sled { db: sled::Db, commit: GroupCommit },
    /// A PostgreSQL database: a commit is durable when it returns.
    Postgres(Arc<postgres::Database>),
}

impl Engine {
    /// Opens the trees of an opened sled database, all written through one
    /// group writer (`sled_group.rs`).
    pub(super) fn new(db: sled::Db, path: &Path) -> Result<Self, StoreError> {
        const NAMES: [&str; 11] = [
            "registrars",
            "domains",
            "contacts",
            "hosts",
            "refs",
            "poll",
            "due",
            "names",
            "history",
            "ledger",
            "meta",
        ];
        let mut opened = Vec::with_capacity(NAMES.len());
        for name in NAMES {
            opened.push(db.open_tree(name)?);
        }
        let files = Arc::new(commit::LogFiles::open(path)?);
        let writer = GroupWriter::new(
            NAMES.into_iter().zip(opened.iter().cloned()).collect(),
            Some(Arc::clone(&files)),
        );
        let index = |name: &str| NAMES.iter().position(|n| *n == name).unwrap_or(0);
        let tree = |name: &str| {
            let index = index(name);
            Tree::Sled(SledTree {
                tree: opened[index].clone(),
                index,
                writer: Arc::clone(&writer),
            })
        };
        Ok(Self {
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
            backend: Backend::Sled {
                commit: GroupCommit::new(
                    db.clone(),
                    commit::DiskSync::open(path, files, opened[index("history")].clone(), writer)?,
                )?,
                db,
            },
        })
    }

    /// The trees of a PostgreSQL database.
    pub(super) fn postgres(database: Arc<postgres::Database>) -> Self {
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
    pub(super) fn trees(&self) -> [(&'static str, &Tree); 11] {
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
    pub(super) fn generate_id(&self) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sled { db, .. } => Ok(db.generate_id()?),
            Backend::Postgres(database) => database.generate_id(),
        }
    }

    /// Puts every committed change on stable storage now.
    pub(super) fn flush_now(&self) -> Result<(), StoreError> {
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
    pub(super) fn check_durable_mark(
        history: &sled::Tree,
        dir: &Path,
        (place, hash): (u64, [u8; 32]),
    ) -> Result<(), StoreError> {
        let damaged = |detail: String| StoreError::Damaged {
            dir: dir.display().to_string(),
            file: dir.join("db").display().to_string(),
            detail,
        };
        let head = history.get(keys::CHAIN_HEAD)?;
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
            match history.get(keys::chain_index(place + 1))? {
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

impl Store {
    /// The open database. While it is being reopened (a few milliseconds
    /// after a disk failure), waits for it, up to 5 s.
    pub(super) fn engine(&self) -> Result<Arc<Engine>, StoreError> {
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

    /// Whether the store holds any domain, contact or host.
    ///
    /// # Errors
    /// Storage errors.
    pub fn holds_objects(&self) -> Result<bool, StoreError> {
        let i = self.engine()?;
        Ok(!(i.domains.is_empty()? && i.contacts.is_empty()? && i.hosts.is_empty()?))
    }

    /// Every record of one tree, in key order, decoded as the iteration
    /// reaches it (nothing is held in memory but the current record); a
    /// store being reopened gives one error.
    pub(super) fn records<T: Record>(
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
}
