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

#[tokio::test]
async fn r2_operator_approves_and_rejects_pending_creates() {
    let mut server = TestServer::start().await;
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
    let mut server = TestServer::start_at("2026-11-20T09:00:00Z").await;
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
