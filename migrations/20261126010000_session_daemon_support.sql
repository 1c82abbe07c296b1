-- =============================================================================
-- What the session daemon needs beyond the numbers-and-sessions schema:
--
-- * Connection events in the health crate's vocabulary (`qr_shown`,
--   `pair_code_shown`, `paired`, `stream_replaced`, `temporary_ban`,
--   `rate_limit_cleared`, `client_outdated`, `start_requested`,
--   `stop_requested`) move `session_status` like the older names do.
-- * Leases taken and renewed in one statement for many numbers
--   (`private.acquire_number_leases`, `private.renew_number_leases`), the
--   same rule as `private.acquire_number_lease` but set-based, so a daemon
--   holding 10,000 numbers renews them with one round trip per heartbeat.
-- * A contact's phone-based WhatsApp id and its LID recorded together
--   (`private.record_contact_identity`), merging the two rows when both
--   were known apart.
-- * Send pacing that survives a restart or a failover
--   (`number_pacing_states`: the health crate's `PacingState` as JSON, and
--   the pause it implies).
-- * An index for "has this number ever exchanged a message with this
--   contact?", which the pacing policy asks for every send.
-- * Sends interrupted by a crash marked as such
--   (`private.fail_interrupted_sends`): a message whose send started
--   (`status = 'sending'`) and whose lease ran out without an outcome may or
--   may not have reached WhatsApp, so it is marked `failed` with an error
--   saying so, never queued again.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Connection events in the health crate's vocabulary
-- -----------------------------------------------------------------------------

-- The older names keep their meaning; the health crate's names (the
-- `ConnectionEventKind`s the daemon writes) are added. `restarted`,
-- `heartbeat` and unknown events still imply nothing.
create or replace function private.session_status_for_event(connection_event text) returns text
    language sql immutable set search_path = '' as $$
    select case connection_event
        when 'stopped' then 'stopped'
        when 'stop_requested' then 'stopped'
        when 'starting' then 'starting'
        when 'start_requested' then 'starting'
        when 'pairing' then 'pairing'
        when 'qr' then 'pairing'
        when 'qr_shown' then 'pairing'
        when 'pairing_code' then 'pairing'
        when 'pair_code_shown' then 'pairing'
        when 'paired' then 'connecting'
        when 'connecting' then 'connecting'
        when 'reconnecting' then 'connecting'
        when 'connected' then 'connected'
        when 'reconnected' then 'connected'
        when 'rate_limit_cleared' then 'connected'
        when 'disconnected' then 'disconnected'
        when 'stream_replaced' then 'disconnected'
        when 'client_outdated' then 'disconnected'
        when 'logged_out' then 'logged_out'
        when 'banned' then 'banned'
        when 'rate_limited' then 'rate_limited'
        when 'temporary_ban' then 'rate_limited'
        when 'degraded' then 'degraded'
        when 'failed' then 'failed'
        when 'connect_failed' then 'failed'
    end
$$;

-- -----------------------------------------------------------------------------
-- Leases for many numbers at once
-- -----------------------------------------------------------------------------

-- Takes the leases of up to `max_numbers` numbers that are free (no holder,
-- or an expired lease) for `runtime_instance_id`, until now() +
-- `lease_duration`, and returns them. Only numbers whose transport is in
-- `transports` are taken, and, when `phone_numbers` is not null, only those
-- numbers. Rows locked by a concurrent taker are skipped, so two daemons
-- never take the same number. `sticky_stop` tells that an operator stopped
-- the session (the last `stopped` event says `"sticky": true`), so the new
-- holder keeps it stopped instead of connecting it.
create function private.acquire_number_leases(
    runtime_instance_id text,
    lease_duration interval,
    transports text[],
    phone_numbers text[] default null,
    max_numbers integer default 1000
) returns table (
    number_id uuid, phone_number text, transport text, session_status text,
    number_created_at timestamptz, sticky_stop boolean
)
    language plpgsql security definer set search_path = '' as $$
begin
    if lease_duration is null or lease_duration <= interval '0' then
        raise exception 'lease_duration must be positive, got %', lease_duration;
    end if;
    if max_numbers is null or max_numbers < 0 then
        raise exception 'max_numbers must not be negative, got %', max_numbers;
    end if;
    return query
    with taken as (
        update public.numbers as n
        set lease_holder = runtime_instance_id, lease_expires_at = now() + lease_duration
        where n.id in (
            select f.id from public.numbers as f
            where (f.lease_holder is null or f.lease_expires_at is null or f.lease_expires_at < now())
              and f.transport = any(transports)
              and (phone_numbers is null or f.phone_number = any(phone_numbers))
            order by f.created_at, f.id
            for update skip locked
            limit max_numbers
        )
        returning n.id, n.phone_number, n.transport, n.session_status, n.created_at
    )
    select t.id, t.phone_number, t.transport, t.session_status, t.created_at,
           t.session_status = 'stopped' and coalesce((
               select (e.detail ->> 'sticky')::boolean
               from public.number_connection_events as e
               where e.number_id = t.id and e.event in ('stopped', 'stop_requested')
               order by e.id desc
               limit 1), false)
    from taken as t
    order by t.created_at, t.id;
end;
$$;

-- Renews the leases `runtime_instance_id` still holds among `number_ids`
-- until now() + `lease_duration`, and returns the ids renewed. A number
-- missing from the answer is no longer this daemon's (another daemon took
-- it after the lease expired, or it was deleted): the daemon lets go of it.
create function private.renew_number_leases(
    runtime_instance_id text, lease_duration interval, number_ids uuid[]
) returns table (number_id uuid)
    language plpgsql security definer set search_path = '' as $$
begin
    if lease_duration is null or lease_duration <= interval '0' then
        raise exception 'lease_duration must be positive, got %', lease_duration;
    end if;
    return query
    update public.numbers as n
    set lease_expires_at = now() + lease_duration
    where n.id = any(number_ids) and n.lease_holder = runtime_instance_id
    returning n.id;
end;
$$;

-- Gives back the leases of some numbers (a session let go of while the
-- daemon keeps running); returns how many.
create function private.release_number_leases_of(runtime_instance_id text, number_ids uuid[])
    returns integer
    language plpgsql security definer set search_path = '' as $$
declare
    n_released integer;
begin
    update public.numbers as n
    set lease_holder = null, lease_expires_at = null
    where n.id = any(number_ids) and n.lease_holder = runtime_instance_id;
    get diagnostics n_released = row_count;
    return n_released;
end;
$$;

revoke all on function private.acquire_number_leases(text, interval, text[], text[], integer) from public;
revoke all on function private.renew_number_leases(text, interval, uuid[]) from public;
revoke all on function private.release_number_leases_of(text, uuid[]) from public;
grant execute on function private.acquire_number_leases(text, interval, text[], text[], integer) to service_role;
grant execute on function private.renew_number_leases(text, interval, uuid[]) to service_role;
grant execute on function private.release_number_leases_of(text, uuid[]) to service_role;

-- -----------------------------------------------------------------------------
-- Contact identities: phone-based id and LID together
-- -----------------------------------------------------------------------------

-- Records that the phone-based WhatsApp id `phone_wa_id` (digits) and the
-- LID `contact_lid` (`<digits>@lid`) are the same person, with their display
-- name, and returns the contact's id. Either id may be null. When both ids
-- already had a row of their own, the LID's row is merged into the phone's
-- (its conversations follow) and removed. Ids that cannot be read are
-- ignored; with neither id readable the answer is null.
create function private.record_contact_identity(phone_wa_id text, contact_lid text, contact_name text)
    returns uuid
    language plpgsql security definer set search_path = '' as $$
declare
    clean_digits text := regexp_replace(regexp_replace(lower(btrim(coalesce(phone_wa_id, ''))),
                                                       '@s\.whatsapp\.net$', ''), '^\+', '');
    clean_lid text := lower(btrim(coalesce(contact_lid, '')));
    clean_phone text;
    by_phone uuid;
    by_lid uuid;
    lid_name text;
    kept uuid;
begin
    if clean_digits !~ '^[0-9]{5,20}$' then
        clean_digits := null;
    end if;
    if clean_lid !~ '^[0-9]{5,30}@lid$' then
        clean_lid := null;
    end if;
    if clean_digits is null and clean_lid is null then
        return null;
    end if;
    if clean_digits ~ '^[1-9][0-9]{6,14}$' then
        clean_phone := '+' || clean_digits;
    end if;

    if clean_digits is not null then
        by_phone := private.resolve_contact(clean_digits, contact_name);
    end if;
    if clean_lid is not null then
        select c.id into by_lid from public.contacts as c where c.lid = clean_lid;
    end if;

    if by_phone is null then
        -- Only a LID (or an unreadable phone id): the LID's own row.
        return private.resolve_contact(clean_lid, contact_name);
    end if;
    kept := by_phone;
    if by_lid is not null and by_lid <> by_phone then
        -- The same person was known under both ids apart: keep the phone's
        -- row (and the LID row's name when it has none), move the LID row's
        -- conversations over, drop it.
        select c.display_name into lid_name from public.contacts as c where c.id = by_lid;
        update public.conversations set contact_id = kept where contact_id = by_lid;
        delete from public.contacts where id = by_lid;
    end if;
    update public.contacts as c
    set lid = coalesce(clean_lid, c.lid),
        wa_id = coalesce(c.wa_id, clean_digits),
        phone_number = coalesce(c.phone_number, clean_phone),
        display_name = coalesce(contact_name, c.display_name, lid_name)
    where c.id = kept;
    return kept;
end;
$$;

revoke all on function private.record_contact_identity(text, text, text) from public;
grant execute on function private.record_contact_identity(text, text, text) to service_role;

-- -----------------------------------------------------------------------------
-- Send pacing state
-- -----------------------------------------------------------------------------

-- One number's send-pacing state (the health crate's `PacingState`, as JSON)
-- and the pause it implies, written by the daemon holding the number after
-- a rate-limit error and with its heartbeats. A daemon taking a number over
-- reads it, so a pause outlives a restart or a failover.
create table public.number_pacing_states (
    number_id uuid primary key references public.numbers (id) on delete cascade,
    state jsonb not null default '{}'::jsonb,
    -- Sending is paused until this time after rate-limit errors.
    paused_until timestamptz,
    updated_at timestamptz not null default now()
);

create trigger number_pacing_states_set_updated_at
    before update on public.number_pacing_states
    for each row execute function private.set_updated_at();

alter table public.number_pacing_states enable row level security;

revoke all on public.number_pacing_states from public, anon, authenticated, service_role;
grant select, insert, update, delete on public.number_pacing_states to service_role;
grant select on public.number_pacing_states to authenticated;

create policy "Members can read send pacing" on public.number_pacing_states
    for select to authenticated
    using ((select private.has_role('viewer')));

create policy "Only the service role writes send pacing" on public.number_pacing_states
    for all to service_role
    using (true)
    with check (true);

-- -----------------------------------------------------------------------------
-- Interrupted sends
-- -----------------------------------------------------------------------------

-- The daemon asks, for every message it claims, whether the number ever
-- exchanged a message with the contact (the pacing policy's new-contact
-- budget); this index answers without scanning the number's history.
create index messages_by_number_and_contact on public.messages (number_id, contact_wa_id);

-- Marks failed every outbound message whose send started (`sending`) and
-- whose daemon is gone without recording an outcome: its send lease expired,
-- or (when `runtime_instance_id` is given) the number is now leased to that
-- daemon while another daemon started the send, which means the starter lost
-- the number. The message may or may not have been delivered, so it is never
-- queued again (no silent duplicate); returns how many were marked.
create function private.fail_interrupted_sends(runtime_instance_id text default null) returns integer
    language plpgsql security definer set search_path = '' as $$
declare
    n_failed integer;
begin
    update public.messages as m
    set status = 'failed',
        error = 'interrupted: the send may or may not have been delivered (its daemon stopped before recording the outcome); not retried to avoid a duplicate',
        claimed_by = null,
        claimed_until = null
    where m.direction = 'outbound' and m.status = 'sending'
      and (m.claimed_until < now()
           or (runtime_instance_id is not null
               and m.claimed_by is distinct from runtime_instance_id
               and exists (select 1 from public.numbers as n
                           where n.id = m.number_id and n.lease_holder = runtime_instance_id
                             and n.lease_expires_at > now())));
    get diagnostics n_failed = row_count;
    return n_failed;
end;
$$;

revoke all on function private.fail_interrupted_sends(text) from public;
grant execute on function private.fail_interrupted_sends(text) to service_role;
