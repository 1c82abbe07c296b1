//! Every SQL statement the daemon runs.
//!
//! The schema lives in `migrations/`; the daemon works through the
//! service-role helpers in `private` where they exist (the outbox's
//! `claim_outbox` / `record_outbox_delivery` / `record_outbox_failure`, the
//! leases, the session commands, contact identities, interrupted sends) and
//! through plain statements on its own tables otherwise. Claims are single
//! statements with `FOR UPDATE SKIP LOCKED` and a lease, so several daemons
//! can run the same workers without delivering or sending a row twice at the
//! same time.
//!
//! # Sending in two steps
//!
//! An outbound message is first *claimed* (`claimed_by`, `claimed_until`;
//! still `queued`), then, right before the transport is called, *started*
//! (`status = 'sending'`, one attempt counted, committed). A daemon that dies
//! leaves claimed-but-unstarted messages `queued`, so they are simply claimed
//! again when the lease runs out, and started ones `sending`, which
//! `private.fail_interrupted_sends` marks `failed` ("interrupted") instead
//! of sending them a second time.

use std::collections::HashSet;
use std::time::Duration;

use deadpool_postgres::Client;
use serde_json::Value;
use uuid::Uuid;

use crate::database::DatabaseError;
use crate::transport::{DeliveryReceipt, InboundMessage, StoredInbound};

/// The most outbox rows claimed by one statement.
pub const OUTBOX_CLAIM_BATCH_SIZE: i32 = 20;

/// How long an outbox row is leased to its relay.
pub const OUTBOX_LEASE: Duration = Duration::from_secs(30);

/// The most outbound messages claimed for one number by one statement.
pub const OUTBOUND_CLAIM_LIMIT_PER_NUMBER: i64 = 20;

/// How long claimed outbound messages are leased to their daemon.
pub const OUTBOUND_LEASE: Duration = Duration::from_secs(30);

/// A number whose lease this daemon just took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeasedNumber {
    /// `numbers.id`.
    pub number_id: Uuid,
    /// `numbers.phone_number`, in E.164 form.
    pub phone_number: String,
    /// `numbers.transport`.
    pub transport: String,
    /// `numbers.session_status` when the lease was taken.
    pub session_status: String,
    /// When the number was created, in Unix milliseconds (its age drives
    /// the pacing warm-up).
    pub created_at_ms: i64,
    /// Whether an operator stopped the session (it stays stopped).
    pub sticky_stop: bool,
}

/// An outbox row claimed for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedOutboxRow {
    /// `outbox.id`.
    pub outbox_id: i64,
    /// The Edge Function to deliver to (the target, or the topic).
    pub target: String,
    /// The topic.
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
    /// The text (the content's summary).
    pub body: String,
    /// `messages.content`: what to send, as the message model's JSON (read
    /// into [`message_model::Content`] by the sender, which fails a row
    /// that does not read).
    pub content: Value,
    /// `messages.context_wa_message_id`: the message this one replies to.
    pub context_wa_message_id: Option<String>,
    /// The attempts so far (not counting this one, which starts later).
    pub attempts: i32,
    /// Whether the number never exchanged a message with the contact (the
    /// pacing policy's new-contact budget).
    pub is_new_contact: bool,
    /// When the message was queued, in Unix milliseconds.
    pub queued_at_ms: i64,
}

/// A session command claimed by this daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedSessionCommand {
    /// `session_commands.id`.
    pub command_id: i64,
    /// The number.
    pub number_id: Uuid,
    /// `start`, `stop` or `restart`.
    pub command: String,
}

/// What the daemon's HTTP API tells about a number it may not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberRow {
    /// `numbers.phone_number`.
    pub phone_number: String,
    /// `numbers.transport`.
    pub transport: String,
    /// `numbers.session_status`.
    pub session_status: String,
    /// The daemon holding a live lease on the number, if any.
    pub lease_holder: Option<String>,
}

/// Upserts this daemon's `runtime_instances` row at start.
pub async fn register_runtime_instance(
    client: &Client,
    instance_id: &str,
    version: &str,
    status_url: &str,
) -> Result<(), DatabaseError> {
    client
        .execute(
            "insert into public.runtime_instances (id, version, started_at, last_heartbeat_at, status_url)
             values ($1, $2, now(), now(), $3)
             on conflict (id) do update
             set version = excluded.version, started_at = excluded.started_at,
                 last_heartbeat_at = excluded.last_heartbeat_at, status_url = excluded.status_url",
            &[&instance_id, &version, &status_url],
        )
        .await?;
    Ok(())
}

/// Refreshes this daemon's heartbeat; re-creates the row if it was removed
/// (the retention job deletes silent instances).
pub async fn heartbeat_runtime_instance(
    client: &Client,
    instance_id: &str,
    version: &str,
    status_url: &str,
) -> Result<(), DatabaseError> {
    let statement = client
        .prepare_cached(
            "insert into public.runtime_instances (id, version, last_heartbeat_at, status_url)
             values ($1, $2, now(), $3)
             on conflict (id) do update set last_heartbeat_at = now(), status_url = excluded.status_url",
        )
        .await?;
    client
        .execute(&statement, &[&instance_id, &version, &status_url])
        .await?;
    Ok(())
}

/// Marks this daemon gone at a graceful shutdown: no status URL, so the
/// health check stops probing it.
pub async fn retire_runtime_instance(
    client: &Client,
    instance_id: &str,
) -> Result<(), DatabaseError> {
    client
        .execute(
            "update public.runtime_instances set status_url = null, last_heartbeat_at = now() where id = $1",
            &[&instance_id],
        )
        .await?;
    Ok(())
}

/// Takes the leases of free numbers; see `private.acquire_number_leases`.
pub async fn acquire_number_leases(
    client: &Client,
    instance_id: &str,
    lease: Duration,
    transports: &[String],
    phone_numbers: Option<&[String]>,
    max_numbers: i32,
) -> Result<Vec<LeasedNumber>, DatabaseError> {
    let statement = client
        .prepare_cached(
            "select number_id, phone_number, transport, session_status,
                    (extract(epoch from number_created_at) * 1000)::int8, sticky_stop
             from private.acquire_number_leases($1, $2::float8 * interval '1 second', $3, $4, $5)",
        )
        .await?;
    let phone_numbers = phone_numbers.map(<[String]>::to_vec);
    let rows = client
        .query(
            &statement,
            &[
                &instance_id,
                &lease.as_secs_f64(),
                &transports,
                &phone_numbers,
                &max_numbers,
            ],
        )
        .await?;
    let mut numbers = Vec::with_capacity(rows.len());
    for row in rows {
        numbers.push(LeasedNumber {
            number_id: row.try_get(0)?,
            phone_number: row.try_get(1)?,
            transport: row.try_get(2)?,
            session_status: row.try_get(3)?,
            created_at_ms: row.try_get(4)?,
            sticky_stop: row.try_get(5)?,
        });
    }
    Ok(numbers)
}

/// Renews the leases this daemon still holds among `number_ids` and returns
/// the ids renewed.
pub async fn renew_number_leases(
    client: &Client,
    instance_id: &str,
    lease: Duration,
    number_ids: &[Uuid],
) -> Result<HashSet<Uuid>, DatabaseError> {
    if number_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let statement = client
        .prepare_cached(
            "select number_id from private.renew_number_leases($1, $2::float8 * interval '1 second', $3)",
        )
        .await?;
    let rows = client
        .query(
            &statement,
            &[&instance_id, &lease.as_secs_f64(), &number_ids],
        )
        .await?;
    let mut renewed = HashSet::with_capacity(rows.len());
    for row in rows {
        renewed.insert(row.try_get(0)?);
    }
    Ok(renewed)
}

/// Gives back the leases of some numbers.
pub async fn release_number_leases_of(
    client: &Client,
    instance_id: &str,
    number_ids: &[Uuid],
) -> Result<i32, DatabaseError> {
    let row = client
        .query_one(
            "select private.release_number_leases_of($1, $2)",
            &[&instance_id, &number_ids],
        )
        .await?;
    Ok(row.try_get(0)?)
}

/// Gives back every lease this daemon holds (a graceful shutdown).
pub async fn release_all_number_leases(
    client: &Client,
    instance_id: &str,
) -> Result<i32, DatabaseError> {
    let row = client
        .query_one("select private.release_number_leases($1)", &[&instance_id])
        .await?;
    Ok(row.try_get(0)?)
}

/// Writes a number's session status and appends the matching connection
/// event, in one transaction. A `connected` status also refreshes
/// `last_heartbeat_at`.
pub async fn record_session_event(
    client: &mut Client,
    number_id: Uuid,
    session_status: &str,
    event: &str,
    reason: Option<&str>,
    code: Option<&str>,
    detail: &Value,
) -> Result<(), DatabaseError> {
    let transaction = client.transaction().await?;
    let update = transaction
        .prepare_cached(
            "update public.numbers
             set session_status = $2::text,
                 last_heartbeat_at = case when $2::text = 'connected' then now() else last_heartbeat_at end
             where id = $1 and session_status is distinct from $2::text",
        )
        .await?;
    transaction
        .execute(&update, &[&number_id, &session_status])
        .await?;
    let insert = transaction
        .prepare_cached(
            "insert into public.number_connection_events (number_id, event, reason, code, detail)
             values ($1, $2, $3, $4, $5::jsonb)",
        )
        .await?;
    transaction
        .execute(&insert, &[&number_id, &event, &reason, &code, detail])
        .await?;
    transaction.commit().await?;
    Ok(())
}

/// Writes a number's session status without an event (catching up after the
/// database was unreachable when the event happened).
pub async fn write_session_status(
    client: &Client,
    number_id: Uuid,
    session_status: &str,
) -> Result<(), DatabaseError> {
    let statement = client
        .prepare_cached(
            "update public.numbers set session_status = $2::text
             where id = $1 and session_status is distinct from $2::text",
        )
        .await?;
    client
        .execute(&statement, &[&number_id, &session_status])
        .await?;
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

/// Stores inbound messages in one transaction, each unless a message with
/// the same WhatsApp id was stored for the number before, and records the
/// contacts' identities (phone-based id and LID together). The schema's
/// trigger enqueues each new message's routing in the outbox in the same
/// transaction.
pub async fn store_inbound_messages(
    client: &mut Client,
    number_id: Uuid,
    messages: &[InboundMessage],
) -> Result<Vec<StoredInbound>, DatabaseError> {
    let transaction = client.transaction().await?;
    let insert = transaction
        .prepare_cached(
            "insert into public.messages
                 (number_id, direction, status, contact_wa_id, contact_name, wa_message_id, body, type, payload)
             values ($1, 'inbound', 'received', $2, $3, $4, $5, $6, $7::jsonb)
             on conflict (number_id, wa_message_id) do nothing
             returning id",
        )
        .await?;
    let existing = transaction
        .prepare_cached(
            "select id from public.messages where number_id = $1 and wa_message_id = $2",
        )
        .await?;
    let identity = transaction
        .prepare_cached("select private.record_contact_identity($1, $2, $3)")
        .await?;
    let mut stored = Vec::with_capacity(messages.len());
    for message in messages {
        if message.contact_lid.is_some() {
            transaction
                .execute(
                    &identity,
                    &[
                        &message.contact_phone_wa_id,
                        &message.contact_lid,
                        &message.contact_name,
                    ],
                )
                .await?;
        }
        let inserted = transaction
            .query_opt(
                &insert,
                &[
                    &number_id,
                    &message.contact_wa_id,
                    &message.contact_name,
                    &message.wa_message_id,
                    &message.text,
                    &message.message_type,
                    &message.payload,
                ],
            )
            .await?;
        match inserted {
            Some(row) => stored.push(StoredInbound {
                message_id: row.try_get(0)?,
                duplicate: false,
            }),
            None => {
                let row = transaction
                    .query_one(&existing, &[&number_id, &message.wa_message_id])
                    .await?;
                stored.push(StoredInbound {
                    message_id: row.try_get(0)?,
                    duplicate: true,
                });
            }
        }
    }
    transaction.commit().await?;
    Ok(stored)
}

/// Applies a delivery receipt to the outbound message it names, moving its
/// status only forwards (sent, delivered, read; failed only before
/// delivery); returns how many rows moved.
pub async fn apply_receipt(
    client: &Client,
    number_id: Uuid,
    receipt: &DeliveryReceipt,
) -> Result<u64, DatabaseError> {
    let statement = client
        .prepare_cached(
            "update public.messages
             set status = $3::text,
                 error = case when $3::text = 'failed' then coalesce($4, error) else error end
             where number_id = $1 and wa_message_id = $2 and direction = 'outbound'
               and case $3::text
                     when 'sent' then status = 'sending'
                     when 'delivered' then status in ('sending', 'sent')
                     when 'read' then status in ('sending', 'sent', 'delivered')
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
                &receipt.error,
            ],
        )
        .await?)
}

/// Marks a sent message failed after WhatsApp refused it late (a nack);
/// returns how many rows moved.
pub async fn fail_sent_message(
    client: &Client,
    number_id: Uuid,
    wa_message_id: &str,
    error: &str,
) -> Result<u64, DatabaseError> {
    let statement = client
        .prepare_cached(
            "update public.messages set status = 'failed', error = $3
             where number_id = $1 and wa_message_id = $2 and direction = 'outbound'
               and status in ('sending', 'sent')",
        )
        .await?;
    Ok(client
        .execute(&statement, &[&number_id, &wa_message_id, &error])
        .await?)
}

/// Claims up to `batch_size` due outbox rows through `private.claim_outbox`
/// (at most [`OUTBOX_CLAIM_BATCH_SIZE`] are asked for).
pub async fn claim_outbox(
    client: &Client,
    batch_size: usize,
) -> Result<Vec<ClaimedOutboxRow>, DatabaseError> {
    let batch_size = i32::try_from(batch_size)
        .unwrap_or(OUTBOX_CLAIM_BATCH_SIZE)
        .clamp(1, OUTBOX_CLAIM_BATCH_SIZE);
    let statement = client
        .prepare_cached(
            "select id, topic, target, payload, attempts
             from private.claim_outbox($1, $2::float8 * interval '1 second')",
        )
        .await?;
    let rows = client
        .query(&statement, &[&batch_size, &OUTBOX_LEASE.as_secs_f64()])
        .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        claimed.push(ClaimedOutboxRow {
            outbox_id: row.try_get(0)?,
            topic: row.try_get(1)?,
            target: row.try_get(2)?,
            payload: row.try_get(3)?,
            attempts: row.try_get(4)?,
        });
    }
    Ok(claimed)
}

/// Marks an outbox row delivered (`private.record_outbox_delivery`).
pub async fn record_outbox_delivery(client: &Client, outbox_id: i64) -> Result<(), DatabaseError> {
    let statement = client
        .prepare_cached("select private.record_outbox_delivery($1)")
        .await?;
    client.execute(&statement, &[&outbox_id]).await?;
    Ok(())
}

/// Marks a batch of outbox rows delivered in one statement
/// (`private.record_outbox_deliveries`); returns how many it marked (rows
/// already delivered are left alone).
pub async fn record_outbox_deliveries(
    client: &Client,
    outbox_ids: &[i64],
) -> Result<i32, DatabaseError> {
    let statement = client
        .prepare_cached("select private.record_outbox_deliveries($1)")
        .await?;
    let row = client.query_one(&statement, &[&outbox_ids]).await?;
    Ok(row.try_get(0)?)
}

/// Records a failed delivery (`private.record_outbox_failure`); returns
/// whether the row is now dead.
pub async fn record_outbox_failure(
    client: &Client,
    outbox_id: i64,
    error: &str,
) -> Result<bool, DatabaseError> {
    let statement = client
        .prepare_cached("select private.record_outbox_failure($1, $2)")
        .await?;
    let row = client.query_one(&statement, &[&outbox_id, &error]).await?;
    Ok(row.try_get(0)?)
}

/// Returns, for each number this daemon holds a live lease on, how many
/// outbound messages are ready to be claimed (queued, not leased).
pub async fn claimable_outbound_counts(
    client: &Client,
    instance_id: &str,
) -> Result<Vec<(Uuid, i64)>, DatabaseError> {
    let statement = client
        .prepare_cached(
            "select m.number_id, count(*)
             from public.messages as m
             join public.numbers as n on n.id = m.number_id
             where m.direction = 'outbound' and m.status = 'queued'
               and (m.claimed_by is distinct from $1 or m.claimed_until < now())
               and n.lease_holder = $1 and n.lease_expires_at > now()
             group by m.number_id",
        )
        .await?;
    let rows = client.query(&statement, &[&instance_id]).await?;
    let mut counts = Vec::with_capacity(rows.len());
    for row in rows {
        counts.push((row.try_get(0)?, row.try_get(1)?));
    }
    Ok(counts)
}

/// Claims queued outbound messages, up to a limit per number, leasing them
/// to `instance_id` (they stay `queued` until started), in one statement.
///
/// Only numbers this daemon holds a live lease on are served, so a claim
/// left by another daemon on such a number is stale (that daemon lost the
/// number) and is taken over at once: its start would fail, since starting
/// checks `claimed_by`. Per number the messages come in sending order
/// (`created_at`, then `reply_index`); a message is not claimed while an
/// earlier message to the same contact is being sent or claimed by an
/// earlier round, so one contact's messages go out in order.
pub async fn claim_outbound_messages(
    client: &Client,
    instance_id: &str,
    limits: &[(Uuid, i64)],
) -> Result<Vec<ClaimedOutboundMessage>, DatabaseError> {
    if limits.is_empty() {
        return Ok(Vec::new());
    }
    let number_ids: Vec<Uuid> = limits.iter().map(|(number_id, _)| *number_id).collect();
    let per_number: Vec<i64> = limits.iter().map(|(_, limit)| *limit).collect();
    let statement = client
        .prepare_cached(
            "with wanted as (
                 select w.number_id, w.n
                 from unnest($2::uuid[], $3::int8[]) as w(number_id, n)
                 join public.numbers as held on held.id = w.number_id
                 where held.lease_holder = $1 and held.lease_expires_at > now()
             ),
             candidates as (
                 select picked.id
                 from wanted
                 cross join lateral (
                     select candidate.id
                     from public.messages as candidate
                     where candidate.number_id = wanted.number_id
                       and candidate.direction = 'outbound'
                       and candidate.status = 'queued'
                       and (candidate.claimed_by is distinct from $1
                            or candidate.claimed_until < now())
                       and not exists (
                           select 1 from public.messages as earlier
                           where earlier.number_id = candidate.number_id
                             and earlier.contact_wa_id = candidate.contact_wa_id
                             and earlier.direction = 'outbound'
                             and (earlier.status = 'sending'
                                  or (earlier.status = 'queued' and earlier.claimed_by = $1
                                      and earlier.claimed_until >= now()))
                             and (earlier.created_at, coalesce(earlier.reply_index, -1))
                                 < (candidate.created_at, coalesce(candidate.reply_index, -1))
                       )
                     order by candidate.created_at, candidate.reply_index nulls first, candidate.id
                     limit wanted.n
                     for update of candidate skip locked
                 ) as picked
             ),
             claimed as (
                 update public.messages as m
                 set claimed_by = $1, claimed_until = now() + $4::float8 * interval '1 second'
                 from candidates
                 where m.id = candidates.id
                 returning m.id, m.number_id, m.contact_wa_id, m.body, m.attempts, m.created_at,
                           m.reply_index, m.content, m.context_wa_message_id
             )
             select c.id, c.number_id, c.contact_wa_id, c.body, c.attempts,
                    not exists (
                        select 1 from public.messages as previous
                        where previous.number_id = c.number_id
                          and previous.contact_wa_id = c.contact_wa_id
                          and previous.id <> c.id
                          and (previous.direction = 'inbound'
                               or previous.status in ('sent', 'delivered', 'read'))
                    ) as is_new_contact,
                    (extract(epoch from c.created_at) * 1000)::int8,
                    c.content, c.context_wa_message_id
             from claimed as c
             order by c.number_id, c.created_at, c.reply_index nulls first, c.id",
        )
        .await?;
    let rows = client
        .query(
            &statement,
            &[
                &instance_id,
                &number_ids,
                &per_number,
                &OUTBOUND_LEASE.as_secs_f64(),
            ],
        )
        .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        claimed.push(ClaimedOutboundMessage {
            message_id: row.try_get(0)?,
            number_id: row.try_get(1)?,
            contact_wa_id: row.try_get(2)?,
            body: row.try_get(3)?,
            attempts: row.try_get(4)?,
            is_new_contact: row.try_get(5)?,
            queued_at_ms: row.try_get(6)?,
            content: row.try_get(7)?,
            context_wa_message_id: row.try_get(8)?,
        });
    }
    Ok(claimed)
}

/// Starts a claimed message's send: `sending`, one attempt more, committed
/// before the transport is called. Returns the attempts including this one,
/// or `None` when the claim was lost.
pub async fn start_outbound_send(
    client: &Client,
    message_id: Uuid,
    instance_id: &str,
) -> Result<Option<i32>, DatabaseError> {
    let statement = client
        .prepare_cached(
            "update public.messages
             set status = 'sending', attempts = attempts + 1,
                 claimed_until = now() + $3::float8 * interval '1 second'
             where id = $1 and claimed_by = $2 and status = 'queued'
             returning attempts",
        )
        .await?;
    let row = client
        .query_opt(
            &statement,
            &[&message_id, &instance_id, &OUTBOUND_LEASE.as_secs_f64()],
        )
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
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

/// What becomes of a message whose send did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRetry {
    /// Queued again, the attempt counted.
    Retry,
    /// Queued again, the attempt not counted (the message never reached
    /// WhatsApp: a rate limit, a lost connection).
    RetryUncounted,
    /// Failed for good.
    GiveUp,
}

/// Records a send that did not succeed, with its error.
pub async fn mark_outbound_unsent(
    client: &Client,
    message_id: Uuid,
    error: &str,
    retry: SendRetry,
) -> Result<(), DatabaseError> {
    let statement = client
        .prepare_cached(
            "update public.messages
             set status = case when $3::text = 'give_up' then 'failed' else 'queued' end,
                 attempts = case when $3::text = 'retry_uncounted' then greatest(attempts - 1, 0)
                                 else attempts end,
                 error = $2, claimed_by = null, claimed_until = null
             where id = $1",
        )
        .await?;
    let retry = match retry {
        SendRetry::Retry => "retry",
        SendRetry::RetryUncounted => "retry_uncounted",
        SendRetry::GiveUp => "give_up",
    };
    client
        .execute(&statement, &[&message_id, &error, &retry])
        .await?;
    Ok(())
}

/// Gives claimed, unstarted messages back (their contact is held back, the
/// number must wait, or the session went away).
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
             set claimed_by = null, claimed_until = null
             where id = any($1) and status = 'queued' and claimed_by = $2",
        )
        .await?;
    Ok(client
        .execute(&statement, &[&message_ids, &instance_id])
        .await?)
}

/// Marks failed the sends a crash interrupted
/// (`private.fail_interrupted_sends`): those whose lease expired, and those
/// another daemon started on a number this daemon now holds; returns how
/// many.
pub async fn fail_interrupted_sends(
    client: &Client,
    instance_id: &str,
) -> Result<i32, DatabaseError> {
    let statement = client
        .prepare_cached("select private.fail_interrupted_sends($1)")
        .await?;
    let row = client.query_one(&statement, &[&instance_id]).await?;
    Ok(row.try_get(0)?)
}

/// Reads the stored pacing states of some numbers.
pub async fn load_pacing_states(
    client: &Client,
    number_ids: &[Uuid],
) -> Result<Vec<(Uuid, Value)>, DatabaseError> {
    if number_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            "select number_id, state from public.number_pacing_states where number_id = any($1)",
            &[&number_ids],
        )
        .await?;
    let mut states = Vec::with_capacity(rows.len());
    for row in rows {
        states.push((row.try_get(0)?, row.try_get(1)?));
    }
    Ok(states)
}

/// Stores a number's pacing state and the pause it implies.
pub async fn save_pacing_state(
    client: &Client,
    number_id: Uuid,
    state: &Value,
    paused_until_ms: Option<i64>,
) -> Result<(), DatabaseError> {
    let statement = client
        .prepare_cached(
            "insert into public.number_pacing_states (number_id, state, paused_until)
             values ($1, $2::jsonb, to_timestamp($3::float8 / 1000))
             on conflict (number_id) do update
             set state = excluded.state, paused_until = excluded.paused_until",
        )
        .await?;
    let paused_until_ms = paused_until_ms.map(|ms| ms as f64);
    client
        .execute(&statement, &[&number_id, state, &paused_until_ms])
        .await?;
    Ok(())
}

/// Reads a number's `session_credentials.credentials`, if any.
pub async fn load_session_credentials(
    client: &Client,
    number_id: Uuid,
) -> Result<Option<Value>, DatabaseError> {
    let row = client
        .query_opt(
            "select credentials from public.session_credentials where number_id = $1",
            &[&number_id],
        )
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}

/// Returns the Cloud API number whose credentials name `phone_number_id`.
pub async fn cloud_number_by_phone_number_id(
    client: &Client,
    phone_number_id: &str,
) -> Result<Option<Uuid>, DatabaseError> {
    let statement = client
        .prepare_cached(
            "select s.number_id from public.session_credentials as s
             join public.numbers as n on n.id = s.number_id
             where n.transport = 'cloud' and s.credentials ->> 'phone_number_id' = $1
             order by n.created_at
             limit 1",
        )
        .await?;
    let row = client.query_opt(&statement, &[&phone_number_id]).await?;
    Ok(match row {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}

/// Reads a number for the HTTP API.
pub async fn number_by_id(
    client: &Client,
    number_id: Uuid,
) -> Result<Option<NumberRow>, DatabaseError> {
    let row = client
        .query_opt(
            "select phone_number, transport, session_status,
                    case when lease_expires_at > now() then lease_holder end
             from public.numbers where id = $1",
            &[&number_id],
        )
        .await?;
    Ok(match row {
        Some(row) => Some(NumberRow {
            phone_number: row.try_get(0)?,
            transport: row.try_get(1)?,
            session_status: row.try_get(2)?,
            lease_holder: row.try_get(3)?,
        }),
        None => None,
    })
}

/// Queues a session command for the daemon holding a number; returns its id.
pub async fn insert_session_command(
    client: &Client,
    number_id: Uuid,
    command: &str,
) -> Result<i64, DatabaseError> {
    let row = client
        .query_one(
            "insert into public.session_commands (number_id, command) values ($1, $2) returning id",
            &[&number_id, &command],
        )
        .await?;
    Ok(row.try_get(0)?)
}

/// Claims the pending commands of the numbers this daemon leases.
pub async fn claim_session_commands(
    client: &Client,
    instance_id: &str,
) -> Result<Vec<ClaimedSessionCommand>, DatabaseError> {
    let statement = client
        .prepare_cached("select id, number_id, command from private.claim_session_commands($1, 10)")
        .await?;
    let rows = client.query(&statement, &[&instance_id]).await?;
    let mut commands = Vec::with_capacity(rows.len());
    for row in rows {
        commands.push(ClaimedSessionCommand {
            command_id: row.try_get(0)?,
            number_id: row.try_get(1)?,
            command: row.try_get(2)?,
        });
    }
    Ok(commands)
}

/// Records a claimed command done (no error) or failed.
pub async fn complete_session_command(
    client: &Client,
    command_id: i64,
    error: Option<&str>,
) -> Result<(), DatabaseError> {
    client
        .execute(
            "select private.complete_session_command($1, $2)",
            &[&command_id, &error],
        )
        .await?;
    Ok(())
}

/// Counts the outbound messages waiting to be sent from the numbers this
/// daemon leases (queued or sending), for `/metrics`.
pub async fn outbound_queue_depth(
    client: &Client,
    instance_id: &str,
) -> Result<i64, DatabaseError> {
    let row = client
        .query_one(
            "select count(*) from public.messages as m
             join public.numbers as n on n.id = m.number_id
             where m.direction = 'outbound' and m.status in ('queued', 'sending')
               and n.lease_holder = $1",
            &[&instance_id],
        )
        .await?;
    Ok(row.try_get(0)?)
}

/// Returns how long the oldest due, undelivered outbox row has waited, in
/// seconds (0 when none waits), for `/metrics`.
pub async fn outbox_lag_seconds(client: &Client) -> Result<f64, DatabaseError> {
    let row = client
        .query_one(
            "select coalesce(extract(epoch from now() - min(created_at)), 0)::float8
             from public.outbox
             where delivered_at is null and dead_at is null and next_attempt_at <= now()",
            &[],
        )
        .await?;
    Ok(row.try_get(0)?)
}
