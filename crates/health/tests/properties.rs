//! Property tests: the invariants that must hold for every input, not only
//! the scenarios.

// Tests may unwrap: a panic is the failure report (clippy.toml allows it in
// #[test] functions; this covers their helpers too).
#![allow(clippy::unwrap_used)]

use health::{
    backoff_ceiling_ms, evaluate, jittered_delay_ms, pace, reconnect_delay,
    record_rate_limit_error, transition, ConnectionEvent, ConnectionEventKind, HealthThresholds,
    NumberSnapshot, PaceRequest, PacingConfig, PacingDecision, PacingState, RecentEvent,
    ReconnectDecision, ReconnectPolicy, ReconnectRequest, SessionState,
};
use proptest::prelude::*;

fn any_state() -> impl Strategy<Value = SessionState> {
    proptest::sample::select(SessionState::ALL.to_vec())
}

fn any_event_kind() -> impl Strategy<Value = ConnectionEventKind> {
    proptest::sample::select(
        ConnectionEventKind::ALL
            .iter()
            .copied()
            .chain([ConnectionEventKind::Other])
            .collect::<Vec<_>>(),
    )
}

fn any_event() -> impl Strategy<Value = ConnectionEvent> {
    prop_oneof![
        Just(ConnectionEvent::StartRequested {}),
        Just(ConnectionEvent::StopRequested {}),
        Just(ConnectionEvent::QrShown {}),
        Just(ConnectionEvent::PairCodeShown {}),
        Just(ConnectionEvent::Paired {}),
        Just(ConnectionEvent::Connecting {}),
        Just(ConnectionEvent::Connected {}),
        ".*".prop_map(|reason| ConnectionEvent::Disconnected { reason }),
        Just(ConnectionEvent::LoggedOut {}),
        Just(ConnectionEvent::StreamReplaced {}),
        any::<i64>().prop_map(|expires_at_ms| ConnectionEvent::TemporaryBan { expires_at_ms }),
        Just(ConnectionEvent::Banned {}),
        any::<i64>().prop_map(|until_ms| ConnectionEvent::RateLimited { until_ms }),
        Just(ConnectionEvent::RateLimitCleared {}),
        Just(ConnectionEvent::ClientOutdated {}),
        Just(ConnectionEvent::Heartbeat {}),
    ]
}

fn any_policy() -> impl Strategy<Value = ReconnectPolicy> {
    (
        -1_000_i64..10_000_000,
        -1_000_i64..100_000_000,
        any::<i64>(),
    )
        .prop_map(
            |(base_delay_ms, max_delay_ms, stable_after_ms)| ReconnectPolicy {
                base_delay_ms,
                max_delay_ms,
                stable_after_ms,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn backoff_stays_within_zero_and_the_cap(policy in any_policy(), attempt in any::<u32>(), seed in any::<u64>()) {
        let cap = policy.max_delay_ms.max(0);
        let ceiling = backoff_ceiling_ms(&policy, attempt);
        let delay = jittered_delay_ms(&policy, attempt, seed);
        prop_assert!((0..=cap).contains(&ceiling));
        prop_assert!((0..=ceiling).contains(&delay));
    }

    #[test]
    fn the_backoff_ceiling_never_decreases(policy in any_policy(), attempt in 0_u32..200) {
        prop_assert!(backoff_ceiling_ms(&policy, attempt) <= backoff_ceiling_ms(&policy, attempt + 1));
    }

    #[test]
    fn reconnect_decisions_are_sane(
        policy in any_policy(),
        state in any_state(),
        previous_attempts in any::<u32>(),
        last_connected_for_ms in proptest::option::of(any::<i64>()),
        last_event in proptest::option::of(any_event_kind()),
        seed in any::<u64>(),
        now_ms in -4_000_000_000_000_i64..4_000_000_000_000,
    ) {
        let request = ReconnectRequest {
            state, previous_attempts, last_connected_for_ms, last_event,
            wait_until_ms: None, seed, now_ms,
        };
        match reconnect_delay(&policy, &request) {
            ReconnectDecision::Retry { attempt, delay_ms, retry_at_ms, ceiling_ms } => {
                prop_assert!(attempt >= 1);
                prop_assert!((0..=ceiling_ms).contains(&delay_ms));
                prop_assert!(ceiling_ms <= policy.max_delay_ms.max(0));
                prop_assert_eq!(retry_at_ms, now_ms + delay_ms);
                prop_assert!(matches!(state, SessionState::Disconnected | SessionState::RateLimited));
            }
            ReconnectDecision::GiveUp { .. } => {}
            ReconnectDecision::NotNeeded { state: reported } => prop_assert_eq!(reported, state),
        }
        if matches!(state, SessionState::LoggedOut | SessionState::Banned) {
            prop_assert!(
                matches!(reconnect_delay(&policy, &request), ReconnectDecision::GiveUp { .. }),
                "no automatic retry after {state}"
            );
        }
    }

    #[test]
    fn transition_never_panics_and_reports_only_what_moved_unexpectedly(state in any_state(), event in any_event()) {
        let step = transition(state, &event);
        if let Some(anomaly) = &step.anomaly {
            prop_assert_eq!(anomaly.from, state);
            prop_assert_eq!(anomaly.event, event.kind());
        }
        if matches!(event, ConnectionEvent::Heartbeat {}) {
            prop_assert_eq!(step.next_state, state);
        }
    }

    #[test]
    fn transition_never_panics_on_arbitrary_json(state in ".*", kind in ".*", number in any::<i64>()) {
        let input = serde_json::json!({"state": state, "event": {"kind": kind, "until_ms": number}});
        let _ = health::call_json("transition", input);
    }

    #[test]
    fn evaluate_never_panics_on_extreme_times(
        state in any_state(),
        since_ms in any::<i64>(),
        last_heartbeat_ms in proptest::option::of(any::<i64>()),
        last_inbound_ms in proptest::option::of(any::<i64>()),
        last_send_success_ms in proptest::option::of(any::<i64>()),
        recent_send_failures_ms in proptest::collection::vec(any::<i64>(), 0..8),
        events in proptest::collection::vec((any::<i64>(), any_event_kind()), 0..8),
        now_ms in any::<i64>(),
    ) {
        let snapshot = NumberSnapshot {
            number_id: "n".into(), state, since_ms, last_heartbeat_ms, last_inbound_ms,
            last_send_success_ms, recent_send_failures_ms,
            recent_events: events.into_iter().map(|(at_ms, kind)| RecentEvent { at_ms, kind }).collect(),
            rate_limited_until_ms: None,
        };
        let verdict = evaluate(&snapshot, &HealthThresholds::default(), now_ms);
        prop_assert!(!verdict.reason.is_empty());
    }

    #[test]
    fn pacing_never_panics_and_never_overdraws(
        tokens_micro in any::<i64>(),
        refilled_at_ms in proptest::option::of(any::<i64>()),
        paused_until_ms in proptest::option::of(any::<i64>()),
        requests in proptest::collection::vec((0_i64..100_000, any::<bool>(), 0_u32..60, any::<bool>()), 1..40),
        start_ms in -1_000_000_000_000_i64..4_000_000_000_000,
    ) {
        let config = PacingConfig::default();
        let mut state = PacingState { tokens_micro, refilled_at_ms, paused_until_ms, ..PacingState::default() };
        let mut now_ms = start_ms;
        for (step_ms, is_new_contact, number_age_days, rate_limited) in requests {
            now_ms += step_ms;
            if rate_limited {
                let until = record_rate_limit_error(&mut state, &config, now_ms, None);
                prop_assert!(until >= now_ms);
            }
            let before = state.clone();
            let decision = pace(&mut state, &config, &PaceRequest { now_ms, is_new_contact, number_age_days });
            match decision {
                PacingDecision::Send {} => prop_assert!(state.tokens_micro >= 0),
                PacingDecision::Wait { until_ms, .. } => {
                    prop_assert!(until_ms > now_ms);
                    prop_assert_eq!(&state, &before);
                }
                PacingDecision::Refuse { .. } => prop_assert_eq!(&state, &before),
            }
        }
    }
}

#[test]
fn every_state_and_event_kind_has_a_cell() {
    for state in SessionState::ALL {
        for kind in ConnectionEventKind::ALL {
            let event = kind.example_event().unwrap();
            let _ = transition(state, &event);
        }
    }
}
