#![no_main]
//! Any bytes as the browser's pipe: frames or typed errors, the stream in step, write→read the identity (datalink_host::fuzzing).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = datalink_host::fuzzing::check_framing(data);
});
