//! `ma-registry bench`, run as the real binary against a test server with
//! a small `--count`: every scenario completes its count without errors and
//! reports ordered percentiles as JSON; refused commands are counted by
//! result code, not fatal; a refused login stops the run with an error.
//! Functional checks only: no threshold on speed.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::harness::*;

/// The sessions of a run: under the test registrars' default limit of 10.
const SESSIONS: &str = "4";

/// The identity fragment ma-registry needs in a registrant's contact create.
fn ma_contact_extension() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/examples/bench/ma-contact-extension.xml")
}

/// What a `bench` run printed, and how it exited.
struct Run {
    code: i32,
    out: String,
    err: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.out).unwrap_or_else(|e| {
            panic!(
                "bench did not print JSON ({e}); exit {}\nstdout:\n{}\nstderr:\n{}",
                self.code, self.out, self.err
            )
        })
    }
}

/// Runs `ma-registry bench` as reg1 against `server`, off the runtime thread
/// so the server keeps serving.
async fn bench(server: &TestServer, args: &[&str]) -> Run {
    bench_with_password(server, password("reg1"), args).await
}

/// [`bench`] with another password.
async fn bench_with_password(server: &TestServer, pw: &str, args: &[&str]) -> Run {
    let mut argv: Vec<String> = vec![
        "bench".into(),
        "--host".into(),
        "127.0.0.1".into(),
        "--port".into(),
        server.addr().port().to_string(),
        "--clid".into(),
        "reg1".into(),
        "--password".into(),
        pw.into(),
        "--cert".into(),
        server.cert_pem_file("reg1").display().to_string(),
        "--key".into(),
        server.key_pem_file("reg1").display().to_string(),
        "--ca".into(),
        server.settings.tls.client_ca.display().to_string(),
        "--sessions".into(),
        SESSIONS.into(),
        "--timeout".into(),
        "20".into(),
    ];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_ma-registry"))
            .args(&argv)
            .env_remove("MA_REGISTRY_PASSWORD")
            .env("MA_REGISTRY_LOG", "warn")
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

fn ms(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("not a number of ms: {v}"))
}

/// Percentiles present, positive and ordered.
fn assert_latency(line: &Value) {
    let l = &line["latency_ms"];
    let (p50, p90, p99, max) = (ms(&l["p50"]), ms(&l["p90"]), ms(&l["p99"]), ms(&l["max"]));
    assert!(p50 > 0.0, "{line}");
    assert!(p50 <= p90 && p90 <= p99 && p99 <= max, "{line}");
}

/// A run of `count` commands that all succeeded.
fn assert_clean(run: &Run, scenario: &str, count: u64) -> Value {
    let json = run.json();
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    assert_eq!(json["scenario"], scenario);
    assert_eq!(json["sessions"], 4);
    assert_eq!(json["count"], count, "{json}");
    assert_eq!(json["ok"], count, "{json}");
    assert_eq!(json["errors"], 0, "{json}");
    assert_eq!(json["errors_by_code"], serde_json::json!({}), "{json}");
    assert!(ms(&json["commands_per_sec"]) > 0.0);
    assert_latency(&json);
    json
}

#[tokio::test]
async fn bench_check_sends_the_count_asked() {
    let server = TestServer::start().await;
    let run = bench(
        &server,
        &[
            "--scenario",
            "check",
            "--count",
            "60",
            "--check-names",
            "3",
            "--json",
        ],
    )
    .await;
    let json = assert_clean(&run, "check", 60);
    assert_eq!(json["commands"]["check"]["count"], 60);
}

#[tokio::test]
async fn bench_info_creates_its_names_then_queries_them() {
    let server = TestServer::start().await;
    let ext = ma_contact_extension();
    let run = bench(
        &server,
        &[
            "--scenario",
            "info",
            "--count",
            "50",
            "--domains",
            "10",
            "--prefix",
            "infotest-",
            "--contact-extension",
            ext.to_str().unwrap(),
            "--json",
        ],
    )
    .await;
    let json = assert_clean(&run, "info", 50);
    assert_eq!(json["setup"]["domains"], 10);
    assert_eq!(json["setup"]["contacts"], 4);
    // The names exist with the prefix asked for.
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(
            &domain_info("infotest-i9.ma", "all", None),
            "bench-t1",
        ))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
}

#[tokio::test]
async fn bench_create_registers_new_names_durably() {
    let server = TestServer::start().await;
    let ext = ma_contact_extension();
    let run = bench(
        &server,
        &[
            "--scenario",
            "create",
            "--count",
            "40",
            "--prefix",
            "createtest-",
            "--contact-extension",
            ext.to_str().unwrap(),
            "--json",
        ],
    )
    .await;
    assert_clean(&run, "create", 40);
    let mut c = server.login("reg1").await;
    let names: Vec<String> = (0..40).map(|n| format!("createtest-d{n}.ma")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let r = c.cmd(&command(&check("domain", &refs), "bench-t1")).await;
    assert_eq!(r.attrs("name", "avail"), vec!["0"; 40], "{}", r.xml);
}

#[tokio::test]
async fn bench_mix_reports_each_command_kind() {
    let server = TestServer::start().await;
    let ext = ma_contact_extension();
    let run = bench(
        &server,
        &[
            "--scenario",
            "mix",
            "--count",
            "200",
            "--domains",
            "8",
            "--mix",
            "check=40,info=30,create=15,poll=15",
            "--contact-extension",
            ext.to_str().unwrap(),
            "--json",
        ],
    )
    .await;
    let json = assert_clean(&run, "mix", 200);
    let kinds = json["commands"].as_object().unwrap();
    let total: u64 = kinds.values().map(|k| k["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 200);
    for kind in ["check", "info", "create", "poll"] {
        assert!(kinds.contains_key(kind), "no {kind} in {json}");
        assert_latency(&kinds[kind]);
    }
}

#[tokio::test]
async fn bench_login_opens_a_connection_per_command() {
    let server = TestServer::start().await;
    let run = bench(&server, &["--scenario", "login", "--count", "24", "--json"]).await;
    let json = assert_clean(&run, "login", 24);
    assert_eq!(json["commands"]["login"]["count"], 24);
}

#[tokio::test]
async fn bench_duration_mode_stops_by_itself_and_prints_a_table() {
    let server = TestServer::start().await;
    let file = tempfile::NamedTempFile::new().unwrap();
    let path = file.path().to_str().unwrap();
    let run = bench(
        &server,
        &[
            "--scenario",
            "check",
            "--duration",
            "0.5",
            "--json-out",
            path,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let secs = ms(&json["elapsed_secs"]);
    // It stops by itself: no sooner than asked, and long before the
    // test's own limits, however slow or loaded the machine.
    assert!((0.5..120.0).contains(&secs), "{json}");
    assert!(json["count"].as_u64().unwrap() > 0);
    assert!(
        run.out.contains("scenario check: 4 sessions"),
        "{}",
        run.out
    );
    assert!(run.out.contains("p99 ms"), "{}", run.out);
}

#[tokio::test]
async fn bench_counts_refused_commands_by_result_code() {
    let server = TestServer::start().await;
    let names = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        names.path(),
        "# none of these exist\nabsent-one.ma\nabsent-two.ma\n",
    )
    .unwrap();
    let run = bench(
        &server,
        &[
            "--scenario",
            "info",
            "--count",
            "20",
            "--names",
            names.path().to_str().unwrap(),
            "--json",
        ],
    )
    .await;
    assert_eq!(run.code, 1, "errors make the exit code 1: {}", run.err);
    let json = run.json();
    assert_eq!(json["count"], 20);
    assert_eq!(json["errors"], 20);
    assert_eq!(json["errors_by_code"]["2303"], 20, "{json}");
    assert_eq!(json["setup"]["names_read"], 2);
    assert_latency(&json);

    // Without the identity fragment, ma-registry refuses the creates (R15):
    // counted as 2306, the run goes on to its count.
    let run = bench(&server, &["--scenario", "create", "--count", "8", "--json"]).await;
    let json = run.json();
    assert_eq!(json["count"], 8);
    assert_eq!(json["errors_by_code"]["2306"], 8, "{json}");
}

#[tokio::test]
async fn bench_with_a_wrong_password_fails_with_the_servers_answer() {
    let server = TestServer::start().await;
    let run = bench_with_password(
        &server,
        "wrong-pass",
        &["--scenario", "check", "--count", "5"],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(run.out.is_empty(), "{}", run.out);
    assert!(run.err.contains("login answered 2200"), "{}", run.err);
}

#[test]
fn bench_with_a_malformed_option_is_a_usage_error() {
    for (args, names) in [
        (&["--mix", "check=70,renew=30"][..], "--mix"),
        (&["--prefix=-bad"][..], "--prefix"),
        (&["--duration", "0"][..], "--duration"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ma-registry"))
            .arg("bench")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(names), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn bench_info_setup_goes_through_a_transform_quota() {
    // reg1 may create 10 domains a second: the 4 sessions preparing 40
    // names meet 2502 (which closes a session) and must carry on.
    let server = TestServer::start_with(
        |s| {
            s.limits
                .registrar_quotas
                .push(ma_registry::config::RegistrarQuota {
                    clid: "reg1".into(),
                    query_per_second: 0,
                    transform_per_second: 10,
                })
        },
        None,
    )
    .await;
    let ext = ma_contact_extension();
    let run = bench(
        &server,
        &[
            "--scenario",
            "info",
            "--count",
            "20",
            "--domains",
            "40",
            "--prefix",
            "quota-",
            "--contact-extension",
            ext.to_str().unwrap(),
            "--json",
        ],
    )
    .await;
    let json = assert_clean(&run, "info", 20);
    assert_eq!(json["setup"]["domains"], 40);
}

#[tokio::test]
async fn bench_cltrids_are_unique_across_sessions_and_runs() {
    let server = TestServer::start().await;
    let ext = ma_contact_extension();
    for prefix in ["uniq-a-", "uniq-b-"] {
        let run = bench(
            &server,
            &[
                "--scenario",
                "create",
                "--count",
                "8",
                "--prefix",
                prefix,
                "--contact-extension",
                ext.to_str().unwrap(),
                "--json",
            ],
        )
        .await;
        assert_clean(&run, "create", 8);
    }
    // The history keeps each create's clTRID.
    let mut seen = std::collections::HashSet::new();
    for prefix in ["uniq-a-", "uniq-b-"] {
        for n in 0..8 {
            let name = format!("{prefix}d{n}.ma");
            let run = admin_live(&server, &[], None, &["--json", "history", "domain", &name]).await;
            assert_eq!(run.code, 0, "{}", run.err);
            let records: Value = serde_json::from_str(&run.out).unwrap();
            let trid = records[0]["cltrid"]
                .as_str()
                .unwrap_or_else(|| panic!("no clTRID in {records}"))
                .to_owned();
            assert!(seen.insert(trid.clone()), "{trid} used twice");
        }
    }
    assert_eq!(seen.len(), 16);
}

#[tokio::test]
async fn bench_logins_over_resumed_tls_sessions_keep_the_client_certificate() {
    // Resumed sessions (tickets or the session cache) skip the certificate
    // exchange: the login must still find the registrar's certificate.
    let server = TestServer::start().await;
    let run = bench(
        &server,
        &[
            "--scenario",
            "login",
            "--count",
            "24",
            "--tls-resumption",
            "--json",
        ],
    )
    .await;
    let json = assert_clean(&run, "login", 24);
    assert_eq!(json["commands"]["login"]["count"], 24);
}
