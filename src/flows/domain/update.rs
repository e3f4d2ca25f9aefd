//! `<domain:update>`: name servers, contacts, `client*` statuses,
//! registrant, authInfo, DNSSEC (secDNS-1.1) and the R2 proof reference.

use crate::error::EppError;
use crate::flows::auth::new_auth_info;
use crate::flows::common::{
    Attempt, apply_status_changes, commit_retrying, contact_not_found, load_domain,
    not_applicable_change, refusal, verify_sponsor,
};
use crate::flows::{FlowCtx, Outcome};
use crate::model::RestoreOp;
use crate::model::{
    ContactRole, Domain, DomainContact, DomainUpdate, PendingOwner, ResultCode, Status, Text,
};
use crate::policy::{self, dnssec, lifecycle, statuses};
use crate::store::{DueEntry, DueKind, Effects};

/// Updates a domain.
///
/// # Errors
/// - 2201: another registrar's domain.
/// - 2303: the domain, or a contact or host it would use, does not exist.
/// - 2304: a status prohibits the update; a status the registrar may not set.
/// - 2306: adding what is there or removing what is not; more than 13 name
///   servers (R14); an admin contact outside Morocco (R17); a forbidden status
///   combination; more DS records than allowed; removing the registrant.
/// - 2005/2004: a malformed name server or DS record.
/// - 2102: `hostAttr` name servers.
pub async fn run(ctx: &FlowCtx<'_>, cmd: DomainUpdate) -> Result<Outcome, EppError> {
    if let Some(op) = cmd.restore {
        return restore(ctx, &cmd, op).await;
    }
    if cmd.proof_ref.is_some() {
        let current = load_domain(ctx, &cmd.name)?;
        if current.incomplete.is_some() {
            return complete_request(ctx, &cmd).await;
        }
    }
    let cmd = &cmd;
    let (name, owner_change) = commit_retrying(|| async move {
        let old = load_domain(ctx, &cmd.name)?;
        let new = apply(ctx, &old, cmd)?;
        let owner_change = new.pending_owner.is_some() && old.pending_owner.is_none();
        // A contact or host gone meanwhile is the usual 2303.
        let attempt = Attempt::of(
            ctx.store
                .replace_domain_with(&old, &new, &Effects::audit(ctx.audit())),
            EppError::from,
        )?;
        Ok(attempt.map(|()| (old.name, owner_change)))
    })
    .await?;
    ctx.store.durable().await?;
    if owner_change {
        // R13/R23: the ownership change is billed like a one-year
        // create when the registry approves it; its price is told now.
        let price = ctx.settings.billing.price(
            crate::flows::common::zone_of(ctx.settings, &name),
            crate::config::Billable::Ownership,
            1,
        );
        let mut outcome = Outcome::code(ResultCode::SuccessPending);
        outcome
            .extensions
            .push(crate::flows::fee_data(ctx, "updData", price, 1)?);
        return Ok(outcome);
    }
    Ok(Outcome::code(ResultCode::Success))
}

/// R11 restore (RFC 3915): a domain in redemption is re-activated with a new
/// creation date (today) and one year of validity. The report is accepted
/// once the domain is restored.
///
/// # Errors
/// - 2201: another registrar's domain.
/// - 2304: the domain is not in redemption (request), or still is (report).
/// - 2306: other changes in the same update.
async fn restore(
    ctx: &FlowCtx<'_>,
    cmd: &DomainUpdate,
    op: RestoreOp,
) -> Result<Outcome, EppError> {
    let alone = cmd.add == Default::default()
        && cmd.rem == Default::default()
        && cmd.registrant.is_none()
        && cmd.auth_password.is_none()
        && cmd.sec_dns.is_none()
        && cmd.proof_ref.is_none();
    if !alone {
        return Err(EppError::Policy(
            Text::new(
                "a restore is sent alone, with an empty <domain:chg/>",
                "une restauration s'envoie seule, avec un <domain:chg/> vide",
            ),
            None,
        ));
    }
    // `None`: a report, which changes nothing; else the restore's fee.
    let restored = commit_retrying(|| async move {
        let old = load_domain(ctx, &cmd.name)?;
        verify_sponsor(ctx, &old.sponsor, &format!("the domain {}", old.name))?;
        let in_redemption = lifecycle::r11_in_redemption(&old);
        if op == RestoreOp::Report {
            if in_redemption {
                return Err(EppError::StatusProhibits(Text::new(
                    "R11: send the restore request first",
                    "R11 : envoyez d'abord la demande de restauration",
                )));
            }
            return Ok(Attempt::Done(None));
        }
        let Some(deleted) = old.deleted.filter(|_| in_redemption) else {
            return Err(EppError::StatusProhibits(Text::new(
                format!("R11: {} is not in its redemption period", old.name),
                format!("R11 : {} n'est pas en période de rédemption", old.name),
            )));
        };
        let mut new = old.clone();
        new.statuses.retain(|s| *s != Status::PendingDelete);
        new.deleted = None;
        new.created = ctx.now;
        new.expires = ctx
            .now
            .checked_add_months(chrono::Months::new(12))
            .ok_or_else(|| EppError::Internal("date out of range".into()))?;
        new.updated_by = Some(ctx.registrar.to_owned());
        new.updated = Some(ctx.now);
        let charge = crate::flows::common::charge(
            ctx.settings,
            ctx.registrar,
            crate::flows::common::zone_of(ctx.settings, &old.name),
            crate::config::Billable::Restore,
            1,
            format!("restore {} 1y", old.name),
            false,
        );
        let fee = charge.as_ref().map(|c| c.amount).unwrap_or(0);
        let effects = Effects {
            due_add: lifecycle::expiry_agenda(&new.name, new.expires),
            due_remove: vec![DueEntry {
                at: lifecycle::r11_purge_at(deleted),
                kind: DueKind::Purge,
                name: new.name.clone(),
            }],
            charge,
            ..Effects::audit(ctx.audit())
        };
        let attempt = Attempt::of(ctx.store.replace_domain_with(&old, &new, &effects), |c| {
            refusal(ctx.settings, c)
        })?;
        Ok(attempt.map(|()| Some(fee)))
    })
    .await?;
    let Some(fee) = restored else {
        return Ok(Outcome::code(ResultCode::Success));
    };
    ctx.store.durable().await?;
    let mut outcome = Outcome::code(ResultCode::Success);
    outcome
        .extensions
        .push(crate::flows::fee_data(ctx, "updData", fee, 1)?);
    Ok(outcome)
}

/// R2: the sponsor completes an incomplete restricted-zone request with the
/// missing proof reference; the request waits for the registry again.
///
/// # Errors
/// 2201 another registrar's domain; 2306 other changes in the same update.
async fn complete_request(ctx: &FlowCtx<'_>, cmd: &DomainUpdate) -> Result<Outcome, EppError> {
    let alone = cmd.add == Default::default()
        && cmd.rem == Default::default()
        && cmd.registrant.is_none()
        && cmd.auth_password.is_none()
        && cmd.sec_dns.is_none();
    policy::r2_completion_alone(alone)?;
    commit_retrying(|| async move {
        let old = load_domain(ctx, &cmd.name)?;
        verify_sponsor(ctx, &old.sponsor, &format!("the domain {}", old.name))?;
        let deadline = policy::r2_awaits_completion(old.incomplete.as_ref().map(|(_, at)| *at))?;
        let mut new = old.clone();
        new.proof_ref.clone_from(&cmd.proof_ref);
        new.incomplete = None;
        new.updated_by = Some(ctx.registrar.to_owned());
        new.updated = Some(ctx.now);
        let effects = Effects {
            due_remove: vec![crate::flows::domain::pending_create::lapse_entry(
                &new.name, deadline,
            )],
            ..Effects::audit(ctx.audit())
        };
        Attempt::of(
            ctx.store.replace_domain_with(&old, &new, &effects),
            EppError::from,
        )
    })
    .await?;
    ctx.store.durable().await?;
    Ok(Outcome::code(ResultCode::SuccessPending))
}

fn apply(ctx: &FlowCtx<'_>, old: &Domain, cmd: &DomainUpdate) -> Result<Domain, EppError> {
    verify_sponsor(ctx, &old.sponsor, &format!("the domain {}", old.name))?;
    if cmd.host_attr_used {
        return Err(EppError::UnimplementedOption(Text::new(
            "name servers are given as host objects (<domain:hostObj>); <domain:hostAttr> is not served",
            "les serveurs de noms sont donnés comme objets hôtes (<domain:hostObj>) ; <domain:hostAttr> n'est pas pris en charge",
        )));
    }
    let mut new = old.clone();
    new.statuses = apply_status_changes(
        &old.statuses,
        &cmd.add.statuses,
        &cmd.rem.statuses,
        vec![
            Status::ServerUpdateProhibited,
            Status::PendingDelete,
            Status::PendingTransfer,
            Status::PendingCreate,
            Status::PendingUpdate,
        ],
    )?;
    // Name servers.
    for ns in &cmd.rem.nameservers {
        let host = policy::host_name(ns, ctx.settings)?.name;
        if !new.nameservers.contains(&host) {
            return Err(not_applicable_change(
                format!("{host} is not a name server of {}", old.name),
                format!("{host} n'est pas un serveur de noms de {}", old.name),
            ));
        }
        new.nameservers.retain(|x| *x != host);
    }
    for ns in &cmd.add.nameservers {
        let host = policy::host_name(ns, ctx.settings)?.name;
        if new.nameservers.contains(&host) {
            return Err(not_applicable_change(
                format!("{host} is a name server of {} already", old.name),
                format!("{host} est déjà un serveur de noms de {}", old.name),
            ));
        }
        new.nameservers.push(host);
    }
    policy::r14_nameserver_count(new.nameservers.len())?;
    // Contacts.
    for (role, id) in &cmd.rem.contacts {
        let before = new.contacts.len();
        new.contacts.retain(|c| !(c.role == *role && c.id == *id));
        if new.contacts.len() == before {
            return Err(not_applicable_change(
                format!("{id} is not a {} contact of {}", role.as_str(), old.name),
                format!("{id} n'est pas contact {} de {}", role.as_str(), old.name),
            ));
        }
    }
    for (role, id) in &cmd.add.contacts {
        let contact = DomainContact {
            role: *role,
            id: id.clone(),
        };
        if new.contacts.contains(&contact) {
            return Err(not_applicable_change(
                format!(
                    "{id} is a {} contact of {} already",
                    role.as_str(),
                    old.name
                ),
                format!("{id} est déjà contact {} de {}", role.as_str(), old.name),
            ));
        }
        new.contacts.push(contact);
    }
    for (role, id) in &cmd.add.contacts {
        if *role == ContactRole::Admin {
            let contact = ctx
                .store
                .contact(id)?
                .ok_or_else(|| contact_not_found(id))?;
            policy::r17_admin_in_morocco(id, &contact.postal)?;
        }
    }
    // Registrant: a change of ownership waits for the registry (R13).
    if let Some(registrant) = cmd.registrant.as_ref().filter(|r| **r != old.registrant) {
        if registrant.is_empty() {
            return Err(EppError::Policy(
                Text::new(
                    "a .ma domain always has a registrant",
                    "un domaine .ma a toujours un titulaire",
                ),
                None,
            ));
        }
        let contact = ctx
            .store
            .contact(registrant)?
            .ok_or_else(|| contact_not_found(registrant))?;
        policy::r15_registrant_identity(&contact)?;
        let price = ctx.settings.billing.price(
            crate::flows::common::zone_of(ctx.settings, &old.name),
            crate::config::Billable::Ownership,
            1,
        );
        let balance = ctx.store.balance(ctx.registrar)?;
        policy::r23_can_pay(balance, price, false).map_err(|refusal| {
            policy::r23_refusal(refusal, Some(&ctx.settings.billing.currency))
        })?;
        new.statuses.push(Status::PendingUpdate);
        new.pending_owner = Some(PendingOwner {
            registrant: registrant.clone(),
            requested: ctx.now,
            cl_trid: ctx.cl_trid.map(str::to_owned),
            sv_trid: ctx.sv_trid.to_owned(),
        });
    }
    // authInfo.
    if let Some(pw) = &cmd.auth_password {
        new.auth = new_auth_info(ctx, pw)?;
    }
    // DNSSEC.
    if let Some(sec) = &cmd.sec_dns {
        if sec.remove_all {
            new.ds_data.clear();
        }
        new.ds_data.retain(|ds| !sec.remove.contains(ds));
        for ds in &sec.add {
            dnssec::verify_ds(ds)?;
            if !new.ds_data.contains(ds) {
                new.ds_data.push(ds.clone());
            }
        }
        dnssec::verify_ds_count(new.ds_data.len())?;
    }
    if let Some(proof) = &cmd.proof_ref {
        new.proof_ref = Some(proof.clone());
    }
    statuses::verify_combination(&new.statuses)?;
    new.updated_by = Some(ctx.registrar.to_owned());
    new.updated = Some(ctx.now);
    Ok(new)
}
