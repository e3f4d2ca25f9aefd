//! The TOML configuration file → validated [`Settings`]. Every setting has a
//! default, so the server runs with no file at all. Unknown keys are errors.
//! This file owns [`Settings`], the zones and the defaults; each group of
//! sections has a file of its own, and [`load`] reads and validates.

mod load;
mod registry;
mod server;
mod services;
mod storage;
#[cfg(test)]
mod tests;

use serde::Deserialize;

pub use load::ConfigError;
pub use registry::{
    AuthInfoSettings, Billable, BillingSettings, LifecycleSettings, PolicySettings, ZonePrices,
    format_amount, to_centimes,
};
pub use server::{
    CommandLog, Limits, LogFormat, LogSettings, LoginSettings, MetricsSettings, RegistrarQuota,
    ServerSettings, TlsSettings,
};
pub use services::{DnsSettings, MailSettings, RdapSettings, RegistryNameserver, WhoisSettings};
pub use storage::{StoreBackend, StoreSettings};

/// A registry zone (R1): a suffix under which one label may be registered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    /// The suffix, e.g. `co.ma`.
    pub name: String,
    /// Whether a create needs the registry's approval and a proof of right (R2).
    #[serde(default)]
    pub restricted: bool,
}

/// All settings, as read from the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Listener and identity.
    pub server: ServerSettings,
    /// TLS files.
    pub tls: TlsSettings,
    /// Limits and timeouts.
    pub limits: Limits,
    /// Login security (RFC 8807).
    pub login: LoginSettings,
    /// The store.
    pub store: StoreSettings,
    /// The life-cycle engine.
    pub lifecycle: LifecycleSettings,
    /// authInfo policy.
    pub authinfo: AuthInfoSettings,
    /// Charter settings.
    pub policy: PolicySettings,
    /// Billing (R23).
    pub billing: BillingSettings,
    /// WHOIS (R16).
    pub whois: WhoisSettings,
    /// RDAP, the JSON lookups over HTTP.
    pub rdap: RdapSettings,
    /// Mail to registrants (R12).
    pub mail: MailSettings,
    /// The DNS zones written by `admin zone export`.
    pub dns: DnsSettings,
    /// The zones (R1).
    pub zones: Vec<Zone>,
    /// The server's log.
    pub log: LogSettings,
    /// The metrics and health endpoint.
    pub metrics: MetricsSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings::default(),
            tls: TlsSettings::default(),
            limits: Limits::default(),
            login: LoginSettings::default(),
            store: StoreSettings::default(),
            lifecycle: LifecycleSettings::default(),
            authinfo: AuthInfoSettings::default(),
            policy: PolicySettings::default(),
            billing: BillingSettings::default(),
            whois: WhoisSettings::default(),
            rdap: RdapSettings::default(),
            mail: MailSettings::default(),
            dns: DnsSettings::default(),
            log: LogSettings::default(),
            metrics: MetricsSettings::default(),
            zones: default_zones(),
        }
    }
}

/// The seven `.ma` zones of the charter (R1, R2).
pub fn default_zones() -> Vec<Zone> {
    [
        ("ma", false),
        ("co.ma", false),
        ("net.ma", false),
        ("org.ma", false),
        ("ac.ma", true),
        ("gov.ma", true),
        ("press.ma", true),
    ]
    .into_iter()
    .map(|(name, restricted)| Zone {
        name: name.into(),
        restricted,
    })
    .collect()
}
