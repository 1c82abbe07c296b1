-- =============================================================================
-- The health check's tunables in private.settings.
--
-- The health-check function judges numbers with the core's thresholds
-- (`HealthThresholds`: when a heartbeat is stale, how long a disconnection
-- lasts before it alerts, what counts as flapping, …) and reconciles alerts
-- with the core's timing rules (`ReconcileConfig`: how long a subject must
-- stay healthy before its alert resolves, flap detection, escalation). Both
-- were fixed at the core's defaults; an operator can now override any of
-- their fields with one `update` of a JSON object, no deploy needed. `{}`
-- (the default) means the core's defaults. The chaos run
-- (`scripts/chaos.sh`) shortens them so that alerts open and resolve within
-- a scenario.
-- =============================================================================

insert into private.settings (key, value, description) values
    ('health_thresholds', '{}',
     'Overrides of the health evaluator''s HealthThresholds (milliseconds, e.g. {"disconnected_alert_after_ms": 60000}); {} keeps the core''s defaults.'),
    ('alert_reconcile', '{}',
     'Overrides of the alert reconcile''s ReconcileConfig (milliseconds, e.g. {"resolve_after_healthy_ms": 120000}); {} keeps the core''s defaults.')
on conflict (key) do nothing;

-- The health check's overrides as one object:
-- {"health_thresholds": {…}, "alert_reconcile": {…}}. A missing key or a
-- value that is not an object reads as {}.
create function private.health_check_settings() returns jsonb
    language sql stable security definer set search_path = '' as $$
    select jsonb_build_object(
        'health_thresholds', coalesce((select s.value from private.settings as s
                                       where s.key = 'health_thresholds'
                                         and jsonb_typeof(s.value) = 'object'), '{}'::jsonb),
        'alert_reconcile', coalesce((select s.value from private.settings as s
                                     where s.key = 'alert_reconcile'
                                       and jsonb_typeof(s.value) = 'object'), '{}'::jsonb));
$$;

revoke all on function private.health_check_settings() from public;
grant execute on function private.health_check_settings() to service_role;
