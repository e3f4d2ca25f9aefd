//! The registrars' prepaid balances (R23): `admin registrar credit`,
//! `balance` and `ledger`.

use std::fmt::Write as _;

use anyhow::bail;

use super::Ctx;
use super::registrar::registrar;
use crate::config::format_amount;

/// `admin registrar credit CLID AMOUNT --note NOTE`.
pub(super) fn credit(ctx: &mut Ctx<'_>, clid: &str, amount: f64, note: &str) -> anyhow::Result<()> {
    let store = ctx.store;
    registrar(store, clid)?;
    if !amount.is_finite() || amount <= 0.0 {
        bail!("a credit is a positive amount");
    }
    let cents = crate::config::to_centimes(amount);
    let audit = super::operator_audit(ctx, "admin:registrar-credit");
    let balance = store.credit(clid, cents, note, &audit)?;
    store.flush_now()?;
    let currency = &ctx.settings.billing.currency;
    say!(
        ctx,
        "{clid} credited {} {currency}; balance {} {currency}",
        format_amount(cents),
        format_amount(balance)
    );
    Ok(())
}

/// `admin registrar balance CLID`.
pub(super) fn balance(ctx: &mut Ctx<'_>, clid: &str) -> anyhow::Result<()> {
    let store = ctx.store;
    registrar(store, clid)?;
    let balance = store.balance(clid)?;
    let currency = &ctx.settings.billing.currency;
    if ctx.json {
        say!(
            ctx,
            "{}",
            serde_json::json!({"clid": clid, "balance": format_amount(balance), "currency": currency})
        );
    } else {
        say!(ctx, "{} {currency}", format_amount(balance));
    }
    Ok(())
}

/// `admin registrar ledger CLID`: every charge and credit.
pub(super) fn ledger(ctx: &mut Ctx<'_>, clid: &str) -> anyhow::Result<()> {
    let store = ctx.store;
    registrar(store, clid)?;
    let entries = store.ledger(clid)?;
    if ctx.json {
        let rows: Vec<_> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "at": e.at.to_rfc3339(),
                    "amount": format_amount(e.amount),
                    "balance": format_amount(e.balance),
                    "description": e.description,
                    "svtrid": e.sv_trid,
                })
            })
            .collect();
        ctx.write_json(&rows)?;
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
                format_amount(e.amount),
                format_amount(e.balance),
                e.description
            );
        }
    }
    Ok(())
}
