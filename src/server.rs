//! The running server: it builds the one shared [`ServerContext`], starts
//! the EPP, WHOIS, RDAP, metrics and admin listeners and the life-cycle
//! task, and shuts down gracefully (a cancellation token; in-flight
//! commands finish, then TLS closes).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpSocket};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::Settings;
use crate::context::ServerContext;
use crate::store::{Store, StoreError};
use crate::transport::{self, TlsSetupError};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// The admin socket could not be bound.
    #[error("cannot open the admin socket {path}: {source}")]
    AdminSocket {
        /// The socket's path.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A started server.
pub struct RunningServer {
    epp_addr: SocketAddr,
    whois_addr: Option<SocketAddr>,
    metrics_addr: Option<SocketAddr>,
    rdap_addr: Option<SocketAddr>,
    shutdown: CancellationToken,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Opens the store, binds the listeners and starts serving.
    ///
    /// # Errors
    /// [`StartError`].
    pub async fn start(settings: Settings, clock: Clock) -> Result<Self, StartError> {
        let store = Store::open_configured(&settings.store, &settings.server.data_dir)?;
        Self::start_with_store(settings, clock, store).await
    }

    /// Starts serving an already opened store.
    ///
    /// # Errors
    /// [`StartError`].
    pub async fn start_with_store(
        settings: Settings,
        clock: Clock,
        store: Store,
    ) -> Result<Self, StartError> {
        let acceptor = transport::acceptor(&settings.tls)?;
        let addr = settings.server.epp_listen;
        let listener = listen(addr, settings.server.listen_backlog)
            .map_err(|source| StartError::Bind { addr, source })?;
        let epp_addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let whois_listener = match settings.whois.listen.filter(|_| settings.whois.enabled) {
            Some(whois) => {
                Some(
                    crate::whois::bind(whois)
                        .await
                        .map_err(|source| StartError::Bind {
                            addr: whois,
                            source,
                        })?,
                )
            }
            None => None,
        };
        let whois_addr = whois_listener.as_ref().and_then(|l| l.local_addr().ok());
        let metrics_listener = match settings.metrics.listen {
            Some(addr) => Some(
                crate::metrics::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            ),
            None => None,
        };
        let metrics_addr = metrics_listener.as_ref().and_then(|l| l.local_addr().ok());
        let rdap_listener = match settings.rdap.listen {
            Some(addr) => Some(
                crate::rdap::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            ),
            None => None,
        };
        let rdap_addr = rdap_listener.as_ref().and_then(|l| l.local_addr().ok());
        let admin_path = crate::admin::socket::socket_path(&settings);
        let admin_listener =
            crate::admin::socket::bind(&admin_path).map_err(|source| StartError::AdminSocket {
                path: admin_path.clone(),
                source,
            })?;
        crate::flows::terms::seed_reserved_once(&store)?;
        match crate::lifecycle::sweep(&store, clock.now(), &settings).await {
            Ok(report) if report.examined > 0 => info!(?report, "life-cycle sweep at start"),
            Ok(_) => {}
            Err(e) => warn!(error = %e, "life-cycle sweep at start failed"),
        }
        if clock.is_shifted() {
            warn!(now = %clock.now(), "the clock is shifted by {}; not for production", crate::clock::NOW_ENV);
        }
        let shutdown = CancellationToken::new();
        let ctx = Arc::new(ServerContext::new(
            settings,
            store,
            clock,
            acceptor,
            shutdown.clone(),
        ));
        info!(%epp_addr, "EPP listener started");
        let whois_task = whois_listener.map(|listener| {
            info!(whois = ?whois_addr, "WHOIS listener started");
            tokio::spawn(crate::whois::serve(
                listener,
                ctx.store.clone(),
                Arc::new(ctx.settings.clone()),
                ctx.clock.clone(),
                Arc::clone(&ctx.metrics),
                shutdown.clone(),
            ))
        });
        info!(socket = %admin_path.display(), "admin socket open");
        let admin_task = tokio::spawn(crate::admin::socket::serve(
            admin_listener,
            admin_path,
            Arc::new(crate::admin::socket::AdminService {
                store: ctx.store.clone(),
                settings: Arc::new(ctx.settings.clone()),
                clock: ctx.clock.clone(),
            }),
            shutdown.clone(),
        ));
        let lifecycle = tokio::spawn(crate::lifecycle::run_periodically(
            ctx.store.clone(),
            ctx.clock.clone(),
            ctx.settings.clone(),
            Arc::clone(&ctx.metrics),
            shutdown.clone(),
        ));
        let metrics_task = metrics_listener.map(|listener| {
            info!(metrics = ?metrics_addr, "metrics listener started");
            tokio::spawn(crate::metrics::serve(
                listener,
                Arc::new(crate::metrics::Source {
                    metrics: Arc::clone(&ctx.metrics),
                    store: ctx.store.clone(),
                    sessions: Box::new(ctx.open_sessions_reader()),
                }),
                shutdown.clone(),
            ))
        });
        let rdap_task = rdap_listener.map(|listener| {
            info!(rdap = ?rdap_addr, "RDAP listener started");
            tokio::spawn(crate::rdap::serve(
                listener,
                ctx.store.clone(),
                Arc::new(ctx.settings.clone()),
                ctx.clock.clone(),
                shutdown.clone(),
            ))
        });
        let recovery = tokio::spawn(recover_store_when_possible(
            ctx.store.clone(),
            ctx.settings.store.clone(),
            shutdown.clone(),
        ));
        let accept_loop = tokio::spawn(async move {
            accept_loop(ctx, listener).await;
            let _ = recovery.await;
            let _ = lifecycle.await;
            if let Some(task) = metrics_task {
                let _ = task.await;
            }
            let _ = admin_task.await;
            if let Some(task) = whois_task {
                let _ = task.await;
            }
            if let Some(task) = rdap_task {
                let _ = task.await;
            }
        });
        Ok(Self {
            epp_addr,
            whois_addr,
            metrics_addr,
            rdap_addr,
            shutdown,
            accept_loop,
        })
    }

    /// The EPP listener's address.
    pub fn epp_addr(&self) -> SocketAddr {
        self.epp_addr
    }

    /// The WHOIS listener's address, when enabled.
    pub fn whois_addr(&self) -> Option<SocketAddr> {
        self.whois_addr
    }

    /// The metrics listener's address, when enabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The RDAP listener's address, when enabled.
    pub fn rdap_addr(&self) -> Option<SocketAddr> {
        self.rdap_addr
    }

    /// A token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting, lets in-flight commands finish, closes every session
    /// and the store.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        let _ = self.accept_loop.await;
    }

    /// Runs until the shutdown token is cancelled, then shuts down.
    pub async fn wait(self) {
        self.shutdown.cancelled().await;
        self.shutdown().await;
    }
}

/// A listener on `addr` whose kernel queue holds `backlog` connections not
/// yet accepted; a storm of logins waits there while the accept loop
/// catches up.
fn listen(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // As `TcpListener::bind` does: a restarted server binds at once.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// While the store's writes are suspended (a full or failing disk), tries
/// at a fixed interval to reopen it, so writes resume by themselves once
/// the disk has room again; reads go on meanwhile.
async fn recover_store_when_possible(
    store: Store,
    settings: crate::config::StoreSettings,
    stop: CancellationToken,
) {
    let interval = std::time::Duration::from_millis(settings.recovery_interval_ms.max(10));
    let mut last_error = String::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        if store.suspension().is_none() {
            continue;
        }
        let attempt = store.clone();
        let min_free = settings.min_free_bytes();
        match tokio::task::spawn_blocking(move || attempt.recover(min_free)).await {
            Ok(Ok(_)) => last_error.clear(),
            Ok(Err(e)) => {
                let error = e.to_string();
                if error != last_error {
                    warn!(%error, "the store could not be reopened yet; writes stay suspended");
                    last_error = error;
                }
            }
            Err(e) => warn!(error = %e, "store recovery task failed"),
        }
    }
}

async fn accept_loop(ctx: Arc<ServerContext>, listener: TcpListener) {
    let sessions = TaskTracker::new();
    loop {
        tokio::select! {
            _ = ctx.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let rate = ctx.settings.limits.connections_per_second_per_address;
                    if !ctx.addresses.admit(peer.ip(), rate, std::time::Instant::now()) {
                        warn!(%peer, "connection rate of the address exceeded; closed before TLS");
                        drop(tcp);
                        continue;
                    }
                    let _ = tcp.set_nodelay(true);
                    sessions.spawn(crate::session::serve_connection(Arc::clone(&ctx), tcp, peer));
                }
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
    drop(listener);
    sessions.close();
    sessions.wait().await;
    if let Err(e) = ctx.store.flush_now() {
        warn!(error = %e, "final flush failed");
    }
    info!("server stopped");
}
