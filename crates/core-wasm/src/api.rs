//! The boundary's surface in plain Rust over `serde_json::Value`.
//!
//! The Wasm exports and the native fixture tests both go through these
//! functions, so a fixture that passes natively exercises the same
//! deserialisation, call and serialisation as the Edge Functions do.

#[cfg(feature = "routing")]
use serde::Serialize;
use serde_json::Value;

#[cfg(feature = "routing")]
fn to_value<T: Serialize>(value: &T) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|error| format!("cannot return result: {error}"))
}

#[cfg(feature = "routing")]
fn parse<T: for<'de> serde::Deserialize<'de>>(input: Value, what: &str) -> Result<T, String> {
    serde_json::from_value(input).map_err(|error| format!("invalid {what}: {error}"))
}

#[cfg(feature = "routing")]
/// Lists a report's errors as `path: message` separated by semicolons.
pub fn describe_errors(report: &routing::ValidationReport) -> String {
    report
        .errors
        .iter()
        .map(|problem| format!("{}: {}", problem.path, problem.message))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(feature = "routing")]
/// Routes one message, compiling the definition (`routing::RouteInput`).
pub fn route(input: Value) -> Result<Value, String> {
    let input: routing::RouteInput = parse(input, "route input")?;
    let output = routing::route_once(&input)
        .map_err(|report| format!("invalid bot definition: {}", describe_errors(&report)))?;
    to_value(&output)
}

#[cfg(feature = "routing")]
/// Validates a definition.
pub fn validate_definition(definition: Value) -> Result<Value, String> {
    to_value(&routing::validate(&definition))
}

#[cfg(feature = "routing")]
/// Chooses a bot version.
pub fn select_version(input: Value) -> Result<Value, String> {
    let input: routing::VersionSelectionInput = parse(input, "version selection input")?;
    to_value(&routing::select_version(&input))
}

/// Calls a health function by name, JSON text in and out (what the Wasm
/// export does).
#[cfg(feature = "health")]
pub fn health_text(name: &str, input: &str) -> Result<String, String> {
    health::call_json_text(name, input).map_err(|error| error.to_string())
}

/// Calls an alerting function by name, JSON text in and out (what the Wasm
/// export does).
#[cfg(feature = "alerting")]
pub fn alerting_text(name: &str, input: &str) -> Result<String, String> {
    alerting::call_json_text(name, input).map_err(|error| error.to_string())
}

/// Calls a health function by name through the same text path as the export.
#[cfg(feature = "health")]
pub fn health(name: &str, input: Value) -> Result<Value, String> {
    let output = health_text(name, &input.to_string())?;
    serde_json::from_str(&output).map_err(|error| format!("cannot read result: {error}"))
}

/// Calls an alerting function by name through the same text path as the export.
#[cfg(feature = "alerting")]
pub fn alerting(name: &str, input: Value) -> Result<Value, String> {
    let output = alerting_text(name, &input.to_string())?;
    serde_json::from_str(&output).map_err(|error| format!("cannot read result: {error}"))
}
