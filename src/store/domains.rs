//! The `domains` tree: reads, and the atomic create, replace and delete of a
//! domain with its indexes, subordinate hosts, messages, agenda, charge and
//! history.

use super::change::{Tx, abort, decode_in_tx, encode_in_tx};
use super::history::json_snapshot;
use super::kv::TxResult;
use super::ledger::LedgerWrite;
use super::poll::{encoded_messages, queue};
use super::refs::{
    Uses, add_to_counter, count, creates_key, domain_waiting, link, sync_index, unlink,
};
use super::{ChangeResult, Conflict, Effects, Store, StoreError, codec, keys, kv};
use crate::model::{AllocationToken, Domain, Host};

impl Store {
    /// Every domain, by name, read as the iteration reaches it (nothing is
    /// held in memory but the current record).
    pub fn all_domains(&self) -> impl Iterator<Item = Result<Domain, StoreError>> + '_ {
        self.records(|engine| &engine.domains, "domains")
    }

    /// A domain by its stored name.
    ///
    /// # Errors
    /// Storage or decoding errors.
    pub fn domain(&self, name: &str) -> Result<Option<Domain>, StoreError> {
        codec::get(&self.engine()?.domains, "domains", name.as_bytes())
    }

    /// Whether a domain exists.
    ///
    /// # Errors
    /// Storage errors.
    pub fn domain_exists(&self, name: &str) -> Result<bool, StoreError> {
        self.engine()?.domains.contains_key(name.as_bytes())
    }

    /// Every domain in name order, read and decoded one at a time (an
    /// iterator over the tree, not a list in memory).
    pub fn domains_iter(&self) -> impl Iterator<Item = Result<Domain, StoreError>> + '_ {
        self.records(|engine| &engine.domains, "domains")
    }

    /// The first `limit` domains whose name starts with `prefix`, in name
    /// order, read by a range over the domains tree (never a scan of it),
    /// and whether more follow.
    ///
    /// # Errors
    /// Storage or decoding errors.
    pub fn domains_with_prefix(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<(Vec<Domain>, bool), StoreError> {
        let mut found = Vec::new();
        for value in self
            .engine()?
            .domains
            .scan_prefix(prefix.as_bytes())
            .values()
            .take(limit.saturating_add(1))
        {
            found.push(codec::decode("domains", &value?)?);
        }
        let more = found.len() > limit;
        found.truncate(limit);
        Ok((found, more))
    }

    /// The domains a registrar sponsors, by name.
    ///
    /// # Errors
    /// Storage errors.
    pub fn domains_of(&self, registrar: &str) -> Result<Vec<String>, StoreError> {
        self.names_after(keys::sponsored_by(registrar))
    }

    /// Creates a domain if the name is free and every contact and host it
    /// names exists, with its indexes, agenda entries and history, in one
    /// transaction (R6: of concurrent creates exactly one succeeds). A given
    /// allocation token is used up in the same transaction (R4).
    ///
    /// # Errors
    /// Storage errors; conflicts are the inner `Err`.
    pub fn create_domain_with(
        &self,
        d: &Domain,
        token: Option<&str>,
        effects: &Effects,
    ) -> ChangeResult {
        let _write = self.write_gate()?;
        let value = codec::encode(d)?;
        let hw = self.history_write(&effects.audit, "domain", &d.name, domain_snapshot(d))?;
        let lw = effects
            .charge
            .as_ref()
            .map(|c| LedgerWrite::prepare(self, c, &effects.audit))
            .transpose()?;
        let i = self.engine()?;
        let trees = [
            &i.domains,
            &i.contacts,
            &i.hosts,
            &i.refs,
            &i.due,
            &i.names,
            &i.history,
            &i.ledger,
        ];
        let result = kv::transaction(
            trees,
            |[domains, contacts, hosts, refs, due, names, history, ledger]| {
                if let Some(lw) = &lw {
                    lw.apply(ledger)?;
                }
                hw.apply(history)?;
                for entry in &effects.due_add {
                    due.insert(entry.key(), [])?;
                }
                if let Some(token) = token {
                    let key = keys::token(token);
                    let Some(raw) = names.get(&key)? else {
                        return abort(Conflict::TokenInvalid);
                    };
                    let mut record: AllocationToken = decode_in_tx(&raw)?;
                    if record.name != d.name || record.used.is_some() {
                        return abort(Conflict::TokenInvalid);
                    }
                    record.used = Some(d.created);
                    names.insert(key, encode_in_tx(&record)?)?;
                }
                insert_new_domain(domains, contacts, hosts, refs, d, &value)
            },
        );
        self.settle(result)
    }

    /// Replaces `old` by `new` (same name) if the domain is still `old`,
    /// moving its contact, host and sponsor indexes, with its poll messages,
    /// agenda changes and history in the same transaction. A change of
    /// sponsor moves the subordinate hosts too.
    ///
    /// # Errors
    /// Storage errors; conflicts are the inner `Err`.
    pub fn replace_domain_with(
        &self,
        old: &Domain,
        new: &Domain,
        effects: &Effects,
    ) -> ChangeResult {
        let _write = self.write_gate()?;
        let old_value = codec::encode(old)?;
        let new_value = codec::encode(new)?;
        let (old_waiting, new_waiting) = (domain_waiting(old), domain_waiting(new));
        let messages = encoded_messages(&effects.messages)?;
        let hw = self.history_write(&effects.audit, "domain", &new.name, domain_snapshot(new))?;
        let lw = effects
            .charge
            .as_ref()
            .map(|c| LedgerWrite::prepare(self, c, &effects.audit))
            .transpose()?;
        let i = self.engine()?;
        let old_contacts = contact_ids(old);
        let new_contacts = contact_ids(new);
        let trees = [
            &i.domains,
            &i.contacts,
            &i.hosts,
            &i.refs,
            &i.poll,
            &i.due,
            &i.history,
            &i.ledger,
        ];
        let result = kv::transaction(
            trees,
            |[domains, contacts, hosts, refs, poll, due, history, ledger]| {
                hw.apply(history)?;
                if domains.get(old.name.as_bytes())?.as_deref() != Some(old_value.as_slice()) {
                    return abort(Conflict::Changed);
                }
                if let Some(lw) = &lw {
                    lw.apply(ledger)?;
                }
                for id in old_contacts.iter().filter(|c| !new_contacts.contains(c)) {
                    unlink(refs, Uses::Contact, id, &old.name)?;
                }
                for id in new_contacts.iter().filter(|c| !old_contacts.contains(c)) {
                    if contacts.get(id.as_bytes())?.is_none() {
                        return abort(Conflict::MissingContact((*id).to_owned()));
                    }
                    link(refs, Uses::Contact, id, &new.name)?;
                }
                for ns in old
                    .nameservers
                    .iter()
                    .filter(|n| !new.nameservers.contains(n))
                {
                    unlink(refs, Uses::Host, ns, &old.name)?;
                }
                for ns in new
                    .nameservers
                    .iter()
                    .filter(|n| !old.nameservers.contains(n))
                {
                    if hosts.get(ns.as_bytes())?.is_none() {
                        return abort(Conflict::MissingHost(ns.clone()));
                    }
                    link(refs, Uses::Host, ns, &new.name)?;
                }
                if old.sponsor != new.sponsor {
                    refs.remove(keys::sponsored(&old.sponsor, &old.name))?;
                    refs.insert(keys::sponsored(&new.sponsor, &new.name), [])?;
                    for sub in &new.subordinate_hosts {
                        if let Some(raw) = hosts.get(sub.as_bytes())? {
                            let mut h: Host = decode_in_tx(&raw)?;
                            h.sponsor.clone_from(&new.sponsor);
                            h.transferred = new.transferred;
                            hosts.insert(sub.as_bytes(), encode_in_tx(&h)?)?;
                        }
                    }
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
                sync_index(refs, &old_waiting, &new_waiting)?;
                domains.insert(new.name.as_bytes(), new_value.as_slice())?;
                Ok(())
            },
        );
        self.settle(result)
    }

    /// Deletes a domain that is still `old`, with its subordinate hosts,
    /// unless another domain delegates to one of them; with poll messages,
    /// agenda changes and history in the same transaction.
    ///
    /// # Errors
    /// Storage errors; conflicts are the inner `Err`.
    pub fn delete_domain_with(&self, old: &Domain, effects: &Effects) -> ChangeResult {
        let _write = self.write_gate()?;
        let old_value = codec::encode(old)?;
        let old_waiting = domain_waiting(old);
        let messages = encoded_messages(&effects.messages)?;
        let hw = self.history_write(&effects.audit, "domain", &old.name, None)?;
        let lw = effects
            .charge
            .as_ref()
            .map(|c| LedgerWrite::prepare(self, c, &effects.audit))
            .transpose()?;
        let i = self.engine()?;
        let trees = [
            &i.domains, &i.hosts, &i.refs, &i.poll, &i.due, &i.history, &i.ledger,
        ];
        let result = kv::transaction(
            trees,
            |[domains, hosts, refs, poll, due, history, ledger]| {
                if domains.get(old.name.as_bytes())?.as_deref() != Some(old_value.as_slice()) {
                    return abort(Conflict::Changed);
                }
                if let Some(lw) = &lw {
                    lw.apply(ledger)?;
                }
                hw.apply(history)?;
                for (key, value) in &messages {
                    queue(poll, key, value)?;
                }
                for entry in &effects.due_remove {
                    due.remove(entry.key())?;
                }
                for sub in &old.subordinate_hosts {
                    let own = u32::from(old.nameservers.contains(sub));
                    if count(refs, Uses::Host, sub)? > own {
                        return abort(Conflict::HostInUse(sub.clone()));
                    }
                }
                for id in contact_ids(old) {
                    unlink(refs, Uses::Contact, id, &old.name)?;
                }
                for ns in &old.nameservers {
                    unlink(refs, Uses::Host, ns, &old.name)?;
                }
                for sub in &old.subordinate_hosts {
                    hosts.remove(sub.as_bytes())?;
                    refs.remove(keys::use_count_host(sub))?;
                }
                refs.remove(keys::sponsored(&old.sponsor, &old.name))?;
                sync_index(refs, &old_waiting, &[])?;
                if old.statuses.contains(&crate::model::Status::PendingCreate) {
                    add_to_counter(refs, &creates_key(&old.created_by, old.created), -1)?;
                }
                domains.remove(old.name.as_bytes())?;
                Ok(())
            },
        );
        self.settle(result)
    }
}

/// Inserts a domain whose name must be free, with its contact, host and
/// sponsor indexes; every contact and host it names must exist.
pub(super) fn insert_new_domain(
    domains: &Tx,
    contacts: &Tx,
    hosts: &Tx,
    refs: &Tx,
    d: &Domain,
    value: &[u8],
) -> TxResult<()> {
    if domains.get(d.name.as_bytes())?.is_some() {
        return abort(Conflict::Exists);
    }
    for id in contact_ids(d) {
        if contacts.get(id.as_bytes())?.is_none() {
            return abort(Conflict::MissingContact(id.to_owned()));
        }
        link(refs, Uses::Contact, id, &d.name)?;
    }
    for ns in &d.nameservers {
        if hosts.get(ns.as_bytes())?.is_none() {
            return abort(Conflict::MissingHost(ns.clone()));
        }
        link(refs, Uses::Host, ns, &d.name)?;
    }
    refs.insert(keys::sponsored(&d.sponsor, &d.name), [])?;
    sync_index(refs, &[], &domain_waiting(d))?;
    add_to_counter(refs, &creates_key(&d.created_by, d.created), 1)?;
    domains.insert(d.name.as_bytes(), value)?;
    Ok(())
}

/// A domain as its history keeps it: without its authInfo hash.
pub(super) fn domain_snapshot(d: &Domain) -> Option<String> {
    let mut copy = d.clone();
    copy.auth = None;
    json_snapshot(&copy)
}

/// The distinct contact ids a domain uses (registrant, contacts, and the
/// registrant a pending ownership change names).
fn contact_ids(d: &Domain) -> Vec<&str> {
    let mut ids: Vec<&str> = std::iter::once(d.registrant.as_str())
        .chain(d.contacts.iter().map(|c| c.id.as_str()))
        .chain(d.pending_owner.iter().map(|p| p.registrant.as_str()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}
