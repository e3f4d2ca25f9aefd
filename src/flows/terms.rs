//! The reserved and blocked lists as the store holds them (R4, R5): the
//! loading of the shipped reserved list into a new store, and the look-ups
//! a create makes before the pure decisions of [`crate::policy::terms`].

use crate::error::EppError;
use crate::policy::terms::{SHIPPED_RESERVED_TERMS, parse_reserved};
use crate::store::{Store, StoreError};

/// Loads the shipped reserved list into a new store, once.
///
/// # Errors
/// Store failures.
pub fn seed_reserved_once(store: &Store) -> Result<(), StoreError> {
    if store.terms_seeded()? {
        return Ok(());
    }
    // The shipped file is part of the build and parses; a broken edit would
    // fail the unit test of `policy::terms`.
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

/// R4 and R5(a) for a create of `name` (label `label`): refused when the
/// label is blocked, or reserved and the create carries no allocation token.
///
/// # Errors
/// 2306 with the rule's reason; store failures.
pub fn r4_r5_may_register(
    store: &Store,
    name: &str,
    label: &str,
    token_given: bool,
) -> Result<(), EppError> {
    crate::policy::terms::r5_not_blocked(name, store.blocked(label)?.is_some())?;
    if token_given {
        return Ok(());
    }
    let category = store.reserved(label)?;
    crate::policy::terms::r4_reserved_needs_token(name, category.as_deref(), token_given)
}
