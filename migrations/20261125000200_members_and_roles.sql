-- =============================================================================
-- Members and roles: who may do what.
--
-- A signed-in user's role comes from `members.user_id = auth.uid()`. Roles
-- are ranked: viewer < operator < admin < owner; each role may do everything
-- the roles below it may.
--   viewer    reads everything that is not a secret
--   operator  also acts on sessions (session_commands), conversations (take
--             over, hand back, close) and alerts (acknowledge, resolve)
--   admin     also manages bots, bot versions, numbers, alert channels and
--             members below owner
--   owner     also manages owners
-- A signed-in user without a members row is nobody: every policy refuses
-- them. The first owner is added with the service role or as `postgres`
-- (see docs/data-model.md).
--
-- Policies call the helpers below through `(select …)`, so Postgres runs them
-- once per statement rather than once per row.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Members
-- -----------------------------------------------------------------------------

create table public.members (
    user_id uuid primary key references auth.users (id) on delete cascade,
    role text not null check (role in ('owner', 'admin', 'operator', 'viewer')),
    invited_by uuid default auth.uid() references auth.users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create trigger members_set_updated_at
    before update on public.members
    for each row execute function private.set_updated_at();

-- -----------------------------------------------------------------------------
-- Role helpers
-- -----------------------------------------------------------------------------

-- The rank of a role name: 4 owner, 3 admin, 2 operator, 1 viewer, 0 other.
create function private.role_rank(member_role text) returns integer
    language sql immutable set search_path = '' as $$
    select case member_role
        when 'owner' then 4
        when 'admin' then 3
        when 'operator' then 2
        when 'viewer' then 1
        else 0
    end
$$;

-- The calling user's role, or null when they are not a member. Security
-- definer, so policies on `members` itself can call it without recursion.
create function private.member_role() returns text
    language sql stable security definer set search_path = '' as $$
    select m.role from public.members as m where m.user_id = auth.uid()
$$;

-- Whether the calling user holds `min_role` or a higher role.
create function private.has_role(min_role text) returns boolean
    language sql stable security definer set search_path = '' as $$
    select coalesce(
        private.role_rank(min_role) > 0
            and private.role_rank(private.member_role()) >= private.role_rank(min_role),
        false
    )
$$;

revoke all on function private.role_rank(text) from public;
revoke all on function private.member_role() from public;
revoke all on function private.has_role(text) from public;
grant execute on function private.role_rank(text) to authenticated, service_role;
grant execute on function private.member_role() to authenticated, service_role;
grant execute on function private.has_role(text) to authenticated, service_role;

-- -----------------------------------------------------------------------------
-- The last owner stays
-- -----------------------------------------------------------------------------

-- Refuses to delete or demote the last owner, so the project can always be
-- administered. Serialised with an advisory lock so two concurrent removals
-- cannot each leave the other as the "remaining" owner.
create function private.keep_an_owner() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    if old.role = 'owner' and (tg_op = 'DELETE' or new.role <> 'owner') then
        perform pg_advisory_xact_lock(hashtext('public.members owners'));
        if not exists (
            select 1 from public.members as m
            where m.role = 'owner' and m.user_id <> old.user_id
        ) then
            raise exception 'the last owner cannot be removed or demoted'
                using hint = 'make another member owner first';
        end if;
    end if;
    if tg_op = 'DELETE' then
        return old;
    end if;
    return new;
end;
$$;

revoke all on function private.keep_an_owner() from public;

create trigger members_keep_an_owner
    before update of role or delete on public.members
    for each row execute function private.keep_an_owner();

-- -----------------------------------------------------------------------------
-- Row-level security and grants
-- -----------------------------------------------------------------------------

alter table public.members enable row level security;

revoke all on public.members from public, anon, authenticated, service_role;
grant select, delete on public.members to authenticated;
grant insert (user_id, role), update (role) on public.members to authenticated;
grant select, insert, update, delete on public.members to service_role;

create policy "Members can see who the members are" on public.members
    for select to authenticated
    using ((select private.has_role('viewer')));

create policy "Admins add members below owner and owners add anyone" on public.members
    for insert to authenticated
    with check ((select private.has_role('admin'))
                and (role <> 'owner' or (select private.has_role('owner'))));

create policy "Admins change members below owner and owners change anyone" on public.members
    for update to authenticated
    using ((select private.has_role('admin'))
           and (role <> 'owner' or (select private.has_role('owner'))))
    with check ((select private.has_role('admin'))
                and (role <> 'owner' or (select private.has_role('owner'))));

create policy "Admins remove members below owner and owners remove anyone" on public.members
    for delete to authenticated
    using ((select private.has_role('admin'))
           and (role <> 'owner' or (select private.has_role('owner'))));
