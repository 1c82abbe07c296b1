//! The flow interpreter.
//!
//! [`route`] handles one inbound message:
//!
//! 1. When the conversation waits on a menu, the answer is matched against
//!    the menu's options; a trigger still restarts the bot; anything else is
//!    an invalid answer, retried up to the menu's bound.
//! 2. Otherwise the highest-priority matching trigger starts its flow.
//! 3. Otherwise the fallback reply is sent.
//!
//! Running a flow executes nodes until one waits for input or ends. At most
//! [`MAX_STEPS_PER_MESSAGE`] nodes run per inbound message, so no
//! definition, however wrong, can loop forever.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::definition::{BotDefinition, DefinitionError, Node, Trigger, TriggerMatch};
use crate::normalize::{contains_words, normalize};
use crate::template::{render, TemplateValues};

/// The most nodes one inbound message may execute.
pub const MAX_STEPS_PER_MESSAGE: usize = 64;

/// Everything [`route`] needs to decide, passed in by the caller.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteInput {
    /// The bot version's definition (raw JSON; validated here).
    pub definition: serde_json::Value,
    /// The conversation's saved state; `None` for a new conversation.
    #[serde(default)]
    pub state: Option<ConversationState>,
    /// The inbound message.
    pub message: InboundMessage,
    /// Who sent it.
    pub contact: Contact,
    /// The current time in milliseconds since the Unix epoch.
    pub now_ms: i64,
}

/// The inbound message being routed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboundMessage {
    /// The platform's id of the message (for tracing only).
    pub id: String,
    /// The message text.
    pub text: String,
}

/// The contact who wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// The contact's WhatsApp id (E.164 phone number).
    pub wa_id: String,
    /// The contact's display name, when known.
    #[serde(default)]
    pub name: Option<String>,
}

/// What the bot remembers about a conversation between messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationState {
    /// The menu node whose answer the bot is waiting for.
    #[serde(default)]
    pub awaiting: Option<String>,
    /// Invalid answers given to the awaited menu so far.
    #[serde(default)]
    pub retries: u32,
    /// Captured variables.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// When the last inbound message was routed, in Unix milliseconds.
    #[serde(default)]
    pub last_inbound_at_ms: Option<i64>,
}

/// One reply to send, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The text to send.
    pub text: String,
}

/// The decision for one inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteOutput {
    /// The replies to send, in order.
    pub replies: Vec<Reply>,
    /// The conversation's new state, to be saved with the replies.
    pub state: ConversationState,
    /// What happened, for logs: `trigger:<node>`, `menu:<node>`,
    /// `menu_invalid:<node>`, `menu_exhausted:<node>` or `fallback`.
    pub outcome: String,
}

/// Why a message could not be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    /// The definition is malformed or inconsistent; every problem is listed.
    #[error("invalid bot definition: {}", join_errors(.0))]
    InvalidDefinition(Vec<DefinitionError>),
}

fn join_errors(errors: &[DefinitionError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Decides the replies and the next conversation state for one inbound
/// message. Pure: the same input always gives the same output.
pub fn route(input: &RouteInput) -> Result<RouteOutput, RoutingError> {
    let definition =
        BotDefinition::from_json(&input.definition).map_err(RoutingError::InvalidDefinition)?;
    let errors = definition.validate();
    if !errors.is_empty() {
        return Err(RoutingError::InvalidDefinition(errors));
    }

    let mut state = input.state.clone().unwrap_or_default();
    state.last_inbound_at_ms = Some(input.now_ms);
    let text = normalize(&input.message.text);
    let mut run = Run {
        definition: &definition,
        contact: &input.contact,
        replies: Vec::new(),
    };

    if let Some(menu_id) = state.awaiting.clone() {
        if let Some(Node::Menu {
            options,
            invalid_text,
            max_retries,
            on_retries_exhausted,
            ..
        }) = definition.node(&menu_id)
        {
            let chosen = options.iter().find(|option| {
                normalize(&option.key) == text
                    || option
                        .keywords
                        .iter()
                        .any(|keyword| contains_words(&text, &normalize(keyword)))
            });
            if let Some(option) = chosen {
                run.from(&option.next, &mut state);
                return Ok(run.finish(state, format!("menu:{menu_id}")));
            }
            if let Some(trigger) = matching_trigger(&definition.triggers, &text) {
                run.from(&trigger.start, &mut state);
                return Ok(run.finish(state, format!("trigger:{}", trigger.start)));
            }
            state.retries += 1;
            if state.retries > *max_retries {
                match on_retries_exhausted {
                    Some(target) => run.from(target, &mut state),
                    None => {
                        run.say_fallback();
                        end(&mut state);
                    }
                }
                return Ok(run.finish(state, format!("menu_exhausted:{menu_id}")));
            }
            match invalid_text {
                Some(invalid_text) => run.say(invalid_text, &state),
                None => run.say_fallback(),
            }
            return Ok(run.finish(state, format!("menu_invalid:{menu_id}")));
        }
        // The awaited node no longer exists in this definition: start afresh.
        end(&mut state);
    }

    if let Some(trigger) = matching_trigger(&definition.triggers, &text) {
        run.from(&trigger.start, &mut state);
        return Ok(run.finish(state, format!("trigger:{}", trigger.start)));
    }
    run.say_fallback();
    Ok(run.finish(state, "fallback".to_string()))
}

fn matching_trigger<'a>(triggers: &'a [Trigger], normalized_text: &str) -> Option<&'a Trigger> {
    let mut best: Option<&Trigger> = None;
    for trigger in triggers {
        let matched = match trigger.match_kind {
            TriggerMatch::Exact => normalize(&trigger.value) == normalized_text,
            TriggerMatch::Keyword => contains_words(normalized_text, &normalize(&trigger.value)),
            TriggerMatch::Any => true,
        };
        if matched && best.is_none_or(|best| trigger.priority > best.priority) {
            best = Some(trigger);
        }
    }
    best
}

fn end(state: &mut ConversationState) {
    state.awaiting = None;
    state.retries = 0;
}

struct Run<'a> {
    definition: &'a BotDefinition,
    contact: &'a Contact,
    replies: Vec<Reply>,
}

impl Run<'_> {
    fn say(&mut self, template: &str, state: &ConversationState) {
        let values = TemplateValues {
            contact_name: self.contact.name.as_deref(),
            contact_wa_id: &self.contact.wa_id,
            vars: &state.vars,
        };
        let text = render(template, &values);
        if !text.trim().is_empty() {
            self.replies.push(Reply { text });
        }
    }

    fn say_fallback(&mut self) {
        if let Some(fallback) = self.definition.fallback.as_deref() {
            let state = ConversationState::default();
            self.say(fallback, &state);
        }
    }

    /// Executes nodes from `start` until one waits, ends, or the step bound
    /// is reached (which ends the flow).
    fn from(&mut self, start: &str, state: &mut ConversationState) {
        end(state);
        let mut current = Some(start.to_string());
        for _ in 0..MAX_STEPS_PER_MESSAGE {
            let Some(node) = current.as_deref().and_then(|id| self.definition.node(id)) else {
                return;
            };
            match node {
                Node::Message { text, next, .. } => {
                    self.say(text, state);
                    current = next.clone();
                }
                Node::Menu { id, text, .. } => {
                    self.say(text, state);
                    state.awaiting = Some(id.clone());
                    return;
                }
                Node::End { .. } => return,
            }
        }
        end(state);
    }

    fn finish(self, state: ConversationState, outcome: String) -> RouteOutput {
        RouteOutput {
            replies: self.replies,
            state,
            outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> serde_json::Value {
        serde_json::from_str(include_str!("../fixtures/demo-bot.json")).unwrap()
    }

    fn input(
        definition: serde_json::Value,
        state: Option<ConversationState>,
        text: &str,
    ) -> RouteInput {
        RouteInput {
            definition,
            state,
            message: InboundMessage {
                id: "m1".into(),
                text: text.into(),
            },
            contact: Contact {
                wa_id: "+15550100002".into(),
                name: Some("Ada".into()),
            },
            now_ms: 1_700_000_000_000,
        }
    }

    fn texts(output: &RouteOutput) -> Vec<&str> {
        output
            .replies
            .iter()
            .map(|reply| reply.text.as_str())
            .collect()
    }

    #[test]
    fn greets_and_shows_the_menu() {
        let output = route(&input(demo(), None, "Hi!")).unwrap();
        assert_eq!(
            texts(&output),
            vec![
                "Hi Ada! I'm the demo bot.",
                "Reply 1 for opening hours, 2 for our address, or 3 to talk to a person."
            ]
        );
        assert_eq!(output.state.awaiting.as_deref(), Some("menu"));
        assert_eq!(output.outcome, "trigger:welcome");
        assert_eq!(output.state.last_inbound_at_ms, Some(1_700_000_000_000));
    }

    #[test]
    fn answers_menu_choices_by_key_and_keyword() {
        let greeted = route(&input(demo(), None, "hello")).unwrap();
        let by_key = route(&input(demo(), Some(greeted.state.clone()), " 2 ")).unwrap();
        assert_eq!(
            texts(&by_key),
            vec!["You can find us at 1 Demo Street, Springfield."]
        );
        assert_eq!(by_key.state.awaiting, None);
        let by_keyword = route(&input(
            demo(),
            Some(greeted.state),
            "what are your OPENING hours?",
        ))
        .unwrap();
        assert_eq!(
            texts(&by_keyword),
            vec!["We are open Monday to Friday, 9:00 to 17:00."]
        );
        assert_eq!(by_keyword.outcome, "menu:menu");
    }

    #[test]
    fn retries_invalid_answers_then_gives_up() {
        let mut state = route(&input(demo(), None, "hi")).unwrap().state;
        for attempt in 1..=2 {
            let output = route(&input(demo(), Some(state), "banana")).unwrap();
            assert_eq!(texts(&output), vec!["Please answer 1, 2 or 3."]);
            assert_eq!(output.state.retries, attempt);
            state = output.state;
        }
        let exhausted = route(&input(demo(), Some(state), "banana")).unwrap();
        assert_eq!(
            texts(&exhausted),
            vec!["A person will get back to you soon. Say hi to start again."]
        );
        assert_eq!(exhausted.state.awaiting, None);
        assert_eq!(exhausted.outcome, "menu_exhausted:menu");
    }

    #[test]
    fn unmatched_text_gets_the_fallback() {
        let output = route(&input(demo(), None, "what is this")).unwrap();
        assert_eq!(
            texts(&output),
            vec!["Sorry, I didn't get that. Say hi to see the menu."]
        );
        assert_eq!(output.outcome, "fallback");
    }

    #[test]
    fn higher_priority_trigger_wins() {
        // "menu" is both an exact trigger (priority 20) and not a keyword of "hi".
        let output = route(&input(demo(), None, "MENU")).unwrap();
        assert_eq!(output.outcome, "trigger:menu");
    }

    #[test]
    fn a_looping_definition_stops_at_the_step_bound() {
        let definition = serde_json::json!({
            "format": 1, "name": "loop",
            "triggers": [{"match": "any", "start": "a"}],
            "nodes": [
                {"id": "a", "type": "message", "text": "a", "next": "b"},
                {"id": "b", "type": "message", "text": "b", "next": "a"}
            ]
        });
        let output = route(&input(definition, None, "x")).unwrap();
        assert_eq!(output.replies.len(), MAX_STEPS_PER_MESSAGE);
        assert_eq!(output.state.awaiting, None);
    }

    #[test]
    fn an_invalid_definition_is_an_error_naming_the_field() {
        let mut definition = demo();
        definition["nodes"][0]["next"] = "ghost".into();
        let error = route(&input(definition, None, "hi")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid bot definition: $.nodes[0].next: unknown node \"ghost\""
        );
    }
}
