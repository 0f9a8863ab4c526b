//! Issue #10 end to end, several enterprises in one store: portal-sim with two enterprises and a
//! customs broker (each its own card PIN); one browser, one store file. Enterprise A syncs, the
//! card is swapped for B's (its cookies cleared, B logs in), B syncs, then the broker syncs as
//! 报关申报单位. Each enterprise's export (`datalink-host export --enterprise`), 协同记录 (the
//! `task_records` page request with the filter) and trade value figures (`report trade-value
//! --json --enterprise`) must hold exactly its own declarations of the portal's truth; the
//! broker's hold exactly its clients' declarations where it is the 申报单位, and no certificate
//! is made over them; switching the active enterprise in the header changes 协同记录's rows.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use datalink_core::calendar::Date;
use datalink_core::period::DateRange;
use datalink_e2e::{today, start_request, wait_done, Browser, Dist, LaunchOptions, Page, Sim, SyncSettings};
use portal_sim::{EnterpriseSpec, SimConfig};
use serde_json::{json, Value};

const SETTINGS: SyncSettings = SyncSettings {
    concurrency: 4,
    rate_per_second: 1000.0,
    page_size: 100,
    request_timeout_ms: 2500,
};
const PIN_A: &str = "88888888";
const PIN_B: &str = "22222222";
const PIN_BROKER: &str = "33333333";


/// The declarations of enterprise `index` (portal-sim truth `enterprises[index]`) in `range`,
/// 结关, on which it has `role`.
fn truth_of(truth: &Value, index: usize, range: DateRange, role: &str) -> BTreeSet<String> {
    truth["enterprises"][index]["declarations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            let day = d["queryDate"].as_str().and_then(|s| s.parse::<Date>().ok());
            day.is_some_and(|day| range.contains(day))
                && d["cusDecStatus"] == json!("10")
                && d["etpsCategory"]
                    .as_array()
                    .is_some_and(|roles| roles.contains(&json!(role)))
        })
        .map(|d| d["cusCiqNo"].as_str().unwrap().to_owned())
        .collect()
}

fn host(dist: &Dist, db: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(dist.root.join("host/datalink-host"))
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `datalink-host export --enterprise SCC`: the 统一编号 exported, checked for duplicates.
fn exported(dist: &Dist, db: &Path, scc: &str) -> BTreeSet<String> {
    let (ok, stdout, stderr) = host(
        dist,
        db,
        &["export", "--format", "jsonl", "--enterprise", scc],
    );
    assert!(ok, "{stderr}");
    let ids: Vec<String> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["cusCiqNo"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(
        ids.len(),
        unique.len(),
        "the export of {scc} has duplicates"
    );
    unique
}

/// Logs the browser in as the enterprise of `pin` (the card in the reader changed).
fn log_in_as(browser: &mut Browser, sim: &portal_sim::RunningSim, pin: &str) {
    browser
        .call("Storage.clearCookies", json!({}), None)
        .unwrap();
    let page = browser.portal_login(&sim.login_url(), pin).unwrap();
    browser.close(&page).unwrap();
}

/// Runs one sync of `range` in `role` to its end; its task number.
fn sync(
    browser: &mut Browser,
    app: &Page,
    sim: &portal_sim::RunningSim,
    range: DateRange,
    role: &str,
) -> String {
    let mut request = start_request(&sim.base_url(), range, &SETTINGS);
    request["conditions"]["role"] = json!(role);
    let started = browser.ask(app, &request).unwrap();
    assert_eq!(started["ok"], json!(true), "{started}");
    let task = started["result"]["number"].as_str().unwrap().to_owned();
    let status = wait_done(browser, app, Duration::from_secs(300), false, |_, _| {}).unwrap();
    assert_eq!(status["state"], json!("completed"), "{status}");
    task
}

fn records(browser: &mut Browser, app: &Page, scc: &str) -> Vec<String> {
    let reply = browser
        .ask(
            app,
            &json!({ "type": "task_records", "enterprise": scc, "pageSize": 50 }),
        )
        .unwrap();
    assert_eq!(reply["ok"], json!(true), "{reply}");
    reply["result"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_str().unwrap().to_owned())
        .collect()
}

fn wait(browser: &mut Browser, page: &Page, expression: &str) {
    browser.wait_explained(page, expression, Duration::from_secs(30), None).unwrap();
}

/// A new extension page on 协同记录.
fn records_page(browser: &mut Browser) -> Page {
    let page = browser.open_app().unwrap();
    browser
        .eval(
            &page,
            "document.body.dataset.rendered = ''; location.hash = '#/records'; true",
        )
        .unwrap();
    page
}

/// The task numbers 协同记录 shows, once it is drawn with `scc` active.
fn records_shown(browser: &mut Browser, page: &Page, scc: &str) -> Vec<String> {
    wait(
        browser,
        page,
        &format!(
            "document.body.dataset.rendered === 'records:1' && document.getElementById('enterprise-active')?.dataset.scc === {}",
            json!(scc)
        ),
    );
    let rows = browser.eval(page, "[...document.querySelectorAll('#records-body tr[data-task]')].map(r => r.dataset.task)").unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn two_enterprises_and_a_broker_in_one_store_never_mix() {
    let dist = Dist::locate().unwrap();
    let config = SimConfig {
        seed: 47,
        declarations: 360,
        pin: PIN_A.into(),
        extra_enterprises: vec![
            EnterpriseSpec {
                pin: PIN_B.into(),
                declarations: 240,
                ..EnterpriseSpec::default()
            },
            EnterpriseSpec {
                pin: PIN_BROKER.into(),
                declarations: 0,
                broker: true,
                broker_share: 0.5,
                ..EnterpriseSpec::default()
            },
        ],
        ..SimConfig::default()
    };
    let sim = Sim::start(config).unwrap();
    let year = today().year() - 1;
    let range = DateRange::new(
        Date::new(year, 1, 1).unwrap(),
        Date::new(year, 6, 30).unwrap(),
    )
    .unwrap();
    let truth = serde_json::to_value(sim.truth()).unwrap();
    let names: Vec<(String, String)> = (0..3)
        .map(|i| {
            let e = &truth["enterprises"][i]["enterprise"];
            (
                e["name"].as_str().unwrap().to_owned(),
                e["scc"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let (scc_a, scc_b, scc_broker) = (names[0].1.clone(), names[1].1.clone(), names[2].1.clone());
    let want_a = truth_of(&truth, 0, range, "C");
    let want_b = truth_of(&truth, 1, range, "C");
    let want_broker = truth_of(&truth, 2, range, "A");
    assert!(
        want_a.len() > 5 && want_b.len() > 5 && want_broker.len() > 5,
        "{} {} {}",
        want_a.len(),
        want_b.len(),
        want_broker.len()
    );
    println!(
        "in scope: A {}, B {}, the broker {}",
        want_a.len(),
        want_b.len(),
        want_broker.len()
    );
    assert!(
        want_broker.iter().any(|id| want_a.contains(id))
            && want_broker.iter().any(|id| want_b.contains(id)),
        "the broker declares for both"
    );

    // One browser, one store: A, then B, then the broker.
    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    browser.portal_login(&sim.login_url(), PIN_A).unwrap();
    let app = browser.open_app().unwrap();
    let task_a = sync(&mut browser, &app, &sim, range, "C");
    log_in_as(&mut browser, &sim, PIN_B);
    let task_b = sync(&mut browser, &app, &sim, range, "C");
    log_in_as(&mut browser, &sim, PIN_BROKER);
    let task_broker = sync(&mut browser, &app, &sim, range, "A");
    let db = browser.db().to_owned();

    // The store knows the three, with the desktop's names and codes.
    let listed = browser
        .ask(&app, &json!({ "type": "enterprises" }))
        .unwrap();
    assert_eq!(listed["ok"], json!(true), "{listed}");
    let enterprises = listed["result"]["enterprises"].as_array().unwrap();
    let seen: Vec<(&str, &str, u64)> = enterprises
        .iter()
        .map(|e| {
            (
                e["scc"].as_str().unwrap(),
                e["name"].as_str().unwrap(),
                e["tasks"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (scc_broker.as_str(), names[2].0.as_str(), 1),
            (scc_b.as_str(), names[1].0.as_str(), 1),
            (scc_a.as_str(), names[0].0.as_str(), 1)
        ],
        "newest first"
    );
    assert_eq!(
        enterprises[2]["code"],
        truth["enterprises"][0]["enterprise"]["customsCode"]
    );

    // Exports: exactly each one's own declarations.
    assert_eq!(exported(&dist, &db, &scc_a), want_a);
    assert_eq!(exported(&dist, &db, &scc_b), want_b);
    assert_eq!(
        exported(&dist, &db, &scc_broker),
        want_broker,
        "the broker's view: its clients' declarations where it is 申报单位"
    );

    // 协同记录 with the filter.
    assert_eq!(records(&mut browser, &app, &scc_a), vec![task_a.clone()]);
    assert_eq!(records(&mut browser, &app, &scc_b), vec![task_b.clone()]);
    assert_eq!(
        records(&mut browser, &app, &scc_broker),
        vec![task_broker.clone()]
    );

    // 预览 of the active enterprise: another one's declaration is not there.
    let only_b = want_b.iter().find(|id| !want_broker.contains(*id)).unwrap();
    for (scc, found) in [
        (&scc_b, json!(only_b)),
        (&scc_a, Value::Null),
        (&scc_broker, Value::Null),
    ] {
        let reply = browser
            .ask(
                &app,
                &json!({ "type": "declaration_get", "cusCiqNo": only_b, "enterprise": scc }),
            )
            .unwrap();
        assert_eq!(reply["ok"], json!(true), "{reply}");
        let shown = if reply["result"].is_null() {
            Value::Null
        } else {
            reply["result"]["cusCiqNo"].clone()
        };
        assert_eq!(shown, found, "{only_b} under {scc}");
    }

    // Figures and certificate inputs per enterprise; none for the broker.
    let (from, to) = (format!("{year}01"), format!("{year}06"));
    for (scc, name, want) in [
        (&scc_a, &names[0].0, &want_a),
        (&scc_b, &names[1].0, &want_b),
    ] {
        let (ok, stdout, stderr) = host(
            &dist,
            &db,
            &[
                "report",
                "trade-value",
                "--json",
                "--from",
                &from,
                "--to",
                &to,
                "--enterprise",
                scc,
            ],
        );
        assert!(ok, "{stderr}");
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["declarations"], json!(want.len()), "{scc}");
        assert_eq!(
            (&report["company"], &report["creditCode"]),
            (&json!(name), &json!(scc))
        );
    }
    let (ok, _, stderr) = host(
        &dist,
        &db,
        &[
            "report",
            "trade-value",
            "--json",
            "--from",
            &from,
            "--to",
            &to,
            "--enterprise",
            &scc_broker,
        ],
    );
    assert!(!ok, "no certificate over a broker's data");
    assert!(stderr.contains("报关申报单位"), "{stderr}");

    // The header: the newest sync's enterprise is active; switching changes 协同记录.
    let page = records_page(&mut browser);
    assert_eq!(
        records_shown(&mut browser, &page, &scc_broker),
        vec![task_broker.clone()]
    );
    let header = browser
        .eval(
            &page,
            "document.getElementById('enterprise-active').textContent",
        )
        .unwrap();
    assert!(
        header.as_str().unwrap().contains(&names[2].0)
            && header.as_str().unwrap().contains(&scc_broker),
        "{header}"
    );
    browser
        .eval(
            &page,
            &format!(
                "document.body.dataset.rendered = ''; const s = document.getElementById('enterprise-switch'); s.value = {}; \
                 s.dispatchEvent(new Event('change')); true",
                json!(scc_a)
            ),
        )
        .unwrap();
    assert_eq!(
        records_shown(&mut browser, &page, &scc_a),
        vec![task_a.clone()]
    );
    // Remembered (`chrome.storage.local`): a new page shows A again.
    let again = records_page(&mut browser);
    assert_eq!(records_shown(&mut browser, &again, &scc_a), vec![task_a]);
}
