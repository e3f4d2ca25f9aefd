//! Contact flows (RFC 5733).

pub mod check;
pub mod create;
pub mod delete;
pub mod info;
pub mod transfer;
pub mod update;
pub mod verify;
