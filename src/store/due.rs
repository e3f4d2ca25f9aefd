//! The `due` tree: the life-cycle's agenda, so that a sweep reads only what
//! is due.

use super::{Store, StoreError, keys};
use crate::model::Timestamp;

/// What the life-cycle engine must do at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueKind {
    /// Approve a pending domain transfer whose `acDate` has come (R12).
    TransferAutoApprove,
    /// Approve a pending contact transfer whose `acDate` has come (RFC 5733 §3.2.4).
    ContactTransferAutoApprove,
    /// Tell the sponsor the domain expires in 30 days (R22).
    ExpiryNotice,
    /// The renewal grace ends: renew tacitly (R10).
    GraceEnd,
    /// The redemption ends: purge (R11).
    Purge,
    /// The registrant's identity must be verified by now (R15).
    IdentityDeadline,
    /// An incomplete restricted-zone request lapses unless completed (R2).
    CreateLapse,
}

impl DueKind {
    fn tag(self) -> u8 {
        match self {
            DueKind::TransferAutoApprove => keys::DUE_TRANSFER_AUTO_APPROVE,
            DueKind::ContactTransferAutoApprove => keys::DUE_CONTACT_TRANSFER_AUTO_APPROVE,
            DueKind::ExpiryNotice => keys::DUE_EXPIRY_NOTICE,
            DueKind::GraceEnd => keys::DUE_GRACE_END,
            DueKind::Purge => keys::DUE_PURGE,
            DueKind::IdentityDeadline => keys::DUE_IDENTITY_DEADLINE,
            DueKind::CreateLapse => keys::DUE_CREATE_LAPSE,
        }
    }

    fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            keys::DUE_TRANSFER_AUTO_APPROVE => Some(DueKind::TransferAutoApprove),
            keys::DUE_CONTACT_TRANSFER_AUTO_APPROVE => Some(DueKind::ContactTransferAutoApprove),
            keys::DUE_EXPIRY_NOTICE => Some(DueKind::ExpiryNotice),
            keys::DUE_GRACE_END => Some(DueKind::GraceEnd),
            keys::DUE_PURGE => Some(DueKind::Purge),
            keys::DUE_IDENTITY_DEADLINE => Some(DueKind::IdentityDeadline),
            keys::DUE_CREATE_LAPSE => Some(DueKind::CreateLapse),
            _ => None,
        }
    }
}

/// One entry of the life-cycle agenda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueEntry {
    /// When.
    pub at: Timestamp,
    /// What.
    pub kind: DueKind,
    /// On which object.
    pub name: String,
}

impl DueEntry {
    /// Its key in the `due` tree.
    pub(super) fn key(&self) -> Vec<u8> {
        let ms = u64::try_from(self.at.timestamp_millis()).unwrap_or(0);
        keys::due(ms, self.kind.tag(), &self.name)
    }

    fn from_key(k: &[u8]) -> Option<Self> {
        let (ms, tag, name) = keys::due_parts(k)?;
        let kind = DueKind::from_tag(tag)?;
        let name = String::from_utf8(name.to_vec()).ok()?;
        let at = chrono::DateTime::from_timestamp_millis(i64::try_from(ms).ok()?)?;
        Some(Self { at, kind, name })
    }
}

impl Store {
    /// Agenda entries due at or before `now`, oldest first.
    ///
    /// # Errors
    /// Storage errors.
    pub fn due_until(&self, now: Timestamp) -> Result<Vec<DueEntry>, StoreError> {
        let end = u64::try_from(now.timestamp_millis())
            .unwrap_or(0)
            .saturating_add(1);
        self.engine()?
            .due
            .range_below(keys::due_before(end))
            .keys()
            .filter_map(|k| match k {
                Ok(k) => DueEntry::from_key(&k).map(Ok),
                Err(e) => Some(Err(e)),
            })
            .collect()
    }

    /// Removes an agenda entry that no longer applies.
    ///
    /// # Errors
    /// Storage errors.
    pub fn remove_due(&self, entry: &DueEntry) -> Result<(), StoreError> {
        let _write = self.write_gate()?;
        self.engine()?.due.remove(entry.key())?;
        Ok(())
    }
}
