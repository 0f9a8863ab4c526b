//! The E-Port client control backend: a WebSocket client for `ws://127.0.0.1:61232`.
//!
//! One connection is kept between calls. Each call:
//!
//! 1. **Checks the connection** without blocking: frames already waiting (the `open` greeting,
//!    a late reply to a call that timed out) are read and dropped; a closed socket is noticed
//!    here, and a new connection is made — so a restarted control is picked up before any PIN
//!    is sent.
//! 2. Sends `{"_method", "_id", "args"}` with a fresh `_id`.
//! 3. Reads until the frame whose `_method` **and** `_id` match, skipping greetings and strays,
//!    within the call's timeout (5 s; 30 s for signing).
//!
//! A call without a PIN that loses its connection before the answer is sent once more on a new
//! connection. A call **with** a PIN is never repeated: the control may have passed it to the
//! card already, and a second wrong guess would burn a second try.
//!
//! Refusing connections means the control is not running (3002). Non-JSON, or a WebSocket
//! handshake that fails, means something else listens there (3014). Only `ws://` to a loopback
//! address is accepted: the PIN must not leave the machine.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use base64::Engine;
use datalink_core::protocol::{CardBackendKind, CardIdentity, CardWaitFor};
use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

use super::eport_reply::{self, method};
use super::{cert, CardBackend, CardError, Pin, Presence, Signature};
use crate::log::{info, warn};

/// Where the control listens unless configured otherwise.
pub const DEFAULT_URL: &str = "ws://127.0.0.1:61232";

/// How long to wait for the control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub call: Duration,
    pub sign: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts { connect: Duration::from_secs(2), call: Duration::from_secs(5), sign: Duration::from_secs(30) }
    }
}

impl Timeouts {
    /// Every timeout set to `call` (tests shorten them with `DATALINK_EPORT_TIMEOUT_MS`).
    pub fn all(call: Duration) -> Timeouts {
        Timeouts { connect: call, call, sign: call }
    }
}

/// The control at one address.
pub struct EportBackend {
    url: String,
    addr: SocketAddr,
    timeouts: Timeouts,
    socket: Option<WebSocket<TcpStream>>,
    next_id: u64,
    /// The tries left that the control reported for a card (by card number) after a wrong PIN:
    /// the control cannot be asked without spending a try, so this is all the host knows.
    known_retries: Option<(String, u8)>,
}

/// Checks that `url` is `ws://<loopback>[:port][/path]` and resolves it.
pub fn loopback_address(url: &str) -> Result<SocketAddr, String> {
    let rest = url.strip_prefix("ws://").ok_or("only ws:// URLs are accepted")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            (host, port.parse::<u16>().map_err(|_| "the port is not a number")?)
        }
        _ => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err("no host".into());
    }
    let addrs: Vec<SocketAddr> = if host.eq_ignore_ascii_case("localhost") {
        vec![SocketAddr::from(([127, 0, 0, 1], port))]
    } else {
        (host, port).to_socket_addrs().map_err(|_| "the host is not an IP address")?.collect()
    };
    match addrs.first() {
        Some(addr) if addr.ip().is_loopback() => Ok(*addr),
        Some(_) => Err("the client control must be on this computer (a loopback address)".into()),
        None => Err("the host does not resolve".into()),
    }
}

enum Read {
    /// The reply's `Data`.
    Reply(Result<Vec<String>, CardError>),
    /// The connection went away before the reply.
    Lost(String),
}

impl EportBackend {
    pub fn new(url: &str, timeouts: Timeouts) -> Result<EportBackend, CardError> {
        let addr = loopback_address(url).map_err(|e| CardError::InvalidSettings(format!("E-Port control address: {e}")))?;
        Ok(EportBackend { url: url.to_owned(), addr, timeouts, socket: None, next_id: 1, known_retries: None })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connects if needed; `Ok` means the control answers.
    pub fn reachable(&mut self) -> Result<(), CardError> {
        self.ensure_connected()
    }

    fn connect(&mut self) -> Result<(), CardError> {
        let stream = TcpStream::connect_timeout(&self.addr, self.timeouts.connect).map_err(|e| match e.kind() {
            ErrorKind::ConnectionRefused => CardError::ClientControlNotRunning(format!("connection refused at {}", self.addr)),
            ErrorKind::TimedOut | ErrorKind::WouldBlock => CardError::ClientControlNotRunning(format!("no answer from {} in {:?}", self.addr, self.timeouts.connect)),
            _ => CardError::ClientControlNotRunning(format!("cannot connect to {}: {e}", self.addr)),
        })?;
        let _ = stream.set_nodelay(true);
        stream.set_read_timeout(Some(self.timeouts.connect)).map_err(|e| CardError::Internal(e.to_string()))?;
        stream.set_write_timeout(Some(self.timeouts.connect)).map_err(|e| CardError::Internal(e.to_string()))?;
        let (socket, _) = tungstenite::client(self.url.as_str(), stream)
            .map_err(|e| CardError::ClientReplyInvalid(format!("WebSocket handshake with {} failed: {e}", self.addr)))?;
        info!("card: connected to the E-Port client control at {}", self.addr);
        self.socket = Some(socket);
        Ok(())
    }

    /// Drops stale frames and notices a closed socket, then connects when there is none.
    fn ensure_connected(&mut self) -> Result<(), CardError> {
        if let Some(socket) = self.socket.as_mut() {
            if !drain(socket) {
                info!("card: the E-Port client control closed the connection; reconnecting");
                self.socket = None;
            }
        }
        if self.socket.is_none() {
            self.connect()?;
        }
        Ok(())
    }

    /// Calls `method`; `carries_pin` forbids repeating it.
    fn call(&mut self, method: &str, mut args: Value, timeout: Duration, carries_pin: bool) -> Result<Vec<String>, CardError> {
        let attempts = if carries_pin { 1 } else { 2 };
        let mut lost = String::new();
        for _ in 0..attempts {
            self.ensure_connected()?;
            let id = self.next_id;
            self.next_id += 1;
            let text = eport_reply::request_text(method, id, args.clone());
            let Some(socket) = self.socket.as_mut() else { continue };
            let sent = socket.send(Message::text(text.as_str()));
            drop(text);
            let outcome = match sent {
                Ok(()) => read_reply(socket, method, id, timeout),
                Err(e) => Read::Lost(format!("sending failed: {e}")),
            };
            match outcome {
                Read::Reply(result) => {
                    if matches!(result, Err(CardError::Timeout(_) | CardError::ClientReplyInvalid(_))) {
                        // A late or broken answer must not be mistaken for the next call's.
                        self.socket = None;
                    }
                    eport_reply::wipe_strings(&mut args);
                    return result;
                }
                Read::Lost(why) => {
                    warn!("card: E-Port client control connection lost during {method}: {why}");
                    self.socket = None;
                    lost = why;
                }
            }
        }
        eport_reply::wipe_strings(&mut args);
        Err(CardError::ClientControlNotRunning(format!("the connection closed before the reply to {method}: {lost}")))
    }

    /// Runs a call that carries the PIN for the card `card_id`, and remembers what it says
    /// about the tries left.
    fn with_pin<T>(&mut self, card_id: String, call: impl FnOnce(&mut Self) -> Result<T, CardError>) -> Result<T, CardError> {
        let result = call(self);
        match &result {
            Ok(_) => self.known_retries = None,
            Err(CardError::WrongPin { retries_left: Some(n) }) => self.known_retries = Some((card_id, *n)),
            Err(CardError::WrongPin { retries_left: None }) => self.known_retries = None,
            Err(CardError::CardLocked) => self.known_retries = Some((card_id, 0)),
            Err(_) => {}
        }
        result
    }

    fn get(&mut self, method: &str) -> Result<String, CardError> {
        let data = self.call(method, json!({}), self.timeouts.call, false)?;
        data.into_iter().next().ok_or_else(|| CardError::ClientReplyInvalid(format!("{method} returned no Data")))
    }
}

/// Reads whatever is waiting, without blocking. `false`: the connection is gone.
fn drain(socket: &mut WebSocket<TcpStream>) -> bool {
    if socket.get_ref().set_nonblocking(true).is_err() {
        return false;
    }
    let alive = loop {
        match socket.read() {
            Ok(Message::Close(_)) => break false,
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => break true,
            Err(_) => break false,
        }
    };
    alive && socket.get_ref().set_nonblocking(false).is_ok()
}

/// Reads until the reply to (`method`, `id`), the deadline, or the end of the connection.
fn read_reply(socket: &mut WebSocket<TcpStream>, method: &str, id: u64, timeout: Duration) -> Read {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Read::Reply(Err(CardError::Timeout(format!("no reply to {method} within {timeout:?}"))));
        }
        if socket.get_ref().set_read_timeout(Some(left)).is_err() {
            return Read::Lost("cannot set a read timeout".into());
        }
        let text = match socket.read() {
            Ok(Message::Text(text)) => text,
            Ok(Message::Close(_)) => return Read::Lost("the control closed the connection".into()),
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => return Read::Lost(e.to_string()),
        };
        let frame = match eport_reply::parse_frame(&text) {
            Ok(frame) => frame,
            Err(why) => return Read::Reply(Err(CardError::ClientReplyInvalid(format!("a frame that is {why}")))),
        };
        if frame.is_greeting() {
            continue;
        }
        if !frame.answers(method, id) {
            warn!("card: ignored a reply for {:?} #{:?} while waiting for {method} #{id}", frame.method, frame.id);
            continue;
        }
        return Read::Reply(eport_reply::outcome(&frame));
    }
}

/// The card number without the `03-` prefix the control adds.
fn card_number(raw: &str) -> String {
    raw.trim().trim_start_matches("03-").to_owned()
}

impl CardBackend for EportBackend {
    fn kind(&self) -> CardBackendKind {
        CardBackendKind::Eport
    }

    fn presence(&mut self) -> Result<Presence, CardError> {
        match self.get(method::GET_CARD_ID) {
            Ok(_) => Ok(Presence { readers: Vec::new(), card_present: true, reader: None }),
            Err(CardError::NoCard) => Ok(Presence::default()),
            Err(e) => Err(e),
        }
    }

    fn identity(&mut self) -> Result<CardIdentity, CardError> {
        let card_id = card_number(&self.get(method::GET_CARD_ID)?);
        let holder = self.get(method::GET_HOLDER)?;
        let cert_no = self.get(method::GET_CERT_NO)?;
        // Older controls may lack some methods: the certificate fills gaps.
        let enterprise = self.get(method::GET_ENTERPRISE).ok();
        let certificate = match self.get(method::GET_SIGN_CERT_PEM) {
            Ok(pem) => cert::pem_to_der(&pem).ok().and_then(|der| cert::parse_der(&der).ok()),
            Err(e) => {
                warn!("card: no signing certificate from the control ({})", e.code().name());
                None
            }
        };
        let enterprise = enterprise.or_else(|| certificate.as_ref().and_then(|c| c.subject_o.clone().or_else(|| c.subject_ou.clone())));
        Ok(CardIdentity {
            card_id: Some(card_id),
            holder: Some(holder),
            enterprise,
            cert_no: Some(cert_no),
            valid_from: certificate.as_ref().map(|c| cert::format_utc(c.not_before)),
            valid_to: certificate.as_ref().map(|c| cert::format_utc(c.not_after)),
        })
    }

    /// The control does not tell without spending a try: this is the count it gave with the
    /// last wrong PIN on the card now inserted, if any.
    fn pin_retries(&mut self) -> Result<Option<u8>, CardError> {
        let card_id = card_number(&self.get(method::GET_CARD_ID)?);
        Ok(self.known_retries.as_ref().filter(|(id, _)| *id == card_id).map(|(_, n)| *n))
    }

    fn verify_pin(&mut self, pin: &Pin) -> Result<(), CardError> {
        // Asking for the card number first also finds a missing card before the PIN is sent.
        let card_id = card_number(&self.get(method::GET_CARD_ID)?);
        self.with_pin(card_id, |me| me.call(method::VERIFY_PIN_ALL, json!({"passwd": pin.expose()}), me.timeouts.call, true).map(|_| ()))
    }

    fn sign(&mut self, data: &[u8], pin: Option<&Pin>) -> Result<Signature, CardError> {
        let in_data = String::from_utf8_lossy(data);
        let args = match pin {
            Some(pin) => json!({"inData": in_data, "passwd": pin.expose()}),
            None => json!({"inData": in_data}),
        };
        let data = match pin {
            Some(_) => {
                let card_id = card_number(&self.get(method::GET_CARD_ID)?);
                self.with_pin(card_id, |me| me.call(method::SIGN_DATA_PEM, args, me.timeouts.sign, true))?
            }
            None => self.call(method::SIGN_DATA_PEM, args, self.timeouts.sign, false)?,
        };
        let mut items = data.into_iter();
        let signature = items.next().filter(|s| !s.is_empty()).ok_or_else(|| CardError::ClientReplyInvalid("signing returned no signature".into()))?;
        let compact: String = signature.lines().filter(|l| !l.starts_with("-----")).collect::<Vec<_>>().concat();
        if base64::engine::general_purpose::STANDARD.decode(compact.trim()).is_err() {
            return Err(CardError::ClientReplyInvalid("the signature is not base64".into()));
        }
        let cert_no = match items.next().filter(|s| !s.is_empty()) {
            Some(cert_no) => cert_no,
            None => self.get(method::GET_CERT_NO)?,
        };
        Ok(Signature { signature: compact.trim().to_owned(), cert_no })
    }

    /// The control has no presence events: this answers the current state at once.
    fn wait(&mut self, _until: CardWaitFor, _timeout: Duration) -> Result<Presence, CardError> {
        self.presence()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_websocket_urls() {
        assert_eq!(loopback_address("ws://127.0.0.1:61232").unwrap(), SocketAddr::from(([127, 0, 0, 1], 61232)));
        assert_eq!(loopback_address("ws://localhost:61232/").unwrap().port(), 61232);
        assert_eq!(loopback_address("ws://127.0.0.1").unwrap().port(), 80);
        assert!(loopback_address("ws://[::1]:61232").unwrap().ip().is_loopback());
        assert!(loopback_address("ws://127.1.2.3:9/x?y").unwrap().ip().is_loopback());
        for bad in ["wss://wss.singlewindow.cn:61231", "ws://192.168.1.10:61232", "ws://8.8.8.8:61232", "http://127.0.0.1:61232", "ws://:61232", "ws://127.0.0.1:x"] {
            assert!(loopback_address(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn card_numbers_lose_the_03_prefix() {
        assert_eq!(card_number("03-8930000012345"), "8930000012345");
        assert_eq!(card_number(" 8930000012345 "), "8930000012345");
    }
}
