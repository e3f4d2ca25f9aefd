//! RFC 5732 host check, create and info, and R14's glue rules.

use crate::harness::*;

const HOST_NS: &str = "urn:ietf:params:xml:ns:host-1.0";

fn host_info(name: &str) -> String {
    format!(
        r#"<info><host:info xmlns:host="{HOST_NS}"><host:name>{name}</host:name></host:info></info>"#
    )
}

/// A server with reg1 logged in, its contact `cnt-1` and its domain `exemple.ma`.
async fn registry() -> (TestServer, RawClient) {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    assert_ok(&mut c, &contact_create("cnt-1", "MA")).await;
    assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;
    (server, c)
}

// ----- check -----

#[tokio::test]
async fn success_check_free_and_taken_names() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &host_create("ns1.example.net", &[])).await;
    let r = assert_ok(
        &mut c,
        &check("host", &["ns1.example.net", "ns2.example.net"]),
    )
    .await;
    assert_eq!(r.texts("name"), ["ns1.example.net", "ns2.example.net"]);
    assert_eq!(r.attrs("name", "avail"), ["0", "1"]);
    assert_eq!(r.texts("reason"), ["In use"]);
}

#[tokio::test]
async fn success_check_is_case_insensitive() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &host_create("ns1.example.net", &[])).await;
    let r = assert_ok(&mut c, &check("host", &["NS1.Example.NET"])).await;
    assert_eq!(r.texts("name"), ["ns1.example.net"]);
    assert_eq!(r.attrs("name", "avail"), ["0"]);
}

#[tokio::test]
async fn failure_check_of_a_malformed_name_is_unavailable_with_a_reason() {
    let (_server, mut c) = registry().await;
    let r = assert_ok(
        &mut c,
        &check("host", &["-ns.example.net", "ns2.example.net"]),
    )
    .await;
    assert_eq!(r.attrs("name", "avail"), ["0", "1"]);
    assert_eq!(r.texts("reason").len(), 1, "{}", r.xml);
}

// ----- create -----

#[tokio::test]
async fn success_create_external_host_without_addresses() {
    let (_server, mut c) = registry().await;
    let r = assert_ok(&mut c, &host_create("ns1.example.net", &[])).await;
    assert_eq!(r.text("name").as_deref(), Some("ns1.example.net"));
    assert!(r.text("crDate").is_some());
}

#[tokio::test]
async fn r14_create_external_host_with_an_address_answers_2306() {
    let (_server, mut c) = registry().await;
    let r = assert_code(
        &mut c,
        &host_create("ns1.example.net", &["192.0.2.1"]),
        2306,
    )
    .await;
    let reason = r.reason().unwrap();
    assert!(reason.starts_with("R14"), "{reason}");
}

#[tokio::test]
async fn r14_create_in_zone_host_with_glue() {
    let (_server, mut c) = registry().await;
    let r = assert_ok(
        &mut c,
        &host_create("ns1.exemple.ma", &["192.0.2.1", "2001:db8::1"]),
    )
    .await;
    assert_eq!(r.text("name").as_deref(), Some("ns1.exemple.ma"));
}

#[tokio::test]
async fn r14_create_in_zone_host_without_address_answers_2003() {
    let (_server, mut c) = registry().await;
    let r = assert_code(&mut c, &host_create("ns1.exemple.ma", &[]), 2003).await;
    let reason = r.reason().unwrap();
    assert!(reason.starts_with("R14"), "{reason}");
}

#[tokio::test]
async fn r14_create_in_zone_host_without_its_superordinate_domain_answers_2303() {
    let (_server, mut c) = registry().await;
    assert_code(&mut c, &host_create("ns1.inconnu.ma", &["192.0.2.1"]), 2303).await;
    assert_code(
        &mut c,
        &host_create("ns1.exemple.co.ma", &["192.0.2.1"]),
        2303,
    )
    .await;
}

#[tokio::test]
async fn r14_create_in_zone_host_under_another_registrars_domain_answers_2201() {
    let server = TestServer::start().await;
    let mut reg2 = server.login("reg2").await;
    assert_ok(&mut reg2, &contact_create("cnt-2", "MA")).await;
    assert_ok(&mut reg2, &domain_create("autre.ma", "cnt-2", "")).await;

    let mut reg1 = server.login("reg1").await;
    assert_code(
        &mut reg1,
        &host_create("ns1.autre.ma", &["192.0.2.1"]),
        2201,
    )
    .await;
    let r = assert_ok(&mut reg1, &check("host", &["ns1.autre.ma"])).await;
    assert_eq!(r.attrs("name", "avail"), ["1"]);
}

#[tokio::test]
async fn failure_create_existing_host_answers_2302() {
    let (server, mut c) = registry().await;
    assert_ok(&mut c, &host_create("ns1.example.net", &[])).await;
    assert_code(&mut c, &host_create("ns1.example.net", &[]), 2302).await;
    assert_code(&mut c, &host_create("NS1.EXAMPLE.NET", &[]), 2302).await;
    let mut other = server.login("reg2").await;
    assert_code(&mut other, &host_create("ns1.example.net", &[]), 2302).await;
}

#[tokio::test]
async fn failure_create_with_a_bad_name_answers_2005() {
    let (_server, mut c) = registry().await;
    for name in [
        "-ns.example.net",
        "ns_1.example.net",
        "ns..example.net",
        "localhost",
    ] {
        assert_code(&mut c, &host_create(name, &[]), 2005).await;
    }
}

#[tokio::test]
async fn failure_create_with_an_ipv4_address_marked_v6_answers_2005() {
    let (_server, mut c) = registry().await;
    let body = format!(
        r#"<create><host:create xmlns:host="{HOST_NS}"><host:name>ns1.exemple.ma</host:name><host:addr ip="v6">192.0.2.1</host:addr></host:create></create>"#
    );
    assert_code(&mut c, &body, 2005).await;
    let r = assert_ok(&mut c, &check("host", &["ns1.exemple.ma"])).await;
    assert_eq!(r.attrs("name", "avail"), ["1"]);
}

// ----- info -----

#[tokio::test]
async fn success_info_shows_the_addresses() {
    let (_server, mut c) = registry().await;
    assert_ok(
        &mut c,
        &host_create("ns1.exemple.ma", &["192.0.2.1", "2001:db8::53"]),
    )
    .await;
    let r = assert_ok(&mut c, &host_info("ns1.exemple.ma")).await;
    assert_eq!(r.text("name").as_deref(), Some("ns1.exemple.ma"));
    assert!(r.text("roid").is_some_and(|roid| !roid.is_empty()));
    assert_eq!(r.attrs("status", "s"), ["ok"]);
    assert_eq!(r.texts("addr"), ["192.0.2.1", "2001:db8::53"]);
    assert_eq!(r.attrs("addr", "ip"), ["v4", "v6"]);
    assert_eq!(r.text("clID").as_deref(), Some("reg1"));
    assert_eq!(r.text("crID").as_deref(), Some("reg1"));
}

#[tokio::test]
async fn success_info_is_open_to_other_registrars() {
    let (server, mut c) = registry().await;
    assert_ok(&mut c, &host_create("ns1.example.net", &[])).await;
    let mut other = server.login("reg2").await;
    let r = assert_ok(&mut other, &host_info("ns1.example.net")).await;
    assert_eq!(r.text("clID").as_deref(), Some("reg1"));
    assert!(r.texts("addr").is_empty());
}

#[tokio::test]
async fn success_info_status_is_linked_after_a_domain_delegates_to_the_host() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &host_create("ns1.example.net", &[])).await;
    let before = assert_ok(&mut c, &host_info("ns1.example.net")).await;
    assert_eq!(before.attrs("status", "s"), ["ok"]);

    let body = domain_create_full("delegue.ma", "cnt-1", "", &["ns1.example.net"]);
    assert_ok(&mut c, &body).await;
    let after = assert_ok(&mut c, &host_info("ns1.example.net")).await;
    assert!(
        after.attrs("status", "s").contains(&"linked".to_owned()),
        "{}",
        after.xml
    );
}

#[tokio::test]
async fn failure_info_of_an_unknown_host_answers_2303() {
    let (_server, mut c) = registry().await;
    assert_code(&mut c, &host_info("ns9.example.net"), 2303).await;
}
