//! PC/SC service states that the machine's shared pcscd cannot show without disturbing everyone
//! else: no service at all, a service without readers, and a service that restarts under a
//! running host. Each test runs the host in its own mount namespace, where `/run/pcscd` is an
//! empty tmpfs, and starts (or not) a pcscd of its own inside that namespace — the machine's
//! pcscd keeps running for the other tests. Needs root, `unshare` and `nsenter` (util-linux), as
//! under `cargo xtask test`.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod card_support;

use std::path::PathBuf;

use card_support::*;
use serde_json::json;
use virtual_card::card::{CardSpec, Profile};
use virtual_card::host::HostProcess;
use virtual_card::pcscd::{free_port_pair, Namespace, PrivatePcscd, PrivateReaders};
use virtual_card::InsertedCard;

/// A PC/SC host in a namespace of its own, answering (so its namespace is set up).
fn namespaced_host() -> HostProcess {
    let command = Namespace::wrap(host_binary(), &["chrome-extension://kkaaldpdgcikdogodnihlanlipfoeboa/"]);
    let mut host = HostProcess::spawn(host_command(command, &[("DATALINK_CARD_BACKEND", "pcsc")]));
    let pong = host.request(json!({"type": "ping", "protocol": 1}), REPLY);
    assert_eq!(pong["ok"], json!(true), "the namespaced host does not answer (needs root, unshare): {pong}\n{}", host.log());
    host
}

fn log_path(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!("datalink-private-pcscd-{test}-{}.log", std::process::id()))
}

#[test]
fn no_pcsc_service_is_3001() {
    let mut host = namespaced_host();
    let status = status(&mut host);
    assert_eq!(status["pcsc"]["service"], json!(false), "{status:#}");
    assert_eq!(status["pcsc"]["problem"]["code"], json!(3001));
    assert_eq!(problem(&status, "readers"), Some(3001));
    assert_eq!(problem(&status, "backend"), Some(3001));
    assert_eq!(status["ready"], json!(false));
    assert_eq!(error_code(&verify(&mut host, PIN, false)), 3001);
    assert_eq!(error_code(&host.request(json!({"type": "card_wait", "until": "present", "timeoutMs": 1000}), REPLY)), 3001);
    assert!(status["checks"].to_string().contains("智能卡服务"), "the user is told what is missing");
}

#[test]
fn a_service_without_readers_is_no_reader() {
    let mut host = namespaced_host();
    let log = log_path("no-reader");
    let _pcscd = PrivatePcscd::start(host.pid(), PrivateReaders::None, &log).unwrap();
    let status = status(&mut host);
    assert_eq!(status["pcsc"]["service"], json!(true), "{status:#}");
    assert_eq!(status["pcsc"]["readers"], json!([]));
    assert_eq!(problem(&status, "readers"), Some(3003));
    assert_eq!(error_code(&verify(&mut host, PIN, false)), 3003);
    let _ = std::fs::remove_file(log);
}

#[test]
fn the_host_reestablishes_its_context_when_pcscd_restarts() {
    let mut host = namespaced_host();
    let log = log_path("restart");
    let port = free_port_pair();
    let pcscd = PrivatePcscd::start(host.pid(), PrivateReaders::Vpcd { port }, &log).unwrap();
    let card = InsertedCard::plug(port, CardSpec::new(Profile::Test, PIN)).unwrap();
    let arrived = host.request(json!({"type": "card_wait", "until": "present", "timeoutMs": 15000}), REPLY);
    assert_eq!(arrived["result"]["cardPresent"], json!(true), "{arrived}\n{}", host.log());
    assert_eq!(status(&mut host)["ready"], json!(true));
    let wrong = verify(&mut host, WRONG_PIN, false);
    assert_eq!((error_code(&wrong), wrong["error"]["retriesLeft"].as_u64()), (3007, Some(2)));

    // The service stops: the host says so, and its card session and context are gone.
    pcscd.stop().unwrap();
    let stopped = status(&mut host);
    assert_eq!(stopped["pcsc"]["problem"]["code"], json!(3001), "{stopped:#}");
    drop(card);

    // It comes back: the same host process picks it up with a new context.
    let pcscd = PrivatePcscd::start(host.pid(), PrivateReaders::Vpcd { port }, &log).unwrap();
    let card = InsertedCard::plug(port, CardSpec::new(Profile::Test, PIN)).unwrap();
    let arrived = host.request(json!({"type": "card_wait", "until": "present", "timeoutMs": 15000}), REPLY);
    assert_eq!(arrived["result"]["cardPresent"], json!(true), "{arrived}\n{}", host.log());
    let again = status(&mut host);
    assert_eq!(again["ready"], json!(true), "{again:#}");
    let right = verify(&mut host, PIN, false);
    assert_eq!(right["ok"], json!(true), "{right}");
    assert!(card.card().verified);
    assert!(host.log().contains("the PC/SC service went away"), "the host noticed the restart: {}", host.log());
    drop(card);
    pcscd.stop().unwrap();
    let transcript = host.finish();
    assert!(transcript.exited_ok);
    let _ = std::fs::remove_file(log);
}
