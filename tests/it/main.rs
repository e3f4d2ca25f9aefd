//! Integration tests: the real server over real TLS on loopback, a real sled
//! store in a temp dir, raw XML frames and the instant-epp client. Every
//! response received is validated against `schemas/` with xmllint.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

mod contact;
mod domain;
mod host;
mod instant;
mod rfc5730;
mod rfc5734;
