//! The public WHOIS service (RFC 3912, charter R16): one query line per TCP
//! connection, answered in plain text and closed. Shows exactly the
//! charter's fields for a domain, a clear answer for free, reserved and
//! blocked names, never an authInfo; each client address is rate-limited.
//! Read-only over the store.

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
use crate::flows::domain::info::derived_statuses;
use crate::model::{Contact, ContactRole, PostalInfo, PostalType};
use crate::policy;
use crate::store::Store;

/// Longest query line accepted.
const MAX_QUERY: usize = 255;

/// A per-address token bucket: `per_minute` queries, refilled continuously.
struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    fn allow(&self, ip: IpAddr) -> bool {
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

/// Binds the WHOIS listener.
///
/// # Errors
/// The bind error.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves WHOIS queries until `stop` is cancelled, then ends the
/// connections still open (a lookup only reads) and returns once they are
/// gone, so nothing holds the store after the server stops.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    settings: Arc<Settings>,
    clock: Clock,
    stop: CancellationToken,
) {
    let limiter = Arc::new(RateLimiter {
        per_minute: settings.whois.queries_per_minute,
        buckets: Mutex::new(HashMap::new()),
    });
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
        let (store, settings, clock, limiter) = (
            store.clone(),
            Arc::clone(&settings),
            clock.clone(),
            Arc::clone(&limiter),
        );
        let stop = stop.clone();
        connections.spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => debug!(%peer, "WHOIS connection closed at shutdown"),
                answered = answer(tcp, peer, &store, &settings, &clock, &limiter) => {
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
) -> std::io::Result<()> {
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
    if tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .is_err()
    {
        return Ok(());
    }
    let text = if !limiter.allow(peer.ip()) {
        "% Rate limit exceeded for your address; try again in a minute.\r\n".to_owned()
    } else {
        let line = String::from_utf8_lossy(&buf);
        let query = line.lines().next().unwrap_or("").trim();
        info!(%peer, query, "WHOIS query");
        respond(query, store, settings, clock).unwrap_or_else(|e| {
            warn!(error = %e, "WHOIS lookup failed");
            "% Internal error; try again later.\r\n".to_owned()
        })
    };
    let write = async {
        tcp.write_all(text.as_bytes()).await?;
        tcp.shutdown().await
    };
    tokio::time::timeout(Duration::from_secs(10), write)
        .await
        .unwrap_or(Ok(()))
}

/// Whether a contact withheld a field from third parties (RFC 5733
/// `disclose flag="0"`).
fn withheld(contact: &Contact, field: &str) -> bool {
    contact.disclose.as_ref().is_some_and(|d| {
        !d.flag
            && match field {
                "voice" => d.voice,
                "email" => d.email,
                _ => false,
            }
    })
}

const WITHHELD: &str = "(not disclosed at the contact's request)";

fn holder_name(contact: &Contact) -> String {
    let postal = preferred(&contact.postal);
    postal
        .and_then(|p| p.org.clone().or_else(|| Some(p.name.clone())))
        .unwrap_or_default()
}

fn preferred(postal: &[PostalInfo]) -> Option<&PostalInfo> {
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
        for status in derived_statuses(&domain) {
            line("Status:", status.as_str());
        }
        if let Some(rgp) = policy::lifecycle::rgp_status(&domain, now) {
            line("Status:", rgp);
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
