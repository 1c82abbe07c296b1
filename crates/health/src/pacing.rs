//! The ban-risk governor: how fast, and to whom, one number may send.
//!
//! No peer paces sends for the operator: Baileys and whatsmeow expose the
//! new-chat quota and the reach-out timelock (error 463) but leave them to
//! the caller, WAHA only gives advice, and Evolution API's warm-up is still
//! a feature request (#1840). Bans (whatsmeow code 101: "too many messages
//! to people who don't have you as a contact") and 429/463 errors follow. So
//! every outbound message asks [`pace`] first, with the number's
//! [`PacingState`], which the daemon persists between sends.
//!
//! # The rules, in the order they are checked
//!
//! 1. **Pause after rate-limit errors.** [`record_rate_limit_error`] pauses
//!    the number for an escalating period: the n-th error in a row (errors
//!    less than `rate_limit_memory_ms` apart) pauses for
//!    `rate_limit_pauses_ms[n−1]` (the last entry repeats), or until the end
//!    WhatsApp named, whichever is later. Defaults: 1 min, 5 min, 30 min,
//!    2 h, 6 h; the memory is a day. While paused, [`pace`] answers
//!    `wait` until the pause ends, and the token bucket does not fill, so
//!    the number does not burst the moment the pause ends.
//! 2. **New contacts need a budget.** A contact the number never messaged
//!    before uses one unit of the day's new-contact budget. The days are
//!    UTC calendar days (`now_ms / 86,400,000`). A spent budget answers
//!    `wait` until the next UTC midnight; a stage with no budget at all
//!    answers `refuse`.
//! 3. **A token bucket paces every send.** Each send takes one token; tokens
//!    refill continuously at `refill_per_second`, up to `capacity`. An empty
//!    bucket answers `wait` until the next token.
//!
//! A decision other than `send` leaves the state untouched.
//!
//! # Warm-up for young numbers
//!
//! A number's first weeks carry the most ban risk, so its limits grow with
//! its age. The first stage whose `below_age_days` exceeds the number's age
//! applies; a number older than every stage gets the configuration's own
//! limits. The default schedule:
//!
//! | Age (days) | New contacts per day | Refill per second (per minute) | Capacity |
//! |---|---|---|---|
//! | 0 | 0 (replies and known contacts only) | 0.05 (3) | 2 |
//! | 1–2 | 10 | 0.1 (6) | 3 |
//! | 3–6 | 25 | 0.2 (12) | 5 |
//! | 7–13 | 50 | 0.3 (18) | 8 |
//! | 14–29 | 100 | 0.4 (24) | 10 |
//! | 30 and more | 150 | 0.5 (30) | 10 |
//!
//! For comparison, the Cloud API lets a new business message 250 unique
//! users a day and enforces about one message every six seconds to one
//! user; an unofficial session is judged more harshly, so the mature
//! defaults stay below that.
//!
//! # Integer state
//!
//! Tokens are kept in millionths (`tokens_micro`) and the refill rate is
//! rounded to millionths of a token per millisecond, so the state is made of
//! integers, identical natively and in Wasm, and `wait` times are exact: at
//! `until_ms` the token is there.

use serde::{Deserialize, Serialize};

/// Milliseconds in a UTC day.
pub const DAY_MS: i64 = 86_400_000;

/// Millionths of a token in one token.
pub const MICROTOKENS_PER_TOKEN: i64 = 1_000_000;

/// The limits of numbers younger than `below_age_days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarmUpStage {
    /// The stage applies to numbers younger than this many days.
    pub below_age_days: u32,
    /// How many new contacts such a number may message per UTC day.
    pub new_contacts_per_day: u32,
    /// How many tokens refill per second.
    pub refill_per_second: f64,
    /// How many tokens the bucket holds at most.
    pub capacity: u32,
}

/// The governor's limits. Every field has a default, so a partial object in
/// JSON overrides only what it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PacingConfig {
    /// The bucket's capacity for mature numbers. Default 10.
    pub capacity: u32,
    /// Tokens refilled per second for mature numbers. Default 0.5 (30 a
    /// minute).
    pub refill_per_second: f64,
    /// New contacts per UTC day for mature numbers. Default 150.
    pub new_contacts_per_day: u32,
    /// The warm-up schedule; see the module documentation for the default.
    pub warm_up: Vec<WarmUpStage>,
    /// The pauses after the 1st, 2nd, … rate-limit error in a row; the last
    /// repeats. Default 60,000, 300,000, 1,800,000, 7,200,000 and
    /// 21,600,000 ms.
    pub rate_limit_pauses_ms: Vec<i64>,
    /// Errors further apart than this no longer escalate: the count starts
    /// again. Default 86,400,000 ms (a day).
    pub rate_limit_memory_ms: i64,
}

impl Default for PacingConfig {
    fn default() -> Self {
        let stage =
            |below_age_days, new_contacts_per_day, refill_per_second, capacity| WarmUpStage {
                below_age_days,
                new_contacts_per_day,
                refill_per_second,
                capacity,
            };
        Self {
            capacity: 10,
            refill_per_second: 0.5,
            new_contacts_per_day: 150,
            warm_up: vec![
                stage(1, 0, 0.05, 2),
                stage(3, 10, 0.1, 3),
                stage(7, 25, 0.2, 5),
                stage(14, 50, 0.3, 8),
                stage(30, 100, 0.4, 10),
            ],
            rate_limit_pauses_ms: vec![60_000, 300_000, 1_800_000, 7_200_000, 21_600_000],
            rate_limit_memory_ms: DAY_MS,
        }
    }
}

/// The limits that apply to one number at its age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveLimits {
    /// New contacts per UTC day.
    pub new_contacts_per_day: u32,
    /// Millionths of a token refilled per millisecond.
    pub refill_micro_per_ms: i64,
    /// The bucket's capacity, in millionths of a token.
    pub capacity_micro: i64,
}

impl PacingConfig {
    /// Returns the limits for a number `number_age_days` old.
    pub fn limits_for_age(&self, number_age_days: u32) -> EffectiveLimits {
        let (new_contacts_per_day, refill_per_second, capacity) = self
            .warm_up
            .iter()
            .find(|stage| number_age_days < stage.below_age_days)
            .map_or(
                (
                    self.new_contacts_per_day,
                    self.refill_per_second,
                    self.capacity,
                ),
                |stage| {
                    (
                        stage.new_contacts_per_day,
                        stage.refill_per_second,
                        stage.capacity,
                    )
                },
            );
        // One token per second is 1,000 millionths per millisecond. The
        // float is finite and small here; `as` saturates on anything else.
        let refill_micro_per_ms = if refill_per_second.is_finite() && refill_per_second > 0.0 {
            (refill_per_second * 1_000.0).round() as i64
        } else {
            0
        };
        EffectiveLimits {
            new_contacts_per_day,
            refill_micro_per_ms,
            capacity_micro: i64::from(capacity).saturating_mul(MICROTOKENS_PER_TOKEN),
        }
    }
}

/// One number's pacing state, persisted by the daemon between sends. `{}`
/// in JSON is the state of a number that never sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PacingState {
    /// The tokens in the bucket at `refilled_at_ms`, in millionths.
    pub tokens_micro: i64,
    /// When the bucket was last brought up to date; `null` means it was
    /// never used, and is full.
    pub refilled_at_ms: Option<i64>,
    /// The UTC day (`now_ms / 86,400,000`) that `new_contacts_sent` counts.
    pub new_contacts_day: i64,
    /// New contacts messaged on `new_contacts_day`.
    pub new_contacts_sent: u32,
    /// Sending is paused until this time, in Unix milliseconds.
    pub paused_until_ms: Option<i64>,
    /// Rate-limit errors in a row (each less than `rate_limit_memory_ms`
    /// after the previous one).
    pub rate_limit_errors: u32,
    /// When the last rate-limit error happened, in Unix milliseconds.
    pub last_rate_limit_at_ms: Option<i64>,
}

/// One send the daemon is about to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaceRequest {
    /// The current time, in Unix milliseconds.
    pub now_ms: i64,
    /// Whether the number never messaged this contact before.
    pub is_new_contact: bool,
    /// The number's age in whole days.
    pub number_age_days: u32,
}

/// Why a send must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// The number is paused after a rate-limit error.
    PausedAfterRateLimit,
    /// Today's new-contact budget is spent.
    NewContactBudgetSpent,
    /// The token bucket is empty.
    BucketEmpty,
}

/// Why a send is refused outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefuseReason {
    /// The number is too young to message new contacts at all.
    NewContactsNotAllowedYet,
    /// The number's stage refills no tokens, so it may never send.
    SendingDisabled,
}

/// The governor's answer. In JSON, an object tagged by `decision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
pub enum PacingDecision {
    /// Send now; the state was charged.
    Send {},
    /// Ask again at `until_ms`.
    Wait {
        /// When to ask again, in Unix milliseconds.
        until_ms: i64,
        /// Why.
        reason: WaitReason,
    },
    /// Do not send this message from this number.
    Refuse {
        /// Why.
        reason: RefuseReason,
    },
}

/// Decides whether one send may happen now, and charges `state` if so.
pub fn pace(
    state: &mut PacingState,
    config: &PacingConfig,
    request: &PaceRequest,
) -> PacingDecision {
    let now_ms = request.now_ms;
    if let Some(paused_until_ms) = state.paused_until_ms {
        if paused_until_ms > now_ms {
            return PacingDecision::Wait {
                until_ms: paused_until_ms,
                reason: WaitReason::PausedAfterRateLimit,
            };
        }
    }
    let limits = config.limits_for_age(request.number_age_days);

    let today = now_ms.div_euclid(DAY_MS);
    let sent_today = if state.new_contacts_day == today {
        state.new_contacts_sent
    } else {
        0
    };
    if request.is_new_contact {
        if limits.new_contacts_per_day == 0 {
            return PacingDecision::Refuse {
                reason: RefuseReason::NewContactsNotAllowedYet,
            };
        }
        if sent_today >= limits.new_contacts_per_day {
            return PacingDecision::Wait {
                until_ms: today.saturating_add(1).saturating_mul(DAY_MS),
                reason: WaitReason::NewContactBudgetSpent,
            };
        }
    }

    let tokens_micro = match state.refilled_at_ms {
        None => limits.capacity_micro,
        Some(refilled_at_ms) => {
            let elapsed_ms = now_ms.saturating_sub(refilled_at_ms).max(0);
            state
                .tokens_micro
                .saturating_add(elapsed_ms.saturating_mul(limits.refill_micro_per_ms))
                .min(limits.capacity_micro)
        }
    };
    if tokens_micro < MICROTOKENS_PER_TOKEN {
        if limits.refill_micro_per_ms <= 0 {
            return PacingDecision::Refuse {
                reason: RefuseReason::SendingDisabled,
            };
        }
        let missing_micro = MICROTOKENS_PER_TOKEN.saturating_sub(tokens_micro);
        let wait_ms = missing_micro.saturating_add(limits.refill_micro_per_ms - 1)
            / limits.refill_micro_per_ms;
        let until_ms = now_ms.saturating_add(wait_ms);
        return PacingDecision::Wait {
            until_ms,
            reason: WaitReason::BucketEmpty,
        };
    }

    state.tokens_micro = tokens_micro - MICROTOKENS_PER_TOKEN;
    state.refilled_at_ms = Some(now_ms.max(state.refilled_at_ms.unwrap_or(i64::MIN)));
    if request.is_new_contact {
        state.new_contacts_day = today;
        state.new_contacts_sent = sent_today.saturating_add(1);
    }
    PacingDecision::Send {}
}

/// Records a rate-limit error reported by WhatsApp at `now_ms` (with the
/// end WhatsApp named, if any) and returns when sending may resume. The
/// bucket is emptied and starts refilling only when the pause ends.
pub fn record_rate_limit_error(
    state: &mut PacingState,
    config: &PacingConfig,
    now_ms: i64,
    until_ms: Option<i64>,
) -> i64 {
    let in_a_row = state
        .last_rate_limit_at_ms
        .is_some_and(|last| now_ms.saturating_sub(last) < config.rate_limit_memory_ms);
    let errors = if in_a_row {
        state.rate_limit_errors.saturating_add(1)
    } else {
        1
    };
    let step = usize::try_from(errors - 1).unwrap_or(usize::MAX);
    let pause_ms = config
        .rate_limit_pauses_ms
        .get(step)
        .or(config.rate_limit_pauses_ms.last())
        .copied()
        .unwrap_or(0)
        .max(0);
    let paused_until_ms = now_ms
        .saturating_add(pause_ms)
        .max(until_ms.unwrap_or(i64::MIN))
        .max(state.paused_until_ms.unwrap_or(i64::MIN));
    state.rate_limit_errors = errors;
    state.last_rate_limit_at_ms = Some(now_ms);
    state.paused_until_ms = Some(paused_until_ms);
    state.tokens_micro = 0;
    state.refilled_at_ms = Some(paused_until_ms);
    paused_until_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn request(now_ms: i64, is_new_contact: bool, number_age_days: u32) -> PaceRequest {
        PaceRequest {
            now_ms,
            is_new_contact,
            number_age_days,
        }
    }

    #[test]
    fn a_full_bucket_bursts_then_paces_at_the_refill_rate() {
        let config = PacingConfig::default();
        let mut state = PacingState::default();
        for _ in 0..10 {
            assert_eq!(
                pace(&mut state, &config, &request(NOW, false, 90)),
                PacingDecision::Send {}
            );
        }
        // 0.5 tokens per second: the next token is two seconds away.
        let decision = pace(&mut state, &config, &request(NOW, false, 90));
        assert_eq!(
            decision,
            PacingDecision::Wait {
                until_ms: NOW + 2_000,
                reason: WaitReason::BucketEmpty
            }
        );
        let before = state.clone();
        assert_eq!(
            pace(&mut state, &config, &request(NOW + 1_999, false, 90)),
            PacingDecision::Wait {
                until_ms: NOW + 2_000,
                reason: WaitReason::BucketEmpty
            }
        );
        assert_eq!(state, before, "a wait leaves the state untouched");
        assert_eq!(
            pace(&mut state, &config, &request(NOW + 2_000, false, 90)),
            PacingDecision::Send {}
        );
    }

    #[test]
    fn the_new_contact_budget_resets_at_utc_midnight() {
        let config = PacingConfig {
            new_contacts_per_day: 2,
            ..PacingConfig::default()
        };
        let mut state = PacingState::default();
        let noon = 20_000 * DAY_MS + DAY_MS / 2;
        assert_eq!(
            pace(&mut state, &config, &request(noon, true, 90)),
            PacingDecision::Send {}
        );
        assert_eq!(
            pace(&mut state, &config, &request(noon, true, 90)),
            PacingDecision::Send {}
        );
        assert_eq!(
            pace(&mut state, &config, &request(noon, true, 90)),
            PacingDecision::Wait {
                until_ms: 20_001 * DAY_MS,
                reason: WaitReason::NewContactBudgetSpent
            }
        );
        // Known contacts are not held back by the budget.
        assert_eq!(
            pace(&mut state, &config, &request(noon, false, 90)),
            PacingDecision::Send {}
        );
        assert_eq!(
            pace(&mut state, &config, &request(20_001 * DAY_MS, true, 90)),
            PacingDecision::Send {}
        );
        assert_eq!(state.new_contacts_sent, 1);
    }

    #[test]
    fn a_day_old_number_may_not_message_strangers_and_sends_slowly() {
        let config = PacingConfig::default();
        let mut state = PacingState::default();
        assert_eq!(
            pace(&mut state, &config, &request(NOW, true, 0)),
            PacingDecision::Refuse {
                reason: RefuseReason::NewContactsNotAllowedYet
            }
        );
        assert_eq!(
            pace(&mut state, &config, &request(NOW, false, 0)),
            PacingDecision::Send {}
        );
        assert_eq!(
            pace(&mut state, &config, &request(NOW, false, 0)),
            PacingDecision::Send {}
        );
        // 0.05 tokens per second: twenty seconds per token.
        assert_eq!(
            pace(&mut state, &config, &request(NOW, false, 0)),
            PacingDecision::Wait {
                until_ms: NOW + 20_000,
                reason: WaitReason::BucketEmpty
            }
        );
        let limits = config.limits_for_age(10);
        assert_eq!(
            (limits.new_contacts_per_day, limits.capacity_micro),
            (50, 8_000_000)
        );
    }

    #[test]
    fn rate_limit_errors_escalate_and_are_forgotten_after_a_day() {
        let config = PacingConfig::default();
        let mut state = PacingState::default();
        let pauses: Vec<i64> = (0..7)
            .map(|index| {
                let at = NOW + index * 60_000;
                record_rate_limit_error(&mut state, &config, at, None) - at
            })
            .collect();
        assert_eq!(
            pauses,
            vec![60_000, 300_000, 1_800_000, 7_200_000, 21_600_000, 21_600_000, 21_600_000]
        );
        let later = NOW + 2 * DAY_MS;
        assert_eq!(
            record_rate_limit_error(&mut state, &config, later, None),
            later + 60_000
        );
        assert_eq!(state.rate_limit_errors, 1);
    }

    #[test]
    fn a_pause_holds_sends_and_the_bucket_does_not_fill_during_it() {
        let config = PacingConfig::default();
        let mut state = PacingState::default();
        let resume = record_rate_limit_error(&mut state, &config, NOW, Some(NOW + 90_000));
        assert_eq!(resume, NOW + 90_000);
        assert_eq!(
            pace(&mut state, &config, &request(NOW + 1_000, false, 90)),
            PacingDecision::Wait {
                until_ms: NOW + 90_000,
                reason: WaitReason::PausedAfterRateLimit
            }
        );
        assert_eq!(
            pace(&mut state, &config, &request(NOW + 90_000, false, 90)),
            PacingDecision::Wait {
                until_ms: NOW + 92_000,
                reason: WaitReason::BucketEmpty
            }
        );
        assert_eq!(
            pace(&mut state, &config, &request(NOW + 92_000, false, 90)),
            PacingDecision::Send {}
        );
    }

    #[test]
    fn an_empty_json_object_is_a_fresh_state() {
        let state: PacingState = serde_json::from_str("{}").unwrap();
        assert_eq!(state, PacingState::default());
        assert!(serde_json::from_str::<PacingState>(r#"{"tokens":1}"#).is_err());
    }
}
