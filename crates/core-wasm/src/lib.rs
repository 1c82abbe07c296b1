//! The WebAssembly boundary of the platform's Rust core.
//!
//! This crate holds no decisions of its own. Routing exports take a plain JS
//! object, deserialise it into the routing crate's typed input with
//! `serde-wasm-bindgen`, call the pure function and return a plain JS object
//! (JSON-compatible: maps become objects, never `Map`s). Health and alerting
//! exports take and return JSON text, because their inputs are bulky (see
//! [`health`]). Errors become JS `Error`s whose message names what is wrong
//! and where.
//!
//! `scripts/build-wasm.sh` builds two modules from this crate with cargo
//! features (docs/adr/0004-two-wasm-modules.md): `routing`, and `operations`
//! (`health` + `alerting`), each with `wasm-bindgen --target web` and
//! `wasm-opt -Oz`, and embeds their bytes in `functions/_shared/core/`.
//! `functions/_shared/routing.ts` and `functions/_shared/operations.ts` load
//! them once per isolate and give the exports their TypeScript types.
//!
//! # Layout
//!
//! - Routing (feature `routing`): [`route`] (with a small cache of compiled
//!   bots keyed by the caller's `definition_key`, see [`has_compiled_bot`]),
//!   [`validate_definition`], [`select_version`], [`release_handoff`].
//! - Health (feature `health`): [`health`], dispatching to
//!   [`health::call_json_text`] (`transition`, `evaluate`, `evaluate_all`,
//!   `evaluate_runtime`, `reconnect_delay`, `pace`, `record_rate_limit_error`).
//! - Alerting (feature `alerting`): [`alerting`], dispatching to
//!   [`alerting::call_json_text`] (`reconcile`, `plan`).
//!
//! The [`api`] module is the same surface in plain Rust over
//! `serde_json::Value`, so native tests drive exactly what the exports drive.

#[cfg(feature = "routing")]
use std::cell::RefCell;
#[cfg(feature = "routing")]
use std::rc::Rc;

#[cfg(feature = "routing")]
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

pub mod api;

/// How many compiled bots the isolate keeps. An Edge Function isolate serves
/// a handful of bot versions; compiling a 500-node bot costs far more than a
/// routing decision, so the recent ones are kept.
#[cfg(feature = "routing")]
pub const COMPILED_BOT_CACHE_SIZE: usize = 16;

#[cfg(feature = "routing")]
thread_local! {
    static COMPILED_BOTS: RefCell<Vec<(String, Rc<routing::CompiledBot>)>> = const { RefCell::new(Vec::new()) };
}

#[cfg(feature = "routing")]
fn from_js<T: for<'de> Deserialize<'de>>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|error| JsError::new(&format!("invalid {what}: {error}")))
}

#[cfg(feature = "routing")]
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|error| JsError::new(&format!("cannot return result: {error}")))
}

#[cfg(feature = "routing")]
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

#[cfg(feature = "routing")]
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

#[cfg(feature = "routing")]
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

#[cfg(feature = "routing")]
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

#[cfg(feature = "routing")]
/// Validates a bot definition: `{errors: [{path, code, message}], warnings: [...]}`.
#[wasm_bindgen]
pub fn validate_definition(definition: JsValue) -> Result<JsValue, JsError> {
    let definition: serde_json::Value = from_js(definition, "definition")?;
    to_js(&routing::validate(&definition))
}

#[cfg(feature = "routing")]
/// Chooses the bot version for a conversation (published, canary or the
/// conversation's own): `{version_id, reason, bucket}`.
#[wasm_bindgen]
pub fn select_version(input: JsValue) -> Result<JsValue, JsError> {
    let input: routing::VersionSelectionInput = from_js(input, "version selection input")?;
    to_js(&routing::select_version(&input))
}

#[cfg(feature = "routing")]
/// Returns the conversation state with the human handoff released.
#[wasm_bindgen]
pub fn release_handoff(state: JsValue) -> Result<JsValue, JsError> {
    let state: routing::ConversationState = from_js(state, "conversation state")?;
    to_js(&routing::release_handoff(state))
}

#[cfg(feature = "health")]
/// Calls the health function `name` (see [`health::call_json`]) with JSON
/// text in and JSON text out.
///
/// Health and alerting inputs can be bulky (a sweep over 10,000 numbers), and
/// text crosses the boundary far faster than an object graph:
/// `JSON.stringify` and `JSON.parse` are native, and serde_json parses the
/// typed input in one pass inside the module (see docs/adr/0004).
/// `functions/_shared/operations.ts` does the stringify and parse.
#[wasm_bindgen]
pub fn health(name: &str, input: &str) -> Result<String, JsError> {
    api::health_text(name, input).map_err(|error| JsError::new(&error))
}

#[cfg(feature = "alerting")]
/// Calls the alerting function `name` (see [`alerting::call_json`]) with
/// JSON text in and JSON text out, like [`health`].
#[wasm_bindgen]
pub fn alerting(name: &str, input: &str) -> Result<String, JsError> {
    api::alerting_text(name, input).map_err(|error| JsError::new(&error))
}

/// Benchmark support: routes the same input `repetitions` times inside the
/// module and returns the last output, so `scripts/bench/wasm-bench.ts` can
/// time routing decisions without the JS boundary in every iteration. Not
/// for production use.
#[cfg(feature = "routing")]
#[doc(hidden)]
#[wasm_bindgen]
pub fn bench_route_repeatedly(input: JsValue, repetitions: u32) -> Result<JsValue, JsError> {
    let input: BoundaryRouteInput = from_js(input, "route input")?;
    let bot = compiled_bot(input.definition_key, input.definition)?;
    let request = routing::RouteRequest {
        state: input.state,
        message: input.message,
        contact: input.contact,
        now_ms: input.now_ms,
        seed: input.seed,
    };
    let mut output = routing::route(&bot, &request);
    for _ in 1..repetitions {
        output = routing::route(&bot, std::hint::black_box(&request));
    }
    to_js(&output)
}
