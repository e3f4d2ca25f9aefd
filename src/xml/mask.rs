//! The request as the history keeps it (R24): the client's XML with every
//! password masked. The masking reads the document with quick-xml, so a
//! password is found whatever its lexical form (CDATA, character
//! references, comments or processing instructions around or inside it,
//! attributes, any namespace prefix); everything outside the password
//! elements is kept byte for byte.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// What replaces the content of a password element.
pub const MASK: &str = "********";

/// Whether an element of this local name holds a secret: `<pw>` and
/// `<newPW>` in any namespace (EPP login, authInfo of domains and contacts,
/// RFC 8807 `<loginSec:pw>` and `<loginSec:newPW>`).
fn holds_secret(local_name: &str) -> bool {
    local_name == "pw" || local_name == "newPW"
}

/// `xml` with the whole content of every password element (see
/// [`holds_secret`]) replaced by [`MASK`]; the start and end tags, and
/// everything else, are kept as they were sent, so the result is
/// well-formed XML. `None` when `xml` is not well-formed UTF-8 XML: no
/// request reaches a flow unparsed, and a request that could not be read
/// is not kept at all rather than kept unmasked.
pub fn mask_passwords(xml: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(xml).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    {
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.check_comments = true;
    }
    let mut out = String::with_capacity(text.len());
    // Elements open inside the password element being masked (itself
    // included); 0 outside one.
    let mut depth = 0usize;
    let mut hidden = false;
    // Elements open in the whole document.
    let mut open = 0usize;
    loop {
        let start = usize::try_from(reader.buffer_position()).ok()?;
        let event = reader.read_event().ok()?;
        let end = usize::try_from(reader.buffer_position()).ok()?;
        let raw = text.get(start..end)?;
        match &event {
            Event::Start(_) => open += 1,
            Event::End(_) => open = open.checked_sub(1)?,
            _ => {}
        }
        match event {
            Event::Eof => break,
            Event::DocType(_) => return None,
            Event::Start(tag) if depth == 0 => {
                out.push_str(raw);
                if holds_secret(tag.local_name().as_ref()) {
                    depth = 1;
                    hidden = false;
                }
            }
            _ if depth == 0 => out.push_str(raw),
            Event::Start(_) => {
                depth += 1;
                hidden = true;
            }
            Event::End(_) => {
                depth -= 1;
                if depth == 0 {
                    if hidden {
                        out.push_str(MASK);
                    }
                    out.push_str(raw);
                } else {
                    hidden = true;
                }
            }
            _ => hidden |= !raw.is_empty(),
        }
    }
    (open == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(xml: &str) -> String {
        mask_passwords(xml.as_bytes()).unwrap()
    }

    fn assert_hidden(xml: &str, secret: &str) {
        let out = masked(xml);
        assert!(!out.contains(secret), "{secret} kept in {out}");
        assert!(out.contains(MASK), "nothing masked in {out}");
        assert!(
            roxmltree::Document::parse(&out).is_ok(),
            "not well-formed: {out}"
        );
    }

    const D: &str = r#"xmlns:domain="urn:ietf:params:xml:ns:domain-1.0""#;

    #[test]
    fn plain_password_is_masked_and_the_rest_kept() {
        let xml = format!(
            r#"<?xml version="1.0"?><epp><domain:create {D}><domain:name>a.ma</domain:name><domain:authInfo><domain:pw>Secret-1</domain:pw></domain:authInfo></domain:create></epp>"#
        );
        assert_eq!(masked(&xml), xml.replace("Secret-1", MASK));
    }

    #[test]
    fn every_lexical_form_is_masked() {
        for (xml, secret) in [
            (
                format!("<e><domain:pw {D}><![CDATA[Cdata-Secret]]></domain:pw></e>"),
                "Cdata-Secret",
            ),
            (
                format!("<e><domain:pw {D}>Com<!-- c -->ment-Secret</domain:pw></e>"),
                "ment-Secret",
            ),
            (
                format!("<e><domain:pw {D}><!-- c -->After-Comment</domain:pw></e>"),
                "After-Comment",
            ),
            (
                format!("<e><domain:pw {D}><?pi x?>After-PI</domain:pw></e>"),
                "After-PI",
            ),
            (
                format!("<e><domain:pw {D}>&#115;&#x65;cret-Ref</domain:pw></e>"),
                "cret-Ref",
            ),
            (
                format!("<e><domain:pw {D}>Amp&amp;Secret</domain:pw></e>"),
                "Secret",
            ),
            (
                format!(r#"<e><domain:pw {D} roid="C1-MA">Roid-Secret</domain:pw></e>"#),
                "Roid-Secret",
            ),
            (
                format!("<e><domain:pw {D}\n>Spaced-Secret</domain:pw ></e>"),
                "Spaced-Secret",
            ),
            (
                "<e><!-- <pw> --><?pi <pw>?><x:pw xmlns:x=\"u\">Prefixed-Secret</x:pw></e>".into(),
                "Prefixed-Secret",
            ),
            (
                "<e><pw>Login-Secret</pw><newPW>New-Secret</newPW></e>".into(),
                "Secret",
            ),
            (
                r#"<e><loginSec:loginSec xmlns:loginSec="urn:ietf:params:xml:ns:epp:loginSec-1.0"><loginSec:pw>Long-Secret-Passphrase</loginSec:pw><loginSec:newPW>Other-Long-Passphrase</loginSec:newPW></loginSec:loginSec></e>"#.into(),
                "Passphrase",
            ),
            (
                "<e><pw><x>Nested-Secret</x></pw></e>".into(),
                "Nested-Secret",
            ),
        ] {
            assert_hidden(&xml, secret);
        }
    }

    #[test]
    fn empty_password_elements_stay_empty() {
        let xml = format!("<e><domain:pw {D}/><domain:pw {D}></domain:pw></e>");
        assert_eq!(masked(&xml), xml);
    }

    #[test]
    fn other_elements_are_kept_byte_for_byte() {
        let xml = "<?xml version=\"1.0\"?>\n<!-- c --><e a='1'><password>kept</password><![CDATA[x]]>&amp;<pwd>kept</pwd></e>\n";
        assert_eq!(masked(xml), xml);
    }

    #[test]
    fn malformed_xml_is_not_kept() {
        for bad in ["<e><pw>x</e>", "<e><pw>x", "<e>", "<!DOCTYPE e><e/>"] {
            assert_eq!(mask_passwords(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(mask_passwords(b"<e>\xff</e>"), None);
    }
}
