//! Periods: the calendar months users see and reconcile.
//!
//! A task covers a [`DateRange`] (say 2023-05-25 – 2026-05-25, "过去3年"). DataLink cuts it into
//! calendar-month [`Period`]s, clipped to the range at both ends, because a month is the unit
//! the user checks: each period gets its own 查询数 / 命中数 / 核销数 in the task's detail view,
//! and the trade value certificate asks for whole reconciled months. Query windows (the spans
//! the portal accepts) are cut from periods, never across them, so every window belongs to
//! exactly one month.

use serde::{Deserialize, Serialize};

use crate::calendar::Date;

/// An inclusive range of days, `first <= last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DateRange {
    pub first: Date,
    pub last: Date,
}

/// Why a range was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("the range ends ({last}) before it starts ({first})")]
    Reversed { first: Date, last: Date },
}

impl DateRange {
    pub fn new(first: Date, last: Date) -> Result<DateRange, RangeError> {
        if last < first {
            return Err(RangeError::Reversed { first, last });
        }
        Ok(DateRange { first, last })
    }

    /// "过去N年": from the same day N years back to `today`, both inclusive (as the seed's form
    /// shows: 过去3年 on 2026-05-25 is 2023-05-25 – 2026-05-25).
    pub fn past_years(today: Date, years: i32) -> DateRange {
        DateRange { first: today.add_years(-years), last: today }
    }

    /// Number of days in the range, at least 1.
    pub fn days(self) -> i64 {
        self.first.days_until(self.last) + 1
    }

    pub fn contains(self, day: Date) -> bool {
        self.first <= day && day <= self.last
    }
}

/// One calendar month of a task, clipped to the task's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// `2026-01` style key: what users call the month.
    pub year: i32,
    pub month: u8,
    /// The days of this month that the task covers.
    pub span: DateRange,
}

impl Period {
    /// `"2026-01"`.
    pub fn key(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// The calendar months of `range`, in order, each clipped to the range. Never empty.
pub fn periods(range: DateRange) -> Vec<Period> {
    let mut out = Vec::new();
    let mut start = range.first;
    loop {
        let end = start.last_of_month().min(range.last);
        out.push(Period { year: start.year(), month: start.month(), span: DateRange { first: start, last: end } });
        if end >= range.last {
            return out;
        }
        start = end.add_days(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn three_years_as_in_the_seed_are_37_months() {
        let range = DateRange::past_years(d("2026-05-25"), 3);
        assert_eq!(range.first, d("2023-05-25"));
        let ps = periods(range);
        assert_eq!(ps.len(), 37);
        assert_eq!(ps[0].span, DateRange { first: d("2023-05-25"), last: d("2023-05-31") });
        assert_eq!(ps[1].key(), "2023-06");
        assert_eq!(ps[36].span, DateRange { first: d("2026-05-01"), last: d("2026-05-25") });
    }

    #[test]
    fn one_day_and_reversed_ranges() {
        let one = DateRange::new(d("2025-12-31"), d("2025-12-31")).unwrap();
        assert_eq!(periods(one).len(), 1);
        assert_eq!(one.days(), 1);
        assert!(DateRange::new(d("2026-01-02"), d("2026-01-01")).is_err());
    }

    proptest! {
        /// Periods tile the range exactly: in order, no gap, no overlap, one month each.
        #[test]
        fn periods_tile_the_range(start in 17_000i64..22_000, len in 0i64..2_000) {
            let range = DateRange::new(Date::from_day_number(start), Date::from_day_number(start + len)).unwrap();
            let ps = periods(range);
            prop_assert_eq!(ps.first().unwrap().span.first, range.first);
            prop_assert_eq!(ps.last().unwrap().span.last, range.last);
            for pair in ps.windows(2) {
                prop_assert_eq!(pair[0].span.last.add_days(1), pair[1].span.first);
            }
            for p in &ps {
                prop_assert_eq!((p.span.first.year(), p.span.first.month()), (p.year, p.month));
                prop_assert_eq!((p.span.last.year(), p.span.last.month()), (p.year, p.month));
            }
            prop_assert_eq!(ps.iter().map(|p| p.span.days()).sum::<i64>(), range.days());
        }
    }
}
