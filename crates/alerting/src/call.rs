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

use json_call::{Codec, Target, TextCodec, ValueCodec};

pub use json_call::CallError;

use crate::notify::{plan, NotificationPlan, PlanInput};
use crate::reconcile::{reconcile, AlertChange, ReconcileInput};

/// The names [`call_json`] knows.
pub const CALL_NAMES: [&str; 2] = ["reconcile", "plan"];

const fn target(function: &'static str) -> Target {
    Target {
        module: "alerting",
        function,
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
            let input: ReconcileInput = C::parse(target("reconcile"), input)?;
            let changes: Vec<AlertChange> = reconcile(&input);
            C::render(target("reconcile"), &changes)
        }
        "plan" => {
            let input: PlanInput = C::parse(target("plan"), input)?;
            let result: NotificationPlan = plan(&input);
            C::render(target("plan"), &result)
        }
        _ => Err(Target::unknown("alerting", name, &CALL_NAMES)),
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
