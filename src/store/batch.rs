//! Bulk creation (an import): objects prepared outside any transaction,
//! then created many at a time, each with the indexes, history and agenda
//! of its single create.

use super::contacts::{contact_snapshot, insert_new_contact};
use super::domains::{domain_snapshot, insert_new_domain};
use super::history::{HistoryWrite, json_snapshot};
use super::hosts::insert_new_host;
use super::kv::{TxError, TxFailure};
use super::{Conflict, Effects, Store, StoreError, codec, kv};
use crate::model::{Contact, Domain, Host};

/// An object [`Store::commit_many`] creates, with its history and agenda.
#[derive(Debug, Clone)]
pub struct NewObject {
    /// The object.
    pub object: Created,
    /// Its audit (history) and agenda entries; messages and charges are
    /// not applied by a bulk create.
    pub effects: Effects,
}

/// Objects encoded by [`Store::prepare_many`], ready to be created.
pub struct PreparedBatch {
    objects: Vec<NewObject>,
    encoded: Vec<(Vec<u8>, HistoryWrite)>,
}

impl PreparedBatch {
    /// The objects, in creation order.
    pub fn objects(&self) -> &[NewObject] {
        &self.objects
    }
}

/// A new object of [`NewObject`].
#[derive(Debug, Clone)]
pub enum Created {
    /// A contact.
    Contact(Contact),
    /// A host.
    Host(Host),
    /// A domain.
    Domain(Domain),
}

impl Store {
    /// Encodes objects for [`Self::commit_many`], with their history
    /// records, outside any transaction.
    ///
    /// # Errors
    /// sled or encoding errors.
    pub fn prepare_many(&self, objects: Vec<NewObject>) -> Result<PreparedBatch, StoreError> {
        let encoded = objects
            .iter()
            .map(|o| {
                let audit = &o.effects.audit;
                Ok(match &o.object {
                    Created::Contact(c) => (
                        codec::encode(c)?,
                        self.history_write(audit, "contact", &c.id, contact_snapshot(c))?,
                    ),
                    Created::Host(h) => (
                        codec::encode(h)?,
                        self.history_write(audit, "host", &h.name, json_snapshot(h))?,
                    ),
                    Created::Domain(d) => (
                        codec::encode(d)?,
                        self.history_write(audit, "domain", &d.name, domain_snapshot(d))?,
                    ),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(PreparedBatch { objects, encoded })
    }

    /// Creates the objects `range` of a prepared batch, in order, in one
    /// transaction (a bulk import): each with the indexes, history and
    /// agenda entries its single create writes, so the store's invariants
    /// are those of one create after another; a host may name a domain
    /// created earlier in the same batch as superordinate. On a conflict
    /// nothing is written, and the inner `Err` gives the index of the
    /// object that conflicted.
    ///
    /// # Errors
    /// Storage errors.
    pub fn commit_many(
        &self,
        batch: &PreparedBatch,
        range: std::ops::Range<usize>,
    ) -> Result<Result<(), (usize, Conflict)>, StoreError> {
        let _write = self.write_gate()?;
        let objects = batch.objects.get(range.clone()).unwrap_or_default();
        let encoded = batch.encoded.get(range.clone()).unwrap_or_default();
        let i = self.engine()?;
        let trees = [
            &i.domains,
            &i.contacts,
            &i.hosts,
            &i.refs,
            &i.due,
            &i.history,
        ];
        let result = kv::transaction(trees, |[domains, contacts, hosts, refs, due, history]| {
            for (n, (o, (value, hw))) in objects.iter().zip(encoded).enumerate() {
                let created = match &o.object {
                    Created::Contact(c) => insert_new_contact(contacts, refs, c, value),
                    Created::Host(h) => insert_new_host(hosts, domains, h, value),
                    Created::Domain(d) => {
                        insert_new_domain(domains, contacts, hosts, refs, d, value)
                    }
                };
                created.map_err(|e| at_index(range.start + n, e))?;
                hw.apply(history)?;
                for entry in &o.effects.due_add {
                    due.insert(entry.key(), [])?;
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(Ok(())),
            Err(TxFailure::AbortAt(n, conflict)) => Ok(Err((n, conflict))),
            Err(TxFailure::Abort(conflict)) => Ok(Err((range.start, conflict))),
            Err(TxFailure::Store(e)) => Err(e),
            Err(TxFailure::Sled(e)) => Err(self.storage_failed(e)),
        }
    }
}

/// A refusal inside a batch, with the index of the object it concerns.
fn at_index(n: usize, e: TxError) -> TxError {
    match e {
        TxError::Abort(c) => TxError::AbortAt(n, c),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::{audit, contact, domain, host};

    fn new(object: Created) -> NewObject {
        NewObject {
            object,
            effects: Effects::audit(audit()),
        }
    }

    #[test]
    fn a_batch_keeps_the_indexes_of_single_creates_and_is_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let batch = store
            .prepare_many(vec![
                new(Created::Contact(contact("c-1"))),
                new(Created::Host(host("ns.example.net", None))),
                new(Created::Domain(domain("a.ma", "c-1", &["ns.example.net"]))),
                new(Created::Host(host("ns1.a.ma", Some("a.ma")))),
            ])
            .unwrap();
        assert_eq!(store.commit_many(&batch, 0..4).unwrap(), Ok(()));
        assert!(store.contact_linked("c-1").unwrap());
        assert_eq!(store.host_use_count("ns.example.net").unwrap(), 1);
        assert_eq!(store.domains_of("reg1").unwrap(), vec!["a.ma".to_owned()]);
        let a = store.domain("a.ma").unwrap().unwrap();
        assert_eq!(a.subordinate_hosts, vec!["ns1.a.ma".to_owned()]);
        assert_eq!(store.history("domain", "a.ma").unwrap().len(), 1);
        let again = store
            .prepare_many(vec![
                new(Created::Contact(contact("c-2"))),
                new(Created::Domain(domain("a.ma", "c-2", &[]))),
            ])
            .unwrap();
        assert_eq!(
            store.commit_many(&again, 0..2).unwrap(),
            Err((1, Conflict::Exists))
        );
        assert!(!store.contact_exists("c-2").unwrap(), "nothing was written");
        assert_eq!(store.commit_many(&again, 0..1).unwrap(), Ok(()));
        assert_eq!(store.all_domains().count(), 1);
        assert_eq!(store.all_contacts().count(), 2);
        assert_eq!(store.all_hosts().count(), 2);
    }
}
