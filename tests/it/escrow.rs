//! Data escrow (RFC 8909, RFC 9022): a deposit written from a running
//! server through its admin socket, checked for its structure and counts,
//! loaded into a new data directory, and served again with the same data.

use std::path::{Path, PathBuf};

use crate::harness::*;

const NOW: &str = "2031-05-01T10:00:00Z";
/// When the deposit is loaded again: after its watermark.
const LATER: &str = "2031-05-01T12:00:00Z";
const RDE: &str = "urn:ietf:params:xml:ns:rde-1.0";
const RDE_DOMAIN: &str = "urn:ietf:params:xml:ns:rdeDomain-1.0";
const RDE_HOST: &str = "urn:ietf:params:xml:ns:rdeHost-1.0";
const RDE_CONTACT: &str = "urn:ietf:params:xml:ns:rdeContact-1.0";
const RDE_REGISTRAR: &str = "urn:ietf:params:xml:ns:rdeRegistrar-1.0";
const RDE_HEADER: &str = "urn:ietf:params:xml:ns:rdeHeader-1.0";

fn update_add(name: &str, add: &str) -> String {
    format!(
        r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>{name}</domain:name><domain:add>{add}</domain:add></domain:update></update>"#
    )
}

/// What domain:info says about a domain, for comparisons.
fn facts(r: &Resp) -> Vec<(String, Vec<String>)> {
    let mut statuses = r.attrs("status", "s");
    statuses.sort();
    [
        "name",
        "roid",
        "clID",
        "crID",
        "crDate",
        "exDate",
        "upDate",
        "registrant",
    ]
    .iter()
    .map(|f| ((*f).to_owned(), r.texts(f)))
    .chain([
        ("status".to_owned(), statuses),
        ("hostObj".to_owned(), r.texts("hostObj")),
        ("contact".to_owned(), r.texts("contact")),
    ])
    .collect()
}

fn deposit_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn success_deposit_from_a_running_server_restores_into_a_new_data_dir() {
    let server = TestServer::start_at(NOW).await;
    let mut c = server.login("reg1").await;
    for (body, id) in [
        (contact_create("esc-holder", "MA"), "e-c1"),
        (contact_create_bare("esc-tech", "FR"), "e-c2"),
        (host_create("ns1.example.net", &[]), "e-h1"),
        (
            domain_create_full(
                "escrow.ma",
                "esc-holder",
                r#"<domain:period unit="y">2</domain:period>"#,
                &["ns1.example.net"],
            ),
            "e-d1",
        ),
        (
            host_create("ns1.escrow.ma", &["192.0.2.10", "2001:db8::10"]),
            "e-h2",
        ),
        (
            update_add(
                "escrow.ma",
                r#"<domain:ns><domain:hostObj>ns1.escrow.ma</domain:hostObj></domain:ns><domain:contact type="tech">esc-tech</domain:contact><domain:status s="clientTransferProhibited"/>"#,
            ),
            "e-u1",
        ),
        (
            domain_create_full("autre.ma", "esc-holder", "", &["ns1.escrow.ma"]),
            "e-d2",
        ),
        (domain_create("sans-ns.co.ma", "esc-holder", ""), "e-d3"),
    ] {
        let r = c.cmd(&command(&body, id)).await;
        assert_eq!(r.code(), 1000, "{id}: {}", r.xml);
    }
    let mut before = Vec::new();
    for name in ["escrow.ma", "autre.ma", "sans-ns.co.ma"] {
        let r = c
            .cmd(&command(&domain_info(name, "all", None), "e-i"))
            .await;
        assert_eq!(r.code(), 1000);
        before.push(facts(&r));
    }
    // A registrar the restored registry will know without credentials.
    let pem = server.cert_pem_file("reg3");
    let run = admin_live(
        &server,
        &[],
        Some("atlas-pw-1\n"),
        &[
            "registrar",
            "add",
            "atlas",
            "--name",
            "Atlas Domaines",
            "--password-stdin",
            "--cert",
            pem.to_str().unwrap(),
            "--street",
            "12 avenue Hassan II",
            "--city",
            "Rabat",
            "--pc",
            "10000",
            "--cc",
            "ma",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("deposits");
    let dir_arg = dir.to_str().unwrap();
    let run = admin_live(&server, &[], None, &["escrow", "export", "--dir", dir_arg]).await;
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    assert!(
        run.out
            .contains("3 domains, 2 hosts, 2 contacts (1 identity documents), 4 registrars"),
        "{}",
        run.out
    );
    // RFC 9022 wants a registrar's postal address: the operator is told
    // which registrars lack one.
    for clid in ["reg1", "reg2", "reg3"] {
        assert!(
            run.err
                .contains(&format!("registrar {clid} has no postal address")),
            "{}",
            run.err
        );
    }
    assert!(!run.err.contains("registrar atlas has"), "{}", run.err);
    let again = admin_live(&server, &[], None, &["escrow", "export", "--dir", dir_arg]).await;
    assert_eq!(again.code, 0, "{}", again.err);
    let files = deposit_in(&dir);
    let xml = std::fs::read_to_string(&files[0]).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let rde_registrar = "urn:ietf:params:xml:ns:rdeRegistrar-1.0";
    let atlas = doc
        .descendants()
        .filter(|n| n.has_tag_name((rde_registrar, "registrar")))
        .find(|n| {
            n.children()
                .any(|c| c.has_tag_name((rde_registrar, "id")) && c.text() == Some("atlas"))
        })
        .expect("atlas in the deposit");
    let tags: Vec<&str> = atlas
        .children()
        .filter(|c| c.is_element())
        .map(|c| c.tag_name().name())
        .collect();
    let (status, postal) = (
        tags.iter().position(|t| *t == "status").unwrap(),
        tags.iter().position(|t| *t == "postalInfo").unwrap(),
    );
    assert!(
        status < postal,
        "postalInfo follows status (RFC 9022): {tags:?}"
    );
    let addr: Vec<(String, String)> = atlas
        .descendants()
        .filter(|n| {
            n.is_element()
                && n.parent()
                    .is_some_and(|p| p.has_tag_name((rde_registrar, "addr")))
        })
        .map(|n| {
            (
                n.tag_name().name().to_owned(),
                n.text().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        addr,
        [
            ("street", "12 avenue Hassan II"),
            ("city", "Rabat"),
            ("pc", "10000"),
            ("cc", "MA")
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "ma_2031-05-01_full_S1_R0.xml",
            "ma_2031-05-01_full_S1_R1.xml"
        ],
        "one file per deposit, nothing left half-written"
    );
    let file = files[0].clone();
    let xml = std::fs::read_to_string(&file).unwrap();
    for secret in ["Dom-Auth-2024", "Cnt-Auth-2024", "authInfo", "atlas-pw-1"] {
        assert!(!xml.contains(secret), "the deposit holds {secret}");
    }
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert!(root.has_tag_name((RDE, "deposit")));
    assert_eq!(root.attribute("type"), Some("FULL"));
    let text_of = |ns: &str, name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name((ns, name)))
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        text_of(RDE, "watermark").starts_with("2031-05-01T10:"),
        "the server's clock"
    );
    let menu: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name((RDE, "objURI")))
        .filter_map(|n| n.text())
        .collect();
    for uri in [RDE_HEADER, RDE_DOMAIN, RDE_HOST, RDE_CONTACT, RDE_REGISTRAR] {
        assert!(menu.contains(&uri), "{uri} not in the menu");
    }
    let contents = doc
        .descendants()
        .find(|n| n.has_tag_name((RDE, "contents")))
        .unwrap();
    let count = |ns: &str, name: &str| {
        contents
            .children()
            .filter(|n| n.has_tag_name((ns, name)))
            .count()
    };
    let found = [
        (RDE_DOMAIN, count(RDE_DOMAIN, "domain")),
        (RDE_HOST, count(RDE_HOST, "host")),
        (RDE_CONTACT, count(RDE_CONTACT, "contact")),
        (RDE_REGISTRAR, count(RDE_REGISTRAR, "registrar")),
    ];
    assert_eq!(
        found.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        vec![3, 2, 2, 4]
    );
    for (uri, n) in found {
        let header = doc
            .descendants()
            .find(|c| c.has_tag_name((RDE_HEADER, "count")) && c.attribute("uri") == Some(uri))
            .and_then(|c| c.text())
            .unwrap_or_default();
        assert_eq!(header, n.to_string(), "header count of {uri}");
    }
    assert_eq!(text_of(RDE_HEADER, "tld"), "ma");
    let escrow = contents
        .children()
        .find(|n| {
            n.has_tag_name((RDE_DOMAIN, "domain"))
                && n.children()
                    .any(|c| c.has_tag_name((RDE_DOMAIN, "name")) && c.text() == Some("escrow.ma"))
        })
        .unwrap();
    let children: Vec<&str> = escrow
        .children()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name())
        .collect();
    assert_eq!(
        children,
        [
            "name",
            "roid",
            "status",
            "registrant",
            "contact",
            "contact",
            "contact",
            "ns",
            "clID",
            "crRr",
            "crDate",
            "exDate",
            "upRr",
            "upDate"
        ],
        "RFC 9022 order"
    );

    // Into a new data directory, with the server stopped there.
    let fresh = tempfile::tempdir().unwrap();
    let data = fresh.path().join("data");
    let file_arg = file.to_str().unwrap();
    let (ok, out, err) = admin_in(
        &data,
        Some(LATER),
        &["--json", "escrow", "import", file_arg],
    );
    assert!(ok, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    for (kind, n) in [
        ("registrars", 4),
        ("contacts", 2),
        ("hosts", 2),
        ("domains", 3),
    ] {
        assert_eq!(report["report"][kind]["loaded"], n, "{kind}: {out}");
        assert_eq!(report["report"][kind]["rejected"], 0, "{kind}: {out}");
    }
    assert_eq!(
        report["report"]["registrars_without_credentials"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let (ok, _, err) = admin_in(&data, Some(LATER), &["escrow", "import", file_arg]);
    assert!(!ok);
    assert!(err.contains("empty store"), "{err}");

    // The registry runs again on it; the test registrars get their
    // credentials (as `registrar passwd` and `cert add` would give them).
    let restored = TestServer::start_with(|s| s.server.data_dir = data.clone(), Some(LATER)).await;
    let shown = admin_live(
        &restored,
        &[],
        None,
        &["--json", "registrar", "show", "atlas"],
    )
    .await;
    assert_eq!(shown.code, 0, "{}", shown.err);
    let shown: serde_json::Value = serde_json::from_str(&shown.out).unwrap();
    assert_eq!(shown["address"]["city"], "Rabat", "{shown}");
    assert_eq!(shown["address"]["cc"], "MA", "{shown}");
    assert_eq!(shown["address"]["street"][0], "12 avenue Hassan II");
    let mut c = restored.login("reg1").await;
    for (name, expected) in ["escrow.ma", "autre.ma", "sans-ns.co.ma"]
        .iter()
        .zip(&before)
    {
        let r = c
            .cmd(&command(&domain_info(name, "all", None), "r-i"))
            .await;
        assert_eq!(r.code(), 1000, "{}", r.xml);
        assert_eq!(&facts(&r), expected, "{name}");
    }
    let r = c
        .cmd(&command(
            r#"<info><host:info xmlns:host="urn:ietf:params:xml:ns:host-1.0"><host:name>ns1.escrow.ma</host:name></host:info></info>"#,
            "r-h",
        ))
        .await;
    assert_eq!(r.code(), 1000);
    assert_eq!(r.texts("addr"), ["192.0.2.10", "2001:db8::10"]);
    let r = c
        .cmd(&command(
            r#"<info><contact:info xmlns:contact="urn:ietf:params:xml:ns:contact-1.0"><contact:id>esc-holder</contact:id></contact:info></info>"#,
            "r-c",
        ))
        .await;
    assert_eq!(r.code(), 1000);
    assert_eq!(r.text("number").as_deref(), Some("BE123456"), "{}", r.xml);
    // A registrar restored without credentials cannot log in.
    let mut other = restored.client("reg3").await;
    let r = other.cmd(&login_xml("atlas", "atlas-pw-1", "en")).await;
    assert_eq!(r.code(), 2200, "{}", r.xml);
    // New objects get roids the deposit's never had.
    let r = c
        .cmd(&command(
            &domain_create("nouveau.ma", "esc-holder", ""),
            "r-d",
        ))
        .await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    let r = c
        .cmd(&command(&domain_info("nouveau.ma", "all", None), "r-i2"))
        .await;
    let roid = r.text("roid").unwrap();
    assert!(
        before.iter().all(|f| f[1].1 != [roid.clone()]),
        "{roid} repeats an imported roid"
    );
}
