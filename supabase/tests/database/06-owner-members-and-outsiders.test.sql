-- Scenario 6: owners manage owners, the last owner stays, the role helpers
-- answer per user, and a signed-in user who is not a member sees nothing.
begin;
\ir _helpers.psql
select plan(17);
select tests.create_fixtures();

-- The role helpers, per user.
select tests.authenticate_as(tests.user_id('operator'));
select is(private.member_role(), 'operator', 'member_role() is the caller''s members.role');
select ok(private.has_role('viewer') and private.has_role('operator'),
          'An operator holds the viewer and operator roles');
select ok(not private.has_role('admin'), 'An operator does not hold the admin role');
select ok(not private.has_role('superuser'), 'An unknown role name is held by nobody');

-- A signed-in user without a members row.
select tests.authenticate_as(tests.user_id('outsider'));
select is(private.member_role(), null, 'A signed-in outsider has no role');
select is((select count(*)::int from public.bots) + (select count(*)::int from public.numbers)
          + (select count(*)::int from public.conversations) + (select count(*)::int from public.messages)
          + (select count(*)::int from public.alerts) + (select count(*)::int from public.members)
          + (select count(*)::int from public.audit_log_entries),
          0, 'A signed-in outsider sees no bots, numbers, conversations, messages, alerts, members or audit');
select throws_ok($$ insert into public.session_commands (number_id, command)
                    values ('a0000000-0000-4000-8000-000000000001', 'restart') $$, '42501', null,
                 'A signed-in outsider cannot request a session command');
select throws_ok($$ insert into public.members (user_id, role) values ('00000000-0000-4000-a000-000000000005', 'owner') $$,
                 '42501', null,
                 'A signed-in outsider cannot make themself a member');

-- Owners.
select tests.authenticate_as(tests.user_id('owner'));
select lives_ok($$ insert into public.members (user_id, role) values ('00000000-0000-4000-a000-000000000005', 'owner') $$,
                'An owner can add another owner');
select lives_ok($$ update public.members set role = 'viewer' where user_id = '00000000-0000-4000-a000-000000000002' $$,
                'An owner can demote an admin');
select lives_ok($$ update public.members set role = 'admin' where user_id = '00000000-0000-4000-a000-000000000005' $$,
                'An owner can demote another owner while one owner remains');
select throws_ok($$ update public.members set role = 'admin' where user_id = '00000000-0000-4000-a000-000000000001' $$,
                 'P0001', 'the last owner cannot be removed or demoted',
                 'The last owner cannot demote themself');
select throws_ok($$ delete from public.members where user_id = '00000000-0000-4000-a000-000000000001' $$,
                 'P0001', 'the last owner cannot be removed or demoted',
                 'The last owner cannot be removed');
select lives_ok($$ delete from public.members where user_id = '00000000-0000-4000-a000-000000000004' $$,
                'An owner can remove a viewer');

select tests.clear_authentication();
select is((select role from public.members where user_id = tests.user_id('admin')), 'viewer',
          'The demotion took effect');
select throws_ok($$ delete from auth.users where id = '00000000-0000-4000-a000-000000000001' $$,
                 'P0001', 'the last owner cannot be removed or demoted',
                 'Even deleting the last owner''s user account is refused');
select is((select count(*)::int from public.audit_log_entries
            where action like 'members.%' and actor_id = tests.user_id('owner')),
          4, 'Each of the owner''s four member changes is in the audit log');

select * from finish();
rollback;
