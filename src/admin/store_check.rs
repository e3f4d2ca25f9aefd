//! `admin store verify`: reads back every record of the store and walks the
//! history chain; the report says what is damaged and where. `admin store
//! copy`: copies the store into a new, empty store of either engine (sled or
//! PostgreSQL) and checks the copy record by record.

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
    /// Copy the whole store into a new, empty store, and read the copy back
    /// record by record: a PostgreSQL URL (`postgresql://…`) or a sled
    /// directory (new or empty). The store takes no writes meanwhile.
    Copy {
        /// The target: a PostgreSQL URL or a directory.
        to: String,
    },
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
        StoreCommand::Copy { to } => copy(ctx, to).await,
    }
}

/// `admin store copy TO`.
async fn copy(ctx: &mut Ctx<'_>, to: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let postgres = to.starts_with("postgres://") || to.starts_with("postgresql://");
    if !postgres && to.contains('=') {
        bail!(
            "give the PostgreSQL target as a postgresql:// URL (a key=value string would be taken for a directory)"
        );
    }
    // A sled directory this command makes is removed again if the copy
    // fails, so that it can simply be run again.
    let mut made_dir = None;
    let (target, place) = if postgres {
        let connection = crate::store::postgres::Connection {
            url: to.to_owned(),
            pool_size: 4,
            ca_file: ctx.settings.store.ca_file.clone(),
        };
        let dir = ctx.settings.server.data_dir.clone();
        let store = tokio::task::spawn_blocking(move || {
            crate::store::Store::open_postgres(&connection, &dir)
        })
        .await?
        .context("cannot open the target PostgreSQL store")?;
        (store, "the PostgreSQL store".to_owned())
    } else {
        let dir = ctx.cwd.join(to);
        if std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some()) {
            bail!("{} is not empty: copy into a new directory", dir.display());
        }
        if !dir.exists() {
            made_dir = Some(dir.clone());
        }
        let cache = ctx.settings.store.cache_bytes();
        let opened = dir.clone();
        let store = tokio::task::spawn_blocking(move || crate::store::Store::open(&opened, cache))
            .await?
            .with_context(|| format!("cannot open a sled store in {}", dir.display()))?;
        (store, format!("the sled store in {}", dir.display()))
    };
    // Refused before anything is written, with nothing to clean up.
    let checked = target.clone();
    tokio::task::spawn_blocking(move || checked.refuse_unless_new()).await??;
    let source = ctx.store.clone();
    let started = std::time::Instant::now();
    let copied = match tokio::task::spawn_blocking(move || source.copy_into(&target)).await? {
        Ok(copied) => copied,
        Err(e) => {
            if let Some(dir) = made_dir {
                let _ = std::fs::remove_dir_all(&dir);
                bail!("the copy failed, and {} was removed: {e}", dir.display());
            }
            if postgres {
                bail!(
                    "the copy failed: {e}; the target database may hold part of it: drop and create it again (or DROP TABLE records, schema_migrations; DROP SEQUENCE record_ids) before copying again"
                );
            }
            bail!(
                "the copy failed: {e}; the target may hold part of it: empty it before copying again"
            );
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    if ctx.json {
        let _ = writeln!(
            ctx.out,
            "{}",
            serde_json::json!({
                "target": place,
                "trees": copied.trees,
                "records": copied.records,
                "sha256": copied.digest,
                "seconds": seconds,
            })
        );
    } else {
        let _ = writeln!(
            ctx.out,
            "copied into {place} in {seconds:.1} s: {} records in {} trees, read back equal record by record (SHA-256 {})",
            copied.records, copied.trees, copied.digest
        );
    }
    Ok(())
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
