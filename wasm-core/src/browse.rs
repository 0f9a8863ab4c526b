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
    /// 1-based; 0 means 1.
    #[serde(default)]
    pub page: u32,
    /// 10, 20 or 50 on the screen (1–200 accepted; 0 means 10).
    #[serde(default)]
    pub page_size: u32,
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
    use super::*;

    #[test]
    fn json_shapes() {
        let q: DeclarationsQuery = serde_json::from_str(r#"{"task":"20260525143352001","reconciled":"unreconciled","page":2,"pageSize":20}"#).unwrap();
        assert_eq!((q.reconciled, q.page, q.page_size, q.period), (ReconciledFilter::Unreconciled, 2, 20, None));
        let r: TaskRecordsQuery = serde_json::from_str(r#"{"directions":"import","state":"failed"}"#).unwrap();
        assert_eq!((r.directions, r.state, r.page), (Some(DirectionChoice::Import), Some(TaskState::Failed), 0));
        let e = ExportRequest { task: None, range: Some(DateRange { first: "2026-01-01".parse().unwrap(), last: "2026-03-31".parse().unwrap() }), format: ExportFormat::Csv };
        assert_eq!(e.file_name(), "DataLink-报关单-2026-01-01至2026-03-31.csv");
        assert_eq!(serde_json::to_value(&e).unwrap()["format"], "csv");
    }
}
