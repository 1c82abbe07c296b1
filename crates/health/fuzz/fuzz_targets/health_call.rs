//! The first line names an entry point, the rest is its JSON input:
//! `health::call_json_text` must never panic, and when it answers, the
//! answer is JSON and `call_json` (the `Value` path) gives the same answer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (name, input) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(output) = health::call_json_text(name, input) else {
        return;
    };
    let output: serde_json::Value =
        serde_json::from_str(&output).expect("call_json_text answers JSON");
    let value: serde_json::Value = serde_json::from_str(input).expect("accepted input is JSON");
    assert_eq!(health::call_json(name, value), Ok(output));
});
