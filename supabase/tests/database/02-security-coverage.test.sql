-- Scenario 2: the security properties that hold for every table and
-- function at once: row-level security everywhere, nothing for anon, fixed
-- search paths, no callable private functions for the public, and every
-- plpgsql function (trigger functions included) clean under plpgsql_check.
begin;
\ir _helpers.psql
select plan(16);
select tests.create_fixtures();

select is(
    (select coalesce(array_agg(c.relname order by c.relname), '{}')
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity),
    '{}'::name[],
    'Every table in public has row-level security enabled'
);

select is(
    (select coalesce(array_agg(c.relname order by c.relname), '{}')
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p')
        and not exists (select 1 from pg_policy p where p.polrelid = c.oid)),
    '{}'::name[],
    'Every table in public has at least one policy'
);

select is(
    (select count(*)::int from information_schema.role_table_grants
      where grantee in ('anon', 'PUBLIC') and table_schema = 'public'),
    0,
    'Neither anon nor PUBLIC holds a privilege on any public table'
);

select is(
    (select count(*)::int from information_schema.column_privileges
      where grantee in ('anon', 'PUBLIC') and table_schema = 'public'),
    0,
    'Neither anon nor PUBLIC holds a privilege on any column of a public table'
);

select ok(
    not has_schema_privilege('anon', 'private', 'USAGE'),
    'The anon role cannot even look into the private schema'
);

select is(
    (select coalesce(array_agg(p.oid::regprocedure::text order by p.oid::regprocedure::text), '{}')
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'private')
        and (has_function_privilege('anon', p.oid, 'EXECUTE')
             or exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                         where a.grantee = 0 and a.privilege_type = 'EXECUTE'))),
    '{}'::text[],
    'No function in public or private is executable by anon or by PUBLIC'
);

select is(
    (select coalesce(array_agg(p.oid::regprocedure::text order by p.oid::regprocedure::text), '{}')
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'private') and p.prosecdef
        and not coalesce(p.proconfig @> array['search_path=""'], false)),
    '{}'::text[],
    'Every security definer function pins search_path to the empty string'
);

select is(
    (select coalesce(array_agg(p.oid::regprocedure::text order by p.oid::regprocedure::text), '{}')
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'private')
        and not exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%')),
    '{}'::text[],
    'Every function in public or private has a fixed search_path, definer or not'
);

select is(
    (select count(*)::int from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public'),
    0,
    'The public schema holds no functions: the API exposes tables, helpers stay private'
);

-- plpgsql_check: `supabase db lint` checks the non-trigger functions; here
-- every trigger function is checked against each table it is attached to.
create extension if not exists plpgsql_check;

select is(
    (select coalesce(array_agg(distinct t.tgrelid::regclass::text || ': ' || p.oid::regprocedure::text
                               || ': ' || c.message), '{}')
       from pg_trigger t
       join pg_proc p on p.oid = t.tgfoid
       join pg_namespace n on n.oid = p.pronamespace
       join pg_language l on l.oid = p.prolang
       cross join lateral plpgsql_check_function_tb(p.oid, t.tgrelid) c
      where not t.tgisinternal and l.lanname = 'plpgsql' and n.nspname in ('public', 'private')),
    '{}'::text[],
    'Every plpgsql trigger function passes plpgsql_check on every table it serves, without a warning'
);

select is(
    (select coalesce(array_agg(p.oid::regprocedure::text || ': ' || c.message), '{}')
       from pg_proc p
       join pg_namespace n on n.oid = p.pronamespace
       join pg_language l on l.oid = p.prolang
       cross join lateral plpgsql_check_function_tb(p.oid) c
      where l.lanname = 'plpgsql' and n.nspname in ('public', 'private')
        and p.prorettype <> 'trigger'::regtype),
    '{}'::text[],
    'Every other plpgsql function passes plpgsql_check without a warning'
);

-- Acting as anon, with the anon key's claims.
select tests.authenticate_as_anon();

select throws_ok($$ select * from public.bots $$, '42501', null,
                 'Anon cannot read bots');
select throws_ok($$ select * from public.alerts $$, '42501', null,
                 'Anon cannot read alerts');
select throws_ok($$ insert into public.session_commands (number_id, command)
                    values ('a0000000-0000-4000-8000-000000000001', 'restart') $$, '42501', null,
                 'Anon cannot request a session command');
select throws_ok($$ update public.numbers set label = 'x' $$, '42501', null,
                 'Anon cannot change numbers');
select throws_ok($$ select private.has_role('viewer') $$, '42501', null,
                 'Anon cannot call the private role helpers');

select * from finish();
rollback;
