-- =============================================================================
-- Claiming outbox rows in time independent of the backlog.
--
-- The load benchmark (scripts/bench/load.sh) found every claim scanning the
-- whole undelivered backlog: `private.claim_outbox` wants the oldest due rows
-- (`order by id limit batch_size`) and first dead-letters rows whose
-- attempts are used up, and neither had an index that lets it stop early.
-- With 10,000 messages waiting, each claim cost as much as the backlog.
--
-- * `outbox_pending_by_id`: the pending rows in id order, so a claim walks
--   the oldest ones and stops after its batch.
-- * `outbox_pending_by_attempts`: the dead-lettering step finds rows whose
--   attempts are used up through a range scan that is empty almost always.
-- =============================================================================

create index outbox_pending_by_id on public.outbox (id)
    where delivered_at is null and dead_at is null;

create index outbox_pending_by_attempts on public.outbox (attempts)
    where delivered_at is null and dead_at is null;
