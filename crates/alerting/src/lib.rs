//! Alerting for the WhatsApp bot platform: which alerts are open, and who
//! hears about them.
//!
//! Two pure steps turn health signals into messages. [`reconcile`](fn@reconcile) compares
//! this evaluation's [`Signal`]s with the alerts already open and returns
//! the [`AlertChange`]s to store: open, update, recovering, relapsed
//! (flapping), escalate, resolve. [`plan`] turns those changes into a
//! [`NotificationPlan`]: per channel, by severity and kind, grouped into
//! digests so a burst becomes one message per channel per window, with the
//! payload rendered for WhatsApp, email, Slack or a signed webhook.
//!
//! The crate is **sans-IO**: it sends nothing, reads no clock and stores
//! nothing. `now_ms` comes in as an argument; the alerts, the digest state
//! and the changes live in the database and travel in and out as data. The
//! `health-check` and `alert-dispatch` Edge Functions carry the plan out
//! (and compute the webhook signatures, see [`render`]).
//!
//! # Architecture invariants
//!
//! The crate does not depend on the `health` crate. Its input, [`Signal`],
//! mirrors a health verdict's alert actions (`open_alert {kind, severity,
//! dedupe_key}` becomes an unhealthy signal, `resolve_alert {dedupe_key}` a
//! healthy one); the Wasm boundary glues the two. It never holds two open
//! alerts for one dedupe key, and never sends two notifications about one
//! dedupe key to one channel within a digest window. Every JSON shape is
//! snake_case, maps are objects and ids are strings, so outputs survive
//! JavaScript unchanged.
//!
//! # Layout
//!
//! - [`reconcile`](mod@reconcile): signals and open alerts to alert
//!   changes; auto-resolution, flapping, escalation.
//! - [`notify`]: [`plan`], channel filters and digests.
//! - [`render`]: text, Slack and webhook payloads; the signing input.
//! - [`call`]: [`call_json`], every entry point by name, JSON in and out,
//!   which the shared fixtures in `crates/alerting/fixtures/` drive.

pub mod call;
pub mod notify;
pub mod reconcile;
pub mod render;

use serde::{Deserialize, Serialize};

pub use call::{call_json, call_json_text, CallError, CALL_NAMES};
pub use notify::{
    plan, Channel, ChannelDigest, ChannelKind, DigestItem, DigestState, Notification,
    NotificationEvent, NotificationPlan, NotifyConfig, PlanInput,
};
pub use reconcile::{
    reconcile, AlertChange, AlertStatus, OpenAlert, RecentlyResolved, ReconcileConfig,
    ReconcileInput, ResolveReason, Signal,
};
pub use render::Payload;

/// How bad an alert is, in increasing order: `info` < `warning` <
/// `critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; no action needed now.
    Info,
    /// Something degrades; act soon.
    Warning,
    /// Something is down; act now.
    Critical,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_info_warning_critical() {
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Critical);
        assert_eq!(
            serde_json::to_string(&Severity::Warning).unwrap(),
            "\"warning\""
        );
    }
}
