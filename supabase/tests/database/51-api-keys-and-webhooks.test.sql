-- API keys (hash only, admins only, audited, revocation final, the rate
-- window) and event webhooks (RLS, the secret table, events written by
-- triggers in the change's transaction, ordered claims, backoff, dead
-- letters, pausing with an alert) (issue 14).
begin;
\ir _helpers.psql
select plan(37);
select tests.create_fixtures();

-- -----------------------------------------------------------------------------
-- API keys
-- -----------------------------------------------------------------------------

select ok((select relrowsecurity from pg_catalog.pg_class where oid = 'public.api_keys'::regclass),
          'api_keys has row-level security');
select table_privs_are('public', 'api_keys', 'anon', array[]::text[], 'anon has no privilege on api_keys');
select ok(not has_column_privilege('authenticated', 'public.api_keys', 'key_hash', 'SELECT'),
          'authenticated cannot read a key''s hash');
select ok(has_column_privilege('authenticated', 'public.api_keys', 'prefix', 'SELECT'),
          'authenticated can read the prefix');
select table_privs_are('private', 'api_idempotency_keys', 'authenticated', array[]::text[],
                       'no client role touches idempotency keys');

select tests.authenticate_as(tests.user_id('operator'));
select throws_ok($$ select private.create_api_key('x', 'wbk_00000001', repeat('1', 64), '{messages:send}', null, 10, null) $$,
                 '42501', null, 'An operator cannot create API keys');
select tests.authenticate_as(tests.user_id('admin'));
select isnt(private.create_api_key('crm', 'wbk_00000002', repeat('2', 64), '{messages:send,messages:read}',
                                   array['a0000000-0000-4000-8000-000000000001']::uuid[], 2, null),
            null, 'An admin creates a key');
select throws_ok($$ select private.create_api_key('x', 'wbk_00000003', repeat('3', 64), '{messages:send}',
                                                  array[gen_random_uuid()], 10, null) $$,
                 '23503', null, 'Every named number must exist');
select throws_ok($$ select private.create_api_key('x', 'wbk_00000004', repeat('4', 64), '{root}', null, 10, null) $$,
                 '23514', null, 'Unknown scopes are refused');
select is((select count(*)::int from public.api_keys where prefix = 'wbk_00000002'), 1, 'An admin reads keys');
select tests.authenticate_as(tests.user_id('operator'));
select is((select count(*)::int from public.api_keys), 0, 'An operator reads none');

select tests.authenticate_as_service_role();
select is((select state || ':' || retry_after from private.api_key_request(repeat('2', 64), 1)), 'active:0',
          'The first request passes');
select is((select state || ':' || retry_after from private.api_key_request(repeat('2', 64), 1)), 'active:0',
          'The second passes');
select ok((select retry_after between 1 and 60 from private.api_key_request(repeat('2', 64), 1)),
          'The third, over the limit of 2 a minute, gets a Retry-After');
select is((select state from private.api_key_request(repeat('9', 64), 1)), 'unknown', 'An unknown hash');
select isnt((select last_used_at from public.api_keys where prefix = 'wbk_00000002'), null, 'The last use is kept');

select tests.authenticate_as(tests.user_id('admin'));
select ok(private.revoke_api_key((select id from public.api_keys where prefix = 'wbk_00000002')), 'An admin revokes');
select tests.authenticate_as_service_role();
select is((select state from private.api_key_request(repeat('2', 64), 1)), 'revoked', 'A revoked key is refused');
select throws_ok($$ update public.api_keys set revoked_at = null where prefix = 'wbk_00000002' $$,
                 '23514', null, 'A revoked key stays revoked');
select is((select array_agg(action order by id) from public.audit_log_entries where target_table = 'api_keys'),
          array['api_keys.insert', 'api_keys.update'], 'Creating and revoking are audited');
select ok((select bool_and(details::text !~ repeat('2', 64)) from public.audit_log_entries where target_table = 'api_keys'),
          'The audit log never holds the hash');

-- -----------------------------------------------------------------------------
-- Webhooks
-- -----------------------------------------------------------------------------

select ok((select bool_and(relrowsecurity) from pg_catalog.pg_class
           where oid in ('public.webhook_subscriptions'::regclass, 'public.webhook_events'::regclass,
                         'public.webhook_deliveries'::regclass, 'public.webhook_delivery_attempts'::regclass)),
          'The webhook tables have row-level security');
select table_privs_are('private', 'webhook_secrets', 'authenticated', array[]::text[],
                       'authenticated cannot touch webhook secrets');
select table_privs_are('private', 'webhook_secrets', 'anon', array[]::text[], 'nor can anon');

select tests.authenticate_as(tests.user_id('operator'));
select throws_ok($$ insert into public.webhook_subscriptions (name, url, events) values ('x', 'https://a.example/h', '{message.received}') $$,
                 '42501', null, 'An operator cannot subscribe');
select tests.authenticate_as(tests.user_id('admin'));
insert into public.webhook_subscriptions (id, name, url, events, number_ids)
values ('c0000000-0000-4000-8000-0000000000e1', 'crm', 'https://crm.example/hooks', '{message.received,session.status_changed}',
        array['a0000000-0000-4000-8000-000000000001']::uuid[]);
select is((select count(*)::int from public.webhook_subscriptions), 1, 'An admin subscribes and reads it');
select throws_ok($$ insert into public.webhook_subscriptions (name, url, events) values ('x', 'https://a.example/h', '{message.everything}') $$,
                 '23514', null, 'Unknown event types are refused');

select tests.authenticate_as_service_role();
insert into private.webhook_secrets (subscription_id, secret)
values ('c0000000-0000-4000-8000-0000000000e1', 'whsec_' || encode(extensions.gen_random_bytes(32), 'base64'));
insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, body, status)
values ('a0000000-0000-4000-8000-000000000001', 'inbound', '15550001001', 'pgtap-1', 'one', 'received'),
       ('a0000000-0000-4000-8000-000000000001', 'inbound', '15550001001', 'pgtap-2', 'two', 'received'),
       ('a0000000-0000-4000-8000-000000000001', 'inbound', '15550001002', 'pgtap-3', 'three', 'received');
select is((select count(*)::int from public.webhook_events where type = 'message.received'), 3,
          'Each inbound message is an event, written by the trigger');
select is((select count(*)::int from public.outbox where topic = 'webhook-dispatch'), 3,
          'Each event wakes the dispatcher through the outbox');
select is((select count(*)::int from private.claim_webhook_deliveries(10, '1 minute')), 2,
          'Only the oldest pending delivery of each conversation is claimed');
select is((select count(*)::int from private.claim_webhook_deliveries(10, '1 minute')), 0,
          'A claimed delivery holds its conversation back');
select is(private.record_webhook_attempt((select min(id) from public.webhook_deliveries), false, 503, null, 12, 'busy'),
          'pending', 'A failure is retried later');
select ok((select next_attempt_at between now() + interval '4 seconds' and now() + interval '6 seconds'
           from public.webhook_deliveries where id = (select min(id) from public.webhook_deliveries)),
          'after 5 seconds first');
update public.webhook_deliveries set attempts = 10 where id = (select min(id) from public.webhook_deliveries);
select is(private.record_webhook_attempt((select min(id) from public.webhook_deliveries), false, 503, null, 12, 'busy'),
          'dead', 'The last attempt dead-letters');
update public.webhook_subscriptions set consecutive_failures = 20, failing_since = now() - interval '2 days';
select is(private.record_webhook_attempt((select min(id) + 2 from public.webhook_deliveries), false, null, 'refused', 1, null),
          'pending', 'Another failure');
select is((select status from public.webhook_subscriptions), 'paused',
          'A subscription failing for more than a day is paused');
select is((select kind || ':' || status from public.alerts where dedupe_key = 'webhook_paused:c0000000-0000-4000-8000-0000000000e1'),
          'webhook_paused:open', 'and an alert says so');

select * from finish();
rollback;
