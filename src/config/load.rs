//! Reading the file and validating it: [`ConfigError`], `Settings::load`,
//! `Settings::from_toml`, `Settings::validate`, and the zone look-ups.

use std::path::{Path, PathBuf};

use super::{Settings, StoreBackend, StoreSettings, Zone};

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for these settings. Said by line and
    /// column, without the line's text: a line of the file may hold a
    /// secret (the SMTP relay's password), and this message goes to the
    /// server's log.
    #[error("invalid configuration {}, line {line}, column {column}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// The column, from 1.
        column: usize,
        /// Why.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Reads and validates a TOML file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|err| match err {
            ConfigError::Parse {
                line,
                column,
                message,
                ..
            } => ConfigError::Parse {
                path: path.to_owned(),
                line,
                column,
                message,
            },
            other => other,
        })
    }

    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let mut settings: Settings = toml::from_str(text).map_err(|err| {
            let at = err.span().map_or(0, |span| span.start).min(text.len());
            let before = text.get(..at).unwrap_or_default();
            let line = before.matches('\n').count() + 1;
            let column = before
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .chars()
                .count()
                + 1;
            ConfigError::Parse {
                path: PathBuf::new(),
                line,
                column,
                message: err.message().trim_end().to_owned(),
            }
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Normalizes zone names and checks every limit.
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        if self.zones.is_empty() {
            return Err(ConfigError::Invalid("at least one zone is required".into()));
        }
        if self.login.new_password_min_length < 6 {
            return Err(ConfigError::Invalid(
                "login.new_password_min_length must be at least 6 (RFC 5730)".into(),
            ));
        }
        for zone in &mut self.zones {
            zone.name = zone.name.trim_matches('.').to_ascii_lowercase();
            if zone.name.is_empty() || !zone.name.split('.').all(is_ldh_label) {
                return Err(ConfigError::Invalid(format!(
                    "zone {:?} is not a valid DNS name",
                    zone.name
                )));
            }
        }
        let mut names: Vec<&str> = self.zones.iter().map(|z| z.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err(ConfigError::Invalid("a zone is listed twice".into()));
        }
        let l = &self.limits;
        if l.max_frame_bytes < 512 || l.max_frame_bytes > 16 * 1024 * 1024 {
            return Err(ConfigError::Invalid(
                "limits.max_frame_bytes must be between 512 and 16 MiB".into(),
            ));
        }
        let currency_ok = self.billing.currency.len() == 3
            && self
                .billing
                .currency
                .bytes()
                .all(|b| b.is_ascii_uppercase());
        if !currency_ok {
            return Err(ConfigError::Invalid(
                "billing.currency must be a 3-letter ISO 4217 code".into(),
            ));
        }
        for p in &mut self.billing.prices {
            p.zone = p.zone.trim_matches('.').to_ascii_lowercase();
            if !self.zones.iter().any(|z| z.name == p.zone) {
                return Err(ConfigError::Invalid(format!(
                    "billing.prices names zone {:?}, which is not configured",
                    p.zone
                )));
            }
            for v in [p.create, p.renew, p.restore, p.ownership] {
                if !v.is_finite() || v < 0.0 || (v * 100.0 - (v * 100.0).round()).abs() > 1e-6 {
                    return Err(ConfigError::Invalid(format!(
                        "prices of {} must be non-negative amounts with at most 2 decimals",
                        p.zone
                    )));
                }
            }
        }
        self.dns.validate()?;
        self.rdap.validate()?;
        if !(1..=65_535).contains(&self.server.listen_backlog) {
            return Err(ConfigError::Invalid(
                "server.listen_backlog must be between 1 and 65535".into(),
            ));
        }
        if self.store.backend == StoreBackend::Postgres
            && self.store.url.is_empty()
            && std::env::var_os("MA_REGISTRY_STORE_URL").is_none()
        {
            return Err(ConfigError::Invalid(
                "store.backend is \"postgres\": set store.url (or MA_REGISTRY_STORE_URL)".into(),
            ));
        }
        if self.store.backend == StoreBackend::Postgres && self.store.pool_size == 0 {
            return Err(ConfigError::Invalid(
                "store.pool_size must be at least 1".into(),
            ));
        }
        if self.store.cache_mib == 0 || self.store.cache_mib > StoreSettings::MAX_CACHE_MIB {
            return Err(ConfigError::Invalid(format!(
                "store.cache_mib must be between 1 and {}",
                StoreSettings::MAX_CACHE_MIB
            )));
        }
        if self.lifecycle.interval_secs == 0 {
            return Err(ConfigError::Invalid(
                "lifecycle.interval_secs must be at least 1".into(),
            ));
        }
        if l.login_timeout_secs == 0 || l.max_unauthenticated_sessions == 0 {
            return Err(ConfigError::Invalid(
                "limits.login_timeout_secs and limits.max_unauthenticated_sessions must be at least 1"
                    .into(),
            ));
        }
        let w = &self.whois;
        if w.max_connections == 0 || w.max_connections_per_address == 0 {
            return Err(ConfigError::Invalid(
                "whois.max_connections and whois.max_connections_per_address must be at least 1"
                    .into(),
            ));
        }
        if w.max_connections_per_address > w.max_connections {
            return Err(ConfigError::Invalid(
                "whois.max_connections_per_address must not exceed whois.max_connections".into(),
            ));
        }
        if !(1..=300).contains(&w.query_timeout_secs) {
            return Err(ConfigError::Invalid(
                "whois.query_timeout_secs must be between 1 and 300".into(),
            ));
        }
        if l.max_login_failures == 0 || l.max_check_names == 0 || l.max_xml_depth < 8 {
            return Err(ConfigError::Invalid(
                "limits.max_login_failures and limits.max_check_names must be at least 1, limits.max_xml_depth at least 8"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The zone a name's suffix belongs to: the longest configured suffix.
    pub fn zone_of<'a>(&'a self, name: &str) -> Option<&'a Zone> {
        self.zones
            .iter()
            .filter(|z| {
                name.len() > z.name.len() + 1
                    && name.ends_with(z.name.as_str())
                    && name.as_bytes()[name.len() - z.name.len() - 1] == b'.'
            })
            .max_by_key(|z| z.name.len())
    }

    /// Whether `name` is itself a configured zone.
    pub fn is_zone(&self, name: &str) -> bool {
        self.zones.iter().any(|z| z.name == name)
    }
}

pub(super) fn is_ldh_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}
