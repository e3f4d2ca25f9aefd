//! Registry data escrow: a full deposit (RFC 8909) of the registry's
//! objects in the RFC 9022 formats. [`write`] streams it from the store
//! (one object in memory at a time) into a file renamed into place when
//! complete; [`read`] loads one back into an empty store through the
//! loader. Contacts' identity documents (R15), which RFC 9022 has no place
//! for, travel as objects of the registry's own namespace [`IDENTITY`],
//! each right after its contact. authInfo values are never written (the
//! store keeps only their hashes).

mod read;
mod write;

pub use read::{DepositCheck, import};
pub use write::{Deposit, DepositCounts, export};

/// RFC 8909 deposit.
pub const RDE: &str = "urn:ietf:params:xml:ns:rde-1.0";
/// RFC 9022 header.
pub const RDE_HEADER: &str = "urn:ietf:params:xml:ns:rdeHeader-1.0";
/// RFC 9022 domain.
pub const RDE_DOMAIN: &str = "urn:ietf:params:xml:ns:rdeDomain-1.0";
/// RFC 9022 host.
pub const RDE_HOST: &str = "urn:ietf:params:xml:ns:rdeHost-1.0";
/// RFC 9022 contact.
pub const RDE_CONTACT: &str = "urn:ietf:params:xml:ns:rdeContact-1.0";
/// RFC 9022 registrar.
pub const RDE_REGISTRAR: &str = "urn:ietf:params:xml:ns:rdeRegistrar-1.0";
/// The registry's own escrow object: a contact's identity document (R15).
pub const IDENTITY: &str = "http://www.anrt.ma/rde/identity-1.0";

const DOMAIN: &str = crate::xml::ns::DOMAIN;
const CONTACT: &str = crate::xml::ns::CONTACT;
const SECDNS: &str = crate::xml::ns::SECDNS;

/// The history command of objects `admin escrow import` loads.
pub const COMMAND: &str = "admin:escrow-import";
