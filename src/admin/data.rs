//! `admin escrow export|import`, `admin import` and `admin zone export`:
//! their arguments, and their reports. The work ([`crate::data`]) runs on a blocking thread, so
//! a running server keeps serving while a deposit is written or a file
//! loaded.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;

use super::Ctx;
use crate::data::DataError;
use crate::data::load::Report;

/// `admin escrow …`.
#[derive(Debug, Subcommand)]
pub(crate) enum EscrowCommand {
    /// Write a full deposit of the registry (RFC 8909, RFC 9022) into a
    /// directory, as `<tld>_<YYYY-MM-DD>_full_S1_R<n>.xml`.
    Export {
        /// The directory (created if missing).
        #[arg(long)]
        dir: PathBuf,
    },
    /// Load a full deposit into an empty store (a new data directory).
    Import {
        /// The deposit file.
        file: PathBuf,
    },
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, DataError> + Send + 'static,
) -> anyhow::Result<T> {
    let result = tokio::task::spawn_blocking(work)
        .await
        .context("the operation stopped before its end")?;
    Ok(result?)
}

/// Runs `admin escrow …`.
pub(super) async fn escrow(ctx: &mut Ctx<'_>, command: &EscrowCommand) -> anyhow::Result<()> {
    let store = ctx.store.clone();
    let settings = ctx.settings.clone();
    let now = ctx.now;
    match command {
        EscrowCommand::Export { dir } => {
            let dir = ctx.path(dir);
            let without_address: Vec<String> = store
                .registrars()?
                .into_iter()
                .filter(|r| r.address.is_none())
                .map(|r| r.id)
                .collect();
            let deposit =
                blocking(move || crate::data::escrow::export(&store, &settings, now, &dir)).await?;
            for clid in &without_address {
                say_err!(
                    ctx,
                    "warning: registrar {clid} has no postal address, which RFC 9022 requires of a registrar object; set it with `admin registrar address {clid} --street … --city … --cc …`"
                );
            }
            if ctx.json {
                ctx.write_json(&deposit)?;
            } else {
                let c = deposit.counts;
                say!(
                    ctx,
                    "deposit {} written: {} domains, {} hosts, {} contacts ({} identity documents), {} registrars; watermark {}",
                    deposit.path.display(),
                    c.domains,
                    c.hosts,
                    c.contacts,
                    c.identities,
                    c.registrars,
                    deposit.watermark.to_rfc3339()
                );
            }
            Ok(())
        }
        EscrowCommand::Import { file } => {
            let file = ctx.path(file);
            let operator = ctx.operator.clone();
            let (report, check) = blocking(move || {
                crate::data::escrow::import(&store, &settings, now, &operator, &file)
            })
            .await?;
            if ctx.json {
                ctx.write_json(&serde_json::json!({
                    "report": report,
                    "deposit": check,
                }))?;
            } else if let Some(w) = check.watermark {
                say!(ctx, "deposit of {}", w.to_rfc3339());
            }
            finish(ctx, &report)
        }
    }
}

/// Runs `admin import FILE [--dry-run]`.
pub(super) async fn import(
    ctx: &mut Ctx<'_>,
    file: &std::path::Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let store = ctx.store.clone();
    let settings = ctx.settings.clone();
    let now = ctx.now;
    let operator = ctx.operator.clone();
    let path = ctx.path(file);
    let report = blocking(move || {
        crate::data::legacy::import(&store, &settings, now, &operator, &path, dry_run)
    })
    .await?;
    if ctx.json {
        ctx.write_json(&report)?;
    }
    finish(ctx, &report)
}

/// Runs `admin zone export --dir DIR [ZONE]`: the RFC 1035 master files.
pub(super) async fn zone(
    ctx: &mut Ctx<'_>,
    command: &crate::zone::ZoneCommand,
) -> anyhow::Result<()> {
    let crate::zone::ZoneCommand::Export { dir, zone } = command;
    let dir = ctx.path(dir);
    let report = crate::zone::export_report(
        ctx.store,
        ctx.settings,
        ctx.now,
        &dir,
        zone.as_deref(),
        ctx.json,
    )
    .await?;
    say!(ctx, "{report}");
    Ok(())
}

/// Writes a load's report (the table unless `--json`, every refused line
/// and remark on stderr) and fails when a record was refused.
fn finish(ctx: &mut Ctx<'_>, report: &Report) -> anyhow::Result<()> {
    if !ctx.json {
        for (kind, c) in report.by_kind() {
            say!(
                ctx,
                "{:<11} {:>8} loaded {:>8} unchanged {:>8} rejected",
                format!("{}s", kind.as_str()),
                c.loaded,
                c.unchanged,
                c.rejected
            );
        }
        if report.dry_run {
            say!(ctx, "dry run: nothing was written");
        }
        if !report.registrars_without_credentials.is_empty() && !report.dry_run {
            say!(
                ctx,
                "registrars loaded without password nor certificate; each needs `admin registrar passwd` and `admin registrar cert add` before it can log in: {}",
                report.registrars_without_credentials.join(", ")
            );
        }
    }
    for r in &report.rejected {
        say_err!(ctx, "line {}: {}", r.line, r.reason);
    }
    for w in &report.warnings {
        say_err!(ctx, "line {}: warning: {}", w.line, w.reason);
    }
    let rejected = report.rejected.len();
    if rejected > 0 {
        let others = if report.dry_run {
            "the others would be loaded"
        } else {
            "the others were loaded"
        };
        bail!("{rejected} records rejected; {others}");
    }
    Ok(())
}
