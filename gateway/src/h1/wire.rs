//! HTTP/1.1 message heads for the direct path: parsed with `httparse` into the `http` types the
//! phases work on (header values share the read buffer, nothing is copied), and written back out.
//!
//! Parsing is strict on purpose. A request head is only [`Head::Direct`] when its framing cannot be
//! read two ways (HTTP/1.1, no `Transfer-Encoding`, at most one `Content-Length`, no `Upgrade` or
//! `Expect`, `Connection` naming nothing but `keep-alive`/`close`); anything else is left to the
//! general path, which has the whole of hyper's handling of it.

use bytes::{BufMut, BytesMut};
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, Version, header};

/// Headers in one message head; more than this goes to the general path (or is a bad response).
pub const MAX_HEADERS: usize = 64;

/// What a request head in the buffer turned out to be.
// Returned by value once per request and matched at once: a box would be an allocation per
// request to save a copy of a few hundred bytes.
#[allow(clippy::large_enum_variant)]
pub enum Head {
    /// Not all of it has arrived yet.
    Partial,
    /// One the direct path serves; the head's bytes are gone from the buffer.
    Direct(Request),
    /// Anything else: left in the buffer, untouched, for the general path.
    General,
}

/// A parsed request head.
pub struct Request {
    pub parts: Parts,
    pub content_length: u64,
    /// The client asked for the connection to end after this exchange.
    pub close: bool,
}

/// Reads one request head from the front of `buf`. Bodies longer than `max_body` are left to the
/// general path, which streams them, and so is every request whose method and path (without the
/// query) `direct` turns down.
pub fn request(buf: &mut BytesMut, max_body: u64, direct: impl FnOnce(&Method, &str) -> bool) -> Head {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut storage);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Head::Partial,
        Err(_) => return Head::General,
    };
    if parsed.version != Some(1) {
        return Head::General;
    }
    let (Some(method), Some(path)) = (parsed.method, parsed.path) else { return Head::General };
    let Ok(method) = Method::from_bytes(method.as_bytes()) else { return Head::General };
    let base = buf.as_ptr() as usize;
    let (target, path) = (path, span(base, path.as_bytes()));
    let mut fields = Vec::with_capacity(parsed.headers.len());
    let mut content_length = None;
    let mut close = false;
    for h in parsed.headers.iter() {
        let Ok(name) = HeaderName::from_bytes(h.name.as_bytes()) else { return Head::General };
        if name == header::TRANSFER_ENCODING || name == header::UPGRADE || name == header::EXPECT {
            return Head::General;
        }
        if name == header::CONTENT_LENGTH {
            match (content_length, digits(h.value)) {
                (None, Some(n)) => content_length = Some(n),
                _ => return Head::General,
            }
        }
        if name == header::CONNECTION {
            for token in h.value.split(|b| *b == b',').map(<[u8]>::trim_ascii).filter(|t| !t.is_empty()) {
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if !token.eq_ignore_ascii_case(b"keep-alive") {
                    return Head::General;
                }
            }
        }
        fields.push((name, span(base, h.value)));
    }
    let content_length = content_length.unwrap_or(0);
    let bare = target.split('?').next().unwrap_or_default();
    if content_length > max_body || !direct(&method, bare) {
        return Head::General;
    }
    let head = buf.split_to(len).freeze();
    let Ok(uri) = Uri::from_maybe_shared(head.slice(path.0..path.1)) else { return Head::General };
    let mut headers = HeaderMap::with_capacity(fields.len());
    for (name, (start, end)) in fields {
        let Ok(value) = HeaderValue::from_maybe_shared(head.slice(start..end)) else { return Head::General };
        headers.append(name, value);
    }
    let mut builder = http::Request::builder().method(method).uri(uri).version(Version::HTTP_11);
    if let Some(map) = builder.headers_mut() {
        *map = headers;
    }
    match builder.body(()) {
        Ok(request) => Head::Direct(Request { parts: request.into_parts().0, content_length, close }),
        Err(_) => Head::General,
    }
}

/// Where `part` lies in the buffer that starts at `base`.
fn span(base: usize, part: &[u8]) -> (usize, usize) {
    let start = part.as_ptr() as usize - base;
    (start, start + part.len())
}

/// A `Content-Length` value: digits only (no sign, no list), without overflow.
fn digits(value: &[u8]) -> Option<u64> {
    let value = value.trim_ascii();
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
    /// Until the upstream closes the connection.
    Close,
}

/// A parsed response head.
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub framing: Framing,
    /// The upstream will not take another request on this connection.
    pub close: bool,
}

/// What a response head in the buffer turned out to be.
pub enum ResponseHead {
    Partial,
    /// An informational (1xx) head, consumed; the real one follows.
    Interim,
    Complete(Response),
    Invalid(&'static str),
}

/// Reads one response head from the front of `buf`, for a request with method `method`.
pub fn response(buf: &mut BytesMut, method: &Method) -> ResponseHead {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut storage);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return ResponseHead::Partial,
        Err(_) => return ResponseHead::Invalid("malformed response head"),
    };
    let Some(Ok(status)) = parsed.code.map(StatusCode::from_u16) else {
        return ResponseHead::Invalid("bad status code");
    };
    if status == StatusCode::SWITCHING_PROTOCOLS {
        return ResponseHead::Invalid("unrequested protocol switch");
    }
    if status.is_informational() {
        let _ = buf.split_to(len);
        return ResponseHead::Interim;
    }
    let base = buf.as_ptr() as usize;
    let mut fields = Vec::with_capacity(parsed.headers.len());
    let (mut length, mut chunked, mut coded, mut close) = (None, false, false, parsed.version == Some(0));
    for h in parsed.headers.iter() {
        let Ok(name) = HeaderName::from_bytes(h.name.as_bytes()) else {
            return ResponseHead::Invalid("bad header name");
        };
        if name == header::CONTENT_LENGTH {
            match (length, digits(h.value)) {
                (None, Some(n)) => length = Some(n),
                (Some(a), Some(b)) if a == b => continue,
                _ => return ResponseHead::Invalid("bad content-length"),
            }
        } else if name == header::TRANSFER_ENCODING {
            // Only plain `chunked` is relayed; another coding would need decoding here.
            if coded || !h.value.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                return ResponseHead::Invalid("unsupported transfer-encoding");
            }
            (coded, chunked) = (true, true);
        } else if name == header::CONNECTION {
            let tokens = h.value.split(|b| *b == b',').map(<[u8]>::trim_ascii);
            if tokens.clone().any(|t| t.eq_ignore_ascii_case(b"close")) {
                close = true;
            } else if parsed.version == Some(0) && tokens.clone().any(|t| t.eq_ignore_ascii_case(b"keep-alive")) {
                close = false;
            }
        }
        fields.push((name, span(base, h.value)));
    }
    let framing = if *method == Method::HEAD || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        Framing::None
    } else if chunked {
        Framing::Chunked
    } else {
        match length {
            Some(0) => Framing::None,
            Some(n) => Framing::Length(n),
            None => Framing::Close,
        }
    };
    let head = buf.split_to(len).freeze();
    let mut headers = HeaderMap::with_capacity(fields.len());
    for (name, (start, end)) in fields {
        // A length that chunked framing overrides is not passed on (RFC 9112 §6.3).
        if chunked && name == header::CONTENT_LENGTH {
            continue;
        }
        match HeaderValue::from_maybe_shared(head.slice(start..end)) {
            Ok(value) => headers.append(name, value),
            Err(_) => return ResponseHead::Invalid("bad header value"),
        };
    }
    ResponseHead::Complete(Response { status, headers, framing, close: close || framing == Framing::Close })
}

/// Appends a request head for the upstream: origin-form `target`, its `Host`, then `headers`.
pub fn put_request(out: &mut BytesMut, method: &Method, target: &str, host: &[u8], headers: &HeaderMap) {
    out.put_slice(method.as_str().as_bytes());
    out.put_u8(b' ');
    out.put_slice(target.as_bytes());
    out.put_slice(b" HTTP/1.1\r\nhost: ");
    out.put_slice(host);
    out.put_slice(b"\r\n");
    put_fields(out, headers);
    out.put_slice(b"\r\n");
}

/// Appends a response head for the client. `extra` is written after the headers, already as
/// `name: value\r\n` lines (the framing the relay chose).
pub fn put_response(out: &mut BytesMut, status: StatusCode, headers: &HeaderMap, extra: &[u8]) {
    out.put_slice(b"HTTP/1.1 ");
    out.put_slice(status.as_str().as_bytes());
    out.put_u8(b' ');
    out.put_slice(status.canonical_reason().unwrap_or("Unknown").as_bytes());
    out.put_slice(b"\r\n");
    put_fields(out, headers);
    out.put_slice(extra);
    out.put_slice(b"\r\n");
}

fn put_fields(out: &mut BytesMut, headers: &HeaderMap) {
    for (name, value) in headers {
        out.put_slice(name.as_str().as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
}

/// A line of chunked framing at the front of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// Needs more bytes to say.
    More,
    /// `len` bytes make the line (CRLF included); for a chunk-size line, `size` is the chunk's
    /// data length. For [`trailers`], `len` covers every trailer line and the empty one.
    Size {
        len: usize,
        size: u64,
    },
    Invalid,
}

/// Longest chunk-size line (with extensions) or trailer section accepted.
const MAX_LINE: usize = 4096;

/// A chunk-size line: hex digits, then optional `;extensions`.
pub fn chunk_line(bytes: &[u8]) -> Line {
    let Some(eol) = find_crlf(bytes) else {
        return if bytes.len() > MAX_LINE { Line::Invalid } else { Line::More };
    };
    let size = bytes[..eol].split(|b| *b == b';').next().unwrap_or_default().trim_ascii();
    if size.is_empty() || size.len() > 15 || !size.iter().all(u8::is_ascii_hexdigit) {
        return Line::Invalid;
    }
    match std::str::from_utf8(size).ok().and_then(|s| u64::from_str_radix(s, 16).ok()) {
        Some(size) => Line::Size { len: eol + 2, size },
        None => Line::Invalid,
    }
}

/// The trailer section after the last chunk: lines up to and including an empty one.
pub fn trailers(bytes: &[u8]) -> Line {
    let mut at = 0;
    loop {
        let Some(eol) = find_crlf(&bytes[at..]) else {
            return if bytes.len() > MAX_LINE { Line::Invalid } else { Line::More };
        };
        at += eol + 2;
        if eol == 0 {
            return Line::Size { len: at, size: 0 };
        }
    }
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(raw: &str) -> Request {
        let mut buf = BytesMut::from(raw);
        match request(&mut buf, 1024, |_, _| true) {
            Head::Direct(r) => r,
            _ => panic!("not direct: {raw:?}"),
        }
    }

    fn general(raw: &str) -> bool {
        let mut buf = BytesMut::from(raw);
        let before = buf.len();
        matches!(request(&mut buf, 1024, |_, path| path != "/declined"), Head::General) && buf.len() == before
    }

    #[test]
    fn simple_requests_are_direct() {
        let r = direct("GET /api/x/y?z=1 HTTP/1.1\r\nHost: gw\r\nX-A: 1\r\nx-a: 2\r\n\r\nrest");
        assert_eq!(r.parts.method, Method::GET);
        assert_eq!(r.parts.uri, "/api/x/y?z=1");
        assert_eq!(r.parts.headers.get_all("x-a").iter().count(), 2);
        assert_eq!(r.content_length, 0);
        assert!(!r.close);
        let r = direct("POST /a HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        assert_eq!(r.content_length, 5);
        assert!(r.close);
    }

    #[test]
    fn anything_ambiguous_goes_to_the_general_path() {
        assert!(general("GET /a HTTP/1.0\r\n\r\n"));
        assert!(general("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
        assert!(general("POST /a HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"));
        assert!(general("POST /a HTTP/1.1\r\nContent-Length: +5\r\n\r\n"));
        assert!(general("POST /a HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n"));
        assert!(general("POST /a HTTP/1.1\r\nContent-Length: 2048\r\n\r\n"));
        assert!(general("POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n"));
        assert!(general("GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"));
        assert!(general("GET /a HTTP/1.1\r\nConnection: x-secret\r\n\r\n"));
        assert!(general("GET /a HTTP/1.1\r\nBad Header: 1\r\n\r\n"));
        assert!(general("GARBAGE\r\n\r\n"));
        assert!(general("GET /declined?x=1 HTTP/1.1\r\n\r\n"));
        let mut partial = BytesMut::from("GET /a HTTP/1.1\r\nHost: x\r\n");
        assert!(matches!(request(&mut partial, 1024, |_, _| true), Head::Partial));
    }

    fn parsed(raw: &str, method: &Method) -> Result<Response, &'static str> {
        let mut buf = BytesMut::from(raw);
        loop {
            match response(&mut buf, method) {
                ResponseHead::Complete(r) => return Ok(r),
                ResponseHead::Interim => continue,
                ResponseHead::Invalid(why) => return Err(why),
                ResponseHead::Partial => return Err("partial"),
            }
        }
    }

    #[test]
    fn response_framing() {
        let get = Method::GET;
        let r = parsed("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", &get).unwrap();
        assert_eq!((r.framing, r.close), (Framing::Length(3), false));
        let r = parsed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", &get).unwrap();
        assert_eq!(r.framing, Framing::Chunked);
        assert!(r.headers.get(header::CONTENT_LENGTH).is_none());
        let r = parsed("HTTP/1.1 200 OK\r\n\r\n", &get).unwrap();
        assert_eq!((r.framing, r.close), (Framing::Close, true));
        let r = parsed("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", &Method::HEAD).unwrap();
        assert_eq!(r.framing, Framing::None);
        let r = parsed("HTTP/1.1 204 No Content\r\n\r\n", &get).unwrap();
        assert_eq!((r.framing, r.close), (Framing::None, false));
        let r = parsed("HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &get);
        assert_eq!(r.unwrap().status, StatusCode::OK);
        let r = parsed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", &get).unwrap();
        assert!(r.close);
        let r = parsed("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", &get).unwrap();
        assert!(r.close);
        for bad in [
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\n\r\n",
            "HTTP/1.1 abc\r\n\r\n",
        ] {
            assert!(parsed(bad, &get).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn chunk_framing() {
        assert_eq!(chunk_line(b"5\r\nhello"), Line::Size { len: 3, size: 5 });
        assert_eq!(chunk_line(b"1F;ext=1\r\n"), Line::Size { len: 10, size: 31 });
        assert_eq!(chunk_line(b"A"), Line::More);
        for bad in [&b"zz\r\n"[..], b"-1\r\n", b"\r\n", b"1111111111111111\r\n"] {
            assert_eq!(chunk_line(bad), Line::Invalid, "{bad:?}");
        }
        assert_eq!(chunk_line(&[b'1'; 5000]), Line::Invalid);
        assert_eq!(trailers(b"\r\nnext"), Line::Size { len: 2, size: 0 });
        assert_eq!(trailers(b"x-t: 1\r\n\r\n"), Line::Size { len: 10, size: 0 });
        assert_eq!(trailers(b"x-t: 1\r\n"), Line::More);
    }

    #[test]
    fn heads_are_written() {
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_static("1"));
        let mut out = BytesMut::new();
        put_request(&mut out, &Method::POST, "/a?b", b"svc:1", &headers);
        assert_eq!(&out[..], b"POST /a?b HTTP/1.1\r\nhost: svc:1\r\nx-a: 1\r\n\r\n");
        out.clear();
        put_response(&mut out, StatusCode::NOT_FOUND, &headers, b"content-length: 0\r\n");
        assert_eq!(&out[..], b"HTTP/1.1 404 Not Found\r\nx-a: 1\r\ncontent-length: 0\r\n\r\n");
    }
}
