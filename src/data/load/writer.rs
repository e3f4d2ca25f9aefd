//! The thread that writes the loader's batches while the loader reads and
//! checks the next records.

use std::sync::mpsc::{Receiver, SyncSender};
use std::thread::JoinHandle;

use super::{FLUSH_EVERY, Kind, Remark};
use crate::store::{Created, PreparedBatch, Store, StoreError};

/// What the writer thread is given: a batch to create, or a request to
/// answer once everything before it is written.
pub(super) enum Job {
    Batch(PreparedBatch, Vec<(u64, Kind)>),
    Sync(SyncSender<Vec<(Kind, Remark)>>),
}

/// The thread that writes the loader's batches, so that the loader reads
/// and checks the next records meanwhile.
pub(super) struct Writer {
    pub(super) jobs: SyncSender<Job>,
    thread: JoinHandle<Result<(), StoreError>>,
}

impl Writer {
    /// Starts the thread; `None` when the system cannot start one.
    pub(super) fn start(store: Store) -> Option<Self> {
        let (jobs, queue) = std::sync::mpsc::sync_channel(2);
        std::thread::Builder::new()
            .name("import-writer".into())
            .spawn(move || write_all(&store, &queue))
            .ok()
            .map(|thread| Writer { jobs, thread })
    }

    /// Lets the thread finish what it was given and waits for it.
    pub(super) fn stop(self) -> Result<(), StoreError> {
        drop(self.jobs);
        self.thread.join().unwrap_or_else(|_| {
            Err(StoreError::Flush(
                "the import's writer thread failed".into(),
            ))
        })
    }
}

fn write_all(store: &Store, queue: &Receiver<Job>) -> Result<(), StoreError> {
    let mut failed = Vec::new();
    let mut since_flush = 0;
    for job in queue {
        match job {
            Job::Batch(batch, lines) => {
                write_batch(store, &batch, &lines, &mut failed)?;
                since_flush += lines.len();
                if since_flush >= FLUSH_EVERY {
                    store.flush_now()?;
                    since_flush = 0;
                }
            }
            Job::Sync(reply) => {
                let _ = reply.send(std::mem::take(&mut failed));
            }
        }
    }
    Ok(())
}

/// Creates a batch in one transaction; when an object conflicts (another
/// writer was faster), creates them one at a time and refuses those that
/// conflict.
pub(super) fn write_batch(
    store: &Store,
    batch: &PreparedBatch,
    lines: &[(u64, Kind)],
    failed: &mut Vec<(Kind, Remark)>,
) -> Result<(), StoreError> {
    if store.commit_many(batch, 0..lines.len())?.is_ok() {
        return Ok(());
    }
    for (i, ((line, kind), object)) in lines.iter().zip(batch.objects()).enumerate() {
        if let Err((_, conflict)) = store.commit_many(batch, i..i + 1)? {
            let key = match &object.object {
                Created::Contact(c) => &c.id,
                Created::Host(h) => &h.name,
                Created::Domain(d) => &d.name,
            };
            failed.push((
                *kind,
                Remark {
                    line: *line,
                    reason: format!("{} {key}: not loaded: {conflict:?}", kind.as_str()),
                },
            ));
        }
    }
    Ok(())
}
