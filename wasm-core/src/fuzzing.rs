//! Invariants checked by the fuzz targets (`fuzz/`, cargo-fuzz) and replayed by `cargo test`.
//!
//! Each `check_*` function takes arbitrary bytes and **panics when an invariant is broken**;
//! anything else is a pass. The same function runs in three places, so they cannot drift:
//!
//! * `fuzz/fuzz_targets/<target>.rs` — libFuzzer feeds it coverage-guided inputs
//!   (`cargo xtask fuzz`);
//! * the tests below replay every file of `fuzz/corpus/<target>/` (seeds shaped like
//!   portal-sim's answers) and `fuzz/regressions/<target>/` (inputs that once failed);
//! * proptest feeds it a few hundred random inputs per `cargo test` run.
//!
//! Inputs are bytes, so structured cases (a list page, a date range with a span limit) are
//! decoded from them with [`Bytes`], a small deterministic reader: the same bytes always make
//! the same case, and libFuzzer's mutations of the bytes explore the structure.
//!
//! What is checked:
//! * [`check_request_frame`] — one request frame (any bytes) gets exactly one reply: a decoded
//!   request that survives a serialize → decode round trip, or a failure with one of the three
//!   decoding codes (1002/1003/1004), the request's id when it had one, no PIN quoted back, and
//!   frames that fit the browser's limit and reassemble to that reply.
//! * [`check_portal_list`], [`check_portal_detail`] — any body is data or a typed
//!   [`PortalFault`], never a panic; what parses obeys the parser's promises (rows ≤ total, every
//!   row and head has its 统一编号); and a page or detail built from the bytes, serialized in the
//!   portal's wire shape (numbers as strings, nested lists as JSON strings), parses back to
//!   exactly itself and passes 核销's cross-check.
//! * [`check_portal_answer`] — status, redirect, URL and body sort into one outcome; the
//!   desktop page and the session probe never panic.
//! * [`check_documents`] — the PDF print and receipts answers are bytes or a typed fault; a
//!   PDF accepted is one `check_pdf` accepts, and a real PDF wrapped as the portal does comes
//!   back byte for byte.
//! * [`check_planner`] — any range (years 1–9998, leap years, across years) and any span limit:
//!   periods tile the range by calendar month; each stream's windows tile the range with no
//!   gap or overlap, none longer than the limit, none across a month; window keys are unique;
//!   splitting and halving a window tile it; a learned limit is between 1 and the old one.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use crate::calendar::{days_in_month, Date};
use crate::documents::{check_pdf, parse_pdf_json, parse_receipts, DocumentFault};
use crate::error::{ErrorCode, ErrorInfo};
use crate::period::{periods, DateRange};
use crate::plan::{plan, spans, stated_day_limit, SpanLimit, Window};
use crate::portal::{check_answer, cross_check, parse_desk, parse_detail, parse_list, session_probe_ok, HttpAnswer, PortalFault};
use crate::protocol::{decode_request, encode_reply, ChunkAssembler, HostMessage, Reply, MAX_REPLY_FRAME};
use crate::task::{Conditions, DirectionChoice, Lookup, Role, StatusChoice, TypeChoice};

/// A deterministic reader of structure from fuzz bytes; reads past the end give zeros.
#[derive(Debug, Clone)]
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u32) -> u32 {
        self.u32() % n.max(1)
    }

    /// One of `items` (not empty).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u32) as usize]
    }

    /// A short text from an alphabet mixing ASCII, CJK, JSON and HTML specials.
    pub fn text(&mut self, max_chars: u32) -> String {
        const ALPHABET: &[&str] = &[
            "0", "1", "9", "A", "I", "E", "z", " ", "-", ":", "\"", "\\", "/", "<", ">", "&", "\n", "\t", "\u{0}", "报", "关", "单", "天",
            "😀", "é",
        ];
        let n = self.below(max_chars + 1);
        (0..n).map(|_| self.pick(ALPHABET)).collect()
    }

    /// The rest of the bytes.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

// ── (1) request frames ─────────────────────────────────────────────────────────────────────

const DECODING_CODES: [ErrorCode; 3] = [ErrorCode::MalformedJson, ErrorCode::InvalidRequest, ErrorCode::UnknownRequestType];

/// One request frame → exactly one reply (see the module docs). Returns that reply.
pub fn check_request_frame(frame: &[u8]) -> Reply {
    let reply = match decode_request(frame) {
        Ok(envelope) => {
            let again = serde_json::to_vec(&envelope).expect("a decoded request serializes");
            let decoded = decode_request(&again).unwrap_or_else(|(_, e)| panic!("a re-serialized request is refused: {e:?}"));
            assert_eq!(decoded, envelope, "decode → serialize → decode changed the request");
            // What the host answers does not matter here: only that the request is one request.
            Reply::success(envelope.id, json!({}))
        }
        Err((id, error)) => {
            let code = error.error_code().expect("a decoding error has a code from the table");
            assert!(DECODING_CODES.contains(&code), "decoding failed with {code:?}");
            assert_eq!((error.name.as_str(), error.message.as_str()), (code.name(), code.user_message()));
            let value: Option<Value> = serde_json::from_slice(frame).ok();
            let sent_id = value.as_ref().and_then(|v| v.get("id")).and_then(Value::as_u64);
            assert_eq!(id, sent_id, "the reply's id is the request's id when it has one");
            // The detail never depends on the PIN: where it shows the PIN's text, the same frame
            // with the PIN masked shows it too (the text came from elsewhere). Fuzzing found two
            // such coincidences ("1004" in the code, "unknown ty" in "unknown type").
            let pin = value.as_ref().and_then(|v| v.get("pin")).and_then(scalar_text).filter(|p| p.chars().count() >= 4);
            if let (Some(pin), Some(detail), Some(Value::Object(fields))) = (pin, error.detail.as_deref(), value.as_ref()) {
                if detail.contains(&pin) {
                    let mut masked = fields.clone();
                    masked.insert("pin".into(), json!("#".repeat(pin.chars().count())));
                    let again = serde_json::to_vec(&masked).expect("a JSON object serializes");
                    let again = decode_request(&again).err().and_then(|(_, e)| e.detail).unwrap_or_default();
                    assert!(again.contains(&pin), "the PIN is quoted back in {detail}");
                }
            }
            Reply::failure(id, error)
        }
    };
    let frames = encode_reply(&reply, MAX_REPLY_FRAME).expect("a reply serializes");
    let mut assembler = ChunkAssembler::default();
    let mut whole = Vec::new();
    for frame in &frames {
        assert!(frame.len() <= MAX_REPLY_FRAME, "a {}-byte frame", frame.len());
        match serde_json::from_str::<HostMessage>(frame).expect("a frame is a host message") {
            HostMessage::Reply(r) => whole.push(r),
            HostMessage::Chunk(c) => whole.extend(assembler.push(c).expect("chunks assemble")),
        }
    }
    assert_eq!(whole, vec![reply.clone()], "the frames carry exactly the one reply");
    reply
}

/// The reply the host sends for a frame over the size cap (it never reads the body).
pub fn frame_too_large_reply(len: usize, cap: usize) -> Reply {
    Reply::failure(None, ErrorInfo::with_detail(ErrorCode::FrameTooLarge, format!("{len} bytes, cap {cap}")))
}

// ── (2) portal answers ─────────────────────────────────────────────────────────────────────

fn body_of(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Any list body → a page or a fault; then a generated page round-trips.
pub fn check_portal_list(data: &[u8]) {
    let body = body_of(data);
    let answer = HttpAnswer { status: 200, redirected: false, final_url: "https://swapp.singlewindow.cn/decserver/x", body: &body };
    let checked = check_answer(&answer);
    match parse_list(&body) {
        Ok(page) => {
            assert!(checked.is_ok(), "a JSON list page is not HTML: {checked:?}");
            assert!(page.rows.len() as u64 <= page.total, "{} rows over a total of {}", page.rows.len(), page.total);
            for row in &page.rows {
                assert!(!row.cus_ciq_no.is_empty(), "a row without 统一编号");
                assert_eq!(row.raw.get("cusCiqNo").and_then(scalar_text).as_deref(), Some(row.cus_ciq_no.as_str()));
                assert!(row.entry_id.as_deref() != Some(""), "an empty entryId is none");
            }
        }
        Err(fault) => assert_typed(&fault),
    }
    let mut bytes = Bytes::new(data);
    let (wire, total, rows) = generated_list(&mut bytes);
    let page = parse_list(&wire).unwrap_or_else(|f| panic!("a generated page is refused: {f:?}\n{wire}"));
    assert_eq!(page.total, total);
    assert_eq!(page.rows.len(), rows.len());
    for (row, (expected, raw)) in page.rows.iter().zip(&rows) {
        assert_eq!(&row.raw, raw, "raw row");
        assert_eq!(row.cus_ciq_no, expected.cus_ciq_no);
        assert_eq!(row.entry_id, expected.entry_id);
        assert_eq!(
            (row.ie_flag.as_str(), row.status.as_str(), row.ie_date.as_str()),
            (expected.ie_flag.as_str(), expected.status.as_str(), expected.ie_date.as_str())
        );
        assert_eq!(row.goods_num, expected.goods);
    }
}

/// What a generated row should read back as.
struct RowTruth {
    cus_ciq_no: String,
    entry_id: Option<String>,
    ie_flag: String,
    status: String,
    ie_date: String,
    goods: Option<u32>,
}

/// A generated row: what it should read back as, and the row as the portal sends it.
type GeneratedRow = (RowTruth, Map<String, Value>);

fn generated_row(bytes: &mut Bytes<'_>) -> GeneratedRow {
    let ie_flag = bytes.pick(&["I", "E"]).to_owned();
    let cus_ciq_no = format!("{ie_flag}{:017}", u64::from(bytes.u32()) * 1000 + u64::from(bytes.u16() % 1000));
    let entry_id = bytes.bool().then(|| format!("{:018}", u64::from(bytes.u32()) * 7919));
    let status = bytes.pick(&["10", "9", "2", "P", "R"]).to_owned();
    let year = 2000 + bytes.below(40) as i32;
    let month = 1 + bytes.below(12) as u8;
    let day = 1 + bytes.below(u32::from(days_in_month(year, month))) as u8;
    let date = Date::new(year, month, day).expect("a real day");
    let ie_date = if bytes.bool() { date.to_string() } else { date.to_string().replace('-', "") };
    let goods = match bytes.below(3) {
        0 => None,
        _ => Some(u32::from(bytes.u16())),
    };
    let mut raw = Map::new();
    raw.insert("cusCiqNo".into(), json!(cus_ciq_no));
    raw.insert("entryId".into(), entry_id.clone().map_or(Value::Null, Value::String));
    raw.insert("cusIEFlag".into(), json!(ie_flag));
    raw.insert("cusDecStatus".into(), json!(status));
    raw.insert("cusDecStatusName".into(), json!(bytes.text(6)));
    raw.insert("iEDate".into(), json!(ie_date));
    raw.insert("updateTime".into(), json!(format!("{date} 10:00:00")));
    if let Some(n) = goods {
        // The portal sends every number as a string; a proxy may not.
        raw.insert("goodsNum".into(), if bytes.bool() { json!(n.to_string()) } else { json!(n) });
    }
    for _ in 0..bytes.below(3) {
        raw.insert(format!("x{}", bytes.text(4)), json!(bytes.text(12)));
    }
    (RowTruth { cus_ciq_no, entry_id, ie_flag, status, ie_date, goods }, raw)
}

/// A list answer in the portal's shape, its total and its rows.
fn generated_list(bytes: &mut Bytes<'_>) -> (String, u64, Vec<GeneratedRow>) {
    let rows: Vec<_> = (0..bytes.below(6)).map(|_| generated_row(bytes)).collect();
    let total = rows.len() as u64 + u64::from(bytes.u16());
    let wire_total = if bytes.bool() { json!(total.to_string()) } else { json!(total) };
    let wire = json!({ "total": wire_total, "rows": rows.iter().map(|(_, raw)| Value::Object(raw.clone())).collect::<Vec<_>>() });
    (wire.to_string(), total, rows)
}

/// Any detail body → a detail or a fault; then a generated detail round-trips and cross-checks.
pub fn check_portal_detail(data: &[u8]) {
    let body = body_of(data);
    match parse_detail(&body) {
        Ok(detail) => {
            assert!(!detail.cus_ciq_no.is_empty(), "a detail without 统一编号");
            for nested in ["decMergeListVo", "preDecDocVo", "cusLicenseListVo", "preDecContainerVo"] {
                assert!(!detail.head.contains_key(nested), "{nested} left in the head");
            }
            assert!(detail.entry_id.as_deref() != Some(""), "an empty entryId is none");
        }
        Err(fault) => assert_typed(&fault),
    }
    let mut bytes = Bytes::new(data);
    let (truth, raw) = generated_row(&mut bytes);
    let goods: Vec<Map<String, Value>> = (0..truth.goods.map_or(bytes.below(4), |n| n.min(40)))
        .map(|i| {
            let mut line = Map::new();
            line.insert("gNo".into(), json!((i + 1).to_string()));
            line.insert("gName".into(), json!(bytes.text(8)));
            line.insert("declTotal".into(), json!(format!("{}.{:02}", bytes.u32(), bytes.below(100))));
            line
        })
        .collect();
    let documents: Vec<Value> = (0..bytes.below(3)).map(|_| json!({"attEdocId": bytes.text(10), "attTypeCode": "00000001"})).collect();
    let goods_wire = serde_json::to_string(&goods).expect("goods serialize");
    let mut head = Map::new();
    for key in ["cusCiqNo", "entryId", "cusIEFlag", "cusDecStatus", "iEDate", "updateTime"] {
        head.insert(key.into(), raw.get(key).cloned().unwrap_or(Value::Null));
    }
    head.insert("dDate".into(), json!(bytes.text(10)));
    head.insert("gName".into(), json!(bytes.text(16)));
    let mut wire_head = head.clone();
    // Nested lists travel as JSON strings; an empty one may be "", null, or missing.
    wire_head.insert("decMergeListVo".into(), json!(goods_wire));
    wire_head.insert("preDecDocVo".into(), json!(serde_json::to_string(&documents).expect("documents serialize")));
    match bytes.below(3) {
        0 => wire_head.insert("cusLicenseListVo".into(), json!("")),
        1 => wire_head.insert("cusLicenseListVo".into(), Value::Null),
        _ => None,
    };
    wire_head.insert("preDecContainerVo".into(), json!("[]"));
    let wire =
        json!({"ok": true, "errorCode": null, "errors": null, "messageList": [], "messageType": null, "data": {"preDecHeadVo": wire_head}})
            .to_string();
    let detail = parse_detail(&wire).unwrap_or_else(|f| panic!("a generated detail is refused: {f:?}\n{wire}"));
    assert_eq!(detail.head, head, "the head without its nested lists");
    assert_eq!(detail.goods, goods);
    assert_eq!(detail.documents, documents);
    assert_eq!((detail.cus_ciq_no.as_str(), detail.entry_id.as_deref()), (truth.cus_ciq_no.as_str(), truth.entry_id.as_deref()));
    // The list row of the same declaration passes 核销 when the goods count agrees.
    let list_wire = json!({"total": "1", "rows": [raw]}).to_string();
    let row = parse_list(&list_wire).expect("the generated row parses").rows.remove(0);
    let agrees = truth.goods.is_none_or(|n| n as usize == goods.len());
    assert_eq!(cross_check(&row, &detail).is_ok(), agrees, "核销 of a generated pair");
}

/// Status, redirect, URL and body → one outcome; the desktop and the probe never panic.
pub fn check_portal_answer(data: &[u8]) {
    let mut bytes = Bytes::new(data);
    let status = bytes.pick(&[200u16, 200, 204, 302, 400, 401, 403, 404, 429, 500, 502, 503, 599, 0]);
    let redirected = bytes.bool();
    let final_url = bytes.pick(&[
        "https://swapp.singlewindow.cn/decserver/sw/dec/merge/cusQuery",
        "https://app.singlewindow.cn/cas/login?service=x",
        "http://127.0.0.1:8080/swProxy/deskserver/sw/allVersion",
        "",
    ]);
    let body = body_of(bytes.rest());
    let answer = HttpAnswer { status, redirected, final_url, body: &body };
    let outcome = check_answer(&answer);
    if final_url.contains("/cas/login") {
        assert_eq!(outcome, Err(PortalFault::SessionExpired), "a login URL is an expired session");
    } else if !(200..=299).contains(&status) {
        assert!(matches!(outcome, Err(PortalFault::Http(s) | PortalFault::RateLimited(s)) if s == status), "{status} → {outcome:?}");
    } else if let Err(fault) = &outcome {
        assert!(matches!(fault, PortalFault::Html | PortalFault::SessionExpired), "{fault:?}");
        let head = body.trim_start().chars().take(9).collect::<String>().to_ascii_lowercase();
        assert!(head.starts_with('<'), "only HTML is refused before parsing: {head:?}");
    }
    if session_probe_ok(&answer) {
        assert!(outcome.is_ok());
    }
    let desk = parse_desk(&body);
    for field in [&desk.user_name, &desk.enterprise_name, &desk.enterprise_scc, &desk.enterprise_code] {
        assert_eq!(field.trim(), field.as_str(), "desk fields are trimmed");
        assert!(!field.contains('<'), "a desk field with markup: {field:?}");
    }
}

/// The PDF print (`data.pdf` base64) and receipts answers → bytes or a typed fault.
pub fn check_documents(data: &[u8]) {
    use base64::Engine as _;
    let body = body_of(data);
    match parse_pdf_json(&body) {
        Ok((bytes, text)) => {
            assert_eq!(check_pdf(&bytes), Ok(()));
            assert_eq!(base64::engine::general_purpose::STANDARD.decode(&text).ok(), Some(bytes));
        }
        Err(DocumentFault::Refused(message)) => assert!(!message.is_empty()),
        Err(DocumentFault::Malformed | DocumentFault::NotPdf(_) | DocumentFault::Portal(_)) => {}
    }
    match parse_receipts(&body) {
        Ok(rows) => assert!(rows.is_array()),
        Err(fault) => assert_eq!(fault, DocumentFault::Malformed),
    }
    // The raw bytes as a PDF: accepted only with the header and the trailer.
    if check_pdf(data).is_ok() {
        assert!(data.starts_with(b"%PDF-") && data.trim_ascii_end().ends_with(b"%%EOF"));
    }
    // A PDF wrapped as the portal wraps it comes back byte for byte.
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend_from_slice(data);
    pdf.extend_from_slice(b"\n%%EOF\n");
    let wrapped = json!({"ok": true, "data": {"pdf": base64::engine::general_purpose::STANDARD.encode(&pdf)}}).to_string();
    let (bytes, _) = parse_pdf_json(&wrapped).unwrap_or_else(|f| panic!("a wrapped PDF is refused: {f:?}"));
    assert_eq!(bytes, pdf);
}

fn assert_typed(fault: &PortalFault) {
    match fault {
        PortalFault::Malformed(_) | PortalFault::Html | PortalFault::SessionExpired => {}
        PortalFault::Refused(m) | PortalFault::SpanRefused(m) => assert!(!m.is_empty(), "an empty refusal"),
        other => panic!("a body alone cannot mean {other:?}"),
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

// ── (3) the planner ────────────────────────────────────────────────────────────────────────

/// Day numbers of 0001-01-01 and 9998-12-31: the years a `YYYY-MM-DD` date can have, with room
/// for a range to end a year later.
const FIRST_DAY: i64 = -719_162;
const LAST_DAY: i64 = 2_932_896;

/// A range and a span limit from the bytes → the planner's promises (see the module docs).
pub fn check_planner(data: &[u8]) {
    let mut bytes = Bytes::new(data);
    let first = FIRST_DAY + i64::from(bytes.u32()) % (LAST_DAY - FIRST_DAY);
    // Mostly short ranges (every limit), sometimes decades (periods only).
    let long = bytes.u8() == 255;
    let len = if long { i64::from(bytes.u32() % 40_000) } else { i64::from(bytes.u16() % 1_500) };
    let last = (first + len).min(LAST_DAY);
    let range = DateRange::new(Date::from_day_number(first), Date::from_day_number(last)).expect("first ≤ last");
    let limit = match bytes.below(4) {
        0 => bytes.u32().max(1),
        _ => 1 + bytes.below(40),
    };

    for day in [range.first, range.last] {
        assert_eq!(Date::from_day_number(day.day_number()), day);
        assert_eq!(day.to_string().parse::<Date>().ok(), Some(day), "{day} prints and parses back");
    }

    let ps = periods(range);
    assert_eq!(ps.first().map(|p| p.span.first), Some(range.first));
    assert_eq!(ps.last().map(|p| p.span.last), Some(range.last));
    let months = (range.last.year() - range.first.year()) * 12 + i32::from(range.last.month()) - i32::from(range.first.month());
    assert_eq!(ps.len() as i64, i64::from(months) + 1, "one period per calendar month");
    for (i, p) in ps.iter().enumerate() {
        assert!(p.span.first <= p.span.last);
        assert_eq!(
            (p.span.first.year(), p.span.first.month(), p.span.last.year(), p.span.last.month()),
            (p.year, p.month, p.year, p.month)
        );
        if i > 0 {
            assert_eq!(p.span.first.day(), 1, "a period after the first starts on the 1st");
            assert_eq!(ps[i - 1].span.last.add_days(1), p.span.first, "periods leave no gap");
        }
        if i + 1 < ps.len() {
            assert_eq!(p.span.last, p.span.last.last_of_month(), "a period before the last ends with its month");
        }
    }
    assert_eq!(ps.iter().map(|p| p.span.days()).sum::<i64>(), range.days());
    if long {
        return;
    }

    let choice = bytes.u8();
    let conditions = Conditions {
        types: [TypeChoice::General, TypeChoice::Filing, TypeChoice::Both][usize::from(choice % 3)],
        role: Role::Consignee,
        directions: [DirectionChoice::Both, DirectionChoice::Import, DirectionChoice::Export][usize::from(choice / 3 % 3)],
        status: [StatusChoice::Closed, StatusChoice::NotClosed, StatusChoice::All][usize::from(choice / 9 % 3)],
        lookup: (choice >= 240).then(|| Lookup::EntryId("610120260123456789".into())),
        range,
    };
    let stages = plan(&conditions, SpanLimit { max_days: limit });
    let windows: Vec<&Window> = stages.iter().flat_map(|s| &s.windows).collect();
    let keys: HashSet<String> = windows.iter().map(|w| w.key()).collect();
    assert_eq!(keys.len(), windows.len(), "window keys are unique");
    let streams = conditions.streams();
    if conditions.lookup.is_some() {
        assert_eq!(windows.len(), streams.len(), "a lookup is one query per stream");
        assert!(windows.iter().all(|w| w.lookup && w.span == range && !w.splittable()));
        return;
    }
    // Stages run period by period, import before export.
    for pair in stages.windows(2) {
        let order = |s: &crate::plan::Stage| (s.period.span.first, s.direction.code() == "E");
        assert!(order(&pair[0]) < order(&pair[1]), "stages out of order");
    }
    for stream in streams {
        let mut spans_of: Vec<&Window> = windows.iter().copied().filter(|w| w.stream == stream).collect();
        spans_of.sort_by_key(|w| w.span.first);
        assert_eq!(spans_of.first().map(|w| w.span.first), Some(range.first), "{stream:?} starts with the range");
        assert_eq!(spans_of.last().map(|w| w.span.last), Some(range.last), "{stream:?} ends with the range");
        for pair in spans_of.windows(2) {
            assert_eq!(pair[0].span.last.add_days(1), pair[1].span.first, "windows leave no gap and do not overlap");
        }
        for w in &spans_of {
            assert!(w.span.first <= w.span.last && w.span.days() <= i64::from(limit), "{} days over a limit of {limit}", w.span.days());
            assert_eq!(crate::plan::period_key(w.span.first), w.period, "a window is inside its month");
            assert_eq!(crate::plan::period_key(w.span.last), w.period, "a window is inside its month");
        }
    }

    // Splitting and halving one window tile it.
    if let Some(w) = windows.get(usize::from(bytes.u8()) % windows.len().max(1)) {
        let max = 1 + bytes.below(10);
        let pieces = w.split(max);
        assert_eq!(pieces.iter().map(|p| p.span.days()).sum::<i64>(), w.span.days());
        assert!(pieces.iter().all(|p| p.span.days() <= i64::from(max) && p.period == w.period && p.stream == w.stream));
        assert_eq!(spans(w.span, max), pieces.iter().map(|p| p.span).collect::<Vec<_>>());
        let halves = w.halves();
        if w.splittable() {
            assert_eq!(halves.len(), 2);
            assert_eq!((halves[0].span.first, halves[1].span.last), (w.span.first, w.span.last));
            assert_eq!(halves[0].span.last.add_days(1), halves[1].span.first);
            assert!(halves.iter().all(|h| h.span.days() >= 1 && h.span.days() < w.span.days()));
        } else {
            assert_eq!(halves, vec![(*w).clone()]);
        }
    }

    // What a refusal teaches.
    let refused = i64::from(bytes.u16());
    let message = format!("查询时间跨度不能超过{}天", bytes.u32());
    let learned = SpanLimit { max_days: limit }.learn(refused, &message);
    assert!((1..=limit).contains(&learned.max_days), "learned {} from {limit}", learned.max_days);
    if let Some(said) = stated_day_limit(&message).filter(|&d| i64::from(d) < refused) {
        assert_eq!(learned.max_days, said.min(limit));
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use proptest::prelude::*;

    use super::*;

    /// Every file of `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/`.
    fn cases(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
        let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
        let mut out = Vec::new();
        for folder in ["corpus", "regressions"] {
            let dir = fuzz.join(folder).join(target);
            if folder == "regressions" && !dir.exists() {
                continue; // no failing input found yet
            }
            let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
            for entry in entries {
                let path = entry.expect("a directory entry").path();
                if path.is_file() && path.file_name().is_some_and(|n| n != "README.md") {
                    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                    out.push((path, bytes));
                }
            }
        }
        out.sort();
        out
    }

    fn replay(target: &str, check: fn(&[u8])) -> usize {
        let all = cases(target);
        assert!(!all.is_empty(), "no seeds in fuzz/corpus/{target}");
        for (path, bytes) in &all {
            let outcome = std::panic::catch_unwind(|| check(bytes));
            assert!(outcome.is_ok(), "{} breaks the {target} invariant", path.display());
        }
        all.len()
    }

    #[test]
    fn replays_request_frames() {
        assert!(replay("request", |b| drop(check_request_frame(b))) >= 5);
    }

    #[test]
    fn replays_portal_lists() {
        assert!(replay("portal_list", check_portal_list) >= 3);
    }

    #[test]
    fn replays_portal_details() {
        assert!(replay("portal_detail", check_portal_detail) >= 3);
    }

    #[test]
    fn replays_portal_answers() {
        assert!(replay("portal_answer", check_portal_answer) >= 3);
    }

    #[test]
    fn replays_documents() {
        assert!(replay("documents", check_documents) >= 3);
    }

    #[test]
    fn replays_planner() {
        assert!(replay("planner", check_planner) >= 3);
    }

    #[test]
    fn the_seeds_are_real_shapes() {
        // The list seed parses to portal-sim's row; the detail seed to its head and goods.
        let list = cases("portal_list").into_iter().find(|(p, _)| p.ends_with("sim-list")).expect("the sim-list seed");
        let page = parse_list(&String::from_utf8_lossy(&list.1)).expect("portal-sim's list parses");
        assert_eq!((page.total, page.rows[0].cus_ciq_no.as_str(), page.rows[0].goods_num), (1, "I20240000034151806", Some(8)));
        let detail = cases("portal_detail").into_iter().find(|(p, _)| p.ends_with("sim-detail")).expect("the sim-detail seed");
        let detail = parse_detail(&String::from_utf8_lossy(&detail.1)).expect("portal-sim's detail parses");
        assert_eq!((detail.cus_ciq_no.as_str(), detail.goods.len()), ("I20240000034151806", 8));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_request_frame_gets_one_reply(frame in prop::collection::vec(any::<u8>(), 0..200)) {
            check_request_frame(&frame);
        }

        #[test]
        fn json_like_request_frames_get_one_reply(id in any::<u64>(), kind in "[a-z_]{0,20}", extra in "\\PC{0,40}") {
            let text = serde_json::to_string(&extra).expect("a string serializes");
            let frame = format!(r#"{{"id":{id},"type":"{kind}","protocol":1,"text":{text},"pin":"12345678"}}"#);
            let reply = check_request_frame(frame.as_bytes());
            prop_assert_eq!(reply.id, Some(id));
        }

        #[test]
        fn random_portal_lists(data in prop::collection::vec(any::<u8>(), 0..300)) {
            check_portal_list(&data);
        }

        #[test]
        fn random_portal_details(data in prop::collection::vec(any::<u8>(), 0..300)) {
            check_portal_detail(&data);
        }

        #[test]
        fn random_portal_answers(data in prop::collection::vec(any::<u8>(), 0..200)) {
            check_portal_answer(&data);
        }

        #[test]
        fn random_documents(data in prop::collection::vec(any::<u8>(), 0..200)) {
            check_documents(&data);
        }

        #[test]
        fn random_plans(data in prop::collection::vec(any::<u8>(), 0..40)) {
            check_planner(&data);
        }
    }
}
