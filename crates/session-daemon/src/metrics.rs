//! The daemon's counters and `GET /metrics` in the Prometheus text format.
//!
//! | metric | type | what |
//! |---|---|---|
//! | `wabot_sessions{state}` | gauge | held sessions by state (every state, zero or not) |
//! | `wabot_sessions_by_transport{transport}` | gauge | held sessions by transport |
//! | `wabot_messages_inbound_total` | counter | inbound messages stored (redeliveries not counted) |
//! | `wabot_messages_outbound_total{result}` | counter | send attempts by outcome: `sent`, `failed`, `retried`, `rate_limited`, `ambiguous` |
//! | `wabot_send_latency_seconds` | histogram | how long the transport took to send one message |
//! | `wabot_send_delay_seconds` | histogram | from a message being queued to it being sent (what the daemon adds, pacing included) |
//! | `wabot_outbound_queue_depth` | gauge | outbound messages queued or sending on the held numbers |
//! | `wabot_outbox_lag_seconds` | gauge | how long the oldest due outbox row has waited |
//! | `wabot_media_downloads_total{result}` | counter | inbound media download attempts: `stored`, `rejected` (breaks the limits, or refused by whatsapp), `retried`, `failed` (gave up), `deferred` (the session not connected) |
//! | `wabot_media_outbound_resolved_total{result}` | counter | outbound media read from the bucket before a send: `ok`, `failed` |
//! | `wabot_reconnects_total` | counter | reconnect attempts under the reconnect policy |
//! | `wabot_watchdog_restarts_total` | counter | sessions restarted by the watchdog (zombie, stale heartbeat, stalled start) |
//! | `wabot_leases_held` | gauge | numbers this daemon holds the lease of |
//! | `wabot_database_up` | gauge | 1 when the database answered the scrape's queries |
//!
//! Counters are plain atomics: a scrape reads them without locking the
//! senders.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The upper bounds of the latency histograms' buckets, in seconds.
pub const LATENCY_BUCKETS_SECONDS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A histogram of durations with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS_SECONDS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        for (bucket, bound) in self.buckets.iter().zip(LATENCY_BUCKETS_SECONDS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(duration.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Returns the number of observations.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn render(&self, name: &str, help: &str, output: &mut String) {
        let _ = writeln!(output, "# HELP {name} {help}");
        let _ = writeln!(output, "# TYPE {name} histogram");
        for (bucket, bound) in self.buckets.iter().zip(LATENCY_BUCKETS_SECONDS) {
            let _ = writeln!(
                output,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(output, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1_000_000.0;
        let _ = writeln!(output, "{name}_sum {sum}");
        let _ = writeln!(output, "{name}_count {count}");
    }
}

/// The outcome of one send attempt, for `wabot_messages_outbound_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendResult {
    /// Sent.
    Sent,
    /// Failed for good.
    Failed,
    /// Failed, queued again.
    Retried,
    /// Refused by a rate limit, queued again.
    RateLimited,
    /// May or may not have been delivered; failed, never retried.
    Ambiguous,
}

impl SendResult {
    const ALL: [SendResult; 5] = [
        SendResult::Sent,
        SendResult::Failed,
        SendResult::Retried,
        SendResult::RateLimited,
        SendResult::Ambiguous,
    ];

    fn as_str(self) -> &'static str {
        match self {
            SendResult::Sent => "sent",
            SendResult::Failed => "failed",
            SendResult::Retried => "retried",
            SendResult::RateLimited => "rate_limited",
            SendResult::Ambiguous => "ambiguous",
        }
    }

    fn index(self) -> usize {
        match self {
            SendResult::Sent => 0,
            SendResult::Failed => 1,
            SendResult::Retried => 2,
            SendResult::RateLimited => 3,
            SendResult::Ambiguous => 4,
        }
    }
}

/// Every counter of the daemon.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Inbound messages stored.
    pub messages_inbound: AtomicU64,
    outbound: [AtomicU64; 5],
    /// Transport send durations.
    pub send_latency: Histogram,
    /// Queue-to-sent delays.
    pub send_delay: Histogram,
    /// Reconnect attempts.
    pub reconnects: AtomicU64,
    /// Watchdog restarts.
    pub watchdog_restarts: AtomicU64,
    /// The media counters (downloads, outbound resolutions).
    pub media: crate::media::MediaMetrics,
    /// The last sample of the database gauges, taken by
    /// `http_api::run_gauge_sampler` so that `GET /metrics` never waits for a
    /// database connection.
    database_sample: Mutex<Option<DatabaseSample>>,
}

/// The gauges read from the database, and when.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseSample {
    /// Queued outbound messages of this daemon.
    pub outbound_queue_depth: i64,
    /// The outbox's oldest undelivered row's age, in seconds.
    pub outbox_lag_seconds: f64,
    /// When the sample was taken.
    pub taken_at: Instant,
}

/// How old a database sample may be before `/metrics` leaves its gauges out.
pub const DATABASE_SAMPLE_MAXIMUM_AGE: Duration = Duration::from_secs(30);

/// What a scrape reads from elsewhere than the counters.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// Held sessions by state.
    pub sessions_by_state: Vec<(&'static str, usize)>,
    /// Held sessions by transport.
    pub sessions_by_transport: Vec<(&'static str, usize)>,
    /// Numbers leased.
    pub leases_held: usize,
    /// Queued outbound messages, when the database answered.
    pub outbound_queue_depth: Option<i64>,
    /// Outbox lag in seconds, when the database answered.
    pub outbox_lag_seconds: Option<f64>,
}

impl Metrics {
    /// Records a new sample of the database gauges.
    pub fn record_database_sample(&self, sample: DatabaseSample) {
        if let Ok(mut slot) = self.database_sample.lock() {
            *slot = Some(sample);
        }
    }

    /// Returns the last database sample when it is younger than
    /// [`DATABASE_SAMPLE_MAXIMUM_AGE`].
    pub fn fresh_database_sample(&self) -> Option<DatabaseSample> {
        let sample = (*self.database_sample.lock().ok()?)?;
        (sample.taken_at.elapsed() <= DATABASE_SAMPLE_MAXIMUM_AGE).then_some(sample)
    }

    /// Counts one send attempt's outcome.
    pub fn count_send(&self, result: SendResult) {
        self.outbound[result.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Returns how many sends had this outcome.
    pub fn sends(&self, result: SendResult) -> u64 {
        self.outbound[result.index()].load(Ordering::Relaxed)
    }

    /// Renders everything in the Prometheus text format (version 0.0.4).
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut output = String::with_capacity(4096);
        let _ = writeln!(output, "# HELP wabot_sessions Held sessions by state.");
        let _ = writeln!(output, "# TYPE wabot_sessions gauge");
        for (state, n) in &gauges.sessions_by_state {
            let _ = writeln!(output, "wabot_sessions{{state=\"{state}\"}} {n}");
        }
        let _ = writeln!(
            output,
            "# HELP wabot_sessions_by_transport Held sessions by transport."
        );
        let _ = writeln!(output, "# TYPE wabot_sessions_by_transport gauge");
        for (transport, n) in &gauges.sessions_by_transport {
            let _ = writeln!(
                output,
                "wabot_sessions_by_transport{{transport=\"{transport}\"}} {n}"
            );
        }
        let counter = |output: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(output, "# HELP {name} {help}");
            let _ = writeln!(output, "# TYPE {name} counter");
            let _ = writeln!(output, "{name} {value}");
        };
        counter(
            &mut output,
            "wabot_messages_inbound_total",
            "Inbound messages stored (redeliveries not counted).",
            self.messages_inbound.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            output,
            "# HELP wabot_messages_outbound_total Send attempts by outcome."
        );
        let _ = writeln!(output, "# TYPE wabot_messages_outbound_total counter");
        for result in SendResult::ALL {
            let _ = writeln!(
                output,
                "wabot_messages_outbound_total{{result=\"{}\"}} {}",
                result.as_str(),
                self.sends(result)
            );
        }
        self.send_latency.render(
            "wabot_send_latency_seconds",
            "How long the transport took to send one message.",
            &mut output,
        );
        self.send_delay.render(
            "wabot_send_delay_seconds",
            "From a message being queued to it being sent.",
            &mut output,
        );
        let gauge = |output: &mut String, name: &str, help: &str, value: Option<String>| {
            let _ = writeln!(output, "# HELP {name} {help}");
            let _ = writeln!(output, "# TYPE {name} gauge");
            let _ = writeln!(
                output,
                "{name} {}",
                value.unwrap_or_else(|| "NaN".to_owned())
            );
        };
        gauge(
            &mut output,
            "wabot_outbound_queue_depth",
            "Outbound messages queued or sending on the held numbers.",
            gauges.outbound_queue_depth.map(|depth| depth.to_string()),
        );
        gauge(
            &mut output,
            "wabot_outbox_lag_seconds",
            "How long the oldest due outbox row has waited.",
            gauges.outbox_lag_seconds.map(|lag| format!("{lag:.3}")),
        );
        self.media.render(&mut output);
        counter(
            &mut output,
            "wabot_reconnects_total",
            "Reconnect attempts under the reconnect policy.",
            self.reconnects.load(Ordering::Relaxed),
        );
        counter(
            &mut output,
            "wabot_watchdog_restarts_total",
            "Sessions restarted by the watchdog.",
            self.watchdog_restarts.load(Ordering::Relaxed),
        );
        gauge(
            &mut output,
            "wabot_leases_held",
            "Numbers this daemon holds the lease of.",
            Some(gauges.leases_held.to_string()),
        );
        gauge(
            &mut output,
            "wabot_database_up",
            "1 when the database answered the scrape's queries.",
            Some(
                if gauges.outbound_queue_depth.is_some() {
                    "1"
                } else {
                    "0"
                }
                .to_owned(),
            ),
        );
        output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_millis(3));
        histogram.observe(Duration::from_millis(300));
        let mut output = String::new();
        histogram.render("x_seconds", "x.", &mut output);
        assert!(
            output.contains("x_seconds_bucket{le=\"0.005\"} 1\n"),
            "{output}"
        );
        assert!(
            output.contains("x_seconds_bucket{le=\"0.5\"} 2\n"),
            "{output}"
        );
        assert!(
            output.contains("x_seconds_bucket{le=\"+Inf\"} 2\n"),
            "{output}"
        );
        assert!(output.contains("x_seconds_count 2\n"), "{output}");
    }

    #[test]
    fn every_line_is_a_comment_or_a_sample() {
        let metrics = Metrics::default();
        metrics.count_send(SendResult::Sent);
        let output = metrics.render(&Gauges {
            sessions_by_state: vec![("connected", 2)],
            sessions_by_transport: vec![("simulator", 2)],
            leases_held: 2,
            outbound_queue_depth: Some(0),
            outbox_lag_seconds: None,
        });
        for line in output.lines() {
            assert!(
                line.starts_with('#') || line.split(' ').count() == 2,
                "not a sample: {line}"
            );
        }
        assert!(output.contains("wabot_messages_outbound_total{result=\"sent\"} 1\n"));
        assert!(output.contains("wabot_outbox_lag_seconds NaN\n"));
        assert!(output.contains("wabot_database_up 1\n"));
    }
}
