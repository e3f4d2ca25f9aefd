//! The PostgreSQL engine of the storage interface (`kv.rs`), for operators
//! who run a primary and a streaming standby. Every tree is a range of the
//! one `records` table (`tree`, `key`, `value`, ordered by key as bytes);
//! the schema is created and upgraded by the versioned migrations in
//! `migrations/postgres/`.
//!
//! Transactions are carefully locked rather than optimistic: each takes
//! the registry's one transaction-level advisory lock right after `BEGIN`,
//! so writers run one after another (they would anyway: every audited
//! change appends to the one history chain), no two can both create a
//! name, and no deadlock can arise. Reads outside a transaction take no
//! lock. The closure's writes are kept in memory (it reads its own writes)
//! and sent with `COMMIT` in one pipelined round trip, in key order.
//!
//! What a failure means for a change:
//! - before `COMMIT` is sent (no connection, a lost connection, an error
//!   from the server): nothing was written; the transaction runs again on
//!   a new connection, up to three times, and then fails as
//!   [`StoreError::Unavailable`] ("nothing was changed");
//! - a refusal of the `COMMIT` itself by the server: nothing was written;
//! - the connection lost while `COMMIT` was on its way: the outcome is
//!   unknown, [`StoreError::NotDurable`], and the session closes without an
//!   answer (RFC 5730 §2.1: the client queries).
//!
//! Durability is PostgreSQL's: a commit returns once its WAL is flushed
//! (`synchronous_commit = on`), and, with `synchronous_standby_names`,
//! once the standby has it too.
//!
//! The store's calls are synchronous (as sled's are): each waits for its
//! answer on the calling thread, while the connections themselves are
//! driven by a runtime on a thread of their own.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::StoreError;

mod pool;
mod tree;

use pool::{Conn, driver_thread, tls_connector, wait};
pub(crate) use tree::{Iter, Tree, TxTree};
use tree::{Record, TxState};

use super::kv::{TxError, TxFailure, TxResult};

/// The schema migrations, in order: version, name, SQL.
const MIGRATIONS: [(i32, &str, &str); 1] = [(
    1,
    "records",
    include_str!("../../../migrations/postgres/0001_records.sql"),
)];

/// The advisory lock every write transaction takes (any fixed number;
/// this one spells "ma-reg").
const WRITE_LOCK: i64 = 0x6d61_2d72_6567;
/// The advisory lock that lets one process at a time migrate the schema.
const MIGRATION_LOCK: i64 = 0x6d61_2d6d_6967;

/// How many records a scan reads per round trip.
const PAGE: i64 = 512;

/// How many times a transaction that failed before its commit is run again.
const ATTEMPTS: u32 = 3;

/// How the store reaches PostgreSQL (its `Debug` never shows the URL,
/// which may hold a password).
#[derive(Clone)]
pub struct Connection {
    /// A libpq-style URL or key=value string.
    pub url: String,
    /// Most connections the server opens.
    pub pool_size: usize,
    /// PEM file of the CA(s) that sign the server's certificate: TLS is
    /// used when set.
    pub ca_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("url", &"(hidden)")
            .field("pool_size", &self.pool_size)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// A PostgreSQL database holding a registry store.
pub(crate) struct Database {
    handle: tokio::runtime::Handle,
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    config: tokio_postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    idle: Mutex<Vec<Conn>>,
    freed: Condvar,
    open: Mutex<usize>,
    pool_size: usize,
    commits: AtomicU64,
    commit_nanos: AtomicU64,
}
impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").finish_non_exhaustive()
    }
}

/// A failure to reach or use the database, as a store error: the
/// database out of reach (no connection, a connection lost, a server
/// shutting down or out of resources) is [`StoreError::Unavailable`];
/// any other refusal names PostgreSQL's reason and SQLSTATE.
fn backend(context: &str, e: &tokio_postgres::Error) -> StoreError {
    let text = describe(context, e);
    match e.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            // 08: connection exception; 53: insufficient resources (disk
            // full, out of memory, too many connections); 57P: operator
            // intervention (shutdown, cannot connect now).
            if code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") {
                StoreError::Unavailable(text)
            } else {
                StoreError::Backend(text)
            }
        }
        // No answer from the server: a connection refused, lost or timed
        // out is the database out of reach; anything else (a value that
        // does not convert, an unexpected message) is a failure.
        None if e.is_closed()
            || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
            || e.to_string().contains("timeout") =>
        {
            StoreError::Unavailable(text)
        }
        None => StoreError::Backend(text),
    }
}

/// Whether a failed `COMMIT` certainly rolled back: the server answered it
/// with an ordinary error on a connection still open (not FATAL or PANIC,
/// not a connection failure, a shutdown or an internal error).
fn commit_refused(e: &tokio_postgres::Error) -> bool {
    match e.as_db_error() {
        Some(db) if !e.is_closed() => {
            let code = db.code().code();
            db.severity() == "ERROR"
                && !code.starts_with("08")
                && !code.starts_with("57P")
                && !code.starts_with("XX")
        }
        _ => false,
    }
}

/// What went wrong, with PostgreSQL's reason and SQLSTATE when it gave one.
fn describe(context: &str, e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "PostgreSQL {context}: {} ({})",
            db.message(),
            db.code().code()
        ),
        None => format!("PostgreSQL {context}: {e}"),
    }
}

impl Database {
    /// Connects to the database, creates or upgrades its schema, and
    /// checks that one connection works.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with PostgreSQL's reason.
    pub(crate) fn open(connection: &Connection) -> Result<Arc<Self>, StoreError> {
        if connection.url.is_empty() {
            return Err(StoreError::Backend(
                "no PostgreSQL URL: set store.url or MA_REGISTRY_STORE_URL".to_owned(),
            ));
        }
        let mut config: tokio_postgres::Config = connection
            .url
            .parse()
            .map_err(|e| StoreError::Backend(format!("the PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(10));
        config.tcp_user_timeout(Duration::from_secs(15));
        config.application_name("ma-registry");
        // With several hosts in the URL, only the one that takes writes.
        if config.get_target_session_attrs() == tokio_postgres::config::TargetSessionAttrs::Any {
            config.target_session_attrs(tokio_postgres::config::TargetSessionAttrs::ReadWrite);
        }
        let tls = match &connection.ca_file {
            Some(path) => Some(tls_connector(path)?),
            None => None,
        };
        let (handle, stop) = driver_thread()?;
        let database = Arc::new(Self {
            handle,
            stop: Mutex::new(Some(stop)),
            config,
            tls,
            idle: Mutex::new(Vec::new()),
            freed: Condvar::new(),
            open: Mutex::new(0),
            pool_size: connection.pool_size.max(1),
            commits: AtomicU64::new(0),
            commit_nanos: AtomicU64::new(0),
        });
        database.migrate()?;
        Ok(database)
    }

    /// Applies the migrations the database lacks, under a lock.
    fn migrate(&self) -> Result<(), StoreError> {
        let client = &self.connect_raw()?;
        let run = |sql: &str| wait(client.batch_execute(sql)).map_err(|e| backend("migration", &e));
        run(&format!(
            "SET client_min_messages = warning;
             SELECT pg_advisory_lock({MIGRATION_LOCK});
             CREATE TABLE IF NOT EXISTS schema_migrations (
                 version integer PRIMARY KEY,
                 name text NOT NULL,
                 applied timestamptz NOT NULL DEFAULT now())"
        ))?;
        let applied = wait(client.query("SELECT version FROM schema_migrations", &[]))
            .map_err(|e| backend("migration", &e))?
            .iter()
            .map(|row| row.get::<_, i32>(0))
            .collect::<Vec<_>>();
        for (version, name, sql) in MIGRATIONS {
            if applied.contains(&version) {
                continue;
            }
            run(&format!(
                "BEGIN; {sql}; INSERT INTO schema_migrations (version, name) VALUES ({version}, '{name}'); COMMIT"
            ))?;
            tracing::info!(version, name, "PostgreSQL schema migrated");
        }
        run(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
        // An acknowledged change must be on disk when COMMIT returns.
        let synchronous = wait(client.query_one("SHOW synchronous_commit", &[]))
            .map_err(|e| backend("SHOW synchronous_commit", &e))?;
        if synchronous.get::<_, String>(0) == "off" {
            return Err(StoreError::Backend(
                "the database runs with synchronous_commit = off: a change would be acknowledged before it is on disk; set it to on (or remote_apply) for the registry's role or database".to_owned(),
            ));
        }
        Ok(())
    }

    /// A new number, never given before (the sequence `record_ids`).
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub(crate) fn generate_id(&self) -> Result<u64, StoreError> {
        let conn = self.checkout()?;
        let c = conn.conn();
        let row = wait(c.client.query_one(&c.next_id, &[])).map_err(|e| backend("nextval", &e))?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    /// Makes [`Self::generate_id`] give numbers above `mark` from now on.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub(crate) fn reserve_ids(&self, mark: u64) -> Result<(), StoreError> {
        let mark = i64::try_from(mark).unwrap_or(i64::MAX);
        let conn = self.checkout()?;
        wait(conn.conn().client.execute(
            "SELECT setval('record_ids', GREATEST($1, (SELECT last_value FROM record_ids)))",
            &[&mark],
        ))
        .map_err(|e| backend("setval", &e))?;
        Ok(())
    }

    /// Commits made, and the seconds they took.
    pub(crate) fn commit_stats(&self) -> (u64, f64) {
        (
            self.commits.load(Ordering::Relaxed),
            self.commit_nanos.load(Ordering::Relaxed) as f64 / 1e9,
        )
    }

    /// Runs `f` as one transaction over the trees `names`.
    pub(crate) fn transaction<const N: usize, R>(
        self: &Arc<Self>,
        names: [&'static str; N],
        f: impl Fn(&[super::kv::TxTree<'_>; N]) -> TxResult<R>,
    ) -> Result<R, TxFailure> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_transaction(names, &f) {
                Err(Attempt::Retry(e)) if attempt < ATTEMPTS => {
                    tracing::warn!(error = %e, attempt, "PostgreSQL transaction failed before its commit; running it again");
                    // A moment for a restarting server or a new connection.
                    std::thread::sleep(Duration::from_millis(50 * u64::from(attempt)));
                }
                Err(Attempt::Retry(e)) => {
                    return Err(TxFailure::Store(match e {
                        StoreError::Unavailable(reason) => StoreError::Unavailable(reason),
                        other => StoreError::Unavailable(other.to_string()),
                    }));
                }
                Err(Attempt::Failed(e)) => return Err(e),
                Ok(r) => return Ok(r),
            }
        }
    }

    fn try_transaction<const N: usize, R>(
        self: &Arc<Self>,
        names: [&'static str; N],
        f: &impl Fn(&[super::kv::TxTree<'_>; N]) -> TxResult<R>,
    ) -> Result<R, Attempt> {
        let pooled = self.checkout().map_err(Attempt::retry_if_unavailable)?;
        let conn = pooled.conn();
        pooled.in_transaction.set(true);
        wait(conn.client.batch_execute(&format!(
            "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
        )))
        .map_err(|e| Attempt::retry_if_unavailable(backend("begin", &e)))?;
        let state = TxState {
            conn,
            writes: RefCell::new(BTreeMap::new()),
        };
        let trees: [super::kv::TxTree<'_>; N] = std::array::from_fn(|i| {
            super::kv::TxTree::Postgres(TxTree {
                state: &state,
                tree: names[i],
            })
        });
        let result = f(&trees);
        let value = match result {
            Ok(value) => value,
            Err(e) => {
                // A rollback that fails leaves a connection in an unknown
                // state: it is closed rather than given back.
                if wait(conn.client.batch_execute("ROLLBACK")).is_ok() {
                    pooled.in_transaction.set(false);
                }
                return Err(match e {
                    TxError::Abort(c) => Attempt::Failed(TxFailure::Abort(c)),
                    TxError::AbortAt(n, c) => Attempt::Failed(TxFailure::AbortAt(n, c)),
                    TxError::Record(e) => Attempt::Failed(TxFailure::Store(e)),
                    TxError::Postgres(e) => Attempt::retry_if_unavailable(e),
                    TxError::Sled(e) => Attempt::Failed(TxFailure::Store(StoreError::Backend(
                        format!("a sled error in a PostgreSQL transaction: {e}"),
                    ))),
                });
            }
        };
        let started = std::time::Instant::now();
        let writes = state.writes.into_inner();
        let (mut put_trees, mut put_keys, mut put_values) = (Vec::new(), Vec::new(), Vec::new());
        let (mut delete_trees, mut delete_keys) = (Vec::new(), Vec::new());
        for (tree, key, value) in writes
            .iter()
            .flat_map(|(tree, keys)| keys.iter().map(move |(k, v)| (tree, k, v)))
        {
            match value {
                Some(value) => {
                    put_trees.push(*tree);
                    put_keys.push(key.as_slice());
                    put_values.push(value.as_slice());
                }
                None => {
                    delete_trees.push(*tree);
                    delete_keys.push(key.as_slice());
                }
            }
        }
        // The three go out together, in this order, on the one connection.
        let upsert = async {
            if put_keys.is_empty() {
                return Ok(0);
            }
            conn.client
                .execute(&conn.put_many, &[&put_trees, &put_keys, &put_values])
                .await
        };
        let delete = async {
            if delete_keys.is_empty() {
                return Ok(0);
            }
            conn.client
                .execute(&conn.delete_many, &[&delete_trees, &delete_keys])
                .await
        };
        let commit = conn.client.batch_execute("COMMIT");
        let (upserted, deleted, committed) =
            wait(futures_util::future::join3(upsert, delete, commit));
        let failed_write = upserted.err().or(deleted.err());
        match (failed_write, committed) {
            (None, Ok(())) => {
                pooled.in_transaction.set(false);
                self.commits.fetch_add(1, Ordering::Relaxed);
                self.commit_nanos.fetch_add(
                    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX),
                    Ordering::Relaxed,
                );
                Ok(value)
            }
            // A write the server refused aborts the transaction, and its
            // COMMIT then rolls back: nothing was written.
            (Some(e), Ok(())) if !e.is_closed() && e.as_db_error().is_some() => {
                pooled.in_transaction.set(false);
                Err(Attempt::Failed(TxFailure::Store(backend("write", &e))))
            }
            // The server refused the COMMIT itself with an ERROR, on a
            // connection still open: the transaction rolled back.
            (_, Err(e)) if commit_refused(&e) => {
                pooled.discard();
                Err(Attempt::Failed(TxFailure::Store(backend("commit", &e))))
            }
            // The connection, or the server, went away while the COMMIT was
            // on its way: it may or may not have happened.
            (Some(e), _) | (None, Err(e)) => {
                pooled.discard();
                Err(Attempt::Failed(TxFailure::Store(StoreError::NotDurable(
                    describe("commit", &e),
                ))))
            }
        }
    }

    /// Reads up to [`PAGE`] records of `tree` from `start` (included) to
    /// `end` (excluded).
    fn page(
        &self,
        tree: &str,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
    ) -> Result<Vec<Record>, StoreError> {
        let pooled = self.checkout()?;
        let c = pooled.conn();
        let statement = if reverse { &c.scan_rev } else { &c.scan };
        let rows = wait(c.client.query(statement, &[&tree, &start, &end, &PAGE]))
            .map_err(|e| backend("scan", &e))?;
        Ok(rows
            .into_iter()
            .map(|row| (row.get::<_, Vec<u8>>(0), row.get::<_, Vec<u8>>(1)))
            .collect())
    }

    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let pooled = self.checkout()?;
        let c = pooled.conn();
        let row =
            wait(c.client.query_opt(&c.get, &[&tree, &key])).map_err(|e| backend("read", &e))?;
        Ok(row.map(|row| row.get::<_, Vec<u8>>(0)))
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(stop) = self
            .stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            let _ = stop.send(());
        }
    }
}

/// Why one run of a transaction did not commit.
enum Attempt {
    /// Nothing was written, and running it again may work.
    Retry(StoreError),
    /// The outcome to report.
    Failed(TxFailure),
}

impl Attempt {
    /// Nothing was written: run again when the database was out of reach,
    /// else report the failure as it is.
    fn retry_if_unavailable(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Self::Retry(e),
            other => Self::Failed(TxFailure::Store(other)),
        }
    }
}
