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
use crate::model::{Lang, Login, Registrar, RegistrarState, Text};
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
}

impl Default for PasswordCache {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        Self {
            key,
            verified: Mutex::new(HashMap::new()),
            gate: Default::default(),
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
    pub async fn verify(&self, r: &Registrar, password: &str) -> bool {
        if self.confirms(r, password) {
            return true;
        }
        // Logins with the same password wait for the one verifying it.
        let _turn = self.gate.turn(self.digest(&r.id, password)).await;
        if self.confirms(r, password) {
            return true;
        }
        let phc = r.password_hash.clone();
        let pw = password.to_owned();
        // At most one argon2 per core at once.
        let _place = self.gate.argon2_place().await;
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&phc)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(pw.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if ok {
            self.remember(r, password);
        }
        ok
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

fn refused(en: &str, fr: &str) -> EppError {
    EppError::Authentication(Text::new(en, fr))
}

/// Authenticates a registrar: it exists and is active, the session's client
/// certificate is one recorded for it, the address is allowed, and the
/// password is right. Every refusal is the same 2200 to the client; the log
/// says which check failed.
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
    let generic = || {
        refused(
            "invalid clID, password or client certificate",
            "clID, mot de passe ou certificat client invalide",
        )
    };
    let Some(registrar) = store.registrar(&login.cl_id)? else {
        tracing::info!(clid = %login.cl_id, "login refused: unknown registrar");
        return Err(generic());
    };
    if !cache.verify(&registrar, &login.password).await {
        tracing::info!(clid = %login.cl_id, "login refused: wrong password");
        failures.failed(&registrar.id);
        return Err(generic());
    }
    let cert_ok = cert_fingerprint.is_some_and(|fp| {
        registrar
            .cert_fingerprints
            .iter()
            .any(|known| known.eq_ignore_ascii_case(fp))
    });
    if !cert_ok {
        tracing::info!(clid = %login.cl_id, "login refused: client certificate not recorded for this registrar");
        failures.failed(&registrar.id);
        return Err(refused(
            "the client certificate presented is not one recorded for this clID",
            "le certificat client présenté n'est pas enregistré pour ce clID",
        ));
    }
    if !registrar.ip_allow.is_empty() && !registrar.ip_allow.iter().any(|net| net.contains(&peer)) {
        tracing::info!(clid = %login.cl_id, %peer, "login refused: address not allowed");
        failures.failed(&registrar.id);
        return Err(refused(
            "this address is not on the registrar's allow-list",
            "cette adresse ne figure pas dans la liste autorisée du prestataire",
        ));
    }
    match registrar.state {
        RegistrarState::Active => Ok(registrar),
        RegistrarState::Suspended => Err(refused(
            "this registrar is suspended",
            "ce prestataire est suspendu",
        )),
        RegistrarState::Terminated => Err(refused(
            "R19: this registrar's accreditation is terminated",
            "R19 : l'accréditation de ce prestataire a pris fin",
        )),
    }
}
