//! One EPP session per connection: the RFC 5730 state machine (greeting,
//! login, commands, logout), per-session language, login failures, the
//! time allowed to log in, the place among the connections not logged in,
//! and the registrar's session slot. frame → xml → flow → xml → frame.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tracing::{Instrument, debug, error, info, info_span, warn};

use crate::context::{ServerContext, SessionSlot, UnauthenticatedSlot};
use crate::error::EppError;
use crate::flows::{self, FlowCtx, Outcome, login, login_security};
use crate::model::{
    Command, ExtValue, Greeting, Lang, OffendingValue, Request, Response, ResponseExtension,
    ResultCode, SecurityEvent, Text, Timestamp,
};
use crate::quota::CommandClass;
use crate::store::Store;
use crate::transport::{self, FrameError};
use crate::xml::{self, ns, parse::ParseFailure};

/// Who is logged in on a session.
struct LoggedIn {
    registrar: String,
    /// Extension URIs the client selected at login.
    ext_uris: Vec<String>,
    /// The registrar's concurrent session limit.
    session_limit: u32,
    /// [`Store::registrars_epoch`] when the registrar was last seen active.
    registrars_epoch: std::cell::Cell<u64>,
    _slot: SessionSlot,
}

/// A session's state between frames.
struct Session {
    ctx: Arc<ServerContext>,
    peer: SocketAddr,
    cert_fingerprint: Option<String>,
    /// When the client certificate expires (RFC 8807 warnings).
    cert_expiry: Option<Timestamp>,
    lang: Lang,
    login: Option<LoggedIn>,
    failures: u32,
    /// The session's span: the clID is recorded there at login, so every
    /// later line of the session carries it.
    span: tracing::Span,
    /// The result code of the command being answered, for the metrics.
    answered: u16,
    /// The connection's place among those not logged in, until it logs in.
    unauthenticated: Option<UnauthenticatedSlot>,
    /// Whether the command being answered runs without its span (a query
    /// whose success is not logged).
    quiet: bool,
}

/// Serves one TCP connection until it ends, fails, idles out, or the
/// server shuts down. Once its TLS handshake is done it takes a place among
/// the sessions not logged in, held until it logs in; with none free it is
/// closed before the greeting. Connections still in their handshake do not
/// count: they hold no client certificate yet, and a flood of them, which
/// `handshake_timeout_secs` ends, must not lock the registrars out.
pub async fn serve_connection(ctx: Arc<ServerContext>, tcp: TcpStream, peer: SocketAddr) {
    let span = info_span!("session", %peer, registrar = tracing::field::Empty);
    let session_span = span.clone();
    async move {
        let limits = &ctx.settings.limits;
        let handshake = Duration::from_secs(limits.handshake_timeout_secs);
        let tls = match tokio::time::timeout(handshake, ctx.acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                info!(error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                info!("TLS handshake timed out");
                return;
            }
        };
        let Some(slot) = ctx.admit_unauthenticated() else {
            warn!("too many sessions not logged in; closed before the greeting");
            let mut tls = tls;
            let _ = tokio::time::timeout(
                Duration::from_secs(2),
                tokio::io::AsyncWriteExt::shutdown(&mut tls),
            )
            .await;
            return;
        };
        let client_cert = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first());
        let cert_fingerprint = client_cert.map(|cert| transport::fingerprint(cert.as_ref()));
        let cert_expiry =
            client_cert.and_then(|cert| login_security::certificate_expiry(cert.as_ref()));
        let mut session = Session {
            ctx: Arc::clone(&ctx),
            peer,
            cert_fingerprint,
            cert_expiry,
            lang: Lang::En,
            login: None,
            failures: 0,
            span: session_span,
            answered: 0,
            unauthenticated: Some(slot),
            quiet: false,
        };
        session.run(tls).await;
    }
    .instrument(span)
    .await
}

impl Session {
    async fn run(&mut self, mut tls: TlsStream<TcpStream>) {
        let limits = self.ctx.settings.limits.clone();
        let write_timeout = Duration::from_secs(limits.write_timeout_secs);
        let greeting = self.greeting();
        if transport::write_frame(&mut tls, &greeting, write_timeout)
            .await
            .is_err()
        {
            return;
        }
        let idle = Duration::from_secs(limits.idle_timeout_secs);
        let frame_timeout = Duration::from_secs(limits.frame_timeout_secs);
        // Until it logs in, the session has `login_timeout_secs` from its
        // greeting; every read is cut short to that.
        let login_by = tokio::time::Instant::now() + Duration::from_secs(limits.login_timeout_secs);
        let mut buf = Vec::with_capacity(4096);
        // Once the server stops, the session answers what the client had
        // already sent (a frame under way or arriving within the grace),
        // then closes: a command in flight at SIGTERM is never dropped.
        let grace = Duration::from_millis(self.ctx.settings.server.shutdown_grace_ms);
        let mut stopping = false;
        // One wait for the stop for the whole session: it registers with
        // the token once, not at every command.
        let shutdown = self.ctx.shutdown.clone().cancelled_owned();
        tokio::pin!(shutdown);
        loop {
            let (mut wait, mut frame_wait) = (if stopping { grace } else { idle }, frame_timeout);
            if self.login.is_none() {
                let left = login_by.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() {
                    info!("not logged in within the login timeout; closing");
                    break;
                }
                (wait, frame_wait) = (wait.min(left), frame_wait.min(left));
            }
            let read = {
                let next = transport::read_frame(
                    &mut tls,
                    &mut buf,
                    limits.max_frame_bytes,
                    wait,
                    frame_wait,
                );
                tokio::pin!(next);
                tokio::select! {
                    read = &mut next => read,
                    () = &mut shutdown, if !stopping => {
                        stopping = true;
                        match tokio::time::timeout(grace, &mut next).await {
                            Ok(read) => read,
                            Err(_) => break,
                        }
                    }
                }
            };
            if stopping && !matches!(read, Ok(true)) {
                break;
            }
            let (payload, close) = match read {
                Ok(true) => self.handle_frame(&buf).await,
                Ok(false) => break,
                Err(FrameError::TooLarge(n)) => {
                    info!(bytes = n, "frame over the size limit");
                    let err = EppError::Closing(Text::new(
                        format!(
                            "a frame of {n} bytes exceeds the limit of {} bytes",
                            limits.max_frame_bytes
                        ),
                        format!(
                            "une trame de {n} octets dépasse la limite de {} octets",
                            limits.max_frame_bytes
                        ),
                    ));
                    (self.error_response(&err, None), true)
                }
                Err(FrameError::Invalid(n)) => {
                    let err = EppError::Closing(Text::new(
                        format!("invalid frame length {n}"),
                        format!("longueur de trame invalide {n}"),
                    ));
                    (self.error_response(&err, None), true)
                }
                Err(e) if self.login.is_none() && tokio::time::Instant::now() >= login_by => {
                    info!(reason = %e, "not logged in within the login timeout; closing");
                    break;
                }
                Err(e) => {
                    info!(reason = %e, "closing session");
                    break;
                }
            };
            // An empty payload: no answer may be given (the outcome is unknown).
            let written = payload.is_empty()
                || transport::write_frame(&mut tls, &payload, write_timeout)
                    .await
                    .is_ok();
            if !written || close {
                break;
            }
        }
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            tokio::io::AsyncWriteExt::shutdown(&mut tls),
        )
        .await;
    }

    fn greeting(&self) -> Vec<u8> {
        xml::write_greeting(&Greeting {
            sv_id: &self.ctx.settings.server.server_id,
            sv_date: self.ctx.clock.now(),
            obj_uris: ns::OBJECT_URIS,
            ext_uris: ns::EXTENSION_URIS,
        })
    }

    fn store(&self) -> &Store {
        &self.ctx.store
    }

    /// Handles one frame; returns the bytes to send and whether to close
    /// after. No bytes: the command's outcome is unknown, so no answer may
    /// be given, and the session closes.
    async fn handle_frame(&mut self, frame: &[u8]) -> (Vec<u8>, bool) {
        let request = match xml::parse_request(frame, self.ctx.xml_limits) {
            Ok(request) => request,
            Err(ParseFailure { error, cl_trid }) => {
                debug!(error = %error, "request refused by the parser");
                return (self.error_response(&error, cl_trid), false);
            }
        };
        let started = std::time::Instant::now();
        let sv_trid = self.store().next_sv_trid();
        let command = request.command.name();
        // A query whose success is not logged gets its command span only if
        // it is refused (`handle_request`): making a span formats its
        // fields, a cost on every query that no line would show.
        self.quiet = CommandClass::of(&request.command) == CommandClass::Query
            && !matches!(
                request.command,
                Command::Hello | Command::Login(_) | Command::Logout
            )
            && self.ctx.settings.log.commands == crate::config::CommandLog::Transforms
            && !tracing::enabled!(tracing::Level::DEBUG);
        let span = if self.quiet {
            tracing::Span::none()
        } else {
            command_span(command, request.cl_trid.as_deref(), &sv_trid)
        };
        self.answered = 0;
        let answer = self
            .handle_request(request, frame, sv_trid)
            .instrument(span)
            .await;
        if self.answered != 0 {
            self.ctx
                .metrics
                .command(command, self.answered, started.elapsed());
        }
        answer
    }

    async fn handle_request(
        &mut self,
        request: Request,
        text: &[u8],
        sv_trid: String,
    ) -> (Vec<u8>, bool) {
        let Request { command, cl_trid } = request;
        let class = CommandClass::of(&command);
        let command_name = command.name();
        let cl_trid_ref = cl_trid.clone();
        let result = match command {
            Command::Hello => return (self.greeting(), false),
            Command::Login(login) => return self.answer_login(login, cl_trid, sv_trid).await,
            // The session slot is free before the answer leaves, so a
            // client that reconnects at once finds it.
            Command::Logout => match self.login.take() {
                Some(_) => Ok(Outcome::code(ResultCode::SuccessEndingSession)),
                None => Err(not_logged_in()),
            },
            command => match &self.login {
                None => Err(not_logged_in()),
                Some(logged_in) => 'run: {
                    if let Err(error) = self.still_active(logged_in) {
                        let response = self.error_to_response(&error, cl_trid, sv_trid);
                        self.answered = response.code.code();
                        info!(code = self.answered, "answered");
                        return (xml::write_response(&response), true);
                    }
                    let per_second =
                        crate::quota::rate(&self.ctx.settings.limits, &logged_in.registrar, class);
                    let taken = self.ctx.quotas.take(
                        &logged_in.registrar,
                        class,
                        per_second,
                        std::time::Instant::now(),
                    );
                    if per_second > 0
                        && let Err(state) = taken
                    {
                        warn!(class = class.as_str(), "command quota exceeded; closing");
                        let mut outcome = Outcome::code(ResultCode::Success);
                        outcome
                            .extensions
                            .push(ResponseExtension::MaQuota(vec![state]));
                        let (extensions, _) = self.select_extensions(outcome.extensions);
                        let error = EppError::SessionLimit(Text::new(
                            format!(
                                "command quota exceeded: {per_second} {} commands per second; the connection is closed",
                                class.as_str()
                            ),
                            format!(
                                "quota de commandes dépassé : {per_second} commandes de type {} par seconde ; la connexion est fermée",
                                class.as_str()
                            ),
                        ));
                        let mut response = self.error_to_response(&error, cl_trid, sv_trid);
                        response.extensions = extensions;
                        self.answered = response.code.code();
                        info!(code = self.answered, "answered");
                        return (xml::write_response(&response), true);
                    }
                    if matches!(command, Command::QuotaInfo) {
                        break 'run Ok(self.quota_info(logged_in));
                    }
                    let ctx = FlowCtx {
                        store: &self.ctx.store,
                        settings: &self.ctx.settings,
                        now: self.ctx.clock.now(),
                        registrar: &logged_in.registrar,
                        cl_trid: cl_trid_ref.as_deref(),
                        sv_trid: &sv_trid,
                        command: command_name,
                        request: text,
                    };
                    break 'run flows::run(&ctx, command).await;
                }
            },
        };
        if let Err(EppError::OutcomeUnknown(detail)) = &result {
            error!(%detail, "the change was committed but its flush failed, so its outcome is unknown; closing the session without an answer (the registrar queries the object)");
            return (Vec::new(), true);
        }
        let response = self.respond(result, cl_trid, sv_trid);
        let code = response.code.code();
        self.answered = code;
        // One line per transform and per refusal at info; successful
        // queries only at debug unless `[log] commands = "all"`.
        if code < 2000
            && class == CommandClass::Query
            && self.ctx.settings.log.commands == crate::config::CommandLog::Transforms
        {
            debug!(code, "answered");
        } else if self.quiet {
            command_span(command_name, response.cl_trid.as_deref(), &response.sv_trid)
                .in_scope(|| info!(code, "answered"));
        } else {
            info!(code, "answered");
        }
        let close = response.code.closes_session();
        (xml::write_response(&response), close)
    }

    /// The response to a flow's result, its extensions filtered by what
    /// the client selected.
    fn respond(
        &self,
        result: Result<Outcome, EppError>,
        cl_trid: Option<String>,
        sv_trid: String,
    ) -> Response {
        match result {
            Ok(outcome) => {
                let (extensions, ext_values) = self.select_extensions(outcome.extensions);
                Response {
                    code: outcome.code,
                    ext_values,
                    res_data: outcome.res_data,
                    extensions,
                    msg_q: outcome.msg_q,
                    lang: self.lang,
                    cl_trid,
                    sv_trid,
                }
            }
            Err(error) => self.error_to_response(&error, cl_trid, sv_trid),
        }
    }

    /// Whether the session's registrar is still active: a registrar the
    /// registry suspends or terminates loses its open sessions at their
    /// next command (2500, connection closed). The record is read again
    /// only when some registrar was written since the last look.
    fn still_active(&self, logged_in: &LoggedIn) -> Result<(), EppError> {
        let epoch = self.ctx.store.registrars_epoch();
        if epoch == logged_in.registrars_epoch.get() {
            return Ok(());
        }
        let state = self
            .ctx
            .store
            .registrar(&logged_in.registrar)?
            .map(|r| r.state);
        match state {
            Some(crate::model::RegistrarState::Active) => {
                logged_in.registrars_epoch.set(epoch);
                Ok(())
            }
            _ => {
                warn!("the registrar is no longer active; closing its session");
                Err(EppError::Closing(Text::new(
                    "the registry has suspended or terminated this registrar; the session is closed",
                    "le registre a suspendu ou résilié ce prestataire ; la session est fermée",
                )))
            }
        }
    }

    /// `<info><quota:info/></info>`: the state of the registrar's command
    /// quotas (the classes that have one) and of its sessions.
    fn quota_info(&self, logged_in: &LoggedIn) -> Outcome {
        let now = std::time::Instant::now();
        let registrar = &logged_in.registrar;
        let buckets = [CommandClass::Query, CommandClass::Transform]
            .into_iter()
            .filter_map(|class| {
                let rate = crate::quota::rate(&self.ctx.settings.limits, registrar, class);
                (rate > 0).then(|| self.ctx.quotas.peek(registrar, class, rate, now))
            })
            .collect();
        let mut outcome = Outcome::code(ResultCode::Success);
        outcome.res_data = Some(crate::model::ResData::QuotaInfo {
            registrar: registrar.clone(),
            buckets,
            session_limit: logged_in.session_limit,
            sessions_open: self.ctx.open_sessions(registrar),
        });
        outcome
    }

    /// Answers a login: the result, with the RFC 8807 security events when
    /// the client selected login security.
    async fn answer_login(
        &mut self,
        login: crate::model::Login,
        cl_trid: Option<String>,
        sv_trid: String,
    ) -> (Vec<u8>, bool) {
        let login_sec = login.ext_uris.iter().any(|u| u == ns::LOGIN_SEC);
        if let Some(agent) = &login.user_agent {
            info!(user_agent = %agent, "client software");
        }
        let mut events = Vec::new();
        let result = self.login(login, &mut events).await;
        let mut response = self.respond(result, cl_trid, sv_trid);
        if login_sec && !events.is_empty() {
            response
                .extensions
                .push(ResponseExtension::LoginSecData(events));
        }
        self.answered = response.code.code();
        info!(code = self.answered, "answered");
        let close = response.code.closes_session();
        (xml::write_response(&response), close)
    }

    async fn login(
        &mut self,
        login: crate::model::Login,
        events: &mut Vec<SecurityEvent>,
    ) -> Result<Outcome, EppError> {
        if self.login.is_some() {
            return Err(EppError::Use(Text::new(
                "this session is logged in already",
                "cette session est déjà authentifiée",
            )));
        }
        let lang = login::verify_options(&login)?;
        let limits = &self.ctx.settings.limits;
        let window = Duration::from_secs(limits.login_failure_window_secs);
        let now = std::time::Instant::now();
        let ip = self.peer.ip();
        if self
            .ctx
            .addresses
            .locked_out(ip, limits.login_failures_per_address, window, now)
        {
            warn!(%ip, "login refused: too many failed logins from this address");
            return Err(EppError::AuthenticationClosing(Text::new(
                "too many failed logins from this address; try again later",
                "trop d'échecs d'authentification depuis cette adresse ; réessayez plus tard",
            )));
        }
        let epoch = self.ctx.store.registrars_epoch();
        let authenticated = login::authenticate(
            &self.ctx.store,
            &self.ctx.password_cache,
            &self.ctx.failed_logins,
            &login,
            self.cert_fingerprint.as_deref(),
            self.peer.ip(),
        )
        .await;
        let mut registrar = match authenticated {
            Ok(registrar) => registrar,
            Err(err @ EppError::Authentication(_)) => {
                self.failures += 1;
                self.ctx.addresses.failed(ip, window, now);
                if self.failures >= self.ctx.settings.limits.max_login_failures {
                    warn!(failures = self.failures, "too many failed logins; closing");
                    return Err(EppError::AuthenticationClosing(Text::new(
                        format!("{} failed logins; the connection is closed", self.failures),
                        format!(
                            "{} échecs d'authentification ; la connexion est fermée",
                            self.failures
                        ),
                    )));
                }
                return Err(err);
            }
            Err(other) => return Err(other),
        };
        let settings = &self.ctx.settings.login;
        let now = self.ctx.clock.now();
        let expiry = login_security::password_expiry(&registrar, settings);
        if let Some(new_password) = &login.new_password {
            if let Err(refusal) = login_security::check_new_password(
                &registrar.id,
                &login.password,
                new_password,
                settings,
            ) {
                info!("login refused: the new password breaks the password rules");
                let reason = refusal.text.clone();
                events.push(refusal);
                return Err(EppError::Authentication(Text::new(
                    format!("the new password is refused: {}", reason.en),
                    format!("le nouveau mot de passe est refusé : {}", reason.fr),
                )));
            }
        } else if let Some(expiry) = expiry.filter(|e| *e <= now) {
            info!("login refused: the password has expired");
            events.push(login_security::password_expired(expiry));
            return Err(EppError::Authentication(Text::new(
                "the password has expired; log in with a new password (<newPW>)",
                "le mot de passe a expiré ; connectez-vous avec un nouveau mot de passe (<newPW>)",
            )));
        }
        let limit = registrar
            .session_limit
            .unwrap_or(self.ctx.settings.limits.default_session_limit);
        let Some(slot) = self.ctx.acquire_session(&registrar.id, limit) else {
            return Err(EppError::SessionLimit(Text::new(
                format!("the registrar's limit of {limit} concurrent sessions is reached"),
                format!("la limite de {limit} sessions simultanées du prestataire est atteinte"),
            )));
        };
        if let Some(new_password) = &login.new_password {
            let pw = new_password.clone();
            registrar.password_hash =
                tokio::task::spawn_blocking(move || login::hash_password(&pw))
                    .await
                    .map_err(|e| EppError::Internal(e.to_string()))?
                    .map_err(|e| EppError::Internal(e.to_string()))?;
            registrar.password_set = now;
            let audit = crate::store::registry_audit(
                &self.ctx.store,
                self.ctx.clock.now(),
                &registrar.id,
                "login:newPW",
            );
            self.ctx.store.put_registrar(&registrar, &audit)?;
            self.ctx.store.durable().await?;
            info!("registrar password changed at login");
        }
        self.span.record("registrar", registrar.id.as_str());
        let failures = self.ctx.failed_logins.succeeded(&registrar.id);
        let password_expiry = if login.new_password.is_some() {
            login_security::password_expiry(&registrar, settings)
        } else {
            expiry
        };
        events.extend(login_security::warnings(
            password_expiry,
            self.cert_expiry,
            failures,
            settings,
            now,
        ));
        self.lang = lang;
        // Logged in: its place among the connections not logged in is free.
        self.unauthenticated = None;
        self.login = Some(LoggedIn {
            registrar: registrar.id,
            ext_uris: login.ext_uris,
            session_limit: limit,
            registrars_epoch: std::cell::Cell::new(epoch),
            _slot: slot,
        });
        Ok(Outcome::code(ResultCode::Success))
    }

    /// RFC 9038: extension data of a namespace the client did not select at
    /// login moves into `<extValue>` of the result, so no client receives
    /// XML it did not ask for.
    fn select_extensions(
        &self,
        extensions: Vec<ResponseExtension>,
    ) -> (Vec<ResponseExtension>, Vec<ExtValue>) {
        let selected = self
            .login
            .as_ref()
            .map(|l| l.ext_uris.as_slice())
            .unwrap_or(&[]);
        let mut kept = Vec::with_capacity(extensions.len());
        let mut moved = Vec::new();
        for ext in extensions {
            let uri = ns::extension_uri(&ext);
            if selected.iter().any(|s| s == uri) {
                kept.push(ext);
            } else if uri == ns::FEE || matches!(ext, ResponseExtension::MaQuota(_)) {
                // RFC 8748: fee data goes only to clients that asked for it;
                // the quota report is informational, for `.ma` clients only.
            } else {
                moved.push(ExtValue {
                    value: Some(OffendingValue::Extension(ext)),
                    reason: Text::new(
                        format!("{uri} not in login services"),
                        format!("{uri} absent des services choisis à la connexion"),
                    ),
                });
            }
        }
        (kept, moved)
    }

    fn error_to_response(
        &self,
        error: &EppError,
        cl_trid: Option<String>,
        sv_trid: String,
    ) -> Response {
        if let EppError::Internal(detail) = error {
            error!(detail = %detail, "command failed");
        }
        Response {
            code: error.result_code(),
            ext_values: error
                .reason()
                .map(|reason| ExtValue {
                    value: error.offending_value().cloned(),
                    reason: reason.clone(),
                })
                .into_iter()
                .collect(),
            res_data: None,
            extensions: Vec::new(),
            msg_q: None,
            lang: self.lang,
            cl_trid,
            sv_trid,
        }
    }

    fn error_response(&self, error: &EppError, cl_trid: Option<String>) -> Vec<u8> {
        let sv_trid = self.store().next_sv_trid();
        let code = error.result_code().code();
        info!(code, "refused");
        self.ctx
            .metrics
            .command("(unreadable)", code, Duration::ZERO);
        xml::write_response(&self.error_to_response(error, cl_trid, sv_trid))
    }
}

/// The span of one command: every line logged while it runs carries its
/// name, clTRID and svTRID.
fn command_span(command: &str, cl_trid: Option<&str>, sv_trid: &str) -> tracing::Span {
    info_span!(
        "command",
        command,
        cltrid = cl_trid.unwrap_or(""),
        svtrid = %sv_trid,
    )
}

fn not_logged_in() -> EppError {
    EppError::Use(Text::new(
        "log in first: this command needs an authenticated session",
        "authentifiez-vous d'abord : cette commande exige une session authentifiée",
    ))
}
