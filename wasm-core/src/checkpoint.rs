//! What the sync engine asks the host's store to remember, and what it gets back.
//!
//! Every step of a sync is committed to the host's SQLite store before the engine counts it
//! done: a list page ([`ListPageSave`]), a finished window ([`WindowDone`]), a declaration's
//! detail ([`DetailSave`]). Each request is one transaction and idempotent (upserts keyed by
//! task, window, pass, offset and 统一编号), so a request repeated after the host was killed
//! changes nothing. After any interruption the engine rebuilds itself from a
//! [`TaskSnapshot`] (断点续查): windows already done are not asked again, pages already stored
//! are not fetched again, declarations already reconciled are not previewed again.
//!
//! The host is the authority for 核销: it cross-checks each detail against the list row it
//! stored ([`crate::portal::cross_check`]) and, for a declaration whose stored detail has the
//! same `updateTime` as its new list row, reconciles it without fetching anything (incremental
//! sync).

use serde::{Deserialize, Serialize};

use crate::plan::Window;
use crate::portal::{Detail, ListRow, Mismatch};
use crate::task::{Conditions, DateTime, TaskNumber, TaskState};

/// `task_create`: a new task in state 待执行.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskCreate {
    pub conditions: Conditions,
    /// The portal base URL the task runs against.
    pub portal: String,
    /// 用户名: the portal user (card holder) running it.
    pub operator: String,
    /// Local time of creation: the task number's first 14 digits.
    pub now: DateTime,
    /// The enterprise whose portal session runs the task (from the portal's desktop); `None`
    /// when the desktop did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<Enterprise>,
}

/// An enterprise of the store (several enterprises in one store, issue #10): a task belongs to
/// the enterprise whose portal session ran it. The 统一社会信用代码 (`scc`) is the key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Enterprise {
    /// 统一社会信用代码 (18 characters).
    pub scc: String,
    /// 企业名称.
    #[serde(default)]
    pub name: String,
    /// 海关编码 (10 characters); empty when unknown.
    #[serde(default)]
    pub code: String,
}

/// A task as the store holds it (协同记录's row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRecord {
    pub number: TaskNumber,
    pub conditions: Conditions,
    pub portal: String,
    pub operator: String,
    pub state: TaskState,
    pub created_at: DateTime,
    #[serde(default)]
    pub started_at: Option<DateTime>,
    #[serde(default)]
    pub ended_at: Option<DateTime>,
    /// Why the task stopped, for 执行异常 / 已取消 (Chinese, for the user).
    #[serde(default)]
    pub message: Option<String>,
    /// The three counts over all periods; `None` until the task has listed anything.
    #[serde(default)]
    pub counts: Option<Counts>,
    /// The enterprise the task ran for; `None` for tasks of older versions (they belong to the
    /// store's only enterprise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<Enterprise>,
    /// The fourth count (PDFs stored / declarations with 报关单号), only for a task with
    /// documents (issue #10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<crate::documents::DocumentCounts>,
}

/// 查询数 / 命中数 / 核销数.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// 查询数: the portal's totals.
    pub queried: u64,
    /// 命中数: distinct declarations collected from list pages.
    pub hit: u64,
    /// 核销数: declarations whose detail was fetched, stored and cross-checked.
    pub reconciled: u64,
}

impl Counts {
    pub fn agree(&self) -> bool {
        self.queried == self.hit && self.hit == self.reconciled
    }
}

/// `task_state`: the engine moved the task to `state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStateChange {
    pub task: TaskNumber,
    pub state: TaskState,
    pub now: DateTime,
    #[serde(default)]
    pub message: Option<String>,
}

/// A line of the execution log (执行日志).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    pub at: DateTime,
    pub category: LogCategory,
    pub message: String,
}

/// The seed's log tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogCategory {
    /// 连接.
    Connect,
    /// 执行.
    Execute,
    /// 结果.
    Result,
    /// 错误.
    Error,
}

impl LogCategory {
    pub fn label(self) -> &'static str {
        match self {
            LogCategory::Connect => "连接",
            LogCategory::Execute => "执行",
            LogCategory::Result => "结果",
            LogCategory::Error => "错误",
        }
    }
}

/// `task_log`: lines to append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskLogAppend {
    pub task: TaskNumber,
    pub lines: Vec<LogLine>,
}

/// `window_split`: the portal refused `window`'s span (or it held more than paging reaches);
/// it is replaced by `into`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowSplit {
    pub task: TaskNumber,
    pub window: Window,
    pub into: Vec<Window>,
    /// The span limit learned so far, kept for the rest of the task.
    pub learned_max_days: u32,
}

/// `list_page`: one page of a window's list, in listing pass `pass`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPageSave {
    pub task: TaskNumber,
    pub window: Window,
    /// Listing passes of a window start at 1; a window whose total moved while it was being
    /// paged is listed again in the next pass.
    pub pass: u32,
    pub offset: u64,
    pub total: u64,
    pub rows: Vec<ListRow>,
}

/// The store's answer to [`ListPageSave`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPageSaved {
    /// Rows reconciled from details already stored with the same `updateTime`: no preview needed.
    pub reconciled: Vec<String>,
}

/// `window_done`: pass `pass` of the window saw the whole list, `total` rows, stable.
/// Members of earlier passes that this pass did not see leave the task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowDone {
    pub task: TaskNumber,
    pub window_key: String,
    pub pass: u32,
    pub total: u64,
}

/// `window_failed`: the window could not be listed (retries exhausted); it is a gap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowFailed {
    pub task: TaskNumber,
    pub window_key: String,
    pub reason: String,
}

/// `detail_save`: a declaration's detail, to store and cross-check against its list row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailSave {
    pub task: TaskNumber,
    pub detail: Detail,
}

/// The store's answer to [`DetailSave`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailSaved {
    pub reconciled: bool,
    #[serde(default)]
    pub mismatch: Option<Mismatch>,
    /// The window the declaration was listed in (to list again after a mismatch).
    #[serde(default)]
    pub window_key: Option<String>,
}

/// `detail_failed`: a declaration's detail could not be had (retries exhausted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailFailed {
    pub task: TaskNumber,
    pub cus_ciq_no: String,
    pub reason: String,
}

/// `task_snapshot` reply: everything needed to resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSnapshot {
    pub task: TaskRecord,
    /// The span limit learned so far (`None`: nothing learned yet).
    #[serde(default)]
    pub learned_max_days: Option<u32>,
    /// Every window the task has touched, split ones excluded.
    pub windows: Vec<WindowRecord>,
    /// Declarations listed by the task and not yet reconciled, with their list rows.
    pub unreconciled: Vec<ListRow>,
}

/// A window's progress in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowRecord {
    pub window: Window,
    pub state: WindowState,
    /// The current listing pass (0 before the first page).
    pub pass: u32,
    /// The portal's total as last seen in this pass.
    #[serde(default)]
    pub total: Option<u64>,
    /// Pages stored in this pass: (offset, rows).
    #[serde(default)]
    pub pages: Vec<(u64, u64)>,
    /// Distinct declarations seen in this pass.
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowState {
    Listing,
    Done,
    Failed,
}

/// `task_finish` / `task_report` reply: the per-period reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskReport {
    pub task: TaskRecord,
    pub periods: Vec<PeriodCounts>,
    pub total: Counts,
    /// Declarations listed but not reconciled (统一编号), with why.
    pub missing: Vec<MissingDeclaration>,
    /// Windows that could not be listed.
    pub failed_windows: Vec<String>,
    /// The fourth count (PDFs stored vs declarations with 报关单号), only for a task that asked
    /// for documents (`documents_plan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<crate::documents::DocumentCounts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodCounts {
    /// `2026-01`.
    pub period: String,
    /// The days of the month the task covers.
    pub first: crate::calendar::Date,
    pub last: crate::calendar::Date,
    pub counts: Counts,
    /// The period's fourth count, for a task with documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<crate::documents::DocumentCounts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingDeclaration {
    pub cus_ciq_no: String,
    pub period: String,
    pub reason: String,
}

/// `task_finish`: the engine has nothing left to do; the store decides 执行完毕 (every
/// period's counts agree, no gap) or 执行异常.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskFinish {
    pub task: TaskNumber,
    pub now: DateTime,
}

/// `task_list` filter (协同记录).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskListQuery {
    #[serde(default)]
    pub operator: Option<String>,
    #[serde(default)]
    pub from: Option<crate::calendar::Date>,
    #[serde(default)]
    pub to: Option<crate::calendar::Date>,
    #[serde(default)]
    pub state: Option<TaskState>,
    /// Only tasks of this enterprise (统一社会信用代码); tasks without one count as the store's
    /// only enterprise's (see `native-host/src/store/enterprises.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
    /// 1-based.
    #[serde(default = "first_page")]
    pub page: u32,
    #[serde(default = "ten")]
    pub page_size: u32,
}

fn first_page() -> u32 {
    1
}
fn ten() -> u32 {
    10
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskList {
    pub total: u64,
    pub tasks: Vec<TaskRecord>,
}

/// A request that names only a task (`task_get`, `task_snapshot`, `task_report`, `task_log_get`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRef {
    pub task: TaskNumber,
}
