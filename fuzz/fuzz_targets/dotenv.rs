//! Fuzz the `.env` grammar: it must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = berth::compose::dotenv::parse(text, &|_| None);
        let _ = berth::compose::dotenv::parse_raw(text);
    }
});
