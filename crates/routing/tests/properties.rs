//! Property tests: routing never panics, whatever the definition or message;
//! every state it returns points at an existing node; canary selection is
//! sticky and converges to its share.

// Test helpers outside #[test] functions unwrap too; a panic is a failure.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use routing::{
    route, select_version, CanaryVersion, CompiledBot, Contact, ConversationState, InboundMessage,
    NumberBot, PublishedVersion, RouteRequest, VersionReason, VersionSelectionInput,
    MAX_STEPS_PER_MESSAGE,
};
use serde_json::{json, Value};

/// Arbitrary JSON, biased towards the shapes of a definition.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("message"),
            Just("menu"),
            Just("input"),
            Just("condition"),
            Just("set"),
            Just("notify"),
            Just("handoff"),
            Just("end"),
            Just("exact"),
            Just("keyword"),
            Just("regex"),
            Just("any"),
            Just("a"),
            Just("b"),
            Just("(")
        ]
        .prop_map(Value::from),
        "[a-z{}|.()*#?]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("format".to_string()),
                    Just("name".to_string()),
                    Just("nodes".to_string()),
                    Just("triggers".to_string()),
                    Just("id".to_string()),
                    Just("type".to_string()),
                    Just("next".to_string()),
                    Just("text".to_string()),
                    Just("start".to_string()),
                    Just("match".to_string()),
                    Just("value".to_string()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

const IDS: &[&str] = &["a", "b", "c", "d", "e", "f"];

fn node_id() -> impl Strategy<Value = String> + Clone {
    prop::sample::select(IDS).prop_map(str::to_string)
}

/// One well-formed node with references among a small set of ids, so that
/// many generated definitions are valid.
fn arbitrary_node(id: String) -> impl Strategy<Value = Value> {
    prop_oneof![
        (prop::option::of(node_id()), "[a-z {}.|]{0,12}").prop_map({
            let id = id.clone();
            move |(next, text)| json!({"id": id, "type": "message", "text": format!("t {text}"), "next": next})
        }),
        (node_id(), node_id(), 0u32..3).prop_map({
            let id = id.clone();
            move |(first, second, max_retries)| json!({"id": id, "type": "menu", "text": "pick",
                "options": [{"key": "1", "keywords": ["one"], "next": first}, {"key": "2", "next": second}],
                "max_retries": max_retries})
        }),
        (prop::option::of(node_id()), prop::sample::select(vec![
            json!({"kind": "text"}), json!({"kind": "number", "min": 1, "max": 9}), json!({"kind": "email"}),
            json!({"kind": "phone"}), json!({"kind": "choice", "choices": ["x", "y"]}), json!({"kind": "regex", "pattern": "^a+$"})
        ])).prop_map({
            let id = id.clone();
            move |(next, validation)| json!({"id": id, "type": "input", "text": "say", "variable": "v", "validation": validation, "next": next})
        }),
        (node_id(), prop::option::of(node_id())).prop_map({
            let id = id.clone();
            move |(then, otherwise)| json!({"id": id, "type": "condition",
                "rules": [{"when": {"kind": "variable", "name": "v", "op": "exists"}, "next": then}], "else": otherwise})
        }),
        prop::option::of(node_id()).prop_map({
            let id = id.clone();
            move |next| json!({"id": id, "type": "set", "vars": {"v": "1"}, "add_tags": ["t"], "next": next})
        }),
        Just(json!({"id": id.clone(), "type": "handoff", "reason": "r"})),
        Just(json!({"id": id, "type": "end"})),
    ]
}

fn arbitrary_definition() -> impl Strategy<Value = Value> {
    let nodes = (1usize..=IDS.len()).prop_flat_map(|count| {
        IDS[..count]
            .iter()
            .map(|id| arbitrary_node(id.to_string()))
            .collect::<Vec<_>>()
    });
    let trigger = (
        prop::sample::select(vec!["exact", "keyword", "regex", "any"]),
        prop::sample::select(vec!["hi", "one", "a+", "1"]),
        node_id(),
        -2i32..3,
    )
        .prop_map(|(kind, value, start, priority)| {
            json!({"match": kind, "value": value, "start": start, "priority": priority})
        });
    (
        nodes,
        prop::collection::vec(trigger, 0..4),
        prop::option::of(node_id()),
    )
        .prop_map(|(nodes, triggers, start)| {
            json!({"format": 1, "name": "generated", "nodes": nodes, "triggers": triggers,
                   "start": start, "fallback": "fallback"})
        })
}

fn arbitrary_state() -> impl Strategy<Value = Option<ConversationState>> {
    prop::option::of(
        (
            prop::option::of(prop::sample::select(vec!["a", "b", "c", "zz"])),
            0u32..4,
            any::<bool>(),
            any::<bool>(),
            prop::option::of(0i64..10_000_000),
        )
            .prop_map(
                |(awaiting, retries, handoff, opted_out, last)| ConversationState {
                    awaiting: awaiting.map(str::to_string),
                    retries,
                    handoff,
                    opted_out,
                    last_inbound_at_ms: last,
                    ..ConversationState::default()
                },
            ),
    )
}

fn request(
    state: Option<ConversationState>,
    text: String,
    reply_id: Option<String>,
    now_ms: i64,
    seed: u64,
) -> RouteRequest {
    RouteRequest {
        state,
        message: InboundMessage {
            id: "m".into(),
            text,
            reply_id,
            content: None,
        },
        contact: Contact {
            wa_id: "+15550100002".into(),
            name: None,
            attributes: Default::default(),
        },
        now_ms,
        seed,
    }
}

fn awaits_an_answer(bot: &CompiledBot, awaiting: Option<&str>) -> bool {
    awaiting
        .and_then(|id| bot.node_position(id))
        .is_some_and(|index| {
            matches!(
                bot.definition().nodes[index],
                routing::Node::Menu(_) | routing::Node::Input(_)
            )
        })
}

fn message_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("hi".to_string()),
        Just("1".to_string()),
        Just("STOP".to_string()),
        Just("start".to_string()),
        Just("restart".to_string()),
        Just("aaa".to_string()),
        Just("a@b.co".to_string()),
        "\\PC{0,16}"
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn compiling_arbitrary_json_never_panics(json in arbitrary_json()) {
        let report = routing::validate(&json);
        prop_assert_eq!(report.is_valid(), CompiledBot::compile(&json).is_ok());
    }

    #[test]
    fn routing_generated_definitions_never_panics_and_states_point_at_nodes(
        definition in arbitrary_definition(),
        state in arbitrary_state(),
        texts in prop::collection::vec((message_text(), prop::option::of(prop::sample::select(vec!["1", "2", "x"]))), 1..6),
        now_ms in 0i64..20_000_000,
        seed in any::<u64>(),
    ) {
        let Ok(bot) = CompiledBot::compile(&definition) else {
            return Ok(());
        };
        let mut state = state;
        for (step, (text, reply_id)) in texts.into_iter().enumerate() {
            let step_ms = now_ms + i64::try_from(step).unwrap() * 1_000;
            let output = route(&bot, &request(state.clone(), text, reply_id.map(str::to_string), step_ms, seed));
            // A silent answer (opted out, handed off) keeps the state it was
            // given, even a made-up one; anything routing wrote must be sound.
            let given = state.as_ref().and_then(|state| state.awaiting.clone());
            let kept_as_given = output.state.awaiting.is_some() && output.state.awaiting == given;
            if let Some(awaiting) = output.state.awaiting.as_ref().filter(|_| !kept_as_given || awaits_an_answer(&bot, given.as_deref())) {
                prop_assert!(bot.node_position(awaiting).is_some(), "awaiting unknown node {awaiting}");
                let node = &bot.definition().nodes[bot.node_position(awaiting).unwrap()];
                prop_assert!(matches!(node, routing::Node::Menu(_) | routing::Node::Input(_)));
            }
            let n_sent = output.actions.iter().filter(|action| matches!(action, routing::Action::SendMessage { .. })).count();
            prop_assert!(n_sent <= MAX_STEPS_PER_MESSAGE + 1);
            if output.state.opted_out {
                prop_assert_eq!(n_sent, usize::from(output.outcome == "opt_out" && bot.definition().opt_out.confirmation.is_some()));
            }
            if state.as_ref().is_some_and(|state| state.handoff && !state.opted_out) && output.outcome != "opt_out" {
                prop_assert_eq!(n_sent, 0);
            }
            state = Some(output.state);
        }
    }

    #[test]
    fn canary_selection_is_sticky(contact in "\\PC{0,24}", bot_id in "[a-z0-9-]{1,12}", share in 0u32..=10_000) {
        let input = VersionSelectionInput {
            bot: NumberBot {
                bot_id,
                published: PublishedVersion { version_id: "v1".into(), number: 1 },
                canary: Some(CanaryVersion { version_id: "v2".into(), number: 2, share_basis_points: share }),
            },
            conversation_version_id: None,
            contact_id: contact,
        };
        let first = select_version(&input);
        prop_assert_eq!(&first, &select_version(&input));
        prop_assert!(first.bucket < 10_000);
        // Growing the share never moves a canary contact back.
        if first.reason == VersionReason::Canary {
            let mut wider = input.clone();
            if let Some(canary) = wider.bot.canary.as_mut() {
                canary.share_basis_points = (share + 1_000).min(10_000);
            }
            prop_assert_eq!(select_version(&wider).reason, VersionReason::Canary);
        }
    }

    #[test]
    fn canary_share_converges(share in 0u32..=10_000, bot_id in "[a-z0-9-]{1,12}") {
        let contacts = 4_000;
        let on_canary = (0..contacts)
            .filter(|index| {
                let input = VersionSelectionInput {
                    bot: NumberBot {
                        bot_id: bot_id.clone(),
                        published: PublishedVersion { version_id: "v1".into(), number: 1 },
                        canary: Some(CanaryVersion { version_id: "v2".into(), number: 2, share_basis_points: share }),
                    },
                    conversation_version_id: None,
                    contact_id: format!("+35191{index:07}"),
                };
                select_version(&input).reason == VersionReason::Canary
            })
            .count();
        let observed = on_canary as f64 / f64::from(contacts);
        let expected = f64::from(share) / 10_000.0;
        prop_assert!((observed - expected).abs() < 0.03, "share {expected}, observed {observed}");
    }
}
