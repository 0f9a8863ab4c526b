//! The Windows registry: a key per browser vendor whose default value is the manifest's path
//! (`HKCU` for `--user`, `HKLM` for `--system`). The key paths are computed, and unit-tested on
//! every OS, in [`super::table::registry_keys`]; only the reads and writes here are Windows-only
//! (elsewhere they answer `Unsupported`, and nothing calls them because no target has keys).

use std::io;
use std::path::Path;

use super::table::RegKey;

#[cfg(windows)]
mod imp {
    use std::io;
    use std::path::Path;

    use winreg::enums::{HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE};

    use super::super::table::{Hive, RegKey};

    fn hive(key: &RegKey) -> winreg::RegKey {
        winreg::RegKey::predef(match key.hive {
            Hive::CurrentUser => HKEY_CURRENT_USER,
            Hive::LocalMachine => HKEY_LOCAL_MACHINE,
        })
    }

    pub fn write(key: &RegKey, manifest: &Path) -> io::Result<()> {
        let (created, _) = hive(key).create_subkey(&key.path)?;
        created.set_value("", &manifest.to_string_lossy().into_owned())
    }

    pub fn read(key: &RegKey) -> io::Result<Option<String>> {
        match hive(key).open_subkey(&key.path) {
            Ok(opened) => match opened.get_value::<String, _>("") {
                Ok(value) => Ok(Some(value)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Some(String::new())),
                Err(e) => Err(e),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn delete(key: &RegKey) -> io::Result<bool> {
        match hive(key).delete_subkey_all(&key.path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn vendor_present(key: &RegKey) -> bool {
        [HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE]
            .into_iter()
            .any(|h| winreg::RegKey::predef(h).open_subkey(&key.vendor).is_ok())
    }
}

#[cfg(not(windows))]
mod imp {
    use std::io;
    use std::path::Path;

    use super::super::table::RegKey;

    fn unsupported() -> io::Error {
        io::Error::new(
            io::ErrorKind::Unsupported,
            "the registry exists on Windows only",
        )
    }

    pub fn write(_key: &RegKey, _manifest: &Path) -> io::Result<()> {
        Err(unsupported())
    }

    pub fn read(_key: &RegKey) -> io::Result<Option<String>> {
        Err(unsupported())
    }

    pub fn delete(_key: &RegKey) -> io::Result<bool> {
        Err(unsupported())
    }

    pub fn vendor_present(_key: &RegKey) -> bool {
        false
    }
}

/// Creates the key and sets its default value to `manifest`.
pub fn write(key: &RegKey, manifest: &Path) -> io::Result<()> {
    imp::write(key, manifest)
}

/// The key's default value: `None` when the key does not exist.
pub fn read(key: &RegKey) -> io::Result<Option<String>> {
    imp::read(key)
}

/// Removes the key; `false` when there was none.
pub fn delete(key: &RegKey) -> io::Result<bool> {
    imp::delete(key)
}

/// Whether the browser's vendor key exists in HKCU or HKLM (it was installed or used).
pub fn vendor_present(key: &RegKey) -> bool {
    imp::vendor_present(key)
}
