//! One handler per EPP command: a straight line of checks (protocol, then
//! charter policy), then one store mutation, flushed before the response.
//! Flows see typed commands only, never XML.

pub mod auth;
pub mod common;
pub mod contact;
pub mod domain;
pub mod host;
pub mod login;
pub mod login_security;
pub mod password_gate;
pub mod poll;
pub mod registrar;
pub mod server_status;
pub mod terms;
pub mod transfer;

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::error::EppError;
use crate::model::{
    Audit, Command, MsgQ, ObjectKind, ResData, ResponseExtension, ResultCode, Text,
};
use crate::store::Store;

/// What a flow needs: the store, the settings, the time and who is acting.
pub struct FlowCtx<'a> {
    /// The store.
    pub store: &'a Store,
    /// The settings.
    pub settings: &'a Settings,
    /// The instant of the command.
    pub now: DateTime<Utc>,
    /// The acting registrar's clID.
    pub registrar: &'a str,
    /// The command's transaction ids, for messages that refer to it later.
    pub cl_trid: Option<&'a str>,
    /// The server transaction id.
    pub sv_trid: &'a str,
    /// The command's name, for the history (R24).
    pub command: &'static str,
    /// The request as received, for the history (R24); read only by a
    /// transform's [`FlowCtx::audit`], which keeps it with its passwords
    /// masked ([`crate::xml::mask_passwords`]).
    pub request: &'a [u8],
}

impl FlowCtx<'_> {
    /// The history record of this command's changes (R24).
    pub fn audit(&self) -> Audit {
        Audit {
            at: self.now,
            who: self.registrar.to_owned(),
            command: self.command.to_owned(),
            cl_trid: self.cl_trid.map(str::to_owned),
            sv_trid: self.sv_trid.to_owned(),
            request: crate::xml::mask_passwords(self.request),
        }
    }
}

/// A successful flow's result: its code and data.
#[derive(Debug)]
pub struct Outcome {
    /// 1000 or 1001.
    pub code: ResultCode,
    /// The `<resData>`.
    pub res_data: Option<ResData>,
    /// Extension data.
    pub extensions: Vec<ResponseExtension>,
    /// Poll queue state.
    pub msg_q: Option<MsgQ>,
}

impl Outcome {
    /// 1000 with data.
    pub fn ok(res_data: ResData) -> Self {
        Self {
            code: ResultCode::Success,
            res_data: Some(res_data),
            extensions: Vec::new(),
            msg_q: None,
        }
    }

    /// A code without data.
    pub fn code(code: ResultCode) -> Self {
        Self {
            code,
            res_data: None,
            extensions: Vec::new(),
            msg_q: None,
        }
    }
}

/// Runs the flow of an object command for a logged-in registrar.
///
/// # Errors
/// Whatever the flow refuses; session commands are not handled here.
pub async fn run(ctx: &FlowCtx<'_>, command: Command) -> Result<Outcome, EppError> {
    match command {
        Command::Check(ObjectKind::Domain, names) => domain::check::run(ctx, &names),
        Command::DomainCheckFee(names, queries, currency) => {
            domain::check::run_with_fees(ctx, &names, &queries, currency.as_deref())
        }
        Command::Check(ObjectKind::Contact, ids) => contact::check::run(ctx, &ids),
        Command::Check(ObjectKind::Host, names) => host::check::run(ctx, &names),
        Command::DomainInfo(info) => domain::info::run(ctx, &info),
        Command::DomainCreate(create) => domain::create::run(ctx, create).await,
        Command::ContactInfo(info) => contact::info::run(ctx, &info),
        Command::ContactCreate(create) => contact::create::run(ctx, create).await,
        Command::HostInfo(name) => host::info::run(ctx, &name),
        Command::HostCreate(create) => host::create::run(ctx, create).await,
        Command::DomainUpdate(update) => domain::update::run(ctx, *update).await,
        Command::DomainDelete(name) => domain::delete::run(ctx, &name).await,
        Command::DomainRenew(renew) => domain::renew::run(ctx, renew).await,
        Command::ContactUpdate(update) => contact::update::run(ctx, *update).await,
        Command::ContactDelete(id) => contact::delete::run(ctx, &id).await,
        Command::HostUpdate(update) => host::update::run(ctx, update).await,
        Command::HostDelete(name) => host::delete::run(ctx, &name).await,
        Command::DomainTransfer(t) => domain::transfer::run(ctx, t).await,
        Command::ContactTransfer(t) => contact::transfer::run(ctx, t).await,
        Command::PollRequest => poll::request(ctx),
        Command::PollAck(id) => poll::ack(ctx, &id).await,
        Command::Hello | Command::Login(_) | Command::Logout | Command::QuotaInfo => Err(
            EppError::Internal("session command routed to object flows".into()),
        ),
    }
}

/// A text-only poll message for `registrar` about a change the registry
/// made, with its RFC 8590 change data: `operation` and its finer `op`,
/// who made it and why (the reason is cut to the 32 characters the schema allows).
///
/// # Errors
/// Store failures.
pub fn registry_notice(
    store: &Store,
    registrar: &str,
    now: DateTime<Utc>,
    text: Text,
    (operation, op): (&str, &str),
    who: &str,
    reason: &str,
) -> Result<crate::model::PollMessage, EppError> {
    Ok(crate::model::PollMessage {
        id: store.next_message_id()?,
        registrar: registrar.to_owned(),
        queued: now,
        text_en: text.en,
        text_fr: text.fr,
        payload: crate::model::PollPayload::None,
        change: Some(crate::model::ChangeRecord {
            operation: operation.into(),
            op: Some(op.into()),
            date: now,
            sv_trid: store.next_sv_trid(),
            who: who.to_owned(),
            reason: Some(reason.chars().take(32).collect()),
        }),
    })
}

/// The RFC 8748 fee data of a transform: what it cost and the balance left.
///
/// # Errors
/// Store failures.
pub fn fee_data(
    ctx: &FlowCtx<'_>,
    element: &'static str,
    fee: i64,
    years: u32,
) -> Result<ResponseExtension, EppError> {
    Ok(ResponseExtension::FeeTransform {
        element,
        currency: ctx.settings.billing.currency.clone(),
        years,
        fee,
        balance: ctx.store.balance(ctx.registrar)?,
    })
}

/// 2306 when a check names more objects than the configured limit.
///
/// # Errors
/// [`EppError::Policy`].
pub fn verify_check_size(ctx: &FlowCtx<'_>, count: usize) -> Result<(), EppError> {
    let max = ctx.settings.limits.max_check_names;
    if count > max {
        return Err(EppError::Policy(
            Text::new(
                format!("a check may name at most {max} objects, not {count}"),
                format!("une vérification peut porter sur au plus {max} objets, et non {count}"),
            ),
            None,
        ));
    }
    Ok(())
}
