//! Starts the real server on 127.0.0.1:0 with a fresh development PKI, a
//! temp store and a chosen clock; connects raw TLS clients; validates every
//! response with xmllint against the project's `schemas/`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ma_registry::clock::Clock;
use ma_registry::config::Settings;
use ma_registry::devcerts::{self, DevPki};
use ma_registry::flows::login::hash_password;
use ma_registry::model::{Registrar, RegistrarState};
use ma_registry::server::RunningServer;
use ma_registry::store::Store;
use ma_registry::transport;
use tempfile::TempDir;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// The registrars every test server knows: clID and password.
pub const REGISTRARS: [(&str, &str); 3] = [
    ("reg1", "reg1-pass"),
    ("reg2", "reg2-pass"),
    ("reg3", "reg3-pass"),
];

/// The password of a test registrar.
pub fn password(clid: &str) -> &'static str {
    REGISTRARS
        .iter()
        .find(|(c, _)| *c == clid)
        .map(|(_, p)| *p)
        .expect("unknown test registrar")
}

/// An active test registrar with `clid` and password `pw`, created now,
/// with no certificate, session limit or e-mail.
fn test_registrar(clid: &str, pw: &str) -> Registrar {
    Registrar {
        id: clid.to_owned(),
        name: format!("Registrar {clid}"),
        password_hash: hash_password(pw).unwrap(),
        cert_fingerprints: vec![],
        ip_allow: vec![],
        session_limit: None,
        state: RegistrarState::Active,
        email: None,
        address: None,
        created: Utc::now(),
        password_set: Utc::now(),
    }
}

/// Writes `registrar` into `store`, with its history record.
fn put_test_registrar(store: &Store, registrar: Registrar) {
    let audit = ma_registry::store::registry_audit(store, Utc::now(), "test", "test:registrar");
    store.put_registrar(&registrar, &audit).unwrap();
}

/// A server under test.
pub struct TestServer {
    /// Holds the temp dir (store, PKI) for the server's lifetime.
    _dir: TempDir,
    pub settings: Settings,
    pki: DevPki,
    server: Option<RunningServer>,
    addr: std::net::SocketAddr,
    whois: Option<std::net::SocketAddr>,
    metrics: Option<std::net::SocketAddr>,
    rdap: Option<std::net::SocketAddr>,
}

pub fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

impl TestServer {
    /// A server on the system clock with default settings.
    pub async fn start() -> Self {
        Self::start_with(|_| {}, None).await
    }

    /// A server whose clock starts at `now`.
    pub async fn start_at(now: &str) -> Self {
        Self::start_with(|_| {}, Some(now)).await
    }

    /// A server with adjusted settings and an optional start instant.
    pub async fn start_with(adjust: impl FnOnce(&mut Settings), now: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clids: Vec<&str> = REGISTRARS.iter().map(|(c, _)| *c).collect();
        let pki = devcerts::generate_in_memory(&clids).unwrap();
        let write = |name: &str, pem: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).unwrap();
            path
        };
        let mut settings = Settings::default();
        settings.tls.cert = write("server.pem", &pki.server_cert_pem);
        settings.tls.key = write("server.key", &pki.server_key_pem);
        settings.tls.client_ca = write("ca.pem", &pki.ca_cert_pem);
        settings.server.data_dir = dir.path().join("data");
        settings.server.epp_listen = "127.0.0.1:0".parse().unwrap();
        settings.whois.listen = Some("127.0.0.1:0".parse().unwrap());
        // No test may depend on how fast the machine is: the rate limits
        // (commands and connections per second) are off, and the tests of
        // a rate set that rate themselves.
        settings.limits.query_per_second = 0;
        settings.limits.transform_per_second = 0;
        settings.limits.connections_per_second_per_address = 0;
        adjust(&mut settings);
        if crate::pg::enabled()
            && settings.store.backend == ma_registry::config::StoreBackend::Sled
            && settings.store.url.is_empty()
        {
            settings.store.backend = ma_registry::config::StoreBackend::Postgres;
            settings.store.url = store_url(&settings.server.data_dir);
            settings.store.pool_size = 8;
            *database_users()
                .lock()
                .unwrap()
                .entry(settings.store.url.clone())
                .or_default() += 1;
        }
        let store = Store::open_configured(&settings.store, &settings.server.data_dir).unwrap();
        for (clid, cert, _) in &pki.registrars {
            let pw = password(clid);
            let der = CertificateDer::from_pem_slice(cert.as_bytes()).unwrap();
            put_test_registrar(
                &store,
                Registrar {
                    cert_fingerprints: vec![transport::fingerprint(der.as_ref())],
                    email: Some(format!("{clid}@registrar.example")),
                    ..test_registrar(clid, pw)
                },
            );
        }
        store.flush_now().unwrap();
        let mut this = Self {
            _dir: dir,
            settings,
            pki,
            server: None,
            addr: "127.0.0.1:0".parse().unwrap(),
            whois: None,
            metrics: None,
            rdap: None,
        };
        this.boot(store, now).await;
        this
    }

    async fn boot(&mut self, store: Store, now: Option<&str>) {
        let clock = match now {
            Some(now) => Clock::starting_at(instant(now)),
            None => Clock::system(),
        };
        let server = RunningServer::start_with_store(self.settings.clone(), clock, store)
            .await
            .unwrap();
        self.addr = server.epp_addr();
        self.whois = server.whois_addr();
        self.metrics = server.metrics_addr();
        self.rdap = server.rdap_addr();
        self.server = Some(server);
    }

    /// Stops the server and starts it again on the same store, its clock at `now`.
    pub async fn restart_at(&mut self, now: Option<&str>) {
        self.stop().await;
        self.settings.server.epp_listen = "127.0.0.1:0".parse().unwrap();
        let store = open_store_retrying(&self.settings.server.data_dir).await;
        self.boot(store, now).await;
    }

    /// Adds registrars (clID, password) with a session limit, all
    /// presenting reg1's certificate (the server lets several registrars
    /// record the same one), then starts the server again on the same
    /// store.
    pub async fn add_registrars(&mut self, registrars: &[(String, String)], session_limit: u32) {
        self.stop().await;
        let store = open_store_retrying(&self.settings.server.data_dir).await;
        let (certs, _) = self.identity("reg1");
        let fingerprint = transport::fingerprint(certs[0].as_ref());
        for (clid, pw) in registrars {
            put_test_registrar(
                &store,
                Registrar {
                    cert_fingerprints: vec![fingerprint.clone()],
                    session_limit: Some(session_limit),
                    ..test_registrar(clid, pw)
                },
            );
        }
        store.flush_now().unwrap();
        self.settings.server.epp_listen = "127.0.0.1:0".parse().unwrap();
        self.boot(store, None).await;
    }

    /// Stops the server (graceful shutdown) and waits until its store is
    /// free for another process (the admin CLI).
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
            drop(open_store_retrying(&self.settings.server.data_dir).await);
        }
    }

    /// The WHOIS address.
    pub fn whois_addr(&self) -> std::net::SocketAddr {
        self.whois.expect("WHOIS is enabled in tests")
    }

    /// The metrics address, when the test enabled it.
    pub fn metrics_addr(&self) -> std::net::SocketAddr {
        self.metrics.expect("metrics.listen set by the test")
    }

    /// The RDAP address, when the test enabled it.
    pub fn rdap_addr(&self) -> std::net::SocketAddr {
        self.rdap.expect("rdap.listen set by the test")
    }

    /// The EPP address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The PEM certificate and key of a test registrar.
    pub fn identity(&self, clid: &str) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let (_, cert, key) = self
            .pki
            .registrars
            .iter()
            .find(|(c, _, _)| c == clid)
            .expect("unknown registrar");
        (
            vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
            PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
        )
    }

    /// Writes `clid`'s certificate to a PEM file in the server's temp dir.
    pub fn cert_pem_file(&self, clid: &str) -> PathBuf {
        let (_, cert, _) = self
            .pki
            .registrars
            .iter()
            .find(|(c, _, _)| c == clid)
            .expect("unknown registrar");
        let path = self._dir.path().join(format!("{clid}-client.pem"));
        std::fs::write(&path, cert).unwrap();
        path
    }

    /// Writes `clid`'s private key to a PEM file in the server's temp dir.
    pub fn key_pem_file(&self, clid: &str) -> PathBuf {
        let (_, _, key) = self
            .pki
            .registrars
            .iter()
            .find(|(c, _, _)| c == clid)
            .expect("unknown registrar");
        let path = self._dir.path().join(format!("{clid}-client.key"));
        std::fs::write(&path, key).unwrap();
        path
    }

    /// A root store holding the test CA.
    pub fn root_store(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(self.pki.ca_cert_pem.as_bytes()).unwrap())
            .unwrap();
        roots
    }

    /// A TLS client configuration trusting the test CA and presenting `clid`'s certificate.
    pub fn client_config(&self, clid: &str) -> Arc<ClientConfig> {
        let roots = self.root_store();
        let (certs, key) = self.identity(clid);
        Arc::new(
            ClientConfig::builder_with_provider(transport::crypto_provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_client_auth_cert(certs, key)
                .unwrap(),
        )
    }

    /// A connected client presenting `clid`'s certificate, greeting read.
    pub async fn client(&self, clid: &str) -> RawClient {
        RawClient::connect(self.addr, self.client_config(clid)).await
    }

    /// A client logged in as `clid`.
    pub async fn login(&self, clid: &str) -> RawClient {
        let mut c = self.client(clid).await;
        let r = c.cmd(&login_xml(clid, password(clid), "en")).await;
        assert_eq!(r.code(), 1000, "login failed: {}", r.xml);
        c
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown_token().cancel();
        }
        // The suite's database goes with the last server on it (with its
        // temp dir), so a run on PostgreSQL does not fill the disk.
        let url = &self.settings.store.url;
        let mut users = database_users().lock().unwrap();
        if let Some(n) = users.get_mut(url) {
            *n -= 1;
            if *n == 0 {
                users.remove(url);
                crate::pg::drop_database(url);
            }
        }
    }
}

/// How many test servers use each database of the suite's cluster.
fn database_users() -> &'static std::sync::Mutex<std::collections::HashMap<String, usize>> {
    static USERS: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, usize>>> =
        std::sync::OnceLock::new();
    USERS.get_or_init(Default::default)
}

/// Opens a store, waiting for a just-stopped server to let it go.
pub async fn open_store_retrying(path: &Path) -> Store {
    for _ in 0..100 {
        match open_store(path) {
            Ok(store) => return store,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    open_store(path).unwrap()
}

/// The PostgreSQL database of each test's data directory (and of the
/// configuration files written for it), when the suite runs on PostgreSQL.
fn pg_stores() -> &'static std::sync::Mutex<std::collections::HashMap<PathBuf, String>> {
    static STORES: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<PathBuf, String>>,
    > = std::sync::OnceLock::new();
    STORES.get_or_init(Default::default)
}

fn remember_store(path: &Path, url: &str) {
    pg_stores()
        .lock()
        .unwrap()
        .insert(path.to_path_buf(), url.to_owned());
}

/// The PostgreSQL database of the data directory `path`: the one given
/// to it before, or a new one.
fn store_url(path: &Path) -> String {
    let known = pg_stores().lock().unwrap().get(path).cloned();
    known.unwrap_or_else(|| {
        let url = crate::pg::fresh_database();
        remember_store(path, &url);
        url
    })
}

/// The URL of the PostgreSQL database of the data directory `path`, when
/// the suite runs on PostgreSQL and the directory has one.
pub fn pg_url(path: &Path) -> Option<String> {
    pg_stores().lock().unwrap().get(path).cloned()
}

/// Edits, behind the registry's back, the first record of `tree` whose
/// key starts with `prefix`: its first `from` becomes `to`. In the sled
/// files, or with SQL in the PostgreSQL database.
pub async fn forge_record(data: &Path, tree: &str, prefix: &[u8], from: &[u8], to: &[u8]) {
    let forge = |value: &[u8]| {
        let mut forged = value.to_vec();
        let at = forged.windows(from.len()).position(|w| w == from).unwrap();
        forged[at..at + to.len()].copy_from_slice(to);
        forged
    };
    if let Some(url) = pg_url(data) {
        let row = crate::pg::query(
            &url,
            &format!(
                "SELECT encode(key, 'hex') || ' ' || encode(value, 'hex') FROM records \
                 WHERE tree = '{tree}' AND key >= '\\x{}'::bytea ORDER BY key LIMIT 1",
                hex::encode(prefix)
            ),
        )
        .unwrap();
        let (key, value) = row[0].split_once(' ').unwrap();
        let forged = forge(&hex::decode(value).unwrap());
        crate::pg::query(
            &url,
            &format!(
                "UPDATE records SET value = '\\x{}'::bytea WHERE tree = '{tree}' AND key = '\\x{key}'::bytea",
                hex::encode(forged)
            ),
        )
        .unwrap();
        return;
    }
    let db = open_store_retrying(data).await;
    drop(db);
    let raw = (0..50)
        .find_map(|_| {
            sled::open(data)
                .inspect_err(|_| std::thread::sleep(Duration::from_millis(50)))
                .ok()
        })
        .unwrap();
    let records = raw.open_tree(tree).unwrap();
    let (key, value) = records.scan_prefix(prefix).next().unwrap().unwrap();
    records.insert(&key, forge(&value)).unwrap();
    records.flush().unwrap();
}

/// Whether a test that is about the sled engine's own files (its log,
/// fsyncs, compaction) is skipped: when the suite runs on PostgreSQL.
pub fn sled_only(test: &str) -> bool {
    if crate::pg::enabled() {
        eprintln!("{test}: about sled's files, not run on PostgreSQL");
        return true;
    }
    false
}

/// The store of the data directory `path`: its sled store, or the
/// PostgreSQL database the test gave it.
pub fn open_store(path: &Path) -> Result<Store, ma_registry::store::StoreError> {
    let url = pg_stores().lock().unwrap().get(path).cloned();
    match url {
        Some(url) => Store::open_postgres(
            &ma_registry::store::postgres::Connection {
                url,
                pool_size: 4,
                ca_file: None,
            },
            path,
        ),
        None => Store::open(path, 16 << 20),
    }
}

/// The environment that points a `ma-registry` process for the data
/// directory or configuration file `path` at its PostgreSQL database
/// (nothing for sled).
pub fn store_env(path: &Path) -> Vec<(&'static str, String)> {
    match pg_stores().lock().unwrap().get(path) {
        Some(url) => vec![
            ("MA_REGISTRY_STORE_BACKEND", "postgres".to_owned()),
            ("MA_REGISTRY_STORE_URL", url.clone()),
        ],
        None => Vec::new(),
    }
}

/// Sends the command `body` (wrapped in `<command>` with a clTRID) on
/// `client` and reads its answer.
pub async fn run(client: &mut RawClient, body: &str) -> Resp {
    client.cmd(&command(body, "test-1")).await
}

/// [`run`], and the answer must be 1000.
pub async fn assert_ok(client: &mut RawClient, body: &str) -> Resp {
    let r = run(client, body).await;
    assert_eq!(r.code(), 1000, "expected 1000 for {body}\n{}", r.xml);
    r
}

/// [`run`], and the answer must have the result `code`.
pub async fn assert_code(client: &mut RawClient, body: &str, code: u16) -> Resp {
    let r = run(client, body).await;
    assert_eq!(r.code(), code, "expected {code} for {body}\n{}", r.xml);
    r
}

/// A login command.
pub fn login_xml(clid: &str, pw: &str, lang: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><login>
<clID>{clid}</clID><pw>{pw}</pw><options><version>1.0</version><lang>{lang}</lang></options>
<svcs><objURI>urn:ietf:params:xml:ns:domain-1.0</objURI><objURI>urn:ietf:params:xml:ns:contact-1.0</objURI><objURI>urn:ietf:params:xml:ns:host-1.0</objURI></svcs>
</login><clTRID>login-{clid}</clTRID></command></epp>"#
    )
}

/// Wraps a command body in `<epp><command>…<clTRID>`.
pub fn command(body: &str, cl_trid: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command>{body}<clTRID>{cl_trid}</clTRID></command></epp>"#
    )
}

/// The schemas directory.
pub fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// Validates one EPP document against `schemas/all.xsd`; panics with
/// xmllint's report when it is not valid.
pub fn validate(xml: &str) {
    let schema = schemas_dir().join("all.xsd");
    let mut child = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&schema)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xmllint must be installed (apt-get install libxml2-utils)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(xml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "response does not validate against schemas/:\n{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A response, validated, with small accessors for assertions.
pub struct Resp {
    pub xml: String,
}

impl Resp {
    pub fn new(xml: String) -> Self {
        validate(&xml);
        Self { xml }
    }

    fn doc(&self) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(&self.xml).unwrap()
    }

    /// The first result code.
    pub fn code(&self) -> u16 {
        let doc = self.doc();
        doc.descendants()
            .find(|n| n.has_tag_name("result"))
            .and_then(|n| n.attribute("code"))
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no result code in {}", self.xml))
    }

    /// The text of every element with this local name, in document order.
    pub fn texts(&self, local: &str) -> Vec<String> {
        self.doc()
            .descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == local)
            .map(|n| n.text().unwrap_or("").to_owned())
            .collect()
    }

    /// The text of the first element with this local name.
    pub fn text(&self, local: &str) -> Option<String> {
        self.texts(local).into_iter().next()
    }

    /// Every value of an attribute on elements with this local name.
    pub fn attrs(&self, local: &str, attr: &str) -> Vec<String> {
        self.doc()
            .descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == local)
            .filter_map(|n| n.attribute(attr).map(str::to_owned))
            .collect()
    }

    /// The `<reason>` of the first `<extValue>`.
    pub fn reason(&self) -> Option<String> {
        self.text("reason")
    }
}

/// A raw EPP client over TLS.
pub struct RawClient {
    pub tls: TlsStream<TcpStream>,
    buf: Vec<u8>,
    pub greeting: Resp,
}

impl RawClient {
    /// Connects and reads the greeting.
    pub async fn connect(addr: std::net::SocketAddr, config: Arc<ClientConfig>) -> Self {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let tls = TlsConnector::from(config)
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        let mut c = Self {
            tls,
            buf: Vec::new(),
            greeting: Resp { xml: String::new() },
        };
        c.greeting = c.recv().await.expect("no greeting");
        c
    }

    /// Sends raw bytes, unframed.
    pub async fn write_raw(&mut self, bytes: &[u8]) {
        self.tls.write_all(bytes).await.unwrap();
        self.tls.flush().await.unwrap();
    }

    /// Sends one frame.
    pub async fn send(&mut self, xml: &str) {
        transport::write_frame(&mut self.tls, xml.as_bytes(), Duration::from_secs(10))
            .await
            .unwrap();
    }

    /// Reads one frame, validated; `None` when the server closed the connection.
    pub async fn recv(&mut self) -> Option<Resp> {
        let t = Duration::from_secs(20);
        match transport::read_frame(&mut self.tls, &mut self.buf, 16 << 20, t, t).await {
            Ok(true) => Some(Resp::new(String::from_utf8(self.buf.clone()).unwrap())),
            _ => None,
        }
    }

    /// Sends a frame and reads the response.
    pub async fn cmd(&mut self, xml: &str) -> Resp {
        self.send(xml).await;
        self.recv()
            .await
            .expect("connection closed instead of a response")
    }

    /// Whether the server has closed the connection (no further frame arrives).
    pub async fn is_closed(&mut self) -> bool {
        self.recv().await.is_none()
    }
}

/// A contact create body with a Moroccan address and an identity document
/// (R15: a registrant needs one).
pub fn contact_create(id: &str, cc: &str) -> String {
    format!(
        r#"{}<extension><ma:create xmlns:ma="http://www.anrt.ma/epp/ma-1.0"><ma:identity><ma:type>cin</ma:type><ma:number>BE123456</ma:number></ma:identity></ma:create></extension>"#,
        contact_create_bare(id, cc)
    )
}

/// A contact create body with a Moroccan address and no `.ma` extension.
pub fn contact_create_bare(id: &str, cc: &str) -> String {
    format!(
        r#"<create><contact:create xmlns:contact="urn:ietf:params:xml:ns:contact-1.0">
<contact:id>{id}</contact:id>
<contact:postalInfo type="loc"><contact:name>Fatima Zahra El Idrissi</contact:name><contact:org>Société Atlas</contact:org>
<contact:addr><contact:street>12 rue Ibn Sina</contact:street><contact:city>Rabat</contact:city><contact:pc>10000</contact:pc><contact:cc>{cc}</contact:cc></contact:addr></contact:postalInfo>
<contact:voice x="12">+212.537123456</contact:voice><contact:email>fz@example.ma</contact:email>
<contact:authInfo><contact:pw>Cnt-Auth-2024</contact:pw></contact:authInfo>
</contact:create></create>"#
    )
}

/// A domain create body.
pub fn domain_create(name: &str, registrant: &str, extra: &str) -> String {
    format!(
        r#"<create><domain:create xmlns:domain="urn:ietf:params:xml:ns:domain-1.0">
<domain:name>{name}</domain:name>{extra}<domain:registrant>{registrant}</domain:registrant>
<domain:contact type="admin">{registrant}</domain:contact><domain:contact type="tech">{registrant}</domain:contact>
<domain:authInfo><domain:pw>Dom-Auth-2024</domain:pw></domain:authInfo>
</domain:create></create>"#
    )
}

/// A domain create body with a period and name servers.
pub fn domain_create_full(name: &str, registrant: &str, period: &str, ns: &[&str]) -> String {
    let ns = if ns.is_empty() {
        String::new()
    } else {
        let objs: String = ns
            .iter()
            .map(|h| format!("<domain:hostObj>{h}</domain:hostObj>"))
            .collect();
        format!("<domain:ns>{objs}</domain:ns>")
    };
    domain_create(name, registrant, &format!("{period}{ns}"))
}

/// A host create body.
pub fn host_create(name: &str, addrs: &[&str]) -> String {
    let addrs: String = addrs
        .iter()
        .map(|a| {
            let v = if a.contains(':') { "v6" } else { "v4" };
            format!(r#"<host:addr ip="{v}">{a}</host:addr>"#)
        })
        .collect();
    format!(
        r#"<create><host:create xmlns:host="urn:ietf:params:xml:ns:host-1.0"><host:name>{name}</host:name>{addrs}</host:create></create>"#
    )
}

/// A check body for an object kind (`domain`, `contact`, `host`).
pub fn check(kind: &str, names: &[&str]) -> String {
    let field = if kind == "contact" { "id" } else { "name" };
    let items: String = names
        .iter()
        .map(|n| format!("<{kind}:{field}>{n}</{kind}:{field}>"))
        .collect();
    format!(
        r#"<check><{kind}:check xmlns:{kind}="urn:ietf:params:xml:ns:{kind}-1.0">{items}</{kind}:check></check>"#
    )
}

/// An info body for a domain, with an optional authInfo.
/// The roid `domain:info` gives for `name`, which must exist.
pub async fn roid_of(c: &mut RawClient, name: &str) -> String {
    let r = c
        .cmd(&command(&domain_info(name, "all", None), "roid-info"))
        .await;
    assert_eq!(r.code(), 1000, "{name}: {}", r.xml);
    r.text("roid").unwrap()
}

pub fn domain_info(name: &str, hosts: &str, auth: Option<&str>) -> String {
    let auth = auth
        .map(|a| format!("<domain:authInfo><domain:pw>{a}</domain:pw></domain:authInfo>"))
        .unwrap_or_default();
    format!(
        r#"<info><domain:info xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name hosts="{hosts}">{name}</domain:name>{auth}</domain:info></info>"#
    )
}

/// Runs the real binary, `ma-registry --data-dir DATA admin ARGS`, with the
/// CLI's clock at `now` (`MA_REGISTRY_NOW`) when given; returns whether it
/// succeeded, its stdout and its stderr.
pub fn admin_in(data: &Path, now: Option<&str>, args: &[&str]) -> (bool, String, String) {
    // A command that loads a new store gets a new database on PostgreSQL.
    let creates = args.iter().any(|a| ["import", "restore"].contains(a))
        || args.windows(2).any(|w| w == ["escrow", "import"]);
    if crate::pg::enabled() && creates {
        store_url(data);
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ma-registry"));
    if let Some(now) = now {
        cmd.env("MA_REGISTRY_NOW", now);
    }
    let out = cmd
        .envs(store_env(data))
        .arg("--data-dir")
        .arg(data)
        .arg("admin")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`admin_in`] on `server`'s data dir; returns whether it succeeded and
/// its stdout followed by its stderr.
pub fn admin(server: &TestServer, now: Option<&str>, args: &[&str]) -> (bool, String) {
    let (ok, out, err) = admin_in(&server.settings.server.data_dir, now, args);
    (ok, format!("{out}{err}"))
}

/// What an `admin` command run as the real binary printed.
pub struct AdminRun {
    /// Its exit code.
    pub code: i32,
    /// Its stdout.
    pub out: String,
    /// Its stderr.
    pub err: String,
}

/// Runs `ma-registry admin ARGS` against `server`'s data dir while the
/// server runs (so through its admin socket), with extra environment and
/// standard input, off the runtime thread so the server keeps serving.
pub async fn admin_live(
    server: &TestServer,
    env: &[(&str, &str)],
    stdin: Option<&str>,
    args: &[&str],
) -> AdminRun {
    let data = server.settings.server.data_dir.clone();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let stdin = stdin.map(str::to_owned);
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let mut child = Command::new(env!("CARGO_BIN_EXE_ma-registry"))
            .envs(store_env(&data))
            .envs(env)
            .env_remove("MA_REGISTRY_NOW")
            .arg("--data-dir")
            .arg(&data)
            .arg("admin")
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        AdminRun {
            code: out.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

/// The log position of the newest page-table snapshot sled (0.34) keeps in
/// `data` (its file is `snap.` and the position in 16 hex digits), 0 when
/// there is none: an opening reads the log from there on.
pub fn snapshot_position(data: &Path) -> u64 {
    std::fs::read_dir(data)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().ok()?;
            u64::from_str_radix(name.strip_prefix("snap.")?, 16).ok()
        })
        .max()
        .unwrap_or(0)
}

/// Opens the store in `data` with sled alone, closes it, and returns how
/// much log that opening read past the snapshot it found (bytes): what a
/// server starting on it would replay.
pub fn log_replayed_at_open(data: &Path) -> u64 {
    let before = snapshot_position(data);
    let mut attempt = 0;
    let db = loop {
        match sled::Config::new().path(data).open() {
            Ok(db) => break db,
            Err(e) if attempt < 30 => {
                attempt += 1;
                eprintln!("{e}; again");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("{e}"),
        }
    };
    drop(db);
    snapshot_position(data) - before
}

/// A process a test started (`ma-registry serve`, a long `admin` run): it
/// leads a process group of its own, and that group is killed (SIGKILL)
/// when the guard drops, whether the test passed or panicked. The child
/// also dies with the test thread that started it (`PR_SET_PDEATHSIG`), so
/// a test binary killed from outside leaves no server behind either.
pub struct ChildGuard {
    child: std::process::Child,
}

impl ChildGuard {
    /// Spawns `cmd` in its own process group, tied to this thread's life.
    pub fn spawn(mut cmd: Command) -> Self {
        use std::os::unix::process::CommandExt as _;
        cmd.process_group(0);
        // SAFETY: prctl is async-signal-safe and touches only the child.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Self {
            child: cmd.spawn().unwrap(),
        }
    }

    /// The child, to take its pipes or read its id.
    pub fn child(&mut self) -> &mut std::process::Child {
        &mut self.child
    }

    /// Sends `signal` to the child's whole process group.
    pub fn signal(&self, signal: i32) {
        let group = i32::try_from(self.child.id()).unwrap();
        // SAFETY: a plain kill(2) on a process group this guard leads.
        unsafe {
            libc::kill(-group, signal);
        }
    }

    /// Kills the process group and reaps the child.
    pub fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }

    /// Waits for the child to exit by itself.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

/// Writes a configuration for `ma-registry serve` on `setup`'s store and
/// certificates (EPP on a free port, no WHOIS, a price of 1.00 per year),
/// with `extra` TOML appended; returns its path.
pub fn serve_config(setup: &TestServer, name: &str, extra: &str) -> PathBuf {
    let data = &setup.settings.server.data_dir;
    let config = data.parent().unwrap().join(name);
    let tls = &setup.settings.tls;
    std::fs::write(
        &config,
        format!(
            "[server]\nepp_listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n\n[tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\n\n[whois]\nenabled = false\n\n[[billing.prices]]\nzone = \"ma\"\ncreate = 1.0\nrenew = 1.0\nrestore = 1.0\nownership = 1.0\n{extra}",
            data, tls.cert, tls.key, tls.client_ca
        ),
    )
    .unwrap();
    let url = pg_stores().lock().unwrap().get(data).cloned();
    if let Some(url) = url {
        remember_store(&config, &url);
    }
    config
}

/// Starts `ma-registry --config CONFIG serve` as a child process, behind
/// `wrapper` when given (e.g. `strace -f …`); returns its guard and the EPP
/// address it printed. The guard kills it when the test ends.
pub fn spawn_serve(config: &Path, wrapper: &[&str]) -> (ChildGuard, std::net::SocketAddr) {
    spawn_serve_with(config, wrapper, &[("MA_REGISTRY_LOG", "warn")], None)
}

/// [`spawn_serve`] logging at `level` (`MA_REGISTRY_LOG`) into the file
/// `log` (the server's stderr).
pub fn spawn_serve_logged(
    config: &Path,
    level: &str,
    log: &Path,
) -> (ChildGuard, std::net::SocketAddr) {
    spawn_serve_with(config, &[], &[("MA_REGISTRY_LOG", level)], Some(log))
}

/// The text of the log file `log` once it holds `needle`, waiting up to
/// 10 s for the server to write it.
pub fn log_once_written(log: &Path, needle: &str) -> String {
    for _ in 0..200 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{needle:?} never reached the log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// [`spawn_serve`] with its environment, and its log (stderr) written to
/// `log` when given.
pub fn spawn_serve_with(
    config: &Path,
    wrapper: &[&str],
    env: &[(&str, &str)],
    log: Option<&Path>,
) -> (ChildGuard, std::net::SocketAddr) {
    use std::io::BufRead as _;
    let binary = env!("CARGO_BIN_EXE_ma-registry");
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(binary);
            cmd
        }
        None => Command::new(binary),
    };
    cmd.arg("--config")
        .arg(config)
        .arg("serve")
        .env_remove("MA_REGISTRY_NOW")
        .envs(store_env(config))
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(match log {
            Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
            None => Stdio::null(),
        });
    let mut child = ChildGuard::spawn(cmd);
    let stdout = child.child().stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        if let Some(addr) = line.strip_prefix("ma-registry: EPP on ") {
            break addr.trim().parse().unwrap();
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

/// One EPP frame: the length header and the document.
pub fn frame(xml: &str) -> Vec<u8> {
    let mut raw = u32::try_from(xml.len() + 4).unwrap().to_be_bytes().to_vec();
    raw.extend_from_slice(xml.as_bytes());
    raw
}

/// A plain HTTP/1.1 GET of `path` on `addr`: the status code, the headers
/// (lower-cased names) and the body.
pub async fn http_get(
    addr: std::net::SocketAddr,
    path: &str,
) -> (u16, Vec<(String, String)>, String) {
    http_request(addr, "GET", path).await
}

/// A plain HTTP/1.1 request with no body (`GET`, `HEAD`, `POST`, …) of
/// `path` on `addr`: the status code, the headers (lower-cased names) and
/// the body.
pub async fn http_request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
) -> (u16, Vec<(String, String)>, String) {
    use tokio::io::AsyncReadExt as _;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}
