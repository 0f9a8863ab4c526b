//! Issue #7 end to end: the 数据验证报告 page (Rust/wasm) in headless Chromium against portal-sim
//! and the real host, clicked through as a user does. A year of declarations is synced in two
//! tasks — January to November from 报关单协同, then December from the report page's own 去协同
//! link — and the page is checked on the way: the form's refusal of a cross-year range, the
//! missing month named with a link that prefills 报关单协同, then the covered year: the
//! 数据协同核验表 equal to the two tasks' counts and to the simulator's truth, the certificate's
//! preview (company, credit code, watermark), the chart (a bar per month and direction), the PDF
//! downloaded (`%PDF`) and opened for printing. Screenshots go to
//! `target/e2e-artifacts/report/`. Run serially (`--test-threads=1`).
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use datalink_core::calendar::Date;
use datalink_core::period::DateRange;
use datalink_e2e::{today, Sim, artifacts_dir, truth_in_scope, Browser, Dist, LaunchOptions, Page};
use portal_sim::{RunningSim, SimConfig};
use serde_json::{json, Value};



/// The last full calendar year (what the form offers by default).
fn last_year() -> i32 {
    today().year() - 1
}

fn day(text: &str) -> Date {
    text.parse().unwrap()
}

/// A simulator whose declarations all fall in `year`.
fn start_sim(declarations: usize, seed: u64, year: i32) -> Sim {
    let config = SimConfig {
        seed,
        declarations,
        from: Some(format!("{year}-01-01").parse().unwrap()),
        to: Some(format!("{year}-12-31").parse().unwrap()),
        ..SimConfig::default()
    };
    Sim::start(config).unwrap()
}

fn truth(sim: &RunningSim) -> Value {
    serde_json::to_value(sim.truth()).unwrap()
}

fn shots() -> PathBuf {
    artifacts_dir().join("report")
}

fn shot(browser: &mut Browser, page: &Page, name: &str) {
    let path = shots().join(format!("{name}.png"));
    browser.screenshot(page, &path).unwrap();
    println!("  screenshot {}", path.display());
}

fn wait(browser: &mut Browser, page: &Page, expression: &str, secs: u64) -> Value {
    browser.wait_explained(page, expression, Duration::from_secs(secs), Some(&shots())).unwrap()
}

/// Goes to `hash` and waits until the view is drawn (`<body data-rendered>` starts with `rendered`).
fn go(browser: &mut Browser, page: &Page, hash: &str, rendered: &str) {
    browser.go(page, hash, rendered, Some(&shots())).unwrap();
}

/// Clicks and waits for the page's next mark, which must be `expected`.
fn click_and_mark(browser: &mut Browser, page: &Page, selector: &str, expected: &str, secs: u64) {
    browser.eval(page, "document.body.dataset.rendered = ''; true").unwrap();
    browser.click(page, selector).unwrap();
    let mark = wait(browser, page, "document.body.dataset.rendered || null", secs);
    if mark != json!(expected) {
        let _ = browser.screenshot(page, &shots().join("failure.png"));
        let body = browser.eval(page, "document.body.innerText.slice(0, 4000)").unwrap_or_default();
        panic!("after {selector}: {mark} instead of {expected:?}\n--- page text ---\n{}", body.as_str().unwrap_or_default());
    }
}

fn text(browser: &mut Browser, page: &Page, selector: &str) -> String {
    browser.text_of(page, selector).unwrap().unwrap_or_else(|| panic!("no {selector}"))
}

fn value(browser: &mut Browser, page: &Page, selector: &str) -> String {
    let v = browser.eval(page, &format!("document.querySelector({}).value", json!(selector))).unwrap();
    v.as_str().unwrap_or_default().to_owned()
}


/// Orders two non-negative decimal texts (`"1234.5"`, `"99"`) exactly, without floats.
fn decimal_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let split = |s: &str| {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let int = int.trim_start_matches('0').to_owned();
        (int.len(), int, format!("{frac:0<30}"))
    };
    split(a).cmp(&split(b))
}

/// 报关单协同 with portal-sim's address and a fast rate, connected.
fn open_sync_connected(browser: &mut Browser, sim: &RunningSim) -> Page {
    let app = browser.open_app().unwrap();
    browser.set_viewport(&app, 1440, 1000).unwrap();
    go(browser, &app, "#/sync", "sync");
    browser.eval(&app, "document.getElementById('settings').open = true").unwrap();
    browser.fill(&app, "#f-portal", &sim.base_url()).unwrap();
    browser.fill(&app, "#f-concurrency", "4").unwrap();
    browser.fill(&app, "#f-rate", "1000").unwrap();
    browser.click(&app, "#connect").unwrap();
    wait(browser, &app, "document.querySelector('#steps li[data-step=\"2\"]').className.includes('done')", 30);
    app
}

/// Waits until 报关单协同 shows a finished task other than `previous`; returns its number.
fn wait_new_task_finished(browser: &mut Browser, app: &Page, previous: Option<&str>, secs: u64) -> String {
    let not = json!(previous.unwrap_or("-"));
    wait(
        browser,
        app,
        &format!("(() => {{ const t = document.getElementById('progress-title'); return !!document.getElementById('result-line') && !!t && !t.textContent.includes({not}); }})()"),
        secs,
    );
    text(browser, app, "#progress-title").rsplit('：').next().unwrap().trim().to_owned()
}

/// A task's 查询数 / 命中数 / 核销数 per month, from the host (what 详情 shows).
fn task_periods(browser: &mut Browser, app: &Page, task: &str) -> BTreeMap<String, [u64; 3]> {
    let reply = browser.ask(app, &json!({ "type": "task_report", "task": task })).unwrap();
    assert_eq!(reply["ok"], json!(true), "{reply}");
    reply["result"]["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let c = &p["counts"];
            (p["period"].as_str().unwrap().to_owned(), [c["queried"].as_u64().unwrap(), c["hit"].as_u64().unwrap(), c["reconciled"].as_u64().unwrap()])
        })
        .collect()
}

#[test]
fn a_year_synced_in_two_tasks_gives_the_certificate_preview_chart_and_pdf() {
    let dist = Dist::locate().unwrap();
    let year = last_year();
    let sim = start_sim(120, 71, year);
    let truth = truth(&sim.sim);
    let whole_year = DateRange { first: day(&format!("{year}-01-01")), last: day(&format!("{year}-12-31")) };
    let to_november = DateRange { first: whole_year.first, last: day(&format!("{year}-11-30")) };
    let in_year = truth_in_scope(&truth, whole_year);
    let to_nov = truth_in_scope(&truth, to_november);
    assert!(
        in_year.len() > 30 && to_nov.len() < in_year.len(),
        "declarations in the year ({}) and in December ({})",
        in_year.len(),
        in_year.len() - to_nov.len()
    );

    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    let downloads = std::env::temp_dir().join(format!("datalink-report-dl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&downloads);
    browser.allow_downloads(&downloads).unwrap();
    let login = browser.portal_login(&sim.sim.login_url(), "88888888").unwrap();
    browser.close(&login).unwrap();

    // January to November, from 报关单协同.
    let app = open_sync_connected(&mut browser, &sim.sim);
    browser.click(&app, "#f-span-custom").unwrap();
    browser.fill(&app, "#f-first", &to_november.first.to_string()).unwrap();
    browser.fill(&app, "#f-last", &to_november.last.to_string()).unwrap();
    browser.click(&app, "#start").unwrap();
    let first_task = wait_new_task_finished(&mut browser, &app, None, 300);
    let n = to_nov.len();
    assert_eq!(text(&mut browser, &app, "#result-line"), format!("任务执行完毕：查询数 {n}，命中数 {n}，核销数 {n}"));

    // 协同记录's 企业验证报告 opens the report page.
    go(&mut browser, &app, "#/records", "records:1");
    browser.eval(&app, "document.body.dataset.rendered = ''; true").unwrap();
    browser.click(&app, ".toolbar a[href=\"#/report\"]").unwrap();
    wait(&mut browser, &app, "document.body.dataset.rendered === 'report'", 30);
    assert_eq!(text(&mut browser, &app, ".nav-item.active"), "数据验证报告");
    let offers: Vec<String> =
        serde_json::from_value(browser.eval(&app, "[...document.querySelectorAll('#rp-offers .offer strong')].map(e => e.textContent)").unwrap()).unwrap();
    assert_eq!(offers, ["进出口贸易额证明", "数据协同核验表", "月度贸易汇总"], "the certificate first");
    assert_eq!(
        (value(&mut browser, &app, "#rp-from"), value(&mut browser, &app, "#rp-to")),
        (format!("{year}01"), format!("{year}12")),
        "the last full calendar year"
    );
    let notes = text(&mut browser, &app, "#rp-notes");
    assert!(notes.contains("不可跨年") && notes.contains("水印") && notes.contains("数据不完整"), "the seed's two warnings: {notes}");
    assert!(!notes.contains("概不负责"), "no legalese");
    shot(&mut browser, &app, "01-report-form");

    // An empty form and a cross-year range are refused next to their fields, nothing is asked.
    click_and_mark(&mut browser, &app, "#rp-confirm", "report:invalid", 10);
    assert_eq!(text(&mut browser, &app, "#rp-error"), "请输入申请项目");
    browser.fill(&app, "#rp-project", "外贸发展专项资金").unwrap();
    browser.fill(&app, "#rp-department", "西安市商务局").unwrap();
    browser.fill(&app, "#rp-from", &format!("{year}12")).unwrap();
    browser.fill(&app, "#rp-to", &format!("{}01", year + 1)).unwrap();
    click_and_mark(&mut browser, &app, "#rp-confirm", "report:invalid", 10);
    assert_eq!(text(&mut browser, &app, "#rp-error"), "时间范围不可跨年：请分别出具各年度的证明");
    assert_eq!(browser.eval(&app, "document.getElementById('rp-to').classList.contains('invalid')").unwrap(), json!(true));
    assert_eq!(text(&mut browser, &app, "#rp-result"), "", "nothing was asked");
    shot(&mut browser, &app, "02-report-cross-year");

    // The whole year: December is missing, named, and 去协同 links to a prefilled sync.
    browser.fill(&app, "#rp-from", &format!("{year}01")).unwrap();
    browser.fill(&app, "#rp-to", &format!("{year}12")).unwrap();
    click_and_mark(&mut browser, &app, "#rp-confirm", "report:gaps", 60);
    let missing: Vec<String> =
        serde_json::from_value(browser.eval(&app, "[...document.querySelectorAll('#rp-gaps li')].map(e => e.dataset.month)").unwrap()).unwrap();
    assert_eq!(missing, [format!("{year}-12")]);
    let href = browser.eval(&app, "document.getElementById('rp-go-sync').getAttribute('href')").unwrap();
    assert_eq!(href, json!(format!("#/sync?from={year}-12-01&to={year}-12-31&for=report")));
    let rows = browser.eval(&app, "document.querySelectorAll('#rp-coverage tbody tr').length").unwrap();
    assert_eq!(rows, json!(12), "the 核验表 lists every month");
    let november = format!("#rp-coverage tr[data-month=\"{year}-11\"]");
    assert_eq!(text(&mut browser, &app, &format!("{november} [data-field=task]")), first_task);
    assert_eq!(text(&mut browser, &app, &format!("#rp-coverage tr[data-month=\"{year}-12\"] [data-field=task]")), "--");
    shot(&mut browser, &app, "03-report-gap");

    // 去协同: 报关单协同 with December and the certificate's conditions; run it from there.
    browser.eval(&app, "document.body.dataset.rendered = ''; true").unwrap();
    browser.click(&app, "#rp-go-sync").unwrap();
    wait(&mut browser, &app, "location.hash.startsWith('#/sync') && document.body.dataset.rendered.startsWith('sync')", 30);
    std::thread::sleep(Duration::from_millis(1500)); // a poll or two: the finished task must not overwrite the form
    assert_eq!(browser.eval(&app, "document.getElementById('f-span-custom').checked").unwrap(), json!(true));
    assert_eq!((value(&mut browser, &app, "#f-first"), value(&mut browser, &app, "#f-last")), (format!("{year}-12-01"), format!("{year}-12-31")));
    for (field, want) in [("#f-types", "both"), ("#f-role", "C"), ("#f-directions", "both"), ("#f-status", "closed")] {
        assert_eq!(value(&mut browser, &app, field), want, "{field}");
    }
    assert!(text(&mut browser, &app, "#prefill-note").contains("数据验证报告"));
    shot(&mut browser, &app, "04-sync-prefilled");
    browser.click(&app, "#start").unwrap();
    let second_task = wait_new_task_finished(&mut browser, &app, Some(&first_task), 300);
    let december = in_year.len() - to_nov.len();
    assert_eq!(text(&mut browser, &app, "#result-line"), format!("任务执行完毕：查询数 {december}，命中数 {december}，核销数 {december}"));

    // Back on the report page: the form as it was left; the year is covered now.
    go(&mut browser, &app, "#/report", "report");
    assert_eq!(value(&mut browser, &app, "#rp-project"), "外贸发展专项资金", "remembered");
    assert_eq!(value(&mut browser, &app, "#rp-department"), "西安市商务局");
    click_and_mark(&mut browser, &app, "#rp-confirm", "report:ready", 120);

    // 数据协同核验表: each month's counts are the counts of the task that synced it.
    let mut expected = task_periods(&mut browser, &app, &first_task);
    let december_key = format!("{year}-12");
    expected.retain(|k, _| *k != december_key);
    let second = task_periods(&mut browser, &app, &second_task);
    expected.insert(december_key.clone(), second[&december_key]);
    let shown = browser
        .eval(&app, "[...document.querySelectorAll('#rp-coverage tbody tr')].map(r => [r.dataset.month, ...['queried','hit','reconciled'].map(k => Number(r.querySelector(`td[data-count=${k}]`).textContent)), r.querySelector('[data-field=task]').textContent])")
        .unwrap();
    let shown: Vec<(String, u64, u64, u64, String)> = serde_json::from_value(shown).unwrap();
    assert_eq!(shown.len(), 12);
    for (month, q, h, r, task) in &shown {
        assert_eq!([*q, *h, *r], expected[month], "{month}");
        assert_eq!(task, if *month == december_key { &second_task } else { &first_task }, "{month}");
    }
    assert_eq!(shown.iter().map(|s| s.3).sum::<u64>(), in_year.len() as u64, "the year's 核销数 is the portal's truth");
    assert_eq!(text(&mut browser, &app, "#rp-declarations"), in_year.len().to_string());

    // The preview: the enterprise, the credit code, the period, the watermark from the form.
    let enterprise = &truth["enterprise"];
    assert_eq!(text(&mut browser, &app, "#rp-company"), enterprise["name"].as_str().unwrap());
    assert_eq!(text(&mut browser, &app, "#rp-credit-code"), enterprise["scc"].as_str().unwrap());
    assert_eq!(text(&mut browser, &app, "#rp-period"), format!("{year}01-{year}12"));
    assert_eq!(text(&mut browser, &app, "#rp-cert .cert-title"), "进出口贸易额证明");
    let sheet = text(&mut browser, &app, "#rp-cert");
    for part in [enterprise["name"].as_str().unwrap(), enterprise["scc"].as_str().unwrap(), "西安市商务局", "特此证明"] {
        assert!(sheet.contains(part), "{part} in the preview: {sheet}");
    }
    let watermark = browser.eval(&app, "document.querySelector('#rp-cert').dataset.watermark").unwrap();
    let watermark = watermark.as_str().unwrap();
    assert!(watermark.contains("外贸发展专项资金") && watermark.contains("西安市商务局"), "{watermark}");
    let layer = browser.eval(&app, "(() => { const w = document.querySelector('#rp-cert .cert-watermark'); return [w.getAttribute('aria-hidden'), w.querySelectorAll('span').length, getComputedStyle(w.firstChild).transform !== 'none']; })()").unwrap();
    assert_eq!(layer, json!(["true", 48, true]), "a repeated, rotated, hidden watermark layer");
    assert!(text(&mut browser, &app, "#rp-code").starts_with("核验码："));

    // The chart: one bar per month and direction; the taller bar is the larger amount.
    let bars = browser.eval(&app, "[...document.querySelectorAll('#rp-chart svg rect[data-direction]')].map(b => [b.dataset.month, b.dataset.direction, b.dataset.value, Number(b.getAttribute('height')), b.namespaceURI])").unwrap();
    let bars: Vec<(String, String, String, f64, String)> = serde_json::from_value(bars).unwrap();
    assert_eq!(bars.len(), 24, "12 months × import and export");
    for m in 1..=12 {
        for direction in ["import", "export"] {
            let month = format!("{year}-{m:02}");
            assert_eq!(bars.iter().filter(|b| b.0 == month && b.1 == direction).count(), 1, "{month} {direction}");
        }
    }
    assert!(bars.iter().all(|b| b.4 == "http://www.w3.org/2000/svg"), "SVG elements, made with createElementNS");
    let tallest = bars.iter().max_by(|a, b| a.3.total_cmp(&b.3)).unwrap();
    let largest = bars.iter().max_by(|a, b| decimal_cmp(&a.2, &b.2)).unwrap();
    assert_eq!((&tallest.0, &tallest.1), (&largest.0, &largest.1), "heights follow the amounts");
    assert!(tallest.3 > 0.0);
    // Drawn as tall as the attribute says (no page style squeezes the bars), from the base line.
    let drawn = browser
        .eval(&app, &format!("(() => {{ const b = document.querySelector('#rp-chart rect[data-month=\"{}\"][data-direction=\"{}\"]'); return [Math.abs(b.getBBox().height - Number(b.getAttribute('height'))) < 0.5, b.getBoundingClientRect().height > 20]; }})()", tallest.0, tallest.1))
        .unwrap();
    assert_eq!(drawn, json!([true, true]), "the tallest bar is drawn as tall as its attribute says, and visibly tall");
    let summary_rows = browser.eval(&app, "document.querySelectorAll('#rp-summary tbody tr').length").unwrap();
    assert_eq!(summary_rows, json!(13), "12 months and the total");
    assert!(browser.eval(&app, "document.querySelectorAll('#rp-currency tbody tr').length").unwrap().as_u64().unwrap() >= 1);
    shot(&mut browser, &app, "05-report-preview");

    // 设置: a wrong credit code is refused on the page; a new issuer is saved and the preview
    // is made again with it.
    browser.eval(&app, "document.getElementById('rp-settings').open = true").unwrap();
    browser.fill(&app, "#rp-set-credit", "12345").unwrap();
    browser.click(&app, "#rp-save-settings").unwrap();
    wait(&mut browser, &app, "document.getElementById('rp-settings-status').textContent.startsWith('统一社会信用代码应为 18 位')", 10);
    browser.fill(&app, "#rp-set-credit", "").unwrap();
    browser.fill(&app, "#rp-set-issuer", "陕西示例电子口岸有限责任公司").unwrap();
    browser.eval(&app, "document.body.dataset.rendered = ''; true").unwrap();
    browser.click(&app, "#rp-save-settings").unwrap();
    wait(&mut browser, &app, "document.body.dataset.rendered === 'report:settings'", 120);
    assert_eq!(text(&mut browser, &app, "#rp-settings-status"), "设置已保存");
    assert_eq!(text(&mut browser, &app, "#rp-cert .cert-issuer"), "陕西示例电子口岸有限责任公司");
    assert_eq!(value(&mut browser, &app, "#rp-set-issuer"), "陕西示例电子口岸有限责任公司", "as the host stored it");
    let stored = browser.ask(&app, &json!({ "type": "settings_get" })).unwrap();
    assert_eq!(stored["result"]["values"]["issuer"], json!("陕西示例电子口岸有限责任公司"), "{stored}");

    // PDF 下载: the host's PDF, saved under its name.
    click_and_mark(&mut browser, &app, "#rp-download", "report:pdf", 180);
    let file = browser.eval(&app, "document.getElementById('rp-status').dataset.file").unwrap().as_str().unwrap().to_owned();
    let number = browser.eval(&app, "document.getElementById('rp-status').dataset.number").unwrap();
    let bytes = browser.eval(&app, "Number(document.getElementById('rp-status').dataset.bytes)").unwrap();
    assert!(file.ends_with(".pdf") && file.contains(&format!("{year}01-{year}12")), "{file}");
    let pdf = datalink_e2e::downloaded(&downloads, &file).unwrap();
    assert!(pdf.starts_with(b"%PDF"), "a PDF: {:?}", &pdf[..pdf.len().min(16)]);
    assert_eq!(json!(pdf.len()), bytes, "the bytes the host made");
    std::fs::write(shots().join("certificate.pdf"), &pdf).unwrap();
    shot(&mut browser, &app, "06-report-downloaded");

    // PDF 打印: the same certificate (no new number), opened in a tab for Chrome's viewer.
    click_and_mark(&mut browser, &app, "#rp-print", "report:pdf", 60);
    assert_eq!(browser.eval(&app, "document.getElementById('rp-status').dataset.number").unwrap(), number, "打印 after 下载 makes no second certificate");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let targets = browser.call("Target.getTargets", json!({}), None).unwrap();
        let opened = targets["targetInfos"].as_array().unwrap().iter().any(|t| t["url"].as_str().is_some_and(|u| u.starts_with("blob:chrome-extension://")));
        if opened {
            break;
        }
        assert!(Instant::now() < deadline, "no tab with the PDF: {targets}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(text(&mut browser, &app, "#rp-status").contains("已在新标签页打开 PDF"));
    shot(&mut browser, &app, "07-report-printed");

    // In English: the page's words change, the certificate (Chinese) does not.
    browser.eval(&app, "document.body.dataset.rendered = ''; true").unwrap();
    browser.click(&app, "#lang-switch").unwrap();
    wait(&mut browser, &app, "document.body.dataset.rendered === 'report'", 20);
    assert_eq!(text(&mut browser, &app, "#rp-offers .offer strong"), "Import and export trade value certificate");
    assert_eq!(value(&mut browser, &app, "#rp-project"), "外贸发展专项资金", "the form is remembered");
    click_and_mark(&mut browser, &app, "#rp-confirm", "report:ready", 120);
    assert_eq!(text(&mut browser, &app, "#rp-download"), "Download PDF");
    assert_eq!(text(&mut browser, &app, "#rp-chart svg text.month"), "Jan");
    assert_eq!(text(&mut browser, &app, "#rp-cert .cert-title"), "进出口贸易额证明");
    shot(&mut browser, &app, "08-report-english");
    browser.click(&app, "#lang-switch").unwrap();
    let _ = std::fs::remove_dir_all(&downloads);
}
