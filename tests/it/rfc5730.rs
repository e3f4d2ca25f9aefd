//! RFC 5730 sessions: greeting, hello, login and its failures, logout,
//! command use errors, unknown and unimplemented commands, languages, trIDs.

use std::collections::HashSet;

use crate::harness::*;

const DOMAIN_URI: &str = "urn:ietf:params:xml:ns:domain-1.0";

#[tokio::test]
async fn success_greeting_on_connect_and_on_hello() {
    let server = TestServer::start().await;
    let mut c = server.client("reg1").await;
    let g = &c.greeting;
    assert_eq!(g.text("svID").as_deref(), Some("ma-registry"));
    assert_eq!(g.texts("version"), vec!["1.0"]);
    assert_eq!(g.texts("lang"), vec!["en", "fr"]);
    let objs = g.texts("objURI");
    for uri in [
        DOMAIN_URI,
        "urn:ietf:params:xml:ns:contact-1.0",
        "urn:ietf:params:xml:ns:host-1.0",
    ] {
        assert!(
            objs.contains(&uri.to_string()),
            "{uri} missing from greeting"
        );
    }
    assert!(g.xml.contains("<dcp>"));
    c.send(r#"<?xml version="1.0"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/></epp>"#)
        .await;
    let again = c.recv().await.unwrap();
    assert!(again.xml.contains("<greeting>"));
    assert!(again.text("svDate").is_some());
}

#[tokio::test]
async fn failure_command_before_login_is_2002() {
    let server = TestServer::start().await;
    let mut c = server.client("reg1").await;
    let r = c
        .cmd(&command(&check("domain", &["exemple.ma"]), "ABC-12345"))
        .await;
    assert_eq!(r.code(), 2002);
    assert_eq!(r.text("clTRID").as_deref(), Some("ABC-12345"));
    let r = c.cmd(&command("<logout/>", "ABC-12346")).await;
    assert_eq!(r.code(), 2002);
}

#[tokio::test]
async fn success_login_logout_closes_with_1500() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let r = c.cmd(&command("<logout/>", "bye-001")).await;
    assert_eq!(r.code(), 1500);
    assert!(c.is_closed().await);
}

#[tokio::test]
async fn failure_second_login_is_2002() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let r = c.cmd(&login_xml("reg1", password("reg1"), "en")).await;
    assert_eq!(r.code(), 2002);
}

#[tokio::test]
async fn failure_wrong_password_is_2200_and_three_failures_close_with_2501() {
    let server = TestServer::start().await;
    let mut c = server.client("reg1").await;
    for _ in 0..2 {
        let r = c.cmd(&login_xml("reg1", "wrong-pass", "en")).await;
        assert_eq!(r.code(), 2200);
    }
    let r = c.cmd(&login_xml("reg1", "wrong-pass", "en")).await;
    assert_eq!(r.code(), 2501);
    assert!(c.is_closed().await);
    // The server still serves others.
    server.login("reg1").await;
}

#[tokio::test]
async fn failure_certificate_of_another_registrar_is_2200() {
    let server = TestServer::start().await;
    // reg2's certificate, reg1's credentials.
    let mut c = server.client("reg2").await;
    let r = c.cmd(&login_xml("reg1", password("reg1"), "en")).await;
    assert_eq!(r.code(), 2200);
    assert_eq!(
        without_trids(&r.xml),
        without_trids(&c.cmd(&login_xml("reg1", "wrong-pass", "en")).await.xml),
        "the same answer as a wrong password"
    );
}

/// A response without its `<trID>`, which differs from one answer to the next.
fn without_trids(xml: &str) -> String {
    let start = xml.find("<trID>").expect("a trID");
    let end = xml.find("</trID>").expect("a trID") + "</trID>".len();
    format!("{}{}", &xml[..start], &xml[end..])
}

#[tokio::test]
async fn failure_every_refusal_for_credentials_or_standing_is_the_same_answer() {
    let mut server =
        TestServer::start_with(|s| s.limits.login_failures_per_address = 0, None).await;
    // Two more registrars presenting reg1's certificate: one suspended,
    // one terminated; reg2 may connect from another network only.
    server
        .add_registrars(
            &[
                ("susp1".into(), "susp1-pass".into()),
                ("gone1".into(), "gone1-pass".into()),
            ],
            5,
        )
        .await;
    server.stop().await;
    let data = server.settings.server.data_dir.clone();
    for args in [
        &["registrar", "suspend", "susp1"][..],
        &["registrar", "terminate", "gone1"],
        &["registrar", "allow", "reg2", "192.0.2.0/24"],
    ] {
        let (ok, _, err) = admin_in(&data, None, args);
        assert!(ok, "{args:?}: {err}");
    }
    server.restart_at(None).await;
    // (certificate presented, clID, password, what is wrong)
    let cases = [
        ("reg1", "reg1", "wrong-pass", "a wrong password"),
        ("reg1", "nobody", "whatever1", "an unknown clID"),
        (
            "reg2",
            "reg1",
            password("reg1"),
            "another registrar's certificate",
        ),
        ("reg2", "reg2", password("reg2"), "an address not allowed"),
        ("reg1", "susp1", "susp1-pass", "a suspended registrar"),
        ("reg1", "gone1", "gone1-pass", "a terminated registrar"),
    ];
    for lang in ["en", "fr"] {
        let mut first: Option<String> = None;
        let mut closing: Option<String> = None;
        for (cert, clid, pw, what) in cases {
            let mut c = server.client(cert).await;
            let login = login_xml(clid, pw, lang);
            let r = c.cmd(&login).await;
            assert_eq!(r.code(), 2200, "{what}: {}", r.xml);
            let answer = without_trids(&r.xml);
            match &first {
                None => first = Some(answer),
                Some(first) => assert_eq!(&answer, first, "{what} ({lang}) answers differently"),
            }
            // The failures count the same way: the third on a connection
            // closes it, with the same 2501.
            assert_eq!(c.cmd(&login).await.code(), 2200, "{what}");
            let r = c.cmd(&login).await;
            assert_eq!(r.code(), 2501, "{what}: {}", r.xml);
            assert!(c.is_closed().await, "{what}");
            let answer = without_trids(&r.xml);
            match &closing {
                None => closing = Some(answer),
                Some(closing) => {
                    assert_eq!(&answer, closing, "{what} ({lang}) closes differently");
                }
            }
        }
    }
    // The registrars with nothing wrong still log in.
    server.login("reg1").await;
    server.login("reg3").await;
}

#[tokio::test]
async fn failure_unknown_registrar_is_2200() {
    let server = TestServer::start().await;
    let mut c = server.client("reg1").await;
    let r = c.cmd(&login_xml("nobody", "whatever1", "en")).await;
    assert_eq!(r.code(), 2200);
}

#[tokio::test]
async fn failure_login_options_version_lang_services() {
    let server = TestServer::start().await;
    let mut c = server.client("reg1").await;
    let base = login_xml("reg1", password("reg1"), "en");
    let r = c
        .cmd(&base.replace("<version>1.0</version>", "<version>2.0</version>"))
        .await;
    assert_eq!(r.code(), 2100);
    let r = c
        .cmd(&base.replace("<lang>en</lang>", "<lang>de</lang>"))
        .await;
    assert_eq!(r.code(), 2102);
    let r = c
        .cmd(&base.replace("</svcs>", "<objURI>urn:example:widget-1.0</objURI></svcs>"))
        .await;
    assert_eq!(r.code(), 2307);
    let r = c
        .cmd(&base.replace(
            "</svcs>",
            "<svcExtension><extURI>urn:example:ext-1.0</extURI></svcExtension></svcs>",
        ))
        .await;
    assert_eq!(r.code(), 2103);
    // None of those counted as failed authentication.
    let r = c.cmd(&base).await;
    assert_eq!(r.code(), 1000);
}

#[tokio::test]
async fn success_french_session_messages() {
    let server = TestServer::start().await;
    let mut c = server.client("reg1").await;
    let r = c.cmd(&login_xml("reg1", password("reg1"), "fr")).await;
    assert_eq!(r.code(), 1000);
    assert!(
        r.xml
            .contains(r#"<msg lang="fr">Commande exécutée avec succès</msg>"#)
    );
    let r = c
        .cmd(&command(&domain_info("absent.ma", "all", None), "fr-0001"))
        .await;
    assert_eq!(r.code(), 2303);
    assert!(r.xml.contains(r#"<reason lang="fr">"#));
    assert!(r.reason().unwrap().contains("n'existe pas"));
}

#[tokio::test]
async fn success_new_password_at_login() {
    let mut server = TestServer::start().await;
    let mut c = server.client("reg1").await;
    let xml = login_xml("reg1", password("reg1"), "en")
        .replace("<options>", "<newPW>brand-new-pw</newPW><options>");
    assert_eq!(c.cmd(&xml).await.code(), 1000);
    drop(c);
    server.restart_at(None).await;
    let mut c = server.client("reg1").await;
    assert_eq!(
        c.cmd(&login_xml("reg1", password("reg1"), "en"))
            .await
            .code(),
        2200
    );
    assert_eq!(
        c.cmd(&login_xml("reg1", "brand-new-pw", "en")).await.code(),
        1000
    );
}

#[tokio::test]
async fn failure_session_limit_is_2502() {
    let server = TestServer::start_with(|s| s.limits.default_session_limit = 2, None).await;
    let _a = server.login("reg1").await;
    let _b = server.login("reg1").await;
    let mut c = server.client("reg1").await;
    let r = c.cmd(&login_xml("reg1", password("reg1"), "en")).await;
    assert_eq!(r.code(), 2502);
    assert!(c.is_closed().await);
    // Another registrar is not affected, and a freed slot can be reused.
    server.login("reg2").await;
    drop(_a);
    let mut ok = None;
    for _ in 0..50 {
        let mut c = server.client("reg1").await;
        let r = c.cmd(&login_xml("reg1", password("reg1"), "en")).await;
        if r.code() == 1000 {
            ok = Some(c);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(ok.is_some(), "a released slot was not reusable");
}

#[tokio::test]
async fn failure_unknown_command_is_2000() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let r = c.cmd(&command("<frobnicate/>", "unk-0001")).await;
    assert_eq!(r.code(), 2000);
    assert_eq!(r.text("clTRID").as_deref(), Some("unk-0001"));
}

#[tokio::test]
async fn failure_wrong_namespace_is_2001() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(r#"<epp xmlns="urn:ietf:params:xml:ns:epp-0.4"><hello/></epp>"#)
        .await;
    assert_eq!(r.code(), 2001);
    let r = c
        .cmd(&command(
            r#"<check><domain:check xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><host:name xmlns:host="urn:ietf:params:xml:ns:host-1.0">x.ma</host:name></domain:check></check>"#,
            "ns-000001",
        ))
        .await;
    assert_eq!(r.code(), 2001);
}

#[tokio::test]
async fn failure_unimplemented_object_and_extension() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let r = c
        .cmd(&command(
            r#"<check><w:check xmlns:w="urn:example:widget-1.0"><w:name>x</w:name></w:check></check>"#,
            "obj-00001",
        ))
        .await;
    assert_eq!(r.code(), 2307);
    let r = c
        .cmd(&command(
            &format!(
                "{}<extension><x:foo xmlns:x=\"urn:example:ext-1.0\"/></extension>",
                check("domain", &["exemple.ma"])
            ),
            "ext-00001",
        ))
        .await;
    assert_eq!(r.code(), 2103);
}

#[tokio::test]
async fn failure_doctype_and_entity_bomb_is_2001_and_session_survives() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><check><domain:check xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>&lol2;</domain:name></domain:check></check></command></epp>"#;
    let r = c.cmd(bomb).await;
    assert_eq!(r.code(), 2001);
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE epp [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/></epp>"#;
    assert_eq!(c.cmd(xxe).await.code(), 2001);
    let r = c
        .cmd(&command(&check("domain", &["exemple.ma"]), "after-bomb"))
        .await;
    assert_eq!(r.code(), 1000);
}

#[tokio::test]
async fn failure_malformed_xml_is_2001_with_reason() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    for bad in [
        "<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><command>",
        "not xml at all",
        "<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><hello/><hello/></epp>",
    ] {
        let r = c.cmd(bad).await;
        assert_eq!(r.code(), 2001, "{bad}");
        assert!(r.reason().is_some());
    }
}

#[tokio::test]
async fn failure_schema_violations_are_2001() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    // clTRID too short; info without name; check without names.
    assert_eq!(c.cmd(&command("<logout/>", "x")).await.code(), 2001);
    let r = c
        .cmd(&command(
            r#"<info><domain:info xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"/></info>"#,
            "schema-01",
        ))
        .await;
    assert_eq!(r.code(), 2001);
    let r = c.cmd(&command(&check("domain", &[]), "schema-02")).await;
    assert_eq!(r.code(), 2001);
}

#[tokio::test]
async fn success_unimplemented_verb_is_2101() {
    let server = TestServer::start().await;
    let mut c = server.login("reg1").await;
    let r = c.cmd(&command(r#"<poll op="req"/>"#, "poll-0001")).await;
    assert!(matches!(r.code(), 2101 | 1300 | 1301), "{}", r.xml);
}

#[tokio::test]
async fn success_sv_trids_are_unique_across_sessions_and_restarts() {
    let mut server = TestServer::start().await;
    let mut seen = HashSet::new();
    for _ in 0..2 {
        let mut c = server.login("reg1").await;
        for i in 0..5 {
            let r = c
                .cmd(&command(
                    &check("domain", &["exemple.ma"]),
                    &format!("t-{i:04}"),
                ))
                .await;
            assert!(seen.insert(r.text("svTRID").unwrap()), "svTRID reused");
        }
        drop(c);
        server.restart_at(None).await;
    }
}
