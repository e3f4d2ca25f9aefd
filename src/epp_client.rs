//! The client side of EPP over TLS, shared by `client` and `bench`: the TLS
//! configuration with a registrar's certificate, a connection that reads
//! the greeting and exchanges RFC 5734 frames, the XML writer for commands,
//! the standard login and logout, and the result code of a response.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use crate::transport::{self, FrameError, TlsSetupError, crypto_provider};
use crate::xml::ns;

/// Why a client could not be set up or a frame not exchanged.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A certificate file could not be used.
    #[error("{0}")]
    Certificates(#[from] TlsSetupError),
    /// The private key file could not be read.
    #[error("cannot read {path}: {detail}")]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The name to verify the server certificate against is not a DNS name
    /// or an IP address.
    #[error("invalid server name {0:?}")]
    ServerName(String),
    /// The TCP connection failed.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS handshake failed.
    #[error("TLS handshake failed: {0}")]
    Handshake(std::io::Error),
    /// A frame could not be sent.
    #[error("cannot send a frame: {0}")]
    Write(std::io::Error),
    /// A frame could not be received.
    #[error("cannot receive a frame: {0}")]
    Read(#[from] FrameError),
    /// The server closed the connection between frames.
    #[error("the server closed the connection")]
    Closed,
}

impl ClientError {
    /// A short, stable label for counting failures by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientError::Certificates(_)
            | ClientError::Key { .. }
            | ClientError::Rustls(_)
            | ClientError::ServerName(_) => "setup",
            ClientError::Connect { .. } => "connect",
            ClientError::Handshake(_) => "handshake",
            ClientError::Write(e) if e.kind() == std::io::ErrorKind::TimedOut => "timeout",
            ClientError::Write(_) => "io",
            ClientError::Read(FrameError::Idle | FrameError::Slow) => "timeout",
            ClientError::Read(_) => "io",
            ClientError::Closed => "closed",
        }
    }
}

/// A TLS client configuration that trusts the CAs of `ca` and presents the
/// certificate chain `cert` with its private key `key`.
///
/// # Errors
/// Unreadable or unusable files.
pub fn tls_config(ca: &Path, cert: &Path, key: &Path) -> Result<ClientConfig, ClientError> {
    let mut roots = RootCertStore::empty();
    for ca in transport::load_certs(ca)? {
        roots.add(ca)?;
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| ClientError::Key {
        path: key.to_path_buf(),
        detail: e.to_string(),
    })?;
    Ok(ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(transport::load_certs(cert)?, key_der)?)
}

/// The name a server certificate is verified against: a DNS name or an IP
/// address.
///
/// # Errors
/// [`ClientError::ServerName`] for anything else.
pub fn server_name(name: &str) -> Result<ServerName<'static>, ClientError> {
    ServerName::try_from(name.trim_matches(['[', ']']).to_owned())
        .map_err(|_| ClientError::ServerName(name.to_owned()))
}

/// An EPP connection: TLS over TCP, the greeting read.
pub struct Connection {
    tls: TlsStream<TcpStream>,
    buf: Vec<u8>,
    timeout: Duration,
}

impl Connection {
    /// Connects to `addr` (`host:port`), completes the TLS handshake
    /// verifying the server as `name`, and reads the greeting (kept until
    /// the next frame is received). `timeout` bounds the connection, the
    /// handshake, and each frame sent or received.
    ///
    /// # Errors
    /// [`ClientError`]: connection, handshake or greeting.
    pub async fn open(
        addr: &str,
        name: ServerName<'static>,
        config: Arc<ClientConfig>,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let connect_failed = |source| ClientError::Connect {
            addr: addr.to_owned(),
            source,
        };
        let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| {
                connect_failed(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connection timed out",
                ))
            })?
            .map_err(connect_failed)?;
        // Commands are small and answered one at a time: never hold one back.
        let _ = tcp.set_nodelay(true);
        let tls = tokio::time::timeout(timeout, TlsConnector::from(config).connect(name, tcp))
            .await
            .map_err(|_| {
                ClientError::Handshake(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "handshake timed out",
                ))
            })?
            .map_err(ClientError::Handshake)?;
        let mut conn = Self {
            tls,
            buf: Vec::new(),
            timeout,
        };
        conn.receive().await?;
        Ok(conn)
    }

    /// The last frame received (the greeting right after [`Connection::open`]).
    pub fn last(&self) -> &[u8] {
        &self.buf
    }

    /// Receives one frame.
    ///
    /// # Errors
    /// [`ClientError::Closed`] when the server closed the connection, else
    /// the frame error.
    pub async fn receive(&mut self) -> Result<&[u8], ClientError> {
        let t = self.timeout;
        if !transport::read_frame(&mut self.tls, &mut self.buf, 16 << 20, t, t).await? {
            return Err(ClientError::Closed);
        }
        Ok(&self.buf)
    }

    /// Sends one frame and receives the response.
    ///
    /// # Errors
    /// [`ClientError`] when either fails.
    pub async fn transact(&mut self, xml: &[u8]) -> Result<&[u8], ClientError> {
        transport::write_frame(&mut self.tls, xml, self.timeout)
            .await
            .map_err(ClientError::Write)?;
        self.receive().await
    }
}

/// The code of the first `<result>` of a response, if it has one.
pub fn result_code(response: &[u8]) -> Option<u16> {
    const MARK: &[u8] = b"code=\"";
    let at = response.windows(MARK.len()).position(|w| w == MARK)? + MARK.len();
    let digits = response.get(at..at + 4)?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Writes an EPP document element by element, escaping text and attributes.
pub struct Xml(Writer<Vec<u8>>);

impl Xml {
    /// A document indented for people to read, the XML declaration written.
    pub fn new() -> Self {
        Self::start(Writer::new_with_indent(Vec::new(), b' ', 2))
    }

    /// A document on one line, the XML declaration written.
    pub fn compact() -> Self {
        Self::start(Writer::new(Vec::new()))
    }

    fn start(writer: Writer<Vec<u8>>) -> Self {
        let mut x = Self(writer);
        x.ev(Event::Decl(BytesDecl::new(
            "1.0",
            Some("UTF-8"),
            Some("no"),
        )));
        x
    }

    fn ev(&mut self, e: Event<'_>) {
        // Writing into a Vec cannot fail.
        let _ = self.0.write_event(e);
    }

    /// Opens an element.
    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.ev(Event::Start(
            BytesStart::new(name).with_attributes(attrs.iter().copied()),
        ));
        self
    }

    /// Closes an element.
    pub fn close(&mut self, name: &str) -> &mut Self {
        self.ev(Event::End(BytesEnd::new(name)));
        self
    }

    /// An element with text content.
    pub fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> &mut Self {
        self.open(name, attrs);
        self.ev(Event::Text(BytesText::new(text)));
        self.close(name)
    }

    /// Markup written as it is, unescaped (a fragment supplied by the user).
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.ev(Event::Text(BytesText::from_escaped(markup)));
        self
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0.into_inner()
    }

    /// `<epp><command>BODY<clTRID>…</clTRID></command></epp>` in this writer.
    pub fn command(mut self, body: impl FnOnce(&mut Xml), cl_trid: &str) -> Vec<u8> {
        self.open("epp", &[("xmlns", ns::EPP)]).open("command", &[]);
        body(&mut self);
        self.leaf("clTRID", &[], cl_trid)
            .close("command")
            .close("epp");
        self.into_bytes()
    }
}

impl Default for Xml {
    fn default() -> Self {
        Self::new()
    }
}

/// A client transaction id unique across sessions, runs and machines (a
/// peer registry may keep clTRIDs under a unique key): `KIND-TAG-SEQ`, the
/// tag drawn at random once per process, the sequence counting within it.
pub fn unique_cl_trid(kind: &str) -> String {
    use rand::Rng as _;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static RUN: OnceLock<String> = OnceLock::new();
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let run = RUN.get_or_init(|| {
        let mut rng = rand::thread_rng();
        (0..10)
            .map(|_| char::from(rng.sample(rand::distributions::Alphanumeric)))
            .collect()
    });
    let seq = SEQ.fetch_add(1, Ordering::Relaxed) + 1;
    format!("{kind}-{run}-{seq}")
}

/// A standard login: version 1.0, the domain, contact and host object
/// services (RFC 5731–5733, which any EPP registry serves), and the
/// extension URIs given. A password longer than the 16 characters of
/// `<pw>` goes in `<loginSec:pw>` (RFC 8807), with the login security
/// extension selected.
pub fn login_xml(clid: &str, password: &str, lang: &str, ext_uris: &[String]) -> Vec<u8> {
    const PLACEHOLDER: &str = "[LOGIN-SECURITY]";
    let long = password.chars().count() > 16;
    Xml::new().command(
        |x| {
            x.open("login", &[])
                .leaf("clID", &[], clid)
                .leaf("pw", &[], if long { PLACEHOLDER } else { password })
                .open("options", &[])
                .leaf("version", &[], "1.0")
                .leaf("lang", &[], lang)
                .close("options")
                .open("svcs", &[]);
            for uri in [ns::DOMAIN, ns::CONTACT, ns::HOST] {
                x.leaf("objURI", &[], uri);
            }
            let login_sec_listed = ext_uris.iter().any(|u| u == ns::LOGIN_SEC);
            if !ext_uris.is_empty() || long {
                x.open("svcExtension", &[]);
                for uri in ext_uris {
                    x.leaf("extURI", &[], uri);
                }
                if long && !login_sec_listed {
                    x.leaf("extURI", &[], ns::LOGIN_SEC);
                }
                x.close("svcExtension");
            }
            x.close("svcs").close("login");
            if long {
                x.open("extension", &[])
                    .open("loginSec:loginSec", &[("xmlns:loginSec", ns::LOGIN_SEC)])
                    .leaf("loginSec:pw", &[], password)
                    .close("loginSec:loginSec")
                    .close("extension");
            }
        },
        &unique_cl_trid("login"),
    )
}

/// A logout.
pub fn logout_xml() -> Vec<u8> {
    Xml::new().command(
        |x| {
            x.open("logout", &[]).close("logout");
        },
        &unique_cl_trid("logout"),
    )
}

/// A random password of 16 characters with lower case, upper case and
/// digits, and maybe signs: what RFC 9154 authInfo policies ask for.
pub fn random_password() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut pick = |chars: &[u8]| chars[rng.gen_range(0..chars.len())] as char;
    let mut pw = String::with_capacity(16);
    pw.push(pick(b"abcdefghijkmnopqrstuvwxyz"));
    pw.push(pick(b"ABCDEFGHJKLMNPQRSTUVWXYZ"));
    pw.push(pick(b"23456789"));
    for _ in 0..13 {
        pw.push(pick(
            b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!+-",
        ));
    }
    pw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_codes_are_read_from_the_first_result() {
        let r = br#"<epp><response><result code="2303"><msg>x</msg></result><result code="1000"/></response></epp>"#;
        assert_eq!(result_code(r), Some(2303));
        assert_eq!(result_code(b"<epp><greeting/></epp>"), None);
        assert_eq!(result_code(br#"<result code="12"#), None);
    }

    #[test]
    fn login_lists_the_object_services_and_the_extensions_asked_for() {
        let plain = String::from_utf8(login_xml("r1", "p&w", "en", &[])).unwrap();
        assert!(plain.contains("<pw>p&amp;w</pw>"));
        assert!(plain.contains(ns::CONTACT) && !plain.contains("svcExtension"));
        let ext = String::from_utf8(login_xml("r1", "pw", "fr", &[ns::MA.to_owned()])).unwrap();
        assert!(ext.contains(&format!("<extURI>{}</extURI>", ns::MA)));
        assert!(
            !ext.contains(ns::QUOTA),
            "only the standard object services"
        );
    }

    #[test]
    fn a_long_password_travels_in_login_security() {
        let xml =
            String::from_utf8(login_xml("r1", "a passphrase of many words", "en", &[])).unwrap();
        assert!(xml.contains("<pw>[LOGIN-SECURITY]</pw>"), "{xml}");
        assert!(
            xml.contains(&format!("<extURI>{}</extURI>", ns::LOGIN_SEC)),
            "{xml}"
        );
        assert!(
            xml.contains("<loginSec:pw>a passphrase of many words</loginSec:pw>"),
            "{xml}"
        );
        // The extension comes after <login>, before the clTRID.
        let (login_end, ext) = (
            xml.find("</login>").unwrap(),
            xml.find("<extension>").unwrap(),
        );
        assert!(
            login_end < ext && ext < xml.find("<clTRID>").unwrap(),
            "{xml}"
        );
    }

    #[test]
    fn random_passwords_mix_three_classes() {
        for _ in 0..200 {
            let pw = random_password();
            assert_eq!(pw.len(), 16);
            assert!(pw.chars().any(|c| c.is_ascii_lowercase()));
            assert!(pw.chars().any(|c| c.is_ascii_uppercase()));
            assert!(pw.chars().any(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn raw_markup_is_kept_as_written() {
        let xml = Xml::compact().command(
            |x| {
                x.open("extension", &[]).raw("<a:b xmlns:a=\"u\">1</a:b>");
                x.close("extension");
            },
            "t",
        );
        let xml = String::from_utf8(xml).unwrap();
        assert!(xml.contains("<extension><a:b xmlns:a=\"u\">1</a:b></extension>"));
    }
}
