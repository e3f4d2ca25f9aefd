//! The syntax of an e-mail address, for contacts (RFC 5733 §2.6: an RFC 5322
//! `addr-spec`) and registrars: a dot-atom local part, `@`, and a host name
//! as domain, internationalized or not. One function serves EPP, the
//! operator's commands and the bulk loads.

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

use crate::model::Text;

/// The longest local part, in octets (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL_OCTETS: usize = 64;
/// The longest address, in octets, its domain in A-labels (RFC 5321
/// §4.5.3.1.3: a path of 256 octets, less its angle brackets).
const MAX_ADDRESS_OCTETS: usize = 254;
/// The longest label of the domain, in octets.
const MAX_LABEL_OCTETS: usize = 63;

/// The characters of an RFC 5322 `atext`, besides letters and digits.
const ATEXT_SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~";

fn refusal(en: &str, fr: &str) -> Text {
    Text::new(en, fr)
}

/// Whether `address` is an e-mail address the registry accepts.
pub fn is_email(address: &str) -> bool {
    check_email(address).is_ok()
}

/// Checks an e-mail address:
///
/// - the local part (before the one `@`) is an RFC 5322 dot-atom: atoms of
///   letters, digits and ``!#$%&'*+-/=?^_`{|}~`` joined by single dots, at
///   most 64 octets. The quoted-string form RFC 5322 also allows
///   (`"a b"@example.ma`) is refused as policy, and so is an
///   internationalized local part (RFC 6531): many mail systems refuse
///   them, and the registry must be able to write to the address;
/// - the domain is a host name of at least two labels: letters, digits and
///   inner hyphens, 1-63 octets each, the last one not all digits, no
///   trailing dot, no address literal. U-labels (`مثال.ma`) are accepted,
///   as their A-labels (`xn--mgbc0a9azcg.ma`), and checked with the `idna`
///   crate (UTS 46), which also checks that an A-label decodes;
/// - the whole is at most 254 octets, with the domain in A-labels.
///
/// # Errors
/// Why the address is refused, in both languages.
pub fn check_email(address: &str) -> Result<(), Text> {
    let Some((local, domain)) = address.split_once('@') else {
        return Err(refusal("it has no @", "elle n'a pas de @"));
    };
    check_local_part(local)?;
    let domain = check_domain(domain)?;
    if local.len() + 1 + domain.len() > MAX_ADDRESS_OCTETS {
        return Err(refusal(
            "it is longer than 254 octets",
            "elle dépasse 254 octets",
        ));
    }
    Ok(())
}

fn check_local_part(local: &str) -> Result<(), Text> {
    if local.is_empty() {
        return Err(refusal(
            "nothing comes before the @",
            "rien ne précède le @",
        ));
    }
    if local.len() > MAX_LOCAL_OCTETS {
        return Err(refusal(
            "the part before the @ is longer than 64 octets",
            "la partie avant le @ dépasse 64 octets",
        ));
    }
    for atom in local.split('.') {
        if atom.is_empty() {
            return Err(refusal(
                "the part before the @ starts or ends with a dot, or has two dots in a row",
                "la partie avant le @ commence ou finit par un point, ou a deux points de suite",
            ));
        }
        if !atom
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || ATEXT_SPECIALS.contains(&b))
        {
            return Err(refusal(
                "the part before the @ holds a character other than ASCII letters, digits and !#$%&'*+-/=?^_`{|}~ (a quoted local part is not accepted)",
                "la partie avant le @ contient un caractère autre que lettres et chiffres ASCII et !#$%&'*+-/=?^_`{|}~ (une partie locale entre guillemets n'est pas acceptée)",
            ));
        }
    }
    Ok(())
}

/// The domain in A-labels, lower-case, when it is a valid host name.
fn check_domain(domain: &str) -> Result<String, Text> {
    let bad_domain = || {
        refusal(
            "the part after the @ is not a host name (labels of 1 to 63 letters, digits or inner hyphens, at least two, no dot at either end)",
            "la partie après le @ n'est pas un nom d'hôte (labels de 1 à 63 lettres, chiffres ou tirets intérieurs, au moins deux, sans point à une extrémité)",
        )
    };
    if domain.is_empty() {
        return Err(refusal("nothing follows the @", "rien ne suit le @"));
    }
    // UTS 46 with the STD3 rules: U-labels become A-labels, an A-label must
    // decode to a valid U-label, and a label or the whole may not be empty
    // or too long (no trailing dot either).
    let ascii = Uts46::new()
        .to_ascii(
            domain.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::Allow,
            DnsLength::Verify,
        )
        .map_err(|_| bad_domain())?;
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return Err(bad_domain());
    }
    let ldh = |label: &&str| {
        (1..=MAX_LABEL_OCTETS).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if !labels.iter().all(ldh) {
        return Err(bad_domain());
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(refusal(
            "the part after the @ ends with a numeric label (an address literal is not accepted)",
            "la partie après le @ finit par un label numérique (une adresse IP n'est pas acceptée)",
        ));
    }
    Ok(ascii.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_are_accepted() {
        for good in [
            "fz@example.ma",
            "first.last+tag@sub.example.co.ma",
            "x@xn--mgbc0a9azcg.ma",
            "user@مثال.ma",
            "User@Example.MA",
            "o'brien@example.ma",
            "a!#$%&'*+-/=?^_`{|}~z@example.ma",
            "a@b-c.ma",
            "1@2.ma",
            "a@café.fr",
        ] {
            assert!(check_email(good).is_ok(), "{good}: {:?}", check_email(good));
        }
        let longest_local = format!("{}@example.ma", "a".repeat(64));
        assert!(is_email(&longest_local));
    }

    #[test]
    fn invalid_addresses_are_refused() {
        let long_label = format!("a@{}.ma", "b".repeat(64));
        let long_local = format!("{}@example.ma", "a".repeat(65));
        let long_address = format!(
            "{}@{}.{}.{}.{}.ma",
            "a".repeat(64),
            "b".repeat(48),
            "c".repeat(48),
            "d".repeat(48),
            "e".repeat(48)
        );
        assert!(long_address.len() > 254);
        for bad in [
            "a@@b.ma",
            "a@b..ma",
            "a.@b.ma",
            "a@-b.ma",
            "a@b-.ma",
            "a@b_c.ma",
            ".a@b.ma",
            "a..b@c.ma",
            "a@b.ma.",
            "a@",
            "@b.ma",
            "a b@c.ma",
            "a@b c.ma",
            "",
            "@",
            "ab.ma",
            "a@ma",
            "a@.ma",
            "a@b.123",
            "a@[192.0.2.1]",
            "a@192.0.2.1",
            "\"a b\"@example.ma",
            "a(comment)@example.ma",
            "a,b@example.ma",
            "é@example.ma",
            "a\t@example.ma",
            "a@xn--zz.ma",
            "a@b.ma\n",
            long_label.as_str(),
            long_local.as_str(),
            long_address.as_str(),
        ] {
            assert!(!is_email(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn every_refusal_says_why_in_both_languages() {
        for bad in ["a", "@b.ma", "a..b@c.ma", "a@", "a@b_c.ma", "a@b.12"] {
            let reason = check_email(bad).unwrap_err();
            assert!(!reason.en.is_empty() && !reason.fr.is_empty(), "{bad}");
        }
    }
}
