//! Retry delays.
//!
//! Outbox rows are retried with exponential backoff: after the n-th failed
//! attempt the row waits `min(2^n, 300)` seconds, and after
//! [`OUTBOX_MAXIMUM_ATTEMPTS`] attempts it is dead-lettered (`dead_at`).
//! Reconnects to the database back off from half a second to ten seconds.

use std::time::Duration;

/// The number of delivery attempts after which an outbox row is given up
/// (`dead_at` is set).
pub const OUTBOX_MAXIMUM_ATTEMPTS: i32 = 10;

/// The longest wait between two delivery attempts of an outbox row.
pub const OUTBOX_MAXIMUM_RETRY_DELAY: Duration = Duration::from_secs(300);

/// The number of send attempts after which an outbound message is marked
/// `failed`.
pub const OUTBOUND_MAXIMUM_ATTEMPTS: i32 = 5;

/// The first wait before reconnecting to the database.
pub const RECONNECT_INITIAL_DELAY: Duration = Duration::from_millis(500);

/// The longest wait between two reconnects to the database.
pub const RECONNECT_MAXIMUM_DELAY: Duration = Duration::from_secs(10);

/// Returns how long an outbox row waits after its `attempts`-th failed
/// delivery: `2^attempts` seconds, at most five minutes.
///
/// An `attempts` of zero or less (which the relay never produces, since a
/// claim counts as an attempt) waits one second.
pub fn outbox_retry_delay(attempts: i32) -> Duration {
    if attempts <= 0 {
        return Duration::from_secs(1);
    }
    // 2^9 = 512 is already past the cap, so larger exponents need no power.
    if attempts >= 9 {
        return OUTBOX_MAXIMUM_RETRY_DELAY;
    }
    let seconds = 1_u64 << attempts;
    Duration::from_secs(seconds).min(OUTBOX_MAXIMUM_RETRY_DELAY)
}

/// Tells whether an outbox row that has failed `attempts` times is given up.
pub fn outbox_row_is_dead(attempts: i32) -> bool {
    attempts >= OUTBOX_MAXIMUM_ATTEMPTS
}

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
    fn outbox_delay_doubles_from_two_seconds() {
        assert_eq!(outbox_retry_delay(1), Duration::from_secs(2));
        assert_eq!(outbox_retry_delay(2), Duration::from_secs(4));
        assert_eq!(outbox_retry_delay(5), Duration::from_secs(32));
        assert_eq!(outbox_retry_delay(8), Duration::from_secs(256));
    }

    #[test]
    fn outbox_delay_is_capped_at_five_minutes() {
        assert_eq!(outbox_retry_delay(9), Duration::from_secs(300));
        assert_eq!(outbox_retry_delay(10), Duration::from_secs(300));
        assert_eq!(outbox_retry_delay(i32::MAX), Duration::from_secs(300));
    }

    #[test]
    fn outbox_delay_of_nonsense_attempts_is_one_second() {
        assert_eq!(outbox_retry_delay(0), Duration::from_secs(1));
        assert_eq!(outbox_retry_delay(-3), Duration::from_secs(1));
    }

    #[test]
    fn outbox_rows_die_after_ten_attempts() {
        assert!(!outbox_row_is_dead(9));
        assert!(outbox_row_is_dead(10));
        assert!(outbox_row_is_dead(11));
    }

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
