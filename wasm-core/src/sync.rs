//! The sync engine (数据协同): a pure state machine that decides every portal request of a
//! task and what to commit after each answer.
//!
//! It does no I/O. Its edge (the service worker, `src/wasm/collector.rs`; a test harness
//! natively) drives it in a loop:
//!
//! ```text
//! loop {
//!     match engine.next_job(now) {            // what to fetch next, within the concurrency
//!         Next::Job(job)    => fetch it …     // the edge runs up to N jobs at once
//!         Next::Wait(until) / Next::Idle => wait for a job to finish or the time to come
//!         Next::Paused      => the portal session expired: wait for a login, then `session_restored`
//!         Next::Finished    => ask the store for the verdict (`task_finish`)
//!     }
//!     // when a fetch ends:
//!     effects = engine.list_done(id, result) / engine.detail_done(id, result)
//!     // execute effects in order: Log lines, Store requests (awaiting the host);
//!     // a Store effect with a ticket hands its reply back: engine.stored(ticket, reply)
//! }
//! ```
//!
//! Guarantees, each tested below against an in-memory portal with injected faults:
//! * **Nothing counts before it is stored.** A page or detail is applied to the engine's state
//!   only in [`Engine::stored`], after the host committed it.
//! * **Nothing lost while the list moves.** Rows come sorted by `updateTime desc`, so a
//!   declaration added or changed mid-paging shifts offsets. A window is done only after a
//!   pass in which the portal's total did not move and the distinct rows seen equal it; else
//!   it is listed again (a new pass), at most [`EngineConfig::max_passes`] times.
//! * **Faults are retried, never taken as data:** 5xx, timeouts, 429/WAF, HTML and malformed
//!   JSON back off exponentially with jitter; a refused span is split with the learned limit;
//!   an expired session pauses the task until the user is logged in again.
//! * **Resume re-fetches at most what was in flight** ([`Engine::resume`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use serde_json::Value;

use crate::calendar::Date;
use crate::checkpoint::{
    DetailFailed, DetailSave, DetailSaved, ListPageSave, ListPageSaved, LogCategory, TaskSnapshot, WindowDone, WindowFailed,
    WindowSplit, WindowState,
};
use crate::period::{periods, DateRange};
use crate::plan::{plan, spans, SpanLimit, Window};
use crate::portal::{Detail, ListPage, ListRequest, ListRow, PortalFault};
use crate::protocol::Request;
use crate::task::{Conditions, Direction, Role, TaskNumber};

/// Tuning of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Rows asked per list page (`limit`); the portal may answer fewer (its row cap is learned).
    pub page_size: u64,
    /// Tries per request before the window or declaration is given up (a gap, 执行异常).
    pub max_attempts: u32,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Listing passes per window before a list that keeps moving is given up.
    pub max_passes: u32,
    /// The first span to try (learned down on the first refusal).
    pub initial_span: SpanLimit,
    /// The day the task runs: windows reaching into [`run_start`, `today`] get a final pass.
    pub today: Date,
    pub run_start: Date,
    /// Seeds the backoff jitter (deterministic runs in tests).
    pub seed: u64,
}

impl EngineConfig {
    pub fn new(today: Date) -> EngineConfig {
        EngineConfig {
            page_size: 100,
            max_attempts: 6,
            backoff_base_ms: 500,
            backoff_max_ms: 30_000,
            max_passes: 4,
            initial_span: SpanLimit::OPTIMISTIC,
            today,
            run_start: today,
            seed: 0x5EED,
        }
    }
}

/// Identifies one request in flight.
pub type JobId = u64;

/// A request for the edge to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    List { id: JobId, window: Window, pass: u32, offset: u64, limit: u64 },
    Detail { id: JobId, cus_ciq_no: String, direction: String },
}

impl Job {
    pub fn id(&self) -> JobId {
        match self {
            Job::List { id, .. } | Job::Detail { id, .. } => *id,
        }
    }

    /// The list request's path and query (relative to the portal base) for a list job.
    pub fn list_path(&self, role: Role, lookup: Option<&crate::task::Lookup>, cache_buster_ms: u64) -> Option<String> {
        match self {
            Job::List { window, offset, limit, .. } => Some(
                ListRequest { stream: window.stream, role, span: window.span, lookup, offset: *offset, limit: *limit }
                    .path(cache_buster_ms),
            ),
            Job::Detail { .. } => None,
        }
    }
}

/// What the edge should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Job(Job),
    /// Nothing is ready before this time (ms); jobs are waiting out a backoff.
    Wait(u64),
    /// Nothing to start until a job in flight finishes.
    Idle,
    /// The portal session expired: no new requests until [`Engine::session_restored`].
    Paused,
    /// Nothing left: the edge asks the store for the verdict.
    Finished,
    /// Cancelled by the user; in-flight results are ignored.
    Cancelled,
}

/// Something for the edge to carry out, in order.
// Effects live for one step in a short Vec; boxing every store request would cost an
// allocation each for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// A line for the execution log (the edge stamps the time).
    Log(LogCategory, String),
    /// A store request to commit before going on. With a ticket, pass the reply to
    /// [`Engine::stored`].
    Store { ticket: Option<JobId>, request: Request },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Listing in `pass` (1-based).
    Listing,
    /// `WindowDone` sent, waiting for the store.
    Closing,
    Done,
    Failed,
    Split,
}

#[derive(Debug, Clone)]
struct WindowProgress {
    window: Window,
    stage: usize,
    phase: Phase,
    pass: u32,
    total: Option<u64>,
    /// The total moved during this pass.
    moved: bool,
    /// Pages stored in this pass: offset → rows.
    pages: BTreeMap<u64, u64>,
    /// Offsets asked in this pass and not stored yet.
    outstanding: BTreeSet<u64>,
    members: BTreeSet<String>,
    /// Whether the final pass (for windows reaching into the run's days) was already run.
    final_pass_done: bool,
    /// The total this window last added to its stage's count.
    counted: u64,
}

#[derive(Debug, Clone, Default)]
struct StageProgress {
    started: bool,
    windows_left: usize,
    found: u64,
    pages: u64,
    details_expected: u64,
    details_done: u64,
    announced_collected: bool,
    last_progress_logged: u64,
}

#[derive(Debug, Clone)]
enum Pending {
    List { window_key: String, pass: u32, offset: u64, limit: u64 },
    Detail { cus_ciq_no: String, direction: String },
}

#[derive(Debug, Clone)]
struct Ready {
    at_ms: u64,
    pending: Pending,
    attempts: u32,
}

/// The engine of one task run.
pub struct Engine {
    task: TaskNumber,
    conditions: Conditions,
    config: EngineConfig,
    limit: SpanLimit,
    /// The portal's row cap per page, once seen.
    row_cap: Option<u64>,
    stages: Vec<(DateRange, Direction)>,
    stage_progress: Vec<StageProgress>,
    windows: BTreeMap<String, WindowProgress>,
    /// Detail jobs come first, then list jobs in stage order.
    details: VecDeque<Ready>,
    lists: VecDeque<Ready>,
    in_flight: HashMap<JobId, (Pending, u32)>,
    /// Results waiting for their store commit.
    saving: HashMap<JobId, Saving>,
    rows: HashMap<String, ListRow>,
    row_window: HashMap<String, String>,
    reconciled: HashSet<String>,
    queued_details: HashSet<String>,
    failed_details: HashSet<String>,
    mismatches: HashMap<String, u32>,
    next_id: JobId,
    paused: bool,
    cancelled: bool,
    rng: u64,
    /// Requests handed out, for the benchmark and the log.
    pub requests: u64,
}

#[derive(Debug, Clone)]
enum Saving {
    Page { window_key: String, pass: u32, offset: u64, limit: u64, page: ListPage },
    Detail { cus_ciq_no: String },
    Close { window_key: String },
}

impl Engine {
    /// A fresh run of a new task.
    pub fn new(task: TaskNumber, conditions: Conditions, config: EngineConfig) -> Engine {
        let limit = config.initial_span;
        let mut engine = Engine::empty(task, conditions, config, limit);
        let stages = plan(&engine.conditions, limit);
        for stage in stages {
            let index = engine.push_stage(stage.period.span, stage.direction);
            for window in stage.windows {
                engine.add_window(window, index, 1);
            }
        }
        engine
    }

    fn empty(task: TaskNumber, conditions: Conditions, config: EngineConfig, limit: SpanLimit) -> Engine {
        let rng = config.seed ^ 0x9E37_79B9_7F4A_7C15;
        Engine {
            task,
            conditions,
            config,
            limit,
            row_cap: None,
            stages: Vec::new(),
            stage_progress: Vec::new(),
            windows: BTreeMap::new(),
            details: VecDeque::new(),
            lists: VecDeque::new(),
            in_flight: HashMap::new(),
            saving: HashMap::new(),
            rows: HashMap::new(),
            row_window: HashMap::new(),
            reconciled: HashSet::new(),
            queued_details: HashSet::new(),
            failed_details: HashSet::new(),
            mismatches: HashMap::new(),
            next_id: 1,
            paused: false,
            cancelled: false,
            rng,
            requests: 0,
        }
    }

    /// Rebuilds a run from the store's snapshot (断点续查): done windows stay done, stored
    /// pages are not fetched again, failed windows and declarations are tried again (补采).
    pub fn resume(snapshot: TaskSnapshot, config: EngineConfig) -> (Engine, Vec<Effect>) {
        let limit = snapshot.learned_max_days.map(|max_days| SpanLimit { max_days }).unwrap_or(config.initial_span);
        let mut engine = Engine::empty(snapshot.task.number.clone(), snapshot.task.conditions.clone(), config, limit);
        let fresh = plan(&engine.conditions, limit);
        let mut effects = Vec::new();
        let known: Vec<_> = snapshot.windows.iter().map(|w| w.window.clone()).collect();
        for stage in fresh {
            let index = engine.push_stage(stage.period.span, stage.direction);
            // Windows the store has for this stage, then planned windows for uncovered days.
            let mut covered: Vec<&Window> = known
                .iter()
                .filter(|w| w.stream.direction == stage.direction && stage.period.span.contains(w.span.first))
                .collect();
            covered.sort_by_key(|w| (w.stream, w.span.first));
            for record in snapshot.windows.iter().filter(|r| covered.iter().any(|w| **w == r.window)) {
                engine.restore_window(record, index);
            }
            for window in stage.windows {
                let taken: Vec<DateRange> =
                    covered.iter().filter(|w| w.stream == window.stream && w.lookup == window.lookup).map(|w| w.span).collect();
                for span in uncovered(window.span, &taken) {
                    for span in spans(span, limit.max_days) {
                        engine.add_window(Window { span, ..window.clone() }, index, 1);
                    }
                }
            }
        }
        for row in snapshot.unreconciled {
            let id = row.cus_ciq_no.clone();
            if let Some(key) = engine.windows.iter().find(|(_, w)| w.members.contains(&id)).map(|(k, _)| k.clone()) {
                engine.row_window.insert(id.clone(), key);
            }
            engine.rows.insert(id, row);
        }
        // Declarations of done windows that still need their detail.
        let done: Vec<String> = engine.windows.iter().filter(|(_, w)| w.phase == Phase::Done).map(|(k, _)| k.clone()).collect();
        let waiting: Vec<(String, String)> = engine
            .rows
            .values()
            .map(|row| (row.cus_ciq_no.clone(), row.ie_flag.clone()))
            .collect();
        for (id, direction) in waiting {
            let window_done = engine.row_window.get(&id).is_some_and(|k| done.contains(k));
            let listed_without_window = !engine.row_window.contains_key(&id);
            if window_done || listed_without_window {
                engine.queue_detail(id, direction);
            }
        }
        // Windows whose every page is stored can close right away.
        let keys: Vec<String> = engine.windows.keys().cloned().collect();
        for key in keys {
            effects.extend(engine.try_close(&key));
        }
        (engine, effects)
    }

    fn push_stage(&mut self, span: DateRange, direction: Direction) -> usize {
        self.stages.push((span, direction));
        self.stage_progress.push(StageProgress::default());
        self.stages.len() - 1
    }

    fn add_window(&mut self, window: Window, stage: usize, pass: u32) {
        let key = window.key();
        self.stage_progress[stage].windows_left += 1;
        self.windows.insert(
            key.clone(),
            WindowProgress {
                window,
                stage,
                phase: Phase::Listing,
                pass,
                total: None,
                moved: false,
                pages: BTreeMap::new(),
                outstanding: BTreeSet::new(),
                members: BTreeSet::new(),
                final_pass_done: false,
                counted: 0,
            },
        );
        self.queue_page(&key, pass, 0);
    }

    fn restore_window(&mut self, record: &crate::checkpoint::WindowRecord, stage: usize) {
        let key = record.window.key();
        let pass = record.pass.max(1);
        let mut progress = WindowProgress {
            window: record.window.clone(),
            stage,
            phase: Phase::Listing,
            pass,
            total: record.total,
            moved: false,
            pages: record.pages.iter().copied().collect(),
            outstanding: BTreeSet::new(),
            members: record.members.iter().cloned().collect(),
            final_pass_done: false,
            counted: 0,
        };
        match record.state {
            WindowState::Done => {
                progress.phase = Phase::Done;
                progress.counted = record.total.unwrap_or(0);
                self.stage_progress[stage].found += progress.counted;
            }
            WindowState::Failed => {
                // 补采: a failed window is listed again from the top, in a new pass.
                progress.pass = pass + 1;
                progress.total = None;
                progress.pages.clear();
                progress.members.clear();
                self.stage_progress[stage].windows_left += 1;
            }
            WindowState::Listing => {
                self.stage_progress[stage].windows_left += 1;
            }
        }
        for member in &progress.members {
            self.row_window.insert(member.clone(), key.clone());
        }
        let phase = progress.phase.clone();
        let pass = progress.pass;
        self.windows.insert(key.clone(), progress);
        if phase == Phase::Listing {
            for offset in self.missing_offsets(&key) {
                self.queue_page(&key, pass, offset);
            }
        }
    }

    /// Offsets of the current pass not stored yet (page 0 when nothing is).
    fn missing_offsets(&self, key: &str) -> Vec<u64> {
        let Some(w) = self.windows.get(key) else { return Vec::new() };
        let Some(total) = w.total.filter(|_| !w.pages.is_empty()) else { return vec![0] };
        let step = w.pages.values().copied().max().unwrap_or(0).max(1);
        let mut out = Vec::new();
        let mut offset = 0;
        while offset < total {
            match w.pages.get(&offset) {
                Some(&rows) if rows > 0 => offset += rows,
                _ => {
                    out.push(offset);
                    offset += step;
                }
            }
        }
        out
    }

    fn queue_page(&mut self, key: &str, pass: u32, offset: u64) {
        let limit = self.row_cap.map_or(self.config.page_size, |cap| cap.min(self.config.page_size));
        if let Some(w) = self.windows.get_mut(key) {
            w.outstanding.insert(offset);
        }
        self.lists.push_back(Ready { at_ms: 0, pending: Pending::List { window_key: key.to_owned(), pass, offset, limit }, attempts: 0 });
    }

    fn queue_detail(&mut self, cus_ciq_no: String, direction: String) {
        if self.reconciled.contains(&cus_ciq_no) || !self.queued_details.insert(cus_ciq_no.clone()) {
            return;
        }
        self.details.push_back(Ready { at_ms: 0, pending: Pending::Detail { cus_ciq_no, direction }, attempts: 0 });
    }

    pub fn task(&self) -> &TaskNumber {
        &self.task
    }

    pub fn conditions(&self) -> &Conditions {
        &self.conditions
    }

    /// The span limit learned so far.
    pub fn span_limit(&self) -> SpanLimit {
        self.limit
    }

    /// Requests in flight (handed out, result not yet stored).
    pub fn in_flight(&self) -> usize {
        self.in_flight.len() + self.saving.len()
    }

    /// Progress for the page's bar: (declarations reconciled, declarations found so far,
    /// windows done, windows in all).
    pub fn progress(&self) -> (u64, u64, usize, usize) {
        let live = self.windows.values().filter(|w| w.phase != Phase::Split);
        let (mut done, mut all) = (0, 0);
        for w in live {
            all += 1;
            if matches!(w.phase, Phase::Done | Phase::Failed) {
                done += 1;
            }
        }
        let found = self.stage_progress.iter().map(|s| s.found).sum();
        (self.reconciled.len() as u64, found, done, all)
    }

    /// The user pressed 取消执行.
    pub fn cancel(&mut self) {
        self.cancelled = true;
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// The user is logged in again: requests may go on.
    pub fn session_restored(&mut self) {
        self.paused = false;
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The next request to send, given the time now (ms, any monotonic clock).
    pub fn next_job(&mut self, now_ms: u64) -> Next {
        if self.cancelled {
            return Next::Cancelled;
        }
        if self.paused {
            return Next::Paused;
        }
        let mut earliest: Option<u64> = None;
        for queue in [&mut self.details, &mut self.lists] {
            if let Some(index) = queue.iter().position(|r| r.at_ms <= now_ms) {
                let Some(ready) = queue.remove(index) else { continue };
                let id = self.next_id;
                self.next_id += 1;
                self.requests += 1;
                let job = match &ready.pending {
                    Pending::List { window_key, pass, offset, limit } => {
                        let Some(w) = self.windows.get(window_key) else { return Next::Idle };
                        Job::List { id, window: w.window.clone(), pass: *pass, offset: *offset, limit: *limit }
                    }
                    Pending::Detail { cus_ciq_no, direction } => {
                        Job::Detail { id, cus_ciq_no: cus_ciq_no.clone(), direction: direction.clone() }
                    }
                };
                self.in_flight.insert(id, (ready.pending, ready.attempts));
                return Next::Job(job);
            }
            if let Some(at) = queue.iter().map(|r| r.at_ms).min() {
                earliest = Some(earliest.map_or(at, |e: u64| e.min(at)));
            }
        }
        if let Some(at) = earliest {
            return Next::Wait(at);
        }
        if !self.in_flight.is_empty() || !self.saving.is_empty() {
            return Next::Idle;
        }
        if self.start_final_passes() {
            return self.next_job(now_ms);
        }
        Next::Finished
    }

    /// Windows reaching into the days the task ran are listed once more at the end, to catch
    /// declarations added while it ran. Returns whether any was started.
    fn start_final_passes(&mut self) -> bool {
        let run = DateRange { first: self.config.run_start.min(self.config.today), last: self.config.today };
        let keys: Vec<String> = self
            .windows
            .iter()
            .filter(|(_, w)| {
                w.phase == Phase::Done
                    && !w.final_pass_done
                    && !w.window.lookup
                    && w.window.span.first <= run.last
                    && run.first <= w.window.span.last
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in &keys {
            let stage = {
                let Some(w) = self.windows.get_mut(key) else { continue };
                w.final_pass_done = true;
                w.phase = Phase::Listing;
                w.pass += 1;
                w.total = None;
                w.moved = false;
                w.pages.clear();
                w.members.clear();
                w.stage
            };
            self.stage_progress[stage].windows_left += 1;
            let pass = self.windows.get(key).map_or(1, |w| w.pass);
            self.queue_page(key, pass, 0);
        }
        !keys.is_empty()
    }

    fn backoff_ms(&mut self, attempts: u32) -> u64 {
        // splitmix64 for the jitter: deterministic per seed.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let exp = self.config.backoff_base_ms.saturating_mul(1 << attempts.saturating_sub(1).min(16));
        let capped = exp.min(self.config.backoff_max_ms);
        // Between half and the whole of the capped delay ("equal jitter").
        capped / 2 + z % (capped / 2 + 1)
    }

    /// Puts a failed job back, or gives it up. Returns the effects of giving up.
    fn retry_or_give_up(&mut self, pending: Pending, attempts: u32, fault: &PortalFault, now_ms: u64) -> Vec<Effect> {
        if fault == &PortalFault::SessionExpired {
            let first = !self.paused;
            self.paused = true;
            self.requeue(Ready { at_ms: 0, pending, attempts }, true);
            return if first {
                vec![Effect::Log(LogCategory::Error, "单一窗口登录已失效，任务已暂停；重新登录后将自动继续".into())]
            } else {
                Vec::new()
            };
        }
        let attempts = attempts + 1;
        if fault.retryable() && attempts < self.config.max_attempts {
            let delay = self.backoff_ms(attempts);
            // The user sees every fault the task rides out, and that it is being retried.
            let line = self.retry_line(&pending, fault, delay, attempts);
            self.requeue(Ready { at_ms: now_ms + delay, pending, attempts }, false);
            return vec![Effect::Log(LogCategory::Error, line)];
        }
        match pending {
            Pending::List { window_key, .. } => self.fail_window(&window_key, &fault.to_string()),
            Pending::Detail { cus_ciq_no, .. } => {
                self.queued_details.remove(&cus_ciq_no);
                self.failed_details.insert(cus_ciq_no.clone());
                let reason = fault.to_string();
                vec![
                    Effect::Log(LogCategory::Error, format!("报关单 {cus_ciq_no} 预览失败（已重试{attempts}次）：{reason}")),
                    Effect::Store {
                        ticket: None,
                        request: Request::DetailFailed(DetailFailed { task: self.task.clone(), cus_ciq_no, reason }),
                    },
                ]
            }
        }
    }

    /// The log line for a request that failed and waits `delay_ms` before its `attempts`-th
    /// retry: which request, why (a 429/WAF answer says the portal finds us too frequent).
    fn retry_line(&self, pending: &Pending, fault: &PortalFault, delay_ms: u64, attempts: u32) -> String {
        let what = match pending {
            Pending::List { window_key, offset, limit, .. } => match self.windows.get(window_key) {
                Some(w) => format!(
                    "{} 至 {} [{}][{}] 第{}页查询失败",
                    w.window.span.first,
                    w.window.span.last,
                    w.window.stream.direction.label(),
                    w.window.stream.declaration_type.label(),
                    offset / (*limit).max(1) + 1
                ),
                None => "列表查询失败".to_owned(),
            },
            Pending::Detail { cus_ciq_no, .. } => format!("报关单 {cus_ciq_no} 预览失败"),
        };
        let why = match fault {
            PortalFault::RateLimited(_) => format!("{fault}，访问过于频繁"),
            _ => fault.to_string(),
        };
        let seconds = delay_ms.div_ceil(100) as f64 / 10.0;
        format!("{what}：{why}，{seconds:.1} 秒后自动重试（第{attempts}次）")
    }

    fn requeue(&mut self, ready: Ready, front: bool) {
        let queue = match ready.pending {
            Pending::List { .. } => &mut self.lists,
            Pending::Detail { .. } => &mut self.details,
        };
        if front {
            queue.push_front(ready);
        } else {
            queue.push_back(ready);
        }
    }

    fn fail_window(&mut self, key: &str, reason: &str) -> Vec<Effect> {
        let Some(w) = self.windows.get_mut(key) else { return Vec::new() };
        if matches!(w.phase, Phase::Failed | Phase::Split) {
            return Vec::new();
        }
        w.phase = Phase::Failed;
        w.outstanding.clear();
        let (span, stream, stage) = (w.window.span, w.window.stream, w.stage);
        let mut effects = vec![
            Effect::Log(
                LogCategory::Error,
                format!(
                    "{} 至 {} [{}][{}] 查询失败：{reason}",
                    span.first,
                    span.last,
                    stream.direction.label(),
                    stream.declaration_type.label()
                ),
            ),
            Effect::Store {
                ticket: None,
                request: Request::WindowFailed(WindowFailed { task: self.task.clone(), window_key: key.to_owned(), reason: reason.to_owned() }),
            },
        ];
        effects.extend(self.window_finished(stage));
        effects
    }

    /// A list request ended. On success the page must be stored: the effect's ticket comes
    /// back through [`Engine::stored`].
    pub fn list_done(&mut self, id: JobId, result: Result<ListPage, PortalFault>, now_ms: u64) -> Vec<Effect> {
        let Some((pending, attempts)) = self.in_flight.remove(&id) else { return Vec::new() };
        let Pending::List { window_key, pass, offset, limit } = pending.clone() else { return Vec::new() };
        if self.cancelled {
            return Vec::new();
        }
        let current = self.windows.get(&window_key).filter(|w| w.phase == Phase::Listing && w.pass == pass).cloned();
        let Some(window) = current else { return Vec::new() }; // stale: the window moved on
        match result {
            Ok(page) => {
                self.saving.insert(id, Saving::Page { window_key, pass, offset, limit, page: page.clone() });
                vec![Effect::Store {
                    ticket: Some(id),
                    request: Request::ListPage(ListPageSave {
                        task: self.task.clone(),
                        window: window.window,
                        pass,
                        offset,
                        total: page.total,
                        rows: page.rows,
                    }),
                }]
            }
            Err(PortalFault::SpanRefused(message)) if window.window.splittable() => {
                let days = window.window.span.days();
                self.limit = self.limit.learn(days, &message);
                let into = window.window.split(self.limit.max_days);
                self.split_window(&window_key, into, &message)
            }
            Err(fault) => {
                let mut pending = pending;
                if let Pending::List { offset: o, .. } = &mut pending {
                    *o = offset;
                }
                self.retry_or_give_up(pending, attempts, &fault, now_ms)
            }
        }
    }

    fn split_window(&mut self, key: &str, into: Vec<Window>, why: &str) -> Vec<Effect> {
        let Some(old) = self.windows.get_mut(key) else { return Vec::new() };
        old.phase = Phase::Split;
        old.outstanding.clear();
        let (stage, window) = (old.stage, old.window.clone());
        self.stage_progress[stage].windows_left -= 1;
        self.lists.retain(|r| !matches!(&r.pending, Pending::List { window_key, .. } if window_key == key));
        for member in std::mem::take(&mut old.members) {
            self.row_window.remove(&member);
        }
        let mut effects = vec![
            Effect::Log(
                LogCategory::Execute,
                format!(
                    "[{}] {} 至 {} 超出单一窗口查询限制（{why}），自动拆分为 {} 个区间",
                    window.stream.direction.label(),
                    window.span.first,
                    window.span.last,
                    into.len()
                ),
            ),
            Effect::Store {
                ticket: None,
                request: Request::WindowSplit(WindowSplit {
                    task: self.task.clone(),
                    window,
                    into: into.clone(),
                    learned_max_days: self.limit.max_days,
                }),
            },
        ];
        for w in into {
            self.add_window(w, stage, 1);
        }
        // Other windows still waiting with a span over the learned limit are cut now too,
        // without asking the portal first.
        let limit = self.limit.max_days;
        let too_long: Vec<String> = self
            .windows
            .iter()
            .filter(|(_, w)| w.phase == Phase::Listing && w.pages.is_empty() && w.window.splittable() && w.window.span.days() > i64::from(limit))
            .filter(|(k, _)| !self.in_flight.values().any(|(p, _)| matches!(p, Pending::List { window_key, .. } if window_key == *k)))
            .map(|(k, _)| k.clone())
            .collect();
        for k in too_long {
            let Some(w) = self.windows.get(&k) else { continue };
            let pieces = w.window.split(limit);
            effects.extend(self.split_window_quietly(&k, pieces));
        }
        effects
    }

    fn split_window_quietly(&mut self, key: &str, into: Vec<Window>) -> Vec<Effect> {
        let Some(old) = self.windows.get_mut(key) else { return Vec::new() };
        old.phase = Phase::Split;
        old.outstanding.clear();
        let (stage, window) = (old.stage, old.window.clone());
        self.stage_progress[stage].windows_left -= 1;
        self.lists.retain(|r| !matches!(&r.pending, Pending::List { window_key, .. } if window_key == key));
        for w in into.clone() {
            self.add_window(w, stage, 1);
        }
        vec![Effect::Store {
            ticket: None,
            request: Request::WindowSplit(WindowSplit { task: self.task.clone(), window, into, learned_max_days: self.limit.max_days }),
        }]
    }

    /// A detail request ended. On success the detail must be stored (ticketed).
    pub fn detail_done(&mut self, id: JobId, result: Result<Detail, PortalFault>, now_ms: u64) -> Vec<Effect> {
        let Some((pending, attempts)) = self.in_flight.remove(&id) else { return Vec::new() };
        let Pending::Detail { cus_ciq_no, .. } = pending.clone() else { return Vec::new() };
        if self.cancelled {
            return Vec::new();
        }
        match result {
            Ok(detail) if detail.cus_ciq_no == cus_ciq_no => {
                self.saving.insert(id, Saving::Detail { cus_ciq_no });
                vec![Effect::Store { ticket: Some(id), request: Request::DetailSave(DetailSave { task: self.task.clone(), detail }) }]
            }
            Ok(detail) => {
                let fault = PortalFault::Malformed(format!("asked for {cus_ciq_no}, got {}", detail.cus_ciq_no));
                self.retry_or_give_up(pending, attempts, &fault, now_ms)
            }
            Err(fault) => self.retry_or_give_up(pending, attempts, &fault, now_ms),
        }
    }

    /// The store committed a ticketed request; `reply` is its result.
    pub fn stored(&mut self, ticket: JobId, reply: &Value) -> Vec<Effect> {
        match self.saving.remove(&ticket) {
            Some(Saving::Page { window_key, pass, offset, limit, page }) => {
                let saved: ListPageSaved = serde_json::from_value(reply.clone()).unwrap_or_default();
                self.page_stored(&window_key, pass, offset, limit, page, saved)
            }
            Some(Saving::Detail { cus_ciq_no }) => {
                let saved: Option<DetailSaved> = serde_json::from_value(reply.clone()).ok();
                self.detail_stored(cus_ciq_no, saved)
            }
            Some(Saving::Close { window_key }) => self.window_closed(&window_key),
            None => Vec::new(),
        }
    }

    fn page_stored(&mut self, key: &str, pass: u32, offset: u64, limit: u64, page: ListPage, saved: ListPageSaved) -> Vec<Effect> {
        for id in saved.reconciled {
            self.reconciled.insert(id);
        }
        let Some(w) = self.windows.get_mut(key) else { return Vec::new() };
        if w.phase != Phase::Listing || w.pass != pass {
            return Vec::new();
        }
        let rows = page.rows.len() as u64;
        w.outstanding.remove(&offset);
        match w.total {
            Some(before) if before != page.total => w.moved = true,
            _ => {}
        }
        w.total = Some(page.total);
        w.pages.insert(offset, rows);
        for row in page.rows {
            w.members.insert(row.cus_ciq_no.clone());
            self.row_window.insert(row.cus_ciq_no.clone(), key.to_owned());
            self.rows.insert(row.cus_ciq_no.clone(), row);
        }
        let total = page.total;
        let stage = w.stage;
        let mut effects = Vec::new();
        let first_page_of_pass = offset == 0 && w.pages.len() == 1;
        if first_page_of_pass {
            let span = w.window.span;
            let direction = w.window.stream.direction;
            if !self.stage_progress[stage].started {
                self.stage_progress[stage].started = true;
                let (stage_span, _) = self.stages[stage];
                effects.push(Effect::Log(
                    LogCategory::Result,
                    format!(">>> 准备处理时间段: {} 至 {} [{}]", stage_span.first, stage_span.last, direction.label()),
                ));
                effects.push(Effect::Log(LogCategory::Execute, format!("[{}] 查询参数已就绪，正在检索...", direction.label())));
            }
            // The portal answered fewer rows than asked though more exist: that is its row cap.
            if rows > 0 && rows < limit && rows < total {
                self.row_cap = Some(self.row_cap.map_or(rows, |cap| cap.min(rows)));
            }
            if total > rows && rows > 0 {
                let pages = total.div_ceil(rows);
                effects.push(Effect::Log(
                    LogCategory::Result,
                    format!("{} 至 {} [{}] 查询到 {total} 条记录 (共{pages}页)", span.first, span.last, direction.label()),
                ));
                let mut next = rows;
                while next < total {
                    self.queue_page(key, pass, next);
                    next += rows;
                }
            }
        } else if rows > 0 {
            let pages = total.div_ceil(rows.max(1));
            let done = w.pages.len();
            effects.push(Effect::Log(LogCategory::Result, format!("加载 {done}/{pages} 页数据 ({rows}条)")));
        }
        if rows == 0 && offset < total {
            // The portal stopped answering rows before its own total: paging cannot reach the
            // rest. Cut the window in halves (down to a day).
            let window = self.windows.get(key).map(|w| w.window.clone());
            if let Some(window) = window {
                if window.splittable() {
                    return self.split_window(key, window.halves(), "分页无法取回全部记录");
                }
                effects.extend(self.fail_window(key, "分页无法取回全部记录"));
                return effects;
            }
        }
        effects.extend(self.try_close(key));
        effects
    }

    /// Closes the window if its pass is complete and stable, or starts a new pass.
    fn try_close(&mut self, key: &str) -> Vec<Effect> {
        let Some(w) = self.windows.get_mut(key) else { return Vec::new() };
        if w.phase != Phase::Listing || !w.outstanding.is_empty() {
            return Vec::new();
        }
        let Some(total) = w.total else { return Vec::new() };
        if w.pages.is_empty() {
            return Vec::new();
        }
        let stable = !w.moved && w.members.len() as u64 == total;
        if !stable {
            if w.pass >= self.config.max_passes {
                let reason = format!("列表在查询期间持续变化（{} 次查询结果不一致）", w.pass);
                return self.fail_window(key, &reason);
            }
            w.pass += 1;
            w.total = None;
            w.moved = false;
            w.pages.clear();
            w.members.clear();
            let (pass, span, direction) = (w.pass, w.window.span, w.window.stream.direction);
            self.queue_page(key, pass, 0);
            return vec![Effect::Log(
                LogCategory::Execute,
                format!("[{}] {} 至 {} 的数据在查询期间发生变化，重新查询该区间（第{pass}次）", direction.label(), span.first, span.last),
            )];
        }
        w.phase = Phase::Closing;
        let pass = w.pass;
        let ticket = self.next_id;
        self.next_id += 1;
        self.saving.insert(ticket, Saving::Close { window_key: key.to_owned() });
        vec![Effect::Store {
            ticket: Some(ticket),
            request: Request::WindowDone(WindowDone { task: self.task.clone(), window_key: key.to_owned(), pass, total }),
        }]
    }

    fn window_closed(&mut self, key: &str) -> Vec<Effect> {
        let Some(w) = self.windows.get_mut(key) else { return Vec::new() };
        w.phase = Phase::Done;
        let stage = w.stage;
        let total = w.total.unwrap_or(0);
        let pages = w.pages.len() as u64;
        let members: Vec<String> = w.members.iter().cloned().collect();
        let counted = std::mem::replace(&mut w.counted, total);
        self.stage_progress[stage].found = self.stage_progress[stage].found.saturating_sub(counted) + total;
        self.stage_progress[stage].pages += if total == 0 { 0 } else { pages };
        let mut queued = 0;
        for id in members {
            if self.reconciled.contains(&id) || self.queued_details.contains(&id) {
                continue;
            }
            let direction = self.rows.get(&id).map(|r| r.ie_flag.clone()).unwrap_or_default();
            self.queue_detail(id, direction);
            queued += 1;
        }
        self.stage_progress[stage].details_expected += queued;
        let mut effects = self.window_finished(stage);
        effects.extend(self.stage_progress_log(stage));
        effects
    }

    /// A window of `stage` is done or failed: announce the stage's collection when it was the last.
    fn window_finished(&mut self, stage: usize) -> Vec<Effect> {
        let progress = &mut self.stage_progress[stage];
        progress.windows_left = progress.windows_left.saturating_sub(1);
        if progress.windows_left > 0 || progress.announced_collected {
            return Vec::new();
        }
        progress.announced_collected = true;
        let (span, direction) = self.stages[stage];
        let label = direction.label();
        let mut effects = Vec::new();
        if !progress.started {
            progress.started = true;
            effects.push(Effect::Log(LogCategory::Result, format!(">>> 准备处理时间段: {} 至 {} [{label}]", span.first, span.last)));
            effects.push(Effect::Log(LogCategory::Execute, format!("[{label}] 查询参数已就绪，正在检索...")));
        }
        if progress.found == 0 {
            effects.push(Effect::Log(LogCategory::Execute, format!("[{label}] 未查询到匹配数据，自动跳过此阶段。")));
            return effects;
        }
        effects.push(Effect::Log(
            LogCategory::Result,
            format!("{} 至 {} [{label}] 查询到 {} 条记录 (共{}页)", span.first, span.last, progress.found, progress.pages.max(1)),
        ));
        effects.push(Effect::Log(LogCategory::Result, format!("收集完毕 (共{}条)，准备开始协同...", progress.found)));
        effects.push(Effect::Log(LogCategory::Execute, format!("[{label}] 采集完成，正在协同报关数据及状态...")));
        effects
    }

    fn stage_progress_log(&mut self, stage: usize) -> Vec<Effect> {
        let progress = &mut self.stage_progress[stage];
        let (done, expected) = (progress.details_done, progress.details_expected);
        if expected == 0 || !progress.announced_collected {
            return Vec::new();
        }
        // Every tenth, and the last, each once.
        let step = (expected / 10).max(1);
        if done > progress.last_progress_logged && (done == expected || done >= progress.last_progress_logged + step) {
            progress.last_progress_logged = done;
            return vec![Effect::Log(LogCategory::Result, format!("预览进度 ({done}/{expected})"))];
        }
        Vec::new()
    }

    fn detail_stored(&mut self, cus_ciq_no: String, saved: Option<DetailSaved>) -> Vec<Effect> {
        self.queued_details.remove(&cus_ciq_no);
        let window_key = self.row_window.get(&cus_ciq_no).cloned();
        let stage = window_key.as_ref().and_then(|k| self.windows.get(k)).map(|w| w.stage);
        let Some(saved) = saved else {
            return vec![Effect::Log(LogCategory::Error, format!("报关单 {cus_ciq_no} 保存结果无法识别"))];
        };
        if saved.reconciled {
            self.reconciled.insert(cus_ciq_no);
            let Some(stage) = stage else { return Vec::new() };
            self.stage_progress[stage].details_done += 1;
            return self.stage_progress_log(stage);
        }
        // The detail disagrees with its list row: the declaration changed after it was listed.
        // List its window again; the new row will match the stored detail (or be fetched anew).
        let count = self.mismatches.entry(cus_ciq_no.clone()).or_default();
        *count += 1;
        let field = saved.mismatch.as_ref().map(|m| m.field.clone()).unwrap_or_default();
        let key = saved.window_key.or(window_key);
        if *count > 2 {
            self.failed_details.insert(cus_ciq_no.clone());
            let reason = format!("报关单详情与列表不一致（{field}）");
            return vec![
                Effect::Log(LogCategory::Error, format!("报关单 {cus_ciq_no} 无法核销：{reason}")),
                Effect::Store { ticket: None, request: Request::DetailFailed(DetailFailed { task: self.task.clone(), cus_ciq_no, reason }) },
            ];
        }
        let effects = vec![Effect::Log(LogCategory::Execute, format!("报关单 {cus_ciq_no} 在查询后发生变化（{field}），重新查询其所在区间"))];
        if let Some(key) = key {
            let reopen = self.windows.get(&key).is_some_and(|w| w.phase == Phase::Done);
            if reopen {
                if let Some(w) = self.windows.get_mut(&key) {
                    w.phase = Phase::Listing;
                    w.pass += 1;
                    w.total = None;
                    w.moved = false;
                    w.pages.clear();
                    w.members.clear();
                    let (stage, pass) = (w.stage, w.pass);
                    self.stage_progress[stage].windows_left += 1;
                    self.stage_progress[stage].announced_collected = true;
                    self.queue_page(&key, pass, 0);
                }
            }
        }
        // Once the window is listed again, the store reconciles the declaration from the stored
        // detail if the new row matches it; otherwise the window's close queues a new preview.
        effects
    }

    /// Declarations given up (gaps) so far.
    pub fn failed_declarations(&self) -> usize {
        self.failed_details.len()
    }

    /// Every period of the task, for a summary.
    pub fn periods(&self) -> Vec<crate::period::Period> {
        periods(self.conditions.range)
    }
}

/// The parts of `range` no span in `taken` covers.
fn uncovered(range: DateRange, taken: &[DateRange]) -> Vec<DateRange> {
    let mut out = Vec::new();
    let mut day = range.first;
    let mut start: Option<Date> = None;
    while day <= range.last {
        let covered = taken.iter().any(|t| t.contains(day));
        match (covered, start) {
            (false, None) => start = Some(day),
            (true, Some(s)) => {
                out.push(DateRange { first: s, last: day.add_days(-1) });
                start = None;
            }
            _ => {}
        }
        day = day.add_days(1);
    }
    if let Some(s) = start {
        out.push(DateRange { first: s, last: range.last });
    }
    out
}
