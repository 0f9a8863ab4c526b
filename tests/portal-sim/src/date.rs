//! Civil dates and wall-clock date-times, without a date library.
//!
//! The simulator only needs proleptic Gregorian calendar arithmetic: parse and
//! print `YYYY-MM-DD` (the query range), `YYYYMMDD` (the portal's `iEDate`) and
//! `YYYY-MM-DD HH:mm:ss` (`updateTime`, `indbTime`), add days, and find "today"
//! in China (UTC+8, no daylight saving). [`Date`] counts days since 1970-01-01
//! and converts with Howard Hinnant's `days_from_civil` / `civil_from_days`
//! algorithms, which are exact for every year the portal can hold.
//!
//! All times are naive China-local times: the portal prints them without a
//! zone, and the simulator never needs to convert them.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar day (proleptic Gregorian), stored as days since 1970-01-01.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Date {
    days: i64,
}

/// Why a date string was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateParseError(pub String);

impl fmt::Display for DateParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid date {:?}: expected YYYY-MM-DD", self.0)
    }
}

impl std::error::Error for DateParseError {}

/// Days in `month` (1-12) of `year`.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl Date {
    /// The day `year-month-day`, or `None` when it does not exist.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        // days_from_civil (Hinnant): shift the year to start in March.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(month);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Date {
            days: era * 146_097 + doe - 719_468,
        })
    }

    /// The day `days` after 1970-01-01 (negative: before).
    pub fn from_days_since_epoch(days: i64) -> Date {
        Date { days }
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(self) -> i64 {
        self.days
    }

    /// `(year, month, day)`.
    pub fn ymd(self) -> (i64, u32, u32) {
        // civil_from_days (Hinnant).
        let z = self.days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day)
    }

    /// The year.
    pub fn year(self) -> i64 {
        self.ymd().0
    }

    /// The month, 1-12.
    pub fn month(self) -> u32 {
        self.ymd().1
    }

    /// This date plus `n` days (`n` may be negative).
    pub fn add_days(self, n: i64) -> Date {
        Date {
            days: self.days + n,
        }
    }

    /// `other - self` in days.
    pub fn days_until(self, other: Date) -> i64 {
        other.days - self.days
    }

    /// Day of the week, 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        (self.days + 3).rem_euclid(7) as u32
    }

    /// The same day `years` years earlier (29 February becomes 28 February).
    pub fn minus_years(self, years: i64) -> Date {
        let (y, m, d) = self.ymd();
        let y = y - years;
        let d = d.min(days_in_month(y, m));
        Date::from_ymd(y, m, d).unwrap_or(self)
    }

    /// The first day of this date's month.
    pub fn first_of_month(self) -> Date {
        let (y, m, _) = self.ymd();
        Date::from_ymd(y, m, 1).unwrap_or(self)
    }

    /// The first day of the next month.
    pub fn first_of_next_month(self) -> Date {
        let (y, m, _) = self.ymd();
        let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        Date::from_ymd(y, m, 1).unwrap_or(self)
    }

    /// Parse `YYYY-MM-DD` (the query range format) or `YYYYMMDD`.
    pub fn parse(s: &str) -> Result<Date, DateParseError> {
        let err = || DateParseError(s.to_string());
        let t = s.trim();
        let (y, m, d) = match t.len() {
            10 if t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-' => {
                (&t[0..4], &t[5..7], &t[8..10])
            }
            8 => (&t[0..4], &t[4..6], &t[6..8]),
            _ => return Err(err()),
        };
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if !(all_digits(y) && all_digits(m) && all_digits(d)) {
            return Err(err());
        }
        let y: i64 = y.parse().map_err(|_| err())?;
        let m: u32 = m.parse().map_err(|_| err())?;
        let d: u32 = d.parse().map_err(|_| err())?;
        Date::from_ymd(y, m, d).ok_or_else(err)
    }

    /// `YYYYMMDD`, the format of the portal's `iEDate`.
    pub fn compact(self) -> String {
        let (y, m, d) = self.ymd();
        format!("{y:04}{m:02}{d:02}")
    }

    /// Today's date in China (UTC+8), from the system clock.
    pub fn today_china() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Date {
            days: (secs + 8 * 3600).div_euclid(86_400),
        }
    }

    /// This day at `hour:minute:second`.
    pub fn at(self, hour: u32, minute: u32, second: u32) -> DateTime {
        DateTime {
            secs: self.days * 86_400
                + i64::from(hour) * 3600
                + i64::from(minute) * 60
                + i64::from(second),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl std::str::FromStr for Date {
    type Err = DateParseError;
    fn from_str(s: &str) -> Result<Date, DateParseError> {
        Date::parse(s)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A naive China-local wall-clock time with one-second resolution.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct DateTime {
    secs: i64,
}

impl DateTime {
    /// Seconds since 1970-01-01 00:00:00 (local).
    pub fn from_secs(secs: i64) -> DateTime {
        DateTime { secs }
    }

    /// Seconds since 1970-01-01 00:00:00 (local).
    pub fn secs(self) -> i64 {
        self.secs
    }

    /// The calendar day.
    pub fn date(self) -> Date {
        Date {
            days: self.secs.div_euclid(86_400),
        }
    }

    /// This time plus `n` seconds.
    pub fn add_secs(self, n: i64) -> DateTime {
        DateTime {
            secs: self.secs + n,
        }
    }

    /// Parse `YYYY-MM-DD HH:mm:ss`.
    pub fn parse(s: &str) -> Result<DateTime, DateParseError> {
        let err = || DateParseError(s.to_string());
        let t = s.trim();
        if t.len() != 19 || t.as_bytes()[10] != b' ' {
            return Err(err());
        }
        let date = Date::parse(&t[..10])?;
        let parts: Vec<&str> = t[11..].split(':').collect();
        if parts.len() != 3 {
            return Err(err());
        }
        let num = |p: &str, max: u32| -> Result<u32, DateParseError> {
            let v: u32 = p.parse().map_err(|_| err())?;
            if p.len() == 2 && v <= max {
                Ok(v)
            } else {
                Err(err())
            }
        };
        Ok(date.at(num(parts[0], 23)?, num(parts[1], 59)?, num(parts[2], 59)?))
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = self.secs.rem_euclid(86_400);
        write!(
            f,
            "{} {:02}:{:02}:{:02}",
            self.date(),
            day / 3600,
            (day / 60) % 60,
            day % 60
        )
    }
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DateTime, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_round_trip() {
        let e = Date::from_ymd(1970, 1, 1).unwrap();
        assert_eq!(e.days_since_epoch(), 0);
        assert_eq!(e.weekday(), 3, "1970-01-01 was a Thursday");
        for days in -800_000..800_000i64 {
            if days % 997 != 0 {
                continue;
            }
            let d = Date::from_days_since_epoch(days);
            let (y, m, dd) = d.ymd();
            assert_eq!(Date::from_ymd(y, m, dd), Some(d));
        }
    }

    #[test]
    fn parse_and_format() {
        let d = Date::parse("2024-02-29").unwrap();
        assert_eq!(d.to_string(), "2024-02-29");
        assert_eq!(d.compact(), "20240229");
        assert_eq!(Date::parse("20240229").unwrap(), d);
        assert!(Date::parse("2023-02-29").is_err());
        assert!(Date::parse("2023-2-9").is_err());
        assert!(Date::parse("2023-13-01").is_err());
        assert!(Date::parse("２０２３-01-01").is_err());
        assert_eq!(d.minus_years(1).to_string(), "2023-02-28");
        assert_eq!(d.add_days(1).to_string(), "2024-03-01");
        assert_eq!(Date::parse("2026-05-25").unwrap().weekday(), 0);
    }

    #[test]
    fn months() {
        let d = Date::parse("2023-12-15").unwrap();
        assert_eq!(d.first_of_month().to_string(), "2023-12-01");
        assert_eq!(d.first_of_next_month().to_string(), "2024-01-01");
    }

    #[test]
    fn datetime_format_and_parse() {
        let t = Date::parse("2025-01-02").unwrap().at(9, 5, 7);
        assert_eq!(t.to_string(), "2025-01-02 09:05:07");
        assert_eq!(DateTime::parse("2025-01-02 09:05:07").unwrap(), t);
        assert_eq!(t.add_secs(86_400 - 1).to_string(), "2025-01-03 09:05:06");
        assert!(DateTime::parse("2025-01-02 24:00:00").is_err());
        assert!(DateTime::parse("2025-01-02T09:05:07").is_err());
    }
}
