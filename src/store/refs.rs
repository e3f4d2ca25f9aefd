//! The `refs` tree's indexes: which domains use a contact or a host, with
//! the use counts (`link`, `unlink`, `count`), the sponsor index, the
//! waiting list (R20) derived from the objects, and the monthly create
//! counters (R21).

use super::change::Tx;
use super::kv::TxResult;
use super::{Store, StoreError, keys};
use crate::model::{Contact, Domain, Timestamp};

/// What waits for the registry (R20), as kept in the `refs` tree under
/// `W`: derived from an object's state by the store itself in the
/// transaction that changes the object, so it can never drift from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitingKind {
    /// A create in a restricted zone (R2).
    Create,
    /// A change of registrant (R13).
    Owner,
    /// A transfer rejection the registry may overrule (R12).
    Review,
    /// A contact's identity document to verify (R15).
    Identity,
}

impl WaitingKind {
    fn tag(self) -> u8 {
        match self {
            WaitingKind::Create => keys::WAITING_CREATE,
            WaitingKind::Owner => keys::WAITING_OWNER,
            WaitingKind::Review => keys::WAITING_REVIEW,
            WaitingKind::Identity => keys::WAITING_IDENTITY,
        }
    }

    fn from_tag(tag: u8) -> Option<Self> {
        Some(match tag {
            keys::WAITING_CREATE => WaitingKind::Create,
            keys::WAITING_OWNER => WaitingKind::Owner,
            keys::WAITING_REVIEW => WaitingKind::Review,
            keys::WAITING_IDENTITY => WaitingKind::Identity,
            _ => return None,
        })
    }

    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitingKind::Create => "create",
            WaitingKind::Owner => "owner",
            WaitingKind::Review => "transfer-review",
            WaitingKind::Identity => "identity",
        }
    }
}

/// One item waiting for the registry (R20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingItem {
    /// What waits.
    pub kind: WaitingKind,
    /// The domain name or contact id.
    pub name: String,
    /// The registrar concerned.
    pub registrar: String,
    /// Since when it waits.
    pub since: Timestamp,
    /// Until when the registry may act, when the charter bounds it (R12 review).
    pub until: Option<Timestamp>,
}

/// A key of the waiting index with its value.
pub(super) type IndexEntry = (Vec<u8>, Vec<u8>);

fn waiting_entry(
    kind: WaitingKind,
    name: &str,
    registrar: &str,
    since: Timestamp,
    until: Option<Timestamp>,
) -> IndexEntry {
    let key = keys::waiting(kind.tag(), name);
    let mut value = Vec::with_capacity(16 + registrar.len());
    value.extend_from_slice(&since.timestamp_millis().to_be_bytes());
    value.extend_from_slice(
        &until
            .map_or(i64::MIN, |u| u.timestamp_millis())
            .to_be_bytes(),
    );
    value.extend_from_slice(registrar.as_bytes());
    (key, value)
}

fn waiting_item(key: &[u8], value: &[u8]) -> Option<WaitingItem> {
    let (tag, name) = keys::waiting_parts(key)?;
    let kind = WaitingKind::from_tag(tag)?;
    let name = String::from_utf8(name.to_vec()).ok()?;
    let since = i64::from_be_bytes(value.get(..8)?.try_into().ok()?);
    let until = i64::from_be_bytes(value.get(8..16)?.try_into().ok()?);
    Some(WaitingItem {
        kind,
        name,
        registrar: String::from_utf8(value.get(16..)?.to_vec()).ok()?,
        since: chrono::DateTime::from_timestamp_millis(since)?,
        until: if until == i64::MIN {
            None
        } else {
            chrono::DateTime::from_timestamp_millis(until)
        },
    })
}

/// The waiting items a domain's state makes.
pub(super) fn domain_waiting(d: &Domain) -> Vec<IndexEntry> {
    let mut out = Vec::new();
    if d.statuses.contains(&crate::model::Status::PendingCreate) {
        out.push(waiting_entry(
            WaitingKind::Create,
            &d.name,
            &d.sponsor,
            d.created,
            None,
        ));
    }
    if let Some(p) = &d.pending_owner {
        out.push(waiting_entry(
            WaitingKind::Owner,
            &d.name,
            &d.sponsor,
            p.requested,
            None,
        ));
    }
    if let Some(t) = &d.transfer
        && t.status == crate::model::TransferStatus::ClientRejected
        && let Some(until) = t.review_until
    {
        out.push(waiting_entry(
            WaitingKind::Review,
            &d.name,
            &t.gaining,
            t.action_date,
            Some(until),
        ));
    }
    out
}

/// The waiting item a contact's state makes.
pub(super) fn contact_waiting(c: &Contact) -> Vec<IndexEntry> {
    match &c.identity {
        Some(id) if id.verification == crate::model::Verification::Submitted => {
            vec![waiting_entry(
                WaitingKind::Identity,
                &c.id,
                &c.sponsor,
                id.since,
                None,
            )]
        }
        _ => Vec::new(),
    }
}

/// Moves the waiting index from `old`'s entries to `new`'s.
pub(super) fn sync_index(refs: &Tx, old: &[IndexEntry], new: &[IndexEntry]) -> TxResult<()> {
    for (key, _) in old {
        if !new.iter().any(|(k, _)| k == key) {
            refs.remove(key.as_slice())?;
        }
    }
    for (key, value) in new {
        if !old.iter().any(|(k, v)| k == key && v == value) {
            refs.insert(key.as_slice(), value.as_slice())?;
        }
    }
    Ok(())
}

/// The key of a registrar's create counter for a month (R21).
pub(super) fn creates_key(registrar: &str, at: Timestamp) -> Vec<u8> {
    keys::creates(registrar, &at.format("%Y-%m").to_string())
}

/// Adds `delta` to an `i64` counter, never below zero.
pub(super) fn add_to_counter(refs: &Tx, key: &[u8], delta: i64) -> TxResult<()> {
    let n = refs
        .get(key)?
        .and_then(|v| v.as_ref().try_into().ok().map(i64::from_be_bytes))
        .unwrap_or(0);
    refs.insert(key, (n + delta).max(0).to_be_bytes())?;
    Ok(())
}

impl Store {
    /// The names after `prefix` in the keys of `refs` under it.
    pub(super) fn names_after(&self, prefix: Vec<u8>) -> Result<Vec<String>, StoreError> {
        self.engine()?
            .refs
            .scan_prefix(&prefix)
            .keys()
            .map(|k| {
                let k = k?;
                Ok(String::from_utf8_lossy(&k[prefix.len()..]).into_owned())
            })
            .collect()
    }

    /// Everything waiting for the registry (R20), read from its index.
    ///
    /// # Errors
    /// Storage failures.
    pub fn waiting(&self) -> Result<Vec<WaitingItem>, StoreError> {
        let mut items = Vec::new();
        for entry in self.engine()?.refs.scan_prefix([keys::WAITING]) {
            let (key, value) = entry?;
            if let Some(item) = waiting_item(&key, &value) {
                items.push(item);
            }
        }
        Ok(items)
    }

    /// The creates of `registrar` per month (`YYYY-MM`), from its counters
    /// (R21); a pending create the registry refused is not counted.
    ///
    /// # Errors
    /// Storage failures.
    pub fn creates_per_month(&self, registrar: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let prefix = keys::creates_of(registrar);
        let mut out = Vec::new();
        for entry in self.engine()?.refs.scan_prefix(&prefix) {
            let (key, value) = entry?;
            let month = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
            let n = value
                .as_ref()
                .try_into()
                .map(i64::from_be_bytes)
                .unwrap_or(0);
            out.push((month, u64::try_from(n).unwrap_or(0)));
        }
        Ok(out)
    }
}

/// The objects a domain uses: each use is listed under the object
/// (`C{contact}\0{domain}`, `H{host}\0{domain}`) and counted (`#c`, `#h`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Uses {
    /// A contact, in any role, or as a requested new registrant.
    Contact,
    /// A host the domain delegates to.
    Host,
}

impl Uses {
    /// The key that lists `domain` as a user of `id`.
    fn listing(self, id: &str, domain: &str) -> Vec<u8> {
        match self {
            Uses::Contact => keys::contact_use(id, domain),
            Uses::Host => keys::host_use(id, domain),
        }
    }

    /// The key of `id`'s use count.
    pub(super) fn counter(self, id: &str) -> Vec<u8> {
        match self {
            Uses::Contact => keys::use_count_contact(id),
            Uses::Host => keys::use_count_host(id),
        }
    }
}

/// How many domains use `id`, read inside the transaction.
pub(super) fn count(refs: &Tx, uses: Uses, id: &str) -> TxResult<u32> {
    Ok(refs
        .get(uses.counter(id))?
        .and_then(|v| <[u8; 4]>::try_from(v.as_ref()).ok())
        .map(u32::from_be_bytes)
        .unwrap_or(0))
}

fn set_count(refs: &Tx, uses: Uses, id: &str, n: u32) -> TxResult<()> {
    if n == 0 {
        refs.remove(uses.counter(id))?;
    } else {
        refs.insert(uses.counter(id), n.to_be_bytes())?;
    }
    Ok(())
}

/// Records that `domain` uses object `id`: the listing key and the use count.
pub(super) fn link(refs: &Tx, uses: Uses, id: &str, domain: &str) -> TxResult<()> {
    refs.insert(uses.listing(id, domain), [])?;
    let n = count(refs, uses, id)?;
    set_count(refs, uses, id, n + 1)
}

/// Records that `domain` no longer uses object `id`.
pub(super) fn unlink(refs: &Tx, uses: Uses, id: &str, domain: &str) -> TxResult<()> {
    refs.remove(uses.listing(id, domain))?;
    let n = count(refs, uses, id)?;
    set_count(refs, uses, id, n.saturating_sub(1))
}
