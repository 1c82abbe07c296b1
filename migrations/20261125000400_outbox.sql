-- =============================================================================
-- The durable outbox: work to deliver over HTTP, written in the same
-- transaction as the change that caused it.
--
-- Topics and their payloads (docs/data-model.md has the full list):
--   route-message  {"message_id": "<uuid>"}                 inbound message
--   health-check   {"number_id": "<uuid>", "reason": "connection_event"}
--                  or {"sweep": true}                        pg_cron, minutely
--   alert-dispatch {"type", "table", "schema", "record", "old_record"}
--                  shaped exactly like a Supabase database webhook
--
-- A relay claims due rows with FOR UPDATE SKIP LOCKED and a lease
-- (`private.claim_outbox`), posts `{"outbox_id": <id>, ...payload}` to the
-- Edge Function named by `target` (or by `topic` when `target` is null),
-- and records the outcome (`private.record_outbox_delivery`,
-- `private.record_outbox_failure`). After `outbox_max_attempts` (10) failed
-- attempts a row is dead-lettered: `dead_at` is set and nobody retries it.
-- Delivery is at least once; consumers are idempotent.
--
-- Every insert notifies the `outbox` channel with the row's id, which wakes
-- the daemons' relays locally. On hosted Supabase the pg_net doorbell
-- (20261125001000_outbox_doorbell.sql) wakes the outbox-relay function.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Target
-- -----------------------------------------------------------------------------

-- Where a row is delivered: an Edge Function's slug. Null delivers to the
-- function named like the topic, which is what every topic does today.
alter table public.outbox
    add column target text check (target ~ '^[a-z][a-z0-9-]*$');

create index outbox_dead on public.outbox (dead_at) where dead_at is not null;
create index outbox_delivered on public.outbox (delivered_at) where delivered_at is not null;

-- -----------------------------------------------------------------------------
-- One notification per row, from the outbox itself
-- -----------------------------------------------------------------------------

create function private.notify_outbox_row() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    perform pg_notify('outbox', new.id::text);
    return null;
end;
$$;

revoke all on function private.notify_outbox_row() from public;

create trigger outbox_notify
    after insert on public.outbox
    for each row execute function private.notify_outbox_row();

-- The inbound trigger no longer notifies: the outbox trigger above does, for
-- every topic, so a routing row is announced exactly once.
create or replace function private.enqueue_inbound_routing() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    insert into public.outbox (topic, payload)
    values ('route-message', jsonb_build_object('message_id', new.id));
    return null;
end;
$$;

-- -----------------------------------------------------------------------------
-- Claiming and recording outcomes
-- -----------------------------------------------------------------------------

-- Dead-letters rows whose attempts are used up and whose last lease expired
-- without an outcome (the relay died mid-delivery). Returns how many.
create function private.dead_letter_exhausted_outbox_rows() returns integer
    language plpgsql security definer set search_path = '' as $$
declare
    max_attempts constant integer := private.setting_integer('outbox_max_attempts');
    n_dead integer;
begin
    update public.outbox
    set dead_at = now(),
        last_error = coalesce(last_error, 'no outcome recorded for the last attempt')
    where delivered_at is null and dead_at is null
      and attempts >= max_attempts and next_attempt_at <= now();
    get diagnostics n_dead = row_count;
    return n_dead;
end;
$$;

-- Claims up to `batch_size` due rows for one delivery attempt each: counts
-- the attempt and leases the row until now() + `lease`, in one statement
-- with FOR UPDATE SKIP LOCKED, so concurrent relays never claim the same
-- row. Rows that used up their attempts are dead-lettered, not claimed.
create function private.claim_outbox(batch_size integer default 20, lease interval default '30 seconds')
    returns table (id bigint, topic text, target text, payload jsonb, attempts integer)
    language plpgsql security definer set search_path = '' as $$
declare
    max_attempts constant integer := private.setting_integer('outbox_max_attempts');
begin
    if batch_size is null or batch_size < 1 then
        raise exception 'batch_size must be at least 1, got %', batch_size;
    end if;
    if lease is null or lease <= interval '0' then
        raise exception 'lease must be positive, got %', lease;
    end if;
    perform private.dead_letter_exhausted_outbox_rows();
    return query
    with claimed as (
        update public.outbox as o
        set attempts = o.attempts + 1, next_attempt_at = now() + lease
        where o.id in (
            select d.id from public.outbox as d
            where d.delivered_at is null and d.dead_at is null
              and d.next_attempt_at <= now() and d.attempts < max_attempts
            order by d.id
            for update skip locked
            limit batch_size
        )
        returning o.id, o.topic, coalesce(o.target, o.topic) as target, o.payload, o.attempts
    )
    select c.id, c.topic, c.target, c.payload, c.attempts from claimed as c order by c.id;
end;
$$;

-- Marks a claimed row delivered.
create function private.record_outbox_delivery(outbox_id bigint) returns void
    language sql security definer set search_path = '' as $$
    update public.outbox set delivered_at = now(), last_error = null where id = outbox_id
$$;

-- Records a failed attempt: the error, and either the next attempt after an
-- exponential backoff (2 s, 4 s, 8 s, … capped at `outbox_max_backoff`), or
-- the dead letter when the attempts are used up. Returns true when the row
-- is now dead.
create function private.record_outbox_failure(outbox_id bigint, failure text) returns boolean
    language plpgsql security definer set search_path = '' as $$
declare
    max_attempts constant integer := private.setting_integer('outbox_max_attempts');
    max_backoff constant interval := private.setting_interval('outbox_max_backoff');
    is_dead boolean;
begin
    update public.outbox as o
    set last_error = left(failure, 2000),
        dead_at = case when o.attempts >= max_attempts then now() end,
        next_attempt_at = now() + least(
            max_backoff,
            interval '1 second' * power(2, least(greatest(o.attempts, 0), 20))
        )
    where o.id = outbox_id and o.delivered_at is null
    returning o.dead_at is not null into is_dead;
    return coalesce(is_dead, false);
end;
$$;

revoke all on function private.dead_letter_exhausted_outbox_rows() from public;
revoke all on function private.claim_outbox(integer, interval) from public;
revoke all on function private.record_outbox_delivery(bigint) from public;
revoke all on function private.record_outbox_failure(bigint, text) from public;
grant execute on function private.dead_letter_exhausted_outbox_rows() to service_role;
grant execute on function private.claim_outbox(integer, interval) to service_role;
grant execute on function private.record_outbox_delivery(bigint) to service_role;
grant execute on function private.record_outbox_failure(bigint, text) to service_role;

-- -----------------------------------------------------------------------------
-- Row-level security
-- -----------------------------------------------------------------------------

-- RLS has been on since the skeleton, with no policy: only the service role
-- (which bypasses RLS) sees the outbox. This policy says so explicitly.
create policy "Only the service role relays the outbox" on public.outbox
    for all to service_role
    using (true)
    with check (true);
