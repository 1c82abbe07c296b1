-- The health sweep is not held up by a relay that died mid-delivery.
--
-- `private.enqueue_health_sweep()` skipped the minute's sweep whenever any
-- sweep was still undelivered. A daemon killed while it relayed a sweep
-- leaves that row claimed (attempts counted, no error recorded) until its
-- 30-second claim lease runs out, so the check went blind for up to 30
-- seconds, and the killed daemon's own `runtime:<id>:status` alert could
-- miss the window in which it was down: the moment health checking matters
-- most. Found by `scripts/chaos.sh --quick kill` on a loaded machine.
--
-- Now a pending sweep holds the next one back only when it shows the relay
-- or the function is the trouble, where another row would change nothing:
--   * it is waiting for its first claim (attempts = 0): the relay is behind
--     or down; or
--   * its last attempt failed (last_error set): `health-check` is failing,
--     and the row is backing off.
-- A row that is claimed and neither delivered nor failed is in flight; if its
-- relay died, a fresh sweep is queued beside it. Sweeps are idempotent (the
-- function serialises them with an advisory lock and reconciles alerts by
-- dedupe key), so the row redelivered when the dead relay's lease runs out
-- does no harm. At most one sweep waits for a claim at any time.
create or replace function private.enqueue_health_sweep() returns bigint
    language plpgsql security definer set search_path = '' as $$
declare
    new_outbox_id bigint;
begin
    if exists (
        select 1 from public.outbox as o
        where o.topic = 'health-check' and o.payload = '{"sweep": true}'::jsonb
          and o.delivered_at is null and o.dead_at is null
          and (o.attempts = 0 or o.last_error is not null)
    ) then
        return null;
    end if;
    insert into public.outbox (topic, payload)
    values ('health-check', '{"sweep": true}'::jsonb)
    returning id into new_outbox_id;
    return new_outbox_id;
end;
$$;

revoke all on function private.enqueue_health_sweep() from public;
grant execute on function private.enqueue_health_sweep() to service_role;
