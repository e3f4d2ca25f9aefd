//! Plain data shared by every layer: names, periods, statuses, result codes,
//! the typed EPP `Command` and `Response`, and the registry's objects.
//!
//! Depends on nothing else in the crate.

pub mod command;
pub mod lang;
pub mod objects;
pub mod response;
pub mod result;
pub mod status;

pub use command::*;
pub use lang::{Lang, Text};
pub use objects::*;
pub use response::*;
pub use result::ResultCode;
pub use status::Status;
