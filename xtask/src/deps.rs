//! Installs what the build and the tests need, only when it is missing.
//!
//! * The wasm toolchain: a rustup `wasm32-unknown-unknown` target when one is installed (a
//!   normal developer machine); otherwise Debian's `rustc-web` + `rust-web-src` + `lld-22`,
//!   which build std for wasm32 from source (`-Zbuild-std`), for machines where rustup cannot
//!   download a target.
//! * `chromium` for the real-browser tests and the demo.
//! * `binaryen` for `wasm-opt` (optional: a build without it is larger, not broken).
//! * `wasm-bindgen-cli` at exactly the `wasm-bindgen` version in Cargo.lock.
//! * `libpcsclite-dev` + `pkg-config` to build the host's PC/SC backend; for the card tests
//!   ([`ensure_pcscd`]), `pcscd` and `vsmartcard-vpcd`, and a running pcscd.
//! * Only for the steps that build the Windows host (`dist --windows`, `test`): `mingw-w64`, and
//!   `wine64` for the tests (`crate::windows::ensure`, through [`ensure_apt`]).

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
    // The host's PC/SC backend links libpcsclite (pcsc-sys finds it with pkg-config).
    packages.extend(["libpcsclite-dev", "pkg-config"]);
    // portal-sim's document tests open its PDF prints with pdfinfo / pdftotext.
    packages.push("poppler-utils");
    // The certificate PDF (native-host/src/certificate) embeds Noto Serif CJK SC; its tests check
    // it with poppler-utils (above) and also embed a TrueType CJK font (WenQuanYi Micro Hei).
    packages.extend(["fonts-noto-cjk", "fonts-wqy-microhei"]);
    if needs.browser {
        packages.push("chromium");
        // The extension's pages are Chinese: headless screenshots need CJK glyphs (fonts-noto-cjk,
        // above).
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

/// Where `cargo xtask` has pcscd write its APDU log when it starts it.
pub fn pcscd_log_path() -> std::path::PathBuf {
    std::env::temp_dir().join("datalink-pcscd.log")
}

/// The pcscd the card tests use: its log, when it writes APDUs to a file we can read.
pub struct Pcscd {
    pub pid: Option<u32>,
    pub apdu_log: Option<std::path::PathBuf>,
}

impl Pcscd {
    /// The environment the card tests read (`tests/virtual-card/src/pcscd.rs`).
    pub fn env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        let mut env = vec![("DATALINK_PCSCD", "1".into())];
        if let Some(log) = &self.apdu_log {
            env.push(("DATALINK_PCSCD_LOG", log.clone().into_os_string()));
        }
        env
    }
}

const PCSCD_SOCKET: &str = "/run/pcscd/pcscd.comm";
/// vsmartcard-vpcd's first slot (`/etc/reader.conf.d/vpcd`: 0x8C7B).
const VPCD_PORT: u16 = 0x8C7B;

/// Installs pcscd and vsmartcard-vpcd, and makes sure a pcscd with vpcd's virtual readers runs.
///
/// Only one pcscd can run on a machine (it always uses `/run/pcscd/pcscd.comm`), so a running
/// one is reused — the developer's, or one an earlier run started. Otherwise pcscd is started
/// in the foreground with `--apdu`, its output going to [`pcscd_log_path`], detached from us (in
/// its own process group), and left running for the next run. There is no systemd here, so it
/// is started by hand; stop it with `kill <pid>`.
pub fn ensure_pcscd() -> Result<Pcscd> {
    ensure_apt(&["pcscd", "vsmartcard-vpcd"])?;
    step("pcscd with vsmartcard-vpcd (virtual card readers) for the card tests");
    let pcscd = if std::os::unix::net::UnixStream::connect(PCSCD_SOCKET).is_ok() {
        // pcscd writes "<pid>\n\0".
        let pid = std::fs::read_to_string("/run/pcscd/pcscd.pid").ok().and_then(|p| p.trim_matches(|c: char| c.is_whitespace() || c == '\0').parse::<u32>().ok());
        let apdu_log = pid.and_then(apdu_log_of);
        println!(
            "reusing the running pcscd (pid {}); APDU log: {}",
            pid.map_or("unknown".into(), |p| p.to_string()),
            apdu_log.as_ref().map_or("none (not started with --apdu into a file: the APDU-log test will say so)".into(), |l| l.display().to_string())
        );
        Pcscd { pid, apdu_log }
    } else {
        start_pcscd()?
    };
    if !listening(VPCD_PORT) {
        return Err(format!(
            "pcscd (pid {}) has no vsmartcard-vpcd reader (nothing listens on port {VPCD_PORT}): was it started before \
             vsmartcard-vpcd was installed? Stop it (kill <pid>) and run again",
            pcscd.pid.map_or("unknown".into(), |p| p.to_string())
        ));
    }
    Ok(pcscd)
}

fn start_pcscd() -> Result<Pcscd> {
    use std::os::unix::process::CommandExt;
    let log_path = pcscd_log_path();
    let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let mut command = if is_root() {
        Command::new("pcscd")
    } else if have("sudo") {
        let mut c = Command::new("sudo");
        c.arg("pcscd");
        c
    } else {
        return Err("pcscd is not running, and starting it needs root or sudo".into());
    };
    command.args(["--foreground", "--apdu"]).stdin(std::process::Stdio::null()).stdout(log).stderr(err).process_group(0);
    println!("$ pcscd --foreground --apdu > {} 2>&1 &", log_path.display());
    let mut child = command.spawn().map_err(|e| format!("cannot start pcscd: {e}"))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!("pcscd exited at once ({status}); its log:\n{tail}"));
        }
        if std::os::unix::net::UnixStream::connect(PCSCD_SOCKET).is_ok() && listening(VPCD_PORT) {
            println!("pcscd started (pid {}), left running for later runs; APDU log {}", child.id(), log_path.display());
            return Ok(Pcscd { pid: Some(child.id()), apdu_log: Some(log_path) });
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
    Err(format!("pcscd did not open {PCSCD_SOCKET} with vpcd's readers within 10 s; its log:\n{tail}"))
}

/// The file a running pcscd writes its `--apdu` log to, if it does.
fn apdu_log_of(pid: u32) -> Option<std::path::PathBuf> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let has = |flags: &[&[u8]]| args.iter().any(|a| flags.contains(a));
    if !has(&[b"-a", b"--apdu"]) || !has(&[b"-f", b"--foreground"]) {
        return None;
    }
    let out = std::fs::read_link(format!("/proc/{pid}/fd/1")).ok()?;
    out.is_file().then_some(out)
}

/// Whether something listens on TCP `port` (IPv4 or IPv6), from /proc/net.
fn listening(port: u16) -> bool {
    let wanted = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().filter_map(|f| std::fs::read_to_string(f).ok()).any(|table| {
        table.lines().skip(1).any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(1).is_some_and(|local| local.ends_with(&wanted)) && fields.get(3) == Some(&"0A")
        })
    })
}
