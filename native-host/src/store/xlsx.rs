//! A minimal XLSX (Office Open XML spreadsheet) writer: enough for the export's two sheets.
//!
//! Why not `rust_xlsxwriter`: the export needs text cells, number cells, a bold frozen header
//! and two sheets — about a hundred lines over the `zip` crate the workspace already has, against
//! a large dependency (and its build time on every host build). Cells are written as inline
//! strings (`t="inlineStr"`), so there is no shared-strings table to build; the result opens in
//! Excel, WPS and LibreOffice.
//!
//! Values stay exact: amounts are written as the portal's decimal text inside `<v>` (a number
//! cell), 统一编号 / 报关单号 (18 digits, beyond a double's precision) always as text.

use std::io::Write;

/// One cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    /// A decimal number, as text (`6789.32`).
    Number(String),
}

impl Cell {
    /// A number when `value` is a plain decimal Excel reads exactly (≤ 15 significant digits),
    /// else text.
    pub fn number_or_text(value: String) -> Cell {
        let (int, frac) = value.split_once('.').unwrap_or((&value, ""));
        let digits = int.trim_start_matches('0').len() + frac.len();
        let plain = !int.is_empty() && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) && (frac.is_empty() != value.contains('.'));
        if plain && digits <= 15 && (int == "0" || !int.starts_with('0')) {
            Cell::Number(value)
        } else {
            Cell::Text(value)
        }
    }
}

struct Sheet {
    name: String,
    xml: String,
    rows: u32,
}

/// A workbook built row by row.
pub struct Workbook {
    sheets: Vec<Sheet>,
}

/// `A`, `B`, … `Z`, `AA` …: a column's letters (0-based).
fn column(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(char::from(b'A' + (index % 26) as u8));
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.iter().rev().collect()
}

/// Text for XML: escaped, and without the control characters XML 1.0 forbids.
fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
}

impl Workbook {
    /// A workbook with these sheets (names at most 31 characters, no `[]:*?/\`).
    pub fn new(names: &[&str]) -> Workbook {
        Workbook { sheets: names.iter().map(|n| Sheet { name: (*n).to_owned(), xml: String::new(), rows: 0 }).collect() }
    }

    /// The header row (bold; the sheet freezes it).
    pub fn header(&mut self, sheet: usize, cells: Vec<Cell>) {
        self.push(sheet, cells, true);
    }

    pub fn row(&mut self, sheet: usize, cells: Vec<Cell>) {
        self.push(sheet, cells, false);
    }

    fn push(&mut self, sheet: usize, cells: Vec<Cell>, bold: bool) {
        let Some(sheet) = self.sheets.get_mut(sheet) else { return };
        sheet.rows += 1;
        let r = sheet.rows;
        let out = &mut sheet.xml;
        out.push_str(&format!("<row r=\"{r}\">"));
        let style = if bold { " s=\"1\"" } else { "" };
        for (i, cell) in cells.into_iter().enumerate() {
            let at = format!("{}{r}", column(i));
            match cell {
                Cell::Number(n) => out.push_str(&format!("<c r=\"{at}\"{style}><v>{n}</v></c>")),
                Cell::Text(t) if t.is_empty() => {}
                Cell::Text(t) => {
                    let space = if t.starts_with(char::is_whitespace) || t.ends_with(char::is_whitespace) { " xml:space=\"preserve\"" } else { "" };
                    out.push_str(&format!("<c r=\"{at}\" t=\"inlineStr\"{style}><is><t{space}>"));
                    escape(&t, out);
                    out.push_str("</t></is></c>");
                }
            }
        }
        out.push_str("</row>");
    }

    /// The `.xlsx` file.
    pub fn finish(self) -> zip::result::ZipResult<Vec<u8>> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let mut file = |name: &str, body: &str| -> zip::result::ZipResult<()> {
            zip.start_file(name, options)?;
            zip.write_all(body.as_bytes())?;
            Ok(())
        };
        const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
        const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let overrides: String = (1..=self.sheets.len())
            .map(|i| format!("<Override PartName=\"/xl/worksheets/sheet{i}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"))
            .collect();
        file(
            "[Content_Types].xml",
            &format!(
                "{HEAD}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
                 <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
                 <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
                 <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
                 <Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>\
                 {overrides}</Types>"
            ),
        )?;
        file(
            "_rels/.rels",
            &format!(
                "{HEAD}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
                 <Relationship Id=\"rId1\" Type=\"{REL}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
            ),
        )?;
        let mut sheets = String::new();
        let mut rels = String::new();
        for (i, sheet) in self.sheets.iter().enumerate() {
            let n = i + 1;
            let mut name = String::new();
            escape(&sheet.name, &mut name);
            sheets.push_str(&format!("<sheet name=\"{name}\" sheetId=\"{n}\" r:id=\"rId{n}\"/>"));
            rels.push_str(&format!("<Relationship Id=\"rId{n}\" Type=\"{REL}/worksheet\" Target=\"worksheets/sheet{n}.xml\"/>"));
        }
        let styles_id = self.sheets.len() + 1;
        rels.push_str(&format!("<Relationship Id=\"rId{styles_id}\" Type=\"{REL}/styles\" Target=\"styles.xml\"/>"));
        file("xl/workbook.xml", &format!("{HEAD}<workbook xmlns=\"{MAIN}\" xmlns:r=\"{REL}\"><sheets>{sheets}</sheets></workbook>"))?;
        file(
            "xl/_rels/workbook.xml.rels",
            &format!("{HEAD}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{rels}</Relationships>"),
        )?;
        file(
            "xl/styles.xml",
            &format!(
                "{HEAD}<styleSheet xmlns=\"{MAIN}\">\
                 <fonts count=\"2\"><font><sz val=\"11\"/><name val=\"等线\"/></font><font><b/><sz val=\"11\"/><name val=\"等线\"/></font></fonts>\
                 <fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>\
                 <borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
                 <cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
                 <cellXfs count=\"2\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>\
                 <xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/></cellXfs>\
                 <cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles></styleSheet>"
            ),
        )?;
        for (i, sheet) in self.sheets.iter().enumerate() {
            file(
                &format!("xl/worksheets/sheet{}.xml", i + 1),
                &format!(
                    "{HEAD}<worksheet xmlns=\"{MAIN}\" xmlns:r=\"{REL}\"><sheetViews><sheetView workbookViewId=\"0\">\
                     <pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/></sheetView></sheetViews>\
                     <sheetFormatPr defaultRowHeight=\"15\"/><sheetData>{}</sheetData></worksheet>",
                    sheet.xml
                ),
            )?;
        }
        Ok(zip.finish()?.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn columns_and_numbers() {
        assert_eq!([column(0), column(25), column(26), column(27), column(701), column(702)], ["A", "Z", "AA", "AB", "ZZ", "AAA"]);
        assert_eq!(Cell::number_or_text("6789.32".into()), Cell::Number("6789.32".into()));
        assert_eq!(Cell::number_or_text("0.5".into()), Cell::Number("0.5".into()));
        assert_eq!(Cell::number_or_text("12".into()), Cell::Number("12".into()));
        for text in ["610120261000000001", "0110", "1.2.3", "", "12.", ".5", "-1", "1e5", "1,000"] {
            assert_eq!(Cell::number_or_text(text.into()), Cell::Text(text.into()), "{text}");
        }
    }

    #[test]
    fn a_workbook_is_a_zip_of_valid_parts() {
        let mut book = Workbook::new(&["表一", "B&C"]);
        book.header(0, vec![Cell::Text("名称".into()), Cell::Text("金额".into())]);
        book.row(0, vec![Cell::Text("<img src=x onerror=alert(1)>\u{1}".into()), Cell::Number("1.5".into())]);
        book.row(1, vec![Cell::Text(" 空格 ".into())]);
        let bytes = book.finish().unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
        names.sort();
        assert_eq!(
            names,
            ["[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"]
        );
        let mut sheet = String::new();
        zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut sheet).unwrap();
        assert!(sheet.contains("<c r=\"A1\" t=\"inlineStr\" s=\"1\"><is><t>名称</t></is></c>"), "{sheet}");
        assert!(sheet.contains("<t>&lt;img src=x onerror=alert(1)&gt;</t>"), "escaped, control character dropped: {sheet}");
        assert!(sheet.contains("<c r=\"B2\"><v>1.5</v></c>"));
        let mut workbook = String::new();
        zip.by_name("xl/workbook.xml").unwrap().read_to_string(&mut workbook).unwrap();
        assert!(workbook.contains("name=\"B&amp;C\""));
        let mut second = String::new();
        zip.by_name("xl/worksheets/sheet2.xml").unwrap().read_to_string(&mut second).unwrap();
        assert!(second.contains("<t xml:space=\"preserve\"> 空格 </t>"));
    }
}
