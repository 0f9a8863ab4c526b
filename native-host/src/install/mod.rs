//! Installing the host for the browsers: `datalink-host install | uninstall | doctor | backup`.
//!
//! # How a browser finds the host
//!
//! `chrome.runtime.connectNative("cn.datalink.host")` makes the browser look for a **host
//! manifest** named `cn.datalink.host.json` (see [`manifest`]): a small JSON file with the
//! program's absolute `path` and the extensions allowed to start it. Where it looks depends on
//! the browser and the OS:
//!
//! | OS | per user (`--user`, the default) | all users (`--system`) |
//! |---|---|---|
//! | Linux | `~/.config/<browser>/NativeMessagingHosts/` (Firefox `~/.mozilla/native-messaging-hosts/`); Flatpak and snap packages have their own folders | `/etc/opt/chrome/native-messaging-hosts/`, `/etc/chromium/…`, `/usr/lib/mozilla/…` |
//! | macOS | `~/Library/Application Support/<browser>/NativeMessagingHosts/` | `/Library/…` |
//! | Windows | the registry: `HKCU\Software\<vendor>\NativeMessagingHosts\cn.datalink.host`, default value = the manifest's path (we keep the file in `%LOCALAPPDATA%\DataLink\NativeMessagingHosts\<browser>\`) | `HKLM\…` and `%ProgramData%\DataLink\…` |
//!
//! All of it is one data table, [`table::BROWSERS`]; [`table::targets`] turns it into paths for
//! this machine from an [`table::Env`] (HOME, XDG_CONFIG_HOME, LOCALAPPDATA), which is why every
//! path can be tested — for Windows too — in a temporary folder on Linux.
//!
//! # The commands
//!
//! * `install [--browser B]… [--user|--system]` writes, for each chosen browser, the manifest
//!   pointing at **this** program ([`std::env::current_exe`]): run it from where the program will
//!   stay (the install scripts copy it to a stable folder first). Without `--browser`: every
//!   browser whose folder exists (Linux, macOS), every browser in the table (Windows: a key for a
//!   browser that is not installed is never read). Files are written atomically, mode `0644`.
//! * `uninstall` removes exactly what `install` writes: our manifest files, the folders that are
//!   left empty by that (never above the browser's own folder), our registry keys.
//! * `doctor` ([`doctor`]) prints what the browser will find and a verdict with a fix per problem.
//! * `backup` ([`backup`]) copies the store into a consistent single file.
//!
//! Messages are Chinese; an error never carries a path (the report lines before it say which
//! place was being written).

pub mod backup;
pub mod doctor;
pub mod manifest;
pub mod registry;
pub mod table;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use table::{Browser, Env, Os, Scope, TableError, Target, BROWSERS};

/// Why installing or uninstalling one place failed. No paths in the text.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("不认识的浏览器“{0}”：可选 chrome、chromium、edge、brave、360、firefox 或 all")]
    UnknownBrowser(String),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("没有找到已安装的浏览器：请用 --browser 指定，例如 --browser chrome")]
    NoBrowserFound,
    #[error("无法确定协同客户端程序自身的位置（{0:?}）")]
    OwnPath(io::ErrorKind),
    #[error("无法写入清单文件（{kind:?}）{}", permission_hint(*.kind, *.system))]
    Write { kind: io::ErrorKind, system: bool },
    #[error("无法写入注册表（{kind:?}）{}", permission_hint(*.kind, *.system))]
    Registry { kind: io::ErrorKind, system: bool },
    #[error("无法删除清单文件（{kind:?}）{}", permission_hint(*.kind, *.system))]
    Remove { kind: io::ErrorKind, system: bool },
}

fn permission_hint(kind: io::ErrorKind, system: bool) -> &'static str {
    match (kind, system) {
        (io::ErrorKind::PermissionDenied, true) => {
            "：权限不足，--system 需要管理员权限（Linux、macOS 用 sudo；Windows 以管理员身份运行）"
        }
        (io::ErrorKind::PermissionDenied, false) => "：权限不足，请检查该目录的所有者和权限",
        _ => "",
    }
}

/// Which browsers a command is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// No `--browser`, or `--browser all`.
    All,
    Some(Vec<Browser>),
}

/// The parsed options of `install` / `uninstall`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub selection: Selection,
    pub scope: Scope,
}

impl Request {
    /// `--browser B` (repeatable, or comma-separated), `--user` / `--system`.
    pub fn parse(args: &[String]) -> Result<Request, String> {
        let mut browsers: Vec<Browser> = Vec::new();
        let mut all = false;
        let mut scope = Scope::User;
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let value = match arg.split_once('=') {
                Some(("--browser", value)) => Some(value.to_owned()),
                _ if arg == "--browser" => {
                    Some(rest.next().cloned().ok_or("--browser needs a value")?)
                }
                _ => None,
            };
            if let Some(value) = value {
                for id in value.split(',').filter(|v| !v.trim().is_empty()) {
                    if id.trim().eq_ignore_ascii_case("all") {
                        all = true;
                    } else {
                        let browser = Browser::parse(id).ok_or_else(|| {
                            InstallError::UnknownBrowser(id.to_owned()).to_string()
                        })?;
                        if !browsers.contains(&browser) {
                            browsers.push(browser);
                        }
                    }
                }
                continue;
            }
            match arg.as_str() {
                "--user" => scope = Scope::User,
                "--system" => scope = Scope::System,
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        let selection = if all || browsers.is_empty() {
            Selection::All
        } else {
            Selection::Some(browsers)
        };
        Ok(Request { selection, scope })
    }
}

/// Every browser in the table, in table order.
pub fn every_browser() -> Vec<Browser> {
    BROWSERS.iter().map(|b| b.browser).collect()
}

/// The places `install` writes for a request: named browsers get their own package's place and
/// the sandboxed packages found; `All` gets every place whose browser was found (every browser
/// on Windows).
pub fn install_targets(env: &Env, request: &Request) -> Result<Vec<Target>, InstallError> {
    let (browsers, named) = match &request.selection {
        Selection::All => (every_browser(), false),
        Selection::Some(list) => (list.clone(), true),
    };
    let chosen: Vec<Target> = table::targets(env, &browsers, request.scope)?
        .into_iter()
        .filter(|t| env.os == Os::Windows || t.present || (named && t.sandbox.is_none()))
        .collect();
    if chosen.is_empty() {
        return Err(InstallError::NoBrowserFound);
    }
    Ok(chosen)
}

/// Writes one target: the manifest file (atomically, 0644), then its registry keys.
pub fn install_one(
    env: &Env,
    target: &Target,
    host: &Path,
    scope: Scope,
) -> Result<(), InstallError> {
    let system = scope == Scope::System;
    let text = manifest::render(target.info.family, host);
    write_file(&target.manifest, &text).map_err(|e| InstallError::Write {
        kind: e.kind(),
        system,
    })?;
    if env.os == Os::Windows {
        for key in &target.registry {
            registry::write(key, &target.manifest).map_err(|e| InstallError::Registry {
                kind: e.kind(),
                system,
            })?;
        }
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o755);
    builder.create(dir)?;
    let temporary = dir.join(format!(".{}.tmp", table::manifest_file_name()));
    std::fs::write(&temporary, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Readable by the browser whatever the umask (and by every user for --system).
        std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o644))?;
    }
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

/// What `uninstall` did at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub file: bool,
    pub keys: Vec<String>,
    pub folders: Vec<PathBuf>,
}

/// Removes what `install` wrote at one target: the manifest, the folders this leaves empty
/// (up to [`Target::keep`]), the registry keys.
pub fn uninstall_one(env: &Env, target: &Target, scope: Scope) -> Result<Removed, InstallError> {
    let system = scope == Scope::System;
    let mut removed = Removed {
        file: false,
        keys: Vec::new(),
        folders: Vec::new(),
    };
    match std::fs::remove_file(&target.manifest) {
        Ok(()) => removed.file = true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(InstallError::Remove {
                kind: e.kind(),
                system,
            })
        }
    }
    if removed.file {
        let mut folder = target.manifest.parent();
        while let Some(dir) = folder.filter(|d| d.starts_with(&target.keep) && *d != target.keep) {
            // Fails, and stops, at the first folder that is not empty: only what we left empty goes.
            if std::fs::remove_dir(dir).is_err() {
                break;
            }
            removed.folders.push(dir.to_path_buf());
            folder = dir.parent();
        }
    }
    if env.os == Os::Windows {
        for key in &target.registry {
            if registry::delete(key).map_err(|e| InstallError::Remove {
                kind: e.kind(),
                system,
            })? {
                removed.keys.push(key.to_string());
            }
        }
    }
    Ok(removed)
}

/// Output for the person at the terminal (these commands are never run by the browser).
pub(crate) fn out(text: &str) -> bool {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .is_ok()
}

fn usage_error(message: &str) -> ExitCode {
    let _ = write!(io::stderr(), "{message}\n\n{}", crate::USAGE);
    ExitCode::from(2)
}

fn scope_words(scope: Scope) -> &'static str {
    match scope {
        Scope::User => "当前用户",
        Scope::System => "本机所有用户",
    }
}

/// The running program's absolute path, resolved through links.
pub fn own_path() -> Result<PathBuf, InstallError> {
    let exe = std::env::current_exe().map_err(|e| InstallError::OwnPath(e.kind()))?;
    Ok(plain(exe.canonicalize().unwrap_or(exe)))
}

/// Windows' `canonicalize` answers verbatim paths (`\\?\C:\…`, `\\?\UNC\server\…`): the
/// manifest gets the ordinary spelling, which every browser understands.
pub fn plain(path: PathBuf) -> PathBuf {
    let text = path.to_string_lossy();
    if let Some(rest) = text.strip_prefix(r"\\?\UNC\") {
        PathBuf::from(format!(r"\\{rest}"))
    } else if let Some(rest) = text.strip_prefix(r"\\?\") {
        PathBuf::from(rest)
    } else {
        path
    }
}

/// `datalink-host install …`
pub fn install_command(args: &[String]) -> ExitCode {
    let request = match Request::parse(args) {
        Ok(request) => request,
        Err(message) => return usage_error(&message),
    };
    let env = Env::from_process();
    let host = match own_path() {
        Ok(host) => host,
        Err(e) => return fail(&e),
    };
    let targets = match install_targets(&env, &request) {
        Ok(targets) => targets,
        Err(e) => return fail(&e),
    };
    let mut report = format!(
        "datalink-host {} 安装：为{}注册协同客户端\n程序：{}\n",
        crate::VERSION,
        scope_words(request.scope),
        host.display()
    );
    if host.starts_with(std::env::temp_dir()) {
        report.push_str("注意：程序位于临时目录，被清理后浏览器将找不到它；请用安装脚本把它复制到固定位置后再安装。\n");
    }
    let mut done = 0;
    let mut failed = 0;
    for target in &targets {
        match install_one(&env, target, &host, request.scope) {
            Ok(()) => {
                done += 1;
                report.push_str(&format!(
                    "✓ {}\n    清单 {}\n",
                    target.label,
                    target.manifest.display()
                ));
                for key in &target.registry {
                    report.push_str(&format!("    注册表 {key}\n"));
                }
                if target.sandbox.is_some() {
                    report.push_str("    注意：沙箱中的浏览器可能不允许启动外部程序；若连接失败，请改用发行版自带的浏览器软件包。\n");
                }
                if !target.info.verified {
                    report.push_str("    注意：该浏览器的位置按 Chromium 的规则推断，尚未在真实安装上核实；请用 doctor 检查，连接失败时请改用 Chrome 或 Edge。\n");
                }
            }
            Err(e) => {
                failed += 1;
                report.push_str(&format!(
                    "✗ {}：{e}\n    清单 {}\n",
                    target.label,
                    target.manifest.display()
                ));
            }
        }
    }
    report.push_str(&match failed {
        0 => format!("完成：已为 {done} 处注册。浏览器下次连接协同客户端时即生效（在扩展页面点击“连接协同服务”）。\n"),
        _ => format!("未完成：{done} 处成功，{failed} 处失败（见上）。\n"),
    });
    out(&report);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `datalink-host uninstall …`: every place of the chosen browsers, found or not.
pub fn uninstall_command(args: &[String]) -> ExitCode {
    let request = match Request::parse(args) {
        Ok(request) => request,
        Err(message) => return usage_error(&message),
    };
    let env = Env::from_process();
    let browsers = match &request.selection {
        Selection::All => every_browser(),
        Selection::Some(list) => list.clone(),
    };
    let targets = match table::targets(&env, &browsers, request.scope) {
        Ok(targets) => targets,
        Err(e) => return fail(&e.into()),
    };
    let mut report = format!(
        "datalink-host {} 卸载：移除为{}注册的协同客户端\n",
        crate::VERSION,
        scope_words(request.scope)
    );
    let (mut removed, mut failed) = (0, 0);
    for target in &targets {
        match uninstall_one(&env, target, request.scope) {
            Ok(r) if r.file || !r.keys.is_empty() => {
                removed += 1;
                report.push_str(&format!(
                    "✓ {}：已删除 {}\n",
                    target.label,
                    target.manifest.display()
                ));
                for key in &r.keys {
                    report.push_str(&format!("    注册表 {key}\n"));
                }
                for folder in &r.folders {
                    report.push_str(&format!("    空目录 {}\n", folder.display()));
                }
            }
            Ok(_) => {}
            Err(e) => {
                failed += 1;
                report.push_str(&format!(
                    "✗ {}：{e}\n    清单 {}\n",
                    target.label,
                    target.manifest.display()
                ));
            }
        }
    }
    report.push_str(&match (removed, failed) {
        (0, 0) => "没有找到需要移除的注册。\n".to_owned(),
        (n, 0) => {
            format!("完成：已移除 {n} 处注册。本地数据库未删除（位置见 datalink-host doctor）。\n")
        }
        (n, f) => format!("未完成：{n} 处已移除，{f} 处失败（见上）。\n"),
    });
    out(&report);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn fail(error: &InstallError) -> ExitCode {
    let _ = writeln!(io::stderr(), "{error}");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn verbatim_windows_paths_are_made_plain() {
        assert_eq!(
            plain(PathBuf::from(r"\\?\Z:\work\datalink-host.exe")),
            PathBuf::from(r"Z:\work\datalink-host.exe")
        );
        assert_eq!(
            plain(PathBuf::from(r"\\?\UNC\server\share\d.exe")),
            PathBuf::from(r"\\server\share\d.exe")
        );
        assert_eq!(
            plain(PathBuf::from("/opt/datalink/datalink-host")),
            PathBuf::from("/opt/datalink/datalink-host")
        );
    }

    #[test]
    fn options() {
        assert_eq!(
            Request::parse(&[]).unwrap(),
            Request {
                selection: Selection::All,
                scope: Scope::User
            }
        );
        assert_eq!(
            Request::parse(&args(&[
                "--browser",
                "chromium",
                "--browser=edge,firefox",
                "--system"
            ]))
            .unwrap(),
            Request {
                selection: Selection::Some(vec![
                    Browser::Chromium,
                    Browser::Edge,
                    Browser::Firefox
                ]),
                scope: Scope::System
            }
        );
        assert_eq!(
            Request::parse(&args(&["--browser", "all"]))
                .unwrap()
                .selection,
            Selection::All
        );
        assert!(Request::parse(&args(&["--browser", "safari"]))
            .unwrap_err()
            .contains("safari"));
        assert!(Request::parse(&args(&["--browser"])).is_err());
        assert!(Request::parse(&args(&["--force"])).is_err());
    }

    fn env_at(home: &Path) -> Env {
        Env {
            os: Os::Linux,
            home: Some(home.to_path_buf()),
            config_home: None,
            local_app_data: None,
            program_data: None,
        }
    }

    #[test]
    fn all_means_the_browsers_found_and_a_named_one_is_written_anyway() {
        let home = tempfile::tempdir().unwrap();
        let env = env_at(home.path());
        let all = Request {
            selection: Selection::All,
            scope: Scope::User,
        };
        assert!(matches!(
            install_targets(&env, &all),
            Err(InstallError::NoBrowserFound)
        ));
        std::fs::create_dir_all(home.path().join(".config/microsoft-edge")).unwrap();
        std::fs::create_dir_all(home.path().join(".var/app/org.chromium.Chromium")).unwrap();
        let labels: Vec<String> = install_targets(&env, &all)
            .unwrap()
            .into_iter()
            .map(|t| t.label)
            .collect();
        assert_eq!(
            labels,
            ["Chromium (Flatpak org.chromium.Chromium)", "Microsoft Edge"]
        );
        let named = Request {
            selection: Selection::Some(vec![Browser::Chromium]),
            scope: Scope::User,
        };
        let labels: Vec<String> = install_targets(&env, &named)
            .unwrap()
            .into_iter()
            .map(|t| t.label)
            .collect();
        assert_eq!(
            labels,
            ["Chromium", "Chromium (Flatpak org.chromium.Chromium)"]
        );
    }

    #[test]
    fn uninstall_removes_only_the_folders_it_left_empty() {
        let home = tempfile::tempdir().unwrap();
        let env = env_at(home.path());
        let chrome = &table::targets(&env, &[Browser::Chrome], Scope::User).unwrap()[0];
        let edge = &table::targets(&env, &[Browser::Edge], Scope::User).unwrap()[0];
        std::fs::create_dir_all(home.path().join(".config/microsoft-edge/Default")).unwrap();
        for target in [chrome, edge] {
            install_one(&env, target, Path::new("/opt/datalink-host"), Scope::User).unwrap();
            assert!(target.manifest.is_file());
        }
        let removed = uninstall_one(&env, chrome, Scope::User).unwrap();
        assert!(removed.file);
        assert_eq!(
            removed.folders,
            [
                home.path()
                    .join(".config/google-chrome/NativeMessagingHosts"),
                home.path().join(".config/google-chrome")
            ]
        );
        assert!(
            home.path().join(".config").is_dir(),
            "never above the browser's folder"
        );
        let removed = uninstall_one(&env, edge, Scope::User).unwrap();
        assert_eq!(
            removed.folders,
            [home
                .path()
                .join(".config/microsoft-edge/NativeMessagingHosts")]
        );
        assert!(
            home.path().join(".config/microsoft-edge/Default").is_dir(),
            "the browser's own data stays"
        );
        assert_eq!(
            uninstall_one(&env, edge, Scope::User).unwrap(),
            Removed {
                file: false,
                keys: vec![],
                folders: vec![]
            }
        );
    }
}
