//! Issue #7 end to end: a calendar year synced in a real browser from portal-sim, then the
//! host's trade value figures and certificate PDF checked against the simulator's ground truth
//! and the shipped rate tables — computed here independently (its own CSV reading and decimal
//! sums, nothing from `trade_value`).
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use datalink_core::calendar::Date;
use datalink_core::period::DateRange;
use datalink_e2e::{today, artifacts_dir, Sim, start_request, wait_done, workspace_root, Browser, Dist, LaunchOptions, SyncSettings};
use portal_sim::SimConfig;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};

const SETTINGS: SyncSettings = SyncSettings { concurrency: 4, rate_per_second: 1000.0, page_size: 100, request_timeout_ms: 2500 };


/// `(month, currency) → rate` from a shipped CSV (`month,currency,<rate>,…`), read here.
fn rate_table(file: &str) -> BTreeMap<(String, String), Decimal> {
    let text = std::fs::read_to_string(workspace_root().join("native-host/data").join(file)).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            ((f[0].to_owned(), f[1].to_owned()), f[2].parse().unwrap())
        })
        .collect()
}

/// Customs currency codes portal-sim uses → ISO.
fn iso(code: &str) -> &str {
    match code {
        "502" => "USD",
        "142" => "CNY",
        "300" => "EUR",
        "116" => "JPY",
        "110" => "HKD",
        "303" => "GBP",
        "133" => "KRW",
        "601" => "AUD",
        "331" => "CHF",
        "132" => "SGD",
        "501" => "CAD",
        other => panic!("portal-sim currency {other} unknown to this test"),
    }
}

fn cents(d: Decimal) -> String {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r.to_string()
}

fn host(dist: &Dist) -> Command {
    Command::new(dist.root.join("host/datalink-host"))
}

fn run(command: &mut Command) -> (bool, String, String) {
    let out = command.output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A poppler tool's output; `pdftotext` writes to stdout with `-`.
fn poppler(tool: &str, args: &[&str], pdf: &Path) -> String {
    let mut command = Command::new(tool);
    command.args(args).arg(pdf);
    if tool == "pdftotext" {
        command.arg("-");
    }
    let out = command.output().unwrap_or_else(|e| panic!("{tool} (poppler-utils): {e}"));
    assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_synced_year_gives_the_truths_trade_value_and_a_verifiable_certificate() {
    let dist = Dist::locate().unwrap();
    let sim = Sim::start(SimConfig { seed: 31, declarations: 420, ..SimConfig::default() }).unwrap();
    let year = today().year() - 1;
    let range = DateRange::new(Date::new(year, 1, 1).unwrap(), Date::new(year, 12, 31).unwrap()).unwrap();

    let mut browser = Browser::launch(&LaunchOptions::for_dist(&dist)).unwrap();
    browser.portal_login(&sim.sim.login_url(), "88888888").unwrap();
    let app = browser.open_app().unwrap();
    let started = browser.ask(&app, &start_request(&sim.sim.base_url(), range, &SETTINGS)).unwrap();
    assert_eq!(started["ok"], json!(true), "{started}");
    let status = wait_done(&mut browser, &app, Duration::from_secs(300), false, |_, _| {}).unwrap();
    assert_eq!(status["state"], json!("completed"), "{status}");
    let db = browser.db().to_owned();

    // The truth: every declaration the sync must count, with Σ declTotal per currency.
    let truth = sim.truth();
    let in_scope = datalink_e2e::truth_in_scope(&truth, range);
    let customs = rate_table("rates-customs.csv");
    let safe = rate_table("rates-safe-usd.csv");
    let mut sums: BTreeMap<&str, Decimal> = BTreeMap::new();
    let mut counted = 0;
    for d in truth["declarations"].as_array().unwrap() {
        if !in_scope.contains(d["cusCiqNo"].as_str().unwrap()) {
            continue;
        }
        counted += 1;
        let month = d["queryDate"].as_str().unwrap()[..7].to_owned();
        let direction = if d["cusIEFlag"] == json!("I") { "import" } else { "export" };
        for (code, total) in d["valueByCurr"].as_object().unwrap() {
            let amount: Decimal = total.as_str().unwrap().parse().unwrap();
            let currency = iso(code).to_owned();
            let rmb = if currency == "CNY" { Decimal::ONE } else { customs[&(month.clone(), currency.clone())] };
            let usd = if currency == "USD" { Decimal::ONE } else { safe[&(month.clone(), currency)] };
            *sums.entry(if direction == "import" { "import_rmb" } else { "export_rmb" }).or_default() += amount * rmb;
            *sums.entry(if direction == "import" { "import_usd" } else { "export_usd" }).or_default() += amount * usd;
        }
    }
    assert!(counted > 50, "the year has declarations to count ({counted})");

    let (from, to) = (format!("{year}01"), format!("{year}12"));
    let (ok, stdout, stderr) =
        run(host(&dist).args(["report", "trade-value", "--json", "--from", &from, "--to", &to, "--db"]).arg(&db));
    assert!(ok, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["declarations"], json!(counted));
    for key in ["import_rmb", "export_rmb", "import_usd", "export_usd"] {
        let field = match key {
            "import_rmb" => "importRmb",
            "export_rmb" => "exportRmb",
            "import_usd" => "importUsd",
            _ => "exportUsd",
        };
        assert_eq!(report[field], json!(cents(sums.get(key).copied().unwrap_or_default())), "{key}");
    }
    assert_eq!(report["company"], truth["enterprise"]["name"]);
    assert_eq!(report["creditCode"], truth["enterprise"]["scc"]);
    assert_eq!(report["coverage"]["months"].as_array().unwrap().len(), 12);

    // The certificate: embedded subset font with ToUnicode, every word and amount extractable.
    let dir = artifacts_dir().join("certificate");
    std::fs::create_dir_all(&dir).unwrap();
    let pdf = dir.join(format!("certificate-{year}.pdf"));
    let (ok, stdout, stderr) = run(host(&dist)
        .args(["certificate", "--from", &from, "--to", &to, "--project", "外贸发展专项资金", "--department", "西安市商务局", "--db"])
        .arg(&db)
        .arg("--out")
        .arg(&pdf));
    assert!(ok, "{stderr}");
    let code = stdout.split("核验码 ").nth(1).and_then(|rest| rest.split_whitespace().next()).unwrap_or_else(|| panic!("{stdout}")).to_owned();
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.len() < 1_500_000, "{} bytes", bytes.len());
    let fonts = poppler("pdffonts", &[], &pdf);
    let cjk = fonts.lines().find(|l| l.contains("Identity-H")).unwrap_or_else(|| panic!("no Identity-H font:\n{fonts}"));
    assert!(cjk.contains("yes yes yes"), "embedded, subset, ToUnicode: {cjk}");
    let text: String = poppler("pdftotext", &[], &pdf).split_whitespace().collect();
    let company = truth["enterprise"]["name"].as_str().unwrap();
    let scc = truth["enterprise"]["scc"].as_str().unwrap();
    for needle in ["进出口贸易额证明", "西安市商务局：", company, scc, &format!("{year}年1月-12月"), "特此证明。"] {
        assert!(text.contains(needle), "{needle} missing from the PDF text");
    }
    for paragraph in report["certificate"]["body"].as_array().unwrap() {
        let flat: String = paragraph.as_str().unwrap().split_whitespace().collect();
        assert!(text.contains(&flat), "the body paragraph does not extract as shown: {flat}");
    }
    let layout = poppler("pdftotext", &["-layout"], &pdf);
    for table in report["certificate"]["attachments"].as_array().unwrap() {
        let numeric: Vec<bool> = serde_json::from_value(table["numeric"].clone()).unwrap();
        for row in table["rows"].as_array().unwrap() {
            for (cell, n) in row.as_array().unwrap().iter().zip(&numeric) {
                if *n {
                    assert!(layout.contains(cell.as_str().unwrap()), "amount {cell} missing from the PDF");
                }
            }
        }
    }
    let rendered = Command::new("pdftoppm").args(["-r", "60", "-png"]).arg(&pdf).arg(dir.join(format!("certificate-{year}"))).status().unwrap();
    assert!(rendered.success(), "pdftoppm renders every page");

    // verify-certificate: the PDF as made matches; a PDF with a changed code does not.
    let (ok, stdout, stderr) = run(host(&dist).arg("verify-certificate").arg(&pdf).arg("--db").arg(&db));
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("核验通过"), "{stdout}");
    // The /Info string is UTF-16BE hex (<FEFF0049…>): change the code's first character.
    let hex: String = code.encode_utf16().map(|u| format!("{u:04X}")).collect();
    let position = bytes.windows(hex.len()).position(|w| w == hex.as_bytes()).expect("the code is in the metadata");
    let mut forged = bytes.clone();
    forged[position + 3] = if forged[position + 3] == b'1' { b'2' } else { b'1' };
    let forged_path = dir.join("forged.pdf");
    std::fs::write(&forged_path, &forged).unwrap();
    let (ok, _, stderr) = run(host(&dist).arg("verify-certificate").arg(&forged_path).arg("--db").arg(&db));
    assert!(!ok, "a forged code must not verify");
    assert!(stderr.contains("核验未通过"), "{stderr}");
    drop(browser);
}
