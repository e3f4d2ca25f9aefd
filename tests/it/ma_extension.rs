//! The .ma extension (`http://www.anrt.ma/epp/ma-1.0`, docs/ma-extension.md):
//! R15 identity documents on contacts, R2 proof references on
//! restricted-zone domains, refusals of extensions that do not apply, and
//! RFC 9038 for sessions that did not select it.

use crate::dnssec::login_with_extensions;
use crate::harness::*;

const MA_NS: &str = "http://www.anrt.ma/epp/ma-1.0";
const CONTACT_NS: &str = "urn:ietf:params:xml:ns:contact-1.0";
const DOMAIN_NS: &str = "urn:ietf:params:xml:ns:domain-1.0";
const EPP_NS: &str = "urn:ietf:params:xml:ns:epp-1.0";

async fn login_ma(server: &TestServer, clid: &str) -> RawClient {
    let mut c = server.client(clid).await;
    let r = c.cmd(&login_with_extensions(clid, &[MA_NS])).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    c
}

fn identity(kind: &str, number: &str) -> String {
    format!("<ma:identity><ma:type>{kind}</ma:type><ma:number>{number}</ma:number></ma:identity>")
}

/// A contact create (Moroccan address) carrying an identity document.
fn contact_with_identity(id: &str, kind: &str, number: &str) -> String {
    format!(
        r#"{}<extension><ma:create xmlns:ma="{MA_NS}">{}</ma:create></extension>"#,
        contact_create_bare(id, "MA"),
        identity(kind, number)
    )
}

/// A contact create (postal address in country `cc`) with a CIN identity
/// document on record, as a domain's registrant needs (R15).
pub fn registrant(id: &str, cc: &str) -> String {
    format!(
        r#"{}<extension><ma:create xmlns:ma="{MA_NS}">{}</ma:create></extension>"#,
        contact_create_bare(id, cc),
        identity("cin", "BE123456")
    )
}

fn contact_info(id: &str) -> String {
    format!(
        r#"<info><contact:info xmlns:contact="{CONTACT_NS}"><contact:id>{id}</contact:id></contact:info></info>"#
    )
}

/// A contact update changing only the identity document.
fn identity_update(id: &str, kind: &str, number: &str) -> String {
    format!(
        r#"<update><contact:update xmlns:contact="{CONTACT_NS}"><contact:id>{id}</contact:id></contact:update></update><extension><ma:update xmlns:ma="{MA_NS}">{}</ma:update></extension>"#,
        identity(kind, number)
    )
}

fn proof_create(name: &str, registrant: &str, proof: &str) -> String {
    format!(
        r#"{}<extension><ma:domainCreate xmlns:ma="{MA_NS}"><ma:proofRef>{proof}</ma:proofRef></ma:domainCreate></extension>"#,
        domain_create(name, registrant, "")
    )
}

/// The local names of the parent and grandparent of the first `ma` element
/// named `local`.
fn ma_location(r: &Resp, local: &str) -> Option<(String, String)> {
    let doc = roxmltree::Document::parse(&r.xml).unwrap();
    let el = doc.descendants().find(|n| n.has_tag_name((MA_NS, local)))?;
    let parent = el.parent_element()?;
    let grand = parent.parent_element()?;
    Some((
        parent.tag_name().name().to_owned(),
        grand.tag_name().name().to_owned(),
    ))
}

fn in_extension() -> Option<(String, String)> {
    Some(("extension".into(), "response".into()))
}

/// A server with reg1 logged in selecting the .ma extension.
async fn registry() -> (TestServer, RawClient) {
    let server = TestServer::start().await;
    let c = login_ma(&server, "reg1").await;
    (server, c)
}

// ----- R15 identity documents -----

#[tokio::test]
async fn success_contact_with_identity_shows_it_submitted() {
    let server = TestServer::start_at("2025-03-10T10:00:00Z").await;
    let mut c = login_ma(&server, "reg1").await;
    assert_ok(&mut c, &contact_with_identity("cnt-1", "cin", "BE123456")).await;

    let r = assert_ok(&mut c, &contact_info("cnt-1")).await;
    assert_eq!(ma_location(&r, "infData"), in_extension(), "{}", r.xml);
    assert_eq!(r.text("type").as_deref(), Some("cin"));
    assert_eq!(r.text("number").as_deref(), Some("BE123456"));
    assert_eq!(r.text("verification").as_deref(), Some("submitted"));
    let since = r.attrs("verification", "date");
    assert_eq!(since.len(), 1, "{}", r.xml);
    assert!(since[0].starts_with("2025-03-10T10:00"), "{since:?}");
    assert!(r.texts("extValue").is_empty(), "{}", r.xml);
}

#[tokio::test]
async fn success_contact_without_identity_shows_verification_none() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &contact_create_bare("cnt-1", "MA")).await;
    let r = assert_ok(&mut c, &contact_info("cnt-1")).await;
    assert_eq!(ma_location(&r, "infData"), in_extension(), "{}", r.xml);
    assert_eq!(r.text("verification").as_deref(), Some("none"));
    assert!(r.texts("identity").is_empty(), "{}", r.xml);
    assert!(r.attrs("verification", "date").is_empty(), "{}", r.xml);
}

#[tokio::test]
async fn r15_every_document_type_in_its_format_is_accepted() {
    let (_server, mut c) = registry().await;
    let documents = [
        ("cin", "BE123456"),
        ("residence", "AB1234567"),
        ("passport", "X1234567"),
        ("rc", "1234567890"),
        ("ice", "001234567000089"),
        ("other", "Dahir n° 1-58-376"),
    ];
    for (i, (kind, number)) in documents.iter().enumerate() {
        let id = format!("doc-{i}");
        assert_ok(&mut c, &contact_with_identity(&id, kind, number)).await;
        let r = assert_ok(&mut c, &contact_info(&id)).await;
        assert_eq!(r.text("type").as_deref(), Some(*kind));
        assert_eq!(r.text("number").as_deref(), Some(*number));
    }
}

#[tokio::test]
async fn r15_number_in_lower_case_is_stored_in_upper_case() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &contact_with_identity("cnt-1", "cin", "be123456")).await;
    let r = assert_ok(&mut c, &contact_info("cnt-1")).await;
    assert_eq!(r.text("number").as_deref(), Some("BE123456"));
}

#[tokio::test]
async fn r15_number_not_fitting_its_type_answers_2005() {
    let (_server, mut c) = registry().await;
    for (kind, number) in [
        ("cin", "ABC123"),
        ("ice", "12345678901234"),
        ("residence", "A1234"),
        ("passport", "12345"),
        ("rc", "12A"),
    ] {
        let r = assert_code(&mut c, &contact_with_identity("cnt-1", kind, number), 2005).await;
        let reason = r.reason().unwrap();
        assert!(reason.starts_with("R15"), "{kind} {number}: {reason}");
    }
    let free = assert_ok(&mut c, &check("contact", &["cnt-1"])).await;
    assert_eq!(free.attrs("id", "avail"), ["1"]);
}

#[tokio::test]
async fn r15_update_replaces_the_identity_document() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &contact_create("cnt-1", "MA")).await;
    assert_ok(&mut c, &identity_update("cnt-1", "passport", "X1234567")).await;
    let r = assert_ok(&mut c, &contact_info("cnt-1")).await;
    assert_eq!(r.text("type").as_deref(), Some("passport"));
    assert_eq!(r.text("number").as_deref(), Some("X1234567"));
    assert_eq!(r.text("verification").as_deref(), Some("submitted"));

    assert_ok(&mut c, &identity_update("cnt-1", "cin", "BE123456")).await;
    let r = assert_ok(&mut c, &contact_info("cnt-1")).await;
    assert_eq!(r.text("type").as_deref(), Some("cin"));
    assert_eq!(r.text("number").as_deref(), Some("BE123456"));
}

#[tokio::test]
async fn r15_update_with_a_number_not_fitting_its_type_answers_2005() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &contact_with_identity("cnt-1", "cin", "BE123456")).await;
    let r = assert_code(&mut c, &identity_update("cnt-1", "ice", "12345"), 2005).await;
    assert!(r.reason().unwrap().starts_with("R15"), "{}", r.xml);
    let r = assert_ok(&mut c, &contact_info("cnt-1")).await;
    assert_eq!(r.text("number").as_deref(), Some("BE123456"));
}

#[tokio::test]
async fn failure_identity_of_an_unknown_type_answers_2001() {
    let (_server, mut c) = registry().await;
    assert_code(
        &mut c,
        &contact_with_identity("cnt-1", "permis", "123456"),
        2001,
    )
    .await;
}

// ----- R2 proof references -----

#[tokio::test]
async fn r2_create_in_gov_ma_with_a_proof_reference_is_pending() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &registrant("cnt-1", "MA")).await;
    let r = run(
        &mut c,
        &proof_create("ministere-test.gov.ma", "cnt-1", "MIN-2024-001"),
    )
    .await;
    assert_eq!(r.code(), 1001, "{}", r.xml);
    assert_eq!(r.text("name").as_deref(), Some("ministere-test.gov.ma"));

    let info = assert_ok(&mut c, &domain_info("ministere-test.gov.ma", "all", None)).await;
    assert!(
        info.attrs("status", "s")
            .contains(&"pendingCreate".to_owned()),
        "{}",
        info.xml
    );
    assert_eq!(
        ma_location(&info, "domainInfData"),
        in_extension(),
        "{}",
        info.xml
    );
    assert_eq!(info.text("proofRef").as_deref(), Some("MIN-2024-001"));

    // The name is taken while the registry decides.
    let taken = assert_ok(&mut c, &check("domain", &["ministere-test.gov.ma"])).await;
    assert_eq!(taken.attrs("name", "avail"), ["0"]);
}

#[tokio::test]
async fn r2_a_pending_create_refuses_update_renew_and_delete_with_2304() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &registrant("cnt-1", "MA")).await;
    let r = run(
        &mut c,
        &proof_create("universite.ac.ma", "cnt-1", "MESRSI/2024/0457"),
    )
    .await;
    assert_eq!(r.code(), 1001, "{}", r.xml);
    let exdate = r.text("exDate").unwrap()[..10].to_owned();

    let update = format!(
        r#"<update><domain:update xmlns:domain="{DOMAIN_NS}"><domain:name>universite.ac.ma</domain:name><domain:add><domain:status s="clientHold"/></domain:add></domain:update></update>"#
    );
    assert_code(&mut c, &update, 2304).await;
    let renew = format!(
        r#"<renew><domain:renew xmlns:domain="{DOMAIN_NS}"><domain:name>universite.ac.ma</domain:name><domain:curExpDate>{exdate}</domain:curExpDate></domain:renew></renew>"#
    );
    assert_code(&mut c, &renew, 2304).await;
    let delete = format!(
        r#"<delete><domain:delete xmlns:domain="{DOMAIN_NS}"><domain:name>universite.ac.ma</domain:name></domain:delete></delete>"#
    );
    assert_code(&mut c, &delete, 2304).await;
}

// ----- extensions that do not apply -----

#[tokio::test]
async fn failure_ma_domain_create_on_a_contact_command_answers_2103() {
    let (_server, mut c) = registry().await;
    let body = format!(
        r#"{}<extension><ma:domainCreate xmlns:ma="{MA_NS}"><ma:proofRef>MIN-2024-001</ma:proofRef></ma:domainCreate></extension>"#,
        contact_create_bare("cnt-1", "MA")
    );
    assert_code(&mut c, &body, 2103).await;
    let free = assert_ok(&mut c, &check("contact", &["cnt-1"])).await;
    assert_eq!(free.attrs("id", "avail"), ["1"]);
}

#[tokio::test]
async fn failure_ma_identity_on_a_domain_update_answers_2103() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &registrant("cnt-1", "MA")).await;
    assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;
    let body = format!(
        r#"<update><domain:update xmlns:domain="{DOMAIN_NS}"><domain:name>exemple.ma</domain:name></domain:update></update><extension><ma:update xmlns:ma="{MA_NS}">{}</ma:update></extension>"#,
        identity("cin", "BE123456")
    );
    assert_code(&mut c, &body, 2103).await;
}

#[tokio::test]
async fn failure_an_unknown_extension_namespace_answers_2103() {
    let (_server, mut c) = registry().await;
    let body = format!(
        r#"{}<extension><foo:create xmlns:foo="urn:example:foo-1.0"><foo:bar>1</foo:bar></foo:create></extension>"#,
        contact_create_bare("cnt-1", "MA")
    );
    assert_code(&mut c, &body, 2103).await;
}

#[tokio::test]
async fn failure_login_selecting_an_unknown_extension_answers_2103() {
    let server = TestServer::start().await;
    let mut c = server.client("reg1").await;
    let r = c
        .cmd(&login_with_extensions("reg1", &["urn:example:foo-1.0"]))
        .await;
    assert_eq!(r.code(), 2103, "{}", r.xml);
}

// ----- RFC 9038 -----

#[tokio::test]
async fn success_rfc9038_a_session_without_ma_gets_contact_data_in_ext_value() {
    let (server, mut c) = registry().await;
    assert_ok(&mut c, &contact_with_identity("cnt-1", "cin", "BE123456")).await;

    let mut plain = server.login("reg1").await;
    let r = assert_ok(&mut plain, &contact_info("cnt-1")).await;
    assert_eq!(
        ma_location(&r, "infData"),
        Some(("value".into(), "extValue".into())),
        "{}",
        r.xml
    );
    let doc = roxmltree::Document::parse(&r.xml).unwrap();
    assert!(
        !doc.descendants()
            .any(|n| n.has_tag_name((EPP_NS, "extension"))),
        "{}",
        r.xml
    );
    assert_eq!(
        r.reason().as_deref(),
        Some("http://www.anrt.ma/epp/ma-1.0 not in login services")
    );
    assert_eq!(r.text("number").as_deref(), Some("BE123456"));
}
