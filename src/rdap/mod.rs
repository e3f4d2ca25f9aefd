//! The RDAP service (RFC 7480–7484, 9082, 9083): the public data WHOIS
//! shows (R16), as JSON over HTTP, on its own listener (`[rdap] listen`,
//! off by default), served by axum on the server's runtime. This file
//! owns the routes, the per-address rate limit (429 with `Retry-After`),
//! the headers every answer carries (`application/rdap+json`, CORS), the
//! RFC 7480 errors (404 unknown path, 400 malformed query, 405 method) and
//! shutdown. `lookup.rs` answers each query from the store, `build.rs`
//! makes the RDAP objects of `json.rs` from its records, `listener.rs`
//! holds the connection caps.

pub mod build;
pub mod json;
mod listener;
pub mod lookup;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::Settings;
use crate::store::{Store, StoreError};
use crate::whois::{Connections, RateLimiter, connection_caps};

use listener::{CappedListener, Peer};
use lookup::Reply;

/// What the handlers share.
struct Rdap {
    store: Store,
    settings: Arc<Settings>,
    clock: Clock,
    limiter: RateLimiter,
    local: SocketAddr,
}

impl Rdap {
    /// The context of one answer: the public URL (configured, else from
    /// the request's `Host`), the WHOIS host, the terms, now.
    fn context(&self, headers: &HeaderMap) -> build::Context {
        let rdap = &self.settings.rdap;
        let base = rdap.base_url.clone().unwrap_or_else(|| {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| {
                    !h.is_empty()
                        && h.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
                })
                .map_or_else(|| self.local.to_string(), str::to_owned);
            format!("http://{host}")
        });
        build::Context {
            terms: rdap
                .terms_url
                .clone()
                .unwrap_or_else(|| format!("{base}/help")),
            base,
            port43: (!rdap.port43.is_empty()).then(|| rdap.port43.clone()),
            now: self.clock.now(),
        }
    }
}

/// An answer as an HTTP response with the RDAP media type.
fn respond(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, json::MEDIA_TYPE)],
        reply.body,
    )
        .into_response()
}

/// A lookup's answer, or a 500 when the store failed.
fn answered(result: Result<Reply, StoreError>) -> Response {
    respond(result.unwrap_or_else(|e| {
        warn!(error = %e, "RDAP lookup failed");
        lookup::error(
            500,
            "Internal Server Error",
            &["the registry could not be read; try again later".into()],
        )
    }))
}

fn bad_path(rejection: &PathRejection) -> Response {
    respond(lookup::error(
        400,
        "Bad Request",
        &[format!("the path cannot be read: {rejection}")],
    ))
}

async fn domain(
    State(rdap): State<Arc<Rdap>>,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    match name {
        Ok(Path(name)) => {
            let ctx = rdap.context(&headers);
            answered(lookup::domain(&name, &rdap.store, &rdap.settings, &ctx))
        }
        Err(rejection) => bad_path(&rejection),
    }
}

async fn nameserver(
    State(rdap): State<Arc<Rdap>>,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    match name {
        Ok(Path(name)) => {
            let ctx = rdap.context(&headers);
            answered(lookup::nameserver(&name, &rdap.store, &rdap.settings, &ctx))
        }
        Err(rejection) => bad_path(&rejection),
    }
}

async fn entity(
    State(rdap): State<Arc<Rdap>>,
    headers: HeaderMap,
    handle: Result<Path<String>, PathRejection>,
) -> Response {
    match handle {
        Ok(Path(handle)) => {
            let ctx = rdap.context(&headers);
            answered(lookup::entity(&handle, &rdap.store, &ctx))
        }
        Err(rejection) => bad_path(&rejection),
    }
}

async fn domains(
    State(rdap): State<Arc<Rdap>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(query)) => {
            let ctx = rdap.context(&headers);
            answered(lookup::search(&query, &rdap.store, &rdap.settings, &ctx))
        }
        Err(rejection) => respond(lookup::error(
            400,
            "Bad Request",
            &[format!("the query cannot be read: {rejection}")],
        )),
    }
}

async fn help(State(rdap): State<Arc<Rdap>>, headers: HeaderMap) -> Response {
    respond(lookup::help(&rdap.settings, &rdap.context(&headers)))
}

async fn unknown_path() -> Response {
    respond(lookup::error(
        404,
        "Not Found",
        &["this server answers /domain/NAME, /nameserver/NAME, /entity/HANDLE, /domains?name=PATTERN and /help".into()],
    ))
}

async fn method_not_allowed() -> Response {
    let mut response = respond(lookup::error(
        405,
        "Method Not Allowed",
        &["RDAP answers GET and HEAD only".into()],
    ));
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

/// The client a request is from: the TCP peer, or, when the peer is a
/// trusted reverse proxy, the last address its `X-Forwarded-For` names
/// that is not one of the trusted proxies.
fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

/// Every request: the per-address rate limit, then the CORS header on
/// whatever is answered (RFC 7480 §5.6), and a log line.
async fn guard(
    State(rdap): State<Arc<Rdap>>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    request: Request,
    next: Next,
) -> Response {
    let client = client_address(
        peer.ip(),
        request.headers(),
        &rdap.settings.rdap.trusted_proxies,
    );
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = if rdap.limiter.allow(client) {
        next.run(request).await
    } else {
        let secs = rdap.limiter.retry_after_secs();
        let mut refused = respond(lookup::error(
            429,
            "Too Many Requests",
            &[format!(
                "Rate limit exceeded for your address; try again in {secs} s."
            )],
        ));
        refused
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        refused
    };
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    info!(%client, %method, path, status = response.status().as_u16(), "RDAP query");
    response
}

/// Binds the RDAP listener.
///
/// # Errors
/// The bind error.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves RDAP until `stop` is cancelled; then the requests in flight are
/// answered, idle connections closed, and it returns once every
/// connection is gone, so nothing holds the store after the server stops.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    settings: Arc<Settings>,
    clock: Clock,
    stop: CancellationToken,
) {
    let rdap_settings = &settings.rdap;
    let (max, per_address, lowered) = connection_caps(
        rdap_settings.max_connections,
        rdap_settings.max_connections_per_address,
        crate::sys::open_files_limit(),
    );
    if lowered {
        warn!(
            max_connections = max,
            max_connections_per_address = per_address,
            configured = rdap_settings.max_connections,
            "RDAP connection caps lowered to a quarter of the open-files limit, so EPP keeps the rest"
        );
    }
    let Ok(local) = listener.local_addr() else {
        warn!("RDAP listener has no address; not served");
        return;
    };
    let idle = Duration::from_secs(rdap_settings.idle_timeout_secs);
    let rdap = Arc::new(Rdap {
        limiter: RateLimiter::new(rdap_settings.queries_per_minute),
        store,
        settings: Arc::clone(&settings),
        clock,
        local,
    });
    let app = axum::Router::new()
        .route("/domain/{name}", get(domain))
        .route("/nameserver/{name}", get(nameserver))
        .route("/entity/{handle}", get(entity))
        .route("/domains", get(domains))
        .route("/help", get(help))
        .fallback(unknown_path)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&rdap),
            guard,
        ))
        .with_state(rdap);
    let listener = CappedListener {
        tcp: listener,
        open: Connections::new(max, per_address),
        idle,
    };
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
    if let Err(e) = served {
        warn!(error = %e, "RDAP listener failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdap_counts_a_client_behind_a_trusted_proxy_by_its_forwarded_address() {
        let proxy: IpAddr = [127, 0, 0, 1].into();
        let client: IpAddr = [192, 0, 2, 7].into();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("198.51.100.1, 192.0.2.7"),
        );
        assert_eq!(client_address(proxy, &headers, &[proxy]), client);
        assert_eq!(client_address(proxy, &headers, &[]), proxy, "not trusted");
        assert_eq!(
            client_address(proxy, &HeaderMap::new(), &[proxy]),
            proxy,
            "no header"
        );
        headers.insert("x-forwarded-for", HeaderValue::from_static("junk"));
        assert_eq!(client_address(proxy, &headers, &[proxy]), proxy);
    }
}
