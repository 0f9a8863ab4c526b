//! `datalink-host`: DataLink's native messaging host.
//!
//! The browser starts it (`chrome-extension://<id>/` as the first argument, and on Windows
//! `--parent-window=<n>`) and talks to it over stdin/stdout; see PROTOCOL.md. Started by a person
//! with a subcommand, it does maintenance work instead.

mod card;
mod certificate;
use datalink_host::framing;
mod install;
mod log;
mod report;
mod server;
mod store;

use std::io::Write;
use std::process::ExitCode;

/// The one version of extension, host and protocol documents.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

const USAGE: &str = "datalink-host — DataLink 协同客户端 (native messaging host)

Usage:
  datalink-host                 serve the browser over stdin/stdout (how the browser starts it)
  datalink-host serve           the same, explicitly
  datalink-host card …          the IC card: status (环境检测), verify (PIN), wait; see `card --help`
  datalink-host export [--db PATH] [--format jsonl|csv] [--task NUMBER | --enterprise SCC] [--out FILE]
                                export the store's declarations with their goods lines
  datalink-host db check [--db PATH]
                                check the local store (integrity, schema version), read-only
  datalink-host install [--browser chrome|chromium|edge|brave|360|firefox|all]… [--user|--system]
                                register this program with the browsers (host manifests; on
                                Windows the registry); run it from where the program will stay
  datalink-host uninstall [--browser …] [--user|--system]
                                remove exactly what install wrote
  datalink-host doctor [--no-card]
                                what the browsers will find, the store's health, the card, and
                                a fix for each problem (exit status 1 when there is a problem)
  datalink-host backup [--db PATH] [--out FILE]
                                a consistent copy of the store (default: backups/ beside it)
  datalink-host report coverage|trade-value --from YYYYMM --to YYYYMM [--enterprise SCC] [--db PATH] [--json]
                                which months a reconciled sync covers / the certificate's figures
  datalink-host certificate --from YYYYMM --to YYYYMM --project 申请项目 --department 申报部门
                            [--enterprise SCC] [--out FILE.pdf] [--date YYYY-MM-DD] [--db PATH]
                                make the 进出口贸易额证明 PDF (recorded in the store)
  datalink-host verify-certificate FILE.pdf [--db PATH]
                                does the PDF still match the local data? (exit 0 yes, 1 no)
  datalink-host rates import FILE.csv | rates export customs|safe|holidays
                                import a rate table or holiday calendar / print the shipped one
  datalink-host settings [KEY=VALUE …]
                                the certificate's issuer, seal caption, company, credit code
  datalink-host --version       print the version
  datalink-host --help          this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The browser passes its caller's origin (and on Windows a window handle): those mean "serve".
    // Firefox passes the manifest's path and the add-on's id instead.
    let command = args.iter().find(|a| {
        !a.starts_with("chrome-extension://")
            && !a.starts_with("--parent-window=")
            && !a.ends_with(".json")
            && *a != datalink_core::FIREFOX_EXTENSION_ID
    });
    match command.map(String::as_str) {
        None | Some("serve") => serve(),
        Some("card") => card::cli::run(&args[args.iter().position(|a| a == "card").map_or(args.len(), |i| i + 1)..]),
        Some("export") => store::cli::export(&args[args.iter().position(|a| a == "export").map_or(args.len(), |i| i + 1)..]),
        Some("db") => store::cli::db(&args[args.iter().position(|a| a == "db").map_or(args.len(), |i| i + 1)..]),
        Some("install") => install::install_command(after(&args, "install")),
        Some("uninstall") => install::uninstall_command(after(&args, "uninstall")),
        Some("doctor") => install::doctor::command(after(&args, "doctor")),
        Some("backup") => install::backup::command(after(&args, "backup")),
        Some("report") => report::cli::report(after(&args, "report")),
        Some("certificate") => report::cli::certificate(after(&args, "certificate")),
        Some("verify-certificate") => report::cli::verify_certificate(after(&args, "verify-certificate")),
        Some("rates") => report::cli::rates(after(&args, "rates")),
        Some("settings") => report::cli::settings(after(&args, "settings")),
        Some("--version" | "version") => say(&format!("datalink-host {VERSION}\n")),
        Some("--help" | "-h" | "help") => say(USAGE),
        Some(other) => {
            let _ = write!(std::io::stderr(), "unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The arguments after the subcommand `name`.
fn after<'a>(args: &'a [String], name: &str) -> &'a [String] {
    &args[args.iter().position(|a| a == name).map_or(args.len(), |i| i + 1)..]
}

fn serve() -> ExitCode {
    log::info!("started, version {VERSION}");
    let ended = server::serve(std::io::stdin().lock(), std::io::stdout());
    log::info!("stopped: {ended:?}");
    match ended {
        server::Ended::Eof | server::Ended::Truncated => ExitCode::SUCCESS,
        server::Ended::Io(_) => ExitCode::FAILURE,
    }
}

/// Output for a person at a terminal (never while serving: stdout is the wire then).
fn say(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
