//! The command parser: any frame payload must become a typed request or a
//! refusal with a result code, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ma_registry::xml::{XmlLimits, parse_request};

fuzz_target!(|data: &[u8]| {
    let _ = parse_request(data, XmlLimits::default());
});
