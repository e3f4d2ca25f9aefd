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
//!
//! This file owns the items, the report and the [`Loader`] that takes them
//! in; [`checks`] holds the checks every kind of record shares, [`records`]
//! each kind's own checks and how it is loaded, [`writer`] the thread that
//! writes the batches.

mod checks;
mod records;
mod writer;

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::config::Settings;
use crate::error::EppError;
use crate::model::{Audit, Contact, Domain, Host, Registrar, Timestamp};
use crate::store::{Created, DueEntry, Effects, NewObject, Store, StoreError};
use writer::{Job, Writer, write_batch};

pub use checks::is_e164;

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
}
