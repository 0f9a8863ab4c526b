//! The E-Port client control backend against a fake control (`virtual_card::eport`): a
//! WebSocket server on a random 127.0.0.1 port with scripted replies. Hermetic: no pcscd, no
//! card. The host binary is driven over its stdin/stdout as the browser drives it.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod card_support;

use std::time::{Duration, Instant};

use card_support::*;
use serde_json::json;
use virtual_card::eport::{self, EportCard, FakeEport, Fault};
use virtual_card::host::HostProcess;

const EPORT_PIN: &str = "88888888";

/// Short timeouts so a silent control fails fast.
const TIMEOUT_MS: &str = "700";

fn eport_host(control: &FakeEport) -> HostProcess {
    host(&[("DATALINK_CARD_BACKEND", "eport"), ("DATALINK_EPORT_URL", &control.url()), ("DATALINK_EPORT_TIMEOUT_MS", TIMEOUT_MS)])
}

fn control() -> FakeEport {
    FakeEport::start(EportCard::new(EPORT_PIN))
}

/// Requests that carried a `passwd`.
fn with_passwd(control: &FakeEport) -> Vec<String> {
    control.received().into_iter().filter(|r| r.has_passwd).map(|r| r.method).collect()
}

#[test]
fn the_environment_check_reads_the_card_through_the_control() {
    let control = control();
    let mut host = eport_host(&control);
    let status = status(&mut host);
    assert_eq!(status["ready"], json!(true), "{status:#}");
    assert_eq!(status["backend"], json!("eport"));
    assert_eq!(status["eport"]["running"], json!(true));
    assert_eq!(status["card"]["cardId"], json!("8930000012345"), "the 03- prefix is dropped");
    assert_eq!(status["card"]["holder"], json!("张三"));
    assert_eq!(status["card"]["enterprise"], json!("示例进出口贸易有限公司"));
    assert_eq!(status["card"]["certNo"], json!("03000000000cde6f"));
    assert_eq!(status["card"]["validTo"], json!("2055-12-31T23:59:59Z"), "dates come from the signing certificate");
    assert_eq!(check(&status, "readers")["value"], json!("由电子口岸客户端控件管理"));
    assert!(with_passwd(&control).is_empty(), "getters never carry the PIN");
    let methods: Vec<String> = control.received().into_iter().map(|r| r.method).collect();
    for method in ["cus-sec_SpcGetCardID", "cus-sec_SpcGetUName", "cus-sec_SpcGetCertNo", "cus-sec_SpcGetSignCertAsPEM"] {
        assert!(methods.iter().any(|m| m == method), "{method} not called: {methods:?}");
    }
}

#[test]
fn a_right_pin_is_sent_once() {
    let control = control();
    let mut host = eport_host(&control);
    let reply = verify(&mut host, EPORT_PIN, false);
    assert_eq!(reply["ok"], json!(true), "{reply}");
    assert_eq!(reply["result"], json!({"verified": true, "backend": "eport", "cardId": "8930000012345"}));
    assert_eq!(with_passwd(&control), vec!["cus-sec_SpcVerifyPINAll".to_owned()]);
    assert!(control.with_card(|card| card.verified));
}

#[test]
fn wrong_pins_count_down_then_lock_and_the_right_pin_is_not_sent_after() {
    let control = control();
    let mut host = eport_host(&control);
    let first = verify(&mut host, "12121212", false);
    assert_eq!((error_code(&first), first["error"]["retriesLeft"].as_u64()), (3007, Some(2)));
    assert!(first["error"]["message"].as_str().unwrap().contains("还可尝试 2 次"));
    let second = verify(&mut host, "12121212", false);
    assert_eq!((error_code(&second), second["error"]["retriesLeft"].as_u64()), (3007, Some(1)));
    assert_eq!(status(&mut host)["pinRetriesLeft"], json!(1), "the host remembers what the control said");

    assert_eq!(error_code(&verify(&mut host, "12121212", false)), 3016, "the last try needs confirmation");
    assert_eq!(with_passwd(&control).len(), 2);
    assert_eq!(error_code(&verify(&mut host, "12121212", true)), 3008);
    assert_eq!(error_code(&verify(&mut host, EPORT_PIN, true)), 3008, "a locked card gets no more PINs");
    assert_eq!(with_passwd(&control).len(), 3);
    assert_eq!(control.with_card(|card| card.tries_left), 0);
}

#[test]
fn reader_and_card_errors_keep_their_text() {
    let control = control();
    let mut host = eport_host(&control);

    control.push_fault(Fault::Errors(eport::READER_OPEN_FAILED.iter().map(|s| (*s).to_owned()).collect()));
    let status = status(&mut host);
    assert_eq!(problem(&status, "card"), Some(3003), "{status:#}");
    assert!(check(&status, "card")["problem"]["detail"].as_str().unwrap().contains("打开读卡器失败"), "the raw text is kept");

    control.push_fault(Fault::Errors(eport::READER_RESET_FAILED.iter().map(|s| (*s).to_owned()).collect()));
    let reply = verify(&mut host, EPORT_PIN, false);
    assert_eq!(error_code(&reply), 3012);
    assert!(reply["error"]["detail"].as_str().unwrap().contains("Err:Custom50070"));
    assert!(with_passwd(&control).is_empty(), "a reader failure is found before the PIN is sent");

    control.with_card(|card| card.present = false);
    assert_eq!(error_code(&verify(&mut host, EPORT_PIN, false)), 3004);
    assert_eq!(problem(&card_support::status(&mut host), "card"), Some(3004));

    control.with_card(|card| card.present = true);
    control.push_fault(Fault::Errors(vec!["证书链不完整".into(), "Err:Custom70001".into()]));
    let unknown = verify(&mut host, EPORT_PIN, false);
    assert_eq!(error_code(&unknown), 3013);
    assert!(unknown["error"]["detail"].as_str().unwrap().contains("证书链不完整 Err:Custom70001"));
}

#[test]
fn a_slow_reply_times_out_and_the_next_call_works() {
    let control = control();
    let mut host = eport_host(&control);
    control.push_fault(Fault::Delay(Duration::from_millis(2000)));
    let started = Instant::now();
    let slow = verify(&mut host, EPORT_PIN, false);
    assert_eq!(error_code(&slow), 3011);
    assert!(started.elapsed() < Duration::from_millis(1900), "gave up at the timeout, not at the reply");
    let next = verify(&mut host, EPORT_PIN, false);
    assert_eq!(next["ok"], json!(true), "{next}");
}

#[test]
fn replies_are_matched_by_method_and_id() {
    let control = control();
    let mut host = eport_host(&control);
    control.push_fault(Fault::WrongIdFirst);
    let reply = verify(&mut host, EPORT_PIN, false);
    assert_eq!(reply["ok"], json!(true), "the stray reply was skipped: {reply}");
    assert!(host.log().contains("ignored a reply"), "{}", host.log());

    control.push_fault(Fault::OnlyWrongId);
    assert_eq!(error_code(&verify(&mut host, EPORT_PIN, false)), 3011, "a reply for another call is never taken");
}

#[test]
fn non_json_is_an_invalid_reply() {
    let control = control();
    let mut host = eport_host(&control);
    control.push_fault(Fault::NotJson);
    let reply = verify(&mut host, EPORT_PIN, false);
    assert_eq!(error_code(&reply), 3014);
    assert!(reply["error"]["detail"].as_str().unwrap().contains("not JSON"));
    assert_eq!(verify(&mut host, EPORT_PIN, false)["ok"], json!(true), "the next call uses a new connection");
}

#[test]
fn connection_refused_means_the_control_is_not_running() {
    let port = virtual_card::pcscd::free_port_pair();
    let url = format!("ws://127.0.0.1:{port}");
    let mut host = host(&[("DATALINK_CARD_BACKEND", "eport"), ("DATALINK_EPORT_URL", &url), ("DATALINK_EPORT_TIMEOUT_MS", TIMEOUT_MS)]);
    let status = status(&mut host);
    assert_eq!(status["eport"]["running"], json!(false));
    assert_eq!(problem(&status, "backend"), Some(3002));
    assert!(check(&status, "backend")["problem"]["message"].as_str().unwrap().contains("电子口岸客户端"));
    assert_eq!(error_code(&verify(&mut host, EPORT_PIN, false)), 3002);
}

#[test]
fn a_closed_socket_is_reopened_but_a_pin_is_never_resent() {
    let control = control();
    let mut host = eport_host(&control);
    control.push_fault(Fault::CloseAfterReply);
    assert_eq!(status(&mut host)["ready"], json!(true));
    assert_eq!(verify(&mut host, EPORT_PIN, false)["ok"], json!(true), "reconnected after the server closed the socket");
    assert!(control.connections() >= 2, "{} connections", control.connections());

    // A getter whose connection dies before the answer is asked again on a new connection…
    control.push_fault(Fault::CloseInsteadOfReply);
    assert_eq!(status(&mut host)["ready"], json!(true));

    // …but a call with the PIN is not: the control may already have passed it to the card.
    let verify_calls = || control.received().into_iter().filter(|r| r.method == "cus-sec_SpcVerifyPINAll").count();
    let before = verify_calls();
    control.push_fault_on("cus-sec_SpcVerifyPINAll", Fault::CloseInsteadOfReply);
    let lost = verify(&mut host, EPORT_PIN, false);
    assert_eq!(error_code(&lost), 3002, "{lost}");
    assert_eq!(verify_calls(), before + 1, "the PIN went out once");
}

#[test]
fn signing_returns_the_signature_and_certificate_number() {
    let control = control();
    let mut host = eport_host(&control);
    let data = "<Declaration>5301</Declaration>";
    let without = host.request(json!({"type": "card_sign", "data": data}), REPLY);
    assert_eq!(error_code(&without), 3015, "{without}");
    let signed = host.request(json!({"type": "card_sign", "data": data, "pin": EPORT_PIN}), REPLY);
    assert_eq!(signed["ok"], json!(true), "{signed}");
    assert_eq!(signed["result"], json!({"signature": eport::signature_of(data), "certNo": "03000000000cde6f", "backend": "eport"}));
    assert_eq!(with_passwd(&control), vec!["cus-sec_SpcSignDataAsPEM".to_owned()]);
}

#[test]
fn the_greeting_is_optional_and_auto_prefers_the_control() {
    let control = control();
    control.set_greeting(false);
    let mut host = host(&[("DATALINK_CARD_BACKEND", "auto"), ("DATALINK_EPORT_URL", &control.url()), ("DATALINK_EPORT_TIMEOUT_MS", TIMEOUT_MS)]);
    let status = status(&mut host);
    assert_eq!(status["backend"], json!("eport"), "{status:#}");
    assert_eq!(status["choice"], json!("auto"));
    assert_eq!(verify(&mut host, EPORT_PIN, false)["ok"], json!(true));
}

#[test]
fn a_remote_control_address_is_refused() {
    let mut host = host(&[("DATALINK_CARD_BACKEND", "eport")]);
    let reply = host.request(json!({"type": "card_verify_pin", "pin": EPORT_PIN, "settings": {"eportUrl": "ws://192.0.2.7:61232"}}), REPLY);
    assert_eq!(error_code(&reply), 1003);
    assert!(reply["error"]["detail"].as_str().unwrap().contains("loopback"), "{reply}");
}
