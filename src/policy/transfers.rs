//! R12 (registrar change by EPP transfer): which objects may move, and
//! what a request and a rejection must and must not carry.

use crate::error::EppError;
use crate::model::{Status, Text};
use crate::policy::statuses;

/// R12: the statuses that refuse a transfer request (2304): the
/// `*TransferProhibited` statuses (a dispute, R18, sets the server one)
/// and every pending action (a domain in redemption is `pendingDelete`).
pub const R12_TRANSFER_BLOCKING: [Status; 6] = [
    Status::ClientTransferProhibited,
    Status::ServerTransferProhibited,
    Status::PendingCreate,
    Status::PendingDelete,
    Status::PendingUpdate,
    Status::PendingTransfer,
];

/// R12: only an object without a status in [`R12_TRANSFER_BLOCKING`] may
/// move; `operation` is how the refusal names the command, e.g.
/// `transfer (R12)`.
///
/// # Errors
/// 2304 naming the status.
pub fn r12_transferable(statuses: &[Status], operation: &str) -> Result<(), EppError> {
    statuses::verify_not_prohibited(statuses, &R12_TRANSFER_BLOCKING, operation)
}

/// R12: a `.ma` transfer never changes the expiry date, so a request
/// carries no period.
///
/// # Errors
/// 2306 when a period is given.
pub fn r12_no_period(period_given: bool) -> Result<(), EppError> {
    if period_given {
        return Err(EppError::Policy(
            Text::new(
                "R12: a .ma transfer never changes the expiry date; send no period",
                "R12 : un transfert .ma ne change jamais l'échéance ; n'envoyez pas de période",
            ),
            None,
        ));
    }
    Ok(())
}

/// R12: the losing registrar's rejection gives its reason (the registry
/// reviews it).
///
/// # Errors
/// 2003 without a reason.
pub fn r12_rejection_reason(reason: Option<&str>) -> Result<&str, EppError> {
    reason.ok_or_else(|| {
        EppError::MissingParameter(Text::new(
            "R12: a rejection must give its reason (<ma:transferReject><ma:reason>)",
            "R12 : un rejet doit donner son motif (<ma:transferReject><ma:reason>)",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r12_a_pending_or_transfer_prohibited_object_is_2304() {
        for status in R12_TRANSFER_BLOCKING {
            let refusal = r12_transferable(&[status], "transfer (R12)").err();
            assert_eq!(refusal.map(|e| e.result_code().code()), Some(2304));
        }
    }

    #[test]
    fn r12_an_active_object_may_move() {
        assert!(r12_transferable(&[], "transfer (R12)").is_ok());
        assert!(r12_transferable(&[Status::ClientHold], "transfer (R12)").is_ok());
    }

    #[test]
    fn r12_a_request_with_a_period_is_2306() {
        let refusal = r12_no_period(true).err();
        assert_eq!(refusal.map(|e| e.result_code().code()), Some(2306));
    }

    #[test]
    fn r12_a_request_without_period_is_accepted() {
        assert!(r12_no_period(false).is_ok());
    }

    #[test]
    fn r12_a_rejection_without_reason_is_2003() {
        let refusal = r12_rejection_reason(None).err();
        assert_eq!(refusal.map(|e| e.result_code().code()), Some(2003));
    }

    #[test]
    fn r12_a_rejection_with_a_reason_is_accepted() {
        assert_eq!(
            r12_rejection_reason(Some("registrant's objection")).ok(),
            Some("registrant's objection")
        );
    }
}
