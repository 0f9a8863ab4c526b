//! Issue #10, 自动协同 end to end: real headless Chromium + the extension + the host +
//! portal-sim. The schedule is saved through 报关单协同's 自动协同 block; the test then fires
//! the alarm itself (`chrome.alarms.create(NAME, {when: now})` from the extension page — the
//! worker's `onAlarm` listener runs exactly as at the scheduled time) and checks that:
//!
//! 1. a task runs on its own (no page asks for it), completes, covers the recent months with the
//!    certificate's conditions, is recorded with the operator 自动协同, and a desktop
//!    notification was created for its end;
//! 2. after declarations changed in portal-sim (its `shift` fault), a second firing previews
//!    only the declarations that changed (portal-sim's detail requests);
//!    a session that expires during an automatic task pauses it (no PIN is ever stored) and a
//!    notification asks the user to log in; logged in again, the task completes;
//! 3. firing while a task runs starts no second task (recorded as skipped);
//! 4. firing while logged out starts no task and creates the "please log in" notification.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::Duration;

use datalink_core::period::DateRange;
use datalink_core::view::schedule::{Repeat, Schedule, ALARM_NAME, AUTO_OPERATOR, LAST_RUN_KEY};
use datalink_e2e::{today, start_request, wait_done, Browser, Dist, LaunchOptions, Page, Sim, SyncSettings};
use portal_sim::{FaultSpec, RunningSim, SimConfig};
use serde_json::{json, Value};


fn start_sim() -> Sim {
    Sim::start(SimConfig { seed: 31, declarations: 700, ..SimConfig::default() }).unwrap()
}

fn details(sim: &RunningSim) -> u64 {
    serde_json::to_value(sim.stats()).unwrap()["byRoute"]["queryDecData"]["requests"]
        .as_u64()
        .unwrap_or(0)
}

fn wait(browser: &mut Browser, page: &Page, expression: &str, secs: u64) -> Value {
    browser.wait_explained(page, expression, Duration::from_secs(secs), None).unwrap()
}

/// Fires the schedule's alarm now and returns what the worker recorded (`scheduleLast`).
fn fire(browser: &mut Browser, app: &Page) -> Value {
    let key = json!(LAST_RUN_KEY);
    browser
        .eval(
            app,
            &format!("chrome.storage.local.remove({key}).then(() => true)"),
        )
        .unwrap();
    browser
        .eval(
            app,
            &format!(
                "chrome.alarms.create({}, {{ when: Date.now() }}); true",
                json!(ALARM_NAME)
            ),
        )
        .unwrap();
    wait(
        browser,
        app,
        &format!("chrome.storage.local.get({key}).then(items => items[{key}] || null)"),
        60,
    )
}

/// The ids of the extension's notifications on screen.
fn notifications(browser: &mut Browser, app: &Page) -> Vec<String> {
    let all = browser.eval(app, "chrome.notifications.getAll()").unwrap();
    all.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn the_scheduled_sync_runs_by_itself_fetches_only_what_changed_and_notifies() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim();
    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    let login = browser.portal_login(&sim.login_url(), "88888888").unwrap();
    browser.close(&login).unwrap();
    let app = browser.open_app().unwrap();

    // The settings, as a user saves them on 报关单协同 → 自动协同 (weekly, Wednesday 03:15, three months).
    browser
        .eval(
            &app,
            "document.body.dataset.rendered = ''; location.hash = '#/sync'; true",
        )
        .unwrap();
    wait(
        &mut browser,
        &app,
        "document.body.dataset.rendered.startsWith('sync') && !!document.getElementById('s-save')",
        30,
    );
    browser.fill(&app, "#f-portal", &sim.base_url()).unwrap();
    browser.fill(&app, "#s-repeat", "weekly").unwrap();
    browser.fill(&app, "#s-weekday", "3").unwrap();
    browser.fill(&app, "#s-time", "03:15").unwrap();
    browser.fill(&app, "#s-months", "3").unwrap();
    browser.click(&app, "#s-save").unwrap();
    let saved = wait(
        &mut browser,
        &app,
        "chrome.storage.local.get('schedule').then(items => items.schedule || null)",
        10,
    );
    let schedule: Schedule = serde_json::from_value(saved).unwrap();
    assert_eq!(
        (
            schedule.repeat,
            schedule.weekday,
            schedule.hour,
            schedule.minute,
            schedule.months
        ),
        (Repeat::Weekly, 3, 3, 15, 3)
    );
    assert_eq!(schedule.portal, sim.base_url());
    let confirmation = browser
        .text_of(&app, "#s-state")
        .unwrap()
        .unwrap_or_default();
    assert!(
        confirmation.contains("每周三 03:15 协同最近 3 个月"),
        "{confirmation}"
    );
    browser.eval(&app, "document.getElementById('schedule').open = true; document.getElementById('schedule').scrollIntoView(); true").unwrap();
    browser
        .screenshot(
            &app,
            &datalink_e2e::artifacts_dir().join("schedule-settings.png"),
        )
        .unwrap();

    // The worker created the weekly alarm from the saved settings.
    let alarm = wait(
        &mut browser,
        &app,
        &format!(
            "chrome.alarms.get({}).then(a => a || null)",
            json!(ALARM_NAME)
        ),
        10,
    );
    assert_eq!(alarm["periodInMinutes"], json!(7 * 24 * 60), "{alarm}");
    let now_ms = browser.eval(&app, "Date.now()").unwrap().as_f64().unwrap();
    let scheduled = alarm["scheduledTime"].as_f64().unwrap();
    assert!(
        scheduled > now_ms && scheduled <= now_ms + 7.0 * 86_400_000.0,
        "next run within a week: {alarm}"
    );

    // 1. The alarm fires: a task runs on its own and completes.
    let first = fire(&mut browser, &app);
    assert_eq!(first["outcome"], json!("started"), "{first}");
    let task = first["task"].as_str().unwrap().to_owned();
    let status = wait_done(
        &mut browser,
        &app,
        Duration::from_secs(300),
        false,
        |_, _| {},
    )
    .unwrap();
    assert_eq!(status["task"], json!(task));
    assert_eq!(status["state"], json!("completed"), "{status}");
    let report = &status["report"];
    assert_eq!(report["task"]["operator"], json!(AUTO_OPERATOR));
    let range: DateRange =
        serde_json::from_value(report["task"]["conditions"]["range"].clone()).unwrap();
    assert_eq!(range, schedule.range(today()), "the recent three months");
    assert_eq!(report["task"]["conditions"]["status"], json!("closed"));
    assert_eq!(report["task"]["conditions"]["types"], json!("both"));
    let expected = datalink_e2e::truth_in_scope(&serde_json::to_value(sim.truth()).unwrap(), range);
    assert!(
        expected.len() > 10,
        "the recent months hold declarations ({})",
        expected.len()
    );
    assert_eq!(
        report["total"]["reconciled"],
        json!(expected.len()),
        "{report}"
    );
    let details_first = details(&sim);
    assert_eq!(
        details_first,
        expected.len() as u64,
        "the first run previews every declaration once"
    );
    let shown = wait(
        &mut browser,
        &app,
        &format!("chrome.notifications.getAll().then(n => n['datalink-task-{task}'] || null)"),
        10,
    );
    assert_eq!(shown, json!(true));

    // 2. Declarations change on the portal while the next run lists them (portal-sim's shift:
    //    open declarations of the listed windows are closed, with a new updateTime).
    let shifts_before = serde_json::to_value(sim.stats()).unwrap()["shiftEvents"]
        .as_u64()
        .unwrap();
    sim.set_faults("shift=4,shift_every=1".parse::<FaultSpec>().unwrap());
    let second = fire(&mut browser, &app);
    assert_eq!(second["outcome"], json!("started"), "{second}");
    let second_task = second["task"].as_str().unwrap().to_owned();
    assert_ne!(second_task, task);
    let status = wait_done(
        &mut browser,
        &app,
        Duration::from_secs(300),
        false,
        |_, _| {},
    )
    .unwrap();
    assert_eq!(status["state"], json!("completed"), "{status}");
    let changed = serde_json::to_value(sim.stats()).unwrap()["shiftEvents"]
        .as_u64()
        .unwrap()
        - shifts_before;
    sim.set_faults(FaultSpec::default());
    assert!(
        changed >= 1,
        "portal-sim changed declarations during the run"
    );
    let details_second = details(&sim) - details_first;
    println!("first run: {} declarations, {details_first} details; second run: {changed} changed, {details_second} details", expected.len());
    assert_eq!(
        details_second, changed,
        "only the {changed} changed declarations were previewed again"
    );
    let expected = datalink_e2e::truth_in_scope(&serde_json::to_value(sim.truth()).unwrap(), range);
    assert_eq!(
        status["report"]["total"]["reconciled"],
        json!(expected.len())
    );
    assert!(notifications(&mut browser, &app).contains(&format!("datalink-task-{second_task}")));

    // 2b. The session expires mid-task: no PIN is stored, so the automatic task pauses and a
    //     notification asks the user to log in; logged in again, it completes by itself.
    sim.set_faults("expire_every=15".parse::<FaultSpec>().unwrap());
    let expiring = fire(&mut browser, &app);
    assert_eq!(expiring["outcome"], json!("started"), "{expiring}");
    let mut logins = 0;
    let login_url = sim.login_url();
    let status = wait_done(
        &mut browser,
        &app,
        Duration::from_secs(300),
        false,
        |browser, status| {
            if status["paused"] == json!(true) && logins == 0 {
                let asked = browser.wait_for(
                    &app,
                    "chrome.notifications.getAll().then(n => n['datalink-login'] || null)",
                    Duration::from_secs(10),
                );
                assert_eq!(
                    asked.unwrap(),
                    json!(true),
                    "the log-in notification while paused"
                );
                sim.set_faults(FaultSpec::default());
                let page = browser.portal_login(&login_url, "88888888").unwrap();
                browser.close(&page).unwrap();
                logins += 1;
            }
        },
    )
    .unwrap();
    assert_eq!(logins, 1, "the task paused for the expired session");
    assert_eq!(status["state"], json!("completed"), "{status}");
    assert_eq!(
        status["report"]["total"]["reconciled"],
        json!(expected.len())
    );
    browser
        .eval(&app, "chrome.notifications.clear('datalink-login')")
        .unwrap();

    // 3. Never two tasks at once: a manual task runs, the alarm fires, nothing else starts.
    let settings = SyncSettings {
        concurrency: 1,
        rate_per_second: 5.0,
        page_size: 100,
        request_timeout_ms: 2500,
    };
    let manual = browser
        .ask(
            &app,
            &start_request(
                &sim.base_url(),
                DateRange::past_years(today(), 3),
                &settings,
            ),
        )
        .unwrap();
    assert_eq!(manual["ok"], json!(true), "{manual}");
    let manual_task = manual["result"]["number"].as_str().unwrap().to_owned();
    let skipped = fire(&mut browser, &app);
    assert_eq!(skipped["outcome"], json!("skipped"), "{skipped}");
    let running = browser
        .ask(&app, &json!({ "type": "sync_status", "after_seq": 0 }))
        .unwrap();
    assert_eq!(
        running["result"]["task"],
        json!(manual_task),
        "the manual task is still the one running"
    );
    assert_eq!(running["result"]["state"], json!("running"));
    let cancelled = browser
        .ask(&app, &json!({ "type": "sync_cancel" }))
        .unwrap();
    assert_eq!(cancelled["ok"], json!(true), "{cancelled}");
    let status = wait_done(
        &mut browser,
        &app,
        Duration::from_secs(60),
        false,
        |_, _| {},
    )
    .unwrap();
    assert_eq!(status["state"], json!("cancelled"));

    // 4. Logged out: the alarm starts nothing and asks the user to log in.
    let logout = browser
        .open(&format!("{}/cas/logout", sim.base_url()))
        .unwrap();
    wait(
        &mut browser,
        &logout,
        "document.readyState === 'complete'",
        20,
    );
    browser.close(&logout).unwrap();
    let logged_out = fire(&mut browser, &app);
    assert_eq!(
        logged_out["outcome"],
        json!("not_logged_in"),
        "{logged_out}"
    );
    let after = browser
        .ask(&app, &json!({ "type": "sync_status", "after_seq": 0 }))
        .unwrap();
    assert_eq!(
        after["result"]["task"],
        json!(manual_task),
        "no task was started"
    );
    assert!(
        notifications(&mut browser, &app).contains(&"datalink-login".to_owned()),
        "the log-in notification"
    );
}
