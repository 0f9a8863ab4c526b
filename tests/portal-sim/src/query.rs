//! The list query (`cusQuery`): decoding its parameters and answering it.
//!
//! A scraper sends `GET /decserver/sw/dec/merge/cusQuery?limit=50&offset=0&
//! stName=updateTime&stOrder=desc&decStatusInfo=…` where `decStatusInfo` is a
//! JSON object URI-encoded twice by the client and once more by the query
//! string, so `{` arrives as `%25257B` (portal-api.md §2 \[C\]). The servlet
//! layer removes one layer ([`crate::codec::parse_query`]);
//! [`decode_dec_status_info`] removes the other two and parses the JSON.
//!
//! [`parse_list_query`] turns the parameters into a [`ListQuery`], applying
//! the portal's rules: one direction per query, the 结关/非结关 split on
//! `cusDecStatus`, the role filter, an inclusive date range no wider than
//! `--max-span-days`. [`run_list`] filters, sorts by `updateTime desc` and
//! cuts the requested page. Everything here is pure.

use serde_json::{Map, Value};

use crate::codec::{percent_decode, query_value};
use crate::date::Date;
use crate::model::{DeclKind, Declaration, IeFlag, Role};

/// The decoded `decStatusInfo` object.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct DecStatusInfo {
    fields: Map<String, Value>,
}

impl DecStatusInfo {
    /// The field as text: strings as is, numbers and booleans printed,
    /// `null` or absent as `""`.
    pub fn get(&self, key: &str) -> String {
        match self.fields.get(key) {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            _ => String::new(),
        }
    }

    /// The raw object.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }
}

/// Why `decStatusInfo` could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The parameter is absent or empty.
    Missing,
    /// No decoding layer yields a JSON object.
    NotJson(String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Missing => write!(f, "decStatusInfo is missing"),
            DecodeError::NotJson(s) => write!(f, "decStatusInfo is not a JSON object: {s:.80}"),
        }
    }
}

impl std::error::Error for DecodeError {}

fn parse_object(text: &str) -> Option<Map<String, Value>> {
    let t = text.trim();
    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(t) {
        return Some(m);
    }
    // GUESS: the server parses leniently, since NEMS sends Python's
    // `str(dict)` and it worked: accept single quotes too (portal-api.md §2).
    if t.starts_with("{'") {
        let swapped = t.replace('\'', "\"");
        if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&swapped) {
            return Some(m);
        }
    }
    None
}

/// Decode `decStatusInfo` as the servlet handed it over (one layer already
/// removed). The real client applied `encodeURI` twice, so two more
/// percent-decodings are expected; for leniency (GUESS, portal-api.md §2),
/// the value is also accepted with one, zero or three remaining layers, and
/// in Python's `str(dict)` quoting.
pub fn decode_dec_status_info(value: &str) -> Result<DecStatusInfo, DecodeError> {
    if value.trim().is_empty() {
        return Err(DecodeError::Missing);
    }
    // GUESS: any of 0-3 remaining layers is accepted (portal-api.md §2 says two).
    let d1 = percent_decode(value, false);
    let d2 = percent_decode(&d1, false);
    let d3 = percent_decode(&d2, false);
    for candidate in [&d2, &d1, value, &d3] {
        if let Some(fields) = parse_object(candidate) {
            return Ok(DecStatusInfo { fields });
        }
    }
    Err(DecodeError::NotJson(d2))
}

/// Which side of the closed/not-closed split a query asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    /// `cusDecStatus` empty: every declaration not yet 结关.
    NotClosed,
    /// `cusDecStatus` = `10`: 结关.
    Closed,
    /// Any other code: exactly that status.
    // GUESS: other codes filter exactly (portal-api.md §2 documents only "" and 10).
    Exact(String),
}

/// The two URL shapes of the list query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListVariant {
    /// `/decserver/sw/dec/merge/cusQuery` with `stName`/`stOrder`.
    Merge,
    /// The older `/decserver/sw/dec/common/cusQuery` with `sortName`/`sortOrder` \[C WJD\].
    Common,
}

/// A parsed list query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    /// Row offset.
    pub offset: usize,
    /// Rows asked for.
    pub limit: usize,
    /// `stOrder=asc`.
    pub ascending: bool,
    /// `cusIEFlag`.
    pub ie: IeFlag,
    /// `dclTrnRelFlag`; `None` for a type the enterprise has none of.
    pub kind: Option<DeclKind>,
    /// `etpsCategory`; `None` for an unknown role (matches nothing).
    pub role: Option<Role>,
    /// `cusDecStatus`.
    pub status: StatusFilter,
    /// Inclusive `queryDate` range; `None` for a lookup by number.
    pub range: Option<(Date, Date)>,
    /// `operType` other than 0 (集报清单, 其他): matches nothing.
    pub other_oper_type: bool,
    /// 统一编号 filter.
    pub cus_ciq_no: String,
    /// 报关单号 filter.
    pub entry_id: String,
    /// 提运单号 filter.
    pub bill_no: String,
    /// `isBillNoExactQuery=1`.
    pub bill_exact: bool,
    /// 申报地海关 filter.
    pub custom_master: String,
}

/// Why a list query was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// A malformed HTTP parameter (`limit=abc`): the servlet answers 400.
    BadParameter(String),
    /// A refused query: the portal answers its JSON error shape with this
    /// `message` (see [`error_body`]).
    Refused(String),
}

/// The refusal shape, `{"total":"0","rows":[],"message":…}` with HTTP 200.
pub fn error_body(message: &str) -> Value {
    // GUESS: total "0", empty rows and HTTP 200 around the `message` (portal-api.md §2
    // confirms only that an error carries `message`).
    serde_json::json!({ "total": "0", "rows": [], "message": message })
}

/// The message for a too-wide date range.
pub fn span_message(max_days: u32) -> String {
    // GUESS: the wording (portal-api.md §2: MAOYI's comment "最大只支持7天的跨度").
    format!("查询时间跨度不能超过{max_days}天")
}

fn parse_usize(
    pairs: &[(String, String)],
    name: &str,
    default: usize,
) -> Result<usize, QueryError> {
    match query_value(pairs, name).map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| QueryError::BadParameter(format!("{name}={v}"))),
    }
}

/// The page size when `limit` is absent.
// GUESS: bootstrap-table's default of 10 (portal-api.md §2 shows only explicit limits).
pub const DEFAULT_LIMIT: usize = 10;

/// Parse a list query from decoded query pairs. `max_span_days` = 0 means
/// no span limit.
pub fn parse_list_query(
    pairs: &[(String, String)],
    variant: ListVariant,
    max_span_days: u32,
) -> Result<ListQuery, QueryError> {
    let offset = parse_usize(pairs, "offset", 0)?;
    let limit = parse_usize(pairs, "limit", DEFAULT_LIMIT)?;
    let order_key = match variant {
        ListVariant::Merge => "stOrder",
        ListVariant::Common => "sortOrder",
    };
    // GUESS: only updateTime is sortable; other `stName` values sort by it too
    // (portal-api.md §2 shows only stName=updateTime).
    let ascending = query_value(pairs, order_key).is_some_and(|o| o.eq_ignore_ascii_case("asc"));
    let raw_info = query_value(pairs, "decStatusInfo").unwrap_or("");
    let info = decode_dec_status_info(raw_info).map_err(|e| match e {
        // GUESS: a missing or unreadable filter is refused with a message (portal-api.md §2).
        DecodeError::Missing => QueryError::Refused("查询条件不能为空".into()),
        DecodeError::NotJson(_) => QueryError::Refused("查询条件格式错误".into()),
    })?;

    // GUESS: no direction is refused, as there is no "all" value (portal-api.md §2).
    let ie = IeFlag::parse(&info.get("cusIEFlag"))
        .ok_or_else(|| QueryError::Refused("请选择进出口标志".into()))?;
    let kind_text = info.get("dclTrnRelFlag");
    // GUESS: an absent type means 0 一般报关单, the UI's default (portal-api.md §2).
    let kind = DeclKind::parse(if kind_text.is_empty() {
        "0"
    } else {
        &kind_text
    });
    let role_text = info.get("etpsCategory");
    // GUESS: an absent role means C 报关收发货人, the samples' value (portal-api.md §2).
    let role = Role::parse(if role_text.is_empty() {
        "C"
    } else {
        &role_text
    });
    let status = match info.get("cusDecStatus").as_str() {
        "" => StatusFilter::NotClosed,
        "10" => StatusFilter::Closed,
        other => StatusFilter::Exact(other.to_string()),
    };
    let oper = info.get("operType");
    let other_oper_type = !(oper.is_empty() || oper == "0");

    let cus_ciq_no = info.get("cusCiqNo");
    let entry_id = info.get("entryId");
    let bill_no = info.get("billNo");
    let lookup = !(cus_ciq_no.is_empty() && entry_id.is_empty() && bill_no.is_empty());

    // GUESS: a lookup by 统一编号, 报关单号 or 提运单号 ignores the date range
    // and its span limit (portal-api.md §2 does not say).
    let range = if lookup {
        None
    } else {
        let start = info.get("updateTime");
        let end = info.get("updateTimeEnd");
        if start.is_empty() || end.is_empty() {
            return Err(QueryError::Refused("请选择查询时间范围".into()));
        }
        let start = Date::parse(&start).map_err(|_| QueryError::Refused("日期格式错误".into()))?;
        let end = Date::parse(&end).map_err(|_| QueryError::Refused("日期格式错误".into()))?;
        if end < start {
            return Err(QueryError::Refused("开始日期不能晚于结束日期".into()));
        }
        // GUESS: "a span of 7 days" = at most 7 calendar days, both ends
        // included, the most conservative reading of MAOYI (portal-api.md §2).
        let days = start.days_until(end) + 1;
        if max_span_days > 0 && days > i64::from(max_span_days) {
            return Err(QueryError::Refused(span_message(max_span_days)));
        }
        Some((start, end))
    };

    Ok(ListQuery {
        offset,
        limit,
        ascending,
        ie,
        kind,
        role,
        status,
        range,
        other_oper_type,
        cus_ciq_no,
        entry_id,
        bill_no,
        bill_exact: info.get("isBillNoExactQuery") == "1",
        custom_master: info.get("customMaster"),
    })
}

impl ListQuery {
    /// Whether `d` is in this query's result set (before paging).
    pub fn matches(&self, d: &Declaration) -> bool {
        self.matches_as(d, &d.etps_category)
    }

    /// [`ListQuery::matches`] for a viewer whose roles on `d` are `roles` (a broker's on a
    /// client's declaration differ from the client's own `etpsCategory`).
    pub fn matches_as(&self, d: &Declaration, roles: &[Role]) -> bool {
        if self.other_oper_type || d.cus_i_e_flag != self.ie {
            return false;
        }
        if self.kind != Some(d.dcl_trn_rel_flag) {
            return false;
        }
        match self.role {
            Some(r) if roles.contains(&r) => {}
            _ => return false,
        }
        let status_ok = match &self.status {
            StatusFilter::NotClosed => !d.cus_dec_status.is_closed(),
            StatusFilter::Closed => d.cus_dec_status.is_closed(),
            StatusFilter::Exact(code) => d.cus_dec_status.code() == code,
        };
        if !status_ok {
            return false;
        }
        if let Some((a, b)) = self.range {
            if d.query_date < a || d.query_date > b {
                return false;
            }
        }
        if !self.cus_ciq_no.is_empty() && d.cus_ciq_no != self.cus_ciq_no {
            return false;
        }
        if !self.entry_id.is_empty() && d.entry_id.as_deref() != Some(self.entry_id.as_str()) {
            return false;
        }
        if !self.bill_no.is_empty() {
            // GUESS: a non-exact 提运单号 search is a case-insensitive substring
            // match (portal-api.md §2 names isBillNoExactQuery only).
            let ok = if self.bill_exact {
                d.bill_no == self.bill_no
            } else {
                d.bill_no
                    .to_ascii_uppercase()
                    .contains(&self.bill_no.to_ascii_uppercase())
            };
            if !ok {
                return false;
            }
        }
        self.custom_master.is_empty() || d.custom_master == self.custom_master
    }
}

/// Answer `q` over `decls`: the total number of matches and the page of at
/// most `min(limit, max_rows)` rows from `offset`, sorted by `updateTime`
/// (descending unless `ascending`), ties by `cusCiqNo` ascending.
pub fn run_list<'a>(
    decls: &'a [Declaration],
    q: &ListQuery,
    max_rows: usize,
) -> (usize, Vec<&'a Declaration>) {
    run_list_as(
        decls.iter().map(|d| (d, d.etps_category.as_slice())),
        q,
        max_rows,
    )
}

/// [`run_list`] over what one viewer sees: each declaration with the viewer's roles on it.
pub fn run_list_as<'a, 'r>(
    view: impl IntoIterator<Item = (&'a Declaration, &'r [Role])>,
    q: &ListQuery,
    max_rows: usize,
) -> (usize, Vec<&'a Declaration>) {
    let mut hits: Vec<&Declaration> = view
        .into_iter()
        .filter(|(d, roles)| q.matches_as(d, roles))
        .map(|(d, _)| d)
        .collect();
    hits.sort_by(|a, b| {
        let by_time = a.update_time.cmp(&b.update_time);
        let by_time = if q.ascending {
            by_time
        } else {
            by_time.reverse()
        };
        by_time.then_with(|| a.cus_ciq_no.cmp(&b.cus_ciq_no))
    });
    let total = hits.len();
    let page = hits
        .into_iter()
        .skip(q.offset)
        .take(q.limit.min(max_rows))
        .collect();
    (total, page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{encode_uri, encode_uri_component, parse_query, python_quote};

    const SAMPLE: &str = r#"{"cusCiqNoHidden":"","dclTrnRelFlagHidden":"","transPreNoHidden":"","cusOrgCode":"","operType":"0","dclTrnRelFlag":"0","cusDecStatus":"","etpsCategory":"C","cusIEFlag":"I","entryId":"","cusCiqNo":"","cnsnTradeCode":"","billNo":"","isBillNoExactQuery":"0","customMaster":"","tableFlag":"1","updateTime":"2020-06-04","updateTimeEnd":"2020-06-10","operateDate":"1","queryPage":"cusBasicQuery"}"#;

    fn raw_url_query(info_json: &str) -> String {
        // WLX: encodeURI(encodeURI(JSON.stringify(o))), then the URL layer.
        let twice = encode_uri(&encode_uri(info_json));
        format!(
            "limit=50&offset=0&stName=updateTime&stOrder=desc&decStatusInfo={}&_=1591234567890",
            encode_uri_component(&twice)
        )
    }

    #[test]
    fn decodes_the_scrapers_triple_encoding() {
        let raw = raw_url_query(SAMPLE);
        assert!(raw.contains("decStatusInfo=%25257B%252522"), "{raw}");
        let pairs = parse_query(&raw);
        let info = decode_dec_status_info(query_value(&pairs, "decStatusInfo").unwrap()).unwrap();
        assert_eq!(info.get("cusIEFlag"), "I");
        assert_eq!(info.get("updateTimeEnd"), "2020-06-10");
        assert_eq!(info.get("queryPage"), "cusBasicQuery");
        assert_eq!(info.get("absent"), "");
    }

    #[test]
    fn decodes_lenient_variants() {
        // Python: quote(quote(json)), placed raw in the URL (two layers left after the servlet).
        let py = python_quote(&python_quote(SAMPLE));
        let info = decode_dec_status_info(&percent_decode(&py, true)).unwrap();
        assert_eq!(info.get("etpsCategory"), "C");
        // Encoded once only.
        let once = decode_dec_status_info(SAMPLE).unwrap();
        assert_eq!(once.get("operType"), "0");
        // Python str(dict).
        let repr = "{'cusIEFlag': 'E', 'limit': 10}";
        let info = decode_dec_status_info(&python_quote(&python_quote(repr))).unwrap();
        assert_eq!(info.get("cusIEFlag"), "E");
        assert_eq!(info.get("limit"), "10");
        // Chinese text survives.
        let zh = r#"{"dclTrnRelFlagName":"一般报关单"}"#;
        let info = decode_dec_status_info(&encode_uri(&encode_uri(zh))).unwrap();
        assert_eq!(info.get("dclTrnRelFlagName"), "一般报关单");
        assert_eq!(decode_dec_status_info(""), Err(DecodeError::Missing));
        assert!(matches!(
            decode_dec_status_info("%257Bnope"),
            Err(DecodeError::NotJson(_))
        ));
    }

    fn q(info: &str) -> Result<ListQuery, QueryError> {
        parse_list_query(&parse_query(&raw_url_query(info)), ListVariant::Merge, 7)
    }

    #[test]
    fn parses_filters_and_applies_defaults() {
        let lq = q(SAMPLE).unwrap();
        assert_eq!((lq.offset, lq.limit, lq.ascending), (0, 50, false));
        assert_eq!(lq.ie, IeFlag::I);
        assert_eq!(lq.kind, Some(DeclKind::General));
        assert_eq!(lq.role, Some(Role::C));
        assert_eq!(lq.status, StatusFilter::NotClosed);
        assert_eq!(
            lq.range,
            Some((
                Date::parse("2020-06-04").unwrap(),
                Date::parse("2020-06-10").unwrap()
            ))
        );
        let closed = q(&SAMPLE.replace(r#""cusDecStatus":"""#, r#""cusDecStatus":"10""#)).unwrap();
        assert_eq!(closed.status, StatusFilter::Closed);
        let filing =
            q(&SAMPLE.replace(r#""dclTrnRelFlag":"0""#, r#""dclTrnRelFlag":"2""#)).unwrap();
        assert_eq!(filing.kind, Some(DeclKind::Filing));
        let transit =
            q(&SAMPLE.replace(r#""dclTrnRelFlag":"0""#, r#""dclTrnRelFlag":"1""#)).unwrap();
        assert_eq!(transit.kind, None);
        let minimal =
            q(r#"{"cusIEFlag":"E","updateTime":"2020-06-04","updateTimeEnd":"2020-06-04"}"#)
                .unwrap();
        assert_eq!(
            (minimal.kind, minimal.role),
            (Some(DeclKind::General), Some(Role::C))
        );
    }

    #[test]
    fn span_limit_and_refusals() {
        // 7 calendar days inclusive is fine, 8 is not.
        assert!(q(SAMPLE).is_ok());
        assert_eq!(
            q(&SAMPLE.replace("2020-06-10", "2020-06-11")),
            Err(QueryError::Refused(span_message(7)))
        );
        assert_eq!(
            q(&SAMPLE.replace(r#""cusIEFlag":"I""#, r#""cusIEFlag":"""#)),
            Err(QueryError::Refused("请选择进出口标志".into()))
        );
        assert!(matches!(
            q(&SAMPLE.replace("2020-06-10", "2020-06-01")),
            Err(QueryError::Refused(_))
        ));
        assert!(matches!(
            q(&SAMPLE.replace("2020-06-10", "2020/06/10")),
            Err(QueryError::Refused(_))
        ));
        // A lookup by number ignores the range.
        let lookup = q(&SAMPLE
            .replace("2020-06-10", "2024-06-10")
            .replace(r#""cusCiqNo":"""#, r#""cusCiqNo":"I20200000000000001""#))
        .unwrap();
        assert_eq!(lookup.range, None);
        let bad = parse_list_query(
            &parse_query("limit=ten&decStatusInfo=x"),
            ListVariant::Merge,
            7,
        );
        assert_eq!(bad, Err(QueryError::BadParameter("limit=ten".into())));
        let none = parse_list_query(&parse_query("limit=10"), ListVariant::Merge, 7);
        assert!(matches!(none, Err(QueryError::Refused(_))));
        // No limit when max_span_days is 0.
        let wide = SAMPLE.replace("2020-06-10", "2023-06-10");
        assert!(
            parse_list_query(&parse_query(&raw_url_query(&wide)), ListVariant::Merge, 0).is_ok()
        );
    }

    #[test]
    fn common_variant_reads_sort_order() {
        let raw = raw_url_query(SAMPLE).replace("stOrder=desc", "sortOrder=asc");
        let lq = parse_list_query(&parse_query(&raw), ListVariant::Common, 7).unwrap();
        assert!(lq.ascending);
        let lq = parse_list_query(&parse_query(&raw), ListVariant::Merge, 7).unwrap();
        assert!(!lq.ascending);
    }

    #[test]
    fn run_list_pages_sorted_and_capped() {
        let today = Date::parse("2025-03-31").unwrap();
        let data =
            crate::generate::generate(3, 400, Date::parse("2025-03-01").unwrap(), today, today);
        let info = r#"{"cusIEFlag":"E","etpsCategory":"B","updateTime":"2025-03-01","updateTimeEnd":"2025-03-31"}"#;
        let mut lq =
            parse_list_query(&parse_query(&raw_url_query(info)), ListVariant::Merge, 0).unwrap();
        assert_eq!(lq.range, Some((Date::parse("2025-03-01").unwrap(), today)));
        lq.limit = 1000;
        let (total, all) = run_list(&data.declarations, &lq, 1000);
        assert_eq!(total, all.len());
        assert!(total > 0);
        assert!(all.windows(2).all(|w| w[0].update_time >= w[1].update_time));
        assert!(all.iter().all(|d| d.cus_i_e_flag == IeFlag::E
            && d.has_role(Role::B)
            && !d.cus_dec_status.is_closed()));
        lq.limit = 10;
        lq.offset = 3;
        let (t2, page) = run_list(&data.declarations, &lq, 4);
        assert_eq!(t2, total);
        assert_eq!(page.len(), 4.min(total.saturating_sub(3)));
        assert_eq!(
            page.first().map(|d| &d.cus_ciq_no),
            all.get(3).map(|d| &d.cus_ciq_no)
        );
    }
}
