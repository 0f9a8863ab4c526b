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
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::BadPrefix(p) => {
                write!(f, "invalid --prefix {p:?}: use a path like /swProxy")
            }
            ConfigError::EmptyRange(a, b) => write!(f, "--from {a} is after --to {b}"),
            ConfigError::NoRows => write!(f, "--max-rows must be at least 1"),
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
}
