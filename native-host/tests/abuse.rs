//! The host under abuse, started as the browser starts it: the built `datalink-host` with a
//! temporary `DATALINK_DB`, frames on its stdin, frames back on its stdout.
//!
//! What a hostile or broken peer can send, and what the host must do (PROTOCOL.md, "Framing"
//! and "Error codes"):
//!
//! * a length prefix over the 8 MiB cap (just over it, 512 MiB, `0xFFFFFFFF`): error 1001 with
//!   `id: null`, the frame's bytes skipped without being allocated, the stream still in step;
//! * a frame cut short (inside the prefix, inside the body, a 4 GiB prefix on a short stream):
//!   exit 0 without answering it;
//! * bytes that are not UTF-8 JSON (1002), JSON that is not a request object or has fields of the
//!   wrong shape (1003), a `type` the host does not know (1004) — each answered with its numbered
//!   error, after which a `ping` still gets the right answer;
//! * JSON nested deeper than the parser's recursion limit (no stack overflow) and huge strings
//!   inside a frame of allowed size;
//! * a flood of 100,000 requests: one reply per request, matched by `id`, with peak memory
//!   (`VmHWM` in `/proc/<pid>/status`) bounded;
//! * a reader that stops reading: the host must stop reading too (back-pressure through the
//!   pipe), not queue replies in memory without bound.
//!
//! Also the PIN in a crash (the host killed while a PIN is at the card) and the modes of the
//! files the host creates (0600) and of their folder (0700).
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report
#![allow(clippy::print_stderr)] // the measured figures (time, memory) for the test's output; the host's own lint is about its wire

mod store_support;

use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use datalink_core::error::ErrorCode;
use datalink_core::protocol::{MAX_ECHO_BYTES, MAX_REPLY_FRAME, MAX_REQUEST_FRAME};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_datalink-host");
const ORIGIN: &str = "chrome-extension://kkaaldpdgcikdogodnihlanlipfoeboa/";
const REPLY: Duration = Duration::from_secs(30);
const MIB: u64 = 1024 * 1024;

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(payload.len()).unwrap().to_ne_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

fn ping_request(id: u64) -> Vec<u8> {
    frame(format!(r#"{{"id":{id},"type":"ping","protocol":1,"extensionVersion":"0.1.0"}}"#).as_bytes())
}

/// What the stdout reader thread passes on.
enum Out {
    Frame(Value),
    /// A frame that breaks the protocol (too long, not JSON): the test fails with this text.
    Broken(String),
}

/// One host process with a temporary data folder.
struct Host {
    child: Child,
    stdin: Option<ChildStdin>,
    frames: mpsc::Receiver<Out>,
    /// While false, the stdout reader does not read (a browser that stopped reading).
    reading: Arc<AtomicBool>,
    stderr: Arc<Mutex<Vec<u8>>>,
    dir: PathBuf,
    /// Frames received before the one a caller waited for (replies come in any order).
    early: Vec<Value>,
}

impl Host {
    fn start(name: &str) -> Host {
        Host::start_with(name, &[])
    }

    /// Starts the host with `DATALINK_DB=<dir>/data/datalink.db` (the folder does not exist yet)
    /// and `env`; the working directory is `dir`, so anything it might drop there is found too.
    fn start_with(name: &str, env: &[(&str, &str)]) -> Host {
        let dir = std::env::temp_dir().join(format!("datalink-abuse-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut command = Command::new(BIN);
        command.arg(ORIGIN).current_dir(&dir).env("DATALINK_DB", dir.join("data").join("datalink.db"));
        for variable in ["DATALINK_CARD_BACKEND", "DATALINK_EPORT_URL", "DATALINK_CARD_READER", "DATALINK_EPORT_TIMEOUT_MS"] {
            command.env_remove(variable);
        }
        command.env("RUST_BACKTRACE", "full");
        for (variable, value) in env {
            command.env(variable, value);
        }
        let mut child =
            command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start datalink-host");
        let stdin = child.stdin.take();
        let (tx, frames) = mpsc::channel();
        let reading = Arc::new(AtomicBool::new(true));
        let mut stdout = child.stdout.take().unwrap();
        let gate = reading.clone();
        std::thread::spawn(move || {
            let mut pending: Vec<u8> = Vec::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                if !gate.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                let n = match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                pending.extend_from_slice(&buf[..n]);
                let mut at = 0;
                while pending.len() - at >= 4 {
                    let len = u32::from_ne_bytes(pending[at..at + 4].try_into().unwrap()) as usize;
                    if len > MAX_REPLY_FRAME {
                        let _ = tx.send(Out::Broken(format!("a {len}-byte frame breaks the browser's 1 MiB limit")));
                        return;
                    }
                    if pending.len() - at < 4 + len {
                        break;
                    }
                    let out = match serde_json::from_slice(&pending[at + 4..at + 4 + len]) {
                        Ok(value) => Out::Frame(value),
                        Err(e) => Out::Broken(format!("a frame that is not JSON: {e}")),
                    };
                    at += 4 + len;
                    if tx.send(out).is_err() {
                        return;
                    }
                }
                pending.drain(..at);
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut err = child.stderr.take().unwrap();
        let log = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                log.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Host { child, stdin, frames, reading, stderr, dir, early: Vec::new() }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    fn send(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).and_then(|()| stdin.flush()).unwrap_or_else(|e| panic!("cannot write to the host: {e}"));
    }

    /// The next whole reply (chunks joined), whatever its id.
    fn next_reply(&mut self, timeout: Duration) -> Value {
        if !self.early.is_empty() {
            return self.early.remove(0);
        }
        let first = self.next_frame(timeout);
        let Some(count) = first["chunk"]["count"].as_u64() else {
            return first;
        };
        let mut text = first["text"].as_str().unwrap().to_owned();
        for index in 1..count {
            let chunk = self.next_frame(timeout);
            assert_eq!((chunk["id"].clone(), chunk["chunk"]["index"].as_u64()), (first["id"].clone(), Some(index)), "chunks in order");
            text.push_str(chunk["text"].as_str().unwrap());
        }
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("joined chunks are not JSON: {e}"))
    }

    fn next_frame(&mut self, timeout: Duration) -> Value {
        match self.frames.recv_timeout(timeout) {
            Ok(Out::Frame(value)) => value,
            Ok(Out::Broken(why)) => panic!("{why}; the host's log:\n{}", self.log()),
            Err(_) => panic!("no reply within {timeout:?}; the host's log:\n{}", self.log()),
        }
    }

    /// The reply with `id` (others are kept for later).
    fn reply_to(&mut self, id: u64) -> Value {
        if let Some(at) = self.early.iter().position(|r| r["id"] == json!(id)) {
            return self.early.remove(at);
        }
        loop {
            let reply = self.next_reply(REPLY);
            if reply["id"] == json!(id) {
                return reply;
            }
            self.early.push(reply);
        }
    }

    /// Sends a `ping` and checks the answer: the stream is in step and the host is the same
    /// process.
    fn assert_pings(&mut self, id: u64, after: &str) {
        self.send(&ping_request(id));
        let reply = self.reply_to(id);
        assert_eq!(reply["ok"], json!(true), "ping after {after}: {reply}");
        assert_eq!(reply["result"]["protocol"], json!(1), "ping after {after}: {reply}");
        assert_eq!(reply["result"]["pid"], json!(self.pid()), "ping after {after}: {reply}");
    }

    /// `VmHWM` (peak resident memory) and `VmRSS` of the host, in bytes.
    fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let field = |name: &str| {
            let line = status.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} in {status}"));
            line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
        };
        (field("VmHWM:"), field("VmRSS:"))
    }

    /// Closes stdin (the browser closing the port) and waits up to 20 s for the exit.
    fn finish(mut self) -> (ExitStatus, String) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50)); // let the stderr thread catch up
                return (status, self.log());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the host did not exit within 20 s of EOF; its log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// [`Host::finish`], asserting a clean exit and that nothing more was written.
    fn finish_clean(mut self, what: &str) -> String {
        let leftover: Vec<Value> = std::mem::take(&mut self.early);
        let frames: Vec<Value> = self.frames.try_iter().filter_map(|o| if let Out::Frame(v) = o { Some(v) } else { None }).collect();
        let dir = self.dir.clone();
        let (status, log) = self.finish();
        assert!(status.success(), "{what}: the host exited with {status}; its log:\n{log}");
        assert!(leftover.is_empty() && frames.is_empty(), "{what}: unexpected replies {leftover:?} {frames:?}");
        let _ = std::fs::remove_dir_all(dir);
        log
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Asserts `reply` is error `code` for `id`, with the table's name and message.
fn assert_error(reply: &Value, code: u32, id: Option<u64>, case: &str) {
    let expected = ErrorCode::from_code(code).unwrap();
    assert_eq!(reply["id"], id.map_or(Value::Null, Value::from), "{case}: {reply}");
    assert_eq!(reply["ok"], json!(false), "{case}: {reply}");
    assert_eq!(reply["error"]["code"], json!(code), "{case}: {reply}");
    assert_eq!(reply["error"]["name"], json!(expected.name()), "{case}: {reply}");
    assert_eq!(reply["error"]["message"], json!(expected.user_message()), "{case}: {reply}");
}

#[test]
fn length_prefixes_over_the_cap_are_refused_without_allocating_and_the_stream_stays_in_step() {
    let mut host = Host::start("prefix");
    host.assert_pings(1, "start");
    let (baseline, _) = host.memory();

    // Exactly the cap: a request padded with JSON whitespace to 8 MiB is read and answered.
    let mut at_cap = br#"{"id":2,"type":"ping","protocol":1,"extensionVersion":"0.1.0"}"#.to_vec();
    at_cap.resize(MAX_REQUEST_FRAME, b' ');
    host.send(&frame(&at_cap));
    let reply = host.reply_to(2);
    assert_eq!(reply["ok"], json!(true), "a frame of exactly the cap is allowed: {reply}");

    // One byte over: 1001, the bytes skipped, the next frame read.
    at_cap.push(b' ');
    host.send(&frame(&at_cap));
    assert_error(&host.next_reply(REPLY), 1001, None, "cap + 1");
    host.assert_pings(3, "cap + 1");

    // Far over (512 MiB announced and sent): skipped in pieces, never allocated.
    let huge = 512 * 1024 * 1024u32;
    let chunk = vec![b'{'; 1024 * 1024];
    host.send(&huge.to_ne_bytes());
    for _ in 0..huge as usize / chunk.len() {
        host.send(&chunk);
    }
    let reply = host.next_reply(REPLY);
    assert_error(&reply, 1001, None, "512 MiB");
    assert_eq!(reply["error"]["detail"], json!(format!("{huge} bytes, cap {MAX_REQUEST_FRAME}")));
    host.assert_pings(4, "512 MiB");
    let (peak, _) = host.memory();
    assert!(
        peak < baseline + 3 * MAX_REQUEST_FRAME as u64 + 16 * MIB,
        "skipping 512 MiB raised the peak from {} to {} MiB",
        baseline / MIB,
        peak / MIB
    );

    // 0xFFFFFFFF on a stream that ends: skipped as far as it goes, then a quiet exit.
    let mut input = u32::MAX.to_ne_bytes().to_vec();
    input.extend(vec![b'x'; 16 * 1024 * 1024]);
    host.send(&input);
    std::thread::sleep(Duration::from_millis(300));
    let (peak, _) = host.memory();
    assert!(peak < baseline + 3 * MAX_REQUEST_FRAME as u64 + 16 * MIB, "a 4 GiB prefix raised the peak to {} MiB", peak / MIB);
    let log = host.finish_clean("4 GiB prefix, then EOF");
    assert!(log.contains("input ended inside a frame"), "{log}");
}

#[test]
fn frames_cut_short_end_the_host_quietly() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("nothing at all", Vec::new()),
        ("two bytes of a prefix", vec![0x20, 0x00]),
        ("a prefix and no body", 100u32.to_ne_bytes().to_vec()),
        ("a body cut in the middle", {
            let mut bytes = frame(br#"{"id":9,"type":"ping","protocol":1,"extensionVersion":"0.1.0"}"#);
            bytes.truncate(30);
            bytes
        }),
        ("a body cut one byte short", {
            let mut bytes = frame(br#"{"id":9,"type":"ping","protocol":1,"extensionVersion":"0.1.0"}"#);
            bytes.pop();
            bytes
        }),
        ("a 4 GiB prefix", u32::MAX.to_ne_bytes().to_vec()),
    ];
    for (case, tail) in cases {
        let mut host = Host::start("cut");
        host.assert_pings(1, case);
        host.send(&tail);
        let log = host.finish_clean(case);
        let expected = if tail.is_empty() { "stopped: Eof" } else { "stopped: Truncated" };
        assert!(log.contains(expected), "{case}: {log}");
    }
}

#[test]
fn broken_requests_are_answered_with_their_numbered_errors_and_ping_still_answers() {
    let deep = |depth: usize| "[".repeat(depth) + &"]".repeat(depth);
    let mut cases: Vec<(String, Vec<u8>, u32, Option<u64>)> = vec![
        // Not UTF-8, or not JSON: 1002, no id can be read.
        ("invalid UTF-8".into(), vec![0xc3, 0x28, 0xff, 0xfe], 1002, None),
        ("invalid UTF-8 inside a string".into(), b"{\"id\":5,\"type\":\"echo\",\"text\":\"\xff\xfe\"}".to_vec(), 1002, None),
        ("an encoded surrogate".into(), b"{\"id\":5,\"type\":\"echo\",\"text\":\"\xed\xa0\x80\"}".to_vec(), 1002, None),
        ("an overlong encoding".into(), b"{\"id\":5,\"type\":\"echo\",\"text\":\"\xc0\xaf\"}".to_vec(), 1002, None),
        ("a lone surrogate escape".into(), br#"{"id":5,"type":"echo","text":"\ud800"}"#.to_vec(), 1002, None),
        ("an empty frame".into(), Vec::new(), 1002, None),
        ("unclosed JSON".into(), br#"{"id":5,"type":"#.to_vec(), 1002, None),
        ("JSON then garbage".into(), br#"{"id":5,"type":"ping","protocol":1} x"#.to_vec(), 1002, None),
        ("a NUL byte".into(), b"\0".to_vec(), 1002, None),
        ("a number too big for a double".into(), br#"{"id":5,"type":"ping","protocol":1e999}"#.to_vec(), 1002, None),
        // JSON nested past the parser's limit: refused, not a stack overflow.
        ("arrays nested 1,000,000 deep".into(), deep(1_000_000).into_bytes(), 1002, None),
        ("objects nested 100,000 deep".into(), r#"{"a":"#.repeat(100_000).into_bytes(), 1002, None),
        (
            "a deep value inside a request".into(),
            format!(r#"{{"id":5,"type":"ping","protocol":1,"extra":{}}}"#, deep(100_000)).into_bytes(),
            1002,
            None,
        ),
        // JSON, but not a request object: 1003.
        ("an array".into(), b"[]".to_vec(), 1003, None),
        ("a string".into(), br#""ping""#.to_vec(), 1003, None),
        ("a number".into(), b"42".to_vec(), 1003, None),
        ("null".into(), b"null".to_vec(), 1003, None),
        ("no id".into(), br#"{"type":"ping","protocol":1}"#.to_vec(), 1003, None),
        ("a negative id".into(), br#"{"id":-1,"type":"ping","protocol":1}"#.to_vec(), 1003, None),
        ("a fractional id".into(), br#"{"id":1.5,"type":"ping","protocol":1}"#.to_vec(), 1003, None),
        ("a string id".into(), br#"{"id":"7","type":"ping","protocol":1}"#.to_vec(), 1003, None),
        ("an id past u64".into(), br#"{"id":18446744073709551616,"type":"ping","protocol":1}"#.to_vec(), 1003, None),
        ("no type".into(), br#"{"id":6,"protocol":1}"#.to_vec(), 1003, Some(6)),
        ("a numeric type".into(), br#"{"id":6,"type":7}"#.to_vec(), 1003, Some(6)),
        ("a null type".into(), br#"{"id":6,"type":null}"#.to_vec(), 1003, Some(6)),
        // Unknown types: 1004, with the id.
        ("an unknown type".into(), br#"{"id":7,"type":"self_destruct"}"#.to_vec(), 1004, Some(7)),
        ("an empty type".into(), br#"{"id":7,"type":""}"#.to_vec(), 1004, Some(7)),
        ("a type in capitals".into(), br#"{"id":7,"type":"PING","protocol":1}"#.to_vec(), 1004, Some(7)),
        ("a type with a space".into(), br#"{"id":7,"type":"ping ","protocol":1}"#.to_vec(), 1004, Some(7)),
        ("a path as type".into(), br#"{"id":7,"type":"../../etc/passwd"}"#.to_vec(), 1004, Some(7)),
        // Known types with missing or wrong-typed fields: 1003, with the id.
        ("ping without protocol".into(), br#"{"id":8,"type":"ping"}"#.to_vec(), 1003, Some(8)),
        ("ping with a string protocol".into(), br#"{"id":8,"type":"ping","protocol":"1"}"#.to_vec(), 1003, Some(8)),
        ("ping with a negative protocol".into(), br#"{"id":8,"type":"ping","protocol":-1}"#.to_vec(), 1003, Some(8)),
        ("ping with a protocol past u32".into(), br#"{"id":8,"type":"ping","protocol":4294967296}"#.to_vec(), 1003, Some(8)),
        ("echo without text".into(), br#"{"id":8,"type":"echo"}"#.to_vec(), 1003, Some(8)),
        ("echo with a numeric text".into(), br#"{"id":8,"type":"echo","text":5}"#.to_vec(), 1003, Some(8)),
        ("echo of 4 GiB".into(), br#"{"id":8,"type":"echo","text":"x","repeat":4294967295}"#.to_vec(), 1003, Some(8)),
        (
            "echo one byte over its limit".into(),
            format!(r#"{{"id":8,"type":"echo","text":"x","repeat":{}}}"#, MAX_ECHO_BYTES + 1).into_bytes(),
            1003,
            Some(8),
        ),
        ("task_get without task".into(), br#"{"id":8,"type":"task_get"}"#.to_vec(), 1003, Some(8)),
        ("task_get with a numeric task".into(), br#"{"id":8,"type":"task_get","task":20260101000000001}"#.to_vec(), 1003, Some(8)),
        ("task_list with a string page size".into(), br#"{"id":8,"type":"task_list","pageSize":"all"}"#.to_vec(), 1003, Some(8)),
        (
            "task_log with lines as an object".into(),
            br#"{"id":8,"type":"task_log","task":"20260101000000001","lines":{}}"#.to_vec(),
            1003,
            Some(8),
        ),
        ("card_wait until never".into(), br#"{"id":8,"type":"card_wait","until":"never"}"#.to_vec(), 1003, Some(8)),
        ("card_verify_pin without pin".into(), br#"{"id":8,"type":"card_verify_pin"}"#.to_vec(), 1003, Some(8)),
        ("export in an unknown format".into(), br#"{"id":8,"type":"export","format":"exe"}"#.to_vec(), 1003, Some(8)),
    ];
    // The largest id there is comes back exactly.
    cases.push((
        "an unknown type with id u64::MAX".into(),
        format!(r#"{{"id":{},"type":"nope"}}"#, u64::MAX).into_bytes(),
        1004,
        Some(u64::MAX),
    ));

    let mut host = Host::start("broken");
    host.assert_pings(1, "start");
    for (n, (case, payload, code, id)) in cases.iter().enumerate() {
        host.send(&frame(payload));
        let reply = host.next_reply(REPLY);
        assert_error(&reply, *code, *id, case);
        let detail = reply["error"]["detail"].as_str().unwrap_or_default();
        assert!(detail.len() <= 4096, "{case}: a {}-byte detail", detail.len());
        host.assert_pings(1000 + n as u64, case);
    }
    host.finish_clean("broken requests");
}

/// A request that carries a PIN in the wrong shape is refused without the PIN in the reply or
/// the log (serde's messages quote the value they refuse).
#[test]
fn a_pin_of_the_wrong_shape_is_refused_without_being_echoed() {
    const PIN: &str = "84061937";
    let mut host = Host::start("pin-shape");
    let requests = [
        json!({"id": 1, "type": "card_verify_pin", "pin": 84_061_937}),
        json!({"id": 2, "type": "card_sign", "data": "x", "pin": 84_061_937}),
        json!({"id": 3, "type": "card_verify_pin", "pin": [PIN]}),
        json!({"id": 4, "type": "card_verify_pin", "pin": {"value": PIN}}),
        json!({"id": 5, "type": "certificate_make", "from": "2025-01", "to": "2025-01", "project": "a", "department": "b", "sign": true, "pin": 84_061_937}),
    ];
    for request in &requests {
        host.send(&frame(request.to_string().as_bytes()));
        let id = request["id"].as_u64().unwrap();
        let reply = host.reply_to(id);
        assert_error(&reply, 1003, Some(id), &request.to_string());
        assert!(!reply.to_string().contains(PIN), "the reply quotes the PIN: {reply}");
    }
    host.assert_pings(9, "PINs of the wrong shape");
    let log = host.finish_clean("PINs of the wrong shape");
    assert!(log.contains("refused request Some(1): 1003"), "{log}");
    assert!(!log.contains(PIN), "the log quotes the PIN: {log}");
}

#[test]
fn huge_strings_inside_an_allowed_frame_are_handled_and_unknown_types_are_not_echoed_whole() {
    let mut host = Host::start("strings");
    host.assert_pings(1, "start");

    // 7 MiB of CJK text: counted right, echoed back whole in chunks.
    let text = "报".repeat(7 * 1024 * 1024 / 3);
    host.send(&frame(json!({"id": 2, "type": "echo", "text": text}).to_string().as_bytes()));
    let reply = host.reply_to(2);
    assert_eq!(reply["ok"], json!(true), "{}", reply["error"]);
    assert_eq!(reply["result"]["chars"], json!(text.chars().count()));
    assert_eq!(reply["result"]["utf8Bytes"], json!(text.len()));
    assert!(reply["result"]["text"].as_str() == Some(text.as_str()), "the 7 MiB text came back changed");

    // Control characters that each grow sixfold when escaped: the chunks still fit and join.
    let controls: String = "\u{1}\u{0}\"\\\n".repeat(200_000);
    host.send(&frame(json!({"id": 3, "type": "echo", "text": controls}).to_string().as_bytes()));
    let reply = host.reply_to(3);
    assert!(reply["result"]["text"].as_str() == Some(controls.as_str()), "escaped text came back changed");

    // A 7 MiB type name: 1004 with a short detail, not the name back.
    let name = "x".repeat(7 * 1024 * 1024);
    host.send(&frame(json!({"id": 4, "type": name}).to_string().as_bytes()));
    let reply = host.reply_to(4);
    assert_error(&reply, 1004, Some(4), "7 MiB type");
    assert!(reply["error"]["detail"].as_str().unwrap().len() < 200, "{}", reply["error"]["detail"]);

    // Many fields and a long key in a known request: ignored or refused, never fatal.
    let mut wide = serde_json::Map::new();
    wide.insert("id".into(), json!(5));
    wide.insert("type".into(), json!("ping"));
    wide.insert("protocol".into(), json!(1));
    for i in 0..200_000 {
        wide.insert(format!("k{i}"), json!(i));
    }
    wide.insert("k".repeat(1024 * 1024), json!("v"));
    host.send(&frame(Value::Object(wide).to_string().as_bytes()));
    let reply = host.reply_to(5);
    assert_eq!(reply["ok"], json!(true), "unknown fields are ignored: {reply}");
    host.assert_pings(6, "huge strings");
    host.finish_clean("huge strings");
}

/// The kinds of request in the flood, by `id % 5`.
fn flood_request(id: u64) -> Vec<u8> {
    let body = match id % 5 {
        0 => format!(r#"{{"id":{id},"type":"ping","protocol":1,"extensionVersion":"0.1.0"}}"#),
        1 | 2 => format!(r#"{{"id":{id},"type":"echo","text":"报关{id}"}}"#),
        3 => format!(r#"{{"id":{id},"type":"launch_{id}"}}"#),
        _ => format!(r#"{{"id":{id},"type":"echo","text":{id}}}"#),
    };
    frame(body.as_bytes())
}

/// Checks one flood reply; `true` when it was `busy`.
fn check_flood_reply(reply: &Value, pid: u32) -> bool {
    let id = reply["id"].as_u64().unwrap_or_else(|| panic!("a flood reply without id: {reply}"));
    if reply["error"]["code"] == json!(1006) {
        assert!(id % 5 < 3, "only requests that run can be busy: {reply}");
        return true;
    }
    match id % 5 {
        0 => assert_eq!(reply["result"]["pid"], json!(pid), "{reply}"),
        1 | 2 => assert_eq!(reply["result"]["text"], json!(format!("报关{id}")), "{reply}"),
        3 => assert_error(reply, 1004, Some(id), "flood: unknown type"),
        _ => assert_error(reply, 1003, Some(id), "flood: wrong-typed field"),
    }
    false
}

#[test]
fn a_flood_of_100000_requests_gets_one_reply_each_in_bounded_memory() {
    const WARM_UP: u64 = 2_000;
    const FLOOD: u64 = 100_000;
    let started = Instant::now();
    let mut host = Host::start("flood");
    host.assert_pings(u64::MAX - 1, "start");
    // Warm-up: the runtime's threads and buffers exist, then measure.
    for id in 0..WARM_UP {
        host.send(&flood_request(id));
        check_flood_reply(&host.reply_to(id), host.pid());
    }
    let (baseline_peak, baseline_rss) = host.memory();

    // The flood: a writer thread as fast as the pipe takes it, a malformed frame every 1000th.
    let mut stdin = host.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut out = BufWriter::with_capacity(64 * 1024, &mut stdin);
        for id in WARM_UP..WARM_UP + FLOOD {
            out.write_all(&flood_request(id)).unwrap();
            if id.is_multiple_of(1000) {
                out.write_all(&frame(b"{not json")).unwrap();
            }
        }
        out.flush().unwrap();
        drop(out);
        stdin
    });
    let mut seen = vec![false; FLOOD as usize];
    let (mut busy, mut malformed, mut peak_rss) = (0u64, 0u64, 0u64);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut replies = 0u64;
    while replies < FLOOD {
        assert!(Instant::now() < deadline, "only {replies} of {FLOOD} replies within 120 s");
        let reply = host.next_reply(REPLY);
        if reply["id"].is_null() {
            assert_error(&reply, 1002, None, "flood: malformed");
            malformed += 1;
            continue;
        }
        let id = reply["id"].as_u64().unwrap();
        let slot = &mut seen[(id - WARM_UP) as usize];
        assert!(!*slot, "a second reply to {id}: {reply}");
        *slot = true;
        replies += 1;
        busy += u64::from(check_flood_reply(&reply, host.pid()));
        if replies.is_multiple_of(10_000) {
            peak_rss = peak_rss.max(host.memory().1);
        }
    }
    host.stdin = Some(writer.join().unwrap());
    // The malformed frames' replies may trail the last request's.
    while malformed < FLOOD / 1000 {
        assert_error(&host.next_reply(REPLY), 1002, None, "flood: malformed");
        malformed += 1;
    }
    assert!(seen.iter().all(|s| *s));
    host.assert_pings(u64::MAX, "the flood");
    let (peak, rss) = host.memory();
    eprintln!(
        "flood: {FLOOD} requests in {:.1?}, {busy} busy; VmHWM {} → {} KiB, VmRSS {} → {} KiB (max sampled {} KiB)",
        started.elapsed(),
        baseline_peak / 1024,
        peak / 1024,
        baseline_rss / 1024,
        rss / 1024,
        peak_rss / 1024
    );
    assert!(peak < 64 * MIB, "the host's peak memory reached {} MiB", peak / MIB);
    assert!(peak < baseline_peak + 32 * MIB, "the flood raised the peak from {} to {} MiB", baseline_peak / MIB, peak / MIB);
    host.finish_clean("the flood");
}

#[test]
fn a_reader_that_stops_reading_makes_the_host_stop_reading_not_buffer() {
    // Each request is padded to 16 KiB (so the pipe into the host holds only a few) and asks
    // for a 256 KiB reply: 400 of them, if the host queued every reply, would be 100 MiB. A
    // host with back-pressure holds at most its in-flight requests' and its queue's replies.
    const REQUESTS: usize = 400;
    const REPEAT: usize = 256 * 1024 / 12;
    const REPLY_TEXT: usize = REPEAT * "报关单号".len();
    let started = Instant::now();
    let mut host = Host::start("backpressure");
    host.assert_pings(u64::MAX, "start");
    let (baseline_peak, _) = host.memory();
    host.reading.store(false, Ordering::SeqCst);

    let written = Arc::new(AtomicUsize::new(0));
    let progress = written.clone();
    let mut stdin = host.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for id in 0..REQUESTS {
            let mut body = format!(r#"{{"id":{id},"type":"echo","text":"报关单号","repeat":{REPEAT}}}"#).into_bytes();
            body.resize(16 * 1024, b' ');
            stdin.write_all(&frame(&body)).unwrap();
            progress.fetch_add(1, Ordering::SeqCst);
            // Paced like a busy page, so that a host without back-pressure runs (and keeps)
            // each reply instead of answering most of them `busy`.
            std::thread::sleep(Duration::from_millis(4));
        }
        stdin
    });
    // Wait until the writer stalls (no progress for 1.5 s) or finishes.
    let (mut last, mut since) = (0, Instant::now());
    while !writer.is_finished() && since.elapsed() < Duration::from_millis(1500) {
        std::thread::sleep(Duration::from_millis(50));
        let now = written.load(Ordering::SeqCst);
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
    let stalled_at = written.load(Ordering::SeqCst);
    // What the host read, it has had time to run.
    std::thread::sleep(Duration::from_secs(2));
    let (peak, rss) = host.memory();
    eprintln!(
        "back-pressure: the writer stalled at {stalled_at} of {REQUESTS} requests; VmHWM {} → {} KiB, VmRSS {} KiB",
        baseline_peak / 1024,
        peak / 1024,
        rss / 1024
    );
    assert!(
        rss < baseline_peak + 48 * MIB,
        "with nobody reading, the host holds {} MiB (baseline peak {} MiB)",
        rss / MIB,
        baseline_peak / MIB
    );
    assert!(stalled_at < REQUESTS, "the host read all {REQUESTS} requests while nobody read its replies");

    // Reading again: every request is answered exactly once, whole or busy.
    host.reading.store(true, Ordering::SeqCst);
    let mut answered: HashMap<u64, bool> = HashMap::new();
    while answered.len() < REQUESTS {
        let reply = host.next_reply(REPLY);
        let id = reply["id"].as_u64().unwrap_or_else(|| panic!("{reply}"));
        let whole = if reply["error"]["code"] == json!(1006) {
            false
        } else {
            assert_eq!(reply["result"]["text"].as_str().map(str::len), Some(REPLY_TEXT), "reply {id}");
            true
        };
        assert!(answered.insert(id, whole).is_none(), "a second reply to {id}");
    }
    host.stdin = Some(writer.join().unwrap());
    let whole = answered.values().filter(|w| **w).count();
    assert!(whole >= 32, "only {whole} requests ran");
    host.assert_pings(u64::MAX - 1, "back-pressure");
    eprintln!("back-pressure: {whole} whole replies, {} busy, {:.1?}", REQUESTS - whole, started.elapsed());
    host.finish_clean("back-pressure");
}


#[cfg(unix)]
#[test]
fn a_host_killed_while_a_pin_is_at_the_card_leaves_no_pin_behind_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    use virtual_card::eport::{EportCard, FakeEport, Fault};

    const PIN: &str = "84061937";
    let needles = virtual_card::hygiene::pin_needles(PIN);
    let control = FakeEport::start(EportCard::new(PIN));
    // The control holds the PIN's answer long enough for the host to be killed meanwhile.
    control.push_fault_on("cus-sec_SpcVerifyPINAll", Fault::Delay(Duration::from_secs(20)));
    let url = control.url();
    let mut host = Host::start_with("pin-kill", &[("DATALINK_CARD_BACKEND", "eport"), ("DATALINK_EPORT_URL", url.as_str())]);
    let dir = host.dir.clone();
    let data = dir.join("data");
    assert!(!data.exists());

    // A real request creates the store; a task and its log put data in the WAL.
    let mut create = store_support::request("task_create", &store_support::create("2026-05-25 10:00:00"));
    create["id"] = json!(1);
    host.send(&frame(create.to_string().as_bytes()));
    let created = host.reply_to(1);
    assert_eq!(created["ok"], json!(true), "{created}");
    let task = created["result"]["number"].as_str().unwrap().to_owned();
    let log = json!({"id": 2, "type": "task_log", "task": task, "lines": [{"at": "2026-05-25 10:00:01", "category": "connect", "message": "连接单一窗口"}]});
    host.send(&frame(log.to_string().as_bytes()));
    assert_eq!(host.reply_to(2)["ok"], json!(true));

    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data folder the host created");
    let db = data.join("datalink.db");
    for file in [db.clone(), data.join("datalink.db-wal"), data.join("datalink.db-shm")] {
        assert!(file.exists(), "{} was not created: {:?}", file.display(), virtual_card::hygiene::files_under(&data));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }

    // The PIN goes out; once the control has it, the host dies.
    host.send(&frame(json!({"id": 3, "type": "card_verify_pin", "pin": PIN}).to_string().as_bytes()));
    let deadline = Instant::now() + REPLY;
    while !control.received().iter().any(|r| r.method == "cus-sec_SpcVerifyPINAll" && r.has_passwd) {
        assert!(Instant::now() < deadline, "the PIN never reached the control; the host's log:\n{}", host.log());
        std::thread::sleep(Duration::from_millis(10));
    }
    host.child.kill().unwrap();
    let status = host.child.wait().unwrap();
    assert!(!status.success(), "killed: {status}");
    std::thread::sleep(Duration::from_millis(100));
    let stderr = host.log();
    assert!(stderr.contains("card: connected"), "the host's log has no card lines to search:\n{stderr}");

    // Everything the host left: its log, its stdout, every file in its folders.
    let mut artifacts: Vec<(String, Vec<u8>)> = vec![("stderr".into(), stderr.into_bytes())];
    while let Ok(Out::Frame(value)) = host.frames.try_recv() {
        artifacts.push(("stdout".into(), value.to_string().into_bytes()));
    }
    let files = virtual_card::hygiene::files_under(&dir);
    for file in &files {
        artifacts.push((file.display().to_string(), std::fs::read(file).unwrap()));
        if file.starts_with(&data) {
            assert_eq!(mode(file), 0o600, "{}", file.display());
        }
        let name = file.file_name().unwrap().to_string_lossy().to_lowercase();
        assert!(!name.contains("core") && !name.ends_with(".log"), "the host left {}", file.display());
    }
    for (name, bytes) in &artifacts {
        let text = String::from_utf8_lossy(bytes);
        let hits: Vec<&String> = needles.iter().filter(|n| text.contains(n.as_str())).collect();
        assert!(hits.is_empty(), "the PIN is in {name} as {hits:?}");
    }
    let searched: usize = artifacts.iter().map(|(_, b)| b.len()).sum();
    assert!(files.len() >= 3 && searched > 4096, "searched only {searched} bytes in {files:?}");

    // The store is intact after the kill, and a new host opens it.
    drop(host);
    let mut again = Host::start_with("pin-kill-reopen", &[("DATALINK_DB", db.to_str().unwrap())]);
    again.send(&frame(json!({"id": 1, "type": "task_get", "task": task}).to_string().as_bytes()));
    let reply = again.reply_to(1);
    assert_eq!(reply["result"]["number"], json!(task), "{reply}");
    again.finish_clean("reopen after the kill");
    assert_eq!(mode(&db), 0o600);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A browser may keep `MAX_IN_FLIGHT` (32) requests unanswered: each new request is sent the
/// moment a reply arrives, so the host must have freed that reply's slot before writing it — else
/// the next request races the slot and is refused `busy` (1006) although the client kept within
/// the limit.
#[test]
fn a_client_keeping_exactly_the_limit_in_flight_is_never_answered_busy() {
    const LIMIT: u64 = 32;
    const REQUESTS: u64 = 20_000;
    let mut host = Host::start("window");
    let mut window = Vec::new();
    for id in 1..=LIMIT {
        window.extend(ping_request(id));
    }
    host.send(&window);
    let (mut next, mut busy) = (LIMIT + 1, 0);
    for _ in 0..REQUESTS {
        let reply = host.next_reply(REPLY);
        if reply["ok"] != json!(true) {
            assert_eq!(reply["error"]["code"], json!(1006), "{reply}");
            busy += 1;
        }
        if next <= REQUESTS {
            host.send(&ping_request(next));
            next += 1;
        }
    }
    assert_eq!(busy, 0, "{busy} of {REQUESTS} requests were refused busy with only {LIMIT} in flight");
    host.finish_clean("a full window of pings");
}
