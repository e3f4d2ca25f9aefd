//! RFC 5733 contact check, create and info.

use crate::harness::*;

const CONTACT_NS: &str = "urn:ietf:params:xml:ns:contact-1.0";

/// A `<contact:postalInfo>` of the given type.
fn postal(kind: &str, name: &str, city: &str) -> String {
    format!(
        r#"<contact:postalInfo type="{kind}"><contact:name>{name}</contact:name>
<contact:addr><contact:street>12 rue Ibn Sina</contact:street><contact:city>{city}</contact:city><contact:pc>10000</contact:pc><contact:cc>MA</contact:cc></contact:addr></contact:postalInfo>"#
    )
}

/// A contact create from its parts; `email: None` leaves the element out.
fn contact_body(
    id: &str,
    postal_infos: &str,
    voice: &str,
    email: Option<&str>,
    tail: &str,
) -> String {
    let email = email
        .map(|e| format!("<contact:email>{e}</contact:email>"))
        .unwrap_or_default();
    format!(
        r#"<create><contact:create xmlns:contact="{CONTACT_NS}"><contact:id>{id}</contact:id>{postal_infos}
<contact:voice>{voice}</contact:voice>{email}
<contact:authInfo><contact:pw>Cnt-Auth-2024</contact:pw></contact:authInfo>{tail}</contact:create></create>"#
    )
}

fn contact_info(id: &str, auth: Option<&str>) -> String {
    let auth = auth
        .map(|a| format!("<contact:authInfo><contact:pw>{a}</contact:pw></contact:authInfo>"))
        .unwrap_or_default();
    format!(
        r#"<info><contact:info xmlns:contact="{CONTACT_NS}"><contact:id>{id}</contact:id>{auth}</contact:info></info>"#
    )
}

/// A server with reg1 logged in and its contact `cnt-1` created.
async fn registry() -> (TestServer, RawClient) {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    assert_ok(&mut c, &contact_create("cnt-1", "MA")).await;
    (server, c)
}

// ----- check -----

#[tokio::test]
async fn success_check_free_and_taken_ids() {
    let (_server, mut c) = registry().await;
    let r = assert_ok(&mut c, &check("contact", &["cnt-1", "libre-1"])).await;
    assert_eq!(r.texts("id"), ["cnt-1", "libre-1"]);
    assert_eq!(r.attrs("id", "avail"), ["0", "1"]);
    assert_eq!(r.texts("reason"), ["In use"]);
}

// ----- create -----

#[tokio::test]
async fn success_create_returns_id_and_creation_date() {
    let server = TestServer::start_at("2025-03-10T10:00:00Z").await;
    let mut c = server.login("reg1").await;
    let r = assert_ok(&mut c, &contact_create("nouveau-1", "MA")).await;
    assert_eq!(r.text("id").as_deref(), Some("nouveau-1"));
    let created = r.text("crDate").unwrap();
    assert!(created.starts_with("2025-03-10T10:00"), "{created}");
}

#[tokio::test]
async fn success_create_with_int_and_loc_postal_info() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let both = format!(
        "{}{}",
        postal("int", "Fatima Zahra El Idrissi", "Rabat"),
        postal("loc", "Fatima Zahra El Idrissi", "Salé")
    );
    assert_ok(
        &mut c,
        &contact_body("deux-1", &both, "+212.537123456", Some("fz@example.ma"), ""),
    )
    .await;
    let info = assert_ok(&mut c, &contact_info("deux-1", None)).await;
    assert_eq!(info.attrs("postalInfo", "type"), ["int", "loc"]);
    assert_eq!(info.texts("city"), ["Rabat", "Salé"]);
}

#[tokio::test]
async fn failure_create_with_a_taken_id_answers_2302() {
    let (server, mut c) = registry().await;
    assert_code(&mut c, &contact_create("cnt-1", "MA"), 2302).await;
    let mut other = server.login("reg2").await;
    assert_code(&mut other, &contact_create("cnt-1", "FR"), 2302).await;
}

#[tokio::test]
async fn failure_create_with_an_invalid_email_answers_2005() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let loc = postal("loc", "Karim Benali", "Fès");
    for email in ["pas-une-adresse", "fz@", "fz@localhost"] {
        let body = contact_body("mail-1", &loc, "+212.537123456", Some(email), "");
        assert_code(&mut c, &body, 2005).await;
    }
    let r = assert_ok(&mut c, &check("contact", &["mail-1"])).await;
    assert_eq!(r.attrs("id", "avail"), ["1"]);
}

/// Addresses RFC 5322's addr-spec (dot-atom local part) and a host name
/// as domain do not allow.
const MALFORMED_EMAILS: [&str; 11] = [
    "a@@b.ma",
    "a@b..ma",
    "a.@b.ma",
    "a@-b.ma",
    "a@b_c.ma",
    ".a@b.ma",
    "a..b@c.ma",
    "a@b.ma.",
    "a@",
    "@b.ma",
    "a b@c.ma",
];

fn email_update(id: &str, email: &str) -> String {
    format!(
        r#"<update><contact:update xmlns:contact="{CONTACT_NS}"><contact:id>{id}</contact:id><contact:chg><contact:email>{email}</contact:email></contact:chg></contact:update></update>"#
    )
}

#[tokio::test]
async fn failure_create_and_update_with_a_malformed_email_answer_2005() {
    let (_server, mut c) = registry().await;
    let loc = postal("loc", "Karim Benali", "Fès");
    for email in MALFORMED_EMAILS {
        let body = contact_body("mail-2", &loc, "+212.537123456", Some(email), "");
        let r = assert_code(&mut c, &body, 2005).await;
        assert!(
            r.reason().unwrap().contains("is not an e-mail address"),
            "{}",
            r.xml
        );
        assert_code(&mut c, &email_update("cnt-1", email), 2005).await;
    }
    let r = assert_ok(&mut c, &check("contact", &["mail-2"])).await;
    assert_eq!(r.attrs("id", "avail"), ["1"]);
    let r = assert_ok(&mut c, &contact_info("cnt-1", None)).await;
    assert_eq!(r.text("email").as_deref(), Some("fz@example.ma"));
}

#[tokio::test]
async fn success_create_and_update_with_valid_emails() {
    let (_server, mut c) = registry().await;
    let loc = postal("loc", "Karim Benali", "Fès");
    for (i, email) in [
        "fz@example.ma",
        "first.last+tag@sub.example.co.ma",
        "x@xn--mgbc0a9azcg.ma",
        "user@مثال.ma",
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("mail-ok-{i}");
        let body = contact_body(&id, &loc, "+212.537123456", Some(email), "");
        assert_ok(&mut c, &body).await;
        assert_ok(&mut c, &email_update("cnt-1", email)).await;
        let r = assert_ok(&mut c, &contact_info("cnt-1", None)).await;
        assert_eq!(r.text("email").as_deref(), Some(email));
    }
}

#[tokio::test]
async fn failure_create_with_an_invalid_phone_answers_2005() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let loc = postal("loc", "Karim Benali", "Fès");
    for voice in ["0537123456", "+212537123456", "+212.53712a456"] {
        let body = contact_body("tel-1", &loc, voice, Some("kb@example.ma"), "");
        assert_code(&mut c, &body, 2005).await;
    }
}

#[tokio::test]
async fn failure_create_with_non_ascii_int_postal_info_answers_2005() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let int = postal("int", "Société Générale Marocaine", "Fès");
    let body = contact_body("int-1", &int, "+212.537123456", Some("sg@example.ma"), "");
    assert_code(&mut c, &body, 2005).await;
}

#[tokio::test]
async fn failure_create_with_two_postal_info_of_one_type_answers_2001() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let twice = format!(
        "{}{}",
        postal("loc", "Karim Benali", "Fès"),
        postal("loc", "Karim Benali", "Meknès")
    );
    let body = contact_body(
        "deux-2",
        &twice,
        "+212.537123456",
        Some("kb@example.ma"),
        "",
    );
    assert_code(&mut c, &body, 2001).await;
}

#[tokio::test]
async fn failure_create_without_email_answers_2001() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let loc = postal("loc", "Karim Benali", "Fès");
    let body = contact_body("sans-mail", &loc, "+212.537123456", None, "");
    assert_code(&mut c, &body, 2001).await;
}

// ----- info -----

#[tokio::test]
async fn success_info_by_the_sponsor_is_complete_without_auth_info() {
    let (_server, mut c) = registry().await;
    let r = assert_ok(&mut c, &contact_info("cnt-1", None)).await;
    assert_eq!(r.text("id").as_deref(), Some("cnt-1"));
    assert!(r.text("roid").is_some_and(|roid| !roid.is_empty()));
    assert_eq!(r.attrs("status", "s"), ["ok"]);
    assert_eq!(r.attrs("postalInfo", "type"), ["loc"]);
    assert_eq!(r.text("name").as_deref(), Some("Fatima Zahra El Idrissi"));
    assert_eq!(r.text("org").as_deref(), Some("Société Atlas"));
    assert_eq!(r.text("city").as_deref(), Some("Rabat"));
    assert_eq!(r.text("cc").as_deref(), Some("MA"));
    assert_eq!(r.text("voice").as_deref(), Some("+212.537123456"));
    assert_eq!(r.attrs("voice", "x"), ["12"]);
    assert_eq!(r.text("email").as_deref(), Some("fz@example.ma"));
    assert_eq!(r.text("clID").as_deref(), Some("reg1"));
    assert_eq!(r.text("crID").as_deref(), Some("reg1"));
    assert!(r.text("crDate").is_some());
    assert!(
        r.texts("authInfo").is_empty(),
        "authInfo returned: {}",
        r.xml
    );
    assert!(!r.xml.contains("Cnt-Auth-2024"));
}

#[tokio::test]
async fn success_info_status_is_linked_once_a_domain_uses_the_contact() {
    let (_server, mut c) = registry().await;
    let before = assert_ok(&mut c, &contact_info("cnt-1", None)).await;
    assert!(!before.attrs("status", "s").contains(&"linked".to_owned()));
    assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;
    let after = assert_ok(&mut c, &contact_info("cnt-1", None)).await;
    assert!(
        after.attrs("status", "s").contains(&"linked".to_owned()),
        "{}",
        after.xml
    );
}

#[tokio::test]
async fn failure_info_by_another_registrar_without_auth_info_answers_2201() {
    let (server, _c) = registry().await;
    let mut other = server.login("reg2").await;
    let r = assert_code(&mut other, &contact_info("cnt-1", None), 2201).await;
    assert!(r.text("email").is_none());
}

#[tokio::test]
async fn success_info_by_another_registrar_with_auth_info() {
    let (server, _c) = registry().await;
    let mut other = server.login("reg2").await;
    let r = assert_ok(&mut other, &contact_info("cnt-1", Some("Cnt-Auth-2024"))).await;
    assert_eq!(r.text("id").as_deref(), Some("cnt-1"));
    assert_eq!(r.text("email").as_deref(), Some("fz@example.ma"));
    assert_eq!(r.text("clID").as_deref(), Some("reg1"));
    assert!(r.texts("authInfo").is_empty(), "{}", r.xml);
}

#[tokio::test]
async fn failure_info_with_a_wrong_auth_info_answers_2202() {
    let (server, _c) = registry().await;
    let mut other = server.login("reg2").await;
    assert_code(
        &mut other,
        &contact_info("cnt-1", Some("Wrong-Auth-1")),
        2202,
    )
    .await;
}

#[tokio::test]
async fn failure_info_of_an_unknown_contact_answers_2303() {
    let (_server, mut c) = registry().await;
    assert_code(&mut c, &contact_info("inconnu", None), 2303).await;
}

#[tokio::test]
async fn success_disclose_round_trips_through_info() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let loc = postal("loc", "Karim Benali", "Fès");
    let disclose =
        r#"<contact:disclose flag="0"><contact:voice/><contact:email/></contact:disclose>"#;
    let body = contact_body(
        "discret-1",
        &loc,
        "+212.537123456",
        Some("kb@example.ma"),
        disclose,
    );
    assert_ok(&mut c, &body).await;

    let r = assert_ok(&mut c, &contact_info("discret-1", None)).await;
    let doc = roxmltree::Document::parse(&r.xml).unwrap();
    let el = doc
        .descendants()
        .find(|n| n.has_tag_name((CONTACT_NS, "disclose")))
        .unwrap_or_else(|| panic!("no disclose in {}", r.xml));
    assert_eq!(el.attribute("flag"), Some("0"));
    let fields: Vec<&str> = el
        .children()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name())
        .collect();
    assert_eq!(fields, ["voice", "email"]);
}

#[tokio::test]
async fn success_info_without_disclose_has_no_disclose_element() {
    let (_server, mut c) = registry().await;
    let r = assert_ok(&mut c, &contact_info("cnt-1", None)).await;
    assert!(r.texts("disclose").is_empty(), "{}", r.xml);
}
