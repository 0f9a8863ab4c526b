#![no_main]
//! One request frame (any bytes) → exactly one reply with a known code (datalink_core::fuzzing).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = datalink_core::fuzzing::check_request_frame(data);
});
