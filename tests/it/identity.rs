//! R15: a domain whose registrant's identity is not verified 15 days after
//! its creation is suspended (serverHold) with a poll message; the operator's
//! verification lifts it; a rejection suspends at once.

use crate::harness::*;

async fn statuses(server: &TestServer) -> Vec<String> {
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(&domain_info("exemple.ma", "all", None), "id-info"))
        .await;
    r.attrs("status", "s")
}

async fn messages(server: &TestServer) -> Vec<String> {
    let mut c = server.login("reg1").await;
    let mut texts = Vec::new();
    loop {
        let r = c.cmd(&command(r#"<poll op="req"/>"#, "id-poll")).await;
        if r.code() == 1300 {
            return texts;
        }
        texts.push(r.texts("msg").remove(1));
        let id = r.attrs("msgQ", "id").remove(0);
        c.cmd(&command(
            &format!(r#"<poll op="ack" msgID="{id}"/>"#),
            "id-ack",
        ))
        .await;
    }
}

async fn registered() -> TestServer {
    let server = TestServer::start_at("2026-03-02T09:00:00Z").await;
    let mut c = server.login("reg1").await;
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "id-c"))
            .await
            .code(),
        1000
    );
    assert_eq!(
        c.cmd(&command(&domain_create("exemple.ma", "cnt-1", ""), "id-d"))
            .await
            .code(),
        1000
    );
    server
}

#[tokio::test]
async fn r15_unverified_registrant_suspends_the_domain_after_15_days_and_verification_lifts_it() {
    let mut server = registered().await;
    server.restart_at(Some("2026-03-16T09:00:00Z")).await;
    assert!(
        !statuses(&server).await.contains(&"serverHold".to_string()),
        "day 14"
    );
    server.restart_at(Some("2026-03-17T09:00:01Z")).await;
    assert!(
        statuses(&server).await.contains(&"serverHold".to_string()),
        "day 15"
    );
    let texts = messages(&server).await;
    assert!(texts.iter().any(|t| t.starts_with("R15")), "{texts:?}");
    // The operator records the document, then verifies it.
    server.stop().await;
    let now = "2026-03-18T09:00:00Z";
    let (ok, out) = admin(&server, Some(now), &["contact", "verify", "cnt-ghost"]);
    assert!(!ok, "no such contact: {out}");
    let (ok, out) = admin(
        &server,
        Some(now),
        &[
            "contact", "identity", "cnt-1", "--type", "cin", "--number", "AB12",
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = admin(
        &server,
        Some(now),
        &[
            "contact", "identity", "cnt-1", "--type", "ice", "--number", "12",
        ],
    );
    assert!(!ok, "an ICE has 15 digits: {out}");
    let (ok, out) = admin(
        &server,
        Some(now),
        &["contact", "verify", "cnt-1", "--note", "CIN vue"],
    );
    assert!(ok, "{out}");
    assert!(out.contains("1 lifted"), "{out}");
    server.restart_at(Some(now)).await;
    assert!(!statuses(&server).await.contains(&"serverHold".to_string()));
    let texts = messages(&server).await;
    assert!(texts.iter().any(|t| t.contains("lifted")), "{texts:?}");
}

#[tokio::test]
async fn r15_verified_in_time_means_no_suspension_and_a_rejection_suspends_at_once() {
    let mut server = registered().await;
    server.stop().await;
    let now = "2026-03-05T09:00:00Z";
    let (ok, out) = admin(
        &server,
        Some(now),
        &[
            "contact", "identity", "cnt-1", "--type", "passport", "--number", "X1234567",
        ],
    );
    assert!(ok, "{out}");
    let (ok, _) = admin(&server, Some(now), &["contact", "verify", "cnt-1"]);
    assert!(ok);
    server.restart_at(Some("2026-04-01T09:00:00Z")).await;
    assert!(!statuses(&server).await.contains(&"serverHold".to_string()));
    server.stop().await;
    let (ok, out) = admin(
        &server,
        Some("2026-04-02T09:00:00Z"),
        &[
            "contact",
            "verify",
            "cnt-1",
            "--rejected",
            "--note",
            "document falsifié",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("1 domains suspended"), "{out}");
    server.restart_at(Some("2026-04-02T10:00:00Z")).await;
    assert!(statuses(&server).await.contains(&"serverHold".to_string()));
}

/// A domain:renew body.
fn renew(name: &str, cur_exp: &str) -> String {
    format!(
        r#"<renew><domain:renew xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>{name}</domain:name><domain:curExpDate>{cur_exp}</domain:curExpDate><domain:period unit="y">1</domain:period></domain:renew></renew>"#
    )
}

#[tokio::test]
async fn r15_create_needs_a_registrant_with_an_identity_document() {
    let server = TestServer::start_at("2026-03-02T09:00:00Z").await;
    let mut c = server.login("reg1").await;
    let cases = [
        // (contact body, accepted)
        (contact_create_bare("cnt-noid", "MA"), "cnt-noid", false),
        (contact_create("cnt-id", "MA"), "cnt-id", true),
    ];
    for (i, (contact, id, accepted)) in cases.iter().enumerate() {
        assert_eq!(
            c.cmd(&command(contact, &format!("r15-c-{i}"))).await.code(),
            1000
        );
        let name = format!("r15-create-{i}.ma");
        let r = c
            .cmd(&command(
                &domain_create(&name, id, ""),
                &format!("r15-d-{i}"),
            ))
            .await;
        if *accepted {
            assert_eq!(r.code(), 1000, "{}", r.xml);
        } else {
            assert_eq!(r.code(), 2306, "{}", r.xml);
            let reason = r.reason().unwrap_or_default();
            assert!(reason.starts_with("R15") && reason.contains(id), "{reason}");
            let check = c
                .cmd(&command(&check("domain", &[&name]), &format!("r15-k-{i}")))
                .await;
            assert_eq!(check.attrs("name", "avail"), ["1"], "nothing created");
        }
    }
    // The operator records the document: the same create is accepted.
    let run = admin_live(
        &server,
        &[],
        None,
        &[
            "contact",
            "identity",
            "cnt-noid",
            "--type",
            "passport",
            "--number",
            "AB1234567",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let r = c.cmd(&command(r#"<poll op="req"/>"#, "r15-poll")).await;
    assert_eq!(r.code(), 1301, "the sponsor is told: {}", r.xml);
    assert!(
        r.xml.contains(
            "R15: the registry recorded an identity document (passport) for the contact cnt-noid"
        ),
        "{}",
        r.xml
    );
    assert!(
        r.xml.contains("identityRecorded"),
        "change-poll data: {}",
        r.xml
    );
    let r = c
        .cmd(&command(
            &domain_create("r15-create-0.ma", "cnt-noid", ""),
            "r15-again",
        ))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
}

#[tokio::test]
async fn r15_renew_is_refused_once_the_registry_rejects_the_document() {
    let server = registered().await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(&renew("exemple.ma", "2027-03-02"), "r15-rn-1"))
        .await;
    assert_eq!(r.code(), 1000, "a document on record: {}", r.xml);
    let run = admin_live(
        &server,
        &[],
        None,
        &[
            "contact",
            "verify",
            "cnt-1",
            "--rejected",
            "--note",
            "illisible",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let r = c
        .cmd(&command(&renew("exemple.ma", "2028-03-02"), "r15-rn-2"))
        .await;
    assert_eq!(r.code(), 2306, "{}", r.xml);
    assert!(
        r.reason().unwrap_or_default().starts_with("R15"),
        "{}",
        r.xml
    );
    let info = c
        .cmd(&command(
            &domain_info("exemple.ma", "all", None),
            "r15-rn-i",
        ))
        .await;
    assert_eq!(
        info.text("exDate").as_deref().map(|d| &d[..10]),
        Some("2028-03-02"),
        "unchanged"
    );
}
