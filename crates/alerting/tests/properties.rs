//! Property tests: invariants that must hold for every sequence of inputs.

// Tests may unwrap: a panic is the failure report (clippy.toml allows it in
// #[test] functions; this covers their helpers too).
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;

use alerting::{
    plan, reconcile, AlertChange, AlertStatus, Channel, ChannelKind, DigestState, NotifyConfig,
    Payload, PlanInput, ReconcileConfig, ReconcileInput, ResolveReason, Severity, Signal,
};
use proptest::prelude::*;
use support::AlertTable;

const KEYS: [&str; 4] = [
    "number:a:session",
    "number:b:session",
    "number:c:session",
    "runtime:r:status",
];

fn any_severity() -> impl Strategy<Value = Severity> {
    prop_oneof![
        Just(Severity::Info),
        Just(Severity::Warning),
        Just(Severity::Critical)
    ]
}

fn any_kind() -> impl Strategy<Value = String> {
    proptest::sample::select(vec!["disconnected", "zombie", "banned"]).prop_map(String::from)
}

fn any_signal() -> impl Strategy<Value = Signal> {
    (0..KEYS.len(), any_kind(), any_severity(), any::<bool>()).prop_map(
        |(key, kind, severity, healthy)| Signal {
            dedupe_key: KEYS[key].to_string(),
            kind,
            severity,
            subject: KEYS[key].to_string(),
            healthy,
            detail: String::new(),
        },
    )
}

/// One step of a simulated life: time passes, signals arrive, and perhaps
/// an operator acknowledges an alert.
fn any_round() -> impl Strategy<Value = (i64, Vec<Signal>, Option<usize>)> {
    (
        0_i64..1_200_000,
        proptest::collection::vec(any_signal(), 0..6),
        proptest::option::of(0..KEYS.len()),
    )
}

fn any_change() -> impl Strategy<Value = AlertChange> {
    let key = (0..KEYS.len()).prop_map(|index| KEYS[index].to_string());
    prop_oneof![
        (key.clone(), any_kind(), any_severity()).prop_map(|(dedupe_key, kind, severity)| {
            AlertChange::Open {
                subject: dedupe_key.clone(),
                dedupe_key,
                kind,
                severity,
                detail: String::new(),
                flap_count: 0,
                last_flap_at_ms: None,
                flapping: false,
            }
        }),
        (key.clone(), any_kind(), any_severity(), any_severity()).prop_map(
            |(dedupe_key, kind, severity, previous_severity)| AlertChange::Update {
                alert_id: "a".into(),
                subject: dedupe_key.clone(),
                dedupe_key,
                kind,
                severity,
                previous_kind: "disconnected".into(),
                previous_severity,
                detail: "changed".into(),
            }
        ),
        (key.clone(), any_kind(), any_severity(), any::<bool>()).prop_map(
            |(dedupe_key, kind, severity, became_flapping)| AlertChange::Relapsed {
                alert_id: "a".into(),
                subject: dedupe_key.clone(),
                dedupe_key,
                kind,
                severity,
                detail: String::new(),
                flap_count: 3,
                last_flap_at_ms: 0,
                flapping: true,
                became_flapping,
            }
        ),
        (key.clone(), any_kind(), any_severity()).prop_map(|(dedupe_key, kind, severity)| {
            AlertChange::Escalate {
                alert_id: "a".into(),
                subject: dedupe_key.clone(),
                dedupe_key,
                kind,
                severity,
                detail: String::new(),
                opened_at_ms: 0,
                escalated_at_ms: 0,
            }
        }),
        (key.clone(), any_kind(), any_severity()).prop_map(|(dedupe_key, kind, severity)| {
            AlertChange::Resolve {
                alert_id: "a".into(),
                subject: dedupe_key.clone(),
                dedupe_key,
                kind,
                severity,
                reason: ResolveReason::Healthy,
                healthy_since_ms: Some(0),
            }
        }),
        key.prop_map(|dedupe_key| AlertChange::Recovering {
            alert_id: "a".into(),
            dedupe_key,
            healthy_since_ms: 0
        }),
    ]
}

fn channels() -> Vec<Channel> {
    vec![
        Channel {
            id: "pager".into(),
            kind: ChannelKind::Whatsapp,
            min_severity: Severity::Critical,
            enabled: true,
            kinds: Vec::new(),
        },
        Channel {
            id: "slack".into(),
            kind: ChannelKind::Slack,
            min_severity: Severity::Warning,
            enabled: true,
            kinds: Vec::new(),
        },
        Channel {
            id: "hook".into(),
            kind: ChannelKind::Webhook,
            min_severity: Severity::Info,
            enabled: true,
            kinds: vec!["zombie".into(), "banned".into()],
        },
        Channel {
            id: "mail".into(),
            kind: ChannelKind::Email,
            min_severity: Severity::Info,
            enabled: true,
            kinds: Vec::new(),
        },
    ]
}

fn count_open_per_key(table: &AlertTable) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for alert in &table.open {
        *counts.entry(alert.dedupe_key.clone()).or_insert(0) += 1;
    }
    counts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn reconcile_never_leaves_two_open_alerts_for_one_key(
        rounds in proptest::collection::vec(any_round(), 1..40),
        duplicates in proptest::collection::vec(0..KEYS.len(), 0..4),
        resolve_after_healthy_ms in 0_i64..900_000,
        flap_threshold in 0_u32..5,
    ) {
        let config = ReconcileConfig { resolve_after_healthy_ms, flap_threshold, ..ReconcileConfig::default() };
        let mut table = AlertTable::default();
        let mut now_ms = 1_800_000_000_000;
        // Start from a table that already breaks the invariant, as a
        // database without the unique index might.
        for key in duplicates {
            let opened = reconcile(&ReconcileInput {
                signals: vec![Signal { dedupe_key: KEYS[key].into(), kind: "disconnected".into(), severity: Severity::Critical, subject: "s".into(), healthy: false, detail: String::new() }],
                open_alerts: Vec::new(), recently_resolved: Vec::new(), now_ms, config: config.clone(),
            });
            table.apply(&opened, now_ms);
        }
        for (advance_ms, signals, acknowledge) in rounds {
            now_ms += advance_ms;
            if let Some(index) = acknowledge {
                if let Some(alert) = table.open.iter_mut().find(|alert| alert.dedupe_key == KEYS[index]) {
                    alert.status = AlertStatus::Acknowledged;
                }
            }
            let changes = reconcile(&ReconcileInput {
                signals: signals.clone(), open_alerts: table.open.clone(),
                recently_resolved: table.resolved.clone(), now_ms, config: config.clone(),
            });
            for change in &changes {
                if let AlertChange::Open { dedupe_key, .. } = change {
                    prop_assert!(
                        !table.open.iter().any(|alert| &alert.dedupe_key == dedupe_key),
                        "opened {dedupe_key} while one is open"
                    );
                }
            }
            table.apply(&changes, now_ms);
            for (key, count) in count_open_per_key(&table) {
                prop_assert!(count <= 1, "{count} open alerts for {key}");
            }
            // Every unhealthy signal leaves its key with an open alert.
            for signal in signals.iter().filter(|signal| !signal.healthy) {
                prop_assert!(table.open.iter().any(|alert| alert.dedupe_key == signal.dedupe_key));
            }
        }
    }

    #[test]
    fn no_two_notifications_for_one_key_reach_one_channel_within_a_window(
        batches in proptest::collection::vec((0_i64..400_000, proptest::collection::vec(any_change(), 0..8)), 1..40),
        digest_window_ms in 0_i64..300_000,
        group_wait_ms in 0_i64..60_000,
    ) {
        let config = NotifyConfig { digest_window_ms, group_wait_ms, ..NotifyConfig::default() };
        let channels = channels();
        let mut state = DigestState::default();
        let mut now_ms = 1_800_000_000_000;
        let mut last_notified: BTreeMap<(String, String), i64> = BTreeMap::new();
        let mut last_message: BTreeMap<String, i64> = BTreeMap::new();
        let mut next_flush_at_ms = None;
        for (advance_ms, changes) in batches {
            now_ms += advance_ms;
            let result = plan(&PlanInput { changes, channels: channels.clone(), state, now_ms, config: config.clone() });
            for notification in &result.notifications {
                if let Some(previous) = last_message.insert(notification.channel_id.clone(), now_ms) {
                    prop_assert!(now_ms - previous >= digest_window_ms, "two messages to {} within the window", notification.channel_id);
                }
                let mut seen = std::collections::BTreeSet::new();
                for key in &notification.dedupe_keys {
                    prop_assert!(seen.insert(key.clone()), "{key} listed twice in one message");
                    if let Some(previous) = last_notified.insert((notification.channel_id.clone(), key.clone()), now_ms) {
                        prop_assert!(now_ms - previous >= digest_window_ms, "{key} notified twice to {} within the window", notification.channel_id);
                    }
                }
                if let Payload::Webhook { timestamp, body, signing_input } = &notification.payload {
                    prop_assert_eq!(signing_input, &format!("{timestamp}.{body}"));
                }
            }
            next_flush_at_ms = result.next_flush_at_ms;
            if let Some(next) = next_flush_at_ms {
                prop_assert!(next > now_ms);
            }
            state = result.state;
        }
        // Whatever waits goes out at the announced flush times, each at
        // most one window after the previous.
        let mut flushes = 0;
        while let Some(next) = next_flush_at_ms {
            prop_assert!(flushes < channels.len(), "pending never drains");
            let result = plan(&PlanInput { changes: Vec::new(), channels: channels.clone(), state, now_ms: next, config: config.clone() });
            prop_assert!(!result.notifications.is_empty());
            next_flush_at_ms = result.next_flush_at_ms;
            state = result.state;
            flushes += 1;
        }
        prop_assert!(state.channels.values().all(|digest| digest.pending.is_empty()));
    }
}
