//! `virtual-card`: plugs DataLink's E-Port-like test card into a vpcd slot of the machine's
//! pcscd and serves it until killed (for the demo, and for trying `datalink-host card status`
//! by hand). The PIN comes from `VIRTUAL_CARD_PIN` or the first line of stdin, never argv.

use std::io::BufRead;
use std::process::ExitCode;

use virtual_card::{card, vpcd, CardSpec, Profile, SLOT_0, SLOT_1};

const USAGE: &str = "virtual-card [--slot 0|1 | --port PORT] [--profile test|unknown] [--tries N] [--remove-on INS]

Plugs an E-Port-like test card into vsmartcard-vpcd (pcscd must be running) and serves it until
killed. The PIN is read from VIRTUAL_CARD_PIN, or else from the first line of standard input.
  --slot 0|1          the reader: 0 = \"Virtual PCD 00 00\" (port 35963), 1 = \"Virtual PCD 00 01\" (35964); default 1
  --port PORT         another vpcd port
  --profile test      the DataLink test profile (default); `unknown`: an ATR the host does not know
  --tries N           tries left before the card locks (default 3)
  --remove-on INS     pull the card out when a command with this INS (hex, e.g. 20) arrives
";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("virtual-card: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut port = SLOT_1.port;
    let mut profile = Profile::Test;
    let mut tries = card::MAX_TRIES;
    let mut remove_on = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = || rest.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--slot" => port = if value()? == "0" { SLOT_0.port } else { SLOT_1.port },
            "--port" => port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--profile" => {
                profile = match value()?.as_str() {
                    "test" => Profile::Test,
                    "unknown" => Profile::Unknown,
                    other => return Err(format!("unknown profile {other:?}")),
                }
            }
            "--tries" => tries = value()?.parse().map_err(|e| format!("--tries: {e}"))?,
            "--remove-on" => remove_on = Some(u8::from_str_radix(&value()?, 16).map_err(|e| format!("--remove-on: {e}"))?),
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown option {other:?}\n\n{USAGE}")),
        }
    }
    let pin = match std::env::var("VIRTUAL_CARD_PIN") {
        Ok(pin) => pin,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if pin.is_empty() {
        return Err("no PIN: set VIRTUAL_CARD_PIN or pipe it in".into());
    }
    let mut spec = CardSpec::new(profile, &pin);
    spec.tries_left = tries;
    spec.remove_on_ins = remove_on;
    let mut card = card::Card::new(spec);
    let stream = vpcd::connect(port, virtual_card::SEEN_WITHIN).map_err(|e| format!("cannot reach vpcd on port {port}: {e}"))?;
    println!("virtual-card: inserted into vpcd port {port} (ATR {})", virtual_card::hex(card.atr()));
    vpcd::serve(stream, &mut card).map_err(|e| e.to_string())?;
    println!("virtual-card: removed");
    Ok(())
}
