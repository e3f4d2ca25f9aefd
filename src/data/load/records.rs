//! Each kind of record in turn: a registrar, a contact, a host, a domain;
//! its own checks, then whether it is new, unchanged or differs, and its
//! creation with the agenda a domain brings.

use super::checks::{
    check_postal, clid_syntax, creator, day, domain_statuses, is_e164, object_statuses,
    same_or_differs,
};
use super::{Checked, Deferred, Done, Kind, Loader, Refused, Remark, rule};
use crate::model::{Contact, Domain, Host, IdentityDoc, Registrar, TransferStatus};
use crate::policy;
use crate::store::{Created, DueEntry, DueKind, Effects};

impl Loader<'_> {
    pub(super) fn registrar(&mut self, line: u64, mut r: Registrar) -> Checked<Done> {
        clid_syntax(&r.id, "the clID")?;
        let n = r.name.chars().count();
        if !(1..=255).contains(&n) {
            return rule("the name has 1 to 255 characters");
        }
        if let Some(email) = &r.email
            && let Err(why) = policy::email::check_email(email)
        {
            return rule(format!("{email:?} is not an e-mail address: {}", why.en));
        }
        if r.created > self.now {
            return rule(format!(
                "the creation date {} is in the future",
                day(r.created)
            ));
        }
        self.duplicate(Kind::Registrar, &r.id)?;
        if let Some(stored) = self.store.registrar(&r.id)? {
            self.registrars.insert(r.id.clone(), line);
            if self.options.keep_existing_registrars {
                return Ok(Done::Unchanged);
            }
            r.password_hash.clone_from(&stored.password_hash);
            r.cert_fingerprints.clone_from(&stored.cert_fingerprints);
            r.ip_allow.clone_from(&stored.ip_allow);
            r.session_limit = stored.session_limit;
            return same_or_differs(&r, &stored);
        }
        r.password_hash.clear();
        r.cert_fingerprints.clear();
        if !self.options.dry_run {
            self.store.put_registrar(&r, &self.audit())?;
        }
        self.report
            .registrars_without_credentials
            .push(r.id.clone());
        self.registrars.insert(r.id, line);
        Ok(Done::Loaded)
    }

    // ----- contacts -----

    pub(super) fn contact(&mut self, line: u64, mut c: Contact) -> Checked<Done> {
        let n = c.id.chars().count();
        if !(3..=16).contains(&n)
            || !c
                .id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
        {
            return rule("a contact id has 3 to 16 letters, digits, '-', '_' or '.'");
        }
        self.roid(&c.roid)?;
        check_postal(&mut c.postal)?;
        for (what, phone) in [("voice", &c.voice), ("fax", &c.fax)] {
            if let Some(phone) = phone
                && !is_e164(&phone.number)
            {
                return rule(format!(
                    "{what}: {:?} is not an E.164 number of the form +CCC.NNNNNNNNNNNNNN",
                    phone.number
                ));
            }
        }
        if let Err(why) = policy::email::check_email(&c.email) {
            return rule(format!(
                "{:?} is not an e-mail address: {}",
                c.email, why.en
            ));
        }
        self.registrar_known(&c.sponsor, "sponsor")?;
        creator(&mut c.created_by, &c.sponsor)?;
        self.dates(c.created, c.updated, c.transferred)?;
        let pending_transfer = c
            .transfer
            .as_ref()
            .is_some_and(|t| t.status == TransferStatus::Pending);
        c.statuses = object_statuses(&c.statuses, pending_transfer)?;
        if let Some(identity) = &mut c.identity {
            identity.number = policy::r15_identity_document(&IdentityDoc {
                kind: identity.kind,
                number: identity.number.clone(),
            })?;
        }
        self.duplicate(Kind::Contact, &c.id)?;
        if let Some(mut stored) = self.store.contact(&c.id)? {
            if c.roid.is_empty() {
                c.roid.clone_from(&stored.roid);
            }
            c.auth.clone_from(&stored.auth);
            if c.updated.is_none() {
                c.updated = stored.updated;
                c.updated_by.clone_from(&stored.updated_by);
            }
            if c.transferred.is_none() {
                c.transferred = stored.transferred;
            }
            if c.transfer.is_none() {
                c.transfer.clone_from(&stored.transfer);
            }
            if c.disclose.is_none() {
                c.disclose.clone_from(&stored.disclose);
            }
            match (&mut c.identity, &stored.identity) {
                (None, old) => c.identity.clone_from(old),
                (Some(new), Some(old))
                    if new.kind == old.kind
                        && new.number == old.number
                        && new.verification == old.verification =>
                {
                    new.since = old.since;
                    new.note.clone_from(&old.note);
                }
                _ => {}
            }
            stored.statuses.sort();
            self.contacts.insert(c.id.clone(), line);
            return same_or_differs(&c, &stored);
        }
        if c.roid.is_empty() {
            c.roid = self.store.next_roid('C')?;
        }
        self.contacts.insert(c.id.clone(), line);
        if !self.options.dry_run {
            let due = c
                .transfer
                .as_ref()
                .filter(|_| pending_transfer)
                .map(|t| DueEntry {
                    at: t.action_date,
                    kind: DueKind::ContactTransferAutoApprove,
                    name: c.id.clone(),
                })
                .into_iter()
                .collect();
            self.create(line, Kind::Contact, Created::Contact(c), due);
        }
        Ok(Done::Loaded)
    }

    // ----- hosts -----

    pub(super) fn host(&mut self, line: u64, mut h: Host) -> Checked<Done> {
        let name = policy::host_name(&h.name, self.settings)?;
        h.name = name.name;
        h.superordinate = name.superordinate;
        self.roid(&h.roid)?;
        match (&h.superordinate, h.addrs.is_empty()) {
            (Some(_), true) => {
                return rule("R14: a host in a registry zone needs at least one IP address (glue)");
            }
            (None, false) => {
                return rule("R14: a host outside the registry's zones takes no IP address");
            }
            _ => {}
        }
        for (i, addr) in h.addrs.iter().enumerate() {
            if h.addrs[..i].contains(addr) {
                return rule(format!("the address {addr} is listed twice"));
            }
        }
        self.registrar_known(&h.sponsor, "sponsor")?;
        creator(&mut h.created_by, &h.sponsor)?;
        self.dates(h.created, h.updated, h.transferred)?;
        h.statuses = object_statuses(&h.statuses, false)?;
        self.duplicate(Kind::Host, &h.name)?;
        if let Some(sup) = &h.superordinate {
            let sponsor = match self.domains.get(sup) {
                Some((_, i)) => self.sponsors.get(*i as usize).cloned(),
                None => self.store.domain(sup)?.map(|d| d.sponsor),
            };
            match sponsor {
                None => {
                    return rule(format!(
                        "R14: the superordinate domain {sup} is not registered (it must come before its hosts)"
                    ));
                }
                Some(s) if s != h.sponsor => {
                    return rule(format!(
                        "R14: the superordinate domain {sup} is sponsored by {s}, not {}",
                        h.sponsor
                    ));
                }
                Some(_) => {}
            }
        }
        if let Some(mut stored) = self.store.host(&h.name)? {
            if h.roid.is_empty() {
                h.roid.clone_from(&stored.roid);
            }
            if h.updated.is_none() {
                h.updated = stored.updated;
                h.updated_by.clone_from(&stored.updated_by);
            }
            if h.transferred.is_none() {
                h.transferred = stored.transferred;
            }
            stored.statuses.sort();
            self.hosts.insert(h.name.clone(), line);
            return same_or_differs(&h, &stored);
        }
        if h.roid.is_empty() {
            h.roid = self.store.next_roid('H')?;
        }
        let name = h.name.clone();
        self.hosts.insert(name.clone(), line);
        if !self.options.dry_run {
            self.create(line, Kind::Host, Created::Host(h), Vec::new());
        }
        self.delegate_waiting(&name)?;
        Ok(Done::Loaded)
    }

    /// Adds a host just loaded to the domains that wait for it.
    fn delegate_waiting(&mut self, host: &str) -> Checked<()> {
        let Some(waiting) = self.deferred.remove(host) else {
            return Ok(());
        };
        if self.options.dry_run {
            return Ok(());
        }
        self.commit()?;
        self.sync()?;
        for d in waiting {
            let Some(old) = self.store.domain(&d.domain)? else {
                continue;
            };
            let mut new = old.clone();
            new.nameservers = Vec::with_capacity(d.nameservers.len());
            for ns in &d.nameservers {
                if self.store.host_exists(ns)? {
                    new.nameservers.push(ns.clone());
                }
            }
            let effects = Effects::audit(self.audit());
            if let Err(conflict) = self.store.replace_domain_with(&old, &new, &effects)? {
                self.report.warnings.push(Remark {
                    line: d.line,
                    reason: format!(
                        "domain {}: name server {host} not added: {conflict:?}",
                        d.domain
                    ),
                });
            }
        }
        Ok(())
    }

    // ----- domains -----

    pub(super) fn domain(&mut self, line: u64, mut d: Domain) -> Checked<Done> {
        d.name = policy::r1_r3_registrable_name(&d.name, self.settings)
            .map_err(|refusal| Refused::from(refusal.error))?
            .name;
        self.roid(&d.roid)?;
        self.registrar_known(&d.sponsor, "sponsor")?;
        creator(&mut d.created_by, &d.sponsor)?;
        if let Some(by) = &d.updated_by {
            clid_syntax(by, "the last updating registrar")?;
        }
        self.dates(d.created, d.updated, d.transferred)?;
        if d.expires <= d.created {
            return rule(format!(
                "the expiry date {} is not after the creation date {}",
                day(d.expires),
                day(d.created)
            ));
        }
        policy::r8_five_year_cap(d.expires, 0, self.now)?;
        if let Some(deleted) = d.deleted
            && (deleted < d.created || deleted > self.now)
        {
            return rule(format!(
                "the deletion date {} is not between the creation date {} and today",
                day(deleted),
                day(d.created)
            ));
        }
        self.contact_known(&d.registrant, "registrant")?;
        for c in &d.contacts {
            self.contact_known(&c.id, c.role.as_str())?;
        }
        for (i, c) in d.contacts.iter().enumerate() {
            if d.contacts[..i].contains(c) {
                return rule(format!(
                    "the {} contact {} is listed twice",
                    c.role.as_str(),
                    c.id
                ));
            }
        }
        if d.nameservers.len() > crate::policy::MAX_NAMESERVERS {
            return rule(format!(
                "R14: at most {} name servers per domain, not {}",
                crate::policy::MAX_NAMESERVERS,
                d.nameservers.len()
            ));
        }
        let mut nameservers = Vec::with_capacity(d.nameservers.len());
        let mut later = Vec::new();
        for ns in &d.nameservers {
            let host = policy::host_name(ns, self.settings)?.name;
            if nameservers.contains(&host) {
                return rule(format!("the name server {host} is listed twice"));
            }
            if !self.host_known(&host)? {
                if !self.later_hosts.contains(&host) {
                    return rule(format!("name server: unknown host {host}"));
                }
                later.push(host.clone());
            }
            nameservers.push(host);
        }
        d.nameservers = nameservers;
        let pending_transfer = d
            .transfer
            .as_ref()
            .is_some_and(|t| t.status == TransferStatus::Pending);
        d.statuses = domain_statuses(&d.statuses, d.deleted.is_some(), pending_transfer)?;
        for ds in &d.ds_data {
            policy::dnssec::verify_ds(ds)?;
        }
        policy::dnssec::verify_ds_count(d.ds_data.len())?;
        self.duplicate(Kind::Domain, &d.name)?;
        let sponsor = self.sponsor_index(&d.sponsor);
        if let Some(stored) = self.store.domain(&d.name)? {
            merge_unstated(&mut d, &stored);
            self.domains.insert(d.name.clone(), (line, sponsor));
            let mut stored_sorted = stored.clone();
            stored_sorted.statuses.sort();
            return same_or_differs(&d, &stored_sorted);
        }
        if d.roid.is_empty() {
            d.roid = self.store.next_roid('D')?;
        }
        d.auth = None;
        d.subordinate_hosts.clear();
        if !later.is_empty() {
            for host in &later {
                self.deferred
                    .entry(host.clone())
                    .or_default()
                    .push(Deferred {
                        domain: d.name.clone(),
                        line,
                        nameservers: d.nameservers.clone(),
                    });
            }
            d.nameservers.retain(|ns| !later.contains(ns));
        }
        self.domains.insert(d.name.clone(), (line, sponsor));
        if !self.options.dry_run {
            let due = agenda(&d);
            self.create(line, Kind::Domain, Created::Domain(d), due);
        }
        Ok(Done::Loaded)
    }
}

/// The agenda of a loaded domain: the R22 notice and the R9 grace end of its
/// expiry date, its purge when it is in redemption (R11), and the automatic
/// approval of a pending transfer (R12).
fn agenda(d: &Domain) -> Vec<DueEntry> {
    let mut agenda = policy::lifecycle::expiry_agenda(&d.name, d.expires);
    if let Some(deleted) = d.deleted {
        agenda.push(DueEntry {
            at: policy::lifecycle::r11_purge_at(deleted),
            kind: DueKind::Purge,
            name: d.name.clone(),
        });
    }
    if let Some(t) = &d.transfer
        && t.status == TransferStatus::Pending
    {
        agenda.push(DueEntry {
            at: t.action_date,
            kind: DueKind::TransferAutoApprove,
            name: d.name.clone(),
        });
    }
    agenda
}

/// Copies into `d` what a record does not carry (or leaves out) from the
/// stored domain, so that the two compare on what the record says.
fn merge_unstated(d: &mut Domain, stored: &Domain) {
    if d.roid.is_empty() {
        d.roid.clone_from(&stored.roid);
    }
    d.auth.clone_from(&stored.auth);
    d.subordinate_hosts.clone_from(&stored.subordinate_hosts);
    d.identity_hold = stored.identity_hold;
    d.dispute = stored.dispute;
    d.incomplete.clone_from(&stored.incomplete);
    d.pending_owner.clone_from(&stored.pending_owner);
    if d.proof_ref.is_none() {
        d.proof_ref.clone_from(&stored.proof_ref);
    }
    if d.transfer.is_none() {
        d.transfer.clone_from(&stored.transfer);
    }
    if d.updated.is_none() {
        d.updated = stored.updated;
        d.updated_by.clone_from(&stored.updated_by);
    }
    if d.transferred.is_none() {
        d.transferred = stored.transferred;
    }
}
