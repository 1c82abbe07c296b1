//! The outbound sender: claims queued outbound messages, paces them and
//! sends them.
//!
//! Each round:
//!
//! 1. Sends a crash interrupted are marked failed
//!    (`private.fail_interrupted_sends`, at most once a second).
//! 2. For each held, connected number with claimable messages, the pacing
//!    policy says how many may go now ([`crate::pacing`]); numbers paused
//!    after a rate-limit error, or whose bucket is empty, are skipped.
//! 3. That many messages per number are claimed in one statement
//!    (`FOR UPDATE SKIP LOCKED`, a 30-second lease), in sending order.
//! 4. The numbers' messages are sent concurrently across numbers, one at a
//!    time within a number. Each message asks the policy once more (a new
//!    contact spends the day's budget), is *started* (`sending`, committed),
//!    handed to the transport under `WABOT_SEND_TIMEOUT_MS`, and its outcome
//!    recorded:
//!
//! | outcome | message | number |
//! |---|---|---|
//! | sent | `sent` with WhatsApp's id | — |
//! | rate limited (429, 463, 130429) | queued again, attempt not counted | paused by the policy (1 min, 5 min, …), `rate_limited` event |
//! | contact rate limited (131056) | queued again, attempt not counted | that contact waits |
//! | not connected | queued again, attempt not counted | — |
//! | rejected (bad recipient, re-engagement window) | `failed` | — |
//! | transient failure | queued again (after five attempts, `failed`); the contact's later messages wait | — |
//! | no answer in time | `failed`: "may or may not have been delivered", never retried | — |
//! | pacing refuses (a new number's new contact) | `failed` with the policy's reason | — |
//! | content that is not the model's, or breaks WhatsApp's limits ([`prepare_outgoing`]) | `failed` before the send starts, the JSON path of each problem in the error | — |
//!
//! Messages claimed but not started (the number had to wait, a contact is
//! held back) are given back at the end of the round.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use health::{PacingDecision, WaitReason};
use tokio::sync::{watch, Notify};
use tracing::Instrument;
use uuid::Uuid;

use crate::backoff::outbound_message_has_failed;
use crate::database::{DatabaseError, DatabasePool};
use crate::media::{resolve_outgoing_media, ResolveError};
use crate::media_store::MediaStore;
use crate::metrics::SendResult;
use crate::pacing::number_age_days;
use crate::sessions::{now_ms, Session, SessionRegistry};
use crate::store::{self, ClaimedOutboundMessage, SendRetry};
use crate::transport::{parse_content, Outgoing, TransportError};

/// How many numbers send at once.
pub const PARALLEL_NUMBERS: usize = 8;

/// How often interrupted sends are looked for.
const INTERRUPTED_SENDS_INTERVAL: Duration = Duration::from_secs(1);

/// Sends the queued outbound messages of the held sessions.
pub struct OutboundSender {
    pool: DatabasePool,
    registry: Arc<SessionRegistry>,
    instance_id: String,
    send_timeout: Duration,
    held_contacts: Mutex<HashMap<(Uuid, String), i64>>,
    last_interrupted_check: Mutex<Option<Instant>>,
    media_store: Option<MediaStore>,
}

impl std::fmt::Debug for OutboundSender {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OutboundSender")
            .field("instance_id", &self.instance_id)
            .field("send_timeout", &self.send_timeout)
            .finish_non_exhaustive()
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundOutcome {
    /// Messages claimed.
    pub n_claimed: usize,
    /// Messages sent.
    pub n_sent: usize,
}

impl OutboundSender {
    /// Creates a sender that leases messages to `instance_id`.
    pub fn new(
        pool: DatabasePool,
        registry: Arc<SessionRegistry>,
        instance_id: String,
        send_timeout: Duration,
    ) -> Self {
        OutboundSender {
            pool,
            registry,
            instance_id,
            send_timeout,
            held_contacts: Mutex::new(HashMap::new()),
            last_interrupted_check: Mutex::new(None),
            media_store: None,
        }
    }

    /// Reads outbound media with a `storage_key` from this bucket before
    /// sending ([`crate::media`]); without one, such a message fails.
    pub fn with_media_store(mut self, media_store: Option<MediaStore>) -> Self {
        self.media_store = media_store;
        self
    }

    /// Sends queued messages whenever `wakeup` is notified and at least every
    /// `poll_interval`, until `shutdown` turns true. A round in flight is
    /// finished before stopping: in-flight sends complete and are recorded.
    pub async fn run(
        self,
        poll_interval: Duration,
        wakeup: Arc<Notify>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut n_consecutive_failures: u32 = 0;
        loop {
            loop {
                match self.send_round().await {
                    Ok(outcome) => {
                        if n_consecutive_failures > 0 {
                            tracing::info!("sending works again");
                        }
                        n_consecutive_failures = 0;
                        // Something sent means more may be ready at once.
                        if outcome.n_sent == 0 {
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
            if *shutdown.borrow() {
                return;
            }
            tokio::select! {
                _ = wakeup.notified() => {}
                _ = tokio::time::sleep(self.next_wait(poll_interval)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// How long to sleep: the poll interval, or less when a number's pacing
    /// wait ends sooner.
    fn next_wait(&self, poll_interval: Duration) -> Duration {
        let now = now_ms();
        let soonest = self
            .registry
            .sessions()
            .iter()
            .filter_map(|session| session.with_pacing(|pacing| pacing.wait_until_ms))
            .filter(|until| *until > now)
            .min();
        match soonest {
            Some(until) => Duration::from_millis(u64::try_from(until - now).unwrap_or(0) + 1)
                .min(poll_interval),
            None => poll_interval,
        }
    }

    /// Claims and sends one round of messages.
    pub async fn send_round(&self) -> Result<RoundOutcome, DatabaseError> {
        let client = self.pool.get().await?;
        let due = {
            let mut last = self
                .last_interrupted_check
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let due = last.is_none_or(|at| at.elapsed() >= INTERRUPTED_SENDS_INTERVAL);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due {
            let n_interrupted = store::fail_interrupted_sends(&client, &self.instance_id).await?;
            if n_interrupted > 0 {
                tracing::warn!(
                    n_interrupted,
                    "marked failed sends a crash interrupted (they may or may not have been delivered)"
                );
            }
        }
        let counts = store::claimable_outbound_counts(&client, &self.instance_id).await?;
        if counts.is_empty() {
            return Ok(RoundOutcome::default());
        }
        let now = now_ms();
        let context = &self.registry.context;
        let mut limits = Vec::new();
        for (number_id, n_waiting) in counts {
            let Some(session) = self.registry.session(number_id) else {
                continue;
            };
            if !session.can_send() {
                continue;
            }
            let config = context.pacing.for_kind(session.kind);
            let age = number_age_days(session.created_at_ms, now);
            let available = session.with_pacing(|pacing| pacing.available_sends(config, now, age));
            let limit = n_waiting.min(available);
            if limit > 0 {
                limits.push((number_id, limit));
            }
        }
        let claimed = store::claim_outbound_messages(&client, &self.instance_id, &limits).await?;
        drop(client);
        let n_claimed = claimed.len();
        if n_claimed == 0 {
            return Ok(RoundOutcome::default());
        }
        let mut by_number: Vec<(Uuid, Vec<ClaimedOutboundMessage>)> = Vec::new();
        for message in claimed {
            match by_number.last_mut() {
                Some((number_id, messages)) if *number_id == message.number_id => {
                    messages.push(message)
                }
                _ => by_number.push((message.number_id, vec![message])),
            }
        }
        let results: Vec<Result<usize, DatabaseError>> = futures_util::stream::iter(by_number)
            .map(|(number_id, messages)| {
                // Every line about a number's sends names the number.
                let span = tracing::info_span!("send", number_id = %number_id);
                self.send_number(number_id, messages).instrument(span)
            })
            .buffer_unordered(PARALLEL_NUMBERS)
            .collect()
            .await;
        let mut n_sent = 0;
        for result in results {
            n_sent += result?;
        }
        self.forget_expired_holds(now_ms());
        Ok(RoundOutcome { n_claimed, n_sent })
    }

    fn contact_is_held(&self, number_id: Uuid, contact_wa_id: &str, now: i64) -> bool {
        self.held_contacts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(number_id, contact_wa_id.to_owned()))
            .is_some_and(|until| *until > now)
    }

    fn hold_contact(&self, number_id: Uuid, contact_wa_id: &str, until: i64) {
        self.held_contacts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((number_id, contact_wa_id.to_owned()), until);
    }

    fn forget_expired_holds(&self, now: i64) {
        self.held_contacts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, until| *until > now);
    }

    /// Sends one number's claimed messages in order; returns how many were
    /// sent. Messages not started are given back.
    async fn send_number(
        &self,
        number_id: Uuid,
        messages: Vec<ClaimedOutboundMessage>,
    ) -> Result<usize, DatabaseError> {
        let client = self.pool.get().await?;
        let mut given_back = Vec::new();
        let mut n_sent = 0;
        let Some(session) = self.registry.session(number_id) else {
            given_back.extend(messages.iter().map(|message| message.message_id));
            store::release_outbound_messages(&client, &given_back, &self.instance_id).await?;
            return Ok(0);
        };
        let mut held_back: HashSet<String> = HashSet::new();
        let mut remaining = messages.into_iter();
        while let Some(message) = remaining.next() {
            let now = now_ms();
            if held_back.contains(&message.contact_wa_id)
                || self.contact_is_held(number_id, &message.contact_wa_id, now)
            {
                held_back.insert(message.contact_wa_id.clone());
                given_back.push(message.message_id);
                continue;
            }
            if !session.can_send() {
                given_back.push(message.message_id);
                given_back.extend(remaining.by_ref().map(|message| message.message_id));
                break;
            }
            let mut outgoing = match prepare_outgoing(&message) {
                Ok(outgoing) => outgoing,
                Err(error) => {
                    // Content WhatsApp would refuse never leaves: failed
                    // for good, before the send starts.
                    store::mark_outbound_unsent(
                        &client,
                        message.message_id,
                        &error,
                        SendRetry::GiveUp,
                    )
                    .await?;
                    self.registry.context.metrics.count_send(SendResult::Failed);
                    tracing::warn!(message_id = %message.message_id, contact = %message.contact_wa_id, "{error}");
                    continue;
                }
            };
            let config = self.registry.context.pacing.for_kind(session.kind);
            let age = number_age_days(session.created_at_ms, now);
            let decision = session
                .with_pacing(|pacing| pacing.decide(config, now, message.is_new_contact, age));
            match decision {
                PacingDecision::Send {} => {}
                PacingDecision::Wait { until_ms, reason } => {
                    given_back.push(message.message_id);
                    if reason == WaitReason::NewContactBudgetSpent {
                        // Only new contacts wait for tomorrow's budget.
                        self.hold_contact(number_id, &message.contact_wa_id, until_ms);
                        held_back.insert(message.contact_wa_id.clone());
                        continue;
                    }
                    given_back.extend(remaining.by_ref().map(|message| message.message_id));
                    break;
                }
                PacingDecision::Refuse { reason } => {
                    let reason = serde_json::to_value(reason)
                        .ok()
                        .and_then(|value| value.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    let error = format!("refused by the send-pacing policy: {reason}");
                    store::mark_outbound_unsent(
                        &client,
                        message.message_id,
                        &error,
                        SendRetry::GiveUp,
                    )
                    .await?;
                    self.registry.context.metrics.count_send(SendResult::Failed);
                    tracing::warn!(message_id = %message.message_id, contact = %message.contact_wa_id, "{error}");
                    continue;
                }
            }
            // Media from the bucket is read before the send starts: a missing
            // or oversized object fails the message for good, nothing sent;
            // an unreachable bucket leaves it queued.
            if let Err(error) = resolve_outgoing_media(
                self.media_store.as_ref(),
                &self.registry.context.metrics.media,
                &mut outgoing,
            )
            .await
            {
                match error {
                    ResolveError::Permanent(reason) => {
                        store::mark_outbound_unsent(
                            &client,
                            message.message_id,
                            &reason,
                            SendRetry::GiveUp,
                        )
                        .await?;
                        self.registry.context.metrics.count_send(SendResult::Failed);
                        tracing::warn!(message_id = %message.message_id, "{reason}");
                    }
                    ResolveError::Transient(reason) => {
                        given_back.push(message.message_id);
                        tracing::warn!(message_id = %message.message_id, "{reason}");
                    }
                }
                continue;
            }
            let Some(attempts) =
                store::start_outbound_send(&client, message.message_id, &self.instance_id).await?
            else {
                continue;
            };
            if self
                .send_one(
                    &client,
                    &session,
                    &message,
                    &outgoing,
                    attempts,
                    &mut held_back,
                )
                .await?
            {
                n_sent += 1;
            }
            if !session.can_send() {
                given_back.extend(remaining.by_ref().map(|message| message.message_id));
                break;
            }
        }
        if !given_back.is_empty() {
            store::release_outbound_messages(&client, &given_back, &self.instance_id).await?;
        }
        Ok(n_sent)
    }

    /// Sends one started message and records the outcome; returns whether
    /// it was sent.
    async fn send_one(
        &self,
        client: &deadpool_postgres::Client,
        session: &Arc<Session>,
        message: &ClaimedOutboundMessage,
        outgoing: &Outgoing,
        attempts: i32,
        held_back: &mut HashSet<String>,
    ) -> Result<bool, DatabaseError> {
        let metrics = &self.registry.context.metrics;
        let started = Instant::now();
        let outcome =
            match tokio::time::timeout(self.send_timeout, session.transport().send(outgoing)).await
            {
                Ok(outcome) => outcome,
                Err(_) => Err(TransportError::Ambiguous {
                    reason: format!("no answer within {} ms", self.send_timeout.as_millis()),
                }),
            };
        let now = now_ms();
        match outcome {
            Ok(wa_message_id) => {
                store::mark_outbound_sent(client, message.message_id, &wa_message_id).await?;
                metrics.count_send(SendResult::Sent);
                metrics.send_latency.observe(started.elapsed());
                metrics.send_delay.observe(Duration::from_millis(
                    u64::try_from(now.saturating_sub(message.queued_at_ms)).unwrap_or(0),
                ));
                session.note_send_success(now);
                tracing::info!(
                    contact = %message.contact_wa_id,
                    message_id = %message.message_id,
                    %wa_message_id,
                    "sent a message"
                );
                Ok(true)
            }
            Err(TransportError::RateLimited { reason, until_ms }) => {
                store::mark_outbound_unsent(
                    client,
                    message.message_id,
                    &format!("rate limited by whatsapp: {reason}"),
                    SendRetry::RetryUncounted,
                )
                .await?;
                metrics.count_send(SendResult::RateLimited);
                let config = self.registry.context.pacing.for_kind(session.kind);
                let resume_at =
                    session.with_pacing(|pacing| pacing.rate_limited(config, now, until_ms));
                tracing::warn!(message_id = %message.message_id, resume_at, "rate limited: the number pauses: {reason}");
                session.report_rate_limit(resume_at, reason);
                Ok(false)
            }
            Err(TransportError::ContactRateLimited {
                reason,
                retry_after_ms,
            }) => {
                store::mark_outbound_unsent(
                    client,
                    message.message_id,
                    &format!("rate limited for this contact: {reason}"),
                    SendRetry::RetryUncounted,
                )
                .await?;
                metrics.count_send(SendResult::RateLimited);
                self.hold_contact(
                    message.number_id,
                    &message.contact_wa_id,
                    now.saturating_add(retry_after_ms),
                );
                held_back.insert(message.contact_wa_id.clone());
                Ok(false)
            }
            Err(TransportError::NotConnected) => {
                store::mark_outbound_unsent(
                    client,
                    message.message_id,
                    "the session was not connected",
                    SendRetry::RetryUncounted,
                )
                .await?;
                Ok(false)
            }
            Err(TransportError::Rejected { reason }) => {
                store::mark_outbound_unsent(
                    client,
                    message.message_id,
                    &format!("whatsapp refused the message: {reason}"),
                    SendRetry::GiveUp,
                )
                .await?;
                metrics.count_send(SendResult::Failed);
                session.note_send_failure(now);
                tracing::warn!(message_id = %message.message_id, "whatsapp refused the message: {reason}");
                Ok(false)
            }
            Err(TransportError::Failed { reason }) => {
                let give_up = outbound_message_has_failed(attempts);
                let retry = if give_up {
                    SendRetry::GiveUp
                } else {
                    SendRetry::Retry
                };
                store::mark_outbound_unsent(client, message.message_id, &reason, retry).await?;
                metrics.count_send(if give_up {
                    SendResult::Failed
                } else {
                    SendResult::Retried
                });
                session.note_send_failure(now);
                held_back.insert(message.contact_wa_id.clone());
                if give_up {
                    tracing::error!(message_id = %message.message_id, attempts, "gave up sending a message: {reason}");
                } else {
                    tracing::warn!(message_id = %message.message_id, attempts, "could not send a message: {reason}");
                }
                Ok(false)
            }
            Err(TransportError::Ambiguous { reason }) => {
                let error = format!(
                    "unknown: the send may or may not have been delivered ({reason}); not retried to avoid a duplicate"
                );
                store::mark_outbound_unsent(client, message.message_id, &error, SendRetry::GiveUp)
                    .await?;
                metrics.count_send(SendResult::Ambiguous);
                session.note_send_failure(now);
                tracing::warn!(message_id = %message.message_id, "{error}");
                Ok(false)
            }
        }
    }
}

/// Reads a claimed row into the message to send: its `content` in the
/// message model, checked against WhatsApp's limits
/// ([`message_model::check_outbound`]), and the message it replies to.
/// The error names the JSON path of every problem (`content.buttons[0].title:
/// …`); such a message is failed for good, never sent.
///
/// `media_bytes` is left empty here: the media resolver fills it for
/// content with a `storage_key`.
pub fn prepare_outgoing(message: &ClaimedOutboundMessage) -> Result<Outgoing, String> {
    let content = parse_content(&message.content)
        .map_err(|error| format!("invalid message content: {error}"))?;
    let problems = message_model::check_outbound(&content);
    if !problems.is_empty() {
        let described: Vec<String> = problems
            .iter()
            .map(|problem| format!("content.{}: {}", problem.path, problem.message))
            .collect();
        return Err(format!(
            "the {} message breaks whatsapp's limits, not sent: {}",
            content.kind(),
            described.join("; ")
        ));
    }
    Ok(Outgoing {
        contact_wa_id: message.contact_wa_id.clone(),
        content,
        context_wa_message_id: message.context_wa_message_id.clone(),
        media_bytes: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claimed(content: serde_json::Value) -> ClaimedOutboundMessage {
        ClaimedOutboundMessage {
            message_id: Uuid::new_v4(),
            number_id: Uuid::new_v4(),
            contact_wa_id: "15550199999".to_owned(),
            body: String::new(),
            content,
            context_wa_message_id: Some("wamid.QUOTED".to_owned()),
            attempts: 0,
            is_new_contact: false,
            queued_at_ms: 0,
        }
    }

    #[test]
    fn a_claimed_row_becomes_the_message_to_send() {
        let outgoing = prepare_outgoing(&claimed(json!({"kind": "buttons", "text": "Pick one",
            "buttons": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}]})))
        .expect("valid content");
        assert_eq!(outgoing.content.kind(), "buttons");
        assert_eq!(outgoing.contact_wa_id, "15550199999");
        assert_eq!(
            outgoing.context_wa_message_id.as_deref(),
            Some("wamid.QUOTED")
        );
        assert_eq!(outgoing.media_bytes, None);
    }

    #[test]
    fn content_breaking_the_limits_or_the_shape_is_refused_with_its_paths() {
        let error = prepare_outgoing(&claimed(json!({"kind": "buttons", "text": "Pick one",
            "buttons": [{"id": "a", "title": "A title well over twenty"}, {"id": "a", "title": "B"},
                        {"id": "c", "title": "C"}, {"id": "d", "title": "D"}]})))
        .unwrap_err();
        assert!(
            error.starts_with("the buttons message breaks whatsapp's limits, not sent: "),
            "{error}"
        );
        for path in [
            "content.buttons[0].title: ",
            "content.buttons[1].id: ",
            "content.buttons[3]: ",
        ] {
            assert!(error.contains(path), "{path} in {error}");
        }
        let error = prepare_outgoing(&claimed(
            json!({"kind": "location", "latitude": "north", "longitude": 0}),
        ))
        .unwrap_err();
        assert!(
            error.starts_with("invalid message content: content.latitude: invalid type"),
            "{error}"
        );
        let error = prepare_outgoing(&claimed(
            json!({"kind": "button_reply", "id": "1", "title": "Yes"}),
        ))
        .unwrap_err();
        assert!(
            error.contains("content.kind: a button_reply message can only be received"),
            "{error}"
        );
    }
}
