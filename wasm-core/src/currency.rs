//! The currency catalog: customs 3-digit code ↔ ISO 4217 code ↔ Chinese name.
//!
//! A goods line's `tradeCurr` holds either the customs code of the old declaration form
//! (`"502"` = 美元) or, since the 2018 form, the ISO code (`"USD"`); [`lookup`] accepts both (and
//! lower case, and surrounding spaces) and returns one [`Currency`], so DataLink keys every
//! figure and rate by the ISO code. The Chinese names are the customs 币制 names the certificate
//! prints (人民币, 美元, 欧元, 日本元 …).
//!
//! The list holds the currencies customs declarations commonly use. A code not in it is an
//! *unknown currency*: the certificate refuses the declaration rather than guess (see
//! `trade_value`). Adding a currency is one line here plus its rates in the rate tables.

use serde::Serialize;

/// One currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Currency {
    /// Customs 3-digit 币制代码 (`502`).
    pub customs_code: &'static str,
    /// ISO 4217 (`USD`).
    pub iso: &'static str,
    /// Customs Chinese name (`美元`).
    pub name: &'static str,
}

const fn c(customs_code: &'static str, iso: &'static str, name: &'static str) -> Currency {
    Currency { customs_code, iso, name }
}

/// The catalog, CNY and USD first.
pub const CURRENCIES: &[Currency] = &[
    c("142", "CNY", "人民币"),
    c("502", "USD", "美元"),
    c("300", "EUR", "欧元"),
    c("116", "JPY", "日本元"),
    c("110", "HKD", "港币"),
    c("303", "GBP", "英镑"),
    c("133", "KRW", "韩国元"),
    c("601", "AUD", "澳大利亚元"),
    c("331", "CHF", "瑞士法郎"),
    c("132", "SGD", "新加坡元"),
    c("501", "CAD", "加拿大元"),
    c("609", "NZD", "新西兰元"),
    c("344", "RUB", "俄罗斯卢布"),
    c("121", "MOP", "澳门元"),
    c("122", "MYR", "马来西亚林吉特"),
    c("129", "PHP", "菲律宾比索"),
    c("136", "THB", "泰国铢"),
    c("302", "DKK", "丹麦克朗"),
    c("326", "NOK", "挪威克朗"),
    c("330", "SEK", "瑞典克朗"),
];

/// RMB, which converts to itself at exactly 1.
pub const CNY: &str = "CNY";
/// The US dollar, which converts to USD at exactly 1.
pub const USD: &str = "USD";

/// The currency with customs code or ISO code `code` (`"502"`, `"USD"`, `" usd "`).
pub fn lookup(code: &str) -> Option<&'static Currency> {
    let code = code.trim();
    if code.len() != 3 {
        return None;
    }
    CURRENCIES.iter().find(|c| c.customs_code == code || c.iso.eq_ignore_ascii_case(code))
}

/// The Chinese name of an ISO code, or the code itself when it is not in the catalog.
pub fn name_of(iso: &str) -> &str {
    lookup(iso).map_or(iso, |c| c.name)
}

/// Where a currency goes in lists: CNY, USD, then the catalog's order.
pub fn rank(iso: &str) -> usize {
    CURRENCIES.iter().position(|c| c.iso == iso).unwrap_or(CURRENCIES.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn accepts_customs_and_iso_codes() {
        assert_eq!(lookup("502").unwrap().iso, "USD");
        assert_eq!(lookup("USD").unwrap().name, "美元");
        assert_eq!(lookup(" usd ").unwrap().customs_code, "502");
        assert_eq!(lookup("142").unwrap().iso, "CNY");
        assert_eq!(lookup("116").unwrap().name, "日本元");
        assert_eq!(lookup("300").unwrap().iso, "EUR");
        assert_eq!(lookup("999"), None);
        assert_eq!(lookup("US"), None);
        assert_eq!(lookup(""), None);
        assert_eq!(name_of("XYZ"), "XYZ");
    }

    #[test]
    fn codes_are_unique_and_well_formed() {
        let customs: HashSet<_> = CURRENCIES.iter().map(|c| c.customs_code).collect();
        let iso: HashSet<_> = CURRENCIES.iter().map(|c| c.iso).collect();
        let names: HashSet<_> = CURRENCIES.iter().map(|c| c.name).collect();
        assert_eq!((customs.len(), iso.len(), names.len()), (CURRENCIES.len(), CURRENCIES.len(), CURRENCIES.len()));
        for c in CURRENCIES {
            assert!(c.customs_code.len() == 3 && c.customs_code.bytes().all(|b| b.is_ascii_digit()), "{c:?}");
            assert!(c.iso.len() == 3 && c.iso.bytes().all(|b| b.is_ascii_uppercase()), "{c:?}");
        }
        assert_eq!((rank("CNY"), rank("USD"), rank("EUR")), (0, 1, 2));
    }
}
