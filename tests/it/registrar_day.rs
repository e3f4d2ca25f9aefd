//! A registrar's working day through a third-party client, instant-epp 0.5:
//! contacts and hosts, a DNSSEC-signed domain, name server and status
//! changes, a renewal, the refusals a careful registrar meets, and the
//! clean-up in the order the associations require (the domain's deletion
//! goes through its R11 redemption before its contacts are free). Every
//! frame the client receives is recorded under TLS and validated against
//! `schemas/`.

use std::borrow::Cow;
use std::fmt::Debug;
use std::net::IpAddr;

use chrono::Months;
use instant_epp::contact::{
    Address, ContactCheck, ContactCreate, ContactDelete, InfoType, PostalInfo, Voice,
};
use instant_epp::domain::update::{DomainAdd, DomainRemove};
use instant_epp::domain::{
    self, DomainCheck, DomainContact, DomainCreate, DomainDelete, DomainInfo, DomainRenew,
    DomainUpdate, HostObj, NameServers, Period, PeriodLength,
};
use instant_epp::extensions::secdns::{self, Algorithm, CreateData, DigestAlgorithm, DsDataType};
use instant_epp::host::{HostCheck, HostCreate, HostDelete};
use instant_epp::login::Login;
use instant_epp::logout::Logout;
use instant_epp::response::ResultCode;

use crate::harness::*;
use crate::ma_extension::registrant;
use crate::recording::{client_for, validate_received};

const MA_NS: &str = "http://www.anrt.ma/epp/ma-1.0";

/// The result code of a command the server refused.
fn refusal<T: Debug>(result: Result<T, instant_epp::Error>) -> ResultCode {
    match result {
        Err(instant_epp::Error::Command(status)) => status.result.code,
        Err(other) => panic!("expected a command error, got {other}"),
        Ok(rsp) => panic!("expected a refusal, got {rsp:?}"),
    }
}

fn host_obj(name: &str) -> domain::HostInfo<'_> {
    domain::HostInfo::Obj(HostObj { name: name.into() })
}

fn contact<'a>(id: &'a str, cc: &str) -> ContactCreate<'a> {
    let address = Address::new(
        &["12 rue Ibn Sina"],
        "Rabat",
        None,
        Some("10000"),
        cc.parse().unwrap(),
    );
    let postal = PostalInfo::new(
        InfoType::Local,
        "Youssef Alaoui",
        Some("Atlas Web"),
        address,
    );
    ContactCreate::new(
        id,
        "youssef@example.ma",
        postal,
        Some(Voice::new("+212.661123456")),
        "Cnt-Auth-2024",
    )
}

const DIGEST_1: &str = "2BB183AF5F22588179A53B0A98631FAD1A292118DFD95F2B1EEC2E1AE5B28C54";
const DIGEST_2: &str = "6F4A0E2D9B1C7A5E3D8F0B2C4E6A8D0F1B3C5E7A9D0F2B4C6E8A0D1F3B5C7E9A";

#[tokio::test]
async fn success_a_registrar_day_through_instant_epp() {
    let mut server = TestServer::start_at("2025-03-10T09:00:00Z").await;
    let (mut client, received) = client_for(&server, "reg1").await;
    let mut responses = 0;

    // Morning: log in, selecting DNSSEC.
    let login = Login::new(
        "reg1",
        password("reg1"),
        None,
        Some(&[secdns::XMLNS, MA_NS]),
    );
    let rsp = client.transact(&login, "day-login").await.unwrap();
    assert_eq!(rsp.result.code, ResultCode::CommandCompletedSuccessfully);
    responses += 1;

    // A new customer: the registrant (Moroccan, also the admin contact), whose
    // identity document (R15) travels in the .ma extension that instant-epp
    // does not model, so that create goes raw …
    let r = Resp::new(
        client
            .transact_xml(&command(&registrant("day-owner", "MA"), "day-owner"))
            .await
            .unwrap(),
    );
    assert_eq!(r.code(), 1000, "{}", r.xml);
    responses += 1;
    // … and its web agency as technical contact, based abroad.
    let rsp = client
        .transact(&contact("day-tech", "FR"), "day-contact")
        .await
        .unwrap();
    assert_eq!(rsp.res_data().unwrap().id, "day-tech");
    responses += 1;

    // The agency's name servers, outside the registry's zones.
    for name in ["ns1.example.net", "ns2.example.net"] {
        let rsp = client
            .transact(&HostCreate::new(name, None), "day-host")
            .await
            .unwrap();
        assert_eq!(rsp.res_data().unwrap().name, name);
        responses += 1;
    }

    // Is the name free?
    let rsp = client
        .transact(
            &DomainCheck {
                domains: &["journee.ma"],
            },
            "day-check",
        )
        .await
        .unwrap();
    assert!(rsp.res_data().unwrap().list[0].name.available);
    responses += 1;

    // Register it for one year, signed.
    let ns = [host_obj("ns1.example.net")];
    let contacts = [
        DomainContact {
            contact_type: "admin".into(),
            id: "day-owner".into(),
        },
        DomainContact {
            contact_type: "tech".into(),
            id: "day-tech".into(),
        },
    ];
    let create = DomainCreate::new(
        "journee.ma",
        Period::Years(PeriodLength::new(1).unwrap()),
        Some(&ns),
        Some("day-owner"),
        "Dom-Auth-2024",
        Some(&contacts),
    );
    let ds = [DsDataType::new(
        12345,
        Algorithm::EcdsaP256Sha256,
        DigestAlgorithm::Sha256,
        DIGEST_1,
        None,
    )];
    let signed = CreateData::from(ds.as_ref());
    let rsp = client
        .transact((&create, &signed), "day-create")
        .await
        .unwrap();
    let created = rsp.res_data().unwrap();
    assert_eq!(created.name, "journee.ma");
    let expiry = created.expiring_at.unwrap();
    assert_eq!(
        Some(expiry),
        created.created_at.checked_add_months(Months::new(12))
    );
    responses += 1;

    // The DS record is on the domain: instant-epp has no secDNS:infData
    // type, so read it from the raw answer.
    let info_xml = command(
        r#"<info><domain:info xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>journee.ma</domain:name></domain:info></info>"#,
        "day-ds-info",
    );
    let r = Resp::new(client.transact_xml(&info_xml).await.unwrap());
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert_eq!(r.texts("keyTag"), ["12345"]);
    assert_eq!(r.texts("digest"), [DIGEST_1]);
    assert!(r.texts("extValue").is_empty(), "{}", r.xml);
    responses += 1;

    // Midday: the customer wants its own name server, inside its domain.
    let glue: [IpAddr; 2] = [
        "192.0.2.53".parse().unwrap(),
        "2001:db8::53".parse().unwrap(),
    ];
    let rsp = client
        .transact(&HostCreate::new("ns1.journee.ma", Some(&glue)), "day-glue")
        .await
        .unwrap();
    assert_eq!(rsp.res_data().unwrap().name, "ns1.journee.ma");
    responses += 1;

    // Move the delegation to it and the agency's second server, and lock the
    // domain against deletion and transfer.
    let mut update = DomainUpdate::new("journee.ma");
    let add_ns = [host_obj("ns1.journee.ma"), host_obj("ns2.example.net")];
    let locks = [
        domain::Status::ClientDeleteProhibited,
        domain::Status::ClientTransferProhibited,
    ];
    update.add(DomainAdd {
        ns: Some(NameServers {
            ns: Cow::Borrowed(&add_ns),
        }),
        contacts: None,
        statuses: Some(&locks),
    });
    let rem_ns = [host_obj("ns1.example.net")];
    update.remove(DomainRemove {
        ns: Some(NameServers {
            ns: Cow::Borrowed(&rem_ns),
        }),
        contacts: None,
        statuses: None,
    });
    let rsp = client.transact(&update, "day-update").await.unwrap();
    assert_eq!(rsp.result.code, ResultCode::CommandCompletedSuccessfully);
    responses += 1;

    // A key rollover: instant-epp has no secDNS:update, so send it raw.
    let rollover = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>journee.ma</domain:name></domain:update></update><extension><secDNS:update xmlns:secDNS="urn:ietf:params:xml:ns:secDNS-1.1"><secDNS:rem><secDNS:dsData><secDNS:keyTag>12345</secDNS:keyTag><secDNS:alg>13</secDNS:alg><secDNS:digestType>2</secDNS:digestType><secDNS:digest>{DIGEST_1}</secDNS:digest></secDNS:dsData></secDNS:rem><secDNS:add><secDNS:dsData><secDNS:keyTag>54321</secDNS:keyTag><secDNS:alg>13</secDNS:alg><secDNS:digestType>2</secDNS:digestType><secDNS:digest>{DIGEST_2}</secDNS:digest></secDNS:dsData></secDNS:add></secDNS:update></extension><clTRID>day-rollover</clTRID></command></epp>"#
    );
    let r = Resp::new(client.transact_xml(&rollover).await.unwrap());
    assert_eq!(r.code(), 1000, "{}", r.xml);
    responses += 1;

    // Check the result. instant-epp's DomainInfo cannot read a response
    // whose <extension> holds data it does not model (the secDNS:infData
    // this session asked for), so read the raw answer.
    let r = Resp::new(client.transact_xml(&info_xml).await.unwrap());
    assert_eq!(r.code(), 1000, "{}", r.xml);
    assert_eq!(r.texts("hostObj"), ["ns1.journee.ma", "ns2.example.net"]);
    assert_eq!(r.texts("host"), ["ns1.journee.ma"]);
    assert_eq!(
        r.attrs("status", "s"),
        ["clientDeleteProhibited", "clientTransferProhibited"]
    );
    assert_eq!(r.text("registrant").as_deref(), Some("day-owner"));
    assert_eq!(r.text("upID").as_deref(), Some("reg1"));
    assert_eq!(r.texts("keyTag"), ["54321"]);
    responses += 1;

    // Afternoon: the customer pays for two more years.
    let renew = DomainRenew::new(
        "journee.ma",
        expiry.date_naive(),
        Period::Years(PeriodLength::new(2).unwrap()),
    );
    let rsp = client.transact(&renew, "day-renew").await.unwrap();
    let renewed = rsp.res_data().unwrap();
    assert_eq!(renewed.name, "journee.ma");
    assert_eq!(
        renewed.expiring_at,
        expiry.checked_add_months(Months::new(24))
    );
    responses += 1;

    // Things the registry refuses.
    let code = refusal(
        client
            .transact(&ContactDelete::new("day-owner"), "day-no-1")
            .await,
    );
    assert_eq!(code, ResultCode::ObjectAssociationProhibitsOperation);
    responses += 1;
    let code = refusal(
        client
            .transact(&HostDelete::new("ns2.example.net"), "day-no-2")
            .await,
    );
    assert_eq!(code, ResultCode::ObjectAssociationProhibitsOperation);
    responses += 1;
    let code = refusal(
        client
            .transact(&DomainDelete::new("journee.ma"), "day-no-3")
            .await,
    );
    assert_eq!(code, ResultCode::ObjectStatusProhibitsOperation);
    responses += 1;

    // Evening: the customer closes the project. Lift the delete lock and
    // take the name servers off the domain …
    let mut unlock = DomainUpdate::new("journee.ma");
    let lift = [domain::Status::ClientDeleteProhibited];
    let off = [host_obj("ns1.journee.ma"), host_obj("ns2.example.net")];
    unlock.remove(DomainRemove {
        ns: Some(NameServers {
            ns: Cow::Borrowed(&off),
        }),
        contacts: None,
        statuses: Some(&lift),
    });
    let rsp = client.transact(&unlock, "day-unlock").await.unwrap();
    assert_eq!(rsp.result.code, ResultCode::CommandCompletedSuccessfully);
    responses += 1;

    // … delete the customer's own name server …
    let rsp = client
        .transact(&HostDelete::new("ns1.journee.ma"), "day-glue-delete")
        .await
        .unwrap();
    assert_eq!(rsp.result.code, ResultCode::CommandCompletedSuccessfully);
    responses += 1;

    // … delete the domain: it enters its 30-day redemption (R11) …
    let rsp = client
        .transact(&DomainDelete::new("journee.ma"), "day-delete")
        .await
        .unwrap();
    assert_eq!(
        rsp.result.code,
        ResultCode::CommandCompletedSuccessfullyActionPending
    );
    responses += 1;

    // … then the agency's hosts, which no domain uses any more.
    for name in ["ns1.example.net", "ns2.example.net"] {
        let rsp = client
            .transact(&HostDelete::new(name), "day-host-delete")
            .await
            .unwrap();
        assert_eq!(rsp.result.code, ResultCode::CommandCompletedSuccessfully);
        responses += 1;
    }

    // The contacts stay linked to the domain while it may still be restored.
    let code = refusal(
        client
            .transact(&ContactDelete::new("day-owner"), "day-no-4")
            .await,
    );
    assert_eq!(code, ResultCode::ObjectAssociationProhibitsOperation);
    responses += 1;

    let rsp = client.transact(&Logout, "day-logout").await.unwrap();
    assert_eq!(
        rsp.result.code,
        ResultCode::CommandCompletedSuccessfullyEndingSession
    );
    responses += 1;

    // The greeting and every response, all valid.
    let frames = validate_received(&received);
    assert_eq!(frames.len(), 1 + responses, "{frames:#?}");
    drop(client);

    // A month later the registry has purged the domain: the contacts can go,
    // and every name is free again.
    server.restart_at(Some("2025-04-11T09:00:00Z")).await;
    let (mut client, received) = client_for(&server, "reg1").await;
    let login = Login::new("reg1", password("reg1"), None, None);
    client.transact(&login, "day2-login").await.unwrap();
    for id in ["day-owner", "day-tech"] {
        let rsp = client
            .transact(&ContactDelete::new(id), "day2-contact-delete")
            .await
            .unwrap();
        assert_eq!(rsp.result.code, ResultCode::CommandCompletedSuccessfully);
    }
    let rsp = client
        .transact(
            &DomainCheck {
                domains: &["journee.ma"],
            },
            "day2-check-1",
        )
        .await
        .unwrap();
    assert!(rsp.res_data().unwrap().list[0].name.available);
    let hosts = ["ns1.journee.ma", "ns1.example.net", "ns2.example.net"];
    let rsp = client
        .transact(&HostCheck { hosts: &hosts }, "day2-check-2")
        .await
        .unwrap();
    assert!(
        rsp.res_data()
            .unwrap()
            .list
            .iter()
            .all(|h| h.name.available)
    );
    let ids = ["day-owner", "day-tech"];
    let rsp = client
        .transact(&ContactCheck { contact_ids: &ids }, "day2-check-3")
        .await
        .unwrap();
    assert!(rsp.res_data().unwrap().list.iter().all(|c| c.id.available));
    client.transact(&Logout, "day2-logout").await.unwrap();

    // Greeting, login, two deletes, three checks, logout.
    let frames = validate_received(&received);
    assert_eq!(frames.len(), 8, "{frames:#?}");
}

#[tokio::test]
async fn success_a_session_without_secdns_reads_a_signed_domain_with_instant_epp() {
    let server = TestServer::start().await;

    // The registrar's provisioning session selects DNSSEC and signs a domain.
    let (mut provisioning, _) = client_for(&server, "reg1").await;
    let login = Login::new("reg1", password("reg1"), None, Some(&[secdns::XMLNS]));
    provisioning.transact(&login, "mon-login-1").await.unwrap();
    let r = Resp::new(
        provisioning
            .transact_xml(&command(&registrant("mon-owner", "MA"), "mon-owner"))
            .await
            .unwrap(),
    );
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let create = DomainCreate::new(
        "surveille.ma",
        Period::Years(PeriodLength::new(1).unwrap()),
        None,
        Some("mon-owner"),
        "Dom-Auth-2024",
        None,
    );
    let ds = [DsDataType::new(
        12345,
        Algorithm::EcdsaP256Sha256,
        DigestAlgorithm::Sha256,
        DIGEST_1,
        None,
    )];
    let signed = CreateData::from(ds.as_ref());
    provisioning
        .transact((&create, &signed), "mon-create")
        .await
        .unwrap();

    // Its monitoring tool logs in without DNSSEC: RFC 9038 moves the DS data
    // into <extValue>, so the typed DomainInfo still reads the answer.
    let (mut monitor, received) = client_for(&server, "reg1").await;
    let login = Login::new("reg1", password("reg1"), None, None);
    monitor.transact(&login, "mon-login-2").await.unwrap();
    let rsp = monitor
        .transact(&DomainInfo::new("surveille.ma", None), "mon-info")
        .await
        .unwrap();
    assert_eq!(rsp.result.code, ResultCode::CommandCompletedSuccessfully);
    assert_eq!(rsp.res_data().unwrap().name, "surveille.ma");
    let reasons: Vec<&str> = rsp
        .result
        .ext_values
        .iter()
        .map(|v| v.reason.text.as_str())
        .collect();
    assert_eq!(
        reasons,
        ["urn:ietf:params:xml:ns:secDNS-1.1 not in login services"]
    );
    assert!(rsp.extension().is_none());

    let frames = validate_received(&received);
    assert_eq!(frames.len(), 3, "{frames:#?}");
}
