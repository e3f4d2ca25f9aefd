//! `admin …`: the operator's commands. In this version they open the store
//! directly, so the server must be stopped (sled allows one process).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;

use super::Cli;
use crate::clock::Clock;
use crate::flows::login::hash_password;
use crate::model::{Registrar, RegistrarState};
use crate::store::Store;

/// `admin` options.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    /// The operator's name, recorded with every change the command makes.
    #[arg(
        long,
        global = true,
        env = "MA_REGISTRY_OPERATOR",
        default_value = "operator"
    )]
    operator: String,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Registrars (prestataires).
    Registrar {
        #[command(subcommand)]
        command: RegistrarCommand,
    },
    /// The life-cycle engine.
    Lifecycle {
        #[command(subcommand)]
        command: LifecycleCommand,
    },
    /// Transfers under registry review (R12).
    Transfer {
        #[command(subcommand)]
        command: TransferCommand,
    },
    /// Changes of registrant waiting for the registry (R13).
    Owner {
        #[command(subcommand)]
        command: OwnerCommand,
    },
}

#[derive(Debug, Subcommand)]
enum OwnerCommand {
    /// Approve the change: new registrant, new creation date, one year.
    Approve {
        /// The domain.
        name: String,
    },
    /// Reject the change: nothing changes.
    Reject {
        /// The domain.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum LifecycleCommand {
    /// Apply every transition due now (e.g. transfers at their acDate).
    Run,
}

#[derive(Debug, Subcommand)]
enum TransferCommand {
    /// Overrule a rejected transfer within its 5-day review: the registry approves it.
    Overrule {
        /// The domain.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum RegistrarCommand {
    /// Add a registrar.
    Add {
        /// Its EPP clID (3–16 characters).
        clid: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// Its EPP password (6–16 characters); read from stdin with --password-stdin.
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        /// A client certificate (PEM) it may present (repeatable).
        #[arg(long = "cert")]
        certs: Vec<PathBuf>,
        /// Its contact e-mail.
        #[arg(long)]
        email: Option<String>,
        /// Concurrent sessions allowed (default: the configured one).
        #[arg(long)]
        session_limit: Option<u32>,
        /// An address or network it may connect from (repeatable; none means any).
        #[arg(long = "allow")]
        ip_allow: Vec<ipnet::IpNet>,
    },
    /// Set the addresses a registrar may connect from (none: any address).
    Allow {
        /// The clID.
        clid: String,
        /// Addresses or networks, e.g. 192.0.2.0/24 or 2001:db8::1/128.
        nets: Vec<ipnet::IpNet>,
    },
    /// List registrars.
    List,
    /// Set a registrar's EPP password.
    Passwd {
        /// The clID.
        clid: String,
        /// The new password (6–16 characters).
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// A registrar's client certificates.
    Cert {
        #[command(subcommand)]
        command: CertCommand,
    },
}

#[derive(Debug, Subcommand)]
enum CertCommand {
    /// Record a client certificate (PEM) for the registrar.
    Add {
        /// The clID.
        clid: String,
        /// The certificate file.
        file: PathBuf,
    },
    /// Forget a certificate, by SHA-256 fingerprint.
    Remove {
        /// The clID.
        clid: String,
        /// The fingerprint (hex).
        fingerprint: String,
    },
    /// List the registrar's certificate fingerprints.
    List {
        /// The clID.
        clid: String,
    },
}

fn open_store(cli: &Cli) -> anyhow::Result<Store> {
    let settings = super::settings(cli)?;
    let dir = &settings.server.data_dir;
    Store::open(dir, 64 * 1024 * 1024).with_context(|| {
        format!(
            "cannot open the store in {} (is the server running? stop it first)",
            dir.display()
        )
    })
}

fn read_password(flag: &Option<String>, stdin: bool) -> anyhow::Result<String> {
    let password = match (flag, stdin) {
        (Some(p), _) => p.clone(),
        (None, true) => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
        (None, false) => bail!("give the password with --password or --password-stdin"),
    };
    let n = password.chars().count();
    if !(6..=16).contains(&n) {
        bail!("an EPP password has 6 to 16 characters (RFC 5730), not {n}");
    }
    Ok(password)
}

fn cert_fingerprint(file: &std::path::Path) -> anyhow::Result<String> {
    let certs = crate::transport::load_certs(file)?;
    let first = certs
        .first()
        .with_context(|| format!("{} holds no certificate", file.display()))?;
    Ok(crate::transport::fingerprint(first.as_ref()))
}

fn registrar(store: &Store, clid: &str) -> anyhow::Result<Registrar> {
    store
        .registrar(clid)?
        .with_context(|| format!("no registrar {clid}"))
}

pub fn run(cli: &Cli, args: &AdminArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(cli)?;
    let command = match &args.command {
        AdminCommand::Registrar { command } => command,
        AdminCommand::Lifecycle {
            command: LifecycleCommand::Run,
        } => {
            let now = Clock::from_env()?.now();
            let report = tokio::runtime::Runtime::new()?
                .block_on(crate::lifecycle::sweep(&store, now))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "examined": report.examined,
                        "transfers_approved": report.transfers_approved,
                        "expiry_notices": report.expiry_notices,
                        "tacit_renewals": report.tacit_renewals,
                        "purges": report.purges,
                        "deferred": report.deferred,
                        "stale": report.stale,
                    })
                );
            } else {
                println!(
                    "life-cycle run at {now}: {} due; {} transfers approved, {} expiry notices, {} tacit renewals, {} purges, {} deferred, {} no longer applicable",
                    report.examined,
                    report.transfers_approved,
                    report.expiry_notices,
                    report.tacit_renewals,
                    report.purges,
                    report.deferred,
                    report.stale
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        AdminCommand::Owner { command } => {
            let (name, approve) = match command {
                OwnerCommand::Approve { name } => (name.to_lowercase(), true),
                OwnerCommand::Reject { name } => (name.to_lowercase(), false),
            };
            let now = Clock::from_env()?.now();
            tokio::runtime::Runtime::new()?
                .block_on(crate::flows::domain::owner::decide(
                    &store,
                    &name,
                    approve,
                    now,
                    &args.operator,
                ))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let verdict = if approve { "approved" } else { "rejected" };
            println!("change of registrant of {name} {verdict}");
            return Ok(ExitCode::SUCCESS);
        }
        AdminCommand::Transfer {
            command: TransferCommand::Overrule { name },
        } => {
            let now = Clock::from_env()?.now();
            let name = name.to_lowercase();
            tokio::runtime::Runtime::new()?
                .block_on(crate::flows::domain::transfer::overrule(
                    &store,
                    &name,
                    now,
                    &args.operator,
                ))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("transfer of {name} approved by the registry (rejection overruled)");
            return Ok(ExitCode::SUCCESS);
        }
    };
    match command {
        RegistrarCommand::Add {
            clid,
            name,
            password,
            password_stdin,
            certs,
            email,
            session_limit,
            ip_allow,
        } => {
            if !(3..=16).contains(&clid.chars().count())
                || !clid
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                bail!("a clID has 3 to 16 letters, digits, '-' or '_'");
            }
            if store.registrar(clid)?.is_some() {
                bail!("registrar {clid} exists already");
            }
            let password = read_password(password, *password_stdin)?;
            let fingerprints = certs
                .iter()
                .map(|f| cert_fingerprint(f))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let r = Registrar {
                id: clid.clone(),
                name: name.clone(),
                password_hash: hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?,
                cert_fingerprints: fingerprints,
                ip_allow: ip_allow.clone(),
                session_limit: *session_limit,
                state: RegistrarState::Active,
                email: email.clone(),
                created: Clock::from_env()?.now(),
            };
            store.put_registrar(&r)?;
            store.flush_now()?;
            println!("registrar {clid} added");
        }
        RegistrarCommand::Allow { clid, nets } => {
            let mut r = registrar(&store, clid)?;
            r.ip_allow.clone_from(nets);
            store.put_registrar(&r)?;
            store.flush_now()?;
            if nets.is_empty() {
                println!("{clid} may connect from any address");
            } else {
                let list: Vec<String> = nets.iter().map(ToString::to_string).collect();
                println!("{clid} may connect from {}", list.join(", "));
            }
        }
        RegistrarCommand::List => {
            let all = store.registrars()?;
            if args.json {
                let rows: Vec<serde_json::Value> = all
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "clid": r.id,
                            "name": r.name,
                            "state": format!("{:?}", r.state).to_lowercase(),
                            "certificates": r.cert_fingerprints,
                            "ip_allow": r.ip_allow.iter().map(ToString::to_string).collect::<Vec<_>>(),
                            "session_limit": r.session_limit,
                            "email": r.email,
                            "created": r.created.to_rfc3339(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!("{:<16} {:<10} {:>5}  NAME", "CLID", "STATE", "CERTS");
                for r in &all {
                    println!(
                        "{:<16} {:<10} {:>5}  {}",
                        r.id,
                        format!("{:?}", r.state).to_lowercase(),
                        r.cert_fingerprints.len(),
                        r.name
                    );
                }
            }
        }
        RegistrarCommand::Passwd {
            clid,
            password,
            password_stdin,
        } => {
            let mut r = registrar(&store, clid)?;
            let password = read_password(password, *password_stdin)?;
            r.password_hash = hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
            store.put_registrar(&r)?;
            store.flush_now()?;
            println!("password of {clid} changed");
        }
        RegistrarCommand::Cert { command } => match command {
            CertCommand::Add { clid, file } => {
                let mut r = registrar(&store, clid)?;
                let fp = cert_fingerprint(file)?;
                if r.cert_fingerprints.contains(&fp) {
                    bail!("that certificate is recorded for {clid} already");
                }
                r.cert_fingerprints.push(fp.clone());
                store.put_registrar(&r)?;
                store.flush_now()?;
                println!("certificate {fp} recorded for {clid}");
            }
            CertCommand::Remove { clid, fingerprint } => {
                let mut r = registrar(&store, clid)?;
                let before = r.cert_fingerprints.len();
                r.cert_fingerprints
                    .retain(|f| !f.eq_ignore_ascii_case(fingerprint));
                if r.cert_fingerprints.len() == before {
                    bail!("{clid} has no certificate {fingerprint}");
                }
                store.put_registrar(&r)?;
                store.flush_now()?;
                println!("certificate {fingerprint} removed from {clid}");
            }
            CertCommand::List { clid } => {
                let r = registrar(&store, clid)?;
                if args.json {
                    println!("{}", serde_json::to_string_pretty(&r.cert_fingerprints)?);
                } else {
                    for fp in &r.cert_fingerprints {
                        println!("{fp}");
                    }
                }
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
