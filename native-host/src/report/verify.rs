//! `datalink-host verify-certificate FILE.pdf`: does a certificate still say what the local data
//! says?
//!
//! The PDF carries, in its `/Info` dictionary, the inputs it was made from ([`Inputs`]: the
//! form, the enterprise, the issuer, the issue date, the number, a card signature). Verifying
//! prepares the same certificate again from the store with those inputs, then compares:
//!
//! 1. the **verification code** — a hash over the inputs, the rates used and every counted
//!    declaration with its values ([`datalink_core::certificate::canonical`]): a different
//!    code means the data changed after the certificate was made (a declaration added, removed
//!    or amended, a rate imported);
//! 2. the **pages** — the renderer is deterministic, so the same inputs and data give the same
//!    page content streams; a difference with an equal code means the PDF itself was edited
//!    (an amount changed in an editor).
//!
//! Either difference is a rejection. A PDF without DataLink's metadata is not a DataLink
//! certificate.

use super::make::{prepare, CardSignature, Inputs, INPUTS_KEY};
use super::{ReportError, Result};
use crate::certificate::{self as pdf};
use crate::store::Store;

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The PDF is what the store's data gives today.
    Matches {
        number: String,
        code: String,
        signed: bool,
        /// Whether this store issued it (else it was made from another copy of the data).
        recorded: bool,
    },
    /// The data changed since the certificate was made.
    DataChanged { number: String, printed: String, now: String },
    /// The code matches but the pages do not: the PDF was edited.
    Edited { number: String, pages: Vec<usize> },
    /// The months are no longer covered by a reconciled sync.
    NoLongerCovered { number: String, detail: String },
    /// Not a DataLink certificate (no or unreadable metadata).
    NotOurs,
}

impl Verdict {
    pub fn matches(&self) -> bool {
        matches!(self, Verdict::Matches { .. })
    }

    /// What the user reads.
    pub fn message(&self) -> String {
        match self {
            Verdict::Matches { number, code, signed, recorded } => format!(
                "核验通过：证明 {number} 与本地数据一致（核验码 {code}{}{}）",
                if *signed { "，含IC卡签名" } else { "" },
                if *recorded { "" } else { "；本机没有该证明的出具记录" }
            ),
            Verdict::DataChanged { number, printed, now } => {
                format!("核验未通过：证明 {number} 出具后本地数据已变化（证明上的核验码 {printed}，按当前数据应为 {now}），请重新出具")
            }
            Verdict::Edited { number, pages } => {
                let pages: Vec<String> = pages.iter().map(|p| format!("第 {p} 页")).collect();
                format!("核验未通过：证明 {number} 的内容被修改过（{}与本地数据生成的不一致）", pages.join("、"))
            }
            Verdict::NoLongerCovered { number, detail } => format!("核验未通过：证明 {number} 的数据已不完整：{detail}"),
            Verdict::NotOurs => "核验未通过：该文件不是 DataLink 出具的证明，或其核验信息已被删除".to_owned(),
        }
    }
}

/// Verifies `bytes` against the store.
pub fn verify(store: &Store, bytes: &[u8]) -> Result<Verdict> {
    let Ok(metadata) = pdf::read_metadata(bytes) else { return Ok(Verdict::NotOurs) };
    let get = |key: &str| metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let Some(inputs) = get(INPUTS_KEY).and_then(|json| serde_json::from_str::<Inputs>(&json).ok()) else {
        return Ok(Verdict::NotOurs);
    };
    let printed = get(pdf::CODE_KEY).unwrap_or_default();
    let number = inputs.number.clone();
    let prepared = match prepare(store, &inputs.form, inputs.issue_date, Some(&inputs)) {
        Ok(p) => p,
        Err(e @ (ReportError::NotSynced(_) | ReportError::BrokerData(_) | ReportError::RateMissing(_))) => {
            return Ok(Verdict::NoLongerCovered { number, detail: e.to_string() })
        }
        Err(e) => return Err(e),
    };
    if prepared.code.short != printed {
        return Ok(Verdict::DataChanged { number, printed, now: prepared.code.short });
    }
    let signature = match (&inputs.signature, &inputs.card_certificate) {
        (Some(signature), Some(certificate)) => Some(CardSignature { signature: signature.clone(), certificate: certificate.clone() }),
        _ => None,
    };
    let expected = prepared.render(&number, signature.as_ref())?;
    let (Ok(theirs), Ok(ours)) = (pdf::page_contents(bytes), pdf::page_contents(&expected)) else {
        return Ok(Verdict::NotOurs);
    };
    let mut pages: Vec<usize> = (0..theirs.len().max(ours.len())).filter(|&i| theirs.get(i) != ours.get(i)).map(|i| i + 1).collect();
    pages.dedup();
    if !pages.is_empty() {
        return Ok(Verdict::Edited { number, pages });
    }
    let recorded = store.certificate(&number)?.is_some();
    Ok(Verdict::Matches { number, code: printed, signed: signature.is_some(), recorded })
}
