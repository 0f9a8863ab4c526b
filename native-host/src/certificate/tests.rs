//! The renderer checked from the outside, with poppler (`pdffonts`, `pdftotext`, `pdfinfo`,
//! `pdftoppm` from `poppler-utils`, installed by `cargo xtask test`): the font is an embedded
//! subset with a Unicode map, the text extracts exactly (and the watermark and the seal's letters
//! do not), the pages are A4 and as many as the tables need, every page renders, the seal is red
//! and the QR code dark where the layout put them. Missing poppler is a failure, not a skip.
//!
//! Artifacts (the PDFs, one PNG per page at 60 dpi, the measured sizes and times) go to
//! `target/e2e-artifacts/certificate/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use super::font::{self, FontFile};
use super::pdf::{self, render_with, rows_per_page, Placed, PAGE_H, ROW_FACTOR, TABLE_SIZE};
use super::*;

const COMPANY: &str = "陕西示例国际贸易有限公司";
const USCC: &str = "91610000MA6TG1234X";
const ISSUER: &str = "陕西电子口岸有限责任公司";
const PROJECT: &str = "2026年度外经贸发展专项资金申报";
const DEPARTMENT: &str = "西安市商务局";
/// The amounts the body states (万元, formatted by the caller).
const AMOUNTS: &[&str] = &["1,234.56", "789.01", "6,912.34", "962.75", "10.20", "3.45", "34.81", "4.86", "1,224.36", "785.56", "6,877.53", "957.89"];

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-artifacts/certificate");
    std::fs::create_dir_all(&dir).expect("create artifacts dir");
    dir
}

/// Runs a poppler tool; a missing tool fails the test with the fix.
fn tool(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is not runnable ({e}): install poppler-utils (`cargo xtask test` does)"));
    assert!(out.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn write(name: &str, pdf: &[u8]) -> PathBuf {
    let path = artifacts().join(name);
    std::fs::write(&path, pdf).expect("write pdf");
    path
}

fn detail_rows(count: usize) -> Vec<Vec<String>> {
    (0..count)
        .map(|i| {
            let cents = 1_000_000 + (i as u64 * 7_919_371) % 900_000_000;
            vec![
                format!("6101202510{:08}", 100_000 + i),
                format!("2025-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
                if i % 3 == 0 { "进口" } else { "出口" }.to_owned(),
                ["USD", "EUR", "JPY", "HKD"][i % 4].to_owned(),
                grouped(cents),
                grouped(cents * 7),
                grouped(cents - cents / 50),
            ]
        })
        .collect()
}

/// Cents as `1,234,567.89` (integer arithmetic, as the real caller formats money).
fn grouped(cents: u64) -> String {
    let yuan = (cents / 100).to_string();
    let mut out = String::new();
    for (i, c) in yuan.chars().enumerate() {
        if i > 0 && (yuan.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out}.{:02}", cents % 100)
}

fn sample(detail: usize) -> CertificateDocument {
    let a = AMOUNTS;
    CertificateDocument {
        title: "进出口贸易额证明".to_owned(),
        addressee: format!("{DEPARTMENT}："),
        body: vec![
            format!(
                "兹证明{COMPANY}（统一社会信用代码：{USCC}）通过中国（陕西）国际贸易“单一窗口”验证，2025年1月-12月以报关单(含备案清单)方式申报并结关的进出口贸易额总值为：人民币 {} 万、美元 {} 万，折算人民币 {} 万，折算美元 {} 万；进口总值为：人民币 {} 万、美元 {} 万，折算人民币 {} 万，折算美元 {} 万；出口总值为：人民币 {} 万、美元 {} 万，折算人民币 {} 万，折算美元 {} 万。详细数据见附件。",
                a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]
            ),
            "特此证明。".to_owned(),
        ],
        issuer: ISSUER.to_owned(),
        date_line: "2026年11月25日".to_owned(),
        seal: Some(Seal { issuer_arc: ISSUER.to_owned(), caption: "证明专用章".to_owned() }),
        footnotes: vec!["注：按照相关规定，各种货币对人民币所用计征汇率为上一个月第三个星期三（第三个星期三为法定节日的，顺延采用第四个星期三）的中国银行外汇牌价。各种外币对美元折算率采用国家外汇管理局发布的《统计用各种外币对美元折算率表》（在国家外汇管理局网站公布）。".to_owned()],
        watermark: format!("{PROJECT} · {DEPARTMENT}"),
        verification: Some(Verification {
            code: "DL7Q-4K2M-9XWP".to_owned(),
            qr_payload: "datalink:certificate:v1:DL7Q-4K2M-9XWP:3f9a1c0d5e7b2a4f".to_owned(),
            note: "核验：datalink-host verify-certificate 本文件".to_owned(),
            signature: Some("MEUCIQDa8xv3b1m0YwJ9c2Yz7t1k8f1QmZ0F3n9sVbq1h2cXJgIgPq7m5p1n0Lr8t4sW2v6y9b3e5g7i1k3m5o7q9s1u3w5=".to_owned()),
        }),
        attachments: vec![
            Table {
                title: "附件1：2025年1月-12月进出口贸易额（按月）".to_owned(),
                columns: ["月份", "进口（人民币元）", "出口（人民币元）", "合计（人民币元）", "合计（美元）"].map(String::from).to_vec(),
                numeric: vec![false, true, true, true, true],
                rows: (1..=12).map(|m| vec![format!("2025年{m}月"), grouped(m * 8_500_000), grouped(m * 102_036_000), grouped(m * 110_536_000), grouped(m * 15_400_000)]).collect(),
            },
            Table {
                title: "附件2：报关单明细".to_owned(),
                columns: ["报关单号", "申报日期", "进出口", "币制", "金额", "折人民币（元）", "折美元"].map(String::from).to_vec(),
                numeric: vec![false, false, false, false, true, true, true],
                rows: detail_rows(detail),
            },
        ],
        metadata: vec![
            ("DataLinkCompany".to_owned(), COMPANY.to_owned()),
            ("DataLinkUSCC".to_owned(), USCC.to_owned()),
            ("DataLinkPeriod".to_owned(), "202501-202512".to_owned()),
            ("DataLinkDigest".to_owned(), "sha256:3f9a1c0d5e7b2a4f".to_owned()),
        ],
        pdf_title: "进出口贸易额证明".to_owned(),
    }
}

fn font() -> std::sync::Arc<FontFile> {
    font::shared().expect("fonts-noto-cjk is installed by `cargo xtask test`")
}

fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn the_font_is_an_embedded_subset_with_a_unicode_map() {
    let (bytes, _) = render_with(&sample(300), &font()).expect("render");
    let path = write("sample.pdf", &bytes);
    let fonts = tool("pdffonts", &[path.to_str().expect("utf-8 path")]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 1, "exactly one font (seal and watermark are outlines): {fonts}");
    let cols: Vec<&str> = rows[0].split_whitespace().collect();
    // name type(2 words) encoding emb sub uni object ID
    assert!(cols[0].len() == 29 && cols[0].ends_with("+NotoSerifCJKsc-Regular") && cols[0][..6].chars().all(|c| c.is_ascii_uppercase()), "{fonts}");
    assert_eq!(&cols[1..7], &["CID", "Type", "0C", "Identity-H", "yes", "yes"], "{fonts}");
    assert_eq!(cols[7], "yes", "uni: {fonts}");
}

#[test]
fn the_text_extracts_exactly_without_watermark_or_seal() {
    let doc = sample(300);
    let (bytes, placed) = render_with(&doc, &font()).expect("render");
    let path = write("text.pdf", &bytes);
    let path = path.to_str().expect("utf-8 path");
    let raw = tool("pdftotext", &["-enc", "UTF-8", path, "-"]);
    let text = squash(&raw);
    for needle in [
        "进出口贸易额证明",
        "西安市商务局：",
        COMPANY,
        USCC,
        "2025年1月-12月",
        "以报关单(含备案清单)方式申报并结关",
        "特此证明。",
        "2026年11月25日",
        "核验码：DL7Q-4K2M-9XWP",
        "注：按照相关规定",
        "《统计用各种外币对美元折算率表》",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {raw}");
    }
    for amount in AMOUNTS {
        assert!(text.contains(&format!("人民币{amount}万")) || text.contains(&format!("美元{amount}万")), "missing amount {amount}");
    }
    // The issuer is printed once; its name on the seal, the caption and the watermark are paths.
    assert_eq!(text.matches(ISSUER).count(), 1, "{raw}");
    assert!(!text.contains("证明专用章"), "seal caption extracted");
    assert!(!text.contains("外经贸发展专项资金") && !text.contains(&squash(&doc.watermark)), "watermark extracted");
    let pages = placed.pages;
    for page in 1..=pages {
        assert!(raw.contains(&format!("第 {page} 页 / 共 {pages} 页")), "footer of page {page}");
    }

    // Tables: with -layout every row is one line, its cells in order.
    let layout = tool("pdftotext", &["-layout", "-enc", "UTF-8", path, "-"]);
    let page_texts: Vec<&str> = layout.split('\u{c}').collect();
    for table in &doc.attachments {
        for row in &table.rows {
            let line = layout.lines().find(|l| l.split_whitespace().next() == Some(row[0].as_str())).unwrap_or_else(|| panic!("row {:?} not found", row[0]));
            let words: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(words, row.iter().map(String::as_str).collect::<Vec<_>>(), "row line {line:?}");
        }
    }
    // The detail table's header repeats on each of its pages; its last row is on the last page.
    let detail_pages = placed.table_pages[1];
    for page in &page_texts[pages - detail_pages..pages] {
        assert!(page.contains("报关单号") && page.contains("附件2：报关单明细"), "{page}");
    }
    assert!(page_texts[pages - 1].contains(&doc.attachments[1].rows[299][0]));
}

#[test]
fn pdfinfo_shows_the_title_a4_and_the_page_count() {
    let (bytes, placed) = render_with(&sample(300), &font()).expect("render");
    let path = write("info.pdf", &bytes);
    let info = tool("pdfinfo", &[path.to_str().expect("utf-8 path")]);
    let field = |name: &str| info.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned())).unwrap_or_else(|| panic!("{name} in {info}"));
    assert_eq!(field("Title:"), "进出口贸易额证明");
    assert_eq!(field("Page size:"), "595.28 x 841.89 pts (A4)");
    // 32 rows per page: (841.89 − 70.87 − 28 − 20 − 70.87) / 20 = 32.6. Statement 1 + 12 months
    // 1 + 300 details ⌈300 / 32⌉ = 10.
    let per_page = rows_per_page(TABLE_SIZE * ROW_FACTOR);
    assert_eq!(per_page, 32);
    let expected = 1 + 1 + 300_usize.div_ceil(per_page);
    assert_eq!(expected, 12);
    assert_eq!(field("Pages:").parse::<usize>().expect("pages"), expected);
    assert_eq!(placed, Placed { pages: expected, table_pages: vec![1, 10], ..placed.clone() });
    assert_eq!(field("Producer:"), "DataLink");
}

/// A binary PPM (P6): width, height, RGB bytes.
fn read_ppm(path: &Path) -> (usize, usize, Vec<u8>) {
    let data = std::fs::read(path).expect("ppm");
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while data[i].is_ascii_whitespace() {
            i += 1;
        }
        if data[i] == b'#' {
            while data[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        while !data[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&data[start..i]).into_owned());
    }
    assert_eq!(fields[0], "P6");
    assert_eq!(fields[3], "255");
    let (w, h): (usize, usize) = (fields[1].parse().expect("w"), fields[2].parse().expect("h"));
    let pixels = data[i + 1..].to_vec();
    assert_eq!(pixels.len(), w * h * 3);
    (w, h, pixels)
}

#[test]
fn every_page_renders_and_the_seal_is_red_and_the_qr_dark() {
    let (bytes, placed) = render_with(&sample(300), &font()).expect("render");
    let dir = artifacts();
    let path = write("render.pdf", &bytes);
    let path = path.to_str().expect("utf-8 path");
    for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
        if entry.file_name().to_string_lossy().starts_with("page-") {
            std::fs::remove_file(entry.path()).expect("remove old png");
        }
    }
    let prefix = dir.join("page");
    tool("pdftoppm", &["-r", "60", "-png", path, prefix.to_str().expect("utf-8 path")]);
    let pngs = std::fs::read_dir(&dir).expect("dir").flatten().filter(|e| e.file_name().to_string_lossy().starts_with("page-")).count();
    assert_eq!(pngs, placed.pages);

    let ppm_prefix = dir.join("page1");
    tool("pdftoppm", &["-r", "60", "-f", "1", "-l", "1", "-singlefile", path, ppm_prefix.to_str().expect("utf-8 path")]);
    let (w, h, px) = read_ppm(&dir.join("page1.ppm"));
    // 595.28 × 841.89 pt at 60/72 px per pt, rounded up: ⌈496.07⌉ × ⌈701.58⌉.
    assert_eq!((w, h), (497, 702));
    let scale = 60.0 / 72.0;
    let at = |x: usize, y: usize| (px[(y * w + x) * 3], px[(y * w + x) * 3 + 1], px[(y * w + x) * 3 + 2]);
    let red = |(r, g, b): (u8, u8, u8)| r >= 150 && g <= 120 && b <= 120 && r - g.max(b) >= 80;

    let (page, cx, cy, r) = placed.seal.expect("seal placed");
    assert_eq!(page, 0);
    let (sx, sy, sr) = (cx * scale, (PAGE_H - cy) * scale, r * scale);
    let (mut inside, mut inside_red, mut outside_red) = (0usize, 0usize, 0usize);
    for y in 0..h {
        for x in 0..w {
            let d = ((x as f64 + 0.5 - sx).powi(2) + (y as f64 + 0.5 - sy).powi(2)).sqrt();
            if d <= sr {
                inside += 1;
                inside_red += usize::from(red(at(x, y)));
            } else if d > sr + 2.0 {
                outside_red += usize::from(red(at(x, y)));
            }
        }
    }
    let share = inside_red as f64 / inside as f64;
    // Ring (≈ 10 % of the disc), star, 12 glyphs on the arc and the caption.
    assert!(share > 0.12 && share < 0.6, "red share in the seal {share:.3}");
    assert_eq!(outside_red, 0, "red pixels outside the seal");

    let (page, qx, qy, side) = placed.qr.expect("qr placed");
    assert_eq!(page, 0);
    let (x0, y0) = ((qx * scale).ceil() as usize, ((PAGE_H - qy - side) * scale).ceil() as usize);
    let n = (side * scale).floor() as usize - 1;
    let dark = (y0..y0 + n).flat_map(|y| (x0..x0 + n).map(move |x| (x, y))).filter(|&(x, y)| at(x, y).0 < 110 && at(x, y).1 < 110 && at(x, y).2 < 110).count();
    let share = dark as f64 / (n * n) as f64;
    assert!(share > 0.3 && share < 0.75, "dark share in the QR code {share:.3}");
    // The top-left finder pattern: its corner module (≈ 2 px at 60 dpi) is dark.
    assert!((0..2).flat_map(|dy| (0..2).map(move |dx| (x0 + dx, y0 + dy))).any(|(x, y)| at(x, y).0 < 110), "the finder's corner is dark");
}

#[test]
fn the_same_document_gives_the_same_bytes() {
    let doc = sample(300);
    let first = render(&doc).expect("render");
    let second = render(&doc).expect("render");
    assert!(first == second, "two renderings differ");
    assert!(first.starts_with(b"%PDF-1.7"));
    // The /ID is a content hash: another document has another one.
    let mut other = doc.clone();
    other.date_line = "2026年11月26日".to_owned();
    let third = render(&other).expect("render");
    let id = |pdf: &[u8]| {
        let text = String::from_utf8_lossy(pdf).into_owned();
        let start = text.rfind("/ID").expect("ID in trailer");
        text[start..start + 80].to_owned()
    };
    assert_ne!(id(&first), id(&third));
}

#[test]
fn metadata_reads_back_and_bad_keys_are_refused() {
    let doc = sample(3);
    let bytes = render(&doc).expect("render");
    let mut expected = doc.metadata.clone();
    expected.push((CODE_KEY.to_owned(), "DL7Q-4K2M-9XWP".to_owned()));
    let signature = doc.verification.as_ref().and_then(|v| v.signature.clone()).expect("signature");
    expected.push((SIGNATURE_KEY.to_owned(), signature));
    assert_eq!(read_metadata(&bytes).expect("metadata"), expected);

    for bad in ["Title", "有中文", "with space", "", CODE_KEY] {
        let mut doc = sample(3);
        doc.metadata.push((bad.to_owned(), "x".to_owned()));
        assert!(matches!(render(&doc), Err(PdfError::MetadataKey(k)) if k == bad), "{bad:?} accepted");
    }
    let mut doc = sample(3);
    doc.metadata.push(("DataLinkPeriod".to_owned(), "again".to_owned()));
    assert!(matches!(render(&doc), Err(PdfError::MetadataKey(_))));
    assert!(matches!(read_metadata(b"not a pdf"), Err(PdfError::Unreadable)));
}

#[test]
fn page_contents_change_when_an_amount_changes() {
    let doc = sample(300);
    let original = page_contents(&render(&doc).expect("render")).expect("contents");
    assert_eq!(original.len(), 12);
    assert!(original.iter().all(|c| c.starts_with(b"BT") || c.starts_with(b"q")), "decompressed operators");

    // One amount in the body: page 1 differs, nothing else.
    let mut edited = doc.clone();
    edited.body[0] = edited.body[0].replacen("6,912.34", "6,912.35", 1);
    let changed = page_contents(&render(&edited).expect("render")).expect("contents");
    let differing: Vec<usize> = (0..12).filter(|&i| original[i] != changed[i]).collect();
    assert_eq!(differing, vec![0]);

    // One amount in row 150 of the details (page 3 + 150 / 32 = page 7, index 6).
    let mut edited = doc.clone();
    let cell = &mut edited.attachments[1].rows[150][4];
    let last = if cell.ends_with('7') { '8' } else { '7' };
    cell.pop();
    cell.push(last);
    assert_ne!(*cell, doc.attachments[1].rows[150][4]);
    let changed = page_contents(&render(&edited).expect("render")).expect("contents");
    let differing: Vec<usize> = (0..12).filter(|&i| original[i] != changed[i]).collect();
    assert_eq!(differing, vec![2 + 150 / 32]);
    assert!(matches!(page_contents(b"%PDF-1.7 garbage"), Err(PdfError::Unreadable)));
}

#[test]
fn a_full_year_renders_fast_and_small() {
    // 12 months × 2 directions × 11 declarations.
    let font = font();
    let doc = sample(12 * 2 * 11);
    let started = Instant::now();
    let (bytes, placed) = render_with(&doc, &font).expect("render");
    let elapsed = started.elapsed();
    // Also measured: reading and parsing the font file (once per process in the host).
    let started = Instant::now();
    let loaded = FontFile::load(Path::new(font::KNOWN[0].0), font::KNOWN[0].1).expect("load Noto Serif CJK");
    let load = started.elapsed();
    assert_eq!(loaded.outlines(), font::Outlines::Cff);
    std::fs::write(
        artifacts().join("measurements.txt"),
        format!(
            "{} build: 264 detail rows: {} pages, {} bytes, render {} ms; font file read + parse {} ms\n",
            if cfg!(debug_assertions) { "debug" } else { "release" },
            placed.pages,
            bytes.len(),
            elapsed.as_millis(),
            load.as_millis(),
        ),
    )
    .expect("write measurements");
    assert!(bytes.len() < 1_500_000, "{} bytes", bytes.len());
    assert!(elapsed.as_secs_f64() < 1.0, "{elapsed:?}");
    assert_eq!(placed.pages, 1 + 1 + 264_usize.div_ceil(32));
}

#[test]
fn truetype_fonts_embed_as_cid_type2() {
    // WenQuanYi Micro Hei (fonts-wqy-microhei) has TrueType (glyf) outlines.
    let font = FontFile::load(Path::new("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0)
        .expect("WenQuanYi Micro Hei is installed by `cargo xtask test` (fonts-wqy-microhei)");
    assert_eq!(font.outlines(), font::Outlines::TrueType);
    let doc = sample(40);
    let (bytes, placed) = render_with(&doc, &font).expect("render");
    assert_eq!(placed.pages, 1 + 1 + placed.table_pages[1]);
    let path = write("truetype.pdf", &bytes);
    let path = path.to_str().expect("utf-8 path");
    let fonts = tool("pdffonts", &[path]);
    let row = fonts.lines().nth(2).expect("font row");
    assert!(row.contains("+WenQuanYiMicroHei") && row.contains("CID TrueType") && row.contains("Identity-H"), "{fonts}");
    assert!(row.split_whitespace().rev().skip(2).take(3).all(|c| c == "yes"), "emb sub uni: {fonts}");
    let text = squash(&tool("pdftotext", &["-enc", "UTF-8", path, "-"]));
    assert!(text.contains(COMPANY) && text.contains(USCC) && text.contains("人民币6,912.34万"), "{text}");
    assert!(!text.contains("证明专用章") && !text.contains("外经贸发展专项资金"), "{text}");
    tool("pdftoppm", &["-r", "30", "-f", "1", "-l", "1", "-png", "-singlefile", path, artifacts().join("truetype-page1").to_str().expect("utf-8 path")]);
}

#[test]
fn bad_input_is_a_typed_error() {
    let mut doc = sample(3);
    doc.attachments[1].rows[1].pop();
    let err = render(&doc).expect_err("refused");
    assert_eq!(err.to_string(), "附件表格「附件2：报关单明细」第 2 行有 6 列，表头有 7 列");

    let mut doc = sample(3);
    doc.body.push("生僻字\u{F0000}".to_owned());
    let err = render(&doc).expect_err("refused");
    assert!(matches!(err, PdfError::Font(font::FontError::MissingGlyph('\u{F0000}'))), "{err:?}");
    assert!(err.to_string().contains("U+F0000"));

    let mut doc = sample(3);
    if let Some(v) = doc.verification.as_mut() {
        v.qr_payload = "x".repeat(4000);
    }
    assert!(matches!(render(&doc), Err(PdfError::QrTooLong)));
}

#[test]
fn a_minimal_document_has_no_seal_qr_or_watermark() {
    let mut doc = sample(0);
    doc.seal = None;
    doc.verification = None;
    doc.watermark = "  ".to_owned();
    doc.attachments.clear();
    let (bytes, placed) = render_with(&doc, &font()).expect("render");
    assert_eq!(placed, Placed { pages: 1, seal: None, qr: None, table_pages: Vec::new() });
    let contents = page_contents(&bytes).expect("contents");
    let page = String::from_utf8_lossy(&contents[0]);
    assert!(!page.contains("/Wm Do") && !page.contains("/GSseal") && !page.contains(" re\n"), "{page}");
    assert!(read_metadata(&bytes).expect("metadata").iter().all(|(k, _)| k != CODE_KEY));
    // Sanity of the module's constants the other tests rely on.
    assert!((pdf::CONTENT_W - 453.54).abs() < 1e-9);
}
