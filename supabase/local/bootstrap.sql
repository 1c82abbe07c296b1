-- =============================================================================
-- Local stand-in for what the Supabase Postgres image provides before any
-- migration runs. This is NOT a migration: hosted Supabase already has all of
-- it, and migrations must never create it. scripts/lib/db.sh runs it once on
-- a fresh local cluster.
--
-- It creates only what the image creates: the API roles, the `auth` and
-- `extensions` schemas, `auth.users`, and GoTrue's `auth.uid()`, `auth.role()`
-- and `auth.jwt()` reading `request.jwt.claims`. It adds no default grants on
-- `public` beyond what hosted projects have since 2026-10-30 (none for new
-- tables), so a migration that forgets a grant fails here too.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Roles
-- -----------------------------------------------------------------------------

do $$
begin
    if not exists (select from pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select from pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
    if not exists (select from pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit password 'postgres';
    end if;
end
$$;

grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;

-- As on Supabase, the API roles get a statement timeout.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- -----------------------------------------------------------------------------
-- Schemas
-- -----------------------------------------------------------------------------

create schema if not exists extensions;
grant usage on schema extensions to anon, authenticated, service_role;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;

create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

create table if not exists auth.users (
    instance_id uuid,
    id uuid primary key,
    aud varchar(255),
    role varchar(255),
    email varchar(255) unique,
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz default now(),
    updated_at timestamptz default now()
);

-- GoTrue's definitions (supabase/auth migrations 20220224000811 and
-- 20220531120530): the claims come from the request's JWT, which PostgREST,
-- or our functions' `withUser`, puts in `request.jwt.claims`.
create or replace function auth.jwt() returns jsonb
    language sql stable as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

create or replace function auth.uid() returns uuid
    language sql stable as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

create or replace function auth.role() returns text
    language sql stable as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;

create or replace function auth.email() returns text
    language sql stable as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.email', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$$;

grant execute on function auth.jwt(), auth.uid(), auth.role(), auth.email()
    to anon, authenticated, service_role;

-- As on Supabase, extensions live in `extensions`, which is on the path.
alter database postgres set search_path to "$user", public, extensions;
