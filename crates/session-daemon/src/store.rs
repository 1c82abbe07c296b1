//! Every SQL statement the daemon runs against the messaging schema.
//!
//! The schema lives in `migrations/20261125000001_skeleton_messaging.sql`.
//! Claims are single statements with `FOR UPDATE SKIP LOCKED` and a lease, so
//! several daemons can run the same workers without delivering or sending a
//! row twice at the same time.

use std::time::Duration;

use deadpool_postgres::Client;
use serde_json::Value;
use uuid::Uuid;

use crate::database::DatabaseError;
use crate::transport::{DeliveryReceipt, InboundMessage, StoredInbound};

/// The most outbox rows or outbound messages claimed by one statement.
pub const CLAIM_BATCH_SIZE: i64 = 20;

/// A number the daemon holds a session for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberRow {
    /// `numbers.id`.
    pub number_id: Uuid,
    /// `numbers.phone_number`, in E.164 form.
    pub phone_number: String,
}

/// An outbox row claimed for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedOutboxRow {
    /// `outbox.id`.
    pub outbox_id: i64,
    /// The Edge Function to deliver to.
    pub topic: String,
    /// The JSON payload.
    pub payload: Value,
    /// The attempts so far, this one included.
    pub attempts: i32,
}

/// An outbound message claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedOutboundMessage {
    /// `messages.id`.
    pub message_id: Uuid,
    /// The number to send from.
    pub number_id: Uuid,
    /// The contact to send to.
    pub contact_wa_id: String,
    /// The text.
    pub body: String,
    /// The attempts so far, this one included.
    pub attempts: i32,
}

/// Returns the numbers whose transport is `simulator`, restricted to
/// `held_phone_numbers` when given.
pub async fn list_simulator_numbers(
    client: &Client,
    held_phone_numbers: Option<&[String]>,
) -> Result<Vec<NumberRow>, DatabaseError> {
    let statement = client
        .prepare_cached(
            "select id, phone_number from public.numbers
             where transport = 'simulator'
               and ($1::text[] is null or phone_number = any($1::text[]))
             order by created_at, id",
        )
        .await?;
    let held_phone_numbers = held_phone_numbers.map(<[String]>::to_vec);
    let rows = client.query(&statement, &[&held_phone_numbers]).await?;
    let mut numbers = Vec::with_capacity(rows.len());
    for row in rows {
        numbers.push(NumberRow {
            number_id: row.try_get(0)?,
            phone_number: row.try_get(1)?,
        });
    }
    Ok(numbers)
}

/// Writes a number's session status and appends the matching connection
/// event, in one transaction. A `connected` status also refreshes
/// `last_heartbeat_at`.
pub async fn record_session_status(
    client: &mut Client,
    number_id: Uuid,
    session_status: &str,
    event: &str,
    reason: Option<&str>,
    detail: &Value,
) -> Result<(), DatabaseError> {
    let transaction = client.transaction().await?;
    transaction
        .execute(
            "update public.numbers
             set session_status = $2::text,
                 last_heartbeat_at = case when $2::text = 'connected' then now() else last_heartbeat_at end
             where id = $1",
            &[&number_id, &session_status],
        )
        .await?;
    transaction
        .execute(
            "insert into public.number_connection_events (number_id, event, reason, detail)
             values ($1, $2, $3, $4::jsonb)",
            &[&number_id, &event, &reason, detail],
        )
        .await?;
    transaction.commit().await?;
    Ok(())
}

/// Refreshes `last_heartbeat_at` of the given numbers and returns how many
/// rows were updated.
pub async fn record_heartbeats(client: &Client, number_ids: &[Uuid]) -> Result<u64, DatabaseError> {
    if number_ids.is_empty() {
        return Ok(0);
    }
    let statement = client
        .prepare_cached("update public.numbers set last_heartbeat_at = now() where id = any($1)")
        .await?;
    Ok(client.execute(&statement, &[&number_ids]).await?)
}

/// Stores an inbound message, unless a message with the same WhatsApp id was
/// stored for the number before. The schema's trigger enqueues its routing
/// in the outbox in the same transaction.
pub async fn store_inbound_message(
    client: &Client,
    number_id: Uuid,
    message: &InboundMessage,
) -> Result<StoredInbound, DatabaseError> {
    let insert = client
        .prepare_cached(
            "insert into public.messages
                 (number_id, direction, status, contact_wa_id, contact_name, wa_message_id, body)
             values ($1, 'inbound', 'received', $2, $3, $4, $5)
             on conflict (number_id, wa_message_id) do nothing
             returning id",
        )
        .await?;
    let inserted = client
        .query_opt(
            &insert,
            &[
                &number_id,
                &message.contact_wa_id,
                &message.contact_name,
                &message.wa_message_id,
                &message.text,
            ],
        )
        .await?;
    if let Some(row) = inserted {
        return Ok(StoredInbound {
            message_id: row.try_get(0)?,
            duplicate: false,
        });
    }
    let existing = client
        .prepare_cached(
            "select id from public.messages where number_id = $1 and wa_message_id = $2",
        )
        .await?;
    let row = client
        .query_one(&existing, &[&number_id, &message.wa_message_id])
        .await?;
    Ok(StoredInbound {
        message_id: row.try_get(0)?,
        duplicate: true,
    })
}

/// Applies a delivery receipt to the outbound message it names, moving its
/// status only forwards (sent, delivered, read).
pub async fn apply_receipt(
    client: &Client,
    number_id: Uuid,
    receipt: &DeliveryReceipt,
) -> Result<u64, DatabaseError> {
    let statement = client
        .prepare_cached(
            "update public.messages set status = $3::text
             where number_id = $1 and wa_message_id = $2 and direction = 'outbound'
               and case $3::text
                     when 'delivered' then status = 'sent'
                     when 'read' then status in ('sent', 'delivered')
                     when 'failed' then status in ('sending', 'sent')
                     else false
                   end",
        )
        .await?;
    Ok(client
        .execute(
            &statement,
            &[
                &number_id,
                &receipt.wa_message_id,
                &receipt.status.as_message_status(),
            ],
        )
        .await?)
}

/// Claims up to [`CLAIM_BATCH_SIZE`] due outbox rows: counts the attempt and
/// leases each row for 30 seconds, in one statement.
pub async fn claim_due_outbox_rows(
    client: &Client,
) -> Result<Vec<ClaimedOutboxRow>, DatabaseError> {
    let statement = client
        .prepare_cached(
            "update public.outbox
             set attempts = attempts + 1, next_attempt_at = now() + interval '30 seconds'
             where id in (
                 select id from public.outbox
                 where delivered_at is null and dead_at is null and next_attempt_at <= now()
                 order by id
                 for update skip locked
                 limit $1
             )
             returning id, topic, payload, attempts",
        )
        .await?;
    let rows = client.query(&statement, &[&CLAIM_BATCH_SIZE]).await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        claimed.push(ClaimedOutboxRow {
            outbox_id: row.try_get(0)?,
            topic: row.try_get(1)?,
            payload: row.try_get(2)?,
            attempts: row.try_get(3)?,
        });
    }
    claimed.sort_by_key(|row| row.outbox_id);
    Ok(claimed)
}

/// Marks an outbox row delivered.
pub async fn mark_outbox_delivered(client: &Client, outbox_id: i64) -> Result<(), DatabaseError> {
    let statement = client
        .prepare_cached(
            "update public.outbox set delivered_at = now(), last_error = null where id = $1",
        )
        .await?;
    client.execute(&statement, &[&outbox_id]).await?;
    Ok(())
}

/// Records a failed delivery: the error, the next attempt's time, and
/// `dead_at` when the row is given up.
pub async fn mark_outbox_failed(
    client: &Client,
    outbox_id: i64,
    last_error: &str,
    retry_in: Duration,
    give_up: bool,
) -> Result<(), DatabaseError> {
    let statement = client
        .prepare_cached(
            "update public.outbox
             set last_error = $2,
                 next_attempt_at = now() + $3::float8 * interval '1 second',
                 dead_at = case when $4::bool then now() else null end
             where id = $1",
        )
        .await?;
    client
        .execute(
            &statement,
            &[&outbox_id, &last_error, &retry_in.as_secs_f64(), &give_up],
        )
        .await?;
    Ok(())
}

/// Claims up to [`CLAIM_BATCH_SIZE`] queued outbound messages of the given
/// numbers (and messages whose send lease expired), leasing them to
/// `instance_id` for 30 seconds, in one statement.
///
/// The claimed messages come back in sending order: by `created_at`, then
/// `reply_index`. A message is not claimed while an earlier message to the
/// same contact is leased to someone else, so one contact's messages go out
/// in order.
pub async fn claim_queued_outbound_messages(
    client: &Client,
    instance_id: &str,
    number_ids: &[Uuid],
) -> Result<Vec<ClaimedOutboundMessage>, DatabaseError> {
    if number_ids.is_empty() {
        return Ok(Vec::new());
    }
    let statement = client
        .prepare_cached(
            "with claimed as (
                 update public.messages
                 set status = 'sending',
                     claimed_by = $1,
                     claimed_until = now() + interval '30 seconds',
                     attempts = attempts + 1
                 where id in (
                     select candidate.id from public.messages as candidate
                     where candidate.direction = 'outbound'
                       and candidate.number_id = any($2)
                       and (candidate.status = 'queued'
                            or (candidate.status = 'sending' and candidate.claimed_until < now()))
                       and not exists (
                           select 1 from public.messages as earlier
                           where earlier.number_id = candidate.number_id
                             and earlier.contact_wa_id = candidate.contact_wa_id
                             and earlier.direction = 'outbound'
                             and earlier.status = 'sending'
                             and earlier.claimed_until >= now()
                             and (earlier.created_at, coalesce(earlier.reply_index, -1))
                                 < (candidate.created_at, coalesce(candidate.reply_index, -1))
                       )
                     order by candidate.created_at, candidate.reply_index nulls first, candidate.id
                     for update skip locked
                     limit $3
                 )
                 returning id, number_id, contact_wa_id, body, attempts, created_at, reply_index
             )
             select id, number_id, contact_wa_id, body, attempts
             from claimed
             order by created_at, reply_index nulls first, id",
        )
        .await?;
    let rows = client
        .query(&statement, &[&instance_id, &number_ids, &CLAIM_BATCH_SIZE])
        .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        claimed.push(ClaimedOutboundMessage {
            message_id: row.try_get(0)?,
            number_id: row.try_get(1)?,
            contact_wa_id: row.try_get(2)?,
            body: row.try_get(3)?,
            attempts: row.try_get(4)?,
        });
    }
    Ok(claimed)
}

/// Marks an outbound message sent with WhatsApp's id for it, releasing its
/// lease.
pub async fn mark_outbound_sent(
    client: &Client,
    message_id: Uuid,
    wa_message_id: &str,
) -> Result<(), DatabaseError> {
    let statement = client
        .prepare_cached(
            "update public.messages
             set status = 'sent', sent_at = now(), wa_message_id = $2,
                 claimed_by = null, claimed_until = null, error = null
             where id = $1",
        )
        .await?;
    client
        .execute(&statement, &[&message_id, &wa_message_id])
        .await?;
    Ok(())
}

/// Records a failed send: the message is queued again with its error, or
/// marked `failed` when `give_up` is set.
pub async fn mark_outbound_send_failed(
    client: &Client,
    message_id: Uuid,
    error: &str,
    give_up: bool,
) -> Result<(), DatabaseError> {
    let statement = client
        .prepare_cached(
            "update public.messages
             set status = case when $3::bool then 'failed' else 'queued' end,
                 error = $2, claimed_by = null, claimed_until = null
             where id = $1",
        )
        .await?;
    client
        .execute(&statement, &[&message_id, &error, &give_up])
        .await?;
    Ok(())
}

/// Gives claimed messages back unsent without counting the attempt (used
/// when an earlier message to the same contact failed, or the session went
/// away).
pub async fn release_outbound_messages(
    client: &Client,
    message_ids: &[Uuid],
    instance_id: &str,
) -> Result<u64, DatabaseError> {
    if message_ids.is_empty() {
        return Ok(0);
    }
    let statement = client
        .prepare_cached(
            "update public.messages
             set status = 'queued', claimed_by = null, claimed_until = null,
                 attempts = greatest(attempts - 1, 0)
             where id = any($1) and status = 'sending' and claimed_by = $2",
        )
        .await?;
    Ok(client
        .execute(&statement, &[&message_ids, &instance_id])
        .await?)
}
