-- =============================================================================
-- Alerts, the channels they are sent to, and the delivery log.
--
-- The health check opens an alert (service role) with a dedupe key; at most
-- one alert per key is open or acknowledged at a time, so a flapping number
-- does not open a second one. Operators acknowledge (`status =
-- 'acknowledged'`, as the runbook says) and resolve alerts; the trigger
-- stamps acknowledged_at / acknowledged_by = auth.uid() and resolved_at /
-- resolved_by, and writes an audit row. Resolved is final: a recurrence is a
-- new alert.
--
-- Every insert and every real update of an alert enqueues an outbox row,
-- topic `alert-dispatch`, whose payload is exactly a Supabase database
-- webhook's: {"type": "INSERT"|"UPDATE", "table": "alerts", "schema":
-- "public", "record": {…}, "old_record": null|{…}}. It goes through the
-- durable outbox rather than a pg_net webhook so nothing is lost when a call
-- fails; on hosted Supabase the pg_net doorbell wakes the outbox relay, so
-- alerts reach alert-dispatch even when every session daemon is down (see
-- 20261125001000_outbox_doorbell.sql). pg_cron's `alert-escalation` job sets
-- escalated_at on alerts left open and unacknowledged too long, which is an
-- update and therefore dispatched as well.
--
-- Channel targets are visible to admins only (a Slack webhook URL is itself a
-- credential); signing secrets live in alert_channel_secrets, which no
-- signed-in user can read.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Alerts
-- -----------------------------------------------------------------------------

create table public.alerts (
    id uuid primary key default gen_random_uuid(),
    -- What kind of problem, such as `number_disconnected` or `runtime_down`.
    kind text not null check (kind ~ '^[a-z][a-z0-9_]*$'),
    severity text not null check (severity in ('info', 'warning', 'critical')),
    -- The number the alert is about; runtime alerts name a runtime instance.
    number_id uuid references public.numbers (id) on delete set null,
    runtime_instance_id text references public.runtime_instances (id) on delete set null,
    -- At most one open or acknowledged alert per key, such as
    -- `number_disconnected:<number id>`.
    dedupe_key text not null check (length(dedupe_key) between 1 and 500),
    status text not null default 'open' check (status in ('open', 'acknowledged', 'resolved')),
    -- One line for people.
    title text not null default '',
    details jsonb not null default '{}'::jsonb,
    -- The post-incident summary.
    summary text,
    acknowledged_by uuid references auth.users (id) on delete set null,
    acknowledged_at timestamptz,
    escalated_at timestamptz,
    resolved_by uuid references auth.users (id) on delete set null,
    resolved_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create unique index alerts_one_open_per_dedupe_key on public.alerts (dedupe_key)
    where status in ('open', 'acknowledged');
create index alerts_open_by_age on public.alerts (created_at) where status = 'open';
create index alerts_by_number on public.alerts (number_id, created_at desc);

-- BEFORE INSERT OR UPDATE: refuses moves out of `resolved`, and stamps who
-- acknowledged or resolved the alert and when. A signed-in user is always
-- recorded as themself; the service role may name a user.
create function private.stamp_alert_status() returns trigger
    language plpgsql set search_path = '' as $$
declare
    old_status text := case when tg_op = 'UPDATE' then old.status end;
begin
    if old_status is not distinct from new.status then
        return new;
    end if;
    if old_status = 'resolved' then
        raise exception 'alert % is resolved and cannot move to %', old.id, new.status
            using errcode = 'check_violation',
                  hint = 'a recurrence is a new alert';
    end if;
    if new.status = 'acknowledged' then
        new.acknowledged_by := coalesce(auth.uid(), new.acknowledged_by);
        if tg_op = 'INSERT' then
            new.acknowledged_at := coalesce(new.acknowledged_at, now());
        elsif new.acknowledged_at is not distinct from old.acknowledged_at then
            new.acknowledged_at := now();
        end if;
    elsif new.status = 'resolved' then
        new.resolved_by := coalesce(auth.uid(), new.resolved_by);
        if tg_op = 'INSERT' then
            new.resolved_at := coalesce(new.resolved_at, now());
        elsif new.resolved_at is not distinct from old.resolved_at then
            new.resolved_at := now();
        end if;
    elsif new.status = 'open' then
        -- Reopened before resolution: unacknowledged again.
        new.acknowledged_by := null;
        new.acknowledged_at := null;
    end if;
    return new;
end;
$$;

revoke all on function private.stamp_alert_status() from public;

create trigger alerts_stamp_status
    before insert or update on public.alerts
    for each row execute function private.stamp_alert_status();

create trigger alerts_set_updated_at
    before update on public.alerts
    for each row execute function private.set_updated_at();

-- AFTER INSERT OR UPDATE: enqueues the alert for alert-dispatch, shaped like
-- a Supabase database webhook. An update that changes nothing but
-- updated_at enqueues nothing.
create function private.enqueue_alert_dispatch() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    if tg_op = 'UPDATE' and (to_jsonb(old) - 'updated_at') = (to_jsonb(new) - 'updated_at') then
        return null;
    end if;
    insert into public.outbox (topic, payload)
    values ('alert-dispatch', jsonb_build_object(
        'type', tg_op,
        'table', tg_table_name,
        'schema', tg_table_schema,
        'record', to_jsonb(new),
        'old_record', case when tg_op = 'UPDATE' then to_jsonb(old) end
    ));
    return null;
end;
$$;

revoke all on function private.enqueue_alert_dispatch() from public;

create trigger alerts_enqueue_dispatch
    after insert or update on public.alerts
    for each row execute function private.enqueue_alert_dispatch();

-- AFTER UPDATE OF status: `alerts.acknowledged`, `alerts.resolved` or
-- `alerts.reopened` in the audit log.
create function private.audit_alert_status() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    perform private.write_audit(
        'alerts.' || case new.status when 'open' then 'reopened' else new.status end,
        'alerts', new.id::text,
        jsonb_strip_nulls(jsonb_build_object(
            'from', old.status, 'to', new.status, 'kind', new.kind, 'severity', new.severity,
            'dedupe_key', new.dedupe_key, 'number_id', new.number_id, 'summary', new.summary))
    );
    return null;
end;
$$;

revoke all on function private.audit_alert_status() from public;

create trigger alerts_audit_status
    after update of status on public.alerts
    for each row when (old.status is distinct from new.status)
    execute function private.audit_alert_status();

-- -----------------------------------------------------------------------------
-- Channels and their secrets
-- -----------------------------------------------------------------------------

create table public.alert_channels (
    id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 200),
    kind text not null check (kind in ('webhook', 'slack', 'whatsapp')),
    -- A URL for webhook and slack, an E.164 admin number for whatsapp.
    target text not null,
    min_severity text not null default 'warning' check (min_severity in ('info', 'warning', 'critical')),
    enabled boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint alert_channels_target_check check (
        (kind in ('webhook', 'slack') and target ~ '^https?://[^[:space:]]+$')
        or (kind = 'whatsapp' and target ~ '^\+[1-9][0-9]{6,14}$')
    )
);

-- The HMAC secret a webhook channel signs its requests with. Admins may set
-- or replace it but never read it back; only the service role reads it.
create table public.alert_channel_secrets (
    channel_id uuid primary key references public.alert_channels (id) on delete cascade,
    signing_secret text not null check (length(signing_secret) >= 16),
    updated_at timestamptz not null default now()
);

create trigger alert_channels_set_updated_at
    before update on public.alert_channels
    for each row execute function private.set_updated_at();

create trigger alert_channel_secrets_set_updated_at
    before update on public.alert_channel_secrets
    for each row execute function private.set_updated_at();

create trigger alert_channels_audit
    after insert or update or delete on public.alert_channels
    for each row execute function private.audit_row_change('redact:target', 'ignore:updated_at');

create trigger alert_channel_secrets_audit
    after insert or update or delete on public.alert_channel_secrets
    for each row execute function private.audit_row_change('redact:signing_secret', 'ignore:updated_at');

-- -----------------------------------------------------------------------------
-- Delivery log
-- -----------------------------------------------------------------------------

-- One row per attempt to notify one channel about one alert, written by
-- alert-dispatch (service role).
create table public.alert_deliveries (
    id bigint generated always as identity primary key,
    alert_id uuid not null references public.alerts (id) on delete cascade,
    channel_id uuid references public.alert_channels (id) on delete set null,
    -- The alert-dispatch outbox row being delivered (no foreign key: the
    -- outbox is pruned by the retention job).
    outbox_id bigint,
    status text not null check (status in ('sent', 'failed', 'skipped')),
    attempt integer not null default 1 check (attempt >= 1),
    response_code integer check (response_code between 100 and 599),
    error text,
    attempted_at timestamptz not null default now()
);
create index alert_deliveries_by_alert on public.alert_deliveries (alert_id, attempted_at);
create index alert_deliveries_by_time on public.alert_deliveries (attempted_at);

-- -----------------------------------------------------------------------------
-- Row-level security and grants
-- -----------------------------------------------------------------------------

alter table public.alerts enable row level security;
alter table public.alert_channels enable row level security;
alter table public.alert_channel_secrets enable row level security;
alter table public.alert_deliveries enable row level security;

revoke all on public.alerts, public.alert_channels, public.alert_channel_secrets, public.alert_deliveries
    from public, anon, authenticated, service_role;

grant select, insert, update, delete on public.alerts to service_role;
grant select on public.alerts to authenticated;
grant update (status, summary) on public.alerts to authenticated;

grant select, insert, update, delete on public.alert_channels to service_role;
grant select, delete on public.alert_channels to authenticated;
grant insert (id, name, kind, target, min_severity, enabled) on public.alert_channels to authenticated;
grant update (name, kind, target, min_severity, enabled) on public.alert_channels to authenticated;

-- Signed-in users may see that a secret is set and when, never the secret.
grant select, insert, update, delete on public.alert_channel_secrets to service_role;
grant select (channel_id, updated_at) on public.alert_channel_secrets to authenticated;
grant insert (channel_id, signing_secret), update (signing_secret) on public.alert_channel_secrets to authenticated;
grant delete on public.alert_channel_secrets to authenticated;

grant select, insert, update, delete on public.alert_deliveries to service_role;
grant select on public.alert_deliveries to authenticated;

create policy "Members can read alerts" on public.alerts
    for select to authenticated
    using ((select private.has_role('viewer')));

create policy "Operators can acknowledge, resolve and summarise alerts" on public.alerts
    for update to authenticated
    using ((select private.has_role('operator')))
    with check ((select private.has_role('operator')));

create policy "Admins can read alert channels" on public.alert_channels
    for select to authenticated
    using ((select private.has_role('admin')));

create policy "Admins can add alert channels" on public.alert_channels
    for insert to authenticated
    with check ((select private.has_role('admin')));

create policy "Admins can change alert channels" on public.alert_channels
    for update to authenticated
    using ((select private.has_role('admin')))
    with check ((select private.has_role('admin')));

create policy "Admins can remove alert channels" on public.alert_channels
    for delete to authenticated
    using ((select private.has_role('admin')));

create policy "Admins can see which channels have a secret" on public.alert_channel_secrets
    for select to authenticated
    using ((select private.has_role('admin')));

create policy "Admins can set channel secrets" on public.alert_channel_secrets
    for insert to authenticated
    with check ((select private.has_role('admin')));

create policy "Admins can replace channel secrets" on public.alert_channel_secrets
    for update to authenticated
    using ((select private.has_role('admin')))
    with check ((select private.has_role('admin')));

create policy "Admins can remove channel secrets" on public.alert_channel_secrets
    for delete to authenticated
    using ((select private.has_role('admin')));

create policy "Members can read the alert delivery log" on public.alert_deliveries
    for select to authenticated
    using ((select private.has_role('viewer')));
