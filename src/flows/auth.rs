//! authInfo passwords (RFC 9154): kept only as a salted SHA-256 with the
//! instant they were set, compared in constant time, refused when weak, and
//! dead after the configured time-to-live.

use chrono::Duration;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

use crate::error::EppError;
use crate::flows::FlowCtx;
use crate::model::{AuthHash, Domain, Text, Timestamp};
use crate::store::Store;

/// Shortest authInfo accepted.
pub const MIN_AUTH_LEN: usize = 8;

/// Hashes a new authInfo password with a fresh random salt.
pub fn hash_auth_info(password: &str, now: Timestamp) -> AuthHash {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    AuthHash {
        salt,
        digest: digest(&salt, password),
        set_at: now,
    }
}

/// A fresh random authInfo: 16 characters of mixed classes.
pub fn random_auth_info() -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-+!=";
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// The authInfo the registry sets when an object changes registrar: a new
/// random one that nobody knows, so the old one stops working; the new
/// sponsor sets its own with an update.
pub fn regenerated_auth_info(now: Timestamp) -> AuthHash {
    hash_auth_info(&random_auth_info(), now)
}

fn digest(salt: &[u8; 16], password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(password.as_bytes());
    h.finalize().into()
}

/// Whether `password` is the one hashed in `stored` (ignoring its age).
pub fn verify_auth_info(stored: &AuthHash, password: &str) -> bool {
    let computed = digest(&stored.salt, password);
    computed
        .iter()
        .zip(stored.digest.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// A new authInfo sent by a registrar: empty unsets it (RFC 9154); a weak
/// one (under 8 characters, or fewer than three of lower case, upper case,
/// digits and other characters) is refused.
///
/// # Errors
/// 2202 for a weak value.
pub fn new_auth_info(ctx: &FlowCtx<'_>, password: &str) -> Result<Option<AuthHash>, EppError> {
    if password.is_empty() {
        return Ok(None);
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .into_iter()
    .filter(|c| *c)
    .count();
    if password.chars().count() < MIN_AUTH_LEN || classes < 3 {
        return Err(EppError::InvalidAuthInfo(Text::new(
            format!(
                "RFC 9154: an authInfo needs at least {MIN_AUTH_LEN} characters from three of: lower case, upper case, digits, other characters"
            ),
            format!(
                "RFC 9154 : un authInfo exige au moins {MIN_AUTH_LEN} caractères de trois catégories parmi : minuscules, majuscules, chiffres, autres caractères"
            ),
        )));
    }
    Ok(Some(hash_auth_info(password, ctx.now)))
}

/// Whether `password` matches a stored authInfo that is still alive.
pub fn auth_alive_matches(
    stored: Option<&AuthHash>,
    password: &str,
    now: Timestamp,
    ttl_days: u32,
) -> bool {
    stored.is_some_and(|a| {
        let alive = ttl_days == 0 || now <= a.set_at + Duration::days(i64::from(ttl_days));
        alive && verify_auth_info(a, password)
    })
}

/// Whether `password` authorizes access to `domain`: its own authInfo, or,
/// with the registrant's roid, the registrant contact's.
///
/// # Errors
/// Store failures.
pub fn domain_auth_matches(
    store: &Store,
    domain: &Domain,
    password: &str,
    roid: Option<&str>,
    now: Timestamp,
    ttl_days: u32,
) -> Result<bool, EppError> {
    match roid {
        None => Ok(auth_alive_matches(
            domain.auth.as_ref(),
            password,
            now,
            ttl_days,
        )),
        Some(roid) => {
            let Some(registrant) = store.contact(&domain.registrant)? else {
                return Ok(false);
            };
            Ok(registrant.roid == roid
                && auth_alive_matches(registrant.auth.as_ref(), password, now, ttl_days))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn only_the_right_password_verifies_and_salts_differ() {
        let now = Utc::now();
        let a = hash_auth_info("2fooBAR!", now);
        let b = hash_auth_info("2fooBAR!", now);
        assert_ne!(a.salt, b.salt);
        assert!(verify_auth_info(&a, "2fooBAR!"));
        assert!(!verify_auth_info(&a, "2fooBAR?"));
    }

    #[test]
    fn an_auth_info_dies_after_its_ttl() {
        let set = Utc::now();
        let a = hash_auth_info("2fooBAR!", set);
        assert!(auth_alive_matches(
            Some(&a),
            "2fooBAR!",
            set + Duration::days(30),
            30
        ));
        assert!(!auth_alive_matches(
            Some(&a),
            "2fooBAR!",
            set + Duration::days(31),
            30
        ));
        assert!(auth_alive_matches(
            Some(&a),
            "2fooBAR!",
            set + Duration::days(3000),
            0
        ));
        assert!(!auth_alive_matches(None, "2fooBAR!", set, 30));
    }
}
