//! Issue #4 end to end: real headless Chromium + the extension (Rust/wasm collector) + the
//! native host (SQLite store) + portal-sim. Each test compares the host's export with the
//! simulator's ground truth for the task's scope: nothing lost, nothing duplicated.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use datalink_core::period::DateRange;
use datalink_e2e::{assert_export_matches, today, Sim, start_request, wait_done, Browser, Dist, LaunchOptions, Page, SyncSettings};
use portal_sim::{FaultSpec, RunningSim, SimConfig};
use serde_json::json;

const TEST_SETTINGS: SyncSettings = SyncSettings { concurrency: 4, rate_per_second: 1000.0, page_size: 100, request_timeout_ms: 2500 };



fn start_sim(declarations: usize, seed: u64, faults: &str) -> Sim {
    let config = SimConfig {
        seed,
        declarations,
        faults: faults.parse::<FaultSpec>().unwrap(),
        ..SimConfig::default()
    };
    Sim::start(config).unwrap()
}

fn truth_in_scope(sim: &RunningSim, range: DateRange) -> BTreeSet<String> {
    datalink_e2e::truth_in_scope(&serde_json::to_value(sim.truth()).unwrap(), range)
}

#[test]
fn a_three_year_sync_equals_the_portal_exactly() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(700, 11, "");
    let range = DateRange::past_years(today(), 3);
    let (mut browser, app) = logged_in(&dist, &sim);
    let task = start(&mut browser, &app, &start_request(&sim.sim.base_url(), range, &TEST_SETTINGS));
    assert_eq!(task.len(), 17);
    let status = wait_done(&mut browser, &app, Duration::from_secs(300), true, |_, _| {}).unwrap();
    assert_eq!(status["state"], json!("completed"), "{status}");
    let report = &status["report"];
    let expected = truth_in_scope(&sim.sim, range);
    assert_eq!(report["periods"].as_array().unwrap().len(), 37);
    for p in report["periods"].as_array().unwrap() {
        let c = &p["counts"];
        assert!(c["queried"] == c["hit"] && c["hit"] == c["reconciled"], "{p}");
    }
    assert_eq!(report["total"]["reconciled"], json!(expected.len()));
    assert_export_matches(&dist, &browser, &task, &expected);
    let stats = serde_json::to_value(sim.sim.stats()).unwrap();
    println!("portal requests: {stats}");
}

#[test]
fn faults_expiries_shifts_and_two_host_kills_lose_nothing() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(700, 12, "5xx=0.05,hang=0.01,hang_ms=4000,garbage=0.01,html=0.01,expire_every=600,shift=5");
    let range = DateRange::past_years(today(), 3);
    let (mut browser, app) = logged_in(&dist, &sim);
    let task = start(&mut browser, &app, &start_request(&sim.sim.base_url(), range, &TEST_SETTINGS));
    let (mut kills, mut logins) = (0, 0);
    let login_url = sim.sim.login_url();
    let status = wait_done(&mut browser, &app, Duration::from_secs(600), true, |browser, status| {
        let reconciled = status["reconciled"].as_u64().unwrap();
        if (kills == 0 && reconciled > 150) || (kills == 1 && reconciled > 350) {
            let pids = browser.host_pids();
            assert!(!pids.is_empty(), "no host process to kill");
            for pid in pids {
                Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
            }
            kills += 1;
            println!("  -- killed the host ({kills})");
        }
        if status["paused"] == json!(true) {
            let page = browser.portal_login(&login_url, "88888888").unwrap();
            browser.close(&page).unwrap();
            logins += 1;
            println!("  -- logged in again ({logins})");
        }
    })
    .unwrap();
    assert_eq!(status["state"], json!("completed"), "{status}");
    assert_eq!(kills, 2, "the host was killed twice");
    assert!(logins >= 2, "two session expiries were ridden out ({logins})");
    assert_export_matches(&dist, &browser, &task, &truth_in_scope(&sim.sim, range));
}

/// A browser with the extension and the host, logged in to the simulator, on the app page.
fn logged_in(dist: &Dist, sim: &Sim) -> (Browser, Page) {
    let mut browser = Browser::launch(&LaunchOptions::for_dist(dist)).unwrap();
    browser.portal_login(&sim.sim.login_url(), "88888888").unwrap();
    let app = browser.open_app().unwrap();
    (browser, app)
}

/// 启动协同服务: sends `request` and returns the new task's number.
fn start(browser: &mut Browser, app: &Page, request: &serde_json::Value) -> String {
    let started = browser.ask(app, request).unwrap();
    assert_eq!(started["ok"], json!(true), "{started}");
    started["result"]["number"].as_str().unwrap().to_owned()
}

fn settings_json() -> serde_json::Value {
    json!({ "concurrency": 4, "ratePerSecond": 1000.0, "pageSize": 100, "requestTimeoutMs": 2500 })
}

fn stats(sim: &Sim) -> serde_json::Value {
    serde_json::to_value(sim.sim.stats()).unwrap()
}

#[test]
fn expired_sessions_are_renewed_with_the_card_pin() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(400, 13, "expire_every=250");
    let range = DateRange::past_years(today(), 2);
    let (mut browser, app) = logged_in(&dist, &sim);
    let mut request = start_request(&sim.sim.base_url(), range, &TEST_SETTINGS);
    request["pin"] = json!("88888888");
    let task = start(&mut browser, &app, &request);
    let status = wait_done(&mut browser, &app, Duration::from_secs(300), true, |_, _| {}).unwrap();
    assert_eq!(status["state"], json!("completed"), "{status}");
    let s = stats(&sim);
    assert!(s["sessionsExpired"].as_u64().unwrap() >= 2, "{s}");
    assert!(s["sessionsCreated"].as_u64().unwrap() >= 3, "logged in again by itself: {s}");
    assert_eq!(s["failedLogins"], json!(0));
    assert_export_matches(&dist, &browser, &task, &truth_in_scope(&sim.sim, range));
    // The PIN is nowhere in what the task stored.
    let log = browser.ask(&app, &json!({ "type": "task_log", "task": task })).unwrap();
    assert!(!log.to_string().contains("88888888"));
    assert!(log.to_string().contains("自动重新登录"));
}

#[test]
fn a_pin_the_card_refused_is_typed_once_and_never_again() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(300, 14, "expire_every=150");
    let range = DateRange::past_years(today(), 1);
    let (mut browser, app) = logged_in(&dist, &sim);
    let mut request = start_request(&sim.sim.base_url(), range, &TEST_SETTINGS);
    request["pin"] = json!("12345678");
    let task = start(&mut browser, &app, &request);
    let login_url = sim.sim.login_url();
    let mut saw_refusal = false;
    let status = wait_done(&mut browser, &app, Duration::from_secs(300), true, |browser, status| {
        saw_refusal |= status["lines"].to_string().contains("卡介质口令被拒绝");
        if saw_refusal && status["paused"] == json!(true) {
            let page = browser.portal_login(&login_url, "88888888").unwrap();
            browser.close(&page).unwrap();
        }
    })
    .unwrap();
    assert!(saw_refusal, "the refusal was reported in the log");
    assert_eq!(status["state"], json!("completed"), "{status}");
    assert_eq!(stats(&sim)["failedLogins"], json!(1), "the refused PIN was typed exactly once");
    assert_export_matches(&dist, &browser, &task, &truth_in_scope(&sim.sim, range));
}

#[test]
fn cancel_takes_effect_within_two_seconds_and_the_task_resumes() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(500, 15, "");
    let range = DateRange::past_years(today(), 3);
    let (mut browser, app) = logged_in(&dist, &sim);
    let slow = SyncSettings { concurrency: 2, rate_per_second: 60.0, ..TEST_SETTINGS };
    let started = browser.ask(&app, &start_request(&sim.sim.base_url(), range, &slow)).unwrap();
    let task = started["result"]["number"].as_str().unwrap().to_owned();
    let mut cancelled_at = None;
    let status = wait_done(&mut browser, &app, Duration::from_secs(300), false, |browser, status| {
        if cancelled_at.is_none() && status["reconciled"].as_u64().unwrap() > 60 {
            let reply = browser.ask(&app, &json!({ "type": "sync_cancel" })).unwrap();
            assert_eq!(reply["ok"], json!(true), "{reply}");
            cancelled_at = Some(std::time::Instant::now());
        }
    })
    .unwrap();
    let took = cancelled_at.expect("cancelled").elapsed();
    assert_eq!(status["state"], json!("cancelled"), "{status}");
    assert!(took < Duration::from_secs(2) + Duration::from_millis(500), "cancel took {took:?}");
    let partial = status["reconciled"].as_u64().unwrap();
    let expected = truth_in_scope(&sim.sim, range);
    assert!(partial < expected.len() as u64);
    let details_before = stats(&sim)["byRoute"]["queryDecData"]["requests"].as_u64().unwrap();

    let resumed = browser.ask(&app, &json!({ "type": "sync_resume", "task": task, "settings": settings_json() })).unwrap();
    assert_eq!(resumed["ok"], json!(true), "{resumed}");
    let status = wait_done(&mut browser, &app, Duration::from_secs(300), false, |_, _| {}).unwrap();
    assert_eq!(status["state"], json!("completed"), "{status}");
    assert_export_matches(&dist, &browser, &task, &expected);
    let details = stats(&sim)["byRoute"]["queryDecData"]["requests"].as_u64().unwrap();
    assert!(details <= expected.len() as u64 + 4, "resuming previewed at most what was in flight again: {details} for {}", expected.len());
    assert!(details_before > 0);
}

#[test]
fn a_single_lookup_by_each_number() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(300, 16, "");
    let truth = serde_json::to_value(sim.sim.truth()).unwrap();
    let target = truth["declarations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["cusDecStatus"] == json!("10") && d["entryId"].is_string() && d["etpsCategory"].as_array().unwrap().contains(&json!("C")))
        .unwrap()
        .clone();
    let id = target["cusCiqNo"].as_str().unwrap().to_owned();
    let (mut browser, app) = logged_in(&dist, &sim);
    for (by, value) in [("cus_ciq_no", &target["cusCiqNo"]), ("entry_id", &target["entryId"]), ("bill_no", &target["billNo"])] {
        let range = DateRange::past_years(today(), 3);
        let mut request = start_request(&sim.sim.base_url(), range, &TEST_SETTINGS);
        request["conditions"]["lookup"] = json!({ "by": by, "value": value });
        let started = browser.ask(&app, &request).unwrap();
        assert_eq!(started["ok"], json!(true), "{by}: {started}");
        let task = started["result"]["number"].as_str().unwrap().to_owned();
        let status = wait_done(&mut browser, &app, Duration::from_secs(120), false, |_, _| {}).unwrap();
        assert_eq!(status["state"], json!("completed"), "{by}: {status}");
        assert_export_matches(&dist, &browser, &task, &BTreeSet::from([id.clone()]));
    }
}

#[test]
fn the_browser_closed_mid_task_resumes_in_a_new_browser() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(600, 17, "");
    let range = DateRange::past_years(today(), 3);
    let db = std::env::temp_dir().join(format!("datalink-e2e-reopen-{}.db", std::process::id()));
    let mut options = LaunchOptions::for_dist(&dist);
    options.db = Some(db.clone());
    let task = {
        let mut browser = Browser::launch(&options).unwrap();
        browser.portal_login(&sim.sim.login_url(), "88888888").unwrap();
        let app = browser.open_app().unwrap();
        let slow = SyncSettings { concurrency: 2, rate_per_second: 80.0, ..TEST_SETTINGS };
        let started = browser.ask(&app, &start_request(&sim.sim.base_url(), range, &slow)).unwrap();
        let task = started["result"]["number"].as_str().unwrap().to_owned();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let status = browser.ask(&app, &json!({ "type": "sync_status", "after_seq": 9_000_000_000u64 })).unwrap();
            if status["result"]["reconciled"].as_u64().unwrap() > 150 {
                break;
            }
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(200));
        }
        task
        // The browser is killed here (drop), mid-task; its host sees EOF and exits.
    };
    let mut browser = Browser::launch(&options).unwrap();
    browser.portal_login(&sim.sim.login_url(), "88888888").unwrap();
    let app = browser.open_app().unwrap();
    // The new worker resumes the interrupted task by itself once the portal session is there
    // (its start-up check); if it has not yet, 断点续查 does it.
    let mut resumed = browser.ask(&app, &json!({ "type": "sync_resume", "task": task, "settings": settings_json() })).unwrap();
    if resumed["error"]["code"] == json!(1201) {
        // Resumed by itself, at the gentle default pace: stop it and go on at the test's pace.
        let cancel = browser.ask(&app, &json!({ "type": "sync_cancel" })).unwrap();
        assert_eq!(cancel["ok"], json!(true), "{cancel}");
        let stopped = wait_done(&mut browser, &app, Duration::from_secs(10), false, |_, _| {}).unwrap();
        assert_eq!(stopped["state"], json!("cancelled"), "{stopped}");
        assert_eq!(stopped["task"], json!(task), "the interrupted task itself had been resumed");
        resumed = browser.ask(&app, &json!({ "type": "sync_resume", "task": task, "settings": settings_json() })).unwrap();
    }
    assert_eq!(resumed["ok"], json!(true), "{resumed}");
    let status = wait_done(&mut browser, &app, Duration::from_secs(300), false, |_, _| {}).unwrap();
    assert_eq!(status["state"], json!("completed"), "{status}");
    assert_eq!(status["task"], json!(task), "the interrupted task itself was resumed");
    let expected = truth_in_scope(&sim.sim, range);
    assert_export_matches(&dist, &browser, &task, &expected);
    let details = stats(&sim)["byRoute"]["queryDecData"]["requests"].as_u64().unwrap();
    // Two interruptions: the killed browser (2 in flight + 2 awaiting their commit) and, when
    // the new worker resumed by itself, the cancel (3 + 2).
    assert!(details <= expected.len() as u64 + 9, "at most what was in flight was previewed again: {details} for {}", expected.len());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

#[test]
fn a_second_task_over_reconciled_months_only_fetches_what_changed() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(300, 18, "");
    let range = DateRange::past_years(today(), 1);
    let (mut browser, app) = logged_in(&dist, &sim);
    let run = |browser: &mut Browser| -> String {
        let started = browser.ask(&app, &start_request(&sim.sim.base_url(), range, &TEST_SETTINGS)).unwrap();
        assert_eq!(started["ok"], json!(true), "{started}");
        let status = wait_done(browser, &app, Duration::from_secs(300), false, |_, _| {}).unwrap();
        assert_eq!(status["state"], json!("completed"), "{status}");
        started["result"]["number"].as_str().unwrap().to_owned()
    };
    run(&mut browser);
    let details_first = stats(&sim)["byRoute"]["queryDecData"]["requests"].as_u64().unwrap();
    let second = run(&mut browser);
    let details_second = stats(&sim)["byRoute"]["queryDecData"]["requests"].as_u64().unwrap() - details_first;
    assert_eq!(details_second, 0, "nothing changed, so nothing was previewed again");
    assert_export_matches(&dist, &browser, &second, &truth_in_scope(&sim.sim, range));
}
