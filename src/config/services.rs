//! The public services and their outputs: `[whois]`, `[rdap]`, `[mail]`
//! and `[dns]` (the zone files `admin zone export` writes).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;
use super::load::is_ldh_label;

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
    pub(super) fn validate(&mut self) -> Result<(), ConfigError> {
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
    pub(super) fn validate(&mut self) -> Result<(), ConfigError> {
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
