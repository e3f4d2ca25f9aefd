//! Command quotas: one token bucket per registrar and class of command
//! (queries, transforms), shared by all its sessions. A bucket holds at
//! most one second of its rate and refills continuously; a command that
//! finds it empty is answered 2502 and the session closes (RFC 5730); a
//! client that selected the `.ma` extension finds the bucket's state in
//! that answer's `ma:quota`. A registrar reads its quotas at any time with
//! the quota info command.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::config::Limits;

pub use crate::model::{CommandClass, QuotaState};

/// The place of `class`'s bucket among a registrar's two.
fn slot(class: CommandClass) -> usize {
    match class {
        CommandClass::Query => 0,
        CommandClass::Transform => 1,
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Every registrar's buckets.
#[derive(Debug, Default)]
pub struct Quotas {
    buckets: Mutex<HashMap<String, [Bucket; 2]>>,
}

/// The per-second rate of `class` for `registrar` (0: no quota).
pub fn rate(limits: &Limits, registrar: &str, class: CommandClass) -> u32 {
    let own = limits.registrar_quotas.iter().find(|q| q.clid == registrar);
    match class {
        CommandClass::Query => own.map_or(limits.query_per_second, |q| q.query_per_second),
        CommandClass::Transform => {
            own.map_or(limits.transform_per_second, |q| q.transform_per_second)
        }
    }
}

impl Quotas {
    /// The state of `registrar`'s bucket of `class`, without taking from it.
    pub fn peek(
        &self,
        registrar: &str,
        class: CommandClass,
        rate: u32,
        now: Instant,
    ) -> QuotaState {
        let capacity = f64::from(rate);
        let tokens = self
            .buckets
            .lock()
            .ok()
            .and_then(|map| {
                map.get(registrar).map(|b| {
                    let bucket = b[slot(class)];
                    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
                    (bucket.tokens + elapsed * capacity).min(capacity)
                })
            })
            .unwrap_or(capacity);
        QuotaState {
            class,
            remaining: tokens.max(0.0).floor() as u32,
            limit: rate,
            reset_in: if capacity > 0.0 {
                ((capacity - tokens) / capacity).ceil().max(0.0) as u32
            } else {
                0
            },
        }
    }

    /// Takes one command of `class` from `registrar`'s bucket of `rate`
    /// per second: `Ok` with the state after it, `Err` when the bucket is
    /// empty. A rate of 0 means no quota.
    pub fn take(
        &self,
        registrar: &str,
        class: CommandClass,
        rate: u32,
        now: Instant,
    ) -> Result<QuotaState, QuotaState> {
        let unlimited = QuotaState {
            class,
            remaining: 0,
            limit: 0,
            reset_in: 0,
        };
        if rate == 0 {
            return Ok(unlimited);
        }
        let capacity = f64::from(rate);
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(unlimited);
        };
        let full = Bucket {
            tokens: capacity,
            at: now,
        };
        let buckets = match map.get_mut(registrar) {
            Some(b) => b,
            None => map.entry(registrar.to_owned()).or_insert([full; 2]),
        };
        let bucket = &mut buckets[slot(class)];
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * capacity).min(capacity);
        bucket.at = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        let state = QuotaState {
            class,
            remaining: bucket.tokens.max(0.0).floor() as u32,
            limit: rate,
            reset_in: ((capacity - bucket.tokens) / capacity).ceil().max(0.0) as u32,
        };
        if allowed { Ok(state) } else { Err(state) }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn classes_follow_the_command() {
        use crate::model::{Command, ObjectKind};
        assert_eq!(
            CommandClass::of(&Command::Check(ObjectKind::Domain, vec![])),
            CommandClass::Query
        );
        assert_eq!(CommandClass::of(&Command::PollRequest), CommandClass::Query);
        assert_eq!(
            CommandClass::of(&Command::PollAck("1".into())),
            CommandClass::Query
        );
        assert_eq!(
            CommandClass::of(&Command::DomainDelete("x.ma".into())),
            CommandClass::Transform
        );
        assert_eq!(
            CommandClass::of(&Command::HostDelete("ns1.x.ma".into())),
            CommandClass::Transform
        );
    }

    #[test]
    fn a_bucket_empties_then_refills_with_time() {
        let quotas = Quotas::default();
        let t0 = Instant::now();
        for n in (0..3).rev() {
            let state = quotas.take("reg1", CommandClass::Transform, 3, t0);
            assert_eq!(state.map(|s| s.remaining), Ok(n));
        }
        let refused = quotas.take("reg1", CommandClass::Transform, 3, t0);
        assert_eq!(refused.map_err(|s| (s.remaining, s.reset_in)), Err((0, 1)));
        // Queries have their own bucket; another registrar too.
        assert!(quotas.take("reg1", CommandClass::Query, 3, t0).is_ok());
        assert!(quotas.take("reg2", CommandClass::Transform, 3, t0).is_ok());
        // A third of a second later, one more transform is allowed.
        let later = t0 + Duration::from_millis(340);
        assert!(
            quotas
                .take("reg1", CommandClass::Transform, 3, later)
                .is_ok()
        );
        assert!(
            quotas
                .take("reg1", CommandClass::Transform, 3, later)
                .is_err()
        );
        // No quota at rate 0.
        assert!(
            quotas
                .take("reg1", CommandClass::Transform, 0, later)
                .is_ok()
        );
    }
}

/// Per-address guards in front of the sessions: new connections (TLS
/// handshakes) per second, and failed logins in a sliding window, so that
/// one address can neither exhaust the server's handshakes nor guess
/// passwords at length.
#[derive(Debug, Default)]
pub struct AddressGuard {
    connections: Mutex<HashMap<std::net::IpAddr, Bucket>>,
    failures: Mutex<HashMap<std::net::IpAddr, (u32, Instant)>>,
}

/// Entries kept per map before old ones are dropped.
const ADDRESS_ENTRIES: usize = 65_536;

impl AddressGuard {
    /// Whether `ip` may open one more connection at `per_second`
    /// (0: no limit).
    pub fn admit(&self, ip: std::net::IpAddr, per_second: u32, now: Instant) -> bool {
        if per_second == 0 {
            return true;
        }
        let Ok(mut map) = self.connections.lock() else {
            return true;
        };
        let capacity = f64::from(per_second);
        if map.len() >= ADDRESS_ENTRIES {
            map.retain(|_, b| now.saturating_duration_since(b.at).as_secs() < 2);
        }
        let bucket = map.entry(ip).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * capacity).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether `ip` has had `max` failed logins within `window` (0: no limit).
    pub fn locked_out(
        &self,
        ip: std::net::IpAddr,
        max: u32,
        window: std::time::Duration,
        now: Instant,
    ) -> bool {
        if max == 0 {
            return false;
        }
        let Ok(map) = self.failures.lock() else {
            return false;
        };
        map.get(&ip)
            .is_some_and(|(n, since)| *n >= max && now.saturating_duration_since(*since) < window)
    }

    /// Counts a failed login from `ip`; a window that has passed starts again.
    pub fn failed(&self, ip: std::net::IpAddr, window: std::time::Duration, now: Instant) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= ADDRESS_ENTRIES {
            map.retain(|_, (_, since)| now.saturating_duration_since(*since) < window);
        }
        let entry = map.entry(ip).or_insert((0, now));
        if now.saturating_duration_since(entry.1) >= window {
            *entry = (0, now);
        }
        entry.0 += 1;
    }
}

#[cfg(test)]
mod address_tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::Duration;

    use super::*;

    #[test]
    fn an_address_is_held_to_its_connection_rate_and_failure_count() {
        let guard = AddressGuard::default();
        let a = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let b = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
        let t0 = Instant::now();
        assert!((0..2).all(|_| guard.admit(a, 2, t0)));
        assert!(!guard.admit(a, 2, t0));
        assert!(guard.admit(b, 2, t0), "another address has its own bucket");
        assert!(guard.admit(a, 2, t0 + Duration::from_millis(600)));
        let window = Duration::from_secs(300);
        for _ in 0..3 {
            assert!(!guard.locked_out(a, 3, window, t0));
            guard.failed(a, window, t0);
        }
        assert!(guard.locked_out(a, 3, window, t0));
        assert!(!guard.locked_out(b, 3, window, t0));
        assert!(
            !guard.locked_out(a, 3, window, t0 + window),
            "the window passed"
        );
    }
}
