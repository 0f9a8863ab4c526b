//! Assembles what ships: the loadable extension folder and its zip, the host binary and the
//! host manifests, under one output folder (`target/dist` by default):
//!
//! ```text
//! extension/                      load this folder unpacked (chrome://extensions)
//! extension/wasm/                 wasm-bindgen output (datalink_core.js + _bg.wasm)
//! datalink-extension-<ver>.zip    the same folder, zipped
//! host/datalink-host              the native messaging host
//! manifest/chromium/cn.datalink.host.json   host manifest for Chromium-family browsers
//! manifest/firefox/cn.datalink.host.json    host manifest for Firefox
//! build-info.json                 version and sizes
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::wasm::{self, Toolchain};
use crate::{cargo, root, run, step, Result};

pub struct Options {
    pub out: PathBuf,
    /// Release profile for the host (debug for tests: it shares the test build).
    pub release_host: bool,
    /// Replaces the default `http://127.0.0.1/*` development match pattern.
    pub dev_origin: Option<String>,
}

/// The product version: extension, host and protocol documents share it.
const VERSION: &str = datalink_core::VERSION;
const DEFAULT_DEV_PATTERN: &str = "http://127.0.0.1/*";

pub fn build(toolchain: &Toolchain, options: &Options) -> Result<()> {
    let out = &options.out;
    let extension = out.join("extension");
    if extension.exists() {
        std::fs::remove_dir_all(&extension).map_err(|e| format!("clearing {}: {e}", extension.display()))?;
    }
    copy_dir(&root().join("extension"), &extension)?;
    write_manifest(&extension.join("manifest.json"), options.dev_origin.as_deref())?;
    let bundle = wasm::build(toolchain, &extension.join("wasm"))?;

    step("packing the extension zip");
    let zip_path = out.join(format!("datalink-extension-{VERSION}.zip"));
    zip_dir(&extension, &zip_path)?;

    let host = build_host(options.release_host, out)?;
    step("host manifests");
    let host_abs = host.canonicalize().map_err(|e| e.to_string())?;
    for (browser, template) in [("chromium", "chromium.json.in"), ("firefox", "firefox.json.in")] {
        let path = out.join("manifest").join(browser).join("cn.datalink.host.json");
        write_host_manifest(&root().join("manifest").join(template), &host_abs, &path)?;
        println!("{}", path.display());
    }

    let zip_bytes = std::fs::metadata(&zip_path).map(|m| m.len()).unwrap_or(0);
    let info = json!({
        "version": VERSION,
        "wasmBytes": bundle.bytes,
        "glueBytes": bundle.glue_bytes,
        "wasmOpt": bundle.optimized,
        "zipBytes": zip_bytes,
        "hostProfile": if options.release_host { "release" } else { "dev" },
    });
    std::fs::write(out.join("build-info.json"), format!("{info:#}\n")).map_err(|e| e.to_string())?;
    step("built");
    println!("extension folder: {}", extension.display());
    println!("extension zip:    {} ({})", zip_path.display(), kib(zip_bytes));
    println!(
        "wasm bundle:      {} ({} + {} JS glue; {})",
        bundle.wasm.display(),
        kib(bundle.bytes),
        kib(bundle.glue_bytes),
        if bundle.optimized { "wasm-opt -Oz applied" } else { "wasm-opt not applied" }
    );
    println!("host:             {}", host_abs.display());
    Ok(())
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(|e| e.to_string())?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(|e| format!("{}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Stamps the product version and, if asked, the development origin into the manifest.
fn write_manifest(path: &Path, dev_origin: Option<&str>) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut manifest: Value = serde_json::from_str(&text).map_err(|e| format!("extension/manifest.json: {e}"))?;
    manifest["version"] = json!(VERSION);
    if let Some(origin) = dev_origin {
        let origin = origin.trim_end_matches('/');
        if !origin.starts_with("http://127.0.0.1") && !origin.starts_with("http://localhost") {
            return Err(format!("--dev-origin must be on this machine (http://127.0.0.1:PORT), not {origin:?}"));
        }
        let pattern = format!("{origin}/*");
        let replace = |list: &mut Value| {
            for item in list.as_array_mut().into_iter().flatten() {
                if item == DEFAULT_DEV_PATTERN {
                    *item = json!(pattern);
                }
            }
        };
        replace(&mut manifest["host_permissions"]);
        for script in manifest["content_scripts"].as_array_mut().into_iter().flatten() {
            replace(&mut script["matches"]);
        }
    }
    std::fs::write(path, format!("{manifest:#}\n")).map_err(|e| e.to_string())
}

fn zip_dir(dir: &Path, zip_path: &Path) -> Result<()> {
    let file = std::fs::File::create(zip_path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    for path in files {
        let name = path.strip_prefix(dir).map_err(|e| e.to_string())?.to_string_lossy().replace('\\', "/");
        zip.start_file(name, options).map_err(|e| e.to_string())?;
        zip.write_all(&std::fs::read(&path).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    }
    zip.finish().map_err(|e| e.to_string())?;
    Ok(())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn build_host(release: bool, out: &Path) -> Result<PathBuf> {
    step(&format!("building datalink-host ({})", if release { "release" } else { "dev" }));
    let mut command = cargo();
    command.current_dir(root()).args(["build", "-p", "datalink-host"]);
    if release {
        command.arg("--release");
    }
    run(&mut command)?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    let built = target_dir.join(if release { "release" } else { "debug" }).join(format!("datalink-host{}", std::env::consts::EXE_SUFFIX));
    let dest_dir = out.join("host");
    std::fs::create_dir_all(&dest_dir).map_err(|e| e.to_string())?;
    let dest = dest_dir.join(built.file_name().ok_or("no host file name")?);
    // Replace, not overwrite: a running host (a browser still open) keeps its old inode.
    let _ = std::fs::remove_file(&dest);
    std::fs::copy(&built, &dest).map_err(|e| format!("{}: {e}", built.display()))?;
    Ok(dest)
}

/// Fills a host manifest template (as JSON, so the path is escaped properly).
fn write_host_manifest(template: &Path, host: &Path, dest: &Path) -> Result<()> {
    let text = std::fs::read_to_string(template).map_err(|e| format!("{}: {e}", template.display()))?;
    let mut manifest: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", template.display()))?;
    manifest["path"] = json!(host.to_string_lossy());
    if manifest.get("allowed_origins").is_some() {
        manifest["allowed_origins"] = json!([format!("chrome-extension://{}/", datalink_core::EXTENSION_ID)]);
    }
    if manifest.get("allowed_extensions").is_some() {
        manifest["allowed_extensions"] = json!([datalink_core::FIREFOX_EXTENSION_ID]);
    }
    std::fs::create_dir_all(dest.parent().ok_or("no parent")?).map_err(|e| e.to_string())?;
    std::fs::write(dest, format!("{manifest:#}\n")).map_err(|e| e.to_string())
}
