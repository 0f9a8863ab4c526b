//! The native-messaging protocol between the extension and `datalink-host`.
//!
//! Chrome frames each message as a 4-byte native-endian length and UTF-8 JSON (the framing
//! itself lives in the host's `framing` module). Inside a frame:
//!
//! * a request is `{"id": 7, "type": "ping", ...fields}` — see [`Request`];
//! * its reply echoes the id: `{"id": 7, "ok": true, "result": {...}}` or
//!   `{"id": 7, "ok": false, "error": {"code": 1004, "name": ..., "message": ...}}`;
//! * a reply longer than Chrome's 1 MiB host→browser limit travels as [`Chunk`]s of its JSON
//!   text (`{"id": 7, "chunk": {"index": 0, "count": 3}, "text": "..."}`), cut by
//!   [`encode_reply`] and put together by [`ChunkAssembler`].
//!
//! The first request on a connection is `ping`, the version handshake ([`negotiate`]).
//! PROTOCOL.md is the human-readable contract; tests keep the two in step.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ErrorCode, ErrorInfo};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// The oldest protocol version this build still accepts from the other side.
pub const MIN_PROTOCOL_VERSION: u32 = 1;
/// The native messaging host's registered name (manifest `name`, `connectNative` argument).
pub const HOST_NAME: &str = "cn.datalink.host";
/// Chrome refuses host→browser messages over 1 MiB; every frame the host writes fits.
pub const MAX_REPLY_FRAME: usize = 1024 * 1024;
/// The host refuses browser→host frames over 8 MiB before allocating (Chrome allows up to
/// 64 MiB; nothing DataLink sends comes near 8).
pub const MAX_REQUEST_FRAME: usize = 8 * 1024 * 1024;
/// At most this many chunks make up one reply (1 GiB): more is a protocol error.
pub const MAX_CHUNKS: u32 = 1024;
/// `echo` never builds a reply larger than this (it is a diagnostic, not a memory test).
pub const MAX_ECHO_BYTES: usize = 32 * 1024 * 1024;

/// A request with its correlation id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub id: u64,
    #[serde(flatten)]
    pub body: T,
}

/// What the extension asks of the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// The handshake: versions both ways. Also a liveness check.
    Ping(PingRequest),
    /// A diagnostic: the host measures the text and sends it back (`repeat` times), which
    /// proves UTF-8 and chunked replies across the pipe.
    Echo(EchoRequest),

    // ── The IC card (`native-host/src/card/`): see the card types below. ──
    /// The environment check (环境检测); replies [`CardStatusReply`]. Never touches the PIN.
    CardStatus(CardStatusRequest),
    /// Checks the PIN once; replies [`CardVerifyReply`], or 3007 `wrong_pin` with `retriesLeft`.
    CardVerifyPin(CardVerifyPinRequest),
    /// Signs with the card; replies [`CardSignReply`].
    CardSign(CardSignRequest),
    /// Waits for a card to be inserted or removed; replies [`CardWaitReply`].
    CardWait(CardWaitRequest),

    // ── The sync store (see `checkpoint`): one transaction each, idempotent. ──
    /// A new task (待执行); replies [`TaskRecord`](crate::checkpoint::TaskRecord).
    TaskCreate(crate::checkpoint::TaskCreate),
    /// One task; replies `TaskRecord`.
    TaskGet(crate::checkpoint::TaskRef),
    /// 协同记录: tasks, newest first; replies [`TaskList`](crate::checkpoint::TaskList).
    TaskList(crate::checkpoint::TaskListQuery),
    /// The task in 执行中, if any (a restarted worker resumes it); replies `TaskRecord` or null.
    TaskActive,
    /// A state change; replies `TaskRecord`.
    TaskState(crate::checkpoint::TaskStateChange),
    /// Appends log lines; replies `{"appended": n}`.
    TaskLog(crate::checkpoint::TaskLogAppend),
    /// The whole log; replies `{"lines": [LogLine]}`.
    TaskLogGet(crate::checkpoint::TaskRef),
    /// Replies `{}`.
    WindowSplit(crate::checkpoint::WindowSplit),
    /// Replies [`ListPageSaved`](crate::checkpoint::ListPageSaved).
    ListPage(crate::checkpoint::ListPageSave),
    /// Replies `{}`.
    WindowDone(crate::checkpoint::WindowDone),
    /// Replies `{}`.
    WindowFailed(crate::checkpoint::WindowFailed),
    /// Replies [`DetailSaved`](crate::checkpoint::DetailSaved).
    DetailSave(crate::checkpoint::DetailSave),
    /// Replies `{}`.
    DetailFailed(crate::checkpoint::DetailFailed),
    /// Replies [`TaskSnapshot`](crate::checkpoint::TaskSnapshot).
    TaskSnapshot(crate::checkpoint::TaskRef),
    /// Decides 执行完毕 / 执行异常; replies [`TaskReport`](crate::checkpoint::TaskReport).
    TaskFinish(crate::checkpoint::TaskFinish),
    /// The per-period counts, state unchanged; replies `TaskReport`.
    TaskReport(crate::checkpoint::TaskRef),

    // ── What the extension's pages read (see `browse`): read-only. ──
    /// 协同记录 with the 进出口 filter; replies [`TaskList`](crate::checkpoint::TaskList).
    TaskRecords(crate::browse::TaskRecordsQuery),
    /// 详情's table; replies [`DeclarationsPage`](crate::browse::DeclarationsPage).
    TaskDeclarations(crate::browse::DeclarationsQuery),
    /// 预览; replies [`DeclarationFull`](crate::browse::DeclarationFull).
    DeclarationGet(crate::browse::DeclarationRef),
    /// A task's or a date range's declarations as XLSX or CSV; replies
    /// [`ExportFile`](crate::browse::ExportFile).
    Export(crate::browse::ExportRequest),

    // ── Official documents (see `documents`, issue #10). ──
    /// Marks the task "with documents" and lists what is missing; replies
    /// [`DocumentsPending`](crate::documents::DocumentsPending).
    DocumentsPlan(crate::documents::DocumentsPlan),
    /// Stores one document (a PDF on disk, receipts as JSON); replies
    /// [`DocumentInfo`](crate::documents::DocumentInfo).
    DocumentSave(crate::documents::DocumentSave),
    /// One stored document, a PDF with its bytes; replies
    /// [`DocumentFile`](crate::documents::DocumentFile) or null.
    DocumentGet(crate::documents::DocumentRef),
    /// A task's or a month's PDFs as a ZIP with an index; replies
    /// [`DocumentsZip`](crate::documents::DocumentsZip).
    DocumentsExport(crate::documents::DocumentsExport),
    /// The enterprises the store has tasks of; replies
    /// [`EnterpriseList`](crate::browse::EnterpriseList).
    Enterprises,

    // ── 数据验证报告 (see `report`): coverage, figures, the certificate, its settings. ──
    /// Which months of the range a reconciled sync covers (数据协同核验表); replies
    /// [`Coverage`](crate::report::Coverage).
    ReportCoverage(crate::report::ReportRange),
    /// The trade value figures of a fully covered range; replies
    /// [`TradeValueReport`](crate::report::TradeValueReport), or 4002 naming the months to sync.
    ReportTradeValue(crate::report::ReportForm),
    /// The certificate PDF (recorded in the store); replies
    /// [`CertificateMade`](crate::report::CertificateMade).
    CertificateMake(crate::report::CertificateRequest),
    /// The issuer, seal and enterprise settings; replies [`Settings`](crate::report::Settings).
    SettingsGet,
    /// Changes settings (an empty value removes one); replies the new `Settings`.
    SettingsSet(crate::report::Settings),
}

impl Request {
    /// Every `type` the host knows, to tell "unknown type" from "bad fields".
    pub const TYPES: &'static [&'static str] = &[
        "ping",
        "echo",
        "card_status",
        "card_verify_pin",
        "card_sign",
        "card_wait",
        "task_create",
        "task_get",
        "task_list",
        "task_active",
        "task_state",
        "task_log",
        "task_log_get",
        "window_split",
        "list_page",
        "window_done",
        "window_failed",
        "detail_save",
        "detail_failed",
        "task_snapshot",
        "task_finish",
        "task_report",
        "task_records",
        "task_declarations",
        "declaration_get",
        "export",
        "documents_plan",
        "document_save",
        "document_get",
        "documents_export",
        "enterprises",
        "report_coverage",
        "report_trade_value",
        "certificate_make",
        "settings_get",
        "settings_set",
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PingRequest {
    /// The protocol version the extension speaks.
    pub protocol: u32,
    #[serde(default)]
    pub extension_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PingReply {
    /// Always `"datalink-host"`.
    pub host: String,
    pub host_version: String,
    /// The version both sides will speak (see [`negotiate`]).
    pub protocol: u32,
    pub min_protocol: u32,
    pub os: String,
    pub arch: String,
    pub pid: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EchoRequest {
    pub text: String,
    #[serde(default = "one")]
    pub repeat: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EchoReply {
    /// `text` repeated `repeat` times.
    pub text: String,
    /// Unicode scalar values in one `text`.
    pub chars: usize,
    /// UTF-8 bytes in one `text`, as the host counted them.
    pub utf8_bytes: usize,
}

// ── The IC card (native host: `native-host/src/card/`) ──────────────────────────────────────

/// How the host reaches the IC card — a setting; `auto` tries the E-Port client control first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardBackendChoice {
    #[default]
    Auto,
    Eport,
    Pcsc,
}

/// The way the host reached the card: the E-Port client control (WebSocket) or PC/SC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardBackendKind {
    Eport,
    Pcsc,
}

/// Card settings (设置). A field left out falls back to the host's environment
/// (`DATALINK_CARD_BACKEND`, `DATALINK_EPORT_URL`, `DATALINK_CARD_READER`), then to the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<CardBackendChoice>,
    /// The E-Port client control's address (default `ws://127.0.0.1:61232`); only `ws://` to a
    /// loopback address is accepted, since the PIN travels over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eport_url: Option<String>,
    /// PC/SC: only readers whose name contains this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
}

/// `card_status`: the environment check (环境检测). Never touches the PIN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardStatusRequest {
    #[serde(default)]
    pub settings: CardSettings,
}

/// `card_verify_pin`: checks the PIN on the card. The host never retries it by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardVerifyPinRequest {
    pub pin: crate::secret::Pin,
    /// Needed when the card has one try left (else `last_try_unconfirmed`, and the PIN is not
    /// sent): the page warns first, then sends the PIN again with this set.
    #[serde(default)]
    pub confirm_last_try: bool,
    #[serde(default)]
    pub settings: CardSettings,
}

/// `card_sign`: signs `data` (UTF-8 text, as the E-Port control's `inData`) with the card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardSignRequest {
    pub data: String,
    /// Verifies this PIN first; without it the card must already be verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<crate::secret::Pin>,
    #[serde(default)]
    pub confirm_last_try: bool,
    #[serde(default)]
    pub settings: CardSettings,
}

/// What `card_wait` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardWaitFor {
    Present,
    Absent,
}

/// The longest `card_wait` the host accepts (5 minutes).
pub const MAX_CARD_WAIT_MS: u32 = 300_000;

/// `card_wait`: waits (PC/SC status changes, no polling) until a card is in a reader, or gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardWaitRequest {
    pub until: CardWaitFor,
    /// At most [`MAX_CARD_WAIT_MS`]; default 30 s.
    #[serde(default = "thirty_seconds")]
    pub timeout_ms: u32,
    #[serde(default)]
    pub settings: CardSettings,
}

fn thirty_seconds() -> u32 {
    30_000
}

/// One PC/SC reader as the environment check saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReaderStatus {
    pub name: String,
    pub card_present: bool,
    /// The card's ATR, spaced hex (`3B 8C 80 01 …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atr: Option<String>,
    /// The known card profile for that ATR; `None` means the card gets no command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// Who the card belongs to; any field may be unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardIdentity {
    /// The card number (卡号), without the `03-` prefix.
    pub card_id: Option<String>,
    /// 持卡人.
    pub holder: Option<String>,
    /// 企业.
    pub enterprise: Option<String>,
    /// The signing certificate's number (serial, hex).
    pub cert_no: Option<String>,
    /// Certificate validity, `YYYY-MM-DDTHH:MM:SSZ` (UTC).
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
}

/// The E-Port client control as the environment check found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EportProbe {
    pub url: String,
    pub running: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<ErrorInfo>,
}

/// PC/SC as the environment check found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PcscProbe {
    /// Whether the PC/SC service answered.
    pub service: bool,
    pub readers: Vec<ReaderStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<ErrorInfo>,
}

/// One line of the environment check: a Chinese label, its value, and its problem if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvCheck {
    /// Stable: `host_version`, `backend`, `readers`, `card`, `card_id`, `holder`, `enterprise`,
    /// `certificate`, `pin`.
    pub key: String,
    /// What the user reads (协同客户端版本, 读卡方式, …).
    pub label: String,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<ErrorInfo>,
}

/// The reply to `card_status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardStatusReply {
    pub host_version: String,
    /// The setting in force.
    pub choice: CardBackendChoice,
    /// The backend in use; `None` when neither works.
    pub backend: Option<CardBackendKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eport: Option<EportProbe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcsc: Option<PcscProbe>,
    pub card_present: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardIdentity>,
    /// PIN tries left, when the card says without spending one (PC/SC) or the host saw a wrong
    /// PIN's count on this card (E-Port control).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_retries_left: Option<u8>,
    /// In display order.
    pub checks: Vec<EnvCheck>,
    /// Every check passed: a task may start once the PIN is verified.
    pub ready: bool,
}

/// The reply to `card_verify_pin` (a wrong PIN is error 3007 with `retriesLeft`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardVerifyReply {
    pub verified: bool,
    pub backend: CardBackendKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
}

/// The reply to `card_sign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardSignReply {
    /// Base64 of the signature, as the card or control produced it.
    pub signature: String,
    /// The number of the certificate whose key signed.
    pub cert_no: String,
    pub backend: CardBackendKind,
}

/// The reply to `card_wait`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardWaitReply {
    pub card_present: bool,
    /// The reader holding the card, when present (PC/SC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
    /// `false` when the backend cannot wait (E-Port control): the state is the current one.
    pub waited: bool,
}

/// The extension's side of the handshake: a host whose `protocol` is older than
/// [`MIN_PROTOCOL_VERSION`] is refused with `host_too_old` (the host refuses an extension that
/// is too old itself, with `protocol_mismatch`: see [`negotiate`]).
pub fn check_host(reply: &PingReply) -> Result<(), ErrorInfo> {
    if reply.protocol < MIN_PROTOCOL_VERSION {
        return Err(ErrorInfo::with_detail(
            ErrorCode::HostTooOld,
            format!("host {} speaks protocol {}, the extension needs at least {MIN_PROTOCOL_VERSION}", reply.host_version, reply.protocol),
        ));
    }
    Ok(())
}

/// The version both sides speak, or why they cannot talk.
pub fn negotiate(theirs: u32) -> Result<u32, ErrorCode> {
    if theirs < MIN_PROTOCOL_VERSION {
        return Err(ErrorCode::ProtocolMismatch);
    }
    Ok(theirs.min(PROTOCOL_VERSION))
}

/// A frame the host sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HostMessage {
    Chunk(Chunk),
    Reply(Reply),
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The request's id; `None` when the request was too broken to have one.
    pub id: Option<u64>,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
}

impl Reply {
    pub fn success(id: u64, result: Value) -> Reply {
        Reply { id: Some(id), ok: true, result: Some(result), error: None }
    }

    pub fn failure(id: Option<u64>, error: ErrorInfo) -> Reply {
        Reply { id, ok: false, result: None, error: Some(error) }
    }

    /// The result, or the error the host reported (or `HostReplyInvalid` for a reply with neither).
    pub fn into_result(self) -> Result<Value, ErrorInfo> {
        match (self.ok, self.result, self.error) {
            (true, Some(result), _) => Ok(result),
            // `"result": null` (e.g. `declaration_get` of a declaration not shown) reads as `None`.
            (true, None, None) => Ok(Value::Null),
            (false, _, Some(error)) => Err(error),
            _ => Err(ErrorInfo::with_detail(ErrorCode::HostReplyInvalid, "reply without result or error")),
        }
    }
}

/// One piece of a reply too large for one frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub id: Option<u64>,
    pub chunk: ChunkPosition,
    /// A piece of the reply's JSON text, cut at a character boundary.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkPosition {
    pub index: u32,
    pub count: u32,
}

/// Read one request frame: JSON with a numeric `id` and a known `type`.
///
/// On failure, the error comes with the request's id when it could be read, so the reply can
/// still be matched by the caller.
pub fn decode_request(frame: &[u8]) -> Result<Envelope<Request>, (Option<u64>, ErrorInfo)> {
    let value: Value = serde_json::from_slice(frame)
        .map_err(|e| (None, ErrorInfo::with_detail(ErrorCode::MalformedJson, e.to_string())))?;
    let Value::Object(mut fields) = value else {
        return Err((None, ErrorInfo::with_detail(ErrorCode::InvalidRequest, "a request is a JSON object")));
    };
    let id = fields.remove("id").and_then(|id| id.as_u64());
    let Some(id) = id else {
        return Err((None, ErrorInfo::with_detail(ErrorCode::InvalidRequest, "`id` must be a non-negative integer")));
    };
    let kind = match fields.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        _ => return Err((Some(id), ErrorInfo::with_detail(ErrorCode::InvalidRequest, "`type` must be a string"))),
    };
    if !Request::TYPES.contains(&kind.as_str()) {
        let shown: String = kind.chars().take(64).collect();
        return Err((Some(id), ErrorInfo::with_detail(ErrorCode::UnknownRequestType, format!("unknown type {shown:?}"))));
    }
    let body = serde_json::from_value(Value::Object(fields))
        .map_err(|e| (Some(id), ErrorInfo::with_detail(ErrorCode::InvalidRequest, e.to_string())))?;
    Ok(Envelope { id, body })
}

/// The frames that carry `reply`, each at most `max_frame` bytes of JSON: one frame when it
/// fits, otherwise [`Chunk`]s of its text.
///
/// `max_frame` must leave room for a chunk's own fields (at least 256 bytes).
pub fn encode_reply(reply: &Reply, max_frame: usize) -> Result<Vec<String>, serde_json::Error> {
    let whole = serde_json::to_string(reply)?;
    if whole.len() <= max_frame {
        return Ok(vec![whole]);
    }
    // The chunk's fields without text, at their widest: {"id":u64::MAX,"chunk":{..},"text":""}.
    let widest = Chunk { id: Some(u64::MAX), chunk: ChunkPosition { index: MAX_CHUNKS, count: MAX_CHUNKS }, text: String::new() };
    let budget = max_frame.saturating_sub(serde_json::to_string(&widest)?.len());
    let pieces = split_for_json_strings(&whole, budget.max(8));
    let count = pieces.len() as u32;
    pieces
        .into_iter()
        .enumerate()
        .map(|(index, text)| {
            serde_json::to_string(&Chunk { id: reply.id, chunk: ChunkPosition { index: index as u32, count }, text: text.to_owned() })
        })
        .collect()
}

/// Cut `text` at character boundaries into pieces whose JSON string form (escapes included,
/// quotes excluded) is at most `budget` bytes.
fn split_for_json_strings(text: &str, budget: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (at, c) in text.char_indices() {
        let cost = match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        };
        if used + cost > budget && at > start {
            pieces.push(&text[start..at]);
            start = at;
            used = 0;
        }
        used += cost;
    }
    pieces.push(&text[start..]);
    pieces
}

/// Why chunks could not be put together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("chunk {index} of {count} is out of range")]
    OutOfRange { index: u32, count: u32 },
    #[error("chunk count changed from {before} to {now}")]
    CountChanged { before: u32, now: u32 },
    #[error("the assembled reply is not valid JSON: {0}")]
    Json(String),
}

/// Puts chunked replies back together, one per request id.
#[derive(Debug, Default)]
pub struct ChunkAssembler {
    partial: HashMap<Option<u64>, Partial>,
}

#[derive(Debug)]
struct Partial {
    pieces: Vec<Option<String>>,
    missing: u32,
}

impl ChunkAssembler {
    /// Adds a chunk; returns the whole reply once its last chunk arrived.
    pub fn push(&mut self, chunk: Chunk) -> Result<Option<Reply>, ChunkError> {
        let ChunkPosition { index, count } = chunk.chunk;
        if count == 0 || count > MAX_CHUNKS || index >= count {
            self.partial.remove(&chunk.id);
            return Err(ChunkError::OutOfRange { index, count });
        }
        let partial = self
            .partial
            .entry(chunk.id)
            .or_insert_with(|| Partial { pieces: vec![None; count as usize], missing: count });
        if partial.pieces.len() != count as usize {
            let before = partial.pieces.len() as u32;
            self.partial.remove(&chunk.id);
            return Err(ChunkError::CountChanged { before, now: count });
        }
        let slot = &mut partial.pieces[index as usize];
        if slot.is_none() {
            partial.missing -= 1;
        }
        *slot = Some(chunk.text);
        if partial.missing > 0 {
            return Ok(None);
        }
        let done = self.partial.remove(&chunk.id).map(|p| p.pieces.into_iter().flatten().collect::<String>()).unwrap_or_default();
        serde_json::from_str(&done).map(Some).map_err(|e| ChunkError::Json(e.to_string()))
    }

    /// Forgets a request's pieces (it timed out or the host went away).
    pub fn forget(&mut self, id: Option<u64>) {
        self.partial.remove(&id);
    }

    /// Requests with pieces still missing.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn decodes_a_ping() {
        let env = decode_request(br#"{"id":1,"type":"ping","protocol":1,"extensionVersion":"0.1.0"}"#).unwrap();
        assert_eq!(env.id, 1);
        assert_eq!(env.body, Request::Ping(PingRequest { protocol: 1, extension_version: "0.1.0".into() }));
    }

    #[test]
    fn tells_broken_requests_apart() {
        let code = |frame: &[u8]| decode_request(frame).unwrap_err();
        assert_eq!(code(b"{not json").1.code, ErrorCode::MalformedJson.code());
        assert_eq!(code(&[0xff, 0xfe]).1.code, ErrorCode::MalformedJson.code());
        assert_eq!(code(b"[1,2]").1.code, ErrorCode::InvalidRequest.code());
        assert_eq!(code(br#"{"type":"ping"}"#), (None, code(br#"{"type":"ping"}"#).1));
        assert_eq!(code(br#"{"id":-1,"type":"ping"}"#).0, None);
        let (id, err) = code(br#"{"id":5,"type":"launch_rockets"}"#);
        assert_eq!((id, err.code), (Some(5), ErrorCode::UnknownRequestType.code()));
        let (id, err) = code(br#"{"id":6,"type":"ping","protocol":"one"}"#);
        assert_eq!((id, err.code), (Some(6), ErrorCode::InvalidRequest.code()));
        let (id, err) = code(br#"{"id":7}"#);
        assert_eq!((id, err.code), (Some(7), ErrorCode::InvalidRequest.code()));
    }

    #[test]
    fn requests_serialize_as_documented() {
        let env = Envelope { id: 3, body: Request::Echo(EchoRequest { text: "报关单".into(), repeat: 2 }) };
        assert_eq!(serde_json::to_value(&env).unwrap(), json!({"id":3,"type":"echo","text":"报关单","repeat":2}));
        let reply = Reply::failure(Some(3), ErrorInfo::new(ErrorCode::Busy));
        let v = serde_json::to_value(&reply).unwrap();
        assert_eq!(v["ok"], json!(false));
        assert_eq!(v["error"]["code"], json!(1006));
        assert!(v.get("result").is_none());
    }

    #[test]
    fn card_requests_decode_as_documented_and_never_print_the_pin() {
        let env = decode_request(br#"{"id":4,"type":"card_verify_pin","pin":"20240615","confirmLastTry":true,"settings":{"backend":"pcsc","reader":"PCD"}}"#).unwrap();
        let Request::CardVerifyPin(verify) = &env.body else { panic!("{:?}", env.body) };
        assert!(verify.confirm_last_try);
        assert_eq!(verify.settings.backend, Some(CardBackendChoice::Pcsc));
        assert_eq!(verify.pin, crate::secret::Pin::new("20240615".into()));
        let shown = format!("{env:?}");
        assert!(!shown.contains("20240615") && shown.contains("<redacted>"), "{shown}");

        let status = decode_request(br#"{"id":5,"type":"card_status"}"#).unwrap();
        assert_eq!(status.body, Request::CardStatus(CardStatusRequest::default()));
        let wait = decode_request(br#"{"id":6,"type":"card_wait","until":"absent"}"#).unwrap();
        assert_eq!(wait.body, Request::CardWait(CardWaitRequest { until: CardWaitFor::Absent, timeout_ms: 30_000, settings: CardSettings::default() }));
        let sign = decode_request(r#"{"id":7,"type":"card_sign","data":"报关单"}"#.as_bytes()).unwrap();
        assert!(matches!(sign.body, Request::CardSign(CardSignRequest { pin: None, .. })));
        let (id, err) = decode_request(br#"{"id":8,"type":"card_verify_pin"}"#).unwrap_err();
        assert_eq!((id, err.code), (Some(8), ErrorCode::InvalidRequest.code()), "a PIN is required");
        let (_, err) = decode_request(br#"{"id":8,"type":"card_verify_pin","pin":20240615}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest.code());
        assert!(!err.detail.unwrap_or_default().contains("20240615"), "a numeric PIN is not quoted back");
        let (_, err) = decode_request(br#"{"id":9,"type":"card_wait","until":"soon"}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest.code());

        let mut secret = crate::secret::Pin::new("88888888".into());
        assert_eq!(serde_json::to_value(&secret).unwrap(), json!("88888888"), "the extension sends it as a plain string");
        assert_eq!(secret.take(), "88888888");
        assert_eq!(secret, crate::secret::Pin::new(String::new()));
    }

    #[test]
    fn card_replies_serialize_in_camel_case() {
        let reply = CardVerifyReply { verified: true, backend: CardBackendKind::Eport, card_id: Some("8930000012345".into()) };
        assert_eq!(serde_json::to_value(&reply).unwrap(), json!({"verified": true, "backend": "eport", "cardId": "8930000012345"}));
        let wait = CardWaitReply { card_present: false, reader: None, waited: true };
        assert_eq!(serde_json::to_value(&wait).unwrap(), json!({"cardPresent": false, "waited": true}));
        for name in ["card_status", "card_verify_pin", "card_sign", "card_wait"] {
            assert!(Request::TYPES.contains(&name), "{name} missing from Request::TYPES");
        }
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(1), Ok(1));
        assert_eq!(negotiate(99), Ok(PROTOCOL_VERSION));
        assert_eq!(negotiate(0), Err(ErrorCode::ProtocolMismatch));
        let ping = |protocol| PingReply {
            host: "datalink-host".into(),
            host_version: "0.0.9".into(),
            protocol,
            min_protocol: 0,
            os: "linux".into(),
            arch: "x86_64".into(),
            pid: 1,
        };
        assert_eq!(check_host(&ping(MIN_PROTOCOL_VERSION)), Ok(()));
        let refused = check_host(&ping(MIN_PROTOCOL_VERSION - 1)).unwrap_err();
        assert_eq!(refused.code, ErrorCode::HostTooOld.code());
        assert!(refused.detail.unwrap().contains("0.0.9"));
    }

    #[test]
    fn a_null_result_is_a_result() {
        let frames = encode_reply(&Reply::success(4, Value::Null), MAX_REPLY_FRAME).unwrap();
        let reply: Reply = serde_json::from_str(&frames[0]).unwrap();
        assert_eq!(reply.into_result(), Ok(Value::Null));
        let broken: Reply = serde_json::from_str(r#"{"id": 4, "ok": false}"#).unwrap();
        assert_eq!(broken.into_result().unwrap_err().code, ErrorCode::HostReplyInvalid.code());
    }

    #[test]
    fn small_replies_are_one_frame() {
        let reply = Reply::success(1, json!({"a": 1}));
        let frames = encode_reply(&reply, MAX_REPLY_FRAME).unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(serde_json::from_str::<HostMessage>(&frames[0]).unwrap(), HostMessage::Reply(reply));
    }

    #[test]
    fn large_replies_are_chunked_under_the_limit_and_reassemble() {
        // Quotes and CJK make the escaped size differ from the raw size: the worst cases.
        let text: String = "\"报关单\\\n".repeat(200_000);
        let reply = Reply::success(9, json!({ "text": text }));
        let frames = encode_reply(&reply, MAX_REPLY_FRAME).unwrap();
        assert!(frames.len() > 2);
        let mut asm = ChunkAssembler::default();
        let mut out = None;
        for frame in frames.iter().rev() {
            assert!(frame.len() <= MAX_REPLY_FRAME, "frame of {} bytes", frame.len());
            let HostMessage::Chunk(chunk) = serde_json::from_str(frame).unwrap() else { panic!("not a chunk") };
            out = asm.push(chunk).unwrap();
        }
        assert_eq!(out, Some(reply));
        assert_eq!(asm.pending(), 0);
    }

    #[test]
    fn assembler_refuses_inconsistent_chunks() {
        let mut asm = ChunkAssembler::default();
        let chunk = |index, count| Chunk { id: Some(1), chunk: ChunkPosition { index, count }, text: "x".into() };
        assert!(matches!(asm.push(chunk(2, 2)), Err(ChunkError::OutOfRange { .. })));
        assert!(matches!(asm.push(chunk(0, MAX_CHUNKS + 1)), Err(ChunkError::OutOfRange { .. })));
        assert_eq!(asm.push(chunk(0, 2)), Ok(None));
        assert!(matches!(asm.push(chunk(1, 3)), Err(ChunkError::CountChanged { .. })));
        assert_eq!(asm.pending(), 0);
        assert_eq!(asm.push(chunk(0, 2)), Ok(None));
        assert!(matches!(asm.push(chunk(1, 2)), Err(ChunkError::Json(_))));
    }

    proptest! {
        #[test]
        fn any_reply_survives_chunking(s in "\\PC{0,400}", max in 300usize..700) {
            let reply = Reply::success(u64::MAX, json!({ "s": s }));
            let frames = encode_reply(&reply, max).unwrap();
            let mut asm = ChunkAssembler::default();
            let mut out = None;
            for frame in &frames {
                prop_assert!(frame.len() <= max, "frame of {} bytes over {}", frame.len(), max);
                match serde_json::from_str::<HostMessage>(frame).unwrap() {
                    HostMessage::Chunk(c) => out = asm.push(c).unwrap(),
                    HostMessage::Reply(r) => out = Some(r),
                }
            }
            prop_assert_eq!(out, Some(reply));
        }
    }
}
