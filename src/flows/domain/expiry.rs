//! The registry's own transitions of a domain, driven by the life-cycle
//! agenda: the R22 expiry notice, the R10 tacit renewal when the R9 grace
//! ends, and the R11 purge when the redemption ends. Each is one
//! transaction with its poll message, and checks the domain still is in the
//! state the agenda entry was made for, so a repeated run changes nothing.

use crate::error::EppError;
use crate::flows::common::{Attempt, commit_retrying};
use crate::model::{ChangeRecord, Domain, PollMessage, PollPayload, Text, Timestamp};
use crate::policy::lifecycle::{
    R9_GRACE_DAYS, expiry_agenda, r10_tacit_expiry, r11_in_redemption, r11_purge_at, r22_notice_due,
};
use crate::policy::registrars::r19_deleted_at_grace_end;
use crate::store::registry_audit;
use crate::store::{Conflict, DueEntry, Effects, Store};

/// What became of an agenda entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The transition happened.
    Done,
    /// The domain is no longer in that state; the entry is dropped.
    Stale,
    /// The transition cannot happen yet (e.g. a host still in use); try again later.
    Deferred,
}

/// Agenda instants are kept to the millisecond.
fn same_instant(a: Timestamp, b: Timestamp) -> bool {
    a.timestamp_millis() == b.timestamp_millis()
}

fn notice(
    store: &Store,
    domain: &Domain,
    now: Timestamp,
    text: Text,
    change: Option<ChangeRecord>,
) -> Result<PollMessage, EppError> {
    Ok(PollMessage {
        id: store.next_message_id()?,
        registrar: domain.sponsor.clone(),
        queued: now,
        text_en: text.en,
        text_fr: text.fr,
        payload: PollPayload::None,
        change,
    })
}

fn registry_change(store: &Store, operation: &str, now: Timestamp, reason: &str) -> ChangeRecord {
    ChangeRecord {
        operation: operation.to_owned(),
        op: None,
        date: now,
        sv_trid: store.next_sv_trid(),
        who: "ma-registry".to_owned(),
        reason: Some(reason.to_owned()),
    }
}

/// One attempt at replacing `old` by `new`.
fn commit(
    store: &Store,
    old: &Domain,
    new: &Domain,
    effects: &Effects,
) -> Result<Attempt<Applied>, EppError> {
    let attempt = Attempt::of(store.replace_domain_with(old, new, effects), EppError::from)?;
    Ok(attempt.map(|()| Applied::Done))
}

/// One attempt at deleting `old`: a subordinate host still delegated to
/// defers the transition.
fn delete(store: &Store, old: &Domain, effects: &Effects) -> Result<Attempt<Applied>, EppError> {
    match store.delete_domain_with(old, effects)? {
        Ok(()) => Ok(Attempt::Done(Applied::Done)),
        Err(Conflict::Changed) => Ok(Attempt::Retry),
        Err(Conflict::HostInUse(_)) => Ok(Attempt::Done(Applied::Deferred)),
        Err(other) => Err(other.into()),
    }
}

/// A transition that happened is made durable before it is reported.
async fn durable(store: &Store, applied: Applied) -> Result<Applied, EppError> {
    if applied == Applied::Done {
        store.durable().await?;
    }
    Ok(applied)
}

/// R22: 30 days before the expiry date, a poll message to the sponsor.
///
/// # Errors
/// Store failures.
pub async fn expiry_notice(
    store: &Store,
    entry: &DueEntry,
    now: Timestamp,
) -> Result<Applied, EppError> {
    let applied = commit_retrying(|| async move {
        let Some(old) = store.domain(&entry.name)? else {
            return Ok(Attempt::Done(Applied::Stale));
        };
        if !r22_notice_due(old.deleted.is_some(), old.expires, entry.at) {
            return Ok(Attempt::Done(Applied::Stale));
        }
        let date = old.expires.format("%Y-%m-%d");
        let text = Text::new(
            format!(
                "R22: {} expires on {date}; tell your client. Without renewal it is renewed tacitly for one year {R9_GRACE_DAYS} days after that date.",
                old.name
            ),
            format!(
                "R22 : {} expire le {date} ; prévenez votre client. Sans renouvellement, il sera renouvelé tacitement pour un an {R9_GRACE_DAYS} jours après cette date.",
                old.name
            ),
        );
        let effects = Effects {
            messages: vec![notice(store, &old, now, text, None)?],
            due_remove: vec![entry.clone()],
            ..Effects::audit(registry_audit(
                store,
                now,
                "ma-registry",
                "lifecycle:expiry-notice",
            ))
        };
        commit(store, &old, &old, &effects)
    })
    .await?;
    durable(store, applied).await
}

/// R10: the grace ended with neither renewal nor deletion: the registry
/// renews the domain for one year from its expiry date and tells the sponsor.
///
/// # Errors
/// Store failures.
pub async fn tacit_renewal(
    store: &Store,
    entry: &DueEntry,
    now: Timestamp,
    settings: &crate::config::Settings,
) -> Result<Applied, EppError> {
    let applied = commit_retrying(|| async move {
        let Some(old) = store.domain(&entry.name)? else {
            return Ok(Attempt::Done(Applied::Stale));
        };
        if old.deleted.is_some()
            || !same_instant(
                entry.at,
                old.expires + chrono::Duration::days(R9_GRACE_DAYS),
            )
        {
            return Ok(Attempt::Done(Applied::Stale));
        }
        let sponsor_state = store.registrar(&old.sponsor)?.map(|r| r.state);
        if r19_deleted_at_grace_end(sponsor_state) {
            // R19 / R10's exception: a terminated registrar's domain not moved
            // by its expiry is deleted instead of renewed.
            let text = Text::new(
                format!(
                    "R19: {} was deleted at the end of its grace: its registrar's accreditation ended.",
                    old.name
                ),
                format!(
                    "R19 : {} a été supprimé à la fin de sa période de grâce : l'accréditation de son prestataire a pris fin.",
                    old.name
                ),
            );
            let change = registry_change(store, "autoDelete", now, "R19: registrar terminated");
            let effects = Effects {
                messages: vec![notice(store, &old, now, text, Some(change))?],
                due_remove: vec![entry.clone()],
                ..Effects::audit(registry_audit(
                    store,
                    now,
                    "ma-registry",
                    "lifecycle:terminated-delete",
                ))
            };
            return delete(store, &old, &effects);
        }
        let expires = r10_tacit_expiry(old.expires)
            .ok_or_else(|| EppError::Internal("date out of range".into()))?;
        let mut new = old.clone();
        new.expires = expires;
        let date = expires.format("%Y-%m-%d");
        let text = Text::new(
            format!(
                "R10: {} was renewed tacitly for one year; it now expires on {date}.",
                old.name
            ),
            format!(
                "R10 : {} a été renouvelé tacitement pour un an ; il expire désormais le {date}.",
                old.name
            ),
        );
        let change = registry_change(store, "autoRenew", now, "R10: tacit renewal");
        let effects = Effects {
            messages: vec![notice(store, &new, now, text, Some(change))?],
            due_add: expiry_agenda(&new.name, expires),
            due_remove: vec![entry.clone()],
            audit: registry_audit(store, now, "ma-registry", "lifecycle:tacit-renewal"),
            // R10: billed even if the balance goes below zero.
            charge: crate::flows::common::charge(
                settings,
                &old.sponsor,
                crate::flows::common::zone_of(settings, &old.name),
                crate::config::Billable::Renew,
                1,
                format!("tacit renewal {} 1y", old.name),
                true,
            ),
        };
        commit(store, &old, &new, &effects)
    })
    .await?;
    durable(store, applied).await
}

/// R11: the redemption ended without restore: the name is purged, free for
/// anyone, and the former sponsor is told.
///
/// # Errors
/// Store failures.
pub async fn purge(store: &Store, entry: &DueEntry, now: Timestamp) -> Result<Applied, EppError> {
    let applied = commit_retrying(|| async move {
        let Some(old) = store.domain(&entry.name)? else {
            return Ok(Attempt::Done(Applied::Stale));
        };
        let due = old.deleted.map(r11_purge_at);
        if !r11_in_redemption(&old) || !due.is_some_and(|d| same_instant(d, entry.at)) {
            return Ok(Attempt::Done(Applied::Stale));
        }
        let text = Text::new(
            format!(
                "R11: {} was purged at the end of its redemption period; the name is free.",
                old.name
            ),
            format!(
                "R11 : {} a été supprimé à la fin de sa période de rédemption ; le nom est libre.",
                old.name
            ),
        );
        let change = registry_change(store, "autoPurge", now, "R11: redemption ended");
        let effects = Effects {
            messages: vec![notice(store, &old, now, text, Some(change))?],
            due_remove: vec![entry.clone()],
            ..Effects::audit(registry_audit(store, now, "ma-registry", "lifecycle:purge"))
        };
        match store.delete_domain_with(&old, &effects)? {
            Ok(()) => Ok(Attempt::Done(Applied::Done)),
            Err(Conflict::Changed) => Ok(Attempt::Retry),
            Err(Conflict::HostInUse(host)) => {
                tracing::warn!(domain = %old.name, %host, "purge deferred: a subordinate host is still delegated to");
                Ok(Attempt::Done(Applied::Deferred))
            }
            Err(other) => Err(other.into()),
        }
    })
    .await?;
    durable(store, applied).await
}
