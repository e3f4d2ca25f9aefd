//! `<domain:check>`: availability of each name under R1 and R3, and whether
//! it is registered already.

use crate::config::Billable;
use crate::error::EppError;
use crate::flows::{FlowCtx, Outcome, verify_check_size};
use crate::model::{CheckItem, FeeQuery, ObjectKind, ResData, ResponseExtension, Text};
use crate::policy;

/// Checks names.
///
/// # Errors
/// 2306 when more names are asked than the configured limit; 2400 on store failure.
pub fn run(ctx: &FlowCtx<'_>, names: &[String]) -> Result<Outcome, EppError> {
    verify_check_size(ctx, names.len())?;
    let mut items = Vec::with_capacity(names.len());
    for input in names {
        let item = match policy::r1_r3_registrable_name(input, ctx.settings) {
            Err(refusal) => CheckItem {
                name: input.clone(),
                avail: false,
                reason: Some(refusal.short),
            },
            Ok(name) => {
                let reason = if ctx.store.blocked(&name.label)?.is_some() {
                    Some(Text::new("Blocked", "Bloqué"))
                } else if ctx.store.reserved(&name.label)?.is_some() {
                    Some(Text::new("Reserved", "Réservé"))
                } else if ctx.store.domain_exists(&name.name)? {
                    Some(Text::new("In use", "Déjà enregistré"))
                } else {
                    None
                };
                CheckItem {
                    name: name.name,
                    avail: reason.is_none(),
                    reason,
                }
            }
        };
        items.push(item);
    }
    Ok(Outcome::ok(ResData::Check(ObjectKind::Domain, items)))
}

/// A check with RFC 8748 fees: the availability, then each name's price for
/// each command asked, from the configured prices (R23).
///
/// # Errors
/// As [`run`].
pub fn run_with_fees(
    ctx: &FlowCtx<'_>,
    names: &[String],
    queries: &[FeeQuery],
    currency: Option<&str>,
) -> Result<Outcome, EppError> {
    let served = ctx.settings.billing.currency.as_str();
    if let Some(asked) = currency.filter(|c| *c != served) {
        return Err(EppError::Policy(
            Text::new(
                format!("RFC 8748: the currency {asked} is not served; use {served}"),
                format!("RFC 8748 : la devise {asked} n'est pas servie ; utilisez {served}"),
            ),
            None,
        ));
    }
    let mut outcome = run(ctx, names)?;
    let Some(ResData::Check(_, items)) = &outcome.res_data else {
        return Ok(outcome);
    };
    let mut fees = Vec::with_capacity(items.len());
    for item in items {
        let zone = crate::flows::common::zone_of(ctx.settings, &item.name);
        let commands = queries
            .iter()
            .map(|q| {
                let fee = match q.command {
                    "create" => ctx.settings.billing.price(zone, Billable::Create, q.years),
                    "renew" => ctx.settings.billing.price(zone, Billable::Renew, q.years),
                    "restore" => ctx.settings.billing.price(zone, Billable::Restore, 1),
                    // R12: a .ma transfer changes no date and costs nothing.
                    _ => 0,
                };
                let years = if matches!(q.command, "create" | "renew") {
                    q.years
                } else {
                    0
                };
                (q.command, years, fee)
            })
            .collect();
        fees.push((item.name.clone(), item.avail, commands));
    }
    outcome.extensions.push(ResponseExtension::FeeCheck {
        currency: ctx.settings.billing.currency.clone(),
        items: fees,
    });
    Ok(outcome)
}
