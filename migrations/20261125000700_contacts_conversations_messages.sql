-- =============================================================================
-- Contacts, conversations and messages.
--
-- A contact is one WhatsApp person, whatever id they arrive with: a phone
-- number, the phone-based WhatsApp id (`15551234567`, or
-- `15551234567@s.whatsapp.net`), or a LID-style privacy id
-- (`123456789012345@lid`). All of them live in one `contacts` row, so a
-- conversation that started under a phone id and continues under a LID is
-- the same person. A new conversation is linked to its contact by a trigger
-- from `contact_wa_id` (the column the daemon and route-message write).
--
-- Conversations have a mode: `bot` (the bot answers), `human` (an operator
-- took over; the bot stays silent) or `closed`. Taking over assigns the
-- conversation to the operator; every mode change is audited. `opted_out`
-- records that the contact asked not to be messaged.
--
-- Messages carry a type, body and payload, and their delivery timestamps
-- (sent_at, delivered_at, read_at, failed_at) are stamped by a trigger when
-- the status moves. An operator may write a reply into a conversation they
-- took over: a queued outbound message the daemon sends like any other.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Contacts
-- -----------------------------------------------------------------------------

create table public.contacts (
    id uuid primary key default gen_random_uuid(),
    phone_number text unique check (phone_number ~ '^\+[1-9][0-9]{6,14}$'),
    -- The phone-based WhatsApp id, digits only (the user part of the JID).
    wa_id text unique check (wa_id ~ '^[0-9]{5,20}$'),
    -- The LID-style id, as WhatsApp sends it (`<digits>@lid`).
    lid text unique check (lid ~ '^[0-9]{5,30}@lid$'),
    display_name text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint contacts_have_an_id check (phone_number is not null or wa_id is not null or lid is not null)
);

create trigger contacts_set_updated_at
    before update on public.contacts
    for each row execute function private.set_updated_at();

-- Finds or creates the contact for a WhatsApp id as the daemon stores it in
-- `contact_wa_id` (digits, `+digits`, `digits@s.whatsapp.net` or
-- `digits@lid`) and refreshes its display name. Returns null for an id it
-- cannot read, which leaves the conversation unlinked rather than failing.
create function private.resolve_contact(raw_wa_id text, contact_name text) returns uuid
    language plpgsql security definer set search_path = '' as $$
declare
    cleaned text := lower(btrim(coalesce(raw_wa_id, '')));
    contact_lid text;
    contact_digits text;
    contact_phone text;
    found_id uuid;
begin
    if cleaned ~ '^[0-9]{5,30}@lid$' then
        contact_lid := cleaned;
    else
        contact_digits := regexp_replace(regexp_replace(cleaned, '@s\.whatsapp\.net$', ''), '^\+', '');
        if contact_digits !~ '^[0-9]{5,20}$' then
            return null;
        end if;
        if contact_digits ~ '^[1-9][0-9]{6,14}$' then
            contact_phone := '+' || contact_digits;
        end if;
    end if;

    for attempt in 1..2 loop
        select c.id into found_id from public.contacts as c
        where c.lid = contact_lid or c.wa_id = contact_digits or c.phone_number = contact_phone
        order by c.created_at, c.id
        limit 1;
        if found_id is not null then
            update public.contacts as c
            set display_name = contact_name
            where c.id = found_id and contact_name is not null and c.display_name is distinct from contact_name;
            return found_id;
        end if;
        insert into public.contacts (phone_number, wa_id, lid, display_name)
        values (contact_phone, contact_digits, contact_lid, contact_name)
        on conflict do nothing
        returning id into found_id;
        if found_id is not null then
            return found_id;
        end if;
        -- A concurrent insert won the race; the second pass finds its row.
    end loop;
    return null;
end;
$$;

revoke all on function private.resolve_contact(text, text) from public;
grant execute on function private.resolve_contact(text, text) to service_role;

-- -----------------------------------------------------------------------------
-- Conversations
-- -----------------------------------------------------------------------------

alter table public.conversations
    add column contact_id uuid references public.contacts (id) on delete set null,
    add column opted_out boolean not null default false,
    add column opted_out_at timestamptz,
    -- The member who took the conversation over (mode `human`).
    add column assigned_to uuid references auth.users (id) on delete set null,
    add column updated_at timestamptz not null default now();

create index conversations_by_contact on public.conversations (contact_id);
create index conversations_by_activity on public.conversations (number_id, last_activity_at desc);

-- BEFORE INSERT: links the conversation to its contact.
create function private.link_conversation_contact() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    if new.contact_id is null then
        new.contact_id := private.resolve_contact(new.contact_wa_id, new.contact_name);
    end if;
    return new;
end;
$$;

revoke all on function private.link_conversation_contact() from public;

create trigger conversations_link_contact
    before insert on public.conversations
    for each row execute function private.link_conversation_contact();

-- BEFORE UPDATE: taking over (mode `human`) assigns the conversation to the
-- acting member unless someone is named; leaving `human` unassigns it.
-- Opting out stamps opted_out_at.
create function private.stamp_conversation_change() returns trigger
    language plpgsql set search_path = '' as $$
begin
    if new.mode = 'human' and old.mode <> 'human' and new.assigned_to is null then
        new.assigned_to := auth.uid();
    elsif new.mode <> 'human' then
        new.assigned_to := null;
    end if;
    if new.opted_out and not old.opted_out then
        new.opted_out_at := coalesce(new.opted_out_at, now());
    elsif not new.opted_out then
        new.opted_out_at := null;
    end if;
    return new;
end;
$$;

revoke all on function private.stamp_conversation_change() from public;

create trigger conversations_stamp_change
    before update on public.conversations
    for each row execute function private.stamp_conversation_change();

create trigger conversations_set_updated_at
    before update on public.conversations
    for each row execute function private.set_updated_at();

-- AFTER UPDATE OF mode: records who moved the conversation and where.
create function private.audit_conversation_mode() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    perform private.write_audit(
        'conversations.mode_changed', 'conversations', new.id::text,
        jsonb_build_object('from', old.mode, 'to', new.mode, 'assigned_to', new.assigned_to,
                           'number_id', new.number_id)
    );
    return null;
end;
$$;

revoke all on function private.audit_conversation_mode() from public;

create trigger conversations_audit_mode
    after update of mode on public.conversations
    for each row when (old.mode is distinct from new.mode)
    execute function private.audit_conversation_mode();

-- -----------------------------------------------------------------------------
-- Messages
-- -----------------------------------------------------------------------------

alter table public.messages
    add column type text not null default 'text'
        check (type in ('text', 'media', 'image', 'audio', 'video', 'document', 'sticker', 'location',
                        'contacts', 'buttons', 'list', 'template', 'reaction', 'interactive',
                        'system', 'unsupported')),
    -- The member who wrote an outbound message by hand; null for the bot.
    add column author_id uuid default auth.uid() references auth.users (id) on delete set null,
    add column delivered_at timestamptz,
    add column read_at timestamptz,
    add column failed_at timestamptz,
    add column updated_at timestamptz not null default now();

-- BEFORE INSERT OR UPDATE OF status: stamps the time a status was reached
-- when the writer did not (the daemon sets sent_at itself).
create function private.stamp_message_status() returns trigger
    language plpgsql set search_path = '' as $$
begin
    if tg_op = 'UPDATE' and new.status is not distinct from old.status then
        return new;
    end if;
    case new.status
        when 'sent' then
            new.sent_at := coalesce(new.sent_at, now());
        when 'delivered' then
            new.sent_at := coalesce(new.sent_at, now());
            new.delivered_at := coalesce(new.delivered_at, now());
        when 'read' then
            new.sent_at := coalesce(new.sent_at, now());
            new.delivered_at := coalesce(new.delivered_at, now());
            new.read_at := coalesce(new.read_at, now());
        when 'failed' then
            new.failed_at := coalesce(new.failed_at, now());
        else
            null;
    end case;
    return new;
end;
$$;

revoke all on function private.stamp_message_status() from public;

create trigger messages_stamp_status
    before insert or update of status on public.messages
    for each row execute function private.stamp_message_status();

create trigger messages_set_updated_at
    before update on public.messages
    for each row execute function private.set_updated_at();

-- -----------------------------------------------------------------------------
-- Row-level security and grants
-- -----------------------------------------------------------------------------

alter table public.contacts enable row level security;

revoke all on public.contacts from public, anon, authenticated, service_role;
grant select, insert, update, delete on public.contacts to service_role;
grant select on public.contacts to authenticated;

grant update (mode, assigned_to, opted_out) on public.conversations to authenticated;
grant insert (number_id, conversation_id, direction, contact_wa_id, body, type, payload, status)
    on public.messages to authenticated;

drop policy "Signed-in users can read conversations" on public.conversations;
drop policy "Signed-in users can read messages" on public.messages;

create policy "Members can read contacts" on public.contacts
    for select to authenticated
    using ((select private.has_role('viewer')));

create policy "Members can read conversations" on public.conversations
    for select to authenticated
    using ((select private.has_role('viewer')));

create policy "Operators can take over, hand back and close conversations" on public.conversations
    for update to authenticated
    using ((select private.has_role('operator')))
    with check ((select private.has_role('operator')));

create policy "Members can read messages" on public.messages
    for select to authenticated
    using ((select private.has_role('viewer')));

create policy "Operators can reply in conversations taken over by a human" on public.messages
    for insert to authenticated
    with check (
        (select private.has_role('operator'))
        and direction = 'outbound'
        and status = 'queued'
        and author_id = (select auth.uid())
        and exists (
            select 1 from public.conversations as c
            where c.id = messages.conversation_id
              and c.number_id = messages.number_id
              and c.contact_wa_id = messages.contact_wa_id
              and c.mode = 'human'
              and not c.opted_out
        )
    );
