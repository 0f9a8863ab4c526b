//! The HTTP server: routing, session gate, limits, faults and the admin API.
//!
//! Every request goes through `dispatch`:
//!
//! 1. `/__sim/*` (at the root, whatever the prefix) is the admin API when
//!    `--admin` is on, and a 404 otherwise.
//! 2. Anything else must start with the prefix; the rest of the path is
//!    classified into a [`Route`] ([`classify`]).
//! 3. Portal routes pass the rate limiter (429 or WAF 400), then the
//!    configured latency, then their handler.
//! 4. Handlers that need a login check `JSESSIONID`; without a valid session
//!    they answer a 302 to the CAS login page, as the real portal does.
//!    Data routes (list, detail, receipts, PDFs) count against
//!    `expire_every` and then meet the probabilistic faults.
//! 5. The status is counted per route and per code for `/__sim/stats`.
//!
//! State lives in one `Sim` behind an `Arc`: the data under a `RwLock`
//! (read by every query, written only by the `shift` fault and reset), the
//! sessions, faults, stats and rate bucket each under a short `Mutex`. No
//! lock is held across an `.await`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, HOST, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::serve::ListenerExt;
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::codec::{base64_encode, cookie_value, encode_uri_component, parse_query, query_value};
use crate::config::{ConfigError, RateLimitAnswer, Resolved, SimConfig};
use crate::date::DateTime;
use crate::faults::{
    decide, decide_pdf, garble, pdf_listed, shift_due, DataRoute, Fault, FaultSpec, Garble,
    PdfFault,
};
use crate::generate::{event_rng, generate_world, Fixed, Forge, Ids, World};
use crate::model::{
    Attachment, DecStatus, Declaration, Enterprise, EnterpriseTruth, IeFlag, Role, Truth,
    TruthDeclaration,
};
use crate::query::{
    error_body, parse_list_query, run_list_as, ListQuery, ListVariant, QueryError, StatusFilter,
};
use crate::render;
use crate::rng::{hash_str, mix, unit_from};
use crate::session::{Login, Sessions};

// GUESS: Spring's content type for JSON (portal-api.md §1 confirms only the PDF's).
const JSON: &str = "application/json;charset=UTF-8";
const HTML: &str = "text/html;charset=UTF-8";
const PDF: &str = "application/pdf;charset=UTF-8";
const MAX_BODY: usize = 1 << 20;

/// A portal route, after the prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Route {
    /// `/cas/login` (GET page, POST PIN).
    CasLogin,
    /// `/cas/logout`.
    CasLogout,
    /// `/deskserver/j_spring_cas_security_check`.
    DeskCasCheck,
    /// `/decserver/j_spring_cas_security_check`.
    DecCasCheck,
    /// `/deskserver/sw/deskIndex`.
    DeskIndex,
    /// `/deskserver/sw/allVersion` (session probe).
    AllVersion,
    /// `/decserver/sw/dec/cusQueryZh` (query page).
    QueryPage,
    /// `GET /decserver/sw/dec/merge/cusQuery`.
    List,
    /// `GET /decserver/sw/dec/common/cusQuery` (older variant).
    ListCommon,
    /// `POST /decserver/sw/dec/merge/queryDecData`.
    Detail,
    /// `GET /decserver/sw/dec/common/queryCusDecRet`.
    Receipts,
    /// `GET /decserver/entries/ftl/1/0/0/{cusCiqNo}.pdf`.
    Pdf,
    /// `/decserver/entries/direct/ftl/1/0/0/{cusCiqNo}.pdf` (JSON base64).
    PdfDirect,
    /// `/decserver/error/showError.jsp`.
    ShowError,
    /// Anything else.
    NotFound,
}

impl Route {
    /// The name used in `/__sim/stats`.
    pub fn name(self) -> &'static str {
        match self {
            Route::CasLogin => "casLogin",
            Route::CasLogout => "casLogout",
            Route::DeskCasCheck => "deskCasCheck",
            Route::DecCasCheck => "decCasCheck",
            Route::DeskIndex => "deskIndex",
            Route::AllVersion => "allVersion",
            Route::QueryPage => "cusQueryZh",
            Route::List => "cusQuery",
            Route::ListCommon => "commonCusQuery",
            Route::Detail => "queryDecData",
            Route::Receipts => "queryCusDecRet",
            Route::Pdf => "pdf",
            Route::PdfDirect => "pdfDirect",
            Route::ShowError => "showError",
            Route::NotFound => "notFound",
        }
    }
}

/// The `{cusCiqNo}` of a PDF path's last segment.
fn pdf_id(rest: &str, dir: &str) -> Option<String> {
    let name = rest.strip_prefix(dir)?;
    let id = name.strip_suffix(".pdf")?;
    (!id.is_empty() && !id.contains('/')).then(|| id.to_string())
}

/// Classify a path (prefix already removed).
pub fn classify(rest: &str) -> Route {
    match rest {
        "/cas/login" => Route::CasLogin,
        "/cas/logout" => Route::CasLogout,
        "/deskserver/j_spring_cas_security_check" => Route::DeskCasCheck,
        "/decserver/j_spring_cas_security_check" => Route::DecCasCheck,
        "/deskserver/sw/deskIndex" => Route::DeskIndex,
        "/deskserver/sw/allVersion" => Route::AllVersion,
        "/decserver/sw/dec/cusQueryZh" => Route::QueryPage,
        "/decserver/sw/dec/merge/cusQuery" => Route::List,
        "/decserver/sw/dec/common/cusQuery" => Route::ListCommon,
        "/decserver/sw/dec/merge/queryDecData" => Route::Detail,
        "/decserver/sw/dec/common/queryCusDecRet" => Route::Receipts,
        "/decserver/error/showError.jsp" => Route::ShowError,
        r if pdf_id(r, "/decserver/entries/ftl/1/0/0/").is_some() => Route::Pdf,
        r if pdf_id(r, "/decserver/entries/direct/ftl/1/0/0/").is_some() => Route::PdfDirect,
        _ => Route::NotFound,
    }
}

/// Requests and statuses of one route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteStats {
    /// Requests answered.
    pub requests: u64,
    /// Answers per HTTP status code.
    pub by_status: BTreeMap<String, u64>,
}

/// `GET /__sim/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Portal requests answered (admin requests are not counted).
    pub requests: u64,
    /// Per route name (see [`Route::name`]).
    pub by_route: BTreeMap<String, RouteStats>,
    /// Per HTTP status code.
    pub by_status: BTreeMap<String, u64>,
    /// Faults injected, per kind (`5xx`, `burst`, `hang`, `garbage`, `html`,
    /// `detail_fail`, `expired`, `pdf_login`, `pdf_cut`, `pdf_5xx`).
    pub faults: BTreeMap<String, u64>,
    /// Requests refused by the rate limit.
    pub rate_limited: u64,
    /// Data changes made by the `shift` fault.
    pub shift_events: u64,
    /// Live sessions.
    pub live_sessions: u64,
    /// Sessions created since start/reset.
    pub sessions_created: u64,
    /// Sessions ended by idling or `expire_every`.
    pub sessions_expired: u64,
    /// Logins refused (wrong PIN or locked card).
    pub failed_logins: u64,
    /// Whether the card is locked.
    pub card_locked: bool,
    /// The fault spec in force.
    pub fault_spec: String,
    /// The document routes: prints and receipts.
    #[serde(default)]
    pub documents: DocumentStats,
}

/// The document routes' counters in `/__sim/stats` (`documents`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentStats {
    /// Requests to the document routes (both prints and the receipts), whatever the answer.
    pub requests: u64,
    /// Requests to either print route.
    pub pdf_requests: u64,
    /// Requests to `queryCusDecRet`.
    pub receipts_requests: u64,
    /// Complete prints sent (raw or as base64).
    pub pdfs_served: u64,
    /// Their bytes.
    pub pdf_bytes: u64,
    /// Prints refused: no 报关单号 yet, unknown, or another enterprise's declaration.
    pub pdf_not_found: u64,
    /// Faults met by print requests (general ones and `pdf_*`).
    pub pdf_faults: u64,
}

#[derive(Default)]
struct Counters {
    requests: u64,
    by_route: BTreeMap<String, RouteStats>,
    by_status: BTreeMap<String, u64>,
    faults: BTreeMap<String, u64>,
    rate_limited: u64,
    shift_events: u64,
    documents: DocumentStats,
}

struct FaultState {
    spec: FaultSpec,
    data_requests: u64,
    range_lists: u64,
    /// Per 统一编号: print requests that met a `pdf_*_for` fault.
    pdf_faulted: HashMap<String, u64>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Markup and script that a client must show as text, never run (`POST /__sim/hostile`). Each
/// one, if interpreted, sets `window.__pwned`.
pub const HOSTILE_STRINGS: &[&str] = &[
    "<img src=x onerror=\"window.__pwned=(window.__pwned||0)+1\">",
    "</script><script>window.__pwned=(window.__pwned||0)+1</script>",
    "<svg onload=window.__pwned=1>",
    "\"><iframe src=\"javascript:parent.__pwned=1\"></iframe>&amp;<b>",
];

/// A broker's roles on a client's declaration it declared.
// GUESS: a broker is both the 申报单位 (A) and the 录入单位 (D) of what it declares
// (portal-api.md §2 lists the roles, not who holds them).
pub const BROKER_ROLES: &[Role] = &[Role::A, Role::D];

struct Data {
    world: World,
    /// 统一编号 → (enterprise, position in its declarations).
    index: HashMap<String, (usize, usize)>,
    ids: Ids,
    revision: u64,
}

/// One declaration in a viewer's sight: (home enterprise, position, declaration, the
/// viewer's roles on it).
type Seen<'a> = (usize, usize, &'a Declaration, &'a [Role]);

impl Data {
    fn new(world: World) -> Data {
        let mut index = HashMap::new();
        let mut ids = Ids::default();
        for (e, m) in world.members.iter().enumerate() {
            for (i, d) in m.declarations.iter().enumerate() {
                index.insert(d.cus_ciq_no.clone(), (e, i));
            }
            let more = Ids::of(&m.declarations);
            ids.ciq.extend(more.ciq);
            ids.entry.extend(more.entry);
        }
        Data {
            world,
            index,
            ids,
            revision: 0,
        }
    }

    fn enterprise(&self, e: usize) -> Option<&Enterprise> {
        self.world.members.get(e).map(|m| &m.enterprise)
    }

    /// Whether `viewer` is a broker and the 申报单位 of `d`.
    fn declares(&self, viewer: usize, d: &Declaration) -> bool {
        self.world.is_broker(viewer)
            && self
                .enterprise(viewer)
                .is_some_and(|ent| ent.scc == d.agent_scc)
    }

    /// Declaration `id` if `viewer`'s session may see it, with its home enterprise.
    fn visible(&self, viewer: usize, id: &str) -> Option<(usize, &Declaration)> {
        let (e, i) = *self.index.get(id)?;
        let d = &self.world.members[e].declarations[i];
        (e == viewer || self.declares(viewer, d)).then_some((e, d))
    }

    /// Everything `viewer` sees: its own declarations with their roles, then (a broker)
    /// the others' it declared, with [`BROKER_ROLES`].
    fn view(&self, viewer: usize) -> impl Iterator<Item = Seen<'_>> + '_ {
        let broker = self.world.is_broker(viewer);
        let scc = self.enterprise(viewer).map_or("", |e| e.scc.as_str());
        self.world
            .members
            .iter()
            .enumerate()
            .filter(move |(e, _)| *e == viewer || broker)
            .flat_map(move |(e, m)| {
                m.declarations.iter().enumerate().filter_map(move |(i, d)| {
                    if e == viewer {
                        Some((e, i, d, d.etps_category.as_slice()))
                    } else if d.agent_scc == scc {
                        Some((e, i, d, BROKER_ROLES))
                    } else {
                        None
                    }
                })
            })
    }

    /// The print of a declaration `viewer` may see, if it has a 报关单号.
    fn pdf(&self, viewer: usize, id: &str) -> Option<Vec<u8>> {
        let (home, d) = self.visible(viewer, id)?;
        d.entry_id.as_ref()?;
        Some(crate::pdf::declaration_pdf(d, self.enterprise(home)?))
    }
}

/// The simulator's shared state.
pub(crate) struct Sim {
    r: Resolved,
    initial: World,
    data: RwLock<Data>,
    sessions: Mutex<Sessions>,
    faults: Mutex<FaultState>,
    counters: Mutex<Counters>,
    bucket: Mutex<Bucket>,
    request_no: AtomicU64,
    login_no: AtomicU64,
    shutdown: watch::Receiver<bool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}

fn respond(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(CONTENT_TYPE, v);
    }
    resp
}

fn json(status: StatusCode, v: &Value) -> Response {
    respond(status, JSON, serde_json::to_vec(v).unwrap_or_default())
}

fn html(status: StatusCode, page: String) -> Response {
    respond(status, HTML, page)
}

fn redirect(location: &str, cookie: Option<&str>) -> Response {
    let mut resp = respond(StatusCode::FOUND, HTML, "");
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(LOCATION, v);
    }
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(c).ok()) {
        resp.headers_mut().append(SET_COOKIE, c);
    }
    resp
}

fn session_cookie(id: &str) -> String {
    // GUESS: Path=/ and HttpOnly (portal-api.md §1 confirms only the name JSESSIONID).
    format!("JSESSIONID={id}; Path=/; HttpOnly")
}

fn jsessionid(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| cookie_value(c, "JSESSIONID").map(str::to_string))
}

/// What a data route may go on to do after the gate.
enum Gate {
    /// A valid session of `viewer`; this is data request number `k`; the fault it met.
    Go {
        viewer: usize,
        k: u64,
        fault: Option<Fault>,
    },
    Stop(Response),
}

impl Sim {
    fn new(r: Resolved, shutdown: watch::Receiver<bool>) -> Sim {
        let c = &r.cfg;
        let initial = initial_world(&r);
        let pins = std::iter::once(c.pin.clone())
            .chain(c.extra_enterprises.iter().map(|e| e.pin.clone()))
            .collect();
        let sessions = Sessions::with_pins(
            c.seed,
            pins,
            c.card_lock_after,
            Duration::from_secs(c.session_idle_secs),
        );
        Sim {
            data: RwLock::new(Data::new(initial.clone())),
            initial,
            sessions: Mutex::new(sessions),
            faults: Mutex::new(FaultState {
                spec: c.faults.clone(),
                data_requests: 0,
                range_lists: 0,
                pdf_faulted: HashMap::new(),
            }),
            counters: Mutex::new(Counters::default()),
            bucket: Mutex::new(Bucket {
                tokens: c.rate_limit.max(1.0),
                last: Instant::now(),
            }),
            request_no: AtomicU64::new(0),
            login_no: AtomicU64::new(0),
            shutdown,
            r,
        }
    }

    fn seed(&self) -> u64 {
        self.r.cfg.seed
    }

    fn origin(&self, headers: &HeaderMap) -> String {
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or("127.0.0.1");
        format!("http://{host}")
    }

    /// The CAS login URL a logged-out request is sent to (portal-api.md §1:
    /// `…/cas/login?service=<server>/j_spring_cas_security_check`).
    fn login_redirect(&self, headers: &HeaderMap, server: &str) -> Response {
        // GUESS: CAS is served on the portal's own origin under the prefix (the real one is
        // app.singlewindow.cn), so only the base URL differs (portal-api.md §1).
        let origin = self.origin(headers);
        let service = format!(
            "{origin}{}/{server}/j_spring_cas_security_check",
            self.r.prefix
        );
        redirect(
            &format!(
                "{origin}{}/cas/login?service={}",
                self.r.prefix,
                encode_uri_component(&service)
            ),
            None,
        )
    }

    fn count(&self, route: Route, status: StatusCode) {
        let mut c = lock(&self.counters);
        c.requests += 1;
        match route {
            Route::Pdf | Route::PdfDirect => {
                c.documents.requests += 1;
                c.documents.pdf_requests += 1;
            }
            Route::Receipts => {
                c.documents.requests += 1;
                c.documents.receipts_requests += 1;
            }
            _ => {}
        }
        let code = status.as_u16().to_string();
        let rs = c.by_route.entry(route.name().to_string()).or_default();
        rs.requests += 1;
        *rs.by_status.entry(code.clone()).or_default() += 1;
        *c.by_status.entry(code).or_default() += 1;
    }

    fn count_fault(&self, name: &str) {
        *lock(&self.counters)
            .faults
            .entry(name.to_string())
            .or_default() += 1;
    }

    /// Take a token; `false` when over the rate limit.
    fn admit(&self) -> bool {
        let rate = self.r.cfg.rate_limit;
        if rate <= 0.0 {
            return true;
        }
        let mut b = lock(&self.bucket);
        let now = Instant::now();
        let cap = rate.max(1.0);
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(cap);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn latency(&self) -> Option<Duration> {
        let base = self.r.cfg.latency_ms as f64;
        let jitter = self.r.jitter_ms as f64;
        if base <= 0.0 && jitter <= 0.0 {
            return None;
        }
        let n = self.request_no.fetch_add(1, Ordering::Relaxed) + 1;
        let u = unit_from(mix(self.seed(), n, hash_str("latency")));
        let ms = (base + (2.0 * u - 1.0) * jitter).max(0.0);
        Some(Duration::from_micros((ms * 1000.0) as u64))
    }

    /// Session check, `expire_every` and the fault draw for a data route.
    fn gate(&self, route: DataRoute, headers: &HeaderMap) -> Gate {
        let id = jsessionid(headers);
        let drawn = {
            let mut f = lock(&self.faults);
            let expire_every = f.spec.expire_every;
            let viewer = lock(&self.sessions).check_as(id.as_deref(), true, expire_every);
            match viewer {
                Some(viewer) => {
                    f.data_requests += 1;
                    let k = f.data_requests;
                    Ok((viewer, k, decide(&f.spec, self.seed(), k, route)))
                }
                None => Err(expire_every),
            }
        };
        match drawn {
            Ok((viewer, k, fault)) => {
                if let Some(fault) = fault {
                    self.count_fault(fault.name());
                }
                Gate::Go { viewer, k, fault }
            }
            Err(expire_every) => {
                if id.is_some() && expire_every > 0 {
                    self.count_fault("expired");
                }
                Gate::Stop(self.login_redirect(headers, "decserver"))
            }
        }
    }

    /// Answer a pre-empting fault (5xx, hang, HTML); `None` for garbage,
    /// which is applied to the real answer.
    async fn preempt(&self, fault: Option<Fault>) -> Option<Response> {
        match fault? {
            Fault::ServerError(500) | Fault::Burst(500) => Some(html(
                StatusCode::INTERNAL_SERVER_ERROR,
                render::tomcat_500(),
            )),
            Fault::ServerError(code) | Fault::Burst(code) => {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
                Some(html(status, render::nginx_error(code)))
            }
            Fault::Hang => {
                let ms = lock(&self.faults).spec.hang_ms;
                let mut stop = self.shutdown.clone();
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
                    _ = stop.wait_for(|v| *v) => {}
                }
                Some(html(StatusCode::GATEWAY_TIMEOUT, render::nginx_error(504)))
            }
            // GUESS: an HTML error page served with 200 where JSON was expected (portal-api.md §1).
            Fault::Html => Some(html(StatusCode::OK, render::show_error_page())),
            Fault::Garbage(_) => None,
        }
    }

    /// The `pdf_*` fault for data request `k` asking for `id`'s print (counted).
    fn pdf_fault(&self, k: u64, id: &str) -> Option<PdfFault> {
        let fault = {
            let mut f = lock(&self.faults);
            let faulted = f.pdf_faulted.get(id).copied().unwrap_or(0);
            let fault = decide_pdf(&f.spec, self.seed(), k, id, faulted);
            if fault.is_some() && pdf_listed(&f.spec, id) {
                *f.pdf_faulted.entry(id.to_string()).or_default() += 1;
            }
            fault
        }?;
        self.count_fault(fault.name());
        lock(&self.counters).documents.pdf_faults += 1;
        Some(fault)
    }

    fn truth(&self) -> Truth {
        build_truth(&read(&self.data), &self.r)
    }

    fn stats(&self) -> Stats {
        // One lock at a time: `gate` takes faults, then sessions.
        let (live, created, expired, failed, locked) = {
            let s = lock(&self.sessions);
            let (live, created, expired, failed) = s.counts();
            (live, created, expired, failed, s.locked())
        };
        let fault_spec = lock(&self.faults).spec.to_string();
        let c = lock(&self.counters);
        let documents = c.documents.clone();
        Stats {
            requests: c.requests,
            by_route: c.by_route.clone(),
            by_status: c.by_status.clone(),
            faults: c.faults.clone(),
            rate_limited: c.rate_limited,
            shift_events: c.shift_events,
            live_sessions: live as u64,
            sessions_created: created,
            sessions_expired: expired,
            failed_logins: failed,
            card_locked: locked,
            fault_spec,
            documents,
        }
    }

    fn set_faults(&self, spec: FaultSpec) {
        let mut f = lock(&self.faults);
        f.spec = spec;
        f.data_requests = 0;
        f.range_lists = 0;
        f.pdf_faulted.clear();
    }

    /// Test-only (`POST /__sim/hostile`): markup and script in the texts a client shows —
    /// the card holder's name, party names, customs office and port names, goods names — so a
    /// client's pages can prove they render portal strings as text. Identifiers, codes, dates
    /// and numbers stay as they are. Returns how many declarations changed.
    fn make_hostile(&self) -> usize {
        let mut data = write(&self.data);
        let h = |i: usize| HOSTILE_STRINGS[i % HOSTILE_STRINGS.len()];
        let mut n = 0;
        for (e, member) in data.world.members.iter_mut().enumerate() {
            member.enterprise.user_name = format!("{}许斯维", h(e));
            member.enterprise.name = format!("{}西安数据协同贸易有限公司", h(e + 1));
            n += member.declarations.len();
        }
        let all = data
            .world
            .members
            .iter_mut()
            .flat_map(|m| m.declarations.iter_mut());
        for (i, d) in all.enumerate() {
            d.owner_name = format!("{}{}", h(i + 1), d.owner_name);
            d.domestic_name = format!("{}{}", h(i), d.domestic_name);
            d.overseas_name = format!("{} {}", d.overseas_name, h(i + 2));
            d.agent_name = format!("{}{}", h(i + 3), d.agent_name);
            d.custom_master_name = format!("{}{}", h(i), d.custom_master_name);
            d.ciq_enty_port_code_name = format!("{}{}", h(i + 1), d.ciq_enty_port_code_name);
            d.supv_mode_cdde_name = format!("{}{}", h(i + 2), d.supv_mode_cdde_name);
            for (j, g) in d.goods.iter_mut().enumerate() {
                g.g_name = format!("{}{}", h(i + j), g.g_name);
                g.g_model = format!("{}|{}", g.g_model, h(i + j + 1));
            }
        }
        data.revision += 1;
        n
    }

    fn reset(&self) {
        *write(&self.data) = Data::new(self.initial.clone());
        lock(&self.sessions).reset();
        {
            let mut f = lock(&self.faults);
            f.data_requests = 0;
            f.range_lists = 0;
            f.pdf_faulted.clear();
        }
        *lock(&self.counters) = Counters::default();
        self.request_no.store(0, Ordering::Relaxed);
    }

    /// The `shift` fault: change one declaration inside `q`'s window, as `viewer` sees
    /// it, so a client paging through it sees the offsets move (see [`crate::faults`]).
    /// A new declaration is the viewer's own; a broker's session only advances existing
    /// ones (its clients' declarations are not its own to create).
    fn shift(&self, event: u64, q: &ListQuery, viewer: usize) {
        let (Some((start, end)), Some(_), Some(_), false) =
            (q.range, q.kind, q.role, q.other_oper_type)
        else {
            // Nothing of this query's kind exists to change.
            return;
        };
        let mut rng = event_rng(self.seed(), event);
        let mut data = write(&self.data);
        let latest = data
            .world
            .members
            .iter()
            .flat_map(|m| m.declarations.iter())
            .filter_map(|d| DateTime::parse(&d.update_time).ok())
            .max()
            .unwrap_or_else(|| self.r.today.at(12, 0, 0));
        let now = latest.add_secs(rng.range(1, 120));
        let in_window: Vec<(usize, usize)> = data
            .view(viewer)
            .filter(|(_, _, d, roles)| {
                d.cus_i_e_flag == q.ie
                    && Some(d.dcl_trn_rel_flag) == q.kind
                    && q.role.is_some_and(|r| roles.contains(&r))
                    && d.query_date >= start
                    && d.query_date <= end
            })
            .map(|(e, i, _, _)| (e, i))
            .collect();
        let status_of = |data: &Data, (e, i): (usize, usize)| {
            data.world.members[e].declarations[i].cus_dec_status
        };
        let open: Vec<(usize, usize)> = in_window
            .iter()
            .copied()
            .filter(|at| !status_of(&data, *at).is_closed())
            .collect();
        let today_in_window = start <= self.r.today && self.r.today <= end;
        let target = match q.status {
            StatusFilter::Closed => open.first().map(|_| (*rng.pick(&open), DecStatus::Closed)),
            _ if today_in_window && rng.chance(0.5) => None,
            _ => open.first().map(|_| {
                let at = *rng.pick(&open);
                let next = match status_of(&data, at) {
                    DecStatus::Declared => DecStatus::Checked,
                    DecStatus::Checked | DecStatus::Inspection => DecStatus::Released,
                    _ => DecStatus::Closed,
                };
                (at, next)
            }),
        };
        match target {
            Some(((e, i), to)) => {
                let Data { world, ids, .. } = &mut *data;
                advance(
                    &mut world.members[e].declarations[i],
                    to,
                    now,
                    ids,
                    &mut rng,
                );
            }
            None if data.world.is_broker(viewer) => return,
            None => {
                let status = if q.status == StatusFilter::Closed {
                    DecStatus::Closed
                } else {
                    DecStatus::Declared
                };
                let day = if self.r.today < start {
                    start
                } else {
                    self.r.today.min(end)
                };
                let declared_at = if day == now.date() {
                    now.add_secs(-30)
                } else {
                    day.at(10, 0, 0)
                };
                let role = q.role;
                let Some(enterprise) = data.enterprise(viewer).cloned() else {
                    return;
                };
                let Data {
                    world, ids, index, ..
                } = &mut *data;
                let mut forge = Forge {
                    rng,
                    enterprise: &enterprise,
                    today: self.r.today,
                };
                let mut d = forge.declaration(
                    day,
                    Fixed {
                        ie: Some(q.ie),
                        kind: q.kind,
                        role,
                        status: Some(status),
                        declared_at: Some(declared_at),
                    },
                    ids,
                );
                d.update_time = now.to_string();
                if let Some(last) = d.receipts.last_mut() {
                    last.notice_date = now.to_string();
                }
                let own = &mut world.members[viewer].declarations;
                index.insert(d.cus_ciq_no.clone(), (viewer, own.len()));
                own.push(d);
                let at = own.len() - 1;
                world.assign_broker(self.seed(), viewer, at);
            }
        }
        data.revision += 1;
        drop(data);
        lock(&self.counters).shift_events += 1;
    }
}

fn truth_declaration(d: &Declaration, home: &Enterprise) -> TruthDeclaration {
    let pdf = d
        .entry_id
        .is_some()
        .then(|| crate::pdf::declaration_pdf(d, home));
    let attachments = d
        .docs
        .iter()
        .map(|doc| Attachment {
            type_code: doc.att_type_code.clone(),
            type_name: crate::catalog::DOC_TYPES
                .iter()
                .find(|(code, _)| *code == doc.att_type_code)
                .map_or("", |(_, name)| name)
                .to_string(),
            number: doc.att_edoc_no.clone(),
            edoc_id: doc.att_edoc_id.clone(),
            file_name: doc.ent_orig_file_name.clone(),
        })
        .collect();
    TruthDeclaration {
        value_by_curr: d.value_by_curr(),
        declaration: d.clone(),
        home_scc: home.scc.clone(),
        has_pdf: pdf.is_some(),
        pdf_sha256: pdf.as_deref().map(crate::pdf::sha256_hex),
        pdf_size: pdf.map(|b| b.len() as u64),
        attachments,
    }
}

fn build_truth(data: &Data, r: &Resolved) -> Truth {
    let members = &data.world.members;
    // Each declaration once, as its home enterprise holds it.
    let own: Vec<Vec<TruthDeclaration>> = members
        .iter()
        .map(|m| {
            m.declarations
                .iter()
                .map(|d| truth_declaration(d, &m.enterprise))
                .collect()
        })
        .collect();
    let by_cmp = |a: &TruthDeclaration, b: &TruthDeclaration| {
        a.declaration.cus_ciq_no.cmp(&b.declaration.cus_ciq_no)
    };
    let enterprises: Vec<EnterpriseTruth> = members
        .iter()
        .enumerate()
        .map(|(v, m)| {
            let broker = data.world.is_broker(v);
            let mut declarations = own[v].clone();
            if broker {
                for (_, list) in own.iter().enumerate().filter(|(e, _)| *e != v) {
                    for t in list {
                        if t.declaration.agent_scc == m.enterprise.scc {
                            let mut seen = t.clone();
                            seen.declaration.etps_category = BROKER_ROLES.to_vec();
                            declarations.push(seen);
                        }
                    }
                }
            }
            declarations.sort_by(by_cmp);
            EnterpriseTruth {
                index: v,
                enterprise: m.enterprise.clone(),
                broker,
                own: own[v].len(),
                declarations,
            }
        })
        .collect();
    let declarations = enterprises
        .first()
        .map(|e| e.declarations[..].to_vec())
        .unwrap_or_default();
    Truth {
        seed: r.cfg.seed,
        today: r.today,
        from: r.from,
        to: r.to,
        max_span_days: r.cfg.max_span_days,
        revision: data.revision,
        enterprise: members
            .first()
            .map(|m| m.enterprise.clone())
            .unwrap_or_else(|| crate::generate::make_enterprise(r.cfg.seed)),
        declarations,
        enterprises,
    }
}

fn initial_world(r: &Resolved) -> World {
    let c = &r.cfg;
    generate_world(
        c.seed,
        c.declarations,
        &c.extra_enterprises,
        r.from,
        r.to,
        r.today,
    )
}

/// The truth a simulator started with `config` serves before any request,
/// without starting one.
pub fn initial_truth(config: &SimConfig) -> Result<Truth, ConfigError> {
    let r = config.resolve()?;
    let data = Data::new(initial_world(&r));
    Ok(build_truth(&data, &r))
}

/// Move `d` forward to status `to` at `now`, adding the missing receipts and
/// assigning an `entryId` if it had none.
fn advance(
    d: &mut Declaration,
    to: DecStatus,
    now: DateTime,
    ids: &mut Ids,
    rng: &mut crate::rng::Rng,
) {
    use crate::catalog::{CH_CHECKED, CH_CLOSED, CH_RELEASED, CH_STORED};
    let mut steps: Vec<(&str, &str)> = Vec::new();
    if d.entry_id.is_none() {
        let flag = if d.cus_i_e_flag == IeFlag::I {
            "1"
        } else {
            "0"
        };
        let year = d.query_date.year();
        let entry = loop {
            let e = format!("{}{year}{flag}{}", d.custom_master, rng.digits(9));
            if ids.entry.insert(e.clone()) {
                break e;
            }
        };
        d.entry_id = Some(entry);
        steps.push((CH_STORED, "报关单已入库"));
    }
    let rank = |s: DecStatus| match s {
        DecStatus::Declared => 0,
        DecStatus::Checked | DecStatus::Inspection => 1,
        DecStatus::Released => 2,
        DecStatus::Closed => 3,
    };
    let (from, target) = (rank(d.cus_dec_status), rank(to));
    if from < 1 && target >= 1 {
        steps.push((CH_CHECKED, "审结通过"));
    }
    if from < 2 && target >= 2 {
        steps.push((CH_RELEASED, "已放行"));
    }
    if from < 3 && target >= 3 {
        steps.push((CH_CLOSED, "已结关"));
    }
    let n = steps.len() as i64;
    for (i, (channel, note)) in steps.into_iter().enumerate() {
        let when = now.add_secs(i as i64 + 1 - n);
        d.receipts.push(crate::model::Receipt {
            seq: (d.receipts.len() + 1).to_string(),
            cus_ret_seq_no: format!("{}{}", when.date().compact(), rng.digits(10)),
            notice_date: when.to_string(),
            channel_name: channel.to_string(),
            note: note.to_string(),
            entry_id: d.entry_id.clone(),
        });
    }
    d.cus_dec_status = to;
    d.cus_dec_status_name = to.name().to_string();
    d.update_time = now.to_string();
}

async fn dispatch(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if path == "/__sim" || path.starts_with("/__sim/") {
        if sim.r.cfg.admin {
            return admin(&sim, req).await;
        }
        return html(StatusCode::NOT_FOUND, render::not_found_page(&path));
    }
    let route = match path.strip_prefix(sim.r.prefix.as_str()) {
        Some(rest) if rest.starts_with('/') => classify(rest),
        _ => Route::NotFound,
    };
    if !sim.admit() {
        lock(&sim.counters).rate_limited += 1;
        let resp = match sim.r.cfg.rate_limit_answer {
            RateLimitAnswer::TooManyRequests => {
                let mut r = html(
                    StatusCode::TOO_MANY_REQUESTS,
                    render::too_many_requests_page(),
                );
                r.headers_mut()
                    .insert("retry-after", HeaderValue::from_static("1"));
                r
            }
            RateLimitAnswer::WafBadRequest => {
                html(StatusCode::BAD_REQUEST, render::waf_block_page())
            }
        };
        sim.count(route, resp.status());
        return resp;
    }
    if let Some(d) = sim.latency() {
        tokio::time::sleep(d).await;
    }
    let resp = handle(&sim, route, req).await;
    sim.count(route, resp.status());
    resp
}

fn method_not_allowed() -> Response {
    html(
        StatusCode::METHOD_NOT_ALLOWED,
        render::method_not_allowed_page(),
    )
}

async fn handle(sim: &Arc<Sim>, route: Route, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let headers = &parts.headers;
    let pairs = parse_query(parts.uri.query().unwrap_or(""));
    let prefix = sim.r.prefix.as_str();
    // The session's enterprise when logged in (`None`: redirect to the login page).
    let logged_in = || -> Option<usize> {
        let id = jsessionid(headers);
        lock(&sim.sessions).check_as(id.as_deref(), false, 0)
    };
    match route {
        Route::NotFound => html(
            StatusCode::NOT_FOUND,
            render::not_found_page(parts.uri.path()),
        ),
        Route::ShowError => html(StatusCode::OK, render::show_error_page()),
        Route::CasLogin if parts.method == Method::GET => {
            let service = query_value(&pairs, "service");
            let card = query_value(&pairs, "_swCardF") == Some("1");
            let lt = format!(
                "LT-{}-portalsim",
                sim.login_no.fetch_add(1, Ordering::Relaxed) + 1
            );
            html(
                StatusCode::OK,
                render::login_page(prefix, service, card, None, &lt),
            )
        }
        Route::CasLogin if parts.method == Method::POST => {
            let body = to_bytes(body, MAX_BODY).await.unwrap_or_default();
            let form = parse_query(&String::from_utf8_lossy(&body));
            let service = query_value(&pairs, "service").map(str::to_string);
            let lt = format!(
                "LT-{}-portalsim",
                sim.login_no.fetch_add(1, Ordering::Relaxed) + 1
            );
            // GUESS: the card page posts the PIN as `password` in a form; how the real page
            // exchanges the card's signature with CAS is not in public code (portal-api.md §4).
            let Some(pin) = query_value(&form, "password") else {
                // GUESS: account/password login is not simulated; the portal's
                // message for a wrong user or password is "1|…" (portal-api.md §4).
                return html(
                    StatusCode::OK,
                    render::login_page(
                        prefix,
                        service.as_deref(),
                        false,
                        Some("1|用户名或密码错误"),
                        &lt,
                    ),
                );
            };
            let outcome = lock(&sim.sessions).login(pin);
            match outcome {
                Login::Ok {
                    session, ticket, ..
                } => {
                    let origin = sim.origin(headers);
                    let target = match service {
                        Some(svc) if !svc.is_empty() => {
                            let sep = if svc.contains('?') { '&' } else { '?' };
                            format!("{svc}{sep}ticket={ticket}")
                        }
                        _ => format!("{origin}{prefix}/deskserver/sw/deskIndex?menu_id=dec001"),
                    };
                    redirect(&target, Some(&session_cookie(&session)))
                }
                Login::WrongPin(left) => {
                    // GUESS: the wording of the card-PIN error (portal-api.md §4 shows only "1|…").
                    let msg = match left {
                        Some(n) => format!("1|卡口令错误，还可尝试{n}次"),
                        None => "1|卡口令错误".to_string(),
                    };
                    html(
                        StatusCode::OK,
                        render::login_page(prefix, service.as_deref(), true, Some(&msg), &lt),
                    )
                }
                Login::Locked => html(
                    StatusCode::OK,
                    render::login_page(
                        prefix,
                        service.as_deref(),
                        true,
                        Some("1|卡介质已锁定，请联系制卡中心"),
                        &lt,
                    ),
                ),
            }
        }
        Route::CasLogin => method_not_allowed(),
        // GUESS: the logout URL (portal-api.md §1 does not name one).
        Route::CasLogout => {
            if let Some(id) = jsessionid(headers) {
                lock(&sim.sessions).logout(&id);
            }
            let origin = sim.origin(headers);
            redirect(
                &format!("{origin}{prefix}/cas/login"),
                Some("JSESSIONID=; Path=/; Max-Age=0"),
            )
        }
        Route::DeskCasCheck | Route::DecCasCheck => {
            let (server, landing) = if route == Route::DeskCasCheck {
                ("deskserver", "/deskserver/sw/deskIndex?menu_id=dec001")
            } else {
                ("decserver", "/decserver/sw/dec/cusQueryZh")
            };
            let ticket = query_value(&pairs, "ticket").unwrap_or("");
            let redeemed = lock(&sim.sessions).redeem(ticket);
            match redeemed {
                Some(id) => {
                    let origin = sim.origin(headers);
                    redirect(
                        &format!("{origin}{prefix}{landing}"),
                        Some(&session_cookie(&id)),
                    )
                }
                None => sim.login_redirect(headers, server),
            }
        }
        Route::DeskIndex => match logged_in() {
            None => sim.login_redirect(headers, "deskserver"),
            Some(viewer) => {
                let ent = read(&sim.data).enterprise(viewer).cloned();
                match ent {
                    Some(ent) => html(StatusCode::OK, render::desk_index(prefix, &ent)),
                    None => sim.login_redirect(headers, "deskserver"),
                }
            }
        },
        Route::AllVersion => match logged_in() {
            None => sim.login_redirect(headers, "deskserver"),
            // GUESS: the value; only the key's presence is confirmed (portal-api.md §1).
            Some(_) => json(
                StatusCode::OK,
                &serde_json::json!({ "allPavaVersion": "sw-portal-sim-1" }),
            ),
        },
        Route::QueryPage => match logged_in() {
            None => sim.login_redirect(headers, "decserver"),
            Some(_) => html(StatusCode::OK, render::query_page()),
        },
        Route::List | Route::ListCommon => {
            if parts.method != Method::GET {
                return method_not_allowed();
            }
            let (viewer, fault) = match sim.gate(DataRoute::List, headers) {
                Gate::Stop(r) => return r,
                Gate::Go { viewer, fault, .. } => (viewer, fault),
            };
            if let Some(r) = sim.preempt(fault).await {
                return r;
            }
            let variant = if route == Route::List {
                ListVariant::Merge
            } else {
                ListVariant::Common
            };
            let resp = match parse_list_query(&pairs, variant, sim.r.cfg.max_span_days) {
                Err(QueryError::BadParameter(p)) => {
                    html(StatusCode::BAD_REQUEST, render::bad_request_page(&p))
                }
                Err(QueryError::Refused(msg)) => json(StatusCode::OK, &error_body(&msg)),
                Ok(q) => {
                    if q.range.is_some() {
                        let due = {
                            let mut f = lock(&sim.faults);
                            f.range_lists += 1;
                            shift_due(&f.spec, f.range_lists)
                        };
                        if let Some(event) = due {
                            sim.shift(event, &q, viewer);
                        }
                    }
                    let data = read(&sim.data);
                    let view = data.view(viewer).map(|(_, _, d, roles)| (d, roles));
                    let (total, rows) = run_list_as(view, &q, sim.r.cfg.max_rows);
                    json(StatusCode::OK, &render::list_body(total, rows))
                }
            };
            apply_garbage(fault, resp).await
        }
        Route::Detail => {
            if parts.method != Method::POST {
                return method_not_allowed();
            }
            let (viewer, fault) = match sim.gate(DataRoute::Detail, headers) {
                Gate::Stop(r) => return r,
                Gate::Go { viewer, fault, .. } => (viewer, fault),
            };
            if let Some(r) = sim.preempt(fault).await {
                return r;
            }
            let body = to_bytes(body, MAX_BODY).await.unwrap_or_default();
            let resp = detail(sim, &body, viewer);
            apply_garbage(fault, resp).await
        }
        Route::Receipts => {
            let (viewer, fault) = match sim.gate(DataRoute::Receipts, headers) {
                Gate::Stop(r) => return r,
                Gate::Go { viewer, fault, .. } => (viewer, fault),
            };
            if let Some(r) = sim.preempt(fault).await {
                return r;
            }
            let id = query_value(&pairs, "cusCiqNo").unwrap_or("");
            let num = |k: &str, d: usize| {
                query_value(&pairs, k)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(d)
            };
            let asc = query_value(&pairs, "stOrder").is_some_and(|o| o.eq_ignore_ascii_case("asc"));
            let v = {
                let data = read(&sim.data);
                // GUESS: an unknown (or another enterprise's) 统一编号 has no receipts,
                // `{"total":"0","rows":[]}` (portal-api.md §3 shows only the row fields).
                let receipts = data
                    .visible(viewer, id)
                    .map(|(_, d)| d.receipts.as_slice())
                    .unwrap_or(&[]);
                render::receipts_body(receipts, num("offset", 0), num("limit", 10), asc)
            };
            apply_garbage(fault, json(StatusCode::OK, &v)).await
        }
        Route::Pdf | Route::PdfDirect => {
            let (viewer, k, fault) = match sim.gate(DataRoute::Pdf, headers) {
                Gate::Stop(r) => return r,
                Gate::Go { viewer, k, fault } => (viewer, k, fault),
            };
            if fault.is_some() {
                lock(&sim.counters).documents.pdf_faults += 1;
            }
            if let Some(r) = sim.preempt(fault).await {
                return r;
            }
            let dir = if route == Route::Pdf {
                "/decserver/entries/ftl/1/0/0/"
            } else {
                "/decserver/entries/direct/ftl/1/0/0/"
            };
            let rest = parts.uri.path().strip_prefix(prefix).unwrap_or("");
            let id = pdf_id(rest, dir).unwrap_or_default();
            let pdf_fault = match fault {
                Some(_) => None,
                None => sim.pdf_fault(k, &id),
            };
            let pdf = read(&sim.data).pdf(viewer, &id);
            let raw = route == Route::Pdf;
            let resp = match (pdf_fault, pdf) {
                (Some(PdfFault::Login), _) => {
                    let origin = sim.origin(headers);
                    let service = format!("{origin}{prefix}/decserver/j_spring_cas_security_check");
                    let lt = format!(
                        "LT-{}-portalsim",
                        sim.login_no.fetch_add(1, Ordering::Relaxed) + 1
                    );
                    // GUESS: what a print looks like when the portal's gateway lost the
                    // session on the way: the CAS card-login page, 200 (portal-api.md §1).
                    html(
                        StatusCode::OK,
                        render::login_page(prefix, Some(&service), true, None, &lt),
                    )
                }
                (Some(PdfFault::ServerError(500)), _) => {
                    html(StatusCode::INTERNAL_SERVER_ERROR, render::tomcat_500())
                }
                (Some(PdfFault::ServerError(code)), _) => {
                    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
                    html(status, render::nginx_error(code))
                }
                (Some(PdfFault::Cut(per_mille)), Some(bytes)) => {
                    let cut = garble(&bytes, Garble::Truncate(per_mille));
                    pdf_answer(raw, cut)
                }
                (_, Some(bytes)) => {
                    if fault.is_none() {
                        let mut c = lock(&sim.counters);
                        c.documents.pdfs_served += 1;
                        c.documents.pdf_bytes += bytes.len() as u64;
                    }
                    pdf_answer(raw, bytes)
                }
                (_, None) => {
                    lock(&sim.counters).documents.pdf_not_found += 1;
                    if raw {
                        // GUESS: no print for an unknown or unassigned declaration (or
                        // another enterprise's), but a redirect to the error page
                        // (portal-api.md §1 showError.jsp, §3).
                        let origin = sim.origin(headers);
                        redirect(
                            &format!("{origin}{prefix}/decserver/error/showError.jsp"),
                            None,
                        )
                    } else {
                        // GUESS: the JSON variant's refusal (portal-api.md §3).
                        json(
                            StatusCode::OK,
                            &render::detail_error("未找到报关单打印文件"),
                        )
                    }
                }
            };
            // A general `garbage` fault on the raw print always cuts the bytes: a
            // "malformed" PDF (text appended) could still open as one.
            let fault = match fault {
                Some(Fault::Garbage(Garble::Malform)) if raw => {
                    Some(Fault::Garbage(Garble::Truncate(500)))
                }
                f => f,
            };
            apply_garbage(fault, resp).await
        }
    }
}

/// A print: the raw PDF, or the JSON variant's base64 of it.
fn pdf_answer(raw: bool, bytes: Vec<u8>) -> Response {
    if raw {
        respond(StatusCode::OK, PDF, bytes)
    } else {
        json(
            StatusCode::OK,
            &render::pdf_direct_ok(&base64_encode(&bytes)),
        )
    }
}

/// The detail answer for a `queryDecData` body.
fn detail(sim: &Sim, body: &[u8], viewer: usize) -> Response {
    // GUESS: any Content-Type is accepted as long as the body is JSON (portal-api.md §3).
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |k: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("")
            .to_string()
    };
    let id = field("cusCiqNo");
    if parsed.as_ref().is_none_or(|v| !v.is_object()) || id.is_empty() {
        // GUESS: the message for a missing 统一编号 (portal-api.md §3).
        return json(StatusCode::OK, &render::detail_error("统一编号不能为空"));
    }
    if lock(&sim.faults).spec.detail_fail.contains(&id) {
        sim.count_fault("detail_fail");
        // GUESS: the message of a failing detail (portal-api.md §3).
        return json(
            StatusCode::OK,
            &render::detail_error("系统异常，请稍后重试"),
        );
    }
    let flag = field("cusIEFlag");
    let data = read(&sim.data);
    match data.visible(viewer, &id).map(|(_, d)| d) {
        // GUESS: a cusIEFlag that contradicts the declaration finds nothing (portal-api.md §3);
        // nor does another enterprise's 统一编号.
        Some(d) if flag.is_empty() || flag == d.cus_i_e_flag.code() => {
            json(StatusCode::OK, &render::detail_ok(d))
        }
        // GUESS: the not-found message (portal-api.md §3).
        _ => json(
            StatusCode::OK,
            &render::detail_error("未查询到该报关单数据"),
        ),
    }
}

async fn apply_garbage(fault: Option<Fault>, resp: Response) -> Response {
    let Some(Fault::Garbage(how)) = fault else {
        return resp;
    };
    let (mut parts, body) = resp.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(garble(&bytes, how)))
}

#[derive(Deserialize)]
struct FaultsBody {
    spec: String,
}

async fn admin(sim: &Arc<Sim>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    match (&parts.method, path) {
        (&Method::GET, "/__sim/truth") => respond(
            StatusCode::OK,
            JSON,
            serde_json::to_vec(&sim.truth()).unwrap_or_default(),
        ),
        (&Method::GET, "/__sim/stats") => respond(
            StatusCode::OK,
            JSON,
            serde_json::to_vec(&sim.stats()).unwrap_or_default(),
        ),
        (&Method::GET, "/__sim/faults") => {
            let spec = lock(&sim.faults).spec.clone();
            json(
                StatusCode::OK,
                &serde_json::json!({ "spec": spec.to_string(), "parsed": spec }),
            )
        }
        (&Method::POST, "/__sim/faults") => {
            let body = to_bytes(body, MAX_BODY).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&body).to_string();
            let spec_text = match serde_json::from_str::<FaultsBody>(&text) {
                Ok(b) => b.spec,
                Err(_) => match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(map)) => map
                        .iter()
                        .map(|(k, v)| match v {
                            Value::String(s) => format!("{k}={s}"),
                            other => format!("{k}={other}"),
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                    Ok(Value::String(s)) => s,
                    _ => text,
                },
            };
            match spec_text.parse::<FaultSpec>() {
                Ok(spec) => {
                    sim.set_faults(spec.clone());
                    json(
                        StatusCode::OK,
                        &serde_json::json!({ "spec": spec.to_string(), "parsed": spec }),
                    )
                }
                Err(e) => json(
                    StatusCode::BAD_REQUEST,
                    &serde_json::json!({ "error": e.to_string() }),
                ),
            }
        }
        (&Method::POST, "/__sim/hostile") => {
            let changed = sim.make_hostile();
            json(
                StatusCode::OK,
                &serde_json::json!({ "ok": true, "declarations": changed, "strings": HOSTILE_STRINGS }),
            )
        }
        (&Method::POST, "/__sim/reset") => {
            sim.reset();
            json(StatusCode::OK, &serde_json::json!({ "ok": true }))
        }
        (&Method::POST, "/__sim/session") => {
            let body = to_bytes(body, MAX_BODY).await.unwrap_or_default();
            let asked: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let enterprise = {
                let data = read(&sim.data);
                let members = &data.world.members;
                match (asked.get("enterprise"), asked.get("scc")) {
                    (Some(i), _) => i
                        .as_u64()
                        .map(|i| i as usize)
                        .filter(|i| *i < members.len()),
                    (None, Some(scc)) => members
                        .iter()
                        .position(|m| Some(m.enterprise.scc.as_str()) == scc.as_str()),
                    (None, None) => Some(0),
                }
            };
            let Some(enterprise) = enterprise else {
                return json(
                    StatusCode::BAD_REQUEST,
                    &serde_json::json!({ "error": "no such enterprise (give its 0-based \"enterprise\" index or its \"scc\")" }),
                );
            };
            let id = lock(&sim.sessions).create_for(enterprise);
            let mut resp = json(
                StatusCode::OK,
                &serde_json::json!({ "jsessionid": id, "cookie": format!("JSESSIONID={id}"), "enterprise": enterprise }),
            );
            if let Ok(v) = HeaderValue::from_str(&session_cookie(&id)) {
                resp.headers_mut().insert(SET_COOKIE, v);
            }
            resp
        }
        _ => html(StatusCode::NOT_FOUND, render::not_found_page(path)),
    }
}

/// Why the simulator could not start.
#[derive(Debug)]
pub enum StartError {
    /// The configuration is invalid.
    Config(ConfigError),
    /// Binding 127.0.0.1:port failed.
    Bind(std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(e) => write!(f, "{e}"),
            StartError::Bind(e) => write!(f, "cannot listen on 127.0.0.1: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A running simulator. Dropping it stops the server (without waiting);
/// [`RunningSim::shutdown`] stops it and waits.
pub struct RunningSim {
    addr: SocketAddr,
    prefix: String,
    sim: Arc<Sim>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

/// Start a simulator on `127.0.0.1:config.port` (0: a free port). Must be
/// called inside a Tokio runtime; the server runs as a task on it.
pub async fn start(config: SimConfig) -> Result<RunningSim, StartError> {
    let resolved = config.resolve().map_err(StartError::Config)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
        .await
        .map_err(StartError::Bind)?;
    let addr = listener.local_addr().map_err(StartError::Bind)?;
    let (stop, stop_rx) = watch::channel(false);
    let prefix = resolved.prefix.clone();
    let sim = Arc::new(Sim::new(resolved, stop_rx.clone()));
    let app = Router::new().fallback(dispatch).with_state(sim.clone());
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let mut rx = stop_rx;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|v| *v).await;
            })
            .await;
    });
    Ok(RunningSim {
        addr,
        prefix,
        sim,
        stop,
        task: Some(task),
    })
}

impl RunningSim {
    /// The bound address (127.0.0.1:port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:port`, where the admin API lives.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:port{prefix}`: the portal's base URL, the only
    /// thing that differs from the real `https://swapp.singlewindow.cn`.
    pub fn base_url(&self) -> String {
        format!("{}{}", self.origin(), self.prefix)
    }

    /// The path prefix (normalised; empty for none).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The card-login URL (`…/cas/login?service=…&_swCardF=1`).
    pub fn login_url(&self) -> String {
        let service = format!("{}/deskserver/j_spring_cas_security_check", self.base_url());
        format!(
            "{}/cas/login?service={}&_swCardF=1",
            self.base_url(),
            encode_uri_component(&service)
        )
    }

    /// Every declaration as the portal holds it now.
    pub fn truth(&self) -> Truth {
        self.sim.truth()
    }

    /// Request and fault counters.
    pub fn stats(&self) -> Stats {
        self.sim.stats()
    }

    /// The fault spec in force.
    pub fn faults(&self) -> FaultSpec {
        lock(&self.sim.faults).spec.clone()
    }

    /// Replace the faults (restarts the fault and shift counters).
    pub fn set_faults(&self, spec: FaultSpec) {
        self.sim.set_faults(spec);
    }

    /// Puts [`HOSTILE_STRINGS`] into the texts a client shows (see `POST /__sim/hostile`).
    pub fn make_hostile(&self) -> usize {
        self.sim.make_hostile()
    }

    /// Restore the initial data, drop sessions, zero the stats.
    pub fn reset(&self) {
        self.sim.reset();
    }

    /// A valid `JSESSIONID` of the first enterprise without going through the login page.
    pub fn create_session(&self) -> String {
        lock(&self.sim.sessions).create()
    }

    /// A valid `JSESSIONID` of enterprise `enterprise` (0-based, configuration order),
    /// `None` if there is no such enterprise.
    pub fn create_session_for(&self, enterprise: usize) -> Option<String> {
        let exists = enterprise < read(&self.sim.data).world.members.len();
        exists.then(|| lock(&self.sim.sessions).create_for(enterprise))
    }

    /// Every enterprise, in configuration order (index 0 is the first).
    pub fn enterprises(&self) -> Vec<Enterprise> {
        read(&self.sim.data)
            .world
            .members
            .iter()
            .map(|m| m.enterprise.clone())
            .collect()
    }

    /// The bytes `…/entries/ftl/1/0/0/{cus_ciq_no}.pdf` serves now to a session of
    /// `enterprise` (without faults); `None` where it answers "not found".
    pub fn pdf(&self, enterprise: usize, cus_ciq_no: &str) -> Option<Vec<u8>> {
        read(&self.sim.data).pdf(enterprise, cus_ciq_no)
    }

    /// Stop accepting, end hanging answers, and wait (at most 5 s) for
    /// open connections to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_route() {
        assert_eq!(classify("/decserver/sw/dec/merge/cusQuery"), Route::List);
        assert_eq!(
            classify("/decserver/sw/dec/common/cusQuery"),
            Route::ListCommon
        );
        assert_eq!(
            classify("/decserver/sw/dec/merge/queryDecData"),
            Route::Detail
        );
        assert_eq!(
            classify("/decserver/entries/ftl/1/0/0/I20250000123456789.pdf"),
            Route::Pdf
        );
        assert_eq!(
            classify("/decserver/entries/direct/ftl/1/0/0/E20250000123456789.pdf"),
            Route::PdfDirect
        );
        assert_eq!(
            classify("/decserver/entries/ftl/1/0/0/.pdf"),
            Route::NotFound
        );
        assert_eq!(
            classify("/decserver/entries/ftl/1/0/0/a/b.pdf"),
            Route::NotFound
        );
        assert_eq!(classify("/deskserver/sw/deskIndex"), Route::DeskIndex);
        assert_eq!(classify("/cas/login"), Route::CasLogin);
        assert_eq!(
            classify("/decserver/sw/dec/merge/cusQuery/"),
            Route::NotFound
        );
        assert_eq!(pdf_id("/x/E1.pdf", "/x/"), Some("E1".to_string()));
    }
}
