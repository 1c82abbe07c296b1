-- Scenario 16: what the Edge Functions keep in the database: alert
-- reconcile state, channel kinds and WhatsApp senders, the digest state and
-- planned notifications (service role only), when a session entered its
-- status, archived bots, and the outbox's dead letters for operators and
-- admins.
begin;
\ir _helpers.psql
select plan(27);
select tests.create_fixtures();

-- Alerts carry their reconcile state.
select is(
    (select array[flap_count::text, flapping::text, coalesce(healthy_since::text, 'null')]
       from public.alerts where id = 'e0000000-0000-4000-8000-000000000001'),
    array['0', 'false', 'null'],
    'A new alert has no flaps, is not flapping and is not recovering'
);
select has_column('public', 'alerts', 'last_flap_at', 'Alerts remember when they last flapped');

-- When the session entered its status.
update public.numbers set session_status_changed_at = now() - interval '1 hour'
where id = 'a0000000-0000-4000-8000-000000000001';
update public.numbers set label = 'Relabelled' where id = 'a0000000-0000-4000-8000-000000000001';
select ok(
    (select session_status_changed_at < now() - interval '59 minutes' from public.numbers
      where id = 'a0000000-0000-4000-8000-000000000001'),
    'Changing another column leaves session_status_changed_at alone'
);
select tests.authenticate_as_service_role();
update public.numbers set session_status = 'disconnected' where id = 'a0000000-0000-4000-8000-000000000001';
select tests.clear_authentication();
select is(
    (select session_status_changed_at from public.numbers where id = 'a0000000-0000-4000-8000-000000000001'),
    now(),
    'A status change stamps session_status_changed_at'
);
select is(
    (select count(*)::int from public.audit_log_entries
      where target_table = 'numbers' and details -> 'changed' ? 'session_status_changed_at'),
    0,
    'The stamp, like the status, is not audited'
);

-- Channels: kinds and the WhatsApp sender, admins only.
select tests.authenticate_as(tests.user_id('admin'));
update public.alert_channels
set kinds = '{disconnected,logged_out}', sender_number_id = 'a0000000-0000-4000-8000-000000000001'
where id = 'f0000000-0000-4000-8000-000000000001';
select is(
    (select kinds from public.alert_channels where id = 'f0000000-0000-4000-8000-000000000001'),
    '{disconnected,logged_out}'::text[],
    'An admin sets the alert kinds a channel hears about'
);
select throws_ok(
    $$ update public.alert_channels set kinds = array[null]::text[] $$,
    '23514', null,
    'A channel''s kinds cannot hold a null'
);
select tests.authenticate_as(tests.user_id('operator'));
select is_empty(
    $$ update public.alert_channels set kinds = '{}' returning id $$,
    'An operator cannot change a channel (they cannot even see it)'
);

-- Archived bots, admins only.
select tests.authenticate_as(tests.user_id('operator'));
select is_empty(
    $$ update public.bots set archived_at = now() returning id $$,
    'An operator cannot archive a bot'
);
select tests.authenticate_as(tests.user_id('admin'));
select isnt_empty(
    $$ update public.bots set archived_at = now() where id = 'b0000000-0000-4000-8000-000000000001' returning id $$,
    'An admin archives a bot'
);

-- The alert-dispatch bookkeeping is the service role's alone.
select tests.authenticate_as(tests.user_id('owner'));
select throws_ok($$ select * from private.alert_digest_state $$, '42501', null,
                 'Not even an owner reads the digest state');
select throws_ok($$ select * from private.alert_notifications $$, '42501', null,
                 'Not even an owner reads the planned notifications');
select throws_ok($$ select * from private.alert_dispatch_events $$, '42501', null,
                 'Not even an owner reads the planned events');
select tests.authenticate_as_service_role();
select is((select count(*)::int from private.alert_digest_state), 1,
          'The service role reads the one digest state row');
insert into private.alert_notifications (notification_id, channel_id, channel_kind, severity, payload, source_key,
                                         delivered_at, created_at)
values ('00000000000000aa', 'f0000000-0000-4000-8000-000000000001', 'webhook', 'critical', '{"format": "webhook"}',
        'alert:test', now(), now() - interval '40 days');
insert into private.alert_dispatch_events (event_key, processed_at)
values ('alert:test', now() - interval '40 days');
select tests.clear_authentication();
select ok((private.apply_retention() ->> 'alert_notifications')::int >= 1,
          'The retention job reports the alert notifications it deleted');
select ok(
    not exists (select 1 from private.alert_notifications where notification_id = '00000000000000aa')
      and not exists (select 1 from private.alert_dispatch_events where event_key = 'alert:test'),
    'Retention deletes old delivered notifications and old planned events'
);

-- Dead letters.
delete from public.outbox;
insert into public.outbox (id, topic, payload, attempts, last_error, dead_at)
overriding system value
values (9001, 'alert-dispatch', '{"type": "INSERT"}', 10, 'http 500', now()),
       (9002, 'route-message', '{"message_id": "m"}', 10, 'http 422', now());
insert into public.outbox (id, topic, payload) overriding system value
values (9003, 'alert-dispatch', '{"type": "UPDATE"}');

select tests.authenticate_as(tests.user_id('viewer'));
select throws_ok($$ select * from private.outbox_dead_letters() $$, '42501', null,
                 'A viewer cannot read dead letters');
select throws_ok($$ select * from public.outbox $$, '42501', null,
                 'The outbox itself stays closed to signed-in users');
select tests.authenticate_as(tests.user_id('operator'));
select is((select array_agg(id order by id) from private.outbox_dead_letters()), array[9001, 9002]::bigint[],
          'An operator reads the dead letters, and only them');
select is((select array_agg(id) from private.outbox_dead_letters('alert-dispatch')), array[9001]::bigint[],
          'Dead letters filter by topic');
select is((select array_agg(id) from private.outbox_dead_letters(null, 1, null)), array[9002]::bigint[],
          'Dead letters come newest first, a page at a time');
select is((select array_agg(id) from private.outbox_dead_letters(null, 10, 9002)), array[9001]::bigint[],
          'The next page starts below the cursor');
select throws_ok($$ select private.retry_outbox_dead_letter(9001) $$, '42501', null,
                 'An operator cannot retry a dead letter');
select tests.authenticate_as(tests.user_id('admin'));
select ok(private.retry_outbox_dead_letter(9001), 'An admin retries a dead letter');
select ok(not private.retry_outbox_dead_letter(9003), 'A row that is not dead is not retried');
select tests.clear_authentication();
select is(
    (select array[coalesce(dead_at::text, 'null'), attempts::text, (next_attempt_at <= now())::text]
       from public.outbox where id = 9001),
    array['null', '0', 'true'],
    'A retried dead letter is due again with fresh attempts'
);
select is(
    (select actor_id from public.audit_log_entries where action = 'outbox.retried' and target_id = '9001'),
    tests.user_id('admin'),
    'The retry is audited in the admin''s name'
);

select * from finish();
rollback;
