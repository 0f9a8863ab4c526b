//! A fake E-Port client control (中国电子口岸客户端控件): a WebSocket server on a random
//! `127.0.0.1` port that speaks the control's JSON protocol over a scripted card.
//!
//! The protocol (`eport-card.md` §4, `portal-api.md` §4):
//!
//! ```text
//! server → {"_id":0,"_method":"open","_status":"00","_args":{"Result":true,"Data":[],"Error":[]}}   greeting
//! client → {"_method":"cus-sec_SpcGetCardID","_id":1,"args":{}}
//! server → {"_id":1,"_method":"cus-sec_SpcGetCardID","_status":"00","_args":{"Result":true,"Data":["03-8930000012345"],"Error":[]}}
//! server → {"_id":2,"_method":"cus-sec_SpcVerifyPINAll","_status":"00","_args":{"Result":false,"Data":[],
//!           "Error":["[SPSecureAPI]输入口令错误，剩余重试次数：2","Err:Custom10014"]}}
//! ```
//!
//! The real control's texts for a wrong PIN, a locked card and a missing card are not public
//! (`eport-card.md` §7); the ones here ([`WRONG_PIN_TEXT`] and friends) follow the known pattern
//! — `Error[0]` for people, `Error[1]` = `Err:<Category><code>` — and the host parses such text
//! defensively. Replace them with captured ones once someone has a real card.
//!
//! [`Fault`]s make the next reply misbehave: late, with a foreign `_id` first, not JSON, followed
//! by a closed socket, or a scripted error. [`FakeEport::received`] records what each request
//! carried — whether it had a `passwd`, never the value.

use std::collections::VecDeque;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tungstenite::{Message, WebSocket};

/// `Error[0]` of a wrong PIN; `{n}` is the tries left.
pub const WRONG_PIN_TEXT: &str = "[SPSecureAPI]输入口令错误，剩余重试次数：{n}";
pub const WRONG_PIN_CODE: &str = "Err:Custom10014";
pub const LOCKED_TEXT: &str = "[SPSecureAPI]卡片已锁定，请联系发卡机构解锁";
pub const LOCKED_CODE: &str = "Err:Custom10015";
pub const NO_CARD_TEXT: &str = "[读卡器底层库]未检测到IC卡，请插入IC卡";
pub const NO_CARD_CODE: &str = "Err:Custom50100";
/// A published real failure (`WebSocketClientHandler.java`): resetting the reader failed.
pub const READER_RESET_FAILED: [&str; 2] = ["[读卡器底层库]复位读卡器失败:错误码=50070", "Err:Custom50070"];
/// Another known real code: opening the reader failed (no reader).
pub const READER_OPEN_FAILED: [&str; 2] = ["[读卡器底层库]打开读卡器失败:错误码=50200", "Err:Custom50200"];

/// The card behind the fake control.
#[derive(Debug, Clone)]
pub struct EportCard {
    pub pin: String,
    pub tries_left: u8,
    /// As `cus-sec_SpcGetCardID` returns it (with the `03-` prefix).
    pub card_id: String,
    pub holder: String,
    pub enterprise: String,
    pub cert_no: String,
    pub cert_pem: String,
    /// `false`: every card method answers "no card".
    pub present: bool,
    pub verified: bool,
}

impl EportCard {
    pub fn new(pin: &str) -> EportCard {
        let spec = crate::cert::CertSpec::default();
        let cert_pem = crate::cert::pem(&crate::cert::build(&spec));
        EportCard {
            pin: pin.into(),
            tries_left: 3,
            card_id: "03-8930000012345".into(),
            holder: spec.holder,
            enterprise: spec.enterprise,
            cert_no: spec.serial_hex,
            cert_pem,
            present: true,
            verified: false,
        }
    }
}

/// A misbehaviour for the next request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer only after this long.
    Delay(Duration),
    /// First send a reply for the same method with another `_id`, then the right one.
    WrongIdFirst,
    /// Only send a reply with another `_id` (the right one never comes).
    OnlyWrongId,
    /// Answer with text that is not JSON.
    NotJson,
    /// Answer, then close the connection.
    CloseAfterReply,
    /// Close the connection instead of answering.
    CloseInsteadOfReply,
    /// Answer `Result: false` with these `Error` strings (the card is not touched).
    Errors(Vec<String>),
}

/// What one request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Which connection (1, 2, …) it came on.
    pub connection: usize,
    pub method: String,
    pub id: Option<u64>,
    /// Whether `args` had a `passwd`.
    pub has_passwd: bool,
}

#[derive(Debug)]
struct Shared {
    card: EportCard,
    /// Misbehaviours to come, each for any method (`None`) or one method.
    faults: VecDeque<(Option<String>, Fault)>,
    received: Vec<Received>,
    connections: usize,
    greeting: bool,
}

/// The running fake control.
pub struct FakeEport {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FakeEport {
    /// Listens on a random `127.0.0.1` port and serves `card`.
    pub fn start(card: EportCard) -> FakeEport {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap_or_else(|e| panic!("fake E-Port control cannot listen: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let shared = Arc::new(Mutex::new(Shared { card, faults: VecDeque::new(), received: Vec::new(), connections: 0, greeting: true }));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (shared, stop) = (shared.clone(), stop.clone());
                    std::thread::spawn(move || serve_connection(stream, &shared, &stop));
                }
            })
        };
        FakeEport { addr, shared, stop, accept: Some(accept) }
    }

    /// `ws://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Queues a misbehaviour for the next request.
    pub fn push_fault(&self, fault: Fault) {
        self.lock().faults.push_back((None, fault));
    }

    /// Queues a misbehaviour for the next request of `method`.
    pub fn push_fault_on(&self, method: &str, fault: Fault) {
        self.lock().faults.push_back((Some(method.to_owned()), fault));
    }

    /// Whether new connections get the `open` greeting (default yes).
    pub fn set_greeting(&self, greeting: bool) {
        self.lock().greeting = greeting;
    }

    /// Changes the card (pull it out, lock it, …).
    pub fn with_card<T>(&self, change: impl FnOnce(&mut EportCard) -> T) -> T {
        change(&mut self.lock().card)
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.lock().connections
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        lock(&self.shared)
    }
}

impl Drop for FakeEport {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The fake's "signature" of `in_data`: base64 of SHA-256 over a fixed key and the data.
pub fn signature_of(in_data: &str) -> String {
    let digest = Sha256::new().chain_update(b"fake eport key").chain_update(in_data.as_bytes()).finalize();
    base64::engine::general_purpose::STANDARD.encode(digest)
}

fn serve_connection(stream: TcpStream, shared: &Mutex<Shared>, stop: &AtomicBool) {
    if stop.load(Ordering::SeqCst) {
        return;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let Ok(mut ws) = tungstenite::accept(stream) else { return };
    let (connection, greeting) = {
        let mut shared = lock(shared);
        shared.connections += 1;
        (shared.connections, shared.greeting)
    };
    if greeting {
        let hello = json!({"_id": 0, "_method": "open", "_status": "00", "_args": {"Result": true, "Data": [], "Error": []}});
        if ws.send(Message::text(hello.to_string())).is_err() {
            return;
        }
    }
    while !stop.load(Ordering::SeqCst) {
        let text = match ws.read() {
            Ok(Message::Text(text)) => text.to_string(),
            Ok(Message::Close(_)) => return,
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e)) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            Err(_) => return,
        };
        if !answer(&mut ws, &text, connection, shared) {
            let _ = ws.close(None);
            let _ = ws.flush();
            return;
        }
    }
}

/// Answers one request; `false` closes the connection.
fn answer(ws: &mut WebSocket<TcpStream>, text: &str, connection: usize, shared: &Mutex<Shared>) -> bool {
    let request: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let method = request["_method"].as_str().unwrap_or_default().to_owned();
    let id = request["_id"].as_u64();
    let args = request["args"].clone();
    let (fault, outcome) = {
        let mut shared = lock(shared);
        shared.received.push(Received { connection, method: method.clone(), id, has_passwd: args.get("passwd").is_some() });
        let at = shared.faults.iter().position(|(only, _)| only.as_deref().is_none_or(|m| m == method));
        let fault = at.and_then(|at| shared.faults.remove(at)).map(|(_, fault)| fault);
        let outcome = match &fault {
            Some(Fault::Errors(errors)) => Err(errors.clone()),
            _ => run(&mut shared.card, &method, &args),
        };
        (fault, outcome)
    };
    let reply = |id: Option<u64>| {
        let args = match &outcome {
            Ok(data) => json!({"Result": true, "Data": data, "Error": []}),
            Err(errors) => json!({"Result": false, "Data": [], "Error": errors}),
        };
        json!({"_id": id, "_method": method, "_status": "00", "_args": args}).to_string()
    };
    let send = |ws: &mut WebSocket<TcpStream>, text: String| ws.send(Message::text(text)).is_ok();
    match fault {
        Some(Fault::Delay(delay)) => {
            std::thread::sleep(delay);
            send(ws, reply(id))
        }
        Some(Fault::WrongIdFirst) => send(ws, reply(id.map(|i| i + 1000))) && send(ws, reply(id)),
        Some(Fault::OnlyWrongId) => send(ws, reply(id.map(|i| i + 1000))),
        Some(Fault::NotJson) => send(ws, "<html>Internal Server Error</html>".into()),
        Some(Fault::CloseAfterReply) => {
            send(ws, reply(id));
            false
        }
        Some(Fault::CloseInsteadOfReply) => false,
        Some(Fault::Errors(_)) | None => send(ws, reply(id)),
    }
}

/// Runs a method on the card: `Data` or `Error`.
fn run(card: &mut EportCard, method: &str, args: &Value) -> Result<Vec<String>, Vec<String>> {
    let no_card = || vec![NO_CARD_TEXT.to_owned(), NO_CARD_CODE.to_owned()];
    let getter = |card: &EportCard, value: &str| if card.present { Ok(vec![value.to_owned()]) } else { Err(no_card()) };
    match method {
        "cus-sec_SpcGetCardID" => getter(card, &card.card_id),
        "cus-sec_SpcGetUName" => getter(card, &card.holder),
        "cus-sec_SpcGetEntName" => getter(card, &card.enterprise),
        "cus-sec_SpcGetCertNo" => getter(card, &card.cert_no),
        "cus-sec_SpcGetSignCertAsPEM" => getter(card, &card.cert_pem),
        "cus-sec_SpcVerifyPIN" | "cus-sec_SpcVerifyPINAll" => {
            if !card.present {
                return Err(no_card());
            }
            verify(card, args["passwd"].as_str().unwrap_or_default()).map(|()| Vec::new())
        }
        "cus-sec_SpcSignDataAsPEM" => {
            if !card.present {
                return Err(no_card());
            }
            if let Some(passwd) = args["passwd"].as_str() {
                verify(card, passwd)?;
            } else if !card.verified {
                return Err(vec!["[SPSecureAPI]请先验证口令".into(), "Err:Custom10016".into()]);
            }
            let in_data = args["inData"].as_str().unwrap_or_default();
            Ok(vec![signature_of(in_data), card.cert_no.clone()])
        }
        _ => Err(vec![format!("不支持的方法:{method}"), "Err:Base60001".into()]),
    }
}

fn verify(card: &mut EportCard, passwd: &str) -> Result<(), Vec<String>> {
    let locked = || vec![LOCKED_TEXT.to_owned(), LOCKED_CODE.to_owned()];
    if card.tries_left == 0 {
        return Err(locked());
    }
    if passwd == card.pin {
        card.tries_left = 3;
        card.verified = true;
        return Ok(());
    }
    card.verified = false;
    card.tries_left -= 1;
    if card.tries_left == 0 {
        Err(locked())
    } else {
        Err(vec![WRONG_PIN_TEXT.replace("{n}", &card.tries_left.to_string()), WRONG_PIN_CODE.to_owned()])
    }
}
