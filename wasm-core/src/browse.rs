//! What the extension's pages read from the host's store: 协同记录 with its filters, a task's
//! declarations for 详情, one whole declaration for 预览, and exports (XLSX / CSV).
//!
//! These are read-only requests (nothing here changes the store); the types are shared by the
//! worker, which passes them through, and by the host (`native-host/src/store/pages.rs`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::calendar::Date;
use crate::period::DateRange;
use crate::task::{DirectionChoice, TaskNumber, TaskState};

/// A list query that is read one page at a time: the pager turns its page.
pub trait PagedQuery {
    /// Shows page `page` (1-based) of `page_size` rows next.
    fn turn_to(&mut self, page: u32, page_size: u32);
}

impl PagedQuery for TaskRecordsQuery {
    fn turn_to(&mut self, page: u32, page_size: u32) {
        self.page = page;
        self.page_size = page_size;
    }
}

impl PagedQuery for DeclarationsQuery {
    fn turn_to(&mut self, page: u32, page_size: u32) {
        self.page = page;
        self.page_size = page_size;
    }
}

/// `task_records` (协同记录): like `task_list`, plus the 进出口 filter of the seed's screen.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRecordsQuery {
    /// 用户名 contains this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// 操作时间: created on or after this day…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Date>,
    /// …and on or before this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Date>,
    /// 进出口 as chosen on the form (进出口 / 进口 / 出口).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directions: Option<DirectionChoice>,
    /// 状态.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<TaskState>,
    /// Only the tasks of this enterprise (统一社会信用代码; the active one on the pages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
    /// 1-based; 0 means 1.
    #[serde(default)]
    pub page: u32,
    /// 10, 20 or 50 on the screen (1–200 accepted; 0 means 10).
    #[serde(default)]
    pub page_size: u32,
}

/// `enterprises`' reply: the enterprises the store holds tasks of (several enterprises in one
/// store), the one of the newest task first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnterpriseList {
    pub enterprises: Vec<EnterpriseSummary>,
    /// Tasks of older versions, without an enterprise: they count as the only enterprise's
    /// when the store has at most one (see `native-host/src/store/enterprises.rs`).
    pub unassigned_tasks: u64,
}

impl EnterpriseList {
    /// The enterprise the pages show (the active one), given the one the user chose last
    /// (`remembered`) and the newest task the store had then (`seen`): a sync that ran since for
    /// another enterprise (its newest task is newer than `seen`) makes that one active — the
    /// portal session changed, the pages follow it; otherwise the user's choice stays while
    /// the store has it; otherwise the enterprise of the newest task. `None` when the store has
    /// no enterprise (only tasks of older versions, or none).
    pub fn active(&self, remembered: Option<&str>, seen: Option<&TaskNumber>) -> Option<&EnterpriseSummary> {
        let newest = self.enterprises.iter().max_by(|a, b| a.last_task.0.cmp(&b.last_task.0))?;
        let chosen = remembered.and_then(|scc| self.enterprises.iter().find(|e| e.enterprise.scc == scc));
        match (chosen, seen) {
            (Some(chosen), Some(seen)) if newest.last_task.0 <= seen.0 => Some(chosen),
            (Some(chosen), None) => Some(chosen),
            _ => Some(newest),
        }
    }

    /// The newest task of the store's enterprises (what [`EnterpriseList::active`]'s `seen` is).
    pub fn newest_task(&self) -> Option<&TaskNumber> {
        self.enterprises.iter().map(|e| &e.last_task).max_by(|a, b| a.0.cmp(&b.0))
    }
}

/// One enterprise of the store and its tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnterpriseSummary {
    /// 统一社会信用代码, 企业名称 and 海关编码 as the newest task recorded them.
    #[serde(flatten)]
    pub enterprise: crate::checkpoint::Enterprise,
    /// Tasks that ran for it (with the unassigned ones when it is the only enterprise).
    pub tasks: u64,
    /// The newest of its tasks.
    pub last_task: TaskNumber,
    /// When its newest task was created.
    pub last_sync: crate::task::DateTime,
}

/// Which declarations of a task 详情 shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconciledFilter {
    /// 全部.
    #[default]
    All,
    /// 已核销.
    Reconciled,
    /// 未核销.
    Unreconciled,
}

/// `task_declarations` (详情's table): one page of a task's declarations, filtered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeclarationsQuery {
    pub task: TaskNumber,
    /// Only this period (`2026-01`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// 统一编号 contains this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cus_ciq_no: Option<String>,
    /// 报关单号 contains this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<String>,
    #[serde(default)]
    pub reconciled: ReconciledFilter,
    /// 1-based; 0 means 1.
    #[serde(default)]
    pub page: u32,
    /// 1–200; 0 means 10.
    #[serde(default)]
    pub page_size: u32,
}

/// One row of 详情's table, as the list row and the task's 核销 have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeclarationRow {
    pub cus_ciq_no: String,
    /// 报关单号; empty before customs assigned one.
    pub entry_id: String,
    /// `I` / `E`.
    pub ie_flag: String,
    /// 进出口日期 as the portal sent it (`20260127` or `2026-01-27`).
    pub ie_date: String,
    /// 监管方式 (name, else code).
    pub supv_mode: String,
    /// 申报地海关.
    pub custom_master: String,
    /// 入境/离境口岸.
    pub entry_port: String,
    /// 报关状态 (name).
    pub status_name: String,
    /// 查验 (是 / 否, empty when unknown).
    pub inspection: String,
    pub period: String,
    /// 已核销 by this task.
    pub reconciled: bool,
    /// Why not, when the task recorded a reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `task_declarations`' reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeclarationsPage {
    /// Rows matching the filter (all pages).
    pub total: u64,
    pub rows: Vec<DeclarationRow>,
}

/// `declaration_get` (预览).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeclarationRef {
    pub cus_ciq_no: String,
    /// The pages' active enterprise (统一社会信用代码): a declaration none of its tasks listed
    /// is not shown (`null`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
}

/// A whole declaration from the store: the detail's head and goods lines (or, before its detail
/// was fetched, only the list row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeclarationFull {
    pub cus_ciq_no: String,
    /// `preDecHeadVo` without the nested lists; `None` before the detail was fetched.
    #[serde(default)]
    pub head: Option<Map<String, Value>>,
    /// The latest list row's fields as the portal sent them.
    #[serde(default)]
    pub list_row: Option<Map<String, Value>>,
    /// `decMergeListVo`, in order.
    #[serde(default)]
    pub goods: Vec<Map<String, Value>>,
    /// `preDecDocVo`.
    #[serde(default)]
    pub documents: Vec<Value>,
    /// When the detail was stored (local time), if it was.
    #[serde(default)]
    pub fetched_at: Option<String>,
}

/// Export formats for people (the host's `export` command has JSONL for programs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// One sheet of heads (报关单表头), one of goods lines (商品明细).
    Xlsx,
    /// UTF-8 with a byte order mark, a row per goods line with the head's key columns.
    Csv,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Csv => "csv",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ExportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ExportFormat::Csv => "text/csv;charset=utf-8",
        }
    }
}

/// `export`: a task's declarations, or those whose 进出口日期 falls in a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<DateRange>,
    pub format: ExportFormat,
    /// With `range` (or neither): only declarations listed by tasks of this enterprise
    /// (统一社会信用代码). A task already implies its enterprise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
}

impl ExportRequest {
    /// The file name the page saves: `DataLink-报关单-<task or range>.<ext>`.
    pub fn file_name(&self) -> String {
        let what = match (&self.task, &self.range) {
            (Some(task), _) => format!("任务{task}"),
            (None, Some(range)) => format!("{}至{}", range.first, range.last),
            (None, None) => "全部".to_owned(),
        };
        format!("DataLink-报关单-{what}.{}", self.format.extension())
    }
}

/// `export`'s reply: the file itself (base64; the protocol chunks replies over 1 MiB).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportFile {
    pub file_name: String,
    pub mime: String,
    pub base64: String,
    /// Bytes of the file (before base64).
    pub bytes: u64,
    pub declarations: u64,
    pub goods_lines: u64,
}

/// `env_check` (连接协同服务 → 环境检测): the host's handshake, the portal session, the card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvReport {
    pub host: crate::protocol::PingReply,
    pub portal: PortalCheck,
    /// The card's environment check, when the host could run it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<crate::protocol::CardStatusReply>,
    /// Why the card check could not run (an old host, a host error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_problem: Option<crate::error::ErrorInfo>,
}

/// The portal session as the worker found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortalCheck {
    pub url: String,
    pub logged_in: bool,
    /// 用户名 on the portal's desktop, when logged in.
    #[serde(default)]
    pub user_name: String,
    /// Not logged in (1202) or not reachable (1205).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<crate::error::ErrorInfo>,
}

#[cfg(test)]
mod tests {
    fn summary(scc: &str, last_task: &str) -> EnterpriseSummary {
        EnterpriseSummary {
            enterprise: crate::checkpoint::Enterprise { scc: scc.into(), name: format!("企业{scc}"), code: String::new() },
            tasks: 1,
            last_task: TaskNumber(last_task.into()),
            last_sync: crate::task::DateTime::parse("2026-05-25 10:00:00").unwrap(),
        }
    }

    #[test]
    fn the_active_enterprise_is_the_users_choice_until_a_sync_runs_for_another() {
        let a = "91610000MA6TEST01X";
        let b = "91310000MA1TEST02Y";
        let list = EnterpriseList {
            enterprises: vec![summary(b, "20260525110000001"), summary(a, "20260525100000001")],
            unassigned_tasks: 0,
        };
        let active = |remembered: Option<&str>, seen: Option<&str>| {
            let seen = seen.map(|s| TaskNumber(s.into()));
            list.active(remembered, seen.as_ref()).map(|e| e.enterprise.scc.clone())
        };
        assert_eq!(list.newest_task().map(|t| t.0.as_str()), Some("20260525110000001"));
        assert_eq!(active(None, None).as_deref(), Some(b), "nothing chosen: the newest task's");
        assert_eq!(active(Some(a), Some("20260525110000001")).as_deref(), Some(a), "chosen after the newest task: kept");
        assert_eq!(active(Some(a), None).as_deref(), Some(a));
        assert_eq!(active(Some(a), Some("20260525100000001")).as_deref(), Some(b), "B synced since: follow it");
        assert_eq!(active(Some("91000000000000000X"), Some("20260525110000001")).as_deref(), Some(b), "gone: the newest");
        assert_eq!(EnterpriseList::default().active(Some(a), None), None);
    }

    use super::*;

    #[test]
    fn json_shapes() {
        let q: DeclarationsQuery = serde_json::from_str(r#"{"task":"20260525143352001","reconciled":"unreconciled","page":2,"pageSize":20}"#).unwrap();
        assert_eq!((q.reconciled, q.page, q.page_size, q.period), (ReconciledFilter::Unreconciled, 2, 20, None));
        let r: TaskRecordsQuery = serde_json::from_str(r#"{"directions":"import","state":"failed"}"#).unwrap();
        assert_eq!((r.directions, r.state, r.page), (Some(DirectionChoice::Import), Some(TaskState::Failed), 0));
        let e = ExportRequest { task: None, range: Some(DateRange { first: "2026-01-01".parse().unwrap(), last: "2026-03-31".parse().unwrap() }), format: ExportFormat::Csv, enterprise: None };
        assert_eq!(e.file_name(), "DataLink-报关单-2026-01-01至2026-03-31.csv");
        assert_eq!(serde_json::to_value(&e).unwrap()["format"], "csv");
    }
}
