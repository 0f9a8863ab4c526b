//! Declarations out of the store, for people and other programs (`datalink-host export`).
//!
//! * **JSONL**: one declaration per line, `{"cusCiqNo": …, <head fields>, "goods": [<lines>]}`:
//!   the detail's head (`preDecHeadVo` without its nested lists) with the portal's own field
//!   names and values, then the goods lines as stored. A declaration whose detail was never
//!   fetched carries its list row's fields and `"goods": []`.
//! * **CSV**: UTF-8 with a byte order mark (so Excel reads the Chinese), a Chinese header, one
//!   row per goods line with the head's key columns repeated (a declaration without goods lines
//!   gets one row with empty goods columns). Quoting per RFC 4180: a field with a comma, quote,
//!   CR or LF is quoted and its quotes doubled; lines end in CRLF. Values are exactly as the portal
//!   sent them (`declTotal` stays the decimal text `6789.32`).
//!
//! Both are ordered by 统一编号, so the same store always exports the same bytes. With a task,
//! only the declarations that task listed are exported. Rows are streamed: memory does not grow
//! with the store.

use std::io::{self, Write};

use datalink_core::portal::ListRow;
use datalink_core::task::TaskNumber;
use serde_json::{Map, Value};

use super::sync::text;
use super::tasks::require_task;
use super::{Store, StoreError};

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exported {
    pub declarations: u64,
    pub goods_lines: u64,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the export failed: {0}")]
    Output(#[from] io::Error),
}

impl From<rusqlite::Error> for ExportError {
    fn from(error: rusqlite::Error) -> ExportError {
        ExportError::Store(error.into())
    }
}

impl From<serde_json::Error> for ExportError {
    fn from(error: serde_json::Error) -> ExportError {
        if error.is_io() {
            ExportError::Output(error.into())
        } else {
            ExportError::Store(error.into())
        }
    }
}

/// The head columns of the CSV: (portal field, header).
pub const HEAD_COLUMNS: &[(&str, &str)] = &[
    ("cusCiqNo", "统一编号"),
    ("entryId", "报关单号"),
    ("cusIEFlag", "进出口标志"),
    ("dclTrnRelFlag", "报关单类型"),
    ("cusDecStatus", "报关状态"),
    ("cusDecStatusName", "报关状态名称"),
    ("iEDate", "进出口日期"),
    ("dDate", "申报日期"),
    ("updateTime", "更新时间"),
    ("supvModeCdde", "监管方式"),
    ("customMaster", "申报地海关"),
    ("iEPort", "进出境口岸"),
    ("billNo", "提运单号"),
    ("ownerName", "消费使用/生产销售单位"),
];

/// The goods columns of the CSV: (portal field, header).
pub const GOODS_COLUMNS: &[(&str, &str)] = &[
    ("gNo", "项号"),
    ("codeTs", "商品编号"),
    ("gName", "商品名称"),
    ("gModel", "规格型号"),
    ("gQty", "成交数量"),
    ("gUnit", "成交计量单位"),
    ("declPrice", "单价"),
    ("declTotal", "总价"),
    ("tradeCurr", "币制"),
    ("cusOriginCountry", "原产国（地区）"),
    ("destinationCountry", "最终目的国（地区）"),
];

/// One CSV field, quoted when RFC 4180 requires it.
fn csv_field(out: &mut dyn Write, value: &str) -> io::Result<()> {
    if value.contains([',', '"', '\r', '\n']) {
        out.write_all(b"\"")?;
        out.write_all(value.replace('"', "\"\"").as_bytes())?;
        out.write_all(b"\"")
    } else {
        out.write_all(value.as_bytes())
    }
}

fn csv_line<'a>(out: &mut dyn Write, fields: impl IntoIterator<Item = &'a str>) -> io::Result<()> {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        csv_field(out, field)?;
    }
    out.write_all(b"\r\n")
}

/// A field's text for CSV: strings as they are, numbers as written, objects as JSON, null empty.
fn cell(map: &Map<String, Value>, key: &str) -> String {
    match map.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::Array(_) | Value::Object(_)) => map.get(key).map(Value::to_string).unwrap_or_default(),
        Some(_) => text(map, key).unwrap_or_default(),
    }
}

fn jsonl_line(out: &mut dyn Write, cus_ciq_no: &str, fields: &Map<String, Value>, goods: &[String]) -> Result<(), ExportError> {
    out.write_all(b"{\"cusCiqNo\":")?;
    serde_json::to_writer(&mut *out, cus_ciq_no)?;
    for (key, value) in fields {
        if key == "cusCiqNo" || key == "goods" {
            continue;
        }
        out.write_all(b",")?;
        serde_json::to_writer(&mut *out, key)?;
        out.write_all(b":")?;
        serde_json::to_writer(&mut *out, value)?;
    }
    out.write_all(b",\"goods\":[")?;
    for (i, line) in goods.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        // Stored by serde_json as compact JSON objects: copied as they are.
        out.write_all(line.as_bytes())?;
    }
    out.write_all(b"]}\n")?;
    Ok(())
}

impl Store {
    /// Writes the store's declarations (or one task's) to `out` in `format`.
    pub fn export(&self, format: Format, task: Option<&TaskNumber>, out: &mut dyn Write) -> Result<Exported, ExportError> {
        self.export_for(format, task, None, out)
    }

    /// [`Store::export`] of one enterprise's declarations (统一社会信用代码; those listed by its
    /// tasks, see `enterprises.rs`). A task already implies its enterprise.
    pub fn export_for(
        &self,
        format: Format,
        task: Option<&TaskNumber>,
        enterprise: Option<&str>,
        out: &mut dyn Write,
    ) -> Result<Exported, ExportError> {
        let tx = self.conn.unchecked_transaction()?;
        if let Some(task) = task {
            require_task(&tx, task)?;
        }
        let mut declarations = match task {
            Some(_) => tx.prepare(
                "SELECT d.cus_ciq_no, d.head, d.list_row FROM task_declaration t JOIN declaration d ON d.cus_ciq_no = t.cus_ciq_no
                 WHERE t.task = ?1 ORDER BY t.cus_ciq_no",
            )?,
            None => tx.prepare(&format!(
                "SELECT cus_ciq_no, head, list_row FROM declaration WHERE {} ORDER BY cus_ciq_no",
                super::enterprises::declaration_matches("cus_ciq_no", "?1")
            ))?,
        };
        let mut goods = tx.prepare("SELECT line FROM goods_line WHERE cus_ciq_no = ?1 ORDER BY seq")?;
        if format == Format::Csv {
            out.write_all("\u{feff}".as_bytes())?;
            csv_line(out, HEAD_COLUMNS.iter().chain(GOODS_COLUMNS).map(|(_, header)| *header))?;
        }
        let mut done = Exported::default();
        let mut rows = declarations.query([task.map_or(enterprise, |t| Some(t.0.as_str()))])?;
        while let Some(row) = rows.next()? {
            let cus: String = row.get(0)?;
            let head: Option<String> = row.get(1)?;
            let list_row: Option<String> = row.get(2)?;
            let fields: Map<String, Value> = match (head, list_row) {
                (Some(head), _) => serde_json::from_str(&head).map_err(StoreError::from)?,
                (None, Some(list_row)) => serde_json::from_str::<ListRow>(&list_row).map_err(StoreError::from)?.raw,
                (None, None) => Map::new(),
            };
            let lines = goods.query_map([&cus], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
            match format {
                Format::Jsonl => jsonl_line(out, &cus, &fields, &lines)?,
                Format::Csv => {
                    let head: Vec<String> =
                        HEAD_COLUMNS.iter().map(|(key, _)| if *key == "cusCiqNo" { cus.clone() } else { cell(&fields, key) }).collect();
                    let parsed = lines
                        .iter()
                        .map(|l| serde_json::from_str::<Map<String, Value>>(l).map_err(StoreError::from))
                        .collect::<Result<Vec<_>, _>>()?;
                    if parsed.is_empty() {
                        csv_line(out, head.iter().map(String::as_str).chain(GOODS_COLUMNS.iter().map(|_| "")))?;
                    }
                    for line in &parsed {
                        let goods: Vec<String> = GOODS_COLUMNS.iter().map(|(key, _)| cell(line, key)).collect();
                        csv_line(out, head.iter().chain(&goods).map(String::as_str))?;
                    }
                }
            }
            done.declarations += 1;
            done.goods_lines += lines.len() as u64;
        }
        out.flush()?;
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::*;

    fn exported(store: &Store, format: Format, task: Option<&TaskNumber>) -> String {
        let mut out = Vec::new();
        store.export(format, task, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Two tasks: the first lists 1 and 2 and fetches 1's detail; the second lists 3 only.
    fn two_tasks() -> (tempfile::TempDir, Store, TaskNumber, TaskNumber) {
        let (dir, mut store) = open();
        let w = window("2026-01-01", "2026-01-31");
        let first = store.task_create(&create("2026-05-25 10:00:00", "a")).unwrap().number;
        let (r1, r2) = (row(&cus(1), "2026-01-10 10:00:00"), row(&cus(2), "2026-01-11 10:00:00"));
        store.list_page(&page(&first, &w, 1, 0, 2, vec![r2, r1.clone()])).unwrap();
        store.detail_save(&save(&first, detail_for(&r1))).unwrap();
        let second = store.task_create(&create("2026-05-25 11:00:00", "b")).unwrap().number;
        store.list_page(&page(&second, &w, 1, 0, 1, vec![row(&cus(3), "2026-01-12 10:00:00")])).unwrap();
        (dir, store, first, second)
    }

    #[test]
    fn jsonl_is_one_declaration_per_line_in_order() {
        let (_dir, store, first, second) = two_tasks();
        let text = exported(&store, Format::Jsonl, None);
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.iter().map(|l| l["cusCiqNo"].as_str().unwrap().to_owned()).collect::<Vec<_>>(), [cus(1), cus(2), cus(3)]);
        assert!(text.lines().all(|l| l.starts_with("{\"cusCiqNo\":") && l.ends_with("]}")), "cusCiqNo first, goods last");
        assert_eq!(lines[0]["goods"][1]["declTotal"], "12.50");
        assert_eq!(lines[0]["ownerName"], "西安数据协同贸易有限公司");
        assert_eq!(lines[0]["dDate"], "2026-01-20");
        assert_eq!(lines[1]["goods"], serde_json::json!([]), "no detail: list fields, no goods");
        assert_eq!(lines[1]["cusDecStatusName"], "结关");
        assert_eq!(exported(&store, Format::Jsonl, Some(&second)).lines().count(), 1);
        assert_eq!(exported(&store, Format::Jsonl, Some(&first)).lines().count(), 2);
        assert_eq!(exported(&store, Format::Jsonl, None), text, "the same store exports the same bytes");
        let mut sink = Vec::new();
        let unknown = store.export(Format::Jsonl, Some(&TaskNumber("20990101000000001".into())), &mut sink);
        assert!(matches!(unknown, Err(ExportError::Store(StoreError::TaskNotFound(_)))));
    }

    #[test]
    fn csv_has_a_bom_a_header_and_a_row_per_goods_line() {
        let (_dir, store, first, _) = two_tasks();
        let text = exported(&store, Format::Csv, Some(&first));
        assert!(text.starts_with('\u{feff}'));
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
        assert_eq!(lines.len(), 1 + 2 + 1 + 1, "header, two goods lines, a row without goods, the final empty piece");
        assert!(lines[0].starts_with("统一编号,报关单号,进出口标志,"));
        assert_eq!(lines[0].split(',').count(), HEAD_COLUMNS.len() + GOODS_COLUMNS.len());
        assert!(lines[1].starts_with(&format!("{},6{},I,", cus(1), &cus(1)[1..])), "{}", lines[1]);
        assert!(lines[1].contains(",6789.32,USD"), "{}", lines[1]);
        assert!(lines[2].contains(",\"鼠标, \"\"无线\"\"\","), "RFC 4180 quoting: {}", lines[2]);
        assert!(lines[3].starts_with(&cus(2)) && lines[3].ends_with(&",".repeat(GOODS_COLUMNS.len())), "{}", lines[3]);
        assert_eq!(lines[4], "");
    }
}
