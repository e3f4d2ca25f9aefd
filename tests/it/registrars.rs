//! R19: a terminated (or suspended) registrar cannot log in; the operator
//! moves its domains in bulk; at the end of the grace those not moved are
//! deleted instead of renewed.

use crate::harness::*;

async fn two_domains(server: &TestServer) {
    let mut c = server.login("reg1").await;
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "g-c"))
            .await
            .code(),
        1000
    );
    for name in ["un.ma", "deux.ma"] {
        let r = c
            .cmd(&command(&domain_create(name, "cnt-1", ""), "g-d"))
            .await;
        assert_eq!(r.code(), 1000);
    }
}

async fn sponsor(server: &TestServer, clid: &str, name: &str) -> (u16, Option<String>) {
    let mut c = server.login(clid).await;
    let r = c
        .cmd(&command(&domain_info(name, "none", None), "g-i"))
        .await;
    (r.code(), r.text("clID"))
}

#[tokio::test]
async fn r19_terminated_registrar_cannot_log_in_and_its_domains_move_in_bulk() {
    let mut server = TestServer::start().await;
    two_domains(&server).await;
    server.stop().await;
    let (ok, out) = admin(&server, None, &["registrar", "terminate", "reg1"]);
    assert!(ok, "{out}");
    server.restart_at(None).await;
    let mut c = server.client("reg1").await;
    let r = c.cmd(&login_xml("reg1", password("reg1"), "en")).await;
    assert_eq!(r.code(), 2200);
    assert!(
        !r.reason().unwrap().contains("R19"),
        "the answer does not tell a terminated registrar from a wrong password"
    );
    server.stop().await;
    let (ok, out) = admin(&server, None, &["registrar", "move", "reg1", "reg2"]);
    assert!(ok, "{out}");
    assert!(out.starts_with("2 domains moved"), "{out}");
    server.restart_at(None).await;
    assert_eq!(
        sponsor(&server, "reg2", "un.ma").await.1.as_deref(),
        Some("reg2")
    );
    assert_eq!(
        sponsor(&server, "reg2", "deux.ma").await.1.as_deref(),
        Some("reg2")
    );
    let mut c = server.login("reg2").await;
    let r = c.cmd(&command(r#"<poll op="req"/>"#, "g-p")).await;
    assert_eq!(r.code(), 1301);
    assert!(r.texts("msg")[1].starts_with("R19"));
}

#[tokio::test]
async fn r19_domains_not_moved_are_deleted_at_the_end_of_their_grace() {
    let mut server = TestServer::start_at("2026-01-10T10:00:00Z").await;
    two_domains(&server).await;
    server.stop().await;
    let (ok, _) = admin(
        &server,
        Some("2026-01-11T10:00:00Z"),
        &["registrar", "terminate", "reg1"],
    );
    assert!(ok);
    // Still there on its expiry date and during the grace.
    server.restart_at(Some("2027-01-20T10:00:00Z")).await;
    assert_eq!(sponsor(&server, "reg2", "un.ma").await.0, 1000);
    server.restart_at(Some("2027-02-10T10:00:01Z")).await;
    assert_eq!(
        sponsor(&server, "reg2", "un.ma").await.0,
        2303,
        "deleted, not renewed"
    );
    let mut c = server.login("reg2").await;
    let r = c
        .cmd(&command(&check("domain", &["un.ma", "deux.ma"]), "g-chk"))
        .await;
    assert_eq!(r.attrs("name", "avail"), vec!["1", "1"]);
}

#[tokio::test]
async fn r19_suspended_registrar_is_refused_until_activated() {
    let mut server = TestServer::start().await;
    server.stop().await;
    assert!(admin(&server, None, &["registrar", "suspend", "reg3"]).0);
    assert!(!admin(&server, None, &["registrar", "suspend", "ghost"]).0);
    server.restart_at(None).await;
    let mut c = server.client("reg3").await;
    assert_eq!(
        c.cmd(&login_xml("reg3", password("reg3"), "en"))
            .await
            .code(),
        2200
    );
    server.stop().await;
    assert!(admin(&server, None, &["registrar", "activate", "reg3"]).0);
    server.restart_at(None).await;
    server.login("reg3").await;
}
