//! The extension's service worker, in Rust.
//!
//! `extension/background.js` is thin glue: it registers the `chrome.*` listeners synchronously
//! (MV3 needs them before the first await) and hands every message to [`handle_message`] once
//! this module is initialised. Everything it decides — who may ask what, talking to the host,
//! the domain work — happens here.

mod chrome;
mod collector;
mod fetch;
mod host_link;
mod js;
mod schedule;
mod ui;

use wasm_bindgen::prelude::*;

use crate::error::{ErrorCode, ErrorInfo};
use crate::page::{DiagnoseReport, MessageSender, PageRequest, WasmFacts};
use crate::period::{periods, DateRange};
use crate::protocol::{EchoReply, EchoRequest, PingReply, PingRequest, Request, PROTOCOL_VERSION};

const PING_TIMEOUT_MS: u32 = 5_000;
const CALL_TIMEOUT_MS: u32 = 30_000;
/// An export of a large store takes a while (the host builds the whole file).
const EXPORT_TIMEOUT_MS: u32 = 300_000;
/// The trade value of a year: every declaration of the range is read and converted.
const REPORT_TIMEOUT_MS: u32 = 120_000;
/// The certificate: the figures, the PDF with its fonts, and the IC card's signature (the card
/// may wait for its PIN check).
const CERTIFICATE_TIMEOUT_MS: u32 = 300_000;

#[wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("DataLink panicked: {info}").into());
    }));
}

/// The worker's answer to every page message: `{ok: true, result}` or `{ok: false, error}`.
#[derive(serde::Serialize)]
struct PageReply<T: serde::Serialize> {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorInfo>,
}

/// Handles one `chrome.runtime.onMessage` message. `sender` is the listener's `sender` object.
/// Always resolves (errors are part of the reply), so the glue can pass the value on as is.
#[wasm_bindgen(js_name = handleMessage)]
pub async fn handle_message(message: JsValue, sender: JsValue) -> JsValue {
    let reply = match dispatch(&message, &sender).await {
        Ok(result) => PageReply { ok: true, result: Some(result), error: None },
        Err(error) => PageReply { ok: false, result: None, error: Some(error) },
    };
    js::to_js(&reply).unwrap_throw()
}

async fn dispatch(message: &JsValue, sender: &JsValue) -> Result<serde_json::Value, ErrorInfo> {
    let request: PageRequest = js::from_js(message, ErrorCode::InvalidRequest)?;
    let field = |name: &str| js_sys::Reflect::get(sender, &name.into()).ok().and_then(|v| v.as_string());
    let tab_id = js_sys::Reflect::get(sender, &"tab".into())
        .ok()
        .filter(|t| t.is_object())
        .and_then(|t| js_sys::Reflect::get(&t, &"id".into()).ok())
        .and_then(|id| id.as_f64())
        .map(|id| id as i64);
    let who = MessageSender::classify(&chrome::runtime_id(), field("id").as_deref(), field("url").as_deref(), tab_id);
    if !who.may_send(&request) {
        return Err(ErrorInfo::with_detail(ErrorCode::NotAllowed, format!("{request:?} from {who:?}")));
    }
    let value = match request {
        PageRequest::ConnectHost => serde_json::to_value(ping().await?),
        PageRequest::Diagnose { text, from, to } => serde_json::to_value(diagnose(text, from, to).await?),
        PageRequest::SyncStart(start) => serde_json::to_value(collector::start(start).await?),
        PageRequest::SyncStatus { after_seq } => serde_json::to_value(collector::status(after_seq)),
        PageRequest::SyncCancel => serde_json::to_value(collector::cancel()?),
        PageRequest::SyncResume { task, pin, settings } => serde_json::to_value(collector::resume(task, settings, pin).await?),
        PageRequest::TaskList(query) => return host_link::call(Request::TaskList(query), CALL_TIMEOUT_MS).await,
        // Official documents (issue #10).
        PageRequest::DocumentsFetch { task, pin, settings } => serde_json::to_value(collector::fetch_documents(task, settings, pin).await?),
        PageRequest::DocumentGet(r) => return host_link::call(Request::DocumentGet(r), EXPORT_TIMEOUT_MS).await,
        PageRequest::DocumentsExport(r) => return host_link::call(Request::DocumentsExport(r), EXPORT_TIMEOUT_MS).await,
        PageRequest::TaskReport { task } => {
            return host_link::call(Request::TaskReport(crate::checkpoint::TaskRef { task }), CALL_TIMEOUT_MS).await
        }
        PageRequest::Autologin { message } => {
            let MessageSender::ContentScript { tab_id, .. } = who else {
                return Err(ErrorInfo::new(ErrorCode::NotAllowed));
            };
            serde_json::to_value(collector::autologin(tab_id, message))
        }
        PageRequest::TaskLog { task } => {
            return host_link::call(Request::TaskLogGet(crate::checkpoint::TaskRef { task }), CALL_TIMEOUT_MS).await
        }
        // The extension's pages (`ui`).
        PageRequest::EnvCheck { portal } => serde_json::to_value(ui::serve::env_check(portal).await?),
        PageRequest::TaskGet { task } => {
            return host_link::call(Request::TaskGet(crate::checkpoint::TaskRef { task }), CALL_TIMEOUT_MS).await
        }
        PageRequest::TaskRecords(query) => return host_link::call(Request::TaskRecords(query), CALL_TIMEOUT_MS).await,
        PageRequest::TaskDeclarations(query) => return host_link::call(Request::TaskDeclarations(query), CALL_TIMEOUT_MS).await,
        PageRequest::DeclarationGet(r) => return host_link::call(Request::DeclarationGet(r), CALL_TIMEOUT_MS).await,
        PageRequest::Export(r) => return host_link::call(Request::Export(r), EXPORT_TIMEOUT_MS).await,
        PageRequest::Enterprises => return host_link::call(Request::Enterprises, CALL_TIMEOUT_MS).await,
        // 数据验证报告 (`ui::report`): reads and the certificate, all made by the host.
        PageRequest::ReportCoverage(range) => return host_link::call(Request::ReportCoverage(range), CALL_TIMEOUT_MS).await,
        PageRequest::ReportTradeValue(form) => return host_link::call(Request::ReportTradeValue(form), REPORT_TIMEOUT_MS).await,
        PageRequest::CertificateMake(make) => return host_link::call(Request::CertificateMake(make.into_request()), CERTIFICATE_TIMEOUT_MS).await,
        PageRequest::SettingsGet => return host_link::call(Request::SettingsGet, CALL_TIMEOUT_MS).await,
        PageRequest::SettingsSet(settings) => return host_link::call(Request::SettingsSet(settings), CALL_TIMEOUT_MS).await,
    };
    value.map_err(|e| ErrorInfo::with_detail(ErrorCode::Internal, e.to_string()))
}

/// Called by the glue once wasm is ready: a task the previous worker left running goes on
/// (the worker may be stopped by the browser at any time; the task must not be).
#[wasm_bindgen(js_name = resumeActive)]
pub async fn resume_active() {
    if let Err(error) = collector::resume_active().await {
        // No host installed yet, or nothing to resume: not worth more than a console line.
        web_sys::console::info_1(&format!("DataLink: no task resumed ({error})").into());
    }
}

async fn ping() -> Result<PingReply, ErrorInfo> {
    let request = Request::Ping(PingRequest { protocol: PROTOCOL_VERSION, extension_version: crate::VERSION.into() });
    let value = host_link::call(request, PING_TIMEOUT_MS).await?;
    let reply: PingReply = serde_json::from_value(value).map_err(|e| ErrorInfo::with_detail(ErrorCode::HostReplyInvalid, e.to_string()))?;
    crate::protocol::check_host(&reply)?;
    Ok(reply)
}

async fn diagnose(text: String, from: crate::calendar::Date, to: crate::calendar::Date) -> Result<DiagnoseReport, ErrorInfo> {
    let range = DateRange::new(from, to).map_err(|e| ErrorInfo::with_detail(ErrorCode::InvalidRequest, e.to_string()))?;
    let months = periods(range);
    let wasm = WasmFacts {
        core_version: crate::VERSION.into(),
        arch: std::env::consts::ARCH.into(),
        periods: months.len(),
        first_period: months.first().map(|p| p.key()).unwrap_or_default(),
        last_period: months.last().map(|p| p.key()).unwrap_or_default(),
    };
    let host = ping().await?;
    let value = host_link::call(Request::Echo(EchoRequest { text, repeat: 1 }), CALL_TIMEOUT_MS).await?;
    let echo: EchoReply = serde_json::from_value(value).map_err(|e| ErrorInfo::with_detail(ErrorCode::HostReplyInvalid, e.to_string()))?;
    Ok(DiagnoseReport { wasm, host, echo })
}
