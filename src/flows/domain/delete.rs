//! `<domain:delete>`: removes a domain and its subordinate hosts.

use crate::error::EppError;
use crate::flows::common::{RETRIES, contention, load_domain, verify_sponsor};
use crate::flows::{FlowCtx, Outcome};
use crate::model::{ResultCode, Status, Text};
use crate::policy::statuses;
use crate::store::Conflict;

/// Deletes a domain.
///
/// # Errors
/// - 2201: another registrar's domain.
/// - 2303: no such domain.
/// - 2304: a `*DeleteProhibited` or `pending*` status.
/// - 2305: a subordinate host is a name server of another domain.
pub async fn run(ctx: &FlowCtx<'_>, name: &str) -> Result<Outcome, EppError> {
    for _ in 0..RETRIES {
        let old = load_domain(ctx, name)?;
        verify_sponsor(ctx, &old.sponsor, &format!("the domain {}", old.name))?;
        statuses::verify_not_prohibited(
            &old.statuses,
            &[
                Status::ClientDeleteProhibited,
                Status::ServerDeleteProhibited,
                Status::PendingDelete,
                Status::PendingTransfer,
                Status::PendingCreate,
                Status::PendingUpdate,
            ],
            "delete",
        )?;
        match ctx.store.delete_domain(&old)? {
            Ok(()) => {
                ctx.store.durable().await?;
                return Ok(Outcome::code(ResultCode::Success));
            }
            Err(Conflict::Changed) => continue,
            Err(Conflict::HostInUse(host)) => {
                return Err(EppError::AssociationProhibits(Text::new(
                    format!(
                        "the subordinate host {host} is a name server of another domain; remove it there first"
                    ),
                    format!(
                        "l'hôte subordonné {host} est serveur de noms d'un autre domaine ; retirez-le d'abord"
                    ),
                )));
            }
            Err(other) => return Err(EppError::Internal(format!("unexpected {other:?}"))),
        }
    }
    Err(contention())
}
