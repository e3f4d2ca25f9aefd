//! `<domain:renew>`: adds years to the current expiry (R7, R8).

use crate::error::EppError;
use crate::flows::common::{Attempt, commit_retrying, load_domain, refusal, verify_sponsor};
use crate::flows::{FlowCtx, Outcome};
use crate::model::{DomainRenew, OffendingValue, ResData, Status, Text};
use crate::policy::{self, statuses};

/// Renews a domain.
///
/// # Errors
/// - 2201: another registrar's domain.
/// - 2303: no such domain.
/// - 2304: a `*RenewProhibited` or `pending*` status.
/// - 2004: a period outside R7.
/// - 2306: `curExpDate` is not the current expiry date; the five-year cap (R8).
/// - 2306: the registrant has no identity document on record, or a rejected one (R15).
/// - 2104: the balance cannot pay the renewal (R23).
pub async fn run(ctx: &FlowCtx<'_>, cmd: DomainRenew) -> Result<Outcome, EppError> {
    let years = policy::r7_period_years(cmd.period)?;
    let cmd = &cmd;
    let (name, expires, fee) = commit_retrying(|| async move {
        let old = load_domain(ctx, &cmd.name)?;
        verify_sponsor(ctx, &old.sponsor, &format!("the domain {}", old.name))?;
        statuses::verify_not_prohibited(
            &old.statuses,
            &[
                Status::ClientRenewProhibited,
                Status::ServerRenewProhibited,
                Status::PendingDelete,
                Status::PendingTransfer,
                Status::PendingCreate,
                Status::PendingUpdate,
            ],
            "renew",
        )?;
        let holder = ctx.store.contact(&old.registrant)?.ok_or_else(|| {
            EppError::Internal(format!("the registrant {} is missing", old.registrant))
        })?;
        policy::r15_registrant_identity(&holder)?;
        let current = old.expires.date_naive();
        if cmd.current_expiry != current {
            return Err(EppError::Policy(
                Text::new(
                    format!(
                        "R8: curExpDate {} is not the current expiry date {current}",
                        cmd.current_expiry
                    ),
                    format!(
                        "R8 : curExpDate {} n'est pas la date d'échéance actuelle {current}",
                        cmd.current_expiry
                    ),
                ),
                Some(OffendingValue::Element {
                    ns: "domain",
                    name: "curExpDate",
                    text: cmd.current_expiry.to_string(),
                }),
            ));
        }
        let expires = policy::r8_five_year_cap(old.expires, years, ctx.now)?;
        let mut new = old.clone();
        new.expires = expires;
        let charge = crate::flows::common::charge(
            ctx.settings,
            ctx.registrar,
            crate::flows::common::zone_of(ctx.settings, &old.name),
            crate::config::Billable::Renew,
            years,
            format!("renew {} {years}y", old.name),
            false,
        );
        let fee = charge.as_ref().map(|c| c.amount).unwrap_or(0);
        let effects = crate::store::Effects {
            due_add: policy::lifecycle::expiry_agenda(&new.name, expires),
            charge,
            ..crate::store::Effects::audit(ctx.audit())
        };
        let attempt = Attempt::of(ctx.store.replace_domain_with(&old, &new, &effects), |c| {
            refusal(ctx.settings, c)
        })?;
        Ok(attempt.map(|()| (new.name, expires, fee)))
    })
    .await?;
    ctx.store.durable().await?;
    let mut outcome = crate::flows::Outcome::ok(ResData::DomainRenew { name, expires });
    outcome
        .extensions
        .push(crate::flows::fee_data(ctx, "renData", fee, years)?);
    Ok(outcome)
}
