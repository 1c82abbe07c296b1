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

use json_call::{Codec, Target, TextCodec, ValueCodec};
use serde::{Deserialize, Serialize};

pub use json_call::CallError;

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

const fn target(function: &'static str) -> Target {
    Target {
        module: "health",
        function,
    }
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
            let input: TransitionInput = C::parse(target("transition"), input)?;
            C::render(target("transition"), &transition(input.state, &input.event))
        }
        "evaluate" => {
            let input: EvaluateInput = C::parse(target("evaluate"), input)?;
            C::render(
                target("evaluate"),
                &evaluate(&input.snapshot, &input.thresholds, input.now_ms),
            )
        }
        "evaluate_all" => {
            let input: EvaluateAllInput = C::parse(target("evaluate_all"), input)?;
            let verdicts: Vec<Verdict> =
                evaluate_all(&input.snapshots, &input.thresholds, input.now_ms);
            C::render(target("evaluate_all"), &verdicts)
        }
        "evaluate_runtime" => {
            let input: EvaluateRuntimeInput = C::parse(target("evaluate_runtime"), input)?;
            let verdict: RuntimeVerdict = evaluate_runtime(&input.probe, &input.thresholds);
            C::render(target("evaluate_runtime"), &verdict)
        }
        "reconnect_delay" => {
            let input: ReconnectInput = C::parse(target("reconnect_delay"), input)?;
            let decision: ReconnectDecision = reconnect_delay(&input.policy, &input.request);
            C::render(target("reconnect_delay"), &decision)
        }
        "pace" => {
            let mut input: PaceInput = C::parse(target("pace"), input)?;
            let decision = pace(&mut input.state, &input.config, &input.request);
            C::render(
                target("pace"),
                &PaceOutput {
                    decision,
                    state: input.state,
                },
            )
        }
        "record_rate_limit_error" => {
            let mut input: RateLimitErrorInput =
                C::parse(target("record_rate_limit_error"), input)?;
            let paused_until_ms = record_rate_limit_error(
                &mut input.state,
                &input.config,
                input.now_ms,
                input.until_ms,
            );
            C::render(
                target("record_rate_limit_error"),
                &RateLimitErrorOutput {
                    paused_until_ms,
                    state: input.state,
                },
            )
        }
        _ => Err(Target::unknown("health", name, &CALL_NAMES)),
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
                module: "health",
                name: "evaluate_everything".into(),
                known: &CALL_NAMES,
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
