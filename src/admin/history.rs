//! The history of the registry's objects (R24): `admin history KIND NAME`
//! lists the changes of one object, `admin history verify` walks the hash
//! chain of every record, and `admin domain show --at` rebuilds a domain as
//! it was at a past instant.

use std::fmt::Write as _;

use anyhow::{Context, bail};
use chrono::Utc;

use super::Ctx;

/// `admin history verify`: checks that each history record holds the hash
/// of the one before.
pub(super) async fn verify(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let store = ctx.store.clone();
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
            Ok(())
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

/// `admin history KIND NAME`: every change of one object, oldest first.
pub(super) fn list(ctx: &mut Ctx<'_>, kind: &str, name: Option<&str>) -> anyhow::Result<()> {
    let store = ctx.store;
    const KINDS: [&str; 7] = [
        "domain",
        "contact",
        "host",
        "registrar",
        "reserved",
        "blocked",
        "token",
    ];
    if !KINDS.contains(&kind) {
        bail!(
            "the kind is one of {} (or: history verify)",
            KINDS.join(", ")
        );
    }
    let name = name.context("which one? history KIND NAME")?;
    let name = if ["contact", "registrar", "token"].contains(&kind) {
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
        ctx.write_json(&rows)?;
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
    Ok(())
}

/// `admin domain show NAME [--at INSTANT]`: the domain as its history
/// records it at `at` (default: now).
pub(super) fn domain_at(ctx: &mut Ctx<'_>, name: &str, at: Option<&str>) -> anyhow::Result<()> {
    let store = ctx.store;
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
    ctx.write_json(&serde_json::json!({
        "name": name,
        "at": at.to_rfc3339(),
        "as_of_change": {
            "at": record.audit.at.to_rfc3339(),
            "who": record.audit.who,
            "command": record.audit.command,
            "svtrid": record.audit.sv_trid,
        },
        "domain": state,
    }))?;
    Ok(())
}
