//! Send pacing per number: the core's ban-risk governor
//! ([`health::pace`], [`health::record_rate_limit_error`]) with the state
//! the daemon keeps for it.
//!
//! Each transport has its own [`PacingConfig`], from
//! `WABOT_PACING_SIMULATOR`, `WABOT_PACING_WEB` and `WABOT_PACING_CLOUD`
//! (JSON objects overriding only the fields they name, as the core reads
//! them):
//!
//! - **web**: the core's defaults: a token bucket of 10 refilling at 0.5 a
//!   second (30 a minute), 150 new contacts a day, a warm-up schedule for
//!   numbers younger than 30 days (a day-old number only answers), and
//!   escalating pauses after rate-limit errors (1 min, 5 min, 30 min, 2 h,
//!   6 h).
//! - **cloud**: Meta enforces its own limits, so the daemon only keeps below
//!   them: 80 messages a second (the default throughput), 250 new contacts a
//!   day (the first messaging tier), no warm-up, the same pauses.
//! - **simulator**: effectively unpaced (a bucket of 1,000 refilling 1,000 a
//!   second) so the local stack and the tests run at full speed; the pacing
//!   tests set `WABOT_PACING_SIMULATOR` to the policy they check.
//!
//! The state of each number ([`NumberPacing`]) lives in its session, is
//! saved to `number_pacing_states` after every rate-limit error and with the
//! heartbeats, and is read back when a daemon takes the number over, so a
//! pause outlives a restart or a failover.

use health::{
    pace, record_rate_limit_error, PaceRequest, PacingConfig, PacingDecision, PacingState,
};

use crate::transport::TransportKind;

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The most sends one number may be handed in one claim.
pub const MAXIMUM_SENDS_PER_CLAIM: i64 = 20;

/// The pacing configuration of each transport.
#[derive(Debug, Clone, PartialEq)]
pub struct PacingPolicies {
    /// For `simulator` numbers.
    pub simulator: PacingConfig,
    /// For `web` numbers.
    pub web: PacingConfig,
    /// For `cloud` numbers.
    pub cloud: PacingConfig,
}

impl Default for PacingPolicies {
    fn default() -> Self {
        PacingPolicies {
            simulator: default_simulator_pacing(),
            web: PacingConfig::default(),
            cloud: default_cloud_pacing(),
        }
    }
}

impl PacingPolicies {
    /// Returns the configuration of a transport.
    pub fn for_kind(&self, kind: TransportKind) -> &PacingConfig {
        match kind {
            TransportKind::Simulator => &self.simulator,
            TransportKind::Web => &self.web,
            TransportKind::Cloud => &self.cloud,
        }
    }
}

/// The simulator's default: effectively unpaced.
pub fn default_simulator_pacing() -> PacingConfig {
    PacingConfig {
        capacity: 1_000,
        refill_per_second: 1_000.0,
        new_contacts_per_day: 1_000_000,
        warm_up: Vec::new(),
        ..PacingConfig::default()
    }
}

/// The Cloud API's default: below Meta's own limits.
pub fn default_cloud_pacing() -> PacingConfig {
    PacingConfig {
        capacity: 80,
        refill_per_second: 80.0,
        new_contacts_per_day: 250,
        warm_up: Vec::new(),
        ..PacingConfig::default()
    }
}

/// Reads a JSON override of a transport's pacing: the fields it names
/// replace the default's.
pub fn parse_pacing_override(base: &PacingConfig, json: &str) -> Result<PacingConfig, String> {
    let mut merged = serde_json::to_value(base).map_err(|error| error.to_string())?;
    let overrides: serde_json::Value =
        serde_json::from_str(json).map_err(|error| error.to_string())?;
    let serde_json::Value::Object(overrides) = overrides else {
        return Err("expected a JSON object".to_owned());
    };
    if let serde_json::Value::Object(fields) = &mut merged {
        for (key, value) in overrides {
            fields.insert(key, value);
        }
    }
    serde_json::from_value(merged).map_err(|error| error.to_string())
}

/// One number's pacing state in its session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberPacing {
    /// The core's state.
    pub state: PacingState,
    /// Whether the state changed since it was last saved.
    pub dirty: bool,
    /// Sending was told to wait until this time, in Unix milliseconds.
    pub wait_until_ms: Option<i64>,
}

impl NumberPacing {
    /// Starts from a saved state.
    pub fn from_saved(state: PacingState) -> Self {
        NumberPacing {
            state,
            dirty: false,
            wait_until_ms: None,
        }
    }

    /// Returns how many sends to known contacts the policy would allow right
    /// now, at most [`MAXIMUM_SENDS_PER_CLAIM`]; 0 while told to wait.
    pub fn available_sends(&self, config: &PacingConfig, now_ms: i64, number_age_days: u32) -> i64 {
        if self.wait_until_ms.is_some_and(|until| until > now_ms) {
            return 0;
        }
        let mut trial = self.state.clone();
        let request = PaceRequest {
            now_ms,
            is_new_contact: false,
            number_age_days,
        };
        let mut n_sends = 0;
        while n_sends < MAXIMUM_SENDS_PER_CLAIM {
            match pace(&mut trial, config, &request) {
                PacingDecision::Send {} => n_sends += 1,
                PacingDecision::Wait { .. } | PacingDecision::Refuse { .. } => break,
            }
        }
        n_sends
    }

    /// Asks the policy about one send now, charging the state when it may
    /// go.
    pub fn decide(
        &mut self,
        config: &PacingConfig,
        now_ms: i64,
        is_new_contact: bool,
        number_age_days: u32,
    ) -> PacingDecision {
        let decision = pace(
            &mut self.state,
            config,
            &PaceRequest {
                now_ms,
                is_new_contact,
                number_age_days,
            },
        );
        match &decision {
            PacingDecision::Send {} => {
                self.dirty = true;
                self.wait_until_ms = None;
            }
            PacingDecision::Wait { until_ms, .. } if !is_new_contact => {
                self.wait_until_ms = Some(*until_ms);
            }
            PacingDecision::Wait { .. } | PacingDecision::Refuse { .. } => {}
        }
        decision
    }

    /// Records a rate-limit error and returns when sending may resume.
    pub fn rate_limited(
        &mut self,
        config: &PacingConfig,
        now_ms: i64,
        until_ms: Option<i64>,
    ) -> i64 {
        let resume_at_ms = record_rate_limit_error(&mut self.state, config, now_ms, until_ms);
        self.wait_until_ms = Some(resume_at_ms);
        self.dirty = true;
        resume_at_ms
    }

    /// Returns until when sending is paused after rate-limit errors, if it
    /// is at `now_ms`.
    pub fn paused_until(&self, now_ms: i64) -> Option<i64> {
        self.state
            .paused_until_ms
            .filter(|paused_until| *paused_until > now_ms)
    }
}

/// Returns a number's age in whole days.
pub fn number_age_days(created_at_ms: i64, now_ms: i64) -> u32 {
    u32::try_from(now_ms.saturating_sub(created_at_ms).max(0) / DAY_MS).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_only_what_they_name() {
        let config = parse_pacing_override(&PacingConfig::default(), r#"{"capacity": 3}"#).unwrap();
        assert_eq!(config.capacity, 3);
        assert_eq!(config.refill_per_second, 0.5);
        assert!(parse_pacing_override(&PacingConfig::default(), "[]").is_err());
        assert!(parse_pacing_override(&PacingConfig::default(), r#"{"speed": 1}"#).is_err());
    }

    #[test]
    fn a_full_bucket_allows_its_capacity() {
        let config = parse_pacing_override(
            &default_simulator_pacing(),
            r#"{"capacity": 3, "refill_per_second": 1}"#,
        )
        .unwrap();
        let mut pacing = NumberPacing::default();
        assert_eq!(pacing.available_sends(&config, 1_000_000, 100), 3);
        for _ in 0..3 {
            assert_eq!(
                pacing.decide(&config, 1_000_000, false, 100),
                PacingDecision::Send {}
            );
        }
        assert!(matches!(
            pacing.decide(&config, 1_000_000, false, 100),
            PacingDecision::Wait {
                until_ms: 1_001_000,
                ..
            }
        ));
        assert_eq!(pacing.available_sends(&config, 1_000_500, 100), 0);
        assert_eq!(pacing.available_sends(&config, 1_001_000, 100), 1);
    }

    #[test]
    fn a_rate_limit_pauses_until_the_policy_says() {
        let config = default_simulator_pacing();
        let mut pacing = NumberPacing::default();
        let resume = pacing.rate_limited(&config, 10_000, None);
        assert_eq!(resume, 70_000, "the first error pauses a minute");
        assert_eq!(pacing.paused_until(10_000), Some(70_000));
        assert_eq!(pacing.available_sends(&config, 20_000, 100), 0);
        assert!(pacing.dirty);
    }

    #[test]
    fn ages_are_whole_days() {
        assert_eq!(number_age_days(0, DAY_MS - 1), 0);
        assert_eq!(number_age_days(0, 3 * DAY_MS), 3);
        assert_eq!(number_age_days(10, 0), 0);
    }
}
