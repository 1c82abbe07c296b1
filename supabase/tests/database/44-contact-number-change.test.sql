-- A contact changed number (issue 13): the identity moves to the new id,
-- queued replies follow the conversation, nothing more goes to the old
-- number, and an audit entry says so.
begin;
\ir _helpers.psql
select plan(9);
select tests.create_fixtures();

update public.contacts set wa_id = '15550109999'
where id = (select contact_id from public.conversations where id = 'c0000000-0000-4000-8000-000000000001')
  and wa_id is null;
insert into public.messages (id, number_id, conversation_id, direction, contact_wa_id, status, content)
values ('d0000000-0000-4000-8000-000000000201', 'a0000000-0000-4000-8000-000000000001',
        'c0000000-0000-4000-8000-000000000001', 'outbound', '15550109999', 'queued',
        '{"kind": "text", "text": "Your order shipped"}');

select tests.authenticate_as_service_role();
select is(private.apply_contact_number_change('a0000000-0000-4000-8000-000000000001', '15550109999', '15550108888'),
          '{"failed": 0, "retargeted": 1, "moved_contact": true, "moved_conversation": true}'::jsonb,
          'the change moves the contact and the conversation, and retargets the queued reply');
select tests.clear_authentication();
select is((select contact_wa_id from public.conversations where id = 'c0000000-0000-4000-8000-000000000001'),
          '15550108888', 'the conversation now has the new id');
select is((select contact_wa_id from public.messages where id = 'd0000000-0000-4000-8000-000000000201'),
          '15550108888', 'the queued reply goes to the new number, not the old');
select is((select count(*)::int from public.contacts where wa_id = '15550109999'), 0,
          'no contact keeps the old id');
select is((select details ->> 'new_wa_id' from public.audit_log_entries
           where action = 'contacts.number_changed' order by id desc limit 1), '15550108888',
          'an audit entry records the change');

-- When the new id already has a conversation on the number, the old one is
-- closed and its queued replies fail: nothing goes to the old number.
insert into public.conversations (number_id, contact_wa_id) values ('a0000000-0000-4000-8000-000000000001', '15550107777');
insert into public.messages (id, number_id, conversation_id, direction, contact_wa_id, status, content)
values ('d0000000-0000-4000-8000-000000000202', 'a0000000-0000-4000-8000-000000000001',
        'c0000000-0000-4000-8000-000000000001', 'outbound', '15550108888', 'queued',
        '{"kind": "text", "text": "Another reply"}');
select is(private.apply_contact_number_change('a0000000-0000-4000-8000-000000000001', '15550108888', '15550107777')
              ->> 'failed', '2', 'a conversation that cannot move fails its queued replies (both still queued)');
select is((select (status, error)::text from public.messages where id = 'd0000000-0000-4000-8000-000000000202'),
          '(failed,"not sent: the contact changed number to +15550107777")', 'with a reason that says why');
select is((select mode from public.conversations where id = 'c0000000-0000-4000-8000-000000000001'), 'closed',
          'and the old conversation is closed');

select throws_ok($$select private.apply_contact_number_change('a0000000-0000-4000-8000-000000000001', '1', 'not-a-number')$$,
                 '22023', 'new_wa_id must be 5 to 20 digits, got not-a-number', 'a malformed new id is refused');

select * from finish();
rollback;
