//! Typed EPP requests: what the XML layer produces and the flows consume.

use std::net::IpAddr;

use chrono::NaiveDate;

use super::{ContactRole, Disclose, DsData, IdentityKind, Phone, PostalInfo, PostalType, Status};

/// A class of commands with its own quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandClass {
    /// check, info, transfer query, poll.
    Query,
    /// create, update, delete, renew, transfer request/approve/reject/cancel.
    Transform,
}

impl CommandClass {
    /// The class of a command: a property of the typed command
    /// ([`Command::is_transform`]), never of its name.
    pub fn of(command: &Command) -> Self {
        if command.is_transform() {
            CommandClass::Transform
        } else {
            CommandClass::Query
        }
    }

    /// Its name in `ma:quota`.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandClass::Query => "query",
            CommandClass::Transform => "transform",
        }
    }
}

/// One parsed EPP frame from a client.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The command.
    pub command: Command,
    /// The client transaction id, echoed in the response.
    pub cl_trid: Option<String>,
}

/// The object services of RFC 5731–5733.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// `urn:ietf:params:xml:ns:domain-1.0`
    Domain,
    /// `urn:ietf:params:xml:ns:contact-1.0`
    Contact,
    /// `urn:ietf:params:xml:ns:host-1.0`
    Host,
}

impl ObjectKind {
    /// The object's name as used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Domain => "domain",
            ObjectKind::Contact => "contact",
            ObjectKind::Host => "host",
        }
    }
}

/// Every request the server understands.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `<hello/>`
    Hello,
    /// `<login>`
    Login(Login),
    /// `<logout/>`
    Logout,
    /// `<info><quota:info/></info>`: the registrar's quotas and sessions.
    QuotaInfo,
    /// `<check>` of names or ids of one object kind.
    Check(ObjectKind, Vec<String>),
    /// `<domain:check>` with an RFC 8748 `<fee:check>`: the names and the
    /// commands (with their years) whose fees are asked.
    DomainCheckFee(Vec<String>, Vec<FeeQuery>, Option<String>),
    /// `<domain:info>`
    DomainInfo(DomainInfo),
    /// `<domain:create>`
    DomainCreate(DomainCreate),
    /// `<contact:info>`
    ContactInfo(ContactInfo),
    /// `<contact:create>`
    ContactCreate(ContactCreate),
    /// `<host:info>`
    HostInfo(String),
    /// `<host:create>`
    HostCreate(HostCreate),
    /// `<domain:update>`
    DomainUpdate(Box<DomainUpdate>),
    /// `<domain:delete>`
    DomainDelete(String),
    /// `<domain:renew>`
    DomainRenew(DomainRenew),
    /// `<contact:update>`
    ContactUpdate(Box<ContactUpdate>),
    /// `<contact:delete>`
    ContactDelete(String),
    /// `<host:update>`
    HostUpdate(HostUpdate),
    /// `<host:delete>`
    HostDelete(String),
    /// `<domain:transfer>`
    DomainTransfer(DomainTransfer),
    /// `<contact:transfer>`
    ContactTransfer(ContactTransfer),
    /// `<poll op="req"/>`
    PollRequest,
    /// `<poll op="ack" msgID="…"/>`
    PollAck(String),
}

impl Command {
    /// Whether the command changes the registry (create, update, delete,
    /// renew, a transfer's request, approval, rejection or cancellation):
    /// it takes the transform quota and gets a log line at `info`. Every
    /// command is listed, so a new one must be classed here.
    pub fn is_transform(&self) -> bool {
        match self {
            Command::DomainCreate(_)
            | Command::ContactCreate(_)
            | Command::HostCreate(_)
            | Command::DomainUpdate(_)
            | Command::DomainDelete(_)
            | Command::DomainRenew(_)
            | Command::ContactUpdate(_)
            | Command::ContactDelete(_)
            | Command::HostUpdate(_)
            | Command::HostDelete(_) => true,
            Command::DomainTransfer(DomainTransfer { op, .. })
            | Command::ContactTransfer(ContactTransfer { op, .. }) => *op != TransferOp::Query,
            Command::Hello
            | Command::Login(_)
            | Command::Logout
            | Command::QuotaInfo
            | Command::Check(..)
            | Command::DomainCheckFee(..)
            | Command::DomainInfo(_)
            | Command::ContactInfo(_)
            | Command::HostInfo(_)
            | Command::PollRequest
            | Command::PollAck(_) => false,
        }
    }

    /// A short name for logs and traces, e.g. `domain:create`.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Hello => "hello",
            Command::Login(_) => "login",
            Command::Logout => "logout",
            Command::QuotaInfo => "quota:info",
            Command::Check(ObjectKind::Domain, _) => "domain:check",
            Command::Check(ObjectKind::Contact, _) => "contact:check",
            Command::Check(ObjectKind::Host, _) => "host:check",
            Command::DomainCheckFee(..) => "domain:check",
            Command::DomainInfo(_) => "domain:info",
            Command::DomainCreate(_) => "domain:create",
            Command::ContactInfo(_) => "contact:info",
            Command::ContactCreate(_) => "contact:create",
            Command::HostInfo(_) => "host:info",
            Command::HostCreate(_) => "host:create",
            Command::DomainUpdate(_) => "domain:update",
            Command::DomainDelete(_) => "domain:delete",
            Command::DomainRenew(_) => "domain:renew",
            Command::ContactUpdate(_) => "contact:update",
            Command::ContactDelete(_) => "contact:delete",
            Command::HostUpdate(_) => "host:update",
            Command::HostDelete(_) => "host:delete",
            Command::DomainTransfer(t) => match t.op {
                TransferOp::Request => "domain:transfer-request",
                TransferOp::Query => "domain:transfer-query",
                TransferOp::Approve => "domain:transfer-approve",
                TransferOp::Reject => "domain:transfer-reject",
                TransferOp::Cancel => "domain:transfer-cancel",
            },
            Command::ContactTransfer(t) => match t.op {
                TransferOp::Request => "contact:transfer-request",
                TransferOp::Query => "contact:transfer-query",
                TransferOp::Approve => "contact:transfer-approve",
                TransferOp::Reject => "contact:transfer-reject",
                TransferOp::Cancel => "contact:transfer-cancel",
            },
            Command::PollRequest => "poll-req",
            Command::PollAck(_) => "poll-ack",
        }
    }
}

/// `<login>`
#[derive(Debug, Clone, PartialEq)]
pub struct Login {
    /// `clID`
    pub cl_id: String,
    /// `pw`
    pub password: String,
    /// `newPW`
    pub new_password: Option<String>,
    /// `options/version`
    pub version: String,
    /// `options/lang`
    pub lang: String,
    /// `svcs/objURI`
    pub obj_uris: Vec<String>,
    /// `svcs/svcExtension/extURI`
    pub ext_uris: Vec<String>,
    /// `<loginSec:userAgent>` (RFC 8807), when the client sent one.
    pub user_agent: Option<UserAgent>,
}

/// `<loginSec:userAgent>`: the client software, for the registry's logs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserAgent {
    /// `<loginSec:app>`: the client application.
    pub app: Option<String>,
    /// `<loginSec:tech>`: the technology it is built with.
    pub tech: Option<String>,
    /// `<loginSec:os>`: the operating system.
    pub os: Option<String>,
}

impl std::fmt::Display for UserAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = [&self.app, &self.tech, &self.os];
        let mut first = true;
        for part in parts.into_iter().flatten() {
            if !first {
                f.write_str("; ")?;
            }
            f.write_str(part)?;
            first = false;
        }
        Ok(())
    }
}

/// `hosts` attribute of `<domain:name>` in a domain info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostsFilter {
    /// Delegated and subordinate hosts.
    #[default]
    All,
    /// Delegated hosts only.
    Del,
    /// Subordinate hosts only.
    Sub,
    /// Neither.
    None,
}

/// `<domain:info>`
#[derive(Debug, Clone, PartialEq)]
pub struct DomainInfo {
    /// The name as sent.
    pub name: String,
    /// Which hosts to list.
    pub hosts: HostsFilter,
    /// The authInfo, when a non-sponsor asks for the full view.
    pub auth: Option<AuthInfo>,
}

/// An authInfo password, with the `roid` of the contact it belongs to when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthInfo {
    /// `<pw>` value.
    pub password: String,
    /// `roid` attribute: the registrant contact's roid whose authInfo this is.
    pub roid: Option<String>,
}

/// A registration period as sent (`unit` y or m).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodSpec {
    /// The number.
    pub value: u32,
    /// `true` for months, `false` for years.
    pub months: bool,
}

/// `<domain:create>`
#[derive(Debug, Clone, PartialEq)]
pub struct DomainCreate {
    /// The name as sent.
    pub name: String,
    /// Registration period.
    pub period: Option<PeriodSpec>,
    /// `hostObj` name servers.
    pub nameservers: Vec<String>,
    /// Whether `hostAttr` name servers were sent (not served).
    pub host_attr_used: bool,
    /// Registrant id.
    pub registrant: Option<String>,
    /// Other contacts.
    pub contacts: Vec<(ContactRole, String)>,
    /// authInfo password.
    pub auth_password: String,
    /// DNSSEC DS records (secDNS-1.1 `create`).
    pub ds_data: Vec<DsData>,
    /// Proof-of-right reference (`ma:domainCreate`, R2).
    pub proof_ref: Option<String>,
    /// An RFC 8495 allocation token (R4).
    pub allocation_token: Option<String>,
}

/// An identity document as sent in the .ma extension (R15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityDoc {
    /// Kind.
    pub kind: IdentityKind,
    /// Number.
    pub number: String,
}

/// What a domain update adds or removes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainDelta {
    /// Name servers (host object names).
    pub nameservers: Vec<String>,
    /// Contacts.
    pub contacts: Vec<(ContactRole, String)>,
    /// Statuses, with their optional explanation.
    pub statuses: Vec<Status>,
}

/// secDNS-1.1 `update`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecDnsUpdate {
    /// `rem/all`: remove every DS record first.
    pub remove_all: bool,
    /// `rem/dsData`.
    pub remove: Vec<DsData>,
    /// `add/dsData`.
    pub add: Vec<DsData>,
}

/// `<domain:update>`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainUpdate {
    /// The name as sent.
    pub name: String,
    /// `add`.
    pub add: DomainDelta,
    /// `rem`.
    pub rem: DomainDelta,
    /// `chg/registrant`.
    pub registrant: Option<String>,
    /// `chg/authInfo`: `Some("")` unsets it.
    pub auth_password: Option<String>,
    /// DNSSEC changes.
    pub sec_dns: Option<SecDnsUpdate>,
    /// Proof-of-right reference (`ma:update`, R2).
    pub proof_ref: Option<String>,
    /// Whether any `hostAttr` was sent (not served).
    pub host_attr_used: bool,
    /// An RFC 3915 restore (`rgp:update/rgp:restore`).
    pub restore: Option<RestoreOp>,
}

/// The `op` of an RFC 3915 restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreOp {
    /// Ask to restore a domain in redemption.
    Request,
    /// The restore report.
    Report,
}

/// `<domain:renew>`
#[derive(Debug, Clone, PartialEq)]
pub struct DomainRenew {
    /// The name as sent.
    pub name: String,
    /// `curExpDate`.
    pub current_expiry: NaiveDate,
    /// Period.
    pub period: Option<PeriodSpec>,
}

/// A change to one postal info (RFC 5733 `chg/postalInfo`).
#[derive(Debug, Clone, PartialEq)]
pub struct PostalChange {
    /// Which postal info.
    pub kind: PostalType,
    /// New name.
    pub name: Option<String>,
    /// New organisation (`Some(None)` removes it).
    pub org: Option<Option<String>>,
    /// New address: street, city, sp, pc, cc.
    pub addr: Option<PostalInfo>,
}

/// `<contact:update>`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactUpdate {
    /// The id.
    pub id: String,
    /// Statuses to add.
    pub add_statuses: Vec<Status>,
    /// Statuses to remove.
    pub rem_statuses: Vec<Status>,
    /// Postal info changes.
    pub postal: Vec<PostalChange>,
    /// New voice (`Some(None)` removes it).
    pub voice: Option<Option<Phone>>,
    /// New fax (`Some(None)` removes it).
    pub fax: Option<Option<Phone>>,
    /// New e-mail.
    pub email: Option<String>,
    /// New authInfo (`Some("")` unsets it).
    pub auth_password: Option<String>,
    /// New disclosure preferences.
    pub disclose: Option<Disclose>,
    /// New identity document (`ma:update`, R15).
    pub identity: Option<IdentityDoc>,
}

/// `<host:update>`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostUpdate {
    /// The host name as sent.
    pub name: String,
    /// Addresses to add.
    pub add_addrs: Vec<IpAddr>,
    /// Statuses to add.
    pub add_statuses: Vec<Status>,
    /// Addresses to remove.
    pub rem_addrs: Vec<IpAddr>,
    /// Statuses to remove.
    pub rem_statuses: Vec<Status>,
    /// New name.
    pub new_name: Option<String>,
}

/// One `<fee:command>` of a fee check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeQuery {
    /// `create`, `renew`, `restore` or `transfer`.
    pub command: &'static str,
    /// Years (default 1).
    pub years: u32,
}

/// The `op` of a `<transfer>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferOp {
    /// Ask for the object.
    Request,
    /// Ask for the transfer's state.
    Query,
    /// The losing registrar agrees.
    Approve,
    /// The losing registrar refuses.
    Reject,
    /// The gaining registrar withdraws.
    Cancel,
}

/// `<domain:transfer>`
#[derive(Debug, Clone, PartialEq)]
pub struct DomainTransfer {
    /// The op.
    pub op: TransferOp,
    /// The name as sent.
    pub name: String,
    /// A period (refused in .ma: a transfer never changes the expiry, R12).
    pub period: Option<PeriodSpec>,
    /// The authInfo.
    pub auth: Option<AuthInfo>,
    /// The reason of a rejection (`ma:transferReject`, R12).
    pub reject_reason: Option<String>,
}

/// `<contact:transfer>`
#[derive(Debug, Clone, PartialEq)]
pub struct ContactTransfer {
    /// The op.
    pub op: TransferOp,
    /// The contact id.
    pub id: String,
    /// The authInfo.
    pub auth: Option<AuthInfo>,
    /// The reason of a rejection (`ma:transferReject`), optional for contacts.
    pub reject_reason: Option<String>,
}

/// `<contact:info>`
#[derive(Debug, Clone, PartialEq)]
pub struct ContactInfo {
    /// The contact id.
    pub id: String,
    /// authInfo for a non-sponsor.
    pub auth: Option<AuthInfo>,
}

/// `<contact:create>`
#[derive(Debug, Clone, PartialEq)]
pub struct ContactCreate {
    /// Contact id.
    pub id: String,
    /// Postal infos.
    pub postal: Vec<PostalInfo>,
    /// Voice.
    pub voice: Option<Phone>,
    /// Fax.
    pub fax: Option<Phone>,
    /// E-mail.
    pub email: String,
    /// authInfo password.
    pub auth_password: String,
    /// Disclosure preferences.
    pub disclose: Option<Disclose>,
    /// Identity document (`ma:create`, R15).
    pub identity: Option<IdentityDoc>,
}

/// `<host:create>`
#[derive(Debug, Clone, PartialEq)]
pub struct HostCreate {
    /// Host name as sent.
    pub name: String,
    /// Addresses.
    pub addrs: Vec<IpAddr>,
}
