//! Keeps `crates/routing/fixtures/bench-requests.json` equal to
//! `routing::bench_support::bench_requests()`, so the Wasm benchmark in Deno
//! routes exactly the messages the native criterion benchmark routes.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(all(feature = "routing", not(target_arch = "wasm32")))]

#[test]
fn the_bench_requests_fixture_is_current() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../routing/fixtures/bench-requests.json"
    );
    let requests: Vec<serde_json::Value> = routing::bench_support::bench_requests()
        .into_iter()
        .map(|(name, request)| serde_json::json!({"name": name, "request": request}))
        .collect();
    let expected = serde_json::to_string_pretty(&requests).unwrap() + "\n";
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if current != expected {
        std::fs::write(path, &expected).unwrap();
        panic!("bench-requests.json was stale and has been rewritten; review and commit it");
    }
}
