//! Issue #4 end to end: real headless Chromium + the extension (Rust/wasm collector) + the
//! native host (SQLite store) + portal-sim. Each test compares the host's export with the
//! simulator's ground truth for the task's scope: nothing lost, nothing duplicated.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use datalink_core::calendar::Date;
use datalink_core::period::DateRange;
use datalink_e2e::{export, start_request, wait_done, Browser, Dist, LaunchOptions, SyncSettings};
use portal_sim::{FaultSpec, RunningSim, SimConfig};
use serde_json::json;

const TEST_SETTINGS: SyncSettings = SyncSettings { concurrency: 4, rate_per_second: 1000.0, page_size: 100, request_timeout_ms: 2500 };

struct Sim {
    sim: RunningSim,
    _runtime: tokio::runtime::Runtime,
}

fn today() -> Date {
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 86_400;
    Date::from_day_number(days as i64)
}

fn start_sim(declarations: usize, seed: u64, faults: &str) -> Sim {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let config = SimConfig {
        admin: true,
        seed,
        declarations,
        today: Some(today().to_string().parse().unwrap()),
        faults: faults.parse::<FaultSpec>().unwrap(),
        ..SimConfig::default()
    };
    let sim = runtime.block_on(portal_sim::start(config)).unwrap();
    Sim { sim, _runtime: runtime }
}

fn truth_in_scope(sim: &RunningSim, range: DateRange) -> BTreeSet<String> {
    datalink_e2e::truth_in_scope(&serde_json::to_value(sim.truth()).unwrap(), range)
}

fn assert_export_matches(dist: &Dist, browser: &Browser, task: &str, expected: &BTreeSet<String>) {
    let rows = export(dist, browser.db(), task).unwrap();
    let ids: Vec<String> = rows.iter().map(|r| r["cusCiqNo"].as_str().unwrap().to_owned()).collect();
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), unique.len(), "the export has duplicates");
    let missing: Vec<_> = expected.difference(&unique).collect();
    let extra: Vec<_> = unique.difference(expected).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?} extra {extra:?}");
    assert!(rows.iter().all(|r| !r["goods"].as_array().unwrap().is_empty()), "every declaration has its goods lines");
}

#[test]
fn a_three_year_sync_equals_the_portal_exactly() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(700, 11, "");
    let range = DateRange::past_years(today(), 3);
    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    browser.portal_login(&sim.sim.login_url(), "88888888").unwrap();
    let app = browser.open_app().unwrap();
    let started = browser.ask(&app, &start_request(&sim.sim.base_url(), range, &TEST_SETTINGS)).unwrap();
    assert_eq!(started["ok"], json!(true), "{started}");
    let task = started["result"]["number"].as_str().unwrap().to_owned();
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
    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    browser.portal_login(&sim.sim.login_url(), "88888888").unwrap();
    let app = browser.open_app().unwrap();
    let started = browser.ask(&app, &start_request(&sim.sim.base_url(), range, &TEST_SETTINGS)).unwrap();
    assert_eq!(started["ok"], json!(true), "{started}");
    let task = started["result"]["number"].as_str().unwrap().to_owned();
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
