-- Scenario 10: a connection event moves the number's session status and
-- enqueues an immediate health evaluation; the timeline is append-only.
begin;
\ir _helpers.psql
select plan(16);
select tests.create_fixtures();

-- The fixtures' `connected` event already moved the number.
select is((select session_status from public.numbers where id = 'a0000000-0000-4000-8000-000000000001'),
          'connected', 'A connected event marks the number connected');
select isnt((select last_heartbeat_at from public.numbers where id = 'a0000000-0000-4000-8000-000000000001'),
            null, 'A connected event counts as a heartbeat');

delete from public.outbox;
select tests.authenticate_as_service_role();
insert into public.number_connection_events (number_id, event, reason, code)
values ('a0000000-0000-4000-8000-000000000001', 'disconnected', 'stream errored', '515');
select tests.clear_authentication();

select is((select session_status from public.numbers where id = 'a0000000-0000-4000-8000-000000000001'),
          'disconnected', 'A disconnected event marks the number disconnected');
select is((select array_agg(payload) from public.outbox where topic = 'health-check'),
          array[jsonb_build_object('number_id', 'a0000000-0000-4000-8000-000000000001',
                                   'reason', 'connection_event')],
          'A connection event enqueues exactly one health-check with the number and the reason');
select is((select target from public.outbox where topic = 'health-check'), null,
          'The health-check row is delivered to the function named like its topic');
select is((select reason || ' / ' || code from public.number_connection_events where event = 'disconnected'),
          'stream errored / 515', 'The event keeps its reason and code for the runbook''s timeline');

-- The mapping, event by event.
select is(
    (select array_agg(private.session_status_for_event(e) order by o)
       from unnest(array['starting', 'pairing', 'qr', 'connecting', 'connected', 'disconnected', 'logged_out',
                         'banned', 'rate_limited', 'degraded', 'connect_failed', 'stopped'])
            with ordinality as t(e, o)),
    array['starting', 'pairing', 'pairing', 'connecting', 'connected', 'disconnected', 'logged_out',
          'banned', 'rate_limited', 'degraded', 'failed', 'stopped'],
    'Each lifecycle event maps to the health state machine''s status'
);
select is(private.session_status_for_event('restarted'), null,
          'A restart says nothing about the resulting status (the daemon writes it)');

insert into public.number_connection_events (number_id, event) values ('a0000000-0000-4000-8000-000000000001', 'banned');
select is((select session_status from public.numbers where id = 'a0000000-0000-4000-8000-000000000001'),
          'banned', 'A banned event marks the number banned');

update public.numbers set session_status = 'pairing' where id = 'a0000000-0000-4000-8000-000000000001';
insert into public.number_connection_events (number_id, event) values ('a0000000-0000-4000-8000-000000000001', 'restarted');
select is((select session_status from public.numbers where id = 'a0000000-0000-4000-8000-000000000001'),
          'pairing', 'A restarted event keeps the status the daemon wrote with it');

-- Heartbeats.
delete from public.outbox;
update public.numbers set last_heartbeat_at = now() - interval '1 hour'
where id = 'a0000000-0000-4000-8000-000000000001';
insert into public.number_connection_events (number_id, event) values ('a0000000-0000-4000-8000-000000000001', 'heartbeat');
select ok((select last_heartbeat_at > now() - interval '1 minute' from public.numbers
            where id = 'a0000000-0000-4000-8000-000000000001'),
          'A heartbeat event refreshes last_heartbeat_at');
select is((select count(*)::int from public.outbox), 0, 'A heartbeat event enqueues no health check');
select is((select session_status from public.numbers where id = 'a0000000-0000-4000-8000-000000000001'),
          'pairing', 'A heartbeat event leaves the status alone');

select throws_ok($$ insert into public.number_connection_events (number_id, event)
                    values ('a0000000-0000-4000-8000-000000000001', 'Not An Event') $$, '23514', null,
                 'Event names are lowercase words');

-- Append-only.
select throws_ok($$ update public.number_connection_events set reason = 'rewritten' $$, '42501',
                 'number_connection_events is append-only: update is not allowed',
                 'Even the table''s owner cannot rewrite the timeline');

select tests.authenticate_as(tests.user_id('owner'));
select throws_ok($$ delete from public.number_connection_events $$, '42501', null,
                 'An owner cannot delete the timeline');

select * from finish();
rollback;
