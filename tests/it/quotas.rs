//! Command quotas: a token bucket per registrar and class of command. A
//! command over the quota is answered 2502 with the bucket's state in
//! `ma:quota` and the connection closes; other classes and other registrars
//! are not affected.

use ma_registry::config::RegistrarQuota;

use crate::harness::*;

fn login_with_ma(clid: &str) -> String {
    login_xml(clid, password(clid), "en").replace(
        "</svcs>",
        "<svcExtension><extURI>http://www.anrt.ma/epp/ma-1.0</extURI></svcExtension></svcs>",
    )
}

fn quota(r: &Resp, class: &str) -> (String, String, String) {
    let doc = roxmltree::Document::parse(&r.xml).unwrap();
    let node = doc
        .descendants()
        .find(|n| n.tag_name().name() == "quota" && n.attribute("class") == Some(class))
        .unwrap_or_else(|| panic!("no {class} quota in {}", r.xml));
    (
        node.attribute("remaining").unwrap().to_owned(),
        node.attribute("limit").unwrap().to_owned(),
        node.attribute("resetIn").unwrap().to_owned(),
    )
}

#[tokio::test]
async fn quota_over_the_transform_rate_answers_2502_and_closes() {
    let server = TestServer::start_with(
        |s| {
            s.limits.registrar_quotas.push(RegistrarQuota {
                clid: "reg1".into(),
                query_per_second: 0,
                transform_per_second: 3,
            })
        },
        None,
    )
    .await;
    let mut c = server.client("reg1").await;
    let r = c.cmd(&login_with_ma("reg1")).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert!(
        !r.xml.contains("<extension>"),
        "a login response carries no extension: {}",
        r.xml
    );
    // The bucket holds 3 and refills at 3 per second: back-to-back creates
    // empty it after at least 3, however fast or slow the machine (a slow
    // one lets the bucket refill a little in between).
    let mut refused = None;
    for i in 0..50 {
        let r = c
            .cmd(&command(
                &contact_create(&format!("q-{i}"), "MA"),
                "quota-c",
            ))
            .await;
        if r.code() == 2502 {
            refused = Some((i, r));
            break;
        }
        assert_eq!(r.code(), 1000, "{}", r.xml);
    }
    let (over, r) = refused.expect("back-to-back creates reach the quota");
    assert!(over >= 3, "the first 3 creates are served ({over})");
    assert!(r.xml.contains("command quota exceeded"), "{}", r.xml);
    let (remaining, limit, reset_in) = quota(&r, "transform");
    assert_eq!((remaining.as_str(), limit.as_str()), ("0", "3"));
    assert_eq!(reset_in, "1");
    assert!(c.is_closed().await, "2502 closes the connection");

    // Nothing was created by the refused command.
    let mut other = server.login("reg2").await;
    let r = other
        .cmd(&command(
            &check("contact", &[&format!("q-{over}")]),
            "quota-chk",
        ))
        .await;
    assert_eq!(r.attrs("id", "avail"), ["1"], "{}", r.xml);
    // reg2 has the default quotas and is not held back by reg1's.
    let r = other
        .cmd(&command(&contact_create("q-reg2", "MA"), "quota-r2"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    // reg1's queries have no quota: a new session of reg1 may still query.
    let mut again = server.login("reg1").await;
    let r = again
        .cmd(&command(&check("contact", &["q-0"]), "quota-q"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
}

#[tokio::test]
async fn quota_2502_reports_the_bucket_only_to_clients_of_the_ma_extension() {
    let server = TestServer::start_with(
        |s| {
            s.limits.registrar_quotas.push(RegistrarQuota {
                clid: "reg3".into(),
                query_per_second: 2,
                transform_per_second: 0,
            })
        },
        None,
    )
    .await;
    let mut plain = server.client("reg3").await;
    let r = plain.cmd(&login_xml("reg3", password("reg3"), "en")).await;
    assert_eq!(r.code(), 1000);
    // Back-to-back checks reach the quota of 2 per second after at least
    // 2, however fast or slow the machine.
    let mut served = 0;
    let r = loop {
        let r = plain
            .cmd(&command(&check("domain", &["libre.ma"]), "quota-p"))
            .await;
        if r.code() != 1000 || served == 50 {
            break r;
        }
        served += 1;
    };
    assert!(served >= 2, "the first 2 checks are served ({served})");
    assert_eq!(r.code(), 2502, "{}", r.xml);
    assert!(
        !r.xml.contains("quota class"),
        "no ma:quota for a plain client: {}",
        r.xml
    );
}

const QUOTA_INFO: &str =
    r#"<info><quota:info xmlns:quota="http://www.anrt.ma/epp/quota-1.0"/></info>"#;

#[tokio::test]
async fn success_quota_info_reports_the_buckets_and_the_sessions() {
    let server = TestServer::start_with(
        |s| {
            s.limits.query_per_second = 2000;
            s.limits.transform_per_second = 200;
            s.limits.registrar_quotas.push(RegistrarQuota {
                clid: "reg2".into(),
                query_per_second: 0,
                transform_per_second: 5,
            })
        },
        None,
    )
    .await;
    // The greeting offers the mapping as an object service.
    let mut c = server.client("reg1").await;
    assert!(
        c.greeting
            .texts("objURI")
            .contains(&"http://www.anrt.ma/epp/quota-1.0".to_string())
    );
    // Before login, like any command: 2002.
    let r = c.cmd(&command(QUOTA_INFO, "qi-0")).await;
    assert_eq!(r.code(), 2002, "{}", r.xml);
    // A login that does not list the mapping may still use it.
    assert_eq!(
        c.cmd(&login_xml("reg1", password("reg1"), "en"))
            .await
            .code(),
        1000
    );
    let r = c.cmd(&command(QUOTA_INFO, "qi-1")).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert_eq!(r.text("clID").as_deref(), Some("reg1"));
    assert_eq!(r.attrs("commands", "class"), ["query", "transform"]);
    assert_eq!(r.attrs("commands", "perSecond"), ["2000", "200"]);
    // The info itself is a query.
    assert_eq!(r.attrs("commands", "remaining"), ["1999", "200"]);
    assert_eq!(r.attrs("sessions", "limit"), ["10"]);
    assert_eq!(r.attrs("sessions", "open"), ["1"]);

    let _second = server.login("reg1").await;
    let r = c.cmd(&command(QUOTA_INFO, "qi-2")).await;
    assert_eq!(r.attrs("sessions", "open"), ["2"]);

    // A class without a quota is not listed.
    let mut other = server.login("reg2").await;
    let r = other.cmd(&command(QUOTA_INFO, "qi-3")).await;
    assert_eq!(r.attrs("commands", "class"), ["transform"], "{}", r.xml);
    assert_eq!(r.attrs("commands", "perSecond"), ["5"]);
    assert_eq!(r.attrs("commands", "remaining"), ["5"]);
    // Transforms take from the bucket (which refills at 5 per second):
    // three back-to-back creates leave less than the whole of it, on a
    // machine of any speed after a few rounds at most.
    let mut rounds = 0;
    let r = loop {
        for i in 0..3 {
            let r = other
                .cmd(&command(
                    &contact_create(&format!("qi-{rounds}-{i}"), "MA"),
                    "qi-c",
                ))
                .await;
            assert_eq!(r.code(), 1000, "{}", r.xml);
        }
        let r = other.cmd(&command(QUOTA_INFO, "qi-4")).await;
        let remaining: u32 = r.attrs("commands", "remaining")[0].parse().unwrap();
        rounds += 1;
        if remaining < 5 || rounds == 10 {
            break r;
        }
        // Let the bucket fill again before the next round.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    };
    let remaining: u32 = r.attrs("commands", "remaining")[0].parse().unwrap();
    assert!(remaining < 5, "{}", r.xml);
    assert_eq!(r.attrs("commands", "resetIn"), ["1"], "{}", r.xml);
}

#[tokio::test]
async fn failure_quota_mapping_serves_info_only() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(
            r#"<check><quota:check xmlns:quota="http://www.anrt.ma/epp/quota-1.0"/></check>"#,
            "qi-4",
        ))
        .await;
    assert_eq!(r.code(), 2101, "{}", r.xml);
    let r = c
        .cmd(&command(
            r#"<info><quota:info xmlns:quota="http://www.anrt.ma/epp/quota-1.0"><quota:clID>reg2</quota:clID></quota:info></info>"#,
            "qi-5",
        ))
        .await;
    assert_eq!(r.code(), 2001, "{}", r.xml);
}
