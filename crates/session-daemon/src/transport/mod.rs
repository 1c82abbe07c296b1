//! The [`Transport`] trait every WhatsApp transport implements, and its
//! events.
//!
//! A transport is one number's connection to WhatsApp. The daemon drives it
//! with a few calls (connect, send a message, disconnect, log out) and learns
//! everything else from [`TransportEvent`]s the transport pushes into the
//! channel it was built with: pairing codes, the connection coming up or
//! dropping on its own, logouts and bans, inbound messages, delivery
//! receipts and late send rejections.
//!
//! Three transports exist, chosen per number by `numbers.transport`:
//!
//! - [`simulator::SimulatorTransport`]: WhatsApp without WhatsApp, the local
//!   default and the test double, scriptable over HTTP.
//! - `web::WebTransport` (cargo feature `whatsapp-web`): WhatsApp Web
//!   multi-device through the `whatsapp-rust` crate, paired by QR code or
//!   pair code ([`ConnectOutcome::Pending`], then
//!   [`TransportEvent::Connected`]).
//! - [`cloud::CloudTransport`]: Meta's Cloud API, stateless HTTP; inbound
//!   messages and statuses arrive on the daemon's webhook
//!   ([`crate::cloud_webhook`]).
//!
//! Inbound messages are acknowledged to WhatsApp only once stored: the
//! simulator waits on [`InboundDelivery::acknowledgement`], the Web
//! transport commits through the crate's inbound durability hook before it
//! returns, and the Cloud webhook answers 200 only after the commit, so a
//! crash between receipt and storage makes WhatsApp deliver the message
//! again instead of losing it.

pub mod cloud;
pub mod cloud_media;
pub mod simulator;
pub mod simulator_media;
#[cfg(feature = "whatsapp-web")]
pub mod web;
#[cfg(feature = "whatsapp-web")]
pub mod web_content;
pub mod web_media;

use std::str::FromStr;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Deserialize as _;
use serde_json::Value;
use tokio::sync::oneshot;
use uuid::Uuid;

pub use message_model::{Content, Media};

/// The kind of a transport, as written in `numbers.transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TransportKind {
    /// The in-process simulator.
    Simulator,
    /// WhatsApp Web multi-device.
    Web,
    /// The WhatsApp Business Cloud API.
    Cloud,
}

impl TransportKind {
    /// Every kind, in the schema's order.
    pub const ALL: [TransportKind; 3] = [
        TransportKind::Simulator,
        TransportKind::Web,
        TransportKind::Cloud,
    ];

    /// Returns the kind as written in `numbers.transport`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Simulator => "simulator",
            TransportKind::Web => "web",
            TransportKind::Cloud => "cloud",
        }
    }

    /// Tells whether this build of the daemon can run the transport (the
    /// Web transport needs the `whatsapp-web` cargo feature).
    pub fn is_compiled_in(self) -> bool {
        match self {
            TransportKind::Web => cfg!(feature = "whatsapp-web"),
            TransportKind::Simulator | TransportKind::Cloud => true,
        }
    }
}

/// A transport name that is not `simulator`, `web` or `cloud`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transport {0:?}: expected simulator, web or cloud")]
pub struct UnknownTransport(pub String);

impl FromStr for TransportKind {
    type Err = UnknownTransport;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "simulator" => Ok(TransportKind::Simulator),
            "web" => Ok(TransportKind::Web),
            "cloud" => Ok(TransportKind::Cloud),
            _ => Err(UnknownTransport(value.to_owned())),
        }
    }
}

/// What a successful [`Transport::connect`] achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectOutcome {
    /// The session is connected and can send.
    Connected,
    /// The session is waiting for something (pairing, a server) and will
    /// report [`TransportEvent::Connected`] when it is up.
    Pending {
        /// What it is waiting for, for the connection-event timeline.
        reason: String,
    },
}

/// A failure of a transport call.
///
/// The variants say what the daemon may do with the message: retry it
/// ([`TransportError::Failed`], [`TransportError::NotConnected`], the rate
/// limits), give it up ([`TransportError::Rejected`]) or mark it as possibly
/// delivered ([`TransportError::Ambiguous`]), never retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The session is not connected, so it cannot send.
    #[error("the session is not connected")]
    NotConnected,

    /// WhatsApp refused to send because the number is sending too fast
    /// (429, 463, the Cloud API's 130429); the whole number pauses.
    #[error("rate limited by whatsapp: {reason}")]
    RateLimited {
        /// WhatsApp's explanation, with its code.
        reason: String,
        /// When WhatsApp said sending may resume, in Unix milliseconds.
        until_ms: Option<i64>,
    },

    /// WhatsApp refused to send to this one contact for now (the Cloud
    /// API's pair rate limit, 131056); other contacts are not affected.
    #[error("rate limited for this contact: {reason}")]
    ContactRateLimited {
        /// WhatsApp's explanation, with its code.
        reason: String,
        /// How long to wait before sending to the contact again.
        retry_after_ms: i64,
    },

    /// WhatsApp refused the message for good (a bad recipient, the
    /// re-engagement window, a banned number); it is not retried.
    #[error("whatsapp refused the message: {reason}")]
    Rejected {
        /// WhatsApp's explanation, with its code.
        reason: String,
    },

    /// The send failed before reaching WhatsApp; it may be retried.
    #[error("transport failure: {reason}")]
    Failed {
        /// What went wrong.
        reason: String,
    },

    /// The send may or may not have reached WhatsApp (a timeout after the
    /// request left); it is marked failed and never retried, so the contact
    /// never gets it twice.
    #[error("the send may or may not have been delivered: {reason}")]
    Ambiguous {
        /// What happened.
        reason: String,
    },
}

/// A message a contact sent to the number.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundMessage {
    /// The contact's id as the conversation is keyed: the phone-based
    /// WhatsApp id (E.164 digits without the plus sign) when known,
    /// otherwise the LID (`<digits>@lid`).
    pub contact_wa_id: String,
    /// The contact's phone-based WhatsApp id (digits), when WhatsApp gave it.
    pub contact_phone_wa_id: Option<String>,
    /// The contact's LID (`<digits>@lid`), when WhatsApp gave it.
    pub contact_lid: Option<String>,
    /// The contact's display name, when WhatsApp gives one.
    pub contact_name: Option<String>,
    /// WhatsApp's id of the message, unique per number.
    pub wa_message_id: String,
    /// What the message says, in the one message model; stored whole in
    /// `messages.content` (`messages.type` is its kind and `messages.body`
    /// its summary).
    pub content: Content,
    /// WhatsApp's id of the message this one quotes (a reply), stored in
    /// `messages.context_wa_message_id`.
    pub context_wa_message_id: Option<String>,
    /// What else the transport knows about the message, as JSON; the raw
    /// transport message is kept in `raw` for the kinds the model reads as
    /// [`Content::Unknown`].
    pub payload: Value,
}

impl InboundMessage {
    /// Returns a text message from a contact known only by their
    /// phone-based id.
    pub fn text(
        contact_wa_id: impl Into<String>,
        contact_name: Option<String>,
        wa_message_id: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        InboundMessage::with_content(
            contact_wa_id,
            contact_name,
            wa_message_id,
            Content::text(text),
        )
    }

    /// Returns a message of any kind from a contact known only by their
    /// phone-based id.
    pub fn with_content(
        contact_wa_id: impl Into<String>,
        contact_name: Option<String>,
        wa_message_id: impl Into<String>,
        content: Content,
    ) -> Self {
        let contact_wa_id = contact_wa_id.into();
        InboundMessage {
            contact_phone_wa_id: Some(contact_wa_id.clone()),
            contact_wa_id,
            contact_lid: None,
            contact_name,
            wa_message_id: wa_message_id.into(),
            content,
            context_wa_message_id: None,
            payload: Value::Object(serde_json::Map::new()),
        }
    }

    /// Returns the message's kind, as `messages.type` spells it.
    pub fn message_type(&self) -> &'static str {
        self.content.kind()
    }

    /// Returns the words a person reads in the message, as `messages.body`
    /// keeps them (the text, a caption, a tapped title; may be empty).
    pub fn body(&self) -> String {
        self.content.summary()
    }

    /// Returns the content and quoted id as they can be stored: a location
    /// with coordinates out of range becomes [`Content::Unknown`] naming
    /// them, and a quoted id that is empty or over 256 characters is
    /// dropped (it stays in the payload). A transport's odd message never
    /// fails the insert, which would make WhatsApp deliver it again forever.
    pub fn storable(&self) -> (Content, Option<&str>) {
        let content = match &self.content {
            Content::Location(location)
                if !(-90.0..=90.0).contains(&location.latitude)
                    || !(-180.0..=180.0).contains(&location.longitude) =>
            {
                Content::Unknown {
                    original_type: "location".to_owned(),
                    reason: format!(
                        "a location out of range: latitude {}, longitude {}",
                        location.latitude, location.longitude
                    ),
                }
            }
            content => content.clone(),
        };
        let context = self
            .context_wa_message_id
            .as_deref()
            .filter(|id| (1..=256).contains(&id.chars().count()));
        (content, context)
    }
}

/// A message the daemon is about to send: what it says, to whom, the
/// message it quotes, and the media bytes to upload when the content points
/// at an object in the platform's bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The contact's id, as in [`InboundMessage::contact_wa_id`].
    pub contact_wa_id: String,
    /// What to send (checked by [`message_model::check_outbound`] before a
    /// transport sees it).
    pub content: Content,
    /// WhatsApp's id of the message this one replies to (the Cloud API's
    /// `context.message_id`, WhatsApp Web's quoted `contextInfo`).
    pub context_wa_message_id: Option<String>,
    /// The media file's bytes, filled by the media resolver when the
    /// content has a `storage_key` (the object from the bucket). A
    /// transport uploads them and sends by the id it gets back; when this is
    /// `None`, it sends by `media_id` or `url`.
    pub media_bytes: Option<Arc<[u8]>>,
}

impl Outgoing {
    /// Returns a text message to a contact.
    pub fn text(contact_wa_id: impl Into<String>, text: impl Into<String>) -> Self {
        Outgoing::new(contact_wa_id, Content::text(text))
    }

    /// Returns a message of any kind to a contact, quoting nothing, with no
    /// media bytes.
    pub fn new(contact_wa_id: impl Into<String>, content: Content) -> Self {
        Outgoing {
            contact_wa_id: contact_wa_id.into(),
            content,
            context_wa_message_id: None,
            media_bytes: None,
        }
    }
}

/// Content JSON that is not the message model's: the JSON path of the
/// field at fault (from `content`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ContentJsonError {
    /// The JSON path, such as `content.components[0].parameters[0].type`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Reads content JSON (from `messages.content` or a caller) into the
/// message model, naming the JSON path of the field at fault.
///
/// [`Content`] is tagged by `kind`, and serde reads a tagged enum without
/// tracking where inside it a problem lies; so when reading fails, the
/// kind's own fields are read again into a type of that shape, with their
/// paths tracked.
pub fn parse_content(value: &Value) -> Result<Content, ContentJsonError> {
    let error = match Content::deserialize(value) {
        Ok(content) => return Ok(content),
        Err(error) => error,
    };
    let fallback = || {
        let path = if value.get("kind").is_some_and(Value::is_string) || !value.is_object() {
            "content"
        } else {
            "content.kind"
        };
        ContentJsonError {
            path: path.to_owned(),
            message: error.to_string(),
        }
    };
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let located = match kind {
        "text" => locate::<shapes::Text>(value),
        "image" | "video" | "audio" | "voice" | "document" | "sticker" => {
            locate::<message_model::Media>(value)
        }
        "location" => locate::<message_model::Location>(value),
        "contacts" => locate::<shapes::Contacts>(value),
        "reaction" => locate::<shapes::Reaction>(value),
        "button_reply" | "list_reply" => locate::<shapes::Reply>(value),
        "buttons" => locate::<shapes::Buttons>(value),
        "list" => locate::<shapes::List>(value),
        "template" => locate::<message_model::Template>(value),
        "system" => locate::<shapes::System>(value),
        "unknown" => locate::<shapes::Unknown>(value),
        _ => None,
    };
    Err(located.unwrap_or_else(fallback))
}

/// Reads `value` as `T`, tracking the path; the error when it does not read.
fn locate<T: serde::de::DeserializeOwned>(value: &Value) -> Option<ContentJsonError> {
    let error = serde_path_to_error::deserialize::<_, T>(value).err()?;
    let path = error.path().to_string();
    Some(ContentJsonError {
        path: if path == "." {
            "content".to_owned()
        } else {
            format!("content.{path}")
        },
        message: error.into_inner().to_string(),
    })
}

/// The fields of the kinds that are not a struct of the model, for
/// [`parse_content`]'s paths.
mod shapes {
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct Text {
        #[allow(dead_code)]
        pub text: String,
        #[allow(dead_code)]
        pub preview_url: Option<bool>,
    }

    #[derive(Deserialize)]
    pub struct Contacts {
        #[allow(dead_code)]
        pub contacts: Vec<message_model::SharedContact>,
    }

    #[derive(Deserialize)]
    pub struct Reaction {
        #[allow(dead_code)]
        pub message_id: String,
        #[allow(dead_code)]
        pub emoji: String,
    }

    #[derive(Deserialize)]
    pub struct Reply {
        #[allow(dead_code)]
        pub id: String,
        #[allow(dead_code)]
        pub title: String,
        #[allow(dead_code)]
        pub description: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Buttons {
        #[allow(dead_code)]
        pub text: String,
        #[allow(dead_code)]
        pub header: Option<String>,
        #[allow(dead_code)]
        pub footer: Option<String>,
        #[allow(dead_code)]
        pub buttons: Vec<message_model::ReplyButton>,
    }

    #[derive(Deserialize)]
    pub struct List {
        #[allow(dead_code)]
        pub text: String,
        #[allow(dead_code)]
        pub header: Option<String>,
        #[allow(dead_code)]
        pub footer: Option<String>,
        #[allow(dead_code)]
        pub button: String,
        #[allow(dead_code)]
        pub sections: Vec<message_model::ListSection>,
    }

    #[derive(Deserialize)]
    pub struct System {
        #[allow(dead_code)]
        pub system_type: String,
        #[allow(dead_code)]
        pub text: Option<String>,
        #[allow(dead_code)]
        pub new_wa_id: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Unknown {
        #[allow(dead_code)]
        pub original_type: String,
        #[allow(dead_code)]
        pub reason: Option<String>,
    }
}

/// A media file a transport downloaded from WhatsApp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedMedia {
    /// The file's bytes.
    pub bytes: Arc<[u8]>,
    /// Its MIME type, as WhatsApp reported it (or as the message said).
    pub mime_type: String,
}

/// The result of storing an inbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredInbound {
    /// The id of the `messages` row.
    pub message_id: Uuid,
    /// Whether the message had been stored before (a redelivery).
    pub duplicate: bool,
}

/// An inbound message with the channel on which the daemon says whether it
/// was stored.
#[derive(Debug)]
pub struct InboundDelivery {
    /// The message.
    pub message: InboundMessage,
    /// Where the daemon reports the outcome of storing the message: the
    /// stored row, or why it could not be stored.
    pub acknowledgement: Option<oneshot::Sender<Result<StoredInbound, String>>>,
}

/// The delivery state a receipt reports for an outbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptStatus {
    /// WhatsApp's server accepted the message (the Cloud API's `sent`).
    Sent,
    /// The message reached the contact's phone.
    Delivered,
    /// The contact read (or played) the message.
    Read,
    /// WhatsApp gave up delivering the message.
    Failed,
}

impl ReceiptStatus {
    /// Returns the `messages.status` this receipt moves a message to.
    pub fn as_message_status(self) -> &'static str {
        match self {
            ReceiptStatus::Sent => "sent",
            ReceiptStatus::Delivered => "delivered",
            ReceiptStatus::Read => "read",
            ReceiptStatus::Failed => "failed",
        }
    }
}

impl FromStr for ReceiptStatus {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "sent" => Ok(ReceiptStatus::Sent),
            "delivered" => Ok(ReceiptStatus::Delivered),
            "read" | "played" => Ok(ReceiptStatus::Read),
            "failed" => Ok(ReceiptStatus::Failed),
            other => Err(format!(
                "unknown receipt status {other:?}: expected sent, delivered, read or failed"
            )),
        }
    }
}

/// A delivery receipt for an outbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReceipt {
    /// The WhatsApp id returned when the message was sent.
    pub wa_message_id: String,
    /// The new delivery state.
    pub status: ReceiptStatus,
    /// Why delivery failed, for a failed receipt.
    pub error: Option<String>,
}

/// Something that happened on a transport, reported to the daemon.
///
/// The connection events carry WhatsApp's own code where it has one, for the
/// `code` column of the timeline.
#[derive(Debug)]
pub enum TransportEvent {
    /// The connection came up on its own (after pairing or a reconnect).
    Connected,
    /// The connection dropped; the daemon reconnects it under its policy.
    Disconnected {
        /// Why it dropped.
        reason: String,
        /// WhatsApp's code, such as `515` or `503`.
        code: Option<String>,
    },
    /// WhatsApp logged the session out; it must be paired again.
    LoggedOut {
        /// Why WhatsApp logged it out.
        reason: String,
        /// WhatsApp's code, such as `401`.
        code: Option<String>,
    },
    /// Another client took over the session (whatsmeow `StreamReplaced`,
    /// Baileys 440).
    StreamReplaced,
    /// WhatsApp banned the number for a while (codes 101–106).
    TemporaryBan {
        /// WhatsApp's code.
        code: Option<String>,
        /// WhatsApp's explanation.
        reason: String,
        /// How long the ban lasts, in milliseconds.
        expires_in_ms: i64,
    },
    /// WhatsApp banned the number for good.
    Banned {
        /// WhatsApp's explanation.
        reason: String,
    },
    /// WhatsApp refused the connection because the client is too old.
    ClientOutdated {
        /// WhatsApp's explanation.
        reason: String,
    },
    /// A QR code to link the number is showing.
    QrCode {
        /// The QR payload to render.
        code: String,
        /// How long it stays valid, in milliseconds.
        expires_in_ms: i64,
    },
    /// A pair code to link the number is showing.
    PairCode {
        /// The eight-character code to type on the phone.
        code: String,
        /// How long it stays valid, in milliseconds.
        expires_in_ms: i64,
    },
    /// A person linked the number; the connection follows.
    Paired {
        /// The linked account's phone-based id, if known.
        phone_wa_id: Option<String>,
        /// The linked account's LID, if known.
        lid: Option<String>,
    },
    /// A contact sent a message that the daemon must store and acknowledge.
    Inbound(Box<InboundDelivery>),
    /// The transport stored inbound messages itself (the Web transport's
    /// durability hook), for the session's liveness bookkeeping.
    InboundCommitted {
        /// How many messages were committed.
        n_messages: usize,
    },
    /// A sent message was delivered, read or failed.
    Receipt(DeliveryReceipt),
    /// WhatsApp refused a message after the send call returned (a server
    /// nack, such as 463 for the reach-out timelock).
    SendRejected {
        /// The message's WhatsApp id.
        wa_message_id: String,
        /// WhatsApp's code.
        code: String,
        /// Whether the code is a rate limit that pauses the number.
        rate_limited: bool,
    },
}

/// One number's connection to WhatsApp.
///
/// Implementations push [`TransportEvent`]s into the channel they were built
/// with. A disconnect the daemon asked for through [`Transport::disconnect`]
/// is not reported as [`TransportEvent::Disconnected`]; only drops the daemon
/// did not ask for are.
pub trait Transport: Send + Sync {
    /// Returns the kind of this transport.
    fn kind(&self) -> TransportKind;

    /// Connects the session, or starts connecting it.
    fn connect(&self) -> BoxFuture<'_, Result<ConnectOutcome, TransportError>>;

    /// Sends a message of any kind to a contact and returns WhatsApp's id
    /// for it. The content has passed [`message_model::check_outbound`]; a
    /// kind the transport cannot carry is refused with
    /// [`TransportError::Rejected`] before anything leaves, so nothing is
    /// half-sent.
    fn send<'a>(&'a self, outgoing: &'a Outgoing) -> BoxFuture<'a, Result<String, TransportError>>;

    /// Downloads an inbound message's media file (by its `media_id`, or
    /// what else the transport needs). The default refuses for good: the
    /// transport cannot download.
    fn download_media<'a>(
        &'a self,
        media: &'a Media,
    ) -> BoxFuture<'a, Result<DownloadedMedia, TransportError>> {
        let _ = media;
        let reason = format!(
            "the {} transport cannot download media",
            self.kind().as_str()
        );
        Box::pin(async move { Err(TransportError::Rejected { reason }) })
    }

    /// Downloads a stored inbound message's media file, given the message's
    /// `payload` too (where a transport keeps what its download needs beyond
    /// the model's [`Media`], such as WhatsApp Web's CDN keys). By default
    /// the payload is not needed: [`Transport::download_media`].
    fn download_inbound_media<'a>(
        &'a self,
        media: &'a Media,
        payload: &'a Value,
    ) -> BoxFuture<'a, Result<DownloadedMedia, TransportError>> {
        let _ = payload;
        self.download_media(media)
    }

    /// Disconnects the session, keeping its credentials for the next connect.
    fn disconnect(&self) -> BoxFuture<'_, Result<(), TransportError>>;

    /// Forgets the session's credentials after WhatsApp logged it out, so the
    /// next connect pairs afresh. Transports without credentials of their own
    /// do nothing.
    fn forget_credentials(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async { Ok(()) })
    }

    /// Unlinks this device from the WhatsApp account (a pairing that linked
    /// the wrong account is refused this way) and forgets the credentials.
    /// Transports without linked devices only forget their credentials.
    fn log_out(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        self.forget_credentials()
    }

    /// Tells whether the connection shows a sign of life right now; a
    /// connected session that is not alive misses its heartbeat, which the
    /// watchdog notices.
    fn is_alive(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_transport_messages_are_stored_without_failing_the_insert() {
        let mut message = InboundMessage::with_content(
            "15550199999",
            None,
            "wamid.1",
            Content::Location(message_model::Location {
                latitude: 91.5,
                longitude: 0.0,
                name: None,
                address: None,
            }),
        );
        message.context_wa_message_id = Some("x".repeat(257));
        let (content, context) = message.storable();
        assert!(
            matches!(&content, Content::Unknown { original_type, reason } if original_type == "location" && reason.contains("91.5")),
            "{content:?}"
        );
        assert_eq!(context, None);
        message.context_wa_message_id = Some("wamid.QUOTED".to_owned());
        message.content = Content::text("hi");
        assert_eq!(
            message.storable(),
            (Content::text("hi"), Some("wamid.QUOTED"))
        );
    }

    #[test]
    fn hostile_content_json_names_its_path() {
        let error = parse_content(
            &serde_json::json!({"kind": "list", "text": "x", "button": "b",
            "sections": [{"rows": [{"id": "a"}]}]}),
        )
        .unwrap_err();
        assert_eq!(error.path, "content.sections[0].rows[0]");
        assert!(error.message.contains("missing field `title`"), "{error}");
        let error =
            parse_content(&serde_json::json!({"kind": "reaction", "message_id": 5, "emoji": ""}))
                .unwrap_err();
        assert_eq!(error.path, "content.message_id");
        let error = parse_content(&serde_json::json!([1])).unwrap_err();
        assert_eq!(error.path, "content");
        assert!(parse_content(&serde_json::json!({"kind": "text", "text": "hi"})).is_ok());
    }

    #[test]
    fn kinds_parse_and_print_as_the_schema_spells_them() {
        for kind in TransportKind::ALL {
            assert_eq!(kind.as_str().parse::<TransportKind>(), Ok(kind));
        }
        assert!("telegram".parse::<TransportKind>().is_err());
        assert!(TransportKind::Simulator.is_compiled_in());
    }

    #[test]
    fn receipt_statuses_parse() {
        assert_eq!("played".parse::<ReceiptStatus>(), Ok(ReceiptStatus::Read));
        assert_eq!(ReceiptStatus::Delivered.as_message_status(), "delivered");
        assert!("seen".parse::<ReceiptStatus>().is_err());
    }
}
