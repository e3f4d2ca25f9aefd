//! R15 (ID2024): the formats of registrant identity documents, their
//! verification and the suspension of the domains of unverified
//! registrants; and R17 (C-Art.7): the administrative contact lives in
//! Morocco.

use crate::error::EppError;
use crate::model::{
    Contact, Identity, IdentityDoc, IdentityKind, OffendingValue, PostalInfo, Text, Timestamp,
    Verification,
};

fn letters_then_digits(s: &str, letters: (usize, usize), digits: (usize, usize)) -> bool {
    let split = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
    let (l, d) = s.split_at(split);
    (letters.0..=letters.1).contains(&l.len())
        && l.bytes().all(|b| b.is_ascii_alphabetic())
        && (digits.0..=digits.1).contains(&d.len())
        && d.bytes().all(|b| b.is_ascii_digit())
}

/// R15: the number must fit its document type: `cin` 1–2 letters then 1–6
/// digits; `residence` 1–2 letters then 5–8 digits; `passport` 6–9 letters
/// and digits; `rc` 1–10 digits; `ice` exactly 15 digits; `other` 1–64
/// printable characters. Returns the number normalized (letters upper case).
///
/// # Errors
/// 2005 with the R15 reason.
pub fn r15_identity_document(doc: &IdentityDoc) -> Result<String, EppError> {
    let n = doc.number.trim();
    let ok = match doc.kind {
        IdentityKind::Cin => letters_then_digits(n, (1, 2), (1, 6)),
        IdentityKind::Residence => letters_then_digits(n, (1, 2), (5, 8)),
        IdentityKind::Passport => {
            (6..=9).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        IdentityKind::Rc => (1..=10).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()),
        IdentityKind::Ice => n.len() == 15 && n.bytes().all(|b| b.is_ascii_digit()),
        IdentityKind::Other => {
            (1..=64).contains(&n.chars().count()) && n.chars().all(|c| !c.is_control())
        }
    };
    if !ok {
        let (en, fr) = match doc.kind {
            IdentityKind::Cin => (
                "1-2 letters then 1-6 digits",
                "1 à 2 lettres puis 1 à 6 chiffres",
            ),
            IdentityKind::Residence => (
                "1-2 letters then 5-8 digits",
                "1 à 2 lettres puis 5 à 8 chiffres",
            ),
            IdentityKind::Passport => ("6-9 letters and digits", "6 à 9 lettres et chiffres"),
            IdentityKind::Rc => ("1-10 digits", "1 à 10 chiffres"),
            IdentityKind::Ice => ("exactly 15 digits", "exactement 15 chiffres"),
            IdentityKind::Other => ("1-64 printable characters", "1 à 64 caractères imprimables"),
        };
        return Err(EppError::ValueSyntax(
            Text::new(
                format!("R15: a {} number is {en}; {n:?} is not", doc.kind.as_str()),
                format!(
                    "R15 : un numéro {} compte {fr} ; {n:?} ne convient pas",
                    doc.kind.as_str()
                ),
            ),
            Some(OffendingValue::Element {
                ns: "epp",
                name: "undef",
                text: n.to_owned(),
            }),
        ));
    }
    Ok(if doc.kind == IdentityKind::Other {
        n.to_owned()
    } else {
        n.to_ascii_uppercase()
    })
}

/// R15: a registrant must have an identity document on record that the
/// registry has not rejected.
///
/// # Errors
/// 2306 with the R15 reason.
pub fn r15_registrant_identity(contact: &Contact) -> Result<(), EppError> {
    match &contact.identity {
        Some(id) if id.verification != Verification::Rejected => Ok(()),
        Some(_) => Err(EppError::Policy(
            Text::new(
                format!(
                    "R15: the identity document of {} was rejected by the registry",
                    contact.id
                ),
                format!(
                    "R15 : la pièce d'identité de {} a été rejetée par le registre",
                    contact.id
                ),
            ),
            None,
        )),
        None => Err(EppError::Policy(
            Text::new(
                format!(
                    "R15: the registrant {} has no identity document on record (ma:identity)",
                    contact.id
                ),
                format!(
                    "R15 : le titulaire {} n'a aucune pièce d'identité enregistrée (ma:identity)",
                    contact.id
                ),
            ),
            None,
        )),
    }
}

/// R15: the registry verifies (or rejects) only a document on record.
/// Returns it.
///
/// # Errors
/// 2304 for the contact `contact_id` without an identity document.
pub fn r15_document_to_verify<'i>(
    contact_id: &str,
    identity: Option<&'i Identity>,
) -> Result<&'i Identity, EppError> {
    identity.ok_or_else(|| {
        EppError::StatusProhibits(Text::new(
            format!("R15: the contact {contact_id} has no identity document to verify"),
            format!("R15 : le contact {contact_id} n'a aucune pièce d'identité à vérifier"),
        ))
    })
}

/// The facts R15 weighs when a domain's identity deadline comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct R15DeadlineFacts {
    /// When the deadline was scheduled for.
    pub scheduled: Timestamp,
    /// Whether the domain is deleted.
    pub deleted: bool,
    /// The domain's creation date (its last ownership change moves it).
    pub created: Timestamp,
    /// Whether the domain is already under the R15 hold.
    pub held: bool,
    /// The verification of its registrant's document, if it has one.
    pub verification: Option<Verification>,
}

/// R15: at its identity deadline a domain is suspended unless its
/// registrant's document is verified. A deadline made before the domain's
/// last ownership change (its creation date), for a deleted domain or for
/// one already held, no longer applies.
pub fn r15_suspends_at_deadline(facts: R15DeadlineFacts) -> bool {
    !facts.deleted
        && facts.scheduled >= facts.created
        && !facts.held
        && facts.verification != Some(Verification::Verified)
}

/// R15: what a verdict on a registrant's document does to its domains:
/// `Some(true)` suspends them (rejected), `Some(false)` lifts the hold
/// (verified), `None` leaves them (submitted).
pub fn r15_hold_after_verdict(verdict: Verification) -> Option<bool> {
    match verdict {
        Verification::Verified => Some(false),
        Verification::Rejected => Some(true),
        Verification::Submitted => None,
    }
}

/// R17: whether a contact's postal infos put it in Morocco (every postal
/// info has country code `MA`).
pub fn r17_lives_in_morocco(postal: &[PostalInfo]) -> bool {
    !postal.is_empty() && postal.iter().all(|p| p.cc == "MA")
}

/// R17: the domain's admin contact must have a postal address in Morocco.
///
/// # Errors
/// 2306 with the R17 reason.
pub fn r17_admin_in_morocco(contact_id: &str, postal: &[PostalInfo]) -> Result<(), EppError> {
    if r17_lives_in_morocco(postal) {
        return Ok(());
    }
    Err(EppError::Policy(
        Text::new(
            format!(
                "R17: the administrative contact {contact_id} must have a postal address in Morocco (country code MA)"
            ),
            format!(
                "R17 : le contact administratif {contact_id} doit avoir une adresse postale au Maroc (code pays MA)"
            ),
        ),
        Some(OffendingValue::Element {
            ns: "domain",
            name: "contact",
            text: contact_id.to_owned(),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: IdentityKind, number: &str) -> Result<String, u16> {
        r15_identity_document(&IdentityDoc {
            kind,
            number: number.into(),
        })
        .map_err(|e| e.result_code().code())
    }

    fn postal(cc: &str) -> PostalInfo {
        PostalInfo {
            kind: crate::model::PostalType::Loc,
            name: "Amina".into(),
            org: None,
            street: vec!["1 rue des Oudayas".into()],
            city: "Rabat".into(),
            sp: None,
            pc: None,
            cc: cc.into(),
        }
    }

    #[test]
    fn r17_an_admin_contact_in_morocco_is_accepted() {
        assert!(r17_lives_in_morocco(&[postal("MA")]));
        assert!(r17_admin_in_morocco("adm-1", &[postal("MA"), postal("MA")]).is_ok());
    }

    #[test]
    fn r17_an_admin_contact_abroad_or_without_address_is_2306() {
        assert!(!r17_lives_in_morocco(&[]));
        assert!(!r17_lives_in_morocco(&[postal("MA"), postal("FR")]));
        let refused =
            r17_admin_in_morocco("adm-1", &[postal("FR")]).map_err(|e| e.result_code().code());
        assert_eq!(refused, Err(2306));
    }

    #[test]
    fn r15_accepted_formats() {
        use IdentityKind::*;
        assert_eq!(check(Cin, "BE123456").unwrap(), "BE123456");
        assert_eq!(check(Cin, "a1").unwrap(), "A1");
        assert!(check(Residence, "AB12345678").is_ok());
        assert!(check(Passport, "X1234567").is_ok());
        assert!(check(Rc, "1234567890").is_ok());
        assert!(check(Ice, "001234567000089").is_ok());
        assert!(check(Other, "Dahir n° 1-58-376").is_ok());
    }

    #[test]
    fn r15_refused_formats_are_2005() {
        use IdentityKind::*;
        for (kind, n) in [
            (Cin, "ABC123"),
            (Cin, "B1234567"),
            (Cin, "123456"),
            (Residence, "A1234"),
            (Passport, "12345"),
            (Passport, "1234567890"),
            (Rc, "12345678901"),
            (Rc, "12A"),
            (Ice, "12345678901234"),
            (Other, ""),
        ] {
            assert_eq!(check(kind, n), Err(2005), "{kind:?} {n}");
        }
    }

    fn identity(verification: Verification) -> Identity {
        Identity {
            kind: IdentityKind::Cin,
            number: "BE123456".into(),
            verification,
            since: Timestamp::default(),
            note: None,
        }
    }

    #[test]
    fn r15_a_contact_without_document_has_nothing_to_verify_2304() {
        let refusal = r15_document_to_verify("c1", None).err();
        assert_eq!(refusal.map(|e| e.result_code().code()), Some(2304));
    }

    #[test]
    fn r15_a_document_on_record_may_be_verified() {
        let doc = identity(Verification::Submitted);
        assert_eq!(r15_document_to_verify("c1", Some(&doc)).ok(), Some(&doc));
    }

    fn deadline_facts(verification: Option<Verification>) -> R15DeadlineFacts {
        let created = Timestamp::default();
        R15DeadlineFacts {
            scheduled: created + chrono::Duration::days(15),
            deleted: false,
            created,
            held: false,
            verification,
        }
    }

    #[test]
    fn r15_an_unverified_registrant_suspends_the_domain_at_the_deadline() {
        assert!(r15_suspends_at_deadline(deadline_facts(None)));
        assert!(r15_suspends_at_deadline(deadline_facts(Some(
            Verification::Submitted
        ))));
        assert!(r15_suspends_at_deadline(deadline_facts(Some(
            Verification::Rejected
        ))));
    }

    #[test]
    fn r15_a_verified_registrant_or_a_stale_deadline_suspends_nothing() {
        assert!(!r15_suspends_at_deadline(deadline_facts(Some(
            Verification::Verified
        ))));
        let facts = deadline_facts(None);
        assert!(!r15_suspends_at_deadline(R15DeadlineFacts {
            deleted: true,
            ..facts
        }));
        assert!(!r15_suspends_at_deadline(R15DeadlineFacts {
            held: true,
            ..facts
        }));
        assert!(!r15_suspends_at_deadline(R15DeadlineFacts {
            created: facts.scheduled + chrono::Duration::days(1),
            ..facts
        }));
    }

    #[test]
    fn r15_a_verdict_suspends_or_lifts_the_registrants_domains() {
        assert_eq!(r15_hold_after_verdict(Verification::Rejected), Some(true));
        assert_eq!(r15_hold_after_verdict(Verification::Verified), Some(false));
        assert_eq!(r15_hold_after_verdict(Verification::Submitted), None);
    }
}
