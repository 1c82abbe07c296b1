//! The simulator transport: WhatsApp without WhatsApp.
//!
//! A [`SimulatorNetwork`] stands for WhatsApp itself. Each held number gets a
//! line on it ([`SimulatorNetwork::attach`]) and a [`SimulatorTransport`] that
//! the daemon drives like any other transport. Simulated contacts write to a
//! number through [`SimulatorNetwork::contact_sends`] (the daemon's
//! `POST /simulator/inbound`), and what a number sends them is recorded in a
//! per-contact transcript that [`SimulatorNetwork::transcript`] reads
//! (`GET /simulator/transcript`).
//!
//! # Scripting
//!
//! Every line carries a [`SimulatorScript`] that tests (and curious
//! developers) change over HTTP (`POST /simulator/numbers/{phone}/script`):
//! latency on every send, the next *n* sends failing with a rate-limit error,
//! a rejection, a transient failure or a timeout (the send never returns, so
//! the daemon's send timeout fires), a stalled line (the zombie: it claims to
//! be connected while nothing flows), refused connects, and pairing required
//! before connecting (QR and pair code, completed with
//! `POST /simulator/numbers/{phone}/pair`). Connection events happen on
//! demand ([`SimulatorNetwork::emit`]: a drop, a logout, a stream
//! replacement, a temporary or permanent ban, an outdated client), and
//! receipts too ([`SimulatorNetwork::receipt`]), or automatically after each
//! send.
//!
//! Transcripts live in memory only and survive session restarts, not daemon
//! restarts: the `messages` table is the durable truth. With
//! `WABOT_SIMULATOR_SEND_LOG` set, every message a line delivers is also
//! appended to that file (one tab-separated line), which is how the crash
//! tests count deliveries across daemon processes.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::simulator_media::{sha256_hex, SimulatedMediaFile, SimulatorMedia};
use super::{
    ConnectOutcome, Content, DeliveryReceipt, DownloadedMedia, InboundDelivery, InboundMessage,
    Media, Outgoing, ReceiptStatus, Transport, TransportError, TransportEvent, TransportKind,
};
use crate::phone::contact_wa_id_from_phone;

/// How long a simulated contact waits for the daemon to store its message.
pub const STORE_ACKNOWLEDGEMENT_TIMEOUT: Duration = Duration::from_secs(15);

/// The prefix of the message ids the simulator makes up.
pub const SIMULATED_MESSAGE_ID_PREFIX: &str = "SIM-";

/// How long a simulated QR code or pair code stays valid.
pub const SIMULATED_PAIRING_VALIDITY: Duration = Duration::from_secs(60);

/// Which way a transcript entry went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TranscriptDirection {
    /// The contact wrote to the number.
    ToNumber,
    /// The number (the bot) wrote to the contact.
    ToContact,
}

/// One message between a simulated contact and a number, recorded whole:
/// what it says ([`Content`]), the message it quotes, and a fingerprint of
/// the media bytes it carried.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptEntry {
    /// The position of the entry in its conversation, from 1.
    pub seq: u64,
    /// Which way the message went.
    pub direction: TranscriptDirection,
    /// The words a person reads (the content's summary: the text, a
    /// caption, a tapped title).
    pub text: String,
    /// What the message says, in the message model.
    pub content: Content,
    /// WhatsApp's id of the message it quotes, for a reply.
    pub context_wa_message_id: Option<String>,
    /// The media bytes it carried (an outbound [`super::Outgoing::media_bytes`],
    /// or a contact's inline media), by SHA-256 and length.
    pub media: Option<MediaFingerprint>,
    /// WhatsApp's id of the message.
    pub wa_message_id: String,
    /// When the message was sent, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// Which bytes a message carried: their hex SHA-256 and length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaFingerprint {
    /// The hex SHA-256 of the bytes.
    pub sha256: String,
    /// How many bytes.
    pub size_bytes: u64,
}

impl MediaFingerprint {
    /// Fingerprints bytes.
    pub fn of(bytes: &[u8]) -> Self {
        MediaFingerprint {
            sha256: sha256_hex(bytes),
            size_bytes: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        }
    }
}

/// A message a simulated contact writes.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedMessage {
    /// The number written to, in E.164 form.
    pub to: String,
    /// The contact's own number, in E.164 form.
    pub from: String,
    /// The contact's LID (`<digits>@lid`), when the contact writes with one.
    pub from_lid: Option<String>,
    /// The contact's display name.
    pub name: Option<String>,
    /// What the contact sends, of any kind (`{"kind": "text", "text": …}`
    /// for plain text).
    pub content: Content,
    /// WhatsApp's id of the message the contact replies to (quotes).
    pub context_wa_message_id: Option<String>,
    /// The bytes of a media message, sent inline: the simulator keeps them
    /// in its media files ([`SimulatorNetwork::media`]) and sets
    /// `content.media_id` to the id it keeps them under (`SIMMEDIA-<uuid>`),
    /// as if the contact had uploaded them first.
    pub media_bytes: Option<Arc<[u8]>>,
    /// The WhatsApp message id to use; the simulator makes one up when absent.
    pub message_id: Option<String>,
}

impl SimulatedMessage {
    /// Returns a text message from `from` to `to`.
    pub fn text(to: impl Into<String>, from: impl Into<String>, text: impl Into<String>) -> Self {
        SimulatedMessage {
            to: to.into(),
            from: from.into(),
            from_lid: None,
            name: None,
            content: Content::text(text),
            context_wa_message_id: None,
            media_bytes: None,
            message_id: None,
        }
    }
}

/// What became of a simulated contact's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimulatedSendOutcome {
    /// WhatsApp's id of the message.
    pub wa_message_id: String,
    /// Whether the daemon had already stored a message with that id.
    pub duplicate: bool,
}

/// How a line behaves; see the module documentation. `{}` is a line that
/// behaves perfectly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SimulatorScript {
    /// Every send takes this long.
    pub send_latency_ms: u64,
    /// The next this many sends fail with a rate-limit error.
    pub rate_limit_sends: u32,
    /// The end the rate-limit errors name, this long after the error.
    pub rate_limit_retry_after_ms: Option<u64>,
    /// The next this many sends never return (the daemon's timeout fires).
    pub timeout_sends: u32,
    /// The next this many sends are refused for good.
    pub reject_sends: u32,
    /// The next this many sends fail transiently.
    pub fail_sends: u32,
    /// The line claims to be connected while nothing flows: sends never
    /// return, inbound messages do not arrive, and it shows no sign of life.
    /// A reconnect clears it.
    pub stalled: bool,
    /// The next this many connects fail.
    pub refuse_connects: u32,
    /// Connecting needs pairing first (a QR code and a pair code show until
    /// `POST /simulator/numbers/{phone}/pair`).
    pub require_pairing: bool,
    /// Every delivered message is followed by a `delivered` receipt.
    pub auto_deliver: bool,
    /// Every delivered message is followed by a `read` receipt.
    pub auto_read: bool,
}

/// A change to a [`SimulatorScript`]: the fields given replace the line's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorScriptChange {
    /// See [`SimulatorScript::send_latency_ms`].
    pub send_latency_ms: Option<u64>,
    /// See [`SimulatorScript::rate_limit_sends`].
    pub rate_limit_sends: Option<u32>,
    /// See [`SimulatorScript::rate_limit_retry_after_ms`].
    pub rate_limit_retry_after_ms: Option<u64>,
    /// See [`SimulatorScript::timeout_sends`].
    pub timeout_sends: Option<u32>,
    /// See [`SimulatorScript::reject_sends`].
    pub reject_sends: Option<u32>,
    /// See [`SimulatorScript::fail_sends`].
    pub fail_sends: Option<u32>,
    /// See [`SimulatorScript::stalled`].
    pub stalled: Option<bool>,
    /// See [`SimulatorScript::refuse_connects`].
    pub refuse_connects: Option<u32>,
    /// See [`SimulatorScript::require_pairing`].
    pub require_pairing: Option<bool>,
    /// See [`SimulatorScript::auto_deliver`].
    pub auto_deliver: Option<bool>,
    /// See [`SimulatorScript::auto_read`].
    pub auto_read: Option<bool>,
}

impl SimulatorScript {
    fn apply(&mut self, change: &SimulatorScriptChange) {
        macro_rules! take {
            ($($field:ident),*) => {
                $(if let Some(value) = change.$field { self.$field = value; })*
            };
        }
        take!(
            send_latency_ms,
            rate_limit_sends,
            timeout_sends,
            reject_sends,
            fail_sends,
            stalled,
            refuse_connects,
            require_pairing,
            auto_deliver,
            auto_read
        );
        if change.rate_limit_retry_after_ms.is_some() {
            self.rate_limit_retry_after_ms = change.rate_limit_retry_after_ms;
        }
    }
}

/// A connection event a test makes happen on a line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SimulatedConnectionEvent {
    /// The connection drops.
    Disconnected {
        /// Why, for the timeline.
        #[serde(default)]
        reason: Option<String>,
        /// WhatsApp's code, such as `515`.
        #[serde(default)]
        code: Option<String>,
    },
    /// WhatsApp logs the session out.
    LoggedOut {
        /// Why, for the timeline.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Another client takes the session over.
    StreamReplaced {},
    /// WhatsApp bans the number for a while; connects fail until it ends.
    TemporaryBan {
        /// How long the ban lasts.
        expires_in_ms: i64,
        /// WhatsApp's code (101–106).
        #[serde(default)]
        code: Option<String>,
    },
    /// WhatsApp bans the number for good.
    Banned {},
    /// WhatsApp refuses the client as too old.
    ClientOutdated {},
}

/// What a line looks like, for `GET /simulator/numbers/{phone}`.
#[derive(Debug, Clone, Serialize)]
pub struct SimulatorLineView {
    /// The number, in E.164 form.
    pub phone_number: String,
    /// Whether the line is connected.
    pub connected: bool,
    /// Whether the line was paired (only meaningful with `require_pairing`).
    pub paired: bool,
    /// The line's script.
    pub script: SimulatorScript,
    /// How many messages the line delivered to contacts.
    pub n_delivered: u64,
}

/// A failure of a simulated contact's action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulatorError {
    /// No held session has the number.
    #[error("unknown number {phone_number}: no simulator session holds it")]
    UnknownNumber {
        /// The number written to.
        phone_number: String,
    },

    /// The number's session is held but not connected.
    #[error("number {phone_number} is not connected: its session is stopped")]
    NotConnected {
        /// The number written to.
        phone_number: String,
    },

    /// The line is stalled: it claims to be connected but nothing flows.
    #[error("number {phone_number} is stalled: nothing reaches it")]
    Stalled {
        /// The number written to.
        phone_number: String,
    },

    /// The line is not waiting for pairing.
    #[error("number {phone_number} is not waiting for pairing")]
    NotPairing {
        /// The number.
        phone_number: String,
    },

    /// The daemon could not store the message.
    #[error("the daemon could not store the message: {reason}")]
    StoreFailed {
        /// Why it could not.
        reason: String,
    },

    /// Inline media bytes came with content that is not a media kind.
    #[error("media bytes were given for a {kind} message; only image, video, audio, voice, document and sticker carry media")]
    NotMedia {
        /// The content's kind.
        kind: &'static str,
    },

    /// The daemon did not say in time whether it stored the message.
    #[error("the daemon did not store the message within {} s", .0.as_secs())]
    StoreTimedOut(Duration),
}

/// The simulated WhatsApp: every simulated number's line and transcripts.
#[derive(Debug, Default)]
pub struct SimulatorNetwork {
    lines: Mutex<HashMap<String, Arc<SimulatorLine>>>,
    send_log: Option<Arc<Mutex<File>>>,
    media: Arc<SimulatorMedia>,
}

/// One number's line on the simulated network.
#[derive(Debug)]
struct SimulatorLine {
    phone_number: String,
    connected: AtomicBool,
    state: Mutex<LineState>,
    events: Mutex<Option<mpsc::Sender<TransportEvent>>>,
    conversations: Mutex<HashMap<String, Vec<TranscriptEntry>>>,
    send_log: Option<Arc<Mutex<File>>>,
    media: Arc<SimulatorMedia>,
}

/// What a transcript entry records, beside its direction and id.
struct Recorded<'a> {
    content: &'a Content,
    context_wa_message_id: Option<&'a str>,
    media_bytes: Option<&'a [u8]>,
}

#[derive(Debug, Default)]
struct LineState {
    script: SimulatorScript,
    paired: bool,
    pairing: bool,
    banned_until: Option<Instant>,
    n_delivered: u64,
}

impl SimulatorLine {
    fn record(
        &self,
        contact_wa_id: &str,
        direction: TranscriptDirection,
        recorded: Recorded<'_>,
        wa_message_id: &str,
    ) -> bool {
        let mut conversations = lock(&self.conversations);
        let entries = conversations.entry(contact_wa_id.to_owned()).or_default();
        let already_recorded = entries
            .iter()
            .any(|entry| entry.direction == direction && entry.wa_message_id == wa_message_id);
        if already_recorded {
            return false;
        }
        let seq = entries.last().map_or(1, |entry| entry.seq + 1);
        entries.push(TranscriptEntry {
            seq,
            direction,
            text: recorded.content.summary(),
            content: recorded.content.clone(),
            context_wa_message_id: recorded.context_wa_message_id.map(str::to_owned),
            media: recorded.media_bytes.map(MediaFingerprint::of),
            wa_message_id: wa_message_id.to_owned(),
            at_ms: milliseconds_since_epoch(),
        });
        true
    }

    fn events(&self) -> Option<mpsc::Sender<TransportEvent>> {
        lock(&self.events).clone()
    }

    fn script(&self) -> SimulatorScript {
        lock(&self.state).script.clone()
    }

    fn is_stalled(&self) -> bool {
        lock(&self.state).script.stalled
    }

    fn view(&self) -> SimulatorLineView {
        let state = lock(&self.state);
        SimulatorLineView {
            phone_number: self.phone_number.clone(),
            connected: self.connected.load(Ordering::SeqCst),
            paired: state.paired,
            script: state.script.clone(),
            n_delivered: state.n_delivered,
        }
    }

    fn log_delivery(&self, contact_wa_id: &str, wa_message_id: &str, text: &str) {
        if let Some(send_log) = &self.send_log {
            let line = format!(
                "{}\t{}\t{}\t{}\n",
                self.phone_number,
                contact_wa_id,
                wa_message_id,
                text.replace(['\t', '\n'], " ")
            );
            let mut file = lock(send_log);
            if let Err(error) = file.write_all(line.as_bytes()).and_then(|()| file.flush()) {
                tracing::warn!("could not append to the simulator's send log: {error}");
            }
        }
    }
}

impl SimulatorNetwork {
    /// Creates an empty network.
    pub fn new() -> Arc<Self> {
        Arc::new(SimulatorNetwork::default())
    }

    /// Creates an empty network that appends every delivered message to
    /// `send_log`.
    pub fn with_send_log(send_log: &Path) -> std::io::Result<Arc<Self>> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(send_log)?;
        Ok(Arc::new(SimulatorNetwork {
            lines: Mutex::new(HashMap::new()),
            send_log: Some(Arc::new(Mutex::new(file))),
            media: Arc::default(),
        }))
    }

    /// Gives `phone_number` a line on the network and returns the transport
    /// that drives it. The line starts disconnected. When the number already
    /// had a line, its transcripts and script are kept and its events go to
    /// `events` from now on.
    pub fn attach(
        &self,
        phone_number: &str,
        events: mpsc::Sender<TransportEvent>,
    ) -> SimulatorTransport {
        let mut lines = lock(&self.lines);
        let line = lines
            .entry(phone_number.to_owned())
            .or_insert_with(|| {
                Arc::new(SimulatorLine {
                    phone_number: phone_number.to_owned(),
                    connected: AtomicBool::new(false),
                    state: Mutex::new(LineState::default()),
                    events: Mutex::new(None),
                    conversations: Mutex::new(HashMap::new()),
                    send_log: self.send_log.clone(),
                    media: self.media.clone(),
                })
            })
            .clone();
        line.connected.store(false, Ordering::SeqCst);
        *lock(&line.events) = Some(events);
        SimulatorTransport { line }
    }

    /// Removes a number's line and its transcripts.
    pub fn detach(&self, phone_number: &str) {
        if let Some(line) = lock(&self.lines).remove(phone_number) {
            line.connected.store(false, Ordering::SeqCst);
            *lock(&line.events) = None;
        }
    }

    /// Returns the simulated WhatsApp's media files (uploads by simulated
    /// contacts, and the media numbers sent).
    pub fn media(&self) -> &SimulatorMedia {
        &self.media
    }

    /// Returns how many lines the network has.
    pub fn n_lines(&self) -> usize {
        lock(&self.lines).len()
    }

    /// A simulated contact writes to a number; returns once the daemon has
    /// stored the message (or found it stored already).
    pub async fn contact_sends(
        &self,
        message: SimulatedMessage,
    ) -> Result<SimulatedSendOutcome, SimulatorError> {
        let line = self.line(&message.to)?;
        if !line.connected.load(Ordering::SeqCst) {
            return Err(SimulatorError::NotConnected {
                phone_number: message.to,
            });
        }
        if line.is_stalled() {
            return Err(SimulatorError::Stalled {
                phone_number: message.to,
            });
        }
        let events = line.events().ok_or_else(|| SimulatorError::NotConnected {
            phone_number: message.to.clone(),
        })?;

        let wa_message_id = message
            .message_id
            .unwrap_or_else(|| format!("{SIMULATED_MESSAGE_ID_PREFIX}{}", Uuid::new_v4()));
        let contact_wa_id = contact_wa_id_from_phone(&message.from);
        let mut content = message.content;
        if let Some(bytes) = &message.media_bytes {
            let Some(media) = content.media_mut() else {
                return Err(SimulatorError::NotMedia {
                    kind: content.kind(),
                });
            };
            let media_id = line.media.upload(
                bytes.clone(),
                media.mime_type.as_deref().unwrap_or_default(),
            );
            media.media_id = Some(media_id);
            if media.size_bytes.is_none() {
                media.size_bytes = Some(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
            }
            if media.sha256.is_none() {
                media.sha256 = Some(MediaFingerprint::of(bytes).sha256);
            }
        }
        line.record(
            &contact_wa_id,
            TranscriptDirection::ToNumber,
            Recorded {
                content: &content,
                context_wa_message_id: message.context_wa_message_id.as_deref(),
                media_bytes: message.media_bytes.as_deref(),
            },
            &wa_message_id,
        );

        let (acknowledgement, stored) = oneshot::channel();
        let mut inbound = InboundMessage::with_content(
            contact_wa_id,
            message.name,
            wa_message_id.clone(),
            content,
        );
        inbound.contact_lid = message.from_lid;
        inbound.context_wa_message_id = message.context_wa_message_id;
        let delivery = InboundDelivery {
            message: inbound,
            acknowledgement: Some(acknowledgement),
        };
        events
            .send(TransportEvent::Inbound(Box::new(delivery)))
            .await
            .map_err(|_| SimulatorError::NotConnected {
                phone_number: message.to.clone(),
            })?;

        match tokio::time::timeout(STORE_ACKNOWLEDGEMENT_TIMEOUT, stored).await {
            Ok(Ok(Ok(stored))) => Ok(SimulatedSendOutcome {
                wa_message_id,
                duplicate: stored.duplicate,
            }),
            Ok(Ok(Err(reason))) => Err(SimulatorError::StoreFailed { reason }),
            Ok(Err(_)) => Err(SimulatorError::StoreFailed {
                reason: "the session closed before storing it".to_owned(),
            }),
            Err(_) => Err(SimulatorError::StoreTimedOut(STORE_ACKNOWLEDGEMENT_TIMEOUT)),
        }
    }

    /// Returns the transcript between a number and a contact (given by their
    /// phone number), from the entry after `after_seq` on.
    pub fn transcript(
        &self,
        phone_number: &str,
        contact_phone_number: &str,
        after_seq: u64,
    ) -> Result<Vec<TranscriptEntry>, SimulatorError> {
        let line = self.line(phone_number)?;
        let contact_wa_id = contact_wa_id_from_phone(contact_phone_number);
        let conversations = lock(&line.conversations);
        Ok(conversations
            .get(&contact_wa_id)
            .map(|entries| {
                entries
                    .iter()
                    .filter(|entry| entry.seq > after_seq)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Returns what a line looks like.
    pub fn line_view(&self, phone_number: &str) -> Result<SimulatorLineView, SimulatorError> {
        Ok(self.line(phone_number)?.view())
    }

    /// Changes a line's script and returns the line.
    pub fn change_script(
        &self,
        phone_number: &str,
        change: &SimulatorScriptChange,
    ) -> Result<SimulatorLineView, SimulatorError> {
        let line = self.line(phone_number)?;
        lock(&line.state).script.apply(change);
        Ok(line.view())
    }

    /// Makes a connection event happen on a line now.
    pub async fn emit(
        &self,
        phone_number: &str,
        event: SimulatedConnectionEvent,
    ) -> Result<(), SimulatorError> {
        let line = self.line(phone_number)?;
        let events = line.events().ok_or_else(|| SimulatorError::NotConnected {
            phone_number: phone_number.to_owned(),
        })?;
        line.connected.store(false, Ordering::SeqCst);
        let transport_event = match event {
            SimulatedConnectionEvent::Disconnected { reason, code } => {
                TransportEvent::Disconnected {
                    reason: reason.unwrap_or_else(|| "connection lost (simulated)".to_owned()),
                    code,
                }
            }
            SimulatedConnectionEvent::LoggedOut { reason } => {
                let mut state = lock(&line.state);
                state.paired = false;
                TransportEvent::LoggedOut {
                    reason: reason.unwrap_or_else(|| "device removed (simulated)".to_owned()),
                    code: Some("401".to_owned()),
                }
            }
            SimulatedConnectionEvent::StreamReplaced {} => TransportEvent::StreamReplaced,
            SimulatedConnectionEvent::TemporaryBan {
                expires_in_ms,
                code,
            } => {
                let expires_in = Duration::from_millis(u64::try_from(expires_in_ms).unwrap_or(0));
                lock(&line.state).banned_until = Some(Instant::now() + expires_in);
                TransportEvent::TemporaryBan {
                    code: Some(code.unwrap_or_else(|| "101".to_owned())),
                    reason: "temporarily banned (simulated)".to_owned(),
                    expires_in_ms,
                }
            }
            SimulatedConnectionEvent::Banned {} => TransportEvent::Banned {
                reason: "banned (simulated)".to_owned(),
            },
            SimulatedConnectionEvent::ClientOutdated {} => TransportEvent::ClientOutdated {
                reason: "client outdated (simulated)".to_owned(),
            },
        };
        events
            .send(transport_event)
            .await
            .map_err(|_| SimulatorError::NotConnected {
                phone_number: phone_number.to_owned(),
            })
    }

    /// Reports a receipt for a message the number sent.
    pub async fn receipt(
        &self,
        phone_number: &str,
        receipt: DeliveryReceipt,
    ) -> Result<(), SimulatorError> {
        let line = self.line(phone_number)?;
        let events = line.events().ok_or_else(|| SimulatorError::NotConnected {
            phone_number: phone_number.to_owned(),
        })?;
        events
            .send(TransportEvent::Receipt(receipt))
            .await
            .map_err(|_| SimulatorError::NotConnected {
                phone_number: phone_number.to_owned(),
            })
    }

    /// Completes a pairing: the person scanned the QR code, with the phone
    /// of `linked_phone_number` (the line's own when `None`).
    pub async fn pair(
        &self,
        phone_number: &str,
        linked_phone_number: Option<&str>,
    ) -> Result<(), SimulatorError> {
        let line = self.line(phone_number)?;
        {
            let mut state = lock(&line.state);
            if !state.pairing {
                return Err(SimulatorError::NotPairing {
                    phone_number: phone_number.to_owned(),
                });
            }
            state.pairing = false;
            state.paired = true;
        }
        line.connected.store(true, Ordering::SeqCst);
        let events = line.events().ok_or_else(|| SimulatorError::NotConnected {
            phone_number: phone_number.to_owned(),
        })?;
        let digits = contact_wa_id_from_phone(linked_phone_number.unwrap_or(phone_number));
        for event in [
            TransportEvent::Paired {
                phone_wa_id: Some(format!("{digits}:7@s.whatsapp.net")),
                lid: None,
            },
            TransportEvent::Connected,
        ] {
            events
                .send(event)
                .await
                .map_err(|_| SimulatorError::NotConnected {
                    phone_number: phone_number.to_owned(),
                })?;
        }
        Ok(())
    }

    fn line(&self, phone_number: &str) -> Result<Arc<SimulatorLine>, SimulatorError> {
        let lines = lock(&self.lines);
        lines
            .get(phone_number)
            .or_else(|| lines.get(&format!("+{phone_number}")))
            .cloned()
            .ok_or_else(|| SimulatorError::UnknownNumber {
                phone_number: phone_number.to_owned(),
            })
    }
}

/// The transport of one simulated number.
#[derive(Debug, Clone)]
pub struct SimulatorTransport {
    line: Arc<SimulatorLine>,
}

impl SimulatorTransport {
    /// Returns a media file a contact sent, by the media id the simulator
    /// gave it (`content.media_id`): what a download of inbound media reads.
    pub fn stored_media(&self, media_id: &str) -> Option<SimulatedMediaFile> {
        self.line.media.get(media_id)
    }

    async fn deliver(&self, outgoing: &Outgoing) -> Result<String, TransportError> {
        let contact_wa_id = outgoing.contact_wa_id.as_str();
        if let Some(media) = outgoing.content.media() {
            if outgoing.media_bytes.is_none() && media.media_id.is_none() && media.url.is_none() {
                return Err(TransportError::Rejected {
                    reason: format!(
                        "content: the {} has no media_id or url, and its bytes were not resolved",
                        outgoing.content.kind()
                    ),
                });
            }
        }
        if !self.line.connected.load(Ordering::SeqCst) {
            return Err(TransportError::NotConnected);
        }
        let script = self.line.script();
        if script.send_latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(script.send_latency_ms)).await;
        }
        enum Scripted {
            Deliver,
            Hang,
            RateLimit,
            Reject,
            Fail,
        }
        let scripted = {
            let mut state = lock(&self.line.state);
            let script = &mut state.script;
            if script.stalled {
                Scripted::Hang
            } else if script.timeout_sends > 0 {
                script.timeout_sends -= 1;
                Scripted::Hang
            } else if script.rate_limit_sends > 0 {
                script.rate_limit_sends -= 1;
                Scripted::RateLimit
            } else if script.reject_sends > 0 {
                script.reject_sends -= 1;
                Scripted::Reject
            } else if script.fail_sends > 0 {
                script.fail_sends -= 1;
                Scripted::Fail
            } else {
                state.n_delivered += 1;
                Scripted::Deliver
            }
        };
        match scripted {
            Scripted::Hang => std::future::pending().await,
            Scripted::RateLimit => {
                let until_ms = script.rate_limit_retry_after_ms.map(|after| {
                    i64::try_from(milliseconds_since_epoch().saturating_add(after))
                        .unwrap_or(i64::MAX)
                });
                return Err(TransportError::RateLimited {
                    reason: "429 rate-overlimit (simulated)".to_owned(),
                    until_ms,
                });
            }
            Scripted::Reject => {
                return Err(TransportError::Rejected {
                    reason: "406 not-acceptable (simulated)".to_owned(),
                })
            }
            Scripted::Fail => {
                return Err(TransportError::Failed {
                    reason: "500 internal-server-error (simulated)".to_owned(),
                })
            }
            Scripted::Deliver => {}
        }
        let wa_message_id = format!("{SIMULATED_MESSAGE_ID_PREFIX}{}", Uuid::new_v4());
        let contact_key = contact_wa_id_from_phone(contact_wa_id);
        self.line.record(
            &contact_key,
            TranscriptDirection::ToContact,
            Recorded {
                content: &outgoing.content,
                context_wa_message_id: outgoing.context_wa_message_id.as_deref(),
                media_bytes: outgoing.media_bytes.as_deref(),
            },
            &wa_message_id,
        );
        self.line
            .log_delivery(&contact_key, &wa_message_id, &outgoing.content.summary());
        tracing::debug!(
            number = %self.line.phone_number,
            contact = %contact_wa_id,
            %wa_message_id,
            "simulator delivered a message to the contact"
        );
        if script.auto_deliver || script.auto_read {
            if let Some(events) = self.line.events() {
                let mut statuses = Vec::new();
                if script.auto_deliver {
                    statuses.push(ReceiptStatus::Delivered);
                }
                if script.auto_read {
                    statuses.push(ReceiptStatus::Read);
                }
                let receipt_id = wa_message_id.clone();
                tokio::spawn(async move {
                    // After the daemon recorded the send.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    for status in statuses {
                        let receipt = DeliveryReceipt {
                            wa_message_id: receipt_id.clone(),
                            status,
                            error: None,
                        };
                        if events.send(TransportEvent::Receipt(receipt)).await.is_err() {
                            return;
                        }
                    }
                });
            }
        }
        Ok(wa_message_id)
    }
}

impl Transport for SimulatorTransport {
    fn kind(&self) -> TransportKind {
        TransportKind::Simulator
    }

    fn connect(&self) -> BoxFuture<'_, Result<ConnectOutcome, TransportError>> {
        Box::pin(async move {
            let (require_pairing, paired) = {
                let mut state = lock(&self.line.state);
                if let Some(banned_until) = state.banned_until {
                    if Instant::now() < banned_until {
                        return Err(TransportError::Failed {
                            reason: "402 temporarily banned (simulated)".to_owned(),
                        });
                    }
                    state.banned_until = None;
                }
                if state.script.refuse_connects > 0 {
                    state.script.refuse_connects -= 1;
                    return Err(TransportError::Failed {
                        reason: "connection refused (simulated)".to_owned(),
                    });
                }
                // A reconnect clears a stall: the zombie's cure.
                state.script.stalled = false;
                if state.script.require_pairing && !state.paired {
                    state.pairing = true;
                }
                (state.script.require_pairing, state.paired)
            };
            if require_pairing && !paired {
                if let Some(events) = self.line.events() {
                    let validity_ms =
                        i64::try_from(SIMULATED_PAIRING_VALIDITY.as_millis()).unwrap_or(i64::MAX);
                    let qr = format!(
                        "2@{}",
                        json!({"simulated": true, "number": self.line.phone_number})
                    );
                    let pair_code = simulated_pair_code(&self.line.phone_number);
                    let _ = events
                        .send(TransportEvent::QrCode {
                            code: qr,
                            expires_in_ms: validity_ms,
                        })
                        .await;
                    let _ = events
                        .send(TransportEvent::PairCode {
                            code: pair_code,
                            expires_in_ms: validity_ms,
                        })
                        .await;
                }
                return Ok(ConnectOutcome::Pending {
                    reason: "waiting for pairing".to_owned(),
                });
            }
            self.line.connected.store(true, Ordering::SeqCst);
            Ok(ConnectOutcome::Connected)
        })
    }

    fn send<'a>(&'a self, outgoing: &'a Outgoing) -> BoxFuture<'a, Result<String, TransportError>> {
        Box::pin(async move {
            let wa_message_id = self.deliver(outgoing).await?;
            // The bytes of a media message the contact received, kept under
            // the message's id for GET /simulator/media/{id}.
            if let (Some(bytes), Some(media)) = (&outgoing.media_bytes, outgoing.content.media()) {
                self.line.media.insert(
                    &wa_message_id,
                    SimulatedMediaFile {
                        bytes: bytes.clone(),
                        mime_type: media.mime_type.clone().unwrap_or_default(),
                    },
                );
            }
            Ok(wa_message_id)
        })
    }

    fn download_media<'a>(
        &'a self,
        media: &'a Media,
    ) -> BoxFuture<'a, Result<DownloadedMedia, TransportError>> {
        Box::pin(async move {
            if !self.line.connected.load(Ordering::SeqCst) {
                return Err(TransportError::NotConnected);
            }
            let media_id = media
                .media_id
                .as_deref()
                .ok_or_else(|| TransportError::Rejected {
                    reason: "the media has no media_id to download".to_owned(),
                })?;
            let file = self
                .line
                .media
                .get(media_id)
                .ok_or_else(|| TransportError::Rejected {
                    reason: format!("404: no media {media_id:?} on the simulated whatsapp"),
                })?;
            Ok(DownloadedMedia {
                bytes: file.bytes,
                mime_type: file.mime_type,
            })
        })
    }

    fn disconnect(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            self.line.connected.store(false, Ordering::SeqCst);
            lock(&self.line.state).pairing = false;
            Ok(())
        })
    }

    fn forget_credentials(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            lock(&self.line.state).paired = false;
            Ok(())
        })
    }

    fn is_alive(&self) -> bool {
        self.line.connected.load(Ordering::SeqCst) && !self.line.is_stalled()
    }
}

/// The pair code a simulated line shows: eight characters from the number.
fn simulated_pair_code(phone_number: &str) -> String {
    let digits = contact_wa_id_from_phone(phone_number);
    let tail: String = digits
        .chars()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{tail:0>8}")
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn milliseconds_since_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::StoredInbound;

    const NUMBER: &str = "+15550100001";
    const CONTACT: &str = "+15550199999";

    fn message(text: &str, message_id: Option<&str>) -> SimulatedMessage {
        SimulatedMessage {
            name: Some("Ada".to_owned()),
            message_id: message_id.map(str::to_owned),
            ..SimulatedMessage::text(NUMBER, CONTACT, text)
        }
    }

    fn text_to(contact: &str, text: &str) -> Outgoing {
        Outgoing::text(contact, text)
    }

    /// Acknowledges every inbound message; ids seen before are duplicates.
    fn spawn_store(mut events: mpsc::Receiver<TransportEvent>) {
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(event) = events.recv().await {
                if let TransportEvent::Inbound(delivery) = event {
                    let duplicate = seen.contains(&delivery.message.wa_message_id);
                    seen.push(delivery.message.wa_message_id.clone());
                    assert_eq!(delivery.message.contact_wa_id, "15550199999");
                    if let Some(acknowledgement) = delivery.acknowledgement {
                        let _ = acknowledgement.send(Ok(StoredInbound {
                            message_id: Uuid::new_v4(),
                            duplicate,
                        }));
                    }
                }
            }
        });
    }

    #[tokio::test]
    async fn a_conversation_is_recorded_in_order() {
        let network = SimulatorNetwork::new();
        let (events_sender, events) = mpsc::channel(8);
        spawn_store(events);
        let transport = network.attach(NUMBER, events_sender);
        transport.connect().await.unwrap();

        let outcome = network.contact_sends(message("hi", None)).await.unwrap();
        assert!(outcome
            .wa_message_id
            .starts_with(SIMULATED_MESSAGE_ID_PREFIX));
        assert!(!outcome.duplicate);

        let reply_id = transport
            .send(&text_to("15550199999", "Hi Ada!"))
            .await
            .unwrap();
        let transcript = network.transcript(NUMBER, CONTACT, 0).unwrap();
        assert_eq!(transcript.len(), 2);
        assert_eq!(transcript[0].direction, TranscriptDirection::ToNumber);
        assert_eq!(transcript[0].text, "hi");
        assert_eq!(transcript[1].direction, TranscriptDirection::ToContact);
        assert_eq!(transcript[1].wa_message_id, reply_id);
        assert_eq!(transcript[1].seq, 2);

        let later = network.transcript(NUMBER, CONTACT, 1).unwrap();
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].seq, 2);
    }

    #[tokio::test]
    async fn a_contact_s_media_is_kept_and_every_send_recorded_whole() {
        let network = SimulatorNetwork::new();
        let (events_sender, mut events) = mpsc::channel(8);
        let transport = network.attach(NUMBER, events_sender);
        transport.connect().await.unwrap();
        let stored = tokio::spawn(async move {
            let Some(TransportEvent::Inbound(delivery)) = events.recv().await else {
                panic!("an inbound message");
            };
            let delivery = *delivery;
            if let Some(acknowledgement) = delivery.acknowledgement {
                let _ = acknowledgement.send(Ok(StoredInbound {
                    message_id: Uuid::new_v4(),
                    duplicate: false,
                }));
            }
            delivery.message
        });
        let bytes: Arc<[u8]> = Arc::from(&b"a tiny png"[..]);
        let picture = SimulatedMessage {
            content: Content::Image(message_model::Media {
                mime_type: Some("image/png".into()),
                caption: Some("my order".into()),
                ..Default::default()
            }),
            context_wa_message_id: Some("SIM-QUOTED".into()),
            media_bytes: Some(bytes.clone()),
            ..message("", None)
        };
        network.contact_sends(picture).await.unwrap();
        let inbound = stored.await.unwrap();
        let media = inbound.content.media().expect("media").clone();
        let media_id = media.media_id.expect("a simulator media id");
        assert!(media_id.starts_with(super::super::simulator_media::SIMULATED_MEDIA_ID_PREFIX));
        assert_eq!(media.size_bytes, Some(10));
        assert_eq!(media.sha256, Some(MediaFingerprint::of(&bytes).sha256));
        assert_eq!(inbound.context_wa_message_id.as_deref(), Some("SIM-QUOTED"));
        let kept = transport
            .stored_media(&media_id)
            .expect("the bytes are kept");
        assert_eq!(&*kept.bytes, &*bytes);
        assert_eq!(kept.mime_type, "image/png");
        assert_eq!(network.media().get(&media_id), Some(kept));

        let mut reply = Outgoing::new(
            "15550199999",
            Content::Document(message_model::Media {
                storage_key: Some("uploads/1".into()),
                filename: Some("menu.pdf".into()),
                ..Default::default()
            }),
        );
        reply.context_wa_message_id = Some("SIM-QUOTED".into());
        assert!(
            matches!(
                transport.send(&reply).await,
                Err(TransportError::Rejected { .. })
            ),
            "a stored file whose bytes were not resolved is refused"
        );
        reply.media_bytes = Some(Arc::from(&b"%PDF"[..]));
        transport.send(&reply).await.unwrap();
        let transcript = network.transcript(NUMBER, CONTACT, 0).unwrap();
        assert_eq!(transcript.len(), 2);
        assert_eq!(transcript[0].media, Some(MediaFingerprint::of(&bytes)));
        assert_eq!(transcript[1].content, reply.content);
        assert_eq!(transcript[1].text, "menu.pdf");
        assert_eq!(
            transcript[1].context_wa_message_id.as_deref(),
            Some("SIM-QUOTED")
        );
        assert_eq!(transcript[1].media, Some(MediaFingerprint::of(b"%PDF")));
        assert!(matches!(
            network
                .contact_sends(SimulatedMessage {
                    media_bytes: Some(bytes),
                    ..message("text carries no media", None)
                })
                .await,
            Err(SimulatorError::NotMedia { kind: "text" })
        ));
    }

    #[tokio::test]
    async fn a_redelivery_is_a_duplicate_and_recorded_once() {
        let network = SimulatorNetwork::new();
        let (events_sender, events) = mpsc::channel(8);
        spawn_store(events);
        let transport = network.attach(NUMBER, events_sender);
        transport.connect().await.unwrap();

        let first = network
            .contact_sends(message("hi", Some("ID-1")))
            .await
            .unwrap();
        let second = network
            .contact_sends(message("hi", Some("ID-1")))
            .await
            .unwrap();
        assert_eq!(first.wa_message_id, "ID-1");
        assert!(!first.duplicate);
        assert!(second.duplicate);
        assert_eq!(network.transcript(NUMBER, CONTACT, 0).unwrap().len(), 1);
    }

    #[tokio::test]
    async fn unknown_and_stopped_numbers_are_refused() {
        let network = SimulatorNetwork::new();
        let error = network
            .contact_sends(message("hi", None))
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown number +15550100001: no simulator session holds it"
        );

        let (events_sender, _events) = mpsc::channel(8);
        let transport = network.attach(NUMBER, events_sender);
        let error = network
            .contact_sends(message("hi", None))
            .await
            .unwrap_err();
        assert!(
            matches!(error, SimulatorError::NotConnected { .. }),
            "{error}"
        );
        assert_eq!(
            transport.send(&text_to("15550199999", "x")).await,
            Err(TransportError::NotConnected)
        );
    }

    #[tokio::test]
    async fn transcripts_survive_a_restart_but_not_a_detach() {
        let network = SimulatorNetwork::new();
        let (events_sender, _events) = mpsc::channel(8);
        let transport = network.attach(NUMBER, events_sender);
        transport.connect().await.unwrap();
        transport
            .send(&text_to("15550199999", "hello"))
            .await
            .unwrap();
        transport.disconnect().await.unwrap();
        transport.connect().await.unwrap();
        assert_eq!(network.transcript(NUMBER, CONTACT, 0).unwrap().len(), 1);

        network.detach(NUMBER);
        assert!(network.transcript(NUMBER, CONTACT, 0).is_err());
    }

    #[tokio::test]
    async fn scripted_failures_come_in_order_and_run_out() {
        let network = SimulatorNetwork::new();
        let (events_sender, _events) = mpsc::channel(8);
        let transport = network.attach(NUMBER, events_sender);
        transport.connect().await.unwrap();
        network
            .change_script(
                NUMBER,
                &SimulatorScriptChange {
                    rate_limit_sends: Some(1),
                    rate_limit_retry_after_ms: Some(5_000),
                    reject_sends: Some(1),
                    fail_sends: Some(1),
                    ..SimulatorScriptChange::default()
                },
            )
            .unwrap();
        let rate_limited = transport
            .send(&text_to("15550199999", "1"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                rate_limited,
                TransportError::RateLimited {
                    until_ms: Some(_),
                    ..
                }
            ),
            "{rate_limited}"
        );
        assert!(matches!(
            transport.send(&text_to("15550199999", "2")).await,
            Err(TransportError::Rejected { .. })
        ));
        assert!(matches!(
            transport.send(&text_to("15550199999", "3")).await,
            Err(TransportError::Failed { .. })
        ));
        assert!(transport.send(&text_to("15550199999", "4")).await.is_ok());
        assert_eq!(network.line_view(NUMBER).unwrap().n_delivered, 1);
    }

    #[tokio::test]
    async fn a_timeout_never_returns_and_a_stall_kills_the_sign_of_life() {
        let network = SimulatorNetwork::new();
        let (events_sender, _events) = mpsc::channel(8);
        let transport = network.attach(NUMBER, events_sender);
        transport.connect().await.unwrap();
        network
            .change_script(
                NUMBER,
                &SimulatorScriptChange {
                    timeout_sends: Some(1),
                    ..SimulatorScriptChange::default()
                },
            )
            .unwrap();
        let outgoing = text_to("15550199999", "x");
        let hung = tokio::time::timeout(Duration::from_millis(50), transport.send(&outgoing)).await;
        assert!(hung.is_err(), "the send hangs");

        assert!(transport.is_alive());
        network
            .change_script(
                NUMBER,
                &SimulatorScriptChange {
                    stalled: Some(true),
                    ..SimulatorScriptChange::default()
                },
            )
            .unwrap();
        assert!(!transport.is_alive());
        assert!(matches!(
            network.contact_sends(message("hi", None)).await,
            Err(SimulatorError::Stalled { .. })
        ));
        transport.disconnect().await.unwrap();
        transport.connect().await.unwrap();
        assert!(transport.is_alive(), "a reconnect clears the stall");
    }

    #[tokio::test]
    async fn pairing_shows_codes_until_paired() {
        let network = SimulatorNetwork::new();
        let (events_sender, mut events) = mpsc::channel(8);
        let transport = network.attach(NUMBER, events_sender);
        network
            .change_script(
                NUMBER,
                &SimulatorScriptChange {
                    require_pairing: Some(true),
                    ..SimulatorScriptChange::default()
                },
            )
            .unwrap();
        assert!(matches!(
            transport.connect().await,
            Ok(ConnectOutcome::Pending { .. })
        ));
        assert!(matches!(
            events.recv().await,
            Some(TransportEvent::QrCode { .. })
        ));
        assert!(matches!(
            events.recv().await,
            Some(TransportEvent::PairCode { ref code, .. }) if code == "50100001"
        ));
        network.pair(NUMBER, None).await.unwrap();
        assert!(matches!(
            events.recv().await,
            Some(TransportEvent::Paired { .. })
        ));
        assert!(matches!(
            events.recv().await,
            Some(TransportEvent::Connected)
        ));
        assert!(network.pair(NUMBER, None).await.is_err());
        transport.disconnect().await.unwrap();
        assert_eq!(
            transport.connect().await,
            Ok(ConnectOutcome::Connected),
            "a paired line connects at once"
        );
    }

    #[tokio::test]
    async fn a_temporary_ban_refuses_connects_until_it_ends() {
        let network = SimulatorNetwork::new();
        let (events_sender, mut events) = mpsc::channel(8);
        let transport = network.attach(NUMBER, events_sender);
        transport.connect().await.unwrap();
        network
            .emit(
                NUMBER,
                SimulatedConnectionEvent::TemporaryBan {
                    expires_in_ms: 100,
                    code: None,
                },
            )
            .await
            .unwrap();
        assert!(matches!(
            events.recv().await,
            Some(TransportEvent::TemporaryBan {
                expires_in_ms: 100,
                ..
            })
        ));
        assert!(transport.connect().await.is_err());
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(transport.connect().await, Ok(ConnectOutcome::Connected));
    }
}
