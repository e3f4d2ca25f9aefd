//! R18 (disputes): opening and closing a dispute on a domain, and the
//! statuses that stop every change while it is open.

use crate::error::EppError;
use crate::model::{Status, Text};

/// The statuses a dispute sets: the domain stays active and in the zone,
/// but update, delete, transfer and renew answer 2304.
pub const DISPUTE_STATUSES: [Status; 4] = [
    Status::ServerUpdateProhibited,
    Status::ServerDeleteProhibited,
    Status::ServerTransferProhibited,
    Status::ServerRenewProhibited,
];

/// R18: a dispute opens on a domain that is not under dispute already.
///
/// # Errors
/// 2304 when a dispute is open.
pub fn r18_may_open(name: &str, under_dispute: bool) -> Result<(), EppError> {
    if under_dispute {
        return Err(EppError::StatusProhibits(Text::new(
            format!("R18: {name} is under dispute already"),
            format!("R18 : {name} fait déjà l'objet d'un litige"),
        )));
    }
    Ok(())
}

/// R18: only an open dispute can be closed.
///
/// # Errors
/// 2304 when no dispute is open.
pub fn r18_may_close(name: &str, under_dispute: bool) -> Result<(), EppError> {
    if !under_dispute {
        return Err(EppError::StatusProhibits(Text::new(
            format!("R18: {name} is not under dispute"),
            format!("R18 : {name} ne fait l'objet d'aucun litige"),
        )));
    }
    Ok(())
}

/// R18: the statuses of a domain under dispute: its own, with every
/// [`DISPUTE_STATUSES`] added once.
pub fn r18_disputed_statuses(statuses: &[Status]) -> Vec<Status> {
    let mut all = statuses.to_vec();
    for s in DISPUTE_STATUSES {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r18_a_second_dispute_is_2304() {
        let refusal = r18_may_open("exemple.ma", true).err();
        assert_eq!(refusal.map(|e| e.result_code().code()), Some(2304));
        assert!(r18_may_open("exemple.ma", false).is_ok());
    }

    #[test]
    fn r18_closing_without_a_dispute_is_2304() {
        let refusal = r18_may_close("exemple.ma", false).err();
        assert_eq!(refusal.map(|e| e.result_code().code()), Some(2304));
        assert!(r18_may_close("exemple.ma", true).is_ok());
    }

    #[test]
    fn r18_a_dispute_prohibits_every_change_once() {
        let statuses = r18_disputed_statuses(&[Status::ClientHold, Status::ServerRenewProhibited]);
        for s in DISPUTE_STATUSES {
            assert_eq!(statuses.iter().filter(|t| **t == s).count(), 1);
        }
        assert!(statuses.contains(&Status::ClientHold));
    }
}
