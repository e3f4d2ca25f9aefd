//! authInfo passwords: kept only as a salted SHA-256, compared in constant time.

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::model::AuthHash;

/// Hashes a new authInfo password with a fresh random salt.
pub fn hash_auth_info(password: &str) -> AuthHash {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    AuthHash {
        salt,
        digest: digest(&salt, password),
    }
}

fn digest(salt: &[u8; 16], password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(password.as_bytes());
    h.finalize().into()
}

/// Whether `password` is the one hashed in `stored`.
pub fn verify_auth_info(stored: &AuthHash, password: &str) -> bool {
    let computed = digest(&stored.salt, password);
    computed
        .iter()
        .zip(stored.digest.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_password_verifies_and_salts_differ() {
        let a = hash_auth_info("2fooBAR!");
        let b = hash_auth_info("2fooBAR!");
        assert_ne!(a.salt, b.salt);
        assert!(verify_auth_info(&a, "2fooBAR!"));
        assert!(!verify_auth_info(&a, "2fooBAR?"));
    }
}
