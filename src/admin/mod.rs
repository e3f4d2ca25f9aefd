//! The operator's commands (`ma-registry admin …`): their arguments, and
//! [`execute`], which runs one on a store and writes its report. The same
//! code runs in the server (reached through [`socket`]) and, when no server
//! is running, on the store opened by the command itself.

pub mod command_line;
mod reports;
pub mod socket;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::bail;
use chrono::{DateTime, Utc};
use clap::Subcommand;

use crate::config::Settings;
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

mod backup;
mod billing;
mod contact;
mod data;
mod decisions;
mod domain;
mod history;
mod lifecycle;
mod names;
mod registrar;
mod status;
mod store_check;

use contact::ContactCommand;
use decisions::{CreateCommand, OwnerCommand, TransferCommand};
use domain::{DisputeCommand, DomainCommand};
use lifecycle::LifecycleCommand;
use names::{BlockedCommand, ReservedCommand, TokenCommand};
use registrar::RegistrarCommand;
use reports::ReportCommand;
use status::StatusCommand;
use store_check::StoreCommand;

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

    /// Writes `value` to the report as indented JSON: the `--json` form of
    /// a listing or of a record.
    fn write_json(&mut self, value: &impl serde::Serialize) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(value)?;
        let _ = writeln!(self.out, "{text}");
        Ok(())
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

/// The audit record of an operator's change (R24).
fn operator_audit(ctx: &Ctx<'_>, command: &str) -> crate::model::Audit {
    crate::store::registry_audit(
        ctx.store,
        ctx.now,
        &format!("operator:{}", ctx.operator),
        command,
    )
}

/// Runs one operator command on `ctx.store`, writing its report to
/// `ctx.out`. The same code serves the offline store and the running server.
///
/// # Errors
/// Any refusal, with the reason for the operator.
pub(crate) async fn execute(ctx: &mut Ctx<'_>, command: &AdminCommand) -> anyhow::Result<()> {
    let store = ctx.store;
    match command {
        AdminCommand::Store { command } => store_check::run(ctx, command).await,
        AdminCommand::Registrar { command } => registrar::run(ctx, command).await,
        AdminCommand::Lifecycle { command } => lifecycle::run(ctx, command).await,
        AdminCommand::Status { command } => status::run(ctx, command).await,
        AdminCommand::Waiting => reports::waiting(ctx),
        AdminCommand::Report {
            command: ReportCommand::Minimum,
        } => reports::yearly_minimum(ctx),
        AdminCommand::Stats => reports::statistics(ctx),
        AdminCommand::Backup { file } => backup::run(ctx, file).await,
        AdminCommand::Restore { .. } => {
            bail!("a restore needs the server stopped and a new data directory (--data-dir)")
        }
        AdminCommand::Compact { .. } => {
            bail!("a compaction needs the server stopped: stop it, then run admin compact")
        }
        AdminCommand::Transfer { command } => decisions::transfer(ctx, command).await,
        AdminCommand::Owner { command } => decisions::owner(ctx, command).await,
        AdminCommand::Create { command } => decisions::create(ctx, command).await,
        AdminCommand::History { kind, name: None } if kind == "verify" => {
            history::verify(ctx).await
        }
        AdminCommand::History { kind, name } => history::list(ctx, kind, name.as_deref()),
        AdminCommand::Contact { command } => contact::run(ctx, command).await,
        AdminCommand::Domain { command } => domain::run(ctx, command).await,
        AdminCommand::Dispute { command } => domain::dispute(ctx, command).await,
        AdminCommand::Reserved { command } => names::reserved(ctx, store, command),
        AdminCommand::Blocked { command } => names::blocked(ctx, store, command),
        AdminCommand::Token { command } => names::token(ctx, store, command),
        AdminCommand::Zone { command } => data::zone(ctx, command).await,
        AdminCommand::Escrow { command } => data::escrow(ctx, command).await,
        AdminCommand::Import { file, dry_run } => data::import(ctx, file, *dry_run).await,
    }
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
