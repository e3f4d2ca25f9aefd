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

    /// Collects what is written; its first write stops until the test
    /// lets it go, so what the test writes meanwhile is one batch whatever
    /// the machine's speed.
    #[derive(Clone)]
    struct Collected {
        out: Arc<Mutex<(Vec<u8>, usize)>>,
        first_started: std::sync::mpsc::SyncSender<()>,
        go_on: Arc<Mutex<std::sync::mpsc::Receiver<()>>>,
    }

    impl Write for Collected {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let first = self.out.lock().unwrap().1 == 0;
            if first {
                let _ = self.first_started.send(());
                let _ = self.go_on.lock().unwrap().recv();
            }
            let mut c = self.out.lock().unwrap();
            c.0.extend_from_slice(bytes);
            c.1 += 1;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_written_during_a_write_go_out_together_and_in_order() {
        use tracing_subscriber::fmt::MakeWriter as _;
        let (first_started, started) = std::sync::mpsc::sync_channel(1);
        let (release, go_on) = std::sync::mpsc::channel();
        let out = Collected {
            out: Arc::default(),
            first_started,
            go_on: Arc::new(Mutex::new(go_on)),
        };
        let (sink, guard) = start(out.clone()).unwrap();
        sink.make_writer().write_all(b"line 0\n").unwrap();
        started.recv().unwrap();
        // The writer is inside its first write: these wait in the buffer.
        let mut expected = b"line 0\n".to_vec();
        for n in 1..10_000 {
            let line = format!("line {n}\n");
            sink.make_writer().write_all(line.as_bytes()).unwrap();
            expected.extend_from_slice(line.as_bytes());
        }
        release.send(()).unwrap();
        drop(guard);
        let (written, writes) = out.out.lock().unwrap().clone();
        assert_eq!(written, expected, "every line, in order");
        assert_eq!(
            writes, 2,
            "one write for the first line, one for the 9,999 others"
        );
    }
}
