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

use message_model::{ContactName, ContactPhone, Location, Media, SharedContact};

use crate::transport::{Content, DeliveryReceipt, InboundMessage, ReceiptStatus};

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
#[derive(Debug, Clone, Default, PartialEq)]
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
    let cloud_type = message
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let content = content_of(message, cloud_type);
    let contact_name = names
        .iter()
        .find(|(wa_id, _)| *wa_id == from)
        .map(|(_, name)| (*name).to_owned());
    let mut inbound = InboundMessage::with_content(from, contact_name, wa_message_id, content);
    inbound.context_wa_message_id = message
        .pointer("/context/id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    inbound.payload = inbound_payload(message, cloud_type, &inbound.content);
    Some(inbound)
}

/// A field a documented message must have is missing or has the wrong
/// type: the JSON path (from the message) and what was expected.
struct Missing(String);

fn string_at(message: &Value, pointer: &str) -> Result<String, Missing> {
    message
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Missing(format!("{} must be a string", json_path(pointer))))
}

fn optional_string_at(message: &Value, pointer: &str) -> Option<String> {
    message
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

fn number_at(message: &Value, pointer: &str) -> Result<f64, Missing> {
    message
        .pointer(pointer)
        .and_then(Value::as_f64)
        .ok_or_else(|| Missing(format!("{} must be a number", json_path(pointer))))
}

/// `/location/latitude` as `location.latitude`.
fn json_path(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// Maps a Cloud API message onto the message model, as Meta's webhook
/// reference documents each `type`:
///
/// | `type` | content |
/// |---|---|
/// | `text` | `text` |
/// | `image`, `video`, `document`, `sticker` | the same kind: media id, MIME type, sha256, caption, file name, animated |
/// | `audio` | `voice` when `audio.voice` is true, else `audio` |
/// | `location` | `location` (coordinates, name, address) |
/// | `contacts` | `contacts` (names, phones with their WhatsApp ids, emails, organisation) |
/// | `reaction` | `reaction` (the reacted message's id; no emoji: removed) |
/// | `interactive` `button_reply` / `list_reply` | `button_reply` / `list_reply` (id, title, description) |
/// | `button` (a template's quick reply) | `button_reply` with the `payload` as id |
/// | `system` | `system` (`user_changed_number` with the new WhatsApp id) |
/// | `unsupported`, anything else, a documented field missing | `unknown` (the raw message kept) |
fn content_of(message: &Value, cloud_type: &str) -> Content {
    match read_content(message, cloud_type) {
        Ok(Some(content)) => content,
        Ok(None) => Content::Unknown {
            original_type: cloud_type.to_owned(),
            reason: unsupported_reason(message, cloud_type),
        },
        Err(Missing(problem)) => Content::Unknown {
            original_type: cloud_type.to_owned(),
            reason: format!("a {cloud_type} message the daemon could not read: {problem}"),
        },
    }
}

fn unsupported_reason(message: &Value, cloud_type: &str) -> String {
    let error = message.pointer("/errors/0");
    let code = error
        .and_then(|error| error.get("code"))
        .and_then(Value::as_i64);
    let title = error
        .and_then(|error| error.get("title").or_else(|| error.get("message")))
        .and_then(Value::as_str);
    match (code, title) {
        (Some(code), Some(title)) => format!("unsupported by the cloud api ({code}): {title}"),
        (None, Some(title)) => format!("unsupported by the cloud api: {title}"),
        _ if cloud_type == "unsupported" => "unsupported by the cloud api".to_owned(),
        _ => format!("a cloud api message of type {cloud_type:?} is not read by the platform yet"),
    }
}

fn read_content(message: &Value, cloud_type: &str) -> Result<Option<Content>, Missing> {
    Ok(Some(match cloud_type {
        "text" => Content::text(string_at(message, "/text/body")?),
        "image" | "video" | "audio" | "document" | "sticker" => {
            let at = |field: &str| format!("/{cloud_type}/{field}");
            let media = Media {
                media_id: Some(string_at(message, &at("id"))?),
                mime_type: optional_string_at(message, &at("mime_type")),
                sha256: optional_string_at(message, &at("sha256")),
                caption: optional_string_at(message, &at("caption")),
                filename: optional_string_at(message, &at("filename")),
                animated: message.pointer(&at("animated")).and_then(Value::as_bool),
                ..Media::default()
            };
            match cloud_type {
                "image" => Content::Image(media),
                "video" => Content::Video(media),
                "audio"
                    if message.pointer("/audio/voice").and_then(Value::as_bool) == Some(true) =>
                {
                    Content::Voice(media)
                }
                "audio" => Content::Audio(media),
                "document" => Content::Document(media),
                _ => Content::Sticker(media),
            }
        }
        "location" => Content::Location(Location {
            latitude: number_at(message, "/location/latitude")?,
            longitude: number_at(message, "/location/longitude")?,
            name: optional_string_at(message, "/location/name"),
            address: optional_string_at(message, "/location/address"),
        }),
        "contacts" => {
            let cards = message
                .get("contacts")
                .and_then(Value::as_array)
                .ok_or_else(|| Missing("contacts must be an array".to_owned()))?;
            let mut contacts = Vec::with_capacity(cards.len());
            for (index, card) in cards.iter().enumerate() {
                contacts.push(shared_contact(card, index)?);
            }
            Content::Contacts { contacts }
        }
        "reaction" => Content::Reaction {
            message_id: string_at(message, "/reaction/message_id")?,
            // Meta leaves the emoji out when the reaction is removed.
            emoji: optional_string_at(message, "/reaction/emoji").unwrap_or_default(),
        },
        "interactive" => match message.pointer("/interactive/type").and_then(Value::as_str) {
            Some("button_reply") => Content::ButtonReply {
                id: string_at(message, "/interactive/button_reply/id")?,
                title: string_at(message, "/interactive/button_reply/title")?,
            },
            Some("list_reply") => Content::ListReply {
                id: string_at(message, "/interactive/list_reply/id")?,
                title: string_at(message, "/interactive/list_reply/title")?,
                description: optional_string_at(message, "/interactive/list_reply/description"),
            },
            _ => return Ok(None),
        },
        // A template's quick-reply button: its developer-defined payload is
        // the id to route by.
        "button" => Content::ButtonReply {
            id: string_at(message, "/button/payload")?,
            title: optional_string_at(message, "/button/text").unwrap_or_default(),
        },
        "system" => Content::System {
            system_type: optional_string_at(message, "/system/type")
                .unwrap_or_else(|| "unknown".to_owned()),
            text: optional_string_at(message, "/system/body").unwrap_or_default(),
            // `new_wa_id` in the current reference, `wa_id` in older ones.
            new_wa_id: optional_string_at(message, "/system/new_wa_id")
                .or_else(|| optional_string_at(message, "/system/wa_id")),
        },
        _ => return Ok(None),
    }))
}

fn shared_contact(card: &Value, index: usize) -> Result<SharedContact, Missing> {
    let formatted_name = card
        .pointer("/name/formatted_name")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Missing(format!(
                "contacts[{index}].name.formatted_name must be a string"
            ))
        })?;
    let items = |key: &str| {
        card.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    Ok(SharedContact {
        name: ContactName {
            formatted_name: formatted_name.to_owned(),
            first_name: optional_string_at(card, "/name/first_name"),
            last_name: optional_string_at(card, "/name/last_name"),
        },
        phones: items("phones")
            .iter()
            .filter_map(|phone| {
                Some(ContactPhone {
                    phone: phone.get("phone")?.as_str()?.to_owned(),
                    wa_id: optional_string_at(phone, "/wa_id"),
                    phone_type: optional_string_at(phone, "/type"),
                })
            })
            .collect(),
        emails: items("emails")
            .iter()
            .filter_map(|email| Some(email.get("email")?.as_str()?.to_owned()))
            .collect(),
        organization: optional_string_at(card, "/org/company"),
        vcard: None,
    })
}

/// The largest Cloud API message kept whole in `payload.raw` (the documented
/// payloads are well under 4 KiB; a webhook body is at most 4 MiB).
pub const MAX_RAW_MESSAGE_BYTES: usize = 16 * 1024;

/// What is kept of a Cloud API message beside its content: the Cloud API's
/// `type`, the timestamp, the quoted message (`context`), a tap's
/// `reply_id` (what route-message read before the content column), and
/// the message as WhatsApp sent it (`raw`, up to [`MAX_RAW_MESSAGE_BYTES`]),
/// so nothing the platform cannot handle yet is lost. An unknown kind is
/// also flagged `unsupported: true`.
fn inbound_payload(message: &Value, cloud_type: &str, content: &Content) -> Value {
    let mut payload = json!({
        "cloud_type": cloud_type,
        "timestamp": message.get("timestamp"),
        "context": message.get("context"),
    });
    if let Some(payload) = payload.as_object_mut() {
        if let Some(reply_id) = content.reply_id() {
            payload.insert("reply_id".to_owned(), json!(reply_id));
        }
        if matches!(content, Content::Unknown { .. }) {
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
        assert_eq!(
            message.content,
            Content::text("Does it come in another color?")
        );
        assert_eq!(message.message_type(), "text");
        assert_eq!(message.context_wa_message_id, None);
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

    fn media(media_id: &str) -> Media {
        Media {
            media_id: Some(media_id.to_owned()),
            ..Media::default()
        }
    }

    #[test]
    fn a_text_reply_keeps_the_quoted_message() {
        let reply = parsed(
            r#"{"context": {"from": "15550783881", "id": "wamid.QUOTED"}, "from": "16505551234", "id": "wamid.X1",
                "timestamp": "1750020000", "type": "text", "text": {"body": "yes please"}}"#,
        );
        assert_eq!(reply.content, Content::text("yes please"));
        assert_eq!(reply.context_wa_message_id.as_deref(), Some("wamid.QUOTED"));
        assert_eq!(reply.payload["context"]["id"], "wamid.QUOTED");
    }

    #[test]
    fn a_reply_button_tap_keeps_its_id_for_routing() {
        let button = parsed(
            r#"{"context": {"from": "15550783881", "id": "wamid.QUOTED"}, "from": "16505551234", "id": "wamid.B1",
                "timestamp": "1750020000", "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": "1", "title": "Opening hours"}}}"#,
        );
        assert_eq!(
            button.content,
            Content::ButtonReply {
                id: "1".into(),
                title: "Opening hours".into()
            }
        );
        assert_eq!(button.message_type(), "button_reply");
        assert_eq!(button.body(), "Opening hours");
        assert_eq!(
            button.context_wa_message_id.as_deref(),
            Some("wamid.QUOTED")
        );
        assert_eq!(button.payload["reply_id"], "1");
    }

    #[test]
    fn a_list_row_pick_keeps_its_id_and_description() {
        let list = parsed(
            r#"{"from": "16505551234", "id": "wamid.L1", "timestamp": "1750020000", "type": "interactive",
                "interactive": {"type": "list_reply", "list_reply": {"id": "row-2", "title": "Address", "description": "Where we are"}}}"#,
        );
        assert_eq!(
            list.content,
            Content::ListReply {
                id: "row-2".into(),
                title: "Address".into(),
                description: Some("Where we are".into())
            }
        );
    }

    #[test]
    fn a_template_quick_reply_routes_by_its_payload() {
        let template_reply = parsed(
            r#"{"context": {"from": "15550783881", "id": "wamid.TEMPLATE"}, "from": "16505551234", "id": "wamid.T1",
                "timestamp": "1750020000", "type": "button",
                "button": {"payload": "STOP_PROMOS", "text": "Stop promotions"}}"#,
        );
        assert_eq!(
            template_reply.content,
            Content::ButtonReply {
                id: "STOP_PROMOS".into(),
                title: "Stop promotions".into()
            }
        );
        assert_eq!(
            template_reply.context_wa_message_id.as_deref(),
            Some("wamid.TEMPLATE")
        );
    }

    #[test]
    fn an_image_keeps_its_media_id_type_hash_and_caption() {
        let image = parsed(
            r#"{"from": "16505551234", "id": "wamid.I1", "timestamp": "1750020000", "type": "image",
                "image": {"caption": "my order", "mime_type": "image/jpeg", "sha256": "abc=", "id": "1003383421387256"}}"#,
        );
        assert_eq!(
            image.content,
            Content::Image(Media {
                mime_type: Some("image/jpeg".into()),
                sha256: Some("abc=".into()),
                caption: Some("my order".into()),
                ..media("1003383421387256")
            })
        );
        assert_eq!(image.body(), "my order");
    }

    #[test]
    fn a_video_keeps_its_media() {
        let video = parsed(
            r#"{"from": "16505551234", "id": "wamid.V1", "timestamp": "1750020000", "type": "video",
                "video": {"caption": "unboxing", "mime_type": "video/mp4", "sha256": "vid=", "id": "1200"}}"#,
        );
        assert_eq!(
            video.content,
            Content::Video(Media {
                mime_type: Some("video/mp4".into()),
                sha256: Some("vid=".into()),
                caption: Some("unboxing".into()),
                ..media("1200")
            })
        );
    }

    #[test]
    fn audio_with_the_voice_flag_is_a_voice_note() {
        let voice = parsed(
            r#"{"from": "16505551234", "id": "wamid.A1", "timestamp": "1750020000", "type": "audio",
                "audio": {"mime_type": "audio/ogg; codecs=opus", "sha256": "def=", "id": "2", "voice": true}}"#,
        );
        assert_eq!(
            voice.content,
            Content::Voice(Media {
                mime_type: Some("audio/ogg; codecs=opus".into()),
                sha256: Some("def=".into()),
                ..media("2")
            })
        );
        let audio = parsed(
            r#"{"from": "16505551234", "id": "wamid.A2", "timestamp": "1750020000", "type": "audio",
                "audio": {"mime_type": "audio/mpeg", "sha256": "mp3=", "id": "3", "voice": false}}"#,
        );
        assert_eq!(audio.message_type(), "audio");
    }

    #[test]
    fn a_document_keeps_its_file_name() {
        let document = parsed(
            r#"{"from": "16505551234", "id": "wamid.D1", "timestamp": "1750020000", "type": "document",
                "document": {"caption": "invoice", "filename": "invoice-42.pdf", "mime_type": "application/pdf", "sha256": "pdf=", "id": "4"}}"#,
        );
        assert_eq!(
            document.content,
            Content::Document(Media {
                mime_type: Some("application/pdf".into()),
                sha256: Some("pdf=".into()),
                caption: Some("invoice".into()),
                filename: Some("invoice-42.pdf".into()),
                ..media("4")
            })
        );
    }

    #[test]
    fn a_sticker_keeps_whether_it_is_animated() {
        let sticker = parsed(
            r#"{"from": "16505551234", "id": "wamid.K1", "timestamp": "1750020000", "type": "sticker",
                "sticker": {"mime_type": "image/webp", "sha256": "webp=", "id": "5", "animated": true}}"#,
        );
        assert_eq!(
            sticker.content,
            Content::Sticker(Media {
                mime_type: Some("image/webp".into()),
                sha256: Some("webp=".into()),
                animated: Some(true),
                ..media("5")
            })
        );
    }

    #[test]
    fn a_location_keeps_its_coordinates() {
        let location = parsed(
            r#"{"from": "16505551234", "id": "wamid.G1", "timestamp": "1750020000", "type": "location",
                "location": {"address": "1 Hacker Way", "latitude": 37.483307, "longitude": -122.148981, "name": "HQ", "url": "https://example.com"}}"#,
        );
        assert_eq!(
            location.content,
            Content::Location(Location {
                latitude: 37.483307,
                longitude: -122.148981,
                name: Some("HQ".into()),
                address: Some("1 Hacker Way".into()),
            })
        );
    }

    #[test]
    fn shared_contacts_keep_their_numbers() {
        let contacts = parsed(
            r#"{"from": "16505551234", "id": "wamid.C1", "timestamp": "1750020000", "type": "contacts",
                "contacts": [{"addresses": [{"city": "Menlo Park", "type": "WORK"}],
                              "emails": [{"email": "ada@example.com", "type": "WORK"}],
                              "name": {"formatted_name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace"},
                              "org": {"company": "Analytical Engines"},
                              "phones": [{"phone": "+1 555 0100", "wa_id": "15550100", "type": "CELL"}]}]}"#,
        );
        assert_eq!(
            contacts.content,
            Content::Contacts {
                contacts: vec![SharedContact {
                    name: ContactName {
                        formatted_name: "Ada Lovelace".into(),
                        first_name: Some("Ada".into()),
                        last_name: Some("Lovelace".into()),
                    },
                    phones: vec![ContactPhone {
                        phone: "+1 555 0100".into(),
                        wa_id: Some("15550100".into()),
                        phone_type: Some("CELL".into()),
                    }],
                    emails: vec!["ada@example.com".into()],
                    organization: Some("Analytical Engines".into()),
                    vcard: None,
                }]
            }
        );
    }

    #[test]
    fn a_reaction_names_the_message_it_reacts_to() {
        let reaction = parsed(
            r#"{"from": "16505551234", "id": "wamid.R1", "timestamp": "1750020000", "type": "reaction",
                "reaction": {"message_id": "wamid.REACTED", "emoji": "\ud83d\udc4d"}}"#,
        );
        assert_eq!(
            reaction.content,
            Content::Reaction {
                message_id: "wamid.REACTED".into(),
                emoji: "\u{1f44d}".into()
            }
        );
        // Meta leaves the emoji out when the contact removes the reaction.
        let removed = parsed(
            r#"{"from": "16505551234", "id": "wamid.R2", "timestamp": "1750020000", "type": "reaction",
                "reaction": {"message_id": "wamid.REACTED"}}"#,
        );
        assert_eq!(
            removed.content,
            Content::Reaction {
                message_id: "wamid.REACTED".into(),
                emoji: String::new()
            }
        );
    }

    #[test]
    fn a_changed_number_is_a_system_notice_with_the_new_id() {
        let system = parsed(
            r#"{"from": "16505551234", "id": "wamid.S1", "timestamp": "1750020000", "type": "system",
                "system": {"body": "User A changed from 16505551234 to 16505559999", "new_wa_id": "16505559999", "type": "user_changed_number"}}"#,
        );
        assert_eq!(
            system.content,
            Content::System {
                system_type: "user_changed_number".into(),
                text: "User A changed from 16505551234 to 16505559999".into(),
                new_wa_id: Some("16505559999".into()),
            }
        );
        let older = parsed(
            r#"{"from": "16505551234", "id": "wamid.S2", "timestamp": "1750020000", "type": "system",
                "system": {"body": "User changed number", "wa_id": "16505559999", "type": "user_changed_number"}}"#,
        );
        assert!(
            matches!(&older.content, Content::System { new_wa_id: Some(id), .. } if id == "16505559999")
        );
    }

    #[test]
    fn an_unsupported_message_is_unknown_with_meta_s_reason() {
        let unsupported = parsed(
            r#"{"from": "16505551234", "id": "wamid.N1", "timestamp": "1750020000", "type": "unsupported",
                "errors": [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                            "error_data": {"details": "Message type is currently not supported."}}]}"#,
        );
        assert_eq!(
            unsupported.content,
            Content::Unknown {
                original_type: "unsupported".into(),
                reason: "unsupported by the cloud api (131051): Message type unknown".into(),
            }
        );
        assert_eq!(unsupported.payload["raw"]["errors"][0]["code"], 131051);
    }

    #[test]
    fn a_documented_kind_missing_its_fields_is_unknown_naming_the_field() {
        let broken = parsed(
            r#"{"from": "16505551234", "id": "wamid.N2", "timestamp": "1750020000", "type": "location",
                "location": {"latitude": "north"}}"#,
        );
        assert_eq!(
            broken.content,
            Content::Unknown {
                original_type: "location".into(),
                reason: "a location message the daemon could not read: location.latitude must be a number".into(),
            }
        );
        assert_eq!(broken.payload["unsupported"], true);
        let no_media_id = parsed(
            r#"{"from": "16505551234", "id": "wamid.N3", "timestamp": "1750020000", "type": "image", "image": {}}"#,
        );
        assert!(
            matches!(&no_media_id.content, Content::Unknown { reason, .. } if reason.contains("image.id")),
            "{:?}",
            no_media_id.content
        );
    }

    #[test]
    fn an_unknown_kind_is_kept_raw_and_flagged() {
        let unknown = parsed(
            r#"{"from": "16505551234", "id": "wamid.U1", "timestamp": "1750020000", "type": "order",
                "order": {"catalog_id": "42", "product_items": [{"product_retailer_id": "sku-1", "quantity": 2}]}}"#,
        );
        assert_eq!(unknown.message_type(), "unknown");
        assert!(
            matches!(&unknown.content, Content::Unknown { original_type, .. } if original_type == "order")
        );
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
