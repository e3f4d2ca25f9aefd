//! The RDAP JSON (RFC 9083) the service answers, as serde types: the
//! domain, nameserver and entity object classes, entities as jCard
//! (RFC 7095), errors, help, search results, and the top-level members
//! (`rdapConformance`, `notices`, RFC 9537 `redacted`). `build.rs` makes
//! them from the registry's records.

use std::collections::BTreeMap;

use serde::Serialize;

/// The media type of every answer (RFC 7480 §4.2).
pub const MEDIA_TYPE: &str = "application/rdap+json";

/// What the service conforms to: RDAP itself and RFC 9537 redaction.
pub const CONFORMANCE: &[&str] = &["rdap_level_0", "redacted"];

/// A link (RFC 9083 §4.2).
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    /// The context URI: the object's own URL.
    pub value: String,
    /// The relation, e.g. `self`.
    pub rel: &'static str,
    /// The target.
    pub href: String,
    /// The target's media type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub media_type: Option<&'static str>,
}

/// A notice or a remark (RFC 9083 §4.3).
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    /// Its title.
    pub title: String,
    /// A registered type (RFC 9083 §10.2.1), when one fits.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// Its text, one string per paragraph.
    pub description: Vec<String>,
    /// Where to read more.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

/// An event (RFC 9083 §4.5).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// What happened (RFC 9083 §10.2.3).
    pub event_action: &'static str,
    /// When, RFC 3339.
    pub event_date: String,
}

/// One jCard property: name, parameters, value type, value (RFC 7095).
#[derive(Debug, Clone, Serialize)]
pub struct VcardProperty(
    pub &'static str,
    pub BTreeMap<&'static str, Vec<&'static str>>,
    pub &'static str,
    pub String,
);

/// `["vcard", [properties…]]`.
#[derive(Debug, Clone, Serialize)]
pub struct VcardArray(&'static str, Vec<VcardProperty>);

impl VcardArray {
    /// The jCard of `properties`, after its `version`.
    pub fn new(properties: Vec<VcardProperty>) -> Self {
        let mut all = vec![text("version", "4.0")];
        all.extend(properties);
        Self("vcard", all)
    }
}

/// A text property.
pub fn text(name: &'static str, value: &str) -> VcardProperty {
    VcardProperty(name, BTreeMap::new(), "text", value.to_owned())
}

/// An entity (RFC 9083 §5.1): a registrar or a contact.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entity {
    /// `entity`.
    pub object_class_name: &'static str,
    /// The registrar's clID or the contact's id.
    pub handle: String,
    /// Its roles toward the enclosing object.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<&'static str>,
    /// Its jCard.
    pub vcard_array: VcardArray,
    /// RDAP statuses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<&'static str>,
    /// Events.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    /// Remarks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remarks: Vec<Notice>,
    /// Its `self` link.
    pub links: Vec<Link>,
    /// The WHOIS host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port43: Option<String>,
}

/// A name server's addresses.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IpAddresses {
    /// IPv4.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub v4: Vec<String>,
    /// IPv6.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub v6: Vec<String>,
}

/// A nameserver (RFC 9083 §5.2).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Nameserver {
    /// `nameserver`.
    pub object_class_name: &'static str,
    /// The host's roid, when the host object is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// The name, A-labels.
    pub ldh_name: String,
    /// The name, U-labels.
    pub unicode_name: String,
    /// Its glue addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<IpAddresses>,
    /// RDAP statuses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<&'static str>,
    /// Events.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    /// The sponsoring registrar.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<Entity>,
    /// Its `self` link.
    pub links: Vec<Link>,
    /// The WHOIS host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port43: Option<String>,
}

/// One DS record (RFC 9083 §5.3).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DsData {
    /// Key tag.
    pub key_tag: u16,
    /// DNSSEC algorithm number.
    pub algorithm: u8,
    /// The digest, hex.
    pub digest: String,
    /// Digest type number.
    pub digest_type: u8,
}

/// `secureDNS`.
#[derive(Debug, Clone, Serialize)]
pub struct SecureDns {
    /// Whether DS records are published for the domain.
    #[serde(rename = "delegationSigned")]
    pub delegation_signed: bool,
    /// The DS records.
    #[serde(rename = "dsData", skip_serializing_if = "Vec::is_empty")]
    pub ds_data: Vec<DsData>,
}

/// A domain (RFC 9083 §5.3).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainObject {
    /// `domain`.
    pub object_class_name: &'static str,
    /// The roid.
    pub handle: String,
    /// The name, A-labels.
    pub ldh_name: String,
    /// The name, U-labels.
    pub unicode_name: String,
    /// RDAP statuses.
    pub status: Vec<&'static str>,
    /// Registration, expiration, last changed, transfer, database update.
    pub events: Vec<Event>,
    /// Registrar, registrant, administrative and technical contacts.
    pub entities: Vec<Entity>,
    /// Its name servers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<Nameserver>,
    /// DS data.
    #[serde(rename = "secureDNS")]
    pub secure_dns: SecureDns,
    /// Remarks (a dispute).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remarks: Vec<Notice>,
    /// Its `self` link.
    pub links: Vec<Link>,
    /// The WHOIS host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port43: Option<String>,
}

/// An error (RFC 9083 §6).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The HTTP status.
    pub error_code: u16,
    /// A short title.
    pub title: String,
    /// What happened.
    pub description: Vec<String>,
}

/// Domain search results (RFC 9083 §8).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainSearch {
    /// The domains found.
    pub domain_search_results: Vec<DomainObject>,
}

/// The help answer: only the top-level members.
#[derive(Debug, Clone, Serialize)]
pub struct Help {}

/// Text a `redacted` member carries.
#[derive(Debug, Clone, Serialize)]
pub struct Described {
    /// The text.
    pub description: String,
}

/// One withheld field (RFC 9537 §4.2), removed from the answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Redacted {
    /// Which field.
    pub name: Described,
    /// Where it would have been (JSONPath).
    pub pre_path: String,
    /// `removal`.
    pub method: &'static str,
    /// Why.
    pub reason: Described,
}

/// A whole answer: the object and the members only the topmost object
/// carries (RFC 9083 §4.1, §4.3; RFC 9537).
#[derive(Debug, Clone, Serialize)]
pub struct Top<T: Serialize> {
    /// `rdapConformance`.
    #[serde(rename = "rdapConformance")]
    pub conformance: &'static [&'static str],
    /// The object.
    #[serde(flatten)]
    pub body: T,
    /// Notices: the terms of use.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
    /// What R16 or a contact withheld.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redacted: Vec<Redacted>,
}
