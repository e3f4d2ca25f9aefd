//! RFC 5731–5733 update, delete and renew of the three objects, and the
//! charter rules they enforce: R7 (periods), R8 (five-year cap), R11
//! (deletion into redemption), R13 (ownership change), R14 (name servers and
//! glue), R17 (admin contact in Morocco).

use chrono::Months;

use crate::harness::*;
use crate::ma_extension::registrant;

const DOMAIN_NS: &str = "urn:ietf:params:xml:ns:domain-1.0";
const CONTACT_NS: &str = "urn:ietf:params:xml:ns:contact-1.0";
const HOST_NS: &str = "urn:ietf:params:xml:ns:host-1.0";

fn assert_reason_starts(r: &Resp, prefix: &str) {
    let reason = r
        .reason()
        .unwrap_or_else(|| panic!("no reason in {}", r.xml));
    assert!(reason.starts_with(prefix), "{reason}");
}

// ----- request bodies -----

fn domain_update(name: &str, inner: &str) -> String {
    format!(
        r#"<update><domain:update xmlns:domain="{DOMAIN_NS}"><domain:name>{name}</domain:name>{inner}</domain:update></update>"#
    )
}

fn host_objs(hosts: &[&str]) -> String {
    let objs: String = hosts
        .iter()
        .map(|h| format!("<domain:hostObj>{h}</domain:hostObj>"))
        .collect();
    format!("<domain:ns>{objs}</domain:ns>")
}

fn domain_status(s: &str) -> String {
    format!(r#"<domain:status s="{s}"/>"#)
}

fn domain_contact(role: &str, id: &str) -> String {
    format!(r#"<domain:contact type="{role}">{id}</domain:contact>"#)
}

fn domain_add(inner: &str) -> String {
    format!("<domain:add>{inner}</domain:add>")
}

fn domain_rem(inner: &str) -> String {
    format!("<domain:rem>{inner}</domain:rem>")
}

fn domain_renew(name: &str, cur_exp: &str, period: &str) -> String {
    format!(
        r#"<renew><domain:renew xmlns:domain="{DOMAIN_NS}"><domain:name>{name}</domain:name><domain:curExpDate>{cur_exp}</domain:curExpDate>{period}</domain:renew></renew>"#
    )
}

fn years(n: u32) -> String {
    format!(r#"<domain:period unit="y">{n}</domain:period>"#)
}

fn domain_delete(name: &str) -> String {
    format!(
        r#"<delete><domain:delete xmlns:domain="{DOMAIN_NS}"><domain:name>{name}</domain:name></domain:delete></delete>"#
    )
}

fn contact_update(id: &str, inner: &str) -> String {
    format!(
        r#"<update><contact:update xmlns:contact="{CONTACT_NS}"><contact:id>{id}</contact:id>{inner}</contact:update></update>"#
    )
}

fn contact_status(wrapper: &str, s: &str) -> String {
    format!(r#"<contact:{wrapper}><contact:status s="{s}"/></contact:{wrapper}>"#)
}

fn contact_info(id: &str) -> String {
    format!(
        r#"<info><contact:info xmlns:contact="{CONTACT_NS}"><contact:id>{id}</contact:id></contact:info></info>"#
    )
}

fn contact_delete(id: &str) -> String {
    format!(
        r#"<delete><contact:delete xmlns:contact="{CONTACT_NS}"><contact:id>{id}</contact:id></contact:delete></delete>"#
    )
}

/// A `<contact:chg>` moving the loc address to `city` in country `cc`.
fn contact_move(city: &str, cc: &str) -> String {
    format!(
        r#"<contact:chg><contact:postalInfo type="loc"><contact:addr><contact:street>1 avenue Hassan II</contact:street><contact:city>{city}</contact:city><contact:cc>{cc}</contact:cc></contact:addr></contact:postalInfo></contact:chg>"#
    )
}

fn host_update(name: &str, inner: &str) -> String {
    format!(
        r#"<update><host:update xmlns:host="{HOST_NS}"><host:name>{name}</host:name>{inner}</host:update></update>"#
    )
}

fn host_addrs(wrapper: &str, addrs: &[&str]) -> String {
    let list: String = addrs
        .iter()
        .map(|a| {
            let v = if a.contains(':') { "v6" } else { "v4" };
            format!(r#"<host:addr ip="{v}">{a}</host:addr>"#)
        })
        .collect();
    format!("<host:{wrapper}>{list}</host:{wrapper}>")
}

fn host_status(wrapper: &str, s: &str) -> String {
    format!(r#"<host:{wrapper}><host:status s="{s}"/></host:{wrapper}>"#)
}

fn host_rename(new_name: &str) -> String {
    format!("<host:chg><host:name>{new_name}</host:name></host:chg>")
}

fn host_info(name: &str) -> String {
    format!(
        r#"<info><host:info xmlns:host="{HOST_NS}"><host:name>{name}</host:name></host:info></info>"#
    )
}

fn host_delete(name: &str) -> String {
    format!(
        r#"<delete><host:delete xmlns:host="{HOST_NS}"><host:name>{name}</host:name></host:delete></delete>"#
    )
}

fn statuses(r: &Resp) -> Vec<String> {
    r.attrs("status", "s")
}

/// The expiry date (`YYYY-MM-DD`) a domain info or renew answers.
fn ex_date(r: &Resp) -> String {
    r.text("exDate")
        .unwrap_or_else(|| panic!("no exDate in {}", r.xml))[..10]
        .to_owned()
}

// ----- fixtures -----

/// reg1 logged in, with contact `cnt-1` (MA), external hosts
/// `ns1.example.net` and `ns2.example.net`, and `exemple.ma` (registrant,
/// admin and tech `cnt-1`) delegated to `ns1.example.net`.
async fn registry() -> (TestServer, RawClient) {
    registry_on(TestServer::start().await).await
}

/// [`registry`] on a server whose clock starts at `now`.
async fn registry_at(now: &str) -> (TestServer, RawClient) {
    registry_on(TestServer::start_at(now).await).await
}

async fn registry_on(server: TestServer) -> (TestServer, RawClient) {
    let mut c = server.login("reg1").await;
    assert_ok(&mut c, &registrant("cnt-1", "MA")).await;
    assert_ok(&mut c, &host_create("ns1.example.net", &[])).await;
    assert_ok(&mut c, &host_create("ns2.example.net", &[])).await;
    let body = domain_create_full("exemple.ma", "cnt-1", "", &["ns1.example.net"]);
    assert_ok(&mut c, &body).await;
    (server, c)
}

async fn info(c: &mut RawClient, name: &str) -> Resp {
    assert_ok(c, &domain_info(name, "all", None)).await
}

// ===== domain:update =====

#[tokio::test]
async fn success_update_adds_and_removes_name_servers() {
    let (_server, mut c) = registry().await;
    let body = domain_update(
        "exemple.ma",
        &format!(
            "{}{}",
            domain_add(&host_objs(&["ns2.example.net"])),
            domain_rem(&host_objs(&["ns1.example.net"]))
        ),
    );
    assert_ok(&mut c, &body).await;
    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(r.texts("hostObj"), ["ns2.example.net"]);
    assert_eq!(r.text("upID").as_deref(), Some("reg1"));
    assert!(r.text("upDate").is_some(), "{}", r.xml);

    // An in-zone host with glue can be added too.
    assert_ok(&mut c, &host_create("ns1.exemple.ma", &["192.0.2.53"])).await;
    let body = domain_update("exemple.ma", &domain_add(&host_objs(&["ns1.exemple.ma"])));
    assert_ok(&mut c, &body).await;
    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(r.texts("hostObj"), ["ns2.example.net", "ns1.exemple.ma"]);

    // The host removed is no longer linked; the one added is.
    let old = assert_ok(&mut c, &host_info("ns1.example.net")).await;
    assert_eq!(statuses(&old), ["ok"]);
    let new = assert_ok(&mut c, &host_info("ns2.example.net")).await;
    assert!(statuses(&new).contains(&"linked".to_owned()), "{}", new.xml);
}

#[tokio::test]
async fn success_update_adds_and_removes_contacts() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &registrant("cnt-2", "MA")).await;
    let body = domain_update(
        "exemple.ma",
        &format!(
            "{}{}",
            domain_add(&format!(
                "{}{}",
                domain_contact("tech", "cnt-2"),
                domain_contact("billing", "cnt-2")
            )),
            domain_rem(&domain_contact("tech", "cnt-1"))
        ),
    );
    assert_ok(&mut c, &body).await;
    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(r.attrs("contact", "type"), ["admin", "tech", "billing"]);
    assert_eq!(r.texts("contact"), ["cnt-1", "cnt-2", "cnt-2"]);

    // Removing a contact the domain does not have: 2306.
    let body = domain_update("exemple.ma", &domain_rem(&domain_contact("tech", "cnt-1")));
    assert_code(&mut c, &body, 2306).await;
    // Adding one it has: 2306.
    let body = domain_update("exemple.ma", &domain_add(&domain_contact("tech", "cnt-2")));
    assert_code(&mut c, &body, 2306).await;
}

#[tokio::test]
async fn success_update_adds_and_removes_client_statuses() {
    let (_server, mut c) = registry().await;
    let body = domain_update(
        "exemple.ma",
        &domain_add(&format!(
            "{}{}",
            domain_status("clientHold"),
            domain_status("clientTransferProhibited")
        )),
    );
    assert_ok(&mut c, &body).await;
    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(
        statuses(&r),
        ["clientHold", "clientTransferProhibited"],
        "{}",
        r.xml
    );

    let body = domain_update("exemple.ma", &domain_rem(&domain_status("clientHold")));
    assert_ok(&mut c, &body).await;
    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(statuses(&r), ["clientTransferProhibited"]);

    let body = domain_update(
        "exemple.ma",
        &domain_rem(&domain_status("clientTransferProhibited")),
    );
    assert_ok(&mut c, &body).await;
    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(statuses(&r), ["ok"]);
}

#[tokio::test]
async fn r13_update_changing_the_registrant_is_pending_registry_approval() {
    let (_server, mut c) = registry().await;
    // The new registrant has an identity document on record (R15).
    assert_ok(&mut c, &registrant("cnt-2", "MA")).await;
    let body = domain_update(
        "exemple.ma",
        "<domain:chg><domain:registrant>cnt-2</domain:registrant></domain:chg>",
    );
    // R13: a registrant change is an ownership change: 1001, pendingUpdate,
    // and the registrant stays until the registry approves.
    let r = run(&mut c, &body).await;
    assert_eq!(r.code(), 1001, "{}", r.xml);
    let r = info(&mut c, "exemple.ma").await;
    assert!(
        statuses(&r).contains(&"pendingUpdate".to_owned()),
        "{}",
        r.xml
    );
    assert_eq!(r.text("registrant").as_deref(), Some("cnt-1"));
    // The requested registrant shows as the .ma extension's pendingOwner.
    assert_eq!(
        r.text("pendingOwner").as_deref(),
        Some("cnt-2"),
        "{}",
        r.xml
    );
}

#[tokio::test]
async fn failure_update_to_an_unknown_registrant_answers_2303() {
    let (_server, mut c) = registry().await;
    let body = domain_update(
        "exemple.ma",
        "<domain:chg><domain:registrant>inconnu</domain:registrant></domain:chg>",
    );
    assert_code(&mut c, &body, 2303).await;
    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(r.text("registrant").as_deref(), Some("cnt-1"));
}

#[tokio::test]
async fn failure_update_removing_the_registrant_answers_2306() {
    let (_server, mut c) = registry().await;
    let body = domain_update(
        "exemple.ma",
        "<domain:chg><domain:registrant/></domain:chg>",
    );
    assert_code(&mut c, &body, 2306).await;
}

#[tokio::test]
async fn success_update_changes_the_auth_info() {
    let (server, mut c) = registry().await;
    let body = domain_update(
        "exemple.ma",
        "<domain:chg><domain:authInfo><domain:pw>Nouveau-Auth-2025</domain:pw></domain:authInfo></domain:chg>",
    );
    assert_ok(&mut c, &body).await;

    let mut other = server.login("reg2").await;
    let r = assert_ok(
        &mut other,
        &domain_info("exemple.ma", "all", Some("Nouveau-Auth-2025")),
    )
    .await;
    assert_eq!(r.text("registrant").as_deref(), Some("cnt-1"));
    assert_eq!(r.texts("hostObj"), ["ns1.example.net"]);
    assert_code(
        &mut other,
        &domain_info("exemple.ma", "all", Some("Dom-Auth-2024")),
        2202,
    )
    .await;
}

#[tokio::test]
async fn failure_update_by_another_registrar_answers_2201() {
    let (server, _c) = registry().await;
    let mut other = server.login("reg2").await;
    let body = domain_update("exemple.ma", &domain_add(&domain_status("clientHold")));
    assert_code(&mut other, &body, 2201).await;
    let body = domain_update(
        "exemple.ma",
        "<domain:chg><domain:authInfo><domain:pw>Vol-Auth-2025</domain:pw></domain:authInfo></domain:chg>",
    );
    assert_code(&mut other, &body, 2201).await;
    assert_code(
        &mut other,
        &domain_info("exemple.ma", "all", Some("Vol-Auth-2025")),
        2202,
    )
    .await;
}

#[tokio::test]
async fn failure_update_of_an_unknown_domain_answers_2303() {
    let (_server, mut c) = registry().await;
    let body = domain_update("inconnu.ma", &domain_add(&domain_status("clientHold")));
    assert_code(&mut c, &body, 2303).await;
}

#[tokio::test]
async fn failure_update_adding_server_hold_answers_2304() {
    let (_server, mut c) = registry().await;
    let body = domain_update("exemple.ma", &domain_add(&domain_status("serverHold")));
    assert_code(&mut c, &body, 2304).await;
    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(statuses(&r), ["ok"]);
}

#[tokio::test]
async fn failure_update_under_client_update_prohibited_answers_2304_until_removed() {
    let (_server, mut c) = registry().await;
    let lock = domain_update(
        "exemple.ma",
        &domain_add(&domain_status("clientUpdateProhibited")),
    );
    assert_ok(&mut c, &lock).await;

    let add_ns = domain_update("exemple.ma", &domain_add(&host_objs(&["ns2.example.net"])));
    assert_code(&mut c, &add_ns, 2304).await;
    let chg = domain_update(
        "exemple.ma",
        "<domain:chg><domain:authInfo><domain:pw>Nouveau-Auth-2025</domain:pw></domain:authInfo></domain:chg>",
    );
    assert_code(&mut c, &chg, 2304).await;

    let unlock = domain_update(
        "exemple.ma",
        &domain_rem(&domain_status("clientUpdateProhibited")),
    );
    assert_ok(&mut c, &unlock).await;
    assert_ok(&mut c, &add_ns).await;
    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(r.texts("hostObj"), ["ns1.example.net", "ns2.example.net"]);
}

#[tokio::test]
async fn failure_update_adding_a_status_already_set_answers_2306() {
    let (_server, mut c) = registry().await;
    let body = domain_update("exemple.ma", &domain_add(&domain_status("clientHold")));
    assert_ok(&mut c, &body).await;
    assert_code(&mut c, &body, 2306).await;
    // Removing a status that is not set: 2306 too.
    let rem = domain_update(
        "exemple.ma",
        &domain_rem(&domain_status("clientRenewProhibited")),
    );
    assert_code(&mut c, &rem, 2306).await;
}

#[tokio::test]
async fn failure_update_removing_a_name_server_not_present_answers_2306() {
    let (_server, mut c) = registry().await;
    let body = domain_update("exemple.ma", &domain_rem(&host_objs(&["ns2.example.net"])));
    assert_code(&mut c, &body, 2306).await;
    // Adding one that is there: 2306 too.
    let body = domain_update("exemple.ma", &domain_add(&host_objs(&["ns1.example.net"])));
    assert_code(&mut c, &body, 2306).await;
    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(r.texts("hostObj"), ["ns1.example.net"]);
}

#[tokio::test]
async fn r14_update_to_fourteen_name_servers_answers_2306() {
    let (_server, mut c) = registry().await;
    // exemple.ma has ns1.example.net; 12 more make 13, accepted.
    let hosts: Vec<String> = (3..=15).map(|i| format!("ns{i}.example.net")).collect();
    for h in &hosts {
        assert_ok(&mut c, &host_create(h, &[])).await;
    }
    let twelve: Vec<&str> = hosts[..12].iter().map(String::as_str).collect();
    let body = domain_update("exemple.ma", &domain_add(&host_objs(&twelve)));
    assert_ok(&mut c, &body).await;
    assert_eq!(info(&mut c, "exemple.ma").await.texts("hostObj").len(), 13);

    // The 14th: refused.
    let body = domain_update("exemple.ma", &domain_add(&host_objs(&[&hosts[12]])));
    let r = assert_code(&mut c, &body, 2306).await;
    assert_reason_starts(&r, "R14");
    assert_eq!(info(&mut c, "exemple.ma").await.texts("hostObj").len(), 13);
}

#[tokio::test]
async fn failure_update_adding_a_missing_host_answers_2303() {
    let (_server, mut c) = registry().await;
    let body = domain_update("exemple.ma", &domain_add(&host_objs(&["ns9.example.net"])));
    assert_code(&mut c, &body, 2303).await;
    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(r.texts("hostObj"), ["ns1.example.net"]);
}

#[tokio::test]
async fn failure_update_adding_a_missing_contact_answers_2303() {
    let (_server, mut c) = registry().await;
    for role in ["tech", "admin"] {
        let body = domain_update("exemple.ma", &domain_add(&domain_contact(role, "inconnu")));
        assert_code(&mut c, &body, 2303).await;
    }
}

#[tokio::test]
async fn failure_update_with_a_malformed_name_server_answers_2005() {
    let (_server, mut c) = registry().await;
    let body = domain_update("exemple.ma", &domain_add(&host_objs(&["ns_1.example.net"])));
    assert_code(&mut c, &body, 2005).await;
}

#[tokio::test]
async fn failure_update_with_host_attr_answers_2102() {
    let (_server, mut c) = registry().await;
    let body = domain_update(
        "exemple.ma",
        &domain_add(
            "<domain:ns><domain:hostAttr><domain:hostName>ns3.example.net</domain:hostName></domain:hostAttr></domain:ns>",
        ),
    );
    assert_code(&mut c, &body, 2102).await;
}

#[tokio::test]
async fn r17_update_adding_an_admin_contact_outside_morocco_answers_2306() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &registrant("cnt-fr", "FR")).await;
    let body = domain_update(
        "exemple.ma",
        &domain_add(&domain_contact("admin", "cnt-fr")),
    );
    let r = assert_code(&mut c, &body, 2306).await;
    assert_reason_starts(&r, "R17");
    // A technical contact may live anywhere.
    let body = domain_update("exemple.ma", &domain_add(&domain_contact("tech", "cnt-fr")));
    assert_ok(&mut c, &body).await;
    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(r.texts("contact"), ["cnt-1", "cnt-1", "cnt-fr"]);
}

#[tokio::test]
async fn r17_create_with_an_admin_contact_outside_morocco_answers_2306() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &registrant("cnt-fr", "FR")).await;
    // domain_create makes the registrant the admin contact too.
    let r = assert_code(&mut c, &domain_create("paris.ma", "cnt-fr", ""), 2306).await;
    assert_reason_starts(&r, "R17");
    let free = assert_ok(&mut c, &check("domain", &["paris.ma"])).await;
    assert_eq!(free.attrs("name", "avail"), ["1"]);

    // A registrant abroad with an admin contact in Morocco is fine.
    let body = format!(
        r#"<create><domain:create xmlns:domain="{DOMAIN_NS}"><domain:name>paris.ma</domain:name>
<domain:registrant>cnt-fr</domain:registrant>{}{}
<domain:authInfo><domain:pw>Dom-Auth-2024</domain:pw></domain:authInfo></domain:create></create>"#,
        domain_contact("admin", "cnt-1"),
        domain_contact("tech", "cnt-fr")
    );
    assert_ok(&mut c, &body).await;
}

// ===== domain:renew =====

#[tokio::test]
async fn success_renew_adds_the_years_to_the_expiry_date() {
    let server = TestServer::start_at("2025-03-10T10:00:00Z").await;
    let mut c = server.login("reg1").await;
    assert_ok(&mut c, &registrant("cnt-1", "MA")).await;
    let created = assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;
    let expiry = instant(&created.text("exDate").unwrap());
    assert!(expiry.to_rfc3339().starts_with("2026-03-10"), "{expiry}");

    let r = assert_ok(&mut c, &domain_renew("exemple.ma", "2026-03-10", &years(2))).await;
    assert_eq!(r.text("name").as_deref(), Some("exemple.ma"));
    let renewed = instant(&r.text("exDate").unwrap());
    assert_eq!(renewed, expiry.checked_add_months(Months::new(24)).unwrap());
    assert_eq!(ex_date(&info(&mut c, "exemple.ma").await), "2028-03-10");

    // Without a period: one year.
    let r = assert_ok(&mut c, &domain_renew("exemple.ma", "2028-03-10", "")).await;
    assert_eq!(ex_date(&r), "2029-03-10");
}

#[tokio::test]
async fn failure_renew_with_a_wrong_cur_exp_date_answers_2306() {
    let server = TestServer::start_at("2025-03-10T10:00:00Z").await;
    let mut c = server.login("reg1").await;
    assert_ok(&mut c, &registrant("cnt-1", "MA")).await;
    assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;
    for wrong in ["2026-03-09", "2026-03-11", "2027-03-10"] {
        assert_code(&mut c, &domain_renew("exemple.ma", wrong, &years(1)), 2306).await;
    }
    assert_eq!(ex_date(&info(&mut c, "exemple.ma").await), "2026-03-10");
}

#[tokio::test]
async fn r7_renew_for_six_years_answers_2004() {
    let server = TestServer::start_at("2025-03-10T10:00:00Z").await;
    let mut c = server.login("reg1").await;
    assert_ok(&mut c, &registrant("cnt-1", "MA")).await;
    assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;
    let r = assert_code(
        &mut c,
        &domain_renew("exemple.ma", "2026-03-10", &years(6)),
        2004,
    )
    .await;
    assert_reason_starts(&r, "R7");
    let months = r#"<domain:period unit="m">18</domain:period>"#;
    assert_code(
        &mut c,
        &domain_renew("exemple.ma", "2026-03-10", months),
        2004,
    )
    .await;
    assert_eq!(ex_date(&info(&mut c, "exemple.ma").await), "2026-03-10");
}

#[tokio::test]
async fn r8_the_faq_example() {
    // FAQ: registered 2014-04-23 for two years. The server's expiry is the
    // anniversary instant, 2016-04-23 (the FAQ counts to the day before).
    let mut server = TestServer::start_at("2014-04-23T10:00:00Z").await;
    let mut c = server.login("reg1").await;
    assert_ok(&mut c, &registrant("cnt-1", "MA")).await;
    let created = assert_ok(
        &mut c,
        &domain_create_full("exemple.ma", "cnt-1", &years(2), &[]),
    )
    .await;
    assert_eq!(ex_date(&created), "2016-04-23");
    drop(c);

    // On 2015-03-15 …
    server.restart_at(Some("2015-03-15T10:00:00Z")).await;
    let mut c = server.login("reg1").await;

    // … a 4-year renewal would give 2020-04-23, more than 5 years after
    // 2015-03-15: refused.
    let r = assert_code(
        &mut c,
        &domain_renew("exemple.ma", "2016-04-23", &years(4)),
        2306,
    )
    .await;
    assert_reason_starts(&r, "R8");
    assert_eq!(ex_date(&info(&mut c, "exemple.ma").await), "2016-04-23");

    // A 3-year renewal adds to the expiry date, not to today: 2019.
    let r = assert_ok(&mut c, &domain_renew("exemple.ma", "2016-04-23", &years(3))).await;
    assert_eq!(ex_date(&r), "2019-04-23");
    assert_eq!(ex_date(&info(&mut c, "exemple.ma").await), "2019-04-23");

    // 4 more years on top: refused too.
    let r = assert_code(
        &mut c,
        &domain_renew("exemple.ma", "2019-04-23", &years(4)),
        2306,
    )
    .await;
    assert_reason_starts(&r, "R8");
    assert_eq!(ex_date(&info(&mut c, "exemple.ma").await), "2019-04-23");
}

#[tokio::test]
async fn failure_renew_under_client_renew_prohibited_answers_2304() {
    let server = TestServer::start_at("2025-03-10T10:00:00Z").await;
    let mut c = server.login("reg1").await;
    assert_ok(&mut c, &registrant("cnt-1", "MA")).await;
    assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;
    let lock = domain_update(
        "exemple.ma",
        &domain_add(&domain_status("clientRenewProhibited")),
    );
    assert_ok(&mut c, &lock).await;
    let renew = domain_renew("exemple.ma", "2026-03-10", &years(1));
    assert_code(&mut c, &renew, 2304).await;
    let unlock = domain_update(
        "exemple.ma",
        &domain_rem(&domain_status("clientRenewProhibited")),
    );
    assert_ok(&mut c, &unlock).await;
    assert_ok(&mut c, &renew).await;
}

#[tokio::test]
async fn failure_renew_by_another_registrar_answers_2201() {
    let server = TestServer::start_at("2025-03-10T10:00:00Z").await;
    let mut c = server.login("reg1").await;
    assert_ok(&mut c, &registrant("cnt-1", "MA")).await;
    assert_ok(&mut c, &domain_create("exemple.ma", "cnt-1", "")).await;
    let mut other = server.login("reg2").await;
    let renew = domain_renew("exemple.ma", "2026-03-10", &years(1));
    assert_code(&mut other, &renew, 2201).await;
    assert_eq!(ex_date(&info(&mut c, "exemple.ma").await), "2026-03-10");
}

#[tokio::test]
async fn failure_renew_of_an_unknown_domain_answers_2303() {
    let (_server, mut c) = registry().await;
    let renew = domain_renew("inconnu.ma", "2026-03-10", &years(1));
    assert_code(&mut c, &renew, 2303).await;
}

// ===== domain:delete =====

#[tokio::test]
async fn r11_delete_answers_1001_and_the_purge_frees_the_name() {
    let (mut server, mut c) = registry_at("2025-03-10T10:00:00Z").await;
    let r = run(&mut c, &domain_delete("exemple.ma")).await;
    assert_eq!(r.code(), 1001, "{}", r.xml);

    // In redemption: still there, pendingDelete, not available, and its
    // contact still linked.
    let r = info(&mut c, "exemple.ma").await;
    assert!(
        statuses(&r).contains(&"pendingDelete".to_owned()),
        "{}",
        r.xml
    );
    let taken = assert_ok(&mut c, &check("domain", &["exemple.ma"])).await;
    assert_eq!(taken.attrs("name", "avail"), ["0"]);
    assert_code(&mut c, &contact_delete("cnt-1"), 2305).await;
    drop(c);

    // 31 days later the redemption has ended: the name is purged and free,
    // its contact and name server released.
    server.restart_at(Some("2025-04-10T10:00:00Z")).await;
    let mut c = server.login("reg1").await;
    assert_code(&mut c, &domain_info("exemple.ma", "all", None), 2303).await;
    let free = assert_ok(&mut c, &check("domain", &["exemple.ma"])).await;
    assert_eq!(free.attrs("name", "avail"), ["1"]);
    let host = assert_ok(&mut c, &host_info("ns1.example.net")).await;
    assert_eq!(statuses(&host), ["ok"]);
    assert_ok(&mut c, &contact_delete("cnt-1")).await;
}

#[tokio::test]
async fn failure_delete_under_client_delete_prohibited_answers_2304() {
    let (_server, mut c) = registry().await;
    let lock = domain_update(
        "exemple.ma",
        &domain_add(&domain_status("clientDeleteProhibited")),
    );
    assert_ok(&mut c, &lock).await;
    assert_code(&mut c, &domain_delete("exemple.ma"), 2304).await;
    info(&mut c, "exemple.ma").await;
}

#[tokio::test]
async fn failure_delete_by_another_registrar_answers_2201() {
    let (server, mut c) = registry().await;
    let mut other = server.login("reg2").await;
    assert_code(&mut other, &domain_delete("exemple.ma"), 2201).await;
    info(&mut c, "exemple.ma").await;
}

#[tokio::test]
async fn failure_delete_of_an_unknown_domain_answers_2303() {
    let (_server, mut c) = registry().await;
    assert_code(&mut c, &domain_delete("inconnu.ma"), 2303).await;
}

#[tokio::test]
async fn failure_delete_with_a_subordinate_host_used_by_another_domain_answers_2305() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &host_create("ns1.exemple.ma", &["192.0.2.53"])).await;
    let other = domain_create_full("autre.ma", "cnt-1", "", &["ns1.exemple.ma"]);
    assert_ok(&mut c, &other).await;

    assert_code(&mut c, &domain_delete("exemple.ma"), 2305).await;
    info(&mut c, "exemple.ma").await;
    assert_ok(&mut c, &host_info("ns1.exemple.ma")).await;

    // Once the other domain stops using it, the delete goes through (R11).
    let body = domain_update("autre.ma", &domain_rem(&host_objs(&["ns1.exemple.ma"])));
    assert_ok(&mut c, &body).await;
    let r = run(&mut c, &domain_delete("exemple.ma")).await;
    assert_eq!(r.code(), 1001, "{}", r.xml);
}

#[tokio::test]
async fn r11_purge_removes_subordinate_hosts_no_other_domain_uses() {
    let (mut server, mut c) = registry_at("2025-03-10T10:00:00Z").await;
    assert_ok(&mut c, &host_create("ns1.exemple.ma", &["192.0.2.53"])).await;
    // The domain itself delegates to its subordinate host.
    let body = domain_update("exemple.ma", &domain_add(&host_objs(&["ns1.exemple.ma"])));
    assert_ok(&mut c, &body).await;

    let r = run(&mut c, &domain_delete("exemple.ma")).await;
    assert_eq!(r.code(), 1001, "{}", r.xml);
    // During the redemption the host stays: a restore would need it.
    assert_ok(&mut c, &host_info("ns1.exemple.ma")).await;
    drop(c);

    server.restart_at(Some("2025-04-10T10:00:00Z")).await;
    let mut c = server.login("reg1").await;
    assert_code(&mut c, &host_info("ns1.exemple.ma"), 2303).await;
    let r = assert_ok(&mut c, &check("host", &["ns1.exemple.ma"])).await;
    assert_eq!(r.attrs("name", "avail"), ["1"]);
}

// ===== contact:update =====

#[tokio::test]
async fn success_contact_update_changes_email_voice_and_postal_info() {
    let (_server, mut c) = registry().await;
    let body = contact_update(
        "cnt-1",
        r#"<contact:chg><contact:postalInfo type="loc"><contact:addr><contact:street>5 boulevard Zerktouni</contact:street><contact:city>Casablanca</contact:city><contact:pc>20000</contact:pc><contact:cc>MA</contact:cc></contact:addr></contact:postalInfo><contact:voice>+212.522987654</contact:voice><contact:email>nouveau@example.ma</contact:email></contact:chg>"#,
    );
    assert_ok(&mut c, &body).await;
    let r = assert_ok(&mut c, &contact_info("cnt-1")).await;
    assert_eq!(r.text("name").as_deref(), Some("Fatima Zahra El Idrissi"));
    assert_eq!(r.texts("street"), ["5 boulevard Zerktouni"]);
    assert_eq!(r.text("city").as_deref(), Some("Casablanca"));
    assert_eq!(r.text("pc").as_deref(), Some("20000"));
    assert_eq!(r.text("voice").as_deref(), Some("+212.522987654"));
    assert_eq!(r.text("email").as_deref(), Some("nouveau@example.ma"));
    assert_eq!(r.text("upID").as_deref(), Some("reg1"));
    assert!(r.text("upDate").is_some(), "{}", r.xml);
}

#[tokio::test]
async fn success_contact_update_adds_and_removes_client_delete_prohibited() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &registrant("libre-1", "MA")).await;
    let add = contact_update("libre-1", &contact_status("add", "clientDeleteProhibited"));
    assert_ok(&mut c, &add).await;
    let r = assert_ok(&mut c, &contact_info("libre-1")).await;
    assert_eq!(statuses(&r), ["clientDeleteProhibited"]);

    let rem = contact_update("libre-1", &contact_status("rem", "clientDeleteProhibited"));
    assert_ok(&mut c, &rem).await;
    let r = assert_ok(&mut c, &contact_info("libre-1")).await;
    assert_eq!(statuses(&r), ["ok"]);
    // Removing it again: it is not set, 2306.
    assert_code(&mut c, &rem, 2306).await;
}

#[tokio::test]
async fn failure_contact_update_adding_a_status_already_set_answers_2306() {
    let (_server, mut c) = registry().await;
    let add = contact_update("cnt-1", &contact_status("add", "clientTransferProhibited"));
    assert_ok(&mut c, &add).await;
    assert_code(&mut c, &add, 2306).await;
}

#[tokio::test]
async fn failure_contact_update_by_another_registrar_answers_2201() {
    let (server, _c) = registry().await;
    let mut other = server.login("reg2").await;
    let body = contact_update(
        "cnt-1",
        "<contact:chg><contact:email>vol@example.ma</contact:email></contact:chg>",
    );
    assert_code(&mut other, &body, 2201).await;
}

#[tokio::test]
async fn failure_contact_update_of_an_unknown_contact_answers_2303() {
    let (_server, mut c) = registry().await;
    let body = contact_update(
        "inconnu",
        "<contact:chg><contact:email>x@example.ma</contact:email></contact:chg>",
    );
    assert_code(&mut c, &body, 2303).await;
}

#[tokio::test]
async fn failure_contact_update_adding_server_update_prohibited_answers_2304() {
    let (_server, mut c) = registry().await;
    let body = contact_update("cnt-1", &contact_status("add", "serverUpdateProhibited"));
    assert_code(&mut c, &body, 2304).await;
    let r = assert_ok(&mut c, &contact_info("cnt-1")).await;
    assert!(!statuses(&r).contains(&"serverUpdateProhibited".to_owned()));
}

#[tokio::test]
async fn failure_contact_update_under_client_update_prohibited_answers_2304_until_removed() {
    let (_server, mut c) = registry().await;
    let lock = contact_update("cnt-1", &contact_status("add", "clientUpdateProhibited"));
    assert_ok(&mut c, &lock).await;
    let mail = contact_update(
        "cnt-1",
        "<contact:chg><contact:email>autre@example.ma</contact:email></contact:chg>",
    );
    assert_code(&mut c, &mail, 2304).await;
    let unlock = contact_update("cnt-1", &contact_status("rem", "clientUpdateProhibited"));
    assert_ok(&mut c, &unlock).await;
    assert_ok(&mut c, &mail).await;
}

#[tokio::test]
async fn failure_contact_update_with_a_new_postal_info_lacking_an_address_answers_2003() {
    let (_server, mut c) = registry().await;
    // cnt-1 has a loc postal info only; a new int one needs name and address.
    let body = contact_update(
        "cnt-1",
        r#"<contact:chg><contact:postalInfo type="int"><contact:name>Fatima Zahra El Idrissi</contact:name></contact:postalInfo></contact:chg>"#,
    );
    assert_code(&mut c, &body, 2003).await;
}

#[tokio::test]
async fn failure_contact_update_with_an_invalid_email_answers_2005() {
    let (_server, mut c) = registry().await;
    let body = contact_update(
        "cnt-1",
        "<contact:chg><contact:email>pas-une-adresse</contact:email></contact:chg>",
    );
    assert_code(&mut c, &body, 2005).await;
}

#[tokio::test]
async fn r13_contact_update_renaming_a_registrant_answers_2306() {
    let (_server, mut c) = registry().await;
    let rename = contact_update(
        "cnt-1",
        r#"<contact:chg><contact:postalInfo type="loc"><contact:name>Karim Benali</contact:name></contact:postalInfo></contact:chg>"#,
    );
    let r = assert_code(&mut c, &rename, 2306).await;
    assert_reason_starts(&r, "R13");
    let reorg = contact_update(
        "cnt-1",
        r#"<contact:chg><contact:postalInfo type="loc"><contact:org>Atlas Holding</contact:org></contact:postalInfo></contact:chg>"#,
    );
    let r = assert_code(&mut c, &reorg, 2306).await;
    assert_reason_starts(&r, "R13");
    let info = assert_ok(&mut c, &contact_info("cnt-1")).await;
    assert_eq!(
        info.text("name").as_deref(),
        Some("Fatima Zahra El Idrissi")
    );
    assert_eq!(info.text("org").as_deref(), Some("Société Atlas"));

    // Its e-mail is not an ownership detail.
    let mail = contact_update(
        "cnt-1",
        "<contact:chg><contact:email>fz.idrissi@example.ma</contact:email></contact:chg>",
    );
    assert_ok(&mut c, &mail).await;
}

#[tokio::test]
async fn r13_contact_update_renaming_a_contact_that_is_no_registrant_is_fine() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &registrant("tech-1", "MA")).await;
    let body = domain_update("exemple.ma", &domain_add(&domain_contact("tech", "tech-1")));
    assert_ok(&mut c, &body).await;
    let rename = contact_update(
        "tech-1",
        r#"<contact:chg><contact:postalInfo type="loc"><contact:name>Karim Benali</contact:name></contact:postalInfo></contact:chg>"#,
    );
    assert_ok(&mut c, &rename).await;
    let r = assert_ok(&mut c, &contact_info("tech-1")).await;
    assert_eq!(r.text("name").as_deref(), Some("Karim Benali"));
}

#[tokio::test]
async fn r17_contact_update_moving_an_admin_contact_abroad_answers_2306() {
    let (_server, mut c) = registry().await;
    let r = assert_code(
        &mut c,
        &contact_update("cnt-1", &contact_move("Paris", "FR")),
        2306,
    )
    .await;
    assert_reason_starts(&r, "R17");
    let info = assert_ok(&mut c, &contact_info("cnt-1")).await;
    assert_eq!(info.text("cc").as_deref(), Some("MA"));
    // Moving within Morocco is fine.
    assert_ok(
        &mut c,
        &contact_update("cnt-1", &contact_move("Tanger", "MA")),
    )
    .await;
}

#[tokio::test]
async fn r17_contact_update_moving_a_registrant_that_is_not_admin_abroad_is_fine() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &registrant("titulaire", "MA")).await;
    let body = format!(
        r#"<create><domain:create xmlns:domain="{DOMAIN_NS}"><domain:name>titulaire.ma</domain:name>
<domain:registrant>titulaire</domain:registrant>{}
<domain:authInfo><domain:pw>Dom-Auth-2024</domain:pw></domain:authInfo></domain:create></create>"#,
        domain_contact("admin", "cnt-1")
    );
    assert_ok(&mut c, &body).await;
    assert_ok(
        &mut c,
        &contact_update("titulaire", &contact_move("Paris", "FR")),
    )
    .await;
    let r = assert_ok(&mut c, &contact_info("titulaire")).await;
    assert_eq!(r.text("cc").as_deref(), Some("FR"));
}

// ===== contact:delete =====

#[tokio::test]
async fn success_contact_delete_of_a_free_contact() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &registrant("libre-1", "MA")).await;
    assert_ok(&mut c, &contact_delete("libre-1")).await;
    assert_code(&mut c, &contact_info("libre-1"), 2303).await;
    let r = assert_ok(&mut c, &check("contact", &["libre-1"])).await;
    assert_eq!(r.attrs("id", "avail"), ["1"]);
}

#[tokio::test]
async fn failure_contact_delete_of_a_contact_a_domain_uses_answers_2305() {
    let (_server, mut c) = registry().await;
    let r = assert_ok(&mut c, &contact_info("cnt-1")).await;
    assert!(statuses(&r).contains(&"linked".to_owned()), "{}", r.xml);
    assert_code(&mut c, &contact_delete("cnt-1"), 2305).await;
    assert_ok(&mut c, &contact_info("cnt-1")).await;

    // A contact used only as tech contact is linked too.
    assert_ok(&mut c, &registrant("tech-1", "MA")).await;
    let body = domain_update("exemple.ma", &domain_add(&domain_contact("tech", "tech-1")));
    assert_ok(&mut c, &body).await;
    assert_code(&mut c, &contact_delete("tech-1"), 2305).await;
}

#[tokio::test]
async fn failure_contact_delete_under_client_delete_prohibited_answers_2304() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &registrant("libre-1", "MA")).await;
    let lock = contact_update("libre-1", &contact_status("add", "clientDeleteProhibited"));
    assert_ok(&mut c, &lock).await;
    assert_code(&mut c, &contact_delete("libre-1"), 2304).await;
    let unlock = contact_update("libre-1", &contact_status("rem", "clientDeleteProhibited"));
    assert_ok(&mut c, &unlock).await;
    assert_ok(&mut c, &contact_delete("libre-1")).await;
}

#[tokio::test]
async fn failure_contact_delete_by_another_registrar_answers_2201() {
    let (server, mut c) = registry().await;
    assert_ok(&mut c, &registrant("libre-1", "MA")).await;
    let mut other = server.login("reg2").await;
    assert_code(&mut other, &contact_delete("libre-1"), 2201).await;
    assert_ok(&mut c, &contact_info("libre-1")).await;
}

#[tokio::test]
async fn failure_contact_delete_of_an_unknown_contact_answers_2303() {
    let (_server, mut c) = registry().await;
    assert_code(&mut c, &contact_delete("inconnu"), 2303).await;
}

// ===== host:update =====

#[tokio::test]
async fn success_host_update_adds_and_removes_addresses() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &host_create("ns1.exemple.ma", &["192.0.2.1"])).await;
    let body = host_update(
        "ns1.exemple.ma",
        &format!(
            "{}{}",
            host_addrs("add", &["192.0.2.2", "2001:db8::53"]),
            host_addrs("rem", &["192.0.2.1"])
        ),
    );
    assert_ok(&mut c, &body).await;
    let r = assert_ok(&mut c, &host_info("ns1.exemple.ma")).await;
    assert_eq!(r.texts("addr"), ["192.0.2.2", "2001:db8::53"]);
    assert_eq!(r.attrs("addr", "ip"), ["v4", "v6"]);
    assert_eq!(r.text("upID").as_deref(), Some("reg1"));

    // Removing an address it does not have, adding one it has: 2306.
    let rem = host_update("ns1.exemple.ma", &host_addrs("rem", &["192.0.2.1"]));
    assert_code(&mut c, &rem, 2306).await;
    let add = host_update("ns1.exemple.ma", &host_addrs("add", &["192.0.2.2"]));
    assert_code(&mut c, &add, 2306).await;
}

#[tokio::test]
async fn success_host_update_adds_and_removes_client_statuses() {
    let (_server, mut c) = registry().await;
    let add = host_update(
        "ns2.example.net",
        &host_status("add", "clientDeleteProhibited"),
    );
    assert_ok(&mut c, &add).await;
    let r = assert_ok(&mut c, &host_info("ns2.example.net")).await;
    assert_eq!(statuses(&r), ["clientDeleteProhibited"]);
    assert_code(&mut c, &add, 2306).await;

    let rem = host_update(
        "ns2.example.net",
        &host_status("rem", "clientDeleteProhibited"),
    );
    assert_ok(&mut c, &rem).await;
    let r = assert_ok(&mut c, &host_info("ns2.example.net")).await;
    assert_eq!(statuses(&r), ["ok"]);
    assert_code(&mut c, &rem, 2306).await;
}

#[tokio::test]
async fn failure_host_update_adding_a_server_status_answers_2304() {
    let (_server, mut c) = registry().await;
    let add = host_update(
        "ns2.example.net",
        &host_status("add", "serverUpdateProhibited"),
    );
    assert_code(&mut c, &add, 2304).await;
}

#[tokio::test]
async fn failure_host_update_under_client_update_prohibited_answers_2304_until_removed() {
    let (_server, mut c) = registry().await;
    let lock = host_update(
        "ns2.example.net",
        &host_status("add", "clientUpdateProhibited"),
    );
    assert_ok(&mut c, &lock).await;
    let rename = host_update("ns2.example.net", &host_rename("ns3.example.net"));
    assert_code(&mut c, &rename, 2304).await;
    let unlock = host_update(
        "ns2.example.net",
        &host_status("rem", "clientUpdateProhibited"),
    );
    assert_ok(&mut c, &unlock).await;
    assert_ok(&mut c, &rename).await;
}

#[tokio::test]
async fn success_host_update_renames_an_external_host_a_domain_uses() {
    let (_server, mut c) = registry().await;
    let body = host_update("ns1.example.net", &host_rename("dns1.example.org"));
    assert_ok(&mut c, &body).await;

    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(r.texts("hostObj"), ["dns1.example.org"]);
    assert_code(&mut c, &host_info("ns1.example.net"), 2303).await;
    let renamed = assert_ok(&mut c, &host_info("dns1.example.org")).await;
    assert!(
        statuses(&renamed).contains(&"linked".to_owned()),
        "{}",
        renamed.xml
    );
    // The old name is free, the new one taken.
    let r = assert_ok(
        &mut c,
        &check("host", &["ns1.example.net", "dns1.example.org"]),
    )
    .await;
    assert_eq!(r.attrs("name", "avail"), ["1", "0"]);
    // The domain still cannot lose a host it uses.
    assert_code(&mut c, &host_delete("dns1.example.org"), 2305).await;
}

#[tokio::test]
async fn success_host_update_renames_an_external_host_into_the_zone_with_glue() {
    let (_server, mut c) = registry().await;
    let body = host_update(
        "ns2.example.net",
        &format!(
            "{}{}",
            host_addrs("add", &["192.0.2.53"]),
            host_rename("ns2.exemple.ma")
        ),
    );
    assert_ok(&mut c, &body).await;
    let r = assert_ok(&mut c, &domain_info("exemple.ma", "sub", None)).await;
    assert_eq!(r.texts("host"), ["ns2.exemple.ma"]);
}

#[tokio::test]
async fn failure_host_update_renaming_to_an_existing_name_answers_2302() {
    let (_server, mut c) = registry().await;
    let body = host_update("ns1.example.net", &host_rename("ns2.example.net"));
    assert_code(&mut c, &body, 2302).await;
    assert_ok(&mut c, &host_info("ns1.example.net")).await;
    let r = info(&mut c, "exemple.ma").await;
    assert_eq!(r.texts("hostObj"), ["ns1.example.net"]);
}

#[tokio::test]
async fn failure_host_update_renaming_to_a_malformed_name_answers_2005() {
    let (_server, mut c) = registry().await;
    let body = host_update("ns1.example.net", &host_rename("-ns.example.net"));
    assert_code(&mut c, &body, 2005).await;
}

#[tokio::test]
async fn r14_host_update_removing_the_last_address_of_an_in_zone_host_answers_2306() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &host_create("ns1.exemple.ma", &["192.0.2.1"])).await;
    let body = host_update("ns1.exemple.ma", &host_addrs("rem", &["192.0.2.1"]));
    let r = assert_code(&mut c, &body, 2306).await;
    assert_reason_starts(&r, "R14");
    let r = assert_ok(&mut c, &host_info("ns1.exemple.ma")).await;
    assert_eq!(r.texts("addr"), ["192.0.2.1"]);
}

#[tokio::test]
async fn r14_host_update_adding_an_address_to_an_external_host_answers_2306() {
    let (_server, mut c) = registry().await;
    let body = host_update("ns2.example.net", &host_addrs("add", &["192.0.2.1"]));
    let r = assert_code(&mut c, &body, 2306).await;
    assert_reason_starts(&r, "R14");
}

#[tokio::test]
async fn r14_host_update_renaming_into_another_registrars_domain_answers_2201() {
    let (server, mut c) = registry().await;
    let mut reg2 = server.login("reg2").await;
    assert_ok(&mut reg2, &registrant("cnt-2", "MA")).await;
    assert_ok(&mut reg2, &domain_create("autre.ma", "cnt-2", "")).await;
    // With the glue the in-zone name needs, so only the sponsor check is left.
    let body = host_update(
        "ns2.example.net",
        &format!(
            "{}{}",
            host_addrs("add", &["192.0.2.1"]),
            host_rename("ns1.autre.ma")
        ),
    );
    assert_code(&mut c, &body, 2201).await;
    assert_ok(&mut c, &host_info("ns2.example.net")).await;
}

#[tokio::test]
async fn r14_host_update_renaming_under_an_unregistered_domain_answers_2303() {
    let (_server, mut c) = registry().await;
    let body = host_update(
        "ns2.example.net",
        &format!(
            "{}{}",
            host_addrs("add", &["192.0.2.1"]),
            host_rename("ns1.inconnu.ma")
        ),
    );
    assert_code(&mut c, &body, 2303).await;
    assert_ok(&mut c, &host_info("ns2.example.net")).await;
}

#[tokio::test]
async fn failure_host_update_by_another_registrar_answers_2201() {
    let (server, _c) = registry().await;
    let mut other = server.login("reg2").await;
    let body = host_update("ns1.example.net", &host_rename("ns9.example.net"));
    assert_code(&mut other, &body, 2201).await;
}

#[tokio::test]
async fn failure_host_update_of_an_unknown_host_answers_2303() {
    let (_server, mut c) = registry().await;
    let body = host_update("ns9.example.net", &host_rename("ns8.example.net"));
    assert_code(&mut c, &body, 2303).await;
}

// ===== host:delete =====

#[tokio::test]
async fn success_host_delete_of_a_free_host() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &host_delete("ns2.example.net")).await;
    assert_code(&mut c, &host_info("ns2.example.net"), 2303).await;
    let r = assert_ok(&mut c, &check("host", &["ns2.example.net"])).await;
    assert_eq!(r.attrs("name", "avail"), ["1"]);
}

#[tokio::test]
async fn success_host_delete_of_an_in_zone_host_leaves_its_domain() {
    let (_server, mut c) = registry().await;
    assert_ok(&mut c, &host_create("ns1.exemple.ma", &["192.0.2.1"])).await;
    assert_ok(&mut c, &host_delete("ns1.exemple.ma")).await;
    let r = assert_ok(&mut c, &domain_info("exemple.ma", "sub", None)).await;
    assert!(r.texts("host").is_empty(), "{}", r.xml);
}

#[tokio::test]
async fn failure_host_delete_of_a_host_a_domain_uses_answers_2305() {
    let (_server, mut c) = registry().await;
    let r = assert_code(&mut c, &host_delete("ns1.example.net"), 2305).await;
    assert_reason_starts(&r, "R14");
    assert_ok(&mut c, &host_info("ns1.example.net")).await;
}

#[tokio::test]
async fn failure_host_delete_under_client_delete_prohibited_answers_2304() {
    let (_server, mut c) = registry().await;
    let lock = host_update(
        "ns2.example.net",
        &host_status("add", "clientDeleteProhibited"),
    );
    assert_ok(&mut c, &lock).await;
    assert_code(&mut c, &host_delete("ns2.example.net"), 2304).await;
}

#[tokio::test]
async fn failure_host_delete_by_another_registrar_answers_2201() {
    let (server, mut c) = registry().await;
    let mut other = server.login("reg2").await;
    assert_code(&mut other, &host_delete("ns2.example.net"), 2201).await;
    assert_ok(&mut c, &host_info("ns2.example.net")).await;
}

#[tokio::test]
async fn failure_host_delete_of_an_unknown_host_answers_2303() {
    let (_server, mut c) = registry().await;
    assert_code(&mut c, &host_delete("ns9.example.net"), 2303).await;
}
