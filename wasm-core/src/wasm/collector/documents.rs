//! The documents phase of a task (issue #10): after the engine's lists and details, before
//! `task_finish`, fetch each reconciled declaration's print (报关单打印件) and receipts (回执).
//!
//! ```text
//! task_report → documents asked for? ── no ──▶ (nothing)
//!      │ yes
//! documents_plan ─▶ pending: [{cusCiqNo, updateTime, missing: [pdf, receipts]}]
//!      │  (the host stored the attachments lists from the details already)
//!      ▼  up to `concurrency` declarations at once, rate-limited like the engine's requests
//! fetch …/entries/direct/ftl/1/0/0/{cusCiqNo}.pdf (JSON, base64) ── check_pdf ──▶ document_save
//! fetch …/queryCusDecRet?cusCiqNo=…                                 ───────────▶ document_save
//! ```
//!
//! * **Retryable faults.** An HTTP error, HTML instead of JSON, a truncated or unreadable PDF
//!   are retried with a growing delay (`retry_delay_ms`), each attempt logged in the 执行日志;
//!   after `MAX_DOCUMENT_TRIES` the declaration is left missing, which the fourth count shows
//!   (执行异常), and a 补采 fetches it later. Nothing that failed the check is ever sent to the
//!   host.
//! * **An expired session** (the login page) is checked with the session probe: a session
//!   still valid means a faulty answer (retried); a session really gone pauses the task as the
//!   engine's requests do ([`wait_for_login`]), one waiter at a time.
//! * **Resumable.** The plan is the store's answer to "what is missing for the current
//!   `updateTime`", so a restarted task (or a 补采) fetches only what is missing.

use std::cell::Cell;
use std::rc::Rc;

use futures::future::join_all;
use gloo::timers::future::TimeoutFuture;

use super::{decode, fetch, now_ms, portal_user, store, url, wait_for_login, Run};
use crate::checkpoint::{LogCategory, TaskRef, TaskReport};
use crate::documents::{
    parse_pdf_json, parse_receipts, pdf_json_path, receipts_path, retry_delay_ms, DocumentFault, DocumentKind, DocumentSave,
    DocumentsPending, DocumentsPlan, NotPdf, PendingDocument, MAX_DOCUMENT_TRIES,
};
use crate::error::{ErrorCode, ErrorInfo};
use crate::portal::PortalFault;
use crate::protocol::Request;

thread_local! {
    /// A document fetch is waiting for the login: the others wait for it instead of opening
    /// their own login tabs.
    static WAITING_FOR_LOGIN: Cell<bool> = const { Cell::new(false) };
}

fn kind_name(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Pdf => "报关单打印件",
        DocumentKind::Receipts => "回执",
        DocumentKind::Attachments => "随附单证",
    }
}

/// Runs the documents phase when the task asked for documents; `Ok` also when some documents
/// stayed missing (the fourth count tells), `Err` only when the store is lost.
pub(super) async fn phase(run: &Rc<Run>) -> Result<(), ErrorInfo> {
    let report: TaskReport = decode(store(Request::TaskReport(TaskRef { task: run.task.clone() })).await?)?;
    if report.documents.is_none() {
        return Ok(());
    }
    let plan: DocumentsPending = decode(store(Request::DocumentsPlan(DocumentsPlan { task: run.task.clone() })).await?)?;
    if plan.pending.is_empty() {
        run.log(LogCategory::Execute, format!("报关单打印件、回执和随附单证已齐全（{} 份打印件）", plan.stored));
        return Ok(());
    }
    run.log(
        LogCategory::Execute,
        format!(
            "开始下载报关单打印件、回执：{} 票待下载（已存 {} 份，应有 {} 份）",
            plan.pending.len(),
            plan.stored,
            plan.entries
        ),
    );
    run.flush_logs().await;
    let concurrency = run.settings.concurrency.clamp(1, 8) as usize;
    let mut given_up = 0usize;
    for chunk in plan.pending.chunks(concurrency) {
        if run.cancel.get() {
            return Ok(());
        }
        for done in join_all(chunk.iter().map(|pending| fetch_declaration(run, pending))).await {
            if !done? {
                given_up += 1;
            }
        }
        run.flush_logs().await;
    }
    if given_up > 0 {
        run.log(LogCategory::Error, format!("{given_up} 票报关单的打印件或回执多次下载失败，可在协同记录中补采"));
    }
    Ok(())
}

/// Fetches and stores what one declaration misses; `Ok(false)` when a document was given up.
async fn fetch_declaration(run: &Rc<Run>, pending: &PendingDocument) -> Result<bool, ErrorInfo> {
    let mut all = true;
    for kind in &pending.missing {
        all &= fetch_document(run, pending, *kind).await?;
    }
    Ok(all)
}

async fn fetch_document(run: &Rc<Run>, pending: &PendingDocument, kind: DocumentKind) -> Result<bool, ErrorInfo> {
    let path = match kind {
        DocumentKind::Pdf => pdf_json_path(&pending.cus_ciq_no),
        DocumentKind::Receipts => receipts_path(&pending.cus_ciq_no),
        // Stored by the host from the detail.
        DocumentKind::Attachments => return Ok(true),
    };
    let name = kind_name(kind);
    let timeout = run.settings.request_timeout_ms.max(1_000);
    let mut attempt = 0;
    loop {
        if run.cancel.get() {
            return Ok(false);
        }
        attempt += 1;
        // The engine's rate limit: one shared schedule of request slots.
        let interval = 1000.0 / run.settings.rate_per_second.max(0.1);
        let slot = run.next_start_ms.get().max(now_ms());
        run.next_start_ms.set(slot + interval);
        let wait = (slot - now_ms()).max(0.0) as u32;
        if wait > 0 {
            TimeoutFuture::new(wait).await;
        }
        let Ok(abort) = web_sys::AbortController::new() else {
            return Err(ErrorInfo::with_detail(ErrorCode::Internal, "AbortController unavailable"));
        };
        let answer = fetch::send(&url(&run.portal, &path), None, &abort, timeout).await;
        let outcome: Result<DocumentSave, DocumentFault> = match answer {
            Err(fault) => Err(DocumentFault::Portal(fault.to_string())),
            Ok(answer) => match run.checked(&answer) {
                Err(PortalFault::SessionExpired) => {
                    if portal_user(&run.portal).await.is_ok() {
                        // The session is fine: this one answer was the login page.
                        Err(DocumentFault::Portal("单一窗口返回了登录页面".to_owned()))
                    } else {
                        login_again(run).await?;
                        attempt -= 1;
                        continue;
                    }
                }
                Err(fault) => Err(DocumentFault::Portal(fault.to_string())),
                Ok(()) => {
                    let save = |base64: Option<String>, content: Option<serde_json::Value>| DocumentSave {
                        task: run.task.clone(),
                        cus_ciq_no: pending.cus_ciq_no.clone(),
                        update_time: pending.update_time.clone(),
                        kind,
                        base64,
                        content,
                    };
                    match kind {
                        DocumentKind::Pdf => parse_pdf_json(&answer.body).map(|(_, base64)| save(Some(base64), None)),
                        _ => parse_receipts(&answer.body).map(|rows| save(None, Some(rows))),
                    }
                }
            },
        };
        let reason = match outcome {
            Ok(save) => match store(Request::DocumentSave(save)).await {
                Ok(_) => return Ok(true),
                // The host refused this document (it checks the PDF again): retry the fetch.
                Err(e) if e.error_code() == Some(ErrorCode::DocumentNotPdf) => e.message,
                // Too large for the request cap: fetching it again cannot help.
                Err(e) if e.error_code() == Some(ErrorCode::DocumentTooLarge) => {
                    run.log(LogCategory::Error, format!("{name} {}：{}", pending.cus_ciq_no, e.message));
                    return Ok(false);
                }
                Err(e) => return Err(e),
            },
            Err(DocumentFault::NotPdf(NotPdf::TooLarge)) => {
                run.log(
                    LogCategory::Error,
                    format!("{name} {}：{}", pending.cus_ciq_no, ErrorCode::DocumentTooLarge.user_message()),
                );
                return Ok(false);
            }
            Err(fault) => fault.to_string(),
        };
        if attempt >= MAX_DOCUMENT_TRIES {
            run.log(
                LogCategory::Error,
                format!("{name} {} 下载失败（{reason}），已重试 {attempt} 次，暂时放弃", pending.cus_ciq_no),
            );
            return Ok(false);
        }
        let delay = retry_delay_ms(attempt);
        run.log(
            LogCategory::Error,
            format!("{name} {} 下载失败（{reason}），{delay} 毫秒后重试（第 {attempt} 次）", pending.cus_ciq_no),
        );
        TimeoutFuture::new(delay).await;
    }
}

/// The session is gone: one fetch waits for the login (pausing the task as the engine does),
/// the others wait for it.
async fn login_again(run: &Rc<Run>) -> Result<(), ErrorInfo> {
    if WAITING_FOR_LOGIN.with(Cell::get) {
        while WAITING_FOR_LOGIN.with(Cell::get) {
            TimeoutFuture::new(200).await;
        }
        return Ok(());
    }
    WAITING_FOR_LOGIN.with(|w| w.set(true));
    run.log(LogCategory::Connect, "单一窗口登录已失效，暂停下载报关单打印件，等待重新登录".into());
    let result = wait_for_login(run).await;
    WAITING_FOR_LOGIN.with(|w| w.set(false));
    result
}
