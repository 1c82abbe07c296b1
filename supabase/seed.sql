-- Demo data for the local stack: one bot with the demo definition published,
-- and one simulator number assigned to it. Idempotent. Run by scripts/dev.sh:
--   psql -v definition="$(cat crates/routing/fixtures/demo-bot.json)" -f supabase/seed.sql
--
-- Published versions are immutable, so a changed demo definition is published
-- as the bot's next version (which archives the previous one) instead of
-- editing version 1.

insert into public.bots (id, name)
values ('00000000-0000-4000-8000-00000000b001', 'Demo bot')
on conflict (id) do update set name = excluded.name;

insert into public.bot_versions (id, bot_id, version, definition, status, published_at)
values ('00000000-0000-4000-8000-00000000b101', '00000000-0000-4000-8000-00000000b001', 1,
        :'definition'::jsonb, 'published', now())
on conflict (id) do nothing;

insert into public.bot_versions (bot_id, version, definition, status)
select '00000000-0000-4000-8000-00000000b001', max(v.version) + 1, :'definition'::jsonb, 'published'
from public.bot_versions as v
where v.bot_id = '00000000-0000-4000-8000-00000000b001'
having not exists (
    select 1 from public.bot_versions as p
    where p.bot_id = '00000000-0000-4000-8000-00000000b001' and p.status = 'published'
      and p.definition = :'definition'::jsonb
);

insert into public.numbers (id, phone_number, label, transport, bot_id)
values ('00000000-0000-4000-8000-00000000a001', '+15550100001', 'Demo number', 'simulator',
        '00000000-0000-4000-8000-00000000b001')
on conflict (id) do update set bot_id = excluded.bot_id, transport = excluded.transport;

-- The admin UI's local owner, for signing in on the local stack only (the
-- gateway's supabase/local/auth.ts checks auth.users.encrypted_password with
-- pgcrypto's crypt()): admin@wabot.local, password wabot-local-admin. Never
-- run this against a hosted project: its users come from Supabase Auth
-- (docs/runbook.md, admin-ui/README.md).
insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at,
                        raw_app_meta_data, raw_user_meta_data)
values ('00000000-0000-4000-8000-00000000c001', 'authenticated', 'authenticated', 'admin@wabot.local',
        extensions.crypt('wabot-local-admin', extensions.gen_salt('bf')), now(),
        '{"provider": "email", "providers": ["email"]}', '{}')
on conflict (id) do nothing;

insert into public.members (user_id, role)
values ('00000000-0000-4000-8000-00000000c001', 'owner')
on conflict (user_id) do nothing;
