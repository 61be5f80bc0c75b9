//! HTTP/1.1 message heads for the direct path: parsed with `httparse` into the `http` types the
//! phases work on (header values share the read buffer, nothing is copied), and written back out.
//!
//! Parsing is strict on purpose. A request head is only [`Head::Direct`] when its framing cannot be
//! read two ways (HTTP/1.1, no `Transfer-Encoding`, at most one `Content-Length`, no `Upgrade` or
//! `Expect`, `Connection` naming nothing but `keep-alive`/`close`); anything else is left to the
//! general path, which has the whole of hyper's handling of it.

use bytes::{BufMut, Bytes, BytesMut};
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, Version, header};
use std::mem::MaybeUninit;

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
    /// The client sent a `Content-Length` (forwarded as the plain number, however it was spelled).
    pub length_declared: bool,
    /// The client asked for the connection to end after this exchange.
    pub close: bool,
}

/// Reads one request head from the front of `buf`. Bodies longer than `max_body` are left to the
/// general path, which streams them, and so is every request whose method and path (without the
/// query) `direct` turns down.
pub fn request(buf: &mut BytesMut, max_body: u64, direct: impl FnOnce(&Method, &str) -> bool) -> Head {
    let mut storage = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut []);
    let len = match parsed.parse_with_uninit_headers(buf, &mut storage) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Head::Partial,
        Err(_) => return Head::General,
    };
    if parsed.version != Some(1) {
        return Head::General;
    }
    let (Some(method), Some(target)) = (parsed.method, parsed.path) else { return Head::General };
    let Ok(method) = Method::from_bytes(method.as_bytes()) else { return Head::General };
    let base = buf.as_ptr() as usize;
    let path = span(base, target.as_bytes());
    let mut fields = Fields::new();
    let mut content_length = None;
    let mut close = false;
    for h in parsed.headers.iter() {
        let name = h.name.as_bytes();
        let is = |standard: &HeaderName| name.eq_ignore_ascii_case(standard.as_str().as_bytes());
        if is(&header::TRANSFER_ENCODING) || is(&header::UPGRADE) || is(&header::EXPECT) {
            return Head::General;
        }
        if is(&header::CONTENT_LENGTH) {
            match (content_length, self::content_length(h.value)) {
                (None, Some(n)) => content_length = Some(n),
                _ => return Head::General,
            }
        }
        // Dropped here as the general path drops them (see `headers::underscored`).
        if crate::phases::proxy::headers::underscored(name) {
            continue;
        }
        if is(&header::CONNECTION) {
            for token in h.value.split(|b| *b == b',').map(<[u8]>::trim_ascii).filter(|t| !t.is_empty()) {
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if !token.eq_ignore_ascii_case(b"keep-alive") {
                    return Head::General;
                }
            }
        }
        fields.push(span(base, name), span(base, h.value));
    }
    let length_declared = content_length.is_some();
    let content_length = content_length.unwrap_or(0);
    let bare = target.split('?').next().unwrap_or_default();
    if content_length > max_body || !direct(&method, bare) {
        return Head::General;
    }
    let head = buf.split_to(len).freeze();
    match parts(&head, method, path, &fields) {
        Some(parts) => Head::Direct(Request { parts, content_length, length_declared, close }),
        None => {
            // Something the `http` types refuse that httparse let through: the general path
            // answers it, from the untouched bytes.
            let mut restored = BytesMut::with_capacity(head.len() + buf.len());
            restored.extend_from_slice(&head);
            restored.extend_from_slice(buf);
            *buf = restored;
            Head::General
        }
    }
}

fn parts(head: &Bytes, method: Method, path: Span, fields: &Fields) -> Option<Parts> {
    let uri = Uri::from_maybe_shared(head.slice(range(path))).ok()?;
    let mut builder = http::Request::builder().method(method).uri(uri).version(Version::HTTP_11);
    let headers = builder.headers_mut()?;
    // The phases only read this map (the upstream head is written from it): it never grows.
    headers.reserve(fields.len);
    for &(name, value) in fields.iter() {
        let name = HeaderName::from_bytes(&head[range(name)]).ok()?;
        headers.append(name, HeaderValue::from_maybe_shared(head.slice(range(value))).ok()?);
    }
    builder.body(()).ok().map(|request| request.into_parts().0)
}

/// Where a part of a head lies in it.
type Span = (u32, u32);

/// Where each header's name and value lie in the head, without allocating.
pub struct Fields {
    spans: [(Span, Span); MAX_HEADERS],
    len: usize,
}

impl Default for Fields {
    fn default() -> Self {
        Self::new()
    }
}

impl Fields {
    fn new() -> Self {
        Self { spans: [((0, 0), (0, 0)); MAX_HEADERS], len: 0 }
    }

    fn push(&mut self, name: Span, value: Span) {
        // httparse stops at MAX_HEADERS, so there is always room.
        if let Some(slot) = self.spans.get_mut(self.len) {
            *slot = (name, value);
            self.len += 1;
        }
    }

    fn iter(&self) -> impl Iterator<Item = &(Span, Span)> + Clone {
        self.spans[..self.len].iter()
    }
}

/// Where `part` lies in the buffer that starts at `base` (heads are far below 4 GiB).
fn span(base: usize, part: &[u8]) -> Span {
    let start = part.as_ptr() as usize - base;
    (start as u32, (start + part.len()) as u32)
}

fn range((start, end): Span) -> std::ops::Range<usize> {
    start as usize..end as usize
}

/// A `Content-Length` value: digits only (no sign, no list), without overflow. Leading zeros
/// are read as hyper reads them (the number is what is forwarded, never the spelling).
pub fn content_length(value: &[u8]) -> Option<u64> {
    let value = value.trim_ascii();
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let significant = &value[value.iter().position(|b| *b != b'0').unwrap_or(value.len())..];
    if significant.is_empty() {
        return Some(0);
    }
    if significant.len() > 19 {
        return None;
    }
    std::str::from_utf8(significant).ok()?.parse().ok()
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

/// A parsed response head: its status and framing, and its header lines as received.
pub struct Response {
    pub status: StatusCode,
    pub framing: Framing,
    /// The `Content-Length` the service sent, as a number (relayed as one, whatever its
    /// spelling; not for a 204, nor with chunked framing, which overrides it).
    pub length: Option<u64>,
    /// The upstream will not take another request on this connection.
    pub close: bool,
    head: Bytes,
}

impl Response {
    /// The header lines (name and value as received), without `Content-Length`, which is
    /// written from [`Response::length`]. `fields` are the ones [`response`] filled in with this
    /// head.
    pub fn headers<'a>(&'a self, fields: &'a Fields) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone {
        fields
            .iter()
            .map(|&(name, value)| (&self.head[range(name)], &self.head[range(value)]))
            .filter(move |(name, _)| !name.eq_ignore_ascii_case(b"content-length"))
    }
}

/// What a response head in the buffer turned out to be.
// Like [`Head`]: matched at once, not worth an allocation per response.
#[allow(clippy::large_enum_variant)]
pub enum ResponseHead {
    Partial,
    /// An informational (1xx) head, consumed; the real one follows.
    Interim,
    Complete(Response),
    Invalid(&'static str),
}

/// Reads one response head from the front of `buf`, for a request with method `method`. Where
/// its header lines lie goes to `fields`, which the caller keeps: a response travels up through
/// several futures on its way out, and with the spans inline that would be a kilobyte copied at
/// each step.
pub fn response(buf: &mut BytesMut, method: &Method, fields: &mut Fields) -> ResponseHead {
    let mut storage = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut []);
    let config = httparse::ParserConfig::default();
    let len = match config.parse_response_with_uninit_headers(&mut parsed, buf, &mut storage) {
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
    fields.len = 0;
    let (mut length, mut chunked, mut close) = (None, false, parsed.version == Some(0));
    for h in parsed.headers.iter() {
        let name = h.name.as_bytes();
        let is = |standard: &HeaderName| name.eq_ignore_ascii_case(standard.as_str().as_bytes());
        if is(&header::CONTENT_LENGTH) {
            match (length, content_length(h.value)) {
                (None, Some(n)) => length = Some(n),
                (Some(a), Some(b)) if a == b => continue,
                _ => return ResponseHead::Invalid("bad content-length"),
            }
        } else if is(&header::TRANSFER_ENCODING) {
            // Only plain `chunked` is relayed; another coding would need decoding here.
            if chunked || !h.value.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                return ResponseHead::Invalid("unsupported transfer-encoding");
            }
            chunked = true;
        } else if is(&header::CONNECTION) {
            let tokens = h.value.split(|b| *b == b',').map(<[u8]>::trim_ascii);
            if tokens.clone().any(|t| t.eq_ignore_ascii_case(b"close")) {
                close = true;
            } else if parsed.version == Some(0) && tokens.clone().any(|t| t.eq_ignore_ascii_case(b"keep-alive")) {
                close = false;
            }
        }
        fields.push(span(base, name), span(base, h.value));
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
    // RFC 9110 §8.6: no length with a 204; with chunked framing the length is overridden.
    let length = length.filter(|_| !chunked && status != StatusCode::NO_CONTENT);
    let head = buf.split_to(len).freeze();
    ResponseHead::Complete(Response { status, framing, length, close: close || framing == Framing::Close, head })
}

/// Appends a request line for the upstream, with origin-form `target` below the service's `base`
/// path, and its `Host`.
pub fn put_request_line(out: &mut BytesMut, method: &Method, base: &str, target: &str, host: &[u8]) {
    out.put_slice(method.as_str().as_bytes());
    out.put_u8(b' ');
    out.put_slice(base.as_bytes());
    out.put_slice(target.as_bytes());
    out.put_slice(b" HTTP/1.1\r\nhost: ");
    out.put_slice(host);
    out.put_slice(b"\r\n");
}

/// Appends a response head for the client. `extra` is written after the headers, already as
/// `name: value\r\n` lines (the framing the relay chose).
pub fn put_response(out: &mut BytesMut, status: StatusCode, headers: &HeaderMap, extra: &[u8]) {
    put_status(out, status);
    put_fields(out, headers);
    out.put_slice(extra);
    out.put_slice(b"\r\n");
}

/// Appends a status line.
pub fn put_status(out: &mut BytesMut, status: StatusCode) {
    out.put_slice(b"HTTP/1.1 ");
    out.put_slice(status.as_str().as_bytes());
    out.put_u8(b' ');
    out.put_slice(status.canonical_reason().unwrap_or("Unknown").as_bytes());
    out.put_slice(b"\r\n");
}

/// Appends one header line.
pub fn put_field(out: &mut BytesMut, name: &[u8], value: &[u8]) {
    out.reserve(name.len() + value.len() + 4);
    out.put_slice(name);
    out.put_slice(b": ");
    out.put_slice(value);
    out.put_slice(b"\r\n");
}

/// Appends `n` in `radix` (10 or 16, lowercase) without the formatting machinery: the relay
/// writes a length per response and a size per chunk.
pub fn put_number(out: &mut BytesMut, mut n: u64, radix: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = DIGITS[(n % radix) as usize];
        n /= radix;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&buf[at..]);
}

fn put_fields(out: &mut BytesMut, headers: &HeaderMap) {
    for (name, value) in headers {
        put_field(out, name.as_str().as_bytes(), value.as_bytes());
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

/// A chunk-size line as RFC 9112 §7.1 has it: hex digits, then optional extensions, each
/// `BWS ";" …`, then CRLF. Nothing else: whitespace before the CRLF (`5 \r\n`), a bare LF, or
/// a sign or prefix is refused, since parsers that differ over those lines could frame the same
/// bytes differently.
pub fn chunk_line(bytes: &[u8]) -> Line {
    size_line(bytes, false)
}

/// A chunk-size line of a service's response: as [`chunk_line`], but whitespace before the CRLF
/// is tolerated, as hyper's client (the general path) tolerates it. The line is not relayed as
/// it came: the client gets the size alone, the same on both paths.
pub fn response_chunk_line(bytes: &[u8]) -> Line {
    size_line(bytes, true)
}

fn size_line(bytes: &[u8], trailing_space: bool) -> Line {
    let Some(eol) = find_crlf(bytes) else {
        return if bytes.len() > MAX_LINE { Line::Invalid } else { Line::More };
    };
    let line = &bytes[..eol];
    let line = match trailing_space {
        true => &line[..line.iter().rposition(|b| !matches!(b, b' ' | b'\t')).map_or(0, |i| i + 1)],
        false => line,
    };
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let (size, rest) = line.split_at(digits);
    if size.is_empty() || size.len() > 15 || rest.contains(&b'\n') {
        return Line::Invalid;
    }
    let extensions = rest.trim_ascii_start();
    if !(extensions.is_empty() && rest.is_empty() || extensions.first() == Some(&b';')) {
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
        parsed_into(raw, method, &mut Fields::new())
    }

    fn parsed_into(raw: &str, method: &Method, fields: &mut Fields) -> Result<Response, &'static str> {
        let mut buf = BytesMut::from(raw);
        loop {
            match response(&mut buf, method, fields) {
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
        let mut fields = Fields::new();
        let raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n";
        let r = parsed_into(raw, &get, &mut fields).unwrap();
        assert_eq!(r.framing, Framing::Chunked);
        assert_eq!(r.headers(&fields).map(|(n, _)| n).collect::<Vec<_>>(), [b"Transfer-Encoding"]);
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
        assert_eq!(chunk_line(b"1F ;ext=1\r\n"), Line::Size { len: 11, size: 31 });
        assert_eq!(chunk_line(b"A"), Line::More);
        for bad in [
            &b"zz\r\n"[..],
            b"-1\r\n",
            b"\r\n",
            b"1111111111111111\r\n",
            b"5 \r\n",
            b"5\t\r\n",
            b" 5\r\n",
            b"0x5\r\n",
            b"5;a\nb\r\n",
        ] {
            assert_eq!(chunk_line(bad), Line::Invalid, "{bad:?}");
        }
        assert_eq!(chunk_line(&[b'1'; 5000]), Line::Invalid);
        assert_eq!(response_chunk_line(b"5 \t\r\n"), Line::Size { len: 5, size: 5 });
        assert_eq!(response_chunk_line(b" 5\r\n"), Line::Invalid);
        assert_eq!(trailers(b"\r\nnext"), Line::Size { len: 2, size: 0 });
        assert_eq!(trailers(b"x-t: 1\r\n\r\n"), Line::Size { len: 10, size: 0 });
        assert_eq!(trailers(b"x-t: 1\r\n"), Line::More);
    }

    #[test]
    fn heads_are_written() {
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_static("1"));
        let mut out = BytesMut::new();
        put_request_line(&mut out, &Method::POST, "/base", "/a?b", b"svc:1");
        assert_eq!(&out[..], b"POST /base/a?b HTTP/1.1\r\nhost: svc:1\r\n");
        out.clear();
        put_response(&mut out, StatusCode::NOT_FOUND, &headers, b"content-length: 0\r\n");
        assert_eq!(&out[..], b"HTTP/1.1 404 Not Found\r\nx-a: 1\r\ncontent-length: 0\r\n\r\n");
        for (n, radix, text) in [(0, 10, "0"), (5, 10, "5"), (u64::MAX, 10, "18446744073709551615"), (255, 16, "ff")] {
            out.clear();
            put_number(&mut out, n, radix);
            assert_eq!(&out[..], text.as_bytes());
        }
    }
}
