//! The PC/SC backend: the operating system's smart-card service, through the `pcsc` crate.
//!
//! What it does for every card: list readers, see which hold a card and its ATR, and wait for a
//! card to come or go — with `SCardGetStatusChange`, where the service wakes us on a change
//! (no sleeping loops). What it does only for a card whose ATR matches a known
//! [`CardProfile`](super::atr::CardProfile): SELECT the applet, read the card number and the
//! certificate, ask the PIN retry counter (VERIFY without data: no try spent), VERIFY the PIN,
//! sign. **An unknown card gets no command at all**, so it can never receive a PIN.
//!
//! The context is kept between calls and re-established when the service went away (pcscd
//! restarted: calls fail with "no service", "service stopped" or "invalid handle"); a call
//! without a PIN is then run once more on the new context. The card connection (a *session*)
//! is kept too, so a PIN verified by `card_verify_pin` still counts for a later `card_sign`;
//! it is dropped when the card is pulled, reset, or swapped.
//!
//! Errors: no service → 3001; no reader (or none matching the `reader` setting) → 3003; no card
//! → 3004; pulled out during a command → 3005; sharing violation (another program holds the card
//! exclusively) → 3006; status words as [`apdu`](super::apdu) maps them.

use std::ffi::{CStr, CString};
use std::time::{Duration, Instant};

use datalink_core::protocol::{CardBackendKind, CardIdentity, CardWaitFor, ReaderStatus};
use pcsc::{Card, Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};
use sha2::{Digest, Sha256};

use super::apdu::{self, Response, Step};
use super::atr::{self, CardProfile};
use super::{cert, CardBackend, CardError, Pin, Presence, Signature};
use crate::log::info;

/// After a failed command, how long to wait for the service to report the card gone before
/// calling the failure a reader error.
const REMOVAL_NOTICED_WITHIN: Duration = Duration::from_secs(2);

/// A connection to a card of a known profile.
struct Session {
    reader: CString,
    card: Card,
    atr: Vec<u8>,
    profile: &'static CardProfile,
    certificate: Option<cert::CertInfo>,
}

/// PC/SC, optionally limited to readers whose name contains `reader_filter`.
pub struct PcscBackend {
    context: Option<Context>,
    reader_filter: Option<String>,
    session: Option<Session>,
}

/// Errors after which the context is useless: the service stopped or restarted.
fn service_gone(e: pcsc::Error) -> bool {
    matches!(e, pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::InvalidHandle | pcsc::Error::Shutdown)
}

/// A `pcsc` error where no more specific meaning applies.
fn map_error(e: pcsc::Error) -> CardError {
    match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::Shutdown | pcsc::Error::InvalidHandle => {
            CardError::NoPcscService(e.to_string())
        }
        pcsc::Error::NoReadersAvailable | pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable => CardError::NoReader(e.to_string()),
        pcsc::Error::NoSmartcard => CardError::NoCard,
        pcsc::Error::RemovedCard => CardError::CardRemoved,
        pcsc::Error::SharingViolation => CardError::ReaderBusy(e.to_string()),
        pcsc::Error::Timeout => CardError::Timeout(e.to_string()),
        other => CardError::ReaderError(other.to_string()),
    }
}

impl PcscBackend {
    pub fn new(reader_filter: Option<String>) -> PcscBackend {
        PcscBackend { context: None, reader_filter, session: None }
    }

    /// Changes the reader setting; a session on another reader ends.
    pub fn set_reader_filter(&mut self, filter: Option<String>) {
        if self.reader_filter != filter {
            self.end_session(false);
            self.reader_filter = filter;
        }
    }

    /// Ends the session: a card still there is reset (a verified PIN does not outlive us); a
    /// card that is gone is only let go — resetting it fails, and leaves vpcd's slot deaf to
    /// the next card for minutes. Returns the session's reader.
    ///
    /// After a failed command the card counts as gone whatever its status says: the service
    /// may not have noticed the removal yet.
    fn end_session(&mut self, after_failure: bool) -> Option<CString> {
        let session = self.session.take()?;
        let still_there =
            !after_failure && session.card.status2_owned().map(|s| s.atr() == session.atr.as_slice()).unwrap_or(false);
        let disposition = if still_there { Disposition::ResetCard } else { Disposition::LeaveCard };
        let reader = session.reader.clone();
        let _ = session.card.disconnect(disposition);
        Some(reader)
    }

    fn context(&mut self) -> Result<Context, CardError> {
        if let Some(context) = &self.context {
            return Ok(context.clone());
        }
        let context = Context::establish(Scope::User).map_err(|e| match e {
            pcsc::Error::NoService | pcsc::Error::ServiceStopped => CardError::NoPcscService(e.to_string()),
            other => map_error(other),
        })?;
        self.context = Some(context.clone());
        Ok(context)
    }

    /// Runs `op` on the context; when the service went away, once more on a new context.
    fn with_context<T>(&mut self, op: impl Fn(&Context) -> Result<T, pcsc::Error>) -> Result<T, CardError> {
        let context = self.context()?;
        match op(&context) {
            Err(e) if service_gone(e) => {
                info!("card: the PC/SC service went away ({e}); establishing a new context");
                self.context = None;
                self.session = None;
                let context = self.context()?;
                op(&context).map_err(map_error)
            }
            other => other.map_err(map_error),
        }
    }

    /// The readers DataLink may use (the filter applied); at least one.
    fn readers(&mut self) -> Result<Vec<CString>, CardError> {
        let all = self.with_context(|c| c.list_readers_owned())?;
        let filter = self.reader_filter.clone();
        let chosen: Vec<CString> = all.into_iter().filter(|r| filter.as_deref().is_none_or(|f| r.to_string_lossy().contains(f))).collect();
        if chosen.is_empty() {
            return Err(CardError::NoReader(match &filter {
                Some(f) => format!("no reader's name contains {f:?}"),
                None => "the PC/SC service lists no reader".into(),
            }));
        }
        Ok(chosen)
    }

    /// The current state of each reader (a status-change call that returns at once).
    fn reader_states(&mut self) -> Result<Vec<ReaderState>, CardError> {
        let readers = self.readers()?;
        self.with_context(|c| {
            let mut states: Vec<ReaderState> = readers.iter().map(|r| ReaderState::new(r.clone(), State::UNAWARE)).collect();
            c.get_status_change(Duration::ZERO, &mut states).map(|()| states)
        })
    }

    fn presence_of(states: &[ReaderState]) -> Presence {
        let readers: Vec<ReaderStatus> = states
            .iter()
            .map(|s| {
                let present = card_in(s);
                ReaderStatus {
                    name: s.name().to_string_lossy().into_owned(),
                    card_present: present,
                    atr: present.then(|| atr::hex(s.atr())),
                    profile: present.then(|| atr::profile_for(s.atr()).map(|p| p.name.to_owned())).flatten(),
                }
            })
            .collect();
        // Prefer a card DataLink knows; else any card.
        let reader = readers
            .iter()
            .find(|r| r.card_present && r.profile.is_some())
            .or_else(|| readers.iter().find(|r| r.card_present))
            .map(|r| r.name.clone());
        Presence { card_present: reader.is_some(), reader, readers }
    }

    /// A session on a card of a known profile: the current one when still good, else a new one.
    fn session(&mut self) -> Result<&mut Session, CardError> {
        if let Some(session) = &self.session {
            let still_there = session.card.status2_owned().map(|s| s.atr() == session.atr.as_slice()).unwrap_or(false);
            if !still_there {
                info!("card: the card was removed or reset since the last operation");
                self.end_session(false);
            }
        }
        if self.session.is_none() {
            let presence = Self::presence_of(&self.reader_states()?);
            let reader = presence.reader.ok_or(CardError::NoCard)?;
            let name = CString::new(reader).map_err(|e| CardError::Internal(e.to_string()))?;
            let card = self.with_context(|c| c.connect(&name, ShareMode::Shared, Protocols::ANY)).map_err(|e| match e {
                CardError::CardRemoved => CardError::NoCard,
                other => other,
            })?;
            let status = card.status2_owned().map_err(map_error)?;
            let atr = status.atr().to_vec();
            let parsed = atr::Atr::parse(&atr);
            if !matches!(parsed, Ok(atr::Atr { check_ok: None | Some(true), .. })) {
                let _ = card.disconnect(Disposition::LeaveCard);
                return Err(CardError::UnsupportedCard(format!("a malformed ATR {} ({parsed:?})", atr::hex(&atr))));
            }
            let Some(profile) = atr::profile_for(&atr) else {
                let _ = card.disconnect(Disposition::LeaveCard);
                return Err(CardError::UnsupportedCard(format!("no profile for ATR {}", atr::hex(&atr))));
            };
            info!("card: connected to a {} card", profile.name);
            self.session = Some(Session { reader: name, card, atr, profile, certificate: None });
        }
        self.session.as_mut().ok_or(CardError::NoCard)
    }

    /// Sends one command, following `61 xx` and `6C xx`. A failure that means the card left
    /// ends the session with `card_removed`.
    fn transmit(&mut self, command: &[u8]) -> Result<Response, CardError> {
        let result = {
            let session = self.session()?;
            exchange(&session.card, command)
        };
        match result {
            Ok(response) => Ok(response),
            Err(e) => {
                let reader = self.end_session(true);
                Err(self.explain_failure(e, reader.as_deref()))
            }
        }
    }

    /// Why a command failed: a card that is gone from its reader is `card_removed`, whatever
    /// error the driver chose.
    fn explain_failure(&mut self, e: pcsc::Error, reader: Option<&CStr>) -> CardError {
        if service_gone(e) {
            self.context = None;
            return CardError::NoPcscService(e.to_string());
        }
        if e == pcsc::Error::RemovedCard {
            return CardError::CardRemoved;
        }
        // The service notices a pulled card at its next poll of the reader: wait for that change
        // (briefly, woken by the service), rather than trusting the state of this instant.
        let gone = reader.and_then(|reader| {
            let context = self.context().ok()?;
            let mut states = [ReaderState::new(reader.to_owned(), State::UNAWARE)];
            context.get_status_change(Duration::ZERO, &mut states).ok()?;
            if card_in(&states[0]) {
                states[0].sync_current_state();
                match context.get_status_change(REMOVAL_NOTICED_WITHIN, &mut states) {
                    Ok(()) | Err(pcsc::Error::Timeout) => {}
                    Err(_) => return None,
                }
            }
            Some(!card_in(&states[0]))
        });
        if gone == Some(true) {
            CardError::CardRemoved
        } else {
            map_error(e)
        }
    }

    fn select(&mut self) -> Result<&'static CardProfile, CardError> {
        let profile = self.session()?.profile;
        let response = self.transmit(&apdu::select_aid(profile.aid))?;
        match response.sw {
            0x9000 => Ok(profile),
            sw => Err(apdu::error_for(sw)),
        }
    }

    fn query_retries(&mut self, profile: &CardProfile) -> Result<Option<u8>, CardError> {
        let response = self.transmit(&apdu::verify_query(profile.pin_reference))?;
        apdu::retries_from_query(response.sw)
    }

    fn verify_selected(&mut self, profile: &CardProfile, pin: &Pin) -> Result<(), CardError> {
        let command = apdu::verify(profile.pin_reference, pin.bytes());
        let response = self.transmit(&command)?;
        drop(command);
        apdu::verify_outcome(response.sw)
    }

    fn certificate(&mut self, profile: &CardProfile) -> Result<cert::CertInfo, CardError> {
        if let Some(info) = self.session.as_ref().and_then(|s| s.certificate.clone()) {
            return Ok(info);
        }
        let selected = self.transmit(&apdu::select_file(profile.certificate_file))?;
        if !selected.ok() {
            return Err(apdu::error_for(selected.sw));
        }
        let mut der: Vec<u8> = Vec::new();
        loop {
            let want = cert::der_total_len(&der);
            if want.is_some_and(|w| der.len() >= w) {
                break;
            }
            let offset = u16::try_from(der.len()).map_err(|_| CardError::ReaderError("certificate larger than 32 KiB".into()))?;
            let chunk = self.transmit(&apdu::read_binary(offset, 0))?;
            match chunk.sw {
                0x9000 if !chunk.data.is_empty() => der.extend_from_slice(&chunk.data),
                0x9000 | 0x6B00 | 0x6282 => break,
                sw => return Err(apdu::error_for(sw)),
            }
        }
        if let Some(total) = cert::der_total_len(&der) {
            der.truncate(total);
        }
        let info = cert::parse_der(&der).map_err(|e| CardError::ReaderError(format!("the card's certificate: {e}")))?;
        if let Some(session) = self.session.as_mut() {
            session.certificate = Some(info.clone());
        }
        Ok(info)
    }
}

/// Whether a reader state shows a usable card.
fn card_in(state: &ReaderState) -> bool {
    let s = state.event_state();
    s.contains(State::PRESENT) && !s.contains(State::MUTE)
}

/// One command with its GET RESPONSE / resend follow-ups (at most 16 steps).
fn exchange(card: &Card, command: &[u8]) -> Result<Response, pcsc::Error> {
    let mut buffer = [0u8; pcsc::MAX_BUFFER_SIZE];
    let mut data = Vec::new();
    let mut next = command.to_vec();
    for _ in 0..16 {
        let response = Response::parse(card.transmit(&next, &mut buffer)?).map_err(|_| pcsc::Error::CommError)?;
        data.extend_from_slice(&response.data);
        match apdu::next_step(response.sw) {
            Step::Done => return Ok(Response { data, sw: response.sw }),
            Step::GetResponse(n) => next = apdu::get_response(n),
            Step::Resend(n) => {
                data.clear();
                next = apdu::with_le(command, n);
            }
        }
    }
    Err(pcsc::Error::CommError)
}

impl CardBackend for PcscBackend {
    fn kind(&self) -> CardBackendKind {
        CardBackendKind::Pcsc
    }

    fn presence(&mut self) -> Result<Presence, CardError> {
        Ok(Self::presence_of(&self.reader_states()?))
    }

    fn identity(&mut self) -> Result<CardIdentity, CardError> {
        let profile = self.select()?;
        let (p1, p2) = profile.card_number;
        let number = self.transmit(&apdu::get_data(p1, p2))?;
        let card_id = number.ok().then(|| String::from_utf8_lossy(&number.data).trim().trim_start_matches("03-").to_owned());
        let certificate = self.certificate(profile)?;
        Ok(CardIdentity {
            card_id,
            holder: certificate.subject_cn.clone(),
            enterprise: certificate.subject_o.clone().or(certificate.subject_ou.clone()),
            cert_no: Some(certificate.serial_hex.clone()),
            valid_from: Some(cert::format_utc(certificate.not_before)),
            valid_to: Some(cert::format_utc(certificate.not_after)),
        })
    }

    fn pin_retries(&mut self) -> Result<Option<u8>, CardError> {
        let profile = self.select()?;
        self.query_retries(profile)
    }

    fn verify_pin(&mut self, pin: &Pin) -> Result<(), CardError> {
        let profile = self.select()?;
        self.verify_selected(profile, pin)
    }

    fn sign(&mut self, data: &[u8], pin: Option<&Pin>) -> Result<Signature, CardError> {
        let profile = self.select()?;
        if !profile.signs_sha256 {
            return Err(CardError::UnsupportedCard(format!("the {} profile does not sign", profile.name)));
        }
        let cert_no = self.certificate(profile)?.serial_hex;
        if let Some(pin) = pin {
            // Reading the certificate selected a file; the applet stays selected.
            self.verify_selected(profile, pin)?;
        }
        let digest = Sha256::digest(data);
        let response = self.transmit(&apdu::compute_signature(&digest))?;
        if !response.ok() {
            return Err(apdu::error_for(response.sw));
        }
        use base64::Engine;
        Ok(Signature { signature: base64::engine::general_purpose::STANDARD.encode(&response.data), cert_no })
    }

    fn wait(&mut self, until: CardWaitFor, timeout: Duration) -> Result<Presence, CardError> {
        let deadline = Instant::now() + timeout;
        let readers = self.readers()?;
        let context = self.context()?;
        let mut states: Vec<ReaderState> = readers.iter().map(|r| ReaderState::new(r.clone(), State::UNAWARE)).collect();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match context.get_status_change(left, &mut states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => {
                    return Err(CardError::Timeout(format!("no card {} within {timeout:?}", if until == CardWaitFor::Present { "arrived" } else { "left" })))
                }
                Err(e) => {
                    if service_gone(e) {
                        self.context = None;
                        self.session = None;
                    }
                    return Err(map_error(e));
                }
            }
            let presence = Self::presence_of(&states);
            let reached = match until {
                CardWaitFor::Present => presence.card_present,
                CardWaitFor::Absent => !presence.card_present,
            };
            if reached {
                if until == CardWaitFor::Absent {
                    self.end_session(false);
                }
                return Ok(presence);
            }
            states.iter_mut().for_each(ReaderState::sync_current_state);
        }
    }
}
