//! Builds `wasm-core` for the extension: cargo → `wasm-bindgen` → `wasm-opt`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, root, run, step, Result};

const TARGET: &str = "wasm32-unknown-unknown";

/// How to compile for wasm32 on this machine.
#[derive(Debug, Clone)]
pub enum Toolchain {
    /// rustup's own wasm32 target (its `rust-lld` links).
    Rustup,
    /// Debian's `/usr/bin/rustc` (`rustc-web`) building std from `rust-web-src`, linked by `wasm-ld`.
    DebianBuildStd { linker: Option<PathBuf> },
}

impl Toolchain {
    pub fn detect() -> Toolchain {
        let rustup_has_target = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == TARGET))
            .unwrap_or(false);
        if rustup_has_target {
            return Toolchain::Rustup;
        }
        let linker = ["/usr/bin/wasm-ld-22", "/usr/lib/llvm-22/bin/wasm-ld", "/usr/bin/wasm-ld"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists());
        Toolchain::DebianBuildStd { linker }
    }
}

impl fmt::Display for Toolchain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Toolchain::Rustup => write!(f, "rustup target {TARGET}"),
            Toolchain::DebianBuildStd { .. } => {
                write!(f, "no rustup {TARGET} target: Debian rustc-web + rust-web-src + lld-22 with -Zbuild-std")
            }
        }
    }
}

/// The wasm-bindgen output: `datalink_core.js` and `datalink_core_bg.wasm` in `out_dir`.
pub struct Bundle {
    pub wasm: PathBuf,
    /// The `.wasm` the extension loads.
    pub bytes: u64,
    /// The JS glue beside it.
    pub glue_bytes: u64,
    /// Whether wasm-opt ran.
    pub optimized: bool,
}

pub fn build(toolchain: &Toolchain, out_dir: &Path) -> Result<Bundle> {
    step(&format!("compiling wasm-core for {TARGET} ({toolchain})"));
    let mut command = cargo();
    // `cargo rustc … -- -D warnings`: the code under `wasm-core/src/wasm/` exists only for wasm32,
    // so the native clippy run never sees it; its compiler warnings fail the build here instead
    // (the flag reaches datalink-core only, not std or the dependencies).
    command.current_dir(root()).args(["rustc", "--release", "--target", TARGET, "-p", "datalink-core", "--lib"]);
    let target_dir = match toolchain {
        Toolchain::Rustup => root().join("target/wasm"),
        Toolchain::DebianBuildStd { linker } => {
            let linker = linker.as_ref().ok_or("no wasm-ld found (install lld-22)")?;
            command
                .env("RUSTC", "/usr/bin/rustc")
                .env("RUSTC_BOOTSTRAP", "1")
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", linker)
                .arg("-Zbuild-std=std,panic_abort");
            root().join("target/wasm-build-std")
        }
    };
    command.env("CARGO_TARGET_DIR", &target_dir).args(["--", "-D", "warnings"]);
    run(&mut command)?;
    let compiled = target_dir.join(TARGET).join("release/datalink_core.wasm");

    // wasm-opt runs before wasm-bindgen: Debian 12's binaryen (108) corrupts the externref
    // table that wasm-bindgen adds (the worker then fails with "WebAssembly.Table.set():
    // Argument 1 is invalid"); on the compiler's output it is safe, and wasm-bindgen keeps
    // the optimized code.
    let optimized = compiled.with_extension("opt.wasm");
    let used_opt = optimize(&compiled, &optimized);
    let input = if used_opt { &optimized } else { &compiled };

    step("wasm-bindgen (ES module glue for the service worker)");
    let (cli, _) = crate::deps::wasm_bindgen_cli().ok_or("wasm-bindgen-cli is not installed")?;
    std::fs::create_dir_all(out_dir).map_err(|e| e.to_string())?;
    run(Command::new(cli)
        .args(["--target", "web", "--no-typescript", "--out-name", "datalink_core", "--out-dir"])
        .arg(out_dir)
        .arg(input))?;
    let wasm = out_dir.join("datalink_core_bg.wasm");
    Ok(Bundle { bytes: size(&wasm)?, glue_bytes: size(&out_dir.join("datalink_core.js"))?, wasm, optimized: used_opt })
}

/// Runs `wasm-opt -Oz` from `wasm` to `optimized` when it is installed and understands the
/// module; returns whether it did.
fn optimize(wasm: &Path, optimized: &Path) -> bool {
    let mut command = Command::new("wasm-opt");
    command
        .arg("-Oz")
        // The features rustc enables by default for wasm32 (older binaryen needs them named).
        .args(["--enable-bulk-memory", "--enable-mutable-globals", "--enable-nontrapping-float-to-int"])
        .args(["--enable-sign-ext", "--enable-reference-types", "--enable-multivalue"])
        .arg(wasm)
        .arg("-o")
        .arg(optimized);
    step("wasm-opt -Oz");
    match command.output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            let _ = std::fs::remove_file(optimized);
            let why = String::from_utf8_lossy(&out.stderr);
            println!("wasm-opt could not optimize this module (kept unoptimized): {}", why.lines().next().unwrap_or_default());
            false
        }
        Err(_) => {
            println!("wasm-opt not installed: bundle kept unoptimized");
            false
        }
    }
}

fn size(path: &Path) -> Result<u64> {
    std::fs::metadata(path).map(|m| m.len()).map_err(|e| format!("{}: {e}", path.display()))
}
