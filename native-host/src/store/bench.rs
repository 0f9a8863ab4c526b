//! `datalink-host db bench`: how fast the store takes a sync's writes and exports them,
//! measured against a baseline in the same run so the numbers read as ratios, not as absolutes
//! that depend on the machine.
//!
//! The baseline inserts the same declarations and goods lines into the same schema with plain
//! `INSERT`s in one transaction — what SQLite costs without the store's logic (upserts, history,
//! cross-checks, one transaction per request). The export baseline reads the same rows with one
//! `SELECT … JOIN … ORDER BY` and does nothing with them.
//!
//! Bounded: `declarations` × `goods` lines (default 10,000 × 3), in a temporary folder that is
//! removed afterwards.

use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use datalink_core::calendar::Date;
use datalink_core::checkpoint::{DetailSave, ListPageSave, TaskCreate, TaskFinish, WindowDone};
use datalink_core::period::DateRange;
use datalink_core::plan::Window;
use datalink_core::portal::{Detail, ListRow};
use datalink_core::task::{
    Conditions, DateTime, DeclarationType, Direction, DirectionChoice, Role, StatusChoice, StatusSide, Stream, TaskNumber, TypeChoice,
};
use rusqlite::{params, Connection};
use serde_json::{json, Map, Value};

use super::export::Format;
use super::{schema, Result, Store, StoreError};

/// Rows per list page, as the engine pages the portal.
const PAGE: usize = 50;

/// A writer that only counts.
struct Count(u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn day(text: &str) -> Result<Date> {
    text.parse().map_err(|_| StoreError::Internal("bench date".into()))
}

fn at(text: &str) -> Result<DateTime> {
    DateTime::parse(text).ok_or_else(|| StoreError::Internal("bench time".into()))
}

/// The bench's synthetic data: `n` import declarations of January 2026 with `goods` lines each.
fn data(n: usize, goods: usize) -> Vec<(ListRow, Detail)> {
    (0..n)
        .map(|i| {
            let cus = format!("I2026{i:013}");
            let entry = format!("6{}", &cus[1..]);
            let update = format!("2026-01-{:02} {:02}:{:02}:{:02}", 1 + i % 28, i % 24, i % 60, (i / 60) % 60);
            let raw = object(json!({"cusCiqNo": cus, "entryId": entry, "cusIEFlag": "I", "cusDecStatus": "10", "cusDecStatusName": "结关",
                "iEDate": "20260127", "updateTime": update, "goodsNum": goods.to_string(), "billNo": format!("COSU{i:010}")}));
            let row = ListRow {
                cus_ciq_no: cus.clone(),
                entry_id: Some(entry.clone()),
                ie_flag: "I".into(),
                status: "10".into(),
                status_name: "结关".into(),
                ie_date: "20260127".into(),
                update_time: update.clone(),
                goods_num: u32::try_from(goods).ok(),
                raw,
            };
            let head = object(json!({"cusCiqNo": cus, "entryId": entry, "cusIEFlag": "I", "cusDecStatus": "10", "iEDate": "2026-01-27",
                "dDate": "2026-01-20", "updateTime": update, "billNo": format!("COSU{i:010}"), "supvModeCdde": "0110",
                "customMaster": "9001", "iEPort": "9001", "ownerName": "西安数据协同贸易有限公司", "grossWt": "1200.5", "netWt": "1100",
                "packNo": "12", "transMode": "1", "cutMode": "101", "trafName": "COSCO SHIPPING", "contrNo": format!("HT-{i}")}));
            let lines = (1..=goods)
                .map(|g| {
                    object(json!({"gNo": g.to_string(), "codeTs": "8471300000", "gName": "笔记本电脑", "gModel": "14英寸|i7|16G",
                        "gQty": "2", "gUnit": "台", "declPrice": "3394.66", "declTotal": "6789.32", "tradeCurr": "USD",
                        "cusOriginCountry": "CHN", "destinationCountry": "USA"}))
                })
                .collect();
            let detail = Detail {
                cus_ciq_no: cus,
                entry_id: Some(entry),
                ie_flag: "I".into(),
                status: "10".into(),
                ie_date: "2026-01-27".into(),
                declaration_date: "2026-01-20".into(),
                update_time: update,
                head,
                goods: lines,
                documents: vec![],
            };
            (row, detail)
        })
        .collect()
}

/// The baseline: the same rows with plain INSERTs, in one transaction, or (`each`) in one
/// transaction per declaration as the store's requests are.
fn baseline_insert(path: &Path, data: &[(ListRow, Detail)], each: bool) -> Result<Duration> {
    let mut conn = Connection::open(path)?;
    let _: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    schema::migrate(&mut conn)?;
    let started = Instant::now();
    let batches: Vec<&[(ListRow, Detail)]> = if each { data.chunks(1).collect() } else { vec![data] };
    for batch in batches {
        let tx = conn.transaction()?;
        insert_plain(&tx, batch)?;
        tx.commit()?;
    }
    Ok(started.elapsed())
}

fn insert_plain(tx: &Connection, data: &[(ListRow, Detail)]) -> Result<()> {
    let mut declaration = tx.prepare_cached(
            "INSERT INTO declaration (cus_ciq_no, entry_id, ie_flag, status, ie_date, update_time, list_row, detail_update_time, head, documents)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
    let mut line = tx.prepare_cached("INSERT INTO goods_line (cus_ciq_no, seq, g_no, code_ts, g_name, decl_total, trade_curr, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
    for (row, detail) in data {
        declaration.execute(params![
            row.cus_ciq_no,
            row.entry_id,
            row.ie_flag,
            row.status,
            row.ie_date,
            row.update_time,
            serde_json::to_string(row)?,
            detail.update_time,
            serde_json::to_string(&detail.head)?,
            serde_json::to_string(&detail.documents)?
        ])?;
        for (seq, goods) in (1i64..).zip(&detail.goods) {
            let text = |k: &str| goods.get(k).and_then(Value::as_str).map(str::to_owned);
            line.execute(params![
                row.cus_ciq_no,
                seq,
                text("gNo"),
                text("codeTs"),
                text("gName"),
                text("declTotal"),
                text("tradeCurr"),
                serde_json::to_string(goods)?
            ])?;
        }
    }
    Ok(())
}

/// The export baseline: read every row once, ordered, without formatting anything.
fn baseline_read(path: &Path) -> Result<(Duration, u64)> {
    let conn = Connection::open(path)?;
    let started = Instant::now();
    let mut bytes = 0u64;
    let mut stmt = conn.prepare(
        "SELECT d.cus_ciq_no, d.head, g.line FROM declaration d LEFT JOIN goods_line g ON g.cus_ciq_no = d.cus_ciq_no ORDER BY d.cus_ciq_no, g.seq",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let a: String = row.get(0)?;
        let b: Option<String> = row.get(1)?;
        let c: Option<String> = row.get(2)?;
        bytes += (a.len() + b.map_or(0, |s| s.len()) + c.map_or(0, |s| s.len())) as u64;
    }
    Ok((started.elapsed(), bytes))
}

fn rate(count: usize, took: Duration) -> String {
    let secs = took.as_secs_f64().max(1e-9);
    format!("{:.0}/s", count as f64 / secs)
}

fn ms(took: Duration) -> String {
    format!("{:.1} ms", took.as_secs_f64() * 1000.0)
}

fn ratio(took: Duration, base: Duration) -> String {
    format!("{:.2}×", took.as_secs_f64() / base.as_secs_f64().max(1e-9))
}

/// Runs the benchmark in `dir` and returns its report (a Markdown table).
pub fn run(dir: &Path, declarations: usize, goods: usize) -> Result<String> {
    let data = data(declarations, goods);
    let base = baseline_insert(&dir.join("baseline.db"), &data, false)?;
    let base_each = baseline_insert(&dir.join("baseline-each.db"), &data, true)?;
    let (base_read, _) = baseline_read(&dir.join("baseline.db"))?;

    let mut store = Store::open(&dir.join("store.db"))?;
    let conditions = Conditions {
        types: TypeChoice::General,
        role: Role::Consignee,
        directions: DirectionChoice::Import,
        status: StatusChoice::Closed,
        lookup: None,
        range: DateRange { first: day("2026-01-01")?, last: day("2026-01-31")? },
    };
    let window = Window {
        period: "2026-01".into(),
        stream: Stream { direction: Direction::Import, declaration_type: DeclarationType::General, status: StatusSide::Closed },
        span: conditions.range,
        lookup: false,
    };
    let create = |store: &mut Store, now: &str| -> Result<TaskNumber> {
        Ok(store
            .task_create(&TaskCreate { conditions: conditions.clone(), portal: "bench".into(), operator: "bench".into(), now: at(now)?, enterprise: None })?
            .number)
    };
    let list_all = |store: &mut Store, task: &TaskNumber| -> Result<(Duration, usize)> {
        let started = Instant::now();
        let mut reused = 0;
        for (page, rows) in data.chunks(PAGE).enumerate() {
            let request = ListPageSave {
                task: task.clone(),
                window: window.clone(),
                pass: 1,
                offset: (page * PAGE) as u64,
                total: data.len() as u64,
                rows: rows.iter().map(|(row, _)| row.clone()).collect(),
            };
            reused += store.list_page(&request)?.reconciled.len();
        }
        store.window_done(&WindowDone { task: task.clone(), window_key: window.key(), pass: 1, total: data.len() as u64 })?;
        Ok((started.elapsed(), reused))
    };

    let first = create(&mut store, "2026-05-25 10:00:00")?;
    let (list_took, _) = list_all(&mut store, &first)?;
    let requests: Vec<DetailSave> = data.iter().map(|(_, detail)| DetailSave { task: first.clone(), detail: detail.clone() }).collect();
    let started = Instant::now();
    for request in &requests {
        if !store.detail_save(request)?.reconciled {
            return Err(StoreError::Internal("a bench detail did not reconcile".into()));
        }
    }
    let detail_took = started.elapsed();
    let started = Instant::now();
    let report = store.task_finish(&TaskFinish { task: first.clone(), now: at("2026-05-25 10:30:00")? })?;
    let finish_took = started.elapsed();
    if report.total.reconciled != data.len() as u64 {
        return Err(StoreError::Internal("the bench task did not reconcile everything".into()));
    }
    let second = create(&mut store, "2026-05-25 11:00:00")?;
    let (relist_took, reused) = list_all(&mut store, &second)?;
    if reused != data.len() {
        return Err(StoreError::Internal("incremental sync did not reuse every detail".into()));
    }
    let timed_export = |format| -> Result<(Duration, u64)> {
        let mut out = Count(0);
        let started = Instant::now();
        store.export(format, None, &mut out).map_err(|e| StoreError::Internal(e.to_string()))?;
        Ok((started.elapsed(), out.0))
    };
    let (jsonl_took, jsonl_bytes) = timed_export(Format::Jsonl)?;
    let (csv_took, csv_bytes) = timed_export(Format::Csv)?;
    let store_size = std::fs::metadata(dir.join("store.db")).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(dir.join("store.db-wal")).map(|m| m.len()).unwrap_or(0);

    let n = data.len();
    let lines = n * goods;
    let mut out = String::new();
    out.push_str(&format!("{n} declarations × {goods} goods lines ({lines} lines), pages of {PAGE}\n\n"));
    out.push_str("| operation | what | time | rate | vs. baseline |\n|---|---|---|---|---|\n");
    out.push_str(&format!(
        "| baseline: plain INSERT, one transaction | {n} declarations + {lines} lines | {} | {} | 1.00× |\n",
        ms(base),
        rate(n, base)
    ));
    out.push_str(&format!(
        "| baseline: plain INSERT, one transaction per declaration | {n} transactions | {} | {} | {} |\n",
        ms(base_each),
        rate(n, base_each),
        ratio(base_each, base)
    ));
    out.push_str(&format!(
        "| `list_page` (new rows) | {} pages, one transaction each | {} | {} | {} |\n",
        n.div_ceil(PAGE),
        ms(list_took),
        rate(n, list_took),
        ratio(list_took, base)
    ));
    out.push_str(&format!(
        "| `detail_save` + 核销 | {n} requests, one transaction each | {} | {} | {} |\n",
        ms(detail_took),
        rate(n, detail_took),
        ratio(detail_took, base)
    ));
    out.push_str(&format!(
        "| sync total (`list_page` + `detail_save`) | {n} declarations | {} | {} | {} |\n",
        ms(list_took + detail_took),
        rate(n, list_took + detail_took),
        ratio(list_took + detail_took, base)
    ));
    out.push_str(&format!(
        "| `list_page`, incremental (all reused) | {} pages | {} | {} | {} |\n",
        n.div_ceil(PAGE),
        ms(relist_took),
        rate(n, relist_took),
        ratio(relist_took, base)
    ));
    out.push_str(&format!("| `task_finish` | 1 task, {n} declarations | {} | — | — |\n", ms(finish_took)));
    out.push_str(&format!("| baseline: SELECT … JOIN, ordered | {lines} rows | {} | {} | 1.00× |\n", ms(base_read), rate(n, base_read)));
    out.push_str(&format!(
        "| `export --format jsonl` | {n} declarations, {jsonl_bytes} bytes | {} | {} | {} |\n",
        ms(jsonl_took),
        rate(n, jsonl_took),
        ratio(jsonl_took, base_read)
    ));
    out.push_str(&format!(
        "| `export --format csv` | {lines} rows, {csv_bytes} bytes | {} | {} | {} |\n",
        ms(csv_took),
        rate(n, csv_took),
        ratio(csv_took, base_read)
    ));
    out.push_str(&format!("\nstore file after both tasks: {:.1} MiB (with WAL)\n", store_size as f64 / 1_048_576.0));
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_small_bench_runs_and_reports_every_operation() {
        let dir = tempfile::tempdir().unwrap();
        let report = super::run(dir.path(), 120, 2).unwrap();
        for operation in
            ["baseline: plain INSERT", "`list_page` (new rows)", "`detail_save`", "incremental", "`task_finish`", "jsonl", "csv"]
        {
            assert!(report.contains(operation), "{operation} missing from\n{report}");
        }
        assert!(report.starts_with("120 declarations × 2 goods lines (240 lines)"));
    }
}
