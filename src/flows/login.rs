//! `<login>`: protocol options, then the registrar's credentials: its client
//! certificate, its password (argon2), its state and its address allow-list.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::EppError;
use crate::model::{Lang, Login, Registrar, Text};
use crate::policy::{self, R19LoginRefusal};
use crate::store::Store;
use crate::xml::ns;

/// Hashes a registrar password with argon2id and a random salt (PHC string).
///
/// # Errors
/// When argon2 refuses the input.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Remembers passwords verified once since start, as a keyed digest, so a
/// registrar's next logins skip argon2. The key is random per process; a
/// changed stored hash invalidates the entry.
pub struct PasswordCache {
    key: [u8; 32],
    verified: Mutex<HashMap<String, (String, [u8; 32])>>,
    gate: super::password_gate::PasswordGate,
    /// argon2 verifications run since start.
    argon2_runs: std::sync::atomic::AtomicU64,
}

impl Default for PasswordCache {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        Self {
            key,
            verified: Mutex::new(HashMap::new()),
            gate: Default::default(),
            argon2_runs: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl PasswordCache {
    fn digest(&self, clid: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(clid.as_bytes());
        h.update([0]);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    fn confirms(&self, r: &Registrar, password: &str) -> bool {
        let digest = self.digest(&r.id, password);
        let Ok(map) = self.verified.lock() else {
            return false;
        };
        map.get(&r.id)
            .is_some_and(|(phc, d)| *phc == r.password_hash && *d == digest)
    }

    fn remember(&self, r: &Registrar, password: &str) {
        let digest = self.digest(&r.id, password);
        if let Ok(mut map) = self.verified.lock() {
            map.insert(r.id.clone(), (r.password_hash.clone(), digest));
        }
    }

    /// Whether `password` is `r`'s, by the cache or by argon2.
    ///
    /// With `cached` false (a login the other checks refuse anyway) the
    /// cache is neither read nor filled: such a login costs an argon2
    /// whether the password is right or not, so its answer time does not
    /// tell a right password either.
    pub async fn verify(&self, r: &Registrar, password: &str, cached: bool) -> bool {
        if !cached {
            return self.argon2(r, password).await;
        }
        if self.confirms(r, password) {
            return true;
        }
        // Logins with the same password wait for the one verifying it.
        let _turn = self.gate.turn(self.digest(&r.id, password)).await;
        if self.confirms(r, password) {
            return true;
        }
        let ok = self.argon2(r, password).await;
        if ok {
            self.remember(r, password);
        }
        ok
    }

    /// Spends on a login for an unknown clID the argon2 a known one costs,
    /// against a hash no password matches, so the answer's time does not
    /// tell which clIDs exist.
    pub async fn verify_unknown(&self, password: &str) {
        static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let phc = DECOY
            .get_or_init(|| hash_password("a decoy no login ever gives").unwrap_or_default())
            .clone();
        let _ = self.argon2_phc(phc, password).await;
    }

    /// Whether `password` is `r`'s, by argon2.
    async fn argon2(&self, r: &Registrar, password: &str) -> bool {
        self.argon2_phc(r.password_hash.clone(), password).await
    }

    /// Whether `password` matches the PHC string `phc`, by argon2.
    async fn argon2_phc(&self, phc: String, password: &str) -> bool {
        self.argon2_runs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pw = password.to_owned();
        // At most one argon2 per core at once.
        let _place = self.gate.argon2_place().await;
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&phc)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(pw.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }
}

/// The protocol part of a login: version 1.0, a served language, served
/// object and extension URIs. Returns the session language.
///
/// # Errors
/// 2100 for another version; 2102 for another language; 2307 for an object
/// service not served; 2103 for an extension not served.
pub fn verify_options(login: &Login) -> Result<Lang, EppError> {
    if login.version != "1.0" {
        return Err(EppError::UnimplementedVersion(Text::new(
            format!("EPP version {:?} is not served; use 1.0", login.version),
            format!(
                "la version EPP {:?} n'est pas prise en charge ; utilisez 1.0",
                login.version
            ),
        )));
    }
    let lang = Lang::parse(&login.lang).ok_or_else(|| {
        EppError::UnimplementedOption(Text::new(
            format!("language {:?} is not served; use en or fr", login.lang),
            format!(
                "la langue {:?} n'est pas prise en charge ; utilisez en ou fr",
                login.lang
            ),
        ))
    })?;
    if let Some(uri) = login
        .obj_uris
        .iter()
        .find(|u| !ns::OBJECT_URIS.contains(&u.as_str()))
    {
        return Err(EppError::UnimplementedObject(Text::new(
            format!("the object service {uri} is not served"),
            format!("le service d'objet {uri} n'est pas pris en charge"),
        )));
    }
    if let Some(uri) = login
        .ext_uris
        .iter()
        .find(|u| !ns::EXTENSION_URIS.contains(&u.as_str()))
    {
        return Err(EppError::UnimplementedExtension(Text::new(
            format!("the extension {uri} is not served"),
            format!("l'extension {uri} n'est pas prise en charge"),
        )));
    }
    Ok(lang)
}

/// The one answer to every login refused for its credentials or the
/// registrar's standing: an unknown clID, a wrong password, a client
/// certificate not recorded for the clID, an address outside the
/// allow-list, a suspended or terminated registrar. The client cannot tell
/// them apart, so a right password is never confirmed to someone who lacks
/// the rest; the log says which it was.
pub fn refused() -> EppError {
    EppError::Authentication(Text::new(
        "login refused: check the clID, the password, the client certificate and the address; if they are right, contact the registry",
        "connexion refusée : vérifiez le clID, le mot de passe, le certificat client et l'adresse ; s'ils sont justes, contactez le registre",
    ))
}

/// Authenticates a registrar: it exists, the password is right, the
/// session's client certificate is one recorded for it, the address is
/// allowed, and it may log in (R19: it is active). Every refusal is the same [`refused`] to the
/// client; the log says which check failed, with the clID and the peer.
/// The failed-login count of the registrar (RFC 8807) counts a wrong
/// password, certificate or address.
///
/// # Errors
/// [`EppError::Authentication`].
pub async fn authenticate(
    store: &Store,
    cache: &PasswordCache,
    failures: &super::login_security::FailedLogins,
    login: &Login,
    cert_fingerprint: Option<&str>,
    peer: IpAddr,
) -> Result<Registrar, EppError> {
    let clid = login.cl_id.as_str();
    let Some(registrar) = store.registrar(clid)? else {
        cache.verify_unknown(&login.password).await;
        tracing::info!(clid, %peer, "login refused: unknown registrar");
        return Err(refused());
    };
    let cert_ok = cert_fingerprint.is_some_and(|fp| {
        registrar
            .cert_fingerprints
            .iter()
            .any(|known| known.eq_ignore_ascii_case(fp))
    });
    let address_ok =
        registrar.ip_allow.is_empty() || registrar.ip_allow.iter().any(|net| net.contains(&peer));
    let standing = policy::r19_may_log_in(registrar.state);
    let cached = cert_ok && address_ok && standing.is_ok();
    if !cache.verify(&registrar, &login.password, cached).await {
        tracing::info!(clid, %peer, "login refused: wrong password");
        failures.failed(&registrar.id);
        return Err(refused());
    }
    if !cert_ok {
        tracing::warn!(clid, %peer, "login refused: right password, but a client certificate not recorded for this registrar");
        failures.failed(&registrar.id);
        return Err(refused());
    }
    if !address_ok {
        tracing::warn!(clid, %peer, "login refused: right password, but an address not on the registrar's allow-list");
        failures.failed(&registrar.id);
        return Err(refused());
    }
    match standing {
        Ok(()) => Ok(registrar),
        Err(R19LoginRefusal::Suspended) => {
            tracing::warn!(clid, %peer, "login refused: the registrar is suspended");
            Err(refused())
        }
        Err(R19LoginRefusal::Terminated) => {
            tracing::warn!(clid, %peer, "login refused: the registrar is terminated (R19)");
            Err(refused())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RegistrarState;

    fn registrar(password: &str) -> Registrar {
        let now = chrono::Utc::now();
        Registrar {
            id: "reg1".into(),
            name: "Registrar".into(),
            password_hash: hash_password(password).unwrap(),
            cert_fingerprints: vec![],
            ip_allow: vec![],
            session_limit: None,
            state: RegistrarState::Active,
            email: None,
            address: None,
            created: now,
            password_set: now,
        }
    }

    #[tokio::test]
    async fn a_login_for_an_unknown_clid_costs_an_argon2_like_a_known_one() {
        let cache = PasswordCache::default();
        cache.verify_unknown("any password").await;
        assert_eq!(
            cache.argon2_runs.load(std::sync::atomic::Ordering::Relaxed),
            1
        );
        let r = registrar("right-pass");
        assert!(!cache.verify(&r, "wrong-pass", true).await);
        assert_eq!(
            cache.argon2_runs.load(std::sync::atomic::Ordering::Relaxed),
            2
        );
    }

    #[tokio::test]
    async fn a_login_refused_anyway_does_not_fill_the_cache() {
        let cache = PasswordCache::default();
        let r = registrar("right-pass");
        assert!(cache.verify(&r, "right-pass", false).await);
        assert!(!cache.confirms(&r, "right-pass"), "not remembered");
        assert!(!cache.verify(&r, "wrong-pass", false).await);
        assert!(cache.verify(&r, "right-pass", true).await);
        assert!(cache.confirms(&r, "right-pass"), "remembered");
        assert!(!cache.verify(&r, "wrong-pass", true).await);
    }
}
