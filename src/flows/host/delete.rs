//! `<host:delete>`: a host no domain delegates to.

use crate::error::EppError;
use crate::flows::common::{Attempt, commit_retrying, load_host, verify_sponsor};
use crate::flows::{FlowCtx, Outcome};
use crate::model::{ResultCode, Status, Text};
use crate::policy::statuses;
use crate::store::Conflict;

/// Deletes a host.
///
/// # Errors
/// - 2201: another registrar's host.
/// - 2303: no such host; 2005: a malformed name.
/// - 2304: a `*DeleteProhibited` status.
/// - 2305: a domain delegates to it (R14).
pub async fn run(ctx: &FlowCtx<'_>, name: &str) -> Result<Outcome, EppError> {
    commit_retrying(|| async move {
        let old = load_host(ctx, name)?;
        verify_sponsor(ctx, &old.sponsor, &format!("the host {}", old.name))?;
        statuses::verify_not_prohibited(
            &old.statuses,
            &[
                Status::ClientDeleteProhibited,
                Status::ServerDeleteProhibited,
            ],
            "delete",
        )?;
        Attempt::of(
            ctx.store.delete_host(&old, &ctx.audit()),
            |conflict| match conflict {
                Conflict::Linked => EppError::AssociationProhibits(Text::new(
                    format!("R14: the host {} is a name server of a domain", old.name),
                    format!("R14 : l'hôte {} est serveur de noms d'un domaine", old.name),
                )),
                other => other.into(),
            },
        )
    })
    .await?;
    ctx.store.durable().await?;
    Ok(Outcome::code(ResultCode::Success))
}
