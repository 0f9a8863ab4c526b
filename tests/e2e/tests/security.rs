//! Issue #9, security policy: what the extension may touch, who may start the host, and that
//! portal strings stay text on every page.
//!
//! Without a browser (they read files):
//! * the extension's manifest — source and built — asks for the Single Window's origins only
//!   (content scripts and host permissions), no extra API permission, a CSP without
//!   `unsafe-eval` or remote script, nothing web pages could reach (`externally_connectable`,
//!   `web_accessible_resources`), and its `key` gives [`datalink_core::EXTENSION_ID`]. The
//!   built one may add the local development pattern `http://127.0.0.1/*` (portal-sim runs
//!   there); the release packages of `cargo xtask dist` must not (xtask's `dist` tests check the
//!   rule, and this file the packages when the dist folder has them);
//! * every host manifest — the templates under `manifest/`, the built ones, and what the built
//!   `datalink-host install` writes for every browser — allows exactly our extension.
//!
//! In Chromium: a page on an origin that is not the portal gets no content script and cannot
//! reach the extension, while portal-sim's origin gets both; and after a sync of a portal whose
//! texts carry markup and script (`/__sim/hostile`), every page that shows portal strings shows
//! them as text and runs none of them. Run serially (`--test-threads=1`).
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use datalink_core::period::DateRange;
use datalink_core::{EXTENSION_ID, FIREFOX_EXTENSION_ID};
use datalink_e2e::{
    start_request, today, truth_in_scope, wait_done, workspace_root, Browser, Dist, LaunchOptions, Page, PageServer, Sim, SyncSettings,
};
use portal_sim::SimConfig;
use serde_json::{json, Value};
use sha2::Digest;

/// The Single Window's origins: the national portal and the provincial ones DataLink supports.
const PORTAL_PATTERNS: &[&str] =
    &["https://*.singlewindow.cn/*", "http://*.singlewindow.cn/*", "https://*.singlewindow.shaanxi.cn/*", "https://*.singlewindow.gd.cn/*"];
/// The development pattern a built (not released) extension adds for portal-sim.
const DEV_PATTERN: &str = "http://127.0.0.1/*";
/// The API permissions the extension needs; any other is a decision to make here first.
const PERMISSIONS: &[&str] = &["nativeMessaging", "storage", "alarms", "notifications"];

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().map(|a| a.iter().map(|v| v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).to_owned()).collect()).unwrap_or_default()
}

/// The extension id Chromium derives from a manifest `key`: the first 128 bits of the key's
/// SHA-256, as letters a–p.
fn id_of_key(key: &str) -> String {
    let der = base64::engine::general_purpose::STANDARD.decode(key).unwrap();
    sha2::Sha256::digest(&der)[..16].iter().flat_map(|b| [b >> 4, b & 15]).map(|n| char::from(b'a' + n)).collect()
}

/// Checks one extension manifest; `dev` says whether the development pattern may appear.
fn check_extension_manifest(manifest: &Value, what: &str, dev: bool) {
    let allowed = |pattern: &str| PORTAL_PATTERNS.contains(&pattern) || (dev && pattern == DEV_PATTERN);
    assert_eq!(strings(&manifest["permissions"]), PERMISSIONS, "{what}: API permissions");
    for key in ["optional_permissions", "optional_host_permissions", "externally_connectable", "web_accessible_resources", "sandbox", "update_url"] {
        assert!(manifest.get(key).is_none(), "{what}: `{key}` is set: {}", manifest[key]);
    }
    let hosts = strings(&manifest["host_permissions"]);
    assert!(hosts.iter().all(|p| allowed(p)), "{what}: host_permissions {hosts:?}");
    assert!(PORTAL_PATTERNS.iter().all(|p| hosts.iter().any(|h| h == p)), "{what}: every portal origin is asked for: {hosts:?}");
    let scripts = manifest["content_scripts"].as_array().unwrap_or_else(|| panic!("{what}: no content_scripts"));
    assert_eq!(scripts.len(), 1, "{what}: one content script");
    for script in scripts {
        let matches = strings(&script["matches"]);
        assert!(!matches.is_empty() && matches.iter().all(|p| allowed(p)), "{what}: content script matches {matches:?}");
        assert_eq!(strings(&script["js"]), ["content.js"], "{what}: a packaged file, no URL");
        assert!(script.get("world").is_none_or(|w| w == "ISOLATED"), "{what}: the content script runs in the isolated world");
        for key in ["match_origin_as_fallback", "match_about_blank", "include_globs"] {
            assert!(script.get(key).is_none(), "{what}: content script `{key}`");
        }
    }
    assert_eq!(manifest["background"]["service_worker"], json!("background.js"), "{what}: a packaged worker");
    // The CSP: scripts from the package only (and wasm compiled from it), no eval, no remote host.
    let csp = manifest["content_security_policy"]["extension_pages"].as_str().unwrap_or_else(|| panic!("{what}: no CSP"));
    let directives: HashMap<&str, Vec<&str>> = csp
        .split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace();
            words.next().map(|name| (name, words.collect()))
        })
        .collect();
    assert_eq!(directives.get("script-src"), Some(&vec!["'self'", "'wasm-unsafe-eval'"]), "{what}: {csp}");
    assert!(directives.get("object-src").is_some_and(|v| v.iter().all(|s| *s == "'self'" || *s == "'none'")), "{what}: {csp}");
    for forbidden in ["'unsafe-eval'", "'unsafe-inline'", "http:", "https:", "*", "data:", "blob:"] {
        assert!(!csp.split_whitespace().any(|w| w.trim_end_matches(';') == forbidden), "{what}: {forbidden} in {csp}");
    }
    let all_patterns: Vec<String> = hosts.iter().cloned().chain(scripts.iter().flat_map(|s| strings(&s["matches"]))).collect();
    for pattern in &all_patterns {
        for wide in ["<all_urls>", "*://*/*", "http://*/*", "https://*/*", "file:///*"] {
            assert_ne!(pattern, wide, "{what}");
        }
    }
}

#[test]
fn the_extension_asks_for_the_portal_origins_only() {
    let source = read_json(&workspace_root().join("extension/manifest.json"));
    check_extension_manifest(&source, "extension/manifest.json", true);
    assert_eq!(id_of_key(source["key"].as_str().unwrap()), EXTENSION_ID, "the key gives our id");

    let dist = Dist::locate().unwrap();
    let built = read_json(&dist.extension_dir().join("manifest.json"));
    check_extension_manifest(&built, "the built manifest", true);
    assert_eq!(id_of_key(built["key"].as_str().unwrap()), EXTENSION_ID);
    // The built manifest asks for nothing the source does not (a --dev-origin only narrows the
    // development pattern to one port).
    let source_hosts: BTreeSet<String> = strings(&source["host_permissions"]).into_iter().collect();
    for pattern in strings(&built["host_permissions"]) {
        assert!(source_hosts.contains(&pattern) || pattern.starts_with("http://127.0.0.1:"), "the build added {pattern}");
    }

    // The packages users get (`cargo xtask dist`), when this dist folder has them.
    let version = datalink_core::VERSION;
    let mut packages = 0;
    for (name, crx) in [(format!("datalink-extension-{version}-store.zip"), false), (format!("datalink-{version}.crx"), true)] {
        let path = dist.root.join(&name);
        let Ok(bytes) = std::fs::read(&path) else { continue };
        // A CRX3 is "Cr24", a version, a header length and the header, then the zip.
        let skip = if crx { 12 + u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize } else { 0 };
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes[skip..])).unwrap();
        let mut text = String::new();
        zip.by_name("manifest.json").unwrap().read_to_string(&mut text).unwrap();
        let released: Value = serde_json::from_str(&text).unwrap();
        check_extension_manifest(&released, &name, false);
        assert!(!text.contains("127.0.0.1") && !text.contains("localhost"), "{name} keeps a development origin");
        packages += 1;
    }
    println!("release packages checked: {packages} (built by `cargo xtask dist` only)");
}

#[test]
fn every_host_manifest_allows_exactly_our_extension() {
    let origin = format!("chrome-extension://{EXTENSION_ID}/");
    let root = workspace_root();
    let chromium = |manifest: &Value, what: &str| {
        assert_eq!(manifest["name"], json!("cn.datalink.host"), "{what}");
        assert_eq!(manifest["type"], json!("stdio"), "{what}");
        assert_eq!(manifest["allowed_origins"], json!([origin]), "{what}: only our extension");
        assert!(manifest.get("allowed_extensions").is_none(), "{what}");
    };
    let firefox = |manifest: &Value, what: &str| {
        assert_eq!(manifest["name"], json!("cn.datalink.host"), "{what}");
        assert_eq!(manifest["allowed_extensions"], json!([FIREFOX_EXTENSION_ID]), "{what}: only our add-on");
        assert!(manifest.get("allowed_origins").is_none(), "{what}");
    };

    // The templates, filled as `cargo xtask build` fills them.
    let fill = |name: &str| -> Value {
        let text = std::fs::read_to_string(root.join("manifest").join(name)).unwrap();
        assert!(!text.contains('*'), "manifest/{name} has a wildcard");
        let text = text
            .replace("@HOST_PATH@", "/opt/datalink/datalink-host")
            .replace("@FIREFOX_EXTENSION_ID@", FIREFOX_EXTENSION_ID)
            .replace("@EXTENSION_ID@", EXTENSION_ID);
        serde_json::from_str(&text).unwrap()
    };
    chromium(&fill("chromium.json.in"), "manifest/chromium.json.in");
    firefox(&fill("firefox.json.in"), "manifest/firefox.json.in");
    let templates: Vec<String> = std::fs::read_dir(root.join("manifest"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json.in"))
        .collect();
    assert_eq!(templates.len(), 2, "a new template needs its check here: {templates:?}");
    // The install scripts' enterprise policy installs our extension, no other.
    for script in ["install.sh", "install.ps1"] {
        let text = std::fs::read_to_string(root.join("manifest").join(script)).unwrap();
        let ids: BTreeSet<&str> =
            text.split(|c: char| !c.is_ascii_lowercase()).filter(|w| w.len() == 32 && w.chars().all(|c| ('a'..='p').contains(&c))).collect();
        assert_eq!(ids, BTreeSet::from([EXTENSION_ID]), "manifest/{script}");
    }

    // The built ones.
    let dist = Dist::locate().unwrap();
    let built = read_json(&dist.chromium_host_manifest());
    chromium(&built, "the built Chromium host manifest");
    assert_eq!(Path::new(built["path"].as_str().unwrap()), dist.root.join("host/datalink-host").canonicalize().unwrap());
    firefox(&read_json(&dist.root.join("manifest/firefox/cn.datalink.host.json")), "the built Firefox host manifest");

    // What the built host's `install` writes, for every browser, into an empty HOME.
    let home = std::env::temp_dir().join(format!("datalink-security-home-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join(".config")).unwrap();
    for browser in ["chrome", "chromium", "edge", "brave", "360", "firefox"] {
        let out = Command::new(dist.root.join("host/datalink-host"))
            .args(["install", "--browser", browser, "--user"])
            .env("HOME", &home)
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .output()
            .unwrap();
        assert!(out.status.success(), "install {browser}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    let written = virtual_card::hygiene::files_under(&home);
    let manifests: Vec<&PathBuf> = written.iter().filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    assert!(manifests.len() >= 6, "install wrote {written:?}");
    let (mut chromium_count, mut firefox_count) = (0, 0);
    for path in &manifests {
        let manifest = read_json(path);
        let what = path.strip_prefix(&home).unwrap().display().to_string();
        if what.contains("mozilla") {
            firefox(&manifest, &what);
            firefox_count += 1;
        } else {
            chromium(&manifest, &what);
            chromium_count += 1;
        }
    }
    println!("install wrote {chromium_count} Chromium-family and {firefox_count} Firefox host manifests");
    assert!(chromium_count >= 5 && firefox_count >= 1);
    let _ = std::fs::remove_dir_all(&home);
}


fn wait(browser: &mut Browser, page: &Page, expression: &str, secs: u64) -> Value {
    browser.wait_explained(page, expression, Duration::from_secs(secs), None).unwrap()
}

/// Like [`wait`], for a page still loading: an evaluation that fails because the page is
/// navigating (its context destroyed) is tried again.
fn wait_loaded(browser: &mut Browser, page: &Page, expression: &str, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match browser.eval(page, expression) {
            Ok(value) if !value.is_null() && value != json!(false) => return value,
            Ok(_) => {}
            Err(e) if Instant::now() > deadline => panic!("{e}\n--- chromium ---\n{}", browser.log_tail(20)),
            Err(_) => {}
        }
        assert!(Instant::now() < deadline, "timed out after {secs} s waiting for `{expression}`");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A page that records whether DataLink's content script marked it, whether `chrome.runtime`
/// can reach our extension directly, and what the content script's relay answers.
const PROBE: &str = r#"<!doctype html><meta charset="utf-8"><title>probe</title><body><script>
const out = { direct: 'no chrome.runtime' };
try {
  if (window.chrome && chrome.runtime && chrome.runtime.sendMessage) {
    chrome.runtime.sendMessage('EXTENSION_ID', { type: 'connect_host' }, (r) => { out.direct = r === undefined ? 'refused' : JSON.stringify(r); });
    out.direct = 'sent';
  }
} catch (e) { out.direct = 'threw: ' + e.message; }
window.addEventListener('message', (e) => { if (e.data && e.data.source === 'datalink-extension') out.relay = e.data.reply; });
// Ask the relay once the content script marked the page, or after 2.5 s without a mark.
const begun = Date.now();
const ask = setInterval(() => {
  if (!document.documentElement.dataset.datalink && Date.now() - begun < 2500) return;
  clearInterval(ask);
  window.postMessage({ source: 'datalink-page', requestId: 1, request: { type: 'diagnose', text: '报关单', from: '2026-01-01', to: '2026-01-31' } }, location.origin);
  const posted = Date.now();
  const done = setInterval(() => {
    if (!out.relay && Date.now() - posted < 6000) return;
    clearInterval(done);
    out.marker = document.documentElement.dataset.datalink || null;
    document.body.dataset.probe = JSON.stringify(out);
  }, 50);
}, 50);
</script></body>"#;

#[test]
fn content_scripts_run_on_portal_origins_only() {
    let dist = Dist::locate().unwrap();
    let sim = Sim::start(SimConfig { seed: 91, declarations: 5, ..SimConfig::default() }).unwrap();
    let server = PageServer::start(HashMap::from([("/probe.html".to_owned(), PROBE.replace("EXTENSION_ID", EXTENSION_ID))])).unwrap();
    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    let version = json!(datalink_core::VERSION);

    // portal-sim's origin (127.0.0.1, the development pattern of a built extension): marked.
    let login = browser.open(&sim.login_url()).unwrap();
    assert_eq!(wait_loaded(&mut browser, &login, "document.documentElement.dataset.datalink || null", 20), version, "the portal page is marked");

    // The same probe on 127.0.0.1 (matched) and on localhost (not matched: another origin).
    let probe = |browser: &mut Browser, url: &str| -> Value {
        let page = browser.open(url).unwrap();
        let result = wait_loaded(browser, &page, "document.body && document.body.dataset.probe || null", 30);
        browser.close(&page).unwrap();
        serde_json::from_str(result.as_str().unwrap()).unwrap()
    };
    let local = server.url("/probe.html");
    assert!(local.starts_with("http://127.0.0.1:"), "{local}");
    let matched = probe(&mut browser, &local);
    assert_eq!(matched["marker"], version, "{matched}");
    assert_eq!(matched["relay"]["ok"], json!(true), "the content script relays a diagnosis: {matched}");
    assert_eq!(matched["relay"]["result"]["host"]["host"], json!("datalink-host"), "{matched}");
    assert_eq!(matched["relay"]["result"]["echo"]["text"], json!("报关单"), "{matched}");

    let foreign = probe(&mut browser, &local.replace("127.0.0.1", "localhost"));
    assert_eq!(foreign["marker"], Value::Null, "no content script on a foreign origin: {foreign}");
    assert!(foreign.get("relay").is_none(), "nobody relays for a foreign origin: {foreign}");
    assert_eq!(foreign["direct"], json!("no chrome.runtime"), "a web page cannot address the extension: {foreign}");
}

const TEST_SETTINGS: SyncSettings = SyncSettings { concurrency: 4, rate_per_second: 1000.0, page_size: 100, request_timeout_ms: 2500 };

/// What would show that a portal string ran or became markup: `window.__pwned` set by a
/// payload, inline event handlers, inline scripts, frames, images, or SVG outside the report's
/// chart.
const VERDICT: &str = "(() => ({
    pwned: window.__pwned === undefined ? null : window.__pwned,
    handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.toLowerCase().startsWith('on'))).map(e => e.outerHTML.slice(0, 120)),
    scripts: document.querySelectorAll('script:not([src])').length,
    frames: document.querySelectorAll('iframe, frame, object, embed').length,
    images: document.querySelectorAll('img').length,
    svg: [...document.querySelectorAll('svg')].filter(s => !s.closest('#rp-chart')).length,
}))()";

fn assert_inert(browser: &mut Browser, page: &Page, what: &str, shows_portal_strings: bool) {
    let verdict = browser.eval(page, VERDICT).unwrap();
    assert_eq!(
        verdict,
        json!({"pwned": null, "handlers": [], "scripts": 0, "frames": 0, "images": 0, "svg": 0}),
        "{what}: a portal string became markup"
    );
    if shows_portal_strings {
        let text = browser.eval(page, "document.body.innerText").unwrap();
        let text = text.as_str().unwrap();
        let shown = portal_sim::server::HOSTILE_STRINGS.iter().filter(|s| text.contains(*s)).count();
        assert!(shown >= 1, "{what}: no portal string shown verbatim: {}", text.chars().take(2000).collect::<String>());
    }
}

fn go(browser: &mut Browser, page: &Page, hash: &str, rendered: &str) {
    browser.go(page, hash, rendered, None).unwrap();
}

#[test]
fn portal_strings_are_text_on_every_page() {
    let started = Instant::now();
    let dist = Dist::locate().unwrap();
    let year = today().year() - 1;
    let january = DateRange { first: format!("{year}-01-01").parse().unwrap(), last: format!("{year}-01-31").parse().unwrap() };
    let config = SimConfig {
        seed: 93,
        declarations: 40,
        from: Some(january.first.to_string().parse().unwrap()),
        to: Some(january.last.to_string().parse().unwrap()),
        ..SimConfig::default()
    };
    let sim = Sim::start(config).unwrap();
    assert!(sim.make_hostile() > 0);
    let ids = truth_in_scope(&sim.truth(), january);
    assert!(ids.len() >= 5, "declarations in scope: {}", ids.len());

    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    let login = browser.portal_login(&sim.login_url(), "88888888").unwrap();
    browser.close(&login).unwrap();
    let app = browser.open_app().unwrap();
    browser.set_viewport(&app, 1440, 1000).unwrap();
    let mut request = start_request(&sim.base_url(), january, &TEST_SETTINGS);
    request["documents"] = json!(true);
    let started_task = browser.ask(&app, &request).unwrap();
    assert_eq!(started_task["ok"], json!(true), "{started_task}");
    let task = started_task["result"]["number"].as_str().unwrap().to_owned();
    let status = wait_done(&mut browser, &app, Duration::from_secs(240), false, |_, _| {}).unwrap();
    assert_eq!(status["state"], json!("completed"), "{status}");

    go(&mut browser, &app, "#/", "home");
    assert_inert(&mut browser, &app, "首页", false);
    go(&mut browser, &app, "#/sync", "sync");
    assert_inert(&mut browser, &app, "报关单协同 (with 自动协同)", false);
    go(&mut browser, &app, "#/records", "records");
    assert_inert(&mut browser, &app, "协同记录 and the enterprise switch", true);
    let header = browser
        .eval(&app, "document.getElementById('enterprise-active') ? document.getElementById('enterprise-active').textContent : ''")
        .unwrap();
    assert!(
        portal_sim::server::HOSTILE_STRINGS.iter().any(|s| header.as_str().unwrap().contains(s)),
        "the enterprise's name, verbatim: {header}"
    );
    go(&mut browser, &app, &format!("#/task/{task}"), "task");
    assert_inert(&mut browser, &app, "查看", true);
    go(&mut browser, &app, &format!("#/task/{task}/detail"), "detail");
    assert_inert(&mut browser, &app, "详情", true);
    let cus = ids.iter().next().unwrap();
    go(&mut browser, &app, &format!("#/declaration/{cus}"), "preview");
    wait(&mut browser, &app, "document.querySelectorAll('#receipts tbody tr').length > 0", 20);
    assert_inert(&mut browser, &app, "预览 with its documents", true);

    // 数据验证报告: the covered month, its 核验表 and the certificate's preview.
    go(&mut browser, &app, "#/report", "report");
    browser.fill(&app, "#rp-project", "外贸发展专项资金").unwrap();
    browser.fill(&app, "#rp-department", "西安市商务局").unwrap();
    browser.fill(&app, "#rp-from", &format!("{year}01")).unwrap();
    browser.fill(&app, "#rp-to", &format!("{year}01")).unwrap();
    browser.eval(&app, "document.body.dataset.rendered = ''; true").unwrap();
    browser.click(&app, "#rp-confirm").unwrap();
    assert_eq!(wait(&mut browser, &app, "document.body.dataset.rendered || null", 120), json!("report:ready"));
    let company = browser.text_of(&app, "#rp-company").unwrap().unwrap_or_default();
    assert!(portal_sim::server::HOSTILE_STRINGS.iter().any(|s| company.contains(s)), "the company's name, verbatim: {company}");
    assert_inert(&mut browser, &app, "数据验证报告 and the certificate preview", true);
    println!("every page inert in {:.1?}", started.elapsed());
}
