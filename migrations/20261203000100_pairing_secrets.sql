-- =============================================================================
-- Pairing secrets are readable by operators only, through every path
-- =============================================================================
--
-- A `qr_shown` or `pair_code_shown` connection event carried the live
-- pairing code in `detail.qr` / `detail.pair_code`, and every member
-- (viewers included) may read `number_connection_events`, through the admin
-- API's `GET /numbers/{id}/events` and through PostgREST alike. Scanning
-- that QR code links the business number to the reader's phone.
--
-- The codes now live in their own table, `number_pairing_codes`, whose RLS
-- admits operators and above. A trigger moves them there as the event is
-- inserted, whoever inserts it (the session daemon writes events as
-- before), and leaves `detail.secret_redacted = true` behind. Rows written
-- before this migration are scrubbed the same way. Pairing codes expire
-- within minutes, so they are kept for a day.

-- -----------------------------------------------------------------------------
-- The table
-- -----------------------------------------------------------------------------

create table public.number_pairing_codes (
    id bigint generated always as identity primary key,
    number_id uuid not null references public.numbers (id) on delete cascade,
    -- The connection event that showed the code.
    event_id bigint not null unique,
    event text not null,
    -- The QR code's text (what the QR image encodes), or null.
    qr text,
    -- The 8-character pair code, or null.
    pair_code text,
    expires_at timestamptz,
    shown_at timestamptz not null,
    constraint number_pairing_codes_have_a_code check (qr is not null or pair_code is not null)
);

comment on table public.number_pairing_codes is
    'Live pairing codes (QR text or pair code) of sessions being linked: they link a WhatsApp account, so only operators and above may read them. Filled by a trigger on number_connection_events.';

create index number_pairing_codes_latest on public.number_pairing_codes (number_id, shown_at desc, id desc);

alter table public.number_pairing_codes enable row level security;

revoke all on public.number_pairing_codes from public, anon, authenticated, service_role;
grant select on public.number_pairing_codes to authenticated;
grant select, insert, delete on public.number_pairing_codes to service_role;

create policy "Operators can read pairing codes" on public.number_pairing_codes
    for select to authenticated
    using ((select private.has_role('operator')));

create policy "The service role handles pairing codes" on public.number_pairing_codes
    for all to service_role
    using (true)
    with check (true);

-- -----------------------------------------------------------------------------
-- Moving the secret out of the event
-- -----------------------------------------------------------------------------

-- The detail keys that hold a pairing secret.
create function private.pairing_secret_keys() returns text[]
    language sql immutable set search_path = '' as $$
    select array['qr', 'qr_code', 'pair_code', 'code', 'pairing_code']
$$;

revoke all on function private.pairing_secret_keys() from public;

-- The code an event's detail carries: its QR text, its pair code, its expiry.
create function private.pairing_code_of(detail jsonb, out qr text, out pair_code text, out expires_at timestamptz)
    language sql immutable set search_path = '' as $$
    select coalesce(detail ->> 'qr', detail ->> 'qr_code'),
           coalesce(detail ->> 'pair_code', detail ->> 'code', detail ->> 'pairing_code'),
           case when detail ->> 'expires_at' ~ '^\d{4}-\d{2}-\d{2}' then (detail ->> 'expires_at')::timestamptz end
$$;

revoke all on function private.pairing_code_of(jsonb) from public;

-- BEFORE INSERT: keep the event, move the code. Runs as the table owner so
-- the service role's insert needs no rights on the codes table beyond its
-- own; the id is taken before the row exists, so the code row refers to it.
create function private.move_pairing_secret() returns trigger
    language plpgsql security definer set search_path = '' as $$
declare
    code record;
begin
    if not (new.detail ?| private.pairing_secret_keys()) then
        return new;
    end if;
    select * into code from private.pairing_code_of(new.detail);
    if code.qr is not null or code.pair_code is not null then
        insert into public.number_pairing_codes (number_id, event_id, event, qr, pair_code, expires_at, shown_at)
        values (new.number_id, new.id, new.event, code.qr, code.pair_code, code.expires_at, new.occurred_at);
    end if;
    new.detail := (new.detail - private.pairing_secret_keys()) || jsonb_build_object('secret_redacted', true);
    return new;
end;
$$;

revoke all on function private.move_pairing_secret() from public;

create trigger number_connection_events_move_pairing_secret
    before insert on public.number_connection_events
    for each row execute function private.move_pairing_secret();

-- -----------------------------------------------------------------------------
-- Scrubbing the rows written before
-- -----------------------------------------------------------------------------

insert into public.number_pairing_codes (number_id, event_id, event, qr, pair_code, expires_at, shown_at)
select e.number_id, e.id, e.event, code.qr, code.pair_code, code.expires_at, e.occurred_at
from public.number_connection_events as e,
     lateral private.pairing_code_of(e.detail) as code
where e.detail ?| private.pairing_secret_keys()
  and (code.qr is not null or code.pair_code is not null);

-- The timeline is append-only; this one rewrite is the migration's own.
alter table public.number_connection_events disable trigger number_connection_events_refuse_update;
update public.number_connection_events
set detail = (detail - private.pairing_secret_keys()) || jsonb_build_object('secret_redacted', true)
where detail ?| private.pairing_secret_keys();
alter table public.number_connection_events enable trigger number_connection_events_refuse_update;

-- -----------------------------------------------------------------------------
-- Retention: a day is plenty for codes that expire within minutes
-- -----------------------------------------------------------------------------

create function private.prune_pairing_codes() returns integer
    language plpgsql security definer set search_path = '' as $$
declare
    n_deleted integer;
begin
    delete from public.number_pairing_codes where shown_at < now() - interval '1 day';
    get diagnostics n_deleted = row_count;
    return n_deleted;
end;
$$;

revoke all on function private.prune_pairing_codes() from public;
grant execute on function private.prune_pairing_codes() to service_role;

select cron.schedule('pairing-codes-retention', '17 * * * *', $$select private.prune_pairing_codes()$$);
