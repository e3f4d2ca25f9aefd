//! R19, the registry's side: a registrar's standing (active, suspended,
//! terminated) and the bulk move of its domains to another registrar.

use crate::error::EppError;
use crate::flows::common::{Attempt, commit_retrying};
use crate::model::{ChangeRecord, PollMessage, PollPayload, RegistrarState, Text, Timestamp};
use crate::store::{Effects, Store};

/// Sets a registrar's standing; a suspended or terminated registrar cannot log in.
///
/// # Errors
/// 2303 unknown registrar.
pub fn set_state(
    store: &Store,
    clid: &str,
    state: RegistrarState,
    audit: &crate::model::Audit,
) -> Result<(), EppError> {
    let mut registrar = store.registrar(clid)?.ok_or_else(|| {
        EppError::DoesNotExist(
            Text::new(
                format!("no registrar {clid}"),
                format!("aucun prestataire {clid}"),
            ),
            None,
        )
    })?;
    registrar.state = state;
    store.put_registrar(&registrar, audit)?;
    Ok(())
}

/// R19: moves every domain of `from` to `to` (with their subordinate hosts
/// and a new authInfo each); both registrars get a poll message per domain.
/// Returns how many moved.
///
/// # Errors
/// 2303 unknown registrar; store failures.
pub async fn move_domains(
    store: &Store,
    from: &str,
    to: &str,
    now: Timestamp,
    operator: &str,
) -> Result<usize, EppError> {
    for clid in [from, to] {
        if store.registrar(clid)?.is_none() {
            return Err(EppError::DoesNotExist(
                Text::new(
                    format!("no registrar {clid}"),
                    format!("aucun prestataire {clid}"),
                ),
                None,
            ));
        }
    }
    let mut moved = 0;
    for name in store.domains_of(from)? {
        let name = &name;
        let done = commit_retrying(|| async move {
            let Some(old) = store.domain(name)? else {
                return Ok(Attempt::Done(false));
            };
            if old.sponsor != from {
                return Ok(Attempt::Done(false));
            }
            let mut new = old.clone();
            new.sponsor = to.to_owned();
            new.transferred = Some(now);
            new.auth = Some(crate::flows::auth::regenerated_auth_info(now));
            let text = Text::new(
                format!("R19: the registry moved {name} from {from} to {to}."),
                format!("R19 : le registre a transféré {name} de {from} à {to}."),
            );
            let change = ChangeRecord {
                operation: "transfer".into(),
                op: Some("bulkMove".into()),
                date: now,
                sv_trid: store.next_sv_trid(),
                who: format!("operator:{operator}"),
                reason: Some("R19".into()),
            };
            let messages = [from, to]
                .into_iter()
                .map(|registrar| {
                    Ok(PollMessage {
                        id: store.next_message_id()?,
                        registrar: registrar.to_owned(),
                        queued: now,
                        text_en: text.en.clone(),
                        text_fr: text.fr.clone(),
                        payload: PollPayload::None,
                        change: Some(change.clone()),
                    })
                })
                .collect::<Result<Vec<_>, EppError>>()?;
            let effects = Effects {
                messages,
                ..Effects::audit(crate::store::registry_audit(
                    store,
                    now,
                    &format!("operator:{operator}"),
                    "admin:registrar-move",
                ))
            };
            let attempt = Attempt::of(
                store.replace_domain_with(&old, &new, &effects),
                EppError::from,
            )?;
            Ok(attempt.map(|()| true))
        })
        .await?;
        if done {
            moved += 1;
        }
    }
    store.durable().await?;
    Ok(moved)
}
