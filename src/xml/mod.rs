//! XML: frame bytes → typed [`Request`](crate::model::Request), typed
//! [`Response`](crate::model::Response) → bytes. Refuses DOCTYPE and entity
//! declarations; matches elements by namespace URI, whatever the prefix.
//! Also the request as the history keeps it, its passwords masked. No I/O.

pub mod dom;
pub mod mask;
pub mod ns;
pub mod parse;
pub mod write;

pub use dom::XmlLimits;
pub use mask::mask_passwords;
pub use parse::parse_request;
pub use write::{write_greeting, write_response};
