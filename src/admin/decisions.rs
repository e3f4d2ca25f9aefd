//! The registry's decisions on the requests that wait for it (R20):
//! restricted creates (`admin create …`, R2), changes of registrant
//! (`admin owner …`, R13) and rejected transfers under review
//! (`admin transfer overrule`, R12).

use std::fmt::Write as _;

use clap::Subcommand;

use super::Ctx;
use crate::flows::domain::pending_create::{Decision, decide};

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
pub(crate) enum TransferCommand {
    /// Overrule a rejected transfer within its 5-day review: the registry approves it.
    Overrule {
        /// The domain.
        name: String,
    },
}

/// Runs one `admin create …` command.
pub(super) async fn create(ctx: &mut Ctx<'_>, command: &CreateCommand) -> anyhow::Result<()> {
    let store = ctx.store;
    let (name, decision) = match command {
        CreateCommand::Approve { name } => (name.to_lowercase(), Decision::Approve),
        CreateCommand::Reject { name, reason } => {
            (name.to_lowercase(), Decision::Reject(reason.clone()))
        }
        CreateCommand::Incomplete { name, missing } => {
            let name = name.to_lowercase();
            let now = ctx.now;
            let deadline = crate::flows::domain::pending_create::mark_incomplete(
                store,
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
    decide(store, &name, decision, now, &ctx.operator)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    say!(ctx, "creation of {name} {verdict}");
    Ok(())
}

/// Runs one `admin owner …` command.
pub(super) async fn owner(ctx: &mut Ctx<'_>, command: &OwnerCommand) -> anyhow::Result<()> {
    let store = ctx.store;
    let (name, approve) = match command {
        OwnerCommand::Approve { name } => (name.to_lowercase(), true),
        OwnerCommand::Reject { name } => (name.to_lowercase(), false),
    };
    let now = ctx.now;
    crate::flows::domain::owner::decide(store, &name, approve, now, &ctx.operator, ctx.settings)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let verdict = if approve { "approved" } else { "rejected" };
    say!(ctx, "change of registrant of {name} {verdict}");
    Ok(())
}

/// Runs one `admin transfer …` command.
pub(super) async fn transfer(ctx: &mut Ctx<'_>, command: &TransferCommand) -> anyhow::Result<()> {
    let store = ctx.store;
    let TransferCommand::Overrule { name } = command;
    let now = ctx.now;
    let name = name.to_lowercase();
    crate::flows::domain::transfer::overrule(store, &name, now, &ctx.operator)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    say!(
        ctx,
        "transfer of {name} approved by the registry (rejection overruled)"
    );
    Ok(())
}
