-- Explicit privileges on the first migration's tables (issue 12, item 7).
--
-- 20261125000001_skeleton_messaging.sql created bots, bot_versions, numbers,
-- number_connection_events, conversations, messages and outbox without
-- revoking anything, relying on the project's default privileges. Projects
-- whose default privileges still grant ALL on new `public` tables to anon
-- and authenticated (hosted Supabase's, before 2026-10-30) got ALL there,
-- and RLS does not cover TRUNCATE, REFERENCES or TRIGGER: anon could
-- TRUNCATE the outbox. Every later migration revokes explicitly; this one
-- makes these seven tables the same: revoke all from public, anon and
-- authenticated, then grant back exactly what signed-in users need.
--
-- Column-level grants are never made by default privileges (those are
-- table-level only), so every column grant authenticated holds on these
-- tables was made on purpose by a migration: they are saved before the
-- revoke (which drops them too) and restored after. A table-level privilege
-- is granted back only where no column-level grant of the same privilege
-- exists (a migration that narrowed a privilege to some columns keeps it
-- narrow). The service role's privileges are not touched.
--
-- The work is a function so that pgTAP can replay it over the grants an old
-- hosted project would hold (supabase/tests/database/42-*.test.sql).

create function private.apply_explicit_table_privileges() returns void
    language plpgsql set search_path = '' as $$
declare
    wanted record;
    saved record;
    skeleton_tables constant text[] := array[
        'bots', 'bot_versions', 'numbers', 'number_connection_events', 'conversations', 'messages', 'outbox'
    ];
    table_name text;
    saved_columns jsonb;
begin
    select coalesce(jsonb_agg(jsonb_build_object(
               'table_name', c.relname, 'privilege_type', x.privilege_type, 'column_name', a.attname)),
           '[]'::jsonb)
    into saved_columns
    from pg_catalog.pg_class as c
    join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
    join pg_catalog.pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    cross join lateral pg_catalog.aclexplode(a.attacl) as x
    where n.nspname = 'public' and c.relname = any (skeleton_tables)
      and x.grantee = 'authenticated'::regrole;

    foreach table_name in array skeleton_tables loop
        execute format('revoke all on table public.%I from public, anon, authenticated', table_name);
    end loop;

    -- What signed-in users need at table level (RLS decides which rows):
    -- reading the messaging data, and deleting bots, versions and numbers
    -- (admins, by policy). The outbox is the service role's alone.
    for wanted in
        select * from (values
            ('bots', 'SELECT'), ('bots', 'DELETE'),
            ('bot_versions', 'SELECT'), ('bot_versions', 'DELETE'),
            ('numbers', 'SELECT'), ('numbers', 'DELETE'),
            ('number_connection_events', 'SELECT'),
            ('conversations', 'SELECT'),
            ('messages', 'SELECT')
        ) as w (table_name, privilege_type)
    loop
        if not exists (
            select 1 from jsonb_to_recordset(saved_columns) as s (table_name text, privilege_type text)
            where s.table_name = wanted.table_name and s.privilege_type = wanted.privilege_type
        ) then
            execute format('grant %s on table public.%I to authenticated',
                           wanted.privilege_type, wanted.table_name);
        end if;
    end loop;

    -- The column grants made by earlier migrations, as they were.
    for saved in
        select s.table_name, s.privilege_type,
               string_agg(quote_ident(s.column_name), ', ' order by s.column_name) as columns
        from jsonb_to_recordset(saved_columns) as s (table_name text, privilege_type text, column_name text)
        group by s.table_name, s.privilege_type
    loop
        execute format('grant %s (%s) on table public.%I to authenticated',
                       saved.privilege_type, saved.columns, saved.table_name);
    end loop;

    -- Sequences: only the service role uses them (inserting through an
    -- identity column's default needs no sequence privilege).
    revoke all on all sequences in schema public from public, anon, authenticated;
end;
$$;

comment on function private.apply_explicit_table_privileges() is
    'Revokes all on the first migration''s tables from public, anon and authenticated and grants back exactly what signed-in users need, keeping column grants.';

revoke all on function private.apply_explicit_table_privileges() from public;

select private.apply_explicit_table_privileges();
