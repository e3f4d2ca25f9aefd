//! The one source of `now` for the server, the admin CLI and the life-cycle
//! engine. `MA_REGISTRY_NOW` (RFC 3339) starts the clock at that instant; it
//! then advances in real time. Nothing else in the crate reads the system time.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

/// The environment variable that sets the clock's starting instant.
pub const NOW_ENV: &str = "MA_REGISTRY_NOW";

/// The registry's clock: real time, or real time shifted to start at a chosen instant.
#[derive(Debug, Clone)]
pub struct Clock {
    start: DateTime<Utc>,
    started: Instant,
    shifted: bool,
}

/// An invalid `MA_REGISTRY_NOW`.
#[derive(Debug, thiserror::Error)]
#[error("{NOW_ENV}={value:?} is not an RFC 3339 instant: {source}")]
pub struct ClockError {
    value: String,
    source: chrono::ParseError,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self {
            start: Utc::now(),
            started: Instant::now(),
            shifted: false,
        }
    }

    /// A clock that starts at `start` and advances in real time.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            start,
            started: Instant::now(),
            shifted: true,
        }
    }

    /// The system clock, or the one `MA_REGISTRY_NOW` asks for.
    pub fn from_env() -> Result<Self, ClockError> {
        match std::env::var(NOW_ENV) {
            Ok(value) if !value.trim().is_empty() => DateTime::parse_from_rfc3339(value.trim())
                .map(|t| Self::starting_at(t.with_timezone(&Utc)))
                .map_err(|source| ClockError { value, source }),
            _ => Ok(Self::system()),
        }
    }

    /// Whether this clock was moved away from the system time.
    pub fn is_shifted(&self) -> bool {
        self.shifted
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        let elapsed = Duration::from_std(self.started.elapsed()).unwrap_or(Duration::zero());
        self.start + elapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_clock_starts_at_the_given_instant_and_advances() {
        let start = DateTime::parse_from_rfc3339("2015-03-15T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::starting_at(start);
        let now = clock.now();
        assert!(now >= start && now < start + Duration::seconds(5));
        assert!(clock.is_shifted());
    }
}
