//! The sled store: every tree, key layout and index, the record encoding,
//! the format version, and durable commits (group commit). Knows no XML and
//! no charter rule: flows decide, the store applies a decision atomically.
//!
//! Trees:
//! - `meta`: `format_version` (u32 BE), `boot` (u64 BE, one per process start).
//! - `registrars`: clID → [`Registrar`].
//! - `domains`: name → [`Domain`]; `contacts`: id → [`Contact`]; `hosts`: name → [`Host`].
//! - `refs`: the indexes, values empty, so nothing is ever found by a scan:
//!   `C{contact}\0{domain}` contact used by domain; `H{host}\0{domain}` host
//!   delegated from domain; `S{domain}\0{host}` host subordinate to domain;
//!   `R{registrar}\0{domain}` domain sponsored by registrar.

mod codec;
mod commit;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::model::{Contact, Domain, Host, Registrar};
pub use codec::Record;
use commit::GroupCommit;

/// The store format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled reported an error.
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    /// A record could not be decoded.
    #[error("corrupt record in {tree}: {detail}")]
    Corrupt {
        /// The tree.
        tree: &'static str,
        /// What failed.
        detail: String,
    },
    /// The store was written by another format version.
    #[error(
        "the store at {path} has format version {found}, this build reads version {expected}; migrate it or use the matching ma-registry"
    )]
    Version {
        /// The store's path.
        path: String,
        /// The version recorded in the store.
        found: u32,
        /// The version of this build.
        expected: u32,
    },
    /// The directory holds a sled database that is not a registry store.
    #[error("{0} holds data that is not an ma-registry store")]
    Foreign(String),
    /// The disk flush failed, so durability cannot be promised.
    #[error("flush to disk failed: {0}")]
    Flush(String),
}

/// Why an atomic create did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateConflict {
    /// The object exists already.
    Exists,
    /// A referenced contact does not exist.
    MissingContact(String),
    /// A referenced host does not exist.
    MissingHost(String),
    /// The superordinate domain of a host does not exist.
    MissingSuperordinate(String),
    /// The superordinate domain is sponsored by another registrar.
    ForeignSuperordinate(String),
}

/// The outcome of an atomic create.
pub type CreateResult = Result<Result<(), CreateConflict>, StoreError>;

/// The registry's store: a cheap-to-clone handle.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: sled::Db,
    meta: sled::Tree,
    registrars: sled::Tree,
    domains: sled::Tree,
    contacts: sled::Tree,
    hosts: sled::Tree,
    refs: sled::Tree,
    boot: u64,
    sv_seq: AtomicU64,
    commit: GroupCommit,
}

fn key2(tag: u8, a: &str, b: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + a.len() + b.len());
    k.push(tag);
    k.extend_from_slice(a.as_bytes());
    k.push(0);
    k.extend_from_slice(b.as_bytes());
    k
}

fn prefix1(tag: u8, a: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + a.len());
    k.push(tag);
    k.extend_from_slice(a.as_bytes());
    k.push(0);
    k
}

impl Store {
    /// Opens (or creates) the store in `path`, checking its format version.
    ///
    /// # Errors
    /// sled errors, a foreign database, or another format version.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .open()?;
        let meta = db.open_tree("meta")?;
        match meta.get("format_version")? {
            Some(v) => {
                let found = <[u8; 4]>::try_from(v.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| StoreError::Foreign(path.display().to_string()))?;
                if found != FORMAT_VERSION {
                    return Err(StoreError::Version {
                        path: path.display().to_string(),
                        found,
                        expected: FORMAT_VERSION,
                    });
                }
            }
            None => {
                let foreign = db.tree_names().iter().any(|n| {
                    n.as_ref() != b"__sled__default" && n.as_ref() != b"meta"
                }) || !db.is_empty();
                if foreign {
                    return Err(StoreError::Foreign(path.display().to_string()));
                }
                meta.insert("format_version", &FORMAT_VERSION.to_be_bytes())?;
            }
        }
        let boot = meta
            .update_and_fetch("boot", |old| {
                let n = old
                    .and_then(|o| <[u8; 8]>::try_from(o).ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0);
                Some((n + 1).to_be_bytes().to_vec())
            })?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(1);
        db.flush()?;
        Ok(Self {
            inner: Arc::new(Inner {
                registrars: db.open_tree("registrars")?,
                domains: db.open_tree("domains")?,
                contacts: db.open_tree("contacts")?,
                hosts: db.open_tree("hosts")?,
                refs: db.open_tree("refs")?,
                commit: GroupCommit::new(db.clone()),
                meta,
                db,
                boot,
                sv_seq: AtomicU64::new(0),
            }),
        })
    }

    /// A new server transaction id, unique forever: the process's boot number
    /// (persisted) and a sequence within it.
    pub fn next_sv_trid(&self) -> String {
        let seq = self.inner.sv_seq.fetch_add(1, Ordering::Relaxed) + 1;
        format!("MA-{}-{seq}", self.inner.boot)
    }

    /// A new repository object id with the given suffix, e.g. `D12-MA`.
    ///
    /// # Errors
    /// sled errors.
    pub fn next_roid(&self, kind: char) -> Result<String, StoreError> {
        let id = self.inner.db.generate_id()?;
        Ok(format!("{kind}{id}-MA"))
    }

    /// Waits until everything written before this call is on disk. Concurrent
    /// callers share one flush (group commit).
    ///
    /// # Errors
    /// [`StoreError::Flush`] when the disk flush failed.
    pub async fn durable(&self) -> Result<(), StoreError> {
        self.inner.commit.durable().await
    }

    /// Flushes synchronously (for the offline admin CLI).
    ///
    /// # Errors
    /// sled errors.
    pub fn flush_now(&self) -> Result<(), StoreError> {
        self.inner.db.flush()?;
        Ok(())
    }

    // ----- registrars -----

    /// A registrar by clID.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn registrar(&self, id: &str) -> Result<Option<Registrar>, StoreError> {
        codec::get(&self.inner.registrars, "registrars", id.as_bytes())
    }

    /// Writes a registrar.
    ///
    /// # Errors
    /// sled errors.
    pub fn put_registrar(&self, r: &Registrar) -> Result<(), StoreError> {
        self.inner
            .registrars
            .insert(r.id.as_bytes(), codec::encode(r)?)?;
        Ok(())
    }

    /// Every registrar, by clID.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn registrars(&self) -> Result<Vec<Registrar>, StoreError> {
        self.inner
            .registrars
            .iter()
            .values()
            .map(|v| codec::decode("registrars", &v?))
            .collect()
    }

    // ----- reads -----

    /// A domain by its stored name.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn domain(&self, name: &str) -> Result<Option<Domain>, StoreError> {
        codec::get(&self.inner.domains, "domains", name.as_bytes())
    }

    /// Whether a domain exists.
    ///
    /// # Errors
    /// sled errors.
    pub fn domain_exists(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.inner.domains.contains_key(name.as_bytes())?)
    }

    /// A contact by id.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn contact(&self, id: &str) -> Result<Option<Contact>, StoreError> {
        codec::get(&self.inner.contacts, "contacts", id.as_bytes())
    }

    /// Whether a contact exists.
    ///
    /// # Errors
    /// sled errors.
    pub fn contact_exists(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.inner.contacts.contains_key(id.as_bytes())?)
    }

    /// A host by name.
    ///
    /// # Errors
    /// sled or decoding errors.
    pub fn host(&self, name: &str) -> Result<Option<Host>, StoreError> {
        codec::get(&self.inner.hosts, "hosts", name.as_bytes())
    }

    /// Whether a host exists.
    ///
    /// # Errors
    /// sled errors.
    pub fn host_exists(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.inner.hosts.contains_key(name.as_bytes())?)
    }

    /// Whether any domain uses this contact.
    ///
    /// # Errors
    /// sled errors.
    pub fn contact_linked(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .inner
            .refs
            .scan_prefix(prefix1(b'C', id))
            .next()
            .transpose()?
            .is_some())
    }

    /// Whether any domain delegates to this host.
    ///
    /// # Errors
    /// sled errors.
    pub fn host_linked(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .inner
            .refs
            .scan_prefix(prefix1(b'H', name))
            .next()
            .transpose()?
            .is_some())
    }

    /// The hosts subordinate to a domain, by name.
    ///
    /// # Errors
    /// sled errors.
    pub fn subordinate_hosts(&self, domain: &str) -> Result<Vec<String>, StoreError> {
        let prefix = prefix1(b'S', domain);
        self.inner
            .refs
            .scan_prefix(&prefix)
            .keys()
            .map(|k| {
                let k = k?;
                Ok(String::from_utf8_lossy(&k[prefix.len()..]).into_owned())
            })
            .collect()
    }

    // ----- atomic creates -----

    /// Creates a domain if the name is free and every contact and host it
    /// names exists, with its indexes, in one transaction (R6: of concurrent
    /// creates exactly one succeeds).
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn create_domain(&self, d: &Domain) -> CreateResult {
        let value = codec::encode(d)?;
        let i = &self.inner;
        let result = (&i.domains, &i.contacts, &i.hosts, &i.refs).transaction(
            |(domains, contacts, hosts, refs)| {
                if domains.get(d.name.as_bytes())?.is_some() {
                    return Err(ConflictableTransactionError::Abort(CreateConflict::Exists));
                }
                let ids = std::iter::once(&d.registrant).chain(d.contacts.iter().map(|c| &c.id));
                for id in ids {
                    if contacts.get(id.as_bytes())?.is_none() {
                        return Err(ConflictableTransactionError::Abort(
                            CreateConflict::MissingContact(id.clone()),
                        ));
                    }
                    refs.insert(key2(b'C', id, &d.name), &[])?;
                }
                for ns in &d.nameservers {
                    if hosts.get(ns.as_bytes())?.is_none() {
                        return Err(ConflictableTransactionError::Abort(
                            CreateConflict::MissingHost(ns.clone()),
                        ));
                    }
                    refs.insert(key2(b'H', ns, &d.name), &[])?;
                }
                refs.insert(key2(b'R', &d.sponsor, &d.name), &[])?;
                domains.insert(d.name.as_bytes(), value.as_slice())?;
                Ok(())
            },
        );
        flatten(result)
    }

    /// Creates a contact if the id is free.
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn create_contact(&self, c: &Contact) -> CreateResult {
        let value = codec::encode(c)?;
        let swapped = self.inner.contacts.compare_and_swap(
            c.id.as_bytes(),
            None as Option<&[u8]>,
            Some(value),
        )?;
        Ok(swapped.map_err(|_| CreateConflict::Exists))
    }

    /// Creates a host if the name is free and, for a host in a registry zone,
    /// its superordinate domain exists and is sponsored by the same registrar.
    ///
    /// # Errors
    /// sled errors; conflicts are the inner `Err`.
    pub fn create_host(&self, h: &Host) -> CreateResult {
        let value = codec::encode(h)?;
        let i = &self.inner;
        let result = (&i.hosts, &i.domains, &i.refs).transaction(|(hosts, domains, refs)| {
            if hosts.get(h.name.as_bytes())?.is_some() {
                return Err(ConflictableTransactionError::Abort(CreateConflict::Exists));
            }
            if let Some(sup) = &h.superordinate {
                let Some(raw) = domains.get(sup.as_bytes())? else {
                    return Err(ConflictableTransactionError::Abort(
                        CreateConflict::MissingSuperordinate(sup.clone()),
                    ));
                };
                let domain: Domain = codec::decode("domains", &raw).map_err(|e| {
                    ConflictableTransactionError::Storage(sled::Error::Unsupported(e.to_string()))
                })?;
                if domain.sponsor != h.sponsor {
                    return Err(ConflictableTransactionError::Abort(
                        CreateConflict::ForeignSuperordinate(sup.clone()),
                    ));
                }
                refs.insert(key2(b'S', sup, &h.name), &[])?;
            }
            hosts.insert(h.name.as_bytes(), value.as_slice())?;
            Ok(())
        });
        flatten(result)
    }
}

fn flatten(result: Result<(), TransactionError<CreateConflict>>) -> CreateResult {
    match result {
        Ok(()) => Ok(Ok(())),
        Err(TransactionError::Abort(conflict)) => Ok(Err(conflict)),
        Err(TransactionError::Storage(e)) => Err(StoreError::Sled(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_version_is_recorded_and_another_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            assert_eq!(store.next_sv_trid(), "MA-1-1");
            store.inner.meta.insert("format_version", &99u32.to_be_bytes()).unwrap();
            store.flush_now().unwrap();
        }
        match Store::open(dir.path(), 1 << 20) {
            Err(StoreError::Version { found: 99, .. }) => {}
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("a store of another version was opened"),
        }
    }

    #[test]
    fn sv_trids_are_never_reused_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = Store::open(dir.path(), 1 << 20).unwrap().next_sv_trid();
        let second = Store::open(dir.path(), 1 << 20).unwrap().next_sv_trid();
        assert_ne!(first, second);
    }
}
