//! The card PIN (中国电子口岸卡介质口令): one type for the extension and the host.
//!
//! `Debug` prints `Pin(<redacted>)`; there is no `Display`; the text is wiped (`zeroize`) when
//! dropped; it deserializes only from a JSON string and never repeats a refused value in an
//! error. It *serializes* as a plain string because it must reach the host (`card_verify_pin`);
//! page-facing types that carry a PIN mark the field `skip_serializing`, so no reply can echo it.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

/// Shortest and longest PIN accepted locally (E-Port cards use 8 digits; a changed PIN may differ).
pub const MIN_LEN: usize = 6;
pub const MAX_LEN: usize = 16;

/// The local format rule, checked before any attempt, so a typo never burns a try on the card:
/// 6 to 16 ASCII letters or digits.
pub fn well_formed(text: &str) -> bool {
    (MIN_LEN..=MAX_LEN).contains(&text.chars().count()) && text.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A PIN typed by the user.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    pub fn new(text: String) -> Pin {
        Pin(Zeroizing::new(text))
    }

    /// The PIN's characters, for the one place that must type or send them.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Moves the text out (no copy), leaving an empty PIN.
    pub fn take(&mut self) -> String {
        std::mem::take(&mut *self.0)
    }

    /// [`well_formed`].
    pub fn well_formed(&self) -> bool {
        well_formed(&self.0)
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

impl Serialize for Pin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Pin {
    /// Only a JSON string; anything else is refused *without* repeating the value (serde's own
    /// message would quote a numeric PIN in the error's detail).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Pin, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(text) => Ok(Pin::new(text)),
            _ => Err(serde::de::Error::custom("a PIN must be a JSON string")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_never_shows_and_is_checked_locally() {
        let pin: Pin = serde_json::from_str("\"88888888\"").unwrap();
        assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
        assert_eq!(pin.expose(), "88888888");
        assert!(pin.well_formed());
        assert!(!Pin::new("12 34".into()).well_formed());
        assert!(!Pin::new("123".into()).well_formed());
        assert!(!Pin::new("12345678901234567".into()).well_formed());
        let refused = serde_json::from_str::<Pin>("88888888").unwrap_err().to_string();
        assert!(!refused.contains("88888888"), "{refused}");
    }

    #[test]
    fn take_leaves_it_empty() {
        let mut pin = Pin::new("88888888".into());
        assert_eq!(pin.take(), "88888888");
        assert_eq!(pin, Pin::new(String::new()));
    }
}
