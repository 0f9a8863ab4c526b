//! The report commands for people (never run by the browser):
//!
//! ```text
//! datalink-host report coverage    --from YYYYMM --to YYYYMM [--enterprise SCC] [--db PATH] [--json]
//! datalink-host report trade-value --from YYYYMM --to YYYYMM [--enterprise SCC] [--db PATH] [--json]
//! datalink-host certificate --from YYYYMM --to YYYYMM --project 申请项目 --department 申报部门
//!                           [--out FILE.pdf] [--date YYYY-MM-DD] [--db PATH]
//! datalink-host verify-certificate FILE.pdf [--db PATH]
//! datalink-host rates import FILE.csv [--db PATH]
//! datalink-host rates export customs|safe|holidays
//! datalink-host settings [KEY=VALUE …] [--db PATH]
//! ```
//!
//! Exit codes: 0 done (for `verify-certificate`: the PDF matches the data), 1 failed or does not
//! match (the reason on stderr), 2 wrong usage.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use datalink_core::report::{ReportForm, ReportRange, Settings};

use super::{data, make, verify, ReportError};
use crate::store::cli::{create_private, database, existing, last, options, stderr};
use crate::store::Store;

pub const USAGE: &str = "\
  datalink-host report coverage|trade-value --from YYYYMM --to YYYYMM [--enterprise SCC] [--db PATH] [--json]
                                which months a reconciled sync covers / the certificate's figures
  datalink-host report bench [--declarations 100,1000,10000] [--goods 3]
                                time the figures and the certificate as declarations grow
  datalink-host certificate --from YYYYMM --to YYYYMM --project 申请项目 --department 申报部门
                            [--enterprise SCC] [--out FILE.pdf] [--date YYYY-MM-DD] [--db PATH]
                                make the 进出口贸易额证明 PDF (recorded in the store)
  datalink-host verify-certificate FILE.pdf [--db PATH]
                                does the PDF still match the local data? (exit 0 yes, 1 no)
  datalink-host rates import FILE.csv [--db PATH]
                                import a customs / SAFE rate table or a holiday calendar (CSV)
  datalink-host rates export customs|safe|holidays
                                print the shipped table (a template for an import)
  datalink-host settings [issuer=… seal_caption=… company=… credit_code=…] [--db PATH]
                                show or change the certificate's settings
";

fn usage_error(message: &str) -> ExitCode {
    stderr(&format!("{message}\n\nUsage:\n{USAGE}"));
    ExitCode::from(2)
}

fn failure(error: &ReportError) -> ExitCode {
    let info = error.to_info();
    stderr(&format!("{}（错误码 {}）: {}\n", info.message, info.code, info.detail.unwrap_or_default()));
    ExitCode::FAILURE
}

fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

fn json<T: serde::Serialize>(value: &T) -> ExitCode {
    match serde_json::to_string_pretty(value) {
        Ok(text) => print(&format!("{text}\n")),
        Err(_) => ExitCode::FAILURE,
    }
}

/// The store at `--db` (or the default), which must exist: reports never create an empty one.
fn open(options: &[(String, String)]) -> Result<Store, ReportError> {
    Ok(existing(&database(options)?)?)
}

/// The store at `--db` (or the default), created if needed: imports and settings may come first.
fn open_or_create(options: &[(String, String)]) -> Result<Store, ReportError> {
    Ok(Store::open(&database(options)?)?)
}

fn range(options: &[(String, String)]) -> Result<ReportRange, ExitCode> {
    let (Some(from), Some(to)) = (last(options, "--from"), last(options, "--to")) else {
        return Err(usage_error("--from and --to are required"));
    };
    // `report coverage` may span years (it is a table); the figures may not: checked later.
    let parse = |m: &str| datalink_core::report::parse_month(m).map(|(y, m)| format!("{y:04}-{m:02}"));
    match (parse(from), parse(to)) {
        (Some(from), Some(to)) => Ok(ReportRange { from, to, enterprise: last(options, "--enterprise").map(str::to_owned) }),
        _ => Err(usage_error("--from / --to: YYYYMM, e.g. 202501")),
    }
}

/// `datalink-host report …`
pub fn report(args: &[String]) -> ExitCode {
    let Some((what, rest)) = args.split_first() else { return usage_error("report: coverage or trade-value?") };
    if what == "bench" {
        return bench(rest);
    }
    let (flags, rest): (Vec<String>, Vec<String>) = rest.iter().cloned().partition(|a| a == "--json");
    let as_json = !flags.is_empty();
    let options = match options(&rest, &["--from", "--to", "--enterprise", "--db"]) {
        Ok(o) => o,
        Err(e) => return usage_error(&e),
    };
    let range = match range(&options) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let store = match open(&options) {
        Ok(s) => s,
        Err(e) => return failure(&e),
    };
    match what.as_str() {
        "coverage" => match super::coverage(&store, &range) {
            Ok(coverage) if as_json => json(&coverage),
            Ok(coverage) => {
                let mut text = String::from("月份      查询数  命中数  核销数  任务编号\n");
                for m in &coverage.months {
                    match (&m.task, &m.counts) {
                        (Some(task), Some(c)) => {
                            text += &format!("{}  {:>6}  {:>6}  {:>6}  {}\n", m.month, c.queried, c.hit, c.reconciled, task.0)
                        }
                        _ => text += &format!("{}  未覆盖：{}\n", m.month, m.gap.as_deref().unwrap_or("")),
                    }
                }
                print(&text)
            }
            Err(e) => failure(&e),
        },
        "trade-value" => {
            let form = ReportForm { range, project: "-".into(), department: "-".into() };
            match make::trade_value_on(&store, &form, make::china_today()) {
                Ok(report) if as_json => json(&report),
                Ok(report) => {
                    let mut text = format!(
                        "{}（{}） {}\n报关单 {} 票；进口 人民币 {} 元（美元 {}）；出口 人民币 {} 元（美元 {}）\n\n",
                        report.company,
                        report.credit_code,
                        report.range.compact(),
                        report.declarations,
                        report.import_rmb,
                        report.import_usd,
                        report.export_rmb,
                        report.export_usd
                    );
                    for paragraph in &report.certificate.body {
                        text += paragraph;
                        text.push('\n');
                    }
                    for warning in &report.warnings {
                        text += &format!("注意：{warning}\n");
                    }
                    print(&text)
                }
                Err(e) => failure(&e),
            }
        }
        other => usage_error(&format!("unknown report {other:?}")),
    }
}

/// `datalink-host certificate …`
pub fn certificate(args: &[String]) -> ExitCode {
    let options = match options(args, &["--from", "--to", "--enterprise", "--project", "--department", "--out", "--date", "--db"]) {
        Ok(o) => o,
        Err(e) => return usage_error(&e),
    };
    let range = match range(&options) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let (Some(project), Some(department)) = (last(&options, "--project"), last(&options, "--department")) else {
        return usage_error("--project and --department are required");
    };
    let today = match last(&options, "--date") {
        Some(d) => match d.parse() {
            Ok(d) => d,
            Err(_) => return usage_error("--date: YYYY-MM-DD"),
        },
        None => make::china_today(),
    };
    let mut store = match open(&options) {
        Ok(s) => s,
        Err(e) => return failure(&e),
    };
    let form = ReportForm { range, project: project.to_owned(), department: department.to_owned() };
    let prepared = match make::prepare(&store, &form, today, None) {
        Ok(p) => p,
        Err(e) => return failure(&e),
    };
    let (made, pdf) = match make::issue(&mut store, prepared, None) {
        Ok(m) => m,
        Err(e) => return failure(&e),
    };
    let out = last(&options, "--out").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(&made.file_name));
    let written = create_private(&out).and_then(|mut f| f.write_all(&pdf).and_then(|()| f.sync_all()));
    if written.is_err() {
        stderr("无法写入 PDF 文件，请检查 --out 指定的位置\n");
        return ExitCode::FAILURE;
    }
    for warning in &made.warnings {
        stderr(&format!("注意：{warning}\n"));
    }
    print(&format!("{}  {} bytes  核验码 {}  → {}\n", made.number, made.bytes, made.verification_code, out.display()))
}

/// `datalink-host verify-certificate FILE.pdf [--db PATH]`
pub fn verify_certificate(args: &[String]) -> ExitCode {
    let Some((file, rest)) = args.split_first() else { return usage_error("verify-certificate: which PDF?") };
    let options = match options(rest, &["--db"]) {
        Ok(o) => o,
        Err(e) => return usage_error(&e),
    };
    let Ok(pdf) = std::fs::read(file) else {
        stderr("无法读取该 PDF 文件\n");
        return ExitCode::FAILURE;
    };
    let store = match open(&options) {
        Ok(s) => s,
        Err(e) => return failure(&e),
    };
    match verify::verify(&store, &pdf) {
        Ok(verdict) => {
            let line = format!("{}\n", verdict.message());
            if verdict.matches() {
                print(&line)
            } else {
                stderr(&line);
                ExitCode::FAILURE
            }
        }
        Err(e) => failure(&e),
    }
}

/// `datalink-host rates import FILE.csv` / `rates export customs|safe|holidays`
pub fn rates(args: &[String]) -> ExitCode {
    match args.split_first() {
        Some((cmd, rest)) if cmd == "import" => {
            let Some((file, rest)) = rest.split_first() else { return usage_error("rates import: which file?") };
            let options = match options(rest, &["--db"]) {
                Ok(o) => o,
                Err(e) => return usage_error(&e),
            };
            let Ok(text) = std::fs::read_to_string(file) else {
                stderr("无法读取该文件（应为 UTF-8 编码的 CSV）\n");
                return ExitCode::FAILURE;
            };
            let mut store = match open_or_create(&options) {
                Ok(s) => s,
                Err(e) => return failure(&e),
            };
            match data::import(&mut store, &text, &make::china_now()) {
                Ok((kind, rows)) => print(&format!("已导入{}：{rows} 行\n", kind.label())),
                Err(e) => failure(&e),
            }
        }
        Some((cmd, rest)) if cmd == "export" => {
            use datalink_core::rates::{to_csv, RateBook, RateTable};
            let text = match rest.first().map(String::as_str) {
                Some("customs") => to_csv(&RateBook::shipped(), RateTable::Customs),
                Some("safe") => to_csv(&RateBook::shipped(), RateTable::Safe),
                Some("holidays") => datalink_core::holidays::HolidayCalendar::shipped().to_csv(),
                _ => return usage_error("rates export: customs, safe or holidays"),
            };
            print(&text)
        }
        _ => usage_error("rates: import or export?"),
    }
}

/// `datalink-host settings [KEY=VALUE …]`
pub fn settings(args: &[String]) -> ExitCode {
    let (pairs, rest): (Vec<String>, Vec<String>) = args.iter().cloned().partition(|a| !a.starts_with("--") && a.contains('='));
    let options = match options(&rest, &["--db"]) {
        Ok(o) => o,
        Err(e) => return usage_error(&e),
    };
    let mut store = match open_or_create(&options) {
        Ok(s) => s,
        Err(e) => return failure(&e),
    };
    let result = if pairs.is_empty() {
        super::settings(&store)
    } else {
        let values = pairs.iter().filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        super::set_settings(&mut store, &Settings { values })
    };
    match result {
        Ok(settings) => {
            let text: String = settings.values.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
            print(&text)
        }
        Err(e) => failure(&e),
    }
}

/// `datalink-host report bench [--declarations N,N,…] [--goods N]`
fn bench(args: &[String]) -> ExitCode {
    let options = match options(args, &["--declarations", "--goods"]) {
        Ok(o) => o,
        Err(e) => return usage_error(&e),
    };
    let sizes: Option<Vec<usize>> =
        last(&options, "--declarations").unwrap_or("100,1000,10000").split(',').map(|n| n.trim().parse().ok()).collect();
    let goods = last(&options, "--goods").unwrap_or("3").parse().ok();
    let (Some(sizes), Some(goods)) = (sizes, goods) else { return usage_error("--declarations N,N,… and --goods N are numbers") };
    match super::bench::run(&sizes, goods) {
        Ok(table) => print(&table),
        Err(e) => failure(&e),
    }
}
