//! Under which category a file may be uploaded. Which types are accepted at all, and the check of
//! the content against the type, are crm-common's (`api::upload`), shared with order-workflow's
//! order files.

use crm_common::ApiError;
use crm_common::api::upload::{self as common, Kind};

pub use crm_common::api::upload::{MAX_FILE_BYTES, original_name, safe_name};

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

/// The type of a file called `name` with `content`, if it may be filed under `category`.
pub fn check(category: Category, name: &str, content: &[u8]) -> Result<&'static Kind, ApiError> {
    let kind = common::kind_by_name(name)?;
    if !category.admits(kind) {
        return Err(ApiError::field(
            "file",
            format!("a .{} file is not accepted in category {}", kind.extension, category.as_str()),
        ));
    }
    common::check_content(kind, content)?;
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_common::api::upload::MAX_SAFE_NAME;

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
