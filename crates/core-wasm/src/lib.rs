//! The WebAssembly boundary of the platform's Rust core.
//!
//! This crate holds no logic of its own. Each export takes a plain JS object,
//! deserialises it into the core crates' typed input with
//! `serde-wasm-bindgen`, calls the pure function and returns a plain JS
//! object (JSON-compatible: maps become objects). Errors become JS `Error`s
//! whose message says what is wrong. `scripts/build-wasm.sh` compiles it with
//! `wasm-bindgen --target web` and embeds the bytes in
//! `functions/_shared/core/`, where the Edge Functions load it once per
//! isolate.
//!
//! # Layout
//!
//! - [`route`]: one routing decision ([`routing::route`]).
//! - [`validate_definition`]: every problem of a bot definition.
//! - [`evaluate_health`]: health verdicts for session snapshots.
//! - [`plan_alert`]: the notification plan for one alert.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

fn from_js<T: for<'de> Deserialize<'de>>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|error| JsError::new(&format!("invalid {what}: {error}")))
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|error| JsError::new(&format!("cannot return result: {error}")))
}

/// Decides the replies and next state for one inbound message.
///
/// Input: `{definition, state, message: {id, text}, contact: {wa_id, name}, now_ms}`.
/// Output: `{replies: [{text}], state, outcome}`.
#[wasm_bindgen]
pub fn route(input: JsValue) -> Result<JsValue, JsError> {
    let input: routing::RouteInput = from_js(input, "route input")?;
    let output = routing::route(&input).map_err(|error| JsError::new(&error.to_string()))?;
    to_js(&output)
}

/// Validates a bot definition and returns every problem found.
///
/// Output: `{valid: boolean, errors: [{path, message}]}`.
#[wasm_bindgen]
pub fn validate_definition(definition: JsValue) -> Result<JsValue, JsError> {
    let json: serde_json::Value = from_js(definition, "definition")?;
    let errors = match routing::BotDefinition::from_json(&json) {
        Ok(definition) => definition.validate(),
        Err(errors) => errors,
    };
    to_js(&serde_json::json!({ "valid": errors.is_empty(), "errors": errors }))
}

/// Input of [`evaluate_health`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HealthInput {
    snapshots: Vec<health::SessionSnapshot>,
    #[serde(default)]
    policy: Option<health::HealthPolicy>,
    now_ms: i64,
}

/// Judges session snapshots.
///
/// Input: `{snapshots: [{number_id, session_status, last_heartbeat_ms}], policy?, now_ms}`.
/// Output: one verdict per snapshot, in order.
#[wasm_bindgen]
pub fn evaluate_health(input: JsValue) -> Result<JsValue, JsError> {
    let input: HealthInput = from_js(input, "health input")?;
    let policy = input.policy.unwrap_or_default();
    let verdicts: Vec<health::Verdict> = input
        .snapshots
        .iter()
        .map(|snapshot| health::evaluate(snapshot, &policy, input.now_ms))
        .collect();
    to_js(&verdicts)
}

/// Input of [`plan_alert`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertInput {
    alert: alerting::AlertSummary,
    channels: Vec<alerting::Channel>,
}

/// Plans the notifications for one alert.
///
/// Input: `{alert: {id, kind, severity, status}, channels: [{id, kind, min_severity, enabled}]}`.
/// Output: `[{channel_id, alert_id, text}]`.
#[wasm_bindgen]
pub fn plan_alert(input: JsValue) -> Result<JsValue, JsError> {
    let input: AlertInput = from_js(input, "alert input")?;
    to_js(&alerting::plan(&input.alert, &input.channels))
}
