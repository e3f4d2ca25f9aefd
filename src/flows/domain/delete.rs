//! `<domain:delete>`: R11. The domain enters a 30-day redemption
//! (`pendingDelete`, RFC 3915 `redemptionPeriod`): it leaves the zone and
//! refuses everything but info and restore; the life-cycle engine purges it
//! when the redemption ends.

use crate::error::EppError;
use crate::flows::common::{Attempt, commit_retrying, load_domain, verify_sponsor};
use crate::flows::{FlowCtx, Outcome};
use crate::model::{ResultCode, Status};
use crate::policy::lifecycle::{r11_may_delete, r11_purge_at};
use crate::store::{DueEntry, DueKind, Effects};

/// Deletes a domain into redemption.
///
/// # Errors
/// - 2201: another registrar's domain.
/// - 2303: no such domain.
/// - 2304: a `*DeleteProhibited` or `pending*` status (R11).
/// - 2305: a subordinate host is a name server of another domain (R11).
pub async fn run(ctx: &FlowCtx<'_>, name: &str) -> Result<Outcome, EppError> {
    commit_retrying(|| async move {
        let old = load_domain(ctx, name)?;
        verify_sponsor(ctx, &old.sponsor, &format!("the domain {}", old.name))?;
        let mut hosts_used_elsewhere = Vec::new();
        for sub in &old.subordinate_hosts {
            let own = u32::from(old.nameservers.contains(sub));
            if ctx.store.host_use_count(sub)? > own {
                hosts_used_elsewhere.push(sub.clone());
            }
        }
        r11_may_delete(&old.statuses, &hosts_used_elsewhere)?;
        let mut new = old.clone();
        new.statuses.push(Status::PendingDelete);
        new.deleted = Some(ctx.now);
        new.updated_by = Some(ctx.registrar.to_owned());
        new.updated = Some(ctx.now);
        let effects = Effects {
            due_add: vec![DueEntry {
                at: r11_purge_at(ctx.now),
                kind: DueKind::Purge,
                name: new.name.clone(),
            }],
            ..Effects::audit(ctx.audit())
        };
        Attempt::of(
            ctx.store.replace_domain_with(&old, &new, &effects),
            EppError::from,
        )
    })
    .await?;
    ctx.store.durable().await?;
    Ok(Outcome::code(ResultCode::SuccessPending))
}
