//! `<host:info>`: host objects are public to every registrar.

use crate::error::EppError;
use crate::flows::{FlowCtx, Outcome};
use crate::model::{HostInfoData, OffendingValue, ResData, Status, Text};
use crate::policy;

/// Answers a host info.
///
/// # Errors
/// - 2005: a malformed host name.
/// - 2303: no such host.
pub fn run(ctx: &FlowCtx<'_>, input: &str) -> Result<Outcome, EppError> {
    let name = policy::host_name(input, ctx.settings)?.name;
    let host = ctx.store.host(&name)?.ok_or_else(|| {
        EppError::DoesNotExist(
            Text::new(
                format!("the host {input} does not exist"),
                format!("l'hôte {input} n'existe pas"),
            ),
            Some(OffendingValue::Element {
                ns: "host",
                name: "name",
                text: input.to_owned(),
            }),
        )
    })?;
    let mut statuses = host.statuses.clone();
    if statuses.is_empty() {
        statuses.push(Status::Ok);
    }
    if ctx.store.host_linked(&host.name)? {
        statuses.push(Status::Linked);
    }
    statuses.sort();
    Ok(Outcome::ok(ResData::HostInfo(Box::new(HostInfoData {
        name: host.name,
        roid: host.roid,
        statuses,
        addrs: host.addrs,
        sponsor: host.sponsor,
        created_by: host.created_by,
        created: host.created,
        updated_by: host.updated_by,
        updated: host.updated,
        transferred: host.transferred,
    }))))
}
