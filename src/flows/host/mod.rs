//! Host flows (RFC 5732).

pub mod check;
pub mod create;
pub mod info;
