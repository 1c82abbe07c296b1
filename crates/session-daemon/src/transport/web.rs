//! The WhatsApp Web multi-device transport, through the `whatsapp-rust`
//! crate (pinned at 0.7.0; built with the cargo feature `whatsapp-web`).
//!
//! # Credentials and pairing
//!
//! Each number keeps its device keys in a SQLite file of its own,
//! `<WABOT_SESSION_STORAGE_PATH>/<number id>/whatsapp.db`. A number without
//! keys pairs on connect: the crate shows a QR code (rotating) and, since the
//! number's phone is known, requests a pair code too; both reach the daemon
//! as [`TransportEvent::QrCode`] and [`TransportEvent::PairCode`] and are
//! shown by `GET /numbers/{id}/session` (and written as `qr_shown` /
//! `pair_code_shown` connection events for the admin API). When WhatsApp
//! logs the device out, [`Transport::forget_credentials`] deletes the
//! folder, so the next start pairs afresh.
//!
//! # Inbound durability
//!
//! The crate acknowledges a message to WhatsApp only after the
//! [`WebInboundHook`] returns `Ok`, and the hook returns only after the
//! batch is committed to Postgres ([`WebInboundHook::commit`]): a crash
//! before the commit leaves the message in WhatsApp's offline queue, and it
//! is delivered again on the next connect (the insert is idempotent on the
//! number and the message id). The sender is stored in both forms: the
//! phone-based id and the LID, linked in `contacts`.
//!
//! # Reconnects
//!
//! The crate's own reconnect loop is switched off
//! (`Client::enable_auto_reconnect`): the daemon reconnects under the core's
//! reconnect policy, which knows not to fight a replaced stream or retry an
//! outdated client, and a connect builds a fresh client from the stored
//! keys.
//!
//! # Events
//!
//! [`map_event`] turns the crate's [`Event`]s into transport events; the
//! table is in its documentation. It is a pure function, tested with the
//! crate's public event types (its upstream mock server is not public, so
//! pairing itself cannot be exercised here).

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;
use whatsapp_rust::bot::{Bot, BotHandle, EventDelivery};
use whatsapp_rust::pair_code::PairCodeOptions;
use whatsapp_rust::store::SqliteStore;
use whatsapp_rust::types::events::{ConnectFailureReason, Event, InboundMessage as WebInbound};
use whatsapp_rust::types::presence::ReceiptType;
use whatsapp_rust::wacore::net::DisconnectReason;
use whatsapp_rust::wacore_binary::JidExt;
use whatsapp_rust::{Client, InboundDurabilityHook, Jid, SendError, Server, UploadOptions};

use super::web_content::{content_from_web, media_message, plan_outbound, WebOutbound};
use super::{
    ConnectOutcome, DeliveryReceipt, InboundMessage, Outgoing, ReceiptStatus, Transport,
    TransportError, TransportEvent, TransportKind,
};
use crate::database::{DatabaseError, DatabasePool};
use crate::phone::contact_wa_id_from_phone;
use crate::store;

/// The file of a number's device keys, inside its folder.
pub const CREDENTIALS_FILE_NAME: &str = "whatsapp.db";

/// How many crate events may wait for the daemon, in order, before the
/// crate drops one (inbound messages never are: they go through the hook).
const EVENT_MAILBOX_CAPACITY: usize = 256;

/// How long a temporary ban without a stated end is assumed to last.
const UNKNOWN_BAN_DURATION_MS: i64 = 3_600_000;

/// The inbound durability hook: commits each batch to Postgres before the
/// crate acknowledges it to WhatsApp.
pub struct WebInboundHook {
    pool: DatabasePool,
    number_id: Uuid,
    events: mpsc::Sender<TransportEvent>,
}

impl WebInboundHook {
    /// Creates the hook of one number; `events` hears how many messages each
    /// commit stored.
    pub fn new(pool: DatabasePool, number_id: Uuid, events: mpsc::Sender<TransportEvent>) -> Self {
        WebInboundHook {
            pool,
            number_id,
            events,
        }
    }

    /// Stores a batch in one transaction (idempotent on the number and the
    /// message id, so a redelivery is a no-op) and returns how many of its
    /// messages are for the daemon (1:1 messages from contacts). Returns
    /// only after the commit; an error means nothing was stored and the
    /// batch must not be acknowledged.
    pub async fn commit(&self, batch: &[WebInbound]) -> Result<usize, DatabaseError> {
        let messages: Vec<InboundMessage> = batch.iter().filter_map(inbound_from_web).collect();
        if messages.is_empty() {
            return Ok(0);
        }
        let mut client = self.pool.get().await?;
        let stored = store::store_inbound_messages(&mut client, self.number_id, &messages).await?;
        let _ = self.events.try_send(TransportEvent::InboundCommitted {
            n_messages: stored.len(),
        });
        Ok(stored.len())
    }
}

#[whatsapp_rust::async_trait]
impl InboundDurabilityHook for WebInboundHook {
    async fn on_messages(
        &self,
        _client: Arc<Client>,
        batch: &[WebInbound],
    ) -> whatsapp_rust::anyhow::Result<()> {
        match self.commit(batch).await {
            Ok(_) => Ok(()),
            Err(error) => {
                tracing::warn!(number_id = %self.number_id, "could not store an inbound batch; whatsapp will deliver it again: {error}");
                Err(whatsapp_rust::anyhow::anyhow!(error.to_string()))
            }
        }
    }
}

/// Turns one of the crate's inbound messages into the daemon's, or `None`
/// for what the daemon does not handle: the account's own messages, groups,
/// status updates and newsletters.
///
/// The contact is keyed by its phone-based id when WhatsApp gives one (the
/// sender or its `sender_alt`), otherwise by its LID; both forms are kept.
pub fn inbound_from_web(inbound: &WebInbound) -> Option<InboundMessage> {
    let info = &inbound.info;
    let source = &info.source;
    if source.is_from_me
        || source.is_group
        || source.chat.is_group()
        || source.chat.is_status_broadcast()
        || source.chat.is_newsletter()
    {
        return None;
    }
    let identities = [Some(&source.sender), source.sender_alt.as_ref()];
    let phone_wa_id = identities
        .iter()
        .flatten()
        .find(|jid| jid.is_pn())
        .map(|jid| jid.user.to_string());
    let lid = identities
        .iter()
        .flatten()
        .find(|jid| jid.is_lid())
        .map(|jid| format!("{}@lid", jid.user));
    let contact_wa_id = phone_wa_id.clone().or_else(|| lid.clone())?;
    let message = &inbound.message;
    let web_content = content_from_web(message);
    let contact_name = Some(info.push_name.trim().to_owned()).filter(|name| !name.is_empty());
    let mut payload = json!({
        "chat": source.chat.to_string(),
        "sender": source.sender.to_string(),
        "sender_alt": source.sender_alt.as_ref().map(ToString::to_string),
        "timestamp": info.timestamp.timestamp(),
        "offline": info.is_offline,
    });
    // What the media download needs (docs/daemon.md#media-storage).
    if let Some(media) = super::web_media::WebMediaParams::from_message(message) {
        payload[super::web_media::WEB_MEDIA_PAYLOAD_KEY] = media.to_json();
    }
    Some(InboundMessage {
        contact_wa_id,
        contact_phone_wa_id: phone_wa_id,
        contact_lid: lid,
        contact_name,
        wa_message_id: info.id.clone(),
        content: web_content.content,
        context_wa_message_id: web_content.context_wa_message_id,
        payload: {
            if let (Some(fields), Some(raw)) = (payload.as_object_mut(), web_content.raw) {
                fields.insert("unsupported".to_owned(), serde_json::Value::Bool(true));
                fields.insert("raw".to_owned(), raw);
            }
            payload
        },
    })
}

/// Describes why WhatsApp refused or ended a connection.
fn describe_failure(reason: &ConnectFailureReason) -> String {
    let what = match reason {
        ConnectFailureReason::Generic => "generic failure",
        ConnectFailureReason::LoggedOut => "logged out",
        ConnectFailureReason::TempBanned => "temporarily banned",
        ConnectFailureReason::AccountLocked => "account locked",
        ConnectFailureReason::UnknownLogout => "logged out for an unknown reason",
        ConnectFailureReason::ClientOutdated => "client outdated",
        ConnectFailureReason::BadUserAgent => "bad user agent",
        ConnectFailureReason::CatExpired => "client authentication token expired",
        ConnectFailureReason::CatInvalid => "client authentication token invalid",
        ConnectFailureReason::NotFound => "not found",
        ConnectFailureReason::ClientUnknown => "client unknown",
        ConnectFailureReason::InternalServerError => "internal server error",
        ConnectFailureReason::Experimental => "experimental",
        ConnectFailureReason::ServiceUnavailable => "service unavailable",
        ConnectFailureReason::Unknown(_) => "unknown failure",
    };
    what.to_owned()
}

/// Maps one of the crate's events onto the daemon's transport events:
///
/// | crate event | transport event |
/// |---|---|
/// | `Connected` | `Connected` |
/// | `Disconnected` (with the close code, if any) | `Disconnected` |
/// | `StreamError` (such as 515, restart required) | `Disconnected` with the code |
/// | `PairingQrCode`, `PairingCode` | `QrCode`, `PairCode` |
/// | `PairSuccess` | `Paired` with the phone id and the LID |
/// | `PairError`, `PairingQrCodesExhausted` | `Disconnected` |
/// | `LoggedOut`, `ConnectFailure` with a logout reason (401, 403, 406) | `LoggedOut` with the code |
/// | `StreamReplaced` | `StreamReplaced` |
/// | `TemporaryBan` (101–106), `ConnectFailure` 402 | `TemporaryBan` with its duration |
/// | `ClientOutdated`, `ConnectFailure` 405 | `ClientOutdated` |
/// | other `ConnectFailure`s | `Disconnected` with the code |
/// | `Receipt` delivered / read / played (one per message id) | `Receipt` |
/// | `ServerAck` of a message with an error code (463, 429, …) | `SendRejected` |
/// | anything else (messages go through the hook) | nothing |
pub fn map_event(event: &Event) -> Vec<TransportEvent> {
    let one = |event| vec![event];
    match event {
        Event::Connected(_) => one(TransportEvent::Connected),
        Event::Disconnected(disconnected) => {
            let code = match &disconnected.reason {
                DisconnectReason::ServerClose { code, .. } => code.map(|code| code.to_string()),
                _ => None,
            };
            one(TransportEvent::Disconnected {
                reason: disconnected.reason.to_string(),
                code,
            })
        }
        Event::StreamError(error) => one(TransportEvent::Disconnected {
            reason: format!("stream error {}", error.code),
            code: Some(error.code.clone()),
        }),
        Event::PairingQrCode(qr) => one(TransportEvent::QrCode {
            code: qr.code.clone(),
            expires_in_ms: i64::try_from(qr.timeout.as_millis()).unwrap_or(i64::MAX),
        }),
        Event::PairingCode(code) => one(TransportEvent::PairCode {
            code: code.code.clone(),
            expires_in_ms: i64::try_from(code.timeout.as_millis()).unwrap_or(i64::MAX),
        }),
        Event::PairSuccess(success) => one(TransportEvent::Paired {
            phone_wa_id: Some(success.id.user.to_string()),
            lid: Some(format!("{}@lid", success.lid.user)),
        }),
        Event::PairError(error) => one(TransportEvent::Disconnected {
            reason: format!("pairing failed: {}", error.error),
            code: None,
        }),
        Event::PairingQrCodesExhausted(_) => one(TransportEvent::Disconnected {
            reason: "pairing timed out: every qr code expired unscanned".to_owned(),
            code: None,
        }),
        Event::LoggedOut(logged_out) => one(TransportEvent::LoggedOut {
            reason: describe_failure(&logged_out.reason),
            code: Some(logged_out.reason.code().to_string()),
        }),
        Event::StreamReplaced(_) => one(TransportEvent::StreamReplaced),
        Event::TemporaryBan(ban) => one(TransportEvent::TemporaryBan {
            code: Some(ban.code.code().to_string()),
            reason: ban.code.to_string(),
            expires_in_ms: ban.expire.num_milliseconds(),
        }),
        Event::ClientOutdated(_) => one(TransportEvent::ClientOutdated {
            reason: "whatsapp refused the client as outdated (405)".to_owned(),
        }),
        Event::ConnectFailure(failure) => {
            let code = failure.reason.code().to_string();
            let mut reason = describe_failure(&failure.reason);
            if let Some(message) = &failure.message {
                reason.push_str(": ");
                reason.push_str(message);
            }
            if failure.reason.is_logged_out() {
                one(TransportEvent::LoggedOut {
                    reason,
                    code: Some(code),
                })
            } else if failure.reason == ConnectFailureReason::TempBanned {
                one(TransportEvent::TemporaryBan {
                    code: Some(code),
                    reason,
                    expires_in_ms: UNKNOWN_BAN_DURATION_MS,
                })
            } else if failure.reason == ConnectFailureReason::ClientOutdated {
                one(TransportEvent::ClientOutdated { reason })
            } else {
                one(TransportEvent::Disconnected {
                    reason,
                    code: Some(code),
                })
            }
        }
        Event::Receipt(receipt) => {
            let status = match receipt.r#type {
                ReceiptType::Delivered => ReceiptStatus::Delivered,
                ReceiptType::Read | ReceiptType::Played => ReceiptStatus::Read,
                _ => return Vec::new(),
            };
            receipt
                .message_ids
                .iter()
                .map(|wa_message_id| {
                    TransportEvent::Receipt(DeliveryReceipt {
                        wa_message_id: wa_message_id.clone(),
                        status,
                        error: None,
                    })
                })
                .collect()
        }
        Event::ServerAck(ack) => match (&ack.class, &ack.error) {
            (Some(class), Some(code)) if class == "message" => one(TransportEvent::SendRejected {
                wa_message_id: ack.id.clone(),
                code: code.clone(),
                rate_limited: matches!(code.as_str(), "463" | "429"),
            }),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Returns the JID to send to for a contact id as the daemon stores it
/// (`<digits>`, `+<digits>`, `<digits>@s.whatsapp.net` or `<digits>@lid`).
pub fn contact_jid(contact_wa_id: &str) -> Jid {
    let id = contact_wa_id.trim();
    if let Some(lid) = id.strip_suffix("@lid") {
        return Jid::new(lid, Server::Lid);
    }
    let digits = id.strip_suffix("@s.whatsapp.net").unwrap_or(id);
    Jid::pn(contact_wa_id_from_phone(digits))
}

/// What the Web transports of one daemon share.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// `WABOT_SESSION_STORAGE_PATH`.
    pub storage_path: PathBuf,
}

/// One WhatsApp Web number.
pub struct WebTransport {
    number_id: Uuid,
    phone_number: String,
    directory: PathBuf,
    pool: DatabasePool,
    events: mpsc::Sender<TransportEvent>,
    running: tokio::sync::Mutex<Option<BotHandle>>,
    client: Mutex<Option<Arc<Client>>>,
}

impl std::fmt::Debug for WebTransport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WebTransport")
            .field("number_id", &self.number_id)
            .field("phone_number", &self.phone_number)
            .field("directory", &self.directory)
            .finish_non_exhaustive()
    }
}

impl WebTransport {
    /// Creates the transport of a number; nothing happens until connect.
    pub fn new(
        settings: &WebSettings,
        pool: DatabasePool,
        number_id: Uuid,
        phone_number: String,
        events: mpsc::Sender<TransportEvent>,
    ) -> Self {
        WebTransport {
            directory: settings.storage_path.join(number_id.to_string()),
            number_id,
            phone_number,
            pool,
            events,
            running: tokio::sync::Mutex::new(None),
            client: Mutex::new(None),
        }
    }

    fn client(&self) -> Option<Arc<Client>> {
        self.client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn start(&self) -> Result<ConnectOutcome, TransportError> {
        let mut running = self.running.lock().await;
        if let Some(handle) = running.take() {
            if handle.client().is_connected() {
                *running = Some(handle);
                return Ok(ConnectOutcome::Connected);
            }
            handle.shutdown().await;
        }
        std::fs::create_dir_all(&self.directory).map_err(|error| TransportError::Failed {
            reason: format!(
                "could not create the session folder {}: {error}",
                self.directory.display()
            ),
        })?;
        let database = self.directory.join(CREDENTIALS_FILE_NAME);
        let store = SqliteStore::new(&database.to_string_lossy())
            .await
            .map_err(|error| TransportError::Failed {
                reason: format!("could not open {}: {error}", database.display()),
            })?;
        let events = self.events.clone();
        let bot = Bot::builder()
            .with_backend(store)
            .with_inbound_durability_hook(WebInboundHook::new(
                self.pool.clone(),
                self.number_id,
                self.events.clone(),
            ))
            .with_event_delivery(EventDelivery::Ordered {
                capacity: EVENT_MAILBOX_CAPACITY,
            })
            .skip_history_sync()
            .with_pair_code(PairCodeOptions {
                phone_number: contact_wa_id_from_phone(&self.phone_number),
                ..PairCodeOptions::default()
            })
            .on_event(move |event, _client| {
                let events = events.clone();
                async move {
                    for mapped in map_event(&event) {
                        if events.send(mapped).await.is_err() {
                            return;
                        }
                    }
                }
            })
            .build()
            .await
            .map_err(|error| TransportError::Failed {
                reason: format!("could not build the whatsapp web client: {error}"),
            })?;
        let client = bot.client();
        // The daemon reconnects under the core's policy, not the crate's.
        client.enable_auto_reconnect.store(false, Ordering::Relaxed);
        *self.client.lock().unwrap_or_else(PoisonError::into_inner) = Some(client);
        *running = Some(bot.spawn());
        Ok(ConnectOutcome::Pending {
            reason: "connecting to whatsapp web".to_owned(),
        })
    }

    async fn stop(&self) {
        let handle = self.running.lock().await.take();
        *self.client.lock().unwrap_or_else(PoisonError::into_inner) = None;
        if let Some(handle) = handle {
            handle.shutdown().await;
        }
    }

    async fn send(&self, outgoing: &Outgoing) -> Result<String, TransportError> {
        let client = self.client().ok_or(TransportError::NotConnected)?;
        if !client.is_connected() {
            return Err(TransportError::NotConnected);
        }
        let jid = contact_jid(&outgoing.contact_wa_id);
        let chat = jid.to_string();
        let message = match plan_outbound(outgoing, &chat, crate::sessions::now_ms())? {
            WebOutbound::Message(message) => *message,
            WebOutbound::Upload { media_type, bytes } => {
                // Nothing has reached the contact yet: an upload failure is
                // retried, never ambiguous.
                let upload = client
                    .upload(bytes.to_vec(), media_type, UploadOptions::default())
                    .await
                    .map_err(|error| TransportError::Failed {
                        reason: format!(
                            "uploading the {} to whatsapp failed: {error:#}",
                            outgoing.content.kind()
                        ),
                    })?;
                media_message(outgoing, upload.into(), &chat)?
            }
        };
        match client.send_message(jid, message).await {
            Ok(sent) => Ok(sent.message_id),
            Err(SendError::NotLoggedIn) => Err(TransportError::NotConnected),
            Err(SendError::InvalidRequest(reason)) => Err(TransportError::Rejected { reason }),
            Err(error) => Err(TransportError::Failed {
                reason: error.to_string(),
            }),
        }
    }
}

impl Transport for WebTransport {
    fn kind(&self) -> TransportKind {
        TransportKind::Web
    }

    fn connect(&self) -> BoxFuture<'_, Result<ConnectOutcome, TransportError>> {
        Box::pin(self.start())
    }

    fn send<'a>(&'a self, outgoing: &'a Outgoing) -> BoxFuture<'a, Result<String, TransportError>> {
        Box::pin(WebTransport::send(self, outgoing))
    }

    fn download_inbound_media<'a>(
        &'a self,
        media: &'a super::Media,
        payload: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<super::DownloadedMedia, TransportError>> {
        Box::pin(async move {
            use super::web_media::{classify_download_error, WebMediaParams};
            let params = WebMediaParams::from_payload(payload)
                .and_then(|params| Ok((params.download_params()?, params)))
                .map_err(|reason| TransportError::Rejected { reason });
            let (download, params) = params?;
            let client = self
                .client
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
                .ok_or(TransportError::NotConnected)?;
            let bytes = client
                .download_from_params(&download)
                .await
                .map_err(|error| classify_download_error(&error))?;
            Ok(super::DownloadedMedia {
                bytes: Arc::from(bytes),
                mime_type: params
                    .mime_type
                    .or_else(|| media.mime_type.clone())
                    .unwrap_or_default(),
            })
        })
    }

    fn disconnect(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            self.stop().await;
            Ok(())
        })
    }

    fn forget_credentials(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            self.stop().await;
            match std::fs::remove_dir_all(&self.directory) {
                Ok(()) => Ok(()),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(error) => Err(TransportError::Failed {
                    reason: format!(
                        "could not remove the session folder {}: {error}",
                        self.directory.display()
                    ),
                }),
            }
        })
    }

    fn log_out(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            // Sends WhatsApp the "remove companion device" request when the
            // client is connected (it logs and goes on otherwise), then
            // disconnects; the credentials go with forget_credentials.
            if let Some(client) = self.client() {
                client.logout().await;
            }
            self.forget_credentials().await
        })
    }

    fn is_alive(&self) -> bool {
        self.client().is_some_and(|client| client.is_connected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Content;
    use std::time::Duration;
    use whatsapp_rust::types::events::{
        ConnectFailure, Connected, Disconnected, LoggedOut, PairSuccess, PairingCode,
        PairingQrCode, Receipt, ServerAck, StreamError, StreamReplaced, TempBanReason,
        TemporaryBan,
    };
    use whatsapp_rust::types::message::{MessageInfo, MessageSource};
    use whatsapp_rust::wacore::proto_helpers::MessageBuilderExt;
    use whatsapp_rust::waproto::whatsapp as wa;

    fn jid(text: &str) -> Jid {
        text.parse().expect("a valid jid")
    }

    #[test]
    fn connection_events_map_onto_the_timeline() {
        assert!(matches!(
            map_event(&Event::Connected(Connected::builder().build()))[..],
            [TransportEvent::Connected]
        ));
        let dropped = map_event(&Event::Disconnected(
            Disconnected::builder()
                .reason(DisconnectReason::ServerClose {
                    code: Some(1006),
                    reason: String::new(),
                })
                .build(),
        ));
        assert!(
            matches!(&dropped[..], [TransportEvent::Disconnected { code: Some(code), .. }] if code == "1006")
        );
        let restart = map_event(&Event::StreamError(
            StreamError::builder().code("515".to_owned()).build(),
        ));
        assert!(
            matches!(&restart[..], [TransportEvent::Disconnected { code: Some(code), reason }] if code == "515" && reason.contains("515"))
        );
        assert!(matches!(
            map_event(&Event::StreamReplaced(StreamReplaced::builder().build()))[..],
            [TransportEvent::StreamReplaced]
        ));
    }

    #[test]
    fn logouts_bans_and_outdated_clients_are_told_apart() {
        let logged_out = map_event(&Event::LoggedOut(
            LoggedOut::builder()
                .on_connect(true)
                .reason(ConnectFailureReason::LoggedOut)
                .build(),
        ));
        assert!(
            matches!(&logged_out[..], [TransportEvent::LoggedOut { code: Some(code), .. }] if code == "401")
        );
        let locked = map_event(&Event::ConnectFailure(
            ConnectFailure::builder()
                .reason(ConnectFailureReason::AccountLocked)
                .build(),
        ));
        assert!(
            matches!(&locked[..], [TransportEvent::LoggedOut { code: Some(code), .. }] if code == "403")
        );
        let ban = map_event(&Event::TemporaryBan(
            TemporaryBan::builder()
                .code(TempBanReason::SentToTooManyPeople)
                .expire(whatsapp_rust::chrono::TimeDelta::seconds(3600))
                .build(),
        ));
        assert!(
            matches!(&ban[..], [TransportEvent::TemporaryBan { code: Some(code), expires_in_ms: 3_600_000, reason }] if code == "101" && reason.contains("too many"))
        );
        let banned_on_connect = map_event(&Event::ConnectFailure(
            ConnectFailure::builder()
                .reason(ConnectFailureReason::TempBanned)
                .build(),
        ));
        assert!(matches!(
            &banned_on_connect[..],
            [TransportEvent::TemporaryBan { .. }]
        ));
        let outdated = map_event(&Event::ConnectFailure(
            ConnectFailure::builder()
                .reason(ConnectFailureReason::ClientOutdated)
                .build(),
        ));
        assert!(matches!(
            &outdated[..],
            [TransportEvent::ClientOutdated { .. }]
        ));
        let unavailable = map_event(&Event::ConnectFailure(
            ConnectFailure::builder()
                .reason(ConnectFailureReason::ServiceUnavailable)
                .message("try later".to_owned())
                .build(),
        ));
        assert!(
            matches!(&unavailable[..], [TransportEvent::Disconnected { code: Some(code), reason }] if code == "503" && reason.ends_with("try later"))
        );
    }

    #[test]
    fn pairing_shows_codes_and_reports_both_identities() {
        let qr = map_event(&Event::PairingQrCode(
            PairingQrCode::builder()
                .code("2@abc".to_owned())
                .timeout(Duration::from_secs(20))
                .build(),
        ));
        assert!(
            matches!(&qr[..], [TransportEvent::QrCode { code, expires_in_ms: 20_000 }] if code == "2@abc")
        );
        let pair_code = map_event(&Event::PairingCode(
            PairingCode::builder()
                .code("ABCD-EFGH".to_owned())
                .timeout(Duration::from_secs(180))
                .build(),
        ));
        assert!(
            matches!(&pair_code[..], [TransportEvent::PairCode { code, .. }] if code == "ABCD-EFGH")
        );
        let paired = map_event(&Event::PairSuccess(
            PairSuccess::builder()
                .id(jid("15550100001@s.whatsapp.net"))
                .lid(jid("123456789012345@lid"))
                .business_name(String::new())
                .platform("android".to_owned())
                .build(),
        ));
        assert!(
            matches!(&paired[..], [TransportEvent::Paired { phone_wa_id: Some(phone), lid: Some(lid) }]
                if phone == "15550100001" && lid == "123456789012345@lid")
        );
    }

    #[test]
    fn receipts_and_nacks_reach_the_messages() {
        let receipt = map_event(&Event::Receipt(
            Receipt::builder()
                .source(MessageSource::default())
                .message_ids(vec!["3EB0A".to_owned(), "3EB0B".to_owned()])
                .timestamp(whatsapp_rust::chrono::Utc::now())
                .r#type(ReceiptType::Read)
                .offline(false)
                .build(),
        ));
        assert_eq!(receipt.len(), 2);
        assert!(
            matches!(&receipt[0], TransportEvent::Receipt(DeliveryReceipt { wa_message_id, status: ReceiptStatus::Read, .. }) if wa_message_id == "3EB0A")
        );
        let retry = map_event(&Event::Receipt(
            Receipt::builder()
                .source(MessageSource::default())
                .message_ids(vec!["3EB0A".to_owned()])
                .timestamp(whatsapp_rust::chrono::Utc::now())
                .r#type(ReceiptType::Retry)
                .offline(false)
                .build(),
        ));
        assert!(retry.is_empty(), "retry receipts are the crate's business");
        let nack = map_event(&Event::ServerAck(
            ServerAck::builder()
                .id("3EB0C".to_owned())
                .class("message".to_owned())
                .error("463".to_owned())
                .build(),
        ));
        assert!(
            matches!(&nack[..], [TransportEvent::SendRejected { wa_message_id, code, rate_limited: true }] if wa_message_id == "3EB0C" && code == "463")
        );
        let plain_ack = map_event(&Event::ServerAck(
            ServerAck::builder()
                .id("3EB0D".to_owned())
                .class("message".to_owned())
                .build(),
        ));
        assert!(plain_ack.is_empty());
    }

    fn inbound(source: MessageSource, push_name: &str, message: wa::Message) -> WebInbound {
        let info = MessageInfo {
            source,
            id: "3EB0F00D".to_owned(),
            push_name: push_name.to_owned(),
            ..MessageInfo::default()
        };
        WebInbound::builder()
            .message(Arc::new(message))
            .info(Arc::new(info))
            .build()
    }

    #[test]
    fn a_lid_addressed_message_keeps_the_phone_and_the_lid() {
        let source = MessageSource {
            chat: jid("123456789012345@lid"),
            sender: jid("123456789012345@lid"),
            sender_alt: Some(jid("15550199999@s.whatsapp.net")),
            ..MessageSource::default()
        };
        let message = inbound_from_web(&inbound(source, " Ada ", wa::Message::text("hi")))
            .expect("a message from a contact");
        assert_eq!(message.contact_wa_id, "15550199999");
        assert_eq!(message.contact_phone_wa_id.as_deref(), Some("15550199999"));
        assert_eq!(message.contact_lid.as_deref(), Some("123456789012345@lid"));
        assert_eq!(message.contact_name.as_deref(), Some("Ada"));
        assert_eq!(message.wa_message_id, "3EB0F00D");
        assert_eq!(
            (message.message_type(), message.body().as_str()),
            ("text", "hi")
        );
    }

    #[test]
    fn a_lid_only_sender_is_keyed_by_the_lid() {
        let source = MessageSource {
            chat: jid("123456789012345@lid"),
            sender: jid("123456789012345@lid"),
            ..MessageSource::default()
        };
        let message =
            inbound_from_web(&inbound(source, "", wa::Message::text("hi"))).expect("a message");
        assert_eq!(message.contact_wa_id, "123456789012345@lid");
        assert_eq!(message.contact_phone_wa_id, None);
        assert_eq!(message.contact_name, None);
        assert_eq!(
            contact_jid(&message.contact_wa_id).to_string(),
            "123456789012345@lid"
        );
        assert_eq!(
            contact_jid("+15550199999").to_string(),
            "15550199999@s.whatsapp.net"
        );
    }

    #[test]
    fn own_group_and_status_messages_are_not_for_the_daemon() {
        let own = MessageSource {
            chat: jid("15550199999@s.whatsapp.net"),
            sender: jid("15550100001@s.whatsapp.net"),
            is_from_me: true,
            ..MessageSource::default()
        };
        assert_eq!(
            inbound_from_web(&inbound(own, "", wa::Message::text("x"))),
            None
        );
        let group = MessageSource {
            chat: jid("120363025246125888@g.us"),
            sender: jid("15550199999@s.whatsapp.net"),
            is_group: true,
            ..MessageSource::default()
        };
        assert_eq!(
            inbound_from_web(&inbound(group, "", wa::Message::text("x"))),
            None
        );
        let status = MessageSource {
            chat: jid("status@broadcast"),
            sender: jid("15550199999@s.whatsapp.net"),
            ..MessageSource::default()
        };
        assert_eq!(
            inbound_from_web(&inbound(status, "", wa::Message::text("x"))),
            None
        );
    }

    #[test]
    fn media_keeps_its_type_and_caption() {
        let source = MessageSource {
            chat: jid("15550199999@s.whatsapp.net"),
            sender: jid("15550199999@s.whatsapp.net"),
            ..MessageSource::default()
        };
        let image = wa::Message {
            image_message: whatsapp_rust::waproto::buffa::MessageField::some(
                wa::message::ImageMessage {
                    caption: Some("look".to_owned()),
                    ..Default::default()
                },
            ),
            ..Default::default()
        };
        let message = inbound_from_web(&inbound(source.clone(), "", image)).expect("a message");
        assert_eq!(
            message.content,
            Content::Image(message_model::Media {
                caption: Some("look".to_owned()),
                ..Default::default()
            })
        );
        assert_eq!(
            message.payload.get("web_media"),
            None,
            "no CDN fields, no download"
        );
        let downloadable = wa::Message {
            image_message: whatsapp_rust::waproto::buffa::MessageField::some(
                wa::message::ImageMessage {
                    direct_path: Some("/v/t62.7118-24/1.enc".to_owned()),
                    media_key: Some(vec![1; 32]),
                    file_sha256: Some(vec![2; 32]),
                    file_enc_sha256: Some(vec![3; 32]),
                    file_length: Some(99),
                    mimetype: Some("image/jpeg".to_owned()),
                    ..Default::default()
                },
            ),
            ..Default::default()
        };
        let message = inbound_from_web(&inbound(source, "", downloadable)).expect("a message");
        assert_eq!(
            message.payload["web_media"]["direct_path"],
            "/v/t62.7118-24/1.enc"
        );
        assert_eq!(message.payload["web_media"]["file_length"], 99);
    }
}
