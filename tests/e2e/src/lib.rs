//! # datalink-e2e
//!
//! Drives a real headless Chromium with the built extension and native host, over the Chrome
//! DevTools Protocol (a WebSocket; nothing else is needed — no chromedriver, no Node).
//!
//! * [`Dist`] finds the built artifacts (`cargo xtask build` puts them in `target/dist`;
//!   `cargo xtask test` builds `target/dist-test` and points `DATALINK_DIST` at it).
//! * [`Browser`] launches Chromium with a fresh profile, the extension loaded and the host
//!   registered in `<profile>/NativeMessagingHosts/`, and evaluates JavaScript in pages.
//! * [`PageServer`] serves test pages on 127.0.0.1, an origin the content script matches.
//!
//! Used by the tests in `tests/` and by `cargo xtask demo`. A browser that cannot start is an
//! error, never a skipped test.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

pub mod fixtures;

pub use datalink_core::EXTENSION_ID;

/// What went wrong in an end-to-end run.
#[derive(Debug)]
pub struct E2eError(pub String);

impl fmt::Display for E2eError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for E2eError {}

pub type Result<T> = std::result::Result<T, E2eError>;

fn err(message: impl Into<String>) -> E2eError {
    E2eError(message.into())
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

/// The built artifacts: the loadable extension folder and the host manifest.
#[derive(Debug, Clone)]
pub struct Dist {
    pub root: PathBuf,
}

impl Dist {
    /// `$DATALINK_DIST`, or `target/dist` of the workspace. Fails when nothing was built there.
    pub fn locate() -> Result<Dist> {
        let root = std::env::var_os("DATALINK_DIST").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target/dist"));
        let dist = Dist { root };
        for needed in [dist.extension_dir().join("manifest.json"), dist.chromium_host_manifest()] {
            if !needed.exists() {
                return Err(err(format!("{} is missing: run `cargo xtask build` (or `cargo xtask test`) first", needed.display())));
            }
        }
        Ok(dist)
    }

    pub fn extension_dir(&self) -> PathBuf {
        self.root.join("extension")
    }

    pub fn chromium_host_manifest(&self) -> PathBuf {
        self.root.join("manifest/chromium/cn.datalink.host.json")
    }
}

/// How to start the browser.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    pub chromium: PathBuf,
    pub extension_dir: PathBuf,
    /// Registered as `<profile>/NativeMessagingHosts/cn.datalink.host.json` when given.
    pub host_manifest: Option<PathBuf>,
    /// Show the window (needs a display).
    pub headed: bool,
    /// The host's SQLite file (`DATALINK_DB`, inherited by the host the browser starts);
    /// `None`: `datalink.db` in the fresh profile.
    pub db: Option<PathBuf>,
    /// More environment for the browser, hence for the host it starts (card backend, reader).
    pub env: Vec<(String, String)>,
    /// Chromium's profile folder (`--user-data-dir`), kept when the browser closes; `None`: a
    /// fresh temporary one, removed on drop. Chromium reads host manifests from its
    /// `NativeMessagingHosts/` — where `datalink-host install` writes them (tests/install.rs).
    pub user_data_dir: Option<PathBuf>,
}

impl LaunchOptions {
    /// The built extension and host, in `$CHROMIUM` or `/usr/bin/chromium`.
    pub fn for_dist(dist: &Dist) -> LaunchOptions {
        LaunchOptions {
            chromium: std::env::var_os("CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium")),
            extension_dir: dist.extension_dir(),
            host_manifest: Some(dist.chromium_host_manifest()),
            headed: false,
            db: None,
            env: Vec::new(),
            user_data_dir: None,
        }
    }
}

/// A running Chromium, controlled over CDP. Killed, and its profile removed, on drop.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    /// Whether `profile` is ours to remove.
    owns_profile: bool,
    db: PathBuf,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

/// A page attached with its own CDP session.
#[derive(Debug, Clone)]
pub struct Page {
    pub target_id: String,
    pub session_id: String,
}

impl Browser {
    /// Starts Chromium with a fresh profile (a reused one keeps the old service worker).
    pub fn launch(options: &LaunchOptions) -> Result<Browser> {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let owns_profile = options.user_data_dir.is_none();
        let profile = options.user_data_dir.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("datalink-e2e-{}-{stamp}", std::process::id())));
        std::fs::create_dir_all(&profile).map_err(|e| err(format!("cannot create the profile: {e}")))?;
        if let Some(manifest) = &options.host_manifest {
            let dir = profile.join("NativeMessagingHosts");
            std::fs::create_dir_all(&dir).map_err(|e| err(e.to_string()))?;
            std::fs::copy(manifest, dir.join("cn.datalink.host.json"))
                .map_err(|e| err(format!("cannot register the host manifest {}: {e}", manifest.display())))?;
        }
        let extension = options.extension_dir.canonicalize().map_err(|e| err(format!("extension folder: {e}")))?;
        let log = std::fs::File::create(profile.join("chromium.log")).map_err(|e| err(e.to_string()))?;
        let db = options.db.clone().unwrap_or_else(|| profile.join("datalink.db"));
        let mut command = Command::new(&options.chromium);
        command.env("DATALINK_DB", &db);
        command.envs(options.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if !options.headed {
            command.arg("--headless=new");
        }
        command
            .args([
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-features=DisableLoadExtensionCommandLineSwitch",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--load-extension={}", extension.display()))
            .arg(format!("--disable-extensions-except={}", extension.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let mut child = command
            .spawn()
            .map_err(|e| err(format!("cannot start {} ({e}); install it with `cargo xtask deps`", options.chromium.display())))?;

        let port_file = profile.join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        let endpoint = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    break format!("ws://127.0.0.1:{port}{path}");
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(profile.join("chromium.log")).unwrap_or_default();
                if owns_profile {
                    let _ = std::fs::remove_dir_all(&profile);
                }
                return Err(err(format!("Chromium exited ({status}) before DevTools came up:\n{}", tail(&log, 30))));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(err("Chromium did not open DevTools within 30 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let (socket, _) = tungstenite::connect(endpoint.as_str()).map_err(|e| err(format!("CDP connect {endpoint}: {e}")))?;
        if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
            stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| err(e.to_string()))?;
        }
        Ok(Browser { child, profile, owns_profile, db, socket, next_id: 1 })
    }

    /// The host's database for this browser.
    pub fn db(&self) -> &Path {
        &self.db
    }

    /// Process ids of the native hosts this browser started (found by their `DATALINK_DB`).
    pub fn host_pids(&self) -> Vec<u32> {
        host_pids_of(&self.db)
    }

    /// Closes a tab.
    pub fn close(&mut self, page: &Page) -> Result<()> {
        self.call("Target.closeTarget", json!({ "targetId": page.target_id }), None).map(|_| ())
    }

    /// Opens the extension's app page.
    pub fn open_app(&mut self) -> Result<Page> {
        let page = self.open(&format!("chrome-extension://{EXTENSION_ID}/app.html"))?;
        self.wait_for(&page, "typeof chrome !== 'undefined' && !!chrome.runtime && document.readyState === 'complete'", Duration::from_secs(20))?;
        Ok(page)
    }

    /// Sends a message to the service worker from an extension page; returns its reply
    /// (`{ok, result | error}`).
    pub fn ask(&mut self, page: &Page, message: &Value) -> Result<Value> {
        self.eval(page, &format!("chrome.runtime.sendMessage({message})"))
    }

    /// Logs in to a (simulated) portal with the card PIN, as a user does on the card tab.
    pub fn portal_login(&mut self, login_url: &str, pin: &str) -> Result<Page> {
        let page = self.open(login_url)?;
        self.wait_for(&page, "!!document.getElementById('loginbutton')", Duration::from_secs(20))?;
        let pin = serde_json::to_string(pin).map_err(|e| err(e.to_string()))?;
        self.eval(&page, &format!("document.getElementById('password').value = {pin}; document.getElementById('loginbutton').click(); true"))?;
        self.wait_for(&page, "!!document.getElementById('userName')", Duration::from_secs(20))?;
        Ok(page)
    }

    /// Sends one CDP command and waits for its answer (events in between are skipped).
    pub fn call(&mut self, method: &str, params: Value, session: Option<&str>) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket.send(Message::text(message.to_string())).map_err(|e| err(format!("CDP send {method}: {e}")))?;
        loop {
            let frame = self.socket.read().map_err(|e| err(format!("CDP read ({method}): {e}")))?;
            let Message::Text(text) = frame else { continue };
            let reply: Value = serde_json::from_str(text.as_str()).map_err(|e| err(e.to_string()))?;
            if reply["id"] != json!(id) {
                continue;
            }
            if let Some(error) = reply.get("error") {
                return Err(err(format!("CDP {method} failed: {error}")));
            }
            return Ok(reply["result"].clone());
        }
    }

    /// Waits until the extension's service worker is running; returns its URL.
    pub fn wait_for_service_worker(&mut self, timeout: Duration) -> Result<String> {
        let prefix = format!("chrome-extension://{EXTENSION_ID}/");
        let deadline = Instant::now() + timeout;
        loop {
            let targets = self.call("Target.getTargets", json!({}), None)?;
            let worker = targets["targetInfos"].as_array().into_iter().flatten().find(|t| {
                t["type"] == json!("service_worker") && t["url"].as_str().is_some_and(|u| u.starts_with(&prefix))
            });
            if let Some(worker) = worker {
                return Ok(worker["url"].as_str().unwrap_or_default().to_owned());
            }
            if Instant::now() > deadline {
                return Err(err(format!("the extension's service worker did not start; targets: {targets}")));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Opens `url` in a new tab and attaches to it.
    pub fn open(&mut self, url: &str) -> Result<Page> {
        let created = self.call("Target.createTarget", json!({ "url": url }), None)?;
        let target_id = created["targetId"].as_str().ok_or_else(|| err("no targetId"))?.to_owned();
        let attached = self.call("Target.attachToTarget", json!({ "targetId": target_id, "flatten": true }), None)?;
        let session_id = attached["sessionId"].as_str().ok_or_else(|| err("no sessionId"))?.to_owned();
        Ok(Page { target_id, session_id })
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its JSON value.
    pub fn eval(&mut self, page: &Page, expression: &str) -> Result<Value> {
        let params = json!({ "expression": expression, "returnByValue": true, "awaitPromise": true });
        let result = self.call("Runtime.evaluate", params, Some(&page.session_id))?;
        if let Some(exception) = result.get("exceptionDetails") {
            return Err(err(format!("page threw: {exception}")));
        }
        Ok(result["result"]["value"].clone())
    }

    /// Polls `expression` until it yields something other than null/undefined/false.
    pub fn wait_for(&mut self, page: &Page, expression: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(page, expression)?;
            if !value.is_null() && value != json!(false) {
                return Ok(value);
            }
            if Instant::now() > deadline {
                return Err(err(format!("timed out after {timeout:?} waiting for `{expression}`")));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last lines Chromium wrote to stderr (for failure messages).
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&std::fs::read_to_string(self.profile.join("chromium.log")).unwrap_or_default(), lines)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.socket.close(None);
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.owns_profile {
            let _ = std::fs::remove_dir_all(&self.profile);
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Serves fixed pages over HTTP/1.1 on 127.0.0.1 (an origin the content script matches).
pub struct PageServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PageServer {
    /// `pages` maps a path (`/roundtrip.html`) to an HTML body.
    pub fn start(pages: HashMap<String, String>) -> Result<PageServer> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| err(e.to_string()))?;
        listener.set_nonblocking(true).map_err(|e| err(e.to_string()))?;
        let addr = listener.local_addr().map_err(|e| err(e.to_string()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => serve_one(stream, &pages),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Ok(PageServer { addr, stop, thread: Some(thread) })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve_one(stream: TcpStream, pages: &HashMap<String, String>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut header = String::new();
    while reader.read_line(&mut header).map(|n| n > 2).unwrap_or(false) {
        header.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").split('?').next().unwrap_or("/");
    let (status, body) = match pages.get(path) {
        Some(body) => ("200 OK", body.as_str()),
        None => ("404 Not Found", "not found"),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = stream;
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// A page that asks the extension for a self-diagnosis through the content script and puts the
/// reply, as JSON, in `document.body.dataset.result`.
pub fn roundtrip_page(text: &str, from: &str, to: &str) -> String {
    let request = json!({ "type": "diagnose", "text": text, "from": from, "to": to });
    format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>DataLink round trip</title></head>
<body><p>DataLink round trip: page → content script → service worker (wasm) → native host → page</p>
<script>
const requestId = 'rt-' + Date.now();
window.addEventListener('message', (event) => {{
  const data = event.data;
  if (event.source !== window || !data || data.source !== 'datalink-extension' || data.requestId !== requestId) return;
  document.body.dataset.result = JSON.stringify(data.reply);
}});
const started = setInterval(() => {{
  if (!document.documentElement.dataset.datalink) return; // the content script marks the page
  clearInterval(started);
  window.postMessage({{ source: 'datalink-page', requestId, request: {request} }}, location.origin);
}}, 50);
</script></body></html>"#
    )
}

/// Runs the full round trip and returns the extension's reply (`{ok, result | error}`).
pub fn run_roundtrip(browser: &mut Browser, text: &str, from: &str, to: &str) -> Result<Value> {
    browser.wait_for_service_worker(Duration::from_secs(20))?;
    let pages = HashMap::from([("/roundtrip.html".to_owned(), roundtrip_page(text, from, to))]);
    let server = PageServer::start(pages)?;
    let page = browser.open(&server.url("/roundtrip.html"))?;
    let reply = browser.wait_for(&page, "document.body && document.body.dataset.result || null", Duration::from_secs(60));
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => return Err(err(format!("{e}\n--- chromium log ---\n{}", browser.log_tail(40)))),
    };
    let text = reply.as_str().ok_or_else(|| err("the result is not a string"))?;
    serde_json::from_str(text).map_err(|e| err(e.to_string()))
}

/// How hard the collector may press the portal in a run (the page's `settings`).
#[derive(Debug, Clone, Copy)]
pub struct SyncSettings {
    pub concurrency: u32,
    pub rate_per_second: f64,
    pub page_size: u64,
    pub request_timeout_ms: u32,
}

/// The `sync_start` message for the demo's conditions over `range`: both declaration types,
/// 报关收发货人, 进出口, 结关.
pub fn start_request(portal: &str, range: datalink_core::period::DateRange, settings: &SyncSettings) -> Value {
    json!({
        "type": "sync_start",
        "conditions": { "types": "both", "role": "C", "directions": "both", "status": "closed", "range": range },
        "portal": portal,
        "settings": {
            "concurrency": settings.concurrency,
            "ratePerSecond": settings.rate_per_second,
            "pageSize": settings.page_size,
            "requestTimeoutMs": settings.request_timeout_ms,
        }
    })
}

/// Polls the worker (`sync_status`) until the task leaves 执行中, printing its log lines when
/// `print` is set; `on_progress` may act between polls (kill the host, log in again).
/// Returns the final status.
pub fn wait_done(
    browser: &mut Browser,
    app: &Page,
    timeout: Duration,
    print: bool,
    mut on_progress: impl FnMut(&mut Browser, &Value),
) -> Result<Value> {
    let deadline = Instant::now() + timeout;
    let mut seq = 0;
    loop {
        let reply = browser.ask(app, &json!({ "type": "sync_status", "after_seq": seq }))?;
        if reply["ok"] != json!(true) {
            return Err(err(format!("sync_status failed: {reply}")));
        }
        let status = reply["result"].clone();
        for line in status["lines"].as_array().into_iter().flatten() {
            seq = line[0].as_u64().unwrap_or(seq);
            if print {
                let l = &line[1];
                println!("  {} [{}] {}", l["at"].as_str().unwrap_or_default(), category_label(l["category"].as_str().unwrap_or_default()), l["message"].as_str().unwrap_or_default());
            }
        }
        if status["state"] != json!("running") {
            return Ok(status);
        }
        on_progress(browser, &status);
        if Instant::now() > deadline {
            return Err(err(format!("the task did not end in {timeout:?}: {status}")));
        }
        std::thread::sleep(Duration::from_millis(150));
    }
}

fn category_label(category: &str) -> &'static str {
    match category {
        "connect" => "连接",
        "execute" => "执行",
        "result" => "结果",
        _ => "错误",
    }
}

/// `datalink-host export --format jsonl --task N` over the browser's database.
pub fn export(dist: &Dist, db: &Path, task: &str) -> Result<Vec<Value>> {
    let out = Command::new(dist.root.join("host/datalink-host"))
        .args(["export", "--db"])
        .arg(db)
        .args(["--format", "jsonl", "--task", task])
        .output()
        .map_err(|e| err(format!("cannot run the host's export: {e}")))?;
    if !out.status.success() {
        return Err(err(format!("export failed: {}", String::from_utf8_lossy(&out.stderr))));
    }
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).map_err(|e| err(e.to_string()))).collect()
}

/// The declarations of a portal-sim truth (`/__sim/truth` JSON) that the demo's conditions
/// cover over `range`: 报关收发货人 (role C), 结关, both types and directions.
pub fn truth_in_scope(truth: &Value, range: datalink_core::period::DateRange) -> std::collections::BTreeSet<String> {
    truth["declarations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| {
            let day = d["queryDate"].as_str().and_then(|s| s.parse::<datalink_core::calendar::Date>().ok());
            day.is_some_and(|day| range.contains(day))
                && d["cusDecStatus"] == json!("10")
                && d["etpsCategory"].as_array().is_some_and(|roles| roles.contains(&json!("C")))
        })
        .filter_map(|d| d["cusCiqNo"].as_str().map(str::to_owned))
        .collect()
}

// ── Helpers for the pages' tests (tests/pages.rs) and the pages' benchmark. ──

/// `target/e2e-artifacts/`: screenshots and files the page tests save for people to look at.
pub fn artifacts_dir() -> PathBuf {
    let dir = workspace_root().join("target/e2e-artifacts");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

impl Browser {
    /// [`Browser::wait_for`], telling a failing test what the page showed: on time-out the error
    /// carries the page's text (its first 4,000 characters) and Chromium's last 20 log lines,
    /// and, given `shots`, a screenshot `failure.png` is saved there.
    pub fn wait_explained(&mut self, page: &Page, expression: &str, timeout: Duration, shots: Option<&Path>) -> Result<Value> {
        match self.wait_for(page, expression, timeout) {
            Ok(value) => Ok(value),
            Err(e) => {
                if let Some(dir) = shots {
                    let _ = self.screenshot(page, &dir.join("failure.png"));
                }
                let body = self.eval(page, "document.body ? document.body.innerText.slice(0, 4000) : ''").unwrap_or_default();
                Err(err(format!("{e}\n--- page text ---\n{}\n--- chromium ---\n{}", body.as_str().unwrap_or_default(), self.log_tail(20))))
            }
        }
    }

    /// Goes to the app's view `hash` and waits (30 s, as [`Browser::wait_explained`]) until it
    /// marks itself drawn: `<body data-rendered>` starting with `rendered`.
    pub fn go(&mut self, page: &Page, hash: &str, rendered: &str, shots: Option<&Path>) -> Result<()> {
        self.eval(page, &format!("document.body.dataset.rendered = ''; location.hash = {}; true", json!(hash)))?;
        let drawn = format!("document.body.dataset.rendered.startsWith({})", json!(rendered));
        self.wait_explained(page, &drawn, Duration::from_secs(30), shots).map(|_| ())
    }
}

/// A process whose environment names the store `db` (`DATALINK_DB`): a browser launched for it,
/// its helpers, and the native hosts it started.
pub struct StoreProcess {
    pub pid: u32,
    /// The program is `datalink-host`.
    pub is_host: bool,
}

/// The processes using the store `db`, read from `/proc` (those that went away meanwhile are
/// left out).
pub fn processes_of_store(db: &Path) -> Vec<StoreProcess> {
    let wanted = format!("DATALINK_DB={}", db.display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if !environ.split(|b| *b == 0).any(|kv| kv == wanted.as_bytes()) {
            continue;
        }
        let is_host = std::fs::read_link(entry.path().join("exe")).is_ok_and(|exe| exe.file_name().is_some_and(|n| n == "datalink-host"));
        found.push(StoreProcess { pid, is_host });
    }
    found
}

/// Process ids of the native hosts working on the store `db` (usable from any thread).
pub fn host_pids_of(db: &Path) -> Vec<u32> {
    processes_of_store(db).into_iter().filter(|p| p.is_host).map(|p| p.pid).collect()
}

/// A file the browser downloaded into `dir` (see [`Browser::allow_downloads`]), once no
/// `.crdownload` is left there; an error naming what is there after 30 s.
pub fn downloaded(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = dir.join(name);
    let deadline = Instant::now() + Duration::from_secs(30);
    let names = || -> Vec<String> {
        std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()
    };
    loop {
        let partial = names().iter().any(|n| n.ends_with(".crdownload"));
        if path.exists() && !partial {
            return std::fs::read(&path).map_err(|e| err(format!("{}: {e}", path.display())));
        }
        if Instant::now() >= deadline {
            return Err(err(format!("{} was not downloaded: {:?}", path.display(), names())));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Browser {
    /// Sets the page's viewport (CSS pixels), as a desktop window of that size.
    pub fn set_viewport(&mut self, page: &Page, width: u32, height: u32) -> Result<()> {
        let params = json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false });
        self.call("Emulation.setDeviceMetricsOverride", params, Some(&page.session_id)).map(|_| ())
    }

    /// Saves a PNG of the whole page (beyond the viewport) to `path` (`Page.captureScreenshot`).
    pub fn screenshot(&mut self, page: &Page, path: &Path) -> Result<()> {
        use base64::Engine as _;
        let metrics = self.call("Page.getLayoutMetrics", json!({}), Some(&page.session_id))?;
        let size = &metrics["cssContentSize"];
        let width = size["width"].as_f64().unwrap_or(1280.0).ceil().max(1.0);
        let height = size["height"].as_f64().unwrap_or(800.0).ceil().clamp(1.0, 16_000.0);
        let params = json!({
            "format": "png",
            "captureBeyondViewport": true,
            "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
        });
        let shot = self.call("Page.captureScreenshot", params, Some(&page.session_id))?;
        let data = shot["data"].as_str().ok_or_else(|| err("no screenshot data"))?;
        let png = base64::engine::general_purpose::STANDARD.decode(data).map_err(|e| err(e.to_string()))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        std::fs::write(path, png).map_err(|e| err(format!("{}: {e}", path.display())))
    }

    /// Lets pages download files into `dir` (`Browser.setDownloadBehavior`).
    pub fn allow_downloads(&mut self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        let params = json!({ "behavior": "allow", "downloadPath": dir.to_string_lossy(), "eventsEnabled": false });
        self.call("Browser.setDownloadBehavior", params, None).map(|_| ())
    }

    /// Clicks the element matching `selector` (as a user would: `element.click()`); fails when
    /// there is none.
    pub fn click(&mut self, page: &Page, selector: &str) -> Result<()> {
        let selector = serde_json::to_string(selector).map_err(|e| err(e.to_string()))?;
        let clicked = self.eval(page, &format!("(() => {{ const e = document.querySelector({selector}); if (!e) return false; e.click(); return true; }})()"))?;
        if clicked == json!(true) {
            Ok(())
        } else {
            Err(err(format!("nothing to click at {selector}")))
        }
    }

    /// Sets an input's or select's value and fires `input` and `change`, as typing would.
    pub fn fill(&mut self, page: &Page, selector: &str, value: &str) -> Result<()> {
        let (selector, value) = (serde_json::to_string(selector).map_err(|e| err(e.to_string()))?, serde_json::to_string(value).map_err(|e| err(e.to_string()))?);
        let done = self.eval(
            page,
            &format!(
                "(() => {{ const e = document.querySelector({selector}); if (!e) return false; e.value = {value}; \
                 e.dispatchEvent(new Event('input', {{bubbles: true}})); e.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()"
            ),
        )?;
        if done == json!(true) {
            Ok(())
        } else {
            Err(err(format!("no field at {selector}")))
        }
    }

    /// The text content of the element matching `selector` (`None` when there is none).
    pub fn text_of(&mut self, page: &Page, selector: &str) -> Result<Option<String>> {
        let selector = serde_json::to_string(selector).map_err(|e| err(e.to_string()))?;
        let text = self.eval(page, &format!("(() => {{ const e = document.querySelector({selector}); return e ? e.textContent : null; }})()"))?;
        Ok(text.as_str().map(str::to_owned))
    }
}

/// Today's date (UTC: the day portal-sim is told it is, and the day the tests plan with).
pub fn today() -> datalink_core::calendar::Date {
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400);
    datalink_core::calendar::Date::from_day_number(i64::try_from(days).unwrap_or(0))
}

/// portal-sim running on its own runtime for one test; `sim.sim` is the simulator.
pub struct Sim {
    pub sim: portal_sim::RunningSim,
    _runtime: tokio::runtime::Runtime,
}

impl Sim {
    /// Starts portal-sim with `config`, its admin API on and its "today" set to [`today`] unless
    /// the config says otherwise.
    pub fn start(mut config: portal_sim::SimConfig) -> Result<Sim> {
        config.admin = true;
        if config.today.is_none() {
            config.today = Some(today().to_string().parse().map_err(|e| err(format!("{e:?}")))?);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| err(format!("tokio runtime: {e}")))?;
        let sim = runtime.block_on(portal_sim::start(config)).map_err(|e| err(format!("portal-sim: {e:?}")))?;
        Ok(Sim { sim, _runtime: runtime })
    }

    /// The simulator's ground truth as JSON (`/__sim/truth`).
    pub fn truth(&self) -> Value {
        serde_json::to_value(self.sim.truth()).unwrap_or(Value::Null)
    }
}

/// A `Sim` is used as the simulator it runs: `sim.login_url()`, `&sim` where a `&RunningSim` is
/// asked for.
impl std::ops::Deref for Sim {
    type Target = portal_sim::RunningSim;
    fn deref(&self) -> &portal_sim::RunningSim {
        &self.sim
    }
}

/// Asserts that the host's export of `task` (`datalink-host export`, over the browser's
/// database) is exactly the declarations `expected` (统一编号): nothing missing, nothing extra,
/// no declaration twice, and every one with its goods lines. Panics with what differs.
pub fn assert_export_matches(dist: &Dist, browser: &Browser, task: &str, expected: &std::collections::BTreeSet<String>) {
    let rows = match export(dist, browser.db(), task) {
        Ok(rows) => rows,
        Err(e) => panic!("export of task {task} failed: {e}"),
    };
    let ids: Vec<String> = rows.iter().map(|r| r["cusCiqNo"].as_str().unwrap_or_default().to_owned()).collect();
    let unique: std::collections::BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), unique.len(), "the export has duplicates");
    let missing: Vec<_> = expected.difference(&unique).collect();
    let extra: Vec<_> = unique.difference(expected).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?} extra {extra:?}");
    assert!(
        rows.iter().all(|r| r["goods"].as_array().is_some_and(|goods| !goods.is_empty())),
        "every declaration has its goods lines"
    );
}
