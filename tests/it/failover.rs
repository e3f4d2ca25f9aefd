//! The PostgreSQL deployment's promise: a primary with a synchronous
//! streaming standby, a load of creates, the primary killed (SIGKILL, as a
//! crash), the standby promoted, and every create the registry
//! acknowledged is on the standby, which then takes the registry's writes.
//! Also: `admin store copy` from sled into PostgreSQL and back, checked
//! record by record.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use ma_registry::config::StoreBackend;
use ma_registry::store::Store;
use ma_registry::store::postgres::Connection;

use crate::harness::*;
use crate::pg::{self, Cluster};

fn pg_tool(name: &str) -> Command {
    let mut cmd = Command::new(pg::bin_dir().join(name));
    pg::as_cluster_user(&mut cmd);
    cmd
}

/// A test server on the PostgreSQL database `url`.
async fn server_on(url: String) -> TestServer {
    TestServer::start_with(
        move |s| {
            s.store.backend = StoreBackend::Postgres;
            s.store.url = url;
        },
        None,
    )
    .await
}

/// A started cluster of its own under a new root, with an empty database
/// `registry`, and the database's URL.
fn cluster_with_registry(name: &str) -> (Cluster, String) {
    let mut cluster = Cluster::init(&pg::cluster_root(), name);
    cluster.start();
    cluster.sql("postgres", "CREATE DATABASE registry").unwrap();
    let url = cluster.url("registry");
    (cluster, url)
}

fn connection(url: &str) -> Connection {
    Connection {
        url: url.to_owned(),
        pool_size: 4,
        ca_file: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_every_acknowledged_create_is_on_the_promoted_standby() {
    if pg::enabled() {
        eprintln!("it starts clusters of its own: run once, in the sled run");
        return;
    }
    let root = pg::cluster_root();
    let mut primary = Cluster::init(&root, "primary");
    primary.configure("wal_level = replica\nmax_wal_senders = 4\nsynchronous_commit = on");
    primary.start();
    primary.sql("postgres", "CREATE DATABASE registry").unwrap();
    let standby_data = root.join("standby");
    let out = pg_tool("pg_basebackup")
        .args(["-h", "127.0.0.1", "-p", &primary.port.to_string()])
        .args(["-U", "registry", "-X", "stream", "-c", "fast", "-R", "-D"])
        .arg(&standby_data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pg_basebackup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut standby = Cluster {
        data: standby_data,
        port: pg::free_port(),
        child: None,
    };
    standby.start();
    // From now on a commit on the primary returns once the standby has it.
    primary
        .sql(
            "postgres",
            "ALTER SYSTEM SET synchronous_standby_names = '*'",
        )
        .unwrap();
    primary.sql("postgres", "SELECT pg_reload_conf()").unwrap();
    let mut synchronous = false;
    for _ in 0..200 {
        let state = pg::query(
            &primary.url("postgres"),
            "SELECT sync_state FROM pg_stat_replication",
        )
        .unwrap();
        if state == ["sync"] {
            synchronous = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(synchronous, "the standby never became synchronous");

    let primary_url = primary.url("registry");
    let url = primary_url.clone();
    let mut server = TestServer::start_with(
        move |s| {
            s.store.backend = StoreBackend::Postgres;
            s.store.url = url;
            s.store.pool_size = 8;
        },
        None,
    )
    .await;
    {
        let mut c = server.login("reg1").await;
        let r = c.cmd(&command(&contact_create("cnt-f", "MA"), "f-c")).await;
        assert_eq!(r.code(), 1000, "{}", r.xml);
    }

    // Eight sessions create names one after another; the primary dies
    // while they do.
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut sessions = Vec::new();
    for s in 0..8 {
        let mut c = server.login("reg1").await;
        let acknowledged = Arc::clone(&acknowledged);
        sessions.push(tokio::spawn(async move {
            for n in 0..400 {
                let name = format!("fo{s}-{n}.ma");
                c.send(&command(&domain_create(&name, "cnt-f", ""), "f-d"))
                    .await;
                match c.recv().await {
                    Some(r) if r.code() == 1000 => acknowledged.lock().unwrap().push(name),
                    Some(r) => assert_eq!(r.code(), 2400, "{}", r.xml),
                    None => break,
                }
            }
        }));
    }
    // However slow the machine, the primary dies only once 100 creates
    // were acknowledged (or the sessions ran out of names).
    while acknowledged.lock().unwrap().len() < 100 && !sessions.iter().all(|s| s.is_finished()) {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    primary.kill();
    for s in sessions {
        s.await.unwrap();
    }
    server.stop().await;
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 100,
        "only {} creates before the primary died",
        acknowledged.len()
    );

    let out = pg_tool("pg_ctl")
        .args(["promote", "-w", "-D"])
        .arg(&standby.data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pg_ctl promote: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let standby_url = standby.url("registry");
    let data = server.settings.server.data_dir.clone();
    let promoted = tokio::task::spawn_blocking(move || {
        let store = Store::open_postgres(&connection(&standby_url), &data).unwrap();
        let missing: Vec<String> = acknowledged
            .iter()
            .filter(|name| store.domain(name).unwrap().is_none())
            .cloned()
            .collect();
        (acknowledged.len(), missing)
    })
    .await
    .unwrap();
    assert_eq!(
        promoted.1,
        Vec::<String>::new(),
        "acknowledged creates missing on the standby (of {})",
        promoted.0
    );

    // The registry runs on the promoted standby, and takes writes.
    let standby_url = standby.url("registry");
    let mut moved = server_on(standby_url).await;
    let mut c = moved.login("reg1").await;
    let r = c
        .cmd(&command(&contact_create("cnt-g", "MA"), "f-c2"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let r = c
        .cmd(&command(
            &domain_create("after-failover.ma", "cnt-g", ""),
            "f-d2",
        ))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    moved.stop().await;
    standby.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_admin_store_copy_moves_a_store_to_postgres_and_back_record_by_record() {
    if pg::enabled() {
        eprintln!("it copies a sled store: run once, in the sled run");
        return;
    }
    let (mut cluster, url) = cluster_with_registry("copy");
    let root = cluster.data.parent().unwrap().to_path_buf();

    // A sled store with objects, history and ledger lines.
    let mut server = TestServer::start_with(
        |s| {
            s.store.backend = StoreBackend::Sled;
        },
        None,
    )
    .await;
    {
        let mut c = server.login("reg1").await;
        let r = c.cmd(&command(&contact_create("cnt-c", "MA"), "c-c")).await;
        assert_eq!(r.code(), 1000, "{}", r.xml);
        for n in 0..20 {
            let r = c
                .cmd(&command(
                    &domain_create(&format!("copy{n}.ma"), "cnt-c", ""),
                    "c-d",
                ))
                .await;
            assert_eq!(r.code(), 1000, "{}", r.xml);
        }
    }
    server.stop().await;
    let data = server.settings.server.data_dir.clone();

    // Into PostgreSQL.
    let (ok, out, err) = admin_in(&data, None, &["store", "copy", &url]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("read back equal record by record"), "{out}");
    assert!(!out.contains("registry@"), "the URL is not echoed: {out}");
    // A second copy into the same database is refused: it is not empty.
    let (ok, out, err) = admin_in(&data, None, &["store", "copy", &url]);
    assert!(!ok, "{out}");
    assert!(err.contains("not empty"), "{err}");

    // The registry on the copy has every domain, and new roids do not
    // repeat old ones.
    let pg_url = url.clone();
    let mut on_pg = server_on(pg_url).await;
    let mut c = on_pg.login("reg1").await;
    let r = c
        .cmd(&command(&domain_info("copy7.ma", "all", None), "c-i"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let r = c
        .cmd(&command(&domain_create("new-on-pg.ma", "cnt-c", ""), "c-n"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    drop(c);
    on_pg.stop().await;

    // And back into a new sled directory, through the admin of a
    // configuration on PostgreSQL.
    let back = root.join("back-to-sled");
    let out = Command::new(env!("CARGO_BIN_EXE_ma-registry"))
        .env("MA_REGISTRY_STORE_BACKEND", "postgres")
        .env("MA_REGISTRY_STORE_URL", &url)
        .arg("--data-dir")
        .arg(&data)
        .args(["admin", "store", "copy"])
        .arg(&back)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    let store = Store::open(&back, 1 << 20).unwrap();
    assert!(store.domain("copy19.ma").unwrap().is_some());
    assert!(store.domain("new-on-pg.ma").unwrap().is_some());
    assert!(matches!(
        store.verify_history().unwrap(),
        ma_registry::store::ChainCheck::Intact { .. }
    ));
    drop(store);
    cluster.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_database_down_answers_2400_changes_nothing_and_writes_resume_by_themselves() {
    if pg::enabled() {
        eprintln!("it starts a cluster of its own: run once, in the sled run");
        return;
    }
    let (mut cluster, url) = cluster_with_registry("down");
    let server = server_on(url).await;
    let mut c = server.login("reg1").await;
    let r = c.cmd(&command(&contact_create("cnt-d", "MA"), "d-c")).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);

    // The database stops (a fast shutdown: its sessions are cut).
    let pid = cluster.child.as_ref().unwrap().id();
    unsafe { libc::kill(pid as i32, libc::SIGINT) };
    cluster.child.take().unwrap().wait().unwrap();
    let r = c
        .cmd(&command(&domain_create("pendant.ma", "cnt-d", ""), "d-1"))
        .await;
    assert_eq!(r.code(), 2400, "{}", r.xml);
    assert!(
        r.reason().unwrap().contains("nothing was changed"),
        "{}",
        r.xml
    );
    assert!(
        !r.xml.contains("registry@"),
        "no URL in an answer: {}",
        r.xml
    );
    // Reads say so too, and the session goes on.
    let r = c
        .cmd(&command(&domain_info("pendant.ma", "all", None), "d-2"))
        .await;
    assert_eq!(r.code(), 2400, "{}", r.xml);

    // The database is back: the same server takes writes again, by itself,
    // and the refused create was never made.
    cluster.start();
    let r = c
        .cmd(&command(&domain_info("pendant.ma", "all", None), "d-3"))
        .await;
    assert_eq!(r.code(), 2303, "the refused create was not made: {}", r.xml);
    let r = c
        .cmd(&command(&domain_create("pendant.ma", "cnt-d", ""), "d-4"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    drop(c);
    cluster.kill();
}
