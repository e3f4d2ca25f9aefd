//! The binary's subcommands (clap). `anyhow` lives here only; every
//! subcommand returns an exit code a script can rely on: 0 success, 1
//! failure, 2 usage error.
#![allow(clippy::print_stdout)]

mod admin;
mod client;
mod log_sink;
mod serve;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;

/// The `.ma` registry's EPP server and tools.
#[derive(Debug, Parser)]
#[command(name = "ma-registry", version, about)]
pub struct Cli {
    /// The TOML configuration file (defaults apply without one).
    #[arg(long, global = true, env = "MA_REGISTRY_CONFIG")]
    pub config: Option<PathBuf>,
    /// The store directory (overrides `server.data_dir`).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the EPP server.
    Serve(serve::ServeArgs),
    /// Operator commands on the registry.
    Admin(crate::admin::AdminArgs),
    /// A small EPP client: check, info or create a name, or send an XML file.
    Client(client::ClientArgs),
    /// Development certificates.
    Certs(CertsArgs),
    /// A load generator for any EPP server: N sessions, a scenario, a
    /// report of commands per second and latency percentiles.
    Bench(Box<crate::bench::BenchArgs>),
}

/// `certs …`
#[derive(Debug, clap::Args)]
pub struct CertsArgs {
    #[command(subcommand)]
    command: CertsCommand,
}

#[derive(Debug, Subcommand)]
enum CertsCommand {
    /// Generate a development CA, a server certificate for localhost and
    /// registrar client certificates. For development only.
    Generate {
        /// Output directory.
        #[arg(long, default_value = "certs")]
        dir: PathBuf,
        /// A registrar clID to issue a client certificate for (repeatable).
        #[arg(long = "registrar", default_values_t = ["demo1".to_string(), "demo2".to_string()])]
        registrars: Vec<String>,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
    },
}

/// Loads the settings: the file if given, else defaults; then the overrides.
fn settings(cli: &Cli) -> anyhow::Result<Settings> {
    let mut settings = match &cli.config {
        Some(path) => Settings::load(path)?,
        None => Settings::default(),
    };
    if let Some(dir) = &cli.data_dir {
        settings.server.data_dir = dir.clone();
    }
    // The engine may come from the environment, with its URL
    // (`MA_REGISTRY_STORE_URL`, read where the store is opened), so that a
    // password need not be in the file.
    match std::env::var("MA_REGISTRY_STORE_BACKEND").as_deref() {
        Ok("postgres") => settings.store.backend = crate::config::StoreBackend::Postgres,
        Ok("sled") => settings.store.backend = crate::config::StoreBackend::Sled,
        Ok(other) => anyhow::bail!(
            "MA_REGISTRY_STORE_BACKEND is {other:?}: it must be \"sled\" or \"postgres\""
        ),
        Err(_) => {}
    }
    Ok(settings)
}

/// Opens the configured store, giving a server that is just stopping a
/// moment to let go of a sled store's lock (sled releases it from a
/// background thread).
pub(super) fn open_when_free(
    settings: &crate::config::Settings,
) -> Result<crate::store::Store, crate::store::StoreError> {
    let mut attempt = 0;
    loop {
        match crate::store::Store::open_configured(&settings.store, &settings.server.data_dir) {
            Err(e) if attempt < 30 && e.to_string().contains("could not acquire lock") => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// Whether the configured store exists: a sled store in the data
/// directory (a PostgreSQL database is created by its operator, and the
/// store in it on first use).
pub(super) fn store_exists(settings: &crate::config::Settings) -> bool {
    match settings.store.backend {
        crate::config::StoreBackend::Sled => settings.server.data_dir.join("db").exists(),
        crate::config::StoreBackend::Postgres => true,
    }
}

/// The configured store, for messages (never the URL, which may hold a
/// password).
pub(super) fn store_place(settings: &crate::config::Settings) -> String {
    match settings.store.backend {
        crate::config::StoreBackend::Sled => {
            format!("the store in {}", settings.server.data_dir.display())
        }
        crate::config::StoreBackend::Postgres => "the PostgreSQL store".to_owned(),
    }
}

/// A write past the file-size limit (`ulimit -f`) then fails with an error
/// the store handles (writes suspended, then resumed), instead of killing
/// the process with SIGXFSZ.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// The log's format: `MA_REGISTRY_LOG_FORMAT` (`text` or `json`), else
/// `[log] format` of the configuration when it reads, else text.
fn log_format(cli: &Cli) -> crate::config::LogFormat {
    use crate::config::LogFormat;
    match std::env::var("MA_REGISTRY_LOG_FORMAT").as_deref() {
        Ok("json") => return LogFormat::Json,
        Ok("text") => return LogFormat::Text,
        _ => {}
    }
    settings(cli).map_or(LogFormat::Text, |s| s.log.format)
}

/// Installs the log: text (ANSI colours only on a terminal, so a log file
/// gets plain text) or one JSON object per line, with the session's and the
/// command's fields (peer, clID, command, clTRID, svTRID).
fn init_log<W>(filter: tracing_subscriber::EnvFilter, json: bool, writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if json {
        let _ = builder
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .try_init();
    } else {
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let _ = builder.with_ansi(ansi).try_init();
    }
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("MA_REGISTRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = log_format(&cli) == crate::config::LogFormat::Json;
    // The server logs a line per transform: they go to stderr from a thread
    // of their own, in one write per batch rather than one per line, and
    // a command never waits on the log (`log_sink.rs`). The guard writes
    // what is left when `main` returns. The other commands write their
    // lines as they come.
    let log_sink = if matches!(cli.command, Command::Serve(_)) {
        log_sink::start(std::io::stderr()).ok()
    } else {
        None
    };
    let _log_guard = match log_sink {
        Some((sink, guard)) => {
            init_log(filter, json, sink);
            Some(guard)
        }
        None => {
            init_log(filter, json, std::io::stderr);
            None
        }
    };
    if matches!(cli.command, Command::Serve(_) | Command::Admin(_)) {
        // The store, backups, deposits, zone files and mail are the
        // service user's alone, sled's own files included.
        crate::fsmode::private_umask();
        crate::alloc::limit_arenas();
        ignore_file_size_signal();
    }
    let result = match &cli.command {
        Command::Serve(args) => serve::run(&cli, args),
        Command::Admin(args) => admin::run(&cli, args),
        Command::Client(args) => client::run(args),
        Command::Bench(args) => {
            crate::bench::main(args, &mut std::io::stdout().lock()).map_err(anyhow::Error::from)
        }
        Command::Certs(CertsArgs {
            command:
                CertsCommand::Generate {
                    dir,
                    registrars,
                    force,
                },
        }) => {
            let names: Vec<&str> = registrars.iter().map(String::as_str).collect();
            crate::devcerts::generate(dir, &names, *force)
                .map(|()| {
                    println!("development certificates written to {}", dir.display());
                    ExitCode::SUCCESS
                })
                .map_err(anyhow::Error::from)
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", crate::error::error_line(&err));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The admin socket parses the command lines this binary sends with
    /// its own parser: both must know the same global options.
    #[test]
    fn the_admin_socket_knows_every_global_option() {
        use clap::CommandFactory as _;
        fn globals(command: &clap::Command) -> Vec<String> {
            let mut ids: Vec<String> = command
                .get_arguments()
                .filter(|a| a.is_global_set())
                .map(|a| a.get_id().to_string())
                .collect();
            ids.sort();
            ids
        }
        assert_eq!(
            globals(&Cli::command()),
            globals(&crate::admin::command_line::AdminCommandLine::command())
        );
    }
}
