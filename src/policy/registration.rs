//! R2 (restricted zones): what a create in `ac.ma`, `gov.ma` or `press.ma`
//! needs, and whether it waits for the registry.

use crate::config::Zone;
use crate::error::EppError;
use crate::model::Text;

/// What R2 makes of a create that may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateKind {
    /// An open zone: the domain is active at once.
    Immediate,
    /// A restricted zone with a proof reference: the domain is
    /// `pendingCreate` until the registry approves or rejects it.
    WaitsForRegistry,
}

/// R2: a create in a restricted zone must carry the reference of the proof
/// of the registrant's right, and then waits for the registry.
///
/// # Errors
/// 2003 when the zone is restricted and no proof reference is given.
pub fn r2_restricted_create(zone: &Zone, proof_ref: Option<&str>) -> Result<CreateKind, EppError> {
    match (zone.restricted, proof_ref) {
        (false, _) => Ok(CreateKind::Immediate),
        (true, Some(_)) => Ok(CreateKind::WaitsForRegistry),
        (true, None) => Err(EppError::MissingParameter(Text::new(
            format!(
                "R2: {} is a restricted zone; a create there must carry the reference of the proof of the registrant's right (ma:domainCreate/ma:proofRef)",
                zone.name
            ),
            format!(
                "R2 : {} est une zone restreinte ; une création doit y porter la référence du justificatif du droit du demandeur (ma:domainCreate/ma:proofRef)",
                zone.name
            ),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str, restricted: bool) -> Zone {
        Zone {
            name: name.to_owned(),
            restricted,
        }
    }

    #[test]
    fn r2_a_restricted_create_without_proof_is_2003() {
        let refusal = r2_restricted_create(&zone("gov.ma", true), None).err();
        assert_eq!(refusal.map(|e| e.result_code().code()), Some(2003));
    }

    #[test]
    fn r2_a_restricted_create_with_proof_waits_for_the_registry() {
        let kind = r2_restricted_create(&zone("ac.ma", true), Some("DEC-2026-17")).ok();
        assert_eq!(kind, Some(CreateKind::WaitsForRegistry));
        let kind = r2_restricted_create(&zone("co.ma", false), None).ok();
        assert_eq!(kind, Some(CreateKind::Immediate));
    }
}
