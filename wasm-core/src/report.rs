//! The 数据验证报告 page's requests and replies: which months a reconciled sync covers, the
//! trade value figures, and the certificate itself.
//!
//! The page speaks in months (`YYYY-MM`; the form shows `YYYYMM` as the seed does). A
//! certificate's range must lie inside one calendar year ([`ReportRange::check`]) and every month
//! of it must be **covered**: some finished task that asked for both types, both directions and
//! 结关 as 报关收发货人 listed the whole month and reconciled it (查询数 = 命中数 = 核销数). The host
//! decides coverage (`native-host/src/store/trade.rs`); the figures are computed by
//! [`crate::trade_value`] and worded by [`crate::certificate`], shared by the page's preview and
//! the host's PDF so the two can never differ.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::checkpoint::Counts;
use crate::task::TaskNumber;

/// `YYYY-MM` .. `YYYY-MM`, inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRange {
    pub from: String,
    pub to: String,
    /// Only tasks of this enterprise (统一社会信用代码; the pages' active one) count; the
    /// certificate then names it. `None`: every task of the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
}

/// Why a report range is refused (→ 4001 `report_range_invalid`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeProblem {
    #[error("时间范围应为 YYYYMM，例如 202501")]
    Malformed,
    #[error("开始月份不能晚于结束月份")]
    Reversed,
    #[error("时间范围不可跨年：请分别出具各年度的证明")]
    CrossYear,
}

/// Reads `202501`, `2025-01` or `2025/01` as `(2025, 1)`.
pub fn parse_month(text: &str) -> Option<(i32, u8)> {
    let digits: String = text.trim().chars().filter(|c| !matches!(c, '-' | '/' | '.')).collect();
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = digits[..4].parse().ok()?;
    let month: u8 = digits[4..].parse().ok()?;
    ((1..=12).contains(&month) && year >= 1990).then_some((year, month))
}

impl ReportRange {
    /// The range from the form's two fields (any of the forms [`parse_month`] reads), checked.
    pub fn from_form(from: &str, to: &str) -> Result<ReportRange, RangeProblem> {
        let (a, b) = (parse_month(from).ok_or(RangeProblem::Malformed)?, parse_month(to).ok_or(RangeProblem::Malformed)?);
        let range = ReportRange { from: format!("{:04}-{:02}", a.0, a.1), to: format!("{:04}-{:02}", b.0, b.1), enterprise: None };
        range.check()?;
        Ok(range)
    }

    /// Well-formed, not reversed, inside one calendar year.
    pub fn check(&self) -> Result<(), RangeProblem> {
        let a = parse_month(&self.from).ok_or(RangeProblem::Malformed)?;
        let b = parse_month(&self.to).ok_or(RangeProblem::Malformed)?;
        if a > b {
            return Err(RangeProblem::Reversed);
        }
        if a.0 != b.0 {
            return Err(RangeProblem::CrossYear);
        }
        Ok(())
    }

    /// `202501-202512`, as the form shows it.
    pub fn compact(&self) -> String {
        format!("{}-{}", self.from.replace('-', ""), self.to.replace('-', ""))
    }
}

/// One month of a report's range, and whether a reconciled sync covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonthCoverage {
    /// `2025-01`.
    pub month: String,
    /// The task whose reconciled declarations count for this month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskNumber>,
    /// That task's counts for the month (数据协同核验表).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
    /// Why no task covers it (Chinese, for the page), when none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<String>,
}

impl MonthCoverage {
    pub fn covered(&self) -> bool {
        self.task.is_some()
    }
}

/// `report_coverage`'s reply: every month of the range, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    pub months: Vec<MonthCoverage>,
}

impl Coverage {
    /// The months no reconciled sync covers.
    pub fn gaps(&self) -> Vec<&str> {
        self.months.iter().filter(|m| !m.covered()).map(|m| m.month.as_str()).collect()
    }
}

/// A table of the certificate's attachment (附件), as text: what the preview shows and the PDF prints.
pub type TextTable = crate::certificate::Table;

/// The certificate's words, exactly as the PDF prints them (the preview shows the same): title,
/// addressee, body paragraphs, footnotes, issuer, seal text, date line, watermark, attachments.
pub type CertificatePreview = crate::certificate::CertificateText;

/// One month of the trade summary (for the charts): totals converted to RMB and USD, 2 decimals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonthFigures {
    /// `2025-01`.
    pub month: String,
    pub import_declarations: u32,
    pub export_declarations: u32,
    /// Decimal text, e.g. `"1234567.89"` (no separators).
    pub import_rmb: String,
    pub export_rmb: String,
    pub import_usd: String,
    pub export_usd: String,
    /// Original amounts per currency.
    pub by_currency: Vec<CurrencyFigures>,
}

/// One currency's original amounts in a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyFigures {
    /// ISO 4217 (`USD`).
    pub currency: String,
    /// 美元.
    pub name: String,
    /// Decimal text, 2 decimals.
    pub import: String,
    pub export: String,
}

/// `report_trade_value`'s reply: everything the 数据验证报告 page shows for a fully covered range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeValueReport {
    pub range: ReportRange,
    pub coverage: Coverage,
    /// The enterprise (from the declarations, or the settings).
    pub company: String,
    pub credit_code: String,
    pub declarations: u32,
    pub months: Vec<MonthFigures>,
    /// Totals over the range, 2 decimals: RMB and USD, import and export.
    pub import_rmb: String,
    pub export_rmb: String,
    pub import_usd: String,
    pub export_usd: String,
    /// The certificate as it would be printed today.
    pub certificate: CertificatePreview,
    /// The verification code printed on the certificate (short form).
    pub verification_code: String,
    /// Things the user must know before printing (a rate without an official source …).
    pub warnings: Vec<String>,
}

/// `certificate_make`'s reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateMade {
    /// The certificate's number, recorded in the store (`ZM` + date + sequence).
    pub number: String,
    /// `进出口贸易额证明_<企业>_202501-202512.pdf`.
    pub file_name: String,
    /// The PDF, base64 (the reply is chunked when large).
    pub pdf_base64: String,
    pub bytes: u64,
    /// The verification code printed on it (short form).
    pub verification_code: String,
    /// Whether the IC card signed the code.
    pub signed: bool,
    pub warnings: Vec<String>,
}

/// What the user enters on the report form (申报信息).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportForm {
    #[serde(flatten)]
    pub range: ReportRange,
    /// 申请项目: the project the certificate is for (part of the watermark).
    pub project: String,
    /// 申报部门: the department that receives it (the addressee; part of the watermark).
    pub department: String,
}

/// The longest 申请项目 / 申报部门 accepted, in characters.
pub const MAX_FORM_TEXT: usize = 60;

impl ReportForm {
    /// Trimmed, non-empty, not too long (→ 4007 `report_input_invalid`), and a valid range.
    pub fn check(&self) -> Result<(), String> {
        self.range.check().map_err(|p| p.to_string())?;
        for (label, value) in [("申请项目", &self.project), ("申报部门", &self.department)] {
            let n = value.trim().chars().count();
            if n == 0 {
                return Err(format!("请输入{label}"));
            }
            if n > MAX_FORM_TEXT {
                return Err(format!("{label}不超过 {MAX_FORM_TEXT} 个字"));
            }
        }
        Ok(())
    }
}

/// `certificate_make`: the form, and optionally the card PIN to sign the verification code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateRequest {
    #[serde(flatten)]
    pub form: ReportForm,
    /// Signs the verification code with the IC card (needs the PIN unless already verified).
    #[serde(default)]
    pub sign: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<crate::secret::Pin>,
    #[serde(default)]
    pub confirm_last_try: bool,
}

/// `settings_get`'s reply and `settings_set`'s request: the certificate's issuer and seal, and
/// the enterprise's name and credit code when they should not be taken from the declarations.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub values: BTreeMap<String, String>,
}

/// The setting keys, and what they mean.
pub mod setting {
    /// The issuer's name printed under the certificate and on the seal's arc.
    pub const ISSUER: &str = "issuer";
    /// The seal's caption (below the star).
    pub const SEAL_CAPTION: &str = "seal_caption";
    /// The enterprise's name, overriding the one read from the declarations.
    pub const COMPANY: &str = "company";
    /// Its 统一社会信用代码, overriding the one read from the declarations.
    pub const CREDIT_CODE: &str = "credit_code";
    /// Every key `settings_set` accepts.
    pub const ALL: &[&str] = &[ISSUER, SEAL_CAPTION, COMPANY, CREDIT_CODE];
    /// The issuer when none is set.
    pub const DEFAULT_ISSUER: &str = "DataLink 单一窗口数据协同";
    /// The seal's caption when none is set.
    pub const DEFAULT_SEAL_CAPTION: &str = "证明专用章";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_months_in_the_seeds_format_and_refuses_a_cross_year_range() {
        let range = ReportRange::from_form("202301", "202307").unwrap();
        assert_eq!(range, ReportRange { from: "2023-01".into(), to: "2023-07".into(), enterprise: None });
        assert_eq!(range.compact(), "202301-202307");
        assert_eq!(ReportRange::from_form("2025-01", "2025/12").unwrap().to, "2025-12");
        assert_eq!(ReportRange::from_form("202512", "202601"), Err(RangeProblem::CrossYear));
        assert_eq!(ReportRange::from_form("202507", "202501"), Err(RangeProblem::Reversed));
        for bad in ["2025", "202513", "20250", "abcdef", "202500", ""] {
            assert_eq!(ReportRange::from_form(bad, "202512"), Err(RangeProblem::Malformed), "{bad:?}");
        }
        assert!(RangeProblem::CrossYear.to_string().contains("不可跨年"));
    }

    #[test]
    fn the_form_needs_a_project_and_a_department() {
        let form = |project: &str, department: &str| ReportForm {
            range: ReportRange { from: "2025-01".into(), to: "2025-12".into(), enterprise: None },
            project: project.into(),
            department: department.into(),
        };
        assert_eq!(form("外贸发展专项资金", "西安市商务局").check(), Ok(()));
        assert_eq!(form("  ", "西安市商务局").check(), Err("请输入申请项目".into()));
        assert_eq!(form("项目", "").check(), Err("请输入申报部门".into()));
        assert!(form(&"长".repeat(61), "部门").check().is_err());
    }

    #[test]
    fn coverage_names_its_gaps() {
        let month = |m: &str, task: Option<&str>| MonthCoverage {
            month: m.into(),
            task: task.map(|t| TaskNumber(t.into())),
            counts: None,
            gap: None,
        };
        let coverage = Coverage { months: vec![month("2025-01", Some("20260101000000001")), month("2025-02", None)] };
        assert_eq!(coverage.gaps(), ["2025-02"]);
    }
}
