//! The public WHOIS service (RFC 3912, charter R16): one query line per TCP
//! connection, answered in plain text and closed. Shows exactly the
//! charter's fields for a domain, a clear answer for free, reserved and
//! blocked names, never an authInfo; each client address is rate-limited,
//! and the connections it holds are capped, in all and per address, so
//! that WHOIS never takes the file descriptors EPP needs. Read-only over
//! the store. RDAP (`src/rdap/`) uses the same rate limiter, connection
//! caps and disclosure rules.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::clock::Clock;
use crate::config::Settings;
use crate::model::{Contact, ContactRole, PostalInfo, PostalType};
use crate::policy;
use crate::store::Store;

/// Longest query line accepted.
const MAX_QUERY: usize = 255;

/// A per-address token bucket: `per_minute` queries, refilled
/// continuously. RDAP keeps one of its own.
pub(crate) struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    /// A bucket of `per_minute` queries for each address.
    pub(crate) fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds after which a refused address has a query again: the time
    /// one query takes to refill.
    pub(crate) fn retry_after_secs(&self) -> u64 {
        if self.per_minute == 0 {
            60
        } else {
            60_u64.div_ceil(u64::from(self.per_minute)).max(1)
        }
    }

    /// Whether `ip` may make a query now; takes it from its bucket.
    pub(crate) fn allow(&self, ip: IpAddr) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            return false;
        };
        let now = Instant::now();
        let capacity = f64::from(self.per_minute);
        if buckets.len() > 100_000 {
            buckets.retain(|_, (_, seen)| now.duration_since(*seen) < Duration::from_secs(120));
        }
        let (tokens, last) = buckets.entry(ip).or_insert((capacity, now));
        let refill = now.duration_since(*last).as_secs_f64() * capacity / 60.0;
        *tokens = (*tokens + refill).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The share of the process's open-files limit WHOIS connections may
/// take at most: the rest stays for EPP sessions, the store and the admin
/// socket.
const OPEN_FILES_SHARE: u64 = 4;

/// The refusal a connection over a cap gets before it is closed (RFC 3912
/// has no error format).
const TOO_MANY: &[u8] = b"% too many connections\r\n";

/// The connection caps WHOIS applies: the configured ones, lowered to a
/// quarter of the open-files limit when that is smaller, and the
/// per-address cap never above the global one. The third value says
/// whether anything was lowered.
pub fn connection_caps(
    max_connections: u32,
    per_address: u32,
    open_files: Option<u64>,
) -> (usize, usize, bool) {
    let configured = usize::try_from(max_connections).unwrap_or(usize::MAX);
    let share = open_files
        .map(|limit| usize::try_from(limit / OPEN_FILES_SHARE).unwrap_or(usize::MAX))
        .unwrap_or(usize::MAX)
        .max(1);
    let max = configured.min(share);
    let per_address = usize::try_from(per_address).unwrap_or(usize::MAX).min(max);
    (max, per_address, max < configured)
}

/// The connections open, in all and per address (WHOIS and RDAP each
/// keep their own).
pub(crate) struct Connections {
    max: usize,
    per_address: usize,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// A connection's place among the open ones, given back when dropped.
pub(crate) struct Place {
    connections: Arc<Connections>,
    ip: IpAddr,
}

impl Connections {
    /// At most `max` connections, and `per_address` from one address.
    pub(crate) fn new(max: usize, per_address: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            per_address,
            open: Mutex::new((0, HashMap::new())),
        })
    }

    /// A place for a connection from `ip`, unless a cap is reached.
    pub(crate) fn take(self: &Arc<Self>, ip: IpAddr) -> Option<Place> {
        let mut open = self.open.lock().ok()?;
        let (total, per_ip) = &mut *open;
        let from_ip = per_ip.entry(ip).or_insert(0);
        if *total >= self.max || *from_ip >= self.per_address {
            if *from_ip == 0 {
                per_ip.remove(&ip);
            }
            return None;
        }
        *from_ip += 1;
        *total += 1;
        Some(Place {
            connections: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Ok(mut open) = self.connections.open.lock() {
            let (total, per_ip) = &mut *open;
            *total = total.saturating_sub(1);
            if let Some(n) = per_ip.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    per_ip.remove(&self.ip);
                }
            }
        }
    }
}

/// Binds the WHOIS listener.
///
/// # Errors
/// The bind error.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves WHOIS queries until `stop` is cancelled, then ends the
/// connections still open (a lookup only reads) and returns once they are
/// gone, so nothing holds the store after the server stops. A connection
/// over `whois.max_connections`, or over `whois.max_connections_per_address`
/// for its address, gets one line and is closed at once.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    settings: Arc<Settings>,
    clock: Clock,
    metrics: Arc<crate::metrics::Metrics>,
    stop: CancellationToken,
) {
    let limiter = Arc::new(RateLimiter::new(settings.whois.queries_per_minute));
    let (max, per_address, lowered) = connection_caps(
        settings.whois.max_connections,
        settings.whois.max_connections_per_address,
        crate::sys::open_files_limit(),
    );
    if lowered {
        warn!(
            max_connections = max,
            max_connections_per_address = per_address,
            configured = settings.whois.max_connections,
            "WHOIS connection caps lowered to a quarter of the open-files limit, so EPP keeps the rest"
        );
    } else {
        info!(
            max_connections = max,
            max_connections_per_address = per_address,
            "WHOIS connection caps"
        );
    }
    let open = Connections::new(max, per_address);
    let connections = tokio_util::task::TaskTracker::new();
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    warn!(error = %e, "WHOIS accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(place) = open.take(peer.ip()) else {
            debug!(%peer, "WHOIS connection over the caps; closed");
            metrics.whois_query("over_connection_caps");
            // Best effort: the line fits in an empty socket buffer.
            let _ = tcp.try_write(TOO_MANY);
            drop(tcp);
            continue;
        };
        let (store, settings, clock, limiter, metrics) = (
            store.clone(),
            Arc::clone(&settings),
            clock.clone(),
            Arc::clone(&limiter),
            Arc::clone(&metrics),
        );
        let stop = stop.clone();
        connections.spawn(async move {
            let _place = place;
            tokio::select! {
                _ = stop.cancelled() => debug!(%peer, "WHOIS connection closed at shutdown"),
                answered = answer(tcp, peer, &store, &settings, &clock, &limiter, &metrics) => {
                    if let Err(e) = answered {
                        debug!(%peer, error = %e, "WHOIS connection ended");
                    }
                }
            }
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

async fn answer(
    mut tcp: TcpStream,
    peer: SocketAddr,
    store: &Store,
    settings: &Settings,
    clock: &Clock,
    limiter: &RateLimiter,
    metrics: &crate::metrics::Metrics,
) -> std::io::Result<()> {
    let timeout = Duration::from_secs(settings.whois.query_timeout_secs);
    let mut buf = Vec::with_capacity(64);
    let read = async {
        let mut byte = [0u8; 256];
        loop {
            let n = tcp.read(&mut byte).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&byte[..n]);
            if buf.contains(&b'\n') || buf.len() > MAX_QUERY {
                break;
            }
        }
        Ok::<(), std::io::Error>(())
    };
    if tokio::time::timeout(timeout, read).await.is_err() {
        return Ok(());
    }
    let text = if !limiter.allow(peer.ip()) {
        metrics.whois_query("rate_limited");
        "% Rate limit exceeded for your address; try again in a minute.\r\n".to_owned()
    } else {
        let line = String::from_utf8_lossy(&buf);
        let query = line.lines().next().unwrap_or("").trim();
        info!(%peer, query, "WHOIS query");
        metrics.whois_query("answered");
        respond(query, store, settings, clock).unwrap_or_else(|e| {
            warn!(error = %e, "WHOIS lookup failed");
            "% Internal error; try again later.\r\n".to_owned()
        })
    };
    let write = async {
        tcp.write_all(text.as_bytes()).await?;
        tcp.shutdown().await
    };
    tokio::time::timeout(timeout, write).await.unwrap_or(Ok(()))
}

/// Whether a contact withheld a field from third parties (RFC 5733
/// `disclose flag="0"`): `voice` or `email`.
pub(crate) fn withheld(contact: &Contact, field: &str) -> bool {
    contact.disclose.as_ref().is_some_and(|d| {
        !d.flag
            && match field {
                "voice" => d.voice,
                "email" => d.email,
                _ => false,
            }
    })
}

pub(crate) const WITHHELD: &str = "(not disclosed at the contact's request)";

/// The registrant as R16 shows it: its organisation, else its name.
pub(crate) fn holder_name(contact: &Contact) -> String {
    let postal = preferred(&contact.postal);
    postal
        .and_then(|p| p.org.clone().or_else(|| Some(p.name.clone())))
        .unwrap_or_default()
}

/// The postal info shown: the localized one, else the first.
pub(crate) fn preferred(postal: &[PostalInfo]) -> Option<&PostalInfo> {
    postal
        .iter()
        .find(|p| p.kind == PostalType::Loc)
        .or_else(|| postal.first())
}

/// The WHOIS answer to one query.
///
/// # Errors
/// Store failures.
pub fn respond(
    query: &str,
    store: &Store,
    settings: &Settings,
    clock: &Clock,
) -> Result<String, crate::store::StoreError> {
    let mut out = String::new();
    let header = "% .ma WHOIS (R16). Data of the .ma registry; no authorization information is ever shown.\r\n\r\n";
    out.push_str(header);
    if query.is_empty() {
        out.push_str("% Send a domain name, e.g. exemple.ma\r\n");
        return Ok(out);
    }
    let name = match policy::r1_r3_registrable_name(query, settings) {
        Ok(name) => name,
        Err(refusal) => {
            let _ = write!(
                out,
                "% {}: not a registrable .ma name ({})\r\n",
                query, refusal.short.en
            );
            return Ok(out);
        }
    };
    if let Some(domain) = store.domain(&name.name)? {
        let now = clock.now();
        let fmt = |t: &crate::model::Timestamp| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut line = |k: &str, v: &str| {
            let _ = write!(out, "{k:<22}{v}\r\n");
        };
        line("Domain Name:", &domain.name);
        if name.label != domain.name.split('.').next().unwrap_or("") {
            line(
                "Unicode Name:",
                &format!("{}.{}", name.label, name.zone.name),
            );
        }
        line("Creation Date:", &fmt(&domain.created));
        line(
            "Updated Date:",
            &domain.updated.map(|t| fmt(&t)).unwrap_or_default(),
        );
        line("Expiry Date:", &fmt(&domain.expires));
        for status in domain.derived_statuses() {
            line("Status:", status.as_str());
        }
        if let Some(rgp) = policy::lifecycle::rgp_status(&domain, now) {
            line("Status:", rgp);
        }
        if let Some(since) = &domain.dispute {
            line(
                "Dispute:",
                &format!(
                    "under dispute since {} (R18); no change until the registry closes it",
                    fmt(since)
                ),
            );
        }
        let registrar = store
            .registrar(&domain.sponsor)?
            .map(|r| format!("{} ({})", r.name, r.id))
            .unwrap_or_else(|| domain.sponsor.clone());
        line("Registrar:", &registrar);
        if let Some(registrant) = store.contact(&domain.registrant)? {
            line("Registrant:", &holder_name(&registrant));
        }
        for role in [ContactRole::Admin, ContactRole::Tech] {
            let label = if role == ContactRole::Admin {
                "Admin"
            } else {
                "Tech"
            };
            for c in domain.contacts.iter().filter(|c| c.role == role) {
                if let Some(contact) = store.contact(&c.id)? {
                    let person = preferred(&contact.postal)
                        .map(|p| p.name.clone())
                        .unwrap_or_default();
                    line(&format!("{label} Name:"), &person);
                    let phone = if withheld(&contact, "voice") {
                        WITHHELD
                    } else {
                        contact
                            .voice
                            .as_ref()
                            .map(|v| v.number.as_str())
                            .unwrap_or("")
                    };
                    line(&format!("{label} Phone:"), phone);
                    let email = if withheld(&contact, "email") {
                        WITHHELD
                    } else {
                        contact.email.as_str()
                    };
                    line(&format!("{label} Email:"), email);
                }
            }
        }
        for ns in &domain.nameservers {
            let addrs = store
                .host(ns)?
                .map(|h| {
                    h.addrs
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            line("Name Server:", format!("{ns} {addrs}").trim());
        }
        return Ok(out);
    }
    if store.blocked(&name.label)?.is_some() {
        let _ = write!(
            out,
            "% {}: blocked by the registry (R5); it cannot be registered.\r\n",
            name.name
        );
    } else if let Some(category) = store.reserved(&name.label)? {
        let _ = write!(
            out,
            "% {}: reserved ({category}, R4); it can be registered only with the registry's allocation token.\r\n",
            name.name
        );
    } else {
        let _ = write!(out, "% No match for {}: the name is free.\r\n", name.name);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caps_leave_three_quarters_of_the_open_files_to_epp() {
        assert_eq!(connection_caps(256, 16, Some(65_536)), (256, 16, false));
        assert_eq!(connection_caps(256, 16, None), (256, 16, false));
        assert_eq!(connection_caps(256, 16, Some(1024)), (256, 16, false));
        assert_eq!(connection_caps(256, 16, Some(400)), (100, 16, true));
        assert_eq!(connection_caps(256, 64, Some(40)), (10, 10, true));
        assert_eq!(connection_caps(256, 16, Some(2)), (1, 1, true));
    }

    #[test]
    fn a_place_is_given_back_when_its_connection_ends() {
        let open = Connections::new(3, 2);
        let a: IpAddr = [192, 0, 2, 1].into();
        let b: IpAddr = [192, 0, 2, 2].into();
        let first = open.take(a).unwrap();
        let _second = open.take(a).unwrap();
        assert!(open.take(a).is_none(), "over the address's cap");
        let _third = open.take(b).unwrap();
        assert!(open.take(b).is_none(), "over the global cap");
        drop(first);
        assert!(open.take(a).is_some());
    }
}
