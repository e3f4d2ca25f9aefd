//! The process's limit of open files: raising the soft limit to the hard
//! one, and reading it. Used by `serve`, the benchmark and the metrics,
//! so none of them depends on another for it.

/// Raises the process's soft limit of open files to its hard limit. Each
/// session is a socket, and the common soft limit of 1,024 would make
/// `accept` fail once about a thousand sessions are open. Gives the limit
/// before and after when it was raised.
pub fn raise_open_files_limit() -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        let (Some(current), Some(maximum)) = (limit.current, limit.maximum) else {
            return None;
        };
        if current >= maximum {
            return None;
        }
        let raised = Rlimit {
            current: Some(maximum),
            maximum: Some(maximum),
        };
        setrlimit(Resource::Nofile, raised).ok()?;
        Some((current, maximum))
    }
    #[cfg(not(unix))]
    None
}

/// The soft limit of open files, when there is one.
pub fn open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    None
}
