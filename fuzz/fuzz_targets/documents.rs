#![no_main]
//! The PDF print and receipts answers → bytes or a typed fault (datalink_core::fuzzing).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    datalink_core::fuzzing::check_documents(data);
});
