-- =============================================================================
-- Platform helpers shared by every later migration: tunable settings read by
-- the scheduled jobs and the outbox, and the `updated_at` trigger function.
--
-- Everything here lives in the `private` schema, which PostgREST does not
-- expose. The settings table is read through security-definer getters only;
-- no API role may read or change it directly.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Settings
-- -----------------------------------------------------------------------------

-- Small operational knobs, kept in a table rather than in function bodies so
-- an operator can change them with one `update` (as `postgres`) and no
-- migration. Values are JSON: numbers for counts, strings for intervals.
create table private.settings (
    key text primary key check (key ~ '^[a-z][a-z0-9_]*$'),
    value jsonb not null,
    description text not null,
    updated_at timestamptz not null default now()
);

alter table private.settings enable row level security;
revoke all on private.settings from public, anon, authenticated, service_role;

insert into private.settings (key, value, description) values
    ('outbox_max_attempts', '10',
     'Delivery attempts after which an outbox row is dead-lettered (dead_at set).'),
    ('outbox_max_backoff', '"5 minutes"',
     'The longest wait between two delivery attempts of an outbox row.'),
    ('alert_escalation_after', '"30 minutes"',
     'How long an alert may stay open and unacknowledged before it is escalated.'),
    ('retention_delivered_outbox', '"7 days"',
     'Delivered outbox rows older than this are deleted by the retention job.'),
    ('retention_dead_outbox', '"30 days"',
     'Dead-lettered outbox rows older than this are deleted by the retention job.'),
    ('retention_cron_run_details', '"7 days"',
     'pg_cron run history (cron.job_run_details) older than this is deleted.'),
    ('retention_connection_heartbeats', '"30 days"',
     'Connection events of kind heartbeat older than this are deleted.'),
    ('retention_connection_events', '"180 days"',
     'Every other connection event older than this is deleted.'),
    ('retention_finished_session_commands', '"30 days"',
     'Done or failed session commands older than this are deleted.'),
    ('retention_alert_deliveries', '"90 days"',
     'Alert delivery log rows older than this are deleted.'),
    ('retention_stale_runtime_instances', '"7 days"',
     'Runtime instances without a heartbeat for this long are deleted.')
on conflict (key) do nothing;

-- Reads an interval setting; fails loudly when the key is missing, so a typo
-- never silently disables a job.
create function private.setting_interval(setting_key text) returns interval
    language plpgsql stable security definer set search_path = '' as $$
declare
    setting_value interval;
begin
    select (s.value #>> '{}')::interval into strict setting_value
    from private.settings as s where s.key = setting_key;
    return setting_value;
exception
    when no_data_found then
        raise exception 'private.settings has no key %', setting_key;
end;
$$;

-- Reads an integer setting; fails loudly when the key is missing.
create function private.setting_integer(setting_key text) returns integer
    language plpgsql stable security definer set search_path = '' as $$
declare
    setting_value integer;
begin
    select (s.value #>> '{}')::integer into strict setting_value
    from private.settings as s where s.key = setting_key;
    return setting_value;
exception
    when no_data_found then
        raise exception 'private.settings has no key %', setting_key;
end;
$$;

revoke all on function private.setting_interval(text) from public;
revoke all on function private.setting_integer(text) from public;
grant execute on function private.setting_interval(text) to service_role;
grant execute on function private.setting_integer(text) to service_role;

-- -----------------------------------------------------------------------------
-- updated_at
-- -----------------------------------------------------------------------------

-- BEFORE UPDATE trigger: stamps `updated_at` with the transaction's time.
create function private.set_updated_at() returns trigger
    language plpgsql set search_path = '' as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

revoke all on function private.set_updated_at() from public;

create trigger settings_set_updated_at
    before update on private.settings
    for each row execute function private.set_updated_at();
