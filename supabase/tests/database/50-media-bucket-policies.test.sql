-- The hosted media bucket is private: private.secure_media_bucket makes it
-- so and adds a restrictive policy on storage.objects that keeps anon and
-- signed-in users out of its objects, whatever permissive policy exists.
-- Locally there is no storage schema, so the test builds a stand-in of
-- Storage's two tables (the columns the policy reads), named as a stand-in.
begin;
\ir _helpers.psql
select plan(7);
select tests.create_fixtures();

select is(private.secure_media_bucket('wabot-media'), to_regclass('storage.objects') is not null,
          'Without Supabase Storage''s schema it does nothing (the local stack serves the bucket over S3)');

-- The stand-in of Supabase Storage's tables.
create schema if not exists storage;
create table if not exists storage.buckets (id text primary key, name text not null, public boolean default false);
create table if not exists storage.objects (
    id uuid primary key default gen_random_uuid(), bucket_id text references storage.buckets (id), name text);
alter table storage.objects enable row level security;
grant usage on schema storage to anon, authenticated;
grant select, insert, update, delete on storage.objects to anon, authenticated;
insert into storage.buckets (id, name, public) values ('wabot-media', 'wabot-media', true), ('avatars', 'avatars', true)
on conflict (id) do update set public = excluded.public;
insert into storage.objects (bucket_id, name) values ('wabot-media', 'inbound/x/y'), ('avatars', 'a.png');
-- A careless permissive policy opening every bucket.
create policy "stand-in: anyone reads everything" on storage.objects for all to anon, authenticated
    using (true) with check (true);

select ok(private.secure_media_bucket('wabot-media'), 'With it, the bucket is secured');
select is((select public from storage.buckets where id = 'wabot-media'), false, 'The bucket is private');

select tests.authenticate_as(tests.user_id('owner'));
select is((select count(*)::int from storage.objects where bucket_id = 'wabot-media'), 0,
          'Even an owner reads no media object directly (only through the admin API''s proxy)');
select is((select count(*)::int from storage.objects where bucket_id = 'avatars'), 1,
          'Other buckets keep their own policies');
select throws_ok($$ insert into storage.objects (bucket_id, name) values ('wabot-media', 'uploads/evil') $$,
                 '42501', null, 'Nobody signed in writes into the bucket directly');
select tests.authenticate_as_anon();
select is((select count(*)::int from storage.objects where bucket_id = 'wabot-media'), 0, 'Nor does anon');
select tests.clear_authentication();

select * from finish();
rollback;
