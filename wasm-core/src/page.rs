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
    /// 补采 of the official documents for a past task (查看 / 详情): runs its documents phase.
    DocumentsFetch {
        task: crate::task::TaskNumber,
        #[serde(default, skip_serializing)]
        pin: Option<crate::secret::Pin>,
        #[serde(default)]
        settings: Option<SyncSettings>,
    },
    /// One stored document (预览: the receipts timeline, the PDF as base64).
    DocumentGet(crate::documents::DocumentRef),
    /// A task's or a month's PDFs as a ZIP with an index (详情).
    DocumentsExport(crate::documents::DocumentsExport),
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
    /// The enterprises in the store (the header's switch between them).
    Enterprises,
    // ── 数据验证报告 (issue #7; `crate::report`, `src/wasm/ui/report.rs`). ──
    /// Which months of the range a reconciled sync covers (数据协同核验表).
    ReportCoverage(crate::report::ReportRange),
    /// The trade value figures and the certificate's words (the preview).
    ReportTradeValue(crate::report::ReportForm),
    /// PDF 下载 / PDF 打印: the certificate, optionally signed with the IC card.
    CertificateMake(CertificateMake),
    /// The certificate's settings (出具单位, 印章文字, 企业名称, 统一社会信用代码).
    SettingsGet,
    SettingsSet(crate::report::Settings),
}

/// What PDF 下载 / PDF 打印 sends: the form, and the card PIN when the user signs. The PIN is
/// read from the page but never written back out of the worker (`skip_serializing`, as in
/// [`SyncStart::pin`]); the worker hands it to the host in a
/// [`CertificateRequest`](crate::report::CertificateRequest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateMake {
    #[serde(flatten)]
    pub form: crate::report::ReportForm,
    /// 使用IC卡签名.
    #[serde(default)]
    pub sign: bool,
    #[serde(default, skip_serializing)]
    pub pin: Option<crate::secret::Pin>,
    /// The card has one try left and the user confirmed the warning.
    #[serde(default)]
    pub confirm_last_try: bool,
}

impl CertificateMake {
    /// The host's request (the only place the PIN leaves the worker).
    pub fn into_request(self) -> crate::report::CertificateRequest {
        crate::report::CertificateRequest { form: self.form, sign: self.sign, pin: self.pin, confirm_last_try: self.confirm_last_try }
    }
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
    /// 同时下载报关单打印件、回执和随附单证清单 (issue #10; `crate::documents`).
    #[serde(default)]
    pub documents: bool,
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

    fn report_requests() -> Vec<PageRequest> {
        let range = crate::report::ReportRange { from: "2025-01".into(), to: "2025-12".into(), enterprise: None };
        let form = crate::report::ReportForm { range: range.clone(), project: "外贸发展专项资金".into(), department: "西安市商务局".into() };
        vec![
            PageRequest::ReportCoverage(range),
            PageRequest::ReportTradeValue(form.clone()),
            PageRequest::CertificateMake(CertificateMake { form, sign: true, pin: Some(crate::secret::Pin::new("88888888".into())), confirm_last_try: false }),
            PageRequest::SettingsGet,
            PageRequest::SettingsSet(crate::report::Settings::default()),
        ]
    }

    #[test]
    fn report_requests_are_for_extension_pages_only() {
        let cs = MessageSender::ContentScript { origin: "https://swapp.singlewindow.cn".into(), tab_id: 1 };
        for request in report_requests() {
            assert!(!request.allowed_from_content_script(), "{request:?}");
            assert!(!cs.may_send(&request), "{request:?}");
            assert!(MessageSender::ExtensionPage.may_send(&request), "{request:?}");
            assert!(!MessageSender::Stranger.may_send(&request), "{request:?}");
        }
    }

    #[test]
    fn report_requests_read_as_the_pages_send_them_and_the_pin_never_goes_back_out() {
        let read = |text: &str| serde_json::from_str::<PageRequest>(text).unwrap();
        assert_eq!(read(r#"{"type":"report_coverage","from":"2025-01","to":"2025-12"}"#), report_requests()[0]);
        assert_eq!(read(r#"{"type":"report_trade_value","from":"2025-01","to":"2025-12","project":"外贸发展专项资金","department":"西安市商务局"}"#), report_requests()[1]);
        let make = read(
            r#"{"type":"certificate_make","from":"2025-01","to":"2025-12","project":"外贸发展专项资金","department":"西安市商务局","sign":true,"pin":"88888888"}"#,
        );
        assert_eq!(make, report_requests()[2]);
        assert_eq!(read(r#"{"type":"settings_get"}"#), PageRequest::SettingsGet);
        let set = read(r#"{"type":"settings_set","values":{"issuer":"示例电子口岸"}}"#);
        let PageRequest::SettingsSet(settings) = set else { panic!("settings_set") };
        assert_eq!(settings.values.get("issuer").map(String::as_str), Some("示例电子口岸"));

        // Written out (a log, an echo), the page's request has no PIN …
        let out = serde_json::to_string(&make).unwrap();
        assert!(!out.contains("88888888"), "{out}");
        assert!(out.contains("\"sign\":true"), "{out}");
        // … and the host's request has it, once, where the host reads it.
        let PageRequest::CertificateMake(make) = make else { panic!("certificate_make") };
        let request = make.into_request();
        assert_eq!(request.pin.as_ref().map(crate::secret::Pin::expose), Some("88888888"));
        assert_eq!(request.form.range.compact(), "202501-202512");
        // Unsigned: no PIN at all, and the defaults.
        let plain = read(r#"{"type":"certificate_make","from":"2025-01","to":"2025-03","project":"p","department":"d"}"#);
        assert!(matches!(plain, PageRequest::CertificateMake(CertificateMake { sign: false, pin: None, confirm_last_try: false, .. })));
    }
}
