//! The registry's objects as stored: registrars, domains, contacts and hosts.
//! Records are versioned serde structs; the store owns how they are encoded.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

use super::Status;

/// Time as the registry records it.
pub type Timestamp = DateTime<Utc>;

/// A registrar's standing with the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistrarState {
    /// May log in and transact.
    Active,
    /// Temporarily barred from logging in.
    Suspended,
    /// Contract ended (R19): may not log in.
    Terminated,
}

/// An accredited registrar (*prestataire*), an EPP client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registrar {
    /// The EPP `clID`.
    pub id: String,
    /// The registrar's name.
    pub name: String,
    /// The argon2 PHC string of its EPP password.
    pub password_hash: String,
    /// SHA-256 fingerprints (lower-case hex) of the client certificates it may present.
    pub cert_fingerprints: Vec<String>,
    /// Addresses it may connect from; empty means any.
    pub ip_allow: Vec<ipnet::IpNet>,
    /// Concurrent EPP sessions allowed; `None` uses the configured default.
    pub session_limit: Option<u32>,
    /// Active, suspended or terminated.
    pub state: RegistrarState,
    /// Contact e-mail of the registrar.
    pub email: Option<String>,
    /// When the registrar was added.
    pub created: Timestamp,
    /// Its postal address (data escrow, RFC 9022, requires one).
    pub address: Option<RegistrarAddress>,
    /// When its EPP password was last set: its age decides the RFC 8807
    /// expiry warnings and, with a maximum age configured, its expiry.
    pub password_set: Timestamp,
}

/// A registrar's postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrarAddress {
    /// Street lines (1–3).
    pub street: Vec<String>,
    /// City.
    pub city: String,
    /// State or province.
    pub sp: Option<String>,
    /// Postal code.
    pub pc: Option<String>,
    /// ISO 3166 country code, upper case.
    pub cc: String,
}

/// A salted SHA-256 of an authInfo password: the store never keeps the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthHash {
    /// Random salt.
    pub salt: [u8; 16],
    /// SHA-256(salt ‖ password).
    pub digest: [u8; 32],
    /// When it was set (for its time-to-live, RFC 9154).
    pub set_at: Timestamp,
}

/// The role of a contact on a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ContactRole {
    /// Administrative contact.
    Admin,
    /// Technical contact.
    Tech,
    /// Billing contact.
    Billing,
}

impl ContactRole {
    /// As written in `<domain:contact type="…">`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactRole::Admin => "admin",
            ContactRole::Tech => "tech",
            ContactRole::Billing => "billing",
        }
    }

    /// Parses the `type` attribute.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(ContactRole::Admin),
            "tech" => Some(ContactRole::Tech),
            "billing" => Some(ContactRole::Billing),
            _ => None,
        }
    }
}

/// A domain contact association.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DomainContact {
    /// Its role.
    pub role: ContactRole,
    /// The contact's id.
    pub id: String,
}

/// A registered domain name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// The name, lower case, A-labels.
    pub name: String,
    /// Repository object id.
    pub roid: String,
    /// The registrant contact's id.
    pub registrant: String,
    /// Admin, tech and billing contacts.
    pub contacts: Vec<DomainContact>,
    /// Delegated name servers (host object names).
    pub nameservers: Vec<String>,
    /// Stored statuses (`client*`, `server*`, `pending*`); `ok`/`inactive` are derived.
    pub statuses: Vec<Status>,
    /// Sponsoring registrar.
    pub sponsor: String,
    /// Registrar that created it.
    pub created_by: String,
    /// Creation date.
    pub created: Timestamp,
    /// Last registrar to update it.
    pub updated_by: Option<String>,
    /// Last update.
    pub updated: Option<Timestamp>,
    /// Expiry date.
    pub expires: Timestamp,
    /// Last transfer.
    pub transferred: Option<Timestamp>,
    /// Hash of its authInfo.
    pub auth: Option<AuthHash>,
    /// Hosts subordinate to this domain (in-bailiwick name servers), by name.
    pub subordinate_hosts: Vec<String>,
    /// DNSSEC delegation signer records (RFC 5910).
    pub ds_data: Vec<DsData>,
    /// Reference of the proof of the registrant's right, for restricted zones (R2).
    pub proof_ref: Option<String>,
    /// The last transfer, pending or done.
    pub transfer: Option<Transfer>,
    /// A registrant change waiting for the registry (R13).
    pub pending_owner: Option<PendingOwner>,
    /// When the sponsor deleted it: its 30-day redemption runs from then (R11).
    pub deleted: Option<Timestamp>,
    /// Whether the registry put it on `serverHold` because its registrant's
    /// identity is not verified (R15), so that verification lifts only that hold.
    pub identity_hold: bool,
    /// Since when the domain is under dispute (R18), if it is.
    pub dispute: Option<Timestamp>,
    /// A pending create the registry found incomplete (R2): what is missing
    /// and the deadline to complete it.
    pub incomplete: Option<(String, Timestamp)>,
}

impl Domain {
    /// The statuses of the domain as answered (EPP info, WHOIS, escrow):
    /// the stored ones, `inactive` without name servers, `ok` when nothing
    /// else applies.
    pub fn derived_statuses(&self) -> Vec<Status> {
        let mut statuses = self.statuses.clone();
        if self.nameservers.is_empty() {
            statuses.push(Status::Inactive);
        }
        if statuses.is_empty() {
            statuses.push(Status::Ok);
        }
        statuses.sort();
        statuses
    }
}

/// A change of registrant waiting for the registry's decision (R13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingOwner {
    /// The requested new registrant.
    pub registrant: String,
    /// When it was requested.
    pub requested: Timestamp,
    /// The client transaction id of the update.
    pub cl_trid: Option<String>,
    /// Its server transaction id.
    pub sv_trid: String,
}

/// One DS record (RFC 5910 `dsData`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DsData {
    /// Key tag.
    pub key_tag: u16,
    /// DNSSEC algorithm number.
    pub alg: u8,
    /// Digest type number.
    pub digest_type: u8,
    /// Digest, upper-case hex.
    pub digest: String,
}

/// The kinds of identity documents of ID2024 (R15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdentityKind {
    /// Moroccan national identity card (CIN).
    Cin,
    /// Residence card for foreigners living in Morocco.
    Residence,
    /// Passport.
    Passport,
    /// Commercial register number (RC, model 7).
    Rc,
    /// Identifiant Commun de l'Entreprise (ICE).
    Ice,
    /// An equivalent legal document.
    Other,
}

impl IdentityKind {
    /// As written in the .ma extension.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Cin => "cin",
            IdentityKind::Residence => "residence",
            IdentityKind::Passport => "passport",
            IdentityKind::Rc => "rc",
            IdentityKind::Ice => "ice",
            IdentityKind::Other => "other",
        }
    }

    /// Parses the .ma extension's `type`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cin" => Some(IdentityKind::Cin),
            "residence" => Some(IdentityKind::Residence),
            "passport" => Some(IdentityKind::Passport),
            "rc" => Some(IdentityKind::Rc),
            "ice" => Some(IdentityKind::Ice),
            "other" => Some(IdentityKind::Other),
            _ => None,
        }
    }
}

/// The registry's verification of an identity document (R15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verification {
    /// Recorded, not yet examined.
    Submitted,
    /// Verified by the registry.
    Verified,
    /// Rejected by the registry.
    Rejected,
}

impl Verification {
    /// As written in the .ma extension.
    pub fn as_str(self) -> &'static str {
        match self {
            Verification::Submitted => "submitted",
            Verification::Verified => "verified",
            Verification::Rejected => "rejected",
        }
    }
}

/// A contact's identity document and its verification (R15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The document's kind.
    pub kind: IdentityKind,
    /// Its number.
    pub number: String,
    /// Verification state.
    pub verification: Verification,
    /// When the state last changed.
    pub since: Timestamp,
    /// The operator's note on the verification.
    pub note: Option<String>,
}

/// Postal-info type of RFC 5733: internationalized (ASCII) or localized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PostalType {
    /// `int`: 7-bit ASCII only.
    Int,
    /// `loc`: any Unicode.
    Loc,
}

impl PostalType {
    /// As written in XML.
    pub fn as_str(self) -> &'static str {
        match self {
            PostalType::Int => "int",
            PostalType::Loc => "loc",
        }
    }
}

/// A contact's postal information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalInfo {
    /// `int` or `loc`.
    pub kind: PostalType,
    /// Person's name.
    pub name: String,
    /// Organization.
    pub org: Option<String>,
    /// Street lines (0–3).
    pub street: Vec<String>,
    /// City.
    pub city: String,
    /// State or province.
    pub sp: Option<String>,
    /// Postal code.
    pub pc: Option<String>,
    /// ISO 3166 country code, upper case.
    pub cc: String,
}

/// A telephone number with an optional extension (E.164 form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    /// `+CC.NNNN`
    pub number: String,
    /// Extension.
    pub ext: Option<String>,
}

/// RFC 5733 disclosure preferences: which fields may be shown to third parties.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclose {
    /// `flag`: true = the listed fields may be disclosed, false = they may not.
    pub flag: bool,
    /// `name` elements, by postal type.
    pub name: Vec<PostalType>,
    /// `org` elements, by postal type.
    pub org: Vec<PostalType>,
    /// `addr` elements, by postal type.
    pub addr: Vec<PostalType>,
    /// `voice`.
    pub voice: bool,
    /// `fax`.
    pub fax: bool,
    /// `email`.
    pub email: bool,
}

/// A contact object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Contact id chosen by the registrar.
    pub id: String,
    /// Repository object id.
    pub roid: String,
    /// One or two postal infos (at most one of each type).
    pub postal: Vec<PostalInfo>,
    /// Voice telephone.
    pub voice: Option<Phone>,
    /// Fax.
    pub fax: Option<Phone>,
    /// E-mail.
    pub email: String,
    /// Stored statuses.
    pub statuses: Vec<Status>,
    /// Sponsoring registrar.
    pub sponsor: String,
    /// Creating registrar.
    pub created_by: String,
    /// Creation date.
    pub created: Timestamp,
    /// Last updating registrar.
    pub updated_by: Option<String>,
    /// Last update.
    pub updated: Option<Timestamp>,
    /// Last transfer.
    pub transferred: Option<Timestamp>,
    /// Hash of its authInfo.
    pub auth: Option<AuthHash>,
    /// Disclosure preferences.
    pub disclose: Option<Disclose>,
    /// Identity document (R15).
    pub identity: Option<Identity>,
    /// The last transfer, pending or done (RFC 5733 §3.2.4).
    pub transfer: Option<Transfer>,
}

/// A host (name server) object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    /// Fully qualified host name, lower case.
    pub name: String,
    /// Repository object id.
    pub roid: String,
    /// IPv4 and IPv6 addresses (glue).
    pub addrs: Vec<IpAddr>,
    /// Stored statuses.
    pub statuses: Vec<Status>,
    /// The registry domain it is subordinate to, when in a registry zone.
    pub superordinate: Option<String>,
    /// Sponsoring registrar.
    pub sponsor: String,
    /// Creating registrar.
    pub created_by: String,
    /// Creation date.
    pub created: Timestamp,
    /// Last updating registrar.
    pub updated_by: Option<String>,
    /// Last update.
    pub updated: Option<Timestamp>,
    /// Last transfer (of its superordinate domain).
    pub transferred: Option<Timestamp>,
}

/// The state of a transfer (RFC 5730 `trStatusType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransferStatus {
    /// Waiting for the losing registrar.
    Pending,
    /// Approved by the losing registrar.
    ClientApproved,
    /// Cancelled by the gaining registrar.
    ClientCancelled,
    /// Rejected by the losing registrar.
    ClientRejected,
    /// Approved by the registry (at `acDate`, or overruling a rejection).
    ServerApproved,
    /// Cancelled by the registry.
    ServerCancelled,
}

impl TransferStatus {
    /// As written in XML.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::Pending => "pending",
            TransferStatus::ClientApproved => "clientApproved",
            TransferStatus::ClientCancelled => "clientCancelled",
            TransferStatus::ClientRejected => "clientRejected",
            TransferStatus::ServerApproved => "serverApproved",
            TransferStatus::ServerCancelled => "serverCancelled",
        }
    }
}

/// The last transfer of a domain (R12) or a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Its state.
    pub status: TransferStatus,
    /// The gaining registrar.
    pub gaining: String,
    /// The losing registrar.
    pub losing: String,
    /// When it was requested.
    pub requested: Timestamp,
    /// When the losing registrar must act by (`acDate`); when it acted, after that.
    pub action_date: Timestamp,
    /// The losing registrar's reason for a rejection (R12).
    pub reject_reason: Option<String>,
    /// Until when the registry may overrule a rejection (R12).
    pub review_until: Option<Timestamp>,
}

/// What a poll message carries besides its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PollPayload {
    /// Text only.
    None,
    /// `<domain:trnData>`: a transfer step.
    DomainTransfer {
        /// The domain.
        name: String,
        /// The transfer at that step.
        transfer: Transfer,
        /// The domain's expiry date.
        expires: Timestamp,
    },
    /// `<contact:trnData>`: a contact transfer step.
    ContactTransfer {
        /// The contact id.
        id: String,
        /// The transfer at that step.
        transfer: Transfer,
    },
    /// `<domain:panData>`: the result of a pending action.
    DomainPendingAction {
        /// The domain.
        name: String,
        /// Approved (true) or refused (false).
        result: bool,
        /// The client transaction id of the command that started it.
        cl_trid: Option<String>,
        /// Its server transaction id.
        sv_trid: String,
        /// When the action was decided.
        date: Timestamp,
    },
}

/// A message in a registrar's poll queue (RFC 5730 §2.9.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollMessage {
    /// The message id, unique in the registry.
    pub id: u64,
    /// The registrar it is for.
    pub registrar: String,
    /// When it was queued.
    pub queued: Timestamp,
    /// Its text, English and French.
    pub text_en: String,
    /// French text.
    pub text_fr: String,
    /// Its object data.
    pub payload: PollPayload,
    /// For a change the registry made: what, when, by whom and why (RFC 8590).
    pub change: Option<ChangeRecord>,
}

/// RFC 8590 change data: a change the registry made to a registrar's object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRecord {
    /// `create`, `delete`, `renew`, `transfer`, `update`, `restore`,
    /// `autoRenew`, `autoDelete`, `autoPurge` or `custom`.
    pub operation: String,
    /// A finer description of the operation (`op` attribute).
    pub op: Option<String>,
    /// When.
    pub date: Timestamp,
    /// The server transaction id of the change.
    pub sv_trid: String,
    /// Who made it (an operator's name, or the registry's engine).
    pub who: String,
    /// Why.
    pub reason: Option<String>,
}

/// An allocation token (RFC 8495) the registry issued for one reserved name (R4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationToken {
    /// The token.
    pub token: String,
    /// The one name it allows.
    pub name: String,
    /// When it was issued.
    pub issued: Timestamp,
    /// Who issued it.
    pub issued_by: String,
    /// When a create used it up.
    pub used: Option<Timestamp>,
}

/// Who changed the registry's data, when, and by which command (R24).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// When.
    pub at: Timestamp,
    /// A registrar's clID, `operator:<name>`, or `ma-registry` for the life-cycle engine.
    pub who: String,
    /// The command, e.g. `domain:update` or `lifecycle:tacit-renewal`.
    pub command: String,
    /// The client transaction id, for registrar commands.
    pub cl_trid: Option<String>,
    /// The server transaction id.
    pub sv_trid: String,
    /// The registrar's whole EPP request, its passwords masked.
    pub request: Option<String>,
}

/// One entry of an object's history (R24): the change and the object as it
/// was after it (`None` once deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRecord {
    /// The change.
    pub audit: Audit,
    /// `domain`, `contact` or `host`.
    pub kind: String,
    /// The object's name or id.
    pub name: String,
    /// The object after the change, as a JSON document.
    pub after: Option<String>,
    /// Its place in the registry's one chain of history records (1, 2, …).
    pub chain: u64,
    /// The SHA-256 of the record before it in the chain (zeros for the first),
    /// so a record changed or removed afterwards breaks the chain.
    pub prev: [u8; 32],
}

/// One line of a registrar's ledger (R23): a charge (negative) or a credit
/// (positive), and the balance after it, in centimes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// When.
    pub at: Timestamp,
    /// The amount: negative for a charge, positive for a credit.
    pub amount: i64,
    /// The balance after it.
    pub balance: i64,
    /// What it is for, e.g. `create exemple.ma 2y`.
    pub description: String,
    /// The server transaction id of the change it pays for.
    pub sv_trid: String,
}
