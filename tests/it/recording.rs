//! instant-epp over a recording TLS connection: every byte the client reads
//! from the server is kept, so a test can split it back into RFC 5734 frames
//! and validate each one against `schemas/`.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use instant_epp::client::{Connector, EppClient};
use instant_epp::login::Login;
use instant_epp::response::ResultCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::harness::{TestServer, password, validate};

/// The bytes a recording client has read from the server.
pub type Received = Arc<Mutex<Vec<u8>>>;

/// A TLS stream that records every byte read from the server.
pub struct Recording {
    tls: TlsStream<TcpStream>,
    received: Received,
}

impl AsyncRead for Recording {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = Pin::new(&mut this.tls).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            this.received
                .lock()
                .unwrap()
                .extend_from_slice(&buf.filled()[before..]);
        }
        poll
    }
}

impl AsyncWrite for Recording {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tls).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_shutdown(cx)
    }
}

/// Connects over TLS with a test registrar's certificate and records what it reads.
pub struct RecordingConnector {
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    received: Received,
}

impl RecordingConnector {
    /// A connector to `server` presenting `clid`'s certificate, nothing recorded yet.
    pub fn new(server: &TestServer, clid: &str) -> Self {
        Self {
            addr: server.addr(),
            config: server.client_config(clid),
            received: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

#[async_trait]
impl Connector for RecordingConnector {
    type Connection = Recording;

    async fn connect(&self, timeout: Duration) -> Result<Recording, instant_epp::Error> {
        let connect = async {
            let tcp = TcpStream::connect(self.addr).await?;
            let name = ServerName::try_from("localhost").expect("a valid server name");
            TlsConnector::from(Arc::clone(&self.config))
                .connect(name, tcp)
                .await
        };
        let tls = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| instant_epp::Error::Timeout)??;
        Ok(Recording {
            tls,
            received: Arc::clone(&self.received),
        })
    }
}

/// Splits recorded bytes into RFC 5734 frames (a 4-byte big-endian length
/// that counts itself, then the XML).
pub fn frames(mut bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 4, "a truncated frame header: {bytes:?}");
        let len = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        assert!(
            (5..=bytes.len()).contains(&len),
            "frame length {len} with {} bytes left",
            bytes.len()
        );
        out.push(String::from_utf8(bytes[4..len].to_vec()).unwrap());
        bytes = &bytes[len..];
    }
    out
}

/// Validates every frame an instant-epp client received; returns them.
pub fn validate_received(received: &Mutex<Vec<u8>>) -> Vec<String> {
    let bytes = received.lock().unwrap().clone();
    let frames = frames(&bytes);
    for frame in &frames {
        validate(frame);
    }
    frames
}

/// An instant-epp client for `clid`, greeting read but not logged in, and
/// what it receives.
pub async fn client_for(
    server: &TestServer,
    clid: &str,
) -> (EppClient<RecordingConnector>, Received) {
    let connector = RecordingConnector::new(server, clid);
    let received = Arc::clone(&connector.received);
    let client = EppClient::new(connector, "ma-registry".into(), Duration::from_secs(20))
        .await
        .unwrap();
    (client, received)
}

/// An instant-epp client for `clid`, logged in with its password and the
/// extension URIs `ext_uris` (if any), and what it receives.
pub async fn logged_in_client(
    server: &TestServer,
    clid: &str,
    ext_uris: Option<&[&str]>,
) -> (EppClient<RecordingConnector>, Received) {
    let (mut client, received) = client_for(server, clid).await;
    let login = Login::new(clid, password(clid), None, ext_uris);
    let rsp = client.transact(&login, "inst-login").await.unwrap();
    assert_eq!(rsp.result.code, ResultCode::CommandCompletedSuccessfully);
    (client, received)
}
