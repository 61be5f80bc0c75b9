//! Keep-alive HTTP/1.1 connections to one upstream, for one worker.
//!
//! A request takes the most recently used idle connection, or opens a new one; the connection
//! comes back when its response body has been read to the end (see [`LeasedBody`]) — one whose
//! body was abandoned is closed instead, since it cannot carry another exchange. Requests are sent
//! with `try_send_request`, which hands a request back when it was not sent at all — a pooled
//! connection the service closed in the meantime — so it goes out on another connection, and a
//! failed connect returns the request to the caller, which may retry it without having kept a copy.

use axum::body::Body;
use http::{Request, Response};
use hyper::body::{Body as _, Bytes, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    dial: Dial,
    idle: IdleList<SendRequest<Body>>,
    /// Open connections of the whole upstream (shared by its pools), for `/metrics`.
    open: Arc<AtomicUsize>,
}

/// Where one service is reached, and how long a connect may take.
pub struct Dial {
    /// `host:port`, resolved at each connect (a service's address may change).
    authority: String,
    timeout: Duration,
}

impl Dial {
    pub fn new(authority: String, timeout: Duration) -> Self {
        Self { authority, timeout }
    }

    /// A new connection, with Nagle's algorithm off.
    pub async fn connect(&self) -> Result<TcpStream, String> {
        let stream = tokio::time::timeout(self.timeout, TcpStream::connect(self.authority.as_str()))
            .await
            .map_err(|_| format!("connect to {} timed out", self.authority))?
            .map_err(|e| format!("connect to {}: {e}", self.authority))?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }
}

/// Idle connections of one worker to one service: the most recently used is taken first, and
/// those idle for longer than the idle timeout are dropped on the way. On cache lines of its own:
/// its lock is taken twice per request, and the workers' lists sit side by side.
#[repr(align(128))]
pub struct IdleList<T> {
    idle: Mutex<Vec<(T, Instant)>>,
    timeout: Duration,
    max: usize,
}

impl<T> IdleList<T> {
    pub fn new(timeout: Duration, max: usize) -> Self {
        Self { idle: Mutex::new(Vec::with_capacity(max)), timeout, max }
    }

    /// The most recent idle connection that is still `usable`.
    pub fn take(&self, usable: impl Fn(&T) -> bool) -> Option<T> {
        let mut idle = self.idle.lock().ok()?;
        let now = Instant::now();
        if idle.first().is_some_and(|(_, since)| now.duration_since(*since) >= self.timeout) {
            idle.retain(|(_, since)| now.duration_since(*since) < self.timeout);
        }
        while let Some((connection, _)) = idle.pop() {
            if usable(&connection) {
                return Some(connection);
            }
        }
        None
    }

    /// Keeps `connection`, unless `max` are idle already.
    pub fn put(&self, connection: T) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.max
        {
            idle.push((connection, Instant::now()));
        }
    }
}

/// Why an exchange failed.
pub enum SendError {
    /// No connection could be opened; nothing was sent.
    Connect(String),
    /// The request went out, at least in part, and no valid response head came back.
    Exchange(hyper::Error),
}

/// The connection a response arrived on: back to the pool when dropped, if the exchange was
/// completed ([`Lease::complete`]); closed otherwise.
pub struct Lease {
    sender: Option<SendRequest<Body>>,
    pool: Arc<Inner>,
    complete: bool,
}

impl Lease {
    pub fn complete(&mut self) {
        self.complete = true;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take()
            && self.complete
        {
            self.pool.put(sender);
        }
    }
}

/// A response body that completes its [`Lease`] when it has been read to the end.
pub struct LeasedBody {
    inner: Incoming,
    lease: Lease,
}

impl LeasedBody {
    pub fn new(inner: Incoming, mut lease: Lease) -> Self {
        // A response without a body (to HEAD; 204, 304) is complete already, and the server side
        // may never poll it.
        if inner.is_end_stream() {
            lease.complete();
        }
        Self { inner, lease }
    }
}

impl hyper::body::Body for LeasedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        match &frame {
            None => self.lease.complete(),
            Some(Ok(_)) if self.inner.is_end_stream() => self.lease.complete(),
            _ => {}
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Pool {
    pub fn new(dial: Dial, idle: IdleList<SendRequest<Body>>, open: Arc<AtomicUsize>) -> Self {
        Self { inner: Arc::new(Inner { dial, idle, open }) }
    }

    /// One exchange. On a connect failure the request comes back with the error.
    pub async fn send(
        &self,
        mut request: Request<Body>,
    ) -> Result<(Response<Incoming>, Lease), (SendError, Option<Request<Body>>)> {
        loop {
            let (mut sender, pooled) = match self.inner.take() {
                Some(sender) => (sender, true),
                // Boxed: the handshake's future is large, and connecting is the rare case.
                None => {
                    let connect = Box::pin(self.inner.connect());
                    match connect.await {
                        Ok(sender) => (sender, false),
                        Err(reason) => return Err((SendError::Connect(reason), Some(request))),
                    }
                }
            };
            // A connection given back a moment ago may still be winding up its last exchange.
            if pooled && !sender.is_ready() && sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(request).await {
                Ok(response) => {
                    let lease = Lease { sender: Some(sender), pool: self.inner.clone(), complete: false };
                    return Ok((response, lease));
                }
                Err(mut err) => match err.take_message() {
                    // Never sent: the idle connection went away meanwhile. Another one will do.
                    Some(unsent) if pooled => request = unsent,
                    Some(unsent) => return Err((SendError::Connect(err.into_error().to_string()), Some(unsent))),
                    None => return Err((SendError::Exchange(err.into_error()), None)),
                },
            }
        }
    }
}

impl Inner {
    /// The most recently used idle connection that is still open.
    fn take(&self) -> Option<SendRequest<Body>> {
        self.idle.take(|sender| !sender.is_closed())
    }

    fn put(&self, sender: SendRequest<Body>) {
        if !sender.is_closed() {
            self.idle.put(sender);
        }
    }

    async fn connect(&self) -> Result<SendRequest<Body>, String> {
        let stream = self.dial.connect().await?;
        let (mut sender, connection) =
            http1::Builder::new().handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        let open = self.open.clone();
        open.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            if let Err(err) = connection.with_upgrades().await {
                tracing::debug!(error = %err, "upstream connection ended with an error");
            }
            open.fetch_sub(1, Ordering::Relaxed);
        });
        sender.ready().await.map_err(|e| e.to_string())?;
        Ok(sender)
    }
}
