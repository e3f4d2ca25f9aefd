//! `<contact:transfer>`: a contact changes registrar (RFC 5733 §3.2.4), on
//! the state machine shared with domains ([`crate::flows::transfer`]). The
//! gaining registrar requests with the contact's authInfo; the sponsor
//! approves or rejects within 5 days, else the registry approves at
//! `acDate`. A rejection needs no reason and is not reviewed by the registry
//! (R12's review is about domain names). No fee. The domains that use the
//! contact are not affected.

use crate::error::EppError;
use crate::flows::auth::auth_alive_matches;
use crate::flows::common::load_contact;
use crate::flows::transfer::{self, TransferParts, Transferable};
use crate::flows::{FlowCtx, Outcome};
use crate::model::{
    AuthInfo, Contact, ContactTransfer, PollPayload, Status, Text, Timestamp, Transfer, TransferOp,
};
use crate::store::{ChangeResult, DueKind, Effects, Store, StoreError};

impl Transferable for Contact {
    const AUTO_APPROVE: DueKind = DueKind::ContactTransferAutoApprove;
    const AUTO_APPROVE_COMMAND: &'static str = "lifecycle:contact-transfer-approve";
    const AUTO_APPROVE_REASON: &'static str = "no answer by acDate";
    const RULE: Option<&'static str> = None;

    fn key(&self) -> &str {
        &self.id
    }

    fn name(&self) -> Text {
        Text::new(
            format!("the contact {}", self.id),
            format!("le contact {}", self.id),
        )
    }

    fn of(&self) -> Text {
        Text::new(
            format!("of the contact {}", self.id),
            format!("du contact {}", self.id),
        )
    }

    fn moved_note(&self) -> Text {
        Text::new(
            "It has a new authInfo; the domains that use it are unchanged.",
            "Il a un nouvel authInfo ; les domaines qui l'utilisent sont inchangés.",
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
        PollPayload::ContactTransfer {
            id: self.id.clone(),
            transfer,
        }
    }

    fn fetch(store: &Store, key: &str) -> Result<Option<Self>, StoreError> {
        store.contact(key)
    }

    fn replace(store: &Store, old: &Self, new: &Self, effects: &Effects) -> ChangeResult {
        store.replace_contact_with(old, new, effects)
    }
}

/// Runs a contact transfer op.
///
/// # Errors
/// - 2303: no such contact.
/// - 2106: a request by the current sponsor.
/// - 2202: a request without authInfo; a wrong or expired authInfo.
/// - 2300: a transfer is pending already.
/// - 2304: `clientTransferProhibited` or `serverTransferProhibited`.
/// - 2301: approve, reject, cancel with no transfer pending; query of a
///   contact never transferred.
/// - 2201: approve/reject by another than the sponsor; cancel by another than
///   the gaining registrar; query by a registrar not party to it without authInfo.
pub async fn run(ctx: &FlowCtx<'_>, cmd: ContactTransfer) -> Result<Outcome, EppError> {
    let load = || load_contact(ctx, &cmd.id);
    let auth = cmd.auth.as_ref();
    match cmd.op {
        TransferOp::Query => {
            let contact = load()?;
            transfer::query(ctx, &contact, auth, |a| Ok(auth_matches(ctx, &contact, a)))
        }
        TransferOp::Request => {
            transfer::commit(ctx, load, |old| {
                transfer::request(ctx, old, auth, |a| Ok(auth_matches(ctx, old, a)))
            })
            .await
        }
        TransferOp::Approve => transfer::commit(ctx, load, |old| transfer::approve(ctx, old)).await,
        TransferOp::Reject => {
            let reason = cmd.reject_reason.as_deref();
            transfer::commit(ctx, load, |old| transfer::reject(ctx, old, reason, None)).await
        }
        TransferOp::Cancel => transfer::commit(ctx, load, |old| transfer::cancel(ctx, old)).await,
    }
}

/// The contact's own live authInfo; a `roid`, when given, must be the contact's.
fn auth_matches(ctx: &FlowCtx<'_>, contact: &Contact, auth: &AuthInfo) -> bool {
    auth.roid.as_deref().is_none_or(|roid| roid == contact.roid)
        && auth_alive_matches(
            contact.auth.as_ref(),
            &auth.password,
            ctx.now,
            ctx.settings.authinfo.ttl_days,
        )
}

/// The registry approves a pending contact transfer whose `acDate` has come.
/// Idempotent: a transfer resolved meanwhile is left alone.
///
/// # Errors
/// Store failures.
pub async fn auto_approve(store: &Store, id: &str, now: Timestamp) -> Result<bool, EppError> {
    transfer::auto_approve::<Contact>(store, id, now).await
}
