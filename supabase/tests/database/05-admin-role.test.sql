-- Scenario 5: an admin manages bots, bot versions, numbers, alert channels
-- and members below owner, and still cannot read secrets.
begin;
\ir _helpers.psql
select plan(26);
select tests.create_fixtures();

select tests.authenticate_as(tests.user_id('admin'));

-- Bots and versions.
select lives_ok($$ insert into public.bots (id, name) values ('b0000000-0000-4000-8000-000000000002', 'Second bot') $$,
                'An admin can create a bot');
select lives_ok($$ insert into public.bot_versions (id, bot_id, version, definition)
                   values ('b2000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000002', 1,
                           '{"start": "a"}') $$,
                'An admin can create a draft version');
select lives_ok($$ update public.bot_versions set definition = '{"start": "b"}'
                   where id = 'b2000000-0000-4000-8000-000000000001' $$,
                'An admin can edit a draft''s definition');
select lives_ok($$ update public.bot_versions set status = 'published'
                   where id = 'b2000000-0000-4000-8000-000000000001' $$,
                'An admin can publish a version');
select throws_ok($$ update public.bot_versions set definition = '{"start": "c"}'
                    where id = 'b2000000-0000-4000-8000-000000000001' $$,
                 '23514', null,
                 'An admin cannot edit a published version''s definition');
with removed as (
    delete from public.bot_versions where id = 'b1000000-0000-4000-8000-000000000001' returning 1
)
select is(count(*)::int, 0, 'An admin cannot delete a published version') from removed;
select lives_ok($$ update public.bots set canary_version_id = 'b1000000-0000-4000-8000-000000000002',
                                          canary_share_percent = 10
                   where id = 'b0000000-0000-4000-8000-000000000001' $$,
                'An admin can send a share of conversations to a canary version');
select throws_ok($$ update public.bot_versions set created_by = null $$, '42501', null,
                 'An admin cannot rewrite who created a version');

-- Numbers.
select lives_ok($$ insert into public.numbers (id, phone_number, label)
                   values ('a0000000-0000-4000-8000-000000000002', '+15550100002', 'Second number') $$,
                'An admin can add a number');
select lives_ok($$ update public.numbers set label = 'Renamed', bot_id = 'b0000000-0000-4000-8000-000000000002'
                   where id = 'a0000000-0000-4000-8000-000000000002' $$,
                'An admin can rename a number and attach a bot');
select throws_ok($$ update public.numbers set session_status = 'connected' $$, '42501', null,
                 'An admin cannot write the session status, which belongs to the daemon');
select lives_ok($$ delete from public.numbers where id = 'a0000000-0000-4000-8000-000000000002' $$,
                'An admin can remove a number');

-- Alert channels and their secrets.
select is((select target from public.alert_channels where id = 'f0000000-0000-4000-8000-000000000001'),
          'https://hooks.example.test/ops', 'An admin can read alert channels and their targets');
select lives_ok($$ insert into public.alert_channels (id, name, kind, target, min_severity)
                   values ('f0000000-0000-4000-8000-000000000002', 'On-call phone', 'whatsapp', '+15550199999',
                           'critical') $$,
                'An admin can add a WhatsApp alert channel');
select throws_ok($$ insert into public.alert_channels (name, kind, target) values ('Bad', 'webhook', 'not a url') $$,
                 '23514', null,
                 'A webhook channel needs a URL target');
select lives_ok($$ insert into public.alert_channel_secrets (channel_id, signing_secret)
                   values ('f0000000-0000-4000-8000-000000000002', 'another-secret-0123456789abcdef') $$,
                'An admin can set a channel''s signing secret');
select lives_ok($$ update public.alert_channel_secrets set signing_secret = 'rotated-secret-0123456789abcdef'
                   where channel_id = 'f0000000-0000-4000-8000-000000000001' $$,
                'An admin can rotate a channel''s signing secret');
select throws_ok($$ select signing_secret from public.alert_channel_secrets $$, '42501', null,
                 'An admin cannot read a signing secret back');
select throws_ok($$ update public.alert_channel_secrets set signing_secret = 'x-0123456789abcdef'
                    where channel_id = 'f0000000-0000-4000-8000-000000000001' returning signing_secret $$,
                 '42501', null,
                 'An admin cannot read a signing secret through RETURNING either');
select is((select count(*)::int from public.alert_channel_secrets), 2,
          'An admin can see which channels have a secret');

-- Members below owner.
select lives_ok($$ insert into public.members (user_id, role) values ('00000000-0000-4000-a000-000000000005', 'viewer') $$,
                'An admin can add a viewer');
select lives_ok($$ update public.members set role = 'admin' where user_id = '00000000-0000-4000-a000-000000000005' $$,
                'An admin can promote a member to admin');
select throws_ok($$ update public.members set role = 'owner' where user_id = '00000000-0000-4000-a000-000000000005' $$,
                 '42501', null,
                 'An admin cannot make anyone an owner');
with changed as (
    update public.members set role = 'viewer' where user_id = '00000000-0000-4000-a000-000000000001' returning 1
)
select is(count(*)::int, 0, 'An admin cannot demote an owner') from changed;

-- Still no secrets, no outbox.
select throws_ok($$ select * from public.session_credentials $$, '42501', null,
                 'An admin cannot read session credentials');
select throws_ok($$ select * from public.outbox $$, '42501', null,
                 'An admin cannot read the outbox');

select * from finish();
rollback;
