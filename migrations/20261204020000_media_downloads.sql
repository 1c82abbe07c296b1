-- =============================================================================
-- Inbound media downloads (issue 13, item 2): the daemon's durable worker.
--
-- An inbound message of a media kind (image, video, audio, voice, document,
-- sticker) whose content has neither a `storage_key` nor a `storage_error`
-- is pending: the daemon holding its number downloads the file from
-- WhatsApp, checks it against WhatsApp's limits, puts it in the media
-- bucket at `inbound/<number_id>/<message_id>` and then, in one
-- transaction, sets content.storage_key/size_bytes/sha256/mime_type and
-- inserts the `media_objects` row. A file that breaks the limits is not
-- stored: content.storage_error says why and the message stays.
--
-- The work is found in `messages` itself (a kill loses nothing), claimed
-- with FOR UPDATE SKIP LOCKED in bounded batches; the attempts, the next
-- try (backoff) and the claim's lease live in private.media_downloads.
-- =============================================================================

create table private.media_downloads (
    message_id uuid primary key references public.messages (id) on delete cascade,
    -- Claims so far, the one in progress included.
    attempts integer not null default 0 check (attempts >= 0),
    -- No claim before this time (the backoff after a transient failure).
    next_attempt_at timestamptz not null default now(),
    -- The daemon working on it, until claimed_until (a lease: a daemon
    -- killed mid-download only delays the message until it lapses).
    claimed_by text,
    claimed_until timestamptz,
    last_error text,
    updated_at timestamptz not null default now()
);

comment on table private.media_downloads is
    'Attempts of the daemon''s inbound media downloads: backoff and the claim lease (issue 13).';

revoke all on private.media_downloads from public, anon, authenticated;
grant select, insert, update, delete on private.media_downloads to service_role;

-- The pending media, oldest first, without scanning every message.
create index messages_media_pending on public.messages (created_at)
    where direction = 'inbound'
      and content->>'kind' in ('image', 'video', 'audio', 'voice', 'document', 'sticker')
      and content->>'storage_key' is null
      and content->>'storage_error' is null;

-- Claims up to `max_rows` pending media of the numbers `instance_id` holds,
-- for `lease_seconds`; returns each with its content, attempt number and
-- payload (where a transport keeps what its download needs beyond the
-- content: WhatsApp Web's CDN keys in payload.web_media).
create function private.claim_media_downloads(instance_id text, max_rows integer, lease_seconds integer)
    returns table (message_id uuid, number_id uuid, content jsonb, attempts integer, payload jsonb)
    language plpgsql set search_path = '' as $$
begin
    if max_rows is null or max_rows < 1 or max_rows > 100 then
        raise exception 'max_rows: must be from 1 to 100, got %', max_rows using errcode = '22023';
    end if;
    if lease_seconds is null or lease_seconds < 1 or lease_seconds > 3600 then
        raise exception 'lease_seconds: must be from 1 to 3600, got %', lease_seconds using errcode = '22023';
    end if;
    return query
    with candidates as (
        select m.id, m.number_id, m.content, m.payload
        from public.messages as m
        join public.numbers as n on n.id = m.number_id
        left join private.media_downloads as d on d.message_id = m.id
        where m.direction = 'inbound'
          and m.content->>'kind' in ('image', 'video', 'audio', 'voice', 'document', 'sticker')
          and m.content->>'storage_key' is null
          and m.content->>'storage_error' is null
          and n.lease_holder = claim_media_downloads.instance_id
          and n.lease_expires_at > now()
          and (d.message_id is null
               or (d.next_attempt_at <= now() and (d.claimed_until is null or d.claimed_until < now())))
        order by m.created_at, m.id
        limit max_rows
        for update of m skip locked
    ), claimed as (
        insert into private.media_downloads as d (message_id, attempts, claimed_by, claimed_until, updated_at)
        select c.id, 1, claim_media_downloads.instance_id, now() + make_interval(secs => lease_seconds), now()
        from candidates as c
        on conflict on constraint media_downloads_pkey do update
            set attempts = d.attempts + 1,
                claimed_by = excluded.claimed_by,
                claimed_until = excluded.claimed_until,
                updated_at = now()
        returning d.message_id, d.attempts
    )
    select c.id, c.number_id, c.content, claimed.attempts, c.payload
    from candidates as c join claimed on claimed.message_id = c.id
    order by c.id;
end;
$$;

revoke all on function private.claim_media_downloads(text, integer, integer) from public;
grant execute on function private.claim_media_downloads(text, integer, integer) to service_role;

-- Records a stored file, in one transaction: the message's content gains
-- storage_key, size_bytes, sha256 and mime_type, the media_objects row is
-- written and the attempts are forgotten. Returns false (and changes
-- nothing) when the message is gone or was stored already.
create function private.complete_media_download(
    message_id uuid, storage_key text, mime_type text, size_bytes bigint, sha256 text)
    returns boolean
    language plpgsql set search_path = '' as $$
declare
    message record;
begin
    select m.id, m.number_id, m.content into message
    from public.messages as m
    where m.id = complete_media_download.message_id
    for update;
    if not found or message.content->>'storage_key' is not null then
        delete from private.media_downloads as d where d.message_id = complete_media_download.message_id;
        return false;
    end if;
    update public.messages as m
    set content = (m.content || jsonb_build_object(
            'storage_key', complete_media_download.storage_key,
            'size_bytes', complete_media_download.size_bytes,
            'sha256', complete_media_download.sha256,
            'mime_type', complete_media_download.mime_type)) - 'storage_error'
    where m.id = complete_media_download.message_id;
    insert into public.media_objects (storage_key, number_id, message_id, kind, mime_type, size_bytes, sha256,
                                      filename, source)
    values (complete_media_download.storage_key, message.number_id, message.id, message.content->>'kind',
            complete_media_download.mime_type, complete_media_download.size_bytes,
            complete_media_download.sha256, left(message.content->>'filename', 255), 'inbound')
    on conflict on constraint media_objects_pkey do update
        set mime_type = excluded.mime_type, size_bytes = excluded.size_bytes, sha256 = excluded.sha256,
            message_id = excluded.message_id, number_id = excluded.number_id;
    delete from private.media_downloads as d where d.message_id = complete_media_download.message_id;
    return true;
end;
$$;

revoke all on function private.complete_media_download(uuid, text, text, bigint, text) from public;
grant execute on function private.complete_media_download(uuid, text, text, bigint, text) to service_role;

-- Records a failed attempt. `give_up` (the file breaks WhatsApp's limits,
-- or the last attempt failed) sets content.storage_error to `error` and
-- the message is no longer pending; otherwise the next attempt waits
-- `retry_in_seconds`.
create function private.fail_media_download(
    message_id uuid, error text, give_up boolean, retry_in_seconds integer)
    returns void
    language plpgsql set search_path = '' as $$
begin
    if give_up then
        update public.messages as m
        set content = m.content || jsonb_build_object('storage_error', left(coalesce(fail_media_download.error, 'unknown error'), 1000))
        where m.id = fail_media_download.message_id and m.content->>'storage_key' is null;
        delete from private.media_downloads as d where d.message_id = fail_media_download.message_id;
    else
        update private.media_downloads as d
        set last_error = left(fail_media_download.error, 1000),
            next_attempt_at = now() + make_interval(secs => greatest(coalesce(retry_in_seconds, 1), 0)),
            claimed_by = null,
            claimed_until = null,
            updated_at = now()
        where d.message_id = fail_media_download.message_id;
    end if;
end;
$$;

revoke all on function private.fail_media_download(uuid, text, boolean, integer) from public;
grant execute on function private.fail_media_download(uuid, text, boolean, integer) to service_role;

-- Puts a claimed download off for `retry_in_seconds` without counting the
-- attempt (the number's session is not connected right now).
create function private.defer_media_download(message_id uuid, error text, retry_in_seconds integer)
    returns void
    language plpgsql set search_path = '' as $$
begin
    update private.media_downloads as d
    set attempts = greatest(d.attempts - 1, 0),
        last_error = left(defer_media_download.error, 1000),
        next_attempt_at = now() + make_interval(secs => greatest(coalesce(retry_in_seconds, 1), 0)),
        claimed_by = null,
        claimed_until = null,
        updated_at = now()
    where d.message_id = defer_media_download.message_id;
end;
$$;

revoke all on function private.defer_media_download(uuid, text, integer) from public;
grant execute on function private.defer_media_download(uuid, text, integer) to service_role;
