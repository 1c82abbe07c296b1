-- =============================================================================
-- Bot media by URL, kept for WhatsApp Web (issue 13).
--
-- A WhatsApp Web session uploads a file's bytes itself; a bot's media node
-- may name its file by URL. The first time a published version sends a URL
-- on a WhatsApp Web number, route-message fetches it through the
-- outbound-URL guard, checks it against the kind's limits, stores it in the
-- media bucket at `bots/<bot id>/<sha256>` (a `media_objects` row, source
-- `import`) and records it here, so every later send of that version reads
-- the same bytes from the bucket. (The Cloud API is given the URL itself,
-- which Meta fetches.) Versions are immutable, so the copy is the version's.
-- =============================================================================

create table public.bot_version_media (
    bot_version_id uuid not null references public.bot_versions (id) on delete cascade,
    url text not null check (length(url) between 8 and 2048),
    storage_key text not null references public.media_objects (storage_key) on delete cascade,
    imported_at timestamptz not null default now(),
    primary key (bot_version_id, url)
);

comment on table public.bot_version_media is
    'The bucket copies of bot media named by URL (fetched once per version, for WhatsApp Web).';

alter table public.bot_version_media enable row level security;

revoke all on public.bot_version_media from public, anon, authenticated, service_role;
grant select, insert, update, delete on public.bot_version_media to service_role;
grant select on public.bot_version_media to authenticated;

create policy "Members can read imported bot media" on public.bot_version_media
    for select to authenticated
    using ((select private.has_role('viewer')));
