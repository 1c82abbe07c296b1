//! Alert notification plans for the WhatsApp bot platform.
//!
//! [`plan`] decides, for one alert, which configured channels are told about
//! it. A channel listens from a minimum severity upwards, so a `critical`
//! disconnect pages everyone while a `warning` reaches only the channels that
//! asked for warnings. The crate is **sans-IO**: it sends nothing and reads
//! no clock; the `alert-dispatch` function carries the plan out.
//!
//! # Layout
//!
//! Everything lives in this module for now: severities, channels, the alert
//! summary and [`plan`].

use serde::{Deserialize, Serialize};

/// How bad an alert is, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; no action needed now.
    Info,
    /// Something degrades; act soon.
    Warning,
    /// Something is down; act now.
    Critical,
}

/// A place alerts are delivered to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// The channel's id.
    pub id: String,
    /// The channel's kind, such as `webhook`, `slack` or `whatsapp`.
    pub kind: String,
    /// The lowest severity this channel hears about.
    pub min_severity: Severity,
    /// Whether the channel is switched on.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// The facts about an alert that a plan depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSummary {
    /// The alert's id.
    pub id: String,
    /// What kind of problem, such as `number_disconnected`.
    pub kind: String,
    /// How bad it is.
    pub severity: Severity,
    /// `open`, `acknowledged` or `resolved`.
    pub status: String,
}

/// One notification to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The channel to send to.
    pub channel_id: String,
    /// The alert it is about.
    pub alert_id: String,
    /// A one-line message for people.
    pub text: String,
}

/// Returns the deliveries for `alert` across `channels`, in channel order.
/// Acknowledged alerts notify nobody: a person already owns them.
pub fn plan(alert: &AlertSummary, channels: &[Channel]) -> Vec<Delivery> {
    if alert.status == "acknowledged" {
        return Vec::new();
    }
    let verb = if alert.status == "resolved" {
        "resolved"
    } else {
        "open"
    };
    let severity = match alert.severity {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    };
    channels
        .iter()
        .filter(|channel| channel.enabled && alert.severity >= channel.min_severity)
        .map(|channel| Delivery {
            channel_id: channel.id.clone(),
            alert_id: alert.id.clone(),
            text: format!("[{severity}] {} is {verb}", alert.kind),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(id: &str, min_severity: Severity, enabled: bool) -> Channel {
        Channel {
            id: id.into(),
            kind: "webhook".into(),
            min_severity,
            enabled,
        }
    }

    fn alert(severity: Severity, status: &str) -> AlertSummary {
        AlertSummary {
            id: "a1".into(),
            kind: "number_disconnected".into(),
            severity,
            status: status.into(),
        }
    }

    #[test]
    fn channels_hear_alerts_at_or_above_their_severity() {
        let channels = [
            channel("pager", Severity::Critical, true),
            channel("ops", Severity::Warning, true),
            channel("off", Severity::Info, false),
        ];
        let warning: Vec<String> = plan(&alert(Severity::Warning, "open"), &channels)
            .into_iter()
            .map(|d| d.channel_id)
            .collect();
        assert_eq!(warning, vec!["ops"]);
        let critical = plan(&alert(Severity::Critical, "open"), &channels);
        assert_eq!(critical.len(), 2);
        assert_eq!(critical[0].text, "[critical] number_disconnected is open");
    }

    #[test]
    fn acknowledged_alerts_are_silent_and_resolutions_are_announced() {
        let channels = [channel("ops", Severity::Info, true)];
        assert!(plan(&alert(Severity::Critical, "acknowledged"), &channels).is_empty());
        assert_eq!(
            plan(&alert(Severity::Critical, "resolved"), &channels)[0].text,
            "[critical] number_disconnected is resolved"
        );
    }
}
