//! Reaching the server and preparing a run: the registrars the sessions log
//! in as (`--registrars`), their TLS configurations, the address that
//! answers, opening sessions all at once, and the preparation commands.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::client::Resumption;
use tokio_rustls::rustls::pki_types::ServerName;

use super::{BenchArgs, BenchError, commands, read_file};
use crate::epp_client::{self, ClientError, Connection, login_xml, logout_xml, result_code};

/// One registrar the sessions log in as.
pub(super) struct Identity {
    pub(super) clid: String,
    password: String,
    lang: String,
    ext_uris: Vec<String>,
    config: Arc<ClientConfig>,
}

impl Identity {
    /// A login command with a clTRID of its own.
    fn login(&self) -> Vec<u8> {
        login_xml(&self.clid, &self.password, &self.lang, &self.ext_uris)
    }
}

/// How to reach and log in to the server.
pub(super) struct Target {
    pub(super) addr: String,
    pub(super) name: ServerName<'static>,
    /// Never empty: session `s` logs in as `identities[s % len]`.
    pub(super) identities: Vec<Identity>,
    pub(super) timeout: Duration,
}

impl Target {
    pub(super) fn identity(&self, s: usize) -> &Identity {
        &self.identities[s % self.identities.len()]
    }

    /// Connects as session `s`'s registrar: TCP, TLS handshake, greeting.
    async fn connect(&self, s: usize) -> Result<Connection, ClientError> {
        Connection::open(
            &self.addr,
            self.name.clone(),
            self.identity(s).config.clone(),
            self.timeout,
        )
        .await
    }

    /// Connects and logs in as session `s`'s registrar; gives the login's
    /// result code with the connection.
    pub(super) async fn login(&self, s: usize) -> Result<(Connection, u16), SessionError> {
        let mut conn = self.connect(s).await?;
        let response = conn.transact(&self.identity(s).login()).await?;
        match result_code(response) {
            Some(code) if code < 2000 => Ok((conn, code)),
            code => Err(SessionError::Refused(code, message(response))),
        }
    }

    /// Connects and logs in as session `s`'s registrar.
    pub(super) async fn session(&self, s: usize) -> Result<Connection, SessionError> {
        self.login(s).await.map(|(conn, _)| conn)
    }
}

/// One line of a `--registrars` file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RegistrarLine {
    clid: String,
    password: String,
    /// The certificate and key, when the line gives them.
    files: Option<(PathBuf, PathBuf)>,
}

/// Parses a `--registrars` file: `CLID PASSWORD [CERT KEY]` per line,
/// separated by spaces or tabs; empty lines and lines starting with `#`
/// are skipped.
fn parse_registrars(text: &str) -> Result<Vec<RegistrarLine>, String> {
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (clid, password, files) = match fields.as_slice() {
            [clid, password] => (clid, password, None),
            [clid, password, cert, key] => (
                clid,
                password,
                Some((PathBuf::from(cert), PathBuf::from(key))),
            ),
            _ => {
                return Err(format!(
                    "line {}: expected CLID PASSWORD [CERT KEY], found {} fields",
                    n + 1,
                    fields.len()
                ));
            }
        };
        lines.push(RegistrarLine {
            clid: (*clid).to_owned(),
            password: (*password).to_owned(),
            files,
        });
    }
    if lines.is_empty() {
        return Err("no registrar in the file".into());
    }
    Ok(lines)
}

/// Why a session could not be opened.
#[derive(Debug)]
pub(super) enum SessionError {
    Client(ClientError),
    Refused(Option<u16>, String),
}

impl From<ClientError> for SessionError {
    fn from(e: ClientError) -> Self {
        SessionError::Client(e)
    }
}

impl SessionError {
    pub(super) fn label(&self) -> String {
        match self {
            SessionError::Client(e) => e.kind().to_owned(),
            SessionError::Refused(Some(code), _) => code.to_string(),
            SessionError::Refused(None, _) => "no result code".to_owned(),
        }
    }

    fn into_bench(self, what: &str) -> BenchError {
        match self {
            SessionError::Client(e) => BenchError::Client(e),
            SessionError::Refused(code, msg) => BenchError::Refused {
                what: what.to_owned(),
                code: code.unwrap_or(0),
                msg,
            },
        }
    }
}

/// The text of the first `<msg>` of a response, for error reports.
fn message(response: &[u8]) -> String {
    let text = String::from_utf8_lossy(response);
    let Some(start) = text.find("<msg") else {
        return text.chars().take(200).collect();
    };
    let after = &text[start..];
    let body = after.split_once('>').map(|(_, b)| b).unwrap_or("");
    let msg = body.split("</msg>").next().unwrap_or("");
    let reason = text
        .split_once("<reason")
        .and_then(|(_, r)| r.split_once('>'))
        .and_then(|(_, r)| r.split("</reason>").next());
    let text = match reason {
        Some(reason) => format!("{msg} ({reason})"),
        None => msg.to_owned(),
    };
    match quick_xml::escape::unescape(&text) {
        Ok(plain) => plain.into_owned(),
        Err(_) => text,
    }
}

/// Finds the address that answers: the first of the host's addresses
/// where a session opens; that session then logs out. This also makes
/// the server verify the first registrar's password once before anything
/// is measured. With `log_in` false, the first address where the TLS
/// handshake succeeds and a greeting comes, without a login.
pub(super) async fn first_answering(
    args: &BenchArgs,
    mut target: Target,
    log_in: bool,
) -> Result<(Target, String), BenchError> {
    let addr = if args.host.contains(':') && !args.host.starts_with('[') {
        format!("[{}]:{}", args.host, args.port)
    } else {
        format!("{}:{}", args.host, args.port)
    };
    let candidates: Vec<String> = tokio::net::lookup_host(&addr)
        .await
        .map_err(|e| BenchError::Resolve {
            addr: addr.clone(),
            detail: e.to_string(),
        })?
        .map(|a| a.to_string())
        .collect();
    let mut last = BenchError::Resolve {
        addr: addr.clone(),
        detail: "no address".into(),
    };
    for candidate in candidates {
        target.addr = candidate.clone();
        if !log_in {
            match target.connect(0).await {
                Ok(conn) => {
                    drop(conn);
                    return Ok((target, candidate));
                }
                Err(e) => {
                    last = e.into();
                    continue;
                }
            }
        }
        match target.session(0).await {
            Ok(mut conn) => {
                let _ = conn.transact(&logout_xml()).await;
                return Ok((target, candidate));
            }
            Err(e) => last = e.into_bench("login"),
        }
    }
    Err(last)
}

/// The registrars of the run: those of `--registrars`, or `--clid` alone;
/// each with its TLS configuration (one per distinct certificate and key)
/// and its login command.
pub(super) fn identities(args: &BenchArgs) -> Result<Vec<Identity>, BenchError> {
    let default_files = |clid: &str| {
        (
            args.cert
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("certs/{clid}.pem"))),
            args.key
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("certs/{clid}.key"))),
        )
    };
    let lines = match &args.registrars {
        Some(path) => parse_registrars(&read_file(path)?)
            .map_err(|e| BenchError::Usage(format!("--registrars {}: {e}", path.display())))?,
        None => vec![RegistrarLine {
            clid: args.clid.clone(),
            password: args.password.clone(),
            files: None,
        }],
    };
    let mut configs: HashMap<(PathBuf, PathBuf), Arc<ClientConfig>> = HashMap::new();
    let mut identities = Vec::with_capacity(lines.len());
    for line in lines {
        let (cert, key) = line.files.unwrap_or_else(|| default_files(&line.clid));
        let config = match configs.get(&(cert.clone(), key.clone())) {
            Some(config) => config.clone(),
            None => {
                let config = Arc::new(client_config(args, &cert, &key)?);
                configs.insert((cert, key), config.clone());
                config
            }
        };
        identities.push(Identity {
            clid: line.clid,
            password: line.password,
            lang: args.lang.clone(),
            ext_uris: args.ext_uris.clone(),
            config,
        });
    }
    Ok(identities)
}

fn client_config(args: &BenchArgs, cert: &Path, key: &Path) -> Result<ClientConfig, BenchError> {
    let mut config = epp_client::tls_config(&args.ca, cert, key)?;
    if !args.tls_resumption {
        config.resumption = Resumption::disabled();
    }
    Ok(config)
}

/// Logs every registrar of the run in and out once, all at once (the
/// first one is verified already).
pub(super) async fn warm_up(target: &Arc<Target>) -> Result<(), BenchError> {
    let mut tasks = tokio::task::JoinSet::new();
    for s in 1..target.identities.len() {
        let target = target.clone();
        tasks.spawn(async move {
            match target.session(s).await {
                Ok(mut conn) => {
                    let _ = conn.transact(&logout_xml()).await;
                    Ok(())
                }
                Err(e) => Err(e.into_bench(&format!("login of {}", target.identity(s).clid))),
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| BenchError::Usage(format!("a session task failed: {e}")))??;
    }
    Ok(())
}

/// Opens `n` sessions at once.
pub(super) async fn open_sessions(
    target: &Arc<Target>,
    n: usize,
) -> Result<Vec<Connection>, BenchError> {
    let mut tasks = tokio::task::JoinSet::new();
    for s in 0..n {
        let target = target.clone();
        tasks.spawn(async move { (s, target.session(s).await) });
    }
    let mut conns: Vec<Option<Connection>> = (0..n).map(|_| None).collect();
    while let Some(done) = tasks.join_next().await {
        let (s, result) =
            done.map_err(|e| BenchError::Usage(format!("a session task failed: {e}")))?;
        let conn = result.map_err(|e| e.into_bench(&format!("login of session {}", s + 1)))?;
        conns[s] = Some(conn);
    }
    Ok(conns.into_iter().flatten().collect())
}

/// Runs `work` on every session at once; gives the sessions back in order,
/// or the first failure.
pub(super) async fn for_each_session<F, Fut>(
    conns: Vec<Connection>,
    work: F,
) -> Result<Vec<Connection>, BenchError>
where
    F: Fn(usize, Connection) -> Fut,
    Fut: Future<Output = (Connection, Result<(), BenchError>)> + Send + 'static,
{
    let n = conns.len();
    let mut tasks = tokio::task::JoinSet::new();
    for (s, conn) in conns.into_iter().enumerate() {
        let fut = work(s, conn);
        tasks.spawn(async move {
            let (conn, result) = fut.await;
            (s, conn, result)
        });
    }
    let mut back: Vec<Option<Connection>> = (0..n).map(|_| None).collect();
    let mut failure = None;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((s, conn, result)) => {
                back[s] = Some(conn);
                if let Err(e) = result {
                    failure.get_or_insert(e);
                }
            }
            Err(e) => {
                failure.get_or_insert(BenchError::Usage(format!("a session task failed: {e}")));
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(back.into_iter().flatten().collect()),
    }
}

/// Sends a preparation command; anything but 1xxx is an error.
/// Attempts of one domain create while preparing a run.
const SETUP_ATTEMPTS: u32 = 10;

/// Creates a domain the run will query. A server may refuse a create for a
/// moment (2400 under concurrent creates, 2502 over a quota) or close the
/// session without an answer: the create is tried again, on a new session
/// when needed, and a name that exists by then (an earlier attempt went
/// through) counts as created.
pub(super) async fn create_for_setup(
    target: &Target,
    s: usize,
    conn: &mut Connection,
    name: &str,
    contact: &str,
    auth: &str,
) -> Result<(), BenchError> {
    let what = format!("domain create {name}");
    let mut last = None;
    for attempt in 0..SETUP_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
        }
        let xml = commands::domain_create(name, contact, auth, &epp_client::unique_cl_trid("bi"));
        let code = match conn.transact(&xml).await {
            Ok(response) => result_code(response).unwrap_or(0),
            Err(e) => {
                // No answer: the outcome is unknown; a new session finds out.
                last = Some(e.to_string());
                match target.session(s).await {
                    Ok(fresh) => *conn = fresh,
                    Err(e) => last = Some(e.label()),
                }
                continue;
            }
        };
        match code {
            1000..=1999 => return Ok(()),
            2302 if attempt > 0 => return Ok(()),
            2400 | 2502 => {
                last = Some(format!("answered {code}"));
                if code == 2502 {
                    // The server closes the session after a 2502.
                    match target.session(s).await {
                        Ok(fresh) => *conn = fresh,
                        Err(e) => last = Some(e.label()),
                    }
                }
            }
            code => {
                return Err(BenchError::Refused {
                    what,
                    code,
                    msg: String::new(),
                });
            }
        }
    }
    Err(BenchError::Refused {
        what: format!("{what} ({SETUP_ATTEMPTS} attempts)"),
        code: 2400,
        msg: last.unwrap_or_default(),
    })
}

pub(super) async fn expect_success(
    conn: &mut Connection,
    xml: &[u8],
    what: &str,
) -> Result<(), BenchError> {
    let response = conn.transact(xml).await?;
    match result_code(response) {
        Some(code) if code < 2000 => Ok(()),
        code => Err(BenchError::Refused {
            what: what.to_owned(),
            code: code.unwrap_or(0),
            msg: message(response),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrar_files_give_two_or_four_fields() {
        let text = "# clid password cert key\n\
                    \n\
                    r001 pw-r001-x /tmp/r001.pem /tmp/r001.key\n\
                    \t r002\tpw-r002-x  \n";
        let lines = parse_registrars(text).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].clid, "r001");
        assert_eq!(
            lines[0].files,
            Some(("/tmp/r001.pem".into(), "/tmp/r001.key".into()))
        );
        assert_eq!(
            (lines[1].clid.as_str(), lines[1].password.as_str()),
            ("r002", "pw-r002-x")
        );
        assert_eq!(lines[1].files, None);
        let bad = parse_registrars("r001 pw cert\n").unwrap_err();
        assert!(bad.starts_with("line 1:"), "{bad}");
        assert!(parse_registrars("# nobody\n\n").is_err());
    }

    #[test]
    fn messages_carry_the_reason() {
        let r = br#"<epp><response><result code="2306"><msg lang="en">Parameter value policy error</msg><extValue><value/><reason>R15: the registrant&apos;s identity</reason></extValue></result></response></epp>"#;
        assert_eq!(
            message(r),
            "Parameter value policy error (R15: the registrant's identity)"
        );
    }
}
