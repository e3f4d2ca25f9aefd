//! What every EPP session shares: the [`ServerContext`] (settings, store,
//! clock, TLS acceptor, caches, quotas, metrics, the shutdown token), and
//! the places it hands out: a registrar's session slots and the places of
//! the sessions not logged in yet. The server builds it; each session holds
//! an `Arc` of it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::Settings;
use crate::flows::login::PasswordCache;
use crate::store::Store;
use crate::xml::XmlLimits;

/// Everything the sessions share.
pub struct ServerContext {
    /// Settings.
    pub settings: Settings,
    /// The store.
    pub store: Store,
    /// The clock.
    pub clock: Clock,
    /// The TLS acceptor.
    pub acceptor: TlsAcceptor,
    /// Verified passwords.
    pub password_cache: PasswordCache,
    /// Failed logins per registrar since its last success (RFC 8807).
    pub failed_logins: crate::flows::login_security::FailedLogins,
    /// XML limits from the settings.
    pub xml_limits: XmlLimits,
    /// Cancelled at shutdown.
    pub shutdown: CancellationToken,
    /// The registrars' command quotas.
    pub quotas: crate::quota::Quotas,
    /// Per-address connection rate and failed-login count.
    pub addresses: crate::quota::AddressGuard,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    sessions: Arc<Mutex<HashMap<String, u32>>>,
    unauthenticated: Arc<AtomicUsize>,
}

/// A session's place among those not logged in
/// (`limits.max_unauthenticated_sessions`), taken once its TLS handshake is
/// done and given back when dropped: at login, or when the connection ends.
pub struct UnauthenticatedSlot {
    count: Arc<AtomicUsize>,
}

impl Drop for UnauthenticatedSlot {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A registrar's session slot, released when dropped.
pub struct SessionSlot {
    registrar: String,
    sessions: Arc<Mutex<HashMap<String, u32>>>,
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        if let Ok(mut map) = self.sessions.lock()
            && let Some(n) = map.get_mut(&self.registrar)
        {
            *n = n.saturating_sub(1);
        }
    }
}

impl ServerContext {
    /// The context of a server that starts now: no session open yet.
    pub fn new(
        settings: Settings,
        store: Store,
        clock: Clock,
        acceptor: TlsAcceptor,
        shutdown: CancellationToken,
    ) -> Self {
        ServerContext {
            xml_limits: XmlLimits {
                max_depth: settings.limits.max_xml_depth,
                max_elements: settings.limits.max_xml_elements,
                max_value_bytes: settings.limits.max_xml_value_bytes,
            },
            settings,
            store,
            clock,
            acceptor,
            password_cache: PasswordCache::default(),
            shutdown,
            quotas: crate::quota::Quotas::default(),
            failed_logins: crate::flows::login_security::FailedLogins::default(),
            addresses: crate::quota::AddressGuard::default(),
            metrics: Arc::new(crate::metrics::Metrics::new()),
            sessions: Arc::new(Mutex::new(HashMap::new())),
            unauthenticated: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// How many sessions `registrar` has open.
    pub fn open_sessions(&self, registrar: &str) -> u32 {
        self.sessions
            .lock()
            .ok()
            .and_then(|map| map.get(registrar).copied())
            .unwrap_or(0)
    }

    /// Reads the registrars' open sessions (those with at least one), for
    /// `/metrics`; it keeps the counters alive without the context.
    pub fn open_sessions_reader(&self) -> impl Fn() -> Vec<(String, u32)> + Send + Sync + use<> {
        let sessions = Arc::clone(&self.sessions);
        move || {
            sessions
                .lock()
                .map(|map| {
                    map.iter()
                        .filter(|(_, n)| **n > 0)
                        .map(|(r, n)| (r.clone(), *n))
                        .collect()
                })
                .unwrap_or_default()
        }
    }

    /// A place for a new session among those not logged in, unless
    /// `limits.max_unauthenticated_sessions` of them are open.
    pub fn admit_unauthenticated(&self) -> Option<UnauthenticatedSlot> {
        let max = usize::try_from(self.settings.limits.max_unauthenticated_sessions)
            .unwrap_or(usize::MAX);
        self.unauthenticated
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        Some(UnauthenticatedSlot {
            count: Arc::clone(&self.unauthenticated),
        })
    }

    /// Takes one of the registrar's `limit` session slots, if one is free.
    pub fn acquire_session(&self, registrar: &str, limit: u32) -> Option<SessionSlot> {
        let mut map = self.sessions.lock().ok()?;
        let n = map.entry(registrar.to_owned()).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(SessionSlot {
            registrar: registrar.to_owned(),
            sessions: Arc::clone(&self.sessions),
        })
    }
}
