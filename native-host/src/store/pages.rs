//! What the extension's pages read: 协同记录 with its filters (`task_records`), a task's
//! declarations page by page for 详情 (`task_declarations`), one whole declaration for 预览
//! (`declaration_get`), and the files of 导出 (`export`: XLSX or CSV, see [`super::xlsx`]).
//!
//! Everything here only reads (one deferred transaction per request, so a page never sees half
//! of a sync's commit). The tables stay responsive with 50,000 declarations in a task: a page of
//! `task_declarations` is one indexed count and one `LIMIT/OFFSET` walk of an index, ordered by
//! period, 未核销 first, then 统一编号 (BENCHMARKS.md measures it).

use base64::Engine as _;
use datalink_core::browse::{
    DeclarationFull, DeclarationRow, DeclarationsPage, DeclarationsQuery, ExportFile, ExportFormat, ExportRequest, ReconciledFilter, TaskRecordsQuery,
};
use datalink_core::checkpoint::TaskList;
use datalink_core::portal::ListRow;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::export::{GOODS_COLUMNS, HEAD_COLUMNS};
use super::sync::text;
use super::tasks::{load_task, require_task, state_name};
use super::xlsx::{Cell, Workbook};
use super::{uint, Result, Store, StoreError};

/// The largest page the tables may ask.
const MAX_PAGE_SIZE: u32 = 200;

fn page_bounds(page: u32, page_size: u32) -> Result<(i64, i64)> {
    let page_size = if page_size == 0 { 10 } else { page_size };
    if page_size > MAX_PAGE_SIZE {
        return Err(StoreError::Invalid(format!("pageSize is at most {MAX_PAGE_SIZE}")));
    }
    let page = page.max(1);
    Ok((i64::from(page_size), i64::from(page - 1) * i64::from(page_size)))
}

fn non_empty(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// The first of `keys` with a non-empty scalar value.
fn field(map: &Map<String, Value>, keys: &[&str]) -> String {
    keys.iter().find_map(|k| text(map, k).filter(|v| !v.is_empty())).unwrap_or_default()
}

impl Store {
    /// `task_records` (协同记录): newest first, filtered like `task_list` plus 进出口.
    pub fn task_records(&self, query: &TaskRecordsQuery) -> Result<TaskList> {
        let (limit, offset) = page_bounds(query.page, query.page_size)?;
        let operator = non_empty(&query.operator);
        let from = query.from.map(|d| format!("{d} 00:00:00"));
        let to = query.to.map(|d| format!("{d} 23:59:59"));
        let state = query.state.map(state_name);
        let directions = query.directions.map(|d| serde_json::to_value(d).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default());
        let enterprise = non_empty(&query.enterprise);
        let filter = format!(
            "(?1 IS NULL OR instr(operator, ?1) > 0) AND (?2 IS NULL OR created_at >= ?2) AND (?3 IS NULL OR created_at <= ?3) \
             AND (?4 IS NULL OR state = ?4) AND (?5 IS NULL OR COALESCE(json_extract(conditions, '$.directions'), 'both') = ?5) AND {}",
            super::enterprises::task_matches("task", "?8")
        );
        self.read(|conn| {
            let total: i64 = conn
                .prepare_cached(&format!("SELECT count(*) FROM task WHERE {filter}"))?
                .query_row(params![operator, from, to, state, directions, None::<i64>, None::<i64>, enterprise], |r| r.get(0))?;
            let numbers = conn
                .prepare_cached(&format!("SELECT number FROM task WHERE {filter} ORDER BY number DESC LIMIT ?6 OFFSET ?7"))?
                .query_map(params![operator, from, to, state, directions, limit, offset, enterprise], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let tasks = numbers.into_iter().map(|n| load_task(conn, &datalink_core::task::TaskNumber(n))).collect::<Result<Vec<_>>>()?;
            Ok(TaskList { total: uint(total), tasks })
        })
    }

    /// `task_declarations` (详情): one page of the task's declarations, by period, the 未核销 ones
    /// first, then 统一编号 — the order of the index `task_declaration_by_period` (whose entries
    /// end with the 统一编号), so no page, not even the last of 50,000 rows, sorts anything.
    pub fn task_declarations(&self, query: &DeclarationsQuery) -> Result<DeclarationsPage> {
        let (limit, offset) = page_bounds(query.page, query.page_size)?;
        let mut filter = String::from("t.task = ?");
        let mut args: Vec<rusqlite::types::Value> = vec![query.task.0.clone().into()];
        if let Some(period) = non_empty(&query.period) {
            filter.push_str(" AND t.period = ?");
            args.push(period.to_owned().into());
        }
        match query.reconciled {
            ReconciledFilter::All => {}
            ReconciledFilter::Reconciled => filter.push_str(" AND t.reconciled = 1"),
            ReconciledFilter::Unreconciled => filter.push_str(" AND t.reconciled = 0"),
        }
        if let Some(cus) = non_empty(&query.cus_ciq_no) {
            filter.push_str(" AND instr(t.cus_ciq_no, ?) > 0");
            args.push(cus.to_ascii_uppercase().into());
        }
        // The join is only paid for when filtering by 报关单号.
        let from = match non_empty(&query.entry_id) {
            Some(entry) => {
                filter.push_str(" AND instr(COALESCE(d.entry_id, ''), ?) > 0");
                args.push(entry.to_owned().into());
                "task_declaration t JOIN declaration d ON d.cus_ciq_no = t.cus_ciq_no"
            }
            None => "task_declaration t",
        };
        self.read(|conn| {
            require_task(conn, &query.task)?;
            let total: i64 = conn.prepare_cached(&format!("SELECT count(*) FROM {from} WHERE {filter}"))?.query_row(params_from_iter(&args), |r| r.get(0))?;
            let mut page_args = args.clone();
            page_args.push(limit.into());
            page_args.push(offset.into());
            // The page's keys from the index alone (skipping rows costs no table reads), then
            // their rows by primary key.
            let keys = conn
                .prepare_cached(&declarations_sql(from, &filter))?
                .query_map(params_from_iter(&page_args), |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut one = conn.prepare_cached("SELECT period, reconciled, reason, list_row FROM task_declaration WHERE task = ?1 AND cus_ciq_no = ?2")?;
            let rows = keys
                .into_iter()
                .map(|cus_ciq_no| {
                    let (period, reconciled, reason, list_row) = one.query_row(params![query.task.0, cus_ciq_no], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?, r.get::<_, Option<String>>(2)?, r.get::<_, String>(3)?))
                    })?;
                    let row: ListRow = serde_json::from_str(&list_row)?;
                    Ok(declaration_row(cus_ciq_no, period, reconciled, reason, &row))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(DeclarationsPage { total: uint(total), rows })
        })
    }

    /// `declaration_get` (预览): the stored declaration, or `None` when the store has no such
    /// 统一编号.
    pub fn declaration_get(&self, cus_ciq_no: &str) -> Result<Option<DeclarationFull>> {
        self.read(|conn| {
            let found = conn
                .prepare_cached("SELECT head, list_row, documents, fetched_at FROM declaration WHERE cus_ciq_no = ?1")?
                .query_row([cus_ciq_no], |r| {
                    Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?, r.get::<_, Option<String>>(3)?))
                })
                .optional()?;
            let Some((head, list_row, documents, fetched_at)) = found else {
                return Ok(None);
            };
            let head: Option<Map<String, Value>> = head.map(|h| serde_json::from_str(&h)).transpose()?;
            let list_row = list_row.map(|l| serde_json::from_str::<ListRow>(&l)).transpose()?.map(|row| row.raw);
            let documents: Vec<Value> = documents.map(|d| serde_json::from_str(&d)).transpose()?.unwrap_or_default();
            let goods = goods_of(conn, cus_ciq_no)?;
            Ok(Some(DeclarationFull { cus_ciq_no: cus_ciq_no.to_owned(), head, list_row, goods, documents, fetched_at }))
        })
    }

    /// `export`: the file of a task's (or a range's, or all) declarations.
    pub fn export_file(&self, request: &ExportRequest) -> Result<ExportFile> {
        let (bytes, declarations, goods_lines) = match request.format {
            ExportFormat::Csv => {
                let mut csv = Csv::new();
                let (d, g) = self.each_declaration(request, |cus, fields, goods| csv.declaration(cus, fields, goods))?;
                (csv.finish(), d, g)
            }
            ExportFormat::Xlsx => {
                let mut sheets = Sheets::new();
                let (d, g) = self.each_declaration(request, |cus, fields, goods| {
                    sheets.declaration(cus, fields, goods);
                    Ok(())
                })?;
                (sheets.finish()?, d, g)
            }
        };
        Ok(ExportFile {
            file_name: request.file_name(),
            mime: request.format.mime().to_owned(),
            base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
            bytes: bytes.len() as u64,
            declarations,
            goods_lines,
        })
    }

    /// Calls `f` for each declaration of the request's scope, ordered by 统一编号, with its head
    /// fields (the detail's, else the list row's) and goods lines. Returns the counts.
    fn each_declaration(
        &self,
        request: &ExportRequest,
        mut f: impl FnMut(&str, &Map<String, Value>, &[Map<String, Value>]) -> Result<()>,
    ) -> Result<(u64, u64)> {
        let enterprise: Option<String> = non_empty(&request.enterprise).map(str::to_owned);
        self.read(|conn| {
            let (sql, args): (String, Vec<rusqlite::types::Value>) = match (&request.task, &request.range) {
                (Some(task), _) => {
                    require_task(conn, task)?;
                    (
                        "SELECT d.cus_ciq_no, d.head, d.list_row FROM task_declaration t JOIN declaration d ON d.cus_ciq_no = t.cus_ciq_no
                         WHERE t.task = ?1 ORDER BY t.cus_ciq_no"
                            .to_owned(),
                        vec![task.0.clone().into()],
                    )
                }
                (None, Some(range)) => (
                    format!(
                        "SELECT cus_ciq_no, head, list_row FROM declaration
                         WHERE substr(replace(ie_date, '-', ''), 1, 8) BETWEEN ?1 AND ?2 AND {} ORDER BY cus_ciq_no",
                        super::enterprises::declaration_matches("cus_ciq_no", "?3")
                    ),
                    vec![
                        range.first.to_string().replace('-', "").into(),
                        range.last.to_string().replace('-', "").into(),
                        enterprise.into(),
                    ],
                ),
                (None, None) => (
                    format!(
                        "SELECT cus_ciq_no, head, list_row FROM declaration WHERE {} ORDER BY cus_ciq_no",
                        super::enterprises::declaration_matches("cus_ciq_no", "?1")
                    ),
                    vec![enterprise.into()],
                ),
            };
            let mut statement = conn.prepare(&sql)?;
            let mut rows = statement.query(params_from_iter(&args))?;
            let (mut declarations, mut lines) = (0u64, 0u64);
            while let Some(row) = rows.next()? {
                let cus: String = row.get(0)?;
                let head: Option<String> = row.get(1)?;
                let list_row: Option<String> = row.get(2)?;
                let fields: Map<String, Value> = match (head, list_row) {
                    (Some(head), _) => serde_json::from_str(&head)?,
                    (None, Some(list_row)) => serde_json::from_str::<ListRow>(&list_row)?.raw,
                    (None, None) => Map::new(),
                };
                let goods = goods_of(conn, &cus)?;
                f(&cus, &fields, &goods)?;
                declarations += 1;
                lines += goods.len() as u64;
            }
            Ok((declarations, lines))
        })
    }
}

/// The 统一编号 of one page of `task_declarations`: `from` the task's rows (joined with
/// `declaration` when filtering by 报关单号), `filter`ed, in the index's order.
fn declarations_sql(from: &str, filter: &str) -> String {
    format!("SELECT t.cus_ciq_no FROM {from} WHERE {filter} ORDER BY t.period, t.reconciled, t.cus_ciq_no LIMIT ? OFFSET ?")
}

fn goods_of(conn: &Connection, cus_ciq_no: &str) -> Result<Vec<Map<String, Value>>> {
    let lines = conn
        .prepare_cached("SELECT line FROM goods_line WHERE cus_ciq_no = ?1 ORDER BY seq")?
        .query_map([cus_ciq_no], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(lines.iter().map(|l| serde_json::from_str(l)).collect::<serde_json::Result<Vec<_>>>()?)
}

fn declaration_row(cus_ciq_no: String, period: String, reconciled: bool, reason: Option<String>, row: &ListRow) -> DeclarationRow {
    let raw = &row.raw;
    DeclarationRow {
        entry_id: row.entry_id.clone().unwrap_or_default(),
        ie_flag: row.ie_flag.clone(),
        ie_date: row.ie_date.clone(),
        supv_mode: field(raw, &["supvModeCddeName", "tradeModeCodeName", "supvModeCdde"]),
        custom_master: field(raw, &["customMasterName", "customMaster"]),
        entry_port: field(raw, &["ciqEntyPortCodeName", "ciqEntyPortCode"]),
        status_name: if row.status_name.is_empty() { row.status.clone() } else { row.status_name.clone() },
        inspection: field(raw, &["chktstFlagName"]),
        period,
        reconciled,
        reason: if reconciled { None } else { reason },
        cus_ciq_no,
    }
}

/// The CSV of `datalink-host export --format csv`: UTF-8 with a BOM, a Chinese header, a row per
/// goods line with the head's key columns (RFC 4180 quoting, CRLF).
struct Csv {
    out: String,
}

impl Csv {
    fn new() -> Csv {
        let mut csv = Csv { out: String::from("\u{feff}") };
        let header: Vec<&str> = HEAD_COLUMNS.iter().chain(GOODS_COLUMNS).map(|(_, h)| *h).collect();
        csv.line(header.iter().copied());
        csv
    }

    fn field(&mut self, value: &str) {
        if value.contains([',', '"', '\r', '\n']) {
            self.out.push('"');
            self.out.push_str(&value.replace('"', "\"\""));
            self.out.push('"');
        } else {
            self.out.push_str(value);
        }
    }

    fn line<'a>(&mut self, fields: impl IntoIterator<Item = &'a str>) {
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.field(f);
        }
        self.out.push_str("\r\n");
    }

    fn declaration(&mut self, cus: &str, fields: &Map<String, Value>, goods: &[Map<String, Value>]) -> Result<()> {
        let head: Vec<String> = HEAD_COLUMNS.iter().map(|(key, _)| if *key == "cusCiqNo" { cus.to_owned() } else { cell(fields, key) }).collect();
        if goods.is_empty() {
            self.line(head.iter().map(String::as_str).chain(GOODS_COLUMNS.iter().map(|_| "")));
        }
        for line in goods {
            let g: Vec<String> = GOODS_COLUMNS.iter().map(|(key, _)| cell(line, key)).collect();
            self.line(head.iter().chain(&g).map(String::as_str));
        }
        Ok(())
    }

    fn finish(self) -> Vec<u8> {
        self.out.into_bytes()
    }
}

/// A field as the CSV writes it: scalars as text, lists and objects as JSON, null empty.
fn cell(map: &Map<String, Value>, key: &str) -> String {
    match map.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(v @ (Value::Array(_) | Value::Object(_))) => v.to_string(),
        Some(_) => text(map, key).unwrap_or_default(),
    }
}

/// The heads sheet's columns: (header, the fields to take, in order of preference, numeric).
const XLSX_HEADS: &[(&str, &[&str], bool)] = &[
    ("统一编号", &["cusCiqNo"], false),
    ("报关单号", &["entryId"], false),
    ("进出口", &["cusIEFlag"], false),
    ("报关单类型", &["dclTrnRelFlag"], false),
    ("报关状态", &["cusDecStatusName", "cusDecStatus"], false),
    ("进出口日期", &["iEDate"], false),
    ("申报日期", &["dDate"], false),
    ("监管方式", &["tradeModeCodeName", "supvModeCddeName", "supvModeCdde", "tradeModeCode"], false),
    ("申报地海关", &["customMasterName", "customMaster"], false),
    ("进出境关别", &["iEPortName", "iEPort"], false),
    ("入境/离境口岸", &["ciqEntyPortCodeName", "ciqEntyPortCode"], false),
    ("提运单号", &["billNo"], false),
    ("合同协议号", &["contractNo", "contrNo"], false),
    ("境内收发货人", &["consigneeCname", "consignorCname"], false),
    ("境外收发货人", &["consignorEname", "consigneeEname"], false),
    ("消费使用/生产销售单位", &["ownerName"], false),
    ("申报单位", &["agentName"], false),
    ("成交方式", &["transModeName", "transMode"], false),
    ("毛重（千克）", &["grossWt"], true),
    ("净重（千克）", &["netWt"], true),
    ("件数", &["packNo"], true),
    ("更新时间", &["updateTime"], false),
];

/// The goods sheet's columns after 统一编号 and 报关单号.
const XLSX_GOODS: &[(&str, &[&str], bool)] = &[
    ("项号", &["gNo"], true),
    ("商品编号", &["codeTs"], false),
    ("商品名称", &["gName"], false),
    ("规格型号", &["gModel"], false),
    ("成交数量", &["gQty"], true),
    ("成交计量单位", &["gUnitName", "gUnit"], false),
    ("单价", &["declPrice"], true),
    ("总价", &["declTotal"], true),
    ("币制", &["tradeCurrName", "tradeCurr"], false),
    ("币制代码", &["tradeCurr"], false),
    ("原产国（地区）", &["cusOriginCountry"], false),
    ("最终目的国（地区）", &["destinationCountry"], false),
    ("征免方式", &["dutyModeName", "dutyMode"], false),
];

fn xlsx_cell(map: &Map<String, Value>, keys: &[&str], numeric: bool) -> Cell {
    let value = field(map, keys);
    if numeric {
        Cell::number_or_text(value)
    } else {
        Cell::Text(value)
    }
}

/// The two sheets of the XLSX export.
struct Sheets {
    book: Workbook,
}

impl Sheets {
    fn new() -> Sheets {
        let mut book = Workbook::new(&["报关单表头", "商品明细"]);
        let mut heads: Vec<Cell> = XLSX_HEADS.iter().map(|(h, ..)| Cell::Text((*h).to_owned())).collect();
        heads.push(Cell::Text("商品项数".into()));
        book.header(0, heads);
        let goods = ["统一编号", "报关单号"].into_iter().chain(XLSX_GOODS.iter().map(|(h, ..)| *h)).map(|h| Cell::Text(h.to_owned())).collect();
        book.header(1, goods);
        Sheets { book }
    }

    fn declaration(&mut self, cus: &str, fields: &Map<String, Value>, goods: &[Map<String, Value>]) {
        let mut head: Vec<Cell> =
            XLSX_HEADS.iter().map(|(h, keys, numeric)| if *h == "统一编号" { Cell::Text(cus.to_owned()) } else { xlsx_cell(fields, keys, *numeric) }).collect();
        head.push(Cell::Number(goods.len().to_string()));
        self.book.row(0, head);
        let entry = field(fields, &["entryId"]);
        for line in goods {
            let mut cells = vec![Cell::Text(cus.to_owned()), Cell::Text(entry.clone())];
            cells.extend(XLSX_GOODS.iter().map(|(_, keys, numeric)| xlsx_cell(line, keys, *numeric)));
            self.book.row(1, cells);
        }
    }

    fn finish(self) -> Result<Vec<u8>> {
        self.book.finish().map_err(|e| StoreError::Internal(format!("building the xlsx: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::export::Format;
    use crate::store::fixtures::*;
    use datalink_core::browse::DeclarationRef;
    use datalink_core::checkpoint::TaskStateChange;
    use datalink_core::task::{DirectionChoice, TaskState};
    use std::io::Read;

    /// A task listing 25 declarations of January in one window, the odd ones reconciled.
    fn one_task() -> (tempfile::TempDir, Store, datalink_core::task::TaskNumber) {
        let (dir, mut store) = open();
        let task = store.task_create(&create("2026-05-25 10:00:00", "许斯维")).unwrap().number;
        let w = window("2026-01-01", "2026-01-31");
        let rows: Vec<ListRow> = (1..=25).map(|n| row(&cus(n), "2026-01-10 10:00:00")).collect();
        store.list_page(&page(&task, &w, 1, 0, 25, rows.clone())).unwrap();
        store.window_done(&done(&task, &w, 1, 25)).unwrap();
        for r in rows.iter().step_by(2) {
            assert!(store.detail_save(&save(&task, detail_for(r))).unwrap().reconciled);
        }
        (dir, store, task)
    }

    fn query(task: &datalink_core::task::TaskNumber) -> DeclarationsQuery {
        DeclarationsQuery { task: task.clone(), period: None, cus_ciq_no: None, entry_id: None, reconciled: ReconciledFilter::All, page: 1, page_size: 10 }
    }

    #[test]
    fn declarations_page_filter_and_show_the_list_columns() {
        let (_dir, store, task) = one_task();
        let first = store.task_declarations(&query(&task)).unwrap();
        assert_eq!((first.total, first.rows.len()), (25, 10));
        // 未核销 first (cus 2, 4, … 24), then the reconciled (1, 3, …).
        assert_eq!(first.rows[0].cus_ciq_no, cus(2));
        assert_eq!(first.rows[0].entry_id, format!("6{}", &cus(2)[1..]));
        assert_eq!((first.rows[0].status_name.as_str(), first.rows[0].ie_date.as_str(), first.rows[0].period.as_str()), ("结关", "20260127", "2026-01"));
        assert!(!first.rows[0].reconciled && first.rows[0].reason.is_none());
        let second = store.task_declarations(&DeclarationsQuery { page: 2, ..query(&task) }).unwrap();
        assert_eq!((second.rows[1].cus_ciq_no.clone(), second.rows[2].cus_ciq_no.clone()), (cus(24), cus(1)));
        assert!(second.rows[2].reconciled);
        let third = store.task_declarations(&DeclarationsQuery { page: 3, ..query(&task) }).unwrap();
        assert_eq!(third.rows.len(), 5);
        let open = store.task_declarations(&DeclarationsQuery { reconciled: ReconciledFilter::Unreconciled, page_size: 50, ..query(&task) }).unwrap();
        assert_eq!(open.total, 12);
        assert!(open.rows.iter().all(|r| !r.reconciled));
        let done = store.task_declarations(&DeclarationsQuery { reconciled: ReconciledFilter::Reconciled, ..query(&task) }).unwrap();
        assert_eq!(done.total, 13);
        let by_cus = store.task_declarations(&DeclarationsQuery { cus_ciq_no: Some(format!(" {}", cus(12).to_lowercase())), ..query(&task) }).unwrap();
        assert_eq!(by_cus.rows.iter().map(|r| r.cus_ciq_no.clone()).collect::<Vec<_>>(), [cus(12)]);
        let by_entry = store.task_declarations(&DeclarationsQuery { entry_id: Some(format!("6{}", &cus(7)[1..])), ..query(&task) }).unwrap();
        assert_eq!(by_entry.total, 1);
        let other_period = store.task_declarations(&DeclarationsQuery { period: Some("2026-02".into()), ..query(&task) }).unwrap();
        assert_eq!(other_period.total, 0);
        assert!(matches!(store.task_declarations(&DeclarationsQuery { page_size: 201, ..query(&task) }), Err(StoreError::Invalid(_))));
        let nobody = DeclarationsQuery { task: datalink_core::task::TaskNumber("20990101000000001".into()), ..query(&task) };
        assert_eq!(store.task_declarations(&nobody).unwrap_err().to_info().code, 2006);
    }

    #[test]
    fn paging_declarations_walks_an_index_and_sorts_nothing() {
        let (_dir, store, task) = one_task();
        for filter in ["t.task = ?", "t.task = ? AND t.period = ?"] {
            let sql = format!("EXPLAIN QUERY PLAN {}", declarations_sql("task_declaration t", filter));
            let args: Vec<rusqlite::types::Value> = if filter.contains("period") {
                vec![task.0.clone().into(), "2026-01".to_owned().into(), 10i64.into(), 0i64.into()]
            } else {
                vec![task.0.clone().into(), 10i64.into(), 0i64.into()]
            };
            let plan: Vec<String> = store
                .read(|c| Ok(c.prepare(&sql)?.query_map(params_from_iter(&args), |r| r.get::<_, String>(3))?.collect::<rusqlite::Result<_>>()?))
                .unwrap();
            assert!(plan.iter().any(|p| p.contains("COVERING INDEX task_declaration_by_period")), "{plan:?}");
            assert!(plan.iter().all(|p| !p.contains("TEMP B-TREE")), "no sort for any page: {plan:?}");
        }
    }

    #[test]
    fn records_filter_by_direction_too() {
        let (_dir, mut store) = open();
        let mut both = create("2026-05-25 10:00:00", "许斯维");
        both.conditions.directions = DirectionChoice::Both;
        store.task_create(&both).unwrap();
        let import = store.task_create(&create("2026-05-25 11:00:00", "张三")).unwrap().number; // fixtures: import only
        store.task_state(&TaskStateChange { task: import.clone(), state: TaskState::Failed, now: time("2026-05-25 11:30:00"), message: None }).unwrap();
        let all = store.task_records(&TaskRecordsQuery::default()).unwrap();
        assert_eq!((all.total, all.tasks[0].number.clone()), (2, import.clone()));
        let q = |directions, state: Option<TaskState>, operator: Option<&str>| {
            store
                .task_records(&TaskRecordsQuery { directions, state, operator: operator.map(str::to_owned), ..TaskRecordsQuery::default() })
                .unwrap()
                .total
        };
        assert_eq!(q(Some(DirectionChoice::Import), None, None), 1);
        assert_eq!(q(Some(DirectionChoice::Both), None, None), 1);
        assert_eq!(q(Some(DirectionChoice::Export), None, None), 0);
        assert_eq!(q(None, Some(TaskState::Failed), None), 1);
        assert_eq!(q(None, None, Some("斯")), 1);
        assert_eq!(q(None, None, Some("  ")), 2, "a blank user name filters nothing");
    }

    #[test]
    fn a_declaration_whole_or_only_its_list_row() {
        let (_dir, store, _task) = one_task();
        let full = store.declaration_get(&cus(1)).unwrap().unwrap();
        assert_eq!(full.goods.len(), 2);
        assert_eq!(full.goods[1]["gName"], "鼠标, \"无线\"");
        assert_eq!(full.head.as_ref().unwrap()["ownerName"], "西安数据协同贸易有限公司");
        assert!(full.fetched_at.is_some());
        assert_eq!(full.documents.len(), 1);
        let bare = store.declaration_get(&cus(2)).unwrap().unwrap();
        assert_eq!((bare.head, bare.goods.len(), bare.list_row.unwrap()["cusDecStatusName"].clone()), (None, 0, Value::from("结关")));
        assert_eq!(store.declaration_get("I20269999999999999").unwrap(), None);
        let _ = DeclarationRef { cus_ciq_no: cus(1), enterprise: None };
    }

    #[test]
    fn the_csv_export_is_the_hosts_csv() {
        let (_dir, store, task) = one_task();
        let request = ExportRequest { task: Some(task.clone()), range: None, format: ExportFormat::Csv, enterprise: None };
        let file = store.export_file(&request).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD.decode(&file.base64).unwrap();
        let mut expected = Vec::new();
        store.export(Format::Csv, Some(&task), &mut expected).unwrap();
        assert_eq!(bytes, expected, "the same bytes as `datalink-host export --format csv`");
        assert!(bytes.starts_with("\u{feff}".as_bytes()), "a BOM for Excel");
        assert_eq!((file.declarations, file.goods_lines, file.bytes), (25, 26, bytes.len() as u64));
        assert_eq!(file.file_name, format!("DataLink-报关单-任务{task}.csv"));
    }

    #[test]
    fn a_range_export_takes_the_declarations_of_those_days() {
        let (_dir, store, _task) = one_task();
        let range = |first: &str, last: &str| ExportRequest { task: None, range: Some(range(first, last)), format: ExportFormat::Csv, enterprise: None };
        assert_eq!(store.export_file(&range("2026-01-27", "2026-01-27")).unwrap().declarations, 25);
        assert_eq!(store.export_file(&range("2026-01-28", "2026-12-31")).unwrap().declarations, 0);
        let all = ExportRequest { task: None, range: None, format: ExportFormat::Csv, enterprise: None };
        assert_eq!(store.export_file(&all).unwrap().declarations, 25);
    }

    fn sheet(zip: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> String {
        let mut text = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn the_xlsx_has_a_sheet_of_heads_and_one_of_goods_lines() {
        let (_dir, store, task) = one_task();
        let file = store.export_file(&ExportRequest { task: Some(task), range: None, format: ExportFormat::Xlsx, enterprise: None }).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD.decode(&file.base64).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let workbook = sheet(&mut zip, "xl/workbook.xml");
        assert!(workbook.contains("name=\"报关单表头\"") && workbook.contains("name=\"商品明细\""), "{workbook}");
        let heads = sheet(&mut zip, "xl/worksheets/sheet1.xml");
        assert_eq!(heads.matches("<row ").count(), 1 + 25);
        assert!(heads.contains("<t>西安数据协同贸易有限公司</t>"));
        assert!(heads.contains(&format!("<t>{}</t>", cus(1))), "统一编号 stays text");
        let goods = sheet(&mut zip, "xl/worksheets/sheet2.xml");
        assert_eq!(goods.matches("<row ").count(), 1 + 26);
        assert!(goods.contains("<v>6789.32</v>"), "amounts are numbers");
        assert!(goods.contains("<t>鼠标, &quot;无线&quot;</t>"), "escaped: {}", &goods[..goods.len().min(3000)]);
        assert_eq!(file.mime, ExportFormat::Xlsx.mime());
    }
}
