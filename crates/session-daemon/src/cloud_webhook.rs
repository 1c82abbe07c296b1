//! The Cloud API's webhook, served by the daemon (`/cloud/webhook`).
//!
//! - `GET /cloud/webhook?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`
//!   is Meta's verification handshake: when the token is
//!   `WABOT_CLOUD_VERIFY_TOKEN`, the challenge is echoed as plain text;
//!   otherwise 403.
//! - `POST /cloud/webhook` carries `messages` changes (inbound messages and
//!   delivery statuses). The body's `X-Hub-Signature-256` header must be
//!   `sha256=<hex HMAC-SHA256 of the raw body keyed with
//!   WABOT_CLOUD_APP_SECRET>` ([`signature_is_valid`]); anything else is
//!   refused with 401 before the body is even parsed, and nothing is stored.
//!   Each change names its number by `metadata.phone_number_id`, matched
//!   against `session_credentials.credentials.phone_number_id` of the
//!   `cloud` numbers. Inbound messages are stored exactly like the other
//!   transports' (idempotent on the `wamid`), statuses become receipts
//!   (`sent`, `delivered`, `read`, `failed` with the error's code and title).
//!   The answer is 200 only after the commit: on a database failure it is
//!   503, and Meta delivers the webhook again (for up to seven days).
//!
//! Any daemon can take a webhook delivery (Meta calls one URL): storing
//! needs no session, only the database.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::transport::{DeliveryReceipt, InboundMessage, ReceiptStatus};

/// The header carrying the payload's signature.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// A malformed webhook payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The body is not JSON.
    #[error("malformed JSON body: {0}")]
    MalformedJson(String),

    /// The body is not a WhatsApp Business Account notification.
    #[error("not a whatsapp business account notification: {0}")]
    NotWhatsApp(String),
}

/// Everything one `messages` change says about one number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookChange {
    /// `metadata.phone_number_id`: which number.
    pub phone_number_id: String,
    /// Inbound messages.
    pub messages: Vec<InboundMessage>,
    /// Delivery statuses of sent messages.
    pub receipts: Vec<DeliveryReceipt>,
}

/// Checks `X-Hub-Signature-256` (`sha256=<hex>`) against the body, in
/// constant time.
pub fn signature_is_valid(app_secret: &str, header: Option<&str>, body: &[u8]) -> bool {
    let Some(hex) = header.and_then(|header| header.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Returns the `sha256=<hex>` signature of a body, as Meta computes it.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC accepts keys of any length.
        Err(_) => return String::new(),
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(7 + digest.len() * 2);
    hex.push_str("sha256=");
    for byte in digest.iter() {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(hex.get(index..index + 2)?, 16).ok())
        .collect()
}

/// Reads a webhook body into its `messages` changes. Other fields (account
/// updates, templates) and unknown message shapes are skipped, not refused:
/// Meta adds fields over time.
pub fn parse_webhook(body: &[u8]) -> Result<Vec<WebhookChange>, WebhookError> {
    let payload: Value = serde_json::from_slice(body)
        .map_err(|error| WebhookError::MalformedJson(error.to_string()))?;
    match payload.get("object").and_then(Value::as_str) {
        Some("whatsapp_business_account") => {}
        other => {
            return Err(WebhookError::NotWhatsApp(format!(
                "\"object\" is {}",
                other.map_or_else(|| "missing".to_owned(), |object| format!("{object:?}"))
            )))
        }
    }
    // The envelope's shape is Meta's contract: `entry` is always an array.
    // Inside it, fields this daemon does not read are skipped, not refused.
    if !payload.get("entry").is_some_and(Value::is_array) {
        return Err(WebhookError::NotWhatsApp(
            "\"entry\" must be an array".to_owned(),
        ));
    }
    let mut changes = Vec::new();
    for entry in array(&payload, "entry") {
        for change in array(entry, "changes") {
            if change.get("field").and_then(Value::as_str) != Some("messages") {
                continue;
            }
            let Some(value) = change.get("value") else {
                continue;
            };
            let Some(phone_number_id) = value
                .pointer("/metadata/phone_number_id")
                .and_then(Value::as_str)
            else {
                continue;
            };
            let names: Vec<(&str, &str)> = array(value, "contacts")
                .filter_map(|contact| {
                    Some((
                        contact.get("wa_id")?.as_str()?,
                        contact.pointer("/profile/name")?.as_str()?,
                    ))
                })
                .collect();
            let messages = array(value, "messages")
                .filter_map(|message| inbound_message(message, &names))
                .collect();
            let receipts = array(value, "statuses").filter_map(receipt).collect();
            changes.push(WebhookChange {
                phone_number_id: phone_number_id.to_owned(),
                messages,
                receipts,
            });
        }
    }
    Ok(changes)
}

fn array<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(|items| items.iter())
        .into_iter()
        .flatten()
}

fn inbound_message(message: &Value, names: &[(&str, &str)]) -> Option<InboundMessage> {
    let from = message.get("from")?.as_str()?.trim_start_matches('+');
    let wa_message_id = message.get("id")?.as_str()?;
    let message_type = message
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let text_at = |pointer: &str| {
        message
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (stored_type, text) = match message_type {
        "text" => ("text", text_at("/text/body")),
        "image" => ("image", text_at("/image/caption")),
        "video" => ("video", text_at("/video/caption")),
        "document" => ("document", text_at("/document/caption")),
        "audio" => ("audio", String::new()),
        "sticker" => ("sticker", String::new()),
        "location" => ("location", text_at("/location/name")),
        "contacts" => ("contacts", String::new()),
        "reaction" => ("reaction", text_at("/reaction/emoji")),
        "button" => ("buttons", text_at("/button/text")),
        "interactive" => {
            let reply = message
                .pointer("/interactive/button_reply/title")
                .or_else(|| message.pointer("/interactive/list_reply/title"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            ("interactive", reply)
        }
        "system" => ("system", text_at("/system/body")),
        _ => ("unsupported", String::new()),
    };
    let contact_name = names
        .iter()
        .find(|(wa_id, _)| *wa_id == from)
        .map(|(_, name)| (*name).to_owned());
    let mut inbound = InboundMessage::text(from, contact_name, wa_message_id, text);
    inbound.message_type = stored_type.to_owned();
    inbound.payload = inbound_payload(message, message_type, stored_type);
    Some(inbound)
}

/// The largest Cloud API message kept whole in `payload.raw` (the documented
/// payloads are well under 4 KiB; a webhook body is at most 4 MiB).
pub const MAX_RAW_MESSAGE_BYTES: usize = 16 * 1024;

/// What is kept of a Cloud API message beside its text: the fields each
/// kind carries, by name (`reply_id` for a button or list tap, or a template
/// quick reply's `payload`, so routing matches by id; the media id, MIME
/// type, sha256 and file name; coordinates; the message a reaction is for;
/// shared contacts; a system notice's new id), the quoted message
/// (`context`), and the message as WhatsApp sent it (`raw`, up to
/// [`MAX_RAW_MESSAGE_BYTES`]), so nothing the platform cannot handle yet is
/// lost. A kind it does not know is also flagged `unsupported: true`.
fn inbound_payload(message: &Value, cloud_type: &str, stored_type: &str) -> Value {
    let pick = |pointer: &str| message.pointer(pointer).cloned().unwrap_or(Value::Null);
    let mut payload = json!({
        "cloud_type": cloud_type,
        "timestamp": message.get("timestamp"),
        "context": message.get("context"),
    });
    let fields: Value = match cloud_type {
        "interactive" => json!({
            "reply_id": message
                .pointer("/interactive/button_reply/id")
                .or_else(|| message.pointer("/interactive/list_reply/id")),
            "reply_title": message
                .pointer("/interactive/button_reply/title")
                .or_else(|| message.pointer("/interactive/list_reply/title")),
            "reply_description": message.pointer("/interactive/list_reply/description"),
            "interactive_type": message.pointer("/interactive/type"),
        }),
        // A template's quick-reply button: its developer-defined payload is
        // the id to route by.
        "button" => json!({
            "reply_id": pick("/button/payload"),
            "reply_title": pick("/button/text"),
        }),
        "image" | "video" | "audio" | "document" | "sticker" => {
            let media = pick(&format!("/{cloud_type}"));
            json!({
                "media": {
                    "media_id": media.get("id"),
                    "mime_type": media.get("mime_type"),
                    "sha256": media.get("sha256"),
                    "filename": media.get("filename"),
                    "voice": media.get("voice"),
                    "animated": media.get("animated"),
                },
            })
        }
        "location" => json!({ "location": pick("/location") }),
        "contacts" => json!({ "contacts": pick("/contacts") }),
        "reaction" => json!({
            "reaction": {
                "message_id": message.pointer("/reaction/message_id"),
                "emoji": message.pointer("/reaction/emoji"),
            },
        }),
        "system" => json!({ "system": pick("/system") }),
        _ => json!({}),
    };
    if let (Some(payload), Some(fields)) = (payload.as_object_mut(), fields.as_object()) {
        for (key, value) in fields {
            payload.insert(key.clone(), value.clone());
        }
        if stored_type == "unsupported" {
            payload.insert("unsupported".to_owned(), Value::Bool(true));
        }
        let raw_size = serde_json::to_vec(message).map_or(usize::MAX, |raw| raw.len());
        if raw_size <= MAX_RAW_MESSAGE_BYTES {
            payload.insert("raw".to_owned(), message.clone());
        } else {
            payload.insert(
                "raw_omitted".to_owned(),
                json!({ "bytes": raw_size, "limit": MAX_RAW_MESSAGE_BYTES }),
            );
        }
    }
    payload
}

fn receipt(status: &Value) -> Option<DeliveryReceipt> {
    let wa_message_id = status.get("id")?.as_str()?.to_owned();
    let status_name = status.get("status")?.as_str()?;
    let parsed = status_name.parse::<ReceiptStatus>().ok()?;
    let error = status.pointer("/errors/0").map(|error| {
        let code = error
            .get("code")
            .map(|code| code.to_string())
            .unwrap_or_default();
        let title = error
            .get("title")
            .or_else(|| error.get("message"))
            .and_then(Value::as_str)
            .unwrap_or("unknown error");
        let details = error
            .pointer("/error_data/details")
            .and_then(Value::as_str)
            .map(|details| format!(": {details}"))
            .unwrap_or_default();
        format!("cloud api status failed ({code}): {title}{details}")
    });
    Some(DeliveryReceipt {
        wa_message_id,
        status: parsed,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A text message notification, as in Meta's webhook reference.
    const TEXT_MESSAGE: &str = r#"{
      "object": "whatsapp_business_account",
      "entry": [{
        "id": "102290129340398",
        "changes": [{
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
            "messages": [{"from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                          "timestamp": "1749416383", "type": "text", "text": {"body": "Does it come in another color?"}}]
          },
          "field": "messages"
        }]
      }]
    }"#;

    /// A failed status notification (re-engagement), as in Meta's reference.
    const FAILED_STATUS: &str = r#"{
      "object": "whatsapp_business_account",
      "entry": [{
        "id": "102290129340398",
        "changes": [{
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "statuses": [{"id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA",
                          "status": "failed", "timestamp": "1750263773", "recipient_id": "16505551234",
                          "errors": [{"code": 131047, "title": "Re-engagement message",
                                      "message": "Re-engagement message",
                                      "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}]}]
          },
          "field": "messages"
        }]
      }]
    }"#;

    #[test]
    fn signatures_are_checked_against_the_raw_body() {
        let body = TEXT_MESSAGE.as_bytes();
        let signature = sign("app-secret", body);
        assert!(signature.starts_with("sha256="));
        assert!(signature_is_valid("app-secret", Some(&signature), body));
        assert!(!signature_is_valid("other-secret", Some(&signature), body));
        assert!(!signature_is_valid("app-secret", Some(&signature), b"{}"));
        assert!(!signature_is_valid("app-secret", None, body));
        assert!(!signature_is_valid("app-secret", Some("sha256=zz"), body));
        assert!(!signature_is_valid(
            "app-secret",
            Some(signature.trim_start_matches("sha256=")),
            body
        ));
    }

    #[test]
    fn a_text_message_becomes_an_inbound_message() {
        let changes = parse_webhook(TEXT_MESSAGE.as_bytes()).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].phone_number_id, "106540352242922");
        let message = &changes[0].messages[0];
        assert_eq!(message.contact_wa_id, "16505551234");
        assert_eq!(message.contact_name.as_deref(), Some("Sheena Nelson"));
        assert_eq!(message.text, "Does it come in another color?");
        assert_eq!(message.message_type, "text");
        assert!(message.wa_message_id.starts_with("wamid."));
    }

    /// A notification carrying one message `body`, in Meta's documented envelope.
    fn notification(message: &str) -> String {
        format!(
            r#"{{"object": "whatsapp_business_account", "entry": [{{"id": "102290129340398", "changes": [{{"field": "messages",
              "value": {{"messaging_product": "whatsapp",
                "metadata": {{"display_phone_number": "15550783881", "phone_number_id": "106540352242922"}},
                "contacts": [{{"profile": {{"name": "Sheena Nelson"}}, "wa_id": "16505551234"}}],
                "messages": [{message}]}}}}]}}]}}"#
        )
    }

    fn parsed(message: &str) -> InboundMessage {
        let changes = parse_webhook(notification(message).as_bytes()).unwrap();
        changes[0].messages[0].clone()
    }

    #[test]
    fn a_button_or_list_tap_keeps_its_id_for_routing() {
        let button = parsed(
            r#"{"context": {"from": "15550783881", "id": "wamid.QUOTED"}, "from": "16505551234", "id": "wamid.B1",
                "timestamp": "1750020000", "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": "1", "title": "Opening hours"}}}"#,
        );
        assert_eq!(button.message_type, "interactive");
        assert_eq!(button.text, "Opening hours");
        assert_eq!(button.payload["reply_id"], "1");
        assert_eq!(button.payload["context"]["id"], "wamid.QUOTED");
        let list = parsed(
            r#"{"from": "16505551234", "id": "wamid.L1", "timestamp": "1750020000", "type": "interactive",
                "interactive": {"type": "list_reply", "list_reply": {"id": "row-2", "title": "Address", "description": "Where we are"}}}"#,
        );
        assert_eq!(list.payload["reply_id"], "row-2");
        assert_eq!(list.payload["reply_description"], "Where we are");
        let template_reply = parsed(
            r#"{"from": "16505551234", "id": "wamid.T1", "timestamp": "1750020000", "type": "button",
                "button": {"payload": "STOP_PROMOS", "text": "Stop promotions"}}"#,
        );
        assert_eq!(template_reply.payload["reply_id"], "STOP_PROMOS");
        assert_eq!(template_reply.text, "Stop promotions");
    }

    #[test]
    fn media_location_reactions_and_contacts_keep_what_they_carry() {
        let image = parsed(
            r#"{"from": "16505551234", "id": "wamid.I1", "timestamp": "1750020000", "type": "image",
                "image": {"caption": "my order", "mime_type": "image/jpeg", "sha256": "abc=", "id": "1003383421387256"}}"#,
        );
        assert_eq!(image.text, "my order");
        assert_eq!(image.payload["media"]["media_id"], "1003383421387256");
        assert_eq!(image.payload["media"]["mime_type"], "image/jpeg");
        assert_eq!(image.payload["media"]["sha256"], "abc=");
        let voice = parsed(
            r#"{"from": "16505551234", "id": "wamid.A1", "timestamp": "1750020000", "type": "audio",
                "audio": {"mime_type": "audio/ogg; codecs=opus", "sha256": "def=", "id": "2", "voice": true}}"#,
        );
        assert_eq!(voice.payload["media"]["voice"], true);
        let location = parsed(
            r#"{"from": "16505551234", "id": "wamid.G1", "timestamp": "1750020000", "type": "location",
                "location": {"address": "1 Hacker Way", "latitude": 37.483307, "longitude": -122.148981, "name": "HQ"}}"#,
        );
        assert_eq!(location.payload["location"]["latitude"], 37.483307);
        assert_eq!(location.payload["location"]["longitude"], -122.148981);
        let reaction = parsed(
            r#"{"from": "16505551234", "id": "wamid.R1", "timestamp": "1750020000", "type": "reaction",
                "reaction": {"message_id": "wamid.REACTED", "emoji": "\ud83d\udc4d"}}"#,
        );
        assert_eq!(reaction.payload["reaction"]["message_id"], "wamid.REACTED");
        assert_eq!(reaction.payload["reaction"]["emoji"], "\u{1f44d}");
        let contacts = parsed(
            r#"{"from": "16505551234", "id": "wamid.C1", "timestamp": "1750020000", "type": "contacts",
                "contacts": [{"name": {"formatted_name": "Ada"}, "phones": [{"phone": "+1 555 0100", "wa_id": "15550100"}]}]}"#,
        );
        assert_eq!(
            contacts.payload["contacts"][0]["phones"][0]["wa_id"],
            "15550100"
        );
        let system = parsed(
            r#"{"from": "16505551234", "id": "wamid.S1", "timestamp": "1750020000", "type": "system",
                "system": {"body": "User changed number", "wa_id": "16505559999", "type": "user_changed_number"}}"#,
        );
        assert_eq!(system.message_type, "system");
        assert_eq!(system.payload["system"]["wa_id"], "16505559999");
    }

    #[test]
    fn an_unknown_kind_is_kept_raw_and_flagged() {
        let unknown = parsed(
            r#"{"from": "16505551234", "id": "wamid.U1", "timestamp": "1750020000", "type": "order",
                "order": {"catalog_id": "42", "product_items": [{"product_retailer_id": "sku-1", "quantity": 2}]}}"#,
        );
        assert_eq!(unknown.message_type, "unsupported");
        assert_eq!(unknown.payload["unsupported"], true);
        assert_eq!(unknown.payload["cloud_type"], "order");
        assert_eq!(unknown.payload["raw"]["order"]["catalog_id"], "42");
        let huge = format!(
            r#"{{"from": "16505551234", "id": "wamid.U2", "timestamp": "1750020000", "type": "order", "order": {{"note": "{}"}}}}"#,
            "x".repeat(MAX_RAW_MESSAGE_BYTES)
        );
        let huge = parsed(&huge);
        assert!(huge.payload.get("raw").is_none());
        assert_eq!(huge.payload["raw_omitted"]["limit"], MAX_RAW_MESSAGE_BYTES);
    }

    #[test]
    fn a_failed_status_becomes_a_failed_receipt_with_its_reason() {
        let changes = parse_webhook(FAILED_STATUS.as_bytes()).unwrap();
        let receipt = &changes[0].receipts[0];
        assert_eq!(receipt.status, ReceiptStatus::Failed);
        let error = receipt.error.as_deref().unwrap();
        assert!(error.contains("131047"), "{error}");
        assert!(error.contains("24 hours"), "{error}");
    }

    #[test]
    fn other_objects_and_malformed_bodies_are_refused() {
        assert!(matches!(
            parse_webhook(b"{"),
            Err(WebhookError::MalformedJson(_))
        ));
        assert!(matches!(
            parse_webhook(br#"{"object": "page"}"#),
            Err(WebhookError::NotWhatsApp(_))
        ));
        for wrong_entry in [
            r#"{"object": "whatsapp_business_account"}"#,
            r#"{"object": "whatsapp_business_account", "entry": "none"}"#,
            r#"{"object": "whatsapp_business_account", "entry": {}}"#,
        ] {
            assert!(
                matches!(parse_webhook(wrong_entry.as_bytes()), Err(WebhookError::NotWhatsApp(message)) if message.contains("entry")),
                "{wrong_entry}"
            );
        }
        let other_field = r#"{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "account_update", "value": {}}]}]}"#;
        assert_eq!(parse_webhook(other_field.as_bytes()).unwrap(), Vec::new());
    }
}
