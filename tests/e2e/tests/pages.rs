//! Issue #5 end to end: the extension's pages (Rust/wasm) in headless Chromium, clicked through
//! as a user does — 连接协同服务, 启动协同服务, the live log, 取消执行, reopening the page,
//! 断点续查, 协同记录, 查看, 详情, 预览, export — against portal-sim, asserting that what the
//! pages show equals the simulator's truth. Every page is saved as a screenshot under
//! `target/e2e-artifacts/pages/`. Run serially (`--test-threads=1`): each test has its own
//! portal and browser, and the machine is small.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use datalink_core::period::DateRange;
use datalink_e2e::{today, Sim, artifacts_dir, truth_in_scope, Browser, Dist, LaunchOptions, Page};
use portal_sim::{RunningSim, SimConfig};
use serde_json::{json, Value};



fn start_sim(declarations: usize, seed: u64, latency_ms: u64) -> Sim {
    let config = SimConfig {
        seed,
        declarations,
        latency_ms,
        ..SimConfig::default()
    };
    Sim::start(config).unwrap()
}

fn truth(sim: &RunningSim) -> Value {
    serde_json::to_value(sim.truth()).unwrap()
}

/// The declarations of the truth the default form covers over `range`, with their goods lines.
fn expected(sim: &RunningSim, range: DateRange) -> (BTreeSet<String>, u64) {
    let truth = truth(sim);
    let ids = truth_in_scope(&truth, range);
    let goods = truth["declarations"].as_array().unwrap().iter().filter(|d| ids.contains(d["cusCiqNo"].as_str().unwrap())).map(|d| d["goods"].as_array().unwrap().len() as u64).sum();
    (ids, goods)
}

fn shots() -> PathBuf {
    artifacts_dir().join("pages")
}

fn shot(browser: &mut Browser, page: &Page, name: &str) {
    let path = shots().join(format!("{name}.png"));
    browser.screenshot(page, &path).unwrap();
    println!("  screenshot {}", path.display());
}

fn wait(browser: &mut Browser, page: &Page, expression: &str, secs: u64) -> Value {
    browser.wait_explained(page, expression, Duration::from_secs(secs), Some(&shots())).unwrap()
}

/// Goes to `hash` and waits until the view says it is drawn (`<body data-rendered>`).
fn go(browser: &mut Browser, page: &Page, hash: &str, rendered: &str) {
    browser.eval(page, &format!("document.body.dataset.rendered = ''; location.hash = {}; true", json!(hash))).unwrap();
    // 报关单协同 marks `sync`, then `sync:<state>` once it shows a task.
    let test = if rendered == "sync" { "document.body.dataset.rendered.startsWith('sync')".to_owned() } else { format!("document.body.dataset.rendered === {}", json!(rendered)) };
    wait(browser, page, &test, 30);
}

fn click_and_wait(browser: &mut Browser, page: &Page, selector: &str, rendered: &str) {
    browser.eval(page, "document.body.dataset.rendered = ''; true").unwrap();
    browser.click(page, selector).unwrap();
    wait(browser, page, &format!("document.body.dataset.rendered === {}", json!(rendered)), 30);
}

fn text(browser: &mut Browser, page: &Page, selector: &str) -> String {
    browser.text_of(page, selector).unwrap().unwrap_or_else(|| panic!("no {selector}"))
}

fn number(browser: &mut Browser, page: &Page, selector: &str) -> u64 {
    let t = text(browser, page, selector);
    t.trim().parse().unwrap_or_else(|_| panic!("{selector} is {t:?}, not a number"))
}

/// Opens the app at 报关单协同 with the portal-sim settings filled in.
fn open_sync(browser: &mut Browser, sim: &RunningSim, rate: u32) -> Page {
    let app = browser.open_app().unwrap();
    browser.set_viewport(&app, 1440, 1000).unwrap();
    go(browser, &app, "#/sync", "sync");
    browser.eval(&app, "document.getElementById('settings').open = true").unwrap();
    browser.fill(&app, "#f-portal", &sim.base_url()).unwrap();
    browser.fill(&app, "#f-concurrency", "4").unwrap();
    browser.fill(&app, "#f-rate", &rate.to_string()).unwrap();
    app
}

fn connect(browser: &mut Browser, app: &Page) {
    browser.click(app, "#connect").unwrap();
    wait(browser, app, "document.querySelector('#steps li[data-step=\"2\"]').className.includes('done')", 30);
    let log = text(browser, app, "#log");
    for line in ["开始环境检测...", "协同客户端连接成功", "用户名：", "客户端环境检测通过"] {
        assert!(log.contains(line), "the connect log says {line:?}: {log}");
    }
    assert_eq!(text(browser, app, "#steps li[data-step=\"1\"] .step-text"), "连接成功");
}

/// Waits until the shown task leaves 执行中 and returns its task number.
fn wait_finished(browser: &mut Browser, app: &Page, secs: u64) -> String {
    wait(browser, app, "!!document.getElementById('result-line')", secs);
    let title = text(browser, app, "#progress-title");
    title.rsplit('：').next().unwrap().trim().to_owned()
}


fn sheet_rows(xlsx: &[u8], sheet: &str) -> usize {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let mut xml = String::new();
    zip.by_name(sheet).unwrap().read_to_string(&mut xml).unwrap();
    xml.matches("<row ").count()
}

#[test]
fn connect_start_watch_then_records_view_detail_preview_and_export() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(300, 31, 0);
    let range = DateRange::past_years(today(), 1);
    let (ids, goods) = expected(&sim.sim, range);
    assert!(ids.len() > 20, "enough declarations in the last year ({})", ids.len());
    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    let downloads = std::env::temp_dir().join(format!("datalink-pages-dl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&downloads);
    browser.allow_downloads(&downloads).unwrap();
    let login = browser.portal_login(&sim.sim.login_url(), "88888888").unwrap();
    browser.close(&login).unwrap();

    // 首页.
    let app = browser.open_app().unwrap();
    browser.set_viewport(&app, 1440, 1000).unwrap();
    wait(&mut browser, &app, "document.body.dataset.rendered === 'home'", 20);
    assert_eq!(text(&mut browser, &app, ".nav-item[data-nav=sync]"), "报关单协同");
    shot(&mut browser, &app, "01-home");
    browser.close(&app).unwrap();

    // 报关单协同: connect, the seed's steps and log lines.
    let app = open_sync(&mut browser, &sim.sim, 1000);
    assert_eq!(text(&mut browser, &app, "#host-state"), "协同服务未建立连接");
    assert_eq!(text(&mut browser, &app, "#log"), "暂无执行日志");
    assert_eq!(text(&mut browser, &app, "#steps li[data-step=\"1\"] .step-text"), "等待连接");
    assert!(text(&mut browser, &app, "#types-advice").contains("备案清单"), "the seed's advice on 报关单类型");
    connect(&mut browser, &app);
    shot(&mut browser, &app, "02-sync-connected");

    // A wrong custom range is refused next to its field, nothing starts.
    browser.click(&app, "#f-span-custom").unwrap();
    browser.fill(&app, "#f-first", "2025-03-01").unwrap();
    browser.fill(&app, "#f-last", "2025-02-01").unwrap();
    browser.click(&app, "#start").unwrap();
    wait(&mut browser, &app, "document.getElementById('form-error').textContent === '结束日期不能早于开始日期'", 10);
    assert_eq!(browser.eval(&app, "document.getElementById('f-last').classList.contains('invalid')").unwrap(), json!(true));
    shot(&mut browser, &app, "03-sync-form-error");
    // A PIN that cannot be one is refused before it reaches the card.
    browser.fill(&app, "#f-pin", "12 3").unwrap();
    browser.click(&app, "#f-span-1y").unwrap();
    browser.click(&app, "#start").unwrap();
    wait(&mut browser, &app, "document.getElementById('form-error').textContent === '卡介质口令应为 6–16 位英文字母或数字'", 10);
    browser.fill(&app, "#f-pin", "").unwrap();

    // 过去1年, start, the live log.
    browser.click(&app, "#f-span-1y").unwrap();
    assert_eq!(browser.eval(&app, "document.getElementById('f-first').value").unwrap(), json!(range.first.to_string()));
    let started = Instant::now();
    browser.click(&app, "#start").unwrap();
    wait(&mut browser, &app, "document.getElementById('log').textContent.includes('协同服务任务已启动，已分配任务编号')", 30);
    assert_eq!(text(&mut browser, &app, "#steps li[data-step=\"3\"] .step-text"), "执行中…");
    shot(&mut browser, &app, "04-sync-running");
    let task = wait_finished(&mut browser, &app, 300);
    println!("  task {task} finished in {:.1}s", started.elapsed().as_secs_f64());
    assert_eq!(task.len(), 17);
    let result = text(&mut browser, &app, "#result-line");
    let n = ids.len();
    assert_eq!(result, format!("任务执行完毕：查询数 {n}，命中数 {n}，核销数 {n}"));
    assert_eq!(text(&mut browser, &app, "#steps li[data-step=\"4\"] .step-text"), "执行完成");
    assert_eq!(browser.eval(&app, "document.getElementById('progress-bar').dataset.percent").unwrap(), json!("100"));
    let log = text(&mut browser, &app, "#log");
    assert!(log.contains("任务执行完成 | 耗时"), "the seed's last log line");
    shot(&mut browser, &app, "05-sync-finished");

    // 协同记录: the row's counts are the portal's truth.
    go(&mut browser, &app, "#/records", "records:1");
    let row = format!("#records-body tr[data-task=\"{task}\"]");
    for key in ["queried", "hit", "reconciled"] {
        assert_eq!(number(&mut browser, &app, &format!("{row} td[data-count={key}]")), n as u64, "{key}");
    }
    assert_eq!(text(&mut browser, &app, &format!("{row} [data-field=state]")), "执行完毕");
    let user = truth(&sim.sim)["enterprise"]["userName"].as_str().unwrap().to_owned();
    assert_eq!(text(&mut browser, &app, &format!("{row} [data-field=operator]")), user, "用户名: the card holder on the portal");
    assert!(text(&mut browser, &app, ".notes").contains("仅当查询数、命中数、核销数全部一致时"));
    shot(&mut browser, &app, "06-records");
    // Filters: 进出口 = 出口 hides it, 状态 = 执行完毕 keeps it.
    browser.fill(&app, "#r-directions", "export").unwrap();
    click_and_wait(&mut browser, &app, "#r-search", "records:1");
    assert_eq!(text(&mut browser, &app, "#records-body"), "暂无数据");
    browser.fill(&app, "#r-directions", "").unwrap();
    browser.fill(&app, "#r-state", "completed").unwrap();
    click_and_wait(&mut browser, &app, "#r-search", "records:1");
    assert!(browser.text_of(&app, &row).unwrap().is_some());

    // 查看: conditions and the whole log.
    click_and_wait(&mut browser, &app, &format!("{row} a.view"), "task");
    assert_eq!(text(&mut browser, &app, "#task-number"), task);
    assert_eq!(text(&mut browser, &app, "#task-state"), "执行完毕");
    let conditions = text(&mut browser, &app, "#conditions");
    for part in ["报关单类型：", "一般报关单、备案清单", "报关收发货人", "进出口", "结关", &format!("开始日期：{}", range.first), &format!("结束日期：{}", range.last)] {
        assert!(conditions.contains(part), "{part} in {conditions}");
    }
    assert!(text(&mut browser, &app, "#task-log").contains("任务执行完成"));
    assert!(browser.text_of(&app, "#resume").unwrap().is_none(), "nothing to resume in a completed task");
    shot(&mut browser, &app, "07-task-view");

    // 详情: totals, periods, the table.
    go(&mut browser, &app, &format!("#/task/{task}/detail"), "detail:1");
    for key in ["queried", "hit", "reconciled"] {
        assert_eq!(number(&mut browser, &app, &format!("#total-{key}")), n as u64, "总{key}");
    }
    let period_sum = browser.eval(&app, "[...document.querySelectorAll('.period td[data-count=reconciled]')].reduce((s, td) => s + Number(td.textContent), 0)").unwrap();
    assert_eq!(period_sum, json!(n), "the periods add up");
    let periods = browser.eval(&app, "document.querySelectorAll('.period').length").unwrap().as_u64().unwrap();
    assert!((12..=13).contains(&periods), "{periods} periods in a year");
    assert_eq!(browser.eval(&app, "document.querySelectorAll('#declarations-body tr').length").unwrap(), json!(10));
    assert_eq!(text(&mut browser, &app, "#declarations-pager .total"), format!("共 {n} 条"));
    let shown: Vec<String> = serde_json::from_value(browser.eval(&app, "[...document.querySelectorAll('#declarations-body [data-field=cusCiqNo]')].map(e => e.textContent)").unwrap()).unwrap();
    assert!(shown.iter().all(|c| ids.contains(c)), "every row is a declaration of the portal");
    assert_eq!(browser.eval(&app, "[...document.querySelectorAll('#declarations-body .badge')].every(b => b.textContent === '已核销')").unwrap(), json!(true));
    shot(&mut browser, &app, "08-task-detail");
    // Next page, 20 per page, filters.
    click_and_wait(&mut browser, &app, "#declarations-pager [data-go=next]", "detail:2");
    assert_eq!(browser.eval(&app, "document.querySelector('#declarations-body tr td').textContent").unwrap(), json!("11"));
    browser.fill(&app, "#d-reconciled", "unreconciled").unwrap();
    click_and_wait(&mut browser, &app, "#d-search", "detail:1");
    assert_eq!(text(&mut browser, &app, "#declarations-body"), "暂无数据");
    browser.fill(&app, "#d-reconciled", "all").unwrap();
    let wanted = shown[3].clone();
    browser.fill(&app, "#d-cus", &wanted[4..]).unwrap();
    click_and_wait(&mut browser, &app, "#d-search", "detail:1");
    assert_eq!(text(&mut browser, &app, "#declarations-body [data-field=cusCiqNo]"), wanted);
    // A period block filters the table to its month.
    click_and_wait(&mut browser, &app, "#d-reset", "detail:1");
    let (period, count) = {
        let v = browser.eval(&app, "(() => { const p = [...document.querySelectorAll('.period')].find(p => Number(p.querySelector('td[data-count=hit]').textContent) > 0); return [p.dataset.period, Number(p.querySelector('td[data-count=hit]').textContent)]; })()").unwrap();
        (v[0].as_str().unwrap().to_owned(), v[1].as_u64().unwrap())
    };
    click_and_wait(&mut browser, &app, &format!(".period[data-period=\"{period}\"]"), "detail:1");
    assert_eq!(text(&mut browser, &app, "#declarations-pager .total"), format!("共 {count} 条"));

    // 预览: the declaration from the store, like the customs form, equal to the portal's.
    click_and_wait(&mut browser, &app, "#declarations-body tr a.preview", "preview");
    let cus = text(&mut browser, &app, ".cf-value[data-label=\"统一编号\"]");
    let truth = truth(&sim.sim);
    let declaration = truth["declarations"].as_array().unwrap().iter().find(|d| d["cusCiqNo"] == json!(cus)).unwrap();
    assert_eq!(text(&mut browser, &app, ".cf-value[data-label=\"海关编号\"]"), declaration["entryId"].as_str().unwrap_or_default());
    assert_eq!(browser.eval(&app, "document.querySelectorAll('#goods tbody tr').length").unwrap(), json!(declaration["goods"].as_array().unwrap().len()));
    let first_goods = text(&mut browser, &app, "#goods tbody tr td:nth-child(3)");
    assert!(first_goods.starts_with(declaration["goods"][0]["gName"].as_str().unwrap()), "{first_goods}");
    assert!(text(&mut browser, &app, ".cf-title").starts_with("中华人民共和国海关"));
    shot(&mut browser, &app, "09-preview");

    // Export from 详情: CSV (BOM, a row per goods line) and XLSX (two sheets).
    go(&mut browser, &app, &format!("#/task/{task}/detail"), "detail:1");
    browser.click(&app, "#d-csv").unwrap();
    wait(&mut browser, &app, "document.getElementById('d-export-status').className.includes('ok')", 60);
    let csv = datalink_e2e::downloaded(&downloads, &format!("DataLink-报关单-任务{task}.csv")).unwrap();
    assert!(csv.starts_with("\u{feff}".as_bytes()), "UTF-8 with a BOM");
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.trim_start_matches('\u{feff}').starts_with("统一编号,报关单号,"));
    assert_eq!(csv.split("\r\n").filter(|l| !l.is_empty()).count() as u64, 1 + goods, "a header and a row per goods line");
    browser.click(&app, "#d-xlsx").unwrap();
    wait(&mut browser, &app, "document.getElementById('d-export-status').textContent.includes('.xlsx')", 60);
    let xlsx = datalink_e2e::downloaded(&downloads, &format!("DataLink-报关单-任务{task}.xlsx")).unwrap();
    assert_eq!(sheet_rows(&xlsx, "xl/worksheets/sheet1.xml"), 1 + n, "heads");
    assert_eq!(sheet_rows(&xlsx, "xl/worksheets/sheet2.xml") as u64, 1 + goods, "goods lines");
    shot(&mut browser, &app, "10-detail-exported");

    // Export of a date range from 协同记录.
    go(&mut browser, &app, "#/records", "records:1");
    browser.fill(&app, "#x-from", &range.first.to_string()).unwrap();
    browser.fill(&app, "#x-to", &range.last.to_string()).unwrap();
    browser.click(&app, "#x-csv").unwrap();
    wait(&mut browser, &app, "document.getElementById('x-status').className.includes('ok')", 60);
    let file = browser.eval(&app, "document.getElementById('x-status').dataset.file").unwrap();
    let range_csv = datalink_e2e::downloaded(&downloads, file.as_str().unwrap()).unwrap();
    assert!(range_csv.starts_with("\u{feff}".as_bytes()));
    shot(&mut browser, &app, "11-records-exported");
    let _ = std::fs::remove_dir_all(&downloads);
}

#[test]
fn the_sync_runs_on_without_the_page_cancel_then_resume_only_the_gaps() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(400, 32, 20);
    let range = DateRange::past_years(today(), 3);
    let (ids, _) = expected(&sim.sim, range);
    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    let login = browser.portal_login(&sim.sim.login_url(), "88888888").unwrap();
    browser.close(&login).unwrap();
    let app = open_sync(&mut browser, &sim.sim, 40);
    connect(&mut browser, &app);
    browser.click(&app, "#start").unwrap();
    wait(&mut browser, &app, "document.getElementById('progress-title') && document.getElementById('progress-title').textContent.includes('任务编号')", 30);
    let task = text(&mut browser, &app, "#progress-title").rsplit('：').next().unwrap().trim().to_owned();

    // Close the page: the worker goes on; a new page picks the task up.
    browser.close(&app).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let app = browser.open_app().unwrap();
    browser.set_viewport(&app, 1440, 1000).unwrap();
    go(&mut browser, &app, "#/sync", "sync");
    wait(&mut browser, &app, &format!("(document.getElementById('progress-title') || {{}}).textContent === '执行进度 · 任务编号：{task}'"), 20);
    wait(&mut browser, &app, "Number((document.getElementById('progress-bar') || {dataset: {}}).dataset.percent || 0) > 0", 60);
    assert_eq!(text(&mut browser, &app, "#steps li[data-step=\"3\"] .step-text"), "执行中…");
    assert!(text(&mut browser, &app, "#log").contains("协同服务任务已启动"), "the log of the run so far is shown again");
    assert!(text(&mut browser, &app, "#time-left").starts_with("预计剩余") || text(&mut browser, &app, "#time-left").starts_with("正在估算"));
    shot(&mut browser, &app, "12-sync-picked-up");

    // 取消执行.
    browser.click(&app, "#cancel").unwrap();
    wait(&mut browser, &app, "document.querySelector('#steps li[data-step=\"4\"] .step-text').textContent === '已取消'", 30);
    assert!(text(&mut browser, &app, "#log").contains("任务已取消"));
    shot(&mut browser, &app, "13-sync-cancelled");
    // The form shows the task's conditions; a faster rate, remembered for the resume.
    assert_eq!(browser.eval(&app, "document.getElementById('f-span-3y').checked").unwrap(), json!(true));
    browser.fill(&app, "#f-rate", "1000").unwrap();

    // 协同记录 shows it cancelled; 查看 offers 断点续查.
    go(&mut browser, &app, "#/records", "records:1");
    let row = format!("#records-body tr[data-task=\"{task}\"]");
    assert_eq!(text(&mut browser, &app, &format!("{row} [data-field=state]")), "已取消");
    click_and_wait(&mut browser, &app, &format!("{row} a.view"), "task");
    assert_eq!(text(&mut browser, &app, "#task-state"), "已取消");
    shot(&mut browser, &app, "14-task-view-cancelled");
    browser.eval(&app, "document.body.dataset.rendered = ''; true").unwrap();
    browser.click(&app, "#resume").unwrap();
    wait(&mut browser, &app, "location.hash === '#/sync' && document.body.dataset.rendered.startsWith('sync')", 30);
    wait(&mut browser, &app, "document.getElementById('log').textContent.includes('断点续查')", 30);
    let finished = wait_finished(&mut browser, &app, 400);
    assert_eq!(finished, task, "the same task went on");
    let n = ids.len();
    assert_eq!(text(&mut browser, &app, "#result-line"), format!("任务执行完毕：查询数 {n}，命中数 {n}，核销数 {n}"));
    shot(&mut browser, &app, "15-sync-resumed-finished");
    go(&mut browser, &app, "#/records", "records:1");
    for key in ["queried", "hit", "reconciled"] {
        assert_eq!(number(&mut browser, &app, &format!("{row} td[data-count={key}]")), n as u64, "{key}");
    }
    assert_eq!(text(&mut browser, &app, &format!("{row} [data-field=state]")), "执行完毕");
}

/// Names from the portal with markup and script in them are shown as text on every page, and
/// nothing runs.
#[test]
fn hostile_portal_strings_are_shown_as_text_and_never_run() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(150, 33, 0);
    sim.sim.make_hostile();
    let strings = portal_sim::server::HOSTILE_STRINGS;
    let range = DateRange::past_years(today(), 1);
    let (ids, _) = expected(&sim.sim, range);
    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    let login = browser.portal_login(&sim.sim.login_url(), "88888888").unwrap();
    browser.close(&login).unwrap();
    let app = open_sync(&mut browser, &sim.sim, 1000);
    connect(&mut browser, &app);
    browser.click(&app, "#f-span-1y").unwrap();
    browser.click(&app, "#start").unwrap();
    let task = wait_finished(&mut browser, &app, 300);
    let n = ids.len();
    assert_eq!(text(&mut browser, &app, "#result-line"), format!("任务执行完毕：查询数 {n}，命中数 {n}，核销数 {n}"));

    let safe = |browser: &mut Browser, app: &Page, what: &str| {
        let verdict = browser
            .eval(app, "({pwned: window.__pwned === undefined ? null : window.__pwned, img: document.querySelectorAll('img').length, svg: document.querySelectorAll('svg').length, iframe: document.querySelectorAll('iframe').length, script: document.querySelectorAll('script:not([src])').length})")
            .unwrap();
        assert_eq!(verdict, json!({"pwned": null, "img": 0, "svg": 0, "iframe": 0, "script": 0}), "{what}: nothing from the portal became markup");
    };
    go(&mut browser, &app, "#/records", "records:1");
    let operator = text(&mut browser, &app, &format!("#records-body tr[data-task=\"{task}\"] [data-field=operator]"));
    assert_eq!(operator, format!("{}许斯维", strings[0]), "the card holder's name, verbatim");
    safe(&mut browser, &app, "协同记录");
    shot(&mut browser, &app, "20-hostile-records");

    go(&mut browser, &app, &format!("#/task/{task}/detail"), "detail:1");
    let table = text(&mut browser, &app, "#declarations-body");
    assert!(strings.iter().any(|s| table.contains(s)), "office, port and trade-mode names shown verbatim: {table}");
    safe(&mut browser, &app, "详情");
    shot(&mut browser, &app, "21-hostile-detail");

    click_and_wait(&mut browser, &app, "#declarations-body tr a.preview", "preview");
    let form = text(&mut browser, &app, "#customs-form");
    let shown = strings.iter().filter(|s| form.contains(*s)).count();
    assert!(shown >= 2, "goods and party names shown verbatim ({shown}): {form}");
    safe(&mut browser, &app, "预览");
    shot(&mut browser, &app, "22-hostile-preview");

    go(&mut browser, &app, &format!("#/task/{task}"), "task");
    safe(&mut browser, &app, "查看");
    go(&mut browser, &app, "#/sync", "sync");
    safe(&mut browser, &app, "报关单协同");
}

/// The clear states: no host installed, no portal session — each a plain Chinese message with
/// the next step on the page; and the pages in English.
#[test]
fn clear_states_and_english() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(20, 34, 0);

    // No host registered with the browser.
    let mut options = LaunchOptions::for_dist(&dist);
    options.host_manifest = None;
    let mut browser = Browser::launch(&options).unwrap();
    let app = open_sync(&mut browser, &sim.sim, 1000);
    browser.click(&app, "#connect").unwrap();
    wait(&mut browser, &app, "!!document.querySelector('.notice[data-code=\"1101\"]')", 30);
    let notice = text(&mut browser, &app, ".notice[data-code=\"1101\"]");
    assert!(notice.contains("未检测到协同客户端") && notice.contains("下一步：") && notice.contains("install.ps1") && notice.contains("datalink-host doctor"), "{notice}");
    browser.click(&app, ".notice[data-code=\"1101\"] button").unwrap();
    assert_eq!(browser.eval(&app, "document.getElementById('install-help').hidden").unwrap(), json!(false), "下载客户端 shows how to install");
    assert_eq!(text(&mut browser, &app, "#steps li[data-step=\"1\"] .step-text"), "等待连接");
    shot(&mut browser, &app, "30-clear-host-missing");
    drop(browser);

    // A host, but nobody logged in to the portal.
    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    let app = open_sync(&mut browser, &sim.sim, 1000);
    browser.click(&app, "#connect").unwrap();
    wait(&mut browser, &app, "!!document.querySelector('.notice[data-code=\"1202\"]')", 30);
    let notice = text(&mut browser, &app, ".notice[data-code=\"1202\"]");
    assert!(notice.contains("单一窗口未登录") && notice.contains("卡介质登录"), "{notice}");
    assert!(browser.text_of(&app, "#open-portal").unwrap().is_some(), "a button opens the portal's login");
    assert_eq!(text(&mut browser, &app, "#steps li[data-step=\"1\"] .step-text"), "连接成功");
    assert_eq!(text(&mut browser, &app, "#steps li[data-step=\"2\"] .step-text"), "环境检测未通过");
    assert!(text(&mut browser, &app, "#log").contains("IC卡"), "the environment check says how the card is");
    // 启动协同服务 without a session stops at the same clear state: no task is created.
    browser.click(&app, "#start").unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(browser.text_of(&app, "#progress-title").unwrap().unwrap_or_default().is_empty());
    shot(&mut browser, &app, "31-clear-portal-login");

    // English, and back.
    browser.eval(&app, "document.body.dataset.rendered = ''; true").unwrap();
    browser.click(&app, "#lang-switch").unwrap();
    wait(&mut browser, &app, "document.body.dataset.rendered === 'sync'", 20);
    assert_eq!(text(&mut browser, &app, ".nav-item[data-nav=sync]"), "Declaration sync");
    assert_eq!(text(&mut browser, &app, "#connect"), "Connect");
    assert_eq!(browser.eval(&app, "document.documentElement.lang").unwrap(), json!("en"));
    shot(&mut browser, &app, "32-english-sync");
    // The choice is remembered.
    browser.close(&app).unwrap();
    let app = browser.open_app().unwrap();
    wait(&mut browser, &app, "document.body.dataset.rendered === 'home'", 20);
    assert_eq!(text(&mut browser, &app, ".nav-item[data-nav=records]"), "Sync records");
    browser.click(&app, "#lang-switch").unwrap();
    wait(&mut browser, &app, "document.querySelector('.nav-item[data-nav=records]').textContent === '协同记录'", 20);
}

/// A task that could not reconcile everything (the portal refused two details) stands out in
/// 协同记录; 详情 shows the two as 未核销 with the reason; 断点续查 fetches only them.
#[test]
fn a_task_whose_counts_disagree_stands_out_and_resumes_only_its_gaps() {
    let dist = Dist::locate().unwrap();
    let sim = start_sim(150, 35, 0);
    let range = DateRange::past_years(today(), 1);
    let (ids, _) = expected(&sim.sim, range);
    let refused: Vec<String> = ids.iter().take(2).cloned().collect();
    sim.sim.set_faults(format!("detail_fail={}", refused.join("|")).parse().unwrap());
    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    let login = browser.portal_login(&sim.sim.login_url(), "88888888").unwrap();
    browser.close(&login).unwrap();
    let app = open_sync(&mut browser, &sim.sim, 1000);
    connect(&mut browser, &app);
    browser.click(&app, "#f-span-1y").unwrap();
    browser.click(&app, "#start").unwrap();
    let task = wait_finished(&mut browser, &app, 300);
    let n = ids.len();
    assert_eq!(text(&mut browser, &app, "#result-line"), format!("任务执行异常：查询数 {n}，命中数 {n}，核销数 {}", n - 2));
    assert_eq!(text(&mut browser, &app, "#steps li[data-step=\"4\"] .step-text"), "执行异常");

    go(&mut browser, &app, "#/records", "records:1");
    let row = format!("#records-body tr[data-task=\"{task}\"]");
    assert_eq!(browser.eval(&app, &format!("document.querySelector('{row}').classList.contains('disagree')")).unwrap(), json!(true), "the row stands out");
    assert!(text(&mut browser, &app, &format!("{row} .badge")).contains("不一致"));
    assert_eq!(number(&mut browser, &app, &format!("{row} td[data-count=reconciled]")), n as u64 - 2);
    assert_eq!(text(&mut browser, &app, &format!("{row} [data-field=state]")), "执行异常");
    shot(&mut browser, &app, "16-records-disagree");

    go(&mut browser, &app, &format!("#/task/{task}/detail"), "detail:1");
    assert_eq!(number(&mut browser, &app, "#total-reconciled"), n as u64 - 2);
    browser.fill(&app, "#d-reconciled", "unreconciled").unwrap();
    click_and_wait(&mut browser, &app, "#d-search", "detail:1");
    let open: BTreeSet<String> = serde_json::from_value(browser.eval(&app, "[...document.querySelectorAll('#declarations-body [data-field=cusCiqNo]')].map(e => e.textContent)").unwrap()).unwrap();
    assert_eq!(open, refused.iter().cloned().collect::<BTreeSet<_>>(), "the two refused details are the ones 未核销");
    assert!(text(&mut browser, &app, "#missing").contains(&refused[0]), "with their reasons");
    shot(&mut browser, &app, "17-detail-unreconciled");

    // The portal answers again: 断点续查 from 查看 reconciles the two, and only them.
    sim.sim.set_faults("".parse().unwrap());
    let before = serde_json::to_value(sim.sim.stats()).unwrap();
    go(&mut browser, &app, &format!("#/task/{task}"), "task");
    assert_eq!(text(&mut browser, &app, "#task-state"), "执行异常");
    browser.eval(&app, "document.body.dataset.rendered = ''; true").unwrap();
    browser.click(&app, "#resume").unwrap();
    wait(&mut browser, &app, "location.hash === '#/sync'", 30);
    let finished = wait_finished(&mut browser, &app, 300);
    assert_eq!(finished, task);
    assert_eq!(text(&mut browser, &app, "#result-line"), format!("任务执行完毕：查询数 {n}，命中数 {n}，核销数 {n}"));
    let after = serde_json::to_value(sim.sim.stats()).unwrap();
    let details = |stats: &Value| stats["byRoute"]["queryDecData"]["requests"].as_u64().unwrap_or(0);
    assert_eq!(details(&after) - details(&before), 2, "only the two missing details were fetched again");
    go(&mut browser, &app, "#/records", "records:1");
    assert_eq!(browser.eval(&app, &format!("document.querySelector('{row}').classList.contains('disagree')")).unwrap(), json!(false));
    assert_eq!(text(&mut browser, &app, &format!("{row} [data-field=state]")), "执行完毕");
}

/// 中国电子口岸卡介质口令: with a card in the reader, 连接协同服务 shows it; a wrong PIN stops
/// at the card with the tries left (no task is created, the field is emptied); the right one
/// starts the task after 卡介质验证. Needs the machine's pcscd with vsmartcard-vpcd (`cargo xtask
/// test` starts it), like the host's card tests.
#[test]
fn the_card_pin_is_checked_on_the_card_before_the_task_starts() {
    use virtual_card::pcscd::SlotLock;
    use virtual_card::{CardSpec, InsertedCard, Profile, SLOT_1};
    let dist = Dist::locate().unwrap();
    let sim = start_sim(60, 36, 0);
    let _slot = SlotLock::acquire(SLOT_1);
    let card = InsertedCard::insert(SLOT_1, CardSpec::new(Profile::Test, "88888888")).unwrap();
    let mut options = LaunchOptions::for_dist(&dist);
    options.env.push(("DATALINK_CARD_BACKEND".into(), "pcsc".into()));
    options.env.push(("DATALINK_CARD_READER".into(), SLOT_1.reader.into()));
    let mut browser = Browser::launch(&options).unwrap();
    let login = browser.portal_login(&sim.sim.login_url(), "88888888").unwrap();
    browser.close(&login).unwrap();
    let app = open_sync(&mut browser, &sim.sim, 1000);
    connect(&mut browser, &app);
    let log = text(&mut browser, &app, "#log");
    assert!(log.contains("IC卡：") && !log.contains("未检测到可用的IC卡"), "the card is found: {log}");
    let notices = browser.eval(&app, "[...document.querySelectorAll('#notices .notice')].map(n => n.textContent)").unwrap();
    assert_eq!(notices, json!([]), "no clear state to show");

    browser.click(&app, "#f-span-1y").unwrap();
    browser.fill(&app, "#f-pin", "12345678").unwrap();
    browser.click(&app, "#start").unwrap();
    wait(&mut browser, &app, "!!document.querySelector('.notice[data-code=\"3007\"]')", 60);
    let notice = text(&mut browser, &app, ".notice[data-code=\"3007\"]");
    assert!(notice.contains("IC卡密码错误") && notice.contains("还可尝试"), "{notice}");
    assert_eq!(browser.eval(&app, "document.getElementById('f-pin').value").unwrap(), json!(""), "a refused PIN is not kept");
    assert!(browser.text_of(&app, "#progress-title").unwrap().unwrap_or_default().is_empty(), "no task was created");
    shot(&mut browser, &app, "33-card-wrong-pin");

    browser.fill(&app, "#f-pin", "88888888").unwrap();
    browser.click(&app, "#start").unwrap();
    wait(&mut browser, &app, "document.getElementById('log').textContent.includes('卡介质验证通过')", 60);
    wait_finished(&mut browser, &app, 300);
    let n = expected(&sim.sim, DateRange::past_years(today(), 1)).0.len();
    assert_eq!(text(&mut browser, &app, "#result-line"), format!("任务执行完毕：查询数 {n}，命中数 {n}，核销数 {n}"));
    drop(browser);
    drop(card);
}
