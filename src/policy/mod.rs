//! The charter (`charter.md`): the decisions of each rule, in functions
//! named after its id (`rN_…`);
//! and the syntax rules the charter relies on (host names, e-mail
//! addresses). Pure functions of (command data, settings, now); no I/O, no
//! XML.

pub mod billing;
pub mod deadlines;
pub mod disputes;
pub mod dnssec;
pub mod email;
pub mod identity;
pub mod lifecycle;
pub mod names;
pub mod nameservers;
pub mod ownership;
pub mod periods;
pub mod registrars;
pub mod registration;
pub mod statuses;
pub mod terms;
pub mod transfers;

pub use billing::{R23CannotPay, r23_can_pay, r23_refusal};
pub use identity::{
    r15_document_to_verify, r15_hold_after_verdict, r15_identity_document, r15_registrant_identity,
    r15_suspends_at_deadline, r17_admin_in_morocco,
};
pub use names::{HostName, RegistrableName, host_name, r1_r3_registrable_name};
pub use nameservers::{MAX_NAMESERVERS, r14_host_addresses, r14_nameserver_count};
pub use ownership::r13_registrant_identity_unchanged;
pub use periods::{r7_period_years, r8_five_year_cap};
pub use registrars::{R19LoginRefusal, r19_deleted_at_grace_end, r19_may_log_in};
pub use registration::{
    r2_awaits_completion, r2_completion_alone, r2_completion_deadline, r2_lapses,
    r2_restricted_create, r2_waiting_for_registry,
};
pub use transfers::{r12_no_period, r12_rejection_reason, r12_transferable};
