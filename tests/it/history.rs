//! R24: every change is recorded with who, when, the command and its
//! transaction ids, in the same transaction; the operator lists it.

use crate::harness::*;

fn history(server: &TestServer, kind: &str, name: &str) -> (bool, serde_json::Value) {
    let (ok, out, _) = admin_in(
        &server.settings.server.data_dir,
        None,
        &["--json", "history", kind, name],
    );
    let json = serde_json::from_str(&out).unwrap_or(serde_json::Value::Null);
    (ok, json)
}

#[tokio::test]
async fn r24_every_change_is_recorded_with_who_when_and_trids() {
    let mut server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "h-contact"))
            .await
            .code(),
        1000
    );
    assert_eq!(
        c.cmd(&command(
            &domain_create("exemple.ma", "cnt-1", ""),
            "h-create"
        ))
        .await
        .code(),
        1000
    );
    let upd = r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name><domain:add><domain:status s="clientHold"/></domain:add></domain:update></update>"#;
    let r = c.cmd(&command(upd, "h-update")).await;
    assert_eq!(r.code(), 1000);
    let sv_trid = r.text("svTRID").unwrap();
    // A refused command changes nothing and records nothing.
    assert_eq!(c.cmd(&command(upd, "h-refused")).await.code(), 2306);
    drop(c);
    server.stop().await;
    let (ok, rows) = history(&server, "domain", "exemple.ma");
    assert!(ok);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["command"], "domain:create");
    assert_eq!(rows[0]["cltrid"], "h-create");
    assert_eq!(rows[1]["command"], "domain:update");
    assert_eq!(rows[1]["who"], "reg1");
    assert_eq!(rows[1]["svtrid"], sv_trid.as_str());
    assert_eq!(rows[1]["after"]["statuses"][0], "ClientHold");
    assert!(
        rows[1]["after"]["auth"].is_null(),
        "no authInfo hash in history"
    );
    let (ok, rows) = history(&server, "contact", "cnt-1");
    assert!(ok);
    assert_eq!(rows.as_array().unwrap().len(), 1);
    let (ok, _) = history(&server, "domain", "inconnu.ma");
    assert!(!ok);
}

fn client_hold(name: &str) -> String {
    format!(
        r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>{name}</domain:name><domain:add><domain:status s="clientHold"/></domain:add></domain:update></update>"#
    )
}

#[tokio::test]
async fn r24_history_keeps_the_request_with_passwords_masked() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "hr-c"))
            .await
            .code(),
        1000
    );
    assert_eq!(
        c.cmd(&command(&domain_create("requete.ma", "cnt-1", ""), "hr-d"))
            .await
            .code(),
        1000
    );
    let run = admin_live(
        &server,
        &[],
        None,
        &["--json", "history", "domain", "requete.ma"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let rows: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    let request = rows[0]["request"].as_str().unwrap();
    assert!(
        request.contains("<domain:name>requete.ma</domain:name>"),
        "{request}"
    );
    assert!(request.contains("<clTRID>hr-d</clTRID>"), "{request}");
    assert!(
        request.contains("<domain:pw>********</domain:pw>"),
        "{request}"
    );
    assert!(
        !run.out.contains("Dom-Auth-2024"),
        "no secret in the history"
    );
}

#[tokio::test]
async fn r24_history_chain_verifies_and_shows_a_changed_or_removed_record() {
    let mut server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    for (body, trid) in [
        (contact_create("cnt-1", "MA"), "hc-c"),
        (domain_create("chaine.ma", "cnt-1", ""), "hc-d"),
        (client_hold("chaine.ma"), "hc-u"),
    ] {
        assert_eq!(c.cmd(&command(&body, trid)).await.code(), 1000);
    }
    drop(c);
    let run = admin_live(&server, &[], None, &["--json", "history", "verify"]).await;
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    let report: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    assert_eq!(report["intact"], true);
    assert!(report["records"].as_u64().unwrap() >= 3, "{report}");

    // Somebody edits the domain's creation record on disk.
    server.stop().await;
    let data = server.settings.server.data_dir.clone();
    forge_record(&data, "history", b"domain:chaine.ma\0", b"reg1", b"reg2").await;
    let (ok, out, err) = admin_in(&data, None, &["history", "verify"]);
    assert!(!ok, "{out}");
    assert!(err.contains("broken"), "{err}");

    // The JSON report says so too, for scripts.
    let (ok, out, err) = admin_in(&data, None, &["--json", "history", "verify"]);
    assert!(!ok && out.contains("\"intact\":false"), "{out}{err}");
}

#[tokio::test]
async fn r18_domain_show_at_a_past_instant() {
    let mut server = TestServer::start_at("2026-03-01T10:00:00Z").await;
    let mut c = server.login("reg1").await;
    assert_eq!(
        c.cmd(&command(&contact_create("cnt-1", "MA"), "sa-c"))
            .await
            .code(),
        1000
    );
    assert_eq!(
        c.cmd(&command(&domain_create("passe.ma", "cnt-1", ""), "sa-d"))
            .await
            .code(),
        1000
    );
    drop(c);
    server.restart_at(Some("2026-04-01T10:00:00Z")).await;
    let mut c = server.login("reg1").await;
    assert_eq!(
        c.cmd(&command(&client_hold("passe.ma"), "sa-u"))
            .await
            .code(),
        1000
    );
    drop(c);
    let show = |at: &'static str| {
        let server = &server;
        async move {
            admin_live(
                server,
                &[],
                None,
                &["domain", "show", "passe.ma", "--at", at],
            )
            .await
        }
    };
    let march = show("2026-03-15T00:00:00Z").await;
    assert_eq!(march.code, 0, "{}", march.err);
    let march: serde_json::Value = serde_json::from_str(&march.out).unwrap();
    assert_eq!(
        march["domain"]["statuses"],
        serde_json::json!([]),
        "{march}"
    );
    assert_eq!(march["as_of_change"]["command"], "domain:create");
    let april = show("2026-04-02T00:00:00Z").await;
    let april: serde_json::Value = serde_json::from_str(&april.out).unwrap();
    let statuses = april["domain"]["statuses"].as_array().unwrap();
    assert!(
        statuses.contains(&serde_json::json!("ClientHold")),
        "{april}"
    );
    let before = show("2026-02-01T00:00:00Z").await;
    assert_eq!(before.code, 1);
    assert!(before.err.contains("did not exist yet"), "{}", before.err);
}

/// Secrets sent in every lexical form XML allows; none may reach the
/// history or a backup in clear.
const CDATA_SECRET: &str = "Cdata-Secret-71";
const COMMENT_SECRET: &str = "Comment-Secret-72";
const ENTITY_SECRET: &str = "secret-Entity-73";
const PI_SECRET: &str = "Pi-Secret-74";

#[tokio::test]
async fn r24_history_and_backups_mask_passwords_in_any_lexical_form() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let contact = contact_create("cnt-lex", "MA").replace(
        "<contact:pw>Cnt-Auth-2024</contact:pw>",
        &format!("<contact:pw><![CDATA[{CDATA_SECRET}]]></contact:pw>"),
    );
    assert!(contact.contains(CDATA_SECRET));
    assert_eq!(c.cmd(&command(&contact, "lex-c")).await.code(), 1000);
    // The domain's authInfo: a comment inside, and "secret-" written as
    // character references, under another prefix.
    let encoded: String = "secret-"
        .chars()
        .map(|ch| format!("&#{};", u32::from(ch)))
        .collect();
    let domain = domain_create("lexical.ma", "cnt-lex", "").replace(
        "<domain:pw>Dom-Auth-2024</domain:pw>",
        &format!(
            "<!-- before --><d:pw xmlns:d=\"urn:ietf:params:xml:ns:domain-1.0\"><!-- inside -->{COMMENT_SECRET}</d:pw>"
        ),
    );
    assert_eq!(c.cmd(&command(&domain, "lex-d")).await.code(), 1000);
    let update = format!(
        r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>lexical.ma</domain:name><domain:chg><domain:authInfo><domain:pw>{encoded}Entity-73</domain:pw></domain:authInfo></domain:chg></domain:update></update>"#
    );
    assert_eq!(c.cmd(&command(&update, "lex-u")).await.code(), 1000);
    let update = format!(
        r#"<update><contact:update xmlns:contact="urn:ietf:params:xml:ns:contact-1.0"><contact:id>cnt-lex</contact:id><contact:chg><contact:authInfo><contact:pw roid="C1-MA"><?note x?>{PI_SECRET}</contact:pw></contact:authInfo></contact:chg></contact:update></update>"#
    );
    assert_eq!(c.cmd(&command(&update, "lex-cu")).await.code(), 1000);
    // The authInfo works as sent, so the server read each secret.
    let r = c
        .cmd(&command(
            &domain_info("lexical.ma", "all", Some(ENTITY_SECRET)),
            "lex-i",
        ))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    drop(c);

    let secrets = [
        CDATA_SECRET,
        COMMENT_SECRET,
        ENTITY_SECRET,
        PI_SECRET,
        "Entity-73",
    ];
    for (kind, name, records) in [("contact", "cnt-lex", 2), ("domain", "lexical.ma", 2)] {
        let run = admin_live(&server, &[], None, &["--json", "history", kind, name]).await;
        assert_eq!(run.code, 0, "{}", run.err);
        for secret in secrets {
            assert!(!run.out.contains(secret), "{secret} in {}", run.out);
        }
        let rows: serde_json::Value = serde_json::from_str(&run.out).unwrap();
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), records, "{rows:?}");
        for row in rows {
            let request = row["request"].as_str().unwrap();
            assert!(request.contains("********"), "{request}");
            // Still a document a reader can follow.
            roxmltree::Document::parse(request).unwrap();
        }
        let text = admin_live(&server, &[], None, &["history", kind, name]).await;
        assert_eq!(text.code, 0, "{}", text.err);
        for secret in secrets {
            assert!(!text.out.contains(secret), "{secret} in {}", text.out);
        }
    }
    let file = server
        .settings
        .server
        .data_dir
        .with_file_name("lexical.bak");
    let run = admin_live(&server, &[], None, &["backup", file.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.err);
    let bytes = std::fs::read(&file).unwrap();
    let backup = String::from_utf8_lossy(&bytes);
    assert!(backup.contains("lexical.ma"), "the backup holds the domain");
    for secret in secrets {
        assert!(!backup.contains(secret), "{secret} in the backup");
    }
}
