//! `pages-bench`: how quickly 协同记录 and 详情 draw with 50,000 declarations in the store,
//! against the same pages with 100 (the baseline, same run, same machine).
//!
//! ```sh
//! cargo xtask build                                   # a release host in target/dist
//! cargo run --release -p datalink-e2e --bin pages-bench
//! # options: --declarations 50000 --baseline 100 --tasks 25 --repeat 5 --dist DIR
//! ```
//!
//! For each size it seeds a fresh store through the host's own protocol — the requests a sync
//! sends (`task_create`, `list_page`, `window_done`, `detail_save` with 3 goods lines each,
//! `task_finish`), into one three-year task, plus smaller tasks listing 100 of the same
//! declarations so 协同记录 has several pages — then opens the app in headless Chromium on that
//! store and measures, through the pages' own performance marks (`datalink:<view>:painted`,
//! set in the task after the frame that showed the data):
//!
//! * time to first paint: navigation start → the table drawn (协同记录; 详情 of the big task);
//! * time to change page: click → the next page drawn (协同记录 page 2; 详情 page 2 and the
//!   last page, the deepest `OFFSET`).
//!
//! The median of `--repeat` runs is printed as a Markdown table with the ratio to the baseline.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use datalink_core::calendar::Date;
use datalink_core::checkpoint::{DetailSave, ListPageSave, TaskCreate, TaskFinish, WindowDone};
use datalink_core::period::{periods, DateRange};
use datalink_core::plan::Window;
use datalink_core::portal::{Detail, ListRow};
use datalink_core::protocol::{Envelope, Request};
use datalink_core::task::{Conditions, DateTime, DeclarationType, Direction, DirectionChoice, Role, StatusChoice, StatusSide, Stream, TaskNumber, TypeChoice};
use datalink_e2e::fixtures::declaration;
use datalink_e2e::{today, Browser, Dist, LaunchOptions, Page};
use serde_json::{json, Value};

type Result<T> = std::result::Result<T, String>;


/// The native host, spoken to over its pipe like the browser does.
struct Host {
    child: Child,
    input: ChildStdin,
    output: ChildStdout,
    next_id: u64,
    in_flight: usize,
}

impl Host {
    fn start(binary: &Path, db: &Path) -> Result<Host> {
        let mut child = Command::new(binary)
            .env("DATALINK_DB", db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let input = child.stdin.take().ok_or("no stdin")?;
        let output = child.stdout.take().ok_or("no stdout")?;
        Ok(Host { child, input, output, next_id: 1, in_flight: 0 })
    }

    fn send(&mut self, request: Request) -> Result<()> {
        let text = serde_json::to_vec(&Envelope { id: self.next_id, body: request }).map_err(|e| e.to_string())?;
        self.next_id += 1;
        let len = u32::try_from(text.len()).map_err(|e| e.to_string())?;
        self.input.write_all(&len.to_ne_bytes()).and_then(|()| self.input.write_all(&text)).map_err(|e| e.to_string())?;
        self.in_flight += 1;
        Ok(())
    }

    fn receive(&mut self) -> Result<Value> {
        let mut len = [0u8; 4];
        self.output.read_exact(&mut len).map_err(|e| format!("host closed: {e}"))?;
        let mut body = vec![0u8; u32::from_ne_bytes(len) as usize];
        self.output.read_exact(&mut body).map_err(|e| e.to_string())?;
        let reply: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        if reply.get("chunk").is_some() {
            return Err("a chunked reply (not expected while seeding)".into());
        }
        self.in_flight -= 1;
        if reply["ok"] != json!(true) {
            return Err(format!("host error: {}", reply["error"]));
        }
        Ok(reply["result"].clone())
    }

    /// Sends with up to 16 requests in flight (the host runs 32 at once).
    fn pipeline(&mut self, request: Request) -> Result<()> {
        while self.in_flight >= 16 {
            self.receive()?;
        }
        self.send(request)
    }

    fn drain(&mut self) -> Result<()> {
        while self.in_flight > 0 {
            self.receive()?;
        }
        Ok(())
    }

    fn call(&mut self, request: Request) -> Result<Value> {
        self.drain()?;
        self.send(request)?;
        self.receive()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}


fn time(date: Date, seconds: u32) -> DateTime {
    DateTime { date, hour: (seconds / 3600 % 24) as u8, minute: (seconds / 60 % 60) as u8, second: (seconds % 60) as u8 }
}


/// Seeds `db` with a three-year task of `n` declarations (all reconciled) and `tasks - 1`
/// smaller tasks listing up to 100 of them. Returns the big task's number.
fn seed(host_binary: &Path, db: &Path, n: usize, tasks: usize) -> Result<TaskNumber> {
    let mut host = Host::start(host_binary, db)?;
    let today = today();
    let range = DateRange::past_years(today, 3);
    let conditions = Conditions {
        types: TypeChoice::General,
        role: Role::Consignee,
        directions: DirectionChoice::Import,
        status: StatusChoice::Closed,
        lookup: None,
        range,
    };
    let stream = Stream { direction: Direction::Import, declaration_type: DeclarationType::General, status: StatusSide::Closed };
    let months = periods(range);
    let windows: Vec<Window> = months.iter().map(|p| Window { period: p.key(), stream, span: p.span, lookup: false }).collect();
    let create = |host: &mut Host, k: u32| -> Result<TaskNumber> {
        let record = host.call(Request::TaskCreate(TaskCreate {
            conditions: conditions.clone(),
            portal: "https://swapp.singlewindow.cn".into(),
            operator: format!("操作员{}", k % 3),
            now: time(today.add_days(-i64::from(k)), 36_000 + k),
            enterprise: None,
        }))?;
        serde_json::from_value::<TaskNumber>(record["number"].clone()).map_err(|e| e.to_string())
    };
    // The declarations, month by month.
    let mut by_window: Vec<Vec<(ListRow, Detail)>> = vec![Vec::new(); windows.len()];
    for i in 0..n {
        let w = i % windows.len();
        by_window[w].push(declaration(i, windows[w].span.first));
    }
    let big = create(&mut host, 0)?;
    let started = Instant::now();
    for (window, rows) in windows.iter().zip(&by_window) {
        for (page, chunk) in rows.chunks(100).enumerate() {
            host.pipeline(Request::ListPage(ListPageSave {
                task: big.clone(),
                window: window.clone(),
                pass: 1,
                offset: (page * 100) as u64,
                total: rows.len() as u64,
                rows: chunk.iter().map(|(r, _)| r.clone()).collect(),
            }))?;
        }
        host.pipeline(Request::WindowDone(WindowDone { task: big.clone(), window_key: window.key(), pass: 1, total: rows.len() as u64 }))?;
    }
    // Details only once every page is stored (requests in flight may run in any order).
    host.drain()?;
    for (_, detail) in by_window.iter().flatten() {
        host.pipeline(Request::DetailSave(DetailSave { task: big.clone(), detail: detail.clone() }))?;
    }
    host.drain()?;
    let report = host.call(Request::TaskFinish(TaskFinish { task: big.clone(), now: time(today, 40_000) }))?;
    if report["task"]["state"] != json!("completed") {
        return Err(format!("the seeded task did not complete: {}", report["task"]["message"]));
    }
    // Smaller tasks: one month each, re-listing what the store already holds (incremental).
    for k in 1..tasks {
        let task = create(&mut host, k as u32)?;
        let w = k % windows.len();
        let rows: Vec<ListRow> = by_window[w].iter().take(100).map(|(r, _)| r.clone()).collect();
        host.call(Request::ListPage(ListPageSave { task: task.clone(), window: windows[w].clone(), pass: 1, offset: 0, total: rows.len() as u64, rows }))?;
    }
    println!("  seeded {n} declarations and {tasks} tasks in {:.1}s", started.elapsed().as_secs_f64());
    Ok(big)
}

/// Milliseconds from the page's time origin to the mark, waiting for it.
fn mark(browser: &mut Browser, page: &Page, name: &str) -> Result<f64> {
    let expression = format!("(() => {{ const m = performance.getEntriesByName({}); return m.length ? m[m.length - 1].startTime : null; }})()", json!(name));
    let value = browser.wait_for(page, &expression, Duration::from_secs(120)).map_err(|e| e.to_string())?;
    value.as_f64().ok_or_else(|| "not a number".into())
}

/// Opens the app at `hash` in a new tab; returns the ms to `view`'s painted mark.
fn first_paint(browser: &mut Browser, hash: &str, view: &str) -> Result<(f64, Page)> {
    let page = browser.open(&format!("chrome-extension://{}/app.html{hash}", datalink_e2e::EXTENSION_ID)).map_err(|e| e.to_string())?;
    let ms = mark(browser, &page, &format!("datalink:{view}:painted"))?;
    Ok((ms, page))
}

/// Clicks `selector` and returns the ms until `view`'s painted mark.
fn change_page(browser: &mut Browser, page: &Page, selector: &str, view: &str) -> Result<f64> {
    let name = format!("datalink:{view}:painted");
    let t0 = browser
        .eval(page, &format!("(() => {{ performance.clearMarks({}); const t0 = performance.now(); document.querySelector({}).click(); return t0; }})()", json!(name), json!(selector)))
        .map_err(|e| e.to_string())?
        .as_f64()
        .ok_or("no t0")?;
    Ok(mark(browser, page, &name)? - t0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Timings {
    records_first: f64,
    records_next: f64,
    detail_first: f64,
    detail_next: f64,
    detail_last: f64,
}

fn measure(dist: &Dist, db: &Path, big: &TaskNumber, repeat: usize) -> Result<Timings> {
    let mut options = LaunchOptions::for_dist(dist);
    options.db = Some(db.to_path_buf());
    let mut browser = Browser::launch(&options).map_err(|e| e.to_string())?;
    browser.wait_for_service_worker(Duration::from_secs(20)).map_err(|e| e.to_string())?;
    // Warm up: the worker, its wasm, the host process, SQLite's cache.
    let (_, warm) = first_paint(&mut browser, "#/records", "records:1")?;
    browser.close(&warm).map_err(|e| e.to_string())?;
    let (_, warm) = first_paint(&mut browser, &format!("#/task/{big}/detail"), "detail:1")?;
    browser.close(&warm).map_err(|e| e.to_string())?;
    let (mut rf, mut rn, mut df, mut dn, mut dl) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..repeat {
        let (ms, page) = first_paint(&mut browser, "#/records", "records:1")?;
        rf.push(ms);
        rn.push(change_page(&mut browser, &page, "#records-pager [data-go=\"2\"]", "records:2")?);
        browser.close(&page).map_err(|e| e.to_string())?;
        let (ms, page) = first_paint(&mut browser, &format!("#/task/{big}/detail"), "detail:1")?;
        df.push(ms);
        dn.push(change_page(&mut browser, &page, "#declarations-pager [data-go=\"next\"]", "detail:2")?);
        let last = browser.eval(&page, "document.getElementById('declarations-pager').dataset.pages").map_err(|e| e.to_string())?;
        let last = last.as_str().unwrap_or("1").to_owned();
        dl.push(change_page(&mut browser, &page, &format!("#declarations-pager [data-go=\"{last}\"]"), &format!("detail:{last}"))?);
        browser.close(&page).map_err(|e| e.to_string())?;
    }
    Ok(Timings { records_first: median(rf), records_next: median(rn), detail_first: median(df), detail_next: median(dn), detail_last: median(dl) })
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |name: &str, default: usize| flag(&args, name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let (declarations, baseline, tasks, repeat) = (number("--declarations", 50_000), number("--baseline", 100), number("--tasks", 25), number("--repeat", 5));
    if let Some(dir) = flag(&args, "--dist") {
        std::env::set_var("DATALINK_DIST", dir);
    }
    let dist = Dist::locate().map_err(|e| e.to_string())?;
    let host = dist.root.join("host/datalink-host");
    let dir = std::env::temp_dir().join(format!("datalink-pages-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = (|| {
        let mut rows = Vec::new();
        for n in [baseline, declarations] {
            println!("store with {n} declarations:");
            let db: PathBuf = dir.join(format!("bench-{n}.db"));
            let big = seed(&host, &db, n, tasks)?;
            let t = measure(&dist, &db, &big, repeat)?;
            println!(
                "  records: first paint {:.0} ms, page 2 {:.0} ms; detail: first paint {:.0} ms, page 2 {:.0} ms, last page {:.0} ms",
                t.records_first, t.records_next, t.detail_first, t.detail_next, t.detail_last
            );
            rows.push((n, t));
        }
        Ok::<_, String>(rows)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    let rows = result?;
    let (base, big) = (&rows[0].1, &rows[1].1);
    let line = |what: &str, b: f64, x: f64| println!("| {what} | {b:.0} ms | {x:.0} ms | {:.2}× |", x / b.max(0.001));
    println!("\n| measure (median of {repeat}) | {} declarations | {} declarations | ratio |", rows[0].0, rows[1].0);
    println!("|---|---:|---:|---:|");
    line("协同记录: time to first paint", base.records_first, big.records_first);
    line("协同记录: change page (→ 2)", base.records_next, big.records_next);
    line("详情: time to first paint", base.detail_first, big.detail_first);
    line("详情: change page (→ 2)", base.detail_next, big.detail_next);
    line("详情: change page (→ last)", base.detail_last, big.detail_last);
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pages-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
