//! The generated bot the routing benchmarks use.
//!
//! The benchmark bot has 500 nodes and 200 triggers: 100 sections of five
//! nodes (a greeting, a menu, an information message with buttons, a number
//! input and a condition), each section reachable by one exact trigger and
//! one keyword or regex trigger. It is generated rather than written so its
//! size is a parameter, and it is also stored as
//! `fixtures/bench-500-nodes.json` (a test keeps the file up to date) so the
//! WebAssembly benchmark routes exactly the same bot.
//!
//! This module is public for the benchmarks and tests only; linking ignores
//! it in builds that do not call it.

use serde_json::{json, Value};

use crate::engine::{Contact, ConversationState, InboundMessage, RouteRequest};

/// The number of sections of the benchmark bot (five nodes, two triggers
/// each).
pub const BENCH_SECTIONS: usize = 100;

/// Returns the benchmark bot definition with `sections` sections:
/// `5 × sections` nodes and `2 × sections` triggers.
pub fn generated_definition(sections: usize) -> Value {
    let mut nodes = Vec::with_capacity(sections * 5);
    let mut triggers = Vec::with_capacity(sections * 2);
    for section in 0..sections {
        let following = (section + 1) % sections;
        nodes.push(json!({
            "id": format!("s{section}_welcome"),
            "type": "message",
            "text": format!("Section {section} for {{{{contact.name|friend}}}}."),
            "next": format!("s{section}_menu")
        }));
        nodes.push(json!({
            "id": format!("s{section}_menu"),
            "type": "menu",
            "text": format!("Section {section}: 1 information, 2 an amount, 3 the next section."),
            "options": [
                {"key": "1", "keywords": ["information", "info"], "next": format!("s{section}_info")},
                {"key": "2", "keywords": ["amount"], "next": format!("s{section}_ask")},
                {"key": "3", "keywords": ["next"], "next": format!("s{following}_welcome")}
            ],
            "invalid_text": "Please answer 1, 2 or 3.",
            "on_retries_exhausted": format!("s{section}_welcome")
        }));
        nodes.push(json!({
            "id": format!("s{section}_info"),
            "type": "message",
            "text": format!("Section {section} information, {{{{vars.amount_{section}|no amount yet}}}}."),
            "buttons": [{"id": format!("s{section}_more"), "title": "More"}],
            "next": format!("s{section}_check")
        }));
        nodes.push(json!({
            "id": format!("s{section}_ask"),
            "type": "input",
            "text": "How much?",
            "variable": format!("amount_{section}"),
            "validation": {"kind": "number", "min": 0},
            "retry_text": "Please send a number.",
            "next": format!("s{section}_check")
        }));
        nodes.push(json!({
            "id": format!("s{section}_check"),
            "type": "condition",
            "rules": [{
                "when": {"kind": "variable", "name": format!("amount_{section}"), "op": "greater_than", "value": "10"},
                "next": format!("s{section}_menu")
            }],
            "else": format!("s{following}_menu")
        }));
        let priority = i32::try_from(section % 7).unwrap_or(0);
        triggers.push(json!({
            "match": "exact",
            "value": format!("section {section}"),
            "start": format!("s{section}_welcome"),
            "priority": priority
        }));
        if section % 2 == 0 {
            triggers.push(json!({
                "match": "keyword",
                "value": format!("topic {section}"),
                "start": format!("s{section}_welcome"),
                "priority": priority
            }));
        } else {
            triggers.push(json!({
                "match": "regex",
                "value": format!("^order #{section}\\b"),
                "start": format!("s{section}_menu"),
                "priority": priority
            }));
        }
    }
    json!({
        "format": 1,
        "name": format!("Benchmark bot ({} nodes)", sections * 5),
        "triggers": triggers,
        "nodes": nodes,
        "fallback": "Sorry, I didn't get that."
    })
}

/// Returns the 500-node, 200-trigger benchmark bot.
pub fn bench_definition() -> Value {
    generated_definition(BENCH_SECTIONS)
}

/// Returns the benchmark's mix of requests: an exact trigger, a keyword
/// trigger, a regex trigger, an answer to an awaited menu, an input answer
/// and a message nothing matches (the slowest: every index is consulted).
pub fn bench_requests() -> Vec<(&'static str, RouteRequest)> {
    let contact = Contact {
        wa_id: "+15550100002".into(),
        name: Some("Ada".into()),
        attributes: Default::default(),
    };
    let now_ms = 1_700_000_000_000;
    let request = |text: &str, state: Option<ConversationState>| RouteRequest {
        state,
        message: InboundMessage {
            id: "bench".into(),
            text: text.into(),
            reply_id: None,
            content: None,
        },
        contact: contact.clone(),
        now_ms,
        seed: 7,
    };
    let awaiting = |node: &str| ConversationState {
        awaiting: Some(node.into()),
        last_inbound_at_ms: Some(now_ms - 1_000),
        ..ConversationState::default()
    };
    vec![
        ("exact_trigger", request("Section 42!", None)),
        (
            "keyword_trigger",
            request("I need help with topic 88 please", None),
        ),
        ("regex_trigger", request("Order #51 status?", None)),
        ("menu_answer", request("1", Some(awaiting("s7_menu")))),
        ("input_answer", request("12,5", Some(awaiting("s7_ask")))),
        (
            "no_match",
            request("what is the weather like tomorrow", None),
        ),
    ]
}
