//! `cargo xtask bench host`: the native host's round-trip latency and throughput, over pipes,
//! as the browser talks to it.
//!
//! It starts the release `datalink-host` (as Chromium does: `chrome-extension://<id>/` as the
//! argument, a length-prefixed JSON frame per message on stdin/stdout) on a fresh database in a
//! temporary folder, and measures from this process:
//!
//! * **sequential round trips** — write one frame, read its reply, repeat — of `ping` (the
//!   handshake: no store), `task_list` (a small store read: one task, first before anything
//!   was listed, then again after the writes, when its counts sum `--writes` × 100 rows),
//!   `list_page` with 100 new rows and `detail_save` with 3 goods lines (the sync's two
//!   writes, one SQLite transaction each); p50 / p90 / p99 / max per request type;
//! * **throughput** of `ping` and of `task_list` (after the writes), each on a freshly started
//!   host over the written store, with requests in flight: a writer thread sends frames while the main
//!   thread reads the replies, at most `W` unanswered at a time, for W = 1, 4, 16 and 32 (the
//!   host runs 32 at once and answers one more `busy`; it frees a request's slot before writing
//!   its reply, so a client refilling on every reply stays within 32 —
//!   `native-host/tests/abuse.rs` checks it).
//!
//! The **baseline**, in the same run, is the same frames through the same kind of pipes to
//! `cat`, which echoes them: two pipe hops and a process wake-up, no parsing, no work. Every
//! frame is serialised before the clock starts, so the harness's own JSON does not count; a
//! reply is checked only for `"ok":true` (a host error fails the run).
//!
//! ```sh
//! cargo xtask bench host            # options: --count 20000 --writes 200 --host PATH
//! ```
//!
//! `--count`: round trips per read type (`ping`, `task_list`); `--writes`: `list_page`s of 100
//! rows, hence `--writes` × 100 `detail_save`s. The host is `target/dist/host/datalink-host`
//! (it must be a release build: `cargo xtask build`) unless `--host` names another.

use std::fmt::Write as _;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use datalink_core::checkpoint::{DetailSave, ListPageSave, TaskCreate, TaskListQuery, WindowDone};
use datalink_core::period::{periods, DateRange};
use datalink_core::plan::Window;
use datalink_core::portal::{Detail, ListRow};
use datalink_core::protocol::{Envelope, PingRequest, Request, PROTOCOL_VERSION};
use datalink_core::task::{Conditions, DateTime, DeclarationType, Direction, DirectionChoice, Role, StatusChoice, StatusSide, Stream, TaskNumber, TypeChoice};
use datalink_e2e::fixtures::declaration;
use serde_json::{json, Value};

use crate::{flag_value, root, step, Result};

pub const FLAGS: &[&str] = &["--count", "--writes", "--host"];

/// A process spoken to in native-messaging frames over its stdin/stdout.
struct Peer {
    child: Child,
    input: Option<ChildStdin>,
    output: BufReader<ChildStdout>,
}

impl Peer {
    fn start(command: &mut Command) -> Result<Peer> {
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().map_err(|e| format!("cannot start {command:?}: {e}"))?;
        let input = child.stdin.take().ok_or("no stdin")?;
        let output = child.stdout.take().ok_or("no stdout")?;
        Ok(Peer { child, input: Some(input), output: BufReader::with_capacity(1 << 16, output) })
    }

    fn input(&mut self) -> Result<&mut ChildStdin> {
        self.input.as_mut().ok_or_else(|| "the input was handed to the writer".to_owned())
    }

    /// The peer's process id.
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.input = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one frame's body into `body`.
fn read_frame(output: &mut impl Read, body: &mut Vec<u8>) -> Result<()> {
    let mut len = [0u8; 4];
    output.read_exact(&mut len).map_err(|e| format!("the peer closed its output: {e}"))?;
    body.resize(u32::from_ne_bytes(len) as usize, 0);
    output.read_exact(body).map_err(|e| format!("truncated frame: {e}"))
}

/// Whether a reply is a success: the host's `"ok":true`, or the echoed request itself.
fn check(body: &[u8], echo: bool) -> Result<()> {
    if echo || body.windows(9).any(|w| w == b"\"ok\":true") {
        return Ok(());
    }
    Err(format!("the host answered an error: {}", String::from_utf8_lossy(&body[..body.len().min(400)])))
}

/// One serialised frame (length prefix + JSON).
fn frame(id: u64, request: &Request) -> Result<Vec<u8>> {
    let text = serde_json::to_vec(&Envelope { id, body: request }).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(text.len() + 4);
    out.extend_from_slice(&u32::try_from(text.len()).map_err(|e| e.to_string())?.to_ne_bytes());
    out.extend_from_slice(&text);
    Ok(out)
}

/// Sequential round trips: each frame written, then its reply read. Returns every latency.
fn sequential(peer: &mut Peer, frames: &[Vec<u8>], echo: bool) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(frames.len());
    let mut body = Vec::new();
    for f in frames {
        let t0 = Instant::now();
        let input = peer.input()?;
        input.write_all(f).and_then(|()| input.flush()).map_err(|e| e.to_string())?;
        read_frame(&mut peer.output, &mut body)?;
        times.push(t0.elapsed());
        check(&body, echo)?;
    }
    Ok(times)
}

/// Requests per second with at most `window` unanswered: a writer thread sends `frames` (ids
/// 1.. in order) while this thread reads the replies. Consumes the peer.
fn pipelined(mut peer: Peer, frames: Vec<Vec<u8>>, window: usize, echo: bool) -> Result<f64> {
    let (credit, credits) = std::sync::mpsc::sync_channel::<()>(window);
    for _ in 0..window {
        credit.send(()).map_err(|e| e.to_string())?;
    }
    let mut input = peer.input.take().ok_or("no input")?;
    let total = frames.len();
    let started = Instant::now();
    let writer = std::thread::spawn(move || -> std::result::Result<ChildStdin, String> {
        for f in &frames {
            credits.recv().map_err(|e| e.to_string())?;
            input.write_all(f).map_err(|e| e.to_string())?;
        }
        input.flush().map_err(|e| e.to_string())?;
        Ok(input)
    });
    let mut body = Vec::new();
    for _ in 0..total {
        read_frame(&mut peer.output, &mut body)?;
        check(&body, echo)?;
        let _ = credit.try_send(());
    }
    let elapsed = started.elapsed();
    let input = writer.join().map_err(|_| "the writer panicked".to_owned())??;
    drop(input);
    Ok(total as f64 / elapsed.as_secs_f64())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1e6
}

/// p50, p90, p99, max in µs.
fn stats(mut times: Vec<Duration>) -> [f64; 4] {
    times.sort();
    [percentile(&times, 0.50), percentile(&times, 0.90), percentile(&times, 0.99), percentile(&times, 1.0)]
}



/// The frames of one sync's writes: `list_page`s of 100 new rows over a three-year task's 37
/// monthly windows, their `window_done`s, and a `detail_save` per declaration.
struct Writes {
    list_pages: Vec<Request>,
    window_dones: Vec<Request>,
    details: Vec<Request>,
}

fn writes(task: TaskNumber, pages: usize) -> Writes {
    let range = DateRange::past_years(datalink_e2e::today(), 3);
    let stream = Stream { direction: Direction::Import, declaration_type: DeclarationType::General, status: StatusSide::Closed };
    let windows: Vec<Window> = periods(range).iter().map(|p| Window { period: p.key(), stream, span: p.span, lookup: false }).collect();
    let per_window = pages.div_ceil(windows.len());
    let (mut list_pages, mut window_dones, mut details) = (Vec::new(), Vec::new(), Vec::new());
    let mut i = 0;
    'windows: for window in &windows {
        let total = (per_window * 100) as u64;
        for page in 0..per_window {
            if list_pages.len() == pages {
                break 'windows;
            }
            let rows: Vec<(ListRow, Detail)> = (0..100).map(|k| declaration(i + k, window.span.first)).collect();
            i += 100;
            list_pages.push(Request::ListPage(ListPageSave {
                task: task.clone(),
                window: window.clone(),
                pass: 1,
                offset: (page * 100) as u64,
                total,
                rows: rows.iter().map(|(r, _)| r.clone()).collect(),
            }));
            details.extend(rows.into_iter().map(|(_, d)| Request::DetailSave(DetailSave { task: task.clone(), detail: d })));
        }
        window_dones.push(Request::WindowDone(WindowDone { task: task.clone(), window_key: window.key(), pass: 1, total }));
    }
    Writes { list_pages, window_dones, details }
}

fn frames(requests: &[Request], first_id: u64) -> Result<Vec<Vec<u8>>> {
    requests.iter().zip(first_id..).map(|(r, id)| frame(id, r)).collect()
}

fn ping() -> Request {
    Request::Ping(PingRequest { protocol: PROTOCOL_VERSION, extension_version: env!("CARGO_PKG_VERSION").into() })
}

fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok()))
        .unwrap_or(0)
}

pub fn run(args: &[String]) -> Result<()> {
    let count: usize = flag_value(args, "--count")?.map_or(Ok(20_000), |v| v.parse().map_err(|_| "--count takes a number".to_owned()))?;
    let pages: usize = flag_value(args, "--writes")?.map_or(Ok(200), |v| v.parse().map_err(|_| "--writes takes a number".to_owned()))?;
    let host = flag_value(args, "--host")?.map(PathBuf::from).unwrap_or_else(|| root().join("target/dist/host/datalink-host"));
    if !host.exists() {
        return Err(format!("{} is missing: run `cargo xtask build` (a release host) or pass --host", host.display()));
    }
    let info: Value = std::fs::read(root().join("target/dist/build-info.json")).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    if args.iter().all(|a| a != "--host") && info["hostProfile"] != json!("release") {
        return Err("target/dist holds a debug host: run `cargo xtask build` (release host) or pass --host".into());
    }
    let dir = std::env::temp_dir().join(format!("datalink-host-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = measure(&host, &dir, count, pages);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn start_host(host: &Path, db: &Path) -> Result<Peer> {
    Peer::start(Command::new(host).arg(format!("chrome-extension://{}/", datalink_core::EXTENSION_ID)).env("DATALINK_DB", db))
}

fn start_cat() -> Result<Peer> {
    Peer::start(&mut Command::new("cat"))
}

fn measure(host_binary: &Path, dir: &Path, count: usize, pages: usize) -> Result<()> {
    let db = dir.join("bench.db");
    let mut host = start_host(host_binary, &db)?;
    let mut cat = start_cat()?;
    let mut id = 1u64;
    let mut next_ids = |n: usize| {
        let first = id;
        id += n as u64;
        first
    };

    // The handshake, then a task to write into.
    let first = next_ids(1);
    sequential(&mut host, &frames(&[ping()], first)?, false)?;
    let hwm_start = vm_hwm_kib(host.pid());
    let create = Request::TaskCreate(TaskCreate {
        conditions: Conditions {
            types: TypeChoice::General,
            role: Role::Consignee,
            directions: DirectionChoice::Import,
            status: StatusChoice::Closed,
            lookup: None,
            range: DateRange::past_years(datalink_e2e::today(), 3),
        },
        portal: "https://swapp.singlewindow.cn".into(),
        operator: "基准".into(),
        now: DateTime { date: datalink_e2e::today(), hour: 10, minute: 0, second: 0 },
        enterprise: None,
    });
    let first = next_ids(1);
    let f = frames(&[create], first)?;
    let input = host.input()?;
    input.write_all(&f[0]).and_then(|()| input.flush()).map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    read_frame(&mut host.output, &mut body)?;
    let reply: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let task: TaskNumber = serde_json::from_value(reply["result"]["number"].clone()).map_err(|e| format!("task_create: {e}: {reply}"))?;

    step("building the frames");
    let pings: Vec<Request> = (0..count).map(|_| ping()).collect();
    let reads: Vec<Request> = (0..count).map(|_| Request::TaskList(TaskListQuery::default())).collect();
    let w = writes(task, pages);
    let ping_frames = frames(&pings, next_ids(count))?;
    let read_frames = frames(&reads, next_ids(count))?;
    let list_frames = frames(&w.list_pages, next_ids(w.list_pages.len()))?;
    let done_frames = frames(&w.window_dones, next_ids(w.window_dones.len()))?;
    let detail_frames = frames(&w.details, next_ids(w.details.len()))?;
    let size = |f: &[Vec<u8>]| f.iter().map(Vec::len).sum::<usize>() / f.len().max(1);
    println!(
        "frames: ping {} B, task_list {} B, list_page (100 rows) {} B, detail_save {} B",
        size(&ping_frames),
        size(&read_frames),
        size(&list_frames),
        size(&detail_frames)
    );

    let mut table = String::from("| request | n | frame bytes | p50 µs | p90 µs | p99 µs | max µs | `cat` p50 µs | `cat` p99 µs | p50 ÷ `cat` | p99 ÷ `cat` |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let mut latency = |name: &str, host: &mut Peer, cat: &mut Peer, frames: &[Vec<u8>]| -> Result<()> {
        step(&format!("sequential: {} × {name}", frames.len()));
        let base = stats(sequential(cat, frames, true)?);
        let got = stats(sequential(host, frames, false)?);
        println!(
            "{name}: p50 {:.1} µs, p90 {:.1}, p99 {:.1}, max {:.1}; cat p50 {:.1}, p99 {:.1}",
            got[0], got[1], got[2], got[3], base[0], base[2]
        );
        let _ = writeln!(
            table,
            "| `{name}` | {} | {} | {:.1} | {:.1} | {:.1} | {:.0} | {:.1} | {:.1} | {:.1}× | {:.1}× |",
            frames.len(),
            size(frames),
            got[0],
            got[1],
            got[2],
            got[3],
            base[0],
            base[2],
            got[0] / base[0],
            got[2] / base[2]
        );
        Ok(())
    };
    latency("ping", &mut host, &mut cat, &ping_frames)?;
    latency("task_list (1 task, nothing listed)", &mut host, &mut cat, &read_frames)?;
    latency("list_page (100 new rows)", &mut host, &mut cat, &list_frames)?;
    sequential(&mut host, &done_frames, false)?;
    latency("detail_save (3 goods lines)", &mut host, &mut cat, &detail_frames)?;
    // The same read once the task holds its declarations: a `TaskRecord` carries the task's
    // counts, summed over its rows.
    let listed = format!("task_list (1 task of {} declarations)", w.details.len());
    latency(&listed, &mut host, &mut cat, &read_frames[..(count / 4).max(1)])?;
    let hwm_end = vm_hwm_kib(host.pid());
    drop(host);
    drop(cat);
    let db_bytes: u64 = ["", "-wal"].iter().filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok()).map(|m| m.len()).sum();

    let mut throughput = String::from("| requests | in flight | host req/s | `cat` req/s | `cat` ÷ host |\n|---|---:|---:|---:|---:|\n");
    for (name, all) in [("ping", &ping_frames), (listed.as_str(), &read_frames)] {
        for window in [1usize, 4, 16, 32] {
            step(&format!("pipelined: {} × {name}, {window} in flight", all.len()));
            let base = pipelined(start_cat()?, all.clone(), window, true)?;
            let mut host = start_host(host_binary, &db)?;
            sequential(&mut host, &frames(&[ping()], 0)?, false)?;
            let got = pipelined(host, all.clone(), window, false)?;
            println!("{name}, {window} in flight: host {got:.0} req/s, cat {base:.0} req/s");
            let _ = writeln!(throughput, "| `{name}` | {window} | {got:.0} | {base:.0} | {:.1}× |", base / got);
        }
    }
    step("results (markdown)");
    print!("{table}\n{throughput}");
    println!(
        "\nhost VmHWM: {:.1} MiB after the handshake, {:.1} MiB after the sequential runs; store {:.1} MiB",
        hwm_start as f64 / 1024.0,
        hwm_end as f64 / 1024.0,
        db_bytes as f64 / 1_048_576.0
    );
    Ok(())
}
