//! The simulator's configuration, shared by the library API and the CLI.

use std::fmt;

use crate::date::Date;
use crate::faults::FaultSpec;

/// How a request over `--rate-limit` is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RateLimitAnswer {
    /// HTTP 429 Too Many Requests.
    #[default]
    TooManyRequests,
    /// HTTP 400 with a WAF block page.
    // GUESS: a WAF answered 400 to scripted traffic on the public pages (portal-api.md §1).
    WafBadRequest,
}

impl std::str::FromStr for RateLimitAnswer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "429" => Ok(RateLimitAnswer::TooManyRequests),
            "400" | "waf" => Ok(RateLimitAnswer::WafBadRequest),
            other => Err(format!("{other:?}: expected 429 or waf")),
        }
    }
}

impl fmt::Display for RateLimitAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RateLimitAnswer::TooManyRequests => write!(f, "429"),
            RateLimitAnswer::WafBadRequest => write!(f, "waf"),
        }
    }
}

/// One more enterprise of a multi-enterprise simulator (`SimConfig::extra_enterprises`,
/// CLI `--enterprise SPEC`).
///
/// The first enterprise is always the one `SimConfig::{seed, declarations, pin}` describe
/// (so a default run is exactly the single-enterprise simulator); extra enterprise *k*
/// (1-based) draws its identity and its declarations from a seed derived from
/// `(seed, k)`. A **broker** (报关企业, a customs broker) is, with its share, the 申报单位
/// (`agentName`/`agentCode`/`agentScc`) of the other enterprises' declarations on which
/// they do not declare themselves (no role `A`); logged in, it sees exactly those with the
/// roles `A` and `D` (see the crate README, "Several enterprises").
///
/// Text form (`FromStr`, `Display`): comma-separated items
/// `pin=PIN,declarations=N,broker,share=0.5,name=NAME,scc=SCC,code=CODE`; every item but
/// `pin` is optional (`declarations` defaults to 300, or 0 for a broker).
#[derive(Clone, Debug, PartialEq)]
pub struct EnterpriseSpec {
    /// The card PIN that logs this enterprise in (unique among the enterprises).
    pub pin: String,
    /// Its own declarations (a broker usually has none).
    pub declarations: usize,
    /// A customs broker (报关企业): the 申报单位 of part of the others' declarations.
    pub broker: bool,
    /// For a broker: the share (0..=1) of every other enterprise's declarations without
    /// role `A` that it declares. Shares of several brokers add up (at most 1 in total).
    // GUESS: half; no public source tells how much of an enterprise's trade one broker handles.
    pub broker_share: f64,
    /// 企业名称 (default: drawn from the seed).
    pub name: Option<String>,
    /// 统一社会信用代码, 18 characters (default: drawn, with valid check characters).
    pub scc: Option<String>,
    /// 海关编码, 10 characters (default: drawn).
    pub customs_code: Option<String>,
}

impl Default for EnterpriseSpec {
    fn default() -> Self {
        EnterpriseSpec {
            pin: String::new(),
            declarations: 300,
            broker: false,
            broker_share: 0.5,
            name: None,
            scc: None,
            customs_code: None,
        }
    }
}

impl EnterpriseSpec {
    /// An enterprise with its own `declarations`, logged in with `pin`.
    pub fn client(pin: &str, declarations: usize) -> EnterpriseSpec {
        EnterpriseSpec {
            pin: pin.to_string(),
            declarations,
            ..EnterpriseSpec::default()
        }
    }

    /// A customs broker without declarations of its own, declaring `share` of the
    /// others' declarations on which they do not declare themselves.
    pub fn broker(pin: &str, share: f64) -> EnterpriseSpec {
        EnterpriseSpec {
            pin: pin.to_string(),
            declarations: 0,
            broker: true,
            broker_share: share,
            ..EnterpriseSpec::default()
        }
    }
}

impl std::str::FromStr for EnterpriseSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut spec = EnterpriseSpec::default();
        let mut declarations = None;
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (item, None),
            };
            let need = || value.ok_or_else(|| format!("{key}: expected {key}=VALUE"));
            match key {
                "pin" => spec.pin = need()?.to_string(),
                "declarations" | "n" => {
                    let v = need()?;
                    declarations = Some(
                        v.parse()
                            .map_err(|_| format!("declarations={v}: not a count"))?,
                    );
                }
                "broker" => {
                    spec.broker = match value {
                        None | Some("1" | "true" | "yes") => true,
                        Some("0" | "false" | "no") => false,
                        Some(v) => return Err(format!("broker={v}: expected true or false")),
                    }
                }
                "share" => {
                    let v = need()?;
                    spec.broker_share = v
                        .parse()
                        .map_err(|_| format!("share={v}: not a number"))?;
                }
                "name" => spec.name = Some(need()?.to_string()),
                "scc" => spec.scc = Some(need()?.to_string()),
                "code" | "customs_code" => spec.customs_code = Some(need()?.to_string()),
                other => {
                    return Err(format!(
                        "unknown item {other:?} (expected pin, declarations, broker, share, name, scc, code)"
                    ))
                }
            }
        }
        spec.declarations = declarations.unwrap_or(if spec.broker { 0 } else { 300 });
        if spec.pin.is_empty() {
            return Err("pin=PIN is required".into());
        }
        Ok(spec)
    }
}

impl fmt::Display for EnterpriseSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pin={},declarations={}", self.pin, self.declarations)?;
        if self.broker {
            write!(f, ",broker,share={}", self.broker_share)?;
        }
        if let Some(n) = &self.name {
            write!(f, ",name={n}")?;
        }
        if let Some(s) = &self.scc {
            write!(f, ",scc={s}")?;
        }
        if let Some(c) = &self.customs_code {
            write!(f, ",code={c}")?;
        }
        Ok(())
    }
}

/// Everything that shapes a simulator run. Build with struct-update syntax:
///
/// ```
/// use portal_sim::{SimConfig, Date};
/// let cfg = SimConfig {
///     seed: 7,
///     declarations: 200,
///     today: Some(Date::parse("2026-05-25").unwrap()),
///     admin: true,
///     ..SimConfig::default()
/// };
/// assert_eq!(cfg.max_span_days, 7);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Path prefix of every portal route (e.g. `/swProxy`); empty for none.
    pub prefix: String,
    /// Serve the `/__sim/*` admin API.
    pub admin: bool,
    /// Seed of the dataset, the faults, the jitter and the session ids.
    pub seed: u64,
    /// Number of declarations.
    pub declarations: usize,
    /// First day of the data (default: `to` minus 3 years).
    pub from: Option<Date>,
    /// Last day of the data (default: `today`).
    pub to: Option<Date>,
    /// The simulator's "today" (default: today in China, UTC+8).
    pub today: Option<Date>,
    /// The card PIN the login page accepts.
    pub pin: String,
    /// Maximum inclusive day span of a list query (0: unlimited).
    pub max_span_days: u32,
    /// Maximum rows in one list answer, whatever `limit` asks.
    pub max_rows: usize,
    /// Requests per second over all portal routes (0: unlimited).
    pub rate_limit: f64,
    /// How an over-limit request is answered.
    pub rate_limit_answer: RateLimitAnswer,
    /// Added latency per portal request, in ms.
    pub latency_ms: u64,
    /// Latency jitter (uniform ±), in ms; `None`: half of `latency_ms`.
    pub jitter_ms: Option<u64>,
    /// Initial faults.
    pub faults: FaultSpec,
    /// Wrong PINs in a row before the card locks (0: never).
    pub card_lock_after: u32,
    /// A session idle this long expires.
    pub session_idle_secs: u64,
    /// Enterprises after the first (empty: the single-enterprise simulator). The first
    /// is the one `seed`, `declarations` and `pin` describe.
    pub extra_enterprises: Vec<EnterpriseSpec>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            port: 0,
            prefix: String::new(),
            admin: false,
            seed: 1,
            declarations: 700,
            from: None,
            to: None,
            today: None,
            pin: "88888888".into(),
            max_span_days: 7,
            // GUESS: no public code shows a row cap; tools asked for up to
            // 10000 rows of one week and "it worked" (portal-api.md §2).
            max_rows: 1000,
            // GUESS: no public code documents a rate limit (portal-api.md §1), so none by default.
            rate_limit: 0.0,
            rate_limit_answer: RateLimitAnswer::TooManyRequests,
            latency_ms: 0,
            jitter_ms: None,
            faults: FaultSpec::default(),
            // GUESS: the real card's lock count is not in public code (portal-api.md §4).
            card_lock_after: 5,
            // GUESS: a servlet container's default session timeout (portal-api.md §1).
            session_idle_secs: 1800,
            extra_enterprises: Vec::new(),
        }
    }
}

/// Why a configuration cannot run.
#[derive(Debug)]
pub enum ConfigError {
    /// The prefix contains characters a path prefix cannot.
    BadPrefix(String),
    /// `from` is after `to`.
    EmptyRange(Date, Date),
    /// `max_rows` is 0.
    NoRows,
    /// Enterprise `.0` (0-based) has an invalid spec; `.1` says why.
    BadEnterprise(usize, String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::BadPrefix(p) => {
                write!(f, "invalid --prefix {p:?}: use a path like /swProxy")
            }
            ConfigError::EmptyRange(a, b) => write!(f, "--from {a} is after --to {b}"),
            ConfigError::NoRows => write!(f, "--max-rows must be at least 1"),
            ConfigError::BadEnterprise(i, why) => write!(f, "enterprise {}: {why}", i + 1),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A configuration with every default filled in.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Resolved {
    pub cfg: SimConfig,
    pub prefix: String,
    pub today: Date,
    pub from: Date,
    pub to: Date,
    pub jitter_ms: u64,
}

/// Normalise a path prefix: leading `/`, no trailing `/`, `""` for none.
pub fn normalize_prefix(p: &str) -> Result<String, ConfigError> {
    let t = p.trim().trim_end_matches('/');
    if t.is_empty() {
        return Ok(String::new());
    }
    let ok = t
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b));
    if !ok || t.contains("//") {
        return Err(ConfigError::BadPrefix(p.to_string()));
    }
    Ok(if t.starts_with('/') {
        t.to_string()
    } else {
        format!("/{t}")
    })
}

impl SimConfig {
    /// Every enterprise's PIN differs (the PIN tells the login which card is in the
    /// reader), codes have their lengths, broker shares are within 0..=1 in total.
    fn check_enterprises(&self) -> Result<(), ConfigError> {
        let mut pins = vec![self.pin.as_str()];
        let mut shares = 0.0;
        for (k, e) in self.extra_enterprises.iter().enumerate() {
            let bad = |why: String| ConfigError::BadEnterprise(k + 1, why);
            if e.pin.is_empty() {
                return Err(bad("its PIN is empty".into()));
            }
            if pins.contains(&e.pin.as_str()) {
                return Err(bad(format!(
                    "PIN {} is already another enterprise's (the PIN chooses the card)",
                    e.pin
                )));
            }
            pins.push(&e.pin);
            if let Some(scc) = &e.scc {
                if scc.chars().count() != 18 || !scc.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(bad(format!("scc {scc:?} is not 18 letters or digits")));
                }
            }
            if let Some(code) = &e.customs_code {
                if code.chars().count() != 10 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(bad(format!("code {code:?} is not 10 letters or digits")));
                }
            }
            if e.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                return Err(bad("its name is empty".into()));
            }
            if e.broker {
                if !(0.0..=1.0).contains(&e.broker_share) {
                    return Err(bad(format!("share {} is not within 0..1", e.broker_share)));
                }
                shares += e.broker_share;
            }
        }
        if shares > 1.0 + 1e-9 {
            return Err(ConfigError::BadEnterprise(
                self.extra_enterprises.len(),
                format!("the brokers' shares sum to {shares}, more than 1"),
            ));
        }
        Ok(())
    }

    pub(crate) fn resolve(&self) -> Result<Resolved, ConfigError> {
        let prefix = normalize_prefix(&self.prefix)?;
        let today = self.today.unwrap_or_else(Date::today_china);
        let to = self.to.unwrap_or(today);
        let from = self.from.unwrap_or_else(|| to.minus_years(3));
        if from > to {
            return Err(ConfigError::EmptyRange(from, to));
        }
        if self.max_rows == 0 {
            return Err(ConfigError::NoRows);
        }
        self.check_enterprises()?;
        Ok(Resolved {
            cfg: self.clone(),
            prefix,
            today,
            from,
            to,
            jitter_ms: self.jitter_ms.unwrap_or(self.latency_ms / 2),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(normalize_prefix("").unwrap(), "");
        assert_eq!(normalize_prefix("/").unwrap(), "");
        assert_eq!(normalize_prefix("swProxy").unwrap(), "/swProxy");
        assert_eq!(normalize_prefix("/dyck/swProxy/").unwrap(), "/dyck/swProxy");
        assert!(normalize_prefix("/a b").is_err());
        assert!(normalize_prefix("/a?b").is_err());
        assert!(normalize_prefix("//a").is_err());
    }

    #[test]
    fn defaults_resolve_to_three_years_up_to_today() {
        let cfg = SimConfig {
            today: Some(Date::parse("2026-05-25").unwrap()),
            ..SimConfig::default()
        };
        let r = cfg.resolve().unwrap();
        assert_eq!(r.from.to_string(), "2023-05-25");
        assert_eq!(r.to.to_string(), "2026-05-25");
        let bad = SimConfig {
            from: Some(Date::parse("2026-01-02").unwrap()),
            to: Some(Date::parse("2026-01-01").unwrap()),
            ..SimConfig::default()
        };
        assert!(bad.resolve().is_err());
        assert_eq!(
            "waf".parse::<RateLimitAnswer>().unwrap(),
            RateLimitAnswer::WafBadRequest
        );
        assert!("418".parse::<RateLimitAnswer>().is_err());
    }

    #[test]
    fn enterprise_specs_parse_and_validate() {
        let e: EnterpriseSpec =
            "pin=22222222,declarations=120,name=西安二号贸易有限公司,code=6101360002"
                .parse()
                .unwrap();
        assert_eq!(e.pin, "22222222");
        assert_eq!(e.declarations, 120);
        assert!(!e.broker);
        assert_eq!(e.name.as_deref(), Some("西安二号贸易有限公司"));
        assert_eq!(e.customs_code.as_deref(), Some("6101360002"));
        assert_eq!(e.to_string().parse::<EnterpriseSpec>().unwrap(), e);
        let b: EnterpriseSpec = "pin=33333333,broker,share=0.25".parse().unwrap();
        assert!(b.broker);
        assert_eq!((b.declarations, b.broker_share), (0, 0.25));
        assert_eq!(b, EnterpriseSpec::broker("33333333", 0.25));
        assert_eq!(b.to_string().parse::<EnterpriseSpec>().unwrap(), b);
        for bad in [
            "declarations=3",
            "pin=1,declarations=x",
            "pin=1,colour=red",
            "pin=1,broker=maybe",
        ] {
            assert!(bad.parse::<EnterpriseSpec>().is_err(), "{bad}");
        }
        let with = |extra: Vec<EnterpriseSpec>| SimConfig {
            today: Some(Date::parse("2026-05-25").unwrap()),
            extra_enterprises: extra,
            ..SimConfig::default()
        };
        assert!(with(vec![EnterpriseSpec::client("22222222", 10)])
            .resolve()
            .is_ok());
        let same_pin = with(vec![EnterpriseSpec::client("88888888", 10)]).resolve();
        assert!(
            matches!(same_pin, Err(ConfigError::BadEnterprise(1, _))),
            "{same_pin:?}"
        );
        let short = EnterpriseSpec {
            customs_code: Some("61013".into()),
            ..EnterpriseSpec::client("2", 1)
        };
        assert!(with(vec![short]).resolve().is_err());
        let greedy = vec![
            EnterpriseSpec::broker("2", 0.7),
            EnterpriseSpec::broker("3", 0.7),
        ];
        assert!(with(greedy).resolve().is_err());
    }
}
