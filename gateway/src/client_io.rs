//! The client connection as both paths write to it: every write must make progress within the
//! send timeout (`CRM_CLIENT_SEND_TIMEOUT_MS`, nginx's `send_timeout`).
//!
//! A client that asks for a large response and never reads it would otherwise keep its write
//! pending for good — and with it the service's concurrency slot, which lives as long as the
//! response body. When the timeout fires the write fails, the path serving the connection drops
//! the response (and the slot with it) and closes the connection.
//!
//! The timer is armed only when a write cannot go through at once, so a client that reads along
//! (the usual case) never registers one.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

pub struct SendTimeout<S> {
    inner: S,
    timeout: Duration,
    /// Running while a write (or flush) is waiting for the client; `None` otherwise.
    stalled: Option<Pin<Box<Sleep>>>,
    /// Whether `stalled` is armed for the current wait (a boxed timer is kept for reuse).
    waiting: bool,
}

impl<S> SendTimeout<S> {
    pub fn new(inner: S, timeout: Duration) -> Self {
        Self { inner, timeout, stalled: None, waiting: false }
    }

    /// A pending write: starts the timer if this wait has none yet, and fails once it has run out.
    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let deadline = Instant::now() + self.timeout;
        let timer = match &mut self.stalled {
            Some(timer) => {
                if !self.waiting {
                    timer.as_mut().reset(deadline);
                }
                timer
            }
            slot @ None => slot.insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        self.waiting = true;
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "client did not read in time")));
        }
        Poll::Pending
    }

    fn progressed(&mut self) {
        self.waiting = false;
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for SendTimeout<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for SendTimeout<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending => self.pending(cx),
            ready => {
                self.progressed();
                ready
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.pending(cx),
            ready => {
                self.progressed();
                ready
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Pending => self.pending(cx),
            ready => {
                self.progressed();
                ready
            }
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_shutdown(cx) {
            Poll::Pending => self.pending(cx),
            ready => {
                self.progressed();
                ready
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_write_nobody_reads_fails_after_the_timeout() {
        let (writer, reader) = tokio::io::duplex(16);
        let mut io = SendTimeout::new(writer, Duration::from_millis(100));
        let start = std::time::Instant::now();
        let err = io.write_all(&[0u8; 64]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(start.elapsed() >= Duration::from_millis(100));
        // A reader that keeps up is never cut off, however long it all takes.
        let (writer, mut reader2) = tokio::io::duplex(16);
        let mut io = SendTimeout::new(writer, Duration::from_millis(100));
        let read = tokio::spawn(async move {
            let mut buf = [0u8; 8];
            let mut total = 0;
            while total < 256 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                total += tokio::io::AsyncReadExt::read(&mut reader2, &mut buf).await.unwrap();
            }
        });
        io.write_all(&[0u8; 256]).await.unwrap();
        read.await.unwrap();
        drop(reader);
    }
}
