//! A small, valid, deterministic PDF for the declaration print.
//!
//! The real `GET /decserver/entries/ftl/1/0/0/{cusCiqNo}.pdf` returns the
//! printed 报关单 as `application/pdf;charset=UTF-8` (portal-api.md §3 \[C\]).
//! The simulator renders a one-page A4 PDF 1.4 with the built-in Helvetica
//! font listing the declaration's identifiers and goods lines. Non-ASCII text
//! (Chinese names) is left out because the base-14 fonts cannot show it; the
//! bytes depend only on the declaration, never on the clock.

use sha2::{Digest, Sha256};

use crate::model::{Declaration, Enterprise};

/// SHA-256 of `bytes` as 64 lowercase hex digits (the truth's `pdfSha256`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn pdf_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// The text lines printed for `d`.
fn lines(d: &Declaration, ent: &Enterprise) -> Vec<String> {
    let mut v = vec![
        "CUSTOMS DECLARATION (simulated print)".to_string(),
        String::new(),
        format!("cusCiqNo: {}", d.cus_ciq_no),
        format!("entryId: {}", d.entry_id.as_deref().unwrap_or("-")),
        format!(
            "cusIEFlag: {}   dclTrnRelFlag: {}   cusDecStatus: {}",
            d.cus_i_e_flag.code(),
            d.dcl_trn_rel_flag.code(),
            d.cus_dec_status.code()
        ),
        format!("iEDate: {}   dDate: {}", d.i_e_date, d.d_date),
        format!(
            "supvModeCdde: {}   customMaster: {}   iEPort: {}",
            d.supv_mode_cdde, d.custom_master, d.i_e_port
        ),
        format!("billNo: {}   contrNo: {}", d.bill_no, d.contr_no),
        format!(
            "trade country: {}   grossWt: {}   netWt: {}",
            d.cus_trade_nation_code, d.gross_wt, d.net_wt
        ),
        format!(
            "enterprise SCC: {}   customs code: {}",
            ent.scc, ent.customs_code
        ),
        String::new(),
        "gNo  codeTs      gQty  gUnit  declPrice  declTotal  tradeCurr".to_string(),
    ];
    for g in d.goods.iter().take(40) {
        v.push(format!(
            "{:<4} {} {} {} {} {} {}",
            g.g_no, g.code_ts, g.g_qty, g.g_unit, g.decl_price, g.decl_total, g.trade_curr
        ));
    }
    if d.goods.len() > 40 {
        v.push(format!("... {} more lines", d.goods.len() - 40));
    }
    v
}

/// The PDF bytes for `d`.
pub fn declaration_pdf(d: &Declaration, ent: &Enterprise) -> Vec<u8> {
    let mut content = String::from("BT\n/F1 10 Tf\n14 TL\n50 800 Td\n");
    for line in lines(d, ent) {
        content.push_str(&format!("({}) Tj T*\n", pdf_text(&line)));
    }
    content.push_str("ET");

    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        format!("<< /Length {} >>\nstream\n{}\nendstream", content.len(), content),
        format!("<< /Title ({}) /Producer (portal-sim) >>", pdf_text(&d.cus_ciq_no)),
    ];
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, body).as_bytes());
    }
    let xref_at = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{}\n%%EOF\n",
            objects.len() + 1,
            xref_at
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;

    #[test]
    fn pdf_structure_is_consistent() {
        let today = Date::parse("2025-06-30").unwrap();
        let data = crate::generate::generate(1, 5, today.add_days(-30), today, today);
        let d = &data.declarations[0];
        let pdf = declaration_pdf(d, &data.enterprise);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        assert_eq!(pdf, declaration_pdf(d, &data.enterprise));
        let find = |needle: &[u8], from: usize| {
            pdf[from..]
                .windows(needle.len())
                .position(|w| w == needle)
                .map(|p| p + from)
        };
        let rfind = |needle: &[u8]| pdf.windows(needle.len()).rposition(|w| w == needle);
        // startxref points at the xref keyword.
        let sx = rfind(b"startxref\n").unwrap() + 10;
        let end = find(b"\n", sx).unwrap();
        let at: usize = std::str::from_utf8(&pdf[sx..end]).unwrap().parse().unwrap();
        assert_eq!(&pdf[at..at + 5], b"xref\n");
        // Every xref entry is 20 bytes and points at "N 0 obj".
        let table = &pdf[at..];
        let text = std::str::from_utf8(table).unwrap();
        let entries: Vec<&str> = text.lines().skip(3).take(6).collect();
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(e.len() + 1, 20, "xref entries are 20 bytes");
            let off: usize = e[..10].parse().unwrap();
            let label = format!("{} 0 obj", i + 1);
            assert_eq!(&pdf[off..off + label.len()], label.as_bytes(), "{e}");
        }
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains(&d.cus_ciq_no));
        assert_eq!(pdf_text("a(b)\\c结"), "a\\(b\\)\\\\c?");
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
