//! The card service: settings, which backend, and the PIN rules — one per host process.
//!
//! The browser keeps one host process per connection, so the backends live here between
//! requests (an open WebSocket to the E-Port control, a PC/SC context and card session). Card
//! operations run one at a time behind a mutex; [`wait`] does not hold it (it may wait for
//! minutes), using a PC/SC context of its own.
//!
//! **Settings** come from the request (the extension's 设置), else the environment
//! (`DATALINK_CARD_BACKEND` = auto|eport|pcsc, `DATALINK_EPORT_URL`, `DATALINK_CARD_READER`,
//! `DATALINK_EPORT_TIMEOUT_MS`), else the defaults.
//!
//! **Choosing** (`auto`): the E-Port control when it answers; else PC/SC when a reader holds a
//! card of a known profile; else the control's error ("not running"), since on real users'
//! machines the control is the way to the card.
//!
//! **The PIN rules**, applied before the PIN leaves the host:
//! 1. The format is checked locally ([`Pin::parse`], by the caller).
//! 2. The tries left are asked first (PC/SC: VERIFY without data; E-Port: the count its last
//!    wrong-PIN message gave for this card). None left: `card_locked`, and nothing is sent.
//!    One left and the request did not say `confirmLastTry`: `last_try_unconfirmed`, nothing
//!    sent — the page warns, and the user sends it again knowingly.
//! 3. The PIN is sent once. A failure is returned as it is; nothing here ever retries it.

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use datalink_core::protocol::{
    CardBackendChoice, CardBackendKind, CardSettings, CardSignReply, CardStatusReply, CardVerifyReply, CardWaitFor, CardWaitReply,
};

use super::env_check::{self, Findings};
use super::eport::{self, EportBackend, Timeouts};
#[cfg(feature = "pcsc")]
use super::pcsc_backend::PcscBackend;
use super::{CardBackend, CardError, Pin};
use crate::log::info;

/// Settings after defaults and the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub choice: CardBackendChoice,
    pub eport_url: String,
    pub reader: Option<String>,
    pub timeouts: Timeouts,
}

/// Reads the settings: the request's, else the environment's, else the defaults.
pub fn resolve(settings: &CardSettings) -> Result<Resolved, CardError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let choice = match settings.backend {
        Some(choice) => choice,
        None => match env("DATALINK_CARD_BACKEND").as_deref() {
            None | Some("auto") => CardBackendChoice::Auto,
            Some("eport") => CardBackendChoice::Eport,
            Some("pcsc") => CardBackendChoice::Pcsc,
            Some(other) => return Err(CardError::InvalidSettings(format!("DATALINK_CARD_BACKEND={other:?} is not auto, eport or pcsc"))),
        },
    };
    let eport_url = settings.eport_url.clone().or_else(|| env("DATALINK_EPORT_URL")).unwrap_or_else(|| eport::DEFAULT_URL.to_owned());
    eport::loopback_address(&eport_url).map_err(|e| CardError::InvalidSettings(format!("eportUrl: {e}")))?;
    let reader = settings.reader.clone().or_else(|| env("DATALINK_CARD_READER"));
    let timeouts = match env("DATALINK_EPORT_TIMEOUT_MS").map(|ms| ms.parse::<u64>()) {
        None => Timeouts::default(),
        Some(Ok(ms)) => Timeouts::all(Duration::from_millis(ms.clamp(50, 120_000))),
        Some(Err(_)) => return Err(CardError::InvalidSettings("DATALINK_EPORT_TIMEOUT_MS is not a number".into())),
    };
    Ok(Resolved { choice, eport_url, reader, timeouts })
}

/// The backends of this process.
#[derive(Default)]
pub struct CardService {
    eport: Option<EportBackend>,
    #[cfg(feature = "pcsc")]
    pcsc: Option<PcscBackend>,
}

/// The process's service, locked. A panic while it was held does not make it unusable.
pub fn service() -> MutexGuard<'static, CardService> {
    static SERVICE: OnceLock<Mutex<CardService>> = OnceLock::new();
    SERVICE.get_or_init(|| Mutex::new(CardService::default())).lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl CardService {
    fn eport(&mut self, r: &Resolved) -> Result<&mut EportBackend, CardError> {
        let stale = self.eport.as_ref().is_none_or(|b| b.url() != r.eport_url);
        if stale {
            self.eport = Some(EportBackend::new(&r.eport_url, r.timeouts)?);
        }
        self.eport.as_mut().ok_or_else(|| CardError::Internal("no E-Port backend".into()))
    }

    #[cfg(feature = "pcsc")]
    fn pcsc(&mut self, r: &Resolved) -> Result<&mut dyn CardBackend, CardError> {
        let backend = self.pcsc.get_or_insert_with(|| PcscBackend::new(r.reader.clone()));
        backend.set_reader_filter(r.reader.clone());
        Ok(backend)
    }

    #[cfg(not(feature = "pcsc"))]
    fn pcsc(&mut self, _r: &Resolved) -> Result<&mut dyn CardBackend, CardError> {
        Err(CardError::NoPcscService("this build of datalink-host has no PC/SC support".into()))
    }

    fn backend(&mut self, kind: CardBackendKind, r: &Resolved) -> Result<&mut dyn CardBackend, CardError> {
        match kind {
            CardBackendKind::Eport => Ok(self.eport(r)? as &mut dyn CardBackend),
            CardBackendKind::Pcsc => self.pcsc(r),
        }
    }

    /// The backend for an operation on the card.
    fn pick(&mut self, r: &Resolved) -> Result<CardBackendKind, CardError> {
        match r.choice {
            CardBackendChoice::Eport => Ok(CardBackendKind::Eport),
            CardBackendChoice::Pcsc => Ok(CardBackendKind::Pcsc),
            CardBackendChoice::Auto => {
                let control = match self.eport(r)?.reachable() {
                    Ok(()) => return Ok(CardBackendKind::Eport),
                    Err(e) => e,
                };
                match self.pcsc(r).and_then(|p| p.presence()) {
                    Ok(p) if p.readers.iter().any(|x| x.card_present && x.profile.is_some()) => Ok(CardBackendKind::Pcsc),
                    _ => Err(control),
                }
            }
        }
    }

    /// The environment check. Never sends a PIN.
    pub fn status(&mut self, r: &Resolved, now_unix: i64) -> CardStatusReply {
        let eport = (r.choice != CardBackendChoice::Pcsc).then(|| (r.eport_url.clone(), self.eport(r).and_then(|b| b.reachable())));
        let pcsc = (r.choice != CardBackendChoice::Eport).then(|| self.pcsc(r).and_then(|b| b.presence()));
        let control_up = matches!(eport, Some((_, Ok(()))));
        let known_card = matches!(&pcsc, Some(Ok(p)) if p.readers.iter().any(|x| x.card_present && x.profile.is_some()));
        let backend = match r.choice {
            CardBackendChoice::Eport => control_up.then_some(CardBackendKind::Eport),
            CardBackendChoice::Pcsc => matches!(pcsc, Some(Ok(_))).then_some(CardBackendKind::Pcsc),
            CardBackendChoice::Auto if control_up => Some(CardBackendKind::Eport),
            CardBackendChoice::Auto => known_card.then_some(CardBackendKind::Pcsc),
        };
        let (mut card, mut identity, mut retries) = (None, None, None);
        if let Some(kind) = backend {
            match self.backend(kind, r) {
                Ok(b) => {
                    let presence = match (kind, &pcsc) {
                        (CardBackendKind::Pcsc, Some(p)) => p.clone(),
                        _ => b.presence(),
                    };
                    if matches!(presence, Ok(ref p) if p.card_present) {
                        let id = b.identity();
                        if id.is_ok() {
                            retries = b.pin_retries().ok().flatten();
                        }
                        identity = Some(id);
                    }
                    card = Some(presence);
                }
                Err(e) => card = Some(Err(e)),
            }
        }
        let reply = env_check::report(Findings {
            host_version: crate::VERSION.into(),
            choice: r.choice,
            eport,
            pcsc,
            backend,
            card,
            identity,
            retries,
            now_unix,
        });
        let problems: Vec<&str> = reply.checks.iter().filter_map(|c| c.problem.as_ref().map(|p| p.name.as_str())).collect();
        info!("card: status via {:?}: ready={} problems={problems:?}", reply.backend, reply.ready);
        reply
    }

    /// Checks the PIN once, after the rules above.
    pub fn verify_pin(&mut self, r: &Resolved, pin: Pin, confirm_last_try: bool) -> Result<CardVerifyReply, CardError> {
        let kind = self.pick(r)?;
        let backend = self.backend(kind, r)?;
        let outcome = guard_tries(backend, confirm_last_try).and_then(|()| backend.verify_pin(&pin));
        drop(pin);
        log_outcome("verify_pin", backend.kind(), &outcome);
        outcome?;
        let card_id = backend.identity().ok().and_then(|id| id.card_id);
        Ok(CardVerifyReply { verified: true, backend: backend.kind(), card_id })
    }

    /// Signs `data`, verifying `pin` first when given (under the same rules).
    pub fn sign(&mut self, r: &Resolved, data: &[u8], pin: Option<Pin>, confirm_last_try: bool) -> Result<CardSignReply, CardError> {
        let kind = self.pick(r)?;
        let backend = self.backend(kind, r)?;
        let outcome = match &pin {
            Some(_) => guard_tries(backend, confirm_last_try),
            None => Ok(()),
        }
        .and_then(|()| backend.sign(data, pin.as_ref()));
        drop(pin);
        log_outcome("sign", backend.kind(), &outcome);
        let signature = outcome?;
        Ok(CardSignReply { signature: signature.signature, cert_no: signature.cert_no, backend: backend.kind() })
    }

    /// The E-Port control cannot wait: its "wait" answers the current presence.
    fn eport_wait(&mut self, r: &Resolved, until: CardWaitFor, timeout: Duration) -> Result<CardWaitReply, CardError> {
        let presence = self.eport(r)?.wait(until, timeout)?;
        Ok(CardWaitReply { card_present: presence.card_present, reader: None, waited: false })
    }
}

/// Refuses to send a PIN to a locked card, or on the last try without confirmation.
fn guard_tries(backend: &mut dyn CardBackend, confirm_last_try: bool) -> Result<(), CardError> {
    match backend.pin_retries()? {
        Some(0) => Err(CardError::CardLocked),
        Some(1) if !confirm_last_try => Err(CardError::LastTryUnconfirmed),
        _ => Ok(()),
    }
}

fn log_outcome<T>(what: &str, kind: CardBackendKind, outcome: &Result<T, CardError>) {
    match outcome {
        Ok(_) => info!("card: {what} via {kind:?}: ok"),
        Err(CardError::WrongPin { retries_left }) => info!("card: {what} via {kind:?}: wrong_pin, retries left {retries_left:?}"),
        Err(e) => info!("card: {what} via {kind:?}: {} ({e})", e.code().name()),
    }
}

/// Waits for a card to arrive or leave. PC/SC waits on status changes with its own context
/// (the service stays free for other requests); the E-Port control can only say what is now.
pub fn wait(r: &Resolved, until: CardWaitFor, timeout: Duration) -> Result<CardWaitReply, CardError> {
    let use_pcsc = match r.choice {
        CardBackendChoice::Pcsc => true,
        CardBackendChoice::Eport => false,
        CardBackendChoice::Auto => !matches!(service().eport(r).map(|b| b.reachable()), Ok(Ok(()))),
    };
    if !use_pcsc {
        return service().eport_wait(r, until, timeout);
    }
    wait_pcsc(r, until, timeout)
}

#[cfg(feature = "pcsc")]
fn wait_pcsc(r: &Resolved, until: CardWaitFor, timeout: Duration) -> Result<CardWaitReply, CardError> {
    let mut backend = PcscBackend::new(r.reader.clone());
    let presence = backend.wait(until, timeout)?;
    info!("card: wait for {until:?}: reached");
    Ok(CardWaitReply { card_present: presence.card_present, reader: presence.reader, waited: true })
}

#[cfg(not(feature = "pcsc"))]
fn wait_pcsc(_r: &Resolved, _until: CardWaitFor, _timeout: Duration) -> Result<CardWaitReply, CardError> {
    Err(CardError::NoPcscService("this build of datalink-host has no PC/SC support".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datalink_core::protocol::CardIdentity;

    /// A backend that records whether a PIN reached it.
    struct Scripted {
        retries: Option<u8>,
        verify_result: Result<(), CardError>,
        pins_sent: usize,
    }

    impl CardBackend for Scripted {
        fn kind(&self) -> CardBackendKind {
            CardBackendKind::Pcsc
        }
        fn presence(&mut self) -> Result<super::super::Presence, CardError> {
            Ok(super::super::Presence::default())
        }
        fn identity(&mut self) -> Result<CardIdentity, CardError> {
            Ok(CardIdentity::default())
        }
        fn pin_retries(&mut self) -> Result<Option<u8>, CardError> {
            Ok(self.retries)
        }
        fn verify_pin(&mut self, _pin: &Pin) -> Result<(), CardError> {
            self.pins_sent += 1;
            self.verify_result.clone()
        }
        fn sign(&mut self, _data: &[u8], _pin: Option<&Pin>) -> Result<super::super::Signature, CardError> {
            Err(CardError::PinRequired)
        }
        fn wait(&mut self, _until: CardWaitFor, _timeout: Duration) -> Result<super::super::Presence, CardError> {
            Err(CardError::Timeout("scripted".into()))
        }
    }

    fn attempt(retries: Option<u8>, confirm: bool, verify_result: Result<(), CardError>) -> (Result<(), CardError>, usize) {
        let mut backend = Scripted { retries, verify_result, pins_sent: 0 };
        let pin = Pin::parse(zeroize::Zeroizing::new("12345678".into())).unwrap();
        let result = guard_tries(&mut backend, confirm).and_then(|()| backend.verify_pin(&pin));
        (result, backend.pins_sent)
    }

    #[test]
    fn a_locked_card_never_gets_the_pin() {
        assert_eq!(attempt(Some(0), true, Ok(())), (Err(CardError::CardLocked), 0));
    }

    #[test]
    fn the_last_try_needs_confirmation() {
        assert_eq!(attempt(Some(1), false, Ok(())), (Err(CardError::LastTryUnconfirmed), 0));
        assert_eq!(attempt(Some(1), true, Ok(())), (Ok(()), 1));
    }

    #[test]
    fn a_wrong_pin_is_reported_once_and_not_retried() {
        let wrong = Err(CardError::WrongPin { retries_left: Some(2) });
        assert_eq!(attempt(Some(3), false, wrong.clone()), (wrong, 1));
        assert_eq!(attempt(None, false, Err(CardError::WrongPin { retries_left: None })).1, 1);
    }

    #[test]
    fn settings_fall_back_and_refuse_remote_controls() {
        let r = resolve(&CardSettings { backend: Some(CardBackendChoice::Eport), eport_url: Some("ws://127.0.0.1:9".into()), reader: Some("PCD".into()) }).unwrap();
        assert_eq!((r.choice, r.eport_url.as_str(), r.reader.as_deref()), (CardBackendChoice::Eport, "ws://127.0.0.1:9", Some("PCD")));
        let remote = resolve(&CardSettings { eport_url: Some("ws://10.0.0.5:61232".into()), ..CardSettings::default() });
        assert!(matches!(remote, Err(CardError::InvalidSettings(_))));
    }
}
