//! The golden corpus: `tests/golden/NN-CLID-NAME.request.xml`, sent in
//! order on one session per registrar (CLID) of a fresh server whose clock
//! starts at a fixed instant; each response must equal
//! `NN-CLID-NAME.response.xml` byte for byte once the svTRID and the time
//! of day are normalised. A change to any answer shows here as a diff.
//! `MA_REGISTRY_BLESS=1` writes the responses anew (read the diff before
//! committing it).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::harness::*;

/// The fixed instant the corpus's server starts at.
const T0: &str = "2026-03-01T09:00:00Z";

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The response with its svTRID and the times of day (which move with the
/// real time the run takes) replaced by fixed text; dates stay.
fn normalise(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(start) = rest.find("<svTRID>") {
        let Some(end) = rest[start..].find("</svTRID>") else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str("<svTRID>SVTRID</svTRID>");
        rest = &rest[start + end + "</svTRID>".len()..];
    }
    out.push_str(rest);
    // `YYYY-MM-DDThh:mm:ss[.frac]Z` → `YYYY-MM-DDT00:00:00Z`.
    let bytes = out.as_bytes();
    let mut normal = String::with_capacity(out.len());
    let mut i = 0;
    while i < bytes.len() {
        let is_time = i >= 10
            && bytes[i] == b'T'
            && bytes[i - 1].is_ascii_digit()
            && bytes[i - 3] == b'-'
            && bytes.get(i + 3) == Some(&b':')
            && bytes.get(i + 6) == Some(&b':');
        if is_time {
            let mut j = i + 9;
            if bytes.get(j) == Some(&b'.') {
                j += 1;
                while bytes.get(j).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                }
            }
            normal.push_str("T00:00:00");
            i = j;
            continue;
        }
        normal.push(char::from(bytes[i]));
        i += 1;
    }
    normal
}

#[test]
fn normalising_keeps_dates_and_drops_times_and_svtrids() {
    assert_eq!(
        normalise(
            "<a>2026-03-01T09:00:01.123456Z</a><svTRID>MA-4-7</svTRID><b>2027-03-01T09:00:01Z</b>"
        ),
        "<a>2026-03-01T00:00:00Z</a><svTRID>SVTRID</svTRID><b>2027-03-01T00:00:00Z</b>"
    );
}

#[tokio::test]
async fn golden_every_command_answers_as_recorded() {
    let bless = std::env::var_os("MA_REGISTRY_BLESS").is_some();
    let server = TestServer::start_at(T0).await;
    let mut requests: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".request.xml"))
        .collect();
    requests.sort();
    assert!(requests.len() >= 30, "the corpus is in tests/golden");
    let mut sessions: BTreeMap<String, RawClient> = BTreeMap::new();
    let mut differences = Vec::new();
    for request in &requests {
        let file = request.file_name().unwrap().to_string_lossy().into_owned();
        let clid = file.split('-').nth(1).unwrap().to_owned();
        let client = match sessions.entry(clid.clone()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(server.client(&clid).await),
        };
        let sent = std::fs::read_to_string(request).unwrap();
        let received = normalise(&client.cmd(&sent).await.xml);
        let expected_path = corpus_dir().join(file.replace(".request.xml", ".response.xml"));
        if bless {
            std::fs::write(&expected_path, format!("{received}\n")).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        if expected.trim_end() != received {
            differences.push(format!(
                "{file}\n  expected: {}\n  received: {received}",
                expected.trim_end()
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} answers differ from tests/golden:\n{}",
        differences.len(),
        differences.join("\n")
    );
}
