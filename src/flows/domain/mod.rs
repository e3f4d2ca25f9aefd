//! Domain flows (RFC 5731).

pub mod check;
pub mod create;
pub mod info;
