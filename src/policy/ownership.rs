//! R13 (change of ownership): the registrant of a domain changes only by a
//! registrant change on the domain, which waits for the registry.

use crate::error::EppError;
use crate::model::Text;

/// R13: a `contact:update` may not change the name or organisation of a
/// contact that is the registrant of a domain: that is a change of
/// ownership. `domain` is a domain of which the contact is the registrant.
///
/// # Errors
/// 2306 naming the contact and the domain.
pub fn r13_registrant_identity_unchanged(
    contact_id: &str,
    domain: &str,
    identity_changed: bool,
) -> Result<(), EppError> {
    if identity_changed {
        return Err(EppError::Policy(
            Text::new(
                format!(
                    "R13: {contact_id} is the registrant of {domain}; changing its name or organisation is a change of ownership, made by a registrant change on the domain"
                ),
                format!(
                    "R13 : {contact_id} est titulaire de {domain} ; changer son nom ou son organisation est un changement de titulaire, à faire par une modification du titulaire du domaine"
                ),
            ),
            None,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r13_renaming_a_registrant_is_2306() {
        let refusal = r13_registrant_identity_unchanged("c-1", "exemple.ma", true).err();
        assert_eq!(refusal.map(|e| e.result_code().code()), Some(2306));
    }

    #[test]
    fn r13_other_changes_of_a_registrant_are_accepted() {
        assert!(r13_registrant_identity_unchanged("c-1", "exemple.ma", false).is_ok());
    }
}
