-- Every change of conversations.opted_out writes an audit row naming who
-- changed it and the old and new values, from any path (issue 12, item 7).
begin;
\ir _helpers.psql
select plan(10);
select tests.create_fixtures();

create temporary table opt_out_audit_before as select coalesce(max(id), 0) as id from public.audit_log_entries;
grant select on opt_out_audit_before to authenticated, service_role;

-- An operator opts the contact out (the admin API's path: SQL as authenticated).
select tests.authenticate_as(tests.user_id('operator'));
update public.conversations set opted_out = true where id = 'c0000000-0000-4000-8000-000000000001';
select tests.clear_authentication();

select is((select count(*)::int from public.audit_log_entries
           where action = 'conversations.opted_out_changed' and id > (select id from opt_out_audit_before)), 1,
          'Opting out writes one audit row');
select is((select actor_id from public.audit_log_entries
           where action = 'conversations.opted_out_changed' order by id desc limit 1),
          tests.user_id('operator'), 'The row names the operator (auth.uid())');
select is((select actor_role from public.audit_log_entries
           where action = 'conversations.opted_out_changed' order by id desc limit 1),
          'authenticated', 'and the role');
select is((select details from public.audit_log_entries
           where action = 'conversations.opted_out_changed' order by id desc limit 1),
          jsonb_build_object('from', false, 'to', true, 'number_id', 'a0000000-0000-4000-8000-000000000001'),
          'The row carries the old and new values');
select is((select target_id from public.audit_log_entries
           where action = 'conversations.opted_out_changed' order by id desc limit 1),
          'c0000000-0000-4000-8000-000000000001', 'and the conversation');

-- An update that leaves opted_out as it was writes nothing.
update public.conversations set opted_out = true, mode = mode where id = 'c0000000-0000-4000-8000-000000000001';
select is((select count(*)::int from public.audit_log_entries
           where action = 'conversations.opted_out_changed' and id > (select id from opt_out_audit_before)), 1,
          'An unchanged opted_out writes no row');

-- The service role opts back in (the functions' and the daemon's path).
select tests.authenticate_as_service_role();
update public.conversations set opted_out = false where id = 'c0000000-0000-4000-8000-000000000001';
select tests.clear_authentication();
select is((select actor_role || ':' || (details ->> 'from') || '->' || (details ->> 'to')
           from public.audit_log_entries
           where action = 'conversations.opted_out_changed' order by id desc limit 1),
          'service_role:true->false', 'The service role''s change is audited with its role');

-- postgres (direct SQL, a migration, psql) too.
update public.conversations set opted_out = true where id = 'c0000000-0000-4000-8000-000000000001';
select is((select actor_role from public.audit_log_entries
           where action = 'conversations.opted_out_changed' order by id desc limit 1),
          'postgres', 'A change by postgres is audited');

-- A conversation created opted out is audited; one created opted in is not.
insert into public.conversations (number_id, contact_wa_id, opted_out)
values ('a0000000-0000-4000-8000-000000000001', '15550108888', true);
insert into public.conversations (number_id, contact_wa_id)
values ('a0000000-0000-4000-8000-000000000001', '15550107777');
select is((select count(*)::int from public.audit_log_entries
           where action = 'conversations.opted_out_changed' and id > (select id from opt_out_audit_before)
             and details ->> 'from' is null), 1, 'Creating an opted-out conversation is audited once');
select is((select count(*)::int from public.audit_log_entries
           where action = 'conversations.opted_out_changed' and id > (select id from opt_out_audit_before)), 4,
          'Four changes, four rows');

select * from finish();
rollback;
