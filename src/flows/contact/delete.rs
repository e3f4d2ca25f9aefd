//! `<contact:delete>`: a contact no domain uses.

use crate::error::EppError;
use crate::flows::common::{Attempt, commit_retrying, load_contact, verify_sponsor};
use crate::flows::{FlowCtx, Outcome};
use crate::model::{ResultCode, Status, Text};
use crate::policy::statuses;
use crate::store::Conflict;

/// Deletes a contact.
///
/// # Errors
/// - 2201: another registrar's contact.
/// - 2303: no such contact.
/// - 2304: a `*DeleteProhibited` or `pending*` status.
/// - 2305: a domain uses it.
pub async fn run(ctx: &FlowCtx<'_>, id: &str) -> Result<Outcome, EppError> {
    commit_retrying(|| async move {
        let old = load_contact(ctx, id)?;
        verify_sponsor(ctx, &old.sponsor, &format!("the contact {id}"))?;
        statuses::verify_not_prohibited(
            &old.statuses,
            &[
                Status::ClientDeleteProhibited,
                Status::ServerDeleteProhibited,
                Status::PendingTransfer,
            ],
            "delete",
        )?;
        Attempt::of(
            ctx.store.delete_contact(&old, &ctx.audit()),
            |conflict| match conflict {
                Conflict::Linked => EppError::AssociationProhibits(Text::new(
                    format!("the contact {id} is used by a domain"),
                    format!("le contact {id} est utilisé par un domaine"),
                )),
                other => other.into(),
            },
        )
    })
    .await?;
    ctx.store.durable().await?;
    Ok(Outcome::code(ResultCode::Success))
}
