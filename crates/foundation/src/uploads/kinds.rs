//! Which files may be uploaded, and under which category. The type is decided by the name's
//! extension and then checked against the first bytes of the content, so that a page of HTML
//! called `photo.png` is refused rather than served back to browsers as an image; the client's
//! own `Content-Type` is not trusted.

use crm_common::ApiError;

/// Largest file accepted: seed 002's "10 MB", counted in bytes, so that a file of the limit
/// with its multipart framing still fits the 10 MiB request-body limit.
pub const MAX_FILE_BYTES: usize = 10_000_000;
/// Longest original name kept.
const MAX_NAME_CHARS: usize = 255;
/// Longest stored (URL) name, extension included.
const MAX_SAFE_NAME: usize = 100;

/// What a file is for (seed 002's `category`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Avatar,
    Document,
    Export,
}

impl Category {
    pub const ALL: [Category; 3] = [Self::Avatar, Self::Document, Self::Export];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Avatar => "avatar",
            Self::Document => "document",
            Self::Export => "export",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ApiError> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == value)
            .ok_or_else(|| ApiError::field("category", "must be one of avatar, document, export"))
    }

    /// Whether a file of `kind` may be filed under this category.
    fn admits(self, kind: &Kind) -> bool {
        match self {
            Self::Avatar => kind.image,
            // The files of seed 004's order documents, plus text and spreadsheets as CSV.
            Self::Document => true,
            Self::Export => matches!(kind.extension, "csv" | "xlsx" | "xls" | "pdf"),
        }
    }
}

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

const KINDS: [Kind; 11] = [
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

impl Kind {
    fn matches(&self, content: &[u8]) -> bool {
        match self.signature {
            Signature::Prefix(prefix) => content.starts_with(prefix),
            Signature::Riff(form) => content.len() >= 12 && content.starts_with(b"RIFF") && &content[8..12] == form,
            Signature::Text => !content.contains(&0) && std::str::from_utf8(content).is_ok(),
        }
    }
}

fn extensions() -> String {
    KINDS.iter().map(|k| format!(".{}", k.extension)).collect::<Vec<_>>().join(" ")
}

/// The type of a file called `name` with `content`, if it may be filed under `category`.
pub fn check(category: Category, name: &str, content: &[u8]) -> Result<&'static Kind, ApiError> {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let Some(kind) = KINDS.iter().find(|k| k.extension == extension) else {
        return Err(ApiError::field("file", format!("the file type is not accepted; accepted: {}", extensions())));
    };
    if !category.admits(kind) {
        return Err(ApiError::field(
            "file",
            format!("a .{extension} file is not accepted in category {}", category.as_str()),
        ));
    }
    if content.is_empty() {
        return Err(ApiError::field("file", "the file is empty"));
    }
    if !kind.matches(content) {
        return Err(ApiError::field("file", format!("the content is not a .{extension} file")));
    }
    Ok(kind)
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

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR";

    fn field_message(err: ApiError) -> String {
        match err {
            ApiError::Validation(fields) => format!("{}: {}", fields[0].field, fields[0].message),
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn types_come_from_the_extension_and_must_match_the_content() {
        assert_eq!(check(Category::Avatar, "Me.PNG", PNG).unwrap().mime_type, "image/png");
        assert_eq!(check(Category::Document, "a.pdf", b"%PDF-1.7\n").unwrap().extension, "pdf");
        assert_eq!(check(Category::Avatar, "x.webp", b"RIFF\x10\0\0\0WEBPVP8 ").unwrap().mime_type, "image/webp");
        assert_eq!(check(Category::Export, "r.xlsx", b"PK\x03\x04rest").unwrap().extension, "xlsx");
        assert_eq!(check(Category::Document, "notes.txt", "naïve".as_bytes()).unwrap().extension, "txt");
        let html = b"<html><script>alert(1)</script></html>";
        assert_eq!(
            field_message(check(Category::Avatar, "photo.png", html).unwrap_err()),
            "file: the content is not a .png file"
        );
        assert!(field_message(check(Category::Document, "page.html", html).unwrap_err()).contains(".pdf .jpg"));
        assert!(check(Category::Document, "noextension", b"%PDF-").is_err());
        assert!(check(Category::Document, "bin.txt", b"a\0b").is_err());
        assert!(check(Category::Document, "latin1.csv", b"caf\xE9").is_err());
        assert!(check(Category::Document, "empty.pdf", b"").is_err());
        assert!(check(Category::Avatar, "x.webp", b"RIFF\x10\0\0\0WAVE").is_err());
    }

    #[test]
    fn categories_limit_the_types() {
        assert_eq!(
            field_message(check(Category::Avatar, "cv.pdf", b"%PDF-").unwrap_err()),
            "file: a .pdf file is not accepted in category avatar"
        );
        assert!(check(Category::Export, "p.png", PNG).is_err());
        assert!(check(Category::Export, "e.csv", b"a,b\n1,2\n").is_ok());
        assert!(check(Category::Document, "p.png", PNG).is_ok());
        assert_eq!(Category::parse("avatar").unwrap(), Category::Avatar);
        assert!(Category::parse("Avatar").is_err());
    }

    #[test]
    fn names_are_cleaned() {
        let png = check(Category::Avatar, "a.png", PNG).unwrap();
        assert_eq!(original_name("C:\\Users\\amy\\原始 文件.png").unwrap(), "原始 文件.png");
        assert_eq!(original_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(original_name("a\r\nb.png").unwrap(), "ab.png");
        assert!(original_name("..").is_err());
        assert!(original_name("dir/").is_err());
        assert_eq!(safe_name("原始文件名.png", png), "file.png");
        assert_eq!(safe_name("My photo (1).final.png", png), "My_photo_1_final.png");
        assert_eq!(safe_name("\"; x=y.png", png), "x_y.png");
        assert_eq!(safe_name(&"a".repeat(300), png).len(), MAX_SAFE_NAME);
    }
}
