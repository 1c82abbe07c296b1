//! When to reconnect a dropped session, and when not to.
//!
//! # Exponential backoff with full jitter
//!
//! The n-th attempt (counting from 1) waits a delay drawn uniformly from
//! `[0, ceiling(n)]`, where `ceiling(n) = min(max_delay_ms, base_delay_ms ×
//! 2^(n−1))` ([`backoff_ceiling_ms`]). Drawing from the whole range ("full
//! jitter") rather than adding a little noise to a fixed delay spreads the
//! reconnects of many numbers that dropped together (a daemon restart, a
//! WhatsApp outage) instead of sending them back in waves. Peers do worse:
//! whatsmeow waits `n × 2 s` with no cap, Evolution API reconnects at once
//! (and loops, #765), WAHA waits a fixed two seconds.
//!
//! The crate draws no random numbers of its own: the caller passes a `seed`
//! (for example a hash of the number id and the time the connection
//! dropped), and the delay comes from
//! SplitMix64 seeded with `seed ^ attempt`, so a given number and attempt
//! always get the same delay, in tests and in production alike, natively
//! and in Wasm.
//!
//! # Reset after a stable period
//!
//! A connection that lasted at least `stable_after_ms` proves the number is
//! fine, so the next drop starts again at attempt 1; a connection that
//! dropped sooner continues the count, so a number that connects and falls
//! again within seconds keeps backing off.
//!
//! # When not to retry
//!
//! | State, or last event | Decision |
//! |---|---|
//! | `logged_out` | give up: the number must be paired again |
//! | `banned` | give up: nothing automatic helps |
//! | `stopped` | give up: an operator stopped it |
//! | last event `stream_replaced` | give up: another process holds the session; retrying would fight it (the lease decides who owns a number) |
//! | last event `client_outdated` | give up: the runtime must be updated first |
//! | `starting`, `pairing`, `connecting`, `connected` | not needed |
//! | `disconnected` | retry after the jittered backoff |
//! | `rate_limited` | retry after the jittered backoff, and not before `wait_until_ms` |

use serde::{Deserialize, Serialize};

use crate::session::{ConnectionEventKind, SessionState};

/// The shape of the backoff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReconnectPolicy {
    /// The ceiling of the first attempt's delay. Default 2,000 ms.
    pub base_delay_ms: i64,
    /// The cap on every delay. Default 300,000 ms (five minutes).
    pub max_delay_ms: i64,
    /// A connection that lasted this long resets the attempt count. Default
    /// 120,000 ms (two minutes).
    pub stable_after_ms: i64,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            base_delay_ms: 2_000,
            max_delay_ms: 300_000,
            stable_after_ms: 120_000,
        }
    }
}

/// What the caller knows when a session needs (or might need) a reconnect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconnectRequest {
    /// The session's state now.
    pub state: SessionState,
    /// The attempts made since the last stable connection: the `attempt` of
    /// the previous [`ReconnectDecision::Retry`], or 0.
    #[serde(default)]
    pub previous_attempts: u32,
    /// How long the last connection lasted before it dropped, if it was
    /// connected at all.
    #[serde(default)]
    pub last_connected_for_ms: Option<i64>,
    /// The last connection event, if known.
    #[serde(default)]
    pub last_event: Option<ConnectionEventKind>,
    /// WhatsApp's "not before" (a rate limit's or temporary ban's end), in
    /// Unix milliseconds, if any.
    #[serde(default)]
    pub wait_until_ms: Option<i64>,
    /// The jitter's seed, such as a hash of the number id and the time the
    /// connection dropped (so two incidents of one number draw differently).
    /// Callers in JavaScript should keep it at or below 2^53.
    pub seed: u64,
    /// The current time, in Unix milliseconds.
    pub now_ms: i64,
}

/// Why a session is not reconnected automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiveUpReason {
    /// WhatsApp unlinked the device; a person must pair it again.
    LoggedOut,
    /// WhatsApp banned the number.
    Banned,
    /// An operator stopped the session.
    Stopped,
    /// Another process took the session over.
    StreamReplaced,
    /// The runtime's WhatsApp client is too old.
    ClientOutdated,
}

/// What to do about a session's connection. In JSON, an object tagged by
/// `decision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReconnectDecision {
    /// Reconnect after a delay.
    Retry {
        /// The number of this attempt, counting from 1; pass it back as
        /// `previous_attempts` next time.
        attempt: u32,
        /// How long to wait, in milliseconds.
        delay_ms: i64,
        /// When to reconnect: `now_ms + delay_ms`.
        retry_at_ms: i64,
        /// The upper bound the delay was drawn under.
        ceiling_ms: i64,
    },
    /// Do not reconnect automatically.
    GiveUp {
        /// Why not.
        reason: GiveUpReason,
    },
    /// The session is up or on its way up; nothing to do.
    NotNeeded {
        /// The state that makes a reconnect unnecessary.
        state: SessionState,
    },
}

/// SplitMix64 (Steele, Lea and Flood, 2014): one step of a tiny,
/// well-mixed deterministic generator, enough for jitter.
pub fn splitmix64(state: u64) -> u64 {
    let mut value = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    value ^ (value >> 31)
}

/// Returns the upper bound of attempt `attempt`'s delay: 0 for attempt 0,
/// then `min(max_delay_ms, base_delay_ms × 2^(attempt−1))`. Never negative,
/// never above the cap, and non-decreasing in `attempt`.
pub fn backoff_ceiling_ms(policy: &ReconnectPolicy, attempt: u32) -> i64 {
    let cap = policy.max_delay_ms.max(0);
    let base = policy.base_delay_ms.max(0).min(cap);
    if attempt == 0 {
        return 0;
    }
    let doublings = attempt - 1;
    if doublings >= 62 {
        return cap;
    }
    base.saturating_mul(1_i64 << doublings).min(cap)
}

/// Returns attempt `attempt`'s delay: uniform in `[0, ceiling]`, drawn from
/// SplitMix64 seeded with `seed ^ attempt`.
pub fn jittered_delay_ms(policy: &ReconnectPolicy, attempt: u32, seed: u64) -> i64 {
    let ceiling = backoff_ceiling_ms(policy, attempt);
    let span = u64::try_from(ceiling).unwrap_or(0).saturating_add(1);
    let draw = splitmix64(seed ^ u64::from(attempt)) % span;
    i64::try_from(draw).unwrap_or(ceiling)
}

/// Decides whether and when to reconnect a session.
pub fn reconnect_delay(policy: &ReconnectPolicy, request: &ReconnectRequest) -> ReconnectDecision {
    match request.state {
        SessionState::LoggedOut => {
            return ReconnectDecision::GiveUp {
                reason: GiveUpReason::LoggedOut,
            }
        }
        SessionState::Banned => {
            return ReconnectDecision::GiveUp {
                reason: GiveUpReason::Banned,
            }
        }
        SessionState::Stopped => {
            return ReconnectDecision::GiveUp {
                reason: GiveUpReason::Stopped,
            }
        }
        SessionState::Starting
        | SessionState::Pairing
        | SessionState::Connecting
        | SessionState::Connected => {
            return ReconnectDecision::NotNeeded {
                state: request.state,
            }
        }
        SessionState::Disconnected | SessionState::RateLimited => {}
    }
    match request.last_event {
        Some(ConnectionEventKind::StreamReplaced) => {
            return ReconnectDecision::GiveUp {
                reason: GiveUpReason::StreamReplaced,
            }
        }
        Some(ConnectionEventKind::ClientOutdated) => {
            return ReconnectDecision::GiveUp {
                reason: GiveUpReason::ClientOutdated,
            }
        }
        _ => {}
    }
    let was_stable = request
        .last_connected_for_ms
        .is_some_and(|connected_for| connected_for >= policy.stable_after_ms);
    let attempt = if was_stable {
        1
    } else {
        request.previous_attempts.saturating_add(1)
    };
    let ceiling_ms = backoff_ceiling_ms(policy, attempt);
    let mut delay_ms = jittered_delay_ms(policy, attempt, request.seed);
    if let Some(wait_until_ms) = request.wait_until_ms {
        delay_ms = delay_ms.max(wait_until_ms.saturating_sub(request.now_ms));
    }
    ReconnectDecision::Retry {
        attempt,
        delay_ms,
        retry_at_ms: request.now_ms.saturating_add(delay_ms),
        ceiling_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(state: SessionState, previous_attempts: u32) -> ReconnectRequest {
        ReconnectRequest {
            state,
            previous_attempts,
            last_connected_for_ms: None,
            last_event: Some(ConnectionEventKind::Disconnected),
            wait_until_ms: None,
            seed: 42,
            now_ms: 1_000_000,
        }
    }

    #[test]
    fn the_ceiling_doubles_up_to_the_cap() {
        let policy = ReconnectPolicy::default();
        let ceilings: Vec<i64> = (0..10)
            .map(|attempt| backoff_ceiling_ms(&policy, attempt))
            .collect();
        assert_eq!(
            ceilings,
            vec![0, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000]
        );
        assert_eq!(backoff_ceiling_ms(&policy, u32::MAX), 300_000);
    }

    #[test]
    fn delays_are_deterministic_and_vary_with_the_seed() {
        let policy = ReconnectPolicy::default();
        assert_eq!(
            jittered_delay_ms(&policy, 5, 7),
            jittered_delay_ms(&policy, 5, 7)
        );
        let distinct: std::collections::BTreeSet<i64> = (0..50)
            .map(|seed| jittered_delay_ms(&policy, 5, seed))
            .collect();
        assert!(distinct.len() > 40, "{distinct:?}");
    }

    #[test]
    fn attempts_count_up_and_reset_after_a_stable_connection() {
        let policy = ReconnectPolicy::default();
        let ReconnectDecision::Retry {
            attempt,
            ceiling_ms,
            retry_at_ms,
            delay_ms,
        } = reconnect_delay(&policy, &request(SessionState::Disconnected, 3))
        else {
            panic!("expected a retry");
        };
        assert_eq!((attempt, ceiling_ms), (4, 16_000));
        assert_eq!(retry_at_ms, 1_000_000 + delay_ms);
        let mut stable = request(SessionState::Disconnected, 3);
        stable.last_connected_for_ms = Some(120_000);
        assert!(matches!(
            reconnect_delay(&policy, &stable),
            ReconnectDecision::Retry {
                attempt: 1,
                ceiling_ms: 2_000,
                ..
            }
        ));
    }

    #[test]
    fn no_retry_after_logout_ban_stop_or_takeover() {
        let policy = ReconnectPolicy::default();
        for (state, reason) in [
            (SessionState::LoggedOut, GiveUpReason::LoggedOut),
            (SessionState::Banned, GiveUpReason::Banned),
            (SessionState::Stopped, GiveUpReason::Stopped),
        ] {
            assert_eq!(
                reconnect_delay(&policy, &request(state, 0)),
                ReconnectDecision::GiveUp { reason }
            );
        }
        let mut replaced = request(SessionState::Disconnected, 0);
        replaced.last_event = Some(ConnectionEventKind::StreamReplaced);
        assert_eq!(
            reconnect_delay(&policy, &replaced),
            ReconnectDecision::GiveUp {
                reason: GiveUpReason::StreamReplaced
            }
        );
        assert_eq!(
            reconnect_delay(&policy, &request(SessionState::Connected, 0)),
            ReconnectDecision::NotNeeded {
                state: SessionState::Connected
            }
        );
    }

    #[test]
    fn a_temporary_ban_delays_the_retry_to_its_end() {
        let mut banned = request(SessionState::RateLimited, 0);
        banned.last_event = Some(ConnectionEventKind::TemporaryBan);
        banned.wait_until_ms = Some(1_000_000 + 3_600_000);
        assert!(matches!(
            reconnect_delay(&ReconnectPolicy::default(), &banned),
            ReconnectDecision::Retry {
                delay_ms: 3_600_000,
                retry_at_ms: 4_600_000,
                ..
            }
        ));
    }
}
