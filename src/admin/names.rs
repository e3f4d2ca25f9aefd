//! The name lists the operator keeps: reserved terms (`admin reserved …`,
//! R4), blocked terms (`admin blocked …`, R5) and the allocation tokens that
//! release one reserved name (`admin token …`, R4, RFC 8495).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;

use super::{Ctx, operator_audit};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub(crate) enum ReservedCommand {
    /// List reserved terms with their category.
    List,
    /// Reserve a term under a category (technical, profession, state, city).
    Add {
        /// The category.
        category: String,
        /// The term (a label, Unicode or A-label).
        term: String,
    },
    /// Release a term.
    Remove {
        /// The term.
        term: String,
    },
    /// Load a file of `CATEGORY TERM` lines; with --replace, it replaces the list.
    Import {
        /// The file.
        file: PathBuf,
        /// Remove every term not in the file.
        #[arg(long)]
        replace: bool,
    },
    /// Print the list as a file `import` reads.
    Export,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BlockedCommand {
    /// List blocked terms with their reason.
    List,
    /// Block a term.
    Add {
        /// The term (a label).
        term: String,
        /// Why (e.g. public order, an authority's order reference).
        #[arg(long)]
        reason: String,
    },
    /// Unblock a term.
    Remove {
        /// The term.
        term: String,
    },
    /// Load a file of `TERM REASON` lines (the `export` format); nothing is
    /// loaded when a line is bad.
    Import {
        /// The file.
        file: PathBuf,
        /// Unblock the terms the file does not list.
        #[arg(long)]
        replace: bool,
    },
    /// Print the list in the file format.
    Export,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Issue a single-use token for one reserved name; prints the token.
    Issue {
        /// The exact domain name it allows.
        name: String,
    },
    /// List tokens and whether they were used.
    List,
}

fn term(raw: &str) -> anyhow::Result<String> {
    crate::policy::terms::normalize_term(raw).with_context(|| format!("{raw:?} is not a label"))
}

/// Runs one `admin reserved …` command.
pub(super) fn reserved(
    ctx: &mut Ctx<'_>,
    store: &Store,
    command: &ReservedCommand,
) -> anyhow::Result<()> {
    let json = ctx.json;
    use crate::policy::terms::CATEGORIES;
    match command {
        ReservedCommand::List | ReservedCommand::Export => {
            let terms = store.terms(true)?;
            if json && matches!(command, ReservedCommand::List) {
                let rows: Vec<_> = terms
                    .iter()
                    .map(|(t, c)| serde_json::json!({"term": t, "category": c}))
                    .collect();
                ctx.write_json(&rows)?;
            } else {
                for (t, c) in terms {
                    say!(ctx, "{c} {t}");
                }
            }
        }
        ReservedCommand::Add {
            category,
            term: raw,
        } => {
            if !CATEGORIES.contains(&category.as_str()) {
                bail!("unknown category {category:?}; use one of {CATEGORIES:?}");
            }
            let t = term(raw)?;
            store.put_reserved(&t, category, &operator_audit(ctx, "admin:reserved-add"))?;
            store.flush_now()?;
            say!(ctx, "{t} reserved ({category})");
        }
        ReservedCommand::Remove { term: raw } => {
            let t = term(raw)?;
            if !store.remove_reserved(&t, &operator_audit(ctx, "admin:reserved-remove"))? {
                bail!("{t} is not reserved");
            }
            store.flush_now()?;
            say!(ctx, "{t} released");
        }
        ReservedCommand::Import { file, replace } => {
            let n = import_terms(ctx, store, file, *replace, true)?;
            store.mark_terms_seeded()?;
            store.flush_now()?;
            say!(ctx, "{n} reserved terms imported");
        }
    }
    Ok(())
}

/// Loads a reserved (`reserved`) or blocked list file: every line checked
/// first, nothing loaded when one is bad; `replace` drops the terms the file
/// does not list. Each change is in the history. Returns how many it loaded.
fn import_terms(
    ctx: &mut Ctx<'_>,
    store: &Store,
    file: &Path,
    replace: bool,
    reserved: bool,
) -> anyhow::Result<usize> {
    let path = ctx.path(file);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let parsed = if reserved {
        crate::policy::terms::parse_reserved(&text)
    } else {
        crate::policy::terms::parse_blocked(&text)
    };
    let terms = match parsed {
        Ok(terms) => terms,
        Err(errors) => {
            for e in &errors {
                say_err!(ctx, "{}: {e}", path.display());
            }
            bail!("{} invalid lines; nothing imported", errors.len());
        }
    };
    let command = if reserved {
        "admin:reserved-import"
    } else {
        "admin:blocked-import"
    };
    if replace {
        for (t, _) in store.terms(reserved)? {
            if !terms.iter().any(|(n, _)| *n == t) {
                let audit = operator_audit(ctx, command);
                if reserved {
                    store.remove_reserved(&t, &audit)?;
                } else {
                    store.remove_blocked(&t, &audit)?;
                }
            }
        }
    }
    for (t, value) in &terms {
        let audit = operator_audit(ctx, command);
        if reserved {
            store.put_reserved(t, value, &audit)?;
        } else {
            store.put_blocked(t, value, &audit)?;
        }
    }
    Ok(terms.len())
}

/// Runs one `admin blocked …` command.
pub(super) fn blocked(
    ctx: &mut Ctx<'_>,
    store: &Store,
    command: &BlockedCommand,
) -> anyhow::Result<()> {
    let json = ctx.json;
    match command {
        BlockedCommand::List | BlockedCommand::Export => {
            let json = json && matches!(command, BlockedCommand::List);
            let terms = store.terms(false)?;
            if json {
                let rows: Vec<_> = terms
                    .iter()
                    .map(|(t, r)| serde_json::json!({"term": t, "reason": r}))
                    .collect();
                ctx.write_json(&rows)?;
            } else {
                for (t, r) in terms {
                    say!(ctx, "{t}\t{r}");
                }
            }
        }
        BlockedCommand::Import { file, replace } => {
            let n = import_terms(ctx, store, file, *replace, false)?;
            store.flush_now()?;
            say!(ctx, "{n} blocked terms imported");
        }
        BlockedCommand::Add { term: raw, reason } => {
            let t = term(raw)?;
            store.put_blocked(&t, reason, &operator_audit(ctx, "admin:blocked-add"))?;
            store.flush_now()?;
            say!(ctx, "{t} blocked");
        }
        BlockedCommand::Remove { term: raw } => {
            let t = term(raw)?;
            if !store.remove_blocked(&t, &operator_audit(ctx, "admin:blocked-remove"))? {
                bail!("{t} is not blocked");
            }
            store.flush_now()?;
            say!(ctx, "{t} unblocked");
        }
    }
    Ok(())
}

/// Runs one `admin token …` command.
pub(super) fn token(
    ctx: &mut Ctx<'_>,
    store: &Store,
    command: &TokenCommand,
) -> anyhow::Result<()> {
    let json = ctx.json;
    let settings = ctx.settings;
    let operator = ctx.operator.clone();
    match command {
        TokenCommand::Issue { name } => {
            let name = crate::policy::r1_r3_registrable_name(name, settings)
                .map_err(|e| anyhow::anyhow!("{}", e.error))?
                .name;
            let token = format!(
                "MA-{}",
                crate::flows::auth::random_auth_info()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "x")
            );
            store.put_token(
                &crate::model::AllocationToken {
                    token: token.clone(),
                    name: name.clone(),
                    issued: ctx.now,
                    issued_by: operator.clone(),
                    used: None,
                },
                &operator_audit(ctx, "admin:token-issue"),
            )?;
            store.flush_now()?;
            if json {
                say!(ctx, "{}", serde_json::json!({"token": token, "name": name}));
            } else {
                say!(ctx, "{token}");
            }
        }
        TokenCommand::List => {
            let tokens = store.tokens()?;
            if json {
                let rows: Vec<_> = tokens
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "token": t.token,
                            "name": t.name,
                            "issued": t.issued.to_rfc3339(),
                            "issued_by": t.issued_by,
                            "used": t.used.map(|u| u.to_rfc3339()),
                        })
                    })
                    .collect();
                ctx.write_json(&rows)?;
            } else {
                for t in tokens {
                    let used = t
                        .used
                        .map(|u| format!("used {}", u.format("%Y-%m-%d")))
                        .unwrap_or_else(|| "unused".into());
                    say!(ctx, "{}\t{}\t{used}", t.token, t.name);
                }
            }
        }
    }
    Ok(())
}
