-- Scenario 13: a session command reaches the daemon holding the number's
-- lease, and leases give each number to one daemon at a time.
begin;
\ir _helpers.psql
select plan(16);
select tests.create_fixtures();

select trigger_is('public', 'session_commands', 'session_commands_notify', 'private', 'notify_session_command',
                  'Every session command insert runs the notify trigger');
select ok((select prosrc like '%pg_notify(''session_commands'', new.number_id::text)%' from pg_proc
            where oid = 'private.notify_session_command()'::regprocedure),
          'The trigger notifies the session_commands channel with the number id');

insert into public.runtime_instances (id, version) values ('runtime-b', '0.1.0');

-- Leases.
select tests.authenticate_as_service_role();
select ok(private.acquire_number_lease('runtime-a', 'a0000000-0000-4000-8000-000000000001', '30 seconds'),
          'A daemon takes the lease on a free number');
select ok(not private.acquire_number_lease('runtime-b', 'a0000000-0000-4000-8000-000000000001', '30 seconds'),
          'A second daemon cannot take a number whose lease is live');
select ok(private.acquire_number_lease('runtime-a', 'a0000000-0000-4000-8000-000000000001', '30 seconds'),
          'The holder renews its own lease');

-- Commands reach the holder only.
select is((select count(*)::int from private.claim_session_commands('runtime-b')), 0,
          'A daemon that does not hold the number claims none of its commands');
select is((select array_agg(command) from private.claim_session_commands('runtime-a')), array['restart'],
          'The daemon holding the number claims its pending restart');
select tests.clear_authentication();
select is((select status || ' by ' || claimed_by from public.session_commands), 'claimed by runtime-a',
          'The command is marked claimed by that daemon');
select isnt((select claimed_at from public.session_commands), null, 'The claim time is stamped');

select tests.authenticate_as_service_role();
select lives_ok($$ select private.complete_session_command(id) from public.session_commands $$,
                'The daemon records the command done');
select tests.clear_authentication();
select ok((select status = 'done' and completed_at is not null and error is null from public.session_commands),
          'A done command has its completion time');

insert into public.session_commands (number_id, command) values ('a0000000-0000-4000-8000-000000000001', 'stop');
select tests.authenticate_as_service_role();
select private.claim_session_commands('runtime-a');
select private.complete_session_command(id, 'transport refused to disconnect')
from public.session_commands where command = 'stop';
select tests.clear_authentication();
select is((select status || ': ' || error from public.session_commands where command = 'stop'),
          'failed: transport refused to disconnect', 'A failed command keeps its error');

-- An expired lease can be taken over; a released one is free.
update public.numbers set lease_expires_at = now() - interval '1 second'
where id = 'a0000000-0000-4000-8000-000000000001';
insert into public.session_commands (number_id, command) values ('a0000000-0000-4000-8000-000000000001', 'start');
select tests.authenticate_as_service_role();
select is((select count(*)::int from private.claim_session_commands('runtime-a')), 0,
          'A daemon whose lease expired claims no commands');
select ok(private.acquire_number_lease('runtime-b', 'a0000000-0000-4000-8000-000000000001', '30 seconds'),
          'Another daemon takes over an expired lease');
select is(private.release_number_leases('runtime-b'), 1, 'A daemon shutting down releases its leases');
select tests.clear_authentication();
select is((select lease_holder from public.numbers where id = 'a0000000-0000-4000-8000-000000000001'), null,
          'A released number has no lease holder');

select * from finish();
rollback;
