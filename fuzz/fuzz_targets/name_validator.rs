//! The R1/R3 name validator: any string must be accepted or refused without
//! a panic; an accepted name is in its stored form (ASCII, lower case) and
//! validating that form again gives the same name.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ma_registry::config::Settings;
use ma_registry::policy::r1_r3_registrable_name;

/// The default settings: the seven `.ma` zones of the charter.
fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(Settings::default)
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let settings = settings();
    if let Ok(first) = r1_r3_registrable_name(input, settings) {
        let name = first.name;
        assert!(name.is_ascii(), "stored form is not ASCII: {name:?}");
        assert_eq!(
            name,
            name.to_ascii_lowercase(),
            "stored form is not lower case"
        );
        let again = match r1_r3_registrable_name(&name, settings) {
            Ok(again) => again,
            Err(err) => panic!("{name:?} (from {input:?}) is refused when validated again: {}", err.error),
        };
        assert_eq!(
            again.name, name,
            "validation is not idempotent for {input:?}"
        );
        assert_eq!(again.zone, first.zone);
    }
});
