//! `admin backup FILE`: a consistent copy of the whole store, also while
//! the server runs. (`restore` and `compact` need the server stopped and
//! run in [`crate::cli::admin`].)

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use super::Ctx;

/// Writes the backup to `file`, relative to the operator's directory.
pub(super) async fn run(ctx: &mut Ctx<'_>, file: &Path) -> anyhow::Result<()> {
    let path = ctx.path(file);
    let store = ctx.store.clone();
    let target = path.clone();
    let report = tokio::task::spawn_blocking(move || store.backup(&target))
        .await
        .context("the backup task failed")??;
    if ctx.json {
        say!(
            ctx,
            "{}",
            serde_json::json!({
                "file": path.display().to_string(),
                "trees": report.trees,
                "records": report.records,
                "bytes": report.bytes,
                "at": ctx.now.to_rfc3339(),
            })
        );
    } else {
        say!(
            ctx,
            "backup written to {}: {} records in {} trees, {} bytes",
            path.display(),
            report.records,
            report.trees,
            report.bytes
        );
    }
    Ok(())
}
