//! R16: the public WHOIS over TCP shows the charter's fields for a domain,
//! a clear answer for free, reserved and blocked names, never an authInfo,
//! rate-limits each client address, and caps the connections it holds.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
    let mut server = TestServer::start_with(|s| s.whois.query_timeout_secs = 60, None).await;
    let mut stalled = tokio::net::TcpStream::connect(server.whois_addr())
        .await
        .unwrap();
    // Half a query, and then nothing: the server waits for the line.
    stalled.write_all(b"exam").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    server.stop().await;
    // The server closed it while stopping, well before its 60 s read limit.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stalled.read_to_end(&mut rest),
    )
    .await;
    assert!(matches!(read, Ok(Ok(0))), "{read:?}");
}

/// A WHOIS connection from the loopback address `source` (127.0.0.x: every
/// one of them reaches the listener on 127.0.0.1).
async fn connect_from(server: &TestServer, source: [u8; 4]) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap();
    socket.connect(server.whois_addr()).await.unwrap()
}

/// Everything the server sends until it closes the connection; the 20 s
/// are only a guard against a hang.
async fn until_closed(tcp: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn r16_connections_over_the_caps_are_closed_at_once_and_epp_goes_on() {
    let server = TestServer::start_with(
        |s| {
            s.whois.max_connections = 8;
            s.whois.max_connections_per_address = 4;
            // The idle connections below outlive the test, unless capped.
            s.whois.query_timeout_secs = 120;
        },
        None,
    )
    .await;
    // One address fills its cap with idle connections; the next one from
    // it is refused at once, with one line, though it sent nothing. The
    // listener takes connections in the order they were made.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect_from(&server, [127, 0, 0, 1]).await);
    }
    let mut over_address = connect_from(&server, [127, 0, 0, 1]).await;
    let refusal = until_closed(&mut over_address).await;
    assert_eq!(refusal, "% too many connections\r\n");
    // Another address fills the global cap of 8; a third address is refused.
    for _ in 0..4 {
        held.push(connect_from(&server, [127, 0, 0, 2]).await);
    }
    let mut over_all = connect_from(&server, [127, 0, 0, 3]).await;
    assert_eq!(
        until_closed(&mut over_all).await,
        "% too many connections\r\n"
    );

    // EPP is served meanwhile.
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(&check("domain", &["libre.ma"]), "w-cap"))
        .await;
    assert_eq!(r.code(), 1000);

    // The connections within the caps still get their answers.
    for mut tcp in held {
        tcp.write_all(b"libre.ma\r\n").await.unwrap();
        let answer = until_closed(&mut tcp).await;
        assert!(answer.contains("No match for libre.ma"), "{answer}");
    }
    // Their places are given back once they are closed (the server may
    // take a moment to notice: retried, under the guard).
    let again = async {
        loop {
            let mut tcp = connect_from(&server, [127, 0, 0, 3]).await;
            let _ = tcp.write_all(b"libre.ma\r\n").await;
            let mut out = String::new();
            let _ = tcp.read_to_string(&mut out).await;
            if out.contains("No match for libre.ma") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert!(
        tokio::time::timeout(Duration::from_secs(20), again)
            .await
            .is_ok(),
        "no WHOIS connection accepted after the others closed"
    );
}
