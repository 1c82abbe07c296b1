//! Any bytes that parse as JSON must validate (and compile) without
//! panicking, and validation must agree with compilation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let report = routing::validate(&json);
    assert_eq!(
        report.is_valid(),
        routing::CompiledBot::compile(&json).is_ok()
    );
});
