//! The card PIN (中国电子口岸卡介质口令) as the extension holds it: never printed, never
//! serialized back out, wiped from memory when dropped.

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

/// A PIN typed by the user. `Debug` shows `Pin(***)`; there is no `Serialize` and no
/// `Display`, so it cannot reach a log line or a reply by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    pub fn new(text: String) -> Pin {
        Pin(Zeroizing::new(text))
    }

    /// The PIN's characters, for the one place that must type them (the card login form).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it has the form of a card PIN (8 digits on E-Port cards; 6–16 accepted, since
    /// changed PINs may differ) — checked before any attempt, so a typo never burns a try.
    pub fn well_formed(&self) -> bool {
        (6..=16).contains(&self.0.len()) && self.0.bytes().all(|b| b.is_ascii_alphanumeric())
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(***)")
    }
}

impl<'de> Deserialize<'de> for Pin {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Pin, D::Error> {
        String::deserialize(deserializer).map(Pin::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_never_shows() {
        let pin: Pin = serde_json::from_str("\"88888888\"").unwrap();
        assert_eq!(format!("{pin:?}"), "Pin(***)");
        assert_eq!(pin.expose(), "88888888");
        assert!(pin.well_formed());
        assert!(!Pin::new("12 34".into()).well_formed());
        assert!(!Pin::new("123".into()).well_formed());
    }
}
