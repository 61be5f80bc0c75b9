//! Protocol upgrades (WebSocket): once the upstream answers 101, both connections are handed over
//! and bytes are copied both ways until either side closes — or until nothing has moved either way
//! for the idle limit, so a tunnel whose client vanished without closing does not stay open for
//! good. WebSocket clients that ping (browsers' libraries do, typically every 30–60 s) stay open.

use crate::upstream::TunnelSlot;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

pub struct Tunnel {
    pub client: OnUpgrade,
    pub upstream: OnUpgrade,
    pub service: &'static str,
    pub request_id: String,
    pub idle_limit: Duration,
    /// The tunnel's place among the service's open tunnels, held while bytes are relayed.
    pub slot: TunnelSlot,
}

impl Tunnel {
    /// Relays on a task of its own; the request that asked for the upgrade is done.
    pub fn spawn(self) {
        tokio::spawn(self.relay());
    }

    async fn relay(self) {
        let Self { client, upstream, service, request_id, idle_limit, slot } = self;
        let (client, upstream) = match tokio::try_join!(client, upstream) {
            Ok(pair) => pair,
            Err(err) => {
                tracing::warn!(request_id, upstream = %service, error = %err, "upgrade failed");
                return;
            }
        };
        let clock = Arc::new(Activity::new());
        let mut client = Watched { inner: TokioIo::new(client), clock: clock.clone() };
        let mut upstream = Watched { inner: TokioIo::new(upstream), clock: clock.clone() };
        // Declared after the connections, so dropped before them: the tunnel no longer counts by
        // the time either side sees the connection close.
        let _slot = slot;
        tokio::select! {
            result = tokio::io::copy_bidirectional(&mut client, &mut upstream) => match result {
                Ok((up, down)) => {
                    tracing::debug!(request_id, upstream = %service, bytes_up = up, bytes_down = down, "upgraded connection closed");
                }
                Err(err) => tracing::debug!(request_id, upstream = %service, error = %err, "upgraded connection ended"),
            },
            () = clock.idle_for(idle_limit) => {
                tracing::info!(request_id, upstream = %service, idle_secs = idle_limit.as_secs_f64(), "upgraded connection closed after being idle");
            }
        }
    }
}

/// When bytes last moved, in either direction.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self { start: Instant::now(), last_ms: AtomicU64::new(0) }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Completes once nothing has moved for `limit`; sleeps again whenever something did meanwhile.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let deadline = self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + limit;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// An upgraded connection that reports to its tunnel's [`Activity`].
struct Watched<T> {
    inner: T,
    clock: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.touch();
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.clock.touch();
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
