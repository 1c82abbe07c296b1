-- messages.content: the one message model in Postgres (issue 13). Every row
-- has content; old-style writers get it derived; a wrong shape is refused
-- naming its JSON path; type and body follow the content; media_objects is
-- readable by members only and writable by the service role only.
begin;
\ir _helpers.psql
select plan(17);
select tests.create_fixtures();

select is((select count(*)::int from public.messages where content is null), 0,
          'Every message has content (the fixture''s inbound message included)');
select is((select content from public.messages where id = 'd0000000-0000-4000-8000-000000000001'),
          jsonb_build_object('kind', 'text', 'text',
                             (select body from public.messages where id = 'd0000000-0000-4000-8000-000000000001')),
          'A text row written the old way gets text content');

-- Content in, type and body out.
insert into public.messages (id, number_id, direction, contact_wa_id, status, content)
values ('d0000000-0000-4000-8000-000000000101', 'a0000000-0000-4000-8000-000000000001', 'inbound',
        '15550109999', 'received',
        '{"kind": "location", "latitude": 38.7223, "longitude": -9.1393, "name": "Shop", "address": "Rua Augusta 1"}');
select is((select type from public.messages where id = 'd0000000-0000-4000-8000-000000000101'), 'location',
          'type follows content.kind');
select is((select body from public.messages where id = 'd0000000-0000-4000-8000-000000000101'),
          'Shop, Rua Augusta 1', 'an empty body takes the summary');

insert into public.messages (id, number_id, direction, contact_wa_id, status, content, context_wa_message_id)
values ('d0000000-0000-4000-8000-000000000102', 'a0000000-0000-4000-8000-000000000001', 'inbound',
        '15550109999', 'received', '{"kind": "button_reply", "id": "1", "title": "Opening hours"}', 'wamid.quoted');
select is((select (type, body, context_wa_message_id)::text from public.messages
           where id = 'd0000000-0000-4000-8000-000000000102'),
          '(button_reply,"Opening hours",wamid.quoted)', 'a tap keeps its title and the quoted id');

-- Old-style rows the first Cloud webhook slice and route-message wrote.
select is(private.legacy_message_content('interactive', 'Yes', '{"reply_id": "yes", "reply_title": "Yes", "interactive_type": "button_reply"}'),
          '{"kind": "button_reply", "id": "yes", "title": "Yes"}'::jsonb, 'a legacy button reply keeps its id');
select is(private.legacy_message_content('media', 'Invoice', '{"kind": "media", "media": {"url": "https://example.com/a.pdf", "mime_type": "application/pdf", "filename": "a.pdf"}, "caption": "Invoice"}'),
          '{"kind": "document", "url": "https://example.com/a.pdf", "caption": "Invoice", "filename": "a.pdf", "mime_type": "application/pdf"}'::jsonb,
          'a legacy outbound media reply becomes its media kind');
select is(private.legacy_message_content('audio', '', '{"media": {"media_id": "m1", "mime_type": "audio/ogg; codecs=opus", "voice": true}}'),
          '{"kind": "voice", "media_id": "m1", "mime_type": "audio/ogg; codecs=opus"}'::jsonb, 'a legacy voice note');
select is(private.legacy_message_content('unsupported', '', '{"raw": {"type": "order"}}') ->> 'kind', 'unknown',
          'anything else is unknown, never dropped');

-- Wrong shapes are refused with their path.
select throws_ok($$insert into public.messages (number_id, direction, contact_wa_id, status, content)
    values ('a0000000-0000-4000-8000-000000000001', 'outbound', '15550109999', 'queued',
            '{"kind": "buttons", "text": "Pick", "buttons": [{"id": "a", "title": "A"}, {"id": "b"}]}')$$,
    '22023', 'invalid message content: content.buttons[1].title: must be a string',
    'a button without a title is refused at its path');
select throws_ok($$insert into public.messages (number_id, direction, contact_wa_id, status, content)
    values ('a0000000-0000-4000-8000-000000000001', 'inbound', '15550109999', 'received',
            '{"kind": "location", "latitude": 91, "longitude": 0}')$$,
    '22023', 'invalid message content: content.latitude: must be a number from -90 to 90',
    'a latitude out of range is refused');
select throws_ok($$insert into public.messages (number_id, direction, contact_wa_id, status, content)
    values ('a0000000-0000-4000-8000-000000000001', 'inbound', '15550109999', 'received', '{"kind": "hologram"}')$$,
    '22023', 'invalid message content: content.kind: unknown kind "hologram"', 'an unknown kind is refused');
select throws_ok($$insert into public.messages (number_id, direction, contact_wa_id, status, content)
    values ('a0000000-0000-4000-8000-000000000001', 'inbound', '15550109999', 'received', '"text"')$$,
    '22023', 'invalid message content: content: must be a JSON object with a "kind"', 'content must be an object');

-- media_objects: members read, only the service role writes.
select tests.authenticate_as_service_role();
insert into public.media_objects (storage_key, number_id, message_id, kind, mime_type, size_bytes, sha256, source)
values ('inbound/a0000000-0000-4000-8000-000000000001/d0000000-0000-4000-8000-000000000101',
        'a0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000101', 'image', 'image/jpeg', 3,
        repeat('ab', 32), 'inbound');
select tests.authenticate_as(tests.user_id('viewer'));
select is((select count(*)::int from public.media_objects), 1, 'a viewer reads media metadata');
select throws_ok($$insert into public.media_objects (storage_key, kind, mime_type, size_bytes, sha256, source)
    values ('uploads/x', 'image', 'image/png', 1, repeat('cd', 32), 'upload')$$,
    '42501', null, 'a member cannot write media metadata directly');
select tests.authenticate_as(tests.user_id('outsider'));
select is((select count(*)::int from public.media_objects), 0, 'someone who is not a member sees none');
select tests.authenticate_as_anon();
select throws_ok($$select count(*) from public.media_objects$$, '42501', null, 'anon has no access at all');

select * from finish();
rollback;
