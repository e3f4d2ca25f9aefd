//! Opening a store: sled in a data directory (its files' modes, a damaged
//! or inaccessible file named, the format version checked or upgraded, the
//! durable mark checked) or a PostgreSQL database, and the checkpoint of a
//! closed sled store.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use super::engine::{Engine, Inner};
use super::poll::read_u64;
use super::{FORMAT_VERSION, Store, StoreError, commit, keys, migrate, postgres, sled_group};

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

/// Opens the sled database in `path`. Sled (0.34) panics on some damaged
/// files (a log cut short): the panic is caught, kept off stderr, and
/// becomes [`StoreError::Damaged`] naming the file.
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
        sled_group::recover(&db, path)?;
        if let Some(mark) = commit::read_mark(path) {
            Engine::check_durable_mark(&db.open_tree("history")?, path, mark)?;
        }
        let meta = db.open_tree("meta")?;
        match meta.get(keys::META_FORMAT_VERSION)? {
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
                    meta.insert(keys::META_FORMAT_VERSION, &FORMAT_VERSION.to_be_bytes())?;
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
                meta.insert(keys::META_FORMAT_VERSION, &FORMAT_VERSION.to_be_bytes())?;
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
        match engine.meta.get(keys::META_FORMAT_VERSION)? {
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
                    .insert(keys::META_FORMAT_VERSION, FORMAT_VERSION.to_be_bytes())?;
            }
        }
        Self::with_engine(engine, dir, 0)
    }

    /// The store over an opened engine: counts this start (`boot`, the
    /// first part of every svTRID) and reads the roid base.
    fn with_engine(engine: Engine, path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let boot = engine
            .meta
            .update_and_fetch(keys::META_BOOT, |old| {
                let n = old
                    .and_then(|o| <[u8; 8]>::try_from(o).ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0);
                Some((n + 1).to_be_bytes().to_vec())
            })?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(1);
        let roid_base = read_u64(engine.meta.get(keys::META_ROID_BASE)?.as_deref());
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::{audit, contact};

    #[test]
    fn a_store_file_that_cannot_be_opened_is_named_with_the_reason() {
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
    fn a_change_nobody_waits_for_reaches_sled_within_moments() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let engine = store.engine().unwrap();
        super::super::kv::transaction([&engine.meta], |[meta]| meta.insert(b"unwaited", b"v"))
            .unwrap();
        let super::super::kv::Tree::Sled(meta) = &engine.meta else {
            panic!("a sled store");
        };
        // Read through at once, in sled's tree within the flusher's period.
        assert!(engine.meta.get(b"unwaited").unwrap().is_some());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while meta.tree.get(b"unwaited").unwrap().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "still pending after 5 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
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
                .insert(keys::META_FORMAT_VERSION, 99u32.to_be_bytes())
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
                .get(keys::CHAIN_HEAD)
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
}
