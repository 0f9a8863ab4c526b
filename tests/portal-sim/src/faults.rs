//! Fault injection: the spec language and the deterministic decisions.
//!
//! A fault spec is a comma-separated list of `key=value` items (whitespace
//! around items is ignored; `""` or `none` means no faults):
//!
//! | key | value | effect on data requests (list, detail, receipts, PDFs) |
//! |---|---|---|
//! | `5xx` | probability 0–1 | HTTP 500 (Tomcat page), 502 or 503 (gateway page) |
//! | `hang` | probability 0–1 | no answer for `hang_ms`, then 504 |
//! | `garbage` | probability 0–1 | HTTP 200 with truncated or malformed JSON (or a cut PDF) |
//! | `html` | probability 0–1 | HTTP 200 with an HTML error page where JSON/PDF was expected |
//! | `hang_ms` | milliseconds, default 60000 | how long a hang lasts |
//! | `burst` | LEN ≥ 0 (0 = off) | a burst of LEN consecutive 5xx answers (500, 502 or 503) … |
//! | `burst_every` | K > LEN, default 50 | … starting at every K-th data request (K, 2K, …; deterministic) |
//! | `expire_every` | N ≥ 0 (0 = off) | a session serves N data requests; the next one is redirected to the login page |
//! | `shift` | N ≥ 0 | N changes to the data during a sync (see below) |
//! | `shift_every` | K ≥ 1, default 3 | a change happens before every K-th range list query |
//! | `detail_fail` | `cusCiqNo|cusCiqNo|…` | the detail of these always answers `ok:false` |
//! | `only` | `list|detail|receipts|pdf` | restrict the four probabilistic faults to these routes |
//! | `pdf_login` | probability 0–1 | a print (either PDF route) answers 200 `text/html` with the CAS login page |
//! | `pdf_cut` | probability 0–1 | a print answers 200 with the PDF cut short (25–90 % of its bytes; the JSON variant: valid JSON, base64 of the cut bytes) |
//! | `pdf_5xx` | probability 0–1 | a print answers 500 (Tomcat page), 502 or 503 |
//! | `pdf_login_for`, `pdf_cut_for`, `pdf_5xx_for` | `cusCiqNo|cusCiqNo|…` | the same fault for the prints of these declarations |
//! | `pdf_fail_times` | N ≥ 0, default 0 | a listed declaration's print fails N times, then is served (0: always fails) |
//!
//! The four general probabilities must sum to at most 1, and so must the three
//! `pdf_*` ones. Example:
//! `5xx=0.05,hang=0.01,garbage=0.01,html=0.01,expire_every=200,shift=5`.
//!
//! **Bursts.** Data request *k* is inside a burst when `k ≥ K` and `k mod K < LEN`:
//! requests K … K+LEN−1, 2K … 2K+LEN−1, … answer a 5xx whatever the draw says (and whatever
//! `only` says), counted as `burst` in the stats. Unlike independent `5xx` draws, a burst
//! longer than a client's first retry makes it retry the same request several times in a row.
//!
//! **Print faults.** A print request that meets no general fault then meets the
//! `pdf_*` faults: first the listed declarations (`pdf_login_for` before
//! `pdf_cut_for` before `pdf_5xx_for`, counting that declaration's faulted
//! requests against `pdf_fail_times`), then a second draw
//! `unit(mix(seed, k, "pdf-fault"))` over `[0,pdf_login) [.., +pdf_cut)
//! [.., +pdf_5xx)`. A general `garbage` fault on the raw PDF route always cuts
//! the bytes (never appends to them), so no faulted answer is a readable PDF.
//!
//! **Determinism.** Request *k* (counted from 1 over the data requests since
//! the spec was set or the simulator reset) draws `u = unit(mix(seed, k, …))`
//! and falls into the first interval `[0,5xx) [.., +hang) [.., +garbage)
//! [.., +html)` that contains it. The decision is a pure function of the
//! seed, the spec and *k*: the same request sequence meets the same faults.
//!
//! **Shift.** Before answering the `K`-th, `2K`-th, … range list query (up to
//! `shift` times) the simulator changes a declaration *inside that query's
//! result set or window*, so the syncing client sees its offsets move: on a
//! 结关 query a not-yet-closed declaration of the window is closed (it moves
//! into the answer, on top); on a non-结关 query half the time a new
//! declaration is inserted (on top) and half the time one is advanced to the
//! next status (it may leave the answer). Every change bumps `updateTime`
//! above every other and is visible in `/__sim/truth`.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::rng::{hash_str, mix, unit_from};

/// The data routes faults apply to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataRoute {
    /// `cusQuery` (both variants).
    List,
    /// `queryDecData`.
    Detail,
    /// `queryCusDecRet`.
    Receipts,
    /// Both PDF endpoints.
    Pdf,
}

impl DataRoute {
    fn parse(s: &str) -> Option<DataRoute> {
        match s {
            "list" => Some(DataRoute::List),
            "detail" => Some(DataRoute::Detail),
            "receipts" => Some(DataRoute::Receipts),
            "pdf" => Some(DataRoute::Pdf),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            DataRoute::List => "list",
            DataRoute::Detail => "detail",
            DataRoute::Receipts => "receipts",
            DataRoute::Pdf => "pdf",
        }
    }
}

/// A parsed fault spec. `Default` is "no faults".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultSpec {
    /// Probability of a 5xx.
    #[serde(rename = "5xx")]
    pub p_5xx: f64,
    /// Probability of a hang.
    pub hang: f64,
    /// Probability of a garbled body.
    pub garbage: f64,
    /// Probability of an HTML error page.
    pub html: f64,
    /// Hang duration in ms.
    pub hang_ms: u64,
    /// Consecutive 5xx answers in one burst (0 = no bursts).
    #[serde(default)]
    pub burst: u64,
    /// A burst starts at every `burst_every`-th data request.
    #[serde(default = "default_burst_every")]
    pub burst_every: u64,
    /// Data requests per session before it expires (0 = never).
    pub expire_every: u64,
    /// Number of data changes during a sync.
    pub shift: u64,
    /// A change before every `shift_every`-th range list query.
    pub shift_every: u64,
    /// Declarations whose detail always fails.
    pub detail_fail: BTreeSet<String>,
    /// Routes the probabilistic faults apply to (`None`: all data routes).
    pub only: Option<BTreeSet<DataRoute>>,
    /// Probability of the login page instead of a print.
    #[serde(default)]
    pub pdf_login: f64,
    /// Probability of a cut print.
    #[serde(default)]
    pub pdf_cut: f64,
    /// Probability of a 5xx instead of a print.
    #[serde(default, rename = "pdf5xx")]
    pub pdf_5xx: f64,
    /// Declarations whose print answers the login page.
    #[serde(default)]
    pub pdf_login_for: BTreeSet<String>,
    /// Declarations whose print is cut.
    #[serde(default)]
    pub pdf_cut_for: BTreeSet<String>,
    /// Declarations whose print answers a 5xx.
    #[serde(default, rename = "pdf5xxFor")]
    pub pdf_5xx_for: BTreeSet<String>,
    /// How many times a listed declaration's print fails before it is served (0: always).
    #[serde(default)]
    pub pdf_fail_times: u64,
}

fn default_burst_every() -> u64 {
    50
}

impl Default for FaultSpec {
    fn default() -> Self {
        FaultSpec {
            p_5xx: 0.0,
            hang: 0.0,
            garbage: 0.0,
            html: 0.0,
            hang_ms: 60_000,
            burst: 0,
            burst_every: default_burst_every(),
            expire_every: 0,
            shift: 0,
            shift_every: 3,
            detail_fail: BTreeSet::new(),
            only: None,
            pdf_login: 0.0,
            pdf_cut: 0.0,
            pdf_5xx: 0.0,
            pdf_login_for: BTreeSet::new(),
            pdf_cut_for: BTreeSet::new(),
            pdf_5xx_for: BTreeSet::new(),
            pdf_fail_times: 0,
        }
    }
}

/// Why a fault spec was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultSpecError(pub String);

impl fmt::Display for FaultSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid fault spec: {}", self.0)
    }
}

impl std::error::Error for FaultSpecError {}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;

    fn from_str(s: &str) -> Result<FaultSpec, FaultSpecError> {
        let mut spec = FaultSpec::default();
        let text = s.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("none") {
            return Ok(spec);
        }
        let mut seen = BTreeSet::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| FaultSpecError(format!("{item:?} is not key=value")))?;
            let (key, value) = (key.trim(), value.trim());
            if !seen.insert(key.to_string()) {
                return Err(FaultSpecError(format!("{key} given twice")));
            }
            let prob = || -> Result<f64, FaultSpecError> {
                let p: f64 = value
                    .parse()
                    .map_err(|_| FaultSpecError(format!("{key}={value}: not a number")))?;
                if (0.0..=1.0).contains(&p) {
                    Ok(p)
                } else {
                    Err(FaultSpecError(format!(
                        "{key}={value}: must be within 0..1"
                    )))
                }
            };
            let int = || -> Result<u64, FaultSpecError> {
                value.parse().map_err(|_| {
                    FaultSpecError(format!("{key}={value}: not a non-negative integer"))
                })
            };
            match key {
                "5xx" => spec.p_5xx = prob()?,
                "hang" => spec.hang = prob()?,
                "garbage" => spec.garbage = prob()?,
                "html" => spec.html = prob()?,
                "hang_ms" => spec.hang_ms = int()?,
                "burst" => spec.burst = int()?,
                "burst_every" => spec.burst_every = int()?,
                "expire_every" => spec.expire_every = int()?,
                "shift" => spec.shift = int()?,
                "shift_every" => {
                    spec.shift_every = int()?;
                    if spec.shift_every == 0 {
                        return Err(FaultSpecError("shift_every must be at least 1".into()));
                    }
                }
                "detail_fail" => spec.detail_fail = id_list(value),
                "pdf_login" => spec.pdf_login = prob()?,
                "pdf_cut" => spec.pdf_cut = prob()?,
                "pdf_5xx" => spec.pdf_5xx = prob()?,
                "pdf_login_for" => spec.pdf_login_for = id_list(value),
                "pdf_cut_for" => spec.pdf_cut_for = id_list(value),
                "pdf_5xx_for" => spec.pdf_5xx_for = id_list(value),
                "pdf_fail_times" => spec.pdf_fail_times = int()?,
                "only" => {
                    let mut routes = BTreeSet::new();
                    for r in value.split('|').map(str::trim).filter(|v| !v.is_empty()) {
                        routes.insert(DataRoute::parse(r).ok_or_else(|| {
                            FaultSpecError(format!("only={r}: expected list, detail, receipts or pdf"))
                        })?);
                    }
                    spec.only = Some(routes);
                }
                other => {
                    return Err(FaultSpecError(format!(
                        "unknown key {other:?} (expected 5xx, hang, garbage, html, hang_ms, burst, burst_every, expire_every, shift, shift_every, detail_fail, only, pdf_login, pdf_cut, pdf_5xx, pdf_login_for, pdf_cut_for, pdf_5xx_for, pdf_fail_times)"
                    )))
                }
            }
        }
        if spec.burst > 0 && spec.burst >= spec.burst_every {
            return Err(FaultSpecError(format!(
                "burst={} must be shorter than burst_every={} (or every request would fail)",
                spec.burst, spec.burst_every
            )));
        }
        let sum = spec.p_5xx + spec.hang + spec.garbage + spec.html;
        if sum > 1.0 + 1e-9 {
            return Err(FaultSpecError(format!(
                "probabilities sum to {sum}, more than 1"
            )));
        }
        let pdf_sum = spec.pdf_login + spec.pdf_cut + spec.pdf_5xx;
        if pdf_sum > 1.0 + 1e-9 {
            return Err(FaultSpecError(format!(
                "pdf_* probabilities sum to {pdf_sum}, more than 1"
            )));
        }
        Ok(spec)
    }
}

fn id_list(value: &str) -> BTreeSet<String> {
    value
        .split('|')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

impl fmt::Display for FaultSpec {
    /// The canonical spec text (parses back to the same spec); `none` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = FaultSpec::default();
        let mut items: Vec<String> = Vec::new();
        for (k, v) in [
            ("5xx", self.p_5xx),
            ("hang", self.hang),
            ("garbage", self.garbage),
            ("html", self.html),
        ] {
            if v > 0.0 {
                items.push(format!("{k}={v}"));
            }
        }
        if self.hang_ms != d.hang_ms {
            items.push(format!("hang_ms={}", self.hang_ms));
        }
        if self.burst > 0 {
            items.push(format!("burst={}", self.burst));
        }
        if self.burst_every != d.burst_every {
            items.push(format!("burst_every={}", self.burst_every));
        }
        if self.expire_every > 0 {
            items.push(format!("expire_every={}", self.expire_every));
        }
        if self.shift > 0 {
            items.push(format!("shift={}", self.shift));
        }
        if self.shift_every != d.shift_every {
            items.push(format!("shift_every={}", self.shift_every));
        }
        if !self.detail_fail.is_empty() {
            let ids: Vec<&str> = self.detail_fail.iter().map(String::as_str).collect();
            items.push(format!("detail_fail={}", ids.join("|")));
        }
        if let Some(only) = &self.only {
            let names: Vec<&str> = only.iter().map(|r| r.name()).collect();
            items.push(format!("only={}", names.join("|")));
        }
        for (k, v) in [
            ("pdf_login", self.pdf_login),
            ("pdf_cut", self.pdf_cut),
            ("pdf_5xx", self.pdf_5xx),
        ] {
            if v > 0.0 {
                items.push(format!("{k}={v}"));
            }
        }
        for (k, set) in [
            ("pdf_login_for", &self.pdf_login_for),
            ("pdf_cut_for", &self.pdf_cut_for),
            ("pdf_5xx_for", &self.pdf_5xx_for),
        ] {
            if !set.is_empty() {
                let ids: Vec<&str> = set.iter().map(String::as_str).collect();
                items.push(format!("{k}={}", ids.join("|")));
            }
        }
        if self.pdf_fail_times > 0 {
            items.push(format!("pdf_fail_times={}", self.pdf_fail_times));
        }
        if items.is_empty() {
            write!(f, "none")
        } else {
            write!(f, "{}", items.join(","))
        }
    }
}

/// How a garbled body is garbled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Garble {
    /// Cut after this fraction (per mille) of the body.
    Truncate(u32),
    /// Unquote the first key: `{"total":` → `{total:`.
    Malform,
}

/// A probabilistic fault chosen for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this 5xx status.
    ServerError(u16),
    /// Answer with this 5xx status: one answer of a `burst`.
    Burst(u16),
    /// Do not answer for `hang_ms`, then 504.
    Hang,
    /// Answer 200 with a garbled body.
    Garbage(Garble),
    /// Answer 200 with an HTML error page.
    Html,
}

impl Fault {
    /// Short name for stats.
    pub fn name(self) -> &'static str {
        match self {
            Fault::ServerError(_) => "5xx",
            Fault::Burst(_) => "burst",
            Fault::Hang => "hang",
            Fault::Garbage(_) => "garbage",
            Fault::Html => "html",
        }
    }
}

/// The fault for data request number `k` (1-based) on `route`: a pure
/// function of the seed, the spec, `k` and the route.
pub fn decide(spec: &FaultSpec, seed: u64, k: u64, route: DataRoute) -> Option<Fault> {
    if in_burst(spec, k) {
        let status = match mix(seed, k, hash_str("burst")) % 3 {
            0 => 502,
            1 => 503,
            _ => 500,
        };
        return Some(Fault::Burst(status));
    }
    if let Some(only) = &spec.only {
        if !only.contains(&route) {
            return None;
        }
    }
    let u = unit_from(mix(seed, k, hash_str("fault")));
    let sub = mix(seed, k, hash_str("fault-detail"));
    let mut edge = spec.p_5xx;
    if u < edge {
        let status = match sub % 5 {
            0 => 502,
            1 => 503,
            _ => 500,
        };
        return Some(Fault::ServerError(status));
    }
    edge += spec.hang;
    if u < edge {
        return Some(Fault::Hang);
    }
    edge += spec.garbage;
    if u < edge {
        return Some(Fault::Garbage(if sub.is_multiple_of(3) {
            Garble::Malform
        } else {
            Garble::Truncate(100 + (sub >> 8) as u32 % 800)
        }));
    }
    edge += spec.html;
    if u < edge {
        return Some(Fault::Html);
    }
    None
}

/// Whether data request number `k` (1-based) falls inside a `burst`: `k ≥ K` and
/// `k mod K < LEN` (K = `burst_every`, LEN = `burst`).
pub fn in_burst(spec: &FaultSpec, k: u64) -> bool {
    spec.burst > 0
        && spec.burst_every > 0
        && k >= spec.burst_every
        && k % spec.burst_every < spec.burst
}

/// A fault on a print request (`pdf_*` keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PdfFault {
    /// 200 `text/html` with the CAS login page.
    Login,
    /// 200 with the PDF cut after this fraction (per mille) of its bytes.
    Cut(u32),
    /// This 5xx status.
    ServerError(u16),
}

impl PdfFault {
    /// Short name for stats: `pdf_login`, `pdf_cut`, `pdf_5xx`.
    pub fn name(self) -> &'static str {
        match self {
            PdfFault::Login => "pdf_login",
            PdfFault::Cut(_) => "pdf_cut",
            PdfFault::ServerError(_) => "pdf_5xx",
        }
    }
}

/// The print fault for data request number `k` asking for `cus_ciq_no`'s print, whose
/// earlier requests met `faulted` listed faults: a pure function of its arguments.
pub fn decide_pdf(
    spec: &FaultSpec,
    seed: u64,
    k: u64,
    cus_ciq_no: &str,
    faulted: u64,
) -> Option<PdfFault> {
    let sub = mix(seed, k, hash_str("pdf-fault-detail"));
    let cut = PdfFault::Cut(250 + (sub >> 8) as u32 % 650);
    let status = match sub % 5 {
        0 => 502,
        1 => 503,
        _ => 500,
    };
    let listed_left = spec.pdf_fail_times == 0 || faulted < spec.pdf_fail_times;
    if listed_left {
        if spec.pdf_login_for.contains(cus_ciq_no) {
            return Some(PdfFault::Login);
        }
        if spec.pdf_cut_for.contains(cus_ciq_no) {
            return Some(cut);
        }
        if spec.pdf_5xx_for.contains(cus_ciq_no) {
            return Some(PdfFault::ServerError(status));
        }
    }
    let u = unit_from(mix(seed, k, hash_str("pdf-fault")));
    let mut edge = spec.pdf_login;
    if u < edge {
        return Some(PdfFault::Login);
    }
    edge += spec.pdf_cut;
    if u < edge {
        return Some(cut);
    }
    edge += spec.pdf_5xx;
    if u < edge {
        return Some(PdfFault::ServerError(status));
    }
    None
}

/// Whether `cus_ciq_no` is on one of the `pdf_*_for` lists.
pub fn pdf_listed(spec: &FaultSpec, cus_ciq_no: &str) -> bool {
    spec.pdf_login_for.contains(cus_ciq_no)
        || spec.pdf_cut_for.contains(cus_ciq_no)
        || spec.pdf_5xx_for.contains(cus_ciq_no)
}

/// Apply a garble to a body.
pub fn garble(body: &[u8], how: Garble) -> Vec<u8> {
    match how {
        Garble::Truncate(per_mille) => {
            let cut = (body.len() * per_mille as usize / 1000)
                .clamp(1, body.len().saturating_sub(1).max(1));
            body[..cut.min(body.len())].to_vec()
        }
        Garble::Malform => {
            let text = String::from_utf8_lossy(body);
            // Unquote the first key, leaving invalid JSON that still "looks" right.
            match text.find("{\"") {
                Some(i) => {
                    let rest = &text[i + 2..];
                    match rest.find('"') {
                        Some(j) => {
                            format!("{}{{{}{}", &text[..i], &rest[..j], &rest[j + 1..]).into_bytes()
                        }
                        None => format!("{text},").into_bytes(),
                    }
                }
                None => format!("{text},").into_bytes(),
            }
        }
    }
}

/// Which shift event (1-based) is due before answering range list query
/// number `n` (1-based), if any.
pub fn shift_due(spec: &FaultSpec, n: u64) -> Option<u64> {
    if spec.shift == 0 || spec.shift_every == 0 || n == 0 || !n.is_multiple_of(spec.shift_every) {
        return None;
    }
    let event = n / spec.shift_every;
    (event <= spec.shift).then_some(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_issue_example() {
        let s: FaultSpec = "5xx=0.05,hang=0.01,garbage=0.01,html=0.01,expire_every=200,shift=5"
            .parse()
            .unwrap();
        assert_eq!(s.p_5xx, 0.05);
        assert_eq!(s.hang, 0.01);
        assert_eq!(s.expire_every, 200);
        assert_eq!(s.shift, 5);
        assert_eq!(s.shift_every, 3);
        assert_eq!(s.hang_ms, 60_000);
        assert_eq!(s.to_string().parse::<FaultSpec>().unwrap(), s);
    }

    #[test]
    fn parses_lists_and_blank() {
        let s: FaultSpec =
            " detail_fail = E20250000000000001|I20250000000000002 , only=detail|pdf , hang_ms=50 "
                .parse()
                .unwrap();
        assert_eq!(s.detail_fail.len(), 2);
        assert_eq!(
            s.only,
            Some([DataRoute::Detail, DataRoute::Pdf].into_iter().collect())
        );
        assert_eq!(s.hang_ms, 50);
        assert_eq!(
            s.to_string(),
            "hang_ms=50,detail_fail=E20250000000000001|I20250000000000002,only=detail|pdf"
        );
        assert_eq!("".parse::<FaultSpec>().unwrap(), FaultSpec::default());
        assert_eq!("none".parse::<FaultSpec>().unwrap(), FaultSpec::default());
        assert_eq!(FaultSpec::default().to_string(), "none");
    }

    #[test]
    fn rejects_bad_specs() {
        for bad in [
            "5xx=2",
            "5xx=-0.1",
            "5xx=abc",
            "hang",
            "boom=1",
            "5xx=0.6,html=0.6",
            "expire_every=-1",
            "shift_every=0",
            "only=everything",
            "5xx=0.1,5xx=0.2",
        ] {
            assert!(bad.parse::<FaultSpec>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn decisions_are_pure_and_proportional() {
        let s: FaultSpec = "5xx=0.1,hang=0.05,garbage=0.05,html=0.1".parse().unwrap();
        let a: Vec<_> = (1..=5000)
            .map(|k| decide(&s, 9, k, DataRoute::List))
            .collect();
        let b: Vec<_> = (1..=5000)
            .map(|k| decide(&s, 9, k, DataRoute::List))
            .collect();
        let c: Vec<_> = (1..=5000)
            .map(|k| decide(&s, 10, k, DataRoute::List))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let count = |name: &str| a.iter().flatten().filter(|f| f.name() == name).count();
        assert!((400..600).contains(&count("5xx")), "{}", count("5xx"));
        assert!((180..320).contains(&count("hang")));
        assert!((180..320).contains(&count("garbage")));
        assert!((400..600).contains(&count("html")));
        assert!(a.iter().flatten().any(|f| *f == Fault::ServerError(502)));
        let only: FaultSpec = "5xx=1,only=detail".parse().unwrap();
        assert_eq!(decide(&only, 1, 1, DataRoute::List), None);
        assert!(decide(&only, 1, 1, DataRoute::Detail).is_some());
        assert_eq!(decide(&FaultSpec::default(), 1, 1, DataRoute::List), None);
    }

    #[test]
    fn garbling_breaks_json() {
        let body = br#"{"total":"2","rows":[{"cusCiqNo":"E1"},{"cusCiqNo":"E2"}]}"#;
        for how in [
            Garble::Truncate(100),
            Garble::Truncate(899),
            Garble::Malform,
        ] {
            let g = garble(body, how);
            assert!(
                serde_json::from_slice::<serde_json::Value>(&g).is_err(),
                "{how:?}"
            );
            assert!(!g.is_empty());
        }
        assert!(garble(body, Garble::Malform).starts_with(b"{total:"));
    }

    #[test]
    fn pdf_faults_parse_and_decide() {
        let s: FaultSpec =
            "pdf_login=0.2,pdf_cut=0.2,pdf_5xx=0.1,pdf_cut_for=E1|E2,pdf_login_for=I3,pdf_fail_times=2"
                .parse()
                .unwrap();
        assert_eq!((s.pdf_login, s.pdf_cut, s.pdf_5xx), (0.2, 0.2, 0.1));
        assert_eq!(s.pdf_cut_for.len(), 2);
        assert_eq!(s.pdf_fail_times, 2);
        assert_eq!(s.to_string().parse::<FaultSpec>().unwrap(), s);
        assert!("pdf_cut=0.6,pdf_login=0.6".parse::<FaultSpec>().is_err());
        assert!("pdf_cut=2".parse::<FaultSpec>().is_err());
        // Listed: fails pdf_fail_times times, then only the draw applies.
        assert_eq!(decide_pdf(&s, 1, 1, "I3", 0), Some(PdfFault::Login));
        assert_eq!(decide_pdf(&s, 1, 2, "I3", 1), Some(PdfFault::Login));
        assert!(matches!(
            decide_pdf(&s, 1, 3, "E1", 0),
            Some(PdfFault::Cut(250..=899))
        ));
        assert!(pdf_listed(&s, "E2") && !pdf_listed(&s, "E9"));
        let always: FaultSpec = "pdf_5xx_for=E1".parse().unwrap();
        for k in 1..50 {
            assert!(matches!(
                decide_pdf(&always, 1, k, "E1", k),
                Some(PdfFault::ServerError(500 | 502 | 503))
            ));
            assert_eq!(decide_pdf(&always, 1, k, "E2", 0), None);
        }
        // The draw: roughly the asked shares, pure.
        let draws: Vec<_> = (1..=4000).map(|k| decide_pdf(&s, 7, k, "E9", 0)).collect();
        let again: Vec<_> = (1..=4000).map(|k| decide_pdf(&s, 7, k, "E9", 0)).collect();
        assert_eq!(draws, again);
        let count = |name: &str| draws.iter().flatten().filter(|f| f.name() == name).count();
        assert!(
            (650..950).contains(&count("pdf_login")),
            "{}",
            count("pdf_login")
        );
        assert!(
            (650..950).contains(&count("pdf_cut")),
            "{}",
            count("pdf_cut")
        );
        assert!(
            (300..500).contains(&count("pdf_5xx")),
            "{}",
            count("pdf_5xx")
        );
        assert_eq!(decide_pdf(&FaultSpec::default(), 7, 1, "E1", 0), None);
    }

    #[test]
    fn bursts_are_runs_of_consecutive_5xx() {
        let s: FaultSpec = "burst=4,burst_every=10".parse().unwrap();
        assert_eq!(s.to_string(), "burst=4,burst_every=10");
        assert_eq!(s.to_string().parse::<FaultSpec>().unwrap(), s);
        let failed: Vec<u64> = (1..=35)
            .filter(|&k| decide(&s, 3, k, DataRoute::List).is_some())
            .collect();
        assert_eq!(failed, vec![10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33]);
        for k in failed {
            let f = decide(&s, 3, k, DataRoute::Detail).unwrap();
            assert!(matches!(f, Fault::Burst(500 | 502 | 503)), "{f:?}");
            assert_eq!(f.name(), "burst");
        }
        // All three statuses occur, purely from the seed.
        let statuses: BTreeSet<u16> = (1..=2000)
            .filter_map(|k| match decide(&s, 3, k, DataRoute::List) {
                Some(Fault::Burst(code)) => Some(code),
                _ => None,
            })
            .collect();
        assert_eq!(statuses, BTreeSet::from([500, 502, 503]));
        // A burst ignores `only`; the draw applies between bursts.
        let both: FaultSpec = "burst=2,burst_every=5,html=1,only=detail".parse().unwrap();
        assert!(matches!(
            decide(&both, 1, 5, DataRoute::List),
            Some(Fault::Burst(_))
        ));
        assert_eq!(decide(&both, 1, 7, DataRoute::List), None);
        assert_eq!(decide(&both, 1, 7, DataRoute::Detail), Some(Fault::Html));
        assert!("burst=5,burst_every=5".parse::<FaultSpec>().is_err());
        assert!("burst=-1".parse::<FaultSpec>().is_err());
        assert!("burst=0,burst_every=1".parse::<FaultSpec>().is_ok());
    }

    #[test]
    fn shift_schedule() {
        let s: FaultSpec = "shift=2,shift_every=3".parse().unwrap();
        let due: Vec<_> = (1..=12)
            .filter_map(|n| shift_due(&s, n).map(|e| (n, e)))
            .collect();
        assert_eq!(due, vec![(3, 1), (6, 2)]);
        assert_eq!(shift_due(&FaultSpec::default(), 3), None);
    }
}
