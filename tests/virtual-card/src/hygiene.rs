//! Looking for a PIN where it must never be: the tests that check the host's replies, logs,
//! crash output and files search for every way a PIN could be written down.

use std::path::{Path, PathBuf};

use base64::Engine as _;

/// The PIN as text, as hex the way APDU traces print it (`38 34 …` and `3834…`), and as base64.
pub fn pin_needles(pin: &str) -> Vec<String> {
    let bytes = pin.as_bytes();
    vec![
        pin.to_owned(),
        bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" "),
        bytes.iter().map(|b| format!("{b:02x}")).collect(),
        base64::engine::general_purpose::STANDARD.encode(bytes),
    ]
}

/// Every file below `dir`, recursively (nothing when it cannot be read).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_is_looked_for_as_text_hex_and_base64() {
        assert_eq!(pin_needles("1234"), ["1234", "31 32 33 34", "31323334", "MTIzNA=="]);
    }
}
