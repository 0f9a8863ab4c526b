//! How fast the collector starts portal requests.
//!
//! The user sets a rate (`SyncSettings::rate_per_second`). When the portal says the requests
//! come too often — HTTP 429, or the WAF's HTTP 400 block page — the pace halves (additive
//! increase, multiplicative decrease, as TCP does): at most once per [`SLOW_DOWN_EVERY_MS`],
//! because the answers already on their way were sent at the old pace, and never below
//! [`MIN_PACE`]. Every other answer wins [`PACE_STEP`] back, up to the user's rate. The
//! collector (`wasm/collector.rs`) spaces request starts by [`Pace::interval_ms`] and logs each
//! slow-down; the refused requests themselves are retried by the engine (`sync.rs`).

/// The slowest pace the collector falls to when the portal keeps refusing (requests/s).
pub const MIN_PACE: f64 = 0.5;
/// The pace halves at most this often (ms).
pub const SLOW_DOWN_EVERY_MS: f64 = 250.0;
/// What one answered request wins back of the pace (requests/s).
pub const PACE_STEP: f64 = 0.1;

/// The request pace of one running task.
#[derive(Debug, Clone, PartialEq)]
pub struct Pace {
    limit: f64,
    current: f64,
    slowed_at_ms: Option<f64>,
}

impl Pace {
    /// Starts at the user's rate (at least 0.1 requests/s).
    pub fn new(rate_per_second: f64) -> Pace {
        let limit = rate_per_second.max(0.1);
        Pace { limit, current: limit, slowed_at_ms: None }
    }

    /// Requests started per second now.
    pub fn per_second(&self) -> f64 {
        self.current
    }

    /// The time between two request starts now (ms).
    pub fn interval_ms(&self) -> f64 {
        1000.0 / self.current
    }

    /// The portal refused a request at `now_ms` as too frequent: the new pace when this slowed
    /// down, `None` when the pace was halved less than [`SLOW_DOWN_EVERY_MS`] ago.
    pub fn refused(&mut self, now_ms: f64) -> Option<f64> {
        if self.slowed_at_ms.is_some_and(|at| now_ms - at < SLOW_DOWN_EVERY_MS) {
            return None;
        }
        self.current = (self.current / 2.0).max(MIN_PACE.min(self.limit));
        self.slowed_at_ms = Some(now_ms);
        Some(self.current)
    }

    /// Any other answer: a little of the pace comes back.
    pub fn answered(&mut self) {
        self.current = (self.current + PACE_STEP).min(self.limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_halve_the_pace_at_most_every_quarter_second_down_to_the_floor() {
        let mut pace = Pace::new(8.0);
        assert_eq!(pace.interval_ms(), 125.0);
        assert_eq!(pace.refused(1_000.0), Some(4.0));
        assert_eq!(pace.refused(1_100.0), None, "answers sent at the old pace do not count twice");
        assert_eq!(pace.per_second(), 4.0);
        assert_eq!(pace.refused(1_250.0), Some(2.0));
        assert_eq!(pace.refused(1_500.0), Some(1.0));
        assert_eq!(pace.refused(1_750.0), Some(MIN_PACE));
        assert_eq!(pace.refused(2_000.0), Some(MIN_PACE));
        assert_eq!(pace.interval_ms(), 2_000.0);
    }

    #[test]
    fn answers_win_the_pace_back_up_to_the_users_rate() {
        let mut pace = Pace::new(2.0);
        pace.refused(0.0);
        assert_eq!(pace.per_second(), 1.0);
        for _ in 0..5 {
            pace.answered();
        }
        assert!((pace.per_second() - 1.5).abs() < 1e-9, "{}", pace.per_second());
        for _ in 0..100 {
            pace.answered();
        }
        assert_eq!(pace.per_second(), 2.0);
    }

    #[test]
    fn a_rate_below_the_floor_is_kept() {
        let mut pace = Pace::new(0.2);
        assert_eq!(pace.refused(0.0), Some(0.2));
        assert_eq!(Pace::new(0.0).per_second(), 0.1);
    }
}
