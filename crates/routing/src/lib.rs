//! Bot routing for the WhatsApp bot platform.
//!
//! Given a compiled bot definition, a conversation's saved state and one
//! inbound message, [`route`] decides what the bot does (send messages, hand
//! off, opt the contact out or in, tag, notify the team) and what the
//! conversation's next state is. [`validate`] explains what is wrong with a
//! definition, and [`select_version`] picks the bot version (published or
//! canary) that answers a conversation.
//!
//! The crate is **sans-IO**: it reads no clock, opens no socket and draws no
//! random numbers. Time arrives as [`RouteRequest::now_ms`], variation as
//! [`RouteRequest::seed`], and decisions leave as data ([`RouteOutput`]).
//! The same code runs natively (daemon, tests) and as WebAssembly inside the
//! `route-message` Edge Function, through the `core-wasm` crate, and the
//! shared fixtures in `fixtures/` hold both to the same answers.
//!
//! # Layout
//!
//! - [`definition`]: the bot definition format (version 1), as serde types.
//! - [`validate`](mod@validate): problems, reports and the structural parse.
//! - [`compile`]: the semantic checks and [`CompiledBot`], the indexed form
//!   routing uses.
//! - [`engine`]: the step-bounded flow interpreter behind [`route`].
//! - [`inputs`]: validation of answers to input nodes.
//! - [`hours`]: business hours in IANA time zones.
//! - [`tz`]: IANA time zones as POSIX TZ rules, and the civil calendar.
//! - [`normalize`]: case-, accent- and punctuation-insensitive matching.
//! - [`template`]: `{{contact.name|default}}` substitution.
//! - [`version`]: version selection with sticky canaries.
//! - [`bench_support`]: the generated bot the benchmarks route through.
//!
//! # Typical use
//!
//! ```
//! use routing::{route, CompiledBot, Contact, InboundMessage, RouteRequest};
//!
//! let definition: serde_json::Value =
//!     serde_json::from_str(include_str!("../fixtures/demo-bot.json")).unwrap();
//! let bot = CompiledBot::compile(&definition).unwrap();
//! let output = route(
//!     &bot,
//!     &RouteRequest {
//!         state: None,
//!         message: InboundMessage::text("m1", "hi"),
//!         contact: Contact { wa_id: "+15550100002".into(), name: Some("Ada".into()), attributes: Default::default() },
//!         now_ms: 1_700_000_000_000,
//!         seed: 0,
//!     },
//! );
//! assert_eq!(output.outcome, "trigger:welcome");
//! assert_eq!(output.state.awaiting.as_deref(), Some("menu"));
//! ```

pub mod bench_support;
pub mod compile;
pub mod definition;
pub mod engine;
mod fold_table;
pub mod hours;
pub mod inputs;
pub mod normalize;
pub mod template;
pub mod tz;
mod tz_zones;
pub mod validate;
pub mod version;

/// The message model the routing reads and writes (`crates/message-model`).
pub use message_model;

pub use compile::CompiledBot;
pub use definition::{BotDefinition, Node, Trigger, TriggerMatch, FORMAT_VERSION};
pub use engine::{
    release_handoff, route, route_once, Action, Contact, ConversationState, InboundMessage,
    OutboundMessage, RouteInput, RouteOutput, RouteRequest, MAX_STEPS_PER_MESSAGE,
};
pub use validate::{
    check_bounds, parse_definition, validate, Problem, ProblemCode, ValidationReport,
    MAX_CAPTION_CHARS, MAX_DEFINITION_DEPTH, MAX_TEXT_CHARS,
};
pub use version::{
    select_version, CanaryVersion, NumberBot, PublishedVersion, VersionChoice, VersionReason,
    VersionSelectionInput,
};
