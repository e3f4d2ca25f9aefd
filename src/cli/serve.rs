//! `serve`: runs the EPP server until SIGINT/SIGTERM. `--dev` listens on
//! 127.0.0.1:7700 (WHOIS 4343, RDAP 8080) with the development
//! certificates and makes sure the two demo registrars exist, printing
//! their credentials.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::Cli;
use crate::clock::Clock;
use crate::model::{Registrar, RegistrarState};
use crate::server::RunningServer;
use crate::store::Store;

/// `serve` options.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// EPP listen address (overrides `server.epp_listen`), e.g. 127.0.0.1:7700.
    #[arg(long)]
    epp_listen: Option<SocketAddr>,
    /// WHOIS listen address (overrides `whois.listen`), e.g. 127.0.0.1:4343.
    #[arg(long)]
    whois_listen: Option<SocketAddr>,
    /// RDAP listen address (overrides `rdap.listen`), e.g. 127.0.0.1:8080.
    #[arg(long)]
    rdap_listen: Option<SocketAddr>,
    /// Development mode: 127.0.0.1:7700 unless told otherwise, and the demo
    /// registrars demo1 and demo2 with known passwords. Never in production.
    #[arg(long)]
    dev: bool,
    /// Check the store and exit instead of serving: every record is read
    /// back (sled checks each page's checksum) and the history chain is
    /// walked. Exit code 0 when the store is sound, 1 otherwise.
    #[arg(long)]
    check: bool,
}

/// The demo registrars of `--dev`: clID, password, certificate file.
pub const DEMO_REGISTRARS: [(&str, &str); 2] = [("demo1", "demo1-pass"), ("demo2", "demo2-pass")];

pub fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let mut settings = super::settings(cli)?;
    if args.dev {
        settings.server.epp_listen = SocketAddr::from(([127, 0, 0, 1], 7700));
        settings.whois.listen = Some(SocketAddr::from(([127, 0, 0, 1], 4343)));
        settings.rdap.listen = Some(SocketAddr::from(([127, 0, 0, 1], 8080)));
        settings.rdap.search = true;
    }
    if let Some(addr) = args.epp_listen {
        settings.server.epp_listen = addr;
    }
    if let Some(addr) = args.whois_listen {
        settings.whois.listen = Some(addr);
    }
    if let Some(addr) = args.rdap_listen {
        settings.rdap.listen = Some(addr);
    }
    let clock = Clock::from_env()?;
    // Each session is a socket.
    match crate::sys::raise_open_files_limit() {
        Some((before, after)) => tracing::info!(before, after, "open files limit raised"),
        None => {
            if let Some(limit) = crate::sys::open_files_limit() {
                tracing::info!(limit, "open files limit");
            }
        }
    }
    if args.check {
        return check_store(&settings);
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let store = Store::open_configured(&settings.store, &settings.server.data_dir)
            .with_context(|| format!("cannot open {}", super::store_place(&settings)))?;
        warn_if_readable_by_others(&settings.server.data_dir);
        if args.dev {
            seed_demo_registrars(&store, &settings.tls.client_ca, &clock)?;
        }
        let server = RunningServer::start_with_store(settings, clock, store).await?;
        println!("ma-registry: EPP on {}", server.epp_addr());
        if let Some(whois) = server.whois_addr() {
            println!("ma-registry: WHOIS on {whois}");
        }
        if let Some(rdap) = server.rdap_addr() {
            println!("ma-registry: RDAP on http://{rdap}/");
        }
        // Under systemd (Type=notify), the unit is started once the store is
        // open and every listener is bound.
        if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
            tracing::warn!(error = %e, "cannot tell systemd the server is ready");
        }
        let token = server.shutdown_token();
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
            token.cancel();
        });
        server.wait().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// `serve --check`: opens the store (a damaged one is refused there, with
/// the file named) and reads it all back.
#[allow(clippy::print_stdout)]
fn check_store(settings: &crate::config::Settings) -> anyhow::Result<ExitCode> {
    let dir = &settings.server.data_dir;
    if !super::store_exists(settings) {
        anyhow::bail!("no store at {}; is --config right?", dir.display());
    }
    let store = super::open_when_free(settings)
        .with_context(|| format!("cannot open {}", super::store_place(settings)))?;
    let check = store.verify()?;
    println!(
        "{}: {} trees, {} records read back",
        super::store_place(settings),
        check.trees,
        check.records
    );
    for problem in &check.problems {
        println!("  damaged: {problem}");
    }
    match &check.history {
        crate::store::ChainCheck::Intact { records } => {
            println!("history intact: {records} records");
        }
        crate::store::ChainCheck::Broken { place, reason } => {
            println!("history chain broken at record {place}: {reason}");
        }
    }
    if check.is_sound() {
        println!("the store is sound");
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "the store is damaged: restore the last backup (admin restore) or start from the standby"
        );
        Ok(ExitCode::FAILURE)
    }
}

/// Logs a warning for the data directory and each store file that other
/// users can read. Their modes are the operator's: none is changed.
fn warn_if_readable_by_others(dir: &Path) {
    for (path, mode) in crate::store::readable_by_others(dir) {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{mode:04o}"),
            "readable by other users than the server's; the store holds registrants' data and password hashes: chmod 0700 the data directory and 0600 its files"
        );
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn seed_demo_registrars(store: &Store, client_ca: &Path, clock: &Clock) -> anyhow::Result<()> {
    let certs_dir = client_ca.parent().unwrap_or(Path::new("."));
    println!("development mode: demo registrars (never use in production)");
    for (clid, password) in DEMO_REGISTRARS {
        let cert_path = certs_dir.join(format!("{clid}.pem"));
        let certs = crate::transport::load_certs(&cert_path)?;
        let fingerprints: Vec<String> = certs
            .iter()
            .take(1)
            .map(|c| crate::transport::fingerprint(c.as_ref()))
            .collect();
        let existing = store.registrar(clid)?;
        let registrar = Registrar {
            id: clid.to_owned(),
            name: format!("Demo registrar {clid}"),
            password_hash: crate::flows::login::hash_password(password)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            cert_fingerprints: fingerprints,
            ip_allow: Vec::new(),
            session_limit: None,
            state: RegistrarState::Active,
            email: None,
            address: None,
            created: existing.as_ref().map_or_else(|| clock.now(), |r| r.created),
            password_set: existing
                .as_ref()
                .map_or_else(|| clock.now(), |r| r.password_set),
        };
        let audit =
            crate::store::registry_audit(store, clock.now(), "serve --dev", "dev:demo-registrar");
        store.put_registrar(&registrar, &audit)?;
        println!(
            "  clID {clid}  password {password}  certificate {}  key {}",
            cert_path.display(),
            certs_dir.join(format!("{clid}.key")).display()
        );
    }
    store.flush_now()?;
    Ok(())
}
