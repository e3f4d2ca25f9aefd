//! Checks shared by several flows: loading objects by the name a client
//! sent, sponsorship, and the retry of optimistic store changes.

use crate::error::EppError;
use crate::flows::FlowCtx;
use crate::model::{Contact, Domain, Host, OffendingValue, Text};
use crate::policy;

/// How many times a flow re-reads and retries when its object changed under it.
pub const RETRIES: usize = 16;

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
pub fn contention() -> EppError {
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
