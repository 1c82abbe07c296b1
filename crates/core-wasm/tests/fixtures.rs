//! The shared fixtures of the three core crates, driven through the
//! boundary: natively through [`core_wasm::api`] (`cargo test`) and as Wasm
//! under Node through the real exports (`wasm-bindgen-test`). The Deno tests
//! (`functions/tests/core_fixtures_test.ts`) replay the same files against the
//! built module, so all three must agree with the expected JSON exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(all(feature = "routing", feature = "health", feature = "alerting"))]

use serde_json::{json, Value};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const ROUTING_SCENARIOS: &str = include_str!("../../routing/fixtures/scenarios.json");
const INVALID_DEFINITIONS: &str = include_str!("../../routing/fixtures/invalid-definitions.json");
const VERSION_SELECTION: &str = include_str!("../../routing/fixtures/version-selection.json");
const HEALTH_SCENARIOS: &str = include_str!("../../health/fixtures/scenarios.json");
const ALERTING_SCENARIOS: &str = include_str!("../../alerting/fixtures/scenarios.json");

/// The fixture definitions a scenario may name by file.
fn named_definition(name: &str) -> Value {
    let text = match name {
        "demo-bot.json" => include_str!("../../routing/fixtures/demo-bot.json"),
        "support-bot.json" => include_str!("../../routing/fixtures/support-bot.json"),
        "step-bound-bot.json" => include_str!("../../routing/fixtures/step-bound-bot.json"),
        other => panic!("scenario names an unknown definition file {other}"),
    };
    serde_json::from_str(text).unwrap()
}

/// One way of reaching the core: natively or through the Wasm exports.
mod core {
    use serde_json::Value;

    #[cfg(not(target_arch = "wasm32"))]
    pub fn route(
        definition_key: &str,
        definition: &Value,
        request: Value,
    ) -> Result<Value, String> {
        let _ = definition_key;
        let mut input = request;
        input["definition"] = definition.clone();
        core_wasm::api::route(input)
    }

    /// Calls a text export with raw text (natively, the same function the
    /// export calls), for inputs no `Value` can be built from safely.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn call_text(concern: &str, name: &str, input: &str) -> Result<Value, String> {
        let output = match concern {
            "validate_definition" => {
                serde_json::to_string(&core_wasm::api::validate_definition_text(input))
                    .map_err(|error| error.to_string())
            }
            "route" => core_wasm::api::route_text(input),
            "health" => core_wasm::api::health_text(name, input),
            "alerting" => core_wasm::api::alerting_text(name, input),
            other => panic!("unknown concern {other}"),
        }?;
        Ok(serde_json::from_str(&output).unwrap())
    }

    #[cfg(target_arch = "wasm32")]
    pub fn call_text(concern: &str, name: &str, input: &str) -> Result<Value, String> {
        match concern {
            "validate_definition" => text(core_wasm::validate_definition(input)),
            "route" => text(core_wasm::route(input)),
            "health" => text(core_wasm::health(name, input)),
            "alerting" => text(core_wasm::alerting(name, input)),
            other => panic!("unknown concern {other}"),
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn call(concern: &str, name: &str, input: Value) -> Result<Value, String> {
        match concern {
            "validate_definition" => core_wasm::api::validate_definition(input),
            "select_version" => core_wasm::api::select_version(input),
            "health" => core_wasm::api::health(name, input),
            "alerting" => core_wasm::api::alerting(name, input),
            other => panic!("unknown concern {other}"),
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn text(result: Result<String, wasm_bindgen::JsError>) -> Result<Value, String> {
        match result {
            Ok(output) => Ok(serde_json::from_str(&output).unwrap()),
            Err(error) => {
                let error = js_sys::Error::from(wasm_bindgen::JsValue::from(error));
                Err(String::from(error.message()))
            }
        }
    }

    /// Routes through the export with a definition key, so the second and
    /// later steps of a scenario use the cached compiled bot.
    #[cfg(target_arch = "wasm32")]
    pub fn route(
        definition_key: &str,
        definition: &Value,
        request: Value,
    ) -> Result<Value, String> {
        let mut input = request;
        input["definition_key"] = Value::from(definition_key);
        if !core_wasm::has_compiled_bot(definition_key) {
            input["definition"] = definition.clone();
        }
        text(core_wasm::route(&input.to_string()))
    }

    #[cfg(target_arch = "wasm32")]
    pub fn call(concern: &str, name: &str, input: Value) -> Result<Value, String> {
        match concern {
            "validate_definition" => text(core_wasm::validate_definition(&input.to_string())),
            "select_version" => text(core_wasm::select_version(&input.to_string())),
            "health" => text(core_wasm::health(name, &input.to_string())),
            "alerting" => text(core_wasm::alerting(name, &input.to_string())),
            other => panic!("unknown concern {other}"),
        }
    }
}

#[test]
fn routing_scenarios_give_the_expected_actions_and_states() {
    let scenarios: Vec<Value> = serde_json::from_str(ROUTING_SCENARIOS).unwrap();
    assert!(
        scenarios.len() >= 10,
        "the routing fixture lost its scenarios"
    );
    for (scenario_index, scenario) in scenarios.iter().enumerate() {
        let definition = match &scenario["definition"] {
            Value::String(file) => named_definition(file),
            inline => inline.clone(),
        };
        let definition_key = format!("scenario-{scenario_index}");
        let mut state = Value::Null;
        for (step_index, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
            let request = json!({
                "state": state,
                "message": step["message"],
                "contact": scenario["contact"],
                "now_ms": step["now_ms"],
                "seed": step["seed"],
            });
            let output = core::route(&definition_key, &definition, request)
                .unwrap_or_else(|error| panic!("{} step {step_index}: {error}", scenario["name"]));
            assert_eq!(
                output, step["expect"],
                "{} step {step_index}",
                scenario["name"]
            );
            state = output["state"].clone();
        }
    }
}

#[test]
fn invalid_definitions_report_every_problem_with_its_path() {
    let cases: Vec<Value> = serde_json::from_str(INVALID_DEFINITIONS).unwrap();
    assert!(!cases.is_empty());
    for case in &cases {
        let report = core::call("validate_definition", "", case["definition"].clone()).unwrap();
        assert_eq!(report, case["expect"], "{}", case["name"]);
    }
}

#[test]
fn an_invalid_definition_is_refused_by_route_with_all_its_errors() {
    let cases: Vec<Value> = serde_json::from_str(INVALID_DEFINITIONS).unwrap();
    let case = cases
        .iter()
        .find(|case| {
            case["expect"]["errors"]
                .as_array()
                .is_some_and(|errors| errors.len() >= 2)
        })
        .expect("a fixture with at least two errors");
    let request = json!({
        "state": null,
        "message": {"id": "m1", "text": "hi"},
        "contact": {"wa_id": "+15550100002"},
        "now_ms": 0
    });
    let error = core::route("invalid", &case["definition"], request).unwrap_err();
    for problem in case["expect"]["errors"].as_array().unwrap() {
        let path = problem["path"].as_str().unwrap();
        assert!(error.contains(path), "{error} does not name {path}");
    }
}

#[test]
fn version_selection_is_identical() {
    let cases: Vec<Value> = serde_json::from_str(VERSION_SELECTION).unwrap();
    assert!(!cases.is_empty());
    for case in &cases {
        let choice = core::call("select_version", "", case["input"].clone()).unwrap();
        assert_eq!(choice, case["expect"], "{}", case["name"]);
    }
}

fn replay(concern: &str, fixture: &str) {
    let scenarios: Vec<Value> = serde_json::from_str(fixture).unwrap();
    assert!(!scenarios.is_empty());
    for scenario in &scenarios {
        for (step_index, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
            let name = step["call"].as_str().unwrap();
            let output = core::call(concern, name, step["input"].clone())
                .unwrap_or_else(|error| panic!("{} step {step_index}: {error}", scenario["name"]));
            assert_eq!(
                output, step["expect"],
                "{} step {step_index} ({name})",
                scenario["name"]
            );
        }
    }
}

#[test]
fn health_scenarios_over_simulated_time_are_identical() {
    replay("health", HEALTH_SCENARIOS);
}

#[test]
fn alerting_scenarios_are_identical() {
    replay("alerting", ALERTING_SCENARIOS);
}

#[test]
fn malformed_inputs_are_errors_naming_the_problem() {
    let error = core::call("health", "evaluate", json!({"snapshot": 7, "now_ms": 0})).unwrap_err();
    assert!(
        error.contains("evaluate") && error.contains("snapshot"),
        "{error}"
    );
    let error = core::call("alerting", "escalate_everything", json!({})).unwrap_err();
    assert!(error.contains("unknown alerting function"), "{error}");
    let error = core::call("select_version", "", json!({"bot": 1})).unwrap_err();
    assert!(error.contains("invalid version selection input"), "{error}");
}

/// A bot definition whose first node's `text` is nested `depth` arrays deep
/// (the outside probe's ~20 KB definition at 10,000).
fn deeply_nested_definition(depth: usize) -> String {
    format!(
        r#"{{"format": 1, "name": "deep", "nodes": [{{"id": "a", "type": "message", "text": {}"hi"{}}}]}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

#[test]
fn a_deeply_nested_definition_is_a_validation_error_and_the_next_call_works() {
    let report =
        core::call_text("validate_definition", "", &deeply_nested_definition(10_000)).unwrap();
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0]["code"], "too_complex");
    let path = errors[0]["path"].as_str().unwrap();
    assert!(path.starts_with("$.nodes[0].text[0][0]"), "{path}");
    // Deep enough for serde_json but past the definition's own bound.
    let report = core::call_text("validate_definition", "", &deeply_nested_definition(60)).unwrap();
    assert_eq!(report["errors"][0]["code"], "too_complex", "{report}");
    assert!(report["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("32 levels"));
    // The same instance still validates an ordinary definition.
    let report = core::call("validate_definition", "", named_definition("demo-bot.json")).unwrap();
    assert_eq!(report["errors"], json!([]), "{report}");
}

#[test]
fn every_text_entry_point_refuses_deep_nesting_with_a_path() {
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let route_input = format!(
        r#"{{"definition": {{"format": 1, "name": "x", "nodes": [{deep}]}}, "message": {{"id": "m", "text": "hi"}}, "contact": {{"wa_id": "1"}}, "now_ms": 0}}"#
    );
    let error = core::call_text("route", "", &route_input).unwrap_err();
    assert!(
        error.contains("invalid route input at `definition.nodes[0][0]")
            && error.contains("nested deeper than the limit of 128 levels"),
        "{error}"
    );
    let error = core::call_text(
        "health",
        "evaluate",
        &format!(r#"{{"snapshot": {deep}, "now_ms": 0}}"#),
    )
    .unwrap_err();
    // A typed field refuses the nesting where its type stops fitting.
    assert!(error.contains("at `snapshot"), "{error}");
    let error = core::call_text(
        "alerting",
        "plan",
        &format!(r#"{{"channels": {deep}, "now_ms": 0}}"#),
    )
    .unwrap_err();
    assert!(error.contains("at `channels"), "{error}");
}
