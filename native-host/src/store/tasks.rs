//! Tasks (协同记录): creating them, their state, listing them, and their 执行日志.
//!
//! A task's number is `yyyyMMddHHmmss` of its creation plus a 3-digit sequence within that
//! second (`20260525143352001`), allocated inside the creating transaction so two tasks never
//! share one. Times are the engine's local `DateTime`s, stored as `YYYY-MM-DD HH:MM:SS` text.

use datalink_core::checkpoint::{Enterprise, LogCategory, LogLine, TaskCreate, TaskList, TaskListQuery, TaskLogAppend, TaskRecord, TaskStateChange};
use datalink_core::task::{DateTime, TaskNumber, TaskState};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::{enterprises, report, Result, Store, StoreError};

/// `task_log`'s reply: how many lines were written (0 for a batch that repeats the log's tail,
/// i.e. a retried request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogAppended {
    pub appended: usize,
}

/// `task_log_get`'s reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLines {
    pub lines: Vec<LogLine>,
}

/// The most tasks one second can hold: the number keeps three digits for the sequence.
const MAX_PER_SECOND: u16 = 999;

pub(crate) fn state_name(state: TaskState) -> &'static str {
    match state {
        TaskState::Pending => "pending",
        TaskState::Running => "running",
        TaskState::Completed => "completed",
        TaskState::Failed => "failed",
        TaskState::Cancelled => "cancelled",
    }
}

fn parse_state(text: &str) -> Result<TaskState> {
    Ok(match text {
        "pending" => TaskState::Pending,
        "running" => TaskState::Running,
        "completed" => TaskState::Completed,
        "failed" => TaskState::Failed,
        "cancelled" => TaskState::Cancelled,
        other => return Err(StoreError::Internal(format!("unknown task state {other:?}"))),
    })
}

fn category_name(category: LogCategory) -> &'static str {
    match category {
        LogCategory::Connect => "connect",
        LogCategory::Execute => "execute",
        LogCategory::Result => "result",
        LogCategory::Error => "error",
    }
}

fn parse_category(text: &str) -> Result<LogCategory> {
    Ok(match text {
        "connect" => LogCategory::Connect,
        "execute" => LogCategory::Execute,
        "result" => LogCategory::Result,
        "error" => LogCategory::Error,
        other => return Err(StoreError::Internal(format!("unknown log category {other:?}"))),
    })
}

pub(crate) fn parse_time(text: &str) -> Result<DateTime> {
    DateTime::parse(text).ok_or_else(|| StoreError::Internal("a stored time is not YYYY-MM-DD HH:MM:SS".into()))
}

const TASK_COLUMNS: &str =
    "number, conditions, portal, operator, state, created_at, started_at, ended_at, message, enterprise_scc, enterprise_name, enterprise_code";

/// A `task` row as stored, before its JSON and times are read.
struct TaskRow {
    number: String,
    conditions: String,
    portal: String,
    operator: String,
    state: String,
    created_at: String,
    started_at: Option<String>,
    ended_at: Option<String>,
    message: Option<String>,
    /// 统一社会信用代码, 企业名称, 海关编码 (NULL for tasks of older versions).
    enterprise: (Option<String>, Option<String>, Option<String>),
}

fn task_row(row: &Row<'_>) -> rusqlite::Result<TaskRow> {
    Ok(TaskRow {
        number: row.get(0)?,
        conditions: row.get(1)?,
        portal: row.get(2)?,
        operator: row.get(3)?,
        state: row.get(4)?,
        created_at: row.get(5)?,
        started_at: row.get(6)?,
        ended_at: row.get(7)?,
        message: row.get(8)?,
        enterprise: (row.get(9)?, row.get(10)?, row.get(11)?),
    })
}

fn into_record(conn: &Connection, row: TaskRow) -> Result<TaskRecord> {
    let counts = report::task_counts(conn, &row.number)?;
    let documents = super::documents::task_documents(conn, &row.number)?;
    Ok(TaskRecord {
        conditions: serde_json::from_str(&row.conditions)?,
        portal: row.portal,
        operator: row.operator,
        state: parse_state(&row.state)?,
        created_at: parse_time(&row.created_at)?,
        started_at: row.started_at.as_deref().map(parse_time).transpose()?,
        ended_at: row.ended_at.as_deref().map(parse_time).transpose()?,
        message: row.message,
        counts,
        documents,
        enterprise: row.enterprise.0.map(|scc| Enterprise {
            scc,
            name: row.enterprise.1.unwrap_or_default(),
            code: row.enterprise.2.unwrap_or_default(),
        }),
        number: TaskNumber(row.number),
    })
}

/// The task's record (with its counts), or [`StoreError::TaskNotFound`].
pub(crate) fn load_task(conn: &Connection, number: &TaskNumber) -> Result<TaskRecord> {
    let row = conn
        .prepare_cached(&format!("SELECT {TASK_COLUMNS} FROM task WHERE number = ?1"))?
        .query_row([&number.0], task_row)
        .optional()?
        .ok_or_else(|| StoreError::TaskNotFound(number.0.clone()))?;
    into_record(conn, row)
}

/// Fails with [`StoreError::TaskNotFound`] unless the task exists.
pub(crate) fn require_task(conn: &Connection, number: &TaskNumber) -> Result<()> {
    let found = conn.prepare_cached("SELECT 1 FROM task WHERE number = ?1")?.exists([&number.0])?;
    if found {
        Ok(())
    } else {
        Err(StoreError::TaskNotFound(number.0.clone()))
    }
}

impl Store {
    /// `task_create`: a new task in state 待执行, numbered after `now` and the tasks already
    /// created in that second.
    pub fn task_create(&mut self, request: &TaskCreate) -> Result<TaskRecord> {
        let range = request.conditions.range;
        if range.last < range.first {
            return Err(StoreError::Invalid("the range ends before it starts".into()));
        }
        let conditions = serde_json::to_string(&request.conditions)?;
        let enterprise = request.enterprise.as_ref().filter(|e| !e.scc.trim().is_empty());
        self.write(|tx| {
            let second = TaskNumber::new(request.now, 0).0[..14].to_owned();
            let taken: i64 =
                tx.prepare_cached("SELECT count(*) FROM task WHERE substr(number, 1, 14) = ?1")?.query_row([&second], |r| r.get(0))?;
            let mut sequence = u16::try_from(taken + 1).unwrap_or(u16::MAX);
            let number = loop {
                if sequence > MAX_PER_SECOND {
                    return Err(StoreError::Invalid(format!("more than {MAX_PER_SECOND} tasks in one second")));
                }
                let candidate = TaskNumber::new(request.now, sequence);
                if !tx.prepare_cached("SELECT 1 FROM task WHERE number = ?1")?.exists([&candidate.0])? {
                    break candidate;
                }
                sequence += 1;
            };
            tx.prepare_cached(
                "INSERT INTO task (number, conditions, portal, operator, state, created_at, enterprise_scc, enterprise_name, enterprise_code)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                number.0,
                conditions,
                request.portal,
                request.operator,
                request.now.to_string(),
                enterprise.map(|e| e.scc.as_str()),
                enterprise.map(|e| e.name.as_str()),
                enterprise.map(|e| e.code.as_str()),
            ])?;
            load_task(tx, &number)
        })
    }

    /// `task_get`.
    pub fn task_get(&self, number: &TaskNumber) -> Result<TaskRecord> {
        self.read(|conn| load_task(conn, number))
    }

    /// `task_state`: `started_at` is set by the first 执行中, `ended_at` by 执行完毕, 执行异常 and
    /// 已取消 (and cleared when a stopped task runs again); `message` replaces the last one.
    pub fn task_state(&mut self, request: &TaskStateChange) -> Result<TaskRecord> {
        self.write(|tx| {
            require_task(tx, &request.task)?;
            let now = request.now.to_string();
            let (started, ended) = match request.state {
                TaskState::Pending => (None, None),
                TaskState::Running => (Some(now.as_str()), None),
                TaskState::Completed | TaskState::Failed | TaskState::Cancelled => (None, Some(now.as_str())),
            };
            tx.prepare_cached(
                "UPDATE task SET state = ?2, started_at = COALESCE(started_at, ?3), ended_at = ?4, message = ?5 WHERE number = ?1",
            )?
            .execute(params![request.task.0, state_name(request.state), started, ended, request.message])?;
            load_task(tx, &request.task)
        })
    }

    /// `task_list` (协同记录): newest first, filtered by operator (substring), creation date and
    /// state, one page of `page_size` (1–200; the UI offers 10, 20, 50) rows, and the total
    /// matching. `page` and `page_size` of 0 (`TaskListQuery::default()`) mean 1 and 10.
    pub fn task_list(&self, query: &TaskListQuery) -> Result<TaskList> {
        let page = query.page.max(1);
        let page_size = if query.page_size == 0 { 10 } else { query.page_size };
        if page_size > 200 {
            return Err(StoreError::Invalid("pageSize is at most 200".into()));
        }
        let operator = query.operator.as_deref().filter(|o| !o.is_empty());
        let from = query.from.map(|d| format!("{d} 00:00:00"));
        let to = query.to.map(|d| format!("{d} 23:59:59"));
        let state = query.state.map(state_name);
        let enterprise = query.enterprise.as_deref().map(str::trim).filter(|e| !e.is_empty());
        let filter = format!(
            "(?1 IS NULL OR instr(operator, ?1) > 0) AND (?2 IS NULL OR created_at >= ?2) \
             AND (?3 IS NULL OR created_at <= ?3) AND (?4 IS NULL OR state = ?4) AND {}",
            enterprises::task_matches("task", "?7")
        );
        let size = i64::from(page_size);
        let offset = i64::from(page - 1) * size;
        self.read(|conn| {
            let total: i64 = conn
                .prepare_cached(&format!("SELECT count(*) FROM task WHERE {filter}"))?
                .query_row(params![operator, from, to, state, None::<i64>, None::<i64>, enterprise], |r| r.get(0))?;
            let rows = conn
                .prepare_cached(&format!("SELECT {TASK_COLUMNS} FROM task WHERE {filter} ORDER BY number DESC LIMIT ?5 OFFSET ?6"))?
                .query_map(params![operator, from, to, state, size, offset, enterprise], task_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let tasks = rows.into_iter().map(|row| into_record(conn, row)).collect::<Result<Vec<_>>>()?;
            Ok(TaskList { total: super::uint(total), tasks })
        })
    }

    /// `task_active`: the newest task in 执行中, if any.
    pub fn task_active(&self) -> Result<Option<TaskRecord>> {
        self.read(|conn| {
            let row = conn
                .prepare_cached(&format!("SELECT {TASK_COLUMNS} FROM task WHERE state = 'running' ORDER BY number DESC LIMIT 1"))?
                .query_row([], task_row)
                .optional()?;
            row.map(|row| into_record(conn, row)).transpose()
        })
    }

    /// `task_log`: appends the lines in order. A batch equal to the last lines of the log is a
    /// retried request and is not written again.
    pub fn task_log(&mut self, request: &TaskLogAppend) -> Result<LogAppended> {
        if request.lines.is_empty() {
            return self.read(|conn| require_task(conn, &request.task)).map(|()| LogAppended { appended: 0 });
        }
        self.write(|tx| {
            require_task(tx, &request.task)?;
            let count = i64::try_from(request.lines.len()).unwrap_or(i64::MAX);
            let mut tail = tx
                .prepare_cached("SELECT at, category, message FROM task_log WHERE task = ?1 ORDER BY seq DESC LIMIT ?2")?
                .query_map(params![request.task.0, count], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            tail.reverse();
            let repeat = tail.len() == request.lines.len()
                && tail.iter().zip(&request.lines).all(|((at, category, message), line)| {
                    *at == line.at.to_string() && category == category_name(line.category) && *message == line.message
                });
            if repeat {
                return Ok(LogAppended { appended: 0 });
            }
            let last: i64 = tx
                .prepare_cached("SELECT COALESCE(max(seq), 0) FROM task_log WHERE task = ?1")?
                .query_row([&request.task.0], |r| r.get(0))?;
            let mut insert = tx.prepare_cached("INSERT INTO task_log (task, seq, at, category, message) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for (seq, line) in (last + 1..).zip(&request.lines) {
                insert.execute(params![request.task.0, seq, line.at.to_string(), category_name(line.category), line.message])?;
            }
            Ok(LogAppended { appended: request.lines.len() })
        })
    }

    /// `task_log_get`: the whole log, in order.
    pub fn task_log_get(&self, number: &TaskNumber) -> Result<LogLines> {
        self.read(|conn| {
            require_task(conn, number)?;
            let rows = conn
                .prepare_cached("SELECT at, category, message FROM task_log WHERE task = ?1 ORDER BY seq")?
                .query_map([&number.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let lines = rows
                .into_iter()
                .map(|(at, category, message)| Ok(LogLine { at: parse_time(&at)?, category: parse_category(&category)?, message }))
                .collect::<Result<Vec<_>>>()?;
            Ok(LogLines { lines })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::*;
    use datalink_core::checkpoint::Counts;

    #[test]
    fn numbers_count_up_within_a_second() {
        let (_dir, mut store) = open();
        let a = store.task_create(&create("2026-05-25 14:33:52", "许斯维")).unwrap();
        let b = store.task_create(&create("2026-05-25 14:33:52", "许斯维")).unwrap();
        let c = store.task_create(&create("2026-05-25 14:33:53", "许斯维")).unwrap();
        assert_eq!(
            (a.number.0.as_str(), b.number.0.as_str(), c.number.0.as_str()),
            ("20260525143352001", "20260525143352002", "20260525143353001")
        );
        assert_eq!(a.state, TaskState::Pending);
        assert_eq!(a.created_at, time("2026-05-25 14:33:52"));
        assert_eq!((a.started_at, a.ended_at, a.counts), (None, None, None));
        assert_eq!(store.task_get(&a.number).unwrap(), a);
        assert_eq!(store.task_get(&TaskNumber("20990101000000001".into())).unwrap_err().to_info().code, 2006);
    }

    #[test]
    fn a_reversed_range_is_refused() {
        let (_dir, mut store) = open();
        let mut request = create("2026-05-25 14:33:52", "x");
        request.conditions.range = range("2026-02-01", "2026-01-01");
        assert!(matches!(store.task_create(&request), Err(StoreError::Invalid(_))));
    }

    #[test]
    fn state_changes_stamp_start_and_end() {
        let (_dir, mut store) = open();
        let task = store.task_create(&create("2026-05-25 14:33:52", "x")).unwrap().number;
        let change = |state, at: &str, message: Option<&str>| TaskStateChange {
            task: task.clone(),
            state,
            now: time(at),
            message: message.map(str::to_owned),
        };
        let running = store.task_state(&change(TaskState::Running, "2026-05-25 14:34:00", None)).unwrap();
        assert_eq!((running.state, running.started_at, running.ended_at), (TaskState::Running, Some(time("2026-05-25 14:34:00")), None));
        let failed = store.task_state(&change(TaskState::Failed, "2026-05-25 14:40:00", Some("网络连接失败"))).unwrap();
        assert_eq!(failed.ended_at, Some(time("2026-05-25 14:40:00")));
        assert_eq!(failed.message.as_deref(), Some("网络连接失败"));
        // Resumed (断点续查): the first start stays, the end and the old message go.
        let again = store.task_state(&change(TaskState::Running, "2026-05-25 15:00:00", None)).unwrap();
        assert_eq!((again.started_at, again.ended_at, again.message), (Some(time("2026-05-25 14:34:00")), None, None));
        assert_eq!(store.task_active().unwrap().map(|t| t.number), Some(task.clone()));
        store.task_state(&change(TaskState::Cancelled, "2026-05-25 15:01:00", Some("用户取消"))).unwrap();
        assert_eq!(store.task_active().unwrap(), None);
        let unknown =
            TaskStateChange { task: TaskNumber("20990101000000001".into()), ..change(TaskState::Running, "2026-05-25 15:00:00", None) };
        assert!(matches!(store.task_state(&unknown), Err(StoreError::TaskNotFound(_))));
    }

    #[test]
    fn the_active_task_is_the_newest_running_one() {
        let (_dir, mut store) = open();
        let mut numbers = Vec::new();
        for at in ["2026-05-25 10:00:00", "2026-05-25 11:00:00", "2026-05-25 12:00:00"] {
            let n = store.task_create(&create(at, "x")).unwrap().number;
            numbers.push(n);
        }
        for n in &numbers[..2] {
            store
                .task_state(&TaskStateChange {
                    task: n.clone(),
                    state: TaskState::Running,
                    now: time("2026-05-25 12:30:00"),
                    message: None,
                })
                .unwrap();
        }
        assert_eq!(store.task_active().unwrap().unwrap().number, numbers[1]);
    }

    #[test]
    fn listing_filters_pages_and_sorts_newest_first() {
        let (_dir, mut store) = open();
        for day in 1..=25u8 {
            let operator = if day % 5 == 0 { "许斯维" } else { "张三" };
            let task = store.task_create(&create(&format!("2026-05-{day:02} 09:00:00"), operator)).unwrap();
            if day % 2 == 0 {
                store
                    .task_state(&TaskStateChange {
                        task: task.number,
                        state: TaskState::Failed,
                        now: time("2026-05-26 00:00:00"),
                        message: None,
                    })
                    .unwrap();
            }
        }
        let all = store.task_list(&TaskListQuery { page_size: 10, page: 1, ..TaskListQuery::default() }).unwrap();
        assert_eq!(all.total, 25);
        assert_eq!(all.tasks.len(), 10);
        assert_eq!(all.tasks[0].number.0, "20260525090000001");
        let third = store.task_list(&TaskListQuery { page_size: 10, page: 3, ..TaskListQuery::default() }).unwrap();
        assert_eq!((third.total, third.tasks.len()), (25, 5));
        let beyond = store.task_list(&TaskListQuery { page_size: 10, page: 4, ..TaskListQuery::default() }).unwrap();
        assert_eq!((beyond.total, beyond.tasks.len()), (25, 0));
        let by_operator =
            store.task_list(&TaskListQuery { operator: Some("斯".into()), page_size: 50, page: 1, ..TaskListQuery::default() }).unwrap();
        assert_eq!(by_operator.total, 5);
        let dated = TaskListQuery {
            from: Some(date("2026-05-10")),
            to: Some(date("2026-05-12")),
            page_size: 20,
            page: 1,
            ..TaskListQuery::default()
        };
        let dated = store.task_list(&dated).unwrap();
        assert_eq!(dated.tasks.iter().map(|t| &t.number.0[..8]).collect::<Vec<_>>(), ["20260512", "20260511", "20260510"]);
        let failed =
            store.task_list(&TaskListQuery { state: Some(TaskState::Failed), page_size: 50, page: 1, ..TaskListQuery::default() }).unwrap();
        assert_eq!(failed.total, 12);
        assert!(failed.tasks.iter().all(|t| t.state == TaskState::Failed));
        assert!(matches!(store.task_list(&TaskListQuery { page_size: 201, ..TaskListQuery::default() }), Err(StoreError::Invalid(_))));
        let defaults = store.task_list(&TaskListQuery::default()).unwrap();
        assert_eq!((defaults.total, defaults.tasks.len()), (25, 10), "page 0 and pageSize 0 mean the first page of 10");
    }

    #[test]
    fn records_carry_counts_once_something_was_listed() {
        let (_dir, mut store) = open();
        let task = store.task_create(&create("2026-05-25 14:33:52", "x")).unwrap().number;
        let w = window("2026-01-01", "2026-01-07");
        store
            .list_page(&page(
                &task,
                &w,
                1,
                0,
                2,
                vec![row("I20260000000000001", "2026-01-02 10:00:00"), row("I20260000000000002", "2026-01-03 10:00:00")],
            ))
            .unwrap();
        assert_eq!(store.task_get(&task).unwrap().counts, Some(Counts { queried: 0, hit: 2, reconciled: 0 }));
        store.window_done(&done(&task, &w, 1, 2)).unwrap();
        let listed = store.task_list(&TaskListQuery::default()).unwrap();
        assert_eq!(listed.tasks[0].counts, Some(Counts { queried: 2, hit: 2, reconciled: 0 }));
    }

    #[test]
    fn the_log_keeps_order_and_ignores_a_retried_batch() {
        let (_dir, mut store) = open();
        let task = store.task_create(&create("2026-05-25 14:33:52", "x")).unwrap().number;
        let line = |at: &str, category, message: &str| LogLine { at: time(at), category, message: message.into() };
        let first = TaskLogAppend {
            task: task.clone(),
            lines: vec![
                line("2026-05-25 14:33:50", LogCategory::Execute, "协同服务任务已启动，已分配任务编号：20260525143352001"),
                line("2026-05-25 14:33:51", LogCategory::Result, ">>> 准备处理时间段： 2026-01-01 至 2026-01-31 [进口]"),
            ],
        };
        assert_eq!(store.task_log(&first).unwrap().appended, 2);
        assert_eq!(store.task_log(&first).unwrap().appended, 0, "the same batch again is a retry");
        let second =
            TaskLogAppend { task: task.clone(), lines: vec![line("2026-05-25 14:33:55", LogCategory::Error, "单一窗口响应超时")] };
        assert_eq!(store.task_log(&second).unwrap().appended, 1);
        let lines = store.task_log_get(&task).unwrap().lines;
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], first.lines[0]);
        assert_eq!(lines[2].category, LogCategory::Error);
        let nobody = TaskLogAppend { task: TaskNumber("20990101000000001".into()), lines: vec![] };
        assert!(matches!(store.task_log(&nobody), Err(StoreError::TaskNotFound(_))));
    }
}
