//! Reading a full deposit back: a streaming reader of `<rde:contents>`
//! (one object in memory at a time, [`scanner`]), the RFC 9022 objects
//! turned into loader items ([`objects`]), and [`import`], which loads them
//! in dependency order.

mod objects;
mod scanner;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Serialize;

use super::{COMMAND, IDENTITY, RDE_CONTACT, RDE_DOMAIN, RDE_HEADER, RDE_HOST, RDE_REGISTRAR};
use crate::config::Settings;
use crate::data::DataError;
use crate::data::load::{Item, Kind, Loader, Options, Remark, Report};
use crate::model::{Contact, Status, Timestamp};
use crate::store::Store;
use objects::{contact, domain, host, identity, label, registrar};
use scanner::{Head, Read, Scanner};

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
    use super::scanner::parse_date;
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
}
