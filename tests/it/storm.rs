//! A login storm: `ma-registry bench --scenario storm`, run as the real
//! binary, logs in as many registrars at the same moment. Within every
//! registrar's session limit nobody is refused, on the first logins since
//! the server started (argon2) as on the next ones (the password cache);
//! over the limit, exactly the excess is refused with 2502.

use std::process::Command;

use serde_json::Value;

use crate::harness::*;

/// Registrars of the storm.
const REGISTRARS: usize = 20;
/// Each one's session limit.
const CAP: u32 = 10;

/// A server with REGISTRARS more registrars, each limited to CAP sessions.
/// The whole storm comes from 127.0.0.1, so the per-address connection
/// rate is lifted, as in the load runs.
async fn storm_server() -> (TestServer, Vec<(String, String)>) {
    let mut server =
        TestServer::start_with(|s| s.limits.connections_per_second_per_address = 0, None).await;
    let registrars: Vec<(String, String)> = (1..=REGISTRARS)
        .map(|n| (format!("storm{n:02}"), format!("pw-storm{n:02}")))
        .collect();
    server.add_registrars(&registrars, CAP).await;
    (server, registrars)
}

/// Runs a storm of `sessions` logins, spread over `registrars`; returns
/// the exit code and the JSON report.
async fn storm(
    server: &TestServer,
    registrars: &[(String, String)],
    sessions: usize,
) -> (i32, Value) {
    let cert = server.cert_pem_file("reg1").display().to_string();
    let key = server.key_pem_file("reg1").display().to_string();
    let mut file = String::from("# clID password certificate key\n");
    for (clid, pw) in registrars {
        file.push_str(&format!("{clid}\t{pw}\t{cert}\t{key}\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("registrars.txt");
    std::fs::write(&list, file).unwrap();
    let argv: Vec<String> = [
        "bench",
        "--host",
        "127.0.0.1",
        "--port",
        &server.addr().port().to_string(),
        "--ca",
        &server.settings.tls.client_ca.display().to_string(),
        "--registrars",
        &list.display().to_string(),
        "--scenario",
        "storm",
        "--sessions",
        &sessions.to_string(),
        "--timeout",
        "20",
        "--json",
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_ma-registry"))
            .args(&argv)
            .env("MA_REGISTRY_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "bench did not print JSON ({e})\nstdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn ms(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Every session of the storm was logged in, and logged out after.
fn assert_all_served(code: i32, json: &Value, sessions: usize) {
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["scenario"], "storm");
    assert_eq!(json["registrars"], REGISTRARS);
    assert_eq!(json["sessions"], sessions);
    assert_eq!(json["count"], sessions, "{json}");
    assert_eq!(json["ok"], sessions, "{json}");
    assert_eq!(json["errors_by_code"], serde_json::json!({}), "{json}");
    let storm = &json["storm"];
    assert_eq!(storm["served"], sessions, "{json}");
    assert_eq!(storm["refused"], 0, "{json}");
    assert_eq!(storm["logout_failures"], 0, "{json}");
    let all_in = ms(&storm["all_in_secs"]);
    assert!(
        all_in > 0.0 && all_in <= ms(&json["elapsed_secs"]),
        "{json}"
    );
    let l = &json["latency_ms"];
    assert!(
        ms(&l["p50"]) <= ms(&l["p90"]) && ms(&l["p99"]) <= ms(&l["max"]),
        "{json}"
    );
}

#[tokio::test]
async fn a_storm_within_the_session_limits_refuses_nobody() {
    let (server, registrars) = storm_server().await;
    let sessions = REGISTRARS * CAP as usize;
    // The registrars' first logins since the server started: argon2.
    let (code, first) = storm(&server, &registrars, sessions).await;
    assert_all_served(code, &first, sessions);
    // The same storm again: the password cache answers.
    let (code, again) = storm(&server, &registrars, sessions).await;
    assert_all_served(code, &again, sessions);
}

#[tokio::test]
async fn a_storm_over_the_session_limits_refuses_exactly_the_excess_with_2502() {
    let (server, registrars) = storm_server().await;
    // One session more than its limit for every registrar.
    let sessions = REGISTRARS * (CAP as usize + 1);
    let (code, json) = storm(&server, &registrars, sessions).await;
    assert_eq!(code, 1, "a refused login makes the run fail: {json}");
    assert_eq!(json["count"], sessions, "{json}");
    assert_eq!(json["ok"], REGISTRARS * CAP as usize, "{json}");
    assert_eq!(
        json["errors_by_code"],
        serde_json::json!({ "2502": REGISTRARS }),
        "{json}"
    );
    assert_eq!(json["storm"]["served"], REGISTRARS * CAP as usize, "{json}");
    assert_eq!(json["storm"]["refused"], REGISTRARS, "{json}");
    assert_eq!(json["storm"]["logout_failures"], 0, "{json}");
    // The slots were given back: a storm within the limits passes again.
    let within = REGISTRARS * CAP as usize;
    let (code, json) = storm(&server, &registrars, within).await;
    assert_all_served(code, &json, within);
}
