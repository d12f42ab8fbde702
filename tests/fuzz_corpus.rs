//! Replays the `load` fuzz corpus (`fixtures/fuzz/load/`) through the whole
//! loader, so a normal `cargo test` keeps guarding against every input the
//! fuzzer found interesting. The `interpolate` and `dotenv` corpora are
//! replayed by unit tests next to their parsers, which check more than "no panic".

use std::path::Path;
use std::time::{Duration, Instant};

fn corpus(target: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fuzz")
        .join(target);
    let mut inputs: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| std::fs::read(e.path()).ok())
                .filter_map(|bytes| String::from_utf8(bytes).ok())
                .collect()
        })
        .unwrap_or_default();
    inputs.sort();
    inputs
}

#[test]
fn load_corpus_never_panics_or_hangs() {
    let inputs = corpus("load");
    assert!(!inputs.is_empty(), "fixtures/fuzz/load is empty");
    for input in inputs {
        let start = Instant::now();
        let _ = berth::compose::load_from_str(&input, Path::new("/nonexistent-fuzz-dir"));
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "slow input:\n{input}"
        );
    }
}
