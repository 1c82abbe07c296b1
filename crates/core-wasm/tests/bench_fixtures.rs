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
    let expected = serde_json::Value::Array(requests);
    // Compared as JSON values: key order depends on whether another crate in
    // the build turned on serde_json's `preserve_order`.
    let current: Option<serde_json::Value> = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    if current.as_ref() != Some(&expected) {
        std::fs::write(
            path,
            serde_json::to_string_pretty(&expected).unwrap() + "\n",
        )
        .unwrap();
        panic!("bench-requests.json was stale and has been rewritten; review and commit it");
    }
}
