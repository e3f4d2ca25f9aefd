//! `<poll>`: a registrar reads (`req`) and removes (`ack`) the oldest message
//! of its queue (RFC 5730 §2.9.2.3).

use crate::error::EppError;
use crate::flows::{FlowCtx, Outcome};
use crate::model::{
    MsgQ, OffendingValue, PollMessage, PollPayload, ResData, ResponseExtension, ResultCode, Text,
};

/// The object data of a message, as a `<resData>`.
pub fn payload_res_data(message: &PollMessage) -> Option<ResData> {
    res_data(&message.payload)
}

/// Object data as a `<resData>`: the same `trnData` or `panData` answers a
/// command and goes in a poll message.
pub fn res_data(payload: &PollPayload) -> Option<ResData> {
    match payload {
        PollPayload::None => None,
        PollPayload::DomainTransfer {
            name,
            transfer,
            expires,
        } => Some(ResData::DomainTransfer {
            name: name.clone(),
            transfer: transfer.clone(),
            expires: *expires,
        }),
        PollPayload::ContactTransfer { id, transfer } => Some(ResData::ContactTransfer {
            id: id.clone(),
            transfer: transfer.clone(),
        }),
        PollPayload::DomainPendingAction {
            name,
            result,
            cl_trid,
            sv_trid,
            date,
        } => Some(ResData::DomainPendingAction {
            name: name.clone(),
            result: *result,
            cl_trid: cl_trid.clone(),
            sv_trid: sv_trid.clone(),
            date: *date,
        }),
    }
}

/// `<poll op="req">`: 1301 with the oldest message, or 1300 when none waits.
///
/// # Errors
/// 2400 on store failure.
pub fn request(ctx: &FlowCtx<'_>) -> Result<Outcome, EppError> {
    let Some((message, count)) = ctx.store.poll_head(ctx.registrar)? else {
        return Ok(Outcome::code(ResultCode::SuccessNoMessages));
    };
    let mut outcome = Outcome::code(ResultCode::SuccessAckToDequeue);
    outcome.res_data = payload_res_data(&message);
    if let Some(change) = &message.change {
        outcome
            .extensions
            .push(ResponseExtension::ChangePoll(change.clone()));
    }
    outcome.msg_q = Some(MsgQ {
        count,
        id: message.id,
        queued: Some(message.queued),
        text: Some(Text::new(message.text_en, message.text_fr)),
    });
    Ok(outcome)
}

/// `<poll op="ack" msgID="…">`: removes the message; 1000 with the count left.
///
/// # Errors
/// 2303 for an id that is not in this registrar's queue.
pub async fn ack(ctx: &FlowCtx<'_>, id: &str) -> Result<Outcome, EppError> {
    let unknown = || {
        EppError::DoesNotExist(
            Text::new(
                format!("no message {id} in your queue"),
                format!("aucun message {id} dans votre file"),
            ),
            Some(OffendingValue::Element {
                ns: "epp",
                name: "undef",
                text: id.to_owned(),
            }),
        )
    };
    let numeric: u64 = id.parse().map_err(|_| unknown())?;
    let Some(remaining) = ctx.store.poll_ack(ctx.registrar, numeric)? else {
        return Err(unknown());
    };
    ctx.store.durable().await?;
    let mut outcome = Outcome::code(ResultCode::Success);
    outcome.msg_q = Some(MsgQ {
        count: remaining,
        id: numeric,
        queued: None,
        text: None,
    });
    Ok(outcome)
}
