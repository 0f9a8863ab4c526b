//! 自动协同: the scheduled incremental sync's settings and what it says, pure.
//!
//! The user picks, on 报关单协同's 自动协同 block, how often DataLink syncs by itself
//! ([`Repeat`]: off, daily, or weekly on one weekday), at which time of day, and how many
//! recent months it covers (the current month so far plus the previous full ones; default 2).
//! The page stores the [`Schedule`] as JSON in `chrome.storage.local` under [`STORAGE_KEY`];
//! the worker (`src/wasm/schedule.rs`) reads it, (re)creates one `chrome.alarms` alarm named
//! [`ALARM_NAME`] from [`Schedule::first_delay_seconds`] and [`Schedule::period_minutes`], and
//! when it fires runs a task over [`Schedule::conditions`] — the certificate's conditions
//! (both declaration types, both directions, 结关, 报关收发货人) — exactly as a manual one.
//!
//! Such a task is incremental by nature: the store answers each list page with the rows whose
//! stored detail already has the same `updateTime` (`list_page`'s `reconciled`), so only what
//! changed since the last sync is previewed again. Its 操作人 in 协同记录 is [`AUTO_OPERATOR`].
//!
//! The desktop notifications' words are here too: [`task_end_notice`] when any task ends,
//! [`login_notice`] when the portal session is not valid.

use serde::{Deserialize, Serialize};

use crate::calendar::Date;
use crate::checkpoint::Counts;
use crate::period::DateRange;
use crate::task::{
    Conditions, DateTime, DirectionChoice, Role, StatusChoice, TaskState, TypeChoice,
};
use crate::view::text::{Lang, T};

/// `chrome.storage.local` key of the settings.
pub const STORAGE_KEY: &str = "schedule";
/// `chrome.storage.local` key where the worker records what the last alarm did ([`LastRun`]).
pub const LAST_RUN_KEY: &str = "scheduleLast";
/// The one `chrome.alarms` alarm.
pub const ALARM_NAME: &str = "datalink-schedule";
/// 操作人 of a task the schedule started (协同记录 shows it).
pub const AUTO_OPERATOR: &str = "自动协同";
/// Months covered when the user did not choose: this month so far and the previous one.
pub const DEFAULT_MONTHS: u8 = 2;
/// At most a year back: a longer sync is a manual one.
pub const MAX_MONTHS: u8 = 12;

/// How often the automatic sync runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Repeat {
    #[default]
    Off,
    Daily,
    Weekly,
}

impl Repeat {
    /// The form's value (`off` / `daily` / `weekly`); anything else is refused.
    pub fn parse(value: &str) -> Result<Repeat, ScheduleError> {
        match value {
            "off" => Ok(Repeat::Off),
            "daily" => Ok(Repeat::Daily),
            "weekly" => Ok(Repeat::Weekly),
            _ => Err(ScheduleError::Repeat),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Repeat::Off => "off",
            Repeat::Daily => "daily",
            Repeat::Weekly => "weekly",
        }
    }
}

/// Why the 自动协同 form was refused (shown next to it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("自动协同频率不正确")]
    Repeat,
    #[error("星期须为 1（星期一）至 7（星期日）")]
    Weekday,
    #[error("执行时间格式应为 时:分（如 02:30）")]
    Time,
    #[error("协同月数须为 1 至 12")]
    Months,
    #[error("请先连接协同服务，确定单一窗口地址")]
    Portal,
}

/// The automatic sync's settings, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    #[serde(default)]
    pub repeat: Repeat,
    /// ISO weekday for [`Repeat::Weekly`]: Monday = 1 … Sunday = 7.
    #[serde(default = "default_weekday")]
    pub weekday: u8,
    /// Local time of day, hour 0–23.
    #[serde(default = "default_hour")]
    pub hour: u8,
    #[serde(default)]
    pub minute: u8,
    /// Months covered, counting the current one ([`DEFAULT_MONTHS`]).
    #[serde(default = "default_months")]
    pub months: u8,
    /// The portal base URL the task talks to (the one 连接协同服务 used).
    #[serde(default)]
    pub portal: String,
}

fn default_weekday() -> u8 {
    1
}

fn default_hour() -> u8 {
    2
}

fn default_months() -> u8 {
    DEFAULT_MONTHS
}

impl Default for Schedule {
    /// Off; when turned on: 02:00, Mondays for weekly, two months.
    fn default() -> Schedule {
        Schedule {
            repeat: Repeat::Off,
            weekday: default_weekday(),
            hour: default_hour(),
            minute: 0,
            months: DEFAULT_MONTHS,
            portal: String::new(),
        }
    }
}

/// The portal base URL by 设置's rule ([`crate::view::form::check_settings`]), or `None`.
fn normalised_portal(portal: &str) -> Option<String> {
    let input = crate::view::form::SettingsInput {
        portal: portal.to_owned(),
        concurrency: String::new(),
        rate: String::new(),
    };
    crate::view::form::check_settings(&input)
        .ok()
        .map(|(portal, _)| portal)
}

/// `HH:MM` (also `H:MM`) → (hour, minute).
pub fn parse_time(text: &str) -> Result<(u8, u8), ScheduleError> {
    let (h, m) = text.trim().split_once(':').ok_or(ScheduleError::Time)?;
    let digits = |s: &str, max: u8| -> Result<u8, ScheduleError> {
        if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ScheduleError::Time);
        }
        s.parse::<u8>()
            .ok()
            .filter(|v| *v <= max)
            .ok_or(ScheduleError::Time)
    };
    if m.len() != 2 {
        return Err(ScheduleError::Time);
    }
    Ok((digits(h, 23)?, digits(m, 59)?))
}

impl Schedule {
    /// The form's fields → settings, or the first field that is wrong.
    pub fn from_form(
        repeat: &str,
        weekday: &str,
        time: &str,
        months: &str,
        portal: &str,
    ) -> Result<Schedule, ScheduleError> {
        let repeat = Repeat::parse(repeat)?;
        let weekday = weekday
            .trim()
            .parse::<u8>()
            .map_err(|_| ScheduleError::Weekday)?;
        let (hour, minute) = parse_time(time)?;
        let months = months
            .trim()
            .parse::<u8>()
            .map_err(|_| ScheduleError::Months)?;
        let schedule = Schedule {
            repeat,
            weekday,
            hour,
            minute,
            months,
            // The portal as 设置 checks it (https, or plain http on this machine), normalised.
            portal: normalised_portal(portal).unwrap_or_default(),
        };
        schedule.validate()?;
        Ok(schedule)
    }

    /// Checks stored settings (they may have been written by an older page, or by hand).
    pub fn validate(&self) -> Result<(), ScheduleError> {
        if !(1..=7).contains(&self.weekday) {
            return Err(ScheduleError::Weekday);
        }
        if self.hour > 23 || self.minute > 59 {
            return Err(ScheduleError::Time);
        }
        if !(1..=MAX_MONTHS).contains(&self.months) {
            return Err(ScheduleError::Months);
        }
        if self.repeat != Repeat::Off && normalised_portal(&self.portal).is_none() {
            return Err(ScheduleError::Portal);
        }
        Ok(())
    }

    /// `02:30`.
    pub fn time_text(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }

    /// Seconds from `now` (local wall clock) to the next run: later today or the next day for
    /// daily, the next chosen weekday for weekly (a week later if that time passed today).
    /// `None` when off. China has no daylight saving time, so wall-clock seconds are exact.
    pub fn first_delay_seconds(&self, now: DateTime) -> Option<u64> {
        let days_ahead = match self.repeat {
            Repeat::Off => return None,
            Repeat::Daily => 0,
            Repeat::Weekly => {
                (i64::from(self.weekday) - i64::from(now.date.iso_weekday())).rem_euclid(7)
            }
        };
        let now_s = i64::from(now.hour) * 3600 + i64::from(now.minute) * 60 + i64::from(now.second);
        let at_s = i64::from(self.hour) * 3600 + i64::from(self.minute) * 60;
        let mut delay = days_ahead * 86_400 + at_s - now_s;
        if delay <= 0 {
            delay += match self.repeat {
                Repeat::Weekly => 7 * 86_400,
                _ => 86_400,
            };
        }
        u64::try_from(delay).ok()
    }

    /// The alarm's period: a day or a week (`None` when off).
    pub fn period_minutes(&self) -> Option<u32> {
        match self.repeat {
            Repeat::Off => None,
            Repeat::Daily => Some(24 * 60),
            Repeat::Weekly => Some(7 * 24 * 60),
        }
    }

    /// The period a run on `today` covers: the first day of the month `months − 1` before
    /// today's, to today.
    pub fn range(&self, today: Date) -> DateRange {
        let back = i32::from(self.months.clamp(1, MAX_MONTHS)) - 1;
        let index = today.year() * 12 + i32::from(today.month()) - 1 - back;
        let first = Date::new(index.div_euclid(12), (index.rem_euclid(12) + 1) as u8, 1)
            .unwrap_or(today.first_of_month());
        DateRange { first, last: today }
    }

    /// What a run on `today` asks: the certificate's conditions over [`Schedule::range`].
    pub fn conditions(&self, today: Date) -> Conditions {
        Conditions {
            types: TypeChoice::Both,
            role: Role::Consignee,
            directions: DirectionChoice::Both,
            status: StatusChoice::Closed,
            lookup: None,
            range: self.range(today),
        }
    }
}

/// The weekday's word (1 = Monday … 7 = Sunday).
pub fn weekday_label(weekday: u8, lang: Lang) -> &'static str {
    const DAYS: [T; 7] = [
        T::Weekday1,
        T::Weekday2,
        T::Weekday3,
        T::Weekday4,
        T::Weekday5,
        T::Weekday6,
        T::Weekday7,
    ];
    DAYS[usize::from(weekday.clamp(1, 7)) - 1].get(lang)
}

/// The settings in one line, as the page confirms them: `每周三 02:30 协同最近 2 个月`.
pub fn summary(schedule: &Schedule, lang: Lang) -> String {
    let time = schedule.time_text();
    match schedule.repeat {
        Repeat::Off => T::ScheduleOffText.get(lang).to_owned(),
        Repeat::Daily => {
            T::ScheduleDailyText.fill(lang, &[&time as &dyn std::fmt::Display, &schedule.months])
        }
        Repeat::Weekly => T::ScheduleWeeklyText.fill(
            lang,
            &[
                &weekday_label(schedule.weekday, lang) as &dyn std::fmt::Display,
                &time,
                &schedule.months,
            ],
        ),
    }
}

/// What the last alarm did, recorded by the worker (`scheduleLast`) for the page and tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum LastRun {
    /// A task was started.
    Started { at: String, task: String },
    /// Another task was running: never two at once.
    Skipped { at: String, reason: String },
    /// The portal session was not valid: the user was asked to log in.
    NotLoggedIn { at: String },
    /// Something else stopped it (the host, the settings).
    Failed { at: String, reason: String },
}

/// The reason recorded when an alarm finds a task running.
pub const SKIP_RUNNING: &str = "已有协同任务在执行，本次自动协同跳过";

/// The notification when a task ends: (title, message), e.g.
/// `协同任务 20260525020000001 执行完毕：查询数 120 命中数 120 核销数 120`.
pub fn task_end_notice(
    task: &str,
    state: TaskState,
    counts: Option<Counts>,
    automatic: bool,
) -> (String, String) {
    let title = if automatic {
        "DataLink 自动协同".to_owned()
    } else {
        "DataLink 数据协同".to_owned()
    };
    let message = match counts {
        Some(c) => format!(
            "协同任务 {task} {}：查询数 {} 命中数 {} 核销数 {}",
            state.label(),
            c.queried,
            c.hit,
            c.reconciled
        ),
        None => format!("协同任务 {task} {}", state.label()),
    };
    (title, message)
}

/// The notification when the portal session is not valid: (title, message). `paused` is a task
/// waiting for the login; otherwise an alarm that started nothing.
pub fn login_notice(paused: Option<&str>) -> (String, String) {
    let title = "DataLink：请登录单一窗口".to_owned();
    let message = match paused {
        Some(task) => format!(
            "单一窗口登录已失效，协同任务 {task} 已暂停；请在浏览器中登录单一窗口，任务将自动继续"
        ),
        None => "自动协同未执行：单一窗口未登录或登录已失效，请在浏览器中登录单一窗口".to_owned(),
    };
    (title, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(date: &str, hour: u8, minute: u8, second: u8) -> DateTime {
        DateTime {
            date: date.parse().unwrap_or_else(|_| Date::from_day_number(0)),
            hour,
            minute,
            second,
        }
    }

    fn on(repeat: Repeat) -> Schedule {
        Schedule {
            repeat,
            portal: "https://swapp.singlewindow.cn".into(),
            ..Schedule::default()
        }
    }

    #[test]
    fn the_form_is_parsed_and_checked() {
        let s = Schedule::from_form(
            "weekly",
            "3",
            "02:30",
            "2",
            " https://swapp.singlewindow.cn ",
        );
        assert_eq!(
            s,
            Ok(Schedule {
                repeat: Repeat::Weekly,
                weekday: 3,
                hour: 2,
                minute: 30,
                months: 2,
                portal: "https://swapp.singlewindow.cn".into()
            })
        );
        assert_eq!(
            Schedule::from_form("hourly", "1", "02:30", "2", "https://a"),
            Err(ScheduleError::Repeat)
        );
        assert_eq!(
            Schedule::from_form("weekly", "8", "02:30", "2", "https://a"),
            Err(ScheduleError::Weekday)
        );
        assert_eq!(
            Schedule::from_form("daily", "1", "24:00", "2", "https://a"),
            Err(ScheduleError::Time)
        );
        assert_eq!(
            Schedule::from_form("daily", "1", "2:3", "2", "https://a"),
            Err(ScheduleError::Time)
        );
        assert_eq!(
            Schedule::from_form("daily", "1", "0230", "2", "https://a"),
            Err(ScheduleError::Time)
        );
        assert_eq!(
            Schedule::from_form("daily", "1", "02:30", "13", "https://a"),
            Err(ScheduleError::Months)
        );
        assert_eq!(
            Schedule::from_form("daily", "1", "02:30", "0", "https://a"),
            Err(ScheduleError::Months)
        );
        assert_eq!(
            Schedule::from_form("daily", "1", "02:30", "2", ""),
            Err(ScheduleError::Portal)
        );
        assert_eq!(
            Schedule::from_form("daily", "1", "02:30", "2", "http://swapp.singlewindow.cn"),
            Err(ScheduleError::Portal)
        );
        assert_eq!(
            Schedule::from_form("daily", "1", "02:30", "2", " http://127.0.0.1:8080/ ")
                .map(|s| s.portal),
            Ok("http://127.0.0.1:8080".to_owned())
        );
        // Off needs no portal yet.
        assert_eq!(
            Schedule::from_form("off", "1", "9:05", "2", "").map(|s| s.time_text()),
            Ok("09:05".to_owned())
        );
    }

    #[test]
    fn stored_json_fills_defaults_and_round_trips() {
        let s: Schedule =
            serde_json::from_str(r#"{"repeat":"daily","portal":"http://127.0.0.1:9"}"#)
                .unwrap_or_default();
        assert_eq!(
            (s.repeat, s.weekday, s.hour, s.minute, s.months),
            (Repeat::Daily, 1, 2, 0, 2)
        );
        let text = serde_json::to_string(&s).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"repeat":"daily","weekday":1,"hour":2,"minute":0,"months":2,"portal":"http://127.0.0.1:9"}"#
        );
        assert_eq!(serde_json::from_str::<Schedule>(&text).ok(), Some(s));
    }

    #[test]
    fn the_next_run_is_later_today_tomorrow_or_on_the_weekday() {
        // 2026-05-25 is a Monday.
        let daily = Schedule {
            hour: 2,
            minute: 30,
            ..on(Repeat::Daily)
        };
        assert_eq!(
            daily.first_delay_seconds(at("2026-05-25", 1, 0, 0)),
            Some(90 * 60)
        );
        assert_eq!(
            daily.first_delay_seconds(at("2026-05-25", 2, 30, 0)),
            Some(86_400)
        );
        assert_eq!(
            daily.first_delay_seconds(at("2026-05-25", 23, 59, 59)),
            Some(2 * 3600 + 30 * 60 + 1)
        );
        let weekly = Schedule {
            weekday: 3,
            hour: 8,
            minute: 0,
            ..on(Repeat::Weekly)
        };
        assert_eq!(
            weekly.first_delay_seconds(at("2026-05-25", 8, 0, 0)),
            Some(2 * 86_400)
        );
        // Wednesday after 08:00 → next Wednesday.
        assert_eq!(
            weekly.first_delay_seconds(at("2026-05-27", 9, 0, 0)),
            Some(7 * 86_400 - 3600)
        );
        // Sunday → Wednesday.
        assert_eq!(
            weekly.first_delay_seconds(at("2026-05-31", 8, 0, 0)),
            Some(3 * 86_400)
        );
        assert_eq!(
            on(Repeat::Off).first_delay_seconds(at("2026-05-25", 1, 0, 0)),
            None
        );
        assert_eq!(
            (
                daily.period_minutes(),
                weekly.period_minutes(),
                on(Repeat::Off).period_minutes()
            ),
            (Some(1440), Some(10_080), None)
        );
    }

    #[test]
    fn the_period_is_the_recent_months_with_the_certificate_conditions() {
        let today: Date = "2026-01-15"
            .parse()
            .unwrap_or_else(|_| Date::from_day_number(0));
        let two = on(Repeat::Daily);
        let c = two.conditions(today);
        assert_eq!(
            (c.range.first.to_string(), c.range.last.to_string()),
            ("2025-12-01".to_owned(), "2026-01-15".to_owned())
        );
        assert_eq!(
            (c.types, c.role, c.directions, c.status, c.lookup.clone()),
            (
                TypeChoice::Both,
                Role::Consignee,
                DirectionChoice::Both,
                StatusChoice::Closed,
                None
            )
        );
        assert_eq!(c.validate(today), Ok(()));
        let one = Schedule {
            months: 1,
            ..two.clone()
        };
        assert_eq!(one.range(today).first.to_string(), "2026-01-01");
        let twelve = Schedule { months: 12, ..two };
        assert_eq!(twelve.range(today).first.to_string(), "2025-02-01");
    }

    #[test]
    fn notifications_name_the_task_its_state_and_counts() {
        let counts = Counts {
            queried: 120,
            hit: 120,
            reconciled: 119,
        };
        let (title, message) =
            task_end_notice("20260525020000001", TaskState::Failed, Some(counts), true);
        assert_eq!(title, "DataLink 自动协同");
        assert_eq!(
            message,
            "协同任务 20260525020000001 执行异常：查询数 120 命中数 120 核销数 119"
        );
        let (_, message) = task_end_notice("20260525020000001", TaskState::Completed, None, false);
        assert_eq!(message, "协同任务 20260525020000001 执行完毕");
        assert!(login_notice(None).1.contains("请在浏览器中登录单一窗口"));
        assert!(login_notice(Some("20260525020000001"))
            .1
            .contains("20260525020000001 已暂停"));
    }

    #[test]
    fn the_summary_reads_as_a_sentence() {
        let weekly = Schedule {
            weekday: 3,
            hour: 2,
            minute: 30,
            ..on(Repeat::Weekly)
        };
        assert_eq!(summary(&weekly, Lang::Zh), "每周三 02:30 协同最近 2 个月");
        assert_eq!(
            summary(&weekly, Lang::En),
            "every Wednesday at 02:30, the last 2 months"
        );
        assert_eq!(
            summary(
                &Schedule {
                    months: 3,
                    ..on(Repeat::Daily)
                },
                Lang::Zh
            ),
            "每天 02:00 协同最近 3 个月"
        );
        assert_eq!(summary(&Schedule::default(), Lang::Zh), "自动协同已关闭");
    }

    #[test]
    fn the_last_run_is_tagged_json() {
        let run = LastRun::NotLoggedIn {
            at: "2026-05-25 02:00:00".into(),
        };
        assert_eq!(
            serde_json::to_value(&run).ok(),
            Some(serde_json::json!({"outcome": "not_logged_in", "at": "2026-05-25 02:00:00"}))
        );
    }
}
