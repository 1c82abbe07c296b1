-- =============================================================================
-- Event webhooks (issue 14): subscriptions, events, deliveries and their
-- attempts, written by triggers in the same transaction as the change.
--
-- A change (an inbound message, an outbound status, a takeover, a session
-- status, an alert) calls `private.emit_webhook_event`: when a subscription
-- wants the event type for that number, the event is stored once
-- (`webhook_events`, id `evt_<32 hex>`), one delivery per subscription is
-- queued (`webhook_deliveries`), and an outbox row of topic
-- `webhook-dispatch` wakes the `webhook-dispatch` function (a pg_cron tick
-- wakes it every minute too, for retries).
--
-- Order: the deliveries of one subscription are ordered per conversation
-- (or per number for session events, globally for the rest): only the
-- oldest pending delivery of each (subscription, ordering key) is claimed,
-- so a receiver that was down gets every event afterwards, in order.
--
-- Retries back off 5 s, 30 s, 2 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h,
-- 8 h; after the last attempt (`webhook_max_attempts`, 10) the delivery is
-- dead (a dead letter, replayable). A subscription failing without a
-- success for `webhook_pause_after` and at least
-- `webhook_pause_after_failures` attempts is paused, and an alert of kind
-- `webhook_paused` says so; paused subscriptions keep queueing, so
-- resuming delivers what happened meanwhile.
--
-- Secrets (`whsec_…`, Standard Webhooks) live in
-- `private.webhook_secrets`, which no client role can read.
-- =============================================================================

insert into private.settings (key, value, description) values
    ('webhook_max_attempts', '10',
     'Delivery attempts after which a webhook delivery is dead (a dead letter).'),
    ('webhook_pause_after', '"24 hours"',
     'How long a webhook subscription may fail without one success before it is paused.'),
    ('webhook_pause_after_failures', '10',
     'The fewest consecutive failed attempts that pause a webhook subscription.'),
    ('retention_webhook_events', '"30 days"',
     'Webhook events (with their deliveries and attempts) older than this are deleted.')
on conflict (key) do nothing;

-- The event types, in one place (the functions' list is checked against it).
create function private.webhook_event_types() returns text[]
    language sql immutable set search_path = '' as $$
    select array['message.received', 'message.sent', 'message.delivered', 'message.read', 'message.failed',
                 'conversation.handoff', 'conversation.closed', 'session.status_changed',
                 'alert.opened', 'alert.resolved']::text[]
$$;

revoke all on function private.webhook_event_types() from public;
grant execute on function private.webhook_event_types() to authenticated, service_role;

create table public.webhook_subscriptions (
    id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 200),
    url text not null check (length(url) <= 2048 and url ~ '^https?://[^[:space:]]+$'),
    events text[] not null check (cardinality(events) between 1 and 10
                                  and events <@ private.webhook_event_types()),
    -- The numbers whose events are sent; null for every number.
    number_ids uuid[] check (number_ids is null or cardinality(number_ids) between 1 and 1000),
    status text not null default 'active' check (status in ('active', 'paused')),
    paused_reason text check (paused_reason is null or length(paused_reason) <= 500),
    paused_at timestamptz,
    consecutive_failures integer not null default 0,
    -- The first failed attempt since the last success.
    failing_since timestamptz,
    -- The API key that created the subscription, if one did.
    api_key_id uuid references public.api_keys (id) on delete set null,
    created_by uuid references auth.users (id) on delete set null default auth.uid(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.webhook_subscriptions is
    'Event webhooks: where to send which events, signed per Standard Webhooks.';

create trigger webhook_subscriptions_set_updated_at
    before update on public.webhook_subscriptions
    for each row execute function private.set_updated_at();

create trigger webhook_subscriptions_audit
    after insert or update or delete on public.webhook_subscriptions
    for each row execute function private.audit_row_change('ignore:consecutive_failures',
                                                            'ignore:failing_since', 'ignore:updated_at');

create table private.webhook_secrets (
    subscription_id uuid primary key references public.webhook_subscriptions (id) on delete cascade,
    secret text not null check (secret ~ '^whsec_[A-Za-z0-9+/]{43}=$'),
    created_at timestamptz not null default now()
);

revoke all on private.webhook_secrets from public, anon, authenticated;
grant select, insert, update, delete on private.webhook_secrets to service_role;

create table public.webhook_events (
    id text primary key default 'evt_' || replace(gen_random_uuid()::text, '-', '')
        check (id ~ '^evt_[0-9a-f]{32}$'),
    type text not null check (type = 'webhook.test' or type = any(private.webhook_event_types())),
    number_id uuid references public.numbers (id) on delete set null,
    conversation_id uuid references public.conversations (id) on delete set null,
    data jsonb not null,
    created_at timestamptz not null default now()
);

create index webhook_events_by_time on public.webhook_events (created_at);

create table public.webhook_deliveries (
    -- Also the order of deliveries.
    id bigint generated always as identity primary key,
    subscription_id uuid not null references public.webhook_subscriptions (id) on delete cascade,
    event_id text not null references public.webhook_events (id) on delete cascade,
    -- `conversation:<id>`, `number:<id>` or `global`: deliveries with the same
    -- key go out one at a time, oldest first.
    ordering_key text not null,
    status text not null default 'pending' check (status in ('pending', 'delivered', 'dead')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_response_status integer,
    last_error text,
    -- A replay: the delivery it repeats.
    replay_of bigint references public.webhook_deliveries (id) on delete set null,
    created_at timestamptz not null default now(),
    delivered_at timestamptz,
    dead_at timestamptz
);

create index webhook_deliveries_pending on public.webhook_deliveries (subscription_id, ordering_key, id)
    where status = 'pending';
create index webhook_deliveries_due on public.webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_by_subscription on public.webhook_deliveries (subscription_id, id desc);
create index webhook_deliveries_by_event on public.webhook_deliveries (event_id);

create table public.webhook_delivery_attempts (
    id bigint generated always as identity primary key,
    delivery_id bigint not null references public.webhook_deliveries (id) on delete cascade,
    attempt integer not null,
    started_at timestamptz not null default now(),
    duration_ms integer not null,
    response_status integer,
    error text check (error is null or length(error) <= 1000),
    response_excerpt text check (response_excerpt is null or length(response_excerpt) <= 1000)
);

create index webhook_delivery_attempts_by_delivery on public.webhook_delivery_attempts (delivery_id, id);

-- -----------------------------------------------------------------------------
-- Row-level security and grants: admins manage subscriptions and read the
-- log; the service role (the functions) does the rest.
-- -----------------------------------------------------------------------------

alter table public.webhook_subscriptions enable row level security;
alter table public.webhook_events enable row level security;
alter table public.webhook_deliveries enable row level security;
alter table public.webhook_delivery_attempts enable row level security;

revoke all on public.webhook_subscriptions, public.webhook_events, public.webhook_deliveries,
    public.webhook_delivery_attempts from public, anon, authenticated, service_role;
grant select, insert, update, delete on public.webhook_subscriptions, public.webhook_events,
    public.webhook_deliveries, public.webhook_delivery_attempts to service_role;
grant select on public.webhook_subscriptions, public.webhook_events, public.webhook_deliveries,
    public.webhook_delivery_attempts to authenticated;
grant insert (id, name, url, events, number_ids, status) on public.webhook_subscriptions to authenticated;
grant update (name, url, events, number_ids, status, paused_reason, paused_at, consecutive_failures,
              failing_since) on public.webhook_subscriptions to authenticated;
grant delete on public.webhook_subscriptions to authenticated;

create policy "Admins can read webhook subscriptions" on public.webhook_subscriptions
    for select to authenticated using ((select private.has_role('admin')));
create policy "Admins can create webhook subscriptions" on public.webhook_subscriptions
    for insert to authenticated with check ((select private.has_role('admin')));
create policy "Admins can change webhook subscriptions" on public.webhook_subscriptions
    for update to authenticated using ((select private.has_role('admin')))
    with check ((select private.has_role('admin')));
create policy "Admins can delete webhook subscriptions" on public.webhook_subscriptions
    for delete to authenticated using ((select private.has_role('admin')));
create policy "Admins can read webhook events" on public.webhook_events
    for select to authenticated using ((select private.has_role('admin')));
create policy "Admins can read webhook deliveries" on public.webhook_deliveries
    for select to authenticated using ((select private.has_role('admin')));
create policy "Admins can read webhook delivery attempts" on public.webhook_delivery_attempts
    for select to authenticated using ((select private.has_role('admin')));

-- -----------------------------------------------------------------------------
-- Emitting events
-- -----------------------------------------------------------------------------

-- Stores an event and queues one delivery per subscription that wants it
-- under `ordering` (`contact:<number id>:<contact>` for a conversation's
-- events, `number:<id>` for a session's, `global`), then wakes the
-- dispatcher through the outbox. Does nothing (stores
-- nothing) when no subscription wants it. Returns the event id or null.
create function private.emit_webhook_event(
    event_type text, event_number_id uuid, event_conversation_id uuid, ordering text, event_data jsonb
) returns text
    language plpgsql security definer set search_path = '' as $$
declare
    event_id text;
begin
    if not exists (
        select 1 from public.webhook_subscriptions as s
        where event_type = any(s.events)
          and (s.number_ids is null or event_number_id = any(s.number_ids))
    ) then
        return null;
    end if;
    insert into public.webhook_events (type, number_id, conversation_id, data)
    values (event_type, event_number_id, event_conversation_id, event_data)
    returning id into event_id;
    insert into public.webhook_deliveries (subscription_id, event_id, ordering_key)
    select s.id, event_id, ordering
    from public.webhook_subscriptions as s
    where event_type = any(s.events)
      and (s.number_ids is null or event_number_id = any(s.number_ids))
    order by s.id;
    insert into public.outbox (topic, payload)
    values ('webhook-dispatch', jsonb_build_object('event_id', event_id));
    return event_id;
end;
$$;

revoke all on function private.emit_webhook_event(text, uuid, uuid, text, jsonb) from public;
grant execute on function private.emit_webhook_event(text, uuid, uuid, text, jsonb) to service_role;

-- The documented payload of a message (docs/integration.md, "Payloads").
create function private.webhook_message(m public.messages) returns jsonb
    language sql stable set search_path = '' as $$
    select jsonb_build_object(
        'id', m.id, 'number_id', m.number_id, 'conversation_id', m.conversation_id,
        'direction', m.direction, 'contact_wa_id', m.contact_wa_id, 'contact_name', m.contact_name,
        'wa_message_id', m.wa_message_id, 'type', m.type, 'body', m.body, 'content', m.content,
        'context_wa_message_id', m.context_wa_message_id, 'status', m.status,
        'in_reply_to', m.in_reply_to, 'author_id', m.author_id, 'api_key_id', m.api_key_id,
        'created_at', m.created_at, 'sent_at', m.sent_at, 'delivered_at', m.delivered_at,
        'read_at', m.read_at, 'failed_at', m.failed_at, 'error', m.error)
$$;

revoke all on function private.webhook_message(public.messages) from public;

-- Inbound messages are stored before routing links them to their
-- conversation: the conversation is looked up (null for a contact's first
-- message). Ordered per contact of a number, which is per conversation.
create function private.webhook_on_message() returns trigger
    language plpgsql security definer set search_path = '' as $$
declare
    message public.messages := new;
    ordering text := 'contact:' || new.number_id::text || ':' || new.contact_wa_id;
begin
    -- The common case under load: nobody subscribed, nothing to look up.
    if not exists (select 1 from public.webhook_subscriptions) then
        return null;
    end if;
    if message.conversation_id is null then
        select c.id into message.conversation_id from public.conversations as c
        where c.number_id = new.number_id and c.contact_wa_id = new.contact_wa_id;
    end if;
    if tg_op = 'INSERT' then
        if new.direction = 'inbound' then
            perform private.emit_webhook_event('message.received', new.number_id, message.conversation_id,
                                               ordering,
                                               jsonb_build_object('message', private.webhook_message(message)));
        end if;
    elsif new.direction = 'outbound' and new.status is distinct from old.status
          and new.status in ('sent', 'delivered', 'read', 'failed') then
        perform private.emit_webhook_event('message.' || new.status, new.number_id, message.conversation_id,
                                           ordering,
                                           jsonb_build_object('message', private.webhook_message(message),
                                                              'previous_status', old.status));
    end if;
    return null;
end;
$$;

revoke all on function private.webhook_on_message() from public;

create trigger messages_webhook_received
    after insert on public.messages
    for each row when (new.direction = 'inbound')
    execute function private.webhook_on_message();

create trigger messages_webhook_status
    after update of status on public.messages
    for each row when (new.direction = 'outbound' and old.status is distinct from new.status)
    execute function private.webhook_on_message();

create function private.webhook_on_conversation_mode() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    if new.mode in ('human', 'closed') then
        perform private.emit_webhook_event(
            case new.mode when 'human' then 'conversation.handoff' else 'conversation.closed' end,
            new.number_id, new.id, 'contact:' || new.number_id::text || ':' || new.contact_wa_id,
            jsonb_build_object('conversation', jsonb_build_object(
                'id', new.id, 'number_id', new.number_id, 'contact_wa_id', new.contact_wa_id,
                'contact_name', new.contact_name, 'contact_id', new.contact_id, 'mode', new.mode,
                'assigned_to', new.assigned_to, 'opted_out', new.opted_out, 'tags', new.tags,
                'last_activity_at', new.last_activity_at, 'created_at', new.created_at),
                'previous_mode', old.mode));
    end if;
    return null;
end;
$$;

revoke all on function private.webhook_on_conversation_mode() from public;

create trigger conversations_webhook_mode
    after update of mode on public.conversations
    for each row when (old.mode is distinct from new.mode)
    execute function private.webhook_on_conversation_mode();

create function private.webhook_on_session_status() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    perform private.emit_webhook_event(
        'session.status_changed', new.id, null, 'number:' || new.id::text,
        jsonb_build_object(
            'number', jsonb_build_object('id', new.id, 'phone_number', new.phone_number, 'label', new.label,
                                         'transport', new.transport),
            'status', new.session_status, 'previous_status', old.session_status));
    return null;
end;
$$;

revoke all on function private.webhook_on_session_status() from public;

create trigger numbers_webhook_session_status
    after update of session_status on public.numbers
    for each row when (old.session_status is distinct from new.session_status)
    execute function private.webhook_on_session_status();

create function private.webhook_on_alert() returns trigger
    language plpgsql security definer set search_path = '' as $$
declare
    event_type text;
begin
    if new.status = 'open' and (tg_op = 'INSERT' or old.status = 'resolved') then
        event_type := 'alert.opened';
    elsif new.status = 'resolved' and (tg_op = 'INSERT' or old.status <> 'resolved') then
        event_type := 'alert.resolved';
    else
        return null;
    end if;
    perform private.emit_webhook_event(
        event_type, new.number_id, null, coalesce('number:' || new.number_id::text, 'global'),
        jsonb_build_object('alert', jsonb_build_object(
            'id', new.id, 'kind', new.kind, 'severity', new.severity, 'number_id', new.number_id,
            'dedupe_key', new.dedupe_key, 'status', new.status, 'title', new.title, 'details', new.details,
            'summary', new.summary, 'created_at', new.created_at, 'resolved_at', new.resolved_at)));
    return null;
end;
$$;

revoke all on function private.webhook_on_alert() from public;

create trigger alerts_webhook
    after insert or update of status on public.alerts
    for each row execute function private.webhook_on_alert();

-- -----------------------------------------------------------------------------
-- Dispatching (the webhook-dispatch function, as the service role)
-- -----------------------------------------------------------------------------

-- Claims up to `batch_size` due deliveries of active subscriptions, each
-- the oldest pending one of its (subscription, ordering key), with
-- FOR UPDATE SKIP LOCKED: counts the attempt and leases the delivery until
-- now() + `lease`. Returns what a request needs, secret included.
create function private.claim_webhook_deliveries(batch_size integer default 20, lease interval default '60 seconds')
    returns table (delivery_id bigint, subscription_id uuid, url text, secret text, event_id text,
                   event_type text, event_created_at timestamptz, event_data jsonb, attempt integer)
    language plpgsql security definer set search_path = '' as $$
begin
    if batch_size is null or batch_size < 1 or batch_size > 500 then
        raise exception 'batch_size must be from 1 to 500, got %', batch_size;
    end if;
    return query
    with heads as (
        select distinct on (d.subscription_id, d.ordering_key) d.id, d.next_attempt_at
        from public.webhook_deliveries as d
        join public.webhook_subscriptions as s on s.id = d.subscription_id and s.status = 'active'
        where d.status = 'pending'
        order by d.subscription_id, d.ordering_key, d.id
    ), due as (
        select d.id from public.webhook_deliveries as d
        where d.id in (select h.id from heads as h where h.next_attempt_at <= now())
          and d.status = 'pending' and d.next_attempt_at <= now()
        order by d.id
        for update skip locked
        limit batch_size
    ), claimed as (
        update public.webhook_deliveries as d
        set attempts = d.attempts + 1, next_attempt_at = now() + lease
        from due where d.id = due.id
        returning d.id, d.subscription_id, d.event_id, d.attempts
    )
    select c.id, c.subscription_id, s.url, w.secret, e.id, e.type, e.created_at, e.data, c.attempts
    from claimed as c
    join public.webhook_subscriptions as s on s.id = c.subscription_id
    join public.webhook_events as e on e.id = c.event_id
    left join private.webhook_secrets as w on w.subscription_id = c.subscription_id
    order by c.id;
end;
$$;

revoke all on function private.claim_webhook_deliveries(integer, interval) from public;
grant execute on function private.claim_webhook_deliveries(integer, interval) to service_role;

-- The wait after failed attempt `n` (1-based).
create function private.webhook_backoff(n integer) returns interval
    language sql immutable set search_path = '' as $$
    select (array['5 seconds', '30 seconds', '2 minutes', '5 minutes', '15 minutes', '30 minutes',
                  '1 hour', '2 hours', '4 hours', '8 hours']::interval[])[least(greatest(n, 1), 10)]
$$;

revoke all on function private.webhook_backoff(integer) from public;
grant execute on function private.webhook_backoff(integer) to service_role, authenticated;

-- Records one attempt's outcome: delivered, retried later, or dead after
-- the last attempt. A failure counts against the subscription, which is
-- paused (with a `webhook_paused` alert) once it has failed long and often
-- enough. Returns the delivery's new status.
create function private.record_webhook_attempt(
    claimed_delivery_id bigint, succeeded boolean, attempt_response_status integer, attempt_error text,
    attempt_duration_ms integer, attempt_excerpt text
) returns text
    language plpgsql security definer set search_path = '' as $$
declare
    d public.webhook_deliveries;
    s public.webhook_subscriptions;
    new_status text;
begin
    select * into d from public.webhook_deliveries as x where x.id = claimed_delivery_id for update;
    if d.id is null then
        return null;
    end if;
    insert into public.webhook_delivery_attempts
        (delivery_id, attempt, duration_ms, response_status, error, response_excerpt)
    values (d.id, d.attempts, greatest(coalesce(attempt_duration_ms, 0), 0), attempt_response_status,
            left(attempt_error, 1000), left(attempt_excerpt, 1000));
    if d.status <> 'pending' then
        return d.status;
    end if;
    if succeeded then
        update public.webhook_deliveries as x
        set status = 'delivered', delivered_at = now(), last_response_status = attempt_response_status,
            last_error = null
        where x.id = d.id;
        update public.webhook_subscriptions as x
        set consecutive_failures = 0, failing_since = null
        where x.id = d.subscription_id and (x.consecutive_failures <> 0 or x.failing_since is not null);
        return 'delivered';
    end if;
    new_status := case when d.attempts >= private.setting_integer('webhook_max_attempts') then 'dead'
                       else 'pending' end;
    update public.webhook_deliveries as x
    set status = new_status,
        dead_at = case when new_status = 'dead' then now() end,
        next_attempt_at = case when new_status = 'pending' then now() + private.webhook_backoff(d.attempts)
                               else x.next_attempt_at end,
        last_response_status = attempt_response_status,
        last_error = left(coalesce(attempt_error, 'HTTP ' || attempt_response_status::text), 1000)
    where x.id = d.id;
    update public.webhook_subscriptions as x
    set consecutive_failures = x.consecutive_failures + 1, failing_since = coalesce(x.failing_since, now())
    where x.id = d.subscription_id
    returning * into s;
    if s.status = 'active' and s.consecutive_failures >= private.setting_integer('webhook_pause_after_failures')
       and s.failing_since <= now() - private.setting_interval('webhook_pause_after') then
        update public.webhook_subscriptions as x
        set status = 'paused', paused_at = now(),
            paused_reason = format('%s consecutive failed deliveries since %s; last: %s',
                                   s.consecutive_failures, s.failing_since,
                                   left(coalesce(attempt_error, 'HTTP ' || attempt_response_status::text), 200))
        where x.id = s.id;
        insert into public.alerts (kind, severity, dedupe_key, title, details)
        values ('webhook_paused', 'warning', 'webhook_paused:' || s.id::text,
                format('Webhook %s paused after %s failed deliveries', s.name, s.consecutive_failures),
                jsonb_build_object('subscription_id', s.id, 'url', s.url,
                                   'consecutive_failures', s.consecutive_failures,
                                   'failing_since', s.failing_since,
                                   'last_error', left(coalesce(attempt_error,
                                                               'HTTP ' || attempt_response_status::text), 200)))
        on conflict do nothing;
    end if;
    return new_status;
end;
$$;

revoke all on function private.record_webhook_attempt(bigint, boolean, integer, text, integer, text) from public;
grant execute on function private.record_webhook_attempt(bigint, boolean, integer, text, integer, text)
    to service_role;

-- Resumes a paused subscription: active again, its counters reset, its
-- pending deliveries due now, and its `webhook_paused` alert resolved.
create function private.resume_webhook_subscription(resumed_id uuid) returns void
    language plpgsql security definer set search_path = '' as $$
begin
    update public.webhook_subscriptions as x
    set status = 'active', paused_at = null, paused_reason = null, consecutive_failures = 0,
        failing_since = null
    where x.id = resumed_id;
    update public.webhook_deliveries as d set next_attempt_at = now()
    where d.subscription_id = resumed_id and d.status = 'pending' and d.next_attempt_at > now();
    update public.alerts as a set status = 'resolved', resolved_at = now(),
        summary = coalesce(a.summary, 'the webhook subscription was resumed')
    where a.dedupe_key = 'webhook_paused:' || resumed_id::text and a.status in ('open', 'acknowledged');
end;
$$;

revoke all on function private.resume_webhook_subscription(uuid) from public;
grant execute on function private.resume_webhook_subscription(uuid) to service_role;

-- Queues a new delivery of every event a subscription got (or, with
-- `only_types`, of those types) created in [since, until): a replay.
-- Returns how many.
create function private.replay_webhook_events(
    replayed_subscription uuid, since timestamptz, until timestamptz, only_types text[]
) returns integer
    language plpgsql security definer set search_path = '' as $$
declare
    queued integer;
begin
    with originals as (
        select distinct on (d.event_id) d.id, d.event_id, d.ordering_key, e.created_at
        from public.webhook_deliveries as d
        join public.webhook_events as e on e.id = d.event_id
        where d.subscription_id = replayed_subscription
          and e.created_at >= since and e.created_at < until
          and (only_types is null or e.type = any(only_types))
        order by d.event_id, d.id
    ), inserted as (
        insert into public.webhook_deliveries (subscription_id, event_id, ordering_key, replay_of)
        select replayed_subscription, o.event_id, o.ordering_key, o.id
        from originals as o
        order by o.created_at, o.id
        returning 1
    )
    select count(*) into queued from inserted;
    if queued > 0 then
        insert into public.outbox (topic, payload)
        values ('webhook-dispatch', jsonb_build_object('replay', replayed_subscription));
    end if;
    return queued;
end;
$$;

revoke all on function private.replay_webhook_events(uuid, timestamptz, timestamptz, text[]) from public;
grant execute on function private.replay_webhook_events(uuid, timestamptz, timestamptz, text[]) to service_role;

-- Wakes the dispatcher when deliveries are due (pg_cron, every minute):
-- retries after backoff, and deliveries a lost doorbell left behind.
create function private.enqueue_webhook_tick() returns bigint
    language plpgsql security definer set search_path = '' as $$
declare
    queued bigint;
begin
    if not exists (
        select 1 from public.webhook_deliveries as d
        join public.webhook_subscriptions as s on s.id = d.subscription_id and s.status = 'active'
        where d.status = 'pending' and d.next_attempt_at <= now()
    ) then
        return null;
    end if;
    if exists (
        select 1 from public.outbox as o
        where o.topic = 'webhook-dispatch' and o.delivered_at is null and o.dead_at is null
          and o.payload ? 'tick'
    ) then
        return null;
    end if;
    insert into public.outbox (topic, payload) values ('webhook-dispatch', '{"tick": true}'::jsonb)
    returning id into queued;
    return queued;
end;
$$;

revoke all on function private.enqueue_webhook_tick() from public;
grant execute on function private.enqueue_webhook_tick() to service_role;

-- Deletes webhook events (their deliveries and attempts cascade) older
-- than `retention_webhook_events`.
create function private.expire_webhook_events() returns integer
    language plpgsql security definer set search_path = '' as $$
declare
    removed integer;
begin
    delete from public.webhook_events
    where created_at < now() - private.setting_interval('retention_webhook_events');
    get diagnostics removed = row_count;
    return removed;
end;
$$;

revoke all on function private.expire_webhook_events() from public;
grant execute on function private.expire_webhook_events() to service_role;

select cron.schedule('webhook-tick', '* * * * *', 'select private.enqueue_webhook_tick()');
select cron.schedule('webhook-retention', '41 3 * * *', 'select private.expire_webhook_events()');
