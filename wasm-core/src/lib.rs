//! # datalink-core
//!
//! DataLink's domain logic, in one crate that compiles two ways:
//!
//! * **natively**, for fast unit and property tests and as a library of `datalink-host`
//!   (the two sides share the [`protocol`] types and the [`error`] table, so they cannot drift);
//! * **to wasm32** with wasm-bindgen, as the brain of the extension's service worker
//!   (the `wasm` module, compiled only for `target_arch = "wasm32"`).
//!
//! Everything here except `wasm` is pure: no I/O, no clock, no randomness. I/O lives at the
//! edges — the service worker's `fetch` and native port, the host's pipe, SQLite and card.
//!
//! Map of the modules:
//! * [`calendar`] — civil dates (`YYYY-MM-DD`) and day arithmetic;
//! * [`period`] — task ranges and the calendar-month periods users reconcile;
//! * [`protocol`] — the native-messaging requests, replies and chunking (see PROTOCOL.md);
//! * [`plan`] — stages and query windows within the portal's limits, adaptive splitting;
//! * [`portal`] — the Single Window's list and detail calls: URLs, parsing, faults, 核销 cross-check;
//! * [`checkpoint`] — what the sync commits to the host's store and reads back to resume;
//! * [`sync`] — the sync engine: a pure state machine deciding every request and commit;
//! * [`secret`] — the card PIN: redacted, never serialized, zeroized;
//! * [`task`] — a sync task's conditions (the 报关单协同 form), number and state;
//! * [`page`] — messages from extension pages and content scripts to the worker;
//! * [`error`] — every user-facing error: stable code, name and Chinese message;
//! * [`browse`] — what the extension's pages read from the store (协同记录, 详情, 预览, export);
//! * [`view`] — the pages' presentation logic (texts in two languages, form checks, clear
//!   states, paging, the customs form's layout), pure and tested natively;
//! * the trade value certificate (进出口贸易额证明): [`month`] (calendar months), [`money`]
//!   (exact decimals, half-up display, 万), [`currency`] (customs code ↔ ISO ↔ 中文名),
//!   [`holidays`] (China's holiday calendar as data), [`rates`] (the customs rate-date rules and
//!   the rate tables), [`trade_value`] (the figures) and [`certificate`] (its words and
//!   verification code).

pub mod browse;
pub mod calendar;
pub mod certificate;
pub mod checkpoint;
mod csv_text;
pub mod currency;
pub mod documents;
pub mod error;
/// The invariants the fuzz targets (`fuzz/`) and their regression tests share (native only: the
/// extension never runs them).
#[doc(hidden)]
#[cfg(not(target_arch = "wasm32"))]
pub mod fuzzing;
pub mod holidays;
pub mod money;
pub mod month;
pub mod pace;
pub mod page;
pub mod period;
pub mod plan;
pub mod portal;
pub mod protocol;
pub mod rates;
pub mod report;
pub mod secret;
pub mod sync;
pub mod task;
pub mod trade_value;
pub mod view;

#[cfg(target_arch = "wasm32")]
mod wasm;

/// This crate's version: the one version of extension, host and protocol documents.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The extension's id in Chromium-family browsers, fixed by the `key` in
/// `extension/manifest.json` (the first 128 bits of the key's SHA-256, as letters a–p).
/// Host manifests allow exactly this id.
pub const EXTENSION_ID: &str = "kkaaldpdgcikdogodnihlanlipfoeboa";

/// The extension's id in Firefox (`browser_specific_settings.gecko.id`).
pub const FIREFOX_EXTENSION_ID: &str = "datalink@datalink.singlewindow";

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use sha2::Digest as _;

    #[test]
    fn extension_id_matches_the_manifest_key() {
        let manifest: serde_json::Value = serde_json::from_str(include_str!("../../extension/manifest.json")).unwrap();
        let key = base64::engine::general_purpose::STANDARD.decode(manifest["key"].as_str().unwrap()).unwrap();
        let digest = sha2::Sha256::digest(&key);
        let id: String = digest[..16].iter().flat_map(|b| [b >> 4, b & 15]).map(|n| char::from(b'a' + n)).collect();
        assert_eq!(id, super::EXTENSION_ID);
    }
}
