//! Reading a full deposit back: a streaming reader of `<rde:contents>`
//! (one object in memory at a time), the RFC 9022 objects turned into
//! loader items, and [`import`], which loads them in dependency order.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use serde::Serialize;

use super::{
    COMMAND, CONTACT, DOMAIN, IDENTITY, RDE, RDE_CONTACT, RDE_DOMAIN, RDE_HEADER, RDE_HOST,
    RDE_REGISTRAR, SECDNS,
};
use crate::config::Settings;
use crate::data::DataError;
use crate::data::load::{Item, Kind, Loader, Options, Remark, Report};
use crate::model::{
    Contact, ContactRole, Disclose, Domain, DomainContact, DsData, Host, Identity, IdentityKind,
    Phone, PostalInfo, PostalType, Registrar, RegistrarAddress, RegistrarState, Status, Timestamp,
    Transfer, TransferStatus, Verification,
};
use crate::store::Store;

/// One element of an object read from a deposit.
#[derive(Debug, Clone, Default)]
struct Node {
    ns: String,
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> &str {
        self.text
            .trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
    }

    fn all<'n>(&'n self, ns: &'n str, name: &'n str) -> impl Iterator<Item = &'n Node> + 'n {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    fn child(&self, ns: &str, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    fn opt_text(&self, ns: &str, name: &str) -> Option<String> {
        self.child(ns, name).map(|c| c.text().to_owned())
    }

    fn required(&self, ns: &str, name: &str) -> Result<&Node, String> {
        self.child(ns, name)
            .ok_or_else(|| format!("<{name}> is missing"))
    }

    fn req_text(&self, ns: &str, name: &str) -> Result<String, String> {
        self.required(ns, name).map(|c| c.text().to_owned())
    }

    fn req_date(&self, ns: &str, name: &str) -> Result<Timestamp, String> {
        parse_date(name, self.required(ns, name)?.text())
    }

    fn opt_date(&self, ns: &str, name: &str) -> Result<Option<Timestamp>, String> {
        self.child(ns, name)
            .map(|c| parse_date(name, c.text()))
            .transpose()
    }
}

fn parse_date(name: &str, text: &str) -> Result<Timestamp, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("<{name}>: {text:?} is not a dateTime"))
}

/// A buffered reader that counts the lines the XML reader has consumed.
struct Lines<R> {
    inner: BufReader<R>,
    newlines: u64,
}

impl<R: std::io::Read> std::io::Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.newlines += count_newlines(&buf[..n]);
        Ok(n)
    }
}

impl<R: std::io::Read> BufRead for Lines<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        let buffered = self.inner.buffer();
        let amt = amt.min(buffered.len());
        self.newlines += count_newlines(&buffered[..amt]);
        self.inner.consume(amt);
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.iter().filter(|b| **b == b'\n').count()).unwrap_or(0)
}

/// What a deposit says about itself.
#[derive(Debug, Clone, Default)]
struct Head {
    kind: Option<String>,
    watermark: Option<Timestamp>,
}

/// One object of `<rde:contents>`, with the line it starts on.
enum Read {
    /// Read in full.
    Object(u64, Node),
    /// Passed over: its namespace and local name.
    Skipped(u64, String, String),
}

/// Reads a deposit's objects one at a time.
struct Scanner {
    path: PathBuf,
    reader: NsReader<Lines<File>>,
    outer: Vec<(String, String)>,
    stack: Vec<Node>,
    skipping: Option<(usize, String, String)>,
    line: u64,
    head: Head,
    watermark_text: Option<String>,
}

impl Scanner {
    fn open(path: &Path) -> Result<Self, DataError> {
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let mut reader = NsReader::from_reader(Lines {
            inner: BufReader::with_capacity(1 << 20, file),
            newlines: 0,
        });
        {
            let config = reader.config_mut();
            config.check_end_names = true;
            config.expand_empty_elements = false;
        }
        Ok(Self {
            path: path.to_owned(),
            reader,
            outer: Vec::with_capacity(4),
            stack: Vec::with_capacity(8),
            skipping: None,
            line: 0,
            head: Head::default(),
            watermark_text: None,
        })
    }

    fn malformed(&self, what: impl std::fmt::Display) -> DataError {
        DataError::Format(format!(
            "{} is not a well-formed deposit (line {}): {what}",
            self.path.display(),
            self.reader.get_ref().newlines + 1
        ))
    }

    fn in_contents(&self) -> bool {
        self.outer.len() == 2 && self.outer[1].0 == RDE && self.outer[1].1 == "contents"
    }

    /// The next object of `<rde:contents>`: read in full when `want`
    /// says so for its namespace and local name, else passed over.
    fn next_object(
        &mut self,
        want: &dyn Fn(&str, &str) -> bool,
    ) -> Result<Option<Read>, DataError> {
        let mut buf = Vec::with_capacity(1024);
        loop {
            buf.clear();
            let (resolved, event) = match self.reader.read_resolved_event_into(&mut buf) {
                Ok(x) => x,
                Err(e) => {
                    let e = e.to_string();
                    return Err(self.malformed(e));
                }
            };
            let ns = match resolved {
                ResolveResult::Bound(ns) => ns.as_ref().to_owned(),
                ResolveResult::Unbound => String::new(),
                ResolveResult::Unknown(prefix) => {
                    if matches!(event, Event::Start(_) | Event::Empty(_)) {
                        let p = prefix.clone();
                        return Err(self.malformed(format!("undeclared prefix {p:?}")));
                    }
                    String::new()
                }
            };
            let line = self.reader.get_ref().newlines + 1;
            let empty = matches!(event, Event::Empty(_));
            if let Some((depth, _, _)) = &mut self.skipping {
                match event {
                    Event::Start(_) => *depth += 1,
                    Event::End(_) => *depth -= 1,
                    Event::Eof => return Err(self.malformed("the file ends inside an element")),
                    _ => {}
                }
                if *depth == 0
                    && let Some((_, ns, name)) = self.skipping.take()
                {
                    return Ok(Some(Read::Skipped(self.line, ns, name)));
                }
                continue;
            }
            if self.stack.is_empty()
                && self.in_contents()
                && let Event::Start(start) | Event::Empty(start) = &event
            {
                let name = start.local_name().as_ref().to_owned();
                if !want(&ns, &name) {
                    if empty {
                        return Ok(Some(Read::Skipped(line, ns, name)));
                    }
                    self.line = line;
                    self.skipping = Some((1, ns, name));
                    continue;
                }
            }
            match event {
                Event::Start(start) | Event::Empty(start)
                    if self.stack.is_empty() && !self.in_contents() =>
                {
                    let name = start.local_name().as_ref().to_owned();
                    if self.outer.is_empty() {
                        if ns != RDE || name != "deposit" {
                            return Err(self.malformed("the root element is not <rde:deposit>"));
                        }
                        let node =
                            element(&start, ns.clone(), &name).map_err(|e| self.malformed(e))?;
                        self.head.kind = node.attr("type").map(str::to_owned);
                    }
                    if self.outer.len() == 1 && ns == RDE && name == "watermark" {
                        self.watermark_text = Some(String::new());
                    }
                    if !empty {
                        self.outer.push((ns, name));
                    }
                }
                Event::Start(start) => {
                    let name = start.local_name().as_ref().to_owned();
                    if self.stack.is_empty() {
                        self.line = line;
                    }
                    let node = element(&start, ns, &name).map_err(|e| self.malformed(e))?;
                    self.stack.push(node);
                }
                Event::Empty(start) => {
                    let name = start.local_name().as_ref().to_owned();
                    let node = element(&start, ns, &name).map_err(|e| self.malformed(e))?;
                    match self.stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => return Ok(Some(Read::Object(line, node))),
                    }
                }
                Event::End(_) => {
                    if let Some(node) = self.stack.pop() {
                        match self.stack.last_mut() {
                            Some(parent) => parent.children.push(node),
                            None => return Ok(Some(Read::Object(self.line, node))),
                        }
                    } else {
                        if let Some((ns, name)) = self.outer.pop()
                            && ns == RDE
                            && name == "watermark"
                            && let Some(text) = self.watermark_text.take()
                        {
                            let t = parse_date("watermark", text.trim())
                                .map_err(|e| self.malformed(e))?;
                            self.head.watermark = Some(t);
                        }
                    }
                }
                Event::Text(t) => {
                    let content = t.xml10_content();
                    self.push_text(&content);
                }
                Event::CData(t) => {
                    let raw = t.into_inner();
                    self.push_text(&raw);
                }
                Event::GeneralRef(r) => {
                    let c = if r.is_char_ref() {
                        match r.resolve_char_ref() {
                            Ok(Some(c)) => c,
                            _ => return Err(self.malformed("a bad character reference")),
                        }
                    } else {
                        match r.xml10_content().as_ref() {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "quot" => '"',
                            "apos" => '\'',
                            other => {
                                let other = other.to_owned();
                                return Err(self.malformed(format!("undeclared entity &{other};")));
                            }
                        }
                    };
                    let mut b = [0u8; 4];
                    self.push_text(c.encode_utf8(&mut b));
                }
                Event::DocType(_) => {
                    return Err(self.malformed("a DOCTYPE is not allowed"));
                }
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => {
                    if !self.outer.is_empty() || !self.stack.is_empty() {
                        return Err(self.malformed("the file ends inside an element"));
                    }
                    return Ok(None);
                }
            }
        }
    }

    fn push_text(&mut self, text: &str) {
        if let Some(top) = self.stack.last_mut() {
            top.text.push_str(text);
        } else if let Some(w) = &mut self.watermark_text {
            w.push_str(text);
        }
    }
}

fn element(start: &BytesStart<'_>, ns: String, name: &str) -> Result<Node, String> {
    let mut attrs = Vec::new();
    for attr in start.attributes().with_checks(true) {
        let attr = attr.map_err(|e| format!("malformed attribute on <{name}>: {e}"))?;
        let key = attr.key;
        if key.as_ref() == "xmlns" || key.as_ref().starts_with("xmlns:") {
            continue;
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("invalid attribute value on <{name}>: {e}"))?;
        attrs.push((key.local_name().as_ref().to_owned(), value.into_owned()));
    }
    Ok(Node {
        ns,
        name: name.to_owned(),
        attrs,
        text: String::new(),
        children: Vec::new(),
    })
}

// ----- objects from the deposit -----

fn statuses(node: &Node, ns: &str) -> Result<Vec<Status>, String> {
    node.all(ns, "status")
        .map(|s| {
            let v = s.attr("s").unwrap_or_default();
            Status::parse(v).ok_or_else(|| format!("{v:?} is not an EPP status"))
        })
        .collect()
}

fn transfer(node: &Node, ns: &str) -> Result<Option<Transfer>, String> {
    let Some(t) = node.child(ns, "trnData") else {
        return Ok(None);
    };
    let status_text = t.req_text(ns, "trStatus")?;
    let status = [
        TransferStatus::Pending,
        TransferStatus::ClientApproved,
        TransferStatus::ClientCancelled,
        TransferStatus::ClientRejected,
        TransferStatus::ServerApproved,
        TransferStatus::ServerCancelled,
    ]
    .into_iter()
    .find(|s| s.as_str() == status_text)
    .ok_or_else(|| format!("{status_text:?} is not a transfer status"))?;
    Ok(Some(Transfer {
        status,
        gaining: t.req_text(ns, "reRr")?,
        requested: t.req_date(ns, "reDate")?,
        losing: t.req_text(ns, "acRr")?,
        action_date: t.req_date(ns, "acDate")?,
        reject_reason: None,
        review_until: None,
    }))
}

fn registrar(node: &Node) -> Result<Registrar, String> {
    let ns = RDE_REGISTRAR;
    let state = match node.opt_text(ns, "status").as_deref() {
        None | Some("ok") => RegistrarState::Active,
        Some("readonly") => RegistrarState::Suspended,
        Some("terminated") => RegistrarState::Terminated,
        Some(other) => return Err(format!("{other:?} is not a registrar status")),
    };
    let created = node.opt_date(ns, "crDate")?.unwrap_or_default();
    Ok(Registrar {
        id: node.req_text(ns, "id")?,
        name: node.req_text(ns, "name")?,
        password_hash: String::new(),
        cert_fingerprints: Vec::new(),
        ip_allow: Vec::new(),
        session_limit: None,
        state,
        email: node.opt_text(ns, "email"),
        created,
        address: node
            .child(ns, "postalInfo")
            .and_then(|p| p.child(ns, "addr"))
            .map(|a| -> Result<RegistrarAddress, String> {
                Ok(RegistrarAddress {
                    street: a.all(ns, "street").map(|s| s.text().to_owned()).collect(),
                    city: a.req_text(ns, "city")?,
                    sp: a.opt_text(ns, "sp"),
                    pc: a.opt_text(ns, "pc"),
                    cc: a.req_text(ns, "cc")?,
                })
            })
            .transpose()?,
        password_set: created,
    })
}

fn phone(node: &Node, ns: &str, name: &str) -> Option<Phone> {
    node.child(ns, name).map(|p| Phone {
        number: p.text().to_owned(),
        ext: p.attr("x").filter(|x| !x.is_empty()).map(str::to_owned),
    })
}

fn postal_type(value: Option<&str>) -> Result<PostalType, String> {
    match value {
        Some("int") => Ok(PostalType::Int),
        Some("loc") => Ok(PostalType::Loc),
        other => Err(format!("postal type {other:?} is not int or loc")),
    }
}

fn contact(node: &Node) -> Result<Contact, String> {
    let ns = RDE_CONTACT;
    let mut postal = Vec::new();
    for p in node.all(ns, "postalInfo") {
        let addr = p.required(CONTACT, "addr")?;
        postal.push(PostalInfo {
            kind: postal_type(p.attr("type"))?,
            name: p.req_text(CONTACT, "name")?,
            org: p.opt_text(CONTACT, "org"),
            street: addr
                .all(CONTACT, "street")
                .map(|s| s.text().to_owned())
                .collect(),
            city: addr.req_text(CONTACT, "city")?,
            sp: addr.opt_text(CONTACT, "sp"),
            pc: addr.opt_text(CONTACT, "pc"),
            cc: addr.req_text(CONTACT, "cc")?,
        });
    }
    let disclose = match node.child(ns, "disclose") {
        None => None,
        Some(d) => {
            let kinds = |name: &str| {
                d.all(CONTACT, name)
                    .map(|e| postal_type(e.attr("type")))
                    .collect::<Result<Vec<_>, String>>()
            };
            Some(Disclose {
                flag: matches!(d.attr("flag"), Some("1" | "true")),
                name: kinds("name")?,
                org: kinds("org")?,
                addr: kinds("addr")?,
                voice: d.child(CONTACT, "voice").is_some(),
                fax: d.child(CONTACT, "fax").is_some(),
                email: d.child(CONTACT, "email").is_some(),
            })
        }
    };
    Ok(Contact {
        id: node.req_text(ns, "id")?,
        roid: node.req_text(ns, "roid")?,
        postal,
        voice: phone(node, ns, "voice"),
        fax: phone(node, ns, "fax"),
        email: node.req_text(ns, "email")?,
        statuses: statuses(node, ns)?,
        sponsor: node.req_text(ns, "clID")?,
        created_by: node.opt_text(ns, "crRr").unwrap_or_default(),
        created: node.req_date(ns, "crDate")?,
        updated_by: node.opt_text(ns, "upRr"),
        updated: node.opt_date(ns, "upDate")?,
        transferred: node.opt_date(ns, "trDate")?,
        auth: None,
        disclose,
        identity: None,
        transfer: transfer(node, ns)?,
    })
}

fn identity(node: &Node) -> Result<(String, Identity), String> {
    let ns = IDENTITY;
    let kind_text = node.req_text(ns, "type")?;
    let kind = IdentityKind::parse(&kind_text)
        .ok_or_else(|| format!("{kind_text:?} is not an identity document type"))?;
    let verification = match node.req_text(ns, "verification")?.as_str() {
        "submitted" => Verification::Submitted,
        "verified" => Verification::Verified,
        "rejected" => Verification::Rejected,
        other => return Err(format!("{other:?} is not a verification state")),
    };
    Ok((
        node.req_text(ns, "id")?,
        Identity {
            kind,
            number: node.req_text(ns, "number")?,
            verification,
            since: node.req_date(ns, "since")?,
            note: node.opt_text(ns, "note"),
        },
    ))
}

fn host(node: &Node) -> Result<Host, String> {
    let ns = RDE_HOST;
    let addrs = node
        .all(ns, "addr")
        .map(|a| {
            a.text()
                .parse::<IpAddr>()
                .map_err(|_| format!("{:?} is not an IP address", a.text()))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Host {
        name: node.req_text(ns, "name")?,
        roid: node.req_text(ns, "roid")?,
        addrs,
        statuses: statuses(node, ns)?,
        superordinate: None,
        sponsor: node.req_text(ns, "clID")?,
        created_by: node.opt_text(ns, "crRr").unwrap_or_default(),
        created: node.req_date(ns, "crDate")?,
        updated_by: node.opt_text(ns, "upRr"),
        updated: node.opt_date(ns, "upDate")?,
        transferred: node.opt_date(ns, "trDate")?,
    })
}

fn domain(node: &Node, watermark: Timestamp) -> Result<Domain, String> {
    let ns = RDE_DOMAIN;
    let statuses = statuses(node, ns)?;
    let mut nameservers = Vec::new();
    if let Some(list) = node.child(ns, "ns") {
        if list.child(DOMAIN, "hostAttr").is_some() {
            return Err("name servers as host attributes (domain:hostAttr) are not served".into());
        }
        nameservers = list
            .all(DOMAIN, "hostObj")
            .map(|h| h.text().to_owned())
            .collect();
    }
    let contacts = node
        .all(ns, "contact")
        .map(|c| {
            let role = c.attr("type").unwrap_or_default();
            let role = ContactRole::parse(role)
                .ok_or_else(|| format!("contact type {role:?} is not admin, tech or billing"))?;
            Ok(DomainContact {
                role,
                id: c.text().to_owned(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut ds_data = Vec::new();
    if let Some(sec) = node.child(ns, "secDNS") {
        if sec.child(SECDNS, "keyData").is_some() {
            return Err("DNSSEC key data (secDNS:keyData) is not served; only DS data".into());
        }
        for ds in sec.all(SECDNS, "dsData") {
            let number = |name: &str| -> Result<u64, String> {
                ds.req_text(SECDNS, name)?
                    .parse::<u64>()
                    .map_err(|_| format!("<secDNS:{name}> is not a number"))
            };
            ds_data.push(DsData {
                key_tag: u16::try_from(number("keyTag")?).map_err(|_| "keyTag out of range")?,
                alg: u8::try_from(number("alg")?).map_err(|_| "alg out of range")?,
                digest_type: u8::try_from(number("digestType")?)
                    .map_err(|_| "digestType out of range")?,
                digest: ds.req_text(SECDNS, "digest")?.to_ascii_uppercase(),
            });
        }
    }
    let updated = node.opt_date(ns, "upDate")?;
    let deleted = statuses
        .contains(&Status::PendingDelete)
        .then(|| updated.unwrap_or(watermark));
    Ok(Domain {
        name: node.req_text(ns, "name")?,
        roid: node.req_text(ns, "roid")?,
        registrant: node.req_text(ns, "registrant")?,
        contacts,
        nameservers,
        statuses,
        sponsor: node.req_text(ns, "clID")?,
        created_by: node.opt_text(ns, "crRr").unwrap_or_default(),
        created: node.req_date(ns, "crDate")?,
        updated_by: node.opt_text(ns, "upRr"),
        updated,
        expires: node.req_date(ns, "exDate")?,
        transferred: node.opt_date(ns, "trDate")?,
        auth: None,
        subordinate_hosts: Vec::new(),
        ds_data,
        proof_ref: None,
        transfer: transfer(node, ns)?,
        pending_owner: None,
        deleted,
        identity_hold: false,
        dispute: None,
        incomplete: None,
    })
}

/// The key (name or id) of an object, to name it in a refusal.
fn label(node: &Node) -> String {
    ["name", "id"]
        .iter()
        .find_map(|n| node.opt_text(&node.ns, n))
        .unwrap_or_default()
}

/// The passes over a deposit, each loading the objects the next ones
/// refer to: registrars; contacts (with their identity documents) and the
/// hosts outside the registry's zones; domains; the hosts inside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Registrars,
    Contacts,
    Domains,
    InnerHosts,
}

impl Pass {
    /// Whether the pass reads an object of `{ns}name` in full.
    fn wants(self, ns: &str, name: &str) -> bool {
        match self {
            Pass::Registrars => matches!(
                (ns, name),
                (RDE_REGISTRAR, "registrar") | (RDE_HOST, "host") | (RDE_HEADER, "header")
            ),
            Pass::Contacts => matches!(
                (ns, name),
                (RDE_CONTACT, "contact") | (IDENTITY, "identity") | (RDE_HOST, "host")
            ),
            Pass::Domains => (ns, name) == (RDE_DOMAIN, "domain"),
            Pass::InnerHosts => (ns, name) == (RDE_HOST, "host"),
        }
    }
}

/// What an import of a deposit found besides the loader's report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DepositCheck {
    /// The deposit's watermark.
    pub watermark: Option<Timestamp>,
    /// The objects the header counts, by object URI.
    pub header: BTreeMap<String, u64>,
    /// The objects found, by object URI.
    pub found: BTreeMap<String, u64>,
}

/// `admin escrow import FILE`: loads a full deposit into an empty store.
///
/// # Errors
/// The store holds objects already, the file is not a full deposit, or
/// the store fails.
pub fn import(
    store: &Store,
    settings: &Settings,
    now: Timestamp,
    operator: &str,
    path: &Path,
) -> Result<(Report, DepositCheck), DataError> {
    if store.holds_objects()? {
        return Err(DataError::Refused(
            "the store holds domains, contacts or hosts already; a deposit is loaded only into an empty store (a new data directory)".into(),
        ));
    }
    let mut loader = Loader::new(
        store,
        settings,
        now,
        operator,
        Options {
            dry_run: false,
            keep_existing_registrars: true,
            command: COMMAND,
        },
    );
    let mut check = DepositCheck::default();
    let mut unknown: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let in_zone = |name: &str| {
        crate::policy::host_name(name, settings)
            .map(|h| h.superordinate.is_some())
            .unwrap_or(false)
    };
    for pass in [
        Pass::Registrars,
        Pass::Contacts,
        Pass::Domains,
        Pass::InnerHosts,
    ] {
        let mut scanner = Scanner::open(path)?;
        let mut waiting: Option<(u64, Contact)> = None;
        let mut inner_hosts = HashSet::new();
        let want = |ns: &str, name: &str| pass.wants(ns, name);
        while let Some(read) = scanner.next_object(&want)? {
            if scanner.head.kind.as_deref() != Some("FULL") {
                return Err(not_full(path, &scanner.head));
            }
            let (line, node) = match read {
                Read::Object(line, node) => (line, node),
                Read::Skipped(line, ns, name) => {
                    if pass == Pass::Registrars {
                        *check.found.entry(ns.clone()).or_default() += 1;
                        if !known_object(&ns, &name) {
                            let e = unknown
                                .entry(format!("{{{ns}}}{name}"))
                                .or_insert((line, 0));
                            e.1 += 1;
                        }
                    }
                    continue;
                }
            };
            if pass == Pass::Registrars {
                *check.found.entry(node.ns.clone()).or_default() += 1;
            }
            let is_identity = node.is(IDENTITY, "identity");
            if !is_identity && let Some((l, c)) = waiting.take() {
                loader.load(l, Item::Contact(Box::new(c)))?;
            }
            let watermark = scanner.head.watermark.unwrap_or(now);
            let item = match (pass, node.ns.as_str(), node.name.as_str()) {
                (Pass::Registrars, RDE_HEADER, _) => {
                    for c in node.all(RDE_HEADER, "count") {
                        let uri = c.attr("uri").unwrap_or_default().to_owned();
                        let n = c.text().parse::<u64>().unwrap_or(0);
                        *check.header.entry(uri).or_default() += n;
                    }
                    continue;
                }
                (Pass::Registrars, RDE_HOST, _) => {
                    if in_zone(&label(&node)) {
                        inner_hosts.insert(label(&node));
                    }
                    continue;
                }
                (Pass::Registrars, _, _) => registrar(&node).map(|r| Item::Registrar(Box::new(r))),
                (Pass::Contacts, RDE_CONTACT, _) => match contact(&node) {
                    Ok(c) => {
                        waiting = Some((line, c));
                        continue;
                    }
                    Err(e) => Err(e),
                },
                (Pass::Contacts, IDENTITY, _) => match identity(&node) {
                    Ok((id, doc)) => match &mut waiting {
                        Some((_, c)) if c.id == id => {
                            c.identity = Some(doc);
                            continue;
                        }
                        _ => Err(format!(
                            "the identity document of {id} does not follow its contact"
                        )),
                    },
                    Err(e) => Err(e),
                },
                (Pass::Contacts | Pass::InnerHosts, RDE_HOST, _) => {
                    if in_zone(&label(&node)) != (pass == Pass::InnerHosts) {
                        continue;
                    }
                    host(&node).map(|h| Item::Host(Box::new(h)))
                }
                _ => domain(&node, watermark).map(|mut d| {
                    if d.statuses.contains(&Status::PendingUpdate) {
                        d.statuses.retain(|s| *s != Status::PendingUpdate);
                        loader.report_mut().warnings.push(Remark {
                            line,
                            reason: format!(
                                "domain {}: its pending change of registrant (pendingUpdate, R13) is not in the deposit; loaded without it",
                                d.name
                            ),
                        });
                    }
                    Item::Domain(Box::new(d))
                }),
            };
            match item {
                Ok(item) => loader.load(line, item)?,
                Err(reason) => {
                    let kind = match node.name.as_str() {
                        "registrar" => Kind::Registrar,
                        "contact" | "identity" => Kind::Contact,
                        "host" => Kind::Host,
                        _ => Kind::Domain,
                    };
                    loader.report_mut().reject_unreadable(
                        line,
                        Some(kind),
                        format!("{} {}: {reason}", kind.as_str(), label(&node)),
                    );
                }
            }
        }
        if scanner.head.kind.as_deref() != Some("FULL") {
            return Err(not_full(path, &scanner.head));
        }
        if let Some((l, c)) = waiting.take() {
            loader.load(l, Item::Contact(Box::new(c)))?;
        }
        if pass == Pass::Registrars {
            check.watermark = scanner.head.watermark;
            loader.expect_hosts(inner_hosts);
        }
    }
    for (element, (line, n)) in unknown {
        loader.report_mut().warnings.push(Remark {
            line,
            reason: format!("{n} {element} objects are not loaded (not served by this registry)"),
        });
    }
    for (uri, counted) in &check.header {
        let found = check.found.get(uri).copied().unwrap_or(0);
        if *counted != found {
            loader.report_mut().warnings.push(Remark {
                line: 0,
                reason: format!(
                    "the header counts {counted} objects {uri}, the deposit holds {found}"
                ),
            });
        }
    }
    let report = loader.finish()?;
    Ok((report, check))
}

fn not_full(path: &Path, head: &Head) -> DataError {
    DataError::Format(format!(
        "{} is a deposit of type {:?}; only FULL deposits are loaded",
        path.display(),
        head.kind.as_deref().unwrap_or("?")
    ))
}

/// The objects a deposit of this registry holds.
fn known_object(ns: &str, name: &str) -> bool {
    matches!(
        (ns, name),
        (RDE_REGISTRAR, "registrar")
            | (RDE_CONTACT, "contact")
            | (IDENTITY, "identity")
            | (RDE_HOST, "host")
            | (RDE_DOMAIN, "domain")
            | (RDE_HEADER, "header")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DueKind;

    const DEPOSIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rde:deposit type="FULL" id="20310501"
  xmlns:rde="urn:ietf:params:xml:ns:rde-1.0"
  xmlns:rdeHeader="urn:ietf:params:xml:ns:rdeHeader-1.0"
  xmlns:rdeDomain="urn:ietf:params:xml:ns:rdeDomain-1.0"
  xmlns:rdeHost="urn:ietf:params:xml:ns:rdeHost-1.0"
  xmlns:rdeContact="urn:ietf:params:xml:ns:rdeContact-1.0"
  xmlns:rdeRegistrar="urn:ietf:params:xml:ns:rdeRegistrar-1.0"
  xmlns:rdeIDN="urn:ietf:params:xml:ns:rdeIDN-1.0"
  xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"
  xmlns:contact="urn:ietf:params:xml:ns:contact-1.0">
  <rde:watermark>2031-05-01T00:00:00Z</rde:watermark>
  <rde:rdeMenu><rde:version>1.0</rde:version></rde:rdeMenu>
  <rde:contents>
    <rdeHeader:header>
      <rdeHeader:tld>ma</rdeHeader:tld>
      <rdeHeader:count uri="urn:ietf:params:xml:ns:rdeDomain-1.0">3</rdeHeader:count>
    </rdeHeader:header>
    <rdeDomain:domain>
      <rdeDomain:name>efface.ma</rdeDomain:name>
      <rdeDomain:roid>D41-MA</rdeDomain:roid>
      <rdeDomain:status s="pendingDelete"/>
      <rdeDomain:rgpStatus s="redemptionPeriod"/>
      <rdeDomain:registrant>jd-1</rdeDomain:registrant>
      <rdeDomain:clID>regx</rdeDomain:clID>
      <rdeDomain:crRr>regx</rdeDomain:crRr>
      <rdeDomain:crDate>2020-04-03T22:00:00.0Z</rdeDomain:crDate>
      <rdeDomain:exDate>2032-04-03T22:00:00.0Z</rdeDomain:exDate>
      <rdeDomain:upRr>regx</rdeDomain:upRr>
      <rdeDomain:upDate>2031-04-20T10:00:00Z</rdeDomain:upDate>
    </rdeDomain:domain>
    <rdeDomain:domain>
      <rdeDomain:name>transfert.ma</rdeDomain:name>
      <rdeDomain:roid>D42-MA</rdeDomain:roid>
      <rdeDomain:status s="pendingTransfer"/>
      <rdeDomain:registrant>jd-1</rdeDomain:registrant>
      <rdeDomain:contact type="admin">jd-1</rdeDomain:contact>
      <rdeDomain:ns><domain:hostObj>ns1.example.com</domain:hostObj></rdeDomain:ns>
      <rdeDomain:clID>regx</rdeDomain:clID>
      <rdeDomain:crRr client="jdoe">regx</rdeDomain:crRr>
      <rdeDomain:crDate>2020-04-03T22:00:00Z</rdeDomain:crDate>
      <rdeDomain:exDate>2032-04-03T22:00:00Z</rdeDomain:exDate>
      <rdeDomain:trnData>
        <rdeDomain:trStatus>pending</rdeDomain:trStatus>
        <rdeDomain:reRr>regy</rdeDomain:reRr>
        <rdeDomain:reDate>2031-04-29T10:00:00Z</rdeDomain:reDate>
        <rdeDomain:acRr>regx</rdeDomain:acRr>
        <rdeDomain:acDate>2031-05-04T10:00:00Z</rdeDomain:acDate>
      </rdeDomain:trnData>
    </rdeDomain:domain>
    <rdeHost:host>
      <rdeHost:name>ns1.example.com</rdeHost:name>
      <rdeHost:roid>H7-MA</rdeHost:roid>
      <rdeHost:status s="ok"/>
      <rdeHost:clID>regx</rdeHost:clID>
      <rdeHost:crRr>regx</rdeHost:crRr>
      <rdeHost:crDate>2019-05-08T12:10:00Z</rdeHost:crDate>
    </rdeHost:host>
    <rdeContact:contact>
      <rdeContact:id>jd-1</rdeContact:id>
      <rdeContact:roid>C3-MA</rdeContact:roid>
      <rdeContact:status s="ok"/>
      <rdeContact:postalInfo type="int">
        <contact:name>John &amp; Jane Doe</contact:name>
        <contact:addr><contact:city>Casablanca</contact:city><contact:cc>MA</contact:cc></contact:addr>
      </rdeContact:postalInfo>
      <rdeContact:email>jd@example.ma</rdeContact:email>
      <rdeContact:clID>regx</rdeContact:clID>
      <rdeContact:crRr>regx</rdeContact:crRr>
      <rdeContact:crDate>2019-09-13T08:01:00Z</rdeContact:crDate>
    </rdeContact:contact>
    <rdeRegistrar:registrar>
      <rdeRegistrar:id>regx</rdeRegistrar:id>
      <rdeRegistrar:name>Registrar X</rdeRegistrar:name>
      <rdeRegistrar:status>ok</rdeRegistrar:status>
      <rdeRegistrar:crDate>2005-04-23T11:49:00Z</rdeRegistrar:crDate>
    </rdeRegistrar:registrar>
    <rdeRegistrar:registrar>
      <rdeRegistrar:id>regy</rdeRegistrar:id>
      <rdeRegistrar:name>Registrar Y</rdeRegistrar:name>
      <rdeRegistrar:crDate>2005-04-23T11:49:00Z</rdeRegistrar:crDate>
    </rdeRegistrar:registrar>
    <rdeIDN:idnTableRef id="fr"><rdeIDN:url>https://example.ma/fr</rdeIDN:url></rdeIDN:idnTableRef>
  </rde:contents>
</rde:deposit>
"#;

    #[test]
    fn a_deposit_in_any_order_loads_with_redemption_and_pending_transfer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data"), 1 << 20).unwrap();
        let file = dir.path().join("deposit.xml");
        std::fs::write(&file, DEPOSIT).unwrap();
        let settings = Settings::default();
        let now = parse_date("now", "2031-05-01T06:00:00Z").unwrap();
        let (report, check) = import(&store, &settings, now, "test", &file).unwrap();
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        assert_eq!(report.domains.loaded, 2);
        assert_eq!(report.registrars.loaded, 2);
        let warnings: Vec<&str> = report.warnings.iter().map(|w| w.reason.as_str()).collect();
        assert!(
            warnings.iter().any(|w| w.contains("idnTableRef")),
            "{warnings:?}"
        );
        assert!(
            warnings.iter().any(|w| w.contains("header counts 3")),
            "{warnings:?}"
        );
        assert_eq!(
            check.watermark,
            parse_date("w", "2031-05-01T00:00:00Z").ok()
        );
        let efface = store.domain("efface.ma").unwrap().unwrap();
        assert_eq!(efface.deleted, efface.updated);
        assert_eq!(efface.statuses, vec![Status::PendingDelete]);
        let transfert = store.domain("transfert.ma").unwrap().unwrap();
        assert_eq!(transfert.transfer.as_ref().unwrap().gaining, "regy");
        assert_eq!(store.host_use_count("ns1.example.com").unwrap(), 1);
        let contact = store.contact("jd-1").unwrap().unwrap();
        assert_eq!(contact.postal[0].name, "John & Jane Doe");
        let far = parse_date("far", "2040-01-01T00:00:00Z").unwrap();
        let due: Vec<(DueKind, String)> = store
            .due_until(far)
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, e.name))
            .collect();
        assert!(
            due.contains(&(DueKind::Purge, "efface.ma".into())),
            "{due:?}"
        );
        assert!(
            due.contains(&(DueKind::TransferAutoApprove, "transfert.ma".into())),
            "{due:?}"
        );
        assert!(due.contains(&(DueKind::GraceEnd, "transfert.ma".into())));
        // New roids stay above the deposit's.
        let roid = store.next_roid('D').unwrap();
        assert!(
            roid.trim_start_matches('D')
                .trim_end_matches("-MA")
                .parse::<u64>()
                .unwrap()
                > 42
        );
        // A second import is refused: the store holds objects now.
        assert!(matches!(
            import(&store, &settings, now, "test", &file),
            Err(DataError::Refused(_))
        ));
    }

    #[test]
    fn a_diff_deposit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data"), 1 << 20).unwrap();
        let file = dir.path().join("deposit.xml");
        std::fs::write(&file, DEPOSIT.replace(r#"type="FULL""#, r#"type="DIFF""#)).unwrap();
        let now = parse_date("now", "2031-05-01T06:00:00Z").unwrap();
        assert!(matches!(
            import(&store, &Settings::default(), now, "test", &file),
            Err(DataError::Format(_))
        ));
    }

    #[test]
    fn the_line_counter_counts_what_was_consumed() {
        let mut lines = Lines {
            inner: BufReader::new("a\nb\nc\n".as_bytes()),
            newlines: 0,
        };
        let _ = lines.fill_buf().unwrap();
        lines.consume(2);
        assert_eq!(lines.newlines, 1);
        lines.consume(3);
        assert_eq!(lines.newlines, 2);
    }
}
