-- Scenario 11: alerts reach alert-dispatch as Supabase database webhook
-- payloads, one open alert per dedupe key, acknowledgement and resolution
-- are recorded, and stale alerts escalate.
begin;
\ir _helpers.psql
select plan(24);
select tests.create_fixtures();

-- INSERT: the webhook payload.
select is(
    (select array_agg(k order by k) from public.outbox o, jsonb_object_keys(o.payload) as k
      where o.topic = 'alert-dispatch' and o.payload -> 'record' ->> 'id' = 'e0000000-0000-4000-8000-000000000001'),
    array['old_record', 'record', 'schema', 'table', 'type'],
    'An alert insert enqueues exactly the keys of a database webhook payload'
);
select is(
    (select payload - 'record' from public.outbox
      where topic = 'alert-dispatch' and payload -> 'record' ->> 'id' = 'e0000000-0000-4000-8000-000000000001'),
    '{"type": "INSERT", "table": "alerts", "schema": "public", "old_record": null}'::jsonb,
    'The insert payload says INSERT on public.alerts with a null old_record'
);
select is(
    (select payload -> 'record' from public.outbox
      where topic = 'alert-dispatch' and payload -> 'record' ->> 'id' = 'e0000000-0000-4000-8000-000000000001'),
    (select to_jsonb(a) from public.alerts a where a.id = 'e0000000-0000-4000-8000-000000000001'),
    'The record is the whole alert row as JSON'
);
select is((select target from public.outbox where topic = 'alert-dispatch' limit 1), null,
          'The alert row is delivered to the alert-dispatch function');

-- One open alert per dedupe key.
select throws_ok($$ insert into public.alerts (kind, severity, dedupe_key)
                    values ('number_disconnected', 'critical', 'number_down:fixture') $$, '23505', null,
                 'A second open alert for the same dedupe key is refused');

-- UPDATE: acknowledge as an operator.
delete from public.outbox;
select tests.authenticate_as(tests.user_id('operator'));
update public.alerts set status = 'acknowledged' where id = 'e0000000-0000-4000-8000-000000000001';
select tests.clear_authentication();

select is((select payload ->> 'type' from public.outbox where topic = 'alert-dispatch'), 'UPDATE',
          'Acknowledging enqueues an UPDATE payload');
select is((select payload -> 'old_record' ->> 'status' || ' -> ' || (payload -> 'record' ->> 'status')
             from public.outbox where topic = 'alert-dispatch'),
          'open -> acknowledged', 'The UPDATE payload carries the old and the new row');
select is((select (payload -> 'record' ->> 'acknowledged_by')::uuid from public.outbox where topic = 'alert-dispatch'),
          tests.user_id('operator'), 'The dispatched row already names who acknowledged it');
select throws_ok($$ insert into public.alerts (kind, severity, dedupe_key)
                    values ('number_disconnected', 'critical', 'number_down:fixture') $$, '23505', null,
                 'An acknowledged alert still holds its dedupe key');

delete from public.outbox;
update public.alerts set summary = summary where id = 'e0000000-0000-4000-8000-000000000001';
select is((select count(*)::int from public.outbox), 0, 'An update that changes nothing enqueues nothing');

-- Timestamps the caller gives are kept; missing ones are stamped.
update public.alerts set status = 'resolved', resolved_at = '2026-01-02 03:04:05+00'
where id = 'e0000000-0000-4000-8000-000000000001';
select is((select resolved_at from public.alerts where id = 'e0000000-0000-4000-8000-000000000001'),
          '2026-01-02 03:04:05+00'::timestamptz, 'A resolution time given by the writer is kept');
select lives_ok($$ insert into public.alerts (id, kind, severity, dedupe_key)
                   values ('e0000000-0000-4000-8000-000000000002', 'number_disconnected', 'critical',
                           'number_down:fixture') $$,
                'Once resolved, the same dedupe key can open a new alert');
select throws_ok($$ update public.alerts set status = 'acknowledged' where id = 'e0000000-0000-4000-8000-000000000001' $$,
                 '23514', null, 'A resolved alert stays resolved');

-- Reopening an acknowledged alert makes it unacknowledged again.
update public.alerts set status = 'acknowledged' where id = 'e0000000-0000-4000-8000-000000000002';
update public.alerts set status = 'open' where id = 'e0000000-0000-4000-8000-000000000002';
select is((select (acknowledged_at, acknowledged_by)::text from public.alerts
            where id = 'e0000000-0000-4000-8000-000000000002'),
          '(,)', 'Reopening clears the acknowledgement');
select is((select count(*)::int from public.audit_log_entries where action = 'alerts.reopened'), 1,
          'Reopening is audited');

-- Escalation after 30 minutes open and unacknowledged.
update public.alerts set created_at = now() - interval '31 minutes' where id = 'e0000000-0000-4000-8000-000000000002';
insert into public.alerts (id, kind, severity, dedupe_key, created_at)
values ('e0000000-0000-4000-8000-000000000003', 'runtime_down', 'critical', 'runtime_down:a', now() - interval '29 minutes'),
       ('e0000000-0000-4000-8000-000000000004', 'runtime_down', 'warning', 'runtime_down:b', now() - interval '2 hours');
update public.alerts set status = 'acknowledged' where id = 'e0000000-0000-4000-8000-000000000004';
delete from public.outbox;

select is(private.escalate_stale_alerts(), 1, 'One alert is open and unacknowledged for over 30 minutes');
select isnt((select escalated_at from public.alerts where id = 'e0000000-0000-4000-8000-000000000002'), null,
            'The stale alert is marked escalated');
select is((select array_agg(payload -> 'record' ->> 'id') from public.outbox
            where topic = 'alert-dispatch' and payload ->> 'type' = 'UPDATE'),
          array['e0000000-0000-4000-8000-000000000002'],
          'Escalating enqueues an UPDATE webhook for that alert only');
select ok((select payload -> 'old_record' -> 'escalated_at' = 'null'::jsonb
             and payload -> 'record' ->> 'escalated_at' is not null
             from public.outbox where topic = 'alert-dispatch'),
          'The escalation payload shows escalated_at going from null to a time');
select is(private.escalate_stale_alerts(), 0, 'An alert escalates once');

update private.settings set value = '"10 minutes"' where key = 'alert_escalation_after';
select is(private.escalate_stale_alerts(), 1, 'The escalation delay is configurable in private.settings');

-- Channel and delivery constraints.
select throws_ok($$ insert into public.alert_channels (name, kind, target) values ('Pager', 'whatsapp', 'https://x') $$,
                 '23514', null, 'A WhatsApp channel needs an E.164 number');
select throws_ok($$ insert into public.alert_channel_secrets (channel_id, signing_secret)
                    values ('f0000000-0000-4000-8000-000000000001', 'another-long-enough-secret') $$, '23505', null,
                 'A channel has one signing secret');
select throws_ok($$ insert into public.alert_deliveries (alert_id, status) values ('e0000000-0000-4000-8000-000000000001', 'lost') $$,
                 '23514', null, 'A delivery is sent, failed or skipped');

select * from finish();
rollback;
