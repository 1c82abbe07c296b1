//! Verdicts on numbers: is this session healthy, and if not, what to do.
//!
//! [`evaluate`] judges one [`NumberSnapshot`] at `now_ms` under
//! [`HealthThresholds`] and returns a [`Verdict`]: one [`Condition`], its
//! [`Severity`], a reason for people, and the [`RecommendedAction`]s for the
//! supervisor. [`evaluate_all`] does the same for a sweep; it is linear in
//! the number of snapshots and their recent events, and allocates only the
//! verdict itself (a reason, a dedupe key and a short action list), so a
//! sweep over 10,000 numbers stays within a few milliseconds.
//!
//! # Why socket state is not enough
//!
//! Peers report health as the socket's state, and their users' most common
//! complaint is the *zombie*: a session that claims to be connected while
//! nothing flows (Evolution API #1153, #2403; WAHA #2151). So a connected
//! session is judged by evidence, not by its claim: the heartbeat's age, the
//! time since the last inbound message, and whether recent sends failed
//! after the last one that succeeded. A session that flaps (drops and
//! returns again and again, Evolution API #765) is a condition of its own,
//! because restarting it makes things worse.
//!
//! # Conditions, in order of precedence
//!
//! The first that applies wins.
//!
//! | Condition | When | Severity | Actions |
//! |---|---|---|---|
//! | `stopped` | state `stopped` | info | resolve alert |
//! | `banned` | state `banned` | critical | pause sending (no end), open alert `banned` |
//! | `logged_out` | state `logged_out` | critical | re-pair, open alert `logged_out` |
//! | `rate_limited` | state `rate_limited` | warning, or critical after a `temporary_ban` event | pause sending until `rate_limited_until_ms`, open alert `rate_limited` or `temporary_ban` |
//! | `disconnected` | state `disconnected` for more than `disconnected_alert_after_ms` | critical | restart session, open alert `disconnected` |
//! | `zombie` | state `connected`, at least `zombie_send_failures` failed sends within `zombie_window_ms` after the last successful send, and the heartbeat is stale or no inbound message arrived for `zombie_inbound_silence_ms` | critical | restart session, open alert `zombie` |
//! | `flapping` | at least `flap_disconnects` connection losses within `flap_window_ms` (in any other state) | warning | open alert `flapping` (no restart: restarts feed the loop) |
//! | `stale_heartbeat` | state `connected` with no sign of life for more than `heartbeat_stale_after_ms` | warning | restart session, open alert `stale_heartbeat` |
//! | `reconnecting` | state `disconnected`, not yet for long | info | none |
//! | `start_stalled` | state `starting` or `connecting` for more than `start_timeout_ms` | warning | restart session, open alert `start_stalled` |
//! | `starting` | state `starting` or `connecting`, not yet for long | info | none |
//! | `pairing_stalled` | state `pairing` for more than `pairing_timeout_ms` | warning | re-pair, open alert `pairing_stalled` |
//! | `pairing` | state `pairing`, not yet for long | info | none |
//! | `healthy` | state `connected` otherwise | info | resolve alert |
//!
//! "Sign of life" is the later of the last heartbeat and the moment the
//! session entered its state (`since_ms`), so a session that connected a
//! second ago is not stale for lack of a heartbeat. Transient conditions
//! (`starting`, `pairing`, `reconnecting`) recommend nothing, so an alert
//! opened earlier stays open through a reconnect instead of being resolved
//! and opened again.
//!
//! # One alert per number
//!
//! Every condition of a number shares one dedupe key,
//! `number:<number_id>:session` ([`number_alert_key`]). The conditions are
//! stages of one incident (a stale heartbeat becomes a disconnection, which
//! becomes a logout), so a change of condition updates the open alert's kind
//! and severity instead of resolving one alert and opening another, and a
//! healthy verdict needs to resolve exactly one key.

use serde::{Deserialize, Serialize};

use crate::session::{ConnectionEventKind, SessionState};

/// How bad something is, in increasing order: `info` < `warning` <
/// `critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; no action needed now.
    Info,
    /// Something degrades; act soon.
    Warning,
    /// Something is down; act now.
    Critical,
}

/// The kind of an alert that a verdict asks to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A session has been starting or connecting for too long.
    StartStalled,
    /// A session has been waiting for pairing for too long.
    PairingStalled,
    /// A session has been disconnected for too long.
    Disconnected,
    /// A connected session has shown no sign of life for too long.
    StaleHeartbeat,
    /// A session claims to be connected while sends fail and nothing arrives.
    Zombie,
    /// A session keeps losing its connection.
    Flapping,
    /// WhatsApp rate-limits the number.
    RateLimited,
    /// WhatsApp banned the number until a known time.
    TemporaryBan,
    /// WhatsApp unlinked the device.
    LoggedOut,
    /// WhatsApp banned the number permanently.
    Banned,
    /// A runtime's `/status` did not answer.
    RuntimeUnreachable,
    /// A runtime's `/status` answered slowly.
    RuntimeSlow,
    /// A runtime answered that it is degraded (its database is unreachable,
    /// or it answered with an error status).
    RuntimeDegraded,
}

/// Something the supervisor should do. In JSON, an object tagged by
/// `action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum RecommendedAction {
    /// Ask the daemon holding the number to restart its session.
    RestartSession {},
    /// Stop sending from the number, until the given time or, when
    /// `until_ms` is `null`, until a person resumes it.
    PauseSending {
        /// When sending may resume, in Unix milliseconds.
        until_ms: Option<i64>,
    },
    /// A person must pair the number again (scan a QR code or enter a code).
    RePair {},
    /// Open an alert, or update the open alert with this dedupe key.
    OpenAlert {
        /// What kind of problem.
        kind: AlertKind,
        /// How bad it is.
        severity: Severity,
        /// The key that identifies the alert across evaluations.
        dedupe_key: String,
    },
    /// The problem behind the alert with this dedupe key is gone (for now).
    ResolveAlert {
        /// The key that identifies the alert across evaluations.
        dedupe_key: String,
    },
}

/// The thresholds verdicts are judged by. Every field has a default, so a
/// partial object in JSON overrides only what it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthThresholds {
    /// A connected session without a sign of life for longer than this is
    /// stale. Default 60,000 ms: six missed beats of the daemon's ten-second
    /// heartbeat.
    pub heartbeat_stale_after_ms: i64,
    /// A session disconnected for longer than this is down, and alerted.
    /// Default 120,000 ms: long enough for several reconnect attempts.
    pub disconnected_alert_after_ms: i64,
    /// A session starting or connecting for longer than this is stalled.
    /// Default 120,000 ms (Baileys and Evolution API connect timeouts are
    /// 20–30 s).
    pub start_timeout_ms: i64,
    /// A session waiting for pairing longer than this needs a person.
    /// Default 600,000 ms (ten minutes).
    pub pairing_timeout_ms: i64,
    /// The window in which connection losses are counted for flapping.
    /// Default 600,000 ms (ten minutes).
    pub flap_window_ms: i64,
    /// This many connection losses within the window is flapping. Default 5.
    pub flap_disconnects: u32,
    /// The window in which failed sends are counted for a zombie. Default
    /// 300,000 ms (five minutes).
    pub zombie_window_ms: i64,
    /// This many failed sends after the last successful one, within the
    /// window, is a zombie if the session also looks silent. Default 3.
    pub zombie_send_failures: u32,
    /// No inbound message for this long counts as silence for the zombie
    /// test. Default 900,000 ms (fifteen minutes).
    pub zombie_inbound_silence_ms: i64,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        Self {
            heartbeat_stale_after_ms: 60_000,
            disconnected_alert_after_ms: 120_000,
            start_timeout_ms: 120_000,
            pairing_timeout_ms: 600_000,
            flap_window_ms: 600_000,
            flap_disconnects: 5,
            zombie_window_ms: 300_000,
            zombie_send_failures: 3,
            zombie_inbound_silence_ms: 900_000,
        }
    }
}

/// One entry of a number's recent connection timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecentEvent {
    /// When it happened, in Unix milliseconds.
    pub at_ms: i64,
    /// What happened.
    pub kind: ConnectionEventKind,
}

/// What the database knows about one number's session at a sweep. Optional
/// fields may be left out of the JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberSnapshot {
    /// The number's id (`numbers.id`).
    pub number_id: String,
    /// The session's state (`numbers.session_status`).
    pub state: SessionState,
    /// When the session entered that state, in Unix milliseconds.
    pub since_ms: i64,
    /// The last heartbeat, in Unix milliseconds, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_heartbeat_ms: Option<i64>,
    /// The last inbound message, in Unix milliseconds, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_inbound_ms: Option<i64>,
    /// The last successful send, in Unix milliseconds, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_send_success_ms: Option<i64>,
    /// When recent sends failed, in Unix milliseconds, in any order. Only
    /// those within `zombie_window_ms` count; older ones are ignored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_send_failures_ms: Vec<i64>,
    /// Recent connection events, in any order. Only those within
    /// `flap_window_ms` count for flapping.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_events: Vec<RecentEvent>,
    /// Until when WhatsApp limits the number, if it said so, in Unix
    /// milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limited_until_ms: Option<i64>,
}

/// The judgement a verdict reaches; see the table in the module
/// documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Connected, alive and working.
    Healthy,
    /// Stopped on purpose; not a fault.
    Stopped,
    /// Starting or connecting, not yet for long.
    Starting,
    /// Starting or connecting for too long.
    StartStalled,
    /// Waiting for pairing, not yet for long.
    Pairing,
    /// Waiting for pairing for too long.
    PairingStalled,
    /// Disconnected, not yet for long; the reconnect policy is at work.
    Reconnecting,
    /// Disconnected for too long.
    Disconnected,
    /// Connected, but no sign of life for too long.
    StaleHeartbeat,
    /// Claims to be connected while sends fail and nothing arrives.
    Zombie,
    /// Too many connection losses in a short window.
    Flapping,
    /// WhatsApp limits the number.
    RateLimited,
    /// WhatsApp unlinked the device; the number needs pairing again.
    LoggedOut,
    /// WhatsApp banned the number.
    Banned,
}

/// The judgement on one number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    /// The number judged.
    pub number_id: String,
    /// What the evaluator concluded.
    pub condition: Condition,
    /// How bad it is; `info` for healthy and transient conditions.
    pub severity: Severity,
    /// Why, as a lowercase phrase for people, such as
    /// `disconnected for 300 s (limit 120 s)`.
    pub reason: String,
    /// What to do about it, in order.
    pub actions: Vec<RecommendedAction>,
}

/// Returns the dedupe key of a number's session alert:
/// `number:<number_id>:session`.
pub fn number_alert_key(number_id: &str) -> String {
    let mut key = String::with_capacity(number_id.len() + 15);
    key.push_str("number:");
    key.push_str(number_id);
    key.push_str(":session");
    key
}

/// Milliseconds between `earlier` and `now_ms`, never negative (a
/// timestamp from the future counts as now).
fn age_ms(now_ms: i64, earlier: i64) -> i64 {
    now_ms.saturating_sub(earlier).max(0)
}

/// Judges one number at `now_ms` under `thresholds`.
pub fn evaluate(snapshot: &NumberSnapshot, thresholds: &HealthThresholds, now_ms: i64) -> Verdict {
    let in_state_ms = age_ms(now_ms, snapshot.since_ms);
    let open = |kind: AlertKind, severity: Severity| RecommendedAction::OpenAlert {
        kind,
        severity,
        dedupe_key: number_alert_key(&snapshot.number_id),
    };
    let resolve = || RecommendedAction::ResolveAlert {
        dedupe_key: number_alert_key(&snapshot.number_id),
    };
    let verdict = |condition: Condition,
                   severity: Severity,
                   reason: String,
                   actions: Vec<RecommendedAction>| Verdict {
        number_id: snapshot.number_id.clone(),
        condition,
        severity,
        reason,
        actions,
    };

    match snapshot.state {
        SessionState::Stopped => {
            return verdict(
                Condition::Stopped,
                Severity::Info,
                "stopped on purpose".to_string(),
                vec![resolve()],
            )
        }
        SessionState::Banned => {
            return verdict(
                Condition::Banned,
                Severity::Critical,
                "banned by whatsapp".to_string(),
                vec![
                    RecommendedAction::PauseSending { until_ms: None },
                    open(AlertKind::Banned, Severity::Critical),
                ],
            )
        }
        SessionState::LoggedOut => {
            return verdict(
                Condition::LoggedOut,
                Severity::Critical,
                "logged out; the number must be paired again".to_string(),
                vec![
                    RecommendedAction::RePair {},
                    open(AlertKind::LoggedOut, Severity::Critical),
                ],
            )
        }
        SessionState::RateLimited => {
            let temporary_ban = snapshot.recent_events.iter().any(|event| {
                event.kind == ConnectionEventKind::TemporaryBan && event.at_ms >= snapshot.since_ms
            });
            let (what, kind, severity) = if temporary_ban {
                (
                    "temporarily banned",
                    AlertKind::TemporaryBan,
                    Severity::Critical,
                )
            } else {
                ("rate limited", AlertKind::RateLimited, Severity::Warning)
            };
            let reason = match snapshot.rate_limited_until_ms {
                Some(until_ms) => format!("{what} until {until_ms}"),
                None => format!("{what} for {} s, end unknown", in_state_ms / 1000),
            };
            return verdict(
                Condition::RateLimited,
                severity,
                reason,
                vec![
                    RecommendedAction::PauseSending {
                        until_ms: snapshot.rate_limited_until_ms,
                    },
                    open(kind, severity),
                ],
            );
        }
        SessionState::Disconnected if in_state_ms > thresholds.disconnected_alert_after_ms => {
            return verdict(
                Condition::Disconnected,
                Severity::Critical,
                format!(
                    "disconnected for {} s (limit {} s)",
                    in_state_ms / 1000,
                    thresholds.disconnected_alert_after_ms / 1000
                ),
                vec![
                    RecommendedAction::RestartSession {},
                    open(AlertKind::Disconnected, Severity::Critical),
                ],
            );
        }
        _ => {}
    }

    let last_sign_of_life_ms = snapshot
        .last_heartbeat_ms
        .map_or(snapshot.since_ms, |heartbeat| {
            heartbeat.max(snapshot.since_ms)
        });
    let silent_for_ms = age_ms(now_ms, last_sign_of_life_ms);
    let heartbeat_is_stale = silent_for_ms > thresholds.heartbeat_stale_after_ms;

    if snapshot.state == SessionState::Connected {
        let failures_since = snapshot
            .last_send_success_ms
            .map_or(i64::MIN, |success| success)
            .max(now_ms.saturating_sub(thresholds.zombie_window_ms));
        let failed_sends = snapshot
            .recent_send_failures_ms
            .iter()
            .filter(|&&failed_at| failed_at > failures_since && failed_at <= now_ms)
            .count();
        let inbound_reference_ms = snapshot
            .last_inbound_ms
            .map_or(snapshot.since_ms, |inbound| inbound.max(snapshot.since_ms));
        let inbound_silent_for_ms = age_ms(now_ms, inbound_reference_ms);
        let inbound_is_silent = inbound_silent_for_ms > thresholds.zombie_inbound_silence_ms;
        let zombie_failures =
            usize::try_from(thresholds.zombie_send_failures).unwrap_or(usize::MAX);
        if failed_sends >= zombie_failures.max(1) && (heartbeat_is_stale || inbound_is_silent) {
            let symptom = if heartbeat_is_stale {
                format!("no sign of life for {} s", silent_for_ms / 1000)
            } else {
                format!("no inbound for {} s", inbound_silent_for_ms / 1000)
            };
            return verdict(
                Condition::Zombie,
                Severity::Critical,
                format!(
                    "claims connected but {failed_sends} sends failed within {} s and {symptom}",
                    thresholds.zombie_window_ms / 1000
                ),
                vec![
                    RecommendedAction::RestartSession {},
                    open(AlertKind::Zombie, Severity::Critical),
                ],
            );
        }
    }

    let flap_window_start_ms = now_ms.saturating_sub(thresholds.flap_window_ms);
    let connection_losses = snapshot
        .recent_events
        .iter()
        .filter(|event| {
            event.kind.is_connection_loss()
                && event.at_ms > flap_window_start_ms
                && event.at_ms <= now_ms
        })
        .count();
    let flap_disconnects = usize::try_from(thresholds.flap_disconnects).unwrap_or(usize::MAX);
    if connection_losses >= flap_disconnects.max(1) {
        return verdict(
            Condition::Flapping,
            Severity::Warning,
            format!(
                "{connection_losses} connection losses within {} s (limit {})",
                thresholds.flap_window_ms / 1000,
                thresholds.flap_disconnects
            ),
            vec![open(AlertKind::Flapping, Severity::Warning)],
        );
    }

    match snapshot.state {
        SessionState::Connected if heartbeat_is_stale => verdict(
            Condition::StaleHeartbeat,
            Severity::Warning,
            format!(
                "connected but no sign of life for {} s (limit {} s)",
                silent_for_ms / 1000,
                thresholds.heartbeat_stale_after_ms / 1000
            ),
            vec![
                RecommendedAction::RestartSession {},
                open(AlertKind::StaleHeartbeat, Severity::Warning),
            ],
        ),
        SessionState::Connected => verdict(
            Condition::Healthy,
            Severity::Info,
            format!(
                "connected, last sign of life {} s ago",
                silent_for_ms / 1000
            ),
            vec![resolve()],
        ),
        SessionState::Disconnected => verdict(
            Condition::Reconnecting,
            Severity::Info,
            format!("disconnected for {} s", in_state_ms / 1000),
            Vec::new(),
        ),
        SessionState::Starting | SessionState::Connecting
            if in_state_ms > thresholds.start_timeout_ms =>
        {
            verdict(
                Condition::StartStalled,
                Severity::Warning,
                format!(
                    "{} for {} s (limit {} s)",
                    snapshot.state,
                    in_state_ms / 1000,
                    thresholds.start_timeout_ms / 1000
                ),
                vec![
                    RecommendedAction::RestartSession {},
                    open(AlertKind::StartStalled, Severity::Warning),
                ],
            )
        }
        SessionState::Pairing if in_state_ms > thresholds.pairing_timeout_ms => verdict(
            Condition::PairingStalled,
            Severity::Warning,
            format!(
                "waiting for pairing for {} s (limit {} s)",
                in_state_ms / 1000,
                thresholds.pairing_timeout_ms / 1000
            ),
            vec![
                RecommendedAction::RePair {},
                open(AlertKind::PairingStalled, Severity::Warning),
            ],
        ),
        SessionState::Pairing => verdict(
            Condition::Pairing,
            Severity::Info,
            format!("waiting for pairing for {} s", in_state_ms / 1000),
            Vec::new(),
        ),
        // Starting and connecting within the timeout. The terminal states
        // returned above, so they cannot reach this arm.
        _ => verdict(
            Condition::Starting,
            Severity::Info,
            format!("{} for {} s", snapshot.state, in_state_ms / 1000),
            Vec::new(),
        ),
    }
}

/// Judges every snapshot at `now_ms` under `thresholds`, in order. Linear
/// in the snapshots and their recent events and failures.
pub fn evaluate_all(
    snapshots: &[NumberSnapshot],
    thresholds: &HealthThresholds,
    now_ms: i64,
) -> Vec<Verdict> {
    snapshots
        .iter()
        .map(|snapshot| evaluate(snapshot, thresholds, now_ms))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn connected() -> NumberSnapshot {
        NumberSnapshot {
            number_id: "n1".into(),
            state: SessionState::Connected,
            since_ms: NOW - 3_600_000,
            last_heartbeat_ms: Some(NOW - 5_000),
            last_inbound_ms: Some(NOW - 60_000),
            last_send_success_ms: Some(NOW - 30_000),
            recent_send_failures_ms: Vec::new(),
            recent_events: Vec::new(),
            rate_limited_until_ms: None,
        }
    }

    fn judge(snapshot: &NumberSnapshot) -> Verdict {
        evaluate(snapshot, &HealthThresholds::default(), NOW)
    }

    #[test]
    fn a_fresh_connected_session_is_healthy_and_resolves_its_alert() {
        let verdict = judge(&connected());
        assert_eq!(verdict.condition, Condition::Healthy);
        assert_eq!(verdict.reason, "connected, last sign of life 5 s ago");
        assert_eq!(
            verdict.actions,
            vec![RecommendedAction::ResolveAlert {
                dedupe_key: "number:n1:session".into()
            }]
        );
    }

    #[test]
    fn a_silent_connected_session_is_stale_and_restarted() {
        let mut snapshot = connected();
        snapshot.last_heartbeat_ms = Some(NOW - 95_000);
        let verdict = judge(&snapshot);
        assert_eq!(verdict.condition, Condition::StaleHeartbeat);
        assert_eq!(
            verdict.reason,
            "connected but no sign of life for 95 s (limit 60 s)"
        );
        assert_eq!(verdict.actions[0], RecommendedAction::RestartSession {});
    }

    #[test]
    fn a_new_connection_without_a_heartbeat_is_not_stale() {
        let mut snapshot = connected();
        snapshot.since_ms = NOW - 2_000;
        snapshot.last_heartbeat_ms = None;
        assert_eq!(judge(&snapshot).condition, Condition::Healthy);
    }

    #[test]
    fn failing_sends_on_a_silent_connection_make_a_zombie() {
        let mut snapshot = connected();
        snapshot.last_heartbeat_ms = Some(NOW - 2_000);
        snapshot.last_inbound_ms = Some(NOW - 1_000_000);
        snapshot.last_send_success_ms = Some(NOW - 400_000);
        snapshot.recent_send_failures_ms = vec![NOW - 100_000, NOW - 50_000, NOW - 10_000];
        let verdict = judge(&snapshot);
        assert_eq!(verdict.condition, Condition::Zombie);
        assert_eq!(
            verdict.reason,
            "claims connected but 3 sends failed within 300 s and no inbound for 1000 s"
        );
        // A success after the failures means sending works.
        snapshot.last_send_success_ms = Some(NOW - 5_000);
        assert_eq!(judge(&snapshot).condition, Condition::Healthy);
    }

    #[test]
    fn failing_sends_alone_are_not_a_zombie() {
        let mut snapshot = connected();
        snapshot.last_send_success_ms = None;
        snapshot.recent_send_failures_ms = vec![NOW - 3, NOW - 2, NOW - 1];
        assert_eq!(judge(&snapshot).condition, Condition::Healthy);
    }

    #[test]
    fn many_losses_in_the_window_are_flapping_but_old_ones_are_not() {
        let mut snapshot = connected();
        snapshot.recent_events = (0..5)
            .map(|index| RecentEvent {
                at_ms: NOW - 60_000 * (index + 1),
                kind: ConnectionEventKind::Disconnected,
            })
            .collect();
        let verdict = judge(&snapshot);
        assert_eq!(verdict.condition, Condition::Flapping);
        assert_eq!(verdict.reason, "5 connection losses within 600 s (limit 5)");
        snapshot.recent_events[4].at_ms = NOW - 700_000;
        assert_eq!(judge(&snapshot).condition, Condition::Healthy);
    }

    #[test]
    fn a_disconnection_is_transient_then_alerted() {
        let mut snapshot = connected();
        snapshot.state = SessionState::Disconnected;
        snapshot.since_ms = NOW - 30_000;
        let verdict = judge(&snapshot);
        assert_eq!(
            (verdict.condition, verdict.actions.len()),
            (Condition::Reconnecting, 0)
        );
        snapshot.since_ms = NOW - 300_000;
        let verdict = judge(&snapshot);
        assert_eq!(verdict.condition, Condition::Disconnected);
        assert_eq!(verdict.severity, Severity::Critical);
        assert_eq!(verdict.reason, "disconnected for 300 s (limit 120 s)");
    }

    #[test]
    fn terminal_states_name_what_a_person_must_do() {
        let mut snapshot = connected();
        snapshot.state = SessionState::LoggedOut;
        assert_eq!(judge(&snapshot).actions[0], RecommendedAction::RePair {});
        snapshot.state = SessionState::Banned;
        assert_eq!(
            judge(&snapshot).actions[0],
            RecommendedAction::PauseSending { until_ms: None }
        );
        snapshot.state = SessionState::Stopped;
        assert_eq!(judge(&snapshot).condition, Condition::Stopped);
    }

    #[test]
    fn a_temporary_ban_is_a_critical_rate_limit_with_a_pause() {
        let mut snapshot = connected();
        snapshot.state = SessionState::RateLimited;
        snapshot.since_ms = NOW - 10_000;
        snapshot.rate_limited_until_ms = Some(NOW + 3_600_000);
        snapshot.recent_events = vec![RecentEvent {
            at_ms: NOW - 10_000,
            kind: ConnectionEventKind::TemporaryBan,
        }];
        let verdict = judge(&snapshot);
        assert_eq!(verdict.severity, Severity::Critical);
        assert_eq!(
            verdict.actions,
            vec![
                RecommendedAction::PauseSending {
                    until_ms: Some(NOW + 3_600_000)
                },
                RecommendedAction::OpenAlert {
                    kind: AlertKind::TemporaryBan,
                    severity: Severity::Critical,
                    dedupe_key: "number:n1:session".into()
                }
            ]
        );
    }

    #[test]
    fn slow_starts_and_pairings_stall() {
        let mut snapshot = connected();
        snapshot.state = SessionState::Connecting;
        snapshot.since_ms = NOW - 60_000;
        assert_eq!(judge(&snapshot).condition, Condition::Starting);
        snapshot.since_ms = NOW - 200_000;
        assert_eq!(judge(&snapshot).condition, Condition::StartStalled);
        snapshot.state = SessionState::Pairing;
        assert_eq!(judge(&snapshot).condition, Condition::Pairing);
        snapshot.since_ms = NOW - 700_000;
        assert_eq!(judge(&snapshot).condition, Condition::PairingStalled);
    }

    #[test]
    fn partial_thresholds_keep_the_other_defaults() {
        let thresholds: HealthThresholds =
            serde_json::from_str(r#"{"flap_disconnects": 2}"#).unwrap();
        assert_eq!(thresholds.flap_disconnects, 2);
        assert_eq!(thresholds.heartbeat_stale_after_ms, 60_000);
        assert!(serde_json::from_str::<HealthThresholds>(r#"{"flap": 2}"#).is_err());
    }

    #[test]
    fn evaluate_all_keeps_the_order() {
        let mut second = connected();
        second.number_id = "n2".into();
        second.state = SessionState::Stopped;
        let verdicts = evaluate_all(&[connected(), second], &HealthThresholds::default(), NOW);
        assert_eq!(
            verdicts
                .iter()
                .map(|verdict| (verdict.number_id.as_str(), verdict.condition))
                .collect::<Vec<_>>(),
            vec![("n1", Condition::Healthy), ("n2", Condition::Stopped)]
        );
    }
}
