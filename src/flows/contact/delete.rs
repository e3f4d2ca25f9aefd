//! `<contact:delete>`: a contact no domain uses.

use crate::error::EppError;
use crate::flows::common::{RETRIES, contention, load_contact, verify_sponsor};
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
    for _ in 0..RETRIES {
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
        match ctx.store.delete_contact(&old, &ctx.audit())? {
            Ok(()) => {
                ctx.store.durable().await?;
                return Ok(Outcome::code(ResultCode::Success));
            }
            Err(Conflict::Changed) => continue,
            Err(Conflict::Linked) => {
                return Err(EppError::AssociationProhibits(Text::new(
                    format!("the contact {id} is used by a domain"),
                    format!("le contact {id} est utilisé par un domaine"),
                )));
            }
            Err(other) => return Err(EppError::Internal(format!("unexpected {other:?}"))),
        }
    }
    Err(contention())
}
