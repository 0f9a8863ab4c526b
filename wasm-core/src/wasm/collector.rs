//! The collector: runs a sync task's [`Engine`] in the service worker, in the user's portal
//! session — the I/O around the pure engine.
//!
//! One task runs at a time ([`start`] / [`resume`]). Its loop keeps up to
//! `settings.concurrency` portal requests in flight, starts at most `rate_per_second` of them
//! per second (half as many after each 429 / WAF-style 400, won back slowly), and for every
//! answer carries out the engine's effects in order: log lines (stamped with local time,
//! streamed to pages through [`status`] and stored by the host) and store requests, each
//! awaited — the engine counts nothing the host has not committed. If the host dies, store
//! requests are retried on a fresh host process (the browser starts one per connection); the
//! engine's state and the store stay in step because every store request is idempotent.
//!
//! An expired portal session pauses the task; it goes on by itself once the portal answers
//! the session probe again (the user logged in, in any tab). 取消执行 stops it within 2 s:
//! requests in flight are aborted, the state is stored, and the task can be resumed.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use futures::future::{select, Either, LocalBoxFuture};
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use gloo::timers::future::TimeoutFuture;
use serde_json::Value;

use super::chrome;
use super::fetch;

mod documents;
use super::host_link;
use crate::calendar::Date;
use crate::checkpoint::{Enterprise, LogCategory, LogLine, TaskCreate, TaskFinish, TaskLogAppend, TaskRecord, TaskRef, TaskReport, TaskSnapshot, TaskStateChange};
use crate::error::{ErrorCode, ErrorInfo};
use crate::pace::Pace;
use crate::page::{SyncSettings, SyncStart, SyncStatus};
use crate::portal::{detail_body, parse_desk, DeskInfo, parse_detail, parse_list, session_probe_ok, Detail, ListPage, PortalFault, DESK_PATH, DETAIL_PATH, SESSION_PROBE_PATH};
use crate::protocol::Request;
use crate::secret::Pin;
use crate::sync::{Effect, Engine, EngineConfig, Job, JobId, Next};
use crate::task::{DateTime, TaskNumber, TaskState};

const STORE_TIMEOUT_MS: u32 = 30_000;
/// How often a paused task asks the portal whether the user is logged in again.
const SESSION_POLL_MS: u32 = 1_500;
/// The loop looks at 取消执行 at least this often.
const TICK_MS: u32 = 200;

/// A task running in this worker.
struct Run {
    task: TaskNumber,
    portal: String,
    settings: SyncSettings,
    engine: RefCell<Engine>,
    cancel: Cell<bool>,
    state: Cell<TaskState>,
    paused: Cell<bool>,
    /// Started by 自动协同 (its notifications say so).
    automatic: Cell<bool>,
    /// Every line of this run, numbered from 1, for pages polling `sync_status`.
    lines: RefCell<Vec<(u64, LogLine)>>,
    /// Lines not yet stored by the host.
    unsent: RefCell<Vec<LogLine>>,
    report: RefCell<Option<TaskReport>>,
    started_ms: f64,
    aborts: RefCell<HashMap<JobId, web_sys::AbortController>>,
    next_start_ms: Cell<f64>,
    /// Requests started per second now (`crate::pace`).
    pace: RefCell<Pace>,
    relogin: RefCell<Relogin>,
    /// Effects waiting for the store writer, in order.
    pending: RefCell<VecDeque<Effect>>,
    writing: Cell<bool>,
    /// A store failure the writer could not ride out: the task stops with it.
    fatal: RefCell<Option<ErrorInfo>>,
    /// Wakes the loop when the writer made progress (new jobs may be ready).
    notify: RefCell<Option<futures::channel::mpsc::UnboundedSender<()>>>,
}

/// Renewing an expired session with the card PIN, through the portal's own card login page.
#[derive(Default)]
struct Relogin {
    pin: Option<Pin>,
    /// The card refused the PIN once: it is never typed again.
    rejected: bool,
    attempts: u32,
    /// Where the portal sent an expired request (its CAS card login).
    login_url: Option<String>,
    /// The background tab opened for the attempt, and whether it already got the PIN.
    tab: Option<(i64, bool)>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Run>>> = const { RefCell::new(None) };
}

fn current() -> Option<Rc<Run>> {
    CURRENT.with(|c| c.borrow().clone())
}

fn running() -> bool {
    current().is_some_and(|run| run.state.get() == TaskState::Running)
}

/// Whether a task is running in this worker (the host link stays open while one is).
pub fn is_running() -> bool {
    running()
}

/// Local wall-clock time, as the log and task numbers use it.
pub fn local_now() -> DateTime {
    let now = js_sys::Date::new_0();
    let date = Date::new(now.get_full_year() as i32, (now.get_month() + 1) as u8, now.get_date() as u8)
        .unwrap_or_else(|| Date::from_day_number(0));
    DateTime { date, hour: now.get_hours() as u8, minute: now.get_minutes() as u8, second: now.get_seconds() as u8 }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn url(portal: &str, path: &str) -> String {
    format!("{}{path}", portal.trim_end_matches('/'))
}

/// Tries of a store request that the host could not reach its database for, because another
/// program held it locked past the host's busy timeout (2002, 5 s each): about a minute in all.
const STORE_BUSY_TRIES: u32 = 10;

/// Sends a store request, riding out a host that died or is restarting, and a database another
/// program holds locked for a while (a backup, a virus scanner: the running task's log says so
/// once per wait): every store request is idempotent, so sending it again is safe.
async fn store(request: Request) -> Result<Value, ErrorInfo> {
    let (mut delay, mut host_tries, mut busy_tries) = (250, 0, 0);
    loop {
        let error = match host_link::call(request.clone(), STORE_TIMEOUT_MS).await {
            Ok(value) => return Ok(value),
            Err(e) => e,
        };
        match error.error_code() {
            Some(ErrorCode::HostDisconnected | ErrorCode::HostTimeout | ErrorCode::Busy) if host_tries < 7 => {
                host_tries += 1;
                TimeoutFuture::new(delay).await;
                delay = (delay * 2).min(4_000);
            }
            Some(ErrorCode::StoreBusy) if busy_tries + 1 < STORE_BUSY_TRIES => {
                busy_tries += 1;
                if let Some(run) = current() {
                    run.log(LogCategory::Error, format!("{error}，1 秒后自动重试（第{busy_tries}次）"));
                }
                TimeoutFuture::new(1_000).await;
            }
            _ => return Err(error),
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ErrorInfo> {
    serde_json::from_value(value).map_err(|e| ErrorInfo::with_detail(ErrorCode::HostReplyInvalid, e.to_string()))
}

/// Checks the portal session and reads who is logged in, and for which enterprise (the
/// desktop's 用户名, 企业名称, 统一社会信用代码, 海关编码).
pub(super) async fn portal_user(portal: &str) -> Result<DeskInfo, ErrorInfo> {
    let abort = web_sys::AbortController::new().map_err(|_| ErrorInfo::new(ErrorCode::Internal))?;
    let probe = fetch::send(&url(portal, SESSION_PROBE_PATH), None, &abort, 15_000)
        .await
        .map_err(|e| ErrorInfo::with_detail(ErrorCode::PortalUnreachable, e.to_string()))?;
    if !session_probe_ok(&probe.http()) {
        return Err(ErrorInfo::new(ErrorCode::PortalNotLoggedIn));
    }
    let desk = fetch::send(&url(portal, DESK_PATH), None, &abort, 15_000).await;
    Ok(desk.map(|answer| parse_desk(&answer.body)).unwrap_or_default())
}

/// 启动协同服务: creates the task in the store and starts running it.
pub async fn start(request: SyncStart) -> Result<TaskRecord, ErrorInfo> {
    start_as(request, false).await
}

/// 自动协同 (`schedule::fire`): the same task, recorded with the operator `自动协同`.
pub async fn start_automatic(request: SyncStart) -> Result<TaskRecord, ErrorInfo> {
    start_as(request, true).await
}

async fn start_as(request: SyncStart, automatic: bool) -> Result<TaskRecord, ErrorInfo> {
    if running() {
        return Err(ErrorInfo::new(ErrorCode::SyncAlreadyRunning));
    }
    let now = local_now();
    request
        .conditions
        .validate(now.date)
        .map_err(|e| ErrorInfo::with_detail(ErrorCode::ConditionsInvalid, e.to_string()))?;
    let desk = portal_user(&request.portal).await?;
    // The task belongs to the enterprise whose portal session runs it (several enterprises in
    // one store); a desktop that names none leaves the task without one.
    let enterprise = (!desk.enterprise_scc.is_empty()).then(|| Enterprise {
        scc: desk.enterprise_scc.clone(),
        name: desk.enterprise_name.clone(),
        code: desk.enterprise_code.clone(),
    });
    let operator = if automatic { crate::view::schedule::AUTO_OPERATOR.to_owned() } else { desk.user_name };
    let verified = request.verify_card;
    if verified {
        verify_card(&request).await?;
    }
    let record: TaskRecord = decode(
        store(Request::TaskCreate(TaskCreate {
            conditions: request.conditions.clone(),
            portal: request.portal.clone(),
            operator,
            now,
            enterprise,
        }))
        .await?,
    )?;
    if request.documents {
        // Marks the task "with documents" now, so a resumed task still fetches them.
        store(Request::DocumentsPlan(crate::documents::DocumentsPlan { task: record.number.clone() })).await?;
    }
    let mut config = EngineConfig::new(now.date);
    config.page_size = request.settings.page_size.max(1);
    config.seed = now_ms() as u64;
    let engine = Engine::new(record.number.clone(), request.conditions, config);
    let run = launch(record.number.clone(), request.portal, request.settings, engine);
    run.automatic.set(automatic);
    run.relogin.borrow_mut().pin = request.pin.filter(Pin::well_formed);
    run.log(LogCategory::Execute, "正在创建协同任务...".into());
    run.log(LogCategory::Execute, "任务创建成功，存储任务数据".into());
    run.log(LogCategory::Execute, "客户端已成功接收执行指令，等待执行中...".into());
    run.log(LogCategory::Execute, format!("协同服务任务已启动，已分配任务编号：{}", record.number));
    if verified {
        run.log(LogCategory::Execute, "正在进行卡介质登录验证...".into());
        run.log(LogCategory::Execute, "卡介质验证通过".into());
    }
    begin(run, Vec::new()).await?;
    Ok(record)
}

/// 卡介质验证: the PIN is checked on the card before a task is created. The host checks the
/// format first and never sends a PIN to a card with no tries left; a wrong PIN comes back as
/// 3007 with `retriesLeft`, shown by the page.
async fn verify_card(request: &SyncStart) -> Result<(), ErrorInfo> {
    let pin = request.pin.clone().ok_or_else(|| ErrorInfo::new(ErrorCode::PinRequired))?;
    if !pin.well_formed() {
        return Err(ErrorInfo::new(ErrorCode::PinFormat));
    }
    let verify = Request::CardVerifyPin(crate::protocol::CardVerifyPinRequest {
        pin,
        confirm_last_try: request.confirm_last_try,
        settings: request.card_settings.clone(),
    });
    // Not `store()`: a PIN request is never sent twice, whatever happens to the host.
    let reply: crate::protocol::CardVerifyReply = decode(host_link::call(verify, 60_000).await?)?;
    if reply.verified {
        Ok(())
    } else {
        Err(ErrorInfo::new(ErrorCode::WrongPin))
    }
}

/// 补采 of the official documents: marks a past task "with documents" and runs it again; its
/// lists and details are done, so only the documents phase has work (what is missing).
pub async fn fetch_documents(task: TaskNumber, settings: Option<SyncSettings>, pin: Option<Pin>) -> Result<TaskRecord, ErrorInfo> {
    if running() {
        return Err(ErrorInfo::new(ErrorCode::SyncAlreadyRunning));
    }
    store(Request::DocumentsPlan(crate::documents::DocumentsPlan { task: task.clone() })).await?;
    resume(task, settings, pin).await
}

/// 断点续查 / 补采: runs a stored task again from where it stopped.
pub async fn resume(task: TaskNumber, settings: Option<SyncSettings>, pin: Option<Pin>) -> Result<TaskRecord, ErrorInfo> {
    if running() {
        return Err(ErrorInfo::new(ErrorCode::SyncAlreadyRunning));
    }
    let snapshot: TaskSnapshot = decode(store(Request::TaskSnapshot(TaskRef { task: task.clone() })).await?)?;
    let record = snapshot.task.clone();
    portal_user(&record.portal).await?;
    let now = local_now();
    let mut config = EngineConfig::new(now.date);
    let settings = settings.unwrap_or_default();
    config.page_size = settings.page_size.max(1);
    config.seed = now_ms() as u64;
    config.run_start = record.started_at.map_or(now.date, |t| t.date);
    let (engine, effects) = Engine::resume(snapshot, config);
    let run = launch(task, record.portal.clone(), settings, engine);
    run.relogin.borrow_mut().pin = pin.filter(Pin::well_formed);
    run.log(LogCategory::Execute, format!("断点续查：任务 {} 从中断处继续执行", record.number));
    begin(run, effects).await?;
    Ok(record)
}

/// Resumes the task a previous worker left running (called once the worker starts).
pub async fn resume_active() -> Result<Option<TaskRecord>, ErrorInfo> {
    if running() {
        return Ok(None);
    }
    let active = store(Request::TaskActive).await?;
    if active.is_null() {
        return Ok(None);
    }
    let record: TaskRecord = decode(active)?;
    resume(record.number, None, None).await.map(Some)
}

fn launch(task: TaskNumber, portal: String, settings: SyncSettings, engine: Engine) -> Rc<Run> {
    let pace = Pace::new(settings.rate_per_second);
    let run = Rc::new(Run {
        task,
        portal,
        settings,
        engine: RefCell::new(engine),
        cancel: Cell::new(false),
        state: Cell::new(TaskState::Running),
        paused: Cell::new(false),
        automatic: Cell::new(false),
        lines: RefCell::new(Vec::new()),
        unsent: RefCell::new(Vec::new()),
        report: RefCell::new(None),
        started_ms: now_ms(),
        aborts: RefCell::new(HashMap::new()),
        next_start_ms: Cell::new(0.0),
        pace: RefCell::new(pace),
        relogin: RefCell::new(Relogin::default()),
        pending: RefCell::new(VecDeque::new()),
        writing: Cell::new(false),
        fatal: RefCell::new(None),
        notify: RefCell::new(None),
    });
    CURRENT.with(|c| *c.borrow_mut() = Some(run.clone()));
    run
}

async fn begin(run: Rc<Run>, effects: Vec<Effect>) -> Result<(), ErrorInfo> {
    store(Request::TaskState(TaskStateChange { task: run.task.clone(), state: TaskState::Running, now: local_now(), message: None })).await?;
    apply(&run, effects).await?;
    run.flush_logs().await;
    let task = run.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(error) = drive(task.clone()).await {
            task.log(LogCategory::Error, format!("{}（错误码 {}）", error.message, error.code));
            task.state.set(TaskState::Failed);
            let _ = store(Request::TaskState(TaskStateChange {
                task: task.task.clone(),
                state: TaskState::Failed,
                now: local_now(),
                message: Some(error.message.clone()),
            }))
            .await;
            task.flush_logs().await;
            task.notify_end(None).await;
        }
    });
    Ok(())
}

/// 取消执行.
pub fn cancel() -> Result<(), ErrorInfo> {
    let run = current().filter(|r| r.state.get() == TaskState::Running).ok_or_else(|| ErrorInfo::new(ErrorCode::NoRunningTask))?;
    run.cancel.set(true);
    for (_, abort) in run.aborts.borrow_mut().drain() {
        abort.abort();
    }
    Ok(())
}

/// The running (or last) task's progress and its log lines after `after_seq`.
pub fn status(after_seq: u64) -> SyncStatus {
    let Some(run) = current() else {
        return SyncStatus {
            task: None,
            state: None,
            paused: false,
            reconciled: 0,
            found: 0,
            windows_done: 0,
            windows: 0,
            requests: 0,
            seconds_left: None,
            lines: Vec::new(),
            report: None,
        };
    };
    let engine = run.engine.borrow();
    let (reconciled, found, windows_done, windows) = engine.progress();
    let fraction = if windows == 0 {
        0.0
    } else {
        let listed = windows_done as f64 / windows as f64;
        let previewed = if found == 0 { listed } else { reconciled as f64 / found as f64 };
        0.5 * listed + 0.5 * previewed
    };
    let elapsed = (now_ms() - run.started_ms) / 1000.0;
    let seconds_left = (fraction > 0.02 && run.state.get() == TaskState::Running).then(|| (elapsed * (1.0 - fraction) / fraction) as u64);
    let status = SyncStatus {
        task: Some(run.task.clone()),
        state: Some(run.state.get()),
        paused: run.paused.get(),
        reconciled,
        found,
        windows_done: windows_done as u64,
        windows: windows as u64,
        requests: engine.requests,
        seconds_left,
        lines: run.lines.borrow().iter().filter(|(seq, _)| *seq > after_seq).cloned().collect(),
        report: run.report.borrow().clone(),
    };
    status
}

impl Run {
    /// [`fetch::Answer::check`], remembering where an expired session was sent (the card login).
    fn checked(&self, answer: &fetch::Answer) -> Result<(), PortalFault> {
        let result = answer.check();
        if result == Err(PortalFault::SessionExpired) && answer.final_url.contains("/cas/login") {
            self.relogin.borrow_mut().login_url = Some(answer.final_url.clone());
        }
        result
    }

    fn log(&self, category: LogCategory, message: String) {
        let line = LogLine { at: local_now(), category, message };
        let mut lines = self.lines.borrow_mut();
        let seq = lines.len() as u64 + 1;
        lines.push((seq, line.clone()));
        self.unsent.borrow_mut().push(line);
    }

    async fn flush_logs(&self) {
        let lines = std::mem::take(&mut *self.unsent.borrow_mut());
        if lines.is_empty() {
            return;
        }
        if store(Request::TaskLog(TaskLogAppend { task: self.task.clone(), lines: lines.clone() })).await.is_err() {
            // Kept for the next flush.
            let mut unsent = self.unsent.borrow_mut();
            let later = std::mem::take(&mut *unsent);
            *unsent = lines;
            unsent.extend(later);
        }
    }
}

/// Carries out effects in order; a ticketed store reply goes back into the engine, whose new
/// effects run before the rest.
async fn apply(run: &Run, effects: Vec<Effect>) -> Result<(), ErrorInfo> {
    let mut queue: VecDeque<Effect> = effects.into();
    while let Some(effect) = queue.pop_front() {
        match effect {
            Effect::Log(category, message) => run.log(category, message),
            Effect::Store { ticket, request } => {
                let reply = store(request).await?;
                if let Some(ticket) = ticket {
                    let more = run.engine.borrow_mut().stored(ticket, &reply);
                    for effect in more.into_iter().rev() {
                        queue.push_front(effect);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Queues effects for the store writer, which carries them out in order in the background:
/// the portal requests go on while the host commits.
fn enqueue(run: &Rc<Run>, effects: Vec<Effect>) {
    run.pending.borrow_mut().extend(effects);
    if run.writing.replace(true) {
        return;
    }
    let run = run.clone();
    wasm_bindgen_futures::spawn_local(async move {
        loop {
            let next = run.pending.borrow_mut().pop_front();
            let Some(effect) = next else { break };
            match effect {
                Effect::Log(category, message) => run.log(category, message),
                Effect::Store { ticket, request } => match store(request).await {
                    Ok(reply) => {
                        if let Some(ticket) = ticket {
                            let more = run.engine.borrow_mut().stored(ticket, &reply);
                            let mut pending = run.pending.borrow_mut();
                            for effect in more.into_iter().rev() {
                                pending.push_front(effect);
                            }
                        }
                    }
                    Err(error) => {
                        *run.fatal.borrow_mut() = Some(error);
                        run.pending.borrow_mut().clear();
                        break;
                    }
                },
            }
            run.wake();
        }
        run.writing.set(false);
        run.wake();
    });
}

impl Run {
    fn wake(&self) {
        if let Some(notify) = self.notify.borrow().as_ref() {
            let _ = notify.unbounded_send(());
        }
    }

    /// Waits until the writer has carried out everything queued.
    async fn drained(&self) -> Result<(), ErrorInfo> {
        while self.writing.get() || !self.pending.borrow().is_empty() {
            TimeoutFuture::new(5).await;
        }
        match self.fatal.borrow_mut().take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

enum Outcome {
    List(JobId, Result<ListPage, PortalFault>),
    Detail(JobId, Result<Detail, PortalFault>),
}

/// Sends one job's request, after waiting for its slot under the rate limit.
fn fetch_job(run: &Rc<Run>, job: Job) -> LocalBoxFuture<'static, Outcome> {
    let abort = web_sys::AbortController::new().ok();
    if let Some(abort) = &abort {
        run.aborts.borrow_mut().insert(job.id(), abort.clone());
    }
    let interval = run.pace.borrow().interval_ms();
    let slot = run.next_start_ms.get().max(now_ms());
    run.next_start_ms.set(slot + interval);
    let wait = (slot - now_ms()).max(0.0) as u32;
    let timeout = run.settings.request_timeout_ms.max(1_000);
    let (role, lookup) = {
        let engine = run.engine.borrow();
        (engine.conditions().role, engine.conditions().lookup.clone())
    };
    let portal = run.portal.clone();
    let run = run.clone();
    async move {
        if wait > 0 {
            TimeoutFuture::new(wait).await;
        }
        let Some(abort) = abort else {
            let fault = PortalFault::Network("AbortController unavailable".into());
            return match job {
                Job::List { id, .. } => Outcome::List(id, Err(fault)),
                Job::Detail { id, .. } => Outcome::Detail(id, Err(fault)),
            };
        };
        let outcome = match &job {
            Job::List { id, .. } => {
                let path = job.list_path(role, lookup.as_ref(), now_ms() as u64).unwrap_or_default();
                let answer = fetch::send(&url(&portal, &path), None, &abort, timeout).await;
                Outcome::List(*id, answer.and_then(|a| run.checked(&a).and_then(|()| parse_list(&a.body))))
            }
            Job::Detail { id, cus_ciq_no, direction } => {
                let body = detail_body(cus_ciq_no, direction);
                let answer = fetch::send(&url(&portal, DETAIL_PATH), Some(&body), &abort, timeout).await;
                Outcome::Detail(*id, answer.and_then(|a| run.checked(&a).and_then(|()| parse_detail(&a.body))))
            }
        };
        run.aborts.borrow_mut().remove(&job.id());
        outcome
    }
    .boxed_local()
}

/// The task's loop, until it finishes, is cancelled, or the host is lost for good.
async fn drive(run: Rc<Run>) -> Result<(), ErrorInfo> {
    let mut in_flight: FuturesUnordered<LocalBoxFuture<'static, Outcome>> = FuturesUnordered::new();
    let concurrency = run.settings.concurrency.clamp(1, 16) as usize;
    let (notify, mut woken) = futures::channel::mpsc::unbounded::<()>();
    *run.notify.borrow_mut() = Some(notify);
    let mut last_flush = now_ms();
    loop {
        if let Some(error) = run.fatal.borrow_mut().take() {
            return Err(error);
        }
        if run.cancel.get() {
            run.engine.borrow_mut().cancel();
        }
        let wake_at = match fill(&run, &mut in_flight, concurrency) {
            Fill::Wake(at) => at,
            Fill::Paused => {
                run.drained().await?;
                wait_for_login(&run).await?;
                continue;
            }
            Fill::Finished => {
                // Nothing left to ask; the last commits may still be on their way.
                run.drained().await?;
                if run.engine.borrow_mut().next_job(now_ms() as u64) == Next::Finished {
                    return finish(&run).await;
                }
                continue;
            }
            Fill::Cancelled => {
                run.drained().await.ok();
                return cancelled(&run).await;
            }
        };
        let tick = wake_at.map_or(TICK_MS, |at| ((at - now_ms()).max(0.0) as u32).min(TICK_MS));
        if in_flight.is_empty() {
            // Nothing to complete (an empty set would answer `None` at once and spin): wait
            // for the writer's progress, a backoff to end, or the tick.
            let _ = select(woken.next(), TimeoutFuture::new(tick)).await;
            continue;
        }
        let completed = futures::future::select(in_flight.next(), woken.next());
        let outcome = match select(completed, TimeoutFuture::new(tick)).await {
            Either::Left((Either::Left((Some(outcome), _)), _)) => outcome,
            _ => continue,
        };
        run.adapt_pace(&outcome);
        let now = now_ms() as u64;
        let effects = match outcome {
            Outcome::List(id, result) => run.engine.borrow_mut().list_done(id, result, now),
            Outcome::Detail(id, result) => run.engine.borrow_mut().detail_done(id, result, now),
        };
        enqueue(&run, effects);
        // Log lines go to the store in batches (pages see them at once through `status`).
        if now_ms() - last_flush > LOG_FLUSH_MS {
            run.flush_logs().await;
            last_flush = now_ms();
        }
    }
}

impl Run {
    /// Slows down when the portal says the requests come too often (429, WAF-style 400): the
    /// next request waits one new interval, and the user reads it in the log; every other answer
    /// wins a little back (`crate::pace`).
    fn adapt_pace(&self, outcome: &Outcome) {
        let refused = match outcome {
            Outcome::List(_, Err(PortalFault::RateLimited(code))) | Outcome::Detail(_, Err(PortalFault::RateLimited(code))) => Some(*code),
            _ => None,
        };
        let Some(code) = refused else {
            self.pace.borrow_mut().answered();
            return;
        };
        let now = now_ms();
        let slowed = self.pace.borrow_mut().refused(now);
        if let Some(pace) = slowed {
            self.next_start_ms.set(self.next_start_ms.get().max(now + 1000.0 / pace));
            self.log(LogCategory::Execute, format!("单一窗口提示访问过于频繁（HTTP {code}），已自动放慢到每秒 {pace:.1} 次请求"));
        }
    }
}

/// Answers that may wait for the store's commit while new requests go out.
const WRITE_BEHIND: usize = 2;

/// How often buffered log lines are stored while a task runs.
const LOG_FLUSH_MS: f64 = 1_000.0;

enum Fill {
    /// Go on; wake by this time (ms) at the latest for a job waiting out its backoff.
    Wake(Option<f64>),
    Paused,
    Finished,
    Cancelled,
}

/// Starts jobs until `concurrency` are in flight or the engine has nothing ready.
fn fill(run: &Rc<Run>, in_flight: &mut FuturesUnordered<LocalBoxFuture<'static, Outcome>>, concurrency: usize) -> Fill {
    // Answers fetched but not yet committed count too, so an interruption loses at most
    // `concurrency + WRITE_BEHIND` answers (what "in flight" means for 断点续查).
    while in_flight.len() < concurrency && run.engine.borrow().in_flight() < concurrency + WRITE_BEHIND {
        let next = run.engine.borrow_mut().next_job(now_ms() as u64);
        match next {
            Next::Job(job) => in_flight.push(fetch_job(run, job)),
            Next::Wait(at) => return Fill::Wake(Some(at as f64)),
            Next::Idle => break,
            Next::Paused if in_flight.is_empty() => return Fill::Paused,
            Next::Paused => break,
            Next::Finished if in_flight.is_empty() => return Fill::Finished,
            Next::Finished => break,
            Next::Cancelled => return Fill::Cancelled,
        }
    }
    Fill::Wake(None)
}

/// At most this many automatic card logins per task.
const MAX_RELOGINS: u32 = 3;
/// How long one automatic login may take before its tab is closed.
const RELOGIN_TIMEOUT_MS: f64 = 30_000.0;

/// The session expired: wait until the portal answers the probe again — the user logged in, in
/// any tab, or DataLink did, with the PIN the user gave for this task.
async fn wait_for_login(run: &Rc<Run>) -> Result<(), ErrorInfo> {
    run.paused.set(true);
    run.flush_logs().await;
    if run.relogin.borrow().pin.is_none() {
        // No PIN to renew the session with (DataLink never stores one): ask the user.
        let (title, message) = crate::view::schedule::login_notice(Some(&run.task.to_string()));
        super::schedule::notify("datalink-login", &title, &message).await;
    }
    let mut tab_opened_at = 0.0;
    loop {
        if run.cancel.get() {
            run.paused.set(false);
            run.close_login_tab().await;
            run.engine.borrow_mut().cancel();
            return Ok(());
        }
        let open_tab = {
            let r = run.relogin.borrow();
            let can = r.pin.is_some() && !r.rejected && r.attempts < MAX_RELOGINS && r.tab.is_none();
            can.then(|| r.login_url.clone()).flatten()
        };
        if let Some(login_url) = open_tab {
            let attempt = {
                let mut r = run.relogin.borrow_mut();
                r.attempts += 1;
                r.attempts
            };
            let card_tab = if login_url.contains("_swCardF=") { login_url } else { format!("{login_url}&_swCardF=1") };
            run.log(LogCategory::Connect, format!("正在进行卡介质登录验证...（自动重新登录，第{attempt}次）"));
            run.flush_logs().await;
            if let Some(tab) = chrome::open_background_tab(&card_tab).await {
                run.relogin.borrow_mut().tab = Some((tab, false));
                tab_opened_at = now_ms();
            }
        }
        TimeoutFuture::new(SESSION_POLL_MS).await;
        if portal_user(&run.portal).await.is_ok() {
            run.close_login_tab().await;
            run.paused.set(false);
            run.engine.borrow_mut().session_restored();
            run.log(LogCategory::Connect, "单一窗口登录已恢复，继续执行".into());
            run.flush_logs().await;
            return Ok(());
        }
        let stuck = run.relogin.borrow().tab.is_some() && now_ms() - tab_opened_at > RELOGIN_TIMEOUT_MS;
        if stuck {
            run.close_login_tab().await;
        }
        if run.relogin.borrow().rejected {
            run.close_login_tab().await;
        }
    }
}

impl Run {
    /// The desktop notification that the task ended, with its three counts when it has them.
    async fn notify_end(&self, counts: Option<crate::checkpoint::Counts>) {
        let number = self.task.to_string();
        let (title, message) = crate::view::schedule::task_end_notice(&number, self.state.get(), counts, self.automatic.get());
        super::schedule::notify(&format!("datalink-task-{number}"), &title, &message).await;
    }

    async fn close_login_tab(&self) {
        let tab = self.relogin.borrow_mut().tab.take();
        if let Some((tab, _)) = tab {
            chrome::close_tab(tab).await;
        }
    }
}

/// What the content script on a card login page may do (`autologin`): type the PIN, once, in
/// the tab DataLink opened for a paused task. Asked a second time from that tab, the first
/// try failed — the card refused the PIN — so it is never given out again.
pub fn autologin(tab_id: i64, page_message: Option<String>) -> Option<String> {
    let run = current()?;
    let mut relogin = run.relogin.borrow_mut();
    match relogin.tab {
        Some((tab, false)) if tab == tab_id && !relogin.rejected => {
            relogin.tab = Some((tab, true));
            relogin.pin.as_ref().map(|pin| pin.expose().to_owned())
        }
        Some((tab, true)) if tab == tab_id => {
            relogin.rejected = true;
            relogin.pin = None;
            drop(relogin);
            let why = page_message.filter(|m| !m.trim().is_empty()).map(|m| format!("（{}）", m.trim())).unwrap_or_default();
            run.log(LogCategory::Error, format!("卡介质口令被拒绝{why}，已停止自动登录；请手动登录单一窗口，任务将自动继续"));
            None
        }
        _ => None,
    }
}

fn elapsed_text(ms: f64) -> String {
    let total = (ms / 1000.0).round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}小时{m}分{s}秒")
    } else {
        format!("{m}分{s}秒")
    }
}

async fn finish(run: &Rc<Run>) -> Result<(), ErrorInfo> {
    // Official documents (issue #10), for a task that asked for them.
    documents::phase(run).await?;
    if run.cancel.get() {
        return cancelled(run).await;
    }
    run.flush_logs().await;
    let report: TaskReport = decode(store(Request::TaskFinish(TaskFinish { task: run.task.clone(), now: local_now() })).await?)?;
    let t = report.total;
    run.log(LogCategory::Result, format!("核销结果：查询数 {}，命中数 {}，核销数 {}", t.queried, t.hit, t.reconciled));
    if let Some(d) = report.documents {
        run.log(LogCategory::Result, format!("报关单打印件：已存 {} 份，应有 {} 份（有报关单号的报关单）", d.stored, d.entries));
    }
    if report.task.state != TaskState::Completed {
        for p in report.periods.iter().filter(|p| !p.counts.agree()) {
            let c = p.counts;
            run.log(LogCategory::Error, format!("{} 未核销一致：查询数 {} 命中数 {} 核销数 {}", p.period, c.queried, c.hit, c.reconciled));
        }
        for m in report.missing.iter().take(20) {
            run.log(LogCategory::Error, format!("未核销报关单 {}（{}）：{}", m.cus_ciq_no, m.period, m.reason));
        }
    }
    run.log(LogCategory::Result, format!("任务执行完成 | 耗时: {}", elapsed_text(now_ms() - run.started_ms)));
    run.state.set(report.task.state);
    let total = report.total;
    *run.report.borrow_mut() = Some(report);
    run.flush_logs().await;
    run.notify_end(Some(total)).await;
    Ok(())
}

async fn cancelled(run: &Rc<Run>) -> Result<(), ErrorInfo> {
    for (_, abort) in run.aborts.borrow_mut().drain() {
        abort.abort();
    }
    run.log(LogCategory::Execute, "任务已取消，可在协同记录中断点续查".into());
    store(Request::TaskState(TaskStateChange {
        task: run.task.clone(),
        state: TaskState::Cancelled,
        now: local_now(),
        message: Some("用户取消执行".into()),
    }))
    .await?;
    run.state.set(TaskState::Cancelled);
    run.flush_logs().await;
    Ok(())
}
