-- alert_deliveries.error is readable by admins only (issue 12, item 5):
-- viewers and operators read the rest of the delivery log but not the
-- error, directly (as PostgREST would) or through the helper.
begin;
\ir _helpers.psql
select plan(12);
select tests.create_fixtures();

insert into public.alert_deliveries (alert_id, channel_id, status, response_code, error)
values ('e0000000-0000-4000-8000-000000000001', 'f0000000-0000-4000-8000-000000000001', 'failed', 500,
        'http 500: internal service said secret-token-123');

select tests.authenticate_as(tests.user_id('viewer'));
select is((select count(*)::int from public.alert_deliveries), 2, 'A viewer still reads the delivery log rows');
select is((select max(response_code) from public.alert_deliveries), 500, 'A viewer reads the response codes');
select throws_ok($$ select error from public.alert_deliveries $$, '42501', null,
                 'A viewer cannot select alert_deliveries.error');
select throws_ok($$ select * from public.alert_deliveries $$, '42501', null,
                 'A viewer cannot select * (which includes error)');
select is((select private.alert_delivery_error(id) from public.alert_deliveries where status = 'failed'), null,
          'The helper answers null to a viewer');

select tests.authenticate_as(tests.user_id('operator'));
select throws_ok($$ select error from public.alert_deliveries $$, '42501', null,
                 'An operator cannot select alert_deliveries.error');
select is((select private.alert_delivery_error(id) from public.alert_deliveries where status = 'failed'), null,
          'The helper answers null to an operator');

select tests.authenticate_as(tests.user_id('admin'));
select is((select private.alert_delivery_error(id) from public.alert_deliveries where status = 'failed'),
          'http 500: internal service said secret-token-123', 'An admin reads the error through the helper');

select tests.authenticate_as(tests.user_id('owner'));
select is((select private.alert_delivery_error(id) from public.alert_deliveries where status = 'failed'),
          'http 500: internal service said secret-token-123', 'The owner reads the error through the helper');

select tests.authenticate_as(tests.user_id('outsider'));
select is((select private.alert_delivery_error(max(id)) from public.alert_deliveries), null,
          'An outsider reads nothing');

select tests.authenticate_as_anon();
select throws_ok($$ select id from public.alert_deliveries $$, '42501', null, 'anon reads nothing');

select tests.authenticate_as_service_role();
select is((select error from public.alert_deliveries where status = 'failed'),
          'http 500: internal service said secret-token-123', 'The service role reads the error directly');

select * from finish();
rollback;
