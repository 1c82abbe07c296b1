-- Scenario 21: nothing reachable through the API is unprotected, checked
-- over the whole catalogue rather than table by table, and the check is
-- shown to fail: tables in public without row-level security or without a
-- policy, any privilege of anon on any relation, sequence or function of
-- ours in any schema, a view or materialized view authenticated can read
-- without security_invoker (views bypass row-level security otherwise), a
-- table authenticated can touch without row-level security. Then, acting
-- as anon, every relation in every schema anon can look into is read, and
-- every read must be refused.
begin;
\ir _helpers.psql
select plan(9);
select tests.create_fixtures();

-- Everything the API's roles could reach unprotected, one line each.
-- Extension-owned objects (pgTAP, pg_cron, plpgsql_check) and the test
-- helpers are not ours; auth's functions are Supabase's (auth.uid() and
-- friends are meant to be called by every role).
create function tests.unprotected_objects() returns text[]
    language sql stable set search_path = '' as $$
    with ours as (
        select c.oid, c.relkind, c.relrowsecurity, c.reloptions, n.nspname, c.relname,
               format('%I.%I', n.nspname, c.relname) as name
          from pg_catalog.pg_class c
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname not in ('pg_catalog', 'information_schema', 'tests', 'pg_toast')
           and n.nspname not like 'pg_temp%' and n.nspname not like 'pg_toast_temp%'
           and not exists (select 1 from pg_catalog.pg_depend d
                            where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid
                              and d.deptype = 'e')
    ), problems as (
        select 'no row-level security: ' || name from ours
         where nspname = 'public' and relkind in ('r', 'p') and not relrowsecurity
        union all
        select 'no policy: ' || name from ours
         where nspname = 'public' and relkind in ('r', 'p')
           and not exists (select 1 from pg_catalog.pg_policy p where p.polrelid = ours.oid)
        union all
        select 'anon holds a privilege on: ' || name from ours
         where case when relkind in ('r', 'p', 'v', 'm', 'f')
                    then pg_catalog.has_table_privilege('anon', oid,
                           'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                    else false end
        union all
        select 'anon may use the sequence: ' || name from ours
         where case when relkind = 'S'
                    then pg_catalog.has_sequence_privilege('anon', oid, 'USAGE, SELECT, UPDATE')
                    else false end
        union all
        select 'authenticated reads a view that bypasses row-level security: ' || name from ours
         where case when relkind = 'm' or (relkind = 'v'
                         and not coalesce(reloptions @> array['security_invoker=true']
                                          or reloptions @> array['security_invoker=on'], false))
                    then pg_catalog.has_table_privilege('authenticated', oid, 'SELECT')
                    else false end
        union all
        select 'authenticated touches a table without row-level security: ' || name from ours
         where case when relkind in ('r', 'p', 'f') and not relrowsecurity
                    then pg_catalog.has_table_privilege('authenticated', oid,
                           'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
                    else false end
        union all
        select 'anon may execute: ' || p.oid::regprocedure::text
          from pg_catalog.pg_proc p
          join pg_catalog.pg_namespace n on n.oid = p.pronamespace
         where n.nspname not in ('pg_catalog', 'information_schema', 'tests', 'auth')
           and not exists (select 1 from pg_catalog.pg_depend d
                            where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid
                              and d.deptype = 'e')
           and pg_catalog.has_function_privilege('anon', p.oid, 'EXECUTE')
    )
    select coalesce(array_agg(problem order by problem), '{}') from problems as t(problem);
$$;

select is(
    tests.unprotected_objects(),
    '{}'::text[],
    'No table, view, sequence or function of ours is reachable unprotected by anon or authenticated'
);

select ok(
    (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p')) >= 15,
    'The check looked at every table of public (at least the 15 the schema defines)'
);

-- The check can fail: each kind of mistake is reported by name.
create table public.zz_unprotected (x int);
grant select on public.zz_unprotected to anon;
create table private.zz_without_rls (x int);
grant select on private.zz_without_rls to authenticated;
create view public.zz_definer_view as select 1 as x;
grant select on public.zz_definer_view to authenticated;
create function private.zz_callable() returns int language sql set search_path = '' as $$ select 1 $$;
grant execute on function private.zz_callable() to anon;

select ok(
    tests.unprotected_objects() @> array[
        'no row-level security: public.zz_unprotected',
        'no policy: public.zz_unprotected',
        'anon holds a privilege on: public.zz_unprotected'],
    'A public table without row-level security, without policies and granted to anon is reported thrice'
);
select ok(
    'authenticated touches a table without row-level security: private.zz_without_rls'
        = any(tests.unprotected_objects()),
    'A table in another schema granted to authenticated without row-level security is reported'
);
select ok(
    'authenticated reads a view that bypasses row-level security: public.zz_definer_view'
        = any(tests.unprotected_objects()),
    'A security-definer view readable by authenticated is reported'
);
select ok(
    'anon may execute: private.zz_callable()' = any(tests.unprotected_objects()),
    'A function anon may execute is reported'
);
alter view public.zz_definer_view set (security_invoker = true);
select ok(
    not ('authenticated reads a view that bypasses row-level security: public.zz_definer_view'
         = any(tests.unprotected_objects())),
    'The same view with security_invoker is no longer reported'
);
drop view public.zz_definer_view;
drop table public.zz_unprotected;
drop table private.zz_without_rls;
drop function private.zz_callable();

-- Acting as anon: try to read every relation of every schema anon can use.
create function tests.relations_anon_can_read() returns text[]
    language plpgsql set search_path = '' as $$
declare
    relation record;
    readable text[] := '{}';
begin
    for relation in
        select n.nspname, c.relname
          from pg_catalog.pg_class c
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where c.relkind in ('r', 'p', 'v', 'm', 'f')
           and n.nspname not in ('pg_catalog', 'information_schema', 'tests')
           and n.nspname not like 'pg_temp%'
           and pg_catalog.has_schema_privilege(n.oid, 'USAGE')
           and not exists (select 1 from pg_catalog.pg_depend d
                            where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid
                              and d.deptype = 'e')
    loop
        begin
            execute format('select 1 from %I.%I limit 1', relation.nspname, relation.relname);
            readable := readable || format('%I.%I', relation.nspname, relation.relname);
        exception when insufficient_privilege then
            null;
        end;
    end loop;
    return readable;
end;
$$;
grant execute on function tests.relations_anon_can_read() to anon;

select ok(
    (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and n.nspname in ('public', 'auth')
        and has_schema_privilege('anon', n.oid, 'USAGE')) >= 16,
    'Anon can look into public and auth, so their tables are all tried'
);

select tests.authenticate_as_anon();
select is(
    tests.relations_anon_can_read(),
    '{}'::text[],
    'Acting as anon, reading any table or view of any schema anon can use is refused'
);

select * from finish();
rollback;
