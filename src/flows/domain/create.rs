//! `<domain:create>`: registers a name for the sponsoring registrar.

use chrono::Months;

use crate::error::EppError;
use crate::flows::auth::new_auth_info;
use crate::flows::common::{contact_not_found, refusal};
use crate::flows::{FlowCtx, Outcome};
use crate::model::{
    ContactRole, Domain, DomainContact, DomainCreate, OffendingValue, ResData, ResultCode, Status,
    Text,
};
use crate::policy::registration::CreateKind;
use crate::policy::{self, dnssec};
use crate::store::Conflict;

/// Creates a domain.
///
/// # Errors
/// - 2005: the name breaks R3, or a name server name is malformed.
/// - 2306: the name is not under a zone or is below a registered name (R1);
///   more than 13 name servers (R14).
/// - 2004: the period breaks R7.
/// - 2003: no registrant; a restricted zone without proof reference (R2).
/// - 2306: an admin contact without a postal address in Morocco (R17); a
///   registrant without an identity document on record, or a rejected one (R15).
///
/// In a restricted zone with a proof reference the answer is 1001: the
/// domain is `pendingCreate` until the registry decides (R2).
/// - 2102: `hostAttr` name servers (only host objects are served).
/// - 2302: the name is registered already (R6).
/// - 2303: a contact or host it names does not exist.
/// - 2306: a blocked name (R5); a reserved name without allocation token (R4).
/// - 2201: an allocation token unknown, used, or for another name (R4, RFC 8495).
pub async fn run(ctx: &FlowCtx<'_>, cmd: DomainCreate) -> Result<Outcome, EppError> {
    let name = policy::r1_r3_registrable_name(&cmd.name, ctx.settings)?;
    crate::flows::terms::r4_r5_may_register(
        ctx.store,
        &name.name,
        &name.label,
        cmd.allocation_token.is_some(),
    )?;
    let years = policy::r7_period_years(cmd.period)?;
    let kind = policy::r2_restricted_create(name.zone, cmd.proof_ref.as_deref())?;
    if cmd.host_attr_used {
        return Err(EppError::UnimplementedOption(Text::new(
            "name servers are given as host objects (<domain:hostObj>); <domain:hostAttr> is not served",
            "les serveurs de noms sont donnés comme objets hôtes (<domain:hostObj>) ; <domain:hostAttr> n'est pas pris en charge",
        )));
    }
    policy::r14_nameserver_count(cmd.nameservers.len())?;
    let mut nameservers: Vec<String> = Vec::with_capacity(cmd.nameservers.len());
    for ns in &cmd.nameservers {
        let host = policy::host_name(ns, ctx.settings)?;
        if nameservers.contains(&host.name) {
            return Err(EppError::Policy(
                Text::new(
                    format!("the name server {} is listed twice", host.name),
                    format!("le serveur de noms {} est cité deux fois", host.name),
                ),
                None,
            ));
        }
        nameservers.push(host.name);
    }
    let registrant = cmd
        .registrant
        .ok_or_else(|| EppError::missing("domain:registrant"))?;
    let holder = ctx
        .store
        .contact(&registrant)?
        .ok_or_else(|| contact_not_found(&registrant))?;
    policy::r15_registrant_identity(&holder)?;
    for (role, id) in &cmd.contacts {
        if *role == ContactRole::Admin {
            let contact = ctx
                .store
                .contact(id)?
                .ok_or_else(|| contact_not_found(id))?;
            policy::r17_admin_in_morocco(id, &contact.postal)?;
        }
    }
    for ds in &cmd.ds_data {
        dnssec::verify_ds(ds)?;
    }
    dnssec::verify_ds_count(cmd.ds_data.len())?;
    let pending = kind == CreateKind::WaitsForRegistry;
    let created = ctx.now;
    let expires = created
        .checked_add_months(Months::new(12 * years))
        .ok_or_else(|| EppError::Internal("expiry date out of range".into()))?;
    let domain = Domain {
        roid: ctx.store.next_roid('D')?,
        name: name.name,
        registrant,
        contacts: cmd
            .contacts
            .into_iter()
            .map(|(role, id)| DomainContact { role, id })
            .collect(),
        nameservers,
        statuses: if pending {
            vec![Status::PendingCreate]
        } else {
            Vec::new()
        },
        sponsor: ctx.registrar.to_owned(),
        created_by: ctx.registrar.to_owned(),
        created,
        updated_by: None,
        updated: None,
        expires,
        transferred: None,
        auth: new_auth_info(ctx, &cmd.auth_password)?,
        subordinate_hosts: Vec::new(),
        ds_data: cmd.ds_data,
        proof_ref: cmd.proof_ref,
        transfer: None,
        pending_owner: None,
        deleted: None,
        identity_hold: false,
        dispute: None,
        incomplete: None,
    };
    let mut agenda = policy::lifecycle::expiry_agenda(&domain.name, domain.expires);
    agenda.push(policy::lifecycle::r15_identity_deadline(
        &domain.name,
        domain.created,
        ctx.settings.policy.identity_verification_days,
    ));
    let charge = crate::flows::common::charge(
        ctx.settings,
        ctx.registrar,
        &name.zone.name,
        crate::config::Billable::Create,
        years,
        format!("create {} {years}y", domain.name),
        false,
    );
    let fee = charge.as_ref().map(|c| c.amount).unwrap_or(0);
    let effects = crate::store::Effects {
        due_add: agenda,
        charge,
        ..crate::store::Effects::audit(ctx.audit())
    };
    match ctx
        .store
        .create_domain_with(&domain, cmd.allocation_token.as_deref(), &effects)?
    {
        Ok(()) => {}
        Err(Conflict::Exists) => {
            return Err(EppError::Exists(
                Text::new(
                    format!("R6: {} is registered already", domain.name),
                    format!("R6 : {} est déjà enregistré", domain.name),
                ),
                Some(OffendingValue::Element {
                    ns: "domain",
                    name: "name",
                    text: cmd.name,
                }),
            ));
        }
        Err(Conflict::MissingContact(id)) => {
            return Err(EppError::DoesNotExist(
                Text::new(
                    format!("the contact {id} does not exist"),
                    format!("le contact {id} n'existe pas"),
                ),
                Some(OffendingValue::Element {
                    ns: "domain",
                    name: "contact",
                    text: id,
                }),
            ));
        }
        Err(Conflict::MissingHost(host)) => {
            return Err(EppError::DoesNotExist(
                Text::new(
                    format!("the host {host} does not exist"),
                    format!("l'hôte {host} n'existe pas"),
                ),
                Some(OffendingValue::Element {
                    ns: "domain",
                    name: "hostObj",
                    text: host,
                }),
            ));
        }
        Err(Conflict::TokenInvalid) => {
            return Err(EppError::Authorization(Text::new(
                format!(
                    "R4: the allocation token is not valid for {}: unknown, used, or issued for another name",
                    domain.name
                ),
                format!(
                    "R4 : le jeton d'attribution n'est pas valable pour {} : inconnu, déjà utilisé ou émis pour un autre nom",
                    domain.name
                ),
            )));
        }
        Err(other) => return Err(refusal(ctx.settings, other)),
    }
    ctx.store.durable().await?;
    let mut outcome = Outcome::ok(ResData::DomainCreate {
        name: domain.name,
        created: domain.created,
        expires: domain.expires,
    });
    if pending {
        outcome.code = ResultCode::SuccessPending;
    }
    outcome
        .extensions
        .push(crate::flows::fee_data(ctx, "creData", fee, years)?);
    Ok(outcome)
}
