//! `datalink-host install | uninstall | doctor | backup` as a person runs them, into a temporary
//! HOME: the files for every browser (contents and permissions), uninstall leaving the HOME as it
//! was, the doctor's diagnosis of broken installs, the install script, and a backup.
#![cfg(unix)]
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

mod store_support;

const HOST: &str = env!("CARGO_BIN_EXE_datalink-host");
const ORIGIN: &str = "chrome-extension://kkaaldpdgcikdogodnihlanlipfoeboa/";

/// A temporary HOME and the host program copied into it (a stable place, as the install script
/// makes one).
struct Home {
    dir: tempfile::TempDir,
    host: PathBuf,
}

/// Runs `start` again while it fails with "text file busy": the tests copy the host binary
/// into their own HOMEs in parallel threads, and a copy still open for writing in a child
/// process another thread just forked (before its exec closes the descriptor) makes executing
/// that copy fail with ETXTBSY for a moment.
fn retry_busy<T>(mut start: impl FnMut() -> std::io::Result<T>) -> T {
    for _ in 0..50 {
        match start() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => std::thread::sleep(std::time::Duration::from_millis(20)),
            other => return other.unwrap(),
        }
    }
    start().unwrap()
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        // What every desktop account has; uninstall never removes it.
        std::fs::create_dir_all(dir.path().join(".config")).unwrap();
        let bin = dir.path().join(".local/share/datalink/bin");
        std::fs::create_dir_all(&bin).unwrap();
        let host = bin.join("datalink-host");
        std::fs::copy(HOST, &host).unwrap();
        let host = host.canonicalize().unwrap();
        Home { dir, host }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn mkdir(&self, relative: &str) {
        std::fs::create_dir_all(self.path(relative)).unwrap();
    }

    /// The host at `program` with this HOME and nothing else of the caller's environment that
    /// could point elsewhere.
    fn run_program(&self, program: &Path, args: &[&str]) -> Output {
        let mut command = Command::new(program);
        command
            .args(args)
            .env("HOME", self.dir.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .env(
                "DATALINK_DB",
                self.path(".local/share/datalink/datalink.db"),
            )
            // The card part of doctor: an E-Port control address where nothing listens, no PC/SC.
            .env("DATALINK_CARD_BACKEND", "eport")
            .env("DATALINK_EPORT_URL", "ws://127.0.0.1:9");
        retry_busy(|| command.output())
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_program(&self.host, args)
    }

    /// Every file under HOME, relative (the bin folder left out).
    fn files(&self) -> BTreeSet<String> {
        fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                if path.is_dir() {
                    out.insert(format!("{relative}/"));
                    walk(&path, root, out);
                } else {
                    out.insert(relative);
                }
            }
        }
        let mut out = BTreeSet::new();
        walk(self.dir.path(), self.dir.path(), &mut out);
        out.retain(|f| !f.starts_with(".local/"));
        out
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// (browser, manifest folder under HOME, family)
const USER_PLACES: &[(&str, &str, &str)] = &[
    (
        "chrome",
        ".config/google-chrome/NativeMessagingHosts",
        "chromium",
    ),
    (
        "chromium",
        ".config/chromium/NativeMessagingHosts",
        "chromium",
    ),
    (
        "edge",
        ".config/microsoft-edge/NativeMessagingHosts",
        "chromium",
    ),
    (
        "brave",
        ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
        "chromium",
    ),
    (
        "360",
        ".config/browser360-cn/NativeMessagingHosts",
        "chromium",
    ),
    ("firefox", ".mozilla/native-messaging-hosts", "firefox"),
];

fn expected_manifest(host: &Path, family: &str) -> Value {
    let mut manifest = json!({
        "name": "cn.datalink.host",
        "description": "DataLink 协同客户端 (native messaging host)",
        "path": host.to_string_lossy(),
        "type": "stdio",
    });
    if family == "firefox" {
        manifest["allowed_extensions"] = json!(["datalink@datalink.singlewindow"]);
    } else {
        manifest["allowed_origins"] = json!([ORIGIN]);
    }
    manifest
}

#[test]
fn install_and_uninstall_each_browser_into_an_empty_home() {
    for &(browser, folder, family) in USER_PLACES {
        let home = Home::new();
        let before = home.files();
        let out = home.run(&["install", "--browser", browser]);
        assert!(out.status.success(), "{browser}: {}", text(&out));
        let manifest = home.path(folder).join("cn.datalink.host.json");
        assert_eq!(
            read_json(&manifest),
            expected_manifest(&home.host, family),
            "{browser}"
        );
        assert_eq!(
            mode(&manifest),
            0o644,
            "{browser}: readable by the browser whatever the umask"
        );
        assert_eq!(mode(&home.path(folder)), 0o755, "{browser}");
        let added: Vec<String> = home.files().difference(&before).cloned().collect();
        assert!(
            added
                .iter()
                .all(|f| folder.starts_with(f.trim_end_matches('/')) || f.starts_with(folder)),
            "{browser}: only its folder: {added:?}"
        );
        assert!(
            text(&out).contains(&manifest.display().to_string()),
            "the report names the file"
        );

        let out = home.run(&["uninstall", "--browser", browser]);
        assert!(out.status.success(), "{browser}: {}", text(&out));
        assert_eq!(
            home.files(),
            before,
            "{browser}: uninstall removes exactly what install wrote"
        );
    }
}

#[test]
fn install_all_writes_only_for_the_browsers_found_including_flatpak_and_snap() {
    let home = Home::new();
    let out = home.run(&["install"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "no browser at all: {}",
        text(&out)
    );
    assert!(
        text(&out).contains("没有找到已安装的浏览器"),
        "{}",
        text(&out)
    );

    for folder in [
        ".config/chromium/Default",
        ".mozilla/firefox",
        ".var/app/org.chromium.Chromium/config",
        "snap/firefox/common",
    ] {
        home.mkdir(folder);
    }
    let before = home.files();
    let out = home.run(&["install", "--browser", "all"]);
    assert!(out.status.success(), "{}", text(&out));
    let added: BTreeSet<String> = home.files().difference(&before).cloned().collect();
    let manifests: BTreeSet<&str> = added
        .iter()
        .filter(|f| f.ends_with(".json"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        manifests,
        BTreeSet::from([
            ".config/chromium/NativeMessagingHosts/cn.datalink.host.json",
            ".mozilla/native-messaging-hosts/cn.datalink.host.json",
            ".var/app/org.chromium.Chromium/config/chromium/NativeMessagingHosts/cn.datalink.host.json",
            "snap/firefox/common/.mozilla/native-messaging-hosts/cn.datalink.host.json",
        ])
    );
    assert_eq!(
        read_json(
            &home.path("snap/firefox/common/.mozilla/native-messaging-hosts/cn.datalink.host.json")
        ),
        expected_manifest(&home.host, "firefox")
    );
    assert!(
        text(&out).contains("沙箱"),
        "the sandbox caveat is said: {}",
        text(&out)
    );

    let out = home.run(&["uninstall"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(home.files(), before);
}

#[test]
fn a_second_install_replaces_the_manifest_and_system_scope_needs_rights() {
    let home = Home::new();
    home.mkdir(".config/chromium");
    let manifest = home.path(".config/chromium/NativeMessagingHosts/cn.datalink.host.json");
    std::fs::create_dir_all(manifest.parent().unwrap()).unwrap();
    std::fs::write(
        &manifest,
        r#"{"name":"cn.datalink.host","path":"/old/place","type":"stdio","allowed_origins":[]}"#,
    )
    .unwrap();
    assert!(home
        .run(&["install", "--browser", "chromium"])
        .status
        .success());
    assert_eq!(
        read_json(&manifest),
        expected_manifest(&home.host, "chromium")
    );
    assert_eq!(
        std::fs::read_dir(manifest.parent().unwrap())
            .unwrap()
            .count(),
        1,
        "no temporary file left"
    );

    let out = home.run(&["install", "--browser", "safari"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("不认识的浏览器“safari”"),
        "{}",
        text(&out)
    );
}

fn doctor(home: &Home) -> (i32, String) {
    let out = home.run(&["doctor"]);
    (out.status.code().unwrap(), text(&out))
}

#[test]
fn doctor_approves_a_good_install_and_reports_the_database_and_the_card() {
    let home = Home::new();
    home.mkdir(".config/chromium");
    assert!(home
        .run(&["install", "--browser", "chromium"])
        .status
        .success());
    let (code, report) = doctor(&home);
    assert_eq!(code, 0, "{report}");
    let manifest = home.path(".config/chromium/NativeMessagingHosts/cn.datalink.host.json");
    for expected in [
        "✓ Chromium（用户级）".to_owned(),
        format!("清单 {}", manifest.display()),
        "name cn.datalink.host".to_owned(),
        format!("path {}（存在，可执行）", home.host.display()),
        format!("allowed_origins {ORIGIN}"),
        format!(
            "位置 {}",
            home.path(".local/share/datalink/datalink.db").display()
        ),
        "尚未创建".to_owned(),
        "未检测到中国电子口岸客户端控件".to_owned(),
        "结论：一切正常".to_owned(),
        "IC卡尚未就绪".to_owned(),
    ] {
        assert!(
            report.contains(&expected),
            "missing {expected:?} in:\n{report}"
        );
    }
}

#[test]
fn doctor_finds_a_moved_binary_a_wrong_extension_id_and_a_missing_manifest() {
    let home = Home::new();
    home.mkdir(".config/chromium");
    home.mkdir(".config/google-chrome");
    home.mkdir(".config/microsoft-edge");
    // Installed from a copy that is then moved away.
    let old = home.path("Downloads/datalink-host");
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    std::fs::copy(&home.host, &old).unwrap();
    assert!(home
        .run_program(&old, &["install", "--browser", "chromium"])
        .status
        .success());
    std::fs::rename(&old, home.path("Downloads/renamed")).unwrap();
    // Chrome's manifest names another extension.
    assert!(home
        .run(&["install", "--browser", "chrome"])
        .status
        .success());
    let chrome = home.path(".config/google-chrome/NativeMessagingHosts/cn.datalink.host.json");
    let mut manifest = read_json(&chrome);
    manifest["allowed_origins"] = json!(["chrome-extension://abcdefghijklmnopabcdefghijklmnop/"]);
    std::fs::write(&chrome, manifest.to_string()).unwrap();
    // Edge is installed but has no manifest.

    let (code, report) = doctor(&home);
    assert_eq!(code, 1, "{report}");
    let verdict = &report[report.find("结论").unwrap()..];
    assert!(verdict.contains("发现 3 个问题"), "{verdict}");
    assert!(
        verdict.contains(&format!(
            "Chromium：清单指向的协同客户端程序不存在：{}（程序被移动或删除了）",
            old.display()
        )),
        "{verdict}"
    );
    assert!(
        verdict.contains(
            "解决：在协同客户端现在所在的位置运行 datalink-host install --browser chromium"
        ),
        "{verdict}"
    );
    assert!(verdict.contains("Google Chrome：清单允许的扩展是 [\"chrome-extension://abcdefghijklmnopabcdefghijklmnop/\"]"), "{verdict}");
    assert!(
        verdict.contains("解决：运行 datalink-host install --browser chrome 重新生成"),
        "{verdict}"
    );
    assert!(
        verdict.contains("Microsoft Edge：未注册协同客户端"),
        "{verdict}"
    );
    assert!(
        verdict.contains("解决：运行 datalink-host install --browser edge"),
        "{verdict}"
    );

    // Following the fixes clears the verdict.
    for browser in ["chromium", "chrome", "edge"] {
        assert!(home
            .run(&["install", "--browser", browser])
            .status
            .success());
    }
    let (code, report) = doctor(&home);
    assert_eq!(code, 0, "{report}");
}

#[test]
fn doctor_reports_a_program_without_the_execute_bit() {
    let home = Home::new();
    home.mkdir(".config/chromium");
    let copy = home.path("opt/datalink-host");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(&home.host, &copy).unwrap();
    assert!(home
        .run_program(&copy, &["install", "--browser", "chromium"])
        .status
        .success());
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, report) = doctor(&home);
    assert_eq!(code, 1);
    assert!(
        report.contains(&format!("协同客户端程序没有执行权限：{}", copy.display())),
        "{report}"
    );
    assert!(
        report.contains(&format!("解决：运行 chmod +x {}", copy.display())),
        "{report}"
    );
}

#[test]
fn the_install_script_copies_the_host_to_a_stable_place_and_registers_it() {
    let home = Home::new();
    home.mkdir(".config/chromium");
    // The layout of target/dist: install.sh beside host/datalink-host.
    let dist = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifest/install.sh");
    std::fs::copy(&script, dist.path().join("install.sh")).unwrap();
    std::fs::create_dir_all(dist.path().join("host")).unwrap();
    std::fs::copy(HOST, dist.path().join("host/datalink-host")).unwrap();
    std::fs::remove_file(&home.host).unwrap();

    let out = home.run_program(
        Path::new("sh"),
        &[
            dist.path().join("install.sh").to_str().unwrap(),
            "--browser",
            "chromium",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let installed = home.path(".local/share/datalink/bin/datalink-host");
    assert_eq!(mode(&installed), 0o755);
    assert_eq!(
        mode(&home.path(".local/share/datalink")),
        0o700,
        "the data folder stays private"
    );
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(HOST).unwrap()
    );
    let manifest =
        read_json(&home.path(".config/chromium/NativeMessagingHosts/cn.datalink.host.json"));
    assert_eq!(
        manifest,
        expected_manifest(&installed.canonicalize().unwrap(), "chromium")
    );
    assert!(
        text(&out).contains("结论：一切正常"),
        "the script ends with the doctor's verdict: {}",
        text(&out)
    );

    let out = home.run_program(
        Path::new("sh"),
        &[
            dist.path().join("install.sh").to_str().unwrap(),
            "--uninstall",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!installed.exists());
    assert!(!home.path(".config/chromium/NativeMessagingHosts").exists());
}

#[test]
fn backup_writes_a_private_checked_copy() {
    let home = Home::new();
    let db = home.path(".local/share/datalink/datalink.db");
    let out = home.run(&["backup"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("还没有本地数据库"), "{}", text(&out));

    // A store with a task in it, made by the host itself over its pipe.
    let mut host = store_support::Host::start(&db, &home.path("host.log"));
    let task = host.ok(store_support::request(
        "task_create",
        &store_support::create("2026-05-25 10:00:00"),
    ));
    assert_eq!(task["number"], json!("20260525100000001"));
    host.close();
    let target = home.path("backups/copy.db");
    let out = home.run(&["backup", "--out", target.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&target.display().to_string()));
    assert_eq!(mode(&target), 0o600);
    let check = home.run(&["db", "check", "--db", target.to_str().unwrap()]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(
        text(&check).contains("integrity_check: ok"),
        "{}",
        text(&check)
    );
    // Without --out: a dated file in backups/ beside the database.
    let out = home.run(&["backup"]);
    assert!(out.status.success(), "{}", text(&out));
    let made: Vec<String> = std::fs::read_dir(home.path(".local/share/datalink/backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(made.len(), 1);
    assert!(
        made[0].starts_with("datalink-20") && made[0].ends_with("Z.db"),
        "{made:?}"
    );
    let again = home.run(&["backup", "--out", target.to_str().unwrap()]);
    assert!(
        text(&again).contains("备份文件已存在"),
        "never overwrites: {}",
        text(&again)
    );
}

#[test]
fn the_host_serves_when_firefox_starts_it_with_the_manifest_path_and_the_addon_id() {
    use std::io::{Read, Write};
    let home = Home::new();
    let manifest = home.path(".mozilla/native-messaging-hosts/cn.datalink.host.json");
    let mut command = Command::new(&home.host);
    command
        .arg(&manifest)
        .arg("datalink@datalink.singlewindow")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = retry_busy(|| command.spawn());
    let body = json!({"id": 1, "type": "ping", "protocol": 1, "extensionVersion": env!("CARGO_PKG_VERSION")}).to_string();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&(body.len() as u32).to_ne_bytes()).unwrap();
    stdin.write_all(body.as_bytes()).unwrap();
    drop(stdin);
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    assert!(child.wait().unwrap().success());
    let reply: Value = serde_json::from_slice(&out[4..]).unwrap();
    assert_eq!(reply["result"]["host"], json!("datalink-host"), "{reply}");
}
