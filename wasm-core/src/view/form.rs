//! The 报关单协同 form as the user filled it (text fields and choices) → [`Conditions`], or the
//! first field that is wrong and why.

use crate::calendar::Date;
use crate::page::SyncSettings;
use crate::period::DateRange;
use crate::secret::Pin;
use crate::task::{Conditions, DirectionChoice, Lookup, Role, StatusChoice, TypeChoice};

use super::text::T;

/// 时间跨度.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Span {
    #[default]
    PastThreeYears,
    PastYear,
    Custom,
}

impl Span {
    pub const ALL: [Span; 3] = [Span::PastThreeYears, Span::PastYear, Span::Custom];

    pub fn text(self) -> T {
        match self {
            Span::PastThreeYears => T::SpanThreeYears,
            Span::PastYear => T::SpanOneYear,
            Span::Custom => T::SpanCustom,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Span::PastThreeYears => "3y",
            Span::PastYear => "1y",
            Span::Custom => "custom",
        }
    }

    pub fn from_code(code: &str) -> Span {
        match code {
            "1y" => Span::PastYear,
            "custom" => Span::Custom,
            _ => Span::PastThreeYears,
        }
    }

    /// The dates the form shows for this choice (`None`: the user's own, 自定义).
    pub fn preset(self, today: Date) -> Option<DateRange> {
        match self {
            Span::PastThreeYears => Some(DateRange::past_years(today, 3)),
            Span::PastYear => Some(DateRange::past_years(today, 1)),
            Span::Custom => None,
        }
    }
}

/// The form's fields, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FormInput {
    pub types: TypeChoice,
    pub role: Role,
    pub directions: DirectionChoice,
    pub status: StatusChoice,
    pub cus_ciq_no: String,
    pub entry_id: String,
    pub bill_no: String,
    pub span: Span,
    pub first: String,
    pub last: String,
    pub pin: String,
}

/// A form field, to put the error next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    CusCiqNo,
    EntryId,
    BillNo,
    First,
    Last,
    Pin,
    Portal,
    Concurrency,
    Rate,
}

impl Field {
    /// The element id of the field on the page.
    pub fn id(self) -> &'static str {
        match self {
            Field::CusCiqNo => "f-cusCiqNo",
            Field::EntryId => "f-entryId",
            Field::BillNo => "f-billNo",
            Field::First => "f-first",
            Field::Last => "f-last",
            Field::Pin => "f-pin",
            Field::Portal => "f-portal",
            Field::Concurrency => "f-concurrency",
            Field::Rate => "f-rate",
        }
    }
}

/// What is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub text: T,
    /// Filled into `text`'s `{0}`.
    pub arg: Option<String>,
}

impl FieldError {
    fn new(field: Field, text: T) -> FieldError {
        FieldError { field, text, arg: None }
    }

    pub fn message(&self, lang: super::text::Lang) -> String {
        match &self.arg {
            Some(arg) => self.text.fill(lang, &[arg]),
            None => self.text.get(lang).to_owned(),
        }
    }
}

/// What 启动协同服务 sends, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub conditions: Conditions,
    /// `None` when the field was left empty.
    pub pin: Option<Pin>,
}

fn date(text: &str, field: Field, missing: T) -> Result<Date, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, missing));
    }
    text.parse().map_err(|_| FieldError::new(field, T::ErrDate))
}

/// The range the form stands for: a preset's days, or the two dates typed.
pub fn range(input: &FormInput, today: Date) -> Result<DateRange, FieldError> {
    if let Some(preset) = input.span.preset(today) {
        return Ok(preset);
    }
    let first = date(&input.first, Field::First, T::ErrFirstMissing)?;
    let last = date(&input.last, Field::Last, T::ErrLastMissing)?;
    if last < first {
        return Err(FieldError::new(Field::Last, T::ErrReversed));
    }
    if last > today {
        return Err(FieldError::new(Field::Last, T::ErrFuture));
    }
    Ok(DateRange { first, last })
}

/// Checks the form against `today` and builds the task's conditions.
pub fn check(input: &FormInput, today: Date) -> Result<Checked, FieldError> {
    let mut lookups = Vec::new();
    let cus = input.cus_ciq_no.trim().to_ascii_uppercase();
    if !cus.is_empty() {
        lookups.push((Field::CusCiqNo, Lookup::CusCiqNo(cus)));
    }
    let entry = input.entry_id.trim();
    if !entry.is_empty() {
        lookups.push((Field::EntryId, Lookup::EntryId(entry.to_owned())));
    }
    let bill = input.bill_no.trim();
    if !bill.is_empty() {
        lookups.push((Field::BillNo, Lookup::BillNo(bill.to_owned())));
    }
    if lookups.len() > 1 {
        return Err(FieldError::new(lookups[1].0, T::ErrLookupMany));
    }
    let range = range(input, today)?;
    let lookup = lookups.pop();
    if let Some((field, lookup)) = &lookup {
        let probe = Conditions {
            types: input.types,
            role: input.role,
            directions: input.directions,
            status: input.status,
            lookup: Some(lookup.clone()),
            range,
        };
        if probe.validate(today).is_err() {
            let text = match field {
                Field::CusCiqNo => T::ErrCusCiqNo,
                Field::EntryId => T::ErrEntryId,
                _ => T::ErrBillNo,
            };
            return Err(FieldError::new(*field, text));
        }
    }
    let conditions = Conditions {
        types: input.types,
        role: input.role,
        directions: input.directions,
        status: input.status,
        lookup: lookup.map(|(_, l)| l),
        range,
    };
    // Whatever the form checked, the core's rules have the last word.
    if let Err(e) = conditions.validate(today) {
        let text = match e {
            crate::task::ConditionsError::Reversed => T::ErrReversed,
            crate::task::ConditionsError::Future => T::ErrFuture,
            crate::task::ConditionsError::LookupFormat(_) => T::ErrBillNo,
        };
        return Err(FieldError::new(Field::Last, text));
    }
    let pin = match input.pin.as_str() {
        "" => None,
        typed => {
            let pin = Pin::new(typed.to_owned());
            if !pin.well_formed() {
                return Err(FieldError::new(Field::Pin, T::ErrPin));
            }
            Some(pin)
        }
    };
    Ok(Checked { conditions, pin })
}

/// The portal's default address.
pub const DEFAULT_PORTAL: &str = "https://swapp.singlewindow.cn";

/// The settings as typed: the portal's address and how hard to press it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsInput {
    pub portal: String,
    pub concurrency: String,
    pub rate: String,
}

/// The most requests in parallel the settings accept (the collector clamps to 16 as well).
pub const MAX_CONCURRENCY: u32 = 16;
/// The most requests per second the settings accept.
pub const MAX_RATE: u32 = 1000;

/// Checks the settings: an `https://` portal (or a local one, for tests), numbers in range.
pub fn check_settings(input: &SettingsInput) -> Result<(String, SyncSettings), FieldError> {
    let portal = input.portal.trim().trim_end_matches('/').to_owned();
    let local = ["http://127.0.0.1", "http://localhost"].iter().any(|p| portal.starts_with(p));
    let rest = portal.strip_prefix("https://").or_else(|| portal.strip_prefix("http://"));
    let host_ok = rest.is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace) && !r.starts_with('/'));
    if !(portal.starts_with("https://") || local) || !host_ok {
        return Err(FieldError::new(Field::Portal, T::ErrPortal));
    }
    let number = |text: &str, field: Field, max: u32| -> Result<u32, FieldError> {
        text.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or(FieldError { field, text: T::ErrNumber, arg: Some(max.to_string()) })
    };
    let defaults = SyncSettings::default();
    let concurrency = if input.concurrency.trim().is_empty() { defaults.concurrency } else { number(&input.concurrency, Field::Concurrency, MAX_CONCURRENCY)? };
    let rate = if input.rate.trim().is_empty() { defaults.rate_per_second } else { f64::from(number(&input.rate, Field::Rate, MAX_RATE)?) };
    Ok((portal, SyncSettings { concurrency, rate_per_second: rate, ..defaults }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::text::Lang;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn today() -> Date {
        d("2026-05-25")
    }

    #[test]
    fn presets_follow_the_seed() {
        assert_eq!(Span::PastThreeYears.preset(today()), Some(DateRange { first: d("2023-05-25"), last: d("2026-05-25") }));
        assert_eq!(Span::PastYear.preset(today()), Some(DateRange { first: d("2025-05-25"), last: d("2026-05-25") }));
        assert_eq!(Span::Custom.preset(today()), None);
        for s in Span::ALL {
            assert_eq!(Span::from_code(s.code()), s);
        }
    }

    #[test]
    fn the_default_form_is_three_years_of_both_types() {
        let checked = check(&FormInput::default(), today()).unwrap();
        assert_eq!(checked.conditions.range, DateRange::past_years(today(), 3));
        assert_eq!(checked.conditions.types, TypeChoice::Both);
        assert_eq!(checked.conditions.lookup, None);
        assert_eq!(checked.pin, None);
    }

    #[test]
    fn custom_dates_are_checked() {
        let custom = |first: &str, last: &str| FormInput { span: Span::Custom, first: first.into(), last: last.into(), ..FormInput::default() };
        assert_eq!(check(&custom("2025-01-01", "2025-12-31"), today()).unwrap().conditions.range.last, d("2025-12-31"));
        let err = |f: &str, l: &str| {
            let e = check(&custom(f, l), today()).unwrap_err();
            (e.field, e.text)
        };
        assert_eq!(err("", "2025-12-31"), (Field::First, T::ErrFirstMissing));
        assert_eq!(err("2025-01-01", ""), (Field::Last, T::ErrLastMissing));
        assert_eq!(err("2025/01/01", "2025-12-31"), (Field::First, T::ErrDate));
        assert_eq!(err("2025-02-30", "2025-12-31"), (Field::First, T::ErrDate));
        assert_eq!(err("2025-12-31", "2025-01-01"), (Field::Last, T::ErrReversed));
        assert_eq!(err("2026-05-01", "2026-05-26"), (Field::Last, T::ErrFuture));
        // The typed dates do not matter for a preset.
        assert!(check(&FormInput { first: "garbage".into(), ..FormInput::default() }, today()).is_ok());
    }

    #[test]
    fn one_lookup_at_most_and_well_formed() {
        let with = |cus: &str, entry: &str, bill: &str| FormInput { cus_ciq_no: cus.into(), entry_id: entry.into(), bill_no: bill.into(), ..FormInput::default() };
        let ok = check(&with(" i20260000123456789 ", "", ""), today()).unwrap();
        assert_eq!(ok.conditions.lookup, Some(Lookup::CusCiqNo("I20260000123456789".into())), "trimmed and upper-cased");
        assert_eq!(check(&with("", "610120260123456789", ""), today()).unwrap().conditions.lookup, Some(Lookup::EntryId("610120260123456789".into())));
        assert_eq!(check(&with("I20260000123456789", "610120260123456789", ""), today()).unwrap_err().text, T::ErrLookupMany);
        let bad = check(&with("", "61012026", ""), today()).unwrap_err();
        assert_eq!((bad.field, bad.text), (Field::EntryId, T::ErrEntryId));
        assert_eq!(check(&with("", "", "有 空格"), today()).unwrap_err().text, T::ErrBillNo);
        assert_eq!(check(&with("X2026", "", ""), today()).unwrap_err().field, Field::CusCiqNo);
    }

    #[test]
    fn the_pin_is_optional_but_well_formed() {
        let pin = |p: &str| check(&FormInput { pin: p.into(), ..FormInput::default() }, today());
        assert_eq!(pin("").unwrap().pin, None);
        assert_eq!(pin("88888888").unwrap().pin.map(|p| p.expose().to_owned()), Some("88888888".into()));
        assert_eq!(pin("88 88").unwrap_err().field, Field::Pin);
        assert!(!format!("{:?}", pin("88888888").unwrap()).contains("88888888"), "never printed");
    }

    #[test]
    fn settings() {
        let s = |portal: &str, c: &str, r: &str| check_settings(&SettingsInput { portal: portal.into(), concurrency: c.into(), rate: r.into() });
        let (portal, settings) = s("https://swapp.singlewindow.cn/", "", "").unwrap();
        assert_eq!(portal, DEFAULT_PORTAL);
        assert_eq!(settings, SyncSettings::default());
        let (portal, settings) = s(" http://127.0.0.1:8080 ", "4", "200").unwrap();
        assert_eq!((portal.as_str(), settings.concurrency, settings.rate_per_second), ("http://127.0.0.1:8080", 4, 200.0));
        assert_eq!(s("http://swapp.singlewindow.cn", "", "").unwrap_err().field, Field::Portal, "plain http only on this machine");
        assert_eq!(s("https://", "", "").unwrap_err().field, Field::Portal);
        assert_eq!(s("javascript:alert(1)", "", "").unwrap_err().field, Field::Portal);
        let e = s(DEFAULT_PORTAL, "0", "").unwrap_err();
        assert_eq!((e.field, e.message(Lang::Zh)), (Field::Concurrency, "请输入 1–16 之间的整数".to_owned()));
        assert_eq!(s(DEFAULT_PORTAL, "", "1001").unwrap_err().field, Field::Rate);
    }
}
