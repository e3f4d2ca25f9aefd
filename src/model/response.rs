//! Typed EPP responses: what flows return and the XML layer serializes.

use std::net::IpAddr;

use super::{
    CommandClass, ContactRole, Disclose, DsData, Identity, Lang, Phone, PostalInfo, ResultCode,
    Status, Text, Timestamp,
};

/// The state of one command quota bucket ([`crate::quota`]), as reported
/// to the registrar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaState {
    /// The class.
    pub class: CommandClass,
    /// Commands it may still send at once.
    pub remaining: u32,
    /// The bucket's size: commands per second.
    pub limit: u32,
    /// Seconds until the bucket is full again.
    pub reset_in: u32,
}

/// The greeting (RFC 5730 §2.4), sent on connect and in answer to `<hello>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Greeting<'a> {
    /// Server name.
    pub sv_id: &'a str,
    /// Server time.
    pub sv_date: Timestamp,
    /// Object URIs served.
    pub obj_uris: &'a [&'a str],
    /// Extension URIs served.
    pub ext_uris: &'a [&'a str],
}

/// An error's explanation: the offending value (if any) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtValue {
    /// The offending element, serialized by the XML layer, e.g. `<domain:name>x.ma</domain:name>`.
    pub value: Option<OffendingValue>,
    /// The reason, in both languages.
    pub reason: Text,
}

/// The client element a refusal points at (RFC 5730 `<value>`).
#[derive(Debug, Clone, PartialEq)]
pub enum OffendingValue {
    /// An element of an object namespace with its text.
    Element {
        /// Namespace prefix known to the XML layer: `domain`, `contact`, `host`, `epp`.
        ns: &'static str,
        /// Local name.
        name: &'static str,
        /// Text content.
        text: String,
    },
    /// Extension data the client did not select at login (RFC 9038).
    Extension(ResponseExtension),
}

/// Extension data of a response (`<extension>`).
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseExtension {
    /// `<secDNS:infData>` (RFC 5910).
    SecDnsInfo(Vec<DsData>),
    /// `<rgp:infData>` (RFC 3915): the grace period the domain is in.
    RgpInfo(&'static str),
    /// `<fee:creData>`, `<fee:renData>`, `<fee:updData>` (RFC 8748): the fee
    /// charged and the balance left.
    FeeTransform {
        /// `creData`, `renData` or `updData`.
        element: &'static str,
        /// Currency.
        currency: String,
        /// Years paid for.
        years: u32,
        /// Fee, centimes.
        fee: i64,
        /// Balance after, centimes.
        balance: i64,
    },
    /// `<fee:chkData>` (RFC 8748): prices of commands for names.
    FeeCheck {
        /// Currency.
        currency: String,
        /// Per name.
        items: Vec<FeeCheckItem>,
    },
    /// `<changePoll:changeData>` (RFC 8590).
    ChangePoll(super::ChangeRecord),
    /// `<ma:infData>`: a contact's identity document and its verification (R15).
    MaContactInfo(Option<Identity>),
    /// `<loginSec:loginSecData>` (RFC 8807): the login's security events.
    LoginSecData(Vec<SecurityEvent>),
    /// `<ma:quota>` elements: the state of the registrar's command quotas.
    MaQuota(Vec<QuotaState>),
    /// `<ma:domainInfData>`: the proof-of-right reference (R2).
    MaDomainInfo {
        /// Proof reference.
        proof_ref: Option<String>,
        /// A registrant change waiting for the registry (R13): the contact and when.
        pending_owner: Option<(String, Timestamp)>,
        /// Since when the domain is under dispute (R18).
        dispute: Option<Timestamp>,
    },
}

/// A response to one command.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The result code.
    pub code: ResultCode,
    /// Explanations of an error (zero or more `<extValue>`).
    pub ext_values: Vec<ExtValue>,
    /// The object data.
    pub res_data: Option<ResData>,
    /// The extension data the client selected at login.
    pub extensions: Vec<ResponseExtension>,
    /// The poll queue's state, for poll responses.
    pub msg_q: Option<MsgQ>,
    /// The language of `<msg>`.
    pub lang: Lang,
    /// Client transaction id.
    pub cl_trid: Option<String>,
    /// Server transaction id.
    pub sv_trid: String,
}

/// `<msgQ>`: the queue size and, for a request, the oldest message.
#[derive(Debug, Clone, PartialEq)]
pub struct MsgQ {
    /// Messages waiting.
    pub count: u64,
    /// The message's id.
    pub id: u64,
    /// When it was queued (requests only).
    pub queued: Option<Timestamp>,
    /// Its text (requests only).
    pub text: Option<Text>,
}

/// A command's price in a fee check: its name, years (0 when not applicable)
/// and fee in centimes.
pub type FeeLine = (&'static str, u32, i64);

/// One name of a fee check: the name, whether it is available, and the
/// price of each command asked.
pub type FeeCheckItem = (String, bool, Vec<FeeLine>);

/// One result of a `<check>`.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckItem {
    /// The name or id, as the registry writes it.
    pub name: String,
    /// Available for create.
    pub avail: bool,
    /// Why not, when not.
    pub reason: Option<Text>,
}

/// The `<resData>` payloads.
#[derive(Debug, Clone, PartialEq)]
pub enum ResData {
    /// `<quota:infData>`: a registrar's command quotas and sessions.
    QuotaInfo {
        /// The registrar.
        registrar: String,
        /// Each class of commands that has a quota.
        buckets: Vec<QuotaState>,
        /// Concurrent sessions allowed.
        session_limit: u32,
        /// Sessions open now, this one included.
        sessions_open: u32,
    },
    /// `<domain:chkData>`, `<contact:chkData>`, `<host:chkData>`
    Check(super::ObjectKind, Vec<CheckItem>),
    /// `<domain:infData>`
    DomainInfo(Box<DomainInfoData>),
    /// `<domain:renData>`
    DomainRenew {
        /// Name.
        name: String,
        /// New expiry date.
        expires: Timestamp,
    },
    /// `<domain:trnData>`
    DomainTransfer {
        /// Name.
        name: String,
        /// The transfer.
        transfer: super::Transfer,
        /// Expiry date.
        expires: Timestamp,
    },
    /// `<contact:trnData>`
    ContactTransfer {
        /// Id.
        id: String,
        /// The transfer.
        transfer: super::Transfer,
    },
    /// `<domain:panData>`
    DomainPendingAction {
        /// Name.
        name: String,
        /// Approved or not.
        result: bool,
        /// Client trid of the original command.
        cl_trid: Option<String>,
        /// Server trid of the original command.
        sv_trid: String,
        /// Decision date.
        date: Timestamp,
    },
    /// `<domain:creData>`
    DomainCreate {
        /// Name.
        name: String,
        /// Creation date.
        created: Timestamp,
        /// Expiry date.
        expires: Timestamp,
    },
    /// `<contact:infData>`
    ContactInfo(Box<ContactInfoData>),
    /// `<contact:creData>`
    ContactCreate {
        /// Id.
        id: String,
        /// Creation date.
        created: Timestamp,
    },
    /// `<host:infData>`
    HostInfo(Box<HostInfoData>),
    /// `<host:creData>`
    HostCreate {
        /// Name.
        name: String,
        /// Creation date.
        created: Timestamp,
    },
}

/// `<domain:infData>`: the full view has every field, the limited view only
/// name, roid, statuses, sponsor and dates.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainInfoData {
    /// Name.
    pub name: String,
    /// Roid.
    pub roid: String,
    /// Statuses, derived ones included.
    pub statuses: Vec<Status>,
    /// Registrant (full view).
    pub registrant: Option<String>,
    /// Contacts (full view).
    pub contacts: Vec<(ContactRole, String)>,
    /// Delegated name servers (full view, per `hosts`).
    pub nameservers: Vec<String>,
    /// Subordinate hosts (full view, per `hosts`).
    pub subordinate_hosts: Vec<String>,
    /// Sponsor.
    pub sponsor: String,
    /// Creator (full view).
    pub created_by: Option<String>,
    /// Creation date.
    pub created: Timestamp,
    /// Last updater (full view).
    pub updated_by: Option<String>,
    /// Last update (full view).
    pub updated: Option<Timestamp>,
    /// Expiry.
    pub expires: Timestamp,
    /// Last transfer (full view).
    pub transferred: Option<Timestamp>,
}

/// `<contact:infData>`
#[derive(Debug, Clone, PartialEq)]
pub struct ContactInfoData {
    /// Id.
    pub id: String,
    /// Roid.
    pub roid: String,
    /// Statuses.
    pub statuses: Vec<Status>,
    /// Postal infos.
    pub postal: Vec<PostalInfo>,
    /// Voice.
    pub voice: Option<Phone>,
    /// Fax.
    pub fax: Option<Phone>,
    /// E-mail.
    pub email: String,
    /// Sponsor.
    pub sponsor: String,
    /// Creator.
    pub created_by: String,
    /// Created.
    pub created: Timestamp,
    /// Last updater.
    pub updated_by: Option<String>,
    /// Last update.
    pub updated: Option<Timestamp>,
    /// Last transfer.
    pub transferred: Option<Timestamp>,
    /// Disclosure preferences.
    pub disclose: Option<Disclose>,
}

/// `<host:infData>`
#[derive(Debug, Clone, PartialEq)]
pub struct HostInfoData {
    /// Name.
    pub name: String,
    /// Roid.
    pub roid: String,
    /// Statuses.
    pub statuses: Vec<Status>,
    /// Addresses.
    pub addrs: Vec<IpAddr>,
    /// Sponsor.
    pub sponsor: String,
    /// Creator.
    pub created_by: String,
    /// Created.
    pub created: Timestamp,
    /// Last updater.
    pub updated_by: Option<String>,
    /// Last update.
    pub updated: Option<Timestamp>,
    /// Last transfer.
    pub transferred: Option<Timestamp>,
}

/// The kind of an RFC 8807 login security event (`type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityEventKind {
    /// The password expires soon, or has expired.
    Password,
    /// The client certificate expires soon.
    Certificate,
    /// The new password is refused.
    NewPassword,
    /// A statistic about the registrar's logins (`name` says which).
    Stat,
}

impl SecurityEventKind {
    /// The `type` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityEventKind::Password => "password",
            SecurityEventKind::Certificate => "certificate",
            SecurityEventKind::NewPassword => "newPW",
            SecurityEventKind::Stat => "stat",
        }
    }
}

/// An RFC 8807 `<loginSec:event>`.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityEvent {
    /// `type`.
    pub kind: SecurityEventKind,
    /// `name`: which statistic, for [`SecurityEventKind::Stat`].
    pub name: Option<&'static str>,
    /// `level`: an error refuses the login; a warning does not.
    pub error: bool,
    /// `exDate`: when the password or certificate expires or expired.
    pub ex_date: Option<Timestamp>,
    /// `value`: the statistic's value.
    pub value: Option<String>,
    /// The description, in the session's language.
    pub text: super::Text,
}
