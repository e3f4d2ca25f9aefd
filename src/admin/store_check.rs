//! `admin store verify`: reads back every record of the store and walks the
//! history chain; the report says what is damaged and where.

use std::fmt::Write as _;

use anyhow::bail;

use super::Ctx;
use crate::store::{ChainCheck, StoreCheck};

/// The store's own commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum StoreCommand {
    /// Read back every record (sled checks each page's checksum as it
    /// loads it) and walk the history chain. Run with the server stopped to
    /// read every page from disk; through a running server, pages already
    /// in its cache are not read again.
    Verify,
}

/// Runs a store command.
///
/// # Errors
/// The store is damaged, or could not be read.
pub(crate) async fn run(ctx: &mut Ctx<'_>, command: &StoreCommand) -> anyhow::Result<()> {
    match command {
        StoreCommand::Verify => {
            let store = ctx.store.clone();
            let check = tokio::task::spawn_blocking(move || store.verify()).await??;
            report(ctx, &check);
            if !check.is_sound() {
                bail!(
                    "the store is damaged: restore the last backup (admin restore) or start from the standby"
                );
            }
            Ok(())
        }
    }
}

fn report(ctx: &mut Ctx<'_>, check: &StoreCheck) {
    let (intact, history_records, broken) = match &check.history {
        ChainCheck::Intact { records } => (true, *records, None),
        ChainCheck::Broken { place, reason } => {
            (false, 0, Some(format!("record {place}: {reason}")))
        }
    };
    if ctx.json {
        let _ = writeln!(
            ctx.out,
            "{}",
            serde_json::json!({
                "sound": check.is_sound(),
                "trees": check.trees,
                "records": check.records,
                "problems": check.problems,
                "history_intact": intact,
                "history_records": history_records,
                "history_broken_at": broken,
            })
        );
        return;
    }
    let _ = writeln!(
        ctx.out,
        "store: {} trees, {} records read back",
        check.trees, check.records
    );
    for problem in &check.problems {
        let _ = writeln!(ctx.out, "  damaged: {problem}");
    }
    match broken {
        None => {
            let _ = writeln!(
                ctx.out,
                "history intact: {history_records} records, each holding the hash of the one before"
            );
        }
        Some(at) => {
            let _ = writeln!(ctx.out, "history chain broken at {at}");
        }
    }
}
