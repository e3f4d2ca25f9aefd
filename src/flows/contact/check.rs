//! `<contact:check>`: whether each id is free.

use crate::error::EppError;
use crate::flows::{FlowCtx, Outcome, verify_check_size};
use crate::model::{CheckItem, ObjectKind, ResData, Text};

/// Checks contact ids.
///
/// # Errors
/// 2306 beyond the configured number of ids; 2400 on store failure.
pub fn run(ctx: &FlowCtx<'_>, ids: &[String]) -> Result<Outcome, EppError> {
    verify_check_size(ctx, ids.len())?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        let taken = ctx.store.contact_exists(id)?;
        items.push(CheckItem {
            name: id.clone(),
            avail: !taken,
            reason: taken.then(|| Text::new("In use", "Déjà utilisé")),
        });
    }
    Ok(Outcome::ok(ResData::Check(ObjectKind::Contact, items)))
}
