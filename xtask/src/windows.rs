//! The Windows host, cross-built on Linux and tested under wine.
//!
//! # Building
//!
//! Target `x86_64-pc-windows-gnu`, linked by mingw-w64's `x86_64-w64-mingw32-gcc` (Debian
//! `mingw-w64`; it also provides `libwinscard.a`, so the PC/SC backend is built in, and compiles
//! the bundled SQLite). When rustup has the target, it is used; otherwise Debian's
//! `/usr/bin/rustc` (`rustc-web`, the same toolchain as the wasm build) builds std from
//! `rust-web-src`:
//!
//! ```text
//! RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
//!   cargo build --target x86_64-pc-windows-gnu -Zbuild-std=std,panic_abort -p datalink-host --release
//! ```
//!
//! into `<target>/windows` (its own folder: `-Zbuild-std` builds must not share one with the
//! normal host build). The result needs Windows 10 or later (Rust's std).
//!
//! # Running under wine
//!
//! Debian 12's wine 8.0 (`/usr/lib/wine/wine64`) lacks `bcryptprimitives.dll`, whose
//! `ProcessPrng` current std imports for its random numbers: [`shim`] compiles the small
//! replacement in `xtask/windows/bcryptprimitives.c` with mingw and puts it beside each `.exe`
//! (only for wine; real Windows has its own). [`Wine`] runs programs in a fresh temporary prefix
//! with `WINEDEBUG=-all` and `WINEDLLOVERRIDES=mscoree,mshtml=` (no Mono / Gecko installer
//! dialog, which would hang a headless first run), and stops that prefix's wineserver when done.
//!
//! `cargo xtask test` runs the host's own unit tests for framing, the store and installing
//! (registry keys included) cross-built, under wine, and `native-host/tests/wine.rs`, which
//! talks to the Windows host over native-messaging framing and installs it into wine's registry.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, root, run, step, Result};

pub const TARGET: &str = "x86_64-pc-windows-gnu";
const LINKER: &str = "x86_64-w64-mingw32-gcc";
pub const WINE: &str = "/usr/lib/wine/wine64";
const WINESERVER: &str = "/usr/lib/wine/wineserver";

/// The unit tests that run under wine: the byte framing, the store, installing (libtest
/// filters: a test runs when its path contains any of them).
pub const WINE_UNIT_FILTERS: &[&str] = &["framing::", "store::", "install::"];

/// How to compile for Windows here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Toolchain {
    Rustup,
    DebianBuildStd,
}

fn toolchain() -> Toolchain {
    let has = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
        })
        .unwrap_or(false);
    if has {
        Toolchain::Rustup
    } else {
        Toolchain::DebianBuildStd
    }
}

/// Installs the cross toolchain (and wine when `wine`).
pub fn ensure(wine: bool) -> Result<()> {
    let mut packages = vec!["mingw-w64"];
    if toolchain() == Toolchain::DebianBuildStd {
        packages.extend(["rustc-web", "rust-web-src"]);
    }
    if wine {
        packages.push("wine64");
    }
    crate::deps::ensure_apt(&packages)
}

/// `<target dir>/windows`: the cross build's own target folder.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("windows")
}

fn cross(command: &mut Command) -> &mut Command {
    command
        .current_dir(root())
        .env("CARGO_TARGET_DIR", target_dir())
        .env(
            format!(
                "CARGO_TARGET_{}_LINKER",
                TARGET.to_uppercase().replace('-', "_")
            ),
            LINKER,
        );
    if toolchain() == Toolchain::DebianBuildStd {
        command
            .env("RUSTC", "/usr/bin/rustc")
            .env("RUSTC_BOOTSTRAP", "1")
            .arg("-Zbuild-std=std,panic_abort");
    }
    command.args(["--target", TARGET])
}

/// Builds `datalink-host.exe`; returns its path.
pub fn build_host(release: bool) -> Result<PathBuf> {
    step(&format!(
        "cross-building datalink-host.exe for {TARGET} ({})",
        if release { "release" } else { "dev" }
    ));
    let mut command = cargo();
    command.args(["build", "-p", "datalink-host"]);
    if release {
        command.arg("--release");
    }
    run(cross(&mut command))?;
    Ok(target_dir()
        .join(TARGET)
        .join(if release { "release" } else { "debug" })
        .join("datalink-host.exe"))
}

/// Builds the host's unit-test binaries for Windows (its library: framing; its program: store,
/// install and the rest); returns their paths.
pub fn build_unit_tests() -> Result<Vec<PathBuf>> {
    step(&format!(
        "cross-building the host's unit tests for {TARGET}"
    ));
    let mut command = cargo();
    command.args([
        "test",
        "--no-run",
        "-p",
        "datalink-host",
        "--lib",
        "--bin",
        "datalink-host",
        "--message-format=json-render-diagnostics",
    ]);
    cross(&mut command);
    println!("$ cargo test --no-run --target {TARGET} -p datalink-host --lib --bin datalink-host");
    let out = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cross-building the unit tests failed ({})",
            out.status
        ));
    }
    let tests = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == true)
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .collect::<Vec<_>>();
    if tests.len() < 2 {
        return Err(format!("cargo named {} test executables, expected the library's and the program's", tests.len()));
    }
    Ok(tests)
}

/// Compiles the `bcryptprimitives.dll` shim into `dir` (beside an `.exe`) unless it is there.
pub fn shim(dir: &Path) -> Result<PathBuf> {
    let dll = dir.join("bcryptprimitives.dll");
    let source = root().join("xtask/windows/bcryptprimitives.c");
    let fresh = |dll: &Path| -> Option<bool> {
        Some(
            std::fs::metadata(dll).ok()?.modified().ok()?
                >= std::fs::metadata(&source).ok()?.modified().ok()?,
        )
    };
    if fresh(&dll) != Some(true) {
        run(Command::new(LINKER)
            .args(["-shared", "-O2", "-Wl,--kill-at", "-o"])
            .arg(&dll)
            .arg(&source)
            .arg("-ladvapi32"))?;
    }
    Ok(dll)
}

/// A temporary wine prefix; its wineserver is stopped and the folder removed on drop.
pub struct Wine {
    pub prefix: PathBuf,
}

impl Wine {
    pub fn new(name: &str) -> Result<Wine> {
        if !Path::new(WINE).exists() {
            return Err(format!(
                "{WINE} is missing: apt-get install wine64 (or run `cargo xtask test`)"
            ));
        }
        let prefix =
            std::env::temp_dir().join(format!("datalink-wine-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&prefix);
        std::fs::create_dir_all(&prefix).map_err(|e| e.to_string())?;
        Ok(Wine { prefix })
    }

    /// `wine64 program`, in this prefix, quiet, with no first-run installer dialogs.
    pub fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(WINE);
        command.arg(program).envs(env(&self.prefix));
        command
    }
}

/// The environment every wine run gets.
pub fn env(prefix: &Path) -> Vec<(&'static str, std::ffi::OsString)> {
    vec![
        ("WINEPREFIX", prefix.as_os_str().to_owned()),
        ("WINEDEBUG", "-all".into()),
        ("WINEDLLOVERRIDES", "mscoree,mshtml=".into()),
    ]
}

impl Drop for Wine {
    fn drop(&mut self) {
        let server = if Path::new(WINESERVER).exists() {
            WINESERVER
        } else {
            "/usr/lib/wine/wineserver64"
        };
        let _ = Command::new(server)
            .arg("-k")
            .envs(env(&self.prefix))
            .status();
        let _ = std::fs::remove_dir_all(&self.prefix);
    }
}
