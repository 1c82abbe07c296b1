-- Scenario 15: contacts keep every WhatsApp id of a person in one identity,
-- conversations record opt-outs, and messages stamp their delivery times.
begin;
\ir _helpers.psql
select plan(15);
select tests.create_fixtures();

-- Contacts.
select is((select (phone_number, wa_id, lid, display_name)::text from public.contacts c
             join public.conversations v on v.contact_id = c.id
            where v.id = 'c0000000-0000-4000-8000-000000000001'),
          '(+15550109999,15550109999,,Ada)',
          'A new conversation links a contact with the phone number, WhatsApp id and name');

insert into public.numbers (id, phone_number) values ('a0000000-0000-4000-8000-000000000002', '+15550100002');
insert into public.conversations (number_id, contact_wa_id, contact_name)
values ('a0000000-0000-4000-8000-000000000002', '15550109999@s.whatsapp.net', 'Ada L.');
select is((select count(distinct contact_id)::int from public.conversations), 1,
          'The same person on another number, written as a JID, is the same contact');
select is((select display_name from public.contacts), 'Ada L.', 'The contact''s name follows the latest one seen');

insert into public.conversations (number_id, contact_wa_id)
values ('a0000000-0000-4000-8000-000000000001', '123456789012345@lid');
select is((select (phone_number, wa_id, lid)::text from public.contacts where lid is not null),
          '(,,123456789012345@lid)', 'A LID-style id makes a contact keyed by its LID');

select is(private.resolve_contact('123456789012345@LID', null),
          (select id from public.contacts where lid = '123456789012345@lid'),
          'LIDs are matched case-insensitively');
delete from public.conversations where contact_wa_id = '123456789012345@lid';
delete from public.contacts where lid = '123456789012345@lid';
update public.contacts set lid = '123456789012345@lid' where wa_id = '15550109999';
select is(private.resolve_contact('123456789012345@lid', null),
          (select id from public.contacts where wa_id = '15550109999'),
          'Once a LID is linked to a phone contact, both ids resolve to that one identity');
select is(private.resolve_contact('not a number', null), null, 'An unreadable id links no contact');
select throws_ok($$ insert into public.contacts (display_name) values ('nobody') $$, '23514', null,
                 'A contact has at least one id');

-- Conversations: opt-out.
update public.conversations set opted_out = true where id = 'c0000000-0000-4000-8000-000000000001';
select isnt((select opted_out_at from public.conversations where id = 'c0000000-0000-4000-8000-000000000001'),
            null, 'Opting out stamps opted_out_at');
update public.conversations set opted_out = false where id = 'c0000000-0000-4000-8000-000000000001';
select is((select opted_out_at from public.conversations where id = 'c0000000-0000-4000-8000-000000000001'),
          null, 'Opting back in clears it');

-- Messages: types and delivery timestamps.
insert into public.messages (id, number_id, direction, contact_wa_id, body, status)
values ('d0000000-0000-4000-8000-000000000009', 'a0000000-0000-4000-8000-000000000001', 'outbound',
        '15550109999', 'reply', 'queued');
select is((select type from public.messages where id = 'd0000000-0000-4000-8000-000000000009'), 'text',
          'A message is text unless it says otherwise');
update public.messages set status = 'sent', sent_at = now(), wa_message_id = 'WAMID-OUT'
where id = 'd0000000-0000-4000-8000-000000000009';
update public.messages set status = 'delivered' where id = 'd0000000-0000-4000-8000-000000000009';
select ok((select delivered_at is not null and read_at is null from public.messages
            where id = 'd0000000-0000-4000-8000-000000000009'),
          'A delivery receipt stamps delivered_at');
update public.messages set status = 'read' where id = 'd0000000-0000-4000-8000-000000000009';
select ok((select read_at >= delivered_at and delivered_at >= sent_at from public.messages
            where id = 'd0000000-0000-4000-8000-000000000009'),
          'A read receipt stamps read_at after delivered_at and sent_at');
insert into public.messages (id, number_id, direction, contact_wa_id, body, status, error)
values ('d0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-000000000001', 'outbound',
        '15550109999', 'lost', 'failed', 'recipient not on WhatsApp');
select isnt((select failed_at from public.messages where id = 'd0000000-0000-4000-8000-00000000000a'), null,
            'A failed message stamps failed_at');
select throws_ok($$ insert into public.messages (number_id, direction, contact_wa_id, body, status, type)
                    values ('a0000000-0000-4000-8000-000000000001', 'outbound', '1', 'x', 'queued', 'fax') $$,
                 '23514', null, 'Message types are a known list');

select * from finish();
rollback;
