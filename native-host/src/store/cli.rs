//! The store's commands for people (never run by the browser):
//!
//! ```text
//! datalink-host export [--db PATH] [--format jsonl|csv] [--task NUMBER | --enterprise SCC] [--out FILE]
//! datalink-host db check [--db PATH]
//! datalink-host db bench [--declarations N] [--goods N] [--dir DIR]
//! ```
//!
//! `--db` defaults to the store the host uses ([`super::default_path`]). Output goes to stdout
//! unless `--out` names a file (created `0600` on Unix: it holds the company's declarations).
//! Exit codes: 0 done, 1 failed (the reason on stderr), 2 wrong usage.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use datalink_core::task::TaskNumber;

use super::export::{ExportError, Format};
use super::{bench, default_path, schema, Store, StoreError};

pub const USAGE: &str = "\
  datalink-host export [--db PATH] [--format jsonl|csv] [--task NUMBER | --enterprise SCC] [--out FILE]
                                export declarations (with goods lines), ordered by 统一编号
  datalink-host db check [--db PATH]
                                integrity check and schema version of the store (read-only)
";

/// `--name value` / `--name=value` options, in order; anything else is a usage error.
pub(crate) fn options(args: &[String], known: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        if !known.contains(&name) {
            return Err(format!("unknown option {arg:?}"));
        }
        let value = match inline {
            Some(value) => value,
            None => rest.next().cloned().ok_or_else(|| format!("{name} needs a value"))?,
        };
        out.push((name.to_owned(), value));
    }
    Ok(out)
}

pub(crate) fn last<'a>(options: &'a [(String, String)], name: &str) -> Option<&'a str> {
    options.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

pub(crate) fn stderr(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

fn usage_error(message: &str) -> ExitCode {
    stderr(&format!("{message}\n\nUsage:\n{USAGE}"));
    ExitCode::from(2)
}

/// The user-facing line for a store failure: the Chinese message, the code, the developer detail.
fn failure(error: &StoreError) -> ExitCode {
    let info = error.to_info();
    stderr(&format!("{}（错误码 {}）: {}\n", info.message, info.code, info.detail.unwrap_or_default()));
    ExitCode::FAILURE
}

pub(crate) fn database(options: &[(String, String)]) -> Result<PathBuf, StoreError> {
    match last(options, "--db") {
        Some(path) => Ok(PathBuf::from(path)),
        None => default_path(),
    }
}

/// An existing store (exporting must not create an empty one).
pub(crate) fn existing(path: &Path) -> Result<Store, StoreError> {
    if !path.is_file() {
        return Err(StoreError::Unavailable("no database file at the given path".into()));
    }
    Store::open(path)
}

pub(crate) fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// `datalink-host export …`
pub fn export(args: &[String]) -> ExitCode {
    let options = match options(args, &["--db", "--format", "--task", "--enterprise", "--out"]) {
        Ok(options) => options,
        Err(message) => return usage_error(&message),
    };
    let Some(format) = Format::parse(last(&options, "--format").unwrap_or("jsonl")) else {
        return usage_error("--format is jsonl or csv");
    };
    let task = last(&options, "--task").map(|t| TaskNumber(t.to_owned()));
    if task.as_ref().is_some_and(|t| !TaskNumber::is_valid(&t.0)) {
        return usage_error("--task is a 17-digit task number");
    }
    let enterprise = last(&options, "--enterprise");
    if enterprise.is_some() && task.is_some() {
        return usage_error("--enterprise and --task exclude each other (a task already has its enterprise)");
    }
    let store = match database(&options).and_then(|path| existing(&path)) {
        Ok(store) => store,
        Err(error) => return failure(&error),
    };
    let result = match last(&options, "--out") {
        Some(file) => match create_private(Path::new(file)) {
            Ok(file) => store.export_for(format, task.as_ref(), enterprise, &mut std::io::BufWriter::new(file)),
            Err(error) => Err(ExportError::Output(error)),
        },
        None => store.export_for(format, task.as_ref(), enterprise, &mut std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match result {
        Ok(done) => {
            stderr(&format!("exported {} declarations, {} goods lines\n", done.declarations, done.goods_lines));
            ExitCode::SUCCESS
        }
        Err(ExportError::Store(error)) => failure(&error),
        Err(ExportError::Output(error)) => {
            stderr(&format!("导出文件写入失败: {:?}\n", error.kind()));
            ExitCode::FAILURE
        }
    }
}

/// `datalink-host db check|bench …`
pub fn db(args: &[String]) -> ExitCode {
    match args.first().map(String::as_str) {
        Some("check") => check(&args[1..]),
        Some("bench") => run_bench(&args[1..]),
        _ => usage_error("db needs a command: check"),
    }
}

fn check(args: &[String]) -> ExitCode {
    let options = match options(args, &["--db"]) {
        Ok(options) => options,
        Err(message) => return usage_error(&message),
    };
    let checked = match database(&options).and_then(|path| schema::check(&path)) {
        Ok(checked) => checked,
        Err(error) => return failure(&error),
    };
    let mut report = format!("user_version: {} (this host writes {})\n", checked.user_version, schema::VERSION);
    report.push_str(&format!("datalink_database: {}\n", if checked.ours { "yes" } else { "no" }));
    for line in &checked.integrity {
        report.push_str(&format!("integrity_check: {line}\n"));
    }
    let mut out = std::io::stdout().lock();
    if out.write_all(report.as_bytes()).and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    if checked.healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Hidden: `db bench` (BENCHMARKS.md says how it is run).
fn run_bench(args: &[String]) -> ExitCode {
    let options = match options(args, &["--declarations", "--goods", "--dir"]) {
        Ok(options) => options,
        Err(message) => return usage_error(&message),
    };
    let number = |name: &str, default: usize| {
        last(&options, name).map_or(Ok(default), |v| v.parse::<usize>().map_err(|_| format!("{name} is a number")))
    };
    let (declarations, goods) = match (number("--declarations", 10_000), number("--goods", 3)) {
        (Ok(d), Ok(g)) if (1..=1_000_000).contains(&d) && (1..=100).contains(&g) => (d, g),
        _ => return usage_error("--declarations is 1–1000000, --goods 1–100"),
    };
    let parent = last(&options, "--dir").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = parent.join(format!("datalink-bench-{}", std::process::id()));
    if let Err(error) = std::fs::create_dir_all(&dir) {
        return failure(&error.into());
    }
    let outcome = bench::run(&dir, declarations, goods);
    let _ = std::fs::remove_dir_all(&dir);
    match outcome {
        Ok(report) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(report.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            }
        }
        Err(error) => failure(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options_take_both_spellings_and_refuse_strangers() {
        let parsed = options(&args(&["--db", "/tmp/a.db", "--format=csv"]), &["--db", "--format"]).unwrap();
        assert_eq!(parsed, [("--db".to_owned(), "/tmp/a.db".to_owned()), ("--format".to_owned(), "csv".to_owned())]);
        assert!(options(&args(&["--drop"]), &["--db"]).is_err());
        assert!(options(&args(&["--db"]), &["--db"]).is_err());
    }
}
