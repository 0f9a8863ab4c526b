//! The one table of browsers: where each reads native messaging host manifests, per OS and scope.
//!
//! Everything `install`, `uninstall` and `doctor` know about a browser is a row of [`BROWSERS`];
//! [`targets`] turns rows into concrete places for one machine ([`Env`]). Nothing here touches
//! the file system except `exists()` checks, so every path is unit-tested for Linux, macOS and
//! Windows on any OS.
//!
//! Sources: Chrome's and Edge's native messaging documentation (Linux, macOS folders; Windows
//! `HKCU\Software\<vendor>\NativeMessagingHosts\<name>` → manifest path), MDN for Firefox, the
//! Flathub and Snap packages' data folders. Rows marked `verified: false` (360 browsers) follow
//! Chromium's rule — the registry key and folders are named after the product's user-data folder
//! (`%LOCALAPPDATA%\360Chrome\Chrome`, `%APPDATA%\360se6`) — but were not confirmed on a real 360
//! install; `doctor` says so.

use std::path::{Path, PathBuf};

use datalink_core::protocol::HOST_NAME;

/// The browsers `--browser` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Browser {
    Chrome,
    Chromium,
    Edge,
    Brave,
    /// 360安全浏览器 and 360极速浏览器 (both Chromium-based).
    Qihoo360,
    Firefox,
}

/// Which manifest a browser reads: Chromium's `allowed_origins` or Firefox's `allowed_extensions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Chromium,
    Firefox,
}

/// The operating systems with a row in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    Macos,
    Windows,
}

impl Os {
    /// The OS this binary was built for (other Unixes are treated like Linux).
    pub fn current() -> Os {
        if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::Macos
        } else {
            Os::Linux
        }
    }
}

/// For this user only, or for every user of the machine (needs root / administrator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    User,
    System,
}

/// Where a relative path in the table starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// `$XDG_CONFIG_HOME` when set and absolute, else `~/.config` (Linux).
    ConfigHome,
    /// The home folder.
    Home,
    /// `~/Library/Application Support` (macOS).
    AppSupport,
    /// `%LOCALAPPDATA%` (Windows, per user).
    LocalAppData,
    /// `%ProgramData%` (Windows, all users).
    ProgramData,
    /// A fixed absolute folder.
    Fixed(&'static str),
}

/// `base / dir / sub / cn.datalink.host.json`: `dir` is the browser's own folder (its presence
/// says the browser was used), `sub` the manifests folder inside it. Paths use `/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub base: Base,
    pub dir: &'static str,
    pub sub: &'static str,
}

const fn place(base: Base, dir: &'static str, sub: &'static str) -> Place {
    Place { base, dir, sub }
}

/// A sandboxed package of a browser with its own data folder (Linux, per user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sandbox {
    pub kind: SandboxKind,
    /// The Flatpak application id or the snap name.
    pub app: &'static str,
    /// Under the home folder; exists once the package has run.
    pub marker: &'static str,
    pub place: Place,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxKind {
    Flatpak,
    Snap,
}

/// One row: a browser on every OS.
#[derive(Debug, PartialEq, Eq)]
pub struct BrowserInfo {
    pub browser: Browser,
    /// What `--browser` takes.
    pub id: &'static str,
    pub label: &'static str,
    pub family: Family,
    /// Whether the locations were confirmed against the browser's documentation.
    pub verified: bool,
    pub linux_user: Place,
    pub linux_system: Place,
    pub mac_user: Place,
    pub mac_system: Place,
    /// Registry paths under HKCU / HKLM, without `\NativeMessagingHosts\<name>`.
    pub windows_vendors: &'static [&'static str],
    pub sandboxes: &'static [Sandbox],
}

const NMH: &str = "NativeMessagingHosts";
const NMH_ETC: &str = "native-messaging-hosts";
const FLATPAK: SandboxKind = SandboxKind::Flatpak;
const SNAP: SandboxKind = SandboxKind::Snap;

/// Every browser DataLink installs for.
pub static BROWSERS: &[BrowserInfo] = &[
    BrowserInfo {
        browser: Browser::Chrome,
        id: "chrome",
        label: "Google Chrome",
        family: Family::Chromium,
        verified: true,
        linux_user: place(Base::ConfigHome, "google-chrome", NMH),
        linux_system: place(Base::Fixed("/etc/opt"), "chrome", NMH_ETC),
        mac_user: place(Base::AppSupport, "Google/Chrome", NMH),
        mac_system: place(Base::Fixed("/Library"), "Google/Chrome", NMH),
        windows_vendors: &["Software\\Google\\Chrome"],
        sandboxes: &[Sandbox {
            kind: FLATPAK,
            app: "com.google.Chrome",
            marker: ".var/app/com.google.Chrome",
            place: place(
                Base::Home,
                ".var/app/com.google.Chrome/config/google-chrome",
                NMH,
            ),
        }],
    },
    BrowserInfo {
        browser: Browser::Chromium,
        id: "chromium",
        label: "Chromium",
        family: Family::Chromium,
        verified: true,
        linux_user: place(Base::ConfigHome, "chromium", NMH),
        linux_system: place(Base::Fixed("/etc"), "chromium", NMH_ETC),
        mac_user: place(Base::AppSupport, "Chromium", NMH),
        mac_system: place(Base::Fixed("/Library/Application Support"), "Chromium", NMH),
        windows_vendors: &["Software\\Chromium"],
        sandboxes: &[
            Sandbox {
                kind: FLATPAK,
                app: "org.chromium.Chromium",
                marker: ".var/app/org.chromium.Chromium",
                place: place(
                    Base::Home,
                    ".var/app/org.chromium.Chromium/config/chromium",
                    NMH,
                ),
            },
            Sandbox {
                kind: SNAP,
                app: "chromium",
                marker: "snap/chromium",
                place: place(Base::Home, "snap/chromium/common/chromium", NMH),
            },
        ],
    },
    BrowserInfo {
        browser: Browser::Edge,
        id: "edge",
        label: "Microsoft Edge",
        family: Family::Chromium,
        verified: true,
        linux_user: place(Base::ConfigHome, "microsoft-edge", NMH),
        linux_system: place(Base::Fixed("/etc/opt"), "edge", NMH_ETC),
        mac_user: place(Base::AppSupport, "Microsoft Edge", NMH),
        mac_system: place(Base::Fixed("/Library"), "Microsoft/Edge", NMH),
        windows_vendors: &["Software\\Microsoft\\Edge"],
        sandboxes: &[Sandbox {
            kind: FLATPAK,
            app: "com.microsoft.Edge",
            marker: ".var/app/com.microsoft.Edge",
            place: place(
                Base::Home,
                ".var/app/com.microsoft.Edge/config/microsoft-edge",
                NMH,
            ),
        }],
    },
    BrowserInfo {
        browser: Browser::Brave,
        id: "brave",
        label: "Brave",
        family: Family::Chromium,
        verified: true,
        linux_user: place(Base::ConfigHome, "BraveSoftware/Brave-Browser", NMH),
        linux_system: place(Base::Fixed("/etc/opt"), "brave", NMH_ETC),
        mac_user: place(Base::AppSupport, "BraveSoftware/Brave-Browser", NMH),
        mac_system: place(
            Base::Fixed("/Library/Application Support"),
            "BraveSoftware/Brave-Browser",
            NMH,
        ),
        windows_vendors: &["Software\\BraveSoftware\\Brave-Browser"],
        sandboxes: &[Sandbox {
            kind: FLATPAK,
            app: "com.brave.Browser",
            marker: ".var/app/com.brave.Browser",
            place: place(
                Base::Home,
                ".var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser",
                NMH,
            ),
        }],
    },
    BrowserInfo {
        browser: Browser::Qihoo360,
        id: "360",
        label: "360浏览器",
        family: Family::Chromium,
        verified: false,
        linux_user: place(Base::ConfigHome, "browser360-cn", NMH),
        linux_system: place(Base::Fixed("/etc/opt"), "browser360-cn", NMH_ETC),
        mac_user: place(Base::AppSupport, "360Chrome", NMH),
        mac_system: place(
            Base::Fixed("/Library/Application Support"),
            "360Chrome",
            NMH,
        ),
        // 360极速浏览器 (user data in %LOCALAPPDATA%\360Chrome\Chrome) and 360安全浏览器 (%APPDATA%\360se6).
        windows_vendors: &["Software\\360Chrome\\Chrome", "Software\\360se6"],
        sandboxes: &[],
    },
    BrowserInfo {
        browser: Browser::Firefox,
        id: "firefox",
        label: "Firefox",
        family: Family::Firefox,
        verified: true,
        linux_user: place(Base::Home, ".mozilla", "native-messaging-hosts"),
        linux_system: place(Base::Fixed("/usr/lib"), "mozilla", "native-messaging-hosts"),
        mac_user: place(Base::AppSupport, "Mozilla", NMH),
        mac_system: place(Base::Fixed("/Library/Application Support"), "Mozilla", NMH),
        windows_vendors: &["Software\\Mozilla"],
        sandboxes: &[
            Sandbox {
                kind: FLATPAK,
                app: "org.mozilla.firefox",
                marker: ".var/app/org.mozilla.firefox",
                place: place(
                    Base::Home,
                    ".var/app/org.mozilla.firefox/.mozilla",
                    "native-messaging-hosts",
                ),
            },
            Sandbox {
                kind: SNAP,
                app: "firefox",
                marker: "snap/firefox",
                place: place(
                    Base::Home,
                    "snap/firefox/common/.mozilla",
                    "native-messaging-hosts",
                ),
            },
        ],
    },
];

impl Browser {
    /// The browser's row.
    pub fn info(self) -> &'static BrowserInfo {
        // Every variant has exactly one row (checked by a test); the fallback is never taken.
        BROWSERS
            .iter()
            .find(|b| b.browser == self)
            .unwrap_or(&BROWSERS[0])
    }

    /// `chrome`, `360`, … as `--browser` takes them.
    pub fn parse(id: &str) -> Option<Browser> {
        let id = id.trim().to_ascii_lowercase();
        let id = match id.as_str() {
            "google-chrome" => "chrome",
            "msedge" | "microsoft-edge" => "edge",
            "360se" | "360chrome" | "qihoo360" => "360",
            other => other,
        };
        BROWSERS.iter().find(|b| b.id == id).map(|b| b.browser)
    }
}

/// The manifest's file name: the host's registered name.
pub fn manifest_file_name() -> String {
    format!("{HOST_NAME}.json")
}

/// What the table needs from the machine. [`Env::from_process`] reads it; tests build one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    pub os: Os,
    pub home: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME`, already checked to be absolute.
    pub config_home: Option<PathBuf>,
    pub local_app_data: Option<PathBuf>,
    pub program_data: Option<PathBuf>,
}

impl Env {
    /// This process's environment (`HOME`, `XDG_CONFIG_HOME`, `LOCALAPPDATA`, `ProgramData`).
    pub fn from_process() -> Env {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let os = Os::current();
        let home = var("HOME").or_else(|| {
            if os == Os::Windows {
                var("USERPROFILE")
            } else {
                None
            }
        });
        Env {
            os,
            home,
            // A relative XDG_CONFIG_HOME is invalid and must be ignored (the XDG spec, and Chromium).
            config_home: var("XDG_CONFIG_HOME").filter(|p| p.is_absolute()),
            local_app_data: var("LOCALAPPDATA"),
            program_data: var("ProgramData").or_else(|| var("PROGRAMDATA")),
        }
    }

    fn base(&self, base: Base) -> Option<PathBuf> {
        let home = || self.home.clone();
        match base {
            Base::ConfigHome => self
                .config_home
                .clone()
                .or_else(|| home().map(|h| self.join(&h, ".config"))),
            Base::Home => home(),
            Base::AppSupport => home().map(|h| self.join(&h, "Library/Application Support")),
            Base::LocalAppData => self.local_app_data.clone(),
            Base::ProgramData => Some(
                self.program_data
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("C:\\ProgramData")),
            ),
            Base::Fixed(path) => Some(PathBuf::from(path)),
        }
    }

    /// `base` + a `/`-separated relative path, with the target OS's separator — so the paths of
    /// any OS come out the same whichever OS computes them (the tests check Windows paths on
    /// Linux, and the Linux ones run under wine).
    pub fn join(&self, base: &Path, relative: &str) -> PathBuf {
        let separator = if self.os == Os::Windows { "\\" } else { "/" };
        let mut path = base.as_os_str().to_owned();
        let text = base.to_string_lossy();
        if text.len() > 1 && text.ends_with(separator) {
            path = std::ffi::OsString::from(text.trim_end_matches(separator));
        }
        for part in relative.split('/').filter(|p| !p.is_empty()) {
            path.push(separator);
            path.push(part);
        }
        PathBuf::from(path)
    }
}

/// A registry hive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hive {
    CurrentUser,
    LocalMachine,
}

impl Hive {
    pub fn name(self) -> &'static str {
        match self {
            Hive::CurrentUser => "HKEY_CURRENT_USER",
            Hive::LocalMachine => "HKEY_LOCAL_MACHINE",
        }
    }
}

/// A registry key whose default value is the manifest's path (Windows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegKey {
    pub hive: Hive,
    /// `Software\Google\Chrome\NativeMessagingHosts\cn.datalink.host`
    pub path: String,
    /// `Software\Google\Chrome`: exists when the browser was installed or used.
    pub vendor: String,
}

impl std::fmt::Display for RegKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\\{}", self.hive.name(), self.path)
    }
}

/// The registry keys for a browser (Windows): `<hive>\<vendor>\NativeMessagingHosts\cn.datalink.host`.
pub fn registry_keys(info: &BrowserInfo, scope: Scope) -> Vec<RegKey> {
    let hive = match scope {
        Scope::User => Hive::CurrentUser,
        Scope::System => Hive::LocalMachine,
    };
    info.windows_vendors
        .iter()
        .map(|vendor| RegKey {
            hive,
            path: format!("{vendor}\\NativeMessagingHosts\\{HOST_NAME}"),
            vendor: (*vendor).to_owned(),
        })
        .collect()
}

/// One place where one browser (or one sandboxed package of it) reads our manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub info: &'static BrowserInfo,
    pub sandbox: Option<Sandbox>,
    /// `Chromium`, `Chromium (Flatpak org.chromium.Chromium)`.
    pub label: String,
    /// The manifest file.
    pub manifest: PathBuf,
    /// Uninstall removes the folders it leaves empty up to, not including, this one.
    pub keep: PathBuf,
    /// Windows: keys pointing at [`Target::manifest`].
    pub registry: Vec<RegKey>,
    /// Whether the browser seems installed here (its folder exists). On Windows the registry
    /// decides (see `registry::vendor_present`); this is `false` from the table alone.
    pub present: bool,
}

/// Why no target could be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("未设置 HOME（Windows：LOCALAPPDATA），无法确定浏览器的配置目录")]
    NoHome,
}

/// Every place for `browsers` on this machine, native packages first, then the sandboxed ones
/// (Linux, per user; all of them, present or not — callers filter on [`Target::present`]).
pub fn targets(env: &Env, browsers: &[Browser], scope: Scope) -> Result<Vec<Target>, TableError> {
    let mut out = Vec::new();
    for &browser in browsers {
        let info = browser.info();
        let file = manifest_file_name();
        match env.os {
            Os::Windows => {
                let base = match scope {
                    Scope::User => Base::LocalAppData,
                    Scope::System => Base::ProgramData,
                };
                let base = env.base(base).ok_or(TableError::NoHome)?;
                let manifest = env.join(
                    &base,
                    &format!("DataLink/NativeMessagingHosts/{}/{file}", info.id),
                );
                out.push(Target {
                    info,
                    sandbox: None,
                    label: info.label.to_owned(),
                    manifest,
                    keep: base,
                    registry: registry_keys(info, scope),
                    present: false,
                });
            }
            Os::Linux | Os::Macos => {
                let own = match (env.os, scope) {
                    (Os::Macos, Scope::User) => info.mac_user,
                    (Os::Macos, Scope::System) => info.mac_system,
                    (_, Scope::User) => info.linux_user,
                    (_, Scope::System) => info.linux_system,
                };
                let base = env.base(own.base).ok_or(TableError::NoHome)?;
                let folder = env.join(&base, own.dir);
                out.push(Target {
                    info,
                    sandbox: None,
                    label: info.label.to_owned(),
                    manifest: env.join(&folder, &format!("{}/{file}", own.sub)),
                    present: folder.is_dir(),
                    keep: base,
                    registry: Vec::new(),
                });
                if env.os == Os::Linux && scope == Scope::User {
                    let home = env.home.clone().ok_or(TableError::NoHome)?;
                    for sandbox in info.sandboxes {
                        let marker = env.join(&home, sandbox.marker);
                        let folder = env.join(&home, sandbox.place.dir);
                        let kind = match sandbox.kind {
                            SandboxKind::Flatpak => "Flatpak",
                            SandboxKind::Snap => "snap",
                        };
                        out.push(Target {
                            info,
                            sandbox: Some(*sandbox),
                            label: format!("{} ({kind} {})", info.label, sandbox.app),
                            manifest: env.join(&folder, &format!("{}/{file}", sandbox.place.sub)),
                            present: marker.is_dir(),
                            // The folder holding the browser's own one, as for the native package.
                            keep: env.join(
                                &home,
                                sandbox
                                    .place
                                    .dir
                                    .rsplit_once('/')
                                    .map_or("", |(parent, _)| parent),
                            ),
                            registry: Vec::new(),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux(home: &str) -> Env {
        Env {
            os: Os::Linux,
            home: Some(home.into()),
            config_home: None,
            local_app_data: None,
            program_data: None,
        }
    }

    fn paths(targets: &[Target]) -> Vec<String> {
        targets
            .iter()
            .map(|t| t.manifest.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn every_browser_has_one_row_and_parses_by_its_id() {
        let all = [
            Browser::Chrome,
            Browser::Chromium,
            Browser::Edge,
            Browser::Brave,
            Browser::Qihoo360,
            Browser::Firefox,
        ];
        assert_eq!(BROWSERS.len(), all.len());
        for browser in all {
            assert_eq!(
                BROWSERS.iter().filter(|b| b.browser == browser).count(),
                1,
                "{browser:?}"
            );
            assert_eq!(Browser::parse(browser.info().id), Some(browser));
        }
        assert_eq!(Browser::parse("Google-Chrome"), Some(Browser::Chrome));
        assert_eq!(Browser::parse("msedge"), Some(Browser::Edge));
        assert_eq!(Browser::parse("360se"), Some(Browser::Qihoo360));
        assert_eq!(Browser::parse("safari"), None);
        assert_eq!(Browser::Firefox.info().family, Family::Firefox);
        assert!(BROWSERS
            .iter()
            .filter(|b| b.browser != Browser::Firefox)
            .all(|b| b.family == Family::Chromium));
    }

    #[test]
    fn linux_user_paths_follow_xdg_config_home_except_firefox() {
        let mut env = linux("/home/u");
        let all: Vec<Browser> = BROWSERS.iter().map(|b| b.browser).collect();
        let native: Vec<String> = paths(
            &targets(&env, &all, Scope::User)
                .unwrap()
                .into_iter()
                .filter(|t| t.sandbox.is_none())
                .collect::<Vec<_>>(),
        );
        assert_eq!(
            native,
            [
                "/home/u/.config/google-chrome/NativeMessagingHosts/cn.datalink.host.json",
                "/home/u/.config/chromium/NativeMessagingHosts/cn.datalink.host.json",
                "/home/u/.config/microsoft-edge/NativeMessagingHosts/cn.datalink.host.json",
                "/home/u/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts/cn.datalink.host.json",
                "/home/u/.config/browser360-cn/NativeMessagingHosts/cn.datalink.host.json",
                "/home/u/.mozilla/native-messaging-hosts/cn.datalink.host.json",
            ]
        );
        env.config_home = Some("/xdg".into());
        let chromium = targets(&env, &[Browser::Chromium], Scope::User).unwrap();
        assert_eq!(
            chromium[0].manifest,
            PathBuf::from("/xdg/chromium/NativeMessagingHosts/cn.datalink.host.json")
        );
        assert_eq!(chromium[0].keep, PathBuf::from("/xdg"));
        let firefox = targets(&env, &[Browser::Firefox], Scope::User).unwrap();
        assert_eq!(
            firefox[0].manifest,
            PathBuf::from("/home/u/.mozilla/native-messaging-hosts/cn.datalink.host.json")
        );
    }

    #[test]
    fn flatpak_and_snap_chromium_and_firefox_have_their_own_folders() {
        let env = linux("/home/u");
        let chromium = targets(&env, &[Browser::Chromium], Scope::User).unwrap();
        assert_eq!(
            paths(&chromium[1..]),
            [
                "/home/u/.var/app/org.chromium.Chromium/config/chromium/NativeMessagingHosts/cn.datalink.host.json",
                "/home/u/snap/chromium/common/chromium/NativeMessagingHosts/cn.datalink.host.json",
            ]
        );
        assert_eq!(
            chromium[1].label,
            "Chromium (Flatpak org.chromium.Chromium)"
        );
        assert_eq!(
            chromium[2].keep,
            PathBuf::from("/home/u/snap/chromium/common"),
            "uninstall never removes above the browser's folder"
        );
        assert_eq!(
            chromium[1].keep,
            PathBuf::from("/home/u/.var/app/org.chromium.Chromium/config")
        );
        let firefox = targets(&env, &[Browser::Firefox], Scope::User).unwrap();
        assert_eq!(
            paths(&firefox[1..]),
            [
                "/home/u/.var/app/org.mozilla.firefox/.mozilla/native-messaging-hosts/cn.datalink.host.json",
                "/home/u/snap/firefox/common/.mozilla/native-messaging-hosts/cn.datalink.host.json",
            ]
        );
        assert!(
            targets(&env, &[Browser::Chromium], Scope::System)
                .unwrap()
                .iter()
                .all(|t| t.sandbox.is_none()),
            "no sandbox for --system"
        );
    }

    #[test]
    fn linux_and_macos_system_folders() {
        let env = linux("/home/u");
        let all: Vec<Browser> = BROWSERS.iter().map(|b| b.browser).collect();
        assert_eq!(
            paths(&targets(&env, &all, Scope::System).unwrap()),
            [
                "/etc/opt/chrome/native-messaging-hosts/cn.datalink.host.json",
                "/etc/chromium/native-messaging-hosts/cn.datalink.host.json",
                "/etc/opt/edge/native-messaging-hosts/cn.datalink.host.json",
                "/etc/opt/brave/native-messaging-hosts/cn.datalink.host.json",
                "/etc/opt/browser360-cn/native-messaging-hosts/cn.datalink.host.json",
                "/usr/lib/mozilla/native-messaging-hosts/cn.datalink.host.json",
            ]
        );
        let mac = Env {
            os: Os::Macos,
            ..linux("/Users/u")
        };
        assert_eq!(
            paths(&targets(&mac, &[Browser::Chrome, Browser::Edge, Browser::Firefox], Scope::User).unwrap()),
            [
                "/Users/u/Library/Application Support/Google/Chrome/NativeMessagingHosts/cn.datalink.host.json",
                "/Users/u/Library/Application Support/Microsoft Edge/NativeMessagingHosts/cn.datalink.host.json",
                "/Users/u/Library/Application Support/Mozilla/NativeMessagingHosts/cn.datalink.host.json",
            ]
        );
        assert_eq!(
            paths(
                &targets(
                    &mac,
                    &[Browser::Chrome, Browser::Chromium, Browser::Firefox],
                    Scope::System
                )
                .unwrap()
            ),
            [
                "/Library/Google/Chrome/NativeMessagingHosts/cn.datalink.host.json",
                "/Library/Application Support/Chromium/NativeMessagingHosts/cn.datalink.host.json",
                "/Library/Application Support/Mozilla/NativeMessagingHosts/cn.datalink.host.json",
            ]
        );
    }

    #[test]
    fn windows_registry_keys_and_manifest_files() {
        let env = Env {
            os: Os::Windows,
            home: Some("C:\\Users\\u".into()),
            config_home: None,
            local_app_data: Some("C:\\Users\\u\\AppData\\Local".into()),
            program_data: None,
        };
        let all: Vec<Browser> = BROWSERS.iter().map(|b| b.browser).collect();
        let user = targets(&env, &all, Scope::User).unwrap();
        let keys: Vec<String> = user
            .iter()
            .flat_map(|t| t.registry.iter().map(|k| k.to_string()))
            .collect();
        assert_eq!(
            keys,
            [
                "HKEY_CURRENT_USER\\Software\\Google\\Chrome\\NativeMessagingHosts\\cn.datalink.host",
                "HKEY_CURRENT_USER\\Software\\Chromium\\NativeMessagingHosts\\cn.datalink.host",
                "HKEY_CURRENT_USER\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\cn.datalink.host",
                "HKEY_CURRENT_USER\\Software\\BraveSoftware\\Brave-Browser\\NativeMessagingHosts\\cn.datalink.host",
                "HKEY_CURRENT_USER\\Software\\360Chrome\\Chrome\\NativeMessagingHosts\\cn.datalink.host",
                "HKEY_CURRENT_USER\\Software\\360se6\\NativeMessagingHosts\\cn.datalink.host",
                "HKEY_CURRENT_USER\\Software\\Mozilla\\NativeMessagingHosts\\cn.datalink.host",
            ]
        );
        assert_eq!(user[0].registry[0].vendor, "Software\\Google\\Chrome");
        assert_eq!(user[0].manifest, PathBuf::from("C:\\Users\\u\\AppData\\Local\\DataLink\\NativeMessagingHosts\\chrome\\cn.datalink.host.json"));
        assert_eq!(user[5].manifest, PathBuf::from("C:\\Users\\u\\AppData\\Local\\DataLink\\NativeMessagingHosts\\firefox\\cn.datalink.host.json"));
        let system = targets(&env, &[Browser::Edge], Scope::System).unwrap();
        assert_eq!(
            system[0].registry[0].to_string(),
            "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\cn.datalink.host"
        );
        assert_eq!(
            system[0].manifest,
            PathBuf::from(
                "C:\\ProgramData\\DataLink\\NativeMessagingHosts\\edge\\cn.datalink.host.json"
            )
        );
        let no_appdata = Env {
            local_app_data: None,
            ..env
        };
        assert_eq!(
            targets(&no_appdata, &[Browser::Chrome], Scope::User),
            Err(TableError::NoHome)
        );
    }

    #[test]
    fn presence_is_the_browser_folder_or_the_sandbox_marker() {
        let home = tempfile::tempdir().unwrap();
        let env = linux(home.path().to_str().unwrap());
        std::fs::create_dir_all(home.path().join(".config/chromium")).unwrap();
        std::fs::create_dir_all(home.path().join("snap/chromium")).unwrap();
        let found: Vec<(String, bool)> =
            targets(&env, &[Browser::Chromium, Browser::Chrome], Scope::User)
                .unwrap()
                .iter()
                .map(|t| (t.label.clone(), t.present))
                .collect();
        assert_eq!(
            found,
            [
                ("Chromium".to_owned(), true),
                ("Chromium (Flatpak org.chromium.Chromium)".to_owned(), false),
                ("Chromium (snap chromium)".to_owned(), true),
                ("Google Chrome".to_owned(), false),
                (
                    "Google Chrome (Flatpak com.google.Chrome)".to_owned(),
                    false
                ),
            ]
        );
    }
}
