//! RDAP (RFC 7480–7484, 9082, 9083) over real HTTP against the running
//! server: every path, the R16 fields of a domain with name servers, glue
//! and DS data, free, reserved (R4), blocked (R5) and disputed (R18)
//! names, disclosure, IDNs, search, errors, HEAD, CORS, the rate limit and
//! the connection caps. Every answer received is checked against the JSON
//! Schema of its object class in `tests/rdap/rdap.schema.json`.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::dnssec::login_with_extensions;
use crate::harness::*;

const SECDNS_NS: &str = "urn:ietf:params:xml:ns:secDNS-1.1";
const DIGEST: &str = "2BB183AF5F22588179A53B0A98631FAD1A292118DEADBEEF2BB183AF5F225881";

/// The schema file, read once.
fn schema_file() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rdap/rdap.schema.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    })
}

/// Asserts that `answer` is a valid `kind` (`domainResponse`, …) of the
/// schema.
fn assert_schema(kind: &str, answer: &Value) {
    let mut schema = schema_file().clone();
    schema["$ref"] = Value::from(format!("#/$defs/{kind}"));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(answer)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not a valid {kind}: {errors:#?}\n{answer:#}"
    );
}

/// The object class an answer to `path` with `status` must be.
fn kind_of(path: &str, status: u16) -> &'static str {
    if status != 200 {
        "errorResponse"
    } else if path.starts_with("/domain/") {
        "domainResponse"
    } else if path.starts_with("/nameserver/") {
        "nameserverResponse"
    } else if path.starts_with("/entity/") {
        "entityResponse"
    } else if path.starts_with("/domains") {
        "domainSearchResponse"
    } else {
        "helpResponse"
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An RDAP request: the status, the headers, and the body as JSON (null
/// for HEAD), after checking the media type, the CORS header and, for a
/// body, its schema (and for an error, that `errorCode` is the status).
async fn rdap_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
) -> (u16, Vec<(String, String)>, Value) {
    let (status, headers, body) = http_request(addr, method, path).await;
    assert_eq!(
        header(&headers, "content-type"),
        Some("application/rdap+json"),
        "{method} {path}: {headers:?}"
    );
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("*"),
        "{method} {path}"
    );
    if method == "HEAD" {
        assert!(body.is_empty(), "HEAD {path} has a body: {body}");
        return (status, headers, Value::Null);
    }
    let json: Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {body}"));
    assert_schema(kind_of(path, status), &json);
    if status != 200 {
        assert_eq!(json["errorCode"], status, "{json:#}");
    }
    (status, headers, json)
}

async fn get(server: &TestServer, path: &str) -> (u16, Value) {
    let (status, _, json) = rdap_request(server.rdap_addr(), "GET", path).await;
    (status, json)
}

async fn get_ok(server: &TestServer, path: &str) -> Value {
    let (status, json) = get(server, path).await;
    assert_eq!(status, 200, "{path}: {json:#}");
    json
}

/// Settings with RDAP on a free loopback port, then `adjust`.
fn with_rdap(
    adjust: impl FnOnce(&mut ma_registry::config::Settings),
) -> impl FnOnce(&mut ma_registry::config::Settings) {
    move |s| {
        s.rdap.listen = Some("127.0.0.1:0".parse().unwrap());
        adjust(s);
    }
}

async fn ok(c: &mut RawClient, body: &str) {
    let r = c.cmd(&command(body, "rdap-t")).await;
    assert_eq!(r.code(), 1000, "{body}\n{}", r.xml);
}

/// `exemple.ma` for contact `cnt-1`, with a DS record, the name server
/// `ns1.exemple.ma` and its glue; reg1 stays logged in.
async fn registered(server: &TestServer) -> RawClient {
    let mut c = server.client("reg1").await;
    let r = c.cmd(&login_with_extensions("reg1", &[SECDNS_NS])).await;
    assert_eq!(r.code(), 1000, "{}", r.xml);
    ok(&mut c, &contact_create("cnt-1", "MA")).await;
    let ds = format!(
        r#"<extension><secDNS:create xmlns:secDNS="{SECDNS_NS}"><secDNS:dsData><secDNS:keyTag>12345</secDNS:keyTag><secDNS:alg>13</secDNS:alg><secDNS:digestType>2</secDNS:digestType><secDNS:digest>{DIGEST}</secDNS:digest></secDNS:dsData></secDNS:create></extension>"#
    );
    ok(
        &mut c,
        &format!("{}{ds}", domain_create("exemple.ma", "cnt-1", "")),
    )
    .await;
    ok(
        &mut c,
        &host_create("ns1.exemple.ma", &["192.0.2.53", "2001:db8::53"]),
    )
    .await;
    let upd = r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name><domain:add><domain:ns><domain:hostObj>ns1.exemple.ma</domain:hostObj></domain:ns></domain:add></domain:update></update>"#;
    ok(&mut c, upd).await;
    c
}

/// The entities of `object` with `role`.
fn entities<'a>(object: &'a Value, role: &str) -> Vec<&'a Value> {
    object["entities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["roles"].as_array().unwrap().iter().any(|r| r == role))
        .collect()
}

/// The value of the jCard property `name` of an entity.
fn vcard<'a>(entity: &'a Value, name: &str) -> Option<&'a str> {
    entity["vcardArray"][1]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == name)
        .and_then(|p| p[3].as_str())
}

fn actions(object: &Value) -> Vec<&str> {
    object["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventAction"].as_str().unwrap())
        .collect()
}

fn redacted_names(answer: &Value) -> Vec<&str> {
    answer["redacted"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|r| r["name"]["description"].as_str().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn r16_rdap_domain_shows_the_charter_fields_with_ns_glue_and_ds() {
    let server = TestServer::start_with(with_rdap(|_| {}), None).await;
    let mut c = registered(&server).await;
    let roid = roid_of(&mut c, "exemple.ma").await;
    // clientHold maps to the RDAP status "client hold" (RFC 8056).
    let hold = r#"<update><domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name><domain:add><domain:status s="clientHold"/></domain:add></domain:update></update>"#;
    ok(&mut c, hold).await;

    let (_, _, raw) = http_get(server.rdap_addr(), "/domain/EXEMPLE.MA").await;
    let d = get_ok(&server, "/domain/EXEMPLE.MA").await;
    assert_eq!(d["objectClassName"], "domain");
    assert_eq!(d["handle"], roid.as_str());
    assert_eq!(d["ldhName"], "exemple.ma");
    assert_eq!(d["unicodeName"], "exemple.ma");
    assert_eq!(d["status"], serde_json::json!(["client hold"]));
    for action in [
        "registration",
        "expiration",
        "last changed",
        "last update of RDAP database",
    ] {
        assert!(actions(&d).contains(&action), "{action}: {d:#}");
    }
    assert_eq!(d["port43"], "whois.nic.ma");
    assert!(
        d["rdapConformance"]
            .as_array()
            .unwrap()
            .contains(&Value::from("rdap_level_0"))
    );
    let link = &d["links"][0];
    assert_eq!(link["rel"], "self");
    assert!(
        link["href"]
            .as_str()
            .unwrap()
            .ends_with("/domain/exemple.ma"),
        "{link}"
    );
    let terms = &d["notices"][0];
    assert_eq!(terms["title"], "Terms of Use");
    assert_eq!(terms["links"][0]["rel"], "terms-of-service");

    let registrar = entities(&d, "registrar");
    assert_eq!(registrar.len(), 1);
    assert_eq!(registrar[0]["handle"], "reg1");
    assert_eq!(vcard(registrar[0], "fn"), Some("Registrar reg1"));
    let registrant = entities(&d, "registrant");
    assert_eq!(vcard(registrant[0], "fn"), Some("Société Atlas"));
    assert_eq!(vcard(registrant[0], "email"), None, "R16: name only");
    for role in ["administrative", "technical"] {
        let contact = entities(&d, role);
        assert_eq!(contact.len(), 1, "{role}");
        assert_eq!(vcard(contact[0], "fn"), Some("Fatima Zahra El Idrissi"));
        assert_eq!(vcard(contact[0], "tel"), Some("tel:+212.537123456;ext=12"));
        assert_eq!(vcard(contact[0], "email"), Some("fz@example.ma"));
        assert_eq!(vcard(contact[0], "adr"), None);
    }
    let withheld = redacted_names(&d);
    assert!(withheld.contains(&"Registrant Email"), "{withheld:?}");
    assert!(withheld.contains(&"Registrant Address"), "{withheld:?}");

    let ns = &d["nameservers"][0];
    assert_eq!(ns["ldhName"], "ns1.exemple.ma");
    assert_eq!(ns["ipAddresses"]["v4"], serde_json::json!(["192.0.2.53"]));
    assert_eq!(ns["ipAddresses"]["v6"], serde_json::json!(["2001:db8::53"]));
    let dns = &d["secureDNS"];
    assert_eq!(dns["delegationSigned"], true);
    assert_eq!(
        dns["dsData"],
        serde_json::json!([{"keyTag": 12345, "algorithm": 13, "digest": DIGEST, "digestType": 2}])
    );
    // Never an authInfo, never the identity document (R15).
    for secret in ["Dom-Auth-2024", "Cnt-Auth-2024", "BE123456", "\"cin\""] {
        assert!(!raw.contains(secret), "{secret} in {raw}");
    }

    // The name server, the registrar and the contact alone.
    let ns = get_ok(&server, "/nameserver/NS1.exemple.ma").await;
    assert_eq!(ns["ldhName"], "ns1.exemple.ma");
    assert_eq!(ns["status"], serde_json::json!(["active", "associated"]));
    assert_eq!(ns["ipAddresses"]["v4"], serde_json::json!(["192.0.2.53"]));
    assert_eq!(entities(&ns, "registrar")[0]["handle"], "reg1");
    assert!(actions(&ns).contains(&"registration"));
    let reg = get_ok(&server, "/entity/reg1").await;
    assert_eq!(vcard(&reg, "fn"), Some("Registrar reg1"));
    assert_eq!(reg["status"], serde_json::json!(["active"]));
    let (_, _, raw) = http_get(server.rdap_addr(), "/entity/cnt-1").await;
    let contact = get_ok(&server, "/entity/cnt-1").await;
    assert_eq!(contact["handle"], "cnt-1");
    assert_eq!(vcard(&contact, "email"), Some("fz@example.ma"));
    assert!(!raw.contains("BE123456") && !raw.contains("Cnt-Auth-2024"));
    let help = get_ok(&server, "/help").await;
    assert!(help["notices"].as_array().unwrap().len() >= 2);

    let (status, e) = get(&server, "/nameserver/ns9.exemple.ma").await;
    assert_eq!(status, 404, "{e:#}");
    let (status, _) = get(&server, "/nameserver/bad_name..ma").await;
    assert_eq!(status, 400);
    let (status, _) = get(&server, "/entity/nobody").await;
    assert_eq!(status, 404);
    // A contact no domain uses is not published.
    ok(&mut c, &contact_create("cnt-alone", "MA")).await;
    let (status, _) = get(&server, "/entity/cnt-alone").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn r4_r5_rdap_free_reserved_blocked_and_malformed_names() {
    let server = TestServer::start_with(with_rdap(|_| {}), None).await;
    drop(registered(&server).await);
    let run = admin_live(
        &server,
        &[],
        None,
        &["blocked", "add", "interdit", "--reason", "ordre public"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);

    let (status, e) = get(&server, "/domain/libre.ma").await;
    assert_eq!(status, 404);
    assert_eq!(e["title"], "Not Found");
    assert!(
        e["description"][0].as_str().unwrap().contains("free"),
        "{e}"
    );
    let (status, e) = get(&server, "/domain/rabat.co.ma").await;
    assert_eq!(status, 404);
    assert_eq!(e["title"], "Reserved name");
    assert!(e["description"][0].as_str().unwrap().contains("R4"), "{e}");
    let (status, e) = get(&server, "/domain/interdit.ma").await;
    assert_eq!(status, 404);
    assert_eq!(e["title"], "Blocked name");
    assert!(e["description"][0].as_str().unwrap().contains("R5"), "{e}");
    // Outside the zones or below a registered name: not found.
    for path in [
        "/domain/exemple.com",
        "/domain/www.exemple.ma",
        "/domain/co.ma",
    ] {
        let (status, e) = get(&server, path).await;
        assert_eq!(status, 404, "{path}: {e}");
    }
    // Malformed names (R3 or not a domain name at all): bad request.
    for path in [
        "/domain/-tiret.ma",
        "/domain/a.ma",
        "/domain/ex%20emple.ma",
        "/domain/exemple..ma",
        "/domain/%FF.ma",
    ] {
        let (status, e) = get(&server, path).await;
        assert_eq!(status, 400, "{path}: {e}");
    }
    // Unknown paths, search switched off, methods.
    for path in ["/", "/autnum/1", "/domain/", "/domain/exemple.ma/x"] {
        let (status, _) = get(&server, path).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = get(&server, "/domains?name=exem*").await;
    assert_eq!(status, 501);
    for method in ["POST", "PUT", "DELETE"] {
        let (status, headers, _) =
            rdap_request(server.rdap_addr(), method, "/domain/exemple.ma").await;
        assert_eq!(status, 405, "{method}");
        assert_eq!(header(&headers, "allow"), Some("GET, HEAD"));
    }
}

#[tokio::test]
async fn r3_rdap_finds_an_idn_by_its_unicode_and_its_a_label() {
    let server = TestServer::start_with(with_rdap(|_| {}), None).await;
    let mut c = registered(&server).await;
    ok(&mut c, &domain_create("café.ma", "cnt-1", "")).await;
    for path in [
        "/domain/caf%C3%A9.ma",
        "/domain/CAF%C3%89.ma",
        "/domain/xn--caf-dma.ma",
    ] {
        let d = get_ok(&server, path).await;
        assert_eq!(d["ldhName"], "xn--caf-dma.ma", "{path}");
        assert_eq!(d["unicodeName"], "café.ma", "{path}");
        assert_eq!(d["secureDNS"]["delegationSigned"], false);
        assert_eq!(d["status"], serde_json::json!(["inactive"]));
    }
    // Second-level zones (R1) too.
    ok(&mut c, &domain_create("exemple.co.ma", "cnt-1", "")).await;
    let d = get_ok(&server, "/domain/exemple.co.ma").await;
    assert_eq!(d["ldhName"], "exemple.co.ma");
}

#[tokio::test]
async fn r18_rdap_shows_a_dispute_as_whois_does() {
    let server = TestServer::start_with(with_rdap(|_| {}), None).await;
    drop(registered(&server).await);
    let d = get_ok(&server, "/domain/exemple.ma").await;
    assert!(d.get("remarks").is_none(), "{d:#}");
    let run = admin_live(
        &server,
        &[],
        None,
        &[
            "dispute",
            "open",
            "exemple.ma",
            "--reason",
            "plainte de marque",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.err);
    let d = get_ok(&server, "/domain/exemple.ma").await;
    assert_eq!(d["remarks"][0]["title"], "Under dispute (R18)", "{d:#}");
    // It stays in the zone; the registry's statuses freeze it.
    assert_eq!(
        d["status"],
        serde_json::json!([
            "server delete prohibited",
            "server renew prohibited",
            "server transfer prohibited",
            "server update prohibited"
        ])
    );
    let mut tcp = tokio::net::TcpStream::connect(server.whois_addr())
        .await
        .unwrap();
    tcp.write_all(b"exemple.ma\r\n").await.unwrap();
    let mut whois = String::new();
    tcp.read_to_string(&mut whois).await.unwrap();
    let line = format!("{:<22}under dispute since", "Dispute:");
    assert!(whois.contains(&line), "{whois}");
}

#[tokio::test]
async fn r16_rdap_honours_a_contact_that_withholds_phone_and_email() {
    let server = TestServer::start_with(with_rdap(|_| {}), None).await;
    let mut c = server.login("reg1").await;
    let private = contact_create("cnt-p", "MA").replace(
        "</contact:authInfo>",
        r#"</contact:authInfo><contact:disclose flag="0"><contact:voice/><contact:email/></contact:disclose>"#,
    );
    ok(&mut c, &private).await;
    ok(&mut c, &domain_create("prive.ma", "cnt-p", "")).await;
    let (_, _, raw) = http_get(server.rdap_addr(), "/domain/prive.ma").await;
    let d = get_ok(&server, "/domain/prive.ma").await;
    assert!(
        !raw.contains("fz@example.ma") && !raw.contains("537123456"),
        "{raw}"
    );
    let admin = entities(&d, "administrative");
    assert_eq!(vcard(admin[0], "fn"), Some("Fatima Zahra El Idrissi"));
    assert_eq!(vcard(admin[0], "email"), None);
    assert_eq!(vcard(admin[0], "tel"), None);
    let withheld = redacted_names(&d);
    for field in [
        "Administrative Contact Phone",
        "Administrative Contact Email",
        "Technical Contact Email",
    ] {
        assert!(withheld.contains(&field), "{field}: {withheld:?}");
    }
    let entity = get_ok(&server, "/entity/cnt-p").await;
    assert_eq!(vcard(&entity, "email"), None);
    assert!(redacted_names(&entity).contains(&"Contact Email"));
}

#[tokio::test]
async fn r16_rdap_search_by_prefix_is_bounded_and_only_when_enabled() {
    let server = TestServer::start_with(
        with_rdap(|s| {
            s.rdap.search = true;
            s.rdap.search_max_results = 2;
        }),
        None,
    )
    .await;
    let mut c = registered(&server).await;
    for name in ["exemplaire.ma", "exemple.co.ma", "autre.ma"] {
        ok(&mut c, &domain_create(name, "cnt-1", "")).await;
    }
    let names = |answer: &Value| -> Vec<String> {
        answer["domainSearchResults"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["ldhName"].as_str().unwrap().to_owned())
            .collect()
    };
    let found = get_ok(&server, "/domains?name=exempl*").await;
    assert_eq!(names(&found), ["exemplaire.ma", "exemple.co.ma"]);
    let truncated = found["notices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["type"] == "result set truncated due to excessive load");
    assert!(truncated, "{found:#}");
    let found = get_ok(&server, "/domains?name=exemple.c*").await;
    assert_eq!(names(&found), ["exemple.co.ma"]);
    assert_eq!(found["notices"].as_array().unwrap().len(), 1);
    let found = get_ok(&server, "/domains?name=EXEMPLE.MA").await;
    assert_eq!(names(&found), ["exemple.ma"]);
    let found = get_ok(&server, "/domains?name=zz*").await;
    assert!(names(&found).is_empty());
    for bad in [
        "/domains?name=*",
        "/domains?name=e*",
        "/domains?name=ex*le",
        "/domains",
    ] {
        let (status, _) = get(&server, bad).await;
        assert_eq!(status, 400, "{bad}");
    }
    let (status, _) = get(&server, "/domains?nsLdhName=ns1.exemple.ma").await;
    assert_eq!(status, 501);
}

#[tokio::test]
async fn r16_rdap_head_answers_the_headers_without_a_body() {
    let server = TestServer::start_with(with_rdap(|_| {}), None).await;
    drop(registered(&server).await);
    let (status, headers, _) = rdap_request(server.rdap_addr(), "HEAD", "/domain/exemple.ma").await;
    assert_eq!(status, 200);
    let length: usize = header(&headers, "content-length").unwrap().parse().unwrap();
    assert!(length > 100, "{headers:?}");
    let (status, _, _) = rdap_request(server.rdap_addr(), "HEAD", "/domain/libre.ma").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn r16_rdap_rate_limits_each_address_with_429_and_retry_after() {
    let server = TestServer::start_with(with_rdap(|s| s.rdap.queries_per_minute = 3), None).await;
    for _ in 0..3 {
        let (status, _) = get(&server, "/domain/libre.ma").await;
        assert_eq!(status, 404);
    }
    let (status, headers, e) = rdap_request(server.rdap_addr(), "GET", "/domain/libre.ma").await;
    assert_eq!(status, 429, "{e:#}");
    assert_eq!(header(&headers, "retry-after"), Some("20"));
    assert_eq!(e["title"], "Too Many Requests");
}

/// An HTTP connection from the loopback address `source`.
async fn connect_from(server: &TestServer, source: [u8; 4]) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap();
    socket.connect(server.rdap_addr()).await.unwrap()
}

/// Whether the server closes `tcp` (within the guard of 20 s).
async fn closed_by_server(tcp: &mut tokio::net::TcpStream) -> bool {
    let mut rest = Vec::new();
    matches!(
        tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut rest)).await,
        Ok(Ok(0))
    )
}

#[tokio::test]
async fn r16_rdap_caps_connections_and_closes_idle_ones() {
    let server = TestServer::start_with(
        with_rdap(|s| {
            s.rdap.max_connections = 3;
            s.rdap.max_connections_per_address = 2;
            s.rdap.idle_timeout_secs = 1;
        }),
        None,
    )
    .await;
    let mut held = vec![
        connect_from(&server, [127, 0, 0, 1]).await,
        connect_from(&server, [127, 0, 0, 1]).await,
    ];
    let mut over_address = connect_from(&server, [127, 0, 0, 1]).await;
    assert!(closed_by_server(&mut over_address).await);
    held.push(connect_from(&server, [127, 0, 0, 2]).await);
    let mut over_all = connect_from(&server, [127, 0, 0, 3]).await;
    assert!(closed_by_server(&mut over_all).await);
    // The held connections sent nothing: closed after the idle timeout,
    // and their places are free again.
    for tcp in &mut held {
        assert!(closed_by_server(tcp).await);
    }
    // The server may take a moment to give the places back: retried,
    // under the guard.
    let again = async {
        loop {
            let mut tcp = connect_from(&server, [127, 0, 0, 3]).await;
            let _ = tcp
                .write_all(b"GET /help HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await;
            let mut answer = Vec::new();
            let _ = tcp.read_to_end(&mut answer).await;
            if answer.starts_with(b"HTTP/1.1 200") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert!(
        tokio::time::timeout(Duration::from_secs(20), again)
            .await
            .is_ok()
    );
    get_ok(&server, "/help").await;
}

/// The schema is not a blank cheque: answers that break RFC 9083 fail it.
#[test]
fn rdap_schema_refuses_what_rfc_9083_forbids() {
    let mut schema = schema_file().clone();
    let refused = |kind: &str, answer: Value, schema: &mut Value| {
        schema["$ref"] = Value::from(format!("#/$defs/{kind}"));
        let validator = jsonschema::validator_for(schema).unwrap();
        assert!(!validator.is_valid(&answer), "{kind} accepted {answer:#}");
    };
    let error = serde_json::json!({
        "rdapConformance": ["rdap_level_0"],
        "errorCode": 404, "title": "Not Found", "description": ["free"]
    });
    let mut no_conformance = error.clone();
    no_conformance
        .as_object_mut()
        .unwrap()
        .remove("rdapConformance");
    refused("errorResponse", no_conformance, &mut schema);
    let mut unknown_member = error.clone();
    unknown_member["secureDns"] = Value::from(true);
    refused("errorResponse", unknown_member, &mut schema);
    let mut redacted = error.clone();
    redacted["redacted"] = serde_json::json!([{
        "name": {"description": "Registrant Email"}, "method": "removal",
        "prePath": "$.entities[1]"
    }]);
    refused("errorResponse", redacted, &mut schema);
    let entity = serde_json::json!({
        "objectClassName": "entity", "handle": "reg1",
        "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "R"]]],
        "roles": ["registrar"], "links": [], "status": ["ok"]
    });
    let domain = serde_json::json!({
        "rdapConformance": ["rdap_level_0"], "notices": [],
        "objectClassName": "domain", "handle": "D1-MA", "ldhName": "exemple.ma",
        "status": ["active"], "links": [],
        "events": [{"eventAction": "registration", "eventDate": "2026-01-01T00:00:00Z"}],
        "entities": [entity]
    });
    refused("domainResponse", domain, &mut schema);
}
