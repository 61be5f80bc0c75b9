//! The smallest XLSX workbook Excel, LibreOffice and Google Sheets open: one worksheet with inline
//! strings and numbers, no styles, in a ZIP container.
//!
//! Why by hand over the `zip` crate rather than `rust_xlsxwriter`: a report is one plain table,
//! which is five short XML parts. `rust_xlsxwriter` brings the whole spreadsheet model (styles,
//! charts, shared-string table, formula parsing, `zip` with deflate) to write them; `zip` without
//! default features (stored entries, no compression back-ends) is all this needs.

use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;

/// One cell of the sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A number's exact decimal text, as the owner sent it (money is never rounded through a float).
    Number(String),
    Empty,
}

impl Cell {
    /// A JSON value as a cell: numbers stay numbers, `null` is empty, anything else is text.
    pub fn from_json(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Self::Empty,
            serde_json::Value::Number(n) => Self::Number(n.to_string()),
            serde_json::Value::String(s) => Self::Text(s.clone()),
            serde_json::Value::Bool(b) => Self::Text(b.to_string()),
            other => Self::Text(other.to_string()),
        }
    }
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;

pub const MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `text` safe inside XML: markup escaped, and the control characters XML 1.0 forbids dropped.
fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

/// `A`, `B`, … `Z`, `AA`, … for a zero-based column.
pub fn column_name(mut index: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

fn sheet_xml(headers: &[&str], rows: &[Vec<Cell>]) -> String {
    let mut xml = String::with_capacity(256 + rows.len() * headers.len() * 32);
    xml.push_str(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#);
    xml.push_str(r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#);
    let header_row: Vec<Cell> = headers.iter().map(|h| Cell::Text((*h).to_owned())).collect();
    for (r, row) in std::iter::once(&header_row).chain(rows).enumerate() {
        let n = r + 1;
        xml.push_str(&format!(r#"<row r="{n}">"#));
        for (c, cell) in row.iter().enumerate() {
            let at = format!("{}{n}", column_name(c));
            match cell {
                Cell::Empty => {}
                Cell::Number(v) => xml.push_str(&format!(r#"<c r="{at}"><v>{v}</v></c>"#)),
                Cell::Text(s) => {
                    xml.push_str(&format!(r#"<c r="{at}" t="inlineStr"><is><t xml:space="preserve">"#));
                    escape(s, &mut xml);
                    xml.push_str("</t></is></c>");
                }
            }
        }
        xml.push_str("</row>");
    }
    xml.push_str("</sheetData></worksheet>");
    xml
}

/// A workbook with one sheet named `sheet`: the header row, then `rows`.
pub fn workbook(sheet: &str, headers: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut name = String::new();
    escape(sheet, &mut name);
    let workbook = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let parts: [(&str, &str); 4] = [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", ROOT_RELS),
        ("xl/workbook.xml", &workbook),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
    ];
    for (path, text) in parts {
        zip.start_file(path, options)?;
        zip.write_all(text.as_bytes())?;
    }
    zip.start_file("xl/worksheets/sheet1.xml", options)?;
    zip.write_all(sheet_xml(headers, rows).as_bytes())?;
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_named_like_a_spreadsheet() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(27), "AB");
        assert_eq!(column_name(701), "ZZ");
        assert_eq!(column_name(702), "AAA");
    }

    #[test]
    fn cells_are_escaped_and_typed() {
        let xml = sheet_xml(
            &["Name", "Amount"],
            &[vec![Cell::Text("A & B <c>\u{1}".into()), Cell::Number("12.50".into())], vec![Cell::Empty]],
        );
        assert!(
            xml.contains(r#"<c r="A2" t="inlineStr"><is><t xml:space="preserve">A &amp; B &lt;c&gt;</t></is></c>"#)
        );
        assert!(xml.contains(r#"<c r="B2"><v>12.50</v></c>"#));
        assert!(xml.contains(r#"<row r="3"></row>"#));
    }

    #[test]
    fn a_workbook_is_a_zip_of_its_parts() {
        let bytes = workbook("orders", &["a"], &[vec![Cell::Text("x".into())]]).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let names: Vec<_> = archive.file_names().map(str::to_owned).collect();
        for part in ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml"] {
            assert!(names.iter().any(|n| n == part), "{part} in {names:?}");
        }
        let mut sheet = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("xl/worksheets/sheet1.xml").unwrap(), &mut sheet).unwrap();
        assert!(sheet.contains(">x<"));
    }
}
