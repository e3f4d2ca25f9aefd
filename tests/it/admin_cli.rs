//! The operator's `admin registrar` commands, run as the real binary on a
//! stopped store; then the server started on that store admits the
//! registrar they made, with the certificate and password they recorded.

use ma_registry::clock::Clock;
use ma_registry::store::Store;

use crate::harness::*;

/// A server with the standard test registrars, stopped, so the CLI can open its store.
async fn stopped_server() -> TestServer {
    let mut server = TestServer::start().await;
    server.stop().await;
    server
}

#[tokio::test]
async fn success_registrar_add_list_passwd_cert_then_login() {
    let mut server = stopped_server().await;
    let data = server.settings.server.data_dir.clone();
    let pem = server.cert_pem_file("reg3");
    // reg3 exists in the test store; add a new registrar that uses reg3's certificate.
    let (ok, out, err) = admin_in(
        &data,
        None,
        &[
            "registrar",
            "add",
            "atlas",
            "--name",
            "Atlas Domaines",
            "--password",
            "atlas-pw-1",
            "--cert",
            pem.to_str().unwrap(),
            "--email",
            "noc@atlas.example",
        ],
    );
    assert!(ok, "{out}{err}");
    let (ok, out, _) = admin_in(
        &data,
        None,
        &[
            "registrar",
            "add",
            "atlas",
            "--name",
            "x",
            "--password",
            "abcdef",
        ],
    );
    assert!(!ok, "adding a registrar twice must fail: {out}");
    let (ok, out, _) = admin_in(
        &data,
        None,
        &[
            "registrar",
            "add",
            "x",
            "--name",
            "x",
            "--password",
            "abcdef",
        ],
    );
    assert!(!ok, "a 1-character clID must be refused: {out}");
    let (ok, out, _) = admin_in(
        &data,
        None,
        &[
            "registrar",
            "add",
            "shortpw",
            "--name",
            "x",
            "--password",
            "abc",
        ],
    );
    assert!(!ok, "a 3-character password must be refused: {out}");
    let (ok, out, _) = admin_in(&data, None, &["--json", "registrar", "list"]);
    assert!(ok);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let atlas = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["clid"] == "atlas")
        .expect("atlas listed");
    assert_eq!(atlas["certificates"].as_array().unwrap().len(), 1);
    let (ok, table, _) = admin_in(&data, None, &["registrar", "list"]);
    assert!(ok && table.contains("atlas") && table.contains("Atlas Domaines"));
    let (ok, _, _) = admin_in(
        &data,
        None,
        &["registrar", "passwd", "atlas", "--password", "atlas-pw-2"],
    );
    assert!(ok);
    let (ok, _, _) = admin_in(
        &data,
        None,
        &["registrar", "passwd", "ghost", "--password", "atlas-pw-2"],
    );
    assert!(!ok, "unknown registrar");
    let (ok, fps, _) = admin_in(&data, None, &["registrar", "cert", "list", "atlas"]);
    assert!(ok && fps.trim().len() == 64);

    server.restart_at(None).await;
    let mut c = RawClient::connect(server.addr(), server.client_config("reg3")).await;
    assert_eq!(
        c.cmd(&login_xml("atlas", "atlas-pw-1", "en")).await.code(),
        2200
    );
    assert_eq!(
        c.cmd(&login_xml("atlas", "atlas-pw-2", "en")).await.code(),
        1000
    );

    // Removing the certificate locks it out.
    server.stop().await;
    let (ok, _, err) = admin_in(
        &data,
        None,
        &["registrar", "cert", "remove", "atlas", fps.trim()],
    );
    assert!(ok, "{err}");
    let (ok, _, _) = admin_in(
        &data,
        None,
        &["registrar", "cert", "remove", "atlas", fps.trim()],
    );
    assert!(!ok, "removing it twice must fail");
    server.restart_at(None).await;
    let mut c = RawClient::connect(server.addr(), server.client_config("reg3")).await;
    assert_eq!(
        c.cmd(&login_xml("atlas", "atlas-pw-2", "en")).await.code(),
        2200
    );
}

#[tokio::test]
async fn failure_login_from_an_address_outside_the_allow_list() {
    let mut server = stopped_server().await;
    let data = server.settings.server.data_dir.clone();
    let (ok, _, err) = admin_in(&data, None, &["registrar", "allow", "reg1", "192.0.2.0/24"]);
    assert!(ok, "{err}");
    let (ok, _, err) = admin_in(
        &data,
        None,
        &["registrar", "allow", "reg2", "127.0.0.0/8", "::1/128"],
    );
    assert!(ok, "{err}");
    server.restart_at(None).await;
    let mut c = server.client("reg1").await;
    let r = c.cmd(&login_xml("reg1", password("reg1"), "en")).await;
    assert_eq!(r.code(), 2200);
    server.login("reg2").await;
}

#[tokio::test]
async fn success_store_records_its_format_version_and_refuses_another() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1 << 20).unwrap();
    drop(store);
    // sled lets go of its lock from a background thread: wait for it.
    let db = (0..50)
        .find_map(|_| {
            sled::open(dir.path())
                .inspect_err(|_| std::thread::sleep(std::time::Duration::from_millis(50)))
                .ok()
        })
        .unwrap();
    let meta = db.open_tree("meta").unwrap();
    meta.insert("format_version", &7u32.to_be_bytes()).unwrap();
    meta.flush().unwrap();
    drop((meta, db));
    let err = match (0..50)
        .map(|_| Store::open(dir.path(), 1 << 20))
        .find(|r| {
            !matches!(r, Err(e) if e.to_string().contains("could not acquire lock")) || {
                std::thread::sleep(std::time::Duration::from_millis(50));
                false
            }
        })
        .unwrap()
    {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a store of format version 7 was opened"),
    };
    assert!(err.contains("format version 7"), "{err}");
    let _ = Clock::system();
}

#[tokio::test]
async fn failure_registrar_with_a_malformed_email_is_refused() {
    let server = stopped_server().await;
    let data = server.settings.server.data_dir.clone();
    for email in ["a@@b.ma", "a..b@c.ma", "a@b_c.ma"] {
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
                "atlas-pw-1",
                "--email",
                email,
            ],
        );
        assert!(!ok, "{email} accepted");
        assert!(err.contains("is not an e-mail address"), "{err}");
    }
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
            "atlas-pw-1",
            "--email",
            "support@مثال.ma",
        ],
    );
    assert!(ok, "{err}");
}

/// `ma-registry --data-dir DATA admin ARGS`: exit code and stderr.
fn admin_code(data: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ma-registry"))
        .env_remove("MA_REGISTRY_CONFIG")
        .arg("--data-dir")
        .arg(data)
        .arg("admin")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn failure_a_directory_without_a_store_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    // A directory that does not exist, an empty one, and a regular file.
    let missing = dir.path().join("missing");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "not a directory").unwrap();
    for data in [&missing, &empty, &file] {
        for args in [
            &["stats"][..],
            &["registrar", "list"],
            &[
                "registrar",
                "add",
                "atlas",
                "--name",
                "A",
                "--password",
                "atlas-pw-1",
            ],
        ] {
            let (code, err) = admin_code(data, args);
            assert_eq!(code, Some(1), "{args:?} on {}: {err}", data.display());
            assert_eq!(
                err,
                format!(
                    "error: no store at {}; is --config right?\n",
                    data.display()
                ),
                "{args:?}"
            );
        }
    }
    assert!(!missing.exists(), "no directory was created");
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "nothing written"
    );
    // The commands that make a store still make one in a new directory.
    std::fs::write(dir.path().join("empty.jsonl"), "").unwrap();
    let legacy = dir.path().join("empty.jsonl");
    let (code, err) = admin_code(&missing, &["import", legacy.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = admin_code(&missing, &["stats"]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn failure_a_store_that_cannot_be_opened_names_the_file_and_says_why_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // `db` is a directory: opening it fails with an OS error whoever runs
    // the command (root reads through a mode of 000).
    std::fs::create_dir_all(data.join("db")).unwrap();
    let (code, err) = admin_code(&data, &["stats"]);
    assert_eq!(code, Some(1), "{err}");
    let db = data.join("db");
    assert!(
        err.starts_with(&format!(
            "error: cannot open the store in {}",
            data.display()
        )),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with(&format!("is a directory: {}", db.display())),
        "the error names the file: {err}"
    );
    assert_eq!(
        err.to_lowercase().matches("is a directory").count(),
        1,
        "the OS error is printed once: {err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
