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
