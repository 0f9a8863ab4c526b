//! The host manifest: the JSON file a browser reads to find and trust `datalink-host`.
//!
//! ```json
//! {"name": "cn.datalink.host", "description": "…", "path": "/opt/datalink/datalink-host",
//!  "type": "stdio", "allowed_origins": ["chrome-extension://kkaaldpdgcikdogodnihlanlipfoeboa/"]}
//! ```
//!
//! Chromium-family browsers need `allowed_origins` (with the trailing slash) and, on Linux and
//! macOS, an absolute `path`; Firefox needs `allowed_extensions` with the add-on id. [`render`]
//! writes one, [`inspect`] reads one back and lists what is wrong with it — `doctor` and the tests
//! use the same checks.

use std::path::{Path, PathBuf};

use datalink_core::protocol::HOST_NAME;
use datalink_core::{EXTENSION_ID, FIREFOX_EXTENSION_ID};
use serde::{Deserialize, Serialize};

use super::table::Family;

pub const DESCRIPTION: &str = "DataLink 协同客户端 (native messaging host)";

/// The file's fields (unknown ones are ignored when reading).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostManifest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_extensions: Option<Vec<String>>,
}

/// `chrome-extension://<id>/`: the only origin the host trusts.
pub fn extension_origin() -> String {
    format!("chrome-extension://{EXTENSION_ID}/")
}

/// The manifest for `family` pointing at `host` (an absolute path).
pub fn manifest_for(family: Family, host: &Path) -> HostManifest {
    HostManifest {
        name: HOST_NAME.to_owned(),
        description: DESCRIPTION.to_owned(),
        path: host.to_string_lossy().into_owned(),
        kind: "stdio".to_owned(),
        allowed_origins: (family == Family::Chromium).then(|| vec![extension_origin()]),
        allowed_extensions: (family == Family::Firefox)
            .then(|| vec![FIREFOX_EXTENSION_ID.to_owned()]),
    }
}

/// The file's text: pretty JSON and a newline (serde escapes Windows backslashes).
pub fn render(family: Family, host: &Path) -> String {
    serde_json::to_string_pretty(&manifest_for(family, host))
        .map(|s| s + "\n")
        .unwrap_or_default()
}

/// Something wrong with an installed manifest, each with its own fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flaw {
    /// No file where the browser looks.
    Missing,
    /// The file cannot be read (permissions).
    Unreadable(std::io::ErrorKind),
    /// Not JSON, or missing `name` / `path` / `type`.
    Invalid(String),
    WrongName(String),
    WrongType(String),
    /// Linux and macOS need an absolute path.
    RelativePath(String),
    /// `path` names no file (the program was moved or deleted).
    HostMissing(PathBuf),
    /// `path` is a file without the execute bit (Unix).
    HostNotExecutable(PathBuf),
    /// `allowed_origins` / `allowed_extensions` does not hold our extension exactly.
    WrongExtension(Vec<String>),
}

/// What a manifest file says, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub manifest: Option<HostManifest>,
    pub flaws: Vec<Flaw>,
}

/// Reads and checks the manifest at `file` for a browser of `family`. `windows`: relative
/// paths are allowed (relative to the manifest) and nothing needs an execute bit.
pub fn inspect(file: &Path, family: Family, windows: bool) -> Inspection {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Inspection {
                manifest: None,
                flaws: vec![Flaw::Missing],
            }
        }
        Err(e) => {
            return Inspection {
                manifest: None,
                flaws: vec![Flaw::Unreadable(e.kind())],
            }
        }
    };
    let manifest: HostManifest = match serde_json::from_str(&text) {
        Ok(m) => m,
        Err(e) => {
            return Inspection {
                manifest: None,
                flaws: vec![Flaw::Invalid(format!(
                    "line {} column {}",
                    e.line(),
                    e.column()
                ))],
            }
        }
    };
    let mut flaws = Vec::new();
    if manifest.name != HOST_NAME {
        flaws.push(Flaw::WrongName(manifest.name.clone()));
    }
    if manifest.kind != "stdio" {
        flaws.push(Flaw::WrongType(manifest.kind.clone()));
    }
    let host = PathBuf::from(&manifest.path);
    let host = if host.is_absolute() || looks_absolute_on_windows(&manifest.path) {
        Some(host)
    } else if windows {
        file.parent().map(|dir| dir.join(&host))
    } else {
        flaws.push(Flaw::RelativePath(manifest.path.clone()));
        None
    };
    if let Some(host) = host {
        if !host.is_file() {
            flaws.push(Flaw::HostMissing(host));
        } else if !windows && !executable(&host) {
            flaws.push(Flaw::HostNotExecutable(host));
        }
    }
    let (list, wanted) = match family {
        Family::Chromium => (&manifest.allowed_origins, extension_origin()),
        Family::Firefox => (
            &manifest.allowed_extensions,
            FIREFOX_EXTENSION_ID.to_owned(),
        ),
    };
    let list = list.clone().unwrap_or_default();
    if list != [wanted] {
        flaws.push(Flaw::WrongExtension(list));
    }
    Inspection {
        manifest: Some(manifest),
        flaws,
    }
}

fn looks_absolute_on_windows(path: &str) -> bool {
    let b = path.as_bytes();
    (b.len() > 2 && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/')) || path.starts_with("\\\\")
}

#[cfg(unix)]
fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromium_and_firefox_manifests() {
        let chromium: serde_json::Value = serde_json::from_str(&render(
            Family::Chromium,
            Path::new("/opt/datalink/datalink-host"),
        ))
        .unwrap();
        assert_eq!(
            chromium,
            serde_json::json!({
                "name": "cn.datalink.host",
                "description": DESCRIPTION,
                "path": "/opt/datalink/datalink-host",
                "type": "stdio",
                "allowed_origins": ["chrome-extension://kkaaldpdgcikdogodnihlanlipfoeboa/"],
            })
        );
        let firefox: serde_json::Value =
            serde_json::from_str(&render(Family::Firefox, Path::new("/x/datalink-host"))).unwrap();
        assert_eq!(
            firefox["allowed_extensions"],
            serde_json::json!([FIREFOX_EXTENSION_ID])
        );
        assert!(firefox.get("allowed_origins").is_none());
        let windows = render(
            Family::Chromium,
            Path::new("C:\\Program Files\\DataLink\\datalink-host.exe"),
        );
        assert!(
            windows.contains(r#""path": "C:\\Program Files\\DataLink\\datalink-host.exe""#),
            "{windows}"
        );
    }

    #[test]
    fn inspection_finds_each_flaw() {
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("datalink-host");
        std::fs::write(&host, b"#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&host, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let file = dir.path().join("cn.datalink.host.json");
        assert_eq!(
            inspect(&file, Family::Chromium, false).flaws,
            [Flaw::Missing]
        );
        std::fs::write(&file, render(Family::Chromium, &host)).unwrap();
        let good = inspect(&file, Family::Chromium, false);
        assert_eq!(good.flaws, []);
        assert_eq!(good.manifest.unwrap().path, host.to_string_lossy());
        // A Chromium manifest is wrong for Firefox.
        assert_eq!(
            inspect(&file, Family::Firefox, false).flaws,
            [Flaw::WrongExtension(vec![])]
        );

        let mut m = manifest_for(Family::Chromium, &dir.path().join("moved"));
        m.allowed_origins = Some(vec![
            "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/".into()
        ]);
        m.name = "other.host".into();
        std::fs::write(&file, serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(
            inspect(&file, Family::Chromium, false).flaws,
            [
                Flaw::WrongName("other.host".into()),
                Flaw::HostMissing(dir.path().join("moved")),
                Flaw::WrongExtension(vec![
                    "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/".into()
                ]),
            ]
        );
        // Without the trailing slash Chrome refuses the origin.
        let mut m = manifest_for(Family::Chromium, &host);
        m.allowed_origins = Some(vec![format!("chrome-extension://{EXTENSION_ID}")]);
        m.path = "datalink-host".into();
        std::fs::write(&file, serde_json::to_string(&m).unwrap()).unwrap();
        let flaws = inspect(&file, Family::Chromium, false).flaws;
        assert_eq!(flaws[0], Flaw::RelativePath("datalink-host".into()));
        assert!(matches!(&flaws[1], Flaw::WrongExtension(_)));
        // On Windows a relative path is relative to the manifest's folder.
        assert!(!inspect(&file, Family::Chromium, true)
            .flaws
            .iter()
            .any(|f| matches!(f, Flaw::RelativePath(_) | Flaw::HostMissing(_))));

        std::fs::write(&file, "{not json").unwrap();
        assert!(matches!(
            inspect(&file, Family::Chromium, false).flaws[..],
            [Flaw::Invalid(_)]
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_host_without_the_execute_bit_is_a_flaw() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("datalink-host");
        std::fs::write(&host, b"x").unwrap();
        std::fs::set_permissions(&host, std::fs::Permissions::from_mode(0o644)).unwrap();
        let file = dir.path().join("m.json");
        std::fs::write(&file, render(Family::Chromium, &host)).unwrap();
        assert_eq!(
            inspect(&file, Family::Chromium, false).flaws,
            [Flaw::HostNotExecutable(host)]
        );
    }
}
