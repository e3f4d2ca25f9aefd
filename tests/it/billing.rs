//! R23: prices per zone and year from the configuration, a prepaid balance,
//! 2104 with nothing changed, a ledger line per charge; RFC 8748 fees.

use ma_registry::config::ZonePrices;

use crate::harness::*;

async fn priced() -> TestServer {
    TestServer::start_with(
        |s| {
            s.billing.prices.push(ZonePrices {
                zone: "ma".into(),
                create: 100.0,
                renew: 80.0,
                restore: 150.0,
                ownership: 100.0,
            })
        },
        None,
    )
    .await
}

fn login_fee(clid: &str) -> String {
    login_xml(clid, password(clid), "en").replace(
        "</svcs>",
        "<svcExtension><extURI>urn:ietf:params:xml:ns:epp:fee-1.0</extURI></svcExtension></svcs>",
    )
}

#[tokio::test]
async fn r23_no_balance_answers_2104_and_changes_nothing_then_credit_pays() {
    let mut server = priced().await;
    let mut c = server.client("reg1").await;
    assert_eq!(c.cmd(&login_fee("reg1")).await.code(), 1000);
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "b-c"))
            .await
            .code(),
        1000
    );
    let create2y = domain_create(
        "exemple.ma",
        "cnt-1",
        r#"<domain:period unit="y">2</domain:period>"#,
    );
    let r = c.cmd(&command(&create2y, "b-1")).await;
    assert_eq!(r.code(), 2104, "{}", r.xml);
    assert!(r.reason().unwrap().starts_with("R23"));
    let r = c
        .cmd(&command(&check("domain", &["exemple.ma"]), "b-chk"))
        .await;
    assert_eq!(r.attrs("name", "avail"), vec!["1"], "nothing was created");
    // Another zone without prices costs nothing.
    let free = domain_create("exemple.co.ma", "cnt-1", "");
    assert_eq!(c.cmd(&command(&free, "b-free")).await.code(), 1000);
    drop(c);

    server.stop().await;
    let (ok, out) = admin(
        &server,
        None,
        &[
            "registrar",
            "credit",
            "reg1",
            "250",
            "--note",
            "virement 42",
        ],
    );
    assert!(ok, "{out}");
    server.restart_at(None).await;
    let mut c = server.client("reg1").await;
    assert_eq!(c.cmd(&login_fee("reg1")).await.code(), 1000);
    let r = c.cmd(&command(&create2y, "b-2")).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert_eq!(r.text("fee").as_deref(), Some("200.00"));
    assert_eq!(r.text("balance").as_deref(), Some("50.00"));
    let exp = r.text("exDate").unwrap()[..10].to_owned();
    let renew = format!(
        r#"<renew><domain:renew xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name><domain:curExpDate>{exp}</domain:curExpDate></domain:renew></renew>"#
    );
    let r = c.cmd(&command(&renew, "b-3")).await;
    assert_eq!(r.code(), 2104, "80.00 is more than 50.00");
    drop(c);

    server.stop().await;
    let (ok, out) = admin(&server, None, &["--json", "registrar", "ledger", "reg1"]);
    assert!(ok, "{out}");
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["amount"], "250.00");
    assert_eq!(rows[1]["amount"], "-200.00");
    assert_eq!(rows[1]["balance"], "50.00");
    let (ok, out) = admin(&server, None, &["registrar", "balance", "reg1"]);
    assert!(ok && out.starts_with("50.00"), "{out}");
}

#[tokio::test]
async fn r23_fee_check_gives_prices_per_command_and_fees_go_only_to_clients_that_ask() {
    let server = priced().await;
    let mut c = server.client("reg1").await;
    assert_eq!(c.cmd(&login_fee("reg1")).await.code(), 1000);
    let body = format!(
        r#"{}<extension><fee:check xmlns:fee="urn:ietf:params:xml:ns:epp:fee-1.0"><fee:currency>MAD</fee:currency><fee:command name="create"><fee:period unit="y">3</fee:period></fee:command><fee:command name="renew"/><fee:command name="transfer"/></fee:check></extension>"#,
        check("domain", &["exemple.ma", "exemple.net.ma"])
    );
    let r = c.cmd(&command(&body, "f-1")).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert_eq!(
        r.texts("fee"),
        vec!["300.00", "80.00", "0.00", "0.00", "0.00", "0.00"]
    );
    let usd = body.replace(">MAD<", ">USD<");
    assert_eq!(c.cmd(&command(&usd, "f-2")).await.code(), 2306);
    // A client that did not select the fee extension gets no fee data.
    let mut plain = server.login("reg2").await;
    let r = plain.cmd(&command(&body, "f-3")).await;
    assert_eq!(r.code(), 1000);
    assert!(!r.xml.contains("fee:"), "{}", r.xml);
}

#[tokio::test]
async fn r23_ownership_change_needs_the_balance_and_tells_its_price() {
    let mut server = priced().await;
    let mut c = server.client("reg1").await;
    assert_eq!(c.cmd(&login_fee("reg1")).await.code(), 1000);
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "o-c1"))
            .await
            .code(),
        1000
    );
    let with_identity = format!(
        r#"{}<extension><ma:create xmlns:ma="http://www.anrt.ma/epp/ma-1.0"><ma:identity><ma:type>cin</ma:type><ma:number>BE123456</ma:number></ma:identity></ma:create></extension>"#,
        contact_create_bare("cnt-2", "MA")
    );
    assert_eq!(c.cmd(&command(&with_identity, "o-c2")).await.code(), 1000);
    // A free zone, so the create itself costs nothing.
    assert_eq!(
        c.cmd(&command(
            &domain_create("exemple.co.ma", "cnt-1", ""),
            "o-d"
        ))
        .await
        .code(),
        1000
    );
    let chg = r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.co.ma</domain:name><domain:chg><domain:registrant>cnt-2</domain:registrant></domain:chg></domain:update></update>"#;
    let r = c.cmd(&command(chg, "o-1")).await;
    assert_eq!(r.code(), 1001, "co.ma has no price: {}", r.xml);
    assert_eq!(r.text("fee").as_deref(), Some("0.00"));
    assert_eq!(
        c.cmd(&command(&domain_create("exemple.ma", "cnt-1", ""), "o-d2"))
            .await
            .code(),
        2104
    );
    drop(c);
    server.stop().await;
    assert!(admin(&server, None, &["registrar", "credit", "reg1", "100"]).0);
    server.restart_at(None).await;
    let mut c = server.client("reg1").await;
    assert_eq!(c.cmd(&login_fee("reg1")).await.code(), 1000);
    assert_eq!(
        c.cmd(&command(&domain_create("exemple.ma", "cnt-1", ""), "o-d3"))
            .await
            .code(),
        1000
    );
    let chg = chg.replace("exemple.co.ma", "exemple.ma");
    let r = c.cmd(&command(&chg, "o-2")).await;
    assert_eq!(
        r.code(),
        2104,
        "the balance is 0.00 after the create: {}",
        r.xml
    );
}
