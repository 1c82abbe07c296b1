-- =============================================================================
-- The outbox doorbell, on hosted Supabase only: pg_net wakes the
-- `outbox-relay` Edge Function, which claims and delivers due outbox rows.
--
-- Why: the outbox must be delivered even when no session daemon runs. Above
-- all, alerts (topic `alert-dispatch`) must reach the alert-dispatch function
-- when every daemon is down, which is exactly when they matter. Locally
-- pg_net is absent and the daemons' relays (WABOT_RELAY=on, woken by
-- NOTIFY on `outbox`) deliver instead; on hosted Supabase the daemons may run
-- with WABOT_RELAY=off and leave delivery to the doorbell.
--
-- How: when the `pg_net` extension is available, this migration
--   * creates `private.kick_outbox_relay()`, which POSTs {"reason": …} to
--     `<project_url>/functions/v1/outbox-relay` with the header
--     `Authorization: Bearer <outbox_relay_secret>`, both read from Vault
--     (`vault.decrypted_secrets` names `project_url` and
--     `outbox_relay_secret`); it does nothing when either secret is missing
--     and never fails the transaction that rang it;
--   * rings it after every statement that inserts outbox rows (pg_net sends
--     after commit), for low latency;
--   * schedules it every minute with pg_cron (`outbox-relay-doorbell`), since
--     pg_net is fire-and-forget: a lost request or a failed delivery is
--     retried by the next tick, and backed-off rows come due again.
-- The relay function itself is idempotent and claims with SKIP LOCKED, so
-- extra rings cost one cheap request.
--
-- Set the secrets once per project (SQL editor):
--   select vault.create_secret('https://<ref>.supabase.co', 'project_url');
--   select vault.create_secret('<random token>', 'outbox_relay_secret');
-- and give the outbox-relay function the same token (verify_jwt = false).
-- =============================================================================

do $doorbell$
begin
    if not exists (select 1 from pg_available_extensions where name = 'pg_net') then
        raise notice 'pg_net is not available: no outbox doorbell (the daemons relay the outbox)';
        return;
    end if;

    create extension if not exists pg_net with schema extensions;

    create or replace function private.kick_outbox_relay(kick_reason text default 'tick') returns bigint
        language plpgsql security definer set search_path = '' as $kick$
    declare
        relay_url text;
        relay_secret text;
    begin
        select s.decrypted_secret into relay_url
        from vault.decrypted_secrets as s where s.name = 'project_url';
        select s.decrypted_secret into relay_secret
        from vault.decrypted_secrets as s where s.name = 'outbox_relay_secret';
        if relay_url is null or relay_secret is null then
            return null;
        end if;
        return net.http_post(
            url := rtrim(relay_url, '/') || '/functions/v1/outbox-relay',
            body := jsonb_build_object('reason', kick_reason),
            headers := jsonb_build_object(
                'Content-Type', 'application/json',
                'Authorization', 'Bearer ' || relay_secret
            ),
            timeout_milliseconds := 5000
        );
    exception
        when others then
            raise warning 'could not ring the outbox doorbell: %', sqlerrm;
            return null;
    end;
    $kick$;

    revoke all on function private.kick_outbox_relay(text) from public;
    grant execute on function private.kick_outbox_relay(text) to service_role;

    create or replace function private.ring_outbox_doorbell() returns trigger
        language plpgsql security definer set search_path = '' as $ring$
    begin
        perform private.kick_outbox_relay('outbox_insert');
        return null;
    end;
    $ring$;

    revoke all on function private.ring_outbox_doorbell() from public;

    drop trigger if exists outbox_ring_doorbell on public.outbox;
    create trigger outbox_ring_doorbell
        after insert on public.outbox
        for each statement execute function private.ring_outbox_doorbell();

    perform cron.schedule('outbox-relay-doorbell', '* * * * *', 'select private.kick_outbox_relay(''tick'')');
end;
$doorbell$;
