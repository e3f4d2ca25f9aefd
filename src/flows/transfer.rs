//! The transfer state machine shared by domains (RFC 5731 §3.2.4, R12) and
//! contacts (RFC 5733 §3.2.4): who may request, query, approve, reject and
//! cancel; the transfer record and its `acDate`; the automatic approval's
//! agenda entry; the `trnData` poll messages to both registrars (with RFC
//! 8590 change data when the registry acts); the change of sponsor with a
//! new random authInfo; and the retried, single-transaction store change.
//! What differs per object (the authInfo check, a domain's period and
//! rejection reason) stays in its own flow.

use chrono::Duration;

use crate::error::EppError;
use crate::flows::auth::regenerated_auth_info;
use crate::flows::common::{Attempt, commit_retrying};
use crate::flows::{FlowCtx, Outcome};
use crate::model::{
    Audit, AuthHash, AuthInfo, ChangeRecord, PollMessage, PollPayload, ResultCode, Status, Text,
    Timestamp, Transfer, TransferStatus,
};
use crate::policy;
use crate::store::{ChangeResult, DueEntry, DueKind, Effects, Store, StoreError};

/// The losing registrar's window to answer, and the registry's to review a
/// rejection that may be reviewed (R12).
pub const TRANSFER_WINDOW_DAYS: i64 = 5;

/// The fields of an object that a transfer changes.
pub struct TransferParts<'a> {
    /// Stored statuses (`pendingTransfer` while pending).
    pub statuses: &'a mut Vec<Status>,
    /// The sponsoring registrar.
    pub sponsor: &'a mut String,
    /// The date of the last completed transfer.
    pub transferred: &'a mut Option<Timestamp>,
    /// The authInfo hash.
    pub auth: &'a mut Option<AuthHash>,
    /// The last transfer, pending or done.
    pub transfer: &'a mut Option<Transfer>,
}

/// An object that changes registrar by a transfer.
pub trait Transferable: Clone + Sized {
    /// The agenda entry of its automatic approval at `acDate`.
    const AUTO_APPROVE: DueKind;
    /// The history command of the automatic approval (R24).
    const AUTO_APPROVE_COMMAND: &'static str;
    /// The change-poll reason of the automatic approval (at most 32 characters).
    const AUTO_APPROVE_REASON: &'static str;
    /// The charter rule its refusals cite, if any (`R12` for domains).
    const RULE: Option<&'static str>;

    /// Its name or id: the store and agenda key.
    fn key(&self) -> &str;
    /// How a message names it, e.g. `exemple.ma` / `the contact c1` (`le contact c1`).
    fn name(&self) -> Text;
    /// How a message says "of it", e.g. `of exemple.ma` / `du contact c1`.
    fn of(&self) -> Text;
    /// What the completion message adds about the object after its transfer.
    fn moved_note(&self) -> Text;
    /// Its sponsoring registrar.
    fn sponsor(&self) -> &str;
    /// Its stored statuses.
    fn statuses(&self) -> &[Status];
    /// Its last transfer, pending or done.
    fn last_transfer(&self) -> Option<&Transfer>;
    /// The fields a transfer changes.
    fn parts(&mut self) -> TransferParts<'_>;
    /// The `trnData` of `transfer` on this object.
    fn trn_payload(&self, transfer: Transfer) -> PollPayload;
    /// Reads the object from the store.
    ///
    /// # Errors
    /// Store failures.
    fn fetch(store: &Store, key: &str) -> Result<Option<Self>, StoreError>;
    /// Replaces `old` by `new` with `effects` in one transaction.
    ///
    /// # Errors
    /// Store failures; conflicts are the inner `Err`.
    fn replace(store: &Store, old: &Self, new: &Self, effects: &Effects) -> ChangeResult;
}

/// What a step leaves to commit: the object after it, the effects in the
/// same transaction, and the result code.
pub type Step<T> = (T, Effects, ResultCode);

/// A text citing the object's rule: `R12: …` / `R12 : …`, or plain.
fn cite<T: Transferable>(en: String, fr: String) -> Text {
    match T::RULE {
        Some(rule) => Text::new(format!("{rule}: {en}"), format!("{rule} : {fr}")),
        None => Text::new(en, fr),
    }
}

/// The pending transfer of an object, if one is pending.
pub fn pending<T: Transferable>(object: &T) -> Option<&Transfer> {
    object
        .last_transfer()
        .filter(|t| t.status == TransferStatus::Pending)
}

/// 2301: nothing pending (or never transferred).
pub fn not_pending<T: Transferable>(object: &T) -> EppError {
    let Text { en: of, fr: de } = object.of();
    EppError::NotPendingTransfer(Text::new(
        format!("no transfer {of} is pending"),
        format!("aucun transfert {de} n'est en cours"),
    ))
}

/// 2202: an authInfo that does not match.
pub fn invalid_auth<T: Transferable>(object: &T) -> EppError {
    let Text { en: of, fr: de } = object.of();
    EppError::InvalidAuthInfo(cite::<T>(
        format!("this is not the authInfo {of}"),
        format!("ce n'est pas l'authInfo {de}"),
    ))
}

/// Whether `registrar` is party to the object's transfers: its sponsor, or
/// the gaining or losing registrar of its last transfer.
pub fn is_party<T: Transferable>(object: &T, registrar: &str) -> bool {
    object.sponsor() == registrar
        || object
            .last_transfer()
            .is_some_and(|t| t.gaining == registrar || t.losing == registrar)
}

/// Checks an approve or reject: a transfer is pending (2301) and `registrar`
/// sponsors the object (2201). Returns the pending transfer.
///
/// # Errors
/// As above.
pub fn verify_losing<T: Transferable>(object: &T, registrar: &str) -> Result<Transfer, EppError> {
    let Some(transfer) = pending(object).cloned() else {
        return Err(not_pending(object));
    };
    if object.sponsor() != registrar {
        return Err(EppError::Authorization(Text::new(
            "only the sponsoring (losing) registrar may approve or reject a transfer",
            "seul le prestataire actuel (perdant) peut approuver ou rejeter un transfert",
        )));
    }
    Ok(transfer)
}

/// Checks a cancel: a transfer is pending (2301) and `registrar` requested
/// it (2201). Returns the pending transfer.
///
/// # Errors
/// As above.
pub fn verify_gaining<T: Transferable>(object: &T, registrar: &str) -> Result<Transfer, EppError> {
    let Some(transfer) = pending(object).cloned() else {
        return Err(not_pending(object));
    };
    if transfer.gaining != registrar {
        return Err(EppError::Authorization(Text::new(
            "only the registrar that requested a transfer may cancel it",
            "seul le prestataire qui a demandé un transfert peut l'annuler",
        )));
    }
    Ok(transfer)
}

/// A query: the parties see the last transfer; another registrar needs the
/// authInfo (2201 without, 2202 when `matches` refuses it); 2301 when the
/// object was never transferred.
///
/// # Errors
/// As above.
pub fn query<T: Transferable>(
    ctx: &FlowCtx<'_>,
    object: &T,
    auth: Option<&AuthInfo>,
    matches: impl FnOnce(&AuthInfo) -> Result<bool, EppError>,
) -> Result<Outcome, EppError> {
    if !is_party(object, ctx.registrar) {
        match auth {
            Some(auth) if matches(auth)? => {}
            Some(_) => return Err(invalid_auth(object)),
            None => {
                return Err(EppError::Authorization(Text::new(
                    "only the registrars party to a transfer, or a holder of the authInfo, may query it",
                    "seuls les prestataires parties au transfert, ou le détenteur de l'authInfo, peuvent le consulter",
                )));
            }
        }
    }
    outcome(object, ResultCode::Success)
}

/// The response of a transfer command: the object's last transfer as `trnData`.
///
/// # Errors
/// 2301 when the object has no transfer.
pub fn outcome<T: Transferable>(object: &T, code: ResultCode) -> Result<Outcome, EppError> {
    let Some(transfer) = object.last_transfer() else {
        return Err(not_pending(object));
    };
    let payload = object.trn_payload(transfer.clone());
    Ok(Outcome {
        code,
        res_data: crate::flows::poll::res_data(&payload),
        extensions: Vec::new(),
        msg_q: None,
    })
}

/// A request by `ctx.registrar`: refused to the sponsor (2106), while a
/// transfer is pending (2300), under a status R12 refuses
/// ([`policy::transfers::r12_transferable`], 2304), and without an authInfo or with one `matches` refuses (2202).
/// Otherwise the object becomes `pendingTransfer` with `acDate` 5 days
/// ahead, the losing registrar is told, and the automatic approval is put
/// on the agenda: 1001.
///
/// # Errors
/// As above; store failures.
pub fn request<T: Transferable>(
    ctx: &FlowCtx<'_>,
    old: &T,
    auth: Option<&AuthInfo>,
    matches: impl FnOnce(&AuthInfo) -> Result<bool, EppError>,
) -> Result<Step<T>, EppError> {
    let name = old.name().en;
    let Text { en: of, fr: de } = old.of();
    if old.sponsor() == ctx.registrar {
        return Err(EppError::NotEligibleForTransfer(cite::<T>(
            format!("you sponsor {name} already"),
            format!("vous êtes déjà le prestataire {de}"),
        )));
    }
    if pending(old).is_some() {
        return Err(EppError::PendingTransfer(Text::new(
            format!("a transfer {of} is pending already"),
            format!("un transfert {de} est déjà en cours"),
        )));
    }
    let operation = match T::RULE {
        Some(rule) => format!("transfer ({rule})"),
        None => "transfer".to_owned(),
    };
    policy::transfers::r12_transferable(old.statuses(), &operation)?;
    let Some(auth) = auth else {
        return Err(EppError::InvalidAuthInfo(cite::<T>(
            format!("a transfer request must carry the authInfo {of}"),
            format!("une demande de transfert doit porter l'authInfo {de}"),
        )));
    };
    if !matches(auth)? {
        return Err(invalid_auth(old));
    }
    let transfer = Transfer {
        status: TransferStatus::Pending,
        gaining: ctx.registrar.to_owned(),
        losing: old.sponsor().to_owned(),
        requested: ctx.now,
        action_date: ctx.now + Duration::days(TRANSFER_WINDOW_DAYS),
        reject_reason: None,
        review_until: None,
    };
    let mut new = old.clone();
    let parts = new.parts();
    parts.statuses.push(Status::PendingTransfer);
    *parts.transfer = Some(transfer.clone());
    let ac = transfer.action_date.format("%Y-%m-%d %H:%M UTC");
    let text = Text::new(
        format!(
            "Transfer {of} requested by {}; approve or reject it before {ac}, or it will be approved automatically.",
            transfer.gaining
        ),
        format!(
            "Transfert {de} demandé par {} ; approuvez-le ou rejetez-le avant le {ac}, sinon il sera approuvé automatiquement.",
            transfer.gaining
        ),
    );
    let effects = Effects {
        messages: vec![message(ctx.store, &transfer.losing, ctx.now, &new, text)?],
        due_add: vec![auto_approve_entry(&new, &transfer)],
        due_remove: Vec::new(),
        audit: ctx.audit(),
        charge: None,
    };
    Ok((new, effects, ResultCode::SuccessPending))
}

/// A rejection by the losing registrar (checked with [`verify_losing`]):
/// `clientRejected`, with the reason when one was given, and, for a
/// rejection the registry may review, the end of the review window; both
/// registrars are told.
///
/// # Errors
/// 2301 when nothing is pending; store failures.
pub fn reject<T: Transferable>(
    ctx: &FlowCtx<'_>,
    old: &T,
    reason: Option<&str>,
    review_until: Option<Timestamp>,
) -> Result<Step<T>, EppError> {
    let before = verify_losing(old, ctx.registrar)?;
    let Text { en: of, fr: de } = old.of();
    let after = Transfer {
        status: TransferStatus::ClientRejected,
        action_date: ctx.now,
        reject_reason: reason.map(str::to_owned),
        review_until,
        ..before.clone()
    };
    let why = reason
        .map(|r| r.trim_end_matches(['.', ' ']))
        .map(|r| (format!(": {r}"), format!(" : {r}")))
        .unwrap_or_default();
    let review = review_until
        .map(|until| {
            let until = until.format("%Y-%m-%d %H:%M UTC");
            (
                format!(" The registry may review the rejection until {until}."),
                format!(" Le registre peut réexaminer le rejet jusqu'au {until}."),
            )
        })
        .unwrap_or_default();
    let text = Text::new(
        format!(
            "Transfer {of} rejected by {}{}.{}",
            before.losing, why.0, review.0
        ),
        format!(
            "Transfert {de} rejeté par {}{}.{}",
            before.losing, why.1, review.1
        ),
    );
    let new = settle(old, after);
    let effects = Effects {
        messages: to_both(ctx.store, &before, ctx.now, &new, &text)?,
        due_add: Vec::new(),
        due_remove: vec![auto_approve_entry(&new, &before)],
        audit: ctx.audit(),
        charge: None,
    };
    Ok((new, effects, ResultCode::Success))
}

/// A cancel by the gaining registrar (2301 when nothing is pending, 2201 for
/// another registrar): `clientCancelled`; both registrars are told.
///
/// # Errors
/// As above; store failures.
pub fn cancel<T: Transferable>(ctx: &FlowCtx<'_>, old: &T) -> Result<Step<T>, EppError> {
    let before = verify_gaining(old, ctx.registrar)?;
    let Text { en: of, fr: de } = old.of();
    let new = settle(
        old,
        Transfer {
            status: TransferStatus::ClientCancelled,
            action_date: ctx.now,
            ..before.clone()
        },
    );
    let text = Text::new(
        format!("Transfer {of} cancelled by {}.", before.gaining),
        format!("Transfert {de} annulé par {}.", before.gaining),
    );
    let effects = Effects {
        messages: to_both(ctx.store, &before, ctx.now, &new, &text)?,
        due_add: Vec::new(),
        due_remove: vec![auto_approve_entry(&new, &before)],
        audit: ctx.audit(),
        charge: None,
    };
    Ok((new, effects, ResultCode::Success))
}

/// An approval by the losing registrar (checked with [`verify_losing`]):
/// the transfer completes as `clientApproved`.
///
/// # Errors
/// 2301 or 2201 as [`verify_losing`]; store failures.
pub fn approve<T: Transferable>(ctx: &FlowCtx<'_>, old: &T) -> Result<Step<T>, EppError> {
    verify_losing(old, ctx.registrar)?;
    let (new, effects) = complete(
        ctx.store,
        old,
        TransferStatus::ClientApproved,
        ctx.now,
        None,
        ctx.audit(),
    )?;
    Ok((new, effects, ResultCode::Success))
}

/// The object with its transfer ended as `after` without a change of
/// registrar: no longer `pendingTransfer`.
fn settle<T: Transferable>(old: &T, after: Transfer) -> T {
    let mut new = old.clone();
    let parts = new.parts();
    parts.statuses.retain(|s| *s != Status::PendingTransfer);
    *parts.transfer = Some(after);
    new
}

/// Completes the object's last transfer as `status` (approval by the loser,
/// automatic approval at `acDate`, or the registry overruling a
/// rejection): the gaining registrar becomes the sponsor, `trDate` is now,
/// a new random authInfo replaces the old one, and both registrars are
/// told; when the registry made the change, `registry_change` gives who and
/// why (RFC 8590).
///
/// # Errors
/// 2301 when the object was never transferred; store failures.
pub fn complete<T: Transferable>(
    store: &Store,
    old: &T,
    status: TransferStatus,
    now: Timestamp,
    registry_change: Option<(&str, &str)>,
    audit: Audit,
) -> Result<(T, Effects), EppError> {
    let Some(before) = old.last_transfer().cloned() else {
        return Err(not_pending(old));
    };
    let Text { en: of, fr: de } = old.of();
    let mut new = old.clone();
    let parts = new.parts();
    parts.statuses.retain(|s| *s != Status::PendingTransfer);
    parts.sponsor.clone_from(&before.gaining);
    *parts.transferred = Some(now);
    *parts.auth = Some(regenerated_auth_info(now));
    *parts.transfer = Some(Transfer {
        status,
        action_date: now,
        ..before.clone()
    });
    let (by, par) = match status {
        TransferStatus::ClientApproved => (
            format!("approved by {}", before.losing),
            format!("approuvé par {}", before.losing),
        ),
        _ => (
            "approved by the registry".to_owned(),
            "approuvé par le registre".to_owned(),
        ),
    };
    let note = new.moved_note();
    let text = Text::new(
        format!(
            "Transfer {of} {by}; {} now sponsors it. {}",
            before.gaining, note.en
        ),
        format!(
            "Transfert {de} {par} ; {} en est désormais le prestataire. {}",
            before.gaining, note.fr
        ),
    );
    let mut messages = to_both(store, &before, now, &new, &text)?;
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
            due_remove: vec![auto_approve_entry(old, &before)],
            audit,
            charge: None,
        },
    ))
}

/// The agenda entry that approves `transfer` at its `acDate`.
fn auto_approve_entry<T: Transferable>(object: &T, transfer: &Transfer) -> DueEntry {
    DueEntry {
        at: transfer.action_date,
        kind: T::AUTO_APPROVE,
        name: object.key().to_owned(),
    }
}

/// A poll message for `registrar` with the object's last transfer as `trnData`.
fn message<T: Transferable>(
    store: &Store,
    registrar: &str,
    now: Timestamp,
    object: &T,
    text: Text,
) -> Result<PollMessage, EppError> {
    let Some(transfer) = object.last_transfer() else {
        return Err(not_pending(object));
    };
    Ok(PollMessage {
        id: store.next_message_id()?,
        registrar: registrar.to_owned(),
        queued: now,
        text_en: text.en,
        text_fr: text.fr,
        change: None,
        payload: object.trn_payload(transfer.clone()),
    })
}

/// The same message to the gaining and the losing registrar of `transfer`.
fn to_both<T: Transferable>(
    store: &Store,
    transfer: &Transfer,
    now: Timestamp,
    object: &T,
    text: &Text,
) -> Result<Vec<PollMessage>, EppError> {
    Ok(vec![
        message(store, &transfer.gaining, now, object, text.clone())?,
        message(store, &transfer.losing, now, object, text.clone())?,
    ])
}

/// Runs a transfer step on the object `load` reads and commits it in one
/// transaction, reading again and retrying when the object changed
/// meanwhile; answers the object's `trnData` with the step's code.
///
/// # Errors
/// Whatever `load` or `step` refuses; store failures; contention.
pub async fn commit<T: Transferable>(
    ctx: &FlowCtx<'_>,
    load: impl Fn() -> Result<T, EppError>,
    step: impl Fn(&T) -> Result<Step<T>, EppError>,
) -> Result<Outcome, EppError> {
    let (load, step) = (&load, &step);
    let (new, code) = commit_retrying(|| async move {
        let old = load()?;
        let (new, effects, code) = step(&old)?;
        let attempt = Attempt::of(T::replace(ctx.store, &old, &new, &effects), EppError::from)?;
        Ok(attempt.map(|()| (new, code)))
    })
    .await?;
    ctx.store.durable().await?;
    outcome(&new, code)
}

/// Commits a change the registry makes to the object `key`: `change` gives
/// the new object and its effects, or `None` when there is nothing to do
/// (then `Ok(false)`). Retried when the object changed meanwhile.
///
/// # Errors
/// Whatever `change` refuses; store failures; contention.
pub async fn commit_registry_change<T: Transferable>(
    store: &Store,
    key: &str,
    change: impl Fn(&T) -> Result<Option<(T, Effects)>, EppError>,
) -> Result<bool, EppError> {
    let change = &change;
    let changed = commit_retrying(|| async move {
        let Some(old) = T::fetch(store, key)? else {
            return Ok(Attempt::Done(false));
        };
        let Some((new, effects)) = change(&old)? else {
            return Ok(Attempt::Done(false));
        };
        let attempt = Attempt::of(T::replace(store, &old, &new, &effects), EppError::from)?;
        Ok(attempt.map(|()| true))
    })
    .await?;
    if changed {
        store.durable().await?;
    }
    Ok(changed)
}

/// The registry's side of the 5-day window: approves the pending transfer
/// of the object `key` whose `acDate` has come (`serverApproved`, with
/// change data naming `ma-registry`). Idempotent: a transfer resolved
/// meanwhile is left alone (`Ok(false)`).
///
/// # Errors
/// Store failures.
pub async fn auto_approve<T: Transferable>(
    store: &Store,
    key: &str,
    now: Timestamp,
) -> Result<bool, EppError> {
    commit_registry_change::<T>(store, key, |old| {
        if pending(old).is_none_or(|t| t.action_date > now) {
            return Ok(None);
        }
        complete(
            store,
            old,
            TransferStatus::ServerApproved,
            now,
            Some(("ma-registry", T::AUTO_APPROVE_REASON)),
            crate::store::registry_audit(store, now, "ma-registry", T::AUTO_APPROVE_COMMAND),
        )
        .map(Some)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::{is_party, pending, settle, verify_gaining, verify_losing};
    use crate::model::{Contact, Status, Transfer, TransferStatus};

    fn contact(sponsor: &str, transfer: Option<(TransferStatus, &str)>) -> Contact {
        let now = chrono::Utc::now();
        Contact {
            id: "c1".into(),
            roid: "C1-MA".into(),
            postal: Vec::new(),
            voice: None,
            fax: None,
            email: "x@example.ma".into(),
            statuses: match transfer {
                Some((TransferStatus::Pending, _)) => vec![Status::PendingTransfer],
                _ => Vec::new(),
            },
            sponsor: sponsor.into(),
            created_by: sponsor.into(),
            created: now,
            updated_by: None,
            updated: None,
            transferred: None,
            auth: None,
            disclose: None,
            identity: None,
            transfer: transfer.map(|(status, gaining)| Transfer {
                status,
                gaining: gaining.into(),
                losing: sponsor.into(),
                requested: now,
                action_date: now,
                reject_reason: None,
                review_until: None,
            }),
        }
    }

    fn code<T>(result: Result<T, crate::error::EppError>) -> u16 {
        result.map_or_else(|e| e.result_code().code(), |_| 1000)
    }

    #[test]
    fn only_a_pending_transfer_is_pending() {
        assert!(pending(&contact("reg1", Some((TransferStatus::Pending, "reg2")))).is_some());
        assert!(
            pending(&contact(
                "reg1",
                Some((TransferStatus::ClientRejected, "reg2"))
            ))
            .is_none()
        );
        assert!(pending(&contact("reg1", None)).is_none());
    }

    #[test]
    fn the_parties_are_the_sponsor_and_both_sides_of_the_last_transfer() {
        let c = contact("reg1", Some((TransferStatus::ClientRejected, "reg2")));
        assert!(is_party(&c, "reg1"));
        assert!(is_party(&c, "reg2"));
        assert!(!is_party(&c, "reg3"));
        assert!(!is_party(&contact("reg1", None), "reg2"));
    }

    #[test]
    fn only_the_loser_approves_or_rejects_and_only_the_gainer_cancels() {
        let c = contact("reg1", Some((TransferStatus::Pending, "reg2")));
        assert_eq!(code(verify_losing(&c, "reg1")), 1000);
        assert_eq!(code(verify_losing(&c, "reg2")), 2201);
        assert_eq!(code(verify_gaining(&c, "reg2")), 1000);
        assert_eq!(code(verify_gaining(&c, "reg1")), 2201);
        assert_eq!(code(verify_gaining(&c, "reg3")), 2201);
    }

    #[test]
    fn nothing_pending_is_2301_for_every_party() {
        let c = contact("reg1", Some((TransferStatus::ClientCancelled, "reg2")));
        assert_eq!(code(verify_losing(&c, "reg1")), 2301);
        assert_eq!(code(verify_gaining(&c, "reg2")), 2301);
        assert_eq!(code(verify_losing(&contact("reg1", None), "reg1")), 2301);
    }

    #[test]
    fn a_settled_transfer_leaves_the_sponsor_and_lifts_pending_transfer() {
        let c = contact("reg1", Some((TransferStatus::Pending, "reg2")));
        let mut ended = c.transfer.clone().unwrap();
        ended.status = TransferStatus::ClientRejected;
        let after = settle(&c, ended.clone());
        assert_eq!(after.sponsor, "reg1");
        assert!(!after.statuses.contains(&Status::PendingTransfer));
        assert_eq!(after.transfer, Some(ended));
    }
}
