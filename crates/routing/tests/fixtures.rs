//! Runs the shared fixtures: `scenarios.json`, `invalid-definitions.json` and
//! `version-selection.json`. The WebAssembly boundary runs the same files in
//! Node and Deno, so the expected values are exactly what serde emits.
//!
//! `ROUTING_UPDATE_FIXTURES=1 cargo test -p routing --test fixtures` rewrites
//! every `expect` from the actual output instead of comparing; review the
//! diff before committing it.

// Test helpers outside #[test] functions unwrap too; a panic is a failure.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use routing::{route, select_version, validate, CompiledBot, RouteRequest, VersionSelectionInput};
use serde_json::{json, Value};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn read(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures_dir().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn updating() -> bool {
    std::env::var("ROUTING_UPDATE_FIXTURES").is_ok_and(|value| value == "1")
}

fn write(name: &str, value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    std::fs::write(fixtures_dir().join(name), text).unwrap();
}

/// Compares or, when updating, records; returns the failures.
fn check(expect: &mut Value, actual: Value, what: String, failures: &mut Vec<String>) {
    if updating() {
        *expect = actual;
    } else if *expect != actual {
        failures.push(format!(
            "{what}\n  expected: {}\n  actual:   {}",
            serde_json::to_string(expect).unwrap(),
            serde_json::to_string(&actual).unwrap()
        ));
    }
}

#[test]
fn scenarios() {
    let mut scenarios = read("scenarios.json");
    let mut failures = Vec::new();
    let mut n_steps = 0;
    for scenario in scenarios.as_array_mut().unwrap() {
        let name = scenario["name"].as_str().unwrap().to_string();
        let definition = match &scenario["definition"] {
            Value::String(file) => read(file),
            inline => inline.clone(),
        };
        let bot = CompiledBot::compile(&definition)
            .unwrap_or_else(|report| panic!("{name}: the definition does not compile: {report}"));
        let contact = scenario["contact"].clone();
        let mut state = Value::Null;
        for (index, step) in scenario["steps"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            let request: RouteRequest = serde_json::from_value(json!({
                "state": state,
                "message": step["message"],
                "contact": contact,
                "now_ms": step["now_ms"],
                "seed": step["seed"],
            }))
            .unwrap_or_else(|error| panic!("{name}, step {index}: bad request: {error}"));
            let actual = serde_json::to_value(route(&bot, &request)).unwrap();
            state = actual["state"].clone();
            check(
                &mut step["expect"],
                actual,
                format!("{name}, step {index}"),
                &mut failures,
            );
            n_steps += 1;
        }
    }
    if updating() {
        write("scenarios.json", &scenarios);
    }
    assert!(
        failures.is_empty(),
        "{} of {n_steps} steps differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(n_steps >= 60, "only {n_steps} steps");
}

#[test]
fn invalid_definitions() {
    let mut cases = read("invalid-definitions.json");
    let mut failures = Vec::new();
    for case in cases.as_array_mut().unwrap() {
        let name = case["name"].as_str().unwrap().to_string();
        let actual = serde_json::to_value(validate(&case["definition"])).unwrap();
        check(&mut case["expect"], actual, name, &mut failures);
    }
    if updating() {
        write("invalid-definitions.json", &cases);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn version_selection() {
    let mut cases = read("version-selection.json");
    let mut failures = Vec::new();
    for case in cases.as_array_mut().unwrap() {
        let name = case["name"].as_str().unwrap().to_string();
        let input: VersionSelectionInput = serde_json::from_value(case["input"].clone())
            .unwrap_or_else(|error| panic!("{name}: bad input: {error}"));
        let actual = serde_json::to_value(select_version(&input)).unwrap();
        check(&mut case["expect"], actual, name, &mut failures);
    }
    if updating() {
        write("version-selection.json", &cases);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fixture_bot_compiles_without_warnings() {
    for file in [
        "demo-bot.json",
        "support-bot.json",
        "step-bound-bot.json",
        "bench-500-nodes.json",
    ] {
        let bot =
            CompiledBot::compile(&read(file)).unwrap_or_else(|report| panic!("{file}: {report}"));
        assert_eq!(bot.warnings(), &[], "{file}");
    }
}
