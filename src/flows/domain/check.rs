//! `<domain:check>`: availability of each name under R1 and R3, and whether
//! it is registered already.

use crate::error::EppError;
use crate::flows::{FlowCtx, Outcome, verify_check_size};
use crate::model::{CheckItem, ObjectKind, ResData, Text};
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
