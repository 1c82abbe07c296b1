-- Scenario 21: the health check's thresholds and alert timing rules are
-- overridable in private.settings, read through one service-role helper.
begin;
\ir _helpers.psql
select plan(5);

select is(private.health_check_settings(),
          '{"health_thresholds": {}, "alert_reconcile": {}}'::jsonb,
          'By default the health check keeps the core''s thresholds and timing rules');

update private.settings set value = '{"disconnected_alert_after_ms": 60000}' where key = 'health_thresholds';
update private.settings set value = '{"resolve_after_healthy_ms": 120000}' where key = 'alert_reconcile';
select is(private.health_check_settings(),
          '{"health_thresholds": {"disconnected_alert_after_ms": 60000},
            "alert_reconcile": {"resolve_after_healthy_ms": 120000}}'::jsonb,
          'An operator''s overrides are handed to the health check as they are');

update private.settings set value = '"fast"' where key = 'health_thresholds';
select is(private.health_check_settings() -> 'health_thresholds', '{}'::jsonb,
          'A value that is not a JSON object reads as no override');

set local role service_role;
select lives_ok('select private.health_check_settings()',
                'The service role (the health-check function) may read the overrides');
reset role;

set local role authenticated;
select throws_ok('select private.health_check_settings()', '42501', null,
                 'Signed-in users may not call the helper');
reset role;

select * from finish();
rollback;
