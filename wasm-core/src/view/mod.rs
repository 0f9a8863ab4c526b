//! The extension pages' presentation logic, pure: what the screens say and how they decide it.
//!
//! The pages themselves (`src/wasm/ui/`) only build DOM nodes from what this module computes,
//! so everything here is tested natively in milliseconds:
//!
//! * [`text`] — every word, Chinese (default) and English, in one table;
//! * [`form`] — the 报关单协同 form and its settings → `Conditions`, or the field that is wrong;
//! * [`advice`] — the clear states: an error → a plain message and the next step;
//! * [`fmt`] — counts (`-` until known), durations, progress, dates;
//! * [`paging`] — table paging (`共 N 条`, page buttons, 10 / 20 / 50 per page);
//! * [`customs`] — 预览's layout of a declaration as the customs form;
//! * [`schedule`] — 自动协同: the scheduled sync's settings, next run, period and notifications;
//! * [`report`] — 数据验证报告: the form's checks, the 数据协同核验表, the sync to offer for
//!   missing months, amounts, the monthly summary and its SVG chart, the certificate settings;
//! * here: the four steps of 报关单协同, the rows of 协同记录 and the conditions as shown.

pub mod advice;
pub mod customs;
pub mod fmt;
pub mod form;
pub mod paging;
pub mod report;
pub mod schedule;
pub mod text;

use crate::checkpoint::TaskRecord;
use crate::task::{Conditions, Lookup, TaskState};

use text::{Lang, T};

/// How a step of 报关单协同 looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    /// Not reached.
    Waiting,
    /// The step the user is at.
    Active,
    Done,
    Failed,
}

impl StepState {
    pub fn class(self) -> &'static str {
        match self {
            StepState::Waiting => "step waiting",
            StepState::Active => "step active",
            StepState::Done => "step done",
            StepState::Failed => "step failed",
        }
    }
}

/// One of the four steps: 1 等待连接 → 连接成功, 2 环境检测通过, 3 待执行 → 执行中…, 4 执行完成.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub number: u8,
    pub text: T,
    pub state: StepState,
}

/// The steps for: the host connected, the environment check's outcome (`None`: not run), the
/// task shown (`None`: none yet).
pub fn steps(connected: bool, environment: Option<bool>, task: Option<TaskState>) -> [Step; 4] {
    let step = |number, text, state| Step { number, text, state };
    let running = task == Some(TaskState::Running);
    let first = if connected || running { step(1, T::StepConnected, StepState::Done) } else { step(1, T::StepWaiting, StepState::Active) };
    let second = match (environment, running) {
        (Some(true), _) | (_, true) => step(2, T::StepEnv, StepState::Done),
        (Some(false), _) => step(2, T::StepEnvFailed, StepState::Failed),
        (None, _) => step(2, T::StepEnv, StepState::Waiting),
    };
    let ready = environment == Some(true);
    let third = match task {
        Some(TaskState::Running) => step(3, T::StepRunning, StepState::Active),
        _ if ready => step(3, T::StepPending, StepState::Active),
        _ => step(3, T::StepPending, StepState::Waiting),
    };
    let fourth = match task {
        Some(TaskState::Completed) => step(4, T::StepDone, StepState::Done),
        Some(TaskState::Failed) => step(4, T::StepFailed, StepState::Failed),
        Some(TaskState::Cancelled) => step(4, T::StepCancelled, StepState::Failed),
        _ => step(4, T::StepDone, StepState::Waiting),
    };
    [first, second, third, fourth]
}

/// A task state's CSS class (`state-completed` …).
pub fn state_class(state: TaskState) -> &'static str {
    match state {
        TaskState::Pending => "state state-pending",
        TaskState::Running => "state state-running",
        TaskState::Completed => "state state-completed",
        TaskState::Failed => "state state-failed",
        TaskState::Cancelled => "state state-cancelled",
    }
}

/// One row of 协同记录, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    pub index: u64,
    pub number: String,
    pub operator: String,
    /// 操作开始时间 / 操作结束时间: the task's range, as the seed's table shows it.
    pub first: String,
    pub last: String,
    pub role: &'static str,
    pub directions: &'static str,
    pub status: &'static str,
    /// 查询数, 命中数, 核销数.
    pub counts: [String; 3],
    /// The three counts are known and disagree (or the fourth does): the row stands out.
    pub disagree: bool,
    /// The fourth count, `（打印件 61/61）`, for a task with documents (issue #10).
    pub documents: Option<String>,
    pub state: &'static str,
    pub state_class: &'static str,
}

pub fn record_row(index: u64, record: &TaskRecord, lang: Lang) -> RecordRow {
    let c = &record.conditions;
    RecordRow {
        index,
        number: record.number.0.clone(),
        operator: record.operator.clone(),
        first: c.range.first.to_string(),
        last: c.range.last.to_string(),
        role: text::role_label(c.role, lang),
        directions: text::directions_label(c.directions, lang),
        status: text::status_label(c.status, lang),
        counts: fmt::counts(record.counts),
        disagree: fmt::disagree(record.counts) || record.documents.is_some_and(|d| !d.agree()),
        documents: record.documents.map(|d| T::DocCount.fill(lang, &[&d.stored, &d.entries])),
        state: text::state_label(record.state, lang),
        state_class: state_class(record.state),
    }
}

/// The conditions of a task as 查看 and 详情 list them: (label, value), `--` for empty lookups.
pub fn conditions(c: &Conditions, lang: Lang) -> Vec<(&'static str, String)> {
    let lookup = |want: fn(&Lookup) -> bool| {
        c.lookup.as_ref().filter(|l| want(l)).map_or_else(|| T::Dash.get(lang).to_owned(), |l| l.value().to_owned())
    };
    vec![
        (T::FieldTypes.get(lang), text::types_label(c.types, lang)),
        (T::FieldRole.get(lang), text::role_label(c.role, lang).to_owned()),
        (T::FieldDirections.get(lang), text::directions_label(c.directions, lang).to_owned()),
        (T::FieldStatus.get(lang), text::status_label(c.status, lang).to_owned()),
        (T::FieldCusCiqNo.get(lang), lookup(|l| matches!(l, Lookup::CusCiqNo(_)))),
        (T::FieldEntryId.get(lang), lookup(|l| matches!(l, Lookup::EntryId(_)))),
        (T::FieldBillNo.get(lang), lookup(|l| matches!(l, Lookup::BillNo(_)))),
        (T::FieldFirst.get(lang), c.range.first.to_string()),
        (T::FieldLast.get(lang), c.range.last.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Counts;
    use crate::period::DateRange;
    use crate::task::{DateTime, DirectionChoice, Role, StatusChoice, TaskNumber, TypeChoice};

    #[test]
    fn the_four_steps_move_as_in_the_seed() {
        let texts = |s: [Step; 4]| s.map(|s| (s.text, s.state));
        use StepState::*;
        assert_eq!(
            texts(steps(false, None, None)),
            [(T::StepWaiting, Active), (T::StepEnv, Waiting), (T::StepPending, Waiting), (T::StepDone, Waiting)]
        );
        assert_eq!(
            texts(steps(true, Some(true), None)),
            [(T::StepConnected, Done), (T::StepEnv, Done), (T::StepPending, Active), (T::StepDone, Waiting)]
        );
        assert_eq!(texts(steps(true, Some(true), Some(TaskState::Running)))[2], (T::StepRunning, Active));
        assert_eq!(texts(steps(true, Some(true), Some(TaskState::Completed)))[3], (T::StepDone, Done));
        assert_eq!(texts(steps(true, Some(false), None))[1], (T::StepEnvFailed, Failed));
        // A task picked up after the page was reopened: it runs, so the host is connected.
        assert_eq!(texts(steps(false, None, Some(TaskState::Running)))[0], (T::StepConnected, Done));
        assert_eq!(texts(steps(true, Some(true), Some(TaskState::Failed)))[3], (T::StepFailed, Failed));
    }

    fn record(counts: Option<Counts>, state: TaskState) -> TaskRecord {
        TaskRecord {
            number: TaskNumber("20260521100103001".into()),
            conditions: Conditions {
                types: TypeChoice::General,
                role: Role::Consignee,
                directions: DirectionChoice::Both,
                status: StatusChoice::Closed,
                lookup: None,
                range: DateRange { first: "2026-01-01".parse().unwrap(), last: "2026-01-31".parse().unwrap() },
            },
            portal: "https://swapp.singlewindow.cn".into(),
            operator: "许斯维".into(),
            state,
            created_at: DateTime::parse("2026-05-21 10:01:03").unwrap(),
            started_at: None,
            ended_at: None,
            message: None,
            counts,
            enterprise: None,
            documents: None,
        }
    }

    #[test]
    fn a_record_row_reads_like_the_seed() {
        let row = record_row(1, &record(Some(Counts { queried: 5, hit: 5, reconciled: 5 }), TaskState::Completed), Lang::Zh);
        assert_eq!(
            (row.number.as_str(), row.first.as_str(), row.last.as_str(), row.role, row.directions, row.status, row.state),
            ("20260521100103001", "2026-01-01", "2026-01-31", "报关收发货人", "进出口", "结关", "执行完毕")
        );
        assert_eq!(row.counts, ["5", "5", "5"]);
        assert!(!row.disagree);
        let failed = record_row(2, &record(Some(Counts { queried: 9, hit: 1, reconciled: 1 }), TaskState::Failed), Lang::Zh);
        assert!(failed.disagree);
        assert_eq!(failed.state_class, "state state-failed");
        assert_eq!(record_row(3, &record(None, TaskState::Failed), Lang::Zh).counts, ["-", "-", "-"]);
        assert_eq!(record_row(1, &record(None, TaskState::Completed), Lang::En).state, "Completed");
    }

    #[test]
    fn conditions_as_shown() {
        let mut r = record(None, TaskState::Completed);
        r.conditions.lookup = Some(Lookup::EntryId("610120260123456789".into()));
        let shown = conditions(&r.conditions, Lang::Zh);
        assert_eq!(shown[0], ("报关单类型", "一般报关单".to_owned()));
        assert_eq!(shown[4], ("统一编号", "--".to_owned()));
        assert_eq!(shown[5], ("报关单号", "610120260123456789".to_owned()));
        assert_eq!(shown[8], ("结束日期", "2026-01-31".to_owned()));
    }

    /// Strings from the portal reach the DOM only as text: the UI code never asks the browser
    /// to parse HTML.
    #[test]
    fn the_ui_never_parses_html() {
        let sources = [
            include_str!("../wasm/ui/mod.rs"),
            include_str!("../wasm/ui/dom.rs"),
            include_str!("../wasm/ui/api.rs"),
            include_str!("../wasm/ui/serve.rs"),
            include_str!("../wasm/ui/sync_page.rs"),
            include_str!("../wasm/ui/records.rs"),
            include_str!("../wasm/ui/task.rs"),
            include_str!("../wasm/ui/preview.rs"),
            include_str!("../wasm/ui/report.rs"),
            include_str!("../../../extension/app.js"),
        ];
        for source in sources {
            for banned in ["inner_html", "outer_html", "innerHTML", "outerHTML", "insertAdjacentHTML", "insert_adjacent_html", "document.write", "eval("] {
                let hits = source.lines().filter(|l| l.contains(banned) && !l.trim_start().starts_with("//")).count();
                assert_eq!(hits, 0, "{banned} in the UI code");
            }
        }
    }
}
