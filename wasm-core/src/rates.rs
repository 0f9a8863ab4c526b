//! Exchange rates for the trade value certificate: which day's rate customs uses for a month,
//! and the two rate tables (customs 计征汇率 to RMB, SAFE 折美元率 to USD) as data.
//!
//! ## Which day: the customs rule, as a function of the month
//!
//! Customs converts a declaration's foreign-currency value to RMB at the **计征汇率 of the month
//! it is declared in**, which is set from a day of the **previous** month (January's from
//! December of the previous year). The rule changed on 2024-12-01:
//!
//! * **Order 124** (《海关进出口货物征税管理办法》2005, 第十六条), used for months up to
//!   2024-11: the rate of the previous month's **third Wednesday**; when that Wednesday is a
//!   法定节假日, the **fourth Wednesday**. 海关总署公告2015年第5号 defines 法定节假日 as the days of
//!   《全国年节及纪念日放假办法》第二条 only, "不含调休日" — so a Wednesday that is merely a 调休 day
//!   off (2015-02-18, 除夕 before 2025) still counts.
//! * **Order 272** (same title, 2024, in force 2024-12-01): the CFETS central parity of the
//!   previous month's **third Wednesday**; when that is not an interbank trading day, the
//!   **next trading day**. Trading days are Monday–Friday minus every day off of the State
//!   Council's arrangement; make-up weekend workdays are not trading days.
//!
//! The rule is chosen by the month the rate is **used in**: declarations of 2024-12 are the
//! first under Order 272, so their rate date (2024-11-20) is found with the new rule, and
//! 2024-11's (2024-10-16) with the old one ([`rule_for`], [`customs_rate_date`]). The holiday
//! questions go to [`HolidayCalendar`]; a month whose year it does not cover is an error.
//!
//! ## The tables, as data
//!
//! DataLink has no network at run time, so rates are CSV files shipped in `native-host/data/`
//! and embedded here, which a user may extend or correct with an import ([`RateBook::merge`]):
//!
//! ```text
//! rates-customs.csv   month,currency,rmb_per_unit,rate_date,source
//!                     2025-03,USD,7.1500,2025-02-19,https://…
//! rates-safe-usd.csv  month,currency,usd_per_unit,source
//!                     2025-03,CNY,0.1399,https://…
//! ```
//!
//! * `month` is the month the rate is **used in**; `currency` the ISO code (a customs code such
//!   as `502` is accepted and stored as `USD`).
//! * Rates are **per 1 unit** of the currency, as exact decimal text. Customs and CFETS quote
//!   JPY and KRW per 100 units (`100日元 = 4.7512元`): divide by 100 when importing
//!   (`0.047512`).
//! * `source` says where the number comes from (a URL). A row whose source is empty or starts
//!   with `unofficial` is an approximation: the certificate uses it but flags it
//!   ([`CustomsRate::is_official`]) and warns in its footnotes. The shipped 2023–2026 rows are
//!   all such approximations (no published table was available offline); import the official
//!   tables to replace them.
//! * CNY → RMB is exactly 1 and USD → USD is exactly 1: they need no row. The SAFE table needs a
//!   CNY row, to convert RMB-denominated declarations to USD.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calendar::Date;
use crate::csv_text;
use crate::currency;
use crate::holidays::{HolidayCalendar, HolidayError};
use crate::money::parse_rate;
use crate::month::YearMonth;

/// The shipped customs rate table.
pub const SHIPPED_CUSTOMS_CSV: &str = include_str!("../../native-host/data/rates-customs.csv");
/// The shipped SAFE USD table.
pub const SHIPPED_SAFE_CSV: &str = include_str!("../../native-host/data/rates-safe-usd.csv");

/// Header of the customs table.
pub const CUSTOMS_HEADER: &str = "month,currency,rmb_per_unit,rate_date,source";
/// Header of the SAFE table.
pub const SAFE_HEADER: &str = "month,currency,usd_per_unit,source";

/// The `source` of the built-in exact rates (CNY → RMB, USD → USD).
pub const IDENTITY_SOURCE: &str = "identity: 同一币种，按 1 计";

/// Which customs regulation sets a month's rate date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RateRule {
    /// 海关总署令第124号 第十六条: third Wednesday, or the fourth when the third is statutory.
    Order124,
    /// 海关总署令第272号: third Wednesday, or the next interbank trading day.
    Order272,
}

/// The first month whose rate follows Order 272 (in force 2024-12-01).
pub const NEW_RULE_FROM: YearMonth = YearMonth::from_const(2024, 12);

/// The rule for the rate **used in** `month`.
pub fn rule_for(month: YearMonth) -> RateRule {
    if month >= NEW_RULE_FROM {
        RateRule::Order272
    } else {
        RateRule::Order124
    }
}

/// The day whose rate customs applies to declarations of `month`, by the rule in force for
/// `month`.
pub fn customs_rate_date(month: YearMonth, calendar: &HolidayCalendar) -> Result<Date, HolidayError> {
    match rule_for(month) {
        RateRule::Order124 => order124_rate_date(month, calendar),
        RateRule::Order272 => order272_rate_date(month, calendar),
    }
}

/// The old rule for the rate used in `month`: the previous month's third Wednesday, or its
/// fourth when the third is a statutory holiday (调休 days do not count).
pub fn order124_rate_date(month: YearMonth, calendar: &HolidayCalendar) -> Result<Date, HolidayError> {
    let previous = month.prev();
    let third = wednesday(previous, 3);
    if calendar.is_statutory(third)? {
        Ok(wednesday(previous, 4))
    } else {
        Ok(third)
    }
}

/// The new rule for the rate used in `month`: the previous month's third Wednesday, or the next
/// interbank trading day.
pub fn order272_rate_date(month: YearMonth, calendar: &HolidayCalendar) -> Result<Date, HolidayError> {
    let mut day = wednesday(month.prev(), 3);
    // Terminates: either a trading day comes, or the walk leaves the covered years (an error).
    while !calendar.is_trading_day(day)? {
        day = day.add_days(1);
    }
    Ok(day)
}

/// The n-th Wednesday (n ≤ 4 always exists).
fn wednesday(month: YearMonth, n: u8) -> Date {
    // The first Wednesday is day 1–7, so the fourth is day 22–28: always in the month.
    month.nth_weekday(3, n).unwrap_or_else(|| month.first_day().add_days(7 * i64::from(n - 1)))
}

/// Which table a rate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RateTable {
    /// Customs 计征汇率 (RMB per unit).
    Customs,
    /// SAFE 各种货币对美元折算率 (USD per unit).
    Safe,
}

impl fmt::Display for RateTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RateTable::Customs => "海关计征汇率",
            RateTable::Safe => "外汇局折美元汇率",
        })
    }
}

/// One customs rate: RMB per 1 unit of `currency`, used in `month`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomsRate {
    pub month: YearMonth,
    /// ISO code.
    pub currency: String,
    #[serde(with = "crate::money::decimal_text")]
    pub rmb_per_unit: Decimal,
    /// The day the rate was published for (by the month's rule), if the table says.
    pub rate_date: Option<Date>,
    pub source: String,
}

/// One SAFE rate: USD per 1 unit of `currency`, used in `month`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsdRate {
    pub month: YearMonth,
    /// ISO code.
    pub currency: String,
    #[serde(with = "crate::money::decimal_text")]
    pub usd_per_unit: Decimal,
    pub source: String,
}

/// Whether a `source` names a published table (not empty, not `unofficial…`).
pub fn is_official_source(source: &str) -> bool {
    let source = source.trim();
    !source.is_empty() && !source.to_ascii_lowercase().starts_with("unofficial")
}

impl CustomsRate {
    /// False when the source is empty or starts with `unofficial`.
    pub fn is_official(&self) -> bool {
        is_official_source(&self.source)
    }
}

impl UsdRate {
    /// False when the source is empty or starts with `unofficial`.
    pub fn is_official(&self) -> bool {
        is_official_source(&self.source)
    }
}

/// Why a rate table was refused, or a rate is not there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("{table}表第 {line} 行有误：{message}")]
    Parse { table: RateTable, line: usize, message: String },
    #[error("缺少 {month} {currency} 的{table}，请先导入该月汇率")]
    Missing { month: YearMonth, currency: String, table: RateTable },
}

type Key = (YearMonth, String);

/// Both rate tables, keyed by (month, ISO currency).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateBook {
    customs: BTreeMap<Key, CustomsRate>,
    safe: BTreeMap<Key, UsdRate>,
}

impl RateBook {
    /// The tables shipped with DataLink. Their CSV is checked by the tests; should it ever fail
    /// to parse, the book is empty and every rate is `Missing`.
    pub fn shipped() -> RateBook {
        RateBook::parse(SHIPPED_CUSTOMS_CSV, SHIPPED_SAFE_CSV).unwrap_or_default()
    }

    /// Both tables from their CSV texts.
    pub fn parse(customs_csv: &str, safe_csv: &str) -> Result<RateBook, RateError> {
        let mut book = RateBook::parse_customs(customs_csv)?;
        book.safe = RateBook::parse_safe(safe_csv)?.safe;
        Ok(book)
    }

    /// A book holding only a customs table (for an import).
    pub fn parse_customs(text: &str) -> Result<RateBook, RateError> {
        let table = RateTable::Customs;
        let mut customs = BTreeMap::new();
        for (line, fields) in records(text, CUSTOMS_HEADER, table)? {
            let fail = |message: String| RateError::Parse { table, line, message };
            let [month, code, value, rate_date, source]: [String; 5] =
                fields.try_into().map_err(|f: Vec<String>| fail(format!("应有 5 列，实际 {} 列", f.len())))?;
            let (month, currency, rmb_per_unit) = row_key(&month, &code, &value, currency::CNY).map_err(fail)?;
            let rate_date = match rate_date.as_str() {
                "" => None,
                text => Some(text.parse::<Date>().map_err(|_| fail(format!("汇率日期无效：{text}")))?),
            };
            let rate = CustomsRate { month, currency: currency.clone(), rmb_per_unit, rate_date, source };
            if customs.insert((month, currency), rate).is_some() {
                return Err(fail(format!("{month} {code} 重复出现")));
            }
        }
        Ok(RateBook { customs, safe: BTreeMap::new() })
    }

    /// A book holding only a SAFE table (for an import).
    pub fn parse_safe(text: &str) -> Result<RateBook, RateError> {
        let table = RateTable::Safe;
        let mut safe = BTreeMap::new();
        for (line, fields) in records(text, SAFE_HEADER, table)? {
            let fail = |message: String| RateError::Parse { table, line, message };
            let [month, code, value, source]: [String; 4] =
                fields.try_into().map_err(|f: Vec<String>| fail(format!("应有 4 列，实际 {} 列", f.len())))?;
            let (month, currency, usd_per_unit) = row_key(&month, &code, &value, currency::USD).map_err(fail)?;
            let rate = UsdRate { month, currency: currency.clone(), usd_per_unit, source };
            if safe.insert((month, currency), rate).is_some() {
                return Err(fail(format!("{month} {code} 重复出现")));
            }
        }
        Ok(RateBook { customs: BTreeMap::new(), safe })
    }

    /// Lays `user` over this book: its rows replace rows of the same month and currency, in
    /// either table, and add the rest.
    pub fn merge(&mut self, user: &RateBook) {
        for (key, rate) in &user.customs {
            self.customs.insert(key.clone(), rate.clone());
        }
        for (key, rate) in &user.safe {
            self.safe.insert(key.clone(), rate.clone());
        }
    }

    /// The customs rate used in `month` for `currency` (ISO or customs code). CNY is exactly 1.
    pub fn customs(&self, month: YearMonth, currency: &str) -> Result<CustomsRate, RateError> {
        let iso = normalize(currency);
        if iso == currency::CNY {
            return Ok(CustomsRate {
                month,
                currency: iso,
                rmb_per_unit: Decimal::ONE,
                rate_date: None,
                source: IDENTITY_SOURCE.to_owned(),
            });
        }
        self.customs.get(&(month, iso.clone())).cloned().ok_or(RateError::Missing {
            month,
            currency: iso,
            table: RateTable::Customs,
        })
    }

    /// The SAFE rate (USD per unit) used in `month` for `currency`. USD is exactly 1.
    pub fn usd(&self, month: YearMonth, currency: &str) -> Result<UsdRate, RateError> {
        let iso = normalize(currency);
        if iso == currency::USD {
            return Ok(UsdRate {
                month,
                currency: iso,
                usd_per_unit: Decimal::ONE,
                source: IDENTITY_SOURCE.to_owned(),
            });
        }
        self.safe.get(&(month, iso.clone())).cloned().ok_or(RateError::Missing {
            month,
            currency: iso,
            table: RateTable::Safe,
        })
    }

    /// Every customs row, by month then currency.
    pub fn customs_rates(&self) -> impl Iterator<Item = &CustomsRate> {
        self.customs.values()
    }

    /// Every SAFE row, by month then currency.
    pub fn usd_rates(&self) -> impl Iterator<Item = &UsdRate> {
        self.safe.values()
    }

    /// Customs rows whose `rate_date` differs from what the month's rule gives:
    /// `(month, currency, by the rule, in the table)`. An empty list means the table agrees with
    /// the calendar.
    pub fn rate_date_mismatches(
        &self,
        calendar: &HolidayCalendar,
    ) -> Result<Vec<(YearMonth, String, Date, Date)>, HolidayError> {
        let mut out = Vec::new();
        for rate in self.customs.values() {
            if let Some(found) = rate.rate_date {
                let expected = customs_rate_date(rate.month, calendar)?;
                if expected != found {
                    out.push((rate.month, rate.currency.clone(), expected, found));
                }
            }
        }
        Ok(out)
    }
}

/// One table of `book` as CSV, in the shipped format (for export).
pub fn to_csv(book: &RateBook, table: RateTable) -> String {
    let mut out = String::new();
    match table {
        RateTable::Customs => {
            out.push_str(CUSTOMS_HEADER);
            out.push('\n');
            for r in book.customs.values() {
                let date = r.rate_date.map(|d| d.to_string()).unwrap_or_default();
                let fields = [
                    r.month.to_string(),
                    r.currency.clone(),
                    r.rmb_per_unit.to_string(),
                    date,
                    csv_text::field(&r.source),
                ];
                out.push_str(&fields.join(","));
                out.push('\n');
            }
        }
        RateTable::Safe => {
            out.push_str(SAFE_HEADER);
            out.push('\n');
            for r in book.safe.values() {
                let fields =
                    [r.month.to_string(), r.currency.clone(), r.usd_per_unit.to_string(), csv_text::field(&r.source)];
                out.push_str(&fields.join(","));
                out.push('\n');
            }
        }
    }
    out
}

/// The ISO code of `code` (catalog codes, customs codes, lower case), else `code` upper-cased.
fn normalize(code: &str) -> String {
    currency::lookup(code).map_or_else(|| code.trim().to_ascii_uppercase(), |c| c.iso.to_owned())
}

fn records(text: &str, header: &str, table: RateTable) -> Result<Vec<csv_text::Record>, RateError> {
    csv_text::records(text, header).map_err(|(line, message)| RateError::Parse { table, line, message })
}

/// Month, ISO currency and rate of one row; `identity` (CNY in the customs table, USD in the
/// SAFE one) is allowed only with the value 1.
fn row_key(month: &str, code: &str, value: &str, identity: &str) -> Result<(YearMonth, String, Decimal), String> {
    let month: YearMonth = month.parse().map_err(|_| format!("月份无效：{month}（应为 YYYY-MM）"))?;
    let iso = normalize(code);
    if iso.len() != 3 || !iso.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!("币制无效：{code}（应为 ISO 代码如 USD，或海关代码如 502）"));
    }
    let rate = parse_rate(value).map_err(|_| format!("汇率无效：{value}（应为大于 0 的小数，如 7.1100）"))?;
    if iso == identity && rate != Decimal::ONE {
        return Err(format!("{iso} 对自身的汇率只能是 1"));
    }
    Ok((month, iso, rate))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holidays::HEADER;

    fn ym(s: &str) -> YearMonth {
        s.parse().unwrap()
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn cal() -> HolidayCalendar {
        HolidayCalendar::parse(crate::holidays::SHIPPED_CSV).unwrap()
    }

    #[test]
    fn ordinary_months_use_the_third_wednesday() {
        let cal = cal();
        assert_eq!(customs_rate_date(ym("2023-03"), &cal).unwrap(), d("2023-02-15"));
        assert_eq!(customs_rate_date(ym("2024-03"), &cal).unwrap(), d("2024-02-21"));
        assert_eq!(customs_rate_date(ym("2025-10"), &cal).unwrap(), d("2025-09-17"));
        assert_eq!(customs_rate_date(ym("2026-07"), &cal).unwrap(), d("2026-06-17"));
    }

    #[test]
    fn january_uses_december_of_the_previous_year() {
        let cal = cal();
        assert_eq!(customs_rate_date(ym("2024-01"), &cal).unwrap(), d("2023-12-20"));
        assert_eq!(customs_rate_date(ym("2025-01"), &cal).unwrap(), d("2024-12-18"));
        assert_eq!(rule_for(ym("2025-01")), RateRule::Order272);
        // Rates for January 2015 would need December 2014: not covered, an error not a guess.
        assert_eq!(customs_rate_date(ym("2015-01"), &cal), Err(HolidayError::HolidayDataMissing { year: 2014 }));
    }

    #[test]
    fn the_2024_11_and_2024_12_boundary() {
        let cal = cal();
        assert_eq!(rule_for(ym("2024-11")), RateRule::Order124);
        assert_eq!(rule_for(ym("2024-12")), RateRule::Order272);
        assert_eq!(NEW_RULE_FROM, ym("2024-12"));
        assert_eq!(customs_rate_date(ym("2024-11"), &cal).unwrap(), d("2024-10-16"));
        assert_eq!(customs_rate_date(ym("2024-12"), &cal).unwrap(), d("2024-11-20"));
    }

    #[test]
    fn old_rule_moves_only_for_statutory_wednesdays() {
        let cal = cal();
        // 2026-02-18 (正月初二) is statutory: Order 124 would take the fourth Wednesday.
        assert!(cal.is_statutory(d("2026-02-18")).unwrap());
        assert_eq!(order124_rate_date(ym("2026-03"), &cal).unwrap(), d("2026-02-25"));
        // 2015-02-18 was 除夕, a 调休 day off but not statutory before 2025: the old rule keeps it.
        assert!(cal.is_off(d("2015-02-18")).unwrap() && !cal.is_statutory(d("2015-02-18")).unwrap());
        assert_eq!(customs_rate_date(ym("2015-03"), &cal).unwrap(), d("2015-02-18"));
        // Likewise 2018-02-21 and 2021-02-17 (正月初六, 调休).
        assert_eq!(customs_rate_date(ym("2018-03"), &cal).unwrap(), d("2018-02-21"));
        assert_eq!(customs_rate_date(ym("2021-03"), &cal).unwrap(), d("2021-02-17"));
        assert_eq!(rule_for(ym("2021-03")), RateRule::Order124);
    }

    #[test]
    fn new_rule_takes_the_next_trading_day() {
        let cal = cal();
        // 2026-02-18 is in the 2/15–23 break; 2/21–22 is a weekend; 2/24 trades.
        assert_eq!(customs_rate_date(ym("2026-03"), &cal).unwrap(), d("2026-02-24"));
        // The same date by the new rule for 2015: the 调休 day off is not a trading day either.
        assert_eq!(order272_rate_date(ym("2015-03"), &cal).unwrap(), d("2015-02-25"));
    }

    #[test]
    fn make_up_workdays_are_not_trading_days() {
        // A calendar where a third Wednesday is off through Friday and the Saturday after is a
        // make-up workday: the next trading day is the Monday, not the Saturday.
        let mut text = format!("{HEADER}\n");
        for (date, name) in [
            ("2030-01-01", "元旦"),
            ("2030-02-03", "春节"),
            ("2030-04-05", "清明节"),
            ("2030-05-01", "劳动节"),
            ("2030-06-05", "端午节"),
            ("2030-10-01", "国庆节"),
            ("2030-10-02", "国庆节"),
            ("2030-10-03", "国庆节"),
        ] {
            text.push_str(&format!("{date},statutory,{name},test\n"));
        }
        // September 2030: the third Wednesday is the 18th.
        text.push_str("2030-09-18,statutory,中秋节,test\n2030-09-19,off,中秋节,test\n2030-09-20,off,中秋节,test\n");
        text.push_str("2030-09-21,work,中秋节,test\n");
        let cal = HolidayCalendar::parse(&text).unwrap();
        assert!(cal.is_workday(d("2030-09-21")).unwrap());
        assert_eq!(customs_rate_date(ym("2030-10"), &cal).unwrap(), d("2030-09-23"));
        assert_eq!(order124_rate_date(ym("2030-10"), &cal).unwrap(), d("2030-09-25"));
    }

    #[test]
    fn shipped_tables_parse_cover_the_demo_and_agree_with_the_rule() {
        let book = RateBook::parse(SHIPPED_CUSTOMS_CSV, SHIPPED_SAFE_CSV).unwrap();
        assert_eq!(book, RateBook::shipped());
        let currencies = ["USD", "EUR", "JPY", "HKD", "GBP", "KRW", "AUD", "CHF", "SGD", "CAD"];
        let mut month = ym("2023-01");
        while month <= ym("2026-12") {
            for c in currencies {
                let customs = book.customs(month, c).unwrap();
                assert!(customs.rate_date.is_some(), "{month} {c}");
                assert!(book.usd(month, c).unwrap().usd_per_unit > Decimal::ZERO);
            }
            assert!(book.usd(month, "CNY").is_ok());
            month = month.next();
        }
        assert_eq!(book.customs_rates().count(), 480);
        assert_eq!(book.usd_rates().count(), 480);
        // Every shipped rate is an approximation, and says so.
        assert!(book.customs_rates().all(|r| !r.is_official()));
        assert!(book.usd_rates().all(|r| !r.is_official()));
        // The rate_date column is what the rule gives with the shipped calendar.
        assert_eq!(book.rate_date_mismatches(&cal()).unwrap(), vec![]);
    }

    #[test]
    fn identities_need_no_row() {
        let book = RateBook::default();
        let cny = book.customs(ym("2030-05"), "142").unwrap();
        assert_eq!((cny.rmb_per_unit, cny.is_official(), cny.currency.as_str()), (Decimal::ONE, true, "CNY"));
        assert_eq!(book.usd(ym("2030-05"), "502").unwrap().usd_per_unit, Decimal::ONE);
        assert_eq!(
            book.usd(ym("2030-05"), "CNY"),
            Err(RateError::Missing { month: ym("2030-05"), currency: "CNY".to_owned(), table: RateTable::Safe })
        );
    }

    #[test]
    fn missing_rate_names_month_currency_and_table() {
        let book = RateBook::shipped();
        let err = book.customs(ym("2022-06"), "300").unwrap_err();
        assert_eq!(
            err,
            RateError::Missing { month: ym("2022-06"), currency: "EUR".to_owned(), table: RateTable::Customs }
        );
        assert_eq!(err.to_string(), "缺少 2022-06 EUR 的海关计征汇率，请先导入该月汇率");
    }

    #[test]
    fn users_rows_override_and_are_official_when_sourced() {
        let mut book = RateBook::shipped();
        let user = RateBook::parse_customs(&format!(
            "{CUSTOMS_HEADER}\n2025-03,502,7.1712,2025-02-19,https://example.test/customs-2025-03\n2019-05,JPY,0.061234,,\n"
        ))
        .unwrap();
        book.merge(&user);
        let usd = book.customs(ym("2025-03"), "USD").unwrap();
        assert_eq!(usd.rmb_per_unit.to_string(), "7.1712");
        assert!(usd.is_official());
        let jpy = book.customs(ym("2019-05"), "JPY").unwrap();
        assert!(!jpy.is_official(), "an empty source is not official");
        // Other rows are untouched.
        assert_eq!(book.customs(ym("2025-04"), "USD").unwrap().rmb_per_unit.to_string(), "7.1500");
        // Export and parse again.
        let again = RateBook::parse(&to_csv(&book, RateTable::Customs), &to_csv(&book, RateTable::Safe)).unwrap();
        assert_eq!(again, book);
    }

    #[test]
    fn parse_errors_name_table_and_line() {
        let customs = |body: &str| RateBook::parse_customs(&format!("{CUSTOMS_HEADER}\n{body}\n")).unwrap_err();
        let at = |line: usize, message: &str| RateError::Parse {
            table: RateTable::Customs,
            line,
            message: message.to_owned(),
        };
        assert_eq!(customs("2025-13,USD,7.1,,s"), at(2, "月份无效：2025-13（应为 YYYY-MM）"));
        assert_eq!(customs("2025-03,US,7.1,,s"), at(2, "币制无效：US（应为 ISO 代码如 USD，或海关代码如 502）"));
        assert_eq!(customs("2025-03,USD,7.1.1,,s"), at(2, "汇率无效：7.1.1（应为大于 0 的小数，如 7.1100）"));
        assert_eq!(customs("2025-03,USD,-7.1,,s"), at(2, "汇率无效：-7.1（应为大于 0 的小数，如 7.1100）"));
        assert_eq!(customs("2025-03,USD,7.1,2025-02-30,s"), at(2, "汇率日期无效：2025-02-30"));
        assert_eq!(customs("2025-03,USD,7.1,,s,extra"), at(2, "应有 5 列，实际 6 列"));
        assert_eq!(customs("2025-03,CNY,7.1,,s"), at(2, "CNY 对自身的汇率只能是 1"));
        assert_eq!(customs("2025-03,USD,7.1,,s\n2025-03,502,7.2,,s"), at(3, "2025-03 502 重复出现"));
        let safe = RateBook::parse_safe("month,currency,rate\n").unwrap_err();
        assert_eq!(
            safe,
            RateError::Parse { table: RateTable::Safe, line: 1, message: format!("表头应为 {SAFE_HEADER}") }
        );
        assert_eq!(safe.to_string(), format!("外汇局折美元汇率表第 1 行有误：表头应为 {SAFE_HEADER}"));
        // The USD row of an official SAFE table (1 USD = 1 USD) is accepted.
        let ok = RateBook::parse_safe(&format!(
            "{SAFE_HEADER}\n2025-03,USD,1.0000,https://x\n2025-03,INR,0.0116,https://x\n"
        ))
        .unwrap();
        assert_eq!(ok.usd(ym("2025-03"), "INR").unwrap().usd_per_unit.to_string(), "0.0116");
    }
}
