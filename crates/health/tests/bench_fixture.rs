//! Keeps `fixtures/bench-10000-snapshots.json` equal to the generated sweep.
//!
//! The Wasm benchmark (Node and Deno) times `evaluate_all` on this file, and
//! the native benchmark (`benches/sweep.rs`) on the same generated sweep, so
//! the two measure the same work. The file is compact JSON in the shape of
//! the `evaluate_all` entry point's input, `{snapshots, thresholds, now_ms}`.
//! When the generator changes, this test rewrites the file and fails, so the
//! change is reviewed and committed.

// Tests may unwrap: a panic is the failure report (clippy.toml allows it in
// #[test] functions; this covers their helpers too).
#![allow(clippy::unwrap_used)]

const FIXTURE_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/bench-10000-snapshots.json"
);

#[test]
fn the_committed_bench_sweep_is_current() {
    let sweep = health::bench_support::bench_sweep();
    let generated = serde_json::to_string(&sweep).unwrap() + "\n";
    let committed = std::fs::read_to_string(FIXTURE_PATH).unwrap_or_default();
    if committed != generated {
        std::fs::write(FIXTURE_PATH, &generated).unwrap();
        panic!("{FIXTURE_PATH} was stale and has been rewritten; commit it");
    }
}

#[test]
fn the_committed_bench_sweep_is_valid_evaluate_all_input() {
    let text = std::fs::read_to_string(FIXTURE_PATH).unwrap();
    let input: serde_json::Value = serde_json::from_str(&text).unwrap();
    let verdicts = health::call_json("evaluate_all", input).unwrap();
    assert_eq!(verdicts.as_array().unwrap().len(), 10_000);
}
