//! `admin domain …` and `admin dispute …`: what the operator does to one
//! domain on an order or a complaint: its state at a past instant, a fresh
//! authInfo mailed to the registrant (R12), a deletion ordered by the
//! authorities (R5), and disputes (R18).

use std::fmt::Write as _;

use anyhow::{Context, bail};
use clap::Subcommand;

use super::{Ctx, history};
use crate::flows::domain::authinfo_mail::{registrant_mail, reset_for_registrant};
use crate::flows::domain::authority::{DisputeDecision, close_dispute, open_dispute};

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

/// Runs one `admin domain …` command.
pub(super) async fn run(ctx: &mut Ctx<'_>, command: &DomainCommand) -> anyhow::Result<()> {
    match command {
        DomainCommand::Show { name, at } => history::domain_at(ctx, name, at.as_deref()),
        DomainCommand::SendAuthinfo { name } => send_authinfo(ctx, name).await,
        DomainCommand::DeleteByOrder {
            name,
            order,
            reason,
        } => delete_by_order(ctx, name, order, reason).await,
    }
}

/// R12: a fresh authInfo, mailed to the registrant.
async fn send_authinfo(ctx: &mut Ctx<'_>, name: &str) -> anyhow::Result<()> {
    let store = ctx.store;
    let name = crate::policy::r1_r3_registrable_name(name, ctx.settings)
        .map_err(|e| anyhow::anyhow!("{}", e.error))?
        .name;
    let fresh = reset_for_registrant(
        store,
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
    Ok(())
}

/// R5: a deletion on a written order of the authorities.
async fn delete_by_order(
    ctx: &mut Ctx<'_>,
    name: &str,
    order: &str,
    reason: &str,
) -> anyhow::Result<()> {
    let store = ctx.store;
    let name = name.to_lowercase();
    let now = ctx.now;
    crate::flows::domain::authority::delete_by_order(
        store,
        &name,
        order,
        reason,
        now,
        &ctx.operator,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    say!(ctx, "{name} deleted by order {order} and blocked");
    Ok(())
}

/// Runs one `admin dispute …` command (R18).
pub(super) async fn dispute(ctx: &mut Ctx<'_>, command: &DisputeCommand) -> anyhow::Result<()> {
    let store = ctx.store;
    let now = ctx.now;
    match command {
        DisputeCommand::Open { name, reason } => {
            let name = name.to_lowercase();
            open_dispute(store, &name, reason, now, &ctx.operator)
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
            close_dispute(store, &name, &decision, now, &ctx.operator)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            say!(ctx, "dispute on {name} closed");
        }
    }
    Ok(())
}
