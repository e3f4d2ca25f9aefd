//! The XML namespaces the server knows, and which of them it serves.

/// RFC 5730 EPP.
pub const EPP: &str = "urn:ietf:params:xml:ns:epp-1.0";
/// RFC 5731 domain.
pub const DOMAIN: &str = "urn:ietf:params:xml:ns:domain-1.0";
/// RFC 5733 contact.
pub const CONTACT: &str = "urn:ietf:params:xml:ns:contact-1.0";
/// RFC 5732 host.
pub const HOST: &str = "urn:ietf:params:xml:ns:host-1.0";
/// RFC 5910 DNSSEC.
pub const SECDNS: &str = "urn:ietf:params:xml:ns:secDNS-1.1";
/// RFC 8748 fees.
pub const FEE: &str = "urn:ietf:params:xml:ns:epp:fee-1.0";
/// RFC 8495 allocation tokens.
pub const ALLOCATION_TOKEN: &str = "urn:ietf:params:xml:ns:allocationToken-1.0";
/// RFC 3915 grace periods.
pub const RGP: &str = "urn:ietf:params:xml:ns:rgp-1.0";
/// RFC 8590 change poll.
pub const CHANGE_POLL: &str = "urn:ietf:params:xml:ns:changePoll-1.0";
/// RFC 8807 login security.
pub const LOGIN_SEC: &str = "urn:ietf:params:xml:ns:epp:loginSec-1.0";
/// The registry's quota mapping: a registrar reads its command quotas and
/// session count.
pub const QUOTA: &str = "http://www.anrt.ma/epp/quota-1.0";
/// The registry's own `.ma` extension.
pub const MA: &str = "http://www.anrt.ma/epp/ma-1.0";

/// Object URIs served, in greeting order.
pub const OBJECT_URIS: &[&str] = &[DOMAIN, CONTACT, HOST, QUOTA];

/// Extension URIs served, in greeting order.
pub const EXTENSION_URIS: &[&str] = &[
    SECDNS,
    RGP,
    FEE,
    ALLOCATION_TOKEN,
    CHANGE_POLL,
    LOGIN_SEC,
    MA,
];

/// A namespace, resolved once while parsing so later matching is a cheap compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ns {
    /// No namespace.
    None,
    /// EPP.
    Epp,
    /// domain-1.0
    Domain,
    /// contact-1.0
    Contact,
    /// host-1.0
    Host,
    /// secDNS-1.1
    SecDns,
    /// rgp-1.0
    Rgp,
    /// allocationToken-1.0
    AllocationToken,
    /// fee-1.0
    Fee,
    /// loginSec-1.0
    LoginSec,
    /// The quota mapping.
    Quota,
    /// The .ma extension.
    Ma,
    /// Any other URI.
    Other(String),
}

impl Ns {
    /// Classifies a namespace URI.
    pub fn from_uri(uri: &str) -> Ns {
        match uri {
            "urn:ietf:params:xml:ns:epp-1.0" => Ns::Epp,
            "urn:ietf:params:xml:ns:domain-1.0" => Ns::Domain,
            "urn:ietf:params:xml:ns:contact-1.0" => Ns::Contact,
            "urn:ietf:params:xml:ns:host-1.0" => Ns::Host,
            "urn:ietf:params:xml:ns:secDNS-1.1" => Ns::SecDns,
            "urn:ietf:params:xml:ns:rgp-1.0" => Ns::Rgp,
            "urn:ietf:params:xml:ns:allocationToken-1.0" => Ns::AllocationToken,
            "urn:ietf:params:xml:ns:epp:fee-1.0" => Ns::Fee,
            "urn:ietf:params:xml:ns:epp:loginSec-1.0" => Ns::LoginSec,
            "http://www.anrt.ma/epp/quota-1.0" => Ns::Quota,
            "http://www.anrt.ma/epp/ma-1.0" => Ns::Ma,
            other => Ns::Other(other.to_owned()),
        }
    }

    /// The URI.
    pub fn uri(&self) -> &str {
        match self {
            Ns::None => "",
            Ns::Epp => EPP,
            Ns::Domain => DOMAIN,
            Ns::Contact => CONTACT,
            Ns::Host => HOST,
            Ns::SecDns => SECDNS,
            Ns::Rgp => RGP,
            Ns::AllocationToken => ALLOCATION_TOKEN,
            Ns::Fee => FEE,
            Ns::LoginSec => LOGIN_SEC,
            Ns::Quota => QUOTA,
            Ns::Ma => MA,
            Ns::Other(uri) => uri,
        }
    }
}

/// The namespace of a response extension.
pub fn extension_uri(ext: &crate::model::ResponseExtension) -> &'static str {
    use crate::model::ResponseExtension::*;
    match ext {
        SecDnsInfo(_) => SECDNS,
        RgpInfo(_) => RGP,
        FeeTransform { .. } | FeeCheck { .. } => FEE,
        ChangePoll(_) => CHANGE_POLL,
        LoginSecData(_) => LOGIN_SEC,
        MaContactInfo(_) | MaDomainInfo { .. } | MaQuota(_) => MA,
    }
}
