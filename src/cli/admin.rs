//! `admin …` from the shell: sends the command to the running server
//! through its admin socket, or, when no server is running, opens the store
//! and runs it here (refusing a directory that holds no store, unless the
//! command loads one). Either way the report goes to stdout, diagnostics to
//! stderr, and the exit code says how it went (0, 1 refused, 2 usage).

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use anyhow::Context;

use super::Cli;
use crate::admin::socket::{self, AdminRequest};
use crate::admin::{AdminArgs, Ctx, execute};
use crate::clock::Clock;
use crate::store::Store;

pub fn run(cli: &Cli, args: &AdminArgs) -> anyhow::Result<ExitCode> {
    let settings = super::settings(cli)?;
    if let Some(file) = args.command.restore_file() {
        return restore(&settings, file);
    }
    if let Some(keep_old) = args.command.compaction() {
        return compact(&settings, keep_old, args.json);
    }
    let stdin = if args.command.reads_stdin() {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
        Some(text)
    } else {
        None
    };
    let cwd = std::env::current_dir().context("no working directory")?;
    let request = AdminRequest {
        argv: std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        operator: args.operator.clone(),
        cwd: cwd.clone(),
        stdin,
    };
    let path = socket::socket_path(&settings);
    if let Some(reply) = socket::call(&path, &request)
        .with_context(|| format!("the server's admin socket {}", path.display()))?
    {
        emit(&reply.out, &reply.err);
        return Ok(ExitCode::from(reply.code));
    }
    let dir = &settings.server.data_dir;
    // A mistyped --config or --data-dir must not make an empty registry:
    // only the commands that load one may start a store.
    if !args.command.may_create_store() && !super::store_exists(&settings) {
        anyhow::bail!("no store at {}; is --config right?", dir.display());
    }
    let store = super::open_when_free(&settings).with_context(|| {
        format!(
            "cannot open {} (no server answers on {})",
            super::store_place(&settings),
            path.display()
        )
    })?;
    crate::flows::terms::seed_reserved_once(&store)?;
    let mut ctx = Ctx {
        store: &store,
        settings: &settings,
        now: Clock::from_env()?.now(),
        operator: args.operator.clone(),
        json: args.json,
        cwd,
        stdin: request.stdin,
        out: String::new(),
        err: String::new(),
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let result = runtime.block_on(execute(&mut ctx, &args.command));
    emit(&ctx.out, &ctx.err);
    drop(ctx);
    drop(runtime);
    drop(store);
    if args.command.loads_in_bulk() && settings.store.backend == crate::config::StoreBackend::Sled {
        // What a bulk load wrote piecemeal is rewritten in key order, so
        // that the server starts on a compact store.
        let started = std::time::Instant::now();
        let report = Store::compact(dir, settings.store.cache_bytes(), false)
            .with_context(|| format!("cannot compact the store in {}", dir.display()))?;
        emit("", &compaction_line(dir, &report, started.elapsed()));
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// `admin restore FILE`: into the configured data directory, which must be
/// new or empty, with no server running on it.
fn restore(settings: &crate::config::Settings, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let dir = &settings.server.data_dir;
    let path = socket::socket_path(settings);
    if std::os::unix::net::UnixStream::connect(&path).is_ok() {
        anyhow::bail!("a server runs on {}: stop it first", dir.display());
    }
    if settings.store.backend == crate::config::StoreBackend::Postgres {
        return restore_into_postgres(settings, file);
    }
    let report = Store::restore(file, dir, settings.store.cache_bytes())
        .with_context(|| format!("cannot restore {} into {}", file.display(), dir.display()))?;
    emit(
        &format!(
            "{} restored into {}: {} records in {} trees\n",
            file.display(),
            dir.display(),
            report.records,
            report.trees
        ),
        "",
    );
    Ok(ExitCode::SUCCESS)
}

/// `admin restore FILE` on PostgreSQL: the backup is restored into a
/// private sled store beside the data directory, checked there, and copied
/// into the (empty) PostgreSQL store record by record.
fn restore_into_postgres(
    settings: &crate::config::Settings,
    file: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let dir = &settings.server.data_dir;
    crate::fsmode::create_dir_all(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let staging = dir.join("restore-staging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("cannot remove {}", staging.display()))?;
    }
    let restored = Store::restore(file, &staging, settings.store.cache_bytes())
        .with_context(|| format!("cannot read the backup {}", file.display()));
    let copied = restored.and_then(|_| {
        let source = Store::open(&staging, settings.store.cache_bytes())?;
        let target = Store::open_postgres(&settings.store.postgres_connection(), dir)
            .context("cannot open the PostgreSQL store")?;
        Ok(source.copy_into(&target)?)
    });
    let _ = std::fs::remove_dir_all(&staging);
    let report = copied?;
    emit(
        &format!(
            "{} restored into the PostgreSQL store: {} records in {} trees, read back equal\n",
            file.display(),
            report.records,
            report.trees
        ),
        "",
    );
    Ok(ExitCode::SUCCESS)
}

/// `admin compact`: the store of the data directory, with no server
/// running on it.
fn compact(
    settings: &crate::config::Settings,
    keep_old: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let dir = &settings.server.data_dir;
    let path = socket::socket_path(settings);
    if std::os::unix::net::UnixStream::connect(&path).is_ok() {
        anyhow::bail!("a server runs on {}: stop it first", dir.display());
    }
    if settings.store.backend == crate::config::StoreBackend::Postgres {
        anyhow::bail!(
            "compaction is for the sled store; PostgreSQL reclaims space itself (autovacuum, or VACUUM FULL records)"
        );
    }
    let started = std::time::Instant::now();
    let report = Store::compact(dir, settings.store.cache_bytes(), keep_old)
        .with_context(|| format!("cannot compact the store in {}", dir.display()))?;
    let took = started.elapsed();
    if json {
        let value = serde_json::json!({
            "trees": report.trees,
            "records": report.records,
            "bytes_before": report.bytes_before,
            "bytes_after": report.bytes_after,
            "kept": report.kept.as_ref().map(|p| p.display().to_string()),
            "seconds": took.as_secs_f64(),
        });
        emit(&format!("{value}\n"), "");
    } else {
        emit(&compaction_line(dir, &report, took), "");
    }
    Ok(ExitCode::SUCCESS)
}

fn compaction_line(
    dir: &std::path::Path,
    report: &crate::store::CompactReport,
    took: std::time::Duration,
) -> String {
    let mut line = format!(
        "store in {} compacted in {:.1} s: {} records in {} trees checked, {} bytes before, {} after\n",
        dir.display(),
        took.as_secs_f64(),
        report.records,
        report.trees,
        report.bytes_before,
        report.bytes_after
    );
    if let Some(kept) = &report.kept {
        line.push_str(&format!(
            "the previous store is kept in {}\n",
            kept.display()
        ));
    }
    line
}

/// Writes a report; a closed pipe (`| head`) is not an error.
fn emit(out: &str, err: &str) {
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    let _ = std::io::stderr().lock().write_all(err.as_bytes());
}
