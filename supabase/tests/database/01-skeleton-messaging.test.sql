-- Scenario 1: the skeleton messaging schema, its row-level security and its
-- outbox trigger, as the later migrations left them. Runs inside one
-- transaction that is rolled back.
begin;
\ir _helpers.psql
select plan(18);

select ok(current_setting('shared_preload_libraries') ~ 'pg_cron',
          'pg_cron is preloaded, as on Supabase');
select ok(exists(select from pg_available_extensions where name = 'pg_cron'),
          'The pg_cron extension is available to migrations');

select has_table('public', 'numbers', 'The numbers table exists');
select has_table('public', 'messages', 'The messages table exists');
select has_table('public', 'outbox', 'The outbox table exists');
select has_table('public', 'number_connection_events', 'The runbook''s number_connection_events table exists');

select is(
    (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r' and not c.relrowsecurity),
    0,
    'Every table in public has row-level security enabled'
);

select is(
    (select count(*)::int from information_schema.role_table_grants
      where grantee = 'anon' and table_schema = 'public'),
    0,
    'The anon role has no privilege on any public table'
);

-- Fixtures, as the postgres owner.
insert into public.bots (id, name) values ('10000000-0000-4000-8000-000000000001', 'Test bot');
insert into public.numbers (id, phone_number, bot_id)
values ('10000000-0000-4000-8000-000000000002', '+15550000001', '10000000-0000-4000-8000-000000000001');

select throws_ok(
    $$ insert into public.numbers (phone_number) values ('0555 123') $$,
    '23514',
    null,
    'A phone number that is not E.164 is rejected'
);

insert into public.messages (id, number_id, direction, contact_wa_id, wa_message_id, body, status)
values ('10000000-0000-4000-8000-000000000003', '10000000-0000-4000-8000-000000000002',
        'inbound', '+15550000009', 'WAMID-1', 'hi', 'received');

select is(
    (select payload ->> 'message_id' from public.outbox where topic = 'route-message'
      order by id desc limit 1),
    '10000000-0000-4000-8000-000000000003',
    'An inbound message writes a route-message outbox row in the same transaction'
);

select is(
    (select count(*)::int from public.outbox where topic = 'route-message'
       and payload ->> 'message_id' = '10000000-0000-4000-8000-000000000003'),
    1,
    'Exactly one outbox row is written per inbound message'
);

select throws_ok(
    $$ insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, body, status)
       values ('10000000-0000-4000-8000-000000000002', 'inbound', '+15550000009', 'WAMID-1', 'hi', 'received') $$,
    '23505',
    null,
    'The same WhatsApp message id twice on one number is rejected'
);

insert into public.messages (number_id, direction, contact_wa_id, body, status)
values ('10000000-0000-4000-8000-000000000002', 'outbound', '+15550000009', 'hello', 'queued');
select is(
    (select count(*)::int from public.outbox where payload ->> 'message_id' in
        (select id::text from public.messages where direction = 'outbound')),
    0,
    'An outbound message writes no routing outbox row'
);

-- As a signed-in member with the viewer role.
select tests.create_user('10000000-0000-4000-8000-0000000000aa', 'viewer@example.test', 'viewer');
select tests.authenticate_as('10000000-0000-4000-8000-0000000000aa');

select is(auth.uid(), '10000000-0000-4000-8000-0000000000aa'::uuid, 'auth.uid() reads the sub claim');
select is(auth.role(), 'authenticated', 'auth.role() reads the role claim');
select is((select count(*)::int from public.messages where number_id = '10000000-0000-4000-8000-000000000002'),
          2, 'A signed-in member can read messages');
select throws_ok($$ select * from public.outbox $$, '42501', null,
                 'A signed-in member cannot read the outbox');
select throws_ok($$ update public.messages set body = 'x' $$, '42501', null,
                 'A signed-in member cannot change messages');

select * from finish();
rollback;
