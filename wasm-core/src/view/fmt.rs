//! Small formatting rules the pages share: counts, durations, progress, dates.

use crate::checkpoint::Counts;
use crate::page::SyncStatus;

use super::text::{Lang, T};

/// A count as the records table shows it: `-` when unknown (the seed's dash), else the number.
pub fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "-".to_owned(), |n| n.to_string())
}

/// The three counts of a task, each `-` until the task listed something.
pub fn counts(c: Option<Counts>) -> [String; 3] {
    [count(c.map(|c| c.queried)), count(c.map(|c| c.hit)), count(c.map(|c| c.reconciled))]
}

/// Whether a row's counts must stand out: known and not all equal.
pub fn disagree(c: Option<Counts>) -> bool {
    c.is_some_and(|c| !c.agree())
}

/// `2分11秒`, `1小时2分3秒`, `45秒` (English: `2 min 11 s`).
pub fn duration(seconds: u64, lang: Lang) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match lang {
        Lang::Zh if h > 0 => format!("{h}小时{m}分{s}秒"),
        Lang::Zh if m > 0 => format!("{m}分{s}秒"),
        Lang::Zh => format!("{s}秒"),
        Lang::En if h > 0 => format!("{h} h {m} min"),
        Lang::En if m > 0 => format!("{m} min {s} s"),
        Lang::En => format!("{s} s"),
    }
}

/// How much of the task is done, 0–1: the share of query windows listed, times the share of
/// what they found that is reconciled (details come right behind the lists, so the listing is
/// what takes the time; the last stretch is the details still to preview).
pub fn fraction(status: &SyncStatus) -> f64 {
    if matches!(status.state, Some(crate::task::TaskState::Completed)) {
        return 1.0;
    }
    if status.windows == 0 {
        return 0.0;
    }
    let listed = status.windows_done as f64 / status.windows as f64;
    let previewed = if status.found == 0 { 1.0 } else { status.reconciled as f64 / status.found as f64 };
    (listed * previewed).clamp(0.0, 1.0)
}

/// The progress bar's fill, 0–100 ([`fraction`]).
pub fn percent(status: &SyncStatus) -> u32 {
    (fraction(status) * 100.0).floor() as u32
}

/// Seconds left, from two observations `(ms, fraction)` of the same run: the pace between them
/// carried to the end. `None` until the pace is measurable (some progress, some time).
pub fn estimate(first: (f64, f64), now: (f64, f64)) -> Option<u64> {
    let (elapsed_ms, done) = (now.0 - first.0, now.1 - first.1);
    if elapsed_ms < 2_000.0 || done < 0.01 || now.1 >= 1.0 {
        return None;
    }
    Some(((1.0 - now.1) * elapsed_ms / done / 1000.0).round() as u64)
}

/// The line under the progress bar: counts, windows, requests.
pub fn progress_line(status: &SyncStatus, lang: Lang) -> String {
    T::ProgressCounts.fill(lang, &[&status.reconciled, &status.found, &status.windows_done, &status.windows, &status.requests])
}

/// `预计剩余 2分11秒`, or that it is being estimated.
pub fn time_left(seconds: Option<u64>, lang: Lang) -> String {
    match seconds {
        Some(s) => T::TimeLeft.fill(lang, &[&duration(s, lang)]),
        None => T::TimeLeftUnknown.get(lang).to_owned(),
    }
}

/// A portal date (`20260127`, `2026-01-27`, `2026-01-27 10:00:00`) as `2026-01-27`.
pub fn day(text: &str) -> String {
    let digits: String = text.chars().filter(char::is_ascii_digit).take(8).collect();
    if digits.len() == 8 {
        format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..8])
    } else if text.is_empty() {
        "-".to_owned()
    } else {
        text.to_owned()
    }
}

/// Bytes as `12.3 KB` / `4.5 MB`.
pub fn bytes(n: u64) -> String {
    match n {
        n if n >= 1024 * 1024 => format!("{:.1} MB", n as f64 / 1024.0 / 1024.0),
        n if n >= 1024 => format!("{:.1} KB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// `01`, `02` … : the seed numbers the period blocks of 详情.
pub fn ordinal(index: usize) -> String {
    format!("{:02}", index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::TaskState;

    fn status(windows_done: u64, windows: u64, reconciled: u64, found: u64) -> SyncStatus {
        SyncStatus {
            task: None,
            state: Some(TaskState::Running),
            paused: false,
            reconciled,
            found,
            windows_done,
            windows,
            requests: 7,
            seconds_left: Some(131),
            lines: vec![],
            report: None,
        }
    }

    #[test]
    fn counts_show_a_dash_until_known_and_disagreement_stands_out() {
        assert_eq!(counts(None), ["-", "-", "-"]);
        let c = Counts { queried: 9, hit: 1, reconciled: 1 };
        assert_eq!(counts(Some(c)), ["9", "1", "1"]);
        assert!(disagree(Some(c)));
        assert!(!disagree(Some(Counts { queried: 5, hit: 5, reconciled: 5 })));
        assert!(!disagree(None));
    }

    #[test]
    fn durations_read_like_the_seed_log() {
        assert_eq!(duration(131, Lang::Zh), "2分11秒");
        assert_eq!(duration(3723, Lang::Zh), "1小时2分3秒");
        assert_eq!(duration(45, Lang::Zh), "45秒");
        assert_eq!(duration(131, Lang::En), "2 min 11 s");
    }

    #[test]
    fn progress() {
        assert_eq!(percent(&status(0, 0, 0, 0)), 0);
        assert_eq!(percent(&status(5, 10, 0, 0)), 50, "nothing found yet: the listing is the progress");
        assert_eq!(percent(&status(76, 712, 39, 42)), 9, "early on, most windows are still to list");
        assert_eq!(percent(&status(10, 10, 50, 100)), 50, "all listed, half previewed");
        assert_eq!(percent(&SyncStatus { state: Some(TaskState::Completed), ..status(10, 10, 99, 100) }), 100);
        assert_eq!(progress_line(&status(3, 10, 4, 5), Lang::Zh), "已核销 4 / 已命中 5 票 · 查询区间 3/10 · 请求 7 次");
        assert_eq!(time_left(Some(131), Lang::Zh), "预计剩余 2分11秒");
        assert_eq!(time_left(None, Lang::Zh), "正在估算剩余时间…");
    }

    #[test]
    fn the_time_left_follows_the_pace() {
        assert_eq!(estimate((0.0, 0.0), (10_000.0, 0.25)), Some(30), "a quarter in 10 s: 30 s to go");
        assert_eq!(estimate((5_000.0, 0.5), (15_000.0, 0.75)), Some(10));
        assert_eq!(estimate((0.0, 0.0), (1_000.0, 0.5)), None, "too soon to tell");
        assert_eq!(estimate((0.0, 0.2), (60_000.0, 0.2)), None, "no progress, no pace");
        assert_eq!(estimate((0.0, 0.0), (60_000.0, 1.0)), None, "done");
    }

    #[test]
    fn dates_and_sizes() {
        assert_eq!(day("20260127"), "2026-01-27");
        assert_eq!(day("2026-01-27 10:00:00"), "2026-01-27");
        assert_eq!(day(""), "-");
        assert_eq!(day("?"), "?");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(2048), "2.0 KB");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0 MB");
        assert_eq!(ordinal(0), "01");
    }
}
