//! `portal-sim`: run the simulated Single Window portal on 127.0.0.1.
//!
//! Prints `portal-sim listening on http://127.0.0.1:PORT/prefix` on stdout
//! (one line, flushed) so a parent process can read the base URL, then
//! serves until Ctrl-C. See `portal-sim --help` and the crate README.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use portal_sim::{
    initial_truth, start, Date, EnterpriseSpec, FaultSpec, RateLimitAnswer, SimConfig,
};

/// A local China Single Window declaration portal (报关单查询) for tests and
/// benchmarks: same paths, encodings, paging, session and limits as the real
/// swapp.singlewindow.cn, with a deterministic synthetic enterprise and
/// reproducible faults.
#[derive(Parser, Debug)]
#[command(name = "portal-sim", version, after_help = AFTER_HELP)]
struct Cli {
    /// TCP port on 127.0.0.1 (0 = pick a free one; the URL is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Path prefix of every portal route, as provincial proxies use (e.g. /swProxy).
    #[arg(long, default_value = "")]
    prefix: String,
    /// Serve the test-only admin API at /__sim/* (truth, stats, faults, reset, session).
    #[arg(long)]
    admin: bool,
    /// Seed of the synthetic data, the fault draws, the latency jitter and the session ids.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of declarations.
    #[arg(long, default_value_t = 700)]
    declarations: usize,
    /// First declaration day, YYYY-MM-DD [default: --to minus 3 years].
    #[arg(long)]
    from: Option<Date>,
    /// Last declaration day, YYYY-MM-DD [default: --today].
    #[arg(long)]
    to: Option<Date>,
    /// The simulator's today, YYYY-MM-DD; decides statuses [default: today in China, UTC+8].
    #[arg(long)]
    today: Option<Date>,
    /// The card PIN (卡口令) the login page accepts.
    #[arg(long, default_value = "88888888")]
    pin: String,
    /// Maximum span of a list query in calendar days, both ends included (0 = unlimited).
    #[arg(long, default_value_t = 7)]
    max_span_days: u32,
    /// Maximum rows in one list answer, whatever `limit` asks (total is unchanged).
    #[arg(long, default_value_t = 1000)]
    max_rows: usize,
    /// Requests per second accepted over all portal routes (0 = unlimited).
    #[arg(long, default_value_t = 0.0)]
    rate_limit: f64,
    /// Answer to a request over --rate-limit: 429, or waf (HTTP 400 with a WAF block page).
    #[arg(long, default_value = "429")]
    rate_limit_answer: RateLimitAnswer,
    /// Added latency per portal request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Latency jitter, uniform ± this many ms [default: half of --latency-ms].
    #[arg(long)]
    jitter_ms: Option<u64>,
    /// Fault spec, e.g. 5xx=0.05,hang=0.01,garbage=0.01,html=0.01,expire_every=200,shift=5 (see below).
    #[arg(long, default_value = "none")]
    faults: FaultSpec,
    /// Wrong PINs in a row before the card locks until reset (0 = never).
    #[arg(long, default_value_t = 5)]
    card_lock_after: u32,
    /// A session idle this many seconds expires.
    #[arg(long, default_value_t = 1800)]
    session_idle_secs: u64,
    /// One more enterprise (repeatable): pin=PIN[,declarations=N][,broker[,share=0.5]]
    /// [,name=NAME][,scc=SCC][,code=CUSTOMS_CODE]. The first enterprise is --pin/--declarations.
    #[arg(long = "enterprise", value_name = "SPEC")]
    enterprises: Vec<EnterpriseSpec>,
    /// Print the ground truth (as GET /__sim/truth would) as JSON and exit.
    #[arg(long)]
    dump_truth: bool,
}

const AFTER_HELP: &str = "\
FAULT SPEC (--faults, POST /__sim/faults): comma-separated key=value items
  5xx=P, hang=P, garbage=P, html=P   probabilities (sum <= 1) per data request
                                     (list, detail, receipts, PDFs)
  hang_ms=MS                         how long a hang lasts before a 504 (default 60000)
  burst=LEN, burst_every=K           LEN consecutive 5xx from every K-th data request (K=50)
  expire_every=N                     a session serves N data requests, then redirects to login
  shift=N, shift_every=K             N data changes, one before every K-th range list query (K=3)
  detail_fail=ID|ID                  these cusCiqNo always fail queryDecData (ok:false)
  only=list|detail|receipts|pdf      restrict the probabilistic faults to these routes
  pdf_login=P, pdf_cut=P, pdf_5xx=P  prints only (sum <= 1): the CAS login page (200 text/html),
                                     the PDF cut short (200), a 500/502/503
  pdf_login_for=ID|ID, pdf_cut_for=ID|ID, pdf_5xx_for=ID|ID
                                     the same for these cusCiqNo's prints
  pdf_fail_times=N                   listed prints fail N times, then are served (0 = always)
Decisions are a pure function of --seed and the request sequence.

ENTERPRISES: --enterprise pin=22222222,declarations=300 --enterprise pin=33333333,broker
  Each enterprise logs in with its own PIN and sees only its own declarations; a broker
  also sees (roles A and D) the others' declarations it declared (its share, default 0.5,
  of those where they are not the 申报单位 themselves).

ROUTES (under --prefix): /cas/login, /deskserver/sw/deskIndex, /deskserver/sw/allVersion,
  /decserver/sw/dec/cusQueryZh, GET /decserver/sw/dec/merge/cusQuery,
  POST /decserver/sw/dec/merge/queryDecData, GET /decserver/sw/dec/common/queryCusDecRet,
  /decserver/entries/ftl/1/0/0/{cusCiqNo}.pdf, /decserver/entries/direct/ftl/1/0/0/{cusCiqNo}.pdf
ADMIN (with --admin, at the root): GET /__sim/truth, GET /__sim/stats,
  GET|POST /__sim/faults, POST /__sim/reset, POST /__sim/session [body {\"enterprise\":N}]";

impl Cli {
    fn config(self) -> SimConfig {
        SimConfig {
            port: self.port,
            prefix: self.prefix,
            admin: self.admin,
            seed: self.seed,
            declarations: self.declarations,
            from: self.from,
            to: self.to,
            today: self.today,
            pin: self.pin,
            max_span_days: self.max_span_days,
            max_rows: self.max_rows,
            rate_limit: self.rate_limit,
            rate_limit_answer: self.rate_limit_answer,
            latency_ms: self.latency_ms,
            jitter_ms: self.jitter_ms,
            faults: self.faults,
            card_lock_after: self.card_lock_after,
            session_idle_secs: self.session_idle_secs,
            extra_enterprises: self.enterprises,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let dump = cli.dump_truth;
    let config = cli.config();
    if dump {
        return match initial_truth(&config).map(|t| serde_json::to_string_pretty(&t)) {
            Ok(Ok(text)) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Ok(Err(e)) => {
                eprintln!("portal-sim: {e}");
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("portal-sim: {e}");
                ExitCode::from(2)
            }
        };
    }
    let sim = match start(config.clone()).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("portal-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let truth = sim.truth();
    println!("portal-sim listening on {}", sim.base_url());
    let _ = std::io::stdout().flush();
    eprintln!(
        "portal-sim: {} declarations {}..{} (today {}), enterprise {} ({}), seed {}, faults {}",
        truth.declarations.len(),
        truth.from,
        truth.to,
        truth.today,
        truth.enterprise.name,
        truth.enterprise.scc,
        config.seed,
        config.faults,
    );
    for (i, e) in truth.enterprises.iter().enumerate().skip(1) {
        eprintln!(
            "portal-sim: enterprise {} {} ({}, {}){}: {} declarations in sight",
            i + 1,
            e.enterprise.name,
            e.enterprise.scc,
            e.enterprise.customs_code,
            if e.broker { ", broker" } else { "" },
            e.declarations.len(),
        );
    }
    eprintln!("portal-sim: card login at {}", sim.login_url());
    if config.admin {
        eprintln!("portal-sim: admin API at {}/__sim/", sim.origin());
    }
    let _ = tokio::signal::ctrl_c().await;
    eprintln!("portal-sim: shutting down");
    sim.shutdown().await;
    ExitCode::SUCCESS
}
