//! The operator's reports against a running server: the R20 waiting list
//! (kinds, age, due dates in business days, overdue first, gone once
//! decided), the R21 yearly-minimum report and the statistics.

use crate::harness::*;
use crate::transfer::{AUTH, MA_NS, request, transfer};

fn restricted_create(name: &str) -> String {
    format!(
        r#"{}<extension><ma:domainCreate xmlns:ma="{MA_NS}"><ma:proofRef>MEN-2026-0042</ma:proofRef></ma:domainCreate></extension>"#,
        domain_create(name, "cnt-1", "")
    )
}

fn registrant_change(name: &str, id: &str) -> String {
    format!(
        r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>{name}</domain:name><domain:chg><domain:registrant>{id}</domain:registrant></domain:chg></domain:update></update>"#
    )
}

fn reject(name: &str) -> String {
    format!(
        r#"{}<extension><ma:transferReject xmlns:ma="{MA_NS}"><ma:reason>client refuse</ma:reason></ma:transferReject></extension>"#,
        transfer("reject", name, "", None)
    )
}

async fn waiting(server: &TestServer) -> Vec<serde_json::Value> {
    let run = admin_live(server, &[], None, &["--json", "waiting"]).await;
    assert_eq!(run.code, 0, "{}", run.err);
    serde_json::from_str::<serde_json::Value>(&run.out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn kinds(items: &[serde_json::Value]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_owned(),
                i["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn ok(c: &mut RawClient, body: &str, code: u16) {
    let r = c.cmd(&command(body, "rep-cmd")).await;
    assert_eq!(r.code(), code, "{body}\n{}", r.xml);
}

#[tokio::test]
async fn r20_waiting_list_shows_every_kind_overdue_first_and_forgets_decided_items() {
    // Friday: a restricted create is due two business days later, Tuesday.
    let mut server = TestServer::start_at("2026-11-20T09:00:00Z").await;
    let mut c = server.login("reg1").await;
    ok(&mut c, &contact_create("cnt-1", "MA"), 1000).await;
    ok(&mut c, &contact_create("cnt-2", "MA"), 1000).await;
    ok(&mut c, &restricted_create("lycee.ac.ma"), 1001).await;
    ok(&mut c, &restricted_create("commune.gov.ma"), 1001).await;
    ok(&mut c, &domain_create("exemple.ma", "cnt-1", ""), 1000).await;
    ok(&mut c, &domain_create("vente.ma", "cnt-1", ""), 1000).await;
    ok(&mut c, &registrant_change("exemple.ma", "cnt-2"), 1001).await;
    let mut other = server.login("reg2").await;
    ok(&mut other, &request("vente.ma"), 1001).await;
    ok(&mut c, &reject("vente.ma"), 1000).await;
    let _ = AUTH;
    drop((c, other));

    let items = waiting(&server).await;
    let mut found = kinds(&items);
    found.sort();
    assert_eq!(
        found,
        [
            ("create", "commune.gov.ma"),
            ("create", "lycee.ac.ma"),
            ("identity", "cnt-1"),
            ("identity", "cnt-2"),
            ("owner", "exemple.ma"),
            ("transfer-review", "vente.ma"),
        ]
        .map(|(k, n)| (k.to_owned(), n.to_owned()))
    );
    let create = items.iter().find(|i| i["name"] == "lycee.ac.ma").unwrap();
    assert!(
        create["due"].as_str().unwrap().starts_with("2026-11-24"),
        "{create}"
    );
    assert_eq!(create["overdue"], false);
    let review = items.iter().find(|i| i["name"] == "vente.ma").unwrap();
    assert_eq!(review["registrar"], "reg2", "the gaining registrar waits");

    // Tuesday after the deadline: the creates are overdue and come first;
    // the ownership change (5 days) and the review window are still open.
    server.restart_at(Some("2026-11-24T10:00:00Z")).await;
    let items = waiting(&server).await;
    assert_eq!(items[0]["kind"], "create", "{items:?}");
    assert_eq!(items[0]["overdue"], true);
    assert_eq!(items[0]["age_business_days"], 2, "Fri → Tue");
    let table = admin_live(&server, &[], None, &["waiting"]).await;
    assert!(table.out.contains("OVERDUE"), "{}", table.out);
    assert!(table.out.contains("2 overdue"), "{}", table.out);

    // Decisions take items off the list.
    for args in [
        &["create", "approve", "lycee.ac.ma"][..],
        &[
            "create",
            "reject",
            "commune.gov.ma",
            "--reason",
            "pas de preuve",
        ],
        &["owner", "approve", "exemple.ma"],
        &["contact", "verify", "cnt-1"],
    ] {
        let run = admin_live(&server, &[], None, args).await;
        assert_eq!(run.code, 0, "{args:?}: {}", run.err);
    }
    let found = kinds(&waiting(&server).await);
    assert_eq!(
        found,
        [("transfer-review", "vente.ma"), ("identity", "cnt-2")]
            .map(|(k, n)| (k.to_owned(), n.to_owned())),
    );
    // After the review window the rejection stands and leaves the list.
    server.restart_at(Some("2026-11-25T09:00:05Z")).await;
    let found = kinds(&waiting(&server).await);
    assert_eq!(found, [("identity".to_owned(), "cnt-2".to_owned())]);
}

#[tokio::test]
async fn r21_minimum_report_counts_the_last_twelve_months_and_stats_count_domains() {
    let mut server = TestServer::start_at("2025-10-15T09:00:00Z").await;
    let mut c = server.login("reg1").await;
    ok(&mut c, &contact_create("cnt-1", "MA"), 1000).await;
    ok(&mut c, &domain_create("ancien.ma", "cnt-1", ""), 1000).await;
    drop(c);
    // Thirteen months later the old create is out of the window.
    server.restart_at(Some("2026-11-20T09:00:00Z")).await;
    let mut c = server.login("reg1").await;
    ok(&mut c, &domain_create("un.ma", "cnt-1", ""), 1000).await;
    ok(&mut c, &domain_create("deux.co.ma", "cnt-1", ""), 1000).await;
    ok(&mut c, &restricted_create("refus.gov.ma"), 1001).await;
    drop(c);
    let run = admin_live(
        &server,
        &[],
        None,
        &["create", "reject", "refus.gov.ma", "--reason", "non"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);

    let run = admin_live(&server, &[], None, &["--json", "report", "minimum"]).await;
    assert_eq!(run.code, 0, "{}", run.err);
    let rows: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    let reg1 = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["clid"] == "reg1")
        .unwrap();
    assert_eq!(reg1["created_last_12_months"], 2, "{reg1}");
    assert_eq!(reg1["meets_minimum"], false);
    let reg2 = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["clid"] == "reg2")
        .unwrap();
    assert_eq!(reg2["created_last_12_months"], 0);
    let table = admin_live(&server, &[], None, &["report", "minimum"]).await;
    assert!(table.out.contains("BELOW"), "{}", table.out);

    let run = admin_live(&server, &[], None, &["--json", "stats"]).await;
    assert_eq!(run.code, 0, "{}", run.err);
    let stats: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    assert_eq!(stats["domains"], 3, "{stats}");
    assert_eq!(stats["per_zone"]["ma"], 2, "{stats}");
    assert_eq!(stats["per_zone"]["co.ma"], 1, "{stats}");
    assert_eq!(stats["per_registrar"]["reg1"], 3, "{stats}");
}
