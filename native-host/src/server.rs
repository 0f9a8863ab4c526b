//! The host's message loop: frames in on stdin, replies out on stdout.
//!
//! ```text
//! stdin ──read_frame──▶ decode_request ──spawn──▶ handle (tokio) ──▶ channel ──▶ writer thread ──▶ stdout
//! ```
//!
//! Requests run concurrently (at most [`MAX_IN_FLIGHT`]; more are answered `busy` at once), and a
//! single writer thread owns stdout so frames never interleave. A broken frame is answered with
//! an error frame and the loop goes on; the browser closing the port (EOF) ends the loop once
//! the requests in flight have answered.
//!
//! Back-pressure: the channel to the writer holds at most [`REPLY_QUEUE`] replies. When the
//! browser stops reading, the writer blocks on stdout, the queue fills, requests in flight wait
//! (keeping their slot) to queue their reply, and the reading loop waits to queue its `busy` or
//! error replies — so the host stops reading stdin instead of holding replies without bound
//! (`tests/abuse.rs` checks it). A request's slot travels with its reply and is freed by the
//! writer just before it writes the reply, so a browser that sends its next request on each reply
//! may keep exactly [`MAX_IN_FLIGHT`] out without being answered `busy`.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use datalink_core::error::{ErrorCode, ErrorInfo};
use datalink_core::protocol::{
    decode_request, encode_reply, negotiate, EchoReply, EchoRequest, Envelope, PingReply, PingRequest, Reply, Request,
    MAX_ECHO_BYTES, MAX_REPLY_FRAME, MAX_REQUEST_FRAME, MIN_PROTOCOL_VERSION,
};
use serde_json::Value;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::framing::{read_frame, write_frame, FrameError};
use crate::log::{info, warn};
use crate::{report, store};

/// Requests handled at once; one more is answered `busy` (1006) without being run.
pub const MAX_IN_FLIGHT: usize = 32;
/// Replies waiting for the writer thread; past it, senders wait (see the module docs).
pub const REPLY_QUEUE: usize = 16;
/// How long requests in flight may still finish after the browser closed the port.
const DRAIN_ON_EOF: Duration = Duration::from_secs(5);

/// How the loop ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The browser closed the port.
    Eof,
    /// The input ended inside a frame (the browser died mid-write).
    Truncated,
    /// Reading or writing failed.
    Io(String),
}

/// Runs the loop until the input ends.
pub fn serve<R: Read, W: Write + Send + 'static>(mut input: R, output: W) -> Ended {
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return Ended::Io(format!("cannot start the runtime: {e}")),
    };
    let (frames_tx, frames_rx) = mpsc::channel::<Outgoing>(REPLY_QUEUE);
    let writer = std::thread::spawn(move || write_all(output, frames_rx));
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    // This thread is outside the runtime, so it may block: the reading loop waits for room.
    let send = |tx: &mpsc::Sender<Outgoing>, reply: Reply| {
        let _ = tx.blocking_send(Outgoing { frames: frames_of(&reply), slot: None });
    };

    let ended = loop {
        let frame = match read_frame(&mut input, MAX_REQUEST_FRAME) {
            Ok(Some(frame)) => frame,
            Ok(None) => break Ended::Eof,
            Err(FrameError::TooLarge { len, cap }) => {
                warn!("refused a {len}-byte frame (cap {cap})");
                let detail = format!("{len} bytes, cap {cap}");
                send(&frames_tx, Reply::failure(None, ErrorInfo::with_detail(ErrorCode::FrameTooLarge, detail)));
                continue;
            }
            Err(FrameError::Truncated { expected, got }) => {
                warn!("input ended inside a frame ({got} of {expected} bytes)");
                break Ended::Truncated;
            }
            Err(FrameError::Io(e)) => break Ended::Io(e.to_string()),
        };
        let envelope = match decode_request(&frame) {
            Ok(envelope) => envelope,
            Err((id, error)) => {
                warn!("refused request {id:?}: {} {}", error.code, error.name);
                send(&frames_tx, Reply::failure(id, error));
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            send(&frames_tx, Reply::failure(Some(envelope.id), ErrorInfo::new(ErrorCode::Busy)));
            continue;
        };
        let tx = frames_tx.clone();
        runtime.spawn(async move {
            let reply = handle(envelope).await;
            // The slot is held until the writer takes the reply: a reader that stopped reading
            // stops new requests from running (they are answered `busy`, and then not read at
            // all). The writer frees it before writing, so a client that keeps exactly
            // MAX_IN_FLIGHT requests out is never answered `busy`.
            let _ = tx.send(Outgoing { frames: frames_of(&reply), slot: Some(permit) }).await;
        });
    };

    // Let what is in flight answer (bounded), then close the writer.
    runtime.block_on(async {
        let all = u32::try_from(MAX_IN_FLIGHT).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(DRAIN_ON_EOF, slots.acquire_many(all)).await;
    });
    drop(frames_tx);
    runtime.shutdown_timeout(Duration::from_millis(100));
    match writer.join() {
        Ok(Ok(())) => ended,
        Ok(Err(e)) => Ended::Io(e),
        Err(_) => Ended::Io("the writer thread panicked".into()),
    }
}

/// A reply on its way to the writer thread, with the request's slot when it ran.
struct Outgoing {
    frames: Vec<String>,
    slot: Option<OwnedSemaphorePermit>,
}

fn write_all<W: Write>(mut output: W, mut replies: mpsc::Receiver<Outgoing>) -> Result<(), String> {
    while let Some(Outgoing { frames, slot }) = replies.blocking_recv() {
        drop(slot);
        for frame in frames {
            write_frame(&mut output, frame.as_bytes()).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// The frames of a reply, chunked to fit the browser's limit.
fn frames_of(reply: &Reply) -> Vec<String> {
    match encode_reply(reply, MAX_REPLY_FRAME) {
        Ok(frames) => frames,
        Err(e) => {
            warn!("cannot encode a reply: {e}");
            let fallback = Reply::failure(reply.id, ErrorInfo::with_detail(ErrorCode::Internal, "reply not serializable"));
            encode_reply(&fallback, MAX_REPLY_FRAME).unwrap_or_default()
        }
    }
}

/// Answers one request.
pub async fn handle(envelope: Envelope<Request>) -> Reply {
    let Envelope { id, body } = envelope;
    let result = match body {
        Request::Ping(ping) => to_value(self::ping(&ping)),
        Request::Echo(echo) => to_value(self::echo(echo)),
        Request::CardStatus(request) => to_value(crate::card::requests::status(request).await),
        Request::CardVerifyPin(request) => to_value(crate::card::requests::verify_pin(request).await),
        Request::CardSign(request) => to_value(crate::card::requests::sign(request).await),
        Request::CardWait(request) => to_value(crate::card::requests::wait(request).await),
        // The sync store (`crate::store`): each request one transaction on the store's thread.
        Request::TaskCreate(r) => store::call("task_create", move |s| s.task_create(&r)).await,
        Request::TaskGet(r) => store::call("task_get", move |s| s.task_get(&r.task)).await,
        Request::TaskList(r) => store::call("task_list", move |s| s.task_list(&r)).await,
        Request::TaskActive => store::call("task_active", |s| s.task_active()).await,
        Request::TaskState(r) => store::call("task_state", move |s| s.task_state(&r)).await,
        Request::TaskLog(r) => store::call("task_log", move |s| s.task_log(&r)).await,
        Request::TaskLogGet(r) => store::call("task_log_get", move |s| s.task_log_get(&r.task)).await,
        Request::WindowSplit(r) => store::call("window_split", move |s| s.window_split(&r)).await,
        Request::ListPage(r) => store::call("list_page", move |s| s.list_page(&r)).await,
        Request::WindowDone(r) => store::call("window_done", move |s| s.window_done(&r)).await,
        Request::WindowFailed(r) => store::call("window_failed", move |s| s.window_failed(&r)).await,
        Request::DetailSave(r) => store::call("detail_save", move |s| s.detail_save(&r)).await,
        Request::DetailFailed(r) => store::call("detail_failed", move |s| s.detail_failed(&r)).await,
        Request::TaskSnapshot(r) => store::call("task_snapshot", move |s| s.task_snapshot(&r.task)).await,
        Request::TaskFinish(r) => store::call("task_finish", move |s| s.task_finish(&r)).await,
        Request::TaskReport(r) => store::call("task_report", move |s| s.task_report(&r.task)).await,
        // What the extension's pages read (`crate::store` `pages`): read-only.
        Request::TaskRecords(r) => store::call("task_records", move |s| s.task_records(&r)).await,
        Request::TaskDeclarations(r) => store::call("task_declarations", move |s| s.task_declarations(&r)).await,
        Request::DeclarationGet(r) => {
            store::call("declaration_get", move |s| s.declaration_get_for(&r.cus_ciq_no, r.enterprise.as_deref())).await
        }
        Request::Export(r) => store::call("export", move |s| s.export_file(&r)).await,
        // Official documents (`crate::store` `documents`, issue #10).
        Request::DocumentsPlan(r) => store::call("documents_plan", move |s| s.documents_plan(&r)).await,
        Request::DocumentSave(r) => store::call("document_save", move |s| s.document_save(&r)).await,
        Request::DocumentGet(r) => store::call("document_get", move |s| s.document_get(&r)).await,
        Request::DocumentsExport(r) => store::call("documents_export", move |s| s.documents_export(&r)).await,
        Request::Enterprises => store::call("enterprises", |s| s.enterprises()).await,
        // 数据验证报告 (`crate::report`).
        Request::ReportCoverage(r) => store::call("report_coverage", move |s| report::coverage(s, &r)).await,
        Request::ReportTradeValue(r) => store::call("report_trade_value", move |s| report::trade_value(s, &r)).await,
        Request::CertificateMake(r) => report::certificate_request(r).await,
        Request::SettingsGet => store::call("settings_get", |s| report::settings(s)).await,
        Request::SettingsSet(r) => store::call("settings_set", move |s| report::set_settings(s, &r)).await,
    };
    match result {
        Ok(value) => Reply::success(id, value),
        Err(error) => Reply::failure(Some(id), error),
    }
}

fn to_value<T: serde::Serialize>(result: Result<T, ErrorInfo>) -> Result<Value, ErrorInfo> {
    result.and_then(|v| serde_json::to_value(v).map_err(|e| ErrorInfo::with_detail(ErrorCode::Internal, e.to_string())))
}

fn ping(request: &PingRequest) -> Result<PingReply, ErrorInfo> {
    let protocol = negotiate(request.protocol).map_err(|code| {
        ErrorInfo::with_detail(code, format!("extension speaks {}, host needs at least {MIN_PROTOCOL_VERSION}", request.protocol))
    })?;
    info!("ping from extension {} (protocol {})", request.extension_version, request.protocol);
    Ok(PingReply {
        host: "datalink-host".into(),
        host_version: crate::VERSION.into(),
        protocol,
        min_protocol: MIN_PROTOCOL_VERSION,
        os: std::env::consts::OS.into(),
        arch: std::env::consts::ARCH.into(),
        pid: std::process::id(),
    })
}

fn echo(request: EchoRequest) -> Result<EchoReply, ErrorInfo> {
    let total = request.text.len().saturating_mul(request.repeat as usize);
    if total > MAX_ECHO_BYTES {
        return Err(ErrorInfo::with_detail(ErrorCode::InvalidRequest, format!("echo of {total} bytes exceeds {MAX_ECHO_BYTES}")));
    }
    Ok(EchoReply {
        chars: request.text.chars().count(),
        utf8_bytes: request.text.len(),
        text: request.text.repeat(request.repeat as usize),
    })
}
