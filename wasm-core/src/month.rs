//! Calendar months (`2024-12`), the unit of customs rates and of the trade value certificate.
//!
//! Customs publishes one 计征汇率 table per month, SAFE one 折美元率 table per month, and a
//! declaration belongs to the month of its 申报日期 (the sync period it was listed in). So the
//! certificate's arithmetic is keyed by [`YearMonth`], not by day. The type orders
//! chronologically (year, then month), prints as `YYYY-MM`, and parses `YYYY-MM` or the
//! portal's compact `YYYYMM` (the seed's report form shows `202301 - 202307`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::calendar::{days_in_month, Date};

/// A calendar month: `2024-12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u8,
}

/// Why a month string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MonthError {
    #[error("月份格式不正确（应为 YYYY-MM）：{0:?}")]
    Format(String),
}

impl YearMonth {
    /// The month, if `month` is 1–12 and the year has four digits.
    pub fn new(year: i32, month: u8) -> Option<YearMonth> {
        ((1..=12).contains(&month) && (0..=9999).contains(&year)).then_some(YearMonth { year, month })
    }

    /// A month written in the code: evaluated in a `const`, an invalid month does not compile.
    pub const fn from_const(year: i32, month: u8) -> YearMonth {
        assert!(month >= 1 && month <= 12 && year >= 0 && year <= 9999, "not a month");
        YearMonth { year, month }
    }

    /// The month a day belongs to.
    pub fn of(date: Date) -> YearMonth {
        YearMonth { year: date.year(), month: date.month() }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    pub fn first_day(self) -> Date {
        Date::from_day_number(self.day_number_of(1))
    }

    pub fn last_day(self) -> Date {
        Date::from_day_number(self.day_number_of(days_in_month(self.year, self.month)))
    }

    /// The month before (January → December of the previous year).
    pub fn prev(self) -> YearMonth {
        if self.month == 1 {
            YearMonth { year: self.year - 1, month: 12 }
        } else {
            YearMonth { year: self.year, month: self.month - 1 }
        }
    }

    /// The month after (December → January of the next year).
    pub fn next(self) -> YearMonth {
        if self.month == 12 {
            YearMonth { year: self.year + 1, month: 1 }
        } else {
            YearMonth { year: self.year, month: self.month + 1 }
        }
    }

    /// The `n`-th (1-based) day of this month with ISO weekday `iso_weekday` (Monday = 1 …
    /// Sunday = 7), if the month has one: the third Wednesday is `nth_weekday(3, 3)`.
    pub fn nth_weekday(self, iso_weekday: u8, n: u8) -> Option<Date> {
        if !(1..=7).contains(&iso_weekday) || n == 0 {
            return None;
        }
        let first = self.first_day();
        let offset = (i64::from(iso_weekday) - i64::from(first.iso_weekday())).rem_euclid(7);
        let day = first.add_days(offset + 7 * (i64::from(n) - 1));
        (YearMonth::of(day) == self).then_some(day)
    }

    /// `2025年3月`: how the certificate names a month.
    pub fn chinese(self) -> String {
        format!("{}年{}月", self.year, self.month)
    }

    fn day_number_of(self, day: u8) -> i64 {
        // Always valid: `day` is 1 or the month's length.
        Date::new(self.year, self.month, day).map_or(0, Date::day_number)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = MonthError;

    /// `2024-12` or `202412`.
    fn from_str(s: &str) -> Result<YearMonth, MonthError> {
        let digits: String = match s.as_bytes() {
            [_, _, _, _, b'-', _, _] => s.chars().filter(|c| *c != '-').collect(),
            [_, _, _, _, _, _] => s.to_owned(),
            _ => return Err(MonthError::Format(s.to_owned())),
        };
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MonthError::Format(s.to_owned()));
        }
        let year: i32 = digits[..4].parse().map_err(|_| MonthError::Format(s.to_owned()))?;
        let month: u8 = digits[4..].parse().map_err(|_| MonthError::Format(s.to_owned()))?;
        YearMonth::new(year, month).ok_or_else(|| MonthError::Format(s.to_owned()))
    }
}

impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<YearMonth, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ym(s: &str) -> YearMonth {
        s.parse().unwrap()
    }

    #[test]
    fn parses_both_forms_and_prints_one() {
        assert_eq!(ym("2024-12"), YearMonth::new(2024, 12).unwrap());
        assert_eq!(ym("202301").to_string(), "2023-01");
        for bad in ["2024-13", "2024-00", "2024-1", "24-12", "2024/12", "20241", "2024-1x", "２０２４-12", ""] {
            assert!(bad.parse::<YearMonth>().is_err(), "{bad}");
        }
    }

    #[test]
    fn steps_across_years() {
        assert_eq!(ym("2025-01").prev(), ym("2024-12"));
        assert_eq!(ym("2024-12").next(), ym("2025-01"));
        assert_eq!(ym("2024-02").last_day().to_string(), "2024-02-29");
        assert_eq!(ym("2023-02").last_day().to_string(), "2023-02-28");
        assert!(ym("2024-11") < ym("2024-12") && ym("2024-12") < ym("2025-01"));
    }

    #[test]
    fn third_wednesdays() {
        // Known calendars: November 2024 starts on a Friday, February 2026 on a Sunday.
        assert_eq!(ym("2024-11").nth_weekday(3, 3).unwrap().to_string(), "2024-11-20");
        assert_eq!(ym("2026-02").nth_weekday(3, 3).unwrap().to_string(), "2026-02-18");
        assert_eq!(ym("2026-02").nth_weekday(3, 4).unwrap().to_string(), "2026-02-25");
        assert_eq!(ym("2024-01").nth_weekday(3, 5).unwrap().to_string(), "2024-01-31");
        assert_eq!(ym("2024-02").nth_weekday(3, 5), None);
        assert_eq!(ym("2024-02").nth_weekday(8, 1), None);
    }

    #[test]
    fn serializes_as_text() {
        assert_eq!(serde_json::to_string(&ym("2025-03")).unwrap(), "\"2025-03\"");
        assert_eq!(serde_json::from_str::<YearMonth>("\"2025-03\"").unwrap(), ym("2025-03"));
        assert_eq!(ym("2025-03").chinese(), "2025年3月");
    }
}
