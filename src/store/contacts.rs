//! The `contacts` tree: reads, and the atomic create, replace and delete of
//! a contact with its waiting-list entry, messages, agenda and history.

use super::change::{Tx, abort};
use super::history::json_snapshot;
use super::kv::TxResult;
use super::ledger::LedgerWrite;
use super::poll::{encoded_messages, queue};
use super::refs::{Uses, contact_waiting, count, sync_index};
use super::{ChangeResult, Conflict, Effects, Store, StoreError, codec, keys, kv};
use crate::model::{Audit, Contact};

impl Store {
    /// Every contact, by id, read as the iteration reaches it.
    pub fn all_contacts(&self) -> impl Iterator<Item = Result<Contact, StoreError>> + '_ {
        self.records(|engine| &engine.contacts, "contacts")
    }

    /// A contact by id.
    ///
    /// # Errors
    /// Storage or decoding errors.
    pub fn contact(&self, id: &str) -> Result<Option<Contact>, StoreError> {
        codec::get(&self.engine()?.contacts, "contacts", id.as_bytes())
    }

    /// Whether a contact exists.
    ///
    /// # Errors
    /// Storage errors.
    pub fn contact_exists(&self, id: &str) -> Result<bool, StoreError> {
        self.engine()?.contacts.contains_key(id.as_bytes())
    }

    /// Whether any domain uses this contact.
    ///
    /// # Errors
    /// Storage errors.
    pub fn contact_linked(&self, id: &str) -> Result<bool, StoreError> {
        self.engine()?
            .refs
            .contains_key(keys::use_count_contact(id))
    }

    /// The domains that use a contact (any role), by name.
    ///
    /// # Errors
    /// Storage errors.
    pub fn domains_using_contact(&self, id: &str) -> Result<Vec<String>, StoreError> {
        self.names_after(keys::contact_uses(id))
    }

    /// Creates a contact if the id is free.
    ///
    /// # Errors
    /// Storage errors; conflicts are the inner `Err`.
    pub fn create_contact(&self, c: &Contact, audit: &Audit) -> ChangeResult {
        let _write = self.write_gate()?;
        let value = codec::encode(c)?;
        let hw = self.history_write(audit, "contact", &c.id, contact_snapshot(c))?;
        let i = self.engine()?;
        let result = kv::transaction(
            [&i.contacts, &i.refs, &i.history],
            |[contacts, refs, history]| {
                insert_new_contact(contacts, refs, c, &value)?;
                hw.apply(history)?;
                Ok(())
            },
        );
        self.settle(result)
    }

    /// Replaces a contact that is still `old`.
    ///
    /// # Errors
    /// Storage errors; conflicts are the inner `Err`.
    pub fn replace_contact(&self, old: &Contact, new: &Contact, audit: &Audit) -> ChangeResult {
        self.replace_contact_with(old, new, &Effects::audit(audit.clone()))
    }

    /// Replaces a contact that is still `old` (same id), with its poll
    /// messages, agenda changes, charge and history in the same transaction.
    /// The domains that use the contact are not touched.
    ///
    /// # Errors
    /// Storage errors; conflicts are the inner `Err`.
    pub fn replace_contact_with(
        &self,
        old: &Contact,
        new: &Contact,
        effects: &Effects,
    ) -> ChangeResult {
        let _write = self.write_gate()?;
        let old_value = codec::encode(old)?;
        let new_value = codec::encode(new)?;
        let messages = encoded_messages(&effects.messages)?;
        let hw = self.history_write(&effects.audit, "contact", &new.id, contact_snapshot(new))?;
        let (old_waiting, new_waiting) = (contact_waiting(old), contact_waiting(new));
        let lw = effects
            .charge
            .as_ref()
            .map(|c| LedgerWrite::prepare(self, c, &effects.audit))
            .transpose()?;
        let i = self.engine()?;
        let trees = [&i.contacts, &i.refs, &i.poll, &i.due, &i.history, &i.ledger];
        let result = kv::transaction(trees, |[contacts, refs, poll, due, history, ledger]| {
            if contacts.get(old.id.as_bytes())?.as_deref() != Some(old_value.as_slice()) {
                return abort(Conflict::Changed);
            }
            sync_index(refs, &old_waiting, &new_waiting)?;
            if let Some(lw) = &lw {
                lw.apply(ledger)?;
            }
            for (key, value) in &messages {
                queue(poll, key, value)?;
            }
            for entry in &effects.due_remove {
                due.remove(entry.key())?;
            }
            for entry in &effects.due_add {
                due.insert(entry.key(), [])?;
            }
            contacts.insert(new.id.as_bytes(), new_value.as_slice())?;
            hw.apply(history)?;
            Ok(())
        });
        self.settle(result)
    }

    /// Deletes a contact that is still `old` and used by no domain.
    ///
    /// # Errors
    /// Storage errors; conflicts are the inner `Err`.
    pub fn delete_contact(&self, old: &Contact, audit: &Audit) -> ChangeResult {
        let _write = self.write_gate()?;
        let old_value = codec::encode(old)?;
        let old_waiting = contact_waiting(old);
        let hw = self.history_write(audit, "contact", &old.id, None)?;
        let i = self.engine()?;
        let result = kv::transaction(
            [&i.contacts, &i.refs, &i.history],
            |[contacts, refs, history]| {
                hw.apply(history)?;
                if contacts.get(old.id.as_bytes())?.as_deref() != Some(old_value.as_slice()) {
                    return abort(Conflict::Changed);
                }
                if count(refs, Uses::Contact, &old.id)? > 0 {
                    return abort(Conflict::Linked);
                }
                sync_index(refs, &old_waiting, &[])?;
                contacts.remove(old.id.as_bytes())?;
                Ok(())
            },
        );
        self.settle(result)
    }
}

/// Inserts a contact whose id must be free.
pub(super) fn insert_new_contact(
    contacts: &Tx,
    refs: &Tx,
    c: &Contact,
    value: &[u8],
) -> TxResult<()> {
    if contacts.get(c.id.as_bytes())?.is_some() {
        return abort(Conflict::Exists);
    }
    sync_index(refs, &[], &contact_waiting(c))?;
    contacts.insert(c.id.as_bytes(), value)?;
    Ok(())
}

/// A contact as its history keeps it: without its authInfo hash.
pub(super) fn contact_snapshot(c: &Contact) -> Option<String> {
    let mut copy = c.clone();
    copy.auth = None;
    json_snapshot(&copy)
}
