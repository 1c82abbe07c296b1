//! Generated sweeps for the benchmarks, natively and in Wasm.
//!
//! [`generate_snapshots`] makes a deterministic, realistic mix of numbers
//! (mostly healthy, with every condition represented) from a seed, without
//! any randomness of its own. `crates/health/benches/sweep.rs` times
//! [`crate::evaluate_all`] over 10,000 of them natively; the same sweep is
//! written to `crates/health/fixtures/bench-10000-snapshots.json` (by a test
//! that fails when the file is stale) so the Wasm benchmark in Node and Deno
//! times exactly the same input.

use serde::{Deserialize, Serialize};

use crate::reconnect::splitmix64;
use crate::session::{ConnectionEventKind, SessionState};
use crate::verdict::{HealthThresholds, NumberSnapshot, RecentEvent};

/// The sweep's clock: 2027-01-15T08:00:00Z, in Unix milliseconds.
pub const BENCH_NOW_MS: i64 = 1_800_000_000_000;

/// The seed of the committed sweep.
pub const BENCH_SEED: u64 = 20_261_125;

/// The number of snapshots in the committed sweep.
pub const BENCH_SNAPSHOT_COUNT: usize = 10_000;

/// The content of `bench-10000-snapshots.json`: the input of the
/// `evaluate_all` entry point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchSweep {
    /// The numbers to judge.
    pub snapshots: Vec<NumberSnapshot>,
    /// The thresholds (the defaults).
    pub thresholds: HealthThresholds,
    /// The sweep's clock.
    pub now_ms: i64,
}

/// A deterministic stream of draws.
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> u64 {
        self.0 = splitmix64(self.0);
        self.0
    }

    /// A draw in `[0, bound)`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    /// A draw in `[0, bound)` milliseconds.
    fn millis_below(&mut self, bound: i64) -> i64 {
        i64::try_from(self.below(u64::try_from(bound).unwrap_or(1))).unwrap_or(0)
    }
}

/// Makes `count` snapshots at `now_ms` from `seed`. About 80 % are healthy;
/// the rest cover stale heartbeats, short and long disconnections,
/// flapping, zombies, rate limits, logouts, bans, pairing, starting and
/// stopped numbers.
pub fn generate_snapshots(count: usize, now_ms: i64, seed: u64) -> Vec<NumberSnapshot> {
    let mut draws = Draws(seed);
    (0..count)
        .map(|index| {
            let mut snapshot = NumberSnapshot {
                number_id: format!("n{index:05}"),
                state: SessionState::Connected,
                since_ms: now_ms - 3_600_000 - draws.millis_below(86_400_000),
                last_heartbeat_ms: Some(now_ms - draws.millis_below(10_000)),
                last_inbound_ms: Some(now_ms - draws.millis_below(600_000)),
                last_send_success_ms: Some(now_ms - draws.millis_below(300_000)),
                recent_send_failures_ms: Vec::new(),
                recent_events: Vec::new(),
                rate_limited_until_ms: None,
            };
            match draws.below(100) {
                0..=79 => {}
                80..=84 => {
                    snapshot.last_heartbeat_ms = Some(now_ms - 61_000 - draws.millis_below(600_000))
                }
                85..=86 => {
                    snapshot.state = SessionState::Disconnected;
                    snapshot.since_ms = now_ms - draws.millis_below(600_000);
                    snapshot.recent_events.push(RecentEvent {
                        at_ms: snapshot.since_ms,
                        kind: ConnectionEventKind::Disconnected,
                    });
                }
                87..=88 => {
                    for flap in 0..6 {
                        snapshot.recent_events.push(RecentEvent {
                            at_ms: now_ms - 60_000 * flap - draws.millis_below(30_000),
                            kind: ConnectionEventKind::Disconnected,
                        });
                    }
                }
                89..=90 => {
                    snapshot.last_inbound_ms =
                        Some(now_ms - 1_000_000 - draws.millis_below(1_000_000));
                    snapshot.last_send_success_ms = Some(now_ms - 400_000);
                    snapshot.recent_send_failures_ms =
                        (1..=4).map(|failure| now_ms - 20_000 * failure).collect();
                }
                91 => {
                    snapshot.state = SessionState::RateLimited;
                    snapshot.since_ms = now_ms - draws.millis_below(60_000);
                    snapshot.rate_limited_until_ms = Some(now_ms + draws.millis_below(3_600_000));
                }
                92 => snapshot.state = SessionState::LoggedOut,
                93 => snapshot.state = SessionState::Banned,
                94..=95 => snapshot.state = SessionState::Stopped,
                96..=97 => {
                    snapshot.state = SessionState::Pairing;
                    snapshot.since_ms = now_ms - draws.millis_below(1_200_000);
                }
                _ => {
                    snapshot.state = SessionState::Connecting;
                    snapshot.since_ms = now_ms - draws.millis_below(300_000);
                }
            }
            if !matches!(
                snapshot.state,
                SessionState::Connected | SessionState::RateLimited
            ) {
                snapshot.last_heartbeat_ms = None;
            }
            snapshot
        })
        .collect()
}

/// Returns the committed sweep: [`BENCH_SNAPSHOT_COUNT`] snapshots from
/// [`BENCH_SEED`] at [`BENCH_NOW_MS`], with the default thresholds.
pub fn bench_sweep() -> BenchSweep {
    BenchSweep {
        snapshots: generate_snapshots(BENCH_SNAPSHOT_COUNT, BENCH_NOW_MS, BENCH_SEED),
        thresholds: HealthThresholds::default(),
        now_ms: BENCH_NOW_MS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{evaluate_all, Condition};

    #[test]
    fn the_sweep_covers_every_condition_but_is_mostly_healthy() {
        let sweep = bench_sweep();
        let verdicts = evaluate_all(&sweep.snapshots, &sweep.thresholds, sweep.now_ms);
        let count = |condition: Condition| {
            verdicts
                .iter()
                .filter(|verdict| verdict.condition == condition)
                .count()
        };
        assert!(count(Condition::Healthy) > 7_500);
        for condition in [
            Condition::Stopped,
            Condition::Starting,
            Condition::StartStalled,
            Condition::Pairing,
            Condition::PairingStalled,
            Condition::Reconnecting,
            Condition::Disconnected,
            Condition::StaleHeartbeat,
            Condition::Zombie,
            Condition::Flapping,
            Condition::RateLimited,
            Condition::LoggedOut,
            Condition::Banned,
        ] {
            assert!(count(condition) > 0, "{condition:?}");
        }
    }
}
