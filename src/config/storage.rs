//! `[store]`: the engine below the store (sled or PostgreSQL) and the
//! settings of each.

use std::path::PathBuf;

use serde::Deserialize;

/// The engine below the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    /// The embedded sled database in the data directory (the default).
    #[default]
    Sled,
    /// A PostgreSQL database (for a primary with a streaming standby).
    Postgres,
}

/// The store: its engine, and the settings of each engine.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSettings {
    /// `sled` (embedded, the default) or `postgres`.
    pub backend: StoreBackend,
    /// PostgreSQL: the connection URL (`postgresql://user@host:port/db`),
    /// or libpq `key=value` pairs. `MA_REGISTRY_STORE_URL` overrides it,
    /// so that a password need not be in the file.
    pub url: String,
    /// PostgreSQL: most connections the server opens.
    pub pool_size: usize,
    /// PostgreSQL: the CA certificate(s), PEM, that sign the database
    /// server's certificate; the connection uses TLS when set.
    pub ca_file: Option<PathBuf>,
    /// Sled's page cache, in MiB. Sled counts its cache by the on-disk size
    /// of the pages it holds, so the memory it takes is a few times this.
    pub cache_mib: u64,
    /// After a failed write (a full or failing disk) writes are refused;
    /// the server tries again every `recovery_interval_ms` and takes writes
    /// again, without a restart, once this much space is free (MiB).
    pub min_free_mib: u64,
    /// How often a store whose writes are suspended tries to recover (ms).
    pub recovery_interval_ms: u64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            backend: StoreBackend::Sled,
            url: String::new(),
            pool_size: 16,
            ca_file: None,
            cache_mib: 64,
            min_free_mib: 64,
            recovery_interval_ms: 1000,
        }
    }
}

/// The URL may hold a password: it is never printed.
impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("backend", &self.backend)
            .field("url", &if self.url.is_empty() { "" } else { "(set)" })
            .field("pool_size", &self.pool_size)
            .field("ca_file", &self.ca_file)
            .field("cache_mib", &self.cache_mib)
            .field("min_free_mib", &self.min_free_mib)
            .field("recovery_interval_ms", &self.recovery_interval_ms)
            .finish()
    }
}

impl StoreSettings {
    /// Most MiB `cache_mib` may ask for.
    pub const MAX_CACHE_MIB: u64 = 64 * 1024;

    /// The page cache in bytes.
    pub fn cache_bytes(&self) -> u64 {
        self.cache_mib.saturating_mul(1024 * 1024)
    }

    /// How to reach the PostgreSQL database: the URL of the settings,
    /// or of `MA_REGISTRY_STORE_URL` when that is set.
    pub fn postgres_connection(&self) -> crate::store::postgres::Connection {
        let url = std::env::var("MA_REGISTRY_STORE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| self.url.clone());
        crate::store::postgres::Connection {
            url,
            pool_size: self.pool_size,
            ca_file: self.ca_file.clone(),
        }
    }

    /// The free space recovery needs, in bytes.
    pub fn min_free_bytes(&self) -> u64 {
        self.min_free_mib.saturating_mul(1024 * 1024)
    }
}
