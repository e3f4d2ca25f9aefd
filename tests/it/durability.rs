//! Nothing acknowledged is lost: the real server process takes concurrent
//! creates and is killed with SIGKILL; restarted on the same store, it holds
//! every create it answered 1000, the store opens cleanly, and each
//! registrar's ledger agrees with its domains. `MA_REGISTRY_KILLS=N` repeats
//! the kill N times (the benchmark suite runs 20; CI runs 1).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durability_sigkill_during_creates_loses_nothing_acknowledged() {
    let kills: usize = std::env::var("MA_REGISTRY_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut setup = TestServer::start().await;
    setup.stop().await;
    let data = setup.settings.server.data_dir.clone();
    let (ok, _, err) = admin_in(&data, None, &["registrar", "credit", "reg1", "1000000"]);
    assert!(ok, "{err}");
    let config = serve_config(&setup, "durability.toml", "");
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    for round in 0..kills {
        let (mut child, addr) = spawn_serve(&config, &[]);
        let mut c = RawClient::connect(addr, setup.client_config("reg1")).await;
        assert_eq!(
            c.cmd(&login_xml("reg1", password("reg1"), "en"))
                .await
                .code(),
            1000
        );
        if round == 0 {
            let r = c
                .cmd(&command(&contact_create("cnt-k", "MA"), "kill-c"))
                .await;
            assert_eq!(r.code(), 1000, "{}", r.xml);
        }
        drop(c);
        let mut writers = Vec::new();
        for s in 0..4 {
            let config = setup.client_config("reg1");
            let acknowledged = Arc::clone(&acknowledged);
            writers.push(tokio::spawn(async move {
                let mut c = RawClient::connect(addr, config).await;
                let r = c.cmd(&login_xml("reg1", password("reg1"), "en")).await;
                assert_eq!(r.code(), 1000);
                for i in 0.. {
                    let name = format!("k{round}-{s}-{i}.ma");
                    let xml = command(&domain_create(&name, "cnt-k", ""), "kill-d");
                    c.write_raw(&frame(&xml)).await;
                    match c.recv().await {
                        Some(r) if r.code() == 1000 => {
                            acknowledged.lock().unwrap().push(name);
                        }
                        _ => return,
                    }
                }
            }));
        }
        // Let the creates run, then kill the process mid-stream.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        child.kill();
        for w in writers {
            let _ = w.await;
        }
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        !acknowledged.is_empty(),
        "no create was answered before the kill"
    );

    // Restarted on the same store: every acknowledged create is there.
    let (mut child, addr) = spawn_serve(&config, &[]);
    let mut c = RawClient::connect(addr, setup.client_config("reg1")).await;
    assert_eq!(
        c.cmd(&login_xml("reg1", password("reg1"), "en"))
            .await
            .code(),
        1000
    );
    for name in &acknowledged {
        let r = c
            .cmd(&command(&domain_info(name, "none", None), "kill-i"))
            .await;
        assert_eq!(
            r.code(),
            1000,
            "{name} was answered 1000, then lost: {}",
            r.xml
        );
    }
    drop(c);
    child.kill();

    // The ledger agrees with the domains: one 1.00 charge per domain.
    let (ok, out, err) = admin_in(&data, None, &["--json", "stats"]);
    assert!(ok, "the store opens cleanly: {err}");
    let stats: serde_json::Value = serde_json::from_str(&out).unwrap();
    let domains = stats["per_registrar"]["reg1"].as_u64().unwrap();
    assert!(domains >= acknowledged.len() as u64);
    let (ok, out, err) = admin_in(&data, None, &["--json", "registrar", "ledger", "reg1"]);
    assert!(ok, "{err}");
    let ledger: serde_json::Value = serde_json::from_str(&out).unwrap();
    let creates = ledger
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["description"].as_str().unwrap().starts_with("create "))
        .count() as u64;
    assert_eq!(
        creates, domains,
        "a charge per domain and a domain per charge"
    );
    let (ok, out, _) = admin_in(&data, None, &["--json", "registrar", "balance", "reg1"]);
    assert!(ok);
    let balance: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        balance["balance"].as_str().unwrap(),
        format!("{}.00", 1_000_000 - domains)
    );
    let (ok, _, err) = admin_in(&data, None, &["history", "verify"]);
    assert!(ok, "the history chain survived the kill: {err}");
}
