//! Backups of the store and their restore. A backup is taken while the
//! server runs: it holds the store's write gate, so it contains every
//! change or none of it, and the server waits for it only that long. The
//! file: a magic, the format version, the object-id high-water mark, every
//! tree's records, and a SHA-256 of all that; written to a temporary name,
//! synced, then renamed. A restore checks the digest before it writes
//! anything, and only into an empty directory.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::{FORMAT_VERSION, Store, StoreError};

const MAGIC: &[u8; 8] = b"MAREGBK1";
const TREE: u8 = 1;
const RECORD: u8 = 2;
const END: u8 = 3;

/// What a backup or a restore covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupReport {
    /// Trees.
    pub trees: usize,
    /// Records.
    pub records: u64,
    /// Bytes of the file.
    pub bytes: u64,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::Backup(format!("{}: {e}", path.display()))
}

/// A writer that hashes what it writes.
struct Hashing<W: Write> {
    inner: W,
    digest: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    fn put(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.digest.update(data);
        self.bytes += data.len() as u64;
        self.inner.write_all(data)
    }

    fn put_chunk(&mut self, data: &[u8]) -> std::io::Result<()> {
        let len =
            u32::try_from(data.len()).map_err(|_| std::io::Error::other("a record over 4 GiB"))?;
        self.put(&len.to_be_bytes())?;
        self.put(data)
    }
}

impl Store {
    /// Writes a consistent copy of the whole store to `path`.
    ///
    /// # Errors
    /// [`StoreError::Backup`] when the file cannot be written; storage errors.
    pub fn backup(&self, path: &Path) -> Result<BackupReport, StoreError> {
        let _all = self
            .inner
            .gate
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.flush_now()?;
        let engine = self.engine()?;
        let staging = PathBuf::from(format!("{}.partial", path.display()));
        // A partial file left by a failed backup keeps its mode when
        // truncated: a new one is made 0600.
        let _ = std::fs::remove_file(&staging);
        let file = crate::fsmode::create_file(&staging).map_err(io(&staging))?;
        let mut out = Hashing {
            inner: BufWriter::new(file),
            digest: Sha256::new(),
            bytes: 0,
        };
        let mark = engine.generate_id()?;
        let mut report = BackupReport {
            trees: 0,
            records: 0,
            bytes: 0,
        };
        let write = |out: &mut Hashing<BufWriter<std::fs::File>>,
                     report: &mut BackupReport|
         -> Result<(), StoreError> {
            out.put(MAGIC).map_err(io(&staging))?;
            out.put(&FORMAT_VERSION.to_be_bytes())
                .map_err(io(&staging))?;
            out.put(&mark.to_be_bytes()).map_err(io(&staging))?;
            for (name, tree) in engine.trees() {
                out.put(&[TREE]).map_err(io(&staging))?;
                out.put_chunk(name.as_bytes()).map_err(io(&staging))?;
                report.trees += 1;
                for entry in tree.iter() {
                    let (key, value) = entry?;
                    out.put(&[RECORD]).map_err(io(&staging))?;
                    out.put_chunk(&key).map_err(io(&staging))?;
                    out.put_chunk(&value).map_err(io(&staging))?;
                    report.records += 1;
                }
            }
            out.put(&[END]).map_err(io(&staging))?;
            Ok(())
        };
        write(&mut out, &mut report)?;
        let digest = out.digest.clone().finalize();
        out.inner.write_all(&digest).map_err(io(&staging))?;
        let file = out
            .inner
            .into_inner()
            .map_err(|e| StoreError::Backup(format!("{}: {e}", staging.display())))?;
        file.sync_all().map_err(io(&staging))?;
        std::fs::rename(&staging, path).map_err(io(path))?;
        report.bytes = out.bytes + 32;
        Ok(report)
    }

    /// Restores the backup `file` into `dir`, which must be empty or absent.
    /// The object-id counter resumes after the backup's, and the boot
    /// number (the first part of every svTRID) is moved past any the
    /// original store could have used since, so no id is ever given twice.
    ///
    /// Sled's page cache is `cache_bytes`, and the records go to disk as
    /// they are written, so the memory a restore takes does not grow with
    /// the backup. The store is then opened once more, so that its next
    /// opening does not replay the whole restore (see [`Store::checkpoint`]).
    ///
    /// # Errors
    /// [`StoreError::Backup`] for a damaged or foreign file or a directory
    /// in use; storage errors.
    pub fn restore(file: &Path, dir: &Path, cache_bytes: u64) -> Result<BackupReport, StoreError> {
        if dir.exists() && std::fs::read_dir(dir).map_err(io(dir))?.next().is_some() {
            return Err(StoreError::Backup(format!(
                "{} is not empty: restore into a new directory",
                dir.display()
            )));
        }
        verify(file)?;
        let mut input = BufReader::new(std::fs::File::open(file).map_err(io(file))?);
        let mut head = [0u8; 8 + 4 + 8];
        input.read_exact(&mut head).map_err(io(file))?;
        let mut version = [0u8; 4];
        version.copy_from_slice(&head[8..12]);
        if !(super::migrate::OLDEST_READABLE..=FORMAT_VERSION)
            .contains(&u32::from_be_bytes(version))
        {
            return Err(StoreError::Backup(format!(
                "{} holds store format {}, this program reads {FORMAT_VERSION}",
                file.display(),
                u32::from_be_bytes(version)
            )));
        }
        let mut mark = [0u8; 8];
        mark.copy_from_slice(&head[12..20]);
        let mark = u64::from_be_bytes(mark);
        crate::fsmode::create_dir_all(dir).map_err(io(dir))?;
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .open()?;
        let mut report = BackupReport {
            trees: 0,
            records: 0,
            bytes: std::fs::metadata(file).map_err(io(file))?.len(),
        };
        let mut writer = super::compact::BulkWriter::new(db);
        loop {
            let mut tag = [0u8; 1];
            input.read_exact(&mut tag).map_err(io(file))?;
            match tag[0] {
                TREE => writer.start_tree(&chunk(&mut input, file)?)?,
                RECORD => {
                    let key = chunk(&mut input, file)?;
                    let value = chunk(&mut input, file)?;
                    writer.insert(&key, &value)?;
                }
                END => break,
                other => {
                    return Err(StoreError::Backup(format!(
                        "{}: unexpected record tag {other}",
                        file.display()
                    )));
                }
            }
        }
        report.trees = writer.trees;
        report.records = writer.records;
        let db = writer.finish(mark)?;
        let meta = db.open_tree("meta")?;
        let seconds = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
        meta.update_and_fetch("boot", |old| {
            let before = old
                .and_then(|v| v.try_into().ok().map(u64::from_be_bytes))
                .unwrap_or(0);
            Some(before.max(seconds).to_be_bytes().to_vec())
        })?;
        db.flush()?;
        drop(meta);
        drop(db);
        Store::checkpoint(dir, cache_bytes)?;
        super::restrict_store_files(dir)?;
        Ok(report)
    }
}

fn chunk(input: &mut impl Read, file: &Path) -> Result<Vec<u8>, StoreError> {
    let mut len = [0u8; 4];
    input.read_exact(&mut len).map_err(io(file))?;
    let mut data = vec![0u8; u32::from_be_bytes(len) as usize];
    input.read_exact(&mut data).map_err(io(file))?;
    Ok(data)
}

/// Checks the file's magic and digest before anything is restored.
fn verify(file: &Path) -> Result<(), StoreError> {
    let len = std::fs::metadata(file).map_err(io(file))?.len();
    if len < 8 + 4 + 8 + 1 + 32 {
        return Err(StoreError::Backup(format!(
            "{} is too short to be a backup",
            file.display()
        )));
    }
    let mut input = BufReader::new(std::fs::File::open(file).map_err(io(file))?);
    let mut magic = [0u8; 8];
    input.read_exact(&mut magic).map_err(io(file))?;
    if &magic != MAGIC {
        return Err(StoreError::Backup(format!(
            "{} is not a registry backup",
            file.display()
        )));
    }
    let mut digest = Sha256::new();
    digest.update(magic);
    let mut left = len - 8 - 32;
    let mut buffer = vec![0u8; 1 << 16];
    while left > 0 {
        let n = usize::try_from(left.min(buffer.len() as u64)).unwrap_or(buffer.len());
        input.read_exact(&mut buffer[..n]).map_err(io(file))?;
        digest.update(&buffer[..n]);
        left -= n as u64;
    }
    let mut stored = [0u8; 32];
    input.read_exact(&mut stored).map_err(io(file))?;
    if digest.finalize().as_slice() != stored {
        return Err(StoreError::Backup(format!(
            "{} is damaged: its SHA-256 does not match",
            file.display()
        )));
    }
    Ok(())
}
