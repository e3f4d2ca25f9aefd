//! The server through a third-party client, instant-epp 0.5: its typed
//! requests must be accepted and every response it receives must be valid
//! against `schemas/` (the bytes are recorded under TLS and re-framed here).

use chrono::Months;
use instant_epp::contact::{
    self, Address, ContactCreate, ContactInfo, InfoType, PostalInfo, Voice,
};
use instant_epp::domain::{
    self, DomainCheck, DomainContact, DomainCreate, DomainInfo, HostObj, Period, PeriodLength,
};
use instant_epp::host::{self, HostCreate, HostInfo};
use instant_epp::login::Login;
use instant_epp::logout::Logout;
use instant_epp::response::ResultCode;

use crate::harness::*;
use crate::recording::{client_for, validate_received};

#[tokio::test]
async fn success_instant_epp_walk_with_every_response_valid() {
    let server = TestServer::start().await;
    let (mut client, received) = client_for(&server, "reg1").await;

    // Greeting.
    let greeting = client.greeting().unwrap();
    assert_eq!(greeting.service_id, "ma-registry");
    assert_eq!(greeting.svc_menu.version, "1.0");
    assert_eq!(greeting.svc_menu.langs, ["en", "fr"]);
    for uri in [domain::XMLNS, contact::XMLNS, host::XMLNS] {
        assert!(
            greeting.svc_menu.services.obj_uris.iter().any(|u| u == uri),
            "{uri} not in the greeting"
        );
    }

    // Login.
    let login = Login::new("reg1", password("reg1"), None, None);
    let rsp = client.transact(&login, "inst-login").await.unwrap();
    assert_eq!(rsp.result.code, ResultCode::CommandCompletedSuccessfully);
    assert_eq!(rsp.tr_ids.client_tr_id.as_deref(), Some("inst-login"));

    // Contact create.
    let address = Address::new(
        &["12 rue Ibn Sina"],
        "Rabat",
        None,
        Some("10000"),
        "MA".parse().unwrap(),
    );
    let postal = PostalInfo::new(
        InfoType::Local,
        "Fatima Zahra El Idrissi",
        Some("Société Atlas"),
        address,
    );
    let create = ContactCreate::new(
        "inst-c1",
        "fz@example.ma",
        postal,
        Some(Voice::new("+212.537123456")),
        "Cnt-Auth-2024",
    );
    let rsp = client.transact(&create, "inst-contact").await.unwrap();
    assert_eq!(rsp.res_data().unwrap().id, "inst-c1");
    // The contact carries no .ma extension: the registry records its
    // identity document (R15) before it can hold a domain.
    let run = admin_live(
        &server,
        &[],
        None,
        &[
            "contact", "identity", "inst-c1", "--type", "cin", "--number", "BE123456",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);

    // Host create: an external host, so no address.
    let rsp = client
        .transact(&HostCreate::new("ns1.example.net", None), "inst-host")
        .await
        .unwrap();
    assert_eq!(rsp.res_data().unwrap().name, "ns1.example.net");

    // Domain check: free.
    let check = DomainCheck {
        domains: &["instant.ma"],
    };
    let rsp = client.transact(&check, "inst-check").await.unwrap();
    let list = &rsp.res_data().unwrap().list;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name.value, "instant.ma");
    assert!(list[0].name.available);
    assert!(list[0].reason.is_none());

    // Domain create for two years.
    let ns = [domain::HostInfo::Obj(HostObj {
        name: "ns1.example.net".into(),
    })];
    let contacts = [
        DomainContact {
            contact_type: "admin".into(),
            id: "inst-c1".into(),
        },
        DomainContact {
            contact_type: "tech".into(),
            id: "inst-c1".into(),
        },
    ];
    let create = DomainCreate::new(
        "instant.ma",
        Period::Years(PeriodLength::new(2).unwrap()),
        Some(&ns),
        Some("inst-c1"),
        "Dom-Auth-2024",
        Some(&contacts),
    );
    let rsp = client.transact(&create, "inst-domain").await.unwrap();
    let created = rsp.res_data().unwrap();
    assert_eq!(created.name, "instant.ma");
    assert_eq!(
        created.expiring_at,
        created.created_at.checked_add_months(Months::new(24))
    );

    // Domain check: taken now.
    let rsp = client.transact(&check, "inst-check-2").await.unwrap();
    let list = &rsp.res_data().unwrap().list;
    assert!(!list[0].name.available);
    assert_eq!(
        list[0].reason.as_ref().map(|r| r.value.as_str()),
        Some("In use")
    );

    // Domain info: the sponsor's full view.
    let rsp = client
        .transact(&DomainInfo::new("instant.ma", None), "inst-dinfo")
        .await
        .unwrap();
    let info = rsp.res_data().unwrap();
    assert_eq!(info.name, "instant.ma");
    assert_eq!(info.registrant.as_deref(), Some("inst-c1"));
    let contact_ids: Vec<(&str, &str)> = info
        .contacts
        .iter()
        .flatten()
        .map(|c| (c.contact_type.as_ref(), c.id.as_ref()))
        .collect();
    assert_eq!(contact_ids, [("admin", "inst-c1"), ("tech", "inst-c1")]);
    let servers: Vec<&str> = info
        .ns
        .iter()
        .flat_map(|ns| ns.ns.iter())
        .map(|h| match h {
            domain::HostInfo::Obj(obj) => obj.name.as_ref(),
            domain::HostInfo::Attr(attr) => attr.name.as_ref(),
        })
        .collect();
    assert_eq!(servers, ["ns1.example.net"]);
    assert_eq!(info.statuses.as_deref(), Some(&[domain::Status::Ok][..]));
    assert_eq!(info.client_id, "reg1");
    assert_eq!(info.creator_id.as_deref(), Some("reg1"));
    assert!(info.auth_info.is_none());

    // Host info: linked now.
    let rsp = client
        .transact(&HostInfo::new("ns1.example.net"), "inst-hinfo")
        .await
        .unwrap();
    let info = rsp.res_data().unwrap();
    assert_eq!(info.name, "ns1.example.net");
    assert!(info.addresses.is_empty());
    assert!(
        info.statuses.contains(&host::Status::Linked),
        "{:?}",
        info.statuses
    );
    assert_eq!(info.client_id, "reg1");

    // Contact info: linked now, no authInfo in the answer.
    let rsp = client
        .transact(&ContactInfo::new("inst-c1", "Cnt-Auth-2024"), "inst-cinfo")
        .await
        .unwrap();
    let info = rsp.res_data().unwrap();
    assert_eq!(info.id, "inst-c1");
    assert_eq!(info.email, "fz@example.ma");
    assert_eq!(info.postal_info.name, "Fatima Zahra El Idrissi");
    assert_eq!(info.postal_info.address.city, "Rabat");
    assert_eq!(info.postal_info.address.country.alpha2, "MA");
    assert_eq!(
        info.voice.as_ref().map(|v| v.number.as_ref()),
        Some("+212.537123456")
    );
    assert!(
        info.statuses.contains(&contact::Status::Linked),
        "{:?}",
        info.statuses
    );
    assert!(info.auth_info.is_none());

    // Logout.
    let rsp = client.transact(&Logout, "inst-logout").await.unwrap();
    assert_eq!(
        rsp.result.code,
        ResultCode::CommandCompletedSuccessfullyEndingSession
    );

    // Every frame received: the greeting and ten responses.
    let frames = validate_received(&received);
    assert_eq!(frames.len(), 11, "{frames:#?}");
    assert_eq!(frames[0], client.xml_greeting());
}

#[tokio::test]
async fn failure_instant_epp_login_with_a_wrong_password_is_2200() {
    let server = TestServer::start().await;
    let (mut client, received) = client_for(&server, "reg1").await;

    let login = Login::new("reg1", "not-the-pass", None, None);
    match client.transact(&login, "inst-bad-login").await {
        Err(instant_epp::Error::Command(status)) => {
            assert_eq!(status.result.code, ResultCode::AuthenticationError);
            assert_eq!(
                status.tr_ids.client_tr_id.as_deref(),
                Some("inst-bad-login")
            );
        }
        Err(other) => panic!("expected a command error, got {other}"),
        Ok(rsp) => panic!("a wrong password logged in: {:?}", rsp.result),
    }

    let frames = validate_received(&received);
    assert_eq!(frames.len(), 2, "{frames:#?}");
}
