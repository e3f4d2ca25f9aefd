//! The charter (`charter.md`): one function per rule, named after its id.
//! Pure functions of (command data, settings, now); no I/O, no XML.

pub mod names;
pub mod periods;

pub use names::{HostName, RegistrableName, host_name, r1_r3_registrable_name};
pub use periods::r7_period_years;
