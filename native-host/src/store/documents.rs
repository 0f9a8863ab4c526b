//! Official documents (issue #10): each declaration's PDF print on disk, its receipts and its
//! attached documents list in the `document` table, and the ZIP export.
//!
//! # Where the files are
//!
//! Next to the database, in a tree a person can browse:
//!
//! ```text
//! <db folder>/documents/<统一社会信用代码 or "default">/<YYYY>/<MM>/<进口|出口>/<报关单号>.pdf
//! ```
//!
//! The enterprise is the task's (`task.enterprise_scc`), the month the 申报日期's (the detail's
//! `dDate`, else the 进出口日期). A file is written to a temporary name in its folder, synced and
//! renamed, so a crash leaves either the old file or the new one, never half of one; folders
//! are `0700` and files `0600` on Unix, like the database. The `document` row keeps the path
//! (relative to the database's folder), the SHA-256 and the size; `document_get` checks the hash
//! again when it reads the file back.
//!
//! # Which documents are "stored"
//!
//! A document row remembers the declaration's `updateTime` it was fetched for. It counts only
//! while that is still the declaration's `update_time`: a declaration that changed needs its
//! print and receipts again. [`Store::documents_plan`] answers what is missing, so a worker
//! that restarts fetches only that (resumable, idempotent: saving the same document twice
//! writes the same file and the same row).
//!
//! The attachments list (随附单证) is the detail's `preDecDocVo`, which `detail_save` already
//! stored in `declaration.documents`: `documents_plan` copies it into an `attachments` row,
//! without asking the portal.
//!
//! # The fourth count
//!
//! For a task marked `with_documents` (by `documents_plan`), [`period_counts`] counts per
//! period the declarations with a 报关单号 and, of them, those whose PDF is stored for the
//! current version; `report.rs` shows it and 执行完毕 needs both equal.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use datalink_core::documents::{
    check_pdf, DocumentCounts, DocumentFile, DocumentInfo, DocumentKind, DocumentRef, DocumentSave, DocumentsExport,
    DocumentsPending, DocumentsPlan, DocumentsZip, NotPdf, PendingDocument, MAX_PDF_BYTES,
};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use super::{uint, Result, Store, StoreError};

/// The folder under the database's folder that holds the PDFs.
pub const DOCUMENTS_FOLDER: &str = "documents";

/// Whether the task asked for documents.
pub(crate) fn with_documents(conn: &Connection, task: &str) -> Result<bool> {
    let flag: Option<i64> =
        conn.prepare_cached("SELECT with_documents FROM task WHERE number = ?1")?.query_row([task], |r| r.get(0)).optional()?;
    Ok(flag == Some(1))
}

/// Per period: declarations of the task with a 报关单号, and those whose PDF is stored for their
/// current `update_time`.
pub(crate) fn period_counts(conn: &Connection, task: &str) -> Result<BTreeMap<String, DocumentCounts>> {
    let rows = conn
        .prepare_cached(
            "SELECT t.period, count(*), count(doc.cus_ciq_no)
             FROM task_declaration t JOIN declaration d ON d.cus_ciq_no = t.cus_ciq_no
             LEFT JOIN document doc ON doc.cus_ciq_no = t.cus_ciq_no AND doc.kind = 'pdf' AND doc.update_time = d.update_time
             WHERE t.task = ?1 AND COALESCE(d.detail_entry_id, d.entry_id, '') != ''
             GROUP BY t.period",
        )?
        .query_map([task], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .map(|(period, entries, stored)| (period, DocumentCounts { entries: uint(entries), stored: uint(stored) }))
        .collect())
}

/// The task's fourth count over all periods, `None` for a task without documents (协同记录).
pub(crate) fn task_documents(conn: &Connection, task: &str) -> Result<Option<DocumentCounts>> {
    if !with_documents(conn, task)? {
        return Ok(None);
    }
    let sum = period_counts(conn, task)?
        .into_values()
        .fold(DocumentCounts::default(), |a, c| DocumentCounts { entries: a.entries + c.entries, stored: a.stored + c.stored });
    Ok(Some(sum))
}

/// What the store knows of one declaration, to place and describe its documents.
struct Declaration {
    entry_id: String,
    ie_flag: String,
    /// `YYYY-MM-DD` or `YYYYMMDD`: the 申报日期, else the 进出口日期.
    date: String,
}

fn load_declaration(conn: &Connection, cus_ciq_no: &str) -> Result<Option<Declaration>> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(detail_entry_id, entry_id, ''), ie_flag, COALESCE(declaration_date, ie_date)
             FROM declaration WHERE cus_ciq_no = ?1",
        )?
        .query_row([cus_ciq_no], |r| Ok(Declaration { entry_id: r.get(0)?, ie_flag: r.get(1)?, date: r.get(2)? }))
        .optional()?)
}

/// A path component made of ASCII letters and digits only (报关单号, 统一社会信用代码).
fn safe_component(text: &str, what: &str) -> Result<String> {
    if text.is_empty() || text.len() > 40 || !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(StoreError::Invalid(format!("{what} is not a plain code")));
    }
    Ok(text.to_owned())
}

/// `documents/<scc>/<YYYY>/<MM>/<进口|出口>/<报关单号>.pdf`, relative to the database's folder.
fn relative_path(scc: Option<&str>, declaration: &Declaration) -> Result<PathBuf> {
    let enterprise = match scc.filter(|s| !s.is_empty()) {
        Some(scc) => safe_component(scc, "the enterprise code")?,
        None => "default".to_owned(),
    };
    let digits: String = declaration.date.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return Err(StoreError::Invalid("the declaration has no date".into()));
    }
    let direction = if declaration.ie_flag == "E" { "出口" } else { "进口" };
    let file = format!("{}.pdf", safe_component(&declaration.entry_id, "the 报关单号")?);
    Ok([DOCUMENTS_FOLDER, &enterprise, &digits[..4], &digits[4..6], direction, &file].iter().collect())
}

/// Creates `dir` and its parents, `0700` on Unix.
fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder (`0600`), synced,
/// then renamed over the target.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().ok_or_else(|| StoreError::Internal("a document path without a folder".into()))?;
    create_private_dir(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = (|| -> std::io::Result<()> {
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e.into());
    }
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A `document` row: 统一编号, kind, update_time, path, sha256, bytes, content, fetched_at.
type InfoRow = (String, String, String, Option<String>, Option<String>, Option<i64>, Option<String>, String);

fn info_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InfoRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
}

fn load_info(conn: &Connection, cus_ciq_no: &str, kind: DocumentKind) -> Result<Option<DocumentInfo>> {
    let found = conn
        .prepare_cached(
            "SELECT cus_ciq_no, kind, update_time, path, sha256, bytes, content, fetched_at FROM document WHERE cus_ciq_no = ?1 AND kind = ?2",
        )?
        .query_row(params![cus_ciq_no, kind.as_str()], info_row)
        .optional()?;
    let Some((cus_ciq_no, _, update_time, path, sha256, bytes, content, fetched_at)) = found else {
        return Ok(None);
    };
    Ok(Some(DocumentInfo {
        cus_ciq_no,
        kind,
        update_time,
        path,
        sha256,
        bytes: bytes.map(uint),
        content: content.as_deref().map(serde_json::from_str).transpose()?,
        fetched_at,
    }))
}

/// Text for one CSV field (quoted when it holds a comma, a quote or a line break).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

impl Store {
    /// Where the relative `path` of a document is on disk.
    fn document_file(&self, path: &str) -> PathBuf {
        self.folder.join(path)
    }

    /// `documents_plan`: marks the task "with documents", stores the attachments lists its
    /// details carry, and answers what is still missing (print, receipts) for the current
    /// version of each reconciled declaration with a 报关单号.
    pub fn documents_plan(&mut self, request: &DocumentsPlan) -> Result<DocumentsPending> {
        self.write(|tx| {
            let changed = tx.prepare_cached("UPDATE task SET with_documents = 1 WHERE number = ?1")?.execute([&request.task.0])?;
            if changed == 0 {
                return Err(StoreError::TaskNotFound(request.task.0.clone()));
            }
            // 随附单证 from the stored details (same version only).
            tx.prepare_cached(
                "INSERT INTO document (cus_ciq_no, kind, update_time, content, fetched_at)
                 SELECT d.cus_ciq_no, 'attachments', d.update_time, d.documents, strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime')
                 FROM task_declaration t JOIN declaration d ON d.cus_ciq_no = t.cus_ciq_no
                 WHERE t.task = ?1 AND t.reconciled = 1 AND d.documents IS NOT NULL AND d.detail_update_time = d.update_time
                   AND COALESCE(d.detail_entry_id, d.entry_id, '') != ''
                 ON CONFLICT (cus_ciq_no, kind) DO UPDATE SET update_time = excluded.update_time, content = excluded.content,
                    fetched_at = excluded.fetched_at
                 WHERE document.update_time != excluded.update_time OR document.content IS NOT excluded.content",
            )?
            .execute([&request.task.0])?;
            let rows = tx
                .prepare_cached(
                    "SELECT d.cus_ciq_no, COALESCE(d.detail_entry_id, d.entry_id), d.update_time,
                            EXISTS (SELECT 1 FROM document WHERE cus_ciq_no = d.cus_ciq_no AND kind = 'pdf' AND update_time = d.update_time),
                            EXISTS (SELECT 1 FROM document WHERE cus_ciq_no = d.cus_ciq_no AND kind = 'receipts' AND update_time = d.update_time)
                     FROM task_declaration t JOIN declaration d ON d.cus_ciq_no = t.cus_ciq_no
                     WHERE t.task = ?1 AND t.reconciled = 1 AND COALESCE(d.detail_entry_id, d.entry_id, '') != ''
                     ORDER BY t.period, d.cus_ciq_no",
                )?
                .query_map([&request.task.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?, r.get::<_, bool>(4)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut pending = Vec::new();
            for (cus_ciq_no, entry_id, update_time, pdf, receipts) in rows {
                let missing: Vec<DocumentKind> =
                    [(pdf, DocumentKind::Pdf), (receipts, DocumentKind::Receipts)].into_iter().filter(|(has, _)| !has).map(|(_, k)| k).collect();
                if !missing.is_empty() {
                    pending.push(PendingDocument { cus_ciq_no, entry_id, update_time, missing });
                }
            }
            let counts = task_documents(tx, &request.task.0)?.unwrap_or_default();
            Ok(DocumentsPending { pending, entries: counts.entries, stored: counts.stored })
        })
    }

    /// `document_save`: a PDF becomes a file (checked to be a whole PDF first), receipts and
    /// attachments a JSON row. Saving the same document again changes nothing.
    pub fn document_save(&mut self, request: &DocumentSave) -> Result<DocumentInfo> {
        let folder = self.folder.clone();
        self.write(|tx| {
            let scc: Option<Option<String>> = tx
                .prepare_cached("SELECT enterprise_scc FROM task WHERE number = ?1")?
                .query_row([&request.task.0], |r| r.get(0))
                .optional()?;
            let Some(scc) = scc else {
                return Err(StoreError::TaskNotFound(request.task.0.clone()));
            };
            let declaration = load_declaration(tx, &request.cus_ciq_no)?
                .ok_or_else(|| StoreError::Invalid("the store has no such declaration".into()))?;
            match request.kind {
                DocumentKind::Pdf => {
                    let text = request.base64.as_deref().ok_or_else(|| StoreError::Invalid("a PDF needs base64".into()))?;
                    if text.len() / 4 * 3 > MAX_PDF_BYTES + 3 {
                        return Err(StoreError::DocumentTooLarge(format!("more than {MAX_PDF_BYTES} bytes")));
                    }
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .map_err(|_| StoreError::DocumentNotPdf("not valid base64".into()))?;
                    check_pdf(&bytes).map_err(|e| match e {
                        NotPdf::TooLarge => StoreError::DocumentTooLarge(e.to_string()),
                        _ => StoreError::DocumentNotPdf(e.to_string()),
                    })?;
                    let relative = relative_path(scc.as_deref(), &declaration)?;
                    let sha256 = sha256_hex(&bytes);
                    write_atomically(&folder.join(&relative), &bytes)?;
                    let path = relative.iter().map(|c| c.to_string_lossy()).collect::<Vec<_>>().join("/");
                    tx.prepare_cached(
                        "INSERT INTO document (cus_ciq_no, kind, update_time, path, sha256, bytes, content, fetched_at)
                         VALUES (?1, 'pdf', ?2, ?3, ?4, ?5, NULL, strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime'))
                         ON CONFLICT (cus_ciq_no, kind) DO UPDATE SET update_time = excluded.update_time, path = excluded.path,
                            sha256 = excluded.sha256, bytes = excluded.bytes, fetched_at = excluded.fetched_at",
                    )?
                    .execute(params![request.cus_ciq_no, request.update_time, path, sha256, super::int(bytes.len() as u64)?])?;
                }
                DocumentKind::Receipts | DocumentKind::Attachments => {
                    let content = request.content.as_ref().ok_or_else(|| StoreError::Invalid("receipts need content".into()))?;
                    tx.prepare_cached(
                        "INSERT INTO document (cus_ciq_no, kind, update_time, content, fetched_at)
                         VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime'))
                         ON CONFLICT (cus_ciq_no, kind) DO UPDATE SET update_time = excluded.update_time, content = excluded.content,
                            fetched_at = excluded.fetched_at",
                    )?
                    .execute(params![request.cus_ciq_no, request.kind.as_str(), request.update_time, serde_json::to_string(content)?])?;
                }
            }
            load_info(tx, &request.cus_ciq_no, request.kind)?.ok_or_else(|| StoreError::Internal("the document row vanished".into()))
        })
    }

    /// `document_get`: one stored document; a PDF with its bytes (its hash checked).
    pub fn document_get(&self, request: &DocumentRef) -> Result<Option<DocumentFile>> {
        let Some(info) = self.read(|conn| load_info(conn, &request.cus_ciq_no, request.kind))? else {
            return Ok(None);
        };
        let base64 = match (&info.path, request.kind) {
            (Some(path), DocumentKind::Pdf) => {
                Some(base64::engine::general_purpose::STANDARD.encode(self.read_pdf(path, info.sha256.as_deref())?))
            }
            _ => None,
        };
        Ok(Some(DocumentFile { info, base64 }))
    }

    /// The bytes of a stored PDF, refused when they no longer have the recorded hash.
    fn read_pdf(&self, path: &str, sha256: Option<&str>) -> Result<Vec<u8>> {
        let bytes = std::fs::read(self.document_file(path))?;
        if sha256 != Some(sha256_hex(&bytes).as_str()) {
            return Err(StoreError::Corrupt("a document file does not have its recorded hash".into()));
        }
        Ok(bytes)
    }

    /// `documents_export`: the stored PDFs of a task (or of a month by 申报日期) as a ZIP:
    /// `<报关单号>.pdf` each, and `index.csv` (UTF-8 with a BOM) listing 统一编号, 报关单号, 进出口,
    /// 申报日期, 状态, SHA-256 and the file name.
    pub fn documents_export(&self, request: &DocumentsExport) -> Result<DocumentsZip> {
        type Row = (String, String, String, String, String, String, String);
        let rows: Vec<Row> = self.read(|conn| {
            let base = "SELECT d.cus_ciq_no, COALESCE(d.detail_entry_id, d.entry_id), d.ie_flag, COALESCE(d.declaration_date, d.ie_date),
                               COALESCE(json_extract(d.list_row, '$.statusName'), d.status), doc.sha256, doc.path
                        FROM declaration d JOIN document doc ON doc.cus_ciq_no = d.cus_ciq_no AND doc.kind = 'pdf' AND doc.update_time = d.update_time";
            let map = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?));
            match (&request.task, &request.month) {
                (Some(task), _) => {
                    super::tasks::load_task(conn, task)?;
                    Ok(conn
                        .prepare(&format!("{base} JOIN task_declaration t ON t.cus_ciq_no = d.cus_ciq_no WHERE t.task = ?1 ORDER BY d.cus_ciq_no"))?
                        .query_map([&task.0], map)?
                        .collect::<rusqlite::Result<Vec<_>>>()?)
                }
                (None, Some(month)) => {
                    let digits: String = month.chars().filter(char::is_ascii_digit).collect();
                    if digits.len() != 6 {
                        return Err(StoreError::Invalid("a month is YYYY-MM".into()));
                    }
                    Ok(conn
                        .prepare(&format!(
                            "{base} WHERE substr(replace(COALESCE(d.declaration_date, d.ie_date), '-', ''), 1, 6) = ?1 ORDER BY d.cus_ciq_no"
                        ))?
                        .query_map([&digits], map)?
                        .collect::<rusqlite::Result<Vec<_>>>()?)
                }
                (None, None) => Err(StoreError::Invalid("a task or a month".into())),
            }
        })?;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let mut index = String::from("\u{feff}统一编号,报关单号,进出口,申报日期,状态,SHA-256,文件\r\n");
        let zip_error = |e: zip::result::ZipError| StoreError::Internal(format!("zip: {e}"));
        for (cus_ciq_no, entry_id, ie_flag, date, status, sha256, path) in &rows {
            let bytes = self.read_pdf(path, Some(sha256))?;
            let name = format!("{}.pdf", safe_component(entry_id, "the 报关单号")?);
            zip.start_file(name.as_str(), stored).map_err(zip_error)?;
            zip.write_all(&bytes)?;
            let direction = if ie_flag == "E" { "出口" } else { "进口" };
            let line = [cus_ciq_no.as_str(), entry_id, direction, date, status, sha256, &name].map(csv_field).join(",");
            index.push_str(&line);
            index.push_str("\r\n");
        }
        zip.start_file("index.csv", deflated).map_err(zip_error)?;
        zip.write_all(index.as_bytes())?;
        let bytes = zip.finish().map_err(zip_error)?.into_inner();
        let scope = match (&request.task, &request.month) {
            (Some(task), _) => task.0.clone(),
            (None, month) => month.clone().unwrap_or_default(),
        };
        Ok(DocumentsZip {
            file_name: format!("报关单打印件-{scope}.zip"),
            mime: "application/zip".into(),
            base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
            bytes: bytes.len() as u64,
            files: rows.len() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::*;
    use datalink_core::checkpoint::TaskFinish;
    use datalink_core::task::{TaskNumber, TaskState};
    use std::io::Read;

    fn plan(task: &TaskNumber) -> DocumentsPlan {
        DocumentsPlan { task: task.clone() }
    }

    fn pdf(n: u32) -> Vec<u8> {
        format!("%PDF-1.4\n1 0 obj\n<< /Title (I{n}) >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n").into_bytes()
    }

    fn save_pdf(task: &TaskNumber, cus_ciq_no: &str, update_time: &str, bytes: &[u8]) -> DocumentSave {
        DocumentSave {
            task: task.clone(),
            cus_ciq_no: cus_ciq_no.into(),
            update_time: update_time.into(),
            kind: DocumentKind::Pdf,
            base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            content: None,
        }
    }

    fn save_receipts(task: &TaskNumber, cus_ciq_no: &str, update_time: &str) -> DocumentSave {
        DocumentSave {
            task: task.clone(),
            cus_ciq_no: cus_ciq_no.into(),
            update_time: update_time.into(),
            kind: DocumentKind::Receipts,
            base64: None,
            content: Some(serde_json::json!([{"noticeDate": "2026-01-20 10:00:00", "channel": "海关", "note": "申报成功"}])),
        }
    }

    /// A January task with three reconciled declarations.
    fn synced(store: &mut Store) -> TaskNumber {
        let task = store.task_create(&create_one_stream("2026-01-01", "2026-01-31")).unwrap().number;
        let w = window("2026-01-01", "2026-01-31");
        let rows: Vec<_> = (1..=3).map(|i| row(&cus(i), "2026-01-28 10:00:00")).collect();
        store.list_page(&page(&task, &w, 1, 0, 3, rows.clone())).unwrap();
        store.window_done(&done(&task, &w, 1, 3)).unwrap();
        for r in &rows {
            assert!(store.detail_save(&save(&task, detail_for(r))).unwrap().reconciled);
        }
        task
    }

    fn finish_task(store: &mut Store, task: &TaskNumber) -> datalink_core::checkpoint::TaskReport {
        store.task_finish(&TaskFinish { task: task.clone(), now: time("2026-05-25 15:00:00") }).unwrap()
    }

    #[test]
    fn a_plan_lists_what_is_missing_and_stores_the_attachments() {
        let (_dir, mut store) = open();
        let task = synced(&mut store);
        let plan1 = store.documents_plan(&plan(&task)).unwrap();
        assert_eq!((plan1.entries, plan1.stored), (3, 0));
        assert_eq!(plan1.pending.len(), 3);
        assert_eq!(plan1.pending[0].cus_ciq_no, cus(1));
        assert_eq!(plan1.pending[0].entry_id, format!("6{}", &cus(1)[1..]));
        assert_eq!(plan1.pending[0].missing, [DocumentKind::Pdf, DocumentKind::Receipts]);
        let attachments =
            store.document_get(&DocumentRef { cus_ciq_no: cus(2), kind: DocumentKind::Attachments }).unwrap().unwrap();
        assert_eq!(attachments.info.content, Some(serde_json::json!([{"attEdocId": "x1", "attTypeCode": "00000004"}])));
        assert_eq!(attachments.base64, None);

        store.document_save(&save_pdf(&task, &cus(1), "2026-01-28 10:00:00", &pdf(1))).unwrap();
        store.document_save(&save_receipts(&task, &cus(2), "2026-01-28 10:00:00")).unwrap();
        let plan2 = store.documents_plan(&plan(&task)).unwrap();
        assert_eq!((plan2.entries, plan2.stored), (3, 1));
        let missing: Vec<(String, Vec<DocumentKind>)> = plan2.pending.into_iter().map(|p| (p.cus_ciq_no, p.missing)).collect();
        assert_eq!(
            missing,
            [
                (cus(1), vec![DocumentKind::Receipts]),
                (cus(2), vec![DocumentKind::Pdf]),
                (cus(3), vec![DocumentKind::Pdf, DocumentKind::Receipts])
            ]
        );
    }

    #[test]
    fn a_pdf_is_a_private_file_in_the_tree_with_its_hash() {
        let (dir, mut store) = open();
        let task = synced(&mut store);
        store.documents_plan(&plan(&task)).unwrap();
        let bytes = pdf(1);
        let info = store.document_save(&save_pdf(&task, &cus(1), "2026-01-28 10:00:00", &bytes)).unwrap();
        let entry = format!("6{}", &cus(1)[1..]);
        assert_eq!(info.path.as_deref(), Some(format!("documents/default/2026/01/进口/{entry}.pdf").as_str()));
        assert_eq!(info.sha256.as_deref(), Some(sha256_hex(&bytes).as_str()));
        assert_eq!(info.bytes, Some(bytes.len() as u64));
        let file = dir.path().join(info.path.as_deref().unwrap());
        assert_eq!(std::fs::read(&file).unwrap(), bytes);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(std::fs::metadata(file.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        }
        // No temporary file is left behind, and saving again is the same.
        let names: Vec<_> = std::fs::read_dir(file.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert_eq!(store.document_save(&save_pdf(&task, &cus(1), "2026-01-28 10:00:00", &bytes)).unwrap().sha256, info.sha256);
        let got = store.document_get(&DocumentRef { cus_ciq_no: cus(1), kind: DocumentKind::Pdf }).unwrap().unwrap();
        assert_eq!(base64::engine::general_purpose::STANDARD.decode(got.base64.unwrap()).unwrap(), bytes);
        // A file changed behind the store's back is refused.
        std::fs::write(&file, b"%PDF-1.4\nedited\n%%EOF").unwrap();
        let err = store.document_get(&DocumentRef { cus_ciq_no: cus(1), kind: DocumentKind::Pdf }).unwrap_err();
        assert_eq!(err.code(), datalink_core::error::ErrorCode::StoreCorrupt);
    }

    #[test]
    fn html_or_a_cut_pdf_is_never_stored() {
        let (dir, mut store) = open();
        let task = synced(&mut store);
        store.documents_plan(&plan(&task)).unwrap();
        let login = b"<!DOCTYPE html><html><body><input id=\"password\"></body></html>".to_vec();
        let mut cut = pdf(1);
        cut.truncate(20);
        for bad in [login, cut] {
            let err = store.document_save(&save_pdf(&task, &cus(1), "2026-01-28 10:00:00", &bad)).unwrap_err();
            assert_eq!(err.code(), datalink_core::error::ErrorCode::DocumentNotPdf, "{err}");
        }
        // Larger than the request cap allows: its own code, whatever the bytes.
        let big = [b"%PDF-1.4\n".as_slice(), &vec![b'0'; MAX_PDF_BYTES], b"\n%%EOF\n"].concat();
        let err = store.document_save(&save_pdf(&task, &cus(1), "2026-01-28 10:00:00", &big)).unwrap_err();
        assert_eq!(err.code(), datalink_core::error::ErrorCode::DocumentTooLarge, "{err}");
        assert_eq!(err.to_info().code, 2007);
        assert!(!dir.path().join(DOCUMENTS_FOLDER).join("default").exists());
        assert_eq!(store.documents_plan(&plan(&task)).unwrap().stored, 0);
    }

    #[test]
    fn the_fourth_count_decides_the_verdict() {
        let (_dir, mut store) = open();
        let task = synced(&mut store);
        store.documents_plan(&plan(&task)).unwrap();
        for i in 1..=2 {
            store.document_save(&save_pdf(&task, &cus(i), "2026-01-28 10:00:00", &pdf(i))).unwrap();
        }
        let report = finish_task(&mut store, &task);
        assert_eq!(report.task.state, TaskState::Failed);
        assert_eq!(report.documents, Some(DocumentCounts { entries: 3, stored: 2 }));
        assert_eq!(report.periods[0].documents, Some(DocumentCounts { entries: 3, stored: 2 }));
        assert_eq!(report.task.message.as_deref(), Some("2026-01 报关单打印件 2 份，应有 3 份"));
        store.document_save(&save_pdf(&task, &cus(3), "2026-01-28 10:00:00", &pdf(3))).unwrap();
        let report = finish_task(&mut store, &task);
        assert_eq!(report.task.state, TaskState::Completed, "{:?}", report.task.message);
        assert_eq!(report.documents, Some(DocumentCounts { entries: 3, stored: 3 }));
        assert_eq!(store.task_get(&task).unwrap().documents, Some(DocumentCounts { entries: 3, stored: 3 }), "协同记录 shows it");
        // A PDF of an older version does not count: the declaration changed since.
        store
            .list_page(&page(&task, &window("2026-01-01", "2026-01-31"), 2, 0, 3, vec![row(&cus(3), "2026-02-01 09:00:00")]))
            .unwrap();
        let counts = period_counts(store.connection(), &task.0).unwrap();
        assert_eq!(counts.get("2026-01").copied(), Some(DocumentCounts { entries: 3, stored: 2 }));
    }

    #[test]
    fn a_task_without_documents_has_no_fourth_count() {
        let (_dir, mut store) = open();
        let task = synced(&mut store);
        let report = finish_task(&mut store, &task);
        assert_eq!(report.task.state, TaskState::Completed);
        assert_eq!(report.documents, None);
        assert_eq!(report.periods[0].documents, None);
        assert_eq!(store.task_get(&task).unwrap().documents, None);
    }

    #[test]
    fn the_zip_holds_every_pdf_by_its_entry_id_and_an_index() {
        let (_dir, mut store) = open();
        let task = synced(&mut store);
        store.documents_plan(&plan(&task)).unwrap();
        for i in 1..=3 {
            store.document_save(&save_pdf(&task, &cus(i), "2026-01-28 10:00:00", &pdf(i))).unwrap();
        }
        for request in [
            DocumentsExport { task: Some(task.clone()), month: None },
            DocumentsExport { task: None, month: Some("2026-01".into()) },
        ] {
            let out = store.documents_export(&request).unwrap();
            assert_eq!(out.files, 3);
            let bytes = base64::engine::general_purpose::STANDARD.decode(&out.base64).unwrap();
            assert_eq!(out.bytes, bytes.len() as u64);
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
            assert_eq!(zip.len(), 4);
            for i in 1..=3 {
                let name = format!("6{}.pdf", &cus(i)[1..]);
                let mut body = Vec::new();
                zip.by_name(&name).unwrap().read_to_end(&mut body).unwrap();
                assert_eq!(body, pdf(i));
            }
            let mut index = String::new();
            zip.by_name("index.csv").unwrap().read_to_string(&mut index).unwrap();
            let lines: Vec<&str> = index.lines().collect();
            assert_eq!(lines[0], "\u{feff}统一编号,报关单号,进出口,申报日期,状态,SHA-256,文件");
            let entry = format!("6{}", &cus(1)[1..]);
            assert_eq!(lines[1], format!("{},{entry},进口,2026-01-20,结关,{},{entry}.pdf", cus(1), sha256_hex(&pdf(1))));
            assert_eq!(lines.len(), 4);
        }
        let none = store.documents_export(&DocumentsExport { task: None, month: Some("2026-02".into()) }).unwrap();
        assert_eq!(none.files, 0);
    }
}
