//! RFC 9154 authInfo: weak values refused, empty unsets, a time-to-live,
//! never returned, and a transfer needs a live one.

use crate::harness::*;

fn transfer_request(name: &str, pw: &str) -> String {
    format!(
        r#"<transfer op="request"><domain:transfer xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>{name}</domain:name><domain:authInfo><domain:pw>{pw}</domain:pw></domain:authInfo></domain:transfer></transfer>"#
    )
}

fn chg_auth(name: &str, pw: &str) -> String {
    format!(
        r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>{name}</domain:name><domain:chg><domain:authInfo><domain:pw>{pw}</domain:pw></domain:authInfo></domain:chg></domain:update></update>"#
    )
}

async fn with_domain(server: &TestServer) -> RawClient {
    let mut c = server.login("reg1").await;
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "a-0001"))
            .await
            .code(),
        1000
    );
    assert_eq!(
        c.cmd(&command(
            &domain_create("exemple.ma", "cnt-1", ""),
            "a-0002"
        ))
        .await
        .code(),
        1000
    );
    c
}

#[tokio::test]
async fn failure_weak_auth_info_is_2202() {
    let server = TestServer::start().await;
    let mut c = with_domain(&server).await;
    for weak in ["short1A", "alllowercase", "ALLUPPER123", "12345678901"] {
        let r = c
            .cmd(&command(&chg_auth("exemple.ma", weak), "a-weak"))
            .await;
        assert_eq!(r.code(), 2202, "{weak}: {}", r.xml);
        assert!(r.reason().unwrap().contains("RFC 9154"));
    }
    let create = domain_create("faible.ma", "cnt-1", "").replace("Dom-Auth-2024", "abcdefgh");
    assert_eq!(c.cmd(&command(&create, "a-weak2")).await.code(), 2202);
    // Nothing was created.
    let r = c
        .cmd(&command(&check("domain", &["faible.ma"]), "a-chk"))
        .await;
    assert_eq!(r.attrs("name", "avail"), vec!["1"]);
}

#[tokio::test]
async fn success_empty_auth_info_unsets_it_and_no_transfer_can_use_it() {
    let server = TestServer::start().await;
    let mut c = with_domain(&server).await;
    assert_eq!(
        c.cmd(&command(&chg_auth("exemple.ma", ""), "a-unset"))
            .await
            .code(),
        1000
    );
    let mut other = server.login("reg2").await;
    let r = other
        .cmd(&command(
            &transfer_request("exemple.ma", "Dom-Auth-2024"),
            "a-tr",
        ))
        .await;
    assert_eq!(r.code(), 2202);
}

#[tokio::test]
async fn failure_auth_info_expires_after_its_ttl() {
    let mut server = TestServer::start_at("2026-01-10T10:00:00Z").await;
    drop(with_domain(&server).await);
    server.restart_at(Some("2026-02-10T10:00:00Z")).await;
    let mut other = server.login("reg2").await;
    let r = other
        .cmd(&command(
            &transfer_request("exemple.ma", "Dom-Auth-2024"),
            "a-old",
        ))
        .await;
    assert_eq!(
        r.code(),
        2202,
        "a 31-day-old authInfo must be dead: {}",
        r.xml
    );
    let r = other
        .cmd(&command(
            &domain_info("exemple.ma", "all", Some("Dom-Auth-2024")),
            "a-old2",
        ))
        .await;
    assert_eq!(r.code(), 2202);
    // The sponsor sets a fresh one; it works again.
    let mut c = server.login("reg1").await;
    assert_eq!(
        c.cmd(&command(
            &chg_auth("exemple.ma", "Frais-Auth-2026"),
            "a-new"
        ))
        .await
        .code(),
        1000
    );
    let r = other
        .cmd(&command(
            &transfer_request("exemple.ma", "Frais-Auth-2026"),
            "a-new2",
        ))
        .await;
    assert_eq!(r.code(), 1001, "{}", r.xml);
}

#[tokio::test]
async fn success_auth_info_is_never_returned() {
    let server = TestServer::start().await;
    let mut c = with_domain(&server).await;
    let r = c
        .cmd(&command(&domain_info("exemple.ma", "all", None), "a-info"))
        .await;
    assert!(!r.xml.contains("authInfo"));
    assert!(!r.xml.contains("Dom-Auth-2024"));
    let mut other = server.login("reg2").await;
    let r = other
        .cmd(&command(
            &domain_info("exemple.ma", "all", Some("Dom-Auth-2024")),
            "a-info2",
        ))
        .await;
    assert_eq!(r.code(), 1000);
    assert!(!r.xml.contains("Dom-Auth-2024"));
}
