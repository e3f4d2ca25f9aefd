//! RFC 5733 `<contact:transfer>`: request, query, approve, reject, cancel,
//! automatic approval at `acDate` by the life-cycle engine, and every
//! refusal. At each step the contact's statuses and sponsor, the
//! `contact:trnData` fields and both registrars' poll queues are checked, and
//! that the domains using the contact do not move. Also the contact as
//! instant-epp reads it before and after a transfer.

use chrono::{DateTime, Duration, Utc};
use instant_epp::contact::{self, ContactInfo};

use crate::harness::*;
use crate::recording::{logged_in_client, validate_received};
use crate::transfer::{
    assert_code, assert_ok, contact_with_identity, date, expect_no_message, lifecycle_run,
    login_ma, msg_id, poll_ack, poll_req,
};

const CONTACT_NS: &str = "urn:ietf:params:xml:ns:contact-1.0";
const DOMAIN_NS: &str = "urn:ietf:params:xml:ns:domain-1.0";
const MA_NS: &str = "http://www.anrt.ma/epp/ma-1.0";
/// The contact the fixture creates, and its authInfo.
const ID: &str = "cnt-1";
const AUTH: &str = "Cnt-Auth-2024";
/// The domain that uses the contact as registrant, admin and tech.
const DOMAIN: &str = "exemple.ma";
/// The fixed instant the clock-moving tests start at.
const T0: &str = "2026-01-10T10:00:00Z";

// ----- request bodies -----

/// A `<contact:transfer>` body: `op`, the id and an optional authInfo.
fn ctransfer(op: &str, id: &str, auth: Option<&str>) -> String {
    let auth = auth
        .map(|a| format!("<contact:authInfo><contact:pw>{a}</contact:pw></contact:authInfo>"))
        .unwrap_or_default();
    format!(
        r#"<transfer op="{op}"><contact:transfer xmlns:contact="{CONTACT_NS}"><contact:id>{id}</contact:id>{auth}</contact:transfer></transfer>"#
    )
}

/// A transfer request with the contact's authInfo.
fn request(id: &str) -> String {
    ctransfer("request", id, Some(AUTH))
}

/// A rejection carrying the optional `.ma` reason.
fn reject_with_reason(id: &str, reason: &str) -> String {
    format!(
        r#"{}<extension><ma:transferReject xmlns:ma="{MA_NS}"><ma:reason>{reason}</ma:reason></ma:transferReject></extension>"#,
        ctransfer("reject", id, None)
    )
}

fn contact_info(id: &str, auth: Option<&str>) -> String {
    let auth = auth
        .map(|a| format!("<contact:authInfo><contact:pw>{a}</contact:pw></contact:authInfo>"))
        .unwrap_or_default();
    format!(
        r#"<info><contact:info xmlns:contact="{CONTACT_NS}"><contact:id>{id}</contact:id>{auth}</contact:info></info>"#
    )
}

fn contact_update(id: &str, inner: &str) -> String {
    format!(
        r#"<update><contact:update xmlns:contact="{CONTACT_NS}"><contact:id>{id}</contact:id>{inner}</contact:update></update>"#
    )
}

fn contact_delete(id: &str) -> String {
    format!(
        r#"<delete><contact:delete xmlns:contact="{CONTACT_NS}"><contact:id>{id}</contact:id></contact:delete></delete>"#
    )
}

fn set_auth(id: &str, pw: &str) -> String {
    contact_update(
        id,
        &format!(
            "<contact:chg><contact:authInfo><contact:pw>{pw}</contact:pw></contact:authInfo></contact:chg>"
        ),
    )
}

fn status_change(id: &str, add: bool, status: &str) -> String {
    let tag = if add { "add" } else { "rem" };
    contact_update(
        id,
        &format!(r#"<contact:{tag}><contact:status s="{status}"/></contact:{tag}>"#),
    )
}

// ----- assertions -----

/// The fields of a `<contact:trnData>`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TrnData {
    id: String,
    status: String,
    re_id: String,
    re_date: DateTime<Utc>,
    ac_id: String,
    ac_date: DateTime<Utc>,
}

/// The `<contact:trnData>` of a response; panics when there is none.
fn trn_data(r: &Resp) -> TrnData {
    assert!(
        r.xml.contains("<contact:trnData"),
        "no <contact:trnData> in {}",
        r.xml
    );
    let text = |local: &str| {
        r.text(local)
            .unwrap_or_else(|| panic!("no <{local}> in {}", r.xml))
    };
    TrnData {
        id: text("id"),
        status: text("trStatus"),
        re_id: text("reID"),
        re_date: date(r, "reDate"),
        ac_id: text("acID"),
        ac_date: date(r, "acDate"),
    }
}

/// `<poll op="req">` must answer 1301 with `count` messages and a contact
/// `trnData` of `status` at the head; the message is then acked. Returns
/// the polled response.
async fn expect_message(c: &mut RawClient, status: &str, count: u64) -> Resp {
    let r = assert_code(c, &poll_req(), 1301).await;
    assert_eq!(r.attrs("msgQ", "count"), [count.to_string()], "{}", r.xml);
    let t = trn_data(&r);
    assert_eq!(t.status, status, "{}", r.xml);
    assert_eq!(t.id, ID, "{}", r.xml);
    let id = msg_id(&r);
    let ack = assert_ok(c, &poll_ack(&id)).await;
    assert_eq!(ack.attrs("msgQ", "count"), [(count - 1).to_string()]);
    r
}

/// The English text of a polled message.
fn message_text(r: &Resp) -> String {
    r.texts("msg").into_iter().nth(1).unwrap_or_default()
}

fn statuses(r: &Resp) -> Vec<String> {
    r.attrs("status", "s")
}

/// Checks a finished transfer's `trnData` against the pending one.
fn assert_outcome(done: &TrnData, pending: &TrnData, status: &str) {
    assert_eq!(done.status, status);
    assert_eq!(done.id, ID);
    assert_eq!(done.re_id, "reg2");
    assert_eq!(done.ac_id, "reg1");
    assert_eq!(done.re_date, pending.re_date);
}

// ----- fixture -----

/// A server where reg1 (logged in with the .ma extension) has contact
/// `cnt-1` (authInfo `Cnt-Auth-2024`) and the domain `exemple.ma` that
/// uses it as registrant, admin and tech; reg2 is logged in too.
struct Fixture {
    server: TestServer,
    r1: RawClient,
    r2: RawClient,
}

impl Fixture {
    async fn new(now: Option<&str>) -> Self {
        let server = match now {
            Some(now) => TestServer::start_at(now).await,
            None => TestServer::start().await,
        };
        let mut r1 = login_ma(&server, "reg1").await;
        assert_ok(&mut r1, &contact_with_identity(ID)).await;
        assert_ok(&mut r1, &domain_create(DOMAIN, ID, "")).await;
        let r2 = login_ma(&server, "reg2").await;
        Self { server, r1, r2 }
    }

    /// Restarts the server with its clock at `now` and logs both registrars in again.
    async fn restart_at(&mut self, now: Option<&str>) {
        self.server.restart_at(now).await;
        self.r1 = login_ma(&self.server, "reg1").await;
        self.r2 = login_ma(&self.server, "reg2").await;
    }

    fn data_dir(&self) -> std::path::PathBuf {
        self.server.settings.server.data_dir.clone()
    }

    /// reg2 requests the transfer: 1001, pending, acDate = reDate + 5 days;
    /// reg1 gets the message at once (acked here), reg2 nothing.
    async fn request_and_drain(&mut self) -> TrnData {
        let r = assert_code(&mut self.r2, &request(ID), 1001).await;
        let t = trn_data(&r);
        assert_eq!(t.id, ID);
        assert_eq!(t.status, "pending");
        assert_eq!(t.re_id, "reg2");
        assert_eq!(t.ac_id, "reg1");
        assert_eq!(t.ac_date, t.re_date + Duration::days(5));
        self.assert_pending(&t).await;
        let polled = expect_message(&mut self.r1, "pending", 1).await;
        assert_eq!(trn_data(&polled), t);
        assert!(
            message_text(&polled).starts_with("Transfer of the contact cnt-1 requested by reg2"),
            "{}",
            polled.xml
        );
        expect_no_message(&mut self.r1).await;
        expect_no_message(&mut self.r2).await;
        t
    }

    /// The contact is `pendingTransfer`, still reg1's, and both parties'
    /// queries answer the same pending `trnData`.
    async fn assert_pending(&mut self, t: &TrnData) {
        let info = assert_ok(&mut self.r1, &contact_info(ID, None)).await;
        let s = statuses(&info);
        assert!(s.contains(&"pendingTransfer".to_owned()), "{}", info.xml);
        assert!(!s.contains(&"ok".to_owned()), "{}", info.xml);
        assert_eq!(info.text("clID").as_deref(), Some("reg1"));
        for c in [&mut self.r1, &mut self.r2] {
            let q = assert_ok(c, &ctransfer("query", ID, None)).await;
            assert_eq!(&trn_data(&q), t);
        }
        self.assert_domain_unchanged().await;
    }

    /// The contact is not `pendingTransfer` and `sponsor` sponsors it.
    async fn assert_settled(&mut self, sponsor: &str) {
        let c = if sponsor == "reg1" {
            &mut self.r1
        } else {
            &mut self.r2
        };
        let info = assert_ok(c, &contact_info(ID, None)).await;
        assert!(
            !statuses(&info).contains(&"pendingTransfer".to_owned()),
            "{}",
            info.xml
        );
        assert!(
            statuses(&info).contains(&"linked".to_owned()),
            "{}",
            info.xml
        );
        assert_eq!(info.text("clID").as_deref(), Some(sponsor), "{}", info.xml);
        self.assert_domain_unchanged().await;
    }

    /// The domain using the contact stays reg1's, with the same contacts.
    async fn assert_domain_unchanged(&mut self) {
        let info = assert_ok(&mut self.r1, &domain_info(DOMAIN, "all", None)).await;
        assert_eq!(info.text("clID").as_deref(), Some("reg1"), "{}", info.xml);
        assert_eq!(info.text("registrant").as_deref(), Some(ID), "{}", info.xml);
        assert_eq!(info.texts("contact"), [ID, ID], "{}", info.xml);
        assert!(info.text("trDate").is_none(), "{}", info.xml);
    }

    /// Nothing happened: the contact is reg1's, never transferred, no message.
    async fn assert_untouched(&mut self) {
        self.assert_settled("reg1").await;
        let info = assert_ok(&mut self.r1, &contact_info(ID, None)).await;
        assert!(info.text("trDate").is_none(), "{}", info.xml);
        assert_code(&mut self.r1, &ctransfer("query", ID, None), 2301).await;
        expect_no_message(&mut self.r1).await;
        expect_no_message(&mut self.r2).await;
    }
}

/// The contact's history (R24), read with the admin CLI on a stopped server.
fn history(f: &Fixture) -> Vec<serde_json::Value> {
    let (ok, out, err) = admin_in(&f.data_dir(), None, &["--json", "history", "contact", ID]);
    assert!(ok, "history failed: {out}{err}");
    let rows: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    rows.as_array().unwrap().clone()
}

fn commands(rows: &[serde_json::Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["command"].as_str().unwrap_or("").to_owned())
        .collect()
}

// ===== approve =====

#[tokio::test]
async fn contact_transfer_request_then_approve_moves_the_contact() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;

    let r = assert_ok(&mut f.r1, &ctransfer("approve", ID, None)).await;
    let done = trn_data(&r);
    assert_outcome(&done, &pending, "clientApproved");
    // For a completed transfer acDate is when it was completed.
    assert!(done.ac_date >= pending.re_date && done.ac_date < pending.ac_date);

    // Both registrars are told, with the same trnData.
    let m1 = expect_message(&mut f.r1, "clientApproved", 1).await;
    let m2 = expect_message(&mut f.r2, "clientApproved", 1).await;
    assert_eq!(trn_data(&m1), done);
    assert_eq!(trn_data(&m2), done);
    assert!(
        message_text(&m2).contains("reg2 now sponsors it"),
        "{}",
        m2.xml
    );
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;

    // reg2 sponsors it now, trDate is set; the domain did not move.
    f.assert_settled("reg2").await;
    let info = assert_ok(&mut f.r2, &contact_info(ID, None)).await;
    assert_eq!(date(&info, "trDate"), done.ac_date, "{}", info.xml);
    // reg1 has lost it: no full view without authInfo, no update.
    assert_code(&mut f.r1, &contact_info(ID, None), 2201).await;
    assert_code(
        &mut f.r1,
        &status_change(ID, true, "clientDeleteProhibited"),
        2201,
    )
    .await;

    // Both parties still query the completed transfer.
    for c in [&mut f.r1, &mut f.r2] {
        let q = assert_ok(c, &ctransfer("query", ID, None)).await;
        assert_eq!(trn_data(&q), done);
    }

    // The old authInfo died with the transfer.
    let mut r3 = login_ma(&f.server, "reg3").await;
    assert_code(&mut r3, &request(ID), 2202).await;
    assert_code(&mut r3, &contact_info(ID, Some(AUTH)), 2202).await;
    assert_code(&mut f.r1, &contact_info(ID, Some(AUTH)), 2202).await;
    // The new sponsor cannot request it again.
    assert_code(&mut f.r2, &request(ID), 2106).await;

    // The new sponsor sets an authInfo it knows; with it reg3 asks for the
    // next transfer, whose losing registrar is reg2.
    assert_ok(&mut f.r2, &set_auth(ID, "Nouveau-Auth-2026")).await;
    let body = ctransfer("request", ID, Some("Nouveau-Auth-2026"));
    let next = trn_data(&assert_code(&mut r3, &body, 1001).await);
    assert_eq!((next.re_id.as_str(), next.ac_id.as_str()), ("reg3", "reg2"));
    expect_message(&mut f.r2, "pending", 1).await;
    expect_no_message(&mut f.r1).await;
    drop(r3);

    // Every step is in the contact's history, with who did it and its trids.
    f.server.stop().await;
    let rows = history(&f);
    assert_eq!(
        commands(&rows),
        [
            "contact:create",
            "contact:transfer-request",
            "contact:transfer-approve",
            "contact:update",
            "contact:transfer-request",
        ],
        "{rows:#?}"
    );
    assert_eq!(rows[1]["who"], "reg2");
    assert_eq!(rows[1]["cltrid"], "trn-test-1");
    assert_eq!(rows[1]["after"]["statuses"][0], "PendingTransfer");
    assert_eq!(rows[2]["who"], "reg1");
    assert_eq!(rows[2]["after"]["sponsor"], "reg2");
    assert!(
        rows[2]["after"]["auth"].is_null(),
        "no authInfo hash in history"
    );
    assert_eq!(rows[4]["who"], "reg3");
}

// ===== reject =====

#[tokio::test]
async fn contact_transfer_reject_needs_no_reason_and_is_not_reviewed() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;

    // Without any .ma element: 1000, clientRejected.
    let r = assert_ok(&mut f.r1, &ctransfer("reject", ID, None)).await;
    let done = trn_data(&r);
    assert_outcome(&done, &pending, "clientRejected");
    assert!(done.ac_date >= pending.re_date && done.ac_date < pending.ac_date);
    f.assert_settled("reg1").await;
    let m1 = expect_message(&mut f.r1, "clientRejected", 1).await;
    let m2 = expect_message(&mut f.r2, "clientRejected", 1).await;
    assert_eq!(trn_data(&m1), done);
    assert_eq!(trn_data(&m2), done);
    // No registry review of a contact transfer's rejection.
    let text = message_text(&m2);
    assert_eq!(
        text, "Transfer of the contact cnt-1 rejected by reg1.",
        "{}",
        m2.xml
    );
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
    let q = assert_ok(&mut f.r2, &ctransfer("query", ID, None)).await;
    assert_eq!(trn_data(&q), done);

    // The contact did not move: its authInfo still works, and the operator
    // has no rejection to overrule (R12 review is for domain names).
    let info = assert_ok(&mut f.r2, &contact_info(ID, Some(AUTH))).await;
    assert_eq!(info.text("clID").as_deref(), Some("reg1"));
    assert!(info.text("trDate").is_none(), "{}", info.xml);

    // A new request; this time the sponsor gives a reason, which the
    // messages carry.
    let again = f.request_and_drain().await;
    assert!(again.re_date > pending.re_date);
    let body = reject_with_reason(ID, "Le titulaire refuse");
    let done = trn_data(&assert_ok(&mut f.r1, &body).await);
    assert_outcome(&done, &again, "clientRejected");
    let m2 = expect_message(&mut f.r2, "clientRejected", 1).await;
    assert_eq!(
        message_text(&m2),
        "Transfer of the contact cnt-1 rejected by reg1: Le titulaire refuse."
    );
    expect_message(&mut f.r1, "clientRejected", 1).await;
    f.assert_settled("reg1").await;

    f.server.stop().await;
    let (ok, out, _) = admin_in(&f.data_dir(), None, &["transfer", "overrule", ID]);
    assert!(!ok, "a contact transfer rejection was overruled: {out}");
    let rows = history(&f);
    assert_eq!(
        commands(&rows),
        [
            "contact:create",
            "contact:transfer-request",
            "contact:transfer-reject",
            "contact:transfer-request",
            "contact:transfer-reject",
        ],
        "{rows:#?}"
    );
    assert_eq!(rows[2]["who"], "reg1");
    assert_eq!(rows[2]["after"]["sponsor"], "reg1");
}

#[tokio::test]
async fn contact_transfer_approve_or_reject_by_another_than_the_sponsor_answers_2201() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;
    let mut r3 = login_ma(&f.server, "reg3").await;
    for op in ["approve", "reject"] {
        assert_code(&mut f.r2, &ctransfer(op, ID, None), 2201).await;
        assert_code(&mut r3, &ctransfer(op, ID, None), 2201).await;
    }
    f.assert_pending(&pending).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
    expect_no_message(&mut r3).await;
}

// ===== cancel =====

#[tokio::test]
async fn contact_transfer_request_then_cancel_by_the_gaining_registrar() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;

    // Only the requester may cancel.
    assert_code(&mut f.r1, &ctransfer("cancel", ID, None), 2201).await;
    let mut r3 = login_ma(&f.server, "reg3").await;
    assert_code(&mut r3, &ctransfer("cancel", ID, None), 2201).await;
    f.assert_pending(&pending).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;

    let r = assert_ok(&mut f.r2, &ctransfer("cancel", ID, None)).await;
    let done = trn_data(&r);
    assert_outcome(&done, &pending, "clientCancelled");
    assert!(done.ac_date >= pending.re_date && done.ac_date < pending.ac_date);
    f.assert_settled("reg1").await;
    let m1 = expect_message(&mut f.r1, "clientCancelled", 1).await;
    let m2 = expect_message(&mut f.r2, "clientCancelled", 1).await;
    assert_eq!(trn_data(&m1), done);
    assert_eq!(trn_data(&m2), done);
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;

    // Nothing pending any more.
    assert_code(&mut f.r2, &ctransfer("cancel", ID, None), 2301).await;
    // The authInfo was not changed: a new request is accepted.
    let again = f.request_and_drain().await;
    assert!(again.re_date > pending.re_date);
}

// ===== automatic approval at acDate =====

#[tokio::test]
async fn contact_transfer_the_registry_approves_at_ac_date() {
    let mut f = Fixture::new(Some(T0)).await;
    let pending = f.request_and_drain().await;

    // Four days later (before acDate): nothing happens.
    f.restart_at(Some("2026-01-14T10:00:00Z")).await;
    f.assert_pending(&pending).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;

    // Six days after the request the start-up sweep has approved it.
    f.restart_at(Some("2026-01-16T10:00:00Z")).await;
    f.assert_settled("reg2").await;
    let q = assert_ok(&mut f.r2, &ctransfer("query", ID, None)).await;
    let done = trn_data(&q);
    assert_outcome(&done, &pending, "serverApproved");
    assert!(done.ac_date >= pending.ac_date && done.ac_date < instant("2026-01-16T10:01:00Z"));
    for c in [&mut f.r1, &mut f.r2] {
        let m = expect_message(c, "serverApproved", 1).await;
        assert_eq!(trn_data(&m), done);
        // RFC 8590: the registry made this change.
        assert_eq!(
            m.text("operation").as_deref(),
            Some("transfer"),
            "{}",
            m.xml
        );
        assert_eq!(m.attrs("operation", "op"), ["serverApproved"], "{}", m.xml);
        assert_eq!(m.text("who").as_deref(), Some("ma-registry"), "{}", m.xml);
        assert!(
            message_text(&m).contains("approved by the registry"),
            "{}",
            m.xml
        );
    }
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
    let info = assert_ok(&mut f.r2, &contact_info(ID, None)).await;
    assert_eq!(date(&info, "trDate"), done.ac_date);
    let mut r3 = login_ma(&f.server, "reg3").await;
    assert_code(&mut r3, &request(ID), 2202).await;

    // Another restart does not approve it again.
    f.restart_at(Some("2026-01-17T10:00:00Z")).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
    f.assert_settled("reg2").await;
}

#[tokio::test]
async fn contact_transfer_admin_lifecycle_run_approves_once() {
    let mut f = Fixture::new(Some(T0)).await;
    let pending = f.request_and_drain().await;
    f.server.stop().await;
    let data = f.data_dir();

    // Before acDate: nothing is due.
    let report = lifecycle_run(&data, "2026-01-14T10:00:00Z");
    assert_eq!(report["transfers_approved"], 0, "{report}");

    // After acDate: approved once; the second run finds nothing.
    let report = lifecycle_run(&data, "2026-01-15T10:30:00Z");
    assert_eq!(report["transfers_approved"], 1, "{report}");
    let report = lifecycle_run(&data, "2026-01-15T10:31:00Z");
    assert_eq!(report["transfers_approved"], 0, "{report}");
    assert_eq!(report["examined"], 0, "{report}");

    let rows = history(&f);
    let last = rows.last().unwrap();
    assert_eq!(last["command"], "lifecycle:contact-transfer-approve");
    assert_eq!(last["who"], "ma-registry");
    assert_eq!(last["after"]["sponsor"], "reg2");

    f.restart_at(Some("2026-01-15T10:35:00Z")).await;
    f.assert_settled("reg2").await;
    let q = assert_ok(&mut f.r1, &ctransfer("query", ID, None)).await;
    let done = trn_data(&q);
    assert_outcome(&done, &pending, "serverApproved");
    assert!(done.ac_date >= instant("2026-01-15T10:30:00Z"));
    assert!(done.ac_date < instant("2026-01-15T10:31:00Z"));
    // Exactly one message each.
    expect_message(&mut f.r1, "serverApproved", 1).await;
    expect_message(&mut f.r2, "serverApproved", 1).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

// ===== refusals =====

#[tokio::test]
async fn contact_transfer_request_without_or_with_a_wrong_auth_info_answers_2202() {
    let mut f = Fixture::new(None).await;
    assert_code(&mut f.r2, &ctransfer("request", ID, None), 2202).await;
    let body = ctransfer("request", ID, Some("Pas-Le-Bon-1"));
    assert_code(&mut f.r2, &body, 2202).await;
    // The right password with another object's roid.
    let body = request(ID).replace("<contact:pw>", r#"<contact:pw roid="NOPE-MA">"#);
    assert_code(&mut f.r2, &body, 2202).await;
    f.assert_untouched().await;
}

#[tokio::test]
async fn contact_transfer_request_by_the_sponsor_answers_2106() {
    let mut f = Fixture::new(None).await;
    assert_code(&mut f.r1, &request(ID), 2106).await;
    f.assert_untouched().await;
}

#[tokio::test]
async fn contact_transfer_client_transfer_prohibited_answers_2304() {
    let mut f = Fixture::new(None).await;
    let set = status_change(ID, true, "clientTransferProhibited");
    assert_ok(&mut f.r1, &set).await;
    assert_code(&mut f.r2, &request(ID), 2304).await;
    f.assert_untouched().await;
    // Once the sponsor lifts it, the request goes through.
    assert_ok(
        &mut f.r1,
        &status_change(ID, false, "clientTransferProhibited"),
    )
    .await;
    f.request_and_drain().await;
}

#[tokio::test]
async fn contact_transfer_server_transfer_prohibited_answers_2304() {
    let mut f = Fixture::new(None).await;
    // The registry sets serverTransferProhibited (directly in the store).
    f.server.stop().await;
    {
        let store = open_store_retrying(&f.data_dir()).await;
        let old = store.contact(ID).unwrap().unwrap();
        let mut new = old.clone();
        new.statuses
            .push(ma_registry::model::Status::ServerTransferProhibited);
        let audit = ma_registry::model::Audit {
            at: Utc::now(),
            who: "operator:test".into(),
            command: "test:status".into(),
            cl_trid: None,
            sv_trid: store.next_sv_trid(),
            request: None,
        };
        store.replace_contact(&old, &new, &audit).unwrap().unwrap();
        store.flush_now().unwrap();
    }
    f.restart_at(None).await;
    let info = assert_ok(&mut f.r1, &contact_info(ID, None)).await;
    assert!(
        statuses(&info).contains(&"serverTransferProhibited".to_owned()),
        "{}",
        info.xml
    );
    assert_code(&mut f.r2, &request(ID), 2304).await;
    // The sponsor cannot lift it.
    let lift = status_change(ID, false, "serverTransferProhibited");
    assert_code(&mut f.r1, &lift, 2304).await;
    f.assert_untouched().await;
}

#[tokio::test]
async fn contact_transfer_second_request_while_pending_answers_2300() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;
    assert_code(&mut f.r2, &request(ID), 2300).await;
    let mut r3 = login_ma(&f.server, "reg3").await;
    assert_code(&mut r3, &request(ID), 2300).await;
    f.assert_pending(&pending).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

#[tokio::test]
async fn contact_transfer_approve_reject_cancel_with_nothing_pending_answer_2301() {
    let mut f = Fixture::new(None).await;
    assert_code(&mut f.r1, &ctransfer("approve", ID, None), 2301).await;
    assert_code(&mut f.r1, &ctransfer("reject", ID, None), 2301).await;
    assert_code(&mut f.r2, &ctransfer("cancel", ID, None), 2301).await;
    // A query of a contact never transferred, by a party or with the authInfo.
    assert_code(&mut f.r2, &ctransfer("query", ID, Some(AUTH)), 2301).await;
    f.assert_untouched().await;
}

#[tokio::test]
async fn contact_transfer_query_by_an_unrelated_registrar_needs_the_auth_info() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;
    let mut r3 = login_ma(&f.server, "reg3").await;
    assert_code(&mut r3, &ctransfer("query", ID, None), 2201).await;
    let wrong = ctransfer("query", ID, Some("Pas-Le-Bon-1"));
    assert_code(&mut r3, &wrong, 2202).await;
    let q = assert_ok(&mut r3, &ctransfer("query", ID, Some(AUTH))).await;
    assert_eq!(trn_data(&q), pending);
    f.assert_pending(&pending).await;
    expect_no_message(&mut r3).await;
    expect_no_message(&mut f.r1).await;
}

#[tokio::test]
async fn contact_transfer_of_an_unknown_contact_answers_2303() {
    let mut f = Fixture::new(None).await;
    for op in ["request", "query"] {
        assert_code(&mut f.r2, &ctransfer(op, "inconnu", Some(AUTH)), 2303).await;
    }
    for op in ["approve", "reject", "cancel"] {
        assert_code(&mut f.r1, &ctransfer(op, "inconnu", None), 2303).await;
    }
    f.assert_untouched().await;
}

#[tokio::test]
async fn contact_update_and_delete_while_pending_answer_2304() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;
    assert_code(&mut f.r1, &set_auth(ID, "Autre-Auth-2026"), 2304).await;
    assert_code(&mut f.r1, &status_change(ID, true, "clientHold"), 2304).await;
    assert_code(&mut f.r1, &contact_delete(ID), 2304).await;
    f.assert_pending(&pending).await;
    // The authInfo was not changed: reg3 still queries with it.
    let mut r3 = login_ma(&f.server, "reg3").await;
    assert_ok(&mut r3, &ctransfer("query", ID, Some(AUTH))).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

#[tokio::test]
async fn contact_transfer_reason_element_on_another_op_answers_2103() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;
    let body = format!(
        r#"{}<extension><ma:transferReject xmlns:ma="{MA_NS}"><ma:reason>Non</ma:reason></ma:transferReject></extension>"#,
        ctransfer("approve", ID, None)
    );
    assert_code(&mut f.r1, &body, 2103).await;
    f.assert_pending(&pending).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

// ===== instant-epp =====

/// instant-epp 0.5 has no contact transfer command (nor a `contact:trnData`
/// poll payload), so the steps go as raw XML; its contact info reads the
/// contact before and after the transfer.
#[tokio::test]
async fn contact_transfer_seen_through_instant_epp_contact_info() {
    let mut f = Fixture::new(None).await;
    let (mut losing, received1) = logged_in_client(&f.server, "reg1", None).await;
    let (mut gaining, received2) = logged_in_client(&f.server, "reg2", None).await;
    let pending = f.request_and_drain().await;

    let rsp = losing
        .transact(&ContactInfo::new(ID, AUTH), "inst-cinfo-1")
        .await
        .unwrap();
    let info = rsp.res_data().unwrap();
    assert_eq!(info.client_id, "reg1");
    assert!(
        info.statuses.contains(&contact::Status::PendingTransfer),
        "{:?}",
        info.statuses
    );
    assert!(info.transferred_at.is_none());
    // The gaining registrar reads it with the authInfo while it is pending.
    let rsp = gaining
        .transact(&ContactInfo::new(ID, AUTH), "inst-cinfo-2")
        .await
        .unwrap();
    assert_eq!(rsp.res_data().unwrap().client_id, "reg1");

    let done = trn_data(&assert_ok(&mut f.r1, &ctransfer("approve", ID, None)).await);
    assert_outcome(&done, &pending, "clientApproved");

    // Now reg2's: the sponsor's view, trDate set, no pendingTransfer.
    let rsp = gaining
        .transact(&ContactInfo::new(ID, "ignored-1A"), "inst-cinfo-3")
        .await
        .unwrap();
    let info = rsp.res_data().unwrap();
    assert_eq!(info.client_id, "reg2");
    assert_eq!(info.transferred_at, Some(done.ac_date));
    assert!(
        !info.statuses.contains(&contact::Status::PendingTransfer),
        "{:?}",
        info.statuses
    );
    assert!(info.statuses.contains(&contact::Status::Linked));
    // The old authInfo no longer opens it to reg1.
    match losing
        .transact(&ContactInfo::new(ID, AUTH), "inst-cinfo-4")
        .await
    {
        Err(instant_epp::Error::Command(status)) => {
            assert_eq!(
                status.result.code,
                instant_epp::response::ResultCode::InvalidAuthorizationInformation
            );
        }
        Err(other) => panic!("expected a command error, got {other}"),
        Ok(rsp) => panic!("the old authInfo still works: {:?}", rsp.result),
    }

    // Greeting, login, two infos each.
    assert_eq!(validate_received(&received1).len(), 4);
    assert_eq!(validate_received(&received2).len(), 4);
}

#[tokio::test]
async fn contact_transfer_leaves_the_domains_using_it_with_their_sponsor() {
    let mut f = Fixture::new(None).await;
    f.request_and_drain().await;
    assert_ok(&mut f.r1, &ctransfer("approve", ID, None)).await;
    expect_message(&mut f.r1, "clientApproved", 1).await;
    expect_message(&mut f.r2, "clientApproved", 1).await;
    // reg1 still sponsors the domain and may update it; the domain keeps
    // the contact, now reg2's.
    let upd = format!(
        r#"<update><domain:update xmlns:domain="{DOMAIN_NS}"><domain:name>{DOMAIN}</domain:name><domain:add><domain:status s="clientHold"/></domain:add></domain:update></update>"#
    );
    assert_ok(&mut f.r1, &upd).await;
    f.assert_settled("reg2").await;
}
