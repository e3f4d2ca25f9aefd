//! R12's fallback: the operator has the registry set a fresh authInfo and
//! mail it to the registrant, into the outbox folder or through an SMTP
//! relay; the old authInfo stops working, the new one moves the domain, and
//! the sponsor is told by poll message.

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

use crate::harness::*;

/// Decodes quoted-printable text (RFC 2045 §6.7).
fn unquote(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The authInfo a registrant mail carries.
fn code_in(mail: &str) -> String {
    let text = unquote(mail);
    text.lines()
        .find_map(|l| l.strip_prefix("authInfo: "))
        .unwrap_or_else(|| panic!("no authInfo line in {text}"))
        .trim()
        .to_owned()
}

fn transfer_request(pw: &str) -> String {
    format!(
        r#"<transfer op="request"><domain:transfer xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name><domain:authInfo><domain:pw>{pw}</domain:pw></domain:authInfo></domain:transfer></transfer>"#
    )
}

async fn registered(server: &TestServer) {
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(&contact_create("cnt-1", "MA"), "am-c"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let r = c
        .cmd(&command(&domain_create("exemple.ma", "cnt-1", ""), "am-d"))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
}

#[tokio::test]
async fn r12_fresh_authinfo_mailed_to_the_outbox_replaces_the_old_one() {
    let server = TestServer::start_at("2026-05-04T09:00:00Z").await;
    registered(&server).await;
    let outbox = server.settings.server.data_dir.join("outbox");
    let run = admin_live(&server, &[], None, &["domain", "send-authinfo", "ghost.ma"]).await;
    assert_eq!(run.code, 1, "unknown domain: {}", run.out);
    assert!(!outbox.exists(), "nothing mailed for a refusal");

    let run = admin_live(
        &server,
        &[("MA_REGISTRY_OPERATOR", "samira")],
        None,
        &["domain", "send-authinfo", "EXEMPLE.MA"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("fz@example.ma"), "{}", run.out);
    let files: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "eml");
    let mail = std::fs::read_to_string(&files[0]).unwrap();
    assert!(mail.contains("To: fz@example.ma"), "{mail}");
    assert!(mail.contains("Subject: "), "{mail}");
    let code = code_in(&mail);
    assert_eq!(code.len(), 16, "{code}");
    assert!(
        unquote(&mail).contains("valable jusqu'au 2026-06-03"),
        "TTL 30 days: {mail}"
    );

    let mut gaining = server.login("reg2").await;
    let r = gaining
        .cmd(&command(&transfer_request("Dom-Auth-2024"), "am-old"))
        .await;
    assert_eq!(r.code(), 2202, "the old authInfo is dead: {}", r.xml);
    let r = gaining
        .cmd(&command(&transfer_request(&code), "am-new"))
        .await;
    assert_eq!(r.code(), 1001, "{}", r.xml);

    // The sponsor learns it first (then the transfer request).
    let mut sponsor = server.login("reg1").await;
    let r = sponsor
        .cmd(&command(r#"<poll op="req"/>"#, "am-poll"))
        .await;
    assert_eq!(r.code(), 1301, "{}", r.xml);
    assert!(r.xml.contains("R12"), "{}", r.xml);
    assert!(r.xml.contains("changePoll:operation"), "{}", r.xml);
    assert!(r.xml.contains("operator:samira"), "{}", r.xml);

    let run = admin_live(
        &server,
        &[],
        None,
        &["--json", "history", "domain", "exemple.ma"],
    )
    .await;
    let rows: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["command"] == "admin:authinfo-send" && r["who"] == "operator:samira"),
        "{rows}"
    );
}

/// A one-message SMTP server: answers the dialogue and hands back the
/// envelope recipients and the message.
async fn fake_relay() -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<(Vec<String>, String)>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (read, mut write) = tcp.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 relay.test ESMTP\r\n").await.unwrap();
        let mut rcpt = Vec::new();
        let mut data = String::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
            match verb.as_str() {
                "EHLO" | "HELO" => write.write_all(b"250 relay.test\r\n").await.unwrap(),
                "MAIL" => write.write_all(b"250 ok\r\n").await.unwrap(),
                "RCPT" => {
                    rcpt.push(line.clone());
                    write.write_all(b"250 ok\r\n").await.unwrap();
                }
                "DATA" => {
                    write.write_all(b"354 go on\r\n").await.unwrap();
                    while let Some(l) = lines.next_line().await.unwrap() {
                        if l == "." {
                            break;
                        }
                        data.push_str(&l);
                        data.push_str("\r\n");
                    }
                    write.write_all(b"250 queued\r\n").await.unwrap();
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => write.write_all(b"250 ok\r\n").await.unwrap(),
            }
        }
        (rcpt, data)
    });
    (addr, task)
}

#[tokio::test]
async fn r12_fresh_authinfo_goes_through_the_smtp_relay_when_configured() {
    let (relay, received) = fake_relay().await;
    let server = TestServer::start_with(
        |s| s.mail.smtp_relay = Some(format!("smtp://{relay}")),
        None,
    )
    .await;
    registered(&server).await;
    let run = admin_live(
        &server,
        &[],
        None,
        &["domain", "send-authinfo", "exemple.ma"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("SMTP relay"), "{}", run.out);
    let (rcpt, data) = received.await.unwrap();
    assert_eq!(rcpt.len(), 1, "{rcpt:?}");
    assert!(rcpt[0].contains("<fz@example.ma>"), "{rcpt:?}");
    let code = code_in(&data);
    let mut gaining = server.login("reg2").await;
    let r = gaining
        .cmd(&command(&transfer_request(&code), "am-smtp"))
        .await;
    assert_eq!(r.code(), 1001, "{}", r.xml);
    assert!(
        !server.settings.server.data_dir.join("outbox").exists(),
        "nothing in the outbox when a relay is set"
    );
}
