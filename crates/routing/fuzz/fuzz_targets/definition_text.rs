//! Any text, read the way the Wasm boundary reads a definition (bounded by
//! size and nesting, `json_call::parse_text`), must validate without
//! panicking or overflowing the stack, however deep it nests; validation
//! must agree with compilation. Seeded (scripts/fuzz.sh) with the fixtures
//! and with definitions nested 100 to 10,000 levels deep.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(json) = json_call::parse_text::<serde_json::Value>(text, json_call::MAX_INPUT_BYTES)
    else {
        return;
    };
    let report = routing::validate(&json);
    assert_eq!(
        report.is_valid(),
        routing::CompiledBot::compile(&json).is_ok()
    );
});
