//! The IC card (中国电子口岸卡): reading it, checking its PIN, signing with it.
//!
//! Real users' machines reach the card in one of two ways, so there are two [`CardBackend`]s:
//!
//! * **The E-Port client control** ([`eport`]): the vendor's local WebSocket server
//!   (`ws://127.0.0.1:61232`). It knows the card's real command set, so it can check the PIN and
//!   sign. This is how the Single Window portal itself uses the card.
//! * **PC/SC** ([`pcsc_backend`], the `pcsc` cargo feature, on by default): the operating
//!   system's smart-card service (pcscd on Linux, WinSCard on Windows). It always works for
//!   readers, card presence and the ATR; it sends commands — and a PIN — only to a card whose ATR
//!   matches a known [`atr::CardProfile`], because each wrong guess burns one of the card's
//!   tries and the real card's commands are not public.
//!
//! [`service`] picks the backend (`auto`: the control when it answers, else PC/SC with a known
//! card; or whatever the settings force), keeps it between requests, and runs the PIN rules:
//! format checked first ([`pin`]), never retried, a last try only when confirmed, a locked card
//! never tried again. [`env_check`] turns what was found into the 环境检测 report, each problem
//! an [`ErrorCode`] whose Chinese message lives in `wasm-core/src/error.rs` like every other.
//!
//! The parsers are pure and unit-tested on bytes and strings: [`apdu`] (commands, status words),
//! [`atr`] (ATR, profiles), [`cert`] (X.509 for holder, company and dates), [`eport_reply`] (the
//! control's JSON and its error texts). The I/O sits in thin edges: [`eport`], [`pcsc_backend`].
//! [`requests`] serves the host protocol (`card_status`, `card_verify_pin`, `card_sign`,
//! `card_wait`), [`cli`] the `datalink-host card …` commands.

#[cfg(feature = "pcsc")]
pub mod apdu;
#[cfg(feature = "pcsc")]
pub mod atr;
pub mod cert;
pub mod cli;
pub mod env_check;
pub mod eport;
pub mod eport_reply;
#[cfg(feature = "pcsc")]
pub mod pcsc_backend;
pub mod pin;
pub mod requests;
pub mod service;

use std::time::Duration;

use datalink_core::error::{ErrorCode, ErrorInfo};
use datalink_core::protocol::{CardBackendKind, CardIdentity, CardWaitFor, ReaderStatus};

pub use pin::Pin;

/// Everything that can go wrong with the card, each with its stable [`ErrorCode`]. The `String`s
/// are details for developers: status words, library errors, the control's raw `Error` text —
/// never a PIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("the PC/SC service is not available: {0}")]
    NoPcscService(String),
    #[error("the E-Port client control does not answer: {0}")]
    ClientControlNotRunning(String),
    #[error("no reader: {0}")]
    NoReader(String),
    #[error("no card in the reader")]
    NoCard,
    #[error("the card was removed during the operation")]
    CardRemoved,
    #[error("the reader is in use by another program: {0}")]
    ReaderBusy(String),
    #[error("wrong PIN, {}", retries_text(*.retries_left))]
    WrongPin { retries_left: Option<u8> },
    #[error("the card is locked")]
    CardLocked,
    #[error("the PIN's format is wrong: {0}")]
    PinFormat(String),
    #[error("unsupported card: {0}")]
    UnsupportedCard(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("reader or card failure: {0}")]
    ReaderError(String),
    #[error("the E-Port client control reported: {0}")]
    ClientError(String),
    #[error("the E-Port client control's reply is invalid: {0}")]
    ClientReplyInvalid(String),
    #[error("the card needs the PIN first")]
    PinRequired,
    #[error("one PIN try left and not confirmed")]
    LastTryUnconfirmed,
    #[error("the certificate is not valid now: {0}")]
    CertNotValidNow(String),
    #[error("card settings refused: {0}")]
    InvalidSettings(String),
    #[error("internal: {0}")]
    Internal(String),
}

fn retries_text(retries: Option<u8>) -> String {
    match retries {
        Some(n) => format!("{n} tries left"),
        None => "tries left unknown".into(),
    }
}

impl CardError {
    /// The stable code (see PROTOCOL.md).
    pub fn code(&self) -> ErrorCode {
        match self {
            CardError::NoPcscService(_) => ErrorCode::NoPcscService,
            CardError::ClientControlNotRunning(_) => ErrorCode::ClientControlNotRunning,
            CardError::NoReader(_) => ErrorCode::NoReader,
            CardError::NoCard => ErrorCode::NoCard,
            CardError::CardRemoved => ErrorCode::CardRemoved,
            CardError::ReaderBusy(_) => ErrorCode::ReaderBusy,
            CardError::WrongPin { .. } => ErrorCode::WrongPin,
            CardError::CardLocked => ErrorCode::CardLocked,
            CardError::PinFormat(_) => ErrorCode::PinFormat,
            CardError::UnsupportedCard(_) => ErrorCode::UnsupportedCard,
            CardError::Timeout(_) => ErrorCode::CardTimeout,
            CardError::ReaderError(_) => ErrorCode::ReaderError,
            CardError::ClientError(_) => ErrorCode::CardClientError,
            CardError::ClientReplyInvalid(_) => ErrorCode::CardClientReplyInvalid,
            CardError::PinRequired => ErrorCode::PinRequired,
            CardError::LastTryUnconfirmed => ErrorCode::LastTryUnconfirmed,
            CardError::CertNotValidNow(_) => ErrorCode::CertNotValidNow,
            CardError::InvalidSettings(_) => ErrorCode::InvalidRequest,
            CardError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The error as it crosses to the extension: code, Chinese message, detail.
    pub fn to_info(&self) -> ErrorInfo {
        match self {
            CardError::WrongPin { retries_left } => ErrorInfo::wrong_pin(*retries_left),
            other => ErrorInfo::with_detail(other.code(), other.to_string()),
        }
    }

    /// Whether the card may have seen the request (so its outcome is unknown, and it must not be
    /// repeated with a PIN).
    pub fn is_card_gone(&self) -> bool {
        matches!(self, CardError::CardRemoved | CardError::NoCard)
    }
}

impl From<CardError> for ErrorInfo {
    fn from(error: CardError) -> ErrorInfo {
        error.to_info()
    }
}

/// Readers and card presence, as a backend sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presence {
    /// PC/SC readers (empty for the E-Port control, which hides them).
    pub readers: Vec<ReaderStatus>,
    pub card_present: bool,
    /// The reader holding the card DataLink would use.
    pub reader: Option<String>,
}

/// A signature made by the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Base64.
    pub signature: String,
    pub cert_no: String,
}

/// One way of reaching the card. Implementations are blocking; [`requests`] runs them off the
/// async runtime. None of them ever retries a PIN.
pub trait CardBackend: Send {
    fn kind(&self) -> CardBackendKind;

    /// Readers and presence; never sends a PIN, never spends a try.
    fn presence(&mut self) -> Result<Presence, CardError>;

    /// Card number, holder, company, certificate.
    fn identity(&mut self) -> Result<CardIdentity, CardError>;

    /// Tries left, if the backend can tell without spending one.
    fn pin_retries(&mut self) -> Result<Option<u8>, CardError>;

    /// Checks the PIN on the card, once.
    fn verify_pin(&mut self, pin: &Pin) -> Result<(), CardError>;

    /// Signs `data`, verifying `pin` first when given.
    fn sign(&mut self, data: &[u8], pin: Option<&Pin>) -> Result<Signature, CardError>;

    /// Waits until a card is present or absent, or `timeout` passes.
    fn wait(&mut self, until: CardWaitFor, timeout: Duration) -> Result<Presence, CardError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_card_error_has_a_card_code_and_no_empty_message() {
        let all = [
            CardError::NoPcscService("x".into()),
            CardError::ClientControlNotRunning("x".into()),
            CardError::NoReader("x".into()),
            CardError::NoCard,
            CardError::CardRemoved,
            CardError::ReaderBusy("x".into()),
            CardError::WrongPin { retries_left: Some(2) },
            CardError::CardLocked,
            CardError::PinFormat("x".into()),
            CardError::UnsupportedCard("x".into()),
            CardError::Timeout("x".into()),
            CardError::ReaderError("x".into()),
            CardError::ClientError("x".into()),
            CardError::ClientReplyInvalid("x".into()),
            CardError::PinRequired,
            CardError::LastTryUnconfirmed,
            CardError::CertNotValidNow("x".into()),
        ];
        let mut codes: Vec<u32> = all.iter().map(|e| e.code().code()).collect();
        assert!(codes.iter().all(|c| (3001..3100).contains(c)), "{codes:?}");
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "each error has its own code");
        for e in &all {
            let info = e.to_info();
            assert!(!info.message.is_empty());
            assert_eq!(info.code, e.code().code());
        }
        assert_eq!(CardError::Internal("x".into()).code(), ErrorCode::Internal);
        assert_eq!(CardError::InvalidSettings("x".into()).code(), ErrorCode::InvalidRequest);
    }

    #[test]
    fn a_wrong_pin_reaches_the_page_with_its_count() {
        let info = CardError::WrongPin { retries_left: Some(1) }.to_info();
        assert_eq!((info.code, info.retries_left), (3007, Some(1)));
        assert!(info.message.contains("将被锁定"));
        let info = CardError::WrongPin { retries_left: None }.to_info();
        assert_eq!(info.retries_left, None);
    }
}
