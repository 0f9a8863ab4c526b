//! The E-Port client control's JSON messages, without any I/O: building requests, reading
//! replies, and turning its `Error` texts into [`CardError`]s.
//!
//! The control (中国电子口岸客户端控件, a local WebSocket server, `eport-card.md` §4) exchanges
//! text frames:
//!
//! ```text
//! request  {"_method":"cus-sec_SpcVerifyPINAll","_id":3,"args":{"passwd":"…"}}
//! reply    {"_id":3,"_method":"cus-sec_SpcVerifyPINAll","_status":"00",
//!           "_args":{"Result":false,"Data":[],"Error":["…输入口令错误…","Err:Custom10014"]}}
//! greeting {"_id":0,"_method":"open","_status":"00",…}   (sent once, right after connecting)
//! ```
//!
//! A reply belongs to a request when **both** `_method` and `_id` match (the official JS only
//! matches `_method`, which mixes up two calls of one method). It succeeded when `_status` is
//! `"00"` and `_args.Result` is true; then `Data` holds the values (`Data[0]` for getters;
//! signature and certificate number for signing).
//!
//! A failure's `Error` is `[text for people, "Err:<Category><code>"]`. The texts for a wrong PIN,
//! a locked card and a missing card are not public, so [`classify`] reads them defensively —
//! 口令/密码 + 错误 is a wrong PIN, 剩余/还可… N 次 is the count, 锁 is locked, 读卡器 is the
//! reader — and every error keeps the raw text in its detail for support.

use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::CardError;

/// The card methods DataLink calls.
pub mod method {
    pub const GET_CARD_ID: &str = "cus-sec_SpcGetCardID";
    pub const GET_HOLDER: &str = "cus-sec_SpcGetUName";
    pub const GET_ENTERPRISE: &str = "cus-sec_SpcGetEntName";
    pub const GET_CERT_NO: &str = "cus-sec_SpcGetCertNo";
    pub const GET_SIGN_CERT_PEM: &str = "cus-sec_SpcGetSignCertAsPEM";
    /// Opens the card, verifies, closes it. (`cus-sec_SpcVerifyPIN` verifies only and needs
    /// the card opened first with `SpcInitEnvEx`; DataLink does not use it.)
    pub const VERIFY_PIN_ALL: &str = "cus-sec_SpcVerifyPINAll";
    pub const SIGN_DATA_PEM: &str = "cus-sec_SpcSignDataAsPEM";
}

/// A request's text. It may hold the PIN (`args.passwd`), so it is wiped when dropped.
pub fn request_text(method: &str, id: u64, args: Value) -> Zeroizing<String> {
    let mut request = json!({"_method": method, "_id": id, "args": args});
    let text = Zeroizing::new(request.to_string());
    wipe_strings(&mut request);
    text
}

/// Overwrites every string in a JSON value (best effort for `args` that held the PIN).
pub fn wipe_strings(value: &mut Value) {
    match value {
        Value::String(s) => zeroize::Zeroize::zeroize(s),
        Value::Array(items) => items.iter_mut().for_each(wipe_strings),
        Value::Object(map) => map.values_mut().for_each(wipe_strings),
        _ => {}
    }
}

/// One message from the control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub id: Option<u64>,
    pub method: String,
    pub status: Option<String>,
    /// `_args.Result`, when present.
    pub result: Option<bool>,
    pub data: Vec<String>,
    pub errors: Vec<String>,
}

impl Frame {
    /// The greeting the control sends on connect (`_method: "open"`).
    pub fn is_greeting(&self) -> bool {
        self.method == "open"
    }

    /// Whether this is the reply to request `id` of `method`.
    pub fn answers(&self, method: &str, id: u64) -> bool {
        self.method == method && self.id == Some(id)
    }
}

/// Reads a text frame; `Err` says why it is not a control message (for the detail).
pub fn parse_frame(text: &str) -> Result<Frame, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let Value::Object(fields) = value else {
        return Err("not a JSON object".into());
    };
    let method = fields.get("_method").and_then(Value::as_str).ok_or("no string `_method`")?.to_owned();
    let id = match fields.get("_id") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let status = fields.get("_status").map(|s| s.as_str().map(str::to_owned).unwrap_or_else(|| s.to_string()));
    let args = fields.get("_args");
    let strings = |key: &str| -> Vec<String> {
        match args.and_then(|a| a.get(key)) {
            Some(Value::Array(items)) => items.iter().map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())).collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    Ok(Frame { id, method, status, result: args.and_then(|a| a.get("Result")).and_then(Value::as_bool), data: strings("Data"), errors: strings("Error") })
}

/// The outcome a reply carries: its `Data`, or the error it reports.
pub fn outcome(frame: &Frame) -> Result<Vec<String>, CardError> {
    let status_ok = frame.status.as_deref().is_none_or(|s| s == "00");
    match frame.result {
        Some(true) if status_ok => Ok(frame.data.clone()),
        Some(false) => Err(classify(&frame.errors)),
        _ if !frame.errors.is_empty() => Err(classify(&frame.errors)),
        Some(true) => Err(CardError::ClientReplyInvalid(format!("`_status` {:?} with Result true", frame.status))),
        None => Err(CardError::ClientReplyInvalid("a reply without `_args.Result`".into())),
    }
}

/// The `Err:<Category><code>` item of an `Error` array: `("Custom", Some(50070))`.
pub fn error_code(errors: &[String]) -> Option<(String, Option<u32>)> {
    let tag = errors.iter().find_map(|e| e.trim().strip_prefix("Err:"))?;
    let split = tag.find(|c: char| c.is_ascii_digit()).unwrap_or(tag.len());
    Some((tag[..split].to_owned(), tag[split..].parse().ok()))
}

/// What an `Error` array means. The raw strings go into the error's detail.
pub fn classify(errors: &[String]) -> CardError {
    let text = errors.join(" ");
    let raw = || text.clone();
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    let code = error_code(errors);
    let number = code.as_ref().and_then(|(_, n)| *n);

    if has(&["锁定", "已锁", "锁死", "被锁", "已被锁", "locked"]) {
        return CardError::CardLocked;
    }
    if has(&["口令", "密码", "PIN", "pin"]) && has(&["错误", "不正确", "不符", "有误", "wrong", "incorrect"]) {
        return match retries_in(&text) {
            Some(0) => CardError::CardLocked,
            retries_left => CardError::WrongPin { retries_left },
        };
    }
    if has(&["请先验证口令", "未验证口令", "口令未验证", "请先输入口令", "请先验证密码"]) {
        return CardError::PinRequired;
    }
    if number == Some(60408) || has(&["连接客户端控件服务失败"]) {
        return CardError::ClientControlNotRunning(raw());
    }
    if number == Some(50200) || has(&["打开读卡器失败", "未找到读卡器", "没有读卡器", "未检测到读卡器", "读卡器未连接", "读卡器不存在"]) {
        return CardError::NoReader(raw());
    }
    if has(&["未检测到IC卡", "未检测到卡", "未插卡", "未插入", "无卡", "请插入", "卡片不存在", "没有插卡", "找不到卡"]) {
        return CardError::NoCard;
    }
    if number == Some(50070) || has(&["读卡器"]) {
        return CardError::ReaderError(raw());
    }
    if has(&["超时"]) {
        return CardError::Timeout(raw());
    }
    CardError::ClientError(raw())
}

/// "Tries left" in a message: a number after 剩余 / 还剩 / 还可(以)(输入|尝试|重试) / 还有 / 还能, or before
/// 次机会. Digits or one Chinese numeral.
pub fn retries_in(text: &str) -> Option<u8> {
    const AFTER: &[&str] = &["剩余重试次数", "剩余尝试次数", "剩余次数", "剩余", "还剩", "还可以", "还可", "还有", "还能", "可重试"];
    for marker in AFTER {
        let mut from = 0;
        while let Some(at) = text[from..].find(marker) {
            let start = from + at + marker.len();
            if let Some(n) = number_after(&text[start..]) {
                return Some(n);
            }
            from = start;
        }
    }
    let before = text.find("次机会")?;
    let digits: String = text[..before].trim_end().chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect();
    digits.parse().ok()
}

/// A number at the start of `rest`, after at most a few filler characters (：, 为, 输入, 尝试, …).
fn number_after(rest: &str) -> Option<u8> {
    const FILLER: &[char] = &[':', '：', ' ', '为', '是', '输', '入', '尝', '试', '重', '以', '(', '（'];
    let trimmed = rest.trim_start_matches(FILLER);
    let digits: String = trimmed.chars().take_while(char::is_ascii_digit).collect();
    if !digits.is_empty() {
        return digits.parse().ok();
    }
    let numeral = trimmed.chars().next()?;
    let value = "零一二两三四五六七八九".find(numeral)?;
    let index = "零一二两三四五六七八九"[..value].chars().count();
    // 两 is 2, so the numerals after it are one lower than their position.
    Some(match index {
        0..=2 => index as u8,
        3 => 2,
        n => (n - 1) as u8,
    })
    .filter(|_| trimmed[numeral.len_utf8()..].starts_with('次'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn requests_carry_method_id_and_args() {
        let text = request_text(method::GET_CARD_ID, 7, json!({}));
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value, json!({"_method": "cus-sec_SpcGetCardID", "_id": 7, "args": {}}));
        let mut args = json!({"passwd": "88888888", "nested": ["x"]});
        wipe_strings(&mut args);
        assert_eq!(args["passwd"], json!(""));
        assert_eq!(args["nested"][0], json!(""));
    }

    #[test]
    fn reads_success_greeting_and_failure() {
        let ok = parse_frame(r#"{"_id":1,"_method":"cus-sec_SpcGetCardID","_status":"00","_args":{"Result":true,"Data":["03-8930000012345"],"Error":[]}}"#).unwrap();
        assert!(ok.answers(method::GET_CARD_ID, 1));
        assert!(!ok.answers(method::GET_CARD_ID, 2));
        assert!(!ok.answers(method::GET_HOLDER, 1));
        assert_eq!(outcome(&ok), Ok(vec!["03-8930000012345".to_owned()]));

        let hello = parse_frame(r#"{"_id":0,"_method":"open","_status":"00","_args":{"Result":true,"Data":[],"Error":[]}}"#).unwrap();
        assert!(hello.is_greeting());

        let reader = parse_frame(r#"{"_id":"2","_method":"cus-sec_SpcVerifyPINAll","_status":"00","_args":{"Result":false,"Data":[],"Error":["[读卡器底层库]复位读卡器失败:错误码=50070","Err:Custom50070"]}}"#).unwrap();
        assert_eq!(reader.id, Some(2), "a string id is read too");
        assert!(matches!(outcome(&reader), Err(CardError::ReaderError(raw)) if raw.contains("复位读卡器失败") && raw.contains("Err:Custom50070")));
    }

    #[test]
    fn data_that_is_not_a_string_is_kept_as_json() {
        let f = parse_frame(r#"{"_id":3,"_method":"m","_args":{"Result":true,"Data":[{"szStartTime":"20240101"}]}}"#).unwrap();
        assert_eq!(f.data, vec![r#"{"szStartTime":"20240101"}"#.to_owned()]);
    }

    #[test]
    fn broken_replies() {
        assert!(parse_frame("<html>").unwrap_err().starts_with("not JSON"));
        assert_eq!(parse_frame("[1]").unwrap_err(), "not a JSON object");
        assert_eq!(parse_frame(r#"{"_id":1}"#).unwrap_err(), "no string `_method`");
        let no_result = parse_frame(r#"{"_id":1,"_method":"m","_status":"00","_args":{}}"#).unwrap();
        assert!(matches!(outcome(&no_result), Err(CardError::ClientReplyInvalid(_))));
        let bad_status = parse_frame(r#"{"_id":1,"_method":"m","_status":"01","_args":{"Result":true,"Data":[]}}"#).unwrap();
        assert!(matches!(outcome(&bad_status), Err(CardError::ClientReplyInvalid(_))));
    }

    #[test]
    fn error_codes_split_category_and_number() {
        assert_eq!(error_code(&errors(&["x", "Err:Custom50070"])), Some(("Custom".into(), Some(50070))));
        assert_eq!(error_code(&errors(&["连接客户端控件服务失败,请重试.", "Err:Base60408"])), Some(("Base".into(), Some(60408))));
        assert_eq!(error_code(&errors(&["no code"])), None);
    }

    #[test]
    fn wrong_pins_with_and_without_a_count() {
        let cases: &[(&str, Option<u8>)] = &[
            ("[SPSecureAPI]输入口令错误，剩余重试次数：2", Some(2)),
            ("输入口令错误,还可以尝试1次", Some(1)),
            ("口令错误，还可输入 5 次", Some(5)),
            ("密码错误（剩余次数:3）", Some(3)),
            ("PIN码不正确，您还有两次机会", Some(2)),
            ("口令有误，还剩 4 次机会", Some(4)),
            ("输入口令错误", None),
        ];
        for (text, retries) in cases {
            assert_eq!(classify(&errors(&[text, "Err:Custom10014"])), CardError::WrongPin { retries_left: *retries }, "{text}");
        }
        assert_eq!(classify(&errors(&["口令错误，剩余0次"])), CardError::CardLocked);
    }

    #[test]
    fn locked_reader_card_and_the_rest() {
        assert_eq!(classify(&errors(&["[SPSecureAPI]卡片已锁定，请联系发卡机构解锁", "Err:Custom10015"])), CardError::CardLocked);
        assert_eq!(classify(&errors(&["口令错误次数过多，卡已被锁死"])), CardError::CardLocked);
        assert!(matches!(classify(&errors(&["[读卡器底层库]打开读卡器失败:错误码=50200", "Err:Custom50200"])), CardError::NoReader(_)));
        assert!(matches!(classify(&errors(&["失败", "Err:Custom50200"])), CardError::NoReader(_)), "the code alone is enough");
        assert_eq!(classify(&errors(&["[读卡器底层库]未检测到IC卡，请插入IC卡", "Err:Custom50100"])), CardError::NoCard);
        assert!(matches!(classify(&errors(&["[读卡器底层库]复位读卡器失败:错误码=50070", "Err:Custom50070"])), CardError::ReaderError(_)));
        assert!(matches!(classify(&errors(&["连接客户端控件服务失败,请重试.", "Err:Base60408"])), CardError::ClientControlNotRunning(_)));
        assert_eq!(classify(&errors(&["[SPSecureAPI]请先验证口令", "Err:Custom10016"])), CardError::PinRequired);
        assert!(matches!(classify(&errors(&["操作超时"])), CardError::Timeout(_)));
        match classify(&errors(&["证书链不完整", "Err:Custom70001"])) {
            CardError::ClientError(raw) => assert_eq!(raw, "证书链不完整 Err:Custom70001", "raw text kept verbatim"),
            other => panic!("{other:?}"),
        }
        assert_eq!(classify(&[]), CardError::ClientError(String::new()));
    }

    #[test]
    fn numbers_in_odd_places() {
        assert_eq!(retries_in("剩余：3"), Some(3));
        assert_eq!(retries_in("还可以重试 2 次"), Some(2));
        assert_eq!(retries_in("剩余三次"), Some(3));
        assert_eq!(retries_in("剩余九次"), Some(9));
        assert_eq!(retries_in("剩余一次"), Some(1));
        assert_eq!(retries_in("剩余时间"), None);
        assert_eq!(retries_in("还有 7次机会"), Some(7));
        assert_eq!(retries_in("无"), None);
    }
}
