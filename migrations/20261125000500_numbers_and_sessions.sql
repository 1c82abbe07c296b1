-- =============================================================================
-- Numbers and their sessions: the daemons that run them (runtime_instances),
-- the lease that gives each number to exactly one daemon, the session's
-- status and credentials, the connection-event timeline, and the session
-- commands operators send.
--
-- Session status, as the runbook reads it (`connected` is healthy), follows
-- the health state machine: stopped, starting, pairing, connecting,
-- connected, disconnected, logged_out, banned, rate_limited, plus the
-- skeleton's degraded and failed. The daemon writes it; a connection event
-- also moves it (see `private.session_status_for_event`) and enqueues an
-- immediate health evaluation (outbox topic `health-check`).
--
-- A session command ("restart number X") is a row in `session_commands`;
-- its insert notifies the `session_commands` channel with the number's id,
-- and the daemon holding the number's lease claims it
-- (`private.claim_session_commands`).
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Runtime instances
-- -----------------------------------------------------------------------------

-- One row per session daemon process, upserted at start and on every
-- heartbeat. `id` is the daemon's instance id (WABOT_INSTANCE_ID).
create table public.runtime_instances (
    id text primary key check (length(id) between 1 and 200),
    version text not null default '',
    started_at timestamptz not null default now(),
    last_heartbeat_at timestamptz not null default now(),
    -- Where the daemon's GET /status answers, for the health check's probe.
    status_url text check (status_url ~ '^https?://')
);

-- -----------------------------------------------------------------------------
-- Numbers: status values, lease, updated_at
-- -----------------------------------------------------------------------------

alter table public.numbers drop constraint numbers_session_status_check;
alter table public.numbers add constraint numbers_session_status_check
    check (session_status in ('stopped', 'starting', 'pairing', 'connecting', 'connected',
                              'disconnected', 'logged_out', 'banned', 'rate_limited',
                              'degraded', 'failed'));

alter table public.numbers
    -- The daemon holding the number; only it may connect the session.
    add column lease_holder text references public.runtime_instances (id) on delete set null,
    -- The lease lapses at this time unless renewed with the heartbeat.
    add column lease_expires_at timestamptz,
    add column updated_at timestamptz not null default now();

create index numbers_by_lease_holder on public.numbers (lease_holder) where lease_holder is not null;

create trigger numbers_set_updated_at
    before update on public.numbers
    for each row execute function private.set_updated_at();

-- Only the columns an admin changes are audited; the daemon's status,
-- heartbeat and lease writes are not admin-relevant and are left out.
create trigger numbers_audit
    after insert or update or delete on public.numbers
    for each row execute function private.audit_row_change(
        'ignore:session_status', 'ignore:last_heartbeat_at', 'ignore:lease_holder',
        'ignore:lease_expires_at', 'ignore:updated_at');

-- Takes or renews the lease on one number for `runtime_instance_id` until
-- now() + `lease_duration`. Succeeds when the number is free, already held by
-- the caller, or its lease has expired; returns whether the caller holds it.
create function private.acquire_number_lease(
    runtime_instance_id text, leased_number_id uuid, lease_duration interval default '30 seconds'
) returns boolean
    language plpgsql security definer set search_path = '' as $$
declare
    n_updated integer;
begin
    update public.numbers as n
    set lease_holder = runtime_instance_id, lease_expires_at = now() + lease_duration
    where n.id = leased_number_id
      and (n.lease_holder is null or n.lease_holder = runtime_instance_id
           or n.lease_expires_at is null or n.lease_expires_at < now());
    get diagnostics n_updated = row_count;
    return n_updated = 1;
end;
$$;

-- Gives back every lease `runtime_instance_id` holds (a graceful shutdown);
-- returns how many.
create function private.release_number_leases(runtime_instance_id text) returns integer
    language plpgsql security definer set search_path = '' as $$
declare
    n_released integer;
begin
    update public.numbers as n
    set lease_holder = null, lease_expires_at = null
    where n.lease_holder = runtime_instance_id;
    get diagnostics n_released = row_count;
    return n_released;
end;
$$;

revoke all on function private.acquire_number_lease(text, uuid, interval) from public;
revoke all on function private.release_number_leases(text) from public;
grant execute on function private.acquire_number_lease(text, uuid, interval) to service_role;
grant execute on function private.release_number_leases(text) to service_role;

-- -----------------------------------------------------------------------------
-- Session credentials (secret)
-- -----------------------------------------------------------------------------

-- The WhatsApp session's keys (Web multi-device auth state, Cloud API token).
-- Only the service role may read or write them; signed-in users never can.
create table public.session_credentials (
    number_id uuid primary key references public.numbers (id) on delete cascade,
    credentials jsonb not null default '{}'::jsonb,
    updated_at timestamptz not null default now()
);

create trigger session_credentials_set_updated_at
    before update on public.session_credentials
    for each row execute function private.set_updated_at();

-- -----------------------------------------------------------------------------
-- Connection events
-- -----------------------------------------------------------------------------

alter table public.number_connection_events
    -- A machine-readable reason, such as WhatsApp's disconnect code (401, 515).
    add column code text,
    add constraint number_connection_events_event_check check (event ~ '^[a-z][a-z0-9_]*$');

create index number_connection_events_by_time on public.number_connection_events (occurred_at);

-- The session status an event implies, or null when the event says nothing
-- about it (`restarted` ends in connected or pairing, `heartbeat` only
-- refreshes last_heartbeat_at).
create function private.session_status_for_event(connection_event text) returns text
    language sql immutable set search_path = '' as $$
    select case connection_event
        when 'stopped' then 'stopped'
        when 'starting' then 'starting'
        when 'pairing' then 'pairing'
        when 'qr' then 'pairing'
        when 'pairing_code' then 'pairing'
        when 'connecting' then 'connecting'
        when 'reconnecting' then 'connecting'
        when 'connected' then 'connected'
        when 'reconnected' then 'connected'
        when 'disconnected' then 'disconnected'
        when 'logged_out' then 'logged_out'
        when 'banned' then 'banned'
        when 'rate_limited' then 'rate_limited'
        when 'degraded' then 'degraded'
        when 'failed' then 'failed'
        when 'connect_failed' then 'failed'
    end
$$;

revoke all on function private.session_status_for_event(text) from public;
grant execute on function private.session_status_for_event(text) to authenticated, service_role;

-- AFTER INSERT: moves the number's session_status as the event implies (a
-- heartbeat refreshes last_heartbeat_at instead), then enqueues an immediate
-- health evaluation of the number. Heartbeats enqueue nothing: the minutely
-- sweep covers them.
create function private.apply_connection_event() returns trigger
    language plpgsql security definer set search_path = '' as $$
declare
    implied_status text := private.session_status_for_event(new.event);
begin
    if new.event = 'heartbeat' then
        update public.numbers
        set last_heartbeat_at = greatest(last_heartbeat_at, new.occurred_at)
        where id = new.number_id;
        return null;
    end if;
    if implied_status is not null then
        update public.numbers
        set session_status = implied_status,
            last_heartbeat_at = case when implied_status = 'connected'
                                     then greatest(last_heartbeat_at, new.occurred_at)
                                     else last_heartbeat_at end
        where id = new.number_id and session_status is distinct from implied_status;
    end if;
    insert into public.outbox (topic, payload)
    values ('health-check', jsonb_build_object('number_id', new.number_id, 'reason', 'connection_event'));
    return null;
end;
$$;

revoke all on function private.apply_connection_event() from public;

create trigger number_connection_events_apply
    after insert on public.number_connection_events
    for each row execute function private.apply_connection_event();

-- The timeline is append-only: no update, by anyone. Old rows are deleted
-- only by the retention job (as the owner) or with their number.
create function private.refuse_connection_event_change() returns trigger
    language plpgsql set search_path = '' as $$
begin
    raise exception 'number_connection_events is append-only: update is not allowed'
        using errcode = 'insufficient_privilege';
end;
$$;

revoke all on function private.refuse_connection_event_change() from public;

create trigger number_connection_events_refuse_update
    before update on public.number_connection_events
    for each row execute function private.refuse_connection_event_change();

-- -----------------------------------------------------------------------------
-- Session commands
-- -----------------------------------------------------------------------------

create table public.session_commands (
    id bigint generated always as identity primary key,
    number_id uuid not null references public.numbers (id) on delete cascade,
    command text not null check (command in ('start', 'stop', 'restart')),
    requested_by uuid default auth.uid() references auth.users (id) on delete set null,
    requested_at timestamptz not null default now(),
    status text not null default 'pending' check (status in ('pending', 'claimed', 'done', 'failed')),
    claimed_by text references public.runtime_instances (id) on delete set null,
    claimed_at timestamptz,
    completed_at timestamptz,
    error text
);
create index session_commands_pending on public.session_commands (number_id, id) where status = 'pending';
create index session_commands_finished on public.session_commands (completed_at) where status in ('done', 'failed');

-- AFTER INSERT: wakes the daemons; the one holding the number claims it.
create function private.notify_session_command() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    perform pg_notify('session_commands', new.number_id::text);
    return null;
end;
$$;

revoke all on function private.notify_session_command() from public;

create trigger session_commands_notify
    after insert on public.session_commands
    for each row execute function private.notify_session_command();

-- BEFORE UPDATE: stamps claimed_at and completed_at when the status moves.
create function private.stamp_session_command() returns trigger
    language plpgsql set search_path = '' as $$
begin
    if new.status = 'claimed' and old.status is distinct from 'claimed' then
        new.claimed_at := coalesce(new.claimed_at, now());
    elsif new.status in ('done', 'failed') and old.status not in ('done', 'failed') then
        new.completed_at := coalesce(new.completed_at, now());
    end if;
    return new;
end;
$$;

revoke all on function private.stamp_session_command() from public;

create trigger session_commands_stamp
    before update of status on public.session_commands
    for each row execute function private.stamp_session_command();

create trigger session_commands_audit
    after insert on public.session_commands
    for each row execute function private.audit_row_change();

-- Claims the pending commands of the numbers whose lease
-- `runtime_instance_id` holds, oldest first, with FOR UPDATE SKIP LOCKED.
create function private.claim_session_commands(runtime_instance_id text, batch_size integer default 10)
    returns table (id bigint, number_id uuid, command text, requested_by uuid, requested_at timestamptz)
    language plpgsql security definer set search_path = '' as $$
begin
    return query
    with claimed as (
        update public.session_commands as c
        set status = 'claimed', claimed_by = runtime_instance_id
        where c.id in (
            select p.id from public.session_commands as p
            join public.numbers as n on n.id = p.number_id
            where p.status = 'pending'
              and n.lease_holder = runtime_instance_id and n.lease_expires_at > now()
            order by p.id
            for update of p skip locked
            limit batch_size
        )
        returning c.id, c.number_id, c.command, c.requested_by, c.requested_at
    )
    select k.id, k.number_id, k.command, k.requested_by, k.requested_at from claimed as k order by k.id;
end;
$$;

-- Records the outcome of a claimed command: done, or failed with the error.
create function private.complete_session_command(command_id bigint, failure text default null)
    returns void
    language sql security definer set search_path = '' as $$
    update public.session_commands
    set status = case when failure is null then 'done' else 'failed' end, error = failure
    where id = command_id and status = 'claimed'
$$;

revoke all on function private.claim_session_commands(text, integer) from public;
revoke all on function private.complete_session_command(bigint, text) from public;
grant execute on function private.claim_session_commands(text, integer) to service_role;
grant execute on function private.complete_session_command(bigint, text) to service_role;

-- -----------------------------------------------------------------------------
-- Row-level security and grants
-- -----------------------------------------------------------------------------

alter table public.runtime_instances enable row level security;
alter table public.session_credentials enable row level security;
alter table public.session_commands enable row level security;
-- numbers and number_connection_events have had RLS on since the skeleton.

revoke all on public.runtime_instances, public.session_credentials, public.session_commands
    from public, anon, authenticated, service_role;

grant select, insert, update, delete on public.runtime_instances to service_role;
grant select on public.runtime_instances to authenticated;

grant select, insert, update, delete on public.session_credentials to service_role;

grant select, insert, update, delete on public.session_commands to service_role;
grant select on public.session_commands to authenticated;
grant insert (number_id, command) on public.session_commands to authenticated;

-- Numbers: admins manage the admin columns; the daemon (service role) owns
-- session_status, last_heartbeat_at and the lease.
grant insert (id, phone_number, label, transport, bot_id) on public.numbers to authenticated;
grant update (phone_number, label, transport, bot_id) on public.numbers to authenticated;
grant delete on public.numbers to authenticated;

-- The connection timeline: the daemon appends, nobody edits or deletes.
revoke update, delete, truncate on public.number_connection_events from anon, authenticated, service_role;

drop policy "Signed-in users can read numbers" on public.numbers;
drop policy "Signed-in users can read connection events" on public.number_connection_events;

create policy "Members can read numbers" on public.numbers
    for select to authenticated
    using ((select private.has_role('viewer')));

create policy "Admins can add numbers" on public.numbers
    for insert to authenticated
    with check ((select private.has_role('admin')));

create policy "Admins can change numbers" on public.numbers
    for update to authenticated
    using ((select private.has_role('admin')))
    with check ((select private.has_role('admin')));

create policy "Admins can remove numbers" on public.numbers
    for delete to authenticated
    using ((select private.has_role('admin')));

create policy "Members can read connection events" on public.number_connection_events
    for select to authenticated
    using ((select private.has_role('viewer')));

create policy "Members can read runtime instances" on public.runtime_instances
    for select to authenticated
    using ((select private.has_role('viewer')));

create policy "Only the service role handles session credentials" on public.session_credentials
    for all to service_role
    using (true)
    with check (true);

create policy "Members can read session commands" on public.session_commands
    for select to authenticated
    using ((select private.has_role('viewer')));

create policy "Operators can request session commands in their own name" on public.session_commands
    for insert to authenticated
    with check ((select private.has_role('operator'))
                and requested_by = (select auth.uid())
                and status = 'pending');
