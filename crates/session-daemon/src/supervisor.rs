//! The supervisor: this daemon's registration, its leases, heartbeats and
//! the watchdog.
//!
//! # Leases
//!
//! Every daemon registers itself in `runtime_instances` (its id, version and
//! the URL of its `GET /status`) and refreshes that row with its heartbeat.
//! A number is held through a lease on its `numbers` row
//! (`lease_holder`, `lease_expires_at`):
//!
//! - Every poll interval the supervisor takes the leases of free numbers
//!   (no holder, or an expired lease) of the transports it runs, restricted
//!   to `WABOT_HOLD_NUMBERS` when set and to `WABOT_MAX_SESSIONS` in all,
//!   in one statement with `FOR UPDATE SKIP LOCKED`
//!   (`private.acquire_number_leases`), and starts a session for each.
//!   Sessions are created only here: **a daemon never connects a number
//!   whose lease it does not hold.**
//! - Every heartbeat (`WABOT_HEARTBEAT_SECONDS`, a third of the lease by
//!   default) it renews all its leases in one statement
//!   (`private.renew_number_leases`). A number missing from the answer was
//!   taken by another daemon after the lease expired (or deleted): the
//!   session is let go of at once, without writing anything.
//! - Locally, each session knows when its lease ends: the moment the last
//!   successful renewal *was sent*, plus the lease. That is never later
//!   than the database's expiry, so when the database cannot be reached, a
//!   session is disconnected a margin (a fifth of the lease) before any
//!   other daemon can take it over. **Two daemons never hold a connection
//!   for the same number at once.**
//! - A graceful shutdown stops every session (recorded `stopped`, not
//!   sticky), gives every lease back (`private.release_number_leases`) and
//!   clears its status URL, so another daemon takes the numbers over at its
//!   next poll. A daemon killed outright loses its numbers when their leases
//!   expire.
//!
//! # Heartbeats and the watchdog
//!
//! With every heartbeat, the connected sessions whose transport shows a sign
//! of life ([`crate::transport::Transport::is_alive`]) refresh
//! `numbers.last_heartbeat_at`; statuses the database missed while
//! unreachable are written again; changed pacing states are saved. Then the
//! watchdog judges each connected or starting session with the core's
//! evaluator ([`health::evaluate`]) from what the daemon saw (its last sign
//! of life, inbound messages, successful and failed sends, recent events)
//! and restarts the session when the verdict is a zombie, a stale heartbeat
//! or a stalled start, at most once per `heartbeat_stale_after_ms`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use health::{evaluate, Condition, NumberSnapshot, PacingState, RecommendedAction, SessionState};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::database::{DatabaseError, DatabasePool};
use crate::pacing::NumberPacing;
use crate::sessions::{
    now_ms, spawn_session, InitialCommand, Session, SessionRegistry, EVENT_CHANNEL_CAPACITY,
};
use crate::store;
use crate::transport::cloud::{CloudSettings, CloudTransport};
use crate::transport::simulator::SimulatorNetwork;
use crate::transport::{Transport, TransportEvent, TransportKind};

/// The most numbers taken in one acquisition.
const ACQUISITION_BATCH: usize = 1000;

/// How many sessions are stopped at once at shutdown.
const SHUTDOWN_PARALLELISM: usize = 64;

/// Builds the transport of each new session.
pub struct TransportFactory {
    /// The simulated WhatsApp.
    pub simulator: Arc<SimulatorNetwork>,
    /// The Cloud API settings.
    pub cloud: CloudSettings,
    /// The WhatsApp Web settings.
    #[cfg(feature = "whatsapp-web")]
    pub web: crate::transport::web::WebSettings,
    /// The database pool (the Cloud transport reads its credentials, the
    /// Web transport commits inbound messages).
    pub pool: DatabasePool,
}

impl std::fmt::Debug for TransportFactory {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TransportFactory")
            .field("cloud_base_url", &self.cloud.base_url)
            .finish_non_exhaustive()
    }
}

impl TransportFactory {
    /// Creates the transport of a number, or `None` when this build does not
    /// have it.
    pub fn create(
        &self,
        kind: TransportKind,
        number_id: Uuid,
        phone_number: &str,
        events: mpsc::Sender<TransportEvent>,
    ) -> Option<Arc<dyn Transport>> {
        match kind {
            TransportKind::Simulator => Some(Arc::new(self.simulator.attach(phone_number, events))),
            TransportKind::Cloud => Some(Arc::new(CloudTransport::new(
                self.cloud.clone(),
                self.pool.clone(),
                number_id,
            ))),
            #[cfg(feature = "whatsapp-web")]
            TransportKind::Web => Some(Arc::new(crate::transport::web::WebTransport::new(
                &self.web,
                self.pool.clone(),
                number_id,
                phone_number.to_owned(),
                events,
            ))),
            #[cfg(not(feature = "whatsapp-web"))]
            TransportKind::Web => {
                drop(events);
                None
            }
        }
    }
}

/// How the supervisor works.
#[derive(Debug, Clone)]
pub struct SupervisorSettings {
    /// How long a lease lasts.
    pub lease: Duration,
    /// How often leases are renewed and heartbeats written.
    pub heartbeat: Duration,
    /// How often free numbers are looked for.
    pub poll_interval: Duration,
    /// The transports this daemon runs.
    pub transports: Vec<TransportKind>,
    /// Only these numbers, when set.
    pub held_phone_numbers: Option<Vec<String>>,
    /// The most sessions, 0 for no limit.
    pub max_sessions: usize,
    /// The daemon's version, for `runtime_instances`.
    pub version: String,
    /// Where `GET /status` answers.
    pub status_url: String,
}

/// Takes, renews and gives back leases; heartbeats; the watchdog.
pub struct Supervisor {
    registry: Arc<SessionRegistry>,
    /// The control pool ([`crate::database::CONTROL_POOL_SIZE`]): leases,
    /// heartbeats and the watchdog never wait behind message traffic.
    control_pool: DatabasePool,
    factory: TransportFactory,
    settings: SupervisorSettings,
    acquiring: AtomicBool,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Supervisor")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    /// Creates the supervisor.
    pub fn new(
        registry: Arc<SessionRegistry>,
        control_pool: DatabasePool,
        factory: TransportFactory,
        settings: SupervisorSettings,
    ) -> Arc<Self> {
        Arc::new(Supervisor {
            registry,
            control_pool,
            factory,
            settings,
            acquiring: AtomicBool::new(true),
        })
    }

    /// Stops taking new leases (the daemon is shutting down).
    pub fn stop_acquiring(&self) {
        self.acquiring.store(false, Ordering::SeqCst);
    }

    fn pool(&self) -> &DatabasePool {
        &self.control_pool
    }

    fn instance_id(&self) -> &str {
        &self.registry.context.instance_id
    }

    /// How long before the local end of a lease a session is let go of.
    fn lease_margin(&self) -> Duration {
        self.settings.lease / 5
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut registered = false;
        let mut next_heartbeat = Instant::now();
        let mut n_consecutive_failures: u32 = 0;
        loop {
            if !registered {
                match self.register().await {
                    Ok(()) => {
                        registered = true;
                        tracing::info!(
                            status_url = %self.settings.status_url,
                            "registered in runtime_instances"
                        );
                    }
                    Err(error) => {
                        if n_consecutive_failures % 30 == 0 {
                            tracing::warn!("could not register in runtime_instances: {error}");
                        }
                        n_consecutive_failures = n_consecutive_failures.saturating_add(1);
                    }
                }
            }
            if registered {
                match self.acquire().await {
                    Ok(_) => {
                        if n_consecutive_failures > 0 {
                            tracing::info!("the database answers again");
                        }
                        n_consecutive_failures = 0;
                    }
                    Err(error) => {
                        if n_consecutive_failures % 30 == 0 {
                            tracing::warn!("could not take leases: {error}");
                        }
                        n_consecutive_failures = n_consecutive_failures.saturating_add(1);
                    }
                }
            }
            if registered && Instant::now() >= next_heartbeat {
                next_heartbeat = Instant::now() + self.settings.heartbeat;
                self.heartbeat().await;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    async fn register(&self) -> Result<(), DatabaseError> {
        let client = self.pool().get().await?;
        store::register_runtime_instance(
            &client,
            self.instance_id(),
            &self.settings.version,
            &self.settings.status_url,
        )
        .await
    }

    /// Takes the leases of free numbers and starts their sessions; returns
    /// how many.
    pub async fn acquire(&self) -> Result<usize, DatabaseError> {
        if !self.acquiring.load(Ordering::SeqCst) {
            return Ok(0);
        }
        let held = self.registry.n_sessions();
        let room = if self.settings.max_sessions == 0 {
            ACQUISITION_BATCH
        } else {
            self.settings
                .max_sessions
                .saturating_sub(held)
                .min(ACQUISITION_BATCH)
        };
        if room == 0 {
            return Ok(0);
        }
        let transports: Vec<String> = self
            .settings
            .transports
            .iter()
            .map(|kind| kind.as_str().to_owned())
            .collect();
        let requested_at = Instant::now();
        let client = self.pool().get().await?;
        let numbers = store::acquire_number_leases(
            &client,
            self.instance_id(),
            self.settings.lease,
            &transports,
            self.settings.held_phone_numbers.as_deref(),
            i32::try_from(room).unwrap_or(i32::MAX),
        )
        .await?;
        if numbers.is_empty() {
            return Ok(0);
        }
        let number_ids: Vec<Uuid> = numbers.iter().map(|number| number.number_id).collect();
        let saved_pacing = match store::load_pacing_states(&client, &number_ids).await {
            Ok(states) => states,
            Err(error) => {
                tracing::warn!("could not read the saved pacing states: {error}");
                Vec::new()
            }
        };
        drop(client);
        let lease_deadline = requested_at + self.settings.lease;
        let mut n_started = 0;
        for number in numbers {
            let Ok(kind) = number.transport.parse::<TransportKind>() else {
                continue;
            };
            let (events_sender, events) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
            let Some(transport) =
                self.factory
                    .create(kind, number.number_id, &number.phone_number, events_sender)
            else {
                tracing::warn!(number_id = %number.number_id, transport = kind.as_str(), "this build cannot run the number's transport");
                continue;
            };
            let pacing = saved_pacing
                .iter()
                .find(|(number_id, _)| *number_id == number.number_id)
                .and_then(|(_, state)| serde_json::from_value::<PacingState>(state.clone()).ok())
                .map(NumberPacing::from_saved)
                .unwrap_or_default();
            let initial = if number.sticky_stop {
                InitialCommand::StayStopped
            } else {
                InitialCommand::Start
            };
            tracing::info!(
                number_id = %number.number_id,
                number = %number.phone_number,
                transport = kind.as_str(),
                "took the number's lease"
            );
            let session = spawn_session(
                self.registry.context.clone(),
                number.number_id,
                number.phone_number,
                kind,
                number.created_at_ms,
                transport,
                events,
                pacing,
                lease_deadline,
                initial,
            );
            self.registry.insert(session);
            n_started += 1;
        }
        Ok(n_started)
    }

    /// Lets go of sessions whose lease may lapse before it can be renewed,
    /// on a timer of its own so that a database that does not answer cannot
    /// delay it, until `shutdown` turns true.
    pub async fn run_lease_guard(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let period = (self.lease_margin() / 2)
            .min(self.settings.poll_interval)
            .max(Duration::from_millis(50));
        loop {
            self.let_go_of_expired_leases().await;
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Lets go of sessions whose lease may lapse before it can be renewed.
    async fn let_go_of_expired_leases(&self) {
        let limit = Instant::now() + self.lease_margin();
        let expiring: Vec<Arc<Session>> = self
            .registry
            .sessions()
            .into_iter()
            .filter(|session| session.lease_deadline() <= limit)
            .collect();
        for session in expiring {
            tracing::warn!(number_id = %session.number_id, number = %session.phone_number, "the lease could not be renewed in time: letting go of the session");
            self.registry.remove(session.number_id);
            tokio::spawn(async move { session.release(None).await });
        }
    }

    /// Renews the leases, writes heartbeats, catches up the database, and
    /// runs the watchdog.
    pub async fn heartbeat(&self) {
        let sessions = self.registry.sessions();
        if let Err(error) = self.renew(&sessions).await {
            tracing::warn!("could not renew the leases: {error}");
        }
        if let Err(error) = self.write_heartbeats().await {
            tracing::warn!("could not write heartbeats: {error}");
        }
        self.watchdog();
    }

    async fn renew(&self, sessions: &[Arc<Session>]) -> Result<(), DatabaseError> {
        let number_ids: Vec<Uuid> = sessions.iter().map(|session| session.number_id).collect();
        let requested_at = Instant::now();
        let client = self.pool().get().await?;
        store::heartbeat_runtime_instance(
            &client,
            self.instance_id(),
            &self.settings.version,
            &self.settings.status_url,
        )
        .await?;
        let renewed: HashSet<Uuid> = store::renew_number_leases(
            &client,
            self.instance_id(),
            self.settings.lease,
            &number_ids,
        )
        .await?;
        let deadline = requested_at + self.settings.lease;
        for session in sessions {
            if renewed.contains(&session.number_id) {
                session.extend_lease(deadline);
            } else {
                tracing::warn!(number_id = %session.number_id, number = %session.phone_number, "the lease was lost (taken over or the number removed): letting go of the session");
                self.registry.remove(session.number_id);
                let session = session.clone();
                tokio::spawn(async move { session.release(None).await });
            }
        }
        Ok(())
    }

    async fn write_heartbeats(&self) -> Result<(), DatabaseError> {
        let now = now_ms();
        let sessions = self.registry.sessions();
        let mut alive = Vec::new();
        let mut dirty_statuses = Vec::new();
        let mut dirty_pacing = Vec::new();
        for session in &sessions {
            let status = session.status();
            let connected = matches!(
                status.state,
                SessionState::Connected | SessionState::RateLimited
            ) && status.transport_connected;
            if connected && session.transport().is_alive() {
                session.note_alive(now);
                alive.push(session.number_id);
            }
            if status.status_dirty {
                dirty_statuses.push((session.clone(), status.state));
            }
            let pacing = session.with_pacing(|pacing| {
                pacing.dirty.then(|| {
                    pacing.dirty = false;
                    (pacing.state.clone(), pacing.paused_until(now))
                })
            });
            if let Some(pacing) = pacing {
                dirty_pacing.push((session.clone(), pacing));
            }
        }
        let client = self.pool().get().await?;
        store::record_heartbeats(&client, &alive).await?;
        for (session, state) in dirty_statuses {
            store::write_session_status(&client, session.number_id, state.as_str()).await?;
        }
        for (session, (state, paused_until)) in dirty_pacing {
            let state = serde_json::to_value(&state).unwrap_or_default();
            if let Err(error) =
                store::save_pacing_state(&client, session.number_id, &state, paused_until).await
            {
                session.with_pacing(|pacing| pacing.dirty = true);
                return Err(error);
            }
        }
        Ok(())
    }

    /// Judges each session with the core's evaluator and restarts zombies,
    /// stale sessions and stalled starts.
    pub fn watchdog(&self) {
        let now = now_ms();
        let thresholds = &self.registry.context.health_thresholds;
        for session in self.registry.sessions() {
            let status = session.status();
            if !matches!(
                status.state,
                SessionState::Connected | SessionState::Starting | SessionState::Connecting
            ) {
                continue;
            }
            let snapshot = NumberSnapshot {
                number_id: session.number_id.to_string(),
                state: status.state,
                since_ms: status.since_ms,
                last_heartbeat_ms: status.last_alive_ms,
                last_inbound_ms: status.last_inbound_ms,
                last_send_success_ms: status.last_send_success_ms,
                recent_send_failures_ms: status.recent_send_failures_ms.iter().copied().collect(),
                recent_events: status.recent_events.iter().cloned().collect(),
                rate_limited_until_ms: status.rate_limited_until_ms,
            };
            let verdict = evaluate(&snapshot, thresholds, now);
            let acts = matches!(
                verdict.condition,
                Condition::Zombie | Condition::StaleHeartbeat | Condition::StartStalled
            ) && verdict
                .actions
                .iter()
                .any(|action| matches!(action, RecommendedAction::RestartSession {}));
            if !acts {
                continue;
            }
            let cooled_down = status
                .last_watchdog_restart_ms
                .is_none_or(|last| now.saturating_sub(last) >= thresholds.heartbeat_stale_after_ms);
            if cooled_down {
                let condition = serde_json::to_value(verdict.condition)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_owned))
                    .unwrap_or_default();
                session
                    .request_watchdog_restart(format!("watchdog: {condition}: {}", verdict.reason));
            }
        }
    }

    /// Stops every session (recorded `stopped`), gives every lease back and
    /// retires this daemon's status URL.
    pub async fn shut_down(&self) {
        use futures_util::StreamExt;
        let reason = format!("daemon {} shutting down", self.instance_id());
        let sessions = self.registry.sessions();
        futures_util::stream::iter(sessions)
            .for_each_concurrent(SHUTDOWN_PARALLELISM, |session| {
                let reason = reason.clone();
                async move {
                    session.release(Some(reason)).await;
                }
            })
            .await;
        for session in self.registry.sessions() {
            self.registry.remove(session.number_id);
        }
        let result = async {
            let client = self.pool().get().await?;
            let n_released = store::release_all_number_leases(&client, self.instance_id()).await?;
            store::retire_runtime_instance(&client, self.instance_id()).await?;
            Ok::<i32, DatabaseError>(n_released)
        }
        .await;
        match result {
            Ok(n_released) => tracing::info!(n_released, "gave the leases back"),
            Err(error) => tracing::warn!(
                "could not give the leases back (they expire by themselves): {error}"
            ),
        }
    }
}
