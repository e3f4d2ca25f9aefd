//! The server's metrics and health endpoint: counters and histograms kept
//! with `prometheus-client`, served over HTTP (`[metrics] listen`, off by
//! default) in the Prometheus text format at `/metrics`, and `/health`,
//! which answers 200 once the store is open and every listener is bound
//! (503 while the store's writes are suspended).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// A command and its result code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandResult {
    /// The command, e.g. `domain:create`.
    pub command: &'static str,
    /// The result code answered.
    pub code: u16,
}

/// A command.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandName {
    /// The command, e.g. `domain:check`.
    pub command: &'static str,
}

/// A registrar.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RegistrarLabel {
    /// Its clID.
    pub registrar: String,
}

/// A kind of life-cycle transition, or a WHOIS outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// The kind.
    pub kind: String,
}

type LatencyFamily = Family<CommandName, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 50 µs to about 1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// Every metric the server keeps.
pub struct Metrics {
    registry: Registry,
    commands: Family<CommandResult, Counter>,
    latency: LatencyFamily,
    sessions: Family<RegistrarLabel, Gauge>,
    lifecycle: Family<KindLabel, Counter>,
    whois: Family<KindLabel, Counter>,
    flushes: Counter,
    flush_seconds: Counter<f64, std::sync::atomic::AtomicU64>,
    writes_suspended: Gauge,
    reopens: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty metrics, registered under the `ma_registry` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ma_registry");
        let commands = Family::<CommandResult, Counter>::default();
        registry.register(
            "epp_commands",
            "EPP commands answered, by command and result code",
            commands.clone(),
        );
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "epp_command_duration_seconds",
            "Time from a command's frame read to its answer built, by command",
            latency.clone(),
        );
        let sessions = Family::<RegistrarLabel, Gauge>::default();
        registry.register(
            "epp_sessions",
            "EPP sessions open, by registrar",
            sessions.clone(),
        );
        let lifecycle = Family::<KindLabel, Counter>::default();
        registry.register(
            "lifecycle_transitions",
            "Life-cycle transitions applied, by kind",
            lifecycle.clone(),
        );
        let whois = Family::<KindLabel, Counter>::default();
        registry.register(
            "whois_queries",
            "WHOIS queries, by outcome (answered, rate_limited, over_connection_caps)",
            whois.clone(),
        );
        let flushes = Counter::default();
        registry.register(
            "store_flushes",
            "Durable flushes of the store (each one fdatasync shared by a group of commits)",
            flushes.clone(),
        );
        let flush_seconds = Counter::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "store_flush_seconds",
            "Time spent in durable flushes",
            flush_seconds.clone(),
        );
        let writes_suspended = Gauge::default();
        registry.register(
            "store_writes_suspended",
            "1 while the store refuses writes after a disk failure",
            writes_suspended.clone(),
        );
        let reopens = Counter::default();
        registry.register(
            "store_reopens",
            "Reopenings of the store after a disk failure",
            reopens.clone(),
        );
        Self {
            registry,
            commands,
            latency,
            sessions,
            lifecycle,
            whois,
            flushes,
            flush_seconds,
            writes_suspended,
            reopens,
        }
    }

    /// Counts an answered command and its latency. The labels are static
    /// names: nothing is allocated per command.
    pub fn command(&self, command: &'static str, code: u16, took: Duration) {
        self.commands
            .get_or_create(&CommandResult { command, code })
            .inc();
        self.latency
            .get_or_create(&CommandName { command })
            .observe(took.as_secs_f64());
    }

    /// Counts life-cycle transitions of a kind.
    pub fn transitions(&self, kind: &str, n: usize) {
        if n > 0 {
            self.lifecycle
                .get_or_create(&KindLabel {
                    kind: kind.to_owned(),
                })
                .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
        }
    }

    /// Counts a WHOIS query by its outcome.
    pub fn whois_query(&self, outcome: &str) {
        self.whois
            .get_or_create(&KindLabel {
                kind: outcome.to_owned(),
            })
            .inc();
    }

    /// The text exposition, with the gauges read now: `sessions` gives the
    /// open sessions by registrar.
    pub fn render(&self, store: &Store, sessions: &[(String, u32)]) -> String {
        self.sessions.clear();
        for (registrar, n) in sessions {
            self.sessions
                .get_or_create(&RegistrarLabel {
                    registrar: registrar.clone(),
                })
                .set(i64::from(*n));
        }
        let (flushes, seconds) = store.flush_stats();
        self.flushes
            .inner()
            .store(flushes, std::sync::atomic::Ordering::Relaxed);
        self.flush_seconds
            .inner()
            .store(seconds.to_bits(), std::sync::atomic::Ordering::Relaxed);
        self.writes_suspended
            .set(i64::from(store.suspension().is_some()));
        self.reopens
            .inner()
            .store(store.reopen_count(), std::sync::atomic::Ordering::Relaxed);
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// What the endpoint reads.
pub struct Source {
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// The store, for its health and flush figures.
    pub store: Store,
    /// The open sessions by registrar, read at each scrape.
    pub sessions: Box<dyn Fn() -> Vec<(String, u32)> + Send + Sync>,
}

/// Binds the metrics listener.
///
/// # Errors
/// The bind error.
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

/// Serves `/metrics` and `/health` until `stop` is cancelled.
pub async fn serve(
    listener: tokio::net::TcpListener,
    source: Arc<Source>,
    stop: CancellationToken,
) {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    use axum::routing::get;
    let metrics_source = Arc::clone(&source);
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let source = Arc::clone(&metrics_source);
                async move {
                    let sessions = (source.sessions)();
                    (
                        [(
                            header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        source.metrics.render(&source.store, &sessions),
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/health",
            get(move || {
                let source = Arc::clone(&source);
                async move {
                    match source.store.suspension() {
                        None => (StatusCode::OK, "ready\n".to_owned()),
                        Some(reason) => (
                            StatusCode::SERVICE_UNAVAILABLE,
                            format!("store writes suspended: {reason}\n"),
                        ),
                    }
                }
            }),
        );
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
    if let Err(e) = served {
        tracing::warn!(error = %e, "metrics listener failed");
    }
}
