-- Scenario 14: the pg_cron jobs are registered with their schedules, and the
-- work each one does (called directly, without waiting for the clock).
begin;
\ir _helpers.psql
select plan(21);
select tests.create_fixtures();

select results_eq(
    $$ select jobname::text collate "default", schedule collate "default", command collate "default" from cron.job
       where jobname in ('health-sweep', 'alert-escalation', 'retention') order by jobname $$,
    $$ values ('alert-escalation', '* * * * *', 'select private.escalate_stale_alerts()'),
              ('health-sweep', '* * * * *', 'select private.enqueue_health_sweep()'),
              ('retention', '17 3 * * *', 'select private.apply_retention()') $$,
    'The health-sweep, alert-escalation and retention jobs are registered with their schedules'
);
select is((select count(*)::int from cron.job where jobname in ('health-sweep', 'alert-escalation', 'retention')),
          3, 'Each job is registered once');
select is((select count(*)::int from cron.job
            where schedule !~ '^[0-9*/,-]+ [0-9*/,-]+ [0-9*/,-]+ [0-9*/,-]+ [0-9*/,-]+$'),
          0, 'Every job uses a five-field, minute-granularity schedule');
select is((select bool_and(username = 'postgres' and active) from cron.job
            where jobname in ('health-sweep', 'alert-escalation', 'retention')),
          true, 'The jobs are active and run as postgres, the owner of what they touch');

-- health-sweep.
delete from public.outbox;
select isnt(private.enqueue_health_sweep(), null, 'The health sweep enqueues a row');
select is((select array_agg(payload) from public.outbox where topic = 'health-check'),
          array['{"sweep": true}'::jsonb], 'The sweep row is a health-check with payload {"sweep": true}');
select is(private.enqueue_health_sweep(), null, 'A second sweep is not enqueued while one is pending');
-- Claimed by a relay that then died: in flight, no error recorded.
update public.outbox set attempts = 1, next_attempt_at = now() + interval '30 seconds'
where topic = 'health-check';
select isnt(private.enqueue_health_sweep(), null,
            'A sweep claimed by a relay (in flight, possibly dead) does not hold back the next one');
select is(private.enqueue_health_sweep(), null, 'But the new one, waiting for its claim, does');
select is((select count(*)::int from public.outbox where topic = 'health-check' and delivered_at is null),
          2, 'So at most one sweep waits for a claim beside the one in flight');
-- The in-flight one failed (health-check answered 500): it backs off, and
-- while it is pending another row would change nothing.
delete from public.outbox where topic = 'health-check' and attempts = 0;
update public.outbox set last_error = 'health-check answered 500', next_attempt_at = now() + interval '4 seconds'
where topic = 'health-check';
select is(private.enqueue_health_sweep(), null, 'A sweep backing off after a failure holds back the next one');
update public.outbox set delivered_at = now() where topic = 'health-check';
select isnt(private.enqueue_health_sweep(), null, 'Once delivered, the next minute enqueues a new sweep');

-- retention.
delete from public.outbox;
insert into public.outbox (topic, payload, delivered_at)
values ('route-message', '{"old": true}', now() - interval '8 days'),
       ('route-message', '{"recent": true}', now() - interval '6 days');
insert into public.outbox (topic, payload, dead_at) values ('route-message', '{"dead": true}', now() - interval '31 days');
insert into public.outbox (topic, payload) values ('route-message', '{"pending": true}');
insert into public.number_connection_events (number_id, event, occurred_at)
values ('a0000000-0000-4000-8000-000000000001', 'heartbeat', now() - interval '31 days'),
       ('a0000000-0000-4000-8000-000000000001', 'heartbeat', now() - interval '29 days'),
       ('a0000000-0000-4000-8000-000000000001', 'disconnected', now() - interval '31 days');
insert into cron.job_run_details (jobid, runid, status, start_time, end_time)
values (0, -1, 'succeeded', now() - interval '8 days', now() - interval '8 days'),
       (0, -2, 'succeeded', now() - interval '1 day', now() - interval '1 day');
insert into public.alert_deliveries (alert_id, status, attempted_at)
values ('e0000000-0000-4000-8000-000000000001', 'sent', now() - interval '91 days');
update public.session_commands set status = 'done', completed_at = now() - interval '31 days';
insert into public.runtime_instances (id, last_heartbeat_at) values ('runtime-gone', now() - interval '8 days');

select ok((private.apply_retention() ->> 'outbox_delivered')::int >= 1, 'The retention job runs and reports counts');
select is((select array_agg(payload order by id) from public.outbox
            where payload in ('{"old": true}', '{"recent": true}', '{"dead": true}', '{"pending": true}')),
          array['{"recent": true}'::jsonb, '{"pending": true}'::jsonb],
          'Delivered rows older than 7 days and dead rows older than 30 days are deleted; the rest stay');
select is((select array_agg(runid order by runid) from cron.job_run_details where runid < 0),
          array[-2::bigint], 'pg_cron run history older than 7 days is deleted');
select is((select array_agg(event || ':' || (occurred_at > now() - interval '30 days')) from public.number_connection_events
            where event in ('heartbeat', 'disconnected') and occurred_at < now() - interval '1 day'),
          array['heartbeat:true', 'disconnected:false'],
          'Heartbeat events older than 30 days are deleted; other events are kept longer');
select is((select count(*)::int from public.alert_deliveries where attempted_at < now() - interval '90 days'), 0,
          'Alert delivery log rows older than 90 days are deleted');
select is((select count(*)::int from public.session_commands), 0, 'Finished session commands older than 30 days are deleted');
select is((select array_agg(id) from public.runtime_instances), array['runtime-a'],
          'Runtime instances silent for 7 days are deleted');
select ok((select count(*) > 0 from public.audit_log_entries), 'The audit log is never pruned');

-- alert-escalation is covered in 11-alerts; here only that it is callable.
select is(private.escalate_stale_alerts(), 0, 'The escalation job runs with nothing to escalate');

select * from finish();
rollback;
