//! `admin compact`: with the server stopped, the store is rewritten in key
//! order, checked, and swapped in whole; every record is the same, the
//! other files of the data directory stay, ids go on after the old ones,
//! and a running server, a missing store or a leftover of an interrupted
//! compaction are refused without touching anything.

use std::collections::BTreeMap;
use std::path::Path;

use crate::harness::*;

/// A tree's records, key and value.
type Records = Vec<(Vec<u8>, Vec<u8>)>;

/// Every record of every tree of the store in `data`, read with sled alone.
fn all_records(data: &Path) -> BTreeMap<Vec<u8>, Records> {
    let db = sled::Config::new().path(data).open().unwrap();
    let mut trees = BTreeMap::new();
    for name in db.tree_names() {
        if name.as_ref() == b"__sled__default" {
            continue;
        }
        // Every opening of the store counts a boot; the rest must be equal.
        let records = db
            .open_tree(&name)
            .unwrap()
            .iter()
            .map(|e| {
                let (k, v) = e.unwrap();
                (k.to_vec(), v.to_vec())
            })
            .filter(|(k, _)| !(name.as_ref() == b"meta" && k.as_slice() == b"boot"))
            .collect();
        trees.insert(name.to_vec(), records);
    }
    trees
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_compact_keeps_every_record_and_the_other_files() {
    let mut server = TestServer::start().await;
    if crate::pg::enabled() {
        // On PostgreSQL there is nothing to compact: refused, with the reason.
        server.stop().await;
        let (ok, _, err) = admin_in(&server.settings.server.data_dir, None, &["compact"]);
        assert!(!ok, "{err}");
        assert!(err.contains("compaction is for the sled store"), "{err}");
        return;
    }
    let data = server.settings.server.data_dir.clone();
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(&contact_create("cnt-1", "MA"), "cp-c"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let mut roids = Vec::new();
    for i in 0..60 {
        let name = format!("compact-{i}.ma");
        let r = c
            .cmd(&command(&domain_create(&name, "cnt-1", ""), "cp-d"))
            .await;
        assert_eq!(r.code(), 1000, "{}", r.xml);
        roids.push(roid_of(&mut c, &name).await);
    }
    drop(c);

    // Not while the server runs.
    let busy = admin_live(&server, &[], None, &["compact"]).await;
    assert_eq!(busy.code, 1, "{}", busy.out);
    assert!(busy.err.contains("stop"), "{}", busy.err);

    server.stop().await;
    // A file of the data directory that is not the store's (the mail
    // outbox lives there).
    std::fs::create_dir_all(data.join("outbox")).unwrap();
    std::fs::write(data.join("outbox/0001.eml"), "Subject: test\r\n\r\nbody").unwrap();
    let before = all_records(&data);

    let (ok, out, err) = admin_in(&data, None, &["--json", "compact", "--keep-old"]);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    // `before` leaves out the boot counter.
    let records: usize = before.values().map(Vec::len).sum::<usize>() + 1;
    assert_eq!(report["records"].as_u64(), Some(records as u64), "{report}");
    assert_eq!(report["trees"].as_u64(), Some(before.len() as u64));
    let kept = std::path::PathBuf::from(report["kept"].as_str().unwrap());
    assert!(kept.join("db").exists(), "{}", kept.display());

    // The same records, in the new store as in the kept one.
    assert!(all_records(&data) == before, "the records changed");
    assert!(all_records(&kept) == before, "the kept records changed");
    assert_eq!(
        std::fs::read_to_string(data.join("outbox/0001.eml")).unwrap(),
        "Subject: test\r\n\r\nbody"
    );
    assert!(!kept.join("outbox").exists());
    assert!(!data.with_file_name("data.compacting").exists());
    // Its page table is written: a start reads no log again.
    let replayed = log_replayed_at_open(&data);
    assert!(replayed < 4096, "{replayed} bytes of log read again");

    // Keeping the old store twice is refused; without --keep-old it goes.
    let (ok, _, err) = admin_in(&data, None, &["compact", "--keep-old"]);
    assert!(!ok && err.contains("before-compact"), "{err}");
    let (ok, out, err) = admin_in(&data, None, &["compact"]);
    assert!(ok, "{err}");
    assert!(out.contains("compacted"), "{out}");
    assert!(!out.contains("kept"), "{out}");

    // The server serves the compacted store; new ids follow the old ones.
    server.restart_at(None).await;
    let mut c = server.login("reg1").await;
    for (i, roid) in roids.iter().enumerate() {
        assert_eq!(&roid_of(&mut c, &format!("compact-{i}.ma")).await, roid);
    }
    let r = c
        .cmd(&command(&domain_create("apres.ma", "cnt-1", ""), "cp-n"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let new_roid = roid_of(&mut c, "apres.ma").await;
    assert!(!roids.contains(&new_roid), "{new_roid} given again");
}

#[test]
fn failure_compact_refuses_what_is_not_a_whole_store() {
    if sled_only("failure_compact_refuses_what_is_not_a_whole_store") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // No store at all.
    std::fs::create_dir_all(&data).unwrap();
    let (ok, _, err) = admin_in(&data, None, &["compact"]);
    assert!(!ok && err.contains("holds no store"), "{err}");

    // Nor does any other command make one there; an import does.
    let (ok, _, err) = admin_in(&data, None, &["stats"]);
    assert!(!ok && err.contains("no store at"), "{err}");
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let (ok, _, err) = admin_in(&data, None, &["import", empty.to_str().unwrap()]);
    assert!(ok, "{err}");
    let before = all_records(&data);

    // A copy interrupted before the swap is removed and done again.
    let work = dir.path().join("data.compacting");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("compaction-in-progress"), "").unwrap();
    std::fs::write(work.join("db"), "half a copy").unwrap();
    let (ok, _, err) = admin_in(&data, None, &["compact"]);
    assert!(ok, "{err}");
    assert!(!work.exists());
    assert!(all_records(&data) == before, "the records changed");

    // After the swap, the leftover is the previous store: refused, named.
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("db"), "the previous store").unwrap();
    let (ok, _, err) = admin_in(&data, None, &["compact"]);
    assert!(!ok && err.contains("data.compacting"), "{err}");
    assert_eq!(
        std::fs::read_to_string(work.join("db")).unwrap(),
        "the previous store"
    );
    assert!(all_records(&data) == before, "the records changed");
}
