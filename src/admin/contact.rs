//! `admin contact …`: contacts' identity documents (R15), recorded for
//! registrars that do not send them by EPP, and their verification.

use std::fmt::Write as _;

use anyhow::Context;
use clap::Subcommand;

use super::Ctx;

#[derive(Debug, Subcommand)]
pub(crate) enum ContactCommand {
    /// Record a contact's identity document (for registrars that do not send it by EPP).
    Identity {
        /// The contact id.
        id: String,
        /// cin, residence, passport, rc, ice or other.
        #[arg(long = "type")]
        kind: String,
        /// The document number.
        #[arg(long)]
        number: String,
    },
    /// Record the verification of a contact's identity document.
    Verify {
        /// The contact id.
        id: String,
        /// The document is rejected (default: verified).
        #[arg(long)]
        rejected: bool,
        /// A note on the verification.
        #[arg(long)]
        note: Option<String>,
    },
}

/// Runs one `admin contact …` command.
pub(super) async fn run(ctx: &mut Ctx<'_>, command: &ContactCommand) -> anyhow::Result<()> {
    let store = ctx.store;
    let now = ctx.now;
    match command {
        ContactCommand::Identity { id, kind, number } => {
            let kind = crate::model::IdentityKind::parse(kind).with_context(|| {
                format!("{kind:?} is not one of cin, residence, passport, rc, ice, other")
            })?;
            let doc = crate::model::IdentityDoc {
                kind,
                number: number.clone(),
            };
            crate::flows::contact::verify::record_identity(store, id, &doc, now, &ctx.operator)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            say!(ctx, "identity document of {id} recorded (submitted)");
        }
        ContactCommand::Verify { id, rejected, note } => {
            let verdict = if *rejected {
                crate::model::Verification::Rejected
            } else {
                crate::model::Verification::Verified
            };
            let changes = crate::flows::contact::verify::record_verification(
                store,
                id,
                verdict,
                note.as_deref(),
                now,
                &ctx.operator,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            say!(
                ctx,
                "identity of {id} {}; {} domains suspended, {} lifted",
                verdict.as_str(),
                changes.suspended,
                changes.lifted
            );
        }
    }
    Ok(())
}
