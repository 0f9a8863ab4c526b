//! `datalink-host`: DataLink's native messaging host.
//!
//! The browser starts it (`chrome-extension://<id>/` as the first argument, and on Windows
//! `--parent-window=<n>`) and talks to it over stdin/stdout; see PROTOCOL.md. Started by a person
//! with a subcommand, it does maintenance work instead.

mod card;
mod framing;
mod log;
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
  datalink-host export [--db PATH] [--format jsonl|csv] [--task NUMBER] [--out FILE]
                                export the store's declarations with their goods lines
  datalink-host db check [--db PATH]
                                check the local store (integrity, schema version), read-only
  datalink-host --version       print the version
  datalink-host --help          this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The browser passes its caller's origin (and on Windows a window handle): those mean "serve".
    let command = args.iter().find(|a| !a.starts_with("chrome-extension://") && !a.starts_with("--parent-window="));
    match command.map(String::as_str) {
        None | Some("serve") => serve(),
        Some("card") => card::cli::run(&args[args.iter().position(|a| a == "card").map_or(args.len(), |i| i + 1)..]),
        Some("export") => store::cli::export(&args[args.iter().position(|a| a == "export").map_or(args.len(), |i| i + 1)..]),
        Some("db") => store::cli::db(&args[args.iter().position(|a| a == "db").map_or(args.len(), |i| i + 1)..]),
        Some("--version" | "version") => say(&format!("datalink-host {VERSION}\n")),
        Some("--help" | "-h" | "help") => say(USAGE),
        Some(other) => {
            let _ = write!(std::io::stderr(), "unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
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
