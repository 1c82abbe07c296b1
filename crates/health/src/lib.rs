//! Session health for the WhatsApp bot platform.
//!
//! [`evaluate`] turns a snapshot of one number's session (its reported
//! status and its last heartbeat) into a [`Verdict`]: healthy, degraded or
//! down, the reasons, and the actions a supervisor should take. The crate is
//! **sans-IO**: it reads no clock and touches no database; the caller passes
//! `now_ms` and the snapshot in, and acts on the verdict it gets back.
//!
//! # Layout
//!
//! Everything lives in this module for now: the snapshot and policy types,
//! the verdict, and [`evaluate`].

use serde::{Deserialize, Serialize};

/// The thresholds a verdict is judged by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthPolicy {
    /// A heartbeat older than this makes a connected session degraded.
    pub heartbeat_stale_after_ms: i64,
    /// A heartbeat older than this makes a connected session down.
    pub heartbeat_dead_after_ms: i64,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self {
            heartbeat_stale_after_ms: 30_000,
            heartbeat_dead_after_ms: 120_000,
        }
    }
}

/// What the database knows about one number's session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSnapshot {
    /// The number's id.
    pub number_id: String,
    /// `numbers.session_status` as the daemon last wrote it.
    pub session_status: String,
    /// The last heartbeat, in Unix milliseconds; `None` if never seen.
    #[serde(default)]
    pub last_heartbeat_ms: Option<i64>,
}

/// The health of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// Connected with a fresh heartbeat.
    Healthy,
    /// Working, but something needs watching (a late heartbeat, pacing).
    Degraded,
    /// Not able to send or receive.
    Down,
    /// Deliberately stopped by an operator; not a fault.
    Stopped,
}

/// What a supervisor should do about a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RecommendedAction {
    /// Ask the daemon holding the number to restart its session.
    RestartSession,
    /// A person must pair the number again (scan a QR code or enter a code).
    RePair,
}

/// The judgement on one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The number judged.
    pub number_id: String,
    /// The resulting health.
    pub state: HealthState,
    /// Why, in lowercase phrases such as `heartbeat 45s old`.
    pub reasons: Vec<String>,
    /// What to do about it.
    pub actions: Vec<RecommendedAction>,
}

/// Judges one session at `now_ms` under `policy`.
pub fn evaluate(snapshot: &SessionSnapshot, policy: &HealthPolicy, now_ms: i64) -> Verdict {
    let mut reasons = Vec::new();
    let mut actions = Vec::new();
    let heartbeat_age_ms = snapshot
        .last_heartbeat_ms
        .map(|last| now_ms.saturating_sub(last).max(0));
    let state = match snapshot.session_status.as_str() {
        "stopped" => HealthState::Stopped,
        "logged_out" => {
            reasons.push("session logged out".to_string());
            actions.push(RecommendedAction::RePair);
            HealthState::Down
        }
        "connected" | "degraded" => match heartbeat_age_ms {
            None => {
                reasons.push("no heartbeat ever received".to_string());
                actions.push(RecommendedAction::RestartSession);
                HealthState::Down
            }
            Some(age) if age > policy.heartbeat_dead_after_ms => {
                reasons.push(format!("heartbeat {}s old", age / 1000));
                actions.push(RecommendedAction::RestartSession);
                HealthState::Down
            }
            Some(age) if age > policy.heartbeat_stale_after_ms => {
                reasons.push(format!("heartbeat {}s old", age / 1000));
                HealthState::Degraded
            }
            Some(_) if snapshot.session_status == "degraded" => {
                reasons.push("daemon reports the session degraded".to_string());
                HealthState::Degraded
            }
            Some(_) => HealthState::Healthy,
        },
        "rate_limited" => {
            reasons.push("whatsapp is rate limiting this number".to_string());
            HealthState::Degraded
        }
        "starting" | "pairing" => {
            reasons.push(format!("session is {}", snapshot.session_status));
            HealthState::Degraded
        }
        other => {
            reasons.push(format!("session is {other}"));
            actions.push(RecommendedAction::RestartSession);
            HealthState::Down
        }
    };
    Verdict {
        number_id: snapshot.number_id.clone(),
        state,
        reasons,
        actions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn snapshot(status: &str, heartbeat_age_ms: Option<i64>) -> SessionSnapshot {
        SessionSnapshot {
            number_id: "n1".into(),
            session_status: status.into(),
            last_heartbeat_ms: heartbeat_age_ms.map(|age| NOW - age),
        }
    }

    #[test]
    fn a_fresh_connected_session_is_healthy() {
        let verdict = evaluate(
            &snapshot("connected", Some(5_000)),
            &HealthPolicy::default(),
            NOW,
        );
        assert_eq!(verdict.state, HealthState::Healthy);
        assert!(verdict.actions.is_empty());
    }

    #[test]
    fn heartbeat_age_degrades_then_downs_a_connected_session() {
        let policy = HealthPolicy::default();
        let late = evaluate(&snapshot("connected", Some(45_000)), &policy, NOW);
        assert_eq!(
            (late.state, late.reasons.clone()),
            (HealthState::Degraded, vec!["heartbeat 45s old".to_string()])
        );
        let dead = evaluate(&snapshot("connected", Some(121_000)), &policy, NOW);
        assert_eq!(dead.state, HealthState::Down);
        assert_eq!(dead.actions, vec![RecommendedAction::RestartSession]);
    }

    #[test]
    fn logged_out_needs_pairing_and_stopped_is_not_a_fault() {
        let policy = HealthPolicy::default();
        assert_eq!(
            evaluate(&snapshot("logged_out", Some(0)), &policy, NOW).actions,
            vec![RecommendedAction::RePair]
        );
        assert_eq!(
            evaluate(&snapshot("stopped", None), &policy, NOW).state,
            HealthState::Stopped
        );
        assert_eq!(
            evaluate(&snapshot("disconnected", Some(0)), &policy, NOW).state,
            HealthState::Down
        );
    }
}
