//! China's public-holiday calendar, as data: which days are statutory holidays, which are other
//! days off, and which weekend days are make-up workdays.
//!
//! Two rules of the trade value certificate depend on it (see `rates`): the old customs rule
//! skips a third Wednesday only when it is a **statutory holiday**, and the new one moves to the
//! next **interbank trading day**. Neither can be computed — the lunar dates can, but each
//! year's arrangement is decided by the State Council — so the calendar is a table transcribed
//! from the notices, shipped as `native-host/data/holidays-cn.csv` and embedded here with
//! `include_str!`. Header and one row per special day:
//!
//! ```text
//! date,kind,name,source
//! 2026-02-17,statutory,春节,https://www.gov.cn/zhengce/content/202511/content_7047090.htm
//! 2026-02-20,off,春节,https://www.gov.cn/zhengce/content/202511/content_7047090.htm
//! 2026-02-14,work,春节,https://www.gov.cn/zhengce/content/202511/content_7047090.htm
//! ```
//!
//! * `statutory` — a day of 《全国年节及纪念日放假办法》第二条 (全体公民放假的节日): 元旦 1/1; 春节
//!   正月初一至初三 (from 2025, State Council decree No. 798: 除夕 too); 清明 (the solar term);
//!   劳动节 5/1 (from 2025: 5/1–2); 端午; 中秋; 国庆 10/1–3. This is exactly what 海关总署公告2015年
//!   第5号 calls 法定节假日 for the old rate rule ("不含调休日").
//! * `off` — the other days of the year's notice 国务院办公厅关于YYYY年部分节假日安排的通知 that are
//!   days off (调休 bridging days, and the weekend days the notice counts into a break), plus
//!   one-off days off decided separately (2015-09-03/04; the 2020 Spring Festival extension).
//! * `work` — weekend days declared working days (调休上班). Offices work; the interbank market
//!   does not trade on them, so they are **not** trading days.
//!
//! `source` is the notice's gov.cn address, or its title where the address is not known. The
//! data was transcribed for 2015–2026 and is cross-checked in the tests against the
//! `chinese_holiday` crate (an independent transcription) and against known dates.
//!
//! A year counts as [covered](HolidayCalendar::covers) only when its statutory rows name all
//! seven festivals; asking about any other year is [`HolidayError::HolidayDataMissing`], never a
//! guess. Users extend the calendar (next year's notice comes every November) with a file in
//! the same format: the host reads it, [`HolidayCalendar::parse`]s it and
//! [`merge`](HolidayCalendar::merge)s it over the shipped one (same date → the user's row).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::calendar::Date;
use crate::csv_text;

/// The shipped calendar's CSV text.
pub const SHIPPED_CSV: &str = include_str!("../../native-host/data/holidays-cn.csv");

/// The header every holiday CSV starts with.
pub const HEADER: &str = "date,kind,name,source";

/// The seven festivals of 第二条; a covered year has statutory days of each.
pub const FESTIVALS: [&str; 7] = ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"];

/// What a listed day is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DayKind {
    /// 法定节假日 of 放假办法第二条.
    Statutory,
    /// Another day off of the year's arrangement (调休 etc.).
    Off,
    /// A weekend day declared a working day (调休上班).
    Work,
}

impl DayKind {
    /// The CSV spelling.
    pub fn code(self) -> &'static str {
        match self {
            DayKind::Statutory => "statutory",
            DayKind::Off => "off",
            DayKind::Work => "work",
        }
    }

    pub fn from_code(code: &str) -> Option<DayKind> {
        match code {
            "statutory" => Some(DayKind::Statutory),
            "off" => Some(DayKind::Off),
            "work" => Some(DayKind::Work),
            _ => None,
        }
    }
}

/// One row of the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayDay {
    pub date: Date,
    pub kind: DayKind,
    /// The festival (`春节`, `国庆节、中秋节` …).
    pub name: String,
    /// The notice's URL or title.
    pub source: String,
}

/// Why holiday data was refused or could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HolidayError {
    #[error("节假日数据第 {line} 行有误：{message}")]
    Parse { line: usize, message: String },
    #[error("缺少 {year} 年的节假日安排数据，请先导入该年国务院办公厅的节假日安排")]
    HolidayDataMissing { year: i32 },
}

/// The calendar: the listed days, by date. Days not listed are ordinary (Monday–Friday working
/// days, Saturday and Sunday rest days).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayCalendar {
    days: BTreeMap<Date, HolidayDay>,
}

impl HolidayCalendar {
    /// The calendar shipped with DataLink (2015–2026). Its CSV is checked by the tests; should it
    /// ever fail to parse, the calendar is empty and every question is `HolidayDataMissing`.
    pub fn shipped() -> HolidayCalendar {
        HolidayCalendar::parse(SHIPPED_CSV).unwrap_or_default()
    }

    /// Parses a holiday CSV (see the module doc). Every problem names its line: a bad header,
    /// a wrong number of fields, a bad date, an unknown kind, an empty name or source, a `work`
    /// day that is not a weekend day, a date listed twice.
    pub fn parse(text: &str) -> Result<HolidayCalendar, HolidayError> {
        let records =
            csv_text::records(text, HEADER).map_err(|(line, message)| HolidayError::Parse { line, message })?;
        let mut days = BTreeMap::new();
        for (line, fields) in records {
            let fail = |message: String| HolidayError::Parse { line, message };
            let [date, kind, name, source]: [String; 4] =
                fields.try_into().map_err(|f: Vec<String>| fail(format!("应有 4 列，实际 {} 列", f.len())))?;
            let date: Date = date.parse().map_err(|_| fail(format!("日期无效：{date}")))?;
            let kind = DayKind::from_code(&kind)
                .ok_or_else(|| fail(format!("类型应为 statutory、off 或 work，实际为 {kind}")))?;
            if name.is_empty() {
                return Err(fail("节日名称为空".to_owned()));
            }
            if source.is_empty() {
                return Err(fail("来源为空（应为国务院办公厅通知的网址或标题）".to_owned()));
            }
            if kind == DayKind::Work && date.iso_weekday() < 6 {
                return Err(fail(format!("{date} 不是周末，不能是调休上班日")));
            }
            if days.insert(date, HolidayDay { date, kind, name, source }).is_some() {
                return Err(fail(format!("{date} 重复出现")));
            }
        }
        Ok(HolidayCalendar { days })
    }

    /// Lays `other` over this calendar: its rows replace rows of the same date, and add the rest.
    pub fn merge(&mut self, other: &HolidayCalendar) {
        for (date, day) in &other.days {
            self.days.insert(*date, day.clone());
        }
    }

    /// Every listed day, in date order.
    pub fn days(&self) -> impl Iterator<Item = &HolidayDay> {
        self.days.values()
    }

    /// The listed row of `date`, if any (no coverage check).
    pub fn get(&self, date: Date) -> Option<&HolidayDay> {
        self.days.get(&date)
    }

    /// Whether the data holds `year`'s arrangement: its statutory days name all seven festivals.
    pub fn covers(&self, year: i32) -> bool {
        let (Some(first), Some(last)) = (Date::new(year, 1, 1), Date::new(year, 12, 31)) else {
            return false;
        };
        let statutory: Vec<&str> = self
            .days
            .range(first..=last)
            .filter(|(_, d)| d.kind == DayKind::Statutory)
            .map(|(_, d)| d.name.as_str())
            .collect();
        FESTIVALS.iter().all(|festival| statutory.iter().any(|name| name.contains(festival)))
    }

    /// The covered years, ascending.
    pub fn covered_years(&self) -> Vec<i32> {
        let mut years: Vec<i32> = self.days.keys().map(|d| d.year()).collect();
        years.dedup();
        years.into_iter().filter(|y| self.covers(*y)).collect()
    }

    /// The listed kind of `date` (None: an ordinary day), or `HolidayDataMissing`.
    pub fn kind(&self, date: Date) -> Result<Option<DayKind>, HolidayError> {
        if !self.covers(date.year()) {
            return Err(HolidayError::HolidayDataMissing { year: date.year() });
        }
        Ok(self.days.get(&date).map(|d| d.kind))
    }

    /// A 法定节假日 of 放假办法第二条 (not a 调休 day).
    pub fn is_statutory(&self, date: Date) -> Result<bool, HolidayError> {
        Ok(self.kind(date)? == Some(DayKind::Statutory))
    }

    /// A listed day off: statutory, or another day off of the arrangement. (Ordinary weekends
    /// are rest days but not listed: see [`HolidayCalendar::is_workday`].)
    pub fn is_off(&self, date: Date) -> Result<bool, HolidayError> {
        Ok(matches!(self.kind(date)?, Some(DayKind::Statutory | DayKind::Off)))
    }

    /// An official working day: Monday–Friday not off, or a make-up weekend workday.
    pub fn is_workday(&self, date: Date) -> Result<bool, HolidayError> {
        Ok(match self.kind(date)? {
            Some(DayKind::Work) => true,
            Some(DayKind::Statutory | DayKind::Off) => false,
            None => date.iso_weekday() <= 5,
        })
    }

    /// An interbank FX (CFETS) trading day: Monday–Friday and not off. Make-up weekend workdays
    /// are not trading days.
    pub fn is_trading_day(&self, date: Date) -> Result<bool, HolidayError> {
        Ok(date.iso_weekday() <= 5 && !self.is_off(date)?)
    }

    /// The calendar as CSV, in the shipped format (for export, or to check a merge).
    pub fn to_csv(&self) -> String {
        let mut out = String::from(HEADER);
        out.push('\n');
        for d in self.days.values() {
            let fields =
                [d.date.to_string(), d.kind.code().to_owned(), csv_text::field(&d.name), csv_text::field(&d.source)];
            out.push_str(&fields.join(","));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn cal() -> HolidayCalendar {
        let cal = HolidayCalendar::parse(SHIPPED_CSV).unwrap();
        assert_eq!(cal, HolidayCalendar::shipped());
        cal
    }

    #[test]
    fn known_dates() {
        let cal = cal();
        // 2024-02-04 (Sunday) was a make-up workday: a workday, not a trading day.
        assert!(cal.is_workday(d("2024-02-04")).unwrap());
        assert!(!cal.is_trading_day(d("2024-02-04")).unwrap());
        // 2024-10-01..07 off, 1–3 statutory.
        for day in 1..=7 {
            let date = Date::new(2024, 10, day).unwrap();
            assert!(cal.is_off(date).unwrap(), "{date}");
            assert_eq!(cal.is_statutory(date).unwrap(), day <= 3, "{date}");
            assert!(!cal.is_trading_day(date).unwrap());
        }
        assert!(cal.is_trading_day(d("2024-10-08")).unwrap());
        assert!(cal.is_workday(d("2025-01-26")).unwrap());
        assert_eq!(cal.get(d("2025-01-26")).unwrap().kind, DayKind::Work);
        assert!(cal.is_workday(d("2026-02-14")).unwrap());
        assert!(!cal.is_trading_day(d("2026-02-14")).unwrap());
        // From 2025 除夕 and 5/2 are statutory (decree No. 798); before, 除夕 was only a day off.
        assert!(cal.is_statutory(d("2025-01-28")).unwrap()); // 除夕 2025
        assert!(cal.is_statutory(d("2026-02-16")).unwrap()); // 除夕 2026
        assert!(cal.is_statutory(d("2025-05-02")).unwrap());
        assert!(!cal.is_statutory(d("2024-02-09")).unwrap()); // 除夕 2024: not a listed day at all
        assert!(!cal.is_statutory(d("2015-02-18")).unwrap()); // 除夕 2015: a 调休 day off
        assert!(cal.is_off(d("2015-02-18")).unwrap());
        assert!(!cal.is_statutory(d("2024-05-02")).unwrap());
        assert!(cal.is_off(d("2024-05-02")).unwrap());
        // 2026 Spring Festival: 2/15–23 off, 初一–初三 = 2/17–19 and 除夕 2/16 statutory.
        assert!(cal.is_statutory(d("2026-02-18")).unwrap());
        assert!(cal.is_off(d("2026-02-23")).unwrap() && !cal.is_statutory(d("2026-02-23")).unwrap());
        assert!(cal.is_trading_day(d("2026-02-24")).unwrap());
        // An ordinary Saturday and an ordinary Wednesday.
        assert!(!cal.is_workday(d("2025-03-15")).unwrap());
        assert!(cal.is_trading_day(d("2025-03-19")).unwrap());
        // The 2020 extension (国办发明电〔2020〕1号) and the 2015 anniversary.
        assert!(cal.is_off(d("2020-01-31")).unwrap());
        assert!(cal.is_off(d("2015-09-03")).unwrap() && !cal.is_statutory(d("2015-09-03")).unwrap());
    }

    #[test]
    fn years_outside_the_data_are_an_error() {
        let cal = cal();
        assert_eq!(cal.covered_years(), (2015..=2026).collect::<Vec<_>>());
        assert_eq!(cal.is_trading_day(d("2027-01-06")), Err(HolidayError::HolidayDataMissing { year: 2027 }));
        assert_eq!(cal.is_statutory(d("2014-10-01")), Err(HolidayError::HolidayDataMissing { year: 2014 }));
        // A file that lists only part of a year does not make the year covered.
        let partial = HolidayCalendar::parse(&format!("{HEADER}\n2027-01-01,statutory,元旦,test\n")).unwrap();
        let mut merged = cal.clone();
        merged.merge(&partial);
        assert!(!merged.covers(2027));
    }

    #[test]
    fn every_row_is_valid_and_each_year_complete() {
        let cal = cal();
        let rows: Vec<&HolidayDay> = cal.days().collect();
        // Parse refuses duplicates, so the row count equals the line count.
        assert_eq!(rows.len(), SHIPPED_CSV.lines().skip(1).filter(|l| !l.trim().is_empty()).count());
        for year in 2015..=2026 {
            let statutory: Vec<&&HolidayDay> =
                rows.iter().filter(|r| r.date.year() == year && r.kind == DayKind::Statutory).collect();
            // 11 days under the 2013 decree (1+3+1+1+1+1+3), 13 from 2025; 中秋 on 10/1 (2020)
            // coincides with 国庆.
            let expected = match year {
                2020 => 10,
                2025.. => 13,
                _ => 11,
            };
            assert_eq!(statutory.len(), expected, "{year}");
            assert!(cal.covers(year), "{year}");
            let makeup = rows.iter().filter(|r| r.date.year() == year && r.kind == DayKind::Work).count();
            assert!((4..=8).contains(&makeup), "{year}: {makeup} make-up workdays");
        }
        for r in &rows {
            assert!(
                r.source.starts_with("http://www.gov.cn/")
                    || r.source.starts_with("https://www.gov.cn/")
                    || r.source.starts_with("国务院"),
                "{r:?}"
            );
        }
        // Every row's notice year is the row's year, or the next one for late-December 元旦 days.
        for r in rows.iter().filter(|r| r.date.month() == 12) {
            assert_eq!(r.name, "元旦", "{r:?}");
        }
    }

    #[test]
    fn agrees_with_the_chinese_holiday_crate() {
        // An independent transcription of the same notices (crates.io `chinese_holiday`, data to
        // 2026-12-25): every day's working / resting must agree.
        let cal = cal();
        let mut day = d("2015-01-01");
        let mut checked = 0;
        let mut disagree = Vec::new();
        while day <= d("2026-12-25") {
            let theirs = chinese_holiday::chinese_holiday((day.year() as u16, day.month(), day.day()));
            if cal.is_workday(day).unwrap() != theirs.is_workday() {
                disagree.push(day.to_string());
            }
            day = day.add_days(1);
            checked += 1;
        }
        assert_eq!(checked, 4377);
        // The only two differences are slips in the crate's table, contradicted by the notice it
        // quotes beside them (国办发明电〔2015〕18号: "10月8日（星期六）、10月9日（星期日）上班"; the 2017
        // notice: "元旦：1月1日放假，1月2日（星期一）补休" — Friday 2016-12-30 was an ordinary workday).
        assert_eq!(disagree, ["2016-10-09", "2016-12-30"]);
        assert!(cal.is_workday(d("2016-10-09")).unwrap() && cal.is_workday(d("2016-12-30")).unwrap());
    }

    #[test]
    fn parse_errors_name_the_line() {
        let bad = |body: &str| {
            HolidayCalendar::parse(&format!("{HEADER}\n2026-01-01,statutory,元旦,src\n{body}\n")).unwrap_err()
        };
        let line3 = |message: &str| HolidayError::Parse { line: 3, message: message.to_owned() };
        assert_eq!(bad("2026-02-30,off,春节,src"), line3("日期无效：2026-02-30"));
        assert_eq!(bad("2026-02-20,holiday,春节,src"), line3("类型应为 statutory、off 或 work，实际为 holiday"));
        assert_eq!(bad("2026-02-20,off,春节"), line3("应有 4 列，实际 3 列"));
        assert_eq!(bad("2026-02-20,off,,src"), line3("节日名称为空"));
        assert_eq!(bad("2026-02-20,off,春节,"), line3("来源为空（应为国务院办公厅通知的网址或标题）"));
        assert_eq!(bad("2026-02-20,work,春节,src"), line3("2026-02-20 不是周末，不能是调休上班日"));
        assert_eq!(bad("2026-01-01,off,元旦,src"), line3("2026-01-01 重复出现"));
        assert_eq!(
            HolidayCalendar::parse("date,kind\n").unwrap_err(),
            HolidayError::Parse { line: 1, message: format!("表头应为 {HEADER}") }
        );
        assert_eq!(bad("2026-02-30,off,春节,src").to_string(), "节假日数据第 3 行有误：日期无效：2026-02-30");
    }

    #[test]
    fn a_users_file_replaces_and_extends() {
        let mut cal = cal();
        let mut text = String::from(HEADER);
        text.push('\n');
        // A whole (fictional) 2027 arrangement, and one corrected 2026 day.
        for (date, name) in [
            ("2027-01-01", "元旦"),
            ("2027-02-05", "春节"),
            ("2027-02-06", "春节"),
            ("2027-02-07", "春节"),
            ("2027-02-08", "春节"),
            ("2027-04-05", "清明节"),
            ("2027-05-01", "劳动节"),
            ("2027-05-02", "劳动节"),
            ("2027-06-09", "端午节"),
            ("2027-09-15", "中秋节"),
            ("2027-10-01", "国庆节"),
            ("2027-10-02", "国庆节"),
            ("2027-10-03", "国庆节"),
        ] {
            text.push_str(&format!("{date},statutory,{name},\"user, file\"\n"));
        }
        text.push_str("2026-02-24,off,春节,user\n");
        let user = HolidayCalendar::parse(&text).unwrap();
        cal.merge(&user);
        assert!(cal.covers(2027));
        assert!(cal.is_statutory(d("2027-02-05")).unwrap());
        assert!(!cal.is_trading_day(d("2026-02-24")).unwrap());
        assert_eq!(cal.get(d("2027-01-01")).unwrap().source, "user, file");
        // Export and parse again: the same calendar.
        assert_eq!(HolidayCalendar::parse(&cal.to_csv()).unwrap(), cal);
    }
}
