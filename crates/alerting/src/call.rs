//! JSON in, JSON out: the crate's entry points by name.
//!
//! [`call_json`] is what the shared scenario fixtures
//! (`crates/alerting/fixtures/scenarios.json`) are written against, natively
//! here and through the Wasm boundary in Node and Deno.
//!
//! | Name | Input | Output |
//! |---|---|---|
//! | `reconcile` | [`ReconcileInput`] `{signals, open_alerts?, recently_resolved?, now_ms, config?}` | `[AlertChange]` |
//! | `plan` | [`PlanInput`] `{changes?, channels, state?, now_ms, config?}` | [`NotificationPlan`] `{notifications, state, next_flush_at_ms}` |
//!
//! A missing `config` means the defaults, and a partial one overrides only
//! the fields it names.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::notify::{plan, NotificationPlan, PlanInput};
use crate::reconcile::{reconcile, AlertChange, ReconcileInput};

/// The names [`call_json`] knows.
pub const CALL_NAMES: [&str; 2] = ["reconcile", "plan"];

/// Why [`call_json`] could not answer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallError {
    /// The name is not one of [`CALL_NAMES`].
    #[error("unknown alerting function `{name}` (known: reconcile, plan)")]
    UnknownFunction {
        /// The name asked for.
        name: String,
    },
    /// The input does not fit the function's input type.
    #[error("invalid input to alerting `{function}` at `{path}`: {message}")]
    InvalidInput {
        /// The function called.
        function: &'static str,
        /// Where in the input the problem is, such as `signals[3].severity`,
        /// or `.` for the whole input.
        path: String,
        /// What is wrong, in serde's words.
        message: String,
    },
    /// The output could not be turned into JSON (which the types rule out).
    #[error("cannot serialise the output of alerting `{function}`: {message}")]
    Output {
        /// The function called.
        function: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// How [`call_with`] reads its input and writes its output: as a
/// `serde_json::Value` ([`call_json`]) or as JSON text ([`call_json_text`],
/// which skips the intermediate `Value` and is what the Wasm boundary uses).
trait Codec {
    type Input<'a>;
    type Output;
    fn parse<T: DeserializeOwned>(
        function: &'static str,
        input: Self::Input<'_>,
    ) -> Result<T, CallError>;
    fn render<T: Serialize>(function: &'static str, output: &T) -> Result<Self::Output, CallError>;
}

fn invalid_input<E: std::fmt::Display>(
    function: &'static str,
    error: serde_path_to_error::Error<E>,
) -> CallError {
    CallError::InvalidInput {
        function,
        path: error.path().to_string(),
        message: error.into_inner().to_string(),
    }
}

fn output_error(function: &'static str, error: serde_json::Error) -> CallError {
    CallError::Output {
        function,
        message: error.to_string(),
    }
}

struct ValueCodec;

impl Codec for ValueCodec {
    type Input<'a> = serde_json::Value;
    type Output = serde_json::Value;

    fn parse<T: DeserializeOwned>(
        function: &'static str,
        input: serde_json::Value,
    ) -> Result<T, CallError> {
        serde_path_to_error::deserialize(input).map_err(|error| invalid_input(function, error))
    }

    fn render<T: Serialize>(
        function: &'static str,
        output: &T,
    ) -> Result<serde_json::Value, CallError> {
        serde_json::to_value(output).map_err(|error| output_error(function, error))
    }
}

struct TextCodec;

impl Codec for TextCodec {
    type Input<'a> = &'a str;
    type Output = String;

    fn parse<T: DeserializeOwned>(function: &'static str, input: &str) -> Result<T, CallError> {
        let mut deserializer = serde_json::Deserializer::from_str(input);
        let value = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| invalid_input(function, error))?;
        deserializer
            .end()
            .map_err(|error| CallError::InvalidInput {
                function,
                path: ".".to_string(),
                message: error.to_string(),
            })?;
        Ok(value)
    }

    fn render<T: Serialize>(function: &'static str, output: &T) -> Result<String, CallError> {
        serde_json::to_string(output).map_err(|error| output_error(function, error))
    }
}

/// Calls the entry point `name` with JSON text and returns JSON text; the
/// same entry points and errors as [`call_json`].
pub fn call_json_text(name: &str, input: &str) -> Result<String, CallError> {
    call_with::<TextCodec>(name, input)
}

/// Calls the entry point `name` with a JSON `input` and returns its JSON
/// output; see the table in the module documentation.
pub fn call_json(name: &str, input: serde_json::Value) -> Result<serde_json::Value, CallError> {
    call_with::<ValueCodec>(name, input)
}

fn call_with<C: Codec>(name: &str, input: C::Input<'_>) -> Result<C::Output, CallError> {
    match name {
        "reconcile" => {
            let input: ReconcileInput = C::parse("reconcile", input)?;
            let changes: Vec<AlertChange> = reconcile(&input);
            C::render("reconcile", &changes)
        }
        "plan" => {
            let input: PlanInput = C::parse("plan", input)?;
            let result: NotificationPlan = plan(&input);
            C::render("plan", &result)
        }
        _ => Err(CallError::UnknownFunction {
            name: name.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reconcile_answers_in_json() {
        let output = call_json(
            "reconcile",
            json!({
                "signals": [{"dedupe_key": "k", "kind": "zombie", "severity": "critical", "subject": "n1", "healthy": false}],
                "now_ms": 5
            }),
        )
        .unwrap();
        assert_eq!(
            output,
            json!([{
                "change": "open", "dedupe_key": "k", "kind": "zombie", "severity": "critical",
                "subject": "n1", "detail": "", "flap_count": 0, "last_flap_at_ms": null, "flapping": false
            }])
        );
    }

    #[test]
    fn bad_input_names_the_function_and_the_field() {
        let error = call_json(
            "reconcile",
            json!({"signals": [{"dedupe_key": "k", "kind": "x", "severity": "urgent", "subject": "n1", "healthy": false}], "now_ms": 5}),
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid input to alerting `reconcile` at `signals[0].severity`: unknown variant `urgent`"),
            "{error}"
        );
        let error = call_json(
            "plan",
            json!({"channels": [], "now_ms": 1, "colour": "red"}),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("unknown field `colour`"),
            "{error}"
        );
        assert_eq!(
            call_json("page_everyone", json!({}))
                .unwrap_err()
                .to_string(),
            "unknown alerting function `page_everyone` (known: reconcile, plan)"
        );
    }
}
