//! The DNS zones as RFC 1035 master files, one `<zone>.zone` per configured
//! zone (`admin zone export`): which domains are delegated, the records
//! written for them (NS, glue A/AAAA, DS), the SOA and its ever-increasing
//! serial, the registry's own name servers and the delegation of sub-zones,
//! and the atomic replacement of the files. One pass over the domains tree
//! feeds every file at once; nothing but the glue already written is kept
//! in memory.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike as _, Utc};

use crate::config::Settings;
use crate::model::{Domain, Status};
use crate::store::{Store, StoreError};

/// `admin zone …`.
#[derive(Debug, clap::Subcommand)]
pub enum ZoneCommand {
    /// Write one RFC 1035 master file per zone (`<zone>.zone`) for the name
    /// servers; each file is replaced atomically and gets a new SOA serial.
    Export {
        /// The directory of the files, relative to the working directory.
        #[arg(long, default_value = "zones")]
        dir: PathBuf,
        /// Only this zone (default: every configured zone).
        #[arg(long)]
        zone: Option<String>,
    },
}

/// Why an export did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ZoneError {
    /// `--zone` names a zone that is not configured.
    #[error("{0} is not a configured zone")]
    UnknownZone(String),
    /// A registry name server inside a zone has no address, so the zone
    /// would not load.
    #[error(
        "the registry name server {ns} is inside zone {zone} but has no address: give its addresses in [[dns.nameservers]]"
    )]
    MissingAddress {
        /// The name server.
        ns: String,
        /// The zone.
        zone: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The export was interrupted.
    #[error("the export stopped: {0}")]
    Interrupted(String),
}

/// What an export wrote for one zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneReport {
    /// The zone, e.g. `co.ma`.
    pub zone: String,
    /// The file written.
    pub file: PathBuf,
    /// Its SOA serial.
    pub serial: u32,
    /// Domains delegated (sub-zone cuts not counted).
    pub delegations: u64,
    /// Glue address records of the domains' name servers.
    pub glue: u64,
    /// DS records.
    pub ds: u64,
}

/// Whether a domain is delegated in its zone: it has name servers, and is
/// neither on hold (`clientHold`, `serverHold`, the R15 identity hold),
/// waiting for the registry (`pendingCreate`) nor deleted (`pendingDelete`,
/// redemption).
pub fn delegated(d: &Domain) -> bool {
    const OUT: [Status; 4] = [
        Status::ClientHold,
        Status::ServerHold,
        Status::PendingCreate,
        Status::PendingDelete,
    ];
    !d.nameservers.is_empty()
        && !d.identity_hold
        && d.deleted.is_none()
        && !d.statuses.iter().any(|s| OUT.contains(s))
}

/// The serial an export on `now`'s day starts from: `YYYYMMDD00`.
pub fn day_serial(now: DateTime<Utc>) -> u32 {
    u32::try_from(now.year())
        .ok()
        .and_then(|y| y.checked_mul(10_000))
        .and_then(|ymd| ymd.checked_add(now.month() * 100 + now.day()))
        .and_then(|ymd| ymd.checked_mul(100))
        .unwrap_or(0)
}

/// Whether `name` is `zone` or below it.
fn within(name: &str, zone: &str) -> bool {
    name == zone
        || (name.len() > zone.len()
            && name.ends_with(zone)
            && name.as_bytes()[name.len() - zone.len() - 1] == b'.')
}

/// Runs `zone export` off the async runtime (the pass over the domains can
/// be long) and renders its report, as a table or as JSON.
///
/// # Errors
/// See [`export`].
pub async fn export_report(
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
    dir: &Path,
    zone: Option<&str>,
    json: bool,
) -> Result<String, ZoneError> {
    let (store, settings, dir) = (store.clone(), settings.clone(), dir.to_owned());
    let zone = zone.map(str::to_owned);
    let reports =
        tokio::task::spawn_blocking(move || export(&store, &settings, now, &dir, zone.as_deref()))
            .await
            .map_err(|e| ZoneError::Interrupted(e.to_string()))??;
    Ok(render(&reports, json))
}

fn render(reports: &[ZoneReport], json: bool) -> String {
    if json {
        let rows: Vec<_> = reports
            .iter()
            .map(|r| {
                serde_json::json!({
                    "zone": r.zone,
                    "file": r.file.display().to_string(),
                    "serial": r.serial,
                    "delegations": r.delegations,
                    "glue": r.glue,
                    "ds": r.ds,
                })
            })
            .collect();
        return serde_json::to_string_pretty(&rows).unwrap_or_default();
    }
    let mut lines = vec![format!(
        "{:<12} {:>10} {:>11}  FILE",
        "ZONE", "SERIAL", "DELEGATIONS"
    )];
    for r in reports {
        lines.push(format!(
            "{:<12} {:>10} {:>11}  {}",
            r.zone,
            r.serial,
            r.delegations,
            r.file.display()
        ));
    }
    lines.join("\n")
}

/// One zone file being written: a temporary file beside its final name,
/// removed unless the export completes.
struct ZoneFile {
    report: ZoneReport,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
    /// Names whose address records the file has already.
    glued: HashSet<String>,
    /// Whether the file has its final name.
    done: bool,
}

impl ZoneFile {
    fn create(dir: &Path, zone: &str, serial: u32) -> Result<Self, ZoneError> {
        let file = dir.join(format!("{zone}.zone"));
        let tmp = dir.join(format!(".{zone}.zone.{}.tmp", std::process::id()));
        let out = crate::fsmode::create_file(&tmp).map_err(|source| ZoneError::Io {
            path: tmp.clone(),
            source,
        })?;
        Ok(Self {
            report: ZoneReport {
                zone: zone.to_owned(),
                file,
                serial,
                delegations: 0,
                glue: 0,
                ds: 0,
            },
            tmp,
            out: Some(BufWriter::new(out)),
            glued: HashSet::new(),
            done: false,
        })
    }

    fn line(&mut self, args: std::fmt::Arguments<'_>) -> Result<(), ZoneError> {
        let result = match self.out.as_mut() {
            Some(out) => out.write_fmt(args).and_then(|()| out.write_all(b"\n")),
            None => Ok(()),
        };
        result.map_err(|source| ZoneError::Io {
            path: self.tmp.clone(),
            source,
        })
    }

    fn address(&mut self, name: &str, addr: IpAddr) -> Result<(), ZoneError> {
        match addr {
            IpAddr::V4(a) => self.line(format_args!("{name}.\tIN\tA\t{a}")),
            IpAddr::V6(a) => self.line(format_args!("{name}.\tIN\tAAAA\t{a}")),
        }
    }

    /// Writes the head: origin, default TTL, SOA, the zone's NS and the
    /// addresses of those inside it, and the cuts to its sub-zones.
    fn head(
        &mut self,
        settings: &Settings,
        registry_ns: &[(String, Vec<IpAddr>)],
        now: DateTime<Utc>,
    ) -> Result<(), ZoneError> {
        let dns = &settings.dns;
        let zone = self.report.zone.clone();
        let serial = self.report.serial;
        self.line(format_args!(
            "; {zone}: written by ma-registry at {}",
            now.format("%Y-%m-%dT%H:%M:%SZ")
        ))?;
        self.line(format_args!("$ORIGIN {zone}."))?;
        self.line(format_args!("$TTL {}", dns.ttl))?;
        self.line(format_args!(
            "{zone}.\tIN\tSOA\t{}. {}. {serial} {} {} {} {}",
            dns.mname, dns.rname, dns.refresh, dns.retry, dns.expire, dns.minimum
        ))?;
        for (ns, _) in registry_ns {
            self.line(format_args!("{zone}.\tIN\tNS\t{ns}."))?;
        }
        for (ns, addrs) in registry_ns {
            if within(ns, &zone) {
                for addr in addrs {
                    self.address(ns, *addr)?;
                }
                self.glued.insert(ns.clone());
            }
        }
        for child in &settings.zones {
            if settings
                .zone_of(&child.name)
                .is_some_and(|parent| parent.name == zone)
            {
                for (ns, _) in registry_ns {
                    self.line(format_args!("{}.\tIN\tNS\t{ns}.", child.name))?;
                }
            }
        }
        Ok(())
    }

    /// Writes a domain's delegation: NS, the address records of its name
    /// servers inside the zone (once per file), DS.
    fn delegation(&mut self, store: &Store, d: &Domain) -> Result<(), ZoneError> {
        let zone = self.report.zone.clone();
        for ns in &d.nameservers {
            self.line(format_args!("{}.\tIN\tNS\t{ns}.", d.name))?;
        }
        for ns in &d.nameservers {
            if !within(ns, &zone) || self.glued.contains(ns) {
                continue;
            }
            if let Some(host) = store.host(ns)? {
                for addr in &host.addrs {
                    self.address(ns, *addr)?;
                    self.report.glue += 1;
                }
            }
            self.glued.insert(ns.clone());
        }
        for ds in &d.ds_data {
            self.line(format_args!(
                "{}.\tIN\tDS\t{} {} {} {}",
                d.name, ds.key_tag, ds.alg, ds.digest_type, ds.digest
            ))?;
            self.report.ds += 1;
        }
        self.report.delegations += 1;
        Ok(())
    }

    /// Writes the tail and flushes the temporary file to disk.
    fn finish(&mut self) -> Result<(), ZoneError> {
        let r = &self.report;
        let tail = format!(
            "; end of {}: delegations {}, glue records {}, DS records {}",
            r.zone, r.delegations, r.glue, r.ds
        );
        self.line(format_args!("{tail}"))?;
        if let Some(out) = self.out.take() {
            let file = out.into_inner().map_err(|e| ZoneError::Io {
                path: self.tmp.clone(),
                source: e.into_error(),
            })?;
            file.sync_all().map_err(|source| ZoneError::Io {
                path: self.tmp.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// Gives the finished file its final name, replacing the previous one.
    fn commit(mut self) -> Result<ZoneReport, ZoneError> {
        std::fs::rename(&self.tmp, &self.report.file).map_err(|source| ZoneError::Io {
            path: self.report.file.clone(),
            source,
        })?;
        self.done = true;
        Ok(self.report.clone())
    }
}

impl Drop for ZoneFile {
    fn drop(&mut self) {
        if !self.done {
            self.out = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// The registry's name servers with their addresses: the configured ones,
/// else those of the host object of that name in the store. A name server
/// inside an exported zone must have some.
fn registry_nameservers(
    store: &Store,
    settings: &Settings,
    zones: &[&str],
) -> Result<Vec<(String, Vec<IpAddr>)>, ZoneError> {
    let mut all = Vec::new();
    for ns in &settings.dns.nameservers {
        let mut addrs = ns.addresses.clone();
        if addrs.is_empty()
            && let Some(host) = store.host(&ns.name)?
        {
            addrs = host.addrs;
        }
        if addrs.is_empty()
            && let Some(zone) = zones.iter().find(|z| within(&ns.name, z))
        {
            return Err(ZoneError::MissingAddress {
                ns: ns.name.clone(),
                zone: (*zone).to_owned(),
            });
        }
        all.push((ns.name.clone(), addrs));
    }
    Ok(all)
}

/// Writes `<zone>.zone` into `dir` for every configured zone, or only for
/// `only`: each with a new serial (recorded in the store before any file is
/// replaced), the registry's name servers, and every delegated domain of the
/// zone. A file is replaced only when every file was written.
///
/// # Errors
/// An unknown zone, a registry name server without address inside a zone,
/// the store, or the file system.
pub fn export(
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
    dir: &Path,
    only: Option<&str>,
) -> Result<Vec<ZoneReport>, ZoneError> {
    let zones: Vec<&str> = match only {
        Some(raw) => {
            let name = raw.trim_matches('.').to_ascii_lowercase();
            let zone = settings
                .zones
                .iter()
                .find(|z| z.name == name)
                .ok_or(ZoneError::UnknownZone(name))?;
            vec![zone.name.as_str()]
        }
        None => settings.zones.iter().map(|z| z.name.as_str()).collect(),
    };
    let registry_ns = registry_nameservers(store, settings, &zones)?;
    crate::fsmode::create_dir_all(dir).map_err(|source| ZoneError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut files = Vec::with_capacity(zones.len());
    for zone in &zones {
        let serial = store.zone_serial_next(zone, day_serial(now))?;
        files.push(ZoneFile::create(dir, zone, serial)?);
    }
    store.flush_now()?;
    for file in &mut files {
        file.head(settings, &registry_ns, now)?;
    }
    for domain in store.domains_iter() {
        let domain = domain?;
        if !delegated(&domain) {
            continue;
        }
        let Some(zone) = settings.zone_of(&domain.name) else {
            continue;
        };
        if let Some(file) = files.iter_mut().find(|f| f.report.zone == zone.name) {
            file.delegation(store, &domain)?;
        }
    }
    for file in &mut files {
        file.finish()?;
    }
    let mut reports = Vec::with_capacity(files.len());
    for file in files {
        reports.push(file.commit()?);
    }
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn day_serial_is_yyyymmdd00() {
        assert_eq!(day_serial(at("2026-03-01T09:00:00Z")), 2026030100);
        assert_eq!(day_serial(at("2031-12-31T23:59:59Z")), 2031123100);
    }

    #[test]
    fn within_is_by_whole_labels() {
        assert!(within("ns1.exemple.ma", "ma"));
        assert!(within("ma", "ma"));
        assert!(within("ns1.x.co.ma", "ma"));
        assert!(!within("ns1.xma", "ma"));
        assert!(!within("ns1.example.net", "ma"));
    }

    #[test]
    fn serials_increase_within_a_day_and_never_go_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(
            store.zone_serial_next("ma", 2026030100).unwrap(),
            2026030100
        );
        assert_eq!(
            store.zone_serial_next("ma", 2026030100).unwrap(),
            2026030101
        );
        assert_eq!(
            store.zone_serial_next("co.ma", 2026030100).unwrap(),
            2026030100
        );
        // A clock moved back does not move the serial back.
        assert_eq!(
            store.zone_serial_next("ma", 2026020100).unwrap(),
            2026030102
        );
        assert_eq!(
            store.zone_serial_next("ma", 2026030200).unwrap(),
            2026030200
        );
    }
}
