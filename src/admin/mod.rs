//! The operator's commands (`ma-registry admin …`): their arguments, and
//! [`execute`], which runs one on a store and writes its report. The same
//! code runs in the server (reached through [`socket`]) and, when no server
//! is running, on the store opened by the command itself.

mod reports;
pub mod socket;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Subcommand;

use crate::config::Settings;
use crate::flows::login::hash_password;
use crate::model::{Registrar, RegistrarState};
use crate::store::Store;

/// Writes one line of a command's report.
macro_rules! say {
    ($ctx:expr, $($arg:tt)*) => {
        let _ = writeln!($ctx.out, $($arg)*);
    };
}

/// Writes one line of a command's diagnostics.
macro_rules! say_err {
    ($ctx:expr, $($arg:tt)*) => {
        let _ = writeln!($ctx.err, $($arg)*);
    };
}

mod data;
mod store_check;

pub(crate) use store_check::StoreCommand;

/// What one operator command runs with.
pub struct Ctx<'a> {
    /// The store.
    pub store: &'a Store,
    /// The settings of the server (or of the command when offline).
    pub settings: &'a Settings,
    /// The registry's time.
    pub now: DateTime<Utc>,
    /// The operator's name, recorded with every change.
    pub operator: String,
    /// Report as JSON.
    pub json: bool,
    /// The directory relative file names are read from.
    pub cwd: PathBuf,
    /// The command's standard input, when it reads one.
    pub stdin: Option<String>,
    /// The report.
    pub out: String,
    /// Diagnostics.
    pub err: String,
}

impl Ctx<'_> {
    /// `file` relative to the operator's working directory.
    fn path(&self, file: &Path) -> PathBuf {
        self.cwd.join(file)
    }
}

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
    pub operator: String,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// The command.
    #[command(subcommand)]
    pub(crate) command: AdminCommand,
}

/// A postal address on the command line.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct AddressArgs {
    /// A street line (1 to 3).
    #[arg(long = "street")]
    street: Vec<String>,
    /// City.
    #[arg(long)]
    city: Option<String>,
    /// State or province.
    #[arg(long)]
    sp: Option<String>,
    /// Postal code.
    #[arg(long)]
    pc: Option<String>,
    /// ISO 3166 country code, e.g. MA.
    #[arg(long)]
    cc: Option<String>,
}

impl AddressArgs {
    /// The address, `None` when none is given; an incomplete one is refused.
    fn parse(&self) -> anyhow::Result<Option<crate::model::RegistrarAddress>> {
        if self.street.is_empty() && self.city.is_none() && self.cc.is_none() {
            return Ok(None);
        }
        if !(1..=3).contains(&self.street.len()) {
            bail!("an address has 1 to 3 --street lines");
        }
        let city = self.city.clone().context("an address needs --city")?;
        let cc = self.cc.as_deref().context("an address needs --cc")?;
        if cc.len() != 2 || !cc.chars().all(|c| c.is_ascii_alphabetic()) {
            bail!("--cc is a two-letter ISO 3166 code, not {cc:?}");
        }
        Ok(Some(crate::model::RegistrarAddress {
            street: self.street.clone(),
            city,
            sp: self.sp.clone(),
            pc: self.pc.clone(),
            cc: cc.to_ascii_uppercase(),
        }))
    }
}

/// `admin status …`
#[derive(Debug, Subcommand)]
pub(crate) enum StatusCommand {
    /// Add a registry status, e.g. `status add domain exemple.ma serverHold --reason "…"`.
    Add(StatusArgs),
    /// Remove a registry status.
    Remove(StatusArgs),
}

/// The object, the status and the reason of `admin status add|remove`.
#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    /// domain, contact or host.
    kind: String,
    /// The name or id.
    name: String,
    /// The status: serverHold, serverUpdateProhibited, serverDeleteProhibited,
    /// serverTransferProhibited, serverRenewProhibited.
    status: String,
    /// Why (told to the sponsor).
    #[arg(long)]
    reason: String,
}

/// `admin report …`
#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// R21: domains created in the last 12 months per registrar against the
    /// minimum of 50 a year.
    Minimum,
}

/// The operator's commands.
#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// The store itself: `store verify` reads it all back and walks the
    /// history chain.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
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
    /// Add or remove a registry status (`server*`) on a domain, contact or
    /// host; the sponsor is told by poll message.
    Status {
        #[command(subcommand)]
        command: StatusCommand,
    },
    /// Everything waiting for the registry (R20): restricted creates,
    /// ownership changes, transfer rejections under review, identity
    /// documents to verify; with age and due date, overdue first.
    Waiting,
    /// Reports: `minimum`, the creates of the last 12 months per registrar
    /// against R21's yearly minimum.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Domains per zone, per status and per registrar.
    Stats,
    /// Write a consistent copy of the whole store to FILE, also while the
    /// server runs (writes wait for it).
    Backup {
        /// The backup file (relative to the working directory).
        file: PathBuf,
    },
    /// Restore a backup into the data directory, which must be new or
    /// empty, with the server stopped.
    Restore {
        /// The backup file.
        file: PathBuf,
    },
    /// Rewrite the store in key order and check it, with the server
    /// stopped: less disk, less memory and a faster start after an import
    /// or years of service.
    Compact {
        /// Keep the previous store as DATA_DIR.before-compact.
        #[arg(long)]
        keep_old: bool,
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
    ///
    /// `history verify` checks the chain of every history record instead:
    /// each holds the hash of the one before, so a record changed or removed
    /// afterwards shows.
    History {
        /// domain, contact, host or registrar; or `verify`.
        kind: String,
        /// The name or id.
        name: Option<String>,
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
    /// The DNS zones: RFC 1035 master files for the name servers.
    Zone {
        #[command(subcommand)]
        command: crate::zone::ZoneCommand,
    },
    /// Data escrow deposits (RFC 8909, RFC 9022).
    Escrow {
        #[command(subcommand)]
        command: data::EscrowCommand,
    },
    /// Load registrations from the legacy system (JSON lines, docs/import.md).
    Import {
        /// The file.
        file: PathBuf,
        /// Check every line, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ContactCommand {
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
pub(crate) enum DomainCommand {
    /// A domain as it is, or as it was at a past instant (`--at`, RFC 3339),
    /// from its history (R24), for disputes (R18).
    Show {
        /// The domain.
        name: String,
        /// The instant, e.g. 2026-03-01T12:00:00Z.
        #[arg(long)]
        at: Option<String>,
    },
    /// R12: the registrar did not give the registrant the authInfo within
    /// 3 days: set a fresh one and mail it to the registrant's address
    /// (through `[mail]`); the old one stops working.
    SendAuthinfo {
        /// The domain.
        name: String,
    },
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
pub(crate) enum DisputeCommand {
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
pub(crate) enum CreateCommand {
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
pub(crate) enum ReservedCommand {
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
pub(crate) enum BlockedCommand {
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
    /// Load a file of `TERM REASON` lines (the `export` format); nothing is
    /// loaded when a line is bad.
    Import {
        /// The file.
        file: PathBuf,
        /// Unblock the terms the file does not list.
        #[arg(long)]
        replace: bool,
    },
    /// Print the list in the file format.
    Export,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Issue a single-use token for one reserved name; prints the token.
    Issue {
        /// The exact domain name it allows.
        name: String,
    },
    /// List tokens and whether they were used.
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OwnerCommand {
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
pub(crate) enum LifecycleCommand {
    /// Apply every transition due now (e.g. transfers at their acDate).
    Run,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TransferCommand {
    /// Overrule a rejected transfer within its 5-day review: the registry approves it.
    Overrule {
        /// The domain.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RegistrarCommand {
    /// Add a registrar.
    Add {
        /// Its EPP clID (3–16 characters).
        clid: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// Its EPP password (6–128 characters; over 16 it is sent with RFC 8807); read from stdin with --password-stdin.
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
        /// Its postal address (escrow deposits need one).
        #[command(flatten)]
        address: AddressArgs,
    },
    /// Set a registrar's postal address (data escrow, RFC 9022, requires one).
    Address {
        /// The clID.
        clid: String,
        /// The address.
        #[command(flatten)]
        address: AddressArgs,
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
    /// Everything about one registrar: state, contact, certificates,
    /// addresses, session limit, balance, domains, queued poll messages.
    Show {
        /// The clID.
        clid: String,
    },
    /// Set a registrar's limit of concurrent EPP sessions (no value: the
    /// configured default).
    Limit {
        /// The clID.
        clid: String,
        /// Sessions allowed at once.
        sessions: Option<u32>,
    },
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
        /// The new password (6–128 characters; over 16 it is sent with RFC 8807).
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
pub(crate) enum CertCommand {
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

/// The longest registrar password the registry sets: passphrases fit.
const MAX_PASSWORD_CHARS: usize = 128;

fn read_password(ctx: &mut Ctx<'_>, flag: &Option<String>, stdin: bool) -> anyhow::Result<String> {
    let password = match (flag, stdin) {
        (Some(p), _) => p.clone(),
        (None, true) => ctx
            .stdin
            .as_deref()
            .and_then(|text| text.lines().next())
            .context("--password-stdin: nothing on standard input")?
            .to_owned(),
        (None, false) => bail!("give the password with --password or --password-stdin"),
    };
    let n = password.chars().count();
    if !(6..=MAX_PASSWORD_CHARS).contains(&n) {
        bail!("an EPP password has 6 to {MAX_PASSWORD_CHARS} characters, not {n}");
    }
    if password.trim() != password
        || password.contains("  ")
        || password.contains(['\t', '\r', '\n'])
    {
        bail!(
            "an EPP password is an XML token: no space at either end, no run of spaces, no tab or line break"
        );
    }
    if n > 16 {
        say_err!(
            ctx,
            "note: a password over 16 characters is sent in <loginSec:pw> (RFC 8807 login security)"
        );
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

/// The audit record of an operator's change (R24).
fn operator_audit(ctx: &Ctx<'_>, command: &str) -> crate::model::Audit {
    crate::store::registry_audit(
        ctx.store,
        ctx.now,
        &format!("operator:{}", ctx.operator),
        command,
    )
}

fn registrar(store: &Store, clid: &str) -> anyhow::Result<Registrar> {
    store
        .registrar(clid)?
        .with_context(|| format!("no registrar {clid}"))
}

/// Runs one operator command on `ctx.store`, writing its report to
/// `ctx.out`. The same code serves the offline store and the running server.
///
/// # Errors
/// Any refusal, with the reason for the operator.
pub(crate) async fn execute(ctx: &mut Ctx<'_>, command: &AdminCommand) -> anyhow::Result<()> {
    let store = ctx.store.clone();
    let command = match command {
        AdminCommand::Registrar { command } => command,
        AdminCommand::Escrow { command } => return data::escrow(ctx, command).await,
        AdminCommand::Store { command } => return store_check::run(ctx, command).await,
        AdminCommand::Import { file, dry_run } => return data::import(ctx, file, *dry_run).await,
        AdminCommand::Lifecycle {
            command: LifecycleCommand::Run,
        } => {
            let now = ctx.now;
            let report = crate::lifecycle::sweep(&store, now, ctx.settings)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if ctx.json {
                say!(
                    ctx,
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
                say!(
                    ctx,
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
            return Ok(());
        }
        AdminCommand::History { kind, name: None } if kind == "verify" => {
            let store = store.clone();
            let check = tokio::task::spawn_blocking(move || store.verify_history())
                .await
                .context("the history check failed")??;
            match check {
                crate::store::ChainCheck::Intact { records } => {
                    if ctx.json {
                        say!(
                            ctx,
                            "{}",
                            serde_json::json!({"intact": true, "records": records})
                        );
                    } else {
                        say!(
                            ctx,
                            "history intact: {records} records, each holding the hash of the one before"
                        );
                    }
                    return Ok(());
                }
                crate::store::ChainCheck::Broken { place, reason } => {
                    if ctx.json {
                        say!(
                            ctx,
                            "{}",
                            serde_json::json!({"intact": false, "place": place, "reason": reason})
                        );
                    }
                    bail!("the history chain is broken at record {place}: {reason}");
                }
            }
        }
        AdminCommand::History { kind, name } => {
            const KINDS: [&str; 7] = [
                "domain",
                "contact",
                "host",
                "registrar",
                "reserved",
                "blocked",
                "token",
            ];
            if !KINDS.contains(&kind.as_str()) {
                bail!(
                    "the kind is one of {} (or: history verify)",
                    KINDS.join(", ")
                );
            }
            let name = name.as_deref().context("which one? history KIND NAME")?;
            let name = if ["contact", "registrar", "token"].contains(&kind.as_str()) {
                name.to_owned()
            } else {
                name.to_lowercase()
            };
            let records = store.history(kind, &name)?;
            if records.is_empty() {
                bail!("no history for {kind} {name}");
            }
            if ctx.json {
                let rows: Vec<_> = records
                    .iter()
                    .map(|h| {
                        serde_json::json!({
                            "at": h.audit.at.to_rfc3339(),
                            "who": h.audit.who,
                            "command": h.audit.command,
                            "cltrid": h.audit.cl_trid,
                            "svtrid": h.audit.sv_trid,
                            "request": h.audit.request,
                            "after": h.after.as_deref().and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok()),
                        })
                    })
                    .collect();
                say!(ctx, "{}", serde_json::to_string_pretty(&rows)?);
            } else {
                say!(
                    ctx,
                    "{:<24} {:<22} {:<28} {:<20} CLTRID",
                    "WHEN",
                    "WHO",
                    "COMMAND",
                    "SVTRID"
                );
                for h in &records {
                    say!(
                        ctx,
                        "{:<24} {:<22} {:<28} {:<20} {}",
                        h.audit.at.format("%Y-%m-%d %H:%M:%S UTC"),
                        h.audit.who,
                        h.audit.command,
                        h.audit.sv_trid,
                        h.audit.cl_trid.as_deref().unwrap_or("-")
                    );
                }
            }
            return Ok(());
        }
        AdminCommand::Contact { command } => {
            let now = ctx.now;
            match command {
                ContactCommand::Identity { id, kind, number } => {
                    let kind = crate::model::IdentityKind::parse(kind).with_context(|| {
                        format!("{kind:?} is not one of cin, residence, passport, rc, ice, other")
                    })?;
                    let doc = crate::model::IdentityDoc {
                        kind,
                        number: number.clone(),
                    };
                    crate::flows::contact::verify::record_identity(
                        &store,
                        id,
                        &doc,
                        now,
                        &ctx.operator,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    say!(ctx, "identity document of {id} recorded (submitted)");
                }
                ContactCommand::Verify { id, rejected, note } => {
                    let verdict = if *rejected {
                        crate::model::Verification::Rejected
                    } else {
                        crate::model::Verification::Verified
                    };
                    let changes = crate::flows::contact::verify::record_verification(
                        &store,
                        id,
                        verdict,
                        note.as_deref(),
                        now,
                        &ctx.operator,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    say!(
                        ctx,
                        "identity of {id} {}; {} domains suspended, {} lifted",
                        verdict.as_str(),
                        changes.suspended,
                        changes.lifted
                    );
                }
            }
            return Ok(());
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
                    let now = ctx.now;
                    let deadline = crate::flows::domain::pending_create::mark_incomplete(
                        &store,
                        &name,
                        missing,
                        now,
                        &ctx.operator,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    say!(
                        ctx,
                        "request for {name} marked incomplete; it lapses at {deadline}"
                    );
                    return Ok(());
                }
            };
            let now = ctx.now;
            let verdict = if decision == Decision::Approve {
                "approved"
            } else {
                "rejected"
            };
            decide(&store, &name, decision, now, &ctx.operator)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            say!(ctx, "creation of {name} {verdict}");
            return Ok(());
        }
        AdminCommand::Domain {
            command: DomainCommand::Show { name, at },
        } => {
            let name = name.to_lowercase();
            let at = match at {
                Some(text) => chrono::DateTime::parse_from_rfc3339(text)
                    .with_context(|| format!("{text:?} is not an RFC 3339 instant"))?
                    .with_timezone(&Utc),
                None => ctx.now,
            };
            let records = store.history("domain", &name)?;
            if records.is_empty() {
                bail!("{name} has no history: it never existed");
            }
            let Some(record) = records.iter().rev().find(|h| h.audit.at <= at) else {
                bail!("{name} did not exist yet at {at}");
            };
            let Some(after) = &record.after else {
                bail!(
                    "{name} did not exist at {at}: deleted at {} by {}",
                    record.audit.at,
                    record.audit.who
                );
            };
            let state: serde_json::Value =
                serde_json::from_str(after).context("a history record that is not JSON")?;
            say!(
                ctx,
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "name": name,
                    "at": at.to_rfc3339(),
                    "as_of_change": {
                        "at": record.audit.at.to_rfc3339(),
                        "who": record.audit.who,
                        "command": record.audit.command,
                        "svtrid": record.audit.sv_trid,
                    },
                    "domain": state,
                }))?
            );
            return Ok(());
        }
        AdminCommand::Domain {
            command: DomainCommand::SendAuthinfo { name },
        } => {
            use crate::flows::domain::authinfo_mail::{registrant_mail, reset_for_registrant};
            let name = crate::policy::r1_r3_registrable_name(name, ctx.settings)
                .map_err(|e| anyhow::anyhow!("{}", e.error))?
                .name;
            let fresh = reset_for_registrant(
                &store,
                &name,
                ctx.settings.authinfo.ttl_days,
                ctx.now,
                &ctx.operator,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let (subject, body) = registrant_mail(&fresh);
            let delivery = crate::mail::send(
                ctx.settings,
                crate::mail::Mail {
                    to: &fresh.email,
                    subject: &subject,
                    body,
                    tag: &fresh.name,
                    now: ctx.now,
                },
            )
            .await
            .with_context(|| {
                format!(
                    "the authInfo of {name} was changed but the mail to {} failed; run the command again",
                    fresh.email
                )
            })?;
            say!(
                ctx,
                "new authInfo of {name} for {} <{}>: {delivery}",
                fresh.registrant,
                fresh.email
            );
            return Ok(());
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
            let now = ctx.now;
            crate::flows::domain::authority::delete_by_order(
                &store,
                &name,
                order,
                reason,
                now,
                &ctx.operator,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            say!(ctx, "{name} deleted by order {order} and blocked");
            return Ok(());
        }
        AdminCommand::Dispute { command } => {
            use crate::flows::domain::authority::{DisputeDecision, close_dispute, open_dispute};
            let now = ctx.now;
            match command {
                DisputeCommand::Open { name, reason } => {
                    let name = name.to_lowercase();
                    open_dispute(&store, &name, reason, now, &ctx.operator)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    say!(ctx, "dispute opened on {name}");
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
                    close_dispute(&store, &name, &decision, now, &ctx.operator)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    say!(ctx, "dispute on {name} closed");
                }
            }
            return Ok(());
        }
        AdminCommand::Zone {
            command: crate::zone::ZoneCommand::Export { dir, zone },
        } => {
            let dir = ctx.path(dir);
            let report = crate::zone::export_report(
                &store,
                ctx.settings,
                ctx.now,
                &dir,
                zone.as_deref(),
                ctx.json,
            )
            .await?;
            say!(ctx, "{report}");
            return Ok(());
        }
        AdminCommand::Reserved { command } => return reserved(ctx, &store, command),
        AdminCommand::Blocked { command } => return blocked(ctx, &store, command),
        AdminCommand::Token { command } => {
            return token(ctx, &store, command);
        }
        AdminCommand::Owner { command } => {
            let (name, approve) = match command {
                OwnerCommand::Approve { name } => (name.to_lowercase(), true),
                OwnerCommand::Reject { name } => (name.to_lowercase(), false),
            };
            let now = ctx.now;
            crate::flows::domain::owner::decide(
                &store,
                &name,
                approve,
                now,
                &ctx.operator,
                ctx.settings,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let verdict = if approve { "approved" } else { "rejected" };
            say!(ctx, "change of registrant of {name} {verdict}");
            return Ok(());
        }
        AdminCommand::Status { command } => {
            use crate::flows::server_status::{ObjectKind, StatusChange, change};
            let (args, set) = match command {
                StatusCommand::Add(args) => (args, true),
                StatusCommand::Remove(args) => (args, false),
            };
            let StatusArgs {
                kind,
                name,
                status,
                reason,
            } = args;
            let kind = ObjectKind::parse(kind).context("the kind is domain, contact or host")?;
            let status = crate::model::Status::parse(status)
                .with_context(|| format!("{status:?} is not an EPP status"))?;
            let name = if kind == ObjectKind::Contact {
                name.clone()
            } else {
                name.to_lowercase()
            };
            let request = StatusChange {
                kind,
                name: &name,
                status,
                set,
                reason,
            };
            change(&store, &request, ctx.now, &ctx.operator)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            say!(
                ctx,
                "{} {} {name}",
                status.as_str(),
                if set { "added to" } else { "removed from" }
            );
            return Ok(());
        }
        AdminCommand::Waiting => return reports::waiting(ctx),
        AdminCommand::Report {
            command: ReportCommand::Minimum,
        } => return reports::yearly_minimum(ctx),
        AdminCommand::Stats => return reports::statistics(ctx),
        AdminCommand::Backup { file } => {
            let path = ctx.path(file);
            let store = store.clone();
            let target = path.clone();
            let report = tokio::task::spawn_blocking(move || store.backup(&target))
                .await
                .context("the backup task failed")??;
            if ctx.json {
                say!(
                    ctx,
                    "{}",
                    serde_json::json!({
                        "file": path.display().to_string(),
                        "trees": report.trees,
                        "records": report.records,
                        "bytes": report.bytes,
                        "at": ctx.now.to_rfc3339(),
                    })
                );
            } else {
                say!(
                    ctx,
                    "backup written to {}: {} records in {} trees, {} bytes",
                    path.display(),
                    report.records,
                    report.trees,
                    report.bytes
                );
            }
            return Ok(());
        }
        AdminCommand::Restore { .. } => {
            bail!("a restore needs the server stopped and a new data directory (--data-dir)")
        }
        AdminCommand::Compact { .. } => {
            bail!("a compaction needs the server stopped: stop it, then run admin compact")
        }
        AdminCommand::Transfer {
            command: TransferCommand::Overrule { name },
        } => {
            let now = ctx.now;
            let name = name.to_lowercase();
            crate::flows::domain::transfer::overrule(&store, &name, now, &ctx.operator)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            say!(
                ctx,
                "transfer of {name} approved by the registry (rejection overruled)"
            );
            return Ok(());
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
            address,
        } => {
            let address = address.parse()?;
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
            if let Some(email) = email
                && let Err(why) = crate::policy::email::check_email(email)
            {
                bail!("--email {email:?} is not an e-mail address: {}", why.en);
            }
            let password = read_password(ctx, password, *password_stdin)?;
            let fingerprints = certs
                .iter()
                .map(|f| cert_fingerprint(&ctx.path(f)))
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
                created: ctx.now,
                address,
                password_set: ctx.now,
            };
            store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-add"))?;
            store.flush_now()?;
            say!(ctx, "registrar {clid} added");
        }
        RegistrarCommand::Allow { clid, nets } => {
            let mut r = registrar(&store, clid)?;
            r.ip_allow.clone_from(nets);
            store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-allow"))?;
            store.flush_now()?;
            if nets.is_empty() {
                say!(ctx, "{clid} may connect from any address");
            } else {
                let list: Vec<String> = nets.iter().map(ToString::to_string).collect();
                say!(ctx, "{clid} may connect from {}", list.join(", "));
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
            let audit = operator_audit(
                ctx,
                &format!("admin:registrar-{}", format!("{state:?}").to_lowercase()),
            );
            crate::flows::registrar::set_state(&store, clid, state, &audit)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.flush_now()?;
            say!(ctx, "{clid} is now {}", format!("{state:?}").to_lowercase());
        }
        RegistrarCommand::Move { from, to } => {
            let now = ctx.now;
            let moved = crate::flows::registrar::move_domains(&store, from, to, now, &ctx.operator)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            say!(ctx, "{moved} domains moved from {from} to {to}");
        }
        RegistrarCommand::Credit { clid, amount, note } => {
            registrar(&store, clid)?;
            if !amount.is_finite() || *amount <= 0.0 {
                bail!("a credit is a positive amount");
            }
            let cents = crate::config::to_centimes(*amount);
            let now = ctx.now;
            let audit = crate::store::registry_audit(
                &store,
                now,
                &format!("operator:{}", ctx.operator),
                "admin:registrar-credit",
            );
            let balance = store.credit(clid, cents, note, &audit)?;
            store.flush_now()?;
            let currency = ctx.settings.clone().billing.currency;
            say!(
                ctx,
                "{clid} credited {} {currency}; balance {} {currency}",
                crate::config::format_amount(cents),
                crate::config::format_amount(balance)
            );
        }
        RegistrarCommand::Balance { clid } => {
            registrar(&store, clid)?;
            let balance = store.balance(clid)?;
            let currency = ctx.settings.clone().billing.currency;
            if ctx.json {
                say!(
                    ctx,
                    "{}",
                    serde_json::json!({"clid": clid, "balance": crate::config::format_amount(balance), "currency": currency})
                );
            } else {
                say!(ctx, "{} {currency}", crate::config::format_amount(balance));
            }
        }
        RegistrarCommand::Ledger { clid } => {
            registrar(&store, clid)?;
            let entries = store.ledger(clid)?;
            if ctx.json {
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
                say!(ctx, "{}", serde_json::to_string_pretty(&rows)?);
            } else {
                say!(
                    ctx,
                    "{:<22} {:>12} {:>12}  DESCRIPTION",
                    "WHEN",
                    "AMOUNT",
                    "BALANCE"
                );
                for e in &entries {
                    say!(
                        ctx,
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
            if ctx.json {
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
                say!(ctx, "{}", serde_json::to_string_pretty(&rows)?);
            } else {
                say!(ctx, "{:<16} {:<10} {:>5}  NAME", "CLID", "STATE", "CERTS");
                for r in &all {
                    say!(
                        ctx,
                        "{:<16} {:<10} {:>5}  {}",
                        r.id,
                        format!("{:?}", r.state).to_lowercase(),
                        r.cert_fingerprints.len(),
                        r.name
                    );
                }
            }
        }
        RegistrarCommand::Show { clid } => {
            let r = registrar(&store, clid)?;
            let balance = store.balance(clid)?;
            let domains = store.domains_of(clid)?.len();
            let queued = store.poll_count(clid)?;
            let currency = &ctx.settings.billing.currency;
            let limit = r
                .session_limit
                .unwrap_or(ctx.settings.limits.default_session_limit);
            if ctx.json {
                say!(
                    ctx,
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "clid": r.id,
                        "name": r.name,
                        "state": format!("{:?}", r.state).to_lowercase(),
                        "email": r.email,
                        "created": r.created.to_rfc3339(),
                        "certificates": r.cert_fingerprints,
                        "ip_allow": r.ip_allow.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        "session_limit": limit,
                        "balance": crate::config::format_amount(balance),
                        "currency": currency,
                        "domains": domains,
                        "poll_queue": queued,
                        "address": r.address,
                    }))?
                );
            } else {
                say!(ctx, "clID           {}", r.id);
                say!(ctx, "name           {}", r.name);
                say!(
                    ctx,
                    "state          {}",
                    format!("{:?}", r.state).to_lowercase()
                );
                say!(ctx, "email          {}", r.email.as_deref().unwrap_or("-"));
                say!(
                    ctx,
                    "created        {}",
                    r.created.format("%Y-%m-%d %H:%M UTC")
                );
                say!(ctx, "sessions       {limit} at once");
                let nets: Vec<String> = r.ip_allow.iter().map(ToString::to_string).collect();
                say!(
                    ctx,
                    "addresses      {}",
                    if nets.is_empty() {
                        "any".to_owned()
                    } else {
                        nets.join(", ")
                    }
                );
                say!(
                    ctx,
                    "balance        {} {currency}",
                    crate::config::format_amount(balance)
                );
                say!(ctx, "domains        {domains}");
                say!(ctx, "poll queue     {queued}");
                let address = match &r.address {
                    Some(a) => format!(
                        "{}, {}{} {}",
                        a.street.join(", "),
                        a.pc.as_deref()
                            .map(|pc| format!("{pc} "))
                            .unwrap_or_default(),
                        a.city,
                        a.cc
                    ),
                    None => "- (escrow deposits need one)".to_owned(),
                };
                say!(ctx, "address        {address}");
                for fp in &r.cert_fingerprints {
                    say!(ctx, "certificate    {fp}");
                }
            }
        }
        RegistrarCommand::Address { clid, address } => {
            let mut r = registrar(&store, clid)?;
            r.address = Some(
                address
                    .parse()?
                    .context("give the address: --street, --city, --cc")?,
            );
            store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-address"))?;
            store.flush_now()?;
            say!(ctx, "address of {clid} recorded");
        }
        RegistrarCommand::Limit { clid, sessions } => {
            let mut r = registrar(&store, clid)?;
            if *sessions == Some(0) {
                bail!("a registrar needs at least one session; suspend it instead");
            }
            r.session_limit = *sessions;
            store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-limit"))?;
            store.flush_now()?;
            let limit = r
                .session_limit
                .unwrap_or(ctx.settings.limits.default_session_limit);
            say!(ctx, "{clid} may open {limit} sessions at once");
        }
        RegistrarCommand::Passwd {
            clid,
            password,
            password_stdin,
        } => {
            let mut r = registrar(&store, clid)?;
            let password = read_password(ctx, password, *password_stdin)?;
            r.password_hash = hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
            r.password_set = ctx.now;
            store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-passwd"))?;
            store.flush_now()?;
            say!(ctx, "password of {clid} changed");
        }
        RegistrarCommand::Cert { command } => match command {
            CertCommand::Add { clid, file } => {
                let mut r = registrar(&store, clid)?;
                let fp = cert_fingerprint(&ctx.path(file))?;
                if r.cert_fingerprints.contains(&fp) {
                    bail!("that certificate is recorded for {clid} already");
                }
                r.cert_fingerprints.push(fp.clone());
                store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-cert-add"))?;
                store.flush_now()?;
                say!(ctx, "certificate {fp} recorded for {clid}");
            }
            CertCommand::Remove { clid, fingerprint } => {
                let mut r = registrar(&store, clid)?;
                let before = r.cert_fingerprints.len();
                r.cert_fingerprints
                    .retain(|f| !f.eq_ignore_ascii_case(fingerprint));
                if r.cert_fingerprints.len() == before {
                    bail!("{clid} has no certificate {fingerprint}");
                }
                store.put_registrar(&r, &operator_audit(ctx, "admin:registrar-cert-remove"))?;
                store.flush_now()?;
                say!(ctx, "certificate {fingerprint} removed from {clid}");
            }
            CertCommand::List { clid } => {
                let r = registrar(&store, clid)?;
                if ctx.json {
                    say!(
                        ctx,
                        "{}",
                        serde_json::to_string_pretty(&r.cert_fingerprints)?
                    );
                } else {
                    for fp in &r.cert_fingerprints {
                        say!(ctx, "{fp}");
                    }
                }
            }
        },
    }
    Ok(())
}

fn term(raw: &str) -> anyhow::Result<String> {
    crate::policy::terms::normalize_term(raw).with_context(|| format!("{raw:?} is not a label"))
}

fn reserved(ctx: &mut Ctx<'_>, store: &Store, command: &ReservedCommand) -> anyhow::Result<()> {
    let json = ctx.json;
    use crate::policy::terms::CATEGORIES;
    match command {
        ReservedCommand::List | ReservedCommand::Export => {
            let terms = store.terms(true)?;
            if json && matches!(command, ReservedCommand::List) {
                let rows: Vec<_> = terms
                    .iter()
                    .map(|(t, c)| serde_json::json!({"term": t, "category": c}))
                    .collect();
                say!(ctx, "{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for (t, c) in terms {
                    say!(ctx, "{c} {t}");
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
            store.put_reserved(&t, category, &operator_audit(ctx, "admin:reserved-add"))?;
            store.flush_now()?;
            say!(ctx, "{t} reserved ({category})");
        }
        ReservedCommand::Remove { term: raw } => {
            let t = term(raw)?;
            if !store.remove_reserved(&t, &operator_audit(ctx, "admin:reserved-remove"))? {
                bail!("{t} is not reserved");
            }
            store.flush_now()?;
            say!(ctx, "{t} released");
        }
        ReservedCommand::Import { file, replace } => {
            let n = import_terms(ctx, store, file, *replace, true)?;
            store.mark_terms_seeded()?;
            store.flush_now()?;
            say!(ctx, "{n} reserved terms imported");
        }
    }
    Ok(())
}

/// Loads a reserved (`reserved`) or blocked list file: every line checked
/// first, nothing loaded when one is bad; `replace` drops the terms the file
/// does not list. Each change is in the history. Returns how many it loaded.
fn import_terms(
    ctx: &mut Ctx<'_>,
    store: &Store,
    file: &Path,
    replace: bool,
    reserved: bool,
) -> anyhow::Result<usize> {
    let path = ctx.path(file);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let parsed = if reserved {
        crate::policy::terms::parse_reserved(&text)
    } else {
        crate::policy::terms::parse_blocked(&text)
    };
    let terms = match parsed {
        Ok(terms) => terms,
        Err(errors) => {
            for e in &errors {
                say_err!(ctx, "{}: {e}", path.display());
            }
            bail!("{} invalid lines; nothing imported", errors.len());
        }
    };
    let command = if reserved {
        "admin:reserved-import"
    } else {
        "admin:blocked-import"
    };
    if replace {
        for (t, _) in store.terms(reserved)? {
            if !terms.iter().any(|(n, _)| *n == t) {
                let audit = operator_audit(ctx, command);
                if reserved {
                    store.remove_reserved(&t, &audit)?;
                } else {
                    store.remove_blocked(&t, &audit)?;
                }
            }
        }
    }
    for (t, value) in &terms {
        let audit = operator_audit(ctx, command);
        if reserved {
            store.put_reserved(t, value, &audit)?;
        } else {
            store.put_blocked(t, value, &audit)?;
        }
    }
    Ok(terms.len())
}

fn blocked(ctx: &mut Ctx<'_>, store: &Store, command: &BlockedCommand) -> anyhow::Result<()> {
    let json = ctx.json;
    match command {
        BlockedCommand::List | BlockedCommand::Export => {
            let json = json && matches!(command, BlockedCommand::List);
            let terms = store.terms(false)?;
            if json {
                let rows: Vec<_> = terms
                    .iter()
                    .map(|(t, r)| serde_json::json!({"term": t, "reason": r}))
                    .collect();
                say!(ctx, "{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for (t, r) in terms {
                    say!(ctx, "{t}\t{r}");
                }
            }
        }
        BlockedCommand::Import { file, replace } => {
            let n = import_terms(ctx, store, file, *replace, false)?;
            store.flush_now()?;
            say!(ctx, "{n} blocked terms imported");
        }
        BlockedCommand::Add { term: raw, reason } => {
            let t = term(raw)?;
            store.put_blocked(&t, reason, &operator_audit(ctx, "admin:blocked-add"))?;
            store.flush_now()?;
            say!(ctx, "{t} blocked");
        }
        BlockedCommand::Remove { term: raw } => {
            let t = term(raw)?;
            if !store.remove_blocked(&t, &operator_audit(ctx, "admin:blocked-remove"))? {
                bail!("{t} is not blocked");
            }
            store.flush_now()?;
            say!(ctx, "{t} unblocked");
        }
    }
    Ok(())
}

fn token(ctx: &mut Ctx<'_>, store: &Store, command: &TokenCommand) -> anyhow::Result<()> {
    let json = ctx.json;
    let settings = ctx.settings;
    let operator = ctx.operator.clone();
    match command {
        TokenCommand::Issue { name } => {
            let name = crate::policy::r1_r3_registrable_name(name, settings)
                .map_err(|e| anyhow::anyhow!("{}", e.error))?
                .name;
            let token = format!(
                "MA-{}",
                crate::flows::auth::random_auth_info()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "x")
            );
            store.put_token(
                &crate::model::AllocationToken {
                    token: token.clone(),
                    name: name.clone(),
                    issued: ctx.now,
                    issued_by: operator.clone(),
                    used: None,
                },
                &operator_audit(ctx, "admin:token-issue"),
            )?;
            store.flush_now()?;
            if json {
                say!(ctx, "{}", serde_json::json!({"token": token, "name": name}));
            } else {
                say!(ctx, "{token}");
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
                say!(ctx, "{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for t in tokens {
                    let used = t
                        .used
                        .map(|u| format!("used {}", u.format("%Y-%m-%d")))
                        .unwrap_or_else(|| "unused".into());
                    say!(ctx, "{}\t{}\t{used}", t.token, t.name);
                }
            }
        }
    }
    Ok(())
}

impl AdminCommand {
    /// The backup file of `restore`, which never goes to a server.
    pub(crate) fn restore_file(&self) -> Option<&Path> {
        match self {
            AdminCommand::Restore { file } => Some(file),
            _ => None,
        }
    }

    /// `compact`'s option (keep the old store), for the command that never
    /// goes to a server.
    pub(crate) fn compaction(&self) -> Option<bool> {
        match self {
            AdminCommand::Compact { keep_old } => Some(*keep_old),
            _ => None,
        }
    }

    /// Whether the command may write a large part of the store at once
    /// (`import`, `escrow import`).
    pub(crate) fn loads_in_bulk(&self) -> bool {
        matches!(
            self,
            AdminCommand::Import { dry_run: false, .. }
                | AdminCommand::Escrow {
                    command: data::EscrowCommand::Import { .. }
                }
        )
    }

    /// Whether the command may start a store in a directory that holds
    /// none: the loads (`import`, `escrow import`; `restore` goes its own
    /// way). Every other command refuses such a directory.
    pub(crate) fn may_create_store(&self) -> bool {
        matches!(
            self,
            AdminCommand::Import { .. }
                | AdminCommand::Restore { .. }
                | AdminCommand::Escrow {
                    command: data::EscrowCommand::Import { .. }
                }
        )
    }

    /// Whether the command reads its standard input (a password).
    pub(crate) fn reads_stdin(&self) -> bool {
        matches!(
            self,
            AdminCommand::Registrar {
                command: RegistrarCommand::Add {
                    password_stdin: true,
                    ..
                } | RegistrarCommand::Passwd {
                    password_stdin: true,
                    ..
                }
            }
        )
    }
}
