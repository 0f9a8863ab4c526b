//! `cargo xtask bench sync`: how the sync's cost grows (issue #4's benchmark).
//!
//! For each size it runs the demo's three-year sync in headless Chromium against portal-sim
//! with a fixed latency, twice: DataLink's way (4 requests in flight) and the one-at-a-time
//! way the existing tools work (1 in flight). It reports, per run, the requests made against
//! the minimum a complete sync needs (one per list page of each non-empty window, one probe
//! per empty window, one detail per declaration — computed from the simulator's truth), and
//! the wall time against its lower bound (requests × latency ÷ requests in flight), and the
//! memory the run took: the host's peak resident set (`VmHWM` of every `datalink-host` process
//! the browser started for this run's database, the largest if the host was restarted) against
//! the same host right after its handshake, and the peak of all Chromium processes' resident
//! sets added together (sampled at every status poll, i.e. every ~150 ms).
//!
//! Sizes up to 50,000 declarations work: the run's deadline grows with the requests it needs
//! (see [`deadline`]).

use std::fmt::Write as _;

use datalink_core::plan::{plan, SpanLimit};
use datalink_core::task::{Conditions, DirectionChoice, Role, StatusChoice, TypeChoice};
use datalink_e2e::SyncSettings;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

use crate::demo::{run_sync, sim_date, today, RunOptions};
use crate::{dist, flag_value, root, step, Result};

pub const FLAGS: &[&str] = &["--sizes", "--sequential-sizes", "--latency-ms"];

fn sizes(text: &str) -> Result<Vec<usize>> {
    text.split(',').filter(|s| !s.is_empty()).map(|s| s.trim().parse().map_err(|_| format!("not a size: {s:?}"))).collect()
}

pub fn run(args: &[String], toolchain: &crate::wasm::Toolchain) -> Result<()> {
    let what = args.first().map(String::as_str);
    if what != Some("sync") {
        return Err("usage: cargo xtask bench sync [--sizes 100,1000,10000] [--sequential-sizes 100,1000] [--latency-ms 50]\n       cargo xtask bench host [--count 20000] [--writes 200] [--host PATH]".into());
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
        "| declarations | in flight | requests | minimum | ratio | wall s | bound s | ratio | declarations/min | host at start MiB | host peak MiB | host peak ÷ start | Chromium peak MiB | state |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
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
            deadline: deadline(n, latency, in_flight),
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
        let m = &result.memory;
        let mib = |kib: u64| kib as f64 / 1024.0;
        let growth = if m.host_start_kib > 0 { m.host_peak_kib as f64 / m.host_start_kib as f64 } else { f64::NAN };
        println!(
            "requests {requests} (list {}, detail {}), minimum {minimum} → {:.3}×; wall {wall:.1} s, bound {bound:.1} s → {:.3}×; {per_minute:.0} declarations/min; {state}, export exact: {exact}",
            result.list_requests,
            result.detail_requests,
            requests as f64 / minimum as f64,
            wall / bound
        );
        println!(
            "memory: host VmHWM {:.1} MiB after its handshake, {:.1} MiB peak ({growth:.2}×, {} host process(es)); Chromium peak {:.1} MiB over {} samples",
            mib(m.host_start_kib),
            mib(m.host_peak_kib),
            m.host_pids.len(),
            mib(m.chromium_peak_kib),
            m.samples
        );
        let _ = writeln!(
            table,
            "| {n} ({found} in scope) | {in_flight} | {requests} | {minimum} | {:.3} | {wall:.1} | {bound:.1} | {:.3} | {per_minute:.0} | {:.1} | {:.1} | {growth:.2} | {:.0} | {state}{} |",
            requests as f64 / minimum as f64,
            wall / bound,
            mib(m.host_start_kib),
            mib(m.host_peak_kib),
            mib(m.chromium_peak_kib),
            if exact { ", exact" } else { ", NOT exact" }
        );
    }
    step("results (markdown)");
    print!("{table}");
    std::fs::write(out.join("sync.md"), &table).map_err(|e| e.to_string())?;
    println!("written to {}", out.join("sync.md").display());
    Ok(())
}

/// How long a run may take: four times its latency bound with the requests a sync of `n`
/// declarations needs (about 800 list requests for the three years, one detail per
/// declaration), and at least 20 minutes — 50,000 declarations one at a time is ~45 minutes.
pub fn deadline(n: usize, latency_ms: u64, in_flight: u32) -> Duration {
    let requests = 800 + n as u64;
    let bound_ms = requests * latency_ms.max(1) / u64::from(in_flight.max(1));
    Duration::from_millis((bound_ms * 4).max(20 * 60 * 1000))
}

/// The memory of one run, in KiB, from `/proc`: the processes whose environment has
/// `DATALINK_DB=<the run's database>` — the `datalink-host` processes (by executable) and
/// Chromium's (everything else: they pass the variable on to the host they start).
#[derive(Debug, Default, Clone)]
pub struct MemoryPeak {
    /// The host's `VmHWM` right after its handshake (set by the caller from the first sample).
    pub host_start_kib: u64,
    /// The largest `VmHWM` of any host process seen (a restarted host is a new process).
    pub host_peak_kib: u64,
    /// The largest sum of Chromium's processes' `VmRSS` at one sample.
    pub chromium_peak_kib: u64,
    /// Every host process seen.
    pub host_pids: Vec<u32>,
    pub samples: u64,
}

impl MemoryPeak {
    /// Reads the processes of the browser whose host uses `db` once.
    pub fn sample(&mut self, db: &Path) {
        let mut chromium = 0;
        for datalink_e2e::StoreProcess { pid, is_host } in datalink_e2e::processes_of_store(db) {
            let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { continue };
            if is_host {
                self.host_peak_kib = self.host_peak_kib.max(status_kib(&status, "VmHWM:"));
                if !self.host_pids.contains(&pid) {
                    self.host_pids.push(pid);
                }
            } else {
                chromium += status_kib(&status, "VmRSS:");
            }
        }
        self.chromium_peak_kib = self.chromium_peak_kib.max(chromium);
        self.samples += 1;
    }
}

/// A `kB` field of `/proc/<pid>/status` (0 when absent).
fn status_kib(status: &str, field: &str) -> u64 {
    status.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0)
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
