//! `<host:update>`: addresses, `client*` statuses and renaming, within the
//! glue rules of R14.

use crate::error::EppError;
use crate::flows::common::{
    Attempt, apply_status_changes, commit_retrying, load_host, not_applicable_change,
    verify_sponsor,
};
use crate::flows::{FlowCtx, Outcome};
use crate::model::{Host, HostUpdate, ResultCode, Status, Text};
use crate::policy;
use crate::store::Conflict;

/// Updates a host.
///
/// # Errors
/// - 2201: another registrar's host, or a new superordinate domain of another registrar.
/// - 2303: no such host; the new superordinate domain does not exist.
/// - 2302: the new name is taken.
/// - 2304: an update-prohibiting status; a status the registrar may not set.
/// - 2306: an in-zone host left without address, an external host with
///   addresses (R14); adding what is there or removing what is not.
/// - 2005: a malformed name.
pub async fn run(ctx: &FlowCtx<'_>, cmd: HostUpdate) -> Result<Outcome, EppError> {
    let cmd = &cmd;
    commit_retrying(|| async move {
        let old = load_host(ctx, &cmd.name)?;
        let new = apply(ctx, &old, cmd)?;
        let users = if new.name != old.name {
            ctx.store.domains_using_host(&old.name)?
        } else {
            Vec::new()
        };
        Attempt::of(
            ctx.store.replace_host(&old, &new, &users, &ctx.audit()),
            |conflict| match conflict {
                Conflict::Exists => EppError::Exists(
                    Text::new(
                        format!("the host {} exists already", new.name),
                        format!("l'hôte {} existe déjà", new.name),
                    ),
                    None,
                ),
                // R14's superordinate domain: the usual answers.
                other => other.into(),
            },
        )
    })
    .await?;
    ctx.store.durable().await?;
    Ok(Outcome::code(ResultCode::Success))
}

fn apply(ctx: &FlowCtx<'_>, old: &Host, cmd: &HostUpdate) -> Result<Host, EppError> {
    verify_sponsor(ctx, &old.sponsor, &format!("the host {}", old.name))?;
    let mut new = old.clone();
    new.statuses = apply_status_changes(
        &old.statuses,
        &cmd.add_statuses,
        &cmd.rem_statuses,
        vec![Status::ServerUpdateProhibited, Status::PendingDelete],
    )?;
    for a in &cmd.rem_addrs {
        if !new.addrs.contains(a) {
            return Err(not_applicable_change(
                format!("{a} is not an address of {}", old.name),
                format!("{a} n'est pas une adresse de {}", old.name),
            ));
        }
        new.addrs.retain(|x| x != a);
    }
    for a in &cmd.add_addrs {
        if new.addrs.contains(a) {
            return Err(not_applicable_change(
                format!("{a} is an address of {} already", old.name),
                format!("{a} est déjà une adresse de {}", old.name),
            ));
        }
        new.addrs.push(*a);
    }
    if let Some(new_name) = &cmd.new_name {
        let host = policy::host_name(new_name, ctx.settings)?;
        new.name = host.name;
        new.superordinate = host.superordinate;
    }
    policy::r14_host_addresses(new.superordinate.is_some(), !new.addrs.is_empty())
        .map_err(|refusal| EppError::Policy(refusal.text(&new.name), None))?;
    new.updated_by = Some(ctx.registrar.to_owned());
    new.updated = Some(ctx.now);
    Ok(new)
}
