-- =============================================================================
-- Bots and their versions: publishing, immutability, checksums and canaries.
--
-- A bot has at most one published version (checked at commit); route-message
-- serves it. Publishing another version archives the previous one in the
-- same statement, so "publish v2" is a single update.
-- Status moves: draft -> published -> archived, archived -> published (a
-- rollback), draft -> archived (an abandoned draft). Nothing goes back to
-- draft.
--
-- A version's definition is frozen once it is published or archived, or
-- while it is some bot's canary: neither the definition nor its checksum may
-- change. The checksum is the SHA-256 (hex) of the definition's canonical
-- jsonb text, computed by a trigger; it cannot be written by hand.
--
-- A canary sends `canary_share_percent` percent of new conversations to
-- `canary_version_id`, a non-published version of the same bot. Publishing
-- the canary version promotes it and clears the canary.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Columns
-- -----------------------------------------------------------------------------

alter table public.bots
    add column description text not null default '',
    add column canary_version_id uuid,
    add column canary_share_percent integer not null default 0
        check (canary_share_percent between 0 and 100),
    add column updated_at timestamptz not null default now();

alter table public.bot_versions
    add column checksum text,
    add column created_by uuid default auth.uid() references auth.users (id) on delete set null,
    add column updated_at timestamptz not null default now();

update public.bot_versions
set checksum = encode(sha256(convert_to(definition::text, 'UTF8')), 'hex')
where checksum is null;

-- The default is never stored: the checksum trigger always overwrites it.
alter table public.bot_versions
    alter column checksum set default '',
    alter column checksum set not null,
    add constraint bot_versions_checksum_check check (checksum ~ '^[0-9a-f]{64}$'),
    add constraint bot_versions_bot_id_id_key unique (bot_id, id);

-- At most one published version per bot, as the skeleton's partial unique
-- index said, now as a deferred exclusion constraint: publishing a version
-- archives the previous one in an AFTER trigger (see below), so for a moment
-- inside the statement both are published; the check runs at commit.
drop index public.bot_versions_one_published_per_bot;
alter table public.bot_versions
    add constraint bot_versions_one_published_per_bot
        exclude using btree (bot_id with =) where (status = 'published')
        deferrable initially deferred;

-- The canary is a version of the same bot; deleting it clears the canary.
alter table public.bots
    add constraint bots_canary_version_fkey foreign key (id, canary_version_id)
        references public.bot_versions (bot_id, id) on delete set null (canary_version_id);

-- -----------------------------------------------------------------------------
-- Version triggers (BEFORE triggers fire in name order: guard, checksum, stamp)
-- -----------------------------------------------------------------------------

-- BEFORE UPDATE: refuses changes to a frozen version's content and any
-- status move outside draft -> published -> archived -> published.
create function private.guard_bot_version_change() returns trigger
    language plpgsql set search_path = '' as $$
declare
    is_canary boolean;
begin
    if new.bot_id is distinct from old.bot_id or new.version is distinct from old.version then
        raise exception 'a bot version cannot move to another bot or version number'
            using errcode = 'check_violation';
    end if;
    is_canary := exists (select 1 from public.bots as b where b.canary_version_id = old.id);
    if (old.status <> 'draft' or is_canary)
       and (new.definition is distinct from old.definition or new.checksum is distinct from old.checksum) then
        raise exception 'bot version % (v%) is %: its definition and checksum cannot change',
            old.id, old.version, case when old.status = 'draft' then 'a canary' else old.status end
            using errcode = 'check_violation',
                  hint = 'create a new version instead';
    end if;
    if new.status is distinct from old.status
       and not (old.status, new.status) in (('draft', 'published'), ('draft', 'archived'),
                                            ('published', 'archived'), ('archived', 'published')) then
        raise exception 'a bot version cannot move from % to %', old.status, new.status
            using errcode = 'check_violation';
    end if;
    return new;
end;
$$;

revoke all on function private.guard_bot_version_change() from public;

create trigger bot_versions_a_guard_change
    before update on public.bot_versions
    for each row execute function private.guard_bot_version_change();

-- BEFORE INSERT OR UPDATE: computes the checksum from the definition.
create function private.compute_bot_version_checksum() returns trigger
    language plpgsql set search_path = '' as $$
begin
    new.checksum := encode(pg_catalog.sha256(convert_to(new.definition::text, 'UTF8')), 'hex');
    return new;
end;
$$;

revoke all on function private.compute_bot_version_checksum() from public;

create trigger bot_versions_b_checksum
    before insert or update on public.bot_versions
    for each row execute function private.compute_bot_version_checksum();

-- BEFORE INSERT OR UPDATE OF status: publishing stamps published_at.
create function private.stamp_bot_version_published() returns trigger
    language plpgsql set search_path = '' as $$
begin
    if new.status = 'published' and (tg_op = 'INSERT' or old.status <> 'published') then
        new.published_at := case when tg_op = 'INSERT' then coalesce(new.published_at, now()) else now() end;
    end if;
    return new;
end;
$$;

revoke all on function private.stamp_bot_version_published() from public;

create trigger bot_versions_c_stamp_published
    before insert or update of status on public.bot_versions
    for each row execute function private.stamp_bot_version_published();

-- AFTER INSERT OR UPDATE OF status, for a version that became published:
-- archives the bot's previously published version, and clears the canary
-- if this version was it (a promotion). This is an AFTER trigger so that an
-- insert that ends in ON CONFLICT DO NOTHING has no side effect; the
-- one-published-per-bot constraint is therefore checked at commit.
create function private.after_bot_version_published() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    update public.bot_versions
    set status = 'archived'
    where bot_id = new.bot_id and status = 'published' and id <> new.id;
    update public.bots
    set canary_version_id = null, canary_share_percent = 0
    where canary_version_id = new.id;
    return null;
end;
$$;

revoke all on function private.after_bot_version_published() from public;

create trigger bot_versions_after_published
    after insert or update of status on public.bot_versions
    for each row when (new.status = 'published')
    execute function private.after_bot_version_published();

create trigger bot_versions_set_updated_at
    before update on public.bot_versions
    for each row execute function private.set_updated_at();

-- The definition is left out of the audit row (it can be large); the
-- checksum records what it was.
create trigger bot_versions_audit
    after insert or update or delete on public.bot_versions
    for each row execute function private.audit_row_change('ignore:definition', 'ignore:updated_at');

-- -----------------------------------------------------------------------------
-- Bot triggers
-- -----------------------------------------------------------------------------

-- BEFORE INSERT OR UPDATE OF canary_version_id: the canary cannot be the
-- published version (that one already serves everyone else).
create function private.guard_bot_canary() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    if new.canary_version_id is not null and exists (
        select 1 from public.bot_versions as v
        where v.id = new.canary_version_id and v.status = 'published'
    ) then
        raise exception 'the canary of bot % cannot be its published version', new.id
            using errcode = 'check_violation';
    end if;
    return new;
end;
$$;

revoke all on function private.guard_bot_canary() from public;

create trigger bots_guard_canary
    before insert or update of canary_version_id on public.bots
    for each row execute function private.guard_bot_canary();

create trigger bots_set_updated_at
    before update on public.bots
    for each row execute function private.set_updated_at();

create trigger bots_audit
    after insert or update or delete on public.bots
    for each row execute function private.audit_row_change('ignore:updated_at');

-- -----------------------------------------------------------------------------
-- Row-level security and grants
-- -----------------------------------------------------------------------------

-- The skeleton granted the service role everything and signed-in users
-- select; admins now also write, within the policies below.
grant insert (id, name, description, canary_version_id, canary_share_percent) on public.bots to authenticated;
grant update (name, description, canary_version_id, canary_share_percent) on public.bots to authenticated;
grant delete on public.bots to authenticated;
grant insert (id, bot_id, version, definition, status) on public.bot_versions to authenticated;
grant update (definition, status) on public.bot_versions to authenticated;
grant delete on public.bot_versions to authenticated;

drop policy "Signed-in users can read bots" on public.bots;
drop policy "Signed-in users can read bot versions" on public.bot_versions;

create policy "Members can read bots" on public.bots
    for select to authenticated
    using ((select private.has_role('viewer')));

create policy "Admins can create bots" on public.bots
    for insert to authenticated
    with check ((select private.has_role('admin')));

create policy "Admins can change bots" on public.bots
    for update to authenticated
    using ((select private.has_role('admin')))
    with check ((select private.has_role('admin')));

create policy "Admins can delete bots" on public.bots
    for delete to authenticated
    using ((select private.has_role('admin')));

create policy "Members can read bot versions" on public.bot_versions
    for select to authenticated
    using ((select private.has_role('viewer')));

create policy "Admins can create bot versions" on public.bot_versions
    for insert to authenticated
    with check ((select private.has_role('admin')));

create policy "Admins can edit drafts and move version statuses" on public.bot_versions
    for update to authenticated
    using ((select private.has_role('admin')))
    with check ((select private.has_role('admin')));

create policy "Admins can delete draft versions only" on public.bot_versions
    for delete to authenticated
    using ((select private.has_role('admin')) and status = 'draft');
