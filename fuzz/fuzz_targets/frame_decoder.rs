//! The RFC 5734 frame decoder: any byte stream must end in a frame, a clean
//! end of stream or a `FrameError`, never a panic, and never a buffer larger
//! than the limit.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use ma_registry::transport::read_frame;
use tokio::runtime::Runtime;

const MAX_FRAME: u32 = 65536;

/// One current-thread runtime with a timer (the decoder's timeouts need it),
/// built once for the whole run.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|e| panic!("cannot build the tokio runtime: {e}"))
    })
}

fuzz_target!(|data: &[u8]| {
    runtime().block_on(async {
        let mut reader: &[u8] = data;
        let mut buf = Vec::new();
        let timeout = Duration::from_millis(50);
        // Read frames until the stream ends or a frame is refused, as a session does.
        while let Ok(true) = read_frame(&mut reader, &mut buf, MAX_FRAME, timeout, timeout).await {
            assert!(buf.len() + 4 <= MAX_FRAME as usize);
            assert!(!buf.is_empty());
        }
    });
});
