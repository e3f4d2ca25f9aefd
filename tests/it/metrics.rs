//! `/metrics` and `/health` over real HTTP: commands counted by type and
//! result code with their latency, sessions by registrar, durable flushes,
//! and health once the server serves. Off unless `[metrics] listen` is set.

use crate::harness::*;

/// The value of the sample `name{labels}` in a text exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn success_metrics_count_commands_sessions_and_flushes() {
    let server = TestServer::start_with(
        |s| s.metrics.listen = Some("127.0.0.1:0".parse().unwrap()),
        None,
    )
    .await;
    let (status, _, body) = http_get(server.metrics_addr(), "/health").await;
    assert_eq!((status, body.as_str()), (200, "ready\n"));

    let mut c = server.login("reg1").await;
    for i in 0..3 {
        let r = c
            .cmd(&command(&check("domain", &[&format!("m-{i}.ma")]), "m-chk"))
            .await;
        assert_eq!(r.code(), 1000);
    }
    let r = c
        .cmd(&command(&domain_info("absent-m.ma", "all", None), "m-inf"))
        .await;
    assert_eq!(r.code(), 2303);
    let r = c
        .cmd(&command(&contact_create("cnt-m", "MA"), "m-crt"))
        .await;
    assert_eq!(r.code(), 1000);

    // A WHOIS query.
    {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut whois = tokio::net::TcpStream::connect(server.whois_addr())
            .await
            .unwrap();
        whois.write_all(b"libre-m.ma\r\n").await.unwrap();
        let mut answer = Vec::new();
        whois.read_to_end(&mut answer).await.unwrap();
        assert!(!answer.is_empty());
    }

    let (status, headers, text) = http_get(server.metrics_addr(), "/metrics").await;
    assert_eq!(status, 200);
    let content_type = headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.as_str());
    assert!(
        content_type.is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{headers:?}"
    );
    let get =
        |series: &str| sample(&text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"));
    assert_eq!(
        get(r#"ma_registry_epp_commands_total{command="domain:check",code="1000"}"#),
        3.0
    );
    assert_eq!(
        get(r#"ma_registry_epp_commands_total{command="domain:info",code="2303"}"#),
        1.0
    );
    assert_eq!(
        get(r#"ma_registry_epp_commands_total{command="login",code="1000"}"#),
        1.0
    );
    assert_eq!(
        get(r#"ma_registry_epp_command_duration_seconds_count{command="domain:check"}"#),
        3.0
    );
    assert_eq!(get(r#"ma_registry_epp_sessions{registrar="reg1"}"#), 1.0);
    assert!(get("ma_registry_store_flushes_total") >= 1.0, "{text}");
    assert_eq!(get("ma_registry_store_writes_suspended"), 0.0);
    assert_eq!(
        get(r#"ma_registry_whois_queries_total{kind="answered"}"#),
        1.0
    );
    assert!(text.ends_with("# EOF\n"), "{text}");

    // The session closes: it is no longer counted.
    drop(c);
    let mut gone = false;
    for _ in 0..100 {
        let (_, _, text) = http_get(server.metrics_addr(), "/metrics").await;
        if sample(&text, r#"ma_registry_epp_sessions{registrar="reg1"}"#).is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(gone, "the closed session is still counted");
}
