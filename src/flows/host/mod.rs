//! Host flows (RFC 5732).

pub mod check;
pub mod create;
pub mod delete;
pub mod info;
pub mod update;
