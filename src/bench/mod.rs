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

mod commands;
pub mod report;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::client::Resumption;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::epp_client::{
    self, ClientError, Connection, login_xml, logout_xml, random_password, result_code,
};
use report::{Report, Setup, Stats, StormSummary};

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

/// One command kind of the measured phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Check,
    Info,
    Create,
    Poll,
    Login,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Check => "check",
            Kind::Info => "info",
            Kind::Create => "create",
            Kind::Poll => "poll",
            Kind::Login => "login",
        }
    }
}

/// The weights of the `mix` scenario (`check=70,info=20,…`), as
/// cumulative thresholds.
#[derive(Debug, Clone)]
pub struct Mix {
    steps: Vec<(u32, Kind)>,
    total: u32,
}

impl Mix {
    fn parse(text: &str) -> Result<Self, String> {
        let mut steps = Vec::new();
        let mut total = 0u32;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || format!("{part:?} is not KIND=WEIGHT");
            let (kind, weight) = part.split_once('=').ok_or_else(bad)?;
            let kind = match kind.trim() {
                "check" => Kind::Check,
                "info" => Kind::Info,
                "create" => Kind::Create,
                "poll" => Kind::Poll,
                other => {
                    return Err(format!(
                        "unknown command {other:?} (check, info, create, poll)"
                    ));
                }
            };
            let weight: u32 = weight.trim().parse().map_err(|_| bad())?;
            if weight > 0 {
                total = total.saturating_add(weight);
                steps.push((total, kind));
            }
        }
        if total == 0 {
            return Err("no command has a weight".into());
        }
        Ok(Self { steps, total })
    }

    fn pick(&self, rng: &mut StdRng) -> Kind {
        let roll = rng.gen_range(0..self.total);
        self.steps
            .iter()
            .find(|(upto, _)| roll < *upto)
            .map(|(_, kind)| *kind)
            .unwrap_or(Kind::Check)
    }

    fn has(&self, kind: Kind) -> bool {
        self.steps.iter().any(|(_, k)| *k == kind)
    }
}

/// One registrar the sessions log in as.
struct Identity {
    clid: String,
    password: String,
    lang: String,
    ext_uris: Vec<String>,
    config: Arc<ClientConfig>,
}

impl Identity {
    /// A login command with a clTRID of its own.
    fn login(&self) -> Vec<u8> {
        login_xml(&self.clid, &self.password, &self.lang, &self.ext_uris)
    }
}

/// How to reach and log in to the server.
struct Target {
    addr: String,
    name: ServerName<'static>,
    /// Never empty: session `s` logs in as `identities[s % len]`.
    identities: Vec<Identity>,
    timeout: Duration,
}

impl Target {
    fn identity(&self, s: usize) -> &Identity {
        &self.identities[s % self.identities.len()]
    }

    /// Connects as session `s`'s registrar: TCP, TLS handshake, greeting.
    async fn connect(&self, s: usize) -> Result<Connection, ClientError> {
        Connection::open(
            &self.addr,
            self.name.clone(),
            self.identity(s).config.clone(),
            self.timeout,
        )
        .await
    }

    /// Connects and logs in as session `s`'s registrar; gives the login's
    /// result code with the connection.
    async fn login(&self, s: usize) -> Result<(Connection, u16), SessionError> {
        let mut conn = self.connect(s).await?;
        let response = conn.transact(&self.identity(s).login()).await?;
        match result_code(response) {
            Some(code) if code < 2000 => Ok((conn, code)),
            code => Err(SessionError::Refused(code, message(response))),
        }
    }

    /// Connects and logs in as session `s`'s registrar.
    async fn session(&self, s: usize) -> Result<Connection, SessionError> {
        self.login(s).await.map(|(conn, _)| conn)
    }
}

/// One line of a `--registrars` file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RegistrarLine {
    clid: String,
    password: String,
    /// The certificate and key, when the line gives them.
    files: Option<(PathBuf, PathBuf)>,
}

/// Parses a `--registrars` file: `CLID PASSWORD [CERT KEY]` per line,
/// separated by spaces or tabs; empty lines and lines starting with `#`
/// are skipped.
fn parse_registrars(text: &str) -> Result<Vec<RegistrarLine>, String> {
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (clid, password, files) = match fields.as_slice() {
            [clid, password] => (clid, password, None),
            [clid, password, cert, key] => (
                clid,
                password,
                Some((PathBuf::from(cert), PathBuf::from(key))),
            ),
            _ => {
                return Err(format!(
                    "line {}: expected CLID PASSWORD [CERT KEY], found {} fields",
                    n + 1,
                    fields.len()
                ));
            }
        };
        lines.push(RegistrarLine {
            clid: (*clid).to_owned(),
            password: (*password).to_owned(),
            files,
        });
    }
    if lines.is_empty() {
        return Err("no registrar in the file".into());
    }
    Ok(lines)
}

/// Why a session could not be opened.
#[derive(Debug)]
enum SessionError {
    Client(ClientError),
    Refused(Option<u16>, String),
}

impl From<ClientError> for SessionError {
    fn from(e: ClientError) -> Self {
        SessionError::Client(e)
    }
}

impl SessionError {
    fn label(&self) -> String {
        match self {
            SessionError::Client(e) => e.kind().to_owned(),
            SessionError::Refused(Some(code), _) => code.to_string(),
            SessionError::Refused(None, _) => "no result code".to_owned(),
        }
    }

    fn into_bench(self, what: &str) -> BenchError {
        match self {
            SessionError::Client(e) => BenchError::Client(e),
            SessionError::Refused(code, msg) => BenchError::Refused {
                what: what.to_owned(),
                code: code.unwrap_or(0),
                msg,
            },
        }
    }
}

/// The text of the first `<msg>` of a response, for error reports.
fn message(response: &[u8]) -> String {
    let text = String::from_utf8_lossy(response);
    let Some(start) = text.find("<msg") else {
        return text.chars().take(200).collect();
    };
    let after = &text[start..];
    let body = after.split_once('>').map(|(_, b)| b).unwrap_or("");
    let msg = body.split("</msg>").next().unwrap_or("");
    let reason = text
        .split_once("<reason")
        .and_then(|(_, r)| r.split_once('>'))
        .and_then(|(_, r)| r.split("</reason>").next());
    let text = match reason {
        Some(reason) => format!("{msg} ({reason})"),
        None => msg.to_owned(),
    };
    match quick_xml::escape::unescape(&text) {
        Ok(plain) => plain.into_owned(),
        Err(_) => text,
    }
}

/// Everything the sessions share during the measured phase.
struct Plan {
    scenario: Scenario,
    mix: Mix,
    prefix: String,
    zone: String,
    check_names: usize,
    /// Concurrent sessions.
    sessions: usize,
    /// Names to `info`, round-robin.
    names: Vec<String>,
    /// Each session's registrant contact, when creates are sent.
    contacts: Vec<String>,
    /// The next number of a created domain's name.
    next_domain: AtomicU64,
    /// Commands left to send in `--count` mode.
    left: Option<AtomicU64>,
    /// The end of the measured phase in `--duration` mode.
    deadline: Option<Instant>,
}

impl Plan {
    /// Takes the right to send one more command.
    fn take(&self) -> bool {
        if let Some(deadline) = self.deadline
            && Instant::now() >= deadline
        {
            return false;
        }
        match &self.left {
            Some(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
            None => true,
        }
    }
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
    let report = runtime.build()?.block_on(run(args))?;
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

/// Finds the address that answers: the first of the host's addresses
/// where a session opens; that session then logs out. This also makes
/// the server verify the first registrar's password once before anything
/// is measured. With `log_in` false, the first address where the TLS
/// handshake succeeds and a greeting comes, without a login.
async fn first_answering(
    args: &BenchArgs,
    mut target: Target,
    log_in: bool,
) -> Result<(Target, String), BenchError> {
    let addr = if args.host.contains(':') && !args.host.starts_with('[') {
        format!("[{}]:{}", args.host, args.port)
    } else {
        format!("{}:{}", args.host, args.port)
    };
    let candidates: Vec<String> = tokio::net::lookup_host(&addr)
        .await
        .map_err(|e| BenchError::Resolve {
            addr: addr.clone(),
            detail: e.to_string(),
        })?
        .map(|a| a.to_string())
        .collect();
    let mut last = BenchError::Resolve {
        addr: addr.clone(),
        detail: "no address".into(),
    };
    for candidate in candidates {
        target.addr = candidate.clone();
        if !log_in {
            match target.connect(0).await {
                Ok(conn) => {
                    drop(conn);
                    return Ok((target, candidate));
                }
                Err(e) => {
                    last = e.into();
                    continue;
                }
            }
        }
        match target.session(0).await {
            Ok(mut conn) => {
                let _ = conn.transact(&logout_xml()).await;
                return Ok((target, candidate));
            }
            Err(e) => last = e.into_bench("login"),
        }
    }
    Err(last)
}

async fn run(args: &BenchArgs) -> Result<Report, BenchError> {
    let mut rng = StdRng::from_entropy();
    let mix = args.mix.clone();
    let prefix = match &args.prefix {
        Some(p) => p.clone(),
        None => format!("bench-{}-", random_tag(&mut rng, 6)),
    };
    let zone = args.zone.clone();
    let extension = match &args.contact_extension {
        Some(path) => Some(read_file(path)?.trim().to_owned()),
        None => None,
    };
    if args.scenario == Scenario::Storm && (args.count.is_some() || args.duration.is_some()) {
        return Err(BenchError::Usage(
            "storm makes one login per session: --count and --duration do not apply".into(),
        ));
    }
    let identities = identities(args)?;
    let server_name = args.server_name.as_deref().unwrap_or(&args.host);
    let target = Target {
        addr: String::new(),
        name: epp_client::server_name(server_name)?,
        identities,
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    let (target, server) = first_answering(args, target, args.scenario != Scenario::Storm).await?;
    let target = Arc::new(target);
    let sessions = args.sessions as usize;
    let registrars = u32::try_from(target.identities.len()).unwrap_or(u32::MAX);
    let first_clid = target.identity(0).clid.clone();

    if args.scenario == Scenario::Storm {
        let empty = report::empty_histogram()?;
        let (stats, summary, elapsed) = storm(target, sessions, &empty).await;
        let mut report = Report::new(
            args.scenario.name(),
            &server,
            &first_clid,
            args.sessions,
            elapsed,
            &stats,
            Setup::default(),
        );
        report.registrars = registrars;
        report.storm = Some(summary);
        return Ok(report);
    }

    let setup_started = Instant::now();
    let mut setup = Setup::default();
    let mut conns = Vec::new();
    if args.scenario == Scenario::Login {
        // The password of every registrar is verified once before
        // anything is measured, not only the first one's.
        warm_up(&target).await?;
    } else {
        conns = open_sessions(&target, sessions).await?;
    }
    let needs_info = match args.scenario {
        Scenario::Info => true,
        Scenario::Mix => mix.has(Kind::Info),
        _ => false,
    };
    let needs_creates = match args.scenario {
        Scenario::Create => true,
        Scenario::Mix => mix.has(Kind::Create),
        _ => false,
    };
    let mut names = Vec::new();
    if needs_info && let Some(path) = &args.names {
        names = read_file(path)?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            return Err(BenchError::Usage(format!(
                "--names {}: no name in the file",
                path.display()
            )));
        }
        setup.names_read = names.len() as u64;
    }
    let needs_contacts = needs_creates || (needs_info && names.is_empty() && args.domains > 0);
    let mut contacts = Vec::new();
    if needs_contacts {
        let run_tag = random_tag(&mut rng, 6);
        contacts = (0..sessions).map(|s| format!("b{run_tag}k{s}")).collect();
        tracing::info!(contacts = contacts.len(), "creating contacts");
        let ids = contacts.clone();
        let ext = extension.clone();
        conns = for_each_session(conns, move |s, mut conn| {
            let id = ids[s].clone();
            let ext = ext.clone();
            async move {
                let xml = commands::contact_create(
                    &id,
                    &random_password(),
                    ext.as_deref(),
                    &epp_client::unique_cl_trid("bench-contact"),
                );
                let r = expect_success(&mut conn, &xml, &format!("contact create {id}")).await;
                (conn, r)
            }
        })
        .await?;
        setup.contacts = contacts.len() as u64;
    }
    if needs_info && names.is_empty() {
        if args.domains == 0 {
            return Err(BenchError::Usage(
                "info needs names: --domains N (N > 0) or --names FILE".into(),
            ));
        }
        names = (0..args.domains)
            .map(|n| format!("{prefix}i{n}.{zone}"))
            .collect();
        tracing::info!(domains = names.len(), "creating domains to query");
        let all = Arc::new(names.clone());
        let ids = contacts.clone();
        let prep_target = target.clone();
        conns = for_each_session(conns, move |s, mut conn| {
            let all = all.clone();
            let contact = ids[s].clone();
            let target = prep_target.clone();
            async move {
                let auth = random_password();
                for name in all.iter().skip(s).step_by(sessions) {
                    if let Err(e) =
                        create_for_setup(&target, s, &mut conn, name, &contact, &auth).await
                    {
                        return (conn, Err(e));
                    }
                }
                (conn, Ok(()))
            }
        })
        .await?;
        setup.domains = names.len() as u64;
    }
    setup.secs = setup_started.elapsed().as_secs_f64();

    let duration = match args.count {
        Some(_) => None,
        None => Some(args.duration.unwrap_or(10.0)),
    };
    let empty = report::empty_histogram()?;
    let started = Instant::now();
    let plan = Arc::new(Plan {
        scenario: args.scenario,
        mix,
        prefix,
        zone,
        check_names: args.check_names as usize,
        sessions,
        names,
        contacts,
        next_domain: AtomicU64::new(0),
        left: args.count.map(AtomicU64::new),
        deadline: duration.map(|secs| started + Duration::from_secs_f64(secs)),
    });
    let mut tasks = tokio::task::JoinSet::new();
    if args.scenario == Scenario::Login {
        for s in 0..sessions {
            tasks.spawn(login_loop(
                s,
                target.clone(),
                plan.clone(),
                Stats::new(&empty),
            ));
        }
    } else {
        for (s, conn) in conns.into_iter().enumerate() {
            tasks.spawn(command_loop(
                s,
                conn,
                target.clone(),
                plan.clone(),
                Stats::new(&empty),
            ));
        }
    }
    let mut stats = Stats::new(&empty);
    let mut open = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok((session_stats, conn)) = done {
            stats.merge(&session_stats);
            open.extend(conn);
        }
    }
    let elapsed = started.elapsed();
    for mut conn in open {
        let _ = conn.transact(&logout_xml()).await;
    }
    let mut report = Report::new(
        args.scenario.name(),
        &server,
        &first_clid,
        args.sessions,
        elapsed,
        &stats,
        setup,
    );
    report.registrars = registrars;
    Ok(report)
}

/// The registrars of the run: those of `--registrars`, or `--clid` alone;
/// each with its TLS configuration (one per distinct certificate and key)
/// and its login command.
fn identities(args: &BenchArgs) -> Result<Vec<Identity>, BenchError> {
    let default_files = |clid: &str| {
        (
            args.cert
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("certs/{clid}.pem"))),
            args.key
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("certs/{clid}.key"))),
        )
    };
    let lines = match &args.registrars {
        Some(path) => parse_registrars(&read_file(path)?)
            .map_err(|e| BenchError::Usage(format!("--registrars {}: {e}", path.display())))?,
        None => vec![RegistrarLine {
            clid: args.clid.clone(),
            password: args.password.clone(),
            files: None,
        }],
    };
    let mut configs: HashMap<(PathBuf, PathBuf), Arc<ClientConfig>> = HashMap::new();
    let mut identities = Vec::with_capacity(lines.len());
    for line in lines {
        let (cert, key) = line.files.unwrap_or_else(|| default_files(&line.clid));
        let config = match configs.get(&(cert.clone(), key.clone())) {
            Some(config) => config.clone(),
            None => {
                let config = Arc::new(client_config(args, &cert, &key)?);
                configs.insert((cert, key), config.clone());
                config
            }
        };
        identities.push(Identity {
            clid: line.clid,
            password: line.password,
            lang: args.lang.clone(),
            ext_uris: args.ext_uris.clone(),
            config,
        });
    }
    Ok(identities)
}

fn client_config(args: &BenchArgs, cert: &Path, key: &Path) -> Result<ClientConfig, BenchError> {
    let mut config = epp_client::tls_config(&args.ca, cert, key)?;
    if !args.tls_resumption {
        config.resumption = Resumption::disabled();
    }
    Ok(config)
}

/// Logs every registrar of the run in and out once, all at once (the
/// first one is verified already).
async fn warm_up(target: &Arc<Target>) -> Result<(), BenchError> {
    let mut tasks = tokio::task::JoinSet::new();
    for s in 1..target.identities.len() {
        let target = target.clone();
        tasks.spawn(async move {
            match target.session(s).await {
                Ok(mut conn) => {
                    let _ = conn.transact(&logout_xml()).await;
                    Ok(())
                }
                Err(e) => Err(e.into_bench(&format!("login of {}", target.identity(s).clid))),
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| BenchError::Usage(format!("a session task failed: {e}")))??;
    }
    Ok(())
}

/// What one session of a storm saw.
struct StormSession {
    stats: Stats,
    /// When it started to connect.
    started: Instant,
    /// When its login was answered or failed.
    done: Instant,
    /// Whether it was logged in.
    served: bool,
    /// Whether its logout failed.
    logout_failed: bool,
}

/// The `storm` scenario: every session waits until all are ready, then
/// connects, handshakes and logs in at once; the logged-in ones stay
/// logged in until every login is answered, then log out. Gives the
/// logins' measurements, the summary, and the time from the first
/// connection to the last login answered.
async fn storm(
    target: Arc<Target>,
    sessions: usize,
    empty: &hdrhistogram::Histogram<u64>,
) -> (Stats, StormSummary, Duration) {
    let ready = Arc::new(tokio::sync::Barrier::new(sessions + 1));
    let answered = Arc::new(tokio::sync::Barrier::new(sessions));
    let mut tasks = tokio::task::JoinSet::new();
    for s in 0..sessions {
        let target = target.clone();
        let ready = ready.clone();
        let answered = answered.clone();
        let mut stats = Stats::new(empty);
        tasks.spawn(async move {
            ready.wait().await;
            let started = Instant::now();
            let result = target.login(s).await;
            let done = Instant::now();
            let conn = match result {
                Ok((conn, code)) => {
                    stats.answered(Kind::Login.name(), done - started, Some(code));
                    Some(conn)
                }
                Err(SessionError::Refused(code, _)) => {
                    stats.answered(Kind::Login.name(), done - started, code.or(Some(2400)));
                    None
                }
                Err(e) => {
                    stats.lost(Kind::Login.name(), &e.label());
                    None
                }
            };
            answered.wait().await;
            let served = conn.is_some();
            let mut logout_failed = false;
            if let Some(mut conn) = conn {
                logout_failed = !matches!(
                    conn.transact(&logout_xml()).await.map(result_code),
                    Ok(Some(1500))
                );
            }
            StormSession {
                stats,
                started,
                done,
                served,
                logout_failed,
            }
        });
    }
    ready.wait().await;
    let mut stats = Stats::new(empty);
    let mut summary = StormSummary::default();
    let mut first: Option<Instant> = None;
    let mut last: Option<Instant> = None;
    let mut last_served: Option<Instant> = None;
    while let Some(done) = tasks.join_next().await {
        let Ok(session) = done else {
            summary.refused += 1;
            continue;
        };
        stats.merge(&session.stats);
        first = Some(first.map_or(session.started, |f| f.min(session.started)));
        last = Some(last.map_or(session.done, |l| l.max(session.done)));
        if session.served {
            summary.served += 1;
            last_served = Some(last_served.map_or(session.done, |l| l.max(session.done)));
        } else {
            summary.refused += 1;
        }
        if session.logout_failed {
            summary.logout_failures += 1;
        }
    }
    let since_first = |t: Option<Instant>| match (first, t) {
        (Some(first), Some(t)) => t.saturating_duration_since(first),
        _ => Duration::ZERO,
    };
    summary.all_in_secs = last_served.map(|t| since_first(Some(t)).as_secs_f64());
    (stats, summary, since_first(last))
}

/// Opens `n` sessions at once.
async fn open_sessions(target: &Arc<Target>, n: usize) -> Result<Vec<Connection>, BenchError> {
    let mut tasks = tokio::task::JoinSet::new();
    for s in 0..n {
        let target = target.clone();
        tasks.spawn(async move { (s, target.session(s).await) });
    }
    let mut conns: Vec<Option<Connection>> = (0..n).map(|_| None).collect();
    while let Some(done) = tasks.join_next().await {
        let (s, result) =
            done.map_err(|e| BenchError::Usage(format!("a session task failed: {e}")))?;
        let conn = result.map_err(|e| e.into_bench(&format!("login of session {}", s + 1)))?;
        conns[s] = Some(conn);
    }
    Ok(conns.into_iter().flatten().collect())
}

/// Runs `work` on every session at once; gives the sessions back in order,
/// or the first failure.
async fn for_each_session<F, Fut>(
    conns: Vec<Connection>,
    work: F,
) -> Result<Vec<Connection>, BenchError>
where
    F: Fn(usize, Connection) -> Fut,
    Fut: Future<Output = (Connection, Result<(), BenchError>)> + Send + 'static,
{
    let n = conns.len();
    let mut tasks = tokio::task::JoinSet::new();
    for (s, conn) in conns.into_iter().enumerate() {
        let fut = work(s, conn);
        tasks.spawn(async move {
            let (conn, result) = fut.await;
            (s, conn, result)
        });
    }
    let mut back: Vec<Option<Connection>> = (0..n).map(|_| None).collect();
    let mut failure = None;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((s, conn, result)) => {
                back[s] = Some(conn);
                if let Err(e) = result {
                    failure.get_or_insert(e);
                }
            }
            Err(e) => {
                failure.get_or_insert(BenchError::Usage(format!("a session task failed: {e}")));
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(back.into_iter().flatten().collect()),
    }
}

/// Sends a preparation command; anything but 1xxx is an error.
/// Attempts of one domain create while preparing a run.
const SETUP_ATTEMPTS: u32 = 10;

/// Creates a domain the run will query. A server may refuse a create for a
/// moment (2400 under concurrent creates, 2502 over a quota) or close the
/// session without an answer: the create is tried again, on a new session
/// when needed, and a name that exists by then (an earlier attempt went
/// through) counts as created.
async fn create_for_setup(
    target: &Target,
    s: usize,
    conn: &mut Connection,
    name: &str,
    contact: &str,
    auth: &str,
) -> Result<(), BenchError> {
    let what = format!("domain create {name}");
    let mut last = None;
    for attempt in 0..SETUP_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
        }
        let xml = commands::domain_create(name, contact, auth, &epp_client::unique_cl_trid("bi"));
        let code = match conn.transact(&xml).await {
            Ok(response) => result_code(response).unwrap_or(0),
            Err(e) => {
                // No answer: the outcome is unknown; a new session finds out.
                last = Some(e.to_string());
                match target.session(s).await {
                    Ok(fresh) => *conn = fresh,
                    Err(e) => last = Some(e.label()),
                }
                continue;
            }
        };
        match code {
            1000..=1999 => return Ok(()),
            2302 if attempt > 0 => return Ok(()),
            2400 | 2502 => {
                last = Some(format!("answered {code}"));
                if code == 2502 {
                    // The server closes the session after a 2502.
                    match target.session(s).await {
                        Ok(fresh) => *conn = fresh,
                        Err(e) => last = Some(e.label()),
                    }
                }
            }
            code => {
                return Err(BenchError::Refused {
                    what,
                    code,
                    msg: String::new(),
                });
            }
        }
    }
    Err(BenchError::Refused {
        what: format!("{what} ({SETUP_ATTEMPTS} attempts)"),
        code: 2400,
        msg: last.unwrap_or_default(),
    })
}

async fn expect_success(conn: &mut Connection, xml: &[u8], what: &str) -> Result<(), BenchError> {
    let response = conn.transact(xml).await?;
    match result_code(response) {
        Some(code) if code < 2000 => Ok(()),
        code => Err(BenchError::Refused {
            what: what.to_owned(),
            code: code.unwrap_or(0),
            msg: message(response),
        }),
    }
}

/// Consecutive failed reconnections after which a session gives up.
const MAX_RECONNECTS: u32 = 3;

/// One session of the measured phase: takes a command at a time until the
/// plan says stop. A command without an answer is counted, and the session
/// reconnects. Returns its measurements and its connection, if still open.
async fn command_loop(
    s: usize,
    conn: Connection,
    target: Arc<Target>,
    plan: Arc<Plan>,
    mut stats: Stats,
) -> (Stats, Option<Connection>) {
    let mut rng = StdRng::from_entropy();
    let mut conn = Some(conn);
    let names_len = plan.names.len();
    // Sessions start spread over the names, then each goes round-robin.
    let mut cursor = (s * names_len)
        .checked_div(plan.sessions)
        .unwrap_or(0)
        .checked_rem(names_len)
        .unwrap_or(0);
    let auth = random_password();
    let mut check_batch: Vec<String> = Vec::with_capacity(plan.check_names);
    let mut failed_reconnects = 0;
    while plan.take() {
        let kind = match plan.scenario {
            Scenario::Check => Kind::Check,
            Scenario::Info => Kind::Info,
            Scenario::Create => Kind::Create,
            Scenario::Mix | Scenario::Login | Scenario::Storm => plan.mix.pick(&mut rng),
        };
        let cl_trid = epp_client::unique_cl_trid("b");
        let xml = match kind {
            Kind::Check => {
                check_batch.clear();
                for _ in 0..plan.check_names {
                    let n: u64 = rng.r#gen();
                    check_batch.push(format!("{}c{n:x}.{}", plan.prefix, plan.zone));
                }
                commands::domain_check(&check_batch, &cl_trid)
            }
            Kind::Info => {
                let name = &plan.names[cursor];
                cursor = (cursor + 1) % names_len.max(1);
                commands::domain_info(name, &cl_trid)
            }
            Kind::Create => {
                let n = plan.next_domain.fetch_add(1, Ordering::Relaxed);
                let name = format!("{}d{n}.{}", plan.prefix, plan.zone);
                commands::domain_create(&name, &plan.contacts[s], &auth, &cl_trid)
            }
            Kind::Poll | Kind::Login => commands::poll_req(&cl_trid),
        };
        let live = match conn.as_mut() {
            Some(live) => live,
            None => match target.session(s).await {
                Ok(fresh) => {
                    failed_reconnects = 0;
                    conn.insert(fresh)
                }
                Err(e) => {
                    stats.lost(kind.name(), &e.label());
                    failed_reconnects += 1;
                    if failed_reconnects >= MAX_RECONNECTS {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let t0 = Instant::now();
        match live.transact(&xml).await {
            Ok(response) => {
                let elapsed = t0.elapsed();
                stats.answered(kind.name(), elapsed, result_code(response));
            }
            Err(e) => {
                stats.lost(kind.name(), e.kind());
                conn = None;
            }
        }
    }
    (stats, conn)
}

/// One session of the `login` scenario: a whole connection per command.
async fn login_loop(
    s: usize,
    target: Arc<Target>,
    plan: Arc<Plan>,
    mut stats: Stats,
) -> (Stats, Option<Connection>) {
    let logout = logout_xml();
    while plan.take() {
        let t0 = Instant::now();
        match target.session(s).await {
            Ok(mut conn) => match conn.transact(&logout).await {
                Ok(response) => {
                    let elapsed = t0.elapsed();
                    stats.answered(Kind::Login.name(), elapsed, result_code(response));
                }
                Err(e) => stats.lost(Kind::Login.name(), e.kind()),
            },
            Err(SessionError::Refused(code, _)) => {
                stats.answered(Kind::Login.name(), t0.elapsed(), code.or(Some(2400)));
            }
            Err(e) => stats.lost(Kind::Login.name(), &e.label()),
        }
    }
    (stats, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_weights_pick_in_proportion() {
        let mix = Mix::parse("check=70, info=20,create=5,poll=5,").unwrap();
        assert!(mix.has(Kind::Poll) && mix.total == 100);
        let mut rng = StdRng::seed_from_u64(7);
        let checks = (0..10_000)
            .filter(|_| mix.pick(&mut rng) == Kind::Check)
            .count();
        assert!((6500..7500).contains(&checks), "{checks}");
        let only = Mix::parse("info=1,create=0").unwrap();
        assert!(!only.has(Kind::Create));
        assert_eq!(only.pick(&mut rng), Kind::Info);
        for bad in ["", "check=0", "renew=5", "check", "check=x"] {
            assert!(Mix::parse(bad).is_err(), "{bad}");
        }
    }

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

    #[test]
    fn registrar_files_give_two_or_four_fields() {
        let text = "# clid password cert key\n\
                    \n\
                    r001 pw-r001-x /tmp/r001.pem /tmp/r001.key\n\
                    \t r002\tpw-r002-x  \n";
        let lines = parse_registrars(text).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].clid, "r001");
        assert_eq!(
            lines[0].files,
            Some(("/tmp/r001.pem".into(), "/tmp/r001.key".into()))
        );
        assert_eq!(
            (lines[1].clid.as_str(), lines[1].password.as_str()),
            ("r002", "pw-r002-x")
        );
        assert_eq!(lines[1].files, None);
        let bad = parse_registrars("r001 pw cert\n").unwrap_err();
        assert!(bad.starts_with("line 1:"), "{bad}");
        assert!(parse_registrars("# nobody\n\n").is_err());
    }

    #[test]
    fn messages_carry_the_reason() {
        let r = br#"<epp><response><result code="2306"><msg lang="en">Parameter value policy error</msg><extValue><value/><reason>R15: the registrant&apos;s identity</reason></extValue></result></response></epp>"#;
        assert_eq!(
            message(r),
            "Parameter value policy error (R15: the registrant's identity)"
        );
    }
}
