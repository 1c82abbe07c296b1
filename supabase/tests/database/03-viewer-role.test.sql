-- Scenario 3: a viewer reads everything that is not a secret and changes
-- nothing.
begin;
\ir _helpers.psql
select plan(27);
select tests.create_fixtures();

select tests.authenticate_as(tests.user_id('viewer'));

-- What a viewer reads.
select is((select count(*)::int from public.bots), 1, 'A viewer can read bots');
select is((select count(*)::int from public.bot_versions), 2, 'A viewer can read bot versions');
select is((select count(*)::int from public.numbers), 1, 'A viewer can read numbers');
select is((select count(*)::int from public.number_connection_events), 1,
          'A viewer can read the connection-event timeline');
select is((select count(*)::int from public.runtime_instances), 1, 'A viewer can read runtime instances');
select is((select count(*)::int from public.contacts), 1, 'A viewer can read contacts');
select is((select count(*)::int from public.conversations), 1, 'A viewer can read conversations');
select is((select count(*)::int from public.messages), 1, 'A viewer can read messages');
select is((select count(*)::int from public.alerts), 1, 'A viewer can read alerts');
select is((select count(*)::int from public.alert_deliveries), 1, 'A viewer can read the alert delivery log');
select is((select count(*)::int from public.session_commands), 1, 'A viewer can read session commands');
select is((select count(*)::int from public.members), 4, 'A viewer can see the four members');
select ok((select count(*) from public.audit_log_entries) > 0, 'A viewer can read the audit log');

-- What a viewer does not see.
select is((select count(*)::int from public.alert_channels), 0,
          'A viewer sees no alert channels (their targets are for admins)');
select throws_ok($$ select signing_secret from public.alert_channel_secrets $$, '42501', null,
                 'A viewer cannot read channel signing secrets');
select throws_ok($$ select * from public.session_credentials $$, '42501', null,
                 'A viewer cannot read session credentials');
select throws_ok($$ select * from public.outbox $$, '42501', null,
                 'A viewer cannot read the outbox');

-- What a viewer cannot do.
select throws_ok($$ insert into public.session_commands (number_id, command)
                    values ('a0000000-0000-4000-8000-000000000001', 'restart') $$, '42501', null,
                 'A viewer cannot request a session restart');

with changed as (
    update public.conversations set mode = 'human'
    where id = 'c0000000-0000-4000-8000-000000000001' returning 1
)
select is(count(*)::int, 0, 'A viewer cannot take over a conversation') from changed;

with changed as (
    update public.alerts set status = 'acknowledged'
    where id = 'e0000000-0000-4000-8000-000000000001' returning 1
)
select is(count(*)::int, 0, 'A viewer cannot acknowledge an alert') from changed;

with changed as (
    update public.numbers set label = 'renamed'
    where id = 'a0000000-0000-4000-8000-000000000001' returning 1
)
select is(count(*)::int, 0, 'A viewer cannot rename a number') from changed;

select throws_ok($$ insert into public.bots (name) values ('mine') $$, '42501', null,
                 'A viewer cannot create a bot');
select throws_ok($$ insert into public.bot_versions (bot_id, version, definition)
                    values ('b0000000-0000-4000-8000-000000000001', 3, '{}') $$, '42501', null,
                 'A viewer cannot create a bot version');
select throws_ok($$ insert into public.members (user_id, role)
                    values ('00000000-0000-4000-a000-000000000005', 'viewer') $$, '42501', null,
                 'A viewer cannot add a member');
select throws_ok($$ insert into public.audit_log_entries (action, details)
                    values ('incident.summary', '{"text": "it was fine"}') $$, '42501', null,
                 'A viewer cannot write a post-incident summary');
select throws_ok($$ insert into public.messages (number_id, conversation_id, direction, contact_wa_id, body, status)
                    values ('a0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000001',
                            'outbound', '15550109999', 'hi', 'queued') $$, '42501', null,
                 'A viewer cannot send a message');

select tests.clear_authentication();
select is((select mode from public.conversations where id = 'c0000000-0000-4000-8000-000000000001'), 'bot',
          'The conversation is still in bot mode after the viewer''s attempt');

select * from finish();
rollback;
