-- =============================================================================
-- API keys for the messaging API (`messages-api`, issue 14).
--
-- A key is `wbk_<8 hex>_<48 hex>`: the first part (`wbk_<8 hex>`) is its
-- public prefix, shown in lists; the whole key is shown once, when it is
-- created, and stored only as its SHA-256 (hex). Keys are named, scoped,
-- optionally limited to some numbers, optionally expiring, revocable, and
-- rate-limited per minute. Admins manage them through the admin API, whose
-- calls land in the security-definer functions below; every change is in
-- the audit log (`api_keys.insert` / `api_keys.update`, the hash redacted).
--
-- The messaging API runs as the service role after it has authenticated the
-- key with `private.api_key_request`, which also counts the request against
-- the key's rate limit in the same statement. Idempotency keys of sends are
-- kept 24 hours in `private.api_idempotency_keys`.
-- =============================================================================

create table public.api_keys (
    id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 200),
    prefix text not null unique check (prefix ~ '^wbk_[0-9a-f]{8}$'),
    -- SHA-256 of the whole key, hex. No client role can read it.
    key_hash text not null unique check (key_hash ~ '^[0-9a-f]{64}$'),
    scopes text[] not null check (
        cardinality(scopes) between 1 and 5
        and scopes <@ array['messages:send', 'messages:read', 'contacts:read', 'webhooks:manage',
                            'conversations:override_handoff']::text[]),
    -- The numbers the key may act on; null for every number.
    number_ids uuid[] check (number_ids is null or cardinality(number_ids) between 1 and 1000),
    rate_limit_per_minute integer not null default 600 check (rate_limit_per_minute between 1 and 100000),
    expires_at timestamptz,
    revoked_at timestamptz,
    revoked_by uuid references auth.users (id) on delete set null,
    created_by uuid references auth.users (id) on delete set null,
    created_at timestamptz not null default now(),
    -- When the key last authenticated a request (kept to within 10 seconds).
    last_used_at timestamptz
);

comment on table public.api_keys is
    'API keys of the messaging API: only the SHA-256 of a key is stored; the key itself is shown once.';

create index api_keys_by_created on public.api_keys (created_at desc, id desc);

alter table public.api_keys enable row level security;

revoke all on public.api_keys from public, anon, authenticated, service_role;
grant select, insert, update, delete on public.api_keys to service_role;
-- Every column but the hash.
grant select (id, name, prefix, scopes, number_ids, rate_limit_per_minute, expires_at, revoked_at,
              revoked_by, created_by, created_at, last_used_at)
    on public.api_keys to authenticated;

create policy "Admins can read API keys" on public.api_keys
    for select to authenticated
    using ((select private.has_role('admin')));

-- Every change is audited; the hash is redacted, last_used_at ignored.
create trigger api_keys_audit
    after insert or update or delete on public.api_keys
    for each row execute function private.audit_row_change('redact:key_hash', 'ignore:last_used_at');

-- A revoked key stays revoked.
create function private.keep_api_key_revoked() returns trigger
    language plpgsql set search_path = '' as $$
begin
    if old.revoked_at is not null and new.revoked_at is distinct from old.revoked_at then
        raise exception 'API key % is revoked; a revoked key cannot be restored', old.prefix
            using errcode = 'check_violation';
    end if;
    if new.key_hash is distinct from old.key_hash or new.prefix is distinct from old.prefix then
        raise exception 'an API key''s secret cannot change; create a new key'
            using errcode = 'check_violation';
    end if;
    return new;
end;
$$;

revoke all on function private.keep_api_key_revoked() from public;

create trigger api_keys_keep_revoked
    before update on public.api_keys
    for each row execute function private.keep_api_key_revoked();

-- The messages an API key sent.
alter table public.messages
    add column api_key_id uuid references public.api_keys (id) on delete set null;

create index messages_by_api_key on public.messages (api_key_id, created_at) where api_key_id is not null;

-- -----------------------------------------------------------------------------
-- Creating and revoking (admins, through the admin API)
-- -----------------------------------------------------------------------------

-- Creates a key from its prefix and hash (the admin API makes the key and
-- shows it once). Admins only; every named number must exist.
create function private.create_api_key(
    key_name text, key_prefix text, key_sha256 text, key_scopes text[], key_number_ids uuid[],
    key_rate_limit integer, key_expires_at timestamptz
) returns uuid
    language plpgsql security definer set search_path = '' as $$
declare
    missing uuid;
    created uuid;
begin
    if not private.has_role('admin') then
        raise exception 'only admins can create API keys' using errcode = 'insufficient_privilege';
    end if;
    if key_expires_at is not null and key_expires_at <= now() then
        raise exception 'expires_at must be in the future' using errcode = 'invalid_parameter_value';
    end if;
    select n into missing from unnest(coalesce(key_number_ids, '{}'::uuid[])) as n
    where not exists (select 1 from public.numbers as x where x.id = n)
    limit 1;
    if missing is not null then
        raise exception 'number % does not exist', missing using errcode = 'foreign_key_violation';
    end if;
    insert into public.api_keys (name, prefix, key_hash, scopes, number_ids, rate_limit_per_minute,
                                 expires_at, created_by)
    values (key_name, key_prefix, key_sha256, (select array_agg(distinct s order by s) from unnest(key_scopes) as s),
            (select array_agg(distinct n order by n) from unnest(key_number_ids) as n),
            coalesce(key_rate_limit, 600), key_expires_at, auth.uid())
    returning id into created;
    return created;
end;
$$;

revoke all on function private.create_api_key(text, text, text, text[], uuid[], integer, timestamptz) from public;
grant execute on function private.create_api_key(text, text, text, text[], uuid[], integer, timestamptz)
    to authenticated, service_role;

-- Revokes a key (admins only). Returns false when there is no such key,
-- true when it is (now or already) revoked.
create function private.revoke_api_key(key_id uuid) returns boolean
    language plpgsql security definer set search_path = '' as $$
begin
    if not private.has_role('admin') then
        raise exception 'only admins can revoke API keys' using errcode = 'insufficient_privilege';
    end if;
    update public.api_keys as k set revoked_at = now(), revoked_by = auth.uid()
    where k.id = key_id and k.revoked_at is null;
    return exists (select 1 from public.api_keys as k where k.id = key_id);
end;
$$;

revoke all on function private.revoke_api_key(uuid) from public;
grant execute on function private.revoke_api_key(uuid) to authenticated, service_role;

-- -----------------------------------------------------------------------------
-- Authenticating a request and counting it against the rate limit
-- -----------------------------------------------------------------------------

-- Requests counted per key and minute (a fixed window).
create table private.api_rate_windows (
    api_key_id uuid not null references public.api_keys (id) on delete cascade,
    window_start timestamptz not null,
    requests integer not null,
    primary key (api_key_id, window_start)
);

revoke all on private.api_rate_windows from public, anon, authenticated;
grant select, insert, update, delete on private.api_rate_windows to service_role;

-- Authenticates a request by the key's hash and, when the key is active,
-- counts `cost` requests (a bulk send counts each message; 0 counts
-- nothing) against its
-- limit in the current minute. `state` is `active`, `revoked`, `expired` or
-- `unknown`; `retry_after` is 0 when the request may go on, else the
-- seconds until the window resets (the request is not counted then).
create function private.api_key_request(key_sha256 text, cost integer default 1)
    returns table (id uuid, name text, prefix text, scopes text[], number_ids uuid[],
                   rate_limit_per_minute integer, state text, retry_after integer)
    language plpgsql security definer set search_path = '' as $$
declare
    k public.api_keys;
    window_at timestamptz := date_trunc('minute', now());
    counted integer;
begin
    if cost is null or cost < 0 then
        raise exception 'cost must be at least 0' using errcode = 'invalid_parameter_value';
    end if;
    select * into k from public.api_keys as x where x.key_hash = key_sha256;
    if k.id is null then
        return query select null::uuid, null::text, null::text, null::text[], null::uuid[], null::integer,
                            'unknown'::text, 0;
        return;
    end if;
    if k.revoked_at is not null or (k.expires_at is not null and k.expires_at <= now()) then
        return query select k.id, k.name, k.prefix, k.scopes, k.number_ids,
                            k.rate_limit_per_minute,
                            case when k.revoked_at is not null then 'revoked' else 'expired' end, 0;
        return;
    end if;
    if cost = 0 then
        -- Authentication only; the request is counted later (a bulk send,
        -- once its size is known).
        counted := 0;
    elsif cost > k.rate_limit_per_minute then
        counted := null;
    else
    insert into private.api_rate_windows as w (api_key_id, window_start, requests)
    values (k.id, window_at, cost)
    on conflict (api_key_id, window_start) do update
        set requests = w.requests + cost
        where w.requests + cost <= k.rate_limit_per_minute
    returning w.requests into counted;
    end if;
    if counted is null then
        return query select k.id, k.name, k.prefix, k.scopes, k.number_ids,
                            k.rate_limit_per_minute, 'active'::text,
                            greatest(1, ceil(extract(epoch from (window_at + interval '1 minute' - now())))::integer);
        return;
    end if;
    if counted = cost and cost > 0 then
        -- The first request of a new window: drop the key's older windows.
        delete from private.api_rate_windows as w
        where w.api_key_id = k.id and w.window_start < window_at;
    end if;
    if k.last_used_at is null or k.last_used_at < now() - interval '10 seconds' then
        update public.api_keys as x set last_used_at = now() where x.id = k.id;
    end if;
    return query select k.id, k.name, k.prefix, k.scopes, k.number_ids,
                        k.rate_limit_per_minute, 'active'::text, 0;
end;
$$;

revoke all on function private.api_key_request(text, integer) from public;
grant execute on function private.api_key_request(text, integer) to service_role;

-- -----------------------------------------------------------------------------
-- Idempotency keys of sends (24 hours)
-- -----------------------------------------------------------------------------

create table private.api_idempotency_keys (
    api_key_id uuid not null references public.api_keys (id) on delete cascade,
    idempotency_key text not null check (length(idempotency_key) between 1 and 255),
    -- SHA-256 of the request (method, path and body), hex: the same key
    -- with another request is refused.
    request_sha256 text not null,
    response_status integer,
    response jsonb,
    created_at timestamptz not null default now(),
    primary key (api_key_id, idempotency_key)
);

create index api_idempotency_keys_by_age on private.api_idempotency_keys (created_at);

revoke all on private.api_idempotency_keys from public, anon, authenticated;
grant select, insert, update, delete on private.api_idempotency_keys to service_role;

-- Removes idempotency keys older than 24 hours (pg_cron, hourly).
create function private.expire_api_idempotency_keys() returns integer
    language plpgsql security definer set search_path = '' as $$
declare
    removed integer;
begin
    delete from private.api_idempotency_keys where created_at < now() - interval '24 hours';
    get diagnostics removed = row_count;
    delete from private.api_rate_windows where window_start < now() - interval '1 hour';
    return removed;
end;
$$;

revoke all on function private.expire_api_idempotency_keys() from public;
grant execute on function private.expire_api_idempotency_keys() to service_role;

select cron.schedule('api-idempotency-expiry', '23 * * * *', 'select private.expire_api_idempotency_keys()');
