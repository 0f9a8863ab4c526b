//! `portal-sim-bench`: how many list and detail requests per second the
//! simulator serves, next to a trivial route on the same server.
//!
//! Starts the simulator in-process on 127.0.0.1 (zero latency, no faults,
//! no rate limit), opens `--clients` keep-alive connections from the same
//! process, and runs three phases of `--requests` requests each (bounded by
//! `--max-secs` per phase):
//!
//! * `baseline`: `GET /deskserver/sw/allVersion`, the session probe (a
//!   session check and a 30-byte JSON body): the server's per-request floor.
//! * `list`: `GET /decserver/sw/dec/merge/cusQuery` exactly as scrapers send
//!   it (triple-encoded `decStatusInfo`), random 7-day windows, both
//!   directions, both types, closed and not closed, `limit=50`.
//! * `detail`: `POST /decserver/sw/dec/merge/queryDecData` for random
//!   declarations.
//! * `pdf`: `GET /decserver/entries/ftl/1/0/0/{cusCiqNo}.pdf`, the print of
//!   random declarations that have a 报关单号 (a PDF of 1–4 KB made per request).
//!
//! Load generator and server share the machine's cores, so the numbers are
//! a lower bound for the server alone. Loopback only; bounded in count and
//! time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use portal_sim::client::Client;
use portal_sim::codec::{encode_uri, encode_uri_component};
use portal_sim::rng::Rng;
use portal_sim::{start, SimConfig};

/// Benchmark the portal simulator over loopback.
#[derive(Parser, Debug, Clone)]
#[command(name = "portal-sim-bench")]
struct Args {
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Requests per phase.
    #[arg(long, default_value_t = 50_000)]
    requests: usize,
    /// Upper bound on one phase's duration, in seconds.
    #[arg(long, default_value_t = 20)]
    max_secs: u64,
    /// Declarations in the simulated enterprise.
    #[arg(long, default_value_t = 700)]
    declarations: usize,
    /// Seed of the data and of the request mix.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Clone)]
enum Req {
    Get(String),
    PostJson(String, String),
}

struct PhaseResult {
    name: &'static str,
    done: usize,
    errors: usize,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl PhaseResult {
    fn rate(&self) -> f64 {
        self.done as f64 / self.secs
    }
}

async fn phase(
    name: &'static str,
    addr: std::net::SocketAddr,
    session: &str,
    reqs: Arc<Vec<Req>>,
    args: &Args,
) -> PhaseResult {
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.max_secs);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (next, reqs, session) = (next.clone(), reqs.clone(), session.to_string());
        let total = args.requests;
        tasks.push(tokio::spawn(async move {
            let mut c = Client::new(addr);
            c.timeout = Duration::from_secs(10);
            c.set_cookie("JSESSIONID", &session);
            let mut lat = Vec::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                let r = match &reqs[i % reqs.len()] {
                    Req::Get(target) => c.get_api(target).await,
                    Req::PostJson(target, body) => c.post_json(target, body).await,
                };
                match r {
                    Ok(resp)
                        if resp.status == 200
                            && matches!(resp.body.first(), Some(b'{') | Some(b'%')) => {}
                    _ => errors += 1,
                }
                lat.push(t.elapsed());
            }
            (lat, errors)
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            lat.extend(l);
            errors += e;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    PhaseResult {
        name,
        done: lat.len(),
        errors,
        secs,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let cfg = SimConfig {
        seed: args.seed,
        declarations: args.declarations,
        ..SimConfig::default()
    };
    let sim = match start(cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("portal-sim-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let truth = sim.truth();
    let session = sim.create_session();
    let mut rng = Rng::new(args.seed ^ 0xBE4C);

    let baseline = Arc::new(vec![Req::Get("/deskserver/sw/allVersion".to_string())]);
    let span = truth.from.days_until(truth.to).max(7);
    let list: Vec<Req> = (0..4096)
        .map(|_| {
            let start = truth.from.add_days(rng.range(0, span - 6));
            let info = serde_json::json!({
                "operType": "0",
                "dclTrnRelFlag": *rng.pick(&["0", "2"]),
                "cusDecStatus": *rng.pick(&["", "10"]),
                "etpsCategory": "C",
                "cusIEFlag": *rng.pick(&["I", "E"]),
                "entryId": "", "cusCiqNo": "", "billNo": "", "isBillNoExactQuery": "0",
                "tableFlag": "1",
                "updateTime": start.to_string(),
                "updateTimeEnd": start.add_days(6).to_string(),
                "operateDate": "1",
                "queryPage": "cusBasicQuery",
            });
            let enc = encode_uri_component(&encode_uri(&encode_uri(&info.to_string())));
            Req::Get(format!(
                "/decserver/sw/dec/merge/cusQuery?limit=50&offset=0&stName=updateTime&stOrder=desc&decStatusInfo={enc}"
            ))
        })
        .collect();
    let detail: Vec<Req> = (0..4096)
        .map(|_| {
            let d = &rng.pick(&truth.declarations).declaration;
            let body = serde_json::json!({
                "cusCiqNo": d.cus_ciq_no,
                "cusIEFlag": d.cus_i_e_flag.code(),
                "operationType": "cusEdit",
            });
            Req::PostJson(
                "/decserver/sw/dec/merge/queryDecData".to_string(),
                body.to_string(),
            )
        })
        .collect();

    let printed: Vec<&portal_sim::Declaration> = truth
        .declarations
        .iter()
        .map(|t| &t.declaration)
        .filter(|d| d.entry_id.is_some())
        .collect();
    let pdf: Vec<Req> = (0..4096)
        .map(|_| {
            let d = rng.pick(&printed);
            Req::Get(format!("/decserver/entries/ftl/1/0/0/{}.pdf", d.cus_ciq_no))
        })
        .collect();

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "portal-sim-bench: {cores} cores, {} clients, {} requests per phase (max {} s), {} declarations, zero latency",
        args.clients, args.requests, args.max_secs, truth.declarations.len()
    );
    // Warm-up: open the connections and touch the code paths.
    let warm = Args {
        requests: 500,
        ..args.clone()
    };
    let _ = phase(
        "warmup",
        sim.addr(),
        &session,
        Arc::new(list.clone()),
        &warm,
    )
    .await;

    let mut results = Vec::new();
    results.push(phase("baseline", sim.addr(), &session, baseline, &args).await);
    results.push(phase("list", sim.addr(), &session, Arc::new(list), &args).await);
    results.push(phase("detail", sim.addr(), &session, Arc::new(detail), &args).await);
    results.push(phase("pdf", sim.addr(), &session, Arc::new(pdf), &args).await);

    let base = results[0].rate();
    println!(
        "{:<9} {:>9} {:>7} {:>8} {:>10} {:>8} {:>8} {:>12}",
        "phase", "requests", "errors", "seconds", "req/s", "p50 ms", "p99 ms", "vs baseline"
    );
    for r in &results {
        println!(
            "{:<9} {:>9} {:>7} {:>8.2} {:>10.0} {:>8.2} {:>8.2} {:>11.0}%",
            r.name,
            r.done,
            r.errors,
            r.secs,
            r.rate(),
            r.p50_ms,
            r.p99_ms,
            100.0 * r.rate() / base
        );
    }
    let stats = sim.stats();
    println!(
        "server counted {} requests, statuses {:?}",
        stats.requests, stats.by_status
    );
    sim.shutdown().await;
    let failed = results.iter().any(|r| r.errors > 0);
    if failed {
        eprintln!("portal-sim-bench: some requests failed");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
