-- The incident the runbook check responds to (scripts/tests/ops-suites.sh):
-- the demo number +15550100001 was rate-limited, then dropped with stream
-- error 515, and the health monitor opened a critical alert for it 31
-- minutes ago that nobody acknowledged (so the alert-escalation job takes
-- it). Run as postgres against the test database, before the runbook's
-- commands; the demo number's daemon is running, so the runbook's restart
-- brings it back.
insert into public.number_connection_events (number_id, event, reason, code, detail, occurred_at)
values ('00000000-0000-4000-8000-00000000a001', 'rate_limited', 'rate-overlimit', '130429',
        '{"source": "runbook check"}', now() - interval '40 minutes'),
       ('00000000-0000-4000-8000-00000000a001', 'disconnected', 'stream error', '515',
        '{"source": "runbook check"}', now() - interval '31 minutes');

insert into public.alerts (kind, severity, number_id, dedupe_key, status, title, details, created_at)
values ('disconnected', 'critical', '00000000-0000-4000-8000-00000000a001',
        'number:00000000-0000-4000-8000-00000000a001:session', 'open',
        'Demo number disconnected (515)', '{"code": "515", "source": "runbook check"}',
        now() - interval '31 minutes')
on conflict do nothing;
