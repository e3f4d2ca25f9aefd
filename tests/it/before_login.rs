//! Connections that have not logged in: each has `limits.login_timeout_secs`
//! from its greeting to log in, and the server holds at most
//! `limits.max_unauthenticated_sessions` of them past the TLS handshake at
//! once; a connection over that cap is closed before its greeting, and
//! bare TCP connections that never start TLS take no place.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::harness::*;

const HELLO: &str =
    r#"<?xml version="1.0"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/></epp>"#;

/// Whether the server closes `c` (no frame, end of stream); 15 s is only a
/// guard against a hang, well below the idle timeout of 600 s.
async fn closed(c: &mut RawClient) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(15), c.recv()).await,
        Ok(None)
    )
}

/// Whether a new connection gets its greeting.
async fn greeted(server: &TestServer) -> bool {
    let attempt = async {
        let tcp = TcpStream::connect(server.addr()).await.unwrap();
        let connector = TlsConnector::from(server.client_config("reg1"));
        let name = ServerName::try_from("localhost").unwrap();
        let Ok(mut tls) = connector.connect(name, tcp).await else {
            return false;
        };
        let mut buf = Vec::new();
        let t = Duration::from_secs(15);
        matches!(
            ma_registry::transport::read_frame(&mut tls, &mut buf, 1 << 20, t, t).await,
            Ok(true)
        )
    };
    tokio::time::timeout(Duration::from_secs(20), attempt)
        .await
        .unwrap_or(false)
}

#[tokio::test]
async fn a_connection_that_does_not_log_in_in_time_is_closed() {
    let server = TestServer::start_with(|s| s.limits.login_timeout_secs = 1, None).await;
    let mut idle = server.client("reg1").await;
    assert!(
        closed(&mut idle).await,
        "still open after the login timeout"
    );
    // A failed login does not buy more time.
    let mut failing = server.client("reg1").await;
    let r = failing.cmd(&login_xml("reg1", "wrong-pass", "en")).await;
    assert_eq!(r.code(), 2200);
    assert!(
        closed(&mut failing).await,
        "still open after the login timeout"
    );
}

#[tokio::test]
async fn a_logged_in_session_outlives_the_login_timeout() {
    // The client logs in as soon as it has its greeting, well within 2 s.
    let server = TestServer::start_with(|s| s.limits.login_timeout_secs = 2, None).await;
    let mut c = server.login("reg1").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = c
        .cmd(&command(&check("domain", &["libre.ma"]), "bl-1"))
        .await;
    assert_eq!(r.code(), 1000);
}

#[tokio::test]
async fn connections_not_logged_in_are_capped_and_a_login_frees_a_place() {
    let server = TestServer::start_with(|s| s.limits.max_unauthenticated_sessions = 3, None).await;
    // Bare TCP connections that never start TLS take no place.
    let mut bare = Vec::new();
    for _ in 0..5 {
        bare.push(TcpStream::connect(server.addr()).await.unwrap());
    }
    let mut waiting = vec![
        server.client("reg1").await,
        server.client("reg1").await,
        server.client("reg1").await,
    ];
    assert!(!greeted(&server).await, "a 4th connection got a greeting");
    // The three are still served.
    for c in &mut waiting {
        c.send(HELLO).await;
        let greeting = c.recv().await.expect("the session was closed");
        assert!(greeting.xml.contains("<greeting>"), "{}", greeting.xml);
    }
    // One logs in: its place is free before its answer arrives.
    let r = waiting[0]
        .cmd(&login_xml("reg1", password("reg1"), "en"))
        .await;
    assert_eq!(r.code(), 1000);
    let mut next = server.client("reg1").await;
    let r = next.cmd(&login_xml("reg1", password("reg1"), "en")).await;
    assert_eq!(r.code(), 1000);
    // And another, once that one is logged in too.
    assert!(greeted(&server).await);
    drop(bare);
}
