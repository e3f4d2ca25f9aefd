//! The server's own sections: `[server]` (listener and identity), `[tls]`,
//! `[limits]` with the registrars' quotas, `[login]`, `[metrics]` and `[log]`.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

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
