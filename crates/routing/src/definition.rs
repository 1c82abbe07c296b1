//! The bot definition format, version 1.
//!
//! A definition is one JSON document: [`Trigger`]s that start flows, the
//! [`Node`]s the flows are made of, and bot-wide settings (fallback reply,
//! conversation timeout, global commands, opt-out keywords, business hours).
//! `docs/bot-definition.md` explains every field with an example, and
//! `crates/routing/bot-definition.schema.json` is the JSON Schema generated
//! from these types (cargo feature `schema`).
//!
//! # Design
//!
//! - **Additive evolution.** Everything added after the first demo bot is
//!   optional with a default, so a format-1 document written for the first
//!   engine still means the same thing. A change that alters the meaning of
//!   an existing document would raise [`FORMAT_VERSION`].
//! - **Strict parsing.** Every struct denies unknown fields, so a typo such
//!   as `"nxt"` is reported instead of silently ignored.
//! - **Nodes reference each other by id**, never by position, so an editor
//!   can reorder the list freely. [`crate::CompiledBot`] turns the ids into
//!   indices once.
//! - These types only describe; checking them is [`crate::validate`]'s job,
//!   and running them is the engine's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The only definition format this crate understands.
pub const FORMAT_VERSION: u32 = 1;

/// The conversation timeout used when a definition does not set one.
pub const DEFAULT_CONVERSATION_TIMEOUT_MINUTES: u32 = 60;

/// The invalid answers a menu or input tolerates when it does not say.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// Opt-out keywords that every bot honours, whatever its definition says.
pub const BUILT_IN_OPT_OUT_KEYWORDS: &[&str] = &["stop", "unsubscribe"];

/// Opt-in keywords that every bot honours, whatever its definition says.
pub const BUILT_IN_OPT_IN_KEYWORDS: &[&str] = &["start"];

/// The restart keywords used when a definition does not list its own.
pub const DEFAULT_RESTART_KEYWORDS: &[&str] = &["restart"];

/// The menu keywords used when a definition does not list its own.
pub const DEFAULT_MENU_KEYWORDS: &[&str] = &["menu"];

pub use message_model::limits::{
    MAX_BUTTON_TITLE_CHARS, MAX_LIST_ROWS, MAX_REPLY_BUTTONS, MAX_ROW_TITLE_CHARS,
};
pub use message_model::{ListRow, ListSection, ReplyButton};

/// A complete bot definition as stored in `bot_versions.definition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BotDefinition {
    /// The definition format version; must be [`FORMAT_VERSION`].
    pub format: u32,
    /// A human-readable name for the bot.
    pub name: String,
    /// What starts a flow; the highest priority match wins, ties go to the
    /// trigger listed first.
    #[serde(default)]
    pub triggers: Vec<Trigger>,
    /// The node a new conversation starts at when no trigger matches its
    /// first message, and where the restart command leads.
    #[serde(default)]
    pub start: Option<String>,
    /// Every node of every flow, referenced by id.
    pub nodes: Vec<Node>,
    /// The reply sent when nothing else matches (a template).
    #[serde(default)]
    pub fallback: Option<String>,
    /// Minutes of silence from the contact after which the conversation
    /// starts afresh (awaited answer, retries and variables are forgotten);
    /// `0` keeps conversations forever.
    #[serde(default = "default_conversation_timeout_minutes")]
    pub conversation_timeout_minutes: u32,
    /// The global restart and menu commands.
    #[serde(default)]
    pub commands: Commands,
    /// Opt-out and opt-in keywords and their confirmations.
    #[serde(default)]
    pub opt_out: OptOutSettings,
    /// The weekly opening hours that `business_hours` conditions consult.
    #[serde(default)]
    pub business_hours: Option<BusinessHours>,
    /// Whether reactions (a 👍 on an earlier message) run the bot like any
    /// message; by default they are kept and get no reply, not even the
    /// fallback.
    #[serde(default)]
    pub route_reactions: bool,
    /// Whether system notices (a contact changed number) run the bot; by
    /// default they are kept and get no reply.
    #[serde(default)]
    pub route_system_messages: bool,
}

fn default_conversation_timeout_minutes() -> u32 {
    DEFAULT_CONVERSATION_TIMEOUT_MINUTES
}

fn default_max_retries() -> u32 {
    DEFAULT_MAX_RETRIES
}

fn default_restart_keywords() -> Vec<String> {
    DEFAULT_RESTART_KEYWORDS
        .iter()
        .map(|keyword| keyword.to_string())
        .collect()
}

fn default_menu_keywords() -> Vec<String> {
    DEFAULT_MENU_KEYWORDS
        .iter()
        .map(|keyword| keyword.to_string())
        .collect()
}

/// Keywords that work anywhere in a conversation, even while the bot waits
/// for an answer. A command matches when the whole message equals one of its
/// keywords (ignoring case, accents and punctuation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Commands {
    /// Forget the conversation (awaited answer, retries, variables) and go
    /// to [`BotDefinition::start`]; defaults to `["restart"]`.
    #[serde(default = "default_restart_keywords")]
    pub restart: Vec<String>,
    /// Go to [`Commands::menu_node`], keeping the variables; defaults to
    /// `["menu"]` and does nothing unless `menu_node` is set.
    #[serde(default = "default_menu_keywords")]
    pub menu: Vec<String>,
    /// The node the menu command leads to.
    #[serde(default)]
    pub menu_node: Option<String>,
}

impl Default for Commands {
    fn default() -> Self {
        Self {
            restart: default_restart_keywords(),
            menu: default_menu_keywords(),
            menu_node: None,
        }
    }
}

/// How contacts stop and resume messages from the bot. The keywords in
/// [`BUILT_IN_OPT_OUT_KEYWORDS`] and [`BUILT_IN_OPT_IN_KEYWORDS`] always
/// apply; these settings add to them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OptOutSettings {
    /// Extra keywords that opt the contact out.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Extra keywords that opt the contact back in.
    #[serde(default)]
    pub opt_in_keywords: Vec<String>,
    /// The one message sent when a contact opts out; none when absent.
    #[serde(default)]
    pub confirmation: Option<String>,
    /// The message sent when a contact opts back in; none when absent.
    #[serde(default)]
    pub opt_in_confirmation: Option<String>,
}

/// Weekly opening hours in an IANA time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// The IANA time zone the hours are local to, such as `Europe/Lisbon`.
    pub time_zone: String,
    /// The opening intervals of each weekday.
    #[serde(default)]
    pub weekly: WeeklyHours,
    /// Dates (`YYYY-MM-DD`, local) on which the business stays closed.
    #[serde(default)]
    pub closed_dates: Vec<String>,
}

/// The opening intervals of each day of the week; a day without intervals
/// is closed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    /// Monday's opening intervals.
    #[serde(default)]
    pub monday: Vec<OpeningInterval>,
    /// Tuesday's opening intervals.
    #[serde(default)]
    pub tuesday: Vec<OpeningInterval>,
    /// Wednesday's opening intervals.
    #[serde(default)]
    pub wednesday: Vec<OpeningInterval>,
    /// Thursday's opening intervals.
    #[serde(default)]
    pub thursday: Vec<OpeningInterval>,
    /// Friday's opening intervals.
    #[serde(default)]
    pub friday: Vec<OpeningInterval>,
    /// Saturday's opening intervals.
    #[serde(default)]
    pub saturday: Vec<OpeningInterval>,
    /// Sunday's opening intervals.
    #[serde(default)]
    pub sunday: Vec<OpeningInterval>,
}

impl WeeklyHours {
    /// Returns the days from Monday to Sunday with their JSON field names.
    pub fn days(&self) -> [(&'static str, &[OpeningInterval]); 7] {
        [
            ("monday", &self.monday),
            ("tuesday", &self.tuesday),
            ("wednesday", &self.wednesday),
            ("thursday", &self.thursday),
            ("friday", &self.friday),
            ("saturday", &self.saturday),
            ("sunday", &self.sunday),
        ]
    }
}

/// One opening interval of a day, in local wall-clock time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OpeningInterval {
    /// The opening time, `HH:MM` (inclusive).
    pub open: String,
    /// The closing time, `HH:MM` after `open` (exclusive); `24:00` is the
    /// end of the day.
    pub close: String,
}

/// How a trigger compares the inbound message with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TriggerMatch {
    /// The whole normalised message (or a button reply's id) equals the
    /// normalised value.
    Exact,
    /// The normalised value occurs in the normalised message as whole words.
    Keyword,
    /// The value is a regular expression that matches the message, seen
    /// lowercased and without accents (punctuation kept).
    Regex,
    /// Every message matches; useful as a lowest-priority catch-all. It does
    /// not interrupt a menu or input waiting for an answer.
    Any,
    /// The message is of the kind named in `value` (`image`, `location`,
    /// `document`, …, or `media` for any picture, video, audio, voice note,
    /// document or sticker).
    Kind,
}

/// A rule that starts a flow at a node when an inbound message matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// The comparison to apply.
    #[serde(rename = "match")]
    pub match_kind: TriggerMatch,
    /// The text or pattern to compare with; ignored for `any`.
    #[serde(default)]
    pub value: String,
    /// The id of the node the flow starts at.
    pub start: String,
    /// Higher priorities are tried first; ties keep definition order.
    #[serde(default)]
    pub priority: i32,
}

/// A step of a flow, tagged by its `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Node {
    /// Sends one message, then continues.
    Message(MessageNode),
    /// Sends a prompt and waits for the contact to pick an option.
    Menu(MenuNode),
    /// Sends a prompt and waits for an answer to store in a variable.
    Input(InputNode),
    /// Continues at the first rule whose condition holds.
    Condition(ConditionNode),
    /// Sets variables, tags and contact attributes, then continues.
    Set(SetNode),
    /// Sends a message to the team (not the contact), then continues.
    Notify(NotifyNode),
    /// Hands the conversation to a person; the bot stays silent until
    /// released.
    Handoff(HandoffNode),
    /// Sends an approved template (Cloud API), then continues.
    Template(TemplateNode),
    /// Ends the flow.
    End(EndNode),
}

/// The node types, as written in `type`.
pub const NODE_TYPES: &[&str] = &[
    "message",
    "menu",
    "input",
    "condition",
    "set",
    "notify",
    "handoff",
    "template",
    "end",
];

// Deserialisation is written by hand (see `Node::from_json`): serde's derived
// code for internally tagged enums buffers every node in its private
// `Content` type and instantiates every nested type's code a second time for
// that buffer. Dispatching on `type` over a `serde_json::Value` behaves the
// same with less WebAssembly.
impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = serde_json::Value::deserialize(deserializer)?;
        Node::from_json(json).map_err(serde::de::Error::custom)
    }
}

impl Node {
    /// Reads a node from JSON, dispatching on its `type` field.
    pub fn from_json(mut json: serde_json::Value) -> Result<Node, serde_json::Error> {
        use serde::de::Error;
        let Some(object) = json.as_object_mut() else {
            return Err(serde_json::Error::custom(
                "invalid type: expected a node object",
            ));
        };
        let node_type = match object.remove("type") {
            Some(serde_json::Value::String(node_type)) => node_type,
            Some(_) => {
                return Err(serde_json::Error::custom(
                    "invalid type: `type` must be a string",
                ))
            }
            None => return Err(serde_json::Error::missing_field("type")),
        };
        let json = &json;
        Ok(match node_type.as_str() {
            "message" => Node::Message(MessageNode::deserialize(json)?),
            "menu" => Node::Menu(MenuNode::deserialize(json)?),
            "input" => Node::Input(InputNode::deserialize(json)?),
            "condition" => Node::Condition(ConditionNode::deserialize(json)?),
            "set" => Node::Set(SetNode::deserialize(json)?),
            "notify" => Node::Notify(NotifyNode::deserialize(json)?),
            "handoff" => Node::Handoff(HandoffNode::deserialize(json)?),
            "template" => Node::Template(TemplateNode::deserialize(json)?),
            "end" => Node::End(EndNode::deserialize(json)?),
            other => return Err(serde_json::Error::unknown_variant(other, NODE_TYPES)),
        })
    }

    /// Returns the node's id.
    pub fn id(&self) -> &str {
        match self {
            Node::Message(node) => &node.id,
            Node::Menu(node) => &node.id,
            Node::Input(node) => &node.id,
            Node::Condition(node) => &node.id,
            Node::Set(node) => &node.id,
            Node::Notify(node) => &node.id,
            Node::Handoff(node) => &node.id,
            Node::Template(node) => &node.id,
            Node::End(node) => &node.id,
        }
    }

    /// Returns true for the nodes that stop a run to wait for the contact
    /// (or stop it for good): menus, inputs, handoffs and ends.
    pub fn stops_the_run(&self) -> bool {
        matches!(
            self,
            Node::Menu(_) | Node::Input(_) | Node::Handoff(_) | Node::End(_)
        )
    }

    /// Returns the ids this node can continue at, each with the JSON path of
    /// the field naming it, relative to the node.
    pub fn references(&self) -> Vec<(String, &str)> {
        fn push<'a>(
            references: &mut Vec<(String, &'a str)>,
            field: &str,
            target: &'a Option<String>,
        ) {
            if let Some(target) = target {
                references.push((field.to_string(), target.as_str()));
            }
        }
        let mut references = Vec::new();
        match self {
            Node::Message(node) => push(&mut references, "next", &node.next),
            Node::Menu(node) => {
                for (index, option) in node.options.iter().enumerate() {
                    references.push((format!("options[{index}].next"), option.next.as_str()));
                }
                if let Some(target) = &node.on_retries_exhausted {
                    references.push(("on_retries_exhausted".into(), target.as_str()));
                }
            }
            Node::Input(node) => {
                push(&mut references, "next", &node.next);
                push(
                    &mut references,
                    "on_retries_exhausted",
                    &node.on_retries_exhausted,
                );
            }
            Node::Condition(node) => {
                for (index, rule) in node.rules.iter().enumerate() {
                    references.push((format!("rules[{index}].next"), rule.next.as_str()));
                }
                push(&mut references, "else", &node.else_next);
            }
            Node::Set(node) => push(&mut references, "next", &node.next),
            Node::Notify(node) => push(&mut references, "next", &node.next),
            Node::Template(node) => push(&mut references, "next", &node.next),
            Node::Handoff(_) | Node::End(_) => {}
        }
        references
    }
}

/// Sends one message: text, media, text with reply buttons, or a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MessageNode {
    /// The node's unique id.
    pub id: String,
    /// The text (a template); the body of a buttons or list message.
    #[serde(default)]
    pub text: Option<String>,
    /// Alternative texts; when present the request's seed picks one, so
    /// replies vary without the engine drawing random numbers.
    #[serde(default)]
    pub variants: Vec<String>,
    /// A picture, video, audio or document to send instead of text.
    #[serde(default)]
    pub media: Option<MediaContent>,
    /// Up to three reply buttons shown under the text.
    #[serde(default)]
    pub buttons: Vec<ReplyButton>,
    /// A list of rows, opened by a button, shown with the text.
    #[serde(default)]
    pub list: Option<ListContent>,
    /// A place to send instead of text (a pin with a name and address).
    #[serde(default)]
    pub location: Option<LocationContent>,
    /// The node to continue at; the flow ends when absent.
    #[serde(default)]
    pub next: Option<String>,
}

/// Media sent by reference: a URL, an id WhatsApp issued, or an object in
/// the platform's media bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MediaContent {
    /// What is sent: `image`, `video`, `audio`, `voice`, `document` or
    /// `sticker`; taken from the MIME type when absent.
    #[serde(default)]
    pub kind: Option<MediaKind>,
    /// A URL the media is fetched from (http or https; it passes the
    /// outbound-URL guard).
    #[serde(default)]
    pub url: Option<String>,
    /// The id of media already uploaded to WhatsApp.
    #[serde(default)]
    pub media_id: Option<String>,
    /// The key of an object in the platform's media bucket (an upload).
    #[serde(default)]
    pub storage_key: Option<String>,
    /// The media's MIME type, such as `image/jpeg` or `application/pdf`.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// The caption shown under the media (a template).
    #[serde(default)]
    pub caption: Option<String>,
    /// The file name shown for documents.
    #[serde(default)]
    pub filename: Option<String>,
}

/// A place a message node sends: the model's location, read strictly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LocationContent {
    /// Degrees north, -90 to 90.
    pub latitude: f64,
    /// Degrees east, -180 to 180.
    pub longitude: f64,
    /// The place's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The place's address.
    #[serde(default)]
    pub address: Option<String>,
}

impl From<&LocationContent> for message_model::Location {
    fn from(location: &LocationContent) -> Self {
        message_model::Location {
            latitude: location.latitude,
            longitude: location.longitude,
            name: location.name.clone(),
            address: location.address.clone(),
        }
    }
}

/// The media kinds a message node can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// A picture.
    Image,
    /// A video.
    Video,
    /// An audio file.
    Audio,
    /// A voice note (OGG/Opus).
    Voice,
    /// A document.
    Document,
    /// A sticker (WebP).
    Sticker,
}

impl MediaKind {
    /// Returns the kind as written in `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Voice => "voice",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }

    /// Returns the kind a MIME type is sent as.
    pub fn for_mime(mime_type: &str) -> Option<MediaKind> {
        Some(
            match message_model::limits::media_kind_for_mime(mime_type)? {
                "image" => MediaKind::Image,
                "video" => MediaKind::Video,
                "audio" => MediaKind::Audio,
                "document" => MediaKind::Document,
                "sticker" => MediaKind::Sticker,
                _ => return None,
            },
        )
    }
}

/// The list part of a list message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ListContent {
    /// The label of the button that opens the list.
    pub button: String,
    /// The list's sections, each with rows.
    pub sections: Vec<ListSection>,
}

/// How a menu shows its options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MenuDisplay {
    /// The prompt text alone; it should list the options itself.
    #[default]
    Text,
    /// One reply button per option (at most three), titled by the option.
    Buttons,
    /// A list message with one row per option (at most ten).
    List,
}

/// Sends a prompt and waits for the contact to pick an option, by key, by
/// title, by keyword or by tapping a button or row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MenuNode {
    /// The node's unique id.
    pub id: String,
    /// The prompt (a template).
    pub text: String,
    /// The choices.
    pub options: Vec<MenuOption>,
    /// How the options are shown.
    #[serde(default)]
    pub display: MenuDisplay,
    /// The label of the button that opens the list (`display: list`).
    #[serde(default)]
    pub list_button: Option<String>,
    /// The reply to an answer that picks no option (a template); the
    /// fallback reply is used when absent.
    #[serde(default)]
    pub invalid_text: Option<String>,
    /// How many invalid answers are tolerated before giving up.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Where to continue once retries are exhausted; when absent the
    /// fallback reply is sent and the flow ends.
    #[serde(default)]
    pub on_retries_exhausted: Option<String>,
}

/// One choice of a menu.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MenuOption {
    /// The answer that picks this option, typically "1", "2", …; also the
    /// button or row id when the menu is shown as buttons or a list.
    pub key: String,
    /// The button or row title; typing it also picks the option.
    #[serde(default)]
    pub title: Option<String>,
    /// The row description (`display: list`).
    #[serde(default)]
    pub description: Option<String>,
    /// Words that pick this option when they occur in the answer.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The node the flow continues at.
    pub next: String,
}

/// Sends a prompt and waits for an answer, which is validated and stored in
/// a variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct InputNode {
    /// The node's unique id.
    pub id: String,
    /// The prompt (a template).
    pub text: String,
    /// The variable the answer is stored in (letters, digits, `_`).
    pub variable: String,
    /// What a valid answer looks like; any non-empty text when absent.
    #[serde(default)]
    pub validation: InputValidation,
    /// The reply to an invalid answer (a template); the fallback reply is
    /// used when absent.
    #[serde(default)]
    pub retry_text: Option<String>,
    /// How many invalid answers are tolerated before giving up.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// The node to continue at once the answer is stored; the flow ends
    /// when absent.
    #[serde(default)]
    pub next: Option<String>,
    /// Where to continue once retries are exhausted; when absent the
    /// fallback reply is sent and the flow ends.
    #[serde(default)]
    pub on_retries_exhausted: Option<String>,
}

/// The rule an input's answer must satisfy, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum InputValidation {
    /// Any non-empty text, optionally bounded in length (characters).
    Text {
        /// The fewest characters accepted.
        #[serde(default)]
        min_length: Option<u32>,
        /// The most characters accepted.
        #[serde(default)]
        max_length: Option<u32>,
    },
    /// A decimal number (`,` or `.` as separator), optionally bounded; it is
    /// stored with a `.` separator.
    Number {
        /// The smallest value accepted.
        #[serde(default)]
        min: Option<f64>,
        /// The largest value accepted.
        #[serde(default)]
        max: Option<f64>,
        /// Whether only whole numbers are accepted.
        #[serde(default)]
        integer: bool,
    },
    /// An email address; stored trimmed.
    Email,
    /// A phone number of 7 to 15 digits (spaces, dashes, dots and brackets
    /// allowed); stored as digits with the leading `+` kept.
    Phone,
    /// One of a fixed set of answers (compared ignoring case and accents, or
    /// by button/row id); the matching choice is stored as written here.
    Choice {
        /// The accepted answers.
        choices: Vec<String>,
    },
    /// Text the regular expression matches (use `^…$` for the whole
    /// answer); stored trimmed.
    Regex {
        /// The pattern, in the `regex` crate's syntax.
        pattern: String,
    },
    /// A message of one of the kinds in `accept` (`image`, `video`,
    /// `audio`, `voice`, `document`, `sticker`, `location`, `contacts`, or
    /// `media` for any of the six media kinds). A location is stored as
    /// `latitude,longitude`; anything else as the platform's message id
    /// (the file is on that message), and `<variable>_kind` holds the kind.
    Attachment {
        /// The kinds accepted.
        accept: Vec<String>,
    },
}

impl Default for InputValidation {
    fn default() -> Self {
        InputValidation::Text {
            min_length: None,
            max_length: None,
        }
    }
}

/// Continues at the first rule whose condition holds, or at `else`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConditionNode {
    /// The node's unique id.
    pub id: String,
    /// The rules, tried in order.
    pub rules: Vec<ConditionRule>,
    /// Where to continue when no rule holds; the flow ends when absent.
    #[serde(default, rename = "else")]
    pub else_next: Option<String>,
}

/// One branch of a condition node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConditionRule {
    /// What must hold.
    pub when: Condition,
    /// Where to continue when it does.
    pub next: String,
}

/// A test on the conversation, the contact or the clock, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Compares a conversation variable.
    Variable {
        /// The variable's name.
        name: String,
        /// The comparison.
        op: Comparison,
        /// The value to compare with (not needed by `exists`/`missing`).
        #[serde(default)]
        value: Option<String>,
    },
    /// Compares a contact field: `name`, `wa_id` or `attributes.<key>`.
    Contact {
        /// The field.
        field: String,
        /// The comparison.
        op: Comparison,
        /// The value to compare with (not needed by `exists`/`missing`).
        #[serde(default)]
        value: Option<String>,
    },
    /// Holds when the conversation carries the tag.
    Tag {
        /// The tag.
        tag: String,
    },
    /// Holds while the business is open at the request's `now_ms`.
    BusinessHours {
        /// Hours to use instead of the definition's `business_hours`.
        #[serde(default)]
        hours: Option<BusinessHours>,
    },
}

/// How a condition compares a value. Text comparisons ignore case, accents
/// and punctuation; a missing value is the empty text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// The value equals the expected text.
    Equals,
    /// The value differs from the expected text.
    NotEquals,
    /// The value contains the expected text as whole words.
    Contains,
    /// The regular expression in `value` matches the raw value.
    Matches,
    /// The value is present and not blank.
    Exists,
    /// The value is absent or blank.
    Missing,
    /// Both are numbers and the value is larger.
    GreaterThan,
    /// Both are numbers and the value is smaller.
    LessThan,
}

impl Comparison {
    /// Returns true when the comparison needs a `value`.
    pub fn needs_value(self) -> bool {
        !matches!(self, Comparison::Exists | Comparison::Missing)
    }
}

/// Sets variables, tags and contact attributes, then continues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SetNode {
    /// The node's unique id.
    pub id: String,
    /// Variables to set, name to value (a template; empty removes it).
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Tags to add to the conversation (each also becomes a `tag` action).
    #[serde(default)]
    pub add_tags: Vec<String>,
    /// Tags to remove (each also becomes an `untag` action).
    #[serde(default)]
    pub remove_tags: Vec<String>,
    /// Contact attributes to set, name to value (a template); each becomes a
    /// `set_contact_attribute` action.
    #[serde(default)]
    pub contact_attributes: BTreeMap<String, String>,
    /// The node to continue at; the flow ends when absent.
    #[serde(default)]
    pub next: Option<String>,
}

/// Sends a message to the team, then continues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NotifyNode {
    /// The node's unique id.
    pub id: String,
    /// The message for the team (a template).
    pub text: String,
    /// The node to continue at; the flow ends when absent.
    #[serde(default)]
    pub next: Option<String>,
}

/// Hands the conversation to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HandoffNode {
    /// The node's unique id.
    pub id: String,
    /// A last message to the contact (a template), such as "A person will
    /// reply soon."
    #[serde(default)]
    pub text: Option<String>,
    /// Why the conversation is handed off (a template), for the inbox.
    pub reason: String,
    /// A message for the team (a template); becomes a `notify` action.
    #[serde(default)]
    pub notify: Option<String>,
}

/// Sends an approved message template (Cloud API), the only message a
/// business may send once the 24-hour customer-service window closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TemplateNode {
    /// The node's unique id.
    pub id: String,
    /// The template's name, as approved (lowercase letters, digits, `_`).
    pub name: String,
    /// The template's language code, such as `en_US`.
    pub language: String,
    /// The values of the template's placeholders.
    #[serde(default)]
    pub parameters: TemplateParameters,
    /// The node to continue at; the flow ends when absent.
    #[serde(default)]
    pub next: Option<String>,
}

/// The values of a template's placeholders, in order, per component. Text
/// values are templates (`{{contact.name}}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TemplateParameters {
    /// The header's text placeholders.
    #[serde(default)]
    pub header: Vec<String>,
    /// A header image, video or document, for templates with a media header.
    #[serde(default)]
    pub header_media: Option<MediaContent>,
    /// The body's placeholders, `{{1}}`, `{{2}}`, ….
    #[serde(default)]
    pub body: Vec<String>,
    /// The payloads of quick-reply buttons, by button position; a tap comes
    /// back as a button reply with this id.
    #[serde(default)]
    pub quick_replies: Vec<String>,
}

/// Ends the flow: the bot stops waiting for an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EndNode {
    /// The node's unique id.
    pub id: String,
}
