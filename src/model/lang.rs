//! The two languages a session can speak (RFC 5730 `<lang>`), and a text
//! given in both.

use std::fmt;

/// A session language. English is the default; French is chosen at login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// `en`
    #[default]
    En,
    /// `fr`
    Fr,
}

impl Lang {
    /// Parses an RFC 5730 `<lang>` value; only `en` and `fr` are served.
    pub fn parse(tag: &str) -> Option<Self> {
        match tag.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }

    /// The language tag as written in XML.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

/// An explanation given to a registrar in both session languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// English text.
    pub en: String,
    /// French text.
    pub fr: String,
}

impl Text {
    /// A text in English and French.
    pub fn new(en: impl Into<String>, fr: impl Into<String>) -> Self {
        Self {
            en: en.into(),
            fr: fr.into(),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Fr => &self.fr,
        }
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}
