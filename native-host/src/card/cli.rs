//! `datalink-host card …`: the card from a terminal, for support staff and scripts.
//!
//! ```text
//! datalink-host card status [--json] [OPTIONS]      the environment check (exit 0 when ready)
//! datalink-host card verify [--json] [--last-try] [OPTIONS]
//!                                                   asks for the PIN (no echo), or reads one line of stdin
//! datalink-host card wait [--absent] [--timeout SECONDS] [--json] [OPTIONS]
//! OPTIONS: --backend auto|eport|pcsc   --eport-url ws://127.0.0.1:61232   --reader NAME
//! ```
//!
//! The PIN is never taken from the command line (other users can read a process's argv):
//! `--pin` is refused. Output goes to stdout through `Write` — this is not the browser's pipe.
//! Exit status: 0 success, 1 the card said no (or not ready), 2 bad usage.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use datalink_core::protocol::{CardBackendChoice, CardSettings, CardStatusReply, CardWaitFor};

use super::service::{self, now_unix, resolve};
use super::{pin, CardError, Pin};

pub const USAGE: &str = "datalink-host card — IC卡 (E-Port client control or PC/SC)

Usage:
  datalink-host card status [--json] [OPTIONS]
      环境检测: host version, backend, readers, card, card number, holder, company,
      certificate dates, PIN tries left. Exit status 0 when everything is ready.
  datalink-host card verify [--json] [--last-try] [OPTIONS]
      Checks the PIN once. It is read from the terminal without echo, or from the first line
      of standard input (never from the command line). --last-try confirms a last attempt.
  datalink-host card wait [--absent] [--timeout SECONDS] [--json] [OPTIONS]
      Waits (PC/SC) until a card is inserted (or, with --absent, removed). Default 30 s.

Options:
  --backend auto|eport|pcsc   how to reach the card (default: auto, or DATALINK_CARD_BACKEND)
  --eport-url URL             the E-Port client control (default ws://127.0.0.1:61232)
  --reader NAME               PC/SC: only readers whose name contains NAME
";

struct Options {
    json: bool,
    last_try: bool,
    absent: bool,
    timeout: Duration,
    settings: CardSettings,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options { json: false, last_try: false, absent: false, timeout: Duration::from_secs(30), settings: CardSettings::default() };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = || rest.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--json" => options.json = true,
            "--last-try" => options.last_try = true,
            "--absent" => options.absent = true,
            "--timeout" => {
                let seconds: u64 = value()?.parse().map_err(|_| "--timeout takes whole seconds".to_owned())?;
                options.timeout = Duration::from_secs(seconds.min(300));
            }
            "--backend" => {
                options.settings.backend = Some(match value()?.as_str() {
                    "auto" => CardBackendChoice::Auto,
                    "eport" => CardBackendChoice::Eport,
                    "pcsc" => CardBackendChoice::Pcsc,
                    other => return Err(format!("--backend {other:?}: expected auto, eport or pcsc")),
                })
            }
            "--eport-url" => options.settings.eport_url = Some(value()?),
            "--reader" => options.settings.reader = Some(value()?),
            pin if pin == "--pin" || pin.starts_with("--pin=") || pin == "--passwd" => {
                return Err("the PIN is never taken from the command line; `card verify` asks for it, or reads it from stdin".into())
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(options)
}

/// Runs `datalink-host card <args>`.
pub fn run(args: &[String]) -> ExitCode {
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => return usage_error("a card command is needed"),
    };
    if matches!(command, "-h" | "--help" | "help") {
        return write_out(USAGE, ExitCode::SUCCESS);
    }
    let options = match parse(rest) {
        Ok(options) => options,
        Err(e) => return usage_error(&e),
    };
    match command {
        "status" => status(&options),
        "verify" => verify(&options),
        "wait" => wait(&options),
        other => usage_error(&format!("unknown card command {other:?}")),
    }
}

fn usage_error(message: &str) -> ExitCode {
    let _ = write!(std::io::stderr(), "datalink-host card: {message}\n\n{USAGE}");
    ExitCode::from(2)
}

fn write_out(text: &str, code: ExitCode) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => code,
        Err(_) => ExitCode::FAILURE,
    }
}

fn json_line(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).map(|s| s + "\n").unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}\n"))
}

/// An error for a person: the Chinese message, the code, and the detail.
fn error_text(error: &CardError) -> String {
    let info = error.to_info();
    match &info.detail {
        Some(detail) => format!("{}（错误码 {} {}）\n  detail: {detail}\n", info.message, info.code, info.name),
        None => format!("{}（错误码 {} {}）\n", info.message, info.code, info.name),
    }
}

fn fail(error: &CardError, json: bool) -> ExitCode {
    let text = if json { json_line(&serde_json::json!({"ok": false, "error": error.to_info()})) } else { error_text(error) };
    let code = if matches!(error, CardError::InvalidSettings(_)) { ExitCode::from(2) } else { ExitCode::FAILURE };
    write_out(&text, code)
}

fn status(options: &Options) -> ExitCode {
    let settings = match resolve(&options.settings) {
        Ok(settings) => settings,
        Err(e) => return fail(&e, options.json),
    };
    let reply = service::service().status(&settings, now_unix());
    let code = if reply.ready { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    let text = if options.json { json_line(&reply) } else { human_status(&reply) };
    write_out(&text, code)
}

/// The environment check as lines for a terminal.
pub fn human_status(reply: &CardStatusReply) -> String {
    let mut out = String::from("环境检测\n");
    for check in &reply.checks {
        let mark = if check.ok { "✓" } else { "✗" };
        out.push_str(&format!("  {mark} {}：{}\n", check.label, check.value.as_deref().unwrap_or("—")));
        if let Some(problem) = &check.problem {
            out.push_str(&format!("      {}（错误码 {}）\n", problem.message, problem.code));
        }
    }
    if let Some(pcsc) = &reply.pcsc {
        for reader in &pcsc.readers {
            let card = match (&reader.atr, &reader.profile) {
                (Some(atr), Some(profile)) => format!("card {atr} (profile {profile})"),
                (Some(atr), None) => format!("card {atr} (unknown: no command is sent to it)"),
                _ => "no card".into(),
            };
            out.push_str(&format!("  PC/SC reader {:?}: {card}\n", reader.name));
        }
    }
    out.push_str(if reply.ready { "结果：就绪\n" } else { "结果：未就绪\n" });
    out
}

fn verify(options: &Options) -> ExitCode {
    let settings = match resolve(&options.settings) {
        Ok(settings) => settings,
        Err(e) => return fail(&e, options.json),
    };
    let text = match pin::read_from_user("IC卡密码: ") {
        Ok(text) => text,
        Err(e) => return fail(&CardError::Internal(format!("cannot read the PIN: {e}")), options.json),
    };
    let pin = match Pin::parse(text) {
        Ok(pin) => pin,
        Err(e) => return fail(&e, options.json),
    };
    match service::service().verify_pin(&settings, pin, options.last_try) {
        Ok(reply) if options.json => write_out(&json_line(&serde_json::json!({"ok": true, "result": reply})), ExitCode::SUCCESS),
        Ok(_) => write_out("IC卡密码正确\n", ExitCode::SUCCESS),
        Err(e) => {
            let hint = match &e {
                CardError::LastTryUnconfirmed => "  (run again with --last-try to use the last attempt)\n",
                CardError::WrongPin { retries_left: Some(1) } => "  (the next wrong PIN locks the card; --last-try will be required)\n",
                _ => "",
            };
            if options.json {
                fail(&e, true)
            } else {
                write_out(&format!("{}{hint}", error_text(&e)), ExitCode::FAILURE)
            }
        }
    }
}

fn wait(options: &Options) -> ExitCode {
    let settings = match resolve(&options.settings) {
        Ok(settings) => settings,
        Err(e) => return fail(&e, options.json),
    };
    let until = if options.absent { CardWaitFor::Absent } else { CardWaitFor::Present };
    match service::wait(&settings, until, options.timeout) {
        Ok(reply) if options.json => write_out(&json_line(&serde_json::json!({"ok": true, "result": reply})), ExitCode::SUCCESS),
        Ok(reply) => {
            let text = match (reply.card_present, &reply.reader) {
                (true, Some(reader)) => format!("IC卡已插入（{reader}）\n"),
                (true, None) => "IC卡已插入\n".to_owned(),
                (false, _) => "IC卡未插入\n".to_owned(),
            };
            write_out(&text, ExitCode::SUCCESS)
        }
        Err(e) => fail(&e, options.json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options_parse_and_the_pin_is_refused_on_the_command_line() {
        let o = parse(&args(&["--json", "--backend", "pcsc", "--reader", "Virtual PCD 00 00", "--timeout", "5"])).unwrap();
        assert!(o.json);
        assert_eq!(o.settings.backend, Some(CardBackendChoice::Pcsc));
        assert_eq!(o.settings.reader.as_deref(), Some("Virtual PCD 00 00"));
        assert_eq!(o.timeout, Duration::from_secs(5));
        for bad in [&["--pin", "88888888"][..], &["--pin=88888888"], &["--passwd", "x"]] {
            let e = parse(&args(bad)).err().unwrap();
            assert!(e.contains("never taken from the command line") && !e.contains("88888888"), "{e}");
        }
        assert!(parse(&args(&["--backend", "usb"])).is_err());
        assert!(parse(&args(&["--reader"])).is_err());
    }
}
