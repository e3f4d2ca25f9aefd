//! `ma-registry admin` against a running server: the command travels over
//! the owner-only Unix socket in the data directory, runs in the server on
//! its store and clock, and takes effect at once; with no server (or a
//! stale socket) the command opens the store itself.

use std::os::unix::fs::PermissionsExt as _;

use crate::harness::*;

fn socket_of(server: &TestServer) -> std::path::PathBuf {
    server.settings.server.data_dir.join("admin.sock")
}

#[tokio::test]
async fn success_admin_socket_is_owner_only_and_removed_at_stop() {
    let mut server = TestServer::start().await;
    let path = socket_of(&server);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");
    server.stop().await;
    assert!(!path.exists(), "the socket is removed at shutdown");
}

#[tokio::test]
async fn success_registrar_added_on_a_running_server_logs_in_at_once() {
    let server = TestServer::start().await;
    let pem = server.cert_pem_file("reg3");
    let run = admin_live(
        &server,
        &[],
        Some("atlas-pw-1\n"),
        &[
            "registrar",
            "add",
            "atlas",
            "--name",
            "Atlas Domaines",
            "--password-stdin",
            "--cert",
            pem.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    assert!(run.out.contains("registrar atlas added"), "{}", run.out);
    let mut c = server.client("reg3").await;
    assert_eq!(
        c.cmd(&login_xml("atlas", "atlas-pw-1", "en")).await.code(),
        1000,
        "no restart needed"
    );
    // A relative certificate path is read from the operator's directory.
    let dir = pem.parent().unwrap().to_path_buf();
    let relative = pem.file_name().unwrap().to_str().unwrap().to_owned();
    let data = server.settings.server.data_dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_ma-registry"))
            .current_dir(dir)
            .arg("--data-dir")
            .arg(data)
            .args(["admin", "registrar", "cert", "add", "reg2", &relative])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn failure_refusals_through_the_socket_keep_their_exit_codes() {
    let server = TestServer::start().await;
    let run = admin_live(&server, &[], None, &["registrar", "credit", "ghost", "10"]).await;
    assert_eq!(run.code, 1, "{}{}", run.out, run.err);
    assert!(run.err.contains("no registrar ghost"), "{}", run.err);
    let run = admin_live(&server, &[], None, &["registrar", "frobnicate"]).await;
    assert_eq!(run.code, 2, "usage error: {}", run.err);
    let run = admin_live(
        &server,
        &[],
        Some(""),
        &["registrar", "passwd", "reg1", "--password-stdin"],
    )
    .await;
    assert_eq!(run.code, 1, "empty stdin: {}", run.err);
    // Nothing changed: reg1 still logs in with its password.
    let mut c = server.login("reg1").await;
    let r = c.cmd(&command("<logout/>", "lo-1")).await;
    assert_eq!(r.code(), 1500);
    let run = admin_live(
        &server,
        &[],
        None,
        &["--json", "registrar", "balance", "reg1"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let balance: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    assert_eq!(balance["clid"], "reg1");
}

#[tokio::test]
async fn success_operator_actions_run_on_the_server_clock_and_reach_history() {
    let server = TestServer::start_at("2031-05-01T10:00:00Z").await;
    let mut c = server.login("reg1").await;
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "c-1"))
            .await
            .code(),
        1000
    );
    assert_eq!(
        c.cmd(&command(&domain_create("socket.ma", "cnt-1", ""), "d-1"))
            .await
            .code(),
        1000
    );
    let run = admin_live(
        &server,
        &[("MA_REGISTRY_OPERATOR", "alice")],
        None,
        &["dispute", "open", "socket.ma", "--reason", "plainte"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    // The running session sees the dispute at once (R18 freezes updates).
    let upd = r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>socket.ma</domain:name><domain:add><domain:status s="clientHold"/></domain:add></domain:update></update>"#;
    assert_eq!(c.cmd(&command(upd, "u-1")).await.code(), 2304);
    let run = admin_live(
        &server,
        &[],
        None,
        &["--json", "history", "domain", "socket.ma"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let rows: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    let last = rows.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["who"], "operator:alice", "{last}");
    assert!(
        last["at"].as_str().unwrap().starts_with("2031-05-01"),
        "the server's clock, not the shell's: {last}"
    );
    // The life-cycle engine runs in the server, at the server's time.
    let run = admin_live(&server, &[], None, &["lifecycle", "run"]).await;
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(
        run.out.contains("life-cycle run at 2031-05-01"),
        "{}",
        run.out
    );
}

#[tokio::test]
async fn success_stale_socket_falls_back_to_the_store_and_is_replaced() {
    let mut server = TestServer::start().await;
    server.stop().await;
    let path = socket_of(&server);
    // A server that died leaves its socket file behind, with nobody listening.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let (ok, out) = admin(&server, None, &["registrar", "list"]);
    assert!(ok && out.contains("reg1"), "offline fallback: {out}");
    server.restart_at(None).await;
    let run = admin_live(&server, &[], None, &["registrar", "list"]).await;
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("reg1"));
}

#[tokio::test]
async fn success_registrar_show_limit_and_its_history() {
    let server = TestServer::start().await;
    let run = admin_live(&server, &[], None, &["registrar", "limit", "reg1", "1"]).await;
    assert_eq!(run.code, 0, "{}", run.err);
    let run = admin_live(&server, &[], None, &["registrar", "limit", "reg1", "0"]).await;
    assert_eq!(run.code, 1, "zero sessions: {}", run.out);
    let first = server.login("reg1").await;
    let mut second = server.client("reg1").await;
    let r = second.cmd(&login_xml("reg1", password("reg1"), "en")).await;
    assert_eq!(r.code(), 2502, "the new limit holds at once: {}", r.xml);
    drop((first, second));
    let run = admin_live(&server, &[], None, &["--json", "registrar", "show", "reg1"]).await;
    assert_eq!(run.code, 0, "{}", run.err);
    let shown: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    assert_eq!(shown["session_limit"], 1);
    assert_eq!(shown["state"], "active");
    assert_eq!(shown["domains"], 0);
    let run = admin_live(&server, &[], None, &["registrar", "show", "ghost"]).await;
    assert_eq!(run.code, 1);
    let run = admin_live(
        &server,
        &[("MA_REGISTRY_OPERATOR", "karim")],
        None,
        &["registrar", "suspend", "reg2"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let run = admin_live(
        &server,
        &[],
        None,
        &["--json", "history", "registrar", "reg2"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let rows: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    let last = rows.as_array().unwrap().last().unwrap();
    assert_eq!(last["who"], "operator:karim");
    assert_eq!(last["command"], "admin:registrar-suspended");
    assert_eq!(last["after"]["state"], "suspended");
    assert!(
        !run.out.contains("argon2"),
        "the history never shows the password hash"
    );
}

#[tokio::test]
async fn success_registry_statuses_on_domain_contact_and_host() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    for (body, code) in [
        (contact_create("cnt-1", "MA"), 1000),
        (domain_create("statut.ma", "cnt-1", ""), 1000),
    ] {
        let r = c.cmd(&command(&body, "st-setup")).await;
        assert_eq!(r.code(), code, "{}", r.xml);
    }
    let host = r#"<create><host:create xmlns:host="urn:ietf:params:xml:ns:host-1.0"><host:name>ns1.example.net</host:name></host:create></create>"#;
    assert_eq!(c.cmd(&command(host, "st-host")).await.code(), 1000);

    let cases: [(&[&str], i32); 7] = [
        (
            &[
                "status",
                "add",
                "domain",
                "statut.ma",
                "serverHold",
                "--reason",
                "ordre",
            ],
            0,
        ),
        (
            &[
                "status",
                "add",
                "domain",
                "statut.ma",
                "serverHold",
                "--reason",
                "twice",
            ],
            1,
        ),
        (
            &[
                "status",
                "add",
                "domain",
                "statut.ma",
                "clientHold",
                "--reason",
                "not ours",
            ],
            1,
        ),
        (
            &[
                "status",
                "add",
                "host",
                "ns1.example.net",
                "serverHold",
                "--reason",
                "no hold on hosts",
            ],
            1,
        ),
        (
            &[
                "status",
                "add",
                "contact",
                "cnt-1",
                "serverDeleteProhibited",
                "--reason",
                "litige",
            ],
            0,
        ),
        (
            &[
                "status",
                "add",
                "host",
                "ns1.example.net",
                "serverDeleteProhibited",
                "--reason",
                "infra",
            ],
            0,
        ),
        (
            &[
                "status",
                "remove",
                "domain",
                "ghost.ma",
                "serverHold",
                "--reason",
                "x",
            ],
            1,
        ),
    ];
    for (args, code) in cases {
        let run = admin_live(&server, &[], None, args).await;
        assert_eq!(run.code, code, "{args:?}: {}{}", run.out, run.err);
    }
    let info = c
        .cmd(&command(&domain_info("statut.ma", "all", None), "st-i"))
        .await;
    assert!(
        info.attrs("status", "s").contains(&"serverHold".to_owned()),
        "{}",
        info.xml
    );
    let del = r#"<delete><contact:delete xmlns:contact="urn:ietf:params:xml:ns:contact-1.0"><contact:id>cnt-1</contact:id></contact:delete></delete>"#;
    assert_eq!(c.cmd(&command(del, "st-del")).await.code(), 2304);
    let del = r#"<delete><host:delete xmlns:host="urn:ietf:params:xml:ns:host-1.0"><host:name>ns1.example.net</host:name></host:delete></delete>"#;
    assert_eq!(c.cmd(&command(del, "st-hdel")).await.code(), 2304);
    // The sponsor was told each time, with change-poll data.
    let r = c.cmd(&command(r#"<poll op="req"/>"#, "st-poll")).await;
    assert_eq!(r.code(), 1301, "{}", r.xml);
    assert_eq!(r.attrs("msgQ", "count"), ["3"], "{}", r.xml);
    assert!(r.xml.contains("serverStatusAdded"), "{}", r.xml);
    let run = admin_live(
        &server,
        &[],
        None,
        &[
            "status",
            "remove",
            "domain",
            "statut.ma",
            "serverHold",
            "--reason",
            "levée",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let info = c
        .cmd(&command(&domain_info("statut.ma", "all", None), "st-i2"))
        .await;
    assert!(
        !info.attrs("status", "s").contains(&"serverHold".to_owned()),
        "{}",
        info.xml
    );
}

#[tokio::test]
async fn success_registrar_address_is_recorded_and_an_incomplete_one_refused() {
    let server = TestServer::start().await;
    let refused = [
        &[
            "registrar",
            "address",
            "reg1",
            "--city",
            "Rabat",
            "--cc",
            "MA",
        ][..],
        &[
            "registrar",
            "address",
            "reg1",
            "--street",
            "1 rue",
            "--cc",
            "MA",
        ],
        &[
            "registrar",
            "address",
            "reg1",
            "--street",
            "1 rue",
            "--city",
            "Rabat",
            "--cc",
            "MAR",
        ],
        &[
            "registrar",
            "address",
            "ghost",
            "--street",
            "1 rue",
            "--city",
            "Rabat",
            "--cc",
            "MA",
        ],
    ];
    for args in refused {
        let run = admin_live(&server, &[], None, args).await;
        assert_eq!(run.code, 1, "{args:?}: {}", run.out);
    }
    let show = admin_live(&server, &[], None, &["--json", "registrar", "show", "reg1"]).await;
    let shown: serde_json::Value = serde_json::from_str(&show.out).unwrap();
    assert!(shown["address"].is_null(), "nothing recorded by a refusal");
    let run = admin_live(
        &server,
        &[],
        None,
        &[
            "registrar",
            "address",
            "reg1",
            "--street",
            "12 avenue Hassan II",
            "--city",
            "Rabat",
            "--pc",
            "10000",
            "--cc",
            "ma",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let show = admin_live(&server, &[], None, &["--json", "registrar", "show", "reg1"]).await;
    let shown: serde_json::Value = serde_json::from_str(&show.out).unwrap();
    assert_eq!(shown["address"]["cc"], "MA");
    assert_eq!(shown["address"]["pc"], "10000");
    let history = admin_live(
        &server,
        &[],
        None,
        &["--json", "history", "registrar", "reg1"],
    )
    .await;
    assert!(
        history.out.contains("admin:registrar-address"),
        "{}",
        history.out
    );
}

#[tokio::test]
async fn success_suspending_a_registrar_closes_its_open_sessions() {
    let server = TestServer::start().await;
    let mut suspended = server.login("reg2").await;
    let mut other = server.login("reg1").await;
    let r = suspended
        .cmd(&command(&check("domain", &["libre.ma"]), "susp-0"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    // A change to another registrar's record does not disturb the session.
    let run = admin_live(&server, &[], None, &["registrar", "limit", "reg3", "4"]).await;
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    let r = suspended
        .cmd(&command(&check("domain", &["libre.ma"]), "susp-1"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);

    let run = admin_live(&server, &[], None, &["registrar", "suspend", "reg2"]).await;
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    let r = suspended
        .cmd(&command(&contact_create("susp-c", "MA"), "susp-2"))
        .await;
    assert_eq!(r.code(), 2500, "{}", r.xml);
    assert!(r.reason().unwrap().contains("suspended"), "{}", r.xml);
    assert!(suspended.is_closed().await);
    // Nothing was created, and other registrars are served as before.
    let r = other
        .cmd(&command(&check("contact", &["susp-c"]), "susp-3"))
        .await;
    assert_eq!(r.attrs("id", "avail"), ["1"], "{}", r.xml);
    // Active again, the registrar logs in.
    let run = admin_live(&server, &[], None, &["registrar", "activate", "reg2"]).await;
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    let mut back = server.login("reg2").await;
    let r = back
        .cmd(&command(&check("domain", &["libre.ma"]), "susp-4"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
}

#[tokio::test]
async fn success_admin_commands_are_logged_by_name_and_never_with_a_password() {
    let mut setup = TestServer::start().await;
    setup.stop().await;
    let data = setup.settings.server.data_dir.clone();
    let config = serve_config(&setup, "logged.toml", "");
    let log = data.with_file_name("serve.log");
    let (mut child, addr) = spawn_serve_logged(&config, "debug", &log);
    let (ok, _, err) = admin_in(
        &data,
        None,
        &[
            "--operator",
            "amina",
            "registrar",
            "passwd",
            "reg2",
            "--password",
            "S3cret-Value-99",
        ],
    );
    assert!(ok, "{err}");
    let pem = setup.cert_pem_file("reg3");
    let (ok, _, err) = admin_in(
        &data,
        None,
        &[
            "registrar",
            "add",
            "atlas",
            "--name",
            "Atlas",
            "--password",
            "Added-Secret-55",
            "--cert",
            pem.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    // The new password works, and a wrong one is refused: both go through
    // the log's hands too.
    let mut c = RawClient::connect(addr, setup.client_config("reg2")).await;
    let r = c.cmd(&login_xml("reg2", "Wrong-Guess-4242", "en")).await;
    assert_eq!(r.code(), 2200, "{}", r.xml);
    let r = c.cmd(&login_xml("reg2", "S3cret-Value-99", "en")).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let text = log_once_written(&log, "registrar add");
    assert!(
        text.lines().any(|l| l.contains("admin command")
            && l.contains("registrar passwd")
            && l.contains("amina")),
        "no line names the command and the operator:\n{text}"
    );
    child.signal(libc::SIGTERM);
    child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("wrong password"), "{text}");
    for secret in ["S3cret-Value-99", "Added-Secret-55", "Wrong-Guess-4242"] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
}
