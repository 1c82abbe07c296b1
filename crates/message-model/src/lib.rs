//! The one message model.
//!
//! [`Content`] is what a WhatsApp message says, whichever way it travels
//! and whichever transport carries it: text, the six media kinds, a
//! location, shared contacts, a reaction, a tapped reply button or list row,
//! an interactive buttons or list message, a template, a system notice, and
//! [`Content::Unknown`] for anything the platform cannot read yet (the
//! transport's raw payload is kept beside it, never dropped).
//!
//! The same JSON runs everywhere:
//!
//! - Postgres stores it in `messages.content` (checked by
//!   `private.message_content_problem`, a migration with pgTAP);
//! - the routing core reads inbound content and writes outbound content
//!   ([`Content`] is its `send_message` payload), across the Wasm boundary
//!   as JSON text;
//! - the session daemon maps each transport's messages to and from it;
//! - the functions and the admin UI use TypeScript types generated from
//!   this crate's JSON Schema (`message-content.schema.json`, cargo feature
//!   `schema`; `scripts/gen-message-types.sh`), never written by hand.
//!
//! [`limits`] holds WhatsApp's documented limits and [`check_outbound`]
//! applies them, naming the JSON path of each problem, so a message that
//! WhatsApp would refuse is refused before it is queued.
//!
//! `docs/messages.md` describes the model per transport.

use serde::{Deserialize, Serialize};

pub mod check;
pub mod limits;

pub use check::{
    check_inbound_media_file, check_outbound, check_outbound_media_file, ContentProblem,
};

/// What a message says, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Content {
    /// Plain text.
    Text {
        /// The text, at most 4,096 characters outbound.
        text: String,
        /// Whether WhatsApp may render a preview of the first URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        preview_url: Option<bool>,
    },
    /// A picture (JPEG or PNG, ≤ 5 MB).
    Image(Media),
    /// A video (MP4 or 3GPP, ≤ 16 MB).
    Video(Media),
    /// An audio file (≤ 16 MB).
    Audio(Media),
    /// A voice note (OGG with the Opus codec, ≤ 16 MB), played inline.
    Voice(Media),
    /// A document of any type WhatsApp accepts (≤ 100 MB).
    Document(Media),
    /// A sticker (WebP; ≤ 100 KB static, ≤ 500 KB animated).
    Sticker(Media),
    /// A place.
    Location(Location),
    /// Contact cards.
    Contacts {
        /// The shared cards.
        contacts: Vec<SharedContact>,
    },
    /// An emoji reaction to an earlier message; an empty emoji removes it.
    Reaction {
        /// WhatsApp's id of the message reacted to.
        message_id: String,
        /// The emoji, or empty to remove the reaction.
        emoji: String,
    },
    /// A tapped reply button or template quick-reply button (inbound).
    ButtonReply {
        /// The button's id (a template quick reply's `payload`).
        id: String,
        /// The button's title as shown.
        title: String,
    },
    /// A picked list row (inbound).
    ListReply {
        /// The row's id.
        id: String,
        /// The row's title.
        title: String,
        /// The row's description, when it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    /// Text with up to three reply buttons.
    Buttons {
        /// The body text (≤ 1,024 characters).
        text: String,
        /// A text header (≤ 60 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        /// A footer (≤ 60 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<String>,
        /// The buttons (1 to 3).
        buttons: Vec<ReplyButton>,
    },
    /// Text with a button that opens a list of rows.
    List {
        /// The body text (≤ 4,096 characters).
        text: String,
        /// A text header (≤ 60 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        /// A footer (≤ 60 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<String>,
        /// The label of the button that opens the list (≤ 20 characters).
        button: String,
        /// The sections (≤ 10), with ≤ 10 rows over all of them.
        sections: Vec<ListSection>,
    },
    /// An approved template with its parameters (the only kind a business
    /// may send outside the 24-hour customer-service window).
    Template(Template),
    /// A notice from WhatsApp, such as a contact changing number (inbound).
    System {
        /// WhatsApp's type of notice, such as `user_changed_number`.
        system_type: String,
        /// The notice as WhatsApp words it.
        #[serde(default)]
        text: String,
        /// The contact's new WhatsApp id, for a changed number.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        new_wa_id: Option<String>,
    },
    /// A message the platform cannot read yet; the transport's raw payload
    /// is kept in `messages.payload.raw` and the row is flagged.
    Unknown {
        /// The transport's name for the message type.
        original_type: String,
        /// Why it is unknown, such as "unsupported by the Cloud API".
        #[serde(default)]
        reason: String,
    },
}

/// The kinds, as written in `kind` (and in `messages.type`).
pub const KINDS: &[&str] = &[
    "text",
    "image",
    "video",
    "audio",
    "voice",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "button_reply",
    "list_reply",
    "buttons",
    "list",
    "template",
    "system",
    "unknown",
];

/// The media kinds.
pub const MEDIA_KINDS: &[&str] = &["image", "video", "audio", "voice", "document", "sticker"];

impl Content {
    /// Returns text content.
    pub fn text(text: impl Into<String>) -> Content {
        Content::Text {
            text: text.into(),
            preview_url: None,
        }
    }

    /// Returns the kind, as written in `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Content::Text { .. } => "text",
            Content::Image(_) => "image",
            Content::Video(_) => "video",
            Content::Audio(_) => "audio",
            Content::Voice(_) => "voice",
            Content::Document(_) => "document",
            Content::Sticker(_) => "sticker",
            Content::Location(_) => "location",
            Content::Contacts { .. } => "contacts",
            Content::Reaction { .. } => "reaction",
            Content::ButtonReply { .. } => "button_reply",
            Content::ListReply { .. } => "list_reply",
            Content::Buttons { .. } => "buttons",
            Content::List { .. } => "list",
            Content::Template(_) => "template",
            Content::System { .. } => "system",
            Content::Unknown { .. } => "unknown",
        }
    }

    /// Returns the media of a media kind.
    pub fn media(&self) -> Option<&Media> {
        match self {
            Content::Image(media)
            | Content::Video(media)
            | Content::Audio(media)
            | Content::Voice(media)
            | Content::Document(media)
            | Content::Sticker(media) => Some(media),
            _ => None,
        }
    }

    /// Returns the media of a media kind, for changing it.
    pub fn media_mut(&mut self) -> Option<&mut Media> {
        match self {
            Content::Image(media)
            | Content::Video(media)
            | Content::Audio(media)
            | Content::Voice(media)
            | Content::Document(media)
            | Content::Sticker(media) => Some(media),
            _ => None,
        }
    }

    /// Returns the reply id of a tapped button or list row.
    pub fn reply_id(&self) -> Option<&str> {
        match self {
            Content::ButtonReply { id, .. } | Content::ListReply { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Returns the words a person reads in the message: the text, a
    /// caption, a tapped title, a body, a location's name; what a text-only
    /// view (a notification, the inbox preview, a routing keyword) shows.
    pub fn summary(&self) -> String {
        match self {
            Content::Text { text, .. } => text.clone(),
            Content::Image(media)
            | Content::Video(media)
            | Content::Audio(media)
            | Content::Voice(media)
            | Content::Document(media)
            | Content::Sticker(media) => media
                .caption
                .clone()
                .or_else(|| media.filename.clone())
                .unwrap_or_default(),
            Content::Location(location) => [location.name.as_deref(), location.address.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
            Content::Contacts { contacts } => contacts
                .iter()
                .map(|contact| contact.name.formatted_name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            Content::Reaction { emoji, .. } => emoji.clone(),
            Content::ButtonReply { title, .. } | Content::ListReply { title, .. } => title.clone(),
            Content::Buttons { text, .. } | Content::List { text, .. } => text.clone(),
            Content::Template(template) => template.name.clone(),
            Content::System { text, .. } => text.clone(),
            Content::Unknown { .. } => String::new(),
        }
    }
}

/// A media file: where it is (a URL, the transport's id, an object in the
/// platform's private bucket) and what it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Media {
    /// A URL to fetch it from (outbound: WhatsApp or the daemon downloads
    /// it; it passes the outbound-URL guard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The transport's id for it (the Cloud API's media id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    /// The object key in the platform's private media bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_key: Option<String>,
    /// The MIME type, such as `image/jpeg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// The SHA-256 of the bytes, hex or base64 as the transport gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The caption shown under it (not for audio, voice or stickers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// The file name shown for a document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Whether a sticker is animated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animated: Option<bool>,
    /// Why the file could not be fetched or stored, when it could not; the
    /// message is kept with what is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_error: Option<String>,
}

/// A place on the map. (No `deny_unknown_fields`: serde hands an internally
/// tagged newtype variant its tag too, so `kind` would be refused.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Location {
    /// Degrees north, -90 to 90.
    pub latitude: f64,
    /// Degrees east, -180 to 180.
    pub longitude: f64,
    /// The place's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The place's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// A shared contact card (the Cloud API's `contacts[]` object, trimmed to
/// what every transport carries).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SharedContact {
    /// The person's name.
    pub name: ContactName,
    /// Their phone numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<ContactPhone>,
    /// Their email addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    /// Their organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The card as a vCard, when the transport carries one (WhatsApp Web).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcard: Option<String>,
}

/// A shared contact's name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ContactName {
    /// The full name as shown.
    pub formatted_name: String,
    /// The first name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// The last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
}

/// A shared contact's phone number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ContactPhone {
    /// The number as written.
    pub phone: String,
    /// Its WhatsApp id, when it has WhatsApp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    /// Its label, such as `CELL` or `WORK`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub phone_type: Option<String>,
}

/// One reply button; a tap comes back as [`Content::ButtonReply`] with its
/// `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplyButton {
    /// The id returned on a tap (≤ 256 characters, unique in the message).
    pub id: String,
    /// The label (≤ 20 characters).
    pub title: String,
}

/// A titled group of list rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ListSection {
    /// The heading (≤ 24 characters; required when there are several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The rows.
    pub rows: Vec<ListRow>,
}

/// One list row; picking it comes back as [`Content::ListReply`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ListRow {
    /// The id returned when picked (≤ 200 characters, unique).
    pub id: String,
    /// The title (≤ 24 characters).
    pub title: String,
    /// A line under the title (≤ 72 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An approved message template and the values of its parameters, as the
/// Cloud API's `template` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Template {
    /// The template's name (lowercase letters, digits and `_`).
    pub name: String,
    /// Its language code, such as `en_US`.
    pub language: String,
    /// The parameters, per component.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<TemplateComponent>,
}

/// The parameters of one template component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TemplateComponent {
    /// `header`, `body` or `button`.
    #[serde(rename = "type")]
    pub component_type: TemplateComponentType,
    /// For a button: `quick_reply`, `url` or `copy_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    /// For a button: its position, from 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// The values, in the order of the template's placeholders.
    #[serde(default)]
    pub parameters: Vec<TemplateParameter>,
}

/// A template component's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TemplateComponentType {
    /// The header.
    Header,
    /// The body.
    Body,
    /// A button.
    Button,
}

/// One parameter value, tagged by `type` as in the Cloud API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TemplateParameter {
    /// A text value.
    Text {
        /// The value.
        text: String,
    },
    /// An amount of money.
    Currency {
        /// The text shown where the amount cannot be localised.
        fallback_value: String,
        /// The ISO 4217 code.
        code: String,
        /// The amount times 1,000.
        amount_1000: i64,
    },
    /// A date and time, shown as its fallback text.
    DateTime {
        /// The text shown.
        fallback_value: String,
    },
    /// A header image.
    Image {
        /// The image.
        media: Media,
    },
    /// A header video.
    Video {
        /// The video.
        media: Media,
    },
    /// A header document.
    Document {
        /// The document.
        media: Media,
    },
    /// A quick-reply button's payload, returned when it is tapped.
    Payload {
        /// The payload.
        payload: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_and_round_trips() {
        let samples = vec![
            Content::text("hi"),
            Content::Image(Media {
                media_id: Some("m1".into()),
                mime_type: Some("image/jpeg".into()),
                ..Media::default()
            }),
            Content::Location(Location {
                latitude: 38.7,
                longitude: -9.1,
                name: Some("Shop".into()),
                address: None,
            }),
            Content::Reaction {
                message_id: "wamid.1".into(),
                emoji: "👍".into(),
            },
            Content::ButtonReply {
                id: "1".into(),
                title: "Yes".into(),
            },
            Content::Unknown {
                original_type: "order".into(),
                reason: "not read yet".into(),
            },
        ];
        for content in samples {
            assert!(KINDS.contains(&content.kind()));
            let json = serde_json::to_value(&content).unwrap();
            assert_eq!(json["kind"], content.kind());
            let back: Content = serde_json::from_value(json).unwrap();
            assert_eq!(back, content);
        }
    }

    #[test]
    fn a_media_kind_reads_its_fields_beside_the_tag() {
        let content: Content = serde_json::from_str(
            r#"{"kind":"document","url":"https://example.com/a.pdf","mime_type":"application/pdf","filename":"a.pdf"}"#,
        )
        .unwrap();
        assert_eq!(content.kind(), "document");
        assert_eq!(content.summary(), "a.pdf");
        assert_eq!(
            content.media().and_then(|media| media.url.as_deref()),
            Some("https://example.com/a.pdf")
        );
    }
}
