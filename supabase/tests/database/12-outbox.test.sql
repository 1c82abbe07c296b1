-- Scenario 12: the outbox: one notification per row from one trigger,
-- claiming with a lease, backoff, dead letters after ten attempts.
begin;
\ir _helpers.psql
select plan(23);
select tests.create_fixtures();

-- Notifications.
select trigger_is('public', 'outbox', 'outbox_notify', 'private', 'notify_outbox_row',
                  'Every outbox insert runs the notify trigger');
select ok((select prosrc like '%pg_notify(''outbox'', new.id::text)%' from pg_proc
            where oid = 'private.notify_outbox_row()'::regprocedure),
          'The outbox trigger notifies the outbox channel with the row id');
select ok((select prosrc not like '%pg_notify%' from pg_proc
            where oid = 'private.enqueue_inbound_routing()'::regprocedure),
          'The inbound routing trigger no longer notifies on its own');
select has_column('public', 'outbox', 'target', 'Outbox rows have a target');

-- The pg_net doorbell exists exactly where pg_net does (hosted Supabase).
select is(
    exists (select 1 from pg_proc where proname = 'kick_outbox_relay'
              and pronamespace = 'private'::regnamespace)
      and exists (select 1 from cron.job where jobname = 'outbox-relay-doorbell'),
    exists (select 1 from pg_available_extensions where name = 'pg_net'),
    'The outbox doorbell and its minutely job exist if and only if pg_net is available'
);

-- Claiming.
delete from public.outbox;
insert into public.outbox (topic, payload) values ('route-message', '{"message_id": "m1"}');
insert into public.outbox (topic, target, payload) values ('health-check', 'health-check', '{"sweep": true}');
insert into public.outbox (topic, payload, next_attempt_at) values ('route-message', '{"message_id": "later"}',
                                                                  now() + interval '1 hour');

select tests.authenticate_as_service_role();
select is((select array_agg(target || ':' || attempts order by id) from private.claim_outbox(10, '30 seconds')),
          array['route-message:1', 'health-check:1'],
          'Claiming returns the due rows in order, with their target and the attempt counted');
select is((select count(*)::int from private.claim_outbox(10, '30 seconds')), 0,
          'Claimed rows are leased: a second claim gets nothing');
select tests.clear_authentication();
select ok((select bool_and(next_attempt_at between now() + interval '29 seconds' and now() + interval '31 seconds')
             from public.outbox where attempts = 1),
          'The lease pushes the next attempt out by the lease duration');
select throws_ok($$ select * from private.claim_outbox(0, '30 seconds') $$, 'P0001', null,
                 'A batch size below one is refused');

-- Outcomes.
select lives_ok($$ select private.record_outbox_delivery(id) from public.outbox where payload ->> 'message_id' = 'm1' $$,
                'A delivery is recorded');
select ok((select delivered_at is not null and last_error is null from public.outbox
            where payload ->> 'message_id' = 'm1'),
          'A delivered row has delivered_at and no error');
select is(private.record_outbox_deliveries(
              (select array_agg(id) from public.outbox where payload ->> 'message_id' in ('m1', 'later'))),
          1, 'A batch of deliveries marks the rows not yet delivered, and says how many');
select ok((select bool_and(delivered_at is not null) from public.outbox where payload ->> 'message_id' in ('m1', 'later')),
          'Every row of the batch is delivered');
select is(private.record_outbox_deliveries('{}'), 0, 'An empty batch marks nothing');
select is((select private.record_outbox_failure(id, 'HTTP 503') from public.outbox where topic = 'health-check'),
          false, 'A first failure is retried, not dead');
select ok((select next_attempt_at between now() + interval '1 second' and now() + interval '3 seconds'
                  and last_error = 'HTTP 503'
             from public.outbox where topic = 'health-check'),
          'The first retry waits two seconds and keeps the error');

-- Dead letters after ten attempts.
update public.outbox set attempts = 9, next_attempt_at = now() where topic = 'health-check';
select is((select attempts from private.claim_outbox(10, '30 seconds') where topic = 'health-check'), 10,
          'The tenth attempt is still claimed');
select is((select private.record_outbox_failure(id, 'HTTP 503') from public.outbox where topic = 'health-check'),
          true, 'The tenth failure dead-letters the row');
select is((select count(*)::int from private.claim_outbox(10, '30 seconds')), 0,
          'A dead row is never claimed again');

insert into public.outbox (topic, payload, attempts) values ('alert-dispatch', '{"lost": true}', 10);
select is((select count(*)::int from private.claim_outbox(10, '30 seconds')), 0,
          'A row whose attempts are used up is not claimed');
select isnt((select dead_at from public.outbox where payload = '{"lost": true}'), null,
            'It is dead-lettered instead (its last lease ran out without an outcome)');

-- The bound is a setting.
update private.settings set value = '3' where key = 'outbox_max_attempts';
insert into public.outbox (topic, payload, attempts) values ('alert-dispatch', '{"third": true}', 3);
select is((select count(*)::int from private.claim_outbox(10, '30 seconds')), 0,
          'The attempt bound is read from private.settings');

-- One routing row per inbound message, still.
insert into public.messages (id, number_id, direction, contact_wa_id, wa_message_id, body, status)
values ('d0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000001', 'inbound',
        '15550109999', 'WAMID-OUTBOX', 'again', 'received');
select is((select array_agg(payload) from public.outbox where topic = 'route-message'
            and payload ->> 'message_id' = 'd0000000-0000-4000-8000-000000000002'),
          array['{"message_id": "d0000000-0000-4000-8000-000000000002"}'::jsonb],
          'An inbound message still writes exactly one route-message row');

select * from finish();
rollback;
