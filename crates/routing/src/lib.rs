//! Bot routing for the WhatsApp bot platform.
//!
//! Given a bot definition, a conversation's saved state and one inbound
//! message, [`route`] decides which replies the bot sends and what the
//! conversation's next state is. The crate is **sans-IO**: it reads no clock,
//! opens no socket and draws no random numbers. Time arrives as
//! [`RouteInput::now_ms`], and decisions leave as data ([`RouteOutput`]).
//! The same code runs natively (daemon, tests) and as WebAssembly inside the
//! `route-message` Edge Function, through the `core-wasm` crate.
//!
//! # Layout
//!
//! - [`definition`]: the bot definition format (version 1) and its validation.
//! - [`normalize`]: case-, accent- and punctuation-insensitive text matching.
//! - [`template`]: `{{contact.name|default}}` substitution in reply texts.
//! - [`engine`]: the step-bounded flow interpreter behind [`route`].

pub mod definition;
pub mod engine;
pub mod normalize;
pub mod template;

pub use definition::{BotDefinition, DefinitionError, Node, Trigger, TriggerMatch};
pub use engine::{
    route, Contact, ConversationState, InboundMessage, Reply, RouteInput, RouteOutput,
    RoutingError, MAX_STEPS_PER_MESSAGE,
};
