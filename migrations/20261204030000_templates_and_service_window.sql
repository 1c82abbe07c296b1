-- =============================================================================
-- Message templates, the 24-hour customer-service window and the media
-- bucket's policies (issue 13).
--
-- - `public.message_templates`: a Cloud API number's templates as the Graph
--   API returns them (`GET /<waba_id>/message_templates`), synced by the
--   admin API (`POST /numbers/{id}/templates/sync`) and kept current by the
--   `message_template_status_update` webhook (the daemon's /cloud/webhook).
-- - `conversations.last_inbound_at`: the contact's last inbound message,
--   kept by a trigger; `private.service_window(conversation)` says whether
--   the window is open and when it closes (24 hours after that message).
-- - A BEFORE INSERT trigger refuses a queued free-form (non-template)
--   outbound message on a Cloud API number outside the window, for any
--   writer, with SQLSTATE WA024, so nothing queues to fail with 131047.
-- - Agents' sends of every kind: authenticated may insert `content` and
--   `context_wa_message_id` (the insert policy is unchanged).
-- - `private.secure_media_bucket`: on hosted Supabase, the media bucket is
--   private and signed-in users get no direct access to its objects.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Agents send every kind
-- -----------------------------------------------------------------------------

grant insert (content, context_wa_message_id) on public.messages to authenticated;

-- -----------------------------------------------------------------------------
-- The 24-hour customer-service window
-- -----------------------------------------------------------------------------

alter table public.conversations
    add column last_inbound_at timestamptz;

comment on column public.conversations.last_inbound_at is
    'When the contact last wrote (the latest inbound message): the Cloud API''s customer-service window closes 24 hours later.';

create index messages_inbound_by_contact on public.messages (number_id, contact_wa_id, created_at desc)
    where direction = 'inbound';

-- The length of WhatsApp's customer-service window.
create function private.service_window_length() returns interval
    language sql immutable set search_path = '' as $$
    select interval '24 hours'
$$;

revoke all on function private.service_window_length() from public;
grant execute on function private.service_window_length() to authenticated, service_role;

-- AFTER INSERT of an inbound message: opens (or renews) the window of the
-- contact's conversation on that number.
create function private.renew_service_window() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    update public.conversations as c
    set last_inbound_at = new.created_at
    where c.number_id = new.number_id
      and c.contact_wa_id = new.contact_wa_id
      and (c.last_inbound_at is null or c.last_inbound_at < new.created_at);
    return null;
end;
$$;

revoke all on function private.renew_service_window() from public;

create trigger messages_renew_service_window
    after insert on public.messages
    for each row when (new.direction = 'inbound')
    execute function private.renew_service_window();

-- BEFORE INSERT of a conversation (route-message creates it after the first
-- inbound message is stored): starts from the contact's last inbound message.
create function private.start_service_window() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    if new.last_inbound_at is null then
        select max(m.created_at) into new.last_inbound_at
        from public.messages as m
        where m.number_id = new.number_id and m.contact_wa_id = new.contact_wa_id
          and m.direction = 'inbound';
    end if;
    return new;
end;
$$;

revoke all on function private.start_service_window() from public;

create trigger conversations_start_service_window
    before insert on public.conversations
    for each row execute function private.start_service_window();

update public.conversations as c
set last_inbound_at = (
    select max(m.created_at) from public.messages as m
    where m.number_id = c.number_id and m.contact_wa_id = c.contact_wa_id and m.direction = 'inbound')
where c.last_inbound_at is null;

-- A conversation's customer-service window: whether it applies (Cloud API
-- numbers only: WhatsApp Web and the simulator have none), whether a
-- free-form message may be sent now, and when the window closes (null when
-- the contact never wrote). Callers see only conversations their role may
-- read (security invoker).
create function private.service_window(
    conversation_id uuid,
    out window_applies boolean,
    out window_open boolean,
    out window_closes_at timestamptz
)
    language sql stable set search_path = '' as $$
    select n.transport = 'cloud',
           n.transport <> 'cloud'
               or coalesce(c.last_inbound_at + private.service_window_length() > now(), false),
           c.last_inbound_at + private.service_window_length()
    from public.conversations as c
    join public.numbers as n on n.id = c.number_id
    where c.id = service_window.conversation_id
$$;

revoke all on function private.service_window(uuid) from public;
grant execute on function private.service_window(uuid) to authenticated, service_role;

-- BEFORE INSERT of a queued outbound message: on a Cloud API number, a
-- free-form message (anything but a template) outside the window is
-- refused, whoever writes it (SQLSTATE WA024, the closing time and the
-- template path in the message). Named to run after
-- messages_settle_content, which fills `content` for old-style writers.
create function private.refuse_send_outside_window() returns trigger
    language plpgsql security definer set search_path = '' as $$
declare
    number_transport text;
    last_inbound timestamptz;
begin
    if new.content->>'kind' = 'template' then
        return new;
    end if;
    select n.transport into number_transport from public.numbers as n where n.id = new.number_id;
    if number_transport is distinct from 'cloud' then
        return new;
    end if;
    select c.last_inbound_at into last_inbound
    from public.conversations as c
    where (new.conversation_id is not null and c.id = new.conversation_id)
       or (new.conversation_id is null and c.number_id = new.number_id
           and c.contact_wa_id = new.contact_wa_id);
    if last_inbound is null then
        select max(m.created_at) into last_inbound
        from public.messages as m
        where m.number_id = new.number_id and m.contact_wa_id = new.contact_wa_id
          and m.direction = 'inbound';
    end if;
    if last_inbound is null then
        raise exception 'the 24-hour customer-service window is closed: the contact never wrote to this number; send a template: content.kind = "template"'
            using errcode = 'WA024',
                  hint = 'WhatsApp refuses free-form messages outside the window (error 131047).';
    end if;
    if last_inbound + private.service_window_length() <= now() then
        raise exception 'the 24-hour customer-service window closed at %; send a template: content.kind = "template"',
            to_char((last_inbound + private.service_window_length()) at time zone 'UTC',
                    'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            using errcode = 'WA024',
                  hint = 'WhatsApp refuses free-form messages outside the window (error 131047).';
    end if;
    return new;
end;
$$;

revoke all on function private.refuse_send_outside_window() from public;

create trigger messages_window_check
    before insert on public.messages
    for each row when (new.direction = 'outbound' and new.status = 'queued')
    execute function private.refuse_send_outside_window();

-- -----------------------------------------------------------------------------
-- Message templates
-- -----------------------------------------------------------------------------

create table public.message_templates (
    id uuid primary key default gen_random_uuid(),
    number_id uuid not null references public.numbers (id) on delete cascade,
    -- The WhatsApp Business Account the template belongs to.
    waba_id text not null check (waba_id ~ '^[0-9]{1,32}$'),
    -- The Graph API's id of the template.
    template_id text not null check (template_id ~ '^[0-9]{1,32}$'),
    name text not null check (name ~ '^[a-z0-9_]+$' and length(name) <= 512),
    language text not null check (language ~ '^[A-Za-z0-9_]{2,15}$'),
    -- APPROVED, PENDING, REJECTED, PAUSED, DISABLED, IN_APPEAL, … as Meta names them.
    status text not null check (status ~ '^[A-Z_]{1,40}$'),
    category text check (category is null or category ~ '^[A-Z_]{1,40}$'),
    -- The components as the Graph API returns them (HEADER, BODY, FOOTER, BUTTONS).
    components jsonb not null default '[]'::jsonb check (jsonb_typeof(components) = 'array'),
    -- What a send must fill, derived from the components at sync:
    -- [{"type": "header"|"body"|"button", "format"?, "sub_type"?, "index"?, "parameters": n}].
    parameter_spec jsonb not null default '[]'::jsonb check (jsonb_typeof(parameter_spec) = 'array'),
    -- The reason of the last status update (REJECTED, PAUSED, …), if Meta gave one.
    status_reason text check (status_reason is null or length(status_reason) <= 1000),
    synced_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (number_id, name, language)
);

create index message_templates_by_template_id on public.message_templates (template_id);

comment on table public.message_templates is
    'A Cloud API number''s message templates, synced from the Graph API and kept current by the message_template_status_update webhook.';

create trigger message_templates_set_updated_at
    before update on public.message_templates
    for each row execute function private.set_updated_at();

alter table public.message_templates enable row level security;

revoke all on public.message_templates from public, anon, authenticated, service_role;
grant select, insert, update, delete on public.message_templates to service_role;
grant select on public.message_templates to authenticated;

create policy "Members can read message templates" on public.message_templates
    for select to authenticated
    using ((select private.has_role('viewer')));

-- Applies a `message_template_status_update` webhook (Meta's payload:
-- event, message_template_id, message_template_name,
-- message_template_language, reason): every number's row of that template
-- gets the new status. Returns how many rows changed (0 for a template not
-- synced yet: the next sync brings it).
create function private.apply_template_status_update(
    template_id text, new_status text, reason text
) returns integer
    language plpgsql security definer set search_path = '' as $$
declare
    changed integer;
begin
    if new_status is null or new_status !~ '^[A-Z_]{1,40}$' then
        raise exception 'invalid template status %', coalesce(new_status, 'null')
            using errcode = '22023';
    end if;
    update public.message_templates as t
    set status = new_status,
        status_reason = nullif(left(reason, 1000), 'NONE')
    where t.template_id = apply_template_status_update.template_id;
    get diagnostics changed = row_count;
    return changed;
end;
$$;

revoke all on function private.apply_template_status_update(text, text, text) from public;
grant execute on function private.apply_template_status_update(text, text, text) to service_role;

-- -----------------------------------------------------------------------------
-- The media bucket on hosted Supabase Storage
-- -----------------------------------------------------------------------------

-- Makes `bucket` private and keeps signed-in users and anon out of its
-- objects: a restrictive policy on storage.objects, so no permissive policy
-- added later can open it. The functions and the daemon reach it through
-- Storage's S3 endpoint with S3 access keys (which bypass these policies);
-- members read media only through the admin API's proxy. Does nothing
-- where there is no storage schema (the local stack, which serves the
-- bucket from its own S3 server).
create function private.secure_media_bucket(bucket text) returns boolean
    language plpgsql set search_path = '' as $$
begin
    if to_regclass('storage.buckets') is null or to_regclass('storage.objects') is null then
        return false;
    end if;
    -- Dynamic SQL: the storage schema exists on hosted projects only.
    execute format('insert into %I.buckets (id, name, public) values ($1, $1, false)
                    on conflict (id) do update set public = false', 'storage') using bucket;
    execute format('drop policy if exists %I on %I.objects', 'wabot media is private: ' || bucket, 'storage');
    execute format(
        'create policy %I on %I.objects as restrictive for all to anon, authenticated
             using (bucket_id <> %L) with check (bucket_id <> %L)',
        'wabot media is private: ' || bucket, 'storage', bucket, bucket);
    return true;
end;
$$;

revoke all on function private.secure_media_bucket(text) from public;

select private.secure_media_bucket('wabot-media');
