//! The sync's steps: list pages, windows, details — and the snapshot to resume from.
//!
//! # Windows and passes
//!
//! A window (`Window::key()`) is listed page by page in a **pass**. When the portal's total moved
//! while the engine paged, it lists the window again in the next pass. A declaration belongs to
//! the window and pass that last listed it (`task_declaration`); `window_done` of pass *n* drops
//! the window's members of passes below *n*: the pass saw the whole list, so they left it. A
//! window's state only moves forward:
//!
//! ```text
//!            list_page(pass n)           window_done(pass n)
//!  (none) ───────────────────▶ listing ─────────────────────▶ done
//!                               │   ▲  list_page(pass n+1)      │
//!                               │   └───────────────────────────┘
//!                               ├── window_failed ──▶ failed ── list_page ──▶ listing
//!                               └── window_split ───▶ split (its members go; new windows start at pass 0)
//! ```
//!
//! A page or `window_done` of an older pass than the window's, or for a split window, is stale
//! (a retry that arrived late) and changes nothing. That, and upserts keyed by (task, window,
//! pass, offset) and (task, 统一编号), make every request here idempotent.
//!
//! # 核销 and incremental sync
//!
//! `detail_save` cross-checks the detail against the list row this task stored
//! (`datalink_core::portal::cross_check`). `list_page` reconciles a row at once when the store
//! already holds a detail of the same `updateTime` that passes the cross-check — a declaration an
//! earlier task fetched and that has not changed since — and answers those 统一编号 so the engine
//! does not preview them again. A row keeps its 核销 across passes while its version is the same.
//!
//! # Versions
//!
//! `declaration` holds the newest version seen of each 统一编号. When a list row or a detail with
//! a newer `updateTime` replaces what was stored, the old version goes to `declaration_history`
//! (keyed by its own `updateTime`; the list and detail halves of one version merge into one row).

use datalink_core::checkpoint::{
    DetailFailed, DetailSave, DetailSaved, ListPageSave, ListPageSaved, TaskSnapshot, WindowDone, WindowFailed, WindowRecord, WindowSplit,
    WindowState,
};
use datalink_core::plan::Window;
use datalink_core::portal::{cross_check, Detail, ListRow, Mismatch};
use datalink_core::task::{DeclarationType, Direction, StatusSide, Stream, TaskNumber};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::tasks::{load_task, require_task};
use super::{int, uint, Ack, Result, Store, StoreError};

/// A window's state as stored: the three of the protocol, and `split`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    Listing,
    Done,
    Failed,
    Split,
}

impl Stored {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Stored::Listing => "listing",
            Stored::Done => "done",
            Stored::Failed => "failed",
            Stored::Split => "split",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Stored> {
        Ok(match text {
            "listing" => Stored::Listing,
            "done" => Stored::Done,
            "failed" => Stored::Failed,
            "split" => Stored::Split,
            other => return Err(StoreError::Internal(format!("unknown window state {other:?}"))),
        })
    }

    fn public(self) -> Option<WindowState> {
        match self {
            Stored::Listing => Some(WindowState::Listing),
            Stored::Done => Some(WindowState::Done),
            Stored::Failed => Some(WindowState::Failed),
            Stored::Split => None,
        }
    }
}

/// The text of a scalar JSON field (`null` and absent are none; numbers as written).
pub(crate) fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads a window back from its key (`2026-01|I0C|2026-01-01|2026-01-07[|lookup]`), for a
/// `window_done` / `window_failed` of a window that never had a page (an empty window).
pub(crate) fn window_from_key(key: &str) -> Option<Window> {
    let parts: Vec<&str> = key.split('|').collect();
    let (period, stream, first, last, lookup) = match parts[..] {
        [p, s, f, l] => (p, s, f, l, false),
        [p, s, f, l, "lookup"] => (p, s, f, l, true),
        _ => return None,
    };
    let code = stream.as_bytes();
    if code.len() != 3 {
        return None;
    }
    let stream = Stream {
        direction: Direction::from_code(&stream[..1])?,
        declaration_type: DeclarationType::from_code(&stream[1..2])?,
        status: match code[2] {
            b'C' => StatusSide::Closed,
            b'N' => StatusSide::NotClosed,
            _ => return None,
        },
    };
    let span = datalink_core::period::DateRange::new(first.parse().ok()?, last.parse().ok()?).ok()?;
    let window = Window { period: period.to_owned(), stream, span, lookup };
    (window.key() == key).then_some(window)
}

fn window_state(conn: &Connection, task: &TaskNumber, key: &str) -> Result<Option<(Stored, i64)>> {
    let found = conn
        .prepare_cached("SELECT state, pass FROM task_window WHERE task = ?1 AND window_key = ?2")?
        .query_row(params![task.0, key], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .optional()?;
    found.map(|(state, pass)| Ok((Stored::parse(&state)?, pass))).transpose()
}

fn insert_window(conn: &Connection, task: &TaskNumber, window: &Window, state: Stored, pass: i64, total: Option<i64>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO task_window (task, window_key, window, period, state, pass, total) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (task, window_key) DO NOTHING",
    )?
    .execute(params![task.0, window.key(), serde_json::to_string(window)?, window.period, state.name(), pass, total])?;
    Ok(())
}

/// The window named by `key`, created from the key when the task never saw it.
fn known_window(
    conn: &Connection,
    task: &TaskNumber,
    key: &str,
    state: Stored,
    pass: i64,
    total: Option<i64>,
) -> Result<Option<(Stored, i64)>> {
    if let Some(found) = window_state(conn, task, key)? {
        return Ok(Some(found));
    }
    let window =
        window_from_key(key).ok_or_else(|| StoreError::Invalid("a window key the task never listed and that cannot be read".into()))?;
    insert_window(conn, task, &window, state, pass, total)?;
    Ok(None)
}

/// Whether two list rows describe the same version as far as 核销 is concerned.
fn same_version(a: &ListRow, b: &ListRow) -> bool {
    a.update_time == b.update_time
        && a.entry_id == b.entry_id
        && a.ie_flag == b.ie_flag
        && a.status == b.status
        && a.ie_date == b.ie_date
        && a.goods_num == b.goods_num
}

/// The stored goods lines of a declaration, in order.
fn stored_goods(conn: &Connection, cus_ciq_no: &str) -> Result<Vec<Map<String, Value>>> {
    let lines = conn
        .prepare_cached("SELECT line FROM goods_line WHERE cus_ciq_no = ?1 ORDER BY seq")?
        .query_map([cus_ciq_no], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    lines.iter().map(|line| Ok(serde_json::from_str(line)?)).collect()
}

/// The stored detail of `cus_ciq_no` if it is of version `update_time`.
fn stored_detail_of_version(conn: &Connection, cus_ciq_no: &str, update_time: &str) -> Result<Option<Detail>> {
    let found = conn
        .prepare_cached(
            "SELECT detail_entry_id, detail_ie_flag, detail_status, detail_ie_date, declaration_date, head, documents \
             FROM declaration WHERE cus_ciq_no = ?1 AND detail_update_time = ?2 AND head IS NOT NULL",
        )?
        .query_row(params![cus_ciq_no, update_time], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })
        .optional()?;
    let Some((entry_id, ie_flag, status, ie_date, declaration_date, head, documents)) = found else {
        return Ok(None);
    };
    Ok(Some(Detail {
        cus_ciq_no: cus_ciq_no.to_owned(),
        entry_id,
        ie_flag: ie_flag.unwrap_or_default(),
        status: status.unwrap_or_default(),
        ie_date: ie_date.unwrap_or_default(),
        declaration_date: declaration_date.unwrap_or_default(),
        update_time: update_time.to_owned(),
        head: serde_json::from_str(&head)?,
        goods: stored_goods(conn, cus_ciq_no)?,
        documents: documents.as_deref().map(serde_json::from_str).transpose()?.unwrap_or_default(),
    }))
}

/// Moves the stored list version of a declaration to the history (it is being replaced by
/// `changed_at`), with the detail too when the detail is of that same version.
fn history_of_list(conn: &Connection, cus_ciq_no: &str, changed_at: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO declaration_history (cus_ciq_no, update_time, changed_at, status, list_row, head, documents, goods)
         SELECT cus_ciq_no, update_time, ?2, status, list_row,
                CASE WHEN detail_update_time = update_time THEN head END,
                CASE WHEN detail_update_time = update_time THEN documents END,
                CASE WHEN detail_update_time = update_time
                     THEN (SELECT json_group_array(json(line) ORDER BY seq) FROM goods_line WHERE cus_ciq_no = ?1) END
         FROM declaration WHERE cus_ciq_no = ?1
         ON CONFLICT (cus_ciq_no, update_time) DO UPDATE SET
             list_row = COALESCE(declaration_history.list_row, excluded.list_row),
             head = COALESCE(declaration_history.head, excluded.head),
             documents = COALESCE(declaration_history.documents, excluded.documents),
             goods = COALESCE(declaration_history.goods, excluded.goods)",
    )?
    .execute(params![cus_ciq_no, changed_at])?;
    Ok(())
}

/// Moves the stored detail of a declaration to the history (replaced by version `changed_at`).
fn history_of_detail(conn: &Connection, cus_ciq_no: &str, changed_at: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO declaration_history (cus_ciq_no, update_time, changed_at, status, list_row, head, documents, goods)
         SELECT cus_ciq_no, detail_update_time, ?2, detail_status,
                CASE WHEN update_time = detail_update_time THEN list_row END,
                head, documents,
                (SELECT json_group_array(json(line) ORDER BY seq) FROM goods_line WHERE cus_ciq_no = ?1)
         FROM declaration WHERE cus_ciq_no = ?1 AND head IS NOT NULL AND detail_update_time IS NOT NULL
         ON CONFLICT (cus_ciq_no, update_time) DO UPDATE SET
             list_row = COALESCE(declaration_history.list_row, excluded.list_row),
             head = COALESCE(declaration_history.head, excluded.head),
             documents = COALESCE(declaration_history.documents, excluded.documents),
             goods = COALESCE(declaration_history.goods, excluded.goods)",
    )?
    .execute(params![cus_ciq_no, changed_at])?;
    Ok(())
}

/// Stores a list row's fields in `declaration` (the newest version wins; a replaced one goes to
/// the history). The detail columns are left as they are.
fn upsert_declaration_from_list(conn: &Connection, row: &ListRow, row_json: &str) -> Result<()> {
    let stored: Option<String> = conn
        .prepare_cached("SELECT update_time FROM declaration WHERE cus_ciq_no = ?1")?
        .query_row([&row.cus_ciq_no], |r| r.get(0))
        .optional()?;
    let bill_no = text(&row.raw, "billNo").filter(|b| !b.is_empty());
    match stored {
        None => {
            conn.prepare_cached(
                "INSERT INTO declaration (cus_ciq_no, entry_id, bill_no, ie_flag, status, ie_date, update_time, list_row)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                row.cus_ciq_no,
                row.entry_id,
                bill_no,
                row.ie_flag,
                row.status,
                row.ie_date,
                row.update_time,
                row_json
            ])?;
        }
        // An older version than the one stored (a late page): the store keeps the newest.
        Some(old) if row.update_time < old => {}
        Some(old) => {
            if row.update_time > old {
                history_of_list(conn, &row.cus_ciq_no, &row.update_time)?;
            }
            conn.prepare_cached(
                "UPDATE declaration SET entry_id = COALESCE(?2, entry_id), bill_no = COALESCE(?3, bill_no), ie_flag = ?4, status = ?5,
                 ie_date = ?6, update_time = ?7, list_row = ?8 WHERE cus_ciq_no = ?1",
            )?
            .execute(params![
                row.cus_ciq_no,
                row.entry_id,
                bill_no,
                row.ie_flag,
                row.status,
                row.ie_date,
                row.update_time,
                row_json
            ])?;
        }
    }
    Ok(())
}

/// Records that the task listed `row` in `window`, pass `pass`, and decides its 核销 state.
fn upsert_listed(conn: &Connection, task: &TaskNumber, window: &Window, key: &str, pass: i64, row: &ListRow) -> Result<()> {
    let row_json = serde_json::to_string(row)?;
    upsert_declaration_from_list(conn, row, &row_json)?;
    let existing = conn
        .prepare_cached("SELECT window_key, pass, list_row, reconciled, reason FROM task_declaration WHERE task = ?1 AND cus_ciq_no = ?2")?
        .query_row(params![task.0, row.cus_ciq_no], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?, r.get::<_, Option<String>>(4)?))
        })
        .optional()?;
    let reusable = match stored_detail_of_version(conn, &row.cus_ciq_no, &row.update_time)? {
        Some(detail) => cross_check(row, &detail).is_ok(),
        None => false,
    };
    let (reconciled, reason) = match existing {
        // This task already saw the row in a later pass of this window: the stale page keeps out.
        Some((old_key, old_pass, ..)) if old_key == key && old_pass > pass => return Ok(()),
        Some((_, _, old_row, was_reconciled, reason)) => {
            let old_row: ListRow = serde_json::from_str(&old_row)?;
            match (reusable, same_version(&old_row, row)) {
                (true, _) => (true, None),
                (false, true) => (was_reconciled, reason),
                (false, false) => (false, None),
            }
        }
        None => (reusable, None),
    };
    conn.prepare_cached(
        "INSERT INTO task_declaration (task, cus_ciq_no, window_key, pass, period, list_row, reconciled, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (task, cus_ciq_no) DO UPDATE SET window_key = excluded.window_key, pass = excluded.pass,
             period = excluded.period, list_row = excluded.list_row, reconciled = excluded.reconciled, reason = excluded.reason",
    )?
    .execute(params![task.0, row.cus_ciq_no, key, pass, window.period, row_json, reconciled, reason])?;
    Ok(())
}

/// The 统一编号 among `rows` that the task has reconciled.
fn reconciled_among(conn: &Connection, task: &TaskNumber, rows: &[ListRow]) -> Result<Vec<String>> {
    let mut query = conn.prepare_cached("SELECT reconciled FROM task_declaration WHERE task = ?1 AND cus_ciq_no = ?2")?;
    let mut out: Vec<String> = Vec::new();
    for row in rows {
        let reconciled: Option<bool> = query.query_row(params![task.0, row.cus_ciq_no], |r| r.get(0)).optional()?;
        if reconciled == Some(true) && !out.contains(&row.cus_ciq_no) {
            out.push(row.cus_ciq_no.clone());
        }
    }
    Ok(out)
}

/// The reason a mismatch is stored with (Chinese: the report shows it).
fn mismatch_reason(m: &Mismatch) -> String {
    format!("核销不一致：{} 列表为「{}」，详情为「{}」", m.field, m.list, m.detail)
}

impl Store {
    /// `list_page`: stores the page's rows, the page and the window's pass in one transaction,
    /// and answers which rows need no preview (reconciled from details already stored).
    pub fn list_page(&mut self, request: &ListPageSave) -> Result<ListPageSaved> {
        let task = &request.task;
        let key = request.window.key();
        let pass = i64::from(request.pass);
        let (offset, total) = (int(request.offset)?, int(request.total)?);
        let rows = i64::try_from(request.rows.len()).unwrap_or(i64::MAX);
        self.write(|tx| {
            require_task(tx, task)?;
            match window_state(tx, task, &key)? {
                None => insert_window(tx, task, &request.window, Stored::Listing, pass, Some(total))?,
                // Late pages: a split window, or an older pass than the window's.
                Some((Stored::Split, _)) => return Ok(ListPageSaved { reconciled: reconciled_among(tx, task, &request.rows)? }),
                Some((_, current)) if pass < current => return Ok(ListPageSaved { reconciled: reconciled_among(tx, task, &request.rows)? }),
                // A retried page of a pass already done: the rows are upserted, the window stays done.
                Some((Stored::Done, current)) if pass == current => {}
                Some(_) => {
                    tx.prepare_cached(
                        "UPDATE task_window SET state = 'listing', pass = ?3, total = ?4, reason = NULL WHERE task = ?1 AND window_key = ?2",
                    )?
                    .execute(params![task.0, key, pass, total])?;
                }
            }
            tx.prepare_cached(
                "INSERT INTO window_page (task, window_key, pass, offset, rows, total) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (task, window_key, pass, offset) DO UPDATE SET rows = excluded.rows, total = excluded.total",
            )?
            .execute(params![task.0, key, pass, offset, rows, total])?;
            for row in &request.rows {
                upsert_listed(tx, task, &request.window, &key, pass, row)?;
            }
            Ok(ListPageSaved { reconciled: reconciled_among(tx, task, &request.rows)? })
        })
    }

    /// `window_done`: pass `pass` saw the whole list (`total` rows). Members of earlier passes
    /// that it did not see leave the task.
    pub fn window_done(&mut self, request: &WindowDone) -> Result<Ack> {
        let (task, key) = (&request.task, request.window_key.as_str());
        let (pass, total) = (i64::from(request.pass), int(request.total)?);
        self.write(|tx| {
            require_task(tx, task)?;
            match known_window(tx, task, key, Stored::Done, pass, Some(total))? {
                None => return Ok(Ack {}),
                Some((Stored::Split, _)) => return Ok(Ack {}),
                Some((_, current)) if pass < current => return Ok(Ack {}),
                Some(_) => {}
            }
            tx.prepare_cached(
                "UPDATE task_window SET state = 'done', pass = ?3, total = ?4, reason = NULL WHERE task = ?1 AND window_key = ?2",
            )?
            .execute(params![task.0, key, pass, total])?;
            tx.prepare_cached("DELETE FROM task_declaration WHERE task = ?1 AND window_key = ?2 AND pass < ?3")?
                .execute(params![task.0, key, pass])?;
            tx.prepare_cached("DELETE FROM window_page WHERE task = ?1 AND window_key = ?2 AND pass < ?3")?
                .execute(params![task.0, key, pass])?;
            Ok(Ack {})
        })
    }

    /// `window_failed`: the window could not be listed; it stays a gap until listed again.
    pub fn window_failed(&mut self, request: &WindowFailed) -> Result<Ack> {
        let (task, key) = (&request.task, request.window_key.as_str());
        self.write(|tx| {
            require_task(tx, task)?;
            if let Some((Stored::Split, _)) = known_window(tx, task, key, Stored::Failed, 0, None)? {
                return Ok(Ack {});
            }
            tx.prepare_cached("UPDATE task_window SET state = 'failed', reason = ?3 WHERE task = ?1 AND window_key = ?2")?
                .execute(params![task.0, key, request.reason])?;
            Ok(Ack {})
        })
    }

    /// `window_split`: the window is replaced by `into` (new windows start at pass 0; ones the
    /// task already has keep their progress), its members go, and the span limit is kept.
    pub fn window_split(&mut self, request: &WindowSplit) -> Result<Ack> {
        let task = &request.task;
        let key = request.window.key();
        if request.into.iter().any(|w| w.key() == key) {
            return Err(StoreError::Invalid("a window cannot be split into itself".into()));
        }
        self.write(|tx| {
            require_task(tx, task)?;
            insert_window(tx, task, &request.window, Stored::Split, 0, None)?;
            tx.prepare_cached("UPDATE task_window SET state = 'split', reason = NULL WHERE task = ?1 AND window_key = ?2")?
                .execute(params![task.0, key])?;
            tx.prepare_cached("DELETE FROM task_declaration WHERE task = ?1 AND window_key = ?2")?.execute(params![task.0, key])?;
            tx.prepare_cached("DELETE FROM window_page WHERE task = ?1 AND window_key = ?2")?.execute(params![task.0, key])?;
            for window in &request.into {
                insert_window(tx, task, window, Stored::Listing, 0, None)?;
            }
            tx.prepare_cached("UPDATE task SET learned_max_days = min(COALESCE(learned_max_days, ?2), ?2) WHERE number = ?1")?
                .execute(params![task.0, request.learned_max_days])?;
            Ok(Ack {})
        })
    }

    /// `detail_save`: stores the detail (head, goods lines, documents) as the declaration's
    /// newest, then cross-checks it against the list row this task stored.
    pub fn detail_save(&mut self, request: &DetailSave) -> Result<DetailSaved> {
        let (task, detail) = (&request.task, &request.detail);
        let cus = detail.cus_ciq_no.as_str();
        if cus.is_empty() {
            return Err(StoreError::Invalid("a detail without cusCiqNo".into()));
        }
        let head = serde_json::to_string(&detail.head)?;
        let documents = serde_json::to_string(&detail.documents)?;
        let bill_no = text(&detail.head, "billNo").filter(|b| !b.is_empty());
        self.write(|tx| {
            require_task(tx, task)?;
            let stored = tx
                .prepare_cached("SELECT detail_update_time, head, documents FROM declaration WHERE cus_ciq_no = ?1")?
                .query_row([cus], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?)))
                .optional()?;
            let write_detail = match &stored {
                None => {
                    tx.prepare_cached(
                        "INSERT INTO declaration (cus_ciq_no, entry_id, bill_no, ie_flag, status, ie_date, update_time)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )?
                    .execute(params![
                        cus,
                        detail.entry_id,
                        bill_no,
                        detail.ie_flag,
                        detail.status,
                        detail.ie_date,
                        detail.update_time
                    ])?;
                    true
                }
                // An older detail than the one stored keeps out (but is still cross-checked below).
                Some((Some(old), _, _)) if detail.update_time < *old => false,
                Some((old_time, old_head, old_documents)) => {
                    let same = old_time.as_deref() == Some(detail.update_time.as_str())
                        && old_head.as_deref() == Some(head.as_str())
                        && old_documents.as_deref() == Some(documents.as_str())
                        && stored_goods(tx, cus)? == detail.goods;
                    if !same && old_head.is_some() && old_time.as_deref() != Some(detail.update_time.as_str()) {
                        history_of_detail(tx, cus, &detail.update_time)?;
                    }
                    !same
                }
            };
            if write_detail {
                tx.prepare_cached(
                    "UPDATE declaration SET entry_id = COALESCE(entry_id, ?2), bill_no = COALESCE(?3, bill_no), declaration_date = ?4,
                     detail_update_time = ?5, detail_entry_id = ?2, detail_ie_flag = ?6, detail_status = ?7, detail_ie_date = ?8,
                     head = ?9, documents = ?10, fetched_at = strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime')
                     WHERE cus_ciq_no = ?1",
                )?
                .execute(params![
                    cus,
                    detail.entry_id,
                    bill_no,
                    detail.declaration_date,
                    detail.update_time,
                    detail.ie_flag,
                    detail.status,
                    detail.ie_date,
                    head,
                    documents
                ])?;
                tx.prepare_cached("DELETE FROM goods_line WHERE cus_ciq_no = ?1")?.execute([cus])?;
                let mut insert = tx.prepare_cached(
                    "INSERT INTO goods_line (cus_ciq_no, seq, g_no, code_ts, g_name, decl_total, trade_curr, line)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for (seq, line) in (1i64..).zip(&detail.goods) {
                    insert.execute(params![
                        cus,
                        seq,
                        text(line, "gNo"),
                        text(line, "codeTs"),
                        text(line, "gName"),
                        text(line, "declTotal"),
                        text(line, "tradeCurr"),
                        serde_json::to_string(line)?
                    ])?;
                }
            }
            // 核销 against this task's list row.
            let listed = tx
                .prepare_cached("SELECT window_key, list_row FROM task_declaration WHERE task = ?1 AND cus_ciq_no = ?2")?
                .query_row(params![task.0, cus], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .optional()?;
            let Some((window_key, row)) = listed else {
                return Ok(DetailSaved { reconciled: false, mismatch: None, window_key: None });
            };
            let row: ListRow = serde_json::from_str(&row)?;
            let outcome = cross_check(&row, detail);
            let reason = outcome.as_ref().err().map(mismatch_reason);
            tx.prepare_cached("UPDATE task_declaration SET reconciled = ?3, reason = ?4 WHERE task = ?1 AND cus_ciq_no = ?2")?
                .execute(params![task.0, cus, outcome.is_ok(), reason])?;
            Ok(DetailSaved { reconciled: outcome.is_ok(), mismatch: outcome.err(), window_key: Some(window_key) })
        })
    }

    /// `detail_failed`: the reason a listed declaration has no detail (kept until it is reconciled).
    pub fn detail_failed(&mut self, request: &DetailFailed) -> Result<Ack> {
        self.write(|tx| {
            require_task(tx, &request.task)?;
            tx.prepare_cached("UPDATE task_declaration SET reason = ?3 WHERE task = ?1 AND cus_ciq_no = ?2 AND reconciled = 0")?
                .execute(params![request.task.0, request.cus_ciq_no, request.reason])?;
            Ok(Ack {})
        })
    }

    /// `task_snapshot`: the task, what it learned, every window that is not split with its
    /// current pass's pages and members, and the declarations still to reconcile.
    pub fn task_snapshot(&self, number: &TaskNumber) -> Result<TaskSnapshot> {
        self.read(|conn| {
            let task = load_task(conn, number)?;
            let learned: Option<i64> =
                conn.prepare_cached("SELECT learned_max_days FROM task WHERE number = ?1")?.query_row([&number.0], |r| r.get(0))?;
            let windows = conn
                .prepare_cached(
                    "SELECT window_key, window, state, pass, total FROM task_window WHERE task = ?1 AND state != 'split' ORDER BY rowid",
                )?
                .query_map([&number.0], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut pages = conn
                .prepare_cached("SELECT offset, rows FROM window_page WHERE task = ?1 AND window_key = ?2 AND pass = ?3 ORDER BY offset")?;
            let mut members = conn.prepare_cached(
                "SELECT cus_ciq_no FROM task_declaration WHERE task = ?1 AND window_key = ?2 AND pass = ?3 ORDER BY cus_ciq_no",
            )?;
            let mut records = Vec::with_capacity(windows.len());
            for (key, window, state, pass, total) in windows {
                let Some(state) = Stored::parse(&state)?.public() else { continue };
                records.push(WindowRecord {
                    window: serde_json::from_str(&window)?,
                    state,
                    pass: u32::try_from(pass).unwrap_or(0),
                    total: total.map(uint),
                    pages: pages
                        .query_map(params![number.0, key, pass], |r| Ok((uint(r.get(0)?), uint(r.get(1)?))))?
                        .collect::<rusqlite::Result<Vec<_>>>()?,
                    members: members.query_map(params![number.0, key, pass], |r| r.get(0))?.collect::<rusqlite::Result<Vec<_>>>()?,
                });
            }
            let unreconciled = conn
                .prepare_cached("SELECT list_row FROM task_declaration WHERE task = ?1 AND reconciled = 0 ORDER BY cus_ciq_no")?
                .query_map([&number.0], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .iter()
                .map(|row| Ok(serde_json::from_str(row)?))
                .collect::<Result<Vec<ListRow>>>()?;
            Ok(TaskSnapshot { task, learned_max_days: learned.and_then(|d| u32::try_from(d).ok()), windows: records, unreconciled })
        })
    }
}

#[cfg(test)]
mod tests;
