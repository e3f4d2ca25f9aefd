//! RFC 5910 DS records: digest lengths by digest type, known algorithms,
//! and how many records a domain may have.

use crate::error::EppError;
use crate::model::{DsData, OffendingValue, Text};

/// Most DS records per domain.
pub const MAX_DS_RECORDS: usize = 8;

/// DNSSEC algorithm numbers the registry publishes (IANA registry, excluding
/// deprecated and private ones).
const ALGORITHMS: &[u8] = &[5, 7, 8, 10, 13, 14, 15, 16];

/// A DS record is well formed: a known algorithm, and a digest whose length
/// fits its digest type (SHA-1 40, SHA-256 64, SHA-384 96 hex digits).
///
/// # Errors
/// 2005 for a digest that does not fit its type, 2004 for an unknown
/// algorithm or digest type.
pub fn verify_ds(ds: &DsData) -> Result<(), EppError> {
    let value = |text: String| {
        Some(OffendingValue::Element {
            ns: "epp",
            name: "undef",
            text,
        })
    };
    if !ALGORITHMS.contains(&ds.alg) {
        return Err(EppError::ValueRange(
            Text::new(
                format!(
                    "DNSSEC algorithm {} is not accepted; use one of {ALGORITHMS:?}",
                    ds.alg
                ),
                format!(
                    "l'algorithme DNSSEC {} n'est pas accepté ; utilisez l'un de {ALGORITHMS:?}",
                    ds.alg
                ),
            ),
            value(ds.alg.to_string()),
        ));
    }
    let expected = match ds.digest_type {
        1 => 40,
        2 => 64,
        4 => 96,
        other => {
            return Err(EppError::ValueRange(
                Text::new(
                    format!("digest type {other} is not accepted; use 1, 2 or 4"),
                    format!("le type d'empreinte {other} n'est pas accepté ; utilisez 1, 2 ou 4"),
                ),
                value(other.to_string()),
            ));
        }
    };
    if ds.digest.len() != expected {
        return Err(EppError::ValueSyntax(
            Text::new(
                format!(
                    "a digest of type {} has {expected} hex digits, not {}",
                    ds.digest_type,
                    ds.digest.len()
                ),
                format!(
                    "une empreinte de type {} compte {expected} chiffres hexadécimaux, et non {}",
                    ds.digest_type,
                    ds.digest.len()
                ),
            ),
            value(ds.digest.clone()),
        ));
    }
    Ok(())
}

/// At most [`MAX_DS_RECORDS`] per domain.
///
/// # Errors
/// 2306.
pub fn verify_ds_count(count: usize) -> Result<(), EppError> {
    if count > MAX_DS_RECORDS {
        return Err(EppError::Policy(
            Text::new(
                format!("a domain may have at most {MAX_DS_RECORDS} DS records, not {count}"),
                format!(
                    "un domaine peut avoir au plus {MAX_DS_RECORDS} enregistrements DS, et non {count}"
                ),
            ),
            None,
        ));
    }
    Ok(())
}
