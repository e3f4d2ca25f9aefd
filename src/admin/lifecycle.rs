//! `admin lifecycle run`: applies every life-cycle transition due now
//! ([`crate::lifecycle::sweep`]) and reports what it did.

use std::fmt::Write as _;

use clap::Subcommand;

use super::Ctx;

#[derive(Debug, Subcommand)]
pub(crate) enum LifecycleCommand {
    /// Apply every transition due now (e.g. transfers at their acDate).
    Run,
}

/// Runs one `admin lifecycle …` command.
pub(super) async fn run(ctx: &mut Ctx<'_>, command: &LifecycleCommand) -> anyhow::Result<()> {
    let LifecycleCommand::Run = command;
    let store = ctx.store;
    let now = ctx.now;
    let report = crate::lifecycle::sweep(store, now, ctx.settings)
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
    Ok(())
}
