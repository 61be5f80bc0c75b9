//! The direct path's side towards a service: keep-alive connections (one idle list per worker and
//! upstream), one exchange on them, and the relay of the response body to the client.
//!
//! A connection is reused only when its last response was read exactly to its end; one that the
//! service closed while it sat idle is noticed before use (its socket reads end-of-file), and one
//! that turns out closed after the request went out is replaced once for a request that is safe to
//! send again.

use super::deadline::Deadline;
use super::wire::{self, Framing, ResponseHead};
use crate::upstream::pool::{Dial, IdleList};
use bytes::{Buf, BytesMut};
use http::Method;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest response head read from a service.
const MAX_HEAD: usize = 64 * 1024;
/// Body bytes gathered before they are written to the client.
const FLUSH_AT: usize = 64 * 1024;
const READ_CHUNK: usize = 16 * 1024;

/// One open connection to a service, with what has been read from it and not yet used.
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    /// Where the header lines of the last response head lie (see [`wire::response`]); boxed so
    /// that moving the connection stays cheap.
    fields: Box<wire::Fields>,
    _open: Open,
}

/// Counts the connection among the upstream's open ones while it lives.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One worker's idle connections to one service.
pub struct Idle {
    dial: Dial,
    idle: IdleList<Conn>,
    open: Arc<AtomicUsize>,
}

/// Why an exchange failed.
#[derive(Debug)]
pub enum Failure {
    /// No connection could be opened; nothing was sent.
    Connect(String),
    /// A reused connection was found closed with no answer begun: the request may not have been
    /// seen, and may be sent again when that is safe.
    Stale,
    Timeout,
    BadResponse(String),
}

impl Idle {
    pub fn new(dial: Dial, idle: IdleList<Conn>, open: Arc<AtomicUsize>) -> Self {
        Self { dial, idle, open }
    }

    /// The most recently used idle connection that is still open (unless `fresh`), or a new one;
    /// and whether it was reused.
    pub async fn take(&self, fresh: bool) -> Result<(Conn, bool), Failure> {
        if !fresh && let Some(conn) = self.idle.take(Conn::quiet) {
            return Ok((conn, true));
        }
        let stream = self.dial.connect().await.map_err(Failure::Connect)?;
        self.open.fetch_add(1, Ordering::Relaxed);
        let buf = BytesMut::with_capacity(READ_CHUNK);
        Ok((Conn { stream, buf, fields: Box::default(), _open: Open(self.open.clone()) }, false))
    }

    /// Keeps a connection whose last exchange ended cleanly.
    pub fn put(&self, conn: Conn) {
        self.idle.put(conn);
    }
}

impl Conn {
    /// The header lines of `head`, the last response head this connection read.
    pub fn headers<'a>(&'a self, head: &'a wire::Response) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone {
        head.headers(&self.fields)
    }

    /// Whether an idle connection has nothing to say: a service that closed it, or sent anything
    /// unasked, has. Costs a system call only when the socket was last seen readable.
    fn quiet(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    /// Sends `request` (head and body) and reads the response head, within `timeout`.
    pub async fn exchange(
        &mut self,
        request: &[u8],
        method: &Method,
        reused: bool,
        deadline: &mut Deadline,
        timeout: Duration,
    ) -> Result<wire::Response, Failure> {
        deadline.within(timeout, self.exchange_inner(request, method, reused)).await.unwrap_or(Err(Failure::Timeout))
    }

    async fn exchange_inner(
        &mut self,
        request: &[u8],
        method: &Method,
        reused: bool,
    ) -> Result<wire::Response, Failure> {
        self.buf.clear();
        if let Err(err) = self.stream.write_all(request).await {
            return Err(if reused { Failure::Stale } else { Failure::BadResponse(format!("sending request: {err}")) });
        }
        let mut received = false;
        loop {
            match wire::response(&mut self.buf, method, &mut self.fields) {
                ResponseHead::Complete(head) => return Ok(head),
                ResponseHead::Interim => continue,
                ResponseHead::Invalid(why) => return Err(Failure::BadResponse(why.into())),
                ResponseHead::Partial if self.buf.len() > MAX_HEAD => {
                    return Err(Failure::BadResponse("response head too large".into()));
                }
                ResponseHead::Partial => {}
            }
            self.buf.reserve(READ_CHUNK);
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) if reused && !received => return Err(Failure::Stale),
                Ok(0) => return Err(Failure::BadResponse("connection closed before a response".into())),
                Ok(_) => received = true,
                Err(err) => return Err(Failure::BadResponse(format!("reading response: {err}"))),
            }
        }
    }
}

/// How relaying a body ended, when it did not end well.
#[derive(Debug)]
pub enum RelayError {
    /// The service stalled, closed early or broke the framing: the client's response is cut.
    Upstream(String),
    /// The client went away.
    Client,
    /// The client stopped reading for longer than the send timeout
    /// ([`crate::client_io::SendTimeout`]).
    SendTimeout,
}

enum State {
    /// `left` body bytes to pass on, then a chunk's CRLF when `chunk`.
    Data {
        left: u64,
        chunk: bool,
    },
    ChunkEnd,
    ChunkLine,
    Trailers,
    UntilClose,
    Done,
}

/// Relays the response body that `framing` describes from `conn` to `client`, after the head
/// already in `out`. Waits at most `idle` for each read from the service. Returns whether the
/// service connection ended cleanly and may carry another exchange.
pub async fn body<S: AsyncWrite + Unpin>(
    conn: &mut Conn,
    framing: Framing,
    client: &mut S,
    out: &mut BytesMut,
    deadline: &mut Deadline,
    idle: Duration,
) -> Result<bool, RelayError> {
    let mut state = match framing {
        Framing::None => State::Done,
        Framing::Length(n) => State::Data { left: n, chunk: false },
        Framing::Chunked => State::ChunkLine,
        Framing::Close => State::UntilClose,
    };
    loop {
        let need_more = match &mut state {
            State::Done => {
                flush(client, out).await?;
                return Ok(conn.buf.is_empty());
            }
            State::Data { left, chunk } => {
                let n = usize::try_from(*left).unwrap_or(usize::MAX).min(conn.buf.len());
                move_to(out, &mut conn.buf, n);
                *left -= n as u64;
                if *left == 0 {
                    state = if *chunk { State::ChunkEnd } else { State::Done };
                    false
                } else {
                    true
                }
            }
            State::ChunkEnd => match conn.buf.get(..2) {
                Some(b"\r\n") => {
                    move_to(out, &mut conn.buf, 2);
                    state = State::ChunkLine;
                    false
                }
                Some(_) => return Err(RelayError::Upstream("malformed chunk".into())),
                None => true,
            },
            // The size line goes out as plain hex, without the service's extensions: the client
            // gets one spelling of the framing, the one the general path (hyper) writes too.
            State::ChunkLine => match wire::response_chunk_line(&conn.buf) {
                wire::Line::Size { len, size } => {
                    conn.buf.advance(len);
                    put_chunk_size(out, size);
                    state = if size == 0 { State::Trailers } else { State::Data { left: size, chunk: true } };
                    false
                }
                wire::Line::More => true,
                wire::Line::Invalid => return Err(RelayError::Upstream("malformed chunk size".into())),
            },
            // Trailers are read and dropped, as the general path drops them: a trailer field is
            // one the client may merge into the head (a `Content-Length` arriving after the body).
            State::Trailers => match wire::trailers(&conn.buf) {
                wire::Line::Size { len, .. } => {
                    conn.buf.advance(len);
                    out.extend_from_slice(b"\r\n");
                    state = State::Done;
                    false
                }
                wire::Line::More => true,
                wire::Line::Invalid => return Err(RelayError::Upstream("malformed trailers".into())),
            },
            State::UntilClose => {
                let n = conn.buf.len();
                move_to(out, &mut conn.buf, n);
                true
            }
        };
        if !need_more {
            continue;
        }
        if out.len() >= FLUSH_AT || !out.is_empty() && conn.buf.is_empty() {
            flush(client, out).await?;
        }
        conn.buf.reserve(READ_CHUNK);
        let read = deadline.within(idle, conn.stream.read_buf(&mut conn.buf)).await;
        match read {
            Some(Ok(0)) if matches!(state, State::UntilClose) => {
                flush(client, out).await?;
                return Ok(false);
            }
            Some(Ok(0)) => return Err(RelayError::Upstream("service closed the connection mid-body".into())),
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(RelayError::Upstream(format!("reading body: {err}"))),
            None => return Err(RelayError::Upstream(format!("no body data for {} ms", idle.as_millis()))),
        }
    }
}

/// A chunk-size line: the size in hex and CRLF.
fn put_chunk_size(out: &mut BytesMut, size: u64) {
    wire::put_number(out, size, 16);
    out.extend_from_slice(b"\r\n");
}

fn move_to(out: &mut BytesMut, from: &mut BytesMut, n: usize) {
    out.extend_from_slice(&from[..n]);
    from.advance(n);
}

/// Writes out what `out` holds and empties it.
pub async fn flush<S: AsyncWrite + Unpin>(client: &mut S, out: &mut BytesMut) -> Result<(), RelayError> {
    let failed = |err: std::io::Error| match err.kind() {
        std::io::ErrorKind::TimedOut => RelayError::SendTimeout,
        _ => RelayError::Client,
    };
    if !out.is_empty() {
        client.write_all(out).await.map_err(failed)?;
        out.clear();
    }
    client.flush().await.map_err(failed)
}
