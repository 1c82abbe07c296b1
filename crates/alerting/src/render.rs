//! Rendering: the exact bytes each kind of channel receives.
//!
//! | Channel kind | Payload (`format`) | Content |
//! |---|---|---|
//! | `whatsapp`, `email` | `text` | `subject` (the email's subject line) and plain `text` |
//! | `slack` | `slack` | `message`: a Slack-compatible `{"text", "blocks"}` object to post as JSON |
//! | `webhook` | `webhook` | `body` (the JSON text to post, byte for byte), `timestamp` and `signing_input` |
//!
//! Text and Slack messages list at most `max_items_listed` items, most
//! severe first, then say how many more there are; a webhook body lists
//! every item, because a program reads it.
//!
//! # Signing webhooks
//!
//! The signature is computed by the `alert-dispatch` Edge Function, which
//! holds the channel's secret; this crate never sees it. The function
//! computes `HMAC-SHA256(secret, signing_input)` over the UTF-8 bytes of
//! `signing_input`, which is exactly `"{timestamp}.{body}"`: the Unix time
//! in whole seconds, a full stop, and the body, and posts `body` unchanged
//! with the headers `x-wabot-timestamp: {timestamp}` and
//! `x-wabot-signature: v1={hex of the HMAC}`. A receiver recomputes the
//! HMAC over the timestamp header, a full stop and the raw request body,
//! compares in constant time, and rejects timestamps more than five minutes
//! old, which stops replays. Signing the timestamp with the body (as Stripe
//! and Slack do) is what makes the replay check trustworthy.

use serde::{Deserialize, Serialize};

use crate::notify::{Channel, ChannelKind, DigestItem, NotificationEvent, NotifyConfig};
use crate::Severity;

/// A rendered message. In JSON, an object tagged by `format`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "snake_case", deny_unknown_fields)]
pub enum Payload {
    /// Plain text, for WhatsApp and email.
    Text {
        /// A one-line summary: the email's subject.
        subject: String,
        /// The message.
        text: String,
    },
    /// A Slack incoming-webhook message.
    Slack {
        /// The object to post as JSON: `{"text", "blocks"}`.
        message: serde_json::Value,
    },
    /// A generic webhook call.
    Webhook {
        /// The Unix time in whole seconds, as sent in `x-wabot-timestamp`.
        timestamp: String,
        /// The JSON body to post, byte for byte.
        body: String,
        /// The exact string to sign: `"{timestamp}.{body}"`.
        signing_input: String,
    },
}

/// The body of a webhook call.
#[derive(Debug, Serialize)]
struct WebhookBody<'a> {
    notification_id: &'a str,
    channel_id: &'a str,
    sent_at_ms: i64,
    severity: Severity,
    item_count: usize,
    items: &'a [DigestItem],
}

/// Returns a severity as a lowercase word.
pub fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    }
}

/// `[critical] opened: disconnected on n1`.
fn headline(item: &DigestItem) -> String {
    format!(
        "[{}] {}: {} on {}",
        severity_word(item.severity),
        item.event.as_str(),
        item.kind,
        item.subject
    )
}

/// `[critical] opened: disconnected on n1 - disconnected for 300 s`.
fn line(item: &DigestItem) -> String {
    let mut line = headline(item);
    if !item.detail.is_empty() {
        line.push_str(" - ");
        line.push_str(&item.detail);
    }
    if item.count > 1 {
        line.push_str(&format!(" ({} events)", item.count));
    }
    line
}

/// `97 opened, 3 resolved`, in a fixed event order.
fn event_counts(items: &[DigestItem]) -> String {
    let order = [
        NotificationEvent::Opened,
        NotificationEvent::Updated,
        NotificationEvent::Flapping,
        NotificationEvent::Escalated,
        NotificationEvent::Resolved,
    ];
    order
        .iter()
        .filter_map(|event| {
            let count = items.iter().filter(|item| item.event == *event).count();
            (count > 0).then(|| format!("{count} {}", event.as_str()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Cuts `text` to at most `max_chars` characters, ending with `...` if cut.
fn truncated(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(3)).collect();
    cut.push_str("...");
    cut
}

/// Escapes the three characters Slack's mrkdwn treats as markup.
fn slack_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders `items` (already sorted) for `channel`.
pub fn render_payload(
    channel: &Channel,
    notification_id: &str,
    severity: Severity,
    items: &[DigestItem],
    now_ms: i64,
    config: &NotifyConfig,
) -> Payload {
    let max_listed = usize::try_from(config.max_items_listed).unwrap_or(usize::MAX);
    let listed = &items[..items.len().min(max_listed)];
    let more = items.len() - listed.len();
    let (subject, title) = match items {
        [single] => (headline(single), format!("{} alert", config.title)),
        _ => (
            format!(
                "[{}] {} alert changes ({})",
                severity_word(severity),
                items.len(),
                event_counts(items)
            ),
            format!(
                "{} alerts: {} changes ({})",
                config.title,
                items.len(),
                event_counts(items)
            ),
        ),
    };
    match channel.kind {
        ChannelKind::Whatsapp | ChannelKind::Email => {
            let mut text = title;
            for item in listed {
                text.push('\n');
                text.push_str(&line(item));
                if items.len() == 1 {
                    text.push_str("\nkey: ");
                    text.push_str(&item.dedupe_key);
                }
            }
            if more > 0 {
                text.push_str(&format!("\n...and {more} more"));
            }
            Payload::Text { subject, text }
        }
        ChannelKind::Slack => {
            let mut blocks = vec![serde_json::json!({
                "type": "header",
                "text": {"type": "plain_text", "text": truncated(&title, 150)},
            })];
            for chunk in listed.chunks(10) {
                let text = chunk
                    .iter()
                    .map(|item| {
                        let detail = if item.detail.is_empty() {
                            String::new()
                        } else {
                            format!(" - {}", item.detail)
                        };
                        let count = if item.count > 1 {
                            format!(" ({} events)", item.count)
                        } else {
                            String::new()
                        };
                        truncated(
                            &format!(
                                "*[{}]* {}: {} on `{}`{}{}",
                                severity_word(item.severity),
                                item.event.as_str(),
                                slack_escaped(&item.kind),
                                slack_escaped(&item.subject),
                                slack_escaped(&detail),
                                count
                            ),
                            280,
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                blocks.push(serde_json::json!({
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": text},
                }));
            }
            let mut context = String::new();
            if more > 0 {
                context.push_str(&format!("...and {more} more | "));
            }
            context.push_str("notification ");
            context.push_str(notification_id);
            blocks.push(serde_json::json!({
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": context}],
            }));
            Payload::Slack {
                message: serde_json::json!({"text": subject, "blocks": blocks}),
            }
        }
        ChannelKind::Webhook => {
            let body = WebhookBody {
                notification_id,
                channel_id: &channel.id,
                sent_at_ms: now_ms,
                severity,
                item_count: items.len(),
                items,
            };
            // Serialising plain strings and integers cannot fail; an empty
            // body would be caught by any receiver.
            let body = serde_json::to_string(&body).unwrap_or_default();
            let timestamp = now_ms.div_euclid(1_000).to_string();
            let signing_input = format!("{timestamp}.{body}");
            Payload::Webhook {
                timestamp,
                body,
                signing_input,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &str, event: NotificationEvent, severity: Severity, detail: &str) -> DigestItem {
        DigestItem {
            event,
            dedupe_key: key.into(),
            kind: "disconnected".into(),
            severity,
            subject: key
                .trim_start_matches("number:")
                .trim_end_matches(":session")
                .into(),
            detail: detail.into(),
            count: 1,
            first_at_ms: 0,
        }
    }

    fn channel(kind: ChannelKind) -> Channel {
        Channel {
            id: "c1".into(),
            kind,
            min_severity: Severity::Info,
            enabled: true,
            kinds: Vec::new(),
        }
    }

    #[test]
    fn one_alert_reads_as_one_alert() {
        let payload = render_payload(
            &channel(ChannelKind::Whatsapp),
            "id",
            Severity::Critical,
            &[item(
                "number:n1:session",
                NotificationEvent::Opened,
                Severity::Critical,
                "disconnected for 300 s",
            )],
            1_800_000_000_000,
            &NotifyConfig::default(),
        );
        assert_eq!(
            payload,
            Payload::Text {
                subject: "[critical] opened: disconnected on n1".into(),
                text: "wabot alert\n[critical] opened: disconnected on n1 - disconnected for 300 s\nkey: number:n1:session".into(),
            }
        );
    }

    #[test]
    fn a_digest_lists_a_few_and_counts_the_rest() {
        let items: Vec<DigestItem> = (0..25)
            .map(|index| {
                item(
                    &format!("number:n{index}:session"),
                    NotificationEvent::Opened,
                    Severity::Warning,
                    "",
                )
            })
            .collect();
        let Payload::Text { subject, text } = render_payload(
            &channel(ChannelKind::Email),
            "id",
            Severity::Warning,
            &items,
            0,
            &NotifyConfig::default(),
        ) else {
            panic!("expected text");
        };
        assert_eq!(subject, "[warning] 25 alert changes (25 opened)");
        assert_eq!(text.lines().count(), 1 + 20 + 1);
        assert!(text.ends_with("\n...and 5 more"));
    }

    #[test]
    fn slack_messages_have_text_and_bounded_blocks() {
        let items: Vec<DigestItem> = (0..100)
            .map(|index| {
                item(
                    &format!("number:n{index}:session"),
                    NotificationEvent::Opened,
                    Severity::Critical,
                    "a <b> & c",
                )
            })
            .collect();
        let Payload::Slack { message } = render_payload(
            &channel(ChannelKind::Slack),
            "00ff",
            Severity::Critical,
            &items,
            0,
            &NotifyConfig::default(),
        ) else {
            panic!("expected slack");
        };
        let blocks = message["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 1 + 2 + 1);
        assert_eq!(message["text"], "[critical] 100 alert changes (100 opened)");
        assert!(blocks[1]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("a &lt;b&gt; &amp; c"));
        assert_eq!(
            blocks[3]["elements"][0]["text"],
            "...and 80 more | notification 00ff"
        );
    }

    #[test]
    fn a_webhook_signs_the_timestamp_a_dot_and_the_body() {
        let Payload::Webhook {
            timestamp,
            body,
            signing_input,
        } = render_payload(
            &channel(ChannelKind::Webhook),
            "00ff",
            Severity::Warning,
            &[item(
                "k",
                NotificationEvent::Resolved,
                Severity::Warning,
                "",
            )],
            1_800_000_000_999,
            &NotifyConfig::default(),
        )
        else {
            panic!("expected webhook");
        };
        assert_eq!(timestamp, "1800000000");
        assert_eq!(signing_input, format!("1800000000.{body}"));
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["item_count"], 1);
        assert_eq!(parsed["items"][0]["event"], "resolved");
    }
}
