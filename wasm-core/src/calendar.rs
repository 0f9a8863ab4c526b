//! Civil dates without a time zone, as the portal and its users write them: `YYYY-MM-DD`.
//!
//! The portal filters by whole days (`updateTime` .. `updateTimeEnd`, both inclusive) and users
//! reconcile by calendar month, so a plain proleptic-Gregorian date is all the domain needs.
//! Day arithmetic goes through a day number (days since 1970-01-01), using Howard Hinnant's
//! `days_from_civil` algorithm, which is exact for every date this product will ever see.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar date (`2026-05-25`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// Why a date string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("not a date in the form YYYY-MM-DD: {0:?}")]
    Format(String),
    #[error("no such day: {0:?}")]
    NoSuchDay(String),
}

impl Date {
    /// The date, if the day exists (`2023-02-29` does not).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    pub fn year(self) -> i32 {
        self.year
    }
    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before).
    pub fn day_number(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date of a day number (the inverse of [`Date::day_number`]).
    pub fn from_day_number(n: i64) -> Date {
        let z = n + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    pub fn add_days(self, days: i64) -> Date {
        Date::from_day_number(self.day_number() + days)
    }

    /// Whole days from `self` to `other` (positive when `other` is later).
    pub fn days_until(self, other: Date) -> i64 {
        other.day_number() - self.day_number()
    }

    /// The first day of this date's month.
    pub fn first_of_month(self) -> Date {
        Date { day: 1, ..self }
    }

    /// The last day of this date's month.
    pub fn last_of_month(self) -> Date {
        Date { day: days_in_month(self.year, self.month), ..self }
    }

    /// The same day `years` years earlier or later; 29 February becomes 28 February in a
    /// common year (so "过去3年" from 2028-02-29 starts on 2025-02-28).
    pub fn add_years(self, years: i32) -> Date {
        let year = self.year + years;
        let day = self.day.min(days_in_month(year, self.month));
        Date { year, month: self.month, day }
    }

    /// Monday = 1 … Sunday = 7 (ISO 8601).
    pub fn iso_weekday(self) -> u8 {
        // 1970-01-01 was a Thursday (4).
        ((self.day_number() + 3).rem_euclid(7) + 1) as u8
    }
}

/// Whether `year` has a 29 February.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// 28 to 31.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = DateError;

    /// Accepts exactly `YYYY-MM-DD`, the form of the portal's date fields and of `<input type=date>`.
    fn from_str(s: &str) -> Result<Date, DateError> {
        let bytes = s.as_bytes();
        let well_formed = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes.iter().enumerate().all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !well_formed {
            return Err(DateError::Format(s.to_owned()));
        }
        let number = |range: std::ops::Range<usize>| -> u32 {
            s[range].bytes().fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
        };
        let (year, month, day) = (number(0..4) as i32, number(5..7) as u8, number(8..10) as u8);
        Date::new(year, month, day).ok_or_else(|| DateError::NoSuchDay(s.to_owned()))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints_the_portal_form() {
        let d: Date = "2026-05-25".parse().unwrap();
        assert_eq!((d.year(), d.month(), d.day()), (2026, 5, 25));
        assert_eq!(d.to_string(), "2026-05-25");
    }

    #[test]
    fn refuses_malformed_and_impossible_dates() {
        for bad in ["2026-5-25", "2026/05/25", "20260525", "2026-05-2x", "", "２０２６-05-25"] {
            assert!(matches!(bad.parse::<Date>(), Err(DateError::Format(_))), "{bad}");
        }
        for bad in ["2023-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-01-00"] {
            assert!(matches!(bad.parse::<Date>(), Err(DateError::NoSuchDay(_))), "{bad}");
        }
        assert!("2024-02-29".parse::<Date>().is_ok());
    }

    #[test]
    fn day_numbers_match_known_days() {
        assert_eq!(Date::new(1970, 1, 1).unwrap().day_number(), 0);
        assert_eq!(Date::new(2000, 3, 1).unwrap().day_number(), 11_017);
        assert_eq!(Date::new(2026, 11, 25).unwrap().iso_weekday(), 3); // a Wednesday
        assert_eq!(Date::new(2025, 1, 15).unwrap().iso_weekday(), 3);
    }

    #[test]
    fn year_steps_clamp_leap_day() {
        let leap = Date::new(2028, 2, 29).unwrap();
        assert_eq!(leap.add_years(-3), Date::new(2025, 2, 28).unwrap());
        assert_eq!(Date::new(2026, 5, 25).unwrap().add_years(-3).to_string(), "2023-05-25");
    }

    proptest! {
        #[test]
        fn day_number_round_trips(n in -800_000i64..800_000) {
            let d = Date::from_day_number(n);
            prop_assert_eq!(d.day_number(), n);
            prop_assert_eq!(d.to_string().parse::<Date>().ok(), Some(d).filter(|d| (0..=9999).contains(&d.year())));
            prop_assert_eq!(d.add_days(1).day_number(), n + 1);
        }
    }
}
