-- Scenario 47: the daemon's inbound media downloads (issue 13, item 2).
-- Pending media (an inbound media kind without storage_key or
-- storage_error) of the numbers a daemon holds is claimed in bounded
-- batches under a lease, never twice at once; a stored file updates the
-- content and writes its media_objects row in one call; a failed attempt
-- waits for its backoff; giving up sets storage_error and keeps the
-- message; only the service role may do any of it.
begin;
\ir _helpers.psql
select plan(23);
select tests.create_fixtures();

-- The fixture number is held by runtime-a; a second number by nobody.
update public.numbers set lease_holder = 'runtime-a', lease_expires_at = now() + interval '30 seconds'
where id = 'a0000000-0000-4000-8000-000000000001';
insert into public.numbers (id, phone_number, transport)
values ('a0000000-0000-4000-8000-000000000047', '+15550100047', 'simulator');

insert into public.messages (id, number_id, direction, status, contact_wa_id, wa_message_id, content, created_at, payload)
values
    ('d4700000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'inbound', 'received',
     '15550109999', 'wamid.media-1', '{"kind": "image", "media_id": "1001", "caption": "my order"}', now() - interval '3 minutes', '{}'),
    ('d4700000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000001', 'inbound', 'received',
     '15550109999', 'wamid.media-2', '{"kind": "voice", "media_id": "1002"}', now() - interval '2 minutes',
     '{"web_media": {"direct_path": "/v/t62.7117-24/1002.enc", "media_type": "audio"}}'),
    ('d4700000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000001', 'inbound', 'received',
     '15550109999', 'wamid.media-3', '{"kind": "document", "media_id": "1003", "storage_key": "inbound/x/y"}', now() - interval '1 minute', '{}'),
    ('d4700000-0000-4000-8000-000000000004', 'a0000000-0000-4000-8000-000000000001', 'inbound', 'received',
     '15550109999', 'wamid.media-4', '{"kind": "sticker", "media_id": "1004", "storage_error": "too big"}', now(), '{}'),
    ('d4700000-0000-4000-8000-000000000005', 'a0000000-0000-4000-8000-000000000001', 'inbound', 'received',
     '15550109999', 'wamid.text-5', '{"kind": "text", "text": "hello"}', now(), '{}'),
    ('d4700000-0000-4000-8000-000000000006', 'a0000000-0000-4000-8000-000000000047', 'inbound', 'received',
     '15550109999', 'wamid.media-6', '{"kind": "image", "media_id": "1006"}', now(), '{}');

-- Nobody but the service role.
select tests.authenticate_as(tests.user_id('owner'));
select throws_ok($$ select * from private.claim_media_downloads('runtime-a', 8, 60) $$, '42501', null,
                 'A member, even the owner, cannot claim media downloads');
select throws_ok($$ select * from private.media_downloads $$, '42501', null,
                 'A member cannot read the download attempts');
select tests.clear_authentication();

select tests.authenticate_as_service_role();
select is((select array_agg(message_id order by message_id) from private.claim_media_downloads('runtime-a', 1, 60)),
          array['d4700000-0000-4000-8000-000000000001']::uuid[],
          'A batch is bounded and takes the oldest pending media first');
select is((select array_agg(message_id::text || ' ' || coalesce(payload #>> '{web_media,direct_path}', '-'))
           from private.claim_media_downloads('runtime-a', 8, 60)),
          array['d4700000-0000-4000-8000-000000000002 /v/t62.7117-24/1002.enc'],
          'A claimed download is not claimed again while its lease runs; stored, refused, text and other daemons'' numbers are not pending; the payload comes along');
select is((select count(*)::int from private.claim_media_downloads('runtime-b', 8, 60)), 0,
          'A daemon claims only the numbers it holds');
select is((select attempts from private.media_downloads where message_id = 'd4700000-0000-4000-8000-000000000001'), 1,
          'The claim counts the attempt');
select throws_ok($$ select * from private.claim_media_downloads('runtime-a', 0, 60) $$, '22023',
                 'max_rows: must be from 1 to 100, got 0', 'A batch of zero is refused, naming the argument');

-- A kill mid-download: the lease lapses and the message is claimed again.
update private.media_downloads set claimed_until = now() - interval '1 second'
where message_id = 'd4700000-0000-4000-8000-000000000001';
select is((select attempts from private.claim_media_downloads('runtime-a', 8, 60)
           where message_id = 'd4700000-0000-4000-8000-000000000001'), 2,
          'After a lapsed lease (a daemon killed mid-way) the message is claimed again, as attempt 2');

-- A session that is not connected puts the download off, uncounted.
select lives_ok($$ select private.defer_media_download('d4700000-0000-4000-8000-000000000001', 'not connected', 0) $$,
                'A download is put off');
select is((select (attempts, claimed_by is null, last_error)::text from private.media_downloads
           where message_id = 'd4700000-0000-4000-8000-000000000001'),
          '(1,t,"not connected")', 'Putting it off gives the attempt back and releases the claim');
select is((select attempts from private.claim_media_downloads('runtime-a', 8, 60)
           where message_id = 'd4700000-0000-4000-8000-000000000001'), 2,
          'It is claimed again as the same attempt');

-- A transient failure waits for its backoff.
select lives_ok($$ select private.fail_media_download('d4700000-0000-4000-8000-000000000002', 'the bucket is down', false, 30) $$,
                'A transient failure is recorded');
select is((select last_error from private.media_downloads where message_id = 'd4700000-0000-4000-8000-000000000002'),
          'the bucket is down', 'The failure is kept');
select is((select count(*)::int from private.claim_media_downloads('runtime-a', 8, 60)
           where message_id = 'd4700000-0000-4000-8000-000000000002'), 0,
          'A failed download is not claimed before its backoff ends');
select ok((select content->>'storage_error' is null and content->>'storage_key' is null
           from public.messages where id = 'd4700000-0000-4000-8000-000000000002'),
          'A transient failure leaves the message pending');

-- Stored: content and media_objects in one call.
select ok(private.complete_media_download('d4700000-0000-4000-8000-000000000001',
              'inbound/a0000000-0000-4000-8000-000000000001/d4700000-0000-4000-8000-000000000001',
              'image/jpeg', 12345, repeat('ab', 32)),
          'A stored file is recorded');
select is((select content from public.messages where id = 'd4700000-0000-4000-8000-000000000001'),
          jsonb_build_object('kind', 'image', 'media_id', '1001', 'caption', 'my order',
                             'storage_key', 'inbound/a0000000-0000-4000-8000-000000000001/d4700000-0000-4000-8000-000000000001',
                             'size_bytes', 12345, 'sha256', repeat('ab', 32), 'mime_type', 'image/jpeg'),
          'The content gains storage_key, size_bytes, sha256 and mime_type and keeps the rest');
select is((select (number_id, message_id, kind, mime_type, size_bytes, source)::text from public.media_objects
           where storage_key = 'inbound/a0000000-0000-4000-8000-000000000001/d4700000-0000-4000-8000-000000000001'),
          '(a0000000-0000-4000-8000-000000000001,d4700000-0000-4000-8000-000000000001,image,image/jpeg,12345,inbound)',
          'Its media_objects row is written');
select is((select count(*)::int from private.media_downloads where message_id = 'd4700000-0000-4000-8000-000000000001'), 0,
          'A stored file leaves no attempt behind');
select ok(not private.complete_media_download('d4700000-0000-4000-8000-000000000001', 'inbound/other', 'image/jpeg', 1,
                                               repeat('cd', 32)),
          'Recording it twice changes nothing');
select is((select content->>'storage_key' from public.messages where id = 'd4700000-0000-4000-8000-000000000001'),
          'inbound/a0000000-0000-4000-8000-000000000001/d4700000-0000-4000-8000-000000000001',
          'The first key stays');

-- Given up: storage_error, the message kept.
select lives_ok($$ select private.fail_media_download('d4700000-0000-4000-8000-000000000002',
                    'not stored: the voice file breaks whatsapp''s limits', true, 0) $$,
                'Giving up is recorded');
select is((select (type, content->>'storage_error', content->>'media_id')::text from public.messages
           where id = 'd4700000-0000-4000-8000-000000000002'),
          '(voice,"not stored: the voice file breaks whatsapp''s limits",1002)',
          'Giving up sets storage_error and keeps the message and its metadata');
select tests.clear_authentication();

select * from finish();
rollback;
