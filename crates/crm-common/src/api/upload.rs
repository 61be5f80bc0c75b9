//! Which files a service accepts from clients, shared by every service that takes uploads
//! (foundation's `/upload`, order-workflow's order files). The type is decided by the name's
//! extension and then checked against the content, so that a page of HTML called `photo.png`, or
//! a PNG called `scan.pdf`, is refused rather than served back to browsers under a false type;
//! the client's own `Content-Type` is not trusted. The content check also runs chunk by chunk
//! ([`ContentCheck`]), so a file can be streamed to disk without being held in memory whole.

use crate::ApiError;
use axum::extract::multipart::{Field, MultipartError};

/// Largest file accepted: the original's "10 MB", counted in bytes, so that a file of the limit
/// with its multipart framing still fits a 10 MiB request-body limit.
pub const MAX_FILE_BYTES: usize = 10_000_000;
/// Longest original name kept.
const MAX_NAME_CHARS: usize = 255;
/// Longest stored (URL) name, extension included.
pub const MAX_SAFE_NAME: usize = 100;
/// Bytes of the content's start the signatures look at.
const HEAD: usize = 16;

/// An accepted file type.
#[derive(Debug, PartialEq, Eq)]
pub struct Kind {
    pub extension: &'static str,
    pub mime_type: &'static str,
    /// Images are shown inline; everything else is served as an attachment.
    pub image: bool,
    signature: Signature,
}

#[derive(Debug, PartialEq, Eq)]
enum Signature {
    /// The content starts with these bytes.
    Prefix(&'static [u8]),
    /// A RIFF container of the given form (`WEBP`).
    Riff(&'static [u8; 4]),
    /// Text: UTF-8 without NUL bytes.
    Text,
}

const ZIP: &[u8] = b"PK\x03\x04";
/// Word 97–2003 and Excel 97–2003 files are OLE compound documents.
const OLE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

pub const KINDS: [Kind; 11] = [
    kind("pdf", "application/pdf", false, Signature::Prefix(b"%PDF-")),
    kind("jpg", "image/jpeg", true, Signature::Prefix(b"\xFF\xD8\xFF")),
    kind("jpeg", "image/jpeg", true, Signature::Prefix(b"\xFF\xD8\xFF")),
    kind("png", "image/png", true, Signature::Prefix(b"\x89PNG\r\n\x1A\n")),
    kind("webp", "image/webp", true, Signature::Riff(b"WEBP")),
    kind("doc", "application/msword", false, Signature::Prefix(OLE)),
    kind(
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        false,
        Signature::Prefix(ZIP),
    ),
    kind("xls", "application/vnd.ms-excel", false, Signature::Prefix(OLE)),
    kind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", false, Signature::Prefix(ZIP)),
    kind("csv", "text/csv; charset=utf-8", false, Signature::Text),
    kind("txt", "text/plain; charset=utf-8", false, Signature::Text),
];

const fn kind(extension: &'static str, mime_type: &'static str, image: bool, signature: Signature) -> Kind {
    Kind { extension, mime_type, image, signature }
}

/// The accepted extensions, for messages: `.pdf .jpg …`.
pub fn extensions() -> String {
    KINDS.iter().map(|k| format!(".{}", k.extension)).collect::<Vec<_>>().join(" ")
}

/// The type named by `name`'s extension (400 on the `file` field when it is not accepted).
pub fn kind_by_name(name: &str) -> Result<&'static Kind, ApiError> {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    KINDS
        .iter()
        .find(|k| k.extension == extension)
        .ok_or_else(|| ApiError::field("file", format!("the file type is not accepted; accepted: {}", extensions())))
}

/// `content` is a non-empty file of `kind` (400 on the `file` field otherwise).
pub fn check_content(kind: &'static Kind, content: &[u8]) -> Result<(), ApiError> {
    let mut check = ContentCheck::new(kind);
    check.feed(content);
    check.finish()
}

/// Checks a file's content against its type as it arrives, chunk by chunk.
#[derive(Debug)]
pub struct ContentCheck {
    kind: &'static Kind,
    head: Vec<u8>,
    /// The end of an UTF-8 sequence cut by a chunk boundary (text types).
    carry: Vec<u8>,
    len: u64,
    text_ok: bool,
}

impl ContentCheck {
    pub fn new(kind: &'static Kind) -> Self {
        Self { kind, head: Vec::with_capacity(HEAD), carry: Vec::new(), len: 0, text_ok: true }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        self.len += chunk.len() as u64;
        let room = HEAD.saturating_sub(self.head.len());
        self.head.extend_from_slice(&chunk[..room.min(chunk.len())]);
        if self.kind.signature == Signature::Text && self.text_ok {
            if chunk.contains(&0) {
                self.text_ok = false;
                return;
            }
            let mut joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(chunk);
            match std::str::from_utf8(&joined) {
                Ok(_) => {}
                // Cut at the end of the chunk: the rest comes with the next one.
                Err(e) if e.error_len().is_none() => self.carry = joined[e.valid_up_to()..].to_vec(),
                Err(_) => self.text_ok = false,
            }
        }
    }

    /// Bytes seen so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.len == 0 {
            return Err(ApiError::field("file", "the file is empty"));
        }
        let head = &self.head;
        let matches = match self.kind.signature {
            Signature::Prefix(prefix) => head.starts_with(prefix),
            Signature::Riff(form) => head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == form,
            Signature::Text => self.text_ok && self.carry.is_empty(),
        };
        if matches {
            Ok(())
        } else {
            Err(ApiError::field("file", format!("the content is not a .{} file", self.kind.extension)))
        }
    }
}

/// The name as the client gave it, without control characters, at most 255 characters, and
/// without any directory part a browser may have sent.
pub fn original_name(raw: &str) -> Result<String, ApiError> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = base.chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect();
    let name = name.trim();
    if name.is_empty() || name.chars().all(|c| c == '.') {
        return Err(ApiError::field("file", "the file has no name"));
    }
    Ok(name.to_owned())
}

/// The name the file is stored and served under: ASCII letters, digits, `-`, `_` and one `.`
/// before the extension, so it can sit in a URL and a `Content-Disposition` header as it is.
pub fn safe_name(original: &str, kind: &Kind) -> String {
    let stem = original.rsplit_once('.').map_or(original, |(stem, _)| stem);
    let mut safe = String::with_capacity(stem.len());
    for c in stem.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' };
        if !(c == '_' && safe.ends_with('_')) {
            safe.push(c);
        }
    }
    let safe = safe.trim_matches('_');
    let room = MAX_SAFE_NAME - kind.extension.len() - 1;
    let stem = if safe.is_empty() { "file" } else { &safe[..safe.len().min(room)] };
    format!("{stem}.{}", kind.extension)
}

/// The 413 for a file over [`MAX_FILE_BYTES`].
pub fn too_big() -> ApiError {
    ApiError::PayloadTooLarge(format!("the file is larger than {MAX_FILE_BYTES} bytes (10 MB)"))
}

/// A small form field's bytes; past `limit`, `too_big` without reading the rest.
pub async fn read_field(
    field: &mut Field<'_>,
    limit: usize,
    too_big: impl FnOnce() -> ApiError,
) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
        if bytes.len() + chunk.len() > limit {
            return Err(too_big());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// A small text field, trimmed (at most `limit` bytes, else 400 naming it).
pub async fn read_text(field: &mut Field<'_>, name: &str, limit: usize) -> Result<String, ApiError> {
    let raw = read_field(field, limit, || ApiError::field(name, format!("at most {limit} bytes"))).await?;
    String::from_utf8(raw).map(|s| s.trim().to_owned()).map_err(|_| ApiError::field(name, "must be UTF-8 text"))
}

/// A multipart error as the client should see it: 413 past the body limit, else 400.
pub fn malformed(err: MultipartError) -> ApiError {
    if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large()
    } else {
        ApiError::bad_request(format!("malformed multipart body: {}", err.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_checked_in_chunks_agrees_with_the_whole() {
        let txt = kind_by_name("a.txt").unwrap();
        let text = "naïve 文件".as_bytes();
        for cut in 0..text.len() {
            let mut c = ContentCheck::new(txt);
            c.feed(&text[..cut]);
            c.feed(&text[cut..]);
            assert!(c.finish().is_ok(), "cut at {cut}");
        }
        let mut c = ContentCheck::new(txt);
        c.feed(&text[..text.len() - 1]);
        assert!(c.finish().is_err(), "a sequence cut at the end is not text");
        let png = kind_by_name("x.PNG").unwrap();
        let mut c = ContentCheck::new(png);
        for b in b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR" {
            c.feed(&[*b]);
        }
        assert!(c.finish().is_ok());
        let pdf = kind_by_name("scan.pdf").unwrap();
        assert!(check_content(pdf, b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR").is_err(), "a PNG called .pdf");
        assert!(check_content(pdf, b"").is_err());
        assert!(kind_by_name("page.html").is_err());
    }
}
