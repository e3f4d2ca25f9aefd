//! The mail outbox: messages the registry sends to registrants (R12: the
//! operator's fallback that mails a fresh authInfo). Through the SMTP relay
//! of `[mail] smtp_relay` when one is set, otherwise as RFC 5322 `.eml`
//! files in the outbox folder, written atomically, for the operator's own
//! mail system to pick up.

use std::path::PathBuf;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::Settings;

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A sender or recipient address that is not one.
    #[error("{which} address {address:?} is not valid: {reason}")]
    Address {
        /// `from` or `to`.
        which: &'static str,
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },
    /// The message could not be built.
    #[error("the message could not be built: {0}")]
    Build(#[from] lettre::error::Error),
    /// The relay URL is not valid or the relay refused the message.
    #[error("the SMTP relay: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// The outbox folder could not be written.
    #[error("the outbox {path}: {source}")]
    Outbox {
        /// The folder or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Where a message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted by the relay.
    Relayed,
    /// Written as this `.eml` file.
    Written(PathBuf),
}

impl std::fmt::Display for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Delivery::Relayed => f.write_str("handed to the SMTP relay"),
            Delivery::Written(path) => write!(f, "written to {}", path.display()),
        }
    }
}

/// One plain-text message.
#[derive(Debug)]
pub struct Mail<'a> {
    /// The recipient's address.
    pub to: &'a str,
    /// The subject.
    pub subject: &'a str,
    /// The text.
    pub body: String,
    /// A short name for the file in the outbox (e.g. the domain).
    pub tag: &'a str,
    /// The registry's time (the `Date` header and the file name).
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Sends `mail` as the settings say.
///
/// # Errors
/// [`MailError`]; nothing is half-written into the outbox.
pub async fn send(settings: &Settings, mail: Mail<'_>) -> Result<Delivery, MailError> {
    let from: Mailbox =
        settings
            .mail
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::Address {
                which: "from",
                address: settings.mail.from.clone(),
                reason: e.to_string(),
            })?;
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e: lettre::address::AddressError| MailError::Address {
            which: "to",
            address: mail.to.to_owned(),
            reason: e.to_string(),
        })?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject)
        .date(std::time::SystemTime::from(mail.now))
        .header(ContentType::TEXT_PLAIN)
        .body(
            Body::new_with_encoding(mail.body.clone(), ContentTransferEncoding::QuotedPrintable)
                .map_err(|_| {
                    MailError::Build(lettre::error::Error::Io(std::io::Error::other(
                        "the text cannot be encoded",
                    )))
                })?,
        )?;
    match &settings.mail.smtp_relay {
        Some(url) => {
            let relay = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.build();
            relay.send(message).await?;
            Ok(Delivery::Relayed)
        }
        None => write_eml(settings, &mail, &message.formatted()).map(Delivery::Written),
    }
}

/// Writes `bytes` into the outbox under a unique name, by rename, so a
/// reader of the folder never sees a partial file.
fn write_eml(settings: &Settings, mail: &Mail<'_>, bytes: &[u8]) -> Result<PathBuf, MailError> {
    let dir = settings.server.data_dir.join(&settings.mail.outbox);
    let fail = |path: &PathBuf| {
        let path = path.clone();
        move |source| MailError::Outbox { path, source }
    };
    crate::fsmode::create_dir_all(&dir).map_err(fail(&dir))?;
    let safe: String = mail
        .tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stamp = mail.now.format("%Y%m%dT%H%M%S%.3fZ");
    let name = format!("{stamp}-{safe}-{:08x}", rand::random::<u32>());
    let staging = dir.join(format!(".{name}.tmp"));
    let path = dir.join(format!("{name}.eml"));
    crate::fsmode::create_file(&staging)
        .and_then(|mut file| std::io::Write::write_all(&mut file, bytes))
        .map_err(fail(&staging))?;
    std::fs::rename(&staging, &path).map_err(fail(&path))?;
    Ok(path)
}
