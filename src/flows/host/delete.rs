//! `<host:delete>`: a host no domain delegates to.

use crate::error::EppError;
use crate::flows::common::{RETRIES, contention, load_host, verify_sponsor};
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
    for _ in 0..RETRIES {
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
        match ctx.store.delete_host(&old, &ctx.audit())? {
            Ok(()) => {
                ctx.store.durable().await?;
                return Ok(Outcome::code(ResultCode::Success));
            }
            Err(Conflict::Changed) => continue,
            Err(Conflict::Linked) => {
                return Err(EppError::AssociationProhibits(Text::new(
                    format!("R14: the host {} is a name server of a domain", old.name),
                    format!("R14 : l'hôte {} est serveur de noms d'un domaine", old.name),
                )));
            }
            Err(other) => return Err(EppError::Internal(format!("unexpected {other:?}"))),
        }
    }
    Err(contention())
}
