//! The shared health scenarios: `fixtures/scenarios.json`.
//!
//! The file is an array of `{"name", "steps": [{"call", "input", "expect"}]}`
//! where `call` is one of [`health::CALL_NAMES`] and `expect` is the exact
//! JSON output. The lead's Node and Deno tests run the same file through the
//! Wasm boundary, so the three agree by construction.
//!
//! Two tests here:
//!
//! - `every_step_matches_through_call_json` replays the committed file.
//! - `the_committed_scenarios_are_current` rebuilds the scenarios from the
//!   builders below, which walk simulated time (each step's `now_ms` later
//!   than the last, each state taken from the previous output) and assert
//!   what each step must mean. If the file differs from the rebuild, the
//!   test rewrites it and fails, so a behaviour change shows up as a fixture
//!   diff to review and commit.

// Tests may unwrap: a panic is the failure report (clippy.toml allows it in
// #[test] functions; this covers their helpers too).
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};

const FIXTURE_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/scenarios.json");

/// The simulated clock's start: 2027-01-15T08:00:00Z.
const T0: i64 = 1_800_000_000_000;
const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;

struct Scenario {
    name: &'static str,
    steps: Vec<Value>,
}

impl Scenario {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            steps: Vec::new(),
        }
    }

    /// Runs one step, records it with its output, and returns the output.
    fn step(&mut self, call: &str, input: Value) -> Value {
        let output = health::call_json(call, input.clone())
            .unwrap_or_else(|error| panic!("{}: step {}: {error}", self.name, self.steps.len()));
        self.steps
            .push(json!({"call": call, "input": input, "expect": output.clone()}));
        output
    }

    fn into_json(self) -> Value {
        json!({"name": self.name, "steps": self.steps})
    }
}

fn transition(scenario: &mut Scenario, state: &Value, event: Value) -> Value {
    scenario.step("transition", json!({"state": state, "event": event}))
}

fn a_session_lives_through_pairing_drops_and_a_logout() -> Scenario {
    let mut scenario =
        Scenario::new("a session lives through pairing, drops, a rate limit and a logout");
    let mut state = json!("stopped");
    let events = [
        (json!({"kind": "start_requested"}), "starting"),
        (json!({"kind": "qr_shown"}), "pairing"),
        (json!({"kind": "qr_shown"}), "pairing"),
        (json!({"kind": "paired"}), "connecting"),
        (json!({"kind": "connected"}), "connected"),
        (json!({"kind": "heartbeat"}), "connected"),
        (
            json!({"kind": "disconnected", "reason": "connection_lost"}),
            "disconnected",
        ),
        (json!({"kind": "connecting"}), "connecting"),
        (json!({"kind": "connected"}), "connected"),
        (
            json!({"kind": "rate_limited", "until_ms": T0 + 10 * MINUTE}),
            "rate_limited",
        ),
        (json!({"kind": "heartbeat"}), "rate_limited"),
        (json!({"kind": "rate_limit_cleared"}), "connected"),
        (json!({"kind": "logged_out"}), "logged_out"),
        (
            json!({"kind": "disconnected", "reason": "closed"}),
            "logged_out",
        ),
        (json!({"kind": "start_requested"}), "starting"),
        (json!({"kind": "pair_code_shown"}), "pairing"),
        (json!({"kind": "stop_requested"}), "stopped"),
    ];
    for (event, expected_state) in events {
        let output = transition(&mut scenario, &state, event);
        assert_eq!(output["next_state"], expected_state);
        assert_eq!(output["anomaly"], Value::Null);
        state = output["next_state"].clone();
    }
    scenario
}

fn unexpected_events_are_reported_not_panicked_on() -> Scenario {
    let mut scenario = Scenario::new("unexpected events move the machine and are reported");
    let cases = [
        ("stopped", json!({"kind": "connected"}), "connected"),
        ("connected", json!({"kind": "qr_shown"}), "pairing"),
        ("banned", json!({"kind": "start_requested"}), "starting"),
        ("disconnected", json!({"kind": "heartbeat"}), "disconnected"),
        ("stopped", json!({"kind": "banned"}), "banned"),
        (
            "pairing",
            json!({"kind": "rate_limited", "until_ms": T0}),
            "rate_limited",
        ),
    ];
    for (state, event, expected_state) in cases {
        let output = transition(&mut scenario, &json!(state), event);
        assert_eq!(output["next_state"], expected_state);
        assert_eq!(output["anomaly"]["from"], state);
    }
    // Absorbed: no change, no anomaly.
    let absorbed = transition(
        &mut scenario,
        &json!("banned"),
        json!({"kind": "stop_requested"}),
    );
    assert_eq!(absorbed, json!({"next_state": "banned", "anomaly": null}));
    let absorbed = transition(
        &mut scenario,
        &json!("stopped"),
        json!({"kind": "disconnected", "reason": "stopped"}),
    );
    assert_eq!(absorbed, json!({"next_state": "stopped", "anomaly": null}));
    scenario
}

fn connected_snapshot(number_id: &str, now_ms: i64) -> Value {
    json!({
        "number_id": number_id,
        "state": "connected",
        "since_ms": now_ms - 60 * MINUTE,
        "last_heartbeat_ms": now_ms - 4 * SECOND,
        "last_inbound_ms": now_ms - 2 * MINUTE,
        "last_send_success_ms": now_ms - MINUTE,
    })
}

fn a_number_drops_is_alerted_backs_off_and_recovers() -> Scenario {
    let mut scenario =
        Scenario::new("a number drops, is alerted, backs off with jitter and recovers");
    let number = "7d0c2a4e-0000-4000-8000-000000000001";
    let key = format!("number:{number}:session");
    let healthy = scenario.step(
        "evaluate",
        json!({"snapshot": connected_snapshot(number, T0), "now_ms": T0}),
    );
    assert_eq!(healthy["condition"], "healthy");
    assert_eq!(
        healthy["actions"],
        json!([{"action": "resolve_alert", "dedupe_key": key}])
    );

    let dropped_at = T0 + 10 * SECOND;
    let disconnected = |now_ms: i64| {
        json!({
            "snapshot": {
                "number_id": number,
                "state": "disconnected",
                "since_ms": dropped_at,
                "last_heartbeat_ms": T0,
                "recent_events": [{"at_ms": dropped_at, "kind": "disconnected"}],
            },
            "now_ms": now_ms,
        })
    };
    let reconnecting = scenario.step("evaluate", disconnected(T0 + 40 * SECOND));
    assert_eq!(reconnecting["condition"], "reconnecting");
    assert_eq!(reconnecting["actions"], json!([]));

    let mut previous_attempts = 0;
    let mut now_ms = dropped_at;
    for expected_ceiling in [2_000, 4_000, 8_000] {
        let decision = scenario.step(
            "reconnect_delay",
            json!({"request": {
                "state": "disconnected",
                "previous_attempts": previous_attempts,
                "last_connected_for_ms": 20 * SECOND,
                "last_event": "disconnected",
                "seed": 4_242,
                "now_ms": now_ms,
            }}),
        );
        assert_eq!(decision["decision"], "retry");
        assert_eq!(decision["ceiling_ms"], expected_ceiling);
        let delay = decision["delay_ms"].as_i64().unwrap();
        assert!((0..=expected_ceiling).contains(&delay));
        previous_attempts = decision["attempt"].as_u64().unwrap();
        now_ms = decision["retry_at_ms"].as_i64().unwrap();
    }

    let down = scenario.step("evaluate", disconnected(dropped_at + 2 * MINUTE + SECOND));
    assert_eq!(down["condition"], "disconnected");
    assert_eq!(down["severity"], "critical");
    assert_eq!(
        down["actions"],
        json!([
            {"action": "restart_session"},
            {"action": "open_alert", "kind": "disconnected", "severity": "critical", "dedupe_key": key},
        ])
    );

    let back_at = dropped_at + 3 * MINUTE;
    let starting = scenario.step(
        "evaluate",
        json!({"snapshot": {"number_id": number, "state": "connecting", "since_ms": back_at}, "now_ms": back_at + 5 * SECOND}),
    );
    assert_eq!(starting["condition"], "starting");
    let recovered = scenario.step(
        "evaluate",
        json!({
            "snapshot": {
                "number_id": number,
                "state": "connected",
                "since_ms": back_at + 10 * SECOND,
                "recent_events": [
                    {"at_ms": dropped_at, "kind": "disconnected"},
                    {"at_ms": back_at, "kind": "connecting"},
                    {"at_ms": back_at + 10 * SECOND, "kind": "connected"},
                ],
            },
            "now_ms": back_at + 15 * SECOND,
        }),
    );
    assert_eq!(recovered["condition"], "healthy");
    scenario
}

fn a_silent_session_goes_stale_then_turns_zombie() -> Scenario {
    let mut scenario =
        Scenario::new("a connected session goes stale, then turns zombie as sends fail");
    let number = "n-zombie";
    let mut snapshot = connected_snapshot(number, T0);
    snapshot["last_heartbeat_ms"] = json!(T0);
    snapshot["last_inbound_ms"] = json!(T0 - 20 * MINUTE);
    snapshot["last_send_success_ms"] = json!(T0 - 5 * SECOND);
    let fresh = scenario.step(
        "evaluate",
        json!({"snapshot": snapshot, "now_ms": T0 + 30 * SECOND}),
    );
    assert_eq!(fresh["condition"], "healthy");
    let stale = scenario.step(
        "evaluate",
        json!({"snapshot": snapshot, "now_ms": T0 + 90 * SECOND}),
    );
    assert_eq!(stale["condition"], "stale_heartbeat");
    assert_eq!(stale["severity"], "warning");
    snapshot["recent_send_failures_ms"] = json!([T0 + 100 * SECOND, T0 + 110 * SECOND]);
    let two_failures = scenario.step(
        "evaluate",
        json!({"snapshot": snapshot, "now_ms": T0 + 2 * MINUTE}),
    );
    assert_eq!(two_failures["condition"], "stale_heartbeat");
    snapshot["recent_send_failures_ms"] =
        json!([T0 + 100 * SECOND, T0 + 110 * SECOND, T0 + 130 * SECOND]);
    let zombie = scenario.step(
        "evaluate",
        json!({"snapshot": snapshot, "now_ms": T0 + 140 * SECOND}),
    );
    assert_eq!(zombie["condition"], "zombie");
    assert_eq!(zombie["severity"], "critical");
    assert_eq!(zombie["actions"][0], json!({"action": "restart_session"}));
    scenario
}

fn a_flapping_number_is_not_restarted() -> Scenario {
    let mut scenario =
        Scenario::new("a number that keeps dropping is flapping, and is not restarted");
    let number = "n-flapping";
    let mut events = Vec::new();
    for flap in 0..5_i64 {
        let at_ms = T0 + flap * MINUTE;
        events.push(json!({"at_ms": at_ms, "kind": "disconnected"}));
        events.push(json!({"at_ms": at_ms + 5 * SECOND, "kind": "connected"}));
        let mut snapshot = connected_snapshot(number, at_ms + 10 * SECOND);
        snapshot["since_ms"] = json!(at_ms + 5 * SECOND);
        snapshot["recent_events"] = json!(events);
        let verdict = scenario.step(
            "evaluate",
            json!({"snapshot": snapshot, "now_ms": at_ms + 10 * SECOND}),
        );
        let expected = if flap < 4 { "healthy" } else { "flapping" };
        assert_eq!(verdict["condition"], expected, "flap {flap}");
        if flap == 4 {
            assert_eq!(
                verdict["actions"],
                json!([{"action": "open_alert", "kind": "flapping", "severity": "warning", "dedupe_key": "number:n-flapping:session"}])
            );
        }
    }
    // Ten minutes after the first drop, it falls out of the window.
    let mut snapshot = connected_snapshot(number, T0 + 10 * MINUTE + SECOND);
    snapshot["recent_events"] = json!(events);
    let calmer = scenario.step(
        "evaluate",
        json!({"snapshot": snapshot, "now_ms": T0 + 10 * MINUTE + SECOND}),
    );
    assert_eq!(calmer["condition"], "healthy");
    scenario
}

fn people_must_re_pair_or_appeal() -> Scenario {
    let mut scenario =
        Scenario::new("a logged-out or banned number needs a person; no automatic retry");
    for (state, condition, first_action) in [
        ("logged_out", "logged_out", json!({"action": "re_pair"})),
        (
            "banned",
            "banned",
            json!({"action": "pause_sending", "until_ms": null}),
        ),
    ] {
        let verdict = scenario.step(
            "evaluate",
            json!({"snapshot": {"number_id": "n-gone", "state": state, "since_ms": T0}, "now_ms": T0 + MINUTE}),
        );
        assert_eq!(verdict["condition"], condition);
        assert_eq!(verdict["actions"][0], first_action);
        let decision = scenario.step(
            "reconnect_delay",
            json!({"request": {"state": state, "previous_attempts": 2, "seed": 7, "now_ms": T0 + MINUTE}}),
        );
        assert_eq!(decision, json!({"decision": "give_up", "reason": state}));
    }
    let replaced = scenario.step(
        "reconnect_delay",
        json!({"request": {"state": "disconnected", "last_event": "stream_replaced", "seed": 7, "now_ms": T0}}),
    );
    assert_eq!(
        replaced,
        json!({"decision": "give_up", "reason": "stream_replaced"})
    );
    let outdated = scenario.step(
        "reconnect_delay",
        json!({"request": {"state": "disconnected", "last_event": "client_outdated", "seed": 7, "now_ms": T0}}),
    );
    assert_eq!(
        outdated,
        json!({"decision": "give_up", "reason": "client_outdated"})
    );
    let pairing = scenario.step(
        "evaluate",
        json!({"snapshot": {"number_id": "n-new", "state": "pairing", "since_ms": T0}, "now_ms": T0 + 11 * MINUTE}),
    );
    assert_eq!(pairing["condition"], "pairing_stalled");
    scenario
}

fn a_temporary_ban_pauses_the_number() -> Scenario {
    let mut scenario =
        Scenario::new("a temporary ban pauses sending and delays the reconnect to its end");
    let ends_at = T0 + 2 * 60 * MINUTE;
    let moved = transition(
        &mut scenario,
        &json!("connected"),
        json!({"kind": "temporary_ban", "expires_at_ms": ends_at}),
    );
    assert_eq!(
        moved,
        json!({"next_state": "rate_limited", "anomaly": null})
    );
    let verdict = scenario.step(
        "evaluate",
        json!({
            "snapshot": {
                "number_id": "n-banned-for-now",
                "state": "rate_limited",
                "since_ms": T0,
                "rate_limited_until_ms": ends_at,
                "recent_events": [{"at_ms": T0, "kind": "temporary_ban"}],
            },
            "now_ms": T0 + MINUTE,
        }),
    );
    assert_eq!(verdict["severity"], "critical");
    assert_eq!(
        verdict["actions"][0],
        json!({"action": "pause_sending", "until_ms": ends_at})
    );
    let decision = scenario.step(
        "reconnect_delay",
        json!({"request": {
            "state": "rate_limited", "last_event": "temporary_ban", "wait_until_ms": ends_at,
            "seed": 99, "now_ms": T0 + MINUTE,
        }}),
    );
    assert_eq!(decision["retry_at_ms"], ends_at);
    let paused = scenario.step(
        "record_rate_limit_error",
        json!({"state": {}, "now_ms": T0 + MINUTE, "until_ms": ends_at}),
    );
    assert_eq!(paused["paused_until_ms"], ends_at);
    let waiting = scenario.step(
        "pace",
        json!({"state": paused["state"], "request": {"now_ms": T0 + 2 * MINUTE, "is_new_contact": false, "number_age_days": 400}}),
    );
    assert_eq!(
        waiting["decision"],
        json!({"decision": "wait", "until_ms": ends_at, "reason": "paused_after_rate_limit"})
    );
    scenario
}

fn runtimes_are_judged_by_their_status_body() -> Scenario {
    let mut scenario = Scenario::new("runtime probes: healthy, slow, degraded and unreachable");
    let body_ok = json!({"version": "0.1.0", "instance_id": "daemon-a", "uptime_seconds": 3600,
        "database": {"reachable": true}, "relay": "listen", "sessions": {"total": 3, "by_state": {"connected": 3}}});
    let body_down = json!({"version": "0.1.0", "instance_id": "daemon-a", "uptime_seconds": 3600,
        "database": {"reachable": false, "error": "connection refused"}, "relay": "listen", "sessions": {"total": 3, "by_state": {"connected": 3}}});
    let cases = [
        (
            json!({"runtime_id": "daemon-a", "http_status": 200, "latency_ms": 35, "body": body_ok}),
            "healthy",
        ),
        (
            json!({"runtime_id": "daemon-a", "http_status": 200, "latency_ms": 3_200, "body": body_ok}),
            "slow",
        ),
        (
            json!({"runtime_id": "daemon-a", "http_status": 503, "latency_ms": 40, "body": body_down}),
            "degraded",
        ),
        (
            json!({"runtime_id": "daemon-a", "http_status": 200, "latency_ms": 40, "body": body_down}),
            "degraded",
        ),
        (
            json!({"runtime_id": "daemon-a", "http_status": 500, "latency_ms": 40}),
            "degraded",
        ),
        (
            json!({"runtime_id": "daemon-a", "error": "timed out after 5000 ms"}),
            "unreachable",
        ),
    ];
    for (probe, condition) in cases {
        let verdict = scenario.step("evaluate_runtime", json!({"probe": probe}));
        assert_eq!(verdict["condition"], condition);
    }
    let lenient = scenario.step(
        "evaluate_runtime",
        json!({"probe": {"runtime_id": "daemon-b", "http_status": 200, "latency_ms": 3_200}, "thresholds": {"slow_after_ms": 5_000}}),
    );
    assert_eq!(lenient["condition"], "healthy");
    scenario
}

fn backoff_grows_is_capped_and_resets() -> Scenario {
    let mut scenario =
        Scenario::new("reconnect backoff doubles to its cap and resets after a stable connection");
    let mut previous_attempts = 0_u64;
    let mut now_ms = T0;
    let mut ceilings = Vec::new();
    for _ in 0..10 {
        let decision = scenario.step(
            "reconnect_delay",
            json!({"request": {
                "state": "disconnected", "previous_attempts": previous_attempts,
                "last_connected_for_ms": 3 * SECOND, "seed": 123_456_789, "now_ms": now_ms,
            }}),
        );
        let ceiling = decision["ceiling_ms"].as_i64().unwrap();
        assert!((0..=ceiling).contains(&decision["delay_ms"].as_i64().unwrap()));
        ceilings.push(ceiling);
        previous_attempts = decision["attempt"].as_u64().unwrap();
        now_ms = decision["retry_at_ms"].as_i64().unwrap() + 3 * SECOND;
    }
    assert_eq!(
        ceilings,
        vec![2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000]
    );
    let reset = scenario.step(
        "reconnect_delay",
        json!({"request": {
            "state": "disconnected", "previous_attempts": previous_attempts,
            "last_connected_for_ms": 2 * MINUTE, "seed": 123_456_789, "now_ms": now_ms,
        }}),
    );
    assert_eq!(reset["attempt"], 1);
    let custom = scenario.step(
        "reconnect_delay",
        json!({"policy": {"base_delay_ms": 500, "max_delay_ms": 1_000},
               "request": {"state": "disconnected", "previous_attempts": 5, "seed": 1, "now_ms": now_ms}}),
    );
    assert_eq!(custom["ceiling_ms"], 1_000);
    let connected = scenario.step(
        "reconnect_delay",
        json!({"request": {"state": "connected", "seed": 1, "now_ms": now_ms}}),
    );
    assert_eq!(
        connected,
        json!({"decision": "not_needed", "state": "connected"})
    );
    scenario
}

fn pace_step(
    scenario: &mut Scenario,
    state: &mut Value,
    now_ms: i64,
    is_new_contact: bool,
    age: u32,
) -> Value {
    let output = scenario.step(
        "pace",
        json!({"state": state, "request": {"now_ms": now_ms, "is_new_contact": is_new_contact, "number_age_days": age}}),
    );
    *state = output["state"].clone();
    output["decision"].clone()
}

fn a_young_number_warms_up() -> Scenario {
    let mut scenario =
        Scenario::new("a young number warms up: no strangers on day 0, a small budget after");
    let mut state = json!({});
    let refused = pace_step(&mut scenario, &mut state, T0, true, 0);
    assert_eq!(
        refused,
        json!({"decision": "refuse", "reason": "new_contacts_not_allowed_yet"})
    );
    for _ in 0..2 {
        assert_eq!(
            pace_step(&mut scenario, &mut state, T0, false, 0),
            json!({"decision": "send"})
        );
    }
    let wait = pace_step(&mut scenario, &mut state, T0 + SECOND, false, 0);
    assert_eq!(
        wait,
        json!({"decision": "wait", "until_ms": T0 + 20 * SECOND, "reason": "bucket_empty"})
    );
    assert_eq!(
        pace_step(&mut scenario, &mut state, T0 + 20 * SECOND, false, 0),
        json!({"decision": "send"})
    );

    // Day 1 (the stage for 1–2 days): ten new contacts a day, three a burst.
    let day_one = T0 + 24 * 60 * MINUTE;
    let mut sent = 0;
    let mut now_ms = day_one;
    while sent < 10 {
        let decision = pace_step(&mut scenario, &mut state, now_ms, true, 1);
        match decision["decision"].as_str().unwrap() {
            "send" => sent += 1,
            "wait" => {
                assert_eq!(decision["reason"], "bucket_empty");
                now_ms = decision["until_ms"].as_i64().unwrap();
            }
            other => panic!("unexpected {other}"),
        }
    }
    let spent = pace_step(&mut scenario, &mut state, now_ms + MINUTE, true, 1);
    assert_eq!(spent["reason"], "new_contact_budget_spent");
    // UTC midnight after day one.
    let midnight = (day_one / (24 * 60 * MINUTE) + 1) * 24 * 60 * MINUTE;
    assert_eq!(spent["until_ms"], midnight);
    assert_eq!(
        pace_step(&mut scenario, &mut state, now_ms + 2 * MINUTE, false, 1),
        json!({"decision": "send"})
    );
    assert_eq!(
        pace_step(&mut scenario, &mut state, midnight, true, 1),
        json!({"decision": "send"})
    );
    scenario
}

fn rate_limit_errors_escalate_the_pause() -> Scenario {
    let mut scenario = Scenario::new(
        "rate-limit errors escalate the pause, and the bucket stays empty through it",
    );
    let mut state = json!({});
    let mut now_ms = T0;
    let mut pauses = Vec::new();
    for _ in 0..3 {
        let output = scenario.step(
            "record_rate_limit_error",
            json!({"state": state, "now_ms": now_ms}),
        );
        let until = output["paused_until_ms"].as_i64().unwrap();
        pauses.push(until - now_ms);
        state = output["state"].clone();
        let waiting = pace_step(&mut scenario, &mut state, now_ms + SECOND, false, 90);
        assert_eq!(waiting["reason"], "paused_after_rate_limit");
        let empty = pace_step(&mut scenario, &mut state, until, false, 90);
        assert_eq!(
            empty,
            json!({"decision": "wait", "until_ms": until + 2 * SECOND, "reason": "bucket_empty"})
        );
        assert_eq!(
            pace_step(&mut scenario, &mut state, until + 2 * SECOND, false, 90),
            json!({"decision": "send"})
        );
        now_ms = until + MINUTE;
    }
    assert_eq!(pauses, vec![MINUTE, 5 * MINUTE, 30 * MINUTE]);
    let forgotten = scenario.step(
        "record_rate_limit_error",
        json!({"state": state, "now_ms": now_ms + 2 * 24 * 60 * MINUTE,
               "config": {"rate_limit_pauses_ms": [120_000, 600_000]}}),
    );
    assert_eq!(
        forgotten["paused_until_ms"],
        now_ms + 2 * 24 * 60 * MINUTE + 2 * MINUTE
    );
    scenario
}

fn a_small_sweep_in_one_call() -> Scenario {
    let mut scenario = Scenario::new("evaluate_all judges a small sweep in order");
    let verdicts = scenario.step(
        "evaluate_all",
        json!({
            "snapshots": [
                connected_snapshot("n1", T0),
                {"number_id": "n2", "state": "stopped", "since_ms": T0 - MINUTE},
                {"number_id": "n3", "state": "failed", "since_ms": T0 - 10 * MINUTE},
                {"number_id": "n4", "state": "connecting", "since_ms": T0 - 5 * MINUTE},
                {"number_id": "n5", "state": "degraded", "since_ms": T0 - 5 * MINUTE, "last_heartbeat_ms": T0 - 5 * SECOND,
                 "recent_events": [{"at_ms": T0 - MINUTE, "kind": "qr_expired"}]},
            ],
            "thresholds": {"start_timeout_ms": 240_000},
            "now_ms": T0,
        }),
    );
    let conditions: Vec<&str> = verdicts
        .as_array()
        .unwrap()
        .iter()
        .map(|verdict| verdict["condition"].as_str().unwrap())
        .collect();
    assert_eq!(
        conditions,
        vec![
            "healthy",
            "stopped",
            "disconnected",
            "start_stalled",
            "healthy"
        ]
    );
    scenario
}

fn build_scenarios() -> Value {
    Value::Array(
        [
            a_session_lives_through_pairing_drops_and_a_logout(),
            unexpected_events_are_reported_not_panicked_on(),
            a_number_drops_is_alerted_backs_off_and_recovers(),
            a_silent_session_goes_stale_then_turns_zombie(),
            a_flapping_number_is_not_restarted(),
            people_must_re_pair_or_appeal(),
            a_temporary_ban_pauses_the_number(),
            runtimes_are_judged_by_their_status_body(),
            backoff_grows_is_capped_and_resets(),
            a_young_number_warms_up(),
            rate_limit_errors_escalate_the_pause(),
            a_small_sweep_in_one_call(),
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
                health::CALL_NAMES.contains(&call),
                "{name}: step {index}: unknown call {call}"
            );
            let output = health::call_json(call, step["input"].clone())
                .unwrap_or_else(|error| panic!("{name}: step {index}: {error}"));
            assert_eq!(output, step["expect"], "{name}: step {index} ({call})");
            n_steps += 1;
        }
    }
    assert!(n_steps > 50, "only {n_steps} steps");
}
