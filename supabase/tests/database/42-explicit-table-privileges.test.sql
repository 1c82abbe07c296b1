-- Table privileges are explicit (issue 12, item 7): whatever a project's
-- default privileges granted (hosted Supabase granted ALL on new tables in
-- public to anon and authenticated until 2026-10-30; replayed below on the
-- first migration's tables, then private.apply_explicit_table_privileges(),
-- which the migration ran, is run again), anon holds nothing on any table or
-- sequence in public, and authenticated
-- holds exactly the table-level privileges below (column-level grants, such
-- as INSERT of named columns, are checked by the role tests). A migration
-- that adds a table-level grant to authenticated must add it here.
begin;
\ir _helpers.psql
select plan(6);

-- What an old hosted project holds after the first migration: ALL on its
-- tables and sequences to anon and authenticated (and public).
grant all on table public.bots, public.bot_versions, public.numbers, public.number_connection_events,
    public.conversations, public.messages, public.outbox to public, anon, authenticated;
grant all on all sequences in schema public to anon, authenticated;
select lives_ok($$ select private.apply_explicit_table_privileges() $$,
                'The migration''s privilege reset runs (again) over those grants');

create temporary view privilege_matrix as
select c.relname::text as table_name, r.rolname::text as role_name, p.privilege_type
from pg_catalog.pg_class as c
join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
cross join (values ('anon'), ('authenticated')) as r (rolname)
cross join (values ('SELECT'), ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE'), ('REFERENCES'), ('TRIGGER'))
    as p (privilege_type)
where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')
  and has_table_privilege(r.rolname, c.oid, p.privilege_type);

select is_empty($$ select table_name, privilege_type from privilege_matrix where role_name = 'anon' $$,
                'anon holds no table-level privilege on any table in public');

select is_empty($$
    select c.relname from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')
      and (has_any_column_privilege('anon', c.oid, 'SELECT') or has_any_column_privilege('anon', c.oid, 'INSERT')
           or has_any_column_privilege('anon', c.oid, 'UPDATE') or has_any_column_privilege('anon', c.oid, 'REFERENCES'))
$$, 'anon holds no column privilege on any table in public');

select is_empty($$
    select c.relname from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'S'
      and (has_sequence_privilege('anon', c.oid, 'USAGE') or has_sequence_privilege('anon', c.oid, 'SELECT')
           or has_sequence_privilege('anon', c.oid, 'UPDATE')
           or has_sequence_privilege('authenticated', c.oid, 'USAGE')
           or has_sequence_privilege('authenticated', c.oid, 'UPDATE'))
$$, 'neither anon nor authenticated may use a sequence in public');

select is_empty($$
    select table_name, privilege_type from privilege_matrix
    where role_name = 'authenticated' and privilege_type in ('TRUNCATE', 'REFERENCES', 'TRIGGER')
$$, 'authenticated holds no TRUNCATE, REFERENCES or TRIGGER (which RLS does not cover)');

select set_eq($$ select table_name, privilege_type from privilege_matrix where role_name = 'authenticated' $$,
    $$ values
        ('alert_channel_secrets', 'DELETE'),
        ('alert_channels', 'DELETE'), ('alert_channels', 'SELECT'),
        ('alerts', 'SELECT'),
        ('audit_log_entries', 'SELECT'),
        ('bot_versions', 'DELETE'), ('bot_versions', 'SELECT'),
        ('bot_version_media', 'SELECT'),
        ('bots', 'DELETE'), ('bots', 'SELECT'),
        ('contacts', 'SELECT'),
        ('conversations', 'SELECT'),
        ('media_objects', 'SELECT'),
        ('members', 'DELETE'), ('members', 'SELECT'),
        ('message_templates', 'SELECT'),
        ('messages', 'SELECT'),
        ('number_connection_events', 'SELECT'),
        ('number_pairing_codes', 'SELECT'),
        ('number_pacing_states', 'SELECT'),
        ('numbers', 'DELETE'), ('numbers', 'SELECT'),
        ('runtime_instances', 'SELECT'),
        ('session_commands', 'SELECT'),
        ('webhook_deliveries', 'SELECT'),
        ('webhook_delivery_attempts', 'SELECT'),
        ('webhook_events', 'SELECT'),
        ('webhook_subscriptions', 'DELETE'), ('webhook_subscriptions', 'SELECT') $$,
    'authenticated holds exactly the intended table-level privileges on every table in public');

select * from finish();
rollback;
