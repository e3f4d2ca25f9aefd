//! `<contact:update>`: postal infos, phones, e-mail, authInfo, disclosure,
//! `client*` statuses and the identity document (R15), within R13 and R17.

use crate::error::EppError;
use crate::flows::auth::new_auth_info;
use crate::flows::common::{
    Attempt, apply_status_changes, commit_retrying, load_contact, verify_sponsor,
};
use crate::flows::{FlowCtx, Outcome};
use crate::model::{
    Contact, ContactRole, ContactUpdate, Identity, PostalInfo, ResultCode, Status, Text,
    Verification,
};
use crate::policy;

/// Updates a contact.
///
/// # Errors
/// - 2201: another registrar's contact.
/// - 2303: no such contact.
/// - 2304: an update-prohibiting status; a status the registrar may not set.
/// - 2306: a name or organisation change of a domain's registrant (R13: an
///   ownership change); an admin contact moved out of Morocco (R17); adding
///   a status that is set or removing one that is not.
/// - 2003: a new postal info without name or address.
/// - 2005: an identity number that does not fit its type (R15).
pub async fn run(ctx: &FlowCtx<'_>, cmd: ContactUpdate) -> Result<Outcome, EppError> {
    let cmd = &cmd;
    commit_retrying(|| async move {
        let old = load_contact(ctx, &cmd.id)?;
        let new = apply(ctx, &old, cmd)?;
        Attempt::of(
            ctx.store.replace_contact(&old, &new, &ctx.audit()),
            EppError::from,
        )
    })
    .await?;
    ctx.store.durable().await?;
    Ok(Outcome::code(ResultCode::Success))
}

fn apply(ctx: &FlowCtx<'_>, old: &Contact, cmd: &ContactUpdate) -> Result<Contact, EppError> {
    verify_sponsor(ctx, &old.sponsor, &format!("the contact {}", old.id))?;
    let mut new = old.clone();
    new.statuses = apply_status_changes(
        &old.statuses,
        &cmd.add_statuses,
        &cmd.rem_statuses,
        vec![Status::ServerUpdateProhibited, Status::PendingTransfer],
    )?;
    for change in &cmd.postal {
        match new.postal.iter_mut().find(|p| p.kind == change.kind) {
            Some(p) => {
                if let Some(name) = &change.name {
                    p.name.clone_from(name);
                }
                if let Some(org) = &change.org {
                    p.org.clone_from(org);
                }
                if let Some(addr) = &change.addr {
                    p.street.clone_from(&addr.street);
                    p.city.clone_from(&addr.city);
                    p.sp.clone_from(&addr.sp);
                    p.pc.clone_from(&addr.pc);
                    p.cc.clone_from(&addr.cc);
                }
            }
            None => {
                let (Some(name), Some(addr)) = (&change.name, &change.addr) else {
                    return Err(EppError::MissingParameter(Text::new(
                        format!(
                            "a new postalInfo type=\"{}\" needs a name and an address",
                            change.kind.as_str()
                        ),
                        format!(
                            "un nouveau postalInfo type=\"{}\" exige un nom et une adresse",
                            change.kind.as_str()
                        ),
                    )));
                };
                new.postal.push(PostalInfo {
                    kind: change.kind,
                    name: name.clone(),
                    org: change.org.clone().flatten(),
                    ..addr.clone()
                });
            }
        }
    }
    if let Some(voice) = &cmd.voice {
        new.voice.clone_from(voice);
    }
    if let Some(fax) = &cmd.fax {
        new.fax.clone_from(fax);
    }
    if let Some(email) = &cmd.email {
        new.email.clone_from(email);
    }
    if let Some(pw) = &cmd.auth_password {
        new.auth = new_auth_info(ctx, pw)?;
    }
    if let Some(disclose) = &cmd.disclose {
        new.disclose = Some(disclose.clone());
    }
    if let Some(doc) = &cmd.identity {
        let number = policy::r15_identity_document(doc)?;
        let same = old
            .identity
            .as_ref()
            .is_some_and(|i| i.kind == doc.kind && i.number == number);
        if !same {
            new.identity = Some(Identity {
                kind: doc.kind,
                number,
                verification: Verification::Submitted,
                since: ctx.now,
                note: None,
            });
        }
    }
    verify_domain_roles(ctx, old, &new)?;
    new.updated_by = Some(ctx.registrar.to_owned());
    new.updated = Some(ctx.now);
    Ok(new)
}

/// R13 and R17 for a contact that domains use.
fn verify_domain_roles(ctx: &FlowCtx<'_>, old: &Contact, new: &Contact) -> Result<(), EppError> {
    let holder = |c: &Contact| -> Vec<(String, Option<String>)> {
        c.postal
            .iter()
            .map(|p| (p.name.clone(), p.org.clone()))
            .collect()
    };
    let identity_changed = holder(old) != holder(new);
    let address_left_morocco = policy::identity::r17_lives_in_morocco(&old.postal)
        && !policy::identity::r17_lives_in_morocco(&new.postal);
    if !identity_changed && !address_left_morocco {
        return Ok(());
    }
    for name in ctx.store.domains_using_contact(&old.id)? {
        let Some(domain) = ctx.store.domain(&name)? else {
            continue;
        };
        if domain.registrant == old.id {
            policy::r13_registrant_identity_unchanged(&old.id, &name, identity_changed)?;
        }
        let is_admin = domain
            .contacts
            .iter()
            .any(|c| c.role == ContactRole::Admin && c.id == old.id);
        if address_left_morocco && is_admin {
            policy::r17_admin_in_morocco(&old.id, &new.postal)?;
        }
    }
    Ok(())
}
