-- =============================================================================
-- What the admin API needs beyond the tables it reads and writes as the
-- caller: archiving bots, and the outbox's dead letters.
--
-- Bots are archived rather than deleted (their versions, conversations and
-- audit trail stay); an archived bot keeps serving the numbers still
-- assigned to it, which the API refuses to leave behind.
--
-- The outbox itself stays service-role only (no signed-in user reads it).
-- Operators see its dead letters through `private.outbox_dead_letters`, and
-- admins send one back for another round of attempts with
-- `private.retry_outbox_dead_letter`; both are security-definer functions
-- that check the caller's role first, and the retry is audited.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Archived bots
-- -----------------------------------------------------------------------------

alter table public.bots
    add column archived_at timestamptz;

grant update (archived_at) on public.bots to authenticated;

-- -----------------------------------------------------------------------------
-- Dead letters
-- -----------------------------------------------------------------------------

-- The dead-lettered outbox rows, newest first, `page_size` at a time below
-- `before_id` (a keyset cursor), optionally of one topic. Operators and up.
create function private.outbox_dead_letters(
    filter_topic text default null, page_size integer default 50, before_id bigint default null
) returns table (
    id bigint, topic text, target text, payload jsonb, attempts integer, last_error text,
    created_at timestamptz, dead_at timestamptz
)
    language plpgsql stable security definer set search_path = '' as $$
begin
    if not private.has_role('operator') then
        raise exception 'only operators and above may read dead letters'
            using errcode = 'insufficient_privilege';
    end if;
    return query
    select o.id, o.topic, coalesce(o.target, o.topic), o.payload, o.attempts, o.last_error,
           o.created_at, o.dead_at
    from public.outbox as o
    where o.dead_at is not null
      and (filter_topic is null or o.topic = filter_topic)
      and (before_id is null or o.id < before_id)
    order by o.id desc
    limit least(greatest(coalesce(page_size, 50), 1), 500);
end;
$$;

-- Sends a dead letter back to the relay: clears `dead_at`, resets the
-- attempts and makes it due now. Admins and up; audited as
-- `outbox.retried`. Returns false when the row is not dead (or unknown).
create function private.retry_outbox_dead_letter(outbox_id bigint) returns boolean
    language plpgsql security definer set search_path = '' as $$
declare
    retried_topic text;
    previous_error text;
begin
    if not private.has_role('admin') then
        raise exception 'only admins and owners may retry dead letters'
            using errcode = 'insufficient_privilege';
    end if;
    select o.topic, o.last_error into retried_topic, previous_error
    from public.outbox as o
    where o.id = outbox_id and o.dead_at is not null
    for update;
    if not found then
        return false;
    end if;
    update public.outbox as o
    set dead_at = null, attempts = 0, next_attempt_at = now()
    where o.id = outbox_id;
    perform private.write_audit('outbox.retried', 'outbox', outbox_id::text,
        jsonb_build_object('topic', retried_topic, 'last_error', previous_error));
    return true;
end;
$$;

revoke all on function private.outbox_dead_letters(text, integer, bigint) from public;
revoke all on function private.retry_outbox_dead_letter(bigint) from public;
grant execute on function private.outbox_dead_letters(text, integer, bigint) to authenticated, service_role;
grant execute on function private.retry_outbox_dead_letter(bigint) to authenticated, service_role;
