//! 数据验证报告, pure: everything the report page decides, tested natively.
//!
//! The page (`src/wasm/ui/report.rs`) walks the user through the seed's steps — fill in
//! 申报信息 (申请项目, 申报部门, 时间范围 `YYYYMM`–`YYYYMM`), 确认, look at the preview, PDF 下载 /
//! PDF 打印 — and this module makes each decision on the way:
//!
//! * [`check_form`] — the form as typed → a [`ReportForm`], or the field that is wrong and why
//!   (the range rules are [`ReportRange::from_form`]'s: `YYYYMM`, not reversed, one calendar
//!   year); [`default_range`] is the last full calendar year;
//! * [`coverage_rows`] — the 数据协同核验表: per month the three counts and the task that
//!   reconciled it, or why no task does;
//! * [`sync_offer`] — when months are missing, the smallest date range that covers them and the
//!   link (`#/sync?from=…&to=…&for=report`) that opens 报关单协同 with that range and the
//!   conditions a certificate needs (both types, both directions, 结关, 报关收发货人);
//!   [`parse_sync_link`] reads it back on the sync page;
//! * [`amount`] — decimal text from the host → `12,345,678.90` (exact: decimals, never floats);
//! * [`summary_rows`], [`currency_rows`] — the monthly summary (月度贸易汇总) and the totals per
//!   currency in original amounts;
//! * [`chart`] — the monthly chart as an SVG *description* ([`SvgNode`]: element name,
//!   attributes, text): a bar per month and direction in RMB, axis ticks labelled in 万 / 亿.
//!   The page turns it into `createElementNS` nodes with text nodes only, so nothing here is
//!   ever parsed as markup;
//! * [`check_settings`] — the 设置 block (出具单位名称, 印章文字, 企业名称, 统一社会信用代码).

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::calendar::{days_in_month, Date};
use crate::period::DateRange;
use crate::report::{parse_month, Coverage, MonthFigures, RangeProblem, ReportForm, ReportRange, Settings, MAX_FORM_TEXT};

use super::text::{Lang, T};

// ── The form (申报信息) ──

/// The form's fields, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FormInput {
    pub project: String,
    pub department: String,
    /// `202501` (also `2025-01`).
    pub from: String,
    pub to: String,
}

/// A field of the form, to put the error next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    Project,
    Department,
    From,
    To,
}

impl FormField {
    /// The element id on the page.
    pub fn id(self) -> &'static str {
        match self {
            FormField::Project => "rp-project",
            FormField::Department => "rp-department",
            FormField::From => "rp-from",
            FormField::To => "rp-to",
        }
    }
}

/// What is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormProblem {
    pub field: FormField,
    pub text: T,
}

impl FormProblem {
    pub fn message(&self, lang: Lang) -> String {
        match self.text {
            T::ErrTextTooLong => self.text.fill(lang, &[&MAX_FORM_TEXT]),
            t => t.get(lang).to_owned(),
        }
    }
}

/// The words of a refused range ([`RangeProblem`]'s Chinese is the same text).
pub fn range_problem_text(problem: &RangeProblem) -> T {
    match problem {
        RangeProblem::Malformed => T::ErrMonthFormat,
        RangeProblem::Reversed => T::ErrMonthReversed,
        RangeProblem::CrossYear => T::ErrCrossYear,
    }
}

/// Checks the form: 申请项目 and 申报部门 present and at most [`MAX_FORM_TEXT`] characters, the
/// range well-formed, in order and inside one calendar year. The texts are trimmed.
pub fn check_form(input: &FormInput) -> Result<ReportForm, FormProblem> {
    let text = |value: &str, field: FormField, missing: T| -> Result<String, FormProblem> {
        let value = value.trim();
        match value.chars().count() {
            0 => Err(FormProblem { field, text: missing }),
            n if n > MAX_FORM_TEXT => Err(FormProblem { field, text: T::ErrTextTooLong }),
            _ => Ok(value.to_owned()),
        }
    };
    let project = text(&input.project, FormField::Project, T::ErrProjectMissing)?;
    let department = text(&input.department, FormField::Department, T::ErrDepartmentMissing)?;
    if parse_month(&input.from).is_none() {
        return Err(FormProblem { field: FormField::From, text: T::ErrMonthFormat });
    }
    // The start was read: whatever is left is the end's fault (unreadable, earlier, other year).
    let range = ReportRange::from_form(&input.from, &input.to).map_err(|p| FormProblem { field: FormField::To, text: range_problem_text(&p) })?;
    Ok(ReportForm { range, project, department })
}

/// The form's 时间范围 when nothing is remembered: the last full calendar year, as `YYYYMM`.
pub fn default_range(today: Date) -> (String, String) {
    let year = today.year() - 1;
    (format!("{year:04}01"), format!("{year:04}12"))
}

/// `2025-01` → `202501` (the form's way of writing a month).
pub fn compact_month(month: &str) -> String {
    month.replace('-', "")
}

// ── 数据协同核验表 ──

/// One row of the 数据协同核验表, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageRow {
    /// `2025-01`.
    pub month: String,
    /// 查询数, 命中数, 核销数 (`-` when no task covers the month).
    pub counts: [String; 3],
    /// The task that reconciled the month (`--` when none).
    pub task: String,
    pub covered: bool,
    /// 完整, or why not.
    pub result: String,
}

pub fn coverage_rows(coverage: &Coverage, lang: Lang) -> Vec<CoverageRow> {
    coverage
        .months
        .iter()
        .map(|m| {
            let covered = m.covered();
            let result = if covered {
                T::CoverageOk.get(lang).to_owned()
            } else {
                m.gap.clone().filter(|g| !g.trim().is_empty()).unwrap_or_else(|| T::GapNotSynced.get(lang).to_owned())
            };
            CoverageRow {
                month: m.month.clone(),
                counts: super::fmt::counts(m.counts),
                task: m.task.as_ref().map_or_else(|| T::Dash.get(lang).to_owned(), |t| t.0.clone()),
                covered,
                result,
            }
        })
        .collect()
}

/// The sync to offer for the months a certificate still lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOffer {
    /// The missing months (`2025-12`), in order.
    pub months: Vec<String>,
    /// The smallest range of days covering them, ending today at the latest.
    pub range: DateRange,
    /// `#/sync?from=2025-12-01&to=2025-12-31&for=report`.
    pub href: String,
}

/// The query a report's link adds to `#/sync`.
pub const SYNC_FOR_REPORT: &str = "report";

/// `#/sync?from=…&to=…&for=report`.
pub fn sync_link(range: DateRange) -> String {
    format!("#/sync?from={}&to={}&for={SYNC_FOR_REPORT}", range.first, range.last)
}

/// The sync that fills the gaps of `coverage`: from the first day of the earliest missing month
/// to the last day of the latest one (or today, if that is earlier). `None` when nothing is
/// missing, or when the missing months have not started yet.
pub fn sync_offer(coverage: &Coverage, today: Date) -> Option<SyncOffer> {
    let gaps: Vec<(i32, u8)> = coverage.gaps().into_iter().filter_map(parse_month).collect();
    let (first, last) = (gaps.iter().min()?, gaps.iter().max()?);
    let start = Date::new(first.0, first.1, 1)?;
    let end = Date::new(last.0, last.1, days_in_month(last.0, last.1))?.min(today);
    if start > end {
        return None;
    }
    let range = DateRange { first: start, last: end };
    let months = gaps.iter().map(|(y, m)| format!("{y:04}-{m:02}")).collect();
    Some(SyncOffer { months, range, href: sync_link(range) })
}

/// Reads a `#/sync?from=…&to=…&for=…` hash (or just its query): the range to prefill and
/// whether it came from the report page. `None` when there is no valid range in it.
pub fn parse_sync_link(hash: &str) -> Option<(DateRange, bool)> {
    let query = hash.split_once('?').map_or(hash, |(_, q)| q);
    let mut from = None;
    let mut to = None;
    let mut for_report = false;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("from", v)) => from = v.parse::<Date>().ok(),
            Some(("to", v)) => to = v.parse::<Date>().ok(),
            Some(("for", v)) => for_report = v == SYNC_FOR_REPORT,
            _ => {}
        }
    }
    DateRange::new(from?, to?).ok().map(|r| (r, for_report))
}

// ── Amounts ──

/// Decimal text (`"12345678.9"`) read exactly; `None` for anything else.
pub fn decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if text.is_empty() || text.contains(['e', 'E', '_']) {
        return None;
    }
    Decimal::from_str(text).ok()
}

/// An amount as the pages show it: rounded half-up to cents, grouped in thousands —
/// `12,345,678.90`. Text that is not a decimal is shown as it came.
pub fn amount(text: &str) -> String {
    decimal(text).map_or_else(|| text.to_owned(), |d| grouped(d, 2))
}

/// `d` rounded half-up (四舍五入) to `dp` decimals, always `dp` of them, thousands grouped — the
/// certificate's own formatting ([`crate::money::Money::grouped`]).
pub fn grouped(d: Decimal, dp: u32) -> String {
    crate::money::Money::new(d).grouped(dp)
}

// ── 月度贸易汇总 ──

/// One month of the summary table, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    /// `2025-01`.
    pub month: String,
    pub import_declarations: String,
    pub export_declarations: String,
    pub import_rmb: String,
    pub export_rmb: String,
    pub import_usd: String,
    pub export_usd: String,
}

pub fn summary_rows(months: &[MonthFigures]) -> Vec<SummaryRow> {
    months
        .iter()
        .map(|m| SummaryRow {
            month: m.month.clone(),
            import_declarations: m.import_declarations.to_string(),
            export_declarations: m.export_declarations.to_string(),
            import_rmb: amount(&m.import_rmb),
            export_rmb: amount(&m.export_rmb),
            import_usd: amount(&m.import_usd),
            export_usd: amount(&m.export_usd),
        })
        .collect()
}

/// One currency's original amounts over the whole range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyRow {
    /// `USD`.
    pub currency: String,
    /// 美元.
    pub name: String,
    pub import: String,
    pub export: String,
}

/// The per-currency totals of `months`, summed exactly, by currency code. Unreadable amounts
/// (which the host never sends) count as nothing rather than hide the row.
pub fn currency_rows(months: &[MonthFigures]) -> Vec<CurrencyRow> {
    let mut sums: BTreeMap<&str, (&str, Decimal, Decimal)> = BTreeMap::new();
    for c in months.iter().flat_map(|m| &m.by_currency) {
        let entry = sums.entry(c.currency.as_str()).or_insert((c.name.as_str(), Decimal::ZERO, Decimal::ZERO));
        entry.1 += decimal(&c.import).unwrap_or_default();
        entry.2 += decimal(&c.export).unwrap_or_default();
    }
    sums.into_iter()
        .map(|(currency, (name, import, export))| CurrencyRow {
            currency: currency.to_owned(),
            name: name.to_owned(),
            import: grouped(import, 2),
            export: grouped(export, 2),
        })
        .collect()
}

// ── The chart, as an SVG description ──

/// The SVG namespace the page creates the chart's elements in.
pub const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// One SVG element: its name, attributes and text (set as a text node), and its children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvgNode {
    pub name: &'static str,
    pub attrs: Vec<(&'static str, String)>,
    pub text: Option<String>,
    pub children: Vec<SvgNode>,
}

impl SvgNode {
    fn new(name: &'static str) -> SvgNode {
        SvgNode { name, attrs: Vec::new(), text: None, children: Vec::new() }
    }

    fn attr(mut self, name: &'static str, value: impl ToString) -> SvgNode {
        self.attrs.push((name, value.to_string()));
        self
    }

    fn text(mut self, text: impl Into<String>) -> SvgNode {
        self.text = Some(text.into());
        self
    }

    fn child(mut self, child: SvgNode) -> SvgNode {
        self.children.push(child);
        self
    }

    /// The value of attribute `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// Every node below (and including) this one, depth first.
    pub fn walk(&self) -> Vec<&SvgNode> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.walk());
        }
        out
    }
}

/// The chart's size in SVG user units (it scales with the page through `viewBox`).
pub const CHART_WIDTH: u32 = 760;
pub const CHART_HEIGHT: u32 = 300;
const LEFT: u32 = 72;
const RIGHT: u32 = 16;
const TOP: u32 = 28;
const BOTTOM: u32 = 36;
const PLOT_HEIGHT: u32 = CHART_HEIGHT - TOP - BOTTOM;

/// The axis: ticks from 0 to the first "round" value (1, 2 or 5 × 10ⁿ steps) at or above `max`,
/// at most six of them. `max` of zero gives `[0, 1]`, so an empty year still draws an axis.
pub fn axis_ticks(max: Decimal) -> Vec<Decimal> {
    if max <= Decimal::ZERO {
        return vec![Decimal::ZERO, Decimal::ONE];
    }
    let mut unit = Decimal::ONE;
    while unit * Decimal::from(10) <= max / Decimal::from(4) {
        unit *= Decimal::from(10);
    }
    let step = [1u32, 2, 5, 10].iter().map(|m| unit * Decimal::from(*m)).find(|step| *step * Decimal::from(5) >= max).unwrap_or(unit * Decimal::from(10));
    let count = (max / step).ceil().to_u32().unwrap_or(1).max(1);
    (0..=count).map(|i| step * Decimal::from(i)).collect()
}

/// A tick's label: 万 and 亿 in Chinese (`500万`, `1.5亿`), K / M / B in English.
pub fn tick_label(value: Decimal, lang: Lang) -> String {
    let scaled = |unit: u64, suffix: &str| format!("{}{suffix}", plain(value / Decimal::from(unit)));
    match lang {
        Lang::Zh if value >= Decimal::from(100_000_000u64) => scaled(100_000_000, "亿"),
        Lang::Zh if value >= Decimal::from(10_000u64) => scaled(10_000, "万"),
        Lang::En if value >= Decimal::from(1_000_000_000u64) => scaled(1_000_000_000, "B"),
        Lang::En if value >= Decimal::from(1_000_000u64) => scaled(1_000_000, "M"),
        Lang::En if value >= Decimal::from(1_000u64) => scaled(1_000, "K"),
        _ => plain(value),
    }
}

/// Up to two decimals, no trailing zeros, thousands grouped: `1,000`, `2.5`.
fn plain(value: Decimal) -> String {
    let rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero).normalize();
    let dp = rounded.scale();
    grouped(rounded, dp)
}

/// `value / top` of the plot's height, in user units with one decimal (exact up to that rounding).
fn bar_height(value: Decimal, top: Decimal) -> Decimal {
    if top <= Decimal::ZERO || value <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    (value * Decimal::from(PLOT_HEIGHT) / top).round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
}

/// `1月` … / `Jan` …: the month's label under its bars.
pub fn month_label(month: &str, lang: Lang) -> String {
    let names = T::MonthNames.get(lang);
    parse_month(month).and_then(|(_, m)| names.split(',').nth(usize::from(m) - 1)).map_or_else(|| month.to_owned(), str::to_owned)
}

/// The monthly chart: per month an import and an export bar (RMB, converted), the y axis with
/// its ticks, the month labels and a legend. Bars carry `data-month`, `data-direction`
/// (`import` / `export`) and `data-value` (the exact decimal), and a `<title>` tooltip.
pub fn chart(months: &[MonthFigures], lang: Lang) -> SvgNode {
    let values: Vec<(Decimal, Decimal)> =
        months.iter().map(|m| (decimal(&m.import_rmb).unwrap_or_default(), decimal(&m.export_rmb).unwrap_or_default())).collect();
    let max = values.iter().flat_map(|(i, e)| [*i, *e]).max().unwrap_or_default();
    let ticks = axis_ticks(max);
    let top = ticks.last().copied().unwrap_or(Decimal::ONE);
    let plot_width = CHART_WIDTH - LEFT - RIGHT;
    let base = TOP + PLOT_HEIGHT;
    let mut svg = SvgNode::new("svg")
        .attr("xmlns", SVG_NS)
        .attr("viewBox", format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}"))
        .attr("class", "chart")
        .attr("role", "img")
        .attr("aria-label", T::ChartTitle.get(lang))
        .child(SvgNode::new("title").text(T::ChartTitle.get(lang)));
    // The axis: grid lines and tick labels, the unit above.
    let mut axis = SvgNode::new("g").attr("class", "axis");
    for tick in &ticks {
        let y = Decimal::from(base) - bar_height(*tick, top);
        axis = axis.child(SvgNode::new("line").attr("class", "grid").attr("x1", LEFT).attr("x2", CHART_WIDTH - RIGHT).attr("y1", y).attr("y2", y)).child(
            SvgNode::new("text")
                .attr("class", "tick")
                .attr("x", LEFT - 6)
                .attr("y", y)
                .attr("text-anchor", "end")
                .attr("dominant-baseline", "middle")
                .text(tick_label(*tick, lang)),
        );
    }
    axis = axis.child(SvgNode::new("text").attr("class", "unit").attr("x", LEFT).attr("y", TOP - 12).attr("text-anchor", "end").text(T::ChartUnit.get(lang)));
    svg = svg.child(axis);
    // The bars: a slot per month, two bars in it.
    let slot = plot_width / (months.len().max(1) as u32);
    let bar = (slot * 35 / 100).max(2);
    let mut bars = SvgNode::new("g").attr("class", "bars");
    for (i, (m, (import, export))) in months.iter().zip(&values).enumerate() {
        let left = LEFT + slot * i as u32 + (slot - 2 * bar) / 2;
        for (k, (direction, value, label)) in [("import", import, T::DirImport), ("export", export, T::DirExport)].into_iter().enumerate() {
            let height = bar_height(*value, top);
            let tip = format!("{} {} {} {}", m.month, label.get(lang), T::Rmb.get(lang), grouped(*value, 2));
            bars = bars.child(
                SvgNode::new("rect")
                    .attr("class", format!("chart-bar {direction}"))
                    .attr("data-month", &m.month)
                    .attr("data-direction", direction)
                    .attr("data-value", value.normalize())
                    .attr("x", left + bar * k as u32)
                    .attr("y", Decimal::from(base) - height)
                    .attr("width", bar)
                    .attr("height", height)
                    .child(SvgNode::new("title").text(tip)),
            );
        }
        bars = bars.child(
            SvgNode::new("text")
                .attr("class", "month")
                .attr("x", LEFT + slot * i as u32 + slot / 2)
                .attr("y", base + 18)
                .attr("text-anchor", "middle")
                .text(month_label(&m.month, lang)),
        );
    }
    svg = svg.child(bars);
    svg = svg.child(SvgNode::new("line").attr("class", "baseline").attr("x1", LEFT).attr("x2", CHART_WIDTH - RIGHT).attr("y1", base).attr("y2", base));
    // The legend, top right.
    let mut legend = SvgNode::new("g").attr("class", "legend");
    for (k, (direction, label)) in [("import", T::DirImport), ("export", T::DirExport)].into_iter().enumerate() {
        let x = CHART_WIDTH - RIGHT - 150 + 76 * k as u32;
        legend = legend
            .child(SvgNode::new("rect").attr("class", format!("key {direction}")).attr("x", x).attr("y", 6).attr("width", 12).attr("height", 12))
            .child(SvgNode::new("text").attr("x", x + 16).attr("y", 16).text(label.get(lang)));
    }
    svg.child(legend)
}

// ── 设置 ──

/// The 设置 block as typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SettingsInput {
    pub issuer: String,
    pub seal_caption: String,
    pub company: String,
    pub credit_code: String,
}

/// A 统一社会信用代码: 18 characters, digits and capital letters other than I, O, Z, S, V
/// (GB 32100-2015).
pub fn credit_code_well_formed(code: &str) -> bool {
    code.chars().count() == 18 && code.chars().all(|c| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"IOZSV".contains(c)))
}

/// The longest setting accepted, in characters.
pub const MAX_SETTING_TEXT: usize = 60;

/// Checks the 设置 block → what `settings_set` sends: every key, an empty value removing one.
pub fn check_settings(input: &SettingsInput) -> Result<Settings, T> {
    use crate::report::setting;
    let credit = input.credit_code.trim().to_ascii_uppercase();
    if !credit.is_empty() && !credit_code_well_formed(&credit) {
        return Err(T::ErrCreditCode);
    }
    let pairs = [
        (setting::ISSUER, input.issuer.trim()),
        (setting::SEAL_CAPTION, input.seal_caption.trim()),
        (setting::COMPANY, input.company.trim()),
        (setting::CREDIT_CODE, credit.as_str()),
    ];
    if pairs.iter().any(|(_, v)| v.chars().count() > MAX_SETTING_TEXT) {
        return Err(T::ErrSettingTooLong);
    }
    Ok(Settings { values: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect() })
}

/// The 设置 block's fields from `settings_get`'s reply (missing keys empty).
pub fn settings_input(settings: &Settings) -> SettingsInput {
    use crate::report::setting;
    let get = |k: &str| settings.values.get(k).cloned().unwrap_or_default();
    SettingsInput {
        issuer: get(setting::ISSUER),
        seal_caption: get(setting::SEAL_CAPTION),
        company: get(setting::COMPANY),
        credit_code: get(setting::CREDIT_CODE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Counts;
    use crate::report::{CurrencyFigures, MonthCoverage};
    use crate::task::TaskNumber;

    fn input(project: &str, department: &str, from: &str, to: &str) -> FormInput {
        FormInput { project: project.into(), department: department.into(), from: from.into(), to: to.into() }
    }

    #[test]
    fn the_form_gives_a_report_form_or_the_field_that_is_wrong() {
        let form = check_form(&input(" 外贸发展专项资金 ", "西安市商务局", "202501", "202512")).unwrap();
        assert_eq!(form.project, "外贸发展专项资金", "trimmed");
        assert_eq!(form.check(), Ok(()), "what the page accepts, the shared rules accept");
        assert_eq!(form.range, ReportRange { from: "2025-01".into(), to: "2025-12".into(), enterprise: None });
        let problem = |i: FormInput| check_form(&i).unwrap_err();
        assert_eq!(problem(input("", "部门", "202501", "202512")), FormProblem { field: FormField::Project, text: T::ErrProjectMissing });
        assert_eq!(problem(input("项目", " ", "202501", "202512")), FormProblem { field: FormField::Department, text: T::ErrDepartmentMissing });
        let long = problem(input(&"长".repeat(61), "部门", "202501", "202512"));
        assert_eq!(long.field, FormField::Project);
        assert_eq!(long.message(Lang::Zh), "申请项目、申报部门各不超过 60 个字");
        assert_eq!(problem(input("项目", "部门", "2025", "202512")).field, FormField::From);
        assert_eq!(problem(input("项目", "部门", "202501", "202513")), FormProblem { field: FormField::To, text: T::ErrMonthFormat });
        assert_eq!(problem(input("项目", "部门", "202507", "202501")), FormProblem { field: FormField::To, text: T::ErrMonthReversed });
        let cross = problem(input("项目", "部门", "202512", "202601"));
        assert_eq!(cross, FormProblem { field: FormField::To, text: T::ErrCrossYear });
        assert_eq!(cross.message(Lang::Zh), "时间范围不可跨年：请分别出具各年度的证明");
        assert_eq!(cross.message(Lang::En), "The period must stay within one calendar year: ask for one certificate per year");
    }

    #[test]
    fn the_range_words_are_the_cores() {
        for p in [RangeProblem::Malformed, RangeProblem::Reversed, RangeProblem::CrossYear] {
            assert_eq!(range_problem_text(&p).get(Lang::Zh), p.to_string(), "{p:?}");
        }
    }

    #[test]
    fn the_default_range_is_the_last_full_calendar_year() {
        assert_eq!(default_range("2026-11-25".parse().unwrap()), ("202501".to_owned(), "202512".to_owned()));
        assert_eq!(default_range("2026-01-01".parse().unwrap()), ("202501".to_owned(), "202512".to_owned()));
        assert_eq!(compact_month("2025-03"), "202503");
    }

    fn month(m: &str, task: Option<&str>, counts: Option<u64>, gap: Option<&str>) -> MonthCoverage {
        MonthCoverage {
            month: m.into(),
            task: task.map(|t| TaskNumber(t.into())),
            counts: counts.map(|n| Counts { queried: n, hit: n, reconciled: n }),
            gap: gap.map(str::to_owned),
        }
    }

    #[test]
    fn the_verification_table_lists_counts_tasks_and_gaps() {
        let coverage = Coverage {
            months: vec![
                month("2025-01", Some("20260101100000001"), Some(12), None),
                month("2025-02", None, None, Some("最近的协同任务 20260102100000001 执行异常：核销数 3 少于查询数 5")),
                month("2025-03", None, None, None),
            ],
        };
        let rows = coverage_rows(&coverage, Lang::Zh);
        assert_eq!(
            rows[0],
            CoverageRow {
                month: "2025-01".into(),
                counts: ["12".into(), "12".into(), "12".into()],
                task: "20260101100000001".into(),
                covered: true,
                result: "完整".into()
            }
        );
        assert_eq!(
            (rows[1].covered, rows[1].result.as_str(), rows[1].task.as_str()),
            (false, "最近的协同任务 20260102100000001 执行异常：核销数 3 少于查询数 5", "--")
        );
        assert_eq!(rows[1].counts, ["-", "-", "-"]);
        assert_eq!(rows[2].result, "未协同");
        assert_eq!(coverage_rows(&coverage, Lang::En)[2].result, "Not synced");
    }

    #[test]
    fn gaps_offer_the_smallest_sync_that_covers_them() {
        let today: Date = "2026-11-25".parse().unwrap();
        let covered = |m: &str| month(m, Some("20260101100000001"), Some(1), None);
        let gap = |m: &str| month(m, None, None, None);
        let full = Coverage { months: vec![covered("2025-01"), covered("2025-02")] };
        assert_eq!(sync_offer(&full, today), None, "nothing to sync");

        let one = Coverage { months: vec![covered("2025-11"), gap("2025-12")] };
        let offer = sync_offer(&one, today).unwrap();
        assert_eq!(offer.months, ["2025-12"]);
        assert_eq!(offer.href, "#/sync?from=2025-12-01&to=2025-12-31&for=report");

        let spread = Coverage { months: vec![gap("2024-02"), covered("2024-03"), gap("2024-06")] };
        let offer = sync_offer(&spread, today).unwrap();
        assert_eq!(
            (offer.range.first.to_string(), offer.range.last.to_string()),
            ("2024-02-01".into(), "2024-06-30".into()),
            "29 February of a leap year included"
        );
        assert_eq!(offer.months, ["2024-02", "2024-06"]);

        // This month: up to today; a month not started yet: nothing to offer.
        let now = Coverage { months: vec![gap("2026-10"), gap("2026-11")] };
        assert_eq!(sync_offer(&now, today).unwrap().href, "#/sync?from=2026-10-01&to=2026-11-25&for=report");
        assert_eq!(sync_offer(&Coverage { months: vec![gap("2026-12")] }, today), None);
    }

    #[test]
    fn the_sync_page_reads_the_link_back() {
        let (range, for_report) = parse_sync_link("#/sync?from=2025-12-01&to=2025-12-31&for=report").unwrap();
        assert_eq!((range.first.to_string(), range.last.to_string(), for_report), ("2025-12-01".into(), "2025-12-31".into(), true));
        assert_eq!(parse_sync_link("from=2025-01-01&to=2025-01-31").map(|(_, f)| f), Some(false));
        assert_eq!(parse_sync_link("#/sync"), None);
        assert_eq!(parse_sync_link("#/sync?from=2025-12-31&to=2025-12-01"), None, "reversed");
        assert_eq!(parse_sync_link("#/sync?from=2025-13-01&to=2025-12-31"), None);
        let today: Date = "2026-11-25".parse().unwrap();
        let offer = sync_offer(&Coverage { months: vec![month("2025-07", None, None, None)] }, today).unwrap();
        assert_eq!(parse_sync_link(&offer.href), Some((offer.range, true)), "round trip");
    }

    #[test]
    fn amounts_are_exact_rounded_half_up_and_grouped() {
        assert_eq!(amount("12345678.9"), "12,345,678.90");
        assert_eq!(amount("0"), "0.00");
        assert_eq!(amount("999.995"), "1,000.00", "half up");
        assert_eq!(amount("100.004"), "100.00");
        assert_eq!(amount("-1234.5"), "-1,234.50");
        assert_eq!(amount("123"), "123.00");
        assert_eq!(amount("0.1"), "0.10");
        assert_eq!(amount("n/a"), "n/a", "shown as it came");
        assert_eq!(amount("1e5"), "1e5");
        // Exact: a float would print 0.30000000000000004.
        assert_eq!(grouped(decimal("0.1").unwrap() + decimal("0.2").unwrap(), 17), "0.30000000000000000");
    }

    fn figures(m: &str, import: &str, export: &str, by: &[(&str, &str, &str, &str)]) -> MonthFigures {
        MonthFigures {
            month: m.into(),
            import_declarations: 2,
            export_declarations: 3,
            import_rmb: import.into(),
            export_rmb: export.into(),
            import_usd: "1.5".into(),
            export_usd: "2".into(),
            by_currency: by
                .iter()
                .map(|(c, n, i, e)| CurrencyFigures { currency: (*c).into(), name: (*n).into(), import: (*i).into(), export: (*e).into() })
                .collect(),
        }
    }

    #[test]
    fn the_summary_and_the_currency_totals() {
        let months = [
            figures("2025-01", "1000", "2500000.5", &[("USD", "美元", "100.10", "200"), ("CNY", "人民币", "0", "50")]),
            figures("2025-02", "0", "10", &[("USD", "美元", "0.20", "0.30"), ("EUR", "欧元", "7", "0")]),
        ];
        let rows = summary_rows(&months);
        assert_eq!(rows[0].export_rmb, "2,500,000.50");
        assert_eq!(rows[1].import_usd, "1.50");
        assert_eq!((rows[0].import_declarations.as_str(), rows[0].export_declarations.as_str()), ("2", "3"));
        let currencies = currency_rows(&months);
        let shown: Vec<(&str, &str, &str, &str)> =
            currencies.iter().map(|c| (c.currency.as_str(), c.name.as_str(), c.import.as_str(), c.export.as_str())).collect();
        assert_eq!(shown, [("CNY", "人民币", "0.00", "50.00"), ("EUR", "欧元", "7.00", "0.00"), ("USD", "美元", "100.30", "200.30")]);
    }

    #[test]
    fn axis_ticks_are_round_and_reach_the_top() {
        let d = |s: &str| decimal(s).unwrap();
        let ticks = |s: &str| axis_ticks(d(s)).iter().map(|t| t.normalize().to_string()).collect::<Vec<_>>();
        assert_eq!(ticks("0"), ["0", "1"]);
        assert_eq!(ticks("9"), ["0", "2", "4", "6", "8", "10"]);
        assert_eq!(ticks("12345678.9"), ["0", "5000000", "10000000", "15000000"]);
        assert_eq!(ticks("100000000"), ["0", "20000000", "40000000", "60000000", "80000000", "100000000"]);
        assert_eq!(ticks("350000000"), ["0", "100000000", "200000000", "300000000", "400000000"]);
        for max in ["1", "7", "99.99", "1000", "4321", "987654321.5", "1000000000000"] {
            let t = axis_ticks(d(max));
            assert!(*t.last().unwrap() >= d(max) && t.len() <= 7 && t.len() >= 2, "{max}: {t:?}");
        }
        assert_eq!(tick_label(d("5000000"), Lang::Zh), "500万");
        assert_eq!(tick_label(d("150000000"), Lang::Zh), "1.5亿");
        assert_eq!(tick_label(d("10000000000"), Lang::Zh), "100亿");
        assert_eq!(tick_label(d("20000000"), Lang::Zh), "2,000万");
        assert_eq!(tick_label(d("2000"), Lang::Zh), "2,000");
        assert_eq!(tick_label(d("0"), Lang::Zh), "0");
        assert_eq!(tick_label(d("5000000"), Lang::En), "5M");
        assert_eq!(tick_label(d("2500"), Lang::En), "2.5K");
    }

    #[test]
    fn the_chart_has_a_bar_per_month_and_direction_scaled_to_the_axis() {
        let months: Vec<MonthFigures> = (1..=12).map(|m| figures(&format!("2025-{m:02}"), &format!("{}", m * 1_000_000), "500000", &[])).collect();
        let svg = chart(&months, Lang::Zh);
        assert_eq!(svg.name, "svg");
        assert_eq!(svg.get("xmlns"), Some(SVG_NS));
        let nodes = svg.walk();
        let bars: Vec<&&SvgNode> = nodes.iter().filter(|n| n.name == "rect" && n.get("data-direction").is_some()).collect();
        assert_eq!(bars.len(), 24, "12 months × import and export");
        for m in 1..=12 {
            let month = format!("2025-{m:02}");
            for direction in ["import", "export"] {
                assert_eq!(
                    bars.iter().filter(|b| b.get("data-month") == Some(month.as_str()) && b.get("data-direction") == Some(direction)).count(),
                    1,
                    "{month} {direction}"
                );
            }
        }
        // December's import (12,000,000) is the largest; the axis tops at 15,000,000.
        let height = |month: &str, direction: &str| -> Decimal {
            let b = bars.iter().find(|b| b.get("data-month") == Some(month) && b.get("data-direction") == Some(direction)).unwrap();
            decimal(b.get("height").unwrap()).unwrap()
        };
        assert_eq!(height("2025-12", "import"), Decimal::from(PLOT_HEIGHT) * Decimal::from(12) / Decimal::from(15));
        assert_eq!(height("2025-06", "import"), height("2025-12", "import") / Decimal::from(2));
        assert_eq!(PLOT_HEIGHT, 236);
        assert_eq!(height("2025-01", "export").to_string(), "7.9", "500,000 of 15,000,000 × 236, to a tenth");
        let first = bars.iter().find(|b| b.get("data-month") == Some("2025-12") && b.get("data-direction") == Some("import")).unwrap();
        assert_eq!(first.get("data-value"), Some("12000000"));
        assert_eq!(first.children[0].text.as_deref(), Some("2025-12 进口 人民币 12,000,000.00"));
        // Bars stand on the base line and stay inside the chart.
        for b in &bars {
            let y = decimal(b.get("y").unwrap()).unwrap();
            let h = decimal(b.get("height").unwrap()).unwrap();
            assert_eq!(y + h, Decimal::from(TOP + PLOT_HEIGHT));
            let x: u32 = b.get("x").unwrap().parse().unwrap();
            assert!(x >= LEFT && x + b.get("width").unwrap().parse::<u32>().unwrap() <= CHART_WIDTH - RIGHT);
        }
        let labels: Vec<&str> = nodes.iter().filter(|n| n.get("class") == Some("tick")).filter_map(|n| n.text.as_deref()).collect();
        assert_eq!(labels, ["0", "500万", "1,000万", "1,500万"]);
        let months_shown: Vec<&str> = nodes.iter().filter(|n| n.get("class") == Some("month")).filter_map(|n| n.text.as_deref()).collect();
        assert_eq!(months_shown.first().copied(), Some("1月"));
        assert_eq!(months_shown.len(), 12);
        assert_eq!(month_label("2025-12", Lang::En), "Dec");
        // Only SVG elements, never a script or a foreign object.
        assert!(nodes.iter().all(|n| ["svg", "title", "g", "line", "text", "rect"].contains(&n.name)));
    }

    #[test]
    fn an_empty_or_single_month_chart_still_draws() {
        let svg = chart(&[figures("2025-03", "0", "0", &[])], Lang::En);
        let nodes = svg.walk();
        let bars: Vec<_> = nodes.iter().filter(|n| n.get("data-direction").is_some()).collect();
        assert_eq!(bars.len(), 2);
        assert!(bars.iter().all(|b| b.get("height") == Some("0")));
        assert_eq!(chart(&[], Lang::Zh).walk().iter().filter(|n| n.get("data-direction").is_some()).count(), 0);
    }

    #[test]
    fn settings_are_checked_and_every_key_is_sent() {
        let good =
            SettingsInput {
                issuer: " 示例电子口岸有限公司 ".into(), seal_caption: "".into(), company: "".into(), credit_code: "91610000ma6tg0xx1k".into()
            };
        let settings = check_settings(&good).unwrap();
        assert_eq!(settings.values.len(), crate::report::setting::ALL.len());
        assert_eq!(settings.values["issuer"], "示例电子口岸有限公司");
        assert_eq!(settings.values["credit_code"], "91610000MA6TG0XX1K", "upper case");
        assert_eq!(settings.values["seal_caption"], "", "empty removes it");
        assert_eq!(settings_input(&settings).issuer, "示例电子口岸有限公司");
        assert_eq!(check_settings(&SettingsInput { credit_code: "12345".into(), ..SettingsInput::default() }), Err(T::ErrCreditCode));
        assert_eq!(
            check_settings(&SettingsInput { credit_code: "9161000OMA6TG0XX1K".into(), ..SettingsInput::default() }),
            Err(T::ErrCreditCode),
            "no letter O"
        );
        assert_eq!(check_settings(&SettingsInput { issuer: "长".repeat(61), ..SettingsInput::default() }), Err(T::ErrSettingTooLong));
        assert!(credit_code_well_formed("91610000MA6TG0XX1K"));
    }
}
