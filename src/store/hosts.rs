//! The `hosts` tree: reads, and the atomic create, replace (a rename
//! rewrites the domains that delegate to the host) and delete of a host.

use super::change::{Tx, abort, decode_in_tx, encode_in_tx};
use super::history::json_snapshot;
use super::kv::TxResult;
use super::poll::{encoded_messages, queue};
use super::refs::{Uses, count};
use super::{ChangeResult, Conflict, Store, StoreError, codec, keys, kv};
use crate::model::{Audit, Domain, Host, PollMessage};

impl Store {
    /// Every host, by name, read as the iteration reaches it.
    pub fn all_hosts(&self) -> impl Iterator<Item = Result<Host, StoreError>> + '_ {
        self.records(|engine| &engine.hosts, "hosts")
    }

    /// A host by name.
    ///
    /// # Errors
    /// Storage or decoding errors.
    pub fn host(&self, name: &str) -> Result<Option<Host>, StoreError> {
        codec::get(&self.engine()?.hosts, "hosts", name.as_bytes())
    }

    /// Whether a host exists.
    ///
    /// # Errors
    /// Storage errors.
    pub fn host_exists(&self, name: &str) -> Result<bool, StoreError> {
        self.engine()?.hosts.contains_key(name.as_bytes())
    }

    /// How many domains delegate to this host.
    ///
    /// # Errors
    /// Storage errors.
    pub fn host_use_count(&self, name: &str) -> Result<u32, StoreError> {
        Ok(self
            .engine()?
            .refs
            .get(keys::use_count_host(name))?
            .and_then(|v| <[u8; 4]>::try_from(v.as_ref()).ok())
            .map(u32::from_be_bytes)
            .unwrap_or(0))
    }

    /// Whether any domain delegates to this host.
    ///
    /// # Errors
    /// Storage errors.
    pub fn host_linked(&self, name: &str) -> Result<bool, StoreError> {
        self.engine()?.refs.contains_key(keys::use_count_host(name))
    }

    /// The domains that delegate to a host, by name.
    ///
    /// # Errors
    /// Storage errors.
    pub fn domains_using_host(&self, name: &str) -> Result<Vec<String>, StoreError> {
        self.names_after(keys::host_uses(name))
    }

    /// Creates a host if the name is free and, for a host in a registry zone,
    /// its superordinate domain exists and is sponsored by the same registrar.
    ///
    /// # Errors
    /// Storage errors; conflicts are the inner `Err`.
    pub fn create_host(&self, h: &Host, audit: &Audit) -> ChangeResult {
        let _write = self.write_gate()?;
        let value = codec::encode(h)?;
        let hw = self.history_write(audit, "host", &h.name, json_snapshot(h))?;
        let i = self.engine()?;
        let result = kv::transaction(
            [&i.hosts, &i.domains, &i.history],
            |[hosts, domains, history]| {
                hw.apply(history)?;
                insert_new_host(hosts, domains, h, &value)
            },
        );
        self.settle(result)
    }

    /// Replaces a host that is still `old` by `new`. When the name changes,
    /// every domain delegating to it is rewritten to the new name, and the
    /// superordinate domains' lists of subordinate hosts follow; `users` are
    /// the domains that delegate to `old` as read before the call.
    ///
    /// # Errors
    /// Storage errors; conflicts are the inner `Err`.
    pub fn replace_host(
        &self,
        old: &Host,
        new: &Host,
        users: &[String],
        audit: &Audit,
    ) -> ChangeResult {
        self.replace_host_with(old, new, users, &[], audit)
    }

    /// [`Store::replace_host`] with poll messages queued in the same
    /// transaction.
    ///
    /// # Errors
    /// Storage errors; conflicts are the inner `Err`.
    pub fn replace_host_with(
        &self,
        old: &Host,
        new: &Host,
        users: &[String],
        messages: &[PollMessage],
        audit: &Audit,
    ) -> ChangeResult {
        let _write = self.write_gate()?;
        let old_value = codec::encode(old)?;
        let new_value = codec::encode(new)?;
        let messages = encoded_messages(messages)?;
        let hw = self.history_write(audit, "host", &new.name, json_snapshot(new))?;
        let i = self.engine()?;
        let renamed = old.name != new.name;
        let trees = [&i.hosts, &i.domains, &i.refs, &i.poll, &i.history];
        let result = kv::transaction(trees, |[hosts, domains, refs, poll, history]| {
            hw.apply(history)?;
            if hosts.get(old.name.as_bytes())?.as_deref() != Some(old_value.as_slice()) {
                return abort(Conflict::Changed);
            }
            for (key, value) in &messages {
                queue(poll, key, value)?;
            }
            if !renamed {
                hosts.insert(new.name.as_bytes(), new_value.as_slice())?;
                return Ok(());
            }
            if hosts.get(new.name.as_bytes())?.is_some() {
                return abort(Conflict::Exists);
            }
            if count(refs, Uses::Host, &old.name)? as usize != users.len() {
                return abort(Conflict::Changed);
            }
            for name in users {
                let Some(raw) = domains.get(name.as_bytes())? else {
                    return abort(Conflict::Changed);
                };
                let mut d: Domain = decode_in_tx(&raw)?;
                for ns in d.nameservers.iter_mut().filter(|n| **n == old.name) {
                    ns.clone_from(&new.name);
                }
                domains.insert(name.as_bytes(), encode_in_tx(&d)?)?;
                refs.remove(keys::host_use(&old.name, name))?;
                refs.insert(keys::host_use(&new.name, name), [])?;
            }
            if let Some(n) = refs.take(keys::use_count_host(&old.name))? {
                refs.insert(keys::use_count_host(&new.name), n)?;
            }
            if let Some(sup) = &old.superordinate
                && let Some(raw) = domains.get(sup.as_bytes())?
            {
                let mut d: Domain = decode_in_tx(&raw)?;
                d.subordinate_hosts.retain(|s| *s != old.name);
                domains.insert(sup.as_bytes(), encode_in_tx(&d)?)?;
            }
            if let Some(sup) = &new.superordinate {
                let mut d = superordinate(domains, sup, &new.sponsor)?;
                d.subordinate_hosts.push(new.name.clone());
                domains.insert(sup.as_bytes(), encode_in_tx(&d)?)?;
            }
            hosts.remove(old.name.as_bytes())?;
            hosts.insert(new.name.as_bytes(), new_value.as_slice())?;
            Ok(())
        });
        self.settle(result)
    }

    /// Deletes a host that is still `old` and used by no domain.
    ///
    /// # Errors
    /// Storage errors; conflicts are the inner `Err`.
    pub fn delete_host(&self, old: &Host, audit: &Audit) -> ChangeResult {
        let _write = self.write_gate()?;
        let old_value = codec::encode(old)?;
        let hw = self.history_write(audit, "host", &old.name, None)?;
        let i = self.engine()?;
        let trees = [&i.hosts, &i.domains, &i.refs, &i.history];
        let result = kv::transaction(trees, |[hosts, domains, refs, history]| {
            hw.apply(history)?;
            if hosts.get(old.name.as_bytes())?.as_deref() != Some(old_value.as_slice()) {
                return abort(Conflict::Changed);
            }
            if count(refs, Uses::Host, &old.name)? > 0 {
                return abort(Conflict::Linked);
            }
            if let Some(sup) = &old.superordinate
                && let Some(raw) = domains.get(sup.as_bytes())?
            {
                let mut d: Domain = decode_in_tx(&raw)?;
                d.subordinate_hosts.retain(|s| *s != old.name);
                domains.insert(sup.as_bytes(), encode_in_tx(&d)?)?;
            }
            hosts.remove(old.name.as_bytes())?;
            Ok(())
        });
        self.settle(result)
    }
}

/// Inserts a host whose name must be free; a host in a registry zone is
/// listed by its superordinate domain, which must be the same registrar's.
pub(super) fn insert_new_host(hosts: &Tx, domains: &Tx, h: &Host, value: &[u8]) -> TxResult<()> {
    if hosts.get(h.name.as_bytes())?.is_some() {
        return abort(Conflict::Exists);
    }
    if let Some(sup) = &h.superordinate {
        let mut domain = superordinate(domains, sup, &h.sponsor)?;
        domain.subordinate_hosts.push(h.name.clone());
        domains.insert(sup.as_bytes(), encode_in_tx(&domain)?)?;
    }
    hosts.insert(h.name.as_bytes(), value)?;
    Ok(())
}

/// The superordinate domain of a new host name, checked for its sponsor.
fn superordinate(domains: &Tx, name: &str, sponsor: &str) -> TxResult<Domain> {
    let Some(raw) = domains.get(name.as_bytes())? else {
        return abort(Conflict::MissingSuperordinate(name.to_owned()));
    };
    let domain: Domain = decode_in_tx(&raw)?;
    if domain.sponsor != sponsor {
        return abort(Conflict::ForeignSuperordinate(name.to_owned()));
    }
    Ok(domain)
}
