-- Scenario 20: what the session daemon relies on: leases taken and renewed
-- for many numbers at once, the health crate's event names, contacts known by
-- phone and LID together, send pacing kept in the database, and sends
-- interrupted by a crash marked failed instead of queued again.
begin;
\ir _helpers.psql
select plan(27);
select tests.create_fixtures();

insert into public.runtime_instances (id, version) values ('runtime-b', '0.1.0');
insert into public.numbers (id, phone_number, transport)
values ('a0000000-0000-4000-8000-000000000002', '+15550100002', 'simulator'),
       ('a0000000-0000-4000-8000-000000000003', '+15550100003', 'web');

-- Leases for many numbers.
select tests.authenticate_as_service_role();
select is(
    (select array_agg(phone_number order by phone_number)
       from private.acquire_number_leases('runtime-a', '30 seconds', array['simulator'],
                                          array['+15550100001', '+15550100002', '+15550100003'])),
    array['+15550100001', '+15550100002'],
    'A daemon takes every free number of the transports it runs, and no other'
);
select is(
    (select count(*)::int from private.acquire_number_leases('runtime-b', '30 seconds', array['simulator', 'web'],
                                                                  array['+15550100001', '+15550100002', '+15550100003'])),
    1,
    'A second daemon takes only what is still free'
);
select is(
    (select count(*)::int from private.acquire_number_leases('runtime-b', '30 seconds', array['simulator'],
                                                                  array['+15550100001'])),
    0,
    'A number with a live lease cannot be taken, even when asked for by phone number'
);
select is(
    (select array_agg(number_id order by number_id)
       from private.renew_number_leases('runtime-a', '30 seconds',
              array['a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000003']::uuid[])),
    array['a0000000-0000-4000-8000-000000000001']::uuid[],
    'Renewing returns only the numbers the daemon still holds'
);
select tests.clear_authentication();
update public.numbers set lease_expires_at = now() - interval '1 second'
where id = 'a0000000-0000-4000-8000-000000000002';
select tests.authenticate_as_service_role();
select is(
    (select array_agg(phone_number) from private.acquire_number_leases('runtime-b', '30 seconds', array['simulator'],
                                                                      array['+15550100002'])),
    array['+15550100002'],
    'An expired lease is taken over by another daemon'
);
select is(
    (select count(*)::int from private.renew_number_leases('runtime-a', '30 seconds',
              array['a0000000-0000-4000-8000-000000000002']::uuid[])),
    0,
    'The daemon that lost the lease cannot renew it'
);
select is(private.release_number_leases_of('runtime-b', array['a0000000-0000-4000-8000-000000000002']::uuid[]), 1,
          'A daemon gives back the lease of one number');
select throws_ok($$ select * from private.acquire_number_leases('runtime-a', '0 seconds', array['simulator']) $$,
                 'P0001', null, 'A lease must last a positive time');
select tests.clear_authentication();

-- Sticky stops.
select tests.authenticate_as_service_role();
select private.release_number_leases('runtime-a');
select tests.clear_authentication();
insert into public.number_connection_events (number_id, event, detail)
values ('a0000000-0000-4000-8000-000000000001', 'stopped', '{"sticky": true}');
select tests.authenticate_as_service_role();
select is(
    (select sticky_stop::text || ' ' || session_status
       from private.acquire_number_leases('runtime-a', '30 seconds', array['simulator'], array['+15550100001'])),
    'true stopped',
    'A number an operator stopped is handed over as a sticky stop'
);
select tests.clear_authentication();

-- The health crate's event names move the status.
select is(
    (select array_agg(private.session_status_for_event(e) order by o)
       from unnest(array['qr_shown', 'pair_code_shown', 'paired', 'stream_replaced', 'temporary_ban',
                         'rate_limit_cleared', 'client_outdated', 'start_requested', 'stop_requested'])
            with ordinality as t(e, o)),
    array['pairing', 'pairing', 'connecting', 'disconnected', 'rate_limited', 'connected', 'disconnected',
          'starting', 'stopped'],
    'Each health-crate event name maps to the status the health state machine reaches'
);
select is(private.session_status_for_event('restarted'), null, 'A restart still implies no status');
select is(private.session_status_for_event('qr'), 'pairing', 'The older names keep their meaning');

-- Contacts by phone and LID.
select tests.authenticate_as_service_role();
select isnt(private.record_contact_identity('15550177777', '111222333444@lid', 'Grace'), null,
            'Recording a phone id with its LID returns the contact');
select tests.clear_authentication();
select is(
    (select phone_number || ' ' || wa_id || ' ' || lid || ' ' || display_name from public.contacts
      where wa_id = '15550177777'),
    '+15550177777 15550177777 111222333444@lid Grace',
    'One contact row holds the phone number, the WhatsApp id and the LID'
);
insert into public.contacts (lid, display_name) values ('555666777888@lid', 'Lin');
insert into public.conversations (number_id, contact_wa_id, contact_name)
values ('a0000000-0000-4000-8000-000000000001', '555666777888@lid', 'Lin');
insert into public.contacts (wa_id, phone_number) values ('15550166666', '+15550166666');
select tests.authenticate_as_service_role();
select private.record_contact_identity('15550166666@s.whatsapp.net', '555666777888@lid', null);
select tests.clear_authentication();
select is((select count(*)::int from public.contacts where lid = '555666777888@lid' or wa_id = '15550166666'), 1,
          'A person known apart by LID and by phone becomes one contact');
select is(
    (select ct.wa_id || ' ' || ct.display_name from public.conversations as cv
       join public.contacts as ct on ct.id = cv.contact_id
      where cv.contact_wa_id = '555666777888@lid'),
    '15550166666 Lin',
    'The LID conversation follows the merged contact, which keeps its name'
);
select tests.authenticate_as_service_role();
select is(private.record_contact_identity('not a number', 'nor a lid', 'x'), null,
          'Ids that cannot be read record nothing');
select isnt(private.record_contact_identity(null, '999888777666@lid', 'Lid only'), null,
            'A LID alone makes a contact of its own');
select tests.clear_authentication();

select is((select coalesce(wa_id, '-') || ' ' || display_name from public.contacts where lid = '999888777666@lid'),
          '- Lid only', 'That contact has the LID and no phone id');

-- Pacing state.
select tests.authenticate_as_service_role();
select lives_ok(
    $$ insert into public.number_pacing_states (number_id, state, paused_until)
       values ('a0000000-0000-4000-8000-000000000001', '{"rate_limit_errors": 1}', now() + interval '1 minute') $$,
    'The daemon stores a number''s pacing state'
);
select tests.authenticate_as(tests.user_id('viewer'));
select is((select (state ->> 'rate_limit_errors')::int from public.number_pacing_states), 1,
          'Members can read the pacing state');
select throws_ok($$ update public.number_pacing_states set paused_until = null $$, '42501', null,
                 'Members cannot lift a pause');
select tests.authenticate_as_anon();
select throws_ok($$ select * from public.number_pacing_states $$, '42501', null,
                 'Anon cannot read the pacing state');
select tests.clear_authentication();

-- Interrupted sends.
insert into public.messages (number_id, direction, contact_wa_id, body, status, claimed_by, claimed_until)
values ('a0000000-0000-4000-8000-000000000001', 'outbound', '15550109999', 'in flight', 'sending', 'runtime-a',
        now() - interval '1 second'),
       ('a0000000-0000-4000-8000-000000000001', 'outbound', '15550109999', 'claimed, not started', 'queued',
        'runtime-a', now() - interval '1 second'),
       ('a0000000-0000-4000-8000-000000000001', 'outbound', '15550109999', 'still sending', 'sending', 'runtime-a',
        now() + interval '1 minute');
select tests.authenticate_as_service_role();
select is(private.fail_interrupted_sends(), 1, 'Exactly the send whose lease ran out mid-send is marked');
select is(private.fail_interrupted_sends('runtime-b'), 0,
          'A daemon that does not hold the number marks nothing of another daemon''s');
select tests.clear_authentication();
update public.numbers set lease_holder = 'runtime-b', lease_expires_at = now() + interval '30 seconds'
where id = 'a0000000-0000-4000-8000-000000000001';
select tests.authenticate_as_service_role();
select is(private.fail_interrupted_sends('runtime-b'), 1,
          'The daemon that took the number over marks the sends its predecessor left mid-way');
select tests.clear_authentication();
select is(
    (select array_agg(body || ': ' || status || coalesce(' (' || left(error, 12) || ')', '') order by body)
       from public.messages where body in ('in flight', 'claimed, not started', 'still sending')),
    array['claimed, not started: queued', 'in flight: failed (interrupted:)', 'still sending: failed (interrupted:)'],
    'Interrupted sends are failed with a reason; a claimed but unstarted message stays queued'
);

select * from finish();
rollback;
