//! Every error a user can meet, with its stable number and its Chinese message — in one place.
//!
//! The host and the extension both speak in [`ErrorCode`]s: the host puts the number in its
//! error replies (see PROTOCOL.md), the extension maps any code to what the user reads with
//! [`ErrorCode::user_message`]. Messages never carry a PIN, SQL, or a file path; detail for
//! developers travels separately (`ErrorInfo::detail`) and is only logged.
//!
//! Numbers are stable: never reuse or renumber one. Ranges: 1xxx the host protocol,
//! 11xx the link between extension and host, 2xxx the host's local store, 3xxx the IC card,
//! 4xxx reports and the certificate, 9xxx internal.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $name:literal, $zh:literal; )*) => {
        /// A stable, numbered error. See the table in PROTOCOL.md.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in table order (PROTOCOL.md is checked against this list).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The stable number.
            pub fn code(self) -> u32 {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The stable snake_case name.
            pub fn name(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name,)* }
            }

            /// What the user reads, in Chinese.
            pub fn user_message(self) -> &'static str {
                match self { $(ErrorCode::$variant => $zh,)* }
            }

            pub fn from_code(code: u32) -> Option<ErrorCode> {
                match code { $($code => Some(ErrorCode::$variant),)* _ => None }
            }
        }
    };
}

error_codes! {
    /// A frame's length prefix is larger than the host accepts.
    FrameTooLarge = 1001, "frame_too_large", "请求数据过大，协同客户端已拒绝";
    /// A frame is not UTF-8 JSON.
    MalformedJson = 1002, "malformed_json", "请求格式错误（不是有效的 JSON）";
    /// JSON without a numeric `id` or a string `type`, or with fields of the wrong shape.
    InvalidRequest = 1003, "invalid_request", "请求内容不完整或格式不正确";
    /// A `type` this host does not know (the extension is newer than the host?).
    UnknownRequestType = 1004, "unknown_request_type", "协同客户端不支持该操作，请更新协同客户端";
    /// The two sides share no protocol version.
    ProtocolMismatch = 1005, "protocol_mismatch", "浏览器扩展与协同客户端版本不匹配，请将两者更新到同一版本";
    /// Too many requests at once.
    Busy = 1006, "busy", "协同客户端繁忙，请稍后重试";
    /// The browser found no registered native host (not installed, or the manifest is wrong).
    HostNotFound = 1101, "host_not_found", "未检测到协同客户端，请先安装并启动协同客户端";
    /// The host went away (crashed, killed, or closed the pipe).
    HostDisconnected = 1102, "host_disconnected", "与协同客户端的连接已断开，正在重新连接";
    /// The host did not answer in time.
    HostTimeout = 1103, "host_timeout", "协同客户端响应超时";
    /// A reply that does not follow the protocol.
    HostReplyInvalid = 1104, "host_reply_invalid", "协同客户端返回了无法识别的数据";
    /// A message to the extension that it does not accept from that sender.
    NotAllowed = 1105, "not_allowed", "该页面无权执行此操作";
    /// The host answered `ping` with a protocol older than the extension accepts
    /// (`MIN_PROTOCOL_VERSION`): the extension refuses it.
    HostTooOld = 1106, "host_too_old", "协同客户端版本过旧，无法与本浏览器扩展协同，请更新协同客户端";
    // ── 12xx: the sync, as the extension runs it. ──
    /// 启动协同服务 while another task runs.
    SyncAlreadyRunning = 1201, "sync_already_running", "已有协同任务正在执行，请等待其完成或先取消执行";
    /// The portal session probe failed: the user is not logged in to the Single Window.
    PortalNotLoggedIn = 1202, "portal_not_logged_in", "单一窗口未登录或登录已失效，请先使用卡介质登录单一窗口";
    /// The form's conditions are not valid (the detail says which).
    ConditionsInvalid = 1203, "conditions_invalid", "查询条件不正确，请检查时间跨度和单号";
    /// 取消执行 / status with no task running.
    NoRunningTask = 1204, "no_running_task", "当前没有正在执行的协同任务";
    /// The portal could not be reached at all.
    PortalUnreachable = 1205, "portal_unreachable", "无法连接单一窗口，请检查网络后重试";
    // ── 2xxx: the host's local store (native host, `native-host/src/store/`). ──
    /// The SQLite file (or its folder) cannot be created or opened: permissions, a missing
    /// drive, or a file that is not DataLink's database.
    StoreUnavailable = 2001, "store_unavailable", "本地数据库无法打开，请检查协同客户端数据目录的权限后重试";
    /// Another process held the database locked for longer than the busy timeout.
    StoreBusy = 2002, "store_busy", "本地数据库正被其他程序占用，请稍后重试";
    /// The disk (or the user's quota) is full: nothing of the request was saved.
    StoreFull = 2003, "store_full", "磁盘空间不足，协同数据无法保存，请清理磁盘空间后重试";
    /// SQLite found the file damaged (or not a database at all).
    StoreCorrupt = 2004, "store_corrupt", "本地数据库已损坏，请将日志发送给技术支持";
    /// The database was written by a newer host (its schema version is above this build's).
    StoreNewerVersion = 2005, "store_newer_version", "本地数据库由更新版本的协同客户端创建，请更新协同客户端";
    /// A request named a task number the store does not have.
    TaskNotFound = 2006, "task_not_found", "未找到该协同任务";
    /// `document_save`: a PDF larger than `documents::MAX_PDF_BYTES` (its base64 would not fit
    /// the 8 MiB request cap).
    DocumentTooLarge = 2007, "document_too_large", "报关单打印件超过 6 MB，无法保存";
    /// `document_save`: the bytes are not a whole PDF (no `%PDF-` header or `%%EOF` trailer, not
    /// base64): nothing was written; the extension fetches it again.
    DocumentNotPdf = 2008, "document_not_pdf", "报关单打印件不完整或不是 PDF 文件，未保存";
    // ── 3xxx: the IC card (native host, `native-host/src/card/`). ──
    /// The PC/SC service (pcscd / Windows 智能卡服务) is not running or not installed.
    NoPcscService = 3001, "no_pcsc_service", "未检测到智能卡服务（PC/SC），请启动系统的智能卡服务后重试";
    /// Nothing answers at the E-Port client control's address (ws://127.0.0.1:61232).
    ClientControlNotRunning = 3002, "client_control_not_running", "未检测到中国电子口岸客户端控件，请安装并启动电子口岸客户端后重试";
    /// No card reader is connected (or none matches the configured one).
    NoReader = 3003, "no_reader", "未检测到读卡器，请连接读卡器后重试";
    /// A reader, but no card in it.
    NoCard = 3004, "no_card", "未检测到IC卡，请将IC卡插入读卡器";
    /// The card was pulled out during an operation; its result is unknown.
    CardRemoved = 3005, "card_removed", "操作过程中IC卡被拔出，请重新插入IC卡后重试";
    /// Another program holds the reader exclusively.
    ReaderBusy = 3006, "reader_busy", "读卡器正被其他程序占用，请关闭其他使用IC卡的程序后重试";
    /// The card refused the PIN; `retriesLeft` says how many tries are left, when known.
    WrongPin = 3007, "wrong_pin", "IC卡密码错误";
    /// No tries left: only the card service can unlock the card.
    CardLocked = 3008, "card_locked", "IC卡已被锁定，请联系中国电子口岸制卡中心（IC卡服务网点）解锁，请勿再次尝试";
    /// The PIN was refused locally, before reaching the card (no try was used).
    PinFormat = 3009, "pin_format", "IC卡密码格式不正确：应为 6–16 位英文字母或数字（请检查是否误用了全角字符或空格），本次未提交到IC卡";
    /// A card DataLink cannot talk to safely (unknown ATR or applet): it never gets a PIN.
    UnsupportedCard = 3010, "unsupported_card", "无法识别该IC卡，为保护IC卡，未向其提交密码；请使用中国电子口岸IC卡并安装电子口岸客户端";
    /// The card, reader or client control did not answer in time.
    CardTimeout = 3011, "card_timeout", "IC卡操作超时，请检查读卡器和IC卡后重试";
    /// The reader or the card failed in a way not listed above.
    ReaderError = 3012, "reader_error", "读卡器或IC卡操作失败，请重新插拔读卡器和IC卡后重试";
    /// The E-Port client control reported an error DataLink does not know (its text is in `detail`).
    CardClientError = 3013, "card_client_error", "电子口岸客户端控件报告了错误，请重新插拔IC卡或重启电子口岸客户端后重试";
    /// The E-Port client control answered something that breaks its protocol.
    CardClientReplyInvalid = 3014, "card_client_reply_invalid", "电子口岸客户端控件返回了无法识别的数据，请重启电子口岸客户端后重试";
    /// The card needs the PIN first (e.g. for signing).
    PinRequired = 3015, "pin_required", "请先输入IC卡密码";
    /// One try left: the host refuses the PIN until the user confirms the last try.
    LastTryUnconfirmed = 3016, "last_try_unconfirmed", "IC卡密码只剩最后一次尝试机会，再输错IC卡将被锁定；请确认密码无误后再提交";
    /// The card's certificate is expired or not yet valid.
    CertNotValidNow = 3017, "cert_not_valid_now", "IC卡证书不在有效期内，请到中国电子口岸制卡中心办理证书更新";
    // ── 4xxx: reports and the certificate (数据验证报告). ──
    /// The report's time range is malformed, reversed, or crosses a calendar year.
    ReportRangeInvalid = 4001, "report_range_invalid", "时间范围不正确：应为 YYYYMM–YYYYMM，开始不晚于结束，且不可跨年";
    /// Some months of the range have no reconciled sync (the detail names them).
    ReportMonthsNotSynced = 4002, "report_months_not_synced", "所选时间范围内有月份尚未完成数据协同（查询数、命中数、核销数一致），请先协同这些月份";
    /// A customs or SAFE rate the figures need is not in the rate tables (the detail names the month and currency).
    RateMissing = 4003, "rate_missing", "缺少所需月份和币制的汇率，请用 datalink-host rates import 导入汇率表后重试";
    /// The Chinese holiday calendar does not cover a year the rate dates need.
    HolidayDataMissing = 4004, "holiday_data_missing", "节假日数据未覆盖所需年份，请更新协同客户端或导入节假日表";
    /// A stored goods line has an amount or currency DataLink cannot read (the detail names the declaration).
    DeclarationValueInvalid = 4005, "declaration_value_invalid", "有报关单的金额或币制无法识别，请重新协同该报关单所在月份";
    /// No Chinese font for the PDF.
    FontMissing = 4006, "font_missing", "未找到中文字体，无法生成 PDF，请安装 Noto CJK 字体（fonts-noto-cjk）";
    /// 申请项目 or 申报部门 is empty or too long.
    ReportInputInvalid = 4007, "report_input_invalid", "请填写申请项目和申报部门（各不超过 60 个字）";
    /// A rate or holiday file to import is not in the expected format (the detail names the line).
    DataFileInvalid = 4008, "data_file_invalid", "导入的文件格式不正确，请按模板填写后重试";
    /// A bug: the detail is logged for developers.
    Internal = 9001, "internal", "内部错误，请将日志发送给技术支持";
}

/// An error as it crosses a boundary (host → extension → page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub code: u32,
    pub name: String,
    /// For the user, in Chinese.
    pub message: String,
    /// For developers: what went wrong, without secrets. Not shown by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Only for `wrong_pin` (3007): the PIN tries the card has left, when the card or the
    /// E-Port client control said so. The UI warns before the next try when it is 1.
    #[serde(rename = "retriesLeft", default, skip_serializing_if = "Option::is_none")]
    pub retries_left: Option<u8>,
}

impl ErrorInfo {
    pub fn new(code: ErrorCode) -> ErrorInfo {
        ErrorInfo {
            code: code.code(),
            name: code.name().to_owned(),
            message: code.user_message().to_owned(),
            detail: None,
            retries_left: None,
        }
    }

    pub fn with_detail(code: ErrorCode, detail: impl Into<String>) -> ErrorInfo {
        ErrorInfo { detail: Some(detail.into()), ..ErrorInfo::new(code) }
    }

    /// A wrong PIN (3007) with the tries left, when known; the message spells out what they
    /// mean, so every page shows the same words.
    pub fn wrong_pin(retries_left: Option<u8>) -> ErrorInfo {
        let base = ErrorCode::WrongPin.user_message();
        let message = match retries_left {
            Some(0) => format!("{base}，已没有剩余尝试次数"),
            Some(1) => format!("{base}，只剩最后 1 次尝试机会：再输错一次IC卡将被锁定"),
            Some(n) => format!("{base}，还可尝试 {n} 次"),
            None => format!("{base}（IC卡未告知剩余尝试次数；多次输错IC卡将被锁定，请确认密码后再试）"),
        };
        ErrorInfo { message, retries_left, ..ErrorInfo::new(ErrorCode::WrongPin) }
    }

    pub fn error_code(&self) -> Option<ErrorCode> {
        ErrorCode::from_code(self.code)
    }
}

impl std::fmt::Display for ErrorInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}（错误码 {}）", self.message, self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_round_trip() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for &c in ErrorCode::ALL {
            assert!(codes.insert(c.code()), "duplicate code {}", c.code());
            assert!(names.insert(c.name()), "duplicate name {}", c.name());
            assert_eq!(ErrorCode::from_code(c.code()), Some(c));
            assert!(!c.user_message().is_empty());
        }
        assert_eq!(ErrorCode::from_code(4242), None);
    }

    #[test]
    fn a_wrong_pin_carries_its_retries_and_says_what_they_mean() {
        let two = ErrorInfo::wrong_pin(Some(2));
        assert_eq!((two.code, two.retries_left), (3007, Some(2)));
        assert!(two.message.starts_with(ErrorCode::WrongPin.user_message()) && two.message.contains("还可尝试 2 次"));
        assert!(ErrorInfo::wrong_pin(Some(1)).message.contains("将被锁定"));
        assert!(ErrorInfo::wrong_pin(None).message.contains("未告知"));
        let json = serde_json::to_value(&two).unwrap();
        assert_eq!(json["retriesLeft"], serde_json::json!(2));
        assert!(serde_json::to_value(ErrorInfo::new(ErrorCode::NoCard)).unwrap().get("retriesLeft").is_none());
        let old: ErrorInfo = serde_json::from_str(r#"{"code":3004,"name":"no_card","message":"x"}"#).unwrap();
        assert_eq!(old.retries_left, None);
    }

    #[test]
    fn protocol_md_lists_every_code() {
        let doc = include_str!("../../PROTOCOL.md");
        for &c in ErrorCode::ALL {
            let row = format!("| {} | `{}` |", c.code(), c.name());
            assert!(doc.contains(&row), "PROTOCOL.md lacks the row starting {row:?}");
            assert!(doc.contains(c.user_message()), "PROTOCOL.md lacks the message of {}", c.name());
        }
    }
}
