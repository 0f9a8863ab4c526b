//! Every error a user can meet, with its stable number and its Chinese message — in one place.
//!
//! The host and the extension both speak in [`ErrorCode`]s: the host puts the number in its
//! error replies (see PROTOCOL.md), the extension maps any code to what the user reads with
//! [`ErrorCode::user_message`]. Messages never carry a PIN, SQL, or a file path; detail for
//! developers travels separately (`ErrorInfo::detail`) and is only logged.
//!
//! Numbers are stable: never reuse or renumber one. Ranges: 1xxx the host protocol,
//! 11xx the link between extension and host, 9xxx internal.

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
}

impl ErrorInfo {
    pub fn new(code: ErrorCode) -> ErrorInfo {
        ErrorInfo { code: code.code(), name: code.name().to_owned(), message: code.user_message().to_owned(), detail: None }
    }

    pub fn with_detail(code: ErrorCode, detail: impl Into<String>) -> ErrorInfo {
        ErrorInfo { detail: Some(detail.into()), ..ErrorInfo::new(code) }
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
    fn protocol_md_lists_every_code() {
        let doc = include_str!("../../PROTOCOL.md");
        for &c in ErrorCode::ALL {
            let row = format!("| {} | `{}` |", c.code(), c.name());
            assert!(doc.contains(&row), "PROTOCOL.md lacks the row starting {row:?}");
            assert!(doc.contains(c.user_message()), "PROTOCOL.md lacks the message of {}", c.name());
        }
    }
}
