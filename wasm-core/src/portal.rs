//! The Single Window portal's declaration query, as pure functions: the requests DataLink
//! sends and the answers it accepts. The worker's fetch loop (`src/wasm/`) is a thin edge
//! around this; tests feed it the portal's exact shapes.
//!
//! Everything here follows `shared/reference/portal-api.md` (C = confirmed in public code,
//! G = guessed). Paths are relative to the portal base (`https://swapp.singlewindow.cn`, a
//! provincial proxy such as `https://www.singlewindow.gd.cn/swProxy`, or portal-sim), so the
//! same adapter runs against every one of them.
//!
//! * List: `GET /decserver/sw/dec/merge/cusQuery?limit&offset&stName=updateTime&stOrder=desc
//!   &decStatusInfo=<encodeURI(encodeURI(JSON))>&_=<ms>` [C-6] → `{"total":"37","rows":[…]}`
//!   with `total` a string [C], or `{…,"message":…}` when refused [C].
//! * Detail: `POST /decserver/sw/dec/merge/queryDecData` with
//!   `{"cusCiqNo","cusIEFlag","operationType":"cusEdit"}` [C-5] → `{"ok":true,"data":{"preDecHeadVo":
//!   {…,"decMergeListVo":"[…]"}}}`, the nested lists being JSON *strings* [C-2].
//! * An expired session shows as a redirect to the CAS login, or HTML where JSON was expected [C].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::period::DateRange;
use crate::task::{Lookup, Role, Stream};

pub const LIST_PATH: &str = "/decserver/sw/dec/merge/cusQuery";
pub const DETAIL_PATH: &str = "/decserver/sw/dec/merge/queryDecData";
/// The desktop entry scrapers load once after login [C]; its page names the logged-in user.
pub const DESK_PATH: &str = "/deskserver/sw/deskIndex?menu_id=dec001";
/// The session probe: answers `{"allPavaVersion":…}` when logged in [C MAOYI].
pub const SESSION_PROBE_PATH: &str = "/deskserver/sw/allVersion";
/// The headers public scrapers send with the list and detail calls [C].
pub const ACCEPT_JSON: &str = "application/json, text/javascript, */*; q=0.01";

/// One list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest<'a> {
    pub stream: Stream,
    pub role: Role,
    pub span: DateRange,
    pub lookup: Option<&'a Lookup>,
    pub offset: u64,
    pub limit: u64,
}

/// `decStatusInfo` in the "basic query" shape PYSEL and PYFLASK send [C], fields in their order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DecStatusInfo<'a> {
    cus_ciq_no_hidden: &'a str,
    dcl_trn_rel_flag_hidden: &'a str,
    trans_pre_no_hidden: &'a str,
    cus_org_code: &'a str,
    oper_type: &'a str,
    dcl_trn_rel_flag: &'a str,
    cus_dec_status: &'a str,
    etps_category: &'a str,
    #[serde(rename = "cusIEFlag")]
    cus_ie_flag: &'a str,
    entry_id: &'a str,
    cus_ciq_no: &'a str,
    cnsn_trade_code: &'a str,
    bill_no: &'a str,
    is_bill_no_exact_query: &'a str,
    custom_master: &'a str,
    table_flag: &'a str,
    update_time: String,
    update_time_end: String,
    operate_date: &'a str,
    query_page: &'a str,
}

impl ListRequest<'_> {
    /// Path and query string, relative to the portal base. `cache_buster_ms` is jQuery's `_`.
    pub fn path(&self, cache_buster_ms: u64) -> String {
        let lookup = |by: fn(&Lookup) -> Option<&str>| self.lookup.and_then(by).unwrap_or("");
        let info = DecStatusInfo {
            cus_ciq_no_hidden: "",
            dcl_trn_rel_flag_hidden: "",
            trans_pre_no_hidden: "",
            cus_org_code: "",
            oper_type: "0",
            dcl_trn_rel_flag: self.stream.declaration_type.code(),
            cus_dec_status: self.stream.status.query_value(),
            etps_category: self.role.code(),
            cus_ie_flag: self.stream.direction.code(),
            entry_id: lookup(|l| if let Lookup::EntryId(v) = l { Some(v) } else { None }),
            cus_ciq_no: lookup(|l| if let Lookup::CusCiqNo(v) = l { Some(v) } else { None }),
            cnsn_trade_code: "",
            bill_no: lookup(|l| if let Lookup::BillNo(v) = l { Some(v) } else { None }),
            // An exact 提运单号 match: DataLink looks up one bill, not a prefix.
            is_bill_no_exact_query: if matches!(self.lookup, Some(Lookup::BillNo(_))) { "1" } else { "0" },
            custom_master: "",
            table_flag: "1",
            update_time: self.span.first.to_string(),
            update_time_end: self.span.last.to_string(),
            operate_date: "1",
            query_page: "cusBasicQuery",
        };
        let json = serde_json::to_string(&info).unwrap_or_default();
        format!(
            "{LIST_PATH}?limit={}&offset={}&stName=updateTime&stOrder=desc&decStatusInfo={}&_={cache_buster_ms}",
            self.limit,
            self.offset,
            encode_uri_component(&encode_uri(&encode_uri(&json)))
        )
    }
}

/// The detail request body [C: MAOYI, PYFLASK, NEMS].
pub fn detail_body(cus_ciq_no: &str, direction_code: &str) -> String {
    serde_json::json!({ "cusCiqNo": cus_ciq_no, "cusIEFlag": direction_code, "operationType": "cusEdit" }).to_string()
}

/// JavaScript's `encodeURI`: percent-encodes UTF-8 bytes except `A–Z a–z 0–9 ;,/?:@&=+$-_.!~*'()#`.
pub fn encode_uri(text: &str) -> String {
    percent_encode(text, |b| b.is_ascii_alphanumeric() || b";,/?:@&=+$-_.!~*'()#".contains(&b))
}

/// JavaScript's `encodeURIComponent`: like `encodeURI` but also encodes `;,/?:@&=+$#`.
pub fn encode_uri_component(text: &str) -> String {
    percent_encode(text, |b| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b))
}

fn percent_encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for &b in text.as_bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What came back when it was not the data asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum PortalFault {
    /// Redirected to the CAS login, or the login page itself: the session is gone.
    #[error("单一窗口登录已失效")]
    SessionExpired,
    /// HTTP 429, or a WAF-style 400: slow down.
    #[error("单一窗口限制访问频率 (HTTP {0})")]
    RateLimited(u16),
    /// Any other HTTP error (5xx …).
    #[error("单一窗口返回 HTTP {0}")]
    Http(u16),
    /// No answer in time.
    #[error("单一窗口响应超时")]
    Timeout,
    /// The network failed (offline, connection reset).
    #[error("网络连接失败")]
    Network(String),
    /// HTML where JSON was expected (an error page), but not the login page.
    #[error("单一窗口返回了错误页面")]
    Html,
    /// JSON that is truncated, malformed, or not of the expected shape.
    #[error("单一窗口返回的数据不完整")]
    Malformed(String),
    /// The portal refused the query span (`查询时间跨度不能超过7天`).
    #[error("单一窗口拒绝了查询时间跨度：{0}")]
    SpanRefused(String),
    /// The portal answered with a message instead of data (`message`, or `ok:false`).
    #[error("单一窗口提示：{0}")]
    Refused(String),
}

impl PortalFault {
    /// Whether trying the same request again later may succeed without the user.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            PortalFault::RateLimited(_)
                | PortalFault::Http(_)
                | PortalFault::Timeout
                | PortalFault::Network(_)
                | PortalFault::Html
                | PortalFault::Malformed(_)
                | PortalFault::Refused(_)
        )
    }
}

/// What the fetch edge saw of one HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer<'a> {
    pub status: u16,
    /// `Response.redirected`.
    pub redirected: bool,
    /// `Response.url` (after redirects).
    pub final_url: &'a str,
    pub body: &'a str,
}

/// Sorts out session expiry, HTTP errors and HTML before any JSON is parsed.
pub fn check_answer(answer: &HttpAnswer<'_>) -> Result<(), PortalFault> {
    let login = |url: &str| url.contains("/cas/login");
    if (answer.redirected && login(answer.final_url)) || login(answer.final_url) {
        return Err(PortalFault::SessionExpired);
    }
    match answer.status {
        200..=299 => {}
        429 => return Err(PortalFault::RateLimited(429)),
        400 if looks_like_html(answer.body) => return Err(PortalFault::RateLimited(400)),
        status => return Err(PortalFault::Http(status)),
    }
    if looks_like_html(answer.body) {
        // The login page served in place (no redirect) also means the session is gone.
        if answer.body.contains("id=\"loginbutton\"") || answer.body.contains("cas/login") {
            return Err(PortalFault::SessionExpired);
        }
        return Err(PortalFault::Html);
    }
    Ok(())
}

fn looks_like_html(body: &str) -> bool {
    let head = body.trim_start().get(..15).unwrap_or(body.trim_start()).to_ascii_lowercase();
    head.starts_with("<!doctype") || head.starts_with("<html") || head.starts_with("<head") || head.starts_with("<body")
}

/// Who is logged in, as the 货物申报 desktop shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeskInfo {
    /// 用户名 (the card holder).
    pub user_name: String,
    pub enterprise_name: String,
    /// 统一社会信用代码.
    pub enterprise_scc: String,
    /// 海关编码 (10 characters). GUESS: read from `#etpsCode`, as portal-sim serves it.
    #[serde(default)]
    pub enterprise_code: String,
}

/// Reads the desktop page (`deskIndex`). GUESS: the real desktop's markup is not in public
/// code; DataLink looks for elements with ids `userName`, `etpsName`, `etpsScc` and `etpsCode`
/// (what portal-sim serves) and otherwise for the text after "欢迎您，".
pub fn parse_desk(html: &str) -> DeskInfo {
    let by_id = |id: &str| -> String {
        let marker = format!("id=\"{id}\"");
        html.find(&marker)
            .and_then(|at| html[at..].find('>').map(|gt| at + gt + 1))
            .map(|start| html[start..].split('<').next().unwrap_or_default())
            .map(unescape_html)
            .unwrap_or_default()
    };
    let mut user_name = by_id("userName");
    if user_name.is_empty() {
        if let Some(at) = html.find("欢迎您，") {
            let rest = &html[at + "欢迎您，".len()..];
            user_name = unescape_html(rest.split(['<', ' ', '\n']).next().unwrap_or_default());
        }
    }
    DeskInfo {
        user_name: user_name.trim().to_owned(),
        enterprise_name: by_id("etpsName").trim().to_owned(),
        enterprise_scc: by_id("etpsScc").trim().to_owned(),
        // GUESS: the 海关编码's element id on the real desktop.
        enterprise_code: by_id("etpsCode").trim().to_owned(),
    }
}

fn unescape_html(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// Whether a session probe (`/deskserver/sw/allVersion`) says the user is logged in [C MAOYI].
pub fn session_probe_ok(answer: &HttpAnswer<'_>) -> bool {
    check_answer(answer).is_ok() && answer.body.trim_start().starts_with("{\"allPavaVersion\"")
}

/// One page of a list answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    /// The portal's `total` for the whole query (a string on the wire).
    pub total: u64,
    pub rows: Vec<ListRow>,
}

/// A list row: the fields DataLink checks, and the row as the portal sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRow {
    pub cus_ciq_no: String,
    pub entry_id: Option<String>,
    pub ie_flag: String,
    pub status: String,
    pub status_name: String,
    /// `iEDate` as sent (`20260127` or `2026-01-27`).
    pub ie_date: String,
    pub update_time: String,
    /// 商品项数, when the row has it.
    pub goods_num: Option<u32>,
    pub raw: Map<String, Value>,
}

/// Parses a list answer (after [`check_answer`]).
pub fn parse_list(body: &str) -> Result<ListPage, PortalFault> {
    let value: Value = serde_json::from_str(body).map_err(|e| PortalFault::Malformed(e.to_string()))?;
    let Value::Object(object) = value else {
        return Err(PortalFault::Malformed("the list answer is not an object".into()));
    };
    if let Some(message) = object.get("message").and_then(Value::as_str).filter(|m| !m.is_empty()) {
        if message.contains("跨度") || message.contains("天") {
            return Err(PortalFault::SpanRefused(message.to_owned()));
        }
        return Err(PortalFault::Refused(message.to_owned()));
    }
    let total = object.get("total").and_then(number).ok_or_else(|| PortalFault::Malformed("no total".into()))?;
    let rows = object.get("rows").and_then(Value::as_array).ok_or_else(|| PortalFault::Malformed("no rows".into()))?;
    let rows = rows.iter().map(parse_row).collect::<Result<Vec<_>, _>>()?;
    if rows.len() as u64 > total {
        return Err(PortalFault::Malformed(format!("{} rows but a total of {total}", rows.len())));
    }
    Ok(ListPage { total, rows })
}

fn parse_row(row: &Value) -> Result<ListRow, PortalFault> {
    let Value::Object(raw) = row else {
        return Err(PortalFault::Malformed("a row is not an object".into()));
    };
    let text = |key: &str| raw.get(key).and_then(text_of).unwrap_or_default();
    let cus_ciq_no = text("cusCiqNo");
    if cus_ciq_no.is_empty() {
        return Err(PortalFault::Malformed("a row without cusCiqNo".into()));
    }
    Ok(ListRow {
        entry_id: raw.get("entryId").and_then(text_of).filter(|e| !e.is_empty()),
        ie_flag: text("cusIEFlag"),
        status: text("cusDecStatus"),
        status_name: text("cusDecStatusName"),
        ie_date: text("iEDate"),
        update_time: text("updateTime"),
        goods_num: raw.get("goodsNum").and_then(number).and_then(|n| u32::try_from(n).ok()),
        cus_ciq_no,
        raw: raw.clone(),
    })
}

/// A number sent as a number or a string (`"37"`).
fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A scalar as text (`null` is none).
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A declaration's detail: the head, its goods lines and attached-document list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Detail {
    pub cus_ciq_no: String,
    pub entry_id: Option<String>,
    pub ie_flag: String,
    pub status: String,
    pub ie_date: String,
    /// 申报日期 (`dDate`), as sent.
    pub declaration_date: String,
    pub update_time: String,
    /// `preDecHeadVo` without the nested `*Vo` strings.
    pub head: Map<String, Value>,
    /// `decMergeListVo`, parsed.
    pub goods: Vec<Map<String, Value>>,
    /// `preDecDocVo`, parsed.
    pub documents: Vec<Value>,
}

/// Parses a detail answer (after [`check_answer`]).
pub fn parse_detail(body: &str) -> Result<Detail, PortalFault> {
    let value: Value = serde_json::from_str(body).map_err(|e| PortalFault::Malformed(e.to_string()))?;
    if value.get("ok") != Some(&Value::Bool(true)) {
        let messages: Vec<String> = value
            .get("messageList")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(text_of).collect())
            .unwrap_or_default();
        if value.get("ok") == Some(&Value::Bool(false)) {
            return Err(PortalFault::Refused(if messages.is_empty() { "查询失败".into() } else { messages.join(";") }));
        }
        return Err(PortalFault::Malformed("no ok field".into()));
    }
    let Some(Value::Object(head)) = value.pointer("/data/preDecHeadVo") else {
        return Err(PortalFault::Malformed("no data.preDecHeadVo".into()));
    };
    let mut head = head.clone();
    let list = |head: &mut Map<String, Value>, key: &str| -> Result<Vec<Value>, PortalFault> {
        match head.remove(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(Vec::new()),
            Some(Value::String(s)) => serde_json::from_str::<Vec<Value>>(&s).map_err(|e| PortalFault::Malformed(format!("{key}: {e}"))),
            // Tolerate a real array too (some proxies may already decode it). GUESS.
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(PortalFault::Malformed(format!("{key} is neither a JSON string nor an array"))),
        }
    };
    let goods = list(&mut head, "decMergeListVo")?
        .into_iter()
        .map(|line| match line {
            Value::Object(line) => Ok(line),
            _ => Err(PortalFault::Malformed("a goods line is not an object".into())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let documents = list(&mut head, "preDecDocVo")?;
    for other in ["cusLicenseListVo", "preDecContainerVo"] {
        list(&mut head, other)?;
    }
    let text = |key: &str| head.get(key).and_then(text_of).unwrap_or_default();
    let cus_ciq_no = text("cusCiqNo");
    if cus_ciq_no.is_empty() {
        return Err(PortalFault::Malformed("a head without cusCiqNo".into()));
    }
    Ok(Detail {
        entry_id: head.get("entryId").and_then(text_of).filter(|e| !e.is_empty()),
        ie_flag: text("cusIEFlag"),
        status: text("cusDecStatus"),
        ie_date: text("iEDate"),
        declaration_date: text("dDate"),
        update_time: text("updateTime"),
        cus_ciq_no,
        head,
        goods,
        documents,
    })
}

/// Why a detail does not match its list row (核销 fails).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mismatch {
    pub field: String,
    pub list: String,
    pub detail: String,
}

/// 核销's cross-check: the detail must describe the declaration the list row named — same
/// 统一编号, 报关单号, direction, status, 进出口日期 and number of goods lines.
pub fn cross_check(row: &ListRow, detail: &Detail) -> Result<(), Mismatch> {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let goods = detail.goods.len().to_string();
    let row_goods = row.goods_num.map(|n| n.to_string());
    let checks: [(&str, String, String); 6] = [
        ("cusCiqNo", row.cus_ciq_no.clone(), detail.cus_ciq_no.clone()),
        ("entryId", row.entry_id.clone().unwrap_or_default(), detail.entry_id.clone().unwrap_or_default()),
        ("cusIEFlag", row.ie_flag.clone(), detail.ie_flag.clone()),
        ("cusDecStatus", row.status.clone(), detail.status.clone()),
        ("iEDate", digits(&row.ie_date), digits(&detail.ie_date)),
        ("goodsNum", row_goods.clone().unwrap_or_else(|| goods.clone()), goods),
    ];
    for (field, list, detail) in checks {
        if list != detail {
            return Err(Mismatch { field: field.to_owned(), list, detail });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{DeclarationType, Direction, StatusSide};

    fn stream() -> Stream {
        Stream { direction: Direction::Import, declaration_type: DeclarationType::General, status: StatusSide::Closed }
    }

    fn range() -> DateRange {
        DateRange { first: "2020-06-04".parse().unwrap(), last: "2020-06-10".parse().unwrap() }
    }

    #[test]
    fn the_list_url_encodes_dec_status_info_as_scrapers_do() {
        let req = ListRequest { stream: stream(), role: Role::Consignee, span: range(), lookup: None, offset: 50, limit: 50 };
        let path = req.path(1_591_234_567_890);
        assert!(path.starts_with("/decserver/sw/dec/merge/cusQuery?limit=50&offset=50&stName=updateTime&stOrder=desc&decStatusInfo=%25257B%252522cusCiqNoHidden%252522"), "{path}");
        assert!(path.ends_with("&_=1591234567890"));
        // Decoding three times gives back the JSON the public tools send.
        let raw = path.split("decStatusInfo=").nth(1).unwrap().split('&').next().unwrap();
        let json = decode(&decode(&decode(raw)));
        let info: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(info["cusIEFlag"], "I");
        assert_eq!(info["dclTrnRelFlag"], "0");
        assert_eq!(info["cusDecStatus"], "10");
        assert_eq!(info["etpsCategory"], "C");
        assert_eq!(info["updateTime"], "2020-06-04");
        assert_eq!(info["updateTimeEnd"], "2020-06-10");
        assert_eq!(info["queryPage"], "cusBasicQuery");
        assert!(json.starts_with(r#"{"cusCiqNoHidden":"","dclTrnRelFlagHidden":"""#));
    }

    #[test]
    fn lookups_fill_their_field() {
        let bill = Lookup::BillNo("COSU 61/2".into());
        let req = ListRequest { stream: stream(), role: Role::Declarant, span: range(), lookup: Some(&bill), offset: 0, limit: 10 };
        let raw = req.path(0).split("decStatusInfo=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        let info: Value = serde_json::from_str(&decode(&decode(&decode(&raw)))).unwrap();
        assert_eq!((info["billNo"].as_str(), info["isBillNoExactQuery"].as_str(), info["etpsCategory"].as_str()), (Some("COSU 61/2"), Some("1"), Some("A")));
        assert_eq!(info["entryId"], "");
    }

    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encode_uri_matches_javascript() {
        assert_eq!(encode_uri(r#"{"a":"报 关"}"#), "%7B%22a%22:%22%E6%8A%A5%20%E5%85%B3%22%7D");
        assert_eq!(encode_uri_component("a:b/c?d=e&f"), "a%3Ab%2Fc%3Fd%3De%26f");
        assert_eq!(encode_uri("%"), "%25");
    }

    #[test]
    fn parses_a_list_page_with_string_total() {
        let body = r#"{"total":"37","rows":[{"cusCiqNo":"I20260000000000001","entryId":null,"cusIEFlag":"I","cusDecStatus":"10","cusDecStatusName":"结关","iEDate":"20260127","goodsNum":"3","updateTime":"2026-01-28 10:00:00"}]}"#;
        let page = parse_list(body).unwrap();
        assert_eq!(page.total, 37);
        assert_eq!(page.rows[0].entry_id, None);
        assert_eq!(page.rows[0].goods_num, Some(3));
        assert_eq!(parse_list(r#"{"total":12,"rows":[]}"#).unwrap().total, 12);
    }

    #[test]
    fn refusals_and_garbage_are_faults_not_data() {
        assert_eq!(
            parse_list(r#"{"total":"0","rows":[],"message":"查询时间跨度不能超过7天"}"#),
            Err(PortalFault::SpanRefused("查询时间跨度不能超过7天".into()))
        );
        assert_eq!(parse_list(r#"{"total":"0","rows":[],"message":"系统繁忙"}"#), Err(PortalFault::Refused("系统繁忙".into())));
        for bad in [r#"{"total":"3","rows":[{"cusCiqNo""#, "[]", r#"{"rows":[]}"#, r#"{"total":"1","rows":[{}]}"#, r#"{"total":"0","rows":[{"cusCiqNo":"x"}]}"#] {
            assert!(matches!(parse_list(bad), Err(PortalFault::Malformed(_))), "{bad}");
        }
    }

    #[test]
    fn answers_are_sorted_before_parsing() {
        let ok = HttpAnswer { status: 200, redirected: false, final_url: "https://swapp.singlewindow.cn/decserver/x", body: "{}" };
        assert_eq!(check_answer(&ok), Ok(()));
        let expired = HttpAnswer { redirected: true, final_url: "https://app.singlewindow.cn/cas/login?service=x", body: "<!DOCTYPE html>", ..ok };
        assert_eq!(check_answer(&expired), Err(PortalFault::SessionExpired));
        let login_in_place = HttpAnswer { body: "<!DOCTYPE html><button id=\"loginbutton\">", ..ok };
        assert_eq!(check_answer(&login_in_place), Err(PortalFault::SessionExpired));
        assert_eq!(check_answer(&HttpAnswer { body: "<html><body>Error 500</body>", ..ok }), Err(PortalFault::Html));
        assert_eq!(check_answer(&HttpAnswer { status: 503, ..ok }), Err(PortalFault::Http(503)));
        assert_eq!(check_answer(&HttpAnswer { status: 429, ..ok }), Err(PortalFault::RateLimited(429)));
        assert_eq!(check_answer(&HttpAnswer { status: 400, body: "<html>waf</html>", ..ok }), Err(PortalFault::RateLimited(400)));
        assert!(PortalFault::Html.retryable() && !PortalFault::SessionExpired.retryable());
    }

    fn detail_json(goods: &str) -> String {
        serde_json::json!({"ok": true, "errorCode": null, "errors": null, "messageList": [], "messageType": null,
            "data": {"preDecHeadVo": {"cusCiqNo": "I20260000000000001", "entryId": "610120260000000001", "cusIEFlag": "I",
              "cusDecStatus": "10", "iEDate": "20260127", "dDate": "2026-01-20", "updateTime": "2026-01-28 10:00:00",
              "decMergeListVo": goods, "preDecDocVo": "[]", "cusLicenseListVo": "[]", "preDecContainerVo": "[]"}}})
        .to_string()
    }

    #[test]
    fn parses_a_detail_with_goods_as_a_json_string() {
        let d = parse_detail(&detail_json(r#"[{"gNo":"1","codeTs":"8471300000","gName":"笔记本电脑","declTotal":"6789.32","tradeCurr":"502"}]"#)).unwrap();
        assert_eq!(d.goods.len(), 1);
        assert_eq!(d.goods[0]["declTotal"], "6789.32");
        assert!(!d.head.contains_key("decMergeListVo"));
        assert_eq!(d.declaration_date, "2026-01-20");
        assert!(matches!(parse_detail(&detail_json("[{")), Err(PortalFault::Malformed(_))));
        assert_eq!(
            parse_detail(r#"{"ok":false,"messageList":["无权查看","请重新登录"]}"#),
            Err(PortalFault::Refused("无权查看;请重新登录".into()))
        );
    }

    #[test]
    fn reads_the_desktop_and_the_probe() {
        let html = r#"<div id="header"><span class="welcome">欢迎您，<span id="userName">许斯维</span></span><span id="etpsName">西安&amp;某某</span><span id="etpsScc">91610000MA6TEST01X</span> <span id="etpsCode">6101930001</span>"#;
        let desk = parse_desk(html);
        assert_eq!((desk.user_name.as_str(), desk.enterprise_name.as_str(), desk.enterprise_scc.as_str()), ("许斯维", "西安&某某", "91610000MA6TEST01X"));
        assert_eq!(desk.enterprise_code, "6101930001");
        assert_eq!(parse_desk("<p>欢迎您，张三 <a>").enterprise_code, "");
        assert_eq!(parse_desk("<p>欢迎您，张三 <a>").user_name, "张三");
        let ok = HttpAnswer { status: 200, redirected: false, final_url: "http://x/deskserver/sw/allVersion", body: r#"{"allPavaVersion":"1"}"# };
        assert!(session_probe_ok(&ok));
        assert!(!session_probe_ok(&HttpAnswer { final_url: "http://x/cas/login", ..ok }));
    }

    #[test]
    fn cross_check_names_the_first_difference() {
        let row = parse_list(r#"{"total":"1","rows":[{"cusCiqNo":"I20260000000000001","entryId":"610120260000000001","cusIEFlag":"I","cusDecStatus":"10","iEDate":"2026-01-27","goodsNum":"1"}]}"#)
            .unwrap()
            .rows
            .remove(0);
        let detail = parse_detail(&detail_json(r#"[{"gNo":"1"}]"#)).unwrap();
        assert_eq!(cross_check(&row, &detail), Ok(()));
        let two = parse_detail(&detail_json(r#"[{"gNo":"1"},{"gNo":"2"}]"#)).unwrap();
        assert_eq!(cross_check(&row, &two).unwrap_err().field, "goodsNum");
        let mut changed = detail.clone();
        changed.status = "9".into();
        assert_eq!(cross_check(&row, &changed).unwrap_err().field, "cusDecStatus");
    }
}
