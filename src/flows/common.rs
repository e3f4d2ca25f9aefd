//! Checks shared by several flows: loading objects by the name a client
//! sent, sponsorship, the retry of optimistic store changes
//! ([`commit_retrying`]), and what the store's answers become for the
//! client: a refused change (`From<Conflict> for EppError`) and a store
//! failure (`From<StoreError> for EppError`).

use crate::error::EppError;
use crate::flows::FlowCtx;
use crate::model::{Contact, Domain, Host, OffendingValue, Text};
use crate::policy;
use crate::store::{Conflict, StoreError};

/// How many times a flow re-reads and retries when its object changed under it.
const RETRIES: usize = 16;

/// What one attempt of an optimistic change came to.
#[derive(Debug)]
pub enum Attempt<T> {
    /// The change was made (or found needless); the flow goes on with `T`.
    Done(T),
    /// The object changed since it was read: read it again and retry.
    Retry,
}

impl<T> Attempt<T> {
    /// The attempt a store change's result makes: done, a retry on
    /// [`Conflict::Changed`], else the error `refuse` maps the conflict to
    /// (`EppError::from` for the usual answers).
    ///
    /// # Errors
    /// The store's failure, or the refused change's error.
    pub fn of(
        result: Result<Result<T, Conflict>, StoreError>,
        refuse: impl FnOnce(Conflict) -> EppError,
    ) -> Result<Self, EppError> {
        match result? {
            Ok(done) => Ok(Attempt::Done(done)),
            Err(Conflict::Changed) => Ok(Attempt::Retry),
            Err(conflict) => Err(refuse(conflict)),
        }
    }

    /// The attempt with its value turned by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Attempt<U> {
        match self {
            Attempt::Done(done) => Attempt::Done(f(done)),
            Attempt::Retry => Attempt::Retry,
        }
    }
}

/// Runs `attempt` (read, decide, try the atomic change) until it is done,
/// at most [`RETRIES`] times; an object that kept changing is a 2400
/// ([`contention`]). The closure returns an `async move` block, so each
/// attempt reads afresh what it needs (it captures references only).
///
/// # Errors
/// The attempt's error, or [`contention`].
pub async fn commit_retrying<T, F>(mut attempt: impl FnMut() -> F) -> Result<T, EppError>
where
    F: Future<Output = Result<Attempt<T>, EppError>>,
{
    for _ in 0..RETRIES {
        if let Attempt::Done(done) = attempt().await? {
            return Ok(done);
        }
    }
    Err(contention())
}

/// The answer to a refused change made for a client's command: a charge
/// the balance cannot pay (R23) names the registry's currency; any other
/// conflict gets the usual answer.
pub fn refusal(settings: &crate::config::Settings, conflict: Conflict) -> EppError {
    match conflict {
        Conflict::InsufficientFunds { balance, price } => crate::policy::r23_refusal(
            crate::policy::R23CannotPay { balance, price },
            Some(&settings.billing.currency),
        ),
        other => other.into(),
    }
}

/// The usual answer to a refused change; a flow that words one differently
/// maps that conflict itself and delegates the rest here.
impl From<Conflict> for EppError {
    fn from(conflict: Conflict) -> Self {
        match conflict {
            Conflict::Exists => EppError::Exists(
                Text::new("the object exists already", "l'objet existe déjà"),
                None,
            ),
            Conflict::Changed => contention(),
            Conflict::MissingContact(id) => contact_not_found(&id),
            Conflict::MissingHost(name) => host_not_found(&name),
            Conflict::MissingSuperordinate(domain) => EppError::DoesNotExist(
                Text::new(
                    format!("R14: the superordinate domain {domain} is not registered"),
                    format!("R14 : le domaine parent {domain} n'est pas enregistré"),
                ),
                None,
            ),
            Conflict::ForeignSuperordinate(domain) => EppError::Authorization(Text::new(
                format!("R14: the superordinate domain {domain} is sponsored by another registrar"),
                format!("R14 : le domaine parent {domain} relève d'un autre prestataire"),
            )),
            Conflict::Linked => EppError::AssociationProhibits(Text::new(
                "the object is used by a domain",
                "l'objet est utilisé par un domaine",
            )),
            Conflict::HostInUse(host) => EppError::AssociationProhibits(Text::new(
                format!("{host} is a name server of another domain"),
                format!("{host} est serveur de noms d'un autre domaine"),
            )),
            Conflict::TokenInvalid => EppError::Authorization(Text::new(
                "R4: the allocation token is not valid: unknown, used, or issued for another name",
                "R4 : le jeton d'attribution n'est pas valable : inconnu, déjà utilisé ou émis pour un autre nom",
            )),
            Conflict::InsufficientFunds { balance, price } => {
                crate::policy::r23_refusal(crate::policy::R23CannotPay { balance, price }, None)
            }
        }
    }
}

/// 2303 for a domain.
pub fn domain_not_found(input: &str) -> EppError {
    EppError::DoesNotExist(
        Text::new(
            format!("the domain {input} does not exist"),
            format!("le domaine {input} n'existe pas"),
        ),
        Some(OffendingValue::Element {
            ns: "domain",
            name: "name",
            text: input.to_owned(),
        }),
    )
}

/// 2303 for a contact.
pub fn contact_not_found(id: &str) -> EppError {
    EppError::DoesNotExist(
        Text::new(
            format!("the contact {id} does not exist"),
            format!("le contact {id} n'existe pas"),
        ),
        Some(OffendingValue::Element {
            ns: "contact",
            name: "id",
            text: id.to_owned(),
        }),
    )
}

/// 2303 for a host.
pub fn host_not_found(name: &str) -> EppError {
    EppError::DoesNotExist(
        Text::new(
            format!("the host {name} does not exist"),
            format!("l'hôte {name} n'existe pas"),
        ),
        Some(OffendingValue::Element {
            ns: "host",
            name: "name",
            text: name.to_owned(),
        }),
    )
}

/// The domain a client named: 2005 for a name that breaks R3, 2303 when it
/// is not registered (a name R1 refuses cannot be).
///
/// # Errors
/// As above.
pub fn load_domain(ctx: &FlowCtx<'_>, input: &str) -> Result<Domain, EppError> {
    let name = match policy::r1_r3_registrable_name(input, ctx.settings) {
        Ok(name) => name.name,
        Err(refusal) => {
            return Err(match refusal.error {
                e @ EppError::ValueSyntax(..) => e,
                _ => domain_not_found(input),
            });
        }
    };
    ctx.store
        .domain(&name)?
        .ok_or_else(|| domain_not_found(input))
}

/// The contact a client named, or 2303.
///
/// # Errors
/// As above.
pub fn load_contact(ctx: &FlowCtx<'_>, id: &str) -> Result<Contact, EppError> {
    ctx.store.contact(id)?.ok_or_else(|| contact_not_found(id))
}

/// The host a client named: 2005 for a malformed name, else 2303.
///
/// # Errors
/// As above.
pub fn load_host(ctx: &FlowCtx<'_>, input: &str) -> Result<Host, EppError> {
    let name = policy::host_name(input, ctx.settings)?.name;
    ctx.store.host(&name)?.ok_or_else(|| host_not_found(input))
}

/// Only the sponsoring registrar may transform an object.
///
/// # Errors
/// 2201.
pub fn verify_sponsor(ctx: &FlowCtx<'_>, sponsor: &str, what: &str) -> Result<(), EppError> {
    if sponsor == ctx.registrar {
        return Ok(());
    }
    Err(EppError::Authorization(Text::new(
        format!("{what} is sponsored by another registrar"),
        format!("{what} relève d'un autre prestataire"),
    )))
}

/// A change that kept conflicting with concurrent changes.
fn contention() -> EppError {
    EppError::Internal("the object kept changing concurrently".into())
}

/// 2306 for a value added that is there already, or removed that is not.
pub fn not_applicable_change(en: String, fr: String) -> EppError {
    EppError::Policy(Text::new(en, fr), None)
}

/// The charge for `years` of `what` on `domain` (in `zone`) to `registrar`,
/// or `None` when it costs nothing (R23).
pub fn charge(
    settings: &crate::config::Settings,
    registrar: &str,
    zone: &str,
    what: crate::config::Billable,
    years: u32,
    description: String,
    allow_negative: bool,
) -> Option<crate::store::Charge> {
    let amount = settings.billing.price(zone, what, years);
    (amount > 0).then(|| crate::store::Charge {
        registrar: registrar.to_owned(),
        amount,
        description,
        allow_negative,
    })
}

/// The zone of a stored domain name.
pub fn zone_of<'s>(settings: &'s crate::config::Settings, name: &str) -> &'s str {
    settings
        .zone_of(name)
        .map(|z| z.name.as_str())
        .unwrap_or("")
}

/// The status part of an update (RFC 5731–5733): only `client*` statuses
/// may be added or removed (2304); `blocking` statuses of the object forbid
/// the update (2304), `clientUpdateProhibited` unless the update removes it;
/// adding a status that is set or removing one that is not is a 2306.
/// Returns the new statuses.
///
/// # Errors
/// As above.
pub fn apply_status_changes(
    current: &[crate::model::Status],
    add: &[crate::model::Status],
    rem: &[crate::model::Status],
    mut blocking: Vec<crate::model::Status>,
) -> Result<Vec<crate::model::Status>, EppError> {
    use crate::model::Status;
    use crate::policy::statuses;
    statuses::verify_client_settable(add)?;
    statuses::verify_client_settable(rem)?;
    if !rem.contains(&Status::ClientUpdateProhibited) {
        blocking.push(Status::ClientUpdateProhibited);
    }
    statuses::verify_not_prohibited(current, &blocking, "update")?;
    let mut next = current.to_vec();
    for s in rem {
        if !next.contains(s) {
            return Err(not_applicable_change(
                format!("the status {} is not set", s.as_str()),
                format!("le statut {} n'est pas posé", s.as_str()),
            ));
        }
        next.retain(|x| x != s);
    }
    for s in add {
        if next.contains(s) || rem.contains(s) {
            return Err(not_applicable_change(
                format!("the status {} is set already", s.as_str()),
                format!("le statut {} est déjà posé", s.as_str()),
            ));
        }
        next.push(*s);
    }
    Ok(next)
}

/// A store failure becomes a 2400 for the client and an error log for the operator.
impl From<StoreError> for EppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotDurable(detail) => EppError::OutcomeUnknown(detail),
            StoreError::WritesSuspended(detail) => {
                tracing::warn!(%detail, "write refused: the store takes no writes");
                EppError::StoreUnavailable(Text::new(
                    "the registry cannot write to its store at the moment (disk full or failing); nothing was changed; try again later",
                    "le registre ne peut pas écrire dans sa base pour le moment (disque plein ou défaillant) ; rien n'a été modifié ; réessayez plus tard",
                ))
            }
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "command refused: the database is unavailable");
                EppError::StoreUnavailable(Text::new(
                    "the registry cannot reach its database at the moment; nothing was changed; try again later",
                    "le registre ne peut pas joindre sa base pour le moment ; rien n'a été modifié ; réessayez plus tard",
                ))
            }
            StoreError::Reopening => EppError::StoreUnavailable(Text::new(
                "the registry's store is being reopened after a disk failure, for a moment; nothing was changed; try again",
                "la base du registre est en cours de réouverture après une panne de disque, pour un instant ; rien n'a été modifié ; réessayez",
            )),
            other => EppError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::apply_status_changes;
    use crate::model::Status::{
        ClientDeleteProhibited, ClientHold, ClientUpdateProhibited, ServerHold,
        ServerUpdateProhibited,
    };

    fn code(result: Result<Vec<crate::model::Status>, crate::error::EppError>) -> u16 {
        match result {
            Ok(_) => 1000,
            Err(e) => e.result_code().code(),
        }
    }

    #[test]
    fn a_client_status_is_added_and_removed() {
        let next = apply_status_changes(
            &[ClientHold],
            &[ClientDeleteProhibited],
            &[ClientHold],
            vec![],
        )
        .unwrap();
        assert_eq!(next, vec![ClientDeleteProhibited]);
    }

    #[test]
    fn a_server_status_cannot_be_added_or_removed_by_a_registrar() {
        assert_eq!(
            code(apply_status_changes(&[], &[ServerHold], &[], vec![])),
            2304
        );
        assert_eq!(
            code(apply_status_changes(
                &[ServerHold],
                &[],
                &[ServerHold],
                vec![]
            )),
            2304
        );
    }

    #[test]
    fn adding_a_status_set_already_or_removing_one_not_set_is_2306() {
        assert_eq!(
            code(apply_status_changes(
                &[ClientHold],
                &[ClientHold],
                &[],
                vec![]
            )),
            2306
        );
        assert_eq!(
            code(apply_status_changes(&[], &[], &[ClientHold], vec![])),
            2306
        );
        // The same status added and removed at once.
        assert_eq!(
            code(apply_status_changes(
                &[],
                &[ClientHold],
                &[ClientHold],
                vec![]
            )),
            2306
        );
    }

    #[test]
    fn client_update_prohibited_blocks_an_update_unless_the_update_removes_it() {
        assert_eq!(
            code(apply_status_changes(
                &[ClientUpdateProhibited],
                &[ClientHold],
                &[],
                vec![]
            )),
            2304
        );
        let next = apply_status_changes(
            &[ClientUpdateProhibited],
            &[ClientHold],
            &[ClientUpdateProhibited],
            vec![],
        )
        .unwrap();
        assert_eq!(next, vec![ClientHold]);
    }

    #[test]
    fn a_blocking_status_of_the_object_forbids_any_status_change() {
        assert_eq!(
            code(apply_status_changes(
                &[ServerUpdateProhibited],
                &[ClientHold],
                &[],
                vec![ServerUpdateProhibited],
            )),
            2304
        );
    }
}
