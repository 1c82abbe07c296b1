-- Seed for the operations suites (scripts/tests/ops-suites.sh), on top of
-- supabase/seed.sql: members of every role, a second and an operator-stopped
-- number, a history of connection events, alerts in every status, alert
-- channels (disabled: the tests notify no one) with a signing secret the
-- backup must leave out, a finished session command, and 20,000 outbound
-- messages with awkward text (tabs, newlines, backslashes, quotes, NUL-free
-- Unicode) so the export and the restore's checksums meet real escaping.
-- Run as postgres; idempotent per fresh test database.

insert into auth.users (id, aud, role, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data)
values
    ('00000000-0000-4000-8000-00000000c002', 'authenticated', 'authenticated', 'operator@wabot.test', now(),
     '{"provider": "email"}', '{"name": "Olu Operator"}'),
    ('00000000-0000-4000-8000-00000000c003', 'authenticated', 'authenticated', 'viewer@wabot.test', now(),
     '{"provider": "email"}', '{"name": "Vi Viewer"}')
on conflict (id) do nothing;

insert into public.members (user_id, role)
values ('00000000-0000-4000-8000-00000000c002', 'operator'),
       ('00000000-0000-4000-8000-00000000c003', 'viewer')
on conflict (user_id) do nothing;

insert into public.numbers (id, phone_number, label, transport, bot_id)
values ('00000000-0000-4000-8000-00000000a002', '+15550100002', E'Ops \u00e9quipe "two"', 'simulator',
        '00000000-0000-4000-8000-00000000b001'),
       ('00000000-0000-4000-8000-00000000a003', '+15550100003', 'Ops stopped by an operator', 'simulator',
        '00000000-0000-4000-8000-00000000b001')
on conflict (id) do nothing;

-- An operator stopped +15550100003: the daemon keeps it stopped (sticky) and
-- the smoke test skips it.
insert into public.number_connection_events (number_id, event, reason, detail)
values ('00000000-0000-4000-8000-00000000a003', 'stopped', 'stopped by an operator', '{"sticky": true}');

insert into public.alert_channels (id, name, kind, target, min_severity, enabled)
values ('00000000-0000-4000-8000-0000000000e1', 'ops pager (test)', 'webhook', 'https://ops.example.test/wabot', 'critical', false),
       ('00000000-0000-4000-8000-0000000000e2', 'ops slack (test)', 'slack', 'https://hooks.example.test/services/T000/B000/XXXX', 'warning', false)
on conflict (id) do nothing;
insert into public.alert_channel_secrets (channel_id, signing_secret)
values ('00000000-0000-4000-8000-0000000000e1', 'ops-seed-signing-secret-never-exported')
on conflict (channel_id) do nothing;

insert into public.alerts (kind, severity, number_id, dedupe_key, status, title, details, summary)
values ('disconnected', 'critical', '00000000-0000-4000-8000-00000000a002', 'ops-seed:old-disconnect', 'resolved',
        'Session disconnected (515)', '{"code": "515"}', E'Stream errors 515 from 09:12 to 09:40;\nrestarted.'),
       ('rate_limited', 'warning', '00000000-0000-4000-8000-00000000a002', 'ops-seed:rate-limit', 'acknowledged',
        'Rate limited by WhatsApp', '{"code": 130429}', null);

insert into public.session_commands (number_id, command, status, completed_at)
values ('00000000-0000-4000-8000-00000000a002', 'restart', 'done', now());

insert into public.conversations (id, number_id, contact_wa_id, contact_name, mode, tags)
values ('00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-00000000a002', '15550199001',
        E'Zo\u00eb "the tester"\tO''Brien', 'human', '{vip,"needs follow-up"}')
on conflict (id) do nothing;

insert into public.messages (number_id, conversation_id, direction, contact_wa_id, body, payload, status, type)
select '00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-0000000000d1', 'outbound', '15550199001',
       format(E'Reply %s:\ttab, newline\nbackslash \\ quote " comma, caf\u00e9 \U0001F680 %s', i, repeat('x', i % 50)),
       jsonb_build_object('i', i, 'text', format(E'line\n%s', i)),
       (array['sent', 'delivered', 'read', 'failed'])[1 + i % 4], 'text'
from generate_series(1, 20000) as i;

-- A picture a member uploaded and sent (issue 13): the message's content
-- names the object in the media bucket, media_objects holds its metadata;
-- the backup carries both and the restore drill checks their references.
insert into public.messages (id, number_id, conversation_id, direction, contact_wa_id, status, content)
values ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-00000000a002',
        '00000000-0000-4000-8000-0000000000d1', 'outbound', '15550199001', 'sent',
        jsonb_build_object('kind', 'image', 'storage_key', 'uploads/00000000-0000-4000-8000-0000000000f1',
                           'mime_type', 'image/png', 'size_bytes', 68, 'caption', E'Today''s menu \u00e9\t"special"',
                           'sha256', repeat('0f', 32)))
on conflict (id) do nothing;
insert into public.media_objects (storage_key, number_id, message_id, kind, mime_type, size_bytes, sha256, filename,
                                  source, created_by)
values ('uploads/00000000-0000-4000-8000-0000000000f1', '00000000-0000-4000-8000-00000000a002',
        '00000000-0000-4000-8000-0000000000e1', 'image', 'image/png', 68, repeat('0f', 32), 'menu.png', 'upload',
        '00000000-0000-4000-8000-00000000c002')
on conflict (storage_key) do nothing;
