//! The PIN never shows up in anything the host writes: its replies (stdout), its log (stderr),
//! the command line's output, or any file it leaves — the store's database included
//! (`DATALINK_DB` points into a directory that is searched whole).
//!
//! One test drives both backends through every PIN path — wrong, right, last try, locked,
//! signing, a PIN of the wrong format, the CLI — and then searches everything for the PINs, as
//! text, as hex (the way APDU traces print bytes) and as base64. pcscd's own `--apdu` log is the
//! one place a PIN does appear (VERIFY's data, in hex): that is the service's debugging output on
//! a test machine, not DataLink's, and the card tests rely on it.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod card_support;

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine;
use card_support::*;
use virtual_card::hygiene::{files_under, pin_needles};
use serde_json::json;
use virtual_card::card::{CardSpec, Profile};
use virtual_card::eport::{EportCard, FakeEport};
use virtual_card::pcscd::{self, SlotLock};
use virtual_card::{InsertedCard, SLOT_0};

const RIGHT: &str = "73915048";
const WRONG: &str = "51739264";
/// Fails the format check (a space): must not be echoed either.
const MALFORMED: &str = "7391 5048";


/// The needles of any PIN found in `haystack`.
fn found(haystack: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(haystack);
    [RIGHT, WRONG, MALFORMED].iter().flat_map(|pin| pin_needles(pin)).filter(|needle| text.contains(needle.as_str())).collect()
}


/// Runs `datalink-host card <args>` with `pin` on stdin; stdout and stderr together.
fn cli(env: &[(&str, &str)], args: &[&str], stdin: &str) -> Vec<u8> {
    let mut command = host_command(Command::new(host_binary()), env);
    let mut child = command.arg("card").args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{stdin}\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let mut all = output.stdout;
    all.extend(output.stderr);
    all
}

#[test]
fn the_search_finds_a_pin_wherever_it_is_written() {
    assert_eq!(found(b"xx 73915048 yy").len(), 1);
    assert_eq!(found(b"APDU: 00 20 00 81 08 37 33 39 31 35 30 34 38").len(), 1);
    assert_eq!(found(b"3733393135303438").len(), 1);
    assert_eq!(found(base64::engine::general_purpose::STANDARD.encode(WRONG).as_bytes()).len(), 1);
    assert!(found(b"7391504 and 51739 and 20240615").is_empty());
}

#[test]
fn no_reply_log_output_or_file_contains_the_pin() {
    let dir = std::env::temp_dir().join(format!("datalink-pin-hygiene-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("datalink.sqlite");
    let db = db.to_str().unwrap();
    let mut artifacts: Vec<(String, Vec<u8>)> = Vec::new();

    // The E-Port client control.
    let control = FakeEport::start(EportCard::new(RIGHT));
    let url = control.url();
    let eport_env = [("DATALINK_CARD_BACKEND", "eport"), ("DATALINK_EPORT_URL", url.as_str()), ("DATALINK_DB", db)];
    let mut host = card_support::host(&eport_env);
    assert_eq!(error_code(&verify(&mut host, WRONG, false)), 3007);
    assert_eq!(error_code(&verify(&mut host, MALFORMED, false)), 3009);
    assert_eq!(verify(&mut host, RIGHT, false)["ok"], json!(true));
    assert_eq!(host.request(json!({"type": "card_sign", "data": "x", "pin": RIGHT}), REPLY)["ok"], json!(true));
    // Touch the store, so that its database exists and is searched too.
    let tasks = host.request(json!({"type": "task_list"}), REPLY);
    assert_eq!(tasks["ok"], json!(true), "{tasks}");
    let transcript = host.finish();
    artifacts.push(("E-Port host stdout".into(), transcript.stdout));
    artifacts.push(("E-Port host stderr".into(), transcript.stderr));
    artifacts.push(("E-Port CLI verify".into(), cli(&eport_env, &["verify"], RIGHT)));
    artifacts.push(("E-Port CLI verify --json, wrong".into(), cli(&eport_env, &["verify", "--json"], WRONG)));
    assert!(control.received().iter().any(|r| r.method == "cus-sec_SpcVerifyPINAll" && r.has_passwd), "the PIN did travel to the control");

    // PC/SC, with the virtual card.
    let _slot = SlotLock::acquire(SLOT_0);
    pcscd::require();
    let card = InsertedCard::insert(SLOT_0, CardSpec::new(Profile::Test, RIGHT)).unwrap();
    let pcsc_env = [("DATALINK_CARD_BACKEND", "pcsc"), ("DATALINK_CARD_READER", SLOT_0.reader), ("DATALINK_DB", db)];
    let mut host = card_support::host(&pcsc_env);
    assert_eq!(error_code(&verify(&mut host, WRONG, false)), 3007);
    assert_eq!(error_code(&verify(&mut host, WRONG, false)), 3007);
    assert_eq!(error_code(&verify(&mut host, RIGHT, false)), 3016, "one try left: refused unconfirmed");
    assert_eq!(verify(&mut host, RIGHT, true)["ok"], json!(true));
    assert_eq!(host.request(json!({"type": "card_sign", "data": "x", "pin": RIGHT}), REPLY)["ok"], json!(true));
    assert_eq!(error_code(&verify(&mut host, MALFORMED, false)), 3009);
    let transcript = host.finish();
    artifacts.push(("PC/SC host stdout".into(), transcript.stdout));
    artifacts.push(("PC/SC host stderr".into(), transcript.stderr));
    artifacts.push(("PC/SC CLI verify".into(), cli(&pcsc_env, &["verify"], RIGHT)));
    artifacts.push(("PC/SC CLI verify, malformed".into(), cli(&pcsc_env, &["verify"], MALFORMED)));
    artifacts.push(("PC/SC CLI status --json".into(), cli(&pcsc_env, &["status", "--json"], "")));
    let card = card.remove(SLOT_0).unwrap();
    let verifies_with_pin: Vec<&Vec<u8>> = card.received_with_ins(0x20).into_iter().filter(|apdu| apdu.len() > 4).collect();
    assert!(verifies_with_pin.iter().any(|apdu| apdu.ends_with(RIGHT.as_bytes())), "the PIN did travel to the card");

    let files = files_under(&dir);
    assert!(files.iter().any(|f| f.starts_with(db)), "the store's database was not created under {}: {files:?}", dir.display());
    for file in files {
        artifacts.push((format!("file {}", file.display()), std::fs::read(&file).unwrap()));
    }
    for (name, bytes) in artifacts.iter().filter(|(name, _)| name.ends_with("host stderr")) {
        assert!(String::from_utf8_lossy(bytes).contains("card: verify_pin"), "{name} has no card log lines to search");
    }
    let leaks: Vec<String> = artifacts
        .iter()
        .filter_map(|(name, bytes)| {
            let hits = found(bytes);
            (!hits.is_empty()).then(|| format!("{name}: {} form(s)", hits.len()))
        })
        .collect();
    assert!(leaks.is_empty(), "the PIN leaked into: {leaks:?}");
    let searched: usize = artifacts.iter().map(|(_, bytes)| bytes.len()).sum();
    assert!(searched > 2_000, "searched only {searched} bytes: the host said suspiciously little");
    let _ = std::fs::remove_dir_all(&dir);
}
