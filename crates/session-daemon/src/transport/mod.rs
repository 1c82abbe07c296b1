//! The [`Transport`] trait every WhatsApp transport implements, and its
//! events.
//!
//! A transport is one number's connection to WhatsApp. The daemon drives it
//! with three calls (connect, send a text, disconnect) and learns everything
//! else from [`TransportEvent`]s the transport pushes into the channel it was
//! built with: the connection coming up or dropping on its own, a logout,
//! inbound messages and delivery receipts.
//!
//! Three transports are planned: WhatsApp Web multi-device (a QR or pairing
//! code links the session, so [`Transport::connect`] may answer
//! [`ConnectOutcome::Pending`] and report [`TransportEvent::Connected`] later),
//! the Cloud API (stateless HTTP, connected at once) and the
//! [`simulator::SimulatorTransport`] that exists today.
//!
//! Inbound messages carry an optional acknowledgement: the transport learns
//! whether the message was stored (and whether it was a redelivery) before it
//! acknowledges it to WhatsApp, so a crash between receipt and storage makes
//! WhatsApp deliver the message again instead of losing it.

pub mod simulator;

use futures_util::future::BoxFuture;
use tokio::sync::oneshot;
use uuid::Uuid;

/// The kind of a transport, as written in `numbers.transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The in-process simulator.
    Simulator,
    /// WhatsApp Web multi-device.
    Web,
    /// The WhatsApp Business Cloud API.
    Cloud,
}

impl TransportKind {
    /// Returns the kind as written in `numbers.transport`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Simulator => "simulator",
            TransportKind::Web => "web",
            TransportKind::Cloud => "cloud",
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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The session is not connected, so it cannot send.
    #[error("the session is not connected")]
    NotConnected,

    /// WhatsApp refused to send because the number is sending too fast.
    #[error("rate limited by whatsapp: {reason}")]
    RateLimited {
        /// WhatsApp's explanation.
        reason: String,
    },

    /// WhatsApp refused the message (bad recipient, banned number, …).
    #[error("whatsapp refused the message: {reason}")]
    Rejected {
        /// WhatsApp's explanation.
        reason: String,
    },

    /// The connection failed.
    #[error("transport failure: {reason}")]
    Failed {
        /// What went wrong.
        reason: String,
    },
}

/// A message a contact sent to the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// The contact's WhatsApp id (E.164 digits without the plus sign).
    pub contact_wa_id: String,
    /// The contact's display name, when WhatsApp gives one.
    pub contact_name: Option<String>,
    /// WhatsApp's id of the message, unique per number.
    pub wa_message_id: String,
    /// The message text.
    pub text: String,
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
    /// The message reached the contact's phone.
    Delivered,
    /// The contact read the message.
    Read,
    /// WhatsApp gave up delivering the message.
    Failed,
}

impl ReceiptStatus {
    /// Returns the `messages.status` this receipt moves a message to.
    pub fn as_message_status(self) -> &'static str {
        match self {
            ReceiptStatus::Delivered => "delivered",
            ReceiptStatus::Read => "read",
            ReceiptStatus::Failed => "failed",
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
}

/// Something that happened on a transport, reported to the daemon.
#[derive(Debug)]
pub enum TransportEvent {
    /// The connection came up on its own (after pairing or a reconnect).
    Connected,
    /// The connection dropped; the transport may reconnect by itself.
    Disconnected {
        /// Why it dropped.
        reason: String,
    },
    /// WhatsApp logged the session out; it must be paired again.
    LoggedOut {
        /// Why WhatsApp logged it out.
        reason: String,
    },
    /// A contact sent a message.
    Inbound(InboundDelivery),
    /// A sent message was delivered, read or failed.
    Receipt(DeliveryReceipt),
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

    /// Sends a text message to a contact and returns WhatsApp's id for it.
    fn send_text<'a>(
        &'a self,
        contact_wa_id: &'a str,
        text: &'a str,
    ) -> BoxFuture<'a, Result<String, TransportError>>;

    /// Disconnects the session, keeping its credentials for the next connect.
    fn disconnect(&self) -> BoxFuture<'_, Result<(), TransportError>>;
}
