//! `admin …`: the operator's commands. In this version they open the store
//! directly, so the server must be stopped (sled allows one process).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;

use super::Cli;
use crate::clock::Clock;
use crate::config::Settings;
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
    /// The history of an object: every change, who made it, when, with which command (R24).
    History {
        /// domain, contact or host.
        kind: String,
        /// The name or id.
        name: String,
    },
    /// Contacts' identity documents (R15).
    Contact {
        #[command(subcommand)]
        command: ContactCommand,
    },
    /// Creates in restricted zones waiting for the registry (R2).
    Create {
        #[command(subcommand)]
        command: CreateCommand,
    },
    /// Orders of the authorities on a domain (R5).
    Domain {
        #[command(subcommand)]
        command: DomainCommand,
    },
    /// Disputes (R18).
    Dispute {
        #[command(subcommand)]
        command: DisputeCommand,
    },
    /// Reserved terms (R4).
    Reserved {
        #[command(subcommand)]
        command: ReservedCommand,
    },
    /// Blocked terms (R5).
    Blocked {
        #[command(subcommand)]
        command: BlockedCommand,
    },
    /// Allocation tokens for reserved names (R4, RFC 8495).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ContactCommand {
    /// Record a contact's identity document (for registrars that do not send it by EPP).
    Identity {
        /// The contact id.
        id: String,
        /// cin, residence, passport, rc, ice or other.
        #[arg(long = "type")]
        kind: String,
        /// The document number.
        #[arg(long)]
        number: String,
    },
    /// Record the verification of a contact's identity document.
    Verify {
        /// The contact id.
        id: String,
        /// The document is rejected (default: verified).
        #[arg(long)]
        rejected: bool,
        /// A note on the verification.
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum DomainCommand {
    /// Delete a domain on a written order of the authorities (R5): it leaves
    /// the zone at once, skips redemption and its name is blocked.
    DeleteByOrder {
        /// The domain.
        name: String,
        /// The order's reference.
        #[arg(long)]
        order: String,
        /// The reason.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
enum DisputeCommand {
    /// Open a dispute: the domain stays active, every change answers 2304.
    Open {
        /// The domain.
        name: String,
        /// The case.
        #[arg(long)]
        reason: String,
    },
    /// Close a dispute and apply the decision.
    Close {
        /// The domain.
        name: String,
        /// keep, move or delete.
        #[arg(long)]
        decision: String,
        /// With `move`: the new registrar.
        #[arg(long)]
        registrar: Option<String>,
        /// With `move`: the new registrant contact.
        #[arg(long)]
        registrant: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum CreateCommand {
    /// Approve a pending create: the domain becomes active.
    Approve {
        /// The domain.
        name: String,
    },
    /// Mark a pending create incomplete: the sponsor has 2 business days to
    /// send the missing proof reference by domain:update.
    Incomplete {
        /// The domain.
        name: String,
        /// What is missing, for the registrar.
        #[arg(long)]
        missing: String,
    },
    /// Reject a pending create: the name is free again.
    Reject {
        /// The domain.
        name: String,
        /// Why, for the registrar.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
enum ReservedCommand {
    /// List reserved terms with their category.
    List,
    /// Reserve a term under a category (technical, profession, state, city).
    Add {
        /// The category.
        category: String,
        /// The term (a label, Unicode or A-label).
        term: String,
    },
    /// Release a term.
    Remove {
        /// The term.
        term: String,
    },
    /// Load a file of `CATEGORY TERM` lines; with --replace, it replaces the list.
    Import {
        /// The file.
        file: PathBuf,
        /// Remove every term not in the file.
        #[arg(long)]
        replace: bool,
    },
    /// Print the list as a file `import` reads.
    Export,
}

#[derive(Debug, Subcommand)]
enum BlockedCommand {
    /// List blocked terms with their reason.
    List,
    /// Block a term.
    Add {
        /// The term (a label).
        term: String,
        /// Why (e.g. public order, an authority's order reference).
        #[arg(long)]
        reason: String,
    },
    /// Unblock a term.
    Remove {
        /// The term.
        term: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Issue a single-use token for one reserved name; prints the token.
    Issue {
        /// The exact domain name it allows.
        name: String,
    },
    /// List tokens and whether they were used.
    List,
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
    /// Suspend a registrar: it cannot log in until activated again.
    Suspend {
        /// The clID.
        clid: String,
    },
    /// Terminate a registrar (R19): it cannot log in; its domains stay
    /// until their expiry, then are deleted unless moved.
    Terminate {
        /// The clID.
        clid: String,
    },
    /// Make a suspended (or terminated) registrar active again.
    Activate {
        /// The clID.
        clid: String,
    },
    /// Move every domain of a registrar to another (R19); both get poll messages.
    Move {
        /// The registrar losing the domains.
        from: String,
        /// The registrar gaining them.
        to: String,
    },
    /// Credit a registrar's prepaid balance (R23).
    Credit {
        /// The clID.
        clid: String,
        /// The amount, e.g. 1000.00.
        amount: f64,
        /// What it is (payment reference).
        #[arg(long, default_value = "credit")]
        note: String,
    },
    /// Show a registrar's balance (R23).
    Balance {
        /// The clID.
        clid: String,
    },
    /// List a registrar's ledger: every charge and credit (R23).
    Ledger {
        /// The clID.
        clid: String,
    },
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
    let store = Store::open(dir, 64 * 1024 * 1024).with_context(|| {
        format!(
            "cannot open the store in {} (is the server running? stop it first)",
            dir.display()
        )
    })?;
    crate::policy::terms::seed_reserved_once(&store)?;
    Ok(store)
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
                .block_on(crate::lifecycle::sweep(&store, now, &super::settings(cli)?))
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
                        "suspensions": report.suspensions,
                        "lapsed": report.lapsed,
                        "deferred": report.deferred,
                        "stale": report.stale,
                    })
                );
            } else {
                println!(
                    "life-cycle run at {now}: {} due; {} transfers approved, {} expiry notices, {} tacit renewals or terminated-registrar deletions, {} purges, {} suspensions, {} lapsed requests, {} deferred, {} no longer applicable",
                    report.examined,
                    report.transfers_approved,
                    report.expiry_notices,
                    report.tacit_renewals,
                    report.purges,
                    report.suspensions,
                    report.lapsed,
                    report.deferred,
                    report.stale
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        AdminCommand::History { kind, name } => {
            if !["domain", "contact", "host"].contains(&kind.as_str()) {
                bail!("the kind is domain, contact or host");
            }
            let name = if kind == "contact" {
                name.clone()
            } else {
                name.to_lowercase()
            };
            let records = store.history(kind, &name)?;
            if records.is_empty() {
                bail!("no history for {kind} {name}");
            }
            if args.json {
                let rows: Vec<_> = records
                    .iter()
                    .map(|h| {
                        serde_json::json!({
                            "at": h.audit.at.to_rfc3339(),
                            "who": h.audit.who,
                            "command": h.audit.command,
                            "cltrid": h.audit.cl_trid,
                            "svtrid": h.audit.sv_trid,
                            "after": h.after.as_deref().and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok()),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!(
                    "{:<24} {:<22} {:<28} {:<20} CLTRID",
                    "WHEN", "WHO", "COMMAND", "SVTRID"
                );
                for h in &records {
                    println!(
                        "{:<24} {:<22} {:<28} {:<20} {}",
                        h.audit.at.format("%Y-%m-%d %H:%M:%S UTC"),
                        h.audit.who,
                        h.audit.command,
                        h.audit.sv_trid,
                        h.audit.cl_trid.as_deref().unwrap_or("-")
                    );
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        AdminCommand::Contact { command } => {
            let now = Clock::from_env()?.now();
            let runtime = tokio::runtime::Runtime::new()?;
            match command {
                ContactCommand::Identity { id, kind, number } => {
                    let kind = crate::model::IdentityKind::parse(kind).with_context(|| {
                        format!("{kind:?} is not one of cin, residence, passport, rc, ice, other")
                    })?;
                    let doc = crate::model::IdentityDoc {
                        kind,
                        number: number.clone(),
                    };
                    runtime
                        .block_on(crate::flows::contact::verify::record_identity(
                            &store,
                            id,
                            &doc,
                            now,
                            &args.operator,
                        ))
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("identity document of {id} recorded (submitted)");
                }
                ContactCommand::Verify { id, rejected, note } => {
                    let verdict = if *rejected {
                        crate::model::Verification::Rejected
                    } else {
                        crate::model::Verification::Verified
                    };
                    let changes = runtime
                        .block_on(crate::flows::contact::verify::record_verification(
                            &store,
                            id,
                            verdict,
                            note.as_deref(),
                            now,
                            &args.operator,
                        ))
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!(
                        "identity of {id} {}; {} domains suspended, {} lifted",
                        verdict.as_str(),
                        changes.suspended,
                        changes.lifted
                    );
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        AdminCommand::Create { command } => {
            use crate::flows::domain::pending_create::{Decision, decide};
            let (name, decision) = match command {
                CreateCommand::Approve { name } => (name.to_lowercase(), Decision::Approve),
                CreateCommand::Reject { name, reason } => {
                    (name.to_lowercase(), Decision::Reject(reason.clone()))
                }
                CreateCommand::Incomplete { name, missing } => {
                    let name = name.to_lowercase();
                    let now = Clock::from_env()?.now();
                    let deadline = tokio::runtime::Runtime::new()?
                        .block_on(crate::flows::domain::pending_create::mark_incomplete(
                            &store,
                            &name,
                            missing,
                            now,
                            &args.operator,
                        ))
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("request for {name} marked incomplete; it lapses at {deadline}");
                    return Ok(ExitCode::SUCCESS);
                }
            };
            let now = Clock::from_env()?.now();
            let verdict = if decision == Decision::Approve {
                "approved"
            } else {
                "rejected"
            };
            tokio::runtime::Runtime::new()?
                .block_on(decide(&store, &name, decision, now, &args.operator))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("creation of {name} {verdict}");
            return Ok(ExitCode::SUCCESS);
        }
        AdminCommand::Domain {
            command:
                DomainCommand::DeleteByOrder {
                    name,
                    order,
                    reason,
                },
        } => {
            let name = name.to_lowercase();
            let now = Clock::from_env()?.now();
            tokio::runtime::Runtime::new()?
                .block_on(crate::flows::domain::authority::delete_by_order(
                    &store,
                    &name,
                    order,
                    reason,
                    now,
                    &args.operator,
                ))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{name} deleted by order {order} and blocked");
            return Ok(ExitCode::SUCCESS);
        }
        AdminCommand::Dispute { command } => {
            use crate::flows::domain::authority::{DisputeDecision, close_dispute, open_dispute};
            let now = Clock::from_env()?.now();
            let runtime = tokio::runtime::Runtime::new()?;
            match command {
                DisputeCommand::Open { name, reason } => {
                    let name = name.to_lowercase();
                    runtime
                        .block_on(open_dispute(&store, &name, reason, now, &args.operator))
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("dispute opened on {name}");
                }
                DisputeCommand::Close {
                    name,
                    decision,
                    registrar,
                    registrant,
                } => {
                    let name = name.to_lowercase();
                    let decision = match decision.as_str() {
                        "keep" => DisputeDecision::Keep,
                        "delete" => DisputeDecision::Delete,
                        "move" => DisputeDecision::Move {
                            registrar: registrar.clone().context("move needs --registrar")?,
                            registrant: registrant.clone().context("move needs --registrant")?,
                        },
                        other => bail!("decision {other:?}: use keep, move or delete"),
                    };
                    runtime
                        .block_on(close_dispute(&store, &name, &decision, now, &args.operator))
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("dispute on {name} closed");
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        AdminCommand::Reserved { command } => return reserved(&store, command, args.json),
        AdminCommand::Blocked { command } => return blocked(&store, command, args.json),
        AdminCommand::Token { command } => {
            let settings = super::settings(cli)?;
            return token(&store, &settings, command, args.json, &args.operator);
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
                    &super::settings(cli)?,
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
        RegistrarCommand::Suspend { clid }
        | RegistrarCommand::Terminate { clid }
        | RegistrarCommand::Activate { clid } => {
            let state = match command {
                RegistrarCommand::Suspend { .. } => RegistrarState::Suspended,
                RegistrarCommand::Terminate { .. } => RegistrarState::Terminated,
                _ => RegistrarState::Active,
            };
            crate::flows::registrar::set_state(&store, clid, state)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.flush_now()?;
            println!("{clid} is now {}", format!("{state:?}").to_lowercase());
        }
        RegistrarCommand::Move { from, to } => {
            let now = Clock::from_env()?.now();
            let moved = tokio::runtime::Runtime::new()?
                .block_on(crate::flows::registrar::move_domains(
                    &store,
                    from,
                    to,
                    now,
                    &args.operator,
                ))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{moved} domains moved from {from} to {to}");
        }
        RegistrarCommand::Credit { clid, amount, note } => {
            registrar(&store, clid)?;
            if !amount.is_finite() || *amount <= 0.0 {
                bail!("a credit is a positive amount");
            }
            let cents = crate::config::to_centimes(*amount);
            let now = Clock::from_env()?.now();
            let audit = crate::flows::registry_audit(
                &store,
                now,
                &format!("operator:{}", args.operator),
                "admin:registrar-credit",
            );
            let balance = store.credit(clid, cents, note, &audit)?;
            store.flush_now()?;
            let currency = super::settings(cli)?.billing.currency;
            println!(
                "{clid} credited {} {currency}; balance {} {currency}",
                crate::config::format_amount(cents),
                crate::config::format_amount(balance)
            );
        }
        RegistrarCommand::Balance { clid } => {
            registrar(&store, clid)?;
            let balance = store.balance(clid)?;
            let currency = super::settings(cli)?.billing.currency;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"clid": clid, "balance": crate::config::format_amount(balance), "currency": currency})
                );
            } else {
                println!("{} {currency}", crate::config::format_amount(balance));
            }
        }
        RegistrarCommand::Ledger { clid } => {
            registrar(&store, clid)?;
            let entries = store.ledger(clid)?;
            if args.json {
                let rows: Vec<_> = entries
                    .iter()
                    .map(|e| {
                        serde_json::json!({
                            "at": e.at.to_rfc3339(),
                            "amount": crate::config::format_amount(e.amount),
                            "balance": crate::config::format_amount(e.balance),
                            "description": e.description,
                            "svtrid": e.sv_trid,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!(
                    "{:<22} {:>12} {:>12}  DESCRIPTION",
                    "WHEN", "AMOUNT", "BALANCE"
                );
                for e in &entries {
                    println!(
                        "{:<22} {:>12} {:>12}  {}",
                        e.at.format("%Y-%m-%d %H:%M:%S"),
                        crate::config::format_amount(e.amount),
                        crate::config::format_amount(e.balance),
                        e.description
                    );
                }
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

fn term(raw: &str) -> anyhow::Result<String> {
    crate::policy::terms::normalize_term(raw).with_context(|| format!("{raw:?} is not a label"))
}

fn reserved(store: &Store, command: &ReservedCommand, json: bool) -> anyhow::Result<ExitCode> {
    use crate::policy::terms::{CATEGORIES, parse_reserved};
    match command {
        ReservedCommand::List | ReservedCommand::Export => {
            let terms = store.terms(true)?;
            if json && matches!(command, ReservedCommand::List) {
                let rows: Vec<_> = terms
                    .iter()
                    .map(|(t, c)| serde_json::json!({"term": t, "category": c}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for (t, c) in terms {
                    println!("{c} {t}");
                }
            }
        }
        ReservedCommand::Add {
            category,
            term: raw,
        } => {
            if !CATEGORIES.contains(&category.as_str()) {
                bail!("unknown category {category:?}; use one of {CATEGORIES:?}");
            }
            let t = term(raw)?;
            store.put_reserved(&t, category)?;
            store.flush_now()?;
            println!("{t} reserved ({category})");
        }
        ReservedCommand::Remove { term: raw } => {
            let t = term(raw)?;
            if !store.remove_reserved(&t)? {
                bail!("{t} is not reserved");
            }
            store.flush_now()?;
            println!("{t} released");
        }
        ReservedCommand::Import { file, replace } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let terms = match parse_reserved(&text) {
                Ok(terms) => terms,
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}: {e}", file.display());
                    }
                    bail!("{} invalid lines; nothing imported", errors.len());
                }
            };
            if *replace {
                for (t, _) in store.terms(true)? {
                    if !terms.iter().any(|(n, _)| *n == t) {
                        store.remove_reserved(&t)?;
                    }
                }
            }
            for (t, c) in &terms {
                store.put_reserved(t, c)?;
            }
            store.mark_terms_seeded()?;
            store.flush_now()?;
            println!("{} reserved terms imported", terms.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn blocked(store: &Store, command: &BlockedCommand, json: bool) -> anyhow::Result<ExitCode> {
    match command {
        BlockedCommand::List => {
            let terms = store.terms(false)?;
            if json {
                let rows: Vec<_> = terms
                    .iter()
                    .map(|(t, r)| serde_json::json!({"term": t, "reason": r}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for (t, r) in terms {
                    println!("{t}\t{r}");
                }
            }
        }
        BlockedCommand::Add { term: raw, reason } => {
            let t = term(raw)?;
            store.put_blocked(&t, reason)?;
            store.flush_now()?;
            println!("{t} blocked");
        }
        BlockedCommand::Remove { term: raw } => {
            let t = term(raw)?;
            if !store.remove_blocked(&t)? {
                bail!("{t} is not blocked");
            }
            store.flush_now()?;
            println!("{t} unblocked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn token(
    store: &Store,
    settings: &Settings,
    command: &TokenCommand,
    json: bool,
    operator: &str,
) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Issue { name } => {
            let name = crate::policy::r1_r3_registrable_name(name, settings)
                .map_err(|e| anyhow::anyhow!("{}", e.error))?
                .name;
            let token = format!(
                "MA-{}",
                crate::flows::domain::transfer::random_auth_info()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "x")
            );
            store.put_token(&crate::model::AllocationToken {
                token: token.clone(),
                name: name.clone(),
                issued: Clock::from_env()?.now(),
                issued_by: operator.to_owned(),
                used: None,
            })?;
            store.flush_now()?;
            if json {
                println!("{}", serde_json::json!({"token": token, "name": name}));
            } else {
                println!("{token}");
            }
        }
        TokenCommand::List => {
            let tokens = store.tokens()?;
            if json {
                let rows: Vec<_> = tokens
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "token": t.token,
                            "name": t.name,
                            "issued": t.issued.to_rfc3339(),
                            "issued_by": t.issued_by,
                            "used": t.used.map(|u| u.to_rfc3339()),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for t in tokens {
                    let used = t
                        .used
                        .map(|u| format!("used {}", u.format("%Y-%m-%d")))
                        .unwrap_or_else(|| "unused".into());
                    println!("{}\t{}\t{used}", t.token, t.name);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
