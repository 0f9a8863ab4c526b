//! Issue #8 end to end: the host registered the way a user registers it — by running
//! `datalink-host install --browser chromium` — and a sync through it in a real Chromium.
//!
//! HOME is a temporary folder: the host is copied to `~/.local/share/datalink/bin` (what the
//! install script does), `install` writes `~/.config/chromium/NativeMessagingHosts/`, and Chromium
//! runs with that HOME and its default profile location under it (`--user-data-dir` set to
//! `~/.config/chromium`, the folder Chromium would pick itself: headless Chromium needs the flag
//! spelled out). Nothing is copied into the profile by the test harness.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use datalink_core::period::DateRange;
use datalink_e2e::{
    export, start_request, today, wait_done, Browser, Dist, LaunchOptions, Sim, SyncSettings,
};
use portal_sim::SimConfig;
use serde_json::json;

const SETTINGS: SyncSettings = SyncSettings {
    concurrency: 4,
    rate_per_second: 1000.0,
    page_size: 100,
    request_timeout_ms: 2500,
};

/// The host at `program`, as a person runs it with this HOME.
fn host(program: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("DATALINK_DB")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_installed_host_is_found_by_chromium_and_a_sync_runs_through_it() {
    let dist = Dist::locate().unwrap();
    let home = std::env::temp_dir().join(format!("datalink-e2e-home-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join(".config")).unwrap();
    let bin = home.join(".local/share/datalink/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let installed: PathBuf = bin.join("datalink-host");
    std::fs::copy(dist.root.join("host/datalink-host"), &installed).unwrap();

    let out = host(&installed, &home, &["install", "--browser", "chromium"]);
    assert!(out.status.success(), "{}", text(&out));
    let profile = home.join(".config/chromium");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(profile.join("NativeMessagingHosts/cn.datalink.host.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        manifest["path"],
        json!(installed.canonicalize().unwrap().to_string_lossy())
    );
    let out = host(&installed, &home, &["doctor", "--no-card"]);
    assert!(
        out.status.success(),
        "doctor approves the install:\n{}",
        text(&out)
    );

    let sim = Sim::start(SimConfig { seed: 81, declarations: 120, ..SimConfig::default() }).unwrap();

    let mut options = LaunchOptions::for_dist(&dist);
    options.host_manifest = None;
    options.user_data_dir = Some(profile.clone());
    options.db = Some(home.join(".local/share/datalink/datalink.db"));
    options
        .env
        .push(("HOME".into(), home.to_string_lossy().into_owned()));
    let mut browser = Browser::launch(&options).unwrap();
    browser.portal_login(&sim.login_url(), "88888888").unwrap();
    let app = browser.open_app().unwrap();
    let range = DateRange::past_years(today(), 1);
    let started = browser
        .ask(&app, &start_request(&sim.base_url(), range, &SETTINGS))
        .unwrap();
    assert_eq!(started["ok"], json!(true), "{started}");
    let task = started["result"]["number"].as_str().unwrap().to_owned();

    // The host the browser started is the installed copy.
    let pids = browser.host_pids();
    assert!(!pids.is_empty(), "Chromium started no host");
    for pid in &pids {
        assert_eq!(
            std::fs::read_link(format!("/proc/{pid}/exe")).unwrap(),
            installed.canonicalize().unwrap()
        );
    }

    let status = wait_done(
        &mut browser,
        &app,
        Duration::from_secs(300),
        true,
        |_, _| {},
    )
    .unwrap();
    assert_eq!(status["state"], json!("completed"), "{status}");
    let expected = datalink_e2e::truth_in_scope(&serde_json::to_value(sim.truth()).unwrap(), range);
    assert!(!expected.is_empty());
    assert_eq!(
        status["report"]["total"]["reconciled"],
        json!(expected.len())
    );
    let exported: std::collections::BTreeSet<String> = export(&dist, browser.db(), &task)
        .unwrap()
        .iter()
        .map(|r| r["cusCiqNo"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(exported, expected);
    drop(browser);

    let out = host(&installed, &home, &["uninstall", "--browser", "chromium"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!profile.join("NativeMessagingHosts").exists());
    std::fs::remove_dir_all(&home).unwrap();
}
