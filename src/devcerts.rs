//! Development certificates: a private CA, a server certificate and registrar client certificates, made with rcgen. For development and tests only.
//!
//! The generated private keys are meant to be shared (they are committed under `certs/`
//! for local development), so nothing produced here must ever be used in production.
//!
//! All keys are Ed25519 (the cheapest safe handshakes), serialized as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
//! All certificates are valid from one day before generation to ten years after it.

use std::fs;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ED25519, SanType,
};

/// File names (inside the output directory) used for the CA and server material.
/// Registrar files are named `<clID>.pem` / `<clID>.key`.
const CA_CERT_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca.key";
const SERVER_CERT_FILE: &str = "server.pem";
const SERVER_KEY_FILE: &str = "server.key";

/// Maximum accepted length of a registrar clID used as a file name.
const MAX_CLID_LEN: usize = 64;

const ONE_DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A development PKI held in memory, every item PEM-encoded.
#[derive(Clone)]
pub struct DevPki {
    /// Self-signed CA certificate (PEM). Trust anchor for both the server and the registrar certificates.
    pub ca_cert_pem: String,
    /// CA private key (PKCS#8 PEM).
    pub ca_key_pem: String,
    /// Server certificate (PEM) for `localhost`, `127.0.0.1` and `::1`, signed by the CA, serverAuth EKU.
    pub server_cert_pem: String,
    /// Server private key (PKCS#8 PEM).
    pub server_key_pem: String,
    /// One entry per registrar, in the order requested: `(clID, client certificate PEM, private key PKCS#8 PEM)`.
    /// Each certificate has CN = clID, clientAuth EKU, and is signed by the CA.
    pub registrars: Vec<(String, String, String)>,
}

impl std::fmt::Debug for DevPki {
    // Keeps private keys out of logs and test failure output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevPki")
            .field("ca_cert_pem", &self.ca_cert_pem)
            .field("ca_key_pem", &"<redacted>")
            .field("server_cert_pem", &self.server_cert_pem)
            .field("server_key_pem", &"<redacted>")
            .field(
                "registrars",
                &self
                    .registrars
                    .iter()
                    .map(|(clid, _, _)| clid.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Errors from development certificate generation.
#[derive(Debug, thiserror::Error)]
pub enum DevCertError {
    /// rcgen failed to generate a key or to build/sign a certificate.
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// An I/O operation on `path` failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The output file already exists and overwriting was not requested.
    #[error("{} already exists (pass --force to overwrite)", .0.display())]
    AlreadyExists(PathBuf),
    /// A registrar clID cannot be used as a certificate subject / file name.
    #[error(
        "invalid registrar clID {0:?}: must be 1-64 ASCII letters, digits, '-', '_' or '.', not start with '.', be unique and not be \"ca\" or \"server\""
    )]
    InvalidClid(String),
    /// The system clock is set before the Unix epoch.
    #[error("system clock is before the Unix epoch")]
    Clock,
}

/// Generates a development PKI and writes it into `dir` (created if missing).
///
/// Files written: `ca.pem`, `ca.key`, `server.pem`, `server.key` (server certificate for the DNS
/// name `localhost` and the IP addresses `127.0.0.1` and `::1`, signed by the CA, serverAuth EKU),
/// and for each clID in `registrars`: `<clid>.pem`, `<clid>.key` (client certificate with
/// CN = clID, clientAuth EKU, signed by the CA). Keys are Ed25519 in PKCS#8 PEM. Validity runs
/// from now - 1 day to now + 10 years. Key files get mode 0600 on unix.
///
/// Existing files are replaced only if `overwrite` is true; otherwise nothing is written and
/// [`DevCertError::AlreadyExists`] names the first existing file (in the order listed above).
///
/// # Errors
///
/// [`DevCertError::InvalidClid`] if a clID is unusable as a file name/CN (checked before anything
/// else), [`DevCertError::AlreadyExists`] as above, [`DevCertError::Rcgen`] if generation fails,
/// [`DevCertError::Io`] if the directory or a file cannot be created or written (files written
/// before the failure are left in place).
pub fn generate(dir: &Path, registrars: &[&str], overwrite: bool) -> Result<(), DevCertError> {
    validate_clids(registrars)?;

    let mut names: Vec<String> = vec![
        CA_CERT_FILE.to_owned(),
        CA_KEY_FILE.to_owned(),
        SERVER_CERT_FILE.to_owned(),
        SERVER_KEY_FILE.to_owned(),
    ];
    for clid in registrars {
        names.push(format!("{clid}.pem"));
        names.push(format!("{clid}.key"));
    }
    if !overwrite {
        for name in &names {
            let path = dir.join(name);
            if exists(&path)? {
                return Err(DevCertError::AlreadyExists(path));
            }
        }
    }

    // Generate everything before touching the file system, so a failure leaves no partial PKI.
    let pki = generate_in_memory(registrars)?;

    fs::create_dir_all(dir).map_err(|source| DevCertError::Io {
        path: dir.to_path_buf(),
        source,
    })?;

    write_file(&dir.join(CA_CERT_FILE), &pki.ca_cert_pem, false)?;
    write_file(&dir.join(CA_KEY_FILE), &pki.ca_key_pem, true)?;
    write_file(&dir.join(SERVER_CERT_FILE), &pki.server_cert_pem, false)?;
    write_file(&dir.join(SERVER_KEY_FILE), &pki.server_key_pem, true)?;
    for (clid, cert_pem, key_pem) in &pki.registrars {
        write_file(&dir.join(format!("{clid}.pem")), cert_pem, false)?;
        write_file(&dir.join(format!("{clid}.key")), key_pem, true)?;
    }
    Ok(())
}

/// Same as [`generate`] but in memory (used by tests): returns the PEM strings instead of writing files.
///
/// # Errors
///
/// [`DevCertError::InvalidClid`] for an unusable clID, [`DevCertError::Rcgen`] if key generation
/// or signing fails, [`DevCertError::Clock`] if the system clock is before 1970.
pub fn generate_in_memory(registrars: &[&str]) -> Result<DevPki, DevCertError> {
    validate_clids(registrars)?;
    let validity = Validity::now()?;

    // CA: may only issue end-entity certificates (path length 0).
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = dn(&[
        (DnType::CommonName, "ma-registry development CA"),
        (DnType::OrganizationName, "ma-registry (development only)"),
    ]);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity.apply(&mut ca_params);
    let ca_key = new_key()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let ca_cert_pem = ca_cert.pem();
    let ca_key_pem = key_pem(&ca_key);
    let issuer = Issuer::new(ca_params, ca_key);

    // Server certificate.
    let mut server_params = CertificateParams::default();
    server_params.distinguished_name = dn(&[
        (DnType::CommonName, "localhost"),
        (DnType::OrganizationName, "ma-registry (development only)"),
    ]);
    server_params.subject_alt_names = vec![
        SanType::DnsName("localhost".try_into()?),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ];
    end_entity(
        &mut server_params,
        ExtendedKeyUsagePurpose::ServerAuth,
        &validity,
    );
    let server_key = new_key()?;
    let server_cert = server_params.signed_by(&server_key, &issuer)?;

    // Registrar client certificates.
    let mut clients = Vec::with_capacity(registrars.len());
    for clid in registrars {
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(&[
            (DnType::CommonName, *clid),
            (DnType::OrganizationName, "ma-registry (development only)"),
        ]);
        end_entity(&mut params, ExtendedKeyUsagePurpose::ClientAuth, &validity);
        let key = new_key()?;
        let cert = params.signed_by(&key, &issuer)?;
        clients.push(((*clid).to_owned(), cert.pem(), key_pem(&key)));
    }

    Ok(DevPki {
        ca_cert_pem,
        ca_key_pem,
        server_cert_pem: server_cert.pem(),
        server_key_pem: key_pem(&server_key),
        registrars: clients,
    })
}

/// Certificate validity window shared by every certificate of one PKI.
struct Validity {
    not_before_secs: u64,
    now_secs: u64,
}

impl Validity {
    fn now() -> Result<Self, DevCertError> {
        let now_secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| DevCertError::Clock)?
            .as_secs();
        Ok(Self {
            not_before_secs: now_secs.saturating_sub(ONE_DAY.as_secs()),
            now_secs,
        })
    }

    /// Sets `not_before` to now - 1 day and `not_after` to now + 10 years (calendar years; on
    /// 29 February, 3653 days).
    fn apply(&self, params: &mut CertificateParams) {
        // rcgen's default `not_before` is 1975-01-01, which is before the epoch, so the epoch is
        // obtained from `date_time_ymd` (the `time` crate is not a direct dependency).
        let epoch = rcgen::date_time_ymd(1970, 1, 1);
        let now = epoch + Duration::from_secs(self.now_secs);
        params.not_before = epoch + Duration::from_secs(self.not_before_secs);
        params.not_after = now
            .replace_year(now.year() + 10)
            .unwrap_or_else(|_| now + ONE_DAY * 3653);
    }
}

/// The start of an Ed25519 key in PKCS#8 v2 (RFC 8410, with its public
/// key), as rcgen writes it, up to the 32-byte seed.
const ED25519_PKCS8_V2: [u8; 16] = [
    0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// The same in PKCS#8 v1 (the seed alone), which every TLS library reads:
/// OpenSSL 3.0 refuses the v2 form, rustls reads both.
const ED25519_PKCS8_V1: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A private key as PKCS#8 PEM, an Ed25519 key in the v1 form.
fn key_pem(key: &KeyPair) -> String {
    let der = key.serialize_der();
    match der.get(..48) {
        Some(head) if head.starts_with(&ED25519_PKCS8_V2) => {
            let mut v1 = ED25519_PKCS8_V1.to_vec();
            v1.extend_from_slice(&head[16..48]);
            pem::encode_config(
                &pem::Pem::new("PRIVATE KEY", v1),
                pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
            )
        }
        _ => key.serialize_pem(),
    }
}

fn new_key() -> Result<KeyPair, DevCertError> {
    Ok(KeyPair::generate_for(&PKCS_ED25519)?)
}

fn dn(entries: &[(DnType, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (ty, value) in entries {
        dn.push(ty.clone(), *value);
    }
    dn
}

fn end_entity(params: &mut CertificateParams, eku: ExtendedKeyUsagePurpose, validity: &Validity) {
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![eku];
    params.use_authority_key_identifier_extension = true;
    validity.apply(params);
}

/// Registrar clIDs become file names and certificate CNs: restrict them to a safe set, reject
/// duplicates and names that would clash with the CA/server files.
fn validate_clids(registrars: &[&str]) -> Result<(), DevCertError> {
    for (i, clid) in registrars.iter().enumerate() {
        let lower = clid.to_ascii_lowercase();
        let valid = !clid.is_empty()
            && clid.len() <= MAX_CLID_LEN
            && !clid.starts_with('.')
            && clid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && lower != "ca"
            && lower != "server"
            && !registrars[..i]
                .iter()
                .any(|other| other.eq_ignore_ascii_case(clid));
        if !valid {
            return Err(DevCertError::InvalidClid((*clid).to_owned()));
        }
    }
    Ok(())
}

/// Whether anything (file, directory, dangling symlink) exists at `path`.
fn exists(path: &Path) -> Result<bool, DevCertError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(DevCertError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes `contents` to a fresh file at `path`, replacing any existing file (without following a
/// symlink there). Private key files are created with mode 0600 on unix.
fn write_file(path: &Path, contents: &str, private: bool) -> Result<(), DevCertError> {
    let io_err = |source| DevCertError::Io {
        path: path.to_path_buf(),
        source,
    };
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(e)),
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(io_err)?;
    file.write_all(contents.as_bytes()).map_err(io_err)?;
    file.sync_all().map_err(io_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::client::WebPkiServerVerifier;
    use tokio_rustls::rustls::client::danger::ServerCertVerifier;
    use tokio_rustls::rustls::crypto::CryptoProvider;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
    use tokio_rustls::rustls::server::WebPkiClientVerifier;
    use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};

    // Explicit provider: works whatever rustls crypto features other crates enable.
    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::aws_lc_rs::default_provider())
    }

    fn cert(pem: &str) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(pem.as_bytes()).expect("certificate PEM")
    }

    fn key(pem: &str) -> PrivateKeyDer<'static> {
        let key = PrivateKeyDer::from_pem_slice(pem.as_bytes()).expect("key PEM");
        assert!(matches!(key, PrivateKeyDer::Pkcs8(_)), "key must be PKCS#8");
        key
    }

    fn roots(pki: &DevPki) -> Arc<RootCertStore> {
        let mut roots = RootCertStore::empty();
        roots.add(cert(&pki.ca_cert_pem)).expect("add CA root");
        Arc::new(roots)
    }

    fn server_config(pki: &DevPki) -> ServerConfig {
        let verifier = WebPkiClientVerifier::builder_with_provider(roots(pki), provider())
            .build()
            .expect("client verifier");
        ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![cert(&pki.server_cert_pem)], key(&pki.server_key_pem))
            .expect("server config")
    }

    fn client_config(pki: &DevPki, cert_pem: &str, key_pem: &str) -> ClientConfig {
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots(pki))
            .with_client_auth_cert(vec![cert(cert_pem)], key(key_pem))
            .expect("client config")
    }

    #[test]
    fn pem_shapes() {
        let pki = generate_in_memory(&["demo1"]).expect("generate");
        for pem in [&pki.ca_cert_pem, &pki.server_cert_pem, &pki.registrars[0].1] {
            assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        }
        for pem in [&pki.ca_key_pem, &pki.server_key_pem, &pki.registrars[0].2] {
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
            key(pem);
        }
        assert_eq!(pki.registrars[0].0, "demo1");
        let debug = format!("{pki:?}");
        assert!(!debug.contains("PRIVATE KEY"));
    }

    #[test]
    fn configs_build_and_chains_verify() {
        let pki = generate_in_memory(&["demo1", "demo2"]).expect("generate");
        let _server = server_config(&pki);
        for (_, cert_pem, key_pem) in &pki.registrars {
            let _client = client_config(&pki, cert_pem, key_pem);
        }

        let now = UnixTime::now();
        let server_verifier = WebPkiServerVerifier::builder_with_provider(roots(&pki), provider())
            .build()
            .expect("server verifier");
        let server_cert = cert(&pki.server_cert_pem);
        for name in ["localhost", "127.0.0.1", "::1"] {
            let name = ServerName::try_from(name).expect("server name");
            server_verifier
                .verify_server_cert(&server_cert, &[], &name, &[], now)
                .expect("server certificate verifies");
        }
        let other = ServerName::try_from("example.com").expect("server name");
        assert!(
            server_verifier
                .verify_server_cert(&server_cert, &[], &other, &[], now)
                .is_err()
        );

        let client_verifier = WebPkiClientVerifier::builder_with_provider(roots(&pki), provider())
            .build()
            .expect("client verifier");
        for (_, cert_pem, _) in &pki.registrars {
            client_verifier
                .verify_client_cert(&cert(cert_pem), &[], now)
                .expect("client certificate verifies");
        }
        // EKUs are enforced: the server certificate is not a client certificate.
        assert!(
            client_verifier
                .verify_client_cert(&server_cert, &[], now)
                .is_err()
        );
        // A certificate from another dev PKI is not trusted.
        let foreign = generate_in_memory(&["demo1"]).expect("generate");
        assert!(
            client_verifier
                .verify_client_cert(&cert(&foreign.registrars[0].1), &[], now)
                .is_err()
        );
    }

    /// Moves pending TLS records from `from` to `to`.
    fn transfer(from: &mut rustls::Connection, to: &mut rustls::Connection) {
        let mut buf = Vec::new();
        while from.wants_write() {
            from.write_tls(&mut buf).expect("write_tls");
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            to.read_tls(&mut rd).expect("read_tls");
            to.process_new_packets().expect("process_new_packets");
        }
    }

    #[test]
    fn mutual_tls_handshake() {
        let pki = generate_in_memory(&["demo1"]).expect("generate");
        let (_, cert_pem, key_pem) = &pki.registrars[0];
        let mut client: rustls::Connection = rustls::ClientConnection::new(
            Arc::new(client_config(&pki, cert_pem, key_pem)),
            ServerName::try_from("localhost").expect("server name"),
        )
        .expect("client connection")
        .into();
        let mut server: rustls::Connection =
            rustls::ServerConnection::new(Arc::new(server_config(&pki)))
                .expect("server connection")
                .into();
        for _ in 0..10 {
            if !client.is_handshaking() && !server.is_handshaking() {
                break;
            }
            transfer(&mut client, &mut server);
            transfer(&mut server, &mut client);
        }
        assert!(!client.is_handshaking() && !server.is_handshaking());
        let peer = server.peer_certificates().expect("client certificate");
        assert_eq!(peer, &[cert(cert_pem)][..]);
    }

    #[test]
    fn keys_are_ed25519_in_pkcs8_v1_which_openssl_and_rustls_read() {
        use rustls::pki_types::PrivateKeyDer;
        use rustls::pki_types::pem::PemObject as _;
        let dir = tempfile::tempdir().expect("tempdir");
        generate(dir.path(), &["demo1"], false).expect("generate");
        for name in ["ca.key", "server.key", "demo1.key"] {
            let path = dir.path().join(name);
            let key = PrivateKeyDer::from_pem_file(&path).expect("a PEM key");
            assert!(
                key.secret_der().starts_with(&ED25519_PKCS8_V1),
                "{name} is not PKCS#8 v1 Ed25519"
            );
            rustls::crypto::aws_lc_rs::default_provider()
                .key_provider
                .load_private_key(key)
                .expect("rustls reads it");
            // OpenSSL 3.0 refuses the v2 form; where its tool is installed,
            // it must read these.
            if let Ok(out) = std::process::Command::new("openssl")
                .args(["pkey", "-noout", "-in"])
                .arg(&path)
                .output()
            {
                assert!(out.status.success(), "openssl cannot read {name}: {out:?}");
            }
        }
    }

    #[test]
    fn writes_files_and_respects_overwrite() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("certs");
        generate(&dir, &["demo1", "demo2"], false).expect("generate");
        let names = [
            "ca.pem",
            "ca.key",
            "server.pem",
            "server.key",
            "demo1.pem",
            "demo1.key",
            "demo2.pem",
            "demo2.key",
        ];
        for name in names {
            let path = dir.join(name);
            assert!(path.is_file(), "{name} missing");
            #[cfg(unix)]
            if name.ends_with(".key") {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(&path).expect("metadata").permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{name} mode");
            }
        }
        let ca_before = fs::read_to_string(dir.join("ca.pem")).expect("read");

        match generate(&dir, &["demo1"], false) {
            Err(DevCertError::AlreadyExists(path)) => assert_eq!(path, dir.join("ca.pem")),
            other => panic!("expected AlreadyExists, got {other:?}"),
        }
        assert_eq!(
            fs::read_to_string(dir.join("ca.pem")).expect("read"),
            ca_before
        );

        // Only a registrar file present: the error names it.
        let dir2 = tmp.path().join("partial");
        fs::create_dir(&dir2).expect("mkdir");
        fs::write(dir2.join("demo2.key"), "x").expect("write");
        match generate(&dir2, &["demo1", "demo2"], false) {
            Err(e @ DevCertError::AlreadyExists(_)) => {
                assert!(e.to_string().contains("demo2.key"), "{e}");
            }
            other => panic!("expected AlreadyExists, got {other:?}"),
        }
        assert!(!dir2.join("ca.pem").exists());

        generate(&dir, &["demo1"], true).expect("overwrite");
        assert_ne!(
            fs::read_to_string(dir.join("ca.pem")).expect("read"),
            ca_before
        );
    }

    #[test]
    fn rejects_bad_clids() {
        for bad in ["", "../x", "a/b", ".hidden", "ca", "Server", "sp ace", "é"] {
            assert!(
                matches!(
                    generate_in_memory(&[bad]),
                    Err(DevCertError::InvalidClid(_))
                ),
                "{bad:?} accepted"
            );
        }
        assert!(matches!(
            generate_in_memory(&["demo1", "DEMO1"]),
            Err(DevCertError::InvalidClid(_))
        ));
        assert!(generate_in_memory(&["ClientX", "reg-01.ma_test"]).is_ok());
    }
}
