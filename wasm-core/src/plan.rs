//! The planner: a task's conditions become stages and query windows the portal accepts.
//!
//! * A **period** is a calendar month of the task's range ([`crate::period`]): the unit users
//!   reconcile.
//! * A **stage** (阶段) is one period × one direction, the unit the log reports
//!   (`>>> 准备处理时间段: 2026-01-01 至 2026-01-31 [进口]`).
//! * A **window** is one portal query family ([`Stream`]: direction × type × status side) over a
//!   span of days inside one period, no longer than the portal's maximum span. Its pages are
//!   fetched with offset paging.
//!
//! The plan adapts while the task runs ([`SpanLimit`]): a span the portal refuses teaches the
//! real limit (read from its message when it says one, else halved) and the window is cut
//! again; a window holding more rows than paging can reach is halved; both down to a single
//! day. What was learned holds for the rest of the task.

use serde::{Deserialize, Serialize};

use crate::calendar::Date;
use crate::period::{periods, DateRange, Period};
use crate::task::{Conditions, Direction, Stream};

/// One portal query family over a span of days within one period.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    /// `2026-01`; for a single lookup, the period of the task's first day (the declaration's
    /// own month is known only once it is found).
    pub period: String,
    pub stream: Stream,
    pub span: DateRange,
    /// A single lookup (统一编号 / 报关单号 / 提运单号) ignores the span.
    #[serde(default)]
    pub lookup: bool,
}

impl Window {
    /// Stable key: `2026-01|I0C|2026-01-01|2026-01-07` (or `…|lookup`).
    pub fn key(&self) -> String {
        let base = format!("{}|{}|{}|{}", self.period, self.stream.key(), self.span.first, self.span.last);
        if self.lookup {
            format!("{base}|lookup")
        } else {
            base
        }
    }

    /// Whether the window can still be cut (it spans more than one day).
    pub fn splittable(&self) -> bool {
        !self.lookup && self.span.days() > 1
    }

    /// The window cut into pieces of at most `max_days` (one piece if it already fits).
    pub fn split(&self, max_days: u32) -> Vec<Window> {
        if self.lookup {
            return vec![self.clone()];
        }
        spans(self.span, max_days).into_iter().map(|span| Window { span, ..self.clone() }).collect()
    }

    /// The window cut in two halves (for a window with more rows than paging reaches).
    pub fn halves(&self) -> Vec<Window> {
        let days = self.span.days();
        if !self.splittable() {
            return vec![self.clone()];
        }
        let mid = self.span.first.add_days(days / 2 - 1);
        vec![
            Window { span: DateRange { first: self.span.first, last: mid }, ..self.clone() },
            Window { span: DateRange { first: mid.add_days(1), last: self.span.last }, ..self.clone() },
        ]
    }
}

/// One period × one direction: what the log calls a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub period: Period,
    pub direction: Direction,
    pub windows: Vec<Window>,
}

/// The longest span the portal accepts, as learned so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanLimit {
    pub max_days: u32,
}

impl SpanLimit {
    /// The public evidence says 7 days (portal-api.md §2); some deployments accept 90. Start
    /// with the whole month and learn from the first refusal: one refused request per stream
    /// at most, then windows exactly as long as the portal allows.
    pub const OPTIMISTIC: SpanLimit = SpanLimit { max_days: 31 };

    /// What a refusal of a `refused_days`-day span teaches: the limit the portal names in its
    /// message (`查询时间跨度不能超过7天`), or else half the refused span; never below one day.
    pub fn learn(self, refused_days: i64, message: &str) -> SpanLimit {
        let said = stated_day_limit(message).filter(|&d| i64::from(d) < refused_days);
        let halved = u32::try_from((refused_days / 2).max(1)).unwrap_or(1);
        SpanLimit { max_days: said.unwrap_or(halved).min(self.max_days).max(1) }
    }
}

/// The number of days a portal message states as the limit ("不能超过7天", "大于90天").
pub fn stated_day_limit(message: &str) -> Option<u32> {
    let at = message.find('天')?;
    let digits: String = message[..at].chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect();
    digits.parse().ok().filter(|&d| d > 0)
}

/// Cuts `range` into consecutive spans of at most `max_days` days.
pub fn spans(range: DateRange, max_days: u32) -> Vec<DateRange> {
    let step = i64::from(max_days.max(1));
    let mut out = Vec::new();
    let mut first = range.first;
    while first <= range.last {
        let last = first.add_days(step - 1).min(range.last);
        out.push(DateRange { first, last });
        first = last.add_days(1);
    }
    out
}

/// The task's stages in the order they run: period by period, import before export.
pub fn plan(conditions: &Conditions, limit: SpanLimit) -> Vec<Stage> {
    let streams = conditions.streams();
    if conditions.lookup.is_some() {
        // One query per stream; the portal ignores the span for a lookup.
        let period = periods(conditions.range)[0];
        return conditions
            .directions()
            .into_iter()
            .map(|direction| Stage {
                period,
                direction,
                windows: streams
                    .iter()
                    .filter(|s| s.direction == direction)
                    .map(|&stream| Window { period: period.key(), stream, span: conditions.range, lookup: true })
                    .collect(),
            })
            .collect();
    }
    let mut stages = Vec::new();
    for period in periods(conditions.range) {
        for direction in conditions.directions() {
            let mut windows = Vec::new();
            for &stream in streams.iter().filter(|s| s.direction == direction) {
                for span in spans(period.span, limit.max_days) {
                    windows.push(Window { period: period.key(), stream, span, lookup: false });
                }
            }
            stages.push(Stage { period, direction, windows });
        }
    }
    stages
}

/// The period key (`2026-01`) of a day.
pub fn period_key(day: Date) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{DirectionChoice, Lookup, Role, StatusChoice, TypeChoice};
    use proptest::prelude::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn conditions(first: &str, last: &str) -> Conditions {
        Conditions {
            types: TypeChoice::Both,
            role: Role::Consignee,
            directions: DirectionChoice::Both,
            status: StatusChoice::Closed,
            lookup: None,
            range: DateRange { first: d(first), last: d(last) },
        }
    }

    #[test]
    fn a_month_in_seven_day_windows() {
        let stages = plan(&conditions("2026-01-01", "2026-01-31"), SpanLimit { max_days: 7 });
        assert_eq!(stages.len(), 2);
        assert_eq!(stages[0].direction, Direction::Import);
        // 2 types × 5 windows (1-7, 8-14, 15-21, 22-28, 29-31).
        assert_eq!(stages[0].windows.len(), 10);
        assert_eq!(stages[0].windows[4].span, DateRange { first: d("2026-01-29"), last: d("2026-01-31") });
        assert_eq!(stages[0].windows[0].key(), "2026-01|I0C|2026-01-01|2026-01-07");
    }

    #[test]
    fn across_years_every_window_stays_in_its_month() {
        let stages = plan(&conditions("2023-05-25", "2026-05-25"), SpanLimit::OPTIMISTIC);
        assert_eq!(stages.len(), 37 * 2);
        for stage in &stages {
            for w in &stage.windows {
                assert_eq!(period_key(w.span.first), w.period);
                assert_eq!(period_key(w.span.last), w.period);
            }
        }
    }

    #[test]
    fn learning_the_span_limit() {
        let limit = SpanLimit::OPTIMISTIC;
        assert_eq!(limit.learn(31, "查询时间跨度不能超过7天").max_days, 7);
        assert_eq!(limit.learn(31, "时间范围不可大于90天").max_days, 15, "a stated limit above the refused span is not believed");
        assert_eq!(limit.learn(31, "系统繁忙").max_days, 15);
        assert_eq!(SpanLimit { max_days: 2 }.learn(2, "").max_days, 1);
        assert_eq!(SpanLimit { max_days: 1 }.learn(1, "").max_days, 1);
        assert_eq!(stated_day_limit("不能超过7天"), Some(7));
        assert_eq!(stated_day_limit("不能超过0天"), None);
        assert_eq!(stated_day_limit("天"), None);
    }

    #[test]
    fn lookups_are_one_window_per_stream() {
        let mut c = conditions("2023-05-25", "2026-05-25");
        c.lookup = Some(Lookup::EntryId("610120260123456789".into()));
        let stages = plan(&c, SpanLimit { max_days: 7 });
        let windows: Vec<_> = stages.iter().flat_map(|s| &s.windows).collect();
        assert_eq!(windows.len(), 4);
        assert!(windows.iter().all(|w| w.lookup && !w.splittable()));
    }

    #[test]
    fn halving_down_to_a_day() {
        let w = Window {
            period: "2026-01".into(),
            stream: conditions("2026-01-01", "2026-01-01").streams()[0],
            span: DateRange { first: d("2026-01-01"), last: d("2026-01-07") },
            lookup: false,
        };
        let halves = w.halves();
        assert_eq!(halves[0].span, DateRange { first: d("2026-01-01"), last: d("2026-01-03") });
        assert_eq!(halves[1].span, DateRange { first: d("2026-01-04"), last: d("2026-01-07") });
        let day = Window { span: DateRange { first: d("2026-01-05"), last: d("2026-01-05") }, ..w };
        assert_eq!(day.halves(), vec![day.clone()]);
    }

    proptest! {
        /// Windows tile each period exactly per stream, none longer than the limit.
        #[test]
        fn windows_tile_every_stream(start in 19_000i64..21_000, len in 0i64..800, max in 1u32..40) {
            let range = DateRange { first: Date::from_day_number(start), last: Date::from_day_number(start + len) };
            let c = Conditions { range, ..conditions("2026-01-01", "2026-01-01") };
            let stages = plan(&c, SpanLimit { max_days: max });
            for stream in c.streams() {
                let mut days: Vec<DateRange> = stages.iter().flat_map(|s| &s.windows).filter(|w| w.stream == stream).map(|w| w.span).collect();
                days.sort_by_key(|s| s.first);
                prop_assert_eq!(days[0].first, range.first);
                prop_assert_eq!(days.last().unwrap().last, range.last);
                for pair in days.windows(2) {
                    prop_assert_eq!(pair[0].last.add_days(1), pair[1].first);
                }
                prop_assert!(days.iter().all(|s| s.days() <= i64::from(max)));
            }
        }

        #[test]
        fn a_learned_limit_is_at_least_one_and_never_grows(max in 1u32..100, refused in 1i64..100, n in 0u32..200) {
            let learned = SpanLimit { max_days: max }.learn(refused, &format!("不能超过{n}天"));
            prop_assert!(learned.max_days >= 1 && learned.max_days <= max);
        }
    }
}
