//! Charter R13, change of registrant (ownership): a `domain:update` that
//! changes the registrant answers 1001 and waits, `pendingUpdate`, for the
//! registry operator, who approves (new registrant, the creation date
//! becomes the approval date, expiry one year later) or rejects it with
//! `admin owner approve|reject`; either way the sponsor gets a `panData`
//! poll message (RFC 5731 §3.3) naming the original update's transaction.

use chrono::{DateTime, Months, Utc};

use crate::harness::*;
use crate::transfer::{
    DOMAIN_NS, Fixture, NAME, assert_code, assert_ok, contact_with_identity, date,
    expect_no_message, poll_ack, poll_req, request, run,
};

/// The instant the ownership tests start at.
const T0: &str = "2026-01-10T10:00:00Z";
/// The clTRID of the update that asks for the change.
const CHANGE_TRID: &str = "own-chg-1";

fn domain_update(name: &str, inner: &str) -> String {
    format!(
        r#"<update><domain:update xmlns:domain="{DOMAIN_NS}"><domain:name>{name}</domain:name>{inner}</domain:update></update>"#
    )
}

fn registrant_change(id: &str) -> String {
    domain_update(
        NAME,
        &format!("<domain:chg><domain:registrant>{id}</domain:registrant></domain:chg>"),
    )
}

fn contact_delete(id: &str) -> String {
    format!(
        r#"<delete><contact:delete xmlns:contact="urn:ietf:params:xml:ns:contact-1.0"><contact:id>{id}</contact:id></contact:delete></delete>"#
    )
}

fn statuses(r: &Resp) -> Vec<String> {
    r.attrs("status", "s")
}

/// The `<domain:panData>` of a poll response.
#[derive(Debug)]
struct PanData {
    name: String,
    result: String,
    cl_trid: Option<String>,
    sv_trid: String,
    date: DateTime<Utc>,
}

fn pan_data(r: &Resp) -> PanData {
    let doc = roxmltree::Document::parse(&r.xml).unwrap();
    let pan = doc
        .descendants()
        .find(|n| n.has_tag_name((DOMAIN_NS, "panData")))
        .unwrap_or_else(|| panic!("no <domain:panData> in {}", r.xml));
    fn child<'a, 'i>(
        parent: roxmltree::Node<'a, 'i>,
        local: &str,
    ) -> Option<roxmltree::Node<'a, 'i>> {
        parent
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == local)
    }
    let name = child(pan, "name").unwrap();
    let tr = child(pan, "paTRID").unwrap();
    PanData {
        name: name.text().unwrap_or("").to_owned(),
        result: name.attribute("paResult").unwrap_or("").to_owned(),
        cl_trid: child(tr, "clTRID")
            .and_then(|n| n.text())
            .map(str::to_owned),
        sv_trid: child(tr, "svTRID").unwrap().text().unwrap().to_owned(),
        date: instant(child(pan, "paDate").unwrap().text().unwrap()),
    }
}

/// The fixture (started at `T0`) with `cnt-2` created; reg1 asks to move
/// `exemple.ma` to `cnt-2` (clTRID `own-chg-1`). Returns the update's svTRID.
async fn change_requested() -> (Fixture, String) {
    let mut f = Fixture::new(Some(T0)).await;
    assert_ok(&mut f.r1, &contact_with_identity("cnt-2")).await;
    let r =
        f.r1.cmd(&command(&registrant_change("cnt-2"), CHANGE_TRID))
            .await;
    assert_eq!(r.code(), 1001, "{}", r.xml);
    let sv_trid = r.text("svTRID").unwrap();
    (f, sv_trid)
}

/// The sponsor's one message is a `panData` for `exemple.ma` with this
/// result and the original update's transaction ids; it is acked.
async fn expect_pan_message(
    c: &mut RawClient,
    result: &str,
    sv_trid: &str,
    decided: DateTime<Utc>,
) {
    let r = assert_code(c, &poll_req(), 1301).await;
    assert_eq!(r.attrs("msgQ", "count"), ["1"], "{}", r.xml);
    let pan = pan_data(&r);
    assert_eq!(pan.name, NAME, "{}", r.xml);
    assert_eq!(pan.result, result, "{}", r.xml);
    assert_eq!(pan.cl_trid.as_deref(), Some(CHANGE_TRID), "{}", r.xml);
    assert_eq!(pan.sv_trid, sv_trid, "{}", r.xml);
    assert!(
        pan.date >= decided && pan.date < decided + chrono::Duration::minutes(1),
        "paDate {} for a decision at {decided}",
        pan.date
    );
    let id = r.attrs("msgQ", "id").remove(0);
    let ack = assert_ok(c, &poll_ack(&id)).await;
    assert_eq!(ack.attrs("msgQ", "count"), ["0"]);
    expect_no_message(c).await;
}

#[tokio::test]
async fn r13_registrant_change_answers_1001_and_info_shows_the_pending_owner() {
    let (mut f, _) = change_requested().await;
    let info = assert_ok(&mut f.r1, &domain_info(NAME, "all", None)).await;
    assert!(
        statuses(&info).contains(&"pendingUpdate".to_owned()),
        "{}",
        info.xml
    );
    // The registrant stays until the registry decides.
    assert_eq!(info.text("registrant").as_deref(), Some("cnt-1"));
    let doc = roxmltree::Document::parse(&info.xml).unwrap();
    let pending = doc
        .descendants()
        .find(|n| n.has_tag_name(("http://www.anrt.ma/epp/ma-1.0", "pendingOwner")))
        .unwrap_or_else(|| panic!("no <ma:pendingOwner> in {}", info.xml));
    assert!(
        pending
            .parent()
            .is_some_and(|p| p.has_tag_name(("http://www.anrt.ma/epp/ma-1.0", "domainInfData"))),
        "{}",
        info.xml
    );
    assert_eq!(pending.text(), Some("cnt-2"));
    let requested = instant(pending.attribute("requested").unwrap());
    assert!(
        requested >= instant(T0) && requested < instant("2026-01-10T10:01:00Z"),
        "{requested}"
    );
    // No decision yet: no message.
    expect_no_message(&mut f.r1).await;
}

#[tokio::test]
async fn r13_while_the_change_waits_update_and_transfer_answer_2304() {
    let (mut f, _) = change_requested().await;
    assert_ok(&mut f.r1, &contact_with_identity("cnt-3")).await;
    let hold = domain_update(
        NAME,
        r#"<domain:add><domain:status s="clientHold"/></domain:add>"#,
    );
    assert_code(&mut f.r1, &hold, 2304).await;
    assert_code(&mut f.r1, &registrant_change("cnt-3"), 2304).await;
    let auth = domain_update(
        NAME,
        "<domain:chg><domain:authInfo><domain:pw>Autre-Auth-2026</domain:pw></domain:authInfo></domain:chg>",
    );
    assert_code(&mut f.r1, &auth, 2304).await;
    // R12: a domain pendingUpdate cannot change registrar.
    assert_code(&mut f.r2, &request(NAME), 2304).await;

    let info = assert_ok(&mut f.r1, &domain_info(NAME, "all", None)).await;
    assert_eq!(info.text("registrant").as_deref(), Some("cnt-1"));
    assert_eq!(info.text("clID").as_deref(), Some("reg1"));
    assert_eq!(info.text("pendingOwner").as_deref(), Some("cnt-2"));
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

#[tokio::test]
async fn r13_registrant_change_during_a_pending_transfer_answers_2304() {
    let mut f = Fixture::new(Some(T0)).await;
    assert_ok(&mut f.r1, &contact_with_identity("cnt-2")).await;
    f.request_and_drain().await;
    assert_code(&mut f.r1, &registrant_change("cnt-2"), 2304).await;
    let info = assert_ok(&mut f.r1, &domain_info(NAME, "all", None)).await;
    assert_eq!(info.text("registrant").as_deref(), Some("cnt-1"));
    assert!(info.text("pendingOwner").is_none(), "{}", info.xml);
}

#[tokio::test]
async fn r13_operator_approves_the_change() {
    let (mut f, sv_trid) = change_requested().await;
    let before = assert_ok(&mut f.r1, &domain_info(NAME, "all", None)).await;
    assert!(date(&before, "crDate") < instant("2026-01-10T10:01:00Z"));

    f.server.stop().await;
    let at = "2026-01-13T09:30:00Z";
    let (ok, out, err) = admin_in(&f.data_dir(), Some(at), &["owner", "approve", "exemple.ma"]);
    assert!(ok, "approve failed: {out}{err}");
    f.restart_at(Some("2026-01-13T09:35:00Z")).await;

    let info = assert_ok(&mut f.r1, &domain_info(NAME, "all", None)).await;
    assert_eq!(info.text("registrant").as_deref(), Some("cnt-2"));
    assert_eq!(info.text("clID").as_deref(), Some("reg1"));
    assert!(
        !statuses(&info).contains(&"pendingUpdate".to_owned()),
        "{}",
        info.xml
    );
    assert!(info.text("pendingOwner").is_none(), "{}", info.xml);
    // R13: registered anew from the approval date, for one year.
    let created = date(&info, "crDate");
    assert!(
        created >= instant(at) && created < instant("2026-01-13T09:31:00Z"),
        "crDate {created}"
    );
    let expires = date(&info, "exDate");
    assert_eq!(Some(expires), created.checked_add_months(Months::new(12)));
    assert!(info.text("exDate").unwrap().starts_with("2027-01-13"));

    expect_pan_message(&mut f.r1, "1", &sv_trid, instant(at)).await;
    expect_no_message(&mut f.r2).await;

    // The domain is active again: updates and transfers work.
    let hold = domain_update(
        NAME,
        r#"<domain:add><domain:status s="clientHold"/></domain:add>"#,
    );
    assert_ok(&mut f.r1, &hold).await;
    assert_code(&mut f.r2, &request(NAME), 1001).await;

    // Nothing waits any more: a second approval fails.
    f.server.stop().await;
    let (ok, out, _) = admin_in(
        &f.data_dir(),
        Some("2026-01-13T09:40:00Z"),
        &["owner", "approve", "exemple.ma"],
    );
    assert!(!ok, "a second approval succeeded: {out}");
}

#[tokio::test]
async fn r13_operator_rejects_the_change() {
    let (mut f, sv_trid) = change_requested().await;
    let before = assert_ok(&mut f.r1, &domain_info(NAME, "all", None)).await;

    f.server.stop().await;
    let at = "2026-01-12T15:00:00Z";
    let (ok, out, err) = admin_in(&f.data_dir(), Some(at), &["owner", "reject", "exemple.ma"]);
    assert!(ok, "reject failed: {out}{err}");
    f.restart_at(Some("2026-01-12T15:05:00Z")).await;

    let info = assert_ok(&mut f.r1, &domain_info(NAME, "all", None)).await;
    assert_eq!(info.text("registrant").as_deref(), Some("cnt-1"));
    assert_eq!(info.text("crDate"), before.text("crDate"));
    assert_eq!(info.text("exDate"), before.text("exDate"));
    assert_eq!(info.text("exDate").as_deref(), Some(f.ex_date.as_str()));
    assert!(
        !statuses(&info).contains(&"pendingUpdate".to_owned()),
        "{}",
        info.xml
    );
    assert!(info.text("pendingOwner").is_none(), "{}", info.xml);

    expect_pan_message(&mut f.r1, "0", &sv_trid, instant(at)).await;
    expect_no_message(&mut f.r2).await;

    // The sponsor may ask again.
    assert_code(&mut f.r1, &registrant_change("cnt-2"), 1001).await;
}

#[tokio::test]
async fn r13_approve_or_reject_with_nothing_pending_fails() {
    let mut f = Fixture::new(Some(T0)).await;
    f.server.stop().await;
    let data = f.data_dir();
    let at = "2026-01-11T10:00:00Z";
    for verdict in ["approve", "reject"] {
        let (ok, out, _) = admin_in(&data, Some(at), &["owner", verdict, "exemple.ma"]);
        assert!(!ok, "{verdict} with nothing pending succeeded: {out}");
        let (ok, out, _) = admin_in(&data, Some(at), &["owner", verdict, "inconnu.ma"]);
        assert!(!ok, "{verdict} of an unknown domain succeeded: {out}");
    }
    f.restart_at(Some("2026-01-11T10:05:00Z")).await;
    let info = assert_ok(&mut f.r1, &domain_info(NAME, "all", None)).await;
    assert_eq!(info.text("registrant").as_deref(), Some("cnt-1"));
    assert_eq!(info.text("exDate").as_deref(), Some(f.ex_date.as_str()));
    expect_no_message(&mut f.r1).await;
}

#[tokio::test]
async fn r13_the_requested_registrant_cannot_be_deleted_while_the_change_waits() {
    let (mut f, sv_trid) = change_requested().await;
    // The domain refers to cnt-2 (as its pending owner): RFC 5733 §3.2.2,
    // a contact associated with another object answers 2305.
    let r = run(&mut f.r1, &contact_delete("cnt-2")).await;
    assert_eq!(r.code(), 2305, "{}", r.xml);

    // So the approval can still give the domain to cnt-2.
    f.server.stop().await;
    let at = "2026-01-11T10:00:00Z";
    let (ok, out, err) = admin_in(&f.data_dir(), Some(at), &["owner", "approve", "exemple.ma"]);
    assert!(ok, "approve failed: {out}{err}");
    f.restart_at(Some("2026-01-11T10:05:00Z")).await;
    let info = assert_ok(&mut f.r1, &domain_info(NAME, "all", None)).await;
    assert_eq!(info.text("registrant").as_deref(), Some("cnt-2"));
    expect_pan_message(&mut f.r1, "1", &sv_trid, instant(at)).await;
}

#[tokio::test]
async fn r13_change_to_a_registrant_without_an_identity_document_answers_2306() {
    let mut f = Fixture::new(Some(T0)).await;
    // R13/R15: the new registrant must have an identity document on record.
    assert_ok(&mut f.r1, &contact_create_bare("cnt-noid", "MA")).await;
    let r = run(&mut f.r1, &registrant_change("cnt-noid")).await;
    assert_eq!(r.code(), 2306, "{}", r.xml);
    assert!(r.reason().is_some(), "{}", r.xml);
    let info = assert_ok(&mut f.r1, &domain_info(NAME, "all", None)).await;
    assert_eq!(info.text("registrant").as_deref(), Some("cnt-1"));
    assert!(
        !statuses(&info).contains(&"pendingUpdate".to_owned()),
        "{}",
        info.xml
    );
}
