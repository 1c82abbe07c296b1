//! Retry limits and delays.
//!
//! An outbound message whose send fails transiently is queued again, and
//! marked `failed` after [`OUTBOUND_MAXIMUM_ATTEMPTS`] attempts. Reconnects
//! to the database (the `LISTEN` connection, the start-up wait) back off
//! from half a second to ten seconds. (Outbox retries are the database's:
//! `private.record_outbox_failure`. Session reconnects are the core's:
//! [`health::reconnect_delay`].)

use std::time::Duration;

/// The number of send attempts after which an outbound message is marked
/// `failed`.
pub const OUTBOUND_MAXIMUM_ATTEMPTS: i32 = 5;

/// The first wait before reconnecting to the database.
pub const RECONNECT_INITIAL_DELAY: Duration = Duration::from_millis(500);

/// The longest wait between two reconnects to the database.
pub const RECONNECT_MAXIMUM_DELAY: Duration = Duration::from_secs(10);

/// Tells whether an outbound message that has failed `attempts` sends is
/// marked `failed` instead of being queued again.
pub fn outbound_message_has_failed(attempts: i32) -> bool {
    attempts >= OUTBOUND_MAXIMUM_ATTEMPTS
}

/// Returns the wait before the next reconnect after `n_failures` consecutive
/// failures: half a second, doubling, at most ten seconds.
pub fn reconnect_delay(n_failures: u32) -> Duration {
    let exponent = n_failures.min(10);
    let delay = RECONNECT_INITIAL_DELAY.saturating_mul(1_u32 << exponent);
    delay.min(RECONNECT_MAXIMUM_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_messages_fail_after_five_attempts() {
        assert!(!outbound_message_has_failed(4));
        assert!(outbound_message_has_failed(5));
    }

    #[test]
    fn reconnect_delay_grows_and_is_capped() {
        assert_eq!(reconnect_delay(0), Duration::from_millis(500));
        assert_eq!(reconnect_delay(1), Duration::from_secs(1));
        assert_eq!(reconnect_delay(3), Duration::from_secs(4));
        assert_eq!(reconnect_delay(5), Duration::from_secs(10));
        assert_eq!(reconnect_delay(u32::MAX), Duration::from_secs(10));
    }
}
