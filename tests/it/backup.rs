//! `admin backup` while the server runs and takes creates, then `admin
//! restore` into a new directory: the restored registry serves every
//! domain whole, never reuses an object id or an svTRID, and a damaged or
//! misplaced restore is refused.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_backup_during_creates_restores_a_whole_registry() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(&contact_create("cnt-1", "MA"), "bk-c"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let r = c
        .cmd(&command(&domain_create("avant.ma", "cnt-1", ""), "bk-d"))
        .await;
    assert_eq!(r.code(), 1000);
    let sv_before = r.text("svTRID").unwrap();

    // Creates keep coming while the backup runs.
    let writer = tokio::spawn(async move {
        for i in 0..40 {
            let r = c
                .cmd(&command(
                    &domain_create(&format!("pendant-{i}.ma"), "cnt-1", ""),
                    "bk-w",
                ))
                .await;
            assert_eq!(r.code(), 1000, "{}", r.xml);
        }
        c
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registry.bak");
    let run = admin_live(
        &server,
        &[],
        None,
        &["--json", "backup", file.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let report: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    assert!(report["records"].as_u64().unwrap() > 0, "{report}");
    let mut c = writer.await.unwrap();
    let roids_before = [roid_of(&mut c, "avant.ma").await];
    drop(c);

    // A restore refuses a running server's directory and a damaged file.
    let busy = admin_live(&server, &[], None, &["restore", file.to_str().unwrap()]).await;
    assert_eq!(busy.code, 1, "{}", busy.out);
    let damaged = dir.path().join("damaged.bak");
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&damaged, bytes).unwrap();
    let target = dir.path().join("restored");
    let (ok, _, err) = admin_in(&target, None, &["restore", damaged.to_str().unwrap()]);
    assert!(!ok && err.contains("damaged"), "{err}");
    assert!(!target.exists() || std::fs::read_dir(&target).unwrap().next().is_none());

    let (ok, out, err) = admin_in(&target, None, &["restore", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("restored into"), "{out}");
    // The restore's log is covered by a snapshot: opening the store reads
    // none of it again (sled's own files; PostgreSQL has none of them).
    if pg_url(&target).is_none() {
        assert!(snapshot_position(&target) > 0);
        let replayed = log_replayed_at_open(&target);
        assert!(replayed < 4096, "{replayed} bytes of log read again");
    }
    let (ok, _, err) = admin_in(&target, None, &["restore", file.to_str().unwrap()]);
    assert!(!ok && err.contains("not empty"), "{err}");

    // The restored registry: every domain it holds is whole.
    let restored = TestServer::start_with(|s| s.server.data_dir = target.clone(), None).await;
    let mut c = restored.login("reg1").await;
    assert_eq!(roid_of(&mut c, "avant.ma").await, roids_before[0]);
    let mut present = 0;
    for i in 0..40 {
        let name = format!("pendant-{i}.ma");
        let r = c.cmd(&command(&check("domain", &[&name]), "bk-k")).await;
        if r.attrs("name", "avail") == ["0"] {
            roid_of(&mut c, &name).await;
            present += 1;
        }
    }
    assert!(present <= 40);
    // New objects get new ids and new svTRIDs.
    let r = c
        .cmd(&command(&domain_create("apres.ma", "cnt-1", ""), "bk-n"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let sv_after = r.text("svTRID").unwrap();
    let boot = |sv: &str| sv.split('-').nth(1).unwrap().parse::<u64>().unwrap();
    assert!(
        boot(&sv_after) > boot(&sv_before),
        "{sv_before} then {sv_after}"
    );
    let new_roid = roid_of(&mut c, "apres.ma").await;
    assert!(!roids_before.contains(&new_roid), "{new_roid}");
    for i in 0..40 {
        let name = format!("pendant-{i}.ma");
        let r = c.cmd(&command(&check("domain", &[&name]), "bk-k2")).await;
        if r.attrs("name", "avail") == ["0"] {
            assert_ne!(roid_of(&mut c, &name).await, new_roid);
        }
    }
}

/// Writes a backup file (the format of `store/backup.rs`) of one tree,
/// `refs`, holding `records` index entries and nothing else.
fn synthetic_backup(path: &std::path::Path, records: u32) {
    use sha2::Digest as _;
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"MAREGBK1");
    bytes.extend_from_slice(&ma_registry::store::FORMAT_VERSION.to_be_bytes());
    bytes.extend_from_slice(&1u64.to_be_bytes());
    let chunk = |bytes: &mut Vec<u8>, data: &[u8]| {
        bytes.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        bytes.extend_from_slice(data);
    };
    bytes.push(1);
    chunk(&mut bytes, b"refs");
    // In key order, as a backup writes them: contact, then domain.
    for c in 0..400 {
        for d in (c..records).step_by(400) {
            bytes.push(2);
            chunk(
                &mut bytes,
                format!("Cctc-{c:04}\0domaine-{d:08}.ma").as_bytes(),
            );
            chunk(&mut bytes, b"");
        }
    }
    bytes.push(3);
    let digest = sha2::Sha256::digest(&bytes);
    bytes.extend_from_slice(&digest);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn success_a_large_restore_takes_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("large.bak");
    synthetic_backup(&file, 300_000);
    let target = dir.path().join("restored");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ma-registry"))
        .arg("--data-dir")
        .arg(&target)
        .args(["admin", "restore"])
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The most memory the restore held, read from /proc while it runs.
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let code = loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak_kib = peak_kib.max(hwm.unwrap_or(0));
        }
        if let Some(code) = child.try_wait().unwrap() {
            break code;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(code.success(), "{err}");
    // Written in batches of 10,000 records, the restore held 620 MiB here
    // (sled kept about 2 KiB per record written); in batches of 1,000,
    // 120 MiB.
    assert!(peak_kib > 0);
    eprintln!("the restore held {peak_kib} KiB at most");
    assert!(peak_kib < 300 * 1024, "the restore held {peak_kib} KiB");
}
