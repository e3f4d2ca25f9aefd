//! RFC 5730 §2.9.2.3 `<poll>`: message queues per registrar, FIFO, `ack`
//! by id, counts, persistence across restarts, the session language, and
//! instant-epp's `Poll`/`Ack`. Messages are made by R12 transfer requests.

use instant_epp::poll::{Ack, Poll, PollData};
use instant_epp::response::ResultCode;

use crate::harness::*;
use crate::recording::{logged_in_client, validate_received};
use crate::transfer::{
    Fixture, NAME, assert_code, assert_ok, expect_no_message, msg_id, poll_ack, poll_req, request,
    transfer, trn_data,
};

/// The `<msg>` inside `<msgQ>`: its `lang` attribute and text.
fn msgq_msg(r: &Resp) -> (Option<String>, String) {
    let doc = roxmltree::Document::parse(&r.xml).unwrap();
    let msg = doc
        .descendants()
        .find(|n| n.has_tag_name("msgQ"))
        .and_then(|q| q.children().find(|n| n.has_tag_name("msg")))
        .unwrap_or_else(|| panic!("no <msgQ><msg> in {}", r.xml));
    (
        msg.attribute("lang").map(str::to_owned),
        msg.text().unwrap_or("").to_owned(),
    )
}

fn count(r: &Resp) -> u64 {
    r.attrs("msgQ", "count")
        .first()
        .unwrap_or_else(|| panic!("no <msgQ count> in {}", r.xml))
        .parse()
        .unwrap()
}

/// The fixture plus `autre1.ma` and `autre2.ma`, all reg1's with the same authInfo.
async fn three_domains() -> Fixture {
    let mut f = Fixture::new(None).await;
    for name in ["autre1.ma", "autre2.ma"] {
        assert_ok(&mut f.r1, &domain_create(name, "cnt-1", "")).await;
    }
    f
}

#[tokio::test]
async fn success_poll_delivers_messages_in_fifo_order() {
    let mut f = three_domains().await;
    // Requests in an order that is not the names' order.
    let order = ["autre2.ma", NAME, "autre1.ma"];
    for name in order {
        assert_code(&mut f.r2, &request(name), 1001).await;
    }
    let mut last_id = 0u64;
    for (i, name) in order.iter().enumerate() {
        let left = (order.len() - i) as u64;
        let r = assert_code(&mut f.r1, &poll_req(), 1301).await;
        assert_eq!(count(&r), left, "{}", r.xml);
        assert_eq!(trn_data(&r).name, *name, "{}", r.xml);
        let id = msg_id(&r);
        let numeric: u64 = id.parse().unwrap();
        assert!(numeric > last_id, "ids go up: {numeric} after {last_id}");
        last_id = numeric;
        // Polling again without an ack answers the same head.
        let again = assert_code(&mut f.r1, &poll_req(), 1301).await;
        assert_eq!(msg_id(&again), id);
        assert_eq!(count(&again), left);
        // The ack answers the id and the count left.
        let ack = assert_ok(&mut f.r1, &poll_ack(&id)).await;
        assert_eq!(ack.attrs("msgQ", "id"), [id.as_str()]);
        assert_eq!(count(&ack), left - 1);
        // An acked message is gone.
        assert_code(&mut f.r1, &poll_ack(&id), 2303).await;
    }
    expect_no_message(&mut f.r1).await;
    expect_no_message(&mut f.r2).await;
}

#[tokio::test]
async fn failure_ack_of_an_unknown_id_answers_2303() {
    let mut f = Fixture::new(None).await;
    // Empty queue.
    assert_code(&mut f.r1, &poll_ack("424242"), 2303).await;
    assert_code(&mut f.r2, &request(NAME), 1001).await;
    let head = assert_code(&mut f.r1, &poll_req(), 1301).await;
    let id = msg_id(&head);
    for unknown in ["999999999999", "abc", "-1", "0"] {
        assert_code(&mut f.r1, &poll_ack(unknown), 2303).await;
    }
    // The real message is untouched.
    let r = assert_code(&mut f.r1, &poll_req(), 1301).await;
    assert_eq!(msg_id(&r), id);
    assert_eq!(count(&r), 1);
}

#[tokio::test]
async fn failure_ack_of_another_registrars_message_answers_2303() {
    let mut f = Fixture::new(None).await;
    assert_code(&mut f.r2, &request(NAME), 1001).await;
    // reg2 cancels: reg1 has two messages (request, cancel), reg2 one.
    assert_ok(&mut f.r2, &transfer("cancel", NAME, "", None)).await;
    let head1 = assert_code(&mut f.r1, &poll_req(), 1301).await;
    let id1 = msg_id(&head1);
    assert_eq!(count(&head1), 2);
    let head2 = assert_code(&mut f.r2, &poll_req(), 1301).await;
    let id2 = msg_id(&head2);
    assert_eq!(count(&head2), 1);
    assert_ne!(id1, id2);

    assert_code(&mut f.r2, &poll_ack(&id1), 2303).await;
    assert_code(&mut f.r1, &poll_ack(&id2), 2303).await;

    // Both messages are still in their owners' queues, counts unchanged.
    let r = assert_code(&mut f.r1, &poll_req(), 1301).await;
    assert_eq!((msg_id(&r), count(&r)), (id1.clone(), 2));
    assert_eq!(trn_data(&r).status, "pending");
    let r = assert_code(&mut f.r2, &poll_req(), 1301).await;
    assert_eq!((msg_id(&r), count(&r)), (id2.clone(), 1));
    assert_eq!(trn_data(&r).status, "clientCancelled");

    // Each owner can ack its own.
    let ack = assert_ok(&mut f.r1, &poll_ack(&id1)).await;
    assert_eq!(count(&ack), 1);
    let ack = assert_ok(&mut f.r2, &poll_ack(&id2)).await;
    assert_eq!(count(&ack), 0);
    expect_no_message(&mut f.r2).await;
}

#[tokio::test]
async fn success_a_message_survives_a_restart_and_is_delivered_once() {
    let mut f = Fixture::new(None).await;
    assert_code(&mut f.r2, &request(NAME), 1001).await;
    let before = assert_code(&mut f.r1, &poll_req(), 1301).await;
    let id = msg_id(&before);

    f.restart_at(None).await;
    let after = assert_code(&mut f.r1, &poll_req(), 1301).await;
    assert_eq!(msg_id(&after), id);
    assert_eq!(count(&after), 1);
    assert_eq!(trn_data(&after), trn_data(&before));
    assert_eq!(after.text("qDate"), before.text("qDate"));
    assert_eq!(msgq_msg(&after), msgq_msg(&before));
    let ack = assert_ok(&mut f.r1, &poll_ack(&id)).await;
    assert_eq!(count(&ack), 0);
    expect_no_message(&mut f.r1).await;

    // The ack is durable too, and new messages get new ids.
    f.restart_at(None).await;
    expect_no_message(&mut f.r1).await;
    assert_ok(&mut f.r2, &transfer("cancel", NAME, "", None)).await;
    let next = assert_code(&mut f.r1, &poll_req(), 1301).await;
    assert_eq!(count(&next), 1);
    let next_id: u64 = msg_id(&next).parse().unwrap();
    assert!(next_id > id.parse().unwrap(), "{next_id} after {id}");
}

#[tokio::test]
async fn success_a_french_session_gets_french_messages() {
    let mut f = Fixture::new(None).await;
    assert_code(&mut f.r2, &request(NAME), 1001).await;

    let mut fr = f.server.client("reg1").await;
    let r = fr.cmd(&login_xml("reg1", password("reg1"), "fr")).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let r = assert_code(&mut fr, &poll_req(), 1301).await;
    let (lang, text) = msgq_msg(&r);
    assert_eq!(lang.as_deref(), Some("fr"), "{}", r.xml);
    assert!(text.starts_with("Transfert de exemple.ma"), "{text}");
    assert_eq!(trn_data(&r).status, "pending");

    // The English session reads the same message in English.
    let r = assert_code(&mut f.r1, &poll_req(), 1301).await;
    let (lang, text) = msgq_msg(&r);
    assert!(lang.is_none() || lang.as_deref() == Some("en"), "{}", r.xml);
    assert!(text.starts_with("Transfer of exemple.ma"), "{text}");
}

#[tokio::test]
async fn success_instant_epp_poll_and_ack() {
    let mut f = Fixture::new(None).await;
    assert_code(&mut f.r2, &request(NAME), 1001).await;
    assert_ok(&mut f.r2, &transfer("cancel", NAME, "", None)).await;
    let (mut client, received) = logged_in_client(&f.server, "reg1", None).await;

    for (left, status) in [(2u32, "pending"), (1, "clientCancelled")] {
        let rsp = client.transact(&Poll, "inst-poll").await.unwrap();
        assert_eq!(
            rsp.result.code,
            ResultCode::CommandCompletedSuccessfullyAckToDequeue
        );
        let q = rsp.message_queue().unwrap();
        assert_eq!(q.count, left);
        assert!(q.date.is_some());
        let text = &q.message.as_ref().unwrap().text;
        assert!(text.contains("exemple.ma"), "{text}");
        let id = q.id.clone();
        match rsp.res_data() {
            Some(PollData::DomainTransfer(t)) => {
                assert_eq!(t.name, NAME);
                assert_eq!(t.transfer_status, status);
                assert_eq!(t.requester_id, "reg2");
                assert_eq!(t.ack_id, "reg1");
            }
            other => panic!("expected a trnData, got {other:?}"),
        }
        let rsp = client
            .transact(&Ack { message_id: &id }, "inst-ack")
            .await
            .unwrap();
        assert_eq!(rsp.result.code, ResultCode::CommandCompletedSuccessfully);
        let q = rsp.message_queue().unwrap();
        assert_eq!(q.count, left - 1);
        assert_eq!(q.id, id);
    }
    let rsp = client.transact(&Poll, "inst-poll-empty").await.unwrap();
    assert_eq!(
        rsp.result.code,
        ResultCode::CommandCompletedSuccessfullyNoMessages
    );
    assert!(rsp.message_queue().is_none());
    assert!(rsp.res_data().is_none());

    // An unknown id through instant-epp: 2303.
    match client
        .transact(
            &Ack {
                message_id: "999999999",
            },
            "inst-ack-bad",
        )
        .await
    {
        Err(instant_epp::Error::Command(status)) => {
            assert_eq!(status.result.code, ResultCode::ObjectDoesNotExist);
        }
        Err(other) => panic!("expected a command error, got {other}"),
        Ok(rsp) => panic!("an unknown message was acked: {:?}", rsp.result),
    }

    // Greeting, login, 2 × (poll, ack), poll, bad ack.
    let frames = validate_received(&received);
    assert_eq!(frames.len(), 8, "{frames:#?}");
    // The raw view agrees: nothing left.
    expect_no_message(&mut f.r1).await;
}
