//! The modes of what the registry writes: files 0600 and directories 0700,
//! its own user's alone, whatever the umask of the process that uses the
//! library; the umask of `serve` and `admin` (0077), for the files sled
//! creates itself; and the check of a data directory that other users can
//! read.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// The mode of a file the registry writes.
pub const FILE_MODE: u32 = 0o600;
/// The mode of a directory the registry creates.
pub const DIR_MODE: u32 = 0o700;

/// Makes every file and directory the process creates from now on its
/// user's alone (umask 0077), sled's files included.
pub fn private_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Creates `path` (or truncates it) for writing; a file it creates gets
/// mode 0600.
///
/// # Errors
/// The open error.
pub fn create_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Creates `dir` and its missing parents with mode 0700; a directory that
/// exists is left as it is. Returns whether `dir` was created.
///
/// # Errors
/// The create error.
pub fn create_dir_all(dir: &Path) -> io::Result<bool> {
    if dir.is_dir() {
        return Ok(false);
    }
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    Ok(true)
}

/// Gives `path` the mode of its kind, 0700 for a directory and 0600 for a
/// file, and the same to everything under a directory. For what the
/// registry has just created, never for what an operator made.
///
/// # Errors
/// The first failure.
pub fn restrict(path: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(DIR_MODE))?;
        for entry in std::fs::read_dir(path)? {
            restrict(&entry?.path())?;
        }
    } else if meta.is_file() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(())
}

/// `path` if group or others may read it (a directory: list or enter it),
/// with its permission bits.
pub fn readable_by_others(path: &Path) -> Option<(PathBuf, u32)> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let mode = meta.permissions().mode() & 0o7777;
    let open = if meta.is_dir() { 0o055 } else { 0o044 };
    (mode & open != 0).then(|| (path.to_owned(), mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_files_and_directories_are_private_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        assert!(create_dir_all(&nested).unwrap());
        assert!(!create_dir_all(&nested).unwrap(), "it exists");
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&nested), 0o700);
        let file = nested.join("f");
        drop(create_file(&file).unwrap());
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn restrict_and_readable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = sub.join("f");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(readable_by_others(&sub), Some((sub.clone(), 0o755)));
        assert_eq!(readable_by_others(&file), Some((file.clone(), 0o640)));
        restrict(&sub).unwrap();
        assert_eq!((mode(&sub), mode(&file)), (0o700, 0o600));
        assert_eq!(readable_by_others(&sub), None);
        assert_eq!(readable_by_others(&file), None);
    }
}
