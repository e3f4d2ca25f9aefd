//! Statuses a registrar may set (RFC 5731–5733 §2.3) and the combinations
//! RFC 5731 §2.3 forbids.

use crate::error::EppError;
use crate::model::{Status, Text};

/// A registrar may add or remove `client*` statuses only; `server*`,
/// `pending*`, `ok`, `inactive` and `linked` belong to the registry.
///
/// # Errors
/// 2304 naming the status.
pub fn verify_client_settable(statuses: &[Status]) -> Result<(), EppError> {
    if let Some(s) = statuses.iter().find(|s| !s.is_client_settable()) {
        return Err(EppError::StatusProhibits(Text::new(
            format!(
                "the status {} is set by the registry only; registrars set client* statuses",
                s.as_str()
            ),
            format!(
                "le statut {} est réservé au registre ; les prestataires posent les statuts client*",
                s.as_str()
            ),
        )));
    }
    Ok(())
}

/// The combinations RFC 5731 §2.3 forbids: `ok` with anything; two
/// `pending*`; a `pending*` action with the matching `*Prohibited` status.
///
/// # Errors
/// 2306 naming the pair.
pub fn verify_combination(statuses: &[Status]) -> Result<(), EppError> {
    use Status::{
        ClientDeleteProhibited, ClientRenewProhibited, ClientTransferProhibited,
        ClientUpdateProhibited, Linked, PendingCreate, PendingDelete, PendingRenew,
        PendingTransfer, PendingUpdate, ServerDeleteProhibited, ServerRenewProhibited,
        ServerTransferProhibited, ServerUpdateProhibited,
    };
    let has = |s: Status| statuses.contains(&s);
    let pending = [
        PendingCreate,
        PendingDelete,
        PendingRenew,
        PendingTransfer,
        PendingUpdate,
    ];
    let forbidden: &[(Status, Status)] = &[
        (PendingDelete, ClientDeleteProhibited),
        (PendingDelete, ServerDeleteProhibited),
        (PendingRenew, ClientRenewProhibited),
        (PendingRenew, ServerRenewProhibited),
        (PendingTransfer, ClientTransferProhibited),
        (PendingTransfer, ServerTransferProhibited),
        (PendingUpdate, ClientUpdateProhibited),
        (PendingUpdate, ServerUpdateProhibited),
    ];
    let clash = |a: Status, b: Status| {
        EppError::Policy(
            Text::new(
                format!(
                    "RFC 5731 §2.3: {} cannot be combined with {}",
                    a.as_str(),
                    b.as_str()
                ),
                format!(
                    "RFC 5731 §2.3 : {} ne peut pas être combiné avec {}",
                    a.as_str(),
                    b.as_str()
                ),
            ),
            None,
        )
    };
    if has(Status::Ok)
        && let Some(other) = statuses.iter().find(|s| **s != Status::Ok && **s != Linked)
    {
        return Err(clash(Status::Ok, *other));
    }
    let pendings: Vec<Status> = pending.into_iter().filter(|p| has(*p)).collect();
    if pendings.len() > 1 {
        return Err(clash(pendings[0], pendings[1]));
    }
    for (a, b) in forbidden {
        if has(*a) && has(*b) {
            return Err(clash(*a, *b));
        }
    }
    Ok(())
}

/// 2304 when any of `blocking` is among `statuses`.
///
/// # Errors
/// [`EppError::StatusProhibits`] naming the status and the operation.
pub fn verify_not_prohibited(
    statuses: &[Status],
    blocking: &[Status],
    operation: &str,
) -> Result<(), EppError> {
    if let Some(s) = statuses.iter().find(|s| blocking.contains(s)) {
        return Err(EppError::StatusProhibits(Text::new(
            format!("the status {} prohibits {operation}", s.as_str()),
            format!("le statut {} interdit l'opération {operation}", s.as_str()),
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn only_client_statuses_are_settable() {
        assert!(verify_client_settable(&[ClientHold, ClientUpdateProhibited]).is_ok());
        for s in [ServerHold, Ok, Inactive, Linked, PendingDelete] {
            assert_eq!(
                verify_client_settable(&[s])
                    .unwrap_err()
                    .result_code()
                    .code(),
                2304
            );
        }
    }

    #[test]
    fn forbidden_combinations() {
        assert!(verify_combination(&[ClientHold, ServerHold]).is_ok());
        assert!(verify_combination(&[Ok, Linked]).is_ok());
        assert!(verify_combination(&[Ok, ClientHold]).is_err());
        assert!(verify_combination(&[PendingDelete, ClientDeleteProhibited]).is_err());
        assert!(verify_combination(&[PendingTransfer, PendingUpdate]).is_err());
        assert!(verify_combination(&[PendingUpdate, ServerUpdateProhibited]).is_err());
    }
}
