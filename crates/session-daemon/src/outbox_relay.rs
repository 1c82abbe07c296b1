//! The outbox relay: delivers due outbox rows to the Edge Functions.
//!
//! Each row is posted as `{"outbox_id": <id>, ...payload}` to
//! `<WABOT_FUNCTIONS_URL>/<target>` (the row's target, or its topic) with the
//! service-role key, within ten seconds. A 2xx answer marks the row
//! delivered (`private.record_outbox_delivery`); anything else records the
//! status and the start of the body (`private.record_outbox_failure`, which
//! schedules the next attempt with exponential backoff and dead-letters the
//! row after ten attempts).
//!
//! Rows are claimed by `private.claim_outbox` with `FOR UPDATE SKIP LOCKED`
//! and a 30-second lease, longer than one delivery and its record can take
//! (the request is bounded by the timeout), so two relays never deliver a
//! row at the same time. Delivery is at least once: the functions are
//! idempotent on their payload.
//!
//! The relay is a pipeline, not a sequence of batches: up to
//! [`MAX_DELIVERIES_IN_FLIGHT`] requests run at once, each row's outcome is
//! recorded as soon as its answer arrives, and a freed place is filled by a
//! new claim straight away. A batch would wait for its slowest request and
//! then record its rows one after another while the functions sat idle; the
//! load benchmark (`scripts/bench/load.sh`) showed that gap.
//!
//! Under load, though, places free up one at a time, and claiming each one
//! alone made a claim (about 0.7 ms of Postgres time) per message, the
//! largest single cost the profile (`load.sh --profile`) showed. So while
//! deliveries are in flight the relay claims again only once at least
//! [`MIN_CLAIM_ROOM`] places are free; with nothing in flight it claims at
//! once, so a lone message is not held back. Likewise the answers: a
//! delivered row's id joins a shared list, and whichever delivery gets a
//! recording connection first marks every id on the list delivered in one
//! statement (`private.record_outbox_deliveries`), so the answers that
//! arrive while a record runs share the next one.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde_json::{Map, Value};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;

use crate::database::{error_chain, DatabaseError, DatabasePool};
use crate::store::{self, ClaimedOutboxRow};

/// The most deliveries one relay has in flight at once (the size of the
/// batches it used to claim).
pub const MAX_DELIVERIES_IN_FLIGHT: usize = 20;

/// While deliveries are in flight, the fewest free places worth a claim.
pub const MIN_CLAIM_ROOM: usize = 8;

/// Adds a delivered row to the list waiting for its record.
fn push_delivered(delivered: &Mutex<Vec<i64>>, outbox_id: i64) {
    // A poisoned lock only means a thread panicked while pushing an id: the
    // list is still a list.
    delivered
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(outbox_id);
}

/// Takes every delivered row waiting for its record.
fn take_delivered(delivered: &Mutex<Vec<i64>>) -> Vec<i64> {
    std::mem::take(&mut *delivered.lock().unwrap_or_else(PoisonError::into_inner))
}

/// Whether the relay should claim now, with `in_flight` deliveries running
/// and `more_may_be_due` saying rows may be waiting.
fn should_claim(more_may_be_due: bool, in_flight: usize) -> bool {
    let room = MAX_DELIVERIES_IN_FLIGHT.saturating_sub(in_flight);
    more_may_be_due && room > 0 && (in_flight == 0 || room >= MIN_CLAIM_ROOM)
}

/// The most database connections the relay's records use at once, so that
/// deliveries finishing together never take the whole pool from the
/// sessions (whose leases and inbound messages need it).
pub const MAX_RECORDING_CONNECTIONS: usize = 2;

/// How long one delivery may take.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a failed response's body is kept in `outbox.last_error`, in
/// characters.
pub const ERROR_BODY_CHARACTERS: usize = 500;

/// A failure to set up the relay.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The service-role key cannot be sent in an HTTP header.
    #[error("SUPABASE_SERVICE_ROLE_KEY contains characters that cannot be sent in an http header")]
    InvalidServiceRoleKey,

    /// The HTTP client could not be built.
    #[error("could not build the http client: {0}")]
    HttpClient(#[from] reqwest::Error),
}

/// Delivers outbox rows to the Edge Functions.
#[derive(Debug, Clone)]
pub struct OutboxRelay {
    pool: DatabasePool,
    http: reqwest::Client,
    functions_url: String,
    recording_connections: Arc<Semaphore>,
    /// Delivered rows whose delivery is not recorded yet.
    delivered: Arc<Mutex<Vec<i64>>>,
}

impl OutboxRelay {
    /// Creates a relay that posts to `functions_url` with the service-role
    /// key.
    pub fn new(
        pool: DatabasePool,
        functions_url: &str,
        service_role_key: &str,
    ) -> Result<Self, RelayError> {
        let mut headers = HeaderMap::new();
        let mut bearer = HeaderValue::from_str(&format!("Bearer {service_role_key}"))
            .map_err(|_| RelayError::InvalidServiceRoleKey)?;
        bearer.set_sensitive(true);
        let mut api_key = HeaderValue::from_str(service_role_key)
            .map_err(|_| RelayError::InvalidServiceRoleKey)?;
        api_key.set_sensitive(true);
        headers.insert(AUTHORIZATION, bearer);
        headers.insert("apikey", api_key);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(DELIVERY_TIMEOUT)
            .user_agent(concat!("wabot-session-daemon/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(OutboxRelay {
            pool,
            http,
            functions_url: functions_url.trim_end_matches('/').to_owned(),
            recording_connections: Arc::new(Semaphore::new(MAX_RECORDING_CONNECTIONS)),
            delivered: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Delivers due rows whenever `wakeup` is notified and at least every
    /// `poll_interval`, until `shutdown` turns true. Deliveries in flight are
    /// finished and recorded before stopping.
    pub async fn run(
        self,
        poll_interval: Duration,
        wakeup: Arc<Notify>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        // Each delivery is a task of its own, so it makes progress (and gives
        // its database connection back) while this loop waits for a claim.
        let mut in_flight = JoinSet::new();
        let mut poll = tokio::time::interval(poll_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n_consecutive_failures: u32 = 0;
        // Whether rows may be due that are not claimed yet: true after a
        // wake-up, a poll, or a claim that filled all the room it had.
        let mut more_may_be_due = true;
        while !*shutdown.borrow() {
            let room = MAX_DELIVERIES_IN_FLIGHT.saturating_sub(in_flight.len());
            if should_claim(more_may_be_due, in_flight.len()) {
                match self.claim(room).await {
                    Ok(rows) => {
                        n_consecutive_failures = 0;
                        more_may_be_due = rows.len() == room;
                        if !rows.is_empty() {
                            tracing::debug!(n_claimed = rows.len(), "claimed outbox rows");
                        }
                        for row in rows {
                            let relay = self.clone();
                            in_flight.spawn(async move { relay.deliver_and_record(row).await });
                        }
                    }
                    Err(error) => {
                        if n_consecutive_failures % 30 == 0 {
                            tracing::warn!("could not claim outbox rows: {error}");
                        }
                        n_consecutive_failures = n_consecutive_failures.saturating_add(1);
                        more_may_be_due = false;
                    }
                }
                continue;
            }
            tokio::select! {
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                _ = wakeup.notified() => more_may_be_due = true,
                _ = poll.tick() => more_may_be_due = true,
                _ = shutdown.changed() => {}
            }
        }
        while in_flight.join_next().await.is_some() {}
    }

    /// Claims up to `room` due rows.
    async fn claim(&self, room: usize) -> Result<Vec<ClaimedOutboxRow>, DatabaseError> {
        let client = self.pool.get().await?;
        store::claim_outbox(&client, room).await
    }

    /// Delivers one claimed row and records the outcome. A row whose
    /// outcome cannot be recorded is delivered again once its lease ends.
    async fn deliver_and_record(&self, row: ClaimedOutboxRow) {
        let outcome = self.deliver(&row).await;
        if let Err(error) = self.record(&row, outcome).await {
            tracing::warn!(outbox_id = row.outbox_id, topic = %row.topic, "could not record an outbox delivery: {error}");
        }
    }

    /// Records the outcome of one delivery.
    async fn record(
        &self,
        row: &ClaimedOutboxRow,
        outcome: Result<(), String>,
    ) -> Result<(), DatabaseError> {
        if outcome.is_ok() {
            push_delivered(&self.delivered, row.outbox_id);
        }
        // The semaphore is never closed, so acquiring only fails if it were.
        let _permit = self.recording_connections.acquire().await;
        match outcome {
            Ok(()) => {
                tracing::info!(outbox_id = row.outbox_id, topic = %row.topic, attempts = row.attempts, "delivered an outbox row");
                // Another delivery may have recorded this one with its own
                // while this one waited for a connection.
                let batch = take_delivered(&self.delivered);
                if batch.is_empty() {
                    return Ok(());
                }
                let client = self.pool.get().await?;
                if let Err(error) = store::record_outbox_deliveries(&client, &batch).await {
                    // Unrecorded rows are delivered again when their lease
                    // ends; the functions are idempotent.
                    tracing::warn!(
                        n_rows = batch.len(),
                        "could not record a batch of outbox deliveries: {error}"
                    );
                }
            }
            Err(last_error) => {
                let client = self.pool.get().await?;
                let dead =
                    store::record_outbox_failure(&client, row.outbox_id, &last_error).await?;
                if dead {
                    tracing::error!(outbox_id = row.outbox_id, topic = %row.topic, attempts = row.attempts, "gave up an outbox row: {last_error}");
                } else {
                    tracing::warn!(outbox_id = row.outbox_id, topic = %row.topic, attempts = row.attempts, "could not deliver an outbox row: {last_error}");
                }
            }
        }
        Ok(())
    }

    /// Posts one row; returns the text for `last_error` on failure.
    async fn deliver(&self, row: &ClaimedOutboxRow) -> Result<(), String> {
        let url = topic_url(&self.functions_url, &row.target);
        let body = request_body(row.outbox_id, &row.payload);
        let response = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|error| format!("request to {url} failed: {}", error_chain(&error)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        Err(describe_failed_response(status.as_u16(), &text))
    }
}

/// Returns the URL of the Edge Function for `topic`.
pub fn topic_url(functions_url: &str, topic: &str) -> String {
    format!("{}/{topic}", functions_url.trim_end_matches('/'))
}

/// Returns the JSON posted for an outbox row: the payload's fields with
/// `outbox_id` added (a payload that is not an object is sent under
/// `payload`).
pub fn request_body(outbox_id: i64, payload: &Value) -> Value {
    let mut body = Map::new();
    body.insert("outbox_id".to_owned(), Value::from(outbox_id));
    match payload {
        Value::Object(fields) => {
            for (key, value) in fields {
                if key != "outbox_id" {
                    body.insert(key.clone(), value.clone());
                }
            }
        }
        other => {
            body.insert("payload".to_owned(), other.clone());
        }
    }
    Value::Object(body)
}

/// Returns the `last_error` text of a non-2xx answer: the status and the
/// first [`ERROR_BODY_CHARACTERS`] characters of the body.
pub fn describe_failed_response(status: u16, body: &str) -> String {
    let start_of_body: String = body.chars().take(ERROR_BODY_CHARACTERS).collect();
    format!("HTTP {status}: {start_of_body}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn delivered_rows_wait_together_and_are_taken_once() {
        let delivered = Mutex::new(Vec::new());
        push_delivered(&delivered, 3);
        push_delivered(&delivered, 5);
        assert_eq!(take_delivered(&delivered), vec![3, 5]);
        assert!(take_delivered(&delivered).is_empty());
    }

    #[test]
    fn an_idle_relay_claims_for_a_lone_message_at_once() {
        assert!(should_claim(true, 0));
        assert!(!should_claim(false, 0));
    }

    #[test]
    fn a_busy_relay_waits_for_enough_room_before_claiming_again() {
        assert!(should_claim(
            true,
            MAX_DELIVERIES_IN_FLIGHT - MIN_CLAIM_ROOM
        ));
        assert!(!should_claim(
            true,
            MAX_DELIVERIES_IN_FLIGHT - MIN_CLAIM_ROOM + 1
        ));
        assert!(!should_claim(true, MAX_DELIVERIES_IN_FLIGHT));
        assert!(!should_claim(false, 1));
    }

    #[test]
    fn the_body_merges_the_outbox_id_into_the_payload() {
        let body = request_body(7, &json!({"message_id": "abc"}));
        assert_eq!(body, json!({"outbox_id": 7, "message_id": "abc"}));
    }

    #[test]
    fn the_outbox_id_cannot_be_overridden_by_the_payload() {
        let body = request_body(7, &json!({"outbox_id": 99}));
        assert_eq!(body, json!({"outbox_id": 7}));
    }

    #[test]
    fn a_payload_that_is_not_an_object_is_nested() {
        assert_eq!(
            request_body(1, &json!([1, 2])),
            json!({"outbox_id": 1, "payload": [1, 2]})
        );
    }

    #[test]
    fn failed_responses_keep_500_characters_of_body() {
        let body = "é".repeat(600);
        let description = describe_failed_response(503, &body);
        assert!(description.starts_with("HTTP 503: "));
        assert_eq!(description.chars().count(), "HTTP 503: ".len() + 500);
    }

    #[test]
    fn topic_urls_join_with_one_slash() {
        assert_eq!(
            topic_url("http://127.0.0.1:54321/functions/v1/", "route-message"),
            "http://127.0.0.1:54321/functions/v1/route-message"
        );
    }
}
