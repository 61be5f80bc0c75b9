//! Strict chunked request bodies on the general path.
//!
//! hyper reads a chunked request body leniently: a chunk-size line may end in spaces or tabs
//! (`5 \r\n`), which RFC 9112 §7.1 does not allow. The gateway re-frames the body before the
//! service sees it, so nothing leaks through, but a front proxy that reads such a line another way
//! could disagree with the gateway about where a request ends. So the bytes hyper reads on a
//! connection pass through this reader first, which follows the requests' framing alongside hyper
//! (the heads with `httparse`, as hyper does) and checks every chunk-size line with the direct
//! path's own rule ([`wire::chunk_line`]).
//!
//! On a bad line the bytes before it are delivered and the next read fails: hyper reports that to
//! the request body, and the proxy answers 400 (the response is still written; the connection is
//! closed after it).
//!
//! What the reader cannot follow — a head hyper itself will refuse, a WebSocket handshake the
//! gateway would tunnel (after a `101` the bytes are no longer HTTP), `CONNECT` — ends its
//! checking for the rest of the connection. Other upgrades are never tunnelled, so the requests
//! after them are followed as usual.

use super::wire;
use crate::phases::proxy::headers;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Largest request head followed; hyper refuses far smaller ones (about 400 KiB).
const MAX_HEAD: usize = 512 * 1024;
/// As many header lines as hyper reads.
const MAX_HEADERS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    /// Bytes of a body with a declared length still to come.
    Length(u64),
    ChunkLine,
    ChunkData(u64),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    Trailers,
    /// Not followed any further.
    Off,
    /// A bad line was found: the next read fails.
    Failed,
}

pub struct StrictRequests<S> {
    inner: S,
    state: State,
    /// The part of a head or line read so far.
    pending: Vec<u8>,
    /// Where WebSocket upgrades are tunnelled (`CRM_WEBSOCKET_PATHS`).
    websocket_paths: Arc<[String]>,
}

impl<S> StrictRequests<S> {
    pub fn new(inner: S, websocket_paths: Arc<[String]>) -> Self {
        Self { inner, state: State::Head, pending: Vec::new(), websocket_paths }
    }

    /// Follows `input`; `Err(n)` when it breaks the framing, `n` being how many of its bytes come
    /// before the line that does.
    fn feed(&mut self, mut input: &[u8]) -> Result<(), usize> {
        let total = input.len();
        while !input.is_empty() {
            let offset = total - input.len();
            match self.state {
                State::Off | State::Failed => return Ok(()),
                State::Length(left) | State::ChunkData(left) => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(input.len());
                    input = &input[n..];
                    let left = left - n as u64;
                    self.state = match (self.state, left) {
                        (State::Length(_), 0) => State::Head,
                        (State::Length(_), left) => State::Length(left),
                        (_, 0) => State::ChunkEnd,
                        (_, left) => State::ChunkData(left),
                    };
                }
                State::Head if self.pending.is_empty() && matches!(input[0], b'\r' | b'\n') => {
                    // Empty lines before a request line are skipped, as hyper skips them.
                    input = &input[1..];
                }
                accumulating => {
                    // Where in `input` this head or line began (0: in an earlier read).
                    let began = if self.pending.is_empty() { offset } else { 0 };
                    let before = self.pending.len();
                    self.pending.extend_from_slice(input);
                    let (complete, next) = match accumulating {
                        State::Head => self.head(),
                        State::ChunkLine => match wire::chunk_line(&self.pending) {
                            wire::Line::Size { len, size: 0 } => (Some(len), State::Trailers),
                            wire::Line::Size { len, size } => (Some(len), State::ChunkData(size)),
                            wire::Line::More => (None, State::ChunkLine),
                            wire::Line::Invalid => (None, State::Failed),
                        },
                        State::ChunkEnd => match self.pending.get(..2) {
                            Some(b"\r\n") => (Some(2), State::ChunkLine),
                            Some(_) => (None, State::Failed),
                            None => (None, State::ChunkEnd),
                        },
                        _ => match wire::trailers(&self.pending) {
                            wire::Line::Size { len, .. } => (Some(len), State::Head),
                            wire::Line::More => (None, State::Trailers),
                            wire::Line::Invalid => (None, State::Failed),
                        },
                    };
                    self.state = next;
                    if next == State::Failed {
                        self.pending = Vec::new();
                        return Err(began);
                    }
                    match complete {
                        Some(len) => {
                            input = &input[len - before..];
                            self.pending.clear();
                        }
                        None => return Ok(()),
                    }
                }
            }
        }
        Ok(())
    }

    /// A request head in `pending`: its length and the state its body puts the reader in, once
    /// it is complete.
    fn head(&mut self) -> (Option<usize>, State) {
        let Some(end) = self.pending.windows(4).position(|w| w == b"\r\n\r\n") else {
            return (None, if self.pending.len() > MAX_HEAD { State::Off } else { State::Head });
        };
        let len = end + 4;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        // hyper refuses what does not parse; there is nothing left to check on this connection.
        let Ok(httparse::Status::Complete(_)) = request.parse(&self.pending[..len]) else {
            return (Some(len), State::Off);
        };
        if request.method == Some("CONNECT") {
            return (Some(len), State::Off);
        }
        let named = |name: &'static str| {
            request.headers.iter().filter(move |h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value)
        };
        let path = request.path.unwrap_or_default();
        let tunnel = headers::websocket_handshake(
            request.method == Some("GET"),
            path.split('?').next().unwrap_or_default(),
            named("upgrade"),
            named("connection"),
            &self.websocket_paths,
        );
        if tunnel {
            return (Some(len), State::Off);
        }
        let (mut chunked, mut coded, mut length) = (false, false, None);
        for header in request.headers.iter() {
            if header.name.eq_ignore_ascii_case("transfer-encoding") {
                coded = true;
                let last = header.value.rsplit(|b| *b == b',').next().unwrap_or_default().trim_ascii();
                chunked = last.eq_ignore_ascii_case(b"chunked");
            } else if header.name.eq_ignore_ascii_case("content-length") {
                match (length, wire::content_length(header.value)) {
                    (None, Some(n)) => length = Some(n),
                    (Some(a), Some(b)) if a == b => {}
                    // hyper refuses lengths that disagree or do not parse.
                    _ => return (Some(len), State::Off),
                }
            }
        }
        let next = match (coded, chunked, length) {
            (true, true, _) => State::ChunkLine,
            // A coding that does not end in chunked: hyper refuses it.
            (true, false, _) => State::Off,
            (false, _, Some(n)) if n > 0 => State::Length(n),
            _ => State::Head,
        };
        (Some(len), next)
    }
}

fn malformed() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "malformed chunked request body")
}

impl<S: AsyncRead + Unpin> AsyncRead for StrictRequests<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.state == State::Failed {
            return Poll::Ready(Err(malformed()));
        }
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && this.state != State::Off {
            let outcome = this.feed(&buf.filled()[before..]);
            if let Err(valid) = outcome {
                // What came before the bad line is delivered; the next read fails.
                buf.set_filled(before + valid);
                if valid == 0 {
                    return Poll::Ready(Err(malformed()));
                }
            }
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StrictRequests<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `stream` in pieces of `step` bytes; how many bytes were delivered, and whether the
    /// framing broke.
    fn follow(stream: &[u8], step: usize) -> (usize, bool) {
        let mut reader = StrictRequests::new((), Arc::from(vec!["/ws".to_owned()]));
        let mut delivered = 0;
        for piece in stream.chunks(step) {
            match reader.feed(piece) {
                Ok(()) => delivered += piece.len(),
                Err(valid) => return (delivered + valid, true),
            }
        }
        (delivered, false)
    }

    const GOOD: &[u8] =
        b"\r\nPOST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nT: 1\r\n\r\n\
        POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n5 \r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n";

    #[test]
    fn well_framed_requests_pass_in_any_pieces() {
        for step in [1, 2, 3, 7, 64, 4096] {
            assert_eq!(follow(GOOD, step), (GOOD.len(), false), "step {step}");
        }
    }

    #[test]
    fn a_bad_chunk_line_stops_before_it() {
        let head = b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";
        for bad in [&b"5 \r\nhello\r\n0\r\n\r\n"[..], b"5\t\r\nhello\r\n0\r\n\r\n", b"0x5\r\n"] {
            let stream = [&head[..], bad].concat();
            // The bad line's LF never reaches hyper (what came of it in earlier reads may).
            let line_end = head.len() + bad.windows(2).position(|w| w == b"\r\n").unwrap() + 1;
            for step in [1, 5, 4096] {
                let (delivered, failed) = follow(&stream, step);
                assert!(failed, "{bad:?} step {step}");
                assert!(delivered <= line_end, "{bad:?} step {step}: {delivered}");
            }
            assert_eq!(follow(&stream, 4096).0, head.len(), "in one read: everything before the line");
        }
        // The CRLF after a chunk's data is checked too.
        let (_, failed) = follow(b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n", 4096);
        assert!(failed);
    }

    #[test]
    fn tunnels_and_heads_hyper_refuses_end_the_checks() {
        let upgrade = b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n5 \r\n";
        assert_eq!(follow(upgrade, 4096), (upgrade.len(), false));
        // An upgrade the gateway does not tunnel goes as a plain request: what follows is checked.
        let h2c = b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n\
            POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\n";
        assert!(follow(h2c, 4096).1);
        let elsewhere = b"GET /other HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n\
            POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\n";
        assert!(follow(elsewhere, 4096).1);
        let garbage = b"NOT HTTP\r\n\r\n5 \r\n";
        assert_eq!(follow(garbage, 3), (garbage.len(), false));
    }
}
