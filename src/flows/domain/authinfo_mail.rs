//! R12's fallback: only the registrant may ask for a domain's authInfo, and
//! its registrar must give it within 3 days. When it does not, the operator
//! has the registry set a fresh authInfo and mail it to the registrant
//! contact's address. The old authInfo stops working; the sponsor is told by
//! poll message (RFC 8590 change data) and the change is in the history.

use chrono::Duration;

use crate::error::EppError;
use crate::flows::common::{Attempt, commit_retrying, domain_not_found};
use crate::model::{Status, Text, Timestamp};
use crate::store::{Effects, Store};

/// What the registry set and where it must go.
#[derive(Debug)]
pub struct FreshAuthInfo {
    /// The domain (A-label).
    pub name: String,
    /// The new authInfo, in clear: only the registrant's mail carries it.
    pub password: String,
    /// The registrant contact's id.
    pub registrant: String,
    /// The registrant contact's email address.
    pub email: String,
    /// When it stops working (the `[authinfo] ttl_days` policy), if ever.
    pub valid_until: Option<Timestamp>,
}

/// Sets a fresh random authInfo on `name` for its registrant.
///
/// # Errors
/// 2303 unknown domain; 2304 a domain waiting for creation or deleted.
pub async fn reset_for_registrant(
    store: &Store,
    name: &str,
    ttl_days: u32,
    now: Timestamp,
    operator: &str,
) -> Result<FreshAuthInfo, EppError> {
    let fresh = commit_retrying(|| async move {
        let old = store.domain(name)?.ok_or_else(|| domain_not_found(name))?;
        if old.statuses.contains(&Status::PendingCreate)
            || old.statuses.contains(&Status::PendingDelete)
        {
            return Err(EppError::StatusProhibits(Text::new(
                format!(
                    "R12: {name} is waiting for creation or deleted; it has no authInfo to give"
                ),
                format!(
                    "R12 : {name} attend sa création ou est supprimé ; il n'a pas de code d'autorisation à remettre"
                ),
            )));
        }
        let holder = store.contact(&old.registrant)?.ok_or_else(|| {
            EppError::Internal(format!("the registrant {} is missing", old.registrant))
        })?;
        let password = crate::flows::auth::random_auth_info();
        let mut new = old.clone();
        new.auth = Some(crate::flows::auth::hash_auth_info(&password, now));
        new.updated = Some(now);
        let text = Text::new(
            format!(
                "R12: the registry sent a new authInfo for {name} to its registrant; the previous one no longer works."
            ),
            format!(
                "R12 : le registre a envoyé un nouveau code d'autorisation de {name} à son titulaire ; l'ancien ne fonctionne plus."
            ),
        );
        let who = format!("operator:{operator}");
        let effects = Effects {
            messages: vec![crate::flows::registry_notice(
                store,
                &old.sponsor,
                now,
                text,
                ("update", "authInfoSent"),
                &who,
                "R12",
            )?],
            ..Effects::audit(crate::store::registry_audit(
                store,
                now,
                &who,
                "admin:authinfo-send",
            ))
        };
        let attempt = Attempt::of(store.replace_domain_with(&old, &new, &effects), EppError::from)?;
        Ok(attempt.map(|()| FreshAuthInfo {
            name: new.name,
            password,
            registrant: holder.id,
            email: holder.email,
            valid_until: (ttl_days > 0).then(|| now + Duration::days(i64::from(ttl_days))),
        }))
    })
    .await?;
    store.durable().await?;
    Ok(fresh)
}

/// The registrant's message: subject and bilingual text.
pub fn registrant_mail(fresh: &FreshAuthInfo) -> (String, String) {
    let subject = format!("{} : code d'autorisation / authorisation code", fresh.name);
    let until_fr = fresh.valid_until.map_or_else(String::new, |t| {
        format!(
            "\nCe code est valable jusqu'au {}.",
            t.format("%Y-%m-%d %H:%M UTC")
        )
    });
    let until_en = fresh.valid_until.map_or_else(String::new, |t| {
        format!(
            "\nThis code is valid until {}.",
            t.format("%Y-%m-%d %H:%M UTC")
        )
    });
    let body = format!(
        "Bonjour,\n\n\
         À votre demande, le registre du .ma vous adresse le code d'autorisation\n\
         (authInfo) du nom de domaine {name}, dont vous êtes titulaire ({id}).\n\
         Il vous permet de changer de prestataire : remettez-le au prestataire\n\
         de votre choix. L'ancien code ne fonctionne plus.{until_fr}\n\n\
         authInfo: {code}\n\n\
         --\n\n\
         Hello,\n\n\
         At your request, the .ma registry sends you the authorisation code\n\
         (authInfo) of the domain name {name}, which you hold ({id}).\n\
         It lets you change registrar: give it to the registrar of your\n\
         choice. The previous code no longer works.{until_en}\n\n\
         authInfo: {code}\n",
        name = fresh.name,
        id = fresh.registrant,
        code = fresh.password,
    );
    (subject, body)
}
