//! Integration tests: the real server over real TLS on loopback, a real sled
//! store in a temp dir (or a real PostgreSQL, `MA_REGISTRY_TEST_STORE=postgres`), raw XML frames and the instant-epp client. Every
//! response received is validated against `schemas/` with xmllint.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;
mod pg;
mod recording;

mod address_limits;
mod admin_cli;
mod admin_socket;
mod authinfo;
mod authinfo_mail;
mod authority;
mod backup;
mod before_login;
mod bench;
mod billing;
mod client;
mod compact;
mod contact;
mod contact_transfer;
mod dnssec;
mod domain;
mod durability;
mod escrow;
mod failover;
mod file_modes;
mod golden;
mod history;
mod host;
mod identity;
mod import;
mod instant;
mod lifecycle_domain;
mod lifecycle_objects;
mod login_security;
mod logs;
mod ma_extension;
mod metrics;
mod operator_reports;
mod ownership;
mod poll;
mod quotas;
mod rdap;
mod registrar_day;
mod registrars;
mod restricted;
mod rfc5730;
mod rfc5734;
mod storage;
mod storm;
mod terms;
mod transfer;
mod whois;
mod zone;
