//! WhatsApp Web messages (whatsapp-rust's `waproto` types) to and from the
//! message model.
//!
//! # Inbound ([`content_from_web`])
//!
//! | waproto message | content |
//! |---|---|
//! | `conversation`, `extendedTextMessage` | `text` |
//! | `imageMessage`, `videoMessage`, `documentMessage`, `stickerMessage` | the same kind: MIME type, file length, sha256 (base64, as WhatsApp gives it), caption, file name, animated |
//! | `audioMessage` | `voice` when `ptt`, else `audio` |
//! | `locationMessage` | `location` |
//! | `contactMessage`, `contactsArrayMessage` | `contacts` (the vCard kept, phones and WhatsApp ids read from its `TEL` lines) |
//! | `reactionMessage` | `reaction` (`key.id` is the reacted message) |
//! | `buttonsResponseMessage`, `templateButtonReplyMessage` | `button_reply` |
//! | `listResponseMessage` | `list_reply` |
//! | anything else | `unknown`, the message kept raw (JSON, or its protobuf bytes in base64) |
//!
//! `contextInfo.stanzaId` of the message is the quoted message's id.
//!
//! # Outbound ([`plan_outbound`])
//!
//! Text, quoted replies (`contextInfo.stanzaId` and `participant`),
//! reactions, locations, contact cards and media (uploaded through
//! whatsapp-rust's encrypted upload, then sent as the media message;
//! [`media_message`]) go natively. Buttons and lists go as **numbered
//! text** ([`numbered_text`]), because interactive messages do not render
//! reliably for accounts that are not on the Business API; the routing reads
//! a numbered answer as the tap. Templates are refused: they are a Cloud API
//! feature.

use base64::Engine as _;
use serde_json::{json, Value};
use whatsapp_rust::buffa::{Message as _, MessageField};
use whatsapp_rust::download::MediaType;
use whatsapp_rust::upload::UploadResponse;
use whatsapp_rust::wacore::proto_helpers::{build_reaction_message, MessageBuilderExt, MessageExt};
use whatsapp_rust::waproto::whatsapp as wa;

use message_model::{ContactName, ContactPhone, Location, Media, SharedContact};

use super::{Content, Outgoing, TransportError};

/// What a WhatsApp Web message says, in the message model, with the id of
/// the message it quotes and, for an unknown kind, the raw message.
#[derive(Debug, Clone, PartialEq)]
pub struct WebContent {
    /// The content.
    pub content: Content,
    /// `contextInfo.stanzaId`: the quoted message's id.
    pub context_wa_message_id: Option<String>,
    /// The raw message, for [`Content::Unknown`]: its JSON, or
    /// `{"protobuf_base64": …}` when it does not serialise.
    pub raw: Option<Value>,
}

fn base64_of(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn non_empty(text: &Option<String>) -> Option<String> {
    text.as_ref()
        .filter(|text| !text.is_empty())
        .map(ToOwned::to_owned)
}

/// Reads a WhatsApp Web message into the message model; see the module
/// documentation for the mapping.
pub fn content_from_web(message: &wa::Message) -> WebContent {
    let base = message.get_base_message();
    let content = read_content(base);
    let raw = matches!(content, Content::Unknown { .. }).then(|| raw_message(message));
    WebContent {
        content,
        context_wa_message_id: quoted_id(base),
        raw,
    }
}

fn media_of(
    mimetype: &Option<String>,
    file_length: Option<u64>,
    file_sha256: &Option<Vec<u8>>,
) -> Media {
    Media {
        mime_type: non_empty(mimetype),
        size_bytes: file_length,
        sha256: file_sha256
            .as_deref()
            .filter(|hash| !hash.is_empty())
            .map(base64_of),
        ..Media::default()
    }
}

fn read_content(base: &wa::Message) -> Content {
    if let Some(text) = base.text_content() {
        return Content::text(text);
    }
    if let Some(image) = base.image_message.as_option() {
        return Content::Image(Media {
            caption: non_empty(&image.caption),
            ..media_of(&image.mimetype, image.file_length, &image.file_sha256)
        });
    }
    if let Some(video) = base.video_message.as_option() {
        return Content::Video(Media {
            caption: non_empty(&video.caption),
            ..media_of(&video.mimetype, video.file_length, &video.file_sha256)
        });
    }
    if let Some(audio) = base.audio_message.as_option() {
        let media = media_of(&audio.mimetype, audio.file_length, &audio.file_sha256);
        return if audio.ptt == Some(true) {
            Content::Voice(media)
        } else {
            Content::Audio(media)
        };
    }
    if let Some(document) = base.document_message.as_option() {
        return Content::Document(Media {
            caption: non_empty(&document.caption),
            filename: non_empty(&document.file_name).or_else(|| non_empty(&document.title)),
            ..media_of(
                &document.mimetype,
                document.file_length,
                &document.file_sha256,
            )
        });
    }
    if let Some(sticker) = base.sticker_message.as_option() {
        return Content::Sticker(Media {
            animated: sticker.is_animated,
            ..media_of(&sticker.mimetype, sticker.file_length, &sticker.file_sha256)
        });
    }
    if let Some(location) = base.location_message.as_option() {
        if let (Some(latitude), Some(longitude)) =
            (location.degrees_latitude, location.degrees_longitude)
        {
            return Content::Location(Location {
                latitude,
                longitude,
                name: non_empty(&location.name),
                address: non_empty(&location.address),
            });
        }
        return unknown(
            "locationMessage",
            "a location without degreesLatitude and degreesLongitude",
        );
    }
    if let Some(contact) = base.contact_message.as_option() {
        return Content::Contacts {
            contacts: vec![shared_contact(contact)],
        };
    }
    if let Some(array) = base.contacts_array_message.as_option() {
        return Content::Contacts {
            contacts: array.contacts.iter().map(shared_contact).collect(),
        };
    }
    if let Some(reaction) = base.reaction_message.as_option() {
        let Some(message_id) = reaction.key.as_option().and_then(|key| non_empty(&key.id)) else {
            return unknown("reactionMessage", "a reaction without key.id");
        };
        return Content::Reaction {
            message_id,
            emoji: reaction.text.clone().unwrap_or_default(),
        };
    }
    if let Some(response) = base.buttons_response_message.as_option() {
        let title = match &response.response {
            Some(wa::__buffa::oneof::message::buttons_response_message::Response::SelectedDisplayText(text)) => text.clone(),
            None => String::new(),
        };
        return match non_empty(&response.selected_button_id) {
            Some(id) => Content::ButtonReply { id, title },
            None => unknown(
                "buttonsResponseMessage",
                "a button reply without selectedButtonId",
            ),
        };
    }
    if let Some(response) = base.template_button_reply_message.as_option() {
        return match non_empty(&response.selected_id) {
            Some(id) => Content::ButtonReply {
                id,
                title: response.selected_display_text.clone().unwrap_or_default(),
            },
            None => unknown(
                "templateButtonReplyMessage",
                "a template button reply without selectedId",
            ),
        };
    }
    if let Some(response) = base.list_response_message.as_option() {
        let id = response
            .single_select_reply
            .as_option()
            .and_then(|reply| non_empty(&reply.selected_row_id));
        return match id {
            Some(id) => Content::ListReply {
                id,
                title: response.title.clone().unwrap_or_default(),
                description: non_empty(&response.description),
            },
            None => unknown(
                "listResponseMessage",
                "a list reply without singleSelectReply.selectedRowId",
            ),
        };
    }
    let original_type = serde_json::to_value(base)
        .ok()
        .and_then(|value| {
            value.as_object().and_then(|fields| {
                fields
                    .iter()
                    .find(|(_, value)| !value.is_null())
                    .map(|(key, _)| key.clone())
            })
        })
        .unwrap_or_else(|| "unknown".to_owned());
    unknown(
        &original_type,
        "a whatsapp web message the platform does not read yet",
    )
}

fn unknown(original_type: &str, reason: &str) -> Content {
    Content::Unknown {
        original_type: original_type.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The raw message as JSON, or its protobuf bytes in base64 when it does
/// not serialise.
fn raw_message(message: &wa::Message) -> Value {
    match serde_json::to_value(message) {
        Ok(mut value) => {
            strip_nulls(&mut value);
            value
        }
        Err(_) => json!({ "protobuf_base64": base64_of(&message.encode_to_vec()) }),
    }
}

/// Drops the unset (null) fields of a serialised message, recursively.
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.retain(|_, field| !field.is_null());
            fields.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// `contextInfo.stanzaId` of whichever part carries one.
fn quoted_id(base: &wa::Message) -> Option<String> {
    macro_rules! first_context {
        ($($field:ident),*) => {
            $(
                if let Some(part) = base.$field.as_option() {
                    if let Some(context) = part.context_info.as_option() {
                        return non_empty(&context.stanza_id);
                    }
                }
            )*
        };
    }
    first_context!(
        extended_text_message,
        image_message,
        video_message,
        audio_message,
        document_message,
        sticker_message,
        location_message,
        contact_message,
        contacts_array_message,
        buttons_response_message,
        template_button_reply_message,
        list_response_message
    );
    None
}

/// A WhatsApp Web contact card: its display name and vCard, with the
/// phones (and their WhatsApp ids, `waid=`) and emails the vCard lists.
fn shared_contact(contact: &wa::message::ContactMessage) -> SharedContact {
    let vcard = non_empty(&contact.vcard);
    let mut shared = SharedContact {
        name: ContactName {
            formatted_name: contact.display_name.clone().unwrap_or_default(),
            first_name: None,
            last_name: None,
        },
        vcard: vcard.clone(),
        ..SharedContact::default()
    };
    for line in vcard.as_deref().unwrap_or_default().lines() {
        let line = line.trim_end_matches('\r');
        let Some((property, value)) = line.split_once(':') else {
            continue;
        };
        let mut parameters = property.split(';');
        let name = parameters
            .next()
            .unwrap_or_default()
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let parameters: Vec<&str> = parameters.collect();
        match name.as_str() {
            "TEL" => shared.phones.push(ContactPhone {
                phone: value.trim().to_owned(),
                wa_id: parameters
                    .iter()
                    .find_map(|parameter| parameter.strip_prefix("waid="))
                    .map(str::to_owned),
                phone_type: parameters
                    .iter()
                    .find_map(|parameter| {
                        parameter
                            .strip_prefix("type=")
                            .or_else(|| parameter.strip_prefix("TYPE="))
                    })
                    .map(str::to_owned),
            }),
            "EMAIL" => shared.emails.push(value.trim().to_owned()),
            "FN" if shared.name.formatted_name.is_empty() => {
                shared.name.formatted_name = value.trim().to_owned();
            }
            "ORG" => {
                shared.organization = Some(
                    value
                        .split(';')
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                )
                .filter(|organization| !organization.is_empty());
            }
            _ => {}
        }
    }
    shared
}

/// Returns a contact card's vCard: the one it came with, or one written
/// from its fields.
pub fn vcard_of(contact: &SharedContact) -> String {
    if let Some(vcard) = &contact.vcard {
        return vcard.clone();
    }
    let mut vcard = String::from("BEGIN:VCARD\nVERSION:3.0\n");
    vcard.push_str(&format!("FN:{}\n", contact.name.formatted_name));
    if contact.name.first_name.is_some() || contact.name.last_name.is_some() {
        vcard.push_str(&format!(
            "N:{};{};;;\n",
            contact.name.last_name.as_deref().unwrap_or_default(),
            contact.name.first_name.as_deref().unwrap_or_default()
        ));
    }
    if let Some(organization) = &contact.organization {
        vcard.push_str(&format!("ORG:{organization}\n"));
    }
    for phone in &contact.phones {
        let mut property = String::from("TEL");
        if let Some(phone_type) = &phone.phone_type {
            property.push_str(&format!(";type={phone_type}"));
        }
        if let Some(wa_id) = &phone.wa_id {
            property.push_str(&format!(";waid={wa_id}"));
        }
        vcard.push_str(&format!("{property}:{}\n", phone.phone));
    }
    for email in &contact.emails {
        vcard.push_str(&format!("EMAIL:{email}\n"));
    }
    vcard.push_str("END:VCARD");
    vcard
}

/// Writes buttons or a list as numbered text: the header, the body, a blank
/// line, `1. Title`, `2. Title`, … (list rows numbered in order across the
/// sections, with their descriptions), then the footer. The routing reads a
/// number (or a title) as the tap.
pub fn numbered_text(content: &Content) -> Option<String> {
    let (header, text, footer, titles): (&Option<String>, &str, &Option<String>, Vec<String>) =
        match content {
            Content::Buttons {
                text,
                header,
                footer,
                buttons,
            } => (
                header,
                text,
                footer,
                buttons.iter().map(|button| button.title.clone()).collect(),
            ),
            Content::List {
                text,
                header,
                footer,
                sections,
                ..
            } => (
                header,
                text,
                footer,
                sections
                    .iter()
                    .flat_map(|section| section.rows.iter())
                    .map(|row| match &row.description {
                        Some(description) if !description.is_empty() => {
                            format!("{} ({description})", row.title)
                        }
                        _ => row.title.clone(),
                    })
                    .collect(),
            ),
            _ => return None,
        };
    let mut lines = Vec::new();
    if let Some(header) = header.as_ref().filter(|header| !header.is_empty()) {
        lines.push(header.clone());
    }
    lines.push(text.to_owned());
    lines.push(String::new());
    for (index, title) in titles.iter().enumerate() {
        lines.push(format!("{}. {title}", index + 1));
    }
    if let Some(footer) = footer.as_ref().filter(|footer| !footer.is_empty()) {
        lines.push(String::new());
        lines.push(footer.clone());
    }
    Some(lines.join("\n"))
}

/// How a message goes out on WhatsApp Web.
#[derive(Debug, Clone, PartialEq)]
pub enum WebOutbound {
    /// Ready to send as it is.
    Message(Box<wa::Message>),
    /// A media file to upload first (whatsapp-rust's encrypted upload);
    /// [`media_message`] then builds the message from the upload.
    Upload {
        /// The upload's media type.
        media_type: MediaType,
        /// The bytes.
        bytes: std::sync::Arc<[u8]>,
    },
}

/// The quote of a reply: `stanzaId` and the quoted message's sender (the
/// contact: a bot replies to what the contact wrote).
pub fn quote_context(outgoing: &Outgoing, contact_jid: &str) -> Option<wa::ContextInfo> {
    outgoing
        .context_wa_message_id
        .as_ref()
        .map(|quoted| wa::ContextInfo {
            stanza_id: Some(quoted.clone()),
            participant: Some(contact_jid.to_owned()),
            ..Default::default()
        })
}

/// Decides how a message goes out on WhatsApp Web (see the module
/// documentation); `contact_jid` is the chat's JID, `now_ms` the reaction's
/// timestamp. Refusals ([`TransportError::Rejected`]) happen before
/// anything is sent.
pub fn plan_outbound(
    outgoing: &Outgoing,
    contact_jid: &str,
    now_ms: i64,
) -> Result<WebOutbound, TransportError> {
    let refuse = |reason: String| Err(TransportError::Rejected { reason });
    let context = quote_context(outgoing, contact_jid);
    let with_context = |mut message: wa::Message| {
        if let Some(context) = &context {
            message.set_context_info(context.clone());
        }
        Ok(WebOutbound::Message(Box::new(message)))
    };
    match &outgoing.content {
        Content::Text { text, .. } => with_context(wa::Message::text(text.clone())),
        Content::Buttons { .. } | Content::List { .. } => {
            let text = numbered_text(&outgoing.content).unwrap_or_default();
            with_context(wa::Message::text(text))
        }
        Content::Reaction { message_id, emoji } => {
            let key = wa::MessageKey {
                remote_jid: Some(contact_jid.to_owned()),
                // The reacted message is the contact's.
                from_me: Some(false),
                id: Some(message_id.clone()),
                ..Default::default()
            };
            Ok(WebOutbound::Message(Box::new(build_reaction_message(
                key,
                emoji.clone(),
                now_ms,
            ))))
        }
        Content::Location(location) => with_context(wa::Message {
            location_message: MessageField::some(wa::message::LocationMessage {
                degrees_latitude: Some(location.latitude),
                degrees_longitude: Some(location.longitude),
                name: location.name.clone(),
                address: location.address.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        Content::Contacts { contacts } => {
            let cards: Vec<wa::message::ContactMessage> = contacts
                .iter()
                .map(|contact| wa::message::ContactMessage {
                    display_name: Some(contact.name.formatted_name.clone()),
                    vcard: Some(vcard_of(contact)),
                    ..Default::default()
                })
                .collect();
            let message = match <[wa::message::ContactMessage; 1]>::try_from(cards) {
                Ok([card]) => wa::Message {
                    contact_message: MessageField::some(card),
                    ..Default::default()
                },
                Err(cards) => wa::Message {
                    contacts_array_message: MessageField::some(
                        wa::message::ContactsArrayMessage {
                            display_name: Some(format!("{} contacts", cards.len())),
                            contacts: cards,
                            ..Default::default()
                        },
                    ),
                    ..Default::default()
                },
            };
            with_context(message)
        }
        Content::Image(_)
        | Content::Video(_)
        | Content::Audio(_)
        | Content::Voice(_)
        | Content::Document(_)
        | Content::Sticker(_) => {
            let kind = outgoing.content.kind();
            let Some(bytes) = &outgoing.media_bytes else {
                return refuse(format!(
                    "content: whatsapp web uploads the {kind}'s bytes itself; they were not resolved (give a storage_key or a url the media resolver fetches; a media_id means nothing on whatsapp web)"
                ));
            };
            let media_type = match kind {
                "image" => MediaType::Image,
                "video" => MediaType::Video,
                "audio" | "voice" => MediaType::Audio,
                "document" => MediaType::Document,
                _ => MediaType::Sticker,
            };
            Ok(WebOutbound::Upload {
                media_type,
                bytes: bytes.clone(),
            })
        }
        Content::Template(_) => refuse(
            "content.kind: templates are a Cloud API feature; a WhatsApp Web number cannot send one"
                .to_owned(),
        ),
        Content::ButtonReply { .. }
        | Content::ListReply { .. }
        | Content::System { .. }
        | Content::Unknown { .. } => refuse(format!(
            "content.kind: a {} message is not something a business sends",
            outgoing.content.kind()
        )),
    }
}

/// What whatsapp-rust's upload returned, as the media message needs it
/// (its `UploadResponse` is not constructible outside the crate, so the
/// mapping is tested with this).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedMedia {
    /// The CDN URL.
    pub url: String,
    /// The CDN path.
    pub direct_path: String,
    /// The media key the file was encrypted with.
    pub media_key: Vec<u8>,
    /// The SHA-256 of the encrypted file.
    pub file_enc_sha256: Vec<u8>,
    /// The SHA-256 of the plain file.
    pub file_sha256: Vec<u8>,
    /// The plain file's length.
    pub file_length: u64,
    /// When the media key was made, in Unix seconds.
    pub media_key_timestamp: i64,
    /// The streaming sidecar of audio and video.
    pub streaming_sidecar: Option<Vec<u8>>,
}

impl From<UploadResponse> for UploadedMedia {
    fn from(upload: UploadResponse) -> Self {
        UploadedMedia {
            url: upload.url,
            direct_path: upload.direct_path,
            media_key: upload.media_key.to_vec(),
            file_enc_sha256: upload.file_enc_sha256.to_vec(),
            file_sha256: upload.file_sha256.to_vec(),
            file_length: upload.file_length,
            media_key_timestamp: upload.media_key_timestamp,
            streaming_sidecar: upload.streaming_sidecar,
        }
    }
}

/// Builds the media message of an upload (the CDN and key fields as
/// whatsapp-rust's `media` builders set them), with the caption, file name,
/// MIME type, voice flag (`ptt`) and quote of the outgoing message.
pub fn media_message(
    outgoing: &Outgoing,
    upload: UploadedMedia,
    contact_jid: &str,
) -> Result<wa::Message, TransportError> {
    let Some(media) = outgoing.content.media() else {
        return Err(TransportError::Rejected {
            reason: format!("a {} message has no media", outgoing.content.kind()),
        });
    };
    let context_info = quote_context(outgoing, contact_jid)
        .map(MessageField::some)
        .unwrap_or_default();
    let kind = outgoing.content.kind();
    let mimetype = Some(media.mime_type.clone().unwrap_or_else(|| {
        match kind {
            "image" => "image/jpeg",
            "video" => "video/mp4",
            "audio" | "voice" => "audio/ogg; codecs=opus",
            "sticker" => "image/webp",
            _ => "application/octet-stream",
        }
        .to_owned()
    }));
    let UploadedMedia {
        url,
        direct_path,
        media_key,
        file_enc_sha256,
        file_sha256,
        file_length,
        media_key_timestamp,
        streaming_sidecar,
    } = upload;
    let (url, direct_path, media_key, file_enc_sha256, file_sha256) = (
        Some(url),
        Some(direct_path),
        Some(media_key),
        Some(file_enc_sha256),
        Some(file_sha256),
    );
    let (file_length, media_key_timestamp) = (Some(file_length), Some(media_key_timestamp));
    Ok(match kind {
        "image" => wa::Message {
            image_message: MessageField::some(wa::message::ImageMessage {
                url,
                direct_path,
                media_key,
                file_sha256,
                file_enc_sha256,
                file_length,
                media_key_timestamp,
                mimetype,
                caption: media.caption.clone(),
                context_info,
                ..Default::default()
            }),
            ..Default::default()
        },
        "video" => wa::Message {
            video_message: MessageField::some(wa::message::VideoMessage {
                url,
                direct_path,
                media_key,
                file_sha256,
                file_enc_sha256,
                file_length,
                media_key_timestamp,
                streaming_sidecar,
                mimetype,
                caption: media.caption.clone(),
                context_info,
                ..Default::default()
            }),
            ..Default::default()
        },
        "audio" | "voice" => wa::Message {
            audio_message: MessageField::some(wa::message::AudioMessage {
                url,
                direct_path,
                media_key,
                file_sha256,
                file_enc_sha256,
                file_length,
                media_key_timestamp,
                streaming_sidecar,
                mimetype,
                ptt: Some(kind == "voice"),
                context_info,
                ..Default::default()
            }),
            ..Default::default()
        },
        "document" => wa::Message {
            document_message: MessageField::some(wa::message::DocumentMessage {
                url,
                direct_path,
                media_key,
                file_sha256,
                file_enc_sha256,
                file_length,
                media_key_timestamp,
                mimetype,
                file_name: media.filename.clone(),
                title: media.filename.clone(),
                caption: media.caption.clone(),
                context_info,
                ..Default::default()
            }),
            ..Default::default()
        },
        _ => wa::Message {
            sticker_message: MessageField::some(wa::message::StickerMessage {
                url,
                direct_path,
                media_key,
                file_sha256,
                file_enc_sha256,
                file_length,
                media_key_timestamp,
                mimetype,
                is_animated: media.animated,
                context_info,
                ..Default::default()
            }),
            ..Default::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use message_model::{ListRow, ListSection, ReplyButton, Template};

    fn quoting(id: &str) -> MessageField<wa::ContextInfo> {
        MessageField::some(wa::ContextInfo {
            stanza_id: Some(id.to_owned()),
            ..Default::default()
        })
    }

    fn read(message: wa::Message) -> WebContent {
        content_from_web(&message)
    }

    #[test]
    fn text_and_a_quoted_reply() {
        assert_eq!(read(wa::Message::text("hi")).content, Content::text("hi"));
        let reply = read(wa::Message {
            extended_text_message: MessageField::some(wa::message::ExtendedTextMessage {
                text: Some("yes".to_owned()),
                context_info: quoting("3EB0QUOTED"),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(reply.content, Content::text("yes"));
        assert_eq!(reply.context_wa_message_id.as_deref(), Some("3EB0QUOTED"));
        assert_eq!(reply.raw, None);
    }

    #[test]
    fn an_image_keeps_type_length_hash_and_caption() {
        let image = read(wa::Message {
            image_message: MessageField::some(wa::message::ImageMessage {
                caption: Some("my order".to_owned()),
                mimetype: Some("image/jpeg".to_owned()),
                file_length: Some(2048),
                file_sha256: Some(vec![0xde, 0xad, 0xbe, 0xef]),
                context_info: quoting("3EB0Q"),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(
            image.content,
            Content::Image(Media {
                mime_type: Some("image/jpeg".into()),
                size_bytes: Some(2048),
                sha256: Some("3q2+7w==".into()),
                caption: Some("my order".into()),
                ..Media::default()
            })
        );
        assert_eq!(image.context_wa_message_id.as_deref(), Some("3EB0Q"));
    }

    #[test]
    fn push_to_talk_audio_is_a_voice_note() {
        let audio = |ptt: Option<bool>| {
            read(wa::Message {
                audio_message: MessageField::some(wa::message::AudioMessage {
                    mimetype: Some("audio/ogg; codecs=opus".to_owned()),
                    file_length: Some(7),
                    ptt,
                    ..Default::default()
                }),
                ..Default::default()
            })
            .content
        };
        assert_eq!(audio(Some(true)).kind(), "voice");
        assert_eq!(audio(None).kind(), "audio");
        assert_eq!(
            audio(Some(true)).media().and_then(|media| media.size_bytes),
            Some(7)
        );
    }

    #[test]
    fn video_document_and_sticker_keep_their_details() {
        let video = read(wa::Message {
            video_message: MessageField::some(wa::message::VideoMessage {
                caption: Some("unboxing".to_owned()),
                mimetype: Some("video/mp4".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(video.content.kind(), "video");
        assert_eq!(video.content.summary(), "unboxing");
        let document = read(wa::Message {
            document_message: MessageField::some(wa::message::DocumentMessage {
                file_name: Some("invoice-42.pdf".to_owned()),
                mimetype: Some("application/pdf".to_owned()),
                file_length: Some(99),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(
            document.content,
            Content::Document(Media {
                mime_type: Some("application/pdf".into()),
                size_bytes: Some(99),
                filename: Some("invoice-42.pdf".into()),
                ..Media::default()
            })
        );
        let sticker = read(wa::Message {
            sticker_message: MessageField::some(wa::message::StickerMessage {
                mimetype: Some("image/webp".to_owned()),
                is_animated: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(
            sticker.content.media().and_then(|media| media.animated),
            Some(true)
        );
        assert_eq!(sticker.content.kind(), "sticker");
    }

    #[test]
    fn a_location_keeps_its_coordinates_or_is_unknown_without_them() {
        let location = read(wa::Message {
            location_message: MessageField::some(wa::message::LocationMessage {
                degrees_latitude: Some(38.7223),
                degrees_longitude: Some(-9.1393),
                name: Some("Shop".to_owned()),
                address: Some("Rua Augusta 1".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(
            location.content,
            Content::Location(Location {
                latitude: 38.7223,
                longitude: -9.1393,
                name: Some("Shop".into()),
                address: Some("Rua Augusta 1".into()),
            })
        );
        let broken = read(wa::Message {
            location_message: MessageField::some(wa::message::LocationMessage::default()),
            ..Default::default()
        });
        assert!(matches!(broken.content, Content::Unknown { .. }));
        assert!(broken.raw.is_some(), "the raw message is kept");
    }

    const VCARD: &str = "BEGIN:VCARD\nVERSION:3.0\nN:Lovelace;Ada;;;\nFN:Ada Lovelace\nORG:Analytical Engines;\nitem1.TEL;waid=15550100:+1 555 0100\nitem1.X-ABLabel:Mobile\nEMAIL;type=INTERNET:ada@example.com\nEND:VCARD";

    #[test]
    fn a_contact_card_keeps_its_vcard_and_reads_its_numbers() {
        let contact = read(wa::Message {
            contact_message: MessageField::some(wa::message::ContactMessage {
                display_name: Some("Ada Lovelace".to_owned()),
                vcard: Some(VCARD.to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        });
        let Content::Contacts { contacts } = &contact.content else {
            panic!("{:?}", contact.content);
        };
        assert_eq!(contacts.len(), 1);
        assert_eq!(contacts[0].name.formatted_name, "Ada Lovelace");
        assert_eq!(
            contacts[0].phones,
            vec![ContactPhone {
                phone: "+1 555 0100".into(),
                wa_id: Some("15550100".into()),
                phone_type: None,
            }]
        );
        assert_eq!(contacts[0].emails, vec!["ada@example.com".to_owned()]);
        assert_eq!(
            contacts[0].organization.as_deref(),
            Some("Analytical Engines")
        );
        assert_eq!(contacts[0].vcard.as_deref(), Some(VCARD));
        let array = read(wa::Message {
            contacts_array_message: MessageField::some(wa::message::ContactsArrayMessage {
                display_name: Some("2 contacts".to_owned()),
                contacts: vec![
                    wa::message::ContactMessage {
                        display_name: Some("Ada".to_owned()),
                        vcard: Some(VCARD.to_owned()),
                        ..Default::default()
                    },
                    wa::message::ContactMessage {
                        display_name: Some("Bob".to_owned()),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            ..Default::default()
        });
        assert!(
            matches!(&array.content, Content::Contacts { contacts } if contacts.len() == 2 && contacts[1].name.formatted_name == "Bob")
        );
    }

    #[test]
    fn a_reaction_names_the_reacted_message_by_its_key() {
        let reaction = read(build_reaction_message(
            wa::MessageKey {
                id: Some("3EB0REACTED".to_owned()),
                ..Default::default()
            },
            "\u{1f44d}",
            1,
        ));
        assert_eq!(
            reaction.content,
            Content::Reaction {
                message_id: "3EB0REACTED".into(),
                emoji: "\u{1f44d}".into()
            }
        );
    }

    #[test]
    fn button_template_and_list_responses_keep_their_ids() {
        let button = read(wa::Message {
            buttons_response_message: MessageField::some(wa::message::ButtonsResponseMessage {
                selected_button_id: Some("yes".to_owned()),
                response: Some(
                    wa::__buffa::oneof::message::buttons_response_message::Response::SelectedDisplayText(
                        "Yes please".to_owned(),
                    ),
                ),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(
            button.content,
            Content::ButtonReply {
                id: "yes".into(),
                title: "Yes please".into()
            }
        );
        let template = read(wa::Message {
            template_button_reply_message: MessageField::some(
                wa::message::TemplateButtonReplyMessage {
                    selected_id: Some("STOP_PROMOS".to_owned()),
                    selected_display_text: Some("Stop promotions".to_owned()),
                    context_info: quoting("3EB0TEMPLATE"),
                    ..Default::default()
                },
            ),
            ..Default::default()
        });
        assert_eq!(
            template.content,
            Content::ButtonReply {
                id: "STOP_PROMOS".into(),
                title: "Stop promotions".into()
            }
        );
        assert_eq!(
            template.context_wa_message_id.as_deref(),
            Some("3EB0TEMPLATE")
        );
        let list = read(wa::Message {
            list_response_message: MessageField::some(wa::message::ListResponseMessage {
                title: Some("Address".to_owned()),
                description: Some("Where we are".to_owned()),
                single_select_reply: MessageField::some(
                    wa::message::list_response_message::SingleSelectReply {
                        selected_row_id: Some("row-2".to_owned()),
                    },
                ),
                ..Default::default()
            }),
            ..Default::default()
        });
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
    fn anything_else_is_unknown_with_the_raw_message_as_json() {
        let poll = read(wa::Message {
            poll_creation_message: MessageField::some(wa::message::PollCreationMessage {
                name: Some("Lunch?".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert!(
            matches!(&poll.content, Content::Unknown { original_type, .. } if original_type.to_ascii_lowercase().contains("poll")),
            "{:?}",
            poll.content
        );
        let raw = poll.raw.expect("the raw message");
        assert!(raw.to_string().contains("Lunch?"), "{raw}");
        assert!(
            !raw.to_string().contains("null"),
            "unset fields are dropped: {raw}"
        );
    }

    fn outgoing(content: Content) -> Outgoing {
        Outgoing::new("15550199999", content)
    }

    const CHAT: &str = "15550199999@s.whatsapp.net";

    fn planned(outgoing: &Outgoing) -> wa::Message {
        match plan_outbound(outgoing, CHAT, 1_700_000_000_000) {
            Ok(WebOutbound::Message(message)) => *message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_quoted_text_reply_carries_the_stanza_id() {
        let mut reply = outgoing(Content::text("on its way"));
        reply.context_wa_message_id = Some("3EB0QUOTED".to_owned());
        let message = planned(&reply);
        let extended = message
            .extended_text_message
            .as_option()
            .expect("extended text");
        assert_eq!(extended.text.as_deref(), Some("on its way"));
        let context = extended.context_info.as_option().expect("a quote");
        assert_eq!(context.stanza_id.as_deref(), Some("3EB0QUOTED"));
        assert_eq!(context.participant.as_deref(), Some(CHAT));
        let plain = planned(&outgoing(Content::text("hi")));
        assert_eq!(plain.conversation.as_deref(), Some("hi"));
    }

    #[test]
    fn buttons_and_lists_go_as_numbered_text() {
        let buttons = Content::Buttons {
            text: "How can we help?".into(),
            header: Some("Acme".into()),
            footer: Some("Reply with a number".into()),
            buttons: vec![
                ReplyButton {
                    id: "hours".into(),
                    title: "Opening hours".into(),
                },
                ReplyButton {
                    id: "address".into(),
                    title: "Address".into(),
                },
            ],
        };
        assert_eq!(
            planned(&outgoing(buttons)).conversation.as_deref(),
            Some("Acme\nHow can we help?\n\n1. Opening hours\n2. Address\n\nReply with a number")
        );
        let list = Content::List {
            text: "Pick a dish".into(),
            header: None,
            footer: None,
            button: "Menu".into(),
            sections: vec![
                ListSection {
                    title: Some("Mains".into()),
                    rows: vec![
                        ListRow {
                            id: "pasta".into(),
                            title: "Pasta".into(),
                            description: Some("with basil".into()),
                        },
                        ListRow {
                            id: "soup".into(),
                            title: "Soup".into(),
                            description: None,
                        },
                    ],
                },
                ListSection {
                    title: Some("Desserts".into()),
                    rows: vec![ListRow {
                        id: "cake".into(),
                        title: "Cake".into(),
                        description: None,
                    }],
                },
            ],
        };
        assert_eq!(
            planned(&outgoing(list)).conversation.as_deref(),
            Some("Pick a dish\n\n1. Pasta (with basil)\n2. Soup\n3. Cake")
        );
    }

    #[test]
    fn reactions_locations_and_contacts_go_natively() {
        let reaction = planned(&outgoing(Content::Reaction {
            message_id: "3EB0REACTED".into(),
            emoji: "\u{1f44d}".into(),
        }));
        let reaction = reaction.reaction_message.as_option().expect("a reaction");
        let key = reaction.key.as_option().expect("its key");
        assert_eq!(key.id.as_deref(), Some("3EB0REACTED"));
        assert_eq!(key.remote_jid.as_deref(), Some(CHAT));
        assert_eq!(key.from_me, Some(false));
        assert_eq!(reaction.text.as_deref(), Some("\u{1f44d}"));

        let location = planned(&outgoing(Content::Location(Location {
            latitude: 38.7223,
            longitude: -9.1393,
            name: Some("Shop".into()),
            address: None,
        })));
        let location = location.location_message.as_option().expect("a location");
        assert_eq!(location.degrees_latitude, Some(38.7223));
        assert_eq!(location.degrees_longitude, Some(-9.1393));
        assert_eq!(location.name.as_deref(), Some("Shop"));

        let card = SharedContact {
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
            ..SharedContact::default()
        };
        let contacts = planned(&outgoing(Content::Contacts {
            contacts: vec![card],
        }));
        let contact = contacts.contact_message.as_option().expect("one card");
        let vcard = contact.vcard.as_deref().unwrap_or_default();
        assert!(vcard.contains("FN:Ada Lovelace\n"), "{vcard}");
        assert!(
            vcard.contains("TEL;type=CELL;waid=15550100:+1 555 0100"),
            "{vcard}"
        );
        // The card read back gives the same number.
        let back = read(contacts.clone());
        assert!(
            matches!(&back.content, Content::Contacts { contacts } if contacts[0].phones[0].wa_id.as_deref() == Some("15550100"))
        );
    }

    #[test]
    fn media_is_uploaded_first_and_needs_its_bytes() {
        let image = Content::Image(Media {
            storage_key: Some("uploads/1".into()),
            mime_type: Some("image/png".into()),
            caption: Some("the shop".into()),
            ..Media::default()
        });
        let refused = plan_outbound(&outgoing(image.clone()), CHAT, 0);
        assert!(
            matches!(&refused, Err(TransportError::Rejected { reason }) if reason.contains("not resolved")),
            "{refused:?}"
        );
        let mut with_bytes = outgoing(image);
        with_bytes.media_bytes = Some(std::sync::Arc::from(vec![1u8, 2, 3]));
        with_bytes.context_wa_message_id = Some("3EB0Q".into());
        assert!(matches!(
            plan_outbound(&with_bytes, CHAT, 0),
            Ok(WebOutbound::Upload {
                media_type: MediaType::Image,
                ..
            })
        ));
        let upload = UploadedMedia {
            url: "https://mmg.whatsapp.net/u".into(),
            direct_path: "/v/t62/u".into(),
            media_key: vec![1; 32],
            file_enc_sha256: vec![2; 32],
            file_sha256: vec![3; 32],
            file_length: 3,
            media_key_timestamp: 1_700_000_000,
            streaming_sidecar: None,
        };
        let message = media_message(&with_bytes, upload.clone(), CHAT).expect("an image");
        let image = message.image_message.as_option().expect("an image message");
        assert_eq!(image.caption.as_deref(), Some("the shop"));
        assert_eq!(image.mimetype.as_deref(), Some("image/png"));
        assert_eq!(image.file_length, Some(3));
        assert_eq!(image.direct_path.as_deref(), Some("/v/t62/u"));
        assert_eq!(
            image
                .context_info
                .as_option()
                .and_then(|context| context.stanza_id.as_deref()),
            Some("3EB0Q")
        );

        let mut voice = outgoing(Content::Voice(Media {
            storage_key: Some("uploads/2".into()),
            mime_type: Some("audio/ogg; codecs=opus".into()),
            ..Media::default()
        }));
        voice.media_bytes = Some(std::sync::Arc::from(vec![4u8]));
        assert!(matches!(
            plan_outbound(&voice, CHAT, 0),
            Ok(WebOutbound::Upload {
                media_type: MediaType::Audio,
                ..
            })
        ));
        let voice = media_message(&voice, upload.clone(), CHAT).expect("a voice note");
        assert_eq!(
            voice.audio_message.as_option().and_then(|audio| audio.ptt),
            Some(true)
        );

        let mut document = outgoing(Content::Document(Media {
            storage_key: Some("uploads/3".into()),
            mime_type: Some("application/pdf".into()),
            filename: Some("menu.pdf".into()),
            ..Media::default()
        }));
        document.media_bytes = Some(std::sync::Arc::from(vec![5u8]));
        let document = media_message(&document, upload, CHAT).expect("a document");
        assert_eq!(
            document
                .document_message
                .as_option()
                .and_then(|document| document.file_name.as_deref()),
            Some("menu.pdf")
        );
    }

    #[test]
    fn templates_and_inbound_kinds_are_refused() {
        let template = plan_outbound(
            &outgoing(Content::Template(Template {
                name: "order_update".into(),
                language: "en_US".into(),
                components: Vec::new(),
            })),
            CHAT,
            0,
        );
        assert!(
            matches!(&template, Err(TransportError::Rejected { reason }) if reason.contains("templates are a Cloud API feature")),
            "{template:?}"
        );
        assert!(matches!(
            plan_outbound(
                &outgoing(Content::ButtonReply {
                    id: "1".into(),
                    title: "Yes".into()
                }),
                CHAT,
                0
            ),
            Err(TransportError::Rejected { .. })
        ));
    }
}
