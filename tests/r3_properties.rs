//! R3 as properties: every label the charter allows is accepted, stored as
//! its A-label, and the A-label and Unicode forms give the same name; every
//! label the charter refuses is refused, whatever its form.

use ma_registry::config::Settings;
use ma_registry::policy::names::ACCENTED_LETTERS;
use ma_registry::policy::r1_r3_registrable_name;
use proptest::prelude::*;

/// A character R3 allows in a label.
fn allowed_char() -> impl Strategy<Value = char> {
    let mut chars: Vec<char> = ('a'..='z').chain('0'..='9').collect();
    chars.extend(ACCENTED_LETTERS.chars());
    chars.push('-');
    proptest::sample::select(chars)
}

/// A label R3 accepts: 2–63 allowed characters, no hyphen first or last,
/// no hyphens in both the 3rd and 4th positions, at most 63 octets as an
/// A-label.
fn valid_label() -> impl Strategy<Value = String> {
    proptest::collection::vec(allowed_char(), 2..=40)
        .prop_map(|chars| chars.into_iter().collect::<String>())
        .prop_filter("R3 shape", |label| {
            let chars: Vec<char> = label.chars().collect();
            chars.first() != Some(&'-')
                && chars.last() != Some(&'-')
                && !(chars.get(2) == Some(&'-') && chars.get(3) == Some(&'-'))
                && idna::domain_to_ascii(label).is_ok_and(|a| a.len() <= 63)
        })
}

fn zone() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec![
        "ma", "co.ma", "net.ma", "org.ma", "ac.ma", "gov.ma", "press.ma",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn r3_accepted_names_round_trip_between_unicode_and_a_label(label in valid_label(), zone in zone()) {
        let settings = Settings::default();
        let unicode = format!("{label}.{zone}");
        let accepted = r1_r3_registrable_name(&unicode, &settings);
        prop_assert!(accepted.is_ok(), "{unicode} refused: {:?}", accepted.err().map(|e| e.short));
        let Ok(accepted) = accepted else { unreachable!() };
        let a_label = idna::domain_to_ascii(&label).unwrap_or_default();
        prop_assert_eq!(&accepted.name, &format!("{a_label}.{zone}"));
        prop_assert_eq!(&accepted.label, &label);
        // The A-label form and the upper-case form name the same domain.
        let again = r1_r3_registrable_name(&accepted.name, &settings);
        prop_assert!(again.is_ok());
        let Ok(again) = again else { unreachable!() };
        prop_assert_eq!(&again.name, &accepted.name);
        prop_assert_eq!(&again.label, &label);
        let upper = r1_r3_registrable_name(&unicode.to_uppercase(), &settings);
        prop_assert!(upper.is_ok_and(|u| u.name == accepted.name));
    }

    #[test]
    fn r3_a_hyphen_first_or_last_is_refused(label in valid_label(), first in any::<bool>()) {
        let settings = Settings::default();
        let bad = if first { format!("-{label}") } else { format!("{label}-") };
        let name = format!("{bad}.ma");
        prop_assert!(r1_r3_registrable_name(&name, &settings).is_err(), "{} accepted", name);
    }

    #[test]
    fn r3_hyphens_in_third_and_fourth_place_are_refused(
        head in proptest::collection::vec(allowed_char(), 2..=2),
        tail in valid_label(),
    ) {
        let settings = Settings::default();
        let head: String = head.into_iter().collect();
        prop_assume!(!head.starts_with('-'));
        let bad = format!("{head}--{tail}.ma");
        prop_assume!(!bad.starts_with("xn--"));
        prop_assert!(r1_r3_registrable_name(&bad, &settings).is_err(), "{bad} accepted");
    }

    #[test]
    fn r3_a_character_outside_the_charter_is_refused(
        label in valid_label(),
        at in any::<prop::sample::Index>(),
        intruder in proptest::sample::select(vec!['ñ', 'ß', 'ø', 'é', 'ا', 'ⴰ', '_', '@', ' ', 'á', 'ã', 'ł', '中']),
    ) {
        prop_assume!(!ACCENTED_LETTERS.contains(intruder));
        let settings = Settings::default();
        let mut chars: Vec<char> = label.chars().collect();
        let i = at.index(chars.len());
        chars.insert(i, intruder);
        let bad: String = chars.into_iter().collect();
        let name = format!("{bad}.ma");
        prop_assert!(r1_r3_registrable_name(&name, &settings).is_err(), "{} accepted", name);
        // Its A-label form is refused too (an xn-- label must decode to allowed characters).
        if let Ok(a_label) = idna::domain_to_ascii(&bad) {
            let name = format!("{a_label}.ma");
            prop_assert!(r1_r3_registrable_name(&name, &settings).is_err(), "{} accepted", name);
        }
    }

    #[test]
    fn r3_one_character_and_over_long_labels_are_refused(c in allowed_char(), extra in 64usize..80) {
        let settings = Settings::default();
        prop_assume!(c != '-');
        let short = format!("{c}.ma");
        prop_assert!(r1_r3_registrable_name(&short, &settings).is_err(), "{} accepted", short);
        let long: String = std::iter::repeat_n('a', extra).collect();
        let long = format!("{long}.ma");
        prop_assert!(r1_r3_registrable_name(&long, &settings).is_err(), "{} accepted", long);
    }
}
