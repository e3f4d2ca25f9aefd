//! `<domain:info>`: the full view for the sponsor or a holder of the
//! authInfo; a limited view for other registrars. The authInfo itself is
//! never returned (RFC 9154).

use crate::error::EppError;
use crate::flows::auth::domain_auth_matches;
use crate::flows::common::load_domain;
use crate::flows::{FlowCtx, Outcome};
use crate::model::{
    Domain, DomainInfo, DomainInfoData, HostsFilter, ResData, ResponseExtension, Text,
};

/// Answers a domain info.
///
/// # Errors
/// - 2005: the name breaks R3.
/// - 2303: no such domain.
/// - 2202: a wrong authInfo.
pub fn run(ctx: &FlowCtx<'_>, cmd: &DomainInfo) -> Result<Outcome, EppError> {
    let domain = load_domain(ctx, &cmd.name)?;
    let full = if domain.sponsor == ctx.registrar {
        true
    } else if let Some(auth) = &cmd.auth {
        if domain_auth_matches(
            ctx.store,
            &domain,
            &auth.password,
            auth.roid.as_deref(),
            ctx.now,
            ctx.settings.authinfo.ttl_days,
        )? {
            true
        } else {
            return Err(EppError::InvalidAuthInfo(Text::new(
                "the authInfo does not match this domain",
                "l'authInfo ne correspond pas à ce domaine",
            )));
        }
    } else {
        false
    };
    if !full {
        return Ok(Outcome::ok(ResData::DomainInfo(Box::new(limited_view(
            &domain,
        )))));
    }
    let mut outcome = Outcome::ok(ResData::DomainInfo(Box::new(full_view(&domain, cmd.hosts))));
    if let Some(status) = crate::policy::lifecycle::rgp_status(&domain, ctx.now) {
        outcome.extensions.push(ResponseExtension::RgpInfo(status));
    }
    if !domain.ds_data.is_empty() {
        outcome
            .extensions
            .push(ResponseExtension::SecDnsInfo(domain.ds_data.clone()));
    }
    if domain.proof_ref.is_some() || domain.pending_owner.is_some() || domain.dispute.is_some() {
        outcome.extensions.push(ResponseExtension::MaDomainInfo {
            dispute: domain.dispute,
            proof_ref: domain.proof_ref.clone(),
            pending_owner: domain
                .pending_owner
                .as_ref()
                .map(|p| (p.registrant.clone(), p.requested)),
        });
    }
    Ok(outcome)
}

fn limited_view(domain: &Domain) -> DomainInfoData {
    DomainInfoData {
        name: domain.name.clone(),
        roid: domain.roid.clone(),
        statuses: domain.derived_statuses(),
        registrant: None,
        contacts: Vec::new(),
        nameservers: Vec::new(),
        subordinate_hosts: Vec::new(),
        sponsor: domain.sponsor.clone(),
        created_by: None,
        created: domain.created,
        updated_by: None,
        updated: None,
        expires: domain.expires,
        transferred: None,
    }
}

fn full_view(domain: &Domain, hosts: HostsFilter) -> DomainInfoData {
    let nameservers = match hosts {
        HostsFilter::All | HostsFilter::Del => domain.nameservers.clone(),
        HostsFilter::Sub | HostsFilter::None => Vec::new(),
    };
    let subordinate_hosts = match hosts {
        HostsFilter::All | HostsFilter::Sub => domain.subordinate_hosts.clone(),
        HostsFilter::Del | HostsFilter::None => Vec::new(),
    };
    DomainInfoData {
        name: domain.name.clone(),
        roid: domain.roid.clone(),
        statuses: domain.derived_statuses(),
        registrant: Some(domain.registrant.clone()),
        contacts: domain
            .contacts
            .iter()
            .map(|c| (c.role, c.id.clone()))
            .collect(),
        nameservers,
        subordinate_hosts,
        sponsor: domain.sponsor.clone(),
        created_by: Some(domain.created_by.clone()),
        created: domain.created,
        updated_by: domain.updated_by.clone(),
        updated: domain.updated,
        expires: domain.expires,
        transferred: domain.transferred,
    }
}
