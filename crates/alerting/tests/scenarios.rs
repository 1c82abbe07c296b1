//! The shared alerting scenarios: `fixtures/scenarios.json`.
//!
//! The file is an array of `{"name", "steps": [{"call", "input", "expect"}]}`
//! where `call` is `reconcile` or `plan` and `expect` is the exact JSON
//! output. The lead's Node and Deno tests run the same file through the
//! Wasm boundary.
//!
//! `the_committed_scenarios_are_current` rebuilds the scenarios over
//! simulated time: each reconcile sees the alerts table as the previous
//! changes left it (see `support::AlertTable`), each plan the digest state
//! the previous plan returned, and every step's meaning is asserted. If the
//! file differs from the rebuild it is rewritten and the test fails, so a
//! behaviour change shows up as a fixture diff to review and commit.
//! `every_step_matches_through_call_json` replays the committed file.

// Tests may unwrap: a panic is the failure report (clippy.toml allows it in
// #[test] functions; this covers their helpers too).
#![allow(clippy::unwrap_used)]

mod support;

use alerting::AlertChange;
use serde_json::{json, Value};
use support::AlertTable;

const FIXTURE_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/scenarios.json");

/// The simulated clock's start: 2027-01-15T08:00:00Z.
const T0: i64 = 1_800_000_000_000;
const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;

struct Scenario {
    name: &'static str,
    steps: Vec<Value>,
    table: AlertTable,
    digest: Value,
}

impl Scenario {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            steps: Vec::new(),
            table: AlertTable::default(),
            digest: json!({}),
        }
    }

    fn step(&mut self, call: &str, input: Value) -> Value {
        let output = alerting::call_json(call, input.clone())
            .unwrap_or_else(|error| panic!("{}: step {}: {error}", self.name, self.steps.len()));
        self.steps
            .push(json!({"call": call, "input": input, "expect": output.clone()}));
        output
    }

    /// Reconciles `signals` against the simulated table at `now_ms`,
    /// applies the changes, and returns them.
    fn reconcile(&mut self, signals: Value, now_ms: i64, config: Option<Value>) -> Value {
        let mut input = json!({
            "signals": signals,
            "open_alerts": self.table.open,
            "recently_resolved": self.table.resolved,
            "now_ms": now_ms,
        });
        if let Some(config) = config {
            input["config"] = config;
        }
        let changes = self.step("reconcile", input);
        let typed: Vec<AlertChange> = serde_json::from_value(changes.clone()).unwrap();
        self.table.apply(&typed, now_ms);
        changes
    }

    /// Plans notifications for `changes` at `now_ms` with the scenario's
    /// digest state, keeps the new state, and returns the plan.
    fn plan(
        &mut self,
        changes: &Value,
        channels: &Value,
        now_ms: i64,
        config: Option<Value>,
    ) -> Value {
        let mut input = json!({
            "changes": changes,
            "channels": channels,
            "state": self.digest,
            "now_ms": now_ms,
        });
        if let Some(config) = config {
            input["config"] = config;
        }
        let plan = self.step("plan", input);
        self.digest = plan["state"].clone();
        plan
    }

    fn into_json(self) -> Value {
        json!({"name": self.name, "steps": self.steps})
    }
}

fn signal(key: &str, kind: &str, severity: &str, healthy: bool, detail: &str) -> Value {
    let subject = key.split(':').nth(1).unwrap_or(key);
    json!({"dedupe_key": key, "kind": kind, "severity": severity, "subject": subject, "healthy": healthy, "detail": detail})
}

fn channel_ids(plan: &Value) -> Vec<String> {
    plan["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|notification| notification["channel_id"].as_str().unwrap().to_string())
        .collect()
}

fn change_names(changes: &Value) -> Vec<String> {
    changes
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["change"].as_str().unwrap().to_string())
        .collect()
}

fn standard_channels() -> Value {
    json!([
        {"id": "pager", "kind": "whatsapp", "min_severity": "critical"},
        {"id": "ops-slack", "kind": "slack", "min_severity": "warning"},
        {"id": "audit-hook", "kind": "webhook", "min_severity": "info"},
        {"id": "old-mailbox", "kind": "email", "min_severity": "info", "enabled": false},
    ])
}

fn a_burst_becomes_one_digest_per_channel() -> Scenario {
    let mut scenario = Scenario::new("a burst of 100 disconnects becomes one message per channel");
    let channels = standard_channels();
    let signals: Vec<Value> = (0..100)
        .map(|index| {
            signal(
                &format!("number:n{index:03}:session"),
                "disconnected",
                "critical",
                false,
                "disconnected for 180 s (limit 120 s)",
            )
        })
        .collect();
    let opened = scenario.reconcile(json!(signals), T0, None);
    assert_eq!(change_names(&opened), vec!["open"; 100]);
    let plan = scenario.plan(&opened, &channels, T0, None);
    assert_eq!(channel_ids(&plan), vec!["pager", "ops-slack", "audit-hook"]);
    for notification in plan["notifications"].as_array().unwrap() {
        assert_eq!(notification["dedupe_keys"].as_array().unwrap().len(), 100);
    }
    let slack = &plan["notifications"][1]["payload"];
    assert_eq!(slack["format"], "slack");
    assert_eq!(
        slack["message"]["text"],
        "[critical] 100 alert changes (100 opened)"
    );
    let webhook = &plan["notifications"][2]["payload"];
    assert_eq!(
        webhook["signing_input"].as_str().unwrap(),
        format!(
            "{}.{}",
            webhook["timestamp"].as_str().unwrap(),
            webhook["body"].as_str().unwrap()
        )
    );
    assert_eq!(plan["next_flush_at_ms"], Value::Null);

    // Two numbers come back; the rest stay down. Recovering is bookkeeping.
    let mut later_signals = signals.clone();
    later_signals[3] = signal("number:n003:session", "disconnected", "info", true, "");
    later_signals[7] = signal("number:n007:session", "disconnected", "info", true, "");
    let recovering = scenario.reconcile(json!(later_signals), T0 + MINUTE, None);
    assert_eq!(change_names(&recovering), vec!["recovering"; 2]);
    let quiet = scenario.plan(&recovering, &channels, T0 + MINUTE, None);
    assert_eq!(quiet["notifications"], json!([]));

    // Five healthy minutes later both resolve: one message per channel.
    let resolved = scenario.reconcile(json!(later_signals), T0 + 6 * MINUTE, None);
    assert_eq!(change_names(&resolved), vec!["resolve"; 2]);
    let plan = scenario.plan(&resolved, &channels, T0 + 6 * MINUTE, None);
    assert_eq!(channel_ids(&plan), vec!["pager", "ops-slack", "audit-hook"]);
    assert_eq!(
        plan["notifications"][0]["payload"]["subject"],
        "[critical] 2 alert changes (2 resolved)"
    );
    scenario
}

fn flapping_is_kept_open() -> Scenario {
    let mut scenario =
        Scenario::new("a flapping alert is kept open and marked, not stormed open and resolved");
    let channels = json!([{"id": "ops-slack", "kind": "slack", "min_severity": "warning"}]);
    let key = "number:n-flaky:session";
    let down = json!([signal(
        key,
        "disconnected",
        "critical",
        false,
        "disconnected for 130 s (limit 120 s)"
    )]);
    let up = json!([signal(key, "disconnected", "info", true, "")]);
    let mut notified = Vec::new();
    let mut now_ms = T0;
    let mut expected_changes: Vec<Vec<&str>> = vec![vec!["open"]];
    for _ in 0..3 {
        expected_changes.push(vec!["recovering"]);
        expected_changes.push(vec!["relapsed"]);
    }
    for (round, expected) in expected_changes.iter().enumerate() {
        let signals = if round % 2 == 0 { &down } else { &up };
        let changes = scenario.reconcile(signals.clone(), now_ms, None);
        assert_eq!(&change_names(&changes), expected, "round {round}");
        let plan = scenario.plan(&changes, &channels, now_ms, None);
        if !plan["notifications"].as_array().unwrap().is_empty() {
            notified.push((
                round,
                plan["notifications"][0]["payload"]["message"]["text"].clone(),
            ));
        }
        now_ms += 2 * MINUTE;
    }
    assert_eq!(
        notified,
        vec![
            (0, json!("[critical] opened: disconnected on n-flaky")),
            (6, json!("[critical] flapping: disconnected on n-flaky")),
        ]
    );
    assert!(scenario.table.open[0].flapping);

    // Healthy again: ten minutes is not enough for a flapping alert.
    let recovering = scenario.reconcile(up.clone(), now_ms, None);
    assert_eq!(change_names(&recovering), vec!["recovering"]);
    let still_open = scenario.reconcile(up.clone(), now_ms + 10 * MINUTE, None);
    assert_eq!(still_open, json!([]));
    let resolved = scenario.reconcile(up.clone(), now_ms + 30 * MINUTE, None);
    assert_eq!(change_names(&resolved), vec!["resolve"]);
    let plan = scenario.plan(&resolved, &channels, now_ms + 30 * MINUTE, None);
    assert_eq!(
        plan["notifications"][0]["payload"]["message"]["text"],
        "[critical] resolved: disconnected on n-flaky"
    );

    // A re-open soon after is a flap too, and opens already flapping.
    let reopened = scenario.reconcile(down, now_ms + 35 * MINUTE, None);
    assert_eq!(reopened[0]["flapping"], true);
    assert_eq!(reopened[0]["flap_count"], 4);
    scenario
}

fn unacknowledged_alerts_escalate_after_thirty_minutes() -> Scenario {
    let mut scenario = Scenario::new(
        "an alert left unacknowledged for 30 minutes is escalated and notified again",
    );
    let channels = standard_channels();
    let ignored = "number:n-ignored:session";
    let owned = "number:n-owned:session";
    let signals = json!([
        signal(
            ignored,
            "stale_heartbeat",
            "warning",
            false,
            "connected but no sign of life for 95 s (limit 60 s)"
        ),
        signal(
            owned,
            "zombie",
            "critical",
            false,
            "claims connected but 3 sends failed within 300 s and no inbound for 1000 s"
        ),
    ]);
    let opened = scenario.reconcile(signals.clone(), T0, None);
    assert_eq!(change_names(&opened), vec!["open", "open"]);
    let plan = scenario.plan(&opened, &channels, T0, None);
    assert_eq!(channel_ids(&plan), vec!["pager", "ops-slack", "audit-hook"]);
    assert_eq!(plan["notifications"][0]["dedupe_keys"], json!([owned]));

    scenario.table.acknowledge(owned, T0 + 10 * MINUTE);
    let not_yet = scenario.reconcile(signals.clone(), T0 + 30 * MINUTE - SECOND, None);
    assert_eq!(not_yet, json!([]));
    let escalated = scenario.reconcile(signals.clone(), T0 + 30 * MINUTE, None);
    assert_eq!(change_names(&escalated), vec!["escalate"]);
    assert_eq!(escalated[0]["dedupe_key"], ignored);
    let plan = scenario.plan(&escalated, &channels, T0 + 30 * MINUTE, None);
    assert_eq!(channel_ids(&plan), vec!["ops-slack", "audit-hook"]);
    assert_eq!(
        plan["notifications"][0]["payload"]["message"]["text"],
        "[warning] escalated: stale_heartbeat on n-ignored"
    );
    let once = scenario.reconcile(signals, T0 + 60 * MINUTE, None);
    assert_eq!(once, json!([]));
    scenario
}

fn health_resolves_after_a_quiet_period_within_the_window_rules() -> Scenario {
    let mut scenario = Scenario::new(
        "auto-resolve after a period of health; a resolve inside the window waits for it",
    );
    let channels = json!([{"id": "pager", "kind": "whatsapp", "min_severity": "info"}]);
    let key = "runtime:daemon-a:status";
    let config = json!({"resolve_after_healthy_ms": 60_000});
    let down = json!([signal(
        key,
        "runtime_unreachable",
        "critical",
        false,
        "no answer from /status: timed out after 5000 ms"
    )]);
    let up = json!([signal(key, "runtime_unreachable", "info", true, "")]);
    let opened = scenario.reconcile(down, T0, Some(config.clone()));
    let plan = scenario.plan(&opened, &channels, T0, None);
    assert_eq!(
        plan["notifications"][0]["payload"]["text"],
        "wabot alert\n[critical] opened: runtime_unreachable on daemon-a - no answer from /status: timed out after 5000 ms\nkey: runtime:daemon-a:status"
    );
    let recovering = scenario.reconcile(up.clone(), T0 + 10 * SECOND, Some(config.clone()));
    assert_eq!(change_names(&recovering), vec!["recovering"]);
    let early = scenario.reconcile(up.clone(), T0 + 69 * SECOND, Some(config.clone()));
    assert_eq!(early, json!([]));
    let resolved = scenario.reconcile(up, T0 + 70 * SECOND, Some(config));
    assert_eq!(change_names(&resolved), vec!["resolve"]);
    let held = scenario.plan(&resolved, &channels, T0 + 70 * SECOND, None);
    assert_eq!(held["notifications"], json!([]));
    assert_eq!(held["next_flush_at_ms"], T0 + 2 * MINUTE);
    let early_flush = scenario.plan(&json!([]), &channels, T0 + 2 * MINUTE - 1, None);
    assert_eq!(early_flush["notifications"], json!([]));
    let flushed = scenario.plan(&json!([]), &channels, T0 + 2 * MINUTE, None);
    assert_eq!(flushed["notifications"][0]["dedupe_keys"], json!([key]));
    assert_eq!(flushed["next_flush_at_ms"], Value::Null);
    scenario
}

fn severity_changes_update_and_only_rises_notify() -> Scenario {
    let mut scenario = Scenario::new(
        "a change of severity or kind updates the alert; only a rise or a new kind is notified",
    );
    let channels = json!([{"id": "audit-hook", "kind": "webhook", "min_severity": "info"}]);
    let key = "number:n-worse:session";
    let mut now_ms = T0;
    let steps = [
        (
            signal(
                key,
                "stale_heartbeat",
                "warning",
                false,
                "connected but no sign of life for 70 s (limit 60 s)",
            ),
            "open",
            true,
        ),
        (
            signal(
                key,
                "stale_heartbeat",
                "warning",
                false,
                "connected but no sign of life for 190 s (limit 60 s)",
            ),
            "update",
            false,
        ),
        (
            signal(
                key,
                "disconnected",
                "critical",
                false,
                "disconnected for 130 s (limit 120 s)",
            ),
            "update",
            true,
        ),
        (
            signal(
                key,
                "disconnected",
                "warning",
                false,
                "disconnected for 130 s (limit 120 s)",
            ),
            "update",
            false,
        ),
        (
            signal(
                key,
                "logged_out",
                "critical",
                false,
                "logged out; the number must be paired again",
            ),
            "update",
            true,
        ),
    ];
    for (signal, expected_change, notified) in steps {
        let changes = scenario.reconcile(json!([signal]), now_ms, None);
        assert_eq!(change_names(&changes), vec![expected_change]);
        let plan = scenario.plan(&changes, &channels, now_ms, None);
        assert_eq!(
            !plan["notifications"].as_array().unwrap().is_empty(),
            notified,
            "{expected_change} at {now_ms}"
        );
        now_ms += 3 * MINUTE;
    }
    scenario
}

fn duplicates_are_closed_and_filters_apply() -> Scenario {
    let mut scenario = Scenario::new(
        "duplicate open alerts close down to the oldest; channels filter by severity and kind",
    );
    for (id, opened_at_ms) in [("alert-new", T0 + SECOND), ("alert-old", T0)] {
        scenario.table.insert_raw(alerting::OpenAlert {
            id: id.into(),
            dedupe_key: "number:n-dup:session".into(),
            kind: "disconnected".into(),
            severity: alerting::Severity::Critical,
            subject: "n-dup".into(),
            detail: String::new(),
            status: alerting::AlertStatus::Open,
            opened_at_ms,
            acknowledged_at_ms: None,
            escalated_at_ms: None,
            healthy_since_ms: None,
            flap_count: 0,
            last_flap_at_ms: None,
            flapping: false,
        });
    }
    let changes = scenario.reconcile(
        json!([
            signal(
                "number:n-dup:session",
                "disconnected",
                "critical",
                false,
                ""
            ),
            signal(
                "number:n-banned:session",
                "banned",
                "critical",
                false,
                "banned by whatsapp"
            ),
            signal(
                "number:n-paired:session",
                "pairing_stalled",
                "warning",
                false,
                "waiting for pairing for 660 s (limit 600 s)"
            ),
            signal("number:n-fine:session", "disconnected", "info", true, ""),
        ]),
        T0 + MINUTE,
        None,
    );
    assert_eq!(change_names(&changes), vec!["resolve", "open", "open"]);
    assert_eq!(changes[0]["alert_id"], "alert-new");
    assert_eq!(changes[0]["reason"], "duplicate");
    let channels = json!([
        {"id": "bans-only", "kind": "webhook", "min_severity": "info", "kinds": ["banned"]},
        {"id": "critical-only", "kind": "whatsapp", "min_severity": "critical"},
        {"id": "everything", "kind": "email", "min_severity": "info"},
        {"id": "switched-off", "kind": "slack", "min_severity": "info", "enabled": false},
    ]);
    let plan = scenario.plan(
        &changes,
        &channels,
        T0 + MINUTE,
        Some(json!({"title": "Acme bots"})),
    );
    assert_eq!(
        channel_ids(&plan),
        vec!["bans-only", "critical-only", "everything"]
    );
    assert_eq!(
        plan["notifications"][0]["dedupe_keys"],
        json!(["number:n-banned:session"])
    );
    assert_eq!(
        plan["notifications"][1]["dedupe_keys"],
        json!(["number:n-banned:session"])
    );
    assert_eq!(
        plan["notifications"][2]["dedupe_keys"],
        json!(["number:n-banned:session", "number:n-paired:session"])
    );
    scenario
}

fn build_scenarios() -> Value {
    Value::Array(
        [
            a_burst_becomes_one_digest_per_channel(),
            flapping_is_kept_open(),
            unacknowledged_alerts_escalate_after_thirty_minutes(),
            health_resolves_after_a_quiet_period_within_the_window_rules(),
            severity_changes_update_and_only_rises_notify(),
            duplicates_are_closed_and_filters_apply(),
        ]
        .into_iter()
        .map(Scenario::into_json)
        .collect(),
    )
}

#[test]
fn the_committed_scenarios_are_current() {
    let built = build_scenarios();
    let committed: Option<Value> = std::fs::read_to_string(FIXTURE_PATH)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    if committed.as_ref() != Some(&built) {
        let text = serde_json::to_string_pretty(&built).unwrap() + "\n";
        std::fs::write(FIXTURE_PATH, text).unwrap();
        panic!("{FIXTURE_PATH} was stale and has been rewritten; review the diff and commit it");
    }
}

#[test]
fn every_step_matches_through_call_json() {
    let text = std::fs::read_to_string(FIXTURE_PATH).unwrap();
    let scenarios: Value = serde_json::from_str(&text).unwrap();
    let mut n_steps = 0;
    for scenario in scenarios.as_array().unwrap() {
        let name = scenario["name"].as_str().unwrap();
        for (index, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
            let call = step["call"].as_str().unwrap();
            assert!(
                alerting::CALL_NAMES.contains(&call),
                "{name}: step {index}: unknown call {call}"
            );
            let output = alerting::call_json(call, step["input"].clone())
                .unwrap_or_else(|error| panic!("{name}: step {index}: {error}"));
            assert_eq!(output, step["expect"], "{name}: step {index} ({call})");
            n_steps += 1;
        }
    }
    assert!(n_steps > 30, "only {n_steps} steps");
}
