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
use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio_postgres::Statement;

use super::StoreError;
use super::kv::{TxError, TxFailure, TxResult};

/// The schema migrations, in order: version, name, SQL.
const MIGRATIONS: [(i32, &str, &str); 1] = [(
    1,
    "records",
    include_str!("../../migrations/postgres/0001_records.sql"),
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

/// How the store reaches PostgreSQL.
#[derive(Debug, Clone)]
pub struct Connection {
    /// A libpq-style URL or key=value string.
    pub url: String,
    /// Most connections the server opens.
    pub pool_size: usize,
    /// PEM file of the CA(s) that sign the server's certificate: TLS is
    /// used when set.
    pub ca_file: Option<std::path::PathBuf>,
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
    /// Set when the database was reached at least once: from then on,
    /// failures are logged as a loss of the connection.
    reached: AtomicBool,
    commits: AtomicU64,
    commit_nanos: AtomicU64,
}

/// One connection and its prepared statements.
struct Conn {
    client: tokio_postgres::Client,
    get: Statement,
    put_many: Statement,
    delete_many: Statement,
    scan: Statement,
    scan_rev: Statement,
    next_id: Statement,
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
        None => StoreError::Unavailable(text),
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
            reached: AtomicBool::new(false),
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
        Ok(())
    }

    /// A connection from the pool, opening one if the pool is not full,
    /// else waiting for one to be given back.
    fn checkout(&self) -> Result<Pooled<'_>, StoreError> {
        loop {
            if let Some(conn) = self.lock_idle().pop() {
                if conn.client.is_closed() {
                    self.forget_one();
                    continue;
                }
                return Ok(Pooled {
                    database: self,
                    conn: Some(conn),
                });
            }
            {
                let mut open = self
                    .open
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if *open < self.pool_size {
                    *open += 1;
                    drop(open);
                    return match self.connect() {
                        Ok(conn) => {
                            self.reached.store(true, Ordering::Relaxed);
                            Ok(Pooled {
                                database: self,
                                conn: Some(conn),
                            })
                        }
                        Err(e) => {
                            self.forget_one();
                            Err(e)
                        }
                    };
                }
            }
            let idle = self.lock_idle();
            if idle.is_empty() {
                // Woken when a connection is given back or forgotten.
                let _ = self
                    .freed
                    .wait_timeout(idle, Duration::from_millis(100))
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Conn>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A connection closed for good: its place in the pool is free.
    fn forget_one(&self) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *open = open.saturating_sub(1);
        self.freed.notify_one();
    }

    /// Opens a connection on the driver thread and prepares its statements.
    fn connect(&self) -> Result<Conn, StoreError> {
        let client = self.connect_raw()?;
        let prepare = |sql: &str| wait(client.prepare(sql)).map_err(|e| backend("prepare", &e));
        Ok(Conn {
            get: prepare("SELECT value FROM records WHERE tree = $1 AND key = $2")?,
            put_many: prepare(
                "INSERT INTO records (tree, key, value) \
                 SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[]) \
                 ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value",
            )?,
            delete_many: prepare(
                "DELETE FROM records WHERE (tree, key) IN \
                 (SELECT * FROM unnest($1::text[], $2::bytea[]))",
            )?,
            scan: prepare(
                "SELECT key, value FROM records WHERE tree = $1 AND key >= $2 \
                 AND ($3::bytea IS NULL OR key < $3) ORDER BY key LIMIT $4",
            )?,
            scan_rev: prepare(
                "SELECT key, value FROM records WHERE tree = $1 AND key >= $2 \
                 AND ($3::bytea IS NULL OR key < $3) ORDER BY key DESC LIMIT $4",
            )?,
            next_id: prepare("SELECT nextval('record_ids')")?,
            client,
        })
    }

    /// Opens a connection on the driver thread.
    fn connect_raw(&self) -> Result<tokio_postgres::Client, StoreError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let config = self.config.clone();
        let tls = self.tls.clone();
        self.handle.spawn(async move {
            let client = match tls {
                Some(tls) => match config.connect(tls).await {
                    Ok((client, connection)) => {
                        tokio::spawn(drive(connection));
                        Ok(client)
                    }
                    Err(e) => Err(e),
                },
                None => match config.connect(tokio_postgres::NoTls).await {
                    Ok((client, connection)) => {
                        tokio::spawn(drive(connection));
                        Ok(client)
                    }
                    Err(e) => Err(e),
                },
            };
            let _ = tx.send(client);
        });
        rx.recv()
            .map_err(|_| StoreError::Backend("the PostgreSQL driver thread stopped".to_owned()))?
            .map_err(|e| backend("connect", &e))
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
        let pooled = self.checkout().map_err(Attempt::Retry)?;
        let conn = pooled.conn();
        wait(conn.client.batch_execute(&format!(
            "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
        )))
        .map_err(|e| Attempt::Retry(backend("begin", &e)))?;
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
                if wait(conn.client.batch_execute("ROLLBACK")).is_err() {
                    pooled.discard();
                }
                return Err(match e {
                    TxError::Abort(c) => Attempt::Failed(TxFailure::Abort(c)),
                    TxError::AbortAt(n, c) => Attempt::Failed(TxFailure::AbortAt(n, c)),
                    TxError::Record(e) => Attempt::Failed(TxFailure::Store(e)),
                    TxError::Postgres(e) => Attempt::Retry(e),
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
        for ((tree, key), value) in &writes {
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
                Err(Attempt::Failed(TxFailure::Store(StoreError::Unavailable(
                    describe("write", &e),
                ))))
            }
            (_, Err(e)) if e.as_db_error().is_some() => {
                pooled.discard();
                Err(Attempt::Failed(TxFailure::Store(StoreError::Unavailable(
                    describe("commit", &e),
                ))))
            }
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

/// Waits for `future` on this thread. On a worker of a multi-threaded
/// runtime the worker's other tasks move to another thread meanwhile, so
/// sessions whose commands do not need the database go on, and several
/// sessions can wait for the database at once.
fn wait<F: std::future::Future>(future: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| futures_executor::block_on(future))
        }
        _ => futures_executor::block_on(future),
    }
}

/// Drives one connection until it closes.
async fn drive<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Err(e) = connection.await {
        tracing::warn!(error = %e, "PostgreSQL connection closed");
    }
}

/// Starts the thread whose runtime drives the connections.
fn driver_thread() -> Result<(tokio::runtime::Handle, tokio::sync::oneshot::Sender<()>), StoreError>
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StoreError::Backend(format!("PostgreSQL driver runtime: {e}")))?;
    let handle = runtime.handle().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("postgres-driver".to_owned())
        .spawn(move || {
            let _ = runtime.block_on(stopped);
        })
        .map_err(|e| StoreError::Backend(format!("PostgreSQL driver thread: {e}")))?;
    Ok((handle, stop))
}

/// A TLS connector that trusts the CA(s) in `path`.
fn tls_connector(
    path: &std::path::Path,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    let unreadable = |e: &dyn std::fmt::Display| {
        StoreError::Backend(format!("PostgreSQL CA file {}: {e}", path.display()))
    };
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
        roots
            .add(cert.map_err(|e| unreadable(&e))?)
            .map_err(|e| unreadable(&e))?;
    }
    let config = tokio_rustls::rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Why one run of a transaction did not commit.
enum Attempt {
    /// Nothing was written, and running it again may work.
    Retry(StoreError),
    /// The outcome to report.
    Failed(TxFailure),
}

/// A connection taken from the pool, given back on drop.
struct Pooled<'a> {
    database: &'a Database,
    conn: Option<Conn>,
}

impl Pooled<'_> {
    fn conn(&self) -> &Conn {
        match &self.conn {
            Some(conn) => conn,
            None => unreachable_conn(),
        }
    }

    /// Closes the connection instead of giving it back.
    fn discard(mut self) {
        self.conn = None;
        self.database.forget_one();
    }
}

#[allow(clippy::panic)]
fn unreachable_conn() -> ! {
    unreachable!("a pooled connection is present until it is given back")
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if conn.client.is_closed() {
                self.database.forget_one();
            } else {
                self.database.lock_idle().push(conn);
                self.database.freed.notify_one();
            }
        }
    }
}

/// A key and its value.
type Record = (Vec<u8>, Vec<u8>);

/// A transaction's writes, by tree and key: a new value, or `None` to remove.
type PendingWrites = BTreeMap<(&'static str, Vec<u8>), Option<Vec<u8>>>;

/// The state of one transaction: its connection and its pending writes.
struct TxState<'a> {
    conn: &'a Conn,
    writes: RefCell<PendingWrites>,
}

/// One tree inside a PostgreSQL transaction.
pub(crate) struct TxTree<'a> {
    state: &'a TxState<'a>,
    tree: &'static str,
}

impl TxTree<'_> {
    /// The value under `key`: this transaction's own write, else the
    /// database's.
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(value) = self.state.writes.borrow().get(&(self.tree, key.to_vec())) {
            return Ok(value.clone());
        }
        let c = self.state.conn;
        let row = wait(c.client.query_opt(&c.get, &[&self.tree, &key]))
            .map_err(|e| backend("read", &e))?;
        Ok(row.map(|row| row.get::<_, Vec<u8>>(0)))
    }

    /// Sets (`Some`) or removes (`None`) `key` at the commit.
    pub(crate) fn put(&self, key: &[u8], value: Option<&[u8]>) {
        self.state
            .writes
            .borrow_mut()
            .insert((self.tree, key.to_vec()), value.map(<[u8]>::to_vec));
    }
}

/// A tree of the PostgreSQL store.
#[derive(Clone)]
pub(crate) struct Tree {
    database: Arc<Database>,
    name: &'static str,
}

impl Tree {
    /// The tree `name` of `database`.
    pub(crate) fn new(database: &Arc<Database>, name: &'static str) -> Self {
        Self {
            database: Arc::clone(database),
            name,
        }
    }

    /// The tree's name.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The database the tree is in.
    pub(crate) fn database(&self) -> &Arc<Database> {
        &self.database
    }

    /// The value under `key`.
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.database.get(self.name, key)
    }

    /// Sets or removes `key`, in a transaction of its own.
    pub(crate) fn put(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError> {
        self.update_and_fetch(key, |_| value.map(<[u8]>::to_vec))
            .map(|_| ())
    }

    /// Replaces the value under `key` by `f(old)` in one transaction.
    pub(crate) fn update_and_fetch(
        &self,
        key: &[u8],
        f: impl Fn(Option<&[u8]>) -> Option<Vec<u8>>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let result = self.database.transaction([self.name], |[t]| {
            let old = t.get(key)?;
            let new = f(old.as_deref());
            match &new {
                Some(v) => t.insert(key, v)?,
                None => t.remove(key)?,
            }
            Ok(new)
        });
        match result {
            Ok(new) => Ok(new),
            Err(TxFailure::Store(e)) => Err(e),
            Err(TxFailure::Abort(c) | TxFailure::AbortAt(_, c)) => {
                Err(StoreError::Backend(format!("update refused: {c:?}")))
            }
            Err(TxFailure::Sled(e)) => Err(e.into()),
        }
    }

    /// The records from `start` to `end`, read a page at a time.
    pub(crate) fn range(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>) -> Iter {
        self.iter(start, end, false)
    }

    /// The records from `end` down to `start`, read a page at a time.
    pub(crate) fn range_rev(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>) -> Iter {
        self.iter(start, end, true)
    }

    fn iter(&self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>, reverse: bool) -> Iter {
        let start = match start {
            Bound::Included(k) => k,
            Bound::Excluded(mut k) => {
                k.push(0);
                k
            }
            Bound::Unbounded => Vec::new(),
        };
        let end = match end {
            Bound::Excluded(k) => Some(k),
            Bound::Included(mut k) => {
                k.push(0);
                Some(k)
            }
            Bound::Unbounded => None,
        };
        Iter {
            database: Arc::clone(&self.database),
            tree: self.name,
            start,
            end,
            reverse,
            more: true,
            page: VecDeque::new(),
        }
    }
}

/// Records of a tree in key order, read [`PAGE`] at a time.
pub(crate) struct Iter {
    database: Arc<Database>,
    tree: &'static str,
    /// The lowest key still to read (included).
    start: Vec<u8>,
    /// The key above every key still to read (excluded), if any.
    end: Option<Vec<u8>>,
    /// Last key first.
    reverse: bool,
    /// Whether pages remain to be read.
    more: bool,
    page: VecDeque<Record>,
}

impl Iterator for Iter {
    type Item = Result<(Vec<u8>, Vec<u8>), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.page.is_empty() {
            if !self.more {
                return None;
            }
            match self
                .database
                .page(self.tree, &self.start, self.end.as_deref(), self.reverse)
            {
                Ok(records) => {
                    self.more = records.len() as i64 == PAGE;
                    if let Some((last, _)) = records.last() {
                        if self.reverse {
                            self.end = Some(last.clone());
                        } else {
                            let mut after = last.clone();
                            after.push(0);
                            self.start = after;
                        }
                    }
                    self.page = records.into();
                }
                Err(e) => {
                    self.more = false;
                    return Some(Err(e));
                }
            }
        }
        self.page.pop_front().map(Ok)
    }
}
