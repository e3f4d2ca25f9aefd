//! Writing a full deposit: the RFC 8909 envelope and the RFC 9022 objects,
//! streamed from the store into a hidden file renamed into place once
//! complete and on disk.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::SecondsFormat;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::Serialize;

use super::{
    CONTACT, DOMAIN, IDENTITY, RDE, RDE_CONTACT, RDE_DOMAIN, RDE_HEADER, RDE_HOST, RDE_REGISTRAR,
    SECDNS,
};
use crate::config::Settings;
use crate::data::DataError;
use crate::model::{
    Contact, Disclose, Domain, Host, Identity, Phone, Registrar, RegistrarState, Status, Timestamp,
    Transfer,
};
use crate::store::{Store, StoreError};

/// How many objects of each kind a deposit holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DepositCounts {
    /// Registrars.
    pub registrars: u64,
    /// Contacts.
    pub contacts: u64,
    /// Identity documents of contacts.
    pub identities: u64,
    /// Hosts.
    pub hosts: u64,
    /// Domains.
    pub domains: u64,
}

/// A deposit written.
#[derive(Debug, Clone, Serialize)]
pub struct Deposit {
    /// The file.
    pub path: PathBuf,
    /// Its id.
    pub id: String,
    /// Its watermark: the registry's time it describes.
    pub watermark: Timestamp,
    /// Its resend number (0 unless a deposit of that day exists already).
    pub resend: u32,
    /// What it holds.
    pub counts: DepositCounts,
}

fn date(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The XML under construction, streamed to its file.
struct Out<W: Write> {
    w: Writer<W>,
}

impl<W: Write> Out<W> {
    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> std::io::Result<()> {
        self.w.write_event(Event::Start(
            BytesStart::new(name).with_attributes(attrs.iter().copied()),
        ))
    }

    fn close(&mut self, name: &str) -> std::io::Result<()> {
        self.w.write_event(Event::End(BytesEnd::new(name)))
    }

    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> std::io::Result<()> {
        self.w.write_event(Event::Empty(
            BytesStart::new(name).with_attributes(attrs.iter().copied()),
        ))
    }

    fn leaf_attrs(
        &mut self,
        name: &str,
        attrs: &[(&str, &str)],
        text: &str,
    ) -> std::io::Result<()> {
        self.open(name, attrs)?;
        self.w.write_event(Event::Text(BytesText::new(text)))?;
        self.close(name)
    }

    fn leaf(&mut self, name: &str, text: &str) -> std::io::Result<()> {
        self.leaf_attrs(name, &[], text)
    }

    fn opt_leaf(&mut self, name: &str, text: Option<&str>) -> std::io::Result<()> {
        match text {
            Some(text) => self.leaf(name, text),
            None => Ok(()),
        }
    }

    fn date(&mut self, name: &str, t: &Timestamp) -> std::io::Result<()> {
        self.leaf(name, &date(t))
    }

    fn opt_date(&mut self, name: &str, t: Option<&Timestamp>) -> std::io::Result<()> {
        match t {
            Some(t) => self.date(name, t),
            None => Ok(()),
        }
    }
}

/// The registry's top-level domain, as the deposit's header names it.
fn tld(settings: &Settings) -> String {
    settings
        .zones
        .iter()
        .filter_map(|z| z.name.rsplit('.').next())
        .next()
        .unwrap_or("ma")
        .to_owned()
}

fn registrar_status(state: RegistrarState) -> &'static str {
    match state {
        RegistrarState::Active => "ok",
        RegistrarState::Suspended => "readonly",
        RegistrarState::Terminated => "terminated",
    }
}

/// `admin escrow export --dir DIR`: writes a full deposit of the store as
/// it is at `now` into `dir`, as `{tld}_{YYYY-MM-DD}_full_S1_R{resend}.xml`
/// (the resend number is the first one no file of that day has).
///
/// # Errors
/// The directory or file cannot be written, or the store fails; no
/// partial deposit is left under the deposit's name.
pub fn export(
    store: &Store,
    settings: &Settings,
    now: Timestamp,
    dir: &Path,
) -> Result<Deposit, DataError> {
    crate::fsmode::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let tld = tld(settings);
    let day = now.format("%Y-%m-%d");
    let mut resend = 0u32;
    let path = loop {
        let candidate = dir.join(format!("{tld}_{day}_full_S1_R{resend}.xml"));
        if !candidate.exists() {
            break candidate;
        }
        resend += 1;
    };
    let staging = dir.join(format!(
        ".{}.{}.partial",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let id = now.format("%Y%m%d%H%M").to_string();
    let written = write_deposit(store, settings, now, &staging, &id, resend, &tld);
    let counts = match written {
        Ok(counts) => counts,
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            return Err(e);
        }
    };
    std::fs::rename(&staging, &path).map_err(|e| DataError::io(&path, e))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(Deposit {
        path,
        id,
        watermark: now,
        resend,
        counts,
    })
}

fn write_deposit(
    store: &Store,
    settings: &Settings,
    now: Timestamp,
    path: &Path,
    id: &str,
    resend: u32,
    tld: &str,
) -> Result<DepositCounts, DataError> {
    let io = |e: std::io::Error| DataError::io(path, e);
    let file = crate::fsmode::create_file(path).map_err(io)?;
    let mut out = Out {
        w: Writer::new_with_indent(BufWriter::with_capacity(1 << 20, file), b' ', 2),
    };
    let counts = write_contents(&mut out, store, settings, now, id, resend, tld)?;
    let buffered = out.w.into_inner();
    let file = buffered
        .into_inner()
        .map_err(|e| DataError::io(path, e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok(counts)
}

/// An I/O error of the deposit, or a store failure, while writing.
enum WriteError {
    Io(std::io::Error),
    Store(StoreError),
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io(e)
    }
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        WriteError::Store(e)
    }
}

fn write_contents<W: Write>(
    out: &mut Out<W>,
    store: &Store,
    settings: &Settings,
    now: Timestamp,
    id: &str,
    resend: u32,
    tld: &str,
) -> Result<DepositCounts, DataError> {
    let result = (|| -> Result<DepositCounts, WriteError> {
        out.w
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let resend = resend.to_string();
        out.open(
            "rde:deposit",
            &[
                ("type", "FULL"),
                ("id", id),
                ("resend", resend.as_str()),
                ("xmlns:rde", RDE),
                ("xmlns:rdeHeader", RDE_HEADER),
                ("xmlns:rdeRegistrar", RDE_REGISTRAR),
                ("xmlns:rdeContact", RDE_CONTACT),
                ("xmlns:rdeHost", RDE_HOST),
                ("xmlns:rdeDomain", RDE_DOMAIN),
                ("xmlns:domain", DOMAIN),
                ("xmlns:contact", CONTACT),
                ("xmlns:secDNS", SECDNS),
                ("xmlns:maIdentity", IDENTITY),
            ],
        )?;
        out.date("rde:watermark", &now)?;
        out.open("rde:rdeMenu", &[])?;
        out.leaf("rde:version", "1.0")?;
        for uri in [
            RDE_HEADER,
            RDE_REGISTRAR,
            RDE_CONTACT,
            RDE_HOST,
            RDE_DOMAIN,
            IDENTITY,
        ] {
            out.leaf("rde:objURI", uri)?;
        }
        out.close("rde:rdeMenu")?;
        out.open("rde:contents", &[])?;
        let mut counts = DepositCounts::default();
        for r in store.registrars()? {
            write_registrar(out, &r)?;
            counts.registrars += 1;
        }
        for c in store.all_contacts() {
            let c = c?;
            let linked = store.contact_linked(&c.id)?;
            write_contact(out, &c, linked)?;
            counts.contacts += 1;
            if let Some(identity) = &c.identity {
                write_identity(out, &c.id, identity)?;
                counts.identities += 1;
            }
        }
        // Hosts outside the registry's zones first, then the domains that
        // may use them, then the hosts inside the domains.
        for inside in [false, true] {
            if inside {
                for d in store.all_domains() {
                    write_domain(out, &d?, settings, now)?;
                    counts.domains += 1;
                }
            }
            for h in store.all_hosts() {
                let h = h?;
                if h.superordinate.is_some() != inside {
                    continue;
                }
                let linked = store.host_use_count(&h.name)? > 0;
                write_host(out, &h, linked)?;
                counts.hosts += 1;
            }
        }
        out.open("rdeHeader:header", &[])?;
        out.leaf("rdeHeader:tld", tld)?;
        for (uri, n) in [
            (RDE_DOMAIN, counts.domains),
            (RDE_HOST, counts.hosts),
            (RDE_CONTACT, counts.contacts),
            (RDE_REGISTRAR, counts.registrars),
            (IDENTITY, counts.identities),
        ] {
            out.leaf_attrs("rdeHeader:count", &[("uri", uri)], &n.to_string())?;
        }
        out.close("rdeHeader:header")?;
        out.close("rde:contents")?;
        out.close("rde:deposit")?;
        out.w.get_mut().write_all(b"\n")?;
        Ok(counts)
    })();
    result.map_err(|e| match e {
        WriteError::Io(e) => DataError::Format(format!("writing the deposit: {e}")),
        WriteError::Store(e) => DataError::Store(e),
    })
}

fn write_registrar<W: Write>(out: &mut Out<W>, r: &Registrar) -> std::io::Result<()> {
    out.open("rdeRegistrar:registrar", &[])?;
    out.leaf("rdeRegistrar:id", &r.id)?;
    out.leaf("rdeRegistrar:name", &r.name)?;
    out.leaf("rdeRegistrar:status", registrar_status(r.state))?;
    if let Some(a) = &r.address {
        out.open("rdeRegistrar:postalInfo", &[("type", "loc")])?;
        out.open("rdeRegistrar:addr", &[])?;
        for line in &a.street {
            out.leaf("rdeRegistrar:street", line)?;
        }
        out.leaf("rdeRegistrar:city", &a.city)?;
        out.opt_leaf("rdeRegistrar:sp", a.sp.as_deref())?;
        out.opt_leaf("rdeRegistrar:pc", a.pc.as_deref())?;
        out.leaf("rdeRegistrar:cc", &a.cc)?;
        out.close("rdeRegistrar:addr")?;
        out.close("rdeRegistrar:postalInfo")?;
    }
    out.opt_leaf("rdeRegistrar:email", r.email.as_deref())?;
    out.date("rdeRegistrar:crDate", &r.created)?;
    out.close("rdeRegistrar:registrar")
}

fn write_statuses<W: Write>(
    out: &mut Out<W>,
    element: &str,
    statuses: &[Status],
) -> std::io::Result<()> {
    for s in statuses {
        out.empty(element, &[("s", s.as_str())])?;
    }
    Ok(())
}

fn write_phone<W: Write>(
    out: &mut Out<W>,
    name: &str,
    phone: Option<&Phone>,
) -> std::io::Result<()> {
    if let Some(p) = phone {
        match &p.ext {
            Some(x) => out.leaf_attrs(name, &[("x", x.as_str())], &p.number)?,
            None => out.leaf(name, &p.number)?,
        }
    }
    Ok(())
}

fn write_transfer<W: Write>(out: &mut Out<W>, prefix: &str, t: &Transfer) -> std::io::Result<()> {
    let el = |n: &str| format!("{prefix}:{n}");
    out.open(&el("trnData"), &[])?;
    out.leaf(&el("trStatus"), t.status.as_str())?;
    out.leaf(&el("reRr"), &t.gaining)?;
    out.date(&el("reDate"), &t.requested)?;
    out.leaf(&el("acRr"), &t.losing)?;
    out.date(&el("acDate"), &t.action_date)?;
    out.close(&el("trnData"))
}

fn write_contact<W: Write>(out: &mut Out<W>, c: &Contact, linked: bool) -> std::io::Result<()> {
    out.open("rdeContact:contact", &[])?;
    out.leaf("rdeContact:id", &c.id)?;
    out.leaf("rdeContact:roid", &c.roid)?;
    let mut statuses = c.statuses.clone();
    if statuses.is_empty() {
        statuses.push(Status::Ok);
    }
    if linked {
        statuses.push(Status::Linked);
    }
    statuses.sort();
    write_statuses(out, "rdeContact:status", &statuses)?;
    for p in &c.postal {
        out.open("rdeContact:postalInfo", &[("type", p.kind.as_str())])?;
        out.leaf("contact:name", &p.name)?;
        out.opt_leaf("contact:org", p.org.as_deref())?;
        out.open("contact:addr", &[])?;
        for street in &p.street {
            out.leaf("contact:street", street)?;
        }
        out.leaf("contact:city", &p.city)?;
        out.opt_leaf("contact:sp", p.sp.as_deref())?;
        out.opt_leaf("contact:pc", p.pc.as_deref())?;
        out.leaf("contact:cc", &p.cc)?;
        out.close("contact:addr")?;
        out.close("rdeContact:postalInfo")?;
    }
    write_phone(out, "rdeContact:voice", c.voice.as_ref())?;
    write_phone(out, "rdeContact:fax", c.fax.as_ref())?;
    out.leaf("rdeContact:email", &c.email)?;
    out.leaf("rdeContact:clID", &c.sponsor)?;
    out.leaf("rdeContact:crRr", &c.created_by)?;
    out.date("rdeContact:crDate", &c.created)?;
    out.opt_leaf("rdeContact:upRr", c.updated_by.as_deref())?;
    out.opt_date("rdeContact:upDate", c.updated.as_ref())?;
    out.opt_date("rdeContact:trDate", c.transferred.as_ref())?;
    if let Some(t) = &c.transfer {
        write_transfer(out, "rdeContact", t)?;
    }
    if let Some(d) = &c.disclose {
        write_disclose(out, d)?;
    }
    out.close("rdeContact:contact")
}

fn write_disclose<W: Write>(out: &mut Out<W>, d: &Disclose) -> std::io::Result<()> {
    out.open(
        "rdeContact:disclose",
        &[("flag", if d.flag { "1" } else { "0" })],
    )?;
    for (name, kinds) in [
        ("contact:name", &d.name),
        ("contact:org", &d.org),
        ("contact:addr", &d.addr),
    ] {
        for k in kinds {
            out.empty(name, &[("type", k.as_str())])?;
        }
    }
    for (name, on) in [
        ("contact:voice", d.voice),
        ("contact:fax", d.fax),
        ("contact:email", d.email),
    ] {
        if on {
            out.empty(name, &[])?;
        }
    }
    out.close("rdeContact:disclose")
}

fn write_identity<W: Write>(out: &mut Out<W>, id: &str, i: &Identity) -> std::io::Result<()> {
    out.open("maIdentity:identity", &[])?;
    out.leaf("maIdentity:id", id)?;
    out.leaf("maIdentity:type", i.kind.as_str())?;
    out.leaf("maIdentity:number", &i.number)?;
    out.leaf("maIdentity:verification", i.verification.as_str())?;
    out.date("maIdentity:since", &i.since)?;
    out.opt_leaf("maIdentity:note", i.note.as_deref())?;
    out.close("maIdentity:identity")
}

fn write_host<W: Write>(out: &mut Out<W>, h: &Host, linked: bool) -> std::io::Result<()> {
    out.open("rdeHost:host", &[])?;
    out.leaf("rdeHost:name", &h.name)?;
    out.leaf("rdeHost:roid", &h.roid)?;
    let mut statuses = h.statuses.clone();
    if statuses.is_empty() {
        statuses.push(Status::Ok);
    }
    if linked {
        statuses.push(Status::Linked);
    }
    statuses.sort();
    write_statuses(out, "rdeHost:status", &statuses)?;
    for a in &h.addrs {
        let v = if a.is_ipv4() { "v4" } else { "v6" };
        out.leaf_attrs("rdeHost:addr", &[("ip", v)], &a.to_string())?;
    }
    out.leaf("rdeHost:clID", &h.sponsor)?;
    out.leaf("rdeHost:crRr", &h.created_by)?;
    out.date("rdeHost:crDate", &h.created)?;
    out.opt_leaf("rdeHost:upRr", h.updated_by.as_deref())?;
    out.opt_date("rdeHost:upDate", h.updated.as_ref())?;
    out.opt_date("rdeHost:trDate", h.transferred.as_ref())?;
    out.close("rdeHost:host")
}

fn write_domain<W: Write>(
    out: &mut Out<W>,
    d: &Domain,
    settings: &Settings,
    now: Timestamp,
) -> std::io::Result<()> {
    out.open("rdeDomain:domain", &[])?;
    out.leaf("rdeDomain:name", &d.name)?;
    out.leaf("rdeDomain:roid", &d.roid)?;
    if d.name.contains("xn--")
        && let Ok(name) = crate::policy::r1_r3_registrable_name(&d.name, settings)
    {
        out.leaf(
            "rdeDomain:uName",
            &format!("{}.{}", name.label, name.zone.name),
        )?;
    }
    let statuses = d.derived_statuses();
    write_statuses(out, "rdeDomain:status", &statuses)?;
    if let Some(rgp) = crate::policy::lifecycle::rgp_status(d, now) {
        out.empty("rdeDomain:rgpStatus", &[("s", rgp)])?;
    }
    out.leaf("rdeDomain:registrant", &d.registrant)?;
    for c in &d.contacts {
        out.leaf_attrs("rdeDomain:contact", &[("type", c.role.as_str())], &c.id)?;
    }
    if !d.nameservers.is_empty() {
        out.open("rdeDomain:ns", &[])?;
        for ns in &d.nameservers {
            out.leaf("domain:hostObj", ns)?;
        }
        out.close("rdeDomain:ns")?;
    }
    out.leaf("rdeDomain:clID", &d.sponsor)?;
    out.leaf("rdeDomain:crRr", &d.created_by)?;
    out.date("rdeDomain:crDate", &d.created)?;
    out.date("rdeDomain:exDate", &d.expires)?;
    out.opt_leaf("rdeDomain:upRr", d.updated_by.as_deref())?;
    out.opt_date(
        "rdeDomain:upDate",
        d.updated.as_ref().or(d.deleted.as_ref()),
    )?;
    if !d.ds_data.is_empty() {
        out.open("rdeDomain:secDNS", &[])?;
        for ds in &d.ds_data {
            out.open("secDNS:dsData", &[])?;
            out.leaf("secDNS:keyTag", &ds.key_tag.to_string())?;
            out.leaf("secDNS:alg", &ds.alg.to_string())?;
            out.leaf("secDNS:digestType", &ds.digest_type.to_string())?;
            out.leaf("secDNS:digest", &ds.digest)?;
            out.close("secDNS:dsData")?;
        }
        out.close("rdeDomain:secDNS")?;
    }
    out.opt_date("rdeDomain:trDate", d.transferred.as_ref())?;
    if let Some(t) = &d.transfer {
        write_transfer(out, "rdeDomain", t)?;
    }
    out.close("rdeDomain:domain")
}
