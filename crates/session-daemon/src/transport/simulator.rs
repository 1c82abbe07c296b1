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
//! Transcripts live in memory only and survive session restarts, not daemon
//! restarts: the `messages` table is the durable truth.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{
    ConnectOutcome, InboundDelivery, InboundMessage, Transport, TransportError, TransportEvent,
    TransportKind,
};
use crate::phone::contact_wa_id_from_phone;

/// How long a simulated contact waits for the daemon to store its message.
pub const STORE_ACKNOWLEDGEMENT_TIMEOUT: Duration = Duration::from_secs(15);

/// The prefix of the message ids the simulator makes up.
pub const SIMULATED_MESSAGE_ID_PREFIX: &str = "SIM-";

/// Which way a transcript entry went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TranscriptDirection {
    /// The contact wrote to the number.
    ToNumber,
    /// The number (the bot) wrote to the contact.
    ToContact,
}

/// One message between a simulated contact and a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TranscriptEntry {
    /// The position of the entry in its conversation, from 1.
    pub seq: u64,
    /// Which way the message went.
    pub direction: TranscriptDirection,
    /// The message text.
    pub text: String,
    /// WhatsApp's id of the message.
    pub wa_message_id: String,
    /// When the message was sent, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// A message a simulated contact writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedMessage {
    /// The number written to, in E.164 form.
    pub to: String,
    /// The contact's own number, in E.164 form.
    pub from: String,
    /// The contact's display name.
    pub name: Option<String>,
    /// The text.
    pub text: String,
    /// The WhatsApp message id to use; the simulator makes one up when absent.
    pub message_id: Option<String>,
}

/// What became of a simulated contact's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimulatedSendOutcome {
    /// WhatsApp's id of the message.
    pub wa_message_id: String,
    /// Whether the daemon had already stored a message with that id.
    pub duplicate: bool,
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

    /// The daemon could not store the message.
    #[error("the daemon could not store the message: {reason}")]
    StoreFailed {
        /// Why it could not.
        reason: String,
    },

    /// The daemon did not say in time whether it stored the message.
    #[error("the daemon did not store the message within {} s", .0.as_secs())]
    StoreTimedOut(Duration),
}

/// The simulated WhatsApp: every simulated number's line and transcripts.
#[derive(Debug, Default)]
pub struct SimulatorNetwork {
    lines: Mutex<HashMap<String, Arc<SimulatorLine>>>,
}

/// One number's line on the simulated network.
#[derive(Debug)]
struct SimulatorLine {
    phone_number: String,
    connected: AtomicBool,
    events: Mutex<Option<mpsc::Sender<TransportEvent>>>,
    conversations: Mutex<HashMap<String, Vec<TranscriptEntry>>>,
}

impl SimulatorLine {
    fn record(
        &self,
        contact_wa_id: &str,
        direction: TranscriptDirection,
        text: &str,
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
            text: text.to_owned(),
            wa_message_id: wa_message_id.to_owned(),
            at_ms: milliseconds_since_epoch(),
        });
        true
    }
}

impl SimulatorNetwork {
    /// Creates an empty network.
    pub fn new() -> Arc<Self> {
        Arc::new(SimulatorNetwork::default())
    }

    /// Gives `phone_number` a line on the network and returns the transport
    /// that drives it. The line starts disconnected. When the number already
    /// had a line, its transcripts are kept and its events go to `events`
    /// from now on.
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
                    events: Mutex::new(None),
                    conversations: Mutex::new(HashMap::new()),
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
        let events = lock(&line.events)
            .clone()
            .ok_or_else(|| SimulatorError::NotConnected {
                phone_number: message.to.clone(),
            })?;

        let wa_message_id = message
            .message_id
            .unwrap_or_else(|| format!("{SIMULATED_MESSAGE_ID_PREFIX}{}", Uuid::new_v4()));
        let contact_wa_id = contact_wa_id_from_phone(&message.from);
        line.record(
            &contact_wa_id,
            TranscriptDirection::ToNumber,
            &message.text,
            &wa_message_id,
        );

        let (acknowledgement, stored) = oneshot::channel();
        let delivery = InboundDelivery {
            message: InboundMessage {
                contact_wa_id,
                contact_name: message.name,
                wa_message_id: wa_message_id.clone(),
                text: message.text,
            },
            acknowledgement: Some(acknowledgement),
        };
        events
            .send(TransportEvent::Inbound(delivery))
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

    fn line(&self, phone_number: &str) -> Result<Arc<SimulatorLine>, SimulatorError> {
        lock(&self.lines)
            .get(phone_number)
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

impl Transport for SimulatorTransport {
    fn kind(&self) -> TransportKind {
        TransportKind::Simulator
    }

    fn connect(&self) -> BoxFuture<'_, Result<ConnectOutcome, TransportError>> {
        Box::pin(async move {
            self.line.connected.store(true, Ordering::SeqCst);
            Ok(ConnectOutcome::Connected)
        })
    }

    fn send_text<'a>(
        &'a self,
        contact_wa_id: &'a str,
        text: &'a str,
    ) -> BoxFuture<'a, Result<String, TransportError>> {
        Box::pin(async move {
            if !self.line.connected.load(Ordering::SeqCst) {
                return Err(TransportError::NotConnected);
            }
            let wa_message_id = format!("{SIMULATED_MESSAGE_ID_PREFIX}{}", Uuid::new_v4());
            self.line.record(
                &contact_wa_id_from_phone(contact_wa_id),
                TranscriptDirection::ToContact,
                text,
                &wa_message_id,
            );
            tracing::debug!(
                number = %self.line.phone_number,
                contact = %contact_wa_id,
                %wa_message_id,
                "simulator delivered a message to the contact"
            );
            Ok(wa_message_id)
        })
    }

    fn disconnect(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            self.line.connected.store(false, Ordering::SeqCst);
            Ok(())
        })
    }
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
            to: NUMBER.to_owned(),
            from: CONTACT.to_owned(),
            name: Some("Ada".to_owned()),
            text: text.to_owned(),
            message_id: message_id.map(str::to_owned),
        }
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

        let reply_id = transport.send_text("15550199999", "Hi Ada!").await.unwrap();
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
            transport.send_text("15550199999", "x").await,
            Err(TransportError::NotConnected)
        );
    }

    #[tokio::test]
    async fn transcripts_survive_a_restart_but_not_a_detach() {
        let network = SimulatorNetwork::new();
        let (events_sender, _events) = mpsc::channel(8);
        let transport = network.attach(NUMBER, events_sender);
        transport.connect().await.unwrap();
        transport.send_text("15550199999", "hello").await.unwrap();
        transport.disconnect().await.unwrap();
        transport.connect().await.unwrap();
        assert_eq!(network.transcript(NUMBER, CONTACT, 0).unwrap().len(), 1);

        network.detach(NUMBER);
        assert!(network.transcript(NUMBER, CONTACT, 0).is_err());
    }
}
