//! The words of the trade value certificate (进出口贸易额证明), in one place for the page's
//! preview and the PDF, and its verification code.
//!
//! [`certificate_text`] turns what the applicant entered ([`CertificateInputs`]) and the figures
//! ([`TradeValue`], from `trade_value`) into a [`CertificateText`]: the title, the addressee
//! (申报部门, the department that receives the report), the body paragraphs in the seed's
//! wording, the footnotes on the rate rules, the issuer, the date line, the watermark text and
//! the attachment tables. Nothing here lays out a page: the PDF renderer and the page only place
//! these strings.
//!
//! The body follows the certificate in the seed (`datalink-2.0-walkthrough.txt`) word for word:
//!
//! ```text
//! 兹证明<企业>(统一社会信用代码：<代码>)通过<平台>验证，2025年1月-12月以报关单(含备案清单)方式申报并结关的
//! 进出口贸易额总值为：人民币 X 万、美元 Y 万，折算人民币 Z 万，折算美元 W 万；进口总值为：0；出口总值为：…。
//! 详细数据见附件。
//! 特此证明。
//! ```
//!
//! * Each split lists its original currencies by Chinese name (CNY, USD, then by RMB value),
//!   then the RMB and USD equivalents; a split without declarations reads `0`, as in the seed.
//! * Amounts are in 万 with [`WAN_DECIMALS`] decimals, rounded half-up (`money`).
//! * One month reads `2025年3月`, several `2025年1月-12月` (a range never crosses a year).
//! * The date line is zero-padded as in the seed: `2026年05月19日`.
//! * The footnote states the customs rule of the months covered — the seed's text (Order 124)
//!   for months up to 2024-11, Order 272's for months from 2024-12, both when the range spans
//!   the change — and the SAFE table; one more line warns when any rate used is not official.
//!
//! The [verification code](verification_code) is a SHA-256 over a canonical, versioned text
//! ([`canonical`]) of the inputs, every rate used and every declaration counted, so a reprint of
//! the same data gives the same code and any change of an amount, a declaration or a rate gives
//! another.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::calendar::Date;
use crate::currency;
use crate::money::Money;
use crate::rates::{rule_for, RateRule};
use crate::trade_value::{DeclarationValue, Range, Split, TradeValue};

/// The certificate's title.
pub const TITLE: &str = "进出口贸易额证明";

/// What 通过<平台>验证 names by default.
pub const DEFAULT_PLATFORM: &str = "DataLink 单一窗口数据协同";

/// Decimals of the 万 amounts in the body.
pub const WAN_DECIMALS: u32 = 2;

/// The customs rule printed on the seed's certificate (Order 124), for months up to 2024-11.
pub const OLD_RULE: &str =
    "各种货币对人民币所用计征汇率为上一个月第三个星期三（第三个星期三为法定节日的，顺延采用第四个星期三）的中国银行外汇牌价";

/// The customs rule of Order 272, for months from 2024-12.
pub const NEW_RULE: &str =
    "各种货币对人民币所用计征汇率为上一个月第三个星期三中国人民银行授权中国外汇交易中心公布的人民币汇率中间价\
（第三个星期三非银行间外汇市场交易日的，顺延采用下一个交易日公布的人民币汇率中间价）";

/// The SAFE sentence of the seed's footnote.
pub const SAFE_RULE: &str =
    "各种外币对美元折算率采用国家外汇管理局发布的《统计用各种外币对美元折算率表》（在国家外汇管理局网站公布）。";

/// Version tag of [`canonical`]; change it whenever the canonical text changes.
pub const CANONICAL_VERSION: &str = "datalink-trade-value-certificate/v1";

/// What the applicant enters (申报信息) and the issuer's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateInputs {
    /// 申请项目 (also in the watermark).
    pub project: String,
    /// 申报部门: the department that receives the report (the addressee).
    pub department: String,
    pub company_name: String,
    /// 统一社会信用代码.
    pub credit_code: String,
    /// 通过<平台>验证, e.g. [`DEFAULT_PLATFORM`].
    pub platform: String,
    /// The issuer's name (a setting), printed above the date.
    pub issuer: String,
    /// The text on the round seal.
    pub seal_text: String,
    pub issue_date: Date,
}

/// One attachment table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    /// Per column: right-align (numbers).
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

/// Everything the certificate says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateText {
    pub title: String,
    /// `西安商务局：`.
    pub addressee: String,
    pub body: Vec<String>,
    pub footnotes: Vec<String>,
    pub issuer: String,
    pub seal_text: String,
    /// `2026年05月19日`.
    pub date_line: String,
    /// `<申请项目> · <申报部门>`.
    pub watermark: String,
    pub attachments: Vec<Table>,
}

/// The certificate's words for `inputs` and the figures `tv`.
pub fn certificate_text(inputs: &CertificateInputs, tv: &TradeValue) -> CertificateText {
    let body = vec![
        format!(
            "兹证明{company}(统一社会信用代码：{code})通过{platform}验证，{period}以报关单(含备案清单)方式申报并结关的\
             进出口贸易额总值为：{total}；进口总值为：{import}；出口总值为：{export}。详细数据见附件。",
            company = inputs.company_name.trim(),
            code = inputs.credit_code.trim(),
            platform = inputs.platform.trim(),
            period = period(&tv.range),
            total = split_phrase(&tv.total),
            import = split_phrase(&tv.import),
            export = split_phrase(&tv.export),
        ),
        "特此证明。".to_owned(),
    ];
    CertificateText {
        title: TITLE.to_owned(),
        addressee: format!("{}：", inputs.department.trim()),
        body,
        footnotes: footnotes(tv),
        issuer: inputs.issuer.trim().to_owned(),
        seal_text: inputs.seal_text.trim().to_owned(),
        date_line: date_line(inputs.issue_date),
        watermark: format!("{} · {}", inputs.project.trim(), inputs.department.trim()),
        attachments: vec![detail_table(tv), rate_table(tv)],
    }
}

/// `2025年3月` or `2025年1月-12月`.
pub fn period(range: &Range) -> String {
    if range.from == range.to {
        range.from.chinese()
    } else {
        format!("{}-{}月", range.from.chinese(), range.to.month())
    }
}

/// `2026年05月19日`, as the seed's certificate dates itself.
pub fn date_line(date: Date) -> String {
    format!("{}年{:02}月{:02}日", date.year(), date.month(), date.day())
}

/// `人民币 X 万、美元 Y 万，折算人民币 Z 万，折算美元 W 万`, or `0`.
fn split_phrase(split: &Split) -> String {
    if split.originals.is_empty() {
        return "0".to_owned();
    }
    let originals: Vec<String> =
        split.originals.iter().map(|c| format!("{} {} 万", c.currency_name, c.amount.wan(WAN_DECIMALS))).collect();
    format!(
        "{}，折算人民币 {} 万，折算美元 {} 万",
        originals.join("、"),
        split.rmb.wan(WAN_DECIMALS),
        split.usd.wan(WAN_DECIMALS)
    )
}

fn footnotes(tv: &TradeValue) -> Vec<String> {
    let months = tv.range.months();
    let old = months.iter().any(|m| rule_for(*m) == RateRule::Order124);
    let new = months.iter().any(|m| rule_for(*m) == RateRule::Order272);
    let customs = match (old, new) {
        (true, true) => format!("2024年11月及以前，{OLD_RULE}；2024年12月起，{NEW_RULE}。"),
        (false, true) => format!("{NEW_RULE}。"),
        _ => format!("{OLD_RULE}。"),
    };
    let mut out = vec![format!("注：按照相关规定，{customs}{SAFE_RULE}")];
    if !tv.unofficial_rates.is_empty() {
        out.push(format!(
            "提示：本证明所用汇率中有 {} 项不是海关或国家外汇管理局公布的数值（见附件汇率表中标为“非官方”的行），\
             金额仅供参考，请导入官方汇率后重新出具。",
            tv.unofficial_rates.len()
        ));
    }
    out
}

fn detail_table(tv: &TradeValue) -> Table {
    let mut rows: Vec<Vec<String>> = tv
        .rows
        .iter()
        .map(|r| {
            vec![
                r.month.to_string(),
                r.direction.label().to_owned(),
                r.currency_name.clone(),
                r.declarations.to_string(),
                r.original.grouped(2),
                r.customs_rate.to_string(),
                r.rmb.grouped(2),
                r.usd_rate.to_string(),
                r.usd.grouped(2),
            ]
        })
        .collect();
    for (label, split) in [("进口", &tv.import), ("出口", &tv.export), ("进出口", &tv.total)] {
        rows.push(vec![
            "合计".to_owned(),
            label.to_owned(),
            String::new(),
            split.declarations.to_string(),
            String::new(),
            String::new(),
            split.rmb.grouped(2),
            String::new(),
            split.usd.grouped(2),
        ]);
    }
    Table {
        title: format!("附件1：进出口贸易额明细（{}）", period(&tv.range)),
        columns: ["月份", "进出口", "币制", "报关单数", "原币金额", "计征汇率", "折人民币", "折美元汇率", "折美元"]
            .map(str::to_owned)
            .to_vec(),
        numeric: vec![false, false, false, true, true, true, true, true, true],
        rows,
    }
}

fn rate_table(tv: &TradeValue) -> Table {
    let rows = tv
        .rates
        .iter()
        .map(|r| {
            vec![
                r.month.to_string(),
                r.currency_name.clone(),
                r.customs_rate.to_string(),
                r.rate_date.map_or_else(|| "—".to_owned(), |d| d.to_string()),
                r.usd_rate.to_string(),
                if r.official { "官方" } else { "非官方（仅供参考）" }.to_owned(),
            ]
        })
        .collect();
    Table {
        title: "附件2：所用汇率".to_owned(),
        columns: ["月份", "币制", "计征汇率（人民币/单位）", "汇率日期", "折美元汇率（美元/单位）", "说明"]
            .map(str::to_owned)
            .to_vec(),
        numeric: vec![false, false, true, false, true, false],
        rows,
    }
}

/// The verification code: the SHA-256 of [`canonical`] in full, and a short form to print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationCode {
    /// 64 lowercase hex digits.
    pub full_hex: String,
    /// The first 80 bits in base32 (RFC 4648 alphabet), four groups of four: `ABCD-EFGH-JKLM-NP23`.
    pub short: String,
}

/// The code of a certificate. `declarations` are the ones `tv` was computed from.
pub fn verification_code(
    inputs: &CertificateInputs,
    tv: &TradeValue,
    declarations: &[DeclarationValue],
) -> VerificationCode {
    let digest = Sha256::digest(canonical(inputs, tv, declarations).as_bytes());
    let full_hex = digest.iter().map(|b| format!("{b:02x}")).collect();
    let short = base32(&digest[..10])
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-");
    VerificationCode { full_hex, short }
}

/// The canonical text hashed by [`verification_code`]: one record per line, fields separated by
/// tabs (shown as → below; tabs, line breaks and backslashes inside fields are escaped), in a
/// fixed order:
///
/// ```text
/// datalink-trade-value-certificate/v1
/// range → 2025-03 → 2025-04
/// project → … / department → … / company → … / credit_code → … / issuer → …
/// rate → <month> → <ISO> → customs → <RMB per unit> → <rate date or -> → <source>
/// rate → <month> → <ISO> → usd → <USD per unit> → <source>
/// decl → <统一编号> → <updateTime> → <ISO>:<amount> → <ISO>:<amount> …
/// ```
///
/// Rates come by month then currency (as in `tv.rates`), declarations by 统一编号, a
/// declaration's lines by currency then amount; amounts and rates are exact and normalized
/// (`6789.32`, `7.11`), currencies ISO codes — so the order of the store's rows and the
/// spelling `502`/`USD` do not change the code.
pub fn canonical(inputs: &CertificateInputs, tv: &TradeValue, declarations: &[DeclarationValue]) -> String {
    let mut lines =
        vec![CANONICAL_VERSION.to_owned(), record(&["range", &tv.range.from.to_string(), &tv.range.to.to_string()])];
    for (key, value) in [
        ("project", &inputs.project),
        ("department", &inputs.department),
        ("company", &inputs.company_name),
        ("credit_code", &inputs.credit_code),
        ("issuer", &inputs.issuer),
    ] {
        lines.push(record(&[key, value.trim()]));
    }
    for r in &tv.rates {
        let month = r.month.to_string();
        let date = r.rate_date.map_or_else(|| "-".to_owned(), |d| d.to_string());
        lines.push(record(&[
            "rate",
            &month,
            &r.currency,
            "customs",
            &r.customs_rate.normalize().to_string(),
            &date,
            &r.customs_source,
        ]));
        lines.push(record(&["rate", &month, &r.currency, "usd", &r.usd_rate.normalize().to_string(), &r.usd_source]));
    }
    let mut sorted: Vec<&DeclarationValue> = declarations.iter().collect();
    sorted.sort_by(|a, b| a.cus_ciq_no.cmp(&b.cus_ciq_no));
    for d in sorted {
        let mut goods: Vec<(String, String)> = d
            .lines
            .iter()
            .map(|(code, amount)| {
                let iso = currency::lookup(code).map_or_else(|| code.trim().to_owned(), |c| c.iso.to_owned());
                let amount = Money::parse(amount).map_or_else(|_| amount.trim().to_owned(), Money::normalized);
                (iso, amount)
            })
            .collect();
        goods.sort();
        let mut fields = vec!["decl".to_owned(), d.cus_ciq_no.clone(), d.update_time.clone()];
        fields.extend(goods.into_iter().map(|(iso, amount)| format!("{iso}:{amount}")));
        lines.push(record(&fields.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn record(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| f.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n").replace('\r', "\\r"))
        .collect::<Vec<_>>()
        .join("\t")
}

/// RFC 4648 base32 without padding.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::month::YearMonth;
    use crate::rates::{RateBook, CUSTOMS_HEADER};
    use crate::task::Direction;
    use crate::trade_value::compute;
    use crate::trade_value::tests::{book, range, sample};

    fn inputs() -> CertificateInputs {
        CertificateInputs {
            project: "出口信用保险项目申报".to_owned(),
            department: "西安商务局".to_owned(),
            company_name: "陕西示例进出口有限公司".to_owned(),
            credit_code: "91610000MA6TEST01X".to_owned(),
            platform: DEFAULT_PLATFORM.to_owned(),
            issuer: "陕西电子口岸有限责任公司".to_owned(),
            seal_text: "陕西电子口岸有限责任公司".to_owned(),
            issue_date: "2026-05-19".parse().unwrap(),
        }
    }

    fn ym(s: &str) -> YearMonth {
        s.parse().unwrap()
    }

    #[test]
    fn body_follows_the_seed_word_for_word() {
        let tv = compute(&sample(), range(), &book()).unwrap();
        let text = certificate_text(&inputs(), &tv);
        assert_eq!(text.title, "进出口贸易额证明");
        assert_eq!(text.addressee, "西安商务局：");
        // Hand-computed from trade_value's example: total CNY 1,000,000, USD 183,506.77,
        // EUR 50,010.10, RMB 2,696,977.856, USD 377,817.981; imports USD 133,456.77 = RMB
        // 948,543.066; exports CNY 1,000,000, USD 50,050 (5.005 万 rounds up to 5.01), EUR
        // 50,010.10, RMB 1,748,434.79, USD 244,361.211.
        assert_eq!(
            text.body,
            vec![
                "兹证明陕西示例进出口有限公司(统一社会信用代码：91610000MA6TEST01X)通过DataLink 单一窗口数据协同验证，\
                 2025年3月-4月以报关单(含备案清单)方式申报并结关的进出口贸易额总值为：\
                 人民币 100.00 万、美元 18.35 万、欧元 5.00 万，折算人民币 269.70 万，折算美元 37.78 万；\
                 进口总值为：美元 13.35 万，折算人民币 94.85 万，折算美元 13.35 万；\
                 出口总值为：人民币 100.00 万、美元 5.01 万、欧元 5.00 万，折算人民币 174.84 万，折算美元 24.44 万。\
                 详细数据见附件。"
                    .to_owned(),
                "特此证明。".to_owned(),
            ]
        );
        assert_eq!(text.issuer, "陕西电子口岸有限责任公司");
        assert_eq!(text.date_line, "2026年05月19日");
        assert_eq!(text.watermark, "出口信用保险项目申报 · 西安商务局");
        // 2025: Order 272's rule, and a warning for the one unofficial rate (EUR, 2025-04).
        assert_eq!(
            text.footnotes,
            vec![
                format!("注：按照相关规定，{NEW_RULE}。{SAFE_RULE}"),
                "提示：本证明所用汇率中有 1 项不是海关或国家外汇管理局公布的数值（见附件汇率表中标为“非官方”的行），\
                 金额仅供参考，请导入官方汇率后重新出具。"
                    .to_owned(),
            ]
        );
    }

    #[test]
    fn no_imports_read_zero_as_in_the_seed() {
        let exports: Vec<DeclarationValue> =
            sample().into_iter().filter(|d| d.direction == Direction::Export).collect();
        let tv = compute(&exports, range(), &book()).unwrap();
        let body = &certificate_text(&inputs(), &tv).body[0];
        assert!(body.contains("；进口总值为：0；出口总值为：人民币 100.00 万、"), "{body}");
    }

    #[test]
    fn footnote_follows_the_rule_of_the_months() {
        let empty =
            |from: &str, to: &str| compute(&[], Range::new(ym(from), ym(to)).unwrap(), &RateBook::default()).unwrap();
        // Before 2024-12: exactly the seed's footnote.
        assert_eq!(
            certificate_text(&inputs(), &empty("2023-01", "2023-07")).footnotes,
            vec!["注：按照相关规定，各种货币对人民币所用计征汇率为上一个月第三个星期三（第三个星期三为法定节日的，顺延采用第四个星期三）的中国银行外汇牌价。\
                  各种外币对美元折算率采用国家外汇管理局发布的《统计用各种外币对美元折算率表》（在国家外汇管理局网站公布）。"
                .to_owned()]
        );
        let both = certificate_text(&inputs(), &empty("2024-11", "2024-12")).footnotes;
        assert_eq!(
            both,
            vec![format!("注：按照相关规定，2024年11月及以前，{OLD_RULE}；2024年12月起，{NEW_RULE}。{SAFE_RULE}")]
        );
        let one = empty("2025-06", "2025-06");
        assert_eq!(period(&one.range), "2025年6月");
        assert_eq!(period(&empty("2025-01", "2025-12").range), "2025年1月-12月");
        assert!(certificate_text(&inputs(), &one).body[0].contains(
            "，2025年6月以报关单(含备案清单)方式申报并结关的进出口贸易额总值为：0；进口总值为：0；出口总值为：0。"
        ));
    }

    #[test]
    fn attachments_list_rows_totals_and_rates() {
        let tv = compute(&sample(), range(), &book()).unwrap();
        let text = certificate_text(&inputs(), &tv);
        let detail = &text.attachments[0];
        assert_eq!(detail.title, "附件1：进出口贸易额明细（2025年3月-4月）");
        assert_eq!(detail.columns.len(), detail.numeric.len());
        assert_eq!(
            detail.rows[0],
            ["2025-03", "进口", "美元", "1", "123,456.78", "7.1000", "876,543.14", "1", "123,456.78"]
        );
        assert_eq!(
            detail.rows[5],
            ["2025-04", "出口", "欧元", "1", "30,010.10", "7.9000", "237,079.79", "1.1100", "33,311.21"]
        );
        assert_eq!(detail.rows[8], ["合计", "进出口", "", "5", "", "", "2,696,977.86", "", "377,817.98"]);
        assert!(detail.rows.iter().all(|r| r.len() == detail.columns.len()));
        let rates = &text.attachments[1];
        assert_eq!(rates.rows.len(), 5);
        assert_eq!(rates.rows[2], ["2025-04", "人民币", "1", "—", "0.1390", "官方"]);
        assert_eq!(rates.rows[4], ["2025-04", "欧元", "7.9000", "2025-03-19", "1.1100", "非官方（仅供参考）"]);
    }

    fn code_of(decls: &[DeclarationValue], book: &RateBook) -> VerificationCode {
        let tv = compute(decls, range(), book).unwrap();
        verification_code(&inputs(), &tv, decls)
    }

    #[test]
    fn verification_code_is_stable_and_sensitive() {
        let base = code_of(&sample(), &book());
        assert_eq!(base.full_hex.len(), 64);
        assert!(base.full_hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        let groups: Vec<&str> = base.short.split('-').collect();
        assert_eq!(groups.len(), 4);
        assert!(groups
            .iter()
            .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))));

        // Same data in another order, `USD` spelled `502`, `50,050` as `50050.00`: same code.
        let mut shuffled = sample();
        shuffled.reverse();
        let d5 = shuffled.iter_mut().find(|d| d.cus_ciq_no == "D5").unwrap();
        assert_eq!(d5.lines[0].0, "USD");
        d5.lines[0].0 = "502".to_owned();
        for d in &mut shuffled {
            for line in &mut d.lines {
                if line.1 == "50,050" {
                    line.1 = "50050.00".to_owned();
                }
            }
        }
        assert_eq!(code_of(&shuffled, &book()), base);

        // One cent more on one line.
        let mut changed = sample();
        changed[0].lines[0].1 = "10000.00".to_owned();
        assert_ne!(code_of(&changed, &book()).full_hex, base.full_hex);
        // A declaration removed, or added.
        assert_ne!(code_of(&sample()[1..], &book()).full_hex, base.full_hex);
        let mut more = sample();
        more.push(DeclarationValue {
            cus_ciq_no: "D6".to_owned(),
            entry_id: None,
            direction: Direction::Import,
            month: ym("2025-03"),
            update_time: "x".to_owned(),
            lines: vec![],
        });
        assert_ne!(code_of(&more, &book()).full_hex, base.full_hex);
        // A newer version of a declaration (same amounts, new updateTime).
        let mut newer = sample();
        newer[2].update_time = "2025-03-29 09:00:00".to_owned();
        assert_ne!(code_of(&newer, &book()).full_hex, base.full_hex);
        // A rate changed by 0.0001, or only its source.
        let mut rate = book();
        rate.merge(
            &RateBook::parse_customs(&format!(
                "{CUSTOMS_HEADER}\n2025-03,USD,7.1001,2025-02-19,https://example.test/customs/2025-03\n"
            ))
            .unwrap(),
        );
        assert_ne!(code_of(&sample(), &rate).full_hex, base.full_hex);
        let mut source = book();
        source.merge(
            &RateBook::parse_customs(&format!(
                "{CUSTOMS_HEADER}\n2025-03,USD,7.1000,2025-02-19,https://example.test/other\n"
            ))
            .unwrap(),
        );
        assert_ne!(code_of(&sample(), &source).full_hex, base.full_hex);
        // The company.
        let tv = compute(&sample(), range(), &book()).unwrap();
        let mut other = inputs();
        other.company_name.push('A');
        assert_ne!(verification_code(&other, &tv, &sample()).full_hex, base.full_hex);
        // The issue date is not part of it: a reprint keeps the code.
        let mut later = inputs();
        later.issue_date = "2026-06-01".parse().unwrap();
        assert_eq!(verification_code(&later, &tv, &sample()), base);
    }

    #[test]
    fn canonical_text_is_versioned_and_escaped() {
        let tv = compute(&sample(), range(), &book()).unwrap();
        let mut tricky = inputs();
        tricky.project = "a\tb\nc\\".to_owned();
        let text = canonical(&tricky, &tv, &sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], CANONICAL_VERSION);
        assert_eq!(lines[1], "range\t2025-03\t2025-04");
        assert_eq!(lines[2], "project\ta\\tb\\nc\\\\");
        assert_eq!(lines[7], "rate\t2025-03\tUSD\tcustoms\t7.1\t2025-02-19\thttps://example.test/customs/2025-03");
        assert_eq!(lines[8], "rate\t2025-03\tUSD\tusd\t1\tidentity: 同一币种，按 1 计");
        assert_eq!(lines[17], "decl\tD1\t2025-03-28 10:00:00\tUSD:100000\tUSD:23456.78");
        assert_eq!(lines.len(), 22);
    }

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    }
}
