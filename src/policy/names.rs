//! R1 (zones) and R3 (name syntax): which names are registrable, in their
//! stored form (lower case, A-labels); and the syntax of host names.

use crate::config::{Settings, Zone};
use crate::error::EppError;
use crate::model::{OffendingValue, Text};

/// The accented Latin letters D2014 allows besides `a`–`z`, `0`–`9` and `-`.
pub const ACCENTED_LETTERS: &str = "àâçèéëîïôùûüÿ";

/// A name that passed R1 and R3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrableName<'s> {
    /// The stored form: lower case, the label as an A-label when it has accents.
    pub name: String,
    /// The zone it is registered under.
    pub zone: &'s Zone,
    /// The label left of the zone, in Unicode (what R4 and R5 lists hold).
    pub label: String,
}

fn offending(ns: &'static str, name: &'static str, text: &str) -> Option<OffendingValue> {
    Some(OffendingValue::Element {
        ns,
        name,
        text: text.to_owned(),
    })
}

/// Why a name is not registrable: the error a transform answers, and the
/// short reason (at most 32 characters, as `<domain:reason>` allows) a check
/// answers.
#[derive(Debug)]
pub struct NameRefusal {
    /// The full refusal, with the rule id.
    pub error: EppError,
    /// The short reason for check responses.
    pub short: Text,
}

impl From<NameRefusal> for EppError {
    fn from(refusal: NameRefusal) -> Self {
        refusal.error
    }
}

fn r1_refusal(input: &str, en: String, fr: String) -> NameRefusal {
    NameRefusal {
        error: EppError::Policy(
            Text::new(format!("R1: {en}"), format!("R1 : {fr}")),
            offending("domain", "name", input),
        ),
        short: Text::new("R1: not a registrable name", "R1 : nom non enregistrable"),
    }
}

fn r3_refusal(input: &str, en: String, fr: String) -> NameRefusal {
    NameRefusal {
        error: EppError::ValueSyntax(
            Text::new(format!("R3: {en}"), format!("R3 : {fr}")),
            offending("domain", "name", input),
        ),
        short: Text::new("R3: invalid name syntax", "R3 : syntaxe de nom invalide"),
    }
}

fn allowed_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || ACCENTED_LETTERS.contains(c)
}

/// R1 (C-Art.4, C-Art.5) then R3 (D2014 §A): `input` must be exactly one label
/// directly under a configured zone, and that label must follow R3. Accepts
/// the Unicode or the A-label form, in any case.
///
/// # Errors
/// R1 refusals are 2306 ([`EppError::Policy`]); R3 refusals are 2005
/// ([`EppError::ValueSyntax`]); both carry the rule id in their reason.
pub fn r1_r3_registrable_name<'s>(
    input: &str,
    settings: &'s Settings,
) -> Result<RegistrableName<'s>, NameRefusal> {
    let lowered = input.to_lowercase();
    if lowered.is_empty() || lowered.ends_with('.') || lowered.starts_with('.') {
        return Err(r3_refusal(
            input,
            format!("{input:?} is not a domain name"),
            format!("{input:?} n'est pas un nom de domaine"),
        ));
    }
    if lowered.contains("..") {
        return Err(r3_refusal(
            input,
            format!("{input:?} has an empty label"),
            format!("{input:?} contient un label vide"),
        ));
    }
    if settings.is_zone(&lowered) {
        return Err(r1_refusal(
            input,
            format!("{lowered} is a registry zone, not a registrable name"),
            format!("{lowered} est une zone du registre, pas un nom enregistrable"),
        ));
    }
    let Some(zone) = settings.zone_of(&lowered) else {
        return Err(r1_refusal(
            input,
            format!("{lowered} is not under a .ma registry zone"),
            format!("{lowered} n'est sous aucune zone du registre .ma"),
        ));
    };
    let label = &lowered[..lowered.len() - zone.name.len() - 1];
    if label.contains('.') {
        return Err(r1_refusal(
            input,
            format!(
                "{lowered} is below a registrable name; only one label directly under {} can be registered (a sub-domain belongs to the holder of the name above it)",
                zone.name
            ),
            format!(
                "{lowered} est sous un nom enregistrable ; seul un label directement sous {} peut être enregistré (un sous-domaine appartient au titulaire du nom supérieur)",
                zone.name
            ),
        ));
    }
    let (ascii_label, unicode_label) = r3_label(input, label)?;
    let name = format!("{ascii_label}.{}", zone.name);
    if name.len() > 253 {
        return Err(r3_refusal(
            input,
            "the whole name exceeds 253 octets".into(),
            "le nom complet dépasse 253 octets".into(),
        ));
    }
    Ok(RegistrableName {
        name,
        zone,
        label: unicode_label,
    })
}

/// R3 for the label left of the zone: returns its ASCII (A-label) form.
fn r3_label(input: &str, label: &str) -> Result<(String, String), NameRefusal> {
    let (unicode, ascii) = if let Some(encoded) = label.strip_prefix("xn--") {
        let decoded = idna::punycode::decode_to_string(encoded).ok_or_else(|| {
            r3_refusal(
                input,
                format!("{label} is not a valid A-label"),
                format!("{label} n'est pas un A-label valide"),
            )
        })?;
        if decoded.is_ascii() || idna::punycode::encode_str(&decoded).as_deref() != Some(encoded) {
            return Err(r3_refusal(
                input,
                format!("{label} is not a valid A-label"),
                format!("{label} n'est pas un A-label valide"),
            ));
        }
        (decoded, label.to_owned())
    } else if label.is_ascii() {
        (label.to_owned(), label.to_owned())
    } else {
        let encoded = idna::punycode::encode_str(label).ok_or_else(|| {
            r3_refusal(
                input,
                format!("{label} cannot be encoded as an A-label"),
                format!("{label} ne peut pas être encodé en A-label"),
            )
        })?;
        (label.to_owned(), format!("xn--{encoded}"))
    };
    if let Some(bad) = unicode.chars().find(|c| !allowed_char(*c)) {
        return Err(r3_refusal(
            input,
            format!(
                "the character {bad:?} is not allowed; use a-z, 0-9, hyphen and {ACCENTED_LETTERS}"
            ),
            format!(
                "le caractère {bad:?} n'est pas permis ; utilisez a-z, 0-9, le tiret et {ACCENTED_LETTERS}"
            ),
        ));
    }
    let chars = unicode.chars().count();
    if chars < 2 {
        return Err(r3_refusal(
            input,
            format!("{unicode:?} is shorter than 2 characters"),
            format!("{unicode:?} compte moins de 2 caractères"),
        ));
    }
    if ascii.len() > 63 {
        return Err(r3_refusal(
            input,
            format!(
                "the label is longer than 63 octets ({} in its A-label form)",
                ascii.len()
            ),
            format!(
                "le label dépasse 63 octets ({} sous forme A-label)",
                ascii.len()
            ),
        ));
    }
    if unicode.starts_with('-') || unicode.ends_with('-') {
        return Err(r3_refusal(
            input,
            "a name may not begin or end with a hyphen".into(),
            "un nom ne peut ni commencer ni finir par un tiret".into(),
        ));
    }
    if unicode.chars().nth(2) == Some('-') && unicode.chars().nth(3) == Some('-') {
        return Err(r3_refusal(
            input,
            "hyphens in both the 3rd and 4th positions are reserved for A-labels".into(),
            "les tirets en 3e et 4e positions sont réservés aux A-labels".into(),
        ));
    }
    Ok((ascii, unicode))
}

/// A syntactically valid host name, with where it stands relative to the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostName {
    /// Lower case, ASCII.
    pub name: String,
    /// The registrable name it is under, when it is in a registry zone.
    pub superordinate: Option<String>,
}

/// The syntax of a host name (RFC 952/1123 LDH labels, A-labels allowed):
/// at least two labels, each 1–63 octets, the whole at most 253.
///
/// # Errors
/// 2005 with the reason.
pub fn host_name(input: &str, settings: &Settings) -> Result<HostName, EppError> {
    let name = input.to_ascii_lowercase();
    let bad = |en: &str, fr: &str| {
        EppError::ValueSyntax(
            Text::new(
                format!("{input:?} is not a valid host name: {en}"),
                format!("{input:?} n'est pas un nom d'hôte valide : {fr}"),
            ),
            offending("host", "name", input),
        )
    };
    if name.len() > 253 {
        return Err(bad("longer than 253 octets", "plus de 253 octets"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err(bad(
            "it needs at least two labels",
            "il faut au moins deux labels",
        ));
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(bad(
                "labels are 1-63 letters, digits or inner hyphens",
                "les labels comptent 1 à 63 lettres, chiffres ou tirets intérieurs",
            ));
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad(
            "the last label is numeric",
            "le dernier label est numérique",
        ));
    }
    let superordinate = settings.zone_of(&name).map(|zone| {
        let left = &name[..name.len() - zone.name.len() - 1];
        let label = left.rsplit('.').next().unwrap_or(left);
        format!("{label}.{}", zone.name)
    });
    Ok(HostName {
        name,
        superordinate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str) -> Result<String, u16> {
        let settings = Settings::default();
        r1_r3_registrable_name(name, &settings)
            .map(|n| n.name)
            .map_err(|e| {
                assert!(e.short.en.len() <= 32 && e.short.fr.chars().count() <= 32);
                e.error.result_code().code()
            })
    }

    #[test]
    fn r1_only_one_label_directly_under_a_zone() {
        assert_eq!(check("exemple.ma").unwrap(), "exemple.ma");
        assert_eq!(check("exemple.co.ma").unwrap(), "exemple.co.ma");
        assert_eq!(check("co.ma"), Err(2306));
        assert_eq!(check("ma"), Err(2306));
        assert_eq!(check("www.exemple.ma"), Err(2306));
        assert_eq!(check("exemple.com"), Err(2306));
        assert_eq!(check("exemple.fr.ma"), Err(2306));
    }

    #[test]
    fn r3_accepted_names_are_stored_lower_case_as_a_labels() {
        assert_eq!(check("EXEMPLE.MA").unwrap(), "exemple.ma");
        assert_eq!(check("ab.ma").unwrap(), "ab.ma");
        assert_eq!(check("a-b-c.ma").unwrap(), "a-b-c.ma");
        let idn = check("café.ma").unwrap();
        assert!(idn.starts_with("xn--"));
        assert_eq!(check(&idn).unwrap(), idn);
        assert_eq!(check("CAFÉ.ma").unwrap(), idn);
        assert_eq!(check(&"a".repeat(63).add(".ma")).unwrap().len(), 66);
    }

    #[test]
    fn r3_refusals_are_2005() {
        for bad in [
            "a.ma",
            "-abc.ma",
            "abc-.ma",
            "ab--cd.ma",
            "ex ample.ma",
            "ex_ample.ma",
            "niño.ma",
            "مغرب.ma",
            "xn--mgbc0a9azcg.ma",
            "xn--nio-8ma.ma",
            "xn--abc.ma",
            "xn--exemple.ma",
        ] {
            assert_eq!(check(bad), Err(2005), "{bad}");
        }
        assert_eq!(check(&"a".repeat(64).add(".ma")), Err(2005));
    }

    trait Add {
        fn add(self, s: &str) -> String;
    }
    impl Add for String {
        fn add(mut self, s: &str) -> String {
            self.push_str(s);
            self
        }
    }

    #[test]
    fn host_names_know_their_superordinate_domain() {
        let s = Settings::default();
        let h = host_name("NS1.Exemple.MA", &s).unwrap();
        assert_eq!(h.name, "ns1.exemple.ma");
        assert_eq!(h.superordinate.as_deref(), Some("exemple.ma"));
        assert_eq!(
            host_name("a.b.exemple.co.ma", &s)
                .unwrap()
                .superordinate
                .as_deref(),
            Some("exemple.co.ma")
        );
        assert_eq!(host_name("ns.example.net", &s).unwrap().superordinate, None);
        for bad in ["ns", "ns..ma", "-ns.ma", "ns_1.ma", "1.2.3.4"] {
            assert!(host_name(bad, &s).is_err(), "{bad}");
        }
    }
}
