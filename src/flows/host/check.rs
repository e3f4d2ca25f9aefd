//! `<host:check>`: whether each host name is free.

use crate::error::EppError;
use crate::flows::{FlowCtx, Outcome, verify_check_size};
use crate::model::{CheckItem, ObjectKind, ResData, Text};
use crate::policy;

/// Checks host names.
///
/// # Errors
/// 2306 beyond the configured number of names; 2400 on store failure.
pub fn run(ctx: &FlowCtx<'_>, names: &[String]) -> Result<Outcome, EppError> {
    verify_check_size(ctx, names.len())?;
    let mut items = Vec::with_capacity(names.len());
    for input in names {
        items.push(match policy::host_name(input, ctx.settings) {
            Err(_) => CheckItem {
                name: input.clone(),
                avail: false,
                reason: Some(Text::new("Invalid host name", "Nom d'hôte invalide")),
            },
            Ok(host) => {
                let taken = ctx.store.host_exists(&host.name)?;
                CheckItem {
                    name: host.name,
                    avail: !taken,
                    reason: taken.then(|| Text::new("In use", "Déjà utilisé")),
                }
            }
        });
    }
    Ok(Outcome::ok(ResData::Check(ObjectKind::Host, items)))
}
