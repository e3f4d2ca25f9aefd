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

/// The crypto provider used by every TLS configuration of the process:
/// aws-lc-rs, its cipher suites on SHA-256 first. AES-128-GCM with SHA-256
/// is as safe as AES-256-GCM with SHA-384 for TLS, and cheaper to set up:
/// the key schedule's hashes run on the CPU's SHA-256 instructions, which
/// SHA-384 has none of (about a tenth of a handshake's CPU time).
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.cipher_suites.sort_by_key(|suite| {
        matches!(
            suite.suite(),
            rustls::CipherSuite::TLS13_AES_256_GCM_SHA384
                | rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
                | rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
        )
    });
    Arc::new(provider)
}

/// How long a client certificate chain once verified is trusted without
/// building it again (the handshake's own signature is checked every time).
const CHAIN_TRUSTED_FOR: Duration = Duration::from_secs(300);
/// Chains remembered at most; the memory is emptied when it is full.
const CHAINS_REMEMBERED: usize = 16_384;

/// The client certificate verifier: webpki's, remembering the chains it
/// verified for a few minutes. A registrar opens its sessions with the
/// same certificate again and again, and building and checking its chain
/// against the CA (an ECDSA verification and the parsing) is about a
/// sixth of a full handshake's CPU time. A chain is remembered by the
/// SHA-256 of its certificates, until `CHAIN_TRUSTED_FOR` has passed or
/// the certificate expires, whichever comes first. The proof of the key
/// (CertificateVerify) is checked in every handshake.
#[derive(Debug)]
struct RememberingVerifier {
    inner: Arc<dyn rustls::server::danger::ClientCertVerifier>,
    verified: std::sync::Mutex<std::collections::HashMap<[u8; 32], u64>>,
}

impl RememberingVerifier {
    fn chain_key(
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
    ) -> [u8; 32] {
        let mut h = Sha256::new();
        for cert in std::iter::once(end_entity).chain(intermediates) {
            h.update((cert.len() as u64).to_be_bytes());
            h.update(cert.as_ref());
        }
        h.finalize().into()
    }
}

impl rustls::server::danger::ClientCertVerifier for RememberingVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        let key = Self::chain_key(end_entity, intermediates);
        let at = now.as_secs();
        let remembered = self
            .verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .copied();
        if remembered.is_some_and(|until| at < until) {
            return Ok(rustls::server::danger::ClientCertVerified::assertion());
        }
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        let expires = crate::flows::login_security::certificate_expiry(end_entity.as_ref())
            .and_then(|t| u64::try_from(t.timestamp()).ok())
            .unwrap_or(0);
        let until = expires.min(at.saturating_add(CHAIN_TRUSTED_FOR.as_secs()));
        let mut verified_chains = self
            .verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if verified_chains.len() >= CHAINS_REMEMBERED {
            verified_chains.clear();
        }
        verified_chains.insert(key, until);
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
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
    let verifier = Arc::new(RememberingVerifier {
        inner: verifier,
        verified: std::sync::Mutex::new(std::collections::HashMap::new()),
    });
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)?;
    // The server's order of cipher suites (SHA-256 first), not the client's.
    config.ignore_client_order = true;
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
    use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};

    /// A verifier that accepts every chain and counts the verifications.
    #[derive(Debug, Default)]
    struct Counting(std::sync::atomic::AtomicU32);

    impl ClientCertVerifier for Counting {
        fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
            &[]
        }
        fn verify_client_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: rustls::pki_types::UnixTime,
        ) -> Result<ClientCertVerified, rustls::Error> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if end_entity.as_ref() == b"bad" {
                return Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::BadSignature,
                ));
            }
            Ok(ClientCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Err(rustls::Error::General("not in this test".into()))
        }
        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Err(rustls::Error::General("not in this test".into()))
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            Vec::new()
        }
    }

    fn certificate(expires_in_secs: i64) -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::new(vec!["reg.example".into()]).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        params.not_after = rcgen::date_time_ymd(1970, 1, 1)
            + now
            + Duration::from_secs(u64::try_from(expires_in_secs).unwrap());
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    fn now_plus(secs: u64) -> rustls::pki_types::UnixTime {
        rustls::pki_types::UnixTime::since_unix_epoch(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                + Duration::from_secs(secs),
        )
    }

    #[test]
    fn a_verified_chain_is_remembered_five_minutes_or_until_it_expires() {
        let inner = Arc::new(Counting::default());
        let verifier = RememberingVerifier {
            inner: inner.clone(),
            verified: std::sync::Mutex::new(std::collections::HashMap::new()),
        };
        let calls = || inner.0.load(std::sync::atomic::Ordering::SeqCst);
        let cert = certificate(86_400);
        verifier
            .verify_client_cert(&cert, &[], now_plus(0))
            .unwrap();
        verifier
            .verify_client_cert(&cert, &[], now_plus(10))
            .unwrap();
        assert_eq!(calls(), 1, "the second handshake reuses the verification");
        verifier
            .verify_client_cert(&cert, &[], now_plus(301))
            .unwrap();
        assert_eq!(calls(), 2, "after five minutes the chain is verified again");
        // Another intermediate: another chain.
        verifier
            .verify_client_cert(&cert, std::slice::from_ref(&cert), now_plus(302))
            .unwrap();
        assert_eq!(calls(), 3);
        // A certificate that expires in a minute is trusted a minute.
        let short = certificate(60);
        verifier
            .verify_client_cert(&short, &[], now_plus(0))
            .unwrap();
        verifier
            .verify_client_cert(&short, &[], now_plus(30))
            .unwrap();
        assert_eq!(calls(), 4);
        verifier
            .verify_client_cert(&short, &[], now_plus(90))
            .unwrap();
        assert_eq!(calls(), 5);
        // A refused chain is refused every time.
        let bad = CertificateDer::from(b"bad".to_vec());
        assert!(verifier.verify_client_cert(&bad, &[], now_plus(0)).is_err());
        assert!(verifier.verify_client_cert(&bad, &[], now_plus(1)).is_err());
        assert_eq!(calls(), 7);
    }

    #[test]
    fn sha256_cipher_suites_come_first() {
        let provider = crypto_provider();
        let tls13: Vec<_> = provider
            .cipher_suites
            .iter()
            .filter(|s| s.version() == &rustls::version::TLS13)
            .map(|s| s.suite())
            .collect();
        assert_eq!(tls13[0], rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
        assert_eq!(
            tls13.last(),
            Some(&rustls::CipherSuite::TLS13_AES_256_GCM_SHA384)
        );
    }

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
