//! The connections of the PostgreSQL engine: a pool of them, each with
//! its prepared statements, driven by a runtime on a thread of its own;
//! how a synchronous call waits for one; TLS to the database.

use std::time::Duration;

use tokio_postgres::Statement;

use super::{Database, StoreError, backend};

/// How long a call waits for a free connection before it fails as
/// unavailable (nothing changed).
const CHECKOUT_WAIT: Duration = Duration::from_secs(5);

/// One connection and its prepared statements.
pub(super) struct Conn {
    pub(super) client: tokio_postgres::Client,
    pub(super) get: Statement,
    pub(super) put_many: Statement,
    pub(super) delete_many: Statement,
    pub(super) scan: Statement,
    pub(super) scan_rev: Statement,
    pub(super) next_id: Statement,
}

impl Database {
    /// A connection from the pool, opening one if the pool is not full,
    /// else waiting for one to be given back.
    pub(super) fn checkout(&self) -> Result<Pooled<'_>, StoreError> {
        let deadline = std::time::Instant::now() + CHECKOUT_WAIT;
        loop {
            if let Some(conn) = self.lock_idle().pop() {
                if conn.client.is_closed() {
                    self.forget_one();
                    continue;
                }
                return Ok(Pooled {
                    database: self,
                    conn: Some(conn),
                    in_transaction: std::cell::Cell::new(false),
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
                        Ok(conn) => Ok(Pooled {
                            database: self,
                            conn: Some(conn),
                            in_transaction: std::cell::Cell::new(false),
                        }),
                        Err(e) => {
                            self.forget_one();
                            Err(e)
                        }
                    };
                }
            }
            if std::time::Instant::now() >= deadline {
                return Err(StoreError::Unavailable(format!(
                    "no PostgreSQL connection free within {} s (pool_size {})",
                    CHECKOUT_WAIT.as_secs(),
                    self.pool_size
                )));
            }
            // Woken when a connection is given back or forgotten.
            blocking(|| {
                let idle = self.lock_idle();
                if idle.is_empty() {
                    let _ = self
                        .freed
                        .wait_timeout(idle, Duration::from_millis(100))
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
            });
        }
    }

    pub(super) fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Conn>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A connection closed for good: its place in the pool is free.
    pub(super) fn forget_one(&self) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *open = open.saturating_sub(1);
        self.freed.notify_one();
    }

    /// Opens a connection on the driver thread and prepares its statements.
    pub(super) fn connect(&self) -> Result<Conn, StoreError> {
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
    pub(super) fn connect_raw(&self) -> Result<tokio_postgres::Client, StoreError> {
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
}

/// A connection taken from the pool, given back on drop.
pub(super) struct Pooled<'a> {
    database: &'a Database,
    conn: Option<Conn>,
    /// Set from `BEGIN` until its `COMMIT` or `ROLLBACK` answered: a
    /// connection dropped meanwhile (an error, a panic) is closed, never
    /// given back inside a transaction or holding the write lock.
    pub(super) in_transaction: std::cell::Cell<bool>,
}

impl Pooled<'_> {
    pub(super) fn conn(&self) -> &Conn {
        match &self.conn {
            Some(conn) => conn,
            None => unreachable_conn(),
        }
    }

    /// Closes the connection instead of giving it back.
    pub(super) fn discard(mut self) {
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
            if conn.client.is_closed() || self.in_transaction.get() {
                self.database.forget_one();
            } else {
                self.database.lock_idle().push(conn);
                self.database.freed.notify_one();
            }
        }
    }
}

/// Waits for `future` on this thread. On a worker of a multi-threaded
/// runtime the worker's other tasks move to another thread meanwhile, so
/// sessions whose commands do not need the database go on, and several
/// sessions can wait for the database at once.
pub(super) fn wait<F: std::future::Future>(future: F) -> F::Output {
    blocking(|| futures_executor::block_on(future))
}

/// Runs `f`, which blocks, moving the worker's other tasks to another
/// thread meanwhile on a multi-threaded runtime.
pub(super) fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
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
pub(super) fn driver_thread()
-> Result<(tokio::runtime::Handle, tokio::sync::oneshot::Sender<()>), StoreError> {
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
pub(super) fn tls_connector(
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
