-- =============================================================================
-- What the health-check function reads for a sweep of every number.
--
-- The Wasm health evaluator judges a number by how long its session has been
-- in its state, so `numbers.session_status_changed_at` records when
-- `session_status` last changed (a trigger stamps it). The sweep also reads
-- each number's recent messages (last inbound, last successful send, recent
-- failed sends); an index on `messages.created_at` keeps that a range scan,
-- and the admin API's dashboard uses it for its per-hour volumes.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- When the session entered its state
-- -----------------------------------------------------------------------------

alter table public.numbers
    add column session_status_changed_at timestamptz not null default now();

update public.numbers set session_status_changed_at = updated_at;

-- BEFORE UPDATE OF session_status: stamps the time the status changed.
create function private.stamp_session_status_change() returns trigger
    language plpgsql set search_path = '' as $$
begin
    if new.session_status is distinct from old.session_status then
        new.session_status_changed_at := now();
    end if;
    return new;
end;
$$;

revoke all on function private.stamp_session_status_change() from public;

create trigger numbers_stamp_session_status_change
    before update of session_status on public.numbers
    for each row execute function private.stamp_session_status_change();

-- The stamp is the daemon's bookkeeping, like the status itself: it is not
-- an admin-relevant change, so the audit trigger leaves it out too.
drop trigger numbers_audit on public.numbers;
create trigger numbers_audit
    after insert or update or delete on public.numbers
    for each row execute function private.audit_row_change(
        'ignore:session_status', 'ignore:last_heartbeat_at', 'ignore:lease_holder',
        'ignore:lease_expires_at', 'ignore:updated_at', 'ignore:session_status_changed_at');

-- -----------------------------------------------------------------------------
-- Recent messages
-- -----------------------------------------------------------------------------

create index messages_by_time on public.messages (created_at);

-- Grants: the earlier table-level grants cover the new column for reading
-- (authenticated: select on numbers; service_role: everything). Nobody but
-- the trigger writes it: authenticated's column grants do not include it.
