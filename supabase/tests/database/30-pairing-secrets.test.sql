-- Scenario 30: pairing secrets (a QR code's text, a pair code) link a
-- WhatsApp account, so nobody below operator can read them, through any
-- path: the connection event keeps what happened, the code moves to
-- number_pairing_codes, which only operators and above may read.
begin;
\ir _helpers.psql
select plan(10);
select tests.create_fixtures();

-- The session daemon writes a qr_shown event as it always has.
select tests.authenticate_as_service_role();
insert into public.number_connection_events (number_id, event, reason, detail)
values ('a0000000-0000-4000-8000-000000000001', 'qr_shown', 'scan the qr code',
        '{"qr": "2@live-qr-secret,abc,def", "expires_at": "2030-01-01T00:00:00Z"}'),
       ('a0000000-0000-4000-8000-000000000001', 'pair_code_shown', 'enter the code',
        '{"pair_code": "ABCD1234", "expires_at": "2030-01-01T00:00:00Z"}');
select tests.clear_authentication();

select is(
    (select count(*)::int from public.number_connection_events
      where number_id = 'a0000000-0000-4000-8000-000000000001'
        and (detail::text like '%live-qr-secret%' or detail::text like '%ABCD1234%')),
    0,
    'No connection event keeps a pairing secret, even for the table owner'
);
select is(
    (select detail from public.number_connection_events
      where number_id = 'a0000000-0000-4000-8000-000000000001' and event = 'qr_shown'),
    '{"expires_at": "2030-01-01T00:00:00Z", "secret_redacted": true}'::jsonb,
    'The event keeps its expiry and says that its secret was moved'
);

select tests.authenticate_as(tests.user_id('viewer'));
select is(
    (select count(*)::int from public.number_connection_events
      where number_id = 'a0000000-0000-4000-8000-000000000001' and event in ('qr_shown', 'pair_code_shown')),
    2,
    'A viewer still sees that a code was shown'
);
select is(
    (select count(*)::int from public.number_connection_events where detail::text like '%live-qr-secret%'),
    0,
    'A viewer reading the events, as PostgREST would, finds no QR code'
);
select is((select count(*)::int from public.number_pairing_codes), 0,
          'A viewer reads no pairing code (row-level security)');

select tests.authenticate_as_anon();
select throws_ok($$ select * from public.number_pairing_codes $$, '42501', null,
                 'The anon role has no privilege on the pairing codes');

select tests.authenticate_as(tests.user_id('operator'));
select is(
    (select qr from public.number_pairing_codes
      where number_id = 'a0000000-0000-4000-8000-000000000001' and event = 'qr_shown'),
    '2@live-qr-secret,abc,def',
    'An operator reads the QR code'
);
select is(
    (select pair_code from public.number_pairing_codes where event = 'pair_code_shown'),
    'ABCD1234',
    'An operator reads the pair code'
);
select throws_ok(
    $$ insert into public.number_pairing_codes (number_id, event_id, event, qr, shown_at)
       values ('a0000000-0000-4000-8000-000000000001', -1, 'qr_shown', 'forged', now()) $$,
    '42501', null,
    'Members cannot write pairing codes'
);
select tests.clear_authentication();

-- Retention.
update public.number_pairing_codes set shown_at = now() - interval '2 days' where event = 'qr_shown';
select is(private.prune_pairing_codes(), 1, 'Codes older than a day are pruned');

select * from finish();
rollback;
