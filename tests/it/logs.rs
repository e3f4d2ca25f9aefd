//! The server's log as an operator's log shipper reads it: `json` gives one
//! JSON object per line, each command line carries the registrar's clID,
//! and by default successful queries stay below `info` while transforms and
//! refusals are logged.

use std::path::Path;

use crate::harness::*;

/// Runs a login, a check, a create and a refused info on a real `serve`
/// logging with `env` and the `[log]` section `log_toml`; returns its log.
async fn logged_session(env: &[(&str, &str)], log_toml: &str) -> String {
    let mut setup = TestServer::start().await;
    {
        let mut c = setup.login("reg1").await;
        let r = c
            .cmd(&command(&contact_create("cnt-l", "MA"), "log-c"))
            .await;
        assert_eq!(r.code(), 1000, "{}", r.xml);
    }
    setup.stop().await;
    let data = setup.settings.server.data_dir.clone();
    let (ok, _, err) = admin_in(&data, None, &["registrar", "credit", "reg1", "100"]);
    assert!(ok, "{err}");
    let config = serve_config(&setup, "logs.toml", log_toml);
    let log = data.parent().unwrap().join("server.log");
    let (mut server, addr) = spawn_serve_with(&config, &[], env, Some(&log));
    let mut c = RawClient::connect(addr, setup.client_config("reg1")).await;
    let r = c.cmd(&login_xml("reg1", password("reg1"), "en")).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let r = c
        .cmd(&command(&check("domain", &["libre-log.ma"]), "log-chk"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let r = c
        .cmd(&command(
            &domain_create("logged.ma", "cnt-l", ""),
            "log-crt",
        ))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let r = c
        .cmd(&command(
            &domain_info("absent-log.ma", "all", None),
            "log-inf",
        ))
        .await;
    assert_eq!(r.code(), 2303, "{}", r.xml);
    drop(c);
    server.signal(libc::SIGTERM);
    assert!(server.wait().success());
    read(&log)
}

fn read(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap()
}

#[tokio::test]
async fn success_json_log_lines_carry_the_clid_and_queries_stay_at_debug() {
    let log = logged_session(
        &[
            ("MA_REGISTRY_LOG_FORMAT", "json"),
            ("MA_REGISTRY_LOG", "info"),
        ],
        "",
    )
    .await;
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let answered: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "answered")
        .collect();
    let command_of = |l: &serde_json::Value| -> (String, String) {
        let spans = l["spans"].as_array().unwrap();
        let session = spans.iter().find(|s| s["name"] == "session").unwrap();
        let command = spans.iter().find(|s| s["name"] == "command").unwrap();
        (
            command["cltrid"].as_str().unwrap().to_owned(),
            session["registrar"].as_str().unwrap_or("").to_owned(),
        )
    };
    let seen: Vec<(String, String)> = answered.iter().map(|l| command_of(l)).collect();
    // The create and the refused info are at info, with reg1's clID; the
    // successful check is not.
    assert!(seen.contains(&("log-crt".into(), "reg1".into())), "{log}");
    assert!(seen.contains(&("log-inf".into(), "reg1".into())), "{log}");
    assert!(!seen.iter().any(|(t, _)| t == "log-chk"), "{log}");
}

#[tokio::test]
async fn success_log_commands_all_shows_every_query_in_text() {
    let log = logged_session(
        &[("MA_REGISTRY_LOG", "info")],
        "\n[log]\ncommands = \"all\"\n",
    )
    .await;
    let check_line = log
        .lines()
        .find(|l| l.contains("log-chk") && l.contains("answered"))
        .unwrap_or_else(|| panic!("no line for the check:\n{log}"));
    assert!(check_line.contains("registrar=\"reg1\""), "{check_line}");
    assert!(serde_json::from_str::<serde_json::Value>(check_line).is_err());
}
