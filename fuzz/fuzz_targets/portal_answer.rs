#![no_main]
//! Status, redirect, URL and body → one outcome (session expiry, HTML, HTTP errors); the desktop page never panics (datalink_core::fuzzing).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    datalink_core::fuzzing::check_portal_answer(data);
});
