//! `admin status add|remove`: registry statuses (`server*`) on a domain,
//! contact or host; the sponsor is told by poll message.

use std::fmt::Write as _;

use anyhow::Context;
use clap::Subcommand;

use super::Ctx;
use crate::flows::server_status::{ObjectKind, StatusChange, change};

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

/// Runs one `admin status …` command.
pub(super) async fn run(ctx: &mut Ctx<'_>, command: &StatusCommand) -> anyhow::Result<()> {
    let store = ctx.store;
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
    change(store, &request, ctx.now, &ctx.operator)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    say!(
        ctx,
        "{} {} {name}",
        status.as_str(),
        if set { "added to" } else { "removed from" }
    );
    Ok(())
}
