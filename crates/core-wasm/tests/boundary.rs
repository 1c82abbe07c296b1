//! Boundary tests: run under Node with `wasm-bindgen-test-runner`, on the
//! same fixture the native and Deno tests use, so the three agree.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

const DEMO_BOT: &str = include_str!("../../routing/fixtures/demo-bot.json");

fn js(value: serde_json::Value) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap()
}

fn json(value: JsValue) -> serde_json::Value {
    serde_wasm_bindgen::from_value(value).unwrap()
}

use serde::Serialize;

fn route_input(text: &str, state: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "definition": serde_json::from_str::<serde_json::Value>(DEMO_BOT).unwrap(),
        "state": state,
        "message": {"id": "m1", "text": text},
        "contact": {"wa_id": "+15550100002", "name": null},
        "now_ms": 1_700_000_000_000_i64
    })
}

#[wasm_bindgen_test]
fn route_through_the_boundary_matches_native_routing() {
    let input = route_input("hi", serde_json::Value::Null);
    let through_wasm = json(core_wasm::route(js(input.clone())).unwrap());
    let native_input: routing::RouteInput = serde_json::from_value(input).unwrap();
    let native = serde_json::to_value(routing::route(&native_input).unwrap()).unwrap();
    assert_eq!(through_wasm, native);
    assert_eq!(
        through_wasm["replies"][0]["text"],
        "Hi there! I'm the demo bot."
    );
    assert_eq!(through_wasm["state"]["awaiting"], "menu");
}

#[wasm_bindgen_test]
fn state_round_trips_as_a_plain_object() {
    let first = json(core_wasm::route(js(route_input("hi", serde_json::Value::Null))).unwrap());
    let second = json(core_wasm::route(js(route_input("2", first["state"].clone()))).unwrap());
    assert_eq!(
        second["replies"][0]["text"],
        "You can find us at 1 Demo Street, Springfield."
    );
}

#[wasm_bindgen_test]
fn malformed_input_is_an_error_naming_the_field() {
    let error = core_wasm::route(js(serde_json::json!({"definition": {}}))).unwrap_err();
    let message = js_sys::Error::from(JsValue::from(error)).message();
    assert!(
        String::from(message).contains("missing field"),
        "unexpected error"
    );
}

#[wasm_bindgen_test]
fn validation_lists_every_problem_with_its_path() {
    let mut definition: serde_json::Value = serde_json::from_str(DEMO_BOT).unwrap();
    definition["nodes"][0]["next"] = "ghost".into();
    definition["triggers"][1]["start"] = "nowhere".into();
    let report = json(core_wasm::validate_definition(js(definition)).unwrap());
    assert_eq!(report["valid"], false);
    assert_eq!(report["errors"][0]["path"], "$.nodes[0].next");
    assert_eq!(report["errors"][1]["path"], "$.triggers[1].start");
}

#[wasm_bindgen_test]
fn health_and_alerting_cross_the_boundary() {
    let verdicts = json(
        core_wasm::evaluate_health(js(serde_json::json!({
            "snapshots": [{"number_id": "n1", "session_status": "connected", "last_heartbeat_ms": 0}],
            "now_ms": 200_000
        })))
        .unwrap(),
    );
    assert_eq!(verdicts[0]["state"], "down");
    let plan = json(
        core_wasm::plan_alert(js(serde_json::json!({
            "alert": {"id": "a1", "kind": "number_disconnected", "severity": "critical", "status": "open"},
            "channels": [{"id": "c1", "kind": "slack", "min_severity": "warning"}]
        })))
        .unwrap(),
    );
    assert_eq!(plan[0]["channel_id"], "c1");
}
