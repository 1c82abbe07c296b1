-- Scenario 8: every admin-relevant change writes an audit entry with the
-- right actor, and nobody, not even the table's owner, can alter one.
begin;
\ir _helpers.psql
select plan(22);
select tests.create_fixtures();

-- Changes made by an admin, an operator, the service role and the system.
select tests.authenticate_as(tests.user_id('admin'));
update public.bots set name = 'Renamed bot' where id = 'b0000000-0000-4000-8000-000000000001';
update public.bot_versions set status = 'published' where id = 'b1000000-0000-4000-8000-000000000002';
update public.numbers set label = 'Renamed number' where id = 'a0000000-0000-4000-8000-000000000001';
update public.alert_channels set target = 'https://hooks.example.test/new-secret-path'
where id = 'f0000000-0000-4000-8000-000000000001';
insert into public.members (user_id, role) values (tests.user_id('outsider'), 'viewer');

select tests.authenticate_as(tests.user_id('operator'));
insert into public.session_commands (number_id, command) values ('a0000000-0000-4000-8000-000000000001', 'stop');
update public.conversations set mode = 'human' where id = 'c0000000-0000-4000-8000-000000000001';
update public.alerts set status = 'acknowledged' where id = 'e0000000-0000-4000-8000-000000000001';

select tests.authenticate_as_service_role();
update public.numbers set session_status = 'disconnected', last_heartbeat_at = now()
where id = 'a0000000-0000-4000-8000-000000000001';
update public.alerts set status = 'resolved' where id = 'e0000000-0000-4000-8000-000000000001';

select tests.clear_authentication();

-- What was written.
select is((select details -> 'new' ->> 'name' from public.audit_log_entries
            where action = 'bots.update' and actor_id = tests.user_id('admin')),
          'Renamed bot', 'Renaming a bot is audited with the admin as actor and the new name');
select is((select details -> 'old' ->> 'name' from public.audit_log_entries
            where action = 'bots.update' and actor_id = tests.user_id('admin')),
          'Fixture bot', 'The bot audit entry keeps the old name too');
select is((select count(*)::int from public.audit_log_entries
            where action = 'bot_versions.update' and actor_id = tests.user_id('admin')),
          2, 'Publishing a version audits both the published and the archived version');
select ok((select not (details -> 'new' ? 'definition') from public.audit_log_entries
            where action = 'bot_versions.update' and target_id = 'b1000000-0000-4000-8000-000000000002'),
          'Version audit entries leave the (large) definition out');
select is((select details -> 'changed' from public.audit_log_entries
            where action = 'numbers.update' and actor_id = tests.user_id('admin')),
          '["label"]'::jsonb, 'Renaming a number is audited with only the label as changed');
select is((select count(*)::int from public.audit_log_entries
            where action = 'numbers.update' and actor_role = 'service_role'),
          0, 'The daemon''s session status and heartbeat writes are not audited');
select is((select details -> 'new' ->> 'target' from public.audit_log_entries
            where action = 'alert_channels.update'),
          '[redacted]', 'A channel''s target is audited as changed but redacted');
select is((select details -> 'new' ->> 'signing_secret' from public.audit_log_entries
            where action = 'alert_channel_secrets.insert'),
          '[redacted]', 'A signing secret is never written into the audit log');
select is((select details -> 'new' ->> 'role' from public.audit_log_entries
            where action = 'members.insert' and target_id = tests.user_id('outsider')::text),
          'viewer', 'Adding a member is audited under the member''s user id');
select is((select actor_id from public.audit_log_entries where action = 'session_commands.insert'
            order by id desc limit 1),
          tests.user_id('operator'), 'A session command request is audited with the operator as actor');
select is((select details from public.audit_log_entries where action = 'conversations.mode_changed'),
          jsonb_build_object('from', 'bot', 'to', 'human', 'assigned_to', tests.user_id('operator'),
                             'number_id', 'a0000000-0000-4000-8000-000000000001'),
          'Taking over a conversation is audited with the modes and the assignee');
select is((select actor_id from public.audit_log_entries where action = 'alerts.acknowledged'),
          tests.user_id('operator'), 'Acknowledging an alert is audited with the operator as actor');
select is((select actor_role from public.audit_log_entries where action = 'alerts.resolved'),
          'service_role', 'Resolving an alert as the service role is audited as the service role');
select is((select actor_id from public.audit_log_entries where action = 'alerts.resolved'),
          null, 'The service role acting for nobody leaves the actor empty');
select is((select actor_role from public.audit_log_entries where action = 'bots.insert'
            and target_id = 'b0000000-0000-4000-8000-000000000001'),
          'postgres', 'A change made as postgres (migrations, pg_cron, the SQL editor) is audited as postgres');

-- Append-only, for everyone.
select throws_ok($$ update public.audit_log_entries set details = '{}' $$, '42501',
                 'audit_log_entries is append-only: update is not allowed',
                 'Even the table''s owner cannot change an audit entry');
select throws_ok($$ delete from public.audit_log_entries $$, '42501',
                 'audit_log_entries is append-only: delete is not allowed',
                 'Even the table''s owner cannot delete an audit entry');
select throws_ok($$ truncate public.audit_log_entries $$, '42501',
                 'audit_log_entries is append-only: truncate is not allowed',
                 'Even the table''s owner cannot truncate the audit log');

select tests.authenticate_as(tests.user_id('owner'));
select throws_ok($$ update public.audit_log_entries set details = '{}' $$, '42501', null,
                 'An owner cannot change an audit entry');
select throws_ok($$ delete from public.audit_log_entries $$, '42501', null,
                 'An owner cannot delete an audit entry');

select tests.authenticate_as_service_role();
select lives_ok($$ insert into public.audit_log_entries (action, actor_id, details)
                   values ('incident.summary', '00000000-0000-4000-a000-000000000003', '{"text": "via admin api"}') $$,
                'The service role can append an entry on behalf of a user');
select tests.clear_authentication();
select is((select actor_id from public.audit_log_entries where details ->> 'text' = 'via admin api'),
          tests.user_id('operator'), 'The entry keeps the user the service role named');

select * from finish();
rollback;
