//! `cargo xtask demo`: the main job, end to end, visibly — portal-sim (or a portal you name),
//! headless Chromium with the extension and the host, a card login, a three-year sync of both
//! declaration types in both directions, and the per-month reconciliation it proves.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use datalink_core::period::DateRange;
use datalink_e2e::{Browser, Dist, LaunchOptions, SyncSettings};
use serde_json::json;

use crate::{dist, flag_value, root, step, Result};

pub const FLAGS: &[&str] = &["--declarations", "--seed", "--max-span-days", "--latency-ms", "--faults", "--portal", "--pin", "--out"];

pub fn run(args: &[String], toolchain: &crate::wasm::Toolchain) -> Result<()> {
    let number = |name: &str, default: u64| -> Result<u64> {
        flag_value(args, name)?.map_or(Ok(default), |v| v.parse().map_err(|_| format!("{name} takes a number, not {v:?}")))
    };
    let declarations = number("--declarations", 700)? as usize;
    let seed = number("--seed", 1)?;
    let max_span_days = number("--max-span-days", 7)? as u32;
    let latency_ms = number("--latency-ms", 0)?;
    let faults = flag_value(args, "--faults")?.unwrap_or_default();
    let pin = flag_value(args, "--pin")?.unwrap_or_else(|| "88888888".into());
    let out = flag_value(args, "--out")?.map(PathBuf::from).unwrap_or_else(|| root().join("target/demo"));
    let headed = args.iter().any(|a| a == "--headed");

    let dist_dir = root().join("target/dist");
    dist::build(toolchain, &dist::Options { out: dist_dir.clone(), release_host: true, dev_origin: None })?;
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let db = out.join("datalink.db");
    for stale in ["datalink.db", "datalink.db-wal", "datalink.db-shm"] {
        let _ = std::fs::remove_file(out.join(stale));
    }

    let today = today();
    let range = DateRange::past_years(today, 3);
    // The simulator, unless a running portal was named.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| e.to_string())?;
    let (sim, base, login_url) = match flag_value(args, "--portal")? {
        Some(portal) => {
            let base = portal.trim_end_matches('/').to_owned();
            let login = format!("{base}/cas/login?_swCardF=1");
            (None, base, login)
        }
        None => {
            step(&format!("starting portal-sim: {declarations} declarations, seed {seed}, span ≤ {max_span_days} days, latency {latency_ms} ms, faults {:?}", faults));
            let config = portal_sim::SimConfig {
                admin: true,
                seed,
                declarations,
                max_span_days,
                latency_ms,
                pin: pin.clone(),
                today: Some(today.to_string().parse().map_err(|e| format!("{e:?}"))?),
                faults: faults.parse().map_err(|e| format!("--faults: {e:?}"))?,
                ..portal_sim::SimConfig::default()
            };
            let sim = runtime.block_on(portal_sim::start(config)).map_err(|e| format!("portal-sim: {e:?}"))?;
            let (base, login) = (sim.base_url(), sim.login_url());
            println!("portal-sim listening on {base}");
            (Some(sim), base, login)
        }
    };

    step("headless Chromium with the extension and datalink-host");
    let dist = Dist { root: dist_dir.clone() };
    let mut options = LaunchOptions::for_dist(&dist);
    options.headed = headed;
    options.db = Some(db.clone());
    let mut browser = Browser::launch(&options).map_err(|e| e.to_string())?;
    browser.wait_for_service_worker(Duration::from_secs(20)).map_err(|e| e.to_string())?;

    step("卡介质登录 (card login on the portal)");
    let desk = browser.portal_login(&login_url, &pin).map_err(|e| e.to_string())?;
    let user = browser.eval(&desk, "document.getElementById('userName').textContent").map_err(|e| e.to_string())?;
    println!("logged in as {user}");

    step(&format!("报关单协同: 一般报关单+备案清单, 报关收发货人, 进出口, 结关, {} 至 {} (过去3年)", range.first, range.last));
    let app = browser.open_app().map_err(|e| e.to_string())?;
    let settings = SyncSettings { concurrency: 4, rate_per_second: 200.0, page_size: 100, request_timeout_ms: 15_000 };
    let started_at = Instant::now();
    let started = browser.ask(&app, &datalink_e2e::start_request(&base, range, &settings)).map_err(|e| e.to_string())?;
    if started["ok"] != json!(true) {
        return Err(format!("启动协同服务 failed: {}", started["error"]));
    }
    let task = started["result"]["number"].as_str().unwrap_or_default().to_owned();
    let mut relogins = 0;
    let status = datalink_e2e::wait_done(&mut browser, &app, Duration::from_secs(3600), true, |browser, status| {
        if status["paused"] == json!(true) && relogins < 20 {
            relogins += 1;
            if let Ok(page) = browser.portal_login(&login_url, &pin) {
                let _ = browser.close(&page);
            }
        }
    })
    .map_err(|e| e.to_string())?;
    let elapsed = started_at.elapsed();

    step(&format!("任务 {task}: {}", state_label(status["state"].as_str().unwrap_or_default())));
    let report = &status["report"];
    println!("{:<10} {:>8} {:>8} {:>8}", "月份", "查询数", "命中数", "核销数");
    for period in report["periods"].as_array().into_iter().flatten() {
        let c = &period["counts"];
        let mark = if c["queried"] == c["hit"] && c["hit"] == c["reconciled"] { "✓" } else { "✗" };
        println!("{:<12} {:>10} {:>10} {:>10}  {mark}", period["period"].as_str().unwrap_or_default(), c["queried"], c["hit"], c["reconciled"]);
    }
    let total = &report["total"];
    println!("{:<12} {:>10} {:>10} {:>10}", "合计", total["queried"], total["hit"], total["reconciled"]);
    println!("耗时 {:.1} s, {} 次单一窗口请求", elapsed.as_secs_f64(), status["requests"]);

    let mut verdict = json!(null);
    if let Some(sim) = &sim {
        let expected = datalink_e2e::truth_in_scope(&serde_json::to_value(sim.truth()).map_err(|e| e.to_string())?, range);
        let exported = datalink_e2e::export(&dist, &db, &task).map_err(|e| e.to_string())?;
        let got: std::collections::BTreeSet<String> = exported.iter().filter_map(|r| r["cusCiqNo"].as_str().map(str::to_owned)).collect();
        let exact = got == expected && exported.len() == got.len();
        println!(
            "导出 {} 票报关单（含备案清单），单一窗口中应有 {} 票：{}",
            exported.len(),
            expected.len(),
            if exact { "完全一致 ✓" } else { "不一致 ✗" }
        );
        verdict = json!({ "expected": expected.len(), "exported": exported.len(), "exact": exact });
    }
    let summary = json!({
        "task": task,
        "state": status["state"],
        "periods": report["periods"],
        "total": report["total"],
        "requests": status["requests"],
        "seconds": elapsed.as_secs_f64(),
        "groundTruth": verdict,
    });
    std::fs::write(out.join("summary.json"), format!("{summary:#}\n")).map_err(|e| e.to_string())?;
    println!("\n{} and {} written", db.display(), out.join("summary.json").display());
    if status["state"] != json!("completed") || verdict["exact"] == json!(false) {
        return Err("the sync did not end 执行完毕 with an exact export".into());
    }
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

fn today() -> datalink_core::calendar::Date {
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() / 86_400).unwrap_or(0);
    datalink_core::calendar::Date::from_day_number(days as i64)
}
