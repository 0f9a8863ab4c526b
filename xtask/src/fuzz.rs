//! `cargo xtask fuzz [--secs N] [--no-sanitizer] [TARGET…]`: coverage-guided fuzzing of the
//! framing, the request decoding, the portal parsers and the planner (see `fuzz/`).
//!
//! For each target (all of [`TARGETS`] by default) it runs libFuzzer through cargo-fuzz for
//! `--secs` seconds (default 60), starting from the committed seeds in `fuzz/corpus/<target>/`
//! and the found cases in `fuzz/regressions/<target>/`; what libFuzzer adds goes to
//! `fuzz/target/corpus/<target>/` (not committed). Then it prints, per target, the executions,
//! executions per second, corpus size and coverage (libFuzzer's `cov:` edges and `ft:`
//! features), copies every new crash (`fuzz/artifacts/<target>/crash-…`, `oom-…`, `timeout-…`)
//! into `fuzz/regressions/<target>/` — where `cargo test` replays it through the same invariant
//! — and fails if there was one.
//!
//! cargo-fuzz is installed at [`CARGO_FUZZ_VERSION`] when missing. It needs nightly compiler
//! flags; on the stable toolchain they are unlocked with `RUSTC_BOOTSTRAP=1`. AddressSanitizer
//! is on (its runtime ships with the toolchain); `--no-sanitizer` turns it off (`-s none`) for
//! a toolchain without it. Output of each run is in `fuzz/target/logs/<target>.log`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{cargo, root, run, step, Result};

/// The fuzz targets, in the order they run (`fuzz/fuzz_targets/<name>.rs`).
pub const TARGETS: &[&str] = &["framing", "request", "portal_list", "portal_detail", "portal_answer", "documents", "planner"];
/// The cargo-fuzz release installed when none is found.
pub const CARGO_FUZZ_VERSION: &str = "0.13.1";

/// What one run showed.
#[derive(Debug, Default)]
struct Outcome {
    secs: f64,
    execs: u64,
    execs_per_sec: u64,
    corpus: usize,
    cov: u64,
    ft: u64,
    crashes: Vec<PathBuf>,
}

pub fn command(args: &[String]) -> Result<()> {
    let mut secs: u64 = 60;
    let mut sanitizer = true;
    let mut targets = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--secs" => {
                let value = args.get(i + 1).ok_or("--secs needs a value")?;
                secs = value.parse().map_err(|_| format!("--secs {value:?} is not a number of seconds"))?;
                i += 2;
                continue;
            }
            "--no-sanitizer" => sanitizer = false,
            name if TARGETS.contains(&name) => targets.push(name.to_owned()),
            other => return Err(format!("unknown fuzz target or option {other:?} (targets: {})", TARGETS.join(", "))),
        }
        i += 1;
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    ensure_cargo_fuzz()?;
    let fuzz = root().join("fuzz");

    step("building the fuzz targets (cargo fuzz build)");
    run(cargo_fuzz("build", sanitizer).current_dir(root()))?;

    let mut outcomes = Vec::new();
    for target in &targets {
        step(&format!("fuzzing {target} for {secs} s"));
        let outcome = fuzz_one(&fuzz, target, secs, sanitizer)?;
        println!(
            "{target}: {} execs in {:.0} s ({} /s), corpus {} entries, cov {} ft {}, {} crash(es)",
            outcome.execs,
            outcome.secs,
            outcome.execs_per_sec,
            outcome.corpus,
            outcome.cov,
            outcome.ft,
            outcome.crashes.len()
        );
        outcomes.push((target.clone(), outcome));
    }

    println!("\n| target | seconds | execs | execs/s | corpus | cov | ft | crashes |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for (target, o) in &outcomes {
        let crashes: Vec<String> = o.crashes.iter().map(|p| p.display().to_string()).collect();
        let crashes = if crashes.is_empty() { "0".to_owned() } else { crashes.join(", ") };
        println!("| {target} | {:.0} | {} | {} | {} | {} | {} | {crashes} |", o.secs, o.execs, o.execs_per_sec, o.corpus, o.cov, o.ft);
    }
    let found: usize = outcomes.iter().map(|(_, o)| o.crashes.len()).sum();
    if found > 0 {
        return Err(format!(
            "{found} failing input(s) copied to fuzz/regressions/; replay with `cargo test -p datalink-core --lib fuzzing` \
             (framing: `cargo test -p datalink-host --lib fuzzing`), fix, and commit them"
        ));
    }
    Ok(())
}

/// `cargo fuzz SUBCOMMAND` with the nightly flags unlocked on stable.
fn cargo_fuzz(subcommand: &str, sanitizer: bool) -> Command {
    let mut command = cargo();
    command.args(["fuzz", subcommand]).env("RUSTC_BOOTSTRAP", "1");
    if !sanitizer {
        command.args(["-s", "none"]);
    }
    command
}

fn ensure_cargo_fuzz() -> Result<()> {
    let installed = cargo().args(["fuzz", "--version"]).stderr(Stdio::null()).output().ok().filter(|o| o.status.success());
    match installed {
        Some(out) => {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            println!("{version} is installed");
            Ok(())
        }
        None => {
            step(&format!("installing cargo-fuzz {CARGO_FUZZ_VERSION}"));
            run(cargo().args(["install", "cargo-fuzz", "--locked", "--version", &format!("={CARGO_FUZZ_VERSION}")]))
        }
    }
}

fn files_in(dir: &Path) -> BTreeSet<PathBuf> {
    fs::read_dir(dir).map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect()).unwrap_or_default()
}

fn fuzz_one(fuzz: &Path, target: &str, secs: u64, sanitizer: bool) -> Result<Outcome> {
    let work = fuzz.join("target/corpus").join(target);
    let seeds = fuzz.join("corpus").join(target);
    let regressions = fuzz.join("regressions").join(target);
    let artifacts = fuzz.join("artifacts").join(target);
    let logs = fuzz.join("target/logs");
    for dir in [&work, &regressions, &artifacts, &logs] {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let before = files_in(&artifacts);
    let log_path = logs.join(format!("{target}.log"));
    let log = fs::File::create(&log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let mut command = cargo_fuzz("run", sanitizer);
    command
        .current_dir(root())
        .arg(target)
        .args([&work, &seeds, &regressions])
        .arg("--")
        .arg(format!("-max_total_time={secs}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .args(["-print_final_stats=1", "-timeout=10", "-rss_limit_mb=2048", "-malloc_limit_mb=512"])
        .stdout(Stdio::null())
        .stderr(log);
    println!("$ RUSTC_BOOTSTRAP=1 cargo fuzz run {target} … -- -max_total_time={secs}   (log: {})", log_path.display());
    let started = Instant::now();
    let status = command.status().map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    let text = fs::read_to_string(&log_path).unwrap_or_default();

    let mut outcome = parse_log(&text);
    if outcome.secs <= 0.0 {
        outcome.secs = elapsed; // cut short (a crash): the wall time, build included
    }
    if outcome.corpus == 0 {
        outcome.corpus = files_in(&work).len();
    }
    for found in files_in(&artifacts).difference(&before) {
        let name = found.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if ["crash-", "oom-", "timeout-", "leak-", "slow-unit-"].iter().any(|p| name.starts_with(p)) {
            let to = regressions.join(&name);
            fs::copy(found, &to).map_err(|e| format!("cannot copy {} to {}: {e}", found.display(), to.display()))?;
            outcome.crashes.push(to);
        }
    }
    if !status.success() && outcome.crashes.is_empty() {
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!("cargo fuzz run {target} failed ({status}) without a crash file:\n{}", tail.join("\n")));
    }
    Ok(outcome)
}

/// libFuzzer's last status line (`#N DONE cov: C ft: F corp: …`) and its final stats.
fn parse_log(text: &str) -> Outcome {
    let field = |line: &str, name: &str| -> Option<u64> {
        let mut words = line.split_whitespace();
        words.by_ref().find(|w| *w == name)?;
        words.next()?.trim_end_matches(|c: char| !c.is_ascii_digit()).parse().ok()
    };
    let stat = |name: &str| -> Option<u64> {
        text.lines().rev().find_map(|l| l.strip_prefix(&format!("stat::{name}:")).and_then(|v| v.trim().parse().ok()))
    };
    let last = text.lines().rev().find(|l| l.starts_with('#') && l.contains("cov:")).unwrap_or_default();
    // `Done 1200000 runs in 61 second(s)`: the fuzzing time, without the build.
    let secs = text.lines().rev().find_map(|l| l.strip_prefix("Done ")?.split(" in ").nth(1)?.split_whitespace().next()?.parse().ok());
    Outcome {
        secs: secs.unwrap_or(0.0),
        // `corp: 151/10Kb`: the units in the corpus now (the folder keeps files libFuzzer replaced).
        corpus: last.split_whitespace().skip_while(|w| *w != "corp:").nth(1).and_then(|c| c.split('/').next()?.parse().ok()).unwrap_or(0),
        execs: stat("number_of_executed_units")
            .or_else(|| last.trim_start_matches('#').split_whitespace().next()?.parse().ok())
            .unwrap_or(0),
        execs_per_sec: stat("average_exec_per_sec").or_else(|| field(last, "exec/s:")).unwrap_or(0),
        cov: field(last, "cov:").unwrap_or(0),
        ft: field(last, "ft:").unwrap_or(0),
        ..Outcome::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_stats() {
        let log = "INFO: Seed: 1\n#2\tINITED cov: 10 ft: 11 corp: 3/100b exec/s: 0 rss: 40Mb\n\
                   #65536\tpulse  cov: 812 ft: 2301 corp: 140/9Kb lim: 200 exec/s: 21845 rss: 60Mb\n\
                   #1200000\tDONE   cov: 845 ft: 2410 corp: 151/10Kb lim: 4096 exec/s: 19672 rss: 61Mb\n\
                   Done 1200000 runs in 61 second(s)\nstat::number_of_executed_units: 1200000\n\
                   stat::average_exec_per_sec:     19672\nstat::new_units_added:          148\n";
        let o = parse_log(log);
        assert_eq!((o.execs, o.execs_per_sec, o.cov, o.ft, o.secs, o.corpus), (1_200_000, 19_672, 845, 2410, 61.0, 151));
        let cut = parse_log("#4096\tpulse  cov: 7 ft: 9 corp: 2/4b exec/s: 2048 rss: 30Mb\n");
        assert_eq!((cut.execs, cut.execs_per_sec, cut.cov, cut.ft, cut.secs), (4096, 2048, 7, 9, 0.0));
    }
}
