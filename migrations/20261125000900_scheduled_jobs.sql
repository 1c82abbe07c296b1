-- =============================================================================
-- Scheduled jobs (pg_cron): the health sweep, alert escalation, retention.
--
--   health-sweep      * * * * *   private.enqueue_health_sweep()
--   alert-escalation  * * * * *   private.escalate_stale_alerts()
--   retention         17 3 * * *  private.apply_retention()
--
-- Each job only calls a function defined here, so the work is testable
-- without waiting for the clock, and the schedules stay one line each.
-- Schedules use the standard five-field syntax: the local cluster runs
-- pg_cron 1.4, which has minute granularity only (hosted runs 1.6).
-- `cron.schedule(name, …)` updates a job of the same name (pg_cron >= 1.3),
-- so applying this migration twice leaves exactly three jobs.
--
-- Jobs run as the role that scheduled them: `postgres`, the owner of every
-- table and function they touch, so they need no further grants. The
-- tunables (escalation delay, retention periods) are in private.settings.
-- =============================================================================

-- On hosted Supabase pg_cron is installed into pg_catalog (its objects live in
-- the `cron` schema); locally it is preloaded by scripts/lib/db.sh.
create extension if not exists pg_cron with schema pg_catalog;

-- -----------------------------------------------------------------------------
-- The jobs' work
-- -----------------------------------------------------------------------------

-- Enqueues one health sweep of every number (outbox topic `health-check`,
-- payload {"sweep": true}), unless a sweep is still waiting to be delivered:
-- when the relay or the function is down, sweeps do not pile up. Returns the
-- new outbox row's id, or null when a sweep was already pending.
create function private.enqueue_health_sweep() returns bigint
    language plpgsql security definer set search_path = '' as $$
declare
    new_outbox_id bigint;
begin
    if exists (
        select 1 from public.outbox as o
        where o.topic = 'health-check' and o.payload = '{"sweep": true}'::jsonb
          and o.delivered_at is null and o.dead_at is null
    ) then
        return null;
    end if;
    insert into public.outbox (topic, payload)
    values ('health-check', '{"sweep": true}'::jsonb)
    returning id into new_outbox_id;
    return new_outbox_id;
end;
$$;

-- Escalates alerts open and unacknowledged for longer than the
-- `alert_escalation_after` setting (30 minutes): sets escalated_at, which
-- enqueues an alert-dispatch UPDATE. Each alert is escalated once. Returns
-- how many were escalated.
create function private.escalate_stale_alerts() returns integer
    language plpgsql security definer set search_path = '' as $$
declare
    escalate_after constant interval := private.setting_interval('alert_escalation_after');
    n_escalated integer;
begin
    update public.alerts as a
    set escalated_at = now()
    where a.status = 'open' and a.escalated_at is null
      and a.created_at <= now() - escalate_after;
    get diagnostics n_escalated = row_count;
    return n_escalated;
end;
$$;

-- Deletes what would otherwise grow without bound, each after the period in
-- private.settings: delivered outbox rows (7 days), dead outbox rows (30
-- days), pg_cron's run history (7 days), heartbeat connection events (30
-- days) and other connection events (180 days), finished session commands
-- (30 days), alert delivery log rows (90 days) and runtime instances silent
-- for 7 days. It also dead-letters outbox rows whose attempts are used up.
-- The audit log is never pruned. Returns the counts per kind.
create function private.apply_retention() returns jsonb
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

    delete from public.runtime_instances as r
    where r.last_heartbeat_at < now() - private.setting_interval('retention_stale_runtime_instances');
    get diagnostics n_rows = row_count;
    counts := counts || jsonb_build_object('runtime_instances', n_rows);

    return counts;
end;
$$;

revoke all on function private.enqueue_health_sweep() from public;
revoke all on function private.escalate_stale_alerts() from public;
revoke all on function private.apply_retention() from public;
grant execute on function private.enqueue_health_sweep() to service_role;
grant execute on function private.escalate_stale_alerts() to service_role;

-- -----------------------------------------------------------------------------
-- The schedules
-- -----------------------------------------------------------------------------

select cron.schedule('health-sweep', '* * * * *', 'select private.enqueue_health_sweep()');
select cron.schedule('alert-escalation', '* * * * *', 'select private.escalate_stale_alerts()');
select cron.schedule('retention', '17 3 * * *', 'select private.apply_retention()');
