//! The operator's reports: the waiting list (R20), the registrars' yearly
//! minimum (R21) and the registry's statistics. They only read the store.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use clap::Subcommand;

use super::Ctx;
use crate::model::Timestamp;
use crate::policy::deadlines::{
    r20_business_days_between, r20_due, r20_overdue, r20_still_waiting,
};
use crate::policy::registrars::{R21_YEARLY_MINIMUM, r21_first_month, r21_meets_minimum};
use crate::store::{WaitingItem, WaitingKind};

/// `admin report …`
#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// R21: domains created in the last 12 months per registrar against the
    /// minimum of 50 a year.
    Minimum,
}

/// When the registry must have acted on `item` (R20).
fn due(item: &WaitingItem, identity_days: u32) -> Timestamp {
    r20_due(item.kind, item.since, item.until, identity_days)
}

fn decision_hint(kind: WaitingKind) -> &'static str {
    match kind {
        WaitingKind::Create => "create approve|reject|incomplete",
        WaitingKind::Owner => "owner approve|reject",
        WaitingKind::Review => "transfer overrule",
        WaitingKind::Identity => "contact verify [--rejected]",
    }
}

/// `admin waiting`: everything that waits for the registry, overdue first,
/// then by due date. A transfer rejection whose review window has passed
/// stands (R12) and is no longer listed.
pub fn waiting(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let now = ctx.now;
    let identity_days = ctx.settings.policy.identity_verification_days;
    let mut rows: Vec<(WaitingItem, Timestamp)> = ctx
        .store
        .waiting()?
        .into_iter()
        .filter(|i| r20_still_waiting(i.kind, i.until, now))
        .map(|i| {
            let due = due(&i, identity_days);
            (i, due)
        })
        .collect();
    rows.sort_by(|(a, da), (b, db)| (*da > now, *da, &a.name).cmp(&(*db > now, *db, &b.name)));
    if ctx.json {
        let list: Vec<_> = rows
            .iter()
            .map(|(i, due)| {
                serde_json::json!({
                    "kind": i.kind.as_str(),
                    "name": i.name,
                    "registrar": i.registrar,
                    "since": i.since.to_rfc3339(),
                    "age_business_days": r20_business_days_between(i.since, now),
                    "due": due.to_rfc3339(),
                    "overdue": r20_overdue(*due, now),
                    "decide_with": decision_hint(i.kind),
                })
            })
            .collect();
        ctx.write_json(&list)?;
        return Ok(());
    }
    let _ = writeln!(
        ctx.out,
        "{:<16} {:<32} {:<12} {:>4} {:<17} {:<8} DECIDE WITH",
        "KIND", "NAME", "REGISTRAR", "AGE", "DUE", ""
    );
    for (i, due) in &rows {
        let _ = writeln!(
            ctx.out,
            "{:<16} {:<32} {:<12} {:>3}d {:<17} {:<8} admin {}",
            i.kind.as_str(),
            i.name,
            i.registrar,
            r20_business_days_between(i.since, now),
            due.format("%Y-%m-%d %H:%M"),
            if r20_overdue(*due, now) {
                "OVERDUE"
            } else {
                ""
            },
            decision_hint(i.kind)
        );
    }
    let overdue = rows.iter().filter(|(_, d)| r20_overdue(*d, now)).count();
    let _ = writeln!(ctx.out, "{} waiting, {overdue} overdue", rows.len());
    Ok(())
}

/// `admin report minimum`: per registrar, the domains it created in the
/// last 12 months (the current month and the 11 before) against R21's
/// minimum of 50 a year.
pub fn yearly_minimum(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let first = r21_first_month(ctx.now).unwrap_or_default();
    let mut rows = Vec::new();
    for r in ctx.store.registrars()? {
        let created: u64 = ctx
            .store
            .creates_per_month(&r.id)?
            .into_iter()
            .filter(|(month, _)| *month >= first)
            .map(|(_, n)| n)
            .sum();
        rows.push((r.id, format!("{:?}", r.state).to_lowercase(), created));
    }
    if ctx.json {
        let list: Vec<_> = rows
            .iter()
            .map(|(id, state, n)| {
                serde_json::json!({
                    "clid": id,
                    "state": state,
                    "created_last_12_months": n,
                    "minimum": R21_YEARLY_MINIMUM,
                    "meets_minimum": r21_meets_minimum(*n),
                })
            })
            .collect();
        ctx.write_json(&list)?;
        return Ok(());
    }
    let _ = writeln!(
        ctx.out,
        "creates from {first} to {} (R21 minimum {R21_YEARLY_MINIMUM} a year)",
        ctx.now.format("%Y-%m")
    );
    let _ = writeln!(
        ctx.out,
        "{:<16} {:<10} {:>8}  R21",
        "CLID", "STATE", "CREATED"
    );
    for (id, state, n) in &rows {
        let verdict = if r21_meets_minimum(*n) { "ok" } else { "BELOW" };
        let _ = writeln!(ctx.out, "{id:<16} {state:<10} {n:>8}  {verdict}");
    }
    Ok(())
}

/// `admin stats`: domains per zone, per status and per registrar, with the
/// number of contacts and hosts. One pass over the domains.
pub fn statistics(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let zones: Vec<String> = ctx.settings.zones.iter().map(|z| z.name.clone()).collect();
    let mut per_zone: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_registrar: BTreeMap<String, u64> = BTreeMap::new();
    let mut total = 0u64;
    for d in ctx.store.domains_iter() {
        let d = d?;
        total += 1;
        let zone = zones
            .iter()
            .filter(|z| d.name.ends_with(&format!(".{z}")))
            .max_by_key(|z| z.len())
            .cloned()
            .unwrap_or_else(|| "?".into());
        *per_zone.entry(zone).or_default() += 1;
        if d.statuses.is_empty() {
            *per_status.entry("ok".into()).or_default() += 1;
        }
        for s in &d.statuses {
            *per_status.entry(s.as_str().to_owned()).or_default() += 1;
        }
        *per_registrar.entry(d.sponsor.clone()).or_default() += 1;
    }
    if ctx.json {
        ctx.write_json(&serde_json::json!({
            "at": ctx.now.to_rfc3339(),
            "domains": total,
            "per_zone": per_zone,
            "per_status": per_status,
            "per_registrar": per_registrar,
        }))?;
        return Ok(());
    }
    let _ = writeln!(
        ctx.out,
        "{total} domains at {}",
        ctx.now.format("%Y-%m-%d %H:%M UTC")
    );
    for (title, map) in [
        ("ZONE", &per_zone),
        ("STATUS", &per_status),
        ("REGISTRAR", &per_registrar),
    ] {
        let _ = writeln!(ctx.out, "\n{title:<28} {:>10}", "DOMAINS");
        for (k, n) in map {
            let _ = writeln!(ctx.out, "{k:<28} {n:>10}");
        }
    }
    Ok(())
}
