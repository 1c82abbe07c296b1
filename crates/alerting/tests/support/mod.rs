//! A simulated `alerts` table for the scenario and property tests: it
//! applies [`AlertChange`]s the way the Edge Function writes them.

use alerting::{AlertChange, AlertStatus, OpenAlert, RecentlyResolved};

/// The open alerts, the recently resolved ones, and an id counter.
#[derive(Debug, Default, Clone)]
pub struct AlertTable {
    pub open: Vec<OpenAlert>,
    pub resolved: Vec<RecentlyResolved>,
    next_id: u32,
}

impl AlertTable {
    /// Applies `changes` made at `now_ms`.
    pub fn apply(&mut self, changes: &[AlertChange], now_ms: i64) {
        for change in changes {
            match change {
                AlertChange::Open {
                    dedupe_key,
                    kind,
                    severity,
                    subject,
                    detail,
                    flap_count,
                    last_flap_at_ms,
                    flapping,
                } => {
                    self.next_id += 1;
                    self.open.push(OpenAlert {
                        id: format!("alert-{}", self.next_id),
                        dedupe_key: dedupe_key.clone(),
                        kind: kind.clone(),
                        severity: *severity,
                        subject: subject.clone(),
                        detail: detail.clone(),
                        status: AlertStatus::Open,
                        opened_at_ms: now_ms,
                        acknowledged_at_ms: None,
                        escalated_at_ms: None,
                        healthy_since_ms: None,
                        flap_count: *flap_count,
                        last_flap_at_ms: *last_flap_at_ms,
                        flapping: *flapping,
                    });
                }
                AlertChange::Update {
                    alert_id,
                    kind,
                    severity,
                    detail,
                    ..
                } => {
                    let alert = self.find(alert_id);
                    alert.kind = kind.clone();
                    alert.severity = *severity;
                    alert.detail = detail.clone();
                }
                AlertChange::Recovering {
                    alert_id,
                    healthy_since_ms,
                    ..
                } => {
                    self.find(alert_id).healthy_since_ms = Some(*healthy_since_ms);
                }
                AlertChange::Relapsed {
                    alert_id,
                    kind,
                    severity,
                    detail,
                    flap_count,
                    last_flap_at_ms,
                    flapping,
                    ..
                } => {
                    let alert = self.find(alert_id);
                    alert.healthy_since_ms = None;
                    alert.kind = kind.clone();
                    alert.severity = *severity;
                    alert.detail = detail.clone();
                    alert.flap_count = *flap_count;
                    alert.last_flap_at_ms = Some(*last_flap_at_ms);
                    alert.flapping = *flapping;
                }
                AlertChange::Escalate {
                    alert_id,
                    escalated_at_ms,
                    ..
                } => {
                    self.find(alert_id).escalated_at_ms = Some(*escalated_at_ms);
                }
                AlertChange::Resolve { alert_id, .. } => {
                    let index = self
                        .open
                        .iter()
                        .position(|alert| alert.id == *alert_id)
                        .expect("resolving an unknown alert");
                    let alert = self.open.remove(index);
                    self.resolved
                        .retain(|resolved| resolved.dedupe_key != alert.dedupe_key);
                    self.resolved.push(RecentlyResolved {
                        dedupe_key: alert.dedupe_key,
                        resolved_at_ms: now_ms,
                        flap_count: alert.flap_count,
                    });
                }
            }
        }
    }

    /// Acknowledges the open alert with `dedupe_key`, as an operator would.
    #[allow(dead_code)]
    pub fn acknowledge(&mut self, dedupe_key: &str, now_ms: i64) {
        let alert = self
            .open
            .iter_mut()
            .find(|alert| alert.dedupe_key == dedupe_key)
            .expect("no such alert");
        alert.status = AlertStatus::Acknowledged;
        alert.acknowledged_at_ms = Some(now_ms);
    }

    /// Inserts an alert as is (for duplicate-key tests).
    #[allow(dead_code)]
    pub fn insert_raw(&mut self, alert: OpenAlert) {
        self.open.push(alert);
    }

    fn find(&mut self, alert_id: &str) -> &mut OpenAlert {
        self.open
            .iter_mut()
            .find(|alert| alert.id == alert_id)
            .expect("changing an unknown alert")
    }
}
