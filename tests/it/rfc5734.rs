//! RFC 5734 transport: framing, size limits, timeouts and hostile input.
//! After each attack the server still serves other sessions.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::harness::*;

async fn still_serving(server: &TestServer) {
    let mut c = server.login("reg2").await;
    let r = c
        .cmd(&command(&check("domain", &["exemple.ma"]), "alive-001"))
        .await;
    assert_eq!(r.code(), 1000);
}

#[tokio::test]
async fn failure_oversized_length_header_gets_2500_and_close() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    // A 4 GB length header.
    c.write_raw(&u32::MAX.to_be_bytes()).await;
    let r = c.recv().await.expect("an error response before closing");
    assert_eq!(r.code(), 2500);
    assert!(r.reason().unwrap().contains("exceeds the limit"));
    assert!(c.is_closed().await);
    still_serving(&server).await;
}

#[tokio::test]
async fn failure_frame_over_configured_limit() {
    let server = TestServer::start_with(|s| s.limits.max_frame_bytes = 1024, None).await;
    let mut c = server.login("reg1").await;
    let big = command(&check("domain", &vec!["exemple.ma"; 60]), "big-00001");
    assert!(big.len() > 1024);
    c.send(&big).await;
    let r = c.recv().await.unwrap();
    assert_eq!(r.code(), 2500);
    still_serving(&server).await;
}

#[tokio::test]
async fn failure_random_bytes() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let mut noise = Vec::new();
    let mut x: u32 = 0x1234_5678;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push((x & 0xff) as u8);
    }
    c.write_raw(&noise).await;
    // Whatever the header says, the server answers an error or closes; it never crashes.
    if let Some(r) = c.recv().await {
        assert!(r.code() >= 2000);
    }
    still_serving(&server).await;
}

#[tokio::test]
async fn failure_small_frame_of_garbage_is_2001_and_session_goes_on() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    c.send("\u{1}\u{2}garbage\u{7f}").await;
    assert_eq!(c.recv().await.unwrap().code(), 2001);
    let mut raw = 12u32.to_be_bytes().to_vec();
    raw.extend_from_slice(&[0xff, 0xfe, 0x00, 0x01, 0x80, 0x81, 0x82, 0x83]);
    c.write_raw(&raw).await;
    assert_eq!(c.recv().await.unwrap().code(), 2001);
    let r = c
        .cmd(&command(&check("domain", &["exemple.ma"]), "go-on-01"))
        .await;
    assert_eq!(r.code(), 1000);
}

#[tokio::test]
async fn failure_frame_cut_off_then_disconnect() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let xml = command(&check("domain", &["exemple.ma"]), "cut-00001");
    let mut raw = ((xml.len() + 4) as u32).to_be_bytes().to_vec();
    raw.extend_from_slice(&xml.as_bytes()[..xml.len() / 2]);
    c.write_raw(&raw).await;
    c.tls.shutdown().await.unwrap();
    drop(c);
    still_serving(&server).await;
}

#[tokio::test]
async fn failure_stalled_frame_times_out_and_closes() {
    let server = TestServer::start_with(|s| s.limits.frame_timeout_secs = 1, None).await;
    let mut c = server.login("reg1").await;
    c.write_raw(&200u32.to_be_bytes()).await;
    c.write_raw(b"<epp").await;
    let closed = tokio::time::timeout(Duration::from_secs(10), c.is_closed()).await;
    assert_eq!(closed, Ok(true));
    still_serving(&server).await;
}

#[tokio::test]
async fn failure_idle_session_is_closed() {
    let server = TestServer::start_with(|s| s.limits.idle_timeout_secs = 1, None).await;
    let mut c = server.login("reg1").await;
    let closed = tokio::time::timeout(Duration::from_secs(10), c.is_closed()).await;
    assert_eq!(closed, Ok(true));
}

#[tokio::test]
async fn success_frames_split_across_writes_are_reassembled() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let xml = command(&check("domain", &["exemple.ma"]), "split-001");
    let mut raw = ((xml.len() + 4) as u32).to_be_bytes().to_vec();
    raw.extend_from_slice(xml.as_bytes());
    for chunk in raw.chunks(7) {
        c.write_raw(chunk).await;
    }
    assert_eq!(c.recv().await.unwrap().code(), 1000);
}

#[tokio::test]
async fn failure_tls_without_client_certificate_is_refused() {
    use std::sync::Arc;
    use tokio_rustls::TlsConnector;
    use tokio_rustls::rustls::ClientConfig;
    use tokio_rustls::rustls::pki_types::ServerName;
    let server = TestServer::start().await;
    let config = ClientConfig::builder_with_provider(ma_registry::transport::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(server.root_store())
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await;
    // TLS 1.3 reports the refusal on first read; either way no greeting arrives.
    if let Ok(mut tls) = tls {
        let mut buf = Vec::new();
        let t = Duration::from_secs(5);
        let read = ma_registry::transport::read_frame(&mut tls, &mut buf, 65536, t, t).await;
        assert!(
            !matches!(read, Ok(true)),
            "a greeting was sent without a client certificate"
        );
    }
    still_serving(&server).await;
}

#[tokio::test]
async fn success_the_server_chooses_aes_128_gcm_sha256_whatever_the_client_prefers() {
    use std::sync::Arc;
    use tokio_rustls::rustls::{self, ClientConfig};
    let server = TestServer::start().await;
    let (certs, key) = server.identity("reg1");
    // rustls' own order puts AES-256-GCM with SHA-384 first.
    let client_default = rustls::crypto::aws_lc_rs::default_provider();
    assert_eq!(
        client_default.cipher_suites[0].suite(),
        rustls::CipherSuite::TLS13_AES_256_GCM_SHA384
    );
    let config = Arc::new(
        ClientConfig::builder_with_provider(Arc::new(client_default))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(server.root_store())
            .with_client_auth_cert(certs, key)
            .unwrap(),
    );
    // The same certificate twice: the second handshake finds its chain
    // verified already, and is served the same.
    for _ in 0..2 {
        let mut c = RawClient::connect(server.addr(), config.clone()).await;
        assert_eq!(
            c.tls
                .get_ref()
                .1
                .negotiated_cipher_suite()
                .map(|s| s.suite()),
            Some(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256)
        );
        let r = c.cmd(&login_xml("reg1", password("reg1"), "en")).await;
        assert_eq!(r.code(), 1000, "{}", r.xml);
    }
}

#[tokio::test]
async fn success_many_sessions_in_parallel() {
    let server = TestServer::start_with(|s| s.limits.default_session_limit = 20, None).await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let config = server.client_config("reg1");
        let addr = server.addr();
        tasks.push(tokio::spawn(async move {
            let mut c = RawClient::connect(addr, config).await;
            assert_eq!(
                c.cmd(&login_xml("reg1", password("reg1"), "en"))
                    .await
                    .code(),
                1000
            );
            for j in 0..5 {
                let r = c
                    .cmd(&command(
                        &check("domain", &["exemple.ma"]),
                        &format!("p{i}-{j}"),
                    ))
                    .await;
                assert_eq!(r.code(), 1000);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_500_stalled_connections_do_not_stall_a_normal_client() {
    // One address opens them all: lift its connection rate for this test.
    let server =
        TestServer::start_with(|s| s.limits.connections_per_second_per_address = 0, None).await;
    let addr = server.addr();
    let mut stalled = Vec::new();
    // 400 TCP connections that never start TLS, and 100 TLS sessions that
    // send half a frame header and then nothing.
    for _ in 0..400 {
        stalled.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let mut sessions = Vec::new();
    for i in 0..100 {
        let clid = ["reg1", "reg2", "reg3"][i % 3];
        let mut c = server.client(clid).await;
        c.write_raw(&[0, 0]).await;
        sessions.push(c);
    }
    // A normal client is served at once, and fully.
    let served = tokio::time::timeout(Duration::from_secs(10), async {
        let mut c = server.client("reg1").await;
        let r = c.cmd(&login_xml("reg1", password("reg1"), "en")).await;
        assert_eq!(r.code(), 1000, "{}", r.xml);
        for i in 0..20 {
            let r = c
                .cmd(&command(
                    &check("domain", &[&format!("libre-{i}.ma")]),
                    "slow-chk",
                ))
                .await;
            assert_eq!(r.code(), 1000);
        }
    })
    .await;
    assert!(served.is_ok(), "a normal client waited behind stalled ones");
    drop((stalled, sessions));
    still_serving(&server).await;
}
