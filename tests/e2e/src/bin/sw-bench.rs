//! `sw-bench`: how long the extension's service worker takes to start, in headless Chromium.
//!
//! ```sh
//! cargo xtask build                                   # the extension + a release host in target/dist
//! cargo run --release -p datalink-e2e --bin sw-bench
//! # options: --samples 15 --dist DIR
//! ```
//!
//! The worker is Rust compiled to wasm: every start fetches, compiles and instantiates the
//! module before the first message is answered. For two messages from the app page,
//! `chrome.runtime.sendMessage` timed in the page (`performance.now()` around the call):
//!
//! * `sync_status` — answered by the worker alone (the collector's state, no host);
//! * `connect_host` — the host's handshake: the worker opens the native port (Chromium starts
//!   `datalink-host`) and waits for the `ping` reply;
//!
//! it measures **cold** — the worker stopped first (CDP `ServiceWorker.enable`, then
//! `ServiceWorker.stopAllWorkers`, on the app page's session, then waiting until the worker's target is gone; stopping the worker
//! closes its native port, so the host exits too) — and **warm**, the same message again right
//! after, to the running worker (and its connected host): the baseline. Each is the median of
//! `--samples` samples. It also times `WebAssembly.compile` of the module in the app page
//! (uncached, and again with the same bytes, which V8's in-process module cache may answer:
//! the worker shares its process with the extension's pages), and reads, once, the time from launching Chromium to the
//! worker's target appearing and to the first reply from a fresh worker.

use std::time::{Duration, Instant};

use datalink_e2e::{Browser, Dist, LaunchOptions, Page, EXTENSION_ID};
use serde_json::{json, Value};

type Result<T> = std::result::Result<T, String>;

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// Milliseconds the page waited for the worker's reply to `message`.
fn timed(browser: &mut Browser, page: &Page, message: &Value) -> Result<f64> {
    let expression = format!(
        "(async () => {{ const t0 = performance.now(); const r = await chrome.runtime.sendMessage({message}); \
         return {{ ms: performance.now() - t0, ok: !!(r && r.ok), error: r && r.error ? JSON.stringify(r.error) : null }}; }})()"
    );
    let value = browser.eval(page, &expression).map_err(|e| e.to_string())?;
    if value["ok"] != json!(true) {
        return Err(format!("{message} failed: {}", value["error"]));
    }
    value["ms"].as_f64().ok_or_else(|| format!("no time in {value}"))
}

fn worker_running(browser: &mut Browser) -> Result<bool> {
    let prefix = format!("chrome-extension://{EXTENSION_ID}/");
    let targets = browser.call("Target.getTargets", json!({}), None).map_err(|e| e.to_string())?;
    Ok(targets["targetInfos"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| t["type"] == json!("service_worker") && t["url"].as_str().is_some_and(|u| u.starts_with(&prefix))))
}

/// Stops the extension's worker and waits until its target is gone.
fn stop_worker(browser: &mut Browser, page: &Page) -> Result<()> {
    browser.call("ServiceWorker.stopAllWorkers", json!({}), Some(&page.session_id)).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while worker_running(browser)? {
        if Instant::now() > deadline {
            return Err("the worker was still running 10 s after ServiceWorker.stopAllWorkers".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the host notice its closed port and exit, so a cold `connect_host` starts a new one.
    std::thread::sleep(Duration::from_millis(300));
    Ok(())
}

/// `WebAssembly.compile` of the extension's module in the app page, median ms: uncached (each
/// sample's bytes made unique by a trailing custom section, so V8's module cache cannot answer)
/// and the same bytes as the page already loaded.
fn compile_times(browser: &mut Browser, page: &Page, samples: usize) -> Result<[f64; 2]> {
    let expression = format!(
        "(async () => {{ \
           const bytes = new Uint8Array(await (await fetch(chrome.runtime.getURL('wasm/datalink_core_bg.wasm'))).arrayBuffer()); \
           const median = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)]; \
           const fresh = [], same = []; \
           for (let i = 0; i < {samples}; i++) {{ \
             const extra = new Uint8Array([0, 8, 5, 98, 101, 110, 99, 104, i & 127, (i >> 7) & 127]); \
             const unique = new Uint8Array(bytes.length + extra.length); unique.set(bytes); unique.set(extra, bytes.length); \
             let t0 = performance.now(); await WebAssembly.compile(unique); fresh.push(performance.now() - t0); \
             t0 = performance.now(); await WebAssembly.compile(bytes); same.push(performance.now() - t0); \
           }} \
           return [median(fresh), median(same)]; }})()"
    );
    let value = browser.eval(page, &expression).map_err(|e| e.to_string())?;
    match (value[0].as_f64(), value[1].as_f64()) {
        (Some(fresh), Some(same)) => Ok([fresh, same]),
        _ => Err(format!("no compile times in {value}")),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let samples: usize = flag(&args, "--samples").and_then(|v| v.parse().ok()).unwrap_or(15).max(1);
    if let Some(dir) = flag(&args, "--dist") {
        std::env::set_var("DATALINK_DIST", dir);
    }
    let dist = Dist::locate().map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("datalink-sw-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut options = LaunchOptions::for_dist(&dist);
    options.db = Some(dir.join("bench.db"));
    let result = (|| {
        let launched = Instant::now();
        let mut browser = Browser::launch(&options).map_err(|e| e.to_string())?;
        browser.wait_for_service_worker(Duration::from_secs(30)).map_err(|e| e.to_string())?;
        let worker_up = launched.elapsed().as_secs_f64() * 1000.0;
        let app = browser.open_app().map_err(|e| e.to_string())?;
        let first = timed(&mut browser, &app, &json!({ "type": "sync_status", "after_seq": 0 }))?;
        let first_reply = launched.elapsed().as_secs_f64() * 1000.0;
        println!("launch → worker target {worker_up:.0} ms; launch → first reply {first_reply:.0} ms (of which the message {first:.1} ms)");
        browser.call("ServiceWorker.enable", json!({}), Some(&app.session_id)).map_err(|e| e.to_string())?;
        // Warm everything once (the host's first start, SQLite's files).
        timed(&mut browser, &app, &json!({ "type": "connect_host" }))?;

        let mut rows = Vec::new();
        for (name, message) in [("sync_status (worker only)", json!({ "type": "sync_status", "after_seq": 0 })), ("connect_host (host ping)", json!({ "type": "connect_host" }))] {
            let (mut cold, mut warm) = (Vec::new(), Vec::new());
            let mut hosts = std::collections::BTreeSet::new();
            for i in 0..=samples {
                stop_worker(&mut browser, &app)?;
                let c = timed(&mut browser, &app, &message)?;
                let w = timed(&mut browser, &app, &message)?;
                hosts.extend(browser.host_pids());
                // The first cold sample of each kind is a warm-up.
                if i > 0 {
                    cold.push(c);
                    warm.push(w);
                }
            }
            println!(
                "{name}: cold median {:.1} ms (min {:.1}, max {:.1}); warm median {:.2} ms (min {:.2}, max {:.2}); host processes seen after the samples: {}",
                median(cold.clone()),
                cold.iter().copied().fold(f64::INFINITY, f64::min),
                cold.iter().copied().fold(0.0, f64::max),
                median(warm.clone()),
                warm.iter().copied().fold(f64::INFINITY, f64::min),
                warm.iter().copied().fold(0.0, f64::max),
                hosts.len(),
            );
            rows.push((name, median(cold), median(warm)));
        }
        let compile = compile_times(&mut browser, &app, samples)?;
        println!("wasm compile in the app page: uncached median {:.1} ms, same bytes again median {:.1} ms", compile[0], compile[1]);
        println!("\n| message (median of {samples}) | cold: worker stopped | warm: worker running (baseline) | cold − warm | cold ÷ warm |");
        println!("|---|---:|---:|---:|---:|");
        for (name, cold, warm) in rows {
            println!("| `{name}` | {cold:.1} ms | {warm:.2} ms | {:.1} ms | {:.0}× |", cold - warm, cold / warm.max(0.001));
        }
        Ok::<_, String>(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sw-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
