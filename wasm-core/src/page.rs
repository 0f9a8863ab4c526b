//! Messages from the extension's pages and content scripts to its service worker.
//!
//! Pages of the extension (the app) may ask for anything; a content script speaks for a portal
//! page, which DataLink does not control, so it may only ask for what is harmless
//! ([`PageRequest::allowed_from_content_script`]). The worker checks every message's sender
//! against this before acting on it.

use serde::{Deserialize, Serialize};

use crate::calendar::Date;
use crate::protocol::{EchoReply, PingReply};

/// What a page asks the service worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PageRequest {
    /// End-to-end self test: wasm plans the months of `from`–`to`, the host measures `text`.
    Diagnose { text: String, from: Date, to: Date },
    /// The host's handshake (连接协同服务).
    ConnectHost,
    /// 启动协同服务: create a task and run it in the worker.
    SyncStart(SyncStart),
    /// The running task's progress and new log lines (the page polls it).
    SyncStatus { #[serde(default)] after_seq: u64 },
    /// 取消执行.
    SyncCancel,
    /// 断点续查 / 补采: run an interrupted or failed task again, only its gaps.
    SyncResume {
        task: crate::task::TaskNumber,
        /// As in [`SyncStart::pin`].
        #[serde(default, skip_serializing)]
        pin: Option<crate::secret::Pin>,
        #[serde(default)]
        settings: Option<SyncSettings>,
    },
    /// 协同记录.
    TaskList(crate::checkpoint::TaskListQuery),
    /// A task's per-period counts (详情).
    TaskReport { task: crate::task::TaskNumber },
    /// A task's whole log (查看).
    TaskLog { task: crate::task::TaskNumber },
    /// From the content script on a card login page: may it log in? The worker answers with
    /// the PIN only in the tab it opened for a paused task, once per tab; `message` carries
    /// the page's error text when a previous attempt was refused.
    Autologin {
        #[serde(default)]
        message: Option<String>,
    },
    // ── The extension's pages (issue #5; `crate::browse`, `src/wasm/ui/`). ──
    /// 连接协同服务 → 环境检测: the host's handshake, the portal session at `portal`, the card;
    /// replies [`EnvReport`](crate::browse::EnvReport).
    EnvCheck { portal: String },
    /// One task (查看).
    TaskGet { task: crate::task::TaskNumber },
    /// 协同记录 with the 进出口 filter.
    TaskRecords(crate::browse::TaskRecordsQuery),
    /// 详情's declarations table.
    TaskDeclarations(crate::browse::DeclarationsQuery),
    /// 预览: one declaration from the store (`null` when the store has none).
    DeclarationGet(crate::browse::DeclarationRef),
    /// 导出: a task's or a date range's declarations as XLSX / CSV.
    Export(crate::browse::ExportRequest),
}

/// What 启动协同服务 sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStart {
    pub conditions: crate::task::Conditions,
    /// The portal base URL (`https://swapp.singlewindow.cn`, a provincial proxy, or portal-sim).
    pub portal: String,
    #[serde(default)]
    pub settings: SyncSettings,
    /// 中国电子口岸卡介质口令: when given, an expired portal session is renewed through the
    /// portal's card login page (at most a few times, never again once the card refused it).
    #[serde(default, skip_serializing)]
    pub pin: Option<crate::secret::Pin>,
    /// Verify the PIN on the IC card before the task is created (the form's step; the host
    /// never retries a PIN, so a wrong one stops here with the tries left).
    #[serde(default)]
    pub verify_card: bool,
    /// The card has one try left and the user confirmed the warning.
    #[serde(default)]
    pub confirm_last_try: bool,
    /// Which card backend and reader to use (the settings page); the host's defaults otherwise.
    #[serde(default)]
    pub card_settings: crate::protocol::CardSettings,
}

/// How hard the collector may press the portal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncSettings {
    /// Requests in flight at once.
    pub concurrency: u32,
    /// Requests started per second, at most.
    pub rate_per_second: f64,
    /// Rows asked per list page.
    pub page_size: u64,
    /// A request with no answer after this long is a timeout (retried).
    pub request_timeout_ms: u32,
}

impl Default for SyncSettings {
    /// Gentle on the real portal: public tools run up to 6 threads; no public code documents a
    /// rate limit (portal-api.md §1), so DataLink stays well below.
    fn default() -> SyncSettings {
        SyncSettings { concurrency: 3, rate_per_second: 4.0, page_size: 100, request_timeout_ms: 30_000 }
    }
}

impl Eq for SyncSettings {}

/// The running task, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// `None` when no task runs in this worker.
    pub task: Option<crate::task::TaskNumber>,
    pub state: Option<crate::task::TaskState>,
    /// Waiting for the user to log in to the portal again.
    pub paused: bool,
    pub reconciled: u64,
    pub found: u64,
    pub windows_done: u64,
    pub windows: u64,
    pub requests: u64,
    /// Estimated seconds left.
    pub seconds_left: Option<u64>,
    /// Log lines after `after_seq`, with their sequence numbers.
    pub lines: Vec<(u64, crate::checkpoint::LogLine)>,
    pub report: Option<crate::checkpoint::TaskReport>,
}

impl PageRequest {
    /// Whether a portal page (through the content script) may send this.
    pub fn allowed_from_content_script(&self) -> bool {
        matches!(self, PageRequest::Diagnose { .. } | PageRequest::Autologin { .. })
    }
}

/// Who sent a message to the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageSender {
    /// A page of the extension itself (`chrome-extension://<our id>/...`).
    ExtensionPage,
    /// Our content script, on a portal page of this origin, in this tab.
    ContentScript { origin: String, tab_id: i64 },
    /// Anything else (another extension, a web page through `externally_connectable`, …).
    Stranger,
}

impl MessageSender {
    /// Classifies a sender from `chrome.runtime.onMessage`'s `sender` fields.
    pub fn classify(our_id: &str, sender_id: Option<&str>, sender_url: Option<&str>, tab_id: Option<i64>) -> MessageSender {
        if sender_id != Some(our_id) {
            return MessageSender::Stranger;
        }
        let url = sender_url.unwrap_or_default();
        let own_origin = format!("chrome-extension://{our_id}/");
        if url.starts_with(&own_origin) {
            return MessageSender::ExtensionPage;
        }
        if let (Some(tab_id), Some(origin)) = (tab_id, origin_of(url)) {
            return MessageSender::ContentScript { origin, tab_id };
        }
        MessageSender::Stranger
    }

    pub fn may_send(&self, request: &PageRequest) -> bool {
        match self {
            MessageSender::ExtensionPage => true,
            MessageSender::ContentScript { .. } => request.allowed_from_content_script(),
            MessageSender::Stranger => false,
        }
    }
}

/// `scheme://host[:port]` of an http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

/// The self test's answer: one value computed in wasm, others in the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnoseReport {
    pub wasm: WasmFacts,
    pub host: PingReply,
    pub echo: EchoReply,
}

/// What the extension's own Rust (as wasm) computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmFacts {
    pub core_version: String,
    /// `cfg!(target_arch)`: "wasm32" in the extension.
    pub arch: String,
    /// Calendar-month periods of the requested range.
    pub periods: usize,
    pub first_period: String,
    pub last_period: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "abcdefghijklmnopabcdefghijklmnop";

    #[test]
    fn classifies_senders() {
        let page = MessageSender::classify(ID, Some(ID), Some(&format!("chrome-extension://{ID}/app.html")), Some(3));
        assert_eq!(page, MessageSender::ExtensionPage);
        let cs = MessageSender::classify(ID, Some(ID), Some("http://127.0.0.1:8080/deskserver/sw/deskIndex?x=1"), Some(7));
        assert_eq!(cs, MessageSender::ContentScript { origin: "http://127.0.0.1:8080".into(), tab_id: 7 });
        assert_eq!(MessageSender::classify(ID, Some("other"), Some("https://x.cn/"), Some(1)), MessageSender::Stranger);
        assert_eq!(MessageSender::classify(ID, Some(ID), Some("file:///etc/passwd"), Some(1)), MessageSender::Stranger);
        assert_eq!(MessageSender::classify(ID, Some(ID), Some("https://x.cn/"), None), MessageSender::Stranger);
    }

    #[test]
    fn portal_pages_may_only_diagnose() {
        let cs = MessageSender::ContentScript { origin: "https://swapp.singlewindow.cn".into(), tab_id: 1 };
        let diagnose = PageRequest::Diagnose { text: "x".into(), from: "2026-01-01".parse().unwrap(), to: "2026-01-31".parse().unwrap() };
        assert!(cs.may_send(&diagnose));
        assert!(!cs.may_send(&PageRequest::ConnectHost));
        assert!(cs.may_send(&PageRequest::Autologin { message: None }));
        assert!(!cs.may_send(&PageRequest::SyncCancel));
        assert!(MessageSender::ExtensionPage.may_send(&PageRequest::ConnectHost));
        assert!(!MessageSender::Stranger.may_send(&diagnose));
    }
}
