//! R2: creates in restricted zones wait for the registry, which approves or
//! rejects them with the admin CLI; the sponsor learns it by poll message.

use crate::harness::*;

fn restricted_create(name: &str) -> String {
    format!(
        r#"{}<extension><ma:domainCreate xmlns:ma="http://www.anrt.ma/epp/ma-1.0"><ma:proofRef>MEN-2026-0042</ma:proofRef></ma:domainCreate></extension>"#,
        domain_create(name, "cnt-1", "")
    )
}

async fn pending_creates(server: &TestServer) -> RawClient {
    let mut c = server.login("reg1").await;
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "r2-c"))
            .await
            .code(),
        1000
    );
    for name in ["lycee-atlas.ac.ma", "commune-x.gov.ma"] {
        let r = c.cmd(&command(&restricted_create(name), "r2-cr")).await;
        assert_eq!(r.code(), 1001, "{}", r.xml);
    }
    let r = c
        .cmd(&command(
            &domain_info("lycee-atlas.ac.ma", "all", None),
            "r2-i",
        ))
        .await;
    assert!(
        r.attrs("status", "s")
            .contains(&"pendingCreate".to_string())
    );
    // Waiting is not free: no one else can take the name.
    let r = c
        .cmd(&command(&check("domain", &["lycee-atlas.ac.ma"]), "r2-chk"))
        .await;
    assert_eq!(r.attrs("name", "avail"), vec!["0"]);
    c
}

async fn pan_results(c: &mut RawClient) -> Vec<String> {
    let mut results = Vec::new();
    loop {
        let r = c.cmd(&command(r#"<poll op="req"/>"#, "r2-poll")).await;
        if r.code() == 1300 {
            return results;
        }
        results.extend(r.attrs("name", "paResult"));
        let id = r.attrs("msgQ", "id").remove(0);
        c.cmd(&command(
            &format!(r#"<poll op="ack" msgID="{id}"/>"#),
            "r2-ack",
        ))
        .await;
    }
}

/// A server where creates in gov.ma cost 200 MAD, and reg1 has 1000.
async fn priced(now: Option<&str>) -> TestServer {
    let server = TestServer::start_with(
        |s| {
            s.billing.prices.push(ma_registry::config::ZonePrices {
                zone: "gov.ma".into(),
                create: 200.0,
                renew: 200.0,
                restore: 200.0,
                ownership: 200.0,
            })
        },
        now,
    )
    .await;
    let run = admin_live(&server, &[], None, &["registrar", "credit", "reg1", "1000"]).await;
    assert_eq!(run.code, 0, "{}", run.err);
    server
}

/// reg1's ledger: (amount, description) per entry.
fn ledger(server: &TestServer) -> Vec<(String, String)> {
    let (ok, out) = admin(server, None, &["--json", "registrar", "ledger", "reg1"]);
    assert!(ok, "{out}");
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["amount"].as_str().unwrap().to_owned(),
                r["description"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// R2/R23: the create fee of `name` and its refund, both in the ledger.
fn assert_refunded(server: &TestServer, name: &str, why: &str) {
    let entries = ledger(server);
    let paid = entries
        .iter()
        .find(|(_, d)| d.starts_with(&format!("create {name} ")))
        .unwrap_or_else(|| panic!("no create fee for {name}: {entries:?}"));
    let refund = entries
        .iter()
        .find(|(_, d)| *d == format!("refund create {name} ({why})"))
        .unwrap_or_else(|| panic!("no refund for {name}: {entries:?}"));
    assert!(paid.0.starts_with('-'), "{paid:?}");
    assert_eq!(paid.0.trim_start_matches('-'), refund.0, "{entries:?}");
}

#[tokio::test]
async fn r2_operator_approves_and_rejects_pending_creates() {
    let mut server = priced(None).await;
    drop(pending_creates(&server).await);
    server.stop().await;
    let (ok, out) = admin(&server, None, &["create", "approve", "lycee-atlas.ac.ma"]);
    assert!(ok, "{out}");
    let (ok, out) = admin(
        &server,
        None,
        &[
            "create",
            "reject",
            "commune-x.gov.ma",
            "--reason",
            "pièce non probante",
        ],
    );
    assert!(ok, "{out}");
    let (ok, _) = admin(&server, None, &["create", "approve", "lycee-atlas.ac.ma"]);
    assert!(!ok, "approving twice fails");
    assert_refunded(&server, "commune-x.gov.ma", "R2 request rejected");
    assert!(
        !ledger(&server)
            .iter()
            .any(|(_, d)| d.contains("refund create lycee-atlas")),
        "an approved create keeps its fee"
    );
    server.restart_at(None).await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(
            &domain_info("lycee-atlas.ac.ma", "all", None),
            "r2-i2",
        ))
        .await;
    assert!(
        !r.attrs("status", "s")
            .contains(&"pendingCreate".to_string())
    );
    let r = c
        .cmd(&command(
            &domain_info("commune-x.gov.ma", "all", None),
            "r2-i3",
        ))
        .await;
    assert_eq!(r.code(), 2303);
    let r = c
        .cmd(&command(&check("domain", &["commune-x.gov.ma"]), "r2-chk2"))
        .await;
    assert_eq!(r.attrs("name", "avail"), vec!["1"]);
    let mut results = pan_results(&mut c).await;
    results.sort();
    assert_eq!(results, vec!["0", "1"]);
}

#[tokio::test]
async fn r2_pending_create_refuses_changes_until_decided() {
    let server = TestServer::start().await;
    let mut c = pending_creates(&server).await;
    let upd = r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>lycee-atlas.ac.ma</domain:name><domain:add><domain:status s="clientHold"/></domain:add></domain:update></update>"#;
    assert_eq!(c.cmd(&command(upd, "r2-u")).await.code(), 2304);
    let del = r#"<delete><domain:delete xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>lycee-atlas.ac.ma</domain:name></domain:delete></delete>"#;
    assert_eq!(c.cmd(&command(del, "r2-d")).await.code(), 2304);
}

fn complete(name: &str) -> String {
    format!(
        r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>{name}</domain:name></domain:update></update><extension><ma:update xmlns:ma="http://www.anrt.ma/epp/ma-1.0"><ma:proofRef>MEN-2026-0042-bis</ma:proofRef></ma:update></extension>"#
    )
}

#[tokio::test]
async fn r2_incomplete_request_lapses_after_two_business_days_unless_completed() {
    // Friday 2026-11-20: two business days later is Tuesday.
    let mut server = priced(Some("2026-11-20T09:00:00Z")).await;
    drop(pending_creates(&server).await);
    server.stop().await;
    for name in ["lycee-atlas.ac.ma", "commune-x.gov.ma"] {
        let (ok, out) = admin(
            &server,
            Some("2026-11-20T10:00:00Z"),
            &[
                "create",
                "incomplete",
                name,
                "--missing",
                "arrêté de création",
            ],
        );
        assert!(ok, "{out}");
    }
    // Monday: the sponsor completes one of them.
    server.restart_at(Some("2026-11-23T09:00:00Z")).await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(&complete("lycee-atlas.ac.ma"), "r2-done"))
        .await;
    assert_eq!(r.code(), 1001, "{}", r.xml);
    drop(c);
    // Wednesday: the other one lapsed; the completed one still waits.
    server.restart_at(Some("2026-11-25T09:00:00Z")).await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(
            &domain_info("commune-x.gov.ma", "all", None),
            "r2-l",
        ))
        .await;
    assert_eq!(r.code(), 2303, "lapsed");
    drop(c);
    server.stop().await;
    assert_refunded(&server, "commune-x.gov.ma", "R2 request lapsed");
    server.restart_at(Some("2026-11-25T09:00:00Z")).await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(
            &domain_info("lycee-atlas.ac.ma", "all", None),
            "r2-w",
        ))
        .await;
    assert!(
        r.attrs("status", "s")
            .contains(&"pendingCreate".to_string())
    );
    drop(c);
    server.stop().await;
    let (ok, out) = admin(
        &server,
        Some("2026-11-25T10:00:00Z"),
        &["create", "approve", "lycee-atlas.ac.ma"],
    );
    assert!(ok, "{out}");
}
