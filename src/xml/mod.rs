//! XML: frame bytes → typed [`Request`](crate::model::Request), typed
//! [`Response`](crate::model::Response) → bytes. Refuses DOCTYPE and entity
//! declarations; matches elements by namespace URI, whatever the prefix. No I/O.

pub mod dom;
pub mod ns;
pub mod parse;
pub mod write;

pub use dom::XmlLimits;
pub use parse::parse_request;
pub use write::{write_greeting, write_response};
