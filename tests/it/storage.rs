//! The store's promises, tried on the real binary: an acknowledged create
//! is covered by an `fdatasync` (counted under strace); SIGTERM answers the
//! commands in flight; a full disk refuses writes with 2400, keeps reads
//! going, never answers "failed" for a change that was made, and takes
//! writes again by itself once there is room; a damaged store is refused
//! at start with the file named, never with a panic.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::harness::*;

/// A stopped test server with credit for reg1 and a registrant contact,
/// and a configuration for `ma-registry serve` on its store.
async fn prepared(extra_toml: &str) -> (TestServer, PathBuf) {
    let mut setup = TestServer::start().await;
    {
        let mut c = setup.login("reg1").await;
        let r = c
            .cmd(&command(&contact_create("cnt-s", "MA"), "st-c"))
            .await;
        assert_eq!(r.code(), 1000, "{}", r.xml);
    }
    setup.stop().await;
    let data = setup.settings.server.data_dir.clone();
    let (ok, _, err) = admin_in(&data, None, &["registrar", "credit", "reg1", "1000000"]);
    assert!(ok, "{err}");
    let config = serve_config(&setup, "storage.toml", extra_toml);
    (setup, config)
}

/// A session of reg1 on a server started by [`spawn_serve`].
async fn session(setup: &TestServer, addr: std::net::SocketAddr) -> RawClient {
    let mut c = RawClient::connect(addr, setup.client_config("reg1")).await;
    let r = c.cmd(&login_xml("reg1", password("reg1"), "en")).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    c
}

fn create(name: &str) -> String {
    command(&domain_create(name, "cnt-s", ""), "st-d")
}

/// How many `fdatasync` calls that succeeded a strace log records.
fn successful_fdatasyncs(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .filter(|l| l.contains("fdatasync(") && l.trim_end().ends_with("= 0"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durability_each_acknowledged_create_is_covered_by_an_fdatasync() {
    if sled_only("durability_each_acknowledged_create_is_covered_by_an_fdatasync") {
        return;
    }
    const CREATES: usize = 40;
    let (setup, config) = prepared("").await;
    let trace = setup
        .settings
        .server
        .data_dir
        .parent()
        .unwrap()
        .join("sync.trace");
    let trace_arg = trace.to_str().unwrap().to_owned();
    let (mut server, addr) = spawn_serve(
        &config,
        &[
            "strace",
            "-f",
            "-qq",
            "-e",
            "trace=fdatasync",
            "-o",
            &trace_arg,
        ],
    );
    let mut c = session(&setup, addr).await;
    // One session, one create at a time: no two creates can share a flush,
    // so each acknowledgement needs a sync of its own.
    for i in 0..CREATES {
        let r = c.cmd(&create(&format!("sync-{i}.ma"))).await;
        assert_eq!(r.code(), 1000, "{}", r.xml);
    }
    drop(c);
    server.signal(libc::SIGTERM);
    assert!(server.wait().success());
    let syncs = successful_fdatasyncs(&trace);
    assert!(
        syncs >= CREATES,
        "{syncs} fdatasync calls for {CREATES} acknowledged creates"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_sigterm_answers_every_command_in_flight() {
    const SESSIONS: usize = 32;
    let (setup, config) = prepared("\n[limits]\ndefault_session_limit = 40\n").await;
    let (mut server, addr) = spawn_serve(&config, &[]);
    let mut sessions = Vec::new();
    for _ in 0..SESSIONS {
        sessions.push(session(&setup, addr).await);
    }
    // Every session sends a create, and the server is told to stop before
    // any answer is read.
    for (n, c) in sessions.iter_mut().enumerate() {
        c.write_raw(&frame(&create(&format!("term-{n}.ma")))).await;
    }
    server.signal(libc::SIGTERM);
    let mut answered = 0;
    for (n, mut c) in sessions.into_iter().enumerate() {
        let r = c
            .recv()
            .await
            .unwrap_or_else(|| panic!("create {n} in flight got no answer"));
        assert_eq!(r.code(), 1000, "{}", r.xml);
        answered += 1;
        assert!(c.is_closed().await, "the session closes after its answer");
    }
    assert_eq!(answered, SESSIONS);
    assert!(server.wait().success(), "serve exits 0 after SIGTERM");

    // Every create answered is in the store.
    let (mut server, addr) = spawn_serve(&config, &[]);
    let mut c = session(&setup, addr).await;
    for n in 0..SESSIONS {
        let r = c
            .cmd(&command(
                &domain_info(&format!("term-{n}.ma"), "none", None),
                "st-i",
            ))
            .await;
        assert_eq!(r.code(), 1000, "term-{n}.ma: {}", r.xml);
    }
    drop(c);
    server.kill();
}

/// Sets the soft file-size limit (`ulimit -f`) of process `pid`, in bytes.
fn limit_file_size(pid: u32, bytes: u64) {
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let pid = libc::pid_t::try_from(pid).unwrap();
    // SAFETY: prlimit reads and writes the two rlimit structs given.
    let got = unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, std::ptr::null(), &mut current) };
    assert_eq!(got, 0, "{}", std::io::Error::last_os_error());
    let wanted = libc::rlimit {
        rlim_cur: bytes.min(current.rlim_max),
        rlim_max: current.rlim_max,
    };
    // SAFETY: as above.
    let set = unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, &wanted, std::ptr::null_mut()) };
    assert_eq!(set, 0, "{}", std::io::Error::last_os_error());
}

/// The outcome of one create against a disk that may be full.
enum Outcome {
    Created,
    Refused(String),
    /// No answer: the server closed the session (the outcome is unknown).
    Unanswered,
}

/// Sends a create on `c` (reconnecting when the server closed it) and
/// reads its outcome.
async fn try_create(
    setup: &TestServer,
    addr: std::net::SocketAddr,
    c: &mut Option<RawClient>,
    name: &str,
) -> Outcome {
    if c.is_none() {
        *c = Some(session(setup, addr).await);
    }
    let client = c.as_mut().unwrap();
    client.send(&create(name)).await;
    match client.recv().await {
        Some(r) if r.code() == 1000 => Outcome::Created,
        Some(r) => {
            assert_eq!(r.code(), 2400, "{}", r.xml);
            Outcome::Refused(r.reason().unwrap_or_default())
        }
        None => {
            *c = None;
            Outcome::Unanswered
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_a_full_disk_refuses_writes_keeps_reads_and_recovers_without_restart() {
    if sled_only("failure_a_full_disk_refuses_writes_keeps_reads_and_recovers_without_restart") {
        return;
    }
    let health_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (setup, config) = prepared(&format!(
        "\n[store]\nrecovery_interval_ms = 100\nmin_free_mib = 1\n\n[metrics]\nlisten = \"127.0.0.1:{health_port}\"\n"
    ))
    .await;
    let health: std::net::SocketAddr = ([127, 0, 0, 1], health_port).into();
    let data = setup.settings.server.data_dir.clone();
    let (mut server, addr) = spawn_serve(&config, &[]);
    let pid = server.child().id();
    let mut c = Some(session(&setup, addr).await);
    let r = try_create(&setup, addr, &mut c, "before-full.ma").await;
    assert!(matches!(r, Outcome::Created));

    // What the reads below will need is read once before the disk fills:
    // after its first write error sled serves the pages it holds in
    // memory but loads none from disk (operations.md), so which reads go
    // on would otherwise depend on how many creates fit before the limit.
    let mut reader = session(&setup, addr).await;
    let r = reader
        .cmd(&command(
            &domain_info("before-full.ma", "none", None),
            "st-r0",
        ))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let r = reader
        .cmd(&command(&check("domain", &["libre-x.ma"]), "st-k0"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);

    // The disk "fills": no file of the server may grow past its size now.
    let size = std::fs::metadata(data.join("db")).unwrap().len();
    limit_file_size(pid, size);
    let mut created = Vec::new();
    let mut refused = Vec::new();
    let mut unanswered = Vec::new();
    for i in 0..400 {
        let name = format!("full-{i}.ma");
        match try_create(&setup, addr, &mut c, &name).await {
            Outcome::Created => created.push(name),
            Outcome::Refused(reason) => {
                assert!(reason.contains("nothing was changed"), "{reason}");
                refused.push(name);
            }
            Outcome::Unanswered => unanswered.push(name),
        }
        if refused.len() >= 5 {
            break;
        }
    }
    // The first create to meet the failure was committed in memory and
    // could not be flushed: its outcome is unknown, so it got no answer
    // (never a 2400), and its session was closed.
    assert!(
        !unanswered.is_empty(),
        "the create whose flush failed was answered"
    );
    assert!(
        refused.len() >= 5,
        "writes are refused once the disk is full (created {}, unanswered {})",
        created.len(),
        unanswered.len()
    );
    // The health endpoint says why writes are refused.
    let (status, _, body) = http_get(health, "/health").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("store writes suspended"), "{body}");
    // Reads go on.
    let r = reader
        .cmd(&command(
            &domain_info("before-full.ma", "none", None),
            "st-r",
        ))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let r = reader
        .cmd(&command(&check("domain", &["libre-x.ma"]), "st-k"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);

    // Room again: writes come back by themselves, no restart.
    limit_file_size(pid, u64::MAX);
    let mut back = None;
    for i in 0..200 {
        let name = format!("after-{i}.ma");
        if let Outcome::Created = try_create(&setup, addr, &mut c, &name).await {
            back = Some(name);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let back = back.expect("writes work again once the disk has room");
    let (status, _, body) = http_get(health, "/health").await;
    assert_eq!((status, body.as_str()), (200, "ready\n"));

    // What each answer said holds after a restart: every create answered
    // 1000 is there, every create answered 2400 is not.
    drop(c);
    drop(reader);
    server.signal(libc::SIGTERM);
    assert!(server.wait().success());
    let (mut server, addr) = spawn_serve(&config, &[]);
    let mut c = session(&setup, addr).await;
    for name in created.iter().chain([&back]) {
        let r = c
            .cmd(&command(&domain_info(name, "none", None), "st-i"))
            .await;
        assert_eq!(r.code(), 1000, "{name} was acknowledged: {}", r.xml);
    }
    for name in &refused {
        let r = c
            .cmd(&command(&domain_info(name, "none", None), "st-i"))
            .await;
        assert_eq!(r.code(), 2303, "{name} was answered 2400: {}", r.xml);
    }
    drop(c);
    server.kill();
    let (ok, _, err) = admin_in(&data, None, &["history", "verify"]);
    assert!(ok, "{err}");
}

/// Runs the real binary with `args` on `data`; returns its exit code and
/// what it printed.
fn run(data: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ma-registry"))
        .envs(store_env(data))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("MA_REGISTRY_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A stopped server's store with some domains in it.
async fn store_with_domains() -> TestServer {
    let mut server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(&contact_create("cnt-v", "MA"), "st-c"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    for i in 0..30 {
        let r = c
            .cmd(&command(
                &domain_create(&format!("verif-{i}.ma"), "cnt-v", ""),
                "st-d",
            ))
            .await;
        assert_eq!(r.code(), 1000, "{}", r.xml);
    }
    drop(c);
    server.stop().await;
    server
}

#[tokio::test]
async fn success_serve_check_and_store_verify_pass_a_sound_store() {
    let server = store_with_domains().await;
    let data = &server.settings.server.data_dir;
    let (code, out) = run(data, &["serve", "--check"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("the store is sound"), "{out}");
    let (code, out) = run(data, &["admin", "--json", "store", "verify"]);
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(json["sound"], true, "{json}");
    assert!(json["records"].as_u64().unwrap() > 30, "{json}");
}

#[tokio::test]
async fn failure_a_truncated_store_is_refused_with_the_file_named() {
    if sled_only("failure_a_truncated_store_is_refused_with_the_file_named") {
        return;
    }
    let server = store_with_domains().await;
    let data = &server.settings.server.data_dir;
    let db = data.join("db");
    // Cut in the middle of what sled wrote (the file's tail is zeros).
    let bytes = std::fs::read(&db).unwrap();
    let written = bytes.iter().rposition(|b| *b != 0).unwrap() as u64;
    let file = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    file.set_len(written / 2).unwrap();
    drop(file);
    for args in [
        &["serve", "--check"][..],
        &["admin", "registrar", "list"][..],
        &["serve", "--epp-listen", "127.0.0.1:0"][..],
    ] {
        let (code, out) = run(data, args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert_ne!(code, 101, "{args:?} panicked: {out}");
        assert!(!out.contains("panicked"), "{args:?}: {out}");
        assert!(out.contains("damaged"), "{args:?}: {out}");
        assert!(out.contains(&db.display().to_string()), "{args:?}: {out}");
    }
}

#[tokio::test]
async fn failure_a_store_with_flipped_bytes_is_refused_with_the_file_named() {
    if sled_only("failure_a_store_with_flipped_bytes_is_refused_with_the_file_named") {
        return;
    }
    let server = store_with_domains().await;
    let data = &server.settings.server.data_dir;
    let db = data.join("db");
    let mut bytes = std::fs::read(&db).unwrap();
    // 20 bytes in the middle of what sled wrote (the file's tail is zeros).
    let written = bytes.iter().rposition(|b| *b != 0).unwrap();
    let at = written / 2;
    for b in &mut bytes[at..at + 20] {
        *b ^= 0xff;
    }
    std::fs::write(&db, &bytes).unwrap();
    for args in [&["serve", "--check"][..], &["admin", "stats"][..]] {
        let (code, out) = run(data, args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert_ne!(code, 101, "{args:?} panicked: {out}");
        assert!(out.contains("damaged"), "{args:?}: {out}");
        assert!(out.contains(&db.display().to_string()), "{args:?}: {out}");
    }
}

#[tokio::test]
async fn failure_a_log_cut_short_of_its_last_flush_is_refused() {
    if sled_only("failure_a_log_cut_short_of_its_last_flush_is_refused") {
        return;
    }
    let server = store_with_domains().await;
    let data = &server.settings.server.data_dir;
    let db = data.join("db");
    let bytes = std::fs::read(&db).unwrap();
    // Cut just before the end of what sled wrote: the last records go.
    let written = bytes.iter().rposition(|b| *b != 0).unwrap();
    std::fs::write(&db, &bytes[..written - 64]).unwrap();
    let (code, out) = run(data, &["serve", "--check"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("damaged"), "{out}");
    assert!(out.contains(&db.display().to_string()), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_serve_tells_systemd_when_it_is_ready_and_when_it_stops() {
    let (setup, config) = prepared("").await;
    let socket_path = setup
        .settings
        .server
        .data_dir
        .parent()
        .unwrap()
        .join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let (mut server, addr) = spawn_serve_with(
        &config,
        &[],
        &[("NOTIFY_SOCKET", socket_path.to_str().unwrap())],
        None,
    );
    let mut buf = [0u8; 256];
    let n = socket.recv(&mut buf).expect("READY=1 from the server");
    assert_eq!(&buf[..n], b"READY=1\n");
    // Ready means serving.
    let c = session(&setup, addr).await;
    drop(c);
    server.signal(libc::SIGTERM);
    let n = socket.recv(&mut buf).expect("STOPPING=1 from the server");
    assert_eq!(&buf[..n], b"STOPPING=1\n");
    assert!(server.wait().success());
}
