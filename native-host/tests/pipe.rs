//! The host binary, driven over a real pipe exactly as the browser drives it.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_ne_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

/// Runs the host on `input`, returns its exit success and every frame it wrote, parsed.
fn run_host(input: Vec<u8>) -> (bool, Vec<Value>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_datalink-host"))
        .arg("chrome-extension://abcdefghijklmnopabcdefghijklmnop/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start datalink-host");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    writer.join().unwrap();
    let status = child.wait().unwrap();
    let mut frames = Vec::new();
    let mut rest = &out[..];
    while !rest.is_empty() {
        let len = u32::from_ne_bytes(rest[..4].try_into().unwrap()) as usize;
        assert!(len <= 1024 * 1024, "a frame of {len} bytes breaks the browser's limit");
        frames.push(serde_json::from_slice(&rest[4..4 + len]).expect("every frame is JSON"));
        rest = &rest[4 + len..];
    }
    (status.success(), frames)
}

fn by_id(frames: &[Value], id: u64) -> &Value {
    frames.iter().find(|f| f["id"] == json!(id)).unwrap_or_else(|| panic!("no reply with id {id} in {frames:?}"))
}

#[test]
fn ping_handshake_then_clean_exit_on_eof() {
    let (ok, frames) = run_host(frame(br#"{"id":1,"type":"ping","protocol":1,"extensionVersion":"0.1.0"}"#));
    assert!(ok);
    assert_eq!(frames.len(), 1);
    let result = &frames[0]["result"];
    assert_eq!(frames[0]["ok"], json!(true));
    assert_eq!(result["hostVersion"], json!(env!("CARGO_PKG_VERSION")));
    assert_eq!(result["protocol"], json!(1));
    assert!(result["pid"].as_u64().unwrap() > 0);
}

#[test]
fn an_unsupported_protocol_is_refused_with_1005() {
    let (_, frames) = run_host(frame(br#"{"id":1,"type":"ping","protocol":0}"#));
    assert_eq!(frames[0]["error"]["code"], json!(1005));
}

#[test]
fn broken_requests_get_error_frames_and_the_loop_goes_on() {
    let mut input = Vec::new();
    input.extend(frame(b"{oops"));
    input.extend(frame(&[0xc3, 0x28]));
    input.extend(frame(br#"{"id":2,"type":"self_destruct"}"#));
    input.extend(frame(br#"{"id":3,"type":"echo"}"#));
    input.extend(frame(br#"{"type":"ping","protocol":1}"#));
    input.extend((9 * 1024 * 1024u32).to_ne_bytes());
    input.extend(vec![b'x'; 9 * 1024 * 1024]);
    input.extend(frame(r#"{"id":4,"type":"echo","text":"报关单 ✓"}"#.as_bytes()));
    let (ok, frames) = run_host(input);
    assert!(ok);
    assert_eq!(frames.len(), 7, "{frames:?}");
    let codes: Vec<_> = frames.iter().map(|f| f["error"]["code"].clone()).collect();
    assert_eq!(codes.iter().filter(|c| **c == json!(1002)).count(), 2);
    assert_eq!(by_id(&frames, 2)["error"]["code"], json!(1004));
    assert_eq!(by_id(&frames, 3)["error"]["code"], json!(1003));
    assert!(codes.contains(&json!(1001)));
    assert_eq!(codes.iter().filter(|c| **c == json!(1003)).count(), 2);
    let echo = &by_id(&frames, 4)["result"];
    assert_eq!((echo["chars"].clone(), echo["utf8Bytes"].clone()), (json!(5), json!(13)));
    assert_eq!(echo["text"], json!("报关单 ✓"));
}

#[test]
fn a_reply_over_one_mib_arrives_in_chunks_that_reassemble() {
    let (ok, frames) = run_host(frame(r#"{"id":9,"type":"echo","text":"\"进出口\"","repeat":400000}"#.as_bytes()));
    assert!(ok);
    assert!(frames.len() > 3, "expected chunks, got {} frame(s)", frames.len());
    let mut text = String::new();
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f["id"], json!(9));
        assert_eq!(f["chunk"]["index"], json!(i));
        assert_eq!(f["chunk"]["count"], json!(frames.len()));
        text.push_str(f["text"].as_str().unwrap());
    }
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["result"]["text"].as_str().unwrap().len(), "\"进出口\"".len() * 400_000);
}

#[test]
fn many_requests_in_a_row_each_get_exactly_one_reply() {
    let mut input = Vec::new();
    for id in 0..500u64 {
        input.extend(frame(format!(r#"{{"id":{id},"type":"echo","text":"{id}"}}"#).as_bytes()));
    }
    let (ok, frames) = run_host(input);
    assert!(ok);
    let mut ids: Vec<u64> = frames.iter().map(|f| f["id"].as_u64().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..500).collect::<Vec<_>>());
    for f in &frames {
        let ok = f["ok"] == json!(true) && f["result"]["text"] == json!(f["id"].to_string());
        assert!(ok || f["error"]["code"] == json!(1006), "{f}");
    }
}

#[test]
fn truncated_input_is_a_quiet_exit() {
    let mut input = frame(br#"{"id":1,"type":"ping","protocol":1}"#);
    input.extend(frame(br#"{"id":2,"type":"ping","protocol":1}"#));
    input.truncate(input.len() - 5);
    let (ok, frames) = run_host(input);
    assert!(ok);
    assert_eq!(frames.len(), 1);
}
