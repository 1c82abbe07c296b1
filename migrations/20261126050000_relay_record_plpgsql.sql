-- The relay's per-row record, with a cached plan.
--
-- `private.record_outbox_delivery` was a `language sql` function: Postgres
-- plans a non-inlined SQL function's statement on every call, and the load
-- profile (`scripts/bench/load.sh --profile`) showed 0.30 ms of Postgres time
-- per delivered row, of which the update itself took 0.09 ms. PL/pgSQL keeps
-- the statement's plan for the session. Same signature, same effect.
create or replace function private.record_outbox_delivery(outbox_id bigint) returns void
    language plpgsql security definer set search_path = '' as $$
begin
    update public.outbox as o set delivered_at = now(), last_error = null where o.id = outbox_id;
end;
$$;

revoke all on function private.record_outbox_delivery(bigint) from public;
grant execute on function private.record_outbox_delivery(bigint) to service_role;
