//! Drawing into a PDF content stream: text runs, lines and boxes ([`Canvas`]), and the three
//! vector pictures of the certificate — the red seal ([`seal`]), the watermark's glyph outlines
//! ([`watermark_form`], placed by [`watermark_grid`]) and the QR code ([`qr`]).
//!
//! PDF coordinates are points (1/72 inch) from the page's bottom-left corner, y up. Every
//! number is written with at most two decimals (a hundredth of a point is far below what a
//! printer resolves), which keeps the streams small and the output deterministic.
//!
//! The seal and the watermark draw letters as **glyph outlines** (paths), never as text: a
//! text extractor (pdftotext, copy-paste, search) sees neither, so the body text extracts
//! cleanly and neither can be edited as text. The seal follows the usual look of a Chinese
//! official seal: a red ring, a five-pointed star, the issuer's name along the top arc (glyphs
//! condensed to 78 % and turned outward), the caption (证明专用章) under the star, drawn with
//! `Multiply` blending at 85 % opacity so the black issuer name under it shows through like ink.

use std::f64::consts::PI;

use super::font::{FontError, FontFile, Subset};
use super::PdfError;

/// A number for a content stream: two decimals at most, no trailing zeros, no `-0`.
pub(crate) fn n(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    if r == 0.0 {
        return "0".to_owned();
    }
    let s = format!("{r:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The resource names the page content refers to.
pub(crate) const FONT: &str = "F1";
pub(crate) const GS_SEAL: &str = "GSseal";
pub(crate) const GS_WATERMARK: &str = "GSwm";
pub(crate) const WATERMARK: &str = "Wm";

/// One page's content stream, built operator by operator.
#[derive(Default)]
pub(crate) struct Canvas {
    pub ops: String,
}

impl Canvas {
    /// `text` with its baseline starting at (`x`, `y`).
    pub(crate) fn text(&mut self, subset: &mut Subset<'_>, x: f64, y: f64, size: f64, text: &str) -> Result<(), FontError> {
        if text.is_empty() {
            return Ok(());
        }
        let hex = subset.encode(text)?;
        self.ops.push_str(&format!("BT /{FONT} {} Tf {} {} Td {hex} Tj ET\n", n(size), n(x), n(y)));
        Ok(())
    }

    /// Text drawn filled and stroked (render mode 2): a heavier weight from a regular font.
    pub(crate) fn bold_text(&mut self, subset: &mut Subset<'_>, x: f64, y: f64, size: f64, text: &str) -> Result<(), FontError> {
        self.ops.push_str(&format!("q 2 Tr {} w\n", n(size * 0.03)));
        self.text(subset, x, y, size, text)?;
        self.ops.push_str("Q\n");
        Ok(())
    }

    pub(crate) fn raw(&mut self, ops: &str) {
        self.ops.push_str(ops);
    }
}

/// Where the seal goes and what it says.
pub(crate) struct SealSpec<'a> {
    pub cx: f64,
    pub cy: f64,
    pub r: f64,
    pub arc: &'a str,
    pub caption: &'a str,
}

/// Seal red, as RGB.
const SEAL_RED: &str = "0.86 0.08 0.08";
/// Horizontal condensing of the seal's letters.
const SEAL_CONDENSE: f64 = 0.78;

/// A glyph outline placed with a matrix: `q a b c d e f cm <path> B Q`. `line` is the stroke
/// width in points (0 = fill only).
fn placed_glyph(font: &FontFile, c: char, matrix: [f64; 6], line: f64, out: &mut String) -> Result<(), FontError> {
    let (path, _) = font.outline(c)?;
    if path.is_empty() {
        return Ok(());
    }
    let [a, b, cc, d, e, f] = matrix;
    out.push_str(&format!("q {} {} {} {} {} {} cm\n", n6(a), n6(b), n6(cc), n6(d), n(e), n(f)));
    out.push_str(&path);
    if line > 0.0 {
        // The stroke width is in glyph units after `cm`: divide by the scale.
        let scale = (a * a + b * b).sqrt().max(1e-9);
        out.push_str(&format!("{} w B\nQ\n", n(line / scale)));
    } else {
        out.push_str("f\nQ\n");
    }
    Ok(())
}

/// Matrix entries scale font units (×size/1000): they need more than two decimals.
fn n6(v: f64) -> String {
    let r = (v * 1_000_000.0).round() / 1_000_000.0;
    if r == 0.0 {
        return "0".to_owned();
    }
    let s = format!("{r:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The seal's operators (ring, star, arc text, caption), in seal red with `/GSseal`.
pub(crate) fn seal(font: &FontFile, spec: &SealSpec<'_>) -> Result<String, PdfError> {
    let SealSpec { cx, cy, r, .. } = *spec;
    let mut out = format!("q /{GS_SEAL} gs {SEAL_RED} RG {SEAL_RED} rg\n");

    // Ring: four Bézier quarter arcs (k = 0.5523 r approximates a circle within 0.03 %), its
    // outer edge at r.
    let lw = 0.05 * r;
    let rr = r - lw / 2.0;
    let k = 0.5523 * rr;
    out.push_str(&format!("{} w\n{} {} m\n", n(lw), n(cx + rr), n(cy)));
    let quarter = [
        (cx + rr, cy + k, cx + k, cy + rr, cx, cy + rr),
        (cx - k, cy + rr, cx - rr, cy + k, cx - rr, cy),
        (cx - rr, cy - k, cx - k, cy - rr, cx, cy - rr),
        (cx + k, cy - rr, cx + rr, cy - k, cx + rr, cy),
    ];
    for (x1, y1, x2, y2, x3, y3) in quarter {
        out.push_str(&format!("{} {} {} {} {} {} c\n", n(x1), n(y1), n(x2), n(y2), n(x3), n(y3)));
    }
    out.push_str("S\n");

    // Star: ten points alternating between R and 0.382 R, from the top, every 36°.
    let outer = 0.27 * r;
    let inner = 0.382 * outer;
    for i in 0..10 {
        let radius = if i % 2 == 0 { outer } else { inner };
        let angle = (90.0 + 36.0 * f64::from(i)) * PI / 180.0;
        let op = if i == 0 { "m" } else { "l" };
        out.push_str(&format!("{} {} {op}\n", n(cx + radius * angle.cos()), n(cy + radius * angle.sin())));
    }
    out.push_str("h f\n");

    // The issuer's name clockwise along the top, each glyph's up pointing away from the centre.
    let chars: Vec<char> = spec.arc.chars().filter(|c| !c.is_whitespace()).collect();
    if !chars.is_empty() {
        let size = 0.24 * r;
        let units = size / font.units_per_em();
        let baseline = 0.91 * r - 0.88 * size;
        let count = chars.len() as f64;
        let step = size * SEAL_CONDENSE * 1.08 / baseline * 180.0 / PI;
        let span = (count * step).min(250.0);
        for (i, &c) in chars.iter().enumerate() {
            let theta = 90.0 + span / 2.0 - span * (i as f64 + 0.5) / count;
            let rot = (theta - 90.0) * PI / 180.0;
            let t = theta * PI / 180.0;
            let advance = font.advance(c).ok_or(FontError::MissingGlyph(c))? / 1000.0 * size * SEAL_CONDENSE;
            let x = cx + baseline * t.cos() - advance / 2.0 * rot.cos();
            let y = cy + baseline * t.sin() - advance / 2.0 * rot.sin();
            let (sin, cos) = rot.sin_cos();
            let m = [SEAL_CONDENSE * cos * units, SEAL_CONDENSE * sin * units, -sin * units, cos * units, x, y];
            placed_glyph(font, c, m, 0.5, &mut out)?;
        }
    }

    // The caption, straight, under the star.
    let caption: Vec<char> = spec.caption.chars().filter(|c| !c.is_whitespace()).collect();
    if !caption.is_empty() {
        let size = 0.17 * r;
        let units = size / font.units_per_em();
        let condense = 0.9;
        let advances: Vec<f64> =
            caption.iter().map(|&c| font.advance(c).ok_or(FontError::MissingGlyph(c)).map(|a| a / 1000.0 * size * condense)).collect::<Result<_, _>>()?;
        let mut x = cx - advances.iter().sum::<f64>() / 2.0;
        let y = cy - 0.62 * r;
        for (&c, advance) in caption.iter().zip(advances) {
            placed_glyph(font, c, [condense * units, 0.0, 0.0, units, x, y], 0.3, &mut out)?;
            x += advance;
        }
    }
    out.push_str("Q\n");
    Ok(out)
}

/// The watermark's size in points.
pub(crate) const WATERMARK_SIZE: f64 = 16.0;

/// The watermark text as one Form XObject's content: glyph outlines in grey, baseline at y = 0,
/// starting at x = 0. Returns the content and the text's width in points.
pub(crate) fn watermark_form(font: &FontFile, text: &str) -> Result<(String, f64), PdfError> {
    let units = WATERMARK_SIZE / font.units_per_em();
    let mut out = String::from("0.45 g\n");
    let mut x = 0.0;
    for c in text.chars() {
        let (_, advance) = font.outline(c)?;
        placed_glyph(font, c, [units, 0.0, 0.0, units, x, 0.0], 0.0, &mut out)?;
        x += advance * units;
    }
    Ok((out, x))
}

/// Places the watermark form over a whole page: rotated 30°, a staggered grid (every other row
/// shifted by half a step). `width` is the watermark's width in points.
pub(crate) fn watermark_grid(page_w: f64, page_h: f64, width: f64) -> String {
    let step_x = (width + 60.0).max(290.0);
    let step_y = 120.0;
    let (sin, cos) = (30.0 * PI / 180.0).sin_cos();
    let mut out = format!("q /{GS_WATERMARK} gs\n");
    // Walk a grid in the rotated frame large enough to cover the page, keep what lands on it.
    let reach = page_w.hypot(page_h);
    let rows = (reach / step_y).ceil() as i64 + 1;
    let cols = (reach / step_x).ceil() as i64 + 1;
    for j in -rows..=rows {
        for i in -cols..=cols {
            let u = i as f64 * step_x + if j.rem_euclid(2) == 1 { step_x / 2.0 } else { 0.0 };
            let v = j as f64 * step_y;
            // Rotate (u, v) by 30° around the page centre.
            let x = page_w / 2.0 + u * cos - v * sin - width / 2.0 * cos;
            let y = page_h / 2.0 + u * sin + v * cos - width / 2.0 * sin;
            let mid = (x + width / 2.0 * cos, y + width / 2.0 * sin);
            if mid.0 < -width / 2.0 || mid.0 > page_w + width / 2.0 || mid.1 < -width / 2.0 || mid.1 > page_h + width / 2.0 {
                continue;
            }
            out.push_str(&format!("q {} {} {} {} {} {} cm /{WATERMARK} Do Q\n", n6(cos), n6(sin), n6(-sin), n6(cos), n(x), n(y)));
        }
    }
    out.push_str("Q\n");
    out
}

/// A QR code of `payload`, `size` points square, bottom-left at (`x`, `y`): black modules as
/// rectangles (horizontal runs merged). Error correction M (15 %).
pub(crate) fn qr(payload: &str, x: f64, y: f64, size: f64) -> Result<String, PdfError> {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M).map_err(|_| PdfError::QrTooLong)?;
    let width = code.width();
    let colors = code.to_colors();
    let module = size / width as f64;
    let mut out = String::from("q 0 g\n");
    for row in 0..width {
        let mut col = 0;
        while col < width {
            if colors[row * width + col] == qrcode::Color::Dark {
                let start = col;
                while col < width && colors[row * width + col] == qrcode::Color::Dark {
                    col += 1;
                }
                let top = y + size - row as f64 * module;
                out.push_str(&format!("{} {} {} {} re\n", n(x + start as f64 * module), n(top - module), n((col - start) as f64 * module), n(module)));
            } else {
                col += 1;
            }
        }
    }
    out.push_str("f\nQ\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(n(1.0), "1");
        assert_eq!(n(1.005_01), "1.01");
        assert_eq!(n(-0.001), "0");
        assert_eq!(n(595.276), "595.28");
        assert_eq!(n6(0.866_025_403), "0.866025");
    }

    #[test]
    fn qr_draws_finder_patterns() {
        let ops = qr("DL-2025-ABCD", 0.0, 0.0, 100.0).expect("qr");
        let code = qrcode::QrCode::with_error_correction_level(b"DL-2025-ABCD", qrcode::EcLevel::M).expect("qr");
        let module = 100.0 / code.width() as f64;
        // The top-left finder pattern's top row is a run of 7 dark modules from the corner.
        assert!(ops.contains(&format!("0 {} {} {} re\n", n(100.0 - module), n(7.0 * module), n(module))), "{ops}");
        assert!(ops.ends_with("f\nQ\n"));
        let too_long = "x".repeat(5000);
        assert!(matches!(qr(&too_long, 0.0, 0.0, 10.0), Err(PdfError::QrTooLong)));
    }

    #[test]
    fn watermark_grid_covers_the_page() {
        let ops = watermark_grid(595.28, 841.89, 300.0);
        let placements = ops.matches("/Wm Do").count();
        // An A4 page with a 360 × 120 pt staggered grid holds well over ten copies.
        assert!((10..=60).contains(&placements), "{placements}");
        assert!(ops.starts_with("q /GSwm gs\n") && ops.ends_with("Q\n"));
        assert!(ops.contains("0.866025 0.5 -0.5 0.866025 "));
    }
}
