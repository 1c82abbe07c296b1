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
/// Reads a routing export's JSON text input within the bounds
/// ([`crate::MAX_ROUTING_INPUT_BYTES`], [`json_call::MAX_NESTING_DEPTH`]);
/// the error names `what` and the JSON path.
pub fn parse_routing_text<T: for<'de> serde::Deserialize<'de>>(
    input: &str,
    what: &str,
) -> Result<T, String> {
    json_call::parse_text(input, crate::MAX_ROUTING_INPUT_BYTES).map_err(|error| match error {
        json_call::TextInputError::TooLarge { .. } => format!("invalid {what}: {error}"),
        json_call::TextInputError::TooDeep { path, message }
        | json_call::TextInputError::Invalid { path, message } => {
            format!("invalid {what} at `{path}`: {message}")
        }
    })
}

#[cfg(feature = "routing")]
/// Validates a definition given as JSON text (what the Wasm export does).
/// Text that cannot be read within the bounds is a report with one error,
/// at the JSON path where reading stopped.
pub fn validate_definition_text(definition: &str) -> routing::ValidationReport {
    match json_call::parse_text::<Value>(definition, crate::MAX_ROUTING_INPUT_BYTES) {
        Ok(definition) => routing::validate(&definition),
        Err(error) => {
            let (path, code, message) = match error {
                json_call::TextInputError::TooLarge { .. } => (
                    "$".to_string(),
                    routing::ProblemCode::TooComplex,
                    format!("the definition is {error}"),
                ),
                json_call::TextInputError::TooDeep { path, message } => {
                    (json_path(&path), routing::ProblemCode::TooComplex, message)
                }
                json_call::TextInputError::Invalid { path, message } => (
                    json_path(&path),
                    routing::ProblemCode::InvalidValue,
                    message,
                ),
            };
            routing::ValidationReport {
                errors: vec![routing::Problem::new(path, code, message)],
                warnings: Vec::new(),
            }
        }
    }
}

#[cfg(feature = "routing")]
/// `nodes[0].text` as the definition's paths are written: `$.nodes[0].text`.
fn json_path(path: &str) -> String {
    match path {
        "" | "." => "$".to_string(),
        _ if path.starts_with('[') => format!("${path}"),
        _ => format!("$.{path}"),
    }
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
/// Checks outbound content (JSON text, the message model's `Content`)
/// against WhatsApp's limits: `{"problems": [{path, code, message}]}`, the
/// paths relative to the content; content that does not parse is one
/// `invalid` problem at the path where reading stopped.
pub fn check_content_text(content: &str) -> Value {
    use routing::message_model::{check_outbound, Content};
    let problems = match json_call::parse_text::<Content>(content, crate::MAX_ROUTING_INPUT_BYTES) {
        Ok(content) => check_outbound(&content)
            .into_iter()
            .map(|problem| {
                serde_json::json!({"path": problem.path, "code": problem.code, "message": problem.message})
            })
            .collect(),
        Err(error) => {
            let (path, message) = match error {
                json_call::TextInputError::TooLarge { .. } => (String::new(), error.to_string()),
                json_call::TextInputError::TooDeep { path, message }
                | json_call::TextInputError::Invalid { path, message } => (path, message),
            };
            let path = if path == "." { String::new() } else { path };
            vec![serde_json::json!({"path": path, "code": "invalid", "message": message})]
        }
    };
    serde_json::json!({ "problems": problems })
}

#[cfg(feature = "routing")]
/// Routes one message, compiling the definition (`routing::RouteInput`).
pub fn route(input: Value) -> Result<Value, String> {
    let output = route_text(&input.to_string())?;
    serde_json::from_str(&output).map_err(|error| format!("cannot read result: {error}"))
}

#[cfg(feature = "routing")]
/// Routes one message given as JSON text, through the same bounded read as
/// the Wasm export.
pub fn route_text(input: &str) -> Result<String, String> {
    let input: routing::RouteInput = parse_routing_text(input, "route input")?;
    let output = routing::route_once(&input)
        .map_err(|report| format!("invalid bot definition: {}", describe_errors(&report)))?;
    serde_json::to_string(&output).map_err(|error| format!("cannot return result: {error}"))
}

#[cfg(feature = "routing")]
/// Validates a definition, through the same text path as the export.
pub fn validate_definition(definition: Value) -> Result<Value, String> {
    to_value(&validate_definition_text(&definition.to_string()))
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
