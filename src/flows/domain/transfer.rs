//! `<domain:transfer>`: a change of registrar (RFC 5731 §3.2.4, charter R12).
//! The gaining registrar requests with the authInfo; the losing registrar
//! approves or rejects (with a reason) within 5 days, else the registry
//! approves at `acDate`; a rejection may be overruled by the registry within
//! 5 days. The expiry date never changes; the old authInfo dies. Every step
//! queues `trnData` poll messages in the same transaction.

use chrono::Duration;
use rand::Rng;

use crate::error::EppError;
use crate::flows::auth::{domain_auth_matches, hash_auth_info};
use crate::flows::common::{RETRIES, contention, load_domain};
use crate::flows::{FlowCtx, Outcome};
use crate::model::{
    Audit, ChangeRecord, Domain, DomainTransfer, PollMessage, PollPayload, ResData, ResultCode,
    Status, Text, Timestamp, Transfer, TransferOp, TransferStatus,
};
use crate::policy::statuses;
use crate::store::{Conflict, DueEntry, DueKind, Effects, Store, StoreError};

/// The losing registrar's window to answer, and the registry's to review a rejection (R12).
pub const TRANSFER_WINDOW_DAYS: i64 = 5;

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
    if cmd.op == TransferOp::Query {
        return query(ctx, &cmd);
    }
    for _ in 0..RETRIES {
        let old = load_domain(ctx, &cmd.name)?;
        let (new, effects, code) = match cmd.op {
            TransferOp::Request => request(ctx, &old, &cmd)?,
            TransferOp::Approve => {
                verify_losing(ctx, &old)?;
                let (new, effects) = complete(
                    ctx.store,
                    &old,
                    TransferStatus::ClientApproved,
                    ctx.now,
                    ctx.audit(),
                )?;
                (new, effects, ResultCode::Success)
            }
            TransferOp::Reject => reject(ctx, &old, &cmd)?,
            TransferOp::Cancel => cancel(ctx, &old)?,
            TransferOp::Query => return query(ctx, &cmd),
        };
        match ctx.store.replace_domain_with(&old, &new, &effects)? {
            Ok(()) => {
                ctx.store.durable().await?;
                let mut outcome = Outcome::ok(trn_data(&new));
                outcome.code = code;
                return Ok(outcome);
            }
            Err(Conflict::Changed) => continue,
            Err(other) => return Err(EppError::Internal(format!("unexpected {other:?}"))),
        }
    }
    Err(contention())
}

fn trn_data(domain: &Domain) -> ResData {
    match &domain.transfer {
        Some(t) => ResData::DomainTransfer {
            name: domain.name.clone(),
            transfer: t.clone(),
            expires: domain.expires,
        },
        None => ResData::DomainTransfer {
            name: domain.name.clone(),
            transfer: Transfer {
                status: TransferStatus::ServerCancelled,
                gaining: domain.sponsor.clone(),
                losing: domain.sponsor.clone(),
                requested: domain.created,
                action_date: domain.created,
                reject_reason: None,
                review_until: None,
            },
            expires: domain.expires,
        },
    }
}

fn pending(domain: &Domain) -> Option<&Transfer> {
    domain
        .transfer
        .as_ref()
        .filter(|t| t.status == TransferStatus::Pending)
}

fn not_pending(domain: &Domain) -> EppError {
    EppError::NotPendingTransfer(Text::new(
        format!("no transfer of {} is pending", domain.name),
        format!("aucun transfert de {} n'est en cours", domain.name),
    ))
}

fn verify_losing(ctx: &FlowCtx<'_>, domain: &Domain) -> Result<(), EppError> {
    if pending(domain).is_none() {
        return Err(not_pending(domain));
    }
    if domain.sponsor != ctx.registrar {
        return Err(EppError::Authorization(Text::new(
            "only the sponsoring (losing) registrar may approve or reject a transfer",
            "seul le prestataire actuel (perdant) peut approuver ou rejeter un transfert",
        )));
    }
    Ok(())
}

fn query(ctx: &FlowCtx<'_>, cmd: &DomainTransfer) -> Result<Outcome, EppError> {
    let domain = load_domain(ctx, &cmd.name)?;
    let party = domain.sponsor == ctx.registrar
        || domain
            .transfer
            .as_ref()
            .is_some_and(|t| t.gaining == ctx.registrar || t.losing == ctx.registrar);
    if !party {
        match &cmd.auth {
            Some(auth)
                if domain_auth_matches(
                    ctx.store,
                    &domain,
                    &auth.password,
                    auth.roid.as_deref(),
                    ctx.now,
                    ctx.settings.authinfo.ttl_days,
                )? => {}
            Some(_) => return Err(invalid_auth()),
            None => {
                return Err(EppError::Authorization(Text::new(
                    "only the registrars party to a transfer, or a holder of the authInfo, may query it",
                    "seuls les prestataires parties au transfert, ou le détenteur de l'authInfo, peuvent le consulter",
                )));
            }
        }
    }
    if domain.transfer.is_none() {
        return Err(not_pending(&domain));
    }
    Ok(Outcome::ok(trn_data(&domain)))
}

fn invalid_auth() -> EppError {
    EppError::InvalidAuthInfo(Text::new(
        "R12: the authInfo does not match this domain",
        "R12 : l'authInfo ne correspond pas à ce domaine",
    ))
}

fn request(
    ctx: &FlowCtx<'_>,
    old: &Domain,
    cmd: &DomainTransfer,
) -> Result<(Domain, Effects, ResultCode), EppError> {
    if old.sponsor == ctx.registrar {
        return Err(EppError::NotEligibleForTransfer(Text::new(
            format!("R12: you sponsor {} already", old.name),
            format!("R12 : vous êtes déjà le prestataire de {}", old.name),
        )));
    }
    if cmd.period.is_some() {
        return Err(EppError::Policy(
            Text::new(
                "R12: a .ma transfer never changes the expiry date; send no period",
                "R12 : un transfert .ma ne change jamais l'échéance ; n'envoyez pas de période",
            ),
            None,
        ));
    }
    if pending(old).is_some() {
        return Err(EppError::PendingTransfer(Text::new(
            format!("a transfer of {} is pending already", old.name),
            format!("un transfert de {} est déjà en cours", old.name),
        )));
    }
    statuses::verify_not_prohibited(
        &old.statuses,
        &[
            Status::ClientTransferProhibited,
            Status::ServerTransferProhibited,
            Status::PendingCreate,
            Status::PendingDelete,
            Status::PendingUpdate,
            Status::PendingTransfer,
        ],
        "transfer (R12)",
    )?;
    let Some(auth) = &cmd.auth else {
        return Err(EppError::InvalidAuthInfo(Text::new(
            "R12: a transfer request must carry the domain's authInfo",
            "R12 : une demande de transfert doit porter l'authInfo du domaine",
        )));
    };
    if !domain_auth_matches(
        ctx.store,
        old,
        &auth.password,
        auth.roid.as_deref(),
        ctx.now,
        ctx.settings.authinfo.ttl_days,
    )? {
        return Err(invalid_auth());
    }
    let transfer = Transfer {
        status: TransferStatus::Pending,
        gaining: ctx.registrar.to_owned(),
        losing: old.sponsor.clone(),
        requested: ctx.now,
        action_date: ctx.now + Duration::days(TRANSFER_WINDOW_DAYS),
        reject_reason: None,
        review_until: None,
    };
    let mut new = old.clone();
    new.statuses.push(Status::PendingTransfer);
    new.transfer = Some(transfer.clone());
    let ac = transfer.action_date.format("%Y-%m-%d %H:%M UTC");
    let message = message(
        ctx.store,
        &transfer.losing,
        ctx.now,
        &new,
        Text::new(
            format!(
                "Transfer of {} requested by {}; approve or reject it before {ac}, or it will be approved automatically.",
                new.name, transfer.gaining
            ),
            format!(
                "Transfert de {} demandé par {} ; approuvez-le ou rejetez-le avant le {ac}, sinon il sera approuvé automatiquement.",
                new.name, transfer.gaining
            ),
        ),
    )?;
    let effects = Effects {
        messages: vec![message],
        due_add: vec![auto_approve_entry(&new.name, &transfer)],
        due_remove: Vec::new(),
        audit: ctx.audit(),
        charge: None,
    };
    Ok((new, effects, ResultCode::SuccessPending))
}

fn auto_approve_entry(name: &str, transfer: &Transfer) -> DueEntry {
    DueEntry {
        at: transfer.action_date,
        kind: DueKind::TransferAutoApprove,
        name: name.to_owned(),
    }
}

fn reject(
    ctx: &FlowCtx<'_>,
    old: &Domain,
    cmd: &DomainTransfer,
) -> Result<(Domain, Effects, ResultCode), EppError> {
    verify_losing(ctx, old)?;
    let Some(reason) = &cmd.reject_reason else {
        return Err(EppError::MissingParameter(Text::new(
            "R12: a rejection must give its reason (<ma:transferReject><ma:reason>)",
            "R12 : un rejet doit donner son motif (<ma:transferReject><ma:reason>)",
        )));
    };
    let Some(before) = old.transfer.clone() else {
        return Err(not_pending(old));
    };
    let mut new = old.clone();
    new.statuses.retain(|s| *s != Status::PendingTransfer);
    let review_until = ctx.now + Duration::days(TRANSFER_WINDOW_DAYS);
    new.transfer = Some(Transfer {
        status: TransferStatus::ClientRejected,
        action_date: ctx.now,
        reject_reason: Some(reason.clone()),
        review_until: Some(review_until),
        ..before.clone()
    });
    let until = review_until.format("%Y-%m-%d %H:%M UTC");
    let why = reason.trim_end_matches(['.', ' ']);
    let text = Text::new(
        format!(
            "Transfer of {} rejected by {}: {why}. The registry may review the rejection until {until}.",
            new.name, before.losing
        ),
        format!(
            "Transfert de {} rejeté par {} : {why}. Le registre peut réexaminer le rejet jusqu'au {until}.",
            new.name, before.losing
        ),
    );
    let messages = vec![
        message(ctx.store, &before.gaining, ctx.now, &new, text.clone())?,
        message(ctx.store, &before.losing, ctx.now, &new, text)?,
    ];
    let effects = Effects {
        messages,
        due_add: Vec::new(),
        due_remove: vec![auto_approve_entry(&new.name, &before)],
        audit: ctx.audit(),
        charge: None,
    };
    Ok((new, effects, ResultCode::Success))
}

fn cancel(ctx: &FlowCtx<'_>, old: &Domain) -> Result<(Domain, Effects, ResultCode), EppError> {
    let Some(before) = pending(old).cloned() else {
        return Err(not_pending(old));
    };
    if before.gaining != ctx.registrar {
        return Err(EppError::Authorization(Text::new(
            "only the registrar that requested a transfer may cancel it",
            "seul le prestataire qui a demandé un transfert peut l'annuler",
        )));
    }
    let mut new = old.clone();
    new.statuses.retain(|s| *s != Status::PendingTransfer);
    new.transfer = Some(Transfer {
        status: TransferStatus::ClientCancelled,
        action_date: ctx.now,
        ..before.clone()
    });
    let text = Text::new(
        format!("Transfer of {} cancelled by {}.", new.name, before.gaining),
        format!("Transfert de {} annulé par {}.", new.name, before.gaining),
    );
    let messages = vec![
        message(ctx.store, &before.gaining, ctx.now, &new, text.clone())?,
        message(ctx.store, &before.losing, ctx.now, &new, text)?,
    ];
    let effects = Effects {
        messages,
        due_add: Vec::new(),
        due_remove: vec![auto_approve_entry(&new.name, &before)],
        audit: ctx.audit(),
        charge: None,
    };
    Ok((new, effects, ResultCode::Success))
}

/// Completes a transfer (approval by the loser, automatic approval at
/// `acDate`, or the registry overruling a rejection): the gaining registrar
/// becomes the sponsor, the expiry stays, a new random authInfo replaces the
/// old one, and both registrars are told.
///
/// # Errors
/// 2301 when there is nothing to complete.
pub fn complete(
    store: &Store,
    old: &Domain,
    status: TransferStatus,
    now: Timestamp,
    audit: Audit,
) -> Result<(Domain, Effects), EppError> {
    complete_by(store, old, status, now, None, audit)
}

/// [`complete`], recording who in the registry made the change (RFC 8590)
/// when the registry did.
///
/// # Errors
/// 2301 when there is nothing to complete.
pub fn complete_by(
    store: &Store,
    old: &Domain,
    status: TransferStatus,
    now: Timestamp,
    registry_change: Option<(&str, &str)>,
    audit: Audit,
) -> Result<(Domain, Effects), EppError> {
    let Some(before) = old.transfer.clone() else {
        return Err(not_pending(old));
    };
    let mut new = old.clone();
    new.statuses.retain(|s| *s != Status::PendingTransfer);
    new.sponsor.clone_from(&before.gaining);
    new.transferred = Some(now);
    new.auth = Some(hash_auth_info(&random_auth_info(), now));
    new.transfer = Some(Transfer {
        status,
        action_date: now,
        ..before.clone()
    });
    let by = match status {
        TransferStatus::ClientApproved => format!("approved by {}", before.losing),
        _ => "approved by the registry".to_owned(),
    };
    let par = match status {
        TransferStatus::ClientApproved => format!("approuvé par {}", before.losing),
        _ => "approuvé par le registre".to_owned(),
    };
    let text = Text::new(
        format!(
            "Transfer of {} {by}; {} now sponsors it. Its expiry date is unchanged and it has a new authInfo.",
            new.name, before.gaining
        ),
        format!(
            "Transfert de {} {par} ; {} en est désormais le prestataire. Son échéance est inchangée et il a un nouvel authInfo.",
            new.name, before.gaining
        ),
    );
    let mut messages = vec![
        message(store, &before.gaining, now, &new, text.clone())?,
        message(store, &before.losing, now, &new, text)?,
    ];
    if let Some((who, reason)) = registry_change {
        let change = ChangeRecord {
            operation: "transfer".into(),
            op: Some(status.as_str().into()),
            date: now,
            sv_trid: store.next_sv_trid(),
            who: who.to_owned(),
            reason: Some(reason.to_owned()),
        };
        for m in &mut messages {
            m.change = Some(change.clone());
        }
    }
    Ok((
        new,
        Effects {
            messages,
            due_add: Vec::new(),
            due_remove: vec![auto_approve_entry(&old.name, &before)],
            audit,
            charge: None,
        },
    ))
}

/// A fresh random authInfo: 16 characters of mixed classes.
pub fn random_auth_info() -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-+!=";
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

fn message(
    store: &Store,
    registrar: &str,
    now: Timestamp,
    domain: &Domain,
    text: Text,
) -> Result<PollMessage, StoreError> {
    Ok(PollMessage {
        id: store.next_message_id()?,
        registrar: registrar.to_owned(),
        queued: now,
        text_en: text.en,
        text_fr: text.fr,
        change: None,
        payload: PollPayload::DomainTransfer {
            name: domain.name.clone(),
            transfer: domain.transfer.clone().unwrap_or(Transfer {
                status: TransferStatus::ServerCancelled,
                gaining: registrar.to_owned(),
                losing: registrar.to_owned(),
                requested: now,
                action_date: now,
                reject_reason: None,
                review_until: None,
            }),
            expires: domain.expires,
        },
    })
}

/// The registry's side of R12: approves a pending transfer whose `acDate`
/// has come. Idempotent: a transfer resolved meanwhile is left alone.
///
/// # Errors
/// Store failures.
pub async fn auto_approve(store: &Store, name: &str, now: Timestamp) -> Result<bool, EppError> {
    for _ in 0..RETRIES {
        let Some(old) = store.domain(name)? else {
            return Ok(false);
        };
        match pending(&old) {
            Some(t) if t.action_date <= now => {}
            _ => return Ok(false),
        }
        let (new, effects) = complete_by(
            store,
            &old,
            TransferStatus::ServerApproved,
            now,
            Some(("ma-registry", "R12: no answer by acDate")),
            crate::flows::registry_audit(store, now, "ma-registry", "lifecycle:transfer-approve"),
        )?;
        match store.replace_domain_with(&old, &new, &effects)? {
            Ok(()) => {
                store.durable().await?;
                return Ok(true);
            }
            Err(Conflict::Changed) => continue,
            Err(other) => return Err(EppError::Internal(format!("unexpected {other:?}"))),
        }
    }
    Err(contention())
}

/// The registry overrules a rejection within its review window (R12).
///
/// # Errors
/// 2301 when the domain's last transfer is not a rejection under review.
pub async fn overrule(
    store: &Store,
    name: &str,
    now: Timestamp,
    operator: &str,
) -> Result<(), EppError> {
    for _ in 0..RETRIES {
        let old = store
            .domain(name)?
            .ok_or_else(|| crate::flows::common::domain_not_found(name))?;
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
        if old.sponsor
            != old
                .transfer
                .as_ref()
                .map(|t| t.losing.clone())
                .unwrap_or_default()
        {
            return Err(EppError::StatusProhibits(Text::new(
                format!("{name} changed registrar since the rejection"),
                format!("{name} a changé de prestataire depuis le rejet"),
            )));
        }
        let (new, effects) = complete_by(
            store,
            &old,
            TransferStatus::ServerApproved,
            now,
            Some((&format!("operator:{operator}"), "R12: rejection overruled")),
            crate::flows::registry_audit(
                store,
                now,
                &format!("operator:{operator}"),
                "admin:transfer-overrule",
            ),
        )?;
        match store.replace_domain_with(&old, &new, &effects)? {
            Ok(()) => {
                store.durable().await?;
                return Ok(());
            }
            Err(Conflict::Changed) => continue,
            Err(other) => return Err(EppError::Internal(format!("unexpected {other:?}"))),
        }
    }
    Err(contention())
}
