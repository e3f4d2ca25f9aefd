//! Unit tests of the configuration: defaults, unknown keys, each section's
//! validation.

use std::path::Path;

use super::*;

#[test]
fn empty_file_gives_defaults_with_the_seven_zones() {
    let s = Settings::from_toml("").unwrap();
    assert_eq!(s.zones.len(), 7);
    assert!(s.zones.iter().any(|z| z.name == "gov.ma" && z.restricted));
}

#[test]
fn unknown_keys_are_refused() {
    assert!(Settings::from_toml("[server]\nepp_port = 7").is_err());
    assert!(Settings::from_toml("bogus = 1").is_err());
}

#[test]
fn a_parse_error_names_the_place_never_the_line_text() {
    let err = Settings::from_toml(
        "[mail]\nfrom = \"r@nic.ma\"\nsmtp_relai = \"smtps://u:Relay-Secret@h\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(!err.contains("Relay-Secret"), "{err}");
    assert!(err.contains("line 3, column 1"), "{err}");
    assert!(err.contains("smtp_relai"), "{err}");
}

#[test]
fn the_listen_backlog_is_1024_unless_set_and_never_0() {
    assert_eq!(Settings::default().server.listen_backlog, 1024);
    let s = Settings::from_toml("[server]\nlisten_backlog = 4096").unwrap();
    assert_eq!(s.server.listen_backlog, 4096);
    assert!(Settings::from_toml("[server]\nlisten_backlog = 0").is_err());
    assert!(Settings::from_toml("[server]\nlisten_backlog = 70000").is_err());
}

#[test]
fn zone_of_picks_the_longest_suffix() {
    let s = Settings::default();
    assert_eq!(s.zone_of("exemple.co.ma").unwrap().name, "co.ma");
    assert_eq!(s.zone_of("exemple.ma").unwrap().name, "ma");
    assert!(s.zone_of("ma").is_none());
    assert!(s.zone_of("exemple.com").is_none());
    assert!(s.zone_of("xma").is_none());
}

#[test]
fn dns_names_are_normalized_and_bad_values_refused() {
    let s = Settings::from_toml(
            "[dns]\nmname = \"NS1.Nic.MA.\"\nrname = \"hostmaster@nic.ma\"\n[[dns.nameservers]]\nname = \"a.tld.ma\"\naddresses = [\"192.0.2.1\"]",
        )
        .unwrap();
    assert_eq!(s.dns.mname, "ns1.nic.ma");
    assert_eq!(s.dns.rname, "hostmaster.nic.ma");
    assert_eq!(s.dns.nameservers.len(), 1);
    assert!(Settings::from_toml("[dns]\nttl = 0").is_err());
    assert!(Settings::from_toml("[dns]\nmname = \"ns 1.nic.ma\"").is_err());
    assert!(Settings::from_toml("[dns]\nnameservers = []").is_err());
}

#[test]
fn whois_connection_caps_have_defaults_and_ranges() {
    let s = Settings::default();
    assert_eq!(s.whois.max_connections, 256);
    assert_eq!(s.whois.max_connections_per_address, 16);
    assert_eq!(s.whois.query_timeout_secs, 5);
    let s = Settings::from_toml(
        "[whois]\nmax_connections = 8\nmax_connections_per_address = 4\nquery_timeout_secs = 2",
    )
    .unwrap();
    assert_eq!(
        (s.whois.max_connections, s.whois.max_connections_per_address),
        (8, 4)
    );
    for bad in [
        "[whois]\nmax_connections = 0",
        "[whois]\nmax_connections_per_address = 0",
        "[whois]\nmax_connections = 4\nmax_connections_per_address = 5",
        "[whois]\nquery_timeout_secs = 0",
    ] {
        assert!(Settings::from_toml(bad).is_err(), "{bad}");
    }
}

#[test]
fn rdap_is_off_by_default_and_its_values_are_checked() {
    let s = Settings::default();
    assert!(s.rdap.listen.is_none() && !s.rdap.search);
    assert_eq!(s.rdap.port43, "whois.nic.ma");
    let s = Settings::from_toml(
        "[rdap]\nlisten = \"127.0.0.1:8080\"\nbase_url = \"https://rdap.nic.ma/\"\nsearch = true",
    )
    .unwrap();
    assert_eq!(s.rdap.base_url.as_deref(), Some("https://rdap.nic.ma"));
    for bad in [
        "[rdap]\nbase_url = \"rdap.nic.ma\"",
        "[rdap]\nterms_url = \"ftp://x\"",
        "[rdap]\nport43 = \"who is\"",
        "[rdap]\nsearch_max_results = 0",
        "[rdap]\nmax_connections = 2\nmax_connections_per_address = 3",
        "[rdap]\nidle_timeout_secs = 0",
    ] {
        assert!(Settings::from_toml(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_login_phase_has_a_timeout_and_a_cap() {
    let s = Settings::default();
    assert_eq!(s.limits.login_timeout_secs, 30);
    assert_eq!(s.limits.max_unauthenticated_sessions, 256);
    let s =
        Settings::from_toml("[limits]\nlogin_timeout_secs = 5\nmax_unauthenticated_sessions = 3")
            .unwrap();
    assert_eq!(s.limits.max_unauthenticated_sessions, 3);
    for bad in [
        "[limits]\nlogin_timeout_secs = 0",
        "[limits]\nmax_unauthenticated_sessions = 0",
    ] {
        assert!(Settings::from_toml(bad).is_err(), "{bad}");
    }
}

#[test]
fn store_cache_has_a_default_and_a_range() {
    assert_eq!(Settings::default().store.cache_bytes(), 64 * 1024 * 1024);
    let s = Settings::from_toml("[store]\ncache_mib = 16").unwrap();
    assert_eq!(s.store.cache_bytes(), 16 * 1024 * 1024);
    assert!(Settings::from_toml("[store]\ncache_mib = 0").is_err());
    assert!(Settings::from_toml("[store]\ncache_mib = 65537").is_err());
    assert!(Settings::from_toml("[store]\ncache = 16").is_err());
}

#[test]
fn shipped_sample_config_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ma-registry.toml");
    Settings::load(Path::new(path)).unwrap();
}

#[test]
fn load_test_config_loads_and_allows_more_sessions() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/examples/bench/ma-registry-bench.toml"
    );
    let s = Settings::load(Path::new(path)).unwrap();
    assert_eq!(s.limits.default_session_limit, 100);
}
