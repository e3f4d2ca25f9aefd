//! The admin command line as the server's admin socket receives it: the
//! binary's whole command line (`ma-registry [--config F] [--data-dir D]
//! admin …`), parsed into [`AdminArgs`] without the binary's other
//! subcommands, so that the server needs nothing of [`crate::cli`].

use std::path::PathBuf;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use super::AdminArgs;

/// The binary's command line when it is an `admin` one. The global options
/// are those of [`crate::cli::Cli`]; the process that sends the line has
/// read them already, so here they are accepted and ignored.
#[derive(Debug, Parser)]
#[command(name = "ma-registry")]
pub(crate) struct AdminCommandLine {
    /// The TOML configuration file.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// The store directory.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// `admin …`, the only subcommand the socket serves.
    #[command(subcommand)]
    command: AdminOnly,
}

/// The one subcommand of [`AdminCommandLine`].
#[derive(Debug, Subcommand)]
enum AdminOnly {
    /// Operator commands on the registry.
    Admin(AdminArgs),
}

/// An admin command line, parsed.
pub struct ParsedCommand {
    /// Its arguments.
    pub args: AdminArgs,
    /// Its name, the subcommands without their arguments (e.g.
    /// `registrar passwd`): what the log says of it, since an argument may
    /// be a secret.
    pub name: String,
}

/// Parses an `admin` command line received by the server's admin socket.
///
/// # Errors
/// Clap's usage message when it is not an admin command line.
pub fn parse(argv: &[String]) -> Result<ParsedCommand, String> {
    let mut matches = AdminCommandLine::command()
        .try_get_matches_from(argv)
        .map_err(|e| e.render().to_string())?;
    // The subcommands under `admin`, e.g. `registrar passwd`.
    let mut words = Vec::new();
    let mut level = matches.subcommand();
    while let Some((word, sub)) = level {
        words.push(word);
        level = sub.subcommand();
    }
    let name = words.get(1..).unwrap_or_default().join(" ");
    match AdminCommandLine::from_arg_matches_mut(&mut matches) {
        Ok(AdminCommandLine {
            command: AdminOnly::Admin(args),
            ..
        }) => Ok(ParsedCommand { args, name }),
        Err(e) => Err(e.render().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn an_admin_command_is_named_by_its_subcommands_only() {
        let parsed = parse(&argv(&[
            "ma-registry",
            "--data-dir",
            "/tmp/x",
            "admin",
            "--operator",
            "amina",
            "registrar",
            "passwd",
            "reg2",
            "--password",
            "S3cret-Value-99",
        ]))
        .ok();
        assert_eq!(parsed.map(|p| p.name).as_deref(), Some("registrar passwd"));
        let parsed = parse(&argv(&["ma-registry", "admin", "stats"])).ok();
        assert_eq!(parsed.map(|p| p.name).as_deref(), Some("stats"));
        assert!(parse(&argv(&["ma-registry", "admin", "nothing"])).is_err());
        assert!(parse(&argv(&["ma-registry", "certs", "generate"])).is_err());
    }

    #[test]
    fn global_options_may_follow_admin() {
        let parsed = parse(&argv(&[
            "ma-registry",
            "admin",
            "--config",
            "registry.toml",
            "stats",
        ]))
        .ok();
        assert_eq!(parsed.map(|p| p.name).as_deref(), Some("stats"));
    }
}
