//! The library half of `datalink-host`: what is pure enough to be fuzzed.
//!
//! The binary (`main.rs`) is the host; it uses [`framing`] from here, so the fuzz targets
//! (`fuzz/`, see `cargo xtask fuzz`) exercise exactly the code that reads the browser's pipe.

pub mod framing;
/// The framing invariant shared by the `framing` fuzz target and its regression test.
#[doc(hidden)]
pub mod fuzzing;
