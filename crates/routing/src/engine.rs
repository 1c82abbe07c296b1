//! The flow interpreter.
//!
//! [`route`] decides what one inbound message causes, as data: the
//! [`Action`]s to carry out and the conversation's next state. The order of
//! precedence, first match wins:
//!
//! 1. **Opted out**: only an opt-in keyword is heard (it confirms and opts
//!    back in); everything else is silence.
//! 2. **Opt-out keyword**: the contact is opted out (with one optional
//!    confirmation) and the bot never writes again until an opt-in.
//! 3. **Handed off**: silence until the caller releases the conversation
//!    ([`release_handoff`]).
//! 4. **Timeout**: after the definition's inactivity timeout the awaited
//!    answer, retries and variables are forgotten, and the message counts as
//!    the first of a new conversation.
//! 5. **Global commands**: restart (forget, then route as a new
//!    conversation) and menu (go to the menu node).
//! 6. **Awaited answer**: a menu or input waiting for this message takes it;
//!    an unusable answer still lets a non-`any` trigger restart the bot, and
//!    is otherwise retried up to the node's bound.
//! 7. **Triggers**, highest priority first.
//! 8. **Start**: a new conversation that matched no trigger begins at the
//!    definition's `start` node.
//! 9. **Fallback** reply.
//!
//! Running a flow executes nodes until one waits, hands off or ends. At most
//! [`MAX_STEPS_PER_MESSAGE`] nodes run per inbound message: validation
//! rejects loops that never wait, and the bound guarantees termination for
//! anything validation cannot see. Hitting it ends the flow and notifies the
//! team.
//!
//! Nothing here reads a clock or draws a random number: the request carries
//! `now_ms` and a `seed`, so the same request always yields the same output.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::compile::{CompiledBot, CompiledCondition, CompiledNode, ContactField};
use message_model::{
    Content, Media, Template, TemplateComponent, TemplateComponentType, TemplateParameter,
    MEDIA_KINDS,
};

use crate::definition::{
    ListRow, ListSection, MediaContent, MediaKind, MenuDisplay, MenuNode, MessageNode, Node,
    ReplyButton, SetNode, TemplateNode,
};
use crate::normalize::{contains_words, fold, normalize};
use crate::template::{render, TemplateValues};
use crate::validate::ValidationReport;
use crate::version::{finalize, fnv1a_64, FNV_OFFSET_BASIS};

/// The most nodes one inbound message may execute.
pub const MAX_STEPS_PER_MESSAGE: usize = 64;

/// The label of a menu's list button when the menu does not set one.
pub const DEFAULT_LIST_BUTTON: &str = "Choose";

/// Everything [`route`] needs besides the compiled bot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRequest {
    /// The conversation's saved state; `None` for a new conversation.
    #[serde(default)]
    pub state: Option<ConversationState>,
    /// The inbound message.
    pub message: InboundMessage,
    /// Who sent it.
    pub contact: Contact,
    /// The current time in milliseconds since the Unix epoch.
    pub now_ms: i64,
    /// Picks among a message node's text variants; any value, fixed per
    /// message (the caller may derive it from the message id).
    #[serde(default)]
    pub seed: u64,
}

/// The inbound message being routed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboundMessage {
    /// The platform's id of the message (stored by attachment inputs).
    pub id: String,
    /// The message text; for a button or list reply, the tapped title; for
    /// media, the caption.
    #[serde(default)]
    pub text: String,
    /// The id of the tapped reply button or list row, if the message is one
    /// (read from `content` when absent).
    #[serde(default)]
    pub reply_id: Option<String>,
    /// What the message says, in the message model; text when absent.
    #[serde(default)]
    pub content: Option<Content>,
}

impl InboundMessage {
    /// Returns a text message.
    pub fn text(id: impl Into<String>, text: impl Into<String>) -> InboundMessage {
        InboundMessage {
            id: id.into(),
            text: text.into(),
            reply_id: None,
            content: None,
        }
    }

    /// Returns the message's kind (`text` when no content is given).
    pub fn kind(&self) -> &'static str {
        self.content.as_ref().map_or("text", Content::kind)
    }
}

/// The contact who wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// The contact's WhatsApp id (E.164 phone number).
    pub wa_id: String,
    /// The contact's display name, when known.
    #[serde(default)]
    pub name: Option<String>,
    /// Attributes the caller stores for the contact (such as `tier`).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// What the bot remembers about a conversation between messages. The caller
/// stores it as JSON with the conversation and passes it back next time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationState {
    /// The id of the menu or input node waiting for the contact's answer.
    #[serde(default)]
    pub awaiting: Option<String>,
    /// Unusable answers given to the awaited node so far.
    #[serde(default)]
    pub retries: u32,
    /// Variables captured by input nodes and set by set nodes.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Tags added by set nodes (kept across timeouts).
    #[serde(default)]
    pub tags: BTreeSet<String>,
    /// Whether a person has taken over; the bot stays silent until the
    /// caller clears it with [`release_handoff`].
    #[serde(default)]
    pub handoff: bool,
    /// Whether the contact opted out; the bot stays silent until an opt-in
    /// keyword.
    #[serde(default)]
    pub opted_out: bool,
    /// When the last inbound message was routed, in Unix milliseconds.
    #[serde(default)]
    pub last_inbound_at_ms: Option<i64>,
    /// The reply ids of the buttons or rows last sent, in order, so an
    /// answer typed as their number ("2") counts as a tap: WhatsApp Web
    /// sends buttons and lists as numbered text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offered: Vec<String>,
}

/// One thing the caller must do, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Send this message to the contact.
    SendMessage {
        /// The message.
        message: OutboundMessage,
    },
    /// Hand the conversation to a person (show it in the inbox as waiting).
    Handoff {
        /// Why, for the inbox.
        reason: String,
    },
    /// Record that the contact opted out; send nothing more to them.
    OptOut,
    /// Record that the contact opted back in.
    OptIn,
    /// Add a tag to the contact or conversation.
    Tag {
        /// The tag.
        tag: String,
    },
    /// Remove a tag from the contact or conversation.
    Untag {
        /// The tag.
        tag: String,
    },
    /// Store a contact attribute.
    SetContactAttribute {
        /// The attribute's name.
        name: String,
        /// Its new value.
        value: String,
    },
    /// Tell the team something (not the contact).
    Notify {
        /// The message for the team.
        text: String,
    },
}

/// A message to send: the message model's [`Content`], tagged by `kind`.
pub type OutboundMessage = Content;

/// The decision for one inbound message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteOutput {
    /// What to do, in order.
    pub actions: Vec<Action>,
    /// The conversation's new state, to be saved with the actions.
    pub state: ConversationState,
    /// What happened, for logs: `ignored:reaction`, `ignored:system`
    /// (kept, not answered), `opt_out`, `opt_in`, `silent:opted_out`,
    /// `silent:handoff`, `command:restart`, `command:menu`, `menu:<node>`,
    /// `input:<node>`, `invalid:<node>`, `retries_exhausted:<node>`,
    /// `trigger:<node>`, `start:<node>`, `fallback`, or
    /// `step_bound:<node>` when the step bound stopped the flow.
    pub outcome: String,
}

/// The inputs of the one-shot [`route_once`]: a raw definition plus the
/// fields of a [`RouteRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteInput {
    /// The bot version's definition, compiled on every call.
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
    /// See [`RouteRequest::seed`].
    #[serde(default)]
    pub seed: u64,
}

/// Compiles the definition and routes one message: convenient for one-off
/// calls, wasteful in a loop (compile once with [`CompiledBot::compile`]).
pub fn route_once(input: &RouteInput) -> Result<RouteOutput, ValidationReport> {
    let bot = CompiledBot::compile(&input.definition)?;
    let request = RouteRequest {
        state: input.state.clone(),
        message: input.message.clone(),
        contact: input.contact.clone(),
        now_ms: input.now_ms,
        seed: input.seed,
    };
    Ok(route(&bot, &request))
}

/// Returns the state with the handoff released: the bot answers again, and
/// the next message is routed afresh (no awaited answer); variables and tags
/// are kept.
pub fn release_handoff(state: ConversationState) -> ConversationState {
    ConversationState {
        handoff: false,
        awaiting: None,
        retries: 0,
        ..state
    }
}

/// Decides the actions and the next conversation state for one inbound
/// message. Pure: the same bot and request always give the same output.
pub fn route(bot: &CompiledBot, request: &RouteRequest) -> RouteOutput {
    let state = request.state.clone().unwrap_or_default();
    let reply_id = effective_reply_id(&request.message, &state);
    let mut run = Run {
        bot,
        request,
        reply_id,
        state,
        actions: Vec::new(),
        attribute_overrides: BTreeMap::new(),
        steps: 0,
        stopped_at: None,
    };
    let outcome = run.decide();
    let outcome = match run.stopped_at {
        Some(node) => format!("step_bound:{node}"),
        None => outcome,
    };
    RouteOutput {
        actions: run.actions,
        state: run.state,
        outcome,
    }
}

/// The reply id a message carries: a tap's id, or the id of the button or
/// row whose number the contact typed.
fn effective_reply_id(message: &InboundMessage, state: &ConversationState) -> Option<String> {
    if let Some(reply_id) = message
        .reply_id
        .as_deref()
        .or_else(|| message.content.as_ref().and_then(Content::reply_id))
    {
        return Some(reply_id.to_string());
    }
    if message.kind() != "text" || state.offered.is_empty() {
        return None;
    }
    let typed = message.text.trim().trim_end_matches('.');
    let number: usize = typed.parse().ok()?;
    number
        .checked_sub(1)
        .and_then(|index| state.offered.get(index))
        .cloned()
}

struct Run<'a> {
    bot: &'a CompiledBot,
    request: &'a RouteRequest,
    /// The tapped (or numbered) button or row id, if any.
    reply_id: Option<String>,
    state: ConversationState,
    actions: Vec<Action>,
    /// Contact attributes set during this run, which templates and
    /// conditions see before the caller stores them.
    attribute_overrides: BTreeMap<String, String>,
    steps: usize,
    /// The node the step bound stopped the flow at.
    stopped_at: Option<String>,
}

impl Run<'_> {
    fn decide(&mut self) -> String {
        let bot = self.bot;
        let definition = &bot.definition;
        let now_ms = self.request.now_ms;
        match self.request.message.kind() {
            "reaction" if !definition.route_reactions => return "ignored:reaction".into(),
            "system" if !definition.route_system_messages => return "ignored:system".into(),
            _ => {}
        }
        let previous_inbound_at_ms = self.state.last_inbound_at_ms.replace(now_ms);
        let text = normalize(&self.request.message.text);

        if self.state.opted_out {
            if !bot.opt_in_keywords.contains(&text) {
                return "silent:opted_out".into();
            }
            self.state.opted_out = false;
            self.forget_flow();
            self.actions.push(Action::OptIn);
            if let Some(confirmation) = &definition.opt_out.opt_in_confirmation {
                self.send_text(confirmation);
            }
            return "opt_in".into();
        }
        if bot.opt_out_keywords.contains(&text) {
            self.forget_flow();
            self.actions.push(Action::OptOut);
            if let Some(confirmation) = &definition.opt_out.confirmation {
                self.send_text(confirmation);
            }
            self.state.opted_out = true;
            return "opt_out".into();
        }
        if self.state.handoff {
            return "silent:handoff".into();
        }

        let timed_out = previous_inbound_at_ms.is_some_and(|previous| {
            bot.timeout_ms > 0 && now_ms.saturating_sub(previous) >= bot.timeout_ms
        });
        if timed_out {
            self.forget_conversation();
        }
        let new_conversation = previous_inbound_at_ms.is_none() || timed_out;

        if bot.restart_keywords.contains(&text) {
            self.forget_conversation();
            self.start_new_conversation(&text);
            return "command:restart".into();
        }
        if let Some(menu_node) = bot.menu_node {
            if bot.menu_keywords.contains(&text) {
                self.run_from(menu_node);
                return "command:menu".into();
            }
        }

        if let Some(awaiting) = self.state.awaiting.clone() {
            match bot.node_position(&awaiting) {
                Some(index) => {
                    if let Some(outcome) = self.answer(index, &text) {
                        return outcome;
                    }
                }
                // The awaited node is not in this version: start afresh.
                None => self.forget_flow(),
            }
        }

        if new_conversation {
            return self.start_new_conversation(&text);
        }
        if let Some(start) = self.matching_trigger(&text, true) {
            self.run_from(start);
            return format!("trigger:{}", definition.nodes[start].id());
        }
        self.send_fallback();
        "fallback".into()
    }

    /// Routes the first message of a conversation: a trigger, else the start
    /// node, else the fallback.
    fn start_new_conversation(&mut self, text: &str) -> String {
        let definition = &self.bot.definition;
        if let Some(start) = self.matching_trigger(text, true) {
            self.run_from(start);
            return format!("trigger:{}", definition.nodes[start].id());
        }
        if let Some(start) = self.bot.start {
            self.run_from(start);
            return format!("start:{}", definition.nodes[start].id());
        }
        self.send_fallback();
        "fallback".into()
    }

    /// Forgets what the flow was waiting for.
    fn forget_flow(&mut self) {
        self.state.awaiting = None;
        self.state.retries = 0;
    }

    /// Forgets the flow and the variables (timeout, restart).
    fn forget_conversation(&mut self) {
        self.forget_flow();
        self.state.vars.clear();
    }

    /// Offers the message to the awaited node at `index`; `None` when the
    /// node cannot take answers (the flow is then forgotten).
    fn answer(&mut self, index: usize, text: &str) -> Option<String> {
        let bot = self.bot;
        let reply_id = self.reply_id.as_deref();
        match (&bot.definition.nodes[index], &bot.nodes[index]) {
            (
                Node::Menu(menu),
                CompiledNode::Menu {
                    options,
                    on_retries_exhausted,
                },
            ) => {
                let normalized_reply = reply_id.map(normalize);
                let exact = options.iter().find(|option| {
                    option.normalized_key == text
                        || normalized_reply.as_deref() == Some(option.normalized_key.as_str())
                        || option.normalized_title.as_deref() == Some(text)
                        || reply_id == Some(option.key.as_str())
                });
                let chosen = exact.or_else(|| {
                    options.iter().find(|option| {
                        option
                            .normalized_keywords
                            .iter()
                            .any(|keyword| contains_words(text, keyword))
                    })
                });
                if let Some(option) = chosen {
                    self.run_from(option.next);
                    return Some(format!("menu:{}", menu.id));
                }
                Some(self.unusable_answer(
                    &menu.id,
                    text,
                    menu.max_retries,
                    *on_retries_exhausted,
                    menu.invalid_text.as_deref(),
                ))
            }
            (
                Node::Input(input),
                CompiledNode::Input {
                    validation,
                    next,
                    on_retries_exhausted,
                },
            ) => {
                if let Some(value) = validation.accept_message(&self.request.message, reply_id) {
                    if validation.is_attachment() {
                        self.state.vars.insert(
                            format!("{}_kind", input.variable),
                            self.request.message.kind().to_string(),
                        );
                    }
                    self.state.vars.insert(input.variable.clone(), value);
                    self.forget_flow();
                    if let Some(next) = next {
                        self.run_from(*next);
                    }
                    return Some(format!("input:{}", input.id));
                }
                Some(self.unusable_answer(
                    &input.id,
                    text,
                    input.max_retries,
                    *on_retries_exhausted,
                    input.retry_text.as_deref(),
                ))
            }
            _ => {
                self.forget_flow();
                None
            }
        }
    }

    /// Handles an answer the awaited node cannot use: a trigger may take
    /// over, else the contact is asked again, up to the retry bound.
    fn unusable_answer(
        &mut self,
        node_id: &str,
        text: &str,
        max_retries: u32,
        on_retries_exhausted: Option<usize>,
        retry_text: Option<&str>,
    ) -> String {
        if let Some(start) = self.matching_trigger(text, false) {
            self.run_from(start);
            return format!("trigger:{}", self.bot.definition.nodes[start].id());
        }
        self.state.retries = self.state.retries.saturating_add(1);
        if self.state.retries > max_retries {
            self.forget_flow();
            match on_retries_exhausted {
                Some(target) => self.run_from(target),
                None => self.send_fallback(),
            }
            return format!("retries_exhausted:{node_id}");
        }
        match retry_text {
            Some(retry_text) => self.send_text(retry_text),
            None => self.send_fallback(),
        }
        format!("invalid:{node_id}")
    }

    /// Returns the start node of the strongest matching trigger; `any`
    /// triggers count only when `allow_any`.
    fn matching_trigger(&self, text: &str, allow_any: bool) -> Option<usize> {
        let triggers = &self.bot.triggers;
        let mut best: Option<usize> = None;
        fn consider(best: &mut Option<usize>, rank: usize) {
            if best.is_none_or(|best| rank < best) {
                *best = Some(rank);
            }
        }
        if let Some(rank) = triggers.exact.get(text) {
            consider(&mut best, *rank);
        }
        if let Some(reply_id) = self.reply_id.as_deref() {
            if let Some(rank) = triggers.exact.get(normalize(reply_id).as_str()) {
                consider(&mut best, *rank);
            }
        }
        let kind = self.request.message.kind();
        for (wanted, rank) in &triggers.kinds {
            if wanted == kind || (wanted == "media" && MEDIA_KINDS.contains(&kind)) {
                consider(&mut best, *rank);
            }
        }
        if !triggers.keyword_by_first_word.is_empty() {
            let words: Vec<&str> = text.split(' ').collect();
            for (position, word) in words.iter().enumerate() {
                let Some(candidates) = triggers.keyword_by_first_word.get(*word) else {
                    continue;
                };
                let following = &words[position + 1..];
                for (rest, rank) in candidates {
                    let fits = rest.len() <= following.len()
                        && rest
                            .iter()
                            .zip(following)
                            .all(|(expected, actual)| expected == actual);
                    if fits {
                        consider(&mut best, *rank);
                    }
                }
            }
        }
        if !triggers.regexes.is_empty() {
            let folded = fold(&self.request.message.text);
            for (regex, rank) in &triggers.regexes {
                if best.is_some_and(|best| best < *rank) {
                    break;
                }
                if regex.is_match(&folded) {
                    consider(&mut best, *rank);
                    break;
                }
            }
        }
        if allow_any {
            if let Some(rank) = triggers.any {
                consider(&mut best, rank);
            }
        }
        best.and_then(|rank| triggers.start_by_rank.get(rank).copied())
    }

    fn render(&self, template: &str) -> String {
        let contact = &self.request.contact;
        let values = TemplateValues {
            contact_name: contact.name.as_deref(),
            contact_wa_id: &contact.wa_id,
            contact_attributes: &contact.attributes,
            contact_attribute_overrides: &self.attribute_overrides,
            vars: &self.state.vars,
            message_text: &self.request.message.text,
        };
        render(template, &values)
    }

    fn send(&mut self, message: Content) {
        self.actions.push(Action::SendMessage { message });
    }

    /// Sends a text template, unless it renders blank.
    fn send_text(&mut self, template: &str) {
        let text = self.render(template);
        if !text.trim().is_empty() {
            self.send(Content::text(text));
        }
    }

    fn send_fallback(&mut self) {
        if let Some(fallback) = &self.bot.definition.fallback {
            self.send_text(fallback);
        }
    }

    /// Executes nodes from `start` until one waits, hands off or ends, or
    /// the step bound stops the flow.
    fn run_from(&mut self, start: usize) {
        let bot = self.bot;
        self.forget_flow();
        let mut current = start;
        loop {
            let node = &bot.definition.nodes[current];
            if self.steps >= MAX_STEPS_PER_MESSAGE {
                self.actions.push(Action::Notify {
                    text: format!(
                        "the bot stopped after {MAX_STEPS_PER_MESSAGE} steps at node {:?}; check the flow for a loop",
                        node.id()
                    ),
                });
                self.stopped_at = Some(node.id().to_string());
                return;
            }
            self.steps += 1;
            // A node that writes to the contact makes its buttons (if any)
            // the ones a typed number answers; earlier ones no longer count.
            if matches!(
                node,
                Node::Message(_) | Node::Menu(_) | Node::Input(_) | Node::Template(_)
            ) {
                self.state.offered.clear();
            }
            let next = match (node, &bot.nodes[current]) {
                (Node::Message(message), CompiledNode::Message { next }) => {
                    self.send_message_node(message);
                    *next
                }
                (Node::Menu(menu), _) => {
                    self.send_menu(menu);
                    self.state.awaiting = Some(menu.id.clone());
                    None
                }
                (Node::Input(input), _) => {
                    self.send_text(&input.text);
                    self.state.awaiting = Some(input.id.clone());
                    None
                }
                (Node::Condition(_), CompiledNode::Condition { rules, else_next }) => rules
                    .iter()
                    .find(|(condition, _)| self.holds(condition))
                    .map(|(_, next)| *next)
                    .or(*else_next),
                (Node::Set(set), CompiledNode::Set { next }) => {
                    self.apply_set(set);
                    *next
                }
                (Node::Notify(notify), CompiledNode::Notify { next }) => {
                    let text = self.render(&notify.text);
                    self.actions.push(Action::Notify { text });
                    *next
                }
                (Node::Template(template), CompiledNode::Template { next }) => {
                    let content = self.template_content(template);
                    self.send(content);
                    *next
                }
                (Node::Handoff(handoff), _) => {
                    if let Some(text) = &handoff.text {
                        self.send_text(text);
                    }
                    let reason = self.render(&handoff.reason);
                    self.actions.push(Action::Handoff { reason });
                    if let Some(notify) = &handoff.notify {
                        let text = self.render(notify);
                        self.actions.push(Action::Notify { text });
                    }
                    self.state.handoff = true;
                    None
                }
                _ => None,
            };
            match next {
                Some(next) => current = next,
                None => return,
            }
        }
    }

    fn send_message_node(&mut self, node: &MessageNode) {
        let text = if node.variants.is_empty() {
            node.text.as_deref()
        } else {
            let choice =
                finalize(fnv1a_64(FNV_OFFSET_BASIS, node.id.as_bytes()) ^ self.request.seed)
                    % node.variants.len() as u64;
            node.variants
                .get(usize::try_from(choice).unwrap_or(0))
                .map(String::as_str)
        };
        let body = text.map(|text| self.render(text)).unwrap_or_default();
        if let Some(media) = &node.media {
            let content = self.media_content(media);
            self.send(content);
        } else if let Some(location) = &node.location {
            self.send(Content::Location(location.into()));
        } else if !node.buttons.is_empty() {
            self.offer(
                node.buttons
                    .iter()
                    .map(|button| button.id.clone())
                    .collect(),
            );
            self.send(Content::Buttons {
                text: body,
                header: None,
                footer: None,
                buttons: node.buttons.clone(),
            });
        } else if let Some(list) = &node.list {
            self.offer(rows_of(&list.sections));
            self.send(Content::List {
                text: body,
                header: None,
                footer: None,
                button: list.button.clone(),
                sections: list.sections.clone(),
            });
        } else if !body.trim().is_empty() {
            self.send(Content::text(body));
        }
    }

    /// Remembers the reply ids just offered, for numbered answers.
    fn offer(&mut self, ids: Vec<String>) {
        self.state.offered = ids;
    }

    /// The content a node's media sends, its caption rendered.
    fn media_content(&self, media: &MediaContent) -> Content {
        let caption = media
            .caption
            .as_deref()
            .map(|caption| self.render(caption))
            .filter(|caption| !caption.trim().is_empty());
        let file = Media {
            url: media.url.clone(),
            media_id: media.media_id.clone(),
            storage_key: media.storage_key.clone(),
            mime_type: media.mime_type.clone(),
            caption,
            filename: media.filename.clone(),
            ..Media::default()
        };
        let kind = media
            .kind
            .or_else(|| media.mime_type.as_deref().and_then(MediaKind::for_mime))
            .unwrap_or(MediaKind::Document);
        match kind {
            MediaKind::Image => Content::Image(file),
            MediaKind::Video => Content::Video(file),
            MediaKind::Audio => Content::Audio(file),
            MediaKind::Voice => Content::Voice(file),
            MediaKind::Document => Content::Document(file),
            MediaKind::Sticker => Content::Sticker(Media {
                caption: None,
                ..file
            }),
        }
    }

    /// The content a template node sends, its parameters rendered.
    fn template_content(&mut self, node: &TemplateNode) -> Content {
        let texts = |run: &Self, values: &[String]| -> Vec<TemplateParameter> {
            values
                .iter()
                .map(|value| TemplateParameter::Text {
                    text: run.render(value),
                })
                .collect()
        };
        let parameters = &node.parameters;
        let mut components = Vec::new();
        let mut header = texts(self, &parameters.header);
        if let Some(media) = &parameters.header_media {
            let parameter = match self.media_content(media) {
                Content::Image(media) => TemplateParameter::Image { media },
                Content::Video(media) => TemplateParameter::Video { media },
                Content::Document(media) => TemplateParameter::Document { media },
                // Validation refuses other header media.
                _ => TemplateParameter::Text {
                    text: String::new(),
                },
            };
            header.push(parameter);
        }
        if !header.is_empty() {
            components.push(TemplateComponent {
                component_type: TemplateComponentType::Header,
                sub_type: None,
                index: None,
                parameters: header,
            });
        }
        if !parameters.body.is_empty() {
            components.push(TemplateComponent {
                component_type: TemplateComponentType::Body,
                sub_type: None,
                index: None,
                parameters: texts(self, &parameters.body),
            });
        }
        for (index, payload) in parameters.quick_replies.iter().enumerate() {
            components.push(TemplateComponent {
                component_type: TemplateComponentType::Button,
                sub_type: Some("quick_reply".into()),
                index: u32::try_from(index).ok(),
                parameters: vec![TemplateParameter::Payload {
                    payload: payload.clone(),
                }],
            });
        }
        if !parameters.quick_replies.is_empty() {
            self.offer(parameters.quick_replies.clone());
        }
        Content::Template(Template {
            name: node.name.clone(),
            language: node.language.clone(),
            components,
        })
    }

    fn send_menu(&mut self, menu: &MenuNode) {
        let text = self.render(&menu.text);
        let title = |option: &crate::definition::MenuOption| {
            option.title.clone().unwrap_or_else(|| option.key.clone())
        };
        let message = match menu.display {
            MenuDisplay::Text => Content::text(text),
            MenuDisplay::Buttons => Content::Buttons {
                text,
                header: None,
                footer: None,
                buttons: menu
                    .options
                    .iter()
                    .map(|option| ReplyButton {
                        id: option.key.clone(),
                        title: title(option),
                    })
                    .collect(),
            },
            MenuDisplay::List => Content::List {
                text,
                header: None,
                footer: None,
                button: menu
                    .list_button
                    .clone()
                    .unwrap_or_else(|| DEFAULT_LIST_BUTTON.to_string()),
                sections: vec![ListSection {
                    title: None,
                    rows: menu
                        .options
                        .iter()
                        .map(|option| ListRow {
                            id: option.key.clone(),
                            title: title(option),
                            description: option.description.clone(),
                        })
                        .collect(),
                }],
            },
        };
        if let Content::Buttons { buttons, .. } = &message {
            self.offer(buttons.iter().map(|button| button.id.clone()).collect());
        }
        if let Content::List { sections, .. } = &message {
            self.offer(rows_of(sections));
        }
        self.send(message);
    }

    fn holds(&self, condition: &CompiledCondition) -> bool {
        let contact = &self.request.contact;
        match condition {
            CompiledCondition::Variable { name, comparison } => {
                comparison.test(self.state.vars.get(name).map(String::as_str))
            }
            CompiledCondition::Contact { field, comparison } => {
                let value = match field {
                    ContactField::Name => contact.name.as_deref(),
                    ContactField::WaId => Some(contact.wa_id.as_str()),
                    ContactField::Attribute(key) => self
                        .attribute_overrides
                        .get(key)
                        .or_else(|| contact.attributes.get(key))
                        .map(String::as_str),
                };
                comparison.test(value)
            }
            CompiledCondition::Tag(tag) => self.state.tags.contains(tag),
            CompiledCondition::BusinessHours(index) => self
                .bot
                .hours
                .get(*index)
                .is_some_and(|hours| hours.is_open(self.request.now_ms)),
        }
    }

    fn apply_set(&mut self, set: &SetNode) {
        for (name, template) in &set.vars {
            let value = self.render(template);
            if value.is_empty() {
                self.state.vars.remove(name);
            } else {
                self.state.vars.insert(name.clone(), value);
            }
        }
        for tag in &set.add_tags {
            if self.state.tags.insert(tag.clone()) {
                self.actions.push(Action::Tag { tag: tag.clone() });
            }
        }
        for tag in &set.remove_tags {
            if self.state.tags.remove(tag) {
                self.actions.push(Action::Untag { tag: tag.clone() });
            }
        }
        for (name, template) in &set.contact_attributes {
            let value = self.render(template);
            self.attribute_overrides.insert(name.clone(), value.clone());
            self.actions.push(Action::SetContactAttribute {
                name: name.clone(),
                value,
            });
        }
    }
}

/// The ids of a list's rows, in order across sections.
fn rows_of(sections: &[ListSection]) -> Vec<String> {
    sections
        .iter()
        .flat_map(|section| section.rows.iter().map(|row| row.id.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> CompiledBot {
        let json: serde_json::Value =
            serde_json::from_str(include_str!("../fixtures/demo-bot.json")).unwrap();
        CompiledBot::compile(&json).unwrap()
    }

    fn request(state: Option<ConversationState>, text: &str, now_ms: i64) -> RouteRequest {
        RouteRequest {
            state,
            message: InboundMessage {
                id: "m1".into(),
                text: text.into(),
                reply_id: None,
                content: None,
            },
            contact: Contact {
                wa_id: "+15550100002".into(),
                name: Some("Ada".into()),
                attributes: BTreeMap::new(),
            },
            now_ms,
            seed: 0,
        }
    }

    fn texts(output: &RouteOutput) -> Vec<&str> {
        output
            .actions
            .iter()
            .filter_map(|action| match action {
                Action::SendMessage {
                    message: Content::Text { text, .. },
                } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    const NOW: i64 = 1_700_000_000_000;

    #[test]
    fn greets_ada_with_the_demo_bot() {
        let output = route(&demo(), &request(None, "hi", NOW));
        assert_eq!(
            texts(&output),
            vec![
                "Hi Ada! I'm the demo bot.",
                "Reply 1 for opening hours, 2 for our address, or 3 to talk to a person."
            ]
        );
        assert_eq!(output.outcome, "trigger:welcome");
        assert_eq!(output.state.last_inbound_at_ms, Some(NOW));
    }

    #[test]
    fn the_one_shot_wrapper_agrees_and_reports_invalid_definitions() {
        let mut definition: serde_json::Value =
            serde_json::from_str(include_str!("../fixtures/demo-bot.json")).unwrap();
        let input = RouteInput {
            definition: definition.clone(),
            state: None,
            message: InboundMessage {
                id: "m1".into(),
                text: "hi".into(),
                reply_id: None,
                content: None,
            },
            contact: request(None, "hi", NOW).contact,
            now_ms: NOW,
            seed: 0,
        };
        assert_eq!(
            route_once(&input).unwrap(),
            route(&demo(), &request(None, "hi", NOW))
        );
        definition["nodes"][0]["next"] = "ghost".into();
        let error = route_once(&RouteInput {
            definition,
            ..input
        })
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid bot definition: $.nodes[0].next: unknown node \"ghost\""
        );
    }

    #[test]
    fn a_handoff_is_silent_until_released() {
        let handed_off = ConversationState {
            handoff: true,
            awaiting: Some("menu".into()),
            retries: 1,
            last_inbound_at_ms: Some(NOW),
            ..ConversationState::default()
        };
        let silent = route(&demo(), &request(Some(handed_off.clone()), "hi", NOW + 1));
        assert_eq!(silent.actions, vec![]);
        assert_eq!(silent.outcome, "silent:handoff");
        let released = release_handoff(silent.state);
        assert!(!released.handoff);
        assert_eq!(released.awaiting, None);
        assert_eq!(released.retries, 0);
        let answered = route(&demo(), &request(Some(released), "hi", NOW + 2));
        assert_eq!(answered.outcome, "trigger:welcome");
    }

    #[test]
    fn an_awaited_node_missing_from_this_version_is_forgotten() {
        let state = ConversationState {
            awaiting: Some("gone".into()),
            last_inbound_at_ms: Some(NOW),
            ..ConversationState::default()
        };
        let output = route(&demo(), &request(Some(state), "2", NOW + 1));
        assert_eq!(output.outcome, "fallback");
        assert_eq!(output.state.awaiting, None);
    }

    #[test]
    fn the_timeout_counts_from_the_last_inbound_message() {
        let greeted = route(&demo(), &request(None, "hi", NOW)).state;
        let within = route(
            &demo(),
            &request(Some(greeted.clone()), "2", NOW + 59 * 60_000),
        );
        assert_eq!(within.outcome, "menu:menu");
        let after = route(&demo(), &request(Some(greeted), "2", NOW + 60 * 60_000));
        assert_eq!(after.outcome, "fallback");
    }

    #[test]
    fn state_round_trips_through_json_with_defaults() {
        let state: ConversationState =
            serde_json::from_value(serde_json::json!({"awaiting": "menu", "retries": 1, "vars": {}, "last_inbound_at_ms": 5}))
                .unwrap();
        assert_eq!(state.awaiting.as_deref(), Some("menu"));
        assert!(!state.opted_out);
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"awaiting": "menu", "retries": 1, "vars": {}, "tags": [], "handoff": false, "opted_out": false, "last_inbound_at_ms": 5})
        );
    }

    #[test]
    fn requests_reject_unknown_fields() {
        let error = serde_json::from_value::<RouteRequest>(serde_json::json!({
            "message": {"id": "m", "text": "hi"},
            "contact": {"wa_id": "+1"},
            "now_ms": 0,
            "colour": "blue"
        }))
        .unwrap_err();
        assert!(error.to_string().contains("colour"), "{error}");
    }

    fn rich_bot() -> CompiledBot {
        CompiledBot::compile(&serde_json::json!({
            "format": 1,
            "name": "Rich",
            "fallback": "Sorry, I didn't get that",
            "triggers": [
                {"match": "kind", "value": "media", "start": "thanks_photo"},
                {"match": "exact", "value": "yes", "start": "confirmed"},
                {"match": "exact", "value": "order", "start": "ask_photo"},
                {"match": "exact", "value": "menu please", "start": "choose"},
                {"match": "exact", "value": "promo", "start": "promo"}
            ],
            "nodes": [
                {"type": "message", "id": "thanks_photo", "text": "Nice picture"},
                {"type": "message", "id": "confirmed", "text": "Confirmed"},
                {"type": "message", "id": "choose", "text": "Ready?",
                 "buttons": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]},
                {"type": "input", "id": "ask_photo", "text": "Send a photo of the order",
                 "variable": "order_photo", "validation": {"kind": "attachment", "accept": ["image"]},
                 "retry_text": "A photo, please", "next": "got_it"},
                {"type": "message", "id": "got_it", "text": "Got {{vars.order_photo_kind}}"},
                {"type": "message", "id": "promo", "media": {"url": "https://example.com/p.jpg", "mime_type": "image/jpeg", "caption": "For {{contact.name}}"}, "next": "promo_template"},
                {"type": "template", "id": "promo_template", "name": "order_update", "language": "en_US",
                 "parameters": {"body": ["{{contact.name}}", "42"], "quick_replies": ["track"]}}
            ]
        }))
        .unwrap()
    }

    fn content_request(
        state: Option<ConversationState>,
        content: Content,
        now_ms: i64,
    ) -> RouteRequest {
        let mut request = request(state, &content.summary(), now_ms);
        request.message.content = Some(content);
        request
    }

    fn image() -> Content {
        Content::Image(Media {
            media_id: Some("m-1".into()),
            mime_type: Some("image/jpeg".into()),
            ..Media::default()
        })
    }

    #[test]
    fn a_reaction_or_system_notice_gets_no_reply_unless_the_bot_opts_in() {
        let reaction = Content::Reaction {
            message_id: "wamid.1".into(),
            emoji: "👍".into(),
        };
        let output = route(&rich_bot(), &content_request(None, reaction.clone(), NOW));
        assert_eq!(output.outcome, "ignored:reaction");
        assert!(output.actions.is_empty());
        assert_eq!(output.state.last_inbound_at_ms, None);
        let system = Content::System {
            system_type: "user_changed_number".into(),
            text: "Ada changed her number".into(),
            new_wa_id: Some("15550100009".into()),
        };
        assert_eq!(
            route(&rich_bot(), &content_request(None, system, NOW)).outcome,
            "ignored:system"
        );
        let mut definition = rich_bot().definition().clone();
        definition.route_reactions = true;
        let opted_in = CompiledBot::compile(&serde_json::to_value(&definition).unwrap()).unwrap();
        let output = route(&opted_in, &content_request(None, reaction, NOW));
        assert_eq!(output.outcome, "fallback");
    }

    #[test]
    fn a_tap_routes_by_its_id_and_a_typed_number_counts_as_a_tap() {
        let tap = Content::ButtonReply {
            id: "yes".into(),
            title: "Sure!".into(),
        };
        let output = route(&rich_bot(), &content_request(None, tap, NOW));
        assert_eq!(output.outcome, "trigger:confirmed");
        let shown = route(&rich_bot(), &request(None, "menu please", NOW));
        assert_eq!(
            shown.state.offered,
            vec!["yes".to_string(), "no".to_string()]
        );
        let typed = route(
            &rich_bot(),
            &request(Some(shown.state.clone()), "1", NOW + 1000),
        );
        assert_eq!(typed.outcome, "trigger:confirmed");
        let out_of_range = route(&rich_bot(), &request(Some(shown.state), "7", NOW + 1000));
        assert_eq!(out_of_range.outcome, "fallback");
    }

    #[test]
    fn kind_triggers_and_attachment_inputs() {
        let output = route(&rich_bot(), &content_request(None, image(), NOW));
        assert_eq!(output.outcome, "trigger:thanks_photo");
        let asked = route(&rich_bot(), &request(None, "order", NOW));
        assert_eq!(asked.state.awaiting.as_deref(), Some("ask_photo"));
        let text = route(
            &rich_bot(),
            &request(Some(asked.state.clone()), "here", NOW + 1),
        );
        assert_eq!(texts(&text), vec!["A photo, please"]);
        let photo = route(
            &rich_bot(),
            &content_request(Some(asked.state), image(), NOW + 2),
        );
        assert_eq!(photo.outcome, "input:ask_photo");
        assert_eq!(
            photo.state.vars.get("order_photo").map(String::as_str),
            Some("m1")
        );
        assert_eq!(texts(&photo), vec!["Got image"]);
    }

    #[test]
    fn a_media_node_sends_the_media_and_a_template_node_its_parameters() {
        let output = route(&rich_bot(), &request(None, "promo", NOW));
        let sent: Vec<serde_json::Value> = output
            .actions
            .iter()
            .filter_map(|action| match action {
                Action::SendMessage { message } => Some(serde_json::to_value(message).unwrap()),
                _ => None,
            })
            .collect();
        assert_eq!(
            sent,
            vec![
                serde_json::json!({"kind": "image", "url": "https://example.com/p.jpg",
                                   "mime_type": "image/jpeg", "caption": "For Ada"}),
                serde_json::json!({"kind": "template", "name": "order_update", "language": "en_US",
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "42"}]},
                    {"type": "button", "sub_type": "quick_reply", "index": 0,
                     "parameters": [{"type": "payload", "payload": "track"}]}
                ]}),
            ]
        );
        assert_eq!(output.state.offered, vec!["track".to_string()]);
    }

    #[test]
    fn validation_names_bad_kinds_media_and_templates() {
        let report = CompiledBot::compile(&serde_json::json!({
            "format": 1, "name": "Bad",
            "triggers": [{"match": "kind", "value": "hologram", "start": "a"}],
            "nodes": [
                {"type": "message", "id": "a", "media": {"url": "ftp://x/y.gif", "mime_type": "image/gif"}, "next": "b"},
                {"type": "template", "id": "b", "name": "Order Update", "language": "en_US", "next": "c"},
                {"type": "input", "id": "c", "text": "?", "variable": "v", "validation": {"kind": "attachment", "accept": ["smell"]}}
            ]
        }))
        .unwrap_err();
        let paths: Vec<&str> = report
            .errors
            .iter()
            .map(|problem| problem.path.as_str())
            .collect();
        assert_eq!(
            paths,
            vec![
                "$.triggers[0].value",
                "$.nodes[0].media.url",
                "$.nodes[0].media.mime_type",
                "$.nodes[1].name",
                "$.nodes[2].validation.accept",
            ],
            "{report:?}"
        );
    }
}
