//! `bench`: a load generator for any EPP server over TLS (RFC 5730–5734).
//! It opens N sessions, each its own TLS connection logged in as one
//! registrar, prepares what a scenario needs (contacts, domains), then
//! sends commands for a duration or a count and measures each one's
//! latency; or, in the `login` scenario, times whole connections (TCP,
//! TLS handshake, greeting, login, logout); or, in the `storm` scenario,
//! opens every session at the same moment and reports who was served.
//! The sessions log in as one registrar, or round-robin over the
//! registrars of a file. [`report`] turns the measurements into a table or
//! JSON.
//!
//! This file owns the options, the errors and the entry point; [`run`]
//! drives a run's phases, [`setup`] reaches the server and prepares the
//! sessions, [`workload`] holds what the measured sessions send.

mod commands;
pub mod report;
mod run;
mod setup;
mod workload;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use rand::Rng;

use crate::epp_client::ClientError;
pub use workload::Mix;

/// The scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// `domain:check` of random names (`--check-names` per command).
    Check,
    /// `domain:info`, round-robin over names created first (or `--names`).
    Info,
    /// `domain:create` of new names, each session with its own registrant
    /// contact created first.
    Create,
    /// A registrar's day: check, info, create and poll, weighted by `--mix`.
    Mix,
    /// A new connection per command: TCP, TLS handshake, greeting, login,
    /// logout, close.
    Login,
    /// Every session connects, handshakes and logs in at the same moment,
    /// stays logged in until every login is answered, then logs out.
    Storm,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Check => "check",
            Scenario::Info => "info",
            Scenario::Create => "create",
            Scenario::Mix => "mix",
            Scenario::Login => "login",
            Scenario::Storm => "storm",
        }
    }
}

/// `bench` options.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The server's host name or IP address.
    #[arg(long, default_value = "localhost")]
    pub host: String,
    /// The server's EPP port.
    #[arg(long, default_value_t = 700)]
    pub port: u16,
    /// The name the server certificate is verified against (SNI); default
    /// the host.
    #[arg(long)]
    pub server_name: Option<String>,
    /// Registrar clID.
    #[arg(long, default_value = "demo1")]
    pub clid: String,
    /// A file of registrars, one per line: `CLID PASSWORD [CERT KEY]`
    /// (`#` starts a comment line); the sessions go round-robin over them,
    /// instead of all logging in as --clid.
    #[arg(long, conflicts_with = "clid")]
    pub registrars: Option<PathBuf>,
    /// Registrar password.
    #[arg(long, default_value = "demo1-pass", env = "MA_REGISTRY_PASSWORD")]
    pub password: String,
    /// Client certificate (PEM); default certs/<clid>.pem.
    #[arg(long)]
    pub cert: Option<PathBuf>,
    /// Client key (PEM); default certs/<clid>.key.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// The CA that signed the server certificate (PEM).
    #[arg(long, default_value = "certs/ca.pem")]
    pub ca: PathBuf,
    /// The scenario.
    #[arg(long, value_enum, default_value_t = Scenario::Check)]
    pub scenario: Scenario,
    /// Concurrent sessions (each its own TLS connection).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub sessions: u32,
    /// Seconds of measurement (the default is 10 without --count).
    #[arg(long, conflicts_with = "count", value_parser = positive_secs)]
    pub duration: Option<f64>,
    /// Total commands to send, over all sessions.
    #[arg(long)]
    pub count: Option<u64>,
    /// The zone suffix of the names.
    #[arg(long, default_value = "ma", value_parser = zone_suffix)]
    pub zone: String,
    /// The first characters of every name made (letters, digits, hyphens);
    /// default `bench-` and six random characters, new each run.
    #[arg(long, value_parser = check_prefix)]
    pub prefix: Option<String>,
    /// Names per `domain:check` command.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub check_names: u32,
    /// Domains to create for `info` and `mix` before measuring.
    #[arg(long, default_value_t = 200)]
    pub domains: u64,
    /// A file of existing names (one per line) to `info` instead of creating some.
    #[arg(long)]
    pub names: Option<PathBuf>,
    /// An XML fragment put in the `<extension>` of every contact create (for
    /// ma-registry: an `ma:create` with the registrant's `ma:identity`).
    #[arg(long)]
    pub contact_extension: Option<PathBuf>,
    /// An extension URI to list at login in `<svcExtension>` (repeatable).
    #[arg(long = "ext-uri")]
    pub ext_uris: Vec<String>,
    /// The weights of the `mix` scenario.
    #[arg(long, default_value = "check=70,info=20,create=5,poll=5", value_parser = Mix::parse)]
    pub mix: Mix,
    /// Let the client resume TLS sessions (without it every connection does
    /// a full handshake).
    #[arg(long)]
    pub tls_resumption: bool,
    /// Seconds to wait for a connection or a response.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Worker threads of the load generator (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// The session language asked at login.
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json_out: Option<PathBuf>,
}

/// Why a run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// An option is not usable.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The host name did not resolve.
    #[error("cannot resolve {addr}: {detail}")]
    Resolve {
        /// `host:port`.
        addr: String,
        /// Why.
        detail: String,
    },
    /// The client could not be set up or a session not opened.
    #[error("{0}")]
    Client(#[from] ClientError),
    /// A command of the preparation (login, contact or domain create) failed.
    #[error("{what} answered {code}: {msg}")]
    Refused {
        /// The command.
        what: String,
        /// Its result code.
        code: u16,
        /// The server's message.
        msg: String,
    },
    /// The latency histogram could not be made.
    #[error("histogram: {0}")]
    Histogram(#[from] hdrhistogram::CreationError),
    /// The async runtime could not start, or the report not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs `bench` and writes its report (a table, or JSON with `--json`) to
/// `out`. Exit code 0 when every measured command succeeded, 1 otherwise.
///
/// # Errors
/// Unusable options or files, a server that cannot be reached or refuses
/// the login, a preparation that fails.
pub fn main(args: &BenchArgs, out: &mut dyn Write) -> Result<ExitCode, BenchError> {
    // One socket per session.
    let _ = crate::sys::raise_open_files_limit();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(threads) = args.threads {
        runtime.worker_threads(threads.max(1));
    }
    let report = runtime.build()?.block_on(run::run(args))?;
    if let Some(path) = &args.json_out {
        std::fs::write(path, report.json() + "\n")?;
    }
    if args.json {
        writeln!(out, "{}", report.json())?;
    } else {
        write!(out, "{}", report.table())?;
    }
    Ok(if report.total.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn positive_secs(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs.is_finite() => Ok(secs),
        _ => Err("a positive number of seconds".into()),
    }
}

fn zone_suffix(text: &str) -> Result<String, String> {
    let zone = text.trim_matches('.').to_ascii_lowercase();
    if zone.is_empty() {
        Err("an empty zone".into())
    } else {
        Ok(zone)
    }
}

fn check_prefix(prefix: &str) -> Result<String, String> {
    let prefix = prefix.to_ascii_lowercase();
    let ok = !prefix.is_empty()
        && prefix.len() <= 40
        && !prefix.starts_with('-')
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(prefix)
    } else {
        Err("use 1 to 40 letters, digits and hyphens, not starting with a hyphen".into())
    }
}

fn random_tag(rng: &mut impl Rng, len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

fn read_file(path: &PathBuf) -> Result<String, BenchError> {
    std::fs::read_to_string(path).map_err(|source| BenchError::File {
        path: path.clone(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_label_characters() {
        assert_eq!(check_prefix("Load-1").unwrap(), "load-1");
        for bad in ["", "-x", "a.b", "é", &"a".repeat(41)] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
        assert_eq!(zone_suffix(".Co.MA.").unwrap(), "co.ma");
        assert!(zone_suffix("..").is_err());
        assert_eq!(positive_secs("2.5").unwrap(), 2.5);
        for bad in ["0", "-1", "inf", "x"] {
            assert!(positive_secs(bad).is_err(), "{bad}");
        }
    }
}
