-- Scenario 7: the service role serves the daemon and the functions: it
-- reads secrets and writes operational data, and still cannot alter the
-- audit log or the connection timeline.
begin;
\ir _helpers.psql
select plan(17);
select tests.create_fixtures();

select tests.authenticate_as_service_role();

select is((select credentials ->> 'noise_key' from public.session_credentials), 'secret',
          'The service role reads session credentials');
select is((select signing_secret from public.alert_channel_secrets), 'fixture-signing-secret-0123456789',
          'The service role reads channel signing secrets');
select isnt_empty($$ select * from public.outbox $$, 'The service role reads the outbox');
select lives_ok($$ insert into public.runtime_instances (id, version) values ('runtime-b', '0.1.0')
                   on conflict (id) do update set last_heartbeat_at = now() $$,
                'The service role registers a runtime instance');
select lives_ok($$ update public.numbers set session_status = 'connected', last_heartbeat_at = now()
                   where id = 'a0000000-0000-4000-8000-000000000001' $$,
                'The service role writes a session status and heartbeat');
select lives_ok($$ insert into public.number_connection_events (number_id, event, reason, code)
                   values ('a0000000-0000-4000-8000-000000000001', 'disconnected', 'stream errored', '515') $$,
                'The service role appends a connection event');
select lives_ok($$ insert into public.alerts (kind, severity, number_id, dedupe_key)
                   values ('number_disconnected', 'warning', 'a0000000-0000-4000-8000-000000000001',
                           'number_down:other') $$,
                'The service role opens an alert');
select lives_ok($$ insert into public.alert_deliveries (alert_id, channel_id, status, response_code, error)
                   values ('e0000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-8000-000000000001',
                           'failed', 502, 'bad gateway') $$,
                'The service role logs an alert delivery');
select lives_ok($$ insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, body, status)
                   values ('a0000000-0000-4000-8000-000000000001', 'inbound', '15550109999', 'WAMID-SR', 'hey',
                           'received') $$,
                'The service role stores an inbound message');
select ok((select count(*) from private.claim_outbox(5, '30 seconds')) > 0,
          'The service role claims outbox rows through private.claim_outbox');
select ok(private.acquire_number_lease('runtime-b', 'a0000000-0000-4000-8000-000000000001', '30 seconds'),
          'The service role takes a number''s lease for its runtime');

select throws_ok($$ update public.audit_log_entries set action = 'bots.update' $$, '42501', null,
                 'The service role cannot change audit entries');
select throws_ok($$ delete from public.audit_log_entries $$, '42501', null,
                 'The service role cannot delete audit entries');
select throws_ok($$ truncate public.audit_log_entries $$, '42501', null,
                 'The service role cannot truncate the audit log');
select throws_ok($$ update public.number_connection_events set event = 'connected' $$, '42501', null,
                 'The service role cannot change connection events');
select throws_ok($$ delete from public.number_connection_events $$, '42501', null,
                 'The service role cannot delete connection events');
select throws_ok($$ select private.apply_retention() $$, '42501', null,
                 'The service role cannot run the retention job by hand');

select * from finish();
rollback;
