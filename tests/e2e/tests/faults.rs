//! Issue #9's fault matrix, end to end: every fault is a real sync in headless Chromium (the
//! extension's wasm collector + the native host's SQLite store) against portal-sim with that
//! fault injected. Each case asserts three things:
//!
//! * **nothing lost, nothing duplicated**: the host's export of the task equals portal-sim's
//!   ground truth for the task's scope ([`assert_export_matches`]);
//! * **the task's state is right**: 执行完毕 with 查询数 = 命中数 = 核销数 in every month, or —
//!   for failures the task cannot ride out — 执行异常 with the gap shown, then 断点续查 → 执行完毕;
//! * **the user saw a clear message**: the Chinese log line for that fault class, as the app
//!   page renders it (`#log li .message` in its DOM).
//!
//! | fault (issue #9) | how it is injected | covered by |
//! |---|---|---|
//! | 5xx bursts | portal-sim `burst=LEN,burst_every=K`: runs of LEN consecutive 500/502/503 | `faults.rs::five_xx_bursts_are_ridden_out_with_backoff` |
//! | hanging responses | `hang` with `hang_ms` > the request timeout | `faults.rs::hanging_responses_time_out_and_are_retried` |
//! | truncated and malformed JSON | `garbage` | `faults.rs::truncated_and_malformed_json_is_retried_never_stored` |
//! | HTML instead of JSON | `html` | `faults.rs::html_instead_of_json_is_retried` |
//! | HTTP 429 | `rate_limit` (token bucket), default answer | `faults.rs::http_429_rate_limiting_is_ridden_out` |
//! | WAF-style HTTP 400 | `rate_limit` + `rate_limit_answer = waf` | `faults.rs::waf_style_400_is_taken_as_rate_limiting` |
//! | session expiry mid-paging | `expire_every` + a page size of 2 | `faults.rs::session_expiry_while_paging_pauses_until_the_user_logs_in`; with the PIN: `sync.rs::expired_sessions_are_renewed_with_the_card_pin` |
//! | new declarations mid-sync (offset shift) | `shift` (+ `shift_every`) | `faults.rs::declarations_arriving_mid_sync_are_all_collected` |
//! | detail failures for given declarations | `detail_fail=ID\|ID\|ID`, then cleared | `faults.rs::failed_details_leave_the_task_incomplete_until_resumed` |
//! | all of the above mixed, 3 years | `5xx`, `hang`, `garbage`, `html`, `expire_every`, `shift` + 2 host kills | `sync.rs::faults_expiries_shifts_and_two_host_kills_lose_nothing` |
//! | host killed with SIGKILL at 10 points | `kill -KILL` of the native host at 10 points of a sync | `host_faults.rs::the_host_killed_at_ten_random_points_loses_and_duplicates_nothing`; 2 kills among portal faults: `sync.rs::faults_expiries_shifts_and_two_host_kills_lose_nothing` |
//! | browser closed mid-task and reopened | the browser killed mid-task, a new one on the same store | `sync.rs::the_browser_closed_mid_task_resumes_in_a_new_browser` |
//! | SQLite locked by another process | another process holding the store's write lock past the busy timeout | `host_faults.rs::a_store_locked_by_another_process_is_waited_out_and_the_user_is_told` (the log: `本地数据库正被其他程序占用…（错误码 2002），1 秒后自动重试（第k次）`) |
//! | disk full | the store on a small tmpfs that fills up | `host_faults.rs::a_full_disk_stops_the_task_clearly_and_resume_completes_it_once_there_is_space` |
//! | card removed during verification | the virtual card pulled while the PIN is in flight | `host_faults.rs::a_card_pulled_out_during_the_pages_pin_check_is_reported_and_the_task_starts_once_it_is_back`; host side: `native-host/tests/card_removed_during_verify.rs` |
//!
//! What the user reads (the task's log, from `wasm-core/src/sync.rs` and
//! `wasm-core/src/wasm/collector.rs`): every fault the task rides out is one line
//! `<which request>：<why>，N 秒后自动重试（第k次）`, the why being the portal fault's text
//! (`单一窗口返回 HTTP 502`, `单一窗口响应超时`, `单一窗口返回的数据不完整`, `单一窗口返回了错误页面`,
//! `单一窗口限制访问频率 (HTTP 429)，访问过于频繁`); a 429 or WAF 400 also slows the collector down
//! (`单一窗口提示访问过于频繁（HTTP 429），已自动放慢到每秒 N 次请求`); an expiry pauses the task
//! (`单一窗口登录已失效，任务已暂停；重新登录后将自动继续`, then `单一窗口登录已恢复，继续执行`); a
//! window that moved while paged is listed again (`…的数据在查询期间发生变化，重新查询该区间`); a
//! detail that keeps failing is named (`报关单 … 预览失败（已重试6次）`, `未核销报关单 …（月份）`,
//! `月份 未核销一致：…`).
//!
//! Each case is small (110–150 declarations over 2–5 months, fixed seeds) so the file runs in
//! a few minutes with `--test-threads=1`:
//! `DATALINK_DIST=target/dist cargo test -p datalink-e2e --test faults -- --test-threads=1`.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use datalink_core::calendar::Date;
use datalink_core::period::DateRange;
use datalink_e2e::{assert_export_matches, export, start_request, today, wait_done, Browser, Dist, LaunchOptions, Page, Sim, SyncSettings};
use portal_sim::{FaultSpec, RateLimitAnswer, SimConfig};
use serde_json::{json, Value};

/// Fast settings: the portal is local; one attempt may wait 1.5 s before it counts as hung.
const FAST: SyncSettings = SyncSettings {
    concurrency: 4,
    rate_per_second: 1000.0,
    page_size: 100,
    request_timeout_ms: 1500,
};

/// One case: the simulator, a browser logged in to it, the app page, the task's range.
struct Case {
    dist: Dist,
    sim: Sim,
    browser: Browser,
    app: Page,
    range: DateRange,
    started: Instant,
}

/// The first day of the month `months` months before today's.
fn months_back(months: u32) -> Date {
    let mut day = today().first_of_month();
    for _ in 0..months {
        day = day.add_days(-1).first_of_month();
    }
    day
}

fn sim_date(day: Date) -> portal_sim::Date {
    day.to_string().parse().unwrap()
}

impl Case {
    /// portal-sim with `declarations` over the last `months` months and this month (the task's
    /// range too), a browser with the extension and the host, logged in, on the app page.
    fn new(seed: u64, declarations: usize, months: u32, configure: impl FnOnce(&mut SimConfig)) -> Case {
        let started = Instant::now();
        let dist = Dist::locate().unwrap();
        let first = months_back(months);
        let mut config = SimConfig {
            seed,
            declarations,
            from: Some(sim_date(first)),
            to: Some(sim_date(today())),
            ..SimConfig::default()
        };
        configure(&mut config);
        let sim = Sim::start(config).unwrap();
        let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
        let login = browser.portal_login(&sim.sim.login_url(), "88888888").unwrap();
        browser.close(&login).unwrap();
        let app = browser.open_app().unwrap();
        browser
            .wait_for(&app, "document.body.dataset.rendered === 'home'", Duration::from_secs(20))
            .unwrap();
        // 报关单协同: the view that shows the running task's log.
        browser
            .eval(&app, "document.body.dataset.rendered = ''; location.hash = '#/sync'; true")
            .unwrap();
        browser
            .wait_for(&app, "(document.body.dataset.rendered || '').startsWith('sync')", Duration::from_secs(20))
            .unwrap();
        let range = DateRange::new(first, today()).unwrap();
        Case {
            dist,
            sim,
            browser,
            app,
            range,
            started,
        }
    }

    /// 启动协同服务 with `settings`; returns the task's number.
    fn start(&mut self, settings: &SyncSettings) -> String {
        let request = start_request(&self.sim.sim.base_url(), self.range, settings);
        let started = self.browser.ask(&self.app, &request).unwrap();
        assert_eq!(started["ok"], json!(true), "{started}");
        started["result"]["number"].as_str().unwrap().to_owned()
    }

    /// Waits for the task to end (logging in again whenever it pauses, as a user does), then for
    /// the app page to have rendered its last line; returns the final status and the number of
    /// logins.
    fn finish(&mut self, timeout: Duration) -> (Value, u32) {
        let login_url = self.sim.sim.login_url();
        let mut logins = 0;
        let mut last_login: Option<Instant> = None;
        let status = wait_done(&mut self.browser, &self.app, timeout, false, |browser, status| {
            // Once per pause: the collector sees the new session at its next probe (≤ 1.5 s).
            let recent = last_login.is_some_and(|at| at.elapsed() < Duration::from_secs(3));
            if status["paused"] == json!(true) && !recent {
                let page = browser.portal_login(&login_url, "88888888").unwrap();
                browser.close(&page).unwrap();
                logins += 1;
                last_login = Some(Instant::now());
            }
        })
        .unwrap();
        self.browser
            .wait_for(
                &self.app,
                "document.getElementById('log').textContent.includes('任务执行完成')",
                Duration::from_secs(10),
            )
            .unwrap();
        (status, logins)
    }

    /// The task's log lines as the app page shows them.
    fn page_log(&mut self) -> Vec<String> {
        let lines = self
            .browser
            .eval(&self.app, "Array.from(document.querySelectorAll('#log li .message')).map(e => e.textContent)")
            .unwrap();
        lines.as_array().unwrap().iter().map(|l| l.as_str().unwrap_or_default().to_owned()).collect()
    }

    /// Every log line of the current run, from `sync_status` (what the page renders).
    fn run_lines(&mut self) -> Vec<String> {
        let reply = self.browser.ask(&self.app, &json!({ "type": "sync_status", "after_seq": 0 })).unwrap();
        reply["result"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l[1]["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Asserts that some line the page shows contains every one of `parts`.
    fn assert_shown(&mut self, parts: &[&str]) -> String {
        let lines = self.page_log();
        match lines.iter().find(|l| parts.iter().all(|p| l.contains(p))) {
            Some(line) => line.clone(),
            None => panic!("no line on the app page contains {parts:?}; the page shows:\n{}", lines.join("\n")),
        }
    }

    fn truth_in_scope(&self) -> BTreeSet<String> {
        datalink_e2e::truth_in_scope(&self.sim.truth(), self.range)
    }

    fn stats(&self) -> Value {
        serde_json::to_value(self.sim.sim.stats()).unwrap()
    }

    /// 执行完毕, every month's three counts equal, the total the truth's, the export exact.
    fn assert_complete(&self, task: &str, status: &Value) -> usize {
        assert_eq!(status["state"], json!("completed"), "{status}");
        let report = &status["report"];
        let expected = self.truth_in_scope();
        let periods = report["periods"].as_array().unwrap();
        assert_eq!(periods.len(), datalink_core::period::periods(self.range).len(), "one row per month: {report}");
        for p in periods {
            let c = &p["counts"];
            assert!(c["queried"] == c["hit"] && c["hit"] == c["reconciled"], "{p}");
        }
        assert_eq!(report["total"]["reconciled"], json!(expected.len()), "{report}");
        assert!(report["missing"].as_array().unwrap().is_empty(), "{report}");
        assert_export_matches(&self.dist, &self.browser, task, &expected);
        expected.len()
    }

    /// The page's result line says 执行完毕 with the three counts equal to `n`; then the case's
    /// timing and the portal's stats are printed.
    fn done(&mut self, name: &str, n: usize) {
        let expected = format!("任务执行完毕：查询数 {n}，命中数 {n}，核销数 {n}");
        let test = format!("(document.getElementById('result-line') || {{}}).textContent === {}", json!(expected));
        if self.browser.wait_for(&self.app, &test, Duration::from_secs(10)).is_err() {
            let shown = self.browser.text_of(&self.app, "#result-line").unwrap();
            panic!("the page's result line is {shown:?}, not {expected:?}");
        }
        let in_scope = n;
        println!(
            "{name}: {in_scope} declarations in scope, {:.1} s, portal {}",
            self.started.elapsed().as_secs_f64(),
            self.stats()
        );
    }
}

fn faults(spec: &str) -> FaultSpec {
    spec.parse().unwrap()
}

/// The most a retry line can say about the attempt: the highest `（第N次）` shown.
fn highest_retry(lines: &[String]) -> u32 {
    lines
        .iter()
        .filter(|l| l.contains("秒后自动重试"))
        .filter_map(|l| l.rsplit("（第").next().and_then(|t| t.strip_suffix("次）")).and_then(|n| n.parse().ok()))
        .max()
        .unwrap_or(0)
}

#[test]
fn five_xx_bursts_are_ridden_out_with_backoff() {
    // Every 30th data request starts 7 consecutive 5xx answers. At 25 requests/s a burst lasts
    // ≈ 0.3 s, longer than a first retry's backoff (0.25–0.5 s): some request fails again on
    // its retry and backs off longer.
    let mut case = Case::new(901, 130, 4, |c| c.faults = faults("burst=7,burst_every=30"));
    let settings = SyncSettings {
        concurrency: 2,
        rate_per_second: 25.0,
        ..FAST
    };
    let task = case.start(&settings);
    let (status, _) = case.finish(Duration::from_secs(120));
    let n = case.assert_complete(&task, &status);
    let stats = case.stats();
    let bursts = stats["faults"]["burst"].as_u64().unwrap_or(0);
    assert!(bursts >= 21, "at least three whole bursts were served: {stats}");
    assert!(
        ["500", "502", "503"]
            .iter()
            .filter(|s| stats["byStatus"][**s].as_u64().unwrap_or(0) > 0)
            .count()
            >= 2,
        "{stats}"
    );
    case.assert_shown(&["单一窗口返回 HTTP 50", "秒后自动重试（第1次）"]);
    let lines = case.page_log();
    assert!(
        highest_retry(&lines) >= 2,
        "a request failed again on its retry and was retried again:\n{}",
        lines.join("\n")
    );
    case.done("5xx bursts", n);
}

#[test]
fn hanging_responses_time_out_and_are_retried() {
    // 4 % of data requests get no answer for 6 s; the collector gives up on each after 1.5 s.
    let mut case = Case::new(902, 110, 4, |c| c.faults = faults("hang=0.04,hang_ms=6000"));
    let task = case.start(&FAST);
    let (status, _) = case.finish(Duration::from_secs(120));
    let n = case.assert_complete(&task, &status);
    assert!(case.stats()["faults"]["hang"].as_u64().unwrap_or(0) >= 2, "{}", case.stats());
    case.assert_shown(&["单一窗口响应超时", "秒后自动重试"]);
    case.done("hang", n);
}

#[test]
fn truncated_and_malformed_json_is_retried_never_stored() {
    let mut case = Case::new(903, 120, 4, |c| c.faults = faults("garbage=0.1"));
    let task = case.start(&FAST);
    let (status, _) = case.finish(Duration::from_secs(120));
    let n = case.assert_complete(&task, &status);
    assert!(case.stats()["faults"]["garbage"].as_u64().unwrap_or(0) >= 5, "{}", case.stats());
    case.assert_shown(&["单一窗口返回的数据不完整", "秒后自动重试"]);
    case.done("garbage", n);
}

#[test]
fn html_instead_of_json_is_retried() {
    let mut case = Case::new(904, 120, 4, |c| c.faults = faults("html=0.1"));
    let task = case.start(&FAST);
    let (status, _) = case.finish(Duration::from_secs(120));
    let n = case.assert_complete(&task, &status);
    assert!(case.stats()["faults"]["html"].as_u64().unwrap_or(0) >= 5, "{}", case.stats());
    case.assert_shown(&["单一窗口返回了错误页面", "秒后自动重试"]);
    case.done("html", n);
}

/// The portal allows 10 requests/s (a bucket of 10); the collector may start 1000/s: once the
/// bucket is empty it is refused, halves its pace at each refusal (at most every 250 ms) until
/// the portal answers again, retries each refused request after a backoff, and wins the pace
/// back slowly.
fn rate_limited(seed: u64, answer: RateLimitAnswer, status: &str) -> (Case, usize) {
    let mut case = Case::new(seed, 120, 4, |c| {
        c.rate_limit = 10.0;
        c.rate_limit_answer = answer;
    });
    let task = case.start(&FAST);
    let (status_json, _) = case.finish(Duration::from_secs(120));
    let n = case.assert_complete(&task, &status_json);
    let stats = case.stats();
    assert!(stats["rateLimited"].as_u64().unwrap_or(0) >= 3, "{stats}");
    assert!(stats["byStatus"][status].as_u64().unwrap_or(0) >= 3, "{stats}");
    case.assert_shown(&[&format!("单一窗口限制访问频率 (HTTP {status})"), "访问过于频繁", "秒后自动重试"]);
    case.assert_shown(&[&format!("单一窗口提示访问过于频繁（HTTP {status}），已自动放慢到每秒")]);
    (case, n)
}

#[test]
fn http_429_rate_limiting_is_ridden_out() {
    let (mut case, n) = rate_limited(905, RateLimitAnswer::TooManyRequests, "429");
    case.done("429", n);
}

#[test]
fn waf_style_400_is_taken_as_rate_limiting() {
    let (mut case, n) = rate_limited(906, RateLimitAnswer::WafBadRequest, "400");
    case.done("WAF 400", n);
}

#[test]
fn session_expiry_while_paging_pauses_until_the_user_logs_in() {
    // Two rows a page: most windows take several list pages. A session serves 45 data
    // requests, so it expires in the middle of the listing (and again later); no PIN was given,
    // so the task pauses until the user (the test) logs in again.
    let mut case = Case::new(907, 140, 3, |c| c.faults = faults("expire_every=45"));
    let settings = SyncSettings { page_size: 2, ..FAST };
    let task = case.start(&settings);
    let (status, logins) = case.finish(Duration::from_secs(120));
    let n = case.assert_complete(&task, &status);
    let stats = case.stats();
    let expired = stats["faults"]["expired"].as_u64().unwrap_or(0);
    assert!(expired >= 2, "{stats}");
    assert!(logins >= 2, "the user logged in again after each expiry ({logins})");
    // An expiry answered a list request: the login redirect on `cusQuery`, while windows were
    // being paged (more list requests than windows: pages past the first).
    let list = &stats["byRoute"]["cusQuery"];
    assert!(list["byStatus"]["302"].as_u64().unwrap_or(0) >= 1, "an expiry hit the listing: {stats}");
    let windows = status["windows"].as_u64().unwrap();
    assert!(
        list["requests"].as_u64().unwrap() > windows + 20,
        "windows were paged ({windows} windows): {stats}"
    );
    case.assert_shown(&["单一窗口登录已失效，任务已暂停；重新登录后将自动继续"]);
    case.assert_shown(&["单一窗口登录已恢复，继续执行"]);
    case.done("expiry mid-paging", n);
}

#[test]
fn declarations_arriving_mid_sync_are_all_collected() {
    // Before every 5th list query with a date range (10 times), one declaration of that window changes:
    // a new one is declared today or an open one closes (it joins the 结关 answer on top), so
    // the offsets of a window being paged (2 rows a page) move.
    let mut case = Case::new(908, 150, 1, |c| c.faults = faults("shift=10,shift_every=5"));
    let settings = SyncSettings { page_size: 2, ..FAST };
    let before = case.truth_in_scope();
    let task = case.start(&settings);
    let (status, _) = case.finish(Duration::from_secs(120));
    let n = case.assert_complete(&task, &status);
    let stats = case.stats();
    assert_eq!(stats["shiftEvents"], json!(10), "{stats}");
    let after = case.truth_in_scope();
    assert!(
        after.len() > before.len(),
        "declarations closed while the task ran are in scope now: {} → {}",
        before.len(),
        after.len()
    );
    case.assert_shown(&["的数据在查询期间发生变化，重新查询该区间"]);
    case.done("shift", n);
}

#[test]
fn failed_details_leave_the_task_incomplete_until_resumed() {
    let mut case = Case::new(909, 110, 4, |_| {});
    // Three declarations of the scope, in different months where possible.
    let truth = case.sim.truth();
    let scope = case.truth_in_scope();
    let mut chosen: Vec<(String, String)> = Vec::new();
    for d in truth["declarations"].as_array().unwrap() {
        let id = d["cusCiqNo"].as_str().unwrap().to_owned();
        let month = d["queryDate"].as_str().unwrap()[..7].to_owned();
        if scope.contains(&id) && chosen.len() < 3 && !chosen.iter().any(|(_, m)| *m == month) {
            chosen.push((id, month));
        }
    }
    assert_eq!(chosen.len(), 3, "three in-scope declarations in three months");
    let ids: Vec<&str> = chosen.iter().map(|(id, _)| id.as_str()).collect();
    case.sim.sim.set_faults(faults(&format!("detail_fail={}", ids.join("|"))));
    let task = case.start(&FAST);
    let (status, _) = case.finish(Duration::from_secs(120));

    // 执行异常: the three months show 核销数 = 命中数 − 1, the others agree.
    assert_eq!(status["state"], json!("failed"), "{status}");
    let report = &status["report"];
    for p in report["periods"].as_array().unwrap() {
        let c = &p["counts"];
        let failed_here = chosen.iter().filter(|(_, m)| p["period"] == json!(m)).count() as u64;
        assert_eq!(c["queried"], c["hit"], "{p}");
        assert_eq!(c["reconciled"].as_u64().unwrap() + failed_here, c["hit"].as_u64().unwrap(), "{p}");
    }
    let missing: BTreeSet<&str> = report["missing"].as_array().unwrap().iter().map(|m| m["cusCiqNo"].as_str().unwrap()).collect();
    assert_eq!(missing, ids.iter().copied().collect::<BTreeSet<_>>(), "{report}");
    // The export holds every listed declaration once; the three without their detail carry
    // only their list row (no goods lines).
    let rows = export(&case.dist, case.browser.db(), &task).unwrap();
    let exported: Vec<&str> = rows.iter().map(|r| r["cusCiqNo"].as_str().unwrap()).collect();
    assert_eq!(
        exported.iter().copied().collect::<BTreeSet<_>>(),
        scope.iter().map(String::as_str).collect(),
        "the listed declarations"
    );
    assert_eq!(exported.len(), scope.len(), "no duplicates");
    for r in &rows {
        let without_detail = ids.contains(&r["cusCiqNo"].as_str().unwrap());
        assert_eq!(r["goods"].as_array().unwrap().is_empty(), without_detail, "{r}");
    }
    // The user sees each failed declaration named, why, and each month that does not agree.
    for (id, month) in &chosen {
        case.assert_shown(&[&format!("报关单 {id} 预览失败（已重试"), "单一窗口提示"]);
        case.assert_shown(&[&format!("未核销报关单 {id}（{month}）")]);
        case.assert_shown(&[&format!("{month} 未核销一致")]);
    }
    case.assert_shown(&[&format!("报关单 {} 预览失败", ids[0]), "秒后自动重试（第5次）"]);

    // The portal serves them again; 断点续查 completes the task.
    case.sim.sim.set_faults(FaultSpec::default());
    let settings = json!({ "concurrency": FAST.concurrency, "ratePerSecond": FAST.rate_per_second, "pageSize": FAST.page_size, "requestTimeoutMs": FAST.request_timeout_ms });
    let resumed = case
        .browser
        .ask(&case.app, &json!({ "type": "sync_resume", "task": task, "settings": settings }))
        .unwrap();
    assert_eq!(resumed["ok"], json!(true), "{resumed}");
    let status = wait_done(&mut case.browser, &case.app, Duration::from_secs(60), false, |_, _| {}).unwrap();
    let n = case.assert_complete(&task, &status);
    assert_eq!(n, scope.len());
    // The resumed run may end between two of the page's polls; its lines are read where the
    // page reads them (`sync_status`).
    let lines = case.run_lines();
    let shown = |part: &str| lines.iter().any(|l| l.contains(part));
    assert!(
        shown("从中断处继续执行") && shown(&format!("核销结果：查询数 {n}，命中数 {n}，核销数 {n}")),
        "{}",
        lines.join("\n")
    );
    case.done("detail_fail", n);
}
