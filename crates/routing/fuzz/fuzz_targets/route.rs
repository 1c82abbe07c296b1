//! A definition (the first line, JSON) and messages (the following lines)
//! are routed in turn, threading the state: routing must never panic, and
//! any awaited node must exist.
#![no_main]

use libfuzzer_sys::fuzz_target;
use routing::{route, CompiledBot, Contact, InboundMessage, RouteRequest};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let Some(Ok(json)) = lines.next().map(serde_json::from_str::<serde_json::Value>) else {
        return;
    };
    let Ok(bot) = CompiledBot::compile(&json) else {
        return;
    };
    let mut state = None;
    for (index, line) in lines.take(16).enumerate() {
        let (reply_id, text) = match line.split_once('\t') {
            Some((reply_id, text)) => (Some(reply_id.to_string()), text),
            None => (None, line),
        };
        let output = route(
            &bot,
            &RouteRequest {
                state,
                message: InboundMessage {
                    id: format!("m{index}"),
                    text: text.to_string(),
                    reply_id,
                    content: None,
                },
                contact: Contact {
                    wa_id: "+15550100002".into(),
                    name: Some("Ada".into()),
                    attributes: Default::default(),
                },
                now_ms: 1_700_000_000_000 + i64::try_from(index).unwrap_or(0) * 61_000,
                seed: u64::try_from(index).unwrap_or(0),
            },
        );
        if let Some(awaiting) = &output.state.awaiting {
            assert!(bot.node_position(awaiting).is_some());
        }
        state = Some(output.state);
    }
});
