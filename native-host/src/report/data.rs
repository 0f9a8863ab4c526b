//! The rate tables and the holiday calendar a certificate rests on: the ones shipped with the
//! host (`native-host/data/*.csv`, embedded by `datalink_core`), with the user's imports
//! (`datalink-host rates import FILE.csv`, kept in the store's `data_file` table) laid over them.
//!
//! An import is one CSV file; its header says what it is:
//!
//! | header | file | merged as |
//! |---|---|---|
//! | `month,currency,rmb_per_unit,rate_date,source` | customs 计征汇率 | a row replaces the shipped row of the same month and currency |
//! | `month,currency,usd_per_unit,source` | SAFE 折美元率 | likewise |
//! | `date,kind,name,source` | holiday calendar | a row replaces the shipped row of the same date |
//!
//! A new import of the same kind replaces the previous import (not the shipped data), so a
//! user can always go back by importing a corrected file.

use datalink_core::holidays::{self, HolidayCalendar};
use datalink_core::rates::{self, RateBook};

use super::{ReportError, Result};
use crate::store::Store;

/// What an imported file is, by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    CustomsRates,
    SafeRates,
    Holidays,
}

impl DataKind {
    /// The name it is stored under.
    pub fn name(self) -> &'static str {
        match self {
            DataKind::CustomsRates => "rates-customs",
            DataKind::SafeRates => "rates-safe-usd",
            DataKind::Holidays => "holidays-cn",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DataKind::CustomsRates => "海关计征汇率表",
            DataKind::SafeRates => "外汇局各种货币对美元折算率表",
            DataKind::Holidays => "节假日安排表",
        }
    }

    /// Recognizes a file by its first line (a UTF-8 BOM and spaces around names are allowed).
    pub fn of(text: &str) -> Option<DataKind> {
        let header: String = text.trim_start_matches('\u{feff}').lines().next()?.split(',').map(str::trim).collect::<Vec<_>>().join(",");
        [
            (rates::CUSTOMS_HEADER, DataKind::CustomsRates),
            (rates::SAFE_HEADER, DataKind::SafeRates),
            (holidays::HEADER, DataKind::Holidays),
        ]
        .into_iter()
        .find(|(h, _)| header == *h)
        .map(|(_, kind)| kind)
    }

    /// Parses `text` as this kind; answers the number of rows.
    pub fn check(self, text: &str) -> Result<usize> {
        let text = text.trim_start_matches('\u{feff}');
        let bad = |e: String| ReportError::DataFile(e);
        match self {
            DataKind::CustomsRates => RateBook::parse_customs(text).map(|b| b.customs_rates().count()).map_err(|e| bad(e.to_string())),
            DataKind::SafeRates => RateBook::parse_safe(text).map(|b| b.usd_rates().count()).map_err(|e| bad(e.to_string())),
            DataKind::Holidays => HolidayCalendar::parse(text).map(|c| c.days().count()).map_err(|e| bad(e.to_string())),
        }
    }
}

/// The shipped tables with the store's imports over them.
pub fn load(store: &Store) -> Result<(RateBook, HolidayCalendar)> {
    let mut book = RateBook::shipped();
    let mut calendar = HolidayCalendar::shipped();
    for (name, content) in store.data_files()? {
        let content = content.trim_start_matches('\u{feff}');
        let corrupt = |e: String| ReportError::DataFile(format!("已导入的{name}无法读取：{e}"));
        match name.as_str() {
            n if n == DataKind::CustomsRates.name() => book.merge(&RateBook::parse_customs(content).map_err(|e| corrupt(e.to_string()))?),
            n if n == DataKind::SafeRates.name() => book.merge(&RateBook::parse_safe(content).map_err(|e| corrupt(e.to_string()))?),
            n if n == DataKind::Holidays.name() => calendar.merge(&HolidayCalendar::parse(content).map_err(|e| corrupt(e.to_string()))?),
            _ => {}
        }
    }
    Ok((book, calendar))
}

/// Imports a file (kind from its header) into the store; answers its kind and row count.
pub fn import(store: &mut Store, text: &str, now: &str) -> Result<(DataKind, usize)> {
    let kind = DataKind::of(text).ok_or_else(|| {
        ReportError::DataFile(format!(
            "无法识别的表头；应为以下之一：{} / {} / {}",
            rates::CUSTOMS_HEADER,
            rates::SAFE_HEADER,
            holidays::HEADER
        ))
    })?;
    let rows = kind.check(text)?;
    store.import_data_file(kind.name(), text.trim_start_matches('\u{feff}'), rows, now)?;
    Ok((kind, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datalink_core::month::YearMonth;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("d.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn a_file_is_recognized_by_its_header() {
        assert_eq!(DataKind::of("\u{feff}month, currency,rmb_per_unit,rate_date,source\n"), Some(DataKind::CustomsRates));
        assert_eq!(DataKind::of("month,currency,usd_per_unit,source"), Some(DataKind::SafeRates));
        assert_eq!(DataKind::of("date,kind,name,source\n2030-01-01,statutory,元旦,x"), Some(DataKind::Holidays));
        assert_eq!(DataKind::of("a,b,c"), None);
        assert_eq!(DataKind::of(""), None);
    }

    #[test]
    fn an_imported_rate_replaces_the_shipped_one_and_a_bad_file_changes_nothing() {
        let (_dir, mut store) = store();
        let month = YearMonth::new(2025, 3).unwrap();
        let shipped = load(&store).unwrap().0.customs(month, "USD").unwrap();
        let file = "month,currency,rmb_per_unit,rate_date,source\n2025-03,USD,7.1234,2025-02-19,https://www.customs.gov.cn/example\n";
        assert_eq!(import(&mut store, file, "2026-11-25 10:00:00").unwrap(), (DataKind::CustomsRates, 1));
        let imported = load(&store).unwrap().0.customs(month, "USD").unwrap();
        assert_ne!(imported, shipped);
        assert_eq!(imported.rmb_per_unit.to_string(), "7.1234");
        assert!(imported.is_official());

        let broken = "month,currency,rmb_per_unit,rate_date,source\n2025-03,USD,seven,2025-02-19,x\n";
        let error = import(&mut store, broken, "2026-11-25 11:00:00").unwrap_err();
        assert!(matches!(error, ReportError::DataFile(ref m) if m.contains('2')), "{error:?}");
        assert_eq!(load(&store).unwrap().0.customs(month, "USD").unwrap(), imported, "the previous import stays");
    }

    #[test]
    fn an_imported_holiday_year_extends_the_calendar() {
        let (_dir, mut store) = store();
        assert!(!load(&store).unwrap().1.covers(2031));
        // A year counts as covered only with a statutory day of every festival.
        let mut file = String::from("date,kind,name,source\n");
        for (date, name) in [
            ("2031-01-01", "元旦"),
            ("2031-01-23", "春节"),
            ("2031-04-05", "清明节"),
            ("2031-05-01", "劳动节"),
            ("2031-06-24", "端午节"),
            ("2031-10-02", "国庆节"),
            ("2031-10-01", "中秋节"),
        ] {
            file += &format!("{date},statutory,{name},国务院办公厅关于2031年部分节假日安排的通知\n");
        }
        let (kind, rows) = import(&mut store, &file, "2026-11-25 10:00:00").unwrap();
        assert_eq!(kind, DataKind::Holidays);
        assert!(rows >= 6, "{rows}");
        let calendar = load(&store).unwrap().1;
        assert!(calendar.is_statutory("2031-01-01".parse().unwrap()).unwrap());
        assert!(calendar.covers(2024), "the shipped years stay");
    }
}
