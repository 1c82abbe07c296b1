//! Notification plans: who hears about which alert changes, and when.
//!
//! [`plan`] takes the [`AlertChange`]s of a reconciliation, the configured
//! [`Channel`]s and each channel's [`DigestState`], and returns the
//! [`Notification`]s to send now, each with its payload rendered
//! ([`crate::render`]), plus the digest state to store for next time.
//!
//! # What is notified
//!
//! | Change | Notified as |
//! |---|---|
//! | `open` | `opened` |
//! | `update` | `updated`, only if the severity rose or the kind changed |
//! | `relapsed` | `flapping`, only when it `became_flapping` |
//! | `escalate` | `escalated` |
//! | `resolve` | `resolved`, only for reason `healthy` |
//! | `recovering` | never (bookkeeping) |
//!
//! A channel hears about an event when it is `enabled`, the alert's
//! severity is at least the channel's `min_severity`, and its `kinds` list
//! is empty or names the alert's kind.
//!
//! # Digests instead of storms
//!
//! A channel gets **at most one message per `digest_window_ms`**. Events
//! for a channel join its pending list; the list is sent as one message
//! when both the channel's window has passed since its last message and the
//! oldest pending event has waited `group_wait_ms` (default 0: the first
//! event after a quiet window goes out at once). So a hundred numbers
//! dropping at once become one message per channel, and whatever follows
//! within the window becomes one more message when the window ends. When
//! something waits, the plan says when to call again
//! ([`NotificationPlan::next_flush_at_ms`]); a call with no changes just
//! flushes what is due.
//!
//! Pending events for one dedupe key are merged into one item, so a key is
//! mentioned once per message: the latest event wins, except that an alert
//! opened in the same digest stays `opened` (the reader has not seen it
//! yet) and carries the latest severity and detail. Since two messages to
//! one channel are always at least a window apart, **no two notifications
//! about one dedupe key reach one channel within a window**.
//!
//! Escalations need no channel of their own: an `escalated` event is
//! notified like any other, at the alert's severity, through the same
//! digest rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::reconcile::{AlertChange, ResolveReason};
use crate::render::{render_payload, Payload};
use crate::Severity;

/// How a channel is reached, which decides the payload's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// A WhatsApp admin number: plain text.
    Whatsapp,
    /// Email: plain text with a subject line.
    Email,
    /// A Slack incoming webhook: `{"text", "blocks"}`.
    Slack,
    /// A generic webhook: a JSON body signed with HMAC-SHA256.
    Webhook,
}

/// A place notifications go to. Addresses and secrets stay in the database;
/// the plan names the channel by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// The channel's id.
    pub id: String,
    /// How it is reached.
    pub kind: ChannelKind,
    /// The lowest severity it hears about.
    pub min_severity: Severity,
    /// Whether it is switched on. Default true.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// The alert kinds it hears about; empty means all.
    #[serde(default)]
    pub kinds: Vec<String>,
}

fn enabled_by_default() -> bool {
    true
}

/// The grouping rules. Every field has a default, so a partial object in
/// JSON overrides only what it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// The least time between two messages to one channel. Default 120,000
    /// ms (two minutes).
    pub digest_window_ms: i64,
    /// How long the first event of a quiet channel waits for company.
    /// Default 0 (it goes out at once).
    pub group_wait_ms: i64,
    /// How many items a text or Slack message lists before `…and N more`.
    /// Default 20. Webhook bodies list every item.
    pub max_items_listed: u32,
    /// The name that titles messages. Default `wabot`.
    pub title: String,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            digest_window_ms: 120_000,
            group_wait_ms: 0,
            max_items_listed: 20,
            title: "wabot".to_string(),
        }
    }
}

/// What happened to an alert, as a notification tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    /// The alert opened.
    Opened,
    /// Its severity rose or its kind changed.
    Updated,
    /// It was marked flapping.
    Flapping,
    /// Nobody acknowledged it in time.
    Escalated,
    /// It was resolved after a period of health.
    Resolved,
}

impl NotificationEvent {
    /// Returns the event as a lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationEvent::Opened => "opened",
            NotificationEvent::Updated => "updated",
            NotificationEvent::Flapping => "flapping",
            NotificationEvent::Escalated => "escalated",
            NotificationEvent::Resolved => "resolved",
        }
    }
}

/// One alert's news waiting in a channel's digest, or listed in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestItem {
    /// What happened (after merging).
    pub event: NotificationEvent,
    /// The alert's key.
    pub dedupe_key: String,
    /// What kind of problem.
    pub kind: String,
    /// How bad it is.
    pub severity: Severity,
    /// What it is about.
    pub subject: String,
    /// A phrase for people.
    pub detail: String,
    /// How many events were merged into this item.
    pub count: u32,
    /// When the first of them joined the digest, in Unix milliseconds.
    pub first_at_ms: i64,
}

/// One channel's digest: when it last got a message, and what waits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelDigest {
    /// When the channel last got a message, in Unix milliseconds.
    pub last_sent_at_ms: Option<i64>,
    /// What waits for the next message, one item per dedupe key.
    pub pending: Vec<DigestItem>,
}

/// Every channel's digest, by channel id; stored by the caller between
/// calls. `{}` in JSON is the state of a system that never notified.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DigestState {
    /// The digests by channel id.
    pub channels: BTreeMap<String, ChannelDigest>,
}

/// Everything [`plan`] looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    /// The changes to tell about (none for a flush).
    #[serde(default)]
    pub changes: Vec<AlertChange>,
    /// The configured channels.
    pub channels: Vec<Channel>,
    /// The digest state from the previous call.
    #[serde(default)]
    pub state: DigestState,
    /// The current time, in Unix milliseconds.
    pub now_ms: i64,
    /// The grouping rules; the defaults if left out.
    #[serde(default)]
    pub config: NotifyConfig,
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    /// A stable id (16 hex digits of FNV-1a over the channel, the time and
    /// the keys), for idempotent delivery.
    pub notification_id: String,
    /// The channel to send to.
    pub channel_id: String,
    /// How it is reached.
    pub channel_kind: ChannelKind,
    /// The highest severity among the items.
    pub severity: Severity,
    /// The keys the message is about, in the order listed.
    pub dedupe_keys: Vec<String>,
    /// The rendered message.
    pub payload: Payload,
}

/// The result of [`plan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationPlan {
    /// What to send now, in channel order.
    pub notifications: Vec<Notification>,
    /// The digest state to store.
    pub state: DigestState,
    /// When to call [`plan`] again to flush what waits, if anything waits.
    pub next_flush_at_ms: Option<i64>,
}

/// Turns a change into the item it is notified as, if it is notified.
pub fn notified_item(change: &AlertChange, now_ms: i64) -> Option<DigestItem> {
    let item =
        |event, dedupe_key: &str, kind: &str, severity, subject: &str, detail: &str| DigestItem {
            event,
            dedupe_key: dedupe_key.to_string(),
            kind: kind.to_string(),
            severity,
            subject: subject.to_string(),
            detail: detail.to_string(),
            count: 1,
            first_at_ms: now_ms,
        };
    match change {
        AlertChange::Open {
            dedupe_key,
            kind,
            severity,
            subject,
            detail,
            ..
        } => Some(item(
            NotificationEvent::Opened,
            dedupe_key,
            kind,
            *severity,
            subject,
            detail,
        )),
        AlertChange::Update {
            dedupe_key,
            kind,
            severity,
            previous_kind,
            previous_severity,
            subject,
            detail,
            ..
        } if severity > previous_severity || kind != previous_kind => Some(item(
            NotificationEvent::Updated,
            dedupe_key,
            kind,
            *severity,
            subject,
            detail,
        )),
        AlertChange::Relapsed {
            dedupe_key,
            kind,
            severity,
            subject,
            detail,
            became_flapping: true,
            ..
        } => Some(item(
            NotificationEvent::Flapping,
            dedupe_key,
            kind,
            *severity,
            subject,
            detail,
        )),
        AlertChange::Escalate {
            dedupe_key,
            kind,
            severity,
            subject,
            detail,
            ..
        } => Some(item(
            NotificationEvent::Escalated,
            dedupe_key,
            kind,
            *severity,
            subject,
            detail,
        )),
        AlertChange::Resolve {
            dedupe_key,
            kind,
            severity,
            subject,
            reason: ResolveReason::Healthy,
            ..
        } => Some(item(
            NotificationEvent::Resolved,
            dedupe_key,
            kind,
            *severity,
            subject,
            "",
        )),
        _ => None,
    }
}

/// Tells whether `channel` hears about `item`.
pub fn channel_hears(channel: &Channel, item: &DigestItem) -> bool {
    channel.enabled
        && item.severity >= channel.min_severity
        && (channel.kinds.is_empty() || channel.kinds.contains(&item.kind))
}

/// Adds `item` to `pending`, merging it with an item for the same key.
fn merge_into(pending: &mut Vec<DigestItem>, item: DigestItem) {
    match pending
        .iter_mut()
        .find(|waiting| waiting.dedupe_key == item.dedupe_key)
    {
        None => pending.push(item),
        Some(waiting) => {
            let keeps_opened = waiting.event == NotificationEvent::Opened
                && item.event != NotificationEvent::Resolved;
            if !keeps_opened {
                waiting.event = item.event;
            }
            waiting.kind = item.kind;
            waiting.severity = item.severity;
            waiting.subject = item.subject;
            if !item.detail.is_empty() {
                waiting.detail = item.detail;
            }
            waiting.count = waiting.count.saturating_add(item.count);
        }
    }
}

/// FNV-1a, 64 bits: a tiny stable hash for notification ids.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Plans the notifications at `input.now_ms`; see the module documentation.
pub fn plan(input: &PlanInput) -> NotificationPlan {
    let now_ms = input.now_ms;
    let config = &input.config;
    let items: Vec<DigestItem> = input
        .changes
        .iter()
        .filter_map(|change| notified_item(change, now_ms))
        .collect();

    let mut notifications = Vec::new();
    let mut state = DigestState::default();
    let mut next_flush_at_ms: Option<i64> = None;
    for channel in &input.channels {
        if state.channels.contains_key(&channel.id) {
            continue;
        }
        let mut digest = input
            .state
            .channels
            .get(&channel.id)
            .cloned()
            .unwrap_or_default();
        if !channel.enabled {
            // A switched-off channel drops what waits, but keeps its last
            // message time, so switching it back on cannot break the window.
            digest.pending.clear();
        }
        for item in items.iter().filter(|item| channel_hears(channel, item)) {
            merge_into(&mut digest.pending, item.clone());
        }
        if let Some(oldest_ms) = digest.pending.iter().map(|item| item.first_at_ms).min() {
            let due_at_ms = oldest_ms.saturating_add(config.group_wait_ms).max(
                digest.last_sent_at_ms.map_or(i64::MIN, |sent| {
                    sent.saturating_add(config.digest_window_ms)
                }),
            );
            if now_ms >= due_at_ms {
                let mut listed = std::mem::take(&mut digest.pending);
                // Most severe first; otherwise in the order they arrived.
                listed.sort_by_key(|item| std::cmp::Reverse(item.severity));
                notifications.push(build_notification(channel, listed, now_ms, config));
                digest.last_sent_at_ms = Some(now_ms);
            } else {
                next_flush_at_ms =
                    Some(next_flush_at_ms.map_or(due_at_ms, |next| next.min(due_at_ms)));
            }
        }
        let window_still_open = digest
            .last_sent_at_ms
            .is_some_and(|sent| now_ms < sent.saturating_add(config.digest_window_ms));
        if !digest.pending.is_empty() || window_still_open {
            state.channels.insert(channel.id.clone(), digest);
        }
    }
    NotificationPlan {
        notifications,
        state,
        next_flush_at_ms,
    }
}

fn build_notification(
    channel: &Channel,
    items: Vec<DigestItem>,
    now_ms: i64,
    config: &NotifyConfig,
) -> Notification {
    let severity = items
        .iter()
        .map(|item| item.severity)
        .max()
        .unwrap_or(Severity::Info);
    let dedupe_keys: Vec<String> = items.iter().map(|item| item.dedupe_key.clone()).collect();
    let mut id_source = format!("{}|{now_ms}", channel.id);
    for key in &dedupe_keys {
        id_source.push('|');
        id_source.push_str(key);
    }
    let notification_id = format!("{:016x}", fnv1a64(id_source.as_bytes()));
    let payload = render_payload(channel, &notification_id, severity, &items, now_ms, config);
    Notification {
        notification_id,
        channel_id: channel.id.clone(),
        channel_kind: channel.kind,
        severity,
        dedupe_keys,
        payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn channel(id: &str, kind: ChannelKind, min_severity: Severity) -> Channel {
        Channel {
            id: id.into(),
            kind,
            min_severity,
            enabled: true,
            kinds: Vec::new(),
        }
    }

    fn opened(key: &str, severity: Severity) -> AlertChange {
        AlertChange::Open {
            dedupe_key: key.into(),
            kind: "disconnected".into(),
            severity,
            subject: key.into(),
            detail: "disconnected for 300 s".into(),
            flap_count: 0,
            last_flap_at_ms: None,
            flapping: false,
        }
    }

    fn resolved(key: &str) -> AlertChange {
        AlertChange::Resolve {
            alert_id: "a".into(),
            dedupe_key: key.into(),
            kind: "disconnected".into(),
            severity: Severity::Critical,
            subject: key.into(),
            reason: ResolveReason::Healthy,
            healthy_since_ms: Some(NOW),
        }
    }

    fn run(
        changes: Vec<AlertChange>,
        channels: &[Channel],
        state: DigestState,
        now_ms: i64,
    ) -> NotificationPlan {
        plan(&PlanInput {
            changes,
            channels: channels.to_vec(),
            state,
            now_ms,
            config: NotifyConfig::default(),
        })
    }

    #[test]
    fn channels_hear_by_severity_kind_and_switch() {
        let mut kinds_only = channel("bans", ChannelKind::Webhook, Severity::Info);
        kinds_only.kinds = vec!["banned".into()];
        let mut off = channel("off", ChannelKind::Email, Severity::Info);
        off.enabled = false;
        let channels = [
            channel("pager", ChannelKind::Whatsapp, Severity::Critical),
            channel("ops", ChannelKind::Slack, Severity::Warning),
            kinds_only,
            off,
        ];
        let result = run(
            vec![opened("k", Severity::Warning)],
            &channels,
            DigestState::default(),
            NOW,
        );
        let ids: Vec<&str> = result
            .notifications
            .iter()
            .map(|n| n.channel_id.as_str())
            .collect();
        assert_eq!(ids, vec!["ops"]);
    }

    #[test]
    fn a_burst_is_one_message_per_channel_and_the_rest_waits_for_the_window() {
        let channels = [
            channel("ops", ChannelKind::Slack, Severity::Info),
            channel("hook", ChannelKind::Webhook, Severity::Info),
        ];
        let burst: Vec<AlertChange> = (0..100)
            .map(|index| opened(&format!("number:n{index}:session"), Severity::Critical))
            .collect();
        let first = run(burst, &channels, DigestState::default(), NOW);
        assert_eq!(first.notifications.len(), 2);
        assert!(first
            .notifications
            .iter()
            .all(|n| n.dedupe_keys.len() == 100));
        assert_eq!(first.next_flush_at_ms, None);

        let second = run(
            vec![resolved("number:n1:session")],
            &channels,
            first.state,
            NOW + 1_000,
        );
        assert!(second.notifications.is_empty());
        assert_eq!(second.next_flush_at_ms, Some(NOW + 120_000));
        let third = run(Vec::new(), &channels, second.state.clone(), NOW + 119_999);
        assert!(third.notifications.is_empty());
        let flushed = run(Vec::new(), &channels, second.state, NOW + 120_000);
        assert_eq!(flushed.notifications.len(), 2);
        assert_eq!(
            flushed.notifications[0].dedupe_keys,
            vec!["number:n1:session".to_string()]
        );
    }

    #[test]
    fn events_for_one_key_in_one_window_merge() {
        let channels = [channel("ops", ChannelKind::Whatsapp, Severity::Info)];
        let state = run(
            vec![opened("x", Severity::Info)],
            &channels,
            DigestState::default(),
            NOW,
        )
        .state;
        let waiting = run(
            vec![
                opened("k", Severity::Warning),
                opened("k", Severity::Critical),
            ],
            &channels,
            state,
            NOW + 10,
        );
        let pending = &waiting.state.channels["ops"].pending;
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (pending[0].event, pending[0].severity, pending[0].count),
            (NotificationEvent::Opened, Severity::Critical, 2)
        );
        let closed = run(vec![resolved("k")], &channels, waiting.state, NOW + 20);
        assert_eq!(
            closed.state.channels["ops"].pending[0].event,
            NotificationEvent::Resolved
        );
    }

    #[test]
    fn bookkeeping_and_quiet_updates_are_not_notified() {
        let quiet = [
            AlertChange::Recovering {
                alert_id: "a".into(),
                dedupe_key: "k".into(),
                healthy_since_ms: NOW,
            },
            AlertChange::Update {
                alert_id: "a".into(),
                dedupe_key: "k".into(),
                kind: "disconnected".into(),
                severity: Severity::Warning,
                previous_kind: "disconnected".into(),
                previous_severity: Severity::Critical,
                subject: "n1".into(),
                detail: "better".into(),
            },
        ];
        for change in quiet {
            assert_eq!(notified_item(&change, NOW), None, "{change:?}");
        }
    }

    #[test]
    fn group_wait_holds_the_first_event_for_company() {
        let channels = [channel("ops", ChannelKind::Whatsapp, Severity::Info)];
        let config = NotifyConfig {
            group_wait_ms: 30_000,
            ..NotifyConfig::default()
        };
        let held = plan(&PlanInput {
            changes: vec![opened("a", Severity::Critical)],
            channels: channels.to_vec(),
            state: DigestState::default(),
            now_ms: NOW,
            config: config.clone(),
        });
        assert!(held.notifications.is_empty());
        assert_eq!(held.next_flush_at_ms, Some(NOW + 30_000));
        let sent = plan(&PlanInput {
            changes: vec![opened("b", Severity::Critical)],
            channels: channels.to_vec(),
            state: held.state,
            now_ms: NOW + 30_000,
            config,
        });
        assert_eq!(
            sent.notifications[0].dedupe_keys,
            vec!["a".to_string(), "b".to_string()]
        );
    }

    #[test]
    fn fnv_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
