//! `ma-registry client`, run as the real binary: a readable summary of
//! each response by default, the indented XML with `--xml`.

use std::process::Command;

use crate::harness::*;

/// Runs `ma-registry client` as reg1 against `server` with `args`.
async fn client(server: &TestServer, args: &[&str]) -> (i32, String, String) {
    let mut argv: Vec<String> = vec![
        "client".into(),
        "--server".into(),
        format!("localhost:{}", server.addr().port()),
        "--clid".into(),
        "reg1".into(),
        "--password".into(),
        password("reg1").into(),
        "--cert".into(),
        server.cert_pem_file("reg1").display().to_string(),
        "--key".into(),
        server.key_pem_file("reg1").display().to_string(),
        "--ca".into(),
        server.settings.tls.client_ca.display().to_string(),
    ];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_ma-registry"))
            .args(&argv)
            .env("MA_REGISTRY_LOG", "warn")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn success_client_prints_a_summary_and_the_xml_on_request() {
    let server = TestServer::start().await;
    let (code, out, err) = client(&server, &["check", "libre-cli.ma"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("1000 Command completed successfully\n"),
        "{out}"
    );
    assert!(out.contains("name: libre-cli.ma [avail=1]"), "{out}");
    assert!(out.contains("svTRID MA-"), "{out}");
    assert!(!out.contains('<'), "a summary, not XML: {out}");

    let (code, out, err) = client(&server, &["--xml", "check", "libre-cli.ma"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\n  <response>\n"), "indented: {out}");
    assert!(out.contains("<domain:chkData"), "{out}");

    // A refusal shows its code and reason, and the exit code is 1.
    let (code, out, _) = client(&server, &["info", "absent-cli.ma"]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("2303 Object does not exist\n"), "{out}");
    assert!(out.contains("  reason: "), "{out}");
}
