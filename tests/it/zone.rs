//! `admin zone export`: one RFC 1035 master file per zone, with the NS, glue
//! and DS records of the delegated domains only, an SOA serial that goes up
//! on every export, and files that `named-checkzone` (bind9-utils) loads.

use std::path::{Path, PathBuf};
use std::process::Command;

use ma_registry::config::RegistryNameserver;

use crate::dnssec::login_with_extensions;
use crate::harness::*;

const DOMAIN_NS: &str = "urn:ietf:params:xml:ns:domain-1.0";
const SECDNS_NS: &str = "urn:ietf:params:xml:ns:secDNS-1.1";
const DIGEST: &str = "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766";

/// A server at 2031-05-01 whose registry name servers have addresses.
async fn server() -> TestServer {
    TestServer::start_with(
        |s| {
            s.dns.nameservers = vec![
                RegistryNameserver {
                    name: "ns1.nic.ma".into(),
                    addresses: vec![
                        "192.0.2.53".parse().unwrap(),
                        "2001:db8::53".parse().unwrap(),
                    ],
                },
                RegistryNameserver {
                    name: "ns2.nic.ma".into(),
                    addresses: vec!["198.51.100.53".parse().unwrap()],
                },
            ];
        },
        Some("2031-05-01T10:00:00Z"),
    )
    .await
}

async fn ok(c: &mut RawClient, body: &str) -> Resp {
    let r = c.cmd(&command(body, "zone-test")).await;
    assert!(
        r.code() == 1000 || r.code() == 1001,
        "expected success for {body}\n{}",
        r.xml
    );
    r
}

fn domain_update(name: &str, inner: &str) -> String {
    format!(
        r#"<update><domain:update xmlns:domain="{DOMAIN_NS}"><domain:name>{name}</domain:name>{inner}</domain:update></update>"#
    )
}

fn add_ns(name: &str, host: &str) -> String {
    domain_update(
        name,
        &format!(
            "<domain:add><domain:ns><domain:hostObj>{host}</domain:hostObj></domain:ns></domain:add>"
        ),
    )
}

fn with_ds(create: &str, key_tag: u16) -> String {
    format!(
        r#"{create}<extension><secDNS:create xmlns:secDNS="{SECDNS_NS}"><secDNS:dsData><secDNS:keyTag>{key_tag}</secDNS:keyTag><secDNS:alg>13</secDNS:alg><secDNS:digestType>2</secDNS:digestType><secDNS:digest>{DIGEST}</secDNS:digest></secDNS:dsData></secDNS:create></extension>"#
    )
}

/// Runs `named-checkzone -i local ZONE FILE`; fails the test when the tool
/// is missing or the zone does not load. Returns what it printed.
fn named_checkzone(zone: &str, file: &Path) -> String {
    let out = Command::new("named-checkzone")
        .args(["-i", "local", zone])
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "named-checkzone must be installed to check the zone files (apt-get install bind9-utils): {e}"
            )
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "named-checkzone {zone} {} failed:\n{text}\n{}",
        file.display(),
        std::fs::read_to_string(file).unwrap_or_default()
    );
    assert!(
        !text.contains("has no address records") && !text.contains("GLUE"),
        "named-checkzone {zone}: a name server lacks its addresses:\n{text}"
    );
    text
}

/// The `--json` report of an export: zone → (file, serial, delegations).
fn parse_report(out: &str) -> Vec<(String, PathBuf, u64, u64)> {
    let rows: serde_json::Value = serde_json::from_str(out).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["zone"].as_str().unwrap().to_owned(),
                PathBuf::from(r["file"].as_str().unwrap()),
                r["serial"].as_u64().unwrap(),
                r["delegations"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

fn has(text: &str, line: &str) {
    assert!(lines(text).contains(&line), "missing {line:?} in\n{text}");
}

fn owners_absent(text: &str, names: &[&str]) {
    for name in names {
        let owner = format!("{name}.\t");
        assert!(
            !text.lines().any(|l| l.starts_with(&owner)),
            "{name} must not be in the zone:\n{text}"
        );
    }
}

#[tokio::test]
async fn zone_export_writes_delegations_glue_and_ds_and_checks_with_named_checkzone() {
    let server = server().await;
    let mut c = server.client("reg1").await;
    let r = c.cmd(&login_with_extensions("reg1", &[SECDNS_NS])).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    ok(&mut c, &contact_create("cnt-1", "MA")).await;
    ok(&mut c, &contact_create("cnt-2", "MA")).await;
    ok(&mut c, &host_create("ns1.example.net", &[])).await;
    ok(&mut c, &host_create("ns2.example.net", &[])).await;

    // atlas.ma: an external name server, then its own in-zone one with
    // glue, and a DS record.
    ok(
        &mut c,
        &with_ds(
            &domain_create_full("atlas.ma", "cnt-1", "", &["ns1.example.net"]),
            12345,
        ),
    )
    .await;
    ok(
        &mut c,
        &host_create("ns1.atlas.ma", &["192.0.2.1", "2001:db8::1"]),
    )
    .await;
    ok(&mut c, &add_ns("atlas.ma", "ns1.atlas.ma")).await;
    // sahara.ma: delegated to atlas.ma's name server (its glue once only).
    ok(
        &mut c,
        &domain_create_full(
            "sahara.ma",
            "cnt-1",
            "",
            &["ns1.atlas.ma", "ns2.example.net"],
        ),
    )
    .await;
    // medina.co.ma: in the co.ma sub-zone, with its own in-zone host.
    ok(
        &mut c,
        &domain_create_full("medina.co.ma", "cnt-1", "", &["ns1.example.net"]),
    )
    .await;
    ok(&mut c, &host_create("ns.medina.co.ma", &["192.0.2.2"])).await;
    ok(&mut c, &add_ns("medina.co.ma", "ns.medina.co.ma")).await;
    ok(&mut c, &add_ns("medina.co.ma", "ns1.atlas.ma")).await;
    // Out of the zone: on clientHold, without name servers, deleted
    // (redemption), suspended for R15, and a pending create in gov.ma.
    ok(
        &mut c,
        &domain_create_full("hold.ma", "cnt-1", "", &["ns1.example.net"]),
    )
    .await;
    ok(
        &mut c,
        &domain_update(
            "hold.ma",
            r#"<domain:add><domain:status s="clientHold"/></domain:add>"#,
        ),
    )
    .await;
    ok(&mut c, &domain_create_full("bare.ma", "cnt-1", "", &[])).await;
    ok(
        &mut c,
        &domain_create_full("gone.ma", "cnt-1", "", &["ns1.example.net"]),
    )
    .await;
    let r = ok(
        &mut c,
        &format!(
            r#"<delete><domain:delete xmlns:domain="{DOMAIN_NS}"><domain:name>gone.ma</domain:name></domain:delete></delete>"#
        ),
    )
    .await;
    assert_eq!(r.code(), 1001, "gone.ma enters redemption: {}", r.xml);
    ok(
        &mut c,
        &domain_create_full("suspendu.ma", "cnt-2", "", &["ns1.example.net"]),
    )
    .await;
    let run = admin_live(
        &server,
        &[],
        None,
        &["contact", "verify", "cnt-2", "--rejected"],
    )
    .await;
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    assert!(run.out.contains("1 domains suspended"), "{}", run.out);
    let r = ok(
        &mut c,
        &format!(
            r#"{}<extension><ma:domainCreate xmlns:ma="http://www.anrt.ma/epp/ma-1.0"><ma:proofRef>MI-2031-0007</ma:proofRef></ma:domainCreate></extension>"#,
            domain_create_full("commune.gov.ma", "cnt-1", "", &["ns1.example.net"])
        ),
    )
    .await;
    assert_eq!(r.code(), 1001, "commune.gov.ma waits: {}", r.xml);

    let dir = tempfile::tempdir().unwrap();
    let zones = dir.path().join("zones");
    let zones_arg = zones.to_str().unwrap();
    let run = admin_live(
        &server,
        &[],
        None,
        &["--json", "zone", "export", "--dir", zones_arg],
    )
    .await;
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    let first = parse_report(&run.out);
    let names: Vec<&str> = first.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "ma", "co.ma", "net.ma", "org.ma", "ac.ma", "gov.ma", "press.ma"
        ]
    );
    for (zone, file, serial, _) in &first {
        assert_eq!(file, &zones.join(format!("{zone}.zone")));
        assert_eq!(
            *serial, 2031050100,
            "{zone}: YYYYMMDD00 of the server's day"
        );
    }
    let delegations: Vec<u64> = first.iter().map(|r| r.3).collect();
    assert_eq!(delegations, [2, 1, 0, 0, 0, 0, 0]);

    let ma = std::fs::read_to_string(zones.join("ma.zone")).unwrap();
    for line in [
        "$ORIGIN ma.",
        "$TTL 3600",
        "ma.\tIN\tSOA\tns1.nic.ma. hostmaster.nic.ma. 2031050100 10800 3600 1209600 3600",
        "ma.\tIN\tNS\tns1.nic.ma.",
        "ma.\tIN\tNS\tns2.nic.ma.",
        "ns1.nic.ma.\tIN\tA\t192.0.2.53",
        "ns1.nic.ma.\tIN\tAAAA\t2001:db8::53",
        "ns2.nic.ma.\tIN\tA\t198.51.100.53",
        // The sub-zones are cuts, delegated to the registry's servers.
        "co.ma.\tIN\tNS\tns1.nic.ma.",
        "co.ma.\tIN\tNS\tns2.nic.ma.",
        "gov.ma.\tIN\tNS\tns1.nic.ma.",
        "press.ma.\tIN\tNS\tns2.nic.ma.",
        "atlas.ma.\tIN\tNS\tns1.example.net.",
        "atlas.ma.\tIN\tNS\tns1.atlas.ma.",
        "ns1.atlas.ma.\tIN\tA\t192.0.2.1",
        "ns1.atlas.ma.\tIN\tAAAA\t2001:db8::1",
        &format!("atlas.ma.\tIN\tDS\t12345 13 2 {DIGEST}"),
        "sahara.ma.\tIN\tNS\tns1.atlas.ma.",
        "sahara.ma.\tIN\tNS\tns2.example.net.",
    ] {
        has(&ma, line);
    }
    assert_eq!(
        ma.lines()
            .filter(|l| l.starts_with("ns1.atlas.ma.\tIN\tA\t"))
            .count(),
        1,
        "glue is written once:\n{ma}"
    );
    assert_eq!(ma.matches("\tDS\t").count(), 1, "{ma}");
    owners_absent(
        &ma,
        &[
            "hold.ma",
            "bare.ma",
            "gone.ma",
            "suspendu.ma",
            "medina.co.ma",
            "ns.medina.co.ma",
            "commune.gov.ma",
        ],
    );

    let co = std::fs::read_to_string(zones.join("co.ma.zone")).unwrap();
    for line in [
        "$ORIGIN co.ma.",
        "co.ma.\tIN\tSOA\tns1.nic.ma. hostmaster.nic.ma. 2031050100 10800 3600 1209600 3600",
        "co.ma.\tIN\tNS\tns1.nic.ma.",
        "medina.co.ma.\tIN\tNS\tns1.example.net.",
        "medina.co.ma.\tIN\tNS\tns.medina.co.ma.",
        "medina.co.ma.\tIN\tNS\tns1.atlas.ma.",
        "ns.medina.co.ma.\tIN\tA\t192.0.2.2",
    ] {
        has(&co, line);
    }
    // Names outside co.ma get no address records there.
    owners_absent(&co, &["ns1.atlas.ma", "ns1.nic.ma", "atlas.ma"]);

    let gov = std::fs::read_to_string(zones.join("gov.ma.zone")).unwrap();
    owners_absent(&gov, &["commune.gov.ma"]);
    has(&gov, "gov.ma.\tIN\tNS\tns2.nic.ma.");

    for (zone, file, serial, _) in &first {
        let printed = named_checkzone(zone, file);
        assert!(
            printed.contains(&format!("loaded serial {serial}")),
            "{printed}"
        );
    }

    // Again, the same day (and second): every serial goes up; the text
    // report names the files.
    let run = admin_live(&server, &[], None, &["zone", "export", "--dir", zones_arg]).await;
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    assert!(run.out.starts_with("ZONE"), "{}", run.out);
    let row = run
        .out
        .lines()
        .find(|l| l.starts_with("ma "))
        .unwrap_or_else(|| panic!("no row for ma: {}", run.out));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1], "2031050101", "{row}");
    assert_eq!(cells[2], "2", "{row}");
    assert_eq!(PathBuf::from(cells[3]), zones.join("ma.zone"));
    let ma = std::fs::read_to_string(zones.join("ma.zone")).unwrap();
    has(
        &ma,
        "ma.\tIN\tSOA\tns1.nic.ma. hostmaster.nic.ma. 2031050101 10800 3600 1209600 3600",
    );
    named_checkzone("ma", &zones.join("ma.zone"));
    // Only the files remain: no temporary file is left behind.
    let mut files: Vec<String> = std::fs::read_dir(&zones)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "ac.ma.zone",
            "co.ma.zone",
            "gov.ma.zone",
            "ma.zone",
            "net.ma.zone",
            "org.ma.zone",
            "press.ma.zone"
        ]
    );
}

/// Runs the real binary offline, in `cwd`, at `now`.
fn admin_offline(
    server: &TestServer,
    cwd: &Path,
    now: &str,
    args: &[&str],
) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ma-registry"))
        .current_dir(cwd)
        .env("MA_REGISTRY_NOW", now)
        .env_remove("MA_REGISTRY_CONFIG")
        .envs(store_env(&server.settings.server.data_dir))
        .arg("--data-dir")
        .arg(&server.settings.server.data_dir)
        .arg("admin")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn zone_export_offline_one_zone_default_dir_and_refusals() {
    let mut server = server().await;
    let mut c = server.login("reg1").await;
    ok(&mut c, &contact_create("cnt-1", "MA")).await;
    ok(&mut c, &host_create("ns1.example.net", &[])).await;
    ok(
        &mut c,
        &domain_create_full("medina.co.ma", "cnt-1", "", &["ns1.example.net"]),
    )
    .await;
    let run = admin_live(&server, &[], None, &["zone", "export", "--zone", "com"]).await;
    assert_eq!(run.code, 1, "{}{}", run.out, run.err);
    assert!(
        run.err.contains("com is not a configured zone"),
        "{}",
        run.err
    );
    let dir = tempfile::tempdir().unwrap();
    let zones = dir.path().join("zones");
    let zones_arg = zones.to_str().unwrap();
    let run = admin_live(
        &server,
        &[],
        None,
        &["zone", "export", "--zone", "co.ma", "--dir", zones_arg],
    )
    .await;
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    drop(c);
    server.stop().await;

    // Offline, without a configuration: ns1.nic.ma has no address, so the
    // `ma` zone cannot be written, and nothing is.
    let cwd = tempfile::tempdir().unwrap();
    let (code, out, err) = admin_offline(
        &server,
        cwd.path(),
        "2031-05-01T12:00:00Z",
        &["zone", "export"],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("ns1.nic.ma is inside zone ma but has no address"),
        "{err}"
    );
    assert!(!cwd.path().join("zones").exists());
    // One zone, into `zones` under the working directory; the serial
    // follows the one the server wrote the same day.
    let (code, out, err) = admin_offline(
        &server,
        cwd.path(),
        "2031-05-01T12:00:00Z",
        &["--json", "zone", "export", "--zone", "CO.MA"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let report = parse_report(&out);
    let file = cwd.path().join("zones").join("co.ma.zone");
    assert_eq!(report, [("co.ma".to_owned(), file.clone(), 2031050101, 1)]);
    let co = std::fs::read_to_string(&file).unwrap();
    has(&co, "medina.co.ma.\tIN\tNS\tns1.example.net.");
    named_checkzone("co.ma", &file);
    // The next day starts a new series.
    let (code, out, err) = admin_offline(
        &server,
        cwd.path(),
        "2031-05-02T08:00:00Z",
        &["--json", "zone", "export", "--zone", "co.ma"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(parse_report(&out)[0].2, 2031050200);
}
