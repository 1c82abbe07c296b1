-- Scenario 23 (issue 12, item 7): the doorbell's Vault setup is safe to run
-- twice, and its pg_net timeout covers outbox-relay's time budget. Locally
-- Vault is the bootstrap's stand-in (same signatures as supabase_vault) and
-- pg_net is absent, so the doorbell's own request is not exercised here.
begin;
\ir _helpers.psql
select plan(11);

-- Bare vault.create_secret fails on the second run: names are unique. This
-- is what the old setup in docs/deploy.md did.
select lives_ok($$select vault.create_secret('https://first.example', 'wabot_test_bare')$$,
                'The first vault.create_secret of a name succeeds');
select throws_ok($$select vault.create_secret('https://second.example', 'wabot_test_bare')$$, '23505', null,
                 'A second vault.create_secret of the same name fails (unique names)');

-- private.set_vault_secret creates, then updates in place.
select lives_ok($$select private.set_vault_secret('project_url', 'https://old.example')$$,
                'set_vault_secret creates a missing secret');
select lives_ok($$select private.set_vault_secret('project_url', 'https://abcdefghijklmnopqrst.supabase.co')$$,
                'set_vault_secret run a second time succeeds');
select is((select count(*)::int from vault.secrets where name = 'project_url'), 1,
          'Running it twice leaves one secret of that name');
select is((select decrypted_secret from vault.decrypted_secrets where name = 'project_url'),
          'https://abcdefghijklmnopqrst.supabase.co',
          'The second run''s value is the one vault.decrypted_secrets gives');
select is(private.set_vault_secret('outbox_relay_secret', 's1'),
          private.set_vault_secret('outbox_relay_secret', 's2'),
          'Both runs name the same secret id');

select throws_ok($$select private.set_vault_secret('outbox_relay_secret', '  ')$$, '22023',
                 'set_vault_secret: secret_value of outbox_relay_secret is empty',
                 'An empty value is refused, naming the secret');
select throws_ok($$select private.set_vault_secret('Project URL''; drop', 'x')$$, '22023', null,
                 'A name that is not a lowercase identifier is refused');

set local role service_role;
select throws_ok($$select private.set_vault_secret('project_url', 'https://evil.example')$$, '42501', null,
                 'The service role (and so every API caller) may not set Vault secrets');
reset role;

-- outbox-relay starts no new round after TIME_BUDGET_MS = 25 000 ms
-- (functions/outbox-relay/index.ts); pg_net's default timeout is 2 000 ms.
select ok(private.outbox_doorbell_timeout_ms() >= 25000 + 5000,
          'The doorbell waits for the relay''s whole 25 s budget plus 5 s for its last round');

select * from finish();
rollback;
