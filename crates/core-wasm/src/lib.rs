//! The WebAssembly boundary of the platform's Rust core.
//!
//! This crate holds no decisions of its own. Each export takes a plain JS
//! object, deserialises it into the core crates' typed input with
//! `serde-wasm-bindgen`, calls the pure function and returns a plain JS
//! object (JSON-compatible: maps become objects, never `Map`s). Errors become
//! JS `Error`s whose message names what is wrong and where. `scripts/build-wasm.sh`
//! compiles it with `wasm-bindgen --target web` and embeds the bytes in
//! `functions/_shared/core/`, where the Edge Functions load it once per
//! isolate; `functions/_shared/wasm.ts` gives the exports their TypeScript
//! types.
//!
//! # Layout
//!
//! - Routing: [`route`] (with a small cache of compiled bots keyed by the
//!   caller's `definition_key`, see [`has_compiled_bot`]),
//!   [`validate_definition`], [`select_version`], [`release_handoff`].
//! - Health: [`health`], dispatching to [`health::call_json`]
//!   (`transition`, `evaluate`, `evaluate_all`, `evaluate_runtime`,
//!   `reconnect_delay`, `pace`, `record_rate_limit_error`).
//! - Alerting: [`alerting`], dispatching to [`alerting::call_json`]
//!   (`reconcile`, `plan`).
//!
//! The [`api`] module is the same surface in plain Rust over
//! `serde_json::Value`, so native tests can drive exactly what the exports
//! drive.

use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

pub mod api;

/// How many compiled bots the isolate keeps. An Edge Function isolate serves
/// a handful of bot versions; compiling a 500-node bot costs far more than a
/// routing decision, so the recent ones are kept.
pub const COMPILED_BOT_CACHE_SIZE: usize = 16;

thread_local! {
    static COMPILED_BOTS: RefCell<Vec<(String, Rc<routing::CompiledBot>)>> = const { RefCell::new(Vec::new()) };
}

fn from_js<T: for<'de> Deserialize<'de>>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|error| JsError::new(&format!("invalid {what}: {error}")))
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|error| JsError::new(&format!("cannot return result: {error}")))
}

/// The input of [`route`]: a [`routing::RouteRequest`] plus the definition
/// or the key of an already compiled one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BoundaryRouteInput {
    #[serde(default)]
    definition_key: Option<String>,
    #[serde(default)]
    definition: Option<serde_json::Value>,
    #[serde(default)]
    state: Option<routing::ConversationState>,
    message: routing::InboundMessage,
    contact: routing::Contact,
    now_ms: i64,
    #[serde(default)]
    seed: u64,
}

fn compiled_bot(
    definition_key: Option<String>,
    definition: Option<serde_json::Value>,
) -> Result<Rc<routing::CompiledBot>, JsError> {
    if let Some(key) = &definition_key {
        let cached = COMPILED_BOTS.with(|cache| {
            cache
                .borrow()
                .iter()
                .find(|(cached_key, _)| cached_key == key)
                .map(|(_, bot)| Rc::clone(bot))
        });
        if let Some(bot) = cached {
            return Ok(bot);
        }
    }
    let Some(definition) = definition else {
        return Err(JsError::new(
            "invalid route input: `definition` is required unless `definition_key` names a compiled bot",
        ));
    };
    let bot = Rc::new(
        routing::CompiledBot::compile(&definition).map_err(|report| {
            JsError::new(&format!(
                "invalid bot definition: {}",
                api::describe_errors(&report)
            ))
        })?,
    );
    if let Some(key) = definition_key {
        COMPILED_BOTS.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() >= COMPILED_BOT_CACHE_SIZE {
                cache.remove(0);
            }
            cache.push((key, Rc::clone(&bot)));
        });
    }
    Ok(bot)
}

/// Decides what one inbound message causes.
///
/// Input: `{definition_key?, definition?, state, message: {id, text, reply_id?},
/// contact: {wa_id, name?, attributes?}, now_ms, seed?}`. With a
/// `definition_key` the compiled definition is kept and reused; `definition`
/// may then be left out when [`has_compiled_bot`] says it is cached.
/// Output: `{actions, state, outcome}`.
#[wasm_bindgen]
pub fn route(input: JsValue) -> Result<JsValue, JsError> {
    let input: BoundaryRouteInput = from_js(input, "route input")?;
    let bot = compiled_bot(input.definition_key, input.definition)?;
    let request = routing::RouteRequest {
        state: input.state,
        message: input.message,
        contact: input.contact,
        now_ms: input.now_ms,
        seed: input.seed,
    };
    to_js(&routing::route(&bot, &request))
}

/// Whether a bot compiled under `definition_key` is cached in this isolate.
#[wasm_bindgen]
pub fn has_compiled_bot(definition_key: &str) -> bool {
    COMPILED_BOTS.with(|cache| {
        cache
            .borrow()
            .iter()
            .any(|(cached_key, _)| cached_key == definition_key)
    })
}

/// Validates a bot definition: `{errors: [{path, code, message}], warnings: [...]}`.
#[wasm_bindgen]
pub fn validate_definition(definition: JsValue) -> Result<JsValue, JsError> {
    let definition: serde_json::Value = from_js(definition, "definition")?;
    to_js(&routing::validate(&definition))
}

/// Chooses the bot version for a conversation (published, canary or the
/// conversation's own): `{version_id, reason, bucket}`.
#[wasm_bindgen]
pub fn select_version(input: JsValue) -> Result<JsValue, JsError> {
    let input: routing::VersionSelectionInput = from_js(input, "version selection input")?;
    to_js(&routing::select_version(&input))
}

/// Returns the conversation state with the human handoff released.
#[wasm_bindgen]
pub fn release_handoff(state: JsValue) -> Result<JsValue, JsError> {
    let state: routing::ConversationState = from_js(state, "conversation state")?;
    to_js(&routing::release_handoff(state))
}

/// Calls the health function `name` (see [`health::call_json`]).
#[wasm_bindgen]
pub fn health(name: &str, input: JsValue) -> Result<JsValue, JsError> {
    let input: serde_json::Value = from_js(input, "health input")?;
    let output = api::health(name, input).map_err(|error| JsError::new(&error))?;
    to_js(&output)
}

/// Calls the alerting function `name` (see [`alerting::call_json`]).
#[wasm_bindgen]
pub fn alerting(name: &str, input: JsValue) -> Result<JsValue, JsError> {
    let input: serde_json::Value = from_js(input, "alerting input")?;
    let output = api::alerting(name, input).map_err(|error| JsError::new(&error))?;
    to_js(&output)
}
