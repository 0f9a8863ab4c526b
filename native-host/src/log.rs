//! The host's diagnostic log. It goes to stderr — never stdout, which is the wire — and Chrome
//! passes the host's stderr on to its own. Lines must not contain a PIN, SQL or a user's path:
//! callers log codes and counts, not payloads.

use std::io::Write;

/// Writes one timestamped line to stderr. Failures to log are ignored: logging must never
/// take the host down.
pub fn line(level: &str, message: std::fmt::Arguments<'_>) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "datalink-host[{}] {}.{:03} {level} {message}", std::process::id(), now.as_secs(), now.subsec_millis());
}

macro_rules! log_info {
    ($($arg:tt)*) => { $crate::log::line("INFO", format_args!($($arg)*)) };
}
macro_rules! log_warn {
    ($($arg:tt)*) => { $crate::log::line("WARN", format_args!($($arg)*)) };
}
pub(crate) use {log_info as info, log_warn as warn};
