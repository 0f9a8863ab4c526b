#![no_main]
//! A detail answer (any bytes) → a detail or a typed fault; generated details round-trip and pass 核销 (datalink_core::fuzzing).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    datalink_core::fuzzing::check_portal_detail(data);
});
