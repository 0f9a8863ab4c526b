//! 查询数 / 命中数 / 核销数, per period, and the verdict 执行完毕 or 执行异常.
//!
//! For each period (calendar month) of the task's range:
//!
//! * **查询数** (queried): the sum of the portal's totals over the period's `done` windows;
//! * **命中数** (hit): the declarations the task listed in the period (`task_declaration` rows);
//! * **核销数** (reconciled): those of them whose detail was stored and cross-checked.
//!
//! A task is 执行完毕 only when every period's three numbers agree, no window is failed or
//! unfinished, and the windows cover every day of every period for every query family
//! (direction × type × status) the conditions ask for — so a task that skipped a month cannot
//! pass with `0 = 0 = 0`. Otherwise it is 执行异常, and the message names the gaps, as the user
//! would check them: `2026-01 查询数 5 命中数 5 核销数 4`.
//!
//! A lookup task (统一编号 / 报关单号 / 提运单号) has one period: its windows' (the first month of
//! the range), spanning the whole range.

use std::collections::BTreeMap;

use datalink_core::checkpoint::{Counts, MissingDeclaration, PeriodCounts, TaskFinish, TaskReport};
use datalink_core::documents::DocumentCounts;
use datalink_core::period::{periods, DateRange};
use datalink_core::plan::Window;
use datalink_core::task::{TaskNumber, TaskState};
use rusqlite::{params, Connection};

use super::sync::Stored;
use super::tasks::{load_task, state_name};
use super::{uint, Result, Store};

/// The task's totals; `None` until it has listed anything.
pub(crate) fn task_counts(conn: &Connection, task: &str) -> Result<Option<Counts>> {
    let listed = conn.prepare_cached("SELECT 1 FROM task_window WHERE task = ?1 AND (pass > 0 OR state = 'done')")?.exists([task])?;
    if !listed {
        return Ok(None);
    }
    let queried: i64 = conn
        .prepare_cached("SELECT COALESCE(sum(total), 0) FROM task_window WHERE task = ?1 AND state = 'done'")?
        .query_row([task], |r| r.get(0))?;
    let (hit, reconciled): (i64, i64) = conn
        .prepare_cached("SELECT count(*), COALESCE(sum(reconciled), 0) FROM task_declaration WHERE task = ?1")?
        .query_row([task], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Some(Counts { queried: uint(queried), hit: uint(hit), reconciled: uint(reconciled) }))
}

/// How many periods the verdict's message names before it says "等 N 个时间段".
const NAMED_PERIODS: usize = 6;

/// The report, and the periods whose days or query families no window covered.
pub(super) fn build(conn: &Connection, number: &TaskNumber) -> Result<(TaskReport, Vec<String>)> {
    let task = load_task(conn, number)?;
    let conditions = &task.conditions;
    let windows = conn
        .prepare_cached("SELECT window_key, window, state, total FROM task_window WHERE task = ?1 AND state != 'split' ORDER BY rowid")?
        .query_map([&number.0], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<i64>>(3)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut planned: Vec<(Window, Stored, u64)> = Vec::with_capacity(windows.len());
    let mut failed_windows = Vec::new();
    for (key, window, state, total) in windows {
        let state = Stored::parse(&state)?;
        if state != Stored::Done {
            failed_windows.push(key);
        }
        planned.push((serde_json::from_str(&window)?, state, total.map(uint).unwrap_or(0)));
    }

    // The periods shown: every month of the range (or the lookup's one), then any other period
    // the task has rows in, so the periods always add up to the totals.
    let mut shown: Vec<PeriodCounts> = if conditions.lookup.is_some() {
        let key = planned.first().map(|(w, ..)| w.period.clone()).unwrap_or_else(|| periods(conditions.range)[0].key());
        vec![PeriodCounts { period: key, first: conditions.range.first, last: conditions.range.last, counts: Counts::default(), documents: None }]
    } else {
        periods(conditions.range)
            .into_iter()
            .map(|p| PeriodCounts { period: p.key(), first: p.span.first, last: p.span.last, counts: Counts::default(), documents: None })
            .collect()
    };
    let mut queried: BTreeMap<String, u64> = BTreeMap::new();
    let mut spans: BTreeMap<String, DateRange> = BTreeMap::new();
    for (window, state, total) in &planned {
        if *state == Stored::Done {
            *queried.entry(window.period.clone()).or_default() += total;
        }
        let span = spans.entry(window.period.clone()).or_insert(window.span);
        *span = DateRange { first: span.first.min(window.span.first), last: span.last.max(window.span.last) };
    }
    let listed = conn
        .prepare_cached("SELECT period, count(*), sum(reconciled) FROM task_declaration WHERE task = ?1 GROUP BY period ORDER BY period")?
        .query_map([&number.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut extra: Vec<String> =
        queried.keys().chain(listed.iter().map(|(p, ..)| p)).filter(|p| !shown.iter().any(|s| &s.period == *p)).cloned().collect();
    extra.sort();
    extra.dedup();
    for period in extra {
        let span = spans.get(&period).copied().unwrap_or(conditions.range);
        shown.push(PeriodCounts { period, first: span.first, last: span.last, counts: Counts::default(), documents: None });
    }
    for p in &mut shown {
        p.counts.queried = queried.get(&p.period).copied().unwrap_or(0);
        if let Some((_, hit, reconciled)) = listed.iter().find(|(period, ..)| *period == p.period) {
            p.counts.hit = uint(*hit);
            p.counts.reconciled = uint(*reconciled);
        }
    }
    let total = shown.iter().fold(Counts::default(), |t, p| Counts {
        queried: t.queried + p.counts.queried,
        hit: t.hit + p.counts.hit,
        reconciled: t.reconciled + p.counts.reconciled,
    });

    let missing = conn
        .prepare_cached(
            "SELECT cus_ciq_no, period, reason FROM task_declaration WHERE task = ?1 AND reconciled = 0 ORDER BY period, cus_ciq_no",
        )?
        .query_map([&number.0], |r| {
            Ok(MissingDeclaration {
                cus_ciq_no: r.get(0)?,
                period: r.get(1)?,
                reason: r.get::<_, Option<String>>(2)?.unwrap_or_else(|| "详情尚未获取".to_owned()),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    // Coverage: every query family must have windows over every day of every period.
    let mut uncovered = Vec::new();
    for stream in conditions.streams() {
        if conditions.lookup.is_some() {
            if !planned.iter().any(|(w, ..)| w.lookup && w.stream == stream) {
                uncovered.push(shown[0].period.clone());
            }
            continue;
        }
        for period in periods(conditions.range) {
            let key = period.key();
            let mut days: Vec<DateRange> =
                planned.iter().filter(|(w, ..)| w.period == key && w.stream == stream).map(|(w, ..)| w.span).collect();
            days.sort_by_key(|s| s.first);
            let mut next = period.span.first;
            for span in days {
                if span.first > next {
                    break;
                }
                next = next.max(span.last.add_days(1));
            }
            if next <= period.span.last {
                uncovered.push(key);
            }
        }
    }
    uncovered.sort();
    uncovered.dedup();

    // The fourth count, for a task with documents (`documents_plan`).
    let mut documents = None;
    if super::documents::with_documents(conn, &number.0)? {
        let per_period = super::documents::period_counts(conn, &number.0)?;
        let mut sum = DocumentCounts::default();
        for p in &mut shown {
            let counts = per_period.get(&p.period).copied().unwrap_or_default();
            sum.entries += counts.entries;
            sum.stored += counts.stored;
            p.documents = Some(counts);
        }
        documents = Some(sum);
    }
    let report = TaskReport { task, periods: shown, total, missing, failed_windows, documents };
    Ok((report, uncovered))
}

/// `None` when the task is 执行完毕; else the message that names its gaps.
fn verdict(report: &TaskReport, uncovered: &[String]) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let disagree: Vec<&PeriodCounts> = report.periods.iter().filter(|p| !p.counts.agree()).collect();
    for p in disagree.iter().take(NAMED_PERIODS) {
        parts.push(format!("{} 查询数 {} 命中数 {} 核销数 {}", p.period, p.counts.queried, p.counts.hit, p.counts.reconciled));
    }
    if disagree.len() > NAMED_PERIODS {
        parts.push(format!("等 {} 个时间段计数不一致", disagree.len()));
    }
    if !uncovered.is_empty() {
        let named: Vec<&str> = uncovered.iter().take(NAMED_PERIODS).map(String::as_str).collect();
        let more = if uncovered.len() > NAMED_PERIODS { format!("等 {} 个时间段", uncovered.len()) } else { String::new() };
        parts.push(format!("{}{more} 未查询完整", named.join("、")));
    }
    if !report.failed_windows.is_empty() {
        parts.push(format!("{} 个查询窗口未完成", report.failed_windows.len()));
    }
    let short: Vec<&PeriodCounts> = report.periods.iter().filter(|p| p.documents.is_some_and(|d| !d.agree())).collect();
    for p in short.iter().take(NAMED_PERIODS) {
        let d = p.documents.unwrap_or_default();
        parts.push(format!("{} 报关单打印件 {} 份，应有 {} 份", p.period, d.stored, d.entries));
    }
    if short.len() > NAMED_PERIODS {
        parts.push(format!("等 {} 个时间段报关单打印件不全", short.len()));
    }
    if !report.missing.is_empty() && disagree.is_empty() {
        parts.push(format!("{} 票报关单未核销", report.missing.len()));
    }
    (!parts.is_empty()).then(|| parts.join("；"))
}

impl Store {
    /// `task_report`: the per-period counts; the task's state is not touched.
    pub fn task_report(&self, number: &TaskNumber) -> Result<TaskReport> {
        self.read(|conn| build(conn, number).map(|(report, _)| report))
    }

    /// `task_finish`: decides 执行完毕 or 执行异常 (with the gaps as its message), stamps the
    /// end, and answers the report.
    pub fn task_finish(&mut self, request: &TaskFinish) -> Result<TaskReport> {
        self.write(|tx| {
            let (mut report, uncovered) = build(tx, &request.task)?;
            let (state, message) = match verdict(&report, &uncovered) {
                None => (TaskState::Completed, None),
                Some(message) => (TaskState::Failed, Some(message)),
            };
            tx.prepare_cached("UPDATE task SET state = ?2, ended_at = ?3, message = ?4 WHERE number = ?1")?.execute(params![
                request.task.0,
                state_name(state),
                request.now.to_string(),
                message
            ])?;
            report.task = load_task(tx, &request.task)?;
            Ok(report)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::*;
    use datalink_core::checkpoint::WindowFailed;

    fn finish(store: &mut Store, task: &TaskNumber) -> TaskReport {
        store.task_finish(&TaskFinish { task: task.clone(), now: time("2026-05-25 15:00:00") }).unwrap()
    }

    /// One stream (import, general, closed) over January 2026 in one 31-day window.
    fn january(store: &mut Store) -> (TaskNumber, Window) {
        let task = store.task_create(&create_one_stream("2026-01-01", "2026-01-31")).unwrap().number;
        (task, window("2026-01-01", "2026-01-31"))
    }

    #[test]
    fn agreeing_counts_complete_the_task() {
        let (_dir, mut store) = open();
        let (task, w) = january(&mut store);
        let rows: Vec<_> = (1..=5).map(|i| row(&cus(i), "2026-01-28 10:00:00")).collect();
        store.list_page(&page(&task, &w, 1, 0, 5, rows.clone())).unwrap();
        store.window_done(&done(&task, &w, 1, 5)).unwrap();
        for r in &rows {
            assert!(store.detail_save(&save(&task, detail_for(r))).unwrap().reconciled);
        }
        let report = finish(&mut store, &task);
        assert_eq!(report.task.state, TaskState::Completed, "{:?}", report.task.message);
        assert_eq!(report.total, Counts { queried: 5, hit: 5, reconciled: 5 });
        assert_eq!(report.periods.len(), 1);
        assert_eq!(
            (report.periods[0].period.as_str(), report.periods[0].first, report.periods[0].last),
            ("2026-01", date("2026-01-01"), date("2026-01-31"))
        );
        assert_eq!(report.task.counts, Some(report.total));
        assert_eq!(report.task.ended_at, Some(time("2026-05-25 15:00:00")));
        assert!(report.missing.is_empty() && report.failed_windows.is_empty());
    }

    #[test]
    fn a_mismatch_fails_the_task_and_names_the_period() {
        let (_dir, mut store) = open();
        let (task, w) = january(&mut store);
        let rows: Vec<_> = (1..=5).map(|i| row(&cus(i), "2026-01-28 10:00:00")).collect();
        store.list_page(&page(&task, &w, 1, 0, 5, rows.clone())).unwrap();
        store.window_done(&done(&task, &w, 1, 5)).unwrap();
        for r in &rows[..4] {
            store.detail_save(&save(&task, detail_for(r))).unwrap();
        }
        let mut changed = detail_for(&rows[4]);
        changed.status = "9".into();
        let saved = store.detail_save(&save(&task, changed)).unwrap();
        assert!(!saved.reconciled);
        assert_eq!(saved.mismatch.as_ref().map(|m| m.field.as_str()), Some("cusDecStatus"));
        assert_eq!(saved.window_key.as_deref(), Some(w.key().as_str()));
        let before = store.task_report(&task).unwrap();
        assert_eq!(before.task.state, TaskState::Pending, "task_report changes nothing");
        let report = finish(&mut store, &task);
        assert_eq!(report.task.state, TaskState::Failed);
        assert_eq!(report.task.message.as_deref(), Some("2026-01 查询数 5 命中数 5 核销数 4"));
        assert_eq!(report.missing.len(), 1);
        assert_eq!(report.missing[0].cus_ciq_no, cus(5));
        assert!(report.missing[0].reason.contains("cusDecStatus"), "{}", report.missing[0].reason);
        assert_eq!(before.periods, report.periods);
    }

    #[test]
    fn every_month_of_the_range_is_reported_and_an_unlisted_month_is_a_gap() {
        let (_dir, mut store) = open();
        let task = store.task_create(&create_one_stream("2025-12-15", "2026-02-10")).unwrap().number;
        let dec = window("2025-12-15", "2025-12-31");
        let jan = window("2026-01-01", "2026-01-31");
        store.list_page(&page(&task, &dec, 1, 0, 1, vec![row(&cus(1), "2025-12-20 09:00:00")])).unwrap();
        store.window_done(&done(&task, &dec, 1, 1)).unwrap();
        store.window_done(&done(&task, &jan, 1, 0)).unwrap();
        store.detail_save(&save(&task, detail_for(&row(&cus(1), "2025-12-20 09:00:00")))).unwrap();
        let report = finish(&mut store, &task);
        let periods: Vec<_> =
            report.periods.iter().map(|p| (p.period.as_str(), p.counts.queried, p.counts.hit, p.counts.reconciled)).collect();
        assert_eq!(periods, [("2025-12", 1, 1, 1), ("2026-01", 0, 0, 0), ("2026-02", 0, 0, 0)]);
        assert_eq!(report.periods[0].first, date("2025-12-15"));
        assert_eq!(report.periods[2].last, date("2026-02-10"));
        assert_eq!(report.task.state, TaskState::Failed, "February was never queried");
        assert_eq!(report.task.message.as_deref(), Some("2026-02 未查询完整"));
        // Listing February (empty) completes it.
        let feb = window("2026-02-01", "2026-02-10");
        store.window_done(&done(&task, &feb, 1, 0)).unwrap();
        assert_eq!(finish(&mut store, &task).task.state, TaskState::Completed);
    }

    #[test]
    fn failed_and_unfinished_windows_are_gaps() {
        let (_dir, mut store) = open();
        let (task, _) = january(&mut store);
        let first = window("2026-01-01", "2026-01-15");
        let second = window("2026-01-16", "2026-01-31");
        store.window_done(&done(&task, &first, 1, 0)).unwrap();
        store.window_failed(&WindowFailed { task: task.clone(), window_key: second.key(), reason: "单一窗口响应超时".into() }).unwrap();
        let report = finish(&mut store, &task);
        assert_eq!(report.failed_windows, [second.key()]);
        assert_eq!(report.task.state, TaskState::Failed);
        assert_eq!(report.task.message.as_deref(), Some("1 个查询窗口未完成"));
        store.list_page(&page(&task, &second, 1, 0, 0, vec![])).unwrap();
        let report = finish(&mut store, &task);
        assert_eq!((report.task.state, report.failed_windows.len()), (TaskState::Failed, 1), "still listing is not done");
    }

    #[test]
    fn a_lookup_reports_one_period_over_the_whole_range() {
        let (_dir, mut store) = open();
        let mut request = create_one_stream("2023-05-25", "2026-05-25");
        request.conditions.lookup = Some(datalink_core::task::Lookup::CusCiqNo(cus(7)));
        let task = store.task_create(&request).unwrap().number;
        let w = Window { lookup: true, span: range("2023-05-25", "2026-05-25"), ..window("2023-05-25", "2023-05-31") };
        assert_eq!(w.period, "2023-05");
        let r = row(&cus(7), "2026-03-01 08:00:00");
        store.list_page(&page(&task, &w, 1, 0, 1, vec![r.clone()])).unwrap();
        store.window_done(&done(&task, &w, 1, 1)).unwrap();
        store.detail_save(&save(&task, detail_for(&r))).unwrap();
        let report = finish(&mut store, &task);
        assert_eq!(report.periods.len(), 1);
        assert_eq!((report.periods[0].first, report.periods[0].last), (date("2023-05-25"), date("2026-05-25")));
        assert_eq!(report.total, Counts { queried: 1, hit: 1, reconciled: 1 });
        assert_eq!(report.task.state, TaskState::Completed, "{:?}", report.task.message);
    }

    #[test]
    fn an_unknown_task_is_task_not_found() {
        let (_dir, mut store) = open();
        let nobody = TaskNumber("20990101000000001".into());
        assert_eq!(store.task_report(&nobody).unwrap_err().to_info().code, 2006);
        assert_eq!(store.task_finish(&TaskFinish { task: nobody, now: time("2026-05-25 15:00:00") }).unwrap_err().to_info().code, 2006);
    }
}
