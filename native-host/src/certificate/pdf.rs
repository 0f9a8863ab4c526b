//! Page layout and PDF assembly: [`render`] lays the certificate out page by page into content
//! streams, then writes the PDF objects (catalog, page tree, shared resources, the embedded font
//! subset, the watermark form, `/Info`) with lopdf; [`read_metadata`] and [`page_contents`] read
//! a certificate back for `verify-certificate`.
//!
//! The statement page is laid out top-down with a cursor `y` (the next baseline). The block at the
//! bottom (verification, footnotes) is measured first, so the issuer block knows how low it may
//! go; everything is placed once — nothing is measured by rendering.

use std::collections::BTreeSet;

use lopdf::{dictionary, Dictionary, Document, LoadOptions, Object, Stream, StringFormat};
use sha2::{Digest, Sha256};

use super::draw::{self, n, Canvas, SealSpec};
use super::font::{self, FontFile, Subset};
use super::layout::{break_lines, fit_columns};
use super::{CertificateDocument, PdfError, Table, CODE_KEY, SIGNATURE_KEY};

/// A4 portrait, points.
pub(crate) const PAGE_W: f64 = 595.28;
pub(crate) const PAGE_H: f64 = 841.89;
/// 25 mm.
pub(crate) const MARGIN: f64 = 70.87;
pub(crate) const CONTENT_W: f64 = PAGE_W - 2.0 * MARGIN;

const TITLE_SIZE: f64 = 22.0;
const BODY_SIZE: f64 = 14.0;
const LINE: f64 = BODY_SIZE * 1.75;
const NOTE_SIZE: f64 = 9.0;
const NOTE_LINE: f64 = 12.5;
const FOOTER_SIZE: f64 = 9.0;
const FOOTER_Y: f64 = 36.0;
/// A 42 mm seal, the usual size of an official round seal.
pub(crate) const SEAL_R: f64 = 59.53;
/// The QR code's side, 1 inch.
pub(crate) const QR_SIZE: f64 = 72.0;
const CODE_SIZE: f64 = 10.5;
const VERIFY_NOTE_SIZE: f64 = 8.0;
const SIGNATURE_SIZE: f64 = 6.0;
/// Attachment tables: base font size, cell padding, row height as a multiple of the size.
pub(crate) const TABLE_SIZE: f64 = 10.0;
pub(crate) const TABLE_PAD: f64 = 4.0;
pub(crate) const ROW_FACTOR: f64 = 2.0;
pub(crate) const TABLE_TITLE_SIZE: f64 = 14.0;
/// The y of a table's top edge (the title sits above it).
pub(crate) const TABLE_TOP: f64 = PAGE_H - MARGIN - TABLE_TITLE_SIZE * 2.0;

/// `/Info` keys a custom key may not take.
const STANDARD_KEYS: &[&str] = &["Title", "Author", "Subject", "Keywords", "Creator", "Producer", "CreationDate", "ModDate", "Trapped"];

/// Where things landed (for tests: pixel checks need the seal's and the QR code's place).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Placed {
    pub pages: usize,
    /// (0-based page, centre x, centre y, radius)
    pub seal: Option<(usize, f64, f64, f64)>,
    /// (0-based page, left x, bottom y, side)
    pub qr: Option<(usize, f64, f64, f64)>,
    /// Per attachment table: how many pages it took.
    pub table_pages: Vec<usize>,
}

/// One page in the making: the content, and what is drawn over the watermark (the seal).
#[derive(Default)]
struct Page {
    canvas: Canvas,
    over: String,
}

struct Pages<'f> {
    subset: Subset<'f>,
    pages: Vec<Page>,
}

impl<'f> Pages<'f> {
    fn font(&self) -> &'f FontFile {
        self.subset.font()
    }

    fn width(&self, text: &str, size: f64) -> f64 {
        self.font().width(text, size)
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
    }

    fn current(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn text(&mut self, x: f64, y: f64, size: f64, text: &str) -> Result<(), PdfError> {
        let Pages { subset, pages } = self;
        let page = pages.last_mut().ok_or(PdfError::Write)?;
        page.canvas.text(subset, x, y, size, text)?;
        Ok(())
    }

    fn bold(&mut self, x: f64, y: f64, size: f64, text: &str) -> Result<(), PdfError> {
        let Pages { subset, pages } = self;
        let page = pages.last_mut().ok_or(PdfError::Write)?;
        page.canvas.bold_text(subset, x, y, size, text)?;
        Ok(())
    }

    fn lines(&self, text: &str, size: f64, first_width: f64, width: f64) -> Vec<String> {
        let font = self.font();
        break_lines(text, first_width, width, &|s: &str| font.width(s, size))
    }
}

/// Renders with the process's font (see [`font::shared`]).
pub(crate) fn render(doc: &CertificateDocument) -> Result<Vec<u8>, PdfError> {
    let font = font::shared()?;
    Ok(render_with(doc, &font)?.0)
}

/// Renders with `font`; also says where the seal and the QR code went.
pub(crate) fn render_with(doc: &CertificateDocument, font: &FontFile) -> Result<(Vec<u8>, Placed), PdfError> {
    let info = info_entries(doc)?;
    let mut pages = Pages { subset: Subset::new(font), pages: Vec::new() };
    let mut placed = Placed::default();
    statement(doc, &mut pages, &mut placed)?;
    for table in &doc.attachments {
        let before = pages.pages.len();
        attachment(table, &mut pages)?;
        placed.table_pages.push(pages.pages.len() - before);
    }
    let total = pages.pages.len();
    placed.pages = total;
    for i in 0..total {
        let footer = format!("第 {} 页 / 共 {total} 页", i + 1);
        let x = (PAGE_W - pages.width(&footer, FOOTER_SIZE)) / 2.0;
        let Pages { subset, pages } = &mut pages;
        pages[i].canvas.text(subset, x, FOOTER_Y, FOOTER_SIZE, &footer)?;
    }
    let watermark = doc.watermark.trim();
    let watermark = if watermark.is_empty() { None } else { Some(draw::watermark_form(font, watermark)?) };
    let grid = watermark.as_ref().map(|(_, width)| draw::watermark_grid(PAGE_W, PAGE_H, *width));
    let Pages { subset, pages } = pages;
    Ok((assemble(doc, subset, pages, watermark, grid, info)?, placed))
}

/// The custom `/Info` entries, checked: the caller's, then the verification code and signature.
fn info_entries(doc: &CertificateDocument) -> Result<Vec<(String, String)>, PdfError> {
    let mut entries = doc.metadata.clone();
    if let Some(v) = &doc.verification {
        entries.push((CODE_KEY.to_owned(), v.code.clone()));
        if let Some(signature) = &v.signature {
            entries.push((SIGNATURE_KEY.to_owned(), signature.clone()));
        }
    }
    let mut seen = BTreeSet::new();
    for (key, _) in &entries {
        let allowed = !key.is_empty() && key.len() <= 100 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !allowed || STANDARD_KEYS.contains(&key.as_str()) || !seen.insert(key.as_str()) {
            return Err(PdfError::MetadataKey(key.clone()));
        }
    }
    Ok(entries)
}

/// Page 1: title, addressee, body, issuer + date + seal, verification block, footnotes.
fn statement(doc: &CertificateDocument, pages: &mut Pages<'_>, placed: &mut Placed) -> Result<(), PdfError> {
    pages.new_page();
    let top = PAGE_H - MARGIN;
    let mut y = top - TITLE_SIZE;
    for line in pages.lines(&doc.title, TITLE_SIZE, CONTENT_W, CONTENT_W) {
        let x = MARGIN + (CONTENT_W - pages.width(&line, TITLE_SIZE)) / 2.0;
        pages.bold(x, y, TITLE_SIZE, &line)?;
        y -= TITLE_SIZE * 1.5;
    }
    y -= TITLE_SIZE * 0.9;

    let flow = |pages: &mut Pages<'_>, y: &mut f64, x: f64, line: &str| -> Result<(), PdfError> {
        if *y < MARGIN {
            pages.new_page();
            *y = top - BODY_SIZE;
        }
        pages.text(x, *y, BODY_SIZE, line)?;
        *y -= LINE;
        Ok(())
    };
    for line in pages.lines(&doc.addressee, BODY_SIZE, CONTENT_W, CONTENT_W) {
        flow(pages, &mut y, MARGIN, &line)?;
    }
    let indent = 2.0 * BODY_SIZE;
    for paragraph in &doc.body {
        for (i, line) in pages.lines(paragraph, BODY_SIZE, CONTENT_W - indent, CONTENT_W).iter().enumerate() {
            flow(pages, &mut y, if i == 0 { MARGIN + indent } else { MARGIN }, line)?;
        }
    }

    // The bottom block, measured first: footnotes at the very bottom, verification above them.
    let footnotes: Vec<String> = doc.footnotes.iter().flat_map(|f| pages.lines(f, NOTE_SIZE, CONTENT_W, CONTENT_W)).collect();
    let footnotes_h = footnotes.len() as f64 * NOTE_LINE;
    // The verification block keeps to the left half, so the issuer block and its seal (right
    // half) may come down beside it: the statement stays on one page.
    let text_x = MARGIN + QR_SIZE + 12.0;
    let text_w = MARGIN + CONTENT_W * 0.5 - text_x;
    let verification = doc.verification.as_ref().map(|v| {
        let note = pages.lines(&v.note, VERIFY_NOTE_SIZE, text_w, text_w);
        let signature = v.signature.as_ref().map(|s| pages.lines(&format!("签名：{s}"), SIGNATURE_SIZE, text_w, text_w)).unwrap_or_default();
        let text_h = CODE_SIZE * 1.5 + note.len() as f64 * VERIFY_NOTE_SIZE * 1.5 + signature.len() as f64 * SIGNATURE_SIZE * 1.4;
        (v, note, signature, text_h.max(QR_SIZE))
    });
    let verification_h = verification.as_ref().map_or(0.0, |(.., h)| h + 14.0);
    let bottom_top = MARGIN + footnotes_h + verification_h;

    // Issuer and date, right-aligned as a block (each line centred in it), 2 em from the right;
    // the seal centred on them. Three lines below the body; on a new page if that would reach
    // into the bottom block.
    let issuer_w = pages.width(&doc.issuer, BODY_SIZE);
    let date_w = pages.width(&doc.date_line, BODY_SIZE);
    let block_w = issuer_w.max(date_w);
    let block_right = PAGE_W - MARGIN - 2.0 * BODY_SIZE;
    let centre = block_right - block_w / 2.0;
    let seal_r = if doc.seal.is_some() { SEAL_R } else { 0.0 };
    let lowest = |issuer_y: f64| (issuer_y - LINE - BODY_SIZE * 0.3).min(issuer_y - LINE / 2.0 + BODY_SIZE * 0.35 - seal_r);
    let mut issuer_y = y - 1.5 * LINE;
    let seal_left = centre - seal_r.max(block_w / 2.0);
    let floor = if seal_left > MARGIN + CONTENT_W * 0.5 { MARGIN + footnotes_h } else { bottom_top };
    if lowest(issuer_y) < floor + 12.0 {
        pages.new_page();
        issuer_y = top - seal_r.max(BODY_SIZE) - BODY_SIZE;
    }
    let date_y = issuer_y - LINE;
    pages.text(centre - issuer_w / 2.0, issuer_y, BODY_SIZE, &doc.issuer)?;
    pages.text(centre - date_w / 2.0, date_y, BODY_SIZE, &doc.date_line)?;
    let page_index = pages.pages.len() - 1;
    if let Some(seal) = &doc.seal {
        let cy = (issuer_y + date_y) / 2.0 + BODY_SIZE * 0.35;
        let ops = draw::seal(pages.font(), &SealSpec { cx: centre, cy, r: SEAL_R, arc: &seal.issuer_arc, caption: &seal.caption })?;
        pages.current().over.push_str(&ops);
        placed.seal = Some((page_index, centre, cy, SEAL_R));
    }

    if let Some((v, note, signature, height)) = verification {
        let block_top = MARGIN + footnotes_h + height + 14.0;
        let qr_y = block_top - QR_SIZE;
        let qr = draw::qr(&v.qr_payload, MARGIN, qr_y, QR_SIZE)?;
        pages.current().canvas.raw(&qr);
        placed.qr = Some((page_index, MARGIN, qr_y, QR_SIZE));
        let mut ty = block_top - CODE_SIZE;
        pages.text(text_x, ty, CODE_SIZE, &format!("核验码：{}", v.code))?;
        ty -= CODE_SIZE * 1.5;
        for line in &note {
            pages.text(text_x, ty, VERIFY_NOTE_SIZE, line)?;
            ty -= VERIFY_NOTE_SIZE * 1.5;
        }
        for line in &signature {
            pages.text(text_x, ty, SIGNATURE_SIZE, line)?;
            ty -= SIGNATURE_SIZE * 1.4;
        }
    }
    for (i, line) in footnotes.iter().enumerate() {
        let baseline = MARGIN + footnotes_h - NOTE_SIZE - i as f64 * NOTE_LINE;
        pages.text(MARGIN, baseline, NOTE_SIZE, line)?;
    }
    Ok(())
}

/// How many rows fit on one page of a table whose rows are `row_h` high (under the title and
/// the repeated header row).
pub(crate) fn rows_per_page(row_h: f64) -> usize {
    (((TABLE_TOP - row_h - MARGIN) / row_h).floor() as usize).max(1)
}

/// One attachment table, from a new page, over as many pages as its rows need.
fn attachment(table: &Table, pages: &mut Pages<'_>) -> Result<(), PdfError> {
    let want = table.columns.len();
    for (i, row) in table.rows.iter().enumerate() {
        if row.len() != want {
            return Err(PdfError::RowWidth { table: table.title.clone(), row: i + 1, got: row.len(), want });
        }
    }
    let text_widths: Vec<f64> = (0..want)
        .map(|c| {
            let header = pages.width(&table.columns[c], TABLE_SIZE);
            table.rows.iter().map(|row| pages.width(&row[c], TABLE_SIZE)).fold(header, f64::max)
        })
        .collect();
    let fit = fit_columns(&text_widths, TABLE_SIZE, TABLE_PAD, CONTENT_W);
    let size = fit.size;
    let row_h = size * ROW_FACTOR;
    let per_page = rows_per_page(row_h);
    let mut xs = vec![MARGIN];
    for w in &fit.widths {
        let last = xs[xs.len() - 1];
        xs.push(last + w);
    }
    let numeric = |c: usize| table.numeric.get(c).copied().unwrap_or(false);
    let baseline_in = |row_top: f64| row_top - row_h / 2.0 - size * 0.36;

    let chunks: Vec<&[Vec<String>]> = if table.rows.is_empty() { vec![&[]] } else { table.rows.chunks(per_page).collect() };
    for (p, chunk) in chunks.iter().enumerate() {
        pages.new_page();
        let title = if p == 0 { table.title.clone() } else { format!("{}（续）", table.title) };
        pages.bold(MARGIN, PAGE_H - MARGIN - TABLE_TITLE_SIZE, TABLE_TITLE_SIZE, &title)?;
        let top = TABLE_TOP;
        let bottom = top - row_h * (chunk.len() + 1) as f64;
        // Header background, then grid.
        let mut grid = format!("q 0.87 g {} {} {} {} re f Q\nq 0.5 w\n", n(MARGIN), n(top - row_h), n(CONTENT_W), n(row_h));
        for r in 0..=chunk.len() + 1 {
            let y = top - row_h * r as f64;
            grid.push_str(&format!("{} {} m {} {} l\n", n(MARGIN), n(y), n(MARGIN + CONTENT_W), n(y)));
        }
        for x in &xs {
            grid.push_str(&format!("{} {} m {} {} l\n", n(*x), n(top), n(*x), n(bottom)));
        }
        grid.push_str("S Q\n");
        pages.current().canvas.raw(&grid);

        let cell = |pages: &mut Pages<'_>, c: usize, row_top: f64, text: &str, centred: bool| -> Result<(), PdfError> {
            let (left, right) = (xs[c], xs[c + 1]);
            let w = pages.width(text, size);
            let x = if centred {
                left + (right - left - w) / 2.0
            } else if numeric(c) {
                right - TABLE_PAD - w
            } else {
                left + TABLE_PAD
            };
            if fit.squeezed {
                pages.current().canvas.raw(&format!("q {} {} {} {} re W n\n", n(left), n(row_top - row_h), n(right - left), n(row_h)));
            }
            pages.text(x, baseline_in(row_top), size, text)?;
            if fit.squeezed {
                pages.current().canvas.raw("Q\n");
            }
            Ok(())
        };
        for (c, header) in table.columns.iter().enumerate() {
            cell(pages, c, top, header, true)?;
        }
        for (r, row) in chunk.iter().enumerate() {
            let row_top = top - row_h * (r + 1) as f64;
            for (c, text) in row.iter().enumerate() {
                cell(pages, c, row_top, text, false)?;
            }
        }
    }
    Ok(())
}

/// Writes the PDF objects and serialises them.
fn assemble(
    doc: &CertificateDocument,
    subset: Subset<'_>,
    pages: Vec<Page>,
    watermark: Option<(String, f64)>,
    grid: Option<String>,
    info: Vec<(String, String)>,
) -> Result<Vec<u8>, PdfError> {
    let mut pdf = Document::with_version("1.7");
    let pages_id = pdf.new_object_id();
    let font_id = subset.embed(&mut pdf)?;

    let mut resources = dictionary! {
        "Font" => dictionary! { draw::FONT => font_id },
        "ExtGState" => dictionary! {
            draw::GS_SEAL => dictionary! { "Type" => "ExtGState", "ca" => 0.85, "CA" => 0.85, "BM" => "Multiply" },
            draw::GS_WATERMARK => dictionary! { "Type" => "ExtGState", "ca" => 0.18, "CA" => 0.18 },
        },
    };
    if let Some((content, width)) = &watermark {
        let form = Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Form",
                "BBox" => vec![0.into(), (-5).into(), Object::Real((*width + 1.0) as f32), 18.into()],
                "Resources" => Dictionary::new(),
            },
            content.clone().into_bytes(),
        );
        let form_id = pdf.add_object(form);
        resources.set("XObject", dictionary! { draw::WATERMARK => form_id });
    }
    let resources_id = pdf.add_object(resources);

    let mut kids = Vec::with_capacity(pages.len());
    for page in pages {
        let mut content = page.canvas.ops;
        if let Some(grid) = &grid {
            content.push_str(grid);
        }
        content.push_str(&page.over);
        let content_id = pdf.add_object(Stream::new(Dictionary::new(), content.into_bytes()));
        let page_id = pdf.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(PAGE_W as f32), Object::Real(PAGE_H as f32)],
            "Resources" => resources_id,
            "Contents" => content_id,
        });
        kids.push(Object::Reference(page_id));
    }
    let count = kids.len() as i64;
    pdf.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog_id = pdf.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
        "Lang" => Object::string_literal("zh-CN"),
        "ViewerPreferences" => dictionary! { "DisplayDocTitle" => true },
    });
    let mut info_dict = dictionary! {
        "Title" => font::text_string(&doc.pdf_title),
        "Producer" => Object::string_literal("DataLink"),
    };
    for (key, value) in info {
        info_dict.set(key.into_bytes(), font::text_string(&value));
    }
    let info_id = pdf.add_object(info_dict);
    pdf.trailer.set("Root", catalog_id);
    pdf.trailer.set("Info", info_id);
    pdf.compress();

    // The file identifier: a hash of the file written without it, so equal content gives an
    // equal ID (and equal bytes), different content a different one.
    let mut bytes = Vec::new();
    pdf.save_to(&mut bytes).map_err(|_| PdfError::Write)?;
    let digest = Sha256::digest(&bytes);
    let id = Object::String(digest[..16].to_vec(), StringFormat::Hexadecimal);
    pdf.trailer.set("ID", vec![id.clone(), id]);
    let mut out = Vec::with_capacity(bytes.len() + 100);
    pdf.save_to(&mut out).map_err(|_| PdfError::Write)?;
    Ok(out)
}

/// A certificate is small; refuse to inflate anything beyond this (a hostile file).
const READ_LIMIT: usize = 64 << 20;

fn load(pdf: &[u8]) -> Result<Document, PdfError> {
    Document::load_mem_with_options(pdf, LoadOptions::with_max_decompressed_size(READ_LIMIT)).map_err(|_| PdfError::Unreadable)
}

/// The custom `/Info` entries of a PDF (every key but the standard ones), in file order.
pub(crate) fn read_metadata(pdf: &[u8]) -> Result<Vec<(String, String)>, PdfError> {
    let document = load(pdf)?;
    let info = document.trailer.get(b"Info").map_err(|_| PdfError::Unreadable)?;
    let info = match info {
        Object::Reference(id) => document.get_dictionary(*id).map_err(|_| PdfError::Unreadable)?,
        Object::Dictionary(dict) => dict,
        _ => return Err(PdfError::Unreadable),
    };
    let mut out = Vec::new();
    for (key, value) in info.iter() {
        let key = String::from_utf8_lossy(key).into_owned();
        if STANDARD_KEYS.contains(&key.as_str()) {
            continue;
        }
        let value = lopdf::decode_text_string(value).map_err(|_| PdfError::Unreadable)?;
        out.push((key, value));
    }
    Ok(out)
}

/// Each page's content, decompressed (a page's streams concatenated), in page order.
pub(crate) fn page_contents(pdf: &[u8]) -> Result<Vec<Vec<u8>>, PdfError> {
    let document = load(pdf)?;
    document.get_pages().values().map(|&id| document.get_page_content_with_limit(id, READ_LIMIT).map_err(|_| PdfError::Unreadable)).collect()
}
