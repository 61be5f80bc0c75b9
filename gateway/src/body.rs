//! Body wrappers that keep streaming streamed: nothing here buffers more than one frame.
//!
//! - [`LimitedBody`] counts request bytes and fails the stream past the limit (the proxy phase
//!   turns that into 413 when the upstream has not answered yet).
//! - [`IdleTimeout`] fails a response stream that stalls for longer than the route timeout.
//! - [`Guarded`] holds something (a concurrency permit, the access-log record) until the body is
//!   finished or the client goes away.

use hyper::body::{Body, Bytes, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[error("request body exceeds {0} bytes")]
pub struct TooLarge(pub usize);

#[derive(Debug, thiserror::Error)]
#[error("upstream body stalled for {0:?}")]
pub struct Stalled(pub Duration);

/// What the proxy phase can see of a request body while it streams.
#[derive(Debug)]
pub struct Progress {
    exceeded: AtomicBool,
    origin: Instant,
    /// Milliseconds after `origin` of the last frame read from the client.
    last_frame_ms: AtomicU64,
}

impl Progress {
    pub fn exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Relaxed)
    }

    /// When the client last sent body bytes (the start, if it has sent none).
    pub fn last_activity(&self) -> Instant {
        self.origin + Duration::from_millis(self.last_frame_ms.load(Ordering::Relaxed))
    }
}

/// How much of an over-limit body is still read (and dropped) before the request is refused.
const DISCARD_LIMIT: usize = 1024 * 1024;

pub struct LimitedBody<B> {
    inner: B,
    seen: usize,
    limit: usize,
    progress: Arc<Progress>,
}

impl<B> LimitedBody<B> {
    /// The body, and a handle that tells whether the limit was crossed and when bytes last came.
    pub fn new(inner: B, limit: usize) -> (Self, Arc<Progress>) {
        let progress = Arc::new(Progress {
            exceeded: AtomicBool::new(false),
            origin: Instant::now(),
            last_frame_ms: AtomicU64::new(0),
        });
        (Self { inner, seen: 0, limit, progress: progress.clone() }, progress)
    }
}

impl<B> Body for LimitedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
            let over = self.progress.exceeded();
            match frame {
                Some(Ok(frame)) => {
                    let elapsed = self.progress.origin.elapsed().as_millis();
                    self.progress.last_frame_ms.store(u64::try_from(elapsed).unwrap_or(u64::MAX), Ordering::Relaxed);
                    if let Some(data) = frame.data_ref() {
                        self.seen = self.seen.saturating_add(data.len());
                    }
                    if self.seen > self.limit {
                        self.progress.exceeded.store(true, Ordering::Relaxed);
                    }
                    // Past the limit the rest is read and dropped (up to a bound) before the
                    // stream fails: a client still sending when the 413 and the close come would
                    // otherwise get a reset instead of the answer.
                    if self.progress.exceeded() {
                        if self.seen > self.limit.saturating_add(DISCARD_LIMIT) {
                            return Poll::Ready(Some(Err(Box::new(TooLarge(self.limit)))));
                        }
                        continue;
                    }
                    return Poll::Ready(Some(Ok(frame)));
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e.into()))),
                None if over => return Poll::Ready(Some(Err(Box::new(TooLarge(self.limit))))),
                None => return Poll::Ready(None),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pub struct IdleTimeout<B> {
    inner: B,
    idle: Duration,
    last_frame: Instant,
    /// Armed only when the body is waiting: a response that streams without stalling (the common
    /// case) never registers a timer.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> IdleTimeout<B> {
    pub fn new(inner: B, idle: Duration) -> Self {
        Self { inner, idle, last_frame: Instant::now(), timer: None }
    }
}

impl<B> Body for IdleTimeout<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            self.last_frame = Instant::now();
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let deadline = self.last_frame + self.idle;
        let timer = match &mut self.timer {
            Some(timer) => {
                if timer.deadline() != deadline {
                    timer.as_mut().reset(deadline);
                }
                timer
            }
            slot @ None => slot.insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(Stalled(self.idle)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pub struct Guarded<B, G> {
    inner: B,
    _guard: G,
}

impl<B, G> Guarded<B, G> {
    pub fn new(inner: B, guard: G) -> Self {
        Self { inner, _guard: guard }
    }
}

impl<B, G> Body for Guarded<B, G>
where
    B: Body<Data = Bytes> + Unpin,
    G: Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};

    #[tokio::test]
    async fn limit_fails_the_stream() {
        let (body, exceeded) = LimitedBody::new(Full::new(Bytes::from(vec![0u8; 100])), 10);
        assert!(body.collect().await.is_err());
        assert!(exceeded.exceeded());
        let (body, exceeded) = LimitedBody::new(Full::new(Bytes::from(vec![0u8; 10])), 10);
        assert_eq!(body.collect().await.unwrap().to_bytes().len(), 10);
        assert!(!exceeded.exceeded());
    }
}
