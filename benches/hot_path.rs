//! Micro-benchmarks of the per-command hot path: frame decode, command
//! parse, response serialize and name validation. A change that slows one
//! of them shows here (`cargo bench --bench hot_path`).

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]
// A benchmark that cannot set itself up should stop at once.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ma_registry::config::Settings;
use ma_registry::model::{CheckItem, Lang, ObjectKind, ResData, Response, ResultCode};
use ma_registry::xml::{XmlLimits, parse_request, write_response};

const CHECK: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><check><domain:check xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>exemple.ma</domain:name></domain:check></check><clTRID>bench-check-1</clTRID></command></epp>"#;

const INFO: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><info><domain:info xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name hosts="all">exemple.ma</domain:name></domain:info></info><clTRID>bench-info-1</clTRID></command></epp>"#;

const CREATE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><create><domain:create xmlns:domain="urn:ietf:params:xml:ns:domain-1.0">
<domain:name>exemple.ma</domain:name><domain:period unit="y">2</domain:period>
<domain:ns><domain:hostObj>ns1.exemple.net</domain:hostObj><domain:hostObj>ns2.exemple.net</domain:hostObj></domain:ns>
<domain:registrant>cnt-1</domain:registrant><domain:contact type="admin">cnt-1</domain:contact><domain:contact type="tech">cnt-1</domain:contact>
<domain:authInfo><domain:pw>Dom-Auth-2024</domain:pw></domain:authInfo></domain:create></create><clTRID>bench-create-1</clTRID></command></epp>"#;

fn limits() -> XmlLimits {
    XmlLimits {
        max_depth: 32,
        max_elements: 4096,
        max_value_bytes: 65536,
    }
}

fn frame_decode(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let mut stream = Vec::new();
    let total = u32::try_from(CHECK.len() + 4).unwrap();
    stream.extend_from_slice(&total.to_be_bytes());
    stream.extend_from_slice(CHECK.as_bytes());
    let mut group = c.benchmark_group("frame");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    let mut buf = Vec::with_capacity(1024);
    group.bench_function("decode_check_frame", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut reader: &[u8] = &stream;
                let read = ma_registry::transport::read_frame(
                    &mut reader,
                    &mut buf,
                    65536,
                    Duration::from_secs(1),
                    Duration::from_secs(1),
                )
                .await;
                black_box(read.unwrap());
            })
        })
    });
    group.finish();
}

fn command_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (name, xml) in [("check", CHECK), ("info", INFO), ("create", CREATE)] {
        group.throughput(Throughput::Bytes(xml.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(parse_request(black_box(xml.as_bytes()), limits()).is_ok()))
        });
    }
    group.finish();
}

fn response_serialize(c: &mut Criterion) {
    let check = Response {
        code: ResultCode::Success,
        ext_values: Vec::new(),
        res_data: Some(ResData::Check(
            ObjectKind::Domain,
            vec![CheckItem {
                name: "exemple.ma".into(),
                avail: true,
                reason: None,
            }],
        )),
        extensions: Vec::new(),
        msg_q: None,
        lang: Lang::En,
        cl_trid: Some("bench-check-1".into()),
        sv_trid: "MA-1-1".into(),
    };
    let plain = Response {
        res_data: None,
        ..check.clone()
    };
    let mut group = c.benchmark_group("serialize");
    group.bench_function("check_response", |b| {
        b.iter(|| black_box(write_response(black_box(&check))))
    });
    group.bench_function("plain_response", |b| {
        b.iter(|| black_box(write_response(black_box(&plain))))
    });
    group.finish();
}

fn name_validation(c: &mut Criterion) {
    let settings = Settings::default();
    let mut group = c.benchmark_group("names");
    for (name, input) in [
        ("ascii", "exemple.ma"),
        ("sub_zone", "atlas-voyages.co.ma"),
        ("unicode", "café-rabat.ma"),
        ("a_label", "xn--caf-rabat-ieb.ma"),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    ma_registry::policy::r1_r3_registrable_name(black_box(input), &settings)
                        .is_ok(),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(
    hot_path,
    frame_decode,
    command_parse,
    response_serialize,
    name_validation
);
criterion_main!(hot_path);
