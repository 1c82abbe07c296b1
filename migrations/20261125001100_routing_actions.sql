-- =============================================================================
-- What the routing core's actions need to be stored: contact attributes the
-- bot reads in conditions and writes with `set_contact_attribute`, and the
-- conversation's tags, mirrored from the flow state so the inbox can filter.
-- =============================================================================

alter table public.contacts
    add column attributes jsonb not null default '{}'::jsonb
        check (jsonb_typeof(attributes) = 'object');

alter table public.conversations
    add column tags text[] not null default '{}';

create index conversations_by_tag on public.conversations using gin (tags);

-- Grants: the table-level grants of the earlier migrations already cover the
-- new columns for reading (authenticated: select on contacts and
-- conversations; service_role: everything). Nothing new is writable by
-- signed-in users.
