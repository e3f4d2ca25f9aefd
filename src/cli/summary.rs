//! What `client` prints of a response: a readable summary (the result code
//! and message, the reason, the transaction ids, and the response data as
//! indented `name: value` lines), or with `--xml` the whole document,
//! indented.

use std::fmt::Write as _;

use crate::xml::dom::{Element, XmlLimits, parse_document};

/// The summary of one response; the raw text when it does not parse.
pub fn summary(xml: &[u8]) -> String {
    let limits = XmlLimits {
        max_depth: 64,
        max_elements: 1 << 20,
        max_value_bytes: 1 << 20,
    };
    let Ok(epp) = parse_document(xml, limits) else {
        return String::from_utf8_lossy(xml).into_owned();
    };
    let mut out = String::new();
    let Some(body) = epp.children.first() else {
        return out;
    };
    if body.name == "greeting" {
        let _ = writeln!(out, "greeting from {}", child_text(body, "svID"));
        return out;
    }
    for result in body.children.iter().filter(|e| e.name == "result") {
        let _ = writeln!(
            out,
            "{} {}",
            result.attr("code").unwrap_or("?"),
            child_text(result, "msg")
        );
        for ext_value in result.children.iter().filter(|e| e.name == "extValue") {
            let reason = child_text(ext_value, "reason");
            if !reason.is_empty() {
                let _ = writeln!(out, "  reason: {reason}");
            }
        }
    }
    if let Some(queue) = body.children.iter().find(|e| e.name == "msgQ") {
        let _ = writeln!(
            out,
            "  poll queue: {} message(s), this one {}",
            queue.attr("count").unwrap_or("?"),
            queue.attr("id").unwrap_or("?")
        );
        let msg = child_text(queue, "msg");
        if !msg.is_empty() {
            let _ = writeln!(out, "  message: {msg}");
        }
    }
    for section in ["resData", "extension"] {
        if let Some(data) = body.children.iter().find(|e| e.name == section) {
            for object in &data.children {
                fields(&mut out, object, 1);
            }
        }
    }
    if let Some(tr_id) = body.children.iter().find(|e| e.name == "trID") {
        let _ = writeln!(
            out,
            "  clTRID {}  svTRID {}",
            or_dash(&child_text(tr_id, "clTRID")),
            or_dash(&child_text(tr_id, "svTRID"))
        );
    }
    out
}

/// One element as `name: text [attr=value …]`, its children indented below.
fn fields(out: &mut String, e: &Element, depth: usize) {
    let indent = "  ".repeat(depth);
    let attrs: Vec<String> = e.attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let text = e.text.trim();
    let _ = match (text.is_empty(), attrs.is_empty()) {
        (true, true) => writeln!(out, "{indent}{}:", e.name),
        (true, false) => writeln!(out, "{indent}{}: [{}]", e.name, attrs.join(" ")),
        (false, true) => writeln!(out, "{indent}{}: {text}", e.name),
        (false, false) => writeln!(out, "{indent}{}: {text} [{}]", e.name, attrs.join(" ")),
    };
    for child in &e.children {
        fields(out, child, depth + 1);
    }
}

fn child_text(e: &Element, name: &str) -> String {
    e.children
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.text.trim().to_owned())
        .unwrap_or_default()
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

/// The document indented, two spaces a level; the raw text when it does
/// not parse.
pub fn indented(xml: &[u8]) -> String {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(event) => {
                if writer.write_event(event).is_err() {
                    return String::from_utf8_lossy(xml).into_owned();
                }
            }
            Err(_) => return String::from_utf8_lossy(xml).into_owned(),
        }
    }
    String::from_utf8_lossy(&writer.into_inner()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><response><result code="1000"><msg>Command completed successfully</msg></result><resData><domain:chkData xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:cd><domain:name avail="1">libre.ma</domain:name></domain:cd><domain:cd><domain:name avail="0">pris.ma</domain:name><domain:reason>in use</domain:reason></domain:cd></domain:chkData></resData><trID><clTRID>c-1</clTRID><svTRID>MA-1-2</svTRID></trID></response></epp>"#;

    #[test]
    fn a_check_reads_as_code_message_and_one_line_per_field() {
        let text = summary(CHECK.as_bytes());
        assert!(
            text.starts_with("1000 Command completed successfully\n"),
            "{text}"
        );
        assert!(text.contains("      name: libre.ma [avail=1]\n"), "{text}");
        assert!(text.contains("      reason: in use\n"), "{text}");
        assert!(text.contains("  clTRID c-1  svTRID MA-1-2\n"), "{text}");
        assert!(!text.contains('<'), "{text}");
    }

    #[test]
    fn an_error_shows_its_reason() {
        let xml = r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><response><result code="2306"><msg>Parameter value policy error</msg><extValue><value><undef/></value><reason>R3: too long</reason></extValue></result><trID><svTRID>MA-1-3</svTRID></trID></response></epp>"#;
        let text = summary(xml.as_bytes());
        assert!(
            text.starts_with("2306 Parameter value policy error\n  reason: R3: too long\n"),
            "{text}"
        );
        assert!(text.contains("clTRID -  svTRID MA-1-3"), "{text}");
    }

    #[test]
    fn the_xml_option_indents_the_document() {
        let text = indented(CHECK.as_bytes());
        assert!(
            text.contains("\n  <response>\n    <result code=\"1000\">"),
            "{text}"
        );
    }
}
