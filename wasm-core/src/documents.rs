//! Official documents (issue #10): each declaration's PDF print (报关单打印件), its receipts
//! (回执) and its attached documents list (随附单证), as the worker and the host exchange them.
//!
//! # The flow
//!
//! ```text
//! worker                                   host (native-host/src/store/documents.rs)
//!   documents_plan {task} ───────────────▶ marks the task "with documents", stores the
//!                                          attachments list from each stored detail, answers
//!   ◀──────────── {pending: [PendingDocument]}   what is still missing for the current updateTime
//!   fetch the print / the receipts (portal)
//!   check_pdf(bytes) ── not a PDF: retry ─▶ (never stored)
//!   document_save {cusCiqNo, updateTime, kind, base64|content} ─▶ file on disk + sha256 row
//!   task_finish ─────────────────────────▶ the fourth count: PDFs stored = declarations with 报关单号
//! ```
//!
//! A document is keyed by (统一编号, kind) and remembers the declaration's `updateTime` it was
//! fetched for: a declaration that changed (new status, new receipt) is "missing" again, so a
//! later pass fetches it again, and a restart fetches only what is missing (idempotent).
//!
//! # What counts as a PDF
//!
//! [`check_pdf`]: the bytes start with `%PDF-` and end (trailing whitespace aside) with
//! `%%EOF`. The portal answers an expired session with its HTML login page (status 200) and a
//! cut connection with a truncated file: both fail the check and are retried, never stored.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::task::TaskNumber;

/// The largest PDF the worker sends in one `document_save`: base64 grows it by 4/3, and the
/// whole request must stay under [`MAX_REQUEST_FRAME`](crate::protocol::MAX_REQUEST_FRAME)
/// (8 MiB) with room for the other fields. Larger prints are refused (error 1003) with this
/// limit named.
pub const MAX_PDF_BYTES: usize = 6 * 1024 * 1024;

/// The three kinds of document a declaration has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// 报关单打印件: a PDF file on disk.
    Pdf,
    /// 回执: the receipts history, JSON.
    Receipts,
    /// 随附单证: the attached documents list, JSON (from the detail's `preDecDocVo`).
    Attachments,
}

impl DocumentKind {
    /// The name stored in the `document` table.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "pdf",
            DocumentKind::Receipts => "receipts",
            DocumentKind::Attachments => "attachments",
        }
    }

    /// The kind of a stored name.
    pub fn parse(name: &str) -> Option<DocumentKind> {
        match name {
            "pdf" => Some(DocumentKind::Pdf),
            "receipts" => Some(DocumentKind::Receipts),
            "attachments" => Some(DocumentKind::Attachments),
            _ => None,
        }
    }
}

/// Why bytes that should be a PDF are not one (each is a retryable fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotPdf {
    #[error("答复为空")]
    Empty,
    /// HTML (the login page) or anything else without the header.
    #[error("缺少 %PDF- 文件头")]
    NoHeader,
    /// The file was cut short.
    #[error("缺少 %%EOF 结尾，文件被截断")]
    NoTrailer,
    #[error("超过 {MAX_PDF_BYTES} 字节")]
    TooLarge,
}

/// Checks that `bytes` are a whole PDF file (see the module docs).
pub fn check_pdf(bytes: &[u8]) -> Result<(), NotPdf> {
    if bytes.is_empty() {
        return Err(NotPdf::Empty);
    }
    if bytes.len() > MAX_PDF_BYTES {
        return Err(NotPdf::TooLarge);
    }
    if !bytes.starts_with(b"%PDF-") {
        return Err(NotPdf::NoHeader);
    }
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    if !bytes[..end].ends_with(b"%%EOF") {
        return Err(NotPdf::NoTrailer);
    }
    Ok(())
}

/// The print as JSON (`data.pdf` = base64 of the PDF): text survives `fetch` as a string,
/// where raw PDF bytes would not.
pub fn pdf_json_path(cus_ciq_no: &str) -> String {
    format!("/decserver/entries/direct/ftl/1/0/0/{cus_ciq_no}.pdf")
}

/// The receipts (回执) of a declaration, oldest first.
pub fn receipts_path(cus_ciq_no: &str) -> String {
    format!("/decserver/sw/dec/common/queryCusDecRet?cusCiqNo={cus_ciq_no}&limit=200&offset=0&stOrder=asc")
}

/// Why a document answer cannot be stored (all retryable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentFault {
    /// The portal's answer failed (HTTP error, HTML, network…): its description.
    #[error("{0}")]
    Portal(String),
    #[error("答复不是有效的 JSON")]
    Malformed,
    #[error("单一窗口提示：{0}")]
    Refused(String),
    #[error("打印件不是完整的 PDF（{0}）")]
    NotPdf(NotPdf),
}

/// The PDF bytes of a [`pdf_json_path`] answer, checked with [`check_pdf`], and their base64.
pub fn parse_pdf_json(body: &str) -> Result<(Vec<u8>, String), DocumentFault> {
    use base64::Engine as _;
    let value: Value = serde_json::from_str(body).map_err(|_| DocumentFault::Malformed)?;
    if value.get("ok").and_then(Value::as_bool) != Some(true) {
        let message = value.pointer("/messageList/0").and_then(Value::as_str).unwrap_or("未找到报关单打印文件");
        return Err(DocumentFault::Refused(message.to_owned()));
    }
    let text = value.pointer("/data/pdf").and_then(Value::as_str).ok_or(DocumentFault::Malformed)?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| DocumentFault::Malformed)?;
    check_pdf(&bytes).map_err(DocumentFault::NotPdf)?;
    Ok((bytes, text.to_owned()))
}

/// The receipts rows of a [`receipts_path`] answer: `[{seq, noticeDate, channelName, note, …}]`.
pub fn parse_receipts(body: &str) -> Result<Value, DocumentFault> {
    let value: Value = serde_json::from_str(body).map_err(|_| DocumentFault::Malformed)?;
    match value.get("rows") {
        Some(rows @ Value::Array(_)) => Ok(rows.clone()),
        _ => Err(DocumentFault::Malformed),
    }
}

/// How long to wait before retry `attempt` (1, 2, …) of a document: 0.5 s doubling, at most 8 s.
pub fn retry_delay_ms(attempt: u32) -> u32 {
    500u32.saturating_mul(1 << attempt.saturating_sub(1).min(4)).min(8_000)
}

/// Tries per document before the documents phase gives it up (the fourth count then shows it).
pub const MAX_DOCUMENT_TRIES: u32 = 12;

/// `documents_plan`: the task (a sync with documents, or a 补采 of a finished one) wants the
/// documents of its reconciled declarations that have a 报关单号.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentsPlan {
    pub task: TaskNumber,
}

/// A declaration whose documents are not all stored for its current `updateTime`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingDocument {
    pub cus_ciq_no: String,
    pub entry_id: String,
    pub update_time: String,
    /// The kinds to fetch (`pdf`, `receipts`); attachments come with the detail.
    pub missing: Vec<DocumentKind>,
}

/// The reply of `documents_plan`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentsPending {
    pub pending: Vec<PendingDocument>,
    /// Declarations of the task with a 报关单号 (the fourth count's target).
    pub entries: u64,
    /// Of them, those whose PDF is stored for the current `updateTime`.
    pub stored: u64,
}

/// `document_save`: one document of one declaration. A PDF comes as `base64` (checked again
/// by the host with [`check_pdf`]); receipts and attachments as `content` (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentSave {
    pub task: TaskNumber,
    pub cus_ciq_no: String,
    /// The declaration's `updateTime` the document was fetched for.
    pub update_time: String,
    pub kind: DocumentKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
}

/// What the store holds of one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentInfo {
    pub cus_ciq_no: String,
    pub kind: DocumentKind,
    pub update_time: String,
    /// The PDF's path relative to the database's folder (`documents/<scc>/<YYYY>/<MM>/<进口|出口>/<报关单号>.pdf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Lowercase hex SHA-256 of the PDF's bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Receipts or attachments (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
    pub fetched_at: String,
}

/// `document_get`: one document; with `kind: pdf` the reply carries the file as base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentRef {
    pub cus_ciq_no: String,
    pub kind: DocumentKind,
}

/// The reply of `document_get` (`null` when the store has none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentFile {
    #[serde(flatten)]
    pub info: DocumentInfo,
    /// The PDF's bytes (only for `pdf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

/// `documents_export`: the PDFs of a task, or of a month (`2026-01`, by 申报日期's period),
/// as a ZIP with an index (`index.csv`, UTF-8 with a BOM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentsExport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
}

/// The reply of `documents_export`: the ZIP (large ones arrive as reply chunks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentsZip {
    pub file_name: String,
    pub mime: String,
    pub base64: String,
    pub bytes: u64,
    /// PDFs in the ZIP.
    pub files: u64,
}

/// The fourth count of a period or a task that asked for documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentCounts {
    /// Declarations with a 报关单号.
    pub entries: u64,
    /// PDFs stored for their current `updateTime`.
    pub stored: u64,
}

impl DocumentCounts {
    pub fn agree(&self) -> bool {
        self.entries == self.stored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_needs_its_header_and_its_trailer() {
        assert_eq!(check_pdf(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n"), Ok(()));
        assert_eq!(check_pdf(b"%PDF-1.4\n%%EOF"), Ok(()));
        assert_eq!(check_pdf(b""), Err(NotPdf::Empty));
        assert_eq!(check_pdf(b"<!DOCTYPE html><html><input id=\"password\"></html>"), Err(NotPdf::NoHeader));
        assert_eq!(check_pdf(b"%PDF-1.4\n1 0 obj\n<<>>\nendo"), Err(NotPdf::NoTrailer));
        let big = [b"%PDF-".as_slice(), &vec![b' '; MAX_PDF_BYTES], b"%%EOF"].concat();
        assert_eq!(check_pdf(&big), Err(NotPdf::TooLarge));
    }

    #[test]
    fn the_json_print_is_checked_and_receipts_read() {
        use base64::Engine as _;
        let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(pdf);
        let ok = format!(r#"{{"ok":true,"messageList":[],"data":{{"pdf":"{b64}"}}}}"#);
        assert_eq!(parse_pdf_json(&ok), Ok((pdf.to_vec(), b64)));
        let cut = base64::engine::general_purpose::STANDARD.encode(&pdf[..20]);
        let cut = format!(r#"{{"ok":true,"data":{{"pdf":"{cut}"}}}}"#);
        assert_eq!(parse_pdf_json(&cut), Err(DocumentFault::NotPdf(NotPdf::NoTrailer)));
        let none = r#"{"ok":false,"messageList":["未找到报关单打印文件"]}"#;
        assert_eq!(parse_pdf_json(none), Err(DocumentFault::Refused("未找到报关单打印文件".into())));
        assert_eq!(parse_pdf_json("<html>login</html>"), Err(DocumentFault::Malformed));
        let receipts = r#"{"total":"2","rows":[{"seq":1,"note":"申报成功"},{"seq":2,"note":"海关入库成功"}]}"#;
        assert_eq!(parse_receipts(receipts).ok().map(|r| r.as_array().map(Vec::len)), Some(Some(2)));
        assert_eq!(parse_receipts(r#"{"total":"0"}"#), Err(DocumentFault::Malformed));
        assert_eq!(pdf_json_path("I1"), "/decserver/entries/direct/ftl/1/0/0/I1.pdf");
        assert!(receipts_path("I1").starts_with("/decserver/sw/dec/common/queryCusDecRet?cusCiqNo=I1&"));
        assert_eq!([1, 2, 3, 5, 9].map(retry_delay_ms), [500, 1000, 2000, 8000, 8000]);
    }

    #[test]
    fn the_requests_decode_by_their_type() {
        use crate::protocol::{decode_request, Request};
        for name in ["documents_plan", "document_save", "document_get", "documents_export"] {
            assert!(Request::TYPES.contains(&name), "{name}");
        }
        let get = decode_request(br#"{"id":1,"type":"document_get","cusCiqNo":"I1","kind":"receipts"}"#).map(|e| e.body);
        assert_eq!(get, Ok(Request::DocumentGet(DocumentRef { cus_ciq_no: "I1".into(), kind: DocumentKind::Receipts })));
        let export = decode_request(br#"{"id":2,"type":"documents_export","month":"2026-01"}"#).map(|e| e.body);
        assert_eq!(export, Ok(Request::DocumentsExport(DocumentsExport { task: None, month: Some("2026-01".into()) })));
        let plan = decode_request(br#"{"id":3,"type":"documents_plan","task":"20260105100000001"}"#).map(|e| e.body);
        assert_eq!(plan, Ok(Request::DocumentsPlan(DocumentsPlan { task: TaskNumber("20260105100000001".into()) })));
    }

    #[test]
    fn kinds_round_trip_by_name() {
        for kind in [DocumentKind::Pdf, DocumentKind::Receipts, DocumentKind::Attachments] {
            assert_eq!(DocumentKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).ok(), Some(Value::String(kind.as_str().into())));
        }
        assert_eq!(DocumentKind::parse("xml"), None);
    }

    #[test]
    fn a_save_request_reads_as_the_worker_writes_it() {
        let json =
            r#"{"task":"20260105100000001","cusCiqNo":"I1","updateTime":"2026-01-05 10:00:00","kind":"pdf","base64":"JVBERi0="}"#;
        let save: DocumentSave = serde_json::from_str(json).expect("valid");
        assert_eq!(save.kind, DocumentKind::Pdf);
        assert_eq!(save.base64.as_deref(), Some("JVBERi0="));
        assert_eq!(save.content, None);
    }
}
