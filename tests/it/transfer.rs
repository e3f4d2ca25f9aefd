//! RFC 5731 `<domain:transfer>` and charter R12 (registrar change): request,
//! query, approve, reject (with the `.ma` reason, then registry review),
//! cancel, automatic approval at `acDate`, and every refusal. At each step
//! the domain's statuses, sponsor and expiry date, the `trnData` fields and
//! both registrars' poll queues are checked. Also instant-epp's transfer
//! calls, with every frame it receives validated.

use std::path::Path;

use chrono::{DateTime, Utc};
use instant_epp::domain::transfer::DomainTransfer;
use instant_epp::response::ResultCode;

use crate::dnssec::login_with_extensions;
use crate::harness::*;
use crate::recording::{logged_in_client, validate_received};

pub(crate) const DOMAIN_NS: &str = "urn:ietf:params:xml:ns:domain-1.0";
pub(crate) const HOST_NS: &str = "urn:ietf:params:xml:ns:host-1.0";
pub(crate) const MA_NS: &str = "http://www.anrt.ma/epp/ma-1.0";
pub(crate) const AUTH: &str = "Dom-Auth-2024";
pub(crate) const NAME: &str = "exemple.ma";
/// The fixed instant the clock-moving tests start at.
const T0: &str = "2026-01-10T10:00:00Z";

// ----- request bodies -----

/// A `<domain:transfer>` body: `op`, the name, an optional period and authInfo.
pub(crate) fn transfer(op: &str, name: &str, period: &str, auth: Option<&str>) -> String {
    let auth = auth
        .map(|a| format!("<domain:authInfo><domain:pw>{a}</domain:pw></domain:authInfo>"))
        .unwrap_or_default();
    format!(
        r#"<transfer op="{op}"><domain:transfer xmlns:domain="{DOMAIN_NS}"><domain:name>{name}</domain:name>{period}{auth}</domain:transfer></transfer>"#
    )
}

/// A transfer request with the domain's authInfo.
pub(crate) fn request(name: &str) -> String {
    transfer("request", name, "", Some(AUTH))
}

/// A rejection carrying the `.ma` reason (R12).
fn reject_with_reason(name: &str, reason: &str) -> String {
    format!(
        r#"{}<extension><ma:transferReject xmlns:ma="{MA_NS}"><ma:reason>{reason}</ma:reason></ma:transferReject></extension>"#,
        transfer("reject", name, "", None)
    )
}

pub(crate) fn poll_req() -> String {
    r#"<poll op="req"/>"#.to_owned()
}

pub(crate) fn poll_ack(id: &str) -> String {
    format!(r#"<poll op="ack" msgID="{id}"/>"#)
}

fn host_info(name: &str) -> String {
    format!(
        r#"<info><host:info xmlns:host="{HOST_NS}"><host:name>{name}</host:name></host:info></info>"#
    )
}

fn domain_update(name: &str, inner: &str) -> String {
    format!(
        r#"<update><domain:update xmlns:domain="{DOMAIN_NS}"><domain:name>{name}</domain:name>{inner}</domain:update></update>"#
    )
}

fn domain_renew(name: &str, cur_exp: &str) -> String {
    format!(
        r#"<renew><domain:renew xmlns:domain="{DOMAIN_NS}"><domain:name>{name}</domain:name><domain:curExpDate>{cur_exp}</domain:curExpDate><domain:period unit="y">1</domain:period></domain:renew></renew>"#
    )
}

fn domain_delete(name: &str) -> String {
    format!(
        r#"<delete><domain:delete xmlns:domain="{DOMAIN_NS}"><domain:name>{name}</domain:name></domain:delete></delete>"#
    )
}

/// A contact create (Moroccan address) carrying an R15 identity document.
pub(crate) fn contact_with_identity(id: &str) -> String {
    format!(
        r#"{}<extension><ma:create xmlns:ma="{MA_NS}"><ma:identity><ma:type>cin</ma:type><ma:number>BE123456</ma:number></ma:identity></ma:create></extension>"#,
        contact_create_bare(id, "MA")
    )
}

// ----- assertions -----

pub(crate) async fn run(c: &mut RawClient, body: &str) -> Resp {
    c.cmd(&command(body, "trn-test-1")).await
}

pub(crate) async fn assert_code(c: &mut RawClient, body: &str, code: u16) -> Resp {
    let r = run(c, body).await;
    assert_eq!(r.code(), code, "expected {code} for {body}\n{}", r.xml);
    r
}

pub(crate) async fn assert_ok(c: &mut RawClient, body: &str) -> Resp {
    assert_code(c, body, 1000).await
}

fn assert_reason_starts(r: &Resp, prefix: &str) {
    let reason = r
        .reason()
        .unwrap_or_else(|| panic!("no reason in {}", r.xml));
    assert!(reason.starts_with(prefix), "{reason}\n{}", r.xml);
}

pub(crate) fn date(r: &Resp, local: &str) -> DateTime<Utc> {
    instant(
        &r.text(local)
            .unwrap_or_else(|| panic!("no <{local}> in {}", r.xml)),
    )
}

/// The fields of a `<domain:trnData>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TrnData {
    pub name: String,
    pub status: String,
    pub re_id: String,
    pub re_date: DateTime<Utc>,
    pub ac_id: String,
    pub ac_date: DateTime<Utc>,
    pub ex_date: String,
}

/// The `<domain:trnData>` of a response; panics when there is none.
pub(crate) fn trn_data(r: &Resp) -> TrnData {
    assert!(
        r.xml.contains("<domain:trnData"),
        "no <domain:trnData> in {}",
        r.xml
    );
    let text = |local: &str| {
        r.text(local)
            .unwrap_or_else(|| panic!("no <{local}> in {}", r.xml))
    };
    TrnData {
        name: text("name"),
        status: text("trStatus"),
        re_id: text("reID"),
        re_date: date(r, "reDate"),
        ac_id: text("acID"),
        ac_date: date(r, "acDate"),
        ex_date: text("exDate"),
    }
}

/// `<poll op="req">` must answer 1301 with `count` messages and a
/// `trnData` of `status` at the head; the message is then acked (1000, one
/// fewer left). Returns the polled response.
pub(crate) async fn expect_transfer_message(c: &mut RawClient, status: &str, count: u64) -> Resp {
    let r = assert_code(c, &poll_req(), 1301).await;
    let counts = r.attrs("msgQ", "count");
    assert_eq!(counts, [count.to_string()], "{}", r.xml);
    let t = trn_data(&r);
    assert_eq!(t.status, status, "{}", r.xml);
    assert_eq!(t.name, NAME, "{}", r.xml);
    let id = msg_id(&r);
    let ack = assert_ok(c, &poll_ack(&id)).await;
    assert_eq!(ack.attrs("msgQ", "count"), [(count - 1).to_string()]);
    assert_eq!(ack.attrs("msgQ", "id"), [id]);
    r
}

/// The id of the message a poll answered.
pub(crate) fn msg_id(r: &Resp) -> String {
    r.attrs("msgQ", "id")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no <msgQ id> in {}", r.xml))
}

/// The queue is empty: 1300, no `msgQ`.
pub(crate) async fn expect_no_message(c: &mut RawClient) {
    let r = assert_code(c, &poll_req(), 1300).await;
    assert!(r.attrs("msgQ", "count").is_empty(), "{}", r.xml);
}

fn statuses(r: &Resp) -> Vec<String> {
    r.attrs("status", "s")
}

// ----- the admin CLI -----

// ----- fixture -----

/// A server where reg1 (logged in with the .ma extension) has contact
/// `cnt-1` (with an identity document) and `exemple.ma` (authInfo
/// `Dom-Auth-2024`) with its subordinate host `ns1.exemple.ma`; reg2 is
/// logged in too.
pub(crate) struct Fixture {
    pub server: TestServer,
    pub r1: RawClient,
    pub r2: RawClient,
    /// The expiry date the create answered, as text.
    pub ex_date: String,
}

pub(crate) async fn login_ma(server: &TestServer, clid: &str) -> RawClient {
    let mut c = server.client(clid).await;
    let r = c.cmd(&login_with_extensions(clid, &[MA_NS])).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    c
}

impl Fixture {
    pub(crate) async fn new(now: Option<&str>) -> Self {
        let server = match now {
            Some(now) => TestServer::start_at(now).await,
            None => TestServer::start().await,
        };
        let mut r1 = login_ma(&server, "reg1").await;
        assert_ok(&mut r1, &contact_with_identity("cnt-1")).await;
        let created = assert_ok(&mut r1, &domain_create(NAME, "cnt-1", "")).await;
        let ex_date = created.text("exDate").unwrap();
        assert_ok(&mut r1, &host_create("ns1.exemple.ma", &["192.0.2.53"])).await;
        let r2 = login_ma(&server, "reg2").await;
        Self {
            server,
            r1,
            r2,
            ex_date,
        }
    }

    /// Restarts the server with its clock at `now` and logs both registrars in again.
    pub(crate) async fn restart_at(&mut self, now: Option<&str>) {
        self.server.restart_at(now).await;
        self.relogin().await;
    }

    /// Logs both registrars in again on a (re)started server.
    async fn relogin(&mut self) {
        self.r1 = login_ma(&self.server, "reg1").await;
        self.r2 = login_ma(&self.server, "reg2").await;
    }

    pub(crate) fn data_dir(&self) -> std::path::PathBuf {
        self.server.settings.server.data_dir.clone()
    }

    /// reg2 requests the transfer: 1001, pending, acDate = reDate + 5 days,
    /// the expiry unchanged; reg1 gets the message at once (acked here),
    /// reg2 nothing.
    pub(crate) async fn request_and_drain(&mut self) -> TrnData {
        let r = assert_code(&mut self.r2, &request(NAME), 1001).await;
        let t = trn_data(&r);
        assert_eq!(t.name, NAME);
        assert_eq!(t.status, "pending");
        assert_eq!(t.re_id, "reg2");
        assert_eq!(t.ac_id, "reg1");
        assert_eq!(t.ac_date, t.re_date + chrono::Duration::days(5));
        assert_eq!(t.ex_date, self.ex_date);
        self.assert_pending(&t).await;
        let polled = expect_transfer_message(&mut self.r1, "pending", 1).await;
        assert_eq!(trn_data(&polled), t);
        expect_no_message(&mut self.r1).await;
        expect_no_message(&mut self.r2).await;
        t
    }

    /// The domain is `pendingTransfer`, still reg1's, expiry unchanged, and
    /// both parties' queries answer the same pending `trnData`.
    pub(crate) async fn assert_pending(&mut self, t: &TrnData) {
        let info = assert_ok(&mut self.r1, &domain_info(NAME, "all", None)).await;
        assert!(
            statuses(&info).contains(&"pendingTransfer".to_owned()),
            "{}",
            info.xml
        );
        assert_eq!(info.text("clID").as_deref(), Some("reg1"));
        assert_eq!(info.text("exDate").as_deref(), Some(self.ex_date.as_str()));
        for c in [&mut self.r1, &mut self.r2] {
            let q = assert_ok(c, &transfer("query", NAME, "", None)).await;
            assert_eq!(&trn_data(&q), t);
        }
    }

    /// The domain is not `pendingTransfer`, `sponsor` sponsors it, expiry unchanged.
    pub(crate) async fn assert_settled(&mut self, sponsor: &str) {
        let c = if sponsor == "reg1" {
            &mut self.r1
        } else {
            &mut self.r2
        };
        let info = assert_ok(c, &domain_info(NAME, "all", None)).await;
        assert!(
            !statuses(&info).contains(&"pendingTransfer".to_owned()),
            "{}",
            info.xml
        );
        assert_eq!(info.text("clID").as_deref(), Some(sponsor), "{}", info.xml);
        assert_eq!(info.text("exDate").as_deref(), Some(self.ex_date.as_str()));
    }
}

/// Checks a completed transfer's `trnData` against the pending one.
fn assert_outcome(done: &TrnData, pending: &TrnData, status: &str) {
    assert_eq!(done.status, status);
    assert_eq!(done.name, NAME);
    assert_eq!(done.re_id, "reg2");
    assert_eq!(done.ac_id, "reg1");
    assert_eq!(done.re_date, pending.re_date);
    assert_eq!(done.ex_date, pending.ex_date);
}

// ===== approve =====

#[tokio::test]
async fn r12_request_then_approve_moves_the_domain_to_the_gaining_registrar() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;

    let r = assert_ok(&mut f.r1, &transfer("approve", NAME, "", None)).await;
    let done = trn_data(&r);
    assert_outcome(&done, &pending, "clientApproved");
    // RFC 5731: for a completed transfer acDate is when it was completed.
    assert!(done.ac_date >= pending.re_date && done.ac_date < pending.ac_date);

    // Both registrars are told, with the same trnData.
    let m1 = expect_transfer_message(&mut f.r1, "clientApproved", 1).await;
    let m2 = expect_transfer_message(&mut f.r2, "clientApproved", 1).await;
    assert_eq!(trn_data(&m1), done);
    assert_eq!(trn_data(&m2), done);
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;

    // reg2 sponsors it now, the expiry is unchanged, trDate is set.
    f.assert_settled("reg2").await;
    let info = assert_ok(&mut f.r2, &domain_info(NAME, "all", None)).await;
    assert!(info.text("trDate").is_some(), "{}", info.xml);
    assert_eq!(info.texts("host"), ["ns1.exemple.ma"], "{}", info.xml);
    // reg1 has lost it: no full view, no update.
    let body = domain_update(
        NAME,
        r#"<domain:add><domain:status s="clientHold"/></domain:add>"#,
    );
    assert_code(&mut f.r1, &body, 2201).await;

    // Both parties still query the completed transfer.
    for c in [&mut f.r1, &mut f.r2] {
        let q = assert_ok(c, &transfer("query", NAME, "", None)).await;
        assert_eq!(trn_data(&q), done);
    }

    // The subordinate host follows its domain (RFC 5732 §1.1).
    let h = assert_ok(&mut f.r1, &host_info("ns1.exemple.ma")).await;
    assert_eq!(h.text("clID").as_deref(), Some("reg2"), "{}", h.xml);
    assert!(h.text("trDate").is_some(), "{}", h.xml);

    // The old authInfo died with the transfer (R12).
    let mut r3 = login_ma(&f.server, "reg3").await;
    let r = assert_code(&mut r3, &request(NAME), 2202).await;
    assert_reason_starts(&r, "R12");
    assert_code(&mut r3, &domain_info(NAME, "all", Some(AUTH)), 2202).await;
    // And the new sponsor can itself not "transfer back" to itself.
    assert_code(&mut f.r2, &request(NAME), 2106).await;
    f.assert_settled("reg2").await;

    // The new sponsor sets an authInfo it knows; with it reg3 may ask for
    // the next transfer, whose losing registrar is reg2.
    let chg = domain_update(
        NAME,
        "<domain:chg><domain:authInfo><domain:pw>Nouveau-Auth-2026</domain:pw></domain:authInfo></domain:chg>",
    );
    assert_ok(&mut f.r2, &chg).await;
    let body = transfer("request", NAME, "", Some("Nouveau-Auth-2026"));
    let next = trn_data(&assert_code(&mut r3, &body, 1001).await);
    assert_eq!((next.re_id.as_str(), next.ac_id.as_str()), ("reg3", "reg2"));
    assert_eq!(next.ex_date, f.ex_date);
    expect_transfer_message(&mut f.r2, "pending", 1).await;
    expect_no_message(&mut f.r1).await;
}

// ===== reject, registry review =====

#[tokio::test]
async fn r12_reject_without_the_ma_reason_answers_2003_and_with_it_1000() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;

    let r = assert_code(&mut f.r1, &transfer("reject", NAME, "", None), 2003).await;
    assert_reason_starts(&r, "R12");
    // Nothing changed: still pending, no message.
    f.assert_pending(&pending).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;

    let body = reject_with_reason(NAME, "Le titulaire conteste la demande");
    let r = assert_ok(&mut f.r1, &body).await;
    let done = trn_data(&r);
    assert_outcome(&done, &pending, "clientRejected");

    f.assert_settled("reg1").await;
    let m1 = expect_transfer_message(&mut f.r1, "clientRejected", 1).await;
    let m2 = expect_transfer_message(&mut f.r2, "clientRejected", 1).await;
    assert_eq!(trn_data(&m1), done);
    assert_eq!(trn_data(&m2), done);
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
    let q = assert_ok(&mut f.r2, &transfer("query", NAME, "", None)).await;
    assert_eq!(trn_data(&q), done);

    // The authInfo still works: the domain did not move.
    let info = assert_ok(&mut f.r2, &domain_info(NAME, "all", Some(AUTH))).await;
    assert_eq!(info.text("clID").as_deref(), Some("reg1"));
}

#[tokio::test]
async fn r12_reject_by_the_gaining_registrar_answers_2201() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;
    let body = reject_with_reason(NAME, "Pas d'accord");
    assert_code(&mut f.r2, &body, 2201).await;
    f.assert_pending(&pending).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

#[tokio::test]
async fn r12_registry_overrules_a_rejection_within_five_days() {
    let mut f = Fixture::new(Some(T0)).await;
    let pending = f.request_and_drain().await;
    let body = reject_with_reason(NAME, "Impayé");
    let rejected = trn_data(&assert_ok(&mut f.r1, &body).await);
    expect_transfer_message(&mut f.r1, "clientRejected", 1).await;
    expect_transfer_message(&mut f.r2, "clientRejected", 1).await;

    // Two days later, inside the review window, the operator overrules it.
    f.server.stop().await;
    let at = "2026-01-12T10:00:00Z";
    let (ok, out, err) = admin_in(
        &f.data_dir(),
        Some(at),
        &["transfer", "overrule", "exemple.ma"],
    );
    assert!(ok, "overrule failed: {out}{err}");
    f.restart_at(Some("2026-01-12T10:05:00Z")).await;

    f.assert_settled("reg2").await;
    let q = assert_ok(&mut f.r2, &transfer("query", NAME, "", None)).await;
    let done = trn_data(&q);
    assert_outcome(&done, &pending, "serverApproved");
    assert!(done.ac_date >= instant(at) && done.ac_date < instant("2026-01-12T10:01:00Z"));
    assert!(done.ac_date > rejected.ac_date);
    let m1 = expect_transfer_message(&mut f.r1, "serverApproved", 1).await;
    let m2 = expect_transfer_message(&mut f.r2, "serverApproved", 1).await;
    assert_eq!(trn_data(&m1), done);
    assert_eq!(trn_data(&m2), done);
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;

    // The subordinate host moved too, and the old authInfo is dead.
    let h = assert_ok(&mut f.r1, &host_info("ns1.exemple.ma")).await;
    assert_eq!(h.text("clID").as_deref(), Some("reg2"), "{}", h.xml);
    let mut r3 = login_ma(&f.server, "reg3").await;
    assert_code(&mut r3, &request(NAME), 2202).await;

    // A second overrule has nothing left to overrule.
    f.server.stop().await;
    let (ok, out, _) = admin_in(
        &f.data_dir(),
        Some("2026-01-12T10:06:00Z"),
        &["transfer", "overrule", "exemple.ma"],
    );
    assert!(!ok, "a second overrule succeeded: {out}");
}

#[tokio::test]
async fn r12_a_rejection_not_overruled_within_five_days_stands() {
    let mut f = Fixture::new(Some(T0)).await;
    f.request_and_drain().await;
    let body = reject_with_reason(NAME, "Impayé");
    let rejected = trn_data(&assert_ok(&mut f.r1, &body).await);
    expect_transfer_message(&mut f.r1, "clientRejected", 1).await;
    expect_transfer_message(&mut f.r2, "clientRejected", 1).await;

    // Six days after the rejection the review window is closed.
    f.server.stop().await;
    let at = "2026-01-16T10:00:00Z";
    let (ok, out, _) = admin_in(
        &f.data_dir(),
        Some(at),
        &["transfer", "overrule", "exemple.ma"],
    );
    assert!(!ok, "an overrule after the review window succeeded: {out}");
    f.restart_at(Some("2026-01-16T10:05:00Z")).await;

    f.assert_settled("reg1").await;
    let q = assert_ok(&mut f.r1, &transfer("query", NAME, "", None)).await;
    assert_eq!(trn_data(&q), rejected);
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
    let h = assert_ok(&mut f.r1, &host_info("ns1.exemple.ma")).await;
    assert_eq!(h.text("clID").as_deref(), Some("reg1"));
}

#[tokio::test]
async fn r12_overrule_of_a_domain_without_a_rejection_fails() {
    let mut f = Fixture::new(Some(T0)).await;
    // A pending (not rejected) transfer cannot be "overruled".
    f.request_and_drain().await;
    f.server.stop().await;
    let at = "2026-01-11T10:00:00Z";
    let (ok, out, _) = admin_in(
        &f.data_dir(),
        Some(at),
        &["transfer", "overrule", "exemple.ma"],
    );
    assert!(!ok, "overrule of a pending transfer succeeded: {out}");
    let (ok, out, _) = admin_in(
        &f.data_dir(),
        Some(at),
        &["transfer", "overrule", "inconnu.ma"],
    );
    assert!(!ok, "overrule of an unknown domain succeeded: {out}");
    f.restart_at(Some("2026-01-11T10:05:00Z")).await;
    let q = assert_ok(&mut f.r1, &transfer("query", NAME, "", None)).await;
    assert_eq!(trn_data(&q).status, "pending");
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

// ===== cancel =====

#[tokio::test]
async fn r12_request_then_cancel_by_the_gaining_registrar() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;

    // Only the requester may cancel.
    assert_code(&mut f.r1, &transfer("cancel", NAME, "", None), 2201).await;
    f.assert_pending(&pending).await;
    expect_no_message(&mut f.r1).await;

    let r = assert_ok(&mut f.r2, &transfer("cancel", NAME, "", None)).await;
    let done = trn_data(&r);
    assert_outcome(&done, &pending, "clientCancelled");
    f.assert_settled("reg1").await;
    let m1 = expect_transfer_message(&mut f.r1, "clientCancelled", 1).await;
    let m2 = expect_transfer_message(&mut f.r2, "clientCancelled", 1).await;
    assert_eq!(trn_data(&m1), done);
    assert_eq!(trn_data(&m2), done);
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;

    // Nothing pending any more.
    assert_code(&mut f.r2, &transfer("cancel", NAME, "", None), 2301).await;
    // The authInfo was not changed: a new request is accepted.
    let again = trn_data(&assert_code(&mut f.r2, &request(NAME), 1001).await);
    assert_eq!(again.status, "pending");
    assert!(again.re_date > pending.re_date);
}

// ===== automatic approval at acDate =====

#[tokio::test]
async fn r12_the_registry_approves_at_ac_date() {
    let mut f = Fixture::new(Some(T0)).await;
    let pending = f.request_and_drain().await;

    // Four days later (before acDate): nothing happens.
    f.restart_at(Some("2026-01-14T10:00:00Z")).await;
    f.assert_pending(&pending).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;

    // Six days after the request the start-up sweep has approved it.
    let restart = "2026-01-16T10:00:00Z";
    f.restart_at(Some(restart)).await;
    f.assert_settled("reg2").await;
    let q = assert_ok(&mut f.r2, &transfer("query", NAME, "", None)).await;
    let done = trn_data(&q);
    assert_outcome(&done, &pending, "serverApproved");
    assert!(done.ac_date >= pending.ac_date && done.ac_date < instant("2026-01-16T10:01:00Z"));
    let m1 = expect_transfer_message(&mut f.r1, "serverApproved", 1).await;
    let m2 = expect_transfer_message(&mut f.r2, "serverApproved", 1).await;
    assert_eq!(trn_data(&m1), done);
    assert_eq!(trn_data(&m2), done);
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
    let h = assert_ok(&mut f.r1, &host_info("ns1.exemple.ma")).await;
    assert_eq!(h.text("clID").as_deref(), Some("reg2"));
    let mut r3 = login_ma(&f.server, "reg3").await;
    assert_code(&mut r3, &request(NAME), 2202).await;

    // Another restart does not approve it again.
    f.restart_at(Some("2026-01-17T10:00:00Z")).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
    f.assert_settled("reg2").await;
}

pub(crate) fn lifecycle_run(data: &Path, now: &str) -> serde_json::Value {
    let (ok, out, err) = admin_in(data, Some(now), &["--json", "lifecycle", "run"]);
    assert!(ok, "lifecycle run failed: {out}{err}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[tokio::test]
async fn r12_admin_lifecycle_run_approves_once() {
    let mut f = Fixture::new(Some(T0)).await;
    let pending = f.request_and_drain().await;
    f.server.stop().await;
    let data = f.data_dir();

    // Before acDate: nothing is due.
    let report = lifecycle_run(&data, "2026-01-14T10:00:00Z");
    assert_eq!(report["transfers_approved"], 0, "{report}");

    // After acDate: approved once; the second run finds nothing.
    let report = lifecycle_run(&data, "2026-01-16T10:00:00Z");
    assert_eq!(report["transfers_approved"], 1, "{report}");
    let report = lifecycle_run(&data, "2026-01-16T10:01:00Z");
    assert_eq!(report["transfers_approved"], 0, "{report}");
    assert_eq!(report["examined"], 0, "{report}");

    f.restart_at(Some("2026-01-16T10:05:00Z")).await;
    f.assert_settled("reg2").await;
    let q = assert_ok(&mut f.r1, &transfer("query", NAME, "", None)).await;
    let done = trn_data(&q);
    assert_outcome(&done, &pending, "serverApproved");
    assert!(done.ac_date >= instant("2026-01-16T10:00:00Z"));
    assert!(done.ac_date < instant("2026-01-16T10:01:00Z"));
    // Exactly one message each.
    expect_transfer_message(&mut f.r1, "serverApproved", 1).await;
    expect_transfer_message(&mut f.r2, "serverApproved", 1).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

// ===== refusals =====

#[tokio::test]
async fn r12_request_by_the_sponsor_answers_2106() {
    let mut f = Fixture::new(None).await;
    let r = assert_code(&mut f.r1, &request(NAME), 2106).await;
    assert_reason_starts(&r, "R12");
    f.assert_settled("reg1").await;
    expect_no_message(&mut f.r1).await;
}

#[tokio::test]
async fn r12_request_with_a_period_answers_2306() {
    let mut f = Fixture::new(None).await;
    let period = r#"<domain:period unit="y">1</domain:period>"#;
    let r = assert_code(
        &mut f.r2,
        &transfer("request", NAME, period, Some(AUTH)),
        2306,
    )
    .await;
    assert_reason_starts(&r, "R12");
    f.assert_settled("reg1").await;
    expect_no_message(&mut f.r1).await;
}

#[tokio::test]
async fn r12_request_without_or_with_a_wrong_auth_info_answers_2202() {
    let mut f = Fixture::new(None).await;
    let r = assert_code(&mut f.r2, &transfer("request", NAME, "", None), 2202).await;
    assert_reason_starts(&r, "R12");
    let body = transfer("request", NAME, "", Some("Pas-Le-Bon-1"));
    let r = assert_code(&mut f.r2, &body, 2202).await;
    assert_reason_starts(&r, "R12");
    f.assert_settled("reg1").await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

#[tokio::test]
async fn r12_request_with_the_registrants_auth_info_and_roid() {
    let mut f = Fixture::new(None).await;
    let info = assert_ok(
        &mut f.r1,
        r#"<info><contact:info xmlns:contact="urn:ietf:params:xml:ns:contact-1.0"><contact:id>cnt-1</contact:id></contact:info></info>"#,
    )
    .await;
    let roid = info.text("roid").unwrap();
    // RFC 5731 §2.6: the registrant's authInfo, named by its roid, also authorizes.
    let with_roid = |pw: &str, roid: &str| {
        transfer("request", NAME, "", None).replace(
            "</domain:name>",
            &format!(
                r#"</domain:name><domain:authInfo><domain:pw roid="{roid}">{pw}</domain:pw></domain:authInfo>"#
            ),
        )
    };
    assert_code(&mut f.r2, &with_roid("Cnt-Auth-2024", "NOPE-MA"), 2202).await;
    assert_code(&mut f.r2, &with_roid("Pas-Le-Bon-1", &roid), 2202).await;
    let t = trn_data(&assert_code(&mut f.r2, &with_roid("Cnt-Auth-2024", &roid), 1001).await);
    assert_eq!(t.status, "pending");
    f.assert_pending(&t).await;
}

#[tokio::test]
async fn r12_request_for_a_domain_pending_create_answers_2304() {
    let mut f = Fixture::new(None).await;
    let body = format!(
        r#"{}<extension><ma:domainCreate xmlns:ma="{MA_NS}"><ma:proofRef>MIN-2024-001</ma:proofRef></ma:domainCreate></extension>"#,
        domain_create("ecole.ac.ma", "cnt-1", "")
    );
    assert_code(&mut f.r1, &body, 1001).await;
    assert_code(&mut f.r2, &request("ecole.ac.ma"), 2304).await;
    expect_no_message(&mut f.r1).await;
}

#[tokio::test]
async fn r12_second_request_while_pending_answers_2300() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;
    assert_code(&mut f.r2, &request(NAME), 2300).await;
    let mut r3 = login_ma(&f.server, "reg3").await;
    assert_code(&mut r3, &request(NAME), 2300).await;
    f.assert_pending(&pending).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

#[tokio::test]
async fn r12_client_transfer_prohibited_answers_2304() {
    let mut f = Fixture::new(None).await;
    let set = domain_update(
        NAME,
        r#"<domain:add><domain:status s="clientTransferProhibited"/></domain:add>"#,
    );
    assert_ok(&mut f.r1, &set).await;
    assert_code(&mut f.r2, &request(NAME), 2304).await;
    f.assert_settled("reg1").await;
    expect_no_message(&mut f.r1).await;
    // Once the sponsor lifts it, the request goes through.
    let lift = domain_update(
        NAME,
        r#"<domain:rem><domain:status s="clientTransferProhibited"/></domain:rem>"#,
    );
    assert_ok(&mut f.r1, &lift).await;
    f.request_and_drain().await;
}

#[tokio::test]
async fn r12_approve_reject_cancel_with_nothing_pending_answer_2301() {
    let mut f = Fixture::new(None).await;
    assert_code(&mut f.r1, &transfer("approve", NAME, "", None), 2301).await;
    assert_code(&mut f.r1, &reject_with_reason(NAME, "Non"), 2301).await;
    assert_code(&mut f.r2, &transfer("cancel", NAME, "", None), 2301).await;
    f.assert_settled("reg1").await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

#[tokio::test]
async fn r12_approve_by_the_gaining_registrar_answers_2201() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;
    assert_code(&mut f.r2, &transfer("approve", NAME, "", None), 2201).await;
    let mut r3 = login_ma(&f.server, "reg3").await;
    assert_code(&mut r3, &transfer("approve", NAME, "", None), 2201).await;
    f.assert_pending(&pending).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

#[tokio::test]
async fn r12_query_by_an_unrelated_registrar_needs_the_auth_info() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;
    let mut r3 = login_ma(&f.server, "reg3").await;
    assert_code(&mut r3, &transfer("query", NAME, "", None), 2201).await;
    let wrong = transfer("query", NAME, "", Some("Pas-Le-Bon-1"));
    assert_code(&mut r3, &wrong, 2202).await;
    let q = assert_ok(&mut r3, &transfer("query", NAME, "", Some(AUTH))).await;
    assert_eq!(trn_data(&q), pending);
    expect_no_message(&mut r3).await;
}

#[tokio::test]
async fn r12_query_of_a_never_transferred_domain_answers_2301() {
    let mut f = Fixture::new(None).await;
    assert_code(&mut f.r1, &transfer("query", NAME, "", None), 2301).await;
    assert_code(&mut f.r2, &transfer("query", NAME, "", Some(AUTH)), 2301).await;
}

#[tokio::test]
async fn r12_transfer_of_an_unknown_domain_answers_2303() {
    let mut f = Fixture::new(None).await;
    for op in ["request", "query"] {
        assert_code(&mut f.r2, &transfer(op, "inconnu.ma", "", Some(AUTH)), 2303).await;
    }
    for op in ["approve", "cancel"] {
        assert_code(&mut f.r1, &transfer(op, "inconnu.ma", "", None), 2303).await;
    }
    assert_code(&mut f.r1, &reject_with_reason("inconnu.ma", "Non"), 2303).await;
}

#[tokio::test]
async fn r12_update_renew_delete_while_pending_answer_2304() {
    let mut f = Fixture::new(None).await;
    let pending = f.request_and_drain().await;
    let update = domain_update(
        NAME,
        r#"<domain:add><domain:status s="clientHold"/></domain:add>"#,
    );
    assert_code(&mut f.r1, &update, 2304).await;
    assert_code(&mut f.r1, &domain_renew(NAME, &f.ex_date[..10]), 2304).await;
    assert_code(&mut f.r1, &domain_delete(NAME), 2304).await;
    f.assert_pending(&pending).await;
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

// ===== instant-epp =====

#[tokio::test]
async fn r12_instant_epp_request_query_approve() {
    let mut f = Fixture::new(None).await;
    let (mut gaining, received2) = logged_in_client(&f.server, "reg2", None).await;
    let (mut losing, received1) = logged_in_client(&f.server, "reg1", None).await;

    // reg2 requests: 1001, pending.
    let rsp = gaining
        .transact(&DomainTransfer::new(NAME, None, AUTH), "inst-trn-req")
        .await
        .unwrap();
    assert_eq!(
        rsp.result.code,
        ResultCode::CommandCompletedSuccessfullyActionPending
    );
    let t = rsp.res_data().unwrap();
    assert_eq!(t.name, NAME);
    assert_eq!(t.transfer_status, "pending");
    assert_eq!(t.requester_id, "reg2");
    assert_eq!(t.ack_id, "reg1");
    assert_eq!(t.ack_by, t.requested_at + chrono::Duration::days(5));
    assert_eq!(t.expiring_at, Some(instant(&f.ex_date)));
    let requested_at = t.requested_at;

    // reg2 queries it.
    let rsp = gaining
        .transact(&DomainTransfer::query(NAME, AUTH), "inst-trn-qry")
        .await
        .unwrap();
    assert_eq!(rsp.result.code, ResultCode::CommandCompletedSuccessfully);
    let q = rsp.res_data().unwrap();
    assert_eq!(q.transfer_status, "pending");
    assert_eq!(q.requested_at, requested_at);

    // A rejection through instant-epp carries no .ma reason: 2003.
    match losing
        .transact(&DomainTransfer::reject(NAME), "inst-trn-rej")
        .await
    {
        Err(instant_epp::Error::Command(status)) => {
            assert_eq!(status.result.code, ResultCode::RequiredParameterMissing);
        }
        Err(other) => panic!("expected a command error, got {other}"),
        Ok(rsp) => panic!("a rejection without a reason passed: {:?}", rsp.result),
    }

    // reg1 approves.
    let rsp = losing
        .transact(&DomainTransfer::approve(NAME), "inst-trn-app")
        .await
        .unwrap();
    assert_eq!(rsp.result.code, ResultCode::CommandCompletedSuccessfully);
    let a = rsp.res_data().unwrap();
    assert_eq!(a.transfer_status, "clientApproved");
    assert_eq!(a.requester_id, "reg2");
    assert_eq!(a.ack_id, "reg1");
    assert_eq!(a.requested_at, requested_at);
    assert_eq!(a.expiring_at, Some(instant(&f.ex_date)));

    // Cancel after completion: nothing pending.
    match gaining
        .transact(&DomainTransfer::cancel(NAME), "inst-trn-can")
        .await
    {
        Err(instant_epp::Error::Command(status)) => {
            assert_eq!(status.result.code, ResultCode::ObjectNotPendingTransfer);
        }
        Err(other) => panic!("expected a command error, got {other}"),
        Ok(rsp) => panic!("a cancel with nothing pending passed: {:?}", rsp.result),
    }

    f.assert_settled("reg2").await;
    // Greeting, login, request, query, cancel.
    let frames2 = validate_received(&received2);
    assert_eq!(frames2.len(), 5, "{frames2:#?}");
    // Greeting, login, reject, approve.
    let frames1 = validate_received(&received1);
    assert_eq!(frames1.len(), 4, "{frames1:#?}");
}
