//! `<domain:transfer>`: a change of registrar (RFC 5731 §3.2.4, charter R12).
//! The gaining registrar requests with the authInfo; the losing registrar
//! approves or rejects (with a reason) within 5 days, else the registry
//! approves at `acDate`; a rejection may be overruled by the registry within
//! 5 days. The expiry date never changes; the old authInfo dies. The steps
//! themselves are the shared state machine of [`crate::flows::transfer`];
//! this module adds what is particular to domains: the period refused, the
//! registrant's authInfo by its roid, the rejection's reason and review.

use chrono::Duration;

use crate::error::EppError;
use crate::flows::auth::domain_auth_matches;
use crate::flows::common::load_domain;
use crate::flows::transfer::{self, Step, TRANSFER_WINDOW_DAYS, TransferParts, Transferable};
use crate::flows::{FlowCtx, Outcome};
use crate::model::{
    AuthInfo, Domain, DomainTransfer, PollPayload, Status, Text, Transfer, TransferOp,
    TransferStatus,
};
use crate::policy;
use crate::store::{ChangeResult, DueKind, Effects, Store, StoreError};

impl Transferable for Domain {
    const AUTO_APPROVE: DueKind = DueKind::TransferAutoApprove;
    const AUTO_APPROVE_COMMAND: &'static str = "lifecycle:transfer-approve";
    const AUTO_APPROVE_REASON: &'static str = "R12: no answer by acDate";
    const RULE: Option<&'static str> = Some("R12");

    fn key(&self) -> &str {
        &self.name
    }

    fn name(&self) -> Text {
        Text::new(self.name.clone(), self.name.clone())
    }

    fn of(&self) -> Text {
        Text::new(format!("of {}", self.name), format!("de {}", self.name))
    }

    fn moved_note(&self) -> Text {
        Text::new(
            "Its expiry date is unchanged and it has a new authInfo.",
            "Son échéance est inchangée et il a un nouvel authInfo.",
        )
    }

    fn sponsor(&self) -> &str {
        &self.sponsor
    }

    fn statuses(&self) -> &[Status] {
        &self.statuses
    }

    fn last_transfer(&self) -> Option<&Transfer> {
        self.transfer.as_ref()
    }

    fn parts(&mut self) -> TransferParts<'_> {
        TransferParts {
            statuses: &mut self.statuses,
            sponsor: &mut self.sponsor,
            transferred: &mut self.transferred,
            auth: &mut self.auth,
            transfer: &mut self.transfer,
        }
    }

    fn trn_payload(&self, transfer: Transfer) -> PollPayload {
        PollPayload::DomainTransfer {
            name: self.name.clone(),
            transfer,
            expires: self.expires,
        }
    }

    fn fetch(store: &Store, key: &str) -> Result<Option<Self>, StoreError> {
        store.domain(key)
    }

    fn replace(store: &Store, old: &Self, new: &Self, effects: &Effects) -> ChangeResult {
        store.replace_domain_with(old, new, effects)
    }
}

/// Runs a transfer op.
///
/// # Errors
/// - 2303: no such domain.
/// - 2106: a request by the current sponsor.
/// - 2306: a period in the request (R12: the expiry never changes).
/// - 2202: a missing or wrong authInfo.
/// - 2300: a transfer is pending already.
/// - 2304: a status that forbids the transfer (pending actions, `*TransferProhibited`).
/// - 2301: approve, reject, cancel or query with no transfer pending (or ever).
/// - 2201: approve/reject by another than the sponsor; cancel by another than
///   the gaining registrar; query by a registrar not party to it without authInfo.
/// - 2003: a rejection without the `.ma` reason (R12).
pub async fn run(ctx: &FlowCtx<'_>, cmd: DomainTransfer) -> Result<Outcome, EppError> {
    let load = || load_domain(ctx, &cmd.name);
    match cmd.op {
        TransferOp::Query => {
            let domain = load()?;
            transfer::query(ctx, &domain, cmd.auth.as_ref(), |auth| {
                auth_matches(ctx, &domain, auth)
            })
        }
        TransferOp::Request => transfer::commit(ctx, load, |old| request(ctx, old, &cmd)).await,
        TransferOp::Approve => transfer::commit(ctx, load, |old| transfer::approve(ctx, old)).await,
        TransferOp::Reject => transfer::commit(ctx, load, |old| reject(ctx, old, &cmd)).await,
        TransferOp::Cancel => transfer::commit(ctx, load, |old| transfer::cancel(ctx, old)).await,
    }
}

/// The domain's authInfo, or the registrant's with its roid (RFC 5731 §2.6).
fn auth_matches(ctx: &FlowCtx<'_>, domain: &Domain, auth: &AuthInfo) -> Result<bool, EppError> {
    domain_auth_matches(
        ctx.store,
        domain,
        &auth.password,
        auth.roid.as_deref(),
        ctx.now,
        ctx.settings.authinfo.ttl_days,
    )
}

fn request(
    ctx: &FlowCtx<'_>,
    old: &Domain,
    cmd: &DomainTransfer,
) -> Result<Step<Domain>, EppError> {
    policy::r12_no_period(cmd.period.is_some())?;
    transfer::request(ctx, old, cmd.auth.as_ref(), |auth| {
        auth_matches(ctx, old, auth)
    })
}

/// R12: the losing registrar gives its reason, and the registry may review
/// the rejection for 5 days.
fn reject(ctx: &FlowCtx<'_>, old: &Domain, cmd: &DomainTransfer) -> Result<Step<Domain>, EppError> {
    transfer::verify_losing(old, ctx.registrar)?;
    let reason = policy::r12_rejection_reason(cmd.reject_reason.as_deref())?;
    let review_until = ctx.now + Duration::days(TRANSFER_WINDOW_DAYS);
    transfer::reject(ctx, old, Some(reason), Some(review_until))
}

/// The registry's side of R12: approves a pending transfer whose `acDate`
/// has come. Idempotent: a transfer resolved meanwhile is left alone.
///
/// # Errors
/// Store failures.
pub async fn auto_approve(
    store: &Store,
    name: &str,
    now: crate::model::Timestamp,
) -> Result<bool, EppError> {
    transfer::auto_approve::<Domain>(store, name, now).await
}

/// The registry overrules a rejection within its review window (R12).
///
/// # Errors
/// 2301 when the domain's last transfer is not a rejection under review;
/// 2304 when the domain changed registrar since; 2303 for an unknown domain.
pub async fn overrule(
    store: &Store,
    name: &str,
    now: crate::model::Timestamp,
    operator: &str,
) -> Result<(), EppError> {
    let who = format!("operator:{operator}");
    let done = transfer::commit_registry_change::<Domain>(store, name, |old| {
        let reviewable = old.transfer.as_ref().is_some_and(|t| {
            t.status == TransferStatus::ClientRejected
                && t.review_until.is_some_and(|until| now <= until)
        });
        if !reviewable {
            return Err(EppError::NotPendingTransfer(Text::new(
                format!("{name} has no rejected transfer under review"),
                format!("{name} n'a aucun transfert rejeté en cours de réexamen"),
            )));
        }
        if old
            .transfer
            .as_ref()
            .is_some_and(|t| t.losing != old.sponsor)
        {
            return Err(EppError::StatusProhibits(Text::new(
                format!("{name} changed registrar since the rejection"),
                format!("{name} a changé de prestataire depuis le rejet"),
            )));
        }
        transfer::complete(
            store,
            old,
            TransferStatus::ServerApproved,
            now,
            Some((&who, "R12: rejection overruled")),
            crate::store::registry_audit(store, now, &who, "admin:transfer-overrule"),
        )
        .map(Some)
    })
    .await?;
    if !done {
        return Err(crate::flows::common::domain_not_found(name));
    }
    Ok(())
}
