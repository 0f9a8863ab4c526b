//! `cargo xtask bench sync`: how the sync's cost grows (issue #4's benchmark).
//!
//! For each size it runs the demo's three-year sync in headless Chromium against portal-sim
//! with a fixed latency, twice: DataLink's way (4 requests in flight) and the one-at-a-time
//! way the existing tools work (1 in flight). It reports, per run, the requests made against
//! the minimum a complete sync needs (one per list page of each non-empty window, one probe
//! per empty window, one detail per declaration — computed from the simulator's truth), and
//! the wall time against its lower bound (requests × latency ÷ requests in flight).

use std::fmt::Write as _;

use datalink_core::plan::{plan, SpanLimit};
use datalink_core::task::{Conditions, DirectionChoice, Role, StatusChoice, TypeChoice};
use datalink_e2e::SyncSettings;
use serde_json::Value;

use crate::demo::{run_sync, sim_date, today, RunOptions};
use crate::{dist, flag_value, root, step, Result};

pub const FLAGS: &[&str] = &["--sizes", "--sequential-sizes", "--latency-ms"];

fn sizes(text: &str) -> Result<Vec<usize>> {
    text.split(',').filter(|s| !s.is_empty()).map(|s| s.trim().parse().map_err(|_| format!("not a size: {s:?}"))).collect()
}

pub fn run(args: &[String], toolchain: &crate::wasm::Toolchain) -> Result<()> {
    let what = args.first().map(String::as_str);
    if what != Some("sync") {
        return Err("usage: cargo xtask bench sync [--sizes 100,1000,10000] [--sequential-sizes 100,1000] [--latency-ms 50]".into());
    }
    let args = &args[1..];
    let latency: u64 = flag_value(args, "--latency-ms")?.map_or(Ok(50), |v| v.parse().map_err(|_| "--latency-ms takes a number".to_owned()))?;
    let pipelined = sizes(&flag_value(args, "--sizes")?.unwrap_or_else(|| "100,1000,10000".into()))?;
    let sequential = sizes(&flag_value(args, "--sequential-sizes")?.unwrap_or_else(|| "100,1000".into()))?;
    let dist_dir = root().join("target/dist");
    dist::build(toolchain, &dist::Options { out: dist_dir.clone(), release_host: true, dev_origin: None })?;
    let out = root().join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;

    let mut table = String::from(
        "| declarations | in flight | requests | minimum | ratio | wall s | bound s | ratio | declarations/min | state |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let runs: Vec<(usize, u32)> = pipelined.iter().map(|&n| (n, 4)).chain(sequential.iter().map(|&n| (n, 1))).collect();
    for (n, in_flight) in runs {
        step(&format!("{n} declarations, {in_flight} in flight, {latency} ms latency"));
        let range = datalink_core::period::DateRange::past_years(today(), 3);
        let options = RunOptions {
            dist: dist_dir.clone(),
            portal: None,
            sim: portal_sim::SimConfig {
                admin: true,
                seed: 1,
                declarations: n,
                latency_ms: latency,
                jitter_ms: Some(0),
                today: Some(sim_date(today())?),
                ..portal_sim::SimConfig::default()
            },
            pin: "88888888".into(),
            range,
            settings: SyncSettings { concurrency: in_flight, rate_per_second: 10_000.0, page_size: 100, request_timeout_ms: 30_000 },
            db: out.join(format!("bench-{n}-{in_flight}.db")),
            headed: false,
            print: false,
            card: false,
        };
        let result = run_sync(&options)?;
        let truth = result.truth.clone().unwrap_or(Value::Null);
        let minimum = minimum_requests(&truth, range, 100);
        let requests = result.list_requests + result.detail_requests;
        let wall = result.elapsed.as_secs_f64();
        let bound = requests as f64 * latency as f64 / 1000.0 / f64::from(in_flight);
        let found = result.expected.as_ref().map_or(0, |e| e.len());
        let per_minute = found as f64 / (wall / 60.0);
        let state = result.status["state"].as_str().unwrap_or_default().to_owned();
        let exact = result.exact().unwrap_or(false);
        println!(
            "requests {requests} (list {}, detail {}), minimum {minimum} → {:.3}×; wall {wall:.1} s, bound {bound:.1} s → {:.3}×; {per_minute:.0} declarations/min; {state}, export exact: {exact}",
            result.list_requests,
            result.detail_requests,
            requests as f64 / minimum as f64,
            wall / bound
        );
        let _ = writeln!(
            table,
            "| {n} ({found} in scope) | {in_flight} | {requests} | {minimum} | {:.3} | {wall:.1} | {bound:.1} | {:.3} | {per_minute:.0} | {state}{} |",
            requests as f64 / minimum as f64,
            wall / bound,
            if exact { ", exact" } else { ", NOT exact" }
        );
    }
    step("results (markdown)");
    print!("{table}");
    std::fs::write(out.join("sync.md"), &table).map_err(|e| e.to_string())?;
    println!("written to {}", out.join("sync.md").display());
    Ok(())
}

/// The fewest requests a complete sync of the demo's conditions needs on this data: one per
/// list page of each non-empty window (pages of `page_size`), one per empty window, one
/// detail per declaration in scope.
fn minimum_requests(truth: &Value, range: datalink_core::period::DateRange, page_size: u64) -> u64 {
    let conditions = Conditions {
        types: TypeChoice::Both,
        role: Role::Consignee,
        directions: DirectionChoice::Both,
        status: StatusChoice::Closed,
        lookup: None,
        range,
    };
    let span = SpanLimit { max_days: truth["maxSpanDays"].as_u64().unwrap_or(7) as u32 };
    let in_scope: Vec<&Value> = truth["declarations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["cusDecStatus"] == "10" && d["etpsCategory"].as_array().is_some_and(|r| r.iter().any(|x| x == "C")))
        .collect();
    let mut requests = 0;
    for stage in plan(&conditions, span) {
        for window in stage.windows {
            let count = in_scope
                .iter()
                .filter(|d| {
                    d["cusIEFlag"] == window.stream.direction.code()
                        && d["dclTrnRelFlag"] == window.stream.declaration_type.code()
                        && d["queryDate"].as_str().and_then(|s| s.parse().ok()).is_some_and(|day| window.span.contains(day))
                })
                .count() as u64;
            requests += count.div_ceil(page_size).max(1) + count;
        }
    }
    requests
}
