//! `cargo xtask` — DataLink's build automation (see README.md).
//!
//! | command | what it does |
//! |---|---|
//! | `deps` | installs what is missing: Debian packages (Chromium; the wasm toolchain when rustup has no wasm32 target), `wasm-bindgen-cli` at the Cargo.lock version |
//! | `build` | the loadable extension folder and its zip, the host, the host manifests, in `target/dist` |
//! | `dist` | `build` with a release host, plus the store zip, the signed CRX3 and `update.xml`, the Windows host (`--windows`), the install scripts |
//! | `test` | `deps`, a build in `target/dist-test`, clippy, the Windows host cross-built and tested under wine, then every test including the real-browser ones |
//! | `demo` | `deps`, `build`, then the main job in headless Chromium, printed |
//!
//! Every step says what it runs. Installing is idempotent: what is there is not installed again.

mod bench;
mod bench_host;
mod crx;
mod demo;
mod deps;
mod dist;
mod fuzz;
mod wasm;
mod windows;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

pub type Result<T> = std::result::Result<T, String>;

const USAGE: &str = "cargo xtask <command> [options]

Commands:
  deps                       install what is missing (apt packages, wasm-bindgen-cli)
  build [--debug-host] [--dev-origin http://127.0.0.1:PORT] [--out DIR]
                             extension folder + zip + host + host manifests (default target/dist)
  dist [--windows] [--key FILE] [--update-url URL] [--out DIR]
                             what users get (default target/dist): build with a release host, the
                             store zip, a CRX3 signed with FILE (else a development key in
                             target/dist-keys/) and update.xml for the files served at URL, the
                             Windows host (--windows: cross-built with mingw-w64), install scripts
  test                       install, build, clippy, and run every test (the CI command)
  demo [--headed] [--declarations N] [--seed N] [--max-span-days N] [--latency-ms N]
       [--faults SPEC] [--portal URL] [--pin PIN] [--out DIR]
                             install, build, and run the main job: a 3-year sync in Chromium
                             against portal-sim (or --portal), printing the per-month reconciliation
  bench sync [--sizes 100,1000,10000] [--sequential-sizes 100,1000] [--latency-ms 50]
                             the sync benchmark (see BENCHMARKS.md)
  bench host [--count 20000] [--writes 200] [--host PATH]
                             the host's round-trip latency and throughput over pipes, against `cat`
  fuzz [--secs N] [--no-sanitizer] [TARGET…]
                             cargo-fuzz (installed if missing) on each target for N s (default
                             60): framing, request, portal_list, portal_detail, portal_answer,
                             documents, planner; new crashes go to fuzz/regressions/ (fails)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let result = match args.first().map(String::as_str) {
        Some("deps") => deps::ensure(deps::Needs { browser: true }).map(|_| ()),
        Some("build") => build_command(&args[1..]),
        Some("dist") => dist_command(&args[1..]),
        Some("test") => test_command(),
        Some("demo") => demo_command(&args[1..]),
        Some("bench") => bench_command(&args[1..]),
        Some("fuzz") => fuzz::command(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => {
            println!("xtask: done in {:.1}s", started.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// The cargo that runs us.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Prints a step header.
pub fn step(message: &str) {
    println!("\n==> {message}");
}

/// Runs a command, echoing it; fails on a non-zero exit.
pub fn run(command: &mut Command) -> Result<()> {
    println!("$ {}", shown(command));
    let status = command.status().map_err(|e| format!("cannot run {}: {e}", shown(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", shown(command)))
    }
}

fn shown(command: &Command) -> String {
    let envs: Vec<String> = command
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), v?.to_string_lossy())))
        .filter(|kv| !kv.starts_with("DATALINK_") || kv.len() < 200)
        .collect();
    let args: Vec<String> = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut parts = envs;
    parts.push(command.get_program().to_string_lossy().into_owned());
    parts.extend(args);
    parts.join(" ")
}

fn flag_value(args: &[String], name: &str) -> Result<Option<String>> {
    match args.iter().position(|a| a == name) {
        Some(i) => args.get(i + 1).cloned().map(Some).ok_or_else(|| format!("{name} needs a value")),
        None => Ok(None),
    }
}

fn check_flags(args: &[String], known_switches: &[&str], known_values: &[&str]) -> Result<()> {
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if known_values.contains(&arg) {
            i += 2;
        } else if known_switches.contains(&arg) {
            i += 1;
        } else {
            return Err(format!("unknown option {arg:?}\n\n{USAGE}"));
        }
    }
    Ok(())
}

fn build_command(args: &[String]) -> Result<()> {
    check_flags(args, &["--debug-host"], &["--dev-origin", "--out"])?;
    let toolchain = deps::ensure(deps::Needs { browser: false })?;
    let options = dist::Options {
        out: flag_value(args, "--out")?.map(PathBuf::from).unwrap_or_else(|| root().join("target/dist")),
        release_host: !args.iter().any(|a| a == "--debug-host"),
        dev_origin: flag_value(args, "--dev-origin")?,
    };
    dist::build(&toolchain, &options).map(|_| ())
}

fn dist_command(args: &[String]) -> Result<()> {
    check_flags(args, &["--windows"], &["--key", "--update-url", "--out"])?;
    let toolchain = deps::ensure(deps::Needs { browser: false })?;
    let options = dist::DistOptions {
        out: flag_value(args, "--out")?.map(PathBuf::from).unwrap_or_else(|| root().join("target/dist")),
        windows: args.iter().any(|a| a == "--windows"),
        key: flag_value(args, "--key")?.map(PathBuf::from),
        update_url: flag_value(args, "--update-url")?,
    };
    dist::dist(&toolchain, &options)
}

fn test_command() -> Result<()> {
    let toolchain = deps::ensure(deps::Needs { browser: true })?;
    let out = root().join("target/dist-test");
    dist::build(&toolchain, &dist::Options { out: out.clone(), release_host: false, dev_origin: None })?;

    step("lints: cargo clippy (warnings are errors)");
    run(cargo().current_dir(root()).args(["clippy", "--workspace", "--all-targets", "--quiet", "--", "-D", "warnings"]))?;

    // The card tests need the machine's pcscd with vsmartcard-vpcd; they fail (never skip) without it.
    let pcscd = deps::ensure_pcscd()?;

    let mut totals = TestTotals::default();
    // The Windows host: cross-built; its framing, store and install unit tests run under wine
    // here, and native-host/tests/wine.rs (ping over framing, the registry) with the others.
    let (windows_host, wine_unit) = windows_tests(&mut totals);

    step("unit, property and integration tests");
    let mut command = cargo();
    command.current_dir(root()).env("DATALINK_DIST", &out).envs(pcscd.env());
    if let Ok(exe) = &windows_host {
        command.env("DATALINK_WINDOWS_HOST", exe);
    }
    let unit = cargo_test(command.args(["test", "--no-fail-fast", "--workspace", "--exclude", "datalink-e2e"]), &mut totals);

    step("end-to-end tests in headless Chromium (extension + wasm + native host)");
    let e2e = cargo_test(
        cargo().current_dir(root()).env("DATALINK_DIST", &out).args(["test", "--no-fail-fast", "-p", "datalink-e2e", "--", "--nocapture", "--test-threads=1"]),
        &mut totals,
    );
    step("summary");
    println!("tests: {} passed, {} failed, {} skipped", totals.passed, totals.failed, totals.ignored);
    windows_host.and(wine_unit).and(unit).and(e2e)?;
    if totals.passed == 0 {
        return Err("no test ran".into());
    }
    Ok(())
}

/// Cross-builds `datalink-host.exe` and the host's unit tests for Windows (with the
/// `bcryptprimitives.dll` shim beside each), and runs the framing, store and install unit tests
/// under wine. Returns the program for `native-host/tests/wine.rs`, and the unit tests' outcome.
fn windows_tests(totals: &mut TestTotals) -> (Result<PathBuf>, Result<()>) {
    step("the Windows host: cross-build (mingw-w64) and unit tests under wine");
    let started = Instant::now();
    let host = windows::ensure(true).and_then(|()| windows::build_host(false)).and_then(|exe| {
        windows::shim(exe.parent().ok_or("no folder")?)?;
        Ok(exe)
    });
    let built = started.elapsed();
    let unit = host.as_ref().map_err(Clone::clone).and_then(|_| {
        let wine = windows::Wine::new("unit")?;
        for tests in windows::build_unit_tests()? {
            windows::shim(tests.parent().ok_or("no folder")?)?;
            let mut command = wine.command(&tests);
            command.args(windows::WINE_UNIT_FILTERS);
            cargo_test(&mut command, totals)?;
        }
        Ok(())
    });
    println!(
        "Windows: cross-build {:.1}s, unit tests (built and run under wine) {:.1}s",
        built.as_secs_f64(),
        (started.elapsed() - built).as_secs_f64()
    );
    (host, unit)
}

/// Counts from cargo test's `test result:` lines.
#[derive(Default)]
struct TestTotals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

/// Runs `cargo test`, passing its output through while adding up its `test result:` lines.
fn cargo_test(command: &mut Command, totals: &mut TestTotals) -> Result<()> {
    use std::io::BufRead;
    println!("$ {}", shown(command));
    let mut child = command.stdout(std::process::Stdio::piped()).spawn().map_err(|e| format!("cannot run cargo test: {e}"))?;
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout).lines().map_while(std::result::Result::ok) {
            println!("{line}");
            if let Some(counts) = line.strip_prefix("test result: ") {
                let number = |word: &str| -> u64 {
                    counts.split([';', '.']).find_map(|part| part.trim().strip_suffix(word)?.trim().parse().ok()).unwrap_or(0)
                };
                totals.passed += number(" passed");
                totals.failed += number(" failed");
                totals.ignored += number(" ignored");
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", shown(command)))
    }
}

fn bench_command(args: &[String]) -> Result<()> {
    if args.first().map(String::as_str) == Some("host") {
        check_flags(&args[1..], &[], bench_host::FLAGS)?;
        return bench_host::run(&args[1..]);
    }
    check_flags(args.get(1..).unwrap_or_default(), &[], bench::FLAGS)?;
    let toolchain = deps::ensure(deps::Needs { browser: true })?;
    bench::run(args, &toolchain)
}

fn demo_command(args: &[String]) -> Result<()> {
    check_flags(args, &["--headed"], demo::FLAGS)?;
    let toolchain = deps::ensure(deps::Needs { browser: true })?;
    demo::run(args, &toolchain)
}
