//! R4 (reserved terms, allocation tokens) and R5(a) (blocked terms): which
//! labels need the registry's leave, the term files' format and the shipped
//! starting list. The lists themselves are in the store; the flows look a
//! label up and pass what they found.

use crate::error::EppError;
use crate::model::{OffendingValue, Text};

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

/// R5(a): a blocked label cannot be registered. `blocked` says whether
/// the blocked list holds the name's label.
///
/// # Errors
/// 2306 with the R5 reason.
pub fn r5_not_blocked(name: &str, blocked: bool) -> Result<(), EppError> {
    if blocked {
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

/// R4: a reserved name (`category` is the reserved list's category of its
/// label) is created only with an allocation token; whether the token is
/// the registry's for that exact name is checked when the create commits.
///
/// # Errors
/// 2306 for a reserved name created without a token.
pub fn r4_reserved_needs_token(
    name: &str,
    category: Option<&str>,
    token_given: bool,
) -> Result<(), EppError> {
    match category {
        Some(category) if !token_given => Err(r4_refusal(name, category)),
        _ => Ok(()),
    }
}

/// R4: the refusal for a reserved name created without a valid token.
fn r4_refusal(name: &str, category: &str) -> EppError {
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

    #[test]
    fn r5_a_blocked_name_is_2306() {
        let refusal = r5_not_blocked("interdit.ma", true).err();
        assert_eq!(refusal.map(|e| e.result_code().code()), Some(2306));
        assert!(r5_not_blocked("exemple.ma", false).is_ok());
    }

    #[test]
    fn r4_a_reserved_name_without_token_is_2306() {
        let refusal = r4_reserved_needs_token("rabat.ma", Some("city"), false).err();
        assert_eq!(refusal.map(|e| e.result_code().code()), Some(2306));
    }

    #[test]
    fn r4_a_reserved_name_with_a_token_or_a_free_name_is_accepted() {
        assert!(r4_reserved_needs_token("rabat.ma", Some("city"), true).is_ok());
        assert!(r4_reserved_needs_token("exemple.ma", None, false).is_ok());
    }
}
