//! The Cloud API's `message_template_status_update` webhook field: Meta's
//! notice that a template of the business account was approved, rejected,
//! paused, disabled, … (its `value`: `event`, `message_template_id`,
//! `message_template_name`, `message_template_language`, `reason`).
//!
//! It arrives at the daemon's `/cloud/webhook` beside the `messages`
//! changes, signed the same way. [`apply_template_changes`] finds those
//! changes in a delivery's body and hands each `value` to
//! [`apply_status_update`], which sets the status of every synced copy of
//! that template (`public.message_templates`, through
//! `private.apply_template_status_update`), so the admin API offers and
//! allows only templates that are approved now. A template no number has
//! synced yet changes nothing (the next sync brings it); a malformed
//! `value` is logged and skipped, never refused, so Meta does not deliver
//! the whole notification again for it.

use serde_json::Value;

use crate::database::DatabaseError;

/// The webhook field of template status updates.
pub const STATUS_UPDATE_FIELD: &str = "message_template_status_update";

/// A template status update, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateStatusUpdate {
    /// The Graph API's id of the template (`message_template_id`).
    pub template_id: String,
    /// The new status (`event`): APPROVED, REJECTED, PAUSED, DISABLED, ….
    pub status: String,
    /// Why (`reason`), when Meta gives one other than `NONE`.
    pub reason: Option<String>,
}

/// A `value` that is not a usable status update.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateUpdateError {
    /// `message_template_id` is missing or not a Graph API id.
    #[error("message_template_id is missing or not a numeric id")]
    TemplateId,
    /// `event` is missing or not a status such as APPROVED.
    #[error("event is missing or not an upper-case status such as APPROVED")]
    Event,
}

/// Reads a change's `value` into an update.
pub fn status_update(value: &Value) -> Result<TemplateStatusUpdate, TemplateUpdateError> {
    // Meta documents the id as a number; accept its text form too.
    let template_id = match value.get("message_template_id") {
        Some(Value::Number(number)) => number.as_u64().map(|id| id.to_string()),
        Some(Value::String(text)) => Some(text.trim().to_owned()),
        _ => None,
    }
    .filter(|id| !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit()))
    .ok_or(TemplateUpdateError::TemplateId)?;
    let status = value
        .get("event")
        .and_then(Value::as_str)
        .filter(|event| {
            !event.is_empty()
                && event.len() <= 40
                && event.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        })
        .ok_or(TemplateUpdateError::Event)?
        .to_owned();
    let reason = value
        .get("reason")
        .and_then(Value::as_str)
        .filter(|reason| !reason.is_empty() && *reason != "NONE")
        .map(|reason| reason.chars().take(1000).collect());
    Ok(TemplateStatusUpdate {
        template_id,
        status,
        reason,
    })
}

/// The `value` of every `message_template_status_update` change in a
/// webhook body (an unparsable body has none: `parse_webhook` refuses it).
pub fn status_update_values(body: &[u8]) -> Vec<Value> {
    let Ok(payload) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let list = |value: &Value, key: &str| -> Vec<Value> {
        value
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    list(&payload, "entry")
        .iter()
        .flat_map(|entry| list(entry, "changes"))
        .filter(|change| change.get("field").and_then(Value::as_str) == Some(STATUS_UPDATE_FIELD))
        .filter_map(|change| change.get("value").cloned())
        .collect()
}

/// Applies one change's `value`: returns how many synced templates changed
/// (0 for a template not synced yet), or the reason it is not an update.
pub async fn apply_status_update(
    client: &tokio_postgres::Client,
    value: &Value,
) -> Result<Result<u64, TemplateUpdateError>, DatabaseError> {
    let update = match status_update(value) {
        Ok(update) => update,
        Err(error) => return Ok(Err(error)),
    };
    let row = client
        .query_one(
            "select private.apply_template_status_update($1, $2, $3)",
            &[&update.template_id, &update.status, &update.reason],
        )
        .await?;
    let changed: i32 = row.try_get(0)?;
    tracing::info!(
        template_id = %update.template_id,
        status = %update.status,
        changed,
        "applied a template status update"
    );
    Ok(Ok(u64::try_from(changed).unwrap_or(0)))
}

/// Applies every template status update of a webhook body; returns how
/// many updates were applied. Malformed ones are logged and skipped.
pub async fn apply_template_changes(
    client: &tokio_postgres::Client,
    body: &[u8],
) -> Result<usize, DatabaseError> {
    let mut applied = 0;
    for value in status_update_values(body) {
        match apply_status_update(client, &value).await? {
            Ok(_) => applied += 1,
            Err(error) => {
                tracing::warn!(%error, "skipped a malformed message_template_status_update");
            }
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Meta's documented example of the field.
    const NOTIFICATION: &str = r#"{
      "object": "whatsapp_business_account",
      "entry": [{
        "id": "102290129340398",
        "time": 1674864290,
        "changes": [{
          "value": {
            "event": "APPROVED",
            "message_template_id": 594425479261596,
            "message_template_name": "order_update",
            "message_template_language": "en_US",
            "reason": "NONE"
          },
          "field": "message_template_status_update"
        }, {
          "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"}},
          "field": "messages"
        }]
      }]
    }"#;

    #[test]
    fn the_status_update_changes_of_a_body_are_found_and_read() {
        let values = status_update_values(NOTIFICATION.as_bytes());
        assert_eq!(values.len(), 1);
        assert_eq!(
            status_update(&values[0]),
            Ok(TemplateStatusUpdate {
                template_id: "594425479261596".into(),
                status: "APPROVED".into(),
                reason: None,
            })
        );
        let paused =
            json!({"event": "PAUSED", "message_template_id": "77", "reason": "Low quality"});
        assert_eq!(
            status_update(&paused).map(|update| update.reason),
            Ok(Some("Low quality".to_owned()))
        );
    }

    #[test]
    fn malformed_updates_are_named_not_applied() {
        assert_eq!(
            status_update(&json!({"event": "APPROVED"})),
            Err(TemplateUpdateError::TemplateId)
        );
        assert_eq!(
            status_update(&json!({"event": "approved; drop", "message_template_id": 1})),
            Err(TemplateUpdateError::Event)
        );
        assert_eq!(
            status_update(&json!({"event": "PAUSED", "message_template_id": "1 or 1=1"})),
            Err(TemplateUpdateError::TemplateId)
        );
        assert!(status_update_values(b"not json").is_empty());
    }
}
