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
//!
//! `cargo xtask dist` ([`dist`]) adds what goes to users (release host, see README “安装”):
//!
//! ```text
//! datalink-extension-<ver>-store.zip   for the Edge Add-ons store / Chrome Web Store: no `key`, no 127.0.0.1
//! datalink-<ver>.crx                   CRX3 signed with --key (or a development key), for enterprise policy
//! update.xml                           the update manifest ExtensionInstallForcelist points to
//! host/datalink-host.exe               the Windows host (--windows), cross-built (xtask/src/windows.rs)
//! install.sh, install.ps1              copy the host to a stable folder and run `datalink-host install`
//! dist-info.json                       every file with its size
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
        // The host itself must be local: `http://127.0.0.1.evil.example` is not.
        let host = origin.strip_prefix("http://").map(|rest| rest.split(':').next().unwrap_or_default());
        if !matches!(host, Some("127.0.0.1" | "localhost")) {
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

/// What `cargo xtask dist` makes beyond `build`.
pub struct DistOptions {
    pub out: PathBuf,
    /// Cross-build `datalink-host.exe` too.
    pub windows: bool,
    /// The private key that signs the CRX (its public key is the manifest's `key`).
    pub key: Option<PathBuf>,
    /// Where `update.xml` and the CRX will be served from (a folder URL).
    pub update_url: Option<String>,
}

/// Placeholder when no `--update-url` is given: the files are made, the URL must be set.
const PLACEHOLDER_UPDATE_URL: &str = "https://datalink.example.invalid/extension/";

/// `cargo xtask dist`: `build` with a release host, then the store zip, the CRX and its update
/// manifest, the Windows host, the install scripts, and a list of every file with its size.
pub fn dist(toolchain: &Toolchain, options: &DistOptions) -> Result<()> {
    let out = &options.out;
    build(toolchain, &Options { out: out.clone(), release_host: true, dev_origin: None })?;
    let extension = out.join("extension");

    step("release packages of the extension (store zip, CRX3, update.xml)");
    let store_zip = out.join(format!("datalink-extension-{VERSION}-store.zip"));
    let stage = out.join("stage");
    let release_manifest = |key: Option<&str>| -> Result<Vec<u8>> {
        if stage.exists() {
            std::fs::remove_dir_all(&stage).map_err(|e| e.to_string())?;
        }
        copy_dir(&extension, &stage)?;
        let path = stage.join("manifest.json");
        let mut manifest: Value = serde_json::from_str(&std::fs::read_to_string(&path).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        release_permissions(&mut manifest);
        match key {
            Some(key) => manifest["key"] = json!(key),
            None => {
                if let Some(object) = manifest.as_object_mut() {
                    object.remove("key");
                }
            }
        }
        std::fs::write(&path, format!("{manifest:#}\n")).map_err(|e| e.to_string())?;
        let zip = out.join("stage.zip");
        zip_dir(&stage, &zip)?;
        let bytes = std::fs::read(&zip).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(&zip);
        Ok(bytes)
    };
    std::fs::write(&store_zip, release_manifest(None)?).map_err(|e| e.to_string())?;
    println!("{} (no `key`: the store assigns the ID; no 127.0.0.1 permission)", store_zip.display());

    let (key, generated, key_path) = match &options.key {
        Some(path) => (crate::crx::read_key(path)?, false, path.clone()),
        None => {
            let path = root().join("target/dist-keys/dev-key.pem");
            let (key, generated) = crate::crx::dev_key(&path)?;
            (key, generated, path)
        }
    };
    let manifest_key = crate::crx::manifest_key(&key)?;
    let shipped: Value = serde_json::from_str(&std::fs::read_to_string(extension.join("manifest.json")).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let shipped_id = crate::crx::extension_id_of_manifest_key(shipped["key"].as_str().ok_or("extension/manifest.json has no key")?)?;
    if shipped_id != datalink_core::EXTENSION_ID {
        return Err(format!("the manifest's key gives the ID {shipped_id}, not datalink_core::EXTENSION_ID {}", datalink_core::EXTENSION_ID));
    }
    let crx_path = out.join(format!("datalink-{VERSION}.crx"));
    let crx = crate::crx::pack(&release_manifest(Some(&manifest_key))?, &key)?;
    let id = crate::crx::verify(&crx)?;
    std::fs::write(&crx_path, &crx).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&stage);
    if id == datalink_core::EXTENSION_ID {
        println!("{} signed with {}: ID {id} (the real one)", crx_path.display(), key_path.display());
    } else {
        println!(
            "{} signed with the {} key {}: ID {id}, NOT the real {} — for trying the policy route only; \
             give the team's key with --key FILE for the package users get",
            crx_path.display(),
            if generated { "newly generated development" } else if options.key.is_some() { "given" } else { "development" },
            key_path.display(),
            datalink_core::EXTENSION_ID
        );
    }
    let base = options.update_url.clone().unwrap_or_else(|| PLACEHOLDER_UPDATE_URL.to_owned());
    let base = if base.ends_with('/') { base } else { format!("{base}/") };
    let file_name = crx_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    std::fs::write(out.join("update.xml"), crate::crx::update_xml(&id, VERSION, &format!("{base}{file_name}"))).map_err(|e| e.to_string())?;
    println!("{} → {base}{file_name}", out.join("update.xml").display());
    if options.update_url.is_none() {
        println!("no --update-url: update.xml points to the placeholder {PLACEHOLDER_UPDATE_URL}; give the folder URL the files will be served from");
    }
    println!("policy value: ExtensionInstallForcelist = \"{id};{base}update.xml\"");

    if options.windows {
        crate::windows::ensure(false)?;
        let started = std::time::Instant::now();
        let exe = crate::windows::build_host(true)?;
        println!("cross-build took {:.1}s", started.elapsed().as_secs_f64());
        let dest = out.join("host").join("datalink-host.exe");
        let _ = std::fs::remove_file(&dest);
        std::fs::copy(&exe, &dest).map_err(|e| format!("{}: {e}", exe.display()))?;
    }

    step("install scripts");
    let script = std::fs::read_to_string(root().join("manifest/install.sh")).map_err(|e| e.to_string())?;
    let sh = out.join("install.sh");
    std::fs::write(&sh, script).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&sh, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
    }
    // Windows PowerShell 5.1 reads a script without a BOM in the ANSI code page: the BOM keeps
    // the Chinese messages readable.
    let ps1 = std::fs::read_to_string(root().join("manifest/install.ps1")).map_err(|e| e.to_string())?;
    std::fs::write(out.join("install.ps1"), format!("\u{feff}{}", ps1.trim_start_matches('\u{feff}').replace("\r\n", "\n").replace('\n', "\r\n")))
        .map_err(|e| e.to_string())?;

    step("dist contents");
    let mut files = Vec::new();
    for name in [
        format!("datalink-extension-{VERSION}.zip"),
        format!("datalink-extension-{VERSION}-store.zip"),
        format!("datalink-{VERSION}.crx"),
        "update.xml".to_owned(),
        "host/datalink-host".to_owned(),
        "host/datalink-host.exe".to_owned(),
        "install.sh".to_owned(),
        "install.ps1".to_owned(),
        "extension/wasm/datalink_core_bg.wasm".to_owned(),
    ] {
        if let Ok(meta) = std::fs::metadata(out.join(&name)) {
            println!("| `{name}` | {} | {} |", meta.len(), human(meta.len()));
            files.push(json!({ "file": name, "bytes": meta.len() }));
        }
    }
    let info = json!({ "version": VERSION, "extensionId": id, "realId": id == datalink_core::EXTENSION_ID, "files": files });
    std::fs::write(out.join("dist-info.json"), format!("{info:#}\n")).map_err(|e| e.to_string())?;
    Ok(())
}

fn human(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
    } else {
        kib(bytes)
    }
}

/// A release manifest asks for the portal's hosts only: the development pattern goes.
fn release_permissions(manifest: &mut Value) {
    let strip = |list: &mut Value| {
        if let Some(items) = list.as_array_mut() {
            items.retain(|item| item.as_str().is_none_or(|p| !p.starts_with("http://127.0.0.1") && !p.starts_with("http://localhost")));
        }
    };
    strip(&mut manifest["host_permissions"]);
    for script in manifest["content_scripts"].as_array_mut().into_iter().flatten() {
        strip(&mut script["matches"]);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn source_manifest() -> Value {
        serde_json::from_str(&std::fs::read_to_string(root().join("extension/manifest.json")).unwrap()).unwrap()
    }

    fn patterns(manifest: &Value) -> Vec<String> {
        let mut all: Vec<String> = manifest["host_permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
        for script in manifest["content_scripts"].as_array().unwrap() {
            all.extend(script["matches"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()));
        }
        all
    }

    /// The release packages (store zip, CRX) ask for the portal's origins and nothing local
    /// (issue #9; tests/e2e/tests/security.rs checks the rest of the manifest).
    #[test]
    fn a_release_manifest_keeps_the_portal_origins_and_drops_every_local_one() {
        let source = source_manifest();
        assert!(patterns(&source).iter().any(|p| p == DEFAULT_DEV_PATTERN), "the development pattern this guards against");
        let mut released = source.clone();
        // A --dev-origin build narrows the pattern to a port; that must go too.
        for script in released["content_scripts"].as_array_mut().unwrap() {
            script["matches"].as_array_mut().unwrap().push(json!("http://localhost:18080/*"));
        }
        release_permissions(&mut released);
        let left = patterns(&released);
        assert!(left.iter().all(|p| p.contains(".singlewindow.")), "{left:?}");
        let portal: Vec<String> = patterns(&source).into_iter().filter(|p| p.contains(".singlewindow.")).collect();
        assert_eq!(left, portal, "every portal origin stays, in order");
    }

    #[test]
    fn a_dev_origin_must_be_this_machine() {
        let dir = std::env::temp_dir().join(format!("xtask-dev-origin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("manifest.json");
        for (origin, ok) in [("http://127.0.0.1:18080", true), ("http://localhost:8080", true), ("https://evil.example", false), ("http://127.0.0.1.evil.example", false), ("http://localhost.evil.example:80", false)] {
            std::fs::copy(root().join("extension/manifest.json"), &path).unwrap();
            assert_eq!(write_manifest(&path, Some(origin)).is_ok(), ok, "{origin}");
        }
        std::fs::copy(root().join("extension/manifest.json"), &path).unwrap();
        write_manifest(&path, Some("http://127.0.0.1:18080/")).unwrap();
        let written: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(patterns(&written).contains(&"http://127.0.0.1:18080/*".to_owned()));
        assert!(!patterns(&written).contains(&DEFAULT_DEV_PATTERN.to_owned()), "the port replaces the wide pattern");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
