-- =============================================================================
-- Hosted first-time-right (issue 12, item 7), the database's part:
--
-- 1. The doorbell's pg_net timeout matches the relay's time budget. One
--    `outbox-relay` call starts no new round after TIME_BUDGET_MS (25 s,
--    functions/outbox-relay/index.ts) and its last round may run a few
--    seconds past it; pg_net's default timeout is 2 s and the doorbell used
--    5 s, so most long calls were recorded as timed out in
--    net._http_response while the relay was still working. The timeout is now
--    one helper, private.outbox_doorbell_timeout_ms() (30 s = the 25 s budget
--    plus 5 s for the last round), which kick_outbox_relay() reads and the
--    pgTAP suite checks against the budget.
--
-- 2. The Vault setup is safe to run twice. vault.create_secret fails the
--    second time (names are unique), so docs/deploy.md and scripts/deploy.sh
--    call private.set_vault_secret(name, value), which creates the secret or
--    updates it in place.
-- =============================================================================

create or replace function private.outbox_doorbell_timeout_ms() returns integer
    language sql immutable set search_path = '' as $$
    -- The relay's TIME_BUDGET_MS (25 000) plus 5 000 for its last round.
    select 30000;
$$;

comment on function private.outbox_doorbell_timeout_ms() is
    'pg_net timeout of the outbox doorbell: outbox-relay''s 25 s time budget plus 5 s for its last round.';

revoke all on function private.outbox_doorbell_timeout_ms() from public;
grant execute on function private.outbox_doorbell_timeout_ms() to service_role;

create or replace function private.set_vault_secret(
    secret_name text, secret_value text, secret_description text default ''
) returns uuid
    language plpgsql security definer set search_path = '' as $$
declare
    secret_id uuid;
begin
    if secret_name is null or secret_name !~ '^[a-z][a-z0-9_]{0,62}$' then
        raise exception using errcode = '22023',
            message = format('set_vault_secret: secret_name %L must be a lowercase name ([a-z][a-z0-9_]*)', secret_name);
    end if;
    if secret_value is null or btrim(secret_value) = '' then
        raise exception using errcode = '22023',
            message = format('set_vault_secret: secret_value of %s is empty', secret_name);
    end if;
    select s.id into secret_id from vault.secrets as s where s.name = secret_name for update;
    if secret_id is null then
        begin
            return vault.create_secret(secret_value, secret_name, coalesce(secret_description, ''));
        exception
            when unique_violation then
                -- Another session created it meanwhile: update that one.
                select s.id into secret_id from vault.secrets as s where s.name = secret_name for update;
        end;
    end if;
    perform vault.update_secret(secret_id, secret_value, secret_name, coalesce(secret_description, ''));
    return secret_id;
end;
$$;

comment on function private.set_vault_secret(text, text, text) is
    'Creates the Vault secret secret_name or updates it in place: the doorbell''s setup, safe to run twice.';

-- The project owner's role runs it (SQL editor, deploy.sh); nobody else.
revoke all on function private.set_vault_secret(text, text, text) from public, anon, authenticated, service_role;

-- The doorbell itself exists only where pg_net does (hosted): re-create it
-- with the timeout above.
do $doorbell$
begin
    if not exists (select 1 from pg_extension where extname = 'pg_net') then
        raise notice 'pg_net is not installed: no outbox doorbell to update';
        return;
    end if;

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
            timeout_milliseconds := private.outbox_doorbell_timeout_ms()
        );
    exception
        when others then
            raise warning 'could not ring the outbox doorbell: %', sqlerrm;
            return null;
    end;
    $kick$;

    revoke all on function private.kick_outbox_relay(text) from public;
    grant execute on function private.kick_outbox_relay(text) to service_role;
end;
$doorbell$;
