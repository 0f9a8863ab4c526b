#![no_main]
//! Any range and span limit → periods and windows that tile the range within the portal's limits (datalink_core::fuzzing).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    datalink_core::fuzzing::check_planner(data);
});
