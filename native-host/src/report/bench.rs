//! `datalink-host report bench [--declarations N,N,…] [--goods N]`: how long the trade value
//! figures and the certificate PDF take, and how large the PDF is, as the year's declarations
//! grow — measured against a baseline in the same run.
//!
//! For each size, a store in a temporary folder gets a certifiable task over one calendar year
//! (2025) whose N declarations (both directions, six currencies, `goods` lines each) are listed
//! and reconciled through the store's own requests. Then:
//!
//! * **baseline**: one plain `SELECT` of every counted goods line's currency and amount — the
//!   floor of reading the data, without coverage, decimals, rates or words;
//! * **figures**: [`prepare`] (coverage, the reconciled declarations, exact sums, rates, the
//!   certificate's words, the verification code) — what `report_trade_value` costs;
//! * **certificate**: [`prepare`] + render + record — what `certificate_make` costs;
//! * **verify**: `verify-certificate` of that PDF (prepare again, render again, compare).

use std::time::{Duration, Instant};

use datalink_core::checkpoint::{DetailSave, ListPageSave, TaskCreate, TaskFinish, WindowDone};
use datalink_core::period::DateRange;
use datalink_core::plan::Window;
use datalink_core::portal::{Detail, ListRow};
use datalink_core::report::{ReportForm, ReportRange};
use datalink_core::task::{
    Conditions, DateTime, DeclarationType, Direction, DirectionChoice, Role, StatusChoice, StatusSide, Stream, TypeChoice,
};
use serde_json::{json, Map, Value};

use super::make::{issue, prepare};
use super::verify::verify;
use super::{ReportError, Result};
use crate::store::Store;

const CURRENCIES: [(&str, &str); 6] = [("502", "USD"), ("142", "CNY"), ("300", "EUR"), ("116", "JPY"), ("110", "HKD"), ("303", "GBP")];

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn internal(what: &str) -> ReportError {
    ReportError::Internal(format!("bench: {what}"))
}

/// The `i`-th declaration of the year: month `i % 12`, direction alternating.
fn declaration(i: usize, goods: usize) -> (u8, Direction, ListRow, Detail) {
    let month = (i % 12) as u8 + 1;
    let direction = if i.is_multiple_of(2) { Direction::Import } else { Direction::Export };
    let flag = direction.code();
    let cus = format!("{flag}2025{i:013}");
    let update = format!("2025-{month:02}-{:02} {:02}:{:02}:{:02}", 1 + i % 28, i % 24, i % 60, (i / 60) % 60);
    let (name_key, scc_key) = if direction == Direction::Import { ("consigneeCname", "rcvgdTradeScc") } else { ("consignorCname", "cnsnTradeScc") };
    let raw = object(json!({"cusCiqNo": cus, "entryId": format!("6{}", &cus[1..]), "cusIEFlag": flag, "cusDecStatus": "10",
        "cusDecStatusName": "结关", "iEDate": format!("2025{month:02}15"), "updateTime": update, "goodsNum": goods.to_string(),
        name_key: "西安数据协同贸易有限公司", scc_key: "91610000MA6TEST01X"}));
    let row = ListRow {
        cus_ciq_no: cus.clone(),
        entry_id: Some(format!("6{}", &cus[1..])),
        ie_flag: flag.into(),
        status: "10".into(),
        status_name: "结关".into(),
        ie_date: format!("2025{month:02}15"),
        update_time: update.clone(),
        goods_num: u32::try_from(goods).ok(),
        raw,
    };
    let lines = (0..goods)
        .map(|g| {
            let (code, _) = CURRENCIES[(i + g) % CURRENCIES.len()];
            let total = format!("{}.{:02}", 100 + (i * 7919 + g * 104_729) % 900_000, (i + g) % 100);
            object(json!({"gNo": (g + 1).to_string(), "codeTs": "8471300000", "gName": "笔记本电脑", "declTotal": total, "tradeCurr": code}))
        })
        .collect();
    let detail = Detail {
        cus_ciq_no: cus,
        entry_id: row.entry_id.clone(),
        ie_flag: flag.into(),
        status: "10".into(),
        ie_date: format!("2025-{month:02}-15"),
        declaration_date: format!("2025-{month:02}-10"),
        update_time: update,
        head: object(json!({"ownerName": "西安数据协同贸易有限公司"})),
        goods: lines,
        documents: vec![],
    };
    (month, direction, row, detail)
}

/// A store with 2025 synced: `n` declarations, `goods` lines each.
fn synced_year(store: &mut Store, n: usize, goods: usize) -> Result<()> {
    let at = |t: &str| DateTime::parse(t).ok_or_else(|| internal("time"));
    let day = |t: &str| t.parse().map_err(|_| internal("date"));
    let conditions = Conditions {
        types: TypeChoice::Both,
        role: Role::Consignee,
        directions: DirectionChoice::Both,
        status: StatusChoice::Closed,
        lookup: None,
        range: DateRange { first: day("2025-01-01")?, last: day("2025-12-31")? },
    };
    let task = store
        .task_create(&TaskCreate { conditions, portal: "bench".into(), operator: "bench".into(), now: at("2026-01-05 10:00:00")?, enterprise: None })?
        .number;
    let all: Vec<_> = (0..n).map(|i| declaration(i, goods)).collect();
    for month in 1..=12u8 {
        let first = day(&format!("2025-{month:02}-01"))?;
        let span = DateRange { first, last: first.last_of_month() };
        for direction in Direction::BOTH {
            for declaration_type in [DeclarationType::General, DeclarationType::Filing] {
                let stream = Stream { direction, declaration_type, status: StatusSide::Closed };
                let window = Window { period: format!("2025-{month:02}"), stream, span, lookup: false };
                let rows: Vec<ListRow> = all
                    .iter()
                    .filter(|(m, d, ..)| *m == month && *d == direction && declaration_type == DeclarationType::General)
                    .map(|(.., row, _)| row.clone())
                    .collect();
                let total = rows.len() as u64;
                for (page, chunk) in rows.chunks(100).enumerate() {
                    store.list_page(&ListPageSave {
                        task: task.clone(),
                        window: window.clone(),
                        pass: 1,
                        offset: (page * 100) as u64,
                        total,
                        rows: chunk.to_vec(),
                    })?;
                }
                store.window_done(&WindowDone { task: task.clone(), window_key: window.key(), pass: 1, total })?;
            }
        }
    }
    for (.., detail) in all {
        if !store.detail_save(&DetailSave { task: task.clone(), detail })?.reconciled {
            return Err(internal("a declaration did not reconcile"));
        }
    }
    let report = store.task_finish(&TaskFinish { task, now: at("2026-01-05 11:00:00")? })?;
    if report.total.reconciled != n as u64 {
        return Err(internal("the year did not reconcile"));
    }
    Ok(())
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<(Duration, T)> {
    let mut best: Option<(Duration, T)> = None;
    for _ in 0..runs {
        let started = Instant::now();
        let out = f()?;
        let took = started.elapsed();
        if best.as_ref().is_none_or(|(b, _)| took < *b) {
            best = Some((took, out));
        }
    }
    best.ok_or_else(|| internal("no run"))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Runs the benchmark for each size; answers a Markdown table.
pub fn run(sizes: &[usize], goods: usize) -> Result<String> {
    let mut out = String::from(
        "| declarations | goods lines | baseline SELECT | figures (`report_trade_value`) | certificate (`certificate_make`) | × baseline | verify | PDF size | pages |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let today = "2026-01-06".parse().map_err(|_| internal("date"))?;
    let form = ReportForm {
        range: ReportRange { from: "2025-01".into(), to: "2025-12".into(), enterprise: None },
        project: "外贸发展专项资金".into(),
        department: "西安市商务局".into(),
    };
    for &n in sizes {
        let dir = std::env::temp_dir().join(format!("datalink-report-bench-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut store = Store::open(&dir.join("bench.db"))?;
        synced_year(&mut store, n, goods)?;
        let (base, lines) = best_of(5, || {
            store.read(|conn| {
                let mut stmt = conn.prepare(
                    "SELECT g.trade_curr, g.decl_total FROM task_declaration td JOIN goods_line g ON g.cus_ciq_no = td.cus_ciq_no WHERE td.reconciled = 1",
                )?;
                let mut rows = stmt.query([])?;
                let mut count = 0usize;
                while let Some(row) = rows.next()? {
                    let a: Option<String> = row.get(0)?;
                    let b: Option<String> = row.get(1)?;
                    count += usize::from(a.is_some() && b.is_some());
                }
                Ok(count)
            })
            .map_err(ReportError::from)
        })?;
        let (figures, _) = best_of(5, || prepare(&store, &form, today, None))?;
        let (certificate, (_, pdf)) = best_of(3, || {
            let prepared = prepare(&store, &form, today, None)?;
            issue(&mut store, prepared, None)
        })?;
        let (verified, verdict) = best_of(3, || verify(&store, &pdf))?;
        if !verdict.matches() {
            return Err(internal("the benchmark's certificate does not verify"));
        }
        let pages = crate::certificate::page_contents(&pdf).map_err(|e| internal(&e.to_string()))?.len();
        out.push_str(&format!(
            "| {n} | {lines} | {} | {} | {} | {:.1}× | {} | {:.1} KiB | {} |\n",
            ms(base),
            ms(figures),
            ms(certificate),
            certificate.as_secs_f64() / base.as_secs_f64().max(1e-9),
            ms(verified),
            pdf.len() as f64 / 1024.0,
            pages,
        ));
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(out)
}
