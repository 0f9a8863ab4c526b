//! 数据验证报告 on the host: the coverage check, the trade value figures, the certificate PDF,
//! its verification, and the rate and holiday data they rest on.
//!
//! ```text
//! store::trade (coverage, declarations) ─┐
//! data (shipped + imported rates/holidays)┼─▶ datalink_core::trade_value (figures, exact decimals)
//!                                         │       └─▶ datalink_core::certificate (the words, the code)
//!                                         └─────────────▶ crate::certificate (the PDF: font, seal, watermark, QR)
//! ```
//!
//! Everything that decides a number or a word is pure and lives in `datalink_core`, shared with
//! the extension's preview; this module only gathers the inputs (the store, the data files, the
//! settings, today's date in China) and hands the PDF back. Errors are [`ReportError`]s, each
//! mapped to a stable 4xxx (or store 2xxx) code in one place ([`ReportError::to_info`]).

use std::collections::BTreeMap;

use datalink_core::error::{ErrorCode, ErrorInfo};
use datalink_core::report::{
    setting, CertificateMade, CertificateRequest, Coverage, RangeProblem, ReportForm, ReportRange, Settings, TradeValueReport,
};
pub mod bench;
pub mod cli;
pub mod data;
pub mod make;
pub mod verify;

use crate::store::{self, Store, StoreError};

/// Why a report or certificate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Range(#[from] RangeProblem),
    #[error("{0}")]
    Input(String),
    /// Months without a reconciled sync, named.
    #[error("未完成协同的月份：{}", .0.join("、"))]
    NotSynced(Vec<String>),
    /// Months synced only as 报关申报单位 (a broker's view of its clients): not the
    /// enterprise's own trade, so no certificate.
    #[error("报关申报单位（代理报关）身份协同的数据不能出具进出口贸易额证明，请以报关收发货人身份协同：{}", .0.join("、"))]
    BrokerData(Vec<String>),
    #[error("{0}")]
    RateMissing(String),
    #[error("{0}")]
    HolidayMissing(String),
    #[error("{0}")]
    Value(String),
    #[error("{0}")]
    Font(String),
    #[error("{0}")]
    DataFile(String),
    #[error("{0}")]
    Internal(String),
}

impl ReportError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ReportError::Store(e) => e.code(),
            ReportError::Range(_) => ErrorCode::ReportRangeInvalid,
            ReportError::Input(_) => ErrorCode::ReportInputInvalid,
            ReportError::NotSynced(_) | ReportError::BrokerData(_) => ErrorCode::ReportMonthsNotSynced,
            ReportError::RateMissing(_) => ErrorCode::RateMissing,
            ReportError::HolidayMissing(_) => ErrorCode::HolidayDataMissing,
            ReportError::Value(_) => ErrorCode::DeclarationValueInvalid,
            ReportError::Font(_) => ErrorCode::FontMissing,
            ReportError::DataFile(_) => ErrorCode::DataFileInvalid,
            ReportError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The error as it crosses to the extension: the code's Chinese message, and this error's
    /// text (months, currencies, declaration numbers — never a path or SQL) as the detail.
    pub fn to_info(&self) -> ErrorInfo {
        match self {
            ReportError::Store(e) => e.to_info(),
            other => ErrorInfo::with_detail(other.code(), other.to_string()),
        }
    }
}

pub type Result<T, E = ReportError> = std::result::Result<T, E>;

impl store::RequestError for ReportError {
    fn code(&self) -> ErrorCode {
        ReportError::code(self)
    }
    fn to_info(&self) -> ErrorInfo {
        ReportError::to_info(self)
    }
}

/// `report_coverage`: every month of the range and the task that covers it.
pub fn coverage(store: &Store, range: &ReportRange) -> Result<Coverage> {
    match range.check() {
        Ok(()) | Err(RangeProblem::CrossYear) => {}
        Err(problem) => return Err(problem.into()),
    }
    Ok(Coverage { months: store.trade_coverage(&range.from, &range.to, range.enterprise.as_deref())? })
}

/// `settings_get`.
pub fn settings(store: &Store) -> Result<Settings> {
    Ok(Settings { values: store.settings()? })
}

/// `settings_set`: only known keys, values trimmed and at most 60 characters; answers the new settings.
pub fn set_settings(store: &mut Store, request: &Settings) -> Result<Settings> {
    for (key, value) in &request.values {
        if !setting::ALL.contains(&key.as_str()) {
            return Err(ReportError::Input(format!("未知的设置项 {key}")));
        }
        if value.trim().chars().count() > datalink_core::report::MAX_FORM_TEXT {
            return Err(ReportError::Input(format!("设置项 {key} 过长")));
        }
    }
    let values: BTreeMap<String, String> = request.values.clone();
    store.set_settings(&values)?;
    settings(store)
}

/// `report_trade_value`: the figures and the certificate's words for a fully covered range.
pub fn trade_value(store: &mut Store, form: &ReportForm) -> Result<TradeValueReport> {
    make::trade_value_on(store, form, make::china_today())
}

/// `certificate_make` without a card signature.
pub fn certificate_make(store: &mut Store, request: &CertificateRequest) -> Result<CertificateMade> {
    let prepared = make::prepare(store, &request.form, make::china_today(), None)?;
    Ok(make::issue(store, prepared, None)?.0)
}

/// The text the IC card signs: the certificate's full verification code, labelled.
pub fn signed_text(full_code: &str) -> String {
    format!("DataLink 进出口贸易额证明 核验码 {full_code}")
}

/// `certificate_make`, as the host answers it: with `sign`, the verification code is computed
/// first, signed by the IC card (the store is not held while the card works), then the
/// certificate is prepared again — the same code, or the data changed meanwhile and the request
/// fails — rendered with the signature, and recorded.
pub async fn certificate_request(mut request: CertificateRequest) -> std::result::Result<serde_json::Value, ErrorInfo> {
    if !request.sign {
        return store::call("certificate_make", move |s| certificate_make(s, &request)).await;
    }
    let today = make::china_today();
    let form = request.form.clone();
    let code = store::call("certificate_make", move |s| make::prepare(s, &form, today, None).map(|p| p.code.full_hex)).await?;
    let code = code.as_str().unwrap_or_default().to_owned();
    let signed = crate::card::requests::sign(datalink_core::protocol::CardSignRequest {
        data: signed_text(&code),
        pin: request.pin.take(),
        confirm_last_try: request.confirm_last_try,
        settings: Default::default(),
    })
    .await?;
    let signature = make::CardSignature { signature: signed.signature, certificate: signed.cert_no };
    store::call("certificate_make", move |s| {
        let prepared = make::prepare(s, &request.form, today, None)?;
        if prepared.code.full_hex != code {
            return Err(ReportError::Internal("本地数据在签名期间发生变化，请重新出具".into()));
        }
        Ok(make::issue(s, prepared, Some(signature))?.0)
    })
    .await
}

#[cfg(test)]
mod tests;
