-- =============================================================================
-- What the health-check and alert-dispatch Edge Functions keep between calls.
--
-- The Wasm alerting core is sans-IO: it remembers nothing, so the facts it
-- reasons over live here and come back on the next call.
--
--   alerts              reconcile state per alert: since when its signals
--                       say healthy (`healthy_since`), how often it flapped
--                       (`flap_count`, `last_flap_at`), whether it is
--                       marked `flapping`
--   alert_channels      which alert kinds a channel hears about (`kinds`,
--                       empty = all), and for a WhatsApp channel the number
--                       that sends the message (`sender_number_id`)
--   private.alert_digest_state
--                       the notification plan's digest state (one row): when
--                       each channel last got a message and what waits for
--                       the next one
--   private.alert_notifications
--                       every planned notification until it is delivered;
--                       a failed delivery is retried from here, never
--                       re-planned, so a channel that already got it does
--                       not get it twice
--   private.alert_dispatch_events
--                       the alert events already planned, so the same event
--                       delivered twice notifies once
--
-- Only the service role (the functions) reads or writes the private tables.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Alerts: reconcile state
-- -----------------------------------------------------------------------------

alter table public.alerts
    -- Since when the alert's health signals say healthy; null while unhealthy.
    add column healthy_since timestamptz,
    -- How many times the problem came back within the flap window.
    add column flap_count integer not null default 0 check (flap_count >= 0),
    -- When it last came back.
    add column last_flap_at timestamptz,
    -- Marked flapping: kept open for longer before it auto-resolves.
    add column flapping boolean not null default false;

-- The health check reads the open alerts it owns by key prefix.
create index alerts_open_by_dedupe_key_pattern on public.alerts (dedupe_key text_pattern_ops)
    where status in ('open', 'acknowledged');
-- ... and the alerts resolved within the flap window, for flap detection.
create index alerts_resolved_by_time on public.alerts (resolved_at desc) where status = 'resolved';

-- -----------------------------------------------------------------------------
-- Alert channels: kinds filter and WhatsApp sender
-- -----------------------------------------------------------------------------

alter table public.alert_channels
    -- The alert kinds the channel hears about; empty means every kind.
    add column kinds text[] not null default '{}'
        check (cardinality(kinds) <= 50 and array_position(kinds, null) is null),
    -- For a whatsapp channel: the number the notification is sent from (a
    -- queued outbound message on it). Null picks a connected number.
    add column sender_number_id uuid references public.numbers (id) on delete set null;

grant insert (kinds, sender_number_id), update (kinds, sender_number_id)
    on public.alert_channels to authenticated;

-- -----------------------------------------------------------------------------
-- Digest state
-- -----------------------------------------------------------------------------

-- One row: the alerting core's DigestState (`{"channels": {...}}`). The
-- alert-dispatch function locks it `for update` while it plans, so two
-- dispatches never plan from the same state.
create table private.alert_digest_state (
    id boolean primary key default true check (id),
    state jsonb not null default '{}'::jsonb check (jsonb_typeof(state) = 'object'),
    -- When the next digest flush is due, if something waits.
    next_flush_at timestamptz,
    updated_at timestamptz not null default now()
);

insert into private.alert_digest_state (id) values (true) on conflict (id) do nothing;

create trigger alert_digest_state_set_updated_at
    before update on private.alert_digest_state
    for each row execute function private.set_updated_at();

-- -----------------------------------------------------------------------------
-- Planned notifications
-- -----------------------------------------------------------------------------

create table private.alert_notifications (
    -- The plan's notification id (16 hex digits, stable for a channel, time
    -- and set of keys).
    notification_id text primary key check (length(notification_id) between 1 and 100),
    channel_id uuid references public.alert_channels (id) on delete set null,
    channel_kind text not null check (channel_kind in ('webhook', 'slack', 'whatsapp', 'email')),
    severity text not null check (severity in ('info', 'warning', 'critical')),
    dedupe_keys text[] not null default '{}',
    -- The alerts the message is about (the latest alert of each key).
    alert_ids uuid[] not null default '{}',
    -- The rendered payload: {"format": "text" | "slack" | "webhook", ...}.
    payload jsonb not null,
    -- What planned it: `alert:<id>:<event hash>` or `flush:<outbox id>`.
    source_key text not null,
    -- The alert-dispatch outbox row that planned it, if any.
    outbox_id bigint,
    attempts integer not null default 0 check (attempts >= 0),
    -- A delivery in progress holds the notification until this time.
    claimed_until timestamptz,
    last_error text,
    delivered_at timestamptz,
    -- Given up: the channel is gone, or it cannot be delivered at all.
    abandoned_at timestamptz,
    created_at timestamptz not null default now()
);

create index alert_notifications_pending on private.alert_notifications (source_key)
    where delivered_at is null and abandoned_at is null;
create index alert_notifications_by_time on private.alert_notifications (created_at);

-- -----------------------------------------------------------------------------
-- Planned events
-- -----------------------------------------------------------------------------

create table private.alert_dispatch_events (
    -- `alert:<alert id>:<sha-256 of the webhook payload>` or `flush:<outbox id>`.
    event_key text primary key check (length(event_key) between 1 and 300),
    outbox_id bigint,
    processed_at timestamptz not null default now()
);

create index alert_dispatch_events_by_time on private.alert_dispatch_events (processed_at);

-- -----------------------------------------------------------------------------
-- Retention: planned notifications and events age out with the delivery log
-- -----------------------------------------------------------------------------

insert into private.settings (key, value, description) values
    ('retention_alert_notifications', '"30 days"',
     'Delivered or abandoned alert notifications and planned alert events older than this are deleted.')
on conflict (key) do nothing;

-- The retention job's work, as before, plus the alert-dispatch bookkeeping.
create or replace function private.apply_retention() returns jsonb
    language plpgsql security definer set search_path = '' as $$
declare
    counts jsonb := '{}'::jsonb;
    n_rows integer;
begin
    counts := counts || jsonb_build_object('outbox_dead_lettered', private.dead_letter_exhausted_outbox_rows());

    delete from public.outbox as o
    where o.delivered_at < now() - private.setting_interval('retention_delivered_outbox');
    get diagnostics n_rows = row_count;
    counts := counts || jsonb_build_object('outbox_delivered', n_rows);

    delete from public.outbox as o
    where o.dead_at < now() - private.setting_interval('retention_dead_outbox');
    get diagnostics n_rows = row_count;
    counts := counts || jsonb_build_object('outbox_dead', n_rows);

    delete from cron.job_run_details as d
    where d.end_time < now() - private.setting_interval('retention_cron_run_details');
    get diagnostics n_rows = row_count;
    counts := counts || jsonb_build_object('cron_job_run_details', n_rows);

    delete from public.number_connection_events as e
    where e.event = 'heartbeat'
      and e.occurred_at < now() - private.setting_interval('retention_connection_heartbeats');
    get diagnostics n_rows = row_count;
    counts := counts || jsonb_build_object('connection_heartbeats', n_rows);

    delete from public.number_connection_events as e
    where e.occurred_at < now() - private.setting_interval('retention_connection_events');
    get diagnostics n_rows = row_count;
    counts := counts || jsonb_build_object('connection_events', n_rows);

    delete from public.session_commands as c
    where c.status in ('done', 'failed')
      and c.completed_at < now() - private.setting_interval('retention_finished_session_commands');
    get diagnostics n_rows = row_count;
    counts := counts || jsonb_build_object('session_commands', n_rows);

    delete from public.alert_deliveries as d
    where d.attempted_at < now() - private.setting_interval('retention_alert_deliveries');
    get diagnostics n_rows = row_count;
    counts := counts || jsonb_build_object('alert_deliveries', n_rows);

    delete from private.alert_notifications as n
    where (n.delivered_at is not null or n.abandoned_at is not null)
      and n.created_at < now() - private.setting_interval('retention_alert_notifications');
    get diagnostics n_rows = row_count;
    counts := counts || jsonb_build_object('alert_notifications', n_rows);

    delete from private.alert_dispatch_events as e
    where e.processed_at < now() - private.setting_interval('retention_alert_notifications');
    get diagnostics n_rows = row_count;
    counts := counts || jsonb_build_object('alert_dispatch_events', n_rows);

    delete from public.runtime_instances as r
    where r.last_heartbeat_at < now() - private.setting_interval('retention_stale_runtime_instances');
    get diagnostics n_rows = row_count;
    counts := counts || jsonb_build_object('runtime_instances', n_rows);

    return counts;
end;
$$;

-- -----------------------------------------------------------------------------
-- Row-level security and grants
-- -----------------------------------------------------------------------------

alter table private.alert_digest_state enable row level security;
alter table private.alert_notifications enable row level security;
alter table private.alert_dispatch_events enable row level security;

revoke all on private.alert_digest_state, private.alert_notifications, private.alert_dispatch_events
    from public, anon, authenticated, service_role;
grant select, insert, update, delete
    on private.alert_digest_state, private.alert_notifications, private.alert_dispatch_events
    to service_role;

create policy "Only the service role plans alert notifications" on private.alert_digest_state
    for all to service_role
    using (true)
    with check (true);

create policy "Only the service role delivers alert notifications" on private.alert_notifications
    for all to service_role
    using (true)
    with check (true);

create policy "Only the service role records planned alert events" on private.alert_dispatch_events
    for all to service_role
    using (true)
    with check (true);
