//! The server's log sink: each line is appended to a buffer in memory, and
//! a thread of its own writes the buffer to standard error, at most every
//! 10 ms, in one write per batch. A command never waits on the log (unless
//! 16 MiB are waiting, when a line waits for room rather than being lost),
//! and the thread wakes once per batch, not once per line. What is left is
//! written when the guard drops at the end of `main`.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How long the writer lets lines gather after the first of a batch.
const LINGER: Duration = Duration::from_millis(10);
/// A batch this large is written at once.
const EAGER_BYTES: usize = 256 * 1024;
/// Above this, a line waits until the writer makes room.
const MAX_BYTES: usize = 16 * 1024 * 1024;

struct Shared {
    state: Mutex<State>,
    /// A batch started, or the sink stops.
    ready: Condvar,
    /// The writer took the buffer.
    room: Condvar,
}

#[derive(Default)]
struct State {
    buf: Vec<u8>,
    stopping: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where the log's lines go (a `MakeWriter` for `tracing_subscriber`).
#[derive(Clone)]
pub struct LogSink {
    shared: Arc<Shared>,
}

/// Writes what is left and stops the writer thread when dropped.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts the writer thread, writing to `out`.
pub fn start(out: impl Write + Send + 'static) -> std::io::Result<(LogSink, LogGuard)> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        ready: Condvar::new(),
        room: Condvar::new(),
    });
    let thread = {
        let shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("log-writer".to_owned())
            .spawn(move || write_batches(&shared, out))?
    };
    Ok((
        LogSink {
            shared: Arc::clone(&shared),
        },
        LogGuard {
            shared,
            thread: Some(thread),
        },
    ))
}

fn write_batches(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::new();
    loop {
        let mut state = shared.lock();
        while state.buf.is_empty() && !state.stopping {
            state = shared
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if !state.stopping && state.buf.len() < EAGER_BYTES {
            drop(state);
            std::thread::sleep(LINGER);
            state = shared.lock();
        }
        let stopping = state.stopping;
        std::mem::swap(&mut batch, &mut state.buf);
        drop(state);
        shared.room.notify_all();
        if !batch.is_empty() {
            // Nowhere to report a failure to write the log itself.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
        }
        if stopping {
            let state = shared.lock();
            if state.buf.is_empty() {
                return;
            }
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.ready.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One line's writer: appends to the shared buffer.
pub struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut state = self.shared.lock();
        while state.buf.len() >= MAX_BYTES && !state.stopping {
            state = self
                .shared
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let first = state.buf.is_empty();
        state.buf.extend_from_slice(bytes);
        drop(state);
        if first {
            self.shared.ready.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogSink {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Collected(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Collected {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut c = self.0.lock().unwrap();
            c.0.extend_from_slice(bytes);
            c.1 += 1;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_and_in_few_writes() {
        use tracing_subscriber::fmt::MakeWriter as _;
        let out = Collected::default();
        let (sink, guard) = start(out.clone()).unwrap();
        let mut expected = Vec::new();
        for n in 0..10_000 {
            let line = format!("line {n}\n");
            sink.make_writer().write_all(line.as_bytes()).unwrap();
            expected.extend_from_slice(line.as_bytes());
        }
        drop(guard);
        let (written, writes) = out.0.lock().unwrap().clone();
        assert_eq!(written, expected);
        assert!(writes < 100, "{writes} writes for 10,000 lines");
    }
}
