//! The Windows host (`datalink-host.exe`, cross-built for x86_64-pc-windows-gnu) under wine:
//! it answers the browser over native-messaging framing, and `install` / `doctor` / `uninstall`
//! work against the Windows registry.
//!
//! `cargo xtask test` cross-builds the program, puts the `bcryptprimitives.dll` shim beside it
//! (wine 8.0 lacks `ProcessPrng`; see `xtask/src/windows.rs`) and names it in
//! `DATALINK_WINDOWS_HOST`. Without it these tests fail, saying how to get one: they never skip.
#![cfg(unix)]
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const WINE: &str = "/usr/lib/wine/wine64";
const EXTENSION: &str = "chrome-extension://kkaaldpdgcikdogodnihlanlipfoeboa/";

fn host() -> PathBuf {
    let how = "run `cargo xtask test` (it cross-builds datalink-host.exe and runs these tests), or \
               `cargo xtask dist --windows` and set DATALINK_WINDOWS_HOST=target/dist/host/datalink-host.exe \
               with the shim bcryptprimitives.dll beside it; wine: apt-get install wine64 mingw-w64";
    let exe = std::env::var_os("DATALINK_WINDOWS_HOST")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("DATALINK_WINDOWS_HOST is not set: {how}"));
    assert!(exe.is_file(), "{} does not exist: {how}", exe.display());
    assert!(
        exe.with_file_name("bcryptprimitives.dll").is_file(),
        "no bcryptprimitives.dll beside {}: {how}",
        exe.display()
    );
    assert!(Path::new(WINE).is_file(), "{WINE} is missing: {how}");
    exe
}

/// A fresh wine prefix; its wineserver is stopped when the test ends.
struct Prefix(tempfile::TempDir);

impl Prefix {
    fn new() -> Prefix {
        Prefix(tempfile::tempdir().unwrap())
    }

    fn wine(&self, program: &Path) -> Command {
        let mut command = Command::new(WINE);
        command
            .arg(program)
            .env("WINEPREFIX", self.0.path())
            .env("WINEDEBUG", "-all")
            // No Mono / Gecko installer dialog on the prefix's first run.
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DATALINK_DB");
        command
    }

    fn run(&self, program: &Path, args: &[&str]) -> Output {
        self.wine(program).args(args).output().unwrap()
    }

    /// `C:\users\<user>\AppData\Local` as a Unix path.
    fn local_app_data(&self) -> PathBuf {
        let users = self.0.path().join("drive_c/users");
        let user = std::fs::read_dir(&users)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| !p.ends_with("Public"))
            .unwrap();
        user.join("AppData/Local")
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let _ = Command::new("/usr/lib/wine/wineserver")
            .arg("-k")
            .env("WINEPREFIX", self.0.path())
            .status();
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn frame(value: &Value) -> Vec<u8> {
    let body = serde_json::to_vec(value).unwrap();
    let mut out = (body.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

#[test]
fn the_windows_host_answers_a_ping_over_native_messaging_framing() {
    let exe = host();
    let prefix = Prefix::new();
    let mut child = prefix
        .wine(&exe)
        .arg(EXTENSION)
        .arg("--parent-window=0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&frame(&json!({"id": 1, "type": "ping", "protocol": 1, "extensionVersion": env!("CARGO_PKG_VERSION")}))).unwrap();
    stdin
        .write_all(&frame(
            &json!({"id": 2, "type": "echo", "text": "报关单 ✓ \u{1F600}", "repeat": 2}),
        ))
        .unwrap();
    // Binary-safe both ways: a \r\n in the payload must not be translated.
    stdin
        .write_all(&frame(
            &json!({"id": 3, "type": "echo", "text": "a\r\nb\n\u{1a}c"}),
        ))
        .unwrap();
    drop(stdin);
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the host exits 0 when the browser closes the pipe"
    );

    let mut replies = Vec::new();
    let mut rest = &stdout[..];
    while rest.len() >= 4 {
        let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        replies.push(serde_json::from_slice::<Value>(&rest[4..4 + len]).unwrap());
        rest = &rest[4 + len..];
    }
    assert!(rest.is_empty(), "nothing but frames on stdout");
    replies.sort_by_key(|r| r["id"].as_u64());
    assert_eq!(replies.len(), 3, "{replies:?}");
    let ping = &replies[0]["result"];
    assert_eq!(replies[0]["ok"], json!(true));
    assert_eq!(ping["host"], json!("datalink-host"));
    assert_eq!(ping["hostVersion"], json!(env!("CARGO_PKG_VERSION")));
    assert_eq!(ping["protocol"], json!(1));
    assert_eq!(ping["os"], json!("windows"));
    assert_eq!(ping["arch"], json!("x86_64"));
    assert_eq!(
        replies[1]["result"]["text"],
        json!("报关单 ✓ \u{1F600}报关单 ✓ \u{1F600}")
    );
    assert_eq!(replies[1]["result"]["chars"], json!(7));
    assert_eq!(replies[2]["result"]["text"], json!("a\r\nb\n\u{1a}c"));
}

#[test]
fn install_writes_the_registry_doctor_reads_it_and_uninstall_removes_it() {
    let exe = host();
    let prefix = Prefix::new();
    let out = prefix.run(
        &exe,
        &["install", "--browser", "chrome", "--browser", "edge"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let report = text(&out);
    assert!(
        report.contains(
            "HKEY_CURRENT_USER\\Software\\Google\\Chrome\\NativeMessagingHosts\\cn.datalink.host"
        ),
        "{report}"
    );
    assert!(
        report.contains(
            "HKEY_CURRENT_USER\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\cn.datalink.host"
        ),
        "{report}"
    );

    // The registry, as wine's own reg.exe reads it.
    let query = |key: &str| prefix.run(Path::new("reg"), &["query", key, "/ve"]);
    let chrome_key = "HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts\\cn.datalink.host";
    let value = text(&query(chrome_key));
    assert!(
        value.contains(
            "\\AppData\\Local\\DataLink\\NativeMessagingHosts\\chrome\\cn.datalink.host.json"
        ),
        "{value}"
    );

    // The manifest the key points to.
    let manifest_path = prefix
        .local_app_data()
        .join("DataLink/NativeMessagingHosts/chrome/cn.datalink.host.json");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["name"], json!("cn.datalink.host"));
    assert_eq!(manifest["type"], json!("stdio"));
    assert_eq!(manifest["allowed_origins"], json!([EXTENSION]));
    let path = manifest["path"].as_str().unwrap();
    assert!(
        path.starts_with("Z:\\") && path.ends_with("\\datalink-host.exe"),
        "a Windows path to this program: {path}"
    );

    let out = prefix.run(&exe, &["doctor", "--no-card"]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(report.contains("✓ Google Chrome（用户级）"), "{report}");
    assert!(
        report.contains(&format!(
            "注册表 {}",
            chrome_key.replace("HKCU", "HKEY_CURRENT_USER")
        )),
        "{report}"
    );
    assert!(report.contains("path Z:\\"), "{report}");
    assert!(report.contains("（存在，可执行）"), "{report}");
    assert!(report.contains("结论：一切正常"), "{report}");

    // Chrome's manifest deleted behind the registry's back: doctor says what to run.
    std::fs::remove_file(&manifest_path).unwrap();
    let out = prefix.run(&exe, &["doctor", "--no-card"]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("Google Chrome：注册指向的清单文件不存在"),
        "{report}"
    );
    assert!(
        report.contains("解决：运行 datalink-host install --browser chrome"),
        "{report}"
    );

    let out = prefix.run(&exe, &["uninstall", "--browser", "chrome"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!query(chrome_key).status.success(), "the key is gone");
    let edge = text(&query(
        "HKCU\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\cn.datalink.host",
    ));
    assert!(
        edge.contains("\\edge\\cn.datalink.host.json"),
        "Edge's stays: {edge}"
    );
    let out = prefix.run(&exe, &["uninstall"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !prefix
            .local_app_data()
            .join("DataLink/NativeMessagingHosts/edge")
            .exists(),
        "its folder went with it"
    );
}
