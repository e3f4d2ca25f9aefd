//! The TLS edge and RFC 5734 framing: the acceptor (TLS 1.2/1.3, client
//! certificates required), the client certificate's fingerprint, and frames
//! of a 4-byte length header read within a size limit and timeouts. Knows no XML.

use std::io::IoSlice;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};

use crate::config::TlsSettings;

/// A TLS setup that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A PEM file could not be read.
    #[error("cannot read {path}: {detail}")]
    Pem {
        /// The file.
        path: String,
        /// Why.
        detail: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client CA cannot verify certificates.
    #[error("client CA: {0}")]
    Verifier(String),
}

fn pem_err(path: &Path, e: impl std::fmt::Display) -> TlsSetupError {
    TlsSetupError::Pem {
        path: path.display().to_string(),
        detail: e.to_string(),
    }
}

/// TLS sessions the server remembers for resumption by session id.
const SESSION_CACHE: usize = 16_384;

/// The crypto provider used by every TLS configuration of the process.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Reads every certificate of a PEM file.
///
/// # Errors
/// An unreadable file or one without certificates.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_err(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_err(path, e))?;
    if certs.is_empty() {
        return Err(pem_err(path, "no certificate found"));
    }
    Ok(certs)
}

/// Builds the EPP TLS acceptor: TLS 1.2 and 1.3 only, and a client
/// certificate issued by the configured CA required.
///
/// # Errors
/// Unreadable or inconsistent files.
pub fn acceptor(tls: &TlsSettings) -> Result<TlsAcceptor, TlsSetupError> {
    let certs = load_certs(&tls.cert)?;
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| pem_err(&tls.key, e))?;
    let mut roots = RootCertStore::empty();
    for ca in load_certs(&tls.client_ca)? {
        roots.add(ca)?;
    }
    let provider = crypto_provider();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TlsSetupError::Verifier(e.to_string()))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)?;
    // Resumption: a registrar reconnecting (after a restart, in a login
    // storm) skips the full handshake. Stateless tickets (RFC 5077 keys,
    // rotated every 6 hours, in memory only) for TLS 1.2 and 1.3, and a
    // session cache large enough for every registrar's sessions instead of
    // rustls' 256. A resumed session keeps its client certificate, which
    // the login checks as always.
    config.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new()?;
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(SESSION_CACHE);
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// SHA-256 of a certificate's DER, lower-case hex: how a registrar's
/// certificate is recorded.
pub fn fingerprint(cert: &[u8]) -> String {
    hex::encode(Sha256::digest(cert))
}

/// Why no frame could be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The client was silent longer than the idle timeout.
    #[error("idle timeout")]
    Idle,
    /// A frame started but did not finish in time.
    #[error("frame read timeout")]
    Slow,
    /// The length header announces more than the limit.
    #[error("frame of {0} bytes exceeds the limit")]
    TooLarge(u32),
    /// The length header is smaller than the header itself plus one byte.
    #[error("invalid frame length {0}")]
    Invalid(u32),
    /// The connection ended inside a frame.
    #[error("connection closed mid-frame")]
    Truncated,
    /// Another I/O error.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads one RFC 5734 frame into `buf` (reused across frames). Returns
/// `Ok(false)` on a clean end of stream between frames.
///
/// # Errors
/// [`FrameError`]; the length is checked before anything is allocated.
pub async fn read_frame<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    max_frame: u32,
    idle: Duration,
    frame_timeout: Duration,
) -> Result<bool, FrameError> {
    let mut header = [0u8; 4];
    let first = match tokio::time::timeout(idle, stream.read(&mut header)).await {
        Err(_) => return Err(FrameError::Idle),
        Ok(Ok(0)) => return Ok(false),
        Ok(Ok(n)) => n,
        Ok(Err(e)) => return Err(e.into()),
    };
    let rest = async {
        stream.read_exact(&mut header[first..]).await?;
        let total = u32::from_be_bytes(header);
        if total > max_frame {
            return Err(FrameError::TooLarge(total));
        }
        if total <= 4 {
            return Err(FrameError::Invalid(total));
        }
        buf.clear();
        buf.resize((total - 4) as usize, 0);
        stream.read_exact(buf).await?;
        Ok(())
    };
    match tokio::time::timeout(frame_timeout, rest).await {
        Err(_) => Err(FrameError::Slow),
        Ok(Err(FrameError::Io(e))) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(FrameError::Truncated)
        }
        Ok(result) => result.map(|()| true),
    }
}

/// Writes one frame (header and payload) and flushes it. Header and
/// payload go out in one vectored write: over TLS one record, one TCP
/// segment for a small frame (two writes would cost two of each), and the
/// payload is not copied to put the header before it.
///
/// # Errors
/// I/O errors, or a timeout as [`std::io::ErrorKind::TimedOut`].
pub async fn write_frame<S: AsyncWrite + Unpin>(
    stream: &mut S,
    payload: &[u8],
    timeout: Duration,
) -> std::io::Result<()> {
    let total = u32::try_from(payload.len() + 4)
        .map_err(|_| std::io::Error::other("response larger than 4 GiB"))?;
    let header = total.to_be_bytes();
    let write = async {
        let mut parts = [IoSlice::new(&header), IoSlice::new(payload)];
        let mut left: &mut [IoSlice<'_>] = &mut parts;
        while !left.is_empty() {
            let n = stream.write_vectored(left).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            IoSlice::advance_slices(&mut left, n);
        }
        stream.flush().await
    };
    tokio::time::timeout(timeout, write)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "write timed out"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_limits_hold() {
        let (mut a, mut b) = tokio::io::duplex(1 << 16);
        write_frame(&mut a, b"<epp/>", Duration::from_secs(1))
            .await
            .unwrap();
        let mut buf = Vec::new();
        let s = Duration::from_secs(1);
        assert!(read_frame(&mut b, &mut buf, 1024, s, s).await.unwrap());
        assert_eq!(buf, b"<epp/>");
        a.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
        assert!(matches!(
            read_frame(&mut b, &mut buf, 1024, s, s).await,
            Err(FrameError::TooLarge(u32::MAX))
        ));
        a.write_all(&3u32.to_be_bytes()).await.unwrap();
        assert!(matches!(
            read_frame(&mut b, &mut buf, 1024, s, s).await,
            Err(FrameError::Invalid(3))
        ));
        a.write_all(&100u32.to_be_bytes()).await.unwrap();
        a.write_all(b"short").await.unwrap();
        drop(a);
        assert!(matches!(
            read_frame(&mut b, &mut buf, 1024, s, s).await,
            Err(FrameError::Truncated)
        ));
    }

    /// Counts the writes it is given.
    #[derive(Default)]
    struct Writes(Vec<Vec<u8>>);

    impl AsyncWrite for Writes {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            self.0.push(buf.to_vec());
            std::task::Poll::Ready(Ok(buf.len()))
        }
        fn poll_write_vectored(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let joined: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            let n = joined.len();
            self.0.push(joined);
            std::task::Poll::Ready(Ok(n))
        }
        fn is_write_vectored(&self) -> bool {
            true
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_frame_is_one_write() {
        let mut w = Writes::default();
        write_frame(&mut w, b"<epp/>", Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(w.0, vec![b"\0\0\0\x0a<epp/>".to_vec()]);
    }

    #[tokio::test]
    async fn a_stalled_frame_times_out() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        a.write_all(&100u32.to_be_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let r = read_frame(
            &mut b,
            &mut buf,
            1024,
            Duration::from_secs(5),
            Duration::from_millis(50),
        )
        .await;
        assert!(matches!(r, Err(FrameError::Slow)));
        drop(a);
    }
}
