//! Body wrappers that keep streaming streamed: nothing here buffers more than one frame.
//!
//! - [`LimitedBody`] counts request bytes and fails the stream past the limit (the proxy phase
//!   turns that into 413 when the upstream has not answered yet), or when the client sends it too
//!   slowly (see [`Pace`]; 400).
//! - [`IdleTimeout`] fails a response stream that stalls for longer than the route timeout.
//! - [`Guarded`] holds something (a concurrency permit, the access-log record) until the body is
//!   finished or the client goes away.

use hyper::body::{Body, Bytes, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[error("request body exceeds {0} bytes")]
pub struct TooLarge(pub usize);

#[derive(Debug, thiserror::Error)]
#[error("upstream body stalled for {0:?}")]
pub struct Stalled(pub Duration);

#[derive(Debug, thiserror::Error)]
#[error("request body arrived too slowly")]
pub struct TooSlow;

/// How fast a streamed request body must arrive.
///
/// A streamed body holds one of the service's concurrency slots for as long as it takes, and
/// every byte that arrives would otherwise push the timeouts back: a client trickling a byte every
/// few seconds could hold a slot for days. So the whole body gets `timeout`, and after `grace`
/// it must have averaged `min_rate` bytes per second — that is, the body may run until
/// `grace + received / min_rate` (as Apache's `mod_reqtimeout` counts), and never past `timeout`.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub timeout: Duration,
    pub grace: Duration,
    /// Bytes per second; 0 = only `timeout` applies.
    pub min_rate: u64,
}

impl Pace {
    /// How long after its start a body of which `received` bytes have arrived may still run.
    fn allowed(&self, received: usize) -> Duration {
        if self.min_rate == 0 {
            return self.timeout;
        }
        let earned = Duration::from_secs_f64(received as f64 / self.min_rate as f64);
        (self.grace + earned).min(self.timeout)
    }
}

/// What the proxy phase can see of a request body while it streams.
#[derive(Debug)]
pub struct Progress {
    exceeded: AtomicBool,
    /// The body fell behind its [`Pace`].
    slow: AtomicBool,
    origin: Instant,
    /// Milliseconds after `origin` of the last frame read from the client.
    last_frame_ms: AtomicU64,
}

impl Progress {
    pub fn exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Relaxed)
    }

    pub fn too_slow(&self) -> bool {
        self.slow.load(Ordering::Relaxed)
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
    pace: Option<Pace>,
    /// Armed only while the body waits for the client, for when its [`Pace`] runs out.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> LimitedBody<B> {
    /// The body, and a handle that tells whether the limit was crossed and when bytes last came.
    /// With a `pace`, a body that arrives too slowly fails too.
    pub fn new(inner: B, limit: usize, pace: Option<Pace>) -> (Self, Arc<Progress>) {
        let progress = Arc::new(Progress {
            exceeded: AtomicBool::new(false),
            slow: AtomicBool::new(false),
            origin: Instant::now(),
            last_frame_ms: AtomicU64::new(0),
        });
        (Self { inner, seen: 0, limit, progress: progress.clone(), pace, timer: None }, progress)
    }

    /// Called while the client has sent nothing new: whether the body has run out of time (it
    /// then fails), else `Pending` with a timer set for when it would.
    fn out_of_time(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(pace) = self.pace else { return false };
        let deadline = self.progress.origin + pace.allowed(self.seen);
        if Instant::now() >= deadline {
            self.progress.slow.store(true, Ordering::Relaxed);
            return true;
        }
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
            self.progress.slow.store(true, Ordering::Relaxed);
            return true;
        }
        false
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
            let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Ready(frame) => frame,
                Poll::Pending if self.out_of_time(cx) => return Poll::Ready(Some(Err(Box::new(TooSlow)))),
                Poll::Pending => return Poll::Pending,
            };
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
        let (body, exceeded) = LimitedBody::new(Full::new(Bytes::from(vec![0u8; 100])), 10, None);
        assert!(body.collect().await.is_err());
        assert!(exceeded.exceeded());
        let (body, exceeded) = LimitedBody::new(Full::new(Bytes::from(vec![0u8; 10])), 10, None);
        assert_eq!(body.collect().await.unwrap().to_bytes().len(), 10);
        assert!(!exceeded.exceeded());
    }

    #[test]
    fn pace_earns_time_per_byte_up_to_the_timeout() {
        let pace = Pace { timeout: Duration::from_secs(60), grace: Duration::from_secs(2), min_rate: 1000 };
        assert_eq!(pace.allowed(0), Duration::from_secs(2));
        assert_eq!(pace.allowed(3000), Duration::from_secs(5));
        assert_eq!(pace.allowed(10_000_000), Duration::from_secs(60));
        let unpaced = Pace { min_rate: 0, ..pace };
        assert_eq!(unpaced.allowed(0), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickling_body_fails_when_it_falls_behind() {
        // One byte every 500 ms against 10 bytes/s after 1 s: behind by about the second byte.
        let frames = futures_util::stream::unfold(0u8, |n| async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            (n < 100).then(|| (Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(b"x"))), n + 1))
        });
        let pace = Pace { timeout: Duration::from_secs(60), grace: Duration::from_secs(1), min_rate: 10 };
        let (body, progress) = LimitedBody::new(http_body_util::StreamBody::new(Box::pin(frames)), 1000, Some(pace));
        let started = Instant::now();
        let Err(error) = body.collect().await else { panic!("the body should be cut off") };
        assert!(error.is::<TooSlow>(), "{error}");
        assert!(progress.too_slow());
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    }
}
