//! ma-registry: the registry-side EPP server of the `.ma` ccTLD.
//!
//! A command's way through the server:
//! [`transport`] (TLS, RFC 5734 frames) → [`session`] (RFC 5730 state
//! machine) → [`xml`] (frame → typed [`model::Command`]) → [`flows`] (one
//! handler per command, calling [`policy`] for the charter and [`store`] for
//! one atomic, flushed mutation) → [`xml`] (typed [`model::Response`] →
//! bytes) → frame. [`error`] maps every failure to its RFC 5730 result code
//! in one place. [`server`] owns the listeners and shutdown; [`cli`] the
//! binary's subcommands. Beside EPP: [`whois`] and [`rdap`], the public
//! lookups, and [`metrics`].

// `EppError` carries its bilingual reason by value: the error path is cold,
// and boxing every reason would cost an allocation more per refusal.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod alloc;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod config;
pub mod context;
pub mod data;
pub mod devcerts;
pub mod epp_client;
pub mod error;
pub mod flows;
pub mod fsmode;
pub mod lifecycle;
pub mod mail;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod quota;
pub mod rdap;
pub mod server;
pub mod session;
pub mod store;
pub mod sys;
pub mod transport;
pub mod whois;
pub mod xml;
pub mod zone;
