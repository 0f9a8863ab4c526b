//! From the store to the figures, and from the figures to the certificate PDF.
//!
//! [`prepare`] gathers everything a certificate depends on — coverage, the reconciled
//! declarations, the rate tables, the enterprise, the issuer, the date — into a [`Prepared`];
//! [`issue`] numbers it, renders it ([`crate::certificate::render`]) and records it in the
//! store. [`Inputs`] (embedded in the PDF's metadata) is what a later
//! `verify-certificate` needs to prepare the very same certificate again.

use datalink_core::calendar::Date;
use datalink_core::certificate::{self, CertificateInputs, CertificateText, VerificationCode};
use datalink_core::month::YearMonth;
use datalink_core::rates::customs_rate_date;
use datalink_core::report::{
    setting, CertificateMade, Coverage, CurrencyFigures, MonthFigures, ReportForm, TradeValueReport,
};
use datalink_core::task::Direction;
use datalink_core::trade_value::{self, DeclarationValue, Range, TradeValue, TradeValueError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{data, ReportError, Result};
use crate::certificate::{self as pdf, CertificateDocument, Seal, Verification};
use crate::store::trade::enterprise_of;
use crate::store::Store;

/// `/Info` key of the JSON [`Inputs`].
pub const INPUTS_KEY: &str = "DataLinkInputs";
/// `/Info` key of the certificate number.
pub const NUMBER_KEY: &str = "DataLinkCertificate";
/// `/Info` key of the IC card certificate that signed the code.
pub const CARD_CERT_KEY: &str = "DataLinkCardCertificate";

/// What a certificate was made from, besides the store's data: enough to make it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inputs {
    /// Bumped when the meaning of these fields changes.
    pub version: u32,
    pub number: String,
    pub form: ReportForm,
    pub company: String,
    pub credit_code: String,
    pub issuer: String,
    pub seal_caption: String,
    pub issue_date: Date,
    /// The card's signature over the verification code (base64) and its certificate number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_certificate: Option<String>,
}

/// A card signature over the verification code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSignature {
    pub signature: String,
    pub certificate: String,
}

/// Everything a certificate shows, computed.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub form: ReportForm,
    pub coverage: Coverage,
    pub declarations: Vec<DeclarationValue>,
    pub value: TradeValue,
    pub inputs: CertificateInputs,
    pub text: CertificateText,
    pub code: VerificationCode,
    /// What the user must read before printing (unofficial rates, rate dates off the rule).
    pub warnings: Vec<String>,
}

/// Seconds since the epoch, shifted to China's clock (UTC+8, no daylight saving).
fn china_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) + 8 * 3600
}

/// Today in China: the date a certificate carries. Chinese departments read it, wherever the
/// computer's clock is set.
pub fn china_today() -> Date {
    Date::from_day_number(i64::try_from(china_seconds() / 86_400).unwrap_or(0))
}

/// Now in China as `YYYY-MM-DD HH:MM:SS`.
pub fn china_now() -> String {
    let secs = china_seconds();
    let s = secs % 86_400;
    format!("{} {:02}:{:02}:{:02}", Date::from_day_number(i64::try_from(secs / 86_400).unwrap_or(0)), s / 3600, s % 3600 / 60, s % 60)
}

fn month(text: &str) -> Result<YearMonth> {
    text.parse().map_err(|_| ReportError::Range(datalink_core::report::RangeProblem::Malformed))
}

fn trade_error(error: TradeValueError) -> ReportError {
    match error {
        TradeValueError::CrossYear { .. } => ReportError::Range(datalink_core::report::RangeProblem::CrossYear),
        TradeValueError::Reversed { .. } => ReportError::Range(datalink_core::report::RangeProblem::Reversed),
        TradeValueError::Rate(e) => ReportError::RateMissing(e.to_string()),
        other @ (TradeValueError::UnknownCurrency { .. } | TradeValueError::BadAmount { .. }) => ReportError::Value(other.to_string()),
        other => ReportError::Internal(other.to_string()),
    }
}

/// Computes a certificate for `form` from the store. With `fixed` (a certificate being
/// verified), the enterprise, issuer and date come from it rather than from today's settings.
pub fn prepare(store: &Store, form: &ReportForm, today: Date, fixed: Option<&Inputs>) -> Result<Prepared> {
    form.range.check()?;
    if fixed.is_none() {
        form.check().map_err(ReportError::Input)?;
    }
    let range = Range::new(month(&form.range.from)?, month(&form.range.to)?).map_err(trade_error)?;
    let enterprise = form.range.enterprise.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let (months, stored) = store.trade_declarations(&form.range.from, &form.range.to, enterprise)?;
    let coverage = Coverage { months };
    let gaps: Vec<String> = coverage.gaps().into_iter().map(str::to_owned).collect();
    if !gaps.is_empty() {
        let broker = coverage.months.iter().filter(|m| !m.covered()).all(|m| m.gap.as_deref() == Some(crate::store::trade::BROKER_GAP));
        return Err(if broker { ReportError::BrokerData(gaps) } else { ReportError::NotSynced(gaps) });
    }
    let declarations: Vec<DeclarationValue> = stored
        .iter()
        .map(|d| {
            Ok(DeclarationValue {
                cus_ciq_no: d.cus_ciq_no.clone(),
                entry_id: d.entry_id.clone(),
                direction: d.direction,
                month: month(&d.month)?,
                update_time: d.update_time.clone(),
                lines: d.lines.clone(),
            })
        })
        .collect::<Result<_>>()?;
    let (book, calendar) = data::load(store)?;
    let value = trade_value::compute(&declarations, range, &book).map_err(trade_error)?;
    let mut warnings = unofficial(&value);
    // A table row whose rate date is not the one the month's rule gives is probably a typo.
    for rate in &value.rates {
        let Some(found) = rate.rate_date else { continue };
        let expected = customs_rate_date(rate.month, &calendar).map_err(|e| ReportError::HolidayMissing(e.to_string()))?;
        if expected != found {
            warnings.push(format!(
                "{} {} 的海关计征汇率日期为 {found}，按规则应为 {expected}，请核对汇率表",
                rate.month, rate.currency
            ));
        }
    }

    let inputs = match fixed {
        Some(f) => CertificateInputs {
            project: f.form.project.clone(),
            department: f.form.department.clone(),
            company_name: f.company.clone(),
            credit_code: f.credit_code.clone(),
            platform: certificate::DEFAULT_PLATFORM.to_owned(),
            issuer: f.issuer.clone(),
            seal_text: f.seal_caption.clone(),
            issue_date: f.issue_date,
        },
        None => {
            let settings = store.settings()?;
            let get = |key: &str| settings.get(key).cloned().filter(|v| !v.trim().is_empty());
            // The active enterprise names the certificate when the store knows it (its tasks ran
            // in its portal session); otherwise the settings, then the declarations' 收发货人.
            let known = match enterprise {
                Some(scc) => store.enterprise(scc)?.filter(|e| !e.name.trim().is_empty()),
                None => None,
            };
            let found = enterprise_of(&stored);
            let company = known
                .as_ref()
                .map(|e| e.name.clone())
                .or_else(|| get(setting::COMPANY))
                .or_else(|| found.as_ref().map(|f| f.0.clone()));
            let credit_code = known
                .as_ref()
                .map(|e| e.scc.clone())
                .or_else(|| get(setting::CREDIT_CODE))
                .or_else(|| found.as_ref().map(|f| f.1.clone()));
            let (Some(company), Some(credit_code)) = (company, credit_code) else {
                return Err(ReportError::Input(
                    "报关单中没有企业名称和统一社会信用代码，请在设置中填写企业名称和统一社会信用代码".into(),
                ));
            };
            CertificateInputs {
                project: form.project.trim().to_owned(),
                department: form.department.trim().to_owned(),
                company_name: company,
                credit_code,
                platform: certificate::DEFAULT_PLATFORM.to_owned(),
                issuer: get(setting::ISSUER).unwrap_or_else(|| setting::DEFAULT_ISSUER.to_owned()),
                seal_text: get(setting::SEAL_CAPTION).unwrap_or_else(|| setting::DEFAULT_SEAL_CAPTION.to_owned()),
                issue_date: today,
            }
        }
    };
    let text = certificate::certificate_text(&inputs, &value);
    let code = certificate::verification_code(&inputs, &value, &declarations);
    Ok(Prepared { form: form.clone(), coverage, declarations, value, inputs, text, code, warnings })
}

/// Decimal text with 2 decimals (no separators) for the page.
fn two(m: datalink_core::money::Money) -> String {
    m.grouped(2).replace(',', "")
}

/// The warning about rates without an official source, if any were used.
fn unofficial(value: &TradeValue) -> Vec<String> {
    if value.unofficial_rates.is_empty() {
        return Vec::new();
    }
    let mut named: Vec<String> = value.unofficial_rates.iter().map(|r| format!("{} {}", r.month, r.currency)).collect();
    named.dedup();
    let more = if named.len() > 6 { format!("等 {} 项", named.len()) } else { String::new() };
    named.truncate(6);
    vec![format!(
        "以下汇率没有官方来源（为估算值），证明中已注明：{}{more}。请先用 datalink-host rates import 导入海关和外汇局公布的汇率表。",
        named.join("、")
    )]
}

impl Prepared {
    /// What `report_trade_value` answers.
    pub fn report(&self) -> TradeValueReport {
        let v = &self.value;
        let mut months: Vec<MonthFigures> = Vec::new();
        for m in v.range.months() {
            let rows: Vec<_> = v.rows.iter().filter(|r| r.month == m).collect();
            let sum = |dir: Direction, rmb: bool| {
                let amounts = rows.iter().filter(|r| r.direction == dir).map(|r| if rmb { r.rmb } else { r.usd });
                datalink_core::money::Money::sum(amounts).map(two).unwrap_or_default()
            };
            let count = |dir: Direction| {
                let n = self.declarations.iter().filter(|d| d.month == m && d.direction == dir).count();
                u32::try_from(n).unwrap_or(u32::MAX)
            };
            let mut currencies: Vec<String> = rows.iter().map(|r| r.currency.clone()).collect();
            currencies.sort_by_key(|c| datalink_core::currency::rank(c));
            currencies.dedup();
            let by_currency = currencies
                .iter()
                .map(|c| {
                    let of = |dir: Direction| {
                        rows.iter().find(|r| &r.currency == c && r.direction == dir).map(|r| two(r.original)).unwrap_or_else(|| "0.00".into())
                    };
                    CurrencyFigures {
                        currency: c.clone(),
                        name: datalink_core::currency::name_of(c).to_owned(),
                        import: of(Direction::Import),
                        export: of(Direction::Export),
                    }
                })
                .collect();
            months.push(MonthFigures {
                month: m.to_string(),
                import_declarations: count(Direction::Import),
                export_declarations: count(Direction::Export),
                import_rmb: sum(Direction::Import, true),
                export_rmb: sum(Direction::Export, true),
                import_usd: sum(Direction::Import, false),
                export_usd: sum(Direction::Export, false),
                by_currency,
            });
        }
        TradeValueReport {
            range: self.form.range.clone(),
            coverage: self.coverage.clone(),
            company: self.inputs.company_name.clone(),
            credit_code: self.inputs.credit_code.clone(),
            declarations: u32::try_from(self.declarations.len()).unwrap_or(u32::MAX),
            months,
            import_rmb: two(v.import.rmb),
            export_rmb: two(v.export.rmb),
            import_usd: two(v.import.usd),
            export_usd: two(v.export.usd),
            certificate: self.text.clone(),
            verification_code: self.code.short.clone(),
            warnings: self.warnings.clone(),
        }
    }

    /// The PDF's content for certificate `number`, signed or not.
    fn document(&self, number: &str, signature: Option<&CardSignature>) -> Result<CertificateDocument> {
        let t = &self.text;
        let inputs = Inputs {
            version: 1,
            number: number.to_owned(),
            form: self.form.clone(),
            company: self.inputs.company_name.clone(),
            credit_code: self.inputs.credit_code.clone(),
            issuer: self.inputs.issuer.clone(),
            seal_caption: self.inputs.seal_text.clone(),
            issue_date: self.inputs.issue_date,
            signature: signature.map(|s| s.signature.clone()),
            card_certificate: signature.map(|s| s.certificate.clone()),
        };
        let inputs_json = serde_json::to_string(&inputs).map_err(|e| ReportError::Internal(e.to_string()))?;
        let mut metadata = vec![(INPUTS_KEY.to_owned(), inputs_json), (NUMBER_KEY.to_owned(), number.to_owned())];
        if let Some(s) = signature {
            metadata.push((CARD_CERT_KEY.to_owned(), s.certificate.clone()));
        }
        let mut note = format!("证明编号 {number}　核验：datalink-host verify-certificate 本文件");
        if let Some(s) = signature {
            note += &format!("　IC卡证书 {}", s.certificate);
        }
        Ok(CertificateDocument {
            title: t.title.clone(),
            addressee: t.addressee.clone(),
            body: t.body.clone(),
            issuer: t.issuer.clone(),
            date_line: t.date_line.clone(),
            seal: Some(Seal { issuer_arc: t.issuer.clone(), caption: t.seal_text.clone() }),
            footnotes: t.footnotes.clone(),
            watermark: t.watermark.clone(),
            verification: Some(Verification {
                code: self.code.short.clone(),
                qr_payload: format!("DATALINK:{number}:{}", self.code.full_hex),
                note,
                signature: signature.map(|s| s.signature.clone()),
            }),
            attachments: t
                .attachments
                .iter()
                .map(|a| pdf::Table { title: a.title.clone(), columns: a.columns.clone(), numeric: a.numeric.clone(), rows: a.rows.clone() })
                .collect(),
            metadata,
            pdf_title: format!("{} {}", t.title, self.form.range.compact()),
        })
    }

    /// Renders the PDF for certificate `number`.
    pub fn render(&self, number: &str, signature: Option<&CardSignature>) -> Result<Vec<u8>> {
        let document = self.document(number, signature)?;
        pdf::render(&document).map_err(|e| match e {
            pdf::PdfError::Font(f) => ReportError::Font(f.to_string()),
            other => ReportError::Internal(other.to_string()),
        })
    }

    /// `进出口贸易额证明_<企业>_202501-202512.pdf`, without characters file systems refuse.
    pub fn file_name(&self) -> String {
        let company: String =
            self.inputs.company_name.chars().filter(|c| !matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') && !c.is_control()).collect();
        format!("{}_{}_{}.pdf", certificate::TITLE, company, self.form.range.compact())
    }
}

/// `report_trade_value` on the shared store, dated `today`.
pub fn trade_value_on(store: &Store, form: &ReportForm, today: Date) -> Result<TradeValueReport> {
    // The figures do not depend on 申请项目 / 申报部门; the page may ask before they are typed.
    let mut form = form.clone();
    for field in [&mut form.project, &mut form.department] {
        if field.trim().is_empty() {
            "-".clone_into(field);
        }
    }
    Ok(prepare(store, &form, today, None)?.report())
}

/// Numbers, renders and records a prepared certificate; answers the reply and the PDF bytes.
pub fn issue(store: &mut Store, prepared: Prepared, signature: Option<CardSignature>) -> Result<(CertificateMade, Vec<u8>)> {
    let date = prepared.inputs.issue_date;
    let number = store.next_certificate_number(&format!("{:04}{:02}{:02}", date.year(), date.month(), date.day()))?;
    let pdf = prepared.render(&number, signature.as_ref())?;
    let sha: String = Sha256::digest(&pdf).iter().map(|b| format!("{b:02x}")).collect();
    let inputs = serde_json::to_string(&prepared.form).map_err(|e| ReportError::Internal(e.to_string()))?;
    store.record_certificate(&crate::store::trade::IssuedCertificate {
        number: number.clone(),
        issued_at: china_now(),
        range_from: prepared.form.range.from.clone(),
        range_to: prepared.form.range.to.clone(),
        inputs,
        code: prepared.code.full_hex.clone(),
        declarations: u32::try_from(prepared.declarations.len()).unwrap_or(u32::MAX),
        pdf_sha256: sha,
        signature: signature.as_ref().map(|s| s.signature.clone()),
    })?;
    use base64::Engine as _;
    let made = CertificateMade {
        number,
        file_name: prepared.file_name(),
        bytes: pdf.len() as u64,
        pdf_base64: base64::engine::general_purpose::STANDARD.encode(&pdf),
        verification_code: prepared.code.short.clone(),
        signed: signature.is_some(),
        warnings: prepared.warnings.clone(),
    };
    Ok((made, pdf))
}
