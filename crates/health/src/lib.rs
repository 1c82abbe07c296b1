//! Session health for the WhatsApp bot platform.
//!
//! This crate decides, for each number's WhatsApp session, what state it is
//! in, whether it is healthy, when to reconnect it, and how fast it may
//! send. It is **sans-IO**: it reads no clock, opens no socket and draws no
//! random numbers. The current time arrives as `now_ms`, ids and the jitter
//! `seed` arrive as arguments, and every decision leaves as data (a
//! [`Transition`], a [`Verdict`] with [`RecommendedAction`]s, a
//! [`ReconnectDecision`], a [`PacingDecision`]) for the session daemon and
//! the `health-check` Edge Function to carry out. The same code runs
//! natively in the daemon and tests, and as WebAssembly through the
//! `core-wasm` crate.
//!
//! # Architecture invariants
//!
//! The crate knows nothing about alert delivery: a verdict asks to open or
//! resolve an alert by dedupe key, and the `alerting` crate (which does not
//! depend on this one) decides what happens to it. Every time in and out is
//! an `i64` of Unix milliseconds, and every JSON shape is snake_case, so
//! outputs survive JavaScript unchanged.
//!
//! # Layout
//!
//! - [`session`]: the session state machine ([`SessionState`],
//!   [`ConnectionEvent`], [`transition`]) and its documented table; the
//!   states are the values of `numbers.session_status`.
//! - [`verdict`]: [`evaluate`] and [`evaluate_all`] judge
//!   [`NumberSnapshot`]s under [`HealthThresholds`]: healthy, stale
//!   heartbeat, disconnected, flapping, zombie, rate-limited, logged out,
//!   banned, and the actions each calls for.
//! - [`runtime`]: [`evaluate_runtime`] judges a daemon from a probe of its
//!   `/status`.
//! - [`reconnect`]: [`reconnect_delay`], exponential backoff with full
//!   jitter from a passed-in seed, reset after a stable connection, and no
//!   retry after a logout or ban.
//! - [`pacing`]: [`pace`] and [`record_rate_limit_error`], the ban-risk
//!   governor (token bucket, new-contact budget, warm-up, pauses).
//! - [`call`]: [`call_json`], every entry point by name, JSON in and out,
//!   which the shared fixtures in `crates/health/fixtures/` drive.
//! - `bench_support` (hidden): the generated sweep the benchmarks share.

pub mod call;
pub mod pacing;
pub mod reconnect;
pub mod runtime;
pub mod session;
pub mod verdict;

#[doc(hidden)]
pub mod bench_support;

pub use call::{call_json, call_json_text, CallError, CALL_NAMES};
pub use pacing::{
    pace, record_rate_limit_error, PaceRequest, PacingConfig, PacingDecision, PacingState,
    RefuseReason, WaitReason, WarmUpStage,
};
pub use reconnect::{
    backoff_ceiling_ms, jittered_delay_ms, reconnect_delay, GiveUpReason, ReconnectDecision,
    ReconnectPolicy, ReconnectRequest,
};
pub use runtime::{
    evaluate_runtime, RuntimeCondition, RuntimeProbe, RuntimeThresholds, RuntimeVerdict,
};
pub use session::{
    transition, ConnectionEvent, ConnectionEventKind, SessionState, Transition, TransitionAnomaly,
};
pub use verdict::{
    evaluate, evaluate_all, number_alert_key, AlertKind, Condition, HealthThresholds,
    NumberSnapshot, RecentEvent, RecommendedAction, Severity, Verdict,
};
