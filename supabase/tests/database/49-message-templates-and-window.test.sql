-- Message templates (RLS: members read, the service role writes; the
-- status webhook's helper) and the Cloud API's 24-hour customer-service
-- window (conversations.last_inbound_at, private.service_window, and the
-- trigger refusing a queued free-form send outside it) (issue 13).
begin;
\ir _helpers.psql
select plan(27);
select tests.create_fixtures();

-- -----------------------------------------------------------------------------
-- Templates
-- -----------------------------------------------------------------------------

select has_table('public', 'message_templates', 'public.message_templates exists');
select ok((select relrowsecurity from pg_catalog.pg_class where oid = 'public.message_templates'::regclass),
          'message_templates has row-level security');
select table_privs_are('public', 'message_templates', 'anon', array[]::text[], 'anon has no privilege on message_templates');
select table_privs_are('public', 'message_templates', 'authenticated', array['SELECT'],
                       'authenticated may only read message_templates');

insert into public.message_templates (number_id, waba_id, template_id, name, language, status, category,
                                      components, parameter_spec)
values ('a0000000-0000-4000-8000-000000000001', '102290129340398', '594425479261596', 'order_update', 'en_US',
        'APPROVED', 'UTILITY', '[{"type": "BODY", "text": "Hi {{1}}"}]',
        '[{"type": "body", "parameters": 1}]');

select tests.authenticate_as(tests.user_id('viewer'));
select is((select count(*)::int from public.message_templates), 1, 'A viewer reads the templates');
select tests.authenticate_as(tests.user_id('outsider'));
select is((select count(*)::int from public.message_templates), 0, 'An outsider reads none');
select tests.authenticate_as(tests.user_id('admin'));
select throws_ok($$ insert into public.message_templates (number_id, waba_id, template_id, name, language, status)
                    values ('a0000000-0000-4000-8000-000000000001', '1', '2', 'x', 'en', 'APPROVED') $$,
                 '42501', null, 'Even an admin cannot write templates (the sync runs as the service role)');
select throws_ok($$ select private.apply_template_status_update('594425479261596', 'PAUSED', null) $$,
                 '42501', null, 'Members cannot apply status updates');
select tests.authenticate_as_service_role();
select is(private.apply_template_status_update('594425479261596', 'PAUSED', 'Low quality'), 1,
          'The status update changes the synced template');
select is((select status || ':' || status_reason from public.message_templates where name = 'order_update'),
          'PAUSED:Low quality', 'Its status and reason are stored');
select is(private.apply_template_status_update('999', 'APPROVED', 'NONE'), 0,
          'An update of a template not synced yet changes nothing');
select throws_ok($$ select private.apply_template_status_update('594425479261596', 'paused; drop', null) $$,
                 '22023', null, 'A malformed status is refused');
select throws_ok($$ insert into public.message_templates (number_id, waba_id, template_id, name, language, status)
                    values ('a0000000-0000-4000-8000-000000000001', '1', '2', 'Bad Name', 'en', 'APPROVED') $$,
                 '23514', null, 'A template name is Meta''s lowercase form');
select tests.clear_authentication();

-- -----------------------------------------------------------------------------
-- The 24-hour window
-- -----------------------------------------------------------------------------

select is((select last_inbound_at from public.conversations where id = 'c0000000-0000-4000-8000-000000000001'),
          (select created_at from public.messages where id = 'd0000000-0000-4000-8000-000000000001'),
          'An inbound message opens the conversation''s window');
select is((select window_applies::text || ',' || window_open::text
           from private.service_window('c0000000-0000-4000-8000-000000000001')),
          'false,true', 'A simulator number has no window: always open');

update public.numbers set transport = 'cloud' where id = 'a0000000-0000-4000-8000-000000000001';
update public.conversations set last_inbound_at = now() - interval '25 hours'
where id = 'c0000000-0000-4000-8000-000000000001';
select is((select window_applies::text || ',' || window_open::text
           from private.service_window('c0000000-0000-4000-8000-000000000001')),
          'true,false', 'On the Cloud API, 25 hours after the contact wrote, the window is closed');
select is((select window_closes_at from private.service_window('c0000000-0000-4000-8000-000000000001')),
          now() - interval '1 hour', 'It closed 24 hours after the last inbound message');

select throws_like($$ insert into public.messages (number_id, conversation_id, direction, contact_wa_id, body, status)
                      values ('a0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000001',
                              'outbound', '15550109999', 'Still there?', 'queued') $$,
                   '%24-hour customer-service window closed at %send a template: content.kind = "template"%',
                   'A free-form queued send outside the window is refused, naming the template path');
select throws_ok($$ insert into public.messages (number_id, conversation_id, direction, contact_wa_id, content, status)
                    values ('a0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000001',
                            'outbound', '15550109999', '{"kind": "image", "url": "https://example.com/a.png"}',
                            'queued') $$,
                 'WA024', null, 'with SQLSTATE WA024, for media too');
select throws_ok($$ insert into public.messages (number_id, direction, contact_wa_id, body, status)
                    values ('a0000000-0000-4000-8000-000000000001', 'outbound', '15559990000', 'hi', 'queued') $$,
                 'WA024', null, 'A contact who never wrote has no window: refused');
select lives_ok($$ insert into public.messages (number_id, conversation_id, direction, contact_wa_id, content, status)
                   values ('a0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000001',
                           'outbound', '15550109999',
                           '{"kind": "template", "name": "order_update", "language": "en_US"}', 'queued') $$,
                'A template is allowed outside the window');

insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, body, status)
values ('a0000000-0000-4000-8000-000000000001', 'inbound', '15550109999', 'wamid.renew', 'back again', 'received');
select ok((select last_inbound_at > now() - interval '1 minute' from public.conversations
           where id = 'c0000000-0000-4000-8000-000000000001'), 'A new inbound message renews the window');
select lives_ok($$ insert into public.messages (number_id, conversation_id, direction, contact_wa_id, body, status)
                   values ('a0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000001',
                           'outbound', '15550109999', 'Welcome back', 'queued') $$,
                'Inside the window a free-form send is allowed');

update public.numbers set transport = 'web' where id = 'a0000000-0000-4000-8000-000000000001';
update public.conversations set last_inbound_at = now() - interval '3 days'
where id = 'c0000000-0000-4000-8000-000000000001';
select lives_ok($$ insert into public.messages (number_id, conversation_id, direction, contact_wa_id, body, status)
                   values ('a0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000001',
                           'outbound', '15550109999', 'Web has no window', 'queued') $$,
                'WhatsApp Web has no window');

-- A conversation created after its contact wrote starts from that message.
insert into public.messages (number_id, direction, contact_wa_id, wa_message_id, body, status)
values ('a0000000-0000-4000-8000-000000000001', 'inbound', '15550108888', 'wamid.first', 'hello', 'received');
insert into public.conversations (number_id, contact_wa_id) values ('a0000000-0000-4000-8000-000000000001', '15550108888');
select is((select last_inbound_at from public.conversations where contact_wa_id = '15550108888'),
          (select created_at from public.messages where wa_message_id = 'wamid.first'),
          'A new conversation takes the window of its contact''s earlier message');

select ok(has_column_privilege('authenticated', 'public.messages', 'content', 'INSERT')
          and has_column_privilege('authenticated', 'public.messages', 'context_wa_message_id', 'INSERT'),
          'Agents may write the content and the quoted id of their messages');
select ok(not has_column_privilege('authenticated', 'public.conversations', 'last_inbound_at', 'UPDATE'),
          'Members cannot move the window');

select * from finish();
rollback;
