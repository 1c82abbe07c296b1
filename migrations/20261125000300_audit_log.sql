-- =============================================================================
-- The audit log: an append-only record of every admin-relevant change.
--
-- Rows are written by triggers (bots, bot versions, numbers, alert channels,
-- members, alert status changes, session commands, conversation mode
-- changes) through `private.write_audit`, and by operators capturing a
-- post-incident summary (action `incident.summary`, as the runbook asks).
--
-- The actor is stamped by a trigger: `auth.uid()` of the request (null for
-- the system) and the role that acted (`authenticated`, `service_role`, or
-- `postgres` for migrations, pg_cron jobs and SQL run by hand). A signed-in
-- user cannot forge it; the service role may name the user it acts for.
--
-- Nobody may change or remove a row: no API role holds UPDATE, DELETE or
-- TRUNCATE, and triggers refuse all three even to the table's owner. The
-- table has no foreign keys, so deleting a user, bot or number never has to
-- touch it.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- The table
-- -----------------------------------------------------------------------------

create table public.audit_log_entries (
    id bigint generated always as identity primary key,
    occurred_at timestamptz not null default now(),
    -- auth.uid() of whoever acted; null for the system.
    actor_id uuid,
    -- `authenticated`, `service_role`, or `postgres` (the system).
    actor_role text not null default current_user,
    -- `<table>.<what happened>`, such as `bots.update` or `alerts.acknowledged`.
    action text not null check (action ~ '^[a-z_]+\.[a-z_]+$'),
    target_table text,
    target_id text,
    details jsonb not null default '{}'::jsonb
);
create index audit_log_entries_by_time on public.audit_log_entries (occurred_at desc);
create index audit_log_entries_by_target on public.audit_log_entries (target_table, target_id, occurred_at desc);

-- -----------------------------------------------------------------------------
-- Who acted
-- -----------------------------------------------------------------------------

-- The acting role: the request's JWT role when there is one, else the role
-- the session switched to with SET ROLE (a security-definer function does not
-- change that setting), else the login role.
create function private.current_actor_role() returns text
    language sql stable set search_path = '' as $$
    select coalesce(
        nullif(auth.role(), ''),
        nullif(current_setting('role', true), 'none'),
        session_user::text
    )
$$;

revoke all on function private.current_actor_role() from public;
grant execute on function private.current_actor_role() to authenticated, service_role;

-- BEFORE INSERT: stamps the actor and the time. A signed-in user writing
-- directly is always recorded as themself; trusted writers (the service role,
-- security-definer triggers running as the owner) keep an actor they name.
create function private.stamp_audit_actor() returns trigger
    language plpgsql set search_path = '' as $$
begin
    if current_user in ('authenticated', 'anon') then
        new.actor_id := auth.uid();
        new.actor_role := current_user;
    else
        new.actor_id := coalesce(new.actor_id, auth.uid());
        new.actor_role := private.current_actor_role();
    end if;
    new.occurred_at := now();
    return new;
end;
$$;

revoke all on function private.stamp_audit_actor() from public;

create trigger audit_log_entries_stamp_actor
    before insert on public.audit_log_entries
    for each row execute function private.stamp_audit_actor();

-- -----------------------------------------------------------------------------
-- Append-only
-- -----------------------------------------------------------------------------

create function private.refuse_audit_log_change() returns trigger
    language plpgsql set search_path = '' as $$
begin
    raise exception 'audit_log_entries is append-only: % is not allowed', lower(tg_op)
        using errcode = 'insufficient_privilege';
end;
$$;

revoke all on function private.refuse_audit_log_change() from public;

create trigger audit_log_entries_refuse_update_delete
    before update or delete on public.audit_log_entries
    for each row execute function private.refuse_audit_log_change();

create trigger audit_log_entries_refuse_truncate
    before truncate on public.audit_log_entries
    for each statement execute function private.refuse_audit_log_change();

-- -----------------------------------------------------------------------------
-- Writers
-- -----------------------------------------------------------------------------

-- Appends one entry; the stamp trigger fills in the actor.
create function private.write_audit(
    audit_action text, audited_table text, audited_id text, audit_details jsonb
) returns void
    language sql security definer set search_path = '' as $$
    insert into public.audit_log_entries (action, target_table, target_id, details)
    values (audit_action, audited_table, audited_id, coalesce(audit_details, '{}'::jsonb))
$$;

revoke all on function private.write_audit(text, text, text, jsonb) from public;
grant execute on function private.write_audit(text, text, text, jsonb) to service_role;

-- AFTER INSERT/UPDATE/DELETE row trigger recording `<table>.<insert|update|
-- delete>`. Inserts record the new row, deletes the old row, updates only
-- the columns that changed (old and new values). Trigger arguments tune it:
--   'ignore:<column>'  the column is left out and never counts as a change
--                      (heartbeats, updated_at), so an update touching only
--                      ignored columns writes nothing;
--   'redact:<column>'  the column counts as a change but its values are
--                      recorded as "[redacted]" (bearer URLs, big documents).
create function private.audit_row_change() returns trigger
    language plpgsql security definer set search_path = '' as $$
declare
    argument text;
    ignored_columns text[] := '{}'::text[];
    redacted_columns text[] := '{}'::text[];
    old_row jsonb;
    new_row jsonb;
    changed_columns text[];
    audited_row jsonb;
    column_name text;
begin
    foreach argument in array coalesce(tg_argv, '{}'::text[]) loop
        if argument like 'ignore:%' then
            ignored_columns := ignored_columns || substr(argument, 8);
        elsif argument like 'redact:%' then
            redacted_columns := redacted_columns || substr(argument, 8);
        end if;
    end loop;

    if tg_op in ('UPDATE', 'DELETE') then
        old_row := to_jsonb(old) - ignored_columns;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        new_row := to_jsonb(new) - ignored_columns;
    end if;
    audited_row := coalesce(new_row, old_row);

    if tg_op = 'UPDATE' then
        select coalesce(array_agg(n.key order by n.key), '{}'::text[]) into changed_columns
        from jsonb_each(new_row) as n
        where n.value is distinct from old_row -> n.key;
        if cardinality(changed_columns) = 0 then
            return null;
        end if;
        old_row := (select coalesce(jsonb_object_agg(o.key, o.value), '{}'::jsonb)
                    from jsonb_each(old_row) as o where o.key = any (changed_columns));
        new_row := (select coalesce(jsonb_object_agg(n.key, n.value), '{}'::jsonb)
                    from jsonb_each(new_row) as n where n.key = any (changed_columns));
    end if;

    foreach column_name in array redacted_columns loop
        if old_row ? column_name then
            old_row := jsonb_set(old_row, array[column_name], '"[redacted]"'::jsonb);
        end if;
        if new_row ? column_name then
            new_row := jsonb_set(new_row, array[column_name], '"[redacted]"'::jsonb);
        end if;
    end loop;

    perform private.write_audit(
        tg_table_name || '.' || lower(tg_op),
        tg_table_name,
        coalesce(audited_row ->> 'id', audited_row ->> 'user_id', audited_row ->> 'channel_id'),
        case when old_row is null then '{}'::jsonb else jsonb_build_object('old', old_row) end
            || case when new_row is null then '{}'::jsonb else jsonb_build_object('new', new_row) end
            || case when changed_columns is null then '{}'::jsonb
                    else jsonb_build_object('changed', to_jsonb(changed_columns)) end
    );
    return null;
end;
$$;

revoke all on function private.audit_row_change() from public;

-- Members are audited from here on (the table came in the previous migration).
create trigger members_audit
    after insert or update or delete on public.members
    for each row execute function private.audit_row_change('ignore:updated_at');

-- -----------------------------------------------------------------------------
-- Row-level security and grants
-- -----------------------------------------------------------------------------

alter table public.audit_log_entries enable row level security;

revoke all on public.audit_log_entries from public, anon, authenticated, service_role;
grant select, insert on public.audit_log_entries to service_role;
grant select on public.audit_log_entries to authenticated;
grant insert (action, target_table, target_id, details) on public.audit_log_entries to authenticated;

create policy "Members can read the audit log" on public.audit_log_entries
    for select to authenticated
    using ((select private.has_role('viewer')));

create policy "Operators can record a post-incident summary" on public.audit_log_entries
    for insert to authenticated
    with check ((select private.has_role('operator')) and action = 'incident.summary');

create policy "The service role appends to the audit log" on public.audit_log_entries
    for insert to service_role
    with check (true);

create policy "The service role reads the audit log" on public.audit_log_entries
    for select to service_role
    using (true);
