//! Fuzz the whole loader over compose file bytes: it must never panic, hang
//! or blow up memory, whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = berth::compose::load_from_str(text, std::path::Path::new("/nonexistent-fuzz-dir"));
    }
});
