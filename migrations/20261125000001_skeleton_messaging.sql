-- =============================================================================
-- Skeleton messaging schema: bots, numbers, conversations, messages, the
-- durable outbox and the connection-event timeline.
--
-- One message travels: the daemon inserts an inbound `messages` row; a trigger
-- writes an `outbox` row in the same transaction; the relay delivers it to the
-- `route-message` Edge Function, which writes queued replies; the daemon claims
-- queued replies with FOR UPDATE SKIP LOCKED and sends them.
--
-- Every table has row-level security enabled. This migration grants nothing to
-- `anon`; `authenticated` may read through the policies below; `service_role`
-- (the daemon and the functions) is granted explicitly.
-- =============================================================================

create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to service_role, authenticated;

grant usage on schema public to anon, authenticated, service_role;

-- -----------------------------------------------------------------------------
-- Bots and their versions
-- -----------------------------------------------------------------------------

create table public.bots (
    id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 200),
    created_at timestamptz not null default now()
);

create table public.bot_versions (
    id uuid primary key default gen_random_uuid(),
    bot_id uuid not null references public.bots (id) on delete cascade,
    version integer not null check (version > 0),
    definition jsonb not null,
    status text not null default 'draft' check (status in ('draft', 'published', 'archived')),
    created_at timestamptz not null default now(),
    published_at timestamptz,
    unique (bot_id, version)
);

-- At most one published version per bot.
create unique index bot_versions_one_published_per_bot
    on public.bot_versions (bot_id) where status = 'published';

-- -----------------------------------------------------------------------------
-- Numbers (one WhatsApp session each)
-- -----------------------------------------------------------------------------

create table public.numbers (
    id uuid primary key default gen_random_uuid(),
    phone_number text not null unique check (phone_number ~ '^\+[1-9][0-9]{6,14}$'),
    label text not null default '',
    transport text not null default 'simulator' check (transport in ('simulator', 'web', 'cloud')),
    bot_id uuid references public.bots (id) on delete set null,
    session_status text not null default 'stopped'
        check (session_status in ('stopped', 'starting', 'pairing', 'connected', 'degraded',
                                  'disconnected', 'rate_limited', 'logged_out', 'failed')),
    last_heartbeat_at timestamptz,
    created_at timestamptz not null default now()
);

-- Append-only timeline of what happened to each number's session.
create table public.number_connection_events (
    id bigint generated always as identity primary key,
    number_id uuid not null references public.numbers (id) on delete cascade,
    event text not null,
    reason text,
    detail jsonb not null default '{}'::jsonb,
    occurred_at timestamptz not null default now()
);
create index number_connection_events_by_number on public.number_connection_events (number_id, occurred_at desc);

-- -----------------------------------------------------------------------------
-- Conversations and messages
-- -----------------------------------------------------------------------------

create table public.conversations (
    id uuid primary key default gen_random_uuid(),
    number_id uuid not null references public.numbers (id) on delete cascade,
    contact_wa_id text not null,
    contact_name text,
    bot_version_id uuid references public.bot_versions (id) on delete set null,
    flow_state jsonb not null default '{}'::jsonb,
    mode text not null default 'bot' check (mode in ('bot', 'human', 'closed')),
    last_activity_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    unique (number_id, contact_wa_id)
);

create table public.messages (
    id uuid primary key default gen_random_uuid(),
    number_id uuid not null references public.numbers (id) on delete cascade,
    conversation_id uuid references public.conversations (id) on delete set null,
    direction text not null check (direction in ('inbound', 'outbound')),
    contact_wa_id text not null,
    contact_name text,
    -- WhatsApp's id for the message; unique per number so a redelivery is a no-op.
    wa_message_id text,
    body text not null default '',
    payload jsonb not null default '{}'::jsonb,
    status text not null
        check (status in ('received', 'queued', 'sending', 'sent', 'delivered', 'read', 'failed')),
    -- For replies: the inbound message that caused them, and their order.
    in_reply_to uuid references public.messages (id) on delete set null,
    reply_index integer,
    -- For inbound messages: when routing finished (idempotency of route-message).
    routed_at timestamptz,
    -- For outbound messages: the send lease taken by a daemon.
    claimed_by text,
    claimed_until timestamptz,
    attempts integer not null default 0,
    error text,
    created_at timestamptz not null default now(),
    sent_at timestamptz,
    unique (number_id, wa_message_id),
    unique (in_reply_to, reply_index)
);
create index messages_queued_outbound on public.messages (number_id, created_at)
    where direction = 'outbound' and status in ('queued', 'sending');
create index messages_by_conversation on public.messages (conversation_id, created_at);

-- -----------------------------------------------------------------------------
-- The durable outbox
-- -----------------------------------------------------------------------------

-- Work to deliver over HTTP to an Edge Function named by `topic`. Delivery is
-- at least once: consumers are idempotent on the payload they receive.
create table public.outbox (
    id bigint generated always as identity primary key,
    topic text not null check (topic ~ '^[a-z][a-z0-9-]*$'),
    payload jsonb not null,
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error text,
    delivered_at timestamptz,
    dead_at timestamptz,
    created_at timestamptz not null default now()
);
create index outbox_due on public.outbox (next_attempt_at)
    where delivered_at is null and dead_at is null;

-- An inbound message enqueues its routing in the same transaction.
create function private.enqueue_inbound_routing() returns trigger
    language plpgsql security definer set search_path = '' as $$
declare
    new_outbox_id bigint;
begin
    insert into public.outbox (topic, payload)
    values ('route-message', jsonb_build_object('message_id', new.id))
    returning id into new_outbox_id;
    perform pg_notify('outbox', new_outbox_id::text);
    return null;
end;
$$;

create trigger messages_inbound_enqueue_routing
    after insert on public.messages
    for each row when (new.direction = 'inbound')
    execute function private.enqueue_inbound_routing();

-- A queued outbound message wakes the daemons.
create function private.notify_outbound_queued() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    perform pg_notify('outbound', new.number_id::text);
    return null;
end;
$$;

create trigger messages_outbound_notify
    after insert on public.messages
    for each row when (new.direction = 'outbound' and new.status = 'queued')
    execute function private.notify_outbound_queued();

revoke all on function private.enqueue_inbound_routing() from public;
revoke all on function private.notify_outbound_queued() from public;

-- -----------------------------------------------------------------------------
-- Row-level security and grants
-- -----------------------------------------------------------------------------

alter table public.bots enable row level security;
alter table public.bot_versions enable row level security;
alter table public.numbers enable row level security;
alter table public.number_connection_events enable row level security;
alter table public.conversations enable row level security;
alter table public.messages enable row level security;
alter table public.outbox enable row level security;

-- The service role (daemon, functions) works on everything; it bypasses RLS.
grant select, insert, update, delete on
    public.bots, public.bot_versions, public.numbers, public.conversations, public.messages, public.outbox
    to service_role;
grant select, insert on public.number_connection_events to service_role;
grant usage, select on all sequences in schema public to service_role;

-- Signed-in users read the messaging data. Finer roles (members) come with the
-- full schema; until then every signed-in user of the project is a viewer.
grant select on
    public.bots, public.bot_versions, public.numbers, public.number_connection_events,
    public.conversations, public.messages
    to authenticated;

create policy "Signed-in users can read bots" on public.bots
    for select to authenticated using (true);
create policy "Signed-in users can read bot versions" on public.bot_versions
    for select to authenticated using (true);
create policy "Signed-in users can read numbers" on public.numbers
    for select to authenticated using (true);
create policy "Signed-in users can read connection events" on public.number_connection_events
    for select to authenticated using (true);
create policy "Signed-in users can read conversations" on public.conversations
    for select to authenticated using (true);
create policy "Signed-in users can read messages" on public.messages
    for select to authenticated using (true);
-- The outbox has no policy for signed-in users: only the service role sees it.
