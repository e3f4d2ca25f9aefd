//! The loader shared by `admin import` and `admin escrow import`: checks each
//! record (names R1/R3, hosts R14, identity numbers R15, the expiry cap R8,
//! contact fields, statuses, dates, references to registrars, contacts,
//! hosts and domains in the store or loaded before it in the same run),
//! skips an object the store holds already unchanged, refuses one that
//! differs, and loads the rest, each object in its own transaction with its
//! history record (R24) and agenda entries, the store flushed once per
//! batch. Rules that govern new registrations only (R2 proof, R4 reserved,
//! R5 blocked, R15 document on record, R17 admin contact) are not applied to
//! names that were registered already.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{Receiver, SyncSender};
use std::thread::JoinHandle;

use serde::Serialize;

use crate::config::Settings;
use crate::error::EppError;
use crate::model::{
    Audit, Contact, Domain, Host, IdentityDoc, PostalInfo, PostalType, Registrar, Status,
    Timestamp, TransferStatus,
};
use crate::policy;
use crate::store::{
    Created, DueEntry, DueKind, Effects, NewObject, PreparedBatch, Store, StoreError,
};

/// Objects created in one store transaction.
const BATCH: usize = 500;

/// Objects created between two flushes of the store to disk.
const FLUSH_EVERY: usize = 20_000;

/// One record to load, as a reader built it. Names may still be in any
/// case or in Unicode; an empty `roid` asks for a new one; an empty
/// `created_by` means the sponsor.
#[derive(Debug, Clone)]
pub enum Item {
    /// A registrar: loaded without password nor certificate.
    Registrar(Box<Registrar>),
    /// A contact.
    Contact(Box<Contact>),
    /// A host.
    Host(Box<Host>),
    /// A domain.
    Domain(Box<Domain>),
}

impl Item {
    fn kind(&self) -> Kind {
        match self {
            Item::Registrar(_) => Kind::Registrar,
            Item::Contact(_) => Kind::Contact,
            Item::Host(_) => Kind::Host,
            Item::Domain(_) => Kind::Domain,
        }
    }

    fn key(&self) -> &str {
        match self {
            Item::Registrar(r) => &r.id,
            Item::Contact(c) => &c.id,
            Item::Host(h) => &h.name,
            Item::Domain(d) => &d.name,
        }
    }
}

/// The kinds of objects a load counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Registrars.
    Registrar,
    /// Contacts.
    Contact,
    /// Hosts.
    Host,
    /// Domains.
    Domain,
}

impl Kind {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Registrar => "registrar",
            Kind::Contact => "contact",
            Kind::Host => "host",
            Kind::Domain => "domain",
        }
    }
}

/// How a load runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Check everything, write nothing.
    pub dry_run: bool,
    /// Keep a registrar the store has already as it is (escrow), instead of
    /// comparing it with the record.
    pub keep_existing_registrars: bool,
    /// The command recorded in each loaded object's history.
    pub command: &'static str,
}

/// What happened to the objects of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Loaded now (or, in a dry run, that would be).
    pub loaded: u64,
    /// In the store already, identical: skipped.
    pub unchanged: u64,
    /// Refused (see the report's list).
    pub rejected: u64,
}

/// A record that was refused, or loaded with a remark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remark {
    /// Its line in the input.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// The outcome of a load.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Registrars.
    pub registrars: Counts,
    /// Contacts.
    pub contacts: Counts,
    /// Hosts.
    pub hosts: Counts,
    /// Domains.
    pub domains: Counts,
    /// Every refused record, in input order.
    pub rejected: Vec<Remark>,
    /// Records loaded, but not entirely (a name server that was refused).
    pub warnings: Vec<Remark>,
    /// The registrars loaded now: they have no password and no certificate yet.
    pub registrars_without_credentials: Vec<String>,
    /// Nothing was written.
    pub dry_run: bool,
}

impl Report {
    fn counts(&mut self, kind: Kind) -> &mut Counts {
        match kind {
            Kind::Registrar => &mut self.registrars,
            Kind::Contact => &mut self.contacts,
            Kind::Host => &mut self.hosts,
            Kind::Domain => &mut self.domains,
        }
    }

    /// The counts of each kind, in load order.
    pub fn by_kind(&self) -> [(Kind, Counts); 4] {
        [
            (Kind::Registrar, self.registrars),
            (Kind::Contact, self.contacts),
            (Kind::Host, self.hosts),
            (Kind::Domain, self.domains),
        ]
    }

    /// Records refused, all kinds together.
    pub fn rejected_count(&self) -> u64 {
        self.by_kind().iter().map(|(_, c)| c.rejected).sum()
    }

    /// Refuses a record that no reader could turn into an object.
    pub fn reject_unreadable(&mut self, line: u64, kind: Option<Kind>, reason: String) {
        if let Some(kind) = kind {
            self.counts(kind).rejected += 1;
        }
        self.rejected.push(Remark { line, reason });
    }
}

/// Why a record is refused: a rule it breaks, or a store failure that stops
/// the whole load.
enum Refused {
    Rule(String),
    Store(StoreError),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Refused::Store(e)
    }
}

impl From<EppError> for Refused {
    fn from(e: EppError) -> Self {
        match e.reason() {
            Some(text) => Refused::Rule(text.en.clone()),
            None => Refused::Rule(e.to_string()),
        }
    }
}

type Checked<T> = Result<T, Refused>;

fn rule<T>(reason: impl Into<String>) -> Checked<T> {
    Err(Refused::Rule(reason.into()))
}

enum Done {
    Loaded,
    Unchanged,
}

/// A domain loaded without some of its name servers, because they are
/// defined later in the input: they are added when their host is loaded.
struct Deferred {
    domain: String,
    line: u64,
    nameservers: Vec<String>,
}

/// Validates and loads records one at a time; see the module's doc.
pub struct Loader<'a> {
    store: &'a Store,
    settings: &'a Settings,
    now: Timestamp,
    who: String,
    options: Options,
    report: Report,
    registrars: HashMap<String, u64>,
    known_registrars: HashSet<String>,
    contacts: HashMap<String, u64>,
    hosts: HashMap<String, u64>,
    domains: HashMap<String, (u64, u32)>,
    sponsors: Vec<String>,
    later_hosts: HashSet<String>,
    deferred: HashMap<String, Vec<Deferred>>,
    max_roid: u64,
    pending: Vec<NewObject>,
    pending_lines: Vec<(u64, Kind)>,
    writer: Option<Writer>,
    since_flush: usize,
}

impl<'a> Loader<'a> {
    /// A loader writing to `store` as `operator`, at `now`.
    pub fn new(
        store: &'a Store,
        settings: &'a Settings,
        now: Timestamp,
        operator: &str,
        options: Options,
    ) -> Self {
        let report = Report {
            dry_run: options.dry_run,
            ..Report::default()
        };
        Self {
            store,
            settings,
            now,
            who: format!("operator:{operator}"),
            options,
            report,
            registrars: HashMap::new(),
            known_registrars: HashSet::new(),
            contacts: HashMap::new(),
            hosts: HashMap::new(),
            domains: HashMap::new(),
            sponsors: Vec::new(),
            later_hosts: HashSet::new(),
            deferred: HashMap::new(),
            max_roid: 0,
            pending: Vec::with_capacity(BATCH),
            pending_lines: Vec::with_capacity(BATCH),
            writer: None,
            since_flush: 0,
        }
    }

    /// Host names the input defines further on: a domain may name them as
    /// name servers before they are loaded.
    pub fn expect_hosts(&mut self, names: impl IntoIterator<Item = String>) {
        self.later_hosts
            .extend(names.into_iter().map(|n| n.to_ascii_lowercase()));
    }

    /// The report so far, for a reader to add what it could not read.
    pub fn report_mut(&mut self) -> &mut Report {
        &mut self.report
    }

    /// Checks and loads one record read on `line`.
    ///
    /// # Errors
    /// A store failure: the load stops (what was loaded stays loaded).
    pub fn load(&mut self, line: u64, item: Item) -> Result<(), StoreError> {
        let kind = item.kind();
        let key = item.key().to_owned();
        let outcome = match item {
            Item::Registrar(r) => self.registrar(line, *r),
            Item::Contact(c) => self.contact(line, *c),
            Item::Host(h) => self.host(line, *h),
            Item::Domain(d) => self.domain(line, *d),
        };
        match outcome {
            Ok(Done::Loaded) => {
                self.report.counts(kind).loaded += 1;
                if self.pending.len() >= BATCH {
                    self.commit()?;
                }
            }
            Ok(Done::Unchanged) => self.report.counts(kind).unchanged += 1,
            Err(Refused::Rule(reason)) => {
                self.report.counts(kind).rejected += 1;
                self.report.rejected.push(Remark {
                    line,
                    reason: format!("{} {key}: {reason}", kind.as_str()),
                });
            }
            Err(Refused::Store(e)) => return Err(e),
        }
        Ok(())
    }

    /// Flushes the store, keeps new roids above the loaded ones, and
    /// returns the report.
    ///
    /// # Errors
    /// A store failure.
    pub fn finish(mut self) -> Result<Report, StoreError> {
        self.commit()?;
        self.sync()?;
        if let Some(writer) = self.writer.take() {
            writer.stop()?;
        }
        self.report.rejected.sort_by_key(|r| r.line);
        let mut left: Vec<Remark> = self
            .deferred
            .drain()
            .flat_map(|(host, waiting)| {
                waiting.into_iter().map(move |d| Remark {
                    line: d.line,
                    reason: format!(
                        "domain {}: name server {host} was not loaded; the domain is delegated without it",
                        d.domain
                    ),
                })
            })
            .collect();
        left.sort_by_key(|r| r.line);
        self.report.warnings.extend(left);
        if !self.options.dry_run {
            self.store.reserve_roids_up_to(self.max_roid)?;
            self.store.flush_now()?;
        }
        Ok(self.report)
    }

    /// Queues a new object for the next batch.
    fn create(&mut self, line: u64, kind: Kind, object: Created, due_add: Vec<DueEntry>) {
        let effects = Effects {
            due_add,
            ..Effects::audit(self.audit())
        };
        self.pending.push(NewObject { object, effects });
        self.pending_lines.push((line, kind));
    }

    /// Hands the queued objects, encoded, to the writer thread (or writes
    /// them here when no thread could be started).
    fn commit(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let objects = std::mem::take(&mut self.pending);
        let lines = std::mem::take(&mut self.pending_lines);
        let batch = self.store.prepare_many(objects)?;
        if self.writer.is_none() {
            self.writer = Writer::start(self.store.clone());
        }
        match &self.writer {
            Some(writer) => {
                if writer.jobs.send(Job::Batch(batch, lines)).is_err() {
                    return Err(self.writer_error());
                }
            }
            None => {
                let mut failed = Vec::new();
                write_batch(self.store, &batch, &lines, &mut failed)?;
                self.since_flush += lines.len();
                if self.since_flush >= FLUSH_EVERY {
                    self.store.flush_now()?;
                    self.since_flush = 0;
                }
                self.count_failed(failed);
            }
        }
        Ok(())
    }

    /// Waits until the writer thread has written everything handed to it,
    /// and takes its refusals into the report.
    fn sync(&mut self) -> Result<(), StoreError> {
        let Some(writer) = &self.writer else {
            return Ok(());
        };
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        if writer.jobs.send(Job::Sync(reply)).is_err() {
            return Err(self.writer_error());
        }
        match answer.recv() {
            Ok(failed) => {
                self.count_failed(failed);
                Ok(())
            }
            Err(_) => Err(self.writer_error()),
        }
    }

    /// Stops the writer thread and returns why it stopped.
    fn writer_error(&mut self) -> StoreError {
        match self.writer.take().map(Writer::stop) {
            Some(Err(e)) => e,
            _ => StoreError::Flush("the import's writer thread stopped".into()),
        }
    }

    fn count_failed(&mut self, failed: Vec<(Kind, Remark)>) {
        for (kind, remark) in failed {
            let counts = self.report.counts(kind);
            counts.loaded = counts.loaded.saturating_sub(1);
            counts.rejected += 1;
            self.report.rejected.push(remark);
        }
    }

    fn audit(&self) -> Audit {
        crate::store::registry_audit(self.store, self.now, &self.who, self.options.command)
    }

    // ----- shared checks -----

    fn registrar_known(&mut self, id: &str, role: &str) -> Checked<()> {
        if self.registrars.contains_key(id) || self.known_registrars.contains(id) {
            return Ok(());
        }
        if self.store.registrar(id)?.is_some() {
            self.known_registrars.insert(id.to_owned());
            return Ok(());
        }
        rule(format!("{role}: unknown registrar {id}"))
    }

    fn contact_known(&self, id: &str, role: &str) -> Checked<()> {
        if self.contacts.contains_key(id) || self.store.contact_exists(id)? {
            return Ok(());
        }
        rule(format!("{role}: unknown contact {id}"))
    }

    fn host_known(&self, name: &str) -> Checked<bool> {
        Ok(self.hosts.contains_key(name) || self.store.host_exists(name)?)
    }

    fn roid(&mut self, roid: &str) -> Checked<()> {
        if roid.is_empty() {
            return Ok(());
        }
        if !roid_syntax(roid) {
            return rule(format!(
                "the roid {roid:?} is not of the form ID-REPOSITORY (RFC 5730 roidType)"
            ));
        }
        if let Some(n) = own_roid_number(roid) {
            self.max_roid = self.max_roid.max(n);
        }
        Ok(())
    }

    fn dates(
        &self,
        created: Timestamp,
        updated: Option<Timestamp>,
        transferred: Option<Timestamp>,
    ) -> Checked<()> {
        if created > self.now {
            return rule(format!(
                "the creation date {} is in the future",
                day(created)
            ));
        }
        for (what, date) in [("update", updated), ("transfer", transferred)] {
            if let Some(date) = date
                && (date < created || date > self.now)
            {
                return rule(format!(
                    "the {what} date {} is not between the creation date {} and today",
                    day(date),
                    day(created)
                ));
            }
        }
        Ok(())
    }

    fn duplicate(&self, kind: Kind, key: &str) -> Checked<()> {
        let first = match kind {
            Kind::Registrar => self.registrars.get(key).copied(),
            Kind::Contact => self.contacts.get(key).copied(),
            Kind::Host => self.hosts.get(key).copied(),
            Kind::Domain => self.domains.get(key).map(|(line, _)| *line),
        };
        match first {
            Some(line) => rule(format!("defined twice (first on line {line})")),
            None => Ok(()),
        }
    }

    fn sponsor_index(&mut self, sponsor: &str) -> u32 {
        match self.sponsors.iter().position(|s| s == sponsor) {
            Some(i) => u32::try_from(i).unwrap_or(u32::MAX),
            None => {
                self.sponsors.push(sponsor.to_owned());
                u32::try_from(self.sponsors.len() - 1).unwrap_or(u32::MAX)
            }
        }
    }

    // ----- registrars -----

    fn registrar(&mut self, line: u64, mut r: Registrar) -> Checked<Done> {
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

    fn contact(&mut self, line: u64, mut c: Contact) -> Checked<Done> {
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

    fn host(&mut self, line: u64, mut h: Host) -> Checked<Done> {
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

    fn domain(&mut self, line: u64, mut d: Domain) -> Checked<Done> {
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

/// What the writer thread is given: a batch to create, or a request to
/// answer once everything before it is written.
enum Job {
    Batch(PreparedBatch, Vec<(u64, Kind)>),
    Sync(SyncSender<Vec<(Kind, Remark)>>),
}

/// The thread that writes the loader's batches, so that the loader reads
/// and checks the next records meanwhile.
struct Writer {
    jobs: SyncSender<Job>,
    thread: JoinHandle<Result<(), StoreError>>,
}

impl Writer {
    /// Starts the thread; `None` when the system cannot start one.
    fn start(store: Store) -> Option<Self> {
        let (jobs, queue) = std::sync::mpsc::sync_channel(2);
        std::thread::Builder::new()
            .name("import-writer".into())
            .spawn(move || write_all(&store, &queue))
            .ok()
            .map(|thread| Writer { jobs, thread })
    }

    /// Lets the thread finish what it was given and waits for it.
    fn stop(self) -> Result<(), StoreError> {
        drop(self.jobs);
        self.thread.join().unwrap_or_else(|_| {
            Err(StoreError::Flush(
                "the import's writer thread failed".into(),
            ))
        })
    }
}

fn write_all(store: &Store, queue: &Receiver<Job>) -> Result<(), StoreError> {
    let mut failed = Vec::new();
    let mut since_flush = 0;
    for job in queue {
        match job {
            Job::Batch(batch, lines) => {
                write_batch(store, &batch, &lines, &mut failed)?;
                since_flush += lines.len();
                if since_flush >= FLUSH_EVERY {
                    store.flush_now()?;
                    since_flush = 0;
                }
            }
            Job::Sync(reply) => {
                let _ = reply.send(std::mem::take(&mut failed));
            }
        }
    }
    Ok(())
}

/// Creates a batch in one transaction; when an object conflicts (another
/// writer was faster), creates them one at a time and refuses those that
/// conflict.
fn write_batch(
    store: &Store,
    batch: &PreparedBatch,
    lines: &[(u64, Kind)],
    failed: &mut Vec<(Kind, Remark)>,
) -> Result<(), StoreError> {
    if store.commit_many(batch, 0..lines.len())?.is_ok() {
        return Ok(());
    }
    for (i, ((line, kind), object)) in lines.iter().zip(batch.objects()).enumerate() {
        if let Err((_, conflict)) = store.commit_many(batch, i..i + 1)? {
            let key = match &object.object {
                Created::Contact(c) => &c.id,
                Created::Host(h) => &h.name,
                Created::Domain(d) => &d.name,
            };
            failed.push((
                *kind,
                Remark {
                    line: *line,
                    reason: format!("{} {key}: not loaded: {conflict:?}", kind.as_str()),
                },
            ));
        }
    }
    Ok(())
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

/// `Unchanged` when the record is the stored object, else a refusal naming
/// the fields that differ.
fn same_or_differs<T: Serialize + PartialEq>(record: &T, stored: &T) -> Checked<Done> {
    if record == stored {
        return Ok(Done::Unchanged);
    }
    let fields = differing_fields(record, stored);
    rule(format!(
        "exists already with other data ({}); not overwritten",
        if fields.is_empty() {
            "details".to_owned()
        } else {
            fields.join(", ")
        }
    ))
}

fn differing_fields<T: Serialize>(a: &T, b: &T) -> Vec<String> {
    match (serde_json::to_value(a), serde_json::to_value(b)) {
        (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) => a
            .iter()
            .filter(|(k, v)| b.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .collect(),
        _ => Vec::new(),
    }
}

fn day(t: Timestamp) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// An EPP clID: 3 to 16 letters, digits, `-` or `_`.
fn clid_syntax(id: &str, what: &str) -> Checked<()> {
    let n = id.chars().count();
    if (3..=16).contains(&n)
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        rule(format!(
            "{what} {id:?} is not a clID (3 to 16 letters, digits, '-' or '_')"
        ))
    }
}

/// The creating registrar: the sponsor when the record names none.
fn creator(created_by: &mut String, sponsor: &str) -> Checked<()> {
    if created_by.is_empty() {
        sponsor.clone_into(created_by);
        return Ok(());
    }
    clid_syntax(created_by, "the creating registrar")
}

/// RFC 5730 `roidType`: `(\w|_){1,80}-\w{1,8}`.
fn roid_syntax(roid: &str) -> bool {
    let Some((id, repo)) = roid.rsplit_once('-') else {
        return false;
    };
    let word = |c: char| c.is_alphanumeric() || c == '_';
    (1..=80).contains(&id.chars().count())
        && id.chars().all(word)
        && (1..=8).contains(&repo.chars().count())
        && repo.chars().all(word)
}

/// The number of a roid of the form this registry gives (`D12-MA`).
fn own_roid_number(roid: &str) -> Option<u64> {
    let body = roid.strip_suffix("-MA")?;
    let mut chars = body.chars();
    chars.next().filter(char::is_ascii_uppercase)?;
    chars.as_str().parse().ok()
}

/// Contact and host statuses as stored: `ok` and `linked` are derived and
/// left out; `client*` and `server*` are kept; of the `pending*` ones only
/// `pendingTransfer`, with a pending transfer.
fn object_statuses(statuses: &[Status], pending_transfer: bool) -> Checked<Vec<Status>> {
    let mut kept = Vec::with_capacity(statuses.len());
    for s in statuses {
        match s {
            Status::Ok | Status::Linked => {}
            Status::PendingTransfer if pending_transfer => kept.push(*s),
            s if s.is_client_settable() || s.is_server() => kept.push(*s),
            Status::Inactive => {
                return rule("the status inactive applies to domains only");
            }
            other => {
                return rule(format!(
                    "the status {} needs the action it waits for, which the record does not carry",
                    other.as_str()
                ));
            }
        }
    }
    kept.sort();
    kept.dedup();
    policy::statuses::verify_combination(&kept)?;
    if pending_transfer && !kept.contains(&Status::PendingTransfer) {
        kept.push(Status::PendingTransfer);
        kept.sort();
    }
    Ok(kept)
}

/// Domain statuses as stored: `ok` and `inactive` are derived and left out
/// (`ok` beside another status is refused, RFC 5731 §2.3); `pendingDelete`
/// needs a deletion date and `pendingTransfer` a pending transfer;
/// `pendingCreate` waits for the registry (R2); `pendingRenew` and
/// `pendingUpdate` wait for actions a record does not carry.
fn domain_statuses(
    statuses: &[Status],
    deleted: bool,
    pending_transfer: bool,
) -> Checked<Vec<Status>> {
    let mut kept: Vec<Status> = Vec::with_capacity(statuses.len());
    if statuses.contains(&Status::Ok)
        && let Some(other) = statuses
            .iter()
            .find(|s| !matches!(s, Status::Ok | Status::Inactive))
    {
        return rule(format!(
            "RFC 5731 §2.3: ok cannot be combined with {}",
            other.as_str()
        ));
    }
    for s in statuses {
        match s {
            Status::Ok | Status::Inactive => {}
            Status::Linked => return rule("the status linked applies to contacts and hosts only"),
            Status::PendingDelete if !deleted => {
                return rule("pendingDelete needs the deletion date");
            }
            Status::PendingTransfer if !pending_transfer => {
                return rule("pendingTransfer needs the pending transfer");
            }
            Status::PendingRenew | Status::PendingUpdate => {
                return rule(format!(
                    "the status {} needs the action it waits for, which the record does not carry",
                    s.as_str()
                ));
            }
            s => kept.push(*s),
        }
    }
    if deleted {
        kept.push(Status::PendingDelete);
    }
    if pending_transfer {
        kept.push(Status::PendingTransfer);
    }
    kept.sort();
    kept.dedup();
    policy::statuses::verify_combination(&kept)?;
    Ok(kept)
}

/// RFC 5733 postal information: one or two (one `int`, one `loc`), fields
/// within their lengths, a two-letter country code (made upper case), and
/// 7-bit ASCII only in the `int` form.
fn check_postal(postal: &mut [PostalInfo]) -> Checked<()> {
    if postal.is_empty() || postal.len() > 2 {
        return rule("a contact has one or two postal infos");
    }
    if postal.len() == 2 && postal[0].kind == postal[1].kind {
        return rule("the two postal infos must be one int and one loc");
    }
    for p in postal.iter_mut() {
        let within = |s: &str, max: usize| (1..=max).contains(&s.chars().count());
        if !within(&p.name, 255) || !within(&p.city, 255) {
            return rule("a postal info needs a name and a city of 1 to 255 characters");
        }
        if p.street.len() > 3 {
            return rule("an address has at most 3 street lines");
        }
        let optional_ok = p.org.as_deref().is_none_or(|s| within(s, 255))
            && p.sp.as_deref().is_none_or(|s| within(s, 255))
            && p.pc.as_deref().is_none_or(|s| within(s, 16))
            && p.street.iter().all(|s| within(s, 255));
        if !optional_ok {
            return rule("org, street and sp have 1 to 255 characters, the postal code 1 to 16");
        }
        if p.cc.len() != 2 || !p.cc.bytes().all(|b| b.is_ascii_alphabetic()) {
            return rule(format!(
                "{:?} is not a two-letter ISO 3166 country code",
                p.cc
            ));
        }
        p.cc.make_ascii_uppercase();
        if p.kind == PostalType::Int {
            let all_ascii = p.name.is_ascii()
                && p.org.as_deref().is_none_or(str::is_ascii)
                && p.street.iter().all(|s| s.is_ascii())
                && p.city.is_ascii()
                && p.sp.as_deref().is_none_or(str::is_ascii)
                && p.pc.as_deref().is_none_or(str::is_ascii);
            if !all_ascii {
                return rule(
                    "a postal info of type int takes 7-bit ASCII only; use loc for other characters",
                );
            }
        }
    }
    Ok(())
}

/// An E.164 number as EPP writes it: `+CCC.NNNNNNNNNNNNNN`.
pub fn is_e164(number: &str) -> bool {
    number
        .strip_prefix('+')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(cc, n)| {
            (1..=3).contains(&cc.len())
                && (1..=14).contains(&n.len())
                && cc.bytes().all(|b| b.is_ascii_digit())
                && n.bytes().all(|b| b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roids_follow_rfc5730_and_ours_are_numbered() {
        assert!(roid_syntax("D12-MA"));
        assert!(roid_syntax("Dexample1-TEST"));
        assert!(!roid_syntax("D12"));
        assert!(!roid_syntax("D 12-MA"));
        assert!(!roid_syntax("D12-TOOLONGREPO"));
        assert_eq!(own_roid_number("D12-MA"), Some(12));
        assert_eq!(own_roid_number("H7-MA"), Some(7));
        assert_eq!(own_roid_number("Dexample-MA"), None);
        assert_eq!(own_roid_number("D12-TEST"), None);
    }

    #[test]
    fn derived_statuses_are_left_out_and_pending_ones_need_their_action() {
        use Status::*;
        assert!(matches!(domain_statuses(&[Ok], false, false), Result::Ok(v) if v.is_empty()));
        assert!(domain_statuses(&[Ok, ClientHold], false, false).is_err());
        assert!(domain_statuses(&[PendingDelete], false, false).is_err());
        assert!(matches!(
            domain_statuses(&[ClientHold], true, false),
            Result::Ok(v) if v == vec![ClientHold, PendingDelete]
        ));
        assert!(domain_statuses(&[PendingRenew], false, false).is_err());
        assert!(matches!(object_statuses(&[Ok, Linked], false), Result::Ok(v) if v.is_empty()));
        assert!(object_statuses(&[PendingDelete], false).is_err());
    }
}
