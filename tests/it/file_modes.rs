//! What the registry writes is its user's alone, whatever the umask: the
//! data directory and the store's files, backups, escrow deposits, zone
//! files and the mail outbox are 0700 (directories) and 0600 (files). The
//! test process keeps its usual umask (022); the store made in it by the
//! library, and every file the real binary writes, are checked.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::harness::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `path` and everything under it: directories 0700, files 0600.
fn assert_private(path: &Path) {
    let meta = std::fs::metadata(path).unwrap();
    let want = if meta.is_dir() { 0o700 } else { 0o600 };
    assert_eq!(
        mode(path),
        want,
        "{} is {:o}, not {want:o}",
        path.display(),
        mode(path)
    );
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            assert_private(&entry.unwrap().path());
        }
    }
}

#[tokio::test]
async fn success_the_store_backups_deposits_zones_and_mail_are_private() {
    let mut server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let r = c.cmd(&command(&contact_create("cnt-1", "MA"), "m-c")).await;
    assert_eq!(r.code(), 1000);
    let r = c
        .cmd(&command(
            &domain_create("exemple.co.ma", "cnt-1", ""),
            "m-d",
        ))
        .await;
    assert_eq!(r.code(), 1000);
    drop(c);
    server.stop().await;
    let data = server.settings.server.data_dir.clone();
    let work = tempfile::tempdir().unwrap();
    let arg = |name: &str| work.path().join(name).to_str().unwrap().to_owned();

    let (ok, _, err) = admin_in(&data, None, &["domain", "send-authinfo", "exemple.co.ma"]);
    assert!(ok, "{err}");
    let (ok, _, err) = admin_in(&data, None, &["backup", &arg("registry.bak")]);
    assert!(ok, "{err}");
    let (ok, _, err) = admin_in(&data, None, &["escrow", "export", "--dir", &arg("escrow")]);
    assert!(ok, "{err}");
    let (ok, _, err) = admin_in(
        &data,
        None,
        &["zone", "export", "--zone", "co.ma", "--dir", &arg("zones")],
    );
    assert!(ok, "{err}");
    // Stores the binary creates: a restore, an import into a new directory.
    let (ok, _, err) = admin_in(
        &work.path().join("restored"),
        None,
        &["restore", &arg("registry.bak")],
    );
    assert!(ok, "{err}");
    std::fs::write(work.path().join("empty.jsonl"), "").unwrap();
    let (ok, _, err) = admin_in(
        &work.path().join("imported"),
        None,
        &["import", &arg("empty.jsonl")],
    );
    assert!(ok, "{err}");

    // The store the test made with the library, with the outbox the
    // binary added to it.
    assert!(data.join("outbox").is_dir());
    assert_private(&data);
    assert_private(&work.path().join("registry.bak"));
    let escrow = work.path().join("escrow");
    assert_eq!(std::fs::read_dir(&escrow).unwrap().count(), 1);
    assert_private(&escrow);
    assert!(work.path().join("zones/co.ma.zone").is_file());
    assert_private(&work.path().join("zones"));
    assert_private(&work.path().join("restored"));
    assert_private(&work.path().join("imported"));
}
