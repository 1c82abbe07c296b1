//! Reconciliation: from health signals and the open alerts to alert changes.
//!
//! Each health sweep (or single evaluation) produces [`Signal`]s, one per
//! dedupe key it has an opinion on: unhealthy ("open or keep open an alert
//! of this kind and severity") or healthy ("the problem is gone for now").
//! [`reconcile`] compares them with the alerts that are open and returns
//! the [`AlertChange`]s to write to the `alerts` table. It remembers nothing
//! itself: every fact it needs (when an alert went healthy, how often it
//! flapped) lives on the alert and comes back in the next call.
//!
//! # Rules
//!
//! - **One open alert per key.** An unhealthy signal for a key without an
//!   open alert opens one; with an open alert it updates it if the kind,
//!   severity or detail changed. Should the input ever hold two open alerts
//!   with one key, every one but the oldest is resolved (reason
//!   `duplicate`), so the invariant is restored rather than assumed.
//! - **Resolve after a period of health.** A healthy signal marks the alert
//!   `recovering` (it records `healthy_since_ms`); only when it has been
//!   healthy for `resolve_after_healthy_ms` is it resolved. A single good
//!   sweep between two bad ones resolves nothing.
//! - **Flapping is kept open.** When the problem returns during a healthy
//!   spell, or an alert re-opens within `flap_window_ms` of being resolved,
//!   that is a flap. `flap_threshold` flaps within the window mark the alert
//!   `flapping`: it is notified once as such, and then needs the longer
//!   `flapping_resolve_after_healthy_ms` of health to resolve, so an
//!   unstable number produces one alert that stays open instead of a storm
//!   of opens and resolves.
//! - **Escalate what nobody acknowledged.** An alert still `open` (not
//!   `acknowledged`) `escalate_after_ms` after it opened, and not recovering,
//!   is escalated once (`escalated_at_ms`), which notifies again.
//!
//! Signals with the same key are merged: any unhealthy signal beats a
//! healthy one, and among unhealthy ones the most severe (then the last)
//! wins. A key without a signal changes nothing, except by escalation.
//!
//! Changes come in a fixed order: first those of the open alerts, in input
//! order (for one alert: relapse, update, recovering, escalation or
//! resolution), then the new alerts, in the order their keys first appear
//! among the signals.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Severity;

/// One health opinion about one dedupe key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// The key that identifies the alert, such as `number:<id>:session`.
    pub dedupe_key: String,
    /// What kind of problem, such as `disconnected`.
    pub kind: String,
    /// How bad it is.
    pub severity: Severity,
    /// What it is about: a number id or a runtime id.
    pub subject: String,
    /// Whether the problem is gone (a resolve recommendation) rather than
    /// present (an open recommendation).
    pub healthy: bool,
    /// A phrase for people, such as the verdict's reason.
    #[serde(default)]
    pub detail: String,
}

/// Whether a person took an alert on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Nobody acknowledged it yet.
    Open,
    /// A person acknowledged it; it is no longer escalated.
    Acknowledged,
}

/// An alert that is open or acknowledged (not resolved), as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAlert {
    /// The alert's id.
    pub id: String,
    /// The key that identifies it across evaluations.
    pub dedupe_key: String,
    /// What kind of problem.
    pub kind: String,
    /// How bad it is.
    pub severity: Severity,
    /// What it is about: a number id or a runtime id.
    pub subject: String,
    /// A phrase for people.
    #[serde(default)]
    pub detail: String,
    /// Open or acknowledged.
    pub status: AlertStatus,
    /// When it opened, in Unix milliseconds.
    pub opened_at_ms: i64,
    /// When a person acknowledged it, if they did.
    #[serde(default)]
    pub acknowledged_at_ms: Option<i64>,
    /// When it was escalated, if it was.
    #[serde(default)]
    pub escalated_at_ms: Option<i64>,
    /// Since when its signals say healthy, if they do.
    #[serde(default)]
    pub healthy_since_ms: Option<i64>,
    /// How many flaps within the flap window.
    #[serde(default)]
    pub flap_count: u32,
    /// When it last flapped.
    #[serde(default)]
    pub last_flap_at_ms: Option<i64>,
    /// Whether it is marked flapping.
    #[serde(default)]
    pub flapping: bool,
}

/// An alert resolved lately, so a re-open can be recognised as a flap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecentlyResolved {
    /// The resolved alert's key.
    pub dedupe_key: String,
    /// When it was resolved, in Unix milliseconds.
    pub resolved_at_ms: i64,
    /// Its flap count when it was resolved.
    #[serde(default)]
    pub flap_count: u32,
}

/// The timing rules. Every field has a default, so a partial object in JSON
/// overrides only what it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReconcileConfig {
    /// Healthy this long resolves an alert. Default 300,000 ms (five
    /// minutes).
    pub resolve_after_healthy_ms: i64,
    /// Healthy this long resolves a flapping alert. Default 1,800,000 ms
    /// (thirty minutes).
    pub flapping_resolve_after_healthy_ms: i64,
    /// Flaps further apart than this are not counted together. Default
    /// 3,600,000 ms (an hour).
    pub flap_window_ms: i64,
    /// This many flaps within the window mark an alert flapping. Default 3.
    pub flap_threshold: u32,
    /// An alert unacknowledged this long after opening is escalated.
    /// Default 1,800,000 ms (thirty minutes).
    pub escalate_after_ms: i64,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        Self {
            resolve_after_healthy_ms: 300_000,
            flapping_resolve_after_healthy_ms: 1_800_000,
            flap_window_ms: 3_600_000,
            flap_threshold: 3,
            escalate_after_ms: 1_800_000,
        }
    }
}

/// Everything [`reconcile`] looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileInput {
    /// This evaluation's signals.
    pub signals: Vec<Signal>,
    /// The alerts that are open or acknowledged.
    #[serde(default)]
    pub open_alerts: Vec<OpenAlert>,
    /// Alerts resolved within the flap window (older ones are ignored).
    #[serde(default)]
    pub recently_resolved: Vec<RecentlyResolved>,
    /// The current time, in Unix milliseconds.
    pub now_ms: i64,
    /// The timing rules; the defaults if left out.
    #[serde(default)]
    pub config: ReconcileConfig,
}

/// Why an alert is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolveReason {
    /// It was healthy for long enough.
    Healthy,
    /// Another open alert has the same key; this one is closed to restore
    /// the one-per-key invariant.
    Duplicate,
}

/// One change to the `alerts` table. In JSON, an object tagged by `change`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case", deny_unknown_fields)]
pub enum AlertChange {
    /// Insert a new open alert.
    Open {
        /// Its key.
        dedupe_key: String,
        /// What kind of problem.
        kind: String,
        /// How bad it is.
        severity: Severity,
        /// What it is about.
        subject: String,
        /// A phrase for people.
        detail: String,
        /// Its flap count (above 0 when it re-opens soon after a resolve).
        flap_count: u32,
        /// When it last flapped, if it did.
        last_flap_at_ms: Option<i64>,
        /// Whether it opens already marked flapping.
        flapping: bool,
    },
    /// The problem changed: set the kind, severity and detail.
    Update {
        /// The alert's id.
        alert_id: String,
        /// Its key.
        dedupe_key: String,
        /// The new kind.
        kind: String,
        /// The new severity.
        severity: Severity,
        /// The kind before.
        previous_kind: String,
        /// The severity before.
        previous_severity: Severity,
        /// What it is about.
        subject: String,
        /// The new detail.
        detail: String,
    },
    /// The alert's signals turned healthy: set `healthy_since_ms`.
    Recovering {
        /// The alert's id.
        alert_id: String,
        /// Its key.
        dedupe_key: String,
        /// Since when it is healthy.
        healthy_since_ms: i64,
    },
    /// The problem returned during a healthy spell: clear
    /// `healthy_since_ms` and set the flap fields.
    Relapsed {
        /// The alert's id.
        alert_id: String,
        /// Its key.
        dedupe_key: String,
        /// What kind of problem.
        kind: String,
        /// How bad it is.
        severity: Severity,
        /// What it is about.
        subject: String,
        /// A phrase for people.
        detail: String,
        /// The new flap count.
        flap_count: u32,
        /// When it flapped: now.
        last_flap_at_ms: i64,
        /// Whether it is now marked flapping.
        flapping: bool,
        /// Whether this flap is the one that marked it flapping (which is
        /// notified).
        became_flapping: bool,
    },
    /// Nobody acknowledged the alert in time: set `escalated_at_ms` and
    /// notify again.
    Escalate {
        /// The alert's id.
        alert_id: String,
        /// Its key.
        dedupe_key: String,
        /// What kind of problem.
        kind: String,
        /// How bad it is.
        severity: Severity,
        /// What it is about.
        subject: String,
        /// A phrase for people.
        detail: String,
        /// When it opened.
        opened_at_ms: i64,
        /// When it is escalated: now.
        escalated_at_ms: i64,
    },
    /// Close the alert.
    Resolve {
        /// The alert's id.
        alert_id: String,
        /// Its key.
        dedupe_key: String,
        /// What kind of problem it was.
        kind: String,
        /// How bad it was.
        severity: Severity,
        /// What it was about.
        subject: String,
        /// Why it is closed.
        reason: ResolveReason,
        /// Since when it was healthy, for a resolution by health.
        healthy_since_ms: Option<i64>,
    },
}

impl AlertChange {
    /// Returns the dedupe key the change is about.
    pub fn dedupe_key(&self) -> &str {
        match self {
            AlertChange::Open { dedupe_key, .. }
            | AlertChange::Update { dedupe_key, .. }
            | AlertChange::Recovering { dedupe_key, .. }
            | AlertChange::Relapsed { dedupe_key, .. }
            | AlertChange::Escalate { dedupe_key, .. }
            | AlertChange::Resolve { dedupe_key, .. } => dedupe_key,
        }
    }
}

/// Merges the signals by key: unhealthy beats healthy, then higher
/// severity, then later. Returns the winners and the keys in order of
/// first appearance.
fn merge_signals(signals: &[Signal]) -> (BTreeMap<&str, &Signal>, Vec<&str>) {
    let mut by_key: BTreeMap<&str, &Signal> = BTreeMap::new();
    let mut order = Vec::new();
    for signal in signals {
        match by_key.get(signal.dedupe_key.as_str()) {
            None => {
                order.push(signal.dedupe_key.as_str());
                by_key.insert(&signal.dedupe_key, signal);
            }
            Some(kept) => {
                let replaces = (!signal.healthy, signal.severity) >= (!kept.healthy, kept.severity);
                if replaces {
                    by_key.insert(&signal.dedupe_key, signal);
                }
            }
        }
    }
    (by_key, order)
}

/// The flap count after a flap at `now_ms`, given the previous count and
/// when the previous flap was.
fn next_flap_count(
    previous_count: u32,
    previous_flap_at_ms: Option<i64>,
    now_ms: i64,
    config: &ReconcileConfig,
) -> u32 {
    match previous_flap_at_ms {
        Some(at) if now_ms.saturating_sub(at) <= config.flap_window_ms => {
            previous_count.saturating_add(1)
        }
        _ => 1,
    }
}

/// Returns the changes that bring the open alerts in line with the signals
/// at `input.now_ms`; see the rules in the module documentation.
pub fn reconcile(input: &ReconcileInput) -> Vec<AlertChange> {
    let now_ms = input.now_ms;
    let config = &input.config;
    let (signals, signal_order) = merge_signals(&input.signals);

    // The alert kept for each key: the oldest, then the first in input.
    let mut kept_index: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, alert) in input.open_alerts.iter().enumerate() {
        let entry = kept_index.entry(alert.dedupe_key.as_str()).or_insert(index);
        if alert.opened_at_ms < input.open_alerts[*entry].opened_at_ms {
            *entry = index;
        }
    }

    let mut changes = Vec::new();
    for (index, alert) in input.open_alerts.iter().enumerate() {
        if kept_index.get(alert.dedupe_key.as_str()) != Some(&index) {
            changes.push(AlertChange::Resolve {
                alert_id: alert.id.clone(),
                dedupe_key: alert.dedupe_key.clone(),
                kind: alert.kind.clone(),
                severity: alert.severity,
                subject: alert.subject.clone(),
                reason: ResolveReason::Duplicate,
                healthy_since_ms: None,
            });
            continue;
        }
        let signal = signals.get(alert.dedupe_key.as_str()).copied();
        let mut recovering = alert.healthy_since_ms.is_some();
        match signal {
            Some(signal) if !signal.healthy => {
                if alert.healthy_since_ms.is_some() {
                    recovering = false;
                    let flap_count =
                        next_flap_count(alert.flap_count, alert.last_flap_at_ms, now_ms, config);
                    let flapping = alert.flapping || flap_count >= config.flap_threshold.max(1);
                    changes.push(AlertChange::Relapsed {
                        alert_id: alert.id.clone(),
                        dedupe_key: alert.dedupe_key.clone(),
                        kind: signal.kind.clone(),
                        severity: signal.severity,
                        subject: alert.subject.clone(),
                        detail: signal.detail.clone(),
                        flap_count,
                        last_flap_at_ms: now_ms,
                        flapping,
                        became_flapping: flapping && !alert.flapping,
                    });
                }
                if signal.kind != alert.kind
                    || signal.severity != alert.severity
                    || signal.detail != alert.detail
                {
                    changes.push(AlertChange::Update {
                        alert_id: alert.id.clone(),
                        dedupe_key: alert.dedupe_key.clone(),
                        kind: signal.kind.clone(),
                        severity: signal.severity,
                        previous_kind: alert.kind.clone(),
                        previous_severity: alert.severity,
                        subject: alert.subject.clone(),
                        detail: signal.detail.clone(),
                    });
                }
            }
            Some(_healthy) => match alert.healthy_since_ms {
                None => {
                    recovering = true;
                    changes.push(AlertChange::Recovering {
                        alert_id: alert.id.clone(),
                        dedupe_key: alert.dedupe_key.clone(),
                        healthy_since_ms: now_ms,
                    });
                }
                Some(healthy_since_ms) => {
                    let needed_ms = if alert.flapping {
                        config.flapping_resolve_after_healthy_ms
                    } else {
                        config.resolve_after_healthy_ms
                    };
                    if now_ms.saturating_sub(healthy_since_ms) >= needed_ms {
                        changes.push(AlertChange::Resolve {
                            alert_id: alert.id.clone(),
                            dedupe_key: alert.dedupe_key.clone(),
                            kind: alert.kind.clone(),
                            severity: alert.severity,
                            subject: alert.subject.clone(),
                            reason: ResolveReason::Healthy,
                            healthy_since_ms: Some(healthy_since_ms),
                        });
                        continue;
                    }
                }
            },
            None => {}
        }
        let unacknowledged_for_ms = now_ms.saturating_sub(alert.opened_at_ms);
        if alert.status == AlertStatus::Open
            && alert.escalated_at_ms.is_none()
            && !recovering
            && unacknowledged_for_ms >= config.escalate_after_ms
        {
            let (kind, severity, detail) = match signal {
                Some(signal) if !signal.healthy => {
                    (signal.kind.clone(), signal.severity, signal.detail.clone())
                }
                _ => (alert.kind.clone(), alert.severity, alert.detail.clone()),
            };
            changes.push(AlertChange::Escalate {
                alert_id: alert.id.clone(),
                dedupe_key: alert.dedupe_key.clone(),
                kind,
                severity,
                subject: alert.subject.clone(),
                detail,
                opened_at_ms: alert.opened_at_ms,
                escalated_at_ms: now_ms,
            });
        }
    }

    let recently_resolved: BTreeMap<&str, &RecentlyResolved> = input
        .recently_resolved
        .iter()
        .filter(|resolved| now_ms.saturating_sub(resolved.resolved_at_ms) <= config.flap_window_ms)
        .map(|resolved| (resolved.dedupe_key.as_str(), resolved))
        .collect();
    for key in signal_order {
        let Some(signal) = signals.get(key) else {
            continue;
        };
        if signal.healthy || kept_index.contains_key(key) {
            continue;
        }
        let (flap_count, last_flap_at_ms) = match recently_resolved.get(key) {
            Some(resolved) => (resolved.flap_count.saturating_add(1), Some(now_ms)),
            None => (0, None),
        };
        changes.push(AlertChange::Open {
            dedupe_key: signal.dedupe_key.clone(),
            kind: signal.kind.clone(),
            severity: signal.severity,
            subject: signal.subject.clone(),
            detail: signal.detail.clone(),
            flap_count,
            last_flap_at_ms,
            flapping: flap_count >= config.flap_threshold.max(1),
        });
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn signal(key: &str, healthy: bool, severity: Severity) -> Signal {
        Signal {
            dedupe_key: key.into(),
            kind: "disconnected".into(),
            severity,
            subject: "n1".into(),
            healthy,
            detail: String::new(),
        }
    }

    fn alert(id: &str, key: &str, opened_at_ms: i64) -> OpenAlert {
        OpenAlert {
            id: id.into(),
            dedupe_key: key.into(),
            kind: "disconnected".into(),
            severity: Severity::Critical,
            subject: "n1".into(),
            detail: String::new(),
            status: AlertStatus::Open,
            opened_at_ms,
            acknowledged_at_ms: None,
            escalated_at_ms: None,
            healthy_since_ms: None,
            flap_count: 0,
            last_flap_at_ms: None,
            flapping: false,
        }
    }

    fn run(signals: Vec<Signal>, open_alerts: Vec<OpenAlert>, now_ms: i64) -> Vec<AlertChange> {
        reconcile(&ReconcileInput {
            signals,
            open_alerts,
            recently_resolved: Vec::new(),
            now_ms,
            config: ReconcileConfig::default(),
        })
    }

    #[test]
    fn an_unhealthy_signal_opens_once_and_then_leaves_the_alert_alone() {
        let changes = run(
            vec![signal("k", false, Severity::Critical)],
            Vec::new(),
            NOW,
        );
        assert!(
            matches!(&changes[..], [AlertChange::Open { dedupe_key, .. }] if dedupe_key == "k")
        );
        let again = run(
            vec![signal("k", false, Severity::Critical)],
            vec![alert("a1", "k", NOW)],
            NOW + 60_000,
        );
        assert_eq!(again, Vec::new());
    }

    #[test]
    fn a_severity_change_is_an_update() {
        let changes = run(
            vec![signal("k", false, Severity::Warning)],
            vec![alert("a1", "k", NOW)],
            NOW + 60_000,
        );
        assert!(matches!(
            &changes[..],
            [AlertChange::Update {
                severity: Severity::Warning,
                previous_severity: Severity::Critical,
                ..
            }]
        ));
    }

    #[test]
    fn health_resolves_only_after_the_period() {
        let mut open = alert("a1", "k", NOW);
        let first = run(
            vec![signal("k", true, Severity::Info)],
            vec![open.clone()],
            NOW + 60_000,
        );
        assert!(
            matches!(&first[..], [AlertChange::Recovering { healthy_since_ms, .. }] if *healthy_since_ms == NOW + 60_000)
        );
        open.healthy_since_ms = Some(NOW + 60_000);
        assert_eq!(
            run(
                vec![signal("k", true, Severity::Info)],
                vec![open.clone()],
                NOW + 359_999
            ),
            Vec::new()
        );
        let resolved = run(
            vec![signal("k", true, Severity::Info)],
            vec![open],
            NOW + 360_000,
        );
        assert!(matches!(
            &resolved[..],
            [AlertChange::Resolve {
                reason: ResolveReason::Healthy,
                ..
            }]
        ));
    }

    #[test]
    fn repeated_relapses_mark_the_alert_flapping_once() {
        let mut open = alert("a1", "k", NOW);
        for flap in 1..=4_u32 {
            let at = NOW + i64::from(flap) * 120_000;
            open.healthy_since_ms = Some(at - 60_000);
            let changes = run(
                vec![signal("k", false, Severity::Critical)],
                vec![open.clone()],
                at,
            );
            let [AlertChange::Relapsed {
                flap_count,
                flapping,
                became_flapping,
                ..
            }] = &changes[..]
            else {
                panic!("{changes:?}");
            };
            assert_eq!(*flap_count, flap);
            assert_eq!((*flapping, *became_flapping), (flap >= 3, flap == 3));
            open.healthy_since_ms = None;
            open.flap_count = *flap_count;
            open.last_flap_at_ms = Some(at);
            open.flapping = *flapping;
        }
        // A flapping alert needs thirty minutes of health to resolve.
        open.healthy_since_ms = Some(NOW);
        assert_eq!(
            run(
                vec![signal("k", true, Severity::Info)],
                vec![open.clone()],
                NOW + 600_000
            ),
            Vec::new()
        );
    }

    #[test]
    fn a_reopen_soon_after_a_resolve_counts_as_a_flap() {
        let changes = reconcile(&ReconcileInput {
            signals: vec![signal("k", false, Severity::Critical)],
            open_alerts: Vec::new(),
            recently_resolved: vec![RecentlyResolved {
                dedupe_key: "k".into(),
                resolved_at_ms: NOW - 60_000,
                flap_count: 2,
            }],
            now_ms: NOW,
            config: ReconcileConfig::default(),
        });
        assert!(matches!(
            &changes[..],
            [AlertChange::Open {
                flap_count: 3,
                flapping: true,
                ..
            }]
        ));
    }

    #[test]
    fn unacknowledged_alerts_escalate_once_and_acknowledged_ones_never() {
        let open = alert("a1", "k", NOW);
        assert_eq!(
            run(Vec::new(), vec![open.clone()], NOW + 1_799_999),
            Vec::new()
        );
        let changes = run(Vec::new(), vec![open.clone()], NOW + 1_800_000);
        assert!(
            matches!(&changes[..], [AlertChange::Escalate { escalated_at_ms, .. }] if *escalated_at_ms == NOW + 1_800_000)
        );
        let mut escalated = open.clone();
        escalated.escalated_at_ms = Some(NOW + 1_800_000);
        assert_eq!(
            run(Vec::new(), vec![escalated], NOW + 3_600_000),
            Vec::new()
        );
        let mut acknowledged = open;
        acknowledged.status = AlertStatus::Acknowledged;
        assert_eq!(
            run(Vec::new(), vec![acknowledged], NOW + 3_600_000),
            Vec::new()
        );
    }

    #[test]
    fn duplicate_open_alerts_are_closed_down_to_the_oldest() {
        let changes = run(
            vec![signal("k", false, Severity::Critical)],
            vec![alert("newer", "k", NOW + 5), alert("older", "k", NOW)],
            NOW + 10,
        );
        assert_eq!(changes.len(), 1);
        assert!(matches!(
            &changes[0],
            AlertChange::Resolve { alert_id, reason: ResolveReason::Duplicate, .. } if alert_id == "newer"
        ));
    }

    #[test]
    fn an_unhealthy_signal_beats_a_healthy_one_for_the_same_key() {
        let changes = run(
            vec![
                signal("k", false, Severity::Warning),
                signal("k", true, Severity::Info),
                signal("k", false, Severity::Critical),
            ],
            Vec::new(),
            NOW,
        );
        assert!(matches!(
            &changes[..],
            [AlertChange::Open {
                severity: Severity::Critical,
                ..
            }]
        ));
    }
}
