//! Typed [`Response`]s and the [`Greeting`] → XML bytes, through quick-xml's
//! writer, so every text and attribute is escaped by construction.

use chrono::SecondsFormat;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::ns;
use crate::model::{
    CheckItem, ContactInfoData, Disclose, DomainInfoData, DsData, Greeting, HostInfoData, Identity,
    Lang, ObjectKind, OffendingValue, Phone, PostalInfo, PostalType, ResData, Response,
    ResponseExtension, Timestamp,
};

/// An XML document under construction. Writing into a `Vec` cannot fail, so
/// the I/O results quick-xml returns are dropped here, in one place.
struct Doc {
    w: Writer<Vec<u8>>,
}

impl Doc {
    fn new(capacity: usize) -> Self {
        let mut doc = Self {
            w: Writer::new(Vec::with_capacity(capacity)),
        };
        doc.event(Event::Decl(BytesDecl::new(
            "1.0",
            Some("UTF-8"),
            Some("no"),
        )));
        doc
    }

    fn event(&mut self, event: Event<'_>) {
        // Writing to a Vec<u8> never returns an I/O error.
        let _ = self.w.write_event(event);
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.event(Event::Start(
            BytesStart::new(name).with_attributes(attrs.iter().copied()),
        ));
    }

    fn close(&mut self, name: &str) {
        self.event(Event::End(BytesEnd::new(name)));
    }

    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.event(Event::Empty(
            BytesStart::new(name).with_attributes(attrs.iter().copied()),
        ));
    }

    fn leaf_attrs(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.open(name, attrs);
        self.event(Event::Text(BytesText::new(text)));
        self.close(name);
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.leaf_attrs(name, &[], text);
    }

    fn opt_leaf(&mut self, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.leaf(name, text);
        }
    }

    fn date(&mut self, name: &str, t: &Timestamp) {
        let s = t.to_rfc3339_opts(SecondsFormat::Millis, true);
        self.leaf(name, &s);
    }

    fn opt_date(&mut self, name: &str, t: Option<&Timestamp>) {
        if let Some(t) = t {
            self.date(name, t);
        }
    }

    fn finish(self) -> Vec<u8> {
        self.w.into_inner()
    }
}

/// Serializes the greeting.
pub fn write_greeting(g: &Greeting<'_>) -> Vec<u8> {
    let mut d = Doc::new(1024);
    d.open("epp", &[("xmlns", ns::EPP)]);
    d.open("greeting", &[]);
    d.leaf("svID", g.sv_id);
    d.date("svDate", &g.sv_date);
    d.open("svcMenu", &[]);
    d.leaf("version", "1.0");
    d.leaf("lang", "en");
    d.leaf("lang", "fr");
    for uri in g.obj_uris {
        d.leaf("objURI", uri);
    }
    if !g.ext_uris.is_empty() {
        d.open("svcExtension", &[]);
        for uri in g.ext_uris {
            d.leaf("extURI", uri);
        }
        d.close("svcExtension");
    }
    d.close("svcMenu");
    d.open("dcp", &[]);
    d.open("access", &[]);
    d.empty("all", &[]);
    d.close("access");
    d.open("statement", &[]);
    d.open("purpose", &[]);
    d.empty("admin", &[]);
    d.empty("prov", &[]);
    d.close("purpose");
    d.open("recipient", &[]);
    d.empty("ours", &[]);
    d.empty("public", &[]);
    d.close("recipient");
    d.open("retention", &[]);
    d.empty("legal", &[]);
    d.close("retention");
    d.close("statement");
    d.close("dcp");
    d.close("greeting");
    d.close("epp");
    d.finish()
}

/// Serializes a response.
pub fn write_response(r: &Response) -> Vec<u8> {
    let mut d = Doc::new(768);
    d.open("epp", &[("xmlns", ns::EPP)]);
    d.open("response", &[]);
    d.open("result", &[("code", itoa(r.code.code()).as_str())]);
    let msg = r.code.message(r.lang);
    match r.lang {
        Lang::En => d.leaf("msg", msg),
        Lang::Fr => d.leaf_attrs("msg", &[("lang", "fr")], msg),
    }
    for ext in &r.ext_values {
        d.open("extValue", &[]);
        match &ext.value {
            Some(OffendingValue::Element {
                ns: prefix,
                name,
                text,
            }) => {
                let uri = match *prefix {
                    "domain" => ns::DOMAIN,
                    "contact" => ns::CONTACT,
                    "host" => ns::HOST,
                    _ => ns::EPP,
                };
                d.open("value", &[]);
                let qname = format!("{prefix}:{name}");
                let xmlns = format!("xmlns:{prefix}");
                d.leaf_attrs(&qname, &[(xmlns.as_str(), uri)], text);
                d.close("value");
            }
            Some(OffendingValue::Extension(ext)) => {
                d.open("value", &[]);
                write_extension(&mut d, ext, r.lang);
                d.close("value");
            }
            None => {
                d.open("value", &[]);
                d.empty("undef", &[]);
                d.close("value");
            }
        }
        let reason = ext.reason.get(r.lang);
        match r.lang {
            Lang::En => d.leaf("reason", reason),
            Lang::Fr => d.leaf_attrs("reason", &[("lang", "fr")], reason),
        }
        d.close("extValue");
    }
    d.close("result");
    if let Some(q) = &r.msg_q {
        let count = q.count.to_string();
        let id = q.id.to_string();
        d.open("msgQ", &[("count", count.as_str()), ("id", id.as_str())]);
        d.opt_date("qDate", q.queued.as_ref());
        if let Some(text) = &q.text {
            match r.lang {
                Lang::En => d.leaf("msg", &text.en),
                Lang::Fr => d.leaf_attrs("msg", &[("lang", "fr")], &text.fr),
            }
        }
        d.close("msgQ");
    }
    if let Some(data) = &r.res_data {
        d.open("resData", &[]);
        write_res_data(&mut d, data, r.lang);
        d.close("resData");
    }
    if !r.extensions.is_empty() {
        d.open("extension", &[]);
        for ext in &r.extensions {
            write_extension(&mut d, ext, r.lang);
        }
        d.close("extension");
    }
    d.open("trID", &[]);
    d.opt_leaf("clTRID", r.cl_trid.as_deref());
    d.leaf("svTRID", &r.sv_trid);
    d.close("trID");
    d.close("response");
    d.close("epp");
    d.finish()
}

fn itoa(n: u16) -> String {
    n.to_string()
}

fn write_res_data(d: &mut Doc, data: &ResData, lang: Lang) {
    match data {
        ResData::QuotaInfo {
            registrar,
            buckets,
            session_limit,
            sessions_open,
        } => {
            d.open("quota:infData", &[("xmlns:quota", ns::QUOTA)]);
            d.leaf("quota:clID", registrar);
            for bucket in buckets {
                let (remaining, limit, reset_in) = (
                    bucket.remaining.to_string(),
                    bucket.limit.to_string(),
                    bucket.reset_in.to_string(),
                );
                d.empty(
                    "quota:commands",
                    &[
                        ("class", bucket.class.as_str()),
                        ("perSecond", limit.as_str()),
                        ("remaining", remaining.as_str()),
                        ("resetIn", reset_in.as_str()),
                    ],
                );
            }
            let (limit, open) = (session_limit.to_string(), sessions_open.to_string());
            d.empty(
                "quota:sessions",
                &[("limit", limit.as_str()), ("open", open.as_str())],
            );
            d.close("quota:infData");
        }
        ResData::Check(kind, items) => write_check(d, *kind, items, lang),
        ResData::DomainInfo(info) => write_domain_info(d, info),
        ResData::DomainCreate {
            name,
            created,
            expires,
        } => {
            d.open("domain:creData", &[("xmlns:domain", ns::DOMAIN)]);
            d.leaf("domain:name", name);
            d.date("domain:crDate", created);
            d.date("domain:exDate", expires);
            d.close("domain:creData");
        }
        ResData::DomainRenew { name, expires } => {
            d.open("domain:renData", &[("xmlns:domain", ns::DOMAIN)]);
            d.leaf("domain:name", name);
            d.date("domain:exDate", expires);
            d.close("domain:renData");
        }
        ResData::DomainTransfer {
            name,
            transfer,
            expires,
        } => {
            d.open("domain:trnData", &[("xmlns:domain", ns::DOMAIN)]);
            d.leaf("domain:name", name);
            d.leaf("domain:trStatus", transfer.status.as_str());
            d.leaf("domain:reID", &transfer.gaining);
            d.date("domain:reDate", &transfer.requested);
            d.leaf("domain:acID", &transfer.losing);
            d.date("domain:acDate", &transfer.action_date);
            d.date("domain:exDate", expires);
            d.close("domain:trnData");
        }
        ResData::ContactTransfer { id, transfer } => {
            d.open("contact:trnData", &[("xmlns:contact", ns::CONTACT)]);
            d.leaf("contact:id", id);
            d.leaf("contact:trStatus", transfer.status.as_str());
            d.leaf("contact:reID", &transfer.gaining);
            d.date("contact:reDate", &transfer.requested);
            d.leaf("contact:acID", &transfer.losing);
            d.date("contact:acDate", &transfer.action_date);
            d.close("contact:trnData");
        }
        ResData::DomainPendingAction {
            name,
            result,
            cl_trid,
            sv_trid,
            date,
        } => {
            d.open("domain:panData", &[("xmlns:domain", ns::DOMAIN)]);
            d.leaf_attrs(
                "domain:name",
                &[("paResult", if *result { "1" } else { "0" })],
                name,
            );
            d.open("domain:paTRID", &[]);
            d.opt_leaf("clTRID", cl_trid.as_deref());
            d.leaf("svTRID", sv_trid);
            d.close("domain:paTRID");
            d.date("domain:paDate", date);
            d.close("domain:panData");
        }
        ResData::ContactInfo(info) => write_contact_info(d, info),
        ResData::ContactCreate { id, created } => {
            d.open("contact:creData", &[("xmlns:contact", ns::CONTACT)]);
            d.leaf("contact:id", id);
            d.date("contact:crDate", created);
            d.close("contact:creData");
        }
        ResData::HostInfo(info) => write_host_info(d, info),
        ResData::HostCreate { name, created } => {
            d.open("host:creData", &[("xmlns:host", ns::HOST)]);
            d.leaf("host:name", name);
            d.date("host:crDate", created);
            d.close("host:creData");
        }
    }
}

fn write_check(d: &mut Doc, kind: ObjectKind, items: &[CheckItem], lang: Lang) {
    let (root, xmlns, uri, field) = match kind {
        ObjectKind::Domain => ("domain", "xmlns:domain", ns::DOMAIN, "name"),
        ObjectKind::Contact => ("contact", "xmlns:contact", ns::CONTACT, "id"),
        ObjectKind::Host => ("host", "xmlns:host", ns::HOST, "name"),
    };
    let chk = format!("{root}:chkData");
    let cd = format!("{root}:cd");
    let field = format!("{root}:{field}");
    let reason = format!("{root}:reason");
    d.open(&chk, &[(xmlns, uri)]);
    for item in items {
        d.open(&cd, &[]);
        d.leaf_attrs(
            &field,
            &[("avail", if item.avail { "1" } else { "0" })],
            &item.name,
        );
        if let Some(text) = &item.reason {
            match lang {
                Lang::En => d.leaf(&reason, &text.en),
                Lang::Fr => d.leaf_attrs(&reason, &[("lang", "fr")], &text.fr),
            }
        }
        d.close(&cd);
    }
    d.close(&chk);
}

fn write_domain_info(d: &mut Doc, info: &DomainInfoData) {
    d.open("domain:infData", &[("xmlns:domain", ns::DOMAIN)]);
    d.leaf("domain:name", &info.name);
    d.leaf("domain:roid", &info.roid);
    for s in &info.statuses {
        d.empty("domain:status", &[("s", s.as_str())]);
    }
    d.opt_leaf("domain:registrant", info.registrant.as_deref());
    for (role, id) in &info.contacts {
        d.leaf_attrs("domain:contact", &[("type", role.as_str())], id);
    }
    if !info.nameservers.is_empty() {
        d.open("domain:ns", &[]);
        for ns in &info.nameservers {
            d.leaf("domain:hostObj", ns);
        }
        d.close("domain:ns");
    }
    for host in &info.subordinate_hosts {
        d.leaf("domain:host", host);
    }
    d.leaf("domain:clID", &info.sponsor);
    d.opt_leaf("domain:crID", info.created_by.as_deref());
    d.date("domain:crDate", &info.created);
    d.opt_leaf("domain:upID", info.updated_by.as_deref());
    d.opt_date("domain:upDate", info.updated.as_ref());
    d.date("domain:exDate", &info.expires);
    d.opt_date("domain:trDate", info.transferred.as_ref());
    d.close("domain:infData");
}

fn write_postal(d: &mut Doc, p: &PostalInfo) {
    d.open("contact:postalInfo", &[("type", p.kind.as_str())]);
    d.leaf("contact:name", &p.name);
    d.opt_leaf("contact:org", p.org.as_deref());
    d.open("contact:addr", &[]);
    for line in &p.street {
        d.leaf("contact:street", line);
    }
    d.leaf("contact:city", &p.city);
    d.opt_leaf("contact:sp", p.sp.as_deref());
    d.opt_leaf("contact:pc", p.pc.as_deref());
    d.leaf("contact:cc", &p.cc);
    d.close("contact:addr");
    d.close("contact:postalInfo");
}

fn write_phone(d: &mut Doc, name: &str, phone: Option<&Phone>) {
    if let Some(p) = phone {
        match &p.ext {
            Some(x) => d.leaf_attrs(name, &[("x", x)], &p.number),
            None => d.leaf(name, &p.number),
        }
    }
}

fn write_disclose(d: &mut Doc, disclose: &Disclose) {
    d.open(
        "contact:disclose",
        &[("flag", if disclose.flag { "1" } else { "0" })],
    );
    let typed = |d: &mut Doc, name: &str, kinds: &[PostalType]| {
        for k in kinds {
            d.empty(name, &[("type", k.as_str())]);
        }
    };
    typed(d, "contact:name", &disclose.name);
    typed(d, "contact:org", &disclose.org);
    typed(d, "contact:addr", &disclose.addr);
    if disclose.voice {
        d.empty("contact:voice", &[]);
    }
    if disclose.fax {
        d.empty("contact:fax", &[]);
    }
    if disclose.email {
        d.empty("contact:email", &[]);
    }
    d.close("contact:disclose");
}

fn write_contact_info(d: &mut Doc, info: &ContactInfoData) {
    d.open("contact:infData", &[("xmlns:contact", ns::CONTACT)]);
    d.leaf("contact:id", &info.id);
    d.leaf("contact:roid", &info.roid);
    for s in &info.statuses {
        d.empty("contact:status", &[("s", s.as_str())]);
    }
    for p in &info.postal {
        write_postal(d, p);
    }
    write_phone(d, "contact:voice", info.voice.as_ref());
    write_phone(d, "contact:fax", info.fax.as_ref());
    d.leaf("contact:email", &info.email);
    d.leaf("contact:clID", &info.sponsor);
    d.leaf("contact:crID", &info.created_by);
    d.date("contact:crDate", &info.created);
    d.opt_leaf("contact:upID", info.updated_by.as_deref());
    d.opt_date("contact:upDate", info.updated.as_ref());
    d.opt_date("contact:trDate", info.transferred.as_ref());
    if let Some(disclose) = &info.disclose {
        write_disclose(d, disclose);
    }
    d.close("contact:infData");
}

fn write_host_info(d: &mut Doc, info: &HostInfoData) {
    d.open("host:infData", &[("xmlns:host", ns::HOST)]);
    d.leaf("host:name", &info.name);
    d.leaf("host:roid", &info.roid);
    for s in &info.statuses {
        d.empty("host:status", &[("s", s.as_str())]);
    }
    for addr in &info.addrs {
        let ip = if addr.is_ipv6() { "v6" } else { "v4" };
        d.leaf_attrs("host:addr", &[("ip", ip)], &addr.to_string());
    }
    d.leaf("host:clID", &info.sponsor);
    d.leaf("host:crID", &info.created_by);
    d.date("host:crDate", &info.created);
    d.opt_leaf("host:upID", info.updated_by.as_deref());
    d.opt_date("host:upDate", info.updated.as_ref());
    d.opt_date("host:trDate", info.transferred.as_ref());
    d.close("host:infData");
}

fn write_ds(d: &mut Doc, ds: &DsData) {
    d.open("secDNS:dsData", &[]);
    d.leaf("secDNS:keyTag", &ds.key_tag.to_string());
    d.leaf("secDNS:alg", &ds.alg.to_string());
    d.leaf("secDNS:digestType", &ds.digest_type.to_string());
    d.leaf("secDNS:digest", &ds.digest);
    d.close("secDNS:dsData");
}

fn write_identity(d: &mut Doc, identity: Option<&Identity>) {
    d.open("ma:infData", &[("xmlns:ma", ns::MA)]);
    match identity {
        Some(id) => {
            d.open("ma:identity", &[]);
            d.leaf("ma:type", id.kind.as_str());
            d.leaf("ma:number", &id.number);
            d.close("ma:identity");
            let since = id.since.to_rfc3339_opts(SecondsFormat::Millis, true);
            d.leaf_attrs(
                "ma:verification",
                &[("date", since.as_str())],
                id.verification.as_str(),
            );
            d.opt_leaf("ma:note", id.note.as_deref());
        }
        None => d.leaf("ma:verification", "none"),
    }
    d.close("ma:infData");
}

/// Writes one response extension element, declaring its namespace.
fn write_extension(d: &mut Doc, ext: &ResponseExtension, lang: Lang) {
    match ext {
        ResponseExtension::LoginSecData(events) => {
            d.open(
                "loginSec:loginSecData",
                &[("xmlns:loginSec", ns::LOGIN_SEC)],
            );
            for event in events {
                let ex_date = event
                    .ex_date
                    .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
                let mut attrs: Vec<(&str, &str)> = vec![("type", event.kind.as_str())];
                if let Some(name) = event.name {
                    attrs.push(("name", name));
                }
                attrs.push(("level", if event.error { "error" } else { "warning" }));
                if let Some(ex_date) = &ex_date {
                    attrs.push(("exDate", ex_date));
                }
                if let Some(value) = &event.value {
                    attrs.push(("value", value));
                }
                attrs.push(("lang", lang.tag()));
                d.leaf_attrs("loginSec:event", &attrs, event.text.get(lang));
            }
            d.close("loginSec:loginSecData");
        }
        ResponseExtension::SecDnsInfo(list) => {
            d.open("secDNS:infData", &[("xmlns:secDNS", ns::SECDNS)]);
            for ds in list {
                write_ds(d, ds);
            }
            d.close("secDNS:infData");
        }
        ResponseExtension::MaContactInfo(identity) => write_identity(d, identity.as_ref()),
        ResponseExtension::FeeTransform {
            element,
            currency,
            years,
            fee,
            balance,
        } => {
            let qname = format!("fee:{element}");
            d.open(&qname, &[("xmlns:fee", ns::FEE)]);
            d.leaf("fee:currency", currency);
            if *years > 0 {
                d.leaf_attrs("fee:period", &[("unit", "y")], &years.to_string());
            }
            d.leaf("fee:fee", &crate::config::format_amount(*fee));
            d.leaf("fee:balance", &crate::config::format_amount(*balance));
            d.close(&qname);
        }
        ResponseExtension::FeeCheck { currency, items } => {
            d.open("fee:chkData", &[("xmlns:fee", ns::FEE)]);
            d.leaf("fee:currency", currency);
            for (name, avail, commands) in items {
                d.open("fee:cd", &[("avail", if *avail { "1" } else { "0" })]);
                d.leaf("fee:objID", name);
                for (command, years, fee) in commands {
                    d.open("fee:command", &[("name", command)]);
                    if *years > 0 {
                        d.leaf_attrs("fee:period", &[("unit", "y")], &years.to_string());
                    }
                    d.leaf("fee:fee", &crate::config::format_amount(*fee));
                    d.close("fee:command");
                }
                d.close("fee:cd");
            }
            d.close("fee:chkData");
        }
        ResponseExtension::RgpInfo(status) => {
            d.open("rgp:infData", &[("xmlns:rgp", ns::RGP)]);
            d.empty("rgp:rgpStatus", &[("s", status)]);
            d.close("rgp:infData");
        }
        ResponseExtension::ChangePoll(change) => {
            d.open(
                "changePoll:changeData",
                &[("xmlns:changePoll", ns::CHANGE_POLL), ("state", "after")],
            );
            match &change.op {
                Some(op) => d.leaf_attrs(
                    "changePoll:operation",
                    &[("op", op.as_str())],
                    &change.operation,
                ),
                None => d.leaf("changePoll:operation", &change.operation),
            }
            d.date("changePoll:date", &change.date);
            d.leaf("changePoll:svTRID", &change.sv_trid);
            d.leaf("changePoll:who", &change.who);
            if let Some(reason) = &change.reason {
                let short: String = reason.chars().take(32).collect();
                d.leaf("changePoll:reason", &short);
            }
            d.close("changePoll:changeData");
        }
        ResponseExtension::MaQuota(states) => {
            for state in states {
                let (remaining, limit, reset_in) = (
                    state.remaining.to_string(),
                    state.limit.to_string(),
                    state.reset_in.to_string(),
                );
                d.empty(
                    "ma:quota",
                    &[
                        ("xmlns:ma", ns::MA),
                        ("class", state.class.as_str()),
                        ("remaining", remaining.as_str()),
                        ("limit", limit.as_str()),
                        ("resetIn", reset_in.as_str()),
                    ],
                );
            }
        }
        ResponseExtension::MaDomainInfo {
            proof_ref,
            pending_owner,
            dispute,
        } => {
            d.open("ma:domainInfData", &[("xmlns:ma", ns::MA)]);
            d.opt_leaf("ma:proofRef", proof_ref.as_deref());
            if let Some(since) = dispute {
                let at = since.to_rfc3339_opts(SecondsFormat::Millis, true);
                d.empty("ma:dispute", &[("since", at.as_str())]);
            }
            if let Some((contact, requested)) = pending_owner {
                let at = requested.to_rfc3339_opts(SecondsFormat::Millis, true);
                d.leaf_attrs("ma:pendingOwner", &[("requested", at.as_str())], contact);
            }
            d.close("ma:domainInfData");
        }
    }
}
