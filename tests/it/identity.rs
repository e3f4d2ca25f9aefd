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
    let (ok, out) = admin(&server, Some(now), &["contact", "verify", "cnt-1"]);
    assert!(!ok, "no document to verify yet: {out}");
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
