//! The RDAP listener as axum sees it: every accepted connection takes a
//! place under the connection caps (in all and per address, as WHOIS), or
//! is closed at once; an admitted one is closed after `idle_timeout_secs`
//! without a byte read or written, so idle keep-alive connections give
//! their places back. The peer's address reaches the handlers as [`Peer`].

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};
use tracing::{debug, warn};

use crate::whois::{Connections, Place};

/// The TCP listener under the caps.
pub struct CappedListener {
    /// The bound socket.
    pub tcp: TcpListener,
    /// The places.
    pub open: Arc<Connections>,
    /// The idle timeout of a connection.
    pub idle: Duration,
}

/// An admitted connection: the socket, its place, and its idle deadline.
pub struct CappedIo {
    tcp: TcpStream,
    _place: Place,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl CappedIo {
    fn touch(&mut self) {
        let at = Instant::now() + self.idle;
        self.deadline.as_mut().reset(at);
    }

    /// Pending, unless the connection has been idle too long.
    fn idle_or_pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "RDAP connection idle",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for CappedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.tcp).poll_read(cx, buf) {
            Poll::Ready(done) => {
                this.touch();
                Poll::Ready(done)
            }
            Poll::Pending => this.idle_or_pending(cx),
        }
    }
}

impl AsyncWrite for CappedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.tcp).poll_write(cx, buf) {
            Poll::Ready(done) => {
                this.touch();
                Poll::Ready(done)
            }
            Poll::Pending => this.idle_or_pending(cx),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

impl Listener for CappedListener {
    type Io = CappedIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (CappedIo, SocketAddr) {
        loop {
            let (tcp, peer) = match self.tcp.accept().await {
                Ok(pair) => pair,
                Err(e) => {
                    warn!(error = %e, "RDAP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(place) = self.open.take(peer.ip()) else {
                debug!(%peer, "RDAP connection over the caps; closed");
                drop(tcp);
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let deadline = Box::pin(tokio::time::sleep(self.idle));
            let io = CappedIo {
                tcp,
                _place: place,
                idle: self.idle,
                deadline,
            };
            return (io, peer);
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// The address a request came from (the TCP peer).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, CappedListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, CappedListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}
