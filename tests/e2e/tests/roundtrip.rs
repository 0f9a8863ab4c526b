//! Issue #2's proof of the architecture, in a real headless Chromium:
//! page → content script → service worker (Rust/wasm) → native host (Rust) → page.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use datalink_e2e::{run_roundtrip, Browser, Dist, LaunchOptions};
use serde_json::json;

#[test]
fn page_to_wasm_to_host_and_back() {
    let dist = Dist::locate().expect("built artifacts");
    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).expect("Chromium must start: this test never skips");
    let reply = run_roundtrip(&mut browser, "报关单协同 ✓", "2023-05-25", "2026-05-25").expect("round trip");
    println!("round trip reply: {reply}");
    assert_eq!(reply["ok"], json!(true), "{reply}");
    let result = &reply["result"];

    // Computed in the extension's service worker, by Rust compiled to wasm32.
    assert_eq!(result["wasm"]["arch"], json!("wasm32"));
    assert_eq!(result["wasm"]["periods"], json!(37), "2023-05-25..2026-05-25 spans 37 calendar months");
    assert_eq!(result["wasm"]["firstPeriod"], json!("2023-05"));
    assert_eq!(result["wasm"]["lastPeriod"], json!("2026-05"));

    // Computed in the native host, a separate Rust process started by the browser.
    assert_eq!(result["host"]["host"], json!("datalink-host"));
    assert_eq!(result["host"]["hostVersion"], json!(env!("CARGO_PKG_VERSION")));
    assert_eq!(result["host"]["protocol"], json!(1));
    assert!(result["host"]["pid"].as_u64().unwrap() != u64::from(std::process::id()));
    assert_eq!(result["echo"]["chars"], json!(7));
    assert_eq!(result["echo"]["utf8Bytes"], json!(19), "CJK survives page → worker → host as UTF-8");
    assert_eq!(result["echo"]["text"], json!("报关单协同 ✓"));
}

#[test]
fn a_portal_page_cannot_ask_for_more_than_a_diagnosis() {
    let dist = Dist::locate().expect("built artifacts");
    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).expect("Chromium must start");
    browser.wait_for_service_worker(std::time::Duration::from_secs(20)).expect("service worker");
    let pages = std::collections::HashMap::from([(
        "/evil.html".to_owned(),
        r#"<!doctype html><body><script>
window.addEventListener('message', (e) => { if (e.data && e.data.source === 'datalink-extension') document.body.dataset.result = JSON.stringify(e.data.reply); });
const t = setInterval(() => { if (!document.documentElement.dataset.datalink) return; clearInterval(t);
  window.postMessage({ source: 'datalink-page', requestId: 1, request: { type: 'connect_host' } }, location.origin); }, 50);
</script></body>"#
            .to_owned(),
    )]);
    let server = datalink_e2e::PageServer::start(pages).unwrap();
    let page = browser.open(&server.url("/evil.html")).unwrap();
    let reply = browser
        .wait_for(&page, "document.body && document.body.dataset.result || null", std::time::Duration::from_secs(60))
        .unwrap();
    let reply: serde_json::Value = serde_json::from_str(reply.as_str().unwrap()).unwrap();
    assert_eq!(reply["ok"], json!(false));
    assert_eq!(reply["error"]["code"], json!(1105), "{reply}");
}
