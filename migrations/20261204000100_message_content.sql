-- =============================================================================
-- The one message model in Postgres: messages.content (issue 13).
--
-- `content` holds what the message says as the model's JSON
-- (crates/message-model, `Content`, tagged by `kind`): text, image, video,
-- audio, voice, document, sticker, location, contacts, reaction,
-- button_reply, list_reply, buttons, list, template, system, unknown.
-- `private.message_content_problem` checks its shape (the same rules as the
-- Rust types' required fields) and names the JSON path at fault; the
-- limits WhatsApp sets (lengths, counts, MIME types) are checked by the
-- model's `check_outbound` before anything is queued.
--
-- Writers that still set only type/body/payload get content derived from
-- them (a trigger), so nothing is stored without it; `type` follows
-- `content.kind` and `body` keeps the words a person reads (the summary),
-- for the inbox preview and search.
--
-- `context_wa_message_id` is the WhatsApp id of the message a message
-- quotes (a reply to an earlier message), both ways.
-- =============================================================================

alter table public.messages
    drop constraint if exists messages_type_check;

alter table public.messages
    add constraint messages_type_check
        check (type in ('text', 'media', 'image', 'audio', 'voice', 'video', 'document', 'sticker',
                        'location', 'contacts', 'buttons', 'list', 'template', 'reaction',
                        'interactive', 'button_reply', 'list_reply', 'system', 'unknown',
                        'unsupported')),
    add column content jsonb,
    add column context_wa_message_id text
        check (context_wa_message_id is null or length(context_wa_message_id) between 1 and 256);

comment on column public.messages.content is
    'What the message says, as the message model''s JSON (crates/message-model): {"kind": …, …}.';
comment on column public.messages.context_wa_message_id is
    'The WhatsApp id of the message this one quotes (a reply to an earlier message).';

-- Returns null when `content` has the model's shape, else what is wrong,
-- starting with its JSON path (`content.buttons[1].title: …`).
create function private.message_content_problem(content jsonb) returns text
    language plpgsql immutable set search_path = '' as $$
declare
    kind text;
    item jsonb;
    i integer;
    field text;
begin
    if content is null or jsonb_typeof(content) <> 'object' then
        return 'content: must be a JSON object with a "kind"';
    end if;
    kind := content->>'kind';
    if kind is null then
        return 'content.kind: missing';
    end if;
    case kind
        when 'text' then
            if jsonb_typeof(content->'text') is distinct from 'string' then
                return 'content.text: must be a string';
            end if;
        when 'image', 'video', 'audio', 'voice', 'document', 'sticker' then
            foreach field in array array['url', 'media_id', 'storage_key', 'mime_type', 'sha256',
                                         'caption', 'filename', 'storage_error'] loop
                if content ? field and jsonb_typeof(content->field) not in ('string', 'null') then
                    return format('content.%s: must be a string', field);
                end if;
            end loop;
            if content ? 'size_bytes' and jsonb_typeof(content->'size_bytes') not in ('number', 'null') then
                return 'content.size_bytes: must be a number';
            end if;
        when 'location' then
            if jsonb_typeof(content->'latitude') is distinct from 'number'
               or (content->>'latitude')::float8 not between -90 and 90 then
                return 'content.latitude: must be a number from -90 to 90';
            end if;
            if jsonb_typeof(content->'longitude') is distinct from 'number'
               or (content->>'longitude')::float8 not between -180 and 180 then
                return 'content.longitude: must be a number from -180 to 180';
            end if;
        when 'contacts' then
            if jsonb_typeof(content->'contacts') is distinct from 'array' then
                return 'content.contacts: must be an array';
            end if;
            i := 0;
            for item in select value from jsonb_array_elements(content->'contacts') loop
                if jsonb_typeof(item #> '{name,formatted_name}') is distinct from 'string' then
                    return format('content.contacts[%s].name.formatted_name: must be a string', i);
                end if;
                i := i + 1;
            end loop;
        when 'reaction' then
            if jsonb_typeof(content->'message_id') is distinct from 'string' then
                return 'content.message_id: must be a string';
            end if;
            if jsonb_typeof(content->'emoji') is distinct from 'string' then
                return 'content.emoji: must be a string';
            end if;
        when 'button_reply', 'list_reply' then
            foreach field in array array['id', 'title'] loop
                if jsonb_typeof(content->field) is distinct from 'string' then
                    return format('content.%s: must be a string', field);
                end if;
            end loop;
        when 'buttons' then
            if jsonb_typeof(content->'text') is distinct from 'string' then
                return 'content.text: must be a string';
            end if;
            if jsonb_typeof(content->'buttons') is distinct from 'array' then
                return 'content.buttons: must be an array';
            end if;
            i := 0;
            for item in select value from jsonb_array_elements(content->'buttons') loop
                foreach field in array array['id', 'title'] loop
                    if jsonb_typeof(item->field) is distinct from 'string' then
                        return format('content.buttons[%s].%s: must be a string', i, field);
                    end if;
                end loop;
                i := i + 1;
            end loop;
        when 'list' then
            foreach field in array array['text', 'button'] loop
                if jsonb_typeof(content->field) is distinct from 'string' then
                    return format('content.%s: must be a string', field);
                end if;
            end loop;
            if jsonb_typeof(content->'sections') is distinct from 'array' then
                return 'content.sections: must be an array';
            end if;
            i := 0;
            for item in select value from jsonb_array_elements(content->'sections') loop
                if jsonb_typeof(item->'rows') is distinct from 'array' then
                    return format('content.sections[%s].rows: must be an array', i);
                end if;
                for j in 0 .. jsonb_array_length(item->'rows') - 1 loop
                    foreach field in array array['id', 'title'] loop
                        if jsonb_typeof(item->'rows'->j->field) is distinct from 'string' then
                            return format('content.sections[%s].rows[%s].%s: must be a string', i, j, field);
                        end if;
                    end loop;
                end loop;
                i := i + 1;
            end loop;
        when 'template' then
            foreach field in array array['name', 'language'] loop
                if jsonb_typeof(content->field) is distinct from 'string' then
                    return format('content.%s: must be a string', field);
                end if;
            end loop;
            if content ? 'components' and jsonb_typeof(content->'components') <> 'array' then
                return 'content.components: must be an array';
            end if;
        when 'system' then
            if jsonb_typeof(content->'system_type') is distinct from 'string' then
                return 'content.system_type: must be a string';
            end if;
        when 'unknown' then
            if jsonb_typeof(content->'original_type') is distinct from 'string' then
                return 'content.original_type: must be a string';
            end if;
        else
            return format('content.kind: unknown kind %s', to_jsonb(kind));
    end case;
    return null;
end;
$$;

revoke all on function private.message_content_problem(jsonb) from public;
grant execute on function private.message_content_problem(jsonb) to service_role, authenticated;

-- The content a row written the old way (type, body, payload) means. The
-- outbound payloads route-message wrote before the model (`kind` media,
-- buttons, list) and the Cloud webhook's first typed payloads are read;
-- anything else becomes `unknown`, its body and payload kept.
create function private.legacy_message_content(type text, body text, payload jsonb) returns jsonb
    language plpgsql immutable set search_path = '' as $$
declare
    media jsonb;
    mime text;
    media_kind text;
begin
    payload := coalesce(payload, '{}'::jsonb);
    if type = 'text' then
        return jsonb_build_object('kind', 'text', 'text', coalesce(body, ''));
    end if;
    -- An outbound reply route-message queued before the model.
    if payload->>'kind' in ('buttons', 'list') then
        return payload;
    end if;
    if payload->>'kind' = 'media' then
        media := coalesce(payload->'media', '{}'::jsonb);
        mime := lower(split_part(coalesce(media->>'mime_type', ''), ';', 1));
        media_kind := case
            when mime in ('image/jpeg', 'image/png') then 'image'
            when mime = 'image/webp' then 'sticker'
            when mime like 'video/%' then 'video'
            when mime like 'audio/%' then 'audio'
            else 'document' end;
        return jsonb_strip_nulls(jsonb_build_object(
            'kind', media_kind, 'url', media->'url', 'media_id', media->'media_id',
            'mime_type', media->'mime_type', 'filename', media->'filename',
            'caption', payload->'caption'));
    end if;
    -- Inbound rows the Cloud webhook typed before the model.
    if payload ? 'reply_id' and jsonb_typeof(payload->'reply_id') = 'string' then
        return jsonb_strip_nulls(jsonb_build_object(
            'kind', case when payload->>'interactive_type' = 'list_reply' then 'list_reply' else 'button_reply' end,
            'id', payload->'reply_id', 'title', coalesce(payload->'reply_title', to_jsonb(coalesce(body, ''))),
            'description', payload->'reply_description'));
    end if;
    if type in ('image', 'video', 'audio', 'document', 'sticker') and jsonb_typeof(payload->'media') = 'object' then
        media := payload->'media';
        return jsonb_strip_nulls(jsonb_build_object(
            'kind', case when type = 'audio' and (media->>'voice')::boolean is true then 'voice' else type end,
            'media_id', media->'media_id', 'mime_type', media->'mime_type', 'sha256', media->'sha256',
            'filename', media->'filename', 'caption', nullif(coalesce(body, ''), '')));
    end if;
    if type = 'location' and jsonb_typeof(payload #> '{location,latitude}') = 'number'
       and jsonb_typeof(payload #> '{location,longitude}') = 'number' then
        return jsonb_strip_nulls(jsonb_build_object(
            'kind', 'location', 'latitude', payload #> '{location,latitude}',
            'longitude', payload #> '{location,longitude}', 'name', payload #> '{location,name}',
            'address', payload #> '{location,address}'));
    end if;
    if type = 'reaction' and jsonb_typeof(payload #> '{reaction,message_id}') = 'string' then
        return jsonb_build_object('kind', 'reaction', 'message_id', payload #> '{reaction,message_id}',
                                  'emoji', coalesce(payload #> '{reaction,emoji}', '""'::jsonb));
    end if;
    if type = 'system' then
        return jsonb_strip_nulls(jsonb_build_object(
            'kind', 'system', 'system_type', coalesce(payload #>> '{system,type}', 'unknown'),
            'text', coalesce(payload #>> '{system,body}', body, ''),
            'new_wa_id', payload #> '{system,wa_id}'));
    end if;
    return jsonb_build_object('kind', 'unknown', 'original_type', coalesce(type, ''),
                              'reason', 'stored before the message model; body and payload kept');
end;
$$;

revoke all on function private.legacy_message_content(text, text, jsonb) from public;
-- The trigger below runs as the writer (the daemon and functions as service_role,
-- members replying through the admin API as authenticated).
grant execute on function private.legacy_message_content(text, text, jsonb) to service_role, authenticated;

-- BEFORE INSERT OR UPDATE OF content: fills content for old-style writers,
-- refuses content of the wrong shape (SQLSTATE 22023, the path in the
-- message), and keeps type and body in step with it.
create function private.settle_message_content() returns trigger
    language plpgsql set search_path = '' as $$
declare
    problem text;
begin
    if new.content is null then
        new.content := private.legacy_message_content(new.type, new.body, new.payload);
        -- A row the model cannot read keeps its own type (which the type
        -- check still judges) beside the `unknown` content.
        if new.content->>'kind' <> 'unknown' then
            new.type := new.content->>'kind';
        end if;
    else
        problem := private.message_content_problem(new.content);
        if problem is not null then
            raise exception 'invalid message content: %', problem using errcode = '22023';
        end if;
        new.type := new.content->>'kind';
    end if;
    if coalesce(new.body, '') = '' then
        new.body := coalesce(case new.content->>'kind'
            when 'text' then new.content->>'text'
            when 'buttons' then new.content->>'text'
            when 'list' then new.content->>'text'
            when 'button_reply' then new.content->>'title'
            when 'list_reply' then new.content->>'title'
            when 'reaction' then new.content->>'emoji'
            when 'location' then concat_ws(', ', new.content->>'name', new.content->>'address')
            when 'template' then new.content->>'name'
            when 'system' then new.content->>'text'
            else coalesce(new.content->>'caption', new.content->>'filename') end, '');
    end if;
    return new;
end;
$$;

revoke all on function private.settle_message_content() from public;

create trigger messages_settle_content
    before insert or update of content on public.messages
    for each row execute function private.settle_message_content();

-- Existing rows get the content they mean.
update public.messages
set content = private.legacy_message_content(type, body, payload)
where content is null;

alter table public.messages
    alter column content set not null;

-- -----------------------------------------------------------------------------
-- Media objects: the files kept in the private media bucket
-- -----------------------------------------------------------------------------
--
-- One row per object in the bucket (`WABOT_MEDIA_S3_BUCKET`, hosted:
-- Supabase Storage through its S3 endpoint): inbound media the daemon
-- downloaded, files members uploaded to send, and media a published bot
-- version imported from a URL. The bytes live in the bucket; this is their
-- metadata, covered by the backup (docs/runbook.md says how the objects
-- themselves are backed up). Members never get the bucket: they read a file
-- through the admin API (an authenticated proxy), as members of the team.

create table public.media_objects (
    storage_key text primary key check (length(storage_key) between 1 and 1024),
    number_id uuid references public.numbers (id) on delete set null,
    message_id uuid references public.messages (id) on delete set null,
    kind text not null check (kind in ('image', 'video', 'audio', 'voice', 'document', 'sticker')),
    mime_type text not null check (length(mime_type) between 3 and 255),
    size_bytes bigint not null check (size_bytes >= 0),
    -- Hex SHA-256 of the stored bytes.
    sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    filename text check (filename is null or length(filename) <= 255),
    source text not null check (source in ('inbound', 'upload', 'import')),
    created_by uuid references auth.users (id) on delete set null,
    created_at timestamptz not null default now()
);

create index media_objects_by_message on public.media_objects (message_id) where message_id is not null;

comment on table public.media_objects is
    'Files in the private media bucket (inbound media, uploads, imports): metadata only, the bytes are in the bucket.';

alter table public.media_objects enable row level security;

revoke all on public.media_objects from public, anon, authenticated, service_role;
grant select, insert, update, delete on public.media_objects to service_role;
grant select on public.media_objects to authenticated;

create policy "Members can read media metadata" on public.media_objects
    for select to authenticated
    using ((select private.has_role('viewer')));
