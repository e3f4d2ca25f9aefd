//! R4 reserved terms with RFC 8495 allocation tokens, and R5 blocked terms,
//! edited by the operator with the admin CLI while the server is stopped.

use crate::harness::*;

fn create_with_token(name: &str, token: &str) -> String {
    format!(
        r#"{}<extension><allocationToken:allocationToken xmlns:allocationToken="urn:ietf:params:xml:ns:allocationToken-1.0">{token}</allocationToken:allocationToken></extension>"#,
        domain_create(name, "cnt-1", "")
    )
}

async fn ready(server: &TestServer) -> RawClient {
    let mut c = server.login("reg1").await;
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "t-c"))
            .await
            .code(),
        1000
    );
    c
}

#[tokio::test]
async fn r4_shipped_reserved_terms_are_unavailable_in_every_zone() {
    let server = TestServer::start().await;
    let mut c = ready(&server).await;
    let r = c
        .cmd(&command(
            &check(
                "domain",
                &["rabat.ma", "medecin.co.ma", "icann.org.ma", "libre.ma"],
            ),
            "t-chk",
        ))
        .await;
    assert_eq!(r.attrs("name", "avail"), vec!["0", "0", "0", "1"]);
    assert_eq!(r.texts("reason"), vec!["Reserved", "Reserved", "Reserved"]);
    let r = c
        .cmd(&command(&domain_create("rabat.ma", "cnt-1", ""), "t-cr"))
        .await;
    assert_eq!(r.code(), 2306);
    assert!(r.reason().unwrap().starts_with("R4"), "{}", r.xml);
    // Accents: the Unicode term is reserved whatever form the name takes.
    let r = c
        .cmd(&command(&check("domain", &["fès.ma", "FÈS.ma"]), "t-acc"))
        .await;
    assert_eq!(r.attrs("name", "avail"), vec!["0", "0"]);
}

#[tokio::test]
async fn r4_an_allocation_token_allows_its_one_name_once() {
    let mut server = TestServer::start().await;
    drop(ready(&server).await);
    server.stop().await;
    let (ok, out) = admin(&server, None, &["token", "issue", "rabat.ma"]);
    assert!(ok, "{out}");
    let token = out.trim().to_owned();
    let (ok, other) = admin(&server, None, &["token", "issue", "agadir.ma"]);
    assert!(ok);
    let other = other.trim().to_owned();
    server.restart_at(None).await;
    let mut c = server.login("reg1").await;
    // A token for another name, or an unknown one: 2201, nothing created.
    let r = c
        .cmd(&command(&create_with_token("rabat.ma", &other), "t-1"))
        .await;
    assert_eq!(r.code(), 2201, "{}", r.xml);
    let r = c
        .cmd(&command(
            &create_with_token("rabat.ma", "MA-nonexistent"),
            "t-2",
        ))
        .await;
    assert_eq!(r.code(), 2201);
    let r = c
        .cmd(&command(&create_with_token("rabat.ma", &token), "t-3"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    // Used up: the same token cannot create again (another zone, same label).
    let r = c
        .cmd(&command(&create_with_token("rabat.co.ma", &token), "t-4"))
        .await;
    assert_eq!(r.code(), 2201);
    server.stop().await;
    let (ok, list) = admin(&server, None, &["--json", "token", "list"]);
    assert!(ok);
    let rows: serde_json::Value = serde_json::from_str(&list).unwrap();
    let used = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["token"] == token.as_str())
        .unwrap();
    assert!(used["used"].is_string());
}

#[tokio::test]
async fn r5_blocked_terms_and_operator_edits_without_restart_of_policy() {
    let mut server = TestServer::start().await;
    drop(ready(&server).await);
    server.stop().await;
    let (ok, out) = admin(
        &server,
        None,
        &["blocked", "add", "interdit", "--reason", "ordre public"],
    );
    assert!(ok, "{out}");
    let (ok, _) = admin(&server, None, &["reserved", "remove", "rabat"]);
    assert!(ok);
    let (ok, _) = admin(&server, None, &["reserved", "remove", "rabat"]);
    assert!(!ok, "removing twice fails");
    let (ok, _) = admin(&server, None, &["reserved", "add", "planet", "mars"]);
    assert!(!ok, "unknown category");
    let (ok, _) = admin(&server, None, &["reserved", "add", "city", "zaio"]);
    assert!(ok);
    server.restart_at(None).await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(
            &check("domain", &["interdit.ma", "rabat.ma", "zaio.ma"]),
            "t-b",
        ))
        .await;
    assert_eq!(r.attrs("name", "avail"), vec!["0", "1", "0"]);
    assert_eq!(r.texts("reason"), vec!["Blocked", "Reserved"]);
    let r = c
        .cmd(&command(&domain_create("interdit.ma", "cnt-1", ""), "t-bc"))
        .await;
    assert_eq!(r.code(), 2306);
    assert!(r.reason().unwrap().starts_with("R5"));
    assert_eq!(
        c.cmd(&command(&domain_create("rabat.ma", "cnt-1", ""), "t-rc"))
            .await
            .code(),
        1000
    );
}

#[tokio::test]
async fn r4_import_refuses_a_bad_file_and_replace_swaps_the_list() {
    let mut server = TestServer::start().await;
    server.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "city fez\nplanet mars\n").unwrap();
    let (ok, out) = admin(
        &server,
        None,
        &["reserved", "import", bad.to_str().unwrap()],
    );
    assert!(!ok);
    assert!(out.contains("line 2"), "{out}");
    let good = dir.path().join("good.txt");
    std::fs::write(&good, "# new list\ncity fez\nstate makhzen\n").unwrap();
    let (ok, out) = admin(
        &server,
        None,
        &["reserved", "import", good.to_str().unwrap(), "--replace"],
    );
    assert!(ok, "{out}");
    let (ok, list) = admin(&server, None, &["reserved", "export"]);
    assert!(ok);
    assert_eq!(list.lines().count(), 2, "{list}");
    server.restart_at(None).await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(&check("domain", &["fez.ma", "rabat.ma"]), "t-i"))
        .await;
    assert_eq!(r.attrs("name", "avail"), vec!["0", "1"]);
}

#[tokio::test]
async fn r24_reserved_blocked_and_token_edits_are_in_the_history() {
    let server = TestServer::start().await;
    let env = [("MA_REGISTRY_OPERATOR", "nadia")];
    for args in [
        &["reserved", "add", "city", "zzville"][..],
        &["reserved", "remove", "zzville"],
        &["blocked", "add", "arnaque", "--reason", "fraude"],
    ] {
        let run = admin_live(&server, &env, None, args).await;
        assert_eq!(run.code, 0, "{args:?}: {}", run.err);
    }
    let run = admin_live(
        &server,
        &env,
        None,
        &["--json", "token", "issue", "rabat.ma"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let token: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    for (kind, name, commands) in [
        (
            "reserved",
            "zzville",
            vec!["admin:reserved-add", "admin:reserved-remove"],
        ),
        ("blocked", "arnaque", vec!["admin:blocked-add"]),
        ("token", token.as_str(), vec!["admin:token-issue"]),
    ] {
        let run = admin_live(&server, &[], None, &["--json", "history", kind, name]).await;
        assert_eq!(run.code, 0, "{kind} {name}: {}", run.err);
        let rows: serde_json::Value = serde_json::from_str(&run.out).unwrap();
        let seen: Vec<&str> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["command"].as_str().unwrap())
            .collect();
        assert_eq!(seen, commands, "{kind} {name}");
        assert!(
            rows.as_array()
                .unwrap()
                .iter()
                .all(|r| r["who"] == "operator:nadia")
        );
    }
    let run = admin_live(&server, &[], None, &["history", "verify"]).await;
    assert_eq!(run.code, 0, "{}", run.err);
}

#[tokio::test]
async fn r5_blocked_list_exports_and_imports_through_the_running_server() {
    let server = TestServer::start().await;
    let run = admin_live(
        &server,
        &[],
        None,
        &["blocked", "add", "arnaque", "--reason", "fraude"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let export = admin_live(&server, &[], None, &["blocked", "export"]).await;
    assert_eq!(export.code, 0, "{}", export.err);
    assert_eq!(export.out, "arnaque\tfraude\n");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(
        &bad,
        "# list\nescroquerie ordre 2026-17\ndeux.points raison\nsansraison\n",
    )
    .unwrap();
    let run = admin_live(
        &server,
        &[],
        None,
        &["blocked", "import", bad.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(
        run.err.contains(":3:") || run.err.contains("line 3"),
        "{}",
        run.err
    );
    assert!(
        run.err.contains(":4:") || run.err.contains("line 4"),
        "{}",
        run.err
    );
    let after = admin_live(&server, &[], None, &["blocked", "export"]).await;
    assert_eq!(after.out, export.out, "nothing imported from a bad file");
    let good = dir.path().join("good.txt");
    std::fs::write(&good, "escroquerie\tordre 2026-17\nxn--caf-dma\tmarque\n").unwrap();
    let run = admin_live(
        &server,
        &[],
        None,
        &["blocked", "import", good.to_str().unwrap(), "--replace"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let after = admin_live(&server, &[], None, &["blocked", "export"]).await;
    assert_eq!(
        after.out, "café\tmarque\nescroquerie\tordre 2026-17\n",
        "--replace drops arnaque"
    );
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(&check("domain", &["escroquerie.ma"]), "blk-chk"))
        .await;
    assert_eq!(r.attrs("name", "avail"), ["0"], "{}", r.xml);
}
