//! A sync task (协同任务): its conditions, number and state, in the words of the seed's form.
//!
//! The form (报关单协同) picks declaration type(s), enterprise role, direction, status, an
//! optional single lookup, and a time span; [`Conditions`] holds exactly that. From it the
//! planner derives the [`Stream`]s — one portal query family per direction × type × status,
//! because the portal answers one direction, one type and one side of the closed/not-closed
//! split per query.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::calendar::Date;
use crate::period::DateRange;

/// 进出口标志 of one query (`cusIEFlag`): the portal has no "both".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Direction {
    #[serde(rename = "I")]
    Import,
    #[serde(rename = "E")]
    Export,
}

impl Direction {
    pub const BOTH: [Direction; 2] = [Direction::Import, Direction::Export];

    /// The portal's `cusIEFlag`.
    pub fn code(self) -> &'static str {
        match self {
            Direction::Import => "I",
            Direction::Export => "E",
        }
    }

    /// 进口 / 出口.
    pub fn label(self) -> &'static str {
        match self {
            Direction::Import => "进口",
            Direction::Export => "出口",
        }
    }

    pub fn from_code(code: &str) -> Option<Direction> {
        match code {
            "I" => Some(Direction::Import),
            "E" => Some(Direction::Export),
            _ => None,
        }
    }
}

/// 报关单类型 (`dclTrnRelFlag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DeclarationType {
    /// `0` 一般报关单.
    #[serde(rename = "0")]
    General,
    /// `2` 备案清单 (bonded goods).
    #[serde(rename = "2")]
    Filing,
}

impl DeclarationType {
    pub fn code(self) -> &'static str {
        match self {
            DeclarationType::General => "0",
            DeclarationType::Filing => "2",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DeclarationType::General => "一般报关单",
            DeclarationType::Filing => "备案清单",
        }
    }

    pub fn from_code(code: &str) -> Option<DeclarationType> {
        match code {
            "0" => Some(DeclarationType::General),
            "2" => Some(DeclarationType::Filing),
            _ => None,
        }
    }
}

/// 企业类别 (`etpsCategory`): the enterprise's role on the declarations it wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Role {
    /// `A` 报关申报单位 (a broker's view).
    #[serde(rename = "A")]
    Declarant,
    /// `B` 消费使用/生产销售单位.
    #[serde(rename = "B")]
    Owner,
    /// `C` 报关收发货人 (the default: the trading company itself).
    #[serde(rename = "C")]
    #[default]
    Consignee,
    /// `D` 报关录入单位.
    #[serde(rename = "D")]
    DataEntry,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Declarant => "A",
            Role::Owner => "B",
            Role::Consignee => "C",
            Role::DataEntry => "D",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Declarant => "报关申报单位",
            Role::Owner => "消费使用/生产销售单位",
            Role::Consignee => "报关收发货人",
            Role::DataEntry => "报关录入单位",
        }
    }
}

/// One side of the portal's closed / not-closed split (`cusDecStatus` `"10"` or empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum StatusSide {
    /// `cusDecStatus = "10"`: 结关.
    Closed,
    /// `cusDecStatus = ""`: every status but 结关.
    NotClosed,
}

impl StatusSide {
    /// The `cusDecStatus` value the portal expects.
    pub fn query_value(self) -> &'static str {
        match self {
            StatusSide::Closed => "10",
            StatusSide::NotClosed => "",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusSide::Closed => "结关",
            StatusSide::NotClosed => "非结关",
        }
    }

    /// Which side a declaration with status code `code` is on.
    pub fn of_status(code: &str) -> StatusSide {
        if code == "10" {
            StatusSide::Closed
        } else {
            StatusSide::NotClosed
        }
    }
}

/// 报关单类型 on the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TypeChoice {
    General,
    Filing,
    /// 两者: the seed advises querying both to be complete.
    #[default]
    Both,
}

/// 进出口标志 on the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DirectionChoice {
    /// 进出口.
    #[default]
    Both,
    Import,
    Export,
}

/// 报关状态 on the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StatusChoice {
    /// 结关 (the default).
    #[default]
    Closed,
    /// 非结关.
    NotClosed,
    /// 全部.
    All,
}

/// A single-declaration lookup (统一编号 / 报关单号 / 提运单号) instead of a time span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum Lookup {
    /// 统一编号 (`cusCiqNo`, 18 characters, e.g. `I20260000123456789`).
    CusCiqNo(String),
    /// 报关单号 (`entryId`, 18 digits).
    EntryId(String),
    /// 提运单号 (`billNo`).
    BillNo(String),
}

impl Lookup {
    pub fn label(&self) -> &'static str {
        match self {
            Lookup::CusCiqNo(_) => "统一编号",
            Lookup::EntryId(_) => "报关单号",
            Lookup::BillNo(_) => "提运单号",
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Lookup::CusCiqNo(v) | Lookup::EntryId(v) | Lookup::BillNo(v) => v,
        }
    }
}

/// Everything the user chose on the 报关单协同 form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conditions {
    #[serde(default)]
    pub types: TypeChoice,
    #[serde(default)]
    pub role: Role,
    #[serde(default)]
    pub directions: DirectionChoice,
    #[serde(default)]
    pub status: StatusChoice,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<Lookup>,
    /// 开始日期 – 结束日期, inclusive.
    pub range: DateRange,
}

/// Why conditions were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionsError {
    #[error("结束日期不能早于开始日期")]
    Reversed,
    #[error("结束日期不能晚于今天")]
    Future,
    #[error("{0}格式不正确")]
    LookupFormat(&'static str),
}

impl Conditions {
    /// Checks the form as the user filled it, relative to `today`.
    pub fn validate(&self, today: Date) -> Result<(), ConditionsError> {
        if self.range.last < self.range.first {
            return Err(ConditionsError::Reversed);
        }
        if self.range.last > today {
            return Err(ConditionsError::Future);
        }
        if let Some(lookup) = &self.lookup {
            let v = lookup.value();
            let ok = match lookup {
                Lookup::CusCiqNo(_) => v.len() == 18 && v.is_ascii() && v.bytes().skip(1).all(|b| b.is_ascii_digit()),
                Lookup::EntryId(_) => v.len() == 18 && v.bytes().all(|b| b.is_ascii_digit()),
                Lookup::BillNo(_) => !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()),
            };
            if !ok {
                return Err(ConditionsError::LookupFormat(lookup.label()));
            }
        }
        Ok(())
    }

    pub fn declaration_types(&self) -> Vec<DeclarationType> {
        match self.types {
            TypeChoice::General => vec![DeclarationType::General],
            TypeChoice::Filing => vec![DeclarationType::Filing],
            TypeChoice::Both => vec![DeclarationType::General, DeclarationType::Filing],
        }
    }

    pub fn directions(&self) -> Vec<Direction> {
        match self.directions {
            DirectionChoice::Both => Direction::BOTH.to_vec(),
            DirectionChoice::Import => vec![Direction::Import],
            DirectionChoice::Export => vec![Direction::Export],
        }
    }

    pub fn status_sides(&self) -> Vec<StatusSide> {
        match self.status {
            StatusChoice::Closed => vec![StatusSide::Closed],
            StatusChoice::NotClosed => vec![StatusSide::NotClosed],
            StatusChoice::All => vec![StatusSide::Closed, StatusSide::NotClosed],
        }
    }

    /// Every query family the conditions need, direction-major (the log's order).
    pub fn streams(&self) -> Vec<Stream> {
        let mut out = Vec::new();
        for direction in self.directions() {
            for declaration_type in self.declaration_types() {
                for status in self.status_sides() {
                    out.push(Stream { direction, declaration_type, status });
                }
            }
        }
        out
    }

    /// Whether a declaration with these attributes is in the task's scope.
    pub fn covers(&self, direction: Direction, declaration_type: DeclarationType, status_code: &str) -> bool {
        self.directions().contains(&direction)
            && self.declaration_types().contains(&declaration_type)
            && self.status_sides().contains(&StatusSide::of_status(status_code))
    }

    /// 进出口 / 进口 / 出口, as the records table shows it.
    pub fn directions_label(&self) -> &'static str {
        match self.directions {
            DirectionChoice::Both => "进出口",
            DirectionChoice::Import => "进口",
            DirectionChoice::Export => "出口",
        }
    }

    pub fn status_label(&self) -> &'static str {
        match self.status {
            StatusChoice::Closed => "结关",
            StatusChoice::NotClosed => "非结关",
            StatusChoice::All => "全部",
        }
    }

    pub fn types_label(&self) -> &'static str {
        match self.types {
            TypeChoice::General => "一般报关单",
            TypeChoice::Filing => "备案清单",
            TypeChoice::Both => "一般报关单、备案清单",
        }
    }
}

/// One family of portal queries: a direction, a type and one side of the status split (the
/// task's role applies to all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stream {
    pub direction: Direction,
    pub declaration_type: DeclarationType,
    pub status: StatusSide,
}

impl Stream {
    /// `I0C`-style short key, stable, for window keys.
    pub fn key(self) -> String {
        let status = match self.status {
            StatusSide::Closed => 'C',
            StatusSide::NotClosed => 'N',
        };
        format!("{}{}{}", self.direction.code(), self.declaration_type.code(), status)
    }
}

/// 任务编号: `yyyyMMddHHmmss` of the creation time plus a 3-digit sequence
/// (`20260525143352001`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskNumber(pub String);

impl TaskNumber {
    /// The number for a task created at `at` (local time), the `sequence`-th in that second.
    pub fn new(at: DateTime, sequence: u16) -> TaskNumber {
        let d = at.date;
        TaskNumber(format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}{:03}",
            d.year(),
            d.month(),
            d.day(),
            at.hour,
            at.minute,
            at.second,
            sequence % 1000
        ))
    }

    /// Whether `text` has the form of a task number.
    pub fn is_valid(text: &str) -> bool {
        text.len() == 17 && text.bytes().all(|b| b.is_ascii_digit())
    }
}

impl fmt::Display for TaskNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A local date and time to the second, as the portal and the log write it
/// (`2026-05-25 14:33:52`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    pub date: Date,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl DateTime {
    /// Parses `YYYY-MM-DD HH:mm:ss` (also with a `T`).
    pub fn parse(text: &str) -> Option<DateTime> {
        if text.len() != 19 || !matches!(text.as_bytes()[10], b' ' | b'T') {
            return None;
        }
        let date: Date = text[..10].parse().ok()?;
        let part = |r: std::ops::Range<usize>| -> Option<u8> {
            let s = text.get(r)?;
            if s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None }
        };
        let (hour, minute, second) = (part(11..13)?, part(14..16)?, part(17..19)?);
        if text.as_bytes()[13] != b':' || text.as_bytes()[16] != b':' || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        Some(DateTime { date, hour, minute, second })
    }

    /// Seconds since 1970-01-01 00:00:00 of the same clock.
    pub fn seconds(self) -> i64 {
        self.date.day_number() * 86_400 + i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:02}:{:02}:{:02}", self.date, self.hour, self.minute, self.second)
    }
}

impl Serialize for DateTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<DateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not a time YYYY-MM-DD HH:mm:ss: {text:?}")))
    }
}

/// 任务状态, as the records table shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// 待执行.
    Pending,
    /// 执行中.
    Running,
    /// 执行完毕: every period's three counts are equal.
    Completed,
    /// 执行异常: stopped by an error, or counts that disagree.
    Failed,
    /// 已取消.
    Cancelled,
}

impl TaskState {
    pub fn label(self) -> &'static str {
        match self {
            TaskState::Pending => "待执行",
            TaskState::Running => "执行中",
            TaskState::Completed => "执行完毕",
            TaskState::Failed => "执行异常",
            TaskState::Cancelled => "已取消",
        }
    }

    /// Whether the task may be resumed (断点续查).
    pub fn resumable(self) -> bool {
        matches!(self, TaskState::Pending | TaskState::Running | TaskState::Failed | TaskState::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn conditions() -> Conditions {
        Conditions {
            types: TypeChoice::Both,
            role: Role::Consignee,
            directions: DirectionChoice::Both,
            status: StatusChoice::Closed,
            lookup: None,
            range: DateRange::past_years(d("2026-05-25"), 3),
        }
    }

    #[test]
    fn the_demo_conditions_need_four_streams_direction_major() {
        let keys: Vec<String> = conditions().streams().into_iter().map(Stream::key).collect();
        assert_eq!(keys, ["I0C", "I2C", "E0C", "E2C"]);
        let all = Conditions { status: StatusChoice::All, ..conditions() };
        assert_eq!(all.streams().len(), 8);
        let one = Conditions { types: TypeChoice::Filing, directions: DirectionChoice::Export, status: StatusChoice::NotClosed, ..conditions() };
        assert_eq!(one.streams().into_iter().map(Stream::key).collect::<Vec<_>>(), ["E2N"]);
    }

    #[test]
    fn scope() {
        let c = conditions();
        assert!(c.covers(Direction::Import, DeclarationType::Filing, "10"));
        assert!(!c.covers(Direction::Import, DeclarationType::Filing, "9"));
        let not_closed = Conditions { status: StatusChoice::NotClosed, ..conditions() };
        assert!(not_closed.covers(Direction::Export, DeclarationType::General, "7"));
    }

    #[test]
    fn validation() {
        let today = d("2026-05-25");
        assert_eq!(conditions().validate(today), Ok(()));
        let future = Conditions { range: DateRange { first: d("2026-05-01"), last: d("2026-05-26") }, ..conditions() };
        assert_eq!(future.validate(today), Err(ConditionsError::Future));
        let reversed = Conditions { range: DateRange { first: d("2026-05-02"), last: d("2026-05-01") }, ..conditions() };
        assert_eq!(reversed.validate(today), Err(ConditionsError::Reversed));
        for (lookup, ok) in [
            (Lookup::CusCiqNo("I20260000123456789".into()), true),
            (Lookup::CusCiqNo("I2026000012345678".into()), false),
            (Lookup::EntryId("610120260123456789".into()), true),
            (Lookup::EntryId("61012026012345678X".into()), false),
            (Lookup::BillNo("COSU6123456780".into()), true),
            (Lookup::BillNo("<script>".into()), true),
            (Lookup::BillNo("有 空格".into()), false),
        ] {
            let c = Conditions { lookup: Some(lookup.clone()), ..conditions() };
            assert_eq!(c.validate(today).is_ok(), ok, "{lookup:?}");
        }
    }

    #[test]
    fn task_numbers_as_the_seed_writes_them() {
        let at = DateTime::parse("2026-05-25 14:33:52").unwrap();
        assert_eq!(TaskNumber::new(at, 1).0, "20260525143352001");
        assert!(TaskNumber::is_valid("20260525143352001"));
        assert!(!TaskNumber::is_valid("2026052514335200"));
        assert_eq!(at.to_string(), "2026-05-25 14:33:52");
        assert_eq!(DateTime::parse("2026-05-25T14:33:52"), Some(at));
        for bad in ["2026-05-25 24:00:00", "2026-05-25 14:33", "2026-05-25 14-33-52", "2026-02-30 00:00:00"] {
            assert_eq!(DateTime::parse(bad), None, "{bad}");
        }
        assert_eq!(DateTime::parse("1970-01-02 00:00:01").unwrap().seconds(), 86_401);
    }

    #[test]
    fn conditions_json_shape() {
        let json = serde_json::to_value(Conditions { lookup: Some(Lookup::EntryId("610120260123456789".into())), ..conditions() }).unwrap();
        assert_eq!(json["types"], "both");
        assert_eq!(json["role"], "C");
        assert_eq!(json["lookup"]["by"], "entry_id");
        assert_eq!(json["range"]["first"], "2023-05-25");
    }
}
