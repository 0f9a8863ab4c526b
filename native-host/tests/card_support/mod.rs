//! Shared by the card integration tests: starting `datalink-host` with a card configuration,
//! and reading replies.
#![allow(dead_code)] // each test file uses a part

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use virtual_card::host::HostProcess;

/// The test card's PIN in the PC/SC tests.
pub const PIN: &str = "20240615";
/// A wrong one.
pub const WRONG_PIN: &str = "11112222";

/// A generous reply timeout: PC/SC costs ~45 ms per APDU through vpcd.
pub const REPLY: Duration = Duration::from_secs(30);

pub fn host_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_datalink-host"))
}

/// The host command with the card variables of this machine's environment cleared, then `env`.
pub fn host_command(program: Command, env: &[(&str, &str)]) -> Command {
    let mut command = program;
    for name in [
        "DATALINK_CARD_BACKEND",
        "DATALINK_EPORT_URL",
        "DATALINK_CARD_READER",
        "DATALINK_EPORT_TIMEOUT_MS",
    ] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// A host in serve mode with `env`.
pub fn host(env: &[(&str, &str)]) -> HostProcess {
    let mut command = Command::new(host_binary());
    command.arg("chrome-extension://kkaaldpdgcikdogodnihlanlipfoeboa/");
    HostProcess::spawn(host_command(command, env))
}

/// A host that uses PC/SC and only the first virtual reader.
pub fn pcsc_host() -> HostProcess {
    host(&[("DATALINK_CARD_BACKEND", "pcsc"), ("DATALINK_CARD_READER", virtual_card::SLOT_0.reader)])
}

pub fn status(host: &mut HostProcess) -> Value {
    let reply = host.request(json!({"type": "card_status"}), REPLY);
    assert_eq!(reply["ok"], json!(true), "card_status failed: {reply}");
    reply["result"].clone()
}

pub fn verify(host: &mut HostProcess, pin: &str, confirm_last_try: bool) -> Value {
    host.request(json!({"type": "card_verify_pin", "pin": pin, "confirmLastTry": confirm_last_try}), REPLY)
}

/// The error code of a failed reply (panics on success).
pub fn error_code(reply: &Value) -> u64 {
    assert_eq!(reply["ok"], json!(false), "expected an error, got {reply}");
    reply["error"]["code"].as_u64().unwrap_or_else(|| panic!("no error code in {reply}"))
}

/// The check with `key` in a `card_status` result.
pub fn check<'a>(status: &'a Value, key: &str) -> &'a Value {
    status["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["key"] == json!(key)))
        .unwrap_or_else(|| panic!("no check {key:?} in {status}"))
}

/// The problem code of a check, if any.
pub fn problem(status: &Value, key: &str) -> Option<u64> {
    check(status, key)["problem"]["code"].as_u64()
}
