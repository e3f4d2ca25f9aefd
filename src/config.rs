//! The TOML configuration file → validated [`Settings`]. Every setting has a
//! default, so the server runs with no file at all. Unknown keys are errors.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

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

/// Listener and identity settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// EPP listen address (IANA port 700 by default).
    pub epp_listen: SocketAddr,
    /// The `svID` of the greeting.
    pub server_id: String,
    /// The sled store's directory.
    pub data_dir: PathBuf,
    /// Connections the kernel may hold for the EPP listener until the
    /// server accepts them (the `listen` backlog; the kernel caps it at
    /// `net.core.somaxconn`).
    pub listen_backlog: u32,
    /// At shutdown (SIGTERM), how long a session still waits for a command
    /// its client had already sent before it closes (milliseconds).
    pub shutdown_grace_ms: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            epp_listen: SocketAddr::from(([0, 0, 0, 0], 700)),
            server_id: "ma-registry".into(),
            data_dir: PathBuf::from("data"),
            listen_backlog: 1024,
            shutdown_grace_ms: 500,
        }
    }
}

/// TLS files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSettings {
    /// The server certificate chain (PEM).
    pub cert: PathBuf,
    /// The server private key (PEM).
    pub key: PathBuf,
    /// The CA that issues registrars' client certificates (PEM).
    pub client_ca: PathBuf,
}

impl Default for TlsSettings {
    fn default() -> Self {
        Self {
            cert: PathBuf::from("certs/server.pem"),
            key: PathBuf::from("certs/server.key"),
            client_ca: PathBuf::from("certs/ca.pem"),
        }
    }
}

/// Protocol limits and timeouts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest frame accepted, header included (bytes).
    pub max_frame_bytes: u32,
    /// Time allowed to complete the TLS handshake (seconds).
    pub handshake_timeout_secs: u64,
    /// Time allowed to receive the rest of a frame once it started (seconds).
    pub frame_timeout_secs: u64,
    /// Time a session may stay silent between commands (seconds).
    pub idle_timeout_secs: u64,
    /// Time allowed to send a response (seconds).
    pub write_timeout_secs: u64,
    /// Failed logins after which a session is closed with 2501.
    pub max_login_failures: u32,
    /// Concurrent sessions per registrar, unless the registrar has its own.
    pub default_session_limit: u32,
    /// Most names in one `<check>`.
    pub max_check_names: usize,
    /// Deepest XML nesting accepted.
    pub max_xml_depth: usize,
    /// Most XML elements in one frame.
    pub max_xml_elements: usize,
    /// Largest attribute value or text node (bytes).
    pub max_xml_value_bytes: usize,
    /// Queries (check, info, poll, transfer query) a registrar may send per
    /// second, across its sessions; 0: no quota.
    pub query_per_second: u32,
    /// Transforms (create, update, delete, renew, transfer) per second; 0: no quota.
    pub transform_per_second: u32,
    /// Quotas of particular registrars, instead of the two above.
    pub registrar_quotas: Vec<RegistrarQuota>,
    /// New connections (TLS handshakes) one address may open per second;
    /// 0: no limit. Over it, the connection is closed before TLS.
    pub connections_per_second_per_address: u32,
    /// Failed logins one address may make within
    /// `login_failure_window_secs`; 0: no limit. Then every login from it
    /// is refused (2501) until the window passes.
    pub login_failures_per_address: u32,
    /// The window of `login_failures_per_address` (seconds).
    pub login_failure_window_secs: u64,
    /// Time a connection may take to log in, from its greeting (seconds);
    /// a session not logged in by then is closed.
    pub login_timeout_secs: u64,
    /// Sessions past their TLS handshake and not logged in yet the server
    /// holds at once, from every address together; over it a new
    /// connection is closed after its handshake, before the greeting.
    pub max_unauthenticated_sessions: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 * 1024,
            handshake_timeout_secs: 10,
            frame_timeout_secs: 30,
            idle_timeout_secs: 600,
            write_timeout_secs: 30,
            max_login_failures: 3,
            default_session_limit: 10,
            max_check_names: 50,
            max_xml_depth: 24,
            max_xml_elements: 4096,
            max_xml_value_bytes: 8 * 1024,
            query_per_second: 2000,
            transform_per_second: 200,
            registrar_quotas: Vec::new(),
            connections_per_second_per_address: 100,
            login_failures_per_address: 20,
            login_failure_window_secs: 300,
            login_timeout_secs: 30,
            max_unauthenticated_sessions: 256,
        }
    }
}

/// Login security (RFC 8807): password age, the warnings a login answer
/// carries, and the rules for a registrar's new password.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginSettings {
    /// Days a registrar's password stays valid after it is set; 0: it never
    /// expires. An expired password logs in only together with a new one.
    pub password_max_age_days: u32,
    /// Days before the password expires from which a login is warned.
    pub password_warning_days: u32,
    /// Days before the client certificate expires from which a login is warned.
    pub certificate_warning_days: u32,
    /// The fewest characters of a new password set at login.
    pub new_password_min_length: usize,
}

impl Default for LoginSettings {
    fn default() -> Self {
        Self {
            password_max_age_days: 0,
            password_warning_days: 30,
            certificate_warning_days: 30,
            new_password_min_length: 8,
        }
    }
}

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

/// The life-cycle engine.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleSettings {
    /// Seconds between two sweeps inside `serve`.
    pub interval_secs: u64,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        Self { interval_secs: 60 }
    }
}

/// authInfo policy (RFC 9154).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthInfoSettings {
    /// Days an authInfo works after it was set; 0 means forever.
    pub ttl_days: u32,
}

impl Default for AuthInfoSettings {
    fn default() -> Self {
        Self { ttl_days: 30 }
    }
}

/// Charter settings the sources leave to the registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicySettings {
    /// R15: days after a create or an ownership change by which the
    /// registrant's identity must be verified, else the domain is suspended.
    pub identity_verification_days: u32,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            identity_verification_days: 15,
        }
    }
}

/// One zone's prices (R23), per year, in the billing currency.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZonePrices {
    /// The zone.
    pub zone: String,
    /// Create, per year.
    #[serde(default)]
    pub create: f64,
    /// Renew (and tacit renewal), per year.
    #[serde(default)]
    pub renew: f64,
    /// Restore from redemption (one year).
    #[serde(default)]
    pub restore: f64,
    /// Change of ownership (one year).
    #[serde(default)]
    pub ownership: f64,
}

/// Billing (R23).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BillingSettings {
    /// ISO 4217 currency code.
    pub currency: String,
    /// Prices per zone; a zone without prices costs nothing.
    pub prices: Vec<ZonePrices>,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            currency: "MAD".into(),
            prices: Vec::new(),
        }
    }
}

/// What a registrar is billed for (R23).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billable {
    /// `domain:create`.
    Create,
    /// `domain:renew` and the tacit renewal.
    Renew,
    /// RFC 3915 restore.
    Restore,
    /// Change of ownership (R13).
    Ownership,
}

impl BillingSettings {
    /// The price of `years` of `what` in `zone`, in centimes.
    pub fn price(&self, zone: &str, what: Billable, years: u32) -> i64 {
        let Some(p) = self.prices.iter().find(|p| p.zone == zone) else {
            return 0;
        };
        let per_year = match what {
            Billable::Create => p.create,
            Billable::Renew => p.renew,
            Billable::Restore => p.restore,
            Billable::Ownership => p.ownership,
        };
        to_centimes(per_year) * i64::from(years)
    }
}

/// An amount in currency units → centimes.
pub fn to_centimes(amount: f64) -> i64 {
    // Prices are validated finite and non-negative with at most 2 decimals.
    (amount * 100.0).round() as i64
}

/// Centimes → `123.45`.
pub fn format_amount(centimes: i64) -> String {
    let sign = if centimes < 0 { "-" } else { "" };
    let abs = centimes.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// One registrar's command quotas (`[[limits.registrar_quotas]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrarQuota {
    /// The registrar's clID.
    pub clid: String,
    /// Queries per second; 0: no quota.
    pub query_per_second: u32,
    /// Transforms per second; 0: no quota.
    pub transform_per_second: u32,
}

/// The WHOIS service (R16).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhoisSettings {
    /// Whether the WHOIS service runs.
    pub enabled: bool,
    /// Listen address (TCP port 43).
    pub listen: Option<SocketAddr>,
    /// Queries each client address may make per minute.
    pub queries_per_minute: u32,
    /// WHOIS connections open at once, from every address together.
    pub max_connections: u32,
    /// WHOIS connections open at once from one address.
    pub max_connections_per_address: u32,
    /// Time a connection has to send its query line, and then to take
    /// the answer (seconds).
    pub query_timeout_secs: u64,
}

impl Default for WhoisSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: Some(SocketAddr::from(([0, 0, 0, 0], 43))),
            queries_per_minute: 60,
            max_connections: 256,
            max_connections_per_address: 16,
            query_timeout_secs: 5,
        }
    }
}

/// The RDAP service (`[rdap]`, RFC 7480–7484, 9082, 9083): the same
/// public data as WHOIS, as JSON over HTTP. Off unless `listen` is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RdapSettings {
    /// Where RDAP is served over plain HTTP, e.g. `127.0.0.1:8080`; none
    /// by default. Put a TLS reverse proxy in front of it.
    pub listen: Option<SocketAddr>,
    /// The public URL the service is reached at (`https://rdap.nic.ma`),
    /// for the `self` and help links; without it, `http://` and the
    /// request's `Host` header.
    pub base_url: Option<String>,
    /// The WHOIS host named in `port43`; empty: no `port43` member.
    pub port43: String,
    /// Where the terms of use are; without it, the service's own `/help`.
    pub terms_url: Option<String>,
    /// Whether `/domains?name=PATTERN` (a name, or a prefix and a trailing
    /// `*`) is answered.
    pub search: bool,
    /// The most domains one search answers.
    pub search_max_results: u32,
    /// Queries each client address may make per minute.
    pub queries_per_minute: u32,
    /// RDAP connections open at once, from every address together.
    pub max_connections: u32,
    /// RDAP connections open at once from one address.
    pub max_connections_per_address: u32,
    /// Time a connection may stay without reading or writing (seconds).
    pub idle_timeout_secs: u64,
    /// Reverse proxies whose `X-Forwarded-For` names the client, for the
    /// per-address rate limit.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for RdapSettings {
    fn default() -> Self {
        Self {
            listen: None,
            base_url: None,
            port43: "whois.nic.ma".into(),
            terms_url: None,
            search: false,
            search_max_results: 20,
            queries_per_minute: 60,
            max_connections: 256,
            max_connections_per_address: 16,
            idle_timeout_secs: 10,
            trusted_proxies: Vec::new(),
        }
    }
}

impl RdapSettings {
    /// Checks the values and drops a trailing `/` of the URLs.
    fn validate(&mut self) -> Result<(), ConfigError> {
        for (key, url) in [
            ("base_url", &mut self.base_url),
            ("terms_url", &mut self.terms_url),
        ] {
            if let Some(url) = url {
                let trimmed = url.trim().trim_end_matches('/').to_owned();
                let scheme = trimmed
                    .strip_prefix("https://")
                    .or_else(|| trimmed.strip_prefix("http://"));
                if scheme.is_none_or(|rest| rest.is_empty() || rest.contains(char::is_whitespace)) {
                    return Err(ConfigError::Invalid(format!(
                        "rdap.{key} must be an http:// or https:// URL"
                    )));
                }
                *url = trimmed;
            }
        }
        if !self.port43.is_empty() && dns_name(&self.port43).is_none() {
            return Err(ConfigError::Invalid(format!(
                "rdap.port43 {:?} is not a valid DNS name",
                self.port43
            )));
        }
        if !(1..=100).contains(&self.search_max_results) {
            return Err(ConfigError::Invalid(
                "rdap.search_max_results must be between 1 and 100".into(),
            ));
        }
        if self.max_connections == 0 || self.max_connections_per_address == 0 {
            return Err(ConfigError::Invalid(
                "rdap.max_connections and rdap.max_connections_per_address must be at least 1"
                    .into(),
            ));
        }
        if self.max_connections_per_address > self.max_connections {
            return Err(ConfigError::Invalid(
                "rdap.max_connections_per_address must not exceed rdap.max_connections".into(),
            ));
        }
        if !(1..=300).contains(&self.idle_timeout_secs) {
            return Err(ConfigError::Invalid(
                "rdap.idle_timeout_secs must be between 1 and 300".into(),
            ));
        }
        Ok(())
    }
}

/// The mail outbox: messages to registrants (R12's authInfo fallback).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSettings {
    /// The sender, e.g. `Registre .ma <registre@nic.ma>`.
    pub from: String,
    /// An SMTP relay URL (`smtp://host:25`, `smtp://host:587?tls=required`,
    /// `smtps://user:password@host:465`). Without one, messages are written
    /// as `.eml` files into `outbox`.
    pub smtp_relay: Option<String>,
    /// The folder of `.eml` files when no relay is set; relative to the
    /// data directory. Default `outbox`.
    pub outbox: PathBuf,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            from: "Registre .ma <registre@nic.ma>".into(),
            smtp_relay: None,
            outbox: PathBuf::from("outbox"),
        }
    }
}

/// One of the registry's own name servers: it serves every zone, and
/// `ma.zone` delegates the sub-zones (`co.ma`, …) to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryNameserver {
    /// Its name, e.g. `ns1.nic.ma`.
    pub name: String,
    /// Its addresses, written as address records in every zone the name is
    /// inside of (an in-zone name server needs them for the zone to load).
    #[serde(default)]
    pub addresses: Vec<std::net::IpAddr>,
}

/// The DNS zones written by `admin zone export`: SOA fields, default TTL
/// and the registry's name servers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsSettings {
    /// The default TTL (`$TTL`), seconds.
    pub ttl: u32,
    /// The SOA MNAME: the primary name server.
    pub mname: String,
    /// The SOA RNAME: the zone's mailbox, as a domain name
    /// (`hostmaster.nic.ma`) or an address (`hostmaster@nic.ma`).
    pub rname: String,
    /// SOA refresh, seconds.
    pub refresh: u32,
    /// SOA retry, seconds.
    pub retry: u32,
    /// SOA expire, seconds.
    pub expire: u32,
    /// SOA minimum: the TTL of negative answers (RFC 2308), seconds.
    pub minimum: u32,
    /// The registry's name servers (NS of every zone).
    pub nameservers: Vec<RegistryNameserver>,
}

impl Default for DnsSettings {
    fn default() -> Self {
        Self {
            ttl: 3600,
            mname: "ns1.nic.ma".into(),
            rname: "hostmaster.nic.ma".into(),
            refresh: 10800,
            retry: 3600,
            expire: 1_209_600,
            minimum: 3600,
            nameservers: ["ns1.nic.ma", "ns2.nic.ma"]
                .into_iter()
                .map(|name| RegistryNameserver {
                    name: name.into(),
                    addresses: Vec::new(),
                })
                .collect(),
        }
    }
}

impl DnsSettings {
    /// Normalizes the names (lower case, no trailing dot, `@` of RNAME
    /// turned into a dot) and checks every value.
    fn validate(&mut self) -> Result<(), ConfigError> {
        let invalid = |what: &str, name: &str| {
            ConfigError::Invalid(format!("dns.{what} {name:?} is not a valid DNS name"))
        };
        self.mname = dns_name(&self.mname).ok_or_else(|| invalid("mname", &self.mname))?;
        self.rname = dns_name(&self.rname.replacen('@', ".", 1))
            .ok_or_else(|| invalid("rname", &self.rname))?;
        if self.nameservers.is_empty() {
            return Err(ConfigError::Invalid(
                "dns.nameservers must list at least one name server".into(),
            ));
        }
        for ns in &mut self.nameservers {
            ns.name = dns_name(&ns.name).ok_or_else(|| invalid("nameservers.name", &ns.name))?;
        }
        let mut names: Vec<&str> = self.nameservers.iter().map(|n| n.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err(ConfigError::Invalid(
                "dns.nameservers lists a name server twice".into(),
            ));
        }
        let fields = [
            ("ttl", self.ttl),
            ("refresh", self.refresh),
            ("retry", self.retry),
            ("expire", self.expire),
            ("minimum", self.minimum),
        ];
        for (key, value) in fields {
            // RFC 2181 §8: a TTL is at most 2^31 - 1.
            if value == 0 || value > 0x7fff_ffff {
                return Err(ConfigError::Invalid(format!(
                    "dns.{key} must be between 1 and 2147483647 seconds"
                )));
            }
        }
        Ok(())
    }
}

/// A host name in lower case without its trailing dot, when every label is
/// a letter-digit-hyphen label.
fn dns_name(raw: &str) -> Option<String> {
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    (name.contains('.') && name.len() <= 253 && name.split('.').all(is_ldh_label)).then_some(name)
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

/// The metrics and health endpoint (`[metrics]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Where `/metrics` (Prometheus text format) and `/health` are served
    /// over plain HTTP, e.g. `127.0.0.1:9700`; none by default. Keep it on
    /// loopback or a management network: it needs no credentials.
    pub listen: Option<SocketAddr>,
}

/// The server's log (`[log]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `text` (one line per event) or `json` (one JSON object per line, for
    /// log shippers). `MA_REGISTRY_LOG_FORMAT` overrides it.
    pub format: LogFormat,
    /// Which commands get their line at `info`: `transforms` (transforms,
    /// logins and every refused command; successful queries at `debug`) or
    /// `all`.
    pub commands: CommandLog,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            commands: CommandLog::Transforms,
        }
    }
}

/// The log's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Which commands the log shows at `info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandLog {
    /// Transforms, logins and refusals; successful queries at `debug`.
    Transforms,
    /// Every command.
    All,
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

fn is_ldh_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults_with_the_seven_zones() {
        let s = Settings::from_toml("").unwrap();
        assert_eq!(s.zones.len(), 7);
        assert!(s.zones.iter().any(|z| z.name == "gov.ma" && z.restricted));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(Settings::from_toml("[server]\nepp_port = 7").is_err());
        assert!(Settings::from_toml("bogus = 1").is_err());
    }

    #[test]
    fn a_parse_error_names_the_place_never_the_line_text() {
        let err = Settings::from_toml(
            "[mail]\nfrom = \"r@nic.ma\"\nsmtp_relai = \"smtps://u:Relay-Secret@h\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(!err.contains("Relay-Secret"), "{err}");
        assert!(err.contains("line 3, column 1"), "{err}");
        assert!(err.contains("smtp_relai"), "{err}");
    }

    #[test]
    fn the_listen_backlog_is_1024_unless_set_and_never_0() {
        assert_eq!(Settings::default().server.listen_backlog, 1024);
        let s = Settings::from_toml("[server]\nlisten_backlog = 4096").unwrap();
        assert_eq!(s.server.listen_backlog, 4096);
        assert!(Settings::from_toml("[server]\nlisten_backlog = 0").is_err());
        assert!(Settings::from_toml("[server]\nlisten_backlog = 70000").is_err());
    }

    #[test]
    fn zone_of_picks_the_longest_suffix() {
        let s = Settings::default();
        assert_eq!(s.zone_of("exemple.co.ma").unwrap().name, "co.ma");
        assert_eq!(s.zone_of("exemple.ma").unwrap().name, "ma");
        assert!(s.zone_of("ma").is_none());
        assert!(s.zone_of("exemple.com").is_none());
        assert!(s.zone_of("xma").is_none());
    }

    #[test]
    fn dns_names_are_normalized_and_bad_values_refused() {
        let s = Settings::from_toml(
            "[dns]\nmname = \"NS1.Nic.MA.\"\nrname = \"hostmaster@nic.ma\"\n[[dns.nameservers]]\nname = \"a.tld.ma\"\naddresses = [\"192.0.2.1\"]",
        )
        .unwrap();
        assert_eq!(s.dns.mname, "ns1.nic.ma");
        assert_eq!(s.dns.rname, "hostmaster.nic.ma");
        assert_eq!(s.dns.nameservers.len(), 1);
        assert!(Settings::from_toml("[dns]\nttl = 0").is_err());
        assert!(Settings::from_toml("[dns]\nmname = \"ns 1.nic.ma\"").is_err());
        assert!(Settings::from_toml("[dns]\nnameservers = []").is_err());
    }

    #[test]
    fn whois_connection_caps_have_defaults_and_ranges() {
        let s = Settings::default();
        assert_eq!(s.whois.max_connections, 256);
        assert_eq!(s.whois.max_connections_per_address, 16);
        assert_eq!(s.whois.query_timeout_secs, 5);
        let s = Settings::from_toml(
            "[whois]\nmax_connections = 8\nmax_connections_per_address = 4\nquery_timeout_secs = 2",
        )
        .unwrap();
        assert_eq!(
            (s.whois.max_connections, s.whois.max_connections_per_address),
            (8, 4)
        );
        for bad in [
            "[whois]\nmax_connections = 0",
            "[whois]\nmax_connections_per_address = 0",
            "[whois]\nmax_connections = 4\nmax_connections_per_address = 5",
            "[whois]\nquery_timeout_secs = 0",
        ] {
            assert!(Settings::from_toml(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rdap_is_off_by_default_and_its_values_are_checked() {
        let s = Settings::default();
        assert!(s.rdap.listen.is_none() && !s.rdap.search);
        assert_eq!(s.rdap.port43, "whois.nic.ma");
        let s = Settings::from_toml(
            "[rdap]\nlisten = \"127.0.0.1:8080\"\nbase_url = \"https://rdap.nic.ma/\"\nsearch = true",
        )
        .unwrap();
        assert_eq!(s.rdap.base_url.as_deref(), Some("https://rdap.nic.ma"));
        for bad in [
            "[rdap]\nbase_url = \"rdap.nic.ma\"",
            "[rdap]\nterms_url = \"ftp://x\"",
            "[rdap]\nport43 = \"who is\"",
            "[rdap]\nsearch_max_results = 0",
            "[rdap]\nmax_connections = 2\nmax_connections_per_address = 3",
            "[rdap]\nidle_timeout_secs = 0",
        ] {
            assert!(Settings::from_toml(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_login_phase_has_a_timeout_and_a_cap() {
        let s = Settings::default();
        assert_eq!(s.limits.login_timeout_secs, 30);
        assert_eq!(s.limits.max_unauthenticated_sessions, 256);
        let s = Settings::from_toml(
            "[limits]\nlogin_timeout_secs = 5\nmax_unauthenticated_sessions = 3",
        )
        .unwrap();
        assert_eq!(s.limits.max_unauthenticated_sessions, 3);
        for bad in [
            "[limits]\nlogin_timeout_secs = 0",
            "[limits]\nmax_unauthenticated_sessions = 0",
        ] {
            assert!(Settings::from_toml(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn store_cache_has_a_default_and_a_range() {
        assert_eq!(Settings::default().store.cache_bytes(), 64 * 1024 * 1024);
        let s = Settings::from_toml("[store]\ncache_mib = 16").unwrap();
        assert_eq!(s.store.cache_bytes(), 16 * 1024 * 1024);
        assert!(Settings::from_toml("[store]\ncache_mib = 0").is_err());
        assert!(Settings::from_toml("[store]\ncache_mib = 65537").is_err());
        assert!(Settings::from_toml("[store]\ncache = 16").is_err());
    }

    #[test]
    fn shipped_sample_config_loads() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ma-registry.toml");
        Settings::load(Path::new(path)).unwrap();
    }

    #[test]
    fn load_test_config_loads_and_allows_more_sessions() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/examples/bench/ma-registry-bench.toml"
        );
        let s = Settings::load(Path::new(path)).unwrap();
        assert_eq!(s.limits.default_session_limit, 100);
    }
}
