//! The EPP commands a load run sends, in the standard domain and contact
//! namespaces only (RFC 5731, RFC 5733) and poll (RFC 5730); a server's
//! own contact data travels in a user-supplied `<extension>` fragment.

use crate::epp_client::Xml;
use crate::xml::ns;

/// `<domain:check>` of these names.
pub fn domain_check(names: &[String], cl_trid: &str) -> Vec<u8> {
    Xml::compact().command(
        |x| {
            x.open("check", &[])
                .open("domain:check", &[("xmlns:domain", ns::DOMAIN)]);
            for name in names {
                x.leaf("domain:name", &[], name);
            }
            x.close("domain:check").close("check");
        },
        cl_trid,
    )
}

/// `<domain:info>` of a name, every host.
pub fn domain_info(name: &str, cl_trid: &str) -> Vec<u8> {
    Xml::compact().command(
        |x| {
            x.open("info", &[])
                .open("domain:info", &[("xmlns:domain", ns::DOMAIN)])
                .leaf("domain:name", &[("hosts", "all")], name)
                .close("domain:info")
                .close("info");
        },
        cl_trid,
    )
}

/// `<domain:create>` for one year, `contact` as registrant, admin and tech.
pub fn domain_create(name: &str, contact: &str, auth: &str, cl_trid: &str) -> Vec<u8> {
    Xml::compact().command(
        |x| {
            x.open("create", &[])
                .open("domain:create", &[("xmlns:domain", ns::DOMAIN)])
                .leaf("domain:name", &[], name)
                .leaf("domain:period", &[("unit", "y")], "1")
                .leaf("domain:registrant", &[], contact)
                .leaf("domain:contact", &[("type", "admin")], contact)
                .leaf("domain:contact", &[("type", "tech")], contact)
                .open("domain:authInfo", &[])
                .leaf("domain:pw", &[], auth)
                .close("domain:authInfo")
                .close("domain:create")
                .close("create");
        },
        cl_trid,
    )
}

/// `<contact:create>` of an organisation in Rabat, with `extension` (an
/// XML fragment, written as it is) as the command's `<extension>`.
pub fn contact_create(id: &str, auth: &str, extension: Option<&str>, cl_trid: &str) -> Vec<u8> {
    Xml::compact().command(
        |x| {
            x.open("create", &[])
                .open("contact:create", &[("xmlns:contact", ns::CONTACT)])
                .leaf("contact:id", &[], id)
                .open("contact:postalInfo", &[("type", "loc")])
                .leaf("contact:name", &[], "Load Test Registrant")
                .leaf("contact:org", &[], "Load Test")
                .open("contact:addr", &[])
                .leaf("contact:street", &[], "1 Avenue Mohammed V")
                .leaf("contact:city", &[], "Rabat")
                .leaf("contact:pc", &[], "10000")
                .leaf("contact:cc", &[], "MA")
                .close("contact:addr")
                .close("contact:postalInfo")
                .leaf("contact:voice", &[], "+212.537000000")
                .leaf("contact:email", &[], "loadtest@example.ma")
                .open("contact:authInfo", &[])
                .leaf("contact:pw", &[], auth)
                .close("contact:authInfo")
                .close("contact:create")
                .close("create");
            if let Some(fragment) = extension {
                x.open("extension", &[]).raw(fragment).close("extension");
            }
        },
        cl_trid,
    )
}

/// `<poll op="req"/>`.
pub fn poll_req(cl_trid: &str) -> Vec<u8> {
    Xml::compact().command(
        |x| {
            x.open("poll", &[("op", "req")]).close("poll");
        },
        cl_trid,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_standard_epp() {
        let check = String::from_utf8(domain_check(&["a.ma".into(), "b.ma".into()], "t1")).unwrap();
        assert!(check.contains(r#"<domain:check xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>a.ma</domain:name><domain:name>b.ma</domain:name></domain:check>"#));
        assert!(check.contains("<clTRID>t1</clTRID>"));
        let plain = String::from_utf8(contact_create("c1", "Pw-12345", None, "t")).unwrap();
        assert!(!plain.contains("<extension>"));
        let ext = String::from_utf8(contact_create(
            "c1",
            "Pw-12345",
            Some("<x:e xmlns:x=\"u\"/>"),
            "t",
        ))
        .unwrap();
        assert!(ext.contains("</create><extension><x:e xmlns:x=\"u\"/></extension><clTRID>"));
        let poll = String::from_utf8(poll_req("t")).unwrap();
        assert!(poll.contains(r#"<poll op="req"></poll>"#));
    }
}
