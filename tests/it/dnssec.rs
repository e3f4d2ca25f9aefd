//! RFC 5910 DNSSEC (secDNS-1.1, DS data interface only) on domain create,
//! info and update, and RFC 9038 for sessions that did not select it.

use crate::harness::*;
use crate::ma_extension::registrant;

const DOMAIN_NS: &str = "urn:ietf:params:xml:ns:domain-1.0";
const SECDNS_NS: &str = "urn:ietf:params:xml:ns:secDNS-1.1";
const EPP_NS: &str = "urn:ietf:params:xml:ns:epp-1.0";

/// A login selecting the given extension URIs.
pub fn login_with_extensions(clid: &str, ext_uris: &[&str]) -> String {
    let uris: String = ext_uris
        .iter()
        .map(|u| format!("<extURI>{u}</extURI>"))
        .collect();
    login_xml(clid, password(clid), "en").replace(
        "</svcs>",
        &format!("<svcExtension>{uris}</svcExtension></svcs>"),
    )
}

async fn login_secdns(server: &TestServer, clid: &str) -> RawClient {
    let mut c = server.client(clid).await;
    let r = c.cmd(&login_with_extensions(clid, &[SECDNS_NS])).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    c
}

/// A digest of `len` hex digits, all `digit`.
fn digest(digit: char, len: usize) -> String {
    digit.to_string().repeat(len)
}

fn ds(key_tag: u16, alg: u8, digest_type: u8, digest: &str) -> String {
    format!(
        "<secDNS:dsData><secDNS:keyTag>{key_tag}</secDNS:keyTag><secDNS:alg>{alg}</secDNS:alg><secDNS:digestType>{digest_type}</secDNS:digestType><secDNS:digest>{digest}</secDNS:digest></secDNS:dsData>"
    )
}

/// A SHA-256 DS record with algorithm 13.
fn ds256(key_tag: u16, digit: char) -> String {
    ds(key_tag, 13, 2, &digest(digit, 64))
}

fn secdns_create(inner: &str) -> String {
    format!(
        r#"<extension><secDNS:create xmlns:secDNS="{SECDNS_NS}">{inner}</secDNS:create></extension>"#
    )
}

fn secdns_update(inner: &str) -> String {
    format!(
        r#"<extension><secDNS:update xmlns:secDNS="{SECDNS_NS}">{inner}</secDNS:update></extension>"#
    )
}

/// A domain create of `name` for `cnt-1` carrying the secDNS:create content.
fn create_with_ds(name: &str, inner: &str) -> String {
    format!(
        "{}{}",
        domain_create(name, "cnt-1", ""),
        secdns_create(inner)
    )
}

/// A domain update of `name` changing nothing but DNSSEC.
fn update_ds(name: &str, inner: &str) -> String {
    format!(
        r#"<update><domain:update xmlns:domain="{DOMAIN_NS}"><domain:name>{name}</domain:name></domain:update></update>{}"#,
        secdns_update(inner)
    )
}

/// A server, reg1 logged in selecting secDNS, and its contact `cnt-1`.
async fn registry() -> (TestServer, RawClient) {
    let server = TestServer::start().await;
    let mut c = login_secdns(&server, "reg1").await;
    assert_ok(&mut c, &registrant("cnt-1", "MA")).await;
    (server, c)
}

/// The key tags of the DS records a domain info lists.
async fn key_tags(c: &mut RawClient, name: &str) -> Vec<String> {
    assert_ok(c, &domain_info(name, "all", None))
        .await
        .texts("keyTag")
}

/// Where the `<secDNS:infData>` of a response sits: its parent's and
/// grandparent's local names.
fn secdns_location(r: &Resp) -> Option<(String, String)> {
    let doc = roxmltree::Document::parse(&r.xml).unwrap();
    let inf = doc
        .descendants()
        .find(|n| n.has_tag_name((SECDNS_NS, "infData")))?;
    let parent = inf.parent_element()?;
    let grand = parent.parent_element()?;
    Some((
        parent.tag_name().name().to_owned(),
        grand.tag_name().name().to_owned(),
    ))
}

fn has_epp_extension(r: &Resp) -> bool {
    let doc = roxmltree::Document::parse(&r.xml).unwrap();
    doc.descendants()
        .any(|n| n.has_tag_name((EPP_NS, "extension")))
}

// ----- create and info -----

#[tokio::test]
async fn success_create_with_ds_data_and_info_returns_it() {
    let (_server, mut c) = registry().await;
    let body = create_with_ds("signe.ma", &ds(12345, 13, 2, &digest('a', 64)));
    let r = assert_ok(&mut c, &body).await;
    assert_eq!(r.text("name").as_deref(), Some("signe.ma"));

    let info = assert_ok(&mut c, &domain_info("signe.ma", "all", None)).await;
    assert_eq!(
        secdns_location(&info),
        Some(("extension".into(), "response".into())),
        "{}",
        info.xml
    );
    assert_eq!(info.texts("keyTag"), ["12345"]);
    assert_eq!(info.texts("alg"), ["13"]);
    assert_eq!(info.texts("digestType"), ["2"]);
    // Digests are stored and answered in upper case.
    assert_eq!(info.texts("digest"), [digest('A', 64)]);
    assert!(info.texts("extValue").is_empty(), "{}", info.xml);
}

#[tokio::test]
async fn success_create_with_several_ds_records_of_each_digest_type() {
    let (_server, mut c) = registry().await;
    let records = format!(
        "{}{}{}",
        ds(1, 8, 1, &digest('1', 40)),
        ds(2, 13, 2, &digest('2', 64)),
        ds(3, 14, 4, &digest('3', 96))
    );
    assert_ok(&mut c, &create_with_ds("signe.ma", &records)).await;
    assert_eq!(key_tags(&mut c, "signe.ma").await, ["1", "2", "3"]);
}

#[tokio::test]
async fn success_info_of_an_unsigned_domain_has_no_secdns_data() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &domain_create("clair.ma", "cnt-1", "")).await;
    let info = assert_ok(&mut c, &domain_info("clair.ma", "all", None)).await;
    assert_eq!(secdns_location(&info), None, "{}", info.xml);
    assert!(!has_epp_extension(&info), "{}", info.xml);
}

#[tokio::test]
async fn success_info_by_another_registrar_without_auth_info_hides_ds_data() {
    let (server, mut c) = registry().await;
    assert_ok(&mut c, &create_with_ds("signe.ma", &ds256(12345, 'a'))).await;
    let mut other = login_secdns(&server, "reg2").await;
    let info = assert_ok(&mut other, &domain_info("signe.ma", "all", None)).await;
    assert_eq!(secdns_location(&info), None, "{}", info.xml);
}

// ----- update -----

#[tokio::test]
async fn success_update_adds_a_ds_record() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &create_with_ds("signe.ma", &ds256(11111, 'a'))).await;
    let body = update_ds(
        "signe.ma",
        &format!("<secDNS:add>{}</secDNS:add>", ds256(22222, 'b')),
    );
    assert_ok(&mut c, &body).await;
    assert_eq!(key_tags(&mut c, "signe.ma").await, ["11111", "22222"]);
}

#[tokio::test]
async fn success_update_adds_ds_data_to_an_unsigned_domain() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &domain_create("clair.ma", "cnt-1", "")).await;
    let body = update_ds(
        "clair.ma",
        &format!("<secDNS:add>{}</secDNS:add>", ds256(33333, 'c')),
    );
    assert_ok(&mut c, &body).await;
    assert_eq!(key_tags(&mut c, "clair.ma").await, ["33333"]);
}

#[tokio::test]
async fn success_update_removes_a_ds_record() {
    let (_server, mut c) = registry().await;
    let records = format!("{}{}", ds256(11111, 'a'), ds256(22222, 'b'));
    assert_ok(&mut c, &create_with_ds("signe.ma", &records)).await;
    let body = update_ds(
        "signe.ma",
        &format!("<secDNS:rem>{}</secDNS:rem>", ds256(11111, 'a')),
    );
    assert_ok(&mut c, &body).await;
    assert_eq!(key_tags(&mut c, "signe.ma").await, ["22222"]);
}

#[tokio::test]
async fn success_update_rem_and_add_in_one_command_rolls_the_key() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &create_with_ds("signe.ma", &ds256(11111, 'a'))).await;
    let body = update_ds(
        "signe.ma",
        &format!(
            "<secDNS:rem>{}</secDNS:rem><secDNS:add>{}</secDNS:add>",
            ds256(11111, 'a'),
            ds256(44444, 'd')
        ),
    );
    assert_ok(&mut c, &body).await;
    assert_eq!(key_tags(&mut c, "signe.ma").await, ["44444"]);
}

#[tokio::test]
async fn success_update_rem_all_removes_every_ds_record() {
    let (_server, mut c) = registry().await;
    let records = format!("{}{}", ds256(11111, 'a'), ds256(22222, 'b'));
    assert_ok(&mut c, &create_with_ds("signe.ma", &records)).await;
    let body = update_ds(
        "signe.ma",
        "<secDNS:rem><secDNS:all>true</secDNS:all></secDNS:rem>",
    );
    assert_ok(&mut c, &body).await;
    let info = assert_ok(&mut c, &domain_info("signe.ma", "all", None)).await;
    assert!(info.texts("keyTag").is_empty(), "{}", info.xml);
    assert_eq!(secdns_location(&info), None, "{}", info.xml);
}

#[tokio::test]
async fn failure_update_of_another_registrars_ds_data_answers_2201() {
    let (server, mut c) = registry().await;
    assert_ok(&mut c, &create_with_ds("signe.ma", &ds256(11111, 'a'))).await;
    let mut other = login_secdns(&server, "reg2").await;
    let body = update_ds(
        "signe.ma",
        "<secDNS:rem><secDNS:all>true</secDNS:all></secDNS:rem>",
    );
    assert_code(&mut other, &body, 2201).await;
    assert_eq!(key_tags(&mut c, "signe.ma").await, ["11111"]);
}

// ----- refusals -----

#[tokio::test]
async fn failure_digest_length_not_matching_its_type_answers_2005() {
    let (_server, mut c) = registry().await;
    // SHA-256 (type 2) takes 64 hex digits, SHA-1 (type 1) 40.
    for record in [
        ds(1, 13, 2, &digest('a', 40)),
        ds(1, 8, 1, &digest('a', 64)),
    ] {
        assert_code(&mut c, &create_with_ds("signe.ma", &record), 2005).await;
    }
    let free = assert_ok(&mut c, &check("domain", &["signe.ma"])).await;
    assert_eq!(free.attrs("name", "avail"), ["1"]);

    assert_ok(&mut c, &domain_create("clair.ma", "cnt-1", "")).await;
    let body = update_ds(
        "clair.ma",
        &format!(
            "<secDNS:add>{}</secDNS:add>",
            ds(1, 13, 2, &digest('a', 63))
        ),
    );
    assert_code(&mut c, &body, 2005).await;
}

#[tokio::test]
async fn failure_algorithm_3_answers_2004() {
    let (_server, mut c) = registry().await;
    let body = create_with_ds("signe.ma", &ds(1, 3, 1, &digest('a', 40)));
    assert_code(&mut c, &body, 2004).await;
    let free = assert_ok(&mut c, &check("domain", &["signe.ma"])).await;
    assert_eq!(free.attrs("name", "avail"), ["1"]);
}

#[tokio::test]
async fn failure_digest_type_3_answers_2004() {
    let (_server, mut c) = registry().await;
    let body = create_with_ds("signe.ma", &ds(1, 13, 3, &digest('a', 64)));
    assert_code(&mut c, &body, 2004).await;
}

#[tokio::test]
async fn failure_key_data_interface_answers_2306() {
    let (_server, mut c) = registry().await;
    let key = "<secDNS:keyData><secDNS:flags>257</secDNS:flags><secDNS:protocol>3</secDNS:protocol><secDNS:alg>13</secDNS:alg><secDNS:pubKey>AQPJ////4Q==</secDNS:pubKey></secDNS:keyData>";
    let r = assert_code(&mut c, &create_with_ds("signe.ma", key), 2306).await;
    assert!(r.reason().is_some(), "{}", r.xml);

    assert_ok(&mut c, &domain_create("clair.ma", "cnt-1", "")).await;
    let body = update_ds("clair.ma", &format!("<secDNS:add>{key}</secDNS:add>"));
    assert_code(&mut c, &body, 2306).await;
}

#[tokio::test]
async fn failure_max_sig_life_answers_2102() {
    let (_server, mut c) = registry().await;
    let body = create_with_ds(
        "signe.ma",
        &format!(
            "<secDNS:maxSigLife>604800</secDNS:maxSigLife>{}",
            ds256(1, 'a')
        ),
    );
    assert_code(&mut c, &body, 2102).await;

    assert_ok(&mut c, &domain_create("clair.ma", "cnt-1", "")).await;
    let body = update_ds(
        "clair.ma",
        "<secDNS:chg><secDNS:maxSigLife>604800</secDNS:maxSigLife></secDNS:chg>",
    );
    assert_code(&mut c, &body, 2102).await;
}

#[tokio::test]
async fn failure_urgent_update_answers_2102() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &domain_create("clair.ma", "cnt-1", "")).await;
    let body = format!(
        r#"<update><domain:update xmlns:domain="{DOMAIN_NS}"><domain:name>clair.ma</domain:name></domain:update></update><extension><secDNS:update xmlns:secDNS="{SECDNS_NS}" urgent="true"><secDNS:add>{}</secDNS:add></secDNS:update></extension>"#,
        ds256(1, 'a')
    );
    assert_code(&mut c, &body, 2102).await;
}

#[tokio::test]
async fn failure_nine_ds_records_answer_2306() {
    let (_server, mut c) = registry().await;
    let nine: String = (1..=9).map(|i| ds256(i, 'a')).collect();
    assert_code(&mut c, &create_with_ds("signe.ma", &nine), 2306).await;

    // Eight are accepted; a ninth by update is not.
    let eight: String = (1..=8).map(|i| ds256(i, 'a')).collect();
    assert_ok(&mut c, &create_with_ds("signe.ma", &eight)).await;
    let body = update_ds(
        "signe.ma",
        &format!("<secDNS:add>{}</secDNS:add>", ds256(9, 'a')),
    );
    assert_code(&mut c, &body, 2306).await;
    assert_eq!(key_tags(&mut c, "signe.ma").await.len(), 8);
}

#[tokio::test]
async fn failure_secdns_on_a_contact_command_answers_2103() {
    let (_server, mut c) = registry().await;
    let body = format!(
        "{}{}",
        contact_create_bare("cnt-2", "MA"),
        secdns_create(&ds256(1, 'a'))
    );
    assert_code(&mut c, &body, 2103).await;
}

// ----- RFC 9038 -----

#[tokio::test]
async fn success_rfc9038_a_session_without_secdns_gets_ds_data_in_ext_value() {
    let (server, mut c) = registry().await;
    assert_ok(&mut c, &create_with_ds("signe.ma", &ds256(12345, 'a'))).await;

    // The same registrar, logged in without selecting secDNS.
    let mut plain = server.login("reg1").await;
    let r = assert_ok(&mut plain, &domain_info("signe.ma", "all", None)).await;
    assert_eq!(
        secdns_location(&r),
        Some(("value".into(), "extValue".into())),
        "{}",
        r.xml
    );
    assert!(!has_epp_extension(&r), "{}", r.xml);
    assert_eq!(
        r.reason().as_deref(),
        Some("urn:ietf:params:xml:ns:secDNS-1.1 not in login services")
    );
    assert_eq!(r.texts("keyTag"), ["12345"]);
    // The result code does not change.
    assert_eq!(r.text("name").as_deref(), Some("signe.ma"));
}
