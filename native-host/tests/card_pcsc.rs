//! The PC/SC backend against the machine's real pcscd, with DataLink's virtual card plugged into
//! vsmartcard-vpcd's first slot ("Virtual PCD 00 00"). `cargo xtask test` installs and starts
//! pcscd; without it these tests fail (they never skip), saying how to start it.
//!
//! Each test takes the slot's lock (other tests, and other `cargo test` runs on this machine,
//! wait), plugs in a card, drives the host binary over its stdin/stdout like the browser does,
//! and checks both the host's replies and what the card itself received.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod card_support;

use std::time::Duration;

use base64::Engine;
use card_support::*;
use serde_json::json;
use sha2::{Digest, Sha256};
use virtual_card::card::{self, CardSpec, Profile};
use virtual_card::pcscd::{self, SlotLock};
use virtual_card::{InsertedCard, SLOT_0};

fn test_card() -> CardSpec {
    CardSpec::new(Profile::Test, PIN)
}

/// VERIFY commands that carried data (a PIN) to the card.
fn pins_received(card: &InsertedCard) -> usize {
    card.card().received_with_ins(0x20).iter().filter(|apdu| apdu.len() > 4).count()
}

#[test]
fn the_environment_check_reads_the_card() {
    let _slot = SlotLock::acquire(SLOT_0);
    pcscd::require();
    let card = InsertedCard::insert(SLOT_0, test_card()).unwrap();
    let mut host = pcsc_host();
    let status = status(&mut host);
    assert_eq!(status["ready"], json!(true), "{status:#}");
    assert_eq!(status["backend"], json!("pcsc"));
    assert_eq!(status["card"]["cardId"], json!("8930000012345"));
    assert_eq!(status["card"]["holder"], json!("张三"));
    assert_eq!(status["card"]["enterprise"], json!("示例进出口贸易有限公司"));
    assert_eq!(status["card"]["certNo"], json!("03000000000cde6f"));
    assert_eq!(status["card"]["validFrom"], json!("2024-01-01T00:00:00Z"));
    assert_eq!(status["card"]["validTo"], json!("2055-12-31T23:59:59Z"));
    assert_eq!(status["pinRetriesLeft"], json!(3));
    let reader = &status["pcsc"]["readers"][0];
    assert_eq!((reader["name"].as_str(), reader["profile"].as_str()), (Some(SLOT_0.reader), Some("datalink-test")));
    assert_eq!(check(&status, "certificate")["value"], json!("2024-01-01 至 2055-12-31"));
    assert_eq!(pins_received(&card), 0, "the environment check never sends a PIN");
    assert_eq!(card.card().tries_left, card::MAX_TRIES, "nor spends a try");
}

#[test]
fn a_right_pin_verifies_and_resets_the_counter() {
    let _slot = SlotLock::acquire(SLOT_0);
    pcscd::require();
    let card = InsertedCard::insert(SLOT_0, test_card()).unwrap();
    let mut host = pcsc_host();
    let wrong = verify(&mut host, WRONG_PIN, false);
    assert_eq!(error_code(&wrong), 3007);
    assert_eq!(wrong["error"]["retriesLeft"], json!(2));
    let right = verify(&mut host, PIN, false);
    assert_eq!(right["ok"], json!(true), "{right}");
    assert_eq!(right["result"], json!({"verified": true, "backend": "pcsc", "cardId": "8930000012345"}));
    assert_eq!(card.card().tries_left, card::MAX_TRIES);
    assert!(card.card().verified);
    assert_eq!(pins_received(&card), 2, "each request sent the PIN exactly once");
}

#[test]
fn wrong_pins_count_down_warn_lock_and_a_right_pin_is_refused_after() {
    let _slot = SlotLock::acquire(SLOT_0);
    pcscd::require();
    let card = InsertedCard::insert(SLOT_0, test_card()).unwrap();
    let mut host = pcsc_host();

    let first = verify(&mut host, WRONG_PIN, false);
    assert_eq!((error_code(&first), first["error"]["retriesLeft"].as_u64()), (3007, Some(2)));
    let second = verify(&mut host, WRONG_PIN, false);
    assert_eq!((error_code(&second), second["error"]["retriesLeft"].as_u64()), (3007, Some(1)));
    assert!(second["error"]["message"].as_str().unwrap().contains("将被锁定"), "{second}");
    assert_eq!(status(&mut host)["pinRetriesLeft"], json!(1));

    // The last try needs the user's confirmation; without it nothing reaches the card.
    let unconfirmed = verify(&mut host, WRONG_PIN, false);
    assert_eq!(error_code(&unconfirmed), 3016);
    assert_eq!(pins_received(&card), 2);

    let locked = verify(&mut host, WRONG_PIN, true);
    assert_eq!(error_code(&locked), 3008);
    assert_eq!(card.card().tries_left, 0);

    // The right PIN now: refused, and not even sent — a locked card gets nothing.
    let after = verify(&mut host, PIN, true);
    assert_eq!(error_code(&after), 3008);
    assert!(after["error"]["message"].as_str().unwrap().contains("解锁"));
    assert_eq!(pins_received(&card), 3);

    let status = status(&mut host);
    assert_eq!(problem(&status, "pin"), Some(3008));
    assert_eq!(status["ready"], json!(false));
}

#[test]
fn signing_needs_the_pin_and_returns_the_cards_signature() {
    let _slot = SlotLock::acquire(SLOT_0);
    pcscd::require();
    let _card = InsertedCard::insert(SLOT_0, test_card()).unwrap();
    let mut host = pcsc_host();
    let data = "报关单 5301 2024";
    let without = host.request(json!({"type": "card_sign", "data": data}), REPLY);
    assert_eq!(error_code(&without), 3015);

    let signed = host.request(json!({"type": "card_sign", "data": data, "pin": PIN}), REPLY);
    assert_eq!(signed["ok"], json!(true), "{signed}");
    let expected = card::signature_of(&Sha256::digest(data.as_bytes()));
    assert_eq!(signed["result"]["signature"], json!(base64::engine::general_purpose::STANDARD.encode(expected)));
    assert_eq!(signed["result"]["certNo"], json!("03000000000cde6f"));

    // Verified once, the session signs again without the PIN.
    let again = host.request(json!({"type": "card_sign", "data": "second"}), REPLY);
    assert_eq!(again["ok"], json!(true), "{again}");
}

#[test]
fn a_card_pulled_out_mid_operation_is_card_removed() {
    let _slot = SlotLock::acquire(SLOT_0);
    pcscd::require();
    for (ins, request) in [
        (0x20, json!({"type": "card_verify_pin", "pin": PIN})),
        (0x2A, json!({"type": "card_sign", "data": "x", "pin": PIN})),
    ] {
        let mut spec = test_card();
        spec.remove_on_ins = Some(ins);
        let card = InsertedCard::insert(SLOT_0, spec).unwrap();
        let mut host = pcsc_host();
        let reply = host.request(request.clone(), REPLY);
        assert_eq!(error_code(&reply), 3005, "{}: {reply}", request["type"]);
        assert!(card.is_out() || card.card().received_with_ins(ins).len() == 1);
        let card = card.remove(SLOT_0).unwrap();
        assert_eq!(card.received_with_ins(ins).len(), 1, "the command was not repeated");
        let status = status(&mut host);
        assert_eq!(problem(&status, "card"), Some(3004), "{status:#}");
    }
}

#[test]
fn no_card_and_waiting_for_one() {
    let _slot = SlotLock::acquire(SLOT_0);
    let context = pcscd::require();
    pcscd::wait_for(&context, SLOT_0.reader, pcscd::Presence::Empty, Duration::from_secs(10)).unwrap();
    let mut host = pcsc_host();
    let status = status(&mut host);
    assert_eq!(status["cardPresent"], json!(false));
    assert_eq!(problem(&status, "card"), Some(3004));
    assert_eq!(error_code(&verify(&mut host, PIN, false)), 3004);
    let timed_out = host.request(json!({"type": "card_wait", "until": "present", "timeoutMs": 300}), REPLY);
    assert_eq!(error_code(&timed_out), 3011);

    // A card plugged in while the host waits on the status change wakes it.
    let plug = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(300));
        InsertedCard::plug(SLOT_0.port, test_card()).unwrap()
    });
    let arrived = host.request(json!({"type": "card_wait", "until": "present", "timeoutMs": 15000}), REPLY);
    assert_eq!(arrived["result"], json!({"cardPresent": true, "reader": SLOT_0.reader, "waited": true}), "{arrived}");
    let card = plug.join().unwrap();
    let unplug = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        card.unplug()
    });
    let gone = host.request(json!({"type": "card_wait", "until": "absent", "timeoutMs": 15000}), REPLY);
    assert_eq!(gone["result"]["cardPresent"], json!(false), "{gone}");
    unplug.join().unwrap();
}

#[test]
fn a_reader_held_exclusively_by_another_program_is_busy() {
    let _slot = SlotLock::acquire(SLOT_0);
    let context = pcscd::require();
    let card = InsertedCard::insert(SLOT_0, test_card()).unwrap();
    let reader = std::ffi::CString::new(SLOT_0.reader).unwrap();
    let other_program = context.connect(&reader, pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY).unwrap();
    let mut host = pcsc_host();
    assert_eq!(error_code(&verify(&mut host, PIN, false)), 3006);
    assert_eq!(pins_received(&card), 0);
    drop(other_program);
    let reply = verify(&mut host, PIN, false);
    assert_eq!(reply["ok"], json!(true), "{reply}");
}

#[test]
fn a_reader_setting_that_matches_nothing_is_no_reader() {
    let _slot = SlotLock::acquire(SLOT_0);
    pcscd::require();
    let _card = InsertedCard::insert(SLOT_0, test_card()).unwrap();
    let mut host = host(&[("DATALINK_CARD_BACKEND", "pcsc"), ("DATALINK_CARD_READER", "No Such Reader")]);
    let status = status(&mut host);
    assert_eq!(problem(&status, "readers"), Some(3003));
    assert_eq!(error_code(&verify(&mut host, PIN, false)), 3003);
}

/// The safety rule, checked where it matters — in what pcscd itself logged: a card whose ATR
/// matches no profile never receives a VERIFY (with a PIN or without), whatever is asked.
#[test]
fn an_unknown_card_never_receives_a_pin_as_pcscd_logged() {
    let _slot = SlotLock::acquire(SLOT_0);
    pcscd::require();
    let mut log = pcscd::ApduLog::open().unwrap();

    // Control: the known card does get the retry query (VERIFY without data), and pcscd logs it.
    let known = InsertedCard::insert(SLOT_0, test_card()).unwrap();
    let mut host = pcsc_host();
    assert_eq!(status(&mut host)["pinRetriesLeft"], json!(3));
    let logged = log.apdus_since_mark().unwrap();
    assert!(logged.contains(&vec![0x00, 0x20, 0x00, card::PIN_REFERENCE]), "pcscd logged no retry query; is it running with --apdu? log {}", log.path().display());
    known.remove(SLOT_0).unwrap();
    drop(host);

    log.mark().unwrap();
    let unknown = InsertedCard::insert(SLOT_0, CardSpec::new(Profile::Unknown, PIN)).unwrap();
    let mut host = pcsc_host();
    let status = status(&mut host);
    assert_eq!(status["cardPresent"], json!(true));
    assert_eq!(status["pcsc"]["readers"][0]["profile"], json!(null));
    assert_eq!(problem(&status, "card_id"), Some(3010), "{status:#}");
    assert_eq!(error_code(&verify(&mut host, PIN, false)), 3010);
    assert_eq!(error_code(&verify(&mut host, PIN, true)), 3010);
    assert_eq!(error_code(&host.request(json!({"type": "card_sign", "data": "x", "pin": PIN}), REPLY)), 3010);
    let transcript = host.finish();
    assert!(transcript.exited_ok);
    let card = unknown.remove(SLOT_0).unwrap();

    let logged = log.apdus_since_mark().unwrap();
    let verifies: Vec<_> = logged.iter().filter(|apdu| apdu.get(1) == Some(&0x20)).collect();
    assert!(verifies.is_empty(), "pcscd logged VERIFY to an unknown card: {verifies:02X?}");
    assert!(card.received.is_empty(), "the unknown card received commands: {:02X?}", card.received);
}
