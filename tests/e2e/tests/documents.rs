//! Issue #10, official documents, end to end: real headless Chromium + the extension (the
//! collector's documents phase) + the native host (PDFs on disk, hashes in the store) +
//! portal-sim (the print, receipts and attachment lists, with faults on the print's route).
//!
//! Every PDF on disk is compared with portal-sim's truth (`pdfSha256`) and its bytes
//! (`RunningSim::pdf`); the ZIP export is opened with the `zip` crate.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use datalink_core::period::DateRange;
use datalink_e2e::{today, start_request, wait_done, Browser, Dist, LaunchOptions, Page, Sim, SyncSettings};
use portal_sim::{FaultSpec, RunningSim, SimConfig};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const TEST_SETTINGS: SyncSettings =
    SyncSettings { concurrency: 4, rate_per_second: 1000.0, page_size: 100, request_timeout_ms: 2500 };


fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The truth's declarations in the task's scope (结关, role C, both types and directions):
/// 统一编号 → (报关单号, pdfSha256).
fn expected(sim: &RunningSim, range: DateRange) -> BTreeMap<String, (String, String)> {
    let truth = serde_json::to_value(sim.truth()).unwrap();
    let scope = datalink_e2e::truth_in_scope(&truth, range);
    let mut out = BTreeMap::new();
    for d in truth["declarations"].as_array().unwrap() {
        let cus = d["cusCiqNo"].as_str().unwrap();
        if scope.contains(cus) {
            assert_eq!(d["hasPdf"], json!(true), "a 结关 declaration has its print: {cus}");
            out.insert(cus.to_owned(), (d["entryId"].as_str().unwrap().to_owned(), d["pdfSha256"].as_str().unwrap().to_owned()));
        }
    }
    out
}

/// Every `*.pdf` under `dir`, by file name (`<报关单号>.pdf`).
fn pdf_files(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "pdf") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                assert!(out.insert(name, path).is_none(), "one file per 报关单号");
            }
        }
    }
    out
}

/// Each expected declaration's PDF is on disk, in the tree, byte- and hash-equal to the truth.
fn assert_pdfs_on_disk(sim: &RunningSim, documents: &Path, expected: &BTreeMap<String, (String, String)>) {
    let files = pdf_files(documents);
    for (cus, (entry_id, sha)) in expected {
        let path = files.get(&format!("{entry_id}.pdf")).unwrap_or_else(|| panic!("no PDF for {cus} ({entry_id})"));
        let relative = path.strip_prefix(documents).unwrap();
        let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        assert_eq!(parts.len(), 5, "<enterprise>/<YYYY>/<MM>/<进口|出口>/<报关单号>.pdf: {relative:?}");
        assert_eq!(parts[3], if cus.starts_with('E') { "出口" } else { "进口" }, "{relative:?}");
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(&hex(&bytes), sha, "{cus}: the stored file is the print the portal serves");
        assert_eq!(Some(bytes), sim.pdf(0, cus), "{cus}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}

fn start_sim(declarations: usize, seed: u64, faults: &str) -> Sim {
    let config = SimConfig { seed, declarations, faults: faults.parse::<FaultSpec>().unwrap(), ..SimConfig::default() };
    Sim::start(config).unwrap()
}

fn ask_ok(browser: &mut Browser, app: &Page, message: &Value) -> Value {
    let reply = browser.ask(app, message).unwrap();
    assert_eq!(reply["ok"], json!(true), "{message} → {reply}");
    reply["result"].clone()
}

fn assert_fourth_count(status: &Value, n: usize) {
    assert_eq!(status["state"], json!("completed"), "{status}");
    let report = &status["report"];
    assert_eq!(report["documents"], json!({"entries": n, "stored": n}), "{report}");
    for p in report["periods"].as_array().unwrap() {
        assert_eq!(p["documents"]["entries"], p["documents"]["stored"], "{p}");
    }
}

#[test]
fn documents_are_stored_through_faults_exported_as_a_zip_and_fetched_later_for_an_old_task() {
    let dist = Dist::locate().unwrap();
    // ≈ 18 % of prints fail (login page, cut, 5xx); every one is served after retries. A session
    // serves 150 data requests, then expires: the sync (and its documents phase) pauses until
    // the test logs in again.
    let sim = start_sim(240, 21, "pdf_login=0.06,pdf_cut=0.06,pdf_5xx=0.06,expire_every=150");
    let login_url = sim.login_url();
    let mut logins = 0;
    let mut relogin = |browser: &mut Browser, status: &Value| {
        if status["paused"] == json!(true) {
            let page = browser.portal_login(&login_url, "88888888").unwrap();
            browser.close(&page).unwrap();
            logins += 1;
            println!("  -- logged in again ({logins})");
        }
    };
    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    browser.portal_login(&sim.login_url(), "88888888").unwrap();
    let app = browser.open_app().unwrap();
    let documents = browser.db().parent().unwrap().join("documents");

    // 1. A sync with documents over the last year.
    let range = DateRange::new(today().add_days(-365), today()).unwrap();
    let want = expected(&sim, range);
    assert!(want.len() >= 30, "enough declarations to meet faults: {}", want.len());
    let mut request = start_request(&sim.base_url(), range, &TEST_SETTINGS);
    request["documents"] = json!(true);
    let task = ask_ok(&mut browser, &app, &request)["number"].as_str().unwrap().to_owned();
    let status = wait_done(&mut browser, &app, Duration::from_secs(300), true, &mut relogin).unwrap();
    assert_fourth_count(&status, want.len());
    assert_pdfs_on_disk(&sim, &documents, &want);
    assert_eq!(pdf_files(&documents).len(), want.len(), "nothing but the prints of the task");
    let stats = serde_json::to_value(sim.stats()).unwrap();
    println!("documents: {}", stats["documents"]);
    assert!(stats["documents"]["pdfFaults"].as_u64().unwrap() > 0, "the faults were met: {stats}");
    let log = ask_ok(&mut browser, &app, &json!({"type": "task_log", "task": task}));
    let retries = log["lines"].as_array().unwrap().iter().filter(|l| l["message"].as_str().unwrap().contains("后重试")).count();
    assert!(retries > 0, "the retries are in the 执行日志");

    // Receipts and attachments of one declaration.
    let (cus, _) = want.iter().next().unwrap();
    let truth = serde_json::to_value(sim.truth()).unwrap();
    let one = truth["declarations"].as_array().unwrap().iter().find(|d| d["cusCiqNo"] == json!(cus)).unwrap().clone();
    let receipts = ask_ok(&mut browser, &app, &json!({"type": "document_get", "cusCiqNo": cus, "kind": "receipts"}));
    let notes: Vec<&Value> = receipts["content"].as_array().unwrap().iter().map(|r| &r["note"]).collect();
    let truth_notes: Vec<&Value> = one["receipts"].as_array().unwrap().iter().map(|r| &r["note"]).collect();
    assert_eq!(notes, truth_notes, "the receipts, oldest first");
    let attachments = ask_ok(&mut browser, &app, &json!({"type": "document_get", "cusCiqNo": cus, "kind": "attachments"}));
    assert_eq!(attachments["content"].as_array().unwrap().len(), one["attachments"].as_array().unwrap().len());
    let pdf = ask_ok(&mut browser, &app, &json!({"type": "document_get", "cusCiqNo": cus, "kind": "pdf"}));
    let bytes = base64::engine::general_purpose::STANDARD.decode(pdf["base64"].as_str().unwrap()).unwrap();
    assert_eq!(Some(bytes), sim.pdf(0, cus));

    // The pages: 详情's fourth count, 预览's receipts timeline.
    let n = want.len();
    browser.eval(&app, &format!("location.hash = {}; true", json!(format!("#/task/{task}/detail")))).unwrap();
    let fourth = format!("(document.getElementById('total-documents') || {{}}).textContent === '{n} / {n}'");
    browser.wait_for(&app, &fourth, Duration::from_secs(20)).unwrap();
    browser.eval(&app, &format!("location.hash = {}; true", json!(format!("#/declaration/{cus}")))).unwrap();
    let rows = format!("document.querySelectorAll('#receipts tbody tr').length === {}", truth_notes.len());
    browser.wait_for(&app, &rows, Duration::from_secs(20)).unwrap();
    browser.eval(&app, "location.hash = '#/records'; true").unwrap();
    let record = format!(
        "(document.querySelector('[data-task=\"{task}\"] [data-count=documents]') || {{}}).textContent === '（打印件 {n}/{n}）'"
    );
    browser.wait_for(&app, &record, Duration::from_secs(20)).unwrap();

    // 2. The ZIP of the task: every PDF named by its 报关单号, hash-equal to the truth.
    let zip = ask_ok(&mut browser, &app, &json!({"type": "documents_export", "task": task}));
    assert_eq!(zip["files"], json!(want.len()));
    let bytes = base64::engine::general_purpose::STANDARD.decode(zip["base64"].as_str().unwrap()).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(archive.len(), want.len() + 1);
    for (entry_id, sha) in want.values() {
        let mut body = Vec::new();
        archive.by_name(&format!("{entry_id}.pdf")).unwrap().read_to_end(&mut body).unwrap();
        assert_eq!(&hex(&body), sha, "{entry_id}");
    }
    let mut index = String::new();
    archive.by_name("index.csv").unwrap().read_to_string(&mut index).unwrap();
    assert!(index.starts_with("\u{feff}统一编号,报关单号,进出口,申报日期,状态,SHA-256,文件"));
    let listed: BTreeSet<&str> = index.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(listed, want.keys().map(String::as_str).collect::<BTreeSet<_>>());

    // 2b. The same PDFs, month by month (a month's ZIP spans tasks): together exactly the task's.
    let mut by_month: BTreeSet<String> = BTreeSet::new();
    let mut month = range.first.first_of_month();
    while month <= range.last {
        let key = format!("{:04}-{:02}", month.year(), month.month());
        let zip = ask_ok(&mut browser, &app, &json!({"type": "documents_export", "month": key}));
        let bytes = base64::engine::general_purpose::STANDARD.decode(zip["base64"].as_str().unwrap()).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).unwrap();
            let name = file.name().unwrap().into_owned();
            if name == "index.csv" {
                continue;
            }
            let mut body = Vec::new();
            file.read_to_end(&mut body).unwrap();
            let entry_id = name.trim_end_matches(".pdf").to_owned();
            let sha = want.values().find(|(e, _)| *e == entry_id).map(|(_, sha)| sha.clone());
            assert_eq!(sha.as_deref(), Some(hex(&body).as_str()), "{key}: {name}");
            assert!(by_month.insert(entry_id), "{name} in two months");
        }
        month = month.last_of_month().add_days(1);
    }
    assert_eq!(by_month.len(), want.len(), "the months' ZIPs hold every print once");

    // 3. A task synced without documents (the year before), then its 补采.
    let earlier = DateRange::new(today().add_days(-730), today().add_days(-366)).unwrap();
    let want_earlier = expected(&sim, earlier);
    assert!(!want_earlier.is_empty());
    let old = ask_ok(&mut browser, &app, &start_request(&sim.base_url(), earlier, &TEST_SETTINGS))["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let status = wait_done(&mut browser, &app, Duration::from_secs(300), false, &mut relogin).unwrap();
    assert_eq!(status["state"], json!("completed"), "{status}");
    assert_eq!(status["report"].get("documents"), None, "no fourth count without documents");
    assert_eq!(pdf_files(&documents).len(), want.len(), "no documents fetched for it");
    ask_ok(&mut browser, &app, &json!({"type": "documents_fetch", "task": old}));
    let status = wait_done(&mut browser, &app, Duration::from_secs(300), true, &mut relogin).unwrap();
    assert_fourth_count(&status, want_earlier.len());
    assert_pdfs_on_disk(&sim, &documents, &want_earlier);
    assert_eq!(pdf_files(&documents).len(), want.len() + want_earlier.len());
    // Expired sessions were ridden out, at least once in a documents phase.
    assert!(logins >= 2, "sessions expired and were renewed ({logins})");
    let mut paused_in_documents = 0;
    for t in [&task, &old] {
        let log = ask_ok(&mut browser, &app, &json!({"type": "task_log", "task": t}));
        paused_in_documents += log["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["message"].as_str().unwrap().contains("暂停下载报关单打印件"))
            .count();
    }
    assert!(paused_in_documents >= 1, "a session expired during a documents phase");
}
