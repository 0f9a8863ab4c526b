//! Installs what the build and the tests need, only when it is missing.
//!
//! * The wasm toolchain: a rustup `wasm32-unknown-unknown` target when one is installed (a
//!   normal developer machine); otherwise Debian's `rustc-web` + `rust-web-src` + `lld-22`,
//!   which build std for wasm32 from source (`-Zbuild-std`), for machines where rustup cannot
//!   download a target.
//! * `chromium` for the real-browser tests and the demo.
//! * `binaryen` for `wasm-opt` (optional: a build without it is larger, not broken).
//! * `wasm-bindgen-cli` at exactly the `wasm-bindgen` version in Cargo.lock.

use std::process::Command;

use crate::wasm::Toolchain;
use crate::{cargo, root, run, step, Result};

/// What a command needs beyond the build itself.
pub struct Needs {
    pub browser: bool,
}

/// Installs what is missing and returns the wasm toolchain to build with.
pub fn ensure(needs: Needs) -> Result<Toolchain> {
    step("checking prerequisites");
    let toolchain = Toolchain::detect();
    println!("wasm toolchain: {toolchain}");
    let mut packages: Vec<&str> = Vec::new();
    if matches!(toolchain, Toolchain::DebianBuildStd { .. }) {
        packages.extend(["rustc-web", "rust-web-src", "lld-22"]);
    }
    packages.push("binaryen");
    if needs.browser {
        packages.push("chromium");
    }
    ensure_apt(&packages)?;
    ensure_wasm_bindgen()?;
    // The linker path may only exist now that lld is installed.
    Ok(Toolchain::detect())
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn have(program: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {program}")]).output().map(|o| o.status.success()).unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// Installs the Debian packages that are not installed yet.
pub fn ensure_apt(packages: &[&str]) -> Result<()> {
    if !have("dpkg-query") {
        println!("not a Debian-family system: make sure these are installed: {}", packages.join(" "));
        return Ok(());
    }
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        println!("apt packages present: {}", packages.join(" "));
        return Ok(());
    }
    step(&format!("installing Debian packages: {}", missing.join(" ")));
    let sudo = if is_root() {
        None
    } else if have("sudo") {
        Some("sudo")
    } else {
        return Err(format!("not root and no sudo: install these as root: apt-get install {}", missing.join(" ")));
    };
    let apt = |args: &[&str]| -> Result<()> {
        let mut command = match sudo {
            Some(sudo) => {
                let mut c = Command::new(sudo);
                c.arg("apt-get");
                c
            }
            None => Command::new("apt-get"),
        };
        command.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        run(&mut command)
    };
    apt(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    apt(&args)
}

/// The version of `package` in Cargo.lock.
pub fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"") {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(version.trim_end_matches('"').to_owned());
            }
        }
    }
    Err(format!("{package} is not in Cargo.lock"))
}

/// The `wasm-bindgen` CLI on PATH (or in cargo's bin folder), and its version.
pub fn wasm_bindgen_cli() -> Option<(String, String)> {
    let mut candidates = vec!["wasm-bindgen".to_owned()];
    if let Some(home) = std::env::var_os("CARGO_HOME").or_else(|| std::env::var_os("HOME").map(|h| format!("{}/.cargo", h.to_string_lossy()).into())) {
        candidates.push(format!("{}/bin/wasm-bindgen", home.to_string_lossy()));
    }
    candidates.into_iter().find_map(|program| {
        let out = Command::new(&program).arg("--version").output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text.split_whitespace().nth(1)?.to_owned();
        Some((program, version))
    })
}

fn ensure_wasm_bindgen() -> Result<()> {
    let wanted = locked_version("wasm-bindgen")?;
    match wasm_bindgen_cli() {
        Some((_, version)) if version == wanted => {
            println!("wasm-bindgen-cli {wanted} present");
            return Ok(());
        }
        Some((_, version)) => step(&format!("wasm-bindgen-cli {version} does not match wasm-bindgen {wanted} in Cargo.lock: installing {wanted}")),
        None => step(&format!("installing wasm-bindgen-cli {wanted} (a few minutes, once)")),
    }
    // Not --locked: some of the CLI's locked dependencies are no longer in the registry.
    run(cargo().args(["install", "wasm-bindgen-cli", "--version", &wanted, "--force"]))
}
