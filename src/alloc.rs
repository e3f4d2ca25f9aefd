//! The C allocator's arenas. glibc gives a thread that meets contention
//! an arena of its own, up to eight per core, and memory freed into one
//! arena serves only that arena's threads. In the server, sled's page cache
//! is filled and emptied from every thread (the runtime's workers, the
//! blocking pool, sled's own), so each arena keeps its share of freed
//! pages: on a 1,000,000-domain store that is about 100 MiB more resident
//! memory after a load run than with one arena per core (see
//! docs/performance.md). The store's users (`serve`, `admin`) therefore
//! ask for one arena per core, unless `MALLOC_ARENA_MAX` in the
//! environment says otherwise.

/// The arena limit to set: one per core, or none when the environment
/// sets `MALLOC_ARENA_MAX` (glibc reads it itself).
pub fn arena_limit(env: Option<&std::ffi::OsStr>, cores: usize) -> Option<i32> {
    if env.is_some() {
        return None;
    }
    Some(i32::try_from(cores.max(1)).unwrap_or(i32::MAX))
}

/// Limits glibc's arenas to one per core (see the module's text). Call it
/// before the process starts threads. Elsewhere than on glibc it does
/// nothing.
pub fn limit_arenas() {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let Some(arenas) = arena_limit(std::env::var_os("MALLOC_ARENA_MAX").as_deref(), cores) else {
        return;
    };
    set_arena_max(arenas);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_arena_max(arenas: i32) {
    // SAFETY: mallopt only changes a parameter of glibc's allocator, which
    // takes effect for the arenas it creates from then on; it reads no
    // memory of ours.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_arena_max(_arenas: i32) {}

#[cfg(test)]
mod tests {
    use super::arena_limit;

    #[test]
    fn one_arena_per_core_unless_the_environment_says() {
        assert_eq!(arena_limit(None, 2), Some(2));
        assert_eq!(arena_limit(None, 0), Some(1));
        assert_eq!(arena_limit(Some(std::ffi::OsStr::new("8")), 2), None);
    }
}
