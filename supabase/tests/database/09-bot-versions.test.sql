-- Scenario 9: bot versions: checksums, immutability once published,
-- status moves, one published version per bot, and canaries.
begin;
\ir _helpers.psql
select plan(22);
select tests.create_fixtures();

-- Checksums.
select is((select checksum from public.bot_versions where id = 'b1000000-0000-4000-8000-000000000001'),
          encode(sha256(convert_to(
              '{"start": "welcome", "nodes": {"welcome": {"text": "hello"}}}'::jsonb::text, 'UTF8')), 'hex'),
          'The checksum is the SHA-256 of the definition''s canonical text');
update public.bot_versions set checksum = repeat('0', 64) where id = 'b1000000-0000-4000-8000-000000000002';
select isnt((select checksum from public.bot_versions where id = 'b1000000-0000-4000-8000-000000000002'),
            repeat('0', 64), 'A checksum written by hand on a draft is replaced by the computed one');
update public.bot_versions set definition = '{"start": "changed"}' where id = 'b1000000-0000-4000-8000-000000000002';
select is((select checksum from public.bot_versions where id = 'b1000000-0000-4000-8000-000000000002'),
          encode(sha256(convert_to('{"start": "changed"}'::jsonb::text, 'UTF8')), 'hex'),
          'Editing a draft''s definition recomputes its checksum');

-- Published and archived versions are frozen.
select throws_ok($$ update public.bot_versions set definition = '{"start": "tampered"}'
                    where id = 'b1000000-0000-4000-8000-000000000001' $$, '23514', null,
                 'A published version''s definition cannot change');
select throws_ok($$ update public.bot_versions set checksum = repeat('1', 64)
                    where id = 'b1000000-0000-4000-8000-000000000001' $$, '23514', null,
                 'A published version''s checksum cannot change');
select throws_ok($$ update public.bot_versions set status = 'draft'
                    where id = 'b1000000-0000-4000-8000-000000000001' $$, '23514', null,
                 'A published version cannot go back to draft');
select throws_ok($$ update public.bot_versions set version = 9
                    where id = 'b1000000-0000-4000-8000-000000000001' $$, '23514', null,
                 'A version cannot be renumbered');

-- Publishing archives the previous version; rollback republishes it.
update public.bot_versions set status = 'published' where id = 'b1000000-0000-4000-8000-000000000002';
select is((select status from public.bot_versions where id = 'b1000000-0000-4000-8000-000000000001'), 'archived',
          'Publishing version 2 archives version 1');
select is((select count(*)::int from public.bot_versions
            where bot_id = 'b0000000-0000-4000-8000-000000000001' and status = 'published'),
          1, 'A bot has exactly one published version');
select throws_ok($$ update public.bot_versions set definition = '{"start": "tampered"}'
                    where id = 'b1000000-0000-4000-8000-000000000001' $$, '23514', null,
                 'An archived version''s definition cannot change');
update public.bot_versions set status = 'published' where id = 'b1000000-0000-4000-8000-000000000001';
select is((select array_agg(status order by version) from public.bot_versions
            where bot_id = 'b0000000-0000-4000-8000-000000000001'),
          array['published', 'archived'], 'Republishing an archived version rolls back to it');
select ok((select published_at is not null from public.bot_versions where id = 'b1000000-0000-4000-8000-000000000002'),
          'Publishing stamps published_at');

-- An insert that ends in ON CONFLICT DO NOTHING has no side effect (the seed relies on it).
insert into public.bot_versions (id, bot_id, version, definition, status)
values ('b1000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-000000000001', 2, '{"start": "x"}',
        'published')
on conflict (id) do nothing;
select is((select array_agg(status order by version) from public.bot_versions
            where bot_id = 'b0000000-0000-4000-8000-000000000001'),
          array['published', 'archived'], 'A conflicting insert of a published version archives nothing');
select is((select conname::text from pg_constraint
            where conrelid = 'public.bot_versions'::regclass and contype = 'x' and condeferrable and condeferred),
          'bot_versions_one_published_per_bot',
          'One published version per bot is a constraint checked at commit');

-- Canaries.
insert into public.bot_versions (id, bot_id, version, definition)
values ('b1000000-0000-4000-8000-000000000003', 'b0000000-0000-4000-8000-000000000001', 3, '{"start": "canary"}');
insert into public.bots (id, name) values ('b0000000-0000-4000-8000-000000000002', 'Other bot');
insert into public.bot_versions (id, bot_id, version, definition)
values ('b2000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000002', 1, '{"start": "other"}');

select throws_ok($$ update public.bots set canary_version_id = 'b2000000-0000-4000-8000-000000000001'
                    where id = 'b0000000-0000-4000-8000-000000000001' $$, '23503', null,
                 'A canary must be a version of the same bot');
select throws_ok($$ update public.bots set canary_version_id = 'b1000000-0000-4000-8000-000000000001'
                    where id = 'b0000000-0000-4000-8000-000000000001' $$, '23514', null,
                 'The published version cannot be the canary');
select throws_ok($$ update public.bots set canary_share_percent = 101
                    where id = 'b0000000-0000-4000-8000-000000000001' $$, '23514', null,
                 'A canary share is a percentage');
update public.bots set canary_version_id = 'b1000000-0000-4000-8000-000000000003', canary_share_percent = 20
where id = 'b0000000-0000-4000-8000-000000000001';
select throws_ok($$ update public.bot_versions set definition = '{"start": "moved"}'
                    where id = 'b1000000-0000-4000-8000-000000000003' $$, '23514', null,
                 'A draft serving as a canary is frozen too');
update public.bot_versions set status = 'published' where id = 'b1000000-0000-4000-8000-000000000003';
select is((select (canary_version_id, canary_share_percent)::text from public.bots
            where id = 'b0000000-0000-4000-8000-000000000001'),
          '(,0)', 'Publishing the canary version promotes it and clears the canary');

update public.bots set canary_version_id = 'b1000000-0000-4000-8000-000000000002', canary_share_percent = 5
where id = 'b0000000-0000-4000-8000-000000000001';
select lives_ok($$ delete from public.bots where id = 'b0000000-0000-4000-8000-000000000001' $$,
                'A bot with a canary can be deleted with all its versions');
select is((select count(*)::int from public.bot_versions where bot_id = 'b0000000-0000-4000-8000-000000000001'),
          0, 'Deleting a bot deletes its versions');

-- The freeze holds for admins acting through the API as well.
update public.bot_versions set status = 'published' where id = 'b2000000-0000-4000-8000-000000000001';
select tests.authenticate_as(tests.user_id('admin'));
select throws_ok($$ update public.bot_versions set definition = '{"start": "x"}'
                    where id = 'b2000000-0000-4000-8000-000000000001' $$, '23514', null,
                 'An admin meets the same freeze as the owner of the table');

select * from finish();
rollback;
