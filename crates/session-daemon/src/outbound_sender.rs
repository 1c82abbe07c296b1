//! The outbound sender: claims queued outbound messages and sends them.
//!
//! Messages of the numbers whose session is connected are claimed in one
//! statement (`FOR UPDATE SKIP LOCKED`, a 30-second lease in
//! `claimed_until`) and come back in sending order. They are sent one by one
//! through their number's transport. A sent message records WhatsApp's id; a
//! failed one goes back to `queued` with its error, or to `failed` after five
//! attempts. When a message to a contact fails, the contact's later messages
//! in the batch are given back unsent, so one contact's messages never
//! overtake each other.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use uuid::Uuid;

use crate::backoff::outbound_message_has_failed;
use crate::database::{DatabaseError, DatabasePool};
use crate::sessions::{SessionRegistry, SessionState};
use crate::store::{self, CLAIM_BATCH_SIZE};

/// Sends the queued outbound messages of the held sessions.
#[derive(Debug, Clone)]
pub struct OutboundSender {
    pool: DatabasePool,
    registry: Arc<SessionRegistry>,
    instance_id: String,
}

impl OutboundSender {
    /// Creates a sender that leases messages to `instance_id`.
    pub fn new(pool: DatabasePool, registry: Arc<SessionRegistry>, instance_id: String) -> Self {
        OutboundSender {
            pool,
            registry,
            instance_id,
        }
    }

    /// Sends queued messages whenever `wakeup` is notified and at least every
    /// `poll_interval`, until `shutdown` turns true.
    pub async fn run(
        self,
        poll_interval: Duration,
        wakeup: Arc<Notify>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut n_consecutive_failures: u32 = 0;
        loop {
            loop {
                match self.send_queued_messages().await {
                    Ok(n_sent) => {
                        n_consecutive_failures = 0;
                        // A full batch sent means more may be waiting; a
                        // failure or a short batch waits for the next wake-up.
                        if n_sent < usize::try_from(CLAIM_BATCH_SIZE).unwrap_or(usize::MAX) {
                            break;
                        }
                    }
                    Err(error) => {
                        if n_consecutive_failures % 30 == 0 {
                            tracing::warn!("could not send queued messages: {error}");
                        }
                        n_consecutive_failures = n_consecutive_failures.saturating_add(1);
                        break;
                    }
                }
                if *shutdown.borrow() {
                    return;
                }
            }
            tokio::select! {
                _ = wakeup.notified() => {}
                _ = tokio::time::sleep(poll_interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Claims one batch of queued messages and sends them; returns how many
    /// were sent.
    pub async fn send_queued_messages(&self) -> Result<usize, DatabaseError> {
        let number_ids = self.registry.connected_number_ids();
        if number_ids.is_empty() {
            return Ok(0);
        }
        let client = self.pool.get().await?;
        let messages =
            store::claim_queued_outbound_messages(&client, &self.instance_id, &number_ids).await?;
        let mut n_sent = 0;

        let mut held_back_contacts: HashSet<(Uuid, String)> = HashSet::new();
        let mut given_back: Vec<Uuid> = Vec::new();
        for message in messages {
            let contact = (message.number_id, message.contact_wa_id.clone());
            if held_back_contacts.contains(&contact) {
                given_back.push(message.message_id);
                continue;
            }
            let session = self
                .registry
                .session(message.number_id)
                .filter(|session| session.state() == SessionState::Connected);
            let Some(session) = session else {
                held_back_contacts.insert(contact);
                given_back.push(message.message_id);
                continue;
            };
            match session
                .transport()
                .send_text(&message.contact_wa_id, &message.body)
                .await
            {
                Ok(wa_message_id) => {
                    store::mark_outbound_sent(&client, message.message_id, &wa_message_id).await?;
                    n_sent += 1;
                    tracing::info!(
                        number = %session.phone_number,
                        contact = %message.contact_wa_id,
                        message_id = %message.message_id,
                        %wa_message_id,
                        "sent a message"
                    );
                }
                Err(error) => {
                    let give_up = outbound_message_has_failed(message.attempts);
                    let error_text = error.to_string();
                    store::mark_outbound_send_failed(
                        &client,
                        message.message_id,
                        &error_text,
                        give_up,
                    )
                    .await?;
                    if give_up {
                        tracing::error!(message_id = %message.message_id, attempts = message.attempts, "gave up sending a message: {error_text}");
                    } else {
                        tracing::warn!(message_id = %message.message_id, attempts = message.attempts, "could not send a message: {error_text}");
                        held_back_contacts.insert(contact);
                    }
                }
            }
        }
        if !given_back.is_empty() {
            store::release_outbound_messages(&client, &given_back, &self.instance_id).await?;
        }
        Ok(n_sent)
    }
}
