//! `cargo xtask demo`: the main job, end to end, visibly — portal-sim (or a portal you name),
//! headless Chromium with the extension and the host, a card login, a three-year sync of both
//! declaration types in both directions, and the per-month reconciliation it proves.
//!
//! [`run_sync`] is the one routine that runs a sync in a real browser; the demo prints it and
//! `cargo xtask bench sync` (bench.rs) measures it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use datalink_core::calendar::Date;
use datalink_core::period::DateRange;
use datalink_e2e::{Browser, Dist, LaunchOptions, SyncSettings};
use serde_json::{json, Value};

use crate::{dist, flag_value, root, step, Result};

pub const FLAGS: &[&str] = &["--declarations", "--seed", "--max-span-days", "--latency-ms", "--faults", "--portal", "--pin", "--out"];

/// One sync in a real browser.
pub struct RunOptions {
    pub dist: PathBuf,
    /// A running portal's base URL; `None`: start portal-sim with `sim`.
    pub portal: Option<String>,
    pub sim: portal_sim::SimConfig,
    pub pin: String,
    pub range: DateRange,
    pub settings: SyncSettings,
    pub db: PathBuf,
    pub headed: bool,
    /// Print the execution log as it streams.
    pub print: bool,
    /// Use the virtual IC card: pcscd + vpcd, the card in the demo's reader, the PIN verified
    /// on it before the task starts (卡介质验证).
    pub card: bool,
    /// How long the task may run before the run fails.
    pub deadline: Duration,
}

/// What a run proved.
pub struct RunResult {
    pub task: String,
    pub status: Value,
    /// From 启动协同服务 to the final state, polled every 100 ms.
    pub elapsed: Duration,
    /// List and detail requests the portal served (portal-sim only).
    pub list_requests: u64,
    pub detail_requests: u64,
    /// The declarations the portal holds in the task's scope (portal-sim only).
    pub expected: Option<BTreeSet<String>>,
    pub exported: Vec<Value>,
    /// portal-sim's truth at the end (portal-sim only).
    pub truth: Option<Value>,
    /// The host's and Chromium's memory, sampled at every status poll (bench.rs).
    pub memory: crate::bench::MemoryPeak,
}

pub fn run_sync(options: &RunOptions) -> Result<RunResult> {
    for stale in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{stale}", options.db.display()));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| e.to_string())?;
    let (sim, base, login_url) = match &options.portal {
        Some(portal) => {
            let base = portal.trim_end_matches('/').to_owned();
            let login = format!("{base}/cas/login?_swCardF=1");
            (None, base, login)
        }
        None => {
            let sim = runtime.block_on(portal_sim::start(options.sim.clone())).map_err(|e| format!("portal-sim: {e:?}"))?;
            let (base, login) = (sim.base_url(), sim.login_url());
            if options.print {
                println!("portal-sim listening on {base}");
            }
            (Some(sim), base, login)
        }
    };
    let dist = Dist { root: options.dist.clone() };
    let mut launch = LaunchOptions::for_dist(&dist);
    launch.headed = options.headed;
    launch.db = Some(options.db.clone());
    // The card stays in its reader for the whole run (removed when this goes out of scope).
    let _card = if options.card {
        crate::deps::ensure_pcscd()?;
        let slot = virtual_card::SLOT_1;
        let card = virtual_card::InsertedCard::insert(slot, virtual_card::CardSpec::new(virtual_card::Profile::Test, &options.pin))?;
        launch.env.push(("DATALINK_CARD_BACKEND".into(), "pcsc".into()));
        launch.env.push(("DATALINK_CARD_READER".into(), slot.reader.into()));
        if options.print {
            println!("虚拟IC卡已插入读卡器 {}", slot.reader);
        }
        Some(card)
    } else {
        None
    };
    let mut browser = Browser::launch(&launch).map_err(|e| e.to_string())?;
    browser.wait_for_service_worker(Duration::from_secs(20)).map_err(|e| e.to_string())?;
    let desk = browser.portal_login(&login_url, &options.pin).map_err(|e| e.to_string())?;
    if options.print {
        let user = browser.eval(&desk, "document.getElementById('userName').textContent").map_err(|e| e.to_string())?;
        println!("卡介质登录成功，用户名：{user}");
    }
    let app = browser.open_app().map_err(|e| e.to_string())?;
    // The memory baseline: the host just started and answered its handshake (`ping`).
    let connected = browser.ask(&app, &json!({ "type": "connect_host" })).map_err(|e| e.to_string())?;
    if connected["ok"] != json!(true) {
        return Err(format!("连接协同客户端 failed: {}", connected["error"]));
    }
    let mut memory = crate::bench::MemoryPeak::default();
    memory.sample(browser.db());
    memory.host_start_kib = memory.host_peak_kib;
    let mut request = datalink_e2e::start_request(&base, options.range, &options.settings);
    request["pin"] = json!(options.pin);
    request["verifyCard"] = json!(options.card);
    let started_at = Instant::now();
    let started = browser.ask(&app, &request).map_err(|e| e.to_string())?;
    if started["ok"] != json!(true) {
        return Err(format!("启动协同服务 failed: {}", started["error"]));
    }
    let task = started["result"]["number"].as_str().unwrap_or_default().to_owned();
    let mut relogins = 0;
    let status = datalink_e2e::wait_done(&mut browser, &app, options.deadline, options.print, |browser, status| {
        memory.sample(browser.db());
        // Without a PIN the worker cannot log in again by itself; the "user" does.
        if status["paused"] == json!(true) && relogins < 50 {
            relogins += 1;
            std::thread::sleep(Duration::from_secs(2));
            if let Ok(page) = browser.portal_login(&login_url, &options.pin) {
                let _ = browser.close(&page);
            }
        }
    })
    .map_err(|e| e.to_string())?;
    let elapsed = started_at.elapsed();
    memory.sample(browser.db());
    let exported = datalink_e2e::export(&dist, &options.db, &task).map_err(|e| e.to_string())?;
    let (mut list_requests, mut detail_requests, mut expected, mut truth) = (0, 0, None, None);
    if let Some(sim) = &sim {
        let stats = serde_json::to_value(sim.stats()).map_err(|e| e.to_string())?;
        list_requests = stats["byRoute"]["cusQuery"]["requests"].as_u64().unwrap_or(0);
        detail_requests = stats["byRoute"]["queryDecData"]["requests"].as_u64().unwrap_or(0);
        let t = serde_json::to_value(sim.truth()).map_err(|e| e.to_string())?;
        expected = Some(datalink_e2e::truth_in_scope(&t, options.range));
        truth = Some(t);
    }
    Ok(RunResult { task, status, elapsed, list_requests, detail_requests, expected, exported, truth, memory })
}

impl RunResult {
    /// Whether the export equals the portal's truth exactly (no loss, no duplicate).
    pub fn exact(&self) -> Option<bool> {
        let expected = self.expected.as_ref()?;
        let got: BTreeSet<String> = self.exported.iter().filter_map(|r| r["cusCiqNo"].as_str().map(str::to_owned)).collect();
        Some(&got == expected && self.exported.len() == got.len())
    }
}

pub fn run(args: &[String], toolchain: &crate::wasm::Toolchain) -> Result<()> {
    let number = |name: &str, default: u64| -> Result<u64> {
        flag_value(args, name)?.map_or(Ok(default), |v| v.parse().map_err(|_| format!("{name} takes a number, not {v:?}")))
    };
    let out = flag_value(args, "--out")?.map(PathBuf::from).unwrap_or_else(|| root().join("target/demo"));
    let dist_dir = root().join("target/dist");
    dist::build(toolchain, &dist::Options { out: dist_dir.clone(), release_host: true, dev_origin: None })?;
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;

    let today = today();
    let range = DateRange::past_years(today, 3);
    let pin = flag_value(args, "--pin")?.unwrap_or_else(|| "88888888".into());
    let faults = flag_value(args, "--faults")?.unwrap_or_default();
    let sim = portal_sim::SimConfig {
        admin: true,
        seed: number("--seed", 1)?,
        declarations: number("--declarations", 700)? as usize,
        max_span_days: number("--max-span-days", 7)? as u32,
        latency_ms: number("--latency-ms", 0)?,
        pin: pin.clone(),
        today: Some(sim_date(today)?),
        faults: faults.parse().map_err(|e| format!("--faults: {e:?}"))?,
        ..portal_sim::SimConfig::default()
    };
    let portal = flag_value(args, "--portal")?;
    match &portal {
        Some(url) => step(&format!("using the portal at {url}")),
        None => step(&format!(
            "portal-sim: {} declarations, seed {}, span ≤ {} days, latency {} ms, faults {:?}",
            sim.declarations, sim.seed, sim.max_span_days, sim.latency_ms, faults
        )),
    }
    step(&format!("报关单协同 in headless Chromium: 一般报关单+备案清单, 报关收发货人, 进出口, 结关, {} 至 {} (过去3年)", range.first, range.last));
    let options = RunOptions {
        dist: dist_dir,
        portal,
        sim,
        pin,
        range,
        settings: SyncSettings { concurrency: 4, rate_per_second: 200.0, page_size: 100, request_timeout_ms: 15_000 },
        db: out.join("datalink.db"),
        headed: args.iter().any(|a| a == "--headed"),
        print: true,
        card: true,
        deadline: Duration::from_secs(7200),
    };
    let result = run_sync(&options)?;
    let status = &result.status;

    step(&format!("任务 {}: {}", result.task, state_label(status["state"].as_str().unwrap_or_default())));
    let report = &status["report"];
    println!("{:<10} {:>8} {:>8} {:>8}", "月份", "查询数", "命中数", "核销数");
    for period in report["periods"].as_array().into_iter().flatten() {
        let c = &period["counts"];
        let mark = if c["queried"] == c["hit"] && c["hit"] == c["reconciled"] { "✓" } else { "✗" };
        println!("{:<12} {:>10} {:>10} {:>10}  {mark}", period["period"].as_str().unwrap_or_default(), c["queried"], c["hit"], c["reconciled"]);
    }
    let total = &report["total"];
    println!("{:<12} {:>10} {:>10} {:>10}", "合计", total["queried"], total["hit"], total["reconciled"]);
    println!("耗时 {:.1} s；单一窗口请求：列表 {} 次，详情 {} 次", result.elapsed.as_secs_f64(), result.list_requests, result.detail_requests);
    let exact = result.exact();
    if let (Some(expected), Some(exact)) = (&result.expected, exact) {
        println!(
            "导出 {} 票报关单（含备案清单），单一窗口中应有 {} 票：{}",
            result.exported.len(),
            expected.len(),
            if exact { "完全一致 ✓" } else { "不一致 ✗" }
        );
    }
    let summary = json!({
        "task": result.task,
        "state": status["state"],
        "periods": report["periods"],
        "total": report["total"],
        "listRequests": result.list_requests,
        "detailRequests": result.detail_requests,
        "seconds": result.elapsed.as_secs_f64(),
        "exported": result.exported.len(),
        "expected": result.expected.as_ref().map(BTreeSet::len),
        "exact": exact,
    });
    std::fs::write(out.join("summary.json"), format!("{summary:#}\n")).map_err(|e| e.to_string())?;
    println!("\n{} and {} written", options.db.display(), out.join("summary.json").display());
    if status["state"] != json!("completed") || exact == Some(false) {
        return Err("the sync did not end 执行完毕 with an exact export".into());
    }
    certificate(&root().join("target/dist/host/datalink-host"), &options.db, today.year() - 1, &out)
}

/// 数据验证报告: the 进出口贸易额证明 of the last full calendar year, from the demo's store, into
/// `out/certificate.pdf` (and its figures into `out/trade-value.json`).
fn certificate(host: &std::path::Path, db: &std::path::Path, year: i32, out: &std::path::Path) -> Result<()> {
    step(&format!("数据验证报告：{year} 年进出口贸易额证明"));
    let (from, to) = (format!("{year}01"), format!("{year}12"));
    let figures = std::process::Command::new(host)
        .args(["report", "trade-value", "--json", "--from", &from, "--to", &to, "--db"])
        .arg(db)
        .output()
        .map_err(|e| format!("cannot run the host: {e}"))?;
    if !figures.status.success() {
        return Err(format!("report trade-value failed: {}", String::from_utf8_lossy(&figures.stderr)));
    }
    std::fs::write(out.join("trade-value.json"), &figures.stdout).map_err(|e| e.to_string())?;
    let pdf = out.join("certificate.pdf");
    let made = std::process::Command::new(host)
        .args(["certificate", "--from", &from, "--to", &to, "--project", "DataLink 演示项目", "--department", "商务主管部门"])
        .arg("--db")
        .arg(db)
        .arg("--out")
        .arg(&pdf)
        .output()
        .map_err(|e| format!("cannot run the host: {e}"))?;
    print!("{}", String::from_utf8_lossy(&made.stdout));
    eprint!("{}", String::from_utf8_lossy(&made.stderr));
    if !made.status.success() {
        return Err("the certificate could not be made".into());
    }
    let report: Value = serde_json::from_slice(&figures.stdout).map_err(|e| e.to_string())?;
    for paragraph in report["certificate"]["body"].as_array().into_iter().flatten() {
        println!("  {}", paragraph.as_str().unwrap_or_default());
    }
    let verified = std::process::Command::new(host).arg("verify-certificate").arg(&pdf).arg("--db").arg(db).output().map_err(|e| e.to_string())?;
    print!("{}", String::from_utf8_lossy(&verified.stdout));
    if !verified.status.success() {
        return Err(format!("verify-certificate refused the demo's certificate: {}", String::from_utf8_lossy(&verified.stderr)));
    }
    println!("{} written", pdf.display());
    Ok(())
}

fn state_label(state: &str) -> &'static str {
    match state {
        "completed" => "执行完毕",
        "failed" => "执行异常",
        "cancelled" => "已取消",
        "running" => "执行中",
        _ => "待执行",
    }
}

/// Today (UTC day), as the end-to-end tests plan with it.
pub use datalink_e2e::today;

pub fn sim_date(day: Date) -> Result<portal_sim::Date> {
    day.to_string().parse().map_err(|e| format!("{e:?}"))
}
