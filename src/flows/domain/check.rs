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
                let taken = ctx.store.domain_exists(&name.name)?;
                CheckItem {
                    name: name.name,
                    avail: !taken,
                    reason: taken.then(|| Text::new("In use", "Déjà enregistré")),
                }
            }
        };
        items.push(item);
    }
    Ok(Outcome::ok(ResData::Check(ObjectKind::Domain, items)))
}
