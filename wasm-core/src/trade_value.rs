//! The trade value figures behind the certificate (进出口贸易额证明): per month, direction and
//! currency, then per direction and in total, in the original currencies, in RMB and in USD.
//!
//! Input: the closed declarations of the chosen months as [`DeclarationValue`]s (the host reads
//! them from its store: number, direction, the month of 申报日期, `updateTime`, and each goods
//! line's currency and `declTotal` text), a [`Range`] of months inside one calendar year, and the
//! [`RateBook`]. Output: a [`TradeValue`] that the certificate's words, its attachment tables and
//! the page's preview are all made from.
//!
//! Arithmetic (all exact, see `money`; rounding only when shown):
//!
//! * a line's currency is the portal's code (`502` or `USD`), mapped by the `currency` catalog;
//! * RMB = Σ amount × the customs rate of the declaration's month for that currency (CNY: × 1);
//! * USD = Σ amount × SAFE's USD-per-unit rate of that month for that currency (USD: × 1; CNY via
//!   SAFE's CNY row) — the seed's 《统计用各种外币对美元折算率表》;
//! * each rate used is listed with its source, and the ones not from a published table
//!   (`unofficial…` or no source) again in [`TradeValue::unofficial_rates`].
//!
//! Nothing is skipped silently: an unknown currency, an amount that does not parse, a missing
//! rate, a declaration listed twice or outside the range is an error naming the declaration (or
//! the month and currency). Everything is sorted, so the same input always gives the same output.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calendar::Date;
use crate::currency;
use crate::money::{Money, MoneyError};
use crate::month::YearMonth;
use crate::rates::{RateBook, RateError};
use crate::task::Direction;

/// One declaration's value, as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeclarationValue {
    /// 统一编号.
    pub cus_ciq_no: String,
    /// 海关编号 (报关单号), when known.
    pub entry_id: Option<String>,
    pub direction: Direction,
    /// The month of 申报日期 (also the sync period the declaration was listed in).
    pub month: YearMonth,
    /// The portal's `updateTime` of the stored version.
    pub update_time: String,
    /// Goods lines: (currency as stored — customs code or ISO, `declTotal` text).
    pub lines: Vec<(String, String)>,
}

/// The certificate's months, both inclusive, inside one calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Range {
    pub from: YearMonth,
    pub to: YearMonth,
}

impl Range {
    /// Refuses a reversed range and one that crosses a year (the report may not, per the seed).
    pub fn new(from: YearMonth, to: YearMonth) -> Result<Range, TradeValueError> {
        if to < from {
            return Err(TradeValueError::Reversed { from, to });
        }
        if from.year() != to.year() {
            return Err(TradeValueError::CrossYear { from, to });
        }
        Ok(Range { from, to })
    }

    pub fn contains(&self, month: YearMonth) -> bool {
        self.from <= month && month <= self.to
    }

    /// The months, in order.
    pub fn months(&self) -> Vec<YearMonth> {
        let mut out = vec![self.from];
        while let Some(last) = out.last().copied().filter(|m| *m < self.to) {
            out.push(last.next());
        }
        out
    }
}

/// Why the figures could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TradeValueError {
    #[error("时间范围不可跨年：{from} 至 {to}")]
    CrossYear { from: YearMonth, to: YearMonth },
    #[error("时间范围的结束月份 {to} 早于开始月份 {from}")]
    Reversed { from: YearMonth, to: YearMonth },
    #[error("报关单 {cus_ciq_no} 的申报月份 {month} 不在所选时间范围内")]
    OutsideRange { cus_ciq_no: String, month: YearMonth },
    #[error("报关单 {cus_ciq_no} 重复出现")]
    Duplicate { cus_ciq_no: String },
    #[error("报关单 {cus_ciq_no} 第 {line} 项商品的币制 {currency:?} 无法识别")]
    UnknownCurrency { cus_ciq_no: String, line: usize, currency: String },
    #[error("报关单 {cus_ciq_no} 第 {line} 项商品的金额 {amount:?} 无效：{reason}")]
    BadAmount { cus_ciq_no: String, line: usize, amount: String, reason: MoneyError },
    #[error(transparent)]
    Rate(#[from] RateError),
    #[error("金额超出可计算的范围")]
    Overflow,
}

impl From<MoneyError> for TradeValueError {
    fn from(_: MoneyError) -> TradeValueError {
        TradeValueError::Overflow
    }
}

/// One month × direction × currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeRow {
    pub month: YearMonth,
    pub direction: Direction,
    /// ISO code.
    pub currency: String,
    /// 美元, 欧元 …
    pub currency_name: String,
    /// Declarations with at least one line in this currency.
    pub declarations: u64,
    /// Σ amounts in the currency.
    pub original: Money,
    /// RMB per unit (customs).
    #[serde(with = "crate::money::decimal_text")]
    pub customs_rate: Decimal,
    pub rmb: Money,
    /// USD per unit (SAFE).
    #[serde(with = "crate::money::decimal_text")]
    pub usd_rate: Decimal,
    pub usd: Money,
}

/// One currency's total within a split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyTotal {
    pub currency: String,
    pub currency_name: String,
    pub declarations: u64,
    pub amount: Money,
    pub rmb: Money,
    pub usd: Money,
}

/// Imports, exports, or both.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Split {
    /// Distinct declarations.
    pub declarations: u64,
    /// Per currency, in the certificate's order: CNY, USD, then by RMB value (largest first).
    pub originals: Vec<CurrencyTotal>,
    pub rmb: Money,
    pub usd: Money,
}

/// A rate pair the figures used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateUsed {
    pub month: YearMonth,
    pub currency: String,
    pub currency_name: String,
    #[serde(with = "crate::money::decimal_text")]
    pub customs_rate: Decimal,
    pub rate_date: Option<Date>,
    pub customs_source: String,
    #[serde(with = "crate::money::decimal_text")]
    pub usd_rate: Decimal,
    pub usd_source: String,
    /// Both rates come from published tables.
    pub official: bool,
}

/// The figures of one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeValue {
    pub range: Range,
    /// By month, direction (进口 first), currency (CNY, USD, then the catalog's order).
    pub rows: Vec<TradeRow>,
    pub total: Split,
    pub import: Split,
    pub export: Split,
    /// By month, then currency.
    pub rates: Vec<RateUsed>,
    /// The subset of `rates` not from a published table.
    pub unofficial_rates: Vec<RateUsed>,
}

/// Computes the figures. See the module doc.
pub fn compute(
    declarations: &[DeclarationValue],
    range: Range,
    book: &RateBook,
) -> Result<TradeValue, TradeValueError> {
    let range = Range::new(range.from, range.to)?;
    let mut sorted: Vec<&DeclarationValue> = declarations.iter().collect();
    sorted.sort_by(|a, b| a.cus_ciq_no.cmp(&b.cus_ciq_no));

    // (month, direction, currency rank, ISO) → (declarations, Σ amount)
    type RowKey = (YearMonth, Direction, usize, &'static str);
    let mut sums: BTreeMap<RowKey, (BTreeSet<&str>, Money)> = BTreeMap::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut per_direction: BTreeMap<Direction, u64> = BTreeMap::new();
    for decl in &sorted {
        let no = decl.cus_ciq_no.as_str();
        if !seen.insert(no) {
            return Err(TradeValueError::Duplicate { cus_ciq_no: no.to_owned() });
        }
        if !range.contains(decl.month) {
            return Err(TradeValueError::OutsideRange { cus_ciq_no: no.to_owned(), month: decl.month });
        }
        *per_direction.entry(decl.direction).or_default() += 1;
        for (index, (code, amount)) in decl.lines.iter().enumerate() {
            let line = index + 1;
            let found = currency::lookup(code).ok_or_else(|| TradeValueError::UnknownCurrency {
                cus_ciq_no: no.to_owned(),
                line,
                currency: code.clone(),
            })?;
            let value = Money::parse(amount).map_err(|reason| TradeValueError::BadAmount {
                cus_ciq_no: no.to_owned(),
                line,
                amount: amount.clone(),
                reason,
            })?;
            let entry = sums.entry((decl.month, decl.direction, currency::rank(found.iso), found.iso)).or_default();
            entry.0.insert(no);
            entry.1 = entry.1.checked_add(value)?;
        }
    }

    let mut rates: BTreeMap<(YearMonth, usize, &'static str), RateUsed> = BTreeMap::new();
    let mut rows: Vec<(TradeRow, &BTreeSet<&str>)> = Vec::with_capacity(sums.len());
    for ((month, direction, rank, iso), (decls, original)) in &sums {
        let used = match rates.get(&(*month, *rank, *iso)) {
            Some(used) => used.clone(),
            None => {
                let customs = book.customs(*month, iso)?;
                let usd = book.usd(*month, iso)?;
                let used = RateUsed {
                    month: *month,
                    currency: (*iso).to_owned(),
                    currency_name: currency::name_of(iso).to_owned(),
                    customs_rate: customs.rmb_per_unit,
                    rate_date: customs.rate_date,
                    official: customs.is_official() && usd.is_official(),
                    customs_source: customs.source,
                    usd_rate: usd.usd_per_unit,
                    usd_source: usd.source,
                };
                rates.insert((*month, *rank, *iso), used.clone());
                used
            }
        };
        let row = TradeRow {
            month: *month,
            direction: *direction,
            currency: (*iso).to_owned(),
            currency_name: used.currency_name.clone(),
            declarations: decls.len() as u64,
            original: *original,
            customs_rate: used.customs_rate,
            rmb: original.checked_mul(used.customs_rate)?,
            usd_rate: used.usd_rate,
            usd: original.checked_mul(used.usd_rate)?,
        };
        rows.push((row, decls));
    }

    let count = |d: Option<Direction>| match d {
        Some(d) => per_direction.get(&d).copied().unwrap_or(0),
        None => per_direction.values().sum(),
    };
    let import = split(&rows, Some(Direction::Import), count(Some(Direction::Import)))?;
    let export = split(&rows, Some(Direction::Export), count(Some(Direction::Export)))?;
    let total = split(&rows, None, count(None))?;
    let rows = rows.into_iter().map(|(row, _)| row).collect();
    let rates: Vec<RateUsed> = rates.into_values().collect();
    let unofficial_rates = rates.iter().filter(|r| !r.official).cloned().collect();
    Ok(TradeValue { range, rows, total, import, export, rates, unofficial_rates })
}

/// Totals over the rows of `direction` (None: all); each row comes with its declarations, so
/// a currency's count is of distinct declarations.
fn split(
    rows: &[(TradeRow, &BTreeSet<&str>)],
    direction: Option<Direction>,
    declarations: u64,
) -> Result<Split, TradeValueError> {
    let mut per_currency: BTreeMap<&str, (BTreeSet<&str>, Money, Money, Money)> = BTreeMap::new();
    for (row, decls) in rows {
        if direction.is_some_and(|d| d != row.direction) {
            continue;
        }
        let entry = per_currency.entry(row.currency.as_str()).or_default();
        entry.0.extend(decls.iter().copied());
        entry.1 = entry.1.checked_add(row.original)?;
        entry.2 = entry.2.checked_add(row.rmb)?;
        entry.3 = entry.3.checked_add(row.usd)?;
    }
    let mut originals: Vec<CurrencyTotal> = per_currency
        .into_iter()
        .map(|(iso, (decls, amount, rmb, usd))| CurrencyTotal {
            currency: iso.to_owned(),
            currency_name: currency::name_of(iso).to_owned(),
            declarations: decls.len() as u64,
            amount,
            rmb,
            usd,
        })
        .collect();
    originals.sort_by(|a, b| {
        let fixed = |c: &CurrencyTotal| currency::rank(&c.currency).min(2);
        fixed(a).cmp(&fixed(b)).then(b.rmb.cmp(&a.rmb)).then(a.currency.cmp(&b.currency))
    });
    Ok(Split {
        declarations,
        rmb: Money::sum(originals.iter().map(|c| c.rmb))?,
        usd: Money::sum(originals.iter().map(|c| c.usd))?,
        originals,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::rates::{CUSTOMS_HEADER, SAFE_HEADER};

    fn ym(s: &str) -> YearMonth {
        s.parse().unwrap()
    }

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    /// Rates for March and April 2025; EUR in April's customs table is unofficial.
    pub(crate) fn book() -> RateBook {
        RateBook::parse(
            &format!(
                "{CUSTOMS_HEADER}\n\
                 2025-03,USD,7.1000,2025-02-19,https://example.test/customs/2025-03\n\
                 2025-03,EUR,7.8000,2025-02-19,https://example.test/customs/2025-03\n\
                 2025-04,USD,7.2000,2025-03-19,https://example.test/customs/2025-04\n\
                 2025-04,EUR,7.9000,2025-03-19,unofficial: test approximation\n"
            ),
            &format!(
                "{SAFE_HEADER}\n\
                 2025-03,CNY,0.1400,https://example.test/safe/2025-03\n\
                 2025-03,EUR,1.1000,https://example.test/safe/2025-03\n\
                 2025-04,CNY,0.1390,https://example.test/safe/2025-04\n\
                 2025-04,EUR,1.1100,https://example.test/safe/2025-04\n"
            ),
        )
        .unwrap()
    }

    fn decl(no: &str, direction: Direction, month: &str, lines: &[(&str, &str)]) -> DeclarationValue {
        DeclarationValue {
            cus_ciq_no: no.to_owned(),
            entry_id: Some(format!("6101{no}")),
            direction,
            month: ym(month),
            update_time: format!("{month}-28 10:00:00"),
            lines: lines.iter().map(|(c, a)| ((*c).to_owned(), (*a).to_owned())).collect(),
        }
    }

    /// Five declarations, three currencies, two months, both directions.
    pub(crate) fn sample() -> Vec<DeclarationValue> {
        vec![
            decl("D5", Direction::Import, "2025-04", &[("USD", "9999.99")]),
            decl("D1", Direction::Import, "2025-03", &[("502", "100,000.00"), ("502", "23,456.78")]),
            decl("D2", Direction::Export, "2025-03", &[("USD", "50,050"), ("300", "20000")]),
            decl("D3", Direction::Export, "2025-04", &[("142", "1000000")]),
            decl("D4", Direction::Export, "2025-04", &[("EUR", "30,010.10")]),
        ]
    }

    pub(crate) fn range() -> Range {
        Range::new(ym("2025-03"), ym("2025-04")).unwrap()
    }

    #[test]
    fn hand_computed_example() {
        let tv = compute(&sample(), range(), &book()).unwrap();
        let rows: Vec<(String, &str, &str, u64, String, String, String)> = tv
            .rows
            .iter()
            .map(|r| {
                (
                    r.month.to_string(),
                    r.direction.label(),
                    r.currency.as_str(),
                    r.declarations,
                    r.original.normalized(),
                    r.rmb.normalized(),
                    r.usd.normalized(),
                )
            })
            .collect();
        let expected: Vec<(String, &str, &str, u64, String, String, String)> = [
            // 123,456.78 × 7.1 = 876,543.138
            ("2025-03", "进口", "USD", 1, "123456.78", "876543.138", "123456.78"),
            // 50,050 × 7.1 = 355,355
            ("2025-03", "出口", "USD", 1, "50050", "355355", "50050"),
            // 20,000 × 7.8 = 156,000; × 1.1 = 22,000 USD
            ("2025-03", "出口", "EUR", 1, "20000", "156000", "22000"),
            // 9,999.99 × 7.2 = 71,999.928
            ("2025-04", "进口", "USD", 1, "9999.99", "71999.928", "9999.99"),
            // 1,000,000 CNY × 0.1390 = 139,000 USD
            ("2025-04", "出口", "CNY", 1, "1000000", "1000000", "139000"),
            // 30,010.10 × 7.9 = 237,079.79; × 1.11 = 33,311.211 USD
            ("2025-04", "出口", "EUR", 1, "30010.1", "237079.79", "33311.211"),
        ]
        .iter()
        .map(|(mo, d, c, n, o, r, u)| (mo.to_string(), *d, *c, *n, o.to_string(), r.to_string(), u.to_string()))
        .collect();
        assert_eq!(rows, expected);

        // Imports: D1 + D5.
        assert_eq!(tv.import.declarations, 2);
        assert_eq!(tv.import.rmb, m("948543.066")); // 876,543.138 + 71,999.928
        assert_eq!(tv.import.usd, m("133456.77"));
        assert_eq!(tv.import.originals.len(), 1);
        assert_eq!((tv.import.originals[0].currency.as_str(), tv.import.originals[0].amount), ("USD", m("133456.77")));
        // Exports: D2, D3, D4.
        assert_eq!(tv.export.declarations, 3);
        assert_eq!(tv.export.rmb, m("1748434.79")); // 355,355 + 156,000 + 1,000,000 + 237,079.79
        assert_eq!(tv.export.usd, m("244361.211")); // 50,050 + 22,000 + 139,000 + 33,311.211
        let export: Vec<(&str, Money)> = tv.export.originals.iter().map(|c| (c.currency.as_str(), c.amount)).collect();
        assert_eq!(export, vec![("CNY", m("1000000")), ("USD", m("50050")), ("EUR", m("50010.1"))]);
        // Both.
        assert_eq!(tv.total.declarations, 5);
        assert_eq!(tv.total.rmb, m("2696977.856"));
        assert_eq!(tv.total.usd, m("377817.981"));
        let total: Vec<(&str, &str, u64, Money)> = tv
            .total
            .originals
            .iter()
            .map(|c| (c.currency.as_str(), c.currency_name.as_str(), c.declarations, c.amount))
            .collect();
        assert_eq!(
            total,
            vec![
                ("CNY", "人民币", 1, m("1000000")),
                ("USD", "美元", 3, m("183506.77")),
                ("EUR", "欧元", 2, m("50010.1"))
            ]
        );
        // Rates used: per month and currency, sorted; EUR in April is flagged.
        let used: Vec<(String, &str, String, bool)> = tv
            .rates
            .iter()
            .map(|r| (r.month.to_string(), r.currency.as_str(), r.customs_rate.to_string(), r.official))
            .collect();
        assert_eq!(
            used,
            vec![
                ("2025-03".to_owned(), "USD", "7.1000".to_owned(), true),
                ("2025-03".to_owned(), "EUR", "7.8000".to_owned(), true),
                ("2025-04".to_owned(), "CNY", "1".to_owned(), true),
                ("2025-04".to_owned(), "USD", "7.2000".to_owned(), true),
                ("2025-04".to_owned(), "EUR", "7.9000".to_owned(), false),
            ]
        );
        assert_eq!(tv.unofficial_rates.len(), 1);
        assert_eq!((tv.unofficial_rates[0].month, tv.unofficial_rates[0].currency.as_str()), (ym("2025-04"), "EUR"));
        assert_eq!(tv.unofficial_rates[0].customs_source, "unofficial: test approximation");
    }

    #[test]
    fn input_order_does_not_matter_and_json_is_text() {
        let mut reversed = sample();
        reversed.reverse();
        let a = compute(&sample(), range(), &book()).unwrap();
        let b = compute(&reversed, range(), &book()).unwrap();
        assert_eq!(a, b);
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["total"]["rmb"], "2696977.856");
        assert_eq!(json["rows"][0]["customsRate"], "7.1000");
        assert_eq!(json["rows"][0]["direction"], "I");
        assert_eq!(json["unofficialRates"][0]["currency"], "EUR");
        assert_eq!(serde_json::from_value::<TradeValue>(json).unwrap(), a);
    }

    #[test]
    fn ranges_within_one_year_only() {
        assert_eq!(
            Range::new(ym("2024-11"), ym("2025-02")),
            Err(TradeValueError::CrossYear { from: ym("2024-11"), to: ym("2025-02") })
        );
        assert_eq!(
            Range::new(ym("2025-05"), ym("2025-02")),
            Err(TradeValueError::Reversed { from: ym("2025-05"), to: ym("2025-02") })
        );
        let bad = Range { from: ym("2024-12"), to: ym("2025-01") };
        assert_eq!(compute(&[], bad, &book()).unwrap_err().to_string(), "时间范围不可跨年：2024-12 至 2025-01");
        assert_eq!(range().months(), vec![ym("2025-03"), ym("2025-04")]);
    }

    #[test]
    fn missing_rate_names_month_and_currency() {
        let decls = vec![decl("X1", Direction::Export, "2025-03", &[("116", "1000")])];
        let err = compute(&decls, range(), &book()).unwrap_err();
        assert_eq!(
            err,
            TradeValueError::Rate(RateError::Missing {
                month: ym("2025-03"),
                currency: "JPY".to_owned(),
                table: crate::rates::RateTable::Customs
            })
        );
        assert_eq!(err.to_string(), "缺少 2025-03 JPY 的海关计征汇率，请先导入该月汇率");
    }

    #[test]
    fn bad_lines_name_the_declaration() {
        let unknown = vec![decl("X2", Direction::Import, "2025-03", &[("USD", "1"), ("999", "5")])];
        assert_eq!(
            compute(&unknown, range(), &book()),
            Err(TradeValueError::UnknownCurrency { cus_ciq_no: "X2".to_owned(), line: 2, currency: "999".to_owned() })
        );
        let garbage = vec![decl("X3", Direction::Import, "2025-03", &[("USD", "12,34.5")])];
        let err = compute(&garbage, range(), &book()).unwrap_err();
        assert_eq!(err.to_string(), "报关单 X3 第 1 项商品的金额 \"12,34.5\" 无效：不是有效的金额：\"12,34.5\"");
        let twice = vec![decl("X4", Direction::Import, "2025-03", &[]), decl("X4", Direction::Export, "2025-03", &[])];
        assert_eq!(compute(&twice, range(), &book()), Err(TradeValueError::Duplicate { cus_ciq_no: "X4".to_owned() }));
        let outside = vec![decl("X5", Direction::Import, "2025-05", &[("USD", "1")])];
        assert_eq!(
            compute(&outside, range(), &book()),
            Err(TradeValueError::OutsideRange { cus_ciq_no: "X5".to_owned(), month: ym("2025-05") })
        );
    }

    #[test]
    fn no_declarations_give_zeros() {
        let tv = compute(&[], range(), &book()).unwrap();
        assert!(tv.rows.is_empty() && tv.rates.is_empty());
        assert_eq!((tv.total.declarations, tv.total.rmb, tv.total.usd), (0, Money::ZERO, Money::ZERO));
        // A declaration without goods lines is counted, with no amounts.
        let empty = vec![decl("E1", Direction::Export, "2025-04", &[])];
        let tv = compute(&empty, range(), &book()).unwrap();
        assert_eq!((tv.export.declarations, tv.import.declarations, tv.export.originals.len()), (1, 0, 0));
    }
}
