//! Per-address guards: an address that opens connections faster than its
//! rate is closed before TLS; an address with too many failed logins is
//! refused (2501) even with the right password, until its window passes.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::harness::*;

#[tokio::test]
async fn an_address_over_its_connection_rate_is_closed_before_tls() {
    let server =
        TestServer::start_with(|s| s.limits.connections_per_second_per_address = 3, None).await;
    let connector = TlsConnector::from(server.client_config("reg1"));
    let mut greeted = 0;
    let mut refused = 0;
    // All the connections first (the kernel completes them at once), then
    // the handshakes: the burst reaches the server within a fraction of a
    // second however slow the handshakes are on this machine.
    let mut burst = Vec::new();
    for _ in 0..8 {
        burst.push(TcpStream::connect(server.addr()).await.unwrap());
    }
    for tcp in burst {
        let name = ServerName::try_from("localhost").unwrap();
        match tokio::time::timeout(Duration::from_secs(5), connector.connect(name, tcp)).await {
            Ok(Ok(_)) => greeted += 1,
            _ => refused += 1,
        }
    }
    assert!(greeted >= 3, "the first connections are served ({greeted})");
    assert!(
        refused >= 1,
        "the burst over the rate is refused ({refused})"
    );
}

#[tokio::test]
async fn an_address_with_too_many_failed_logins_is_locked_out() {
    let server = TestServer::start_with(|s| s.limits.login_failures_per_address = 2, None).await;
    for attempt in 0..2 {
        let mut c = server.client("reg1").await;
        let r = c
            .cmd(
                &login_xml("reg1", "wrong-password", "en")
                    .replace("login-reg1", &format!("bad-login-{attempt}")),
            )
            .await;
        assert_eq!(r.code(), 2200, "{}", r.xml);
    }
    let mut c = server.client("reg1").await;
    let r = c.cmd(&login_xml("reg1", password("reg1"), "en")).await;
    assert_eq!(
        r.code(),
        2501,
        "locked out even with the right password: {}",
        r.xml
    );
    assert!(c.is_closed().await);
}
