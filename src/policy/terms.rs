//! R4 (reserved terms, allocation tokens) and R5(a) (blocked terms): which
//! labels need the registry's leave, and the shipped starting list.

use crate::error::EppError;
use crate::model::{OffendingValue, Text};
use crate::store::{Store, StoreError};

/// The shipped starting list of reserved terms (`CATEGORY TERM` lines).
pub const SHIPPED_RESERVED_TERMS: &str = include_str!("reserved_terms.txt");

/// The categories of reserved terms (R4).
pub const CATEGORIES: [&str; 4] = ["technical", "profession", "state", "city"];

/// A line of a terms file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct TermsFileError {
    /// Line number (1-based).
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// R5: parses a blocked-terms file: `TERM<TAB>REASON` per line (the format
/// `admin blocked export` writes; any whitespace after the term), `#`
/// comments and blank lines ignored. Every bad line is reported.
///
/// # Errors
/// Every line that is not a term followed by a reason.
pub fn parse_blocked(text: &str) -> Result<Vec<(String, String)>, Vec<TermsFileError>> {
    let mut terms = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (term, reason) = match line.split_once(char::is_whitespace) {
            Some((term, reason)) if !reason.trim().is_empty() => (term, reason.trim()),
            _ => {
                errors.push(TermsFileError {
                    line: i + 1,
                    reason: "expected TERM REASON".into(),
                });
                continue;
            }
        };
        match normalize_term(term) {
            Some(term) => terms.push((term, reason.to_owned())),
            None => errors.push(TermsFileError {
                line: i + 1,
                reason: format!("{term:?} is not a label"),
            }),
        }
    }
    if errors.is_empty() {
        Ok(terms)
    } else {
        Err(errors)
    }
}

/// Parses a reserved-terms file: `CATEGORY TERM` per line, `#` comments.
/// Terms are lower-cased Unicode labels.
///
/// # Errors
/// Every line that is not a known category and a valid label.
pub fn parse_reserved(text: &str) -> Result<Vec<(String, String)>, Vec<TermsFileError>> {
    let mut terms = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(category), Some(term), None) = (parts.next(), parts.next(), parts.next()) else {
            errors.push(TermsFileError {
                line: i + 1,
                reason: "expected CATEGORY TERM".into(),
            });
            continue;
        };
        if !CATEGORIES.contains(&category) {
            errors.push(TermsFileError {
                line: i + 1,
                reason: format!("unknown category {category:?}; use one of {CATEGORIES:?}"),
            });
            continue;
        }
        match normalize_term(term) {
            Some(term) => terms.push((term, category.to_owned())),
            None => errors.push(TermsFileError {
                line: i + 1,
                reason: format!("{term:?} is not a label"),
            }),
        }
    }
    if errors.is_empty() {
        Ok(terms)
    } else {
        Err(errors)
    }
}

/// A term as the lists hold it: a lower-case Unicode label (an A-label is
/// decoded), or `None` when it is not a label.
pub fn normalize_term(term: &str) -> Option<String> {
    let lower = term.trim().to_lowercase();
    let unicode = match lower.strip_prefix("xn--") {
        Some(encoded) => idna::punycode::decode_to_string(encoded)?,
        None => lower,
    };
    let ok = !unicode.is_empty()
        && unicode.chars().count() <= 63
        && !unicode.contains('.')
        && unicode.chars().all(|c| c.is_alphanumeric() || c == '-');
    ok.then_some(unicode)
}

/// Loads the shipped reserved list into a new store, once.
///
/// # Errors
/// Store failures.
pub fn seed_reserved_once(store: &Store) -> Result<(), StoreError> {
    if store.terms_seeded()? {
        return Ok(());
    }
    // The shipped file is part of the build and parses; a broken edit would
    // fail the unit test below.
    let terms = parse_reserved(SHIPPED_RESERVED_TERMS).unwrap_or_default();
    let audit = crate::store::registry_audit(
        store,
        chrono::Utc::now(),
        "ma-registry",
        "seed:reserved-list",
    );
    for (term, category) in &terms {
        store.put_reserved(term, category, &audit)?;
    }
    store.mark_terms_seeded()
}

/// R5(a): a blocked label cannot be registered.
///
/// # Errors
/// 2306 with the R5 reason.
pub fn r5_not_blocked(store: &Store, name: &str, label: &str) -> Result<(), EppError> {
    if store.blocked(label)?.is_some() {
        return Err(EppError::Policy(
            Text::new(
                format!("R5: {name} is blocked by the registry"),
                format!("R5 : {name} est bloqué par le registre"),
            ),
            Some(OffendingValue::Element {
                ns: "domain",
                name: "name",
                text: name.to_owned(),
            }),
        ));
    }
    Ok(())
}

/// R4: the category of a reserved label, if it is reserved.
///
/// # Errors
/// Store failures.
pub fn r4_reserved_category(store: &Store, label: &str) -> Result<Option<String>, EppError> {
    Ok(store.reserved(label)?)
}

/// R4: the refusal for a reserved name created without a valid token.
pub fn r4_refusal(name: &str, category: &str) -> EppError {
    EppError::Policy(
        Text::new(
            format!(
                "R4: {name} is reserved ({category}); it can be registered only with an allocation token the registry issued for it"
            ),
            format!(
                "R4 : {name} est réservé ({category}) ; il ne peut être enregistré qu'avec un jeton d'attribution émis par le registre pour ce nom"
            ),
        ),
        Some(OffendingValue::Element {
            ns: "domain",
            name: "name",
            text: name.to_owned(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r4_the_shipped_list_parses_and_holds_the_charter_examples() {
        let terms = parse_reserved(SHIPPED_RESERVED_TERMS).unwrap();
        for (term, category) in [
            ("arpanet", "technical"),
            ("in-addr", "technical"),
            ("ipv6", "technical"),
            ("icann", "technical"),
            ("avocat", "profession"),
            ("chirurgien", "profession"),
            ("medecin", "profession"),
            ("ambassade", "state"),
            ("ministere", "state"),
            ("gendarmerie", "state"),
            ("rabat", "city"),
            ("marrakech", "city"),
            ("casablanca", "city"),
            ("fes", "city"),
            ("tanger", "city"),
            ("agadir", "city"),
        ] {
            assert!(
                terms.iter().any(|(t, c)| t == term && c == category),
                "{term} missing"
            );
        }
    }

    #[test]
    fn r4_bad_lines_are_reported_with_their_number() {
        let errors = parse_reserved("city rabat\nplanet mars\ncity a.b\njustone").unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4]);
    }
}
