//! R16: the public WHOIS over TCP shows the charter's fields for a domain,
//! a clear answer for free, reserved and blocked names, never an authInfo,
//! and rate-limits each client address.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::*;

async fn whois(server: &TestServer, query: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(server.whois_addr())
        .await
        .unwrap();
    tcp.write_all(format!("{query}\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.unwrap();
    out
}

async fn registered(server: &TestServer) {
    let mut c = server.login("reg1").await;
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "w-c"))
            .await
            .code(),
        1000
    );
    assert_eq!(
        c.cmd(&command(&host_create("ns1.exemple.ma", &[]), "w-h0"))
            .await
            .code(),
        2003
    );
    let create = domain_create("exemple.ma", "cnt-1", "");
    assert_eq!(c.cmd(&command(&create, "w-d")).await.code(), 1000);
    assert_eq!(
        c.cmd(&command(
            &host_create("ns1.exemple.ma", &["192.0.2.53", "2001:db8::53"]),
            "w-h"
        ))
        .await
        .code(),
        1000
    );
    let upd = r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name><domain:add><domain:ns><domain:hostObj>ns1.exemple.ma</domain:hostObj></domain:ns></domain:add></domain:update></update>"#;
    assert_eq!(c.cmd(&command(upd, "w-u")).await.code(), 1000);
}

#[tokio::test]
async fn r16_domain_shows_the_charter_fields_and_never_the_auth_info() {
    let server = TestServer::start().await;
    registered(&server).await;
    let out = whois(&server, "EXEMPLE.MA").await;
    for field in [
        "Domain Name:          exemple.ma",
        "Creation Date:",
        "Updated Date:",
        "Expiry Date:",
        "Status:",
        "Registrar:            Registrar reg1 (reg1)",
        "Registrant:           Société Atlas",
        "Admin Name:           Fatima Zahra El Idrissi",
        "Admin Phone:          +212.537123456",
        "Admin Email:          fz@example.ma",
        "Tech Name:",
        "Name Server:          ns1.exemple.ma 192.0.2.53 2001:db8::53",
    ] {
        assert!(out.contains(field), "missing {field:?} in\n{out}");
    }
    assert!(!out.contains("Dom-Auth-2024") && !out.to_lowercase().contains("authinfo:"));
}

#[tokio::test]
async fn r16_free_reserved_blocked_and_unicode_queries() {
    let server = TestServer::start().await;
    registered(&server).await;
    assert!(
        whois(&server, "libre.ma")
            .await
            .contains("No match for libre.ma")
    );
    assert!(whois(&server, "rabat.ma").await.contains("reserved"));
    assert!(
        whois(&server, "www.exemple.ma")
            .await
            .contains("not a registrable")
    );
    let mut c = server.login("reg1").await;
    let create = domain_create("café.ma", "cnt-1", "");
    assert_eq!(c.cmd(&command(&create, "w-idn")).await.code(), 1000);
    let by_unicode = whois(&server, "café.ma").await;
    assert!(
        by_unicode.contains("Domain Name:          xn--caf-dma.ma"),
        "{by_unicode}"
    );
    assert!(by_unicode.contains("café.ma"));
    assert!(
        whois(&server, "xn--caf-dma.ma")
            .await
            .contains("Domain Name:")
    );
}

#[tokio::test]
async fn r16_a_contact_that_withholds_phone_and_email_is_honoured() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let private = contact_create("cnt-p", "MA").replace(
        "</contact:authInfo>",
        r#"</contact:authInfo><contact:disclose flag="0"><contact:voice/><contact:email/></contact:disclose>"#,
    );
    assert_eq!(c.cmd(&command(&private, "w-p")).await.code(), 1000);
    assert_eq!(
        c.cmd(&command(&domain_create("prive.ma", "cnt-p", ""), "w-pd"))
            .await
            .code(),
        1000
    );
    let out = whois(&server, "prive.ma").await;
    assert!(
        out.contains("Admin Email:          (not disclosed"),
        "{out}"
    );
    assert!(!out.contains("fz@example.ma"));
    assert!(out.contains("Admin Name:           Fatima Zahra El Idrissi"));
}

#[tokio::test]
async fn r16_each_address_is_rate_limited() {
    let server = TestServer::start_with(|s| s.whois.queries_per_minute = 3, None).await;
    for _ in 0..3 {
        assert!(whois(&server, "libre.ma").await.contains("No match"));
    }
    assert!(
        whois(&server, "libre.ma")
            .await
            .contains("Rate limit exceeded")
    );
}

#[tokio::test]
async fn success_shutdown_closes_a_stalled_whois_connection() {
    let mut server = TestServer::start().await;
    let mut stalled = tokio::net::TcpStream::connect(server.whois_addr())
        .await
        .unwrap();
    // Half a query, and then nothing: the server waits for the line.
    stalled.write_all(b"exam").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    server.stop().await;
    // The server closed it while stopping, well before its 10 s read limit.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stalled.read_to_end(&mut rest),
    )
    .await;
    assert!(matches!(read, Ok(Ok(0))), "{read:?}");
}
