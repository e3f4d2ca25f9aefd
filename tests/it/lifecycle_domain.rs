//! The domain life cycle driven through time by restarting the server on a
//! later clock (it sweeps the agenda at start): R9 grace, R10 tacit renewal,
//! R11 redemption, restore and purge, R22 expiry notice.

use crate::harness::*;

const START: &str = "2026-01-10T10:00:00Z";

fn rgp_restore(name: &str, op: &str) -> String {
    format!(
        r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>{name}</domain:name><domain:chg/></domain:update></update><extension><rgp:update xmlns:rgp="urn:ietf:params:xml:ns:rgp-1.0"><rgp:restore op="{op}"/></rgp:update></extension>"#
    )
}

fn renew(name: &str, cur: &str, years: u32) -> String {
    format!(
        r#"<renew><domain:renew xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>{name}</domain:name><domain:curExpDate>{cur}</domain:curExpDate><domain:period unit="y">{years}</domain:period></domain:renew></renew>"#
    )
}

fn login_rgp(clid: &str) -> String {
    login_xml(clid, password(clid), "en").replace(
        "</svcs>",
        "<svcExtension><extURI>urn:ietf:params:xml:ns:rgp-1.0</extURI><extURI>urn:ietf:params:xml:ns:changePoll-1.0</extURI></svcExtension></svcs>",
    )
}

async fn session(server: &TestServer) -> RawClient {
    let mut c = server.client("reg1").await;
    assert_eq!(c.cmd(&login_rgp("reg1")).await.code(), 1000);
    c
}

/// A server at START with exemple.ma registered for one year by reg1.
async fn registered() -> TestServer {
    let server = TestServer::start_at(START).await;
    let mut c = session(&server).await;
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "lc-c"))
            .await
            .code(),
        1000
    );
    let r = c
        .cmd(&command(&domain_create("exemple.ma", "cnt-1", ""), "lc-d"))
        .await;
    assert_eq!(r.code(), 1000);
    assert!(r.text("exDate").unwrap().starts_with("2027-01-10"));
    server
}

async fn info(c: &mut RawClient) -> Resp {
    c.cmd(&command(&domain_info("exemple.ma", "all", None), "lc-info"))
        .await
}

/// Reads and acks every message; returns their texts.
async fn drain(c: &mut RawClient) -> Vec<String> {
    let mut texts = Vec::new();
    loop {
        let r = c.cmd(&command(r#"<poll op="req"/>"#, "lc-poll")).await;
        if r.code() == 1300 {
            return texts;
        }
        assert_eq!(r.code(), 1301);
        // The second <msg> is the message's own, in <msgQ>.
        texts.push(r.texts("msg").remove(1));
        let id = r.attrs("msgQ", "id").remove(0);
        let ack = c
            .cmd(&command(
                &format!(r#"<poll op="ack" msgID="{id}"/>"#),
                "lc-ack",
            ))
            .await;
        assert_eq!(ack.code(), 1000);
    }
}

#[tokio::test]
async fn r22_expiry_notice_30_days_before() {
    // Only R22 notices count here (an unverified registrant also gets R15 news).
    async fn notices(c: &mut RawClient) -> Vec<String> {
        drain(c)
            .await
            .into_iter()
            .filter(|t| t.starts_with("R22"))
            .collect()
    }
    let mut server = registered().await;
    server.restart_at(Some("2026-12-01T10:00:00Z")).await;
    let mut c = session(&server).await;
    let early = notices(&mut c).await;
    assert!(
        early.is_empty(),
        "no notice 40 days before expiry: {early:?}"
    );
    server.restart_at(Some("2026-12-12T10:00:00Z")).await;
    let mut c = session(&server).await;
    let texts = notices(&mut c).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    // A second sweep sends nothing more.
    server.restart_at(Some("2026-12-13T10:00:00Z")).await;
    let mut c = session(&server).await;
    assert!(notices(&mut c).await.is_empty());
}

#[tokio::test]
async fn r9_grace_after_expiry_and_renewal_from_the_old_expiry() {
    let mut server = registered().await;
    server.restart_at(Some("2027-01-20T10:00:00Z")).await;
    let mut c = session(&server).await;
    let r = info(&mut c).await;
    assert_eq!(r.attrs("rgpStatus", "s"), vec!["autoRenewPeriod"]);
    let r = c
        .cmd(&command(&renew("exemple.ma", "2027-01-10", 2), "lc-ren"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert!(r.text("exDate").unwrap().starts_with("2029-01-10"));
    let r = info(&mut c).await;
    assert!(r.attrs("rgpStatus", "s").is_empty());
}

#[tokio::test]
async fn r10_tacit_renewal_when_the_grace_ends() {
    let mut server = registered().await;
    server.restart_at(Some("2027-02-10T10:00:01Z")).await;
    let mut c = session(&server).await;
    let r = info(&mut c).await;
    assert!(
        r.text("exDate").unwrap().starts_with("2028-01-10"),
        "{}",
        r.xml
    );
    let texts = drain(&mut c).await;
    assert!(texts.iter().any(|t| t.starts_with("R10")), "{texts:?}");
    // Running again changes nothing.
    server.restart_at(Some("2027-02-11T10:00:00Z")).await;
    let mut c = session(&server).await;
    let r = info(&mut c).await;
    assert!(r.text("exDate").unwrap().starts_with("2028-01-10"));
}

#[tokio::test]
async fn r10_tacit_renewal_carries_change_poll_data() {
    let mut server = registered().await;
    server.restart_at(Some("2027-02-10T10:00:01Z")).await;
    let mut c = session(&server).await;
    let mut found = false;
    loop {
        let r = c.cmd(&command(r#"<poll op="req"/>"#, "lc-cp")).await;
        if r.code() == 1300 {
            break;
        }
        if r.texts("msg")[1].starts_with("R10") {
            assert_eq!(r.text("operation").as_deref(), Some("autoRenew"));
            assert_eq!(r.text("who").as_deref(), Some("ma-registry"));
            found = true;
        }
        let id = r.attrs("msgQ", "id").remove(0);
        c.cmd(&command(
            &format!(r#"<poll op="ack" msgID="{id}"/>"#),
            "lc-ack",
        ))
        .await;
    }
    assert!(found);
}

#[tokio::test]
async fn r11_delete_enters_redemption_and_only_info_and_restore_work() {
    let server = registered().await;
    let mut c = session(&server).await;
    let r = c
        .cmd(&command(
            r#"<delete><domain:delete xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name></domain:delete></delete>"#,
            "lc-del",
        ))
        .await;
    assert_eq!(r.code(), 1001);
    let r = info(&mut c).await;
    assert!(
        r.attrs("status", "s")
            .contains(&"pendingDelete".to_string())
    );
    assert_eq!(r.attrs("rgpStatus", "s"), vec!["redemptionPeriod"]);
    // Everything else is refused.
    let r = c
        .cmd(&command(&renew("exemple.ma", "2027-01-10", 1), "lc-ren"))
        .await;
    assert_eq!(r.code(), 2304);
    let upd = r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name><domain:add><domain:status s="clientHold"/></domain:add></domain:update></update>"#;
    assert_eq!(c.cmd(&command(upd, "lc-upd")).await.code(), 2304);
    let mut other = server.login("reg2").await;
    let tr = r#"<transfer op="request"><domain:transfer xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name><domain:authInfo><domain:pw>Dom-Auth-2024</domain:pw></domain:authInfo></domain:transfer></transfer>"#;
    assert_eq!(other.cmd(&command(tr, "lc-tr")).await.code(), 2304);
    // The name is not available.
    let r = c
        .cmd(&command(&check("domain", &["exemple.ma"]), "lc-chk"))
        .await;
    assert_eq!(r.attrs("name", "avail"), vec!["0"]);
}

#[tokio::test]
async fn r11_restore_gives_a_new_creation_date_and_one_year() {
    let mut server = registered().await;
    let mut c = session(&server).await;
    let del = r#"<delete><domain:delete xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name></domain:delete></delete>"#;
    assert_eq!(c.cmd(&command(del, "lc-del")).await.code(), 1001);
    assert_eq!(
        c.cmd(&command(&rgp_restore("exemple.ma", "report"), "lc-rep0"))
            .await
            .code(),
        2304
    );
    drop(c);
    server.restart_at(Some("2026-01-25T10:00:00Z")).await;
    let mut c = session(&server).await;
    let r = c
        .cmd(&command(&rgp_restore("exemple.ma", "request"), "lc-res"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let r = info(&mut c).await;
    assert!(
        r.text("crDate").unwrap().starts_with("2026-01-25"),
        "{}",
        r.xml
    );
    assert!(r.text("exDate").unwrap().starts_with("2027-01-25"));
    assert!(
        !r.attrs("status", "s")
            .contains(&"pendingDelete".to_string())
    );
    assert_eq!(
        c.cmd(&command(&rgp_restore("exemple.ma", "report"), "lc-rep"))
            .await
            .code(),
        1000
    );
    // Restoring an active domain is refused.
    assert_eq!(
        c.cmd(&command(&rgp_restore("exemple.ma", "request"), "lc-res2"))
            .await
            .code(),
        2304
    );
    // The purge date passes: nothing happens to the restored domain.
    server.restart_at(Some("2026-02-20T10:00:00Z")).await;
    let mut c = session(&server).await;
    assert_eq!(info(&mut c).await.code(), 1000);
}

#[tokio::test]
async fn r11_purge_after_30_days_frees_the_name_and_tells_the_sponsor() {
    let mut server = registered().await;
    let mut c = session(&server).await;
    let del = r#"<delete><domain:delete xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name></domain:delete></delete>"#;
    assert_eq!(c.cmd(&command(del, "lc-del")).await.code(), 1001);
    drop(c);
    server.restart_at(Some("2026-02-08T10:00:00Z")).await;
    let mut c = session(&server).await;
    assert_eq!(
        info(&mut c).await.code(),
        1000,
        "still in redemption on day 29"
    );
    server.restart_at(Some("2026-02-09T10:00:01Z")).await;
    let mut c = session(&server).await;
    assert_eq!(info(&mut c).await.code(), 2303);
    let r = c
        .cmd(&command(&check("domain", &["exemple.ma"]), "lc-chk"))
        .await;
    assert_eq!(r.attrs("name", "avail"), vec!["1"]);
    let texts = drain(&mut c).await;
    assert!(texts.iter().any(|t| t.starts_with("R11")), "{texts:?}");
    // Anyone may register it again; its contact is free to delete.
    let mut other = server.login("reg2").await;
    assert_eq!(
        other
            .cmd(&command(&contact_create("cnt-9", "MA"), "lc-c9"))
            .await
            .code(),
        1000
    );
    assert_eq!(
        other
            .cmd(&command(&domain_create("exemple.ma", "cnt-9", ""), "lc-d9"))
            .await
            .code(),
        1000
    );
    let delc = r#"<delete><contact:delete xmlns:contact="urn:ietf:params:xml:ns:contact-1.0"><contact:id>cnt-1</contact:id></contact:delete></delete>"#;
    assert_eq!(c.cmd(&command(delc, "lc-dc")).await.code(), 1000);
}

#[tokio::test]
async fn r10_a_sweep_cut_off_half_way_is_completed_by_the_next_with_nothing_applied_twice() {
    let mut server = TestServer::start_at(START).await;
    let mut c = session(&server).await;
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "lc-c"))
            .await
            .code(),
        1000
    );
    for name in ["un.ma", "deux.ma", "trois.ma"] {
        let r = c
            .cmd(&command(&domain_create(name, "cnt-1", ""), "lc-d"))
            .await;
        assert_eq!(r.code(), 1000);
    }
    drop(c);
    server.stop().await;
    // Past the grace of all three: open the stopped store and "crash" the
    // engine after its first transitions.
    let later = instant("2027-02-10T10:00:01Z");
    {
        let store = open_store_retrying(&server.settings.server.data_dir).await;
        // The agenda runs in time order: three R15 deadlines, three R22
        // notices, then the three grace ends; stop after the first renewal.
        let first = ma_registry::lifecycle::sweep_at_most(&store, later, &server.settings, 7)
            .await
            .unwrap();
        assert_eq!(first.examined, 7);
        assert_eq!(first.tacit_renewals, 1, "{first:?}");
    }
    server.restart_at(Some("2027-02-10T10:00:02Z")).await;
    let mut c = session(&server).await;
    for name in ["un.ma", "deux.ma", "trois.ma"] {
        let r = c
            .cmd(&command(&domain_info(name, "none", None), "lc-i"))
            .await;
        assert!(
            r.text("exDate").unwrap().starts_with("2028-01-10"),
            "{name} renewed exactly once: {}",
            r.xml
        );
    }
    let renewals = drain(&mut c)
        .await
        .into_iter()
        .filter(|t| t.starts_with("R10"))
        .count();
    assert_eq!(renewals, 3, "one tacit-renewal message per domain");
}
