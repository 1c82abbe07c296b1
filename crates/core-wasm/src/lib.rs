//! The WebAssembly boundary of the platform's Rust core.
//!
//! This crate holds no decisions of its own. Every export takes JSON text,
//! reads it into the core crate's typed input, calls the pure function and
//! returns JSON text; `functions/_shared/routing.ts` and `operations.ts` do
//! the `JSON.stringify` and `JSON.parse`. Errors become JS `Error`s whose
//! message names what is wrong and where (the JSON path).
//!
//! # Bounds, and why every input is text
//!
//! An input is bounded before anything reads it: at most
//! [`MAX_ROUTING_INPUT_BYTES`] (routing) or [`json_call::MAX_INPUT_BYTES`]
//! (health, alerting) bytes, nested at most [`json_call::MAX_NESTING_DEPTH`]
//! levels (serde_json's recursion limit, applied while it parses the text),
//! and a bot definition at most [`routing::MAX_DEFINITION_DEPTH`] levels.
//! Reading a JS object graph instead (`serde-wasm-bindgen`, as the routing
//! exports once did) recurses once per level with no limit: a definition
//! nested 10,000 arrays deep overflowed the module's stack, which in
//! WebAssembly is a trap that leaves the instance unusable for every later
//! call. The loaders treat any trap as fatal to the instance and make a new
//! one (`functions/_shared/wasm-instance.ts`); the bounds make sure a
//! hostile input gets an error instead.
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

/// The largest routing input read (4 MiB): a route input carries at most one
/// bot definition, and the admin API takes bodies of at most 512 KiB.
pub const MAX_ROUTING_INPUT_BYTES: usize = 4 * 1024 * 1024;

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
fn from_text<T: for<'de> Deserialize<'de>>(input: &str, what: &str) -> Result<T, JsError> {
    api::parse_routing_text(input, what).map_err(|error| JsError::new(&error))
}

#[cfg(feature = "routing")]
fn to_text<T: Serialize>(value: &T) -> Result<String, JsError> {
    serde_json::to_string(value)
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
/// Input (JSON text): `{definition_key?, definition?, state, message: {id,
/// text, reply_id?, content?}, contact: {wa_id, name?, attributes?}, now_ms, seed?}`.
/// With a `definition_key` the compiled definition is kept and reused;
/// `definition` may then be left out when [`has_compiled_bot`] says it is
/// cached. Output (JSON text): `{actions, state, outcome}`.
#[wasm_bindgen]
pub fn route(input: &str) -> Result<String, JsError> {
    let input: BoundaryRouteInput = from_text(input, "route input")?;
    let bot = compiled_bot(input.definition_key, input.definition)?;
    let request = routing::RouteRequest {
        state: input.state,
        message: input.message,
        contact: input.contact,
        now_ms: input.now_ms,
        seed: input.seed,
    };
    to_text(&routing::route(&bot, &request))
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
/// Validates a bot definition (JSON text): `{errors: [{path, code,
/// message}], warnings: [...]}` as JSON text. A definition too large or
/// nested too deep to read is a report with one `too_complex` error at the
/// path where it went too deep, like any other problem.
#[wasm_bindgen]
pub fn validate_definition(definition: &str) -> Result<String, JsError> {
    to_text(&api::validate_definition_text(definition))
}

#[cfg(feature = "routing")]
/// Checks outbound content (JSON text of the message model's `Content`)
/// against WhatsApp's limits: `{problems: [{path, code, message}]}` as JSON
/// text, each path relative to the content (`buttons[1].title`).
#[wasm_bindgen]
pub fn check_content(content: &str) -> Result<String, JsError> {
    to_text(&api::check_content_text(content))
}

#[cfg(feature = "routing")]
/// Chooses the bot version for a conversation (published, canary or the
/// conversation's own): `{version_id, reason, bucket}`.
#[wasm_bindgen]
pub fn select_version(input: &str) -> Result<String, JsError> {
    let input: routing::VersionSelectionInput = from_text(input, "version selection input")?;
    to_text(&routing::select_version(&input))
}

#[cfg(feature = "routing")]
/// Returns the conversation state with the human handoff released.
#[wasm_bindgen]
pub fn release_handoff(state: &str) -> Result<String, JsError> {
    let state: routing::ConversationState = from_text(state, "conversation state")?;
    to_text(&routing::release_handoff(state))
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
pub fn bench_route_repeatedly(input: &str, repetitions: u32) -> Result<String, JsError> {
    let input: BoundaryRouteInput = from_text(input, "route input")?;
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
    to_text(&output)
}

/// Test support: makes the module trap, the way a bug or an unbounded input
/// would (`kind`: `"panic"`, a Rust panic, which the release profile turns
/// into an `unreachable` trap; `"stack"`, unbounded recursion until the stack
/// overflows). `functions/tests/wasm_trap_test.ts` uses it to prove that a
/// trap costs one call, not the instance. Never called by the functions.
#[doc(hidden)]
#[wasm_bindgen]
pub fn trap_for_tests(kind: &str) -> u32 {
    match kind {
        "stack" => recurse_without_end(std::hint::black_box(1)),
        _ => panic!("trap_for_tests: a deliberate panic"),
    }
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse_without_end(depth: u32) -> u32 {
    let mut frame = [depth; 64];
    frame[std::hint::black_box(depth as usize) % 64] = depth;
    recurse_without_end(std::hint::black_box(frame[0].wrapping_add(1))).wrapping_add(frame[1])
}
