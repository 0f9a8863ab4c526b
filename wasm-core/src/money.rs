//! Exact decimal money: parsing the portal's amounts, summing, converting, rounding for display.
//!
//! The portal writes every amount as decimal text (`declTotal: "6789.32"`). DataLink never turns
//! such text into a float: [`Money`] wraps a [`rust_decimal::Decimal`] (96-bit integer and a
//! decimal scale, 28 significant digits), so sums and products with exchange rates are exact —
//! `0.1 + 0.2` is `0.3`, and a year of declarations adds up to the cent.
//!
//! Rounding happens only when a number is *shown*, and always **half-up** (四舍五入, midpoint
//! away from zero): [`Money::round_dp`], [`Money::grouped`] (`12,345,678.90`) and [`Money::wan`]
//! (the certificate's 万 unit: ÷ 10 000, e.g. `1,234.57` for 12,345,678.90). Anything stored or
//! hashed uses the exact value ([`Money::normalized`]: no trailing zeros, `6789.32`, `100`).
//!
//! Accepted amount text: plain digits with an optional fraction (`6789.32`, `0`, `100.5`) or
//! digits grouped by commas in threes (`1,234.5`, `12,345,678.90`), surrounded by optional
//! spaces. Refused with a typed [`MoneyError`]: empty text, signs, exponents, misplaced commas
//! (`1,23`), more than one point, letters, full-width digits, more than 12 decimals.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An exact, non-negative-by-construction-from-text amount of one currency (or of RMB / USD
/// after conversion). Serialized as its exact decimal text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

/// Why an amount (or a rate) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("金额为空")]
    Empty,
    #[error("不是有效的金额：{0:?}")]
    Invalid(String),
    #[error("金额不能为负数：{0:?}")]
    Negative(String),
    #[error("金额超出可计算的范围")]
    Overflow,
}

/// Most decimals an amount or rate may have (SAFE's tables carry up to about ten).
const MAX_DECIMALS: usize = 12;
/// Most integer digits (a trillion in any currency is already absurd for one company).
const MAX_INTEGER_DIGITS: usize = 16;

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn new(value: Decimal) -> Money {
        Money(value)
    }

    /// The exact value.
    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// Parses the portal's amount text (see the module doc for the accepted forms).
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        parse_decimal(text, true).map(Money)
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// `self + other`, exact.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.0.checked_add(other.0).map(Money).ok_or(MoneyError::Overflow)
    }

    /// `self × rate` (a unit price or an exchange rate), exact within 28 significant digits.
    pub fn checked_mul(self, rate: Decimal) -> Result<Money, MoneyError> {
        self.0.checked_mul(rate).map(Money).ok_or(MoneyError::Overflow)
    }

    /// Σ of `amounts`, exact.
    pub fn sum<I: IntoIterator<Item = Money>>(amounts: I) -> Result<Money, MoneyError> {
        amounts.into_iter().try_fold(Money::ZERO, Money::checked_add)
    }

    /// Rounded half-up (四舍五入) to `dp` decimals.
    pub fn round_dp(self, dp: u32) -> Money {
        Money(self.0.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero))
    }

    /// Rounded half-up to cents.
    pub fn round2(self) -> Money {
        self.round_dp(2)
    }

    /// For display: rounded half-up to `dp` decimals, always `dp` of them, thousands grouped:
    /// `12,345,678.90`.
    pub fn grouped(self, dp: u32) -> String {
        let mut rounded = self.round_dp(dp).0;
        rounded.rescale(dp);
        let text = rounded.to_string();
        let (sign, digits) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", text.as_str()),
        };
        let (int, frac) = digits.split_once('.').map_or((digits, None), |(i, f)| (i, Some(f)));
        let mut out = String::with_capacity(text.len() + int.len() / 3);
        out.push_str(sign);
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if let Some(frac) = frac {
            out.push('.');
            out.push_str(frac);
        }
        out
    }

    /// For display in 万 (ten thousands), as the certificate writes "人民币 1,234.57 万":
    /// ÷ 10 000, then [`Money::grouped`] with `dp` decimals (the seed uses 2; 4 shows yuan).
    pub fn wan(self, dp: u32) -> String {
        Money(self.0 / Decimal::from(10_000u32)).grouped(dp)
    }

    /// The exact value without trailing zeros: `6789.32`, `100`, `0.047512`. What is stored,
    /// serialized and hashed.
    pub fn normalized(self) -> String {
        self.0.normalize().to_string()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized())
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_decimal(&text, false).map(Money).map_err(serde::de::Error::custom)
    }
}

/// A rate or factor as decimal text (`7.1100`, `0.047512`): plain digits and one point, no
/// grouping, strictly positive.
pub fn parse_rate(text: &str) -> Result<Decimal, MoneyError> {
    let value = parse_decimal(text, false)?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(MoneyError::Negative(text.to_owned()));
    }
    if value.is_zero() {
        return Err(MoneyError::Invalid(text.to_owned()));
    }
    Ok(value)
}

/// The exact value of decimal text. `grouping` allows `1,234.5`; a leading `-` is refused as
/// [`MoneyError::Negative`] except when deserializing (grouping off), where computed results may
/// legitimately be negative in future and are checked by their producer.
fn parse_decimal(text: &str, grouping: bool) -> Result<Decimal, MoneyError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(MoneyError::Empty);
    }
    let invalid = || MoneyError::Invalid(text.to_owned());
    let (negative, body) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    if negative && grouping {
        return Err(MoneyError::Negative(text.to_owned()));
    }
    let (int, frac) = match body.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (body, None),
    };
    let int_digits: String = if grouping && int.contains(',') {
        let groups: Vec<&str> = int.split(',').collect();
        let first_ok = (1..=3).contains(&groups[0].len());
        let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
        if !first_ok || !rest_ok {
            return Err(invalid());
        }
        groups.concat()
    } else {
        int.to_owned()
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(&int_digits) || int_digits.len() > MAX_INTEGER_DIGITS {
        return Err(invalid());
    }
    if let Some(frac) = frac {
        if !all_digits(frac) || frac.len() > MAX_DECIMALS {
            return Err(invalid());
        }
    }
    let plain = match frac {
        Some(frac) => format!("{}{int_digits}.{frac}", if negative { "-" } else { "" }),
        None => format!("{}{int_digits}", if negative { "-" } else { "" }),
    };
    plain.parse::<Decimal>().map_err(|_| invalid())
}

/// Decimals (rates) as text in JSON (`"7.1100"`, scale kept), never as floats:
/// `#[serde(with = "crate::money::decimal_text")]`.
pub(crate) mod decimal_text {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_rate(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn parses_portal_amounts() {
        assert_eq!(m("6789.32").normalized(), "6789.32");
        assert_eq!(m(" 1,234.5 ").normalized(), "1234.5");
        assert_eq!(m("12,345,678.90").normalized(), "12345678.9");
        assert_eq!(m("0").normalized(), "0");
        assert_eq!(m("100.00").normalized(), "100");
        assert_eq!(m("007.10").normalized(), "7.1");
    }

    #[test]
    fn refuses_garbage_with_a_reason() {
        assert_eq!(Money::parse(""), Err(MoneyError::Empty));
        assert_eq!(Money::parse("   "), Err(MoneyError::Empty));
        assert_eq!(Money::parse("-5"), Err(MoneyError::Negative("-5".to_owned())));
        for bad in [
            "abc",
            "1,23",
            "12,3456",
            ",123",
            "1.2.3",
            "1e5",
            "+5",
            ".5",
            "5.",
            "1 000",
            "１２",
            "NaN",
            "1,234,56.7",
            "0.1234567890123",
            "12345678901234567",
        ] {
            assert_eq!(Money::parse(bad), Err(MoneyError::Invalid(bad.to_owned())), "{bad}");
        }
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("1,234").is_err());
        assert_eq!(parse_rate("-7.1"), Err(MoneyError::Negative("-7.1".to_owned())));
        assert_eq!(parse_rate("0.047512").unwrap().to_string(), "0.047512");
    }

    #[test]
    fn exact_where_floats_are_not() {
        let sum = Money::sum([m("0.1"), m("0.2")]).unwrap();
        assert_eq!(sum, m("0.3"));
        // 6789.32 USD at 7.1100 is exactly 48,272.0652 RMB.
        assert_eq!(m("6789.32").checked_mul(parse_rate("7.1100").unwrap()).unwrap().normalized(), "48272.0652");
    }

    #[test]
    fn rounds_half_up_for_display() {
        assert_eq!(m("2.345").round2().normalized(), "2.35");
        assert_eq!(m("2.335").round2().normalized(), "2.34"); // not banker's rounding (2.34 either way)
        assert_eq!(m("2.325").round2().normalized(), "2.33"); // banker's would give 2.32
        assert_eq!(m("0.005").round2().normalized(), "0.01");
        assert_eq!(m("0.0049").round2().normalized(), "0");
        assert_eq!(m("1234567.895").grouped(2), "1,234,567.90");
        assert_eq!(m("12345678.9").grouped(2), "12,345,678.90");
        assert_eq!(m("999.995").grouped(2), "1,000.00");
        assert_eq!(m("0").grouped(2), "0.00");
        assert_eq!(m("123").grouped(0), "123");
        assert_eq!(m("123456").grouped(4), "123,456.0000");
    }

    #[test]
    fn wan_divides_by_ten_thousand() {
        assert_eq!(m("12,345,678.90").wan(2), "1,234.57");
        assert_eq!(m("12,345,678.90").wan(4), "1,234.5679");
        assert_eq!(m("50").wan(2), "0.01"); // 0.005 万 rounds half-up
        assert_eq!(m("49.99").wan(2), "0.00");
        assert_eq!(m("10000").wan(2), "1.00");
    }

    #[test]
    fn serializes_as_exact_text() {
        let x = m("48272.06520");
        assert_eq!(serde_json::to_string(&x).unwrap(), "\"48272.0652\"");
        assert_eq!(serde_json::from_str::<Money>("\"48272.0652\"").unwrap(), x);
        assert!(serde_json::from_str::<Money>("48272.0652").is_err(), "numbers are not accepted, only text");
    }

    proptest! {
        /// Parsing `cents` written as `units.cc` and summing is exactly the integer sum of cents.
        #[test]
        fn sums_of_parsed_cents_are_exact(cents in proptest::collection::vec(0u64..10_000_000_000, 0..60)) {
            let texts: Vec<String> = cents.iter().map(|c| format!("{}.{:02}", c / 100, c % 100)).collect();
            let sum = Money::sum(texts.iter().map(|t| Money::parse(t).unwrap())).unwrap();
            let expected: u64 = cents.iter().sum();
            prop_assert_eq!(sum.grouped(2).replace(',', ""), format!("{}.{:02}", expected / 100, expected % 100));
        }

        /// Grouped text parses back to the rounded value.
        #[test]
        fn grouped_text_round_trips(cents in 0u64..1_000_000_000_000_000) {
            let money = Money::parse(&format!("{}.{:02}", cents / 100, cents % 100)).unwrap();
            prop_assert_eq!(Money::parse(&money.grouped(2)).unwrap(), money);
        }

        /// Half-up: the rounded value is within half a cent, and exact halves go up.
        #[test]
        fn rounding_is_half_up(mills in 0u64..100_000_000) {
            let money = Money::parse(&format!("{}.{:03}", mills / 1000, mills % 1000)).unwrap();
            let expected_cents = (mills + 5) / 10;
            prop_assert_eq!(money.round2(), Money::parse(&format!("{}.{:02}", expected_cents / 100, expected_cents % 100)).unwrap());
        }
    }
}
