//! RFC 5731 domain check, create and info, and the charter rules they
//! enforce: R1 (zones), R2 (restricted zones), R3 (name syntax), R6 (first
//! come, first served), R7 (periods), R14 (name servers).

use std::sync::Arc;

use chrono::{DateTime, Months, Utc};

use crate::harness::*;

const DOMAIN_NS: &str = "urn:ietf:params:xml:ns:domain-1.0";

/// A server with reg1 logged in and its contact `cnt-1` created.
async fn registry() -> (TestServer, RawClient) {
    let server = TestServer::start().await;
    let mut client = server.login("reg1").await;
    assert_ok(&mut client, &contact_create("cnt-1", "MA")).await;
    (server, client)
}

fn date(r: &Resp, local: &str) -> DateTime<Utc> {
    instant(
        &r.text(local)
            .unwrap_or_else(|| panic!("no <{local}> in {}", r.xml)),
    )
}

fn period(value: u32, unit: &str) -> String {
    format!(r#"<domain:period unit="{unit}">{value}</domain:period>"#)
}

// ----- check -----

#[tokio::test]
async fn success_check_available_and_registered() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;
    let r = assert_ok(&mut c, &check("domain", &["exemple.ma", "libre.ma"])).await;
    assert_eq!(r.texts("name"), ["exemple.ma", "libre.ma"]);
    assert_eq!(r.attrs("name", "avail"), ["0", "1"]);
    assert_eq!(r.texts("reason"), ["In use"]);
}

#[tokio::test]
async fn r1_check_refuses_zone_subdomain_and_foreign_names() {
    let (_server, mut c) = registry().await;
    let names = ["co.ma", "www.exemple.ma", "exemple.com"];
    let r = assert_ok(&mut c, &check("domain", &names)).await;
    assert_eq!(r.attrs("name", "avail"), ["0", "0", "0"]);
    let reasons = r.texts("reason");
    assert_eq!(reasons.len(), 3, "{}", r.xml);
    for (name, reason) in names.iter().zip(&reasons) {
        assert!(reason.starts_with("R1"), "{name}: {reason}");
    }
}

#[tokio::test]
async fn r3_check_refuses_bad_syntax() {
    let (_server, mut c) = registry().await;
    // Too short, leading hyphen, hyphens in 3rd and 4th positions, a letter
    // outside D2014's list, and an A-label whose Unicode form is Arabic.
    let names = [
        "a.ma",
        "-ab.ma",
        "ab--cd.ma",
        "niño.ma",
        "xn--mgbc0a9azcg.ma",
    ];
    let r = assert_ok(&mut c, &check("domain", &names)).await;
    assert_eq!(r.attrs("name", "avail"), ["0"; 5]);
    let reasons = r.texts("reason");
    assert_eq!(reasons.len(), 5, "{}", r.xml);
    for (name, reason) in names.iter().zip(&reasons) {
        assert!(reason.starts_with("R3"), "{name}: {reason}");
    }
}

#[tokio::test]
async fn r3_check_answers_upper_case_in_lower_case() {
    let (_server, mut c) = registry().await;
    let r = assert_ok(&mut c, &check("domain", &["EXEMPLE.MA"])).await;
    assert_eq!(r.texts("name"), ["exemple.ma"]);
    assert_eq!(r.attrs("name", "avail"), ["1"]);
}

#[tokio::test]
async fn r3_check_answers_unicode_as_its_a_label() {
    let (_server, mut c) = registry().await;
    let r = assert_ok(&mut c, &check("domain", &["café.ma"])).await;
    assert_eq!(r.texts("name"), ["xn--caf-dma.ma"]);
    assert_eq!(r.attrs("name", "avail"), ["1"]);
}

#[tokio::test]
async fn r3_check_sees_a_unicode_name_registered_as_its_a_label() {
    let (_server, mut c) = registry().await;
    let created = assert_ok(&mut c, &domain_create("café.ma", "cnt-1", "")).await;
    assert_eq!(created.text("name").as_deref(), Some("xn--caf-dma.ma"));
    let r = assert_ok(&mut c, &check("domain", &["xn--caf-dma.ma", "CAFÉ.ma"])).await;
    assert_eq!(r.attrs("name", "avail"), ["0", "0"]);
}

#[tokio::test]
async fn failure_check_more_names_than_the_limit() {
    let server = TestServer::start_with(|s| s.limits.max_check_names = 3, None).await;
    let mut c = server.login("reg1").await;
    assert_ok(&mut c, &check("domain", &["aa.ma", "bb.ma", "cc.ma"])).await;
    let r = assert_code(
        &mut c,
        &check("domain", &["aa.ma", "bb.ma", "cc.ma", "dd.ma"]),
        2306,
    )
    .await;
    assert!(r.reason().is_some(), "{}", r.xml);
}

#[tokio::test]
async fn success_check_in_a_french_session() {
    let server = TestServer::start().await;
    let mut c = server.client("reg1").await;
    let login = c.cmd(&login_xml("reg1", password("reg1"), "fr")).await;
    assert_eq!(login.code(), 1000, "{}", login.xml);
    assert_eq!(login.attrs("msg", "lang"), ["fr"]);
    assert_ok(&mut c, &contact_create("cnt-1", "MA")).await;
    assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;

    let r = assert_ok(&mut c, &check("domain", &["exemple.ma"])).await;
    assert_eq!(r.attrs("msg", "lang"), ["fr"]);
    assert_eq!(r.attrs("reason", "lang"), ["fr"]);
    assert_eq!(r.reason().as_deref(), Some("Déjà enregistré"));

    let refused = assert_code(&mut c, &domain_create("co.ma", "cnt-1", ""), 2306).await;
    assert_eq!(refused.attrs("msg", "lang"), ["fr"]);
    assert_eq!(refused.attrs("reason", "lang"), ["fr"]);
    let reason = refused.reason().unwrap();
    assert!(reason.starts_with("R1 :"), "{reason}");
}

// ----- create -----

#[tokio::test]
async fn r7_create_without_period_registers_for_one_year() {
    let server = TestServer::start_at("2025-03-10T10:00:00Z").await;
    let mut c = server.login("reg1").await;
    assert_ok(&mut c, &contact_create("cnt-1", "MA")).await;
    let r = assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;
    assert_eq!(r.text("name").as_deref(), Some("exemple.ma"));
    let created = date(&r, "crDate");
    assert!(
        created.to_rfc3339().starts_with("2025-03-10T10:00"),
        "{created}"
    );
    assert_eq!(
        date(&r, "exDate"),
        created.checked_add_months(Months::new(12)).unwrap()
    );
}

#[tokio::test]
async fn r7_create_accepts_five_years_and_sixty_months() {
    let (_server, mut c) = registry().await;
    for (name, p) in [
        ("cinq.ma", period(5, "y")),
        ("soixante.ma", period(60, "m")),
    ] {
        let r = assert_ok(&mut c, &domain_create_full(name, "cnt-1", &p, &[])).await;
        let created = date(&r, "crDate");
        assert_eq!(
            date(&r, "exDate"),
            created.checked_add_months(Months::new(60)).unwrap(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn r7_create_refuses_six_years_and_thirteen_months() {
    let (_server, mut c) = registry().await;
    for p in [period(6, "y"), period(13, "m")] {
        let r = assert_code(
            &mut c,
            &domain_create_full("exemple.ma", "cnt-1", &p, &[]),
            2004,
        )
        .await;
        let reason = r.reason().unwrap();
        assert!(reason.starts_with("R7"), "{p}: {reason}");
    }
    let free = assert_ok(&mut c, &check("domain", &["exemple.ma"])).await;
    assert_eq!(free.attrs("name", "avail"), ["1"]);
}

#[tokio::test]
async fn r7_create_refuses_a_zero_year_period_with_2004() {
    let (_server, mut c) = registry().await;
    let body = domain_create_full("exemple.ma", "cnt-1", &period(0, "y"), &[]);
    assert_code(&mut c, &body, 2004).await;
}

#[tokio::test]
async fn r3_create_refuses_an_invalid_name_with_2005() {
    let (_server, mut c) = registry().await;
    for name in ["ab--cd.ma", "a.ma", "niño.ma", "ex_ample.ma"] {
        let r = assert_code(&mut c, &domain_create(name, "cnt-1", ""), 2005).await;
        let reason = r.reason().unwrap();
        assert!(reason.starts_with("R3"), "{name}: {reason}");
    }
}

#[tokio::test]
async fn r1_create_refuses_names_that_are_not_registrable_with_2306() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;
    for name in ["co.ma", "www.exemple.ma", "exemple.com"] {
        let r = assert_code(&mut c, &domain_create(name, "cnt-1", ""), 2306).await;
        let reason = r.reason().unwrap();
        assert!(reason.starts_with("R1"), "{name}: {reason}");
    }
}

#[tokio::test]
async fn r6_create_of_a_registered_name_answers_2302() {
    let (server, mut c) = registry().await;
    assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;
    assert_code(&mut c, &domain_create("exemple.ma", "cnt-1", ""), 2302).await;

    let mut other = server.login("reg2").await;
    assert_ok(&mut other, &contact_create("cnt-2", "MA")).await;
    assert_code(&mut other, &domain_create("exemple.ma", "cnt-2", ""), 2302).await;
}

#[tokio::test]
async fn r3_r6_create_is_case_insensitive() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;
    assert_code(&mut c, &domain_create("Exemple.ma", "cnt-1", ""), 2302).await;
    assert_code(&mut c, &domain_create("EXEMPLE.MA", "cnt-1", ""), 2302).await;
}

#[tokio::test]
async fn failure_create_with_an_unknown_registrant_answers_2303() {
    let (_server, mut c) = registry().await;
    assert_code(&mut c, &domain_create("exemple.ma", "inconnu", ""), 2303).await;
    let free = assert_ok(&mut c, &check("domain", &["exemple.ma"])).await;
    assert_eq!(free.attrs("name", "avail"), ["1"]);
}

#[tokio::test]
async fn failure_create_with_an_unknown_name_server_answers_2303() {
    let (_server, mut c) = registry().await;
    let body = domain_create_full("exemple.ma", "cnt-1", "", &["ns1.example.net"]);
    assert_code(&mut c, &body, 2303).await;
    let free = assert_ok(&mut c, &check("domain", &["exemple.ma"])).await;
    assert_eq!(free.attrs("name", "avail"), ["1"]);
}

#[tokio::test]
async fn r14_create_accepts_thirteen_name_servers() {
    let (_server, mut c) = registry().await;
    let hosts: Vec<String> = (1..=13).map(|i| format!("ns{i}.example.net")).collect();
    for h in &hosts {
        assert_ok(&mut c, &host_create(h, &[])).await;
    }
    let ns: Vec<&str> = hosts.iter().map(String::as_str).collect();
    assert_ok(&mut c, &domain_create_full("exemple.ma", "cnt-1", "", &ns)).await;
    let info = assert_ok(&mut c, &domain_info("exemple.ma", "all", None)).await;
    assert_eq!(info.texts("hostObj").len(), 13);
}

#[tokio::test]
async fn r14_create_with_fourteen_name_servers_answers_2306() {
    let (_server, mut c) = registry().await;
    let hosts: Vec<String> = (1..=14).map(|i| format!("ns{i}.example.net")).collect();
    for h in &hosts {
        assert_ok(&mut c, &host_create(h, &[])).await;
    }
    let ns: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let r = assert_code(
        &mut c,
        &domain_create_full("exemple.ma", "cnt-1", "", &ns),
        2306,
    )
    .await;
    let reason = r.reason().unwrap();
    assert!(reason.starts_with("R14"), "{reason}");
}

#[tokio::test]
async fn failure_create_without_registrant_answers_2003() {
    let (_server, mut c) = registry().await;
    let body = format!(
        r#"<create><domain:create xmlns:domain="{DOMAIN_NS}"><domain:name>exemple.ma</domain:name>
<domain:contact type="admin">cnt-1</domain:contact>
<domain:authInfo><domain:pw>Dom-Auth-2024</domain:pw></domain:authInfo></domain:create></create>"#
    );
    assert_code(&mut c, &body, 2003).await;
}

#[tokio::test]
async fn r2_create_in_a_restricted_zone_without_proof_answers_2003() {
    let (_server, mut c) = registry().await;
    for name in ["exemple.gov.ma", "exemple.ac.ma", "exemple.press.ma"] {
        let r = assert_code(&mut c, &domain_create(name, "cnt-1", ""), 2003).await;
        let reason = r.reason().unwrap();
        assert!(reason.starts_with("R2"), "{name}: {reason}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r6_concurrent_creates_of_one_name_exactly_one_succeeds() {
    let server = TestServer::start().await;
    let mut sessions = Vec::new();
    for clid in ["reg1", "reg2"] {
        let mut setup = server.login(clid).await;
        assert_ok(&mut setup, &contact_create(&format!("c-{clid}"), "MA")).await;
        for _ in 0..4 {
            sessions.push((clid, server.login(clid).await));
        }
    }
    let start = Arc::new(tokio::sync::Barrier::new(sessions.len()));
    let tasks: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(i, (clid, mut client))| {
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                let body = domain_create("premier.ma", &format!("c-{clid}"), "");
                start.wait().await;
                let r = client.cmd(&command(&body, &format!("r6-{i}"))).await;
                (clid, r.code())
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let winners: Vec<&str> = results
        .iter()
        .filter(|(_, code)| *code == 1000)
        .map(|(clid, _)| *clid)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert_eq!(
        results.iter().filter(|(_, code)| *code == 2302).count(),
        7,
        "{results:?}"
    );

    let mut c = server.login(winners[0]).await;
    let info = assert_ok(&mut c, &domain_info("premier.ma", "all", None)).await;
    assert_eq!(info.text("clID").as_deref(), Some(winners[0]));
}

// ----- info -----

/// reg1 registers `exemple.ma` with contact `cnt-1` and name server `ns1.example.net`.
async fn registered() -> (TestServer, RawClient) {
    let (server, mut c) = registry().await;
    assert_ok(&mut c, &host_create("ns1.example.net", &[])).await;
    let body = domain_create_full("exemple.ma", "cnt-1", "", &["ns1.example.net"]);
    assert_ok(&mut c, &body).await;
    (server, c)
}

#[tokio::test]
async fn success_info_by_the_sponsor_is_the_full_view_without_auth_info() {
    let (_server, mut c) = registered().await;
    let r = assert_ok(&mut c, &domain_info("exemple.ma", "all", None)).await;
    assert_eq!(r.text("name").as_deref(), Some("exemple.ma"));
    assert!(r.text("roid").is_some_and(|roid| !roid.is_empty()));
    assert_eq!(r.text("registrant").as_deref(), Some("cnt-1"));
    assert_eq!(r.attrs("contact", "type"), ["admin", "tech"]);
    assert_eq!(r.texts("contact"), ["cnt-1", "cnt-1"]);
    assert_eq!(r.texts("hostObj"), ["ns1.example.net"]);
    assert_eq!(r.text("clID").as_deref(), Some("reg1"));
    assert_eq!(r.text("crID").as_deref(), Some("reg1"));
    assert!(r.text("crDate").is_some() && r.text("exDate").is_some());
    assert!(
        r.texts("authInfo").is_empty(),
        "authInfo returned: {}",
        r.xml
    );
    assert!(!r.xml.contains("Dom-Auth-2024"));
}

#[tokio::test]
async fn success_info_by_another_registrar_without_auth_info_is_limited() {
    let (server, _c) = registered().await;
    let mut other = server.login("reg2").await;
    let r = assert_ok(&mut other, &domain_info("exemple.ma", "all", None)).await;
    assert_eq!(r.text("name").as_deref(), Some("exemple.ma"));
    assert_eq!(r.text("clID").as_deref(), Some("reg1"));
    assert!(r.text("registrant").is_none(), "{}", r.xml);
    assert!(r.texts("contact").is_empty(), "{}", r.xml);
    assert!(r.texts("hostObj").is_empty(), "{}", r.xml);
    assert!(r.texts("authInfo").is_empty(), "{}", r.xml);
}

#[tokio::test]
async fn success_info_by_another_registrar_with_auth_info_is_the_full_view() {
    let (server, _c) = registered().await;
    let mut other = server.login("reg2").await;
    let r = assert_ok(
        &mut other,
        &domain_info("exemple.ma", "all", Some("Dom-Auth-2024")),
    )
    .await;
    assert_eq!(r.text("registrant").as_deref(), Some("cnt-1"));
    assert_eq!(r.texts("hostObj"), ["ns1.example.net"]);
    assert_eq!(r.text("clID").as_deref(), Some("reg1"));
    assert!(r.texts("authInfo").is_empty(), "{}", r.xml);
}

#[tokio::test]
async fn failure_info_with_a_wrong_auth_info_answers_2202() {
    let (server, _c) = registered().await;
    let mut other = server.login("reg2").await;
    assert_code(
        &mut other,
        &domain_info("exemple.ma", "all", Some("Wrong-Auth-1")),
        2202,
    )
    .await;
}

#[tokio::test]
async fn failure_info_of_an_unknown_domain_answers_2303() {
    let (_server, mut c) = registry().await;
    assert_code(&mut c, &domain_info("inconnu.ma", "all", None), 2303).await;
}

#[tokio::test]
async fn success_info_hosts_attribute_selects_delegated_and_subordinate_hosts() {
    let (_server, mut c) = registered().await;
    assert_ok(&mut c, &host_create("ns1.exemple.ma", &["192.0.2.1"])).await;

    let all = assert_ok(&mut c, &domain_info("exemple.ma", "all", None)).await;
    assert_eq!(all.texts("hostObj"), ["ns1.example.net"]);
    assert_eq!(all.texts("host"), ["ns1.exemple.ma"]);

    let del = assert_ok(&mut c, &domain_info("exemple.ma", "del", None)).await;
    assert_eq!(del.texts("hostObj"), ["ns1.example.net"]);
    assert!(del.texts("host").is_empty(), "{}", del.xml);

    let sub = assert_ok(&mut c, &domain_info("exemple.ma", "sub", None)).await;
    assert!(sub.texts("hostObj").is_empty(), "{}", sub.xml);
    assert_eq!(sub.texts("host"), ["ns1.exemple.ma"]);

    let none = assert_ok(&mut c, &domain_info("exemple.ma", "none", None)).await;
    assert!(none.texts("ns").is_empty(), "{}", none.xml);
    assert!(none.texts("hostObj").is_empty(), "{}", none.xml);
    assert!(none.texts("host").is_empty(), "{}", none.xml);
}

#[tokio::test]
async fn success_info_status_is_inactive_without_name_servers_and_ok_with_them() {
    let (_server, mut c) = registered().await;
    assert_ok(&mut c, &domain_create("sans-ns.ma", "cnt-1", "")).await;

    let bare = assert_ok(&mut c, &domain_info("sans-ns.ma", "all", None)).await;
    assert_eq!(bare.attrs("status", "s"), ["inactive"]);

    let delegated = assert_ok(&mut c, &domain_info("exemple.ma", "all", None)).await;
    assert_eq!(delegated.attrs("status", "s"), ["ok"]);
}
