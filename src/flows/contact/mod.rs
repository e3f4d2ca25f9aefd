//! Contact flows (RFC 5733).

pub mod check;
pub mod create;
pub mod info;
