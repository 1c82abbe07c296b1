//! Verdicts on a session runtime (a daemon) from a probe of its `/status`.
//!
//! The `health-check` function calls each runtime's `GET /status` and hands
//! the result to [`evaluate_runtime`] as a [`RuntimeProbe`]: the HTTP status
//! (none if nothing answered), the latency and the parsed body. The daemon
//! answers 200 with `{"database": {"reachable": true}, ...}`, or 503 with
//! `{"database": {"reachable": false, "error": "..."}, ...}` when it cannot
//! reach Postgres.
//!
//! A runtime that answers is not necessarily a runtime that works: peers'
//! health endpoints return a static "ok" (Evolution API) or check only disk
//! space (WAHA). So the body is read, and a daemon that cannot reach its
//! database is `degraded` even if it answered quickly.
//!
//! | Condition | When | Severity |
//! |---|---|---|
//! | `unreachable` | no HTTP answer (refused, reset, timed out) | critical |
//! | `degraded` | HTTP 503, any other non-2xx status, or a body whose `database.reachable` is `false` | critical |
//! | `slow` | answered well, but slower than `slow_after_ms` | warning |
//! | `healthy` | answered well and quickly | info |
//!
//! Every verdict carries one alert action on the key
//! `runtime:<runtime_id>:status`: open for the first three, resolve for
//! `healthy`.

use serde::{Deserialize, Serialize};

use crate::verdict::{AlertKind, RecommendedAction, Severity};

/// The thresholds a runtime is judged by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeThresholds {
    /// An answer slower than this is `slow`. Default 2,000 ms.
    pub slow_after_ms: i64,
}

impl Default for RuntimeThresholds {
    fn default() -> Self {
        Self {
            slow_after_ms: 2_000,
        }
    }
}

/// The result of one probe of a runtime's `/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeProbe {
    /// The runtime's id (its `instance_id`).
    pub runtime_id: String,
    /// The HTTP status of the answer; `null` when nothing answered.
    #[serde(default)]
    pub http_status: Option<u16>,
    /// How long the probe took, in milliseconds, if measured.
    #[serde(default)]
    pub latency_ms: Option<i64>,
    /// The parsed JSON body of the answer, if any.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// Why nothing answered, such as `connection refused`, if known.
    #[serde(default)]
    pub error: Option<String>,
}

/// The judgement a runtime verdict reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeCondition {
    /// Answered well and quickly.
    Healthy,
    /// Answered well, but slowly.
    Slow,
    /// Answered that it cannot work (database unreachable, error status).
    Degraded,
    /// Did not answer.
    Unreachable,
}

/// The judgement on one runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeVerdict {
    /// The runtime judged.
    pub runtime_id: String,
    /// What the evaluator concluded.
    pub condition: RuntimeCondition,
    /// How bad it is.
    pub severity: Severity,
    /// Why, as a lowercase phrase for people.
    pub reason: String,
    /// What to do about it: open or resolve the runtime's alert.
    pub actions: Vec<RecommendedAction>,
}

/// Returns the dedupe key of a runtime's alert: `runtime:<runtime_id>:status`.
pub fn runtime_alert_key(runtime_id: &str) -> String {
    format!("runtime:{runtime_id}:status")
}

/// Reads `database.reachable` and `database.error` from a `/status` body.
fn database_problem(body: Option<&serde_json::Value>) -> Option<String> {
    let database = body?.get("database")?;
    if database.get("reachable")?.as_bool()? {
        return None;
    }
    Some(
        match database.get("error").and_then(|error| error.as_str()) {
            Some(error) => format!("database unreachable: {error}"),
            None => "database unreachable".to_string(),
        },
    )
}

/// Judges one runtime from a probe of its `/status` under `thresholds`.
pub fn evaluate_runtime(probe: &RuntimeProbe, thresholds: &RuntimeThresholds) -> RuntimeVerdict {
    let key = runtime_alert_key(&probe.runtime_id);
    let (condition, severity, reason) = match probe.http_status {
        None => (
            RuntimeCondition::Unreachable,
            Severity::Critical,
            match &probe.error {
                Some(error) => format!("no answer from /status: {error}"),
                None => "no answer from /status".to_string(),
            },
        ),
        Some(status) => {
            let database = database_problem(probe.body.as_ref());
            let latency_ms = probe.latency_ms.unwrap_or(0);
            if !(200..300).contains(&status) || database.is_some() {
                let reason = match database {
                    Some(problem) => format!("http {status}, {problem}"),
                    None => format!("http {status}"),
                };
                (RuntimeCondition::Degraded, Severity::Critical, reason)
            } else if latency_ms > thresholds.slow_after_ms {
                (
                    RuntimeCondition::Slow,
                    Severity::Warning,
                    format!(
                        "answered in {latency_ms} ms (limit {} ms)",
                        thresholds.slow_after_ms
                    ),
                )
            } else {
                (
                    RuntimeCondition::Healthy,
                    Severity::Info,
                    format!("answered in {latency_ms} ms"),
                )
            }
        }
    };
    let action = match condition {
        RuntimeCondition::Healthy => RecommendedAction::ResolveAlert { dedupe_key: key },
        RuntimeCondition::Slow => RecommendedAction::OpenAlert {
            kind: AlertKind::RuntimeSlow,
            severity,
            dedupe_key: key,
        },
        RuntimeCondition::Degraded => RecommendedAction::OpenAlert {
            kind: AlertKind::RuntimeDegraded,
            severity,
            dedupe_key: key,
        },
        RuntimeCondition::Unreachable => RecommendedAction::OpenAlert {
            kind: AlertKind::RuntimeUnreachable,
            severity,
            dedupe_key: key,
        },
    };
    RuntimeVerdict {
        runtime_id: probe.runtime_id.clone(),
        condition,
        severity,
        reason,
        actions: vec![action],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn probe(http_status: Option<u16>, latency_ms: i64, body: serde_json::Value) -> RuntimeProbe {
        RuntimeProbe {
            runtime_id: "r1".into(),
            http_status,
            latency_ms: Some(latency_ms),
            body: Some(body),
            error: None,
        }
    }

    fn judge(probe: &RuntimeProbe) -> (RuntimeCondition, String) {
        let verdict = evaluate_runtime(probe, &RuntimeThresholds::default());
        (verdict.condition, verdict.reason)
    }

    #[test]
    fn a_quick_good_answer_is_healthy_and_resolves() {
        let verdict = evaluate_runtime(
            &probe(Some(200), 40, json!({"database": {"reachable": true}})),
            &RuntimeThresholds::default(),
        );
        assert_eq!(verdict.condition, RuntimeCondition::Healthy);
        assert_eq!(
            verdict.actions,
            vec![RecommendedAction::ResolveAlert {
                dedupe_key: "runtime:r1:status".into()
            }]
        );
    }

    #[test]
    fn an_unreachable_database_degrades_even_a_200() {
        assert_eq!(
            judge(&probe(
                Some(200),
                40,
                json!({"database": {"reachable": false, "error": "timeout"}})
            )),
            (
                RuntimeCondition::Degraded,
                "http 200, database unreachable: timeout".into()
            )
        );
        assert_eq!(
            judge(&probe(Some(503), 40, json!({}))),
            (RuntimeCondition::Degraded, "http 503".into())
        );
    }

    #[test]
    fn slowness_and_silence_are_told_apart() {
        assert_eq!(
            judge(&probe(
                Some(200),
                2_500,
                json!({"database": {"reachable": true}})
            )),
            (
                RuntimeCondition::Slow,
                "answered in 2500 ms (limit 2000 ms)".into()
            )
        );
        let silent = RuntimeProbe {
            runtime_id: "r1".into(),
            http_status: None,
            latency_ms: None,
            body: None,
            error: Some("connection refused".into()),
        };
        assert_eq!(
            judge(&silent),
            (
                RuntimeCondition::Unreachable,
                "no answer from /status: connection refused".into()
            )
        );
    }
}
