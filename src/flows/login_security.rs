//! RFC 8807 login security: the events a login answer reports (the
//! password's and the client certificate's expiry, failed logins since the
//! registrar's last success), and the rules a new password must meet.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{Duration, TimeZone, Utc};

use crate::config::LoginSettings;
use crate::model::{Registrar, SecurityEvent, SecurityEventKind, Text, Timestamp};

/// Failed logins per registrar since its last successful one, kept in
/// memory. Only registrars that exist are counted, so a client cannot
/// grow the table with made-up clIDs.
#[derive(Debug, Default)]
pub struct FailedLogins {
    counts: Mutex<HashMap<String, u32>>,
}

impl FailedLogins {
    /// Counts a failed login of `registrar`.
    pub fn failed(&self, registrar: &str) {
        if let Ok(mut counts) = self.counts.lock() {
            let n = counts.entry(registrar.to_owned()).or_insert(0);
            *n = n.saturating_add(1);
        }
    }

    /// The failures since the last success, which this success resets.
    pub fn succeeded(&self, registrar: &str) -> u32 {
        self.counts
            .lock()
            .ok()
            .and_then(|mut counts| counts.remove(registrar))
            .unwrap_or(0)
    }
}

/// When `registrar`'s password expires, if passwords have a maximum age.
pub fn password_expiry(registrar: &Registrar, settings: &LoginSettings) -> Option<Timestamp> {
    (settings.password_max_age_days > 0)
        .then(|| registrar.password_set + Duration::days(i64::from(settings.password_max_age_days)))
}

/// The error event of a login with an expired password and no new one.
pub fn password_expired(expiry: Timestamp) -> SecurityEvent {
    SecurityEvent {
        kind: SecurityEventKind::Password,
        name: None,
        error: true,
        ex_date: Some(expiry),
        value: None,
        text: Text::new(
            "the password has expired; log in with a new password",
            "le mot de passe a expiré ; connectez-vous avec un nouveau mot de passe",
        ),
    }
}

/// Checks a new password against the registry's rules: long enough,
/// different from the current one, and not containing the clID. The
/// refusal is an error event of type `newPW`.
///
/// # Errors
/// The `newPW` event saying which rule the password breaks.
pub fn check_new_password(
    clid: &str,
    current: &str,
    new: &str,
    settings: &LoginSettings,
) -> Result<(), SecurityEvent> {
    let refuse = |en: String, fr: String| SecurityEvent {
        kind: SecurityEventKind::NewPassword,
        name: None,
        error: true,
        ex_date: None,
        value: None,
        text: Text::new(en, fr),
    };
    let min = settings.new_password_min_length;
    let n = new.chars().count();
    if n < min {
        return Err(refuse(
            format!("the new password has {n} characters; it needs at least {min}"),
            format!("le nouveau mot de passe compte {n} caractères ; il en faut au moins {min}"),
        ));
    }
    if new == current {
        return Err(refuse(
            "the new password is the current one".into(),
            "le nouveau mot de passe est l'actuel".into(),
        ));
    }
    if new.to_lowercase().contains(&clid.to_lowercase()) {
        return Err(refuse(
            "the new password contains the clID".into(),
            "le nouveau mot de passe contient le clID".into(),
        ));
    }
    Ok(())
}

/// The warnings of a successful login: the password expiring within the
/// warning period, the client certificate expiring within its period, and
/// failed logins since the last success.
pub fn warnings(
    password_expiry: Option<Timestamp>,
    certificate_expiry: Option<Timestamp>,
    failures: u32,
    settings: &LoginSettings,
    now: Timestamp,
) -> Vec<SecurityEvent> {
    let mut events = Vec::new();
    if let Some(expiry) = password_expiry
        && expiry - now <= Duration::days(i64::from(settings.password_warning_days))
    {
        let days = (expiry - now).num_days();
        events.push(SecurityEvent {
            kind: SecurityEventKind::Password,
            name: None,
            error: false,
            ex_date: Some(expiry),
            value: None,
            text: Text::new(
                format!("the password expires in {days} days; change it"),
                format!("le mot de passe expire dans {days} jours ; changez-le"),
            ),
        });
    }
    if let Some(expiry) = certificate_expiry
        && expiry - now <= Duration::days(i64::from(settings.certificate_warning_days))
    {
        events.push(SecurityEvent {
            kind: SecurityEventKind::Certificate,
            name: None,
            error: false,
            ex_date: Some(expiry),
            value: None,
            text: Text::new(
                "the client certificate expires soon; renew it and record the new one with the registry",
                "le certificat client expire bientôt ; renouvelez-le et faites enregistrer le nouveau auprès du registre",
            ),
        });
    }
    if failures > 0 {
        events.push(SecurityEvent {
            kind: SecurityEventKind::Stat,
            name: Some("failedLogins"),
            error: false,
            ex_date: None,
            value: Some(failures.to_string()),
            text: Text::new(
                format!("{failures} failed logins with this clID since its last successful login"),
                format!(
                    "{failures} échecs de connexion avec ce clID depuis sa dernière connexion réussie"
                ),
            ),
        });
    }
    events
}

/// The end of a DER client certificate's validity, if it parses.
pub fn certificate_expiry(der: &[u8]) -> Option<Timestamp> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Utc.timestamp_opt(cert.validity().not_after.timestamp(), 0)
        .single()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LoginSettings {
        LoginSettings {
            password_max_age_days: 90,
            ..LoginSettings::default()
        }
    }

    #[test]
    fn new_password_rules() {
        let s = settings();
        assert!(check_new_password("demo1", "old-password", "a long passphrase", &s).is_ok());
        let short = check_new_password("demo1", "old-password", "short", &s).unwrap_err();
        assert_eq!(short.kind, SecurityEventKind::NewPassword);
        assert!(short.error);
        assert!(check_new_password("demo1", "old-password", "old-password", &s).is_err());
        assert!(check_new_password("demo1", "old-password", "my-DEMO1-password", &s).is_err());
    }

    #[test]
    fn warnings_come_inside_their_periods_only() {
        let s = settings();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(warnings(Some(now + Duration::days(31)), None, 0, &s, now).is_empty());
        let soon = warnings(Some(now + Duration::days(29)), None, 0, &s, now);
        assert_eq!(soon.len(), 1);
        assert_eq!(soon[0].kind, SecurityEventKind::Password);
        assert!(!soon[0].error);
        let cert = warnings(None, Some(now + Duration::days(3)), 2, &s, now);
        assert_eq!(cert.len(), 2);
        assert_eq!(cert[0].kind, SecurityEventKind::Certificate);
        assert_eq!(cert[1].value.as_deref(), Some("2"));
    }

    #[test]
    fn failures_reset_at_success() {
        let f = FailedLogins::default();
        f.failed("demo1");
        f.failed("demo1");
        assert_eq!(f.succeeded("demo1"), 2);
        assert_eq!(f.succeeded("demo1"), 0);
    }
}
