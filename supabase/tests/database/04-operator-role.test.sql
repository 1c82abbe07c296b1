-- Scenario 4: an operator acts on sessions, conversations and alerts, and
-- on nothing an admin manages.
begin;
\ir _helpers.psql
select plan(26);
select tests.create_fixtures();

select tests.authenticate_as(tests.user_id('operator'));

-- Sessions: request a restart, in their own name only.
select lives_ok($$ insert into public.session_commands (number_id, command)
                   values ('a0000000-0000-4000-8000-000000000001', 'restart') $$,
                'An operator can request a session restart');
select is((select requested_by from public.session_commands order by id desc limit 1),
          tests.user_id('operator'),
          'The restart request is recorded in the operator''s name');
select throws_ok($$ insert into public.session_commands (number_id, command, requested_by)
                    values ('a0000000-0000-4000-8000-000000000001', 'stop', '00000000-0000-4000-a000-000000000002') $$,
                 '42501', null,
                 'An operator cannot request a command in someone else''s name');
select throws_ok($$ insert into public.session_commands (number_id, command)
                    values ('a0000000-0000-4000-8000-000000000001', 'reboot') $$,
                 '23514', null,
                 'Only start, stop and restart are session commands');

-- Conversations: take over, reply, hand back.
select throws_ok($$ insert into public.messages (number_id, conversation_id, direction, contact_wa_id, body, status)
                    values ('a0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000001',
                            'outbound', '15550109999', 'hello from a human', 'queued') $$, '42501', null,
                 'An operator cannot write into a conversation the bot still runs');

with changed as (
    update public.conversations set mode = 'human'
    where id = 'c0000000-0000-4000-8000-000000000001' returning assigned_to
)
select is(assigned_to, tests.user_id('operator'),
          'An operator takes over a conversation and it is assigned to them') from changed;

select lives_ok($$ insert into public.messages (number_id, conversation_id, direction, contact_wa_id, body, status)
                   values ('a0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000001',
                           'outbound', '15550109999', 'hello from a human', 'queued') $$,
                'An operator can reply in a conversation they took over');
select is((select author_id from public.messages where body = 'hello from a human'),
          tests.user_id('operator'),
          'The reply records the operator as its author');
select throws_ok($$ update public.conversations set flow_state = '{"node": "x"}'
                    where id = 'c0000000-0000-4000-8000-000000000001' $$, '42501', null,
                 'An operator cannot edit a conversation''s flow state');

with changed as (
    update public.conversations set mode = 'bot'
    where id = 'c0000000-0000-4000-8000-000000000001' returning assigned_to
)
select is(assigned_to, null, 'Handing back to the bot unassigns the conversation') from changed;

-- Alerts: acknowledge and resolve, recorded.
with changed as (
    update public.alerts set status = 'acknowledged'
    where id = 'e0000000-0000-4000-8000-000000000001'
    returning acknowledged_by, acknowledged_at
)
select is(acknowledged_by, tests.user_id('operator'),
          'An operator acknowledges an alert and is recorded as acknowledging it') from changed;
select isnt((select acknowledged_at from public.alerts where id = 'e0000000-0000-4000-8000-000000000001'),
            null, 'The acknowledgement time is stamped');
select throws_ok($$ update public.alerts set severity = 'info' $$, '42501', null,
                 'An operator cannot change an alert''s severity');

select lives_ok($$ update public.alerts set status = 'resolved', summary = 'Phone was unplugged; reconnected.'
                   where id = 'e0000000-0000-4000-8000-000000000001' $$,
                'An operator can resolve an alert with a summary');
select is((select resolved_by from public.alerts where id = 'e0000000-0000-4000-8000-000000000001'),
          tests.user_id('operator'), 'The resolver is recorded');
select throws_ok($$ update public.alerts set status = 'open' where id = 'e0000000-0000-4000-8000-000000000001' $$,
                 '23514', null,
                 'A resolved alert cannot be reopened');

-- The post-incident summary, in the audit log, in their own name.
select lives_ok($$ insert into public.audit_log_entries (action, target_table, target_id, details)
                   values ('incident.summary', 'alerts', 'e0000000-0000-4000-8000-000000000001',
                           '{"text": "Phone was unplugged."}') $$,
                'An operator can record a post-incident summary in the audit log');
select is((select actor_id from public.audit_log_entries where action = 'incident.summary'),
          tests.user_id('operator'), 'The summary is recorded in the operator''s name');
select throws_ok($$ insert into public.audit_log_entries (action, details) values ('bots.delete', '{}') $$,
                 '42501', null,
                 'An operator cannot write any other kind of audit entry');
select throws_ok($$ insert into public.audit_log_entries (action, actor_id, details)
                    values ('incident.summary', '00000000-0000-4000-a000-000000000002', '{}') $$,
                 '42501', null,
                 'An operator cannot name another actor');

-- Nothing an admin manages.
select throws_ok($$ insert into public.bots (name) values ('mine') $$, '42501', null,
                 'An operator cannot create a bot');
with changed as (
    update public.bot_versions set status = 'published'
    where id = 'b1000000-0000-4000-8000-000000000002' returning 1
)
select is(count(*)::int, 0, 'An operator cannot publish a bot version') from changed;
with changed as (
    update public.numbers set bot_id = null
    where id = 'a0000000-0000-4000-8000-000000000001' returning 1
)
select is(count(*)::int, 0, 'An operator cannot change which bot a number serves') from changed;
select is((select count(*)::int from public.alert_channels), 0, 'An operator sees no alert channels');
select throws_ok($$ insert into public.members (user_id, role)
                    values ('00000000-0000-4000-a000-000000000005', 'viewer') $$, '42501', null,
                 'An operator cannot add a member');
select throws_ok($$ select * from public.session_credentials $$, '42501', null,
                 'An operator cannot read session credentials');

select * from finish();
rollback;
