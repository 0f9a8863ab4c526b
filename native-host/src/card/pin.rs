//! The PIN (IC卡密码): checked locally, kept in wiped memory, never shown.
//!
//! Every wrong guess that reaches the card burns one of its few tries, and a locked card means a
//! trip to the card service. So the PIN is held to a few rules:
//!
//! * **Format first.** [`Pin::parse`] refuses what cannot be a PIN (too short or long, spaces,
//!   full-width digits from a Chinese input method, …) *before* anything is sent: a typo in the
//!   format costs no try. The rule is deliberately loose — 6 to 16 ASCII letters or digits, the
//!   same as the extension's (`wasm-core/src/secret.rs`) — because the card's real rule is not
//!   public; the default PIN of E-Port cards is 8 digits.
//! * **Wiped.** The text lives in a [`Zeroizing`] string, overwritten when the `Pin` is dropped.
//!   Copies made on the way in (the JSON frame, serde's buffers) and on the way out (the
//!   WebSocket frame to the E-Port control) are outside our control; the frame is short-lived.
//! * **Never shown.** `Pin` has no `Display` or `Serialize`, and its `Debug` prints a
//!   placeholder, so no `{:?}` in a log line can leak it. There is no `Clone` either.
//! * **Never from argv.** The CLI reads it from the terminal without echo, or from stdin
//!   ([`read_from_user`]).

use std::io::{BufRead, IsTerminal};

use zeroize::Zeroizing;

use super::CardError;

/// Shortest and longest PIN accepted locally (one rule with the extension's).
pub use datalink_core::secret::{MAX_LEN, MIN_LEN};

/// A PIN that passed the local format check.
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Checks the format; the text is wiped whatever the outcome.
    pub fn parse(text: Zeroizing<String>) -> Result<Pin, CardError> {
        let len = text.chars().count();
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            return Err(CardError::PinFormat(format!("{len} characters, expected {MIN_LEN}–{MAX_LEN}")));
        }
        if let Some(bad) = text.chars().find(|c| !c.is_ascii_alphanumeric()) {
            return Err(CardError::PinFormat(format!("a character of class {}", class_of(bad))));
        }
        Ok(Pin(text))
    }

    /// The PIN's text, for the one place that sends it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The PIN's bytes (ASCII), for a VERIFY command.
    #[cfg_attr(not(feature = "pcsc"), allow(dead_code))]
    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// What kind of character broke the format (for the log: the class, never the character).
fn class_of(c: char) -> &'static str {
    match c {
        c if c.is_whitespace() => "whitespace",
        '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => "full-width letter or digit",
        c if c.is_ascii_punctuation() => "ASCII punctuation",
        c if c.is_control() => "control",
        _ => "non-ASCII",
    }
}

/// Reads a PIN for the command line: from the terminal without echo when stdin is one, otherwise
/// the first line of stdin (for scripts: `printf '%s\n' "$PIN" | datalink-host card verify`).
pub fn read_from_user(prompt: &str) -> std::io::Result<Zeroizing<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return rpassword::prompt_password(prompt).map(Zeroizing::new);
    }
    let mut line = Zeroizing::new(String::new());
    stdin.lock().read_line(&mut line)?;
    let kept = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(kept);
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Pin, CardError> {
        Pin::parse(Zeroizing::new(text.to_owned()))
    }

    #[test]
    fn accepts_ascii_letters_and_digits_of_4_to_16() {
        for ok in ["888888", "88888888", "Ab12Cd34", "1234567890123456"] {
            assert_eq!(parse(ok).unwrap().expose(), ok);
        }
    }

    #[test]
    fn refuses_what_cannot_be_a_pin_without_echoing_it() {
        for bad in ["", "123", "12345", "12345678901234567", "1234 5678", "１２３４５６７８", "1234-5678", "密码密码密码", "12345678\n"] {
            let err = parse(bad).err().unwrap_or_else(|| panic!("accepted {bad:?}"));
            assert!(matches!(err, CardError::PinFormat(_)), "{bad:?} gave {err:?}");
            let detail = err.to_string();
            assert!(bad.len() < 2 || !detail.contains(bad), "the detail {detail:?} repeats the PIN");
            for c in bad.chars().filter(|c| !c.is_ascii()) {
                assert!(!detail.contains(c), "the detail {detail:?} repeats a character of the PIN");
            }
        }
        assert!(parse("１２３４５６７８").err().unwrap().to_string().contains("full-width"));
    }

    #[test]
    fn debug_never_prints_it() {
        let pin = parse("20240615").unwrap();
        assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
    }
}
