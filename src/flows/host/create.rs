//! `<host:create>`: a name server object. Glue rules of R14: a host in a
//! registry zone needs its superordinate domain, sponsored by the same
//! registrar, and at least one address; a host outside has none.

use crate::error::EppError;
use crate::flows::{FlowCtx, Outcome};
use crate::model::{Host, HostCreate, OffendingValue, ResData, Text};
use crate::policy;
use crate::policy::nameservers::HostAddressRefusal;
use crate::store::Conflict;

/// Creates a host.
///
/// # Errors
/// - 2005: a malformed name.
/// - 2003: an in-zone host without address (R14).
/// - 2306: an external host with addresses (R14); an address given twice.
/// - 2303: the superordinate domain does not exist.
/// - 2201: the superordinate domain is another registrar's.
/// - 2302: the host exists.
pub async fn run(ctx: &FlowCtx<'_>, cmd: HostCreate) -> Result<Outcome, EppError> {
    let name = policy::host_name(&cmd.name, ctx.settings)?;
    let offending = |text: &str| {
        Some(OffendingValue::Element {
            ns: "host",
            name: "name",
            text: text.to_owned(),
        })
    };
    if let Err(refusal) =
        policy::r14_host_addresses(name.superordinate.is_some(), !cmd.addrs.is_empty())
    {
        let text = refusal.text(&name.name);
        return Err(match refusal {
            HostAddressRefusal::GlueMissing => EppError::MissingParameter(text),
            HostAddressRefusal::OutsideZones => EppError::Policy(text, offending(&cmd.name)),
        });
    }
    let mut addrs = Vec::with_capacity(cmd.addrs.len());
    for addr in cmd.addrs {
        if addrs.contains(&addr) {
            return Err(EppError::Policy(
                Text::new(
                    format!("the address {addr} is listed twice"),
                    format!("l'adresse {addr} est citée deux fois"),
                ),
                None,
            ));
        }
        addrs.push(addr);
    }
    let host = Host {
        roid: ctx.store.next_roid('H')?,
        name: name.name,
        addrs,
        statuses: Vec::new(),
        superordinate: name.superordinate,
        sponsor: ctx.registrar.to_owned(),
        created_by: ctx.registrar.to_owned(),
        created: ctx.now,
        updated_by: None,
        updated: None,
        transferred: None,
    };
    match ctx.store.create_host(&host, &ctx.audit())? {
        Ok(()) => {}
        Err(Conflict::Exists) => {
            return Err(EppError::Exists(
                Text::new(
                    format!("the host {} exists already", host.name),
                    format!("l'hôte {} existe déjà", host.name),
                ),
                offending(&cmd.name),
            ));
        }
        Err(Conflict::MissingSuperordinate(domain)) => {
            return Err(EppError::DoesNotExist(
                Text::new(
                    format!(
                        "R14: the superordinate domain {domain} of {} is not registered",
                        host.name
                    ),
                    format!(
                        "R14 : le domaine parent {domain} de {} n'est pas enregistré",
                        host.name
                    ),
                ),
                offending(&cmd.name),
            ));
        }
        Err(other) => return Err(other.into()),
    }
    ctx.store.durable().await?;
    Ok(Outcome::ok(ResData::HostCreate {
        name: host.name,
        created: host.created,
    }))
}
