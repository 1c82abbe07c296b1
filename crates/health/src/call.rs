//! JSON in, JSON out: the crate's entry points by name.
//!
//! [`call_json`] is what the shared scenario fixtures
//! (`crates/health/fixtures/scenarios.json`) are written against, natively
//! here and through the Wasm boundary in Node and Deno, so the three agree
//! by construction. Each name deserialises its input (rejecting unknown
//! fields), calls one pure function and serialises the output:
//!
//! | Name | Input | Output |
//! |---|---|---|
//! | `transition` | `{state, event}` | [`Transition`](crate::session::Transition) `{next_state, anomaly}` |
//! | `evaluate` | `{snapshot, thresholds?, now_ms}` | [`Verdict`] |
//! | `evaluate_all` | `{snapshots, thresholds?, now_ms}` | `[Verdict]` |
//! | `evaluate_runtime` | `{probe, thresholds?}` | [`RuntimeVerdict`] |
//! | `reconnect_delay` | `{policy?, request}` | [`ReconnectDecision`] |
//! | `pace` | `{state, config?, request}` | `{decision, state}` ([`PaceOutput`]) |
//! | `record_rate_limit_error` | `{state, config?, now_ms, until_ms?}` | `{paused_until_ms, state}` ([`RateLimitErrorOutput`]) |
//!
//! A missing `thresholds`, `policy` or `config` means the defaults, and a
//! partial one overrides only the fields it names.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::pacing::{
    pace, record_rate_limit_error, PaceRequest, PacingConfig, PacingDecision, PacingState,
};
use crate::reconnect::{reconnect_delay, ReconnectDecision, ReconnectPolicy, ReconnectRequest};
use crate::runtime::{evaluate_runtime, RuntimeProbe, RuntimeThresholds, RuntimeVerdict};
use crate::session::{transition, ConnectionEvent, SessionState};
use crate::verdict::{evaluate, evaluate_all, HealthThresholds, NumberSnapshot, Verdict};

/// The names [`call_json`] knows, in the order of the table above.
pub const CALL_NAMES: [&str; 7] = [
    "transition",
    "evaluate",
    "evaluate_all",
    "evaluate_runtime",
    "reconnect_delay",
    "pace",
    "record_rate_limit_error",
];

/// Why [`call_json`] could not answer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallError {
    /// The name is not one of [`CALL_NAMES`].
    #[error("unknown health function `{name}` (known: transition, evaluate, evaluate_all, evaluate_runtime, reconnect_delay, pace, record_rate_limit_error)")]
    UnknownFunction {
        /// The name asked for.
        name: String,
    },
    /// The input does not fit the function's input type.
    #[error("invalid input to health `{function}` at `{path}`: {message}")]
    InvalidInput {
        /// The function called.
        function: &'static str,
        /// Where in the input the problem is, such as
        /// `snapshot.recent_events[0].kind`, or `.` for the whole input.
        path: String,
        /// What is wrong, in serde's words.
        message: String,
    },
    /// The output could not be turned into JSON (which the types rule out).
    #[error("cannot serialise the output of health `{function}`: {message}")]
    Output {
        /// The function called.
        function: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// Input of `transition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// The current state.
    pub state: SessionState,
    /// The event that happened.
    pub event: ConnectionEvent,
}

/// Input of `evaluate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateInput {
    /// The number to judge.
    pub snapshot: NumberSnapshot,
    /// The thresholds; the defaults if left out.
    #[serde(default)]
    pub thresholds: HealthThresholds,
    /// The current time, in Unix milliseconds.
    pub now_ms: i64,
}

/// Input of `evaluate_all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateAllInput {
    /// The numbers to judge.
    pub snapshots: Vec<NumberSnapshot>,
    /// The thresholds; the defaults if left out.
    #[serde(default)]
    pub thresholds: HealthThresholds,
    /// The current time, in Unix milliseconds.
    pub now_ms: i64,
}

/// Input of `evaluate_runtime`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRuntimeInput {
    /// The probe's result.
    pub probe: RuntimeProbe,
    /// The thresholds; the defaults if left out.
    #[serde(default)]
    pub thresholds: RuntimeThresholds,
}

/// Input of `reconnect_delay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconnectInput {
    /// The backoff's shape; the defaults if left out.
    #[serde(default)]
    pub policy: ReconnectPolicy,
    /// What the caller knows about the session.
    pub request: ReconnectRequest,
}

/// Input of `pace`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaceInput {
    /// The number's pacing state.
    pub state: PacingState,
    /// The limits; the defaults if left out.
    #[serde(default)]
    pub config: PacingConfig,
    /// The send about to happen.
    pub request: PaceRequest,
}

/// Output of `pace`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaceOutput {
    /// The governor's answer.
    pub decision: PacingDecision,
    /// The state to persist (unchanged unless the decision is `send`).
    pub state: PacingState,
}

/// Input of `record_rate_limit_error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitErrorInput {
    /// The number's pacing state.
    pub state: PacingState,
    /// The limits; the defaults if left out.
    #[serde(default)]
    pub config: PacingConfig,
    /// When the error happened, in Unix milliseconds.
    pub now_ms: i64,
    /// The end WhatsApp named for the limit, if any.
    #[serde(default)]
    pub until_ms: Option<i64>,
}

/// Output of `record_rate_limit_error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitErrorOutput {
    /// When sending may resume, in Unix milliseconds.
    pub paused_until_ms: i64,
    /// The state to persist.
    pub state: PacingState,
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
        "transition" => {
            let input: TransitionInput = C::parse("transition", input)?;
            C::render("transition", &transition(input.state, &input.event))
        }
        "evaluate" => {
            let input: EvaluateInput = C::parse("evaluate", input)?;
            C::render(
                "evaluate",
                &evaluate(&input.snapshot, &input.thresholds, input.now_ms),
            )
        }
        "evaluate_all" => {
            let input: EvaluateAllInput = C::parse("evaluate_all", input)?;
            let verdicts: Vec<Verdict> =
                evaluate_all(&input.snapshots, &input.thresholds, input.now_ms);
            C::render("evaluate_all", &verdicts)
        }
        "evaluate_runtime" => {
            let input: EvaluateRuntimeInput = C::parse("evaluate_runtime", input)?;
            let verdict: RuntimeVerdict = evaluate_runtime(&input.probe, &input.thresholds);
            C::render("evaluate_runtime", &verdict)
        }
        "reconnect_delay" => {
            let input: ReconnectInput = C::parse("reconnect_delay", input)?;
            let decision: ReconnectDecision = reconnect_delay(&input.policy, &input.request);
            C::render("reconnect_delay", &decision)
        }
        "pace" => {
            let mut input: PaceInput = C::parse("pace", input)?;
            let decision = pace(&mut input.state, &input.config, &input.request);
            C::render(
                "pace",
                &PaceOutput {
                    decision,
                    state: input.state,
                },
            )
        }
        "record_rate_limit_error" => {
            let mut input: RateLimitErrorInput = C::parse("record_rate_limit_error", input)?;
            let paused_until_ms = record_rate_limit_error(
                &mut input.state,
                &input.config,
                input.now_ms,
                input.until_ms,
            );
            C::render(
                "record_rate_limit_error",
                &RateLimitErrorOutput {
                    paused_until_ms,
                    state: input.state,
                },
            )
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
    fn a_known_name_answers_in_json() {
        let output = call_json(
            "transition",
            json!({"state": "connected", "event": {"kind": "disconnected", "reason": "timed_out"}}),
        )
        .unwrap();
        assert_eq!(
            output,
            json!({"next_state": "disconnected", "anomaly": null})
        );
    }

    #[test]
    fn an_unknown_name_is_an_error() {
        let error = call_json("evaluate_everything", json!({})).unwrap_err();
        assert_eq!(
            error,
            CallError::UnknownFunction {
                name: "evaluate_everything".into()
            }
        );
        assert!(error
            .to_string()
            .starts_with("unknown health function `evaluate_everything`"));
    }

    #[test]
    fn a_bad_field_is_named_with_its_path() {
        let error = call_json(
            "evaluate",
            json!({
                "snapshot": {
                    "number_id": "n1", "state": "connected", "since_ms": 0,
                    "recent_events": [{"at_ms": "soon", "kind": "disconnected"}]
                },
                "now_ms": 5
            }),
        )
        .unwrap_err();
        let CallError::InvalidInput { function, path, .. } = &error else {
            panic!("{error}");
        };
        assert_eq!(
            (*function, path.as_str()),
            ("evaluate", "snapshot.recent_events[0].at_ms")
        );
        assert!(error.to_string().starts_with(
            "invalid input to health `evaluate` at `snapshot.recent_events[0].at_ms`: invalid type: string \"soon\""
        ));

        let error = call_json("pace", json!({"state": {}, "request": {"now_ms": 1}})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid input to health `pace` at `request`: missing field `is_new_contact`"
        );
        let error = call_json(
            "evaluate_all",
            json!({"snapshots": [], "now_ms": 1, "extra": 1}),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("unknown field `extra`"),
            "{error}"
        );
    }

    #[test]
    fn every_name_is_dispatched() {
        for name in CALL_NAMES {
            let error = call_json(name, json!(null)).unwrap_err();
            assert!(
                matches!(error, CallError::InvalidInput { function, .. } if function == name),
                "{name}: {error}"
            );
        }
    }
}
