#![no_main]
//! A list answer (any bytes) → a page or a typed fault; generated pages round-trip (datalink_core::fuzzing).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    datalink_core::fuzzing::check_portal_list(data);
});
