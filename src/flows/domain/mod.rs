//! Domain flows (RFC 5731).

pub mod authinfo_mail;
pub mod authority;
pub mod check;
pub mod create;
pub mod delete;
pub mod expiry;
pub mod info;
pub mod owner;
pub mod pending_create;
pub mod renew;
pub mod transfer;
pub mod update;
