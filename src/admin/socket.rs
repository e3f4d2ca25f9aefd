//! The admin channel of a running server: a Unix socket in the data
//! directory (`admin.sock`). Its file mode (0600) is its access control, and
//! the peer's uid must be the socket owner's too. One request per
//! connection: the command line, the operator, the working directory and
//! standard input as one JSON document; the answer: exit code, report and
//! diagnostics, as one JSON document.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument as _, info, info_span, warn};

use super::command_line::{self, ParsedCommand};
use super::{Ctx, execute};
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::Store;

/// The largest request accepted (a reserved-list import on stdin fits).
const MAX_REQUEST_BYTES: u64 = 16 * 1024 * 1024;

/// The socket's file name in the data directory.
pub const SOCKET_FILE: &str = "admin.sock";

/// One operator command sent to the server.
#[derive(Debug, Serialize, Deserialize)]
pub struct AdminRequest {
    /// The whole command line, program name first.
    pub argv: Vec<String>,
    /// The operator's name.
    pub operator: String,
    /// The operator's working directory (relative file names).
    pub cwd: PathBuf,
    /// Standard input, for the commands that read it.
    pub stdin: Option<String>,
}

/// The server's answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct AdminReply {
    /// 0 done, 1 refused or failed, 2 usage error.
    pub code: u8,
    /// The report.
    pub out: String,
    /// Diagnostics.
    pub err: String,
}

/// The socket of the server using `settings`' data directory.
pub fn socket_path(settings: &Settings) -> PathBuf {
    settings.server.data_dir.join(SOCKET_FILE)
}

/// Binds the socket owner-only. A stale file (a server that crashed) is
/// replaced; the file is bound under a temporary name, restricted, then
/// renamed, so it is never reachable with wider permissions.
///
/// # Errors
/// When the directory is not writable or another server answers there.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("another server answers on {}", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let staging = path.with_extension(format!("sock.{}", std::process::id()));
    let _ = std::fs::remove_file(&staging);
    let listener = UnixListener::bind(&staging)?;
    std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o600))?;
    std::fs::rename(&staging, path)?;
    Ok(listener)
}

/// What the admin listener serves with.
pub struct AdminService {
    /// The store.
    pub store: Store,
    /// The server's settings.
    pub settings: Arc<Settings>,
    /// The server's clock.
    pub clock: Clock,
}

/// Serves operator commands until `shutdown`, then removes the socket.
pub async fn serve(
    listener: UnixListener,
    path: PathBuf,
    service: Arc<AdminService>,
    shutdown: CancellationToken,
) {
    let owner = std::fs::metadata(&path).map(|m| m.uid()).ok();
    let tasks = TaskTracker::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let peer = stream.peer_cred().map(|c| c.uid()).ok();
                    if owner.is_none() || peer != owner {
                        warn!(?peer, "admin connection from another user refused");
                        continue;
                    }
                    let service = Arc::clone(&service);
                    tasks.spawn(
                        answer(stream, service).instrument(info_span!("admin", uid = ?peer)),
                    );
                }
                Err(e) => {
                    warn!(error = %e, "admin accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
    drop(listener);
    tasks.close();
    tasks.wait().await;
    let _ = std::fs::remove_file(&path);
}

async fn answer(mut stream: UnixStream, service: Arc<AdminService>) {
    let mut raw = Vec::new();
    let reply = match (&mut stream)
        .take(MAX_REQUEST_BYTES)
        .read_to_end(&mut raw)
        .await
    {
        Ok(_) => match serde_json::from_slice::<AdminRequest>(&raw) {
            Ok(request) => run(&service, request).await,
            Err(e) => failure(2, format!("error: malformed admin request: {e}")),
        },
        Err(e) => failure(1, format!("error: reading the request: {e}")),
    };
    match serde_json::to_vec(&reply) {
        Ok(bytes) => {
            if let Err(e) = stream.write_all(&bytes).await {
                warn!(error = %e, "admin reply not delivered");
            }
            let _ = stream.shutdown().await;
        }
        Err(e) => warn!(error = %e, "admin reply not encoded"),
    }
}

async fn run(service: &AdminService, request: AdminRequest) -> AdminReply {
    let ParsedCommand { args, name } = match command_line::parse(&request.argv) {
        Ok(parsed) => parsed,
        Err(usage) => {
            info!(operator = %request.operator, "admin command line refused");
            return failure(2, usage);
        }
    };
    let mut ctx = Ctx {
        store: &service.store,
        settings: &service.settings,
        now: service.clock.now(),
        operator: request.operator,
        json: args.json,
        cwd: request.cwd,
        stdin: request.stdin,
        out: String::new(),
        err: String::new(),
    };
    // The command's name only: its arguments may hold a password.
    info!(operator = %ctx.operator, command = %name, "admin command");
    let code = match execute(&mut ctx, &args.command).await {
        Ok(()) => 0,
        Err(e) => {
            info!(operator = %ctx.operator, command = %name, "admin command refused");
            use std::fmt::Write as _;
            let _ = writeln!(ctx.err, "error: {}", crate::error::error_line(&e));
            1
        }
    };
    AdminReply {
        code,
        out: ctx.out,
        err: ctx.err,
    }
}

fn failure(code: u8, err: String) -> AdminReply {
    AdminReply {
        code,
        out: String::new(),
        err: if err.ends_with('\n') {
            err
        } else {
            format!("{err}\n")
        },
    }
}

/// Sends `request` to the server listening on `path`. `Ok(None)` when no
/// server is running there (no socket, or a stale one nobody answers, or
/// no data directory).
///
/// # Errors
/// When a server answers but the exchange fails.
pub fn call(path: &Path, request: &AdminRequest) -> std::io::Result<Option<AdminReply>> {
    let mut stream = match std::os::unix::net::UnixStream::connect(path) {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let body = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    stream.write_all(&body)?;
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    if raw.is_empty() {
        return Err(std::io::Error::other(
            "the server closed the admin connection without answering (another user?)",
        ));
    }
    serde_json::from_slice(&raw)
        .map(Some)
        .map_err(std::io::Error::other)
}
