//! RFC 8807 login security: passwords of any length in `<loginSec:pw>` and
//! `<loginSec:newPW>` behind the `[LOGIN-SECURITY]` placeholder, the
//! security events of a login answer (password and certificate expiry,
//! failed logins, a refused new password), and the quotas a `.ma` client
//! sees from its login on.

use chrono::{Duration, Utc};

use crate::harness::*;

const LOGIN_SEC: &str = "urn:ietf:params:xml:ns:epp:loginSec-1.0";
const PLACEHOLDER: &str = "[LOGIN-SECURITY]";

/// A login that selects login security, with `pw` and `new_pw` in the
/// extension when given there, and `ext_body` added to the extension.
fn secure_login(clid: &str, pw: &str, new_pw: Option<&str>, ext_body: &str) -> String {
    let new_pw_base = new_pw.map_or(String::new(), |_| format!("<newPW>{PLACEHOLDER}</newPW>"));
    let new_pw_ext = new_pw.map_or(String::new(), |p| {
        format!("<loginSec:newPW>{p}</loginSec:newPW>")
    });
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><login>
<clID>{clid}</clID><pw>{PLACEHOLDER}</pw>{new_pw_base}<options><version>1.0</version><lang>en</lang></options>
<svcs><objURI>urn:ietf:params:xml:ns:domain-1.0</objURI><objURI>urn:ietf:params:xml:ns:contact-1.0</objURI>
<svcExtension><extURI>{LOGIN_SEC}</extURI></svcExtension></svcs>
</login><extension><loginSec:loginSec xmlns:loginSec="{LOGIN_SEC}">{ext_body}<loginSec:pw>{pw}</loginSec:pw>{new_pw_ext}</loginSec:loginSec></extension>
<clTRID>sec-login</clTRID></command></epp>"#
    )
}

/// A plain login (no extension) that still selects login security.
fn login_selecting_sec(clid: &str, pw: &str) -> String {
    login_xml(clid, pw, "en").replace(
        "</svcs>",
        &format!("<svcExtension><extURI>{LOGIN_SEC}</extURI></svcExtension></svcs>"),
    )
}

/// An event's `(type, level, exDate, value, name)`.
type Event = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Every `<loginSec:event>` of a response.
fn events(r: &Resp) -> Vec<Event> {
    let doc = roxmltree::Document::parse(&r.xml).unwrap();
    doc.descendants()
        .filter(|n| n.tag_name().name() == "event" && n.tag_name().namespace() == Some(LOGIN_SEC))
        .map(|n| {
            (
                n.attribute("type").unwrap().to_owned(),
                n.attribute("level").unwrap().to_owned(),
                n.attribute("exDate").map(str::to_owned),
                n.attribute("value").map(str::to_owned),
                n.attribute("name").map(str::to_owned),
            )
        })
        .collect()
}

fn day(offset: i64) -> String {
    (Utc::now() + Duration::days(offset)).to_rfc3339()
}

#[tokio::test]
async fn success_greeting_lists_login_security() {
    let server = TestServer::start().await;
    let mut c = server.client("reg1").await;
    let r = c
        .cmd(r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/></epp>"#)
        .await;
    assert!(
        r.texts("extURI").iter().any(|u| u == LOGIN_SEC),
        "{}",
        r.xml
    );
}

#[tokio::test]
async fn success_a_passphrase_longer_than_16_characters_logs_in_through_the_extension() {
    let server = TestServer::start().await;
    let passphrase = "correct horse battery staple for reg1 only";
    let run = admin_live(
        &server,
        &[],
        None,
        &["registrar", "passwd", "reg2", "--password", passphrase],
    )
    .await;
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    assert!(run.err.contains("loginSec:pw"), "{}", run.err);

    // The base <pw> holds at most 16 characters (RFC 5730 schema).
    let mut c = server.client("reg2").await;
    let r = c.cmd(&login_xml("reg2", passphrase, "en")).await;
    assert_eq!(r.code(), 2001, "{}", r.xml);

    let r = c
        .cmd(&secure_login(
            "reg2",
            passphrase,
            None,
            "<loginSec:userAgent><loginSec:app>Registrar SDK 2.1</loginSec:app><loginSec:os>Linux</loginSec:os></loginSec:userAgent>",
        ))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert!(
        events(&r).is_empty(),
        "no event for a fresh password: {}",
        r.xml
    );
    assert!(!r.xml.contains("loginSecData"), "{}", r.xml);
}

#[tokio::test]
async fn failure_placeholders_must_match_the_extension() {
    let server = TestServer::start().await;
    let mut c = server.client("reg1").await;
    // [LOGIN-SECURITY] in <pw> with no <loginSec:pw>: the password is missing.
    let r = c.cmd(&login_xml("reg1", PLACEHOLDER, "en")).await;
    assert_eq!(r.code(), 2003, "{}", r.xml);
    // <loginSec:pw> with a real password in <pw>: refused, whatever the password.
    let both = secure_login("reg1", password("reg1"), None, "").replace(
        &format!("<pw>{PLACEHOLDER}</pw>"),
        &format!("<pw>{}</pw>", password("reg1")),
    );
    let r = c.cmd(&both).await;
    assert_eq!(r.code(), 2306, "{}", r.xml);
    // <loginSec:newPW> without the placeholder in <newPW>.
    let new_pw = secure_login("reg1", password("reg1"), Some("a brand new passphrase"), "")
        .replace(&format!("<newPW>{PLACEHOLDER}</newPW>"), "");
    let r = c.cmd(&new_pw).await;
    assert_eq!(r.code(), 2306, "{}", r.xml);
    // A <loginSec:pw> under 6 characters breaks the schema.
    let r = c.cmd(&secure_login("reg1", "abc", None, "")).await;
    assert_eq!(r.code(), 2001, "{}", r.xml);
    // An empty extension, or an empty user agent: 2001 (RFC 8807 wants at
    // least one element in each).
    let empty = secure_login("reg1", password("reg1"), None, "").replace(
        &format!("<loginSec:pw>{}</loginSec:pw>", password("reg1")),
        "",
    );
    let r = c
        .cmd(&empty.replace(
            &format!("<pw>{PLACEHOLDER}</pw>"),
            &format!("<pw>{}</pw>", password("reg1")),
        ))
        .await;
    assert_eq!(r.code(), 2001, "{}", r.xml);
    let r = c
        .cmd(&secure_login(
            "reg1",
            password("reg1"),
            None,
            "<loginSec:userAgent/>",
        ))
        .await;
    assert_eq!(r.code(), 2001, "{}", r.xml);
    // None of these counted as a failed password: the right one still logs in.
    let r = c
        .cmd(&secure_login("reg1", password("reg1"), None, ""))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert!(events(&r).is_empty(), "{}", r.xml);
}

#[tokio::test]
async fn success_new_passphrase_at_login_replaces_the_password() {
    let mut server = TestServer::start().await;
    let new = "a new passphrase of thirty-eight chars";
    let mut c = server.client("reg1").await;
    let r = c
        .cmd(&secure_login("reg1", password("reg1"), Some(new), ""))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    drop(c);
    server.restart_at(None).await;
    let mut c = server.client("reg1").await;
    let r = c
        .cmd(&secure_login("reg1", password("reg1"), None, ""))
        .await;
    assert_eq!(r.code(), 2200, "{}", r.xml);
    let r = c.cmd(&secure_login("reg1", new, None, "")).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    // The failure just before is reported at this success.
    let e = events(&r);
    assert_eq!(e.len(), 1, "{}", r.xml);
    assert_eq!((e[0].0.as_str(), e[0].1.as_str()), ("stat", "warning"));
    assert_eq!(e[0].3.as_deref(), Some("1"));
    assert_eq!(e[0].4.as_deref(), Some("failedLogins"));
}

#[tokio::test]
async fn failure_a_new_password_that_breaks_the_rules_is_an_error_event_and_changes_nothing() {
    let mut server = TestServer::start().await;
    let mut c = server.client("reg1").await;
    for bad in ["short7c", "reg1-is-in-here", password("reg1")] {
        let r = c
            .cmd(&secure_login("reg1", password("reg1"), Some(bad), ""))
            .await;
        assert_eq!(r.code(), 2200, "{bad}: {}", r.xml);
        let e = events(&r);
        assert_eq!(e.len(), 1, "{}", r.xml);
        assert_eq!(
            (e[0].0.as_str(), e[0].1.as_str()),
            ("newPW", "error"),
            "{}",
            r.xml
        );
    }
    // A plain RFC 5730 <newPW> follows the same rules, reported without events.
    let r = c
        .cmd(
            &login_xml("reg1", password("reg1"), "en")
                .replace("<options>", "<newPW>short7c</newPW><options>"),
        )
        .await;
    assert_eq!(r.code(), 2200, "{}", r.xml);
    assert!(!r.xml.contains("loginSecData"), "{}", r.xml);
    assert!(r.reason().unwrap().contains("at least 8"), "{}", r.xml);
    // The session is not closed and the password did not change; a refused
    // new password is not a failed login.
    let r = c
        .cmd(&secure_login("reg1", password("reg1"), None, ""))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert!(events(&r).is_empty(), "{}", r.xml);
    drop(c);
    server.restart_at(None).await;
    let mut c = server.client("reg1").await;
    assert_eq!(
        c.cmd(&login_xml("reg1", password("reg1"), "en"))
            .await
            .code(),
        1000
    );
}

#[tokio::test]
async fn success_password_expiry_is_warned_then_enforced() {
    let mut server =
        TestServer::start_with(|s| s.login.password_max_age_days = 90, Some(&day(0))).await;
    // Fifty days on, more than the 30-day warning period before expiry:
    // nothing to say yet.
    server.restart_at(Some(&day(50))).await;
    let mut c = server.client("reg1").await;
    let r = c
        .cmd(&secure_login("reg1", password("reg1"), None, ""))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert!(events(&r).is_empty(), "{}", r.xml);
    drop(c);

    // Eighty days on: a warning with the expiry date, to a client that
    // selected login security only.
    server.restart_at(Some(&day(80))).await;
    let mut c = server.client("reg1").await;
    let r = c.cmd(&login_selecting_sec("reg1", password("reg1"))).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let e = events(&r);
    assert_eq!(e.len(), 1, "{}", r.xml);
    assert_eq!((e[0].0.as_str(), e[0].1.as_str()), ("password", "warning"));
    let ex_date = e[0].2.clone().expect("exDate");
    let expiry = chrono::DateTime::parse_from_rfc3339(&ex_date).unwrap();
    let expected = Utc::now() + Duration::days(90);
    assert!(
        (expiry.with_timezone(&Utc) - expected).num_minutes().abs() < 10,
        "{ex_date}"
    );
    let mut plain = server.client("reg2").await;
    let r = plain.cmd(&login_xml("reg2", password("reg2"), "en")).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert!(!r.xml.contains("<extension>"), "{}", r.xml);
    drop((c, plain));

    // Past the expiry: refused with an error event, and refused again
    // without the extension; a new password gets the registrar in.
    server.restart_at(Some(&day(91))).await;
    let mut c = server.client("reg1").await;
    let r = c
        .cmd(&secure_login("reg1", password("reg1"), None, ""))
        .await;
    assert_eq!(r.code(), 2200, "{}", r.xml);
    let e = events(&r);
    assert_eq!(
        (e[0].0.as_str(), e[0].1.as_str()),
        ("password", "error"),
        "{}",
        r.xml
    );
    assert_eq!(e[0].2.as_deref(), Some(ex_date.as_str()));
    let r = c.cmd(&login_xml("reg1", password("reg1"), "en")).await;
    assert_eq!(r.code(), 2200, "{}", r.xml);
    assert!(r.reason().unwrap().contains("expired"), "{}", r.xml);
    let renewed = "renewed after expiry";
    let r = c
        .cmd(&secure_login("reg1", password("reg1"), Some(renewed), ""))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert!(
        events(&r).is_empty(),
        "a new password has its full life ahead: {}",
        r.xml
    );
    drop(c);

    // The new password counts from the day it was set.
    server.restart_at(Some(&day(140))).await;
    let mut c = server.client("reg1").await;
    let r = c.cmd(&secure_login("reg1", renewed, None, "")).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert!(events(&r).is_empty(), "{}", r.xml);
    // The operator's history records the change.
    drop(c);
    server.stop().await;
    let (ok, out) = admin(&server, None, &["history", "registrar", "reg1"]);
    assert!(ok, "{out}");
    assert!(out.contains("login:newPW"), "{out}");
}

#[tokio::test]
async fn success_certificate_expiry_is_warned() {
    // Move the registry's clock to ten days before the test certificate
    // expires.
    let pem = std::fs::read(TestServer::start().await.cert_pem_file("reg3")).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    let not_after = pem.parse_x509().unwrap().validity().not_after.timestamp();
    let expiry = chrono::DateTime::from_timestamp(not_after, 0).unwrap();
    let server = TestServer::start_at(&(expiry - Duration::days(10)).to_rfc3339()).await;
    let mut c = server.client("reg3").await;
    let r = c.cmd(&login_selecting_sec("reg3", password("reg3"))).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let e = events(&r);
    assert_eq!(e.len(), 1, "{}", r.xml);
    assert_eq!(
        (e[0].0.as_str(), e[0].1.as_str()),
        ("certificate", "warning")
    );
    let ex_date = chrono::DateTime::parse_from_rfc3339(e[0].2.as_deref().unwrap()).unwrap();
    // (Each test server makes its own certificates, a moment apart.)
    assert!(
        (ex_date.with_timezone(&Utc) - expiry).num_seconds().abs() < 60,
        "{}",
        r.xml
    );
    // Further from the expiry, no warning.
    drop(c);
    let earlier = TestServer::start_at(&(expiry - Duration::days(40)).to_rfc3339()).await;
    let mut c = earlier.client("reg3").await;
    let r = c.cmd(&login_selecting_sec("reg3", password("reg3"))).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert!(events(&r).is_empty(), "{}", r.xml);
}

#[tokio::test]
async fn success_failed_logins_are_reported_once_at_the_next_success() {
    let server = TestServer::start().await;
    for _ in 0..2 {
        let mut c = server.client("reg2").await;
        assert_eq!(
            c.cmd(&login_xml("reg2", "wrong-pass", "en")).await.code(),
            2200
        );
    }
    // Someone else's failures do not count for reg2.
    let mut c = server.client("reg3").await;
    assert_eq!(
        c.cmd(&login_xml("reg3", "wrong-pass", "en")).await.code(),
        2200
    );

    let mut c = server.client("reg2").await;
    let r = c.cmd(&login_selecting_sec("reg2", password("reg2"))).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let e = events(&r);
    assert_eq!(e.len(), 1, "{}", r.xml);
    assert_eq!(e[0].0, "stat");
    assert_eq!(e[0].3.as_deref(), Some("2"));
    let mut again = server.client("reg2").await;
    let r = again
        .cmd(&login_selecting_sec("reg2", password("reg2")))
        .await;
    assert!(events(&r).is_empty(), "{}", r.xml);
}
