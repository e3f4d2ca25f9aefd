//! R5(b) deletion by order of the authorities and R18 disputes, applied by
//! the operator with the admin CLI.

use crate::harness::*;

async fn registered() -> TestServer {
    let mut server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "a-c"))
            .await
            .code(),
        1000
    );
    assert_eq!(
        c.cmd(&command(&domain_create("exemple.ma", "cnt-1", ""), "a-d"))
            .await
            .code(),
        1000
    );
    drop(c);
    server.stop().await;
    server
}

async fn poll_texts(c: &mut RawClient) -> Vec<String> {
    let mut texts = Vec::new();
    loop {
        let r = c.cmd(&command(r#"<poll op="req"/>"#, "a-poll")).await;
        if r.code() == 1300 {
            return texts;
        }
        texts.push(r.texts("msg").remove(1));
        let id = r.attrs("msgQ", "id").remove(0);
        c.cmd(&command(
            &format!(r#"<poll op="ack" msgID="{id}"/>"#),
            "a-ack",
        ))
        .await;
    }
}

#[tokio::test]
async fn r5_deletion_by_order_skips_redemption_and_blocks_the_name() {
    let mut server = registered().await;
    let (ok, out) = admin(
        &server,
        None,
        &[
            "domain",
            "delete-by-order",
            "exemple.ma",
            "--order",
            "TPI-Rabat-2026-17",
            "--reason",
            "ordre public",
        ],
    );
    assert!(ok, "{out}");
    server.restart_at(None).await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(&domain_info("exemple.ma", "all", None), "a-i"))
        .await;
    assert_eq!(r.code(), 2303, "no redemption");
    let r = c
        .cmd(&command(&check("domain", &["exemple.ma"]), "a-chk"))
        .await;
    assert_eq!(r.texts("reason"), vec!["Blocked"]);
    let texts = poll_texts(&mut c).await;
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("R5") && t.contains("TPI-Rabat-2026-17")),
        "{texts:?}"
    );
}

#[tokio::test]
async fn r18_dispute_freezes_the_domain_until_closed() {
    let mut server = registered().await;
    let (ok, out) = admin(
        &server,
        None,
        &[
            "dispute",
            "open",
            "exemple.ma",
            "--reason",
            "plainte de marque",
        ],
    );
    assert!(ok, "{out}");
    let (ok, _) = admin(
        &server,
        None,
        &["dispute", "open", "exemple.ma", "--reason", "again"],
    );
    assert!(!ok, "already open");
    server.restart_at(None).await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(&domain_info("exemple.ma", "all", None), "a-i"))
        .await;
    assert_eq!(r.code(), 1000, "it stays active");
    let upd = r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name><domain:add><domain:status s="clientHold"/></domain:add></domain:update></update>"#;
    assert_eq!(c.cmd(&command(upd, "a-u")).await.code(), 2304);
    let del = r#"<delete><domain:delete xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name></domain:delete></delete>"#;
    assert_eq!(c.cmd(&command(del, "a-del")).await.code(), 2304);
    let mut other = server.login("reg2").await;
    let tr = r#"<transfer op="request"><domain:transfer xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name><domain:authInfo><domain:pw>Dom-Auth-2024</domain:pw></domain:authInfo></domain:transfer></transfer>"#;
    assert_eq!(other.cmd(&command(tr, "a-tr")).await.code(), 2304);
    assert_eq!(
        other
            .cmd(&command(&contact_create("cnt-2", "MA"), "a-c2"))
            .await
            .code(),
        1000
    );
    drop((c, other));
    server.stop().await;
    let (ok, out) = admin(
        &server,
        None,
        &[
            "dispute",
            "close",
            "exemple.ma",
            "--decision",
            "move",
            "--registrar",
            "reg2",
            "--registrant",
            "cnt-2",
        ],
    );
    assert!(ok, "{out}");
    server.restart_at(None).await;
    let mut other = server.login("reg2").await;
    let r = other
        .cmd(&command(&domain_info("exemple.ma", "all", None), "a-i2"))
        .await;
    assert_eq!(r.text("clID").as_deref(), Some("reg2"));
    assert_eq!(r.text("registrant").as_deref(), Some("cnt-2"));
    assert!(
        !r.attrs("status", "s")
            .iter()
            .any(|s| s.starts_with("server"))
    );
    assert!(
        poll_texts(&mut other)
            .await
            .iter()
            .any(|t| t.starts_with("R18"))
    );
    let mut c = server.login("reg1").await;
    let texts = poll_texts(&mut c).await;
    assert!(
        texts.iter().filter(|t| t.starts_with("R18")).count() >= 2,
        "{texts:?}"
    );
}
